/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The hashes of the HASH action, computed as Open vSwitch's userspace
 * datapath computes them.  See esw-packet.h.
 *
 * What OVS 3.1 does (read in its source; the code here is ours):
 *
 *   - its hash primitives (lib/hash.h) are MurmurHash3 steps when OVS is
 *     built without SSE 4.2, as the pinned build is: hash_add() mixes a
 *     32-bit word into the state, hash_add64() the low then the high half
 *     of a 64-bit word, hash_finish() xors in a final word and applies
 *     Murmur's finalizer; hash_int(x, basis) is
 *     hash_finish(hash_add(hash_add(x, 0), basis), 8);
 *
 *   - a packet entering dpif-netdev gets an "RSS hash", unless its netdev
 *     gave it one (ours give it this very hash, see below): for TCP (complete header) and UDP over
 *     IPv4 or IPv6, not a later fragment, miniflow_extract() computes it
 *     from the addresses, the IP header's protocol byte (for IPv6: the
 *     fixed header's next header, even with extension headers) and the
 *     ports; for anything else dfc_processing() uses
 *     miniflow_hash_5tuple(): addresses (IPv4, ARP: 32-bit words; IPv6:
 *     64-bit words), then the final protocol, then both ports as one
 *     32-bit word for TCP, UDP, SCTP, ICMP and ICMPv6; non-IP: nothing;
 *     finished with 42;
 *
 *   - the hash action OVS_HASH_ALG_L4 then gives dp_hash =
 *     hash_int(rss, basis) (odp-execute.c): the RSS hash of the packet as
 *     it entered the datapath, whatever the actions changed since and
 *     across recirculations;
 *
 *   - OVS_HASH_ALG_SYM_L4 gives flow_hash_symmetric_l3l4(flow, basis,
 *     false) of the packet as it is: the xor of the addresses, the
 *     protocol, and for TCP and SCTP (not fragments) the xor of the ports
 *     as a 16-bit word; for non-IP packets flow_hash_symmetric_l2(): the
 *     Ethertype, the xor of the tags' VIDs, the xor of the MACs.
 *
 * A packet that dpif-netdev classifies with its "simple match" table
 * (every flow of the port matches only in_port, Ethertype, VLAN and
 * fragment bits) gets no RSS hash from OVS: OVS_HASH_ALG_L4 would fall
 * back to flow_hash_5tuple(flow, basis) and tnl_push would read whatever
 * the buffer held.  So the functions' netdev (ovs-ext/netdev-esw.c) gives
 * every frame it hands to OVS esw_hash_rss(), as a NIC gives an RSS hash,
 * and OVS then uses on every path the value the device computes. */

#include "esw-packet.h"
#include "esw-packet-private.h"

#include <arpa/inet.h>
#include <string.h>


static inline uint32_t
rot32(uint32_t x, int k)
{
    return (x << k) | (x >> (32 - k));
}

/* One MurmurHash3 step ('data' 0 leaves the state's xor out). */
static inline uint32_t
mix32(uint32_t h, uint32_t data)
{
    if (data) {
        data *= UINT32_C(0xcc9e2d51);
        data = rot32(data, 15);
        data *= UINT32_C(0x1b873593);
        h ^= data;
    }
    h = rot32(h, 13);
    return h * 5 + UINT32_C(0xe6546b64);
}

static inline uint32_t
mix64(uint32_t h, uint64_t data)
{
    return mix32(mix32(h, (uint32_t) data), data >> 32);
}

static inline uint32_t
finish32(uint32_t h, uint32_t final)
{
    h ^= final;
    h ^= h >> 16;
    h *= UINT32_C(0x85ebca6b);
    h ^= h >> 13;
    h *= UINT32_C(0xc2b2ae35);
    h ^= h >> 16;
    return h;
}

static inline uint64_t
load64(const uint8_t *p)
{
    uint64_t x;

    memcpy(&x, p, sizeof x);
    return x;
}

/* The two ports (or ICMP type and code) as one word in memory order, as
 * OVS loads 'tp_src' and 'tp_dst' from its flow. */
static uint32_t
ports_word(const struct esw_layout *l)
{
    uint8_t b[4];

    memcpy(b, &l->tp_src, 2);
    memcpy(b + 2, &l->tp_dst, 2);
    return load32(b);
}

