/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_SIM_RING_H
#define ESW_SIM_RING_H 1

/* Bounded multi-producer, single-consumer queue of pointers, and an
 * eventfd-based "became non-empty" notifier, for the sim driver.
 *
 * The ring is D. Vyukov's bounded queue: each cell carries a sequence
 * number, producers claim positions with a CAS on 'head' (one CAS per
 * batch in esw_ring_enqueue_burst()), the single consumer advances 'tail'
 * with plain stores.  Non-blocking on both sides: a full ring refuses, an
 * empty ring returns nothing.
 *
 * Threading: any number of producers; at most one consumer at a time
 * (callers serialize consumers, e.g. one forwarding thread per vport, or
 * one representor reader).  Lifecycle: esw_ring_init()/esw_ring_destroy();
 * destroy does not free queued pointers: drain first.
 *
 * Notifier protocol (level semantics for poll()/epoll):
 *   producer: enqueue, then esw_notifier_signal(): writes the eventfd only
 *             if the consumer armed it (at most one write per arming).
 *   consumer: when it finds the ring empty, esw_notifier_prepare() clears
 *             the eventfd, arms it, and re-checks the ring: if it returns
 *             false the ring is not empty and the caller must not sleep.
 * A full fence on each side makes sure that either the producer sees the
 * arming or the consumer sees the packet. */

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct esw_ring_cell {
    _Atomic size_t seq;
    void *data;
};

struct esw_ring {
    _Alignas(64) _Atomic size_t head;   /* Next position to produce. */
    _Alignas(64) _Atomic size_t tail;   /* Next position to consume. */
    _Alignas(64) size_t mask;           /* Capacity - 1. */
    struct esw_ring_cell *cells;
};

/* Rounds 'n' up to a power of 2, at least 2. */
static inline size_t
esw_ring_round_up(size_t n)
{
    size_t size = 2;

    while (size < n) {
        size *= 2;
    }
    return size;
}

static inline int
esw_ring_init(struct esw_ring *r, size_t capacity)
{
    size_t size = esw_ring_round_up(capacity);

    r->cells = malloc(size * sizeof *r->cells);
    if (!r->cells) {
        return ENOMEM;
    }
    for (size_t i = 0; i < size; i++) {
        atomic_init(&r->cells[i].seq, i);
        r->cells[i].data = NULL;
    }
    r->mask = size - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

static inline void
esw_ring_destroy(struct esw_ring *r)
{
    free(r->cells);
    r->cells = NULL;
}

static inline size_t
esw_ring_capacity(const struct esw_ring *r)
{
    return r->mask + 1;
}

/* Enqueues up to 'n' pointers from 'objs', in order; returns how many were
 * enqueued (fewer only if the ring filled up). */
static inline size_t
esw_ring_enqueue_burst(struct esw_ring *r, void *const objs[], size_t n)
{
    size_t done = 0;

    while (done < n) {
        size_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);
        size_t want = n - done;

        if (want > r->mask + 1) {
            want = r->mask + 1;
        }

        for (;;) {
            /* The cells are released in order by the single consumer, so
             * if the last cell of the burst is free, all of them are. */
            struct esw_ring_cell *last = &r->cells[(pos + want - 1)
                                                   & r->mask];
            size_t seq = atomic_load_explicit(&last->seq,
                                              memory_order_acquire);
            intptr_t dif = (intptr_t) seq - (intptr_t) (pos + want - 1);

            if (dif == 0) {
                if (atomic_compare_exchange_weak_explicit(
                        &r->head, &pos, pos + want,
                        memory_order_relaxed, memory_order_relaxed)) {
                    break;
                }
            } else if (dif < 0) {
                /* Not enough room for 'want': try one at a time. */
                if (want == 1) {
                    return done;
                }
                want = 1;
                pos = atomic_load_explicit(&r->head, memory_order_relaxed);
            } else {
                pos = atomic_load_explicit(&r->head, memory_order_relaxed);
            }
        }
        /* Cells before 'last' are free too, but another producer that
         * claimed earlier positions may still be filling its own cells;
         * ours are exclusively ours now. */
        for (size_t i = 0; i < want; i++) {
            struct esw_ring_cell *cell = &r->cells[(pos + i) & r->mask];

            cell->data = objs[done + i];
            atomic_store_explicit(&cell->seq, pos + i + 1,
                                  memory_order_release);
        }
        done += want;
    }
    return done;
}

static inline bool
esw_ring_enqueue(struct esw_ring *r, void *obj)
{
    return esw_ring_enqueue_burst(r, &obj, 1) == 1;
}

/* Dequeues up to 'max' pointers into 'objs'.  Single consumer only. */
static inline size_t
esw_ring_dequeue_burst(struct esw_ring *r, void *objs[], size_t max)
{
    size_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t n;

    for (n = 0; n < max; n++) {
        struct esw_ring_cell *cell = &r->cells[(pos + n) & r->mask];
        size_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);

        if (seq != pos + n + 1) {
            break;
        }
        objs[n] = cell->data;
        atomic_store_explicit(&cell->seq, pos + n + r->mask + 1,
                              memory_order_release);
    }
    atomic_store_explicit(&r->tail, pos + n, memory_order_relaxed);
    return n;
}

/* True if the consumer would find nothing (exact for the consumer thread,
 * a snapshot for others). */
static inline bool
esw_ring_is_empty(struct esw_ring *r)
{
    size_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);
    struct esw_ring_cell *cell = &r->cells[pos & r->mask];

    return atomic_load_explicit(&cell->seq, memory_order_acquire) != pos + 1;
}

/* Notifier. */

struct esw_notifier {
    int fd;                     /* eventfd, non-blocking. */
    _Atomic bool armed;         /* Consumer sleeps or may sleep. */
};

static inline int
esw_notifier_init(struct esw_notifier *n)
{
    n->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (n->fd < 0) {
        return errno;
    }
    atomic_init(&n->armed, true);
    return 0;
}

static inline void
esw_notifier_destroy(struct esw_notifier *n)
{
    if (n->fd >= 0) {
        close(n->fd);
        n->fd = -1;
    }
}

/* Producer side, after enqueuing. */
static inline void
esw_notifier_signal(struct esw_notifier *n)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&n->armed, memory_order_relaxed)
        && atomic_exchange(&n->armed, false)) {
        uint64_t one = 1;
        ssize_t retval = write(n->fd, &one, sizeof one);

        (void) retval;          /* Only EAGAIN at 2**64-2: still readable. */
    }
}

/* Consumer side, after finding 'r' empty.  Returns true if the consumer may
 * sleep on n->fd, false if 'r' is not empty (anymore). */
static inline bool
esw_notifier_prepare(struct esw_notifier *n, struct esw_ring *r)
{
    if (!atomic_load_explicit(&n->armed, memory_order_relaxed)) {
        uint64_t value;
        ssize_t retval = read(n->fd, &value, sizeof value);

        (void) retval;          /* EAGAIN: already clear. */
        atomic_store_explicit(&n->armed, true, memory_order_relaxed);
    }
    atomic_thread_fence(memory_order_seq_cst);
    return esw_ring_is_empty(r);
}

#endif /* esw-sim-ring.h */
