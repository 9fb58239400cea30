/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_ESWITCH_H
#define OVS_EXT_ESWITCH_H 1

/* The eSwitch instances ovs-ext manages, and their configuration.
 *
 * This is the one place where eSwitch devices are brought up and where
 * their configuration is parsed.  An eSwitch ("esw0" for PF 0) is created
 * when the first port of one of its functions is configured, with the
 * functions that Open_vSwitch other_config asks for; the defaults need no
 * configuration at all:
 *
 *   other_config:eswitch-vfs=4        VFs pf<N>vf0..3
 *   other_config:eswitch-sfs=0        virtio-net devices pf<N>sf1000...
 *   other_config:eswitch-host-io=auto host sides: "tap" when /dev/net/tun
 *                                     and CAP_NET_ADMIN are there, else
 *                                     "capture"; or "tap", "capture"
 *
 * plus, always, the uplink p<N> and the host PF pf<N>hpf.  Changing
 * other_config adds and removes functions live (never one a port uses).
 *
 * The uplink port (type esw-uplink) is the eSwitch manager, as in
 * OVS-DOCA: until it is on a bridge, every function's link is down and the
 * representors' status says so.  Representor ports (esw-pf, esw-vf,
 * esw-virtio) claim one function each; a function is claimed by at most
 * one port.  The eSwitch exists as long as any of its functions is
 * claimed.
 *
 * Implemented by eswitch-names.c (names), eswitch-resolve.c (ports'
 * options, "FUNCTION" arguments), eswitch.c (instances, claims, links) and
 * eswitch-mgmt.c (management); see eswitch-private.h.
 *
 * All functions here are called from the main thread (netdev set_config
 * and destruct, bridge_run); they are serialized by an internal mutex
 * anyway.
 *
 * Errors are positive errno values; functions taking 'char **errp' store
 * there, on failure, one sentence for the Interface "error" column
 * (malloc'd, owned by the caller). */

#include <stdbool.h>
#include <stdint.h>

#include "datapath/esw.h"
#include "eswitch-state.h"

struct json;
struct smap;
struct eswitch;

/* A function of an eSwitch, as its port name or options identify it. */
struct eswitch_fn_id {
    enum esw_vport_kind kind;
    uint32_t pf;                /* PF number; for UPLINK, the port number. */
    uint32_t fn;                /* VF or SF number (VF, SF only). */
};

/* Parses a BlueField-style function name ("p0", "pf0hpf", "pf0vf3",
 * "pf0sf1000").  Returns false if 'name' is not one. */
bool eswitch_parse_fn_name(const char *name, struct eswitch_fn_id *);

/* Formats 'id' as its BlueField-style name into 'buf'. */
void eswitch_format_fn_name(const struct eswitch_fn_id *id,
                            char buf[ESW_NAME_MAX]);

/* Stores in 'ids' (up to 'max') the functions an eSwitch serving PF 'pf'
 * gets with the built-in layout (no other_config, no configuration file),
 * uplink first, and returns how many: what ovs-eswitchctl --daemon gives
 * a device it creates, so that ovs-vswitchd takes it over as its own. */
size_t eswitch_default_layout(uint32_t pf, struct eswitch_fn_id ids[],
                              size_t max);

/* The same with 'n_vfs' VFs and 'n_sfs' virtio-net devices. */
size_t eswitch_layout_functions(uint32_t n_vfs, uint32_t n_sfs, uint32_t pf,
                                struct eswitch_fn_id ids[], size_t max);

/* The built-in layout (other_config:eswitch-vfs, eswitch-sfs unset). */
#define ESWITCH_DEFAULT_VFS 4
#define ESWITCH_DEFAULT_SFS 0

/* Default eSwitch name of PF 'pf': "esw<pf>". */
void eswitch_default_name(uint32_t pf, char buf[ESW_NAME_MAX]);

