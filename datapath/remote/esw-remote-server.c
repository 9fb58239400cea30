/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The device daemon's sessions (esw-remote-server.h). */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* memfd_create(). */
#endif

#include "esw-remote-server.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esw-provider.h"
#include "esw-rcu.h"
#include "esw-remote-ring.h"
#include "esw-remote-state.h"
#include "esw-sim.h"

/* Rule ids <-> handles: an open-addressing map with linear probing and
 * backward-shift deletion; keys are nonzero. */
struct rmap_slot {
    uint64_t key;
    uint64_t value;
};

struct rmap {
    struct rmap_slot *slots;
    size_t mask;                /* Capacity - 1 (0: no table). */
    size_t n;
};

static uint64_t
rmap_hash(uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return key;
}

static struct rmap_slot *
rmap_find(const struct rmap *m, uint64_t key)
{
    if (!m->slots) {
        return NULL;
    }
    for (size_t i = rmap_hash(key) & m->mask; m->slots[i].key;
         i = (i + 1) & m->mask) {
        if (m->slots[i].key == key) {
            return &m->slots[i];
        }
    }
    return NULL;
}

static int
rmap_insert(struct rmap *m, uint64_t key, uint64_t value)
{
    if ((m->n + 1) * 2 > (m->slots ? m->mask + 1 : 0)) {
        size_t size = m->slots ? (m->mask + 1) * 2 : 64;
        struct rmap_slot *slots = calloc(size, sizeof *slots);
        struct rmap old = *m;

        if (!slots) {
            return ENOMEM;
        }
        m->slots = slots;
        m->mask = size - 1;
        m->n = 0;
        for (size_t i = 0; old.slots && i <= old.mask; i++) {
            if (old.slots[i].key) {
                rmap_insert(m, old.slots[i].key, old.slots[i].value);
            }
        }
        free(old.slots);
    }
    size_t i = rmap_hash(key) & m->mask;

    while (m->slots[i].key) {
        i = (i + 1) & m->mask;
    }
    m->slots[i].key = key;
    m->slots[i].value = value;
    m->n++;
    return 0;
}

