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
 * A broken connection (the daemon went away, a malformed reply) makes the
 * device fail every later call with ENODEV (ENOENT for the calls esw.h
 * does not let return ENODEV: nothing to receive, no descriptor).
 *
 * Lock order: 'rules_mutex', 'conn_mutex', 'rings_mutex'. */

#include "esw-provider.h"
#include "esw-remote-proto.h"
#include "esw-remote-ring.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ESW_REMOTE_TIMEOUT_MS 10000
#define ESW_REMOTE_MAX_UNACKED 256

/* A rule handle of this driver. */
struct esw_rule {
    uint64_t id;                        /* The daemon knows it by this. */
    struct esw_rule_spec spec;          /* Current spec. */
    struct esw_rule *prev, *next;       /* Insertion order. */
    struct esw_rule *hash_next;         /* 'rule_hash' bucket. */
};

#define RULE_HASH_SIZE 4096

/* A representor queue, mapped. */
struct rep_ring {
    struct esw_rring *r;
    size_t size;
    int efd;
    unsigned int empty_polls;   /* Empty reads since the last re-arm. */
};

struct remote_dev {
    struct esw_dev up;

    /* Protects the connection. */
    pthread_mutex_t conn_mutex;
    int sock;
    uint32_t seq;
    unsigned int n_unacked;             /* RULE_DEL replies to read. */
    _Atomic bool broken;                /* Written under the mutex, read
                                         * without by the counter reads. */

    /* Protects the mapped rings (the arrays and each ring's consumer
     * state): the representor readers and senders take only this one once
     * their ring is mapped, so that they never wait for a round trip. */
    pthread_mutex_t rings_mutex;
    struct rep_ring *(*rings)[ESW_MAX_REP_QUEUES];  /* Per vport, NULL:
                                                     * not mapped yet. */
    struct rep_ring **send_rings;       /* Per vport, NULL: not mapped yet
                                         * ('efd': the daemon's). */

    /* The vports' counters, mapped at open (immutable mapping). */
    struct esw_rstats *stats;
    size_t stats_size;

    /* Protects the rule list and hash. */
    pthread_mutex_t rules_mutex;
    struct esw_rule *head, *tail;
    struct esw_rule *rule_hash[RULE_HASH_SIZE];
    uint64_t next_id;
};

static struct remote_dev *
remote_dev_cast(const struct esw_dev *dev)
{
    return (struct remote_dev *) dev;
}

/* Connection. */

static void
conn_break(struct remote_dev *d)
{
    if (!d->broken) {
        d->broken = true;
        shutdown(d->sock, SHUT_RDWR);
    }
}

/* Reads one reply header and its payload (at most 'max' bytes, into
 * '*bufp', malloc'ed) for request 'op' 'seq'.  ENODEV on any mismatch. */
static void
close_fds(int fds[ESW_RPROTO_MAX_FDS])
{
    for (size_t i = 0; i < ESW_RPROTO_MAX_FDS; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

static int
conn_read_reply(struct remote_dev *d, uint16_t op, uint32_t seq,
                struct esw_rmsg_hdr *hdr, void **bufp, size_t max,
                int *fdsp)
{
    int fds[ESW_RPROTO_MAX_FDS];
    void *buf = NULL;
    uint32_t n_fds;

    *bufp = NULL;
    if (esw_rproto_recv_hdr(d->sock, hdr, fds, ESW_REMOTE_TIMEOUT_MS)
        || esw_rproto_check_hdr(hdr, true)
        || hdr->op != op || hdr->seq != seq || hdr->len > max) {
        goto error;
    }
    for (n_fds = 0; n_fds < ESW_RPROTO_MAX_FDS && fds[n_fds] >= 0; n_fds++) {
        continue;
    }
    if (n_fds != hdr->n_fds) {
        goto error;
    }
    if (hdr->len) {
        buf = malloc(hdr->len);
        if (!buf || esw_rproto_recv_all(d->sock, buf, hdr->len,
                                        ESW_REMOTE_TIMEOUT_MS)) {
            goto error;
        }
    }
    *bufp = buf;
    if (fdsp) {
        memcpy(fdsp, fds, sizeof fds);
    } else {
        close_fds(fds);
    }
    return 0;

error:
    free(buf);
    close_fds(fds);
    conn_break(d);
    return ENODEV;
}

static int
conn_drain_unacked(struct remote_dev *d)
{
    while (d->n_unacked) {
        uint32_t seq = d->seq - d->n_unacked;
        struct esw_rmsg_hdr hdr;
        void *buf;

        if (conn_read_reply(d, ESW_ROP_RULE_DEL, seq, &hdr, &buf, 0,
                            NULL)) {
            return ENODEV;
        }
        d->n_unacked--;
    }
    return 0;
}

static int
conn_send(struct remote_dev *d, uint16_t op, const void *req, size_t len)
{
    struct esw_rmsg_hdr hdr = {
        .magic = ESW_RPROTO_MAGIC, .version = ESW_RPROTO_VERSION,
        .op = op, .len = len, .seq = d->seq,
    };

    if (d->broken) {
        return ENODEV;
    }
    if (esw_rproto_send(d->sock, &hdr, req, NULL, ESW_REMOTE_TIMEOUT_MS)) {
        conn_break(d);
        return ENODEV;
    }
    d->seq++;
    return 0;
}

/* One round trip, with 'conn_mutex' held.  The reply's payload must be
 * exactly 'reply_len' bytes (copied into 'reply') unless 'varp' is
 * nonnull: then up to 'reply_len' bytes, returned malloc'ed in '*varp' with
 * their length in '*var_lenp'.  'fds' (ESW_RPROTO_MAX_FDS) receives the
 * descriptors passed (the rest -1).  Returns the daemon's result or
 * ENODEV. */
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
        *resultp = 0;
        return false;
    default:
        return true;
    }
}

