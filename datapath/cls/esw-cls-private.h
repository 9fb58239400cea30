/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_CLS_PRIVATE_H
#define ESW_CLS_PRIVATE_H 1

/* Internals of the rule table, shared by esw-cls.c (API, subtables, lookups)
 * and esw-cls-table.c (the per-subtable hash table).  Nothing outside those
 * two files may include this header.
 *
 * Per-subtable hash table
 * =======================
 *
 * An open-addressed table of 64-byte buckets, each with CLS_SLOTS slots
 * holding a 32-bit hash and a pointer to the head rule of a *chain*: the
 * rules with the same masked match, sorted by decreasing rank.  Lookups only
 * ever look at heads (the best rule for that match), so chains are
 * writer-private.
 *
 * A key's home bucket is 'hash & mask'; probing moves to the next bucket
 * only while the current one has its 'overflow' flag set, which an insertion
 * sets on every full bucket it passes.  A slot is empty (NULL, never used
 * since the table was built), a tombstone (CLS_TOMB) or live.  Tombstones
 * are reused by insertions; NULLs only reappear when the table is rebuilt
 * (into a new array, published with RCU) because it grew, or because too
 * many slots are used or too many buckets overflow.
 *
 * Slot writes: the hash first, then the pointer, both with release
 * semantics.  A reader compares the hash first and then loads the pointer
 * (acquire) and checks the rule's match, which is authoritative. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "esw-cls.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CLS_SLOTS 5
#define CLS_TOMB ((struct esw_cls_rule *) (uintptr_t) 1)
#define CLS_CACHE_LINE 64

struct cls_bucket {
    _Atomic(uint32_t) hash[CLS_SLOTS];
    _Atomic(uint32_t) overflow;         /* Nonzero: probe the next one. */
    _Atomic(struct esw_cls_rule *) rule[CLS_SLOTS];
};
_Static_assert(sizeof(struct cls_bucket) == CLS_CACHE_LINE,
               "a bucket must fill exactly one cache line");

struct cls_table {
    uint32_t mask;              /* Number of buckets - 1. */
    /* Writer-only. */
    uint32_t n_live;            /* Live slots. */
    uint32_t n_used;            /* Live slots + tombstones. */
    uint32_t n_overflow;        /* Buckets with 'overflow' set. */
    char pad[CLS_CACHE_LINE - 4 * sizeof(uint32_t)];
    struct cls_bucket b[];
};

/* One subtable per distinct mask. */
struct esw_cls_subtable {
    /* Read by lookups. */
    _Atomic(struct cls_table *) table;
    uint32_t n_words;                   /* Non-zero words of 'mask'. */
    uint8_t words[ESW_KEY_WORDS];       /* Their indexes, ascending. */
    uint64_t mask_w[ESW_KEY_WORDS];     /* mask.w[words[i]]. */

    /* Writer-only (under the table's mutex). */
    struct esw_key mask;
    uint32_t mask_hash;
    struct esw_cls_subtable *map_next;  /* In esw_cls's 'map'. */
    size_t n_rules;                     /* Including chained rules. */
    uint64_t max_rank;                  /* >= rank of every rule inside. */
    bool max_exact;                     /* 'max_rank' is the maximum. */
    size_t n_removed;                   /* Removals since it was exact. */
    size_t vec_idx;                     /* Index in the current vec. */
};

/* Hashing and matching. */

/* Used for the mask hash of the writers' map. */
static inline uint64_t
cls_mix(uint64_t h, uint64_t w)
{
    w *= UINT64_C(0x87c37b91114253d5);
    w = (w << 31) | (w >> 33);
    w *= UINT64_C(0x4cf5ad432745937f);
    h ^= w;
    h = (h << 27) | (h >> 37);
    return h * 5 + 0x52dce729;
}

static inline uint32_t
cls_finish(uint64_t h)
{
    h ^= h >> 32;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 29;
    return h;
}

/* Hash of 'key' masked by 'st''s mask: multilinear (a sum of products by
 * odd constants, one per position, which multiply independently), then
 * mixed so that every input bit reaches the low bits used as the bucket
 * index.  The "_n" variants take 'n_words' (which must be st->n_words) as
 * a parameter, so that callers that know it at compile time get unrolled
 * code. */
static inline __attribute__((always_inline)) uint32_t
cls_hash_words(const uint8_t words[], const uint64_t mask_w[],
               const struct esw_key *key, uint32_t n_words)
{
    static const uint64_t k[] = {
        UINT64_C(0x9e3779b97f4a7c15), UINT64_C(0xc2b2ae3d27d4eb4f),
        UINT64_C(0x165667b19e3779f9), UINT64_C(0x85ebca77c2b2ae63),
        UINT64_C(0x27d4eb2f165667c5), UINT64_C(0xff51afd7ed558ccd),
        UINT64_C(0xc4ceb9fe1a85ec53), UINT64_C(0x87c37b91114253d5),
        UINT64_C(0x4cf5ad432745937f), UINT64_C(0xbf58476d1ce4e5b9),
        UINT64_C(0x94d049bb133111eb), UINT64_C(0xd6e8feb86659fd93),
        UINT64_C(0xa0761d6478bd642f), UINT64_C(0xe7037ed1a0b428db),
        UINT64_C(0x8ebc6af09c88c6e3), UINT64_C(0x589965cc75374cc3),
        UINT64_C(0x1d8e4e27c47d124f), UINT64_C(0x9fb21c651e98df25),
        UINT64_C(0xd1b54a32d192ed03), UINT64_C(0xaef17502108ef2d9),
        UINT64_C(0x9e6c63d0676a9a99), UINT64_C(0xdb4f0b9175ae2165),
        UINT64_C(0xf1357aea2e62a9c5),
    };
    _Static_assert(sizeof k / sizeof k[0] == ESW_KEY_WORDS,
                   "one constant per key word");
    uint64_t h = n_words;

    for (uint32_t i = 0; i < n_words; i++) {
        h += (key->w[words[i]] & mask_w[i]) * k[i];
    }
    return cls_finish(h);
}

