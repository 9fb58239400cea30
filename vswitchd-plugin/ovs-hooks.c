/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Every place where ovs-ext hooks into OVS's own code, beyond OVS's
 * extension points (netdev and flow API providers, unixctl commands).
 *
 * OVS offers no callback for "the configuration was read", so our
 * ovs-vswitchd is linked with -Wl,--wrap=SYMBOL for the three OVS functions
 * below (vswitchd-plugin/automake.mk): the linker sends OVS's calls of
 * SYMBOL to __wrap_SYMBOL here, which hands the argument to ovs-ext and
 * calls the real function, __real_SYMBOL, unchanged.  OVS's behaviour is
 * untouched; only this binary has the hooks (bench and test programs that
 * link ovs-ext without them never call ovs-ext's setters, which is fine:
 * they set the configuration themselves). */

#include <config.h>

#include "netdev.h"
#include "vswitch-idl.h"

#include "ovs-ext/ovs-ext.h"

/* bridge_run() hands Open_vSwitch:other_config to a few modules before it
 * reconfigures the bridges, on every iteration once the database is read;
 * netdev_set_flow_api_enabled() is one of them.  ovs-ext sees the same
 * configuration at the same point: deterministically before any port of a
 * new configuration is set up (eswitch layout, hw-offload, vlan-limit). */
void __real_netdev_set_flow_api_enabled(const struct smap *);
void __wrap_netdev_set_flow_api_enabled(const struct smap *);

void __real_dpdk_init(const struct smap *);

void
__wrap_netdev_set_flow_api_enabled(const struct smap *ovs_other_config)
{
    /* (Before the configuration: it may need OVS's DPDK, see below.) */
    ovs_ext_set_dpdk_init(__real_dpdk_init);
    ovs_ext_set_ovs_config(ovs_other_config);
    __real_netdev_set_flow_api_enabled(ovs_other_config);
}

/* bridge_run() then calls dpdk_init() with the same other_config: OVS's
 * DPDK starts, once, when dpdk-init is "true" or "try".  The eSwitch's
 * vhost-user host sides need DPDK too (ovs-ext/eswitch-dpdk.h): they use
 * OVS's when dpdk-init asks for it (then ovs-ext calls the real
 * dpdk_init(), handed over above, a moment before bridge_run() would), and
 * otherwise start DPDK's EAL themselves, after which OVS's rte_eal_init()
 * would fail and OVS abort: then ovs-ext refuses the call (and says so
 * once), and OVS's DPDK stays off until a restart. */
void __wrap_dpdk_init(const struct smap *);

void
__wrap_dpdk_init(const struct smap *ovs_other_config)
{
    if (ovs_ext_dpdk_init_allowed(ovs_other_config)) {
        __real_dpdk_init(ovs_other_config);
    }
}

/* bridge_run() calls ovsrec_open_vswitch_first() with the bridge's IDL on
 * every iteration: it tells ovs-ext which database holds the Interfaces
 * (functions held for an Interface that is gone are released). */
const struct ovsrec_open_vswitch *__real_ovsrec_open_vswitch_first(
    const struct ovsdb_idl *);
const struct ovsrec_open_vswitch *__wrap_ovsrec_open_vswitch_first(
    const struct ovsdb_idl *);

const struct ovsrec_open_vswitch *
__wrap_ovsrec_open_vswitch_first(const struct ovsdb_idl *idl)
{
    ovs_ext_set_ovs_idl(idl);
    return __real_ovsrec_open_vswitch_first(idl);
}
