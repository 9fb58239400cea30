/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The "remote" driver: a device hosted by the device daemon
 * (ovs-eswitchd), driven over its control socket (esw-remote-proto.h).
 *
 * Each device is one connection.  Calls are request/reply round trips,
 * except:
 *   - rule deletions, which cannot fail: sent without waiting, their
 *     replies read before the next call's (at most ESW_REMOTE_MAX_UNACKED
 *     in flight), so that a burst of deletions is pipelined;
 *   - rule additions that the driver can tell will succeed: the device
 *     accepts a rule when the vports it names exist, it is not full and
 *     no rule has the same key (esw_rule_key()) and priority (the caps
 *     are checked by the generic layer).  Every rule the device has is
 *     in the driver's list (the device may have dropped some: orphaned),
 *     so that when the record has the vports, the list holds fewer rules
 *     than the capacity and none with that key and priority, the device
 *     accepts the rule too: then RULE_ADD is sent without waiting, as a
 *     deletion (at most ESW_REMOTE_MAX_UNACKED_ADDS in flight), and the rule kept as esw_rule_spec_normalize() makes it
 *     (what the device returns).  Otherwise it is a round trip, and the
 *     device's own answer (EEXIST, ENOSPC, ENOENT...) is returned.  The
 *     daemon handles requests in order: the rule forwards before any
 *     later call on the device returns.  If the daemon nevertheless
 *     refuses a rule added without waiting (the device and the record
 *     disagree: a bug), this is logged (WARN, once per device) and the
 *     rule is orphaned (its counters stop, esw_rule_modify() fails with
 *     ENOENT, a reset does not re-add it), as if a vport it names had
 *     gone;
 *   - rule specs and the insertion-ordered list of handles (rule_foreach,
 *     rule_get_spec), kept here;
 *   - representor queues: shared-memory rings (esw-remote-ring.h) that
 *     the daemon's forwarding threads fill; the daemon passes each one's
 *     memfd and eventfd once (SCM_RIGHTS) and the driver maps it until
 *     the vport's queues change.  esw_rep_recv() is a copy out of shared
 *     memory, without a system call;
 *   - OVS's sends: esw_rep_send() copies the packet into the vport's send
 *     ring (shared memory too), waking the daemon only when it sleeps on
 *     it; the daemon sends what waits there before it handles this
 *     client's next request, so that sends and later calls keep their
 *     order.  A full ring falls back to a round trip;
 *   - vport counters: the daemon keeps them in shared memory, mapped at
 *     open; esw_vport_get_stats() reads them there, unless sends to that
 *     vport are still queued (then a round trip lets them through first).
 *
 * Device reset
 * ============
 *
 * The driver keeps a record of what it made of the device: the device's
 * configuration, every vport (its configuration with the MAC, MTU, link,
 * queues and host side as last set, its policy, the guest MAC last
 * accepted), the meters and the rules (ids and specs, in insertion order).
 * When the connection goes away (the daemon crashed or was killed: EOF,
 * ECONNRESET, EPIPE, or no reply within ESW_REMOTE_TIMEOUT_MS), the
 * device enters a *reset*, as a NIC whose firmware restarts:
 *   - queries answer from the record, with every link down, so that OVS
 *     sees its ports' carrier go down;
 *   - calls that change the device fail with EAGAIN (esw.h) and change
 *     nothing: a flow OVS offloads meanwhile stays in software;
 *     deletions (rules, vports, meters) are done in the record and
 *     applied to the device once it is back;
 *   - sends on a representor are dropped and counted on the vport as
 *     link-down drops (the link is down);
 *   - the device's thread (one per device, which otherwise only watches
 *     the connection for a hang-up) reconnects in the background, after
 *     ESW_REMOTE_BACKOFF_MIN_MS doubling up to ESW_REMOTE_BACKOFF_MAX_MS.
 * When the daemon answers again, the thread opens the device on a
 * connection of its own (no caller waits for it): a device the daemon
 * still has (its session was kept: the daemon did not restart) is taken
 * over as it is; a new one (the daemon restarted: the device is empty) is
 * re-created from the record, every vport with the number it had, then
 * the meters, then the rules in insertion order with their ids.  Either
 * way what the record has and the device lacks is added, and what the
 * device has and the record deleted is removed.  Only then does the new
 * connection replace the old one and the device leave the reset (links
 * up); a failure midway closes that connection (a device it created is
 * closed with it) and the whole reset is tried again later.  Counters
 * stay monotonic: a re-created device's counters start above the old
 * one's last values.  Logged once when the connection is lost (WARN) and
 * once when the device is back (INFO); each retry at DBG.
 *
 * A malformed reply (a live peer answering garbage) makes the device fail
 * every later call with ENODEV instead (ENOENT for the calls esw.h does
 * not let return ENODEV: nothing to receive, no descriptor).
 *
 * Lock order: 'rules_mutex', 'ct_mutex', 'conn_mutex', 'rings_mutex',
 * 'rec_mutex', 'ct_stats_mutex'. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* POLLRDHUP. */
#endif

#include "esw-remote-private.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

long long int
remote_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void
wake_thread(struct remote_dev *d)
{
    uint64_t one = 1;

    if (d->wake_fd >= 0 && write(d->wake_fd, &one, sizeof one) < 0) {
        /* EAGAIN: already signalled. */
    }
}

/* Connection. */

