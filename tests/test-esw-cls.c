/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests for datapath/esw-cls and datapath/esw-rcu.
 *
 * Usage: test-esw-cls COMMAND [ARG...]
 *
 *   basic                      priorities, overlaps, tie-break, errors
 *   capacity                   ENOSPC, set_capacity
 *   random SEED RULES MASKS    random rules vs. a brute-force reference
 *   renumber                   tie-break across insertion-counter wrap
 *   rcu                        grace periods and callbacks
 *   concurrent SEED READERS OPS  readers vs. a churning writer
 *
 * Output on stdout is deterministic; timing-dependent counts go to stderr.
 * Exits with status 1 on the first failure. */

/* For usleep() even under -std=c11. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "datapath/cls/esw-cls.h"
#include "datapath/cls/esw-rcu.h"
#include "tests/unit-check.h"

/* Deterministic PRNG (splitmix64). */
static uint64_t prng_state;

static uint64_t
prng(void)
{
    uint64_t z = (prng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint32_t
rnd(uint32_t n)
{
    return prng() % n;
}

/* Test rules. */
#define MAGIC_LIVE 0x1157ab1e
#define MAGIC_DEAD 0xdeadbeef

struct trule {
    struct esw_cls_rule cr;
    uint64_t order;             /* Reference tie-break: lower wins. */
    uint32_t id;
    _Atomic(uint32_t) magic;
    bool in;
};

static struct trule *
trule_cast(const struct esw_cls_rule *cr)
{
    return cr ? (struct trule *) ((char *) cr - offsetof(struct trule, cr))
              : NULL;
}

static struct trule *
trule_new(uint32_t id)
{
    struct trule *r = calloc(1, sizeof *r);
    CHECK(r);
    r->id = id;
    atomic_init(&r->magic, MAGIC_LIVE);
    return r;
}

static void
trule_free_cb(void *r_)
{
    struct trule *r = r_;
    atomic_store(&r->magic, MAGIC_DEAD);
    free(r);
}

static void
key_mask(const struct esw_key *key, const struct esw_key *mask,
         struct esw_key *out)
{
    for (int i = 0; i < ESW_KEY_WORDS; i++) {
        out->w[i] = key->w[i] & mask->w[i];
    }
}

static bool
rule_matches(const struct esw_cls_rule *r, const struct esw_key *key)
{
    for (int i = 0; i < ESW_KEY_WORDS; i++) {
        if ((key->w[i] & r->mask.w[i]) != r->match.w[i]) {
            return false;
        }
    }
    return true;
}

static void
trule_set(struct trule *r, const struct esw_key *key,
          const struct esw_key *mask, uint32_t priority)
{
    r->cr.mask = *mask;
    key_mask(key, mask, &r->cr.match);
    r->cr.priority = priority;
}

/* Brute-force reference: higher priority, then lower 'order', wins. */
struct ref {
    struct trule **rules;
    size_t n, allocated;
    uint64_t next_order;
};

static void
ref_add(struct ref *ref, struct trule *r, bool keep_order)
{
    if (ref->n >= ref->allocated) {
        ref->allocated = ref->allocated ? 2 * ref->allocated : 64;
        ref->rules = realloc(ref->rules, ref->allocated * sizeof *ref->rules);
        CHECK(ref->rules);
    }
    if (!keep_order) {
        r->order = ref->next_order++;
    }
    r->in = true;
    ref->rules[ref->n++] = r;
}

static void
ref_del(struct ref *ref, struct trule *r)
{
    for (size_t i = 0; i < ref->n; i++) {
        if (ref->rules[i] == r) {
            ref->rules[i] = ref->rules[--ref->n];
            r->in = false;
            return;
        }
    }
    CHECK_FAIL("rule %"PRIu32" is not in the reference", r->id);
}

static const struct trule *
ref_lookup(const struct ref *ref, const struct esw_key *key)
{
    const struct trule *best = NULL;

    for (size_t i = 0; i < ref->n; i++) {
        const struct trule *r = ref->rules[i];
        if (rule_matches(&r->cr, key)
            && (!best || r->cr.priority > best->cr.priority
                || (r->cr.priority == best->cr.priority
                    && r->order < best->order))) {
            best = r;
        }
    }
    return best;
}

static bool
ref_has_dup(const struct ref *ref, const struct trule *r)
{
    for (size_t i = 0; i < ref->n; i++) {
        const struct trule *q = ref->rules[i];
        if (q->cr.priority == r->cr.priority
            && !memcmp(&q->cr.mask, &r->cr.mask, sizeof r->cr.mask)
            && !memcmp(&q->cr.match, &r->cr.match, sizeof r->cr.match)) {
            return true;
        }
    }
    return false;
}

static size_t
ref_n_masks(const struct ref *ref)
{
    size_t n = 0;

    for (size_t i = 0; i < ref->n; i++) {
        size_t j;
        for (j = 0; j < i; j++) {
            if (!memcmp(&ref->rules[i]->cr.mask, &ref->rules[j]->cr.mask,
                        sizeof(struct esw_key))) {
                break;
            }
        }
        n += j == i;
    }
    return n;
}

/* Random keys from small per-field domains, so that rules overlap. */
static void
random_key(struct esw_key *k)
{
    memset(k, 0, sizeof *k);
    k->in_vport = rnd(4);
    k->eth_type = htons(rnd(2) ? ESW_ETH_TYPE_IPV4 : ESW_ETH_TYPE_IPV6);
    k->dst.ea[0] = 2;
    k->dst.ea[5] = rnd(4);
    k->src.ea[0] = 2;
    k->src.ea[5] = rnd(4);
    if (rnd(2)) {
        k->n_vlans = 1;
        k->vlans[0].tpid = htons(ESW_TPID_8021Q);
        k->vlans[0].tci = htons(rnd(4));
    }
    for (int i = 0; i < 2; i++) {
        /* One call per statement: argument order is unspecified. */
        uint32_t a = rnd(4) << 16;
        uint32_t b = rnd(4) << 8;
        uint32_t c = rnd(4);
        uint32_t ip = htonl(0x0a000000 | a | b | c);

        if (i) {
            k->ip_dst.ip4 = ip;
        } else {
            k->ip_src.ip4 = ip;
        }
    }
    k->ip_proto = rnd(2) ? 6 : 17;
    k->ip_tos = rnd(2) << 2;
    k->tp_src = htons(rnd(4));
    k->tp_dst = htons(rnd(8));
    k->tcp_flags = htons(rnd(4));
}

static uint32_t
prefix_mask(int len)
{
    return len ? htonl(UINT32_MAX << (32 - len)) : 0;
}

/* A random mask over a random subset of fields. */
static void
random_mask(struct esw_key *m)
{
    static const int plens[] = { 8, 16, 24, 30, 32 };

    memset(m, 0, sizeof *m);
    do {
        if (rnd(2)) {
            m->in_vport = UINT32_MAX;
        }
        if (rnd(3) == 0) {
            m->eth_type = UINT16_MAX;
        }
        if (rnd(4) == 0) {
            memset(&m->dst, 0xff, sizeof m->dst);
        }
        if (rnd(4) == 0) {
            memset(&m->src, 0xff, sizeof m->src);
        }
        if (rnd(4) == 0) {
            m->vlans[0].tci = htons(0x0fff);
            m->vlans[0].tpid = UINT16_MAX;
        }
        if (rnd(2)) {
            m->ip_src.ip4 = prefix_mask(plens[rnd(5)]);
        }
        if (rnd(2)) {
            m->ip_dst.ip4 = prefix_mask(plens[rnd(5)]);
        }
        if (rnd(3) == 0) {
            m->ip_proto = UINT8_MAX;
        }
        if (rnd(5) == 0) {
            m->ip_tos = 0xfc;
        }
        if (rnd(4) == 0) {
            m->tp_src = UINT16_MAX;
        }
        if (rnd(3) == 0) {
            m->tp_dst = rnd(2) ? UINT16_MAX : htons(0xfffc);
        }
        if (rnd(6) == 0) {
            m->tcp_flags = htons(0x0fff);
        }
    } while (!rnd(4));          /* Rarely empty; sometimes more fields. */
}

/* Checks 'n' lookups (half random, half derived from rules) against the
 * reference, single and batched.  Returns the number of hits. */
static size_t
check_lookups(const struct esw_cls *cls, const struct ref *ref, size_t n)
{
    enum { B = 37 };
    const struct esw_key *kp[B];
    const struct esw_cls_rule *out[B];
    struct esw_key keys[B];
    size_t hits = 0;

    for (size_t done = 0; done < n; done += B) {
        for (int i = 0; i < B; i++) {
            random_key(&keys[i]);
            if (rnd(2)) {
                int w = rnd(ESW_KEY_WORDS);
                uint64_t bits = prng();

                keys[i].w[w] ^= bits & prng();
            } else if (ref->n) {
                const struct trule *r = ref->rules[rnd(ref->n)];
                for (int w = 0; w < ESW_KEY_WORDS; w++) {
                    keys[i].w[w] = (keys[i].w[w] & ~r->cr.mask.w[w])
                                   | r->cr.match.w[w];
                }
            }
            kp[i] = &keys[i];
        }
        esw_cls_lookup_batch(cls, kp, B, out);
        for (int i = 0; i < B; i++) {
            const struct trule *exp = ref_lookup(ref, &keys[i]);
            const struct trule *got
                = trule_cast(esw_cls_lookup(cls, &keys[i]));
            if (got != exp || trule_cast(out[i]) != exp) {
                CHECK_FAIL("lookup mismatch: expected rule %d, got %d, "
                           "batch %d (-1: none)", exp ? (int) exp->id : -1,
                           got ? (int) got->id : -1,
                           out[i] ? (int) trule_cast(out[i])->id : -1);
            }
            hits += exp != NULL;
        }
    }
    return hits;
}

static void
free_all(struct esw_cls *cls, struct ref *ref)
{
    esw_cls_destroy(cls);
    for (size_t i = 0; i < ref->n; i++) {
        esw_rcu_postpone(trule_free_cb, ref->rules[i]);
    }
    free(ref->rules);
    esw_rcu_barrier();
}

/* random SEED RULES MASKS */
static void
cmd_random(int argc, char *argv[])
{
    CHECK_EQ(argc, 3);
    uint64_t seed = strtoull(argv[0], NULL, 0);
    size_t n_rules = strtoul(argv[1], NULL, 0);
    size_t n_masks = strtoul(argv[2], NULL, 0);
    struct esw_key *masks = calloc(n_masks, sizeof *masks);
    struct esw_cls *cls = esw_cls_create(n_rules);
    struct ref ref = { 0 };
    size_t n_eexist = 0, n_replaced = 0, hits;
    uint32_t id = 0;

    prng_state = seed;
    for (size_t i = 0; i < n_masks; i++) {
        random_mask(&masks[i]);
    }

    /* Insert. */
    while (ref.n < n_rules) {
        struct trule *r = trule_new(id++);
        struct esw_key k;
        int error;

        random_key(&k);
        int m = rnd(n_masks);

        trule_set(r, &k, &masks[m], rnd(8));
        bool dup = ref_has_dup(&ref, r);
        error = esw_cls_insert(cls, &r->cr);
        CHECK_EQ(error, dup ? EEXIST : 0);
        if (error) {
            free(r);
            n_eexist++;
        } else {
            ref_add(&ref, r, false);
        }
    }
    CHECK_EQ(esw_cls_count(cls), ref.n);
    CHECK_EQ(esw_cls_n_masks(cls), ref_n_masks(&ref));
    hits = check_lookups(cls, &ref, 20000);
    printf("random: %zu rules, %zu masks: lookups ok\n",
           ref.n, esw_cls_n_masks(cls));
    fprintf(stderr, "hits %zu/20000, eexist %zu\n", hits, n_eexist);

    /* Exact finds. */
    for (size_t i = 0; i < ref.n; i += 7) {
        const struct trule *r = ref.rules[i];
        CHECK_PTR_EQ(esw_cls_find_exact(cls, &r->cr.match, &r->cr.mask,
                                        r->cr.priority), &r->cr);
    }

    /* Replace a third of the rules: sometimes the same match (in place),
     * sometimes a new one (new rule inherits the tie-break position). */
    for (size_t i = 0; i < ref.n / 3; i++) {
        struct trule *old = ref.rules[rnd(ref.n)];
        struct trule *new = trule_new(id++);
        struct esw_key k;
        int error;

        if (rnd(2)) {
            new->cr = old->cr;
        } else {
            int m;

            random_key(&k);
            m = rnd(n_masks);
            trule_set(new, &k, &masks[m], rnd(8));
        }
        ref_del(&ref, old);
        bool dup = ref_has_dup(&ref, new);
        error = esw_cls_replace(cls, &old->cr, &new->cr);
        CHECK_EQ(error, dup ? EEXIST : 0);
        if (error) {
            ref_add(&ref, old, true);
            free(new);
        } else {
            new->order = old->order;
            ref_add(&ref, new, true);
            esw_rcu_postpone(trule_free_cb, old);
            n_replaced++;
        }
    }
    CHECK_EQ(esw_cls_count(cls), ref.n);
    check_lookups(cls, &ref, 10000);
    printf("random: replace: lookups ok\n");

    /* Remove about half. */
    for (size_t i = 0; i < n_rules / 2 && ref.n; i++) {
        struct trule *r = ref.rules[rnd(ref.n)];
        ref_del(&ref, r);
        esw_cls_remove(cls, &r->cr);
        esw_rcu_postpone(trule_free_cb, r);
    }
    CHECK_EQ(esw_cls_count(cls), ref.n);
    CHECK_EQ(esw_cls_n_masks(cls), ref_n_masks(&ref));
    check_lookups(cls, &ref, 10000);
    printf("random: remove: %zu rules left, lookups ok\n", ref.n);

    /* Remove all: the table must be empty, with no subtable left. */
    while (ref.n) {
        struct trule *r = ref.rules[ref.n - 1];
        ref_del(&ref, r);
        esw_cls_remove(cls, &r->cr);
        esw_rcu_postpone(trule_free_cb, r);
    }
    CHECK_EQ(esw_cls_count(cls), 0);
    CHECK_EQ(esw_cls_n_masks(cls), 0);
    CHECK_EQ(check_lookups(cls, &ref, 1000), 0);
    printf("random: empty: ok\n");
    fprintf(stderr, "replaced %zu\n", n_replaced);

    free(masks);
    free_all(cls, &ref);
}

/* A rule on 'in_vport' and/or 'ip_dst' prefix. */
static struct trule *
mk(uint32_t id, int vport, int dst_plen, uint32_t dst, uint32_t priority)
{
    struct trule *r = trule_new(id);
    struct esw_key k, m;

    memset(&k, 0, sizeof k);
    memset(&m, 0, sizeof m);
    if (vport >= 0) {
        k.in_vport = vport;
        m.in_vport = UINT32_MAX;
    }
    k.ip_dst.ip4 = htonl(dst);
    m.ip_dst.ip4 = prefix_mask(dst_plen);
    trule_set(r, &k, &m, priority);
    return r;
}

static struct esw_key
pkt(uint32_t vport, uint32_t dst)
{
    struct esw_key k;

    memset(&k, 0, sizeof k);
    k.in_vport = vport;
    k.ip_dst.ip4 = htonl(dst);
    return k;
}

static uint32_t
lookup_id(const struct esw_cls *cls, uint32_t vport, uint32_t dst)
{
    struct esw_key k = pkt(vport, dst);
    const struct trule *r = trule_cast(esw_cls_lookup(cls, &k));
    return r ? r->id : 0;
}

static void
cmd_basic(int argc, char *argv[])
{
    struct esw_cls *cls = esw_cls_create(100);
    struct ref ref = { 0 };
    struct trule *r[10];

    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 0);

    /* Overlapping masks and priorities. */
    r[1] = mk(1, 1, 0, 0, 10);                  /* in_vport=1 */
    r[2] = mk(2, -1, 24, 0x0a000000, 20);       /* dst 10.0.0.0/24 */
    r[3] = mk(3, 1, 32, 0x0a000001, 5);         /* vport 1, 10.0.0.1 */
    for (int i = 1; i <= 3; i++) {
        CHECK_EQ(esw_cls_insert(cls, &r[i]->cr), 0);
        ref_add(&ref, r[i], false);
    }
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 2);
    CHECK_EQ(lookup_id(cls, 1, 0x0b000001), 1);
    CHECK_EQ(lookup_id(cls, 2, 0x0a000009), 2);
    CHECK_EQ(lookup_id(cls, 2, 0x0b000001), 0);
    CHECK_EQ(esw_cls_n_masks(cls), 3);
    printf("basic: priorities: ok\n");

    /* Tie-break: equal priority, overlapping: the older rule wins. */
    r[4] = mk(4, 1, 16, 0x0a000000, 20);        /* Same prio as r[2]. */
    CHECK_EQ(esw_cls_insert(cls, &r[4]->cr), 0);
    ref_add(&ref, r[4], false);
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 2);  /* r[2] is older. */
    CHECK_EQ(lookup_id(cls, 1, 0x0a00ff01), 4);
    esw_cls_remove(cls, &r[2]->cr);
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 4);
    CHECK_EQ(esw_cls_insert(cls, &r[2]->cr), 0);     /* Now younger. */
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 4);
    printf("basic: tie-break: ok\n");

    /* Same match and mask, different priorities: a chain. */
    r[5] = mk(5, 1, 16, 0x0a000000, 30);
    r[6] = mk(6, 1, 16, 0x0a000000, 25);
    r[7] = mk(7, 1, 16, 0x0a000000, 20);        /* Duplicate of r[4]. */
    CHECK_EQ(esw_cls_insert(cls, &r[5]->cr), 0);
    CHECK_EQ(esw_cls_insert(cls, &r[6]->cr), 0);
    CHECK_EQ(esw_cls_insert(cls, &r[7]->cr), EEXIST);
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 5);
    esw_cls_remove(cls, &r[5]->cr);
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 6);
    esw_cls_remove(cls, &r[6]->cr);
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 4);
    CHECK_PTR_EQ(esw_cls_find_exact(cls, &r[4]->cr.match, &r[4]->cr.mask,
                                    20), &r[4]->cr);
    CHECK_PTR_EQ(esw_cls_find_exact(cls, &r[4]->cr.match, &r[4]->cr.mask,
                                    21), NULL);
    printf("basic: same match: ok\n");

    /* Replace in place and across masks. */
    r[8] = mk(8, 1, 16, 0x0a000000, 20);        /* Same as r[4]. */
    CHECK_EQ(esw_cls_replace(cls, &r[4]->cr, &r[8]->cr), 0);
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 8);
    r[9] = mk(9, 1, 8, 0x0a000000, 20);
    CHECK_EQ(esw_cls_replace(cls, &r[8]->cr, &r[9]->cr), 0);
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 9);  /* Kept r[4]'s age. */
    CHECK_EQ(esw_cls_replace(cls, &r[9]->cr, &r[3]->cr), EEXIST);
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 9);
    printf("basic: replace: ok\n");

    /* Invalid match. */
    r[0] = mk(0, 1, 8, 0x0a000000, 1);
    r[0]->cr.match.ip_dst.ip4 = htonl(0x0a000001);
    CHECK_EQ(esw_cls_insert(cls, &r[0]->cr), EINVAL);
    CHECK_EQ(esw_cls_replace(cls, &r[9]->cr, &r[0]->cr), EINVAL);
    CHECK_EQ(esw_cls_count(cls), 4);
    printf("basic: einval: ok\n");

    esw_cls_destroy(cls);
    for (int i = 0; i < 10; i++) {
        esw_rcu_postpone(trule_free_cb, r[i]);
    }
    free(ref.rules);
    esw_rcu_barrier();
}

