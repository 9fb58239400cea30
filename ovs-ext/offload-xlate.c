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

#include <string.h>

#include "flow.h"
#include "netlink.h"
#include "odp-netlink.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "packets.h"
#include "util.h"

const char *
offload_reason_name(enum offload_reason reason)
{
    switch (reason) {
    case OFFLOAD_OK: return "offloaded";
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

static enum offload_reason
xlate_match(const struct offload_xlate_ctx *ctx, const struct match *match,
            struct esw_rule_spec *spec, struct ds *reason)
{
    const struct flow *flow = &match->flow;
    struct esw_key *k = &spec->match, *m = &spec->mask;
    struct flow mask = match->wc.masks;

    if (flow_tnl_dst_is_set(&flow->tunnel)) {
        return unsupported_match(reason, "tunnel");
    }
    memset(&mask.tunnel, 0, sizeof mask.tunnel);

    k->in_vport = ctx->in_vport;
    m->in_vport = UINT32_MAX;
    memset(&mask.in_port, 0, sizeof mask.in_port);

    if (mask.recirc_id & flow->recirc_id) {
        ds_put_format(reason, "unsupported match: recirc_id=%#"PRIx32,
                      flow->recirc_id);
        return OFFLOAD_UNSUPPORTED_MATCH;
    }
    mask.recirc_id = 0;
    if (mask.packet_type && flow->packet_type != htonl(PT_ETH)) {
        return unsupported_match(reason, "packet_type");
    }
    mask.packet_type = 0;

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
    case OVS_ACTION_ATTR_RECIRC: return "recirc";
    case OVS_ACTION_ATTR_HASH: return "hash";
    case OVS_ACTION_ATTR_PUSH_MPLS: return "push_mpls";
    case OVS_ACTION_ATTR_POP_MPLS: return "pop_mpls";
    case OVS_ACTION_ATTR_CT: return "ct";
    case OVS_ACTION_ATTR_TRUNC: return "trunc";
    case OVS_ACTION_ATTR_PUSH_ETH: return "push_eth";
    case OVS_ACTION_ATTR_POP_ETH: return "pop_eth";
    case OVS_ACTION_ATTR_CT_CLEAR: return "ct_clear";
    case OVS_ACTION_ATTR_PUSH_NSH: return "push_nsh";
    case OVS_ACTION_ATTR_POP_NSH: return "pop_nsh";
    case OVS_ACTION_ATTR_METER: return "meter";
    case OVS_ACTION_ATTR_CLONE: return "clone";
    case OVS_ACTION_ATTR_CHECK_PKT_LEN: return "check_pkt_len";
    case OVS_ACTION_ATTR_ADD_MPLS: return "add_mpls";
    case OVS_ACTION_ATTR_TUNNEL_PUSH: return "tnl_push";
    case OVS_ACTION_ATTR_TUNNEL_POP: return "tnl_pop";
    case OVS_ACTION_ATTR_LB_OUTPUT: return "lb_output";
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

/* SET or SET_MASKED of the Ethernet addresses; anything else is added to
 * 'bad'. */
static enum offload_reason
xlate_set(const struct nlattr *a, bool masked, struct esw_rule_spec *spec,
          struct ds *bad, struct ds *reason)
{
    const struct nlattr *key = nl_attr_get(a);
    enum ovs_key_attr type = nl_attr_type(key);
    const struct ovs_key_ethernet *value, *mask = NULL;
    enum offload_reason r = OFFLOAD_OK;

    if (type != OVS_KEY_ATTR_ETHERNET
        || nl_attr_get_size(key) != (masked ? 2 : 1) * sizeof *value) {
        char buf[32];

        snprintf(buf, sizeof buf, "set(%s)", key_attr_name(type));
        unsupported_action(bad, buf);
        return OFFLOAD_OK;
    }
    value = nl_attr_get(key);
    if (masked) {
        mask = value + 1;
    }

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
            unsupported_action(bad, (i ? "set(eth_dst) with a partial mask"
                                     : "set(eth_src) with a partial mask"));
            continue;
        }
        memcpy(act.mac.ea, v, ETH_ADDR_LEN);
        r = add_action(spec, &act, reason);
    }
    return r;
}

static enum offload_reason
xlate_actions(const struct offload_xlate_ctx *ctx,
              const struct nlattr *actions, size_t actions_len,
              struct esw_rule_spec *spec, struct ds *reason)
{
    struct ds bad = DS_EMPTY_INITIALIZER;
    const struct nlattr *a;
    bool output = false;
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
            struct esw_dev *dev;
            uint32_t vport;

            if (!ctx->resolve(port, ctx->aux, &dev, &vport, name)) {
                if (bad.length) {
                    ds_put_cstr(&bad, ", ");
                }
                ds_put_format(&bad, "output to %s (not on %s)", name,
                              esw_dev_name(ctx->dev));
                break;
            }
            if (dev != ctx->dev) {
                if (bad.length) {
                    ds_put_cstr(&bad, ", ");
                }
                ds_put_format(&bad, "output to %s (on %s, not %s)", name,
                              esw_dev_name(dev), esw_dev_name(ctx->dev));
                break;
            }
            act.type = ESW_ACTION_OUTPUT;
            act.vport = vport;
            output = true;
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
            r = xlate_set(a, type == OVS_ACTION_ATTR_SET_MASKED, spec, &bad,
                          reason);
            break;
        case OVS_ACTION_ATTR_DROP:
            break;
        default: {
            const char *name = action_name(type);
            char buf[32];

            if (!name) {
                snprintf(buf, sizeof buf, "action type %d", (int) type);
                name = buf;
            }
            unsupported_action(&bad, name);
            break;
        }
        }
        if (r) {
            ds_destroy(&bad);
            return r;
        }
    }
    if (bad.length) {
        ds_put_format(reason, "unsupported action: %s", ds_cstr(&bad));
        ds_destroy(&bad);
        return OFFLOAD_UNSUPPORTED_ACTION;
    }
    ds_destroy(&bad);

    if (!output) {
        /* Nothing leaves the switch: whatever was rewritten, it is a
         * drop. */
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
    r = xlate_match(ctx, match, spec, reason);
    if (!r) {
        r = xlate_actions(ctx, actions, actions_len, spec, reason);
    }
    return r;
}