void
remote_close_fds(int fds[ESW_RPROTO_MAX_FDS])
{
    for (size_t i = 0; i < ESW_RPROTO_MAX_FDS; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

/* Why a connection went away, for the log. */
static const char *
lost_reason(int error)
{
    switch (error) {
    case 0:
    case EPIPE:
        return "connection closed";
    case ECONNRESET:
        return "connection reset";
    case ETIMEDOUT:
        return "no reply within 10 s";
    default:
        return strerror(error);
    }
}

static void rconn_forget_unacked(struct rconn *);

/* The daemon answered garbage: the device is gone for good.  With
 * 'conn_mutex' held. */
static void
conn_break(struct remote_dev *d)
{
    if (remote_state(d) != REMOTE_DEAD) {
        atomic_store(&d->state, REMOTE_DEAD);
        rconn_forget_unacked(&d->conn);
        shutdown(d->conn.sock, SHUT_RDWR);
        wake_thread(d);
    }
}

/* The connection went away ('error': how): the device enters a reset.
 * With 'conn_mutex' held. */
void
remote_conn_lost(struct remote_dev *d, int error)
{
    if (remote_state(d) == REMOTE_RUNNING) {
        atomic_store(&d->state, REMOTE_RESET);
        d->lost_at = remote_now_ms();
        rconn_forget_unacked(&d->conn);
        shutdown(d->conn.sock, SHUT_RDWR);
        esw_log(ESW_LOG_WARN, "%s: lost ovs-eswitchd at %s (%s): device "
                "reset, representors down, reconnecting", d->up.name,
                d->path, lost_reason(error));
        wake_thread(d);
    }
}

/* A round trip failed with 'fail': EPROTO (malformed) or an I/O error.
 * With 'conn_mutex' held.  Returns what the call returns: ENODEV or
 * EAGAIN. */
static int
conn_fail(struct remote_dev *d, int fail)
{
    if (fail == EPROTO) {
        conn_break(d);
    } else {
        remote_conn_lost(d, fail);
    }
    return remote_state(d) == REMOTE_RESET ? EAGAIN : ENODEV;
}

/* Reads one reply header and its payload (at most 'max' bytes, into
 * '*bufp', malloc'ed) for request 'op' 'seq'.  Returns 0, EPROTO on any
 * mismatch, or the I/O error. */
static int
rconn_read_reply(struct rconn *c, uint16_t op, uint32_t seq,
                 struct esw_rmsg_hdr *hdr, void **bufp, size_t max,
                 int *fdsp)
{
    int fds[ESW_RPROTO_MAX_FDS];
    void *buf = NULL;
    uint32_t n_fds;
    int error;

    *bufp = NULL;
    error = esw_rproto_recv_hdr(c->sock, hdr, fds, ESW_REMOTE_TIMEOUT_MS);
    if (error) {
        return error;
    }
    if (esw_rproto_check_hdr(hdr, true)
        || hdr->op != op || hdr->seq != seq || hdr->len > max) {
        error = EPROTO;
        goto error;
    }
    for (n_fds = 0; n_fds < ESW_RPROTO_MAX_FDS && fds[n_fds] >= 0; n_fds++) {
        continue;
    }
    if (n_fds != hdr->n_fds) {
        error = EPROTO;
        goto error;
    }
    if (hdr->len) {
        buf = malloc(hdr->len);
        if (!buf) {
            error = ENOMEM;
            goto error;
        }
        error = esw_rproto_recv_all(c->sock, buf, hdr->len,
                                    ESW_REMOTE_TIMEOUT_MS);
        if (error) {
            goto error;
        }
    }
    *bufp = buf;
    if (fdsp) {
        memcpy(fdsp, fds, sizeof fds);
    } else {
        remote_close_fds(fds);
    }
    return 0;

error:
    free(buf);
    remote_close_fds(fds);
    return error;
}

/* The daemon refused 'rule', added without waiting, with 'result'.  With
 * 'conn_mutex' held. */
static void
rule_add_refused(struct remote_dev *d, const struct rpending *p, int result,
                 const char *reason)
{
    esw_log(d->warned_add ? ESW_LOG_DBG : ESW_LOG_WARN,
            "%s: ovs-eswitchd refused rule %"PRIu64" added without waiting "
            "(%s: %s): the device disagrees with the driver's record, the "
            "rule is orphaned", d->up.name, p->id, strerror(result),
            reason);
    d->warned_add = true;
    if (p->rule) {
        pthread_mutex_lock(&d->rec_mutex);
        p->rule->gone = true;
        pthread_mutex_unlock(&d->rec_mutex);
    }
}

/* Reads the replies of the requests sent without waiting on 'c'. */
static int
rconn_drain_unacked(struct rconn *c)
{
    while (c->n_unacked) {
        uint32_t seq = c->seq - c->n_unacked;
        struct rpending *p = &c->unacked[seq % ESW_REMOTE_MAX_UNACKED];
        bool add = p->op == ESW_ROP_RULE_ADD;
        struct esw_rmsg_hdr hdr;
        void *buf;
        int error = rconn_read_reply(c, p->op, seq, &hdr, &buf,
                                     (add
                                      ? sizeof(struct esw_rw_rule_reply)
                                      : 0), NULL);

        if (error) {
            return error;
        }
        if (add) {
            struct esw_rw_rule_reply *w = buf;

            if (hdr.len != sizeof *w) {
                free(buf);
                return EPROTO;
            }
            w->err.reason[sizeof w->err.reason - 1] = '\0';
            c->n_unacked_adds--;
            if (p->rule) {
                p->rule->add_pending = false;
            }
            if (hdr.result) {
                rule_add_refused(c->owner, p, hdr.result, w->err.reason);
            }
        }
        free(buf);
        c->n_unacked--;
    }
    return 0;
}

/* Forgets the replies still to read on 'c' (it went away). */
static void
rconn_forget_unacked(struct rconn *c)
{
    for (; c->n_unacked; c->n_unacked--) {
        uint32_t seq = c->seq - c->n_unacked;
        struct rpending *p = &c->unacked[seq % ESW_REMOTE_MAX_UNACKED];

        if (p->op == ESW_ROP_RULE_ADD && p->rule) {
            p->rule->add_pending = false;
        }
    }
    c->n_unacked_adds = 0;
}

static int
rconn_send(struct rconn *c, uint16_t op, const void *req, size_t len)
{
    struct esw_rmsg_hdr hdr = {
        .magic = ESW_RPROTO_MAGIC, .version = ESW_RPROTO_VERSION,
        .op = op, .len = len, .seq = c->seq,
    };
    int error = esw_rproto_send(c->sock, &hdr, req, NULL,
                                ESW_REMOTE_TIMEOUT_MS);

    if (!error) {
        c->seq++;
    }
    return error;
}

/* Sends 'op' 'req' about rule (or connection) 'id' on 'c' without waiting
 * for its reply, read before the next call's.  'rule': RULE_ADD's, else
 * NULL. */
int
rconn_send_unacked(struct rconn *c, uint16_t op, const void *req,
                   size_t len, uint64_t id, struct esw_rule *rule)
{
    int error = 0;

    if (c->n_unacked >= ESW_REMOTE_MAX_UNACKED
        || (rule && c->n_unacked_adds >= ESW_REMOTE_MAX_UNACKED_ADDS)) {
        error = rconn_drain_unacked(c);
    }
    if (!error) {
        error = rconn_send(c, op, req, len);
    }
    if (!error) {
        struct rpending *p = &c->unacked[(c->seq - 1)
                                         % ESW_REMOTE_MAX_UNACKED];

        p->op = op;
        p->id = id;
        p->rule = rule;
        c->n_unacked++;
        if (rule) {
            rule->add_pending = true;
            c->n_unacked_adds++;
        }
    }
    return error;
}

/* One round trip on 'c'.  The reply's payload must be exactly
 * 'reply_len' bytes (copied into 'reply') unless 'varp' is nonnull: then
 * up to 'reply_len' bytes, returned malloc'ed in '*varp' with their length
 * in '*var_lenp'.  'fds' (ESW_RPROTO_MAX_FDS) receives the descriptors
 * passed (the rest -1).  Returns 0 and the daemon's result in '*resultp',
 * or how the round trip failed: EPROTO (a malformed reply) or an I/O
 * error (the connection went away). */
int
rconn_call(struct rconn *c, uint16_t op, const void *req, size_t req_len,
           void *reply, size_t reply_len, void **varp, size_t *var_lenp,
           int *fds, int *resultp)
{
    struct esw_rmsg_hdr hdr;
    void *buf;
    int error;

    error = rconn_drain_unacked(c);
    if (!error) {
        error = rconn_send(c, op, req, req_len);
    }
    if (!error) {
        error = rconn_read_reply(c, op, c->seq - 1, &hdr, &buf, reply_len,
                                 fds);
    }
    if (error) {
        return error;
    }
    if (varp) {
        *varp = buf;
        *var_lenp = hdr.len;
    } else {
        if (hdr.len != reply_len) {
            free(buf);
            if (fds) {
                remote_close_fds(fds);
            }
            return EPROTO;
        }
        if (reply_len) {
            memcpy(reply, buf, reply_len);
        }
        free(buf);
    }
    *resultp = hdr.result;
    return 0;
}

/* Once the process leaves its devices (esw_leave_devices()): whether
 * request 'op' is still sent (a query, or traffic), and if not, what it
 * returns. */
static bool
op_is_sent_when_leaving(uint16_t op, int *resultp)
{
    switch ((enum esw_rop) op) {
    case ESW_ROP_VPORT_ADD:
    case ESW_ROP_RULE_ADD:
    case ESW_ROP_RULE_MODIFY:
    case ESW_ROP_METER_SET:
    case ESW_ROP_CT_ADD:
    case ESW_ROP_CT_MODIFY:
        *resultp = ESHUTDOWN;
        return false;
    case ESW_ROP_DEV_CLOSE:
    case ESW_ROP_VPORT_DEL:
    case ESW_ROP_VPORT_SET_MAC:
    case ESW_ROP_VPORT_SET_MTU:
    case ESW_ROP_VPORT_SET_ADMIN:
    case ESW_ROP_VPORT_SET_POLICY:
    case ESW_ROP_VPORT_GUEST_SET_MAC:
    case ESW_ROP_VPORT_GUEST_RESET:
    case ESW_ROP_VPORT_SET_REP_QUEUES:
    case ESW_ROP_RULE_DEL:
    case ESW_ROP_METER_DEL:
    case ESW_ROP_CT_DEL:
    case ESW_ROP_CT_FLUSH:
        *resultp = 0;
        return false;
    default:
        return true;
    }
}

/* One round trip on the device's connection, with 'conn_mutex' held: as
 * rconn_call(), but returns the daemon's result, EAGAIN (the device is
 * being reset, or the connection just went away: then it is) or ENODEV
 * (a malformed reply, now or before). */
static int
call__(struct remote_dev *d, uint16_t op, const void *req, size_t req_len,
       void *reply, size_t reply_len, void **varp, size_t *var_lenp,
       int *fds)
{
    int error, result;

    for (size_t i = 0; fds && i < ESW_RPROTO_MAX_FDS; i++) {
        fds[i] = -1;
    }
    if (varp) {
        *varp = NULL;
        *var_lenp = 0;
    }
    if (esw_leaving_devices() && !op_is_sent_when_leaving(op, &error)) {
        if (reply && !varp) {
            memset(reply, 0, reply_len);
        }
        return error;
    }
    switch (remote_state(d)) {
    case REMOTE_RESET:
        return EAGAIN;
    case REMOTE_DEAD:
        return ENODEV;
    }
    error = rconn_call(&d->conn, op, req, req_len, reply, reply_len, varp,
                       var_lenp, fds, &result);
    return error ? conn_fail(d, error) : result;
}

static int
call(struct remote_dev *d, uint16_t op, const void *req, size_t req_len,
     void *reply, size_t reply_len)
{
    int error;

    pthread_mutex_lock(&d->conn_mutex);
    error = call__(d, op, req, req_len, reply, reply_len, NULL, NULL, NULL);
    pthread_mutex_unlock(&d->conn_mutex);
    return error;
}

/* Fills in 'err' for a call that failed with 'error' without an answer
 * from the daemon (the device is being reset, or gone).  Returns 'error',
 * or 0 if the daemon answered. */
static int
state_error(struct remote_dev *d, int error, struct esw_error *err)
{
    int state = remote_state(d);

    if (error == EAGAIN && state == REMOTE_RESET) {
        return esw_error_set(err, EAGAIN, ESW_ERROR_UNSPECIFIED, -1,
                             "device being reset (ovs-eswitchd went away): "
                             "try again once it is back");
    } else if (error == ENODEV && state == REMOTE_DEAD) {
        return esw_error_set(err, ENODEV, ESW_ERROR_UNSPECIFIED, -1,
                             "%s: device daemon connection lost",
                             d->up.name);
    }
    return 0;
}

/* A call whose reply is a 'struct esw_error': copies it into 'err'. */
static int
call_err(struct remote_dev *d, uint16_t op, const void *req, size_t len,
         struct esw_error *err)
{
    struct esw_error e;
    int error;

    memset(&e, 0, sizeof e);
    error = call(d, op, req, len, &e, sizeof e);
    if (state_error(d, error, err)) {
        return error;
    }
    if (esw_rproto_check_string(e.reason, sizeof e.reason)) {
        e.reason[sizeof e.reason - 1] = '\0';
    }
    if (err) {
        *err = e;
        err->error = error;
    }
    return error;
}

/* For esw-remote-ct.c. */

int
remote_call__(struct remote_dev *d, uint16_t op, const void *req,
              size_t req_len, void *reply, size_t reply_len, void **varp,
              size_t *var_lenp, int *fds)
{
    return call__(d, op, req, req_len, reply, reply_len, varp, var_lenp,
                  fds);
}

int
remote_call(struct remote_dev *d, uint16_t op, const void *req,
            size_t req_len, void *reply, size_t reply_len)
{
    return call(d, op, req, req_len, reply, reply_len);
}

int
remote_conn_fail(struct remote_dev *d, int fail)
{
    return conn_fail(d, fail);
}

void
remote_conn_break(struct remote_dev *d)
{
    conn_break(d);
}

int
remote_state_error(struct remote_dev *d, int error, struct esw_error *err)
{
    return state_error(d, error, err);
}

/* Connects to the daemon at 'path'.  0 or the errno value (ENOENT,
 * ECONNREFUSED: nobody listens). */
int
remote_connect_daemon(const char *path, int *sockp)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int sock;

    if (strlen(path) >= sizeof sun.sun_path) {
        return ENAMETOOLONG;
    }
    strcpy(sun.sun_path, path);
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return errno;
    }
    if (connect(sock, (struct sockaddr *) &sun, sizeof sun) < 0) {
        int error = errno;

        close(sock);
        return error;
    }
    *sockp = sock;
    return 0;
}

/* Maps the counters whose memfd the daemon passed in 'fds[0]' (closes
 * 'fds') for a device of 'max_vports'.  EPROTO if they are not what they
 * should be. */
int
remote_map_stats(int fds[ESW_RPROTO_MAX_FDS], uint32_t max_vports,
          struct esw_rstats **statsp, size_t *sizep)
{
    struct stat st;
    void *map;
    int error = EPROTO;

    if (fds[0] >= 0 && fds[1] < 0 && !fstat(fds[0], &st)
        && (uint64_t) st.st_size <= SIZE_MAX) {
        map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fds[0], 0);
        if (map == MAP_FAILED) {
            error = ENOMEM;
        } else if (esw_rstats_check(map, st.st_size, max_vports)) {
            *statsp = map;
            *sizep = st.st_size;
            error = 0;
        } else {
            munmap(map, st.st_size);
        }
    }
    remote_close_fds(fds);
    return error;
}

/* The record. */

void
rvport_free(struct rvport *rv)
{
    if (rv) {
        free(rv->policy);
        free(rv);
    }
}

/* The record of 'vport', with 'rec_mutex' held: NULL if there is none (or
 * it was deleted). */
struct rvport *
rvport_get__(const struct remote_dev *d, uint32_t vport)
{
    struct rvport *rv = (vport < d->up.caps.max_vports ? d->vports[vport]
                         : NULL);

    return rv && !rv->deleted ? rv : NULL;
}

/* The function's name, as esw.h names it. */
static void
vport_name(const struct esw_vport_config *cfg, char name[ESW_NAME_MAX])
{
    switch (cfg->kind) {
    case ESW_VPORT_UPLINK:
        snprintf(name, ESW_NAME_MAX, "p%"PRIu32, cfg->pf);
        break;
    case ESW_VPORT_PF:
        snprintf(name, ESW_NAME_MAX, "pf%"PRIu32"hpf", cfg->pf);
        break;
    case ESW_VPORT_VF:
        snprintf(name, ESW_NAME_MAX, "pf%"PRIu32"vf%"PRIu32, cfg->pf,
                 cfg->fn);
        break;
    case ESW_VPORT_SF:
    default:
        snprintf(name, ESW_NAME_MAX, "pf%"PRIu32"sf%"PRIu32, cfg->pf,
                 cfg->fn);
        break;
    }
}

/* A new record for vport 'vport' added with 'cfg'. */
static struct rvport *
rvport_create(uint32_t vport, const struct esw_vport_config *cfg)
{
    struct rvport *rv = calloc(1, sizeof *rv);

    if (rv) {
        rv->cfg = *cfg;
        rv->cfg.vport = vport;
        rv->cfg.io = NULL;
        if (cfg->io) {
            rv->has_io = true;
            rv->io = *cfg->io;
        }
        rv->info.vport = vport;
        rv->info.kind = cfg->kind;
        rv->info.pf = cfg->pf;
        rv->info.fn = cfg->fn;
        vport_name(cfg, rv->info.name);
        rv->info.mac = rv->info.effective_mac = cfg->mac;
        rv->info.mtu = cfg->mtu ? cfg->mtu : 1500;
        rv->info.admin_up = !cfg->admin_down;
        rv->info.n_rep_queues = cfg->n_rep_queues ? cfg->n_rep_queues : 1;
        rv->info.rep_queue_depth = cfg->rep_queue_depth;
        rv->info.rep_fd = -1;
    }
    return rv;
}

