/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The sim driver's connection table (esw.h, "Connection tracking").
 *
 * One hash table of nodes, two per entry (its original and reply tuples
 * in its zone), with chained buckets that forwarding threads walk without
 * locks: writers, under the device's 'ctl_mutex', link a node at the head
 * of its bucket and unlink it in place; an unlinked node keeps its 'next'
 * so that a reader standing on it goes on, and the memory goes after an
 * esw-rcu grace period.  The mark and label an entry gives packets are an
 * RCU-swapped 'struct sim_ct_meta', so that a packet never sees a mark of
 * one version with the label of another. */

#include "esw-sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "esw-rcu.h"

struct sim_ct_meta {
    uint32_t mark;
    uint64_t label[2];
};

struct sim_ct_node {
    struct sim_ct_node *_Atomic next;
    struct esw_ct *ct;
    uint32_t hash;
    int dir;                        /* 0: original, 1: reply. */
};

struct esw_ct {
    struct sim_dev *dev;
    struct esw_ct_spec spec;        /* Mark and label: under 'ctl_mutex'. */
    _Atomic(struct sim_ct_meta *) meta;     /* RCU. */
    struct sim_ct_node nodes[2];
    _Atomic bool installed;         /* In the table; changed under
                                     * 'ctl_mutex'. */
    struct esw_ct *prev, *next;     /* All handles, under 'ctl_mutex'. */

    _Atomic uint64_t packets[2], bytes[2];
    _Atomic uint64_t used_ms;
};

struct sim_ct_table {
    uint32_t mask;                  /* Buckets - 1. */
    struct sim_ct_node *_Atomic *buckets;
    size_t n_installed;             /* Under 'ctl_mutex'. */
    struct esw_ct *head, *tail;     /* Under 'ctl_mutex'. */
};

static inline uint32_t
ct_mix(uint32_t h, uint32_t x)
{
    x *= 0xcc9e2d51;
    x = (x << 15) | (x >> 17);
    x *= 0x1b873593;
    h ^= x;
    h = (h << 13) | (h >> 19);
    return h * 5 + 0xe6546b64;
}

/* The key of a lookup: a packet's tuple (esw_pkt_ct_check()), or an
 * entry's in 'zone'. */
static uint32_t
ct_hash(uint16_t zone, const struct esw_ct_pkt *k)
{
    uint32_t h = zone;

    for (size_t i = 0; i < (k->ipv6 ? 16 : 4); i += 4) {
        uint32_t s, d;

        memcpy(&s, &k->src.ip6.s6_addr[i], 4);
        memcpy(&d, &k->dst.ip6.s6_addr[i], 4);
        h = ct_mix(h, s);
        h = ct_mix(h, d);
    }
    h = ct_mix(h, (uint32_t) k->src_port << 16 | k->dst_port);
    h = ct_mix(h, (uint32_t) k->ipv6 << 8 | k->ip_proto);
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    return h;
}

static void
ct_tuple_key(const struct esw_ct_spec *spec, const struct esw_ct_tuple *t,
             struct esw_ct_pkt *k)
{
    memset(k, 0, sizeof *k);
    k->src = t->src;
    k->dst = t->dst;
    k->src_port = t->src_port;
    k->dst_port = t->dst_port;
    k->ip_proto = t->ip_proto;
    k->ipv6 = spec->ipv6;
}

static const struct esw_ct_tuple *
ct_node_tuple(const struct sim_ct_node *node)
{
    return node->dir ? &node->ct->spec.reply : &node->ct->spec.orig;
}

static struct sim_ct_node *
ct_lookup(const struct sim_ct_table *t, uint16_t zone,
          const struct esw_ct_pkt *k)
{
    uint32_t hash = ct_hash(zone, k);
    struct sim_ct_node *node;

    for (node = atomic_load_explicit(&t->buckets[hash & t->mask],
                                     memory_order_acquire);
         node;
         node = atomic_load_explicit(&node->next, memory_order_acquire)) {
        const struct esw_ct_spec *spec = &node->ct->spec;
        const struct esw_ct_tuple *tp;

        if (node->hash != hash) {
            continue;
        }
        tp = ct_node_tuple(node);
        if (spec->zone == zone && spec->ipv6 == k->ipv6
            && !memcmp(&tp->src, &k->src, sizeof tp->src)
            && !memcmp(&tp->dst, &k->dst, sizeof tp->dst)
            && tp->src_port == k->src_port && tp->dst_port == k->dst_port
            && tp->ip_proto == k->ip_proto) {
            return node;
        }
    }
    return NULL;
}

