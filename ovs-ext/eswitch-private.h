/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/eswitch-private.h: what the files of the eSwitch module share
 * (its structures, its mutex and globals, its internal helpers). */

#ifndef OVS_EXT_ESWITCH_PRIVATE_H
#define OVS_EXT_ESWITCH_PRIVATE_H 1

/* The eSwitch module (eswitch.h) is four files, after Linux's netdevsim
 * (one file per job, one shared header):
 *
 *   eswitch-names.c   the names of functions ("pf0vf3") and their kinds,
 *                     without state (ovs-eswitchctl uses them too)
 *   eswitch-resolve.c the Interface options that say which function a
 *                     port is, and the one resolver of "FUNCTION"
 *                     arguments (commands)
 *   eswitch.c         the instances: creation and destruction, their
 *                     functions from other_config, claims (which port
 *                     holds which function) and links; every global of
 *                     the module, in one documented block
 *   eswitch-mgmt.c    management: the configuration file, recovery
 *                     state, hotplug, unplug, modify, list and query
 *
 * Functions whose name ends in "__" are called with 'eswitch_mutex'
 * held. */

#include "eswitch.h"

#include "eswitch-config.h"
#include "openvswitch/hmap.h"
#include "openvswitch/thread.h"
#include "openvswitch/vlog.h"

/* The files of the module log as one module, "eswitch", defined in
 * eswitch.c (VLOG_DEFINE_THIS_MODULE): "ovs-appctl vlog/set eswitch:..."
 * and "ovs-eswitchctl log" cover all of it.  A file that logs defines
 * 'this_module' as "(*VLM_eswitch)" instead of its own module. */
extern struct vlog_module *VLM_eswitch;

/* Vport numbers of every eSwitch device: room for the static functions
 * and well over 1,000 hotplugged ones. */
#define ESWITCH_MAX_VPORTS  2048

/* The functions an eSwitch has from Open_vSwitch other_config (or from
 * its PF in the configuration file). */
struct eswitch_layout {
    uint32_t n_vfs;
    uint32_t n_sfs;             /* virtio-net devices on SFs 1000... */
    enum eswitch_host_io host_io;
    char wire[ESW_PATH_MAX];    /* other_config:eswitch-uplink-wire: the
                                 * uplink's host side is a wire at this
                                 * socket path (empty: host_io's). */
    bool wire_client;           /* "unix:" (connect), else "punix:". */
};

#define ESWITCH_MAX_FUNCTIONS (2 + ESWITCH_MAX_VFS + ESWITCH_MAX_STATIC_SFS)

/* A claim: port 'port_name' holds function 'vport'.  The one record of
 * which port holds which function (see eswitch_function_port()). */
struct eswitch_claim {
    struct hmap_node node;      /* In eswitch->claims, by vport. */
    uint32_t vport;
    char *port_name;
    bool held;                  /* The port is out of the bridge after a
                                 * refused configuration: the function
                                 * keeps its policy (port-policy.h). */
};

/* What the management plane (ovs-eswitchctl, the configuration file,
 * recovery) knows of a function beyond what the device models. */
struct eswitch_fn {
    struct hmap_node node;      /* In eswitch->fns, by vport. */
    uint32_t vport;
    struct eswitch_fn_id id;
    bool hotplugged;            /* Else a static function. */
    uint64_t features;          /* Virtio-net feature bits. */
    uint32_t queues;            /* Virtio-net queue pairs. */
    enum eswitch_link_state link_state;
};

struct eswitch {
    struct hmap_node node;      /* In 'eswitches', by name. */
    char name[ESW_NAME_MAX];
    uint32_t pf;                /* The PF it serves. */
    struct esw_dev *dev;        /* One reference. */
    struct eswitch_layout layout;   /* What it was last laid out with. */
    enum esw_io_type io_type;   /* What the host-io setting resolved to. */
    bool vhost_user;            /* Virtio-net functions get vhost-user
                                 * host sides (eswitch-host-io). */
    char uplink_name[ESW_NAME_MAX];  /* Its uplink port's name. */
    bool managed;               /* The uplink port exists. */
    bool adopted;               /* Taken over from a device a previous
                                 * ovs-vswitchd left (remote driver). */
    bool claimed;               /* A port used it since it was created. */
    struct hmap claims;         /* Contains "struct eswitch_claim"s. */

    /* Management. */
    const struct eswitch_pf_config *pfc;  /* In 'eswitch_file_cfg', or
                                           * NULL if the layout is
                                           * other_config's. */
    bool pinned;                /* Stays without ports: it comes from the
                                 * configuration file or was managed. */
    struct hmap fns;            /* Contains "struct eswitch_fn"s. */
    size_t n_hotplugged;        /* Hotplugged functions in 'fns'. */
};

