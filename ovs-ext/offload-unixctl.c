/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-appctl commands of the flow offload provider:
 *
 *   eswitch/dump-flows      every datapath flow put on an eSwitch port, its
 *                           offload state and, if not offloaded, why
 *   eswitch/offload-stats   offload counters
 *   eswitch/offload-check   proves that the flows reported offloaded and
 *                           the devices' rules are the same set; fails
 *                           (error reply) otherwise */

#include <config.h>

#include "netdev-offload-esw.h"
#include "openvswitch/dynamic-string.h"
#include "unixctl.h"
#include "util.h"

void offload_unixctl_register(void);

static void
offload_unixctl_dump_flows(struct unixctl_conn *conn, int argc OVS_UNUSED,
                           const char *argv[] OVS_UNUSED,
                           void *aux OVS_UNUSED)
{
    struct ds out = DS_EMPTY_INITIALIZER;

    netdev_offload_esw_dump_flows(&out);
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

static void
offload_unixctl_stats(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds out = DS_EMPTY_INITIALIZER;

    netdev_offload_esw_format_stats(&out);
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

static void
offload_unixctl_check(struct unixctl_conn *conn, int argc OVS_UNUSED,
                      const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds out = DS_EMPTY_INITIALIZER;

    if (netdev_offload_esw_check(&out)) {
        unixctl_command_reply(conn, ds_cstr(&out));
    } else {
        unixctl_command_reply_error(conn, ds_cstr(&out));
    }
    ds_destroy(&out);
}

void
offload_unixctl_register(void)
{
    unixctl_command_register("eswitch/dump-flows", "", 0, 0,
                             offload_unixctl_dump_flows, NULL);
    unixctl_command_register("eswitch/offload-stats", "", 0, 0,
                             offload_unixctl_stats, NULL);
    unixctl_command_register("eswitch/offload-check", "", 0, 0,
                             offload_unixctl_check, NULL);
}