static uint32_t
ct_tuple_hash(const struct esw_ct_spec *spec, const struct esw_ct_tuple *tp)
{
    struct esw_ct_pkt k;

    ct_tuple_key(spec, tp, &k);
    return ct_hash(spec->zone, &k);
}

static struct sim_ct_node *
ct_lookup_tuple(const struct sim_ct_table *t, const struct esw_ct_spec *spec,
                const struct esw_ct_tuple *tp)
{
    struct esw_ct_pkt k;

    ct_tuple_key(spec, tp, &k);
    return ct_lookup(t, spec->zone, &k);
}

int
sim_ct_create(struct sim_dev *dev)
{
    uint32_t max = dev->up.caps.max_conns;
    uint32_t n = 1;
    struct sim_ct_table *t;

    /* Two nodes per entry, about one per bucket. */
    while (n < 2 * (uint64_t) max) {
        n <<= 1;
    }
    t = calloc(1, sizeof *t);
    if (!t) {
        return ENOMEM;
    }
    t->buckets = calloc(n, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return ENOMEM;
    }
    t->mask = n - 1;
    dev->ct = t;
    return 0;
}

static void
ct_free_cb(void *ct_)
{
    struct esw_ct *ct = ct_;

    free(atomic_load_explicit(&ct->meta, memory_order_relaxed));
    free(ct);
}

static void
ct_unlink_node(struct sim_ct_table *t, struct sim_ct_node *node)
{
    struct sim_ct_node *_Atomic *prevp = &t->buckets[node->hash & t->mask];
    struct sim_ct_node *cur;

    while ((cur = atomic_load_explicit(prevp, memory_order_relaxed))) {
        if (cur == node) {
            atomic_store_explicit(prevp,
                                  atomic_load_explicit(&node->next,
                                                       memory_order_relaxed),
                                  memory_order_release);
            return;
        }
        prevp = &cur->next;
    }
}

/* Takes 'ct' out of the table (its handle stays). */
static void
ct_uninstall(struct sim_ct_table *t, struct esw_ct *ct)
{
    if (atomic_load_explicit(&ct->installed, memory_order_relaxed)) {
        ct_unlink_node(t, &ct->nodes[0]);
        ct_unlink_node(t, &ct->nodes[1]);
        atomic_store_explicit(&ct->installed, false, memory_order_relaxed);
        t->n_installed--;
    }
}

void
sim_ct_destroy(struct sim_dev *dev)
{
    struct sim_ct_table *t = dev->ct;

    if (!t) {
        return;
    }
    for (struct esw_ct *ct = t->head, *next; ct; ct = next) {
        next = ct->next;
        ct_uninstall(t, ct);
        esw_rcu_postpone(ct_free_cb, ct);
    }
    esw_rcu_postpone(free, t->buckets);
    esw_rcu_postpone(free, t);
    dev->ct = NULL;
}

bool
sim_ct_execute(struct sim_dev *dev, struct esw_pkt *pkt,
               const struct esw_action *a, struct sim_ct_md *md,
               struct sim_ct_hit *hit)
{
    const struct sim_ct_table *t = dev->ct;
    const struct sim_ct_meta *meta;
    const struct esw_ct_spec *spec;
    struct sim_ct_node *node;
    struct esw_layout l;
    struct esw_ct_pkt cp;
    uint16_t zone = a->ct.zone;
    uint8_t state;

    if (!t) {
        return false;
    }
    esw_pkt_layout(pkt->data, pkt->len, ESW_MAX_VLANS, &l);
    if (!esw_pkt_ct_check(pkt, &l, &cp)) {
        return false;
    }
    node = ct_lookup(t, zone, &cp);
    if (!node) {
        return false;
    }
    spec = &node->ct->spec;

