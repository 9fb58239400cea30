/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Megaflow -> eSwitch rule translation.  See offload-xlate.h.
 *
 * The match is translated by "consuming" a copy of its mask: every field
 * the rule reproduces is copied into the rule and zeroed in the copy; any
 * bit left over names the first unsupported field. */

#include <config.h>

#include "offload-xlate.h"

#include <stdarg.h>
#include <string.h>

#include "flow.h"
#include "netlink.h"
#include "odp-netlink.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "netdev-native-tnl.h"
#include "packets.h"
#include "util.h"

const char *
offload_reason_name(enum offload_reason reason)
{
    switch (reason) {
    case OFFLOAD_OK: return "offloaded";
    case OFFLOAD_SLOW_PATH: return "slow-path";
    case OFFLOAD_UNSUPPORTED_ACTION: return "unsupported-action";
    case OFFLOAD_UNSUPPORTED_MATCH: return "unsupported-match";
    case OFFLOAD_DEVICE_FULL: return "device-full";
    case OFFLOAD_DEVICE_ERROR: return "device-error";
    case OFFLOAD_DISABLED: return "disabled";
    case OFFLOAD_PORT_REMOVED: return "port-removed";
    case OFFLOAD_N_REASONS: break;
    }
    return "unknown";
}

/* Fields of 'struct flow' that may be left in a consumed mask, in the order
 * they are reported. */
struct flow_field {
    const char *name;
    size_t ofs, len;
};

#define FLOW_FIELD(NAME, MEMBER) \
    { NAME, offsetof(struct flow, MEMBER), \
      sizeof ((struct flow *) 0)->MEMBER }

static const struct flow_field flow_fields[] = {
    FLOW_FIELD("tunnel", tunnel),
    FLOW_FIELD("metadata", metadata),
    FLOW_FIELD("reg", regs),
    FLOW_FIELD("skb_priority", skb_priority),
    FLOW_FIELD("pkt_mark", pkt_mark),
    FLOW_FIELD("dp_hash", dp_hash),
    FLOW_FIELD("recirc_id", recirc_id),
    FLOW_FIELD("ct_state", ct_state),
    FLOW_FIELD("ct_nw_proto", ct_nw_proto),
    FLOW_FIELD("ct_zone", ct_zone),
    FLOW_FIELD("ct_mark", ct_mark),
    FLOW_FIELD("packet_type", packet_type),
    FLOW_FIELD("ct_label", ct_label),
    FLOW_FIELD("conj_id", conj_id),
    FLOW_FIELD("actset_output", actset_output),
    FLOW_FIELD("eth_dst", dl_dst),
    FLOW_FIELD("eth_src", dl_src),
    FLOW_FIELD("eth_type", dl_type),
    FLOW_FIELD("vlan", vlans[0]),
    FLOW_FIELD("vlan2", vlans[1]),
    FLOW_FIELD("mpls", mpls_lse),
    FLOW_FIELD("nw_src", nw_src),
    FLOW_FIELD("nw_dst", nw_dst),
    FLOW_FIELD("ct_nw_src", ct_nw_src),
    FLOW_FIELD("ct_nw_dst", ct_nw_dst),
    FLOW_FIELD("ipv6_src", ipv6_src),
    FLOW_FIELD("ipv6_dst", ipv6_dst),
    FLOW_FIELD("ct_ipv6_src", ct_ipv6_src),
    FLOW_FIELD("ct_ipv6_dst", ct_ipv6_dst),
    FLOW_FIELD("ipv6_label", ipv6_label),
    FLOW_FIELD("nw_frag", nw_frag),
    FLOW_FIELD("nw_tos", nw_tos),
    FLOW_FIELD("nw_ttl", nw_ttl),
    FLOW_FIELD("nw_proto", nw_proto),
    FLOW_FIELD("nd_target", nd_target),
    FLOW_FIELD("arp_sha", arp_sha),
    FLOW_FIELD("arp_tha", arp_tha),
    FLOW_FIELD("tcp_flags", tcp_flags),
    FLOW_FIELD("nsh", nsh),
    FLOW_FIELD("tp_src", tp_src),
    FLOW_FIELD("tp_dst", tp_dst),
    FLOW_FIELD("ct_tp_src", ct_tp_src),
    FLOW_FIELD("ct_tp_dst", ct_tp_dst),
    FLOW_FIELD("igmp_group_ip4", igmp_group_ip4),
};

static enum offload_reason
unsupported_match(struct ds *reason, const char *field)
{
    ds_put_format(reason, "unsupported match: %s", field);
    return OFFLOAD_UNSUPPORTED_MATCH;
}

/* Translates the VLAN header 'i' of the match.  OVS marks a present tag
 * with the CFI bit of 'tci' (the frame's DEI bit is not kept); the device
 * marks it with a nonzero TPID, which its parser only ever sets to 0x8100
 * or 0x88a8, both with bit 0x8000 set. */
static void
xlate_vlan(const struct flow *flow, struct flow *mask, int i,
           struct esw_vlan *key, struct esw_vlan *key_mask)
{
    uint16_t tci_m = ntohs(mask->vlans[i].tci);
    uint16_t tci_v = ntohs(flow->vlans[i].tci) & tci_m;
    uint16_t tpid_m = ntohs(mask->vlans[i].tpid);
    uint16_t tpid_v = ntohs(flow->vlans[i].tpid) & tpid_m;

    if (tci_m & VLAN_CFI) {
        if (tci_v & VLAN_CFI) {
            if (!(tpid_m & 0x8000)) {
                tpid_m |= 0x8000;
                tpid_v |= 0x8000;
            }
        } else {
            tpid_m = 0xffff;
            tpid_v = 0;
        }
    }
    key->tpid = htons(tpid_v);
    key_mask->tpid = htons(tpid_m);
    key->tci = htons(tci_v & ~VLAN_CFI);
    key_mask->tci = htons(tci_m & ~VLAN_CFI);
    memset(&mask->vlans[i], 0, sizeof mask->vlans[i]);
}

/* OVS's parser stops after 'flow_vlan_limit' tags (other_config:vlan-limit,
 * 1 by default), the device's after ESW_MAX_VLANS: a frame with more tags
 * than OVS parses has, for OVS, the next tag's TPID as its Ethertype and
 * nothing beyond, while the device sees that tag and what follows it.  A
 * device rule must never match a frame that OVS's flow would not, so the
 * Ethertype OVS matched is pinned to OVS's parse depth:
 *
 *   - an Ethertype that is not a TPID follows at most 'limit' tags: the
 *     device must find no tag at position 'limit' (else OVS would have
 *     seen that tag's TPID);
 *
 *   - a TPID means OVS stopped in front of a tag: the device matches that
 *     tag's TPID at position 'limit' instead, and not its own Ethertype,
 *     which lies further in.  (A frame whose tag there is truncated then
 *     misses in the device and OVS handles it: a miss is always safe.)
 *
 * Nothing to do when OVS parses as deep as the device, or when the match
 * already says there is no tag before position 'limit'. */