static int
call__(struct remote_dev *d, uint16_t op, const void *req, size_t req_len,
       void *reply, size_t reply_len, void **varp, size_t *var_lenp,
       int *fds)
{
    struct esw_rmsg_hdr hdr;
    void *buf;
    int error;

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
    if (d->broken || conn_drain_unacked(d)) {
        return ENODEV;
    }
    error = conn_send(d, op, req, req_len);
    if (error) {
        return error;
    }
    error = conn_read_reply(d, op, d->seq - 1, &hdr, &buf, reply_len, fds);
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
                close_fds(fds);
            }
            conn_break(d);
            return ENODEV;
        }
        if (reply_len) {
            memcpy(reply, buf, reply_len);
        }
        free(buf);
    }
    return hdr.result;
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

/* A call whose reply is a 'struct esw_error': copies it into 'err'. */
static int
call_err(struct remote_dev *d, uint16_t op, const void *req, size_t len,
         struct esw_error *err)
{
    struct esw_error e;
    int error = call(d, op, req, len, &e, sizeof e);

    if (error == ENODEV && d->broken) {
        return esw_error_set(err, ENODEV, ESW_ERROR_UNSPECIFIED, -1,
                             "%s: device daemon connection lost",
                             d->up.name);
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

static int
connect_daemon(int *sockp)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int sock;

    if (esw_rproto_default_socket(sun.sun_path, sizeof sun.sun_path)) {
        return ENODEV;
    }
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return errno == EMFILE || errno == ENFILE ? ENOMEM : ENODEV;
    }
    if (connect(sock, (struct sockaddr *) &sun, sizeof sun) < 0) {
        close(sock);
        return ENODEV;
    }
    *sockp = sock;
    return 0;
}

/* Devices. */

/* Maps the counters whose memfd the daemon passed in 'fds[0]' (closes
 * 'fds').  ENODEV if they are not what they should be. */
static int
map_stats(struct remote_dev *d, int fds[ESW_RPROTO_MAX_FDS])
{
    struct stat st;
    void *map;
    int error = ENODEV;

    if (fds[0] >= 0 && fds[1] < 0 && !fstat(fds[0], &st)
        && (uint64_t) st.st_size <= SIZE_MAX) {
        map = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fds[0], 0);
        if (map != MAP_FAILED) {
            if (esw_rstats_check(map, st.st_size, d->up.caps.max_vports)) {
                d->stats = map;
                d->stats_size = st.st_size;
                error = 0;
            } else {
                munmap(map, st.st_size);
            }
        }
    }
    close_fds(fds);
    return error;
}

static struct esw_rule **rule_bucket(struct remote_dev *, uint64_t id);
static struct esw_rule *rule_find__(struct remote_dev *, uint64_t id);

