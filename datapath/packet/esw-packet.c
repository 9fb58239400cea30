/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Packet parser and rewrites of the eSwitch.
 *
 * Parsing rules (beyond the contract in esw-packet.h):
 *
 *   - Up to two tags with TPID 0x8100 or 0x88a8, in any combination.  A tag
 *     is parsed only if its 4 bytes and the following 2-byte type are all
 *     present; otherwise the TPID is left in 'eth_type'.  A third tag is
 *     not parsed: 'eth_type' is its TPID and nothing after it is parsed.
 *   - A type below 0x600 is an 802.3 length: 'eth_type' becomes
 *     ESW_ETH_TYPE_NONE (0x05ff, as in OVS) and nothing more is parsed.
 *   - IPv4: version 4, IHL >= 5 and the whole header (with options)
 *     present; a total length shorter than the header is bogus (no L3
 *     fields).  A total length beyond the frame is tolerated (truncated
 *     capture) and a shorter one trims Ethernet padding.  Fragments set
 *     ESW_FRAG_ANY, non-first ones also ESW_FRAG_LATER and have no L4.
 *   - IPv6: version 6 and the 40-byte header present; a nonzero payload
 *     length trims padding.  Extension headers hop-by-hop, routing,
 *     fragment, destination options and AH are skipped, at most
 *     ESW_IPV6_MAX_EXT_HDRS of them.  'ip_proto' is the last next-header
 *     value reached: the upper-layer protocol, or the extension header
 *     that was truncated, bogus or over the limit (then no L4 fields).
 *   - L4 fields need the whole fixed header: TCP 20 bytes (ports, flags),
 *     UDP 8, SCTP 12, ICMP/ICMPv6 4 (type in 'tp_src', code in 'tp_dst',
 *     both as 16-bit network-order values like OVS).
 *   - ARP (Ethernet/IPv4, 28 bytes): like OVS, the low byte of the
 *     opcode goes to 'ip_proto', the sender and target protocol addresses
 *     to 'ip_src' and 'ip_dst'.  Other ARP frames only set 'eth_type'.
 *
 * The common case (untagged or single-tagged IPv4/TCP/UDP) is a straight
 * line of bounds checks and unaligned loads, with no calls except memcpy
 * of constant size (inlined by the compiler). */

#include "esw-packet.h"
#include "esw-packet-format.h"
#include "esw-packet-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ESW_IPV6_MAX_EXT_HDRS 8



/* Parses the L4 header at 'p' (with 'n' bytes available) for 'proto'. */
static inline void
parse_l4(const uint8_t *p, size_t n, uint8_t proto, struct esw_key *key)
{
    if (proto == IPPROTO_TCP_) {
        if (n >= 20) {
            key->tp_src = load16(p);
            key->tp_dst = load16(p + 2);
            key->tcp_flags = htons(ntohs(load16(p + 12)) & 0x0fff);
        }
    } else if (proto == IPPROTO_UDP_) {
        if (n >= 8) {
            key->tp_src = load16(p);
            key->tp_dst = load16(p + 2);
        }
    } else if (proto == IPPROTO_ICMP_ || proto == IPPROTO_ICMPV6_) {
        if (n >= 4) {
            key->tp_src = htons(p[0]);
            key->tp_dst = htons(p[1]);
        }
    } else if (proto == IPPROTO_SCTP_) {
        if (n >= 12) {
            key->tp_src = load16(p);
            key->tp_dst = load16(p + 2);
        }
    }
}