static enum offload_reason
xlate_vlan_limit(const struct flow *flow, struct esw_key *k,
                 struct esw_key *m, struct ds *reason)
{
    int limit = flow_vlan_limit;

    if (limit >= ESW_MAX_VLANS) {
        return OFFLOAD_OK;
    }
    for (int i = 0; i < limit; i++) {
        if (m->vlans[i].tpid == OVS_BE16_MAX && !k->vlans[i].tpid) {
            return OFFLOAD_OK;
        }
    }
    if (m->eth_type != OVS_BE16_MAX) {
        return unsupported_match(reason, "eth_type with a partial mask");
    }
    m->vlans[limit].tpid = OVS_BE16_MAX;
    if (eth_type_vlan(flow->dl_type)) {
        k->vlans[limit].tpid = flow->dl_type;
        k->eth_type = m->eth_type = 0;
    } else {
        k->vlans[limit].tpid = 0;
    }
    return OFFLOAD_OK;
}

/* Like is_all_zeros(mask, sizeof *mask), a word at a time ('struct flow'
 * is a whole number of 64-bit words, see FLOW_U64S). */
static bool
flow_mask_is_empty(const struct flow *mask)
{
    const uint64_t *w = (const uint64_t *) mask;
    uint64_t any = 0;

    for (size_t i = 0; i < FLOW_U64S; i++) {
        any |= w[i];
    }
    return !any;
}

/* The tunnel metadata of a flow on tunnel port ctx->tun_port, as OVS's
 * userspace datapath filled it when it popped the header (Geneve options
 * raw, "udpif"). */
static enum offload_reason
xlate_tunnel_match(const struct offload_xlate_ctx *ctx,
                   const struct flow *flow, struct flow *mask,
                   struct esw_key *k, struct esw_key *m, struct ds *reason)
{
    const struct flow_tnl *ft = &flow->tunnel;
    struct flow_tnl *mt = &mask->tunnel;
    const struct tun_metadata *md = &ft->metadata;
    const struct tun_metadata *mmd = &mt->metadata;
    bool v4 = mt->ip_src || mt->ip_dst;
    bool v6 = (!ipv6_mask_is_any(&mt->ipv6_src)
               || !ipv6_mask_is_any(&mt->ipv6_dst));

    if (mt->gbp_id || mt->gbp_flags) {
        return unsupported_match(reason, "tunnel gbp");
    }
    if (mt->erspan_ver || mt->erspan_idx || mt->erspan_dir
        || mt->erspan_hwid) {
        return unsupported_match(reason, "tunnel erspan");
    }
    if (mt->gtpu_flags || mt->gtpu_msgtype) {
        return unsupported_match(reason, "tunnel gtpu");
    }
    if (v4 && v6) {
        /* An IPv4 tunnel's IPv6 addresses are zero: that it is IPv4 says
         * so. */
        if (!ipv6_addr_equals(&ft->ipv6_src, &in6addr_any)
            || !ipv6_addr_equals(&ft->ipv6_dst, &in6addr_any)) {
            return unsupported_match(reason,
                                     "tunnel ipv4 and ipv6 addresses");
        }
        v6 = false;
    }
    k->tun_port = ctx->tun_port;
    m->tun_port = UINT32_MAX;
    memcpy(&k->tun_id, &ft->tun_id, sizeof k->tun_id);
    memcpy(&m->tun_id, &mt->tun_id, sizeof m->tun_id);
    if (v4) {
        k->tun_src.ip4 = ft->ip_src;
        m->tun_src.ip4 = mt->ip_src;
        k->tun_dst.ip4 = ft->ip_dst;
        m->tun_dst.ip4 = mt->ip_dst;
        m->tun_flags |= ESW_TUN_F_IPV6;
    } else if (v6) {
        k->tun_src.ip6 = ft->ipv6_src;
        m->tun_src.ip6 = mt->ipv6_src;
        k->tun_dst.ip6 = ft->ipv6_dst;
        m->tun_dst.ip6 = mt->ipv6_dst;
        k->tun_flags |= ESW_TUN_F_IPV6;
        m->tun_flags |= ESW_TUN_F_IPV6;
    }
    /* FLOW_TNL_F_* and ESW_TUN_F_* have the same values (checked at build
     * time); OVS's "udpif" bit says how the options are kept, the device
     * keeps them raw. */
    BUILD_ASSERT(FLOW_TNL_F_OAM == ESW_TUN_F_OAM
                 && FLOW_TNL_F_DONT_FRAGMENT == ESW_TUN_F_DF
                 && FLOW_TNL_F_CSUM == ESW_TUN_F_CSUM
                 && FLOW_TNL_F_KEY == ESW_TUN_F_KEY
                 && FLOW_TNL_F_MASK == (ESW_TUN_F_OAM | ESW_TUN_F_DF
                                        | ESW_TUN_F_CSUM | ESW_TUN_F_KEY));
    k->tun_flags |= ft->flags & mt->flags & FLOW_TNL_F_MASK;
    m->tun_flags |= mt->flags & FLOW_TNL_F_MASK;
    k->tun_tos = ft->ip_tos;
    m->tun_tos = mt->ip_tos;
    k->tun_ttl = ft->ip_ttl;
    m->tun_ttl = mt->ip_ttl;
    k->tun_tp_src = ft->tp_src;
    m->tun_tp_src = mt->tp_src;
    k->tun_tp_dst = ft->tp_dst;
    m->tun_tp_dst = mt->tp_dst;

    if (ft->flags & FLOW_TNL_F_UDPIF) {
        size_t n = md->present.len;     /* At most 255: within opts. */

        for (size_t i = ESW_TUN_OPTS_MAX; i < n; i++) {
            if (mmd->opts.u8[i]) {
                ds_put_format(reason, "unsupported match: geneve options "
                              "beyond their first %d bytes (%"PRIuSIZE
                              " bytes)", ESW_TUN_OPTS_MAX, n);
                return OFFLOAD_UNSUPPORTED_MATCH;
            }
        }
        k->tun_opts_len = md->present.len;
        m->tun_opts_len = mmd->present.len;
        memcpy(k->tun_opts, md->opts.u8, ESW_TUN_OPTS_MAX);
        memcpy(m->tun_opts, mmd->opts.u8, ESW_TUN_OPTS_MAX);
    } else if (mmd->present.map) {
        return unsupported_match(reason, "tunnel metadata (not raw)");
    }
    return OFFLOAD_OK;
}