uint32_t
esw_hash_rss(const uint8_t *frame, size_t len, int max_vlans)
{
    struct esw_layout l;
    uint32_t h = 0;
    uint8_t proto;

    esw_pkt_layout(frame, len, max_vlans, &l);
    if (l.eth_type == htons(ESW_ETH_TYPE_IPV6) && l.ip_valid) {
        const uint8_t *nh = frame + l.l3;

        for (int i = 0; i < 32; i += 8) {
            h = mix64(h, load64(nh + 8 + i));
        }
        proto = l.nw_proto;
        if (!(l.nw_frag & ESW_FRAG_LATER)
            && ((proto == IPPROTO_TCP_ && l.tcp_valid)
                || (proto == IPPROTO_UDP_ && l.l4_size >= 8))) {
            proto = l.ipv6_nh;
        }
    } else if (l.eth_type == htons(ESW_ETH_TYPE_IPV6)) {
        /* OVS's sanity check failed: addresses and protocol are 0. */
        for (int i = 0; i < 4; i++) {
            h = mix64(h, 0);
        }
        proto = 0;
    } else if (l.eth_type == htons(ESW_ETH_TYPE_IPV4)
               || l.eth_type == htons(ESW_ETH_TYPE_ARP)) {
        h = mix32(h, l.nw_src);
        h = mix32(h, l.nw_dst);
        proto = l.nw_proto;
    } else {
        return finish32(h, 42);
    }
    h = mix32(h, proto);
    if (l.nw_proto == IPPROTO_TCP_ || l.nw_proto == IPPROTO_UDP_
        || l.nw_proto == IPPROTO_SCTP_ || l.nw_proto == IPPROTO_ICMP_
        || l.nw_proto == IPPROTO_ICMPV6_) {
        h = mix32(h, ports_word(&l));
    }
    return finish32(h, 42);
}

uint32_t
esw_hash_l4(uint32_t rss, uint32_t basis)
{
    return finish32(mix32(mix32(rss, 0), basis), 8);
}

/* flow_hash_symmetric_l2(). */
static uint32_t
hash_sym_l2(const uint8_t *frame, const struct esw_layout *l, uint32_t basis)
{
    uint8_t fields[12];
    uint16_t vid = 0;
    uint32_t h = basis;

    for (int i = 0; i < ESW_MAX_VLANS; i++) {
        vid ^= l->vlan_tci[i] & htons(0x0fff);
    }
    memcpy(fields, &l->eth_type, 2);
    memcpy(fields + 2, &vid, 2);
    for (int i = 0; i < ESW_ETH_ADDR_LEN; i++) {
        fields[4 + i] = frame[i] ^ frame[ESW_ETH_ADDR_LEN + i];
    }
    fields[10] = fields[11] = 0;
    for (int i = 0; i < 12; i += 4) {
        h = mix32(h, load32(fields + i));
    }
    return finish32(h, basis);
}

uint32_t
esw_hash_sym_l4(const uint8_t *frame, size_t len, int max_vlans,
                uint32_t basis)
{
    struct esw_layout l;
    uint32_t h = basis;

    esw_pkt_layout(frame, len, max_vlans, &l);
    if (len < ESW_ETH_HDR_LEN) {
        return finish32(h, basis);
    }
    if (l.eth_type == htons(ESW_ETH_TYPE_IPV4)) {
        h = mix32(h, l.nw_src ^ l.nw_dst);
    } else if (l.eth_type == htons(ESW_ETH_TYPE_IPV6)) {
        for (int i = 0; i < 16; i += 8) {
            uint64_t a = l.ip_valid ? load64(frame + l.l3 + 8 + i) : 0;
            uint64_t b = l.ip_valid ? load64(frame + l.l3 + 24 + i) : 0;

            h = mix64(h, a ^ b);
        }
    } else {
        return hash_sym_l2(frame, &l, basis);
    }
    h = mix32(h, l.nw_proto);
    if (!l.nw_frag
        && (l.nw_proto == IPPROTO_TCP_ || l.nw_proto == IPPROTO_SCTP_)) {
        uint16_t x = l.tp_src ^ l.tp_dst;

        h = mix32(h, x);
    }
    return finish32(h, basis);
}