/* Appends 'rule' to 'd''s list and hash, with 'rules_mutex' held. */
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

            if (!r[i].id || rule_find__(d, r[i].id)
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

static int
remote_open(const char *name, const struct esw_dev_config *cfg,
            struct esw_dev **devp)
{
    struct esw_rw_hello hello = { .abi = esw_rproto_abi() }, hello_reply;
    int fds[ESW_RPROTO_MAX_FDS];
    struct esw_rw_dev_open o;
    struct remote_dev *d;
    int error;

    d = calloc(1, sizeof *d);
    if (!d) {
        return ENOMEM;
    }
    pthread_mutex_init(&d->conn_mutex, NULL);
    pthread_mutex_init(&d->rings_mutex, NULL);
    pthread_mutex_init(&d->rules_mutex, NULL);
    d->next_id = 1;
    error = connect_daemon(&d->sock);
    if (error) {
        goto error;
    }

    error = call(d, ESW_ROP_HELLO, &hello, sizeof hello, &hello_reply,
                 sizeof hello_reply);
    if (error || hello_reply.abi != hello.abi) {
        error = ENODEV;
        goto error_close;
    }

    memset(&o, 0, sizeof o);
    snprintf(o.name, sizeof o.name, "%s", name);
    o.cfg = *cfg;
    o.cfg.emu = NULL;
    if (cfg->emu) {
        o.has_emu = 1;
        o.emu = *cfg->emu;
    }
    pthread_mutex_lock(&d->conn_mutex);
    error = call__(d, ESW_ROP_DEV_OPEN, &o, sizeof o, &d->up.caps,
                   sizeof d->up.caps, NULL, NULL, fds);
    pthread_mutex_unlock(&d->conn_mutex);
    if (error) {
        close_fds(fds);
        goto error_close;
    }
    if (d->up.caps.max_vports > 65536) {
        close_fds(fds);
        error = ENODEV;
        goto error_close;
    }
    /* The daemon's protocol has no connection table operations: a CT
     * action there would only ever miss, so the device offers neither it
     * nor the ct_* match fields (esw_ct_add() fails with EOPNOTSUPP). */
    d->up.caps.actions &= ~(1u << ESW_ACTION_CT);
    d->up.caps.match_fields &= ~((1u << ESW_MATCH_CT_STATE)
                                 | (1u << ESW_MATCH_CT_ZONE)
                                 | (1u << ESW_MATCH_CT_MARK)
                                 | (1u << ESW_MATCH_CT_LABEL));
    d->up.caps.max_conns = 0;
    error = map_stats(d, fds);
    if (error) {
        goto error_close;
    }
    d->rings = calloc(d->up.caps.max_vports ? d->up.caps.max_vports : 1,
                      sizeof *d->rings);
    d->send_rings = calloc(d->up.caps.max_vports ? d->up.caps.max_vports
                                                 : 1,
                           sizeof *d->send_rings);
    if (!d->rings || !d->send_rings) {
        free(d->rings);
        free(d->send_rings);
        error = ENOMEM;
        goto error_close;
    }
    error = load_rules(d);
    if (error) {
        struct esw_rule *rule, *next;

        for (rule = d->head; rule; rule = next) {
            next = rule->next;
            free(rule);
        }
        free(d->rings);
        free(d->send_rings);
        goto error_close;
    }
    *devp = &d->up;
    return 0;

error_close:
    if (d->stats) {
        munmap(d->stats, d->stats_size);
    }
    close(d->sock);
error:
    pthread_mutex_destroy(&d->conn_mutex);
    pthread_mutex_destroy(&d->rings_mutex);
    pthread_mutex_destroy(&d->rules_mutex);
    free(d);
    return error;
}

static void
rep_ring_unmap(struct rep_ring *ring)
{
    if (ring) {
        munmap(ring->r, ring->size);
        close(ring->efd);
        free(ring);
    }
}

/* Unmaps 'vport''s queues, with 'conn_mutex' held. */
static void
forget_rep_fds__(struct remote_dev *d, uint32_t vport)
{
    pthread_mutex_lock(&d->rings_mutex);
    if (vport < d->up.caps.max_vports) {
        rep_ring_unmap(d->send_rings[vport]);
        d->send_rings[vport] = NULL;
        for (size_t q = 0; q < ESW_MAX_REP_QUEUES; q++) {
            struct rep_ring *ring = d->rings[vport][q];

            if (ring) {
                munmap(ring->r, ring->size);
                close(ring->efd);
                free(ring);
                d->rings[vport][q] = NULL;
            }
        }
    }
    pthread_mutex_unlock(&d->rings_mutex);
}

static void
remote_close(struct esw_dev *dev)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rule *rule, *next;

    call(d, ESW_ROP_DEV_CLOSE, NULL, 0, NULL, 0);
    close(d->sock);
    for (uint32_t v = 0; v < d->up.caps.max_vports; v++) {
        forget_rep_fds__(d, v);
    }
    free(d->rings);
    free(d->send_rings);
    munmap(d->stats, d->stats_size);
    for (rule = d->head; rule; rule = next) {
        next = rule->next;
        free(rule);
    }
    pthread_mutex_destroy(&d->conn_mutex);
    pthread_mutex_destroy(&d->rings_mutex);
    pthread_mutex_destroy(&d->rules_mutex);
    free(d);
}

