/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_PACKET_PRIVATE_H
#define ESW_PACKET_PRIVATE_H 1

/* What the packet parser (esw-packet.c) and the header rewrites
 * (esw-packet-rewrite.c) share: protocol numbers, unaligned access. */

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "esw-packet.h"

#define IPPROTO_ICMP_     1
#define IPPROTO_IGMP_     2
#define IPPROTO_TCP_      6
#define IPPROTO_UDP_      17
#define IPPROTO_ICMPV6_   58
#define IPPROTO_SCTP_     132
#define IPPROTO_HOPOPTS_  0
#define IPPROTO_ROUTING_  43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_       51
#define IPPROTO_DSTOPTS_  60

/* Unaligned loads and stores in memory order. */

static inline uint16_t
load16(const uint8_t *p)
{
    uint16_t x;

    memcpy(&x, p, sizeof x);
    return x;
}

static inline uint32_t
load32(const uint8_t *p)
{
    uint32_t x;

    memcpy(&x, p, sizeof x);
    return x;
}

static inline void
store16(uint8_t *p, uint16_t x)
{
    memcpy(p, &x, sizeof x);
}

static inline void
store32(uint8_t *p, uint32_t x)
{
    memcpy(p, &x, sizeof x);
}

/* True if the big-endian Ethertype 'be_type' is a VLAN TPID the eSwitch
 * parses (802.1Q or 802.1ad). */
static inline bool
is_vlan_tpid(uint16_t be_type)
{
    return (be_type == htons(ESW_TPID_8021Q)
            || be_type == htons(ESW_TPID_8021AD));
}

/* RFC 1624, eqn. 3: the checksum 'csum' after a 16-bit word of the data
 * changed from 'old' to 'new'. */
static inline uint16_t
csum_update16(uint16_t csum, uint16_t old, uint16_t new)
{
    uint32_t sum = (uint32_t) (uint16_t) ~csum + (uint16_t) ~old + new;

    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum;
}

/* One's complement sum of the 'n' bytes at 'p', added to 'sum', as 16-bit
 * words in memory order (a last odd byte padded with zero). */
static inline uint32_t
csum_add_bytes(uint32_t sum, const uint8_t *p, size_t n)
{
    for (; n > 1; n -= 2, p += 2) {
        sum += load16(p);
        if (sum >> 31) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
    }
    if (n) {
        uint8_t last[2] = { p[0], 0 };

        sum += load16(last);
    }
    return sum;
}

static inline uint16_t
csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum;
}

#endif /* esw-packet-private.h */