static inline __attribute__((always_inline)) uint32_t
cls_hash_key_n(const struct esw_cls_subtable *st, const struct esw_key *key,
               uint32_t n_words)
{
    return cls_hash_words(st->words, st->mask_w, key, n_words);
}

static inline uint32_t
cls_hash_key(const struct esw_cls_subtable *st, const struct esw_key *key)
{
    return cls_hash_key_n(st, key, st->n_words);
}

/* True if 'key' masked by the mask ('words' and 'mask_w' of a subtable)
 * equals 'r''s match. */
static inline __attribute__((always_inline)) bool
cls_words_match(const uint8_t words[], const uint64_t mask_w[],
                const struct esw_cls_rule *r, const struct esw_key *key,
                uint32_t n_words)
{
    uint64_t diff = 0;

    for (uint32_t i = 0; i < n_words; i++) {
        uint32_t w = words[i];
        diff |= (key->w[w] & mask_w[i]) ^ r->match.w[w];
    }
    return !diff;
}

/* True if 'key' masked by 'st''s mask equals 'r''s match. */
static inline bool
cls_rule_matches(const struct esw_cls_subtable *st,
                 const struct esw_cls_rule *r, const struct esw_key *key)
{
    return cls_words_match(st->words, st->mask_w, r, key, st->n_words);
}

static inline uint64_t
cls_rank(const struct esw_cls_rule *r)
{
    return atomic_load_explicit(&r->rank, memory_order_relaxed);
}

/* Returns a bitmap of the slots of 'b' whose hash is 'h'.
 *
 * With SSE2, the first four hashes are compared at once, from one 16-byte
 * load: on x86 each aligned 32-bit lane of such a load is read atomically,
 * like the relaxed loads of the portable version (compilers do not
 * combine or unroll those), and a stale hash is harmless anyway: the
 * pointer is then loaded with acquire semantics and the rule's match
 * decides. */
static inline uint32_t
cls_bucket_hits(const struct cls_bucket *b, uint32_t h)
{
    _Static_assert(CLS_SLOTS == 5, "cls_bucket_hits() assumes 5 slots");
#define CLS_HIT(S) \
    ((uint32_t) (atomic_load_explicit(&b->hash[S], memory_order_relaxed) \
                 == h) << (S))
#ifdef __SSE2__
    __m128i v = _mm_load_si128((const __m128i *) (const void *) b->hash);
    __m128i eq = _mm_cmpeq_epi32(v, _mm_set1_epi32(h));

    return _mm_movemask_ps(_mm_castsi128_ps(eq)) | CLS_HIT(4);
#else
    return CLS_HIT(0) | CLS_HIT(1) | CLS_HIT(2) | CLS_HIT(3) | CLS_HIT(4);
#endif
#undef CLS_HIT
}

/* Returns the head rule in 't' matching 'key' (whose hash is 'h'), or
 * NULL, for a subtable whose mask is 'words' and 'mask_w' ('n_words' of
 * them).  Lock-free. */
static inline __attribute__((always_inline)) const struct esw_cls_rule *
cls_table_lookup_words(const struct cls_table *t, const uint8_t words[],
                       const uint64_t mask_w[], uint32_t h,
                       const struct esw_key *key, uint32_t n_words)
{
    uint32_t i = h & t->mask;

    for (uint32_t n = 0; n <= t->mask; n++) {
        const struct cls_bucket *b = &t->b[i];
        uint32_t hits = cls_bucket_hits(b, h);

        while (hits) {
            int s = __builtin_ctz(hits);
            const struct esw_cls_rule *r
                = atomic_load_explicit(&b->rule[s], memory_order_acquire);

            if ((uintptr_t) r > (uintptr_t) CLS_TOMB
                && cls_words_match(words, mask_w, r, key, n_words)) {
                return r;
            }
            hits &= hits - 1;
        }
        if (!atomic_load_explicit(&b->overflow, memory_order_relaxed)) {
            break;
        }
        i = (i + 1) & t->mask;
    }
    return NULL;
}

static inline const struct esw_cls_rule *
cls_table_lookup(const struct cls_table *t,
                 const struct esw_cls_subtable *st, uint32_t h,
                 const struct esw_key *key)
{
    return cls_table_lookup_words(t, st->words, st->mask_w, h, key,
                                  st->n_words);
}

/* Writer-side table operations (esw-cls-table.c).  'st' must be locked by
 * the caller (through its esw_cls's mutex). */

/* A slot position. */
struct cls_slot {
    struct cls_bucket *b;
    int s;
};

struct cls_table *cls_table_create(size_t n_rules);
bool cls_table_find(struct cls_table *, const struct esw_cls_subtable *,
                    uint32_t hash, const struct esw_key *match,
                    struct cls_slot *);
void cls_table_add(struct esw_cls_subtable *, struct esw_cls_rule *head);
void cls_table_set(struct cls_slot *, struct esw_cls_rule *head);
void cls_table_delete(struct esw_cls_subtable *, struct cls_slot *);
uint64_t cls_table_max_rank(const struct cls_table *);
size_t cls_table_collect(const struct cls_table *,
                         struct esw_cls_rule **rules);

#endif /* esw-cls-private.h */