static void
cmd_capacity(int argc, char *argv[])
{
    struct esw_cls *cls = esw_cls_create(50);
    struct trule *r[60];
    int i;

    for (i = 0; i < 60; i++) {
        r[i] = mk(i + 1, i % 3, 32, 0x0a000000 + i, i % 5);
    }
    for (i = 0; i < 50; i++) {
        CHECK_EQ(esw_cls_insert(cls, &r[i]->cr), 0);
    }
    CHECK_EQ(esw_cls_insert(cls, &r[50]->cr), ENOSPC);
    CHECK_EQ(esw_cls_count(cls), 50);
    CHECK_EQ(esw_cls_capacity(cls), 50);
    esw_cls_remove(cls, &r[7]->cr);
    CHECK_EQ(esw_cls_insert(cls, &r[50]->cr), 0);
    CHECK_EQ(esw_cls_insert(cls, &r[51]->cr), ENOSPC);
    printf("capacity: enospc: ok\n");

    CHECK_EQ(esw_cls_set_capacity(cls, 49), EBUSY);
    CHECK_EQ(esw_cls_capacity(cls), 50);
    CHECK_EQ(esw_cls_set_capacity(cls, 55), 0);
    for (i = 51; i < 56; i++) {
        CHECK_EQ(esw_cls_insert(cls, &r[i]->cr), 0);
    }
    CHECK_EQ(esw_cls_insert(cls, &r[56]->cr), ENOSPC);
    /* Replace never fails for lack of room. */
    CHECK_EQ(esw_cls_replace(cls, &r[1]->cr, &r[56]->cr), 0);
    CHECK_EQ(esw_cls_count(cls), 55);
    CHECK_EQ(lookup_id(cls, 2, 0x0a000000 + 56), 57);
    CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 0);
    printf("capacity: set_capacity: ok\n");

    esw_cls_destroy(cls);
    for (i = 0; i < 60; i++) {
        esw_rcu_postpone(trule_free_cb, r[i]);
    }
    esw_rcu_barrier();
}

