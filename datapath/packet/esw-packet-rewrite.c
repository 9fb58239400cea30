/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Header rewrites of the eSwitch (ESW_ACTION_SET) and the layout of a
 * frame as Open vSwitch's parser sees it.  See esw-packet.h.
 *
 * The device must rewrite a packet exactly as OVS's userspace datapath
 * does, so this file follows OVS's rules (read in lib/flow.c,
 * lib/odp-execute.c and lib/packets.c of OVS 3.1), in its own code:
 * where a header is, when a field is written, which checksums follow and
 * in which order the 16-bit checksum updates happen (the order decides
 * between the two encodings of zero, 0x0000 and 0xffff, in corner cases).
 *
 * Checksum updates use RFC 1624's equation 3, HC' = ~(~HC + ~m + m'), on
 * 16-bit words taken from memory as they are (one's complement sums do
 * not depend on byte order). */

#include "esw-packet.h"
#include "esw-packet-private.h"

#include <arpa/inet.h>
#include <string.h>


#define IPV6_LABEL_MASK   0x000fffff

static const char *const field_names[ESW_N_FIELDS] = {
    [ESW_FIELD_ETH_SRC] = "eth_src",
    [ESW_FIELD_ETH_DST] = "eth_dst",
    [ESW_FIELD_IPV4_SRC] = "ipv4_src",
    [ESW_FIELD_IPV4_DST] = "ipv4_dst",
    [ESW_FIELD_IPV4_TOS] = "ipv4_tos",
    [ESW_FIELD_IPV4_TTL] = "ipv4_ttl",
    [ESW_FIELD_IPV6_SRC] = "ipv6_src",
    [ESW_FIELD_IPV6_DST] = "ipv6_dst",
    [ESW_FIELD_IPV6_TCLASS] = "ipv6_tclass",
    [ESW_FIELD_IPV6_LABEL] = "ipv6_label",
    [ESW_FIELD_IPV6_HLIMIT] = "ipv6_hlimit",
    [ESW_FIELD_TCP_SRC] = "tcp_src",
    [ESW_FIELD_TCP_DST] = "tcp_dst",
    [ESW_FIELD_UDP_SRC] = "udp_src",
    [ESW_FIELD_UDP_DST] = "udp_dst",
    [ESW_FIELD_SCTP_SRC] = "sctp_src",
    [ESW_FIELD_SCTP_DST] = "sctp_dst",
    [ESW_FIELD_ICMP_TYPE] = "icmp_type",
    [ESW_FIELD_ICMP_CODE] = "icmp_code",
};

const char *
esw_field_name(enum esw_field field)
{
    return (unsigned int) field < ESW_N_FIELDS ? field_names[field]
                                               : "unknown";
}

const char *
esw_set_header_name(enum esw_set_header header)
{
    switch (header) {
    case ESW_SET_ETH: return "eth";
    case ESW_SET_IPV4: return "ipv4";
    case ESW_SET_IPV6: return "ipv6";
    case ESW_SET_TCP: return "tcp";
    case ESW_SET_UDP: return "udp";
    case ESW_SET_SCTP: return "sctp";
    case ESW_SET_ICMP: return "icmp";
    case ESW_N_SET_HEADERS: break;
    }
    return "unknown";
}

static bool
nonzero(const void *p_, size_t n)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return true;
        }
    }
    return false;
}

#define FIELD_IF(COND, FIELD) ((COND) ? UINT32_C(1) << (FIELD) : 0)

