/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The live update's state parser (esw-remote-state.h) against states
 * truncated at every length, of another version or build, with counts
 * beyond their records or arrays, descriptor indexes out of range or used
 * twice, and every byte changed in turn.  The state is a real one: a
 * session of the device daemon (esw-remote-server.h) with a device, two
 * vports (one with a frame its capture host side holds), a rule and a
 * connection,
 * paused and saved.  "test-esw-state FILE" also writes the state to FILE
 * as a seed of tests/fuzz/fuzz-state.c. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esw-remote-proto.h"
#include "esw-remote-server.h"
#include "esw-remote-state.h"
#include "unit-check.h"

static void
request(struct esw_rsession *s, enum esw_rop op, const void *payload,
        size_t len)
{
    struct esw_rmsg_hdr hdr = { .magic = ESW_RPROTO_MAGIC,
                                .version = ESW_RPROTO_VERSION, .op = op,
                                .len = len };
    struct esw_rreply reply;

    esw_rreply_init(&reply);
    CHECK(esw_rsession_handle(s, &hdr, payload, &reply));
    CHECK_EQ(reply.result, 0);
    esw_rreply_destroy(&reply);
}

static void
vport_add(struct esw_rsession *s, enum esw_vport_kind kind, uint32_t fn)
{
    struct esw_rw_vport_add a;

    memset(&a, 0, sizeof a);
    a.cfg.kind = kind;
    a.cfg.fn = fn;
    a.cfg.vport = ESW_VPORT_AUTO;
    a.has_io = true;
    a.io.type = ESW_IO_CAPTURE;
    request(s, ESW_ROP_VPORT_ADD, &a, sizeof a);
}

/* A state of one session with a device, saved by the daemon's code. */
static struct esw_rsession *
make_state(struct esw_rstate_writer *w)
{
    struct esw_rsession *s = esw_rsession_create();
    struct esw_rw_hello hello = { .abi = esw_rproto_abi() };
    struct esw_rw_dev_open open;
    struct esw_rs_daemon d;
    struct esw_rs_session rs;
    struct esw_rw_rule rule;
    struct esw_rw_ct ct;
    struct esw_rw_pkt_req *inj;
    uint8_t frame[64];
    size_t inj_len;

    request(s, ESW_ROP_HELLO, &hello, sizeof hello);
    memset(&open, 0, sizeof open);
    strcpy(open.name, "state0");
    open.cfg.max_vports = 8;
    open.cfg.max_rules = 64;
    open.cfg.max_conns = 4;
    request(s, ESW_ROP_DEV_OPEN, &open, sizeof open);
    vport_add(s, ESW_VPORT_UPLINK, 0);
    vport_add(s, ESW_VPORT_VF, 0);

    memset(&rule, 0, sizeof rule);
    rule.id = 7;
    rule.spec.match.in_vport = 1;
    rule.spec.mask.in_vport = UINT32_MAX;
    rule.spec.n_actions = 1;
    rule.spec.actions[0].type = ESW_ACTION_OUTPUT;
    rule.spec.actions[0].vport = 0;
    request(s, ESW_ROP_RULE_ADD, &rule, sizeof rule);

    memset(&ct, 0, sizeof ct);
    ct.id = 9;
    ct.spec.zone = 1;
    ct.spec.orig.src[0] = ct.spec.reply.dst[0] = 10;
    ct.spec.orig.dst[0] = ct.spec.reply.src[0] = 11;
    ct.spec.orig.src_port = ct.spec.reply.dst_port = htons(1000);
    ct.spec.orig.dst_port = ct.spec.reply.src_port = htons(53);
    ct.spec.orig.ip_proto = ct.spec.reply.ip_proto = 17;
    request(s, ESW_ROP_CT_ADD, &ct, sizeof ct);

    /* A frame from the VF that the rule sends to the uplink, whose capture
     * host side holds it until read: the state carries it. */
    memset(frame, 0, sizeof frame);
    memset(frame, 0xff, 6);
    frame[6] = 2;
    frame[12] = 0x08;
    inj_len = sizeof *inj + sizeof(struct esw_rw_pkt) + sizeof frame;
    inj = calloc(1, inj_len);
    inj->vport = 1;
    ((struct esw_rw_pkt *) (inj + 1))->len = sizeof frame;
    memcpy((uint8_t *) (inj + 1) + sizeof(struct esw_rw_pkt), frame,
           sizeof frame);
    request(s, ESW_ROP_HOST_INJECT, inj, inj_len);
    free(inj);

    esw_rsession_pause(s);
    esw_rstate_writer_init(w);
    memset(&d, 0, sizeof d);
    d.listener = esw_rstate_fd(w, 0);
    strcpy(d.socket_path, "/run/ovs-eswitchd.sock");
    d.n_sessions = 1;
    esw_rstate_put(w, ESW_RSTATE_DAEMON, &d, sizeof d, NULL, 0);
    memset(&rs, 0, sizeof rs);
    rs.sock = esw_rstate_fd(w, 1);
    rs.hello = true;
    rs.has_dev = true;
    esw_rstate_put(w, ESW_RSTATE_SESSION, &rs, sizeof rs, NULL, 0);
    CHECK_EQ(esw_rsession_save(s, w), 0);
    CHECK_EQ(esw_rstate_finish(w), 0);
    return s;
}

