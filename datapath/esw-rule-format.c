/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Human-readable rule specs (see esw-rule-format.h). */

#include "esw-rule-format.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esw-packet-format.h"

struct fmt {
    char *buf;
    size_t size;
    size_t ofs;
    bool first;                 /* Nothing printed in this section yet. */
};

static void
put(struct fmt *f, const char *format, ...)
{
    va_list args;
    int n;

    if (f->ofs >= f->size) {
        return;
    }
    va_start(args, format);
    n = vsnprintf(f->buf + f->ofs, f->size - f->ofs, format, args);
    va_end(args);
    if (n > 0) {
        f->ofs += n;
        if (f->ofs >= f->size) {
            f->ofs = f->size - 1;
        }
    }
}

/* Starts a new "name=" item of a comma-separated list. */
static void
item(struct fmt *f, const char *name)
{
    put(f, "%s%s=", f->first ? "" : ",", name);
    f->first = false;
}

/* An unsigned field of 'bits' bits: "name=value" or "name=value/mask". */
static void
put_uint(struct fmt *f, const char *name, uint32_t value, uint32_t mask,
         int bits, bool hex)
{
    uint32_t all = bits >= 32 ? UINT32_MAX : (UINT32_C(1) << bits) - 1;

    if (!mask) {
        return;
    }
    item(f, name);
    put(f, hex ? "0x%"PRIx32 : "%"PRIu32, value & mask);
    if (mask != all) {
        put(f, "/0x%"PRIx32, mask);
    }
}

static bool
eth_is_all_ones(const struct esw_eth_addr *a)
{
    static const struct esw_eth_addr ones = {
        { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }
    };
    return !memcmp(a, &ones, sizeof ones);
}

static void
put_eth(struct fmt *f, const char *name, const struct esw_eth_addr *value,
        const struct esw_eth_addr *mask)
{
    char s[ESW_ETH_ADDR_STRLEN];
    struct esw_eth_addr masked;

    if (esw_eth_addr_is_zero(mask)) {
        return;
    }
    for (int i = 0; i < ESW_ETH_ADDR_LEN; i++) {
        masked.ea[i] = value->ea[i] & mask->ea[i];
    }
    item(f, name);
    put(f, "%s", esw_eth_addr_format(&masked, s, sizeof s));
    if (!eth_is_all_ones(mask)) {
        put(f, "/%s", esw_eth_addr_format(mask, s, sizeof s));
    }
}

/* Returns the prefix length of 'mask' ('n_bytes' bytes), or -1 if it is
 * not a CIDR mask. */
static int
prefix_len(const uint8_t *mask, size_t n_bytes)
{
    int len = 0;
    size_t i = 0;

    for (; i < n_bytes && mask[i] == 0xff; i++) {
        len += 8;
    }
    if (i < n_bytes) {
        uint8_t m = mask[i];

        while (m & 0x80) {
            len++;
            m <<= 1;
        }
        if (m) {
            return -1;
        }
        for (i++; i < n_bytes; i++) {
            if (mask[i]) {
                return -1;
            }
        }
    }
    return len;
}

