/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_PORT_POLICY_H
#define OVS_EXT_PORT_POLICY_H 1

/* Per-port VLAN and MAC security policy of representor ports (DESIGN.md
 * section 4): the OVS side of the policy's life: applying it to the
 * function in the eSwitch, guest MAC change mediation, status, and
 * garbage collection.  The device enforces
 * the policy (datapath/policy/esw-policy.h); nothing here touches packets.
 *
 * The Interface options, their names, syntax, printing and JSON, are
 * port-policy-options.h's.
 *
 * Bad configuration and the previous good policy
 * ==============================================
 *
 * port_policy_parse() checks the whole new configuration before anything
 * changes, so a bad value never leaves a half-applied policy.  But when
 * set_config of a port already in a bridge fails, OVS's bridge takes the
 * port out of the bridge (closing its netdev) and only writes the error
 * column when it tries to add it again.  So that the function stays under
 * its previous policy meanwhile, the netdev does not release its claim on
 * the function but marks it "held" (port_policy_hold(),
 * eswitch_claim_set_held()): the policy, MACs and claim stay in the
 * device, held for the same port name.  When a configuration of that port
 * name succeeds again, the new netdev takes the claim back
 * (port_policy_bind()); if the Interface disappears from the database
 * instead, port_policy_run() garbage-collects the held function (policy
 * removed, guest MAC forgotten, claim released).  Which Interfaces exist
 * is read from the bridge's database IDL (port_policy_set_idl()).  The
 * claims (eswitch.h) are the one record of which port holds which
 * function and whether it is held; this module keeps only the guest MAC
 * mediation state of the functions representors hold.
 *
 * Guest MAC changes
 * =================
 *
 * port_policy_guest_request() plays the function's driver asking the PF
 * (here: the eSwitch) for a new MAC, as `ovs-appctl eswitch/guest-set-mac`
 * and, for tap host sides, when port_policy_run() sees that the guest
 * changed its interface's address.  The device accepts it only when the
 * port is trusted and has no administrative MAC; an accepted change moves
 * the effective MAC (spoof check, mac_in_use), a refused one changes nothing
 * in the switch (the guest keeps believing its new MAC and its frames are
 * dropped as spoofed, as on vSphere), is logged once (INFO, rate-limited)
 * with the port, the old and new MAC and the reason, counted, and shown in
 * the status.
 *
 * Threading: every function here is called from the main thread (netdev
 * set_config/destruct/get_status, netdev_run/wait, unixctl).  The registry
 * is protected by an internal mutex anyway.
 *
 * Errors are positive errno values; 'char **errp' receives, on failure, one
 * sentence for the Interface "error" column (malloc'd, the caller's). */

#include <stdbool.h>
#include <stdint.h>

#include "datapath/esw.h"
#include "datapath/policy/esw-policy-config.h"
#include "port-policy-options.h"

struct ds;
struct eswitch;
struct json;
struct netdev;
struct smap;

/* Makes 'cfg' (NULL: no policy) the policy of function 'vport' of 'esw'.
 * The swap is atomic for traffic.  On failure nothing changed. */
int port_policy_apply(struct eswitch *esw, uint32_t vport,
                      const struct esw_policy_config *cfg, char **errp);

/* Records that port 'port_name', which claimed 'vport' of 'esw', is now
 * its representor, with policy 'cfg' (NULL: none) applied by
 * port_policy_apply(): a claim the port held for this function is taken
 * back, one it held for another function is garbage-collected.  A guest
 * MAC request refused earlier is retried if the policy now trusts the
 * port. */
void port_policy_bind(const char *port_name, struct eswitch *esw,
                      uint32_t vport, const struct esw_policy_config *cfg);

/* Port 'port_name' lets go of 'vport' of 'esw': its policy is removed and
 * the guest's MAC forgotten.  The caller then releases its claim. */
void port_policy_unbind(const char *port_name, struct eswitch *esw,
                        uint32_t vport);

/* Port 'port_name' leaves the bridge because its new configuration was
 * refused for 'reason' (the error OVS writes into the Interface's error
 * column; NULL if unknown): its claim on 'vport' of 'esw' becomes held,
 * and the function keeps its policy until the port is configured again or
 * its Interface is deleted; logs that, with the reason.  The caller must
 * not release the claim. */
void port_policy_hold(const char *port_name, struct eswitch *esw,
                      uint32_t vport, const char *reason);

/* The guest of function 'vport' of 'dev' asks for MAC 'mac' ('source' says
 * how, for the log: "tap", "appctl").  Returns 0 if accepted, EPERM if
 * refused (with the reason in '*reasonp' if not NULL, malloc'd), EINVAL if
 * 'mac' is not unicast, ENOENT if there is no such vport. */
int port_policy_guest_request(struct esw_dev *dev, uint32_t vport,
                              const struct esw_eth_addr *mac,
                              const char *source, char **reasonp);

/* Adds the policy part of port 'port_name''s status: "policy" (the
 * non-default options), "guest_mac" (what the guest asked for) and
 * "guest_mac_change" ("accepted" or "refused: REASON"). */
void port_policy_get_status(const char *port_name, struct esw_dev *dev,
                            uint32_t vport, struct smap *status);

/* Describes function 'vport' of 'dev' (eswitch/policy/show): appends text
 * to 's' if it is not NULL, puts the same facts into the JSON object
 * 'json' if it is not NULL: the function as function_to_json() puts it
 * (function-json.h), and "guest_mac" and "guest_mac_change" (null if the
 * guest asked for nothing), "guest_mac_changes_refused", "rules" (those
 * that match on or output to it) and "drops" (by policy reason).  Returns
 * 0, or ENOENT if there is no such vport. */
int port_policy_format(struct esw_dev *dev, uint32_t vport, struct ds *s,
                       struct json *json);

/* The bridge's database, from which port_policy_run() learns which
 * Interfaces exist (see ovs_ext_set_ovs_idl()). */
struct ovsdb_idl;
void port_policy_set_idl(const struct ovsdb_idl *);

/* Main loop: watches the tap host sides' addresses (guest MAC changes) and
 * garbage-collects held functions whose Interface is gone. */
void port_policy_run(void);
void port_policy_wait(void);

/* Registers the eswitch/guest-set-mac and eswitch/policy/show commands
 * (port-policy-unixctl.c). */
void port_policy_unixctl_register(void);

#endif /* ovs-ext/port-policy.h */