static void
rmap_remove(struct rmap *m, struct rmap_slot *slot)
{
    size_t i = slot - m->slots;
    size_t j = i;

    for (;;) {
        j = (j + 1) & m->mask;
        if (!m->slots[j].key) {
            break;
        }
        size_t home = rmap_hash(m->slots[j].key) & m->mask;

        /* Move 'j' into the hole at 'i' if its home is not in (i, j]. */
        if ((j > i && (home <= i || home > j))
            || (j < i && (home <= i && home > j))) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = 0;
    m->n--;
}

/* A representor queue in shared memory. */
struct srv_ring {
    struct esw_rring *r;        /* Mapping of 'memfd'. */
    size_t size;
    int memfd;
    int efd;                    /* Its eventfd. */
};

/* A connection table entry of the client's, in its slot of the shared
 * table. */
struct sct {
    uint64_t id;                /* The client's; 0: a free slot. */
    struct esw_ct *ct;          /* NULL: flushed before a live update (only
                                 * the id and counters are kept, for its
                                 * deletion). */
    struct esw_ct_stats base;   /* Counted before the last live update. */
};

struct esw_rsession {
    bool hello;
    struct esw_dev *dev;
    struct rmap rules;          /* Client id -> struct esw_rule *. */
    struct rmap handles;        /* struct esw_rule * -> client id. */

    /* Representor queues: [vport * ESW_MAX_REP_QUEUES + queue], read by
     * the forwarding threads (RCU), written by the session. */
    struct srv_ring *_Atomic *rings;
    struct esw_sim_rep_sink sink;

    /* OVS's sends: a ring per vport [max_vports], consumed here; their
     * producer (the client) signals 'send_efd'. */
    struct srv_ring **send_rings;
    int send_efd;

    /* The vports' counters, in shared memory (the sim's counter store). */
    struct esw_rstats *stats;
    size_t stats_size;
    int stats_fd;
    struct esw_sim_counter_store counter_store;

    /* Connections: their counters in shared memory ('ct_table', the
     * memfd 'ct_fd'), a slot per entry ('cts'); ids -> slot + 1. */
    struct esw_rct *ct_table;
    size_t ct_table_size;
    int ct_fd;
    struct sct *cts;            /* [n_ct_slots]. */
    uint32_t n_ct_slots, n_cts;
    uint32_t *ct_free;          /* Free slots, a stack: the lowest first,
                                 * then the last freed, so that the slots
                                 * in use stay below the most entries
                                 * held at once (the publisher's scan). */
    uint32_t n_ct_free;
    struct rmap ct_ids;

    long long int detached_at;  /* esw_rsession_detach()'s 'now'. */
    bool adopted;               /* Took a kept device over. */
    bool admin;                 /* Kept, made or changed by an admin
                                 * request, since its last client: does
                                 * not expire. */
    bool adopted_admin;         /* 'adopted' from such a session. */

    /* What a live update hands over that the device does not say: the
     * device's open request and each vport's host-side config
     * [max_vports]. */
    struct esw_rw_dev_open open;
    struct esw_io_config **io_cfgs;
    bool restoring;             /* The counter store's slots are kept. */
};

/* Sessions whose client went away with their device open
 * (esw_rsession_detach()), waiting for a client to take them over. */
static struct esw_rsession **detached;
static size_t n_detached, allocated_detached;

/* The sim's counters are the shared slots' (after 'exists'). */
#define RSTATS_SAME(FIELD)                                                  \
    _Static_assert(offsetof(struct sim_vport_counters, FIELD)               \
                   == (offsetof(struct esw_rstats_vport, FIELD)             \
                       - offsetof(struct esw_rstats_vport, rx_packets)),    \
                   "counter layout: " #FIELD)
RSTATS_SAME(rx_packets);
RSTATS_SAME(rx_bytes);
RSTATS_SAME(tx_packets);
RSTATS_SAME(tx_bytes);
RSTATS_SAME(rep_rx_packets);
RSTATS_SAME(rep_tx_packets);
RSTATS_SAME(guest_mac_refused);
RSTATS_SAME(drops);
_Static_assert(sizeof(struct sim_vport_counters)
               == (sizeof(struct esw_rstats_vport)
                   - offsetof(struct esw_rstats_vport, rx_packets)),
               "counter layout: size");

#define SEND_RING_CAPACITY 512

struct esw_rsession *
esw_rsession_create(void)
{
    struct esw_rsession *s = calloc(1, sizeof *s);

    if (s) {
        s->send_efd = -1;
        s->stats_fd = -1;
        s->ct_fd = -1;
    }
    return s;
}

/* The counter store: vport 'vport''s slot, zeroed. */
static struct sim_vport_counters *
stats_get(void *s_, uint32_t vport)
{
    struct esw_rsession *s = s_;
    struct esw_rstats_vport *slot;

    if (vport >= s->stats->max_vports) {
        return NULL;
    }
    slot = &s->stats->vports[vport];
    if (s->restoring) {
        /* A live update: the counters go on from where they were. */
        return (struct sim_vport_counters *) &slot->rx_packets;
    }
    memset((char *) slot + offsetof(struct esw_rstats_vport, rx_packets), 0,
           sizeof *slot - offsetof(struct esw_rstats_vport, rx_packets));
    return (struct sim_vport_counters *) &slot->rx_packets;
}

static void
stats_set_exists(struct esw_rsession *s, uint32_t vport, bool exists)
{
    if (vport < s->stats->max_vports) {
        atomic_store_explicit(&s->stats->vports[vport].exists, exists,
                              memory_order_release);
    }
}

/* Creates the shared counters of a device of 'max_vports'. */
static int
stats_create(struct esw_rsession *s, uint32_t max_vports)
{
    s->stats_size = esw_rstats_size(max_vports);
    s->stats_fd = memfd_create("esw-stats", MFD_CLOEXEC);
    if (s->stats_fd < 0 || ftruncate(s->stats_fd, s->stats_size) < 0) {
        goto error;
    }
    s->stats = mmap(NULL, s->stats_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                    s->stats_fd, 0);
    if (s->stats == MAP_FAILED) {
        s->stats = NULL;
        goto error;
    }
    s->stats->magic = ESW_RSTATS_MAGIC;
    s->stats->max_vports = max_vports;
    s->stats->slot_size = sizeof(struct esw_rstats_vport);
    s->counter_store.get = stats_get;
    s->counter_store.aux = s;
    return 0;

error:
    if (s->stats_fd >= 0) {
        close(s->stats_fd);
        s->stats_fd = -1;
    }
    return errno == EMFILE || errno == ENFILE ? EMFILE : ENOMEM;
}

static void
stats_destroy(struct esw_rsession *s)
{
    if (s->stats) {
        munmap(s->stats, s->stats_size);
        s->stats = NULL;
    }
    if (s->stats_fd >= 0) {
        close(s->stats_fd);
        s->stats_fd = -1;
    }
}

/* The shared connection counters of a device of 'max_conns' entries
 * (none if 0).  'fd' >= 0: adopts that memfd (a live update), else
 * creates one. */
static int
ct_table_create(struct esw_rsession *s, uint32_t max_conns, int fd)
{
    uint32_t n = esw_rct_n_slots(max_conns);
    void *map;

    if (!n) {
        return 0;
    }
    s->cts = calloc(n, sizeof *s->cts);
    s->ct_free = malloc(n * sizeof *s->ct_free);
    if (!s->cts || !s->ct_free) {
        return ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++) {
        s->ct_free[i] = n - 1 - i;
    }
    s->n_ct_free = n;
    s->n_ct_slots = n;
    s->ct_table_size = esw_rct_size(n);
    s->ct_fd = fd >= 0 ? fd : memfd_create("esw-conns", MFD_CLOEXEC);
    if (s->ct_fd < 0
        || (fd < 0 && ftruncate(s->ct_fd, s->ct_table_size) < 0)) {
        return errno == EMFILE || errno == ENFILE ? EMFILE : ENOMEM;
    }
    if (fd >= 0) {
        struct stat st;

        if (fstat(fd, &st) || (uint64_t) st.st_size != s->ct_table_size) {
            return EINVAL;
        }
    }
    map = mmap(NULL, s->ct_table_size, PROT_READ | PROT_WRITE, MAP_SHARED,
               s->ct_fd, 0);
    if (map == MAP_FAILED) {
        return ENOMEM;
    }
    s->ct_table = map;
    if (fd >= 0) {
        return esw_rct_check(s->ct_table, s->ct_table_size, n) ? 0 : EINVAL;
    }
    s->ct_table->magic = ESW_RCT_MAGIC;
    s->ct_table->n_slots = n;
    s->ct_table->slot_size = sizeof(struct esw_rct_slot);
    return 0;
}

static void
ct_table_destroy(struct esw_rsession *s)
{
    if (s->ct_table) {
        munmap(s->ct_table, s->ct_table_size);
        s->ct_table = NULL;
    }
    if (s->ct_fd >= 0) {
        close(s->ct_fd);
        s->ct_fd = -1;
    }
    free(s->cts);
    s->cts = NULL;
    free(s->ct_free);
    s->ct_free = NULL;
    s->n_ct_slots = s->n_cts = s->n_ct_free = 0;
    free(s->ct_ids.slots);
    memset(&s->ct_ids, 0, sizeof s->ct_ids);
}

/* Slot 'i''s entry's counters: the device's and those before a live
 * update. */
static void
ct_get_stats(const struct esw_rsession *s, uint32_t i,
             struct esw_ct_stats *st)
{
    const struct sct *c = &s->cts[i];

    memset(st, 0, sizeof *st);
    if (c->ct) {
        esw_ct_get_stats(s->dev, c->ct, st);
    } else {
        st->flushed = true;
    }
    for (int dir = 0; dir < 2; dir++) {
        st->packets[dir] += c->base.packets[dir];
        st->bytes[dir] += c->base.bytes[dir];
    }
    if (c->base.used_ms > st->used_ms) {
        st->used_ms = c->base.used_ms;
    }
}

/* Copies slot 'i''s entry's counters into the shared table. */
static void
ct_publish(struct esw_rsession *s, uint32_t i)
{
    struct esw_rct_slot *slot = &s->ct_table->slots[i];
    struct esw_ct_stats st;

    ct_get_stats(s, i, &st);
    for (int dir = 0; dir < 2; dir++) {
        atomic_store_explicit(&slot->packets[dir], st.packets[dir],
                              memory_order_relaxed);
        atomic_store_explicit(&slot->bytes[dir], st.bytes[dir],
                              memory_order_relaxed);
    }
    atomic_store_explicit(&slot->used_ms, st.used_ms, memory_order_relaxed);
    atomic_store_explicit(&slot->flushed, st.flushed, memory_order_relaxed);
}

void
esw_rsession_ct_publish(struct esw_rsession *s)
{
    for (uint32_t i = 0, n = 0; s->dev && n < s->n_cts
                                && i < s->n_ct_slots; i++) {
        if (s->cts[i].id) {
            ct_publish(s, i);
            n++;
        }
    }
}

bool
esw_rsession_has_cts(const struct esw_rsession *s)
{
    return s->n_cts > 0;
}

/* The slot of connection 'id', or NULL. */
static struct sct *
session_ct(const struct esw_rsession *s, uint64_t id)
{
    struct rmap_slot *slot = id ? rmap_find(&s->ct_ids, id) : NULL;

    return slot ? &s->cts[slot->value - 1] : NULL;
}

/* Takes slot 'i' (the top of the free stack, but for a restore) for
 * connection 'id' with 'ct' and counters 'base' (published at once).
 * ENOMEM. */
static int
ct_slot_take(struct esw_rsession *s, uint32_t i, uint64_t id,
             struct esw_ct *ct, const struct esw_ct_stats *base)
{
    struct sct *c = &s->cts[i];

    if (rmap_insert(&s->ct_ids, id, i + 1)) {
        return ENOMEM;
    }
    if (s->n_ct_free && s->ct_free[s->n_ct_free - 1] == i) {
        s->n_ct_free--;             /* A restore rebuilds the stack. */
    }
    c->id = id;
    c->ct = ct;
    memset(&c->base, 0, sizeof c->base);
    if (base) {
        c->base = *base;
    }
    s->n_cts++;
    ct_publish(s, i);
    atomic_store_explicit(&s->ct_table->slots[i].id, id,
                          memory_order_release);
    return 0;
}

/* Frees slot 'c' (its entry deleted from the device by the caller). */
static void
ct_slot_free(struct esw_rsession *s, struct sct *c)
{
    struct rmap_slot *slot = rmap_find(&s->ct_ids, c->id);
    uint32_t i = c - s->cts;

    if (slot) {
        rmap_remove(&s->ct_ids, slot);
    }
    atomic_store_explicit(&s->ct_table->slots[i].id, 0,
                          memory_order_release);
    memset(c, 0, sizeof *c);
    s->n_cts--;
    s->ct_free[s->n_ct_free++] = i;
}

/* Deletes every connection from the device and the table. */
static void
ct_del_all(struct esw_rsession *s)
{
    for (uint32_t i = 0; s->cts && i < s->n_ct_slots; i++) {
        if (s->cts[i].id) {
            esw_ct_del(s->dev, s->cts[i].ct);
            ct_slot_free(s, &s->cts[i]);
        }
    }
}

int
esw_rsession_send_fd(const struct esw_rsession *s)
{
    return s->send_efd;
}

static struct srv_ring *_Atomic *
ring_slot(struct esw_rsession *s, uint32_t vport, uint32_t queue)
{
    return (vport < s->dev->caps.max_vports && queue < ESW_MAX_REP_QUEUES
            ? &s->rings[(size_t) vport * ESW_MAX_REP_QUEUES + queue]
            : NULL);
}

/* The representor sink: in a forwarding thread. */
static bool
sink_queue(void *s_, uint32_t vport, uint32_t queue, struct esw_pkt *pkt)
{
    struct esw_rsession *s = s_;
    struct srv_ring *_Atomic *slot = ring_slot(s, vport, queue);
    struct srv_ring *ring = slot ? atomic_load_explicit(
        slot, memory_order_acquire) : NULL;
    bool queued = ring && esw_rring_enqueue(ring->r, pkt);

    if (queued) {
        esw_rring_signal(ring->r, ring->efd);
    }
    esw_pkt_free(pkt);
    return queued;
}

static void
ring_destroy(struct srv_ring *ring)
{
    if (ring) {
        munmap(ring->r, ring->size);
        close(ring->memfd);
        close(ring->efd);
        free(ring);
    }
}

static int
ring_create(uint32_t capacity, struct srv_ring **ringp)
{
    struct srv_ring *ring = calloc(1, sizeof *ring);
    int error = 0;

    if (!ring) {
        return ENOMEM;
    }
    ring->size = esw_rring_size(capacity);
    ring->memfd = memfd_create("esw-rep-ring", MFD_CLOEXEC);
    ring->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ring->memfd < 0 || ring->efd < 0
        || ftruncate(ring->memfd, ring->size) < 0) {
        error = errno;
        goto error;
    }
    ring->r = mmap(NULL, ring->size, PROT_READ | PROT_WRITE, MAP_SHARED,
                   ring->memfd, 0);
    if (ring->r == MAP_FAILED) {
        error = errno;
        goto error;
    }
    esw_rring_init(ring->r, capacity);
    *ringp = ring;
    return 0;

error:
    if (ring->memfd >= 0) {
        close(ring->memfd);
    }
    if (ring->efd >= 0) {
        close(ring->efd);
    }
    free(ring);
    return error == EMFILE || error == ENFILE ? EMFILE : ENOMEM;
}

/* Takes the representor rings of 'vport' out of service, once no
 * forwarding thread can be using them (after an RCU grace period if
 * 'sync'), and returns their packets in 'pkts' (up to 'max', the rest
 * dropped) and how many. */
static size_t
rings_remove(struct esw_rsession *s, uint32_t vport, bool sync,
             struct esw_pkt **pkts, size_t max)
{
    struct srv_ring *gone[ESW_MAX_REP_QUEUES];
    size_t n_gone = 0, n = 0;

    for (uint32_t q = 0; q < ESW_MAX_REP_QUEUES; q++) {
        struct srv_ring *_Atomic *slot = ring_slot(s, vport, q);
        struct srv_ring *ring = slot ? atomic_exchange(slot, NULL) : NULL;

        if (ring) {
            gone[n_gone++] = ring;
        }
    }
    if (!n_gone) {
        return 0;
    }
    if (sync) {
        esw_rcu_synchronize();
    }
    for (size_t i = 0; i < n_gone; i++) {
        struct esw_rring_cell *cell;

        while ((cell = esw_rring_peek(gone[i]->r))) {
            struct esw_pkt *pkt = NULL;

            if (n < max && cell->len <= ESW_FRAME_MAX) {
                pkt = esw_pkt_from_data(cell->data, cell->len);
            }
            if (pkt) {
                pkt->in_vport = cell->in_vport;
                pkt->mark = cell->mark;
                pkts[n++] = pkt;
            }
            esw_rring_release(gone[i]->r, cell);
        }
        ring_destroy(gone[i]);
    }
    return n;
}

/* Gives 'vport' rings for its queues 0..n_queues-1 (those it lacks).
 * ENOMEM, EMFILE. */
static int
rings_add(struct esw_rsession *s, uint32_t vport)
{
    struct esw_vport_info info;
    int error = esw_vport_get_info(s->dev, vport, &info);

    for (uint32_t q = 0; !error && q < info.n_rep_queues; q++) {
        struct srv_ring *_Atomic *slot = ring_slot(s, vport, q);
        struct srv_ring *ring;

        if (slot && !atomic_load(slot)) {
            error = ring_create(info.rep_queue_depth, &ring);
            if (!error) {
                atomic_store_explicit(slot, ring, memory_order_release);
            }
        }
    }
    return error;
}

/* Sends what waits in 'vport''s send ring, then re-arms it. */
static void
send_ring_run(struct esw_rsession *s, uint32_t vport)
{
    struct srv_ring *ring = s->send_rings[vport];

    for (;;) {
        struct esw_rring_cell *cell;

        while ((cell = esw_rring_peek(ring->r))) {
            struct esw_pkt *pkt = NULL;

            if (cell->len <= ESW_FRAME_MAX) {
                pkt = esw_pkt_from_data(cell->data, cell->len);
            }
            if (pkt) {
                pkt->in_vport = cell->in_vport;
                pkt->mark = cell->mark;
                esw_rep_send(s->dev, vport, pkt);
            }
            /* Only once sent: an empty ring means every send is counted
             * (the client reads the counters from shared memory). */
            esw_rring_release(ring->r, cell);
        }
        atomic_store(&ring->r->armed, true);
        atomic_thread_fence(memory_order_seq_cst);
        if (esw_rring_is_empty(ring->r)) {
            break;
        }
        atomic_store(&ring->r->armed, false);
    }
}

void
esw_rsession_run(struct esw_rsession *s)
{
    uint64_t value;

    if (!s->dev) {
        return;
    }
    if (read(s->send_efd, &value, sizeof value) < 0) {
        /* EAGAIN: nothing signalled; the rings are looked at anyway. */
    }
    for (uint32_t v = 0; v < s->dev->caps.max_vports; v++) {
        if (s->send_rings[v]) {
            send_ring_run(s, v);
        }
    }
}

/* Removes 'vport''s send ring, after sending what waits in it. */
static void
send_ring_remove(struct esw_rsession *s, uint32_t vport)
{
    if (vport < s->dev->caps.max_vports && s->send_rings[vport]) {
        send_ring_run(s, vport);
        ring_destroy(s->send_rings[vport]);
        s->send_rings[vport] = NULL;
    }
}

static void
session_close_dev(struct esw_rsession *s)
{
    if (s->dev) {
        esw_sim_set_rep_sink(s->dev, NULL);
        esw_rcu_synchronize();
        for (uint32_t v = 0; v < s->dev->caps.max_vports; v++) {
            struct esw_pkt *none[1];

            rings_remove(s, v, false, none, 0);
        }
        free(s->rings);
        s->rings = NULL;
        for (uint32_t v = 0; v < s->dev->caps.max_vports; v++) {
            ring_destroy(s->send_rings[v]);
        }
        free(s->send_rings);
        s->send_rings = NULL;
        close(s->send_efd);
        s->send_efd = -1;
        for (uint32_t v = 0; s->io_cfgs && v < s->dev->caps.max_vports;
             v++) {
            free(s->io_cfgs[v]);
        }
        free(s->io_cfgs);
        s->io_cfgs = NULL;
        for (size_t i = 0; s->rules.slots && i <= s->rules.mask; i++) {
            if (s->rules.slots[i].key && s->rules.slots[i].value) {
                esw_rule_del(s->dev, (struct esw_rule *) (uintptr_t)
                             s->rules.slots[i].value);
            }
        }
        free(s->rules.slots);
        free(s->handles.slots);
        memset(&s->rules, 0, sizeof s->rules);
        memset(&s->handles, 0, sizeof s->handles);
        ct_del_all(s);
        esw_dev_close(s->dev);
        s->dev = NULL;
        stats_destroy(s);
        ct_table_destroy(s);
    }
}

/* Takes over the kept device 'name' (esw_rsession_detach()), if any, with
 * everything its previous session had: rules and their ids, representor
 * and send rings, counters.  Misses go to the rings again from then on. */
static bool
session_adopt(struct esw_rsession *s, const char *name)
{
    for (size_t i = 0; i < n_detached; i++) {
        struct esw_rsession *old = detached[i];

        if (!strcmp(esw_dev_name(old->dev), name)) {
            bool hello = s->hello;

            detached[i] = detached[--n_detached];
            *s = *old;
            s->hello = hello;
            s->sink.aux = s;
            s->counter_store.aux = s;
            esw_sim_set_rep_sink(s->dev, &s->sink);
            esw_sim_set_counter_store(s->dev, &s->counter_store);
            esw_rcu_synchronize();      /* No thread uses 'old' now. */
            free(old);
            atomic_store(&s->sink.unattended, false);
            s->adopted = true;
            s->adopted_admin = s->admin;
            s->admin = false;
            return true;
        }
    }
    return false;
}

bool
esw_rsession_detach(struct esw_rsession *s, long long int now)
{
    if (!s->dev) {
        return false;
    }
    if (n_detached >= allocated_detached) {
        size_t n = allocated_detached ? allocated_detached * 2 : 8;
        struct esw_rsession **p = realloc(detached, n * sizeof *p);

        if (!p) {
            return false;
        }
        detached = p;
        allocated_detached = n;
    }
    esw_rsession_run(s);        /* What the client queued is sent. */
    atomic_store(&s->sink.unattended, true);
    s->hello = false;
    s->detached_at = now;
    detached[n_detached++] = s;
    return true;
}

size_t
esw_rsession_expire(long long int now, long long int timeout,
                    void (*cb)(const char *name, size_t n_rules))
{
    size_t n = 0;

    for (size_t i = 0; i < n_detached; ) {
        struct esw_rsession *s = detached[i];

        if (timeout < 0 || (!s->admin && now - s->detached_at >= timeout)) {
            if (cb) {
                cb(esw_dev_name(s->dev), s->rules.n);
            }
            detached[i] = detached[--n_detached];
            esw_rsession_destroy(s);
            n++;
        } else {
            i++;
        }
    }
    if (!n_detached) {
        free(detached);
        detached = NULL;
        allocated_detached = 0;
    }
    return n;
}

size_t
esw_rsession_n_detached(void)
{
    return n_detached;
}

long long int
esw_rsession_next_expiry(long long int timeout)
{
    long long int next = -1;

    for (size_t i = 0; i < n_detached; i++) {
        long long int t = detached[i]->detached_at + timeout;

        if (detached[i]->admin) {
            continue;
        }
        if (next < 0 || t < next) {
            next = t;
        }
    }
    return next;
}

bool
esw_rsession_take_adopted(struct esw_rsession *s, long long int *detached_at)
{
    bool adopted = s->adopted;

    s->adopted = false;
    *detached_at = s->detached_at;
    return adopted;
}

uint64_t
esw_rsession_no_controller_drops(const struct esw_rsession *s)
{
    uint64_t n = 0;

    for (uint32_t v = 0; s->stats && v < s->stats->max_vports; v++) {
        n += s->stats->vports[v].drops[ESW_DROP_NO_CONTROLLER];
    }
    return n;
}

size_t
esw_rsession_n_rules(const struct esw_rsession *s)
{
    return s->rules.n;
}

void
esw_rsession_destroy(struct esw_rsession *s)
{
    if (s) {
        session_close_dev(s);
        free(s);
    }
}

const char *
esw_rsession_dev_name(const struct esw_rsession *s)
{
    return s->dev ? esw_dev_name(s->dev) : NULL;
}

void
esw_rreply_init(struct esw_rreply *r)
{
    memset(r, 0, sizeof *r);
}

void
esw_rreply_destroy(struct esw_rreply *r)
{
    free(r->data);
}

static void *
reply_put(struct esw_rreply *r, const void *p, size_t n)
{
    if (r->len + n > r->allocated) {
        size_t size = r->allocated ? r->allocated : 256;
        uint8_t *data;

        while (size < r->len + n) {
            size *= 2;
        }
        data = realloc(r->data, size);
        if (!data) {
            abort();            /* Bounded by ESW_RPROTO_MAX_MSG. */
        }
        r->data = data;
        r->allocated = size;
    }
    void *dst = r->data + r->len;

    if (p) {
        memcpy(dst, p, n);
    } else {
        memset(dst, 0, n);
    }
    r->len += n;
    return dst;
}

static void
reply_pkt(struct esw_rreply *r, const struct esw_pkt *pkt)
{
    struct esw_rw_pkt w = { .len = pkt->len, .in_vport = pkt->in_vport,
                            .mark = pkt->mark };

    reply_put(r, &w, sizeof w);
    reply_put(r, pkt->data, pkt->len);
}

static void
reply_pkts(struct esw_rreply *r, struct esw_pkt *pkts[], size_t n)
{
    struct esw_rw_pkts w = { .n = n };

    reply_put(r, &w, sizeof w);
    for (size_t i = 0; i < n; i++) {
        reply_pkt(r, pkts[i]);
        esw_pkt_free(pkts[i]);
    }
}

static struct esw_pkt *
req_pkt(const struct esw_rreq *req)
{
    struct esw_pkt *pkt = esw_pkt_from_data(req->frame, req->pkt.len);

    if (pkt) {
        pkt->in_vport = req->pkt.in_vport;
        pkt->mark = req->pkt.mark;
    }
    return pkt;
}

static struct esw_rule *
session_rule(const struct esw_rsession *s, uint64_t id)
{
    struct rmap_slot *slot = id ? rmap_find(&s->rules, id) : NULL;

    return slot ? (struct esw_rule *) (uintptr_t) slot->value : NULL;
}

static uint64_t
session_rule_id(const struct esw_rsession *s, const struct esw_rule *rule)
{
    struct rmap_slot *slot = rule ? rmap_find(&s->handles,
                                              (uintptr_t) rule) : NULL;

    return slot ? slot->value : 0;
}

static void
handle_rule_add(struct esw_rsession *s, const struct esw_rreq *req,
                struct esw_rreply *reply)
{
    struct esw_rw_rule_reply *w = reply_put(reply, NULL, sizeof *w);
    struct esw_error *err = &w->err;
    struct esw_rule *rule;

    if (session_rule(s, req->id)) {
        reply->result = esw_error_set(err, EINVAL, ESW_ERROR_RULE, -1,
                                      "rule id %llu is taken",
                                      (unsigned long long) req->id);
        return;
    }
    reply->result = esw_rule_add(s->dev, &req->spec, err, &rule);
    if (!reply->result) {
        if (rmap_insert(&s->rules, req->id, (uintptr_t) rule)
            || rmap_insert(&s->handles, (uintptr_t) rule, req->id)) {
            struct rmap_slot *slot = rmap_find(&s->rules, req->id);

            if (slot) {
                rmap_remove(&s->rules, slot);
            }
            esw_rule_del(s->dev, rule);
            reply->result = esw_error_set(err, ENOMEM,
                                          ESW_ERROR_UNSPECIFIED, -1,
                                          "out of memory");
        } else {
            esw_rule_get_spec(s->dev, rule, &w->spec);
        }
    }
}

static void
handle_rule_del(struct esw_rsession *s, const struct esw_rreq *req,
                struct esw_rreply *reply)
{
    struct rmap_slot *slot = req->id ? rmap_find(&s->rules, req->id) : NULL;

    if (!slot) {
        reply->result = ENOENT;
        return;
    }
    struct esw_rule *rule = (struct esw_rule *) (uintptr_t) slot->value;

    rmap_remove(&s->rules, slot);
    if (!rule) {
        return;                 /* Orphaned before a live update: only its
                                 * id was kept. */
    }
    slot = rmap_find(&s->handles, (uintptr_t) rule);
    if (slot) {
        rmap_remove(&s->handles, slot);
    }
    esw_rule_del(s->dev, rule);
}

static void
handle_trace(struct esw_rsession *s, const struct esw_rreq *req,
             struct esw_rreply *reply)
{
    struct esw_rw_trace *w = calloc(1, sizeof *w);
    struct esw_pkt *pkt = req_pkt(req);

    if (!w || !pkt) {
        free(w);
        esw_pkt_free(pkt);
        reply->result = ENOMEM;
        reply_put(reply, NULL, sizeof *w);
        return;
    }
    reply->result = esw_trace_packet(s->dev, req->vport, pkt, &w->trace);
    esw_pkt_free(pkt);
    w->rule_id = session_rule_id(s, w->trace.rule);
    w->trace.rule = NULL;
    for (size_t i = 0; i < w->trace.n_stages && i < ESW_TRACE_MAX_STAGES;
         i++) {
        w->stage_rule_ids[i] = session_rule_id(s, w->trace.stages[i].rule);
        w->trace.stages[i].rule = NULL;
    }
    struct esw_pkt *rep = w->trace.to_representor;

    w->trace.to_representor = NULL;
    w->has_pkt = rep != NULL;
    reply_put(reply, w, sizeof *w);
    if (rep) {
        reply_pkt(reply, rep);
        esw_pkt_free(rep);
    }
    free(w);
}

/* After the device changed 'vport''s number of representor queues (and
 * its forwarding threads moved to the new ones): gives the vport rings
 * for the new queues and moves the packets waiting in the old rings over,
 * spread as the device spreads misses. */
static void
handle_set_rep_queues(struct esw_rsession *s, uint32_t vport,
                      struct esw_error *err, struct esw_rreply *reply)
{
    struct esw_vport_info info;
    struct esw_pkt **pkts;
    size_t max, n;
    int error;

    esw_rcu_barrier();
    error = esw_vport_get_info(s->dev, vport, &info);
    max = error ? 0 : (size_t) ESW_MAX_REP_QUEUES * info.rep_queue_depth;
    pkts = malloc((max ? max : 1) * sizeof *pkts);
    if (!pkts) {
        reply->result = esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED,
                                      -1, "out of memory");
        return;
    }
    n = rings_remove(s, vport, true, pkts, max);
    if (!error) {
        error = rings_add(s, vport);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t q = error || info.n_rep_queues <= 1
                     ? 0 : sim_rep_queue_select(pkts[i], info.n_rep_queues);
        struct srv_ring *_Atomic *slot = ring_slot(s, vport, q);
        struct srv_ring *ring = slot ? atomic_load(slot) : NULL;

        if (ring && esw_rring_enqueue(ring->r, pkts[i])) {
            esw_rring_signal(ring->r, ring->efd);
        }
        esw_pkt_free(pkts[i]);
    }
    free(pkts);
    if (error) {
        reply->result = esw_error_set(err, error, ESW_ERROR_UNSPECIFIED, -1,
                                      "cannot create the representor "
                                      "queues: %s", strerror(error));
    }
}