/* Stores 'rv' as the record of its vport, replacing any. */
static void
rvport_insert(struct remote_dev *d, struct rvport *rv)
{
    uint32_t vport = rv->cfg.vport;

    pthread_mutex_lock(&d->rec_mutex);
    rv->seq = d->vport_seq++;
    rvport_free(d->vports[vport]);
    d->vports[vport] = rv;
    pthread_mutex_unlock(&d->rec_mutex);
}

static struct rmeter *
rmeter_find__(const struct remote_dev *d, uint32_t id)
{
    for (size_t i = 0; i < d->n_meters; i++) {
        if (d->meters[i].id == id) {
            return &d->meters[i];
        }
    }
    return NULL;
}

/* Records meter 'id' with 'cfg', with 'rec_mutex' held.  ENOMEM. */
static int
rmeter_set__(struct remote_dev *d, uint32_t id,
             const struct esw_meter_config *cfg)
{
    struct rmeter *m = rmeter_find__(d, id);
    size_t i;

    if (m) {
        m->cfg = *cfg;
        m->deleted = false;
        return 0;
    }
    if (d->n_meters >= d->allocated_meters) {
        size_t n = d->allocated_meters ? 2 * d->allocated_meters : 8;
        struct rmeter *meters = realloc(d->meters, n * sizeof *meters);

        if (!meters) {
            return ENOMEM;
        }
        d->meters = meters;
        d->allocated_meters = n;
    }
    for (i = d->n_meters; i > 0 && d->meters[i - 1].id > id; i--) {
        d->meters[i] = d->meters[i - 1];
    }
    d->meters[i] = (struct rmeter) { .id = id, .cfg = *cfg };
    d->n_meters++;
    return 0;
}

void
rmeter_remove__(struct remote_dev *d, struct rmeter *m)
{
    size_t i = m - d->meters;

    memmove(&d->meters[i], &d->meters[i + 1],
            (d->n_meters - i - 1) * sizeof *d->meters);
    d->n_meters--;
}

/* Rules. */

static struct esw_rule **
rule_bucket(struct remote_dev *d, uint64_t id)
{
    return &d->rule_hash[(id * 0x9e3779b97f4a7c15ULL) >> 52];
}

struct esw_rule *
remote_rule_find__(struct remote_dev *d, uint64_t id)
{
    for (struct esw_rule *r = *rule_bucket(d, id); r; r = r->hash_next) {
        if (r->id == id) {
            return r;
        }
    }
    return NULL;
}

/* The hash of 'spec''s key and priority. */
static uint32_t
rule_key_hash(const struct esw_rule_spec *spec)
{
    struct esw_key match, mask;
    uint64_t h = 0xcbf29ce484222325ULL ^ spec->priority;

    esw_rule_key(spec, &match, &mask);
    for (size_t i = 0; i < ESW_KEY_WORDS; i++) {
        h = (h ^ match.w[i]) * 0x100000001b3ULL;
        h = (h ^ mask.w[i]) * 0x100000001b3ULL;
    }
    return h ^ (h >> 32);
}

static struct esw_rule **
key_bucket(struct remote_dev *d, uint32_t hash)
{
    return &d->key_hash[(hash * 0x9e3779b97f4a7c15ULL) >> 52];
}

/* Whether a rule in 'd' has the key and priority of 'spec' (its hash
 * 'hash'), with 'rules_mutex' held. */
static bool
rule_key_taken__(struct remote_dev *d, const struct esw_rule_spec *spec,
                 uint32_t hash)
{
    struct esw_key match, mask;

    esw_rule_key(spec, &match, &mask);
    for (struct esw_rule *r = *key_bucket(d, hash); r; r = r->key_next) {
        struct esw_key r_match, r_mask;

        if (r->key_hash != hash || r->spec.priority != spec->priority) {
            continue;
        }
        esw_rule_key(&r->spec, &r_match, &r_mask);
        if (!memcmp(r_match.w, match.w, sizeof match.w)
            && !memcmp(r_mask.w, mask.w, sizeof mask.w)) {
            return true;
        }
    }
    return false;
}

static void
rule_key_insert__(struct remote_dev *d, struct esw_rule *rule)
{
    rule->key_hash = rule_key_hash(&rule->spec);
    rule->key_next = *key_bucket(d, rule->key_hash);
    *key_bucket(d, rule->key_hash) = rule;
    d->n_keyed++;
}

static void
rule_key_remove__(struct remote_dev *d, struct esw_rule *rule)
{
    struct esw_rule **bucket;

    for (bucket = key_bucket(d, rule->key_hash); *bucket;
         bucket = &(*bucket)->key_next) {
        if (*bucket == rule) {
            *bucket = rule->key_next;
            d->n_keyed--;
            return;
        }
    }
}

/* Appends 'rule' to 'd''s list and hashes, with 'rules_mutex' held. */
static void
rule_insert__(struct remote_dev *d, struct esw_rule *rule)
{
    rule->prev = d->tail;
    rule->next = NULL;
    if (d->tail) {
        d->tail->next = rule;
    } else {
        d->head = rule;
    }
    d->tail = rule;
    rule->hash_next = *rule_bucket(d, rule->id);
    *rule_bucket(d, rule->id) = rule;
    rule_key_insert__(d, rule);
}

/* Takes 'rule' out of the hashes, with 'rules_mutex' held. */
static void
rule_unhash__(struct remote_dev *d, struct esw_rule *rule)
{
    struct esw_rule **bucket;

    rule_key_remove__(d, rule);

    for (bucket = rule_bucket(d, rule->id); *bucket;
         bucket = &(*bucket)->hash_next) {
        if (*bucket == rule) {
            *bucket = rule->hash_next;
            return;
        }
    }
}

/* Takes 'rule' out of the list, with 'rules_mutex' held. */
void
remote_rule_unlist__(struct remote_dev *d, struct esw_rule *rule)
{
    if (rule->prev) {
        rule->prev->next = rule->next;
    } else {
        d->head = rule->next;
    }
    if (rule->next) {
        rule->next->prev = rule->prev;
    } else {
        d->tail = rule->prev;
    }
}

/* After opening a device that a previous client left (its rules come with
 * it): takes its rules into the local view, with their ids, in insertion
 * order, and chooses new ids above theirs. */
static int
load_rules(struct remote_dev *d)
{
    uint32_t start = 0;

    for (;;) {
        struct esw_rw_vport v = { .arg = start,
                                  .arg2 = ESW_RPROTO_MAX_RULES };
        const struct esw_rw_rule *r;
        struct esw_rw_rules w;
        size_t len;
        void *buf;
        int error;

        pthread_mutex_lock(&d->conn_mutex);
        error = call__(d, ESW_ROP_RULE_LIST, &v, sizeof v, NULL,
                       sizeof w + ESW_RPROTO_MAX_RULES * sizeof *r,
                       &buf, &len, NULL);
        pthread_mutex_unlock(&d->conn_mutex);
        if (error || len < sizeof w) {
            free(buf);
            return error ? error : ENODEV;
        }
        memcpy(&w, buf, sizeof w);
        if (w.n > ESW_RPROTO_MAX_RULES
            || len != sizeof w + (size_t) w.n * sizeof *r) {
            free(buf);
            return ENODEV;
        }
        r = (const struct esw_rw_rule *) ((uint8_t *) buf + sizeof w);
        for (uint32_t i = 0; i < w.n; i++) {
            struct esw_rule *rule;

            if (!r[i].id || remote_rule_find__(d, r[i].id)
                || esw_rproto_check_spec(&r[i].spec)) {
                free(buf);
                return ENODEV;
            }
            rule = calloc(1, sizeof *rule);
            if (!rule) {
                free(buf);
                return ENOMEM;
            }
            rule->id = r[i].id;
            rule->spec = r[i].spec;
            rule_insert__(d, rule);
            if (rule->id >= d->next_id) {
                d->next_id = rule->id + 1;
            }
        }
        free(buf);
        start += w.n;
        if (!w.n || start >= w.total) {
            return 0;
        }
    }
}

static size_t call_list(struct remote_dev *, uint16_t op, uint32_t ids[],
                        size_t max);
static int remote_vport_get_info(struct esw_dev *, uint32_t vport,
                                 struct esw_vport_info *);
static int remote_vport_get_host(struct esw_dev *, uint32_t vport,
                                 struct esw_host_info *);
static int remote_vport_get_policy(struct esw_dev *, uint32_t vport,
                                   struct esw_policy_config *,
                                   bool *has_policy);
static int remote_meter_get_config(struct esw_dev *, uint32_t id,
                                   struct esw_meter_config *);

/* After opening a device that a previous client left: makes the record of
 * its vports and meters from what the device says, so that it can be
 * re-created. */
static int
load_record(struct remote_dev *d)
{
    uint32_t max = d->up.caps.max_vports;
    uint32_t *ids = calloc(max ? max : 1, sizeof *ids);
    size_t n;

    if (!ids) {
        return ENOMEM;
    }
    n = call_list(d, ESW_ROP_VPORT_LIST, ids, max);
    for (size_t i = 0; i < n && i < max; i++) {
        struct esw_policy_config *policy = malloc(sizeof *policy);
        struct esw_vport_config cfg;
        struct esw_vport_info info;
        struct esw_host_info host;
        struct esw_io_config io;
        bool has_policy = false;
        struct rvport *rv;

        if (!policy) {
            free(ids);
            return ENOMEM;
        }
        if (remote_vport_get_info(&d->up, ids[i], &info)) {
            free(policy);
            continue;
        }
        memset(&cfg, 0, sizeof cfg);
        cfg.kind = info.kind;
        cfg.pf = info.pf;
        cfg.fn = info.fn;
        cfg.mac = info.mac;
        cfg.mtu = info.mtu;
        cfg.admin_down = !info.admin_up;
        cfg.rep_queue_depth = info.rep_queue_depth;
        cfg.n_rep_queues = info.n_rep_queues;
        memset(&host, 0, sizeof host);
        if (!remote_vport_get_host(&d->up, ids[i], &host)) {
            memset(&io, 0, sizeof io);
            io.type = host.type;
            memcpy(io.ifname, host.ifname, sizeof io.ifname);
            memcpy(io.path, host.path, sizeof io.path);
            io.client = host.client;
            io.virtio_features = host.virtio_offered;
            io.n_queues = host.virtio_queues;
            cfg.io = &io;
        }
        rv = rvport_create(ids[i], &cfg);
        if (!rv) {
            free(policy);
            free(ids);
            return ENOMEM;
        }
        rv->info = info;
        if (!remote_vport_get_policy(&d->up, ids[i], policy, &has_policy)
            && has_policy) {
            rv->policy = policy;
        } else {
            free(policy);
        }
        if (!esw_eth_addr_is_zero(&info.guest_mac)
            && !info.guest_mac_refused) {
            rv->has_guest_mac = true;
            rv->guest_mac = info.guest_mac;
        }
        rvport_insert(d, rv);
    }
    free(ids);

    max = d->up.caps.max_meters;
    ids = calloc(max ? max : 1, sizeof *ids);
    if (!ids) {
        return ENOMEM;
    }
    n = call_list(d, ESW_ROP_METER_LIST, ids, max);
    for (size_t i = 0; i < n && i < max; i++) {
        struct esw_meter_config cfg;

        if (!remote_meter_get_config(&d->up, ids[i], &cfg)) {
            pthread_mutex_lock(&d->rec_mutex);
            rmeter_set__(d, ids[i], &cfg);
            pthread_mutex_unlock(&d->rec_mutex);
        }
    }
    free(ids);
    return remote_state(d) == REMOTE_RUNNING ? 0 : ENODEV;
}

