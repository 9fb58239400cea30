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
    ESW_IO_VHOST_USER,          /* A vhost-user socket served with DPDK's
                                 * rte_vhost: a VM (QEMU) or a DPDK
                                 * virtio_user port attaches to it with
                                 * its own virtio-net driver.  Available
                                 * once esw_io_vhost_init() succeeded
                                 * (esw-io.h); virtio-net functions (SF
                                 * >= ESW_SF_VIRTIO_MIN) only. */
    ESW_IO_WIRE,                /* One end of a cable to another emulated
                                 * NIC: a Unix seqpacket connection at
                                 * 'path', listening or ('client')
                                 * connecting (esw-io-wire.c); uplinks
                                 * only. */
};

const char *esw_io_type_name(enum esw_io_type);

/* Virtio-net feature bits (virtio 1.1, 5.1.3), as numbers of bits. */
enum esw_virtio_feature {
    ESW_VIRTIO_NET_F_CSUM = 0,
    ESW_VIRTIO_NET_F_GUEST_CSUM = 1,
    ESW_VIRTIO_NET_F_MTU = 3,
    ESW_VIRTIO_NET_F_MAC = 5,
    ESW_VIRTIO_NET_F_GSO = 6,
    ESW_VIRTIO_NET_F_GUEST_TSO4 = 7,
    ESW_VIRTIO_NET_F_GUEST_TSO6 = 8,
    ESW_VIRTIO_NET_F_GUEST_ECN = 9,
    ESW_VIRTIO_NET_F_GUEST_UFO = 10,
    ESW_VIRTIO_NET_F_HOST_TSO4 = 11,
    ESW_VIRTIO_NET_F_HOST_TSO6 = 12,
    ESW_VIRTIO_NET_F_HOST_ECN = 13,
    ESW_VIRTIO_NET_F_HOST_UFO = 14,
    ESW_VIRTIO_NET_F_MRG_RXBUF = 15,
    ESW_VIRTIO_NET_F_STATUS = 16,
    ESW_VIRTIO_NET_F_CTRL_VQ = 17,
    ESW_VIRTIO_NET_F_CTRL_RX = 18,
    ESW_VIRTIO_NET_F_CTRL_VLAN = 19,
    ESW_VIRTIO_NET_F_GUEST_ANNOUNCE = 21,
    ESW_VIRTIO_NET_F_MQ = 22,
    ESW_VIRTIO_NET_F_CTRL_MAC_ADDR = 23,
    ESW_VIRTIO_F_ANY_LAYOUT = 27,
    ESW_VIRTIO_F_INDIRECT_DESC = 28,
    ESW_VIRTIO_F_EVENT_IDX = 29,
    ESW_VIRTIO_F_VERSION_1 = 32,
    ESW_VIRTIO_F_RING_PACKED = 34,
    ESW_VIRTIO_F_IN_ORDER = 35,
};

#define ESW_VIRTIO_BIT(F) (UINT64_C(1) << ESW_VIRTIO_##F)

/* Virtio-net features a vhost-user host side serves itself (what
 * rte_vhost implements and the eSwitch handles): checksum offload and TSO
 * from the guest (a partial checksum is completed and a TSO superframe is
 * segmented when the frame enters the eSwitch, so every destination gets
 * complete wire-size frames), mergeable receive buffers, multiqueue, MTU
 * and the ring layouts.  The eSwitch never sends the guest a frame that
 * needs an offload, so the GUEST_* offloads are not offered. */
#define ESW_VHOST_BACKEND_FEATURES                                          \
    (ESW_VIRTIO_BIT(NET_F_CSUM) | ESW_VIRTIO_BIT(NET_F_MTU)                 \
     | ESW_VIRTIO_BIT(NET_F_HOST_TSO4) | ESW_VIRTIO_BIT(NET_F_HOST_TSO6)    \
     | ESW_VIRTIO_BIT(NET_F_MRG_RXBUF) | ESW_VIRTIO_BIT(NET_F_MQ)           \
     | ESW_VIRTIO_BIT(F_ANY_LAYOUT) | ESW_VIRTIO_BIT(F_INDIRECT_DESC)       \
     | ESW_VIRTIO_BIT(F_EVENT_IDX) | ESW_VIRTIO_BIT(F_VERSION_1)            \
     | ESW_VIRTIO_BIT(F_RING_PACKED) | ESW_VIRTIO_BIT(F_IN_ORDER))