uint32_t
esw_set_fields(const struct esw_set *set)
{
    const union esw_set_value *m = &set->mask;
    enum esw_field src = ESW_FIELD_TCP_SRC, dst = ESW_FIELD_TCP_DST;

    switch ((enum esw_set_header) set->header) {
    case ESW_SET_ETH:
        return (FIELD_IF(nonzero(&m->eth.src, 6), ESW_FIELD_ETH_SRC)
                | FIELD_IF(nonzero(&m->eth.dst, 6), ESW_FIELD_ETH_DST));
    case ESW_SET_IPV4:
        return (FIELD_IF(m->ipv4.src, ESW_FIELD_IPV4_SRC)
                | FIELD_IF(m->ipv4.dst, ESW_FIELD_IPV4_DST)
                | FIELD_IF(m->ipv4.tos, ESW_FIELD_IPV4_TOS)
                | FIELD_IF(m->ipv4.ttl, ESW_FIELD_IPV4_TTL));
    case ESW_SET_IPV6:
        return (FIELD_IF(nonzero(&m->ipv6.src, 16), ESW_FIELD_IPV6_SRC)
                | FIELD_IF(nonzero(&m->ipv6.dst, 16), ESW_FIELD_IPV6_DST)
                | FIELD_IF(m->ipv6.tclass, ESW_FIELD_IPV6_TCLASS)
                | FIELD_IF(m->ipv6.label, ESW_FIELD_IPV6_LABEL)
                | FIELD_IF(m->ipv6.hlimit, ESW_FIELD_IPV6_HLIMIT));
    case ESW_SET_UDP:
        src = ESW_FIELD_UDP_SRC;
        dst = ESW_FIELD_UDP_DST;
        goto l4;
    case ESW_SET_SCTP:
        src = ESW_FIELD_SCTP_SRC;
        dst = ESW_FIELD_SCTP_DST;
        goto l4;
    case ESW_SET_TCP:
    l4:
        return FIELD_IF(m->l4.src, src) | FIELD_IF(m->l4.dst, dst);
    case ESW_SET_ICMP:
        return (FIELD_IF(m->icmp.type, ESW_FIELD_ICMP_TYPE)
                | FIELD_IF(m->icmp.code, ESW_FIELD_ICMP_CODE));
    case ESW_N_SET_HEADERS:
    default:
        break;
    }
    return 0;
}

/* Layout. */


/* L4 fields of the frame at 'p' ('n' bytes) with protocol 'proto'. */
static void
layout_l4(const uint8_t *p, size_t n, uint8_t proto, struct esw_layout *l)
{
    switch (proto) {
    case IPPROTO_TCP_:
        if (n >= 20) {
            size_t doff = (size_t) (p[12] >> 4) * 4;

            if (doff >= 20 && n >= doff) {
                l->tcp_valid = true;
                l->tp_src = load16(p);
                l->tp_dst = load16(p + 2);
            }
        }
        break;
    case IPPROTO_UDP_:
        if (n >= 8) {
            l->tp_src = load16(p);
            l->tp_dst = load16(p + 2);
        }
        break;
    case IPPROTO_SCTP_:
        if (n >= 12) {
            l->tp_src = load16(p);
            l->tp_dst = load16(p + 2);
        }
        break;
    case IPPROTO_ICMP_:
    case IPPROTO_IGMP_:
    case IPPROTO_ICMPV6_:
        if (n >= 8) {
            l->tp_src = htons(p[0]);
            l->tp_dst = htons(p[1]);
        }
        break;
    default:
        break;
    }
}

static void
layout_ipv4(const uint8_t *p, size_t n, struct esw_layout *l)
{
    size_t ihl, tot_len;
    uint16_t frag;

    if (n < 20) {
        return;
    }
    ihl = (size_t) (p[0] & 0x0f) * 4;
    tot_len = ntohs(load16(p + 2));
    if (ihl < 20 || n < ihl || tot_len > n || ihl > tot_len) {
        return;                 /* OVS's ipv4_sanity_check() fails. */
    }
    l->ip_valid = true;
    l->nw_src = load32(p + 12);
    l->nw_dst = load32(p + 16);
    l->nw_proto = p[9];
    frag = ntohs(load16(p + 6));
    if (frag & 0x3fff) {
        l->nw_frag = ESW_FRAG_ANY;
        if (frag & 0x1fff) {
            l->nw_frag |= ESW_FRAG_LATER;
        }
    }
    l->l4 = l->l3 + ihl;
    l->l4_size = tot_len - ihl;
    if (!(l->nw_frag & ESW_FRAG_LATER)) {
        layout_l4(p + ihl, tot_len - ihl, l->nw_proto, l);
    }
}

