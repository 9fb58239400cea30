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
    return 0;
}
