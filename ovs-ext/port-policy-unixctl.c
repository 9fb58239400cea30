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

#include "eswitch.h"
#include "eswitch-unixctl.h"
#include "values.h"

static void
port_policy_unixctl_guest_set_mac(struct unixctl_conn *conn,
                                  int argc OVS_UNUSED, const char *argv[],
                                  void *aux OVS_UNUSED)
{
    struct esw_eth_addr mac;
    struct esw_dev *dev;
    uint32_t vport;
    char *error;
    int err;

    if (eswitch_find_function(argv[1], &dev, &vport, &error)) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }
    if (!value_parse_mac(argv[2], &mac)) {
        unixctl_command_reply_error(conn, "bad mac address (expected "
                                    "xx:xx:xx:xx:xx:xx)");
        return;
    }

    err = port_policy_guest_request(dev, vport, &mac, "appctl", &error);
    if (!err) {
        unixctl_command_reply(conn, "accepted\n");
    } else if (err == EPERM) {
        char *msg = xasprintf("refused: %s", error);

        unixctl_command_reply_error(conn, msg);
        free(msg);
    } else {
        unixctl_command_reply_error(conn, error);
    }
    if (err) {
        free(error);
    }
}

static void
port_policy_unixctl_show(struct unixctl_conn *conn, int argc,
                         const char *argv[], void *aux OVS_UNUSED)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct esw_dev *dev;
    const char *args[1];
    struct json *json;
    size_t n_args;
    uint32_t vport;
    bool as_json;
    char *error;

    if (!eswitch_unixctl_parse_args(conn, argc, argv, ARRAY_SIZE(args), args,
                                    &n_args, &as_json)) {
        return;
    }
    if (!n_args) {
        unixctl_command_reply_error(conn, "missing function name");
        return;
    }
    if (eswitch_find_function(args[0], &dev, &vport, &error)) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }
    json = as_json ? json_object_create() : NULL;
    if (port_policy_format(dev, vport, as_json ? NULL : &text, json)) {
        unixctl_command_reply_error(conn, "no such function");
        json_destroy(json);
        ds_destroy(&text);
        return;
    }
    eswitch_unixctl_reply(conn, as_json, json, &text);
}

void
port_policy_unixctl_register(void)
{
    unixctl_command_register("eswitch/guest-set-mac", "FUNCTION MAC", 2, 2,
                             port_policy_unixctl_guest_set_mac, NULL);
    unixctl_command_register("eswitch/policy/show", "FUNCTION [--json]", 1,
                             2, port_policy_unixctl_show, NULL);
}