static void
layout_ipv6(const uint8_t *p, size_t n, struct esw_layout *l)
{
    size_t plen, ofs = 40;
    uint8_t nh;

    if (n < 40) {
        return;
    }
    plen = ntohs(load16(p + 4));
    if (plen + 40 > n) {
        return;                 /* OVS's ipv6_sanity_check() fails. */
    }
    l->ip_valid = true;
    nh = l->ipv6_nh = p[6];
    n = 40 + plen;              /* Never L2 padding. */

    /* Extension headers, as OVS's parse_ipv6_ext_hdrs__(): no limit on
     * their number (each takes 8 bytes or more). */
    for (;;) {
        size_t hlen;

        if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_
            && nh != IPPROTO_DSTOPTS_ && nh != IPPROTO_AH_
            && nh != IPPROTO_FRAGMENT_) {
            break;
        }
        if (n - ofs < 8) {
            return;             /* OVS stops: no protocol, no L4. */
        }
        if (nh == IPPROTO_FRAGMENT_) {
            uint16_t offlg = load16(p + ofs + 2);

            nh = p[ofs];
            ofs += 8;
            if (offlg) {
                l->nw_frag = ESW_FRAG_ANY;
                if (offlg & htons(0xfff8)) {
                    l->nw_frag |= ESW_FRAG_LATER;
                    nh = IPPROTO_FRAGMENT_;
                    break;
                }
            }
            continue;
        }
        hlen = (nh == IPPROTO_AH_ ? ((size_t) p[ofs + 1] + 2) * 4
                : ((size_t) p[ofs + 1] + 1) * 8);
        nh = p[ofs];
        if (hlen > n - ofs) {
            return;
        }
        ofs += hlen;
    }
    l->nw_proto = nh;
    l->l4 = l->l3 + ofs;
    l->l4_size = n - ofs;
    if (!(l->nw_frag & ESW_FRAG_LATER)) {
        layout_l4(p + ofs, n - ofs, nh, l);
    }
}

static void
layout_arp(const uint8_t *p, size_t n, struct esw_layout *l)
{
    /* htype 1, ptype 0x0800, hlen 6, plen 4. */
    static const uint8_t eth_ip4[6] = { 0, 1, 8, 0, 6, 4 };

    if (n >= 28 && !memcmp(p, eth_ip4, sizeof eth_ip4)) {
        l->nw_src = load32(p + 14);
        l->nw_dst = load32(p + 24);
        if (!p[6]) {
            l->nw_proto = p[7];     /* OVS keeps the opcode if <= 0xff. */
        }
    }
}

void
esw_pkt_layout(const uint8_t *frame, size_t len, int max_vlans,
               struct esw_layout *l)
{
    size_t ofs = 2 * ESW_ETH_ADDR_LEN;
    uint16_t type;

    memset(l, 0, sizeof *l);
    if (len < ESW_ETH_HDR_LEN) {
        return;
    }
    for (int i = 0; i < ESW_MAX_VLANS && i < max_vlans; i++) {
        if (!is_vlan_tpid(load16(frame + ofs)) || len - ofs < 6) {
            break;
        }
        l->vlan_tci[i] = load16(frame + ofs + 2);
        ofs += ESW_VLAN_HDR_LEN;
    }
    type = load16(frame + ofs);
    ofs += 2;
    l->eth_type = ntohs(type) < 0x600 ? htons(0x05ff) : type;
    l->l3 = ofs;
    l->l3_size = len - ofs;
    if (type == htons(ESW_ETH_TYPE_IPV4)) {
        layout_ipv4(frame + ofs, len - ofs, l);
    } else if (type == htons(ESW_ETH_TYPE_IPV6)) {
        layout_ipv6(frame + ofs, len - ofs, l);
    } else if (type == htons(ESW_ETH_TYPE_ARP) || type == htons(0x8035)) {
        layout_arp(frame + ofs, len - ofs, l);
    }
}

