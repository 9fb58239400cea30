/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* datapath/esw-emu.c: the emulator-only calls of esw-emu.h, dispatched to
 * a driver's emulator ops (which hardware drivers do not have). */

#include "esw-emu.h"
#include "esw-provider.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

const char *
esw_io_type_name(enum esw_io_type type)
{
    switch (type) {
    case ESW_IO_NONE: return "none";
    case ESW_IO_CAPTURE: return "capture";
    case ESW_IO_TAP: return "tap";
    case ESW_IO_VHOST_USER: return "vhost-user";
    case ESW_IO_WIRE: return "wire";
    }
    return "unknown";
}

const char *
esw_virtio_feature_name(unsigned int bit)
{
    static const char *const names[] = {
        [ESW_VIRTIO_NET_F_CSUM] = "csum",
        [ESW_VIRTIO_NET_F_GUEST_CSUM] = "guest_csum",
        [ESW_VIRTIO_NET_F_MTU] = "mtu",
        [ESW_VIRTIO_NET_F_MAC] = "mac",
        [ESW_VIRTIO_NET_F_GSO] = "gso",
        [ESW_VIRTIO_NET_F_GUEST_TSO4] = "guest_tso4",
        [ESW_VIRTIO_NET_F_GUEST_TSO6] = "guest_tso6",
        [ESW_VIRTIO_NET_F_GUEST_ECN] = "guest_ecn",
        [ESW_VIRTIO_NET_F_GUEST_UFO] = "guest_ufo",
        [ESW_VIRTIO_NET_F_HOST_TSO4] = "host_tso4",
        [ESW_VIRTIO_NET_F_HOST_TSO6] = "host_tso6",
        [ESW_VIRTIO_NET_F_HOST_ECN] = "host_ecn",
        [ESW_VIRTIO_NET_F_HOST_UFO] = "host_ufo",
        [ESW_VIRTIO_NET_F_MRG_RXBUF] = "mrg_rxbuf",
        [ESW_VIRTIO_NET_F_STATUS] = "status",
        [ESW_VIRTIO_NET_F_CTRL_VQ] = "ctrl_vq",
        [ESW_VIRTIO_NET_F_CTRL_RX] = "ctrl_rx",
        [ESW_VIRTIO_NET_F_CTRL_VLAN] = "ctrl_vlan",
        [ESW_VIRTIO_NET_F_GUEST_ANNOUNCE] = "guest_announce",
        [ESW_VIRTIO_NET_F_MQ] = "mq",
        [ESW_VIRTIO_NET_F_CTRL_MAC_ADDR] = "ctrl_mac_addr",
        [ESW_VIRTIO_F_ANY_LAYOUT] = "any_layout",
        [ESW_VIRTIO_F_INDIRECT_DESC] = "indirect_desc",
        [ESW_VIRTIO_F_EVENT_IDX] = "event_idx",
        [30] = "protocol_features",     /* vhost-user's own. */
        [ESW_VIRTIO_F_VERSION_1] = "version_1",
        [ESW_VIRTIO_F_RING_PACKED] = "ring_packed",
        [ESW_VIRTIO_F_IN_ORDER] = "in_order",
    };

    return bit < sizeof names / sizeof names[0] ? names[bit] : NULL;
}

int
esw_vhost_check_features(uint64_t features, struct esw_error *err)
{
    uint64_t bad = features & ~(ESW_VHOST_BACKEND_FEATURES
                                | ESW_VHOST_FRONTEND_FEATURES);

    if (bad) {
        unsigned int bit = __builtin_ctzll(bad);
        const char *name = esw_virtio_feature_name(bit);

        return esw_error_set(err, EOPNOTSUPP, ESW_ERROR_HOST_IO, bit,
                             "features 0x%"PRIx64": %s%s"
                             "bit %u%s is not supported by vhost-user host "
                             "sides", features, name ? name : "",
                             name ? " (" : "", bit, name ? ")" : "");
    }
    return 0;
}

int
esw_vport_get_host(struct esw_dev *dev, uint32_t vport,
                   struct esw_host_info *info)
{
    const struct esw_emu_ops *emu = dev->driver->emu;

    memset(info, 0, sizeof *info);
    return (emu && emu->vport_get_host
            ? emu->vport_get_host(dev, vport, info)
            : EOPNOTSUPP);
}

int
esw_vport_get_host_mac(struct esw_dev *dev, uint32_t vport,
                       struct esw_eth_addr *mac)
{
    struct esw_host_info info;
    int error = esw_vport_get_host(dev, vport, &info);

    if (!error && !info.has_mac) {
        error = EOPNOTSUPP;
    }
    if (error) {
        memset(mac, 0, sizeof *mac);
    } else {
        *mac = info.mac;
    }
    return error;
}

int
esw_host_inject(struct esw_dev *dev, uint32_t vport, struct esw_pkt *pkt)
{
    const struct esw_emu_ops *emu = dev->driver->emu;

    if (!pkt) {
        return EINVAL;
    }
    if (!emu || !emu->host_inject) {
        esw_pkt_free(pkt);
        return EOPNOTSUPP;
    }
    return emu->host_inject(dev, vport, pkt);
}

size_t
esw_host_capture_read(struct esw_dev *dev, uint32_t vport,
                      struct esw_pkt *pkts[], size_t max)
{
    const struct esw_emu_ops *emu = dev->driver->emu;

    return (emu && emu->host_capture_read && max
            ? emu->host_capture_read(dev, vport, pkts, max) : 0);
}

bool
esw_dev_is_idle(struct esw_dev *dev)
{
    const struct esw_emu_ops *emu = dev->driver->emu;

    return !emu || !emu->is_idle || emu->is_idle(dev);
}

int
esw_dev_wait_idle(struct esw_dev *dev, unsigned int timeout_ms)
{
    uint64_t deadline = esw_time_msec() + timeout_ms;

    for (;;) {
        if (esw_dev_is_idle(dev)) {
            return 0;
        }
        if (esw_time_msec() >= deadline) {
            return ETIMEDOUT;
        }
        nanosleep(&(struct timespec) { .tv_nsec = 50 * 1000 }, NULL);
    }
}
