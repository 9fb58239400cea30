/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The device daemon's hand-over state (esw-remote-state.h). */

#include "esw-remote-state.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esw-remote-ring.h"
#include "esw-sim.h"

uint64_t
esw_rstate_abi(void)
{
    static const size_t sizes[] = {
        sizeof(struct esw_rstate_hdr), sizeof(struct esw_rstate_rec),
        sizeof(struct esw_rs_daemon), sizeof(struct esw_rs_session),
        sizeof(struct esw_rs_dev), sizeof(struct esw_rs_vport),
        sizeof(struct esw_rs_rule), sizeof(struct esw_rs_meter),
        sizeof(struct esw_rw_pkt), sizeof(struct esw_rstats_vport),
        sizeof(struct esw_rs_ct),
    };
    uint64_t hash = esw_rproto_abi();

    hash = (hash ^ ESW_RSTATE_VERSION) * 1099511628211ULL;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        hash = (hash ^ sizes[i]) * 1099511628211ULL;
    }
    return hash;
}

/* Writing. */

static void
grow(struct esw_rstate_writer *w, size_t n)
{
    if (w->nomem) {
        return;
    }
    if (w->len + n > w->allocated) {
        size_t size = w->allocated ? w->allocated : 4096;
        uint8_t *data;

        while (size < w->len + n) {
            size *= 2;
        }
        data = realloc(w->data, size);
        if (!data) {
            w->nomem = true;
            return;
        }
        w->data = data;
        w->allocated = size;
    }
}

static void
put_bytes(struct esw_rstate_writer *w, const void *p, size_t n)
{
    grow(w, n);
    if (!w->nomem && n) {
        if (p) {
            memcpy(w->data + w->len, p, n);
        } else {
            memset(w->data + w->len, 0, n);
        }
        w->len += n;
    }
}

void
esw_rstate_writer_init(struct esw_rstate_writer *w)
{
    memset(w, 0, sizeof *w);
    put_bytes(w, NULL, sizeof(struct esw_rstate_hdr));
}

void
esw_rstate_writer_destroy(struct esw_rstate_writer *w)
{
    free(w->data);
    free(w->fds);
    memset(w, 0, sizeof *w);
}

void
esw_rstate_put(struct esw_rstate_writer *w, enum esw_rstate_type type,
               const void *payload, size_t len,
               const void *extra, size_t extra_len)
{
    struct esw_rstate_rec rec = { .type = type, .len = len + extra_len };
    size_t pad = (8 - (len + extra_len) % 8) % 8;

    if (len + extra_len > UINT32_MAX) {
        w->nomem = true;
        return;
    }
    put_bytes(w, &rec, sizeof rec);
    put_bytes(w, payload, len);
    put_bytes(w, extra, extra_len);
    put_bytes(w, NULL, pad);
    w->n_records++;
}

int32_t
esw_rstate_fd(struct esw_rstate_writer *w, int fd)
{
    if (fd < 0) {
        return -1;
    }
    if (w->n_fds >= w->allocated_fds) {
        size_t n = w->allocated_fds ? w->allocated_fds * 2 : 64;
        int *fds = realloc(w->fds, n * sizeof *fds);

        if (!fds) {
            w->nomem = true;
            return -1;
        }
        w->fds = fds;
        w->allocated_fds = n;
    }
    w->fds[w->n_fds] = fd;
    return w->n_fds++;
}

int
esw_rstate_finish(struct esw_rstate_writer *w)
{
    struct esw_rstate_hdr hdr;

    esw_rstate_put(w, ESW_RSTATE_END, NULL, 0, NULL, 0);
    if (w->nomem || w->len > ESW_RSTATE_MAX_SIZE
        || w->n_fds > ESW_RSTATE_MAX_FDS) {
        return ENOMEM;
    }
    memset(&hdr, 0, sizeof hdr);
    memcpy(hdr.magic, ESW_RSTATE_MAGIC, sizeof hdr.magic);
    hdr.version = ESW_RSTATE_VERSION;
    hdr.hdr_size = sizeof hdr;
    hdr.abi = esw_rstate_abi();
    hdr.size = w->len;
    hdr.n_records = w->n_records;
    hdr.n_fds = w->n_fds;
    memcpy(w->data, &hdr, sizeof hdr);
    return 0;
}

