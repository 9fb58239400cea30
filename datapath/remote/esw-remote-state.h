/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_REMOTE_STATE_H
#define ESW_REMOTE_STATE_H 1

/* The device daemon's state, as a live update hands it to a new
 * ovs-eswitchd (ovs-eswitchd(8), DESIGN.md 3.2).
 *
 * The running daemon writes it into a memfd at a quiescent point (its
 * devices' forwarding threads stopped, no request half done) and passes
 * it, with every descriptor the state names, over a socketpair to the
 * new process (SCM_RIGHTS).  Descriptors travel apart from the bytes:
 * the state names them by their index in the order they were sent.
 *
 * Format (version ESW_RSTATE_VERSION): a header, then records, each a
 * 'struct esw_rstate_rec' and 'len' payload bytes padded to 8:
 *
 *   DAEMON                 one, first: the daemon's settings and history.
 *   SESSION                a client connection with its session, or a kept
 *                          session whose client went away ('sock' -1);
 *                          followed by the client's unprocessed input.
 *     DEV                  the session's device, if it has one: its
 *                          open request, counter store, send eventfd and
 *                          the numbers of the records that follow:
 *       VPORT * n_vports   config, policy, guest MAC state, host-side
 *                          descriptors, representor and send rings,
 *                          then the frames a capture host side held.
 *       METER * n_meters   config and counters
 *       RULE * n_rules     in insertion order, with the client's ids,
 *                          the specs as the device keeps them and their
 *                          counters.
 *       CT * n_cts         connection table entries, with the client's
 *                          ids, their slots in the shared table of
 *                          counters (passed as 'ct_fd'), specs, counters
 *                          and last use (version 3).
 *   END                    last.
 *
 * The structures embed the protocol's wire structures (esw-remote-proto.h)
 * in this host's layout; the header's ABI fingerprint covers them.  The
 * reader (esw_rstate_parse()) checks everything before the new daemon
 * creates anything: magic, version, ABI, exact sizes, record order and
 * counts, every embedded request as the protocol checks it, strings,
 * booleans, vport numbers within the device, queue counts, descriptor
 * indexes within the descriptors received and each used once.  A state
 * that fails is refused whole, with a reason. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esw-remote-proto.h"

#define ESW_RSTATE_MAGIC "ESWSTATE"
#define ESW_RSTATE_VERSION 3
#define ESW_RSTATE_MAX_SIZE (1u << 30)
#define ESW_RSTATE_MAX_FDS 65536

struct esw_rstate_hdr {
    char magic[8];              /* ESW_RSTATE_MAGIC, no NUL. */
    uint32_t version;           /* ESW_RSTATE_VERSION. */
    uint32_t hdr_size;          /* sizeof(struct esw_rstate_hdr). */
    uint64_t abi;               /* esw_rstate_abi(). */
    uint64_t size;              /* The whole state, header included. */
    uint32_t n_records;
    uint32_t n_fds;             /* Descriptors sent with it. */
};

enum esw_rstate_type {
    ESW_RSTATE_DAEMON = 1,
    ESW_RSTATE_SESSION,
    ESW_RSTATE_DEV,
    ESW_RSTATE_VPORT,
    ESW_RSTATE_METER,
    ESW_RSTATE_RULE,
    ESW_RSTATE_END,
    ESW_RSTATE_CT,              /* Version 3. */
};

struct esw_rstate_rec {
    uint32_t type;              /* enum esw_rstate_type. */
    uint32_t len;               /* Payload bytes (then padding to 8). */
};

struct esw_rs_daemon {
    int64_t paused_at_ns;       /* CLOCK_MONOTONIC: forwarding stopped. */
    int64_t started_ns;         /* CLOCK_MONOTONIC: the first daemon. */
    uint32_t n_updates;         /* Before this one. */
    int32_t listener;           /* Descriptor index. */
    int64_t keep_ms;            /* --keep-devices. */
    uint8_t verbose;
    char socket_path[ESW_PATH_MAX];
    char pidfile[ESW_RPROTO_PATH_MAX];      /* "" if none. */
    struct esw_rw_update_result update;     /* This one, RUNNING. */
    uint32_t n_sessions;
};

