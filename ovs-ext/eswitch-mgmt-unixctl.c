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
 * FUNCTION is a name ("pf0sf1000"), an index (the function's vport number,
 * "6"), either optionally qualified by its eSwitch ("esw0/6").  Every
 * argument is checked before anything changes. */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "echo-arg.h"
#include "eswitch.h"
#include "eswitch-config.h"
#include "eswitch-state.h"
#include "openvswitch/json.h"
#include "unixctl.h"
#include "util.h"

static void
reply_json(struct unixctl_conn *conn, struct json *json)
{
    char *s = json_to_string(json, JSSF_SORT);

    unixctl_command_reply(conn, s);
    free(s);
    json_destroy(json);
}

static void
reply_error(struct unixctl_conn *conn, char *error)
{
    unixctl_command_reply_error(conn, error);
    free(error);
}

static bool
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long long v;

    if (!s[0] || s[0] == '-' || s[0] == '+') {
        return false;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end || errno || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Options shared by hotplug and modify.  Returns NULL or an error. */
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

static char *
parse_fn_options(int argc, const char *argv[], bool hotplug,
                 struct fn_options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        struct echo_buf b;

        if (hotplug && !strcmp(opt, "--client")) {
            o->vhost_client = true;
            continue;
        }
        if (!value || strncmp(opt, "--", 2)) {
            return (strncmp(opt, "--", 2)
                    ? xasprintf("unexpected argument \"%s\"",
                                echo_arg(opt, &b))
                    : xasprintf("%s needs a value", echo_arg(opt, &b)));
        }
        i++;
        if (hotplug && !strcmp(opt, "--eswitch")) {
            o->eswitch = value;
        } else if (hotplug && !strcmp(opt, "--vhost-user")) {
            o->vhost_path = value;
        } else if (hotplug && !strcmp(opt, "--pf")) {
            if (!parse_u32(value, 0, ESWITCH_MAX_PFS - 1, &o->pf)) {
                return xasprintf("invalid --pf \"%s\": expected 0..%d",
                                 echo_arg(value, &b), ESWITCH_MAX_PFS - 1);
            }
            o->has_pf = true;
        } else if (!strcmp(opt, "--mac")) {
            if (!eswitch_mac_from_string(value, &o->mac)) {
                return xasprintf("invalid --mac \"%s\": expected "
                                 "xx:xx:xx:xx:xx:xx", echo_arg(value, &b));
            }
            o->has_mac = true;
        } else if (!strcmp(opt, "--mtu")) {
            if (!parse_u32(value, ESWITCH_MIN_MTU, ESWITCH_MAX_MTU,
                           &o->mtu)) {
                return xasprintf("invalid --mtu \"%s\": expected %d..%d",
                                 echo_arg(value, &b), ESWITCH_MIN_MTU,
                                 ESWITCH_MAX_MTU);
            }
        } else if (!strcmp(opt, "--queues")) {
            if (!parse_u32(value, 1, ESWITCH_MAX_QUEUES, &o->queues)) {
                return xasprintf("invalid --queues \"%s\": expected 1..%d",
                                 echo_arg(value, &b), ESWITCH_MAX_QUEUES);
            }
        } else if (!strcmp(opt, "--features")) {
            char *end;

            errno = 0;
            o->features = strtoull(value, &end, 16);
            if (strncmp(value, "0x", 2) || !value[2] || *end || errno) {
                return xasprintf("invalid --features \"%s\": expected a "
                                 "hexadecimal number (0x...)",
                                 echo_arg(value, &b));
            }
            o->has_features = true;
        } else if (!hotplug && !strcmp(opt, "--link-state")) {
            if (!eswitch_link_state_from_string(value, &o->link_state)) {
                return xasprintf("invalid --link-state \"%s\": expected "
                                 "auto, up or down", echo_arg(value, &b));
            }
            o->has_link_state = true;
        } else {
            return xasprintf("unknown option \"%s\"", echo_arg(opt, &b));
        }
    }
    return NULL;
}

static void
mgmt_list(struct unixctl_conn *conn, int argc OVS_UNUSED,
          const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    reply_json(conn, eswitch_mgmt_list());
}

static void
mgmt_query(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[], void *aux OVS_UNUSED)
{
    struct json *json;
    char *error;

    if (eswitch_mgmt_query(argv[1], &json, &error)) {
        reply_error(conn, error);
    } else {
        reply_json(conn, json);
    }
}

static void
mgmt_hotplug(struct unixctl_conn *conn, int argc, const char *argv[],
             void *aux OVS_UNUSED)
{
    struct eswitch_hotplug_args args;
    char name[ESW_NAME_MAX];
    struct fn_options o;
    struct json *json;
    char *error;

    if (strcmp(argv[1], "vf") && strcmp(argv[1], "virtio")) {
        struct echo_buf b;

        reply_error(conn, xasprintf("unknown device type \"%s\": expected "
                                    "vf or virtio", echo_arg(argv[1], &b)));
        return;
    }
    error = parse_fn_options(argc - 2, argv + 2, true, &o);
    if (error) {
        reply_error(conn, error);
        return;
    }
    memset(&args, 0, sizeof args);
    args.eswitch = o.eswitch;
    args.has_pf = o.has_pf;
    args.pf = o.pf;
    args.kind = strcmp(argv[1], "vf") ? ESW_VPORT_SF : ESW_VPORT_VF;
    args.has_mac = o.has_mac;
    args.mac = o.mac;
    args.mtu = o.mtu;
    args.queues = o.queues;
    args.has_features = o.has_features;
    args.features = o.features;
    args.vhost_path = o.vhost_path;
    args.vhost_client = o.vhost_client;
    if (eswitch_hotplug(&args, name, &error)) {
        reply_error(conn, error);
        return;
    }
    if (eswitch_mgmt_query(name, &json, &error)) {
        /* Gone already: report the name only. */
        free(error);
        json = json_object_create();
        json_object_put_string(json, "function", name);
    }
    reply_json(conn, json);
}

static void
mgmt_unplug(struct unixctl_conn *conn, int argc, const char *argv[],
            void *aux OVS_UNUSED)
{
    struct json *json;
    char *error;

    if (argc > 2 && strcmp(argv[2], "--check")) {
        reply_error(conn, xasprintf("unexpected argument \"%s\"", argv[2]));
    } else if (argc > 2) {
        if (eswitch_unplug_check(argv[1], &json, &error)) {
            reply_error(conn, error);
        } else {
            reply_json(conn, json);
        }
    } else if (eswitch_unplug(argv[1], &error)) {
        reply_error(conn, error);
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

static void
mgmt_modify(struct unixctl_conn *conn, int argc, const char *argv[],
            void *aux OVS_UNUSED)
{
    struct eswitch_modify_args args;
    struct fn_options o;
    struct json *json;
    char *error;

    error = parse_fn_options(argc - 2, argv + 2, false, &o);
    if (!error && argc == 2) {
        error = xstrdup("nothing to modify: give --mac, --mtu, --link-state, "
                        "--queues or --features");
    }
    if (error) {
        reply_error(conn, error);
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
    if (eswitch_modify(argv[1], &args, &error)
        || eswitch_mgmt_query(argv[1], &json, &error)) {
        reply_error(conn, error);
        return;
    }
    reply_json(conn, json);
}

static void
mgmt_config(struct unixctl_conn *conn, int argc OVS_UNUSED,
            const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    reply_json(conn, eswitch_mgmt_config());
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
