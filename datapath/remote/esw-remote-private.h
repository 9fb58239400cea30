/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_REMOTE_PRIVATE_H
#define ESW_REMOTE_PRIVATE_H 1

/* The "remote" driver's state, shared by its calls (esw-remote.c) and its
 * device reset (esw-remote-reset.c).  See the top of esw-remote.c. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esw-provider.h"
#include "esw-remote-proto.h"
#include "esw-remote-ring.h"
#include "esw-policy-config.h"

#define ESW_REMOTE_TIMEOUT_MS 10000
#define ESW_REMOTE_MAX_UNACKED 256
/* Of which RULE_ADDs: their replies (about 3 kB each, the spec) must fit
 * in the socket's buffer, or the daemon, its replies unread, would stop
 * reading the requests that the client blocks sending. */
#define ESW_REMOTE_MAX_UNACKED_ADDS 16
#define ESW_REMOTE_BACKOFF_MIN_MS 10
#define ESW_REMOTE_BACKOFF_MAX_MS 1000

/* A rule handle of this driver. */
struct esw_rule {
    uint64_t id;                        /* The daemon knows it by this. */
    struct esw_rule_spec spec;          /* Current spec. */
    struct esw_rule *prev, *next;       /* Insertion order. */
    struct esw_rule *hash_next;         /* 'rule_hash' bucket. */
    struct esw_rule *key_next;          /* 'key_hash' bucket. */
    uint32_t key_hash;                  /* Of esw_rule_key() and priority. */
    bool add_pending;                   /* Its RULE_ADD's reply is not read
                                         * yet ('conn_mutex'). */
    bool deleted;                       /* esw_rule_del()'d during a reset:
                                         * freed once the device is back. */
    bool gone;                          /* Not in the device since it was
                                         * re-created (a vport it names was
                                         * deleted first): orphaned. */
    struct esw_rule_stats base;         /* Counted by the devices before
                                         * the last re-creation. */
    struct esw_rule_stats seen;         /* Last returned by get_stats. */
};

#define RULE_HASH_SIZE 4096

/* A connection table entry handle of this driver (esw-remote-ct.c). */
struct esw_ct {
    uint64_t id;                        /* The daemon knows it by this. */
    struct esw_ct *prev, *next;         /* Insertion order ('ct_mutex'). */
    struct esw_ct *hash_next;           /* 'ct_hash' bucket ('ct_mutex'). */
    bool deleted;                       /* esw_ct_del()'d during a reset:
                                         * deleted and freed once the
                                         * device is back ('ct_mutex'). */

    /* 'ct_stats_mutex'. */
    struct esw_ct_spec spec;            /* Mark and label as last set. */
    bool flushed;                       /* Taken out by esw_ct_flush(). */
    bool gone;                          /* Not in the device (flushed before
                                         * a reset, or refused by the
                                         * re-created device): counters as
                                         * last seen. */
    bool dirty;                         /* Mark or label changed during a
                                         * reset: to apply once back. */
    uint32_t slot;                      /* In 'ct_table', if not 'gone'. */
    struct esw_ct_stats base;           /* Counted by the devices before
                                         * the last re-creation. */
    struct esw_ct_stats seen;           /* Last returned by get_stats. */
    uint32_t new_slot;                  /* During a reset: the slot in the
                                         * device coming back... */
    bool new_gone;                      /* ...or none... */
    bool new_fold;                      /* ...and whether it was re-added
                                         * there (its counters from 0). */
};

#define CT_HASH_SIZE 4096

/* A representor queue, mapped. */
struct rep_ring {
    struct esw_rring *r;
    size_t size;
    int efd;
    unsigned int empty_polls;   /* Empty reads since the last re-arm. */
};

