/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_PACKET_H
#define ESW_PACKET_H 1

/* Packets and flow keys of the eSwitch.
 *
 * This header is shared by every part of datapath/: the parser that turns a
 * frame into a 'struct esw_key', the vport policy stage, the rule table and
 * the drivers.  It depends on nothing outside the C library.
 *
 * Byte order
 * ==========
 *
 * Protocol fields in 'struct esw_key' are kept in network byte order, exactly
 * as they appear on the wire (like OVS's 'struct flow'), so that the parser
 * copies them without conversion and masked comparison works on raw bytes.
 * Only 'in_vport' is in host byte order.
 *
 * Error convention
 * ================
 *
 * Functions that can fail return 0 or a positive errno value.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* Ethertypes and TPIDs (host byte order; compare with ntohs()). */
#define ESW_ETH_TYPE_IPV4  0x0800
#define ESW_ETH_TYPE_ARP   0x0806
#define ESW_ETH_TYPE_IPV6  0x86dd
#define ESW_TPID_8021Q     0x8100
#define ESW_TPID_8021AD    0x88a8

#define ESW_ETH_ADDR_LEN   6
#define ESW_ETH_HDR_LEN    14
#define ESW_VLAN_HDR_LEN   4
#define ESW_MAX_VLANS      2

/* Smallest and largest frames (without FCS) the eSwitch accepts from a host
 * side.  Frames shorter than an Ethernet header are dropped as malformed;
 * frames longer than ESW_FRAME_MAX never enter the switch. */
#define ESW_FRAME_MIN      ESW_ETH_HDR_LEN
#define ESW_FRAME_MAX      9216

/* Headroom reserved in front of every packet so that pushing up to two
 * VLAN tags never moves the payload. */
#define ESW_PKT_HEADROOM   64

struct esw_eth_addr {
    uint8_t ea[ESW_ETH_ADDR_LEN];
};

/* One parsed VLAN tag.  'tpid' == 0 means "no tag at this position". */
struct esw_vlan {
    uint16_t tpid;              /* Network order: 0x8100 or 0x88a8 or 0. */
    uint16_t tci;               /* Network order: PCP(3) DEI(1) VID(12). */
};

union esw_ip_addr {
    uint32_t ip4;               /* Network order, for IPv4 (rest is zero). */
    struct in6_addr ip6;
};

/* IP fragment flags in 'ip_frag'. */
#define ESW_FRAG_ANY    (1 << 0)   /* Any fragment (first or later). */
#define ESW_FRAG_LATER  (1 << 1)   /* Not the first fragment: no L4 header. */

/* The flow key: every field the eSwitch can match on.
 *
 * Exactly ESW_KEY_WORDS 64-bit words, so that the rule table can treat keys
 * and masks as opaque arrays of words.  Padding is always zero.  Fields a
 * packet does not have (e.g. L4 ports of an ARP frame) are zero. */
struct esw_key {
    union {
        struct {
            /* Word 0. */
            uint32_t in_vport;          /* Host order: ingress vport number. */
            uint16_t eth_type;          /* Ethertype after up to two tags. */
            uint8_t n_vlans;            /* Tags parsed (0..2); a third tag
                                         * stays in the payload and makes
                                         * 'eth_type' the third TPID. */
            uint8_t pad0;

            /* Words 1-3. */
            struct esw_eth_addr dst;
            struct esw_eth_addr src;
            struct esw_vlan vlans[ESW_MAX_VLANS];  /* [0] is the outer tag. */
            uint32_t pad1;

            /* Words 4-7. */
            union esw_ip_addr ip_src;
            union esw_ip_addr ip_dst;

            /* Words 8-9. */
            uint8_t ip_proto;
            uint8_t ip_tos;             /* DSCP and ECN. */
            uint8_t ip_ttl;             /* TTL or hop limit. */
            uint8_t ip_frag;            /* ESW_FRAG_*. */
            uint16_t tp_src;            /* L4 ports; ICMP type in tp_src. */
            uint16_t tp_dst;            /* ICMP code in tp_dst. */
            uint16_t tcp_flags;         /* Network order, low 12 bits. */
            uint8_t pad2[6];
        };
#define ESW_KEY_WORDS 10
        uint64_t w[ESW_KEY_WORDS];
    };
};

_Static_assert(sizeof(struct esw_key) == ESW_KEY_WORDS * 8,
               "struct esw_key must be exactly ESW_KEY_WORDS words");