/* A RULE record's layout: the head up to the spec's actions, the
 * actions in use, the tail after the actions array. */
#define RULE_HEAD (offsetof(struct esw_rs_rule, rule)                        \
                   + offsetof(struct esw_rw_rule, spec)                      \
                   + offsetof(struct esw_rule_spec, actions))
#define RULE_TAIL_OFS (RULE_HEAD + ESW_MAX_ACTIONS * sizeof(struct esw_action))
#define RULE_TAIL (sizeof(struct esw_rs_rule) - RULE_TAIL_OFS)

void
esw_rstate_put_rule(struct esw_rstate_writer *w, const struct esw_rs_rule *r)
{
    uint64_t n = r->rule.spec.n_actions;
    size_t len = sizeof n + RULE_HEAD + n * sizeof(struct esw_action)
                 + RULE_TAIL;
    uint8_t *buf = malloc(len);

    if (!buf || n > ESW_MAX_ACTIONS) {
        free(buf);
        w->nomem = true;
        return;
    }
    memcpy(buf, &n, sizeof n);
    memcpy(buf + sizeof n, r, RULE_HEAD + n * sizeof(struct esw_action));
    memcpy(buf + len - RULE_TAIL, (const uint8_t *) r + RULE_TAIL_OFS,
           RULE_TAIL);
    esw_rstate_put(w, ESW_RSTATE_RULE, buf, len, NULL, 0);
    free(buf);
}

/* Rebuilds a rule from its record 'p' of 'len' bytes: EINVAL if the
 * length does not match its number of actions. */
static int
rule_from_record(const uint8_t *p, size_t len, struct esw_rs_rule *r)
{
    uint64_t n;

    if (len < sizeof n) {
        return EINVAL;
    }
    memcpy(&n, p, sizeof n);
    if (n > ESW_MAX_ACTIONS
        || len != sizeof n + RULE_HEAD + n * sizeof(struct esw_action)
                  + RULE_TAIL) {
        return EINVAL;
    }
    memset(r, 0, sizeof *r);
    memcpy(r, p + sizeof n, RULE_HEAD + n * sizeof(struct esw_action));
    memcpy((uint8_t *) r + RULE_TAIL_OFS, p + len - RULE_TAIL, RULE_TAIL);
    return 0;
}

void
esw_rstate_get_rule(const struct esw_rstate_session *ss, size_t i,
                    struct esw_rs_rule *r)
{
    struct esw_rstate_rec rec;

    memcpy(&rec, ss->rules[i] - sizeof rec, sizeof rec);
    if (rule_from_record(ss->rules[i], rec.len, r)) {
        abort();                /* Checked by esw_rstate_parse(). */
    }
}

/* Reading. */

struct reader {
    const uint8_t *data;
    size_t size, pos;
    uint32_t n_records, n_read;
    size_t n_fds;
    uint8_t *fd_used;           /* [n_fds]. */
    struct esw_rreq *req;       /* Scratch for check_request(). */
    char *reason;
    size_t reason_size;
};

static int __attribute__((format(printf, 2, 3)))
refuse(struct reader *r, const char *format, ...)
{
    va_list args;

    if (r->reason_size) {
        va_start(args, format);
        vsnprintf(r->reason, r->reason_size, format, args);
        va_end(args);
    }
    return EINVAL;
}

/* The next record, which must be of 'type' and exactly 'len' bytes, or at
 * least 'len' if 'extra' is nonnull ('*extra' the rest, '*extra_len' its
 * length). */