struct rule_list_aux {
    struct esw_rule **rules;
    size_t skip, max, n, total;
};

static bool
rule_list_cb(struct esw_rule *rule, void *aux_)
{
    struct rule_list_aux *aux = aux_;

    if (aux->total >= aux->skip && aux->n < aux->max) {
        aux->rules[aux->n++] = rule;
    }
    aux->total++;
    return true;
}

/* RULE_LIST: rules 'arg'.. (at most 'arg2') in insertion order, with the
 * ids their client gave them and their specs: what a client that takes
 * over a kept device (esw_rsession_detach()) rebuilds its view from. */
static void
handle_rule_list(struct esw_rsession *s, const struct esw_rreq *req,
                 struct esw_rreply *reply)
{
    struct esw_rule *rules[ESW_RPROTO_MAX_RULES];
    struct rule_list_aux aux = { .rules = rules, .skip = req->arg,
                                 .max = req->arg2 };
    struct esw_rw_rules *w;
    struct esw_rw_rule *r;

    esw_rule_foreach(s->dev, rule_list_cb, &aux);
    w = reply_put(reply, NULL, sizeof *w);
    w->n = aux.n;
    w->total = aux.total;
    r = calloc(1, sizeof *r);
    if (!r) {
        abort();
    }
    for (size_t i = 0; i < aux.n; i++) {
        r->id = session_rule_id(s, rules[i]);
        esw_rule_get_spec(s->dev, rules[i], &r->spec);
        reply_put(reply, r, sizeof *r);
    }
    free(r);
}

