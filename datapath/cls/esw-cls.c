/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The eSwitch rule table: tuple-space search with lock-free lookups.
 *
 * Structure
 * =========
 *
 * 'struct esw_cls' has one 'struct esw_cls_subtable' per distinct mask
 * (found by writers through 'map'), and publishes for lookups a 'struct
 * cls_vec': the subtables sorted by decreasing 'max_rank', an upper bound on
 * the rank of the rules they hold.  A rule's rank is its priority in the
 * upper 32 bits and UINT32_MAX - (its insertion number) in the lower ones,
 * so ranks are unique and "higher rank wins" implements "higher priority
 * wins, then older wins".  Rank 0 means "no rule".
 *
 * Invariants for lookups (writers keep them at every instant)
 * ===========================================================
 *
 * 1. The published vec is sorted by decreasing max_rank, and each entry's
 *    max_rank is >= the rank of every rule visible in its subtable: a
 *    subtable's bound is raised (in place if that keeps the order, else by
 *    publishing a new vec) *before* a higher-ranked rule becomes visible,
 *    and lowered only after the rules that justified it are gone.  The
 *    exact maximum is recomputed lazily after removals (amortized O(1)).
 *
 * 2. 'gen' is incremented before any rule stops being visible to lookups
 *    (removal of a chain head).  Insertions and in-place replacements
 *    (same match, mask and priority) do not touch it.
 *
 * A lookup takes 'gen', walks the vec until its best hit outranks the next
 * subtable's bound, and retries if 'gen' changed meanwhile.  Without a
 * concurrent removal, everything it saw was present at its start or
 * inserted during it, and every rule present at its start and better than
 * its result would have been found (invariant 1, since bounds only grow
 * until a removal); hence make-before-break.  With one, it may have missed
 * the rule being removed and the rule replacing it, so it starts over. */

#include "esw-cls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "esw-cls-private.h"
#include "esw-rcu.h"

#define ROUND_UP(X, Y) (((X) + (Y) - 1) / (Y) * (Y))

struct cls_vec_entry {
    _Atomic(uint64_t) max_rank;
    struct esw_cls_subtable *st;
};

struct cls_vec {
    size_t n;
    struct cls_vec_entry e[];
};

struct esw_cls {
    /* Read by lookups. */
    _Atomic(struct cls_vec *) vec;
    char pad0[CLS_CACHE_LINE - sizeof(void *)];

    /* Incremented before any rule stops being visible.  Own cache line:
     * lookups only read it, but removals write it. */
    _Atomic(uint64_t) gen;
    char pad1[CLS_CACHE_LINE - sizeof(uint64_t)];

    /* Read by the counter functions. */
    _Atomic(size_t) n_rules;
    _Atomic(size_t) capacity;
    _Atomic(size_t) n_masks;

    /* Serializes writers.  Protects the members below, every subtable's
     * writer-only members and the rules' 'next' chains. */
    pthread_mutex_t mutex;
    uint32_t next_seq;                  /* Next insertion number. */
    struct esw_cls_subtable **map;      /* Subtables by 'mask_hash'. */
    size_t map_mask;
};

static void *
xmalloc(size_t size)
{
    void *p = malloc(size);
    if (!p) {
        fprintf(stderr, "esw-cls: out of memory (%zu bytes)\n", size);
        abort();
    }
    return p;
}

static void *
xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "esw-cls: out of memory (%zu bytes)\n", n * size);
        abort();
    }
    return p;
}

static bool
key_equal(const struct esw_key *a, const struct esw_key *b)
{
    return !memcmp(a, b, sizeof *a);
}

static bool
rule_is_masked(const struct esw_cls_rule *rule)
{
    uint64_t bad = 0;

    for (int i = 0; i < ESW_KEY_WORDS; i++) {
        bad |= rule->match.w[i] & ~rule->mask.w[i];
    }
    return !bad;
}