/* Equal-priority overlapping rules inserted across the wrap of the
 * insertion counter keep their order. */
static void
cmd_renumber(int argc, char *argv[])
{
    struct esw_cls *cls = esw_cls_create(1000);
    struct trule *r[8];

    for (int i = 0; i < 8; i++) {
        /* Progressively shorter prefixes of 10.0.0.1: all overlap. */
        r[i] = mk(i + 1, 1, 32 - 4 * i, 0x0a000001 & ntohl(
                      prefix_mask(32 - 4 * i)), 7);
        if (i == 3) {
            esw_cls_set_next_seq__(cls, UINT32_MAX - 2);
        }
        CHECK_EQ(esw_cls_insert(cls, &r[i]->cr), 0);
        CHECK_EQ(lookup_id(cls, 1, 0x0a000001), 1);
    }
    for (int i = 0; i < 7; i++) {
        esw_cls_remove(cls, &r[i]->cr);
        CHECK_EQ(lookup_id(cls, 1, 0x0a000001), i + 2);
    }
    printf("renumber: ok\n");
    esw_cls_destroy(cls);
    for (int i = 0; i < 8; i++) {
        esw_rcu_postpone(trule_free_cb, r[i]);
    }
    esw_rcu_barrier();
}


/* RCU tests.  A helper thread executes commands from the main thread and
 * otherwise spins *without* quiescing, so an online helper holds up grace
 * periods until told otherwise. */

