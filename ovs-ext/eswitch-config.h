/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_ESWITCH_CONFIG_H
#define OVS_EXT_ESWITCH_CONFIG_H 1

/* The eSwitch configuration file: parsing and validation.
 *
 * The file (default $OVS_SYSCONFDIR/ovs-ext/eswitch.json, ovs-vswitchd
 * option --eswitch-config=FILE) is one JSON object:
 *
 *   {
 *     "pfs": [                              static PFs, one eSwitch each
 *       { "pf": 0,                          PF number, 0..7 (required)
 *         "eswitch": "esw0",                its eSwitch (default esw<pf>)
 *         "driver": "sim",                  device driver (default sim)
 *         "mac_base": "02:00:00:00:10:00",  pf<N>hpf gets mac_base, VF i
 *                                           mac_base + 1 + i
 *         "vfs_per_pf": 4 }                 VFs pf<N>vf0.. (0..32)
 *     ],
 *     "uplinks": [ { "port": 0, "mac": "02:00:00:00:00:01" } ],
 *     "virtio": { "features": "0x100410028", "queues": 1, "mtu": 1500 },
 *     "sf_pool": { "first": 1000, "last": 1999 },
 *     "host_io": { "default": "auto", "pf0vf1": "capture",
 *                  "pf0sf1000": "vhost-user" }
 *   }
 *
 * Every key is optional except "pf".  Validation refuses unknown keys,
 * MACs that are not unicast or are used twice across the device (MACs
 * derived from "mac_base" ranges included), MACs that are the default MAC
 * (eswitch_default_mac()) of a function of any eSwitch that keeps its
 * default MACs, counts beyond the device's limits, malformed JSON and a
 * file that is not a regular file (a symbolic link, a FIFO...); the
 * message names the field ("pfs[1].mac_base: ...") or, for JSON syntax,
 * the line and column.
 *
 * This file depends on OVS's lib/json only, so that ovs-eswitchctl can
 * validate a file offline with exactly the daemon's messages. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "datapath/esw.h"

struct json;

#define ESWITCH_MAX_PFS      8
#define ESWITCH_MAX_VFS      32    /* VFs per PF. */
#define ESWITCH_MAX_SF       65535
#define ESWITCH_MAX_STATIC_SFS 16  /* other_config:eswitch-sfs, at most. */
#define ESWITCH_MAX_QUEUES   64
#define ESWITCH_MIN_MTU      68
#define ESWITCH_MAX_MTU      9198

/* Virtio-net defaults without a file: VIRTIO_NET_F_MTU, F_MAC, F_STATUS,
 * F_MQ and F_VERSION_1. */
#define ESWITCH_DEFAULT_FEATURES UINT64_C(0x100410028)

enum eswitch_host_io {
    ESWITCH_IO_AUTO,            /* tap if permitted, else capture. */
    ESWITCH_IO_TAP,
    ESWITCH_IO_CAPTURE,
    ESWITCH_IO_VHOST_USER,      /* Virtio-net functions: a vhost-user
                                 * socket; the others as with "auto". */
};

/* Parses "auto", "tap", "capture", "vhost-user".  Returns false for
 * anything else. */
bool eswitch_host_io_from_string(const char *, enum eswitch_host_io *);
const char *eswitch_host_io_to_string(enum eswitch_host_io);

/* Parses a MAC "xx:xx:xx:xx:xx:xx".  Returns false if malformed. */
bool eswitch_mac_from_string(const char *, struct esw_eth_addr *);

/* The locally administered default MAC of function 'fn' of kind 'kind' of
 * PF 'pf': 02:65:PF:KIND:FN (FN on two bytes). */
struct esw_eth_addr eswitch_default_mac(enum esw_vport_kind kind, uint32_t pf,
                                        uint32_t fn);

struct eswitch_pf_config {
    uint32_t pf;
    char eswitch[ESW_NAME_MAX];
    char driver[ESW_NAME_MAX];
    bool has_mac_base;
    struct esw_eth_addr mac_base;
    uint32_t n_vfs;
    bool has_uplink_mac;
    struct esw_eth_addr uplink_mac;
    size_t uplink_index;        /* Its entry in "uplinks", if any. */
};

/* A per-function host side ("host_io" keys other than "default"). */
struct eswitch_io_override {
    char function[ESW_NAME_MAX];
    enum eswitch_host_io host_io;
};

struct eswitch_file_config {
    struct eswitch_pf_config *pfs;
    size_t n_pfs;
    uint64_t virtio_features;
    uint32_t virtio_queues;
    uint32_t virtio_mtu;
    uint32_t sf_first, sf_last;
    enum eswitch_host_io default_host_io;
    struct eswitch_io_override *io_overrides;
    size_t n_io_overrides;
};

/* The configuration without a file (built-in defaults, no PFs). */
void eswitch_file_config_init(struct eswitch_file_config *);
void eswitch_file_config_destroy(struct eswitch_file_config *);

/* Host side of function 'fn_name' under 'cfg'. */
enum eswitch_host_io eswitch_file_config_host_io(
    const struct eswitch_file_config *cfg, const char *fn_name);

/* A MAC that the file gives a static function. */
struct eswitch_file_mac {
    char field[32];             /* "pfs[0].mac_base", "uplinks[1].mac". */
    char eswitch[ESW_NAME_MAX];
    char function[ESW_NAME_MAX];    /* "p1", "pf1hpf", "pf1vf0". */
    struct esw_eth_addr mac;
};

/* Every MAC that 'cfg' gives a static function (uplinks, host PFs and VFs
 * of "mac_base"), in file order.  Returns how many, in '*macsp'
 * (malloc'd). */
size_t eswitch_file_config_macs(const struct eswitch_file_config *cfg,
                                struct eswitch_file_mac **macsp);

/* Reads the JSON of 'name', relative to directory 'dirfd' (AT_FDCWD: the
 * working directory), as OVS's json_from_file() does (a JSON string is an
 * error message), except that it never follows a symbolic link, never
 * opens anything but a regular file (so a FIFO or a device cannot block
 * or affect anything) and refuses a file larger than 'max_size' bytes:
 * "not a regular file (a FIFO)", "too large (...)". */
struct json *eswitch_json_from_file_at(int dirfd, const char *name,
                                       off_t max_size);

/* Formats a JSON parse error 'msg' of OVS's json_from_file() for people:
 * "FILE: line L, column C: ..." with lines counted from 1.  Returns a
 * malloc'd string. */
char *eswitch_json_file_error(const char *file_name, const char *msg);

/* Reads and validates 'file_name' into 'cfg' (initialized here), with
 * eswitch_json_from_file_at() and at most ESWITCH_CONFIG_MAX_SIZE bytes.
 * Returns 0, or a positive errno with a malloc'd message "FILE: FIELD:
 * ..." in '*errp'; then 'cfg' holds nothing to free. */
#define ESWITCH_CONFIG_MAX_SIZE (1024 * 1024)
int eswitch_file_config_read(const char *file_name,
                             struct eswitch_file_config *cfg, char **errp);

#endif /* ovs-ext/eswitch-config.h */
