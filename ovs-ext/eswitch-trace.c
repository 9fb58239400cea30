/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* eswitch/trace FUNCTION PACKET [--json]: the one place that answers "why
 * did my packet go there".  It follows a packet that a function transmits
 * through the eSwitch (ingress checks and policy, rule lookup, actions,
 * egress policy of each output) and, when the device misses, through
 * OVS's OpenFlow pipeline (as ofproto/trace sees it, from the function's
 * representor port) and then through the egress stage of every eSwitch
 * port OVS would send it to.  Nothing is sent; no counter moves. */

#include <config.h>

#include "eswitch-trace.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "dp-packet.h"
#include "flow.h"
#include "netdev.h"
#include "netdev-provider.h"
#include "ofproto/ofproto-dpif-trace.h"
#include "ofproto/ofproto-dpif.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "unixctl.h"
#include "util.h"

#include "appctl.h"
#include "datapath/esw.h"
#include "datapath/packet/esw-packet-format.h"
#include "datapath/esw-rule-format.h"
#include "eswitch.h"
#include "eswitch-unixctl.h"
#include "netdev-esw.h"
#include "rep-ports.h"

/* A vport's name, for people. */
static void
vport_name(struct esw_dev *dev, uint32_t vport, char name[ESW_NAME_MAX])
{
    struct esw_vport_info info;

    if (esw_vport_get_info(dev, vport, &info)) {
        snprintf(name, ESW_NAME_MAX, "vport%"PRIu32, vport);
    } else {
        memcpy(name, info.name, ESW_NAME_MAX);
    }
}

static void
put_output(struct ds *s, struct json *outputs, struct esw_dev *dev,
           const struct esw_trace_output *o, const char *indent)
{
    char key[ESW_KEY_FORMAT_SIZE];
    char name[ESW_NAME_MAX];
    struct json *j = json_object_create();

    vport_name(dev, o->vport, name);
    ds_put_format(s, "%s-> %s (vport %"PRIu32"): ", indent, name, o->vport);
    json_object_put_string(j, "function", name);
    json_object_put(j, "delivered", json_boolean_create(o->delivered));
    if (o->delivered) {
        const char *fields = esw_key_format(&o->key, key, sizeof key);

        /* The key's in_vport is the output vport here: leave it out. */
        if (!strncmp(fields, "in_vport=", 9)) {
            fields += strcspn(fields, " ") + 1;
        }
        ds_put_format(s, "delivered as\n%s     %s\n", indent, fields);
        json_object_put_string(j, "packet", fields);
    } else {
        ds_put_format(s, "dropped by its egress stage (%s)\n",
                      esw_drop_reason_name(o->drop_reason));
        json_object_put_string(j, "drop_reason",
                               esw_drop_reason_name(o->drop_reason));
    }
    json_array_add(outputs, j);
}

/* After a miss: OVS's OpenFlow pipeline from the representor, then the
 * egress stage of each eSwitch port in the resulting datapath actions. */
static void
trace_software_path(struct esw_dev *dev, uint32_t vport,
                    const struct esw_pkt *pkt, struct ds *s,
                    struct json *jtrace)
{
    struct ovs_list next_ct_states = OVS_LIST_INITIALIZER(&next_ct_states);
    struct json *outputs = json_array_create_empty();
    struct ds of_trace = DS_EMPTY_INITIALIZER;
    struct dp_packet *packet;
    struct rep_port rp;
    const char *actions;
    struct flow flow;

    rep_port_find(dev, vport, &rp);
    if (!rp.ofproto) {
        ds_put_cstr(s, "The function's representor is on no bridge: OVS "
                    "drops the packet.\n");
        json_object_put(jtrace, "software_path", json_null_create());
        json_destroy(outputs);
        return;
    }

    packet = dp_packet_clone_data(pkt->data, pkt->len);
    flow_extract(packet, &flow);
    flow.in_port.ofp_port = rp.ofp_port;
    ofproto_trace(rp.ofproto, &flow, packet, NULL, 0, &next_ct_states,
                  &of_trace, true);
    dp_packet_delete(packet);

    ds_put_format(s, "\nOpenFlow pipeline of bridge %s from port %s "
                  "(ofproto/trace):\n", rp.ofproto->up.name, rp.name);
    ds_put_cstr(s, ds_cstr(&of_trace));
    if (s->length && s->string[s->length - 1] != '\n') {
        ds_put_char(s, '\n');
    }

