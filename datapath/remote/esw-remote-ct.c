/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The "remote" driver's connection table (esw.h, "Connection tracking";
 * the protocol's side in esw-remote-proto.h, "Connections").
 *
 * The daemon's device holds the entries; the driver keeps a record of
 * them, as of rules: each handle's id, its spec with the mark and label
 * last set, whether it was flushed, in insertion order.  So:
 *   - esw_ct_get_spec() and esw_ct_foreach() answer from the record;
 *   - esw_ct_get_stats() never waits for the daemon.  conntrack's sweeper
 *     asks it (through ct-offload) for the last use of every offloaded
 *     connection it would expire, in a thread that must not block: it
 *     reads the entry's slot in the daemon's table of counters, shared
 *     memory mapped once per device (CT_MAP), under a leaf mutex that no
 *     round trip holds.  The daemon refreshes that table at least every
 *     ESW_RCT_PUBLISH_MS, and before it answers esw_ct_count(),
 *     esw_ct_foreach() (which makes a CT_COUNT round trip first) and an
 *     esw_dev_is_idle() that finds the device idle: a reader after one of
 *     those sees the counters as of then, a reader otherwise counters at
 *     most ESW_RCT_PUBLISH_MS old;
 *   - esw_ct_del() is sent without waiting for its reply (CT_DEL cannot
 *     fail), as rule deletions; the handle's memory goes after an esw-rcu
 *     grace period (esw.h), since the sweeper may be reading it.
 *
 * Device reset (see the top of esw-remote.c).  While the device is being
 * reset, esw_ct_add() fails with EAGAIN: the connection stays in OVS's
 * software conntrack and its packets miss in the device, as for a full
 * table.  esw_ct_modify(), esw_ct_del() and esw_ct_flush() act on the
 * record and are applied once the device is back; esw_ct_get_stats()
 * answers the counters last published.  Once back, the device is made to
 * hold what the record holds (esw-remote-reset.c calls
 * remote_ct_program() and remote_ct_finish__()): a device the daemon kept
 * (the connection broke, the daemon lived) is compared with the record
 * (CT_LIST), its entries the record deleted or flushed meanwhile are
 * deleted, those whose mark or label changed are updated; a re-created
 * device (the daemon restarted) gets every entry not flushed again, with
 * its id, in insertion order.  Counters stay monotonic: a re-added
 * entry's counters go on from what the old device last published.  An
 * entry the new device refuses (e.g. its table is fuller than the old
 * one's) is "gone": ct-offload keeps its handle, whose counters stop, and
 * its packets miss and reach OVS's conntrack, which still tracks the
 * connection (never half-processed: the device simply does not hold it).
 *
 * A new client (a restarted ovs-vswitchd) that takes over a kept device
 * deletes its connections at open (remote_ct_open()): they were the
 * previous process's conntrack's, which went away with it; the new
 * conntrack offers its own as it establishes them. */

#include "esw-remote-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esw-rcu.h"

/* The record. */

static struct esw_ct **
ct_bucket(struct remote_dev *d, uint64_t id)
{
    return &d->ct_hash[(id * 0x9e3779b97f4a7c15ULL) >> 52];
}

/* With 'ct_mutex' held. */
static struct esw_ct *
ct_find__(struct remote_dev *d, uint64_t id)
{
    for (struct esw_ct *ct = *ct_bucket(d, id); ct; ct = ct->hash_next) {
        if (ct->id == id) {
            return ct;
        }
    }
    return NULL;
}

static void
ct_insert__(struct remote_dev *d, struct esw_ct *ct)
{
    ct->prev = d->ct_tail;
    ct->next = NULL;
    if (d->ct_tail) {
        d->ct_tail->next = ct;
    } else {
        d->ct_head = ct;
    }
    d->ct_tail = ct;
    ct->hash_next = *ct_bucket(d, ct->id);
    *ct_bucket(d, ct->id) = ct;
}

static void
ct_remove__(struct remote_dev *d, struct esw_ct *ct)
{
    struct esw_ct **bucket;

    for (bucket = ct_bucket(d, ct->id); *bucket;
         bucket = &(*bucket)->hash_next) {
        if (*bucket == ct) {
            *bucket = ct->hash_next;
            break;
        }
    }
    if (ct->prev) {
        ct->prev->next = ct->next;
    } else {
        d->ct_head = ct->next;
    }
    if (ct->next) {
        ct->next->prev = ct->prev;
    } else {
        d->ct_tail = ct->prev;
    }
}

static void
ct_free_cb(void *ct)
{
    free(ct);
}

/* Slots in a table of 'size' bytes. */
static uint32_t
table_slots(size_t size)
{
    return (size - sizeof(struct esw_rct)) / sizeof(struct esw_rct_slot);
}

/* 'ct''s counters as 'table' (of 'size' bytes) has them, plus those
 * counted before; false if the table does not hold 'ct' (then 'st' is
 * untouched).  With 'ct_stats_mutex' held. */
static bool
ct_read__(const struct esw_ct *ct, const struct esw_rct *table, size_t size,
          struct esw_ct_stats *st)
{
    const struct esw_rct_slot *slot;

    if (ct->gone || !table || ct->slot >= table_slots(size)) {
        return false;
    }
    slot = &table->slots[ct->slot];
    if (atomic_load_explicit(&slot->id, memory_order_acquire) != ct->id) {
        return false;
    }
    for (int dir = 0; dir < 2; dir++) {
        st->packets[dir] = ct->base.packets[dir]
            + atomic_load_explicit(&slot->packets[dir], memory_order_relaxed);
        st->bytes[dir] = ct->base.bytes[dir]
            + atomic_load_explicit(&slot->bytes[dir], memory_order_relaxed);
    }
    st->used_ms = atomic_load_explicit(&slot->used_ms, memory_order_relaxed);
    if (ct->base.used_ms > st->used_ms) {
        st->used_ms = ct->base.used_ms;
    }
    st->flushed = (ct->flushed
                   || atomic_load_explicit(&slot->flushed,
                                           memory_order_relaxed));
    return true;
}

/* Maps the connection counters of the device on 'c' (of capabilities
 * 'caps'): NULL if it has no connection table.  0, or EPROTO (a malformed
 * answer), ENOMEM or the round trip's error. */
int
remote_ct_map(struct rconn *c, const struct esw_caps *caps,
              struct esw_rct **tablep, size_t *sizep)
{
    uint32_t n = esw_rct_n_slots(caps->max_conns);
    int fds[ESW_RPROTO_MAX_FDS];
    struct esw_rw_count w;
    struct stat st;
    int error, result;
    void *map;

    *tablep = NULL;
    *sizep = 0;
    if (!n) {
        return 0;
    }
    error = rconn_call(c, ESW_ROP_CT_MAP, NULL, 0, &w, sizeof w, NULL, NULL,
                       fds, &result);
    if (error) {
        return error;
    }
    error = EPROTO;
    if (!result && w.n == n && fds[0] >= 0 && fds[1] < 0
        && !fstat(fds[0], &st) && (uint64_t) st.st_size == esw_rct_size(n)) {
        map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fds[0], 0);
        if (map == MAP_FAILED) {
            error = ENOMEM;
        } else if (esw_rct_check(map, st.st_size, n)) {
            *tablep = map;
            *sizep = st.st_size;
            error = 0;
        } else {
            munmap(map, st.st_size);
        }
    }
    remote_close_fds(fds);
    return error;
}