static int
next_rec(struct reader *r, enum esw_rstate_type type, const char *what,
         void *payload, size_t len, const uint8_t **extra, size_t *extra_len)
{
    struct esw_rstate_rec rec;
    size_t padded;

    if (r->n_read >= r->n_records) {
        return refuse(r, "%s: beyond the %"PRIu32" records the header "
                      "announces", what, r->n_records);
    }
    if (r->size - r->pos < sizeof rec) {
        return refuse(r, "%s: truncated at byte %zu", what, r->pos);
    }
    memcpy(&rec, r->data + r->pos, sizeof rec);
    if (rec.type != type) {
        return refuse(r, "record %"PRIu32" at byte %zu: type %"PRIu32
                      " where %s was expected", r->n_read, r->pos, rec.type,
                      what);
    }
    padded = (size_t) rec.len + (8 - rec.len % 8) % 8;
    if (r->size - r->pos - sizeof rec < padded) {
        return refuse(r, "%s: %"PRIu32" bytes at byte %zu, beyond the "
                      "state's end", what, rec.len, r->pos);
    }
    if (extra ? rec.len < len : rec.len != len) {
        return refuse(r, "%s: %"PRIu32" bytes, expected %s%zu", what,
                      rec.len, extra ? "at least " : "", len);
    }
    memcpy(payload, r->data + r->pos + sizeof rec, len);
    if (extra) {
        *extra = r->data + r->pos + sizeof rec + len;
        *extra_len = rec.len - len;
    }
    r->pos += sizeof rec + padded;
    r->n_read++;
    return 0;
}

/* Checks descriptor index 'idx' (-1 allowed if 'optional'). */
static int
check_fd(struct reader *r, int32_t idx, bool optional, const char *what)
{
    if (idx < 0 && optional && idx == -1) {
        return 0;
    }
    if (idx < 0 || (size_t) idx >= r->n_fds) {
        return refuse(r, "%s: descriptor %"PRId32" of the %zu received",
                      what, idx, r->n_fds);
    }
    if (r->fd_used[idx]) {
        return refuse(r, "%s: descriptor %"PRId32" used twice", what, idx);
    }
    r->fd_used[idx] = 1;
    return 0;
}

static int
check_request(struct reader *r, enum esw_rop op, const void *payload,
              size_t len, const char *what)
{
    struct esw_rmsg_hdr hdr = { .magic = ESW_RPROTO_MAGIC,
                                .version = ESW_RPROTO_VERSION, .op = op,
                                .len = len };
    char reason[128];
    int error;

    error = esw_rproto_decode_request(&hdr, payload, r->req, reason,
                                      sizeof reason);
    return error ? refuse(r, "%s: %s", what, reason) : 0;
}

static int
parse_vport(struct reader *r, const struct esw_rs_dev *dev,
            uint32_t max_vports, uint8_t *seen, struct esw_rstate_vport *vp)
{
    struct esw_rs_vport *v = &vp->v;
    const uint8_t *frames;
    size_t frames_len, off = 0;
    char what[64];
    uint32_t n_queues;
    int error;

    snprintf(what, sizeof what, "%s: vport", dev->open.name);
    error = next_rec(r, ESW_RSTATE_VPORT, what, v, sizeof *v, &frames,
                     &frames_len);
    if (error) {
        return error;
    }
    error = check_request(r, ESW_ROP_VPORT_ADD, &v->add, sizeof v->add, what);
    if (error) {
        return error;
    }
    snprintf(what, sizeof what, "%s: vport %"PRIu32, dev->open.name,
             v->add.cfg.vport);
    if (v->add.cfg.vport >= max_vports || seen[v->add.cfg.vport]) {
        return refuse(r, "%s: beyond the device's %"PRIu32" vports or "
                      "twice", what, max_vports);
    }
    seen[v->add.cfg.vport] = 1;
    error = check_request(r, ESW_ROP_VPORT_SET_POLICY, &v->policy,
                          sizeof v->policy, what);
    if (error) {
        return error;
    }
    if (v->guest_mac_refused > 1) {
        return refuse(r, "%s: bad boolean", what);
    }
    n_queues = v->add.cfg.n_rep_queues;
    if (!n_queues || n_queues > ESW_MAX_REP_QUEUES) {
        return refuse(r, "%s: %"PRIu32" representor queues, expected 1..%d",
                      what, n_queues, ESW_MAX_REP_QUEUES);
    }
    for (uint32_t q = 0; q < n_queues; q++) {
        if (check_fd(r, v->ring_memfd[q], false, what)
            || check_fd(r, v->ring_efd[q], false, what)) {
            return EINVAL;
        }
    }
    for (uint32_t q = n_queues; q < ESW_MAX_REP_QUEUES; q++) {
        if (v->ring_memfd[q] != -1 || v->ring_efd[q] != -1) {
            return refuse(r, "%s: a ring beyond its %"PRIu32" queues", what,
                          n_queues);
        }
    }
    if (check_fd(r, v->send_memfd, false, what)) {
        return EINVAL;
    }
    if (v->n_host_fds > 2) {
        return refuse(r, "%s: %"PRIu32" host-side descriptors, at most 2",
                      what, v->n_host_fds);
    }
    for (uint32_t i = 0; i < 2; i++) {
        if (i < v->n_host_fds
            ? check_fd(r, v->host_fds[i], true, what)
            : v->host_fds[i] != -1 && refuse(r, "%s: a host-side "
                                             "descriptor beyond its count",
                                             what)) {
            return EINVAL;
        }
    }
    if (v->n_host_fds && (!v->add.has_io
                          || v->add.io.type == ESW_IO_CAPTURE)) {
        return refuse(r, "%s: host-side descriptors for a host side that "
                      "has none", what);
    }
    if (v->n_frames && (!v->add.has_io
                        || v->add.io.type != ESW_IO_CAPTURE)) {
        return refuse(r, "%s: frames for a host side that is not capture",
                      what);
    }
    vp->frames = frames;
    for (uint32_t i = 0; i < v->n_frames; i++) {
        struct esw_rw_pkt pkt;

        if (frames_len - off < sizeof pkt) {
            return refuse(r, "%s: %"PRIu32" frames announced, %"PRIu32
                          " follow", what, v->n_frames, i);
        }
        memcpy(&pkt, frames + off, sizeof pkt);
        off += sizeof pkt;
        if (pkt.len > ESW_FRAME_MAX || frames_len - off < pkt.len) {
            return refuse(r, "%s: frame %"PRIu32" of %"PRIu32" bytes, "
                          "beyond its record", what, i, pkt.len);
        }
        off += pkt.len;
    }
    if (off != frames_len) {
        return refuse(r, "%s: %zu bytes after its frames", what,
                      frames_len - off);
    }
    return 0;
}

