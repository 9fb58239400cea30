/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-appctl commands of the flow offload provider:
 *
 *   eswitch/dump-flows [--json]     every datapath flow put on an eSwitch
 *                                   port, its offload state and, if not
 *                                   offloaded, why
 *   eswitch/offload-stats [--json]  offload counters
 *   eswitch/offload-check [--json]  proves that the flows reported
 *                                   offloaded and the devices' rules are
 *                                   the same set; fails (error reply, in
 *                                   JSON with --json) otherwise
 *
 * See netdev-offload-esw.h for what each shows. */

#include <config.h>

#include "netdev-offload-esw.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "unixctl.h"
#include "util.h"

#include "eswitch-unixctl.h"

void offload_unixctl_register(void);

/* Parses "[--json]". */
static bool
parse_json_only(struct unixctl_conn *conn, int argc, const char *argv[],
                bool *as_json)
{
    size_t n_args;

    return eswitch_unixctl_parse_args(conn, argc, argv, 0, NULL, &n_args,
                                      as_json);
}

static void
offload_unixctl_dump_flows(struct unixctl_conn *conn, int argc,
                           const char *argv[], void *aux OVS_UNUSED)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct json *flows, *json;
    bool as_json;

    if (!parse_json_only(conn, argc, argv, &as_json)) {
        return;
    }
    if (as_json) {
        flows = json_array_create_empty();
        netdev_offload_esw_dump_flows(NULL, flows);
        json = json_object_create();
        json_object_put(json, "flows", flows);
    } else {
        netdev_offload_esw_dump_flows(&text, NULL);
        json = NULL;
    }
    eswitch_unixctl_reply(conn, as_json, json, &text);
}

static void
offload_unixctl_stats(struct unixctl_conn *conn, int argc,
                      const char *argv[], void *aux OVS_UNUSED)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct json *json;
    bool as_json;

    if (!parse_json_only(conn, argc, argv, &as_json)) {
        return;
    }
    json = as_json ? json_object_create() : NULL;
    netdev_offload_esw_format_stats(as_json ? NULL : &text, json);
    eswitch_unixctl_reply(conn, as_json, json, &text);
}

static void
offload_unixctl_check(struct unixctl_conn *conn, int argc,
                      const char *argv[], void *aux OVS_UNUSED)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct json *json;
    bool as_json;

    if (!parse_json_only(conn, argc, argv, &as_json)) {
        return;
    }
    json = as_json ? json_object_create() : NULL;
    if (netdev_offload_esw_check(as_json ? NULL : &text, json)) {
        eswitch_unixctl_reply(conn, as_json, json, &text);
    } else {
        eswitch_unixctl_reply_error(conn, as_json, json, &text);
    }
}

void
offload_unixctl_register(void)
{
    unixctl_command_register("eswitch/dump-flows", "[--json]", 0, 1,
                             offload_unixctl_dump_flows, NULL);
    unixctl_command_register("eswitch/offload-stats", "[--json]", 0, 1,
                             offload_unixctl_stats, NULL);
    unixctl_command_register("eswitch/offload-check", "[--json]", 0, 1,
                             offload_unixctl_check, NULL);
}