/* Checksums. */

/* The same for a 32-bit word, as two 16-bit updates: the low half of its
 * value as loaded from memory first, as OVS does. */
static uint16_t
csum_update32(uint16_t csum, uint32_t old, uint32_t new)
{
    csum = csum_update16(csum, (uint16_t) old, (uint16_t) new);
    return csum_update16(csum, old >> 16, new >> 16);
}

static uint16_t
csum_update128(uint16_t csum, const uint8_t old[16], const uint8_t new[16])
{
    for (int i = 0; i < 16; i += 4) {
        csum = csum_update32(csum, load32(old + i), load32(new + i));
    }
    return csum;
}

uint32_t
esw_crc32c(const void *data, size_t n)
{
    const uint8_t *p = data;
    uint32_t crc = UINT32_MAX;

    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (UINT32_C(0x82f63b78) & -(crc & 1));
        }
    }
    return ~crc;
}

/* Rewrites. */

static void
set_eth(uint8_t *frame, size_t len, const struct esw_set_eth *v,
        const struct esw_set_eth *m)
{
    if (len < 2 * ESW_ETH_ADDR_LEN) {
        return;
    }
    for (int i = 0; i < ESW_ETH_ADDR_LEN; i++) {
        frame[i] = v->dst.ea[i] | (frame[i] & ~m->dst.ea[i]);
        frame[6 + i] = v->src.ea[i] | (frame[6 + i] & ~m->src.ea[i]);
    }
}

/* Sets the IPv4 address at 'addr' to 'new' (both in memory order),
 * updating the IPv4 header checksum and the TCP or UDP checksum. */
static void
set_ipv4_addr(uint8_t *frame, const struct esw_layout *l, uint8_t *addr,
              uint32_t new)
{
    uint8_t *nh = frame + l->l3;
    uint32_t old = load32(addr);

    if (l->l4) {
        uint8_t *l4 = frame + l->l4;

        if (nh[9] == IPPROTO_TCP_ && l->l4_size >= 20) {
            store16(l4 + 16, csum_update32(load16(l4 + 16), old, new));
        } else if (nh[9] == IPPROTO_UDP_ && l->l4_size >= 8) {
            uint16_t csum = load16(l4 + 6);

            if (csum) {
                csum = csum_update32(csum, old, new);
                store16(l4 + 6, csum ? csum : 0xffff);
            }
        }
    }
    store16(nh + 10, csum_update32(load16(nh + 10), old, new));
    store32(addr, new);
}

static void
set_ipv4(uint8_t *frame, const struct esw_layout *l,
         const struct esw_set_ipv4 *v, const struct esw_set_ipv4 *m)
{
    uint8_t *nh = frame + l->l3;

    if (l->eth_type != htons(ESW_ETH_TYPE_IPV4) || l->l3_size < 20) {
        return;
    }
    if (m->src) {
        uint32_t new = v->src | (load32(nh + 12) & ~m->src);

        if (new != load32(nh + 12)) {
            set_ipv4_addr(frame, l, nh + 12, new);
        }
    }
    if (m->dst) {
        uint32_t new = v->dst | (load32(nh + 16) & ~m->dst);

        if (new != load32(nh + 16)) {
            set_ipv4_addr(frame, l, nh + 16, new);
        }
    }
    if (m->tos) {
        uint8_t new = v->tos | (nh[1] & ~m->tos);

        if (new != nh[1]) {
            store16(nh + 10, csum_update16(load16(nh + 10), htons(nh[1]),
                                           htons(new)));
            nh[1] = new;
        }
    }
    if (m->ttl) {
        uint8_t new = v->ttl | (nh[8] & ~m->ttl);

        if (new != nh[8]) {
            store16(nh + 10, csum_update16(load16(nh + 10), htons(nh[8] << 8),
                                           htons(new << 8)));
            nh[8] = new;
        }
    }
}