enum helper_cmd {
    H_REGISTER, H_QUIESCE, H_OFFLINE, H_ONLINE, H_READ_LOCK, H_READ_UNLOCK,
    H_EXIT
};

struct helper {
    pthread_t thread;
    atomic_int cmd;
    atomic_int seq;
    atomic_int ack;
};

static void *
helper_main(void *h_)
{
    struct helper *h = h_;
    int last = 0;

    for (;;) {
        int seq = atomic_load(&h->seq);
        if (seq == last) {
            usleep(100);
            continue;
        }
        enum helper_cmd cmd = atomic_load(&h->cmd);
        switch (cmd) {
        case H_REGISTER: esw_rcu_thread_register(); break;
        case H_QUIESCE: esw_rcu_quiesce(); break;
        case H_OFFLINE: esw_rcu_quiesce_start(); break;
        case H_ONLINE: esw_rcu_quiesce_end(); break;
        case H_READ_LOCK: esw_rcu_read_lock(); break;
        case H_READ_UNLOCK: esw_rcu_read_unlock(); break;
        case H_EXIT: break;
        }
        last = seq;
        atomic_store(&h->ack, seq);
        if (cmd == H_EXIT) {
            return NULL;
        }
    }
}

static void
helper_start(struct helper *h)
{
    memset(h, 0, sizeof *h);
    CHECK_EQ(pthread_create(&h->thread, NULL, helper_main, h), 0);
}