/* The module's globals, defined and documented in eswitch.c. */
extern struct ovs_mutex eswitch_mutex;
extern struct hmap eswitches OVS_GUARDED_BY(eswitch_mutex);
extern char *eswitch_config_file;
extern char *eswitch_state_dir;
extern bool eswitch_reset_state;
extern bool eswitch_mgmt_started OVS_GUARDED_BY(eswitch_mutex);
extern struct eswitch_file_config eswitch_file_cfg
    OVS_GUARDED_BY(eswitch_mutex);
extern char *eswitch_vhost_dir OVS_GUARDED_BY(eswitch_mutex);

/* eswitch-resolve.c. */
int eswitch_resolve_spec__(const char *spec, struct eswitch **eswp,
                           uint32_t *vportp, char **errp)
    OVS_REQUIRES(eswitch_mutex);
char *eswitch_no_such__(const char *name) OVS_REQUIRES(eswitch_mutex);
size_t eswitch_sorted__(struct eswitch ***listp) OVS_REQUIRES(eswitch_mutex);

/* eswitch.c: instances. */
struct eswitch *eswitch_lookup__(const char *name)
    OVS_REQUIRES(eswitch_mutex);
int eswitch_create__(const char *name, uint32_t pf,
                     const struct eswitch_pf_config *, struct eswitch **,
                     char **errp) OVS_REQUIRES(eswitch_mutex);
void eswitch_destroy__(struct eswitch *) OVS_REQUIRES(eswitch_mutex);
void eswitch_destroy_if_unused__(struct eswitch *)
    OVS_REQUIRES(eswitch_mutex);
int eswitch_get__(const char *name, uint32_t pf, struct eswitch **,
                  char **errp) OVS_REQUIRES(eswitch_mutex);
const struct eswitch_pf_config *eswitch_file_pf__(uint32_t pf)
    OVS_REQUIRES(eswitch_mutex);

/* eswitch.c: functions. */

/* A vhost-user host side for eswitch_add_function(). */
struct eswitch_vhost_args {
    const char *path;           /* NULL: the default path. */
    bool client;
    uint64_t features;          /* Virtio-net features to offer. */
};

int eswitch_add_function(struct esw_dev *, const struct eswitch_fn_id *,
                         const struct esw_eth_addr *mac, uint32_t mtu,
                         uint32_t queues, enum esw_io_type,
                         const struct eswitch_vhost_args *, bool link_up,
                         uint32_t *vportp, char **errp)
    OVS_REQUIRES(eswitch_mutex);
uint32_t *eswitch_list_vports(struct esw_dev *, size_t *np);
uint32_t eswitch_rep_queues(uint32_t queues);
bool eswitch_fn_is_virtio(const struct eswitch_fn_id *);
enum esw_io_type eswitch_fn_io_type__(const struct eswitch_fn_id *,
                                      enum esw_io_type esw_io,
                                      bool vhost_user)
    OVS_REQUIRES(eswitch_mutex);
uint32_t eswitch_default_queues__(const struct eswitch_fn_id *)
    OVS_REQUIRES(eswitch_mutex);
void eswitch_fn_defaults__(const struct eswitch_fn_id *, struct eswitch_fn *)
    OVS_REQUIRES(eswitch_mutex);
struct eswitch_fn *eswitch_fn_find__(const struct eswitch *, uint32_t vport)
    OVS_REQUIRES(eswitch_mutex);
struct eswitch_fn *eswitch_fn_get__(struct eswitch *,
                                    const struct esw_vport_info *)
    OVS_REQUIRES(eswitch_mutex);
void eswitch_fn_remove__(struct eswitch *, struct eswitch_fn *)
    OVS_REQUIRES(eswitch_mutex);

/* eswitch.c: claims and links. */
struct eswitch_claim *eswitch_claim_find__(const struct eswitch *,
                                           uint32_t vport)
    OVS_REQUIRES(eswitch_mutex);
bool eswitch_link_wanted__(const struct eswitch *, uint32_t vport,
                           bool managed) OVS_REQUIRES(eswitch_mutex);
void eswitch_set_link__(struct eswitch *, uint32_t vport, bool up)
    OVS_REQUIRES(eswitch_mutex);

/* eswitch-mgmt.c. */
void eswitch_mgmt_start__(void) OVS_REQUIRES(eswitch_mutex);

#endif /* ovs-ext/eswitch-private.h */