/* What OVS's packet_rh_present() finds walking the IPv6 extension headers
 * up to the L4 header: the protocol reached, whether a routing header with
 * segments left is there, and whether L4 checksums are to be updated (not
 * in a fragment other than a first one). */
static void
ipv6_walk(const uint8_t *frame, const struct esw_layout *l, uint8_t *proto,
          bool *rh_present, bool *recalc)
{
    const uint8_t *p = frame + l->l3 + 40;
    size_t remaining = l->l4 - l->l3 - 40;
    uint8_t nh = frame[l->l3 + 6];

    *rh_present = false;
    *recalc = true;
    for (;;) {
        size_t hlen;

        *proto = nh;
        if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_
            && nh != IPPROTO_DSTOPTS_ && nh != IPPROTO_AH_
            && nh != IPPROTO_FRAGMENT_) {
            return;
        }
        if (remaining < 8) {
            return;
        }
        if (nh == IPPROTO_AH_) {
            hlen = ((size_t) p[1] + 2) * 4;
        } else if (nh == IPPROTO_FRAGMENT_) {
            uint16_t offlg = ntohs(load16(p + 2));

            *recalc = !(offlg & 0xfff8) && (offlg & 1);
            hlen = 8;
        } else if (nh == IPPROTO_ROUTING_ && p[3] > 0) {
            *rh_present = true;
            return;
        } else {
            hlen = ((size_t) p[1] + 1) * 8;
        }
        nh = p[0];
        *proto = nh;
        if (remaining < hlen) {
            return;
        }
        remaining -= hlen;
        p += hlen;
    }
}

static void
set_ipv6_addr(uint8_t *frame, const struct esw_layout *l, uint8_t proto,
              uint8_t *addr, const uint8_t new[16], bool recalc)
{
    if (recalc && l->l4) {
        uint8_t *l4 = frame + l->l4;

        if (proto == IPPROTO_TCP_ && l->l4_size >= 20) {
            store16(l4 + 16, csum_update128(load16(l4 + 16), addr, new));
        } else if (proto == IPPROTO_UDP_ && l->l4_size >= 8) {
            uint16_t csum = load16(l4 + 6);

            if (csum) {
                csum = csum_update128(csum, addr, new);
                store16(l4 + 6, csum ? csum : 0xffff);
            }
        } else if (proto == IPPROTO_ICMPV6_ && l->l4_size >= 4) {
            store16(l4 + 2, csum_update128(load16(l4 + 2), addr, new));
        }
    }
    memcpy(addr, new, 16);
}

static void
set_ipv6(uint8_t *frame, const struct esw_layout *l,
         const struct esw_set_ipv6 *v, const struct esw_set_ipv6 *m)
{
    uint8_t *nh = frame + l->l3;
    uint8_t src[16], dst[16];
    bool rh_present = false, recalc = true;
    uint8_t proto = 0;
    uint32_t flow, label;
    uint8_t tc;

    if (l->eth_type != htons(ESW_ETH_TYPE_IPV6) || l->l3_size < 40) {
        return;
    }
    for (int i = 0; i < 16; i++) {
        src[i] = v->src.s6_addr[i] | (nh[8 + i] & ~m->src.s6_addr[i]);
        dst[i] = v->dst.s6_addr[i] | (nh[24 + i] & ~m->dst.s6_addr[i]);
    }
    if (l->l4) {
        ipv6_walk(frame, l, &proto, &rh_present, &recalc);
    }
    if (memcmp(nh + 8, src, 16)) {
        set_ipv6_addr(frame, l, proto, nh + 8, src, recalc);
    }
    if (memcmp(nh + 24, dst, 16)) {
        set_ipv6_addr(frame, l, proto, nh + 24, dst, !rh_present && recalc);
    }

    /* Traffic class, flow label, hop limit: no checksum covers them. */
    flow = ntohl(load32(nh));
    tc = v->tclass | ((uint8_t) (flow >> 20) & ~m->tclass);
    label = ntohl(v->label) | (flow & IPV6_LABEL_MASK & ~ntohl(m->label));
    flow = (flow & 0xf0000000) | (uint32_t) tc << 20 | label;
    store32(nh, htonl(flow));
    nh[7] = v->hlimit | (nh[7] & ~m->hlimit);
}

