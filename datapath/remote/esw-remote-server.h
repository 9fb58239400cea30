/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_REMOTE_SERVER_H
#define ESW_REMOTE_SERVER_H 1

/* The device daemon's side of the protocol (esw-remote-proto.h): one
 * session per client connection, which runs the client's requests on the
 * "sim" device it opened.  Transport-free, so that ovs-eswitchd's loop
 * and the fuzz target drive it alike.
 *
 * A session owns one device reference, the rule handles its client
 * added (by the client's ids) and the device's representor queues, as
 * shared-memory rings (esw-remote-ring.h) that the device's forwarding
 * threads fill directly (esw-sim.h's representor sink), and a send ring
 * per vport.  A device has one session at a time (EBUSY for a second).
 *
 * What ends a device: its client's DEV_CLOSE (esw_dev_close() of the
 * last reference: the eSwitch's last port removed, "ovs-appctl exit
 * --cleanup"), or esw_rsession_destroy().  A client that goes away
 * without closing (a plain exit, a crash, kill -9) leaves its device kept:
 * esw_rsession_detach() keeps the session with everything in it, the
 * device goes on forwarding by its rules and counts its misses as
 * no-controller drops, and the next DEV_OPEN of that name (from any
 * client) takes the session over, rules and their ids included
 * (RULE_LIST).  esw_rsession_expire() ends kept devices nobody took over
 * in time. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esw-remote-proto.h"

struct esw_rsession;

/* A reply being built: header fields, payload and the descriptors to
 * attach (borrowed from the session: not to be closed). */
struct esw_rreply {
    int32_t result;
    char reason[128];           /* Why a request was malformed, or "". */
    int fds[ESW_RPROTO_MAX_FDS];
    uint32_t n_fds;
    uint8_t *data;
    size_t len, allocated;
};

struct esw_rsession *esw_rsession_create(void);
void esw_rsession_destroy(struct esw_rsession *);   /* Accepts NULL. */

/* Handles one request whose header passed esw_rproto_check_hdr(): fills
 * in 'reply' (initialized by the caller with esw_rreply_init()).  Returns
 * false if the connection must be closed after the reply (a failed
 * handshake). */
bool esw_rsession_handle(struct esw_rsession *,
                         const struct esw_rmsg_hdr *, const uint8_t *payload,
                         struct esw_rreply *reply);

void esw_rreply_init(struct esw_rreply *);
/* Appends 'n' bytes of 'p' (zeros if NULL) to the reply's payload. */
void esw_rreply_put(struct esw_rreply *, const void *p, size_t n);
void esw_rreply_destroy(struct esw_rreply *);

/* OVS's sends: each vport has a shared-memory ring (esw-remote-ring.h)
 * that the client fills with the packets it sends on the vport's
 * representor, and the session one eventfd that the client signals when
 * it enqueues into a ring the session sleeps on.  The daemon polls that
 * fd (-1 before a device is open) and, when it is readable, calls
 * esw_rsession_run(), which sends what waits in the rings; every request
 * runs it first too, so that a client's sends and its later calls keep
 * their order. */
int esw_rsession_send_fd(const struct esw_rsession *);
void esw_rsession_run(struct esw_rsession *);

/* Copies the counters of 's''s connections into the table its client
 * reads (esw-remote-proto.h, "Connections"): ovs-eswitchd calls it every
 * ESW_RCT_PUBLISH_MS for the sessions with connections
 * (esw_rsession_has_cts()). */
void esw_rsession_ct_publish(struct esw_rsession *);
bool esw_rsession_has_cts(const struct esw_rsession *);

/* Keeps 's', whose client went away at 'now' (ms), with its device, if
 * it has one: returns true if the caller must forget 's' (it is kept),
 * false if it must destroy it (no device, or out of memory). */
bool esw_rsession_detach(struct esw_rsession *, long long int now);

/* Destroys the kept sessions (and their devices) detached at least
 * 'timeout' ms before 'now', every one if 'timeout' is negative, calling
 * 'cb' (if nonnull) with each one's device name and number of rules
 * first.  Returns how many. */
