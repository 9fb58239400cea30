/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* "sim" eSwitch driver: forwarding threads and the packet pipeline.
 *
 *   host rx -> checks (size, link, MTU) -> parse -> ingress policy
 *           -> classifier lookup (batched, lock-free)
 *           -> hit: rule actions -> per-output egress -> host tx
 *           -> miss: the source vport's representor queue
 *
 * Each vport's host side is received by exactly one forwarding thread
 * (its 'rxset'), so its rx queue has a single consumer.  An idle thread
 * sleeps in epoll_wait() on its vports' host-side fds and its wake fd,
 * offline for RCU; with 'busy_poll' it spins instead. */

#include "esw-sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "esw-policy.h"
#include "esw-rcu.h"

#define SIM_MAX_PENDING_OUT 8

/* Packets waiting for egress to one vport. */
struct sim_out_batch {
    struct sim_vport *dst;
    size_t n;
    struct esw_pkt *pkts[SIM_MAX_BATCH];
};

/* Per-thread scratch space. */
struct sim_fwd_ctx {
    struct sim_thread *t;
    struct sim_dev *dev;
    uint64_t now_ms;                /* This batch's time, 0 until read. */
    uint64_t now_ns;                /* The same, for meters. */

    /* Rule stats not yet added: consecutive hits on one rule are counted
     * once (a batch usually hits few rules).  Added before any egress. */
    struct sim_rule_stats *st;      /* NULL: nothing pending. */
    uint64_t st_packets, st_bytes;

    /* Pending egress, by destination; 'last' is the batch the previous
     * packet went to, valid until the next sim_flush_all(). */
    size_t n_out;
    struct sim_out_batch *last;
    uint32_t last_vport;
    struct sim_out_batch out[SIM_MAX_PENDING_OUT];

    struct esw_pkt *rx[SIM_MAX_BATCH];
    struct esw_pkt *kept[SIM_MAX_BATCH];
    struct esw_pkt *misses[SIM_MAX_BATCH];
    struct esw_key keys[SIM_MAX_BATCH];
    const struct esw_key *key_ptrs[SIM_MAX_BATCH];
    const struct esw_cls_rule *hits[SIM_MAX_BATCH];
};

static inline void
sim_counter_add(_Atomic uint64_t *c, uint64_t n)
{
    /* Single writer: no read-modify-write needed. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed)
                          + n, memory_order_relaxed);
}

static uint64_t
sim_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds the pending rule stats. */
static void
sim_stats_flush(struct sim_fwd_ctx *ctx)
{
    struct sim_rule_stats *st = ctx->st;

    if (st) {
        if (!ctx->now_ms) {
            ctx->now_ms = sim_now_ms();
        }
        sim_counter_add(&st->packets, ctx->st_packets);
        sim_counter_add(&st->bytes, ctx->st_bytes);
        atomic_store_explicit(&st->used_ms, ctx->now_ms,
                              memory_order_relaxed);
        ctx->st = NULL;
    }
}

/* Counts 'n' hits of 'ver' by packets of 'bytes' bytes in all. */
static inline void
sim_stats_hit(struct sim_fwd_ctx *ctx, const struct sim_rule_version *ver,
              uint64_t n, uint64_t bytes)
{
    struct sim_rule_stats *st = &ver->rule->stats[ctx->t->idx];

    if (st != ctx->st) {
        sim_stats_flush(ctx);
        ctx->st = st;
        ctx->st_packets = 0;
        ctx->st_bytes = 0;
    }
    ctx->st_packets += n;
    ctx->st_bytes += bytes;
}

static void
sim_flush_out(struct sim_fwd_ctx *ctx, struct sim_out_batch *b)
{
    if (b->n) {
        sim_stats_flush(ctx);   /* Stats never lag behind deliveries. */
        sim_egress(ctx->dev, b->dst, b->pkts, b->n);
        b->n = 0;
    }
}

static void
sim_flush_all(struct sim_fwd_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_out; i++) {
        sim_flush_out(ctx, &ctx->out[i]);
    }
    ctx->n_out = 0;
    ctx->last = NULL;
}

/* sim_output() when 'pkt' does not go where the previous packet went. */
static void
sim_output__(struct sim_fwd_ctx *ctx, struct esw_pkt *pkt, uint32_t vport)
{
    struct sim_vport *dst = sim_vport_get(ctx->dev, vport);
    struct sim_out_batch *b;

    if (!dst) {
        /* The vport is going away and its rules with it. */
        esw_pkt_free(pkt);
        return;
    }
    for (size_t i = 0; i < ctx->n_out; i++) {
        b = &ctx->out[i];
        if (b->dst == dst) {
            if (b->n >= SIM_MAX_BATCH) {
                sim_flush_out(ctx, b);
            }
            b->pkts[b->n++] = pkt;
            goto done;
        }
    }
    if (ctx->n_out >= SIM_MAX_PENDING_OUT) {
        sim_flush_all(ctx);
    }
    b = &ctx->out[ctx->n_out++];
    b->dst = dst;
    b->n = 1;
    b->pkts[0] = pkt;
done:
    ctx->last = b;
    ctx->last_vport = vport;
}

/* Queues 'pkt' (taken) for egress to vport 'vport'. */
static inline void
sim_output(struct sim_fwd_ctx *ctx, struct esw_pkt *pkt, uint32_t vport)
{
    struct sim_out_batch *b = ctx->last;

    if (b && ctx->last_vport == vport && b->n < SIM_MAX_BATCH) {
        b->pkts[b->n++] = pkt;
    } else {
        sim_output__(ctx, pkt, vport);
    }
}