static uint64_t
first_rule_id(const struct esw_rstate *st)
{
    struct esw_rs_rule *r = malloc(sizeof *r);
    uint64_t id;

    esw_rstate_get_rule(&st->sessions[0], 0, r);
    id = r->rule.id;
    free(r);
    return id;
}

/* Parses 'data' and prints the reason it is refused (or "accepted"). */
static void
show(const char *what, const uint8_t *data, size_t size, size_t n_fds)
{
    struct esw_rstate st;
    char reason[256];
    int error = esw_rstate_parse(data, size, n_fds, &st, reason,
                                 sizeof reason);

    printf("%s: %s\n", what, error ? reason : "accepted");
    if (!error) {
        esw_rstate_destroy(&st);
    }
}

/* The offset of the first record of 'type' in 'data' (its payload). */
static size_t
find(const uint8_t *data, size_t size, enum esw_rstate_type type)
{
    size_t pos = sizeof(struct esw_rstate_hdr);

    while (pos + sizeof(struct esw_rstate_rec) <= size) {
        struct esw_rstate_rec rec;

        memcpy(&rec, data + pos, sizeof rec);
        if (rec.type == type) {
            return pos + sizeof rec;
        }
        pos += sizeof rec + rec.len + (8 - rec.len % 8) % 8;
    }
    CHECK_FAIL("no record of type %d", type);
}

/* Changes a field of type T at 'off' of a copy of the state by 'edit' and
 * shows what the parser says. */
#define EDIT(WHAT, TYPE, OFF, FIELD_EDIT)                                   \
    do {                                                                    \
        uint8_t *copy_ = malloc(w.len);                                     \
        TYPE *rec_ = malloc(sizeof(TYPE));                                  \
                                                                            \
        memcpy(copy_, w.data, w.len);                                       \
        memcpy(rec_, copy_ + (OFF), sizeof(TYPE));                          \
        FIELD_EDIT;                                                         \
        memcpy(copy_ + (OFF), rec_, sizeof(TYPE));                          \
        show(WHAT, copy_, w.len, w.n_fds);                                  \
        free(rec_);                                                         \
        free(copy_);                                                        \
    } while (0)

