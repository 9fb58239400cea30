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

/* Runs 'spec''s actions on 'pkt' (taken) as sim_execute() does. */
static void
trace_actions(struct sim_dev *dev, const struct esw_rule_spec *spec,
              struct esw_pkt *pkt, struct esw_trace *tr)
{
    for (size_t i = 0; i < spec->n_actions; i++) {
        const struct esw_action *a = &spec->actions[i];
        struct esw_pkt *copy;

        switch (a->type) {
        case ESW_ACTION_OUTPUT:
            copy = esw_pkt_clone(pkt);
            if (copy && tr->n_outputs < ESW_MAX_ACTIONS) {
                trace_egress(dev, a->vport, copy,
                             &tr->outputs[tr->n_outputs++]);
            } else {
                esw_pkt_free(copy);
            }
            break;
        case ESW_ACTION_PUSH_VLAN:
            esw_pkt_push_vlan(pkt, a->vlan.tpid, a->vlan.tci);
            break;
        case ESW_ACTION_POP_VLAN:
            esw_pkt_pop_vlan(pkt);
            break;
        case ESW_ACTION_SET_ETH_SRC:
            esw_pkt_set_eth_src(pkt, &a->mac);
            break;
        case ESW_ACTION_SET_ETH_DST:
            esw_pkt_set_eth_dst(pkt, &a->mac);
            break;
        case ESW_ACTION_DROP:
        case ESW_ACTION_COUNT:
        case ESW_N_ACTION_TYPES:
        default:
            break;
        }
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
    const struct esw_cls_rule *hit;
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
        esw_rcu_read_lock();
        hit = esw_cls_lookup(dev->cls, &tr->looked_up);
        esw_rcu_read_unlock();
        if (!hit) {
            tr->verdict = ESW_TRACE_MISS;
            tr->to_representor = pkt;
            pkt = NULL;
        } else {
            const struct sim_rule_version *ver
                = (const struct sim_rule_version *) hit;

            tr->verdict = ESW_TRACE_HIT;
            tr->rule = ver->rule;
            tr->spec = ver->spec;
            trace_actions(dev, &ver->spec, pkt, tr);
            pkt = NULL;
        }
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
