/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The "remote" driver's device reset: what happens when the device
 * daemon goes away (see "Device reset" at the top of esw-remote.c). */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* POLLRDHUP. */
#endif

#include "esw-remote-private.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* The device reset (see the top of this file): run by the device's
 * thread, on a connection of its own. */

/* What a reset did. */
struct reset_report {
    bool created;               /* The device was new (the daemon
                                 * restarted), not taken over. */
    size_t n_vports, n_meters, n_rules;     /* In the device once back. */
    size_t added_vports, added_meters, added_rules;
    size_t removed_rules;
    size_t n_cts, added_cts, removed_cts;   /* Connections. */
    bool *vport_added;          /* [max_vports]: re-created now. */
};

/* VPORT_LIST or METER_LIST on 'c' into 'ids' (at most 'max'): 0 and
 * '*np', or how it failed (EPROTO, an I/O error). */
static int
rconn_list(struct rconn *c, uint16_t op, uint32_t ids[], size_t max,
           size_t *np)
{
    struct esw_rw_vport v = { .arg = max > UINT32_MAX ? UINT32_MAX : max };
    struct esw_rw_list l;
    size_t len;
    void *buf;
    int error, result;

    *np = 0;
    error = rconn_call(c, op, &v, sizeof v, NULL,
                       sizeof l + (size_t) v.arg * sizeof *ids, &buf, &len,
                       NULL, &result);
    if (error) {
        return error;
    }
    if (result || len < sizeof l
        || (len - sizeof l) % sizeof *ids) {
        free(buf);
        return EPROTO;
    }
    memcpy(&l, buf, sizeof l);
    *np = (len - sizeof l) / sizeof *ids;
    if (*np > max || *np != (l.n < max ? l.n : max)) {
        free(buf);
        return EPROTO;
    }
    if (*np) {
        memcpy(ids, (uint8_t *) buf + sizeof l, *np * sizeof *ids);
    }
    free(buf);
    return 0;
}

static int
cmp_u64(const void *a_, const void *b_)
{
    uint64_t a = *(const uint64_t *) a_, b = *(const uint64_t *) b_;

    return a < b ? -1 : a > b;
}

/* The ids of the rules of the device on 'c', sorted, into '*idsp'
 * (malloc'ed) and '*np'. */
static int
rconn_rule_ids(struct rconn *c, uint64_t **idsp, size_t *np)
{
    uint64_t *ids = NULL;
    size_t n = 0, allocated = 0;
    uint32_t start = 0;

    for (;;) {
        struct esw_rw_vport v = { .arg = start,
                                  .arg2 = ESW_RPROTO_MAX_RULES };
        const struct esw_rw_rule *r;
        struct esw_rw_rules w;
        int error, result;
        size_t len;
        void *buf;

        error = rconn_call(c, ESW_ROP_RULE_LIST, &v, sizeof v, NULL,
                           sizeof w + ESW_RPROTO_MAX_RULES * sizeof *r,
                           &buf, &len, NULL, &result);
        if (!error && (result || len < sizeof w)) {
            free(buf);
            error = EPROTO;
        }
        if (error) {
            free(ids);
            return error;
        }
        memcpy(&w, buf, sizeof w);
        if (w.n > ESW_RPROTO_MAX_RULES
            || len != sizeof w + (size_t) w.n * sizeof *r) {
            free(buf);
            free(ids);
            return EPROTO;
        }
        if (n + w.n > allocated) {
            size_t size = 2 * (n + w.n);
            uint64_t *p = realloc(ids, size * sizeof *ids);

            if (!p) {
                free(buf);
                free(ids);
                return ENOMEM;
            }
            ids = p;
            allocated = size;
        }
        r = (const struct esw_rw_rule *) ((uint8_t *) buf + sizeof w);
        for (uint32_t i = 0; i < w.n; i++) {
            memcpy(&ids[n++], (const uint8_t *) &r[i]
                   + offsetof(struct esw_rw_rule, id), sizeof *ids);
        }
        free(buf);
        start += w.n;
        if (!w.n || start >= w.total) {
            break;
        }
    }
    if (n) {
        qsort(ids, n, sizeof *ids, cmp_u64);
    }
    *idsp = ids;
    *np = n;
    return 0;
}

