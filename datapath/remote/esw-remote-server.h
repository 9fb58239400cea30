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
 * esw_rsession_destroy() deletes those rules and closes the device: the
 * device lives as long as its client has it open.  (Keeping a device and
 * its rules across a client's restart is the next step, issue 20 item 4:
 * the session state is what would be kept.) */

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

/* The device name of the session, or NULL before it opened one. */
const char *esw_rsession_dev_name(const struct esw_rsession *);

#endif /* esw-remote-server.h */