static void
helper_do(struct helper *h, enum helper_cmd cmd)
{
    int seq = atomic_load(&h->seq) + 1;

    atomic_store(&h->cmd, cmd);
    atomic_store(&h->seq, seq);
    while (atomic_load(&h->ack) != seq) {
        usleep(100);
    }
}

static void
helper_exit(struct helper *h)
{
    helper_do(h, H_EXIT);
    pthread_join(h->thread, NULL);
}

static atomic_int n_cb_ran;
static atomic_int cb_order_errors;

static void
count_cb(void *aux)
{
    int expected = (int) (intptr_t) aux;

    if (expected >= 0 && atomic_load(&n_cb_ran) != expected) {
        atomic_fetch_add(&cb_order_errors, 1);
    }
    atomic_fetch_add(&n_cb_ran, 1);
}

/* Waits up to 'ms' milliseconds for 'n_cb_ran' to reach 'n'. */
static int
wait_cbs(int n, int ms)
{
    for (int i = 0; i < ms && atomic_load(&n_cb_ran) < n; i++) {
        usleep(1000);
    }
    return atomic_load(&n_cb_ran);
}

static void
cmd_rcu(int argc, char *argv[])
{
    struct helper a, b, c;

    /* Callbacks wait for every online reader. */
    helper_start(&a);
    helper_start(&b);
    helper_do(&a, H_REGISTER);
    helper_do(&b, H_REGISTER);
    esw_rcu_postpone(count_cb, (void *) (intptr_t) 0);
    CHECK_EQ(wait_cbs(1, 50), 0);
    helper_do(&a, H_QUIESCE);
    CHECK_EQ(wait_cbs(1, 50), 0);
    helper_do(&b, H_QUIESCE);
    CHECK_EQ(wait_cbs(1, 5000), 1);
    printf("rcu: callback waits for every reader: ok\n");

    /* Extended quiescent states do not block grace periods. */
    helper_do(&a, H_OFFLINE);
    esw_rcu_postpone(count_cb, (void *) (intptr_t) 1);
    CHECK_EQ(wait_cbs(2, 50), 1);        /* 'b' is still online. */
    helper_do(&b, H_OFFLINE);
    esw_rcu_synchronize();
    CHECK_EQ(wait_cbs(2, 5000), 2);
    helper_do(&b, H_ONLINE);
    esw_rcu_postpone(count_cb, (void *) (intptr_t) 2);
    CHECK_EQ(wait_cbs(3, 50), 2);        /* Online again: blocks. */
    helper_do(&b, H_OFFLINE);
    CHECK_EQ(wait_cbs(3, 5000), 3);
    printf("rcu: extended quiescent state: ok\n");

    /* An unregistered thread never blocks; read-side sections do, and
     * nest. */
    helper_start(&c);
    esw_rcu_synchronize();
    helper_do(&c, H_READ_LOCK);
    helper_do(&c, H_READ_LOCK);
    esw_rcu_postpone(count_cb, (void *) (intptr_t) 3);
    helper_do(&c, H_READ_UNLOCK);
    CHECK_EQ(wait_cbs(4, 50), 3);
    helper_do(&c, H_READ_UNLOCK);
    CHECK_EQ(wait_cbs(4, 5000), 4);
    printf("rcu: read-side sections: ok\n");

    /* A thread that exits while online is unregistered. */
    helper_do(&a, H_ONLINE);
    helper_exit(&a);
    esw_rcu_synchronize();
    helper_exit(&b);
    helper_exit(&c);
    printf("rcu: thread exit: ok\n");

    /* FIFO order, barrier, and synchronize from an online thread. */
    esw_rcu_thread_register();
    for (int i = 4; i < 1004; i++) {
        esw_rcu_postpone(count_cb, (void *) (intptr_t) i);
    }
    esw_rcu_synchronize();
    esw_rcu_barrier();
    CHECK_EQ(atomic_load(&n_cb_ran), 1004);
    CHECK_EQ(atomic_load(&cb_order_errors), 0);
    CHECK(esw_rcu_thread_is_online());
    esw_rcu_thread_unregister();
    CHECK(!esw_rcu_thread_is_online());
    printf("rcu: order and barrier: ok\n");
}