static uint32_t
mask_hash(const struct esw_key *mask)
{
    uint64_t h = 0;

    for (int i = 0; i < ESW_KEY_WORDS; i++) {
        h = cls_mix(h, mask->w[i]);
    }
    return cls_finish(h);
}

/* Subtables. */

static struct esw_cls_subtable *
subtable_create(const struct esw_key *mask, uint32_t hash)
{
    struct esw_cls_subtable *st = xcalloc(1, sizeof *st);

    for (int i = 0; i < ESW_KEY_WORDS; i++) {
        if (mask->w[i]) {
            st->words[st->n_words] = i;
            st->mask_w[st->n_words] = mask->w[i];
            st->n_words++;
        }
    }
    st->mask = *mask;
    st->mask_hash = hash;
    st->max_exact = true;
    atomic_init(&st->table, cls_table_create(1));
    return st;
}

static void
subtable_free(void *st_)
{
    struct esw_cls_subtable *st = st_;

    free(atomic_load_explicit(&st->table, memory_order_relaxed));
    free(st);
}

/* The mask -> subtable map (writer-only). */

static struct esw_cls_subtable *
map_find(const struct esw_cls *cls, const struct esw_key *mask, uint32_t h)
{
    struct esw_cls_subtable *st;

    for (st = cls->map[h & cls->map_mask]; st; st = st->map_next) {
        if (st->mask_hash == h && key_equal(&st->mask, mask)) {
            return st;
        }
    }
    return NULL;
}

static void
map_insert(struct esw_cls *cls, struct esw_cls_subtable *st)
{
    size_t n = atomic_load_explicit(&cls->n_masks, memory_order_relaxed);
    struct esw_cls_subtable **slot;

    if (n > cls->map_mask) {
        size_t new_mask = 2 * cls->map_mask + 1;
        struct esw_cls_subtable **map = xcalloc(new_mask + 1, sizeof *map);

        for (size_t i = 0; i <= cls->map_mask; i++) {
            struct esw_cls_subtable *s, *next;

            for (s = cls->map[i]; s; s = next) {
                next = s->map_next;
                s->map_next = map[s->mask_hash & new_mask];
                map[s->mask_hash & new_mask] = s;
            }
        }
        free(cls->map);
        cls->map = map;
        cls->map_mask = new_mask;
    }
    slot = &cls->map[st->mask_hash & cls->map_mask];
    st->map_next = *slot;
    *slot = st;
    atomic_store_explicit(&cls->n_masks, n + 1, memory_order_relaxed);
}

static void
map_remove(struct esw_cls *cls, struct esw_cls_subtable *st)
{
    struct esw_cls_subtable **p = &cls->map[st->mask_hash & cls->map_mask];

    while (*p != st) {
        p = &(*p)->map_next;
    }
    *p = st->map_next;
    atomic_fetch_sub_explicit(&cls->n_masks, 1, memory_order_relaxed);
}

/* The published vec. */

static int
compare_subtables(const void *a_, const void *b_)
{
    const struct esw_cls_subtable *const *a = a_;
    const struct esw_cls_subtable *const *b = b_;
    uint64_t ra = (*a)->max_rank, rb = (*b)->max_rank;

    return ra > rb ? -1 : ra < rb ? 1 : 0;
}

/* Publishes a new vec with the current subtables' bounds, with 'add' added
 * and 'del' removed (each may be NULL). */
static void
vec_publish(struct esw_cls *cls, struct esw_cls_subtable *add,
            struct esw_cls_subtable *del)
{
    struct cls_vec *old = atomic_load_explicit(&cls->vec,
                                               memory_order_relaxed);
    struct esw_cls_subtable **sts = xmalloc((old->n + 1) * sizeof *sts);
    struct cls_vec *new;
    size_t n = 0;

    for (size_t i = 0; i < old->n; i++) {
        if (old->e[i].st != del) {
            sts[n++] = old->e[i].st;
        }
    }
    if (add) {
        sts[n++] = add;
    }
    qsort(sts, n, sizeof *sts, compare_subtables);

