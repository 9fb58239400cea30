/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* VXLAN and Geneve encapsulation and decapsulation (see "Tunnels" in
 * esw-packet.h), after reading Open vSwitch's lib/netdev-native-tnl.c:
 * the same lengths, checksums and UDP source port on the way out, the
 * same checks and metadata on the way in. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "esw.h"
#include "esw-packet-private.h"

#define UDP_HLEN      8
#define VXLAN_HLEN    8             /* After UDP. */
#define GENEVE_HLEN   8             /* After UDP, without options. */
#define IPV4_HLEN     20
#define IPV6_HLEN     40
#define VXLAN_FLAGS   0x08000000    /* "I": the VNI is valid. */
#define ETH_TYPE_TEB  0x6558        /* Transparent Ethernet bridging. */

/* 'x' in network byte order. */
static uint64_t
be64(uint64_t x)
{
    uint8_t b[8];
    uint64_t y;

    for (int i = 0; i < 8; i++) {
        b[i] = x >> (56 - 8 * i);
    }
    memcpy(&y, b, sizeof y);
    return y;
}

const char *
esw_tunnel_type_name(enum esw_tunnel_type type)
{
    switch (type) {
    case ESW_TUNNEL_VXLAN: return "vxlan";
    case ESW_TUNNEL_GENEVE: return "geneve";
    case ESW_N_TUNNEL_TYPES: break;
    }
    return "unknown";
}

/* The UDP pseudo-header's sum, for the IP header at 'l3' (IPv4 or IPv6,
 * by 'ipv6') whose datagram is 'udp_len' bytes long. */
static uint32_t
csum_pseudo(const uint8_t *l3, bool ipv6, uint16_t udp_len)
{
    uint32_t sum;

    if (ipv6) {
        sum = csum_add_bytes(0, l3 + 8, 32);
    } else {
        sum = csum_add_bytes(0, l3 + 12, 8);
    }
    sum += htons(IPPROTO_UDP_);
    sum += htons(udp_len);
    return sum;
}

int
esw_encap_check(const struct esw_encap *e, char *why, size_t why_size)
{
    const uint8_t *h = e->header;
    size_t l4, need;
    bool ipv6;

    if (e->type >= ESW_N_TUNNEL_TYPES) {
        snprintf(why, why_size, "unknown tunnel type %d", e->type);
        return EINVAL;
    }
    if (e->header_len > ESW_ENCAP_HEADER_MAX
        || e->header_len < ESW_ETH_HDR_LEN + IPV4_HLEN + UDP_HLEN) {
        snprintf(why, why_size, "header of %d bytes", e->header_len);
        return EINVAL;
    }
    if (load16(h + 12) == htons(ESW_ETH_TYPE_IPV4)) {
        ipv6 = false;
        if (h[14] != 0x45 || h[14 + 9] != IPPROTO_UDP_) {
            snprintf(why, why_size, "not IPv4 without options and UDP");
            return EINVAL;
        }
        l4 = ESW_ETH_HDR_LEN + IPV4_HLEN;
    } else if (load16(h + 12) == htons(ESW_ETH_TYPE_IPV6)) {
        ipv6 = true;
        if ((h[14] >> 4) != 6 || h[14 + 6] != IPPROTO_UDP_) {
            snprintf(why, why_size, "not IPv6 and UDP");
            return EINVAL;
        }
        l4 = ESW_ETH_HDR_LEN + IPV6_HLEN;
    } else {
        snprintf(why, why_size, "outer Ethertype %#06x is not IPv4 or IPv6",
                 ntohs(load16(h + 12)));
        return EINVAL;
    }
    (void) ipv6;
    if (e->type == ESW_TUNNEL_VXLAN) {
        need = l4 + UDP_HLEN + VXLAN_HLEN;
    } else {
        need = l4 + UDP_HLEN + GENEVE_HLEN;
        if (e->header_len >= need) {
            need += (h[l4 + UDP_HLEN] & 0x3f) * 4;
        }
    }
    if (e->header_len != need) {
        snprintf(why, why_size, "%s header of %d bytes, expected %zu",
                 esw_tunnel_type_name(e->type), e->header_len, need);
        return EINVAL;
    }
    if (e->port_min > e->port_max) {
        snprintf(why, why_size, "empty source port range %d-%d",
                 e->port_min, e->port_max);
        return EINVAL;
    }
    if (e->max_vlans < 1 || e->max_vlans > ESW_MAX_VLANS) {
        snprintf(why, why_size, "max_vlans %d, expected 1..%d",
                 e->max_vlans, ESW_MAX_VLANS);
        return EINVAL;
    }
    return 0;
}

