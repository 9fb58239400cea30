/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* eswitch/show [ESWITCH] [--json]: every eSwitch with its functions, their
 * host sides, representor ports, MACs, links and policies, and the rule
 * table's use. */

#include <config.h>

#include "eswitch-show.h"

#include <inttypes.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "unixctl.h"
#include "util.h"

#include "appctl.h"
#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#include "datapath/policy/esw-policy-config.h"
#include "eswitch.h"
#include "function-json.h"
#include "port-policy-options.h"
#include "rep-ports.h"
#include "values.h"

/* "0x... (name name...)" for the virtio features 'f'. */
static void
put_features(struct ds *s, uint64_t f)
{
    ds_put_format(s, "0x%"PRIx64, f);
    if (f) {
        const char *sep = " (";

        for (unsigned int bit = 0; bit < 64; bit++) {
            if (f & (UINT64_C(1) << bit)) {
                const char *name = esw_virtio_feature_name(bit);

                if (name) {
                    ds_put_format(s, "%s%s", sep, name);
                } else {
                    ds_put_format(s, "%sbit%u", sep, bit);
                }
                sep = " ";
            }
        }
        ds_put_char(s, ')');
    }
}

/* The vhost-user lines of a function (its JSON is function_to_json()'s
 * "vhost_user"). */
static void
show_vhost(const struct esw_host_info *info, struct ds *s)
{
    ds_put_format(s, "    vhost-user: %s, %s, queues %"PRIu32,
                  info->client ? "client" : "server",
                  info->host_up ? "guest ready" : "no guest",
                  info->virtio_queues);
    if (info->host_up) {
        ds_put_format(s, " (guest has %"PRIu32", %"PRIu32" enabled)",
                      info->virtio_guest_queues, info->virtio_enabled_queues);
    }
    ds_put_format(s, ", guest drivers ready %"PRIu64"\n",
                  info->host_connects);
    ds_put_cstr(s, "    features: offered ");
    put_features(s, info->virtio_offered);
    ds_put_cstr(s, "\n              negotiated ");
    if (info->host_up) {
        put_features(s, info->virtio_negotiated);
    } else {
        ds_put_cstr(s, "-");
    }
    ds_put_char(s, '\n');
}

static void
show_function(struct esw_dev *dev, uint32_t vport, struct ds *s,
              struct json *jfns)
{
    struct esw_policy_config cfg;
    struct esw_host_info host;
    struct esw_vport_info info;
    bool has_policy = false;
    struct rep_port rp;
    struct json *j;

    if (esw_vport_get_info(dev, vport, &info)) {
        return;
    }
    esw_vport_get_host(dev, vport, &host);
    rep_port_find(dev, vport, &rp);
    ds_put_format(s, "  %s: vport %"PRIu32", %s, link %s, mtu %"PRIu32"\n",
                  info.name, info.vport,
                  eswitch_kind_to_string(info.kind, info.fn),
                  info.oper_up ? "up" : "down", info.mtu);
    ds_put_format(s, "    host side: %s%s%s%s%s; representor: %s%s%s\n",
                  esw_io_type_name(host.type), host.ifname[0] ? " " : "",
                  host.ifname, host.path[0] ? " " : "", host.path,
                  rp.name ? rp.bridge : "none",
                  rp.name ? "/" : "", rp.name ? rp.name : "");
    ds_put_format(s, "    mac "ETH_ADDR_FMT", effective "ETH_ADDR_FMT,
                  ESW_MAC_ARGS(&info.mac), ESW_MAC_ARGS(&info.effective_mac));
    if (info.guest_mac_refused) {
        ds_put_format(s, ", guest asked for "ETH_ADDR_FMT" (refused)",
                      ESW_MAC_ARGS(&info.guest_mac));
    }
    ds_put_cstr(s, "\n    policy: ");
    if (esw_vport_get_policy(dev, vport, &cfg, &has_policy) || !has_policy) {
        ds_put_cstr(s, "none");
    } else {
        size_t len = s->length;

        port_policy_format_options(&cfg, s);
        if (s->length == len) {
            ds_put_cstr(s, "default");
        }
    }
    ds_put_char(s, '\n');
    if (host.type == ESW_IO_VHOST_USER) {
        show_vhost(&host, s);
    }
    rep_port_destroy(&rp);

    j = json_object_create();
    function_to_json(dev, vport, j);
    json_object_put(jfns, info.name, j);
}

static void
show_device(struct esw_dev *dev, const char *name, const uint32_t *vports,
            size_t n_vports, struct ds *s, struct json *jdev)
{
    struct json *jfns = json_object_create();

    ds_put_format(s, "%s: driver %s, %"PRIuSIZE" functions, %"PRIuSIZE
                  " rules (capacity %"PRIuSIZE")\n", name,
                  esw_dev_driver_name(dev), n_vports,
                  esw_rule_count(dev), esw_rule_capacity(dev));
    for (size_t k = 0; k < n_vports; k++) {
        show_function(dev, vports[k], s, jfns);
    }
    json_object_put_string(jdev, "driver", esw_dev_driver_name(dev));
    json_object_put(jdev, "n_rules",
                    json_integer_create(esw_rule_count(dev)));
    json_object_put(jdev, "capacity",
                    json_integer_create(esw_rule_capacity(dev)));
    json_object_put(jdev, "functions", jfns);
}

static void
eswitch_unixctl_show(struct unixctl_conn *conn, int argc, const char *argv[],
                     void *aux OVS_UNUSED)
{
    appctl_show_devices(conn, argc, argv, show_device);
}

void
eswitch_show_register(void)
{
    unixctl_command_register("eswitch/show", "[ESWITCH] [--json]", 0, 2,
                             eswitch_unixctl_show, NULL);
}