/* Representor rings: unmapping. */

static void
rep_ring_unmap(struct rep_ring *ring)
{
    if (ring) {
        munmap(ring->r, ring->size);
        close(ring->efd);
        free(ring);
    }
}

/* Unmaps 'vport''s queues, with 'rings_mutex' held. */
void
remote_unmap_rings__(struct remote_dev *d, uint32_t vport)
{
    if (vport < d->up.caps.max_vports) {
        rep_ring_unmap(d->send_rings[vport]);
        d->send_rings[vport] = NULL;
        for (size_t q = 0; q < ESW_MAX_REP_QUEUES; q++) {
            rep_ring_unmap(d->rings[vport][q]);
            d->rings[vport][q] = NULL;
        }
    }
}

/* Unmaps 'vport''s queues. */
static void
forget_rep_fds(struct remote_dev *d, uint32_t vport)
{
    pthread_mutex_lock(&d->rings_mutex);
    remote_unmap_rings__(d, vport);
    pthread_mutex_unlock(&d->rings_mutex);
}

/* Devices. */

static void
remote_free(struct remote_dev *d)
{
    struct esw_rule *rule, *next;

    for (uint32_t v = 0; d->rings && d->send_rings
                         && v < d->up.caps.max_vports; v++) {
        forget_rep_fds(d, v);
    }
    free(d->rings);
    free(d->send_rings);
    if (d->stats) {
        munmap(d->stats, d->stats_size);
    }
    for (rule = d->head; rule; rule = next) {
        next = rule->next;
        free(rule);
    }
    remote_ct_free(d);
    for (uint32_t v = 0; d->vports && v < d->up.caps.max_vports; v++) {
        rvport_free(d->vports[v]);
    }
    free(d->vports);
    free(d->meters);
    if (d->conn.sock >= 0) {
        close(d->conn.sock);
    }
    if (d->wake_fd >= 0) {
        close(d->wake_fd);
    }
    pthread_mutex_destroy(&d->conn_mutex);
    pthread_mutex_destroy(&d->rings_mutex);
    pthread_mutex_destroy(&d->rules_mutex);
    pthread_mutex_destroy(&d->rec_mutex);
    pthread_mutex_destroy(&d->ct_mutex);
    pthread_mutex_destroy(&d->ct_stats_mutex);
    free(d);
}

static int
remote_open(const char *name, const struct esw_dev_config *cfg,
            struct esw_dev **devp)
{
    struct esw_rw_hello hello = { .abi = esw_rproto_abi() }, hello_reply;
    int fds[ESW_RPROTO_MAX_FDS];
    struct esw_rw_dev_open o;
    struct remote_dev *d;
    uint32_t max;
    int error;

    d = calloc(1, sizeof *d);
    if (!d) {
        return ENOMEM;
    }
    pthread_mutex_init(&d->conn_mutex, NULL);
    pthread_mutex_init(&d->rings_mutex, NULL);
    pthread_mutex_init(&d->rules_mutex, NULL);
    pthread_mutex_init(&d->rec_mutex, NULL);
    pthread_mutex_init(&d->ct_mutex, NULL);
    pthread_mutex_init(&d->ct_stats_mutex, NULL);
    d->next_id = 1;
    d->next_ct_id = 1;
    d->conn.sock = -1;
    d->conn.owner = d;
    d->wake_fd = -1;
    snprintf(d->up.name, sizeof d->up.name, "%s", name);
    d->cfg = *cfg;
    d->cfg.emu = NULL;
    if (cfg->emu) {
        d->has_emu = true;
        d->emu = *cfg->emu;
    }
    if (esw_rproto_default_socket(d->path, sizeof d->path)
        || remote_connect_daemon(d->path, &d->conn.sock)) {
        error = ENODEV;
        goto error;
    }

    error = call(d, ESW_ROP_HELLO, &hello, sizeof hello, &hello_reply,
                 sizeof hello_reply);
    if (error || hello_reply.abi != hello.abi) {
        error = ENODEV;
        goto error;
    }

    memset(&o, 0, sizeof o);
    snprintf(o.name, sizeof o.name, "%s", name);
    o.cfg = d->cfg;
    o.has_emu = d->has_emu;
    o.emu = d->emu;
    pthread_mutex_lock(&d->conn_mutex);
    error = call__(d, ESW_ROP_DEV_OPEN, &o, sizeof o, &d->up.caps,
                   sizeof d->up.caps, NULL, NULL, fds);
    pthread_mutex_unlock(&d->conn_mutex);
    if (error == EAGAIN) {
        error = ENODEV;         /* Gone before it was ever opened. */
    }
    if (error) {
        remote_close_fds(fds);
        goto error;
    }
    max = d->up.caps.max_vports;
    if (max > 65536) {
        remote_close_fds(fds);
        error = ENODEV;
        goto error;
    }
    error = remote_map_stats(fds, max, &d->stats, &d->stats_size);
    if (error) {
        error = error == ENOMEM ? ENOMEM : ENODEV;
        goto error;
    }
    d->rings = calloc(max ? max : 1, sizeof *d->rings);
    d->send_rings = calloc(max ? max : 1, sizeof *d->send_rings);
    d->vports = calloc(max ? max : 1, sizeof *d->vports);
    d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!d->rings || !d->send_rings || !d->vports || d->wake_fd < 0) {
        error = d->wake_fd < 0 ? EMFILE : ENOMEM;
        goto error;
    }
    error = load_rules(d);
    if (!error) {
        error = load_record(d);
    }
    if (!error) {
        error = remote_ct_open(d);
    }
    if (error) {
        error = error == ENOMEM ? ENOMEM : ENODEV;
        goto error;
    }
    error = pthread_create(&d->thread, NULL, remote_thread, d);
    if (error) {
        error = ENOMEM;
        goto error;
    }
    d->has_thread = true;
    *devp = &d->up;
    return 0;

error:
    remote_free(d);
    return error;
}

static void
remote_close(struct esw_dev *dev)
{
    struct remote_dev *d = remote_dev_cast(dev);

    atomic_store(&d->closing, true);
    wake_thread(d);
    if (d->has_thread) {
        pthread_join(d->thread, NULL);
    }
    if (remote_state(d) == REMOTE_RUNNING) {
        call(d, ESW_ROP_DEV_CLOSE, NULL, 0, NULL, 0);
    }
    remote_free(d);
}

/* Vports. */

static int
remote_vport_add(struct esw_dev *dev, const struct esw_vport_config *cfg,
                 struct esw_error *err, uint32_t *vportp)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport_add a;
    struct esw_rw_error_u32 r;
    struct rvport *rv = rvport_create(0, cfg);
    int error;

    if (!rv) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    memset(&a, 0, sizeof a);
    memset(&r, 0, sizeof r);
    a.cfg = *cfg;
    a.cfg.io = NULL;
    if (cfg->io) {
        a.has_io = 1;
        a.io = *cfg->io;
    }
    error = call(d, ESW_ROP_VPORT_ADD, &a, sizeof a, &r, sizeof r);
    if (state_error(d, error, err)) {
        rvport_free(rv);
        return error;
    }
    r.err.reason[sizeof r.err.reason - 1] = '\0';
    if (err) {
        *err = r.err;
        err->error = error;
    }
    if (!error && r.value >= d->up.caps.max_vports) {
        pthread_mutex_lock(&d->conn_mutex);
        conn_break(d);
        pthread_mutex_unlock(&d->conn_mutex);
        error = esw_error_set(err, ENODEV, ESW_ERROR_UNSPECIFIED, -1,
                              "%s: malformed reply from the device daemon",
                              dev->name);
    }
    if (error) {
        rvport_free(rv);
        return error;
    }
    *vportp = r.value;
    forget_rep_fds(d, r.value);
    rv->cfg.vport = rv->info.vport = r.value;
    rvport_insert(d, rv);
    return 0;
}

static int
remote_vport_del(struct esw_dev *dev, uint32_t vport)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport };
    int error;

    pthread_mutex_lock(&d->conn_mutex);
    error = call__(d, ESW_ROP_VPORT_DEL, &v, sizeof v, NULL, 0, NULL, NULL,
                   NULL);
    if (!error || error == EAGAIN) {
        /* During a reset the record keeps it, marked, until the device is
         * back (then it is deleted there). */
        pthread_mutex_lock(&d->rings_mutex);
        remote_unmap_rings__(d, vport);
        pthread_mutex_lock(&d->rec_mutex);
        if (!rvport_get__(d, vport)) {
            error = error ? ENOENT : 0;
        } else if (error) {
            d->vports[vport]->deleted = true;
            error = 0;
        } else {
            rvport_free(d->vports[vport]);
            d->vports[vport] = NULL;
        }
        pthread_mutex_unlock(&d->rec_mutex);
        pthread_mutex_unlock(&d->rings_mutex);
    }
    pthread_mutex_unlock(&d->conn_mutex);
    return error;
}

/* Returns queue 'queue' of 'vport', mapping it the first time (with the
 * descriptors the daemon passes), or NULL; with 'conn_mutex' held. */
static struct rep_ring *map_ring__(struct remote_dev *, uint16_t op,
                                   uint32_t vport, uint32_t queue);

/* Returns '*slot', mapping the ring with 'op' first if it is NULL; with
 * 'conn_mutex' held (which serializes the mappings), not 'rings_mutex'. */
static struct rep_ring *
ring_get__(struct remote_dev *d, struct rep_ring **slot, uint16_t op,
           uint32_t vport, uint32_t queue)
{
    struct rep_ring *ring;

    pthread_mutex_lock(&d->rings_mutex);
    ring = *slot;
    pthread_mutex_unlock(&d->rings_mutex);
    if (!ring && remote_state(d) == REMOTE_RUNNING) {
        ring = map_ring__(d, op, vport, queue);
        pthread_mutex_lock(&d->rings_mutex);
        *slot = ring;
        pthread_mutex_unlock(&d->rings_mutex);
    }
    return ring;
}

static struct rep_ring *
rep_ring__(struct remote_dev *d, uint32_t vport, uint32_t queue)
{
    if (vport >= d->up.caps.max_vports || queue >= ESW_MAX_REP_QUEUES) {
        return NULL;
    }
    return ring_get__(d, &d->rings[vport][queue], ESW_ROP_REP_GET_FD, vport,
                      queue);
}

/* Returns 'vport''s send ring, mapping it the first time, or NULL; with
 * 'conn_mutex' held. */
static struct rep_ring *
send_ring__(struct remote_dev *d, uint32_t vport)
{
    if (vport >= d->up.caps.max_vports) {
        return NULL;
    }
    return ring_get__(d, &d->send_rings[vport], ESW_ROP_REP_SEND_RING, vport,
                      0);
}

/* Makes sure 'vport''s send ring (if 'send') or representor queue 'queue'
 * is mapped, taking 'conn_mutex' for the round trip the first time; called
 * without any lock.  Not during a reset. */
static void
ring_map(struct remote_dev *d, bool send, uint32_t vport, uint32_t queue)
{
    if (remote_state(d) != REMOTE_RUNNING) {
        return;
    }
    pthread_mutex_lock(&d->conn_mutex);
    if (send) {
        send_ring__(d, vport);
    } else {
        rep_ring__(d, vport, queue);
    }
    pthread_mutex_unlock(&d->conn_mutex);
}