/* Queues the 'n' packets in 'pkts' (taken) for egress to vport 'vport'. */
static void
sim_output_run(struct sim_fwd_ctx *ctx, struct esw_pkt *pkts[], size_t n,
               uint32_t vport)
{
    struct sim_out_batch *b;
    size_t i = 1, k;

    sim_output(ctx, pkts[0], vport);
    b = ctx->last;
    if (b && ctx->last_vport == vport) {
        k = SIM_MAX_BATCH - b->n;
        k = k < n - 1 ? k : n - 1;
        memcpy(&b->pkts[b->n], &pkts[1], k * sizeof pkts[0]);
        b->n += k;
        i += k;
    }
    for (; i < n; i++) {
        sim_output(ctx, pkts[i], vport);
    }
}

static uint64_t sim_now_ns(void);

/* Polices a packet of 'len' bytes with meter 'id'.  Returns false if the
 * packet is to be dropped. */
static bool
sim_meter(struct sim_fwd_ctx *ctx, uint32_t id, uint32_t len)
{
    if (!ctx->now_ns) {
        ctx->now_ns = sim_now_ns();
    }
    return sim_meter_run(ctx->dev, id, len, ctx->now_ns);
}

/* Runs the actions of 'ver', a rule that is not 'chained', on 'pkt'
 * (taken), received on 'src'.  The hit is already counted. */
static void
sim_execute(struct sim_fwd_ctx *ctx, struct sim_vport *src,
            const struct sim_rule_version *ver, struct esw_pkt *pkt)
{
    size_t remaining = ver->n_outputs;
    struct esw_layout layout;
    bool have_layout = false;

    if (!remaining) {
        sim_vport_drop(src, ESW_DROP_RULE, 1);
        esw_pkt_free(pkt);
        return;
    }
    for (size_t i = 0; i < ver->n_actions; i++) {
        const struct esw_action *a = &ver->actions[i];

        switch (a->type) {
        case ESW_ACTION_OUTPUT:
            if (!--remaining) {
                sim_output(ctx, pkt, a->vport);
                return;
            } else {
                struct esw_pkt *clone = esw_pkt_clone(pkt);

                if (clone) {
                    sim_output(ctx, clone, a->vport);
                }
            }
            break;
        case ESW_ACTION_PUSH_VLAN:
        case ESW_ACTION_POP_VLAN:
        case ESW_ACTION_SET_ETH_SRC:
        case ESW_ACTION_SET_ETH_DST:
        case ESW_ACTION_SET:
            sim_edit(pkt, a, &layout, &have_layout);
            break;
        case ESW_ACTION_METER:
            if (!sim_meter(ctx, a->meter, pkt->len)) {
                sim_vport_drop(src, ESW_DROP_METER, 1);
                esw_pkt_free(pkt);
                return;
            }
            break;
        case ESW_ACTION_HASH:           /* Only in 'chained' rules. */
        case ESW_ACTION_RECIRC:
        case ESW_ACTION_DROP:
        case ESW_ACTION_COUNT:
        case ESW_ACTION_CT_CLEAR:       /* No CT metadata here: a rule that
                                         * is not 'chained' is the last. */
        case ESW_N_ACTION_TYPES:
        default:
            break;
        }
    }
    esw_pkt_free(pkt);          /* Not reached: the last OUTPUT returns. */
}

/* What the chain executor defers until a packet has finished its last
 * chain: an output of a copy, or a meter. */
struct sim_deferred {
    struct esw_pkt *pkt;        /* Output: the copy; NULL: a meter. */
    uint32_t id;                /* Output: vport; meter: meter id. */
    uint32_t len;               /* Meter: the packet's length there. */
};

#define SIM_MAX_DEFERRED (ESW_MAX_ACTIONS * (SIM_MAX_RECIRC + 1))

/* True if 'a' may change the packet. */
static inline bool
sim_action_modifies(const struct esw_action *a)
{
    enum esw_action_type type = a->type;

    return (type == ESW_ACTION_SET || type == ESW_ACTION_SET_ETH_SRC
            || type == ESW_ACTION_SET_ETH_DST || type == ESW_ACTION_PUSH_VLAN
            || type == ESW_ACTION_POP_VLAN || type == ESW_ACTION_ENCAP
            || type == ESW_ACTION_DECAP
            || (type == ESW_ACTION_CT && a->ct.nat));
}

/* Runs 'ver', a 'chained' rule (RECIRC or HASH), on 'pkt' (taken),
 * received on 'src', and the rules of the chains it recirculates to.
 * Outputs, meters and rule counters take effect only if the packet finds
 * a rule in every chain; otherwise nothing of it happens and the packet as
 * it entered chain 0 is returned, to go to the representor like any miss
 * (see "Chains" in esw.h).  Returns NULL if the packet was handled.
 *
 * The packet as it entered is copied only when it is about to change in
 * a chain after which another lookup (a possible miss) follows; the RSS
 * hash of the L4 hash is taken from that copy, or from the packet before
 * it changes. */