/* The device's entries, listed on 'c' (or, if NULL, on the device's
 * connection) into '*entriesp' (malloc'ed), sorted by id, and '*np'. */
static int
ct_list(struct remote_dev *d, struct rconn *c,
        struct esw_rw_ct_entry **entriesp, size_t *np)
{
    struct esw_rw_ct_entry *entries = NULL;
    size_t n = 0, allocated = 0;
    uint32_t start = 0;

    for (;;) {
        struct esw_rw_vport v = { .arg = start, .arg2 = ESW_RPROTO_MAX_CTS };
        size_t max = sizeof(struct esw_rw_cts)
                     + ESW_RPROTO_MAX_CTS * sizeof *entries;
        const struct esw_rw_ct_entry *e;
        struct esw_rw_cts w;
        int error, result = 0;
        size_t len;
        void *buf;

        if (c) {
            error = rconn_call(c, ESW_ROP_CT_LIST, &v, sizeof v, NULL, max,
                               &buf, &len, NULL, &result);
        } else {
            pthread_mutex_lock(&d->conn_mutex);
            error = remote_call__(d, ESW_ROP_CT_LIST, &v, sizeof v, NULL,
                                  max, &buf, &len, NULL);
            pthread_mutex_unlock(&d->conn_mutex);
        }
        if (!error && (result || len < sizeof w)) {
            free(buf);
            error = EPROTO;
        }
        if (error) {
            free(entries);
            return error;
        }
        memcpy(&w, buf, sizeof w);
        if (w.n > ESW_RPROTO_MAX_CTS
            || len != sizeof w + (size_t) w.n * sizeof *e
            || n + w.n > w.total) {
            free(buf);
            free(entries);
            return EPROTO;
        }
        e = (const struct esw_rw_ct_entry *) ((uint8_t *) buf + sizeof w);
        if (n + w.n > allocated) {
            size_t new = allocated ? 2 * allocated : 64;
            struct esw_rw_ct_entry *p;

            while (new < n + w.n) {
                new *= 2;
            }
            p = realloc(entries, new * sizeof *p);
            if (!p) {
                free(buf);
                free(entries);
                return ENOMEM;
            }
            entries = p;
            allocated = new;
        }
        for (uint32_t i = 0; i < w.n; i++) {
            if (!e[i].id || e[i].slot < start || e[i].flushed > 1
                || e[i].spec.ipv6 > 1) {
                free(buf);
                free(entries);
                return EPROTO;
            }
            entries[n++] = e[i];
            start = e[i].slot + 1;
        }
        free(buf);
        if (!w.n || n >= w.total) {
            break;
        }
    }
    *entriesp = entries;
    *np = n;
    return 0;
}