/* Asks the daemon for a ring with 'op' and maps it. */
static struct rep_ring *
map_ring__(struct remote_dev *d, uint16_t op, uint32_t vport, uint32_t queue)
{
    struct esw_rw_vport v = { .vport = vport, .arg = queue };
    struct rep_ring *ring;
    int fds[ESW_RPROTO_MAX_FDS];
    struct stat st;
    void *map;

    if (call__(d, op, &v, sizeof v, NULL, 0, NULL, NULL, fds)) {
        remote_close_fds(fds);
        return NULL;
    }
    if (fds[0] < 0 || fds[1] < 0 || fstat(fds[1], &st) < 0
        || (uint64_t) st.st_size > SIZE_MAX) {
        goto malformed;
    }
    map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1],
               0);
    if (map == MAP_FAILED) {
        remote_close_fds(fds);
        return NULL;
    }
    if (!esw_rring_check(map, st.st_size)) {
        munmap(map, st.st_size);
        goto malformed;
    }
    ring = calloc(1, sizeof *ring);
    if (!ring) {
        munmap(map, st.st_size);
        remote_close_fds(fds);
        return NULL;
    }
    ring->r = map;
    ring->size = st.st_size;
    ring->efd = fds[0];
    close(fds[1]);              /* The mapping stays. */
    return ring;

malformed:
    remote_close_fds(fds);
    conn_break(d);
    return NULL;
}

static int
rep_get_fd__(struct remote_dev *d, uint32_t vport, uint32_t queue)
{
    struct rep_ring *ring = rep_ring__(d, vport, queue);

    return ring ? ring->efd : -1;
}

/* Answers from the record of 'vport' during a reset: link down. */
static int
record_vport_info(struct remote_dev *d, uint32_t vport,
                  struct esw_vport_info *info)
{
    const struct rvport *rv;
    int error = 0;

    pthread_mutex_lock(&d->rec_mutex);
    rv = rvport_get__(d, vport);
    if (rv) {
        *info = rv->info;
        info->oper_up = false;
        info->rep_fd = -1;
    } else {
        memset(info, 0, sizeof *info);
        info->rep_fd = -1;
        error = ENOENT;
    }
    pthread_mutex_unlock(&d->rec_mutex);
    return error;
}

static int
remote_vport_get_info(struct esw_dev *dev, uint32_t vport,
                      struct esw_vport_info *info)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport };
    int error;

    pthread_mutex_lock(&d->conn_mutex);
    error = call__(d, ESW_ROP_VPORT_GET_INFO, &v, sizeof v, info,
                   sizeof *info, NULL, NULL, NULL);
    if (!error && esw_rproto_check_vport_info(info)) {
        conn_break(d);
        error = ENODEV;
    }
    if (error == EAGAIN) {
        pthread_mutex_unlock(&d->conn_mutex);
        return record_vport_info(d, vport, info);
    }
    if (error) {
        memset(info, 0, sizeof *info);
    }
    info->rep_fd = error || info->rep_fd < 0 ? -1 : rep_get_fd__(d, vport, 0);
    if (!error) {
        struct rvport *rv;

        pthread_mutex_lock(&d->rec_mutex);
        rv = rvport_get__(d, vport);
        if (rv) {
            rv->info = *info;
        }
        pthread_mutex_unlock(&d->rec_mutex);
    }
    pthread_mutex_unlock(&d->conn_mutex);
    return error;
}

static int
remote_vport_lookup(struct esw_dev *dev, const char *name, uint32_t *vportp)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_name n;
    uint32_t vport;
    int error;

    memset(&n, 0, sizeof n);
    if (strlen(name) >= sizeof n.name) {
        return ENOENT;
    }
    strcpy(n.name, name);
    error = call(d, ESW_ROP_VPORT_LOOKUP, &n, sizeof n, &vport,
                 sizeof vport);
    if (error == EAGAIN) {
        error = ENOENT;
        pthread_mutex_lock(&d->rec_mutex);
        for (uint32_t v = 0; v < d->up.caps.max_vports; v++) {
            const struct rvport *rv = rvport_get__(d, v);

            if (rv && !strcmp(rv->info.name, name)) {
                vport = v;
                error = 0;
                break;
            }
        }
        pthread_mutex_unlock(&d->rec_mutex);
    }
    if (!error) {
        *vportp = vport;
    }
    return error;
}

/* Lists of numbers: VPORT_LIST and METER_LIST.  During a reset, from the
 * record. */
static size_t
call_list(struct remote_dev *d, uint16_t op, uint32_t ids[], size_t max)
{
    struct esw_rw_vport v = { .arg = max > UINT32_MAX ? UINT32_MAX : max };
    struct esw_rw_list l;
    size_t len, n_ids;
    void *buf;
    int error;

    pthread_mutex_lock(&d->conn_mutex);
    error = call__(d, op, &v, sizeof v, NULL,
                   sizeof l + (size_t) v.arg * sizeof *ids, &buf, &len,
                   NULL);
    pthread_mutex_unlock(&d->conn_mutex);
    if (error == EAGAIN) {
        size_t n = 0;

        pthread_mutex_lock(&d->rec_mutex);
        if (op == ESW_ROP_VPORT_LIST) {
            for (uint32_t vport = 0; vport < d->up.caps.max_vports;
                 vport++) {
                if (rvport_get__(d, vport)) {
                    if (n < max) {
                        ids[n] = vport;
                    }
                    n++;
                }
            }
        } else {
            for (size_t i = 0; i < d->n_meters; i++) {
                if (!d->meters[i].deleted) {
                    if (n < max) {
                        ids[n] = d->meters[i].id;
                    }
                    n++;
                }
            }
        }
        pthread_mutex_unlock(&d->rec_mutex);
        return n;
    }
    if (error || len < sizeof l) {
        free(buf);
        return 0;
    }
    memcpy(&l, buf, sizeof l);
    n_ids = (len - sizeof l) / sizeof *ids;
    if (n_ids > max || (len - sizeof l) % sizeof *ids
        || n_ids != (l.n < max ? l.n : max)) {
        free(buf);
        pthread_mutex_lock(&d->conn_mutex);
        conn_break(d);
        pthread_mutex_unlock(&d->conn_mutex);
        return 0;
    }
    if (n_ids) {
        memcpy(ids, (uint8_t *) buf + sizeof l, n_ids * sizeof *ids);
    }
    free(buf);
    return l.n;
}

static size_t
remote_vport_list(struct esw_dev *dev, uint32_t vports[], size_t max)
{
    return call_list(remote_dev_cast(dev), ESW_ROP_VPORT_LIST, vports, max);
}

/* During a reset, a call that would not change the device succeeds (OVS
 * applies a port's configuration again whenever its database changes).
 * record_get() copies the record of 'vport' without its policy: false if
 * there is none; record_policy_is() says whether its policy is 'cfg'. */
static bool
record_get(struct remote_dev *d, uint32_t vport, struct rvport *copy)
{
    const struct rvport *rv;

    pthread_mutex_lock(&d->rec_mutex);
    rv = rvport_get__(d, vport);
    if (rv) {
        *copy = *rv;
        copy->policy = NULL;
    }
    pthread_mutex_unlock(&d->rec_mutex);
    return rv != NULL;
}

static bool
record_policy_is(struct remote_dev *d, uint32_t vport,
                 const struct esw_policy_config *cfg)
{
    const struct rvport *rv;
    bool same;

    pthread_mutex_lock(&d->rec_mutex);
    rv = rvport_get__(d, vport);
    same = rv && (cfg ? rv->policy && !memcmp(cfg, rv->policy, sizeof *cfg)
                  : !rv->policy);
    pthread_mutex_unlock(&d->rec_mutex);
    return same;
}

/* Records what a successful call changed in the record of 'vport'. */
#define RECORD(D, VPORT, RV, STMT)                          \
    do {                                                    \
        struct rvport *RV;                                  \
                                                            \
        pthread_mutex_lock(&(D)->rec_mutex);                \
        RV = rvport_get__(D, VPORT);                        \
        if (RV) {                                           \
            STMT;                                           \
        }                                                   \
        pthread_mutex_unlock(&(D)->rec_mutex);              \
    } while (0)

static int
remote_vport_set_mac(struct esw_dev *dev, uint32_t vport,
                     const struct esw_eth_addr *mac)
{
    struct rvport rec;
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_mac m = { .vport = vport, .mac = *mac };
    int error = call(d, ESW_ROP_VPORT_SET_MAC, &m, sizeof m, NULL, 0);

    if (error == EAGAIN
        && record_get(d, vport, &rec)
        && !memcmp(&rec.cfg.mac, mac, sizeof *mac)) {
        error = 0;
    } else if (!error) {
        RECORD(d, vport, rv, rv->cfg.mac = *mac);
    }
    return error;
}

static int
remote_vport_set_mtu(struct esw_dev *dev, uint32_t vport, uint32_t mtu)
{
    struct rvport rec;
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport, .arg = mtu };
    int error = call(d, ESW_ROP_VPORT_SET_MTU, &v, sizeof v, NULL, 0);

    if (error == EAGAIN && record_get(d, vport, &rec) && rec.info.mtu == mtu) {
        error = 0;
    } else if (!error) {
        RECORD(d, vport, rv, rv->cfg.mtu = mtu);
    }
    return error;
}

static int
remote_vport_set_admin_state(struct esw_dev *dev, uint32_t vport, bool up)
{
    struct rvport rec;
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport, .arg = up };
    int error = call(d, ESW_ROP_VPORT_SET_ADMIN, &v, sizeof v, NULL, 0);

    if (error == EAGAIN
        && record_get(d, vport, &rec) && rec.cfg.admin_down == !up) {
        error = 0;
    } else if (!error) {
        RECORD(d, vport, rv, rv->cfg.admin_down = !up);
    }
    return error;
}

static int
remote_vport_set_policy(struct esw_dev *dev, uint32_t vport,
                        const struct esw_policy_config *cfg,
                        struct esw_error *err)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_policy *p = calloc(1, sizeof *p);
    struct esw_policy_config *copy = cfg ? malloc(sizeof *copy) : NULL;
    int error;

    if (!p || (cfg && !copy)) {
        free(p);
        free(copy);
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    p->vport = vport;
    if (cfg) {
        p->has_policy = 1;
        p->cfg = *cfg;
        *copy = *cfg;
    }
    error = call_err(d, ESW_ROP_VPORT_SET_POLICY, p, sizeof *p, err);
    free(p);
    if (error == EAGAIN
        && record_policy_is(d, vport, cfg)) {
        esw_error_clear(err);
        error = 0;
    } else if (!error) {
        RECORD(d, vport, rv, { free(rv->policy); rv->policy = copy;
                               copy = NULL; });
    }
    free(copy);
    return error;
}

static int
remote_vport_guest_set_mac(struct esw_dev *dev, uint32_t vport,
                           const struct esw_eth_addr *mac,
                           struct esw_error *err)
{
    struct rvport rec;
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_mac m = { .vport = vport, .mac = *mac };
    int error = call_err(d, ESW_ROP_VPORT_GUEST_SET_MAC, &m, sizeof m, err);

    if (error == EAGAIN
        && record_get(d, vport, &rec) && rec.has_guest_mac
        && !memcmp(&rec.guest_mac, mac, sizeof *mac)) {
        esw_error_clear(err);
        error = 0;
    } else if (!error) {
        RECORD(d, vport, rv, { rv->has_guest_mac = true;
                               rv->guest_mac = *mac; });
    }
    return error;
}

/* Adds what 'vport''s earlier devices counted and the sends dropped during
 * resets to 'stats'. */