static enum offload_reason
xlate_match(const struct offload_xlate_ctx *ctx, const struct match *match,
            struct esw_rule_spec *spec, struct ds *reason)
{
    const struct flow *flow = &match->flow;
    struct esw_key *k = &spec->match, *m = &spec->mask;
    struct flow mask = match->wc.masks;

    if (ctx->tun_port) {
        enum offload_reason r = xlate_tunnel_match(ctx, flow, &mask, k, m,
                                                   reason);
        if (r) {
            return r;
        }
    } else if (flow_tnl_dst_is_set(&flow->tunnel)) {
        return unsupported_match(reason, "tunnel");
    }
    memset(&mask.tunnel, 0, sizeof mask.tunnel);

    k->in_vport = ctx->in_vport;
    m->in_vport = UINT32_MAX;
    memset(&mask.in_port, 0, sizeof mask.in_port);

    /* The recirculation id is the chain: a rule lives in one chain. */
    if (mask.recirc_id && mask.recirc_id != UINT32_MAX) {
        return unsupported_match(reason, "recirc_id with a partial mask");
    }
    if (mask.recirc_id && flow->recirc_id) {
        k->chain = flow->recirc_id;
        m->chain = UINT32_MAX;
    }
    mask.recirc_id = 0;
    k->dp_hash = flow->dp_hash;
    m->dp_hash = mask.dp_hash;
    mask.dp_hash = 0;
    if (mask.packet_type && flow->packet_type != htonl(PT_ETH)) {
        return unsupported_match(reason, "packet_type");
    }
    mask.packet_type = 0;

    /* Connection tracking metadata: what a CT action left (all zero
     * before one, as OVS's before its first ct()).  The device's CT only
     * ever sets +trk+est (+rpl, +snat, +dnat): a flow for +new, +inv or
     * +rel packets is a rule that never gets a hit, its packets missing at
     * the CT action. */
    k->ct_state = flow->ct_state;
    m->ct_state = mask.ct_state;
    k->ct_zone = flow->ct_zone;
    m->ct_zone = mask.ct_zone;
    k->ct_mark = flow->ct_mark;
    m->ct_mark = mask.ct_mark;
    k->ct_label[0] = flow->ct_label.u64.lo;
    m->ct_label[0] = mask.ct_label.u64.lo;
    k->ct_label[1] = flow->ct_label.u64.hi;
    m->ct_label[1] = mask.ct_label.u64.hi;
    mask.ct_state = 0;
    mask.ct_zone = 0;
    mask.ct_mark = 0;
    mask.ct_label = OVS_U128_ZERO;

    memcpy(k->dst.ea, flow->dl_dst.ea, ETH_ADDR_LEN);
    memcpy(m->dst.ea, mask.dl_dst.ea, ETH_ADDR_LEN);
    memcpy(k->src.ea, flow->dl_src.ea, ETH_ADDR_LEN);
    memcpy(m->src.ea, mask.dl_src.ea, ETH_ADDR_LEN);
    k->eth_type = flow->dl_type;
    m->eth_type = mask.dl_type;
    mask.dl_dst = eth_addr_zero;
    mask.dl_src = eth_addr_zero;
    mask.dl_type = 0;

    for (int i = 0; i < ESW_MAX_VLANS && i < FLOW_MAX_VLAN_HEADERS; i++) {
        xlate_vlan(flow, &mask, i, &k->vlans[i], &m->vlans[i]);
    }
    if (m->eth_type) {
        enum offload_reason r = xlate_vlan_limit(flow, k, m, reason);

        if (r != OFFLOAD_OK) {
            return r;
        }
    }

    if (m->eth_type == OVS_BE16_MAX) {
        ovs_be16 type = flow->dl_type;

        if (type == htons(ETH_TYPE_IP) || type == htons(ETH_TYPE_ARP)) {
            /* The device, like OVS, keeps the ARP SPA/TPA there. */
            k->ip_src.ip4 = flow->nw_src;
            m->ip_src.ip4 = mask.nw_src;
            k->ip_dst.ip4 = flow->nw_dst;
            m->ip_dst.ip4 = mask.nw_dst;
            mask.nw_src = mask.nw_dst = 0;
        } else if (type == htons(ETH_TYPE_IPV6)) {
            k->ip_src.ip6 = flow->ipv6_src;
            m->ip_src.ip6 = mask.ipv6_src;
            k->ip_dst.ip6 = flow->ipv6_dst;
            m->ip_dst.ip6 = mask.ipv6_dst;
            mask.ipv6_src = mask.ipv6_dst = in6addr_any;
            k->ipv6_label = flow->ipv6_label & htonl(IPV6_LABEL_MASK);
            m->ipv6_label = mask.ipv6_label & htonl(IPV6_LABEL_MASK);
            mask.ipv6_label &= ~htonl(IPV6_LABEL_MASK);
        }
        if (type == htons(ETH_TYPE_IP) || type == htons(ETH_TYPE_ARP)
            || type == htons(ETH_TYPE_IPV6)) {
            k->ip_proto = flow->nw_proto;
            m->ip_proto = mask.nw_proto;
            k->ip_tos = flow->nw_tos;
            m->ip_tos = mask.nw_tos;
            k->ip_ttl = flow->nw_ttl;
            m->ip_ttl = mask.nw_ttl;
            k->ip_frag = flow->nw_frag;
            m->ip_frag = mask.nw_frag;
            mask.nw_proto = mask.nw_tos = mask.nw_ttl = mask.nw_frag = 0;
        }
        if (type == htons(ETH_TYPE_IP) || type == htons(ETH_TYPE_IPV6)) {
            /* L4 ports and ICMP type/code: same layout in both. */
            k->tp_src = flow->tp_src;
            m->tp_src = mask.tp_src;
            k->tp_dst = flow->tp_dst;
            m->tp_dst = mask.tp_dst;
            k->tcp_flags = flow->tcp_flags & htons(0x0fff);
            m->tcp_flags = mask.tcp_flags & htons(0x0fff);
            mask.tp_src = mask.tp_dst = 0;
            mask.tcp_flags &= ~htons(0x0fff);
        }
    }

    if (!flow_mask_is_empty(&mask)) {
        /* Rare: name the first field left. */
        for (size_t i = 0; i < ARRAY_SIZE(flow_fields); i++) {
            const struct flow_field *f = &flow_fields[i];

            if (!is_all_zeros((const uint8_t *) &mask + f->ofs, f->len)) {
                return unsupported_match(reason, f->name);
            }
        }
        return unsupported_match(reason, "padding");
    }