static struct esw_pkt *
sim_execute_chained(struct sim_fwd_ctx *ctx, struct sim_vport *src,
                    const struct sim_rule_version *ver, struct esw_pkt *pkt)
{
    const struct sim_rule_version *hits[SIM_MAX_RECIRC + 1];
    struct sim_deferred deferred[SIM_MAX_DEFERRED];
    uint32_t hit_lens[SIM_MAX_RECIRC + 1];
    struct sim_ct_hit ct_hits[SIM_MAX_RECIRC + 1];
    uint32_t ct_lens[SIM_MAX_RECIRC + 1];
    struct sim_ct_md ct_md = { .state = 0 };
    size_t n_deferred = 0, n_hits = 0, n_out = 0, n_ct_hits = 0;
    uint32_t max_recirc = ctx->dev->up.caps.max_recirc;
    uint32_t dp_hash = 0, rss = 0, final_len = 0;
    bool have_rss = false, metered = false, modified = false;
    bool decapped = false;
    struct esw_pkt *orig = NULL;
    struct esw_key key, tun;

    for (uint32_t depth = 0; ; depth++) {
        const struct esw_action *recirc = NULL;
        size_t n_actions = ver->n_actions;
        size_t outputs_left = ver->n_outputs;
        struct esw_layout layout;
        bool have_layout = false;
        bool last_stage = (!n_actions || ver->actions[n_actions - 1].type
                           != ESW_ACTION_RECIRC);

        hits[n_hits] = ver;
        hit_lens[n_hits++] = pkt->len;
        for (size_t i = 0; i < n_actions; i++) {
            const struct esw_action *a = &ver->actions[i];
            struct sim_deferred *d = &deferred[n_deferred];

            if (!pkt) {
                /* After the last output (see below) only a meter still
                 * matters. */
                if (a->type == ESW_ACTION_METER) {
                    d->pkt = NULL;
                    d->id = a->meter;
                    d->len = final_len;
                    n_deferred++;
                }
                continue;
            }
            if (!modified && sim_action_modifies(a)) {
                /* The original is needed for a miss in a later chain, and
                 * for the L4 hash. */
                if (ver->hash_l4 && !have_rss) {
                    rss = esw_hash_rss(pkt->data, pkt->len, ver->hash_vlans);
                    have_rss = true;
                }
                if (!last_stage) {
                    orig = esw_pkt_clone(pkt);
                    if (!orig) {
                        goto miss;      /* Unchanged so far: a miss. */
                    }
                }
                modified = true;
            }
            switch (a->type) {
            case ESW_ACTION_OUTPUT:
                /* The last output of the last chain takes the packet
                 * itself: nothing changes it afterwards. */
                if (last_stage && !--outputs_left) {
                    final_len = pkt->len;
                    d->pkt = pkt;
                    pkt = NULL;
                } else {
                    d->pkt = esw_pkt_clone(pkt);
                }
                d->id = a->vport;
                n_deferred += d->pkt != NULL;
                break;
            case ESW_ACTION_METER:
                d->pkt = NULL;
                d->id = a->meter;
                d->len = pkt->len;
                n_deferred++;
                break;
            case ESW_ACTION_PUSH_VLAN:
            case ESW_ACTION_POP_VLAN:
            case ESW_ACTION_SET_ETH_SRC:
            case ESW_ACTION_SET_ETH_DST:
            case ESW_ACTION_SET:
                sim_edit(pkt, a, &layout, &have_layout);
                break;
            case ESW_ACTION_HASH:
                if (a->hash.alg == ESW_HASH_L4) {
                    /* OVS hashes the packet as it entered its datapath. */
                    if (!have_rss) {
                        const struct esw_pkt *p = orig ? orig : pkt;

                        rss = esw_hash_rss(p->data, p->len,
                                           a->hash.max_vlans);
                        have_rss = true;
                    }
                    dp_hash = esw_hash_l4(rss, a->hash.basis);
                } else {
                    dp_hash = esw_hash_sym_l4(pkt->data, pkt->len,
                                              a->hash.max_vlans,
                                              a->hash.basis);
                }
                break;
            case ESW_ACTION_ENCAP:
                if (!have_rss) {
                    const struct esw_pkt *p = orig ? orig : pkt;

                    rss = esw_hash_rss(p->data, p->len, a->encap.max_vlans);
                    have_rss = true;
                }
                if (esw_pkt_encap(&pkt, &a->encap, rss)) {
                    /* Longer than any frame (the underlay's MTU would
                     * drop it in OVS's software path too). */
                    for (size_t j = 0; j < n_deferred; j++) {
                        esw_pkt_free(deferred[j].pkt);
                    }
                    sim_vport_drop(src, ESW_DROP_MTU, 1);
                    esw_pkt_free(pkt);
                    esw_pkt_free(orig);
                    return NULL;
                }
                break;
            case ESW_ACTION_DECAP:
                if (esw_pkt_decap(pkt, &a->decap, &tun)) {
                    goto miss;
                }
                decapped = true;
                /* OVS hashes the inner packet afresh after a pop. */
                rss = esw_hash_rss(pkt->data, pkt->len, a->decap.max_vlans);
                have_rss = true;
                break;
            case ESW_ACTION_CT:
                /* The connection counts the packet as it is here, once the
                 * packet completes its chains. */
                if (!sim_ct_execute(ctx->dev, pkt, a, &ct_md,
                                    &ct_hits[n_ct_hits])) {
                    goto miss;
                }
                ct_lens[n_ct_hits++] = pkt->len;
                break;
            case ESW_ACTION_CT_CLEAR:
                /* The connections found so far still count the packet. */
                memset(&ct_md, 0, sizeof ct_md);
                break;
            case ESW_ACTION_RECIRC:
                recirc = a;
                break;
            case ESW_ACTION_DROP:
            case ESW_ACTION_COUNT:
            case ESW_N_ACTION_TYPES:
            default:
                break;
            }
        }
        if (!recirc) {
            break;
        }
        if (depth >= max_recirc) {
            goto miss;
        }
        esw_parse(pkt->data, pkt->len, src->number, &key);
        key.chain = recirc->chain;
        key.dp_hash = dp_hash;
        if (decapped) {
            esw_key_copy_tunnel(&key, &tun);
        }
        sim_ct_md_to_key(&ct_md, &key);
        ver = (const struct sim_rule_version *)
              esw_cls_lookup(sim_cls_of_chain(ctx->dev, key.chain), &key);
        if (!ver) {
            goto miss;
        }
    }

    /* Every chain hit: now the packet counts and goes out. */
    for (size_t i = 0; i < n_hits; i++) {
        sim_stats_hit(ctx, hits[i], 1, hit_lens[i]);
    }
    if (n_ct_hits && !ctx->now_ms) {
        ctx->now_ms = sim_now_ms();
    }
    for (size_t i = 0; i < n_ct_hits; i++) {
        sim_ct_count(&ct_hits[i], ct_lens[i], ctx->now_ms);
    }
    for (size_t i = 0; i < n_deferred; i++) {
        struct sim_deferred *d = &deferred[i];

        if (metered) {
            esw_pkt_free(d->pkt);
        } else if (!d->pkt) {
            metered = !sim_meter(ctx, d->id, d->len);
        } else {
            sim_output(ctx, d->pkt, d->id);
            n_out++;
        }
    }
    if (metered) {
        sim_vport_drop(src, ESW_DROP_METER, 1);
    } else if (!n_out) {
        sim_vport_drop(src, ESW_DROP_RULE, 1);
    }
    esw_pkt_free(pkt);
    esw_pkt_free(orig);
    return NULL;

miss:
    /* Nothing of it happens; 'pkt' is the original unless it changed. */
    for (size_t i = 0; i < n_deferred; i++) {
        esw_pkt_free(deferred[i].pkt);
    }
    if (orig) {
        esw_pkt_free(pkt);
        return orig;
    }
    return pkt;
}