    /* As OVS: the state of an earlier ct() of another zone is reset; the
     * established connection's direction is added to it. */
    state = md->state && md->zone == zone ? md->state : 0;
    state = (state & ~ESW_CS_NEW) | ESW_CS_TRACKED | ESW_CS_ESTABLISHED;
    if (node->dir) {
        state |= ESW_CS_REPLY_DIR;
    }
    if (a->ct.nat && spec->nat
        && !(state & (ESW_CS_SRC_NAT | ESW_CS_DST_NAT))) {
        /* The packet leaves with the reverse of the other direction's
         * tuple: its source or destination translated (OVS's nat_packet(),
         * the reply's NAT being the reverse of the original's). */
        const struct esw_ct_tuple *other = node->dir ? &spec->orig
                                                     : &spec->reply;
        bool snat = (node->dir ? spec->nat & ESW_CT_NAT_DST
                               : spec->nat & ESW_CT_NAT_SRC) != 0;

        /* ICMP: the addresses only (esw_pkt_nat() ignores the ports,
         * which are the other direction's id and type). */
        if (snat) {
            esw_pkt_nat(pkt, &l, true, &other->dst, other->dst_port,
                        other->src_port);
            state |= ESW_CS_SRC_NAT;
        } else {
            esw_pkt_nat(pkt, &l, false, &other->src, other->dst_port,
                        other->src_port);
            state |= ESW_CS_DST_NAT;
        }
    }
    meta = atomic_load_explicit(&node->ct->meta, memory_order_acquire);
    md->state = state;
    md->zone = zone;
    md->mark = meta->mark;
    md->label[0] = meta->label[0];
    md->label[1] = meta->label[1];
    hit->ct = node->ct;
    hit->dir = node->dir;
    return true;
}

void
sim_ct_count(const struct sim_ct_hit *hit, uint32_t len, uint64_t now_ms)
{
    struct esw_ct *ct = hit->ct;

    atomic_fetch_add_explicit(&ct->packets[hit->dir], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&ct->bytes[hit->dir], len,
                              memory_order_relaxed);
    atomic_store_explicit(&ct->used_ms, now_ms, memory_order_relaxed);
}

static struct sim_ct_meta *
ct_meta_new(uint32_t mark, const uint64_t label[2])
{
    struct sim_ct_meta *meta = malloc(sizeof *meta);

    if (meta) {
        meta->mark = mark;
        meta->label[0] = label[0];
        meta->label[1] = label[1];
    }
    return meta;
}

int
sim_ct_add(struct esw_dev *dev_, const struct esw_ct_spec *spec,
           struct esw_error *err, struct esw_ct **ctp)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_ct_table *t = dev->ct;
    struct esw_ct *ct;
    int error = 0;

    pthread_mutex_lock(&dev->ctl_mutex);
    if (t->n_installed >= dev->up.caps.max_conns) {
        error = esw_error_set(err, ENOSPC, ESW_ERROR_CAPACITY, -1,
                              "connection table full (%"PRIu32" entries)",
                              dev->up.caps.max_conns);
        goto out;
    }
    for (int dir = 0; dir < 2; dir++) {
        const struct esw_ct_tuple *tp = dir ? &spec->reply : &spec->orig;

        if (ct_lookup_tuple(t, spec, tp)) {
            error = esw_error_set(err, EEXIST, ESW_ERROR_CT, -1,
                                  "the %s tuple is in zone %u already",
                                  dir ? "reply" : "original", spec->zone);
            goto out;
        }
    }
    ct = calloc(1, sizeof *ct);
    if (!ct) {
        error = esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                              "out of memory");
        goto out;
    }
    ct->dev = dev;
    ct->spec = *spec;
    atomic_init(&ct->meta, ct_meta_new(spec->mark, spec->label));
    if (!atomic_load_explicit(&ct->meta, memory_order_relaxed)) {
        free(ct);
        error = esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                              "out of memory");
        goto out;
    }
    for (int dir = 0; dir < 2; dir++) {
        struct sim_ct_node *node = &ct->nodes[dir];
        struct sim_ct_node *_Atomic *bucket;

        node->ct = ct;
        node->dir = dir;
        node->hash = ct_tuple_hash(spec, dir ? &spec->reply : &spec->orig);
        bucket = &t->buckets[node->hash & t->mask];
        atomic_init(&node->next,
                    atomic_load_explicit(bucket, memory_order_relaxed));
        atomic_store_explicit(bucket, node, memory_order_release);
    }
    atomic_init(&ct->installed, true);
    t->n_installed++;
    ct->prev = t->tail;
    if (t->tail) {
        t->tail->next = ct;
    } else {
        t->head = ct;
    }
    t->tail = ct;
    *ctp = ct;