static void
add_base_stats(struct remote_dev *d, uint32_t vport,
               struct esw_vport_stats *stats)
{
    pthread_mutex_lock(&d->rec_mutex);
    if (vport < d->up.caps.max_vports && d->vports[vport]) {
        const struct rvport *rv = d->vports[vport];
        const struct esw_vport_stats *b = &rv->base;

        stats->rx_packets += b->rx_packets;
        stats->rx_bytes += b->rx_bytes;
        stats->tx_packets += b->tx_packets;
        stats->tx_bytes += b->tx_bytes;
        stats->rep_rx_packets += b->rep_rx_packets;
        stats->rep_tx_packets += b->rep_tx_packets;
        stats->guest_mac_refused += b->guest_mac_refused;
        for (size_t i = 0; i < ESW_N_DROP_REASONS; i++) {
            stats->drops[i] += b->drops[i];
        }
        stats->drops[ESW_DROP_LINK_DOWN] += rv->reset_drops;
    }
    pthread_mutex_unlock(&d->rec_mutex);
}

static int
remote_vport_get_stats(struct esw_dev *dev, uint32_t vport,
                       struct esw_vport_stats *stats)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport };
    const struct esw_rstats_vport *c;
    bool sends_queued, exists;
    int error;

    if (vport >= d->up.caps.max_vports) {
        return ENOENT;
    }
    pthread_mutex_lock(&d->rings_mutex);
    sends_queued = (d->send_rings[vport]
                    && !esw_rring_is_empty(d->send_rings[vport]->r));
    if (sends_queued && remote_state(d) == REMOTE_RUNNING) {
        /* The daemon sends them before it answers. */
        pthread_mutex_unlock(&d->rings_mutex);
        error = call(d, ESW_ROP_VPORT_GET_STATS, &v, sizeof v, stats,
                     sizeof *stats);
        if (!error) {
            add_base_stats(d, vport, stats);
            return 0;
        } else if (error != EAGAIN) {
            memset(stats, 0, sizeof *stats);
            return error;
        }
        pthread_mutex_lock(&d->rings_mutex);
    }

    /* During a reset, the last counters of the device that went away: its
     * shared memory stays mapped until the device is back. */
    if (remote_state(d) == REMOTE_RESET) {
        pthread_mutex_lock(&d->rec_mutex);
        exists = rvport_get__(d, vport) != NULL;
        pthread_mutex_unlock(&d->rec_mutex);
    } else {
        exists = atomic_load_explicit(&d->stats->vports[vport].exists,
                                      memory_order_acquire);
    }
    if (!exists) {
        pthread_mutex_unlock(&d->rings_mutex);
        return ENOENT;
    }
    c = &d->stats->vports[vport];
    stats->rx_packets = atomic_load_explicit(&c->rx_packets,
                                             memory_order_relaxed);
    stats->rx_bytes = atomic_load_explicit(&c->rx_bytes,
                                           memory_order_relaxed);
    stats->tx_packets = atomic_load_explicit(&c->tx_packets,
                                             memory_order_relaxed);
    stats->tx_bytes = atomic_load_explicit(&c->tx_bytes,
                                           memory_order_relaxed);
    stats->rep_rx_packets = atomic_load_explicit(&c->rep_rx_packets,
                                                 memory_order_relaxed);
    stats->rep_tx_packets = atomic_load_explicit(&c->rep_tx_packets,
                                                 memory_order_relaxed);
    stats->guest_mac_refused = atomic_load_explicit(&c->guest_mac_refused,
                                                    memory_order_relaxed);
    for (size_t i = 0; i < ESW_N_DROP_REASONS; i++) {
        stats->drops[i] = atomic_load_explicit(&c->drops[i],
                                               memory_order_relaxed);
    }
    pthread_mutex_unlock(&d->rings_mutex);
    add_base_stats(d, vport, stats);
    return 0;
}

static int
remote_vport_get_policy(struct esw_dev *dev, uint32_t vport,
                        struct esw_policy_config *cfg, bool *has_policy)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport };
    struct esw_rw_policy *p = malloc(sizeof *p);
    int error;

    if (!p) {
        return ENOMEM;
    }
    error = call(d, ESW_ROP_VPORT_GET_POLICY, &v, sizeof v, p, sizeof *p);
    if (!error
        && (((uint8_t *) p)[offsetof(struct esw_rw_policy, has_policy)] > 1
            || esw_rproto_check_policy((uint8_t *) p
                                       + offsetof(struct esw_rw_policy,
                                                  cfg)))) {
        pthread_mutex_lock(&d->conn_mutex);
        conn_break(d);
        pthread_mutex_unlock(&d->conn_mutex);
        error = ENODEV;
    }
    if (!error && p->has_policy) {
        *has_policy = true;
        *cfg = p->cfg;
    }
    free(p);
    if (error == EAGAIN) {
        const struct rvport *rv;

        error = ENOENT;
        pthread_mutex_lock(&d->rec_mutex);
        rv = rvport_get__(d, vport);
        if (rv) {
            error = 0;
            if (rv->policy) {
                *has_policy = true;
                *cfg = *rv->policy;
            }
        }
        pthread_mutex_unlock(&d->rec_mutex);
    }
    return error;
}

static int
remote_vport_guest_reset(struct esw_dev *dev, uint32_t vport)
{
    struct rvport rec;
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport };
    int error = call(d, ESW_ROP_VPORT_GUEST_RESET, &v, sizeof v, NULL, 0);

    if (error == EAGAIN && record_get(d, vport, &rec) && !rec.has_guest_mac) {
        error = 0;
    } else if (!error) {
        RECORD(d, vport, rv, rv->has_guest_mac = false);
    }
    return error;
}

/* Rules. */

static int
remote_rule_validate(struct esw_dev *dev, const struct esw_rule_spec *spec,
                     struct esw_error *err)
{
    struct esw_rw_rule *r = calloc(1, sizeof *r);
    int error;

    if (!r) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    r->spec = *spec;
    error = call_err(remote_dev_cast(dev), ESW_ROP_RULE_VALIDATE, r,
                     sizeof *r, err);
    free(r);
    return error;
}

/* RULE_ADD or RULE_MODIFY of rule 'id' with 'spec': stores the spec as
 * the device keeps it in '*kept' on success. */
static int
call_rule(struct remote_dev *d, uint16_t op, uint64_t id,
          const struct esw_rule_spec *spec, struct esw_error *err,
          struct esw_rule_spec *kept)
{
    struct esw_rw_rule *r;
    struct esw_rw_rule_reply *w;
    int error;

    if (state_error(d, remote_state(d) == REMOTE_RESET ? EAGAIN : 0, err)) {
        return EAGAIN;          /* Before copying anything. */
    }
    r = calloc(1, sizeof *r);
    w = calloc(1, sizeof *w);
    if (!r || !w) {
        free(r);
        free(w);
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    r->id = id;
    r->spec = *spec;
    error = call(d, op, r, sizeof *r, w, sizeof *w);
    free(r);
    if (state_error(d, error, err)) {
        free(w);
        return error;
    }
    if (!error && esw_rproto_check_spec(&w->spec)) {
        pthread_mutex_lock(&d->conn_mutex);
        conn_break(d);
        pthread_mutex_unlock(&d->conn_mutex);
        free(w);
        return esw_error_set(err, ENODEV, ESW_ERROR_UNSPECIFIED, -1,
                             "%s: malformed reply from the device daemon",
                             d->up.name);
    }
    w->err.reason[sizeof w->err.reason - 1] = '\0';
    if (err) {
        *err = w->err;
        err->error = error;
    }
    if (!error) {
        *kept = w->spec;
    }
    free(w);
    return error;
}

/* esw_rule_check_vports()'s callback: with 'rec_mutex' held. */
static bool
rvport_exists(const void *d, uint32_t vport)
{
    return rvport_get__(d, vport) != NULL;
}

/* Whether the device accepts 'spec' (normalized), with 'rules_mutex' held:
 * see the top of this file. */
static bool
rule_fits__(struct remote_dev *d, const struct esw_rule_spec *spec)
{
    bool fits;

    if (esw_leaving_devices() || d->n_keyed >= d->up.caps.max_rules
        || rule_key_taken__(d, spec, rule_key_hash(spec))) {
        return false;
    }
    pthread_mutex_lock(&d->rec_mutex);
    fits = !esw_rule_check_vports(spec, rvport_exists, d, NULL);
    pthread_mutex_unlock(&d->rec_mutex);
    return fits;
}

static int
remote_rule_add(struct esw_dev *dev, const struct esw_rule_spec *spec,
                struct esw_error *err, struct esw_rule **rulep)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_rule *r;
    struct esw_rule *rule;
    int error;

    if (state_error(d, remote_state(d) == REMOTE_RESET ? EAGAIN : 0, err)) {
        return EAGAIN;
    }
    rule = calloc(1, sizeof *rule);
    r = calloc(1, sizeof *r);
    if (!rule || !r) {
        free(rule);
        free(r);
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }

    /* 'rules_mutex' throughout, so that no other addition comes between
     * the check and the request. */
    pthread_mutex_lock(&d->rules_mutex);
    rule->id = d->next_id++;
    esw_rule_spec_normalize(spec, &rule->spec);
    if (rule_fits__(d, &rule->spec)) {
        /* Pipelined: the reply is read before the next call's. */
        r->id = rule->id;
        r->spec = rule->spec;
        pthread_mutex_lock(&d->conn_mutex);
        switch (remote_state(d)) {
        case REMOTE_RUNNING:
            error = rconn_send_unacked(&d->conn, ESW_ROP_RULE_ADD, r,
                                       sizeof *r, rule->id, rule);
            if (error) {
                error = conn_fail(d, error);
            }
            break;
        case REMOTE_RESET:
            error = EAGAIN;
            break;
        case REMOTE_DEAD:
        default:
            error = ENODEV;
            break;
        }
        if (!error) {
            rule_insert__(d, rule);
        }
        pthread_mutex_unlock(&d->conn_mutex);
        state_error(d, error, err);
    } else {
        error = call_rule(d, ESW_ROP_RULE_ADD, rule->id, spec, err,
                          &rule->spec);
        if (!error) {
            rule_insert__(d, rule);
        }
    }
    pthread_mutex_unlock(&d->rules_mutex);
    free(r);

    if (error) {
        free(rule);
        return error;
    }
    *rulep = rule;
    return 0;
}

static int
remote_rule_modify(struct esw_dev *dev, struct esw_rule *rule,
                   const struct esw_rule_spec *spec, struct esw_error *err)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rule_spec kept;
    bool gone;
    int error;


    pthread_mutex_lock(&d->rec_mutex);
    gone = rule->gone;
    pthread_mutex_unlock(&d->rec_mutex);
    if (gone) {
        return esw_error_set(err, ENOENT, ESW_ERROR_RULE, -1,
                             "rule is orphaned");
    }
    error = call_rule(d, ESW_ROP_RULE_MODIFY, rule->id, spec, err, &kept);
    if (!error) {
        pthread_mutex_lock(&d->rules_mutex);
        rule_key_remove__(d, rule);
        rule->spec = kept;
        rule_key_insert__(d, rule);
        pthread_mutex_unlock(&d->rules_mutex);
    }
    return error;
}

static void
remote_rule_del(struct esw_dev *dev, struct esw_rule *rule)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_rule_id r = { .id = rule->id };

    pthread_mutex_lock(&d->rules_mutex);
    pthread_mutex_lock(&d->conn_mutex);
    rule_unhash__(d, rule);
    if (remote_state(d) == REMOTE_RESET) {
        /* Stays in the list, marked, until the device is back (then it is
         * deleted there too). */
        rule->deleted = true;
        pthread_mutex_unlock(&d->conn_mutex);
        pthread_mutex_unlock(&d->rules_mutex);
        return;
    }
    remote_rule_unlist__(d, rule);
    if (rule->add_pending) {
        /* Its RULE_ADD's reply, still to read, no longer names it. */
        for (unsigned int i = 0; i < ESW_REMOTE_MAX_UNACKED; i++) {
            if (d->conn.unacked[i].rule == rule) {
                d->conn.unacked[i].rule = NULL;
            }
        }
    }

    /* Pipelined: the reply is read before the next call's. */
    if (esw_leaving_devices() || rule->gone
        || remote_state(d) != REMOTE_RUNNING) {
        /* The device keeps the rule, or does not have it. */
    } else {
        int error = rconn_send_unacked(&d->conn, ESW_ROP_RULE_DEL, &r,
                                       sizeof r, rule->id, NULL);

        if (error) {
            /* If the daemon comes back with the device, it removes what
             * the record does not have. */
            conn_fail(d, error);
        }
    }
    pthread_mutex_unlock(&d->conn_mutex);
    pthread_mutex_unlock(&d->rules_mutex);
    free(rule);
}