static uint64_t
sim_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The first stage of the pipeline for the 'n' packets in 'pkts' received
 * on vport 'in_vport': parsing into ctx->keys[], length and MTU checks and
 * the ingress policy 'policy' with 'f' a copy of its fast part (both NULL
 * if the policy passes everything).  Frees and counts (in 'drops' and
 * '*n_drops') the packets that stop here, adds the length of every packet
 * to '*bytes', and stores the others in ctx->kept[] and their keys in
 * ctx->key_ptrs[].  Returns how many were kept.  Inlined with constant
 * flags in '*f' by the caller. */
static inline __attribute__((always_inline)) size_t
sim_ingress(struct sim_fwd_ctx *ctx, struct esw_pkt *pkts[], size_t n,
            uint32_t in_vport, uint32_t mtu, struct esw_policy *policy,
            const struct esw_policy_fast *f, uint64_t now_ns,
            uint64_t drops[], size_t *n_drops, uint64_t *bytes)
{
    size_t n_kept = 0;

    /* Parsing first, in a loop of its own: few values live across the
     * calls, so none of the checks' state is spilled around each. */
    for (size_t i = 0; i < n; i++) {
        struct esw_pkt *pkt = pkts[i];

        if (i + 4 < n) {
            __builtin_prefetch(pkts[i + 4]);
            __builtin_prefetch(pkts[i + 2]->data);
        }
        pkt->in_vport = in_vport;
        esw_parse(pkt->data, pkt->len, in_vport, &ctx->keys[i]);
    }
    for (size_t i = 0; i < n; i++) {
        struct esw_pkt *pkt = pkts[i];
        struct esw_key *key = &ctx->keys[i];
        uint32_t len = pkt->len;
        enum esw_drop_reason reason;

        *bytes += len;
        if (len < ESW_FRAME_MIN || len > ESW_FRAME_MAX) {
            reason = ESW_DROP_MALFORMED;
        } else if (len - ESW_ETH_HDR_LEN > mtu
                   && (len - ESW_ETH_HDR_LEN
                       - key->n_vlans * ESW_VLAN_HDR_LEN > mtu)) {
            reason = ESW_DROP_MTU;
        } else if (f && !esw_policy_ingress_fast(f, policy, pkt, key,
                                                 now_ns, &reason)) {
            /* 'reason' set. */
        } else {
            ctx->key_ptrs[n_kept] = key;
            ctx->kept[n_kept++] = pkt;
            continue;
        }
        drops[reason]++;
        (*n_drops)++;
        esw_pkt_free(pkt);
    }
    return n_kept;
}

/* The pipeline for 'n' packets received from 'src''s host side. */
static void
sim_process(struct sim_fwd_ctx *ctx, struct sim_vport *src,
            struct esw_pkt *pkts[], size_t n)
{
    struct esw_policy *policy = atomic_load_explicit(&src->policy,
                                                     memory_order_acquire);
    bool check_policy = policy && !esw_policy_ingress_is_noop(policy);
    uint32_t mtu = atomic_load_explicit(&src->mtu, memory_order_relaxed);
    uint64_t drops[ESW_N_DROP_REASONS] = { 0 };
    uint64_t now_ns = (check_policy && esw_policy_ingress_needs_clock(policy)
                       ? sim_now_ns() : 0);
    size_t n_kept, n_miss = 0, n_drops = 0;
    uint32_t in_vport = src->number;
    uint64_t bytes = 0;