/* What users call a function's kind, everywhere (status, commands, state
 * files): "uplink", "pf", "vf", "virtio" (SFs of ESW_SF_VIRTIO_MIN and up)
 * or "sf". */
const char *eswitch_kind_to_string(enum esw_vport_kind, uint32_t fn);
bool eswitch_kind_from_string(const char *, enum esw_vport_kind *);

/* Resolves which function the port 'port_name' of type 'kind' stands for,
 * from its name and its options "eswitch", "pf", "vf", "sf".  Stores the
 * eSwitch name in 'esw_name' and the function in 'id'.  Unknown options
 * are refused. */
int eswitch_resolve_port(const char *port_name, enum esw_vport_kind kind,
                         const struct smap *options,
                         char esw_name[ESW_NAME_MAX],
                         struct eswitch_fn_id *id, char **errp);

/* Applies the eSwitch settings of Open_vSwitch 'other_config' (see
 * above).  A bad value is logged and changes nothing. */
void eswitch_set_ovs_config(const struct smap *other_config);

/* Sets the rule capacity of eSwitches created from now on (0: the
 * driver's default); existing ones keep theirs.  The offload provider
 * calls it with other_config:eswitch-max-rules (tests of a full table). */
void eswitch_set_max_rules(uint32_t max_rules);

/* Sets the connection table capacity of eSwitches created from now on:
 * 'max_conns' connections, 0 for none (the eSwitch then offers neither the
 * ct action nor the ct_* matches: conntrack stays in software), or
 * ESWITCH_CONNS_DEFAULT for the driver's default (65536 for sim).
 * Existing eSwitches keep their table (a change while some exist is
 * logged, naming them).  The offload provider calls it with
 * other_config:eswitch-max-conns, 0..ESWITCH_MAX_CONNS (sim's most). */
#define ESWITCH_CONNS_DEFAULT UINT32_MAX
#define ESWITCH_MAX_CONNS (1u << 22)
void eswitch_set_max_conns(uint32_t max_conns);

/* The last value given to eswitch_set_max_conns(). */
uint32_t eswitch_get_max_conns(void);

/* Makes uplink port 'port_name', with Interface 'options', the manager of
 * its eSwitch (created if needed) and claims the uplink function.  On
 * success stores the eSwitch in '*eswp' and the uplink's vport in
 * '*vportp'.  Called again by the same port, it succeeds again.  Nothing
 * changes on failure. */
int eswitch_manage(const char *port_name, const struct smap *options,
                   struct eswitch **eswp, uint32_t *vportp, char **errp);

/* Undoes eswitch_manage(): releases the uplink function and the manager
 * role (the other functions' links go down).  The eSwitch is destroyed if
 * nothing else claims a function of it. */
void eswitch_unmanage(struct eswitch *);

/* Claims.
 * =======
 *
 * A claim says that a port holds a function: the one record of which port
 * holds which function, for everyone (representors, the port policy,
 * diagnostics, management).  A function is claimed by at most one port
 * name.  A claim is "held" while its port is out of the bridge after OVS
 * refused its new configuration: the function keeps its policy for the
 * port's return (see port-policy.h). */

/* Claims function 'id' of eSwitch 'esw_name' (created if needed) for port
 * 'port_name'.  On success stores the eSwitch in '*eswp', the function's
 * vport number in '*vportp' and whether the claim is new in '*newp': a
 * claim the same port already holds (bound or held) succeeds again. */
int eswitch_claim(const char *esw_name, const struct eswitch_fn_id *id,
                  const char *port_name, struct eswitch **eswp,
                  uint32_t *vportp, bool *newp, char **errp);

/* Releases the claim of 'vport' on 'esw' (which may be destroyed). */
void eswitch_release(struct eswitch *esw, uint32_t vport);

/* Marks the claim of 'vport' on 'esw' held or not. */
void eswitch_claim_set_held(struct eswitch *esw, uint32_t vport, bool held);

