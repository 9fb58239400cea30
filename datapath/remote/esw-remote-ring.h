/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_REMOTE_RING_H
#define ESW_REMOTE_RING_H 1

/* A representor queue in shared memory: the device daemon's forwarding
 * threads (many producers) copy missed packets into it, the remote
 * driver's representor reader (one consumer, in another process) copies
 * them out, without a system call per packet.
 *
 * The ring lives in a memfd that the daemon creates and passes, with the
 * queue's eventfd, over the control socket (SCM_RIGHTS).  It is the
 * bounded MPMC queue of esw-sim-ring.h (Vyukov's: a sequence number per
 * cell) with the packets inline: the header, the 'capacity' sequence
 * numbers, then 'capacity' cells of ESW_RRING_CELL_SIZE bytes.  Cells
 * never used cost no memory (the memfd is sparse, and only the sequence
 * numbers are written at creation); a cell touches the pages its frame
 * covers.
 *
 * The notifier is esw-sim-ring.h's with 'armed' in the shared header:
 * producers write the eventfd when they enqueue into an armed queue; the
 * consumer re-arms (and clears the eventfd) after ESW_RRING_REARM_POLLS
 * consecutive empty reads, the semantics esw.h gives esw_rep_get_fd().
 *
 * The consumer never trusts the header: it maps what fstat() says, checks
 * the magic, capacity and cell size against it, and checks every cell's
 * length before copying. */

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "esw-packet.h"

#define ESW_RRING_MAGIC 0x474e4952u         /* "RING". */
#define ESW_RRING_CELL_SIZE 9280            /* >= header + ESW_FRAME_MAX,
                                             * a multiple of 64. */
#define ESW_RRING_REARM_POLLS 4

struct esw_rring_cell {
    uint32_t len;
    uint32_t in_vport;
    uint32_t mark;
    uint32_t pad;
    uint8_t data[ESW_RRING_CELL_SIZE - 16];
};

_Static_assert(sizeof(struct esw_rring_cell) == ESW_RRING_CELL_SIZE,
               "cell size");
_Static_assert(ESW_RRING_CELL_SIZE - 16 >= ESW_FRAME_MAX, "frame fits");

struct esw_rring {
    uint32_t magic;
    uint32_t capacity;                  /* Power of 2. */
    uint32_t cell_size;
    _Atomic bool armed;
    _Alignas(64) _Atomic uint64_t head; /* Next position to produce. */
    _Alignas(64) _Atomic uint64_t tail; /* Next position to consume. */
    _Alignas(64) _Atomic uint64_t seq[]; /* [capacity], then the cells. */
};

/* Offset of the cells: after the sequence numbers, page aligned. */
static inline size_t
esw_rring_cells_offset(uint32_t capacity)
{
    size_t off = sizeof(struct esw_rring) + (size_t) capacity * 8;

    return (off + 4095) & ~(size_t) 4095;
}

static inline size_t
esw_rring_size(uint32_t capacity)
{
    return esw_rring_cells_offset(capacity)
           + (size_t) capacity * sizeof(struct esw_rring_cell);
}

static inline struct esw_rring_cell *
esw_rring_cell(struct esw_rring *r, uint64_t pos)
{
    return (struct esw_rring_cell *) ((char *) r
                                      + esw_rring_cells_offset(r->capacity))
           + (pos & (r->capacity - 1));
}

/* Initializes a zeroed mapping of esw_rring_size('capacity') bytes. */
static inline void
esw_rring_init(struct esw_rring *r, uint32_t capacity)
{
    r->magic = ESW_RRING_MAGIC;
    r->capacity = capacity;
    r->cell_size = ESW_RRING_CELL_SIZE;
    atomic_init(&r->armed, true);
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    for (uint32_t i = 0; i < capacity; i++) {
        atomic_init(&r->seq[i], i);
    }
}

/* Checks a mapping of 'size' bytes received from another process. */
static inline bool
esw_rring_check(const struct esw_rring *r, size_t size)
{
    return (size >= sizeof *r
            && r->magic == ESW_RRING_MAGIC
            && r->cell_size == ESW_RRING_CELL_SIZE
            && r->capacity && !(r->capacity & (r->capacity - 1))
            && r->capacity <= (1u << 20)
            && esw_rring_size(r->capacity) == size);
}

/* Producer: copies 'pkt' into the ring.  Returns false if it is full. */
static inline bool
esw_rring_enqueue(struct esw_rring *r, const struct esw_pkt *pkt)
{
    uint64_t mask = r->capacity - 1;
    uint64_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);

    for (;;) {
        _Atomic uint64_t *cell_seq = &r->seq[pos & mask];
        uint64_t seq = atomic_load_explicit(cell_seq, memory_order_acquire);
        int64_t dif = (int64_t) (seq - pos);

        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(
                    &r->head, &pos, pos + 1, memory_order_relaxed,
                    memory_order_relaxed)) {
                struct esw_rring_cell *cell = esw_rring_cell(r, pos);

                cell->len = pkt->len;
                cell->in_vport = pkt->in_vport;
                cell->mark = pkt->mark;
                memcpy(cell->data, pkt->data, pkt->len);
                atomic_store_explicit(cell_seq, pos + 1,
                                      memory_order_release);
                return true;
            }
        } else if (dif < 0) {
            return false;
        } else {
            pos = atomic_load_explicit(&r->head, memory_order_relaxed);
        }
    }
}

