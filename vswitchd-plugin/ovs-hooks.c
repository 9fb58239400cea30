/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Every place where ovs-ext hooks into OVS's own code, beyond OVS's
 * extension points (netdev and flow API providers, unixctl commands).
 *
 * OVS offers no callback for "the configuration was read", and its
 * userspace datapath does not pass meters to the flow API, so our
 * ovs-vswitchd is linked with -Wl,--wrap=SYMBOL for the OVS functions
 * below (vswitchd-plugin/automake.mk): the linker sends OVS's calls of
 * SYMBOL to __wrap_SYMBOL here, which hands the argument to ovs-ext and
 * calls the real function, __real_SYMBOL, unchanged.  OVS's behaviour is
 * untouched; only this binary has the hooks (bench and test programs that
 * link ovs-ext without them never call ovs-ext's setters, which is fine:
 * they set the configuration themselves). */

#include <config.h>

#include "dpif.h"
#include "dpif-netdev.h"
#include "netdev.h"
#include "vswitch-idl.h"

#include "ovs-ext/netdev-offload-esw.h"
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

/* bridge_run() sets Open_vSwitch:cur_cfg to next_cfg once it has
 * reconfigured the bridges, in the transaction that tells "ovs-vsctl" (which
 * waits for it) that the configuration is applied.  ovs-ext first finishes
 * what the removed ports left (ovs_ext_config_applied()). */
void __real_ovsrec_open_vswitch_set_cur_cfg(
    const struct ovsrec_open_vswitch *, int64_t cur_cfg);
void __wrap_ovsrec_open_vswitch_set_cur_cfg(
    const struct ovsrec_open_vswitch *, int64_t cur_cfg);

void
__wrap_ovsrec_open_vswitch_set_cur_cfg(const struct ovsrec_open_vswitch *cfg,
                                       int64_t cur_cfg)
{
    ovs_ext_config_applied();
    __real_ovsrec_open_vswitch_set_cur_cfg(cfg, cur_cfg);
}

/* Meters.  ofproto-dpif sets, reads and deletes datapath meters with
 * dpif_meter_set/get/del(); with the kernel datapath, dpif-netlink hands
 * them to the flow API's meter callbacks (meter_offload_set() and co.),
 * but OVS 3.1's userspace datapath does not.  These hooks do, for the
 * userspace datapath (dpif-netdev) only, after OVS's own call succeeded: the
 * eSwitch offload provider then knows every meter, can put it in a device
 * for the rules that use it, and adds the device's counts to what
 * "ovs-ofctl meter-stats" shows. */
int __real_dpif_meter_set(struct dpif *, ofproto_meter_id,
                          struct ofputil_meter_config *);
int __wrap_dpif_meter_set(struct dpif *, ofproto_meter_id,
                          struct ofputil_meter_config *);
int __real_dpif_meter_get(const struct dpif *, ofproto_meter_id,
                          struct ofputil_meter_stats *, uint16_t n_bands);
int __wrap_dpif_meter_get(const struct dpif *, ofproto_meter_id,
                          struct ofputil_meter_stats *, uint16_t n_bands);
int __real_dpif_meter_del(struct dpif *, ofproto_meter_id,
                          struct ofputil_meter_stats *, uint16_t n_bands);
int __wrap_dpif_meter_del(struct dpif *, ofproto_meter_id,
                          struct ofputil_meter_stats *, uint16_t n_bands);

static bool
is_userspace_dpif(const struct dpif *dpif)
{
    return dpif_is_netdev(dpif);    /* "netdev", and "dummy" in tests. */
}

int
__wrap_dpif_meter_set(struct dpif *dpif, ofproto_meter_id meter_id,
                      struct ofputil_meter_config *config)
{
    int error = __real_dpif_meter_set(dpif, meter_id, config);

    if (!error && is_userspace_dpif(dpif)) {
        netdev_offload_esw_meter_set(meter_id, config);
    }
    return error;
}

int
__wrap_dpif_meter_get(const struct dpif *dpif, ofproto_meter_id meter_id,
                      struct ofputil_meter_stats *stats, uint16_t n_bands)
{
    int error = __real_dpif_meter_get(dpif, meter_id, stats, n_bands);

    if (!error && stats && is_userspace_dpif(dpif)) {
        netdev_offload_esw_meter_get(meter_id, stats);
    }
    return error;
}

int
__wrap_dpif_meter_del(struct dpif *dpif, ofproto_meter_id meter_id,
                      struct ofputil_meter_stats *stats, uint16_t n_bands)
{
    int error = __real_dpif_meter_del(dpif, meter_id, stats, n_bands);

    if (!error && is_userspace_dpif(dpif)) {
        netdev_offload_esw_meter_del(meter_id, stats);
    }
    return error;
}