int
esw_pkt_encap(struct esw_pkt **pktp, const struct esw_encap *e, uint32_t rss)
{
    struct esw_pkt *pkt = *pktp;
    size_t hlen = e->header_len;
    bool ipv6 = load16(e->header + 12) == htons(ESW_ETH_TYPE_IPV6);
    size_t l4 = ESW_ETH_HDR_LEN + (ipv6 ? IPV6_HLEN : IPV4_HLEN);
    uint8_t *l3, *udp;
    uint16_t ip_len, udp_len;
    size_t len;

    len = pkt->len + hlen;
    if (len > ESW_FRAME_MAX) {
        return ENOBUFS;
    }
    if ((size_t) (pkt->data - pkt->base)
        < hlen + ESW_MAX_VLANS * ESW_VLAN_HDR_LEN) {
        /* Not enough room for the header and the tags a rule may push
         * after it. */
        struct esw_pkt *copy = esw_pkt_alloc(len);

        if (!copy) {
            return ENOBUFS;
        }
        memcpy(copy->data + hlen, pkt->data, pkt->len);
        copy->in_vport = pkt->in_vport;
        copy->mark = pkt->mark;
        esw_pkt_free(pkt);
        *pktp = pkt = copy;
    } else {
        pkt->data -= hlen;
        pkt->len = len;
    }
    memcpy(pkt->data, e->header, hlen);

    /* Lengths, and the IPv4 header checksum updated for its length, as
     * netdev_tnl_push_ip_header() does. */
    l3 = pkt->data + ESW_ETH_HDR_LEN;
    udp = pkt->data + l4;
    ip_len = len - ESW_ETH_HDR_LEN;
    if (ipv6) {
        ip_len -= IPV6_HLEN;
        store16(l3 + 4, htons(ip_len));
        udp_len = ip_len;
    } else {
        store16(l3 + 2, htons(ip_len));
        store16(l3 + 10, csum_update16(load16(l3 + 10), 0, htons(ip_len)));
        udp_len = ip_len - IPV4_HLEN;
    }

    /* UDP: the source port from the inner packet's hash. */
    store16(udp, htons((uint16_t) ((((uint64_t) rss
                                     * (e->port_max - e->port_min)) >> 32)
                                   + e->port_min)));
    store16(udp + 4, htons(udp_len));
    if (load16(udp + 6)) {
        /* The template's nonzero checksum takes part in the sum, as in
         * OVS (0xffff, which changes nothing). */
        uint32_t sum = csum_pseudo(l3, ipv6, udp_len);
        uint16_t csum;

        sum = csum_add_bytes(sum, udp, udp_len);
        csum = csum_fold(sum);
        store16(udp + 6, csum ? csum : 0xffff);
    }
    return 0;
}

void
esw_key_copy_tunnel(struct esw_key *dst, const struct esw_key *src)
{
    dst->tun_port = src->tun_port;
    memcpy(&dst->tun_id, &src->tun_id,
           offsetof(struct esw_key, ct_state)
           - offsetof(struct esw_key, tun_id));
}

int
esw_pkt_decap(struct esw_pkt *pkt, const struct esw_decap *d,
              struct esw_key *md)
{
    const uint8_t *frame = pkt->data;
    size_t size = pkt->len;
    const uint8_t *l3 = frame + ESW_ETH_HDR_LEN, *udp, *hdr;
    size_t l3_size, l4_size, hlen;
    uint16_t type, flags = ESW_TUN_F_KEY;
    struct esw_key tun;
    bool ipv6;