    /* Keep the rule canonical: no match bits outside the mask. */
    for (int i = 0; i < ESW_KEY_WORDS; i++) {
        k->w[i] &= m->w[i];
    }
    return OFFLOAD_OK;
}

static const char *
action_name(enum ovs_action_attr type)
{
    switch (type) {
    case OVS_ACTION_ATTR_USERSPACE: return "userspace";
    case OVS_ACTION_ATTR_SAMPLE: return "sample";
    case OVS_ACTION_ATTR_PUSH_MPLS: return "push_mpls";
    case OVS_ACTION_ATTR_POP_MPLS: return "pop_mpls";
    case OVS_ACTION_ATTR_CT: return "ct";
    case OVS_ACTION_ATTR_TRUNC: return "trunc";
    case OVS_ACTION_ATTR_PUSH_ETH: return "push_eth";
    case OVS_ACTION_ATTR_POP_ETH: return "pop_eth";
    case OVS_ACTION_ATTR_CT_CLEAR: return "ct_clear";
    case OVS_ACTION_ATTR_PUSH_NSH: return "push_nsh";
    case OVS_ACTION_ATTR_POP_NSH: return "pop_nsh";
    case OVS_ACTION_ATTR_CLONE: return "clone";
    case OVS_ACTION_ATTR_CHECK_PKT_LEN: return "check_pkt_len";
    case OVS_ACTION_ATTR_ADD_MPLS: return "add_mpls";
    case OVS_ACTION_ATTR_TUNNEL_PUSH: return "tnl_push";
    case OVS_ACTION_ATTR_TUNNEL_POP: return "tnl_pop";
    case OVS_ACTION_ATTR_LB_OUTPUT: return "lb_output";
    case OVS_ACTION_ATTR_RECIRC:
    case OVS_ACTION_ATTR_HASH:
    case OVS_ACTION_ATTR_METER:
    case OVS_ACTION_ATTR_UNSPEC:
    case OVS_ACTION_ATTR_OUTPUT:
    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_PUSH_VLAN:
    case OVS_ACTION_ATTR_POP_VLAN:
    case OVS_ACTION_ATTR_SET_MASKED:
    case OVS_ACTION_ATTR_DROP:
    case __OVS_ACTION_ATTR_MAX:
    default:
        break;
    }
    return NULL;
}

static const char *
key_attr_name(enum ovs_key_attr type)
{
    switch (type) {
    case OVS_KEY_ATTR_PRIORITY: return "skb_priority";
    case OVS_KEY_ATTR_ETHERNET: return "eth";
    case OVS_KEY_ATTR_IPV4: return "ipv4";
    case OVS_KEY_ATTR_IPV6: return "ipv6";
    case OVS_KEY_ATTR_TCP: return "tcp";
    case OVS_KEY_ATTR_UDP: return "udp";
    case OVS_KEY_ATTR_SCTP: return "sctp";
    case OVS_KEY_ATTR_ICMP: return "icmp";
    case OVS_KEY_ATTR_ICMPV6: return "icmpv6";
    case OVS_KEY_ATTR_ARP: return "arp";
    case OVS_KEY_ATTR_ND: return "nd";
    case OVS_KEY_ATTR_SKB_MARK: return "skb_mark";
    case OVS_KEY_ATTR_TUNNEL: return "tunnel";
    case OVS_KEY_ATTR_MPLS: return "mpls";
    case OVS_KEY_ATTR_CT_STATE: return "ct_state";
    case OVS_KEY_ATTR_CT_ZONE: return "ct_zone";
    case OVS_KEY_ATTR_CT_MARK: return "ct_mark";
    case OVS_KEY_ATTR_CT_LABELS: return "ct_label";
    case OVS_KEY_ATTR_NSH: return "nsh";
    default: return "other";
    }
}

static bool
eth_is_ones(const uint8_t ea[ETH_ADDR_LEN])
{
    for (int i = 0; i < ETH_ADDR_LEN; i++) {
        if (ea[i] != 0xff) {
            return false;
        }
    }
    return true;
}

/* Adds 'what' to the list of unsupported actions in 'bad'. */
static void
unsupported_action(struct ds *bad, const char *what)
{
    if (bad->length) {
        ds_put_cstr(bad, ", ");
    }
    ds_put_cstr(bad, what);
}

static enum offload_reason
add_action(struct esw_rule_spec *spec, const struct esw_action *a,
           struct ds *reason)
{
    if (spec->n_actions >= ESW_MAX_ACTIONS) {
        ds_put_format(reason, "unsupported action: more than %d actions",
                      ESW_MAX_ACTIONS);
        return OFFLOAD_UNSUPPORTED_ACTION;
    }
    spec->actions[spec->n_actions++] = *a;
    return OFFLOAD_OK;
}

/* Whether the 'n' bytes of 'value' have bits outside 'mask'. */
static bool
bits_outside_mask(const void *value_, const void *mask_, size_t n)
{
    const uint8_t *value = value_, *mask = mask_;

    for (size_t i = 0; i < n; i++) {
        if (value[i] & ~mask[i]) {
            return true;
        }
    }
    return false;
}

/* SET or SET_MASKED of the Ethernet addresses.  Whole addresses become
 * SET_ETH_SRC/DST; partial masks a masked SET of the eth group. */
static enum offload_reason
xlate_set_eth(const struct ovs_key_ethernet *value,
              const struct ovs_key_ethernet *mask,
              struct esw_rule_spec *spec, struct ds *reason)
{
    struct esw_action set = { .type = ESW_ACTION_SET };
    enum offload_reason r = OFFLOAD_OK;
    bool partial = false;

    set.set.header = ESW_SET_ETH;
    for (int i = 0; i < 2 && !r; i++) {
        const uint8_t *v = i ? value->eth_dst.ea : value->eth_src.ea;
        const uint8_t *mk = (!mask ? NULL
                             : i ? mask->eth_dst.ea : mask->eth_src.ea);
        struct esw_action act = {
            .type = i ? ESW_ACTION_SET_ETH_DST : ESW_ACTION_SET_ETH_SRC,
        };

        if (mk && is_all_zeros(mk, ETH_ADDR_LEN)) {
            continue;
        }
        if (mk && !eth_is_ones(mk)) {
            struct esw_set_eth *sv = &set.set.value.eth, *sm = &set.set.mask.eth;

            memcpy(i ? sv->dst.ea : sv->src.ea, v, ETH_ADDR_LEN);
            memcpy(i ? sm->dst.ea : sm->src.ea, mk, ETH_ADDR_LEN);
            partial = true;
            continue;
        }
        memcpy(act.mac.ea, v, ETH_ADDR_LEN);
        r = add_action(spec, &act, reason);
    }
    if (!r && partial) {
        r = add_action(spec, &set, reason);
    }
    return r;
}