    /* "Datapath actions: a,b,..." with names: trace the egress of every
     * eSwitch port that OVS outputs to.  OVS sends the packet as its
     * actions modified it; with only outputs, that is this packet. */
    actions = strstr(ds_cstr(&of_trace), "Datapath actions: ");
    if (actions) {
        char *list = xstrdup(actions + strlen("Datapath actions: "));
        char *save = NULL, *token;
        bool only_outputs = true;
        bool header = false;

        list[strcspn(list, "\n")] = '\0';
        for (token = strtok_r(list, ",", &save); token;
             token = strtok_r(NULL, ",", &save)) {
            struct netdev *netdev = netdev_from_name(token);
            struct esw_dev *odev;
            uint32_t ovport;

            if (!netdev) {
                only_outputs &= !strchr(token, '(');
                continue;
            }
            if (netdev_is_esw(netdev)
                && netdev_esw_get_function(netdev, &odev, &ovport)) {
                struct esw_trace_output o;

                if (!header) {
                    ds_put_cstr(s, "\nEgress stage of the eSwitch ports "
                                "OVS sends to (through their "
                                "representors):\n");
                    header = true;
                }
                if (!esw_trace_rep_send(odev, ovport, pkt, &o)) {
                    put_output(s, outputs, odev, &o, "  ");
                }
            }
            netdev_close(netdev);
        }
        if (header && !only_outputs) {
            ds_put_cstr(s, "  (the datapath actions also modify the "
                        "packet: the egress stage sees the modified "
                        "packet)\n");
        }
        free(list);
    }

    {
        struct json *j = json_object_create();

        json_object_put_string(j, "bridge", rp.ofproto->up.name);
        json_object_put_string(j, "port", rp.name);
        json_object_put_string(j, "ofproto_trace", ds_cstr(&of_trace));
        json_object_put(j, "outputs", outputs);
        json_object_put(jtrace, "software_path", j);
    }
    ds_destroy(&of_trace);
    rep_port_destroy(&rp);
}

/* The packet chain by chain: what each lookup saw, the rule, and the
 * packet as that rule left it (rewritten, with the chain and the hash it
 * recirculates with). */
static void
put_stages(const struct esw_trace *tr, struct ds *s, struct json *jtrace)
{
    struct json *jchains = json_array_create_empty();

    for (size_t i = 0; i < tr->n_stages; i++) {
        const struct esw_trace_stage *st = &tr->stages[i];
        char key[ESW_KEY_FORMAT_SIZE], rule[ESW_RULE_FORMAT_SIZE];
        struct json *j = json_object_create();

        esw_key_format(&st->key, key, sizeof key);
        json_object_put(j, "chain", json_integer_create(st->key.chain));
        json_object_put_string(j, "packet", key);
        if (st->key.tun_port) {
            json_object_put(j, "tun_port",
                            json_integer_create(st->key.tun_port));
        }
        ds_put_format(s, "Device lookup, chain %"PRIu32, st->key.chain);
        if (st->key.tun_port) {
            ds_put_format(s, " (decapsulated by tunnel port %"PRIu32")",
                          st->key.tun_port);
        }
        if (!st->rule) {
            ds_put_cstr(s, ": miss\n");
            json_object_put(j, "rule", json_null_create());
        } else {
            esw_rule_spec_format(&st->spec, rule, sizeof rule);
            esw_key_format(&st->after, key, sizeof key);
            ds_put_format(s, ": hit\n"
                          "  rule: %s\n  packet after the rule: %s\n",
                          rule, key);
            json_object_put_string(j, "rule", rule);
            json_object_put_string(j, "after", key);
        }
        json_array_add(jchains, j);
    }
    json_object_put(jtrace, "chains", jchains);
}

static const struct appctl_syntax trace_syntax = {
    .args = { "function name", "packet" },
    .n_required = 2,
    .opts = { { "--json", false } },
};