static int
cmp_entry_id(const void *a_, const void *b_)
{
    const struct esw_rw_ct_entry *a = a_, *b = b_;

    return a->id < b->id ? -1 : a->id > b->id;
}

/* At open: maps the counters and deletes the connections a previous
 * client left in the device (see the top of this file). */
int
remote_ct_open(struct remote_dev *d)
{
    struct esw_rw_ct_entry *entries;
    size_t n;
    int error;

    if (!esw_rct_n_slots(d->up.caps.max_conns)) {
        return 0;
    }
    pthread_mutex_lock(&d->conn_mutex);
    error = remote_ct_map(&d->conn, &d->up.caps, &d->ct_table,
                          &d->ct_table_size);
    pthread_mutex_unlock(&d->conn_mutex);
    if (error) {
        return error == ENOMEM ? ENOMEM : ENODEV;
    }

    error = ct_list(d, NULL, &entries, &n);
    if (error) {
        return error;
    }
    for (size_t i = 0; i < n; i++) {
        struct esw_rw_rule_id del = { .id = entries[i].id };

        error = remote_call(d, ESW_ROP_CT_DEL, &del, sizeof del, NULL, 0);
        if (error && error != ENOENT) {
            free(entries);
            return error;
        }
    }
    if (n) {
        esw_log(ESW_LOG_INFO, "%s: %zu connections that the previous client "
                "left in the device deleted (its conntrack went with it)",
                d->up.name, n);
    }
    free(entries);
    return 0;
}

/* Frees the record (the device is being freed: nobody reads it). */
void
remote_ct_free(struct remote_dev *d)
{
    for (struct esw_ct *ct = d->ct_head, *next; ct; ct = next) {
        next = ct->next;
        free(ct);
    }
    d->ct_head = d->ct_tail = NULL;
    if (d->ct_table) {
        munmap(d->ct_table, d->ct_table_size);
        d->ct_table = NULL;
    }
}

/* The driver's operations. */

