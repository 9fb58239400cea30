/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/netdev-offload-esw-private.h: the flow offload provider's records
 * of flows and its counters, shared with its diagnostics (offload-diag.c). */

#ifndef OVS_EXT_NETDEV_OFFLOAD_ESW_PRIVATE_H
#define OVS_EXT_NETDEV_OFFLOAD_ESW_PRIVATE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmap.h"
#include "openvswitch/list.h"
#include "openvswitch/types.h"

#include "datapath/esw.h"
#include "offload-xlate.h"

struct dpif_flow_stats;
struct miniflow;
struct minimask;
struct netdev;
struct nlattr;
struct sset;

/* The dp_layer reported for flows whose rule is in the device. */
#define OFFLOAD_ESW_DP_LAYER "esw"

/* What a flow's rule was made from: an esw_rule_spec without its unused
 * action slots (a full one is 1.6 kB). */
struct offload_spec {
    struct esw_key match, mask;
    uint32_t priority;
    size_t n_actions;
    struct esw_action actions[];
};

void offload_spec_expand(const struct offload_spec *, struct esw_rule_spec *);

/* One datapath megaflow put on an eSwitch port or a tunnel port,
 * offloaded or not. */
struct offload_flow {
    struct cmap_node node;          /* In its netdev's offload_data 'flows',
                                     * by hash of 'ufid'. */
    struct ovs_list list_node;      /* In 'flow_list', oldest first. */
    ovs_u128 ufid;                  /* dpif-netdev's mega_ufid. */
    struct netdev *netdev;          /* The in_port (a reference). */
    uint32_t tun_port;              /* Nonzero: 'netdev' is this tunnel
                                     * port (datapath number)... */
    odp_port_t orig_in_port;        /* ...whose packets came in on this
                                     * datapath port (OVS's info). */
    unsigned int tid;               /* Offload thread that put it. */

    /* The match, compressed: a 'struct match' is 3.4 kB, mostly zeros, and
     * is only needed again to retry or to print.  'flow', 'mask' and
     * 'actions' are one allocation, that 'flow' points to. */
    struct miniflow *flow;          /* Not masked, as given to flow_put. */
    struct minimask *mask;
    struct nlattr *actions;
    size_t actions_len;

    struct esw_dev *dev;            /* In_port's device (a reference), or
                                     * NULL if the port is not bound. */
    uint32_t in_vport;
    struct esw_rule *rule;          /* NULL unless in the device. */
    struct offload_spec *spec;      /* What 'rule' was made from, NULL
                                     * if no 'rule'. */

    enum offload_reason reason;     /* OFFLOAD_OK iff 'rule'. */
    char *reason_text;              /* NULL iff OFFLOAD_OK. */
    bool device_reset;              /* Refused because the device was being
                                     * reset (EAGAIN, esw.h): tried again
                                     * every second until it is back. */

    uint64_t base_packets;          /* Counted by earlier rules. */
    uint64_t base_bytes;
    uint64_t last_packets;          /* Last total seen by flow_get. */
    long long int used;             /* time_msec() when it last moved. */
};

struct offload_counters {
    uint64_t puts;                  /* flow_put calls (new or modified). */
    uint64_t new_flows;
    uint64_t modified;
    uint64_t offloaded;             /* Rules added or updated. */
    uint64_t retried;               /* Later attempts (room, re-enable). */
    uint64_t failed[OFFLOAD_N_REASONS];
    uint64_t flow_dels;             /* flow_del calls that found a flow. */
    uint64_t flushed;               /* Flows removed by flow_flush. */
    uint64_t rules_deleted;         /* Rules taken out of a device. */
};

/* What netdev_offload_esw_inspect() shows: the provider's state, read-only
 * except through netdev_offload_esw_flow_stats(). */
struct offload_esw_state {
    struct ovs_list *flows;         /* struct offload_flow's, by
                                     * 'list_node', oldest first. */
    const struct offload_counters *counters;
    bool enabled;                   /* other_config:hw-offload. */
    const struct sset *devices;     /* Names of the devices the provider
                                     * has put rules into. */
};

/* Calls 'cb' with the provider's state and 'aux', under the provider's
 * mutex: nothing changes until 'cb' returns, and 'cb' must not call the
 * provider (other than netdev_offload_esw_flow_stats()). */
void netdev_offload_esw_inspect(void (*cb)(const struct offload_esw_state *,
                                           void *aux),
                                void *aux);

/* Stores the counters of 'f' (its rules' so far) in 'stats', as flow_get
 * does, updating when 'f' was last used.  Only from an inspect callback. */
void netdev_offload_esw_flow_stats(struct offload_flow *f,
                                   struct dpif_flow_stats *stats);

#endif /* ovs-ext/netdev-offload-esw-private.h */