/* Vports. */

static int
remote_vport_add(struct esw_dev *dev, const struct esw_vport_config *cfg,
                 struct esw_error *err, uint32_t *vportp)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport_add a;
    struct esw_rw_error_u32 r;
    int error;

    memset(&a, 0, sizeof a);
    a.cfg = *cfg;
    a.cfg.io = NULL;
    if (cfg->io) {
        a.has_io = 1;
        a.io = *cfg->io;
    }
    error = call(d, ESW_ROP_VPORT_ADD, &a, sizeof a, &r, sizeof r);
    if (error == ENODEV && d->broken) {
        return esw_error_set(err, ENODEV, ESW_ERROR_UNSPECIFIED, -1,
                             "%s: device daemon connection lost",
                             dev->name);
    }
    r.err.reason[sizeof r.err.reason - 1] = '\0';
    if (err) {
        *err = r.err;
        err->error = error;
    }
    if (!error) {
        *vportp = r.value;
        pthread_mutex_lock(&d->conn_mutex);
        forget_rep_fds__(d, r.value);
        pthread_mutex_unlock(&d->conn_mutex);
    }
    return error;
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
    if (!error) {
        forget_rep_fds__(d, vport);
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
    if (!ring) {
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
 * without any lock. */
static void
ring_map(struct remote_dev *d, bool send, uint32_t vport, uint32_t queue)
{
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
        close_fds(fds);
        return NULL;
    }
    if (fds[0] < 0 || fds[1] < 0 || fstat(fds[1], &st) < 0
        || (uint64_t) st.st_size > SIZE_MAX) {
        goto malformed;
    }
    map = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[1],
               0);
    if (map == MAP_FAILED) {
        close_fds(fds);
        return NULL;
    }
    if (!esw_rring_check(map, st.st_size)) {
        munmap(map, st.st_size);
        goto malformed;
    }
    ring = calloc(1, sizeof *ring);
    if (!ring) {
        munmap(map, st.st_size);
        close_fds(fds);
        return NULL;
    }
    ring->r = map;
    ring->size = st.st_size;
    ring->efd = fds[0];
    close(fds[1]);              /* The mapping stays. */
    return ring;

malformed:
    close_fds(fds);
    conn_break(d);
    return NULL;
}

static int
rep_get_fd__(struct remote_dev *d, uint32_t vport, uint32_t queue)
{
    struct rep_ring *ring = rep_ring__(d, vport, queue);

    return ring ? ring->efd : -1;
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
    if (error) {
        memset(info, 0, sizeof *info);
    }
    info->rep_fd = error || info->rep_fd < 0 ? -1 : rep_get_fd__(d, vport, 0);
    pthread_mutex_unlock(&d->conn_mutex);
    return error;
}

static int
remote_vport_lookup(struct esw_dev *dev, const char *name, uint32_t *vportp)
{
    struct esw_rw_name n;
    uint32_t vport;
    int error;

    memset(&n, 0, sizeof n);
    if (strlen(name) >= sizeof n.name) {
        return ENOENT;
    }
    strcpy(n.name, name);
    error = call(remote_dev_cast(dev), ESW_ROP_VPORT_LOOKUP, &n, sizeof n,
                 &vport, sizeof vport);
    if (!error) {
        *vportp = vport;
    }
    return error;
}

/* Lists of numbers: VPORT_LIST and METER_LIST. */
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

static int
remote_vport_set_mac(struct esw_dev *dev, uint32_t vport,
                     const struct esw_eth_addr *mac)
{
    struct esw_rw_mac m = { .vport = vport, .mac = *mac };

    return call(remote_dev_cast(dev), ESW_ROP_VPORT_SET_MAC, &m, sizeof m,
                NULL, 0);
}

