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
    ds_put_format(s, "    host side: %s%s%s; representor: %s%s%s\n",
                  esw_io_type_name(info.io_type), info.io_name[0] ? " " : "",
                  info.io_name, rp.name ? rp.bridge : "none",
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