out:
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

int
sim_ct_modify(struct esw_dev *dev_, struct esw_ct *ct, uint32_t mark,
              const uint64_t label[2])
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_ct_meta *meta, *old;
    int error = 0;

    pthread_mutex_lock(&dev->ctl_mutex);
    if (!atomic_load_explicit(&ct->installed, memory_order_relaxed)) {
        error = ENOENT;
    } else if (!(meta = ct_meta_new(mark, label))) {
        error = ENOMEM;
    } else {
        ct->spec.mark = mark;
        ct->spec.label[0] = label[0];
        ct->spec.label[1] = label[1];
        old = atomic_exchange_explicit(&ct->meta, meta,
                                       memory_order_acq_rel);
        esw_rcu_postpone(free, old);
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

void
sim_ct_del(struct esw_dev *dev_, struct esw_ct *ct)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_ct_table *t = dev->ct;

    pthread_mutex_lock(&dev->ctl_mutex);
    ct_uninstall(t, ct);
    if (ct->prev) {
        ct->prev->next = ct->next;
    } else {
        t->head = ct->next;
    }
    if (ct->next) {
        ct->next->prev = ct->prev;
    } else {
        t->tail = ct->prev;
    }
    esw_rcu_postpone(ct_free_cb, ct);
    pthread_mutex_unlock(&dev->ctl_mutex);
}

size_t
sim_ct_flush(struct esw_dev *dev_, const uint16_t *zone)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_ct_table *t = dev->ct;
    size_t n = 0;

    pthread_mutex_lock(&dev->ctl_mutex);
    for (struct esw_ct *ct = t->head; ct; ct = ct->next) {
        if (atomic_load_explicit(&ct->installed, memory_order_relaxed)
            && (!zone || ct->spec.zone == *zone)) {
            ct_uninstall(t, ct);
            n++;
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return n;
}

int
sim_ct_get_stats(struct esw_dev *dev_, const struct esw_ct *ct_,
                 struct esw_ct_stats *stats)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct esw_ct *ct = (struct esw_ct *) ct_;

    for (int dir = 0; dir < 2; dir++) {
        stats->packets[dir] = atomic_load_explicit(&ct->packets[dir],
                                                   memory_order_relaxed);
        stats->bytes[dir] = atomic_load_explicit(&ct->bytes[dir],
                                                 memory_order_relaxed);
    }
    stats->used_ms = atomic_load_explicit(&ct->used_ms, memory_order_relaxed);
    (void) dev;
    stats->flushed = !atomic_load_explicit(&ct->installed,
                                           memory_order_relaxed);
    return 0;
}

void
sim_ct_get_spec(struct esw_dev *dev_, const struct esw_ct *ct,
                struct esw_ct_spec *spec)
{
    (void) dev_;
    *spec = ct->spec;
}

size_t
sim_ct_count_entries(struct esw_dev *dev_)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    size_t n;

    pthread_mutex_lock(&dev->ctl_mutex);
    n = dev->ct->n_installed;
    pthread_mutex_unlock(&dev->ctl_mutex);
    return n;
}

void
sim_ct_foreach(struct esw_dev *dev_, bool (*cb)(struct esw_ct *, void *),
               void *aux)
{
    struct sim_dev *dev = sim_dev_cast(dev_);

    pthread_mutex_lock(&dev->ctl_mutex);
    for (struct esw_ct *ct = dev->ct->head; ct; ct = ct->next) {
        if (!cb(ct, aux)) {
            break;
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
}