/* Sets the port at 'port' to 'new', updating the checksum at 'csum'. */
static void
set_port(uint8_t *port, uint16_t new, uint8_t *csum)
{
    uint16_t old = load16(port);

    if (old != new) {
        store16(csum, csum_update16(load16(csum), old, new));
        store16(port, new);
    }
}

static void
set_tcp(uint8_t *frame, const struct esw_layout *l,
        const struct esw_set_l4 *v, const struct esw_set_l4 *m)
{
    uint8_t *th = frame + l->l4;
    size_t doff;

    if (!l->l4 || l->l4_size < 20) {
        return;
    }
    doff = (size_t) (th[12] >> 4) * 4;
    if (doff < 20 || doff > l->l4_size) {
        return;
    }
    set_port(th, v->src | (load16(th) & ~m->src), th + 16);
    set_port(th + 2, v->dst | (load16(th + 2) & ~m->dst), th + 16);
}

static void
set_udp(uint8_t *frame, const struct esw_layout *l,
        const struct esw_set_l4 *v, const struct esw_set_l4 *m)
{
    uint8_t *uh = frame + l->l4;
    uint16_t src, dst;

    if (!l->l4 || l->l4_size < 8) {
        return;
    }
    src = v->src | (load16(uh) & ~m->src);
    dst = v->dst | (load16(uh + 2) & ~m->dst);
    if (load16(uh + 6)) {
        set_port(uh, src, uh + 6);
        set_port(uh + 2, dst, uh + 6);
        if (!load16(uh + 6)) {
            store16(uh + 6, 0xffff);
        }
    } else {
        store16(uh, src);
        store16(uh + 2, dst);
    }
}

/* Stores 'crc' in SCTP's byte order (least significant byte first). */
static void
crc_bytes(uint32_t crc, uint8_t b[4])
{
    for (int i = 0; i < 4; i++) {
        b[i] = crc >> (8 * i);
    }
}

static void
set_sctp(uint8_t *frame, const struct esw_layout *l,
         const struct esw_set_l4 *v, const struct esw_set_l4 *m)
{
    uint8_t *sh = frame + l->l4;
    uint8_t old[4], good_old[4], good_new[4];

    if (!l->l4 || l->l4_size < 12) {
        return;
    }
    /* The new checksum keeps the old one's error, if any. */
    memcpy(old, sh + 8, 4);
    memset(sh + 8, 0, 4);
    crc_bytes(esw_crc32c(sh, l->l4_size), good_old);
    store16(sh, v->src | (load16(sh) & ~m->src));
    store16(sh + 2, v->dst | (load16(sh + 2) & ~m->dst));
    crc_bytes(esw_crc32c(sh, l->l4_size), good_new);
    for (int i = 0; i < 4; i++) {
        sh[8 + i] = old[i] ^ good_old[i] ^ good_new[i];
    }
}

static void
set_icmp(uint8_t *frame, const struct esw_layout *l,
         const struct esw_set_icmp *v, const struct esw_set_icmp *m)
{
    uint8_t *ih = frame + l->l4;
    uint8_t type, code;

    if (!l->l4 || l->l4_size < 8) {
        return;
    }
    type = v->type | (ih[0] & ~m->type);
    code = v->code | (ih[1] & ~m->code);
    if (type != ih[0] || code != ih[1]) {
        uint16_t old = htons(ih[0] << 8 | ih[1]);
        uint16_t new = htons(type << 8 | code);

        ih[0] = type;
        ih[1] = code;
        store16(ih + 2, csum_update16(load16(ih + 2), old, new));
    }
}

