/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_CLS_H
#define ESW_CLS_H 1

/* The eSwitch rule table: a masked-match classifier over 'struct esw_key'.
 *
 * It models a hardware steering table: each rule has a match, a mask and a
 * priority; a lookup returns the highest-priority rule whose masked match
 * equals the masked key.
 *
 * Rules
 * =====
 *
 * A rule is a 'struct esw_cls_rule' embedded in the caller's object (use
 * offsetof/container_of to get back to it).  Before insertion the caller
 * fills in 'match', 'mask' and 'priority', with 'match' already masked
 * (match.w[i] & ~mask.w[i] == 0 for every word; otherwise EINVAL).  The
 * remaining fields are private.  While a rule is in a table the caller must
 * not modify it.
 *
 * Tie-break: among matching rules of equal priority, the one inserted
 * earliest wins (like the lowest TCAM index).  esw_cls_replace() gives the
 * new rule the position of the rule it replaces.  Two rules with identical
 * match, mask and priority cannot coexist (EEXIST).  Insertion order is
 * tracked with a 32-bit counter; after ~4e9 insertions the table renumbers
 * its rules (O(n log n), once), preserving the order.
 *
 * Error convention
 * ================
 *
 * Functions that can fail return 0 or a positive errno value.  Memory
 * allocation failure aborts the process.
 *
 * Ownership and lifecycle
 * =======================
 *
 * The table never frees rules.  After esw_cls_remove() (or after the 'old'
 * rule of esw_cls_replace()), concurrent lookups may still be looking at
 * the rule, so the caller may free or reuse it only after an RCU grace
 * period, e.g. with esw_rcu_postpone(free_my_rule, rule).  Pointers returned
 * by lookups stay valid until the calling thread's next quiescent state.
 *
 * esw_cls_destroy() may be called with rules still inside; they remain the
 * caller's (free them after a grace period).  It must not race with other
 * calls on the same table, except that lookups that started before it may
 * still be running: the table's memory is released after a grace period.
 *
 * Threading
 * =========
 *
 * Writers (insert, replace, remove, set_capacity, destroy) are serialized by
 * an internal mutex: they may be called from any thread.  So is
 * esw_cls_find_exact(), a control-path helper.
 *
 * Readers (lookup, lookup_batch and the counters) take no lock
 * and write no shared memory.  They may run concurrently with writers from
 * any number of threads, but the calling thread must be online in the
 * esw-rcu sense (see esw-rcu.h: a registered forwarding thread, or inside
 * esw_rcu_read_lock()).  A lookup is not linearizable, but:
 *
 *   - a rule present (and not being removed) during the whole lookup is
 *     never missed in favour of a lower-ranked rule;
 *
 *   - make-before-break: if a key's best match changes from rule A to rule
 *     B because of esw_cls_replace(A, B), or because of esw_cls_insert(B)
 *     followed by esw_cls_remove(A), a concurrent lookup returns A or B (or
 *     a higher-ranked rule inserted meanwhile), never NULL or a lower one.
 *
 * To guarantee this, a lookup that observes a concurrent removal restarts
 * (so lookups are lock-free rather than wait-free).
 *
 * Algorithm
 * =========
 *
 * Tuple-space search: one subtable per distinct mask, each an open-addressed
 * hash table (64-byte buckets of 5 slots) keyed by the masked key, hashed
 * over the mask's non-zero words only.  Subtables are kept sorted by the
 * rank of their best rule, and a lookup stops as soon as its best hit
 * outranks every remaining subtable.  esw_cls_lookup_batch() walks the
 * subtables once for the whole batch and prefetches buckets. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "esw-packet.h"

struct esw_cls;
struct esw_cls_subtable;

struct esw_cls_rule {
    struct esw_key match;       /* Already masked. */
    struct esw_key mask;
    uint32_t priority;          /* Higher wins. */

    /* Private to esw-cls. */
    uint32_t hash;              /* Hash of 'match' in its subtable. */
    _Atomic(uint64_t) rank;     /* priority << 32 | ~insertion order. */
    struct esw_cls_rule *next;  /* Same match+mask, lower priority. */
    struct esw_cls_subtable *subtable;
};

/* Creates an empty table that holds at most 'capacity' rules. */
struct esw_cls *esw_cls_create(size_t capacity);
void esw_cls_destroy(struct esw_cls *);

/* Changes the maximum number of rules.  Returns EBUSY (and changes nothing)
 * if the table currently holds more than 'capacity' rules. */
int esw_cls_set_capacity(struct esw_cls *, size_t capacity);

/* Inserts 'rule'.  Returns 0, EINVAL if 'match' has bits outside 'mask',
 * ENOSPC if the table is full, EEXIST if a rule with the same match, mask
 * and priority is present (then 'rule' is not inserted). */
int esw_cls_insert(struct esw_cls *, struct esw_cls_rule *rule);

/* Inserts the 'n' rules in 'rules' under a single lock acquisition, in
 * order, each as by esw_cls_insert().  Stores each result in 'errors[i]'
 * if 'errors' is nonnull.  Returns the number of rules inserted. */
size_t esw_cls_insert_batch(struct esw_cls *, struct esw_cls_rule *rules[],
                            size_t n, int errors[]);

/* Atomically (for lookups) replaces 'old', which must be in the table, by
 * 'new', which must not be.  'new' may have any match, mask and priority;
 * it takes over the tie-break position of 'old'.  Returns 0, EINVAL for a
 * bad 'new' match, or EEXIST if 'new' duplicates a rule other than 'old'
 * (then nothing changes).  Never ENOSPC: the rule count does not change. */
int esw_cls_replace(struct esw_cls *, struct esw_cls_rule *old,
                    struct esw_cls_rule *new);

/* Removes 'rule', which must be in the table.  Free it only after a grace
 * period. */
void esw_cls_remove(struct esw_cls *, struct esw_cls_rule *rule);

/* Returns the highest-ranked rule matching 'key', or NULL. */
const struct esw_cls_rule *esw_cls_lookup(const struct esw_cls *,
                                          const struct esw_key *key);

/* Looks up keys[0..n-1] into out[0..n-1].  Faster than 'n' single lookups
 * for n >= 4 or so.  Any 'n' is accepted. */
void esw_cls_lookup_batch(const struct esw_cls *,
                          const struct esw_key *const keys[], size_t n,
                          const struct esw_cls_rule *out[]);

/* Returns the rule with exactly this match, mask and priority, or NULL.
 * 'match' need not be pre-masked.  Takes the writers' mutex. */
const struct esw_cls_rule *esw_cls_find_exact(const struct esw_cls *,
                                              const struct esw_key *match,
                                              const struct esw_key *mask,
                                              uint32_t priority);

size_t esw_cls_count(const struct esw_cls *);     /* Rules inside. */
size_t esw_cls_capacity(const struct esw_cls *);
size_t esw_cls_n_masks(const struct esw_cls *);   /* Distinct masks. */

/* For tests only: makes the next insertion use order number 'seq', to
 * exercise renumbering near the counter's end. */
void esw_cls_set_next_seq__(struct esw_cls *, uint32_t seq);

#endif /* esw-cls.h */