    if (!atomic_load_explicit(&src->admin_up, memory_order_relaxed)) {
        for (size_t i = 0; i < n; i++) {
            bytes += pkts[i]->len;
            esw_pkt_free(pkts[i]);
        }
        atomic_fetch_add_explicit(&src->counters->rx_packets, n,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&src->counters->rx_bytes, bytes,
                                  memory_order_relaxed);
        sim_vport_drop(src, ESW_DROP_LINK_DOWN, n);
        return;
    }

    if (!check_policy) {
        n_kept = sim_ingress(ctx, pkts, n, in_vport, mtu, NULL, NULL, 0,
                             drops, &n_drops, &bytes);
    } else {
        struct esw_policy_fast f = policy->fast;

        /* The usual inline configurations get code of their own, without
         * per-packet tests of the flags. */
        if (!f.ingress_inline) {
            n_kept = sim_ingress(ctx, pkts, n, in_vport, mtu, policy, &f,
                                 now_ns, drops, &n_drops, &bytes);
        } else if (f.spoofchk && f.vst) {
            f.ingress_inline = f.spoofchk = f.vst = true;
            n_kept = sim_ingress(ctx, pkts, n, in_vport, mtu, policy, &f,
                                 now_ns, drops, &n_drops, &bytes);
        } else if (f.spoofchk) {
            f.ingress_inline = f.spoofchk = true;
            f.vst = false;
            n_kept = sim_ingress(ctx, pkts, n, in_vport, mtu, policy, &f,
                                 now_ns, drops, &n_drops, &bytes);
        } else {
            f.ingress_inline = true;
            f.spoofchk = false;
            n_kept = sim_ingress(ctx, pkts, n, in_vport, mtu, policy, &f,
                                 now_ns, drops, &n_drops, &bytes);
        }
    }
    atomic_fetch_add_explicit(&src->counters->rx_packets, n,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&src->counters->rx_bytes, bytes,
                              memory_order_relaxed);
    if (n_drops) {
        for (int i = 0; i < ESW_N_DROP_REASONS; i++) {
            if (drops[i]) {
                sim_vport_drop(src, i, drops[i]);
            }
        }
    }
    if (!n_kept) {
        return;
    }

    esw_cls_lookup_batch(ctx->dev->cls, ctx->key_ptrs, n_kept, ctx->hits);
    ctx->now_ms = 0;            /* Read when the first hit is counted. */
    ctx->now_ns = 0;            /* Read when a meter first needs it. */
    /* In runs of consecutive packets that hit the same rule. */
    for (size_t i = 0, j; i < n_kept; i = j) {
        const struct sim_rule_version *ver
            = (const struct sim_rule_version *) ctx->hits[i];
        uint64_t run_bytes = ctx->kept[i]->len;

        if (!ver) {
            ctx->misses[n_miss++] = ctx->kept[i];
            j = i + 1;
            continue;
        }
        for (j = i + 1; j < n_kept && ctx->hits[j] == &ver->cls; j++) {
            run_bytes += ctx->kept[j]->len;
        }
        if (ver->chained) {
            /* Counted when (and if) each packet is done. */
            for (size_t k = i; k < j; k++) {
                struct esw_pkt *miss = sim_execute_chained(ctx, src, ver,
                                                           ctx->kept[k]);
                if (miss) {
                    ctx->misses[n_miss++] = miss;
                }
            }
            continue;
        }
        sim_stats_hit(ctx, ver, j - i, run_bytes);
        if (ver->simple_output) {
            sim_output_run(ctx, &ctx->kept[i], j - i, ver->out_vport);
        } else {
            for (size_t k = i; k < j; k++) {
                sim_execute(ctx, src, ver, ctx->kept[k]);
            }
        }
    }
    sim_stats_flush(ctx);
    sim_flush_all(ctx);

    if (n_miss) {
        sim_rep_enqueue(src, ctx->misses, n_miss);
    }
}

/* Receives and processes one batch from each vport of 'rxset'.  Returns
 * the number of packets received. */
static size_t
sim_poll(struct sim_fwd_ctx *ctx, const struct sim_rxset *rxset)
{
    struct sim_dev *dev = ctx->dev;
    size_t total = 0;

    for (size_t i = 0; i < rxset->n; i++) {
        struct sim_vport *v = rxset->vports[i];
        struct esw_io *io = v->io;
        size_t n;

        n = io->ops->rx(io, ctx->rx, dev->batch_size);
        if (!n) {
            continue;
        }
        sim_process(ctx, v, ctx->rx, n);
        if (io->ops->rx_is_empty) {
            atomic_fetch_sub_explicit(&dev->in_flight, n,
                                      memory_order_release);
        }
        total += n;
    }
    return total;
}

/* Returns true if every vport of 'rxset' agrees to sleep. */
static bool
sim_prepare_wait(const struct sim_rxset *rxset)
{
    bool may_sleep = true;

    for (size_t i = 0; i < rxset->n; i++) {
        struct esw_io *io = rxset->vports[i]->io;

        if (io->ops->prepare_wait && !io->ops->prepare_wait(io)) {
            may_sleep = false;
        }
    }
    return may_sleep;
}

/* Returns how long a forwarding thread lingers (polls before it sleeps)
 * next time, after lingering 'linger' ns and then sleeping 'slept' ns, as
 * Linux's halt-polling adapts its polling time: a wake-up that came
 * within SIM_POLL_LINGER_NS of the sleep doubles it (lingering longer
 * would have found the frame without a wake-up), a longer sleep halves it
 * (the linger was spent for nothing).  Frames that come closer together
 * than SIM_POLL_LINGER_NS thus cost no wake-up, while a thread that gets
 * frames further apart (a new flow now and then) sleeps as soon as it is
 * done: it neither burns the CPU nor, when the CPUs are busy, keeps the
 * thread it just woke (OVS's, on a miss) waiting for its CPU. */