int
main(int argc, char *argv[])
{
    struct esw_rstate_writer w;
    struct esw_rsession *s = make_state(&w);
    struct esw_rstate st;
    size_t dev, vport, rule, ct, n_accepted = 0;
    char reason[256];
    uint8_t *copy;

    /* The state reads back as written. */
    CHECK_EQ(esw_rstate_parse(w.data, w.len, w.n_fds, &st, reason,
                              sizeof reason), 0);
    printf("valid: %zu sessions, %"PRIu32" vports, %"PRIu32" rules (id %"
           PRIu64"), %"PRIu32" connections, %"PRIu32" frames held, %zu "
           "descriptors\n",
           st.n_sessions, st.sessions[0].dev.n_vports,
           st.sessions[0].dev.n_rules,
           first_rule_id(&st), st.sessions[0].dev.n_cts,
           st.sessions[0].vports[0].v.n_frames, w.n_fds);
    esw_rstate_destroy(&st);
    if (argc > 1) {
        /* A seed for tests/fuzz/fuzz-state.c: the number of descriptors,
         * then the state. */
        FILE *f = fopen(argv[1], "wbx");
        uint8_t n = w.n_fds;

        CHECK(f != NULL);
        CHECK_EQ(fwrite(&n, 1, 1, f), 1);
        CHECK_EQ(fwrite(w.data, 1, w.len, f), w.len);
        CHECK_EQ(fclose(f), 0);
    }

    /* Truncated anywhere: refused. */
    for (size_t len = 0; len < w.len; len++) {
        copy = malloc(len ? len : 1);
        memcpy(copy, w.data, len);
        if (!esw_rstate_parse(copy, len, w.n_fds, &st, reason,
                              sizeof reason)) {
            CHECK_FAIL("truncated to %zu bytes of %zu: accepted", len,
                       w.len);
        }
        free(copy);
    }
    printf("truncated at each of %zu lengths: refused\n", w.len);

    show("descriptors missing", w.data, w.len, w.n_fds - 1);
    show("a descriptor too many", w.data, w.len, w.n_fds + 1);
    EDIT("version", struct esw_rstate_hdr, 0,
         rec_->version = ESW_RSTATE_VERSION + 1);
    EDIT("other build", struct esw_rstate_hdr, 0, rec_->abi ^= 1);
    EDIT("magic", struct esw_rstate_hdr, 0, rec_->magic[0] = 'X');
    EDIT("records", struct esw_rstate_hdr, 0, rec_->n_records++);

    EDIT("admin flag on a session with a client", struct esw_rs_session,
         find(w.data, w.len, ESW_RSTATE_SESSION), rec_->admin = 1);
    EDIT("admin flag not a boolean", struct esw_rs_session,
         find(w.data, w.len, ESW_RSTATE_SESSION), rec_->admin = 2);

    dev = find(w.data, w.len, ESW_RSTATE_DEV);
    vport = find(w.data, w.len, ESW_RSTATE_VPORT);
    rule = find(w.data, w.len, ESW_RSTATE_RULE);
    ct = find(w.data, w.len, ESW_RSTATE_CT);
    EDIT("rules beyond the device", struct esw_rs_dev, dev,
         rec_->n_rules = 1000);
    EDIT("rules within the device, beyond the records", struct esw_rs_dev,
         dev, rec_->n_rules = 5);
    EDIT("vports beyond the device", struct esw_rs_dev, dev,
         rec_->n_vports = 9);
    EDIT("meters beyond the records", struct esw_rs_dev, dev,
         rec_->n_meters = 1);
    EDIT("counter store descriptor out of range", struct esw_rs_dev, dev,
         rec_->stats_fd = 1000);
    EDIT("send eventfd negative", struct esw_rs_dev, dev,
         rec_->send_efd = -5);
    EDIT("device name not terminated", struct esw_rs_dev, dev,
         memset(rec_->open.name, 'x', sizeof rec_->open.name));
    EDIT("vport number beyond the device", struct esw_rs_vport, vport,
         rec_->add.cfg.vport = 8);
    EDIT("representor queues beyond the array", struct esw_rs_vport, vport,
         rec_->add.cfg.n_rep_queues = ESW_MAX_REP_QUEUES + 1);
    EDIT("ring descriptor used twice", struct esw_rs_vport, vport,
         rec_->ring_efd[0] = rec_->ring_memfd[0]);
    EDIT("a ring beyond its queues", struct esw_rs_vport, vport,
         rec_->ring_memfd[1] = 0);
    EDIT("host-side descriptors beyond the array", struct esw_rs_vport,
         vport, rec_->n_host_fds = 3);
    EDIT("frames announced that do not follow", struct esw_rs_vport, vport,
         rec_->n_frames = 5);
    EDIT("bad boolean", struct esw_rs_vport, vport,
         ((uint8_t *) rec_)[offsetof(struct esw_rs_vport, add)
                            + offsetof(struct esw_rw_vport_add, has_io)] = 2);
    EDIT("rule without an id", uint64_t, rule + 8, *rec_ = 0);
    EDIT("rule actions beyond the array", uint64_t, rule,
         *rec_ = ESW_MAX_ACTIONS + 1);
    EDIT("rule actions beyond its record", uint64_t, rule, *rec_ = 2);
    EDIT("connections beyond the table", struct esw_rs_dev, dev,
         rec_->n_cts = 9);
    EDIT("connections within the table, beyond the records",
         struct esw_rs_dev, dev, rec_->n_cts = 2);
    EDIT("connections without their table", struct esw_rs_dev, dev,
         rec_->ct_fd = -1);
    EDIT("connection table descriptor used twice", struct esw_rs_dev, dev,
         rec_->ct_fd = rec_->stats_fd);
    EDIT("connection without an id", struct esw_rs_ct, ct,
         rec_->entry.id = 0);
    EDIT("connection slot beyond the table", struct esw_rs_ct, ct,
         rec_->entry.slot = 8);
    EDIT("connection ipv6 not a boolean", struct esw_rs_ct, ct,
         ((uint8_t *) rec_)[offsetof(struct esw_rs_ct, entry)
                            + offsetof(struct esw_rw_ct_entry, spec)
                            + offsetof(struct esw_rw_ct_spec, ipv6)] = 2);

    /* Every byte changed in turn: refused or accepted, never a crash or
     * a read outside the state (the ASan build checks). */
    copy = malloc(w.len);
    for (size_t i = 0; i < w.len; i++) {
        memcpy(copy, w.data, w.len);
        copy[i] ^= 0xa5;
        if (!esw_rstate_parse(copy, w.len, w.n_fds, &st, reason,
                              sizeof reason)) {
            n_accepted++;
            esw_rstate_destroy(&st);
        }
    }
    free(copy);
    CHECK_LT(n_accepted, w.len);
    printf("each of %zu bytes changed: no crash\n", w.len);

    esw_rsession_resume(s);
    esw_rstate_writer_destroy(&w);
    esw_rsession_destroy(s);
    return 0;
}