void
esw_pkt_set(struct esw_pkt *pkt, const struct esw_layout *l,
            const struct esw_set *set)
{
    const union esw_set_value *v = &set->value, *m = &set->mask;
    uint8_t *frame = pkt->data;

    switch ((enum esw_set_header) set->header) {
    case ESW_SET_ETH:
        set_eth(frame, pkt->len, &v->eth, &m->eth);
        break;
    case ESW_SET_IPV4:
        set_ipv4(frame, l, &v->ipv4, &m->ipv4);
        break;
    case ESW_SET_IPV6:
        set_ipv6(frame, l, &v->ipv6, &m->ipv6);
        break;
    case ESW_SET_TCP:
        set_tcp(frame, l, &v->l4, &m->l4);
        break;
    case ESW_SET_UDP:
        set_udp(frame, l, &v->l4, &m->l4);
        break;
    case ESW_SET_SCTP:
        set_sctp(frame, l, &v->l4, &m->l4);
        break;
    case ESW_SET_ICMP:
        set_icmp(frame, l, &v->icmp, &m->icmp);
        break;
    case ESW_N_SET_HEADERS:
    default:
        break;
    }
}

/* Connection tracking. */

/* The TCP flags a device's CT leaves to software: whatever changes the
 * state of a connection in OVS's tracker, or is invalid. */
#define TCP_FIN_ 0x001
#define TCP_SYN_ 0x002
#define TCP_RST_ 0x004
#define TCP_ACK_ 0x010

/* True if the L4 checksum of 'l' in 'frame' is right over IPv4's or
 * IPv6's pseudo-header ('ipv6'), as OVS's conntrack checks it (for IPv6,
 * packet_csum_upperlayer6() over the fixed header's addresses). */
static bool
l4_csum_ok(const uint8_t *frame, const struct esw_layout *l, bool ipv6)
{
    const uint8_t *nh = frame + l->l3;
    uint32_t sum = (ipv6 ? csum_add_bytes(0, nh + 8, 32)
                    : csum_add_bytes(0, nh + 12, 8));

    sum += htons(l->nw_proto);
    sum += htons(l->l4_size);
    sum = csum_add_bytes(sum, frame + l->l4, l->l4_size);
    return csum_fold(sum) == 0;
}

/* ICMP echo types (OVS's conntrack keys these on their id). */
#define ICMP4_ECHO_REPLY_     0
#define ICMP4_ECHO_REQUEST_   8
#define ICMP6_ECHO_REQUEST_ 128
#define ICMP6_ECHO_REPLY_   129

bool
esw_pkt_ct_check(const struct esw_pkt *pkt, const struct esw_layout *l,
                 struct esw_ct_pkt *out)
{
    const uint8_t *frame = pkt->data;
    const uint8_t *nh, *th;
    bool ipv6;