static uint64_t
sim_linger_adapt(uint64_t linger, uint64_t slept)
{
    if (slept < SIM_POLL_LINGER_NS) {
        linger = linger ? linger * 2 : SIM_POLL_LINGER_MIN_NS;
        return linger < SIM_POLL_LINGER_NS ? linger : SIM_POLL_LINGER_NS;
    } else {
        linger /= 2;
        return linger < SIM_POLL_LINGER_MIN_NS ? 0 : linger;
    }
}

static void *
sim_thread_main(void *t_)
{
    struct sim_thread *t = t_;
    struct sim_dev *dev = t->dev;
    struct sim_fwd_ctx *ctx = calloc(1, sizeof *ctx);
    char name[16];

    if (!ctx) {
        abort();
    }
    /* "esw0-fwd0" in top -H, perf and /proc/PID/task/TID/comm. */
    snprintf(name, sizeof name, "%.8s-fwd%u", dev->up.name, t->idx);
    prctl(PR_SET_NAME, name);
    ctx->t = t;
    ctx->dev = dev;
    esw_rcu_thread_register();

    /* When its host sides run dry, the thread keeps polling them for
     * 'linger' ns and only then sleeps: a steady stream of frames then
     * costs no wake-up (an eventfd write and a context switch) per few
     * frames, and an idle device still costs nothing.  With 'busy_poll' it
     * never sleeps. */
    uint64_t linger = SIM_POLL_LINGER_NS;
    uint64_t idle_since = 0;
    while (!atomic_load_explicit(&t->stop, memory_order_acquire)) {
        const struct sim_rxset *rxset
            = atomic_load_explicit(&t->rxset, memory_order_acquire);

        size_t n = sim_poll(ctx, rxset);

        if (n) {
            idle_since = 0;
            if (n < dev->batch_size / 4 && (linger || dev->busy_poll)) {
                /* A trickle of a stream: let a batch build up for a
                 * moment rather than pay a poll per frame or two
                 * (interrupt moderation).  Not for frames that come one
                 * by one far apart: that would only delay them. */
                uint64_t until = sim_now_ns() + SIM_POLL_COALESCE_NS;

                while (sim_now_ns() < until) {
                    continue;
                }
            }
        } else if (!dev->busy_poll) {
            uint64_t now = sim_now_ns();

            if (!idle_since) {
                idle_since = now;
            }
            if (now - idle_since < linger) {
                /* Poll again. */
            } else if (sim_prepare_wait(rxset)) {
                struct epoll_event events[16];
                uint64_t value;
                ssize_t retval;

                esw_rcu_quiesce_start();
                epoll_wait(t->epfd, events, 16, -1);
                esw_rcu_quiesce_end();
                retval = read(t->wake.fd, &value, sizeof value);
                (void) retval;  /* EAGAIN: not woken by control. */
                linger = sim_linger_adapt(linger, sim_now_ns() - now);
                idle_since = 0;
                continue;
            }
        }
        esw_rcu_quiesce();
    }
    esw_rcu_quiesce_start();
    free(ctx);
    return NULL;
}

static void
sim_thread_wake(struct sim_thread *t)
{
    uint64_t one = 1;
    ssize_t retval = write(t->wake.fd, &one, sizeof one);

    (void) retval;
}

static void
sim_rxset_free_cb(void *rxset)
{
    free(rxset);
}

static struct sim_rxset *
sim_rxset_alloc(size_t n)
{
    struct sim_rxset *s = malloc(sizeof *s + n * sizeof s->vports[0]);

    if (s) {
        s->n = 0;
    }
    return s;
}

int
sim_thread_attach_vport(struct sim_dev *dev, struct sim_vport *v)
{
    struct sim_rxset *old, *new;
    struct sim_thread *t;
    int fd;

    if (!v->io) {
        return 0;
    }
    t = &dev->threads[0];
    for (size_t i = 1; i < dev->n_threads; i++) {
        if (dev->threads[i].n_vports < t->n_vports) {
            t = &dev->threads[i];
        }
    }
    fd = v->io->ops->get_fd(v->io);
    if (fd >= 0) {
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = v };

        if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev)) {
            return errno;
        }
    }
    old = atomic_load(&t->rxset);
    new = sim_rxset_alloc(old->n + 1);
    if (!new) {
        if (fd >= 0) {
            epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
        }
        return ENOMEM;
    }
    memcpy(new->vports, old->vports, old->n * sizeof old->vports[0]);
    new->vports[old->n] = v;
    new->n = old->n + 1;
    v->thread = t->idx;
    t->n_vports++;
    atomic_store_explicit(&t->rxset, new, memory_order_release);
    esw_rcu_postpone(sim_rxset_free_cb, old);
    sim_thread_wake(t);
    return 0;
}

void
sim_thread_detach_vport(struct sim_dev *dev, struct sim_vport *v)
{
    struct sim_rxset *old, *new;
    struct sim_thread *t;
    int fd;

    if (!v->io) {
        return;
    }
    t = &dev->threads[v->thread];
    fd = v->io->ops->get_fd(v->io);
    if (fd >= 0) {
        epoll_ctl(t->epfd, EPOLL_CTL_DEL, fd, NULL);
    }
    old = atomic_load(&t->rxset);
    new = sim_rxset_alloc(old->n);
    if (!new) {
        abort();
    }
    for (size_t i = 0; i < old->n; i++) {
        if (old->vports[i] != v) {
            new->vports[new->n++] = old->vports[i];
        }
    }
    t->n_vports--;
    atomic_store_explicit(&t->rxset, new, memory_order_release);
    esw_rcu_postpone(sim_rxset_free_cb, old);
}