static void
handle_ct_add(struct esw_rsession *s, const struct esw_rreq *req,
              struct esw_rreply *reply)
{
    struct esw_rw_ct_reply *w = reply_put(reply, NULL, sizeof *w);
    struct esw_error *err = &w->err;
    struct esw_ct *ct;
    uint32_t i;

    esw_error_clear(err);
    if (!s->ct_table) {
        reply->result = esw_error_set(err, EOPNOTSUPP, ESW_ERROR_CT, -1,
                                      "%s has no connection table",
                                      esw_dev_name(s->dev));
        return;
    }
    if (session_ct(s, req->id)) {
        reply->result = esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                                      "connection id %llu is taken",
                                      (unsigned long long) req->id);
        return;
    }
    if (!s->n_ct_free) {
        reply->result = esw_error_set(err, ENOSPC, ESW_ERROR_CAPACITY, -1,
                                      "%"PRIu32" connections flushed and "
                                      "not deleted", s->n_ct_slots);
        return;
    }
    i = s->ct_free[s->n_ct_free - 1];
    reply->result = esw_ct_add(s->dev, &req->ct, err, &ct);
    if (!reply->result) {
        if (ct_slot_take(s, i, req->id, ct, NULL)) {
            esw_ct_del(s->dev, ct);
            reply->result = esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED,
                                          -1, "out of memory");
            return;
        }
        w->slot = i;
    }
}

static void
handle_ct_del(struct esw_rsession *s, const struct esw_rreq *req,
              struct esw_rreply *reply)
{
    struct sct *c = s->ct_table ? session_ct(s, req->id) : NULL;

    if (!c) {
        reply->result = ENOENT;
        return;
    }
    esw_ct_del(s->dev, c->ct);
    ct_slot_free(s, c);
}

/* CT_LIST: the entries in slots 'arg'.. (at most 'arg2'), with their ids,
 * slots and specs: what a client that takes over a kept device, or comes
 * back after its connection broke, compares its record with. */
static void
handle_ct_list(struct esw_rsession *s, const struct esw_rreq *req,
               struct esw_rreply *reply)
{
    struct esw_rw_cts *w = reply_put(reply, NULL, sizeof *w);
    uint32_t n = 0;

    esw_rsession_ct_publish(s);
    w->total = s->n_cts;
    for (uint32_t i = req->arg; i < s->n_ct_slots && n < req->arg2; i++) {
        const struct sct *c = &s->cts[i];
        struct esw_rw_ct_entry e;
        struct esw_ct_spec spec;
        struct esw_ct_stats st;

        if (!c->id) {
            continue;
        }
        memset(&e, 0, sizeof e);
        e.id = c->id;
        e.slot = i;
        ct_get_stats(s, i, &st);
        e.flushed = st.flushed;
        if (c->ct) {
            esw_ct_get_spec(s->dev, c->ct, &spec);
            esw_rproto_ct_spec_to_wire(&spec, &e.spec);
        }
        reply_put(reply, &e, sizeof e);
        n++;
    }
    /* 'w' may have moved. */
    memcpy(reply->data + offsetof(struct esw_rw_cts, n), &n, sizeof n);
}

/* Runs 'req' on the session's device. */
static void
dispatch(struct esw_rsession *s, const struct esw_rreq *req,
         struct esw_rreply *reply)
{
    struct esw_dev *dev = s->dev;

