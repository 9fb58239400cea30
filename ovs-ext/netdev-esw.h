/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_NETDEV_ESW_H
#define OVS_EXT_NETDEV_ESW_H 1

/* Netdev classes of the eSwitch's functions: esw-uplink, esw-pf, esw-vf,
 * esw-virtio.  See netdev-esw.c. */

#include <stdbool.h>
#include <stdint.h>

struct esw_dev;
struct netdev;

/* Registers the four classes with OVS (once, before bridge_init()). */
void netdev_esw_register(void);

/* Open_vSwitch other_config, on every configuration: with
 * "eswitch-pmd=true", representors are PMD ports (polled by OVS's PMD
 * threads, see pmd-cpu-mask and pmd-maxsleep), otherwise OVS's main thread
 * polls them.  A change takes effect while no eSwitch port exists (at
 * start, or once all are removed), or when ovs-vswitchd restarts. */
struct smap;
void netdev_esw_set_ovs_config(const struct smap *other_config);

/* True if 'netdev' is one of ours. */
bool netdev_is_esw(const struct netdev *);

/* If 'netdev' (one of ours) is bound to a function, stores its device and
 * vport and returns true.  The device stays valid until the calling thread
 * quiesces (RCU). */
bool netdev_esw_get_function(const struct netdev *, struct esw_dev **devp,
                             uint32_t *vportp);

/* Drops the device references of the bindings that netdevs gave up (port
 * removed or moved to another function) once no thread can read them any
 * more: waits for an RCU grace period if there are any.  Main thread, no
 * lock held.  Called before OVS reports a configuration as applied and
 * before a port is configured, so that an eSwitch whose last port went is
 * closed (host sides, wire socket) by then. */
void netdev_esw_flush_released(void);

/* For class identification only. */
int netdev_esw_construct(struct netdev *);

#endif /* ovs-ext/netdev-esw.h */
