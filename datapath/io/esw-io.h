/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_IO_H
#define ESW_IO_H 1

/* Host-side I/O backends of the sim driver: what the function behind a
 * vport (a VM, the wire) sends and receives.  One file per backend
 * (esw-io-capture.c, esw-io-tap.c, esw-io-vhost.c, esw-io-wire.c), one
 * ops table each.
 * The vhost-user backend needs DPDK: it is in a library of its own
 * (libesw-vhost.a) and registers itself with esw_io_vhost_init().
 *
 * Error convention: 0 or a positive errno, with a reason in the
 * 'struct esw_error' for open.  'open' either succeeds completely or
 * leaves nothing behind.
 *
 * Ownership: 'tx' takes every packet it is given (delivered or freed);
 * packets returned by 'rx' belong to the caller.
 *
 * Threading: 'rx', 'prepare_wait' and 'get_fd' are called by the one
 * forwarding thread that owns the vport; 'tx' by any thread (forwarding
 * threads and representor senders) concurrently.  'close' is called when
 * no other thread can use the backend any more (after an RCU grace
 * period). */

#include <stdbool.h>
#include <stddef.h>

#include "esw-emu.h"

struct esw_io;

struct esw_io_params {
    const char *vport_name;     /* "pf0vf3". */
    const char *dev_name;       /* "esw0". */
    const struct esw_io_config *cfg;
    const struct esw_eth_addr *mac;     /* The function's MAC (zero: keep
                                         * the backend's own). */

    /* Live update (ovs-eswitchd's hand-over): the descriptors another
     * process's backend of the same config exported ('export_fds'), which
     * 'open' takes over instead of creating its own (the tap interface,
     * the wire's sockets stay as they are, with what is queued in them).
     * On success they belong to the backend; on failure to the caller.
     * 'n_adopt_fds' 0: a plain open. */
    const int *adopt_fds;
    size_t n_adopt_fds;
};

#define ESW_IO_MAX_EXPORT_FDS 2

struct esw_io_ops {
    enum esw_io_type type;

    int (*open)(const struct esw_io_params *, struct esw_io **,
                struct esw_error *);
    void (*close)(struct esw_io *);

    /* Receives up to 'max' frames the function transmitted.  Never
     * blocks. */
    size_t (*rx)(struct esw_io *, struct esw_pkt *pkts[], size_t max);

    /* Delivers 'n' frames to the function.  Returns how many were
     * delivered; the others were dropped (and freed). */
    size_t (*tx)(struct esw_io *, struct esw_pkt *pkts[], size_t n);

    /* The fd to wait on for rx (level-triggered EPOLLIN), or -1. */
    int (*get_fd)(const struct esw_io *);

    /* Called before the forwarding thread sleeps on get_fd(): returns
     * false if rx would return something right away.  May be NULL (then
     * the fd alone tells). */
    bool (*prepare_wait)(struct esw_io *);

    /* True if no received frame is waiting (for esw_dev_is_idle()).  May
     * be NULL: the backend is not tracked. */
    bool (*rx_is_empty)(struct esw_io *);

    /* Stores the MAC address the function's side of the backend has now
     * (tap: the interface's address, wherever the interface is).  May be
     * NULL: the backend has no address of its own.  Any thread. */
    int (*get_mac)(const struct esw_io *, struct esw_eth_addr *);

    /* True while the function's side can take frames (vhost-user: a guest
     * driver is ready); frames sent meanwhile are link-down drops.  May be
     * NULL: always.  Any thread, cheap (called per egress batch). */
    bool (*is_up)(const struct esw_io *);

    /* Fills in the fields of 'info' (esw-emu.h) that the backend knows
     * ('host_up', the vhost-user fields).  May be NULL.  Any thread. */
    void (*get_info)(const struct esw_io *, struct esw_host_info *);

    /* Stores in 'fds' (at most ESW_IO_MAX_EXPORT_FDS, -1 for a slot that
     * has none now) the descriptors that the backend's host side lives in
     * and returns how many slots, for a process that takes the backend
     * over (esw_io_params 'adopt_fds').  Borrowed.  May be NULL: nothing
     * to hand over (the side is re-created, as capture). */
    size_t (*export_fds)(const struct esw_io *, int fds[]);
};

/* Common part of every backend. */
struct esw_io {
    const struct esw_io_ops *ops;
    char name[ESW_NAME_MAX];    /* Interface name, if any. */
};

extern const struct esw_io_ops esw_io_capture_ops;
extern const struct esw_io_ops esw_io_tap_ops;
extern const struct esw_io_ops esw_io_wire_ops;    /* esw-io-wire.c. */
extern const struct esw_io_ops esw_io_vhost_ops;     /* libesw-vhost.a. */

/* Returns the ops for 'type', or NULL for ESW_IO_NONE and for a backend
 * that is not registered (vhost-user before esw_io_vhost_init()). */
const struct esw_io_ops *esw_io_ops_for_type(enum esw_io_type);

/* Makes 'ops' the backend of its type (once; for backends outside
 * libesw.a). */
void esw_io_register(const struct esw_io_ops *ops);

/* vhost-user backend (esw-io-vhost.c, libesw-vhost.a).
 *
 * esw_io_vhost_init() registers the backend, after checking that DPDK's
 * EAL is initialised (by the caller: the process decides how, e.g.
 * ovs-vswitchd with OVS's own DPDK or with --no-huge defaults) and
 * creating the mbuf pool that frames from guests are received into.
 * Idempotent.  Returns 0, or ENODEV (no EAL) or ENOMEM with a reason. */
int esw_io_vhost_init(struct esw_error *);

/* Capture backend only. */

/* Queues 'pkt' as if the function transmitted it (takes it).  ENOBUFS if
 * the inject queue is full (then 'pkt' is freed). */
int esw_io_capture_inject(struct esw_io *, struct esw_pkt *pkt);
/* Dequeues up to 'max' frames the function received.  One reader at a
 * time. */
size_t esw_io_capture_read(struct esw_io *, struct esw_pkt *pkts[],
                           size_t max);

#endif /* esw-io.h */