    new = xmalloc(sizeof *new + n * sizeof new->e[0]);
    new->n = n;
    for (size_t i = 0; i < n; i++) {
        atomic_init(&new->e[i].max_rank, sts[i]->max_rank);
        new->e[i].st = sts[i];
        sts[i]->vec_idx = i;
    }
    free(sts);

    atomic_store_explicit(&cls->vec, new, memory_order_release);
    esw_rcu_postpone(free, old);
}

/* Makes the published bound of 'st' equal 'st->max_rank'. */
static void
vec_update(struct esw_cls *cls, struct esw_cls_subtable *st)
{
    struct cls_vec *vec = atomic_load_explicit(&cls->vec,
                                               memory_order_relaxed);
    size_t i = st->vec_idx;
    uint64_t r = st->max_rank;

    if ((i == 0 || atomic_load_explicit(&vec->e[i - 1].max_rank,
                                        memory_order_relaxed) >= r)
        && (i + 1 >= vec->n
            || atomic_load_explicit(&vec->e[i + 1].max_rank,
                                    memory_order_relaxed) <= r)) {
        atomic_store_explicit(&vec->e[i].max_rank, r, memory_order_relaxed);
    } else {
        vec_publish(cls, NULL, NULL);
    }
}

/* Recomputes the exact bound of 'st' and publishes it if it went down. */
static void
subtable_lower_bound(struct esw_cls *cls, struct esw_cls_subtable *st)
{
    uint64_t max = cls_table_max_rank(atomic_load_explicit(
                                          &st->table, memory_order_relaxed));

    st->max_exact = true;
    st->n_removed = 0;
    if (max < st->max_rank) {
        st->max_rank = max;
        vec_update(cls, st);
    }
}

/* Ranks and renumbering. */

static uint64_t
rule_seq(const struct esw_cls_rule *r)
{
    return UINT32_MAX - (cls_rank(r) & UINT32_MAX);
}

static int
compare_rules_by_seq(const void *a_, const void *b_)
{
    const struct esw_cls_rule *const *a = a_;
    const struct esw_cls_rule *const *b = b_;
    uint64_t sa = rule_seq(*a), sb = rule_seq(*b);

    return sa < sb ? -1 : sa > sb;
}

/* Renumbers all rules 0...n-1 in insertion order, when the insertion
 * counter reaches its end.  Ranks only go up, so lookups running meanwhile
 * can at worst break a tie between equal priorities the old way. */
static void
cls_renumber(struct esw_cls *cls)
{
    size_t n = atomic_load_explicit(&cls->n_rules, memory_order_relaxed);
    struct esw_cls_rule **rules = xmalloc((n + 1) * sizeof *rules);
    size_t k = 0;

    for (size_t i = 0; i <= cls->map_mask; i++) {
        for (struct esw_cls_subtable *st = cls->map[i]; st;
             st = st->map_next) {
            k += cls_table_collect(atomic_load_explicit(
                                       &st->table, memory_order_relaxed),
                                   rules + k);
        }
    }
    qsort(rules, k, sizeof *rules, compare_rules_by_seq);
    for (size_t i = 0; i < k; i++) {
        atomic_store_explicit(&rules[i]->rank,
                              ((uint64_t) rules[i]->priority << 32)
                              | (UINT32_MAX - i), memory_order_relaxed);
    }
    free(rules);
    cls->next_seq = k;

    for (size_t i = 0; i <= cls->map_mask; i++) {
        for (struct esw_cls_subtable *st = cls->map[i]; st;
             st = st->map_next) {
            st->max_rank = cls_table_max_rank(
                atomic_load_explicit(&st->table, memory_order_relaxed));
            st->max_exact = true;
            st->n_removed = 0;
        }
    }
    vec_publish(cls, NULL, NULL);
}

static uint64_t
next_rank(struct esw_cls *cls, uint32_t priority)
{
    if (cls->next_seq >= UINT32_MAX) {
        cls_renumber(cls);
    }
    return ((uint64_t) priority << 32) | (UINT32_MAX - cls->next_seq++);
}