    if (!l->ip_valid || l->nw_frag || !l->l4) {
        return false;
    }
    nh = frame + l->l3;
    if (l->eth_type == htons(ESW_ETH_TYPE_IPV4)) {
        size_t ihl = (size_t) (nh[0] & 0x0f) * 4;

        if (csum_fold(csum_add_bytes(0, nh, ihl)) != 0) {
            return false;           /* OVS: conntrack_l3csum_err. */
        }
        ipv6 = false;
    } else if (l->eth_type == htons(ESW_ETH_TYPE_IPV6)) {
        if (l->ipv6_nh != l->nw_proto || l->l4 != l->l3 + 40) {
            return false;           /* Extension headers: OVS's. */
        }
        ipv6 = true;
    } else {
        return false;
    }
    th = frame + l->l4;
    if (l->nw_proto == IPPROTO_TCP_) {
        size_t doff;
        uint16_t flags;

        if (l->l4_size < 20) {
            return false;
        }
        doff = (size_t) (th[12] >> 4) * 4;
        if (doff < 20 || doff > l->l4_size) {
            return false;
        }
        flags = ntohs(load16(th + 12)) & 0x0fff;
        if (!(flags & TCP_ACK_) || flags & (TCP_SYN_ | TCP_FIN_ | TCP_RST_)) {
            return false;
        }
        if (!l4_csum_ok(frame, l, ipv6)) {
            return false;
        }
    } else if (l->nw_proto == IPPROTO_UDP_) {
        size_t udp_len;

        if (l->l4_size < 8) {
            return false;
        }
        udp_len = ntohs(load16(th + 4));
        if (udp_len < 8 || udp_len > l->l4_size) {
            return false;
        }
        /* A zero checksum is none over IPv4 only. */
        if ((ipv6 || load16(th + 6)) && !l4_csum_ok(frame, l, ipv6)) {
            return false;
        }
    } else if (l->nw_proto == (ipv6 ? IPPROTO_ICMPV6_ : IPPROTO_ICMP_)) {
        uint8_t req = ipv6 ? ICMP6_ECHO_REQUEST_ : ICMP4_ECHO_REQUEST_;
        uint8_t rep = ipv6 ? ICMP6_ECHO_REPLY_ : ICMP4_ECHO_REPLY_;

        if (l->l4_size < 8 || (th[0] != req && th[0] != rep) || th[1]) {
            return false;
        }
        if (ipv6 ? !l4_csum_ok(frame, l, true)
            : csum_fold(csum_add_bytes(0, th, l->l4_size)) != 0) {
            return false;           /* OVS: conntrack_l4csum_err. */
        }
        memset(out, 0, sizeof *out);
        /* As OVS's key: the id, the type (and the code, 0). */
        out->src_port = load16(th + 4);
        out->dst_port = load16(th);
        goto addresses;
    } else {
        return false;
    }
    memset(out, 0, sizeof *out);
    out->src_port = load16(th);
    out->dst_port = load16(th + 2);
    if (!out->src_port || !out->dst_port) {
        return false;
    }
addresses:
    out->ip_proto = l->nw_proto;
    out->ipv6 = ipv6;
    if (ipv6) {
        memcpy(&out->src.ip6, nh + 8, 16);
        memcpy(&out->dst.ip6, nh + 24, 16);
    } else {
        out->src.ip4 = load32(nh + 12);
        out->dst.ip4 = load32(nh + 16);
    }
    return true;
}

void
esw_pkt_nat(struct esw_pkt *pkt, const struct esw_layout *l, bool src,
            const union esw_ip_addr *addr, uint16_t src_port,
            uint16_t dst_port)
{
    uint8_t *frame = pkt->data;
    uint8_t *nh = frame + l->l3;
    struct esw_set_l4 v = { .src = src_port, .dst = dst_port };
    struct esw_set_l4 m = { .src = 0xffff, .dst = 0xffff };

    /* As OVS's nat_packet(): the address unconditionally (its checksums
     * updated even if it does not change), then, for TCP and UDP
     * (pat_packet()), both ports, each only if it changes. */
    if (l->eth_type == htons(ESW_ETH_TYPE_IPV6)) {
        set_ipv6_addr(frame, l, l->nw_proto, nh + (src ? 8 : 24),
                      addr->ip6.s6_addr, true);
    } else {
        set_ipv4_addr(frame, l, nh + (src ? 12 : 16), addr->ip4);
    }
    if (l->nw_proto == IPPROTO_TCP_) {
        set_tcp(frame, l, &v, &m);
    } else if (l->nw_proto == IPPROTO_UDP_) {
        set_udp(frame, l, &v, &m);
    }
}