static void
put_ip(struct fmt *f, const char *name, bool ipv6,
       const union esw_ip_addr *value, const union esw_ip_addr *mask)
{
    size_t n = ipv6 ? 16 : 4;
    const uint8_t *m = ipv6 ? mask->ip6.s6_addr : (const uint8_t *) &mask->ip4;
    char s[INET6_ADDRSTRLEN];
    union esw_ip_addr v;
    int plen;

    if (!memcmp(m, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", n)) {
        return;
    }
    memset(&v, 0, sizeof v);
    for (size_t i = 0; i < n; i++) {
        uint8_t *vb = ipv6 ? v.ip6.s6_addr : (uint8_t *) &v.ip4;
        const uint8_t *ib = (ipv6 ? value->ip6.s6_addr
                             : (const uint8_t *) &value->ip4);
        vb[i] = ib[i] & m[i];
    }
    item(f, name);
    inet_ntop(ipv6 ? AF_INET6 : AF_INET, ipv6 ? (void *) &v.ip6
              : (void *) &v.ip4, s, sizeof s);
    put(f, "%s", s);
    plen = prefix_len(m, n);
    if (plen < 0) {
        inet_ntop(ipv6 ? AF_INET6 : AF_INET, m, s, sizeof s);
        put(f, "/%s", s);
    } else if (plen != (int) n * 8) {
        put(f, "/%d", plen);
    }
}

static uint64_t
get_be64(const void *p)
{
    const uint8_t *b = p;
    uint64_t x = 0;

    for (int i = 0; i < 8; i++) {
        x = x << 8 | b[i];
    }
    return x;
}

/* Bytes in hex: "name=0x0102" or "name=0x0102/0xff00". */
static void
put_hex_bytes(struct fmt *f, const char *name, const uint8_t *value,
              const uint8_t *mask, size_t n)
{
    bool any = false, all = true;

    for (size_t i = 0; i < n; i++) {
        any |= mask[i] != 0;
        all &= mask[i] == 0xff;
    }
    if (!any) {
        return;
    }
    item(f, name);
    put(f, "0x");
    for (size_t i = 0; i < n; i++) {
        put(f, "%02x", value[i] & mask[i]);
    }
    if (!all) {
        put(f, "/0x");
        for (size_t i = 0; i < n; i++) {
            put(f, "%02x", mask[i]);
        }
    }
}

/* The tunnel metadata of a match. */
static void
format_tunnel(struct fmt *f, const struct esw_key *v, const struct esw_key *m)
{
    bool ipv6 = v->tun_flags & m->tun_flags & ESW_TUN_F_IPV6;
    uint64_t id = get_be64(&v->tun_id), id_m = get_be64(&m->tun_id);

    put_uint(f, "tun_port", v->tun_port, m->tun_port, 32, false);
    if (id_m) {
        item(f, "tun_id");
        put(f, "%#"PRIx64, id & id_m);
        if (id_m != UINT64_MAX) {
            put(f, "/%#"PRIx64, id_m);
        }
    }
    put_ip(f, "tun_src", ipv6, &v->tun_src, &m->tun_src);
    put_ip(f, "tun_dst", ipv6, &v->tun_dst, &m->tun_dst);
    put_uint(f, "tun_tp_src", ntohs(v->tun_tp_src), ntohs(m->tun_tp_src),
             16, false);
    put_uint(f, "tun_tp_dst", ntohs(v->tun_tp_dst), ntohs(m->tun_tp_dst),
             16, false);
    put_uint(f, "tun_flags", v->tun_flags, m->tun_flags, 16, true);
    put_uint(f, "tun_tos", v->tun_tos, m->tun_tos, 8, true);
    put_uint(f, "tun_ttl", v->tun_ttl, m->tun_ttl, 8, false);
    put_uint(f, "tun_opts_len", v->tun_opts_len, m->tun_opts_len, 8, false);
    put_hex_bytes(f, "tun_opts", v->tun_opts, m->tun_opts, ESW_TUN_OPTS_MAX);
}

/* OVS's names of the ct_state bits, in its order. */
static const char *const ct_state_names[8] = {
    "new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"
};

/* ct_state as OVS prints it: "+trk+est-rpl". */
static void
put_ct_state(struct fmt *f, uint8_t value, uint8_t mask)
{
    if (!mask) {
        return;
    }
    item(f, "ct_state");
    for (int i = 0; i < 8; i++) {
        if (mask & (1u << i)) {
            put(f, "%c%s", value & (1u << i) ? '+' : '-', ct_state_names[i]);
        }
    }
}

/* A 128-bit label (OVS's ovs_u128: lo, hi) in hex. */
static void
put_label(struct fmt *f, const char *name, const uint64_t v[2],
          const uint64_t m[2])
{
    if (!m[0] && !m[1]) {
        return;
    }
    item(f, name);
    if (v[1] & m[1]) {
        put(f, "0x%"PRIx64"%016"PRIx64, v[1] & m[1], v[0] & m[0]);
    } else {
        put(f, "0x%"PRIx64, v[0] & m[0]);
    }
    if (m[0] != UINT64_MAX || m[1] != UINT64_MAX) {
        if (m[1]) {
            put(f, "/0x%"PRIx64"%016"PRIx64, m[1], m[0]);
        } else {
            put(f, "/0x%"PRIx64, m[0]);
        }
    }
}

static void
format_match(struct fmt *f, const struct esw_key *v, const struct esw_key *m)
{
    bool ipv6 = (ntohs(v->eth_type & m->eth_type) == ESW_ETH_TYPE_IPV6);
    static const char *const vlan_names[ESW_MAX_VLANS][2] = {
        { "vlan_tpid", "vlan_tci" }, { "vlan2_tpid", "vlan2_tci" },
    };

    put_uint(f, "in_vport", v->in_vport, m->in_vport, 32, false);
    put_uint(f, "chain", v->chain, m->chain, 32, false);
    put_uint(f, "dp_hash", v->dp_hash, m->dp_hash, 32, true);
    put_ct_state(f, v->ct_state, m->ct_state);
    put_uint(f, "ct_zone", v->ct_zone, m->ct_zone, 16, false);
    put_uint(f, "ct_mark", v->ct_mark, m->ct_mark, 32, true);
    put_label(f, "ct_label", v->ct_label, m->ct_label);
    format_tunnel(f, v, m);
    put_eth(f, "eth_src", &v->src, &m->src);
    put_eth(f, "eth_dst", &v->dst, &m->dst);
    put_uint(f, "n_vlans", v->n_vlans, m->n_vlans, 8, false);
    for (int i = 0; i < ESW_MAX_VLANS; i++) {
        put_uint(f, vlan_names[i][0], ntohs(v->vlans[i].tpid),
                 ntohs(m->vlans[i].tpid), 16, true);
        put_uint(f, vlan_names[i][1], ntohs(v->vlans[i].tci),
                 ntohs(m->vlans[i].tci), 16, true);
    }
    put_uint(f, "eth_type", ntohs(v->eth_type), ntohs(m->eth_type), 16,
             true);
    put_ip(f, "ip_src", ipv6, &v->ip_src, &m->ip_src);
    put_ip(f, "ip_dst", ipv6, &v->ip_dst, &m->ip_dst);
    put_uint(f, "ipv6_label", ntohl(v->ipv6_label), ntohl(m->ipv6_label), 20,
             true);
    put_uint(f, "ip_proto", v->ip_proto, m->ip_proto, 8, false);
    put_uint(f, "ip_tos", v->ip_tos, m->ip_tos, 8, true);
    put_uint(f, "ip_ttl", v->ip_ttl, m->ip_ttl, 8, false);
    put_uint(f, "ip_frag", v->ip_frag, m->ip_frag, 8, true);
    put_uint(f, "tp_src", ntohs(v->tp_src), ntohs(m->tp_src), 16, false);
    put_uint(f, "tp_dst", ntohs(v->tp_dst), ntohs(m->tp_dst), 16, false);
    put_uint(f, "tcp_flags", ntohs(v->tcp_flags), ntohs(m->tcp_flags), 16,
             true);
}

/* The fields of a set action, "name=value[/mask]" each. */
static void
format_set(struct fmt *f, const struct esw_set *set)
{
    const union esw_set_value *v = &set->value, *m = &set->mask;
    bool v6 = set->header == ESW_SET_IPV6;

    put(f, "set(%s(", esw_set_header_name(set->header));
    f->first = true;
    switch ((enum esw_set_header) set->header) {
    case ESW_SET_ETH:
        put_eth(f, "src", &v->eth.src, &m->eth.src);
        put_eth(f, "dst", &v->eth.dst, &m->eth.dst);
        break;
    case ESW_SET_IPV4: {
        union esw_ip_addr a = { .ip4 = v->ipv4.src }, am = { .ip4 = m->ipv4.src };

        put_ip(f, "src", false, &a, &am);
        a.ip4 = v->ipv4.dst;
        am.ip4 = m->ipv4.dst;
        put_ip(f, "dst", false, &a, &am);
        put_uint(f, "tos", v->ipv4.tos, m->ipv4.tos, 8, true);
        put_uint(f, "ttl", v->ipv4.ttl, m->ipv4.ttl, 8, false);
        break;
    }
    case ESW_SET_IPV6: {
        union esw_ip_addr a, am;

        a.ip6 = v->ipv6.src;
        am.ip6 = m->ipv6.src;
        put_ip(f, "src", v6, &a, &am);
        a.ip6 = v->ipv6.dst;
        am.ip6 = m->ipv6.dst;
        put_ip(f, "dst", v6, &a, &am);
        put_uint(f, "tclass", v->ipv6.tclass, m->ipv6.tclass, 8, true);
        put_uint(f, "label", ntohl(v->ipv6.label), ntohl(m->ipv6.label), 20,
                 true);
        put_uint(f, "hlimit", v->ipv6.hlimit, m->ipv6.hlimit, 8, false);
        break;
    }
    case ESW_SET_TCP:
    case ESW_SET_UDP:
    case ESW_SET_SCTP:
        put_uint(f, "src", ntohs(v->l4.src), ntohs(m->l4.src), 16, false);
        put_uint(f, "dst", ntohs(v->l4.dst), ntohs(m->l4.dst), 16, false);
        break;
    case ESW_SET_ICMP:
        put_uint(f, "type", v->icmp.type, m->icmp.type, 8, false);
        put_uint(f, "code", v->icmp.code, m->icmp.code, 8, false);
        break;
    case ESW_N_SET_HEADERS:
    default:
        break;
    }
    put(f, "))");
}

/* "encap(vxlan,eth_src=...,eth_dst=...,ip_src=...,ip_dst=...,tos=0,
 * ttl=64,df,udp_dst=4789,csum,vni=0x7b,opts=0x...,ports=32768-61000)". */
static void
format_encap(struct fmt *f, const struct esw_encap *e)
{
    const uint8_t *h = e->header;
    bool ipv6 = h[12] == 0x86 && h[13] == 0xdd;
    size_t l4 = ESW_ETH_HDR_LEN + (ipv6 ? 40 : 20);
    const uint8_t *l3 = h + ESW_ETH_HDR_LEN, *udp = h + l4, *t = udp + 8;
    char s[INET6_ADDRSTRLEN];
    struct esw_eth_addr mac;
    size_t opts_len = 0;

    put(f, "encap(%s", esw_tunnel_type_name(e->type));
    if (e->header_len < l4 + 16) {
        put(f, ",header_len=%d)", e->header_len);
        return;
    }
    memcpy(mac.ea, h + 6, 6);
    put(f, ",eth_src=%s", esw_eth_addr_format(&mac, s, sizeof s));
    memcpy(mac.ea, h, 6);
    put(f, ",eth_dst=%s", esw_eth_addr_format(&mac, s, sizeof s));
    inet_ntop(ipv6 ? AF_INET6 : AF_INET, ipv6 ? l3 + 8 : l3 + 12, s,
              sizeof s);
    put(f, ",ip_src=%s", s);
    inet_ntop(ipv6 ? AF_INET6 : AF_INET, ipv6 ? l3 + 24 : l3 + 16, s,
              sizeof s);
    put(f, ",ip_dst=%s", s);
    if (ipv6) {
        put(f, ",tclass=%#x,hlimit=%d", (l3[0] << 4 | l3[1] >> 4) & 0xff,
            l3[7]);
    } else {
        put(f, ",tos=%#x,ttl=%d%s", l3[1], l3[8], l3[6] & 0x40 ? ",df" : "");
    }
    put(f, ",udp_dst=%d%s", udp[2] << 8 | udp[3],
        udp[6] | udp[7] ? ",csum" : "");
    put(f, ",vni=%#x", t[4] << 16 | t[5] << 8 | t[6]);
    if (e->type == ESW_TUNNEL_GENEVE) {
        opts_len = (t[0] & 0x3f) * 4;
        if (t[1] & 0x80) {
            put(f, ",oam");
        }
        if (t[1] & 0x40) {
            put(f, ",crit");
        }
    }
    if (opts_len && l4 + 16 + opts_len <= e->header_len) {
        put(f, ",opts=0x");
        for (size_t i = 0; i < opts_len; i++) {
            put(f, "%02x", t[8 + i]);
        }
    }
    put(f, ",ports=%d-%d)", e->port_min, e->port_max);
}

static void
format_actions(struct fmt *f, const struct esw_rule_spec *spec)
{
    char s[ESW_ETH_ADDR_STRLEN];

    if (!spec->n_actions) {
        put(f, "drop");
        return;
    }
    for (size_t i = 0; i < spec->n_actions; i++) {
        const struct esw_action *a = &spec->actions[i];

        put(f, "%s", i ? "," : "");
        switch (a->type) {
        case ESW_ACTION_OUTPUT:
            put(f, "output:%"PRIu32, a->vport);
            break;
        case ESW_ACTION_PUSH_VLAN:
            put(f, "push_vlan(tpid=0x%04x,vid=%d,pcp=%d)", a->vlan.tpid,
                a->vlan.tci & 0xfff, a->vlan.tci >> 13);
            break;
        case ESW_ACTION_SET_ETH_SRC:
        case ESW_ACTION_SET_ETH_DST:
            put(f, "%s(%s)", esw_action_type_name(a->type),
                esw_eth_addr_format(&a->mac, s, sizeof s));
            break;
        case ESW_ACTION_SET:
            format_set(f, &a->set);
            break;
        case ESW_ACTION_HASH:
            put(f, "hash(%s,basis=%#"PRIx32"%s)",
                esw_hash_alg_name(a->hash.alg), a->hash.basis,
                a->hash.max_vlans == 2 ? ",vlans=2" : "");
            break;
        case ESW_ACTION_RECIRC:
            put(f, "recirc(%"PRIu32")", a->chain);
            break;
        case ESW_ACTION_METER:
            put(f, "meter(%"PRIu32")", a->meter);
            break;
        case ESW_ACTION_ENCAP:
            format_encap(f, &a->encap);
            break;
        case ESW_ACTION_DECAP:
            put(f, "decap(%s,tun_port=%"PRIu32")",
                esw_tunnel_type_name(a->decap.type), a->decap.tun_port);
            break;
        case ESW_ACTION_CT:
            put(f, "ct(zone=%u%s)", a->ct.zone, a->ct.nat ? ",nat" : "");
            break;
        case ESW_ACTION_DROP:
        case ESW_ACTION_POP_VLAN:
        case ESW_ACTION_COUNT:
        case ESW_ACTION_CT_CLEAR:
        case ESW_N_ACTION_TYPES:
        default:
            put(f, "%s", esw_action_type_name(a->type));
            break;
        }
    }
}

char *
esw_rule_spec_format(const struct esw_rule_spec *spec, char *buf,
                     size_t size)
{
    struct fmt f = { .buf = buf, .size = size, .first = true };

    if (!size) {
        return buf;
    }
    buf[0] = '\0';
    put(&f, "priority=%"PRIu32, spec->priority);
    f.first = false;
    format_match(&f, &spec->match, &spec->mask);
    put(&f, " actions=");
    format_actions(&f, spec);
    return buf;
}

/* As OVS's ct_dpif_format_tuple(). */
static void
put_ct_tuple(struct fmt *f, const char *name, const struct esw_ct_spec *spec,
             const struct esw_ct_tuple *t)
{
    char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
    int af = spec->ipv6 ? AF_INET6 : AF_INET;

    inet_ntop(af, &t->src, src, sizeof src);
    inet_ntop(af, &t->dst, dst, sizeof dst);
    if (t->ip_proto == IPPROTO_ICMP || t->ip_proto == IPPROTO_ICMPV6) {
        put(f, ",%s=(src=%s,dst=%s,id=%u,type=%u,code=%u)", name, src, dst,
            ntohs(t->icmp_id), t->icmp_type, t->icmp_code);
    } else {
        put(f, ",%s=(src=%s,dst=%s,sport=%u,dport=%u)", name, src, dst,
            ntohs(t->src_port), ntohs(t->dst_port));
    }
}

char *
esw_ct_spec_format(const struct esw_ct_spec *spec, char *buf, size_t size)
{
    static const uint64_t all[2] = { UINT64_MAX, UINT64_MAX };
    struct fmt f = { .buf = buf, .size = size, .first = false };

    if (!size) {
        return buf;
    }
    buf[0] = '\0';
    put(&f, "%s", (spec->orig.ip_proto == IPPROTO_TCP ? "tcp"
                   : spec->orig.ip_proto == IPPROTO_UDP ? "udp"
                   : spec->orig.ip_proto == IPPROTO_ICMP ? "icmp"
                   : spec->orig.ip_proto == IPPROTO_ICMPV6 ? "icmpv6"
                   : "?"));
    put_ct_tuple(&f, "orig", spec, &spec->orig);
    put_ct_tuple(&f, "reply", spec, &spec->reply);
    if (spec->zone) {
        put(&f, ",zone=%u", spec->zone);
    }
    if (spec->mark) {
        put(&f, ",mark=%"PRIu32, spec->mark);
    }
    if (spec->label[0] || spec->label[1]) {
        put_label(&f, "labels", spec->label, all);
    }
    if (spec->nat & ESW_CT_NAT_SRC) {
        put(&f, ",nat=snat");
    } else if (spec->nat & ESW_CT_NAT_DST) {
        put(&f, ",nat=dnat");
    }
    return buf;
}