/* Which port holds function 'vport' of 'dev': returns false if none, else
 * true and, if nonnull, the port's name in '*port_namep' (malloc'd) and
 * whether the claim is held in '*heldp'. */
bool eswitch_function_port(const struct esw_dev *dev, uint32_t vport,
                           char **port_namep, bool *heldp);

/* A claim, as eswitch_list_claims() returns it. */
struct eswitch_claim_info {
    struct eswitch *esw;
    uint32_t vport;
    char *port_name;            /* Owned. */
    bool held;
};

/* Stores in '*infosp' (malloc'd; free with eswitch_claim_infos_destroy())
 * the claims of port 'port_name' (NULL: of every port), only the held ones
 * if 'held_only', and returns how many. */
size_t eswitch_list_claims(const char *port_name, bool held_only,
                           struct eswitch_claim_info **infosp);
void eswitch_claim_infos_destroy(struct eswitch_claim_info *, size_t n);

/* Changes whenever eswitch.c changed the link of a function (directly, or
 * of every "auto" function through their uplink): representors refresh
 * their status then (netdev-esw.c). */
struct seq *eswitch_link_seq(void);

struct esw_dev *eswitch_dev(const struct eswitch *);
const char *eswitch_name(const struct eswitch *);

/* True while the eSwitch's uplink port is configured. */
bool eswitch_is_managed(const struct eswitch *);

/* Name of the uplink of 'esw' ("p0"), even when its port is absent. */
const char *eswitch_uplink_name(const struct eswitch *);

/* Finds the function that 'spec' names, as every command argument
 * "FUNCTION" does: a function name ("pf0vf1") or the function's
 * vport number ("2"), searched in every eSwitch, or either qualified by
 * its eSwitch ("esw0/pf0vf1", "esw0/2").  On success stores the device
 * (without a new reference: valid until the caller returns to the main
 * loop) and the vport.  Errors: ENOENT, "no such eswitch \"E\"
 * (eswitches: ...)" or "no such function \"SPEC\""; EINVAL, "\"SPEC\" is
 * ambiguous: qualify it with its eswitch (esw0/pf0vf1, esw1/pf0vf1)" when
 * several eSwitches have such a function. */
int eswitch_find_function(const char *spec, struct esw_dev **devp,
                          uint32_t *vportp, char **errp);

/* The error for an unknown ESWITCH argument 'name', as
 * eswitch_find_function() gives it: "no such eswitch \"NAME\" (eswitches:
 * esw0, esw1)" (malloc'd). */
char *eswitch_no_such(const char *name);

/* Number of eSwitches, for diagnostics. */
size_t eswitch_count(void);

/* Management (ovs-eswitchctl, the configuration file, recovery).
 * ===============================================================
 *
 * With a configuration file (see eswitch-config.h), the eSwitches of its
 * "pfs" are brought up when ovs-vswitchd first reads its database, with
 * their static functions, and stay without ports; other PFs' eSwitches
 * still come from other_config, on first use.  A file that fails
 * validation is logged (ERR) and not used at all: ovs-vswitchd keeps
 * running with the other_config eSwitches, as without a file; the file is
 * read again only at the next start.
 *
 * Every function that management creates (hotplug) or changes (modify) has
 * a recovery state file (see eswitch-state.h).  At start, after the
 * configuration file, each state file is restored: hotplugged functions
 * come back with the same numbers, names, MACs, MTUs, host sides, virtio
 * features and queues; changes to static functions are applied again.
 * Files that are corrupt or no longer fit the configuration are logged
 * (WARN) and skipped.  This happens before any database port is set up, so
 * representor ports find their functions.  An eSwitch that has ever been
 * managed stays until ovs-vswitchd exits. */

/* Sets the configuration file (NULL: $OVS_SYSCONFDIR/ovs-ext/eswitch.json,
 * which may be absent), the state directory (NULL:
 * $OVS_DBDIR/ovs-ext/eswitch-state) and whether to wipe the recovery state
 * at start.  Call before the main loop. */