int
remote_ct_add(struct esw_dev *dev, const struct esw_ct_spec *spec,
              struct esw_error *err, struct esw_ct **ctp)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_ct_reply w;
    struct esw_rw_ct r;
    struct esw_ct *ct;
    int error;

    if (remote_state_error(d, remote_state(d) == REMOTE_RESET ? EAGAIN : 0,
                           err)) {
        return EAGAIN;
    }
    ct = calloc(1, sizeof *ct);
    if (!ct) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    memset(&r, 0, sizeof r);
    esw_rproto_ct_spec_to_wire(spec, &r.spec);
    memset(&w, 0, sizeof w);

    pthread_mutex_lock(&d->ct_mutex);
    r.id = ct->id = d->next_ct_id++;
    error = remote_call(d, ESW_ROP_CT_ADD, &r, sizeof r, &w, sizeof w);
    if (remote_state_error(d, error, err)) {
        goto error;
    }
    w.err.reason[sizeof w.err.reason - 1] = '\0';
    if (err) {
        *err = w.err;
        err->error = error;
    }
    if (error) {
        goto error;
    }
    if (w.slot >= table_slots(d->ct_table_size)) {
        pthread_mutex_lock(&d->conn_mutex);
        remote_conn_break(d);
        pthread_mutex_unlock(&d->conn_mutex);
        error = esw_error_set(err, ENODEV, ESW_ERROR_UNSPECIFIED, -1,
                              "%s: malformed reply from the device daemon",
                              d->up.name);
        goto error;
    }
    ct->spec = *spec;
    ct->slot = w.slot;
    ct_insert__(d, ct);
    pthread_mutex_unlock(&d->ct_mutex);
    *ctp = ct;
    return 0;

error:
    pthread_mutex_unlock(&d->ct_mutex);
    free(ct);
    return error;
}

/* Records 'mark' and 'label' as 'ct''s, to apply once the device is back
 * if 'dirty'. */
static void
ct_record_meta(struct remote_dev *d, struct esw_ct *ct, uint32_t mark,
               const uint64_t label[2], bool dirty)
{
    pthread_mutex_lock(&d->ct_stats_mutex);
    ct->spec.mark = mark;
    ct->spec.label[0] = label[0];
    ct->spec.label[1] = label[1];
    ct->dirty |= dirty;
    pthread_mutex_unlock(&d->ct_stats_mutex);
}

int
remote_ct_modify(struct esw_dev *dev, struct esw_ct *ct, uint32_t mark,
                 const uint64_t label[2])
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_ct_modify m = { .id = ct->id, .mark = mark,
                                  .label = { label[0], label[1] } };
    bool flushed, gone;
    int error;

    pthread_mutex_lock(&d->ct_stats_mutex);
    flushed = ct->flushed;
    gone = ct->gone;
    pthread_mutex_unlock(&d->ct_stats_mutex);
    if (flushed) {
        return ENOENT;
    }
    error = (gone || remote_state(d) == REMOTE_RESET ? EAGAIN
             : remote_call(d, ESW_ROP_CT_MODIFY, &m, sizeof m, NULL, 0));
    if (error == EAGAIN && remote_state(d) != REMOTE_DEAD) {
        /* Being reset: applied once the device is back.  Not in the
         * device: as the record has it, should it come back there. */
        ct_record_meta(d, ct, mark, label, !gone);
        return 0;
    }
    if (!error) {
        ct_record_meta(d, ct, mark, label, false);
    }
    return error;
}

void
remote_ct_del(struct esw_dev *dev, struct esw_ct *ct)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_rule_id r = { .id = ct->id };

    pthread_mutex_lock(&d->ct_mutex);
    pthread_mutex_lock(&d->conn_mutex);
    if (remote_state(d) == REMOTE_RESET) {
        /* Stays in the list, marked, until the device is back (then it is
         * deleted there too). */
        ct->deleted = true;
        pthread_mutex_unlock(&d->conn_mutex);
        pthread_mutex_unlock(&d->ct_mutex);
        return;
    }
    ct_remove__(d, ct);
    if (remote_state(d) == REMOTE_RUNNING && !esw_leaving_devices()) {
        /* Pipelined: the reply is read before the next call's.  ENOENT
         * (an entry gone from the device) is as good as done. */
        int error = rconn_send_unacked(&d->conn, ESW_ROP_CT_DEL, &r,
                                       sizeof r, ct->id, NULL);

        if (error) {
            /* If the daemon comes back with the device, it removes what
             * the record does not have. */
            remote_conn_fail(d, error);
        }
    }
    pthread_mutex_unlock(&d->conn_mutex);
    pthread_mutex_unlock(&d->ct_mutex);
    esw_rcu_postpone(ct_free_cb, ct);
}

