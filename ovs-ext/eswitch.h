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

/* Default eSwitch name of PF 'pf': "esw<pf>". */
void eswitch_default_name(uint32_t pf, char buf[ESW_NAME_MAX]);

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

/* Claims function 'id' of eSwitch 'esw_name' (created if needed) for port
 * 'port_name'.  On
 * success stores the eSwitch in '*eswp' and the function's vport number in
 * '*vportp'.  A claim the same port already holds succeeds again. */
int eswitch_claim(const char *esw_name, const struct eswitch_fn_id *id,
                  const char *port_name, struct eswitch **eswp,
                  uint32_t *vportp, char **errp);

/* Releases the claim of 'vport' on 'esw' (which may be destroyed). */
void eswitch_release(struct eswitch *esw, uint32_t vport);

struct esw_dev *eswitch_dev(const struct eswitch *);
const char *eswitch_name(const struct eswitch *);

/* True while the eSwitch's uplink port is configured. */
bool eswitch_is_managed(const struct eswitch *);

/* Name of the uplink of 'esw' ("p0"), even when its port is absent. */
const char *eswitch_uplink_name(const struct eswitch *);

/* Looks up a function by "FUNCTION" (searched in every eSwitch) or
 * "ESWITCH/FUNCTION".  On success stores the device (without a new
 * reference: valid until the caller returns to the main loop) and the
 * vport. */
int eswitch_find_function(const char *spec, struct esw_dev **devp,
                          uint32_t *vportp, char **errp);

/* Number of eSwitches, for diagnostics. */
size_t eswitch_count(void);

#endif /* ovs-ext/eswitch.h */
