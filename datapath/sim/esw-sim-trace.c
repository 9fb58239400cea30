/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* esw_trace_packet() for the sim driver: the decisions of the pipeline in
 * esw-sim-fwd.c (ingress checks and policy, lookup, actions) and of
 * sim_egress(), taken in the same order on a copy of the
 * packet, with no side effect: no counters, no "used" times, no host-side
 * I/O, and policies compiled afresh without rate policing so that the
 * token buckets of the live policies are untouched. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "esw-policy.h"
#include "esw-rcu.h"
#include "esw-sim.h"

#define ARRAY_SIZE_(A) (sizeof (A) / sizeof (A)[0])

/* A side-effect-free copy of 'v''s policy, or NULL if it has none.  The
 * caller destroys it. */
static struct esw_policy *
trace_policy(struct sim_dev *dev, const struct sim_vport *v)
{
    struct esw_policy_config cfg;

    if (!v->policy_cfg) {
        return NULL;
    }
    cfg = *v->policy_cfg;
    cfg.max_tx_rate = 0;
    cfg.min_tx_rate = 0;
    return esw_policy_create(&cfg, sim_vport_effective_mac(v),
                             sim_auto_link_up(dev, v), NULL);
}

/* Traces the delivery of 'pkt' (taken) to vport 'vport' into 'out'. */
static void
trace_egress(struct sim_dev *dev, uint32_t vport, struct esw_pkt *pkt,
             struct esw_trace_output *out)
{
    struct sim_vport *dst = sim_vport_get(dev, vport);
    enum esw_drop_reason reason = ESW_DROP_HOST_TX;
    struct esw_policy *policy = NULL;

    out->vport = vport;
    out->delivered = false;
    if (!dst) {
        /* Not reached for installed rules: their vports exist. */
    } else if (!atomic_load(&dst->admin_up)) {
        reason = ESW_DROP_LINK_DOWN;
    } else if ((policy = trace_policy(dev, dst))
               && !esw_policy_egress_is_noop(policy)
               && !esw_policy_egress(policy, pkt, NULL, &reason)) {
        /* 'reason' set. */
    } else if (sim_l3_len(pkt) > atomic_load(&dst->mtu)) {
        reason = ESW_DROP_MTU;
    } else if (dst->io) {
        out->delivered = true;
        esw_parse(pkt->data, pkt->len, vport, &out->key);
    }
    out->drop_reason = out->delivered ? 0 : reason;
    esw_policy_destroy(policy);
    esw_pkt_free(pkt);
}

/* Follows 'pkt' (taken), after the ingress stage of 'src', through the
 * chains as the pipeline does (sim_execute() and sim_execute_chained()),
 * filling in the stages, outputs and verdict of 'tr'.  'orig' is the packet
 * as it entered chain 0 (not taken). */
static void
trace_chains(struct sim_dev *dev, const struct sim_vport *src,
             struct esw_pkt *pkt, const struct esw_pkt *orig,
             struct esw_trace *tr)
{
    struct esw_pkt *outs[ESW_MAX_ACTIONS * ESW_TRACE_MAX_STAGES];
    uint32_t out_vports[ESW_MAX_ACTIONS * ESW_TRACE_MAX_STAGES];
    uint32_t dp_hash = 0, max_recirc = dev->up.caps.max_recirc;
    size_t n_outs = 0;
    struct esw_key key = tr->looked_up, tun;
    struct esw_pkt *inner = NULL;   /* As decapsulated, for the hashes. */
    bool hit = true, decapped = false;
    struct sim_ct_md ct_md = { .state = 0 };
    struct sim_ct_hit ct_hit;
    bool ct_ok;