static void
parse_ipv6(const uint8_t *p, size_t n, struct esw_key *key)
{
    uint32_t vtcfl;
    uint16_t plen;
    uint8_t nh;

    if (n < 40) {
        return;
    }
    /* As OVS (ipv6_sanity_check()): no version check; a payload length
     * beyond the frame makes it not IPv6 at all. */
    vtcfl = ntohl(load32(p));
    plen = ntohs(load16(p + 4));
    if (plen > n - 40) {
        return;
    }
    nh = p[6];
    key->ip_tos = (vtcfl >> 20) & 0xff;
    key->ipv6_label = htonl(vtcfl & 0xfffff);
    key->ip_ttl = p[7];
    memcpy(&key->ip_src.ip6, p + 8, 16);
    memcpy(&key->ip_dst.ip6, p + 24, 16);
    p += 40;
    n = plen;                   /* Trim padding (0: nothing follows). */

    for (int i = 0; ; i++) {
        size_t hlen;

        if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_
            && nh != IPPROTO_DSTOPTS_ && nh != IPPROTO_FRAGMENT_
            && nh != IPPROTO_AH_) {
            break;              /* Upper-layer protocol (or ESP, ...). */
        }
        if (i >= ESW_IPV6_MAX_EXT_HDRS || n < 8) {
            key->ip_proto = nh; /* Too many or truncated: stop here. */
            return;
        }
        if (nh == IPPROTO_FRAGMENT_) {
            uint16_t off = ntohs(load16(p + 2)) & 0xfff8;

            hlen = 8;
            key->ip_frag |= ESW_FRAG_ANY;
            if (off) {
                key->ip_frag |= ESW_FRAG_LATER;
                key->ip_proto = p[0];
                return;
            }
        } else if (nh == IPPROTO_AH_) {
            hlen = ((size_t) p[1] + 2) * 4;
        } else {
            hlen = ((size_t) p[1] + 1) * 8;
        }
        if (hlen > n) {
            key->ip_proto = nh;
            return;
        }
        nh = p[0];
        p += hlen;
        n -= hlen;
    }
    key->ip_proto = nh;
    parse_l4(p, n, nh, key);
}

static void
parse_arp(const uint8_t *p, size_t n, struct esw_key *key)
{
    /* htype 1, ptype 0x0800, hlen 6, plen 4. */
    static const uint8_t eth_ip4[6] = { 0, 1, 8, 0, 6, 4 };

    /* As OVS: the addresses whatever the opcode; the opcode only when it
     * is below 256 (else 0). */
    if (n >= 28 && !memcmp(p, eth_ip4, sizeof eth_ip4)) {
        if (p[6] == 0) {
            key->ip_proto = p[7];
        }
        key->ip_src.ip4 = load32(p + 14);
        key->ip_dst.ip4 = load32(p + 24);
    }
}

/* Stores word 0 of 'key' with one store: 'in_vport', 'eth_type' (network
 * order) and 'n_vlans', padding zero. */
static inline void
set_word0(struct esw_key *key, uint32_t in_vport, uint16_t eth_type,
          uint8_t n_vlans)
{
    struct {
        uint32_t in_vport;
        uint16_t eth_type;
        uint8_t n_vlans;
        uint8_t pad0;
    } w0 = { in_vport, eth_type, n_vlans, 0 };

    _Static_assert(sizeof w0 == sizeof key->w[0], "word 0 layout");
    memcpy(&key->w[0], &w0, sizeof w0);
}

/* Parses the L3 (and L4) header at 'p' ('n' bytes) of ethertype 'type'. */
static inline void
parse_l3(const uint8_t *p, size_t n, uint16_t type, struct esw_key *key)
{
    if (type == htons(ESW_ETH_TYPE_IPV4)) {
        size_t ihl, tot_len;
        uint16_t frag;

        /* As OVS (ipv4_sanity_check()): no version check; a total length
         * beyond the frame, or more than 255 bytes of padding after it,
         * makes it not IPv4 at all. */
        if (n < 20) {
            return;
        }
        ihl = (size_t) (p[0] & 0x0f) * 4;
        tot_len = ntohs(load16(p + 2));
        if (ihl < 20 || ihl > n || tot_len < ihl || tot_len > n
            || n - tot_len > 255) {
            return;
        }
        n = tot_len;            /* Trim padding. */
        key->ip_tos = p[1];
        key->ip_ttl = p[8];
        key->ip_proto = p[9];
        key->ip_src.ip4 = load32(p + 12);
        key->ip_dst.ip4 = load32(p + 16);
        frag = ntohs(load16(p + 6));
        if (frag & 0x3fff) {
            key->ip_frag = ESW_FRAG_ANY;
            if (frag & 0x1fff) {
                key->ip_frag |= ESW_FRAG_LATER;
                return;
            }
        }
        parse_l4(p + ihl, n - ihl, key->ip_proto, key);
    } else if (type == htons(ESW_ETH_TYPE_IPV6)) {
        parse_ipv6(p, n, key);
    } else if (type == htons(ESW_ETH_TYPE_ARP)) {
        parse_arp(p, n, key);
    }
}