    switch ((enum esw_rop) req->op) {
    case ESW_ROP_HELLO:
    case ESW_ROP_DEV_OPEN:
    case ESW_ROP_DEV_CLOSE:
    case ESW_N_ROPS:
        break;                  /* Handled by the caller. */

    case ESW_ROP_VPORT_ADD: {
        struct esw_rw_error_u32 *w = reply_put(reply, NULL, sizeof *w);

        esw_error_clear(&w->err);
        reply->result = esw_vport_add(dev, &req->vport_cfg, &w->err,
                                      &w->value);
        if (!reply->result) {
            int error = rings_add(s, w->value);

            if (!error && w->value < dev->caps.max_vports) {
                error = ring_create(SEND_RING_CAPACITY,
                                    &s->send_rings[w->value]);
            }
            if (!error && req->vport_cfg.io
                && w->value < dev->caps.max_vports) {
                free(s->io_cfgs[w->value]);
                s->io_cfgs[w->value] = malloc(sizeof *s->io_cfgs[w->value]);
                if (s->io_cfgs[w->value]) {
                    *s->io_cfgs[w->value] = *req->vport_cfg.io;
                } else {
                    error = ENOMEM;
                }
            }
            if (!error) {
                stats_set_exists(s, w->value, true);
            }

            if (error) {
                struct esw_pkt *none[1];

                esw_vport_del(dev, w->value);
                rings_remove(s, w->value, true, none, 0);
                send_ring_remove(s, w->value);
                reply->result = esw_error_set(
                    &w->err, error, ESW_ERROR_UNSPECIFIED, -1,
                    "cannot create the representor queues: %s",
                    strerror(error));
            }
        }
        break;
    }
    case ESW_ROP_VPORT_DEL:
        send_ring_remove(s, req->vport);   /* Sent before it goes. */
        reply->result = esw_vport_del(dev, req->vport);
        if (!reply->result && req->vport < dev->caps.max_vports) {
            free(s->io_cfgs[req->vport]);
            s->io_cfgs[req->vport] = NULL;
        }
        if (!reply->result) {
            stats_set_exists(s, req->vport, false);
            struct esw_pkt *none[1];

            rings_remove(s, req->vport, true, none, 0);
        }
        break;
    case ESW_ROP_VPORT_GET_INFO: {
        struct esw_vport_info *info = reply_put(reply, NULL, sizeof *info);

        reply->result = esw_vport_get_info(dev, req->vport, info);
        break;
    }
    case ESW_ROP_VPORT_LOOKUP: {
        uint32_t *vport = reply_put(reply, NULL, sizeof *vport);

        reply->result = esw_vport_lookup(dev, req->name, vport);
        break;
    }
    case ESW_ROP_VPORT_LIST: {
        uint32_t max = req->arg < dev->caps.max_vports
                       ? req->arg : dev->caps.max_vports;
        uint32_t *vports = calloc(max ? max : 1, sizeof *vports);
        struct esw_rw_list w;

        if (!vports) {
            reply->result = ENOMEM;
            break;
        }
        w.n = esw_vport_list(dev, vports, max);
        reply_put(reply, &w, sizeof w);
        reply_put(reply, vports, (w.n < max ? w.n : max) * sizeof *vports);
        free(vports);
        break;
    }
    case ESW_ROP_VPORT_SET_MAC:
        reply->result = esw_vport_set_mac(dev, req->vport, &req->mac);
        break;
    case ESW_ROP_VPORT_SET_MTU:
        reply->result = esw_vport_set_mtu(dev, req->vport, req->arg);
        break;
    case ESW_ROP_VPORT_SET_ADMIN:
        reply->result = esw_vport_set_admin_state(dev, req->vport,
                                                  req->arg);
        break;
    case ESW_ROP_VPORT_SET_POLICY: {
        struct esw_error *err = reply_put(reply, NULL, sizeof *err);

        esw_error_clear(err);
        reply->result = esw_vport_set_policy(
            dev, req->vport, req->has_policy ? &req->policy : NULL, err);
        break;
    }
    case ESW_ROP_VPORT_GUEST_SET_MAC: {
        struct esw_error *err = reply_put(reply, NULL, sizeof *err);

        esw_error_clear(err);
        reply->result = esw_vport_guest_set_mac(dev, req->vport, &req->mac,
                                                err);
        break;
    }
    case ESW_ROP_VPORT_GET_STATS: {
        struct esw_vport_stats *st = reply_put(reply, NULL, sizeof *st);

        reply->result = esw_vport_get_stats(dev, req->vport, st);
        break;
    }
    case ESW_ROP_VPORT_GET_POLICY: {
        struct esw_rw_policy *w = calloc(1, sizeof *w);
        bool has = false;

        if (!w) {
            reply->result = ENOMEM;
            reply_put(reply, NULL, sizeof *w);
            break;
        }
        w->vport = req->vport;
        reply->result = esw_vport_get_policy(dev, req->vport, &w->cfg,
                                             &has);
        w->has_policy = has;
        reply_put(reply, w, sizeof *w);
        free(w);
        break;
    }
    case ESW_ROP_VPORT_GUEST_RESET:
        reply->result = esw_vport_guest_reset(dev, req->vport);
        break;
    case ESW_ROP_VPORT_SET_REP_QUEUES: {
        struct esw_error *err = reply_put(reply, NULL, sizeof *err);

        esw_error_clear(err);
        reply->result = esw_vport_set_rep_queues(dev, req->vport, req->arg,
                                                 err);
        if (!reply->result) {
            handle_set_rep_queues(s, req->vport, err, reply);
        }
        break;
    }
    case ESW_ROP_RULE_VALIDATE: {
        struct esw_error *err = reply_put(reply, NULL, sizeof *err);

        reply->result = esw_rule_validate(dev, &req->spec, err);
        break;
    }
    case ESW_ROP_RULE_ADD:
        handle_rule_add(s, req, reply);
        break;
    case ESW_ROP_RULE_MODIFY: {
        struct esw_rw_rule_reply *w = reply_put(reply, NULL, sizeof *w);
        struct esw_rule *rule = session_rule(s, req->id);

        reply->result = (rule
                         ? esw_rule_modify(dev, rule, &req->spec, &w->err)
                         : esw_error_set(&w->err, ENOENT, ESW_ERROR_RULE, -1,
                                         "no such rule"));
        if (rule) {
            esw_rule_get_spec(dev, rule, &w->spec);
        }
        break;
    }
    case ESW_ROP_RULE_DEL:
        handle_rule_del(s, req, reply);
        break;
    case ESW_ROP_RULE_GET_STATS: {
        struct esw_rule_stats *st = reply_put(reply, NULL, sizeof *st);
        struct esw_rule *rule = session_rule(s, req->id);

        reply->result = rule ? esw_rule_get_stats(dev, rule, st) : ENOENT;
        break;
    }
    case ESW_ROP_RULE_COUNT: {
        struct esw_rw_count w = { .n = esw_rule_count(dev) };

        reply_put(reply, &w, sizeof w);
        break;
    }
    case ESW_ROP_METER_SET: {
        struct esw_error *err = reply_put(reply, NULL, sizeof *err);

        reply->result = esw_meter_set(dev, req->vport, &req->meter, err);
        break;
    }
    case ESW_ROP_METER_DEL:
        reply->result = esw_meter_del(dev, req->vport);
        break;
    case ESW_ROP_METER_GET_STATS: {
        struct esw_meter_stats *st = reply_put(reply, NULL, sizeof *st);

        reply->result = esw_meter_get_stats(dev, req->vport, st);
        break;
    }
    case ESW_ROP_METER_GET_CONFIG: {
        struct esw_rw_meter *w = reply_put(reply, NULL, sizeof *w);

        w->id = req->vport;
        reply->result = esw_meter_get_config(dev, req->vport, &w->cfg);
        break;
    }
    case ESW_ROP_METER_LIST: {
        uint32_t max = req->arg < dev->caps.max_meters
                       ? req->arg : dev->caps.max_meters;
        uint32_t *ids = calloc(max ? max : 1, sizeof *ids);
        struct esw_rw_list w;

        if (!ids) {
            reply->result = ENOMEM;
            break;
        }
        w.n = esw_meter_list(dev, ids, max);
        reply_put(reply, &w, sizeof w);
        reply_put(reply, ids, (w.n < max ? w.n : max) * sizeof *ids);
        free(ids);
        break;
    }
    case ESW_ROP_REP_GET_FD: {
        struct srv_ring *_Atomic *slot = ring_slot(s, req->vport, req->arg);
        struct srv_ring *ring = slot ? atomic_load(slot) : NULL;

        if (ring) {
            reply->fds[0] = ring->efd;
            reply->fds[1] = ring->memfd;
            reply->n_fds = 2;
        } else {
            reply->result = ENOENT;
        }
        break;
    }
    case ESW_ROP_REP_SEND_RING: {
        struct srv_ring *ring = (req->vport < dev->caps.max_vports
                                 ? s->send_rings[req->vport] : NULL);

        if (ring) {
            reply->fds[0] = s->send_efd;
            reply->fds[1] = ring->memfd;
            reply->n_fds = 2;
        } else {
            reply->result = ENOENT;
        }
        break;
    }
    case ESW_ROP_REP_SEND: {
        struct esw_pkt *pkt = req_pkt(req);

        reply->result = pkt ? esw_rep_send(dev, req->vport, pkt) : ENOMEM;
        break;
    }
    case ESW_ROP_TRACE_PACKET:
        handle_trace(s, req, reply);
        break;
    case ESW_ROP_TRACE_REP_SEND: {
        struct esw_trace_output *out = reply_put(reply, NULL, sizeof *out);
        struct esw_pkt *pkt = req_pkt(req);

        reply->result = (pkt ? esw_trace_rep_send(dev, req->vport, pkt, out)
                         : ENOMEM);
        esw_pkt_free(pkt);
        break;
    }
    case ESW_ROP_HOST_GET: {
        struct esw_host_info *info = reply_put(reply, NULL, sizeof *info);

        reply->result = esw_vport_get_host(dev, req->vport, info);
        break;
    }
    case ESW_ROP_HOST_INJECT: {
        struct esw_pkt *pkt = req_pkt(req);

        reply->result = pkt ? esw_host_inject(dev, req->vport, pkt) : ENOMEM;
        break;
    }
    case ESW_ROP_HOST_CAPTURE_READ: {
        struct esw_pkt *pkts[ESW_RPROTO_MAX_BATCH];
        size_t n = esw_host_capture_read(dev, req->vport, pkts,
                                         req->arg2);

        reply_pkts(reply, pkts, n);
        break;
    }
    case ESW_ROP_IS_IDLE: {
        struct esw_rw_count w = { .n = esw_dev_is_idle(dev) };

        if (w.n) {
            /* What the device forwarded is in the counters. */
            esw_rsession_ct_publish(s);
        }
        reply_put(reply, &w, sizeof w);
        break;
    }
    case ESW_ROP_CT_MAP: {
        struct esw_rw_count w = { .n = s->n_ct_slots };

        reply_put(reply, &w, sizeof w);
        if (s->ct_table) {
            reply->fds[0] = s->ct_fd;
            reply->n_fds = 1;
        } else {
            reply->result = ENOENT;
        }
        break;
    }
    case ESW_ROP_CT_ADD:
        handle_ct_add(s, req, reply);
        break;
    case ESW_ROP_CT_MODIFY: {
        struct sct *c = s->ct_table ? session_ct(s, req->id) : NULL;

        reply->result = (c && c->ct
                         ? esw_ct_modify(dev, c->ct, req->ct.mark,
                                         req->ct.label)
                         : ENOENT);
        break;
    }
    case ESW_ROP_CT_DEL:
        handle_ct_del(s, req, reply);
        break;
    case ESW_ROP_CT_FLUSH: {
        /* Only with a table: a device without one has nothing to flush
         * (and the sim's table operations expect one). */
        struct esw_rw_count w = {
            .n = (s->ct_table
                  ? esw_ct_flush(dev, req->ct_all ? NULL : &req->ct.zone)
                  : 0),
        };

        esw_rsession_ct_publish(s);
        reply_put(reply, &w, sizeof w);
        break;
    }
    case ESW_ROP_CT_COUNT: {
        struct esw_rw_count w = { .n = s->ct_table ? esw_ct_count(dev) : 0 };

        esw_rsession_ct_publish(s);
        reply_put(reply, &w, sizeof w);
        break;
    }
    case ESW_ROP_CT_LIST:
        handle_ct_list(s, req, reply);
        break;
    case ESW_ROP_RULE_LIST:
        handle_rule_list(s, req, reply);
        break;
    case ESW_ROP_DAEMON_STATUS:
    case ESW_ROP_DAEMON_UPDATE:
    case ESW_ROP_DAEMON_FUNCTIONS:
    case ESW_ROP_DAEMON_HOTPLUG:
    case ESW_ROP_DAEMON_UNPLUG:
        reply->result = EOPNOTSUPP;     /* The daemon's, on a connection
                                         * without a device. */
        break;
    }
}

/* Opens (creates) device 'req->name' for 's', as DEV_OPEN asks: stores
 * its capabilities in 'caps' and the result in 'reply'. */
static void
session_open(struct esw_rsession *s, const struct esw_rreq *req,
             struct esw_caps *caps, struct esw_rreply *reply)
{
    reply->result = esw_dev_open(req->name, "sim", &req->dev_cfg,
                                 &s->dev);
    if (!reply->result && s->dev->ref_cnt > 1) {
        /* Another client controls it. */
        esw_dev_close(s->dev);
        s->dev = NULL;
        reply->result = EBUSY;
    }
    if (!reply->result) {
        s->rings = calloc((size_t) s->dev->caps.max_vports
                          * ESW_MAX_REP_QUEUES, sizeof *s->rings);
        s->send_rings = calloc(s->dev->caps.max_vports,
                               sizeof *s->send_rings);
        s->io_cfgs = calloc(s->dev->caps.max_vports,
                            sizeof *s->io_cfgs);
        s->send_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (!s->rings || !s->send_rings || !s->io_cfgs
            || s->send_efd < 0) {
            reply->result = s->send_efd < 0 ? EMFILE : ENOMEM;
            free(s->rings);
            free(s->send_rings);
            free(s->io_cfgs);
            s->rings = NULL;
            s->send_rings = NULL;
            s->io_cfgs = NULL;
            if (s->send_efd >= 0) {
                close(s->send_efd);
                s->send_efd = -1;
            }
            esw_dev_close(s->dev);
            s->dev = NULL;
        }
    }
    if (!reply->result) {
        reply->result = stats_create(s, s->dev->caps.max_vports);
        if (!reply->result) {
            reply->result = ct_table_create(s, s->dev->caps.max_conns, -1);
        }
        if (reply->result) {
            session_close_dev(s);
        }
    }
    if (!reply->result) {
        memset(&s->open, 0, sizeof s->open);
        memcpy(s->open.name, req->name, sizeof s->open.name);
        s->open.cfg = req->dev_cfg;
        s->open.cfg.emu = NULL;
        s->open.has_emu = req->dev_cfg.emu != NULL;
        s->open.emu = req->emu;
        s->sink.queue = sink_queue;
        s->sink.aux = s;
        esw_sim_set_rep_sink(s->dev, &s->sink);
        esw_sim_set_counter_store(s->dev, &s->counter_store);
        esw_dev_get_caps(s->dev, caps);
        reply->fds[0] = s->stats_fd;
        reply->n_fds = 1;
    }
}

