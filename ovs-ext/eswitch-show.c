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

#include "datapath/esw.h"
#include "datapath/esw-packet-format.h"
#include "datapath/esw-policy-config.h"
#include "eswitch-unixctl.h"
#include "rep-ports.h"

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

/* The vhost-user lines of a function. */
static void
show_vhost(const struct esw_vport_info *info, struct ds *s, struct json *j)
{
    struct json *jv = json_object_create();

    ds_put_format(s, "    vhost-user: %s, %s, queues %"PRIu32,
                  info->io_client ? "client" : "server",
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

    json_object_put_string(jv, "path", info->io_path);
    json_object_put_string(jv, "mode", info->io_client ? "client" : "server");
    json_object_put(jv, "guest", json_boolean_create(info->host_up));
    json_object_put(jv, "queues", json_integer_create(info->virtio_queues));
    json_object_put(jv, "guest_queues",
                    json_integer_create(info->virtio_guest_queues));
    json_object_put(jv, "enabled_queues",
                    json_integer_create(info->virtio_enabled_queues));
    json_object_put(jv, "guest_drivers_ready",
                    json_integer_create(info->host_connects));
    json_object_put_format(jv, "offered_features", "0x%"PRIx64,
                           info->virtio_offered);
    json_object_put_format(jv, "negotiated_features", "0x%"PRIx64,
                           info->virtio_negotiated);
    json_object_put(j, "vhost_user", jv);
}

static void
show_function(struct esw_dev *dev, uint32_t vport, struct ds *s,
              struct json *jfns)
{
    char mac[ESW_ETH_ADDR_STRLEN], eff[ESW_ETH_ADDR_STRLEN];
    char policy[512] = "";
    struct esw_policy_config cfg;
    struct esw_vport_info info;
    struct rep_port rp;
    bool has_policy = false;
    struct json *j;

    if (esw_vport_get_info(dev, vport, &info)) {
        return;
    }
    if (!esw_vport_get_policy(dev, vport, &cfg, &has_policy) && has_policy) {
        esw_policy_config_format(&cfg, policy, sizeof policy);
    }
    rep_port_find(dev, vport, &rp);
    esw_eth_addr_format(&info.mac, mac, sizeof mac);
    esw_eth_addr_format(&info.effective_mac, eff, sizeof eff);

    ds_put_format(s, "  %s: vport %"PRIu32", %s, link %s, mtu %"PRIu32"\n",
                  info.name, info.vport, esw_vport_kind_name(info.kind),
                  info.oper_up ? "up" : "down", info.mtu);
    ds_put_format(s, "    host side: %s%s%s%s%s; representor: %s%s%s\n",
                  esw_io_type_name(info.io_type), info.io_name[0] ? " " : "",
                  info.io_name, info.io_path[0] ? " " : "", info.io_path,
                  rp.name ? rp.bridge : "none",
                  rp.name ? "/" : "", rp.name ? rp.name : "");
    ds_put_format(s, "    mac %s, effective %s", mac, eff);
    if (info.guest_mac_refused) {
        char guest[ESW_ETH_ADDR_STRLEN];

        ds_put_format(s, ", guest asked for %s (refused)",
                      esw_eth_addr_format(&info.guest_mac, guest,
                                          sizeof guest));
    }
    ds_put_format(s, "\n    policy: %s\n",
                  !has_policy ? "none" : policy[0] ? policy : "defaults");

    j = json_object_create();
    json_object_put(j, "vport", json_integer_create(info.vport));
    json_object_put_string(j, "kind", esw_vport_kind_name(info.kind));
    json_object_put(j, "link_up", json_boolean_create(info.oper_up));
    json_object_put(j, "mtu", json_integer_create(info.mtu));
    json_object_put_string(j, "host_side", esw_io_type_name(info.io_type));
    if (info.io_name[0]) {
        json_object_put_string(j, "host_interface", info.io_name);
    }
    json_object_put(j, "bridge", rp.bridge ? json_string_create(rp.bridge)
                    : json_null_create());
    json_object_put(j, "port", rp.name ? json_string_create(rp.name)
                    : json_null_create());
    json_object_put_string(j, "mac", mac);
    json_object_put_string(j, "effective_mac", eff);
    json_object_put(j, "policy", has_policy ? json_string_create(policy)
                    : json_null_create());
    if (info.io_type == ESW_IO_VHOST_USER) {
        show_vhost(&info, s, j);
    }
    json_object_put(jfns, info.name, j);
    rep_port_destroy(&rp);
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
    eswitch_unixctl_show_devices(conn, argc, argv, show_device);
}

void
eswitch_show_register(void)
{
    unixctl_command_register("eswitch/show", "[ESWITCH] [--json]", 0, 2,
                             eswitch_unixctl_show, NULL);
}
