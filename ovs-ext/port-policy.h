/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_PORT_POLICY_H
#define OVS_EXT_PORT_POLICY_H 1

/* Per-port VLAN and MAC security policy of representor ports (DESIGN.md
 * section 4): the Interface options, their one parser, and the OVS side of
 * the policy's life: applying it to the function in the eSwitch, guest MAC
 * change mediation, status, and garbage collection.  The device enforces
 * the policy (datapath/esw-policy.h); nothing here touches packets.
 *
 * Options (on esw-pf, esw-vf and esw-virtio Interfaces)
 * ======================================================
 *
 *   mac=MAC                 administrative MAC (wins over the guest)
 *   vlan=0..4094            VST VLAN (0: VST off)
 *   qos=0..7                VST PCP (requires vlan)
 *   vlan-proto=802.1Q|802.1ad
 *   trunks=VIDS             VGT: "10,20-30" (1..4094)
 *   trunk-untagged=BOOL     with trunks: untagged frames pass (true)
 *   spoofchk=BOOL           forged transmits are dropped (false)
 *   allowed-macs=MACS       more source MACs spoofchk accepts ("A,B")
 *   trust=BOOL              guest MAC changes accepted (false); or
 *   mac-changes=accept|reject   the same, vSphere's name
 *   promisc=BOOL            unicast to other MACs delivered (true)
 *   max-tx-rate=MBPS, min-tx-rate=MBPS   (0: none)
 *   link-state=auto|enable|disable
 *
 * A port without any of them has no policy (everything passes).
 *
 * Bad configuration and the previous good policy
 * ==============================================
 *
 * port_policy_parse() checks the whole new configuration before anything
 * changes, so a bad value never leaves a half-applied policy.  But when
 * set_config of a port already in a bridge fails, OVS's bridge takes the
 * port out of the bridge (closing its netdev) and only writes the error
 * column when it tries to add it again.  So that the function stays under
 * its previous policy meanwhile, the netdev hands its claim on the function
 * to this module instead of releasing it (port_policy_hold()): the policy,
 * MACs and claim stay in the device, "held" for the same port name.  When
 * a configuration of that port name succeeds again, the new netdev takes
 * the claim back (port_policy_bind()); if the Interface disappears from the
 * database instead, port_policy_run() garbage-collects the held function
 * (policy removed, guest MAC forgotten, claim released).  Which Interfaces
 * exist is read from the bridge's database IDL, captured by a link-time
 * wrap of ovsrec_open_vswitch_first() (see port-policy.c).
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
#include "datapath/esw-policy-config.h"

struct ds;
struct eswitch;
struct json;
struct netdev;
struct smap;

/* Names of the policy options, NULL-terminated. */
#define PORT_POLICY_N_OPTIONS 14
extern const char *const port_policy_option_names[PORT_POLICY_N_OPTIONS + 1];

/* True if 'key' is one of the policy options. */
bool port_policy_is_option(const char *key);

/* Parses and validates the policy options of 'options' (other keys are
 * ignored) into '*cfg'.  Stores in '*has_policy' whether any policy option
 * is there (if not, '*cfg' is the default, a no-op).  Returns 0 or EINVAL
 * with a message in '*errp', e.g. "invalid vlan \"4095\": expected an
 * integer between 0 and 4094" or "qos requires vlan". */
int port_policy_parse(const struct smap *options,
                      struct esw_policy_config *cfg, bool *has_policy,
                      char **errp);

/* Parses a MAC address "xx:xx:xx:xx:xx:xx" (one or two hex digits per
 * byte), the syntax of the options. */
bool port_policy_parse_mac(const char *s, struct esw_eth_addr *mac);

/* Makes 'cfg' (NULL: no policy) the policy of function 'vport' of 'esw'.
 * The swap is atomic for traffic.  On failure nothing changed. */
int port_policy_apply(struct eswitch *esw, uint32_t vport,
                      const struct esw_policy_config *cfg, char **errp);

/* True if 'port_name' holds ('esw', 'vport') (see "Bad configuration"
 * above). */
bool port_policy_is_held(const char *port_name, const struct eswitch *esw,
                         uint32_t vport);

/* Records that 'netdev' (port 'port_name') is now the representor of
 * 'vport' of 'esw', with policy 'cfg' (NULL: none) applied by
 * port_policy_apply(), and takes over a claim held
 * for 'port_name': kept if it is the same function, else the held function
 * is garbage-collected.  A guest MAC request refused earlier is retried if
 * the policy now trusts the port. */
void port_policy_bind(const char *port_name, struct eswitch *esw,
                      uint32_t vport, const struct esw_policy_config *cfg,
                      struct netdev *netdev);

/* Port 'port_name' lets go of 'vport' of 'esw': its policy is removed and
 * the guest's MAC forgotten.  The caller then releases its claim. */
void port_policy_unbind(const char *port_name, struct eswitch *esw,
                        uint32_t vport);

/* Port 'port_name' leaves the bridge because its new configuration was
 * refused for 'reason' (the error OVS writes into the Interface's error
 * column; NULL if unknown): this module takes over its claim on 'vport' of
 * 'esw', which keeps its policy until the port is configured again or its
 * Interface is deleted, and logs that, with the reason.  The caller must
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
 * 'json' if it is not NULL ("function", "eswitch", "vport", "port" (null
 * if none), "held" (out of the bridge, previous policy kept), "policy"
 * (null if none, else an object of the non-default options), "mac",
 * "effective_mac", "guest_mac" and "guest_mac_change" (null if the guest
 * asked for nothing), "guest_mac_changes_refused", "rules" and "drops"
 * (by reason)).  Returns 0, or ENOENT if there is no such vport. */
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
