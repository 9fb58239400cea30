/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_H
#define OVS_EXT_H 1

#include <stdbool.h>

/* The one registration point of the extension.
 *
 * ovs_ext_register() adds everything ovs-ext contributes to an OVS process:
 * netdev classes for representors and uplinks, the flow API provider and
 * the "eswitch/..." unixctl commands.  It must be called once, from the
 * main thread, after unixctl and vlog are usable and before bridge_init(),
 * so that the interface types exist when the database is first read.
 * Calling it again does nothing. */
void ovs_ext_register(void);

/* Called with Open_vSwitch:other_config on every bridge_run(), before the
 * bridges are reconfigured (see vswitchd-plugin/ovs-hooks.c). */
struct smap;
void ovs_ext_set_ovs_config(const struct smap *other_config);

/* Called with the bridge's database on every bridge_run() (see
 * vswitchd-plugin/ovs-hooks.c): functions held for an Interface that is
 * gone from it are released. */
struct ovsdb_idl;
void ovs_ext_set_ovs_idl(const struct ovsdb_idl *);

/* Called in bridge_run() when ovs-vswitchd is about to report a
 * configuration as applied (Open_vSwitch:cur_cfg, which "ovs-vsctl" waits
 * for; see vswitchd-plugin/ovs-hooks.c): what the ports it removed held is
 * released by then (an eSwitch without ports is closed, with its host
 * sides). */
void ovs_ext_config_applied(void);

/* OVS's DPDK and the eSwitch's vhost-user host sides (see
 * ovs-ext/eswitch-dpdk.h and vswitchd-plugin/ovs-hooks.c): 'ovs_init' is
 * OVS's dpdk_init(), which ovs-ext calls itself when its first vhost-user
 * host side needs DPDK and other_config:dpdk-init asks for OVS's;
 * ovs_ext_dpdk_init_allowed() says whether OVS's dpdk_init() may run with
 * 'other_config' (not once ovs-ext started DPDK's EAL itself). */
void ovs_ext_set_dpdk_init(void (*ovs_init)(const struct smap *));
bool ovs_ext_dpdk_init_allowed(const struct smap *other_config);

/* Called from the main loop after bridge_wait(). */
void ovs_ext_wait(void);

/* Called when ovs-vswitchd exits, before bridge_exit(): without
 * 'cleanup' ("ovs-appctl exit"), eSwitch devices that outlive ovs-vswitchd
 * (remote driver) are left as they are, functions, rules and all, for the
 * next ovs-vswitchd to take over (esw_leave_devices()); with it ("exit
 * --cleanup") they are removed with the ports, as datapaths are. */
void ovs_ext_exit(bool cleanup);

/* Version string of the extension, e.g. "0.1.0". */
const char *ovs_ext_version(void);

#endif /* ovs-ext.h */