size_t esw_rsession_expire(long long int now, long long int timeout,
                           void (*cb)(const char *name, size_t n_rules));
size_t esw_rsession_n_detached(void);

/* When the first kept session expires after 'timeout' ms: -1 if none. */
long long int esw_rsession_next_expiry(long long int timeout);

/* Whether 's' took a kept device over since the last call, and when that
 * device's previous client went away (esw_rsession_detach()'s 'now'). */
bool esw_rsession_take_adopted(struct esw_rsession *,
                               long long int *detached_at);

/* The misses its device dropped while no client had it, all vports. */
uint64_t esw_rsession_no_controller_drops(const struct esw_rsession *);

/* The rules 's''s client added. */
size_t esw_rsession_n_rules(const struct esw_rsession *);

/* The device name of the session, or NULL before it opened one. */
const char *esw_rsession_dev_name(const struct esw_rsession *);

/* Admin requests on devices (esw-remote-proto.h's DAEMON_FUNCTIONS,
 * DAEMON_HOTPLUG, DAEMON_UNPLUG), for ovs-eswitchd, which knows the
 * sessions with a client: esw_rsession_find_detached() finds the kept
 * session of device 'name'.  esw_rsession_admin_functions() replies with
 * 's''s functions.  esw_rsession_admin_hotplug() and
 * esw_rsession_admin_unplug() act on a device no client controls (the
 * caller checked): the first creates it, kept, if the daemon has none.  A
 * kept device an admin request created or changed does not expire until
 * a client took it over. */
struct esw_rsession *esw_rsession_find_detached(const char *name);
void esw_rsession_admin_functions(struct esw_rsession *, bool attached,
                                  struct esw_rreply *);
struct esw_rreq;
void esw_rsession_admin_hotplug(const struct esw_rreq *, long long int now,
                                struct esw_rreply *);
void esw_rsession_admin_unplug(const struct esw_rreq *, struct esw_rreply *);
bool esw_rsession_is_admin(const struct esw_rsession *);
/* Whether the kept session 's' took over was an admin one
 * (esw_rsession_take_adopted()). */
bool esw_rsession_adopted_admin(const struct esw_rsession *);

/* Live update (esw-remote-state.h, ovs-eswitchd(8)).
 *
 * esw_rsession_pause() brings 's''s device to a quiescent point: the
 * client's queued sends sent, what is in flight forwarded (up to 100 ms),
 * then its forwarding threads stopped; esw_rsession_resume() starts them
 * again.  esw_rsession_save() writes the device's records (DEV, VPORT...,
 * METER..., RULE..., CT...) of a paused session with a device, its descriptors
 * added to the writer's; it takes the frames out of capture host sides,
 * which esw_rsession_unsave() gives back (from the parsed state) if the
 * update fails.  esw_rsession_restore() creates a session from the parsed
 * state 'ss', taking its descriptors out of 'fds' (set to -1), paused; a
 * kept one ('ss->s.sock' -1) joins the kept sessions as detached
 * 'detached_ms' before 'now'.  NULL with a reason on failure, with
 * nothing torn down: the caller is to exit. */
bool esw_rsession_hello_done(const struct esw_rsession *);
size_t esw_rsession_n_vports(const struct esw_rsession *);
size_t esw_rsession_n_meters(const struct esw_rsession *);
struct esw_rsession *esw_rsession_detached_get(size_t i,
                                               long long int *detached_at);

struct esw_rstate_writer;
struct esw_rstate_session;
void esw_rsession_pause(struct esw_rsession *);
int esw_rsession_resume(struct esw_rsession *);
int esw_rsession_save(struct esw_rsession *, struct esw_rstate_writer *);
void esw_rsession_unsave(struct esw_rsession *,
                         const struct esw_rstate_session *);
struct esw_rsession *esw_rsession_restore(const struct esw_rstate_session *ss,
                                          int fds[], long long int now,
                                          char *reason, size_t size);

#endif /* esw-remote-server.h */