/* Insertion and removal, with the mutex held. */

/* Inserts 'rule' with rank 'rank', or a fresh rank if 'rank' is 0.  Does
 * not check the capacity. */
static int
cls_insert__(struct esw_cls *cls, struct esw_cls_rule *rule, uint64_t rank)
{
    uint32_t mh = mask_hash(&rule->mask);
    struct esw_cls_subtable *st = map_find(cls, &rule->mask, mh);
    struct esw_cls_rule *head = NULL;
    struct cls_slot slot;
    bool new_st = !st;
    uint32_t hash;

    if (!rule_is_masked(rule)) {
        return EINVAL;
    }
    if (new_st) {
        st = subtable_create(&rule->mask, mh);
    }
    hash = cls_hash_key(st, &rule->match);
    if (!new_st
        && cls_table_find(atomic_load_explicit(&st->table,
                                               memory_order_relaxed),
                          st, hash, &rule->match, &slot)) {
        head = atomic_load_explicit(&slot.b->rule[slot.s],
                                    memory_order_relaxed);
        for (struct esw_cls_rule *r = head; r; r = r->next) {
            if (r->priority == rule->priority) {
                return EEXIST;
            }
        }
    }

    if (!rank) {
        rank = next_rank(cls, rule->priority);
    }
    atomic_store_explicit(&rule->rank, rank, memory_order_relaxed);
    rule->hash = hash;
    rule->subtable = st;
    rule->next = NULL;

    /* Raise the bound before the rule becomes visible (invariant 1). */
    if (new_st) {
        st->max_rank = rank;
        map_insert(cls, st);
        vec_publish(cls, st, NULL);
    } else if (rank > st->max_rank) {
        st->max_rank = rank;
        vec_update(cls, st);
    }

    if (!head) {
        cls_table_add(st, rule);
    } else if (rank > cls_rank(head)) {
        rule->next = head;
        cls_table_set(&slot, rule);
    } else {
        struct esw_cls_rule *prev = head;

        while (prev->next && cls_rank(prev->next) > rank) {
            prev = prev->next;
        }
        rule->next = prev->next;
        prev->next = rule;
    }
    st->n_rules++;
    atomic_fetch_add_explicit(&cls->n_rules, 1, memory_order_relaxed);
    return 0;
}

static void
cls_missing_rule(void)
{
    fprintf(stderr, "esw-cls: removing a rule that is not in the table\n");
    abort();
}

/* Finds the slot of the chain that holds 'rule' and returns its head. */
static struct esw_cls_rule *
cls_find_chain(struct esw_cls_rule *rule, struct cls_slot *slot)
{
    struct esw_cls_subtable *st = rule->subtable;

    if (!st || !cls_table_find(atomic_load_explicit(&st->table,
                                                    memory_order_relaxed),
                               st, rule->hash, &rule->match, slot)) {
        cls_missing_rule();
    }
    return atomic_load_explicit(&slot->b->rule[slot->s],
                                memory_order_relaxed);
}

/* Returns the rule before 'rule' in the chain starting at 'head', which
 * must not be 'rule'. */
static struct esw_cls_rule *
cls_chain_prev(struct esw_cls_rule *head, const struct esw_cls_rule *rule)
{
    struct esw_cls_rule *prev = head;

    while (prev && prev->next != rule) {
        prev = prev->next;
    }
    if (!prev) {
        cls_missing_rule();
    }
    return prev;
}