int
esw_parse(const void *frame, size_t len, uint32_t in_vport,
          struct esw_key *key)
{
    const uint8_t *p = frame;
    size_t n = len;
    uint8_t n_vlans = 0;
    uint16_t type;

    /* Words 0 and 1 are written whole below (one store for word 0, the
     * two MACs as 8 + 4 bytes), so that later wide loads of them are
     * forwarded from single stores.  The rest is zeroed in two halves:
     * gcc inlines each as a few vector stores, where one 144-byte memset
     * is a call to the C library that costs a third of a hit's cycles
     * (bench-pipeline). */
    _Static_assert(ESW_KEY_WORDS == 23, "the two memsets cover words 2-22");
    memset(&key->w[2], 0, 10 * sizeof key->w[0]);
    memset(&key->w[12], 0, 11 * sizeof key->w[0]);
    if (n < ESW_ETH_HDR_LEN) {
        set_word0(key, in_vport, 0, 0);
        key->w[1] = 0;
        return EINVAL;
    }

    memcpy(&key->dst, p, 2 * ESW_ETH_ADDR_LEN);     /* 'dst' then 'src'. */
    type = load16(p + 12);
    p += ESW_ETH_HDR_LEN;
    n -= ESW_ETH_HDR_LEN;

    /* Tags: 'type' is the TPID, 'p' points to the TCI. */
    if (is_vlan_tpid(type) && n >= ESW_VLAN_HDR_LEN) {
        key->vlans[0].tpid = type;
        key->vlans[0].tci = load16(p);
        type = load16(p + 2);
        p += ESW_VLAN_HDR_LEN;
        n -= ESW_VLAN_HDR_LEN;
        n_vlans = 1;
        if (is_vlan_tpid(type) && n >= ESW_VLAN_HDR_LEN) {
            key->vlans[1].tpid = type;
            key->vlans[1].tci = load16(p);
            type = load16(p + 2);
            p += ESW_VLAN_HDR_LEN;
            n -= ESW_VLAN_HDR_LEN;
            n_vlans = 2;
        }
    }

    if (ntohs(type) < 0x600) {
        /* 802.3: LLC/SNAP with an Ethernet OUI carries an Ethertype, which
         * OVS uses as the frame's. */
        static const uint8_t snap[6] = { 0xaa, 0xaa, 0x03, 0, 0, 0 };

        if (n < 8 || memcmp(p, snap, sizeof snap)
            || ntohs(load16(p + 6)) < 0x600) {
            set_word0(key, in_vport, htons(ESW_ETH_TYPE_NONE), n_vlans);
            return 0;
        }
        type = load16(p + 6);
        p += 8;
        n -= 8;
    }
    set_word0(key, in_vport, type, n_vlans);
    parse_l3(p, n, type, key);
    return 0;
}

int
esw_pkt_push_vlan(struct esw_pkt *pkt, uint16_t tpid, uint16_t tci)
{
    uint8_t tag[ESW_VLAN_HDR_LEN] = {
        (uint8_t) (tpid >> 8), (uint8_t) tpid,
        (uint8_t) (tci >> 8), (uint8_t) tci,
    };

    if (pkt->len < 2 * ESW_ETH_ADDR_LEN) {
        return EINVAL;
    }
    if (pkt->data - pkt->base < ESW_VLAN_HDR_LEN) {
        return ENOBUFS;
    }
    esw_pkt_push_tag_unchecked(pkt, tag);
    return 0;
}

int
esw_pkt_pop_vlan(struct esw_pkt *pkt)
{
    uint64_t macs_lo;
    uint32_t macs_hi;

    /* The tag (TPID and TCI) must be complete; what follows it need not
     * be, so that pop undoes any push. */
    if (pkt->len < 2 * ESW_ETH_ADDR_LEN + ESW_VLAN_HDR_LEN
        || !is_vlan_tpid(load16(pkt->data + 12))) {
        return EINVAL;
    }
    /* Through registers: the regions overlap. */
    memcpy(&macs_lo, pkt->data, 8);
    memcpy(&macs_hi, pkt->data + 8, 4);
    pkt->data += ESW_VLAN_HDR_LEN;
    memcpy(pkt->data, &macs_lo, 8);
    memcpy(pkt->data + 8, &macs_hi, 4);
    pkt->len -= ESW_VLAN_HDR_LEN;
    return 0;
}