static int
parse_dev(struct reader *r, struct esw_rstate_session *ss)
{
    struct esw_rs_dev *d = &ss->dev;
    uint32_t max_vports, max_meters, max_rules, max_conns, n_slots;
    uint8_t *seen;
    char what[64];
    int error;

    error = next_rec(r, ESW_RSTATE_DEV, "device", d, sizeof *d, NULL, NULL);
    if (error) {
        return error;
    }
    error = check_request(r, ESW_ROP_DEV_OPEN, &d->open, sizeof d->open,
                          "device");
    if (error) {
        return error;
    }
    snprintf(what, sizeof what, "%s", d->open.name);
    if (check_fd(r, d->stats_fd, false, what)
        || check_fd(r, d->send_efd, false, what)) {
        return EINVAL;
    }
    max_vports = (d->open.cfg.max_vports ? d->open.cfg.max_vports
                  : SIM_DEFAULT_MAX_VPORTS);
    max_meters = (d->open.cfg.max_meters ? d->open.cfg.max_meters
                  : SIM_DEFAULT_MAX_METERS);
    max_rules = (d->open.cfg.max_rules ? d->open.cfg.max_rules
                 : SIM_DEFAULT_MAX_RULES);
    max_conns = (d->open.cfg.max_conns ? d->open.cfg.max_conns
                 : SIM_DEFAULT_MAX_CONNS);
    n_slots = max_conns <= SIM_MAX_CONNS ? esw_rct_n_slots(max_conns) : 0;
    if (d->n_cts > (d->ct_fd == -1 ? 0 : n_slots)) {
        return refuse(r, "%s: %"PRIu32" connections, beyond the device's "
                      "%"PRIu32" slots or without their table", what,
                      d->n_cts, n_slots);
    }
    if (d->ct_fd != -1 && check_fd(r, d->ct_fd, false, what)) {
        return EINVAL;
    }
    if (max_vports > SIM_MAX_VPORTS || d->n_vports > max_vports
        || max_meters > SIM_MAX_METERS || d->n_meters > max_meters
        || d->n_rules > 2 * (size_t) max_rules) {
        return refuse(r, "%s: %"PRIu32" vports, %"PRIu32" meters, %"PRIu32
                      " rules: beyond the device's capacity", what,
                      d->n_vports, d->n_meters, d->n_rules);
    }
    /* Each record takes at least its header: counts beyond what the state
     * can hold are refused before anything is allocated for them. */
    if ((uint64_t) d->n_vports + d->n_meters + d->n_rules + d->n_cts
        > r->n_records - r->n_read) {
        return refuse(r, "%s: %"PRIu32" vports, %"PRIu32" meters and %"PRIu32
                      " rules announced, beyond the %"PRIu32" records left",
                      what, d->n_vports, d->n_meters, d->n_rules,
                      r->n_records - r->n_read);
    }
    seen = calloc(max_vports, 1);
    ss->vports = calloc(d->n_vports ? d->n_vports : 1, sizeof *ss->vports);
    ss->meters = calloc(d->n_meters ? d->n_meters : 1, sizeof *ss->meters);
    ss->rules = calloc(d->n_rules ? d->n_rules : 1, sizeof *ss->rules);
    ss->cts = calloc(d->n_cts ? d->n_cts : 1, sizeof *ss->cts);
    if (!seen || !ss->vports || !ss->meters || !ss->rules || !ss->cts) {
        free(seen);
        return ENOMEM;
    }
    for (uint32_t i = 0; !error && i < d->n_vports; i++) {
        error = parse_vport(r, d, max_vports, seen, &ss->vports[i]);
    }
    free(seen);
    for (uint32_t i = 0; !error && i < d->n_meters; i++) {
        struct esw_rs_meter m;

        ss->meters[i] = r->data + r->pos + sizeof(struct esw_rstate_rec);
        error = next_rec(r, ESW_RSTATE_METER, "meter", &m, sizeof m, NULL,
                         NULL);
        if (!error) {
            error = check_request(r, ESW_ROP_METER_SET, &m.meter,
                                  sizeof m.meter, what);
        }
    }
    struct esw_rs_rule *rule = malloc(sizeof *rule);

    if (!rule) {
        return ENOMEM;
    }
    for (uint32_t i = 0; !error && i < d->n_rules; i++) {
        const uint8_t *p;
        uint64_t n;
        size_t len;

        ss->rules[i] = r->data + r->pos + sizeof(struct esw_rstate_rec);
        error = next_rec(r, ESW_RSTATE_RULE, "rule", &n, sizeof n, &p, &len);
        if (!error && rule_from_record(ss->rules[i], sizeof n + len, rule)) {
            error = refuse(r, "%s: rule: %zu bytes for %"PRIu64" actions "
                           "(at most %d)", what, sizeof n + len, n,
                           ESW_MAX_ACTIONS);
        }
        if (!error && rule->rule.spec.n_actions != n) {
            error = refuse(r, "%s: rule %"PRIu64": %"PRIu64" actions, its "
                           "spec says %zu", what, rule->rule.id, n,
                           rule->rule.spec.n_actions);
        }
        if (!error) {
            error = check_request(r, ESW_ROP_RULE_ADD, &rule->rule,
                                  sizeof rule->rule, what);
        }
        if (!error && (!rule->rule.id || rule->orphaned > 1
                       || ((const uint8_t *) &rule->stats)[
                           offsetof(struct esw_rule_stats, orphaned)] > 1)) {
            error = refuse(r, "%s: rule %"PRIu64": bad id or boolean", what,
                           rule->rule.id);
        }
    }
    free(rule);
    for (uint32_t i = 0; !error && i < d->n_cts; i++) {
        struct esw_rs_ct c;
        struct esw_rw_ct add;

        ss->cts[i] = r->data + r->pos + sizeof(struct esw_rstate_rec);
        error = next_rec(r, ESW_RSTATE_CT, "connection", &c, sizeof c, NULL,
                         NULL);
        if (error) {
            break;
        }
        memset(&add, 0, sizeof add);
        add.id = c.entry.id;
        add.spec = c.entry.spec;
        error = check_request(r, ESW_ROP_CT_ADD, &add, sizeof add, what);
        if (!error && (c.entry.slot >= n_slots || c.entry.flushed > 1)) {
            error = refuse(r, "%s: connection %"PRIu64": slot %"PRIu32
                           " beyond %"PRIu32", or a bad boolean", what,
                           c.entry.id, c.entry.slot, n_slots);
        }
    }
    return error;
}