bool
esw_rsession_handle(struct esw_rsession *s, const struct esw_rmsg_hdr *hdr,
                    const uint8_t *payload, struct esw_rreply *reply)
{
    struct esw_rreq *req = malloc(sizeof *req);
    bool keep = true;

    if (!req) {
        reply->result = ENOMEM;
        return true;
    }
    reply->result = esw_rproto_decode_request(hdr, payload, req,
                                              reply->reason,
                                              sizeof reply->reason);
    if (reply->result) {
        goto out;
    }
    if (req->op == ESW_ROP_HELLO) {
        struct esw_rw_hello h = { .abi = esw_rproto_abi() };

        reply_put(reply, &h, sizeof h);
        if (s->hello || req->id != h.abi) {
            reply->result = EPROTO;
            keep = false;
        } else {
            s->hello = true;
        }
    } else if (!s->hello) {
        reply->result = EPROTO;
        keep = false;
    } else if (req->op == ESW_ROP_DEV_OPEN) {
        struct esw_caps *caps = reply_put(reply, NULL, sizeof *caps);

        if (s->dev) {
            reply->result = EEXIST;
        } else if (session_adopt(s, req->name)) {
            esw_dev_get_caps(s->dev, caps);
            reply->fds[0] = s->stats_fd;
            reply->n_fds = 1;
        } else {
            session_open(s, req, caps, reply);
        }
    } else if (!s->dev) {
        reply->result = ENODEV;
    } else if (req->op == ESW_ROP_DEV_CLOSE) {
        esw_rsession_run(s);
        session_close_dev(s);
    } else {
        esw_rsession_run(s);    /* The client's earlier sends first. */
        dispatch(s, req, reply);
    }
out:
    free(req);
    return keep;
}

/* Admin requests on devices (ovs-eswitchctl --daemon). */

struct esw_rsession *
esw_rsession_find_detached(const char *name)
{
    for (size_t i = 0; i < n_detached; i++) {
        if (!strcmp(esw_dev_name(detached[i]->dev), name)) {
            return detached[i];
        }
    }
    return NULL;
}

void
esw_rsession_admin_functions(struct esw_rsession *s, bool attached,
                             struct esw_rreply *r)
{
    struct esw_rw_daemon_fns *h;
    uint32_t *vports = NULL;
    size_t n = esw_vport_list(s->dev, NULL, 0);

    if (n) {
        vports = malloc(n * sizeof *vports);
        if (!vports) {
            r->result = ENOMEM;
            return;
        }
        size_t m = esw_vport_list(s->dev, vports, n);

        n = m < n ? m : n;
    }
    h = reply_put(r, NULL, sizeof *h);
    h->attached = attached;
    for (size_t i = 0; i < n; i++) {
        struct esw_rw_daemon_fn fn;

        memset(&fn, 0, sizeof fn);
        if (esw_vport_get_info(s->dev, vports[i], &fn.info)) {
            continue;               /* Gone meanwhile. */
        }
        fn.info.rep_fd = -1;
        esw_vport_get_host(s->dev, vports[i], &fn.host);
        if (r->len + sizeof fn > ESW_RPROTO_MAX_MSG) {
            break;              /* The first ones (ESW_RPROTO_MAX_MSG). */
        }
        reply_put(r, &fn, sizeof fn);
        /* 'h' may have moved. */
        ((struct esw_rw_daemon_fns *) r->data)->n++;
    }
    free(vports);
}

/* Whether 'dev' has a function of 'cfg''s kind and numbers. */
static bool
has_function(struct esw_dev *dev, const struct esw_vport_config *cfg)
{
    size_t n = esw_vport_list(dev, NULL, 0);
    uint32_t *all = malloc((n ? n : 1) * sizeof *all);
    bool found = false;
    size_t m;

    if (!all) {
        return false;
    }
    m = esw_vport_list(dev, all, n);
    n = m < n ? m : n;
    for (size_t i = 0; i < n && !found; i++) {
        struct esw_vport_info info;

        found = (!esw_vport_get_info(dev, all[i], &info)
                 && info.kind == cfg->kind
                 && (cfg->kind == ESW_VPORT_UPLINK || info.pf == cfg->pf)
                 && ((cfg->kind != ESW_VPORT_VF && cfg->kind != ESW_VPORT_SF)
                     || info.fn == cfg->fn));
    }
    free(all);
    return found;
}

void
esw_rsession_admin_hotplug(const struct esw_rreq *req, long long int now,
                           struct esw_rreply *r)
{
    struct esw_rsession *s = esw_rsession_find_detached(req->name);
    bool created = false, fallback = false;
    struct esw_rw_error_u32 w;
    struct esw_rreq *sub;

    memset(&w, 0, sizeof w);
    esw_error_clear(&w.err);
    sub = calloc(1, sizeof *sub);
    if (!sub) {
        r->result = ENOMEM;
        return;
    }
    if (!s) {
        struct esw_caps caps;
        struct esw_rreply open;

        s = esw_rsession_create();
        if (!s) {
            r->result = ENOMEM;
            free(sub);
            return;
        }
        s->hello = true;
        esw_rreply_init(&open);
        session_open(s, req, &caps, &open);
        r->result = open.result;
        esw_rreply_destroy(&open);
        if (r->result) {
            esw_error_set(&w.err, r->result, ESW_ERROR_UNSPECIFIED, -1,
                          "cannot create device %s: %s", req->name,
                          strerror(r->result));
            esw_rsession_destroy(s);
            reply_put(r, &w, sizeof w);
            free(sub);
            return;
        }
        created = true;
    }
    for (uint32_t i = 0; i < req->arg && !r->result; i++) {
        struct esw_rreply one;
        bool last = i + 1 == req->arg;

        memset(sub, 0, sizeof *sub);
        sub->op = ESW_ROP_VPORT_ADD;
        esw_rproto_hotplug_fn(req->hotplug, i, &sub->vport_cfg, &sub->io);
        if (has_function(s->dev, &sub->vport_cfg)) {
            if (last) {
                r->result = esw_error_set(&w.err, EEXIST, ESW_ERROR_VPORT,
                                          -1, "the device has this "
                                          "function already");
            }
            continue;
        }
        if (fallback && sub->vport_cfg.io && sub->io.type == ESW_IO_TAP) {
            sub->io.type = ESW_IO_CAPTURE;
        }
        for (;;) {
            const struct esw_rw_error_u32 *res;

            esw_rreply_init(&one);
            dispatch(s, sub, &one);
            res = (const struct esw_rw_error_u32 *) one.data;
            if (one.result && !fallback && res
                && req->hotplug[offsetof(struct esw_rw_daemon_hotplug,
                                         tap_fallback)]
                && sub->vport_cfg.io && sub->io.type == ESW_IO_TAP
                && (one.result == EACCES || one.result == EPERM
                    || one.result == ENODEV)) {
                /* As ovs-ext does: no tap devices here, host sides in
                 * memory from then on. */
                fallback = true;
                sub->io.type = ESW_IO_CAPTURE;
                esw_rreply_destroy(&one);
                continue;
            }
            break;
        }
        r->result = one.result;
        if (one.data && one.len >= sizeof w) {
            memcpy(&w, one.data, sizeof w);
        }
        esw_rreply_destroy(&one);
    }
    free(sub);
    if (r->result && created) {
        esw_rsession_destroy(s);        /* Nothing half made stays. */
    } else if (created && !esw_rsession_detach(s, now)) {
        esw_rsession_destroy(s);
        r->result = esw_error_set(&w.err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                                  "out of memory");
    } else if (!r->result) {
        s->admin = true;
    }
    reply_put(r, &w, sizeof w);
}

bool
esw_rsession_is_admin(const struct esw_rsession *s)
{
    return s->admin;
}

bool
esw_rsession_adopted_admin(const struct esw_rsession *s)
{
    return s->adopted_admin;
}

void
esw_rsession_admin_unplug(const struct esw_rreq *req, struct esw_rreply *r)
{
    struct esw_rsession *s = esw_rsession_find_detached(req->name);
    struct esw_rreq *sub;

    if (!s) {
        r->result = ENODEV;
        return;
    }
    sub = calloc(1, sizeof *sub);
    if (!sub) {
        r->result = ENOMEM;
        return;
    }
    sub->op = ESW_ROP_VPORT_DEL;
    sub->vport = req->vport;
    dispatch(s, sub, r);
    free(sub);
    if (!r->result) {
        s->admin = true;
    }
}

/* Live update (esw-remote-state.h). */

bool
esw_rsession_hello_done(const struct esw_rsession *s)
{
    return s->hello;
}

size_t
esw_rsession_n_vports(const struct esw_rsession *s)
{
    return s->dev ? esw_vport_list(s->dev, NULL, 0) : 0;
}

size_t
esw_rsession_n_meters(const struct esw_rsession *s)
{
    return s->dev ? esw_meter_list(s->dev, NULL, 0) : 0;
}

struct esw_rsession *
esw_rsession_detached_get(size_t i, long long int *detached_at)
{
    if (i >= n_detached) {
        return NULL;
    }
    *detached_at = detached[i]->detached_at;
    return detached[i];
}

void
esw_rsession_pause(struct esw_rsession *s)
{
    if (s->dev) {
        esw_rsession_run(s);
        esw_dev_wait_idle(s->dev, 100);
        esw_sim_pause(s->dev);
    }
}

int
esw_rsession_resume(struct esw_rsession *s)
{
    int error = 0;

    if (s->dev) {
        error = esw_sim_resume(s->dev);
        esw_rsession_run(s);
    }
    return error;
}

struct rule_collect {
    struct esw_rule **rules;
    size_t n, allocated;
    bool nomem;
};

static bool
rule_collect_cb(struct esw_rule *rule, void *aux_)
{
    struct rule_collect *aux = aux_;

    if (aux->n >= aux->allocated) {
        size_t n = aux->allocated ? aux->allocated * 2 : 64;
        struct esw_rule **p = realloc(aux->rules, n * sizeof *p);

        if (!p) {
            aux->nomem = true;
            return false;
        }
        aux->rules = p;
        aux->allocated = n;
    }
    aux->rules[aux->n++] = rule;
    return true;
}