static void
cls_remove__(struct esw_cls *cls, struct esw_cls_rule *rule)
{
    struct esw_cls_subtable *st = rule->subtable;
    struct cls_slot slot;
    struct esw_cls_rule *head = cls_find_chain(rule, &slot);

    if (head == rule) {
        /* Invariant 2. */
        atomic_fetch_add_explicit(&cls->gen, 1, memory_order_release);
        if (rule->next) {
            cls_table_set(&slot, rule->next);
        } else {
            cls_table_delete(st, &slot);
        }
    } else {
        cls_chain_prev(head, rule)->next = rule->next;
    }
    st->n_rules--;
    atomic_fetch_sub_explicit(&cls->n_rules, 1, memory_order_relaxed);

    if (!st->n_rules) {
        map_remove(cls, st);
        vec_publish(cls, NULL, st);
        esw_rcu_postpone(subtable_free, st);
    } else {
        if (cls_rank(rule) >= st->max_rank) {
            st->max_exact = false;
        }
        st->n_removed++;
        if (!st->max_exact
            && (st->n_rules <= 64 || st->n_removed >= st->n_rules / 4)) {
            subtable_lower_bound(cls, st);
        }
    }
}

/* Public API: writers. */

struct esw_cls *
esw_cls_create(size_t capacity)
{
    size_t size = ROUND_UP(sizeof(struct esw_cls), CLS_CACHE_LINE);
    struct esw_cls *cls;
    struct cls_vec *vec;

    cls = aligned_alloc(CLS_CACHE_LINE, size);
    if (!cls) {
        fprintf(stderr, "esw-cls: out of memory\n");
        abort();
    }
    memset(cls, 0, size);

    vec = xmalloc(sizeof *vec);
    vec->n = 0;
    atomic_init(&cls->vec, vec);
    atomic_init(&cls->gen, 0);
    atomic_init(&cls->n_rules, 0);
    atomic_init(&cls->capacity, capacity);
    atomic_init(&cls->n_masks, 0);
    pthread_mutex_init(&cls->mutex, NULL);
    cls->next_seq = 0;
    cls->map_mask = 7;
    cls->map = xcalloc(cls->map_mask + 1, sizeof *cls->map);
    return cls;
}

void
esw_cls_destroy(struct esw_cls *cls)
{
    if (!cls) {
        return;
    }
    pthread_mutex_lock(&cls->mutex);
    for (size_t i = 0; i <= cls->map_mask; i++) {
        struct esw_cls_subtable *st, *next;

        for (st = cls->map[i]; st; st = next) {
            next = st->map_next;
            esw_rcu_postpone(subtable_free, st);
        }
    }
    free(cls->map);
    esw_rcu_postpone(free, atomic_load_explicit(&cls->vec,
                                                memory_order_relaxed));
    pthread_mutex_unlock(&cls->mutex);
    pthread_mutex_destroy(&cls->mutex);
    esw_rcu_postpone(free, cls);
}

int
esw_cls_set_capacity(struct esw_cls *cls, size_t capacity)
{
    int error = 0;

    pthread_mutex_lock(&cls->mutex);
    if (atomic_load_explicit(&cls->n_rules, memory_order_relaxed)
        > capacity) {
        error = EBUSY;
    } else {
        atomic_store_explicit(&cls->capacity, capacity,
                              memory_order_relaxed);
    }
    pthread_mutex_unlock(&cls->mutex);
    return error;
}

static int
cls_insert_checked(struct esw_cls *cls, struct esw_cls_rule *rule)
{
    if (atomic_load_explicit(&cls->n_rules, memory_order_relaxed)
        >= atomic_load_explicit(&cls->capacity, memory_order_relaxed)) {
        return rule_is_masked(rule) ? ENOSPC : EINVAL;
    }
    return cls_insert__(cls, rule, 0);
}

int
esw_cls_insert(struct esw_cls *cls, struct esw_cls_rule *rule)
{
    int error;

    pthread_mutex_lock(&cls->mutex);
    error = cls_insert_checked(cls, rule);
    pthread_mutex_unlock(&cls->mutex);
    return error;
}