int
esw_rstate_parse(const uint8_t *data, size_t size, size_t n_fds,
                 struct esw_rstate *st, char *reason, size_t reason_size)
{
    struct reader r = { .data = data, .size = size, .n_fds = n_fds,
                        .reason = reason, .reason_size = reason_size };
    struct esw_rstate_hdr hdr;
    struct esw_rstate_rec end;
    int error;

    memset(st, 0, sizeof *st);
    if (reason_size) {
        reason[0] = '\0';
    }
    if (size < sizeof hdr) {
        return refuse(&r, "%zu bytes: shorter than a header", size);
    }
    memcpy(&hdr, data, sizeof hdr);
    if (memcmp(hdr.magic, ESW_RSTATE_MAGIC, sizeof hdr.magic)) {
        return refuse(&r, "not an ovs-eswitchd state (bad magic)");
    }
    if (hdr.version != ESW_RSTATE_VERSION) {
        return refuse(&r, "version %"PRIu32", this ovs-eswitchd reads "
                      "version %d", hdr.version, ESW_RSTATE_VERSION);
    }
    if (hdr.hdr_size != sizeof hdr || hdr.abi != esw_rstate_abi()) {
        return refuse(&r, "written by an ovs-eswitchd built with other "
                      "structures (ABI %016"PRIx64", this one %016"PRIx64")",
                      hdr.abi, esw_rstate_abi());
    }
    if (hdr.size != size) {
        return refuse(&r, "%zu bytes, the header says %"PRIu64
                      " (truncated?)", size, hdr.size);
    }
    if (hdr.n_fds != n_fds) {
        return refuse(&r, "%zu descriptors received, the header says %"
                      PRIu32, n_fds, hdr.n_fds);
    }
    /* Each record takes at least its header: a count beyond what the
     * bytes can hold is refused before anything is allocated for it. */
    if (hdr.n_records > (size - sizeof hdr) / sizeof(struct esw_rstate_rec)) {
        return refuse(&r, "%"PRIu32" records announced, beyond what %zu "
                      "bytes hold", hdr.n_records, size);
    }
    r.n_records = hdr.n_records;
    r.pos = sizeof hdr;
    r.fd_used = calloc(n_fds ? n_fds : 1, 1);
    r.req = malloc(sizeof *r.req);
    if (!r.fd_used || !r.req) {
        free(r.fd_used);
        free(r.req);
        return ENOMEM;
    }

