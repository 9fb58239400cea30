/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-appctl commands that act on an eSwitch's functions from their host
 * side, for tests and for users of the "capture" host side (what OVS's
 * netdev-dummy/receive and tx_pcap do for dummy ports):
 *
 *   eswitch/inject FUNCTION PACKET   the function transmits PACKET
 *   eswitch/capture FUNCTION [--hex] what the function received, drained
 *
 * and that show the device's own state:
 *
 *   eswitch/dump-rules [ESWITCH] [--json]  rules with counters and use,
 *                                          then meters
 *   eswitch/stats [ESWITCH] [--json]       per-function traffic and drops
 *
 * FUNCTION is a function name ("pf0vf1"), optionally qualified by its
 * eSwitch ("esw0/pf0vf1").  PACKET is hex bytes or a datapath flow in the
 * syntax of ovs-appctl netdev-dummy/receive. */

#include <config.h>

#include "eswitch-unixctl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "dp-packet.h"
#include "flow.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "unixctl.h"
#include "util.h"

#include "appctl.h"
#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#include "datapath/esw-rule-format.h"
#include "echo-arg.h"
#include "eswitch.h"
#include "openvswitch/json.h"
#include "values.h"

/* How long eswitch/inject waits for the device to finish with the packet,
 * so that the next command sees its effect. */
#define INJECT_IDLE_TIMEOUT_MS 1000

/* Most copies of a packet one eswitch/inject may send. */
#define INJECT_MAX_COUNT 1024

/* Hex digits and the white space allowed between bytes (as in
 * ofpbuf_put_hex()). */
#define HEX_DIGITS "0123456789abcdefABCDEF"
#define HEX_SPACE " \t\r\n"

/* Parses 'spec', hex bytes, into a new packet.  Returns NULL and stores an
 * error message in '*errorp' on failure. */
static struct dp_packet *
packet_from_hex(const char *spec, char **errorp)
{
    struct dp_packet *packet = NULL;
    struct ofpbuf bytes;
    struct echo_buf b;
    size_t n_digits = 0;
    const char *p, *end;

    /* What is wrong, before parsing: ofpbuf_put_hex() stops at the first
     * pair it cannot read, which hides an odd number of digits. */
    for (p = spec; *p; p++) {
        if (strchr(HEX_SPACE, *p)) {
            continue;
        } else if (!strchr(HEX_DIGITS, *p)) {
            *errorp = xasprintf("not hex at \"%s\"", echo_arg(p, &b));
            return NULL;
        }
        n_digits++;
    }
    if (!n_digits) {
        *errorp = xstrdup("no packet bytes");
        return NULL;
    } else if (n_digits % 2) {
        *errorp = xasprintf("odd number of hex digits (%"PRIuSIZE")",
                            n_digits);
        return NULL;
    }

    /* Hex bytes, any length: the device must survive runts too. */
    ofpbuf_init(&bytes, n_digits / 2);
    end = ofpbuf_put_hex(&bytes, spec, NULL);
    end += strspn(end, HEX_SPACE);
    if (*end) {
        *errorp = xasprintf("hex digits not in pairs at \"%s\"",
                            echo_arg(end, &b));
    } else {
        packet = dp_packet_clone_data(bytes.data, bytes.size);
    }
    ofpbuf_uninit(&bytes);
    return packet;
}

/* Builds a frame from 'spec' (hex or datapath flow).  Returns NULL and
 * stores an error message in '*errorp' on failure. */