/* Does nothing if the frame is shorter than an Ethernet header. */
void
esw_pkt_set_eth_src(struct esw_pkt *pkt, const struct esw_eth_addr *ea)
{
    if (pkt->len >= ESW_ETH_HDR_LEN) {
        memcpy(pkt->data + ESW_ETH_ADDR_LEN, ea->ea, ESW_ETH_ADDR_LEN);
    }
}

/* Does nothing if the frame is shorter than an Ethernet header. */
void
esw_pkt_set_eth_dst(struct esw_pkt *pkt, const struct esw_eth_addr *ea)
{
    if (pkt->len >= ESW_ETH_HDR_LEN) {
        memcpy(pkt->data, ea->ea, ESW_ETH_ADDR_LEN);
    }
}

const char *
esw_drop_reason_name(enum esw_drop_reason reason)
{
    switch (reason) {
    case ESW_DROP_MALFORMED:
        return "malformed";
    case ESW_DROP_SPOOF:
        return "spoof";
    case ESW_DROP_VLAN:
        return "vlan";
    case ESW_DROP_NOT_FOR_ME:
        return "not-for-me";
    case ESW_DROP_RATE:
        return "rate";
    case ESW_DROP_LINK_DOWN:
        return "link-down";
    case ESW_DROP_MTU:
        return "mtu";
    case ESW_DROP_RULE:
        return "rule";
    case ESW_DROP_MISS_QUEUE_FULL:
        return "miss-queue-full";
    case ESW_DROP_HOST_TX:
        return "host-tx";
    case ESW_DROP_METER:
        return "meter";
    case ESW_DROP_NO_CONTROLLER:
        return "no-controller";
    case ESW_N_DROP_REASONS:
        break;
    }
    return "unknown";
}

/* Formatting. */

char *
esw_eth_addr_format(const struct esw_eth_addr *ea, char *buf, size_t size)
{
    if (size) {
        snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x",
                 ea->ea[0], ea->ea[1], ea->ea[2],
                 ea->ea[3], ea->ea[4], ea->ea[5]);
    }
    return buf;
}

/* Appends printf-style output to 'buf' at '*ofs', never beyond 'size'. */
static void __attribute__((format(printf, 4, 5)))
append(char *buf, size_t size, size_t *ofs, const char *fmt, ...)
{
    va_list args;
    int n;

    if (*ofs >= size) {
        return;
    }
    va_start(args, fmt);
    n = vsnprintf(buf + *ofs, size - *ofs, fmt, args);
    va_end(args);
    if (n > 0) {
        *ofs += n;
    }
}