    error = next_rec(&r, ESW_RSTATE_DAEMON, "daemon", &st->daemon,
                     sizeof st->daemon, NULL, NULL);
    if (!error
        && (esw_rproto_check_string(st->daemon.socket_path,
                                    sizeof st->daemon.socket_path)
            || st->daemon.socket_path[0] != '/'
            || esw_rproto_check_string(st->daemon.pidfile,
                                       sizeof st->daemon.pidfile)
            || esw_rproto_check_update_result(&st->daemon.update)
            || st->daemon.verbose > 1 || st->daemon.keep_ms < 0)) {
        error = refuse(&r, "daemon: bad socket path, pid file, update or "
                       "setting");
    }
    if (!error) {
        error = check_fd(&r, st->daemon.listener, false, "daemon");
    }
    if (!error && st->daemon.n_sessions > r.n_records - r.n_read) {
        error = refuse(&r, "%"PRIu32" sessions announced, beyond the %"
                       PRIu32" records left", st->daemon.n_sessions,
                       r.n_records - r.n_read);
    }
    if (!error) {
        st->sessions = calloc(st->daemon.n_sessions ? st->daemon.n_sessions
                              : 1, sizeof *st->sessions);
        if (!st->sessions) {
            error = ENOMEM;
        }
    }
    for (uint32_t i = 0; !error && i < st->daemon.n_sessions; i++) {
        struct esw_rstate_session *ss = &st->sessions[i];
        size_t buf_len;

        st->n_sessions++;
        error = next_rec(&r, ESW_RSTATE_SESSION, "session", &ss->s,
                         sizeof ss->s, &ss->buf, &buf_len);
        if (error) {
            break;
        }
        if (ss->s.hello > 1 || ss->s.has_dev > 1 || ss->s.update_pending > 1
            || ss->s.admin > 1 || (ss->s.admin && ss->s.sock >= 0)
            || buf_len != ss->s.buf_len || buf_len > 2 * ESW_RPROTO_MAX_MSG
            || (ss->s.sock < 0 && (!ss->s.has_dev || ss->s.buf_len
                                   || ss->s.update_pending))) {
            error = refuse(&r, "session %"PRIu32": bad boolean, input "
                           "length or kept session", i);
            break;
        }
        error = check_fd(&r, ss->s.sock, true, "session");
        if (!error && ss->s.has_dev) {
            error = parse_dev(&r, ss);
        }
    }
    if (!error) {
        error = next_rec(&r, ESW_RSTATE_END, "the end", &end, 0, NULL, NULL);
    }
    if (!error && (r.pos != size || r.n_read != r.n_records)) {
        error = refuse(&r, "%zu bytes and %"PRIu32" records after the end",
                       size - r.pos, r.n_records - r.n_read);
    }
    for (size_t i = 0; !error && i < n_fds; i++) {
        if (!r.fd_used[i]) {
            error = refuse(&r, "descriptor %zu of %zu is not used", i,
                           n_fds);
        }
    }
    free(r.fd_used);
    free(r.req);
    if (error) {
        esw_rstate_destroy(st);
    }
    return error;
}