static void
eswitch_unixctl_trace(struct unixctl_conn *conn, int argc,
                      const char *argv[], void *aux OVS_UNUSED)
{
    char key[ESW_KEY_FORMAT_SIZE], name[ESW_NAME_MAX];
    struct json *jtrace = json_object_create();
    struct ds s = DS_EMPTY_INITIALIZER;
    struct appctl_args args;
    struct esw_trace tr;
    struct esw_pkt *pkt;
    struct esw_dev *dev;
    uint32_t vport;
    bool as_json;
    char *error;
    int err;

    if (!appctl_parse(conn, argc, argv, &trace_syntax, &args)
        || !appctl_function(conn, args.args[0], &dev, &vport)) {
        goto out;
    }
    as_json = appctl_json(&args);
    pkt = eswitch_packet_from_spec(args.args[1], &error);
    if (!pkt) {
        appctl_error_take(conn, error);
        goto out;
    }
    err = esw_trace_packet(dev, vport, pkt, &tr);
    if (err) {
        appctl_error(conn, "%s", ovs_strerror(err));
        esw_pkt_free(pkt);
        goto out;
    }

    vport_name(dev, vport, name);
    if (pkt->len < ESW_FRAME_MIN) {
        snprintf(key, sizeof key, "%"PRIu32" bytes: shorter than an "
                 "Ethernet header", pkt->len);
    } else {
        esw_key_format(&tr.received, key, sizeof key);
    }
    ds_put_format(&s, "Packet from %s (%s vport %"PRIu32"):\n  %s\n\n",
                  name, esw_dev_name(dev), vport, key);
    json_object_put_string(jtrace, "function", name);
    json_object_put_string(jtrace, "eswitch", esw_dev_name(dev));
    json_object_put_string(jtrace, "packet", key);

    if (tr.verdict == ESW_TRACE_DROP) {
        ds_put_format(&s, "Ingress stage of %s: dropped (%s)\n", name,
                      esw_drop_reason_name(tr.drop_reason));
        json_object_put_string(jtrace, "ingress", "dropped");
        json_object_put_string(jtrace, "drop_reason",
                               esw_drop_reason_name(tr.drop_reason));
    } else {
        char looked_up[ESW_KEY_FORMAT_SIZE];

        esw_key_format(&tr.looked_up, looked_up, sizeof looked_up);
        ds_put_format(&s, "Ingress stage of %s: passed", name);
        if (strcmp(key, looked_up)) {
            ds_put_format(&s, ", rewritten to\n  %s", looked_up);
        }
        ds_put_cstr(&s, "\n");
        json_object_put_string(jtrace, "ingress", "passed");
        json_object_put_string(jtrace, "looked_up", looked_up);
    }

    if (tr.n_stages > 1) {
        /* Several chains: the lookups chain by chain. */
        put_stages(&tr, &s, jtrace);
    }
    if (tr.verdict == ESW_TRACE_HIT) {
        struct json *outputs = json_array_create_empty();
        char rule[ESW_RULE_FORMAT_SIZE];

        esw_rule_spec_format(&tr.spec, rule, sizeof rule);
        if (tr.n_stages > 1) {
            ds_put_cstr(&s, "The eSwitch forwards it (OVS does not see "
                        "it)\n");
        } else {
            ds_put_format(&s, "Device lookup: hit, the eSwitch forwards it "
                          "(OVS does not see it)\n  rule: %s\n", rule);
        }
        if (!tr.n_outputs) {
            ds_put_format(&s, "  the rule%s drops it\n",
                          tr.n_stages > 1 ? "s" : "");
        }
        for (size_t i = 0; i < tr.n_outputs; i++) {
            put_output(&s, outputs, dev, &tr.outputs[i], "  ");
        }
        json_object_put_string(jtrace, "lookup", "hit");
        json_object_put_string(jtrace, "rule", rule);
        json_object_put(jtrace, "outputs", outputs);
    } else if (tr.verdict == ESW_TRACE_MISS) {
        if (tr.n_stages > 1) {
            const struct esw_key *last = &tr.stages[tr.n_stages - 1].key;

            ds_put_format(&s, "Device lookup: %s in chain %"PRIu32"%s, the "
                          "packet goes, as it entered chain 0, to the "
                          "representor of %s (OVS's software path)\n",
                          tr.recirc_limit ? "too many recirculations"
                          : "miss", last->chain,
                          last->tun_port ? " after decapsulation" : "",
                          name);
        } else {
            ds_put_format(&s, "Device lookup: miss, the packet goes to the "
                          "representor of %s (OVS's software path)\n",
                          name);
        }
        json_object_put_string(jtrace, "lookup", "miss");
        /* OVS receives the packet as the ingress stage left it. */
        if (tr.to_representor) {
            trace_software_path(dev, vport, tr.to_representor, &s, jtrace);
            esw_pkt_free(tr.to_representor);
        }
    }
    esw_pkt_free(pkt);
    appctl_reply(conn, as_json, jtrace, &s);
    return;

out:
    json_destroy(jtrace);
    ds_destroy(&s);
}

void
eswitch_trace_register(void)
{
    unixctl_command_register("eswitch/trace", "FUNCTION PACKET [--json]", 2,
                             3, eswitch_unixctl_trace, NULL);
}