/* SET or SET_MASKED of a header other than Ethernet: the device's masked
 * SET of the same group.  'mask' is NULL for SET (every field). */
static enum offload_reason
xlate_set_header(enum ovs_key_attr type, const void *value, const void *mask,
                 struct esw_rule_spec *spec, struct ds *bad,
                 struct ds *reason)
{
    struct esw_action act = { .type = ESW_ACTION_SET };
    union esw_set_value *v = &act.set.value, *m = &act.set.mask;
    char buf[64];

    switch (type) {
    case OVS_KEY_ATTR_IPV4: {
        const struct ovs_key_ipv4 *kv = value, *km = mask;

        if (km && (km->ipv4_proto || km->ipv4_frag)) {
            unsupported_action(bad, "set(ipv4) of proto or frag");
            return OFFLOAD_OK;
        }
        act.set.header = ESW_SET_IPV4;
        v->ipv4.src = kv->ipv4_src;
        v->ipv4.dst = kv->ipv4_dst;
        v->ipv4.tos = kv->ipv4_tos;
        v->ipv4.ttl = kv->ipv4_ttl;
        m->ipv4.src = km ? km->ipv4_src : OVS_BE32_MAX;
        m->ipv4.dst = km ? km->ipv4_dst : OVS_BE32_MAX;
        m->ipv4.tos = km ? km->ipv4_tos : UINT8_MAX;
        m->ipv4.ttl = km ? km->ipv4_ttl : UINT8_MAX;
        break;
    }
    case OVS_KEY_ATTR_IPV6: {
        const struct ovs_key_ipv6 *kv = value, *km = mask;

        if (km && (km->ipv6_proto || km->ipv6_frag)) {
            unsupported_action(bad, "set(ipv6) of proto or frag");
            return OFFLOAD_OK;
        }
        act.set.header = ESW_SET_IPV6;
        memcpy(&v->ipv6.src, &kv->ipv6_src, 16);
        memcpy(&v->ipv6.dst, &kv->ipv6_dst, 16);
        v->ipv6.label = kv->ipv6_label;
        v->ipv6.tclass = kv->ipv6_tclass;
        v->ipv6.hlimit = kv->ipv6_hlimit;
        if (km) {
            memcpy(&m->ipv6.src, &km->ipv6_src, 16);
            memcpy(&m->ipv6.dst, &km->ipv6_dst, 16);
            m->ipv6.label = km->ipv6_label;
            m->ipv6.tclass = km->ipv6_tclass;
            m->ipv6.hlimit = km->ipv6_hlimit;
        } else {
            memset(&m->ipv6.src, 0xff, 16);
            memset(&m->ipv6.dst, 0xff, 16);
            m->ipv6.label = htonl(IPV6_LABEL_MASK);
            m->ipv6.tclass = m->ipv6.hlimit = UINT8_MAX;
        }
        break;
    }
    case OVS_KEY_ATTR_TCP:
    case OVS_KEY_ATTR_UDP:
    case OVS_KEY_ATTR_SCTP: {
        /* ovs_key_tcp, _udp and _sctp are the same two ports. */
        const struct ovs_key_tcp *kv = value, *km = mask;

        act.set.header = (type == OVS_KEY_ATTR_TCP ? ESW_SET_TCP
                          : type == OVS_KEY_ATTR_UDP ? ESW_SET_UDP
                          : ESW_SET_SCTP);
        v->l4.src = kv->tcp_src;
        v->l4.dst = kv->tcp_dst;
        m->l4.src = km ? km->tcp_src : OVS_BE16_MAX;
        m->l4.dst = km ? km->tcp_dst : OVS_BE16_MAX;
        break;
    }
    case OVS_KEY_ATTR_ICMP:
    case OVS_KEY_ATTR_ICMPV6: {
        /* OVS sets ICMP only whole (its masked form does not exist). */
        const struct ovs_key_icmp *kv = value;

        if (mask) {
            snprintf(buf, sizeof buf, "set_masked(%s)", key_attr_name(type));
            unsupported_action(bad, buf);
            return OFFLOAD_OK;
        }
        act.set.header = ESW_SET_ICMP;
        v->icmp.type = kv->icmp_type;
        v->icmp.code = kv->icmp_code;
        m->icmp.type = m->icmp.code = UINT8_MAX;
        break;
    }
    default:
        OVS_NOT_REACHED();
    }
    if (bits_outside_mask(v, m, sizeof *v)) {
        /* OVS would OR them in; OVS itself never emits this. */
        snprintf(buf, sizeof buf, "set(%s) with value bits outside its "
                 "mask", key_attr_name(type));
        unsupported_action(bad, buf);
        return OFFLOAD_OK;
    }
    return add_action(spec, &act, reason);
}

/* Size of the key of a set action of 'type' that the device can do, or 0
 * if it cannot. */
static size_t
settable_key_size(enum ovs_key_attr type)
{
    switch (type) {
    case OVS_KEY_ATTR_ETHERNET: return sizeof(struct ovs_key_ethernet);
    case OVS_KEY_ATTR_IPV4: return sizeof(struct ovs_key_ipv4);
    case OVS_KEY_ATTR_IPV6: return sizeof(struct ovs_key_ipv6);
    case OVS_KEY_ATTR_TCP: return sizeof(struct ovs_key_tcp);
    case OVS_KEY_ATTR_UDP: return sizeof(struct ovs_key_udp);
    case OVS_KEY_ATTR_SCTP: return sizeof(struct ovs_key_sctp);
    case OVS_KEY_ATTR_ICMP:
    case OVS_KEY_ATTR_ICMPV6: return sizeof(struct ovs_key_icmp);
    default: return 0;
    }
}

/* SET or SET_MASKED; what the device cannot do is added to 'bad'. */
static enum offload_reason
xlate_set(const struct nlattr *a, bool masked, struct esw_rule_spec *spec,
          struct ds *bad, struct ds *reason)
{
    const struct nlattr *key = nl_attr_get(a);
    enum ovs_key_attr type = nl_attr_type(key);
    size_t size = settable_key_size(type);
    const void *value, *mask;