struct esw_rs_session {
    int32_t sock;               /* Descriptor index, -1: kept session. */
    uint8_t hello;              /* Its handshake is done. */
    uint8_t has_dev;            /* A DEV record follows. */
    uint8_t update_pending;     /* The client waits for this update's
                                 * result (DAEMON_UPDATE 'update_seq'). */
    uint8_t admin;              /* Kept session made or changed by
                                 * ovs-eswitchctl --daemon: does not
                                 * expire (esw-remote-server.h). */
    uint32_t update_seq;
    int64_t detached_ms;        /* Kept session: how long ago its client
                                 * went away. */
    uint32_t buf_len;           /* Bytes of unprocessed input follow. */
};

struct esw_rs_dev {
    struct esw_rw_dev_open open;
    int32_t stats_fd;           /* Counter store memfd. */
    int32_t send_efd;           /* The session's send eventfd. */
    uint32_t n_vports, n_meters, n_rules;
    int32_t ct_fd;              /* Connection counters' memfd, -1: the
                                 * device has no connection table. */
    uint32_t n_cts;
};

struct esw_rs_vport {
    struct esw_rw_vport_add add;    /* 'cfg.vport' its number. */
    struct esw_rw_policy policy;
    struct esw_eth_addr guest_mac, granted_mac;
    uint8_t guest_mac_refused;
    uint32_t n_host_fds;            /* 0..ESW_IO_MAX_EXPORT_FDS... */
    int32_t host_fds[2];            /* ...indexes, or -1. */
    int32_t ring_memfd[ESW_MAX_REP_QUEUES];  /* [add.cfg.n_rep_queues]. */
    int32_t ring_efd[ESW_MAX_REP_QUEUES];
    int32_t send_memfd;             /* Its send ring. */
    uint32_t n_frames;              /* Then esw_rw_pkt + bytes each. */
};

/* A RULE record is compact: a uint64_t N (the spec's actions), then this
 * structure without the spec's unused actions, i.e. its bytes up to
 * 'rule.spec.actions', N actions, and its bytes from the end of the
 * actions array on (esw_rstate_put_rule(), esw_rstate_get_rule()). */
struct esw_rs_meter {
    struct esw_rw_meter meter;
    struct esw_meter_stats stats;
};

struct esw_rs_rule {
    struct esw_rw_rule rule;        /* The client's id and the spec. */
    struct esw_rule_stats stats;
    uint8_t orphaned;               /* A vport of it went away: only its
                                     * id is kept, for its deletion. */
};

struct esw_rs_ct {
    struct esw_rw_ct_entry entry;   /* Id, slot, flushed, spec (zero if
                                     * flushed). */
    uint64_t packets[2], bytes[2];  /* Counters, both directions... */
    uint64_t used_ms;               /* ...and last use, as published. */
};

struct esw_rstate_writer;
struct esw_rstate_session;
void esw_rstate_put_rule(struct esw_rstate_writer *,
                         const struct esw_rs_rule *);
/* Rebuilds rule 'i' of a parsed session. */
void esw_rstate_get_rule(const struct esw_rstate_session *, size_t i,
                         struct esw_rs_rule *);

uint64_t esw_rstate_abi(void);

/* Writing. */
struct esw_rstate_writer {
    uint8_t *data;
    size_t len, allocated;
    int *fds;                   /* Borrowed descriptors, in index order. */
    size_t n_fds, allocated_fds;
    uint32_t n_records;
    bool nomem;
};

void esw_rstate_writer_init(struct esw_rstate_writer *);
void esw_rstate_writer_destroy(struct esw_rstate_writer *);
/* Appends a record of 'len' bytes of 'payload' and 'extra_len' of
 * 'extra' (may be 0). */