static int
remote_rule_get_stats(struct esw_dev *dev, const struct esw_rule *rule_,
                      struct esw_rule_stats *stats)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rule *rule = (struct esw_rule *) rule_;
    struct esw_rw_rule_id r = { .id = rule->id };
    bool gone;
    int error;

    /* Not 'rules_mutex': esw_rule_foreach()'s callback may call this. */
    pthread_mutex_lock(&d->rec_mutex);
    gone = rule->gone;
    pthread_mutex_unlock(&d->rec_mutex);
    error = (gone ? EAGAIN
             : call(d, ESW_ROP_RULE_GET_STATS, &r, sizeof r, stats,
                    sizeof *stats));

    if (!error) {
        static const size_t bools[] = {
            offsetof(struct esw_rule_stats, orphaned)
        };

        if (esw_rproto_check_bools(stats, bools, 1)) {
            pthread_mutex_lock(&d->conn_mutex);
            conn_break(d);
            pthread_mutex_unlock(&d->conn_mutex);
            error = ENODEV;
        }
    }
    pthread_mutex_lock(&d->rec_mutex);
    if (!error) {
        stats->packets += rule->base.packets;
        stats->bytes += rule->base.bytes;
        if (rule->base.used_ms > stats->used_ms) {
            stats->used_ms = rule->base.used_ms;
        }
        rule->seen = *stats;
    } else if (error == EAGAIN) {
        /* Being reset, or no longer in the device: as last seen. */
        *stats = rule->seen;
        stats->orphaned |= rule->gone;
        error = 0;
    } else {
        memset(stats, 0, sizeof *stats);
    }
    pthread_mutex_unlock(&d->rec_mutex);
    return error;
}

static void
remote_rule_get_spec(struct esw_dev *dev __attribute__((unused)),
                     const struct esw_rule *rule, struct esw_rule_spec *spec)
{
    *spec = rule->spec;
}

static size_t
remote_rule_count(struct esw_dev *dev)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_count c;
    int error = call(d, ESW_ROP_RULE_COUNT, NULL, 0, &c, sizeof c);

    if (error == EAGAIN) {
        c.n = 0;
        pthread_mutex_lock(&d->rules_mutex);
        for (struct esw_rule *r = d->head; r; r = r->next) {
            c.n += !r->deleted && !r->gone;
        }
        pthread_mutex_unlock(&d->rules_mutex);
        return c.n;
    }
    return error ? 0 : c.n;
}

static void
remote_rule_foreach(struct esw_dev *dev,
                    bool (*cb)(struct esw_rule *, void *), void *aux)
{
    struct remote_dev *d = remote_dev_cast(dev);

    pthread_mutex_lock(&d->rules_mutex);
    for (struct esw_rule *r = d->head; r; r = r->next) {
        if (!r->deleted && !cb(r, aux)) {
            break;
        }
    }
    pthread_mutex_unlock(&d->rules_mutex);
}

/* Packets. */

/* Builds a packet request: 'vport', then 'pkt'.  NULL on ENOMEM. */
static void *
pkt_request(uint32_t vport, const struct esw_pkt *pkt, size_t *lenp)
{
    struct esw_rw_pkt_req r = { .vport = vport };
    struct esw_rw_pkt w = { .len = pkt->len, .in_vport = pkt->in_vport,
                            .mark = pkt->mark };
    uint8_t *buf = malloc(sizeof r + sizeof w + pkt->len);

    if (buf) {
        memcpy(buf, &r, sizeof r);
        memcpy(buf + sizeof r, &w, sizeof w);
        memcpy(buf + sizeof r + sizeof w, pkt->data, pkt->len);
        *lenp = sizeof r + sizeof w + pkt->len;
    }
    return buf;
}

/* Sends 'pkt' (taken) with 'op'. */
static int
send_pkt(struct remote_dev *d, uint16_t op, uint32_t vport,
         struct esw_pkt *pkt)
{
    size_t len;
    void *req = pkt->len <= ESW_FRAME_MAX ? pkt_request(vport, pkt, &len)
                                          : NULL;
    int error;

    bool too_long = pkt->len > ESW_FRAME_MAX;

    esw_pkt_free(pkt);
    if (!req) {
        return too_long ? EINVAL : ENOMEM;
    }
    error = call(d, op, req, len, NULL, 0);
    free(req);
    return error;
}

/* Decodes a packet at 'p' ('len' bytes left) into a new packet, stored in
 * '*pktp'; returns the bytes used, or 0 if malformed. */
static size_t
decode_pkt(const uint8_t *p, size_t len, struct esw_pkt **pktp)
{
    struct esw_rw_pkt w;

    *pktp = NULL;
    if (len < sizeof w) {
        return 0;
    }
    memcpy(&w, p, sizeof w);
    if (w.len > ESW_FRAME_MAX || w.len > len - sizeof w) {
        return 0;
    }
    *pktp = esw_pkt_from_data(p + sizeof w, w.len);
    if (!*pktp) {
        return 0;
    }
    (*pktp)->in_vport = w.in_vport;
    (*pktp)->mark = w.mark;
    return sizeof w + w.len;
}

/* Reads up to 'max' packets with 'op'. */
static size_t
recv_pkts(struct remote_dev *d, uint16_t op, uint32_t vport, uint32_t queue,
          struct esw_pkt *pkts[], size_t max)
{
    struct esw_rw_vport v = {
        .vport = vport, .arg = queue,
        .arg2 = max < ESW_RPROTO_MAX_BATCH ? max : ESW_RPROTO_MAX_BATCH,
    };
    struct esw_rw_pkts h;
    size_t len, n = 0, off;
    uint8_t *buf;
    int error;

    pthread_mutex_lock(&d->conn_mutex);
    error = call__(d, op, &v, sizeof v, NULL,
                   sizeof h + v.arg2 * (sizeof(struct esw_rw_pkt)
                                        + ESW_FRAME_MAX),
                   (void **) &buf, &len, NULL);
    if (error || len < sizeof h) {
        free(buf);
        pthread_mutex_unlock(&d->conn_mutex);
        return 0;
    }
    memcpy(&h, buf, sizeof h);
    off = sizeof h;
    if (h.n > v.arg2) {
        goto malformed;
    }
    for (n = 0; n < h.n; n++) {
        size_t used = decode_pkt(buf + off, len - off, &pkts[n]);

        if (!used) {
            goto malformed;
        }
        off += used;
    }
    if (off != len) {
        goto malformed;
    }
    free(buf);
    pthread_mutex_unlock(&d->conn_mutex);
    return n;

malformed:
    for (size_t i = 0; i < n; i++) {
        esw_pkt_free(pkts[i]);
    }
    free(buf);
    conn_break(d);
    pthread_mutex_unlock(&d->conn_mutex);
    return 0;
}

/* Representors. */

static size_t
remote_rep_recv(struct esw_dev *dev, uint32_t vport, uint32_t queue,
                struct esw_pkt *pkts[], size_t max)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct rep_ring *ring = NULL;
    bool corrupt = false;
    size_t n = 0;

    if (vport >= d->up.caps.max_vports || queue >= ESW_MAX_REP_QUEUES) {
        return 0;
    }
    pthread_mutex_lock(&d->rings_mutex);
    if (!d->rings[vport][queue]) {
        pthread_mutex_unlock(&d->rings_mutex);
        ring_map(d, false, vport, queue);
        pthread_mutex_lock(&d->rings_mutex);
    }
    ring = d->rings[vport][queue];
    while (ring && n < max) {
        struct esw_rring_cell *cell = esw_rring_peek(ring->r);
        struct esw_pkt *pkt;

        if (!cell) {
            break;
        }
        if (cell->len > ESW_FRAME_MAX) {
            corrupt = true;     /* The device is gone. */
            break;
        }
        pkt = esw_pkt_from_data(cell->data, cell->len);
        if (!pkt) {
            break;              /* Out of memory: stays queued. */
        }
        pkt->in_vport = cell->in_vport;
        pkt->mark = cell->mark;
        esw_rring_release(ring->r, cell);
        pkts[n++] = pkt;
    }
    if (ring) {
        if (n) {
            ring->empty_polls = 0;
        } else if (++ring->empty_polls >= ESW_RRING_REARM_POLLS) {
            /* As the sim driver: clear and re-arm the fd after a few
             * empty reads in a row. */
            ring->empty_polls = 0;
            esw_rring_rearm(ring->r, ring->efd);
        }
    }
    pthread_mutex_unlock(&d->rings_mutex);
    if (corrupt) {
        pthread_mutex_lock(&d->conn_mutex);
        conn_break(d);
        pthread_mutex_unlock(&d->conn_mutex);
    }
    return n;
}

static int
remote_rep_get_fd(struct esw_dev *dev, uint32_t vport, uint32_t queue)
{
    struct remote_dev *d = remote_dev_cast(dev);
    int fd;

    if (remote_state(d) != REMOTE_RUNNING) {
        /* Not mapped now: the device is being reset. */
        pthread_mutex_lock(&d->rings_mutex);
        fd = (vport < d->up.caps.max_vports && queue < ESW_MAX_REP_QUEUES
              && d->rings[vport][queue] ? d->rings[vport][queue]->efd : -1);
        pthread_mutex_unlock(&d->rings_mutex);
        return fd;
    }
    pthread_mutex_lock(&d->conn_mutex);
    fd = rep_get_fd__(d, vport, queue);
    pthread_mutex_unlock(&d->conn_mutex);
    return fd;
}

static int
remote_vport_set_rep_queues(struct esw_dev *dev, uint32_t vport, uint32_t n,
                            struct esw_error *err)
{
    struct rvport rec;
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport, .arg = n };
    int error = call_err(d, ESW_ROP_VPORT_SET_REP_QUEUES, &v, sizeof v,
                         err);

    if (error == EAGAIN
        && record_get(d, vport, &rec) && rec.info.n_rep_queues == n) {
        esw_error_clear(err);
        error = 0;
    } else if (!error) {
        forget_rep_fds(d, vport);
        RECORD(d, vport, rv, rv->cfg.n_rep_queues = n);
    }
    return error;
}

static int
remote_rep_send(struct esw_dev *dev, uint32_t vport, struct esw_pkt *pkt)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct rep_ring *ring;
    bool queued = false;

    if (remote_state(d) == REMOTE_RESET) {
        /* The link is down: dropped and counted as such. */
        int error = ENOENT;

        esw_pkt_free(pkt);
        pthread_mutex_lock(&d->rec_mutex);
        if (rvport_get__(d, vport)) {
            d->vports[vport]->reset_drops++;
            error = 0;
        }
        pthread_mutex_unlock(&d->rec_mutex);
        return error;
    }
    if (vport < d->up.caps.max_vports && pkt->len <= ESW_FRAME_MAX) {
        pthread_mutex_lock(&d->rings_mutex);
        if (!d->send_rings[vport]) {
            pthread_mutex_unlock(&d->rings_mutex);
            ring_map(d, true, vport, 0);
            pthread_mutex_lock(&d->rings_mutex);
        }
        ring = d->send_rings[vport];
        if (ring) {
            queued = esw_rring_enqueue(ring->r, pkt);
            if (queued) {
                esw_rring_signal(ring->r, ring->efd);
            }
        }
        pthread_mutex_unlock(&d->rings_mutex);
    }
    if (queued) {
        esw_pkt_free(pkt);
        return 0;
    }
    /* No such vport (the round trip says so), a full ring, a connection
     * gone: as a request. */
    return send_pkt(d, ESW_ROP_REP_SEND, vport, pkt);
}