size_t
esw_cls_insert_batch(struct esw_cls *cls, struct esw_cls_rule *rules[],
                     size_t n, int errors[])
{
    size_t n_ok = 0;

    pthread_mutex_lock(&cls->mutex);
    for (size_t i = 0; i < n; i++) {
        int error = cls_insert_checked(cls, rules[i]);

        n_ok += !error;
        if (errors) {
            errors[i] = error;
        }
    }
    pthread_mutex_unlock(&cls->mutex);
    return n_ok;
}

int
esw_cls_replace(struct esw_cls *cls, struct esw_cls_rule *old,
                struct esw_cls_rule *new)
{
    int error = 0;

    pthread_mutex_lock(&cls->mutex);
    if (!rule_is_masked(new)) {
        error = EINVAL;
    } else if (new->priority == old->priority
               && key_equal(&new->mask, &old->mask)
               && key_equal(&new->match, &old->match)) {
        /* Same position: swap the pointers in place. */
        struct cls_slot slot;
        struct esw_cls_rule *head = cls_find_chain(old, &slot);

        atomic_store_explicit(&new->rank, cls_rank(old),
                              memory_order_relaxed);
        new->hash = old->hash;
        new->subtable = old->subtable;
        new->next = old->next;
        if (head == old) {
            cls_table_set(&slot, new);
        } else {
            cls_chain_prev(head, old)->next = new;
        }
    } else {
        /* Make before break: 'new' inherits 'old''s insertion number. */
        uint64_t rank = ((uint64_t) new->priority << 32)
                        | (cls_rank(old) & UINT32_MAX);

        error = cls_insert__(cls, new, rank);
        if (!error) {
            cls_remove__(cls, old);
        }
    }
    pthread_mutex_unlock(&cls->mutex);
    return error;
}

void
esw_cls_remove(struct esw_cls *cls, struct esw_cls_rule *rule)
{
    pthread_mutex_lock(&cls->mutex);
    cls_remove__(cls, rule);
    pthread_mutex_unlock(&cls->mutex);
}

void
esw_cls_set_next_seq__(struct esw_cls *cls, uint32_t seq)
{
    pthread_mutex_lock(&cls->mutex);
    if (seq > cls->next_seq) {
        cls->next_seq = seq;
    }
    pthread_mutex_unlock(&cls->mutex);
}

/* Public API: readers. */

/* Subtables probed together by a single lookup.  With large tables each
 * probe is a cache (and TLB) miss: a group of 8 covers the usual number of
 * megaflow-like masks in one round trip to memory instead of two, at the
 * price of hashing up to 7 subtables that an early exit would skip. */
#define CLS_GROUP 8

/* Computes the hash of 'key' in 'e''s subtable and prefetches its home
 * bucket. */
static inline uint32_t
cls_lookup_prepare(const struct cls_vec_entry *e, const struct esw_key *key,
                   const struct cls_table **tp)
{
    const struct cls_table *t = atomic_load_explicit(&e->st->table,
                                                     memory_order_acquire);
    uint32_t h = cls_hash_key(e->st, key);

    __builtin_prefetch(&t->b[h & t->mask]);
    *tp = t;
    return h;
}

const struct esw_cls_rule *
esw_cls_lookup(const struct esw_cls *cls, const struct esw_key *key)
{
    for (;;) {
        uint64_t gen = atomic_load_explicit(&cls->gen, memory_order_acquire);
        const struct cls_vec *vec = atomic_load_explicit(
            &cls->vec, memory_order_acquire);
        const struct esw_cls_rule *best = NULL;
        uint64_t best_rank = 0;
        size_t i = 0;

        /* Subtables are probed in groups of CLS_GROUP: the group's buckets
         * are all prefetched first, so that their cache misses overlap. */
        while (i < vec->n) {
            const struct cls_table *t[CLS_GROUP];
            uint32_t h[CLS_GROUP];
            size_t n = vec->n - i < CLS_GROUP ? vec->n - i : CLS_GROUP;

            if (best_rank >= atomic_load_explicit(&vec->e[i].max_rank,
                                                  memory_order_relaxed)) {
                break;
            }
            for (size_t j = 0; j < n; j++) {
                h[j] = cls_lookup_prepare(&vec->e[i + j], key, &t[j]);
            }
            for (size_t j = 0; j < n; j++, i++) {
                const struct cls_vec_entry *e = &vec->e[i];
                const struct esw_cls_rule *r;

                if (best_rank >= atomic_load_explicit(
                        &e->max_rank, memory_order_relaxed)) {
                    goto done;
                }
                r = cls_table_lookup(t[j], e->st, h[j], key);
                if (r && cls_rank(r) > best_rank) {
                    best = r;
                    best_rank = cls_rank(r);
                }
            }
        }
    done:
        /* Invariant 2: retry if a rule disappeared meanwhile. */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&cls->gen, memory_order_relaxed) == gen) {
            return best;
        }
    }
}