static int
remote_vport_set_mtu(struct esw_dev *dev, uint32_t vport, uint32_t mtu)
{
    struct esw_rw_vport v = { .vport = vport, .arg = mtu };

    return call(remote_dev_cast(dev), ESW_ROP_VPORT_SET_MTU, &v, sizeof v,
                NULL, 0);
}

static int
remote_vport_set_admin_state(struct esw_dev *dev, uint32_t vport, bool up)
{
    struct esw_rw_vport v = { .vport = vport, .arg = up };

    return call(remote_dev_cast(dev), ESW_ROP_VPORT_SET_ADMIN, &v, sizeof v,
                NULL, 0);
}

static int
remote_vport_set_policy(struct esw_dev *dev, uint32_t vport,
                        const struct esw_policy_config *cfg,
                        struct esw_error *err)
{
    struct esw_rw_policy *p = calloc(1, sizeof *p);
    int error;

    if (!p) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    p->vport = vport;
    if (cfg) {
        p->has_policy = 1;
        p->cfg = *cfg;
    }
    error = call_err(remote_dev_cast(dev), ESW_ROP_VPORT_SET_POLICY, p,
                     sizeof *p, err);
    free(p);
    return error;
}

static int
remote_vport_guest_set_mac(struct esw_dev *dev, uint32_t vport,
                           const struct esw_eth_addr *mac,
                           struct esw_error *err)
{
    struct esw_rw_mac m = { .vport = vport, .mac = *mac };

    return call_err(remote_dev_cast(dev), ESW_ROP_VPORT_GUEST_SET_MAC, &m,
                    sizeof m, err);
}

static int
remote_vport_get_stats(struct esw_dev *dev, uint32_t vport,
                       struct esw_vport_stats *stats)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport };
    const struct esw_rstats_vport *c;
    bool sends_queued;
    int error;

    if (vport >= d->up.caps.max_vports) {
        return ENOENT;
    }
    pthread_mutex_lock(&d->rings_mutex);
    sends_queued = (d->send_rings[vport]
                    && !esw_rring_is_empty(d->send_rings[vport]->r));
    pthread_mutex_unlock(&d->rings_mutex);
    if (sends_queued || d->broken) {
        /* The daemon sends them before it answers. */
        error = call(d, ESW_ROP_VPORT_GET_STATS, &v, sizeof v, stats,
                     sizeof *stats);
        if (error) {
            memset(stats, 0, sizeof *stats);
        }
        return error;
    }

    c = &d->stats->vports[vport];
    if (!atomic_load_explicit(&c->exists, memory_order_acquire)) {
        return ENOENT;
    }
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
    return error;
}

static int
remote_vport_guest_reset(struct esw_dev *dev, uint32_t vport)
{
    struct esw_rw_vport v = { .vport = vport };

    return call(remote_dev_cast(dev), ESW_ROP_VPORT_GUEST_RESET, &v,
                sizeof v, NULL, 0);
}

/* Rules. */

static struct esw_rule **
rule_bucket(struct remote_dev *d, uint64_t id)
{
    return &d->rule_hash[(id * 0x9e3779b97f4a7c15ULL) >> 52];
}

static struct esw_rule *
rule_find__(struct remote_dev *d, uint64_t id)
{
    for (struct esw_rule *r = *rule_bucket(d, id); r; r = r->hash_next) {
        if (r->id == id) {
            return r;
        }
    }
    return NULL;
}

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
    struct esw_rw_rule *r = calloc(1, sizeof *r);
    struct esw_rw_rule_reply *w = calloc(1, sizeof *w);
    int error;

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
    if (error == ENODEV && d->broken) {
        free(w);
        return esw_error_set(err, ENODEV, ESW_ERROR_UNSPECIFIED, -1,
                             "%s: device daemon connection lost",
                             d->up.name);
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

static int
remote_rule_add(struct esw_dev *dev, const struct esw_rule_spec *spec,
                struct esw_error *err, struct esw_rule **rulep)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rule *rule = calloc(1, sizeof *rule);
    int error;

    if (!rule) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    pthread_mutex_lock(&d->rules_mutex);
    rule->id = d->next_id++;
    pthread_mutex_unlock(&d->rules_mutex);
    error = call_rule(d, ESW_ROP_RULE_ADD, rule->id, spec, err, &rule->spec);
    if (error) {
        free(rule);
        return error;
    }

    pthread_mutex_lock(&d->rules_mutex);
    rule_insert__(d, rule);
    pthread_mutex_unlock(&d->rules_mutex);
    *rulep = rule;
    return 0;
}

