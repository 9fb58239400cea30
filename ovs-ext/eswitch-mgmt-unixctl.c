/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The unixctl commands behind ovs-eswitchctl.  They answer in JSON, for
 * the tool to format (ovs-eswitchctl prints tables, or the JSON with
 * --json):
 *
 *   eswitch/list
 *   eswitch/query FUNCTION
 *   eswitch/hotplug vf|virtio [--eswitch E] [--pf N] [--mac M] [--mtu N]
 *                             [--queues N] [--features HEX]
 *                             [--vhost-user PATH [--client]]
 *   eswitch/unplug FUNCTION [--check]
 *   eswitch/modify FUNCTION [--mac M] [--mtu N] [--link-state auto|up|down]
 *                           [--queues N] [--features HEX]
 *   eswitch/mgmt-config
 *
 * FUNCTION is a name ("pf0sf1000") or a vport number ("6"), either
 * optionally qualified by its eSwitch ("esw0/6"), resolved as every
 * command does (eswitch_find_function()).  Every argument is checked
 * before anything changes. */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "appctl.h"
#include "echo-arg.h"
#include "eswitch.h"
#include "eswitch-config.h"
#include "eswitch-state.h"
#include "openvswitch/json.h"
#include "unixctl.h"
#include "util.h"
#include "values.h"

static const struct appctl_syntax hotplug_syntax = {
    .args = { "device type" },
    .n_required = 1,
    .opts = {
        { "--eswitch", true }, { "--pf", true }, { "--mac", true },
        { "--mtu", true }, { "--queues", true }, { "--features", true },
        { "--vhost-user", true }, { "--client", false },
    },
};

static const struct appctl_syntax modify_syntax = {
    .args = { "function name" },
    .n_required = 1,
    .opts = {
        { "--mac", true }, { "--mtu", true }, { "--link-state", true },
        { "--queues", true }, { "--features", true },
    },
};

/* Options shared by hotplug and modify. */
struct fn_options {
    const char *eswitch;
    bool has_pf;
    uint32_t pf;
    bool has_mac;
    struct esw_eth_addr mac;
    uint32_t mtu;
    uint32_t queues;
    bool has_features;
    uint64_t features;
    bool has_link_state;
    enum eswitch_link_state link_state;
    const char *vhost_path;
    bool vhost_client;
};

/* Checks the values of the options in 'args' (hotplug_syntax or
 * modify_syntax) into 'o'.  Returns NULL or an error (malloc'd). */
static char *
parse_fn_options(const struct appctl_args *args, struct fn_options *o)
{
    bool hotplug = args->syntax == &hotplug_syntax;
    const char *value;

    memset(o, 0, sizeof *o);
    if (hotplug) {
        o->eswitch = appctl_opt(args, "--eswitch");
        o->vhost_path = appctl_opt(args, "--vhost-user");
        o->vhost_client = appctl_opt(args, "--client") != NULL;
        value = appctl_opt(args, "--pf");
        if (value) {
            if (!value_parse_uint(value, 0, ESWITCH_MAX_PFS - 1, &o->pf)) {
                return value_invalid("--pf", value, "0..%d",
                                     ESWITCH_MAX_PFS - 1);
            }
            o->has_pf = true;
        }
    }
    value = appctl_opt(args, "--mac");
    if (value) {
        if (!value_parse_mac(value, &o->mac)) {
            return value_invalid("--mac", value, "xx:xx:xx:xx:xx:xx");
        }
        o->has_mac = true;
    }
    value = appctl_opt(args, "--mtu");
    if (value && !value_parse_uint(value, ESWITCH_MIN_MTU, ESWITCH_MAX_MTU,
                                   &o->mtu)) {
        return value_invalid("--mtu", value, "%d..%d", ESWITCH_MIN_MTU,
                             ESWITCH_MAX_MTU);
    }
    value = appctl_opt(args, "--queues");
    if (value && !value_parse_uint(value, 1, ESWITCH_MAX_QUEUES,
                                   &o->queues)) {
        return value_invalid("--queues", value, "1..%d", ESWITCH_MAX_QUEUES);
    }
    value = appctl_opt(args, "--features");
    if (value) {
        if (!value_parse_hex64(value, &o->features)) {
            return value_invalid("--features", value,
                                 "a hexadecimal number (0x...)");
        }
        o->has_features = true;
    }
    if (!hotplug) {
        value = appctl_opt(args, "--link-state");
        if (value) {
            if (!eswitch_link_state_from_string(value, &o->link_state)) {
                return value_invalid("--link-state", value,
                                     "auto, up or down");
            }
            o->has_link_state = true;
        }
    }
    return NULL;
}

static void
mgmt_list(struct unixctl_conn *conn, int argc OVS_UNUSED,
          const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    appctl_reply_json(conn, eswitch_mgmt_list());
}

static const struct appctl_syntax query_syntax = {
    .args = { "function name" },
    .n_required = 1,
};

static void
mgmt_query(struct unixctl_conn *conn, int argc, const char *argv[],
           void *aux OVS_UNUSED)
{
    struct appctl_args args;
    struct json *json;
    char *error;

    if (!appctl_parse(conn, argc, argv, &query_syntax, &args)) {
        return;
    }
    if (eswitch_mgmt_query(args.args[0], &json, &error)) {
        appctl_error_take(conn, error);
    } else {
        appctl_reply_json(conn, json);
    }
}