#define CLS_BATCH 32

/* Probes subtable 'st' (table 't') for keys[todo[0..m-1]], or for
 * keys[0..m-1] if 'todo' is NULL, and keeps in out[i] and best_rank[i] the
 * better of what they hold and what 'st' has.  With 'first', out[] and
 * best_rank[] are not read, only written (the first subtable of a
 * lookup: nothing found yet).  Inlined with constant 'n_words' and
 * 'first' for unrolled code. */
static inline __attribute__((always_inline)) void
cls_probe(const struct esw_cls_subtable *st, const struct cls_table *t,
          const struct esw_key *const keys[], const uint8_t todo[], size_t m,
          const struct esw_cls_rule *out[], uint64_t best_rank[],
          uint32_t n_words, bool first)
{
    uint8_t words[ESW_KEY_WORDS];
    uint64_t mask_w[ESW_KEY_WORDS];
    uint32_t hashes[CLS_BATCH];

    /* Local copies: stores through out[] may alias 'st''s bytes, which
     * would otherwise be reloaded for every key. */
    for (uint32_t w = 0; w < n_words; w++) {
        words[w] = st->words[w];
        mask_w[w] = st->mask_w[w];
    }
    for (size_t j = 0; j < m; j++) {
        size_t i = todo ? todo[j] : j;

        hashes[j] = cls_hash_words(words, mask_w, keys[i], n_words);
        __builtin_prefetch(&t->b[hashes[j] & t->mask]);
    }
    for (size_t j = 0; j < m; j++) {
        size_t i = todo ? todo[j] : j;
        const struct esw_cls_rule *r;

        r = cls_table_lookup_words(t, words, mask_w, hashes[j], keys[i],
                                   n_words);
        if (first) {
            out[i] = r;
            best_rank[i] = r ? cls_rank(r) : 0;
        } else if (r) {
            uint64_t rank = cls_rank(r);

            if (rank > best_rank[i]) {
                out[i] = r;
                best_rank[i] = rank;
            }
        }
    }
}

/* cls_probe() specialized for the usual numbers of mask words. */
#define CLS_PROBE_DISPATCH(FIRST)                                          \
    switch (st->n_words) {                                              \
    case 1:                                                             \
        cls_probe(st, t, keys, todo, m, out, best_rank, 1, FIRST);      \
        break;                                                          \
    case 2:                                                             \
        cls_probe(st, t, keys, todo, m, out, best_rank, 2, FIRST);      \
        break;                                                          \
    case 3:                                                             \
        cls_probe(st, t, keys, todo, m, out, best_rank, 3, FIRST);      \
        break;                                                          \
    case 4:                                                             \
        cls_probe(st, t, keys, todo, m, out, best_rank, 4, FIRST);      \
        break;                                                          \
    default:                                                            \
        cls_probe(st, t, keys, todo, m, out, best_rank, st->n_words,    \
                  FIRST);                                               \
        break;                                                          \
    }

static void
cls_probe_first(const struct esw_cls_subtable *st, const struct cls_table *t,
                const struct esw_key *const keys[], size_t m,
                const struct esw_cls_rule *out[], uint64_t best_rank[])
{
    const uint8_t *todo = NULL;

    CLS_PROBE_DISPATCH(true);
}