/* Concurrency: readers look up keys whose best rule is always present
 * while a writer churns overlapping lower-priority rules and replaces the
 * watched ones. */

#define N_WATCH 8
#define WATCH_ID 1000000
#define MAX_CHURN 2000

static struct esw_cls *ccls;
static atomic_bool cstop;
static struct esw_key watch_keys[N_WATCH];

struct creader {
    pthread_t thread;
    uint64_t lookups;
    uint64_t bad;
};

static bool
watch_ok(const struct esw_cls_rule *cr, int k)
{
    const struct trule *r = trule_cast(cr);
    return r && r->id == WATCH_ID + k
           && atomic_load_explicit(&r->magic, memory_order_relaxed)
              == MAGIC_LIVE;
}

static void *
creader_main(void *r_)
{
    struct creader *r = r_;
    const struct esw_key *kp[N_WATCH];
    const struct esw_cls_rule *out[N_WATCH];

    for (int k = 0; k < N_WATCH; k++) {
        kp[k] = &watch_keys[k];
    }
    esw_rcu_thread_register();
    while (!atomic_load_explicit(&cstop, memory_order_relaxed)) {
        for (int k = 0; k < N_WATCH; k++) {
            r->bad += !watch_ok(esw_cls_lookup(ccls, &watch_keys[k]), k);
        }
        esw_cls_lookup_batch(ccls, kp, N_WATCH, out);
        for (int k = 0; k < N_WATCH; k++) {
            r->bad += !watch_ok(out[k], k);
        }
        r->lookups += 2 * N_WATCH;
        esw_rcu_quiesce();
    }
    esw_rcu_thread_unregister();
    return NULL;
}