static void
mgmt_hotplug(struct unixctl_conn *conn, int argc, const char *argv[],
             void *aux OVS_UNUSED)
{
    struct eswitch_hotplug_args args;
    struct appctl_args a;
    char name[ESW_NAME_MAX];
    struct fn_options o;
    const char *type;
    struct json *json;
    char *error;

    if (!appctl_parse(conn, argc, argv, &hotplug_syntax, &a)) {
        return;
    }
    type = a.args[0];
    if (strcmp(type, "vf") && strcmp(type, "virtio")) {
        struct echo_buf b;

        appctl_error(conn, "unknown device type \"%s\": expected vf or "
                     "virtio", echo_arg(type, &b));
        return;
    }
    error = parse_fn_options(&a, &o);
    if (error) {
        appctl_error_take(conn, error);
        return;
    }
    memset(&args, 0, sizeof args);
    args.eswitch = o.eswitch;
    args.has_pf = o.has_pf;
    args.pf = o.pf;
    args.kind = strcmp(type, "vf") ? ESW_VPORT_SF : ESW_VPORT_VF;
    args.has_mac = o.has_mac;
    args.mac = o.mac;
    args.mtu = o.mtu;
    args.queues = o.queues;
    args.has_features = o.has_features;
    args.features = o.features;
    args.vhost_path = o.vhost_path;
    args.vhost_client = o.vhost_client;
    if (eswitch_hotplug(&args, name, &error)) {
        appctl_error_take(conn, error);
        return;
    }
    if (eswitch_mgmt_query(name, &json, &error)) {
        /* Gone already: report the name only. */
        free(error);
        json = json_object_create();
        json_object_put_string(json, "function", name);
    }
    appctl_reply_json(conn, json);
}

static const struct appctl_syntax unplug_syntax = {
    .args = { "function name" },
    .n_required = 1,
    .opts = { { "--check", false } },
};

static void
mgmt_unplug(struct unixctl_conn *conn, int argc, const char *argv[],
            void *aux OVS_UNUSED)
{
    struct appctl_args args;
    struct json *json;
    char *error;

    if (!appctl_parse(conn, argc, argv, &unplug_syntax, &args)) {
        return;
    }
    if (appctl_opt(&args, "--check")) {
        if (eswitch_unplug_check(args.args[0], &json, &error)) {
            appctl_error_take(conn, error);
        } else {
            appctl_reply_json(conn, json);
        }
    } else if (eswitch_unplug(args.args[0], &error)) {
        appctl_error_take(conn, error);
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

static void
mgmt_modify(struct unixctl_conn *conn, int argc, const char *argv[],
            void *aux OVS_UNUSED)
{
    struct eswitch_modify_args args;
    struct appctl_args a;
    struct fn_options o;
    const char *spec;
    struct json *json;
    char *error;

    if (!appctl_parse(conn, argc, argv, &modify_syntax, &a)) {
        return;
    }
    spec = a.args[0];
    error = parse_fn_options(&a, &o);
    if (!error && argc == 2) {
        error = xstrdup("nothing to modify: give --mac, --mtu, --link-state, "
                        "--queues or --features");
    }
    if (error) {
        appctl_error_take(conn, error);
        return;
    }
    memset(&args, 0, sizeof args);
    args.has_mac = o.has_mac;
    args.mac = o.mac;
    args.mtu = o.mtu;
    args.has_link_state = o.has_link_state;
    args.link_state = o.link_state;
    args.queues = o.queues;
    args.has_features = o.has_features;
    args.features = o.features;
    if (eswitch_modify(spec, &args, &error)
        || eswitch_mgmt_query(spec, &json, &error)) {
        appctl_error_take(conn, error);
        return;
    }
    appctl_reply_json(conn, json);
}

static void
mgmt_config(struct unixctl_conn *conn, int argc OVS_UNUSED,
            const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    appctl_reply_json(conn, eswitch_mgmt_config());
}

void
eswitch_mgmt_unixctl_register(void)
{
    unixctl_command_register("eswitch/list", "", 0, 0, mgmt_list, NULL);
    unixctl_command_register("eswitch/query", "FUNCTION", 1, 1, mgmt_query,
                             NULL);
    unixctl_command_register("eswitch/hotplug",
                             "vf|virtio [--eswitch E] [--pf N] [--mac M] "
                             "[--mtu N] [--queues N] [--features HEX] "
                             "[--vhost-user PATH [--client]]",
                             1, 18, mgmt_hotplug, NULL);
    unixctl_command_register("eswitch/unplug", "FUNCTION [--check]", 1, 2,
                             mgmt_unplug, NULL);
    unixctl_command_register("eswitch/modify",
                             "FUNCTION [--mac M] [--mtu N] [--link-state "
                             "auto|up|down] [--queues N] [--features HEX]",
                             1, 11, mgmt_modify, NULL);
    unixctl_command_register("eswitch/mgmt-config", "", 0, 0, mgmt_config,
                             NULL);
}