/* Virtio-net features that the VMM's (QEMU's, virtio_user's) device model
 * provides by itself in vhost-user: the MAC and status fields of the
 * config space and the control queue.  A function may list them; they are
 * not sent to the backend. */
#define ESW_VHOST_FRONTEND_FEATURES                                         \
    (ESW_VIRTIO_BIT(NET_F_MAC) | ESW_VIRTIO_BIT(NET_F_STATUS)               \
     | ESW_VIRTIO_BIT(NET_F_CTRL_VQ) | ESW_VIRTIO_BIT(NET_F_CTRL_RX)        \
     | ESW_VIRTIO_BIT(NET_F_CTRL_VLAN) | ESW_VIRTIO_BIT(NET_F_GUEST_ANNOUNCE)\
     | ESW_VIRTIO_BIT(NET_F_CTRL_MAC_ADDR))

/* Returns the name of virtio-net feature bit 'bit' ("csum", "host_tso4",
 * "mq", "version_1"...), or NULL if it has none here. */
const char *esw_virtio_feature_name(unsigned int bit);

/* Checks that a vhost-user host side can offer 'features': EOPNOTSUPP
 * (ESW_ERROR_HOST_IO, 'cause' the bit) with a reason naming the first bit
 * it cannot ("features 0x...: guest_tso4
 * (bit 7) is not supported by vhost-user host sides"), else 0. */
int esw_vhost_check_features(uint64_t features, struct esw_error *);

#define ESW_PATH_MAX   108      /* sun_path, including the NUL. */
#define ESW_MAX_QUEUES 64       /* Virtio-net queue pairs of a function. */

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

    /* vhost-user and wire. */
    char path[ESW_PATH_MAX];    /* Socket path (absolute). */
    bool client;                /* Connect to 'path' (the VMM or the other
                                 * end of the wire listens, and
                                 * the backend reconnects whenever it
                                 * goes away) instead of listening on it
                                 * (the default: the VMM connects, and
                                 * reconnects after a restart of this
                                 * process with QEMU's "reconnect"). */
    uint64_t virtio_features;   /* Offered to the guest, checked with
                                 * esw_vhost_check_features(). */
    uint32_t n_queues;          /* Queue pairs served, 1..ESW_MAX_QUEUES
                                 * (0: 1).  Frames to the guest are spread
                                 * over the queues the guest enabled by a
                                 * hash of the flow (RSS). */
};

/* What a function's host side is now. */
struct esw_host_info {
    enum esw_io_type type;
    char ifname[ESW_NAME_MAX];  /* tap: interface name; else empty. */
    bool has_mac;               /* Whether the host side has an address of
                                 * its own (tap): then it is 'mac'. */
    struct esw_eth_addr mac;
    bool host_up;               /* The host side has a user: a tap or
                                 * capture side always, a vhost-user side
                                 * while a guest driver is ready (between
                                 * DRIVER_OK and its going away). */

    /* vhost-user and wire host sides (zero for the others). */
    char path[ESW_PATH_MAX];    /* Socket path. */
    bool client;                /* Client mode. */
    uint64_t virtio_offered;    /* Features offered. */
    uint64_t virtio_negotiated; /* Features the guest driver accepted (0
                                 * while !host_up). */
    uint32_t virtio_queues;     /* Queue pairs served. */
    uint32_t virtio_guest_queues;   /* Queue pairs the guest has (0 while
                                     * !host_up). */
    uint32_t virtio_enabled_queues; /* Served queue pairs whose two rings
                                     * the guest enabled. */
    uint64_t host_connects;     /* Guest drivers that became ready (wire:
                                 * connections made). */
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