void
esw_rstate_destroy(struct esw_rstate *st)
{
    for (size_t i = 0; st->sessions && i < st->n_sessions; i++) {
        free(st->sessions[i].vports);
        free(st->sessions[i].meters);
        free(st->sessions[i].rules);
        free(st->sessions[i].cts);
    }
    free(st->sessions);
    memset(st, 0, sizeof *st);
}

/* The hand-over socket. */

int
esw_rhandover_send(int sock, const struct esw_rhandover_msg *msg,
                   const int fds[], size_t n_fds)
{
    union {
        char buf[CMSG_SPACE(ESW_RHANDOVER_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = (void *) msg, .iov_len = sizeof *msg };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
    ssize_t n;

    if (n_fds > ESW_RHANDOVER_FDS) {
        return EINVAL;
    }
    if (n_fds) {
        struct cmsghdr *cmsg;

        memset(&control, 0, sizeof control);
        mh.msg_control = control.buf;
        mh.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
        cmsg = CMSG_FIRSTHDR(&mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
        memcpy(CMSG_DATA(cmsg), fds, n_fds * sizeof(int));
    }
    do {
        n = sendmsg(sock, &mh, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? errno : n == sizeof *msg ? 0 : EPIPE;
}

int
esw_rhandover_recv(int sock, struct esw_rhandover_msg *msg, int fds[],
                   size_t max_fds, size_t *n_fds, int timeout_ms)
{
    union {
        char buf[CMSG_SPACE(ESW_RHANDOVER_FDS * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = msg, .iov_len = sizeof *msg };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf };
    struct pollfd pfd = { .fd = sock, .events = POLLIN };
    struct cmsghdr *cmsg;
    size_t got = 0;
    ssize_t n;
    int retval;

    *n_fds = 0;
    do {
        retval = poll(&pfd, 1, timeout_ms);
    } while (retval < 0 && errno == EINTR);
    if (retval < 0) {
        return errno;
    } else if (!retval) {
        return ETIMEDOUT;
    }
    do {
        n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return errno;
    }
    for (cmsg = CMSG_FIRSTHDR(&mh); cmsg; cmsg = CMSG_NXTHDR(&mh, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            size_t k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int *p = (int *) CMSG_DATA(cmsg);

            for (size_t i = 0; i < k; i++) {
                int fd;

                memcpy(&fd, p + i, sizeof fd);
                if (got < max_fds) {
                    fds[got++] = fd;
                } else {
                    close(fd);
                }
            }
        }
    }
    *n_fds = got;
    if (n == 0) {
        return EPIPE;
    }
    if (n != sizeof *msg || msg->magic != ESW_RHANDOVER_MAGIC
        || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
        for (size_t i = 0; i < got; i++) {
            close(fds[i]);
        }
        *n_fds = 0;
        return EPROTO;
    }
    msg->version[sizeof msg->version - 1] = '\0';
    msg->message[sizeof msg->message - 1] = '\0';
    return 0;
}