/* Watched rule for key 'k', in one of three shapes. */
static struct trule *
watch_rule(int k, int shape)
{
    struct trule *r = trule_new(WATCH_ID + k);
    struct esw_key m;

    memset(&m, 0, sizeof m);
    if (shape == 0) {
        m.in_vport = UINT32_MAX;
    } else if (shape == 1) {
        m.in_vport = UINT32_MAX;
        m.ip_dst.ip4 = UINT32_MAX;
    } else {
        m.ip_dst.ip4 = prefix_mask(24);
        m.tp_dst = UINT16_MAX;
    }
    trule_set(r, &watch_keys[k], &m, 1000 + shape);
    return r;
}

/* A churn rule: matches some watched keys, at a lower priority. */
static struct trule *
churn_rule(uint32_t id)
{
    struct trule *r = trule_new(id);
    struct esw_key k = watch_keys[rnd(N_WATCH)];
    struct esw_key m;

    memset(&m, 0, sizeof m);
    if (rnd(2)) {
        m.in_vport = UINT32_MAX;
    }
    m.ip_dst.ip4 = prefix_mask(rnd(33));
    if (rnd(2)) {
        m.tp_dst = UINT16_MAX;
    }
    if (rnd(4) == 0) {
        m.tp_src = UINT16_MAX;          /* Rare masks come and go. */
        k.tp_src = htons(rnd(64));
    }
    trule_set(r, &k, &m, rnd(1000));
    return r;
}