static void
cls_probe_rest(const struct esw_cls_subtable *st, const struct cls_table *t,
               const struct esw_key *const keys[], const uint8_t todo[],
               size_t m, const struct esw_cls_rule *out[],
               uint64_t best_rank[])
{
    CLS_PROBE_DISPATCH(false);
}

static void
cls_lookup_batch__(const struct esw_cls *cls,
                   const struct esw_key *const keys[], size_t n,
                   const struct esw_cls_rule *out[])
{
    uint64_t best_rank[CLS_BATCH];
    uint8_t todo[CLS_BATCH];

    for (;;) {
        uint64_t gen = atomic_load_explicit(&cls->gen, memory_order_acquire);
        const struct cls_vec *vec = atomic_load_explicit(
            &cls->vec, memory_order_acquire);

        if (!vec->n) {
            for (size_t i = 0; i < n; i++) {
                out[i] = NULL;
            }
        } else {
            /* Every key needs the first subtable: its bound is a rank,
             * never 0. */
            cls_probe_first(vec->e[0].st,
                            atomic_load_explicit(&vec->e[0].st->table,
                                                 memory_order_acquire),
                            keys, n, out, best_rank);
        }
        for (size_t v = 1; v < vec->n; v++) {
            const struct cls_vec_entry *e = &vec->e[v];
            uint64_t max = atomic_load_explicit(&e->max_rank,
                                                memory_order_relaxed);
            size_t m = 0;

            for (size_t i = 0; i < n; i++) {
                todo[m] = i;
                m += best_rank[i] < max;
            }
            if (!m) {
                break;
            }
            cls_probe_rest(e->st, atomic_load_explicit(&e->st->table,
                                                       memory_order_acquire),
                           keys, todo, m, out, best_rank);
        }

        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&cls->gen, memory_order_relaxed) == gen) {
            return;
        }
    }
}

void
esw_cls_lookup_batch(const struct esw_cls *cls,
                     const struct esw_key *const keys[], size_t n,
                     const struct esw_cls_rule *out[])
{
    while (n) {
        size_t k = n < CLS_BATCH ? n : CLS_BATCH;

        cls_lookup_batch__(cls, keys, k, out);
        keys += k;
        out += k;
        n -= k;
    }
}

const struct esw_cls_rule *
esw_cls_find_exact(const struct esw_cls *cls_, const struct esw_key *match,
                   const struct esw_key *mask, uint32_t priority)
{
    struct esw_cls *cls = (struct esw_cls *) cls_;
    const struct esw_cls_rule *found = NULL;
    struct esw_cls_subtable *st;

    pthread_mutex_lock(&cls->mutex);
    st = map_find(cls, mask, mask_hash(mask));
    if (st) {
        struct esw_key masked;
        struct cls_slot slot;

        for (int i = 0; i < ESW_KEY_WORDS; i++) {
            masked.w[i] = match->w[i] & mask->w[i];
        }
        if (cls_table_find(atomic_load_explicit(&st->table,
                                                memory_order_relaxed),
                           st, cls_hash_key(st, &masked), &masked, &slot)) {
            const struct esw_cls_rule *r;

            r = atomic_load_explicit(&slot.b->rule[slot.s],
                                     memory_order_relaxed);
            for (; r; r = r->next) {
                if (r->priority == priority) {
                    found = r;
                    break;
                }
            }
        }
    }
    pthread_mutex_unlock(&cls->mutex);
    return found;
}

size_t
esw_cls_count(const struct esw_cls *cls)
{
    return atomic_load_explicit(&cls->n_rules, memory_order_relaxed);
}

size_t
esw_cls_capacity(const struct esw_cls *cls)
{
    return atomic_load_explicit(&cls->capacity, memory_order_relaxed);
}

size_t
esw_cls_n_masks(const struct esw_cls *cls)
{
    return atomic_load_explicit(&cls->n_masks, memory_order_relaxed);
}