    for (uint32_t depth = 0; ; depth++) {
        struct esw_trace_stage *st = &tr->stages[tr->n_stages++];
        const struct sim_rule_version *ver;
        const struct esw_action *recirc = NULL;
        const struct esw_cls_rule *cls;
        struct esw_layout layout;
        bool have_layout = false;

        st->key = key;
        esw_rcu_read_lock();
        cls = esw_cls_lookup(sim_cls_of_chain(dev, key.chain), &key);
        esw_rcu_read_unlock();
        if (!cls) {
            hit = false;
            break;
        }
        ver = (const struct sim_rule_version *) cls;
        st->rule = ver->rule;
        sim_rule_version_get_spec(ver, &st->spec);
        for (size_t i = 0; i < ver->n_actions; i++) {
            const struct esw_action *a = &ver->actions[i];
            struct esw_pkt *copy;

            switch (a->type) {
            case ESW_ACTION_OUTPUT:
                copy = esw_pkt_clone(pkt);
                if (copy && n_outs < ARRAY_SIZE_(outs)) {
                    out_vports[n_outs] = a->vport;
                    outs[n_outs++] = copy;
                } else {
                    esw_pkt_free(copy);
                }
                break;
            case ESW_ACTION_PUSH_VLAN:
            case ESW_ACTION_POP_VLAN:
            case ESW_ACTION_SET_ETH_SRC:
            case ESW_ACTION_SET_ETH_DST:
            case ESW_ACTION_SET:
                sim_edit(pkt, a, &layout, &have_layout);
                break;
            case ESW_ACTION_HASH:
                dp_hash = (a->hash.alg == ESW_HASH_L4
                           ? esw_hash_l4(esw_hash_rss((inner ? inner : orig)
                                                      ->data,
                                                      (inner ? inner : orig)
                                                      ->len,
                                                      a->hash.max_vlans),
                                         a->hash.basis)
                           : esw_hash_sym_l4(pkt->data, pkt->len,
                                             a->hash.max_vlans,
                                             a->hash.basis));
                break;
            case ESW_ACTION_ENCAP: {
                const struct esw_pkt *base = inner ? inner : orig;
                uint32_t rss = esw_hash_rss(base->data, base->len,
                                            a->encap.max_vlans);

                if (esw_pkt_encap(&pkt, &a->encap, rss)) {
                    /* Longer than any frame: dropped (as "mtu"). */
                    for (size_t j = 0; j < n_outs; j++) {
                        esw_pkt_free(outs[j]);
                    }
                    n_outs = 0;
                    goto done;
                }
                break;
            }
            case ESW_ACTION_DECAP:
                if (esw_pkt_decap(pkt, &a->decap, &tun)) {
                    hit = false;
                    goto done;
                }
                decapped = true;
                esw_pkt_free(inner);
                inner = esw_pkt_clone(pkt);
                break;
            case ESW_ACTION_CT:
                /* Looked up and NATed; the connection counts nothing. */
                esw_rcu_read_lock();
                ct_ok = sim_ct_execute(dev, pkt, a, &ct_md, &ct_hit);
                esw_rcu_read_unlock();
                if (!ct_ok) {
                    hit = false;
                    goto done;
                }
                break;
            case ESW_ACTION_CT_CLEAR:
                memset(&ct_md, 0, sizeof ct_md);
                break;
            case ESW_ACTION_RECIRC:
                recirc = a;
                break;
            case ESW_ACTION_METER:      /* Not evaluated. */
            case ESW_ACTION_DROP:
            case ESW_ACTION_COUNT:
            case ESW_N_ACTION_TYPES:
            default:
                break;
            }
        }
        esw_parse(pkt->data, pkt->len, src->number, &st->after);
        st->after.chain = recirc ? recirc->chain : 0;
        st->after.dp_hash = dp_hash;
        if (decapped) {
            esw_key_copy_tunnel(&st->after, &tun);
        }
        sim_ct_md_to_key(&ct_md, &st->after);
        if (!recirc) {
            break;
        }
        if (depth >= max_recirc || tr->n_stages >= ESW_TRACE_MAX_STAGES) {
            tr->recirc_limit = true;
            hit = false;
            break;
        }
        key = st->after;
    }

done:
    esw_pkt_free(inner);
    if (hit) {
        tr->verdict = ESW_TRACE_HIT;
        for (size_t i = 0; i < n_outs; i++) {
            trace_egress(dev, out_vports[i], outs[i],
                         &tr->outputs[tr->n_outputs++]);
        }
    } else {
        tr->verdict = ESW_TRACE_MISS;
        tr->to_representor = esw_pkt_clone(orig);
        for (size_t i = 0; i < n_outs; i++) {
            esw_pkt_free(outs[i]);
        }
    }
    if (tr->stages[0].rule) {
        tr->rule = tr->stages[0].rule;
        tr->spec = tr->stages[0].spec;
    }
    esw_pkt_free(pkt);
}

int
sim_trace_packet(struct esw_dev *dev_, uint32_t vport,
                 const struct esw_pkt *pkt_in, struct esw_trace *tr)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct esw_policy *policy = NULL;
    enum esw_drop_reason reason;
    struct sim_vport *src;
    struct esw_pkt *pkt;

    /* The control mutex keeps vports, policy configs and rule versions
     * still while we look at them. */
    pthread_mutex_lock(&dev->ctl_mutex);
    src = sim_vport_get(dev, vport);
    pkt = src ? esw_pkt_clone(pkt_in) : NULL;
    if (!pkt) {
        pthread_mutex_unlock(&dev->ctl_mutex);
        return src ? ENOMEM : ENOENT;
    }
    pkt->in_vport = vport;

    tr->verdict = ESW_TRACE_DROP;
    if (pkt->len >= ESW_FRAME_MIN && pkt->len <= ESW_FRAME_MAX) {
        esw_parse(pkt->data, pkt->len, vport, &tr->received);
    }
    tr->looked_up = tr->received;
    if (!atomic_load(&src->admin_up)) {
        tr->drop_reason = ESW_DROP_LINK_DOWN;
    } else if (pkt->len < ESW_FRAME_MIN || pkt->len > ESW_FRAME_MAX) {
        tr->drop_reason = ESW_DROP_MALFORMED;
    } else if (pkt->len - ESW_ETH_HDR_LEN
               - tr->received.n_vlans * ESW_VLAN_HDR_LEN
               > atomic_load(&src->mtu)) {
        tr->drop_reason = ESW_DROP_MTU;
    } else if ((policy = trace_policy(dev, src))
               && !esw_policy_ingress_is_noop(policy)
               && !esw_policy_ingress(policy, pkt, &tr->looked_up, 0,
                                      &reason)) {
        tr->drop_reason = reason;
    } else {
        struct esw_pkt *orig = esw_pkt_clone(pkt);

        if (!orig) {
            esw_policy_destroy(policy);
            esw_pkt_free(pkt);
            pthread_mutex_unlock(&dev->ctl_mutex);
            return ENOMEM;
        }
        trace_chains(dev, src, pkt, orig, tr);
        esw_pkt_free(orig);
        pkt = NULL;
    }
    esw_policy_destroy(policy);
    esw_pkt_free(pkt);
    pthread_mutex_unlock(&dev->ctl_mutex);
    return 0;
}

int
sim_trace_rep_send(struct esw_dev *dev_, uint32_t vport,
                   const struct esw_pkt *pkt, struct esw_trace_output *out)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct esw_pkt *copy;
    int error = 0;

    pthread_mutex_lock(&dev->ctl_mutex);
    if (!sim_vport_get(dev, vport)) {
        error = ENOENT;
    } else if (!(copy = esw_pkt_clone(pkt))) {
        error = ENOMEM;
    } else {
        trace_egress(dev, vport, copy, out);
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}
