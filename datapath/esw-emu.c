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
#include <string.h>
#include <time.h>

const char *
esw_io_type_name(enum esw_io_type type)
{
    switch (type) {
    case ESW_IO_NONE: return "none";
    case ESW_IO_CAPTURE: return "capture";
    case ESW_IO_TAP: return "tap";
    }
    return "unknown";
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