    if (!size || nl_attr_get_size(key) != (masked ? 2 : 1) * size) {
        char buf[32];

        snprintf(buf, sizeof buf, "set(%s)", key_attr_name(type));
        unsupported_action(bad, buf);
        return OFFLOAD_OK;
    }
    value = nl_attr_get(key);
    mask = masked ? (const uint8_t *) value + size : NULL;
    if (type == OVS_KEY_ATTR_ETHERNET) {
        if (mask && bits_outside_mask(value, mask, size)) {
            unsupported_action(bad, "set(eth) with value bits outside its "
                               "mask");
            return OFFLOAD_OK;
        }
        return xlate_set_eth(value, mask, spec, reason);
    }
    return xlate_set_header(type, value, mask, spec, bad, reason);
}

/* Appends what the userspace() action 'a' does to 'reason'. */
static void
describe_userspace(const struct nlattr *a, struct ds *reason)
{
    const struct nlattr *cookie_attr
        = nl_attr_find_nested(a, OVS_USERSPACE_ATTR_USERDATA);
    struct user_action_cookie cookie;

    memset(&cookie, 0, sizeof cookie);
    if (cookie_attr) {
        memcpy(&cookie, nl_attr_get(cookie_attr),
               MIN(sizeof cookie, nl_attr_get_size(cookie_attr)));
    }
    switch (cookie.type) {
    case USER_ACTION_COOKIE_CONTROLLER:
        ds_put_cstr(reason, "controller");
        break;
    case USER_ACTION_COOKIE_SLOW_PATH: {
        uint32_t why = cookie.slow_path.reason;
        const char *name = NULL;

#define SPR(ENUM, STRING, EXPLANATION) if (why == ENUM) { name = STRING; }
        SLOW_PATH_REASONS
#undef SPR
        ds_put_format(reason, "%s", name ? name : "slow_path");
        break;
    }
    case USER_ACTION_COOKIE_SFLOW:
        ds_put_cstr(reason, "sflow");
        break;
    case USER_ACTION_COOKIE_FLOW_SAMPLE:
        ds_put_cstr(reason, "flow sample");
        break;
    case USER_ACTION_COOKIE_IPFIX:
        ds_put_cstr(reason, "ipfix");
        break;
    case USER_ACTION_COOKIE_UNSPEC:
    default:
        ds_put_cstr(reason, "userspace");
        break;
    }
}

/* A flow with a userspace() action has ovs-vswitchd see its packets: it
 * is in OVS's slow path by design, whatever its match. */
static bool
xlate_slow_path(const struct nlattr *actions, size_t actions_len,
                struct ds *reason)
{
    const struct nlattr *a;
    size_t left;

    NL_ATTR_FOR_EACH_UNSAFE (a, left, actions, actions_len) {
        if (nl_attr_type(a) == OVS_ACTION_ATTR_USERSPACE) {
            ds_put_cstr(reason, "slow path: ");
            describe_userspace(a, reason);
            ds_put_cstr(reason, " (packets go to ovs-vswitchd)");
            return true;
        }
    }
    return false;
}

/* What the translation of an action list has found so far. */
struct xlate_state {
    struct ds bad;              /* Actions the device cannot do. */
    bool output;                /* An output or a recirculation. */
    int encap;                  /* -1, or the enum esw_tunnel_type of an
                                 * ENCAP before: outputs go to uplinks. */
    bool ct_done;               /* CT and its RECIRC translated: the list
                                 * ends there. */
};

static void
add_bad(struct xlate_state *st, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);

static void
add_bad(struct xlate_state *st, const char *format, ...)
{
    va_list args;

    if (st->bad.length) {
        ds_put_cstr(&st->bad, ", ");
    }
    va_start(args, format);
    ds_put_format_valist(&st->bad, format, args);
    va_end(args);
}

static enum offload_reason
xlate_action_list(const struct offload_xlate_ctx *,
                  const struct nlattr *actions, size_t actions_len,
                  struct esw_rule_spec *, struct xlate_state *,
                  struct ds *reason);

/* OVS_ACTION_ATTR_TUNNEL_PUSH: the header OVS built becomes an ENCAP. */
static enum offload_reason
xlate_tnl_push(const struct nlattr *a, struct esw_rule_spec *spec,
               struct xlate_state *st, struct ds *reason)
{
    const struct ovs_action_push_tnl *data = nl_attr_get(a);
    struct esw_action act;

    memset(&act, 0, sizeof act);
    if (data->tnl_type == OVS_VPORT_TYPE_VXLAN) {
        act.encap.type = ESW_TUNNEL_VXLAN;
    } else if (data->tnl_type == OVS_VPORT_TYPE_GENEVE) {
        act.encap.type = ESW_TUNNEL_GENEVE;
    } else {
        const char *type = (data->tnl_type == OVS_VPORT_TYPE_GRE ? "gre"
                            : data->tnl_type == OVS_VPORT_TYPE_ERSPAN
                            ? "erspan"
                            : data->tnl_type == OVS_VPORT_TYPE_IP6ERSPAN
                            ? "ip6erspan"
                            : data->tnl_type == OVS_VPORT_TYPE_IP6GRE
                            ? "ip6gre"
                            : data->tnl_type == OVS_VPORT_TYPE_GTPU ? "gtpu"
                            : NULL);

        if (type) {
            add_bad(st, "tnl_push(%s): tunnel type not supported", type);
        } else {
            add_bad(st, "tnl_push(type %"PRIu32"): tunnel type not "
                    "supported", data->tnl_type);
        }
        return OFFLOAD_OK;
    }
    if (data->header_len > ESW_ENCAP_HEADER_MAX) {
        add_bad(st, "tnl_push(%s): header of %"PRIu32" bytes, more than "
                "the device's %d (geneve options)",
                esw_tunnel_type_name(act.encap.type), data->header_len,
                ESW_ENCAP_HEADER_MAX);
        return OFFLOAD_OK;
    }
    act.type = ESW_ACTION_ENCAP;
    act.encap.header_len = data->header_len;
    memcpy(act.encap.header, data->header, data->header_len);
    act.encap.port_min = tnl_udp_port_min;
    act.encap.port_max = tnl_udp_port_max;
    act.encap.max_vlans = MIN(MAX(flow_vlan_limit, 1), ESW_MAX_VLANS);
    st->encap = act.encap.type;
    return add_action(spec, &act, reason);
}

/* OVS_ACTION_ATTR_TUNNEL_POP: DECAP, then the lookup goes on in the same
 * chain with the tunnel port's metadata, as OVS recirculates the packet
 * with in_port = the tunnel port and the same recirc_id. */
static enum offload_reason
xlate_tnl_pop(const struct offload_xlate_ctx *ctx, const struct nlattr *a,
              size_t left, struct esw_rule_spec *spec,
              struct xlate_state *st, struct ds *reason)
{
    odp_port_t port = nl_attr_get_odp_port(a);
    char name[OFFLOAD_PORT_NAME_MAX];
    enum esw_tunnel_type type;
    struct esw_action act;
    enum offload_reason r;