static struct dp_packet *
packet_from_spec(const char *spec, char **errorp)
{
    struct dp_packet *packet;
    struct ofpbuf odp_key;
    struct flow flow;

    *errorp = NULL;
    if (!strchr(spec, '(')) {
        return packet_from_hex(spec, errorp);
    }

    ofpbuf_init(&odp_key, 0);
    if (odp_flow_from_string(spec, NULL, &odp_key, NULL, errorp)
        || odp_flow_key_to_flow(odp_key.data, odp_key.size, &flow,
                                errorp) == ODP_FIT_ERROR) {
        ofpbuf_uninit(&odp_key);
        if (*errorp) {
            /* OVS's flow parser quotes the rest of 'spec'. */
            struct echo_buf b;
            char *error = xstrdup(echo_arg(*errorp, &b));

            free(*errorp);
            *errorp = error;
        } else {
            *errorp = xstrdup("bad packet flow syntax");
        }
        return NULL;
    }
    packet = dp_packet_new(0);
    flow_compose(packet, &flow, NULL, 64);
    ofpbuf_uninit(&odp_key);
    return packet;
}

struct esw_pkt *
eswitch_packet_from_spec(const char *spec, char **errorp)
{
    struct dp_packet *packet;
    struct esw_pkt *pkt;
    char *error;

    packet = packet_from_spec(spec, &error);
    if (!packet) {
        *errorp = xasprintf("bad packet: %s", error);
        free(error);
        return NULL;
    }
    if (dp_packet_size(packet) > ESW_FRAME_MAX) {
        *errorp = xasprintf("bad packet: %"PRIu32" bytes, at most %d",
                            dp_packet_size(packet), ESW_FRAME_MAX);
        dp_packet_delete(packet);
        return NULL;
    }
    pkt = esw_pkt_from_data(dp_packet_data(packet), dp_packet_size(packet));
    dp_packet_delete(packet);
    if (!pkt) {
        *errorp = xstrdup(ovs_strerror(ENOMEM));
    }
    return pkt;
}

static const struct appctl_syntax inject_syntax = {
    .args = { "function name", "packet" },
    .n_required = 2,
    .opts = { { "--count", true } },
};