/* The record of a vport. */
struct rvport {
    uint64_t seq;                       /* Order of addition. */
    bool deleted;                       /* esw_vport_del()'d during a reset:
                                         * deleted once the device is
                                         * back. */
    struct esw_vport_config cfg;        /* 'vport' its number, 'io' NULL;
                                         * 'mac', 'mtu', 'admin_down' and
                                         * 'n_rep_queues' as last set. */
    bool has_io;
    struct esw_io_config io;
    struct esw_policy_config *policy;   /* NULL: none. */
    bool has_guest_mac;
    struct esw_eth_addr guest_mac;      /* Last accepted guest request. */
    struct esw_vport_info info;         /* Last known. */
    bool has_host;
    struct esw_host_info host;          /* Last known. */
    struct esw_vport_stats base;        /* Counted by the devices before
                                         * the last re-creation. */
    uint64_t reset_drops;               /* Sends dropped during resets. */
};

/* The record of a meter. */
struct rmeter {
    uint32_t id;
    bool deleted;                       /* As rvport's. */
    struct esw_meter_config cfg;
};

/* A request sent without waiting for its reply. */
struct rpending {
    uint16_t op;                        /* ESW_ROP_RULE_DEL or _ADD. */
    uint64_t id;                        /* The rule's. */
    struct esw_rule *rule;              /* RULE_ADD's ('add_pending'), NULL
                                         * once deleted. */
};

/* A connection to the daemon. */
struct rconn {
    int sock;
    uint32_t seq;
    unsigned int n_unacked_adds;        /* RULE_ADDs among them. */
    unsigned int n_unacked;             /* Replies to read... */
    struct rpending unacked[ESW_REMOTE_MAX_UNACKED];  /* ...by seq. */
    struct remote_dev *owner;           /* The device's own connection:
                                         * the device, else NULL (no
                                         * RULE_ADD sent without waiting). */
};

enum remote_state {
    REMOTE_RUNNING,             /* Connected. */
    REMOTE_RESET,               /* The daemon went away: reconnecting. */
    REMOTE_DEAD,                /* It answered garbage: ENODEV for ever. */
};

struct remote_dev {
    struct esw_dev up;
    char path[ESW_PATH_MAX];            /* The daemon's socket. */
    struct esw_dev_config cfg;          /* As opened ('emu' NULL). */
    bool has_emu;
    struct esw_emu_dev_config emu;

    /* enum remote_state: written with 'conn_mutex' held, read without. */
    _Atomic int state;

    /* Protects the connection. */
    pthread_mutex_t conn_mutex;
    struct rconn conn;

    /* Protects the mapped rings (the arrays and each ring's consumer
     * state) and the counters' mapping: the representor readers and
     * senders take only this one once their ring is mapped, so that they
     * never wait for a round trip. */
    pthread_mutex_t rings_mutex;
    struct rep_ring *(*rings)[ESW_MAX_REP_QUEUES];  /* Per vport, NULL:
                                                     * not mapped yet. */
    struct rep_ring **send_rings;       /* Per vport, NULL: not mapped yet
                                         * ('efd': the daemon's). */
    struct esw_rstats *stats;           /* The vports' counters. */
    size_t stats_size;

    /* Protects the rule list and hash. */
    pthread_mutex_t rules_mutex;
    struct esw_rule *head, *tail;
    struct esw_rule *rule_hash[RULE_HASH_SIZE];
    struct esw_rule *key_hash[RULE_HASH_SIZE];  /* Rules not deleted, by
                                                 * key (EEXIST). */
    size_t n_keyed;                     /* Rules in 'key_hash' (ENOSPC). */
    uint64_t next_id;
    bool warned_add;                    /* Logged a pipelined add that the
                                         * daemon refused ('conn_mutex'). */

    /* Protects the connection list and hash. */
    pthread_mutex_t ct_mutex;
    struct esw_ct *ct_head, *ct_tail;
    struct esw_ct *ct_hash[CT_HASH_SIZE];
    uint64_t next_ct_id;

    /* Protects each connection's counters, spec and slot, and the mapping
     * of the daemon's table of connection counters (a leaf lock, never
     * held across a round trip: esw_ct_get_stats() never waits for the
     * daemon). */
    pthread_mutex_t ct_stats_mutex;
    struct esw_rct *ct_table;           /* NULL: no connection table. */
    size_t ct_table_size;

    /* Protects the record of vports and meters (a leaf lock). */
    pthread_mutex_t rec_mutex;
    struct rvport **vports;             /* [caps.max_vports], NULL: none. */
    uint64_t vport_seq;
    struct rmeter *meters;              /* By increasing id. */
    size_t n_meters, allocated_meters;