/* concurrent SEED READERS OPS */
static void
cmd_concurrent(int argc, char *argv[])
{
    CHECK_EQ(argc, 3);
    prng_state = strtoull(argv[0], NULL, 0);
    int n_readers = atoi(argv[1]);
    long n_ops = atol(argv[2]);
    struct creader *readers = calloc(n_readers, sizeof *readers);
    struct trule *watched[N_WATCH];
    struct trule *churn[MAX_CHURN];
    size_t n_churn = 0;
    uint64_t lookups = 0, bad = 0;
    uint32_t id = 1;
    long n_replace = 0;

    ccls = esw_cls_create(100000);
    for (int k = 0; k < N_WATCH; k++) {
        memset(&watch_keys[k], 0, sizeof watch_keys[k]);
        watch_keys[k].in_vport = 10 + k;
        watch_keys[k].eth_type = htons(ESW_ETH_TYPE_IPV4);
        watch_keys[k].ip_dst.ip4 = htonl(0x0a010001 | k << 8);
        watch_keys[k].tp_dst = htons(80);
        watched[k] = watch_rule(k, k % 3);
        CHECK_EQ(esw_cls_insert(ccls, &watched[k]->cr), 0);
    }
    for (int i = 0; i < n_readers; i++) {
        CHECK_EQ(pthread_create(&readers[i].thread, NULL, creader_main,
                                &readers[i]), 0);
    }

    for (long op = 0; op < n_ops; op++) {
        uint32_t c = rnd(8);

        if (c < 3 && n_churn < MAX_CHURN) {
            struct trule *r = churn_rule(id++);
            if (esw_cls_insert(ccls, &r->cr)) {
                free(r);
            } else {
                churn[n_churn++] = r;
            }
        } else if (c < 6 && n_churn) {
            size_t i = rnd(n_churn);
            esw_cls_remove(ccls, &churn[i]->cr);
            esw_rcu_postpone(trule_free_cb, churn[i]);
            churn[i] = churn[--n_churn];
        } else {
            int k = rnd(N_WATCH);
            struct trule *old = watched[k];
            struct trule *new = watch_rule(k, rnd(3));
            int error;

            if (rnd(2)) {
                error = esw_cls_replace(ccls, &old->cr, &new->cr);
            } else {
                error = esw_cls_insert(ccls, &new->cr);
                if (error == EEXIST) {
                    error = esw_cls_replace(ccls, &old->cr, &new->cr);
                } else if (!error) {
                    esw_cls_remove(ccls, &old->cr);
                }
            }
            CHECK_EQ(error, 0);
            esw_rcu_postpone(trule_free_cb, old);
            watched[k] = new;
            n_replace++;
        }
    }
    atomic_store(&cstop, true);
    for (int i = 0; i < n_readers; i++) {
        pthread_join(readers[i].thread, NULL);
        lookups += readers[i].lookups;
        bad += readers[i].bad;
    }
    CHECK_EQ(esw_cls_count(ccls), n_churn + N_WATCH);
    fprintf(stderr, "%"PRIu64" lookups, %"PRIu64" bad, %ld replacements, "
            "%zu churn rules\n", lookups, bad, n_replace, n_churn);
    CHECK_GT(lookups, 0);
    CHECK_EQ(bad, 0);
    printf("concurrent: %d readers: no miss, no stale rule\n", n_readers);

    esw_cls_destroy(ccls);
    for (int k = 0; k < N_WATCH; k++) {
        esw_rcu_postpone(trule_free_cb, watched[k]);
    }
    for (size_t i = 0; i < n_churn; i++) {
        esw_rcu_postpone(trule_free_cb, churn[i]);
    }
    esw_rcu_barrier();
    free(readers);
}

int
main(int argc, char *argv[])
{
    static const struct {
        const char *name;
        void (*f)(int argc, char *argv[]);
    } cmds[] = {
        { "basic", cmd_basic },
        { "capacity", cmd_capacity },
        { "random", cmd_random },
        { "renumber", cmd_renumber },
        { "rcu", cmd_rcu },
        { "concurrent", cmd_concurrent },
    };

    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(120);                 /* A hang is a failure. */
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
            if (!strcmp(argv[1], cmds[i].name)) {
                cmds[i].f(argc - 2, argv + 2);
                return 0;
            }
        }
    }
    fprintf(stderr, "usage: %s basic|capacity|random SEED RULES MASKS|"
            "renumber|rcu|concurrent SEED READERS OPS\n", argv[0]);
    return 1;
}