char *
esw_key_format(const struct esw_key *key, char *buf, size_t size)
{
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    char m1[ESW_ETH_ADDR_STRLEN], m2[ESW_ETH_ADDR_STRLEN];
    uint16_t eth_type = ntohs(key->eth_type);
    bool icmp = false;
    size_t ofs = 0;

    if (!size) {
        return buf;
    }
    buf[0] = '\0';
    append(buf, size, &ofs, "in_vport=%"PRIu32, key->in_vport);
    if (key->chain) {
        append(buf, size, &ofs, " chain=%"PRIu32, key->chain);
    }
    if (key->dp_hash) {
        append(buf, size, &ofs, " dp_hash=%#"PRIx32, key->dp_hash);
    }
    if (key->tun_port) {
        int af = key->tun_flags & ESW_TUN_F_IPV6 ? AF_INET6 : AF_INET;
        const uint8_t *id = (const uint8_t *) &key->tun_id;
        uint64_t tun_id = 0;

        for (int i = 0; i < 8; i++) {
            tun_id = tun_id << 8 | id[i];
        }
        inet_ntop(af, &key->tun_src, a, sizeof a);
        inet_ntop(af, &key->tun_dst, b, sizeof b);
        append(buf, size, &ofs, " tun_port=%"PRIu32" tun_id=%#"PRIx64
               " tun_src=%s tun_dst=%s tun_tp_src=%d tun_tp_dst=%d"
               " tun_flags=%#x tun_tos=%d tun_ttl=%d", key->tun_port, tun_id,
               a, b, ntohs(key->tun_tp_src), ntohs(key->tun_tp_dst),
               key->tun_flags, key->tun_tos, key->tun_ttl);
        if (key->tun_opts_len) {
            append(buf, size, &ofs, " tun_opts=0x");
            for (int i = 0; i < key->tun_opts_len && i < ESW_TUN_OPTS_MAX;
                 i++) {
                append(buf, size, &ofs, "%02x", key->tun_opts[i]);
            }
            if (key->tun_opts_len > ESW_TUN_OPTS_MAX) {
                append(buf, size, &ofs, "...(%d bytes)", key->tun_opts_len);
            }
        }
    }
    if (key->ct_state) {
        /* OVS's names and order (ct_state_to_string()). */
        static const char *const names[8] = {
            "new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"
        };
        const char *sep = " ct_state=";

        for (int i = 0; i < 8; i++) {
            if (key->ct_state & (1u << i)) {
                append(buf, size, &ofs, "%s%s", sep, names[i]);
                sep = "|";
            }
        }
        append(buf, size, &ofs, " ct_zone=%u", key->ct_zone);
        if (key->ct_mark) {
            append(buf, size, &ofs, " ct_mark=%#"PRIx32, key->ct_mark);
        }
        if (key->ct_label[1]) {
            append(buf, size, &ofs, " ct_label=0x%"PRIx64"%016"PRIx64,
                   key->ct_label[1], key->ct_label[0]);
        } else if (key->ct_label[0]) {
            append(buf, size, &ofs, " ct_label=%#"PRIx64, key->ct_label[0]);
        }
    }
    append(buf, size, &ofs, " dst=%s src=%s",
           esw_eth_addr_format(&key->dst, m1, sizeof m1),
           esw_eth_addr_format(&key->src, m2, sizeof m2));
    for (int i = 0; i < ESW_MAX_VLANS && i < key->n_vlans; i++) {
        uint16_t tci = ntohs(key->vlans[i].tci);

        append(buf, size, &ofs, " vlan=%04x:%d:pcp%d%s",
               ntohs(key->vlans[i].tpid), tci & 0xfff, tci >> 13,
               tci & 0x1000 ? ":dei" : "");
    }
    append(buf, size, &ofs, " eth_type=0x%04x", eth_type);

    if (eth_type == ESW_ETH_TYPE_IPV4 || eth_type == ESW_ETH_TYPE_ARP) {
        inet_ntop(AF_INET, &key->ip_src.ip4, a, sizeof a);
        inet_ntop(AF_INET, &key->ip_dst.ip4, b, sizeof b);
    } else if (eth_type == ESW_ETH_TYPE_IPV6) {
        inet_ntop(AF_INET6, &key->ip_src.ip6, a, sizeof a);
        inet_ntop(AF_INET6, &key->ip_dst.ip6, b, sizeof b);
    } else {
        return buf;
    }
    if (eth_type == ESW_ETH_TYPE_ARP) {
        append(buf, size, &ofs, " arp_op=%d arp_spa=%s arp_tpa=%s",
               key->ip_proto, a, b);
        return buf;
    }
    append(buf, size, &ofs, " ip_src=%s ip_dst=%s", a, b);
    if (key->ipv6_label) {
        append(buf, size, &ofs, " label=%#"PRIx32, ntohl(key->ipv6_label));
    }
    append(buf, size, &ofs, " proto=%d tos=%d ttl=%d frag=%s",
           key->ip_proto, key->ip_tos, key->ip_ttl,
           key->ip_frag & ESW_FRAG_LATER ? "later"
           : key->ip_frag & ESW_FRAG_ANY ? "first" : "no");
    icmp = (eth_type == ESW_ETH_TYPE_IPV4
            ? key->ip_proto == IPPROTO_ICMP_
            : key->ip_proto == IPPROTO_ICMPV6_);
    if (icmp) {
        append(buf, size, &ofs, " icmp_type=%d icmp_code=%d",
               ntohs(key->tp_src), ntohs(key->tp_dst));
    } else if (key->ip_proto == IPPROTO_TCP_ || key->ip_proto == IPPROTO_UDP_
               || key->ip_proto == IPPROTO_SCTP_) {
        append(buf, size, &ofs, " tp_src=%d tp_dst=%d",
               ntohs(key->tp_src), ntohs(key->tp_dst));
        if (key->ip_proto == IPPROTO_TCP_) {
            append(buf, size, &ofs, " tcp_flags=0x%03x",
                   ntohs(key->tcp_flags));
        }
    }
    return buf;
}