void eswitch_set_mgmt_options(const char *config_file, const char *state_dir,
                              bool reset);

/* A function to hotplug. */
struct eswitch_hotplug_args {
    const char *eswitch;        /* NULL: the eSwitch of 'pf' (created if
                                 * needed).  Else an existing eSwitch,
                                 * which must serve 'pf' if 'has_pf'. */
    bool has_pf;
    uint32_t pf;                /* Default 0. */
    enum esw_vport_kind kind;   /* ESW_VPORT_VF or ESW_VPORT_SF (virtio). */
    bool has_mac;
    struct esw_eth_addr mac;    /* Else derived from the function. */
    uint32_t mtu;               /* 0: default (virtio default MTU). */
    uint32_t queues;            /* 0: default (virtio only). */
    bool has_features;
    uint64_t features;          /* Virtio only. */
    const char *vhost_path;     /* Virtio only: a vhost-user host side on
                                 * this socket (absolute, or a file name in
                                 * other_config:eswitch-vhost-dir), instead
                                 * of the eSwitch's kind of host side. */
    bool vhost_client;          /* Connect to 'vhost_path' (needs it). */
};

/* Adds a function with the lowest free VF number or virtio SF number (of
 * the configuration's SF pool), its representor and its host side, and
 * persists it.  Stores its name ("pf0sf1000") in 'fn_name'. */
int eswitch_hotplug(const struct eswitch_hotplug_args *,
                    char fn_name[ESW_NAME_MAX], char **errp);

/* Removes hotplugged function 'spec' (as for eswitch_find_function():
 * "pf0sf1000", "esw0/pf0sf1000", "6", "esw0/6") and its recovery state.
 * EBUSY while a port claims it, EINVAL for a static function. */
int eswitch_unplug(const char *spec, char **errp);

/* Checks everything eswitch_unplug() does except whether a port claims
 * the function, and changes nothing: what "ovs-eswitchctl unplug --force"
 * asks before it removes the port.  Stores the function (as
 * eswitch_mgmt_query()) in '*replyp'. */
int eswitch_unplug_check(const char *spec, struct json **replyp,
                         char **errp);

struct eswitch_modify_args {
    bool has_mac;
    struct esw_eth_addr mac;
    uint32_t mtu;               /* 0: unchanged. */
    bool has_link_state;
    enum eswitch_link_state link_state;
    uint32_t queues;            /* 0: unchanged (virtio only). */
    bool has_features;
    uint64_t features;          /* Virtio only. */
};

/* Changes function 'spec' (as for eswitch_unplug()) and persists it.
 * Everything is checked before anything changes. */
int eswitch_modify(const char *spec, const struct eswitch_modify_args *,
                   char **errp);

/* {"functions": [...]}: every function of every eSwitch, by eSwitch name
 * and vport, each as eswitch_mgmt_query() describes it.  The caller owns
 * the returned JSON. */
struct json *eswitch_mgmt_list(void);

/* One function as a JSON object: the one shape of function_to_json()
 * (function-json.h), and "pf", "number", "origin" (static or hotplug),
 * "features" and "queues" (virtio only) and "link_state" (auto, up,
 * down); a vhost-user host side's socket, mode, guest and negotiated
 * features are function_to_json()'s "vhost_user".  Main thread only, as function_to_json(). */
int eswitch_mgmt_query(const char *spec, struct json **replyp, char **errp);

/* The management settings in force, as a JSON object. */
struct json *eswitch_mgmt_config(void);

/* Registers the eswitch/{list,query,hotplug,unplug,modify,mgmt-config}
 * unixctl commands (ovs-ext/eswitch-mgmt-unixctl.c). */
void eswitch_mgmt_unixctl_register(void);

#endif /* ovs-ext/eswitch.h */
