/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* datapath/esw-emu.h: what only an emulated eSwitch ("sim") has, apart
 * from the device API: host sides, their packets and MACs, idle waits. */

#ifndef ESW_EMU_H
#define ESW_EMU_H 1

/* The device API (esw.h) is what a hardware driver implements.  An
 * emulator also plays what is behind each function: the VM, the wire.
 * That part is here, like Linux netdevsim's debugfs next to its real ops:
 * a function's host side (its kind and configuration, injected and
 * captured packets, the MAC its guest set), the forwarding threads' busy
 * polling and batch size, and waiting until the device has processed
 * everything (tests, benchmarks).
 *
 * The configuration reaches the device through pointers in esw.h's
 * structures ('struct esw_vport_config' 'io', 'struct esw_dev_config'
 * 'emu'), which a hardware driver ignores.  The calls below go to the
 * driver's emulator ops (esw-provider.h, 'struct esw_emu_ops'), which a
 * hardware driver leaves NULL: then they fail with EOPNOTSUPP, return 0,
 * or report idle.
 *
 * The error convention, ownership and threading rules are esw.h's. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esw.h"

/* Host sides.
 * =========== */

/* What is behind a function (its host side). */
enum esw_io_type {
    ESW_IO_NONE,                /* Not attached: host tx counts as a
                                 * HOST_TX drop, nothing is received. */
    ESW_IO_CAPTURE,             /* In-memory queues for tests:
                                 * esw_host_inject()/esw_host_capture_read().
                                 */
    ESW_IO_TAP,                 /* A Linux tap device (needs
                                 * CAP_NET_ADMIN and /dev/net/tun). */
};

const char *esw_io_type_name(enum esw_io_type);

/* A function's host side, as esw_vport_config's 'io' points to it (NULL:
 * ESW_IO_NONE). */
struct esw_io_config {
    enum esw_io_type type;
    char ifname[ESW_NAME_MAX];  /* tap: interface name; empty = derived
                                 * from the vport name ("esw0-pf0vf3" is
                                 * too long, so "<dev><vport-name>"
                                 * truncated to 15 characters). */
    uint32_t queue_depth;       /* capture: inject and capture queue
                                 * depth (default 1024). */
};

/* What a function's host side is now. */
struct esw_host_info {
    enum esw_io_type type;
    char ifname[ESW_NAME_MAX];  /* tap: interface name; else empty. */
    bool has_mac;               /* Whether the host side has an address of
                                 * its own (tap): then it is 'mac'. */
    struct esw_eth_addr mac;
};

/* Stores the host side of 'vport' in '*info'.  ENOENT if there is no such
 * vport, EOPNOTSUPP if the driver has none (hardware). */
int esw_vport_get_host(struct esw_dev *, uint32_t vport,
                       struct esw_host_info *info);

/* Stores in '*mac' the MAC address the function's host side has now (sim:
 * the tap interface's address, which the guest may change, e.g. with "ip
 * link set DEV address MAC"), as esw_vport_get_host() does.  This is what
 * the guest believes its MAC is; the switch does not act on it by itself:
 * a caller that mediates guest MAC changes passes a new value to
 * esw_vport_guest_set_mac().  EOPNOTSUPP if the host side has no address
 * of its own (capture, none, or a driver without this notion), ENOENT if
 * there is no such vport. */
int esw_vport_get_host_mac(struct esw_dev *, uint32_t vport,
                           struct esw_eth_addr *mac);

/* As if the function behind 'vport' transmitted 'pkt' (takes ownership,
 * whatever it returns).  ENOENT (no vport), EOPNOTSUPP (host side is not
 * capture), ENOBUFS (inject queue full), EINVAL ('pkt' is NULL). */
int esw_host_inject(struct esw_dev *, uint32_t vport, struct esw_pkt *pkt);

/* Dequeues up to 'max' packets that the function behind 'vport' received
 * (the caller frees them with esw_pkt_free()).  Returns how many. */
size_t esw_host_capture_read(struct esw_dev *, uint32_t vport,
                             struct esw_pkt *pkts[], size_t max);

/* Devices.
 * ======== */

/* Emulator settings of a device, as esw_dev_config's 'emu' points to them
 * (NULL: the defaults). */
struct esw_emu_dev_config {
    bool busy_poll;             /* Forwarding threads spin instead of
                                 * sleeping in epoll (benchmarks). */
    uint32_t batch_size;        /* Packets per rx burst (0: 32, at most
                                 * 256). */
};

/* Returns true once every packet injected, sent on a representor or in
 * flight inside 'dev' has been fully processed (forwarded, queued to a
 * representor or capture queue, or dropped).  For tests and benchmarks. */
bool esw_dev_is_idle(struct esw_dev *);

/* Waits until esw_dev_is_idle() or 'timeout_ms' passes.  Returns 0 or
 * ETIMEDOUT.  Blocks the caller: not for threads that must not wait. */
int esw_dev_wait_idle(struct esw_dev *, unsigned int timeout_ms);

#endif /* esw-emu.h */