/* A capture host side's frames not read yet, as esw_rw_pkt + bytes. */
static int
save_frames(struct esw_rsession *s, uint32_t vport, uint8_t **data,
            size_t *len, uint32_t *n_frames)
{
    struct esw_pkt *pkts[ESW_RPROTO_MAX_BATCH];
    size_t n, allocated = 0;

    *data = NULL;
    *len = 0;
    *n_frames = 0;
    while ((n = esw_host_capture_read(s->dev, vport, pkts,
                                      ESW_RPROTO_MAX_BATCH)) > 0) {
        for (size_t i = 0; i < n; i++) {
            struct esw_rw_pkt w = { .len = pkts[i]->len,
                                    .in_vport = pkts[i]->in_vport,
                                    .mark = pkts[i]->mark };
            size_t need = *len + sizeof w + w.len;

            if (need > allocated) {
                size_t size = allocated ? allocated * 2 : 16384;
                uint8_t *p;

                while (size < need) {
                    size *= 2;
                }
                p = realloc(*data, size);
                if (!p) {
                    for (size_t j = i; j < n; j++) {
                        esw_pkt_free(pkts[j]);
                    }
                    return ENOMEM;
                }
                *data = p;
                allocated = size;
            }
            memcpy(*data + *len, &w, sizeof w);
            memcpy(*data + *len + sizeof w, pkts[i]->data, w.len);
            *len = need;
            ++*n_frames;
            esw_pkt_free(pkts[i]);
        }
    }
    return 0;
}

/* Gives 'vport''s capture host side the frames 'data' (n_frames, checked
 * by esw_rstate_parse()) as received. */
static void
deliver_frames(struct esw_rsession *s, uint32_t vport, const uint8_t *data,
               uint32_t n_frames)
{
    size_t off = 0;

    for (uint32_t i = 0; i < n_frames; i++) {
        struct esw_rw_pkt w;
        struct esw_pkt *pkt;

        memcpy(&w, data + off, sizeof w);
        pkt = esw_pkt_from_data(data + off + sizeof w, w.len);
        off += sizeof w + w.len;
        if (pkt) {
            pkt->in_vport = w.in_vport;
            pkt->mark = w.mark;
            esw_sim_host_deliver(s->dev, vport, &pkt, 1);
        }
    }
}

int
esw_rsession_save(struct esw_rsession *s, struct esw_rstate_writer *w)
{
    struct rule_collect rc = { .rules = NULL };
    uint32_t max_vports = s->dev->caps.max_vports;
    uint32_t max_meters = s->dev->caps.max_meters;
    uint32_t *vports = calloc(max_vports, sizeof *vports);
    uint32_t *meters = calloc(max_meters ? max_meters : 1, sizeof *meters);
    struct esw_rs_vport *v = calloc(1, sizeof *v);
    struct esw_rs_rule *r = calloc(1, sizeof *r);
    struct esw_rs_dev d;
    size_t n_phantoms = 0;
    int error = 0;

    if (!vports || !meters || !v || !r) {
        error = ENOMEM;
        goto out;
    }
    esw_rule_foreach(s->dev, rule_collect_cb, &rc);
    if (rc.nomem) {
        error = ENOMEM;
        goto out;
    }
    for (size_t i = 0; s->rules.slots && i <= s->rules.mask; i++) {
        n_phantoms += s->rules.slots[i].key && !s->rules.slots[i].value;
    }
    memset(&d, 0, sizeof d);
    d.open = s->open;
    d.stats_fd = esw_rstate_fd(w, s->stats_fd);
    d.send_efd = esw_rstate_fd(w, s->send_efd);
    d.n_vports = esw_vport_list(s->dev, vports, max_vports);
    d.n_meters = esw_meter_list(s->dev, meters, max_meters);
    d.n_rules = rc.n + n_phantoms;
    d.ct_fd = s->ct_table ? esw_rstate_fd(w, s->ct_fd) : -1;
    d.n_cts = s->n_cts;
    esw_rstate_put(w, ESW_RSTATE_DEV, &d, sizeof d, NULL, 0);

    for (uint32_t i = 0; i < d.n_vports; i++) {
        uint32_t vport = vports[i];
        struct esw_sim_vport_export e;
        struct esw_vport_info info;
        struct srv_ring *send = s->send_rings[vport];
        uint8_t *frames = NULL;
        size_t frames_len = 0;
        bool has = false;

        memset(v, 0, sizeof *v);
        if (esw_vport_get_info(s->dev, vport, &info)
            || esw_sim_vport_export(s->dev, vport, &e) || !send) {
            error = EINVAL;
            goto out;
        }
        v->add.cfg.kind = info.kind;
        v->add.cfg.pf = info.pf;
        v->add.cfg.fn = info.fn;
        v->add.cfg.vport = vport;
        v->add.cfg.mac = info.mac;
        v->add.cfg.mtu = info.mtu;
        v->add.cfg.admin_down = !info.admin_up;
        v->add.cfg.rep_queue_depth = info.rep_queue_depth;
        v->add.cfg.n_rep_queues = info.n_rep_queues;
        if (s->io_cfgs[vport]) {
            v->add.has_io = true;
            v->add.io = *s->io_cfgs[vport];
        }
        v->policy.vport = vport;
        esw_vport_get_policy(s->dev, vport, &v->policy.cfg, &has);
        v->policy.has_policy = has;
        v->guest_mac = e.guest_mac;
        v->granted_mac = e.granted_mac;
        v->guest_mac_refused = e.guest_mac_refused;
        v->n_host_fds = e.n_host_fds;
        v->host_fds[0] = v->host_fds[1] = -1;
        for (size_t k = 0; k < e.n_host_fds && k < 2; k++) {
            v->host_fds[k] = esw_rstate_fd(w, e.host_fds[k]);
        }
        for (uint32_t q = 0; q < ESW_MAX_REP_QUEUES; q++) {
            struct srv_ring *ring = (q < info.n_rep_queues
                                     ? atomic_load(ring_slot(s, vport, q))
                                     : NULL);

            if (q < info.n_rep_queues && !ring) {
                error = EINVAL;
                goto out;
            }
            v->ring_memfd[q] = ring ? esw_rstate_fd(w, ring->memfd) : -1;
            v->ring_efd[q] = ring ? esw_rstate_fd(w, ring->efd) : -1;
        }
        v->send_memfd = esw_rstate_fd(w, send->memfd);
        if (v->add.has_io && v->add.io.type == ESW_IO_CAPTURE) {
            error = save_frames(s, vport, &frames, &frames_len,
                                &v->n_frames);
        }
        esw_rstate_put(w, ESW_RSTATE_VPORT, v, sizeof *v, frames,
                       frames_len);
        free(frames);
        if (error) {
            goto out;
        }
    }
    for (uint32_t i = 0; i < d.n_meters; i++) {
        struct esw_rs_meter m;

        memset(&m, 0, sizeof m);
        m.meter.id = meters[i];
        esw_meter_get_config(s->dev, meters[i], &m.meter.cfg);
        esw_meter_get_stats(s->dev, meters[i], &m.stats);
        esw_rstate_put(w, ESW_RSTATE_METER, &m, sizeof m, NULL, 0);
    }
    for (size_t i = 0; i < rc.n; i++) {
        memset(r, 0, sizeof *r);
        r->rule.id = session_rule_id(s, rc.rules[i]);
        esw_rule_get_spec(s->dev, rc.rules[i], &r->rule.spec);
        esw_rule_get_stats(s->dev, rc.rules[i], &r->stats);
        r->orphaned = r->stats.orphaned;
        if (!r->rule.id) {
            error = EINVAL;     /* Every rule is its client's. */
            goto out;
        }
        esw_rstate_put_rule(w, r);
    }
    for (size_t i = 0; s->rules.slots && i <= s->rules.mask; i++) {
        if (s->rules.slots[i].key && !s->rules.slots[i].value) {
            memset(r, 0, sizeof *r);
            r->rule.id = s->rules.slots[i].key;
            r->orphaned = true;
            r->stats.orphaned = true;
            esw_rstate_put_rule(w, r);
        }
    }
    for (uint32_t i = 0, n = 0; n < s->n_cts && i < s->n_ct_slots; i++) {
        const struct sct *c = &s->cts[i];
        struct esw_ct_stats st;
        struct esw_ct_spec spec;
        struct esw_rs_ct rc_;

        if (!c->id) {
            continue;
        }
        n++;
        memset(&rc_, 0, sizeof rc_);
        rc_.entry.id = c->id;
        rc_.entry.slot = i;
        ct_get_stats(s, i, &st);
        rc_.entry.flushed = st.flushed;
        if (c->ct && !st.flushed) {
            esw_ct_get_spec(s->dev, c->ct, &spec);
            esw_rproto_ct_spec_to_wire(&spec, &rc_.entry.spec);
        }
        memcpy(rc_.packets, st.packets, sizeof rc_.packets);
        memcpy(rc_.bytes, st.bytes, sizeof rc_.bytes);
        rc_.used_ms = st.used_ms;
        esw_rstate_put(w, ESW_RSTATE_CT, &rc_, sizeof rc_, NULL, 0);
    }
out:
    free(rc.rules);
    free(vports);
    free(meters);
    free(v);
    free(r);
    return error;
}

void
esw_rsession_unsave(struct esw_rsession *s, const struct esw_rstate_session *ss)
{
    for (uint32_t i = 0; s->dev && i < ss->dev.n_vports; i++) {
        const struct esw_rstate_vport *vp = &ss->vports[i];

        deliver_frames(s, vp->v.add.cfg.vport, vp->frames, vp->v.n_frames);
    }
}

static int
take_fd(int fds[], int32_t idx)
{
    int fd = idx >= 0 ? fds[idx] : -1;

    if (idx >= 0) {
        fds[idx] = -1;
    }
    return fd;
}

static int
map_fd(int fd, size_t *sizep, void **p)
{
    struct stat st;

    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size <= 0
        || (uint64_t) st.st_size > SIZE_MAX) {
        return EINVAL;
    }
    *sizep = st.st_size;
    *p = mmap(NULL, *sizep, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (*p == MAP_FAILED) {
        *p = NULL;
        return errno;
    }
    return 0;
}

/* Takes over a ring of 'capacity' whose memfd and eventfd (-1 for a send
 * ring) a previous daemon had. */
static int
ring_adopt(int memfd, int efd, uint32_t capacity, struct srv_ring **ringp)
{
    struct srv_ring *ring = calloc(1, sizeof *ring);
    void *p = NULL;
    int error;

    if (!ring) {
        return ENOMEM;
    }
    error = map_fd(memfd, &ring->size, &p);
    if (!error && (!esw_rring_check(p, ring->size)
                   || (capacity && ((struct esw_rring *) p)->capacity
                       != capacity))) {
        munmap(p, ring->size);
        error = EINVAL;
    }
    if (error) {
        free(ring);
        return error;
    }
    ring->r = p;
    ring->memfd = memfd;
    ring->efd = efd;
    *ringp = ring;
    return 0;
}

static int __attribute__((format(printf, 3, 4)))
restore_fail(char *reason, size_t size, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    vsnprintf(reason, size, format, args);
    va_end(args);
    return EINVAL;
}

/* The connections of 'ss': each in the slot it had, its counters going
 * on from where they were (its entry's are the device's from zero plus
 * 'base'); one flushed is kept without a device entry, for its
 * deletion. */
