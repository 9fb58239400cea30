/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-appctl commands of the port policy:
 *
 *   eswitch/guest-set-mac FUNCTION MAC
 *       Plays the function's driver asking to change its MAC (what a VF
 *       driver does when the guest sets its interface's address): the
 *       request is mediated by the port's policy, as one from a tap host
 *       side is.  Replies "accepted", or fails with "refused: REASON".
 *
 *   eswitch/policy/show FUNCTION [--json]
 *       What the device has for the function: its port (or none), policy,
 *       default and effective MAC, what the guest asked for, refused
 *       changes, rules that reference it, and drops per policy reason
 *       (see port_policy_format()).
 *
 * FUNCTION is a function name ("pf0vf1"), optionally qualified by its
 * eSwitch ("esw0/pf0vf1"). */

#include <config.h>

#include "port-policy.h"

#include <errno.h>
#include <stdlib.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "unixctl.h"
#include "util.h"

#include "appctl.h"
#include "echo-arg.h"
#include "eswitch.h"
#include "values.h"

static const struct appctl_syntax guest_set_mac_syntax = {
    .args = { "function name", "mac" },
    .n_required = 2,
};

static void
port_policy_unixctl_guest_set_mac(struct unixctl_conn *conn, int argc,
                                  const char *argv[], void *aux OVS_UNUSED)
{
    struct appctl_args args;
    struct esw_eth_addr mac;
    struct esw_dev *dev;
    uint32_t vport;
    char *error;
    int err;

    if (!appctl_parse(conn, argc, argv, &guest_set_mac_syntax, &args)
        || !appctl_function(conn, args.args[0], &dev, &vport)) {
        return;
    }
    if (!value_parse_mac(args.args[1], &mac)) {
        appctl_error_take(conn, value_invalid("mac", args.args[1],
                                              "xx:xx:xx:xx:xx:xx"));
        return;
    }

    err = port_policy_guest_request(dev, vport, &mac, "appctl", &error);
    if (!err) {
        unixctl_command_reply(conn, "accepted\n");
    } else if (err == EPERM) {
        appctl_error(conn, "refused: %s", error);
        free(error);
    } else {
        appctl_error_take(conn, error);
    }
}

static const struct appctl_syntax policy_show_syntax = {
    .args = { "function name" },
    .n_required = 1,
    .opts = { { "--json", false } },
};

static void
port_policy_unixctl_show(struct unixctl_conn *conn, int argc,
                         const char *argv[], void *aux OVS_UNUSED)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct appctl_args args;
    struct esw_dev *dev;
    struct json *json;
    uint32_t vport;
    bool as_json;

    if (!appctl_parse(conn, argc, argv, &policy_show_syntax, &args)
        || !appctl_function(conn, args.args[0], &dev, &vport)) {
        return;
    }
    as_json = appctl_json(&args);
    json = as_json ? json_object_create() : NULL;
    if (port_policy_format(dev, vport, as_json ? NULL : &text, json)) {
        /* Removed since it was resolved. */
        struct echo_buf b;

        appctl_error(conn, "no such function \"%s\"",
                     echo_arg(args.args[0], &b));
        json_destroy(json);
        ds_destroy(&text);
        return;
    }
    appctl_reply(conn, as_json, json, &text);
}

void
port_policy_unixctl_register(void)
{
    unixctl_command_register("eswitch/guest-set-mac", "FUNCTION MAC", 2, 2,
                             port_policy_unixctl_guest_set_mac, NULL);
    unixctl_command_register("eswitch/policy/show", "FUNCTION [--json]", 1,
                             2, port_policy_unixctl_show, NULL);
}