int
sim_threads_start(struct sim_dev *dev)
{
    int error = 0;

    dev->threads = calloc(dev->n_threads, sizeof *dev->threads);
    if (!dev->threads) {
        return ENOMEM;
    }
    for (size_t i = 0; i < dev->n_threads; i++) {
        struct sim_thread *t = &dev->threads[i];

        t->dev = dev;
        t->idx = i;
        t->wake.fd = -1;
        t->epfd = -1;
        atomic_init(&t->stop, false);
        atomic_init(&t->rxset, sim_rxset_alloc(0));
    }
    for (size_t i = 0; i < dev->n_threads && !error; i++) {
        struct sim_thread *t = &dev->threads[i];
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

        if (!atomic_load(&t->rxset)) {
            error = ENOMEM;
            break;
        }
        t->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (t->epfd < 0) {
            error = errno;
            break;
        }
        error = esw_notifier_init(&t->wake);
        if (error) {
            break;
        }
        if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wake.fd, &ev)) {
            error = errno;
            break;
        }
        error = pthread_create(&t->thread, NULL, sim_thread_main, t);
        t->started = !error;
    }
    return error;
}

void
sim_threads_stop(struct sim_dev *dev)
{
    if (!dev->threads) {
        return;
    }
    for (size_t i = 0; i < dev->n_threads; i++) {
        struct sim_thread *t = &dev->threads[i];

        if (t->started) {
            atomic_store(&t->stop, true);
            sim_thread_wake(t);
            pthread_join(t->thread, NULL);
            t->started = false;
        }
    }
}

int
sim_threads_restart(struct sim_dev *dev)
{
    int error = 0;

    for (size_t i = 0; dev->threads && i < dev->n_threads && !error; i++) {
        struct sim_thread *t = &dev->threads[i];

        if (!t->started) {
            atomic_store(&t->stop, false);
            error = pthread_create(&t->thread, NULL, sim_thread_main, t);
            t->started = !error;
        }
    }
    return error;
}

void
sim_threads_free(struct sim_dev *dev)
{
    if (!dev->threads) {
        return;
    }
    for (size_t i = 0; i < dev->n_threads; i++) {
        struct sim_thread *t = &dev->threads[i];

        if (t->epfd >= 0) {
            close(t->epfd);
        }
        esw_notifier_destroy(&t->wake);
        free(atomic_load(&t->rxset));
        free(t->poll_ctx);
    }
    free(dev->threads);
    dev->threads = NULL;
}

int
esw_sim_stop_threads(struct esw_dev *dev_)
{
    if (dev_->driver != &esw_sim_driver) {
        return EINVAL;
    }
    sim_threads_stop(sim_dev_cast(dev_));
    return 0;
}

size_t
esw_sim_poll_once(struct esw_dev *dev_, unsigned int idx)
{
    struct sim_dev *dev;
    struct sim_thread *t;

    if (dev_->driver != &esw_sim_driver) {
        return 0;
    }
    dev = sim_dev_cast(dev_);
    if (idx >= dev->n_threads || dev->threads[idx].started) {
        return 0;
    }
    t = &dev->threads[idx];
    if (!t->poll_ctx) {
        t->poll_ctx = calloc(1, sizeof *t->poll_ctx);
        if (!t->poll_ctx) {
            abort();
        }
        t->poll_ctx->t = t;
        t->poll_ctx->dev = dev;
    }
    return sim_poll(t->poll_ctx,
                    atomic_load_explicit(&t->rxset, memory_order_acquire));
}

/* Pipeline stages shared with the control path: the representor queues
 * (misses) and egress (rule outputs and representor sends). */

/* The queue that a miss goes to: one flow's packets always to the same
 * one.  Hashes what identifies a flow in the frame: MAC and IP addresses,
 * IP protocol and L4 ports.  Misses only: the parse is not repeated on
 * the forwarding fast path. */
uint32_t
sim_rep_queue_select(const struct esw_pkt *pkt, uint32_t n)
{
    struct esw_key key;
    uint64_t words[7];
    uint64_t h = 0;

    esw_parse(pkt->data, pkt->len, pkt->in_vport, &key);
    memcpy(&words[0], &key.dst, 6);
    memcpy((uint8_t *) &words[0] + 6, &key.src, 2);
    memcpy(&words[1], (uint8_t *) &key.src + 2, 4);
    memcpy((uint8_t *) &words[1] + 4, &key.eth_type, 2);
    memset((uint8_t *) &words[1] + 6, 0, 2);
    memcpy(&words[2], &key.ip_src, sizeof key.ip_src);     /* [2], [3] */
    memcpy(&words[4], &key.ip_dst, sizeof key.ip_dst);     /* [4], [5] */
    words[6] = (key.ip_proto | (uint64_t) key.tp_src << 16
                | (uint64_t) key.tp_dst << 32);
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        h = (h ^ words[i]) * UINT64_C(0x9e3779b97f4a7c15);
    }
    return (uint32_t) (h >> 32) % n;
}

