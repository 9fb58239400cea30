/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The per-subtable hash table of the rule table: writer-side operations.
 * See esw-cls-private.h for the layout and the concurrency protocol. */

/* For madvise(MADV_HUGEPAGE) even under -std=c11. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE 1
#endif

#include "esw-cls-private.h"

#include <errno.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "esw-rcu.h"

#define HUGE_PAGE_SIZE ((size_t) 2 << 20)

static bool
slot_is_live(const struct esw_cls_rule *r)
{
    return (uintptr_t) r > (uintptr_t) CLS_TOMB;
}

/* Returns a new, empty table sized so that 'n_rules' heads fill at most
 * about 40% of its slots. */
struct cls_table *
cls_table_create(size_t n_rules)
{
    size_t want = n_rules * 5 / (2 * CLS_SLOTS) + 1;
    size_t n = 1;
    struct cls_table *t;
    size_t size;

    while (n < want) {
        n <<= 1;
    }
    size = sizeof *t + n * sizeof(struct cls_bucket);
    if (size >= HUGE_PAGE_SIZE) {
        /* Big tables are probed at random: ask for huge pages, to spare
         * lookups a TLB miss on top of the cache miss. */
        size = (size + HUGE_PAGE_SIZE - 1) / HUGE_PAGE_SIZE * HUGE_PAGE_SIZE;
        t = aligned_alloc(HUGE_PAGE_SIZE, size);
#ifdef MADV_HUGEPAGE
        if (t) {
            madvise(t, size, MADV_HUGEPAGE);    /* Only a hint. */
        }
#endif
    } else {
        t = aligned_alloc(CLS_CACHE_LINE, size);
    }
    if (!t) {
        fprintf(stderr, "esw-cls: out of memory (%zu bytes)\n", size);
        abort();
    }
    memset(t, 0, size);
    t->mask = n - 1;
    return t;
}

/* Finds the slot of the head whose match equals 'match' (already masked by
 * 'st''s mask, 'hash' its hash).  Returns true and fills in '*slot' if
 * found. */
bool
cls_table_find(struct cls_table *t, const struct esw_cls_subtable *st,
               uint32_t hash, const struct esw_key *match,
               struct cls_slot *slot)
{
    uint32_t i = hash & t->mask;

    for (uint32_t n = 0; n <= t->mask; n++) {
        struct cls_bucket *b = &t->b[i];

        for (int s = 0; s < CLS_SLOTS; s++) {
            struct esw_cls_rule *r;

            r = atomic_load_explicit(&b->rule[s], memory_order_relaxed);
            if (slot_is_live(r)
                && atomic_load_explicit(&b->hash[s],
                                        memory_order_relaxed) == hash
                && cls_rule_matches(st, r, match)) {
                slot->b = b;
                slot->s = s;
                return true;
            }
        }
        if (!atomic_load_explicit(&b->overflow, memory_order_relaxed)) {
            break;
        }
        i = (i + 1) & t->mask;
    }
    return false;
}

/* Puts 'head' (whose hash is 'hash') in the first free slot of its probe
 * sequence in 't', flagging the full buckets it passes. */
static void
table_place(struct cls_table *t, uint32_t hash, struct esw_cls_rule *head)
{
    uint32_t i = hash & t->mask;

    for (;;) {
        struct cls_bucket *b = &t->b[i];

        for (int s = 0; s < CLS_SLOTS; s++) {
            struct esw_cls_rule *r;

            r = atomic_load_explicit(&b->rule[s], memory_order_relaxed);
            if (!slot_is_live(r)) {
                atomic_store_explicit(&b->hash[s], hash,
                                      memory_order_release);
                atomic_store_explicit(&b->rule[s], head,
                                      memory_order_release);
                t->n_used += !r;
                t->n_live++;
                return;
            }
        }
        if (!atomic_load_explicit(&b->overflow, memory_order_relaxed)) {
            atomic_store_explicit(&b->overflow, 1, memory_order_relaxed);
            t->n_overflow++;
        }
        i = (i + 1) & t->mask;
    }
}

/* Adds 'head', whose match is not yet in 'st', to 'st''s table, first
 * rebuilding the table into a new array if it is too full. */
void
cls_table_add(struct esw_cls_subtable *st, struct esw_cls_rule *head)
{
    struct cls_table *t = atomic_load_explicit(&st->table,
                                               memory_order_relaxed);
    size_t n_slots = (size_t) (t->mask + 1) * CLS_SLOTS;

    if ((t->n_used + 1) * 4 > n_slots * 3
        || t->n_overflow * 4 > t->mask + 1) {
        struct cls_table *new = cls_table_create(t->n_live + 1);

        for (uint32_t i = 0; i <= t->mask; i++) {
            for (int s = 0; s < CLS_SLOTS; s++) {
                struct esw_cls_rule *r;

                r = atomic_load_explicit(&t->b[i].rule[s],
                                         memory_order_relaxed);
                if (slot_is_live(r)) {
                    table_place(new, atomic_load_explicit(
                                    &t->b[i].hash[s], memory_order_relaxed),
                                r);
                }
            }
        }
        atomic_store_explicit(&st->table, new, memory_order_release);
        esw_rcu_postpone(free, t);
        t = new;
    }
    table_place(t, head->hash, head);
}

/* Makes the slot point to 'head', which has the same match as the current
 * head. */
void
cls_table_set(struct cls_slot *slot, struct esw_cls_rule *head)
{
    atomic_store_explicit(&slot->b->rule[slot->s], head,
                          memory_order_release);
}

/* Empties 'slot' of 'st''s table. */
void
cls_table_delete(struct esw_cls_subtable *st, struct cls_slot *slot)
{
    struct cls_table *t = atomic_load_explicit(&st->table,
                                               memory_order_relaxed);

    atomic_store_explicit(&slot->b->rule[slot->s], CLS_TOMB,
                          memory_order_release);
    t->n_live--;
}

/* Returns the highest rank of a rule in 't', or 0 if it is empty. */
uint64_t
cls_table_max_rank(const struct cls_table *t)
{
    uint64_t max = 0;

    for (uint32_t i = 0; i <= t->mask; i++) {
        for (int s = 0; s < CLS_SLOTS; s++) {
            const struct esw_cls_rule *r;

            r = atomic_load_explicit(&t->b[i].rule[s],
                                     memory_order_relaxed);
            if (slot_is_live(r) && cls_rank(r) > max) {
                max = cls_rank(r);
            }
        }
    }
    return max;
}

/* Stores every rule of 't', chained ones included, into 'rules' (which must
 * have room for them) and returns how many. */
size_t
cls_table_collect(const struct cls_table *t, struct esw_cls_rule **rules)
{
    size_t n = 0;

    for (uint32_t i = 0; i <= t->mask; i++) {
        for (int s = 0; s < CLS_SLOTS; s++) {
            struct esw_cls_rule *r;

            r = atomic_load_explicit(&t->b[i].rule[s],
                                     memory_order_relaxed);
            for (; slot_is_live(r); r = r->next) {
                rules[n++] = r;
            }
        }
    }
    return n;
}
