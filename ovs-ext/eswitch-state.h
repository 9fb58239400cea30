/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_ESWITCH_STATE_H
#define OVS_EXT_ESWITCH_STATE_H 1

/* Recovery state of eSwitch functions: one JSON file per function that the
 * management commands created or changed, in a state directory (default
 * $OVS_DBDIR/ovs-ext/eswitch-state, ovs-vswitchd option
 * --eswitch-state-dir=DIR), named "<eswitch>.<function>.json":
 *
 *   {"eswitch": "esw0", "function": "pf0sf1000", "kind": "virtio",
 *    "pf": 0, "number": 1000, "hotplugged": true,
 *    "mac": "02:00:00:00:20:00", "mtu": 1500, "features": "0x100410028",
 *    "queues": 4, "host_side": "capture", "link_state": "auto"}
 *
 * plus, for a vhost-user host side ("host_side": "vhost-user"),
 * "vhost_user": {"path": "/run/openvswitch/vm1.sock", "client": false}.
 *
 * Files are replaced atomically (written to "<name>.tmp", fsync'd, then
 * renamed), so a crash leaves either the old or the new state.  Loading
 * never fails as a whole: a file that cannot be read or parsed is reported
 * and skipped.
 *
 * Errors are positive errno values with a message in '*errp' (malloc'd). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/esw.h"

enum eswitch_link_state {
    ESWITCH_LINK_AUTO,          /* Up while the eSwitch has its uplink. */
    ESWITCH_LINK_UP,            /* Forced up. */
    ESWITCH_LINK_DOWN,          /* Forced down. */
};

const char *eswitch_link_state_to_string(enum eswitch_link_state);
bool eswitch_link_state_from_string(const char *, enum eswitch_link_state *);

/* What users call a function's kind: "uplink", "pf", "vf", "virtio" (SFs
 * of ESW_SF_VIRTIO_MIN and up) or "sf". */
const char *eswitch_kind_to_string(enum esw_vport_kind, uint32_t fn);

struct eswitch_fn_state {
    char eswitch[ESW_NAME_MAX];
    char function[ESW_NAME_MAX];
    enum esw_vport_kind kind;
    uint32_t pf, fn;
    bool hotplugged;            /* Created by hotplug (else static). */
    struct esw_eth_addr mac;
    uint32_t mtu;
    uint64_t features;
    uint32_t queues;
    enum esw_io_type host_side;
    char vhost_path[ESW_PATH_MAX];  /* vhost-user: socket path. */
    bool vhost_client;              /* vhost-user: client mode. */
    enum eswitch_link_state link_state;
};

/* Writes 'st' atomically into 'dir' (created if needed). */
int eswitch_state_save(const char *dir, const struct eswitch_fn_state *st,
                       char **errp);

/* Removes the state file of 'function' of 'eswitch'.  No file is not an
 * error. */
int eswitch_state_remove(const char *dir, const char *eswitch,
                         const char *function, char **errp);

/* Loads every state file of 'dir', in name order.  Returns the valid ones
 * in '*statesp' (malloc'd, '*n_statesp' of them) and, for each file that
 * was skipped, a message "FILE: reason" in '*errorsp' ('*n_errorsp').
 * A missing directory holds no state. */
void eswitch_state_load(const char *dir,
                        struct eswitch_fn_state **statesp, size_t *n_statesp,
                        char ***errorsp, size_t *n_errorsp);

/* Removes every state file of 'dir'. */
int eswitch_state_reset(const char *dir, char **errp);

#endif /* ovs-ext/eswitch-state.h */