static int
remote_rule_modify(struct esw_dev *dev, struct esw_rule *rule,
                   const struct esw_rule_spec *spec, struct esw_error *err)
{
    struct esw_rule_spec kept;
    int error = call_rule(remote_dev_cast(dev), ESW_ROP_RULE_MODIFY,
                          rule->id, spec, err, &kept);

    if (!error) {
        rule->spec = kept;
    }
    return error;
}

static void
remote_rule_del(struct esw_dev *dev, struct esw_rule *rule)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_rule_id r = { .id = rule->id };
    struct esw_rule **bucket;

    pthread_mutex_lock(&d->rules_mutex);
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
    for (bucket = rule_bucket(d, rule->id); *bucket != rule;
         bucket = &(*bucket)->hash_next) {
        continue;
    }
    *bucket = rule->hash_next;

    /* Pipelined: the reply is read before the next call's. */
    pthread_mutex_lock(&d->conn_mutex);
    if (esw_leaving_devices()) {
        /* The device keeps the rule. */
    } else if (d->n_unacked >= ESW_REMOTE_MAX_UNACKED) {
        conn_drain_unacked(d);
    }
    if (!esw_leaving_devices() && !conn_send(d, ESW_ROP_RULE_DEL, &r,
                                             sizeof r)) {
        d->n_unacked++;
    }
    pthread_mutex_unlock(&d->conn_mutex);
    pthread_mutex_unlock(&d->rules_mutex);
    free(rule);
}

static int
remote_rule_get_stats(struct esw_dev *dev, const struct esw_rule *rule,
                      struct esw_rule_stats *stats)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_rule_id r = { .id = rule->id };
    int error = call(d, ESW_ROP_RULE_GET_STATS, &r, sizeof r, stats,
                     sizeof *stats);

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
    if (error) {
        memset(stats, 0, sizeof *stats);
    }
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
    struct esw_rw_count c;

    return call(remote_dev_cast(dev), ESW_ROP_RULE_COUNT, NULL, 0, &c,
                sizeof c) ? 0 : c.n;
}

static void
remote_rule_foreach(struct esw_dev *dev,
                    bool (*cb)(struct esw_rule *, void *), void *aux)
{
    struct remote_dev *d = remote_dev_cast(dev);

    pthread_mutex_lock(&d->rules_mutex);
    for (struct esw_rule *r = d->head; r; r = r->next) {
        if (!cb(r, aux)) {
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

    pthread_mutex_lock(&d->conn_mutex);
    fd = rep_get_fd__(d, vport, queue);
    pthread_mutex_unlock(&d->conn_mutex);
    return fd;
}

static int
remote_vport_set_rep_queues(struct esw_dev *dev, uint32_t vport, uint32_t n,
                            struct esw_error *err)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct esw_rw_vport v = { .vport = vport, .arg = n };
    int error = call_err(d, ESW_ROP_VPORT_SET_REP_QUEUES, &v, sizeof v,
                         err);

    if (!error) {
        pthread_mutex_lock(&d->conn_mutex);
        forget_rep_fds__(d, vport);
        pthread_mutex_unlock(&d->conn_mutex);
    }
    return error;
}

static int
remote_rep_send(struct esw_dev *dev, uint32_t vport, struct esw_pkt *pkt)
{
    struct remote_dev *d = remote_dev_cast(dev);
    struct rep_ring *ring;
    bool queued = false;

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
    struct esw_rw_meter m = { .id = id, .cfg = *cfg };

    return call_err(remote_dev_cast(dev), ESW_ROP_METER_SET, &m, sizeof m,
                    err);
}

static int
remote_meter_del(struct esw_dev *dev, uint32_t id)
{
    struct esw_rw_vport v = { .vport = id };

    return call(remote_dev_cast(dev), ESW_ROP_METER_DEL, &v, sizeof v, NULL,
                0);
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
    if (error == ENODEV && d->broken) {
        pthread_mutex_unlock(&d->conn_mutex);
        return ENODEV;
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
    trace->rule = w->rule_id ? rule_find__(d, w->rule_id) : NULL;
    for (size_t i = 0; i < trace->n_stages; i++) {
        trace->stages[i].rule = (w->stage_rule_ids[i]
                                 ? rule_find__(d, w->stage_rule_ids[i])
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

    /* A device that went away has nothing in flight. */
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
    .trace_packet = remote_trace_packet,
    .trace_rep_send = remote_trace_rep_send,
    .emu = &remote_emu_ops,
};
