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
 *   eswitch/policy/show FUNCTION
 *       What the device has for the function: its port (or none), policy,
 *       default and effective MAC, what the guest asked for, refused
 *       changes, rules that reference it, and drops per policy reason.
 *
 * FUNCTION is a function name ("pf0vf1"), optionally qualified by its
 * eSwitch ("esw0/pf0vf1"). */

#include <config.h>

#include "port-policy.h"

#include <errno.h>
#include <stdlib.h>

#include "openvswitch/dynamic-string.h"
#include "unixctl.h"
#include "util.h"

#include "eswitch.h"

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
    if (!port_policy_parse_mac(argv[2], &mac)) {
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
port_policy_unixctl_show(struct unixctl_conn *conn, int argc OVS_UNUSED,
                         const char *argv[], void *aux OVS_UNUSED)
{
    struct ds reply = DS_EMPTY_INITIALIZER;
    struct esw_dev *dev;
    uint32_t vport;
    char *error;

    if (eswitch_find_function(argv[1], &dev, &vport, &error)) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }
    port_policy_format(dev, vport, &reply);
    unixctl_command_reply(conn, ds_cstr(&reply));
    ds_destroy(&reply);
}

void
port_policy_unixctl_register(void)
{
    unixctl_command_register("eswitch/guest-set-mac", "FUNCTION MAC", 2, 2,
                             port_policy_unixctl_guest_set_mac, NULL);
    unixctl_command_register("eswitch/policy/show", "FUNCTION", 1, 1,
                             port_policy_unixctl_show, NULL);
}