    if (!ctx->resolve_tunnel
        || !ctx->resolve_tunnel(port, ctx->aux, &type, name)) {
        add_bad(st, "tnl_pop(%"PRIu32"): %s: tunnel type not supported",
                odp_to_u32(port), ctx->resolve_tunnel ? name : "?");
        return OFFLOAD_OK;
    }
    if (left != NLA_ALIGN(a->nla_len)) {
        add_bad(st, "tnl_pop(%"PRIu32") before other actions",
                odp_to_u32(port));
        return OFFLOAD_OK;
    }
    if (ctx->tun_port) {
        add_bad(st, "tnl_pop(%"PRIu32") of a decapsulated packet",
                odp_to_u32(port));
        return OFFLOAD_OK;
    }
    memset(&act, 0, sizeof act);
    act.type = ESW_ACTION_DECAP;
    act.decap.type = type;
    act.decap.tun_port = odp_to_u32(port);
    act.decap.max_vlans = MIN(MAX(flow_vlan_limit, 1), ESW_MAX_VLANS);
    r = add_action(spec, &act, reason);
    if (!r) {
        memset(&act, 0, sizeof act);
        act.type = ESW_ACTION_RECIRC;
        act.chain = spec->match.chain;
        r = add_action(spec, &act, reason);
    }
    st->output = true;
    return r;
}

/* The device's ct_state bits are OVS's. */
BUILD_ASSERT_DECL(CS_NEW == ESW_CS_NEW && CS_ESTABLISHED == ESW_CS_ESTABLISHED
                  && CS_RELATED == ESW_CS_RELATED
                  && CS_REPLY_DIR == ESW_CS_REPLY_DIR
                  && CS_INVALID == ESW_CS_INVALID
                  && CS_TRACKED == ESW_CS_TRACKED
                  && CS_SRC_NAT == ESW_CS_SRC_NAT
                  && CS_DST_NAT == ESW_CS_DST_NAT);

/* OVS_ACTION_ATTR_CT followed by OVS_ACTION_ATTR_RECIRC, the last action:
 * CT (lookup in the zone, NAT if asked), then the next chain.  Only
 * lookups: committing, setting a mark or labels, helpers create or change
 * connections, which OVS's conntrack does. */
static enum offload_reason
xlate_ct(const struct nlattr *a, size_t left, struct esw_rule_spec *spec,
         struct xlate_state *st, struct ds *reason)
{
    const struct nlattr *next = nl_attr_next(a);
    size_t rest = left - NLA_ALIGN(a->nla_len);
    struct esw_action act;
    const struct nlattr *b;
    enum offload_reason r;
    size_t left2;

    memset(&act, 0, sizeof act);
    act.type = ESW_ACTION_CT;
    NL_NESTED_FOR_EACH_UNSAFE (b, left2, a) {
        switch ((enum ovs_ct_attr) nl_attr_type(b)) {
        case OVS_CT_ATTR_ZONE:
            act.ct.zone = nl_attr_get_u16(b);
            break;
        case OVS_CT_ATTR_NAT:
            act.ct.nat = true;
            break;
        case OVS_CT_ATTR_COMMIT:
        case OVS_CT_ATTR_FORCE_COMMIT:
            add_bad(st, "ct(commit)");
            return OFFLOAD_OK;
        case OVS_CT_ATTR_MARK:
        case OVS_CT_ATTR_LABELS:
            add_bad(st, "ct with exec(set_field ct_%s)",
                    nl_attr_type(b) == OVS_CT_ATTR_MARK ? "mark"
                    : "label");
            return OFFLOAD_OK;
        case OVS_CT_ATTR_HELPER:
            add_bad(st, "ct with helper=%s", nl_attr_get_string(b));
            return OFFLOAD_OK;
        case OVS_CT_ATTR_EVENTMASK:
        case OVS_CT_ATTR_TIMEOUT:
            /* For connections being committed: none here. */
            break;
        case OVS_CT_ATTR_UNSPEC:
        case __OVS_CT_ATTR_MAX:
        default:
            add_bad(st, "ct with attribute %d", nl_attr_type(b));
            return OFFLOAD_OK;
        }
    }
    if (!rest || rest != NLA_ALIGN(next->nla_len)
        || nl_attr_type(next) != OVS_ACTION_ATTR_RECIRC) {
        add_bad(st, "ct not followed by recirc, the last action");
        return OFFLOAD_OK;
    }
    r = add_action(spec, &act, reason);
    if (!r) {
        memset(&act, 0, sizeof act);
        act.type = ESW_ACTION_RECIRC;
        act.chain = nl_attr_get_u32(next);
        r = add_action(spec, &act, reason);
    }
    st->output = true;
    st->ct_done = true;
    return r;
}

/* OVS_ACTION_ATTR_CLONE: its actions work on a copy.  Last in the list,
 * they can work on the packet itself; followed by outputs only, these can
 * come first, on the packet not yet changed by the clone's actions. */
static enum offload_reason
xlate_clone(const struct offload_xlate_ctx *ctx, const struct nlattr *a,
            size_t left, struct esw_rule_spec *spec, struct xlate_state *st,
            struct ds *reason)
{
    const struct nlattr *rest = nl_attr_next(a);
    size_t rest_len = left - NLA_ALIGN(a->nla_len);
    const struct nlattr *b;
    enum offload_reason r;
    size_t left2;

    if (rest_len) {
        NL_ATTR_FOR_EACH_UNSAFE (b, left2, rest, rest_len) {
            enum ovs_action_attr type = nl_attr_type(b);

            if (type != OVS_ACTION_ATTR_OUTPUT
                && type != OVS_ACTION_ATTR_DROP) {
                const char *name = action_name(type);

                add_bad(st, "clone followed by %s", name ? name : "a "
                        "header change");
                return OFFLOAD_OK;
            }
        }
        r = xlate_action_list(ctx, rest, rest_len, spec, st, reason);
        if (r) {
            return r;
        }
    }
    return xlate_action_list(ctx, nl_attr_get(a), nl_attr_get_size(a), spec,
                             st, reason);
}

/* Translates the actions of 'actions' in order into 'spec'.  Returns
 * OFFLOAD_OK with what the device cannot do in st->bad, or another reason
 * (in 'reason') that ends the translation. */
static enum offload_reason
xlate_action_list(const struct offload_xlate_ctx *ctx,
                  const struct nlattr *actions, size_t actions_len,
                  struct esw_rule_spec *spec, struct xlate_state *st,
                  struct ds *reason)
{
    const struct nlattr *a;
    size_t left;