    /* The device's thread: watches the connection, reconnects. */
    pthread_t thread;
    bool has_thread;
    int wake_fd;                        /* An eventfd that wakes it. */
    _Atomic bool closing;
    long long int lost_at;              /* When the reset began (ms). */
};

static inline struct remote_dev *
remote_dev_cast(const struct esw_dev *dev)
{
    return (struct remote_dev *) dev;
}

static inline int
remote_state(const struct remote_dev *d)
{
    return atomic_load(&d->state);
}

/* esw-remote.c. */
long long int remote_now_ms(void);
void remote_close_fds(int fds[ESW_RPROTO_MAX_FDS]);
int remote_connect_daemon(const char *path, int *sockp);
int remote_map_stats(int fds[ESW_RPROTO_MAX_FDS], uint32_t max_vports,
                     struct esw_rstats **statsp, size_t *sizep);
int rconn_call(struct rconn *, uint16_t op, const void *req, size_t req_len,
               void *reply, size_t reply_len, void **varp, size_t *var_lenp,
               int *fds, int *resultp);
int rconn_send_unacked(struct rconn *, uint16_t op, const void *req,
                       size_t len, uint64_t id, struct esw_rule *rule);
int remote_call__(struct remote_dev *, uint16_t op, const void *req,
                  size_t req_len, void *reply, size_t reply_len, void **varp,
                  size_t *var_lenp, int *fds);
int remote_call(struct remote_dev *, uint16_t op, const void *req,
                size_t req_len, void *reply, size_t reply_len);
int remote_conn_fail(struct remote_dev *, int fail);
void remote_conn_break(struct remote_dev *);
int remote_state_error(struct remote_dev *, int error, struct esw_error *);
void remote_conn_lost(struct remote_dev *, int error);
struct rvport *rvport_get__(const struct remote_dev *, uint32_t vport);
void rvport_free(struct rvport *);
void rmeter_remove__(struct remote_dev *, struct rmeter *);
struct esw_rule *remote_rule_find__(struct remote_dev *, uint64_t id);
void remote_rule_unlist__(struct remote_dev *, struct esw_rule *);
void remote_unmap_rings__(struct remote_dev *, uint32_t vport);

/* esw-remote-ct.c: the connection table (see the top of that file). */
int remote_ct_add(struct esw_dev *, const struct esw_ct_spec *,
                  struct esw_error *, struct esw_ct **);
int remote_ct_modify(struct esw_dev *, struct esw_ct *, uint32_t mark,
                     const uint64_t label[2]);
void remote_ct_del(struct esw_dev *, struct esw_ct *);
size_t remote_ct_flush(struct esw_dev *, const uint16_t *zone);
int remote_ct_get_stats(struct esw_dev *, const struct esw_ct *,
                        struct esw_ct_stats *);
void remote_ct_get_spec(struct esw_dev *, const struct esw_ct *,
                        struct esw_ct_spec *);
size_t remote_ct_count(struct esw_dev *);
void remote_ct_foreach(struct esw_dev *, bool (*cb)(struct esw_ct *, void *),
                       void *aux);
int remote_ct_map(struct rconn *, const struct esw_caps *,
                  struct esw_rct **tablep, size_t *sizep);
int remote_ct_open(struct remote_dev *);
void remote_ct_free(struct remote_dev *);
/* A reset: remote_ct_program() makes the device on 'c' hold what the
 * record holds (re-adding, deleting, re-marking), keeping the new slots
 * aside; remote_ct_finish() (with 'ct_mutex' and 'conn_mutex' held)
 * applies what changed meanwhile and makes 'table' and the new slots the
 * device's. */
int remote_ct_program(struct remote_dev *, struct rconn *c, size_t *n_cts,
                      size_t *added, size_t *removed, char *why,
                      size_t size);
int remote_ct_finish__(struct remote_dev *, struct rconn *c,
                       struct esw_rct *table, size_t table_size);

/* esw-remote-reset.c: the device's thread (pthread_create()'s start
 * routine, its argument the device). */
void *remote_thread(void *dev);

#endif /* esw-remote-private.h */
