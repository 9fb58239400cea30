/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_NETDEV_OFFLOAD_ESW_H
#define OVS_EXT_NETDEV_OFFLOAD_ESW_H 1

/* Flow offload provider "esw": pushes the userspace datapath's megaflows
 * into the eSwitch.
 *
 * dpif-netdev, with other_config:hw-offload=true, calls the provider of
 * the flow's in_port netdev from its offload thread(s).  This provider
 * claims exactly the netdevs of netdev-esw.c (esw-uplink, esw-pf, esw-vf,
 * esw-virtio) and refuses every other netdev; OVS's own providers refuse
 * ours (linux_tc wants an ifindex, dpdk its own classes), so the claim does
 * not depend on the order in which OVS tries providers.
 *
 * Every flow put on one of our netdevs gets a record, offloaded or not, so
 * that the reason it stays in software can be shown, and so that it can be
 * offloaded later (when the device table had been full and room frees up,
 * or when hw-offload comes back on).  flow_put therefore always returns 0:
 * dpif-netdev then tracks the flow and calls flow_del when it goes away.
 * flow_get reports the device's counters (attrs->offloaded and dp_layer
 * "esw" only while the rule is in the device) and a 'used' time on OVS's
 * clock: the last time the provider saw the counters move.
 *
 * Other config (Open_vSwitch other_config), applied live:
 *   hw-offload=false   takes every rule out of the device (the flows stay
 *                      in software, reason "disabled"); true puts them
 *                      back.  OVS itself cannot switch its flow API off.
 *   eswitch-max-rules=N  rule capacity of eSwitches created afterwards
 *                      (tests; 0 or absent: the driver's default).
 *   eswitch-max-conns=N  connection table capacity of eSwitches created
 *                      afterwards, 0..4194304 (absent: the driver's
 *                      default, 65536 for sim; 0: no table, conntrack
 *                      stays in software); existing eSwitches keep theirs
 *                      (logged).  A bad value is logged once (WARN) and
 *                      changes nothing.
 *
 * State: each claimed netdev has its own table of flows (its flow API
 * data, created by init_flow_api and freed by uninit_flow_api, as
 * netdev-offload-dpdk does); the counters, the meters and the order in
 * which flows arrived (for retries and dumps) are global.
 *
 * Threading: all state is under one mutex; callers may be the offload
 * threads (put, del, flush), revalidators and the main thread (get, dumps,
 * unixctl). */

#include <stdbool.h>

#include "openvswitch/ofp-meter.h"
#include "openvswitch/types.h"

struct smap;

/* Registers the provider (once, before bridge_init()). */
void netdev_offload_esw_register(void);

/* Applies Open_vSwitch other_config (see above). */
void netdev_offload_esw_set_ovs_config(const struct smap *other_config);

/* Reconciliation after ovs-vswitchd's restart.  'dev' was taken over with
 * the rules a previous ovs-vswitchd left in it (remote driver): they are
 * a previous incarnation's.  A flow OVS offloads whose rule has the same
 * match, mask and priority as one of them takes that rule over (kept if
 * its actions are the same, else modified, make-before-break); the others
 * are removed NETDEV_OFFLOAD_ESW_STALE_MS after the last take-over, a
 * bound that starts only once other_config:flow-restore-wait is false.
 * Returns how many rules 'dev' has. */
#define NETDEV_OFFLOAD_ESW_STALE_MS 10000
struct esw_dev;
size_t netdev_offload_esw_adopt(struct esw_dev *dev);

/* True if 'rule' of 'dev' is a previous incarnation's, still waiting for
 * its flow to be re-created (for eswitch/offload-check). */
struct esw_rule;
bool netdev_offload_esw_rule_is_previous(const struct esw_dev *dev,
                                         const struct esw_rule *rule);

/* Wakes the main loop when stale rules are due (poll_timer_wait_until). */
void netdev_offload_esw_wait(void);

/* Meters of OVS's userspace datapath, with the signatures and contract of
 * the flow API's meter_set/meter_get/meter_del (lib/netdev-offload-
 * provider.h): 'meter_get' and 'meter_del' add what the devices counted
 * (packets and bytes in, and dropped per band) to 'stats' (may be NULL for
 * 'meter_del').  The provider keeps every meter's configuration and puts a
 * meter into a device when a rule first needs it.  OVS 3.1's dpif-netdev
 * never calls the flow API's meter callbacks: ovs-vswitchd's hook on
 * dpif_meter_*() (vswitchd-plugin/ovs-hooks.c) does, for the "netdev"
 * datapath, after OVS's own call succeeded.  Thread-safe. */
int netdev_offload_esw_meter_set(ofproto_meter_id,
                                 struct ofputil_meter_config *);
int netdev_offload_esw_meter_get(ofproto_meter_id,
                                 struct ofputil_meter_stats *);
int netdev_offload_esw_meter_del(ofproto_meter_id,
                                 struct ofputil_meter_stats *);

/* The provider's diagnostics (eswitch/dump-flows, offload-stats,
 * offload-check) are in offload-diag.c; they read its state through
 * netdev-offload-esw-private.h. */

#endif /* ovs-ext/netdev-offload-esw.h */
