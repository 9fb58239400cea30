/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/function-json.c: the one JSON shape of an eSwitch function, for
 * eswitch/show, eswitch/query (ovs-eswitchctl) and eswitch/policy/show. */

#include <config.h>

#include "function-json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#include "datapath/policy/esw-policy-config.h"
#include "eswitch.h"
#include "openvswitch/json.h"
#include "port-policy-options.h"
#include "rep-ports.h"
#include "util.h"
#include "values.h"

static struct json *
string_or_null(const char *s)
{
    return s ? json_string_create(s) : json_null_create();
}

/* The "vhost_user" object of a function whose host side is 'host'. */
static struct json *
vhost_to_json(const struct esw_host_info *host)
{
    struct json *jv = json_object_create();

    json_object_put_string(jv, "path", host->path);
    json_object_put_string(jv, "mode", host->client ? "client" : "server");
    json_object_put(jv, "guest", json_boolean_create(host->host_up));
    json_object_put(jv, "queues", json_integer_create(host->virtio_queues));
    json_object_put(jv, "guest_queues",
                    json_integer_create(host->virtio_guest_queues));
    json_object_put(jv, "enabled_queues",
                    json_integer_create(host->virtio_enabled_queues));
    json_object_put(jv, "guest_drivers_ready",
                    json_integer_create(host->host_connects));
    json_object_put_format(jv, "offered_features", "0x%"PRIx64,
                           host->virtio_offered);
    json_object_put_format(jv, "negotiated_features", "0x%"PRIx64,
                           host->virtio_negotiated);
    return jv;
}

static struct json *
wire_to_json(const struct esw_host_info *host)
{
    struct json *jw = json_object_create();

    json_object_put_string(jw, "path", host->path);
    json_object_put_string(jw, "mode", host->client ? "connect" : "listen");
    json_object_put(jw, "connected", json_boolean_create(host->host_up));
    json_object_put(jw, "connections",
                    json_integer_create(host->host_connects));
    return jw;
}

int
function_to_json(struct esw_dev *dev, uint32_t vport, struct json *json)
{
    struct esw_policy_config cfg;
    struct esw_host_info host;
    struct esw_vport_info info;
    bool has_policy = false;
    struct rep_port rp;
    char *port = NULL;
    bool held = false;

    if (esw_vport_get_info(dev, vport, &info)
        || esw_vport_get_policy(dev, vport, &cfg, &has_policy)) {
        return ENOENT;
    }
    esw_vport_get_host(dev, vport, &host);
    eswitch_function_port(dev, vport, &port, &held);
    rep_port_find(dev, vport, &rp);

    json_object_put_string(json, "eswitch", esw_dev_name(dev));
    json_object_put_string(json, "function", info.name);
    json_object_put(json, "vport", json_integer_create(info.vport));
    json_object_put_string(json, "kind",
                           eswitch_kind_to_string(info.kind, info.fn));
    json_object_put_format(json, "mac", ETH_ADDR_FMT,
                           ESW_MAC_ARGS(&info.mac));
    json_object_put_format(json, "effective_mac", ETH_ADDR_FMT,
                           ESW_MAC_ARGS(&info.effective_mac));
    json_object_put(json, "mtu", json_integer_create(info.mtu));
    json_object_put_string(json, "link", info.oper_up ? "up" : "down");
    json_object_put_string(json, "host_side", esw_io_type_name(host.type));
    if (host.ifname[0]) {
        json_object_put_string(json, "host_interface", host.ifname);
    }
    if (host.type == ESW_IO_VHOST_USER) {
        json_object_put(json, "vhost_user", vhost_to_json(&host));
    } else if (host.type == ESW_IO_WIRE) {
        json_object_put(json, "wire", wire_to_json(&host));
    }
    json_object_put(json, "port", string_or_null(port));
    json_object_put(json, "held", json_boolean_create(held));
    json_object_put(json, "bridge", string_or_null(rp.bridge));
    json_object_put(json, "policy", (has_policy
                                     ? port_policy_options_to_json(&cfg)
                                     : json_null_create()));
    rep_port_destroy(&rp);
    free(port);
    return 0;
}
