/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_ESWITCH_DPDK_H
#define OVS_EXT_ESWITCH_DPDK_H 1

/* DPDK for the eSwitch's vhost-user host sides.
 *
 * DPDK's EAL is initialised once per process, when the first vhost-user
 * host side is created (never at start-up otherwise, so that a daemon
 * without such functions behaves as without this code):
 *
 *   - If OVS's own DPDK is initialised, or Open_vSwitch
 *     other_config:dpdk-init is "true" or "try" (then OVS's DPDK is
 *     initialised right away, with OVS's own settings), the eSwitch uses
 *     it.
 *   - Otherwise the eSwitch initialises EAL itself, with settings that
 *     need no hugepages and no devices: --no-huge -m 128 --no-pci
 *     --no-shconf --no-telemetry --file-prefix ovs-ext, on the CPUs the
 *     process may run on.  DPDK's messages then go to this module's log
 *     (DPDK's debug and info messages at debug level).  OVS's dpdk-init
 *     set later cannot take effect until ovs-vswitchd restarts (EAL starts
 *     once per process): that is logged as a warning.  (The hook that
 *     lets this module see and stop OVS's dpdk_init() is in
 *     vswitchd-plugin/ovs-hooks.c.)
 *
 * Either way one INFO line says which.  Main thread only. */

#include <stdbool.h>

struct smap;

/* Remembers Open_vSwitch 'other_config' (for dpdk-init). */
void eswitch_dpdk_set_ovs_config(const struct smap *other_config);

/* Makes vhost-user host sides available (see above).  Returns 0, or a
 * positive errno with a message in '*errp' (the same on every later call:
 * EAL cannot be started twice). */
int eswitch_dpdk_init(char **errp);

/* OVS's dpdk_init(), which this module calls when the first vhost-user
 * host side needs DPDK and dpdk-init asks for OVS's (a moment before OVS's
 * bridge_run() would).  Without it (a process without the hook),
 * vhost-user host sides always get the eSwitch's own DPDK. */
void eswitch_dpdk_set_ovs_init(void (*ovs_init)(const struct smap *));

/* Whether OVS's dpdk_init() may run with 'other_config': not when it would
 * start DPDK after this module started it (EAL starts once per process, and
 * OVS aborts when it cannot), which is logged once. */
bool eswitch_dpdk_ovs_init_allowed(const struct smap *other_config);

/* How DPDK was brought up, for diagnostics: "none" (not yet), "ovs" (OVS's
 * own) or "eswitch" (--no-huge defaults). */
const char *eswitch_dpdk_mode(void);

#endif /* ovs-ext/eswitch-dpdk.h */