size_t
remote_ct_flush(struct esw_dev *dev, const uint16_t *zone)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_ct_flush f = { .zone = zone ? *zone : 0, .all = !zone };
    struct esw_rw_count w = { .n = 0 };
    size_t n = 0;
    int error;

    if (!d->ct_table) {
        return 0;
    }
    /* 'ct_mutex' throughout, so that no entry added after the device's
     * flush is marked flushed here. */
    pthread_mutex_lock(&d->ct_mutex);
    error = (remote_state(d) == REMOTE_RESET ? EAGAIN
             : remote_call(d, ESW_ROP_CT_FLUSH, &f, sizeof f, &w, sizeof w));
    if (!error || (error == EAGAIN && remote_state(d) != REMOTE_DEAD)) {
        pthread_mutex_lock(&d->ct_stats_mutex);
        for (struct esw_ct *ct = d->ct_head; ct; ct = ct->next) {
            if (!ct->deleted && !ct->flushed
                && (!zone || ct->spec.zone == *zone)) {
                ct->flushed = true;
                n += !ct->gone;
            }
        }
        pthread_mutex_unlock(&d->ct_stats_mutex);
    }
    pthread_mutex_unlock(&d->ct_mutex);
    return error ? n : w.n;
}

int
remote_ct_get_stats(struct esw_dev *dev, const struct esw_ct *ct_,
                    struct esw_ct_stats *stats)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_ct *ct = (struct esw_ct *) ct_;

    pthread_mutex_lock(&d->ct_stats_mutex);
    if (ct_read__(ct, d->ct_table, d->ct_table_size, stats)) {
        ct->seen = *stats;
    } else {
        /* Not in the device (any more): as last seen. */
        *stats = ct->seen;
        stats->flushed |= ct->flushed;
    }
    pthread_mutex_unlock(&d->ct_stats_mutex);
    return 0;
}

void
remote_ct_get_spec(struct esw_dev *dev, const struct esw_ct *ct,
                   struct esw_ct_spec *spec)
{
    struct remote_dev *d = remote_dev_cast(dev);

    pthread_mutex_lock(&d->ct_stats_mutex);
    *spec = ct->spec;
    pthread_mutex_unlock(&d->ct_stats_mutex);
}

size_t
remote_ct_count(struct esw_dev *dev)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_count c;
    int error;

    if (!d->ct_table) {
        return 0;
    }
    error = remote_call(d, ESW_ROP_CT_COUNT, NULL, 0, &c, sizeof c);
    if (error == EAGAIN) {
        c.n = 0;
        pthread_mutex_lock(&d->ct_mutex);
        pthread_mutex_lock(&d->ct_stats_mutex);
        for (struct esw_ct *ct = d->ct_head; ct; ct = ct->next) {
            c.n += !ct->deleted && !ct->flushed && !ct->gone;
        }
        pthread_mutex_unlock(&d->ct_stats_mutex);
        pthread_mutex_unlock(&d->ct_mutex);
        return c.n;
    }
    return error ? 0 : c.n;
}

void
remote_ct_foreach(struct esw_dev *dev,
                  bool (*cb)(struct esw_ct *, void *), void *aux)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_count c;

    if (!d->ct_table) {
        return;
    }
    /* The daemon publishes the counters before it answers: the callback's
     * esw_ct_get_stats() read them as of now. */
    remote_call(d, ESW_ROP_CT_COUNT, NULL, 0, &c, sizeof c);
    pthread_mutex_lock(&d->ct_mutex);
    for (struct esw_ct *ct = d->ct_head; ct; ct = ct->next) {
        if (!ct->deleted && !cb(ct, aux)) {
            break;
        }
    }
    pthread_mutex_unlock(&d->ct_mutex);
}