    NL_ATTR_FOR_EACH_UNSAFE (a, left, actions, actions_len) {
        enum ovs_action_attr type = nl_attr_type(a);
        struct esw_action act;
        enum offload_reason r = OFFLOAD_OK;

        memset(&act, 0, sizeof act);
        switch (type) {
        case OVS_ACTION_ATTR_OUTPUT: {
            odp_port_t port = nl_attr_get_odp_port(a);
            char name[OFFLOAD_PORT_NAME_MAX];
            struct esw_vport_info info;
            struct esw_dev *dev;
            uint32_t vport;

            if (!ctx->resolve(port, ctx->aux, &dev, &vport, name)) {
                if (st->encap >= 0) {
                    add_bad(st, "tnl_push(%s) output to %s (not an uplink "
                            "of %s)", esw_tunnel_type_name(st->encap), name,
                            esw_dev_name(ctx->dev));
                } else {
                    add_bad(st, "output to %s (not on %s)", name,
                            esw_dev_name(ctx->dev));
                }
                break;
            }
            if (dev != ctx->dev) {
                add_bad(st, "output to %s (on %s, not %s)", name,
                        esw_dev_name(dev), esw_dev_name(ctx->dev));
                break;
            }
            if (st->encap >= 0
                && (esw_vport_get_info(dev, vport, &info)
                    || info.kind != ESW_VPORT_UPLINK)) {
                add_bad(st, "tnl_push(%s) output to %s (not an uplink)",
                        esw_tunnel_type_name(st->encap), name);
                break;
            }
            act.type = ESW_ACTION_OUTPUT;
            act.vport = vport;
            st->output = true;
            r = add_action(spec, &act, reason);
            break;
        }
        case OVS_ACTION_ATTR_PUSH_VLAN: {
            const struct ovs_action_push_vlan *v = nl_attr_get(a);

            act.type = ESW_ACTION_PUSH_VLAN;
            act.vlan.tpid = ntohs(v->vlan_tpid);
            act.vlan.tci = ntohs(v->vlan_tci) & ~VLAN_CFI;
            r = add_action(spec, &act, reason);
            break;
        }
        case OVS_ACTION_ATTR_POP_VLAN:
            act.type = ESW_ACTION_POP_VLAN;
            r = add_action(spec, &act, reason);
            break;
        case OVS_ACTION_ATTR_SET:
        case OVS_ACTION_ATTR_SET_MASKED:
            r = xlate_set(a, type == OVS_ACTION_ATTR_SET_MASKED, spec,
                          &st->bad, reason);
            break;
        case OVS_ACTION_ATTR_HASH: {
            const struct ovs_action_hash *h = nl_attr_get(a);

            if (h->hash_alg != OVS_HASH_ALG_L4
                && h->hash_alg != OVS_HASH_ALG_SYM_L4) {
                add_bad(st, "hash(alg %"PRIu32")", h->hash_alg);
                break;
            }
            act.type = ESW_ACTION_HASH;
            act.hash.alg = (h->hash_alg == OVS_HASH_ALG_L4 ? ESW_HASH_L4
                            : ESW_HASH_SYM_L4);
            act.hash.basis = h->hash_basis;
            act.hash.max_vlans = MIN(MAX(flow_vlan_limit, 1), ESW_MAX_VLANS);
            r = add_action(spec, &act, reason);
            break;
        }
        case OVS_ACTION_ATTR_RECIRC:
            act.type = ESW_ACTION_RECIRC;
            act.chain = nl_attr_get_u32(a);
            st->output = true;      /* The packet goes on. */
            r = add_action(spec, &act, reason);
            break;
        case OVS_ACTION_ATTR_METER:
            act.type = ESW_ACTION_METER;
            act.meter = nl_attr_get_u32(a);
            r = add_action(spec, &act, reason);
            break;
        case OVS_ACTION_ATTR_TUNNEL_PUSH:
            r = xlate_tnl_push(a, spec, st, reason);
            break;
        case OVS_ACTION_ATTR_TUNNEL_POP:
            r = xlate_tnl_pop(ctx, a, left, spec, st, reason);
            break;
        case OVS_ACTION_ATTR_CLONE:
            /* The clone's actions end the list (see xlate_clone()). */
            return xlate_clone(ctx, a, left, spec, st, reason);
        case OVS_ACTION_ATTR_CT:
            r = xlate_ct(a, left, spec, st, reason);
            if (!r && st->ct_done) {
                return OFFLOAD_OK;      /* Its RECIRC is translated. */
            }
            break;
        case OVS_ACTION_ATTR_CT_CLEAR:
            /* The CT metadata that the next chains see: the device's. */
            act.type = ESW_ACTION_CT_CLEAR;
            r = add_action(spec, &act, reason);
            break;
        case OVS_ACTION_ATTR_DROP:
            break;
        default: {
            const char *name = action_name(type);

            if (name) {
                add_bad(st, "%s", name);
            } else {
                add_bad(st, "action type %d", (int) type);
            }
            break;
        }
        }
        if (r) {
            return r;
        }
    }
    return OFFLOAD_OK;
}

static enum offload_reason
xlate_actions(const struct offload_xlate_ctx *ctx,
              const struct nlattr *actions, size_t actions_len,
              struct esw_rule_spec *spec, struct ds *reason)
{
    struct xlate_state st = { .bad = DS_EMPTY_INITIALIZER, .encap = -1 };
    enum offload_reason r;

    r = xlate_action_list(ctx, actions, actions_len, spec, &st, reason);
    if (!r && st.bad.length) {
        ds_put_format(reason, "unsupported action: %s", ds_cstr(&st.bad));
        r = OFFLOAD_UNSUPPORTED_ACTION;
    }
    ds_destroy(&st.bad);
    if (r) {
        return r;
    }

    if (!st.output) {
        /* Nothing leaves the switch nor goes on to another chain:
         * whatever was rewritten, it is a drop. */
        spec->n_actions = 1;
        memset(&spec->actions[0], 0, sizeof spec->actions[0]);
        spec->actions[0].type = ESW_ACTION_DROP;
    }
    return OFFLOAD_OK;
}

enum offload_reason
offload_xlate(const struct offload_xlate_ctx *ctx, const struct match *match,
              const struct nlattr *actions, size_t actions_len,
              struct esw_rule_spec *spec, struct ds *reason)
{
    enum offload_reason r;

    memset(spec, 0, sizeof *spec);
    if (xlate_slow_path(actions, actions_len, reason)) {
        return OFFLOAD_SLOW_PATH;
    }
    r = xlate_match(ctx, match, spec, reason);
    if (!r) {
        r = xlate_actions(ctx, actions, actions_len, spec, reason);
    }
    return r;
}