/* Meters. */

static int
remote_meter_set(struct esw_dev *dev, uint32_t id,
                 const struct esw_meter_config *cfg, struct esw_error *err)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_meter m = { .id = id, .cfg = *cfg };
    int error = call_err(d, ESW_ROP_METER_SET, &m, sizeof m, err);

    if (!error) {
        pthread_mutex_lock(&d->rec_mutex);
        error = rmeter_set__(d, id, cfg);
        pthread_mutex_unlock(&d->rec_mutex);
        if (error) {
            /* Not in the record, not in the device. */
            struct esw_rw_vport v = { .vport = id };

            call(d, ESW_ROP_METER_DEL, &v, sizeof v, NULL, 0);
            esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                          "out of memory");
        }
    }
    return error;
}

static int
remote_meter_del(struct esw_dev *dev, uint32_t id)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = id };
    struct rmeter *m;
    int error;

    pthread_mutex_lock(&d->conn_mutex);
    error = call__(d, ESW_ROP_METER_DEL, &v, sizeof v, NULL, 0, NULL, NULL,
                   NULL);
    if (!error || error == EAGAIN) {
        /* During a reset the record keeps it, marked, until the device is
         * back (then it is deleted there). */
        pthread_mutex_lock(&d->rec_mutex);
        m = rmeter_find__(d, id);
        if (!m || m->deleted) {
            error = error ? ENOENT : 0;
        } else if (error) {
            m->deleted = true;
            error = 0;
        } else {
            rmeter_remove__(d, m);
        }
        pthread_mutex_unlock(&d->rec_mutex);
    }
    pthread_mutex_unlock(&d->conn_mutex);
    return error;
}

static int
remote_meter_get_stats(struct esw_dev *dev, uint32_t id,
                       struct esw_meter_stats *stats)
{
    struct esw_rw_vport v = { .vport = id };
    int error = call(remote_dev_cast(dev), ESW_ROP_METER_GET_STATS, &v,
                     sizeof v, stats, sizeof *stats);

    if (error) {
        memset(stats, 0, sizeof *stats);
    }
    return error;
}

static int
remote_meter_get_config(struct esw_dev *dev, uint32_t id,
                        struct esw_meter_config *cfg)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = id };
    struct esw_rw_meter m;
    int error = call(d, ESW_ROP_METER_GET_CONFIG, &v, sizeof v, &m,
                     sizeof m);

    if (!error && esw_rproto_check_meter((uint8_t *) &m
                                         + offsetof(struct esw_rw_meter,
                                                    cfg))) {
        pthread_mutex_lock(&d->conn_mutex);
        conn_break(d);
        pthread_mutex_unlock(&d->conn_mutex);
        error = ENODEV;
    }
    if (!error) {
        *cfg = m.cfg;
    } else if (error == EAGAIN) {
        const struct rmeter *rm;

        pthread_mutex_lock(&d->rec_mutex);
        rm = rmeter_find__(d, id);
        error = rm && !rm->deleted ? 0 : ENOENT;
        if (!error) {
            *cfg = rm->cfg;
        }
        pthread_mutex_unlock(&d->rec_mutex);
    }
    return error;
}

static size_t
remote_meter_list(struct esw_dev *dev, uint32_t ids[], size_t max)
{
    return call_list(remote_dev_cast(dev), ESW_ROP_METER_LIST, ids, max);
}

/* Tracing. */

static int
remote_trace_packet(struct esw_dev *dev, uint32_t vport,
                    const struct esw_pkt *pkt, struct esw_trace *trace)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_trace *w = NULL;
    size_t req_len, len;
    void *req = pkt->len <= ESW_FRAME_MAX
                ? pkt_request(vport, pkt, &req_len) : NULL;
    uint8_t *buf;
    int error;

    memset(trace, 0, sizeof *trace);
    if (!req) {
        return pkt->len <= ESW_FRAME_MAX ? ENOMEM : EINVAL;
    }
    pthread_mutex_lock(&d->conn_mutex);
    error = call__(d, ESW_ROP_TRACE_PACKET, req, req_len, NULL,
                   sizeof *w + sizeof(struct esw_rw_pkt) + ESW_FRAME_MAX,
                   (void **) &buf, &len, NULL);
    free(req);
    if ((error == ENODEV || error == EAGAIN) && !len) {
        pthread_mutex_unlock(&d->conn_mutex);
        return error;
    }
    if (len < sizeof *w
        || esw_rproto_check_trace(buf + offsetof(struct esw_rw_trace, trace))
        || buf[offsetof(struct esw_rw_trace, has_pkt)] > 1) {
        goto malformed;
    }
    w = malloc(sizeof *w);
    if (!w) {
        free(buf);
        pthread_mutex_unlock(&d->conn_mutex);
        return ENOMEM;
    }
    memcpy(w, buf, sizeof *w);
    if (w->has_pkt) {
        struct esw_pkt *rep;

        if (decode_pkt(buf + sizeof *w, len - sizeof *w, &rep)
            != len - sizeof *w) {
            esw_pkt_free(rep);
            goto malformed;
        }
        w->trace.to_representor = rep;
    } else if (len != sizeof *w) {
        goto malformed;
    }
    free(buf);
    pthread_mutex_unlock(&d->conn_mutex);

    *trace = w->trace;
    pthread_mutex_lock(&d->rules_mutex);
    trace->rule = w->rule_id ? remote_rule_find__(d, w->rule_id) : NULL;
    for (size_t i = 0; i < trace->n_stages; i++) {
        trace->stages[i].rule = (w->stage_rule_ids[i]
                                 ? remote_rule_find__(d, w->stage_rule_ids[i])
                                 : NULL);
    }
    pthread_mutex_unlock(&d->rules_mutex);
    free(w);
    return error;

malformed:
    free(w);
    free(buf);
    conn_break(d);
    pthread_mutex_unlock(&d->conn_mutex);
    memset(trace, 0, sizeof *trace);
    return ENODEV;
}

static int
remote_trace_rep_send(struct esw_dev *dev, uint32_t vport,
                      const struct esw_pkt *pkt,
                      struct esw_trace_output *out)
{
    struct remote_dev *d = remote_dev_cast(dev);
    size_t len;
    void *req = pkt->len <= ESW_FRAME_MAX ? pkt_request(vport, pkt, &len)
                                          : NULL;
    int error;

    if (!req) {
        return pkt->len <= ESW_FRAME_MAX ? ENOMEM : EINVAL;
    }
    error = call(d, ESW_ROP_TRACE_REP_SEND, req, len, out, sizeof *out);
    free(req);
    if (!error && ((uint8_t *) out)[offsetof(struct esw_trace_output,
                                             delivered)] > 1) {
        pthread_mutex_lock(&d->conn_mutex);
        conn_break(d);
        pthread_mutex_unlock(&d->conn_mutex);
        error = ENODEV;
    }
    return error;
}

/* Emulator. */

static int
remote_vport_get_host(struct esw_dev *dev, uint32_t vport,
                      struct esw_host_info *info)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport };
    int error = call(d, ESW_ROP_HOST_GET, &v, sizeof v, info, sizeof *info);

    if (!error && esw_rproto_check_host_info(info)) {
        pthread_mutex_lock(&d->conn_mutex);
        conn_break(d);
        pthread_mutex_unlock(&d->conn_mutex);
        error = ENODEV;
    }
    if (!error) {
        RECORD(d, vport, rv, { rv->has_host = true; rv->host = *info; });
    } else if (error == EAGAIN) {
        /* As last seen, without a user: the function's side of the link
         * is down too. */
        const struct rvport *rv;

        memset(info, 0, sizeof *info);
        pthread_mutex_lock(&d->rec_mutex);
        rv = rvport_get__(d, vport);
        if (!rv) {
            error = ENOENT;
        } else if (rv->has_host) {
            *info = rv->host;
            info->host_up = false;
            info->virtio_negotiated = 0;
            info->virtio_guest_queues = 0;
            info->virtio_enabled_queues = 0;
            error = 0;
        }
        pthread_mutex_unlock(&d->rec_mutex);
    }
    if (error) {
        memset(info, 0, sizeof *info);
    }
    return error;
}

static int
remote_host_inject(struct esw_dev *dev, uint32_t vport, struct esw_pkt *pkt)
{
    return send_pkt(remote_dev_cast(dev), ESW_ROP_HOST_INJECT, vport, pkt);
}

static size_t
remote_host_capture_read(struct esw_dev *dev, uint32_t vport,
                         struct esw_pkt *pkts[], size_t max)
{
    return recv_pkts(remote_dev_cast(dev), ESW_ROP_HOST_CAPTURE_READ, vport,
                     0, pkts, max);
}

static bool
remote_is_idle(struct esw_dev *dev)
{
    struct esw_rw_count c;

    /* A device that went away (or is being reset) has nothing in
     * flight. */
    return (call(remote_dev_cast(dev), ESW_ROP_IS_IDLE, NULL, 0, &c,
                 sizeof c) || c.n);
}

static const struct esw_emu_ops remote_emu_ops = {
    .vport_get_host = remote_vport_get_host,
    .host_inject = remote_host_inject,
    .host_capture_read = remote_host_capture_read,
    .is_idle = remote_is_idle,
};

const struct esw_driver esw_remote_driver = {
    .name = "remote",
    .outlives_process = true,
    .open = remote_open,
    .close = remote_close,
    .vport_add = remote_vport_add,
    .vport_del = remote_vport_del,
    .vport_get_info = remote_vport_get_info,
    .vport_lookup = remote_vport_lookup,
    .vport_list = remote_vport_list,
    .vport_set_mac = remote_vport_set_mac,
    .vport_set_mtu = remote_vport_set_mtu,
    .vport_set_admin_state = remote_vport_set_admin_state,
    .vport_set_policy = remote_vport_set_policy,
    .vport_guest_set_mac = remote_vport_guest_set_mac,
    .vport_get_stats = remote_vport_get_stats,
    .vport_get_policy = remote_vport_get_policy,
    .vport_guest_reset = remote_vport_guest_reset,
    .rule_validate = remote_rule_validate,
    .rule_add = remote_rule_add,
    .rule_modify = remote_rule_modify,
    .rule_del = remote_rule_del,
    .rule_get_stats = remote_rule_get_stats,
    .rule_get_spec = remote_rule_get_spec,
    .rule_count = remote_rule_count,
    .rule_foreach = remote_rule_foreach,
    .rep_recv = remote_rep_recv,
    .rep_get_fd = remote_rep_get_fd,
    .vport_set_rep_queues = remote_vport_set_rep_queues,
    .rep_send = remote_rep_send,
    .meter_set = remote_meter_set,
    .meter_del = remote_meter_del,
    .meter_get_stats = remote_meter_get_stats,
    .meter_get_config = remote_meter_get_config,
    .meter_list = remote_meter_list,
    .ct_add = remote_ct_add,
    .ct_modify = remote_ct_modify,
    .ct_del = remote_ct_del,
    .ct_flush = remote_ct_flush,
    .ct_get_stats = remote_ct_get_stats,
    .ct_get_spec = remote_ct_get_spec,
    .ct_count = remote_ct_count,
    .ct_foreach = remote_ct_foreach,
    .trace_packet = remote_trace_packet,
    .trace_rep_send = remote_trace_rep_send,
    .emu = &remote_emu_ops,
};