/* Device reset. */

int
remote_ct_program(struct remote_dev *d, struct rconn *c, size_t *n_cts,
                  size_t *added, size_t *removed, char *why, size_t size)
{
    struct esw_rw_ct_entry *entries = NULL;
    struct esw_rw_ct_reply reply;
    struct esw_rw_ct req;
    size_t n = 0;
    int error, result;

    *n_cts = *added = *removed = 0;
    if (!d->ct_table) {
        return 0;
    }
    error = ct_list(d, c, &entries, &n);
    if (error) {
        snprintf(why, size, "listing the device's connections: %s",
                 error == EPROTO ? "malformed reply" : strerror(error));
        return error;
    }
    if (n) {
        qsort(entries, n, sizeof *entries, cmp_entry_id);
    }

    /* What the device has: kept if the record has it as it is, deleted
     * if the record deleted or flushed it. */
    for (size_t i = 0; i < n; i++) {
        const struct esw_rw_ct_entry *e = &entries[i];
        struct esw_ct *ct;
        bool keep;

        pthread_mutex_lock(&d->ct_mutex);
        ct = ct_find__(d, e->id);
        pthread_mutex_lock(&d->ct_stats_mutex);
        keep = ct && !ct->deleted && !(ct->flushed && !e->flushed);
        if (keep) {
            struct esw_ct_spec spec;

            ct->new_slot = e->slot;
            ct->new_gone = false;
            ct->new_fold = false;
            if (!e->flushed && !esw_rproto_ct_spec_from_wire(&e->spec, &spec)
                && (spec.mark != ct->spec.mark
                    || spec.label[0] != ct->spec.label[0]
                    || spec.label[1] != ct->spec.label[1])) {
                ct->dirty = true;
            }
        } else if (ct && !ct->deleted) {
            /* Flushed meanwhile: deleted from the device, its counters
             * stay as seen. */
            ct->new_gone = true;
            ct->new_fold = false;
        }
        pthread_mutex_unlock(&d->ct_stats_mutex);
        pthread_mutex_unlock(&d->ct_mutex);
        if (!keep) {
            struct esw_rw_rule_id del = { .id = e->id };

            error = rconn_call(c, ESW_ROP_CT_DEL, &del, sizeof del, NULL, 0,
                               NULL, NULL, NULL, &result);
            if (error) {
                snprintf(why, size, "connection %"PRIu64": %s", e->id,
                         error == EPROTO ? "malformed reply"
                         : strerror(error));
                goto out;
            }
            (*removed)++;
        }
    }

    /* What the device lacks, in insertion order.  No handle leaves the
     * list during a reset (esw_ct_del() marks it deleted) and none is
     * added, so that 'ct' stays valid while the lock is released. */
    pthread_mutex_lock(&d->ct_mutex);
    for (struct esw_ct *ct = d->ct_head; ct; ct = ct->next) {
        struct esw_rw_ct_entry key = { .id = ct->id };

        if (ct->deleted) {
            continue;
        }
        if (n && bsearch(&key, entries, n, sizeof *entries, cmp_entry_id)) {
            pthread_mutex_lock(&d->ct_stats_mutex);
            *n_cts += !ct->flushed;
            pthread_mutex_unlock(&d->ct_stats_mutex);
            continue;
        }
        pthread_mutex_lock(&d->ct_stats_mutex);
        if (ct->flushed) {
            /* Out of the table already: its counters stay as seen. */
            ct->new_gone = true;
            ct->new_fold = false;
            pthread_mutex_unlock(&d->ct_stats_mutex);
            continue;
        }
        memset(&req, 0, sizeof req);
        req.id = ct->id;
        esw_rproto_ct_spec_to_wire(&ct->spec, &req.spec);
        pthread_mutex_unlock(&d->ct_stats_mutex);
        pthread_mutex_unlock(&d->ct_mutex);

        memset(&reply, 0, sizeof reply);
        error = rconn_call(c, ESW_ROP_CT_ADD, &req, sizeof req, &reply,
                           sizeof reply, NULL, NULL, NULL, &result);
        reply.err.reason[sizeof reply.err.reason - 1] = '\0';
        if (!error && !result && reply.slot >= table_slots(
                esw_rct_size(esw_rct_n_slots(d->up.caps.max_conns)))) {
            error = EPROTO;
        }
        if (error) {
            snprintf(why, size, "connection %"PRIu64": %s", req.id,
                     error == EPROTO ? "malformed reply" : strerror(error));
            goto out;
        }

        pthread_mutex_lock(&d->ct_mutex);
        pthread_mutex_lock(&d->ct_stats_mutex);
        if (result) {
            /* The new device refuses it: its packets go to OVS, which
             * tracks the connection. */
            esw_log(ESW_LOG_DBG, "%s: connection %"PRIu64" not re-added: "
                    "%s", d->up.name, ct->id, reply.err.reason);
            ct->new_gone = true;
            ct->new_fold = false;
        } else {
            ct->new_slot = reply.slot;
            ct->new_gone = false;
            ct->new_fold = true;
            (*added)++;
            (*n_cts)++;
        }
        pthread_mutex_unlock(&d->ct_stats_mutex);
    }
    pthread_mutex_unlock(&d->ct_mutex);
    error = 0;

out:
    free(entries);
    return error;
}