static void
eswitch_unixctl_inject(struct unixctl_conn *conn, int argc,
                       const char *argv[], void *aux OVS_UNUSED)
{
    struct appctl_args args;
    const char *count_arg;
    uint32_t count = 1;
    struct esw_pkt *pkt;
    struct esw_dev *dev;
    uint32_t vport;
    char *error;
    int err = 0;

    if (!appctl_parse(conn, argc, argv, &inject_syntax, &args)) {
        return;
    }
    count_arg = appctl_opt(&args, "--count");
    if (count_arg
        && !value_parse_uint(count_arg, 1, INJECT_MAX_COUNT, &count)) {
        appctl_error_take(conn, value_invalid("--count", count_arg, "1..%d",
                                              INJECT_MAX_COUNT));
        return;
    }
    if (!appctl_function(conn, args.args[0], &dev, &vport)) {
        return;
    }
    pkt = eswitch_packet_from_spec(args.args[1], &error);
    if (!pkt) {
        appctl_error_take(conn, error);
        return;
    }

    /* Copies back to back, so that they meet the device within
     * microseconds of each other (rate policing tests).  'n': how many
     * went in. */
    uint32_t n;
    for (n = 0; n < count; n++) {
        bool last = n + 1 == count;
        struct esw_pkt *copy = last ? pkt : esw_pkt_clone(pkt);

        err = copy ? esw_host_inject(dev, vport, copy) : ENOMEM;
        if (err) {
            if (!last) {
                esw_pkt_free(pkt);
            }
            break;
        }
    }
    if (n) {
        esw_dev_wait_idle(dev, INJECT_IDLE_TIMEOUT_MS);
    }
    if (err == EOPNOTSUPP) {
        appctl_error(conn, "function has no capture host side (see its "
                     "status host_side)");
    } else if (err == ENOBUFS && count == 1) {
        appctl_error(conn, "inject queue full, packet dropped");
    } else if (err == ENOBUFS) {
        appctl_error(conn, "inject queue full: %"PRIu32" of %"PRIu32
                     " packets injected, the rest dropped", n, count);
    } else if (err) {
        appctl_error(conn, "%s", ovs_strerror(err));
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

static const struct appctl_syntax capture_syntax = {
    .args = { "function name" },
    .n_required = 1,
    .opts = { { "--hex", false } },
};

static void
eswitch_unixctl_capture(struct unixctl_conn *conn, int argc,
                        const char *argv[], void *aux OVS_UNUSED)
{
    struct ds reply = DS_EMPTY_INITIALIZER;
    struct esw_pkt *pkts[64];
    struct appctl_args args;
    struct esw_dev *dev;
    uint32_t vport;
    bool hex;
    size_t n;

    if (!appctl_parse(conn, argc, argv, &capture_syntax, &args)
        || !appctl_function(conn, args.args[0], &dev, &vport)) {
        return;
    }
    hex = appctl_opt(&args, "--hex") != NULL;

    while ((n = esw_host_capture_read(dev, vport, pkts, ARRAY_SIZE(pkts)))) {
        for (size_t i = 0; i < n; i++) {
            if (hex) {
                for (size_t k = 0; k < pkts[i]->len; k++) {
                    ds_put_format(&reply, "%02x", pkts[i]->data[k]);
                }
                ds_put_char(&reply, '\n');
            } else {
                char *s = ofp_packet_to_string(pkts[i]->data, pkts[i]->len,
                                               htonl(PT_ETH));
                ds_put_cstr(&reply, s);
                free(s);
            }
            esw_pkt_free(pkts[i]);
        }
    }
    unixctl_command_reply(conn, ds_cstr(&reply));
    ds_destroy(&reply);
}

struct dump_rules_aux {
    struct esw_dev *dev;
    uint64_t now;
    struct ds *text;
    struct json *rules;
};

static bool
dump_rule_cb(struct esw_rule *rule, void *aux_)
{
    struct dump_rules_aux *aux = aux_;
    char buf[ESW_RULE_FORMAT_SIZE];
    struct esw_rule_stats stats;
    struct esw_rule_spec spec;
    struct json *j;

    esw_rule_get_spec(aux->dev, rule, &spec);
    esw_rule_get_stats(aux->dev, rule, &stats);
    esw_rule_spec_format(&spec, buf, sizeof buf);

    ds_put_format(aux->text, "  packets=%"PRIu64", bytes=%"PRIu64", used=",
                  stats.packets, stats.bytes);
    if (stats.used_ms) {
        ds_put_format(aux->text, "%.3fs", (aux->now - stats.used_ms) / 1000.0);
    } else {
        ds_put_cstr(aux->text, "never");
    }
    ds_put_format(aux->text, ", %s%s\n", stats.orphaned ? "(orphaned) " : "",
                  buf);

    j = json_object_create();
    json_object_put_string(j, "rule", buf);
    json_object_put(j, "packets", json_integer_create(stats.packets));
    json_object_put(j, "bytes", json_integer_create(stats.bytes));
    json_object_put(j, "used_ms_ago", stats.used_ms
                    ? json_integer_create(aux->now - stats.used_ms)
                    : json_null_create());
    json_object_put(j, "orphaned", json_boolean_create(stats.orphaned));
    json_array_add(aux->rules, j);
    return true;
}

/* The device's meters, after its rules. */
static void
show_meters(struct esw_dev *dev, struct ds *text, struct json *jdev)
{
    struct json *jmeters = json_array_create_empty();
    size_t n = esw_meter_list(dev, NULL, 0);
    uint32_t *ids = xcalloc(MAX(n, 1), sizeof *ids);

    n = MIN(esw_meter_list(dev, ids, n), n);
    for (size_t i = 0; i < n; i++) {
        struct esw_meter_config cfg;
        struct esw_meter_stats st;
        struct json *j, *jbands;
        uint64_t dropped = 0;

        if (esw_meter_get_config(dev, ids[i], &cfg)
            || esw_meter_get_stats(dev, ids[i], &st)) {
            continue;           /* Deleted meanwhile. */
        }
        j = json_object_create();
        jbands = json_array_create_empty();
        ds_put_format(text, "  meter %"PRIu32": %s", ids[i],
                      cfg.pktps ? "pktps" : "kbps");
        for (uint32_t b = 0; b < cfg.n_bands; b++) {
            struct json *jb = json_object_create();

            ds_put_format(text, "%s rate=%"PRIu64" burst=%"PRIu64,
                          b ? "," : "", cfg.bands[b].rate,
                          cfg.bands[b].burst);
            dropped += st.band_packets[b];
            json_object_put(jb, "rate", json_integer_create(cfg.bands[b].rate));
            json_object_put(jb, "burst",
                            json_integer_create(cfg.bands[b].burst));
            json_object_put(jb, "dropped_packets",
                            json_integer_create(st.band_packets[b]));
            json_object_put(jb, "dropped_bytes",
                            json_integer_create(st.band_bytes[b]));
            json_array_add(jbands, jb);
        }
        ds_put_format(text, ", packets=%"PRIu64", bytes=%"PRIu64
                      ", dropped=%"PRIu64"\n", st.packets, st.bytes, dropped);
        json_object_put(j, "id", json_integer_create(ids[i]));
        json_object_put_string(j, "unit", cfg.pktps ? "pktps" : "kbps");
        json_object_put(j, "packets", json_integer_create(st.packets));
        json_object_put(j, "bytes", json_integer_create(st.bytes));
        json_object_put(j, "bands", jbands);
        json_array_add(jmeters, j);
    }
    free(ids);
    json_object_put(jdev, "meters", jmeters);
}

static void
show_rules(struct esw_dev *dev, const char *name,
           const uint32_t *vports OVS_UNUSED, size_t n_vports OVS_UNUSED,
           struct ds *text, struct json *jdev)
{
    struct dump_rules_aux ra = {
        .dev = dev, .now = esw_time_msec(), .text = text,
        .rules = json_array_create_empty(),
    };

    ds_put_format(text, "%s: %"PRIuSIZE" rules (capacity %"PRIuSIZE")\n",
                  name, esw_rule_count(dev), esw_rule_capacity(dev));
    esw_rule_foreach(dev, dump_rule_cb, &ra);
    json_object_put(jdev, "n_rules",
                    json_integer_create(esw_rule_count(dev)));
    json_object_put(jdev, "capacity",
                    json_integer_create(esw_rule_capacity(dev)));
    json_object_put(jdev, "rules", ra.rules);
    show_meters(dev, text, jdev);
}

static void
eswitch_unixctl_dump_rules(struct unixctl_conn *conn, int argc,
                           const char *argv[], void *aux OVS_UNUSED)
{
    appctl_show_devices(conn, argc, argv, show_rules);
}

/* eswitch/dump-conntrack: the device's connection table. */
struct dump_ct_aux {
    struct esw_dev *dev;
    uint64_t now;
    struct ds *text;
    struct json *conns;
};

/* A tuple as dpctl/dump-conntrack names its fields. */
static struct json *
ct_tuple_json(const struct esw_ct_spec *spec, const struct esw_ct_tuple *t)
{
    struct json *j = json_object_create();
    int af = spec->ipv6 ? AF_INET6 : AF_INET;
    char s[INET6_ADDRSTRLEN];

    inet_ntop(af, &t->src, s, sizeof s);
    json_object_put_string(j, "src", s);
    inet_ntop(af, &t->dst, s, sizeof s);
    json_object_put_string(j, "dst", s);
    if (t->ip_proto == IPPROTO_ICMP || t->ip_proto == IPPROTO_ICMPV6) {
        json_object_put(j, "id", json_integer_create(ntohs(t->icmp_id)));
        json_object_put(j, "type", json_integer_create(t->icmp_type));
        json_object_put(j, "code", json_integer_create(t->icmp_code));
    } else {
        json_object_put(j, "sport", json_integer_create(ntohs(t->src_port)));
        json_object_put(j, "dport", json_integer_create(ntohs(t->dst_port)));
    }
    return j;
}

static bool
dump_ct_cb(struct esw_ct *ct, void *aux_)
{
    struct dump_ct_aux *aux = aux_;
    char buf[ESW_RULE_FORMAT_SIZE];
    struct esw_ct_stats st;
    struct esw_ct_spec spec;
    struct json *j;

    esw_ct_get_spec(aux->dev, ct, &spec);
    esw_ct_get_stats(aux->dev, ct, &st);
    esw_ct_spec_format(&spec, buf, sizeof buf);
    ds_put_format(aux->text, "  %s%s orig_packets=%"PRIu64",orig_bytes=%"
                  PRIu64",reply_packets=%"PRIu64",reply_bytes=%"PRIu64
                  ",used=", st.flushed ? "(flushed) " : "", buf,
                  st.packets[0], st.bytes[0], st.packets[1], st.bytes[1]);
    if (st.used_ms) {
        ds_put_format(aux->text, "%.3fs\n", (aux->now - st.used_ms) / 1000.0);
    } else {
        ds_put_cstr(aux->text, "never\n");
    }

    j = json_object_create();
    json_object_put_string(j, "connection", buf);
    json_object_put_string(j, "protocol",
                           (spec.orig.ip_proto == IPPROTO_TCP ? "tcp"
                            : spec.orig.ip_proto == IPPROTO_UDP ? "udp"
                            : spec.orig.ip_proto == IPPROTO_ICMP ? "icmp"
                            : "icmpv6"));
    json_object_put_string(j, "family", spec.ipv6 ? "ipv6" : "ipv4");
    json_object_put(j, "zone", json_integer_create(spec.zone));
    json_object_put(j, "orig", ct_tuple_json(&spec, &spec.orig));
    json_object_put(j, "reply", ct_tuple_json(&spec, &spec.reply));
    json_object_put_string(j, "nat", (spec.nat & ESW_CT_NAT_SRC ? "snat"
                                      : spec.nat & ESW_CT_NAT_DST ? "dnat"
                                      : "none"));
    json_object_put(j, "mark", json_integer_create(spec.mark));
    json_object_put_format(j, "labels", "0x%016"PRIx64"%016"PRIx64,
                           spec.label[1], spec.label[0]);
    json_object_put(j, "orig_packets", json_integer_create(st.packets[0]));
    json_object_put(j, "orig_bytes", json_integer_create(st.bytes[0]));
    json_object_put(j, "reply_packets", json_integer_create(st.packets[1]));
    json_object_put(j, "reply_bytes", json_integer_create(st.bytes[1]));
    json_object_put(j, "used_ms_ago", st.used_ms
                    ? json_integer_create(aux->now - st.used_ms)
                    : json_null_create());
    json_object_put(j, "flushed", json_boolean_create(st.flushed));
    json_array_add(aux->conns, j);
    return true;
}

static void
show_conntrack(struct esw_dev *dev, const char *name,
               const uint32_t *vports OVS_UNUSED, size_t n_vports OVS_UNUSED,
               struct ds *text, struct json *jdev)
{
    struct dump_ct_aux aux = {
        .dev = dev, .now = esw_time_msec(), .text = text,
        .conns = json_array_create_empty(),
    };

    if (!esw_ct_capacity(dev)) {
        ds_put_format(text, "%s: no connection table\n", name);
    } else {
        ds_put_format(text, "%s: %"PRIuSIZE" connections (capacity %"PRIuSIZE
                      ")\n", name, esw_ct_count(dev), esw_ct_capacity(dev));
    }
    esw_ct_foreach(dev, dump_ct_cb, &aux);
    json_object_put(jdev, "n_connections",
                    json_integer_create(esw_ct_count(dev)));
    json_object_put(jdev, "capacity",
                    json_integer_create(esw_ct_capacity(dev)));
    json_object_put(jdev, "connections", aux.conns);
}

static void
eswitch_unixctl_dump_conntrack(struct unixctl_conn *conn, int argc,
                               const char *argv[], void *aux OVS_UNUSED)
{
    appctl_show_devices(conn, argc, argv, show_conntrack);
}

static void
show_stats(struct esw_dev *dev, const char *name, const uint32_t *vports,
           size_t n_vports, struct ds *text, struct json *jdev)
{
    ds_put_format(text, "%s:\n", name);
    for (size_t k = 0; k < n_vports; k++) {
        struct esw_vport_stats s;
        struct esw_vport_info info;
        struct json *jv, *jdrops;
        bool any = false;

        if (esw_vport_get_info(dev, vports[k], &info)
            || esw_vport_get_stats(dev, vports[k], &s)) {
            continue;
        }
        ds_put_format(text, "  %s (vport %"PRIu32"): rx %"PRIu64
                      " pkts %"PRIu64" bytes, tx %"PRIu64" pkts %"PRIu64
                      " bytes, to representor %"PRIu64", from "
                      "representor %"PRIu64"\n", info.name, info.vport,
                      s.rx_packets, s.rx_bytes, s.tx_packets, s.tx_bytes,
                      s.rep_rx_packets, s.rep_tx_packets);
        jdrops = json_object_create();
        ds_put_cstr(text, "    drops:");
        for (int r = 0; r < ESW_N_DROP_REASONS; r++) {
            json_object_put(jdrops, esw_drop_reason_name(r),
                            json_integer_create(s.drops[r]));
            if (s.drops[r]) {
                ds_put_format(text, " %s=%"PRIu64,
                              esw_drop_reason_name(r), s.drops[r]);
                any = true;
            }
        }
        ds_put_format(text, "%s\n", any ? "" : " none");

        jv = json_object_create();
        json_object_put(jv, "vport", json_integer_create(info.vport));
        json_object_put(jv, "rx_packets",
                        json_integer_create(s.rx_packets));
        json_object_put(jv, "rx_bytes", json_integer_create(s.rx_bytes));
        json_object_put(jv, "tx_packets",
                        json_integer_create(s.tx_packets));
        json_object_put(jv, "tx_bytes", json_integer_create(s.tx_bytes));
        json_object_put(jv, "to_representor",
                        json_integer_create(s.rep_rx_packets));
        json_object_put(jv, "from_representor",
                        json_integer_create(s.rep_tx_packets));
        json_object_put(jv, "guest_mac_change_refused",
                        json_integer_create(s.guest_mac_refused));
        json_object_put(jv, "drops", jdrops);
        json_object_put(jdev, info.name, jv);
    }
}

static void
eswitch_unixctl_stats(struct unixctl_conn *conn, int argc,
                      const char *argv[], void *aux OVS_UNUSED)
{
    appctl_show_devices(conn, argc, argv, show_stats);
}

void
eswitch_unixctl_register(void)
{
    unixctl_command_register("eswitch/dump-rules", "[ESWITCH] [--json]", 0,
                             2, eswitch_unixctl_dump_rules, NULL);
    unixctl_command_register("eswitch/stats", "[ESWITCH] [--json]", 0, 2,
                             eswitch_unixctl_stats, NULL);
    unixctl_command_register("eswitch/dump-conntrack", "[ESWITCH] [--json]",
                             0, 2, eswitch_unixctl_dump_conntrack, NULL);
    unixctl_command_register("eswitch/inject", "FUNCTION PACKET [--count N]",
                             2, 4,
                             eswitch_unixctl_inject, NULL);
    unixctl_command_register("eswitch/capture", "FUNCTION [--hex]", 1, 2,
                             eswitch_unixctl_capture, NULL);
}