static int
restore_cts(struct esw_rsession *s, const struct esw_rstate_session *ss,
            int fds[], char *reason, size_t size)
{
    const struct esw_rs_dev *d = &ss->dev;
    const char *name = d->open.name;
    int error;

    if ((d->ct_fd >= 0) != (s->dev->caps.max_conns > 0)) {
        return restore_fail(reason, size, "%s: a connection table where the "
                            "device has none, or none where it has one",
                            name);
    }
    if (d->ct_fd < 0) {
        return 0;
    }
    error = ct_table_create(s, s->dev->caps.max_conns,
                            take_fd(fds, d->ct_fd));
    if (error) {
        return restore_fail(reason, size, "%s: the connection counters "
                            "handed over are not this device's", name);
    }
    for (uint32_t i = 0; i < d->n_cts; i++) {
        struct esw_ct_stats base;
        struct esw_ct_spec spec;
        struct esw_error err;
        struct esw_ct *ct = NULL;
        struct esw_rs_ct c;

        memcpy(&c, ss->cts[i], sizeof c);
        if (c.entry.slot >= s->n_ct_slots || s->cts[c.entry.slot].id
            || session_ct(s, c.entry.id)) {
            return restore_fail(reason, size, "%s: connection %"PRIu64": "
                                "its slot or id twice", name, c.entry.id);
        }
        if (!c.entry.flushed) {
            esw_rproto_ct_spec_from_wire(&c.entry.spec, &spec);
            error = esw_ct_add(s->dev, &spec, &err, &ct);
            if (error) {
                return restore_fail(reason, size, "%s: connection %"PRIu64
                                    ": %s", name, c.entry.id, err.reason);
            }
        }
        memset(&base, 0, sizeof base);
        memcpy(base.packets, c.packets, sizeof base.packets);
        memcpy(base.bytes, c.bytes, sizeof base.bytes);
        base.used_ms = c.used_ms;
        if (ct_slot_take(s, c.entry.slot, c.entry.id, ct, &base)) {
            esw_ct_del(s->dev, ct);
            return ENOMEM;
        }
    }
    s->n_ct_free = 0;
    for (uint32_t i = s->n_ct_slots; i-- > 0; ) {
        if (!s->cts[i].id) {
            s->ct_free[s->n_ct_free++] = i;
        }
    }
    return 0;
}

static int
restore_dev(struct esw_rsession *s, const struct esw_rstate_session *ss,
            int fds[], struct esw_rreq *req, char *reason, size_t size)
{
    const struct esw_rs_dev *d = &ss->dev;
    struct esw_rmsg_hdr hdr = { .magic = ESW_RPROTO_MAGIC,
                                .version = ESW_RPROTO_VERSION };
    const char *name = d->open.name;
    struct esw_error err;
    void *p = NULL;
    int error;

    hdr.op = ESW_ROP_DEV_OPEN;
    hdr.len = sizeof d->open;
    if (esw_rproto_decode_request(&hdr, (const uint8_t *) &d->open, req,
                                  reason, size)) {
        return EINVAL;
    }
    error = esw_dev_open(name, "sim", &req->dev_cfg, &s->dev);
    if (error) {
        s->dev = NULL;
        return restore_fail(reason, size, "%s: cannot create the device: %s",
                            name, strerror(error));
    }
    esw_sim_pause(s->dev);
    if (s->dev->ref_cnt > 1) {
        return restore_fail(reason, size, "%s: twice in the state", name);
    }
    s->open = d->open;
    s->rings = calloc((size_t) s->dev->caps.max_vports * ESW_MAX_REP_QUEUES,
                      sizeof *s->rings);
    s->send_rings = calloc(s->dev->caps.max_vports, sizeof *s->send_rings);
    s->io_cfgs = calloc(s->dev->caps.max_vports, sizeof *s->io_cfgs);
    if (!s->rings || !s->send_rings || !s->io_cfgs) {
        return ENOMEM;
    }
    s->send_efd = take_fd(fds, d->send_efd);
    s->stats_fd = take_fd(fds, d->stats_fd);
    error = map_fd(s->stats_fd, &s->stats_size, &p);
    s->stats = p;
    if (error || s->stats_size != esw_rstats_size(s->dev->caps.max_vports)
        || s->stats->magic != ESW_RSTATS_MAGIC
        || s->stats->max_vports != s->dev->caps.max_vports
        || s->stats->slot_size != sizeof(struct esw_rstats_vport)) {
        return restore_fail(reason, size, "%s: the counter store handed over "
                            "is not this device's", name);
    }
    s->counter_store.get = stats_get;
    s->counter_store.aux = s;
    s->restoring = true;
    s->sink.queue = sink_queue;
    s->sink.aux = s;
    atomic_store(&s->sink.unattended, ss->s.sock < 0);
    esw_sim_set_rep_sink(s->dev, &s->sink);
    esw_sim_set_counter_store(s->dev, &s->counter_store);

    for (uint32_t i = 0; i < d->n_vports; i++) {
        const struct esw_rstate_vport *vp = &ss->vports[i];
        const struct esw_rs_vport *v = &vp->v;
        uint32_t vport = v->add.cfg.vport, number;
        int hfds[2];

        hdr.op = ESW_ROP_VPORT_ADD;
        hdr.len = sizeof v->add;
        if (esw_rproto_decode_request(&hdr, (const uint8_t *) &v->add, req,
                                      reason, size)) {
            return EINVAL;
        }
        for (size_t k = 0; k < 2; k++) {
            hfds[k] = k < v->n_host_fds ? take_fd(fds, v->host_fds[k]) : -1;
        }
        error = (v->n_host_fds
                 ? esw_sim_vport_add_adopt(s->dev, &req->vport_cfg, hfds,
                                           v->n_host_fds, &err, &number)
                 : esw_vport_add(s->dev, &req->vport_cfg, &err, &number));
        if (error || number != vport) {
            return restore_fail(reason, size, "%s: vport %"PRIu32": %s",
                                name, vport, error ? err.reason : "renumbered");
        }
        if (req->vport_cfg.io) {
            s->io_cfgs[vport] = malloc(sizeof *s->io_cfgs[vport]);
            if (!s->io_cfgs[vport]) {
                return ENOMEM;
            }
            *s->io_cfgs[vport] = *req->vport_cfg.io;
        }
        for (uint32_t q = 0; q < v->add.cfg.n_rep_queues; q++) {
            struct srv_ring *ring;
            int memfd = take_fd(fds, v->ring_memfd[q]);
            int efd = take_fd(fds, v->ring_efd[q]);

            error = ring_adopt(memfd, efd, v->add.cfg.rep_queue_depth,
                               &ring);
            if (error) {
                return restore_fail(reason, size, "%s: vport %"PRIu32": "
                                    "representor queue %"PRIu32": the ring "
                                    "handed over is not one", name, vport, q);
            }
            atomic_store(ring_slot(s, vport, q), ring);
        }
        error = ring_adopt(take_fd(fds, v->send_memfd), -1,
                           SEND_RING_CAPACITY, &s->send_rings[vport]);
        if (error) {
            return restore_fail(reason, size, "%s: vport %"PRIu32": the send "
                                "ring handed over is not one", name, vport);
        }
        error = esw_sim_vport_restore_guest(s->dev, vport, &v->guest_mac,
                                            &v->granted_mac,
                                            v->guest_mac_refused);
        if (error) {
            return restore_fail(reason, size, "%s: vport %"PRIu32": guest "
                                "MAC: %s", name, vport, strerror(error));
        }
        deliver_frames(s, vport, vp->frames, v->n_frames);
    }
    /* Policies once every vport is there: a link state "auto" follows its
     * uplink. */
    for (uint32_t i = 0; i < d->n_vports; i++) {
        const struct esw_rs_vport *v = &ss->vports[i].v;

        if (v->policy.has_policy) {
            error = esw_vport_set_policy(s->dev, v->add.cfg.vport,
                                         &v->policy.cfg, &err);
            if (error) {
                return restore_fail(reason, size, "%s: vport %"PRIu32": "
                                    "policy: %s", name, v->add.cfg.vport,
                                    err.reason);
            }
        }
    }
    for (uint32_t i = 0; i < d->n_meters; i++) {
        struct esw_rs_meter m;

        memcpy(&m, ss->meters[i], sizeof m);
        error = esw_meter_set(s->dev, m.meter.id, &m.meter.cfg, &err);
        if (error) {
            return restore_fail(reason, size, "%s: meter %"PRIu32": %s",
                                name, m.meter.id, err.reason);
        }
        esw_sim_meter_add_stats(s->dev, m.meter.id, &m.stats);
    }
    struct esw_rs_rule *r = malloc(sizeof *r);

    if (!r) {
        return ENOMEM;
    }
    for (uint32_t i = 0; !error && i < d->n_rules; i++) {
        struct esw_rule *rule = NULL;

        esw_rstate_get_rule(ss, i, r);
        if (session_rule(s, r->rule.id) || rmap_find(&s->rules, r->rule.id)) {
            error = restore_fail(reason, size, "%s: rule id %"PRIu64
                                 " twice", name, r->rule.id);
            break;
        }
        if (!r->orphaned) {
            error = esw_rule_add(s->dev, &r->rule.spec, &err, &rule);
            if (error) {
                restore_fail(reason, size, "%s: rule %"PRIu64": %s", name,
                             r->rule.id, err.reason);
                break;
            }
            esw_sim_rule_add_stats(s->dev, rule, &r->stats);
        }
        if (rmap_insert(&s->rules, r->rule.id, (uintptr_t) rule)
            || (rule && rmap_insert(&s->handles, (uintptr_t) rule,
                                    r->rule.id))) {
            error = ENOMEM;
        }
    }
    free(r);
    if (!error) {
        error = restore_cts(s, ss, fds, reason, size);
    }
    s->restoring = false;
    return error;
}

struct esw_rsession *
esw_rsession_restore(const struct esw_rstate_session *ss, int fds[],
                     long long int now, char *reason, size_t size)
{
    struct esw_rsession *s = esw_rsession_create();
    struct esw_rreq *req = malloc(sizeof *req);
    int error = 0;

    reason[0] = '\0';
    if (!s || !req) {
        error = ENOMEM;
    } else if (ss->s.has_dev) {
        error = restore_dev(s, ss, fds, req, reason, size);
    }
    free(req);
    if (error) {
        if (!reason[0]) {
            snprintf(reason, size, "%s", strerror(error));
        }
        /* Not torn down: the caller exits, and tearing down would remove
         * what the running daemon still serves (a wire's socket file). */
        return NULL;
    }
    s->hello = ss->s.hello;
    if (ss->s.sock < 0) {
        s->admin = ss->s.admin;
        if (!esw_rsession_detach(s, now - ss->s.detached_ms)) {
            snprintf(reason, size, "out of memory");
            return NULL;
        }
    }
    return s;
}

void
esw_rreply_put(struct esw_rreply *r, const void *p, size_t n)
{
    reply_put(r, p, n);
}