int
remote_ct_finish__(struct remote_dev *d, struct rconn *c,
                   struct esw_rct *table, size_t table_size)
{
    int error = 0, result;

    if (!d->ct_table || !table) {
        if (table) {
            munmap(table, table_size);
        }
        return 0;
    }

    /* What changed while the device was being programmed. */
    for (struct esw_ct *ct = d->ct_head; ct && !error; ct = ct->next) {
        bool del, modify;
        struct esw_rw_ct_modify m;

        pthread_mutex_lock(&d->ct_stats_mutex);
        del = ct->deleted || (ct->flushed && !ct->new_gone);
        modify = !del && ct->dirty && !ct->new_gone;
        m.id = ct->id;
        m.mark = ct->spec.mark;
        m.label[0] = ct->spec.label[0];
        m.label[1] = ct->spec.label[1];
        pthread_mutex_unlock(&d->ct_stats_mutex);
        if (del) {
            struct esw_rw_rule_id r = { .id = ct->id };

            /* ENOENT: it was not there. */
            error = rconn_call(c, ESW_ROP_CT_DEL, &r, sizeof r, NULL, 0, NULL,
                               NULL, NULL, &result);
            if (!error && !ct->deleted) {
                pthread_mutex_lock(&d->ct_stats_mutex);
                ct->new_gone = true;
                pthread_mutex_unlock(&d->ct_stats_mutex);
            }
        } else if (modify) {
            error = rconn_call(c, ESW_ROP_CT_MODIFY, &m, sizeof m, NULL, 0,
                               NULL, NULL, NULL, &result);
        }
    }
    if (error) {
        return error;
    }

    /* Commit. */
    for (struct esw_ct *ct = d->ct_head, *next; ct; ct = next) {
        next = ct->next;
        if (ct->deleted) {
            ct_remove__(d, ct);
            esw_rcu_postpone(ct_free_cb, ct);
        }
    }
    pthread_mutex_lock(&d->ct_stats_mutex);
    for (struct esw_ct *ct = d->ct_head; ct; ct = ct->next) {
        struct esw_ct_stats st;

        if (!ct_read__(ct, d->ct_table, d->ct_table_size, &st)) {
            st = ct->seen;
        }
        if (ct->new_gone) {
            ct->seen = st;              /* Its counters stop there. */
        } else if (ct->new_fold) {
            /* Re-added: its counters start again from zero. */
            ct->base = st;
            ct->base.flushed = false;
        }
        ct->slot = ct->new_slot;
        ct->gone = ct->new_gone;
        ct->new_fold = false;
        ct->dirty = false;
    }
    munmap(d->ct_table, d->ct_table_size);
    d->ct_table = table;
    d->ct_table_size = table_size;
    pthread_mutex_unlock(&d->ct_stats_mutex);
    return 0;
}
