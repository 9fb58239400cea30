/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Prints rule specs with esw_rule_spec_format(), for tests/esw-dev.at. */

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "datapath/esw-rule-format.h"

static void
print(const struct esw_rule_spec *spec)
{
    char buf[ESW_RULE_FORMAT_SIZE];

    puts(esw_rule_spec_format(spec, buf, sizeof buf));
}

static void
set_mac(struct esw_eth_addr *a, uint8_t last)
{
    static const struct esw_eth_addr base = { { 2, 0x65, 0, 2, 0, 0 } };

    *a = base;
    a->ea[5] = last;
}

int
main(void)
{
    struct esw_rule_spec spec;

    /* Exact in_vport and eth_dst, CIDR IPv4, output. */
    memset(&spec, 0, sizeof spec);
    spec.priority = 10;
    spec.match.in_vport = 2;
    spec.mask.in_vport = UINT32_MAX;
    set_mac(&spec.match.dst, 1);
    memset(&spec.mask.dst, 0xff, sizeof spec.mask.dst);
    spec.match.eth_type = htons(0x0800);
    spec.mask.eth_type = htons(0xffff);
    spec.match.ip_dst.ip4 = htonl(0x0a000000);
    spec.mask.ip_dst.ip4 = htonl(0xffffff00);
    spec.actions[0].type = ESW_ACTION_PUSH_VLAN;
    spec.actions[0].vlan.tpid = 0x8100;
    spec.actions[0].vlan.tci = (3 << 13) | 100;
    spec.actions[1].type = ESW_ACTION_OUTPUT;
    spec.actions[1].vport = 3;
    spec.n_actions = 2;
    print(&spec);

    /* Partial masks, VLAN, IPv6, L4, rewrites. */
    memset(&spec, 0, sizeof spec);
    spec.priority = 1;
    set_mac(&spec.match.src, 0);
    spec.mask.src.ea[0] = 0x01;
    spec.match.n_vlans = 1;
    spec.mask.n_vlans = 0xff;
    spec.match.vlans[0].tci = htons(100);
    spec.mask.vlans[0].tci = htons(0x0fff);
    spec.match.eth_type = htons(0x86dd);
    spec.mask.eth_type = htons(0xffff);
    inet_pton(AF_INET6, "2001:db8::1", &spec.match.ip_src.ip6);
    memset(&spec.mask.ip_src.ip6, 0xff, 8);
    spec.match.ip_proto = 6;
    spec.mask.ip_proto = 0xff;
    spec.match.tp_dst = htons(80);
    spec.mask.tp_dst = htons(0xffff);
    spec.match.tcp_flags = htons(0x002);
    spec.mask.tcp_flags = htons(0x0ff);
    spec.actions[0].type = ESW_ACTION_POP_VLAN;
    spec.actions[1].type = ESW_ACTION_SET_ETH_DST;
    set_mac(&spec.actions[1].mac, 9);
    spec.actions[2].type = ESW_ACTION_OUTPUT;
    spec.actions[2].vport = 0;
    spec.actions[3].type = ESW_ACTION_OUTPUT;
    spec.actions[3].vport = 5;
    spec.n_actions = 4;
    print(&spec);

    /* Catch-all drop; a non-CIDR IPv4 mask. */
    memset(&spec, 0, sizeof spec);
    print(&spec);
    spec.match.eth_type = htons(0x0800);
    spec.mask.eth_type = htons(0xffff);
    spec.match.ip_src.ip4 = htonl(0x0a000001);
    spec.mask.ip_src.ip4 = htonl(0xff00ff00);
    spec.actions[0].type = ESW_ACTION_DROP;
    spec.n_actions = 1;
    print(&spec);

    /* Chains, hashes, meters, rewrites of every group. */
    memset(&spec, 0, sizeof spec);
    spec.match.chain = 7;
    spec.mask.chain = UINT32_MAX;
    spec.match.dp_hash = 2;
    spec.mask.dp_hash = 3;
    spec.actions[0].type = ESW_ACTION_METER;
    spec.actions[0].meter = 1;
    spec.actions[1].type = ESW_ACTION_SET;
    spec.actions[1].set.header = ESW_SET_IPV4;
    spec.actions[1].set.value.ipv4.src = htonl(0xc0000201);
    spec.actions[1].set.mask.ipv4.src = UINT32_MAX;
    spec.actions[1].set.value.ipv4.tos = 0xb8;
    spec.actions[1].set.mask.ipv4.tos = 0xfc;
    spec.actions[1].set.value.ipv4.ttl = 63;
    spec.actions[1].set.mask.ipv4.ttl = 0xff;
    spec.actions[2].type = ESW_ACTION_SET;
    spec.actions[2].set.header = ESW_SET_TCP;
    spec.actions[2].set.value.l4.dst = htons(8080);
    spec.actions[2].set.mask.l4.dst = UINT16_MAX;
    spec.actions[3].type = ESW_ACTION_HASH;
    spec.actions[3].hash.alg = ESW_HASH_SYM_L4;
    spec.actions[3].hash.basis = 0x10;
    spec.actions[3].hash.max_vlans = 2;
    spec.actions[4].type = ESW_ACTION_RECIRC;
    spec.actions[4].chain = 8;
    spec.n_actions = 5;
    print(&spec);

    memset(&spec, 0, sizeof spec);
    spec.actions[0].type = ESW_ACTION_SET;
    spec.actions[0].set.header = ESW_SET_IPV6;
    inet_pton(AF_INET6, "2001:db8::99", &spec.actions[0].set.value.ipv6.dst);
    memset(&spec.actions[0].set.mask.ipv6.dst.s6_addr[8], 0xff, 8);
    spec.actions[0].set.value.ipv6.label = htonl(0x12345);
    spec.actions[0].set.mask.ipv6.label = htonl(0xfffff);
    spec.actions[0].set.value.ipv6.hlimit = 63;
    spec.actions[0].set.mask.ipv6.hlimit = 0xff;
    spec.actions[1].type = ESW_ACTION_SET;
    spec.actions[1].set.header = ESW_SET_ETH;
    set_mac(&spec.actions[1].set.value.eth.dst, 2);
    memset(&spec.actions[1].set.mask.eth.dst, 0xff, 6);
    spec.actions[1].set.mask.eth.src.ea[0] = 0x02;
    spec.actions[2].type = ESW_ACTION_SET;
    spec.actions[2].set.header = ESW_SET_ICMP;
    spec.actions[2].set.value.icmp.type = 3;
    spec.actions[2].set.mask.icmp.type = 0xff;
    spec.actions[3].type = ESW_ACTION_HASH;
    spec.actions[3].hash.alg = ESW_HASH_L4;
    spec.actions[3].hash.max_vlans = 1;
    spec.actions[4].type = ESW_ACTION_RECIRC;
    spec.actions[4].chain = 1;
    spec.n_actions = 5;
    print(&spec);

    /* Connection tracking: OVN's switch-to-router pattern. */
    memset(&spec, 0, sizeof spec);
    spec.match.chain = 1;
    spec.mask.chain = UINT32_MAX;
    spec.match.ct_state = ESW_CS_TRACKED | ESW_CS_ESTABLISHED;
    spec.mask.ct_state = ESW_CS_TRACKED | ESW_CS_ESTABLISHED | ESW_CS_NEW;
    spec.match.ct_zone = 5;
    spec.mask.ct_zone = UINT16_MAX;
    spec.actions[0].type = ESW_ACTION_CT_CLEAR;
    spec.actions[1].type = ESW_ACTION_CT;
    spec.actions[1].ct.zone = 6;
    spec.actions[1].ct.nat = true;
    spec.actions[2].type = ESW_ACTION_RECIRC;
    spec.actions[2].chain = 2;
    spec.n_actions = 3;
    print(&spec);
    return 0;
}
