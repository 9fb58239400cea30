/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/port-policy-options.h: the Interface options of the port
 * policy, in one table: each option's name, parser, printer and JSON. */

#ifndef OVS_EXT_PORT_POLICY_OPTIONS_H
#define OVS_EXT_PORT_POLICY_OPTIONS_H 1

/* The options (on esw-pf, esw-vf and esw-virtio Interfaces; semantics in
 * DESIGN.md section 4 and ovs-ext(8)), in the order they are parsed and
 * printed:
 *
 *   admin-mac=MAC           administrative MAC (wins over the guest);
 *                           "mac" is accepted as another name for it
 *   vlan=0..4094            VST VLAN (0: VST off)
 *   qos=0..7                VST PCP (requires vlan)
 *   vlan-proto=802.1Q|802.1ad   (or 0x8100|0x88a8)
 *   trunks=VIDS             VGT: "10,20-30" (1..4094)
 *   trunk-untagged=BOOL     with trunks: untagged frames pass (true)
 *   spoofchk=BOOL           forged transmits are dropped (false)
 *   allowed-macs=MACS       more source MACs spoofchk accepts ("A,B")
 *   trust=BOOL              guest MAC changes accepted (false); or
 *   mac-changes=accept|reject   the same, vSphere's name
 *   promisc=BOOL            unicast to other MACs delivered (true)
 *   max-tx-rate=MBPS, min-tx-rate=MBPS   (0: none)
 *   link-state=auto|up|down (enable and disable, the names of "ip link
 *                           set ... vf N state", are accepted for up and
 *                           down)
 *
 * This module owns the vocabulary: the option names, their syntax, how a
 * configuration is printed (status, eswitch/show, eswitch/policy/show)
 * and its JSON form.  The device (datapath/policy/esw-policy-config.h) only
 * validates what was parsed: combinations and ranges.
 *
 * Another name for an option (an alias: "mac", "mac-changes") sets the
 * same field; given together with the option, both must say the same
 * ("trust=true contradicts mac-changes=reject").  Only the option's own
 * name is printed. */

#include <stdbool.h>

struct ds;
struct esw_policy_config;
struct json;
struct smap;

/* Names of the options and their aliases, in table order,
 * NULL-terminated. */
#define PORT_POLICY_N_OPTIONS 15
extern const char *const port_policy_option_names[PORT_POLICY_N_OPTIONS + 1];

/* Parses and validates the policy options of 'options' (other keys are
 * ignored) into '*cfg'.  Stores in '*has_policy' whether any policy option
 * is there (if not, '*cfg' is the default, a no-op).  Returns 0 or EINVAL
 * with a message in '*errp', e.g. "invalid vlan \"4095\": expected an
 * integer between 0 and 4094" or "qos requires vlan". */
int port_policy_parse(const struct smap *options,
                      struct esw_policy_config *cfg, bool *has_policy,
                      char **errp);

/* Appends the options of 'cfg' that differ from the default, as
 * "key=value ..." in the option syntax, to 's' (nothing for the
 * default). */
void port_policy_format_options(const struct esw_policy_config *cfg,
                                struct ds *s);

/* The options of 'cfg' that differ from the default, as a JSON object:
 * integers for numbers, booleans for BOOL options, an array of strings
 * for allowed-macs, strings (in the option syntax) for the others. */
struct json *port_policy_options_to_json(const struct esw_policy_config *);

#endif /* ovs-ext/port-policy-options.h */