/* Producer side, after enqueuing: signals 'efd' if the consumer armed it. */
static inline void
esw_rring_signal(struct esw_rring *r, int efd)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&r->armed, memory_order_relaxed)
        && atomic_exchange(&r->armed, false)) {
        uint64_t one = 1;
        ssize_t retval = write(efd, &one, sizeof one);

        (void) retval;          /* Only EAGAIN at 2**64-2: still readable. */
    }
}

static inline bool
esw_rring_is_empty(struct esw_rring *r)
{
    uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);

    return (atomic_load_explicit(&r->seq[pos & (r->capacity - 1)],
                                 memory_order_acquire) != pos + 1);
}

/* Consumer (one at a time): the cell at the tail if a packet is there,
 * else NULL.  esw_rring_release() frees it once copied. */
static inline struct esw_rring_cell *
esw_rring_peek(struct esw_rring *r)
{
    uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);

    return (atomic_load_explicit(&r->seq[pos & (r->capacity - 1)],
                                 memory_order_acquire) == pos + 1
            ? esw_rring_cell(r, pos) : NULL);
}

static inline void
esw_rring_release(struct esw_rring *r,
                  struct esw_rring_cell *cell __attribute__((unused)))
{
    uint64_t pos = atomic_load_explicit(&r->tail, memory_order_relaxed);

    atomic_store_explicit(&r->tail, pos + 1, memory_order_relaxed);
    atomic_store_explicit(&r->seq[pos & (r->capacity - 1)],
                          pos + r->capacity, memory_order_release);
}

/* Consumer side, after finding 'r' empty ESW_RRING_REARM_POLLS times:
 * clears 'efd' and re-arms; if a packet raced in, leaves 'efd' readable. */
static inline void
esw_rring_rearm(struct esw_rring *r, int efd)
{
    if (!atomic_load_explicit(&r->armed, memory_order_relaxed)) {
        uint64_t value;
        ssize_t retval = read(efd, &value, sizeof value);

        (void) retval;          /* EAGAIN: already clear. */
        atomic_store_explicit(&r->armed, true, memory_order_relaxed);
    }
    atomic_thread_fence(memory_order_seq_cst);
    if (!esw_rring_is_empty(r)) {
        uint64_t one = 1;
        ssize_t retval;

        atomic_store(&r->armed, false);
        retval = write(efd, &one, sizeof one);
        (void) retval;
    }
}

/* Counters in shared memory: the device daemon keeps its vports' counters
 * there (the sim's counter store, esw-sim.h), which its client reads
 * without a round trip.  A header, then one slot per vport number. */
#define ESW_RSTATS_MAGIC 0x54415453u        /* "STAT". */

struct esw_rstats_vport {
    _Atomic uint64_t exists;        /* Nonzero while the vport exists. */
    _Atomic uint64_t rx_packets, rx_bytes;
    _Atomic uint64_t tx_packets, tx_bytes;
    _Atomic uint64_t rep_rx_packets, rep_tx_packets;
    _Atomic uint64_t guest_mac_refused;
    _Atomic uint64_t drops[ESW_N_DROP_REASONS];
};

struct esw_rstats {
    uint32_t magic;
    uint32_t max_vports;
    uint32_t slot_size;
    _Alignas(64) struct esw_rstats_vport vports[];
};

static inline size_t
esw_rstats_size(uint32_t max_vports)
{
    return sizeof(struct esw_rstats)
           + (size_t) max_vports * sizeof(struct esw_rstats_vport);
}

/* Checks a mapping of 'size' bytes received from another process. */
static inline bool
esw_rstats_check(const struct esw_rstats *st, size_t size,
                 uint32_t max_vports)
{
    return (size >= sizeof *st
            && st->magic == ESW_RSTATS_MAGIC
            && st->max_vports == max_vports
            && st->slot_size == sizeof(struct esw_rstats_vport)
            && esw_rstats_size(max_vports) == size);
}

/* Connection counters in shared memory: the device daemon copies each
 * connection table entry's counters into its slot (esw-remote-proto.h,
 * "Connections"), which the client reads without a round trip.  One
 * writer (the daemon's main thread); fields are independent relaxed
 * atomics, as the device's own counters are.  'id' is the client's id of
 * the entry the slot holds (0: free), so that a reader checks that the
 * slot is still its entry's. */
#define ESW_RCT_MAGIC 0x54434e43u           /* "CNCT". */
#define ESW_RCT_PUBLISH_MS 100

struct esw_rct_slot {
    _Atomic uint64_t id;
    _Atomic uint64_t packets[2], bytes[2];
    _Atomic uint64_t used_ms;       /* esw_time_msec() clock, 0: never. */
    _Atomic uint64_t flushed;
};

struct esw_rct {
    uint32_t magic;
    uint32_t n_slots;
    uint32_t slot_size;
    _Alignas(64) struct esw_rct_slot slots[];
};

/* Slots of a device of 'max_conns' entries: room for as many flushed
 * entries not deleted yet. */
static inline uint32_t
esw_rct_n_slots(uint32_t max_conns)
{
    return max_conns ? 2 * max_conns : 0;
}

static inline size_t
esw_rct_size(uint32_t n_slots)
{
    return sizeof(struct esw_rct)
           + (size_t) n_slots * sizeof(struct esw_rct_slot);
}

/* Checks a mapping of 'size' bytes received from another process. */
static inline bool
esw_rct_check(const struct esw_rct *t, size_t size, uint32_t n_slots)
{
    return (size >= sizeof *t
            && t->magic == ESW_RCT_MAGIC
            && t->n_slots == n_slots
            && t->slot_size == sizeof(struct esw_rct_slot)
            && esw_rct_size(n_slots) == size);
}

#endif /* esw-remote-ring.h */