void
sim_rep_enqueue(struct sim_vport *src, struct esw_pkt *pkts[], size_t n)
{
    struct sim_rep_queues *rq = atomic_load_explicit(&src->rep,
                                                     memory_order_acquire);
    struct esw_sim_rep_sink *sink = atomic_load_explicit(
        &src->dev->rep_sink, memory_order_acquire);
    size_t n_queued = 0;

    if (sink && atomic_load_explicit(&sink->unattended,
                                     memory_order_relaxed)) {
        for (size_t i = 0; i < n; i++) {
            esw_pkt_free(pkts[i]);
        }
        sim_vport_drop(src, ESW_DROP_NO_CONTROLLER, n);
        return;
    } else if (sink) {
        for (size_t i = 0; i < n; i++) {
            uint32_t qi = rq->n == 1 ? 0 : sim_rep_queue_select(pkts[i],
                                                                 rq->n);

            n_queued += sink->queue(sink->aux, src->number, qi, pkts[i]);
        }
    } else if (rq->n == 1) {
        n_queued = esw_ring_enqueue_burst(&rq->q[0].ring,
                                          (void *const *) pkts, n);
        if (n_queued) {
            esw_notifier_signal(&rq->q[0].notifier);
        }
        for (size_t i = n_queued; i < n; i++) {
            esw_pkt_free(pkts[i]);
        }
    } else {
        uint32_t signal = 0;

        for (size_t i = 0; i < n; i++) {
            uint32_t qi = sim_rep_queue_select(pkts[i], rq->n);

            if (esw_ring_enqueue_burst(&rq->q[qi].ring,
                                       (void *const *) &pkts[i], 1)) {
                signal |= 1u << qi;
                n_queued++;
            } else {
                esw_pkt_free(pkts[i]);
            }
        }
        for (uint32_t qi = 0; qi < rq->n; qi++) {
            if (signal & (1u << qi)) {
                esw_notifier_signal(&rq->q[qi].notifier);
            }
        }
    }
    if (n_queued) {
        atomic_fetch_add_explicit(&src->counters->rep_rx_packets, n_queued,
                                  memory_order_relaxed);
    }
    if (n_queued < n) {
        sim_vport_drop(src, ESW_DROP_MISS_QUEUE_FULL, n - n_queued);
    }
}

/* Returns the L3 length of 'pkt': the frame without its Ethernet header and
 * up to two VLAN tags, as compared with the MTU. */
uint32_t
sim_l3_len(const struct esw_pkt *pkt)
{
    uint32_t hdr = ESW_ETH_HDR_LEN;

    for (int i = 0; i < ESW_MAX_VLANS; i++) {
        uint16_t tpid;

        if (pkt->len < hdr + ESW_VLAN_HDR_LEN) {
            break;
        }
        tpid = pkt->data[hdr - 2] << 8 | pkt->data[hdr - 1];
        if (tpid != ESW_TPID_8021Q && tpid != ESW_TPID_8021AD) {
            break;
        }
        hdr += ESW_VLAN_HDR_LEN;
    }
    return pkt->len > hdr ? pkt->len - hdr : 0;
}

void
sim_egress(struct sim_dev *dev, struct sim_vport *dst,
           struct esw_pkt *pkts[], size_t n)
{
    const struct esw_policy *p = atomic_load_explicit(&dst->policy,
                                                      memory_order_acquire);
    uint32_t mtu = atomic_load_explicit(&dst->mtu, memory_order_relaxed);
    uint64_t drops[ESW_N_DROP_REASONS] = { 0 };
    bool any_drop = false;
    uint64_t bytes = 0;
    size_t n_ok = 0, n_tx;

    if (!atomic_load_explicit(&dst->admin_up, memory_order_relaxed)
        || (dst->io && dst->io->ops->is_up
            && !dst->io->ops->is_up(dst->io))) {
        drops[ESW_DROP_LINK_DOWN] = n;
        any_drop = true;
        for (size_t i = 0; i < n; i++) {
            esw_pkt_free(pkts[i]);
        }
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        struct esw_pkt *pkt = pkts[i];
        enum esw_drop_reason reason;

        if (p && !esw_policy_egress_is_noop(p)
            && !esw_policy_egress(p, pkt, NULL, &reason)) {
            /* Dropped by policy. */
        } else if (pkt->len > mtu + ESW_ETH_HDR_LEN
                   && sim_l3_len(pkt) > mtu) {
            /* (The L3 length is at most the length minus 14.) */
            reason = ESW_DROP_MTU;
        } else {
            bytes += pkt->len;
            pkts[n_ok++] = pkt;
            continue;
        }
        drops[reason]++;
        any_drop = true;
        esw_pkt_free(pkt);
    }
    if (n_ok) {
        n_tx = dst->io ? dst->io->ops->tx(dst->io, pkts, n_ok) : 0;
        if (!dst->io) {
            for (size_t i = 0; i < n_ok; i++) {
                esw_pkt_free(pkts[i]);
            }
        }
        if (n_tx < n_ok) {
            /* Bytes of what got through are not known exactly when a
             * backend drops some: count the average. */
            bytes = n_tx ? bytes / n_ok * n_tx : 0;
            drops[ESW_DROP_HOST_TX] += n_ok - n_tx;
            any_drop = true;
        }
        if (n_tx) {
            atomic_fetch_add_explicit(&dst->counters->tx_packets, n_tx,
                                      memory_order_relaxed);
            atomic_fetch_add_explicit(&dst->counters->tx_bytes, bytes,
                                      memory_order_relaxed);
        }
    }
    if (any_drop) {
        for (int i = 0; i < ESW_N_DROP_REASONS; i++) {
            if (drops[i]) {
                sim_vport_drop(dst, i, drops[i]);
            }
        }
    }
    (void) dev;
}