/* A packet owned by the eSwitch.
 *
 * 'data' points into 'base' with at least ESW_PKT_HEADROOM bytes in front
 * of it when the packet is created.  The buffer is owned by whoever holds
 * the packet; ownership of a 'struct esw_pkt *' passed to a function that
 * "takes" it is transferred whatever that function returns. */
struct esw_pkt {
    uint8_t *base;              /* Start of the buffer. */
    uint8_t *data;              /* Start of the frame. */
    uint32_t size;              /* Buffer size from 'base'. */
    uint32_t len;               /* Frame length from 'data'. */
    uint32_t in_vport;          /* Where the packet entered the switch. */
    uint32_t mark;              /* Driver-private metadata. */
};

/* Reasons a packet is dropped by the eSwitch.  Every drop is counted per
 * vport under exactly one of these. */
enum esw_drop_reason {
    ESW_DROP_MALFORMED,         /* Shorter than an Ethernet header, or too
                                 * long for the switch. */
    ESW_DROP_SPOOF,             /* Source MAC not allowed (spoof check). */
    ESW_DROP_VLAN,              /* VLAN violation (VST or trunk policy). */
    ESW_DROP_NOT_FOR_ME,        /* Unicast to another MAC, not promiscuous. */
    ESW_DROP_RATE,              /* Transmit rate exceeded. */
    ESW_DROP_LINK_DOWN,         /* Function link is down. */
    ESW_DROP_MTU,               /* Frame larger than the vport's MTU. */
    ESW_DROP_RULE,              /* A rule's explicit drop action. */
    ESW_DROP_MISS_QUEUE_FULL,   /* Representor (miss) queue overflow. */
    ESW_DROP_HOST_TX,           /* Host side could not take the packet. */
    ESW_N_DROP_REASONS
};

/* Returns a short stable name ("spoof", "vlan", ...) for 'reason'. */
const char *esw_drop_reason_name(enum esw_drop_reason reason);

/* Parses the 'len' bytes at 'frame' into 'key' (in_vport is set to
 * 'in_vport').  Never reads outside [frame, frame + len).  Returns 0 on
 * success, EINVAL if the frame is shorter than an Ethernet header (then
 * 'key' is all zero except in_vport).  Any other oddity (truncated or bogus
 * L3/L4 headers, unknown ethertypes, more than two tags) is not an error:
 * parsing stops at the last complete header and the remaining fields are
 * zero. */
int esw_parse(const void *frame, size_t len, uint32_t in_vport,
              struct esw_key *key);

/* VLAN and Ethernet rewrites on a packet.  'tpid' and 'tci' are in host
 * byte order.  esw_pkt_push_vlan() returns ENOBUFS if there is no headroom
 * left; esw_pkt_pop_vlan() returns EINVAL if the frame carries no
 * 802.1Q/802.1ad tag. */
int esw_pkt_push_vlan(struct esw_pkt *, uint16_t tpid, uint16_t tci);
int esw_pkt_pop_vlan(struct esw_pkt *);
void esw_pkt_set_eth_src(struct esw_pkt *, const struct esw_eth_addr *);
void esw_pkt_set_eth_dst(struct esw_pkt *, const struct esw_eth_addr *);

/* Inserts the 4-byte tag 'tag' (TPID then TCI, as on the wire) after the
 * MAC addresses, in the headroom.  The caller has checked that the frame
 * has at least 12 bytes and that 4 bytes of headroom are left (this is
 * esw_pkt_push_vlan() without the checks, for the forwarding fast path).
 * Copies through registers: no call, no byte loop. */
static inline void
esw_pkt_push_tag_unchecked(struct esw_pkt *pkt, const uint8_t tag[4])
{
    uint8_t *data = pkt->data;
    uint64_t macs_lo;
    uint32_t macs_hi;

    __builtin_memcpy(&macs_lo, data, 8);
    __builtin_memcpy(&macs_hi, data + 8, 4);
    data -= ESW_VLAN_HDR_LEN;
    __builtin_memcpy(data, &macs_lo, 8);
    __builtin_memcpy(data + 8, &macs_hi, 4);
    __builtin_memcpy(data + 12, tag, 4);
    pkt->data = data;
    pkt->len += ESW_VLAN_HDR_LEN;
}

static inline bool
esw_eth_addr_is_multicast(const struct esw_eth_addr *a)
{
    return a->ea[0] & 1;
}

static inline bool
esw_eth_addr_is_zero(const struct esw_eth_addr *a)
{
    return !(a->ea[0] | a->ea[1] | a->ea[2] | a->ea[3] | a->ea[4] | a->ea[5]);
}

#endif /* esw-packet.h */