void esw_rstate_put(struct esw_rstate_writer *, enum esw_rstate_type,
                    const void *payload, size_t len,
                    const void *extra, size_t extra_len);
/* The index 'fd' travels at (-1 for a negative 'fd'). */
int32_t esw_rstate_fd(struct esw_rstate_writer *, int fd);
/* Writes the END record and the header.  ENOMEM if anything failed. */
int esw_rstate_finish(struct esw_rstate_writer *);

/* Reading: the index of a checked state, pointing into its bytes. */
struct esw_rstate_vport {
    struct esw_rs_vport v;
    const uint8_t *frames;          /* n_frames of esw_rw_pkt + bytes. */
};

struct esw_rstate_session {
    struct esw_rs_session s;
    const uint8_t *buf;
    struct esw_rs_dev dev;          /* If s.has_dev. */
    struct esw_rstate_vport *vports;
    const uint8_t **meters;         /* struct esw_rs_meter each. */
    const uint8_t **rules;          /* RULE records' payloads. */
    const uint8_t **cts;            /* struct esw_rs_ct each. */
};

struct esw_rstate {
    struct esw_rs_daemon daemon;
    struct esw_rstate_session *sessions;
    size_t n_sessions;
};

/* Checks the state 'data' of 'size' bytes, which came with 'n_fds'
 * descriptors, and indexes it into 'st' (pointing into 'data').  Returns
 * 0, or EINVAL (ENOMEM) with a reason in 'reason'. */
int esw_rstate_parse(const uint8_t *data, size_t size, size_t n_fds,
                     struct esw_rstate *st, char *reason, size_t);
void esw_rstate_destroy(struct esw_rstate *);

/* The hand-over's messages on the socketpair between the running daemon
 * (old) and the new one (SOCK_SEQPACKET, one message each):
 *
 *   new -> old  HELLO      its version and what state it reads
 *   old -> new  FDS        'n' descriptors attached (repeated, at most
 *                          ESW_RHANDOVER_FDS each)
 *   old -> new  STATE      the state's memfd attached
 *   new -> old  RESTORED   'error' 0: everything restored, forwarding
 *                          still paused; else 'message' says why not
 *   old -> new  COMMIT     the old daemon exits; the new resumes. */
#define ESW_RHANDOVER_MAGIC 0x48575345u     /* "ESWH". */
#define ESW_RHANDOVER_FDS 200

enum esw_rhandover_type {
    ESW_RHANDOVER_HELLO = 1,
    ESW_RHANDOVER_FDS_MSG,
    ESW_RHANDOVER_STATE,
    ESW_RHANDOVER_RESTORED,
    ESW_RHANDOVER_COMMIT,
};

struct esw_rhandover_msg {
    uint32_t magic;
    uint32_t type;
    uint32_t state_version;     /* HELLO. */
    uint32_t pid;               /* HELLO. */
    uint64_t abi;               /* HELLO: esw_rstate_abi(). */
    uint32_t n;                 /* FDS: descriptors attached. */
    int32_t error;              /* RESTORED. */
    char version[ESW_RPROTO_VERSION_MAX];   /* HELLO. */
    char message[ESW_RPROTO_MESSAGE_MAX];   /* RESTORED. */
};

/* Sends 'msg' with 'n_fds' descriptors; receives one with up to 'max_fds'
 * (stored in 'fds', their number in '*n_fds'), waiting up to 'timeout_ms'.
 * 0 or a positive errno (EPIPE: the peer is gone; EPROTO: not a
 * hand-over message). */
int esw_rhandover_send(int sock, const struct esw_rhandover_msg *,
                       const int fds[], size_t n_fds);
int esw_rhandover_recv(int sock, struct esw_rhandover_msg *, int fds[],
                       size_t max_fds, size_t *n_fds, int timeout_ms);

#endif /* esw-remote-state.h */