static int
cmp_rvport_seq(const void *a_, const void *b_)
{
    const struct rvport *a = a_, *b = b_;

    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* A step of the reset failed: the daemon answered 'result' (0 if the
 * round trip itself failed with 'error'), with 'reason' if it gave one. */
static int __attribute__((format(printf, 6, 7)))
reset_fail(int error, int result, const char *reason, char *why,
           size_t size, const char *format, ...)
{
    va_list args;
    size_t n;

    va_start(args, format);
    vsnprintf(why, size, format, args);
    va_end(args);
    n = strlen(why);
    snprintf(why + n, size - n, ": %s",
             error ? (error == EPROTO ? "malformed reply" : strerror(error))
             : reason && reason[0] ? reason : strerror(result));
    return error ? error : result;
}

/* Adds the vport recorded in 'rv' to the device on 'c', with its policy
 * and its guest's MAC. */
static int
reset_add_vport(struct rconn *c, const struct rvport *rv, char *why,
                size_t size)
{
    struct esw_rw_vport_add a;
    struct esw_rw_error_u32 r;
    struct esw_error e;
    int error, result;

    memset(&a, 0, sizeof a);
    a.cfg = rv->cfg;
    a.has_io = rv->has_io;
    a.io = rv->io;
    error = rconn_call(c, ESW_ROP_VPORT_ADD, &a, sizeof a, &r, sizeof r,
                       NULL, NULL, NULL, &result);
    r.err.reason[sizeof r.err.reason - 1] = '\0';
    if (error || result) {
        return reset_fail(error, result, r.err.reason, why, size,
                          "vport %s", rv->info.name);
    }
    if (r.value != rv->cfg.vport) {
        return reset_fail(EPROTO, 0, NULL, why, size, "vport %s",
                          rv->info.name);
    }
    if (rv->policy) {
        struct esw_rw_policy *p = calloc(1, sizeof *p);

        if (!p) {
            return reset_fail(ENOMEM, 0, NULL, why, size, "vport %s",
                              rv->info.name);
        }
        p->vport = rv->cfg.vport;
        p->has_policy = 1;
        p->cfg = *rv->policy;
        error = rconn_call(c, ESW_ROP_VPORT_SET_POLICY, p, sizeof *p, &e,
                           sizeof e, NULL, NULL, NULL, &result);
        free(p);
        e.reason[sizeof e.reason - 1] = '\0';
        if (error || result) {
            return reset_fail(error, result, e.reason, why, size,
                              "vport %s: policy", rv->info.name);
        }
    }
    if (rv->has_guest_mac) {
        struct esw_rw_mac m = { .vport = rv->cfg.vport,
                                .mac = rv->guest_mac };

        /* The policy may refuse it now (EPERM): as the guest's request. */
        error = rconn_call(c, ESW_ROP_VPORT_GUEST_SET_MAC, &m, sizeof m, &e,
                           sizeof e, NULL, NULL, NULL, &result);
        if (error) {
            return reset_fail(error, 0, NULL, why, size, "vport %s: guest "
                              "MAC", rv->info.name);
        }
    }
    return 0;
}

/* Makes the device on 'c' what the record says: adds what it lacks (all
 * of it if the device is new), removes the rules it has that the record
 * deleted. */
static int
reset_program(struct remote_dev *d, struct rconn *c,
              struct reset_report *rep, char *why, size_t size)
{
    uint32_t max = d->up.caps.max_vports;
    uint32_t max_meters = d->up.caps.max_meters;
    uint32_t *dev_vports = calloc(max ? max : 1, sizeof *dev_vports);
    uint32_t *dev_meters = calloc(max_meters ? max_meters : 1,
                                  sizeof *dev_meters);
    struct rvport *vports = calloc(max ? max : 1, sizeof *vports);
    struct rmeter *meters = NULL;
    size_t n_dev_vports, n_dev_meters, n_dev_rules = 0, n_vports = 0;
    size_t n_meters = 0;
    uint64_t *dev_rules = NULL;
    struct esw_rw_rule *req = calloc(1, sizeof *req);
    struct esw_rw_rule_reply *reply = calloc(1, sizeof *reply);
    struct esw_rule *r;
    int error, result;

    if (!dev_vports || !dev_meters || !vports || !req || !reply) {
        error = reset_fail(ENOMEM, 0, NULL, why, size, "re-programming");
        goto out;
    }

    /* What the device has. */
    error = rconn_list(c, ESW_ROP_VPORT_LIST, dev_vports, max,
                       &n_dev_vports);
    if (!error) {
        error = rconn_list(c, ESW_ROP_METER_LIST, dev_meters, max_meters,
                           &n_dev_meters);
    }
    if (!error) {
        error = rconn_rule_ids(c, &dev_rules, &n_dev_rules);
    }
    if (error) {
        reset_fail(error, 0, NULL, why, size, "listing the device");
        goto out;
    }
    rep->created = !n_dev_vports && !n_dev_meters && !n_dev_rules;

    /* Vports the device lacks, in the order they were added. */
    pthread_mutex_lock(&d->rec_mutex);
    for (uint32_t v = 0; v < max; v++) {
        const struct rvport *rv = rvport_get__(d, v);

        if (rv) {
            vports[n_vports] = *rv;
            vports[n_vports].policy = NULL;
            if (rv->policy) {
                vports[n_vports].policy = malloc(sizeof *rv->policy);
                if (vports[n_vports].policy) {
                    *vports[n_vports].policy = *rv->policy;
                }
            }
            n_vports++;
        }
    }
    meters = malloc((d->n_meters ? d->n_meters : 1) * sizeof *meters);
    for (size_t i = 0; meters && i < d->n_meters; i++) {
        if (!d->meters[i].deleted) {
            meters[n_meters++] = d->meters[i];
        }
    }
    pthread_mutex_unlock(&d->rec_mutex);
    if (!meters) {
        error = reset_fail(ENOMEM, 0, NULL, why, size, "re-programming");
        goto out;
    }
    qsort(vports, n_vports, sizeof *vports, cmp_rvport_seq);
    for (size_t i = 0; i < n_vports; i++) {
        const struct rvport *rv = &vports[i];
        bool present = false;

        if (rv->policy == NULL && vports[i].info.has_policy) {
            /* The copy above ran out of memory. */
        }
        for (size_t j = 0; j < n_dev_vports; j++) {
            present |= dev_vports[j] == rv->cfg.vport;
        }
        if (!present) {
            error = reset_add_vport(c, rv, why, size);
            if (error) {
                goto out;
            }
            rep->vport_added[rv->cfg.vport] = true;
            rep->added_vports++;
        }
    }
    rep->n_vports = n_vports;

    /* Meters the device lacks. */
    for (size_t i = 0; i < n_meters; i++) {
        struct esw_rw_meter m = { .id = meters[i].id,
                                  .cfg = meters[i].cfg };
        bool present = false;
        struct esw_error e;

        for (size_t j = 0; j < n_dev_meters; j++) {
            present |= dev_meters[j] == m.id;
        }
        if (!present) {
            error = rconn_call(c, ESW_ROP_METER_SET, &m, sizeof m, &e,
                               sizeof e, NULL, NULL, NULL, &result);
            e.reason[sizeof e.reason - 1] = '\0';
            if (error || result) {
                error = reset_fail(error, result, e.reason, why, size,
                                   "meter %"PRIu32, m.id);
                goto out;
            }
            rep->added_meters++;
        }
    }
    rep->n_meters = n_meters;

    /* Rules the device has and the record does not (deleted since). */
    for (size_t i = 0; i < n_dev_rules; i++) {
        struct esw_rw_rule_id del = { .id = dev_rules[i] };
        bool known;

        pthread_mutex_lock(&d->rules_mutex);
        r = remote_rule_find__(d, dev_rules[i]);
        known = r && !r->deleted;
        pthread_mutex_unlock(&d->rules_mutex);
        if (!known) {
            error = rconn_call(c, ESW_ROP_RULE_DEL, &del, sizeof del, NULL, 0,
                               NULL, NULL, NULL, &result);
            if (error) {
                reset_fail(error, 0, NULL, why, size, "rule %"PRIu64,
                           del.id);
                goto out;
            }
            rep->removed_rules++;
        }
    }

    /* Rules the device lacks, in insertion order.  No rule leaves the
     * list during a reset (esw_rule_del() marks it deleted) and none is
     * added, so that 'r' stays valid while the lock is released. */
    pthread_mutex_lock(&d->rules_mutex);
    for (r = d->head; r; r = r->next) {
        if (r->deleted || r->gone) {
            continue;
        }
        rep->n_rules++;
        if (n_dev_rules && bsearch(&r->id, dev_rules, n_dev_rules,
                                   sizeof *dev_rules, cmp_u64)) {
            continue;
        }
        req->id = r->id;
        req->spec = r->spec;
        pthread_mutex_unlock(&d->rules_mutex);
        error = rconn_call(c, ESW_ROP_RULE_ADD, req, sizeof *req, reply,
                           sizeof *reply, NULL, NULL, NULL, &result);
        pthread_mutex_lock(&d->rules_mutex);
        reply->err.reason[sizeof reply->err.reason - 1] = '\0';
        if (!error && result == ENOENT) {
            /* A vport it names was deleted meanwhile: orphaned. */
            pthread_mutex_lock(&d->rec_mutex);
            r->gone = true;
            pthread_mutex_unlock(&d->rec_mutex);
            rep->n_rules--;
        } else if (error || result) {
            pthread_mutex_unlock(&d->rules_mutex);
            error = reset_fail(error, result, reply->err.reason, why, size,
                               "rule %"PRIu64, req->id);
            goto out;
        } else {
            /* Its counters start again from zero in the device. */
            pthread_mutex_lock(&d->rec_mutex);
            r->base = r->seen;
            pthread_mutex_unlock(&d->rec_mutex);
            rep->added_rules++;
        }
    }
    pthread_mutex_unlock(&d->rules_mutex);

    /* Connections. */
    error = remote_ct_program(d, c, &rep->n_cts, &rep->added_cts,
                              &rep->removed_cts, why, size);

out:
    for (size_t i = 0; i < n_vports; i++) {
        free(vports[i].policy);
    }
    free(vports);
    free(meters);
    free(dev_vports);
    free(dev_meters);
    free(dev_rules);
    free(req);
    free(reply);
    return error;
}

static void
stats_add(struct esw_vport_stats *a, const struct esw_rstats_vport *c)
{
    a->rx_packets += atomic_load(&c->rx_packets);
    a->rx_bytes += atomic_load(&c->rx_bytes);
    a->tx_packets += atomic_load(&c->tx_packets);
    a->tx_bytes += atomic_load(&c->tx_bytes);
    a->rep_rx_packets += atomic_load(&c->rep_rx_packets);
    a->rep_tx_packets += atomic_load(&c->rep_tx_packets);
    a->guest_mac_refused += atomic_load(&c->guest_mac_refused);
    for (size_t i = 0; i < ESW_N_DROP_REASONS; i++) {
        a->drops[i] += atomic_load(&c->drops[i]);
    }
}

/* Applies to the device on 'c' what was deleted while it was being
 * programmed, then makes 'c' and 'stats' the device's: the reset is
 * over. */
static int
reset_finish(struct remote_dev *d, struct rconn *c, struct esw_rstats *stats,
             size_t stats_size, struct esw_rct *ct_table,
             size_t ct_table_size, struct reset_report *rep, char *why,
             size_t size)
{
    uint32_t max = d->up.caps.max_vports;
    uint32_t *del_vports = calloc(max ? max : 1, sizeof *del_vports);
    uint32_t *del_meters = NULL;
    size_t n_del_vports = 0, n_del_meters = 0;
    struct esw_rule *r, *next;
    int error = 0, result;

    pthread_mutex_lock(&d->rules_mutex);
    pthread_mutex_lock(&d->ct_mutex);
    pthread_mutex_lock(&d->conn_mutex);
    if (remote_state(d) != REMOTE_RESET || atomic_load(&d->closing)) {
        error = reset_fail(ECANCELED, 0, NULL, why, size, "reset");
        goto out;
    }

    pthread_mutex_lock(&d->rec_mutex);
    del_meters = malloc((d->n_meters ? d->n_meters : 1) * sizeof *del_meters);
    for (uint32_t v = 0; del_vports && v < max; v++) {
        if (d->vports[v] && d->vports[v]->deleted) {
            del_vports[n_del_vports++] = v;
        }
    }
    for (size_t i = 0; del_meters && i < d->n_meters; i++) {
        if (d->meters[i].deleted) {
            del_meters[n_del_meters++] = d->meters[i].id;
        }
    }
    pthread_mutex_unlock(&d->rec_mutex);
    if (!del_vports || !del_meters) {
        error = reset_fail(ENOMEM, 0, NULL, why, size, "re-programming");
        goto out;
    }

    /* What was deleted while the device was being programmed (ENOENT: it
     * was not there). */
    for (r = d->head; r && !error; r = r->next) {
        if (r->deleted) {
            struct esw_rw_rule_id del = { .id = r->id };

            error = rconn_call(c, ESW_ROP_RULE_DEL, &del, sizeof del, NULL,
                               0, NULL, NULL, NULL, &result);
            rep->removed_rules += !error && !result;
        }
    }
    for (size_t i = 0; i < n_del_vports && !error; i++) {
        struct esw_rw_vport v = { .vport = del_vports[i] };

        error = rconn_call(c, ESW_ROP_VPORT_DEL, &v, sizeof v, NULL, 0, NULL,
                           NULL, NULL, &result);
    }
    for (size_t i = 0; i < n_del_meters && !error; i++) {
        struct esw_rw_vport v = { .vport = del_meters[i] };

        error = rconn_call(c, ESW_ROP_METER_DEL, &v, sizeof v, NULL, 0, NULL,
                           NULL, NULL, &result);
    }
    if (error) {
        reset_fail(error, 0, NULL, why, size, "deletions");
        goto out;
    }

    /* Connections: what changed meanwhile, then the commit (it cannot
     * fail). */
    error = remote_ct_finish__(d, c, ct_table, ct_table_size);
    if (error) {
        reset_fail(error, 0, NULL, why, size, "connections");
        goto out;
    }

    /* Commit. */
    for (r = d->head; r; r = next) {
        next = r->next;
        if (r->deleted) {
            remote_rule_unlist__(d, r);
            free(r);
        }
    }
    pthread_mutex_lock(&d->rings_mutex);
    pthread_mutex_lock(&d->rec_mutex);
    for (uint32_t v = 0; v < max; v++) {
        struct rvport *rv = d->vports[v];

        if (rv && rv->deleted) {
            rvport_free(rv);
            d->vports[v] = NULL;
        } else if (rv && rep->vport_added[v]
                   && atomic_load(&d->stats->vports[v].exists)) {
            /* Re-created: its counters start again from zero. */
            stats_add(&rv->base, &d->stats->vports[v]);
        }
        remote_unmap_rings__(d, v);
    }
    for (size_t i = 0; i < d->n_meters; ) {
        if (d->meters[i].deleted) {
            rmeter_remove__(d, &d->meters[i]);
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&d->rec_mutex);
    munmap(d->stats, d->stats_size);
    d->stats = stats;
    d->stats_size = stats_size;
    pthread_mutex_unlock(&d->rings_mutex);

    close(d->conn.sock);
    d->conn = *c;
    d->conn.owner = d;
    c->sock = -1;
    atomic_store(&d->state, REMOTE_RUNNING);

out:
    pthread_mutex_unlock(&d->conn_mutex);
    pthread_mutex_unlock(&d->ct_mutex);
    pthread_mutex_unlock(&d->rules_mutex);
    free(del_vports);
    free(del_meters);
    return error;
}

/* One attempt at bringing the device back.  Returns 0 (the reset is over)
 * or an error with what failed in 'why'; '*loudp' says whether the
 * failure is one the user must know of (the daemon refused the handshake,
 * re-programming failed) rather than one expected while the daemon comes
 * back (nobody listens yet, the daemon still has the old session). */
static int
reset_attempt(struct remote_dev *d, char *why, size_t size, bool *loudp)
{
    struct esw_rw_hello hello = { .abi = esw_rproto_abi() }, hello_reply;
    struct rconn c = { .sock = -1 };
    struct reset_report rep;
    struct esw_rw_dev_open *o = NULL;
    struct esw_rstats *stats = NULL;
    size_t stats_size = 0;
    struct esw_rct *ct_table = NULL;
    size_t ct_table_size = 0;
    int fds[ESW_RPROTO_MAX_FDS];
    long long int start = remote_now_ms();
    struct esw_caps caps;
    int error, result;

    memset(&rep, 0, sizeof rep);
    *loudp = false;
    error = remote_connect_daemon(d->path, &c.sock);
    if (error) {
        snprintf(why, size, "connect: %s", strerror(error));
        return error;
    }

    memset(&hello_reply, 0, sizeof hello_reply);
    error = rconn_call(&c, ESW_ROP_HELLO, &hello, sizeof hello, &hello_reply,
                       sizeof hello_reply, NULL, NULL, NULL, &result);
    if (error == EPROTO || (!error && (result
                                       || hello_reply.abi != hello.abi))) {
        *loudp = true;
        snprintf(why, size, "ovs-eswitchd at %s refused the handshake (it "
                 "speaks another protocol version than %d or was built "
                 "with other structures)", d->path, ESW_RPROTO_VERSION);
        error = EPROTO;
        goto out;
    } else if (error) {
        reset_fail(error, 0, NULL, why, size, "handshake");
        goto out;
    }

    o = calloc(1, sizeof *o);
    if (!o) {
        error = reset_fail(ENOMEM, 0, NULL, why, size, "open");
        goto out;
    }
    snprintf(o->name, sizeof o->name, "%s", d->up.name);
    o->cfg = d->cfg;
    o->has_emu = d->has_emu;
    o->emu = d->emu;
    error = rconn_call(&c, ESW_ROP_DEV_OPEN, o, sizeof *o, &caps,
                       sizeof caps, NULL, NULL, fds, &result);
    free(o);
    if (error || result) {
        if (!error) {
            remote_close_fds(fds);
        }
        /* EBUSY: the daemon did not see the old connection go yet. */
        *loudp = error == EPROTO || (!error && result != EBUSY);
        error = reset_fail(error, result, NULL, why, size, "open");
        goto out;
    }
    if (memcmp(&caps, &d->up.caps, sizeof caps)) {
        remote_close_fds(fds);
        *loudp = true;
        error = reset_fail(0, EINVAL, "other capabilities than before", why,
                           size, "open");
        goto out;
    }
    error = remote_map_stats(fds, caps.max_vports, &stats, &stats_size);
    if (!error) {
        error = remote_ct_map(&c, &caps, &ct_table, &ct_table_size);
    }
    if (error) {
        *loudp = true;
        reset_fail(error, 0, NULL, why, size, "counters");
        goto out;
    }

    rep.vport_added = calloc(caps.max_vports ? caps.max_vports : 1,
                             sizeof *rep.vport_added);
    error = (rep.vport_added
             ? reset_program(d, &c, &rep, why, size)
             : reset_fail(ENOMEM, 0, NULL, why, size, "re-programming"));
    if (!error) {
        error = reset_finish(d, &c, stats, stats_size, ct_table,
                             ct_table_size, &rep, why, size);
    }
    if (error) {
        *loudp = error != ECANCELED;
        if (rep.created) {
            /* Nothing half-configured stays: the next attempt starts over
             * with a new device. */
            rconn_call(&c, ESW_ROP_DEV_CLOSE, NULL, 0, NULL, 0, NULL, NULL,
                       NULL, &result);
        }
        goto out;
    }
    stats = NULL;               /* The device's now. */
    ct_table = NULL;

    if (rep.created) {
        esw_log(ESW_LOG_INFO, "%s: ovs-eswitchd back after %lld ms: device "
                "re-created, %zu vports, %zu meters, %zu rules, %zu "
                "connections re-programmed in %lld ms, representors up",
                d->up.name, remote_now_ms() - d->lost_at, rep.added_vports,
                rep.added_meters, rep.added_rules, rep.added_cts,
                remote_now_ms() - start);
    } else {
        esw_log(ESW_LOG_INFO, "%s: ovs-eswitchd back after %lld ms: device "
                "taken over as the daemon kept it (%zu vports, %zu rules, "
                "%zu connections), %zu vports, %zu meters, %zu rules, %zu "
                "connections re-programmed and %zu rules, %zu connections "
                "removed in %lld ms, representors up", d->up.name,
                remote_now_ms() - d->lost_at, rep.n_vports, rep.n_rules,
                rep.n_cts, rep.added_vports, rep.added_meters,
                rep.added_rules, rep.added_cts, rep.removed_rules,
                rep.removed_cts, remote_now_ms() - start);
    }

out:
    free(rep.vport_added);
    if (stats) {
        munmap(stats, stats_size);
    }
    if (ct_table) {
        munmap(ct_table, ct_table_size);
    }
    if (c.sock >= 0) {
        close(c.sock);
    }
    return error;
}

/* The device's thread: while the device runs, waits for its connection to
 * hang up (the daemon went away: the reset begins at once, before any
 * call notices); during a reset, tries to bring the device back, with a
 * bounded exponential backoff. */
void *
remote_thread(void *d_)
{
    struct remote_dev *d = d_;
    int backoff = ESW_REMOTE_BACKOFF_MIN_MS;
    long long int next_try = 0;
    char logged[256] = "";      /* The failure last logged at WARN. */
    unsigned int attempts = 0;

    while (!atomic_load(&d->closing)) {
        int state = remote_state(d);
        struct pollfd pfd[2] = {
            { .fd = d->wake_fd, .events = POLLIN },
            { .fd = d->conn.sock, .events = POLLRDHUP },
        };
        nfds_t n = 1;
        int timeout = -1;

        if (state == REMOTE_RUNNING) {
            n = 2;
            backoff = ESW_REMOTE_BACKOFF_MIN_MS;
            next_try = 0;
            logged[0] = '\0';
            attempts = 0;
        } else if (state == REMOTE_RESET && !esw_leaving_devices()) {
            long long int now = remote_now_ms();

            if (!next_try) {
                next_try = now + ESW_REMOTE_BACKOFF_MIN_MS;
            }
            timeout = next_try > now ? next_try - now : 0;
        }
        if (poll(pfd, n, timeout) < 0 && errno != EINTR) {
            timeout = ESW_REMOTE_BACKOFF_MAX_MS;      /* Never spin. */
            poll(NULL, 0, timeout);
        }
        if (pfd[0].revents & POLLIN) {
            uint64_t value;

            if (read(d->wake_fd, &value, sizeof value) < 0) {
                /* EAGAIN: cleared meanwhile. */
            }
        }
        if (atomic_load(&d->closing)) {
            break;
        }
        if (state == REMOTE_RUNNING) {
            if (pfd[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
                socklen_t len = sizeof(int);
                int error = 0;

                getsockopt(d->conn.sock, SOL_SOCKET, SO_ERROR, &error, &len);
                pthread_mutex_lock(&d->conn_mutex);
                remote_conn_lost(d, error);
                pthread_mutex_unlock(&d->conn_mutex);
            }
        } else if (state == REMOTE_RESET && !esw_leaving_devices()
                   && remote_state(d) == REMOTE_RESET
                   && remote_now_ms() >= next_try) {
            char why[256];
            bool loud;

            attempts++;
            if (!reset_attempt(d, why, sizeof why, &loud)) {
                continue;
            }
            if (loud && strcmp(why, logged)) {
                esw_log(ESW_LOG_WARN, "%s: %s: device still reset, trying "
                        "again (at most once a second)", d->up.name, why);
                snprintf(logged, sizeof logged, "%s", why);
            }
            esw_log(ESW_LOG_DBG, "%s: reset attempt %u failed (%s): next in "
                    "%d ms", d->up.name, attempts, why, backoff);
            next_try = remote_now_ms() + backoff;
            backoff = (backoff * 2 < ESW_REMOTE_BACKOFF_MAX_MS
                       ? backoff * 2 : ESW_REMOTE_BACKOFF_MAX_MS);
        }
    }
    return NULL;
}