    if (size < ESW_ETH_HDR_LEN + IPV4_HLEN) {
        return EINVAL;
    }
    memset(&tun, 0, sizeof tun);
    type = load16(frame + 12);
    l3_size = size - ESW_ETH_HDR_LEN;
    if (type == htons(ESW_ETH_TYPE_IPV4)) {
        uint16_t tot_len = ntohs(load16(l3 + 2));

        /* Version 4, no options, a valid header checksum, a length within
         * the frame, not a fragment (else OVS finds no L4 header), UDP. */
        if (l3[0] != 0x45 || tot_len > l3_size || tot_len < IPV4_HLEN
            || csum_fold(csum_add_bytes(0, l3, IPV4_HLEN))
            || (load16(l3 + 6) & htons(0x3fff)) || l3[9] != IPPROTO_UDP_) {
            return EINVAL;
        }
        ipv6 = false;
        tun.tun_src.ip4 = load32(l3 + 12);
        tun.tun_dst.ip4 = load32(l3 + 16);
        tun.tun_tos = l3[1];
        tun.tun_ttl = l3[8];
        l4_size = tot_len - IPV4_HLEN;
        hlen = ESW_ETH_HDR_LEN + IPV4_HLEN;
    } else if (type == htons(ESW_ETH_TYPE_IPV6)) {
        uint16_t plen;

        /* UDP right after the fixed header, a length within the frame. */
        if (l3_size < IPV6_HLEN || (l3[0] >> 4) != 6
            || l3[6] != IPPROTO_UDP_) {
            return EINVAL;
        }
        plen = ntohs(load16(l3 + 4));
        if (!plen || plen > l3_size - IPV6_HLEN) {
            return EINVAL;
        }
        ipv6 = true;
        flags |= ESW_TUN_F_IPV6;
        memcpy(&tun.tun_src.ip6, l3 + 8, 16);
        memcpy(&tun.tun_dst.ip6, l3 + 24, 16);
        tun.tun_tos = (ntohl(load32(l3)) >> 20) & 0xff;
        tun.tun_ttl = l3[7];
        l4_size = plen;
        hlen = ESW_ETH_HDR_LEN + IPV6_HLEN;
    } else {
        return EINVAL;      /* A tag in front, or not IP. */
    }

    udp = frame + hlen;
    if (l4_size < UDP_HLEN + (d->type == ESW_TUNNEL_VXLAN ? VXLAN_HLEN
                                                          : GENEVE_HLEN)) {
        return EINVAL;
    }
    if (load16(udp + 6)) {
        /* OVS checks it over the rest of the frame, L2 padding included,
         * with the pseudo-header's length from the IP header. */
        uint32_t sum = csum_pseudo(l3, ipv6, l4_size);

        sum = csum_add_bytes(sum, udp, size - hlen);
        if (csum_fold(sum)) {
            return EINVAL;
        }
        flags |= ESW_TUN_F_CSUM;
    }
    tun.tun_tp_src = load16(udp);
    tun.tun_tp_dst = load16(udp + 2);
    hdr = udp + UDP_HLEN;

    if (d->type == ESW_TUNNEL_VXLAN) {
        uint32_t vni = ntohl(load32(hdr + 4));

        if (load32(hdr) != htonl(VXLAN_FLAGS) || (vni & 0xff)) {
            return EINVAL;
        }
        tun.tun_id = be64(vni >> 8);
        hlen += UDP_HLEN + VXLAN_HLEN;
    } else {
        size_t opts_len = (hdr[0] & 0x3f) * 4;

        if (hlen + UDP_HLEN + GENEVE_HLEN + opts_len > size
            || (hdr[0] >> 6) != 0
            || load16(hdr + 2) != htons(ETH_TYPE_TEB)) {
            return EINVAL;
        }
        if (hdr[1] & 0x80) {
            flags |= ESW_TUN_F_OAM;
        }
        tun.tun_id = be64(ntohl(load32(hdr + 4)) >> 8);
        tun.tun_opts_len = opts_len;
        memcpy(tun.tun_opts, hdr + GENEVE_HLEN,
               opts_len < ESW_TUN_OPTS_MAX ? opts_len : ESW_TUN_OPTS_MAX);
        hlen += UDP_HLEN + GENEVE_HLEN + opts_len;
    }
    tun.tun_flags = flags;
    tun.tun_port = d->tun_port;

    esw_key_copy_tunnel(md, &tun);
    pkt->data += hlen;
    pkt->len -= hlen;
    return 0;
}
