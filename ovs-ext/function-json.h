/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/function-json.h: the one JSON shape of an eSwitch function, for
 * eswitch/show, eswitch/query (ovs-eswitchctl) and eswitch/policy/show. */

#ifndef OVS_EXT_FUNCTION_JSON_H
#define OVS_EXT_FUNCTION_JSON_H 1

#include <stdint.h>

struct esw_dev;
struct json;

/* Puts into the JSON object 'json' what every command says of function
 * 'vport' of 'dev':
 *
 *   "eswitch", "function"   its eSwitch's name and its own ("pf0vf1")
 *   "vport"                 its vport number
 *   "kind"                  "uplink", "pf", "vf", "virtio" or "sf"
 *   "mac"                   the function's own MAC
 *   "effective_mac"         the MAC spoof check enforces (the policy's
 *                           admin-mac, else what the guest was allowed to
 *                           set, else "mac")
 *   "mtu"
 *   "link"                  "up" or "down", as the function sees it
 *   "host_side"             "capture", "tap", "vhost-user" or "none";
 *                           and, for tap,
 *   "host_interface"        the interface's name; for vhost-user,
 *   "vhost_user"            an object: "path" (the socket), "mode"
 *                           ("server" or "client"), "guest" (whether a
 *                           guest driver is ready), "queues" (served),
 *                           "guest_queues", "enabled_queues",
 *                           "guest_drivers_ready" (how many times one
 *                           became ready), "offered_features" and
 *                           "negotiated_features" ("0x..." hex)
 *   "port"                  the port that holds the function, or null
 *   "held"                  whether that port is out of the bridge, the
 *                           function keeping its policy (port-policy.h)
 *   "bridge"                the bridge that port is on, or null
 *   "policy"                null without a policy, else the object of its
 *                           non-default options
 *                           (port_policy_options_to_json())
 *
 * Each command adds members of its own.  Returns 0, or ENOENT if there is
 * no such vport.  Main thread only (it asks OVS's bridges), and not with
 * the eSwitch module's mutex held. */
int function_to_json(struct esw_dev *, uint32_t vport, struct json *json);

#endif /* ovs-ext/function-json.h */
