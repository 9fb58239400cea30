/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/offload-diag.c: the flow offload provider's diagnostics, what its
 * records say (flow dumps, counters) and whether the devices agree. */

/* ovs-appctl commands:
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
 * They read the provider's state through netdev_offload_esw_inspect()
 * (netdev-offload-esw-private.h), under the provider's mutex. */

#include <config.h>

#include "offload-diag.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ct-dpif.h"
#include "dpif.h"
#include "flow.h"
#include "hash.h"
#include "netdev.h"
#include "odp-util.h"
#include "ofproto/ofproto-dpif.h"
#include "ofproto/ofproto-provider.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofpbuf.h"
#include "sset.h"
#include "svec.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

#include "appctl.h"
#include "ct-offload.h"
#include "datapath/esw.h"
#include "datapath/esw-rule-format.h"
#include "netdev-offload-esw.h"
#include "netdev-offload-esw-private.h"
#include "offload-xlate.h"

static void
format_match(const struct offload_flow *f, struct ds *out)
{
    struct flow flow;
    struct flow_wildcards wc;
    struct odp_flow_key_parms parms = {
        .flow = &flow,
        .mask = &wc.masks,
        .support = {
            .max_vlan_headers = SIZE_MAX,
            .max_mpls_depth = SIZE_MAX,
            .recirc = true,
            .ct_state = true,
            .ct_zone = true,
            .ct_mark = true,
            .ct_label = true,
            .ct_state_nat = true,
            .ct_orig_tuple = true,
            .ct_orig_tuple6 = true,
        },
    };
    struct ofpbuf key, mask;

    miniflow_expand(f->flow, &flow);
    minimask_expand(f->mask, &wc);
    ofpbuf_init(&key, 0);
    ofpbuf_init(&mask, 0);
    odp_flow_key_from_flow(&parms, &key);
    parms.key_buf = &key;
    odp_flow_key_from_mask(&parms, &mask);
    odp_flow_format(key.data, key.size, mask.data, mask.size, NULL, out,
                    false);
    ofpbuf_uninit(&key);
    ofpbuf_uninit(&mask);
}

/* Looks up the name of datapath port 'port' of the datapath of type
 * 'dpif_type' into 'name' (main thread: ofproto's state). */
static bool
odp_port_name(const char *dpif_type, odp_port_t port, struct ds *name)
{
    struct sset names = SSET_INITIALIZER(&names);
    const char *br_name;
    bool found = false;

    ofproto_enumerate_names(dpif_type, &names);
    SSET_FOR_EACH (br_name, &names) {
        struct ofproto_dpif *ofproto = ofproto_dpif_lookup_by_name(br_name);
        struct dpif_port dpif_port;

        if (ofproto && !dpif_port_query_by_number(ofproto->backer->dpif,
                                                  port, &dpif_port)) {
            ds_put_cstr(name, dpif_port.name);
            dpif_port_destroy(&dpif_port);
            found = true;
            break;
        }
    }
    sset_destroy(&names);
    return found;
}

/* Appends 'f''s reason to 'out', with the names of the datapath ports it
 * mentions by number: the offload threads that wrote it could only know
 * the ports registered for offload, ovs-vswitchd's main thread knows them
 * all. */
static void
put_reason(const struct offload_flow *f, struct ds *out)
{
    static const char tag[] = "datapath port ";
    const char *p = f->reason_text;
    const char *q;

    while ((q = strstr(p, tag))) {
        unsigned int port;
        int n;

        ds_put_buffer(out, p, q - p);
        if (sscanf(q + strlen(tag), "%u%n", &port, &n) == 1
            && odp_port_name(netdev_get_dpif_type(f->netdev),
                             u32_to_odp(port), out)) {
            p = q + strlen(tag) + n;
        } else {
            ds_put_cstr(out, tag);
            p = q + strlen(tag);
        }
    }
    ds_put_cstr(out, p);
}

static void
dump_flow_text(const struct offload_flow *f,
               const struct dpif_flow_stats *stats, long long int now,
               struct ds *out)
{
    ds_put_format(out, "%s: ", netdev_get_name(f->netdev));
    format_match(f, out);
    ds_put_format(out, ", packets:%"PRIu64", bytes:%"PRIu64", used:",
                  stats->n_packets, stats->n_bytes);
    if (stats->used) {
        ds_put_format(out, "%.3fs", (now - stats->used) / 1000.0);
    } else {
        ds_put_cstr(out, "never");
    }
    if (f->rule) {
        ds_put_format(out, ", offloaded:yes, dp:%s, eswitch:%s",
                      OFFLOAD_ESW_DP_LAYER, esw_dev_name(f->dev));
    } else {
        ds_put_cstr(out, ", offloaded:no, reason:\"");
        put_reason(f, out);
        ds_put_char(out, '"');
    }
    ds_put_cstr(out, ", actions:");
    format_odp_actions(out, f->actions, f->actions_len, NULL);
    ds_put_char(out, '\n');
}

static struct json *
dump_flow_json(const struct offload_flow *f,
               const struct dpif_flow_stats *stats, long long int now)
{
    struct json *j = json_object_create();
    struct ds s = DS_EMPTY_INITIALIZER;

    odp_format_ufid(&f->ufid, &s);
    json_object_put_string(j, "ufid", ds_cstr(&s));
    json_object_put_string(j, "in_port", netdev_get_name(f->netdev));
    ds_clear(&s);
    format_match(f, &s);
    json_object_put_string(j, "match", ds_cstr(&s));
    json_object_put(j, "packets", json_integer_create(stats->n_packets));
    json_object_put(j, "bytes", json_integer_create(stats->n_bytes));
    json_object_put(j, "used_ms_ago", (stats->used
                                       ? json_integer_create(now - stats->used)
                                       : json_null_create()));
    json_object_put(j, "offloaded", json_boolean_create(f->rule != NULL));
    if (f->rule) {
        json_object_put_string(j, "dp", OFFLOAD_ESW_DP_LAYER);
        json_object_put_string(j, "eswitch", esw_dev_name(f->dev));
    } else {
        json_object_put_string(j, "reason", offload_reason_name(f->reason));
        ds_clear(&s);
        put_reason(f, &s);
        json_object_put_string(j, "reason_text", ds_cstr(&s));
    }
    ds_clear(&s);
    format_odp_actions(&s, f->actions, f->actions_len, NULL);
    json_object_put_string(j, "actions", ds_cstr(&s));
    ds_destroy(&s);
    return j;
}

struct dump_flows_aux {
    struct ds *out;
    struct json *jflows;
};

static void
dump_flows_cb(const struct offload_esw_state *st, void *aux_)
{
    const struct dump_flows_aux *aux = aux_;
    struct ds *out = aux->out;
    struct json *jflows = aux->jflows;
    struct offload_flow *f;

    LIST_FOR_EACH (f, list_node, st->flows) {
        struct dpif_flow_stats stats;
        long long int now;

        netdev_offload_esw_flow_stats(f, &stats);
        now = MAX(time_msec(), stats.used);
        if (out) {
            dump_flow_text(f, &stats, now, out);
        }
        if (jflows) {
            json_array_add(jflows, dump_flow_json(f, &stats, now));
        }
    }
}

/* Every flow put on an eSwitch port, one line each, oldest first: port,
 * match, the device's counters for it (packets, bytes, used: what its
 * rules counted, not OVS's software path), "offloaded:yes, dp:esw,
 * eswitch:NAME" or "offloaded:no, reason:\"...\"", actions; appended to
 * 'out' if not NULL.  'jflows', if not NULL, is a JSON array: one object
 * per flow, with members "ufid", "in_port", "match", "packets", "bytes",
 * "used_ms_ago" (null if never), "offloaded", then "dp" and "eswitch" or
 * "reason" (offload_reason_name()) and "reason_text", and "actions". */
static void
dump_flows(struct ds *out, struct json *jflows)
{
    struct dump_flows_aux aux = { out, jflows };

    netdev_offload_esw_inspect(dump_flows_cb, &aux);
}

struct format_stats_aux {
    struct ds *out;
    struct json *json;
};

/* Why conntrack stays in software although hw-offload is on. */
static void
format_ct_no_tables(struct ds *out, struct json *json)
{
    static const char reason[] = "no eswitch has a connection table "
                                 "(eswitch-max-conns=0)";

    if (out) {
        ds_put_format(out, "connection offload: off: %s: conntrack stays "
                      "in software\n", reason);
    }
    if (json) {
        json_object_put_string(json, "conntrack_off_reason", reason);
    }
}

/* Connection offload's counters (ct-offload.h), once OVS's conntrack
 * offered a connection or was flushed. */
static void
format_ct_stats(struct ds *out, struct json *json)
{
    struct ct_offload_stats s;

    ct_offload_get_stats(&s);
    if (ct_offload_no_tables()) {
        format_ct_no_tables(out, json);
    }
    if (!s.offered && !s.connections && !s.flushes) {
        return;                 /* No connection tracked yet. */
    }
    if (out) {
        ds_put_format(out, "connection offload: %s, %"PRIu64" connections in "
                      "devices, %"PRIu64" changes queued\n",
                      ct_offload_enabled() ? "on" : "off", s.connections,
                      s.pending);
        ds_put_format(out, "  established connections offered: %"PRIu64
                      " (taken %"PRIu64", stayed in software %"PRIu64")\n",
                      s.offered, s.offered - s.declined, s.declined);
        ds_put_format(out, "  stayed in software: not tcp/udp/icmp echo %"
                      PRIu64", helper or related %"PRIu64
                      ", queue full %"PRIu64"\n", s.declined_proto,
                      s.declined_helper, s.declined_busy);
        ds_put_format(out, "  device entries added: %"PRIu64" (refused by a "
                      "device %"PRIu64"), removed: %"PRIu64"\n", s.added,
                      s.add_failed, s.removed);
        if (s.add_failed) {
            ds_put_format(out, "  refused by a device: table full %"PRIu64
                          ", other %"PRIu64"\n", s.add_full,
                          s.add_failed - s.add_full);
        }
        ds_put_format(out, "  mark/label updates: %"PRIu64", flushes: %"
                      PRIu64", last-used answers: %"PRIu64"\n", s.updated,
                      s.flushes, s.kept_alive);
    }
    if (json) {
        struct json *j = json_object_create();

        json_object_put(j, "enabled",
                        json_boolean_create(ct_offload_enabled()));
        json_object_put(j, "connections", json_integer_create(s.connections));
        json_object_put(j, "queued", json_integer_create(s.pending));
        json_object_put(j, "offered", json_integer_create(s.offered));
        json_object_put(j, "declined", json_integer_create(s.declined));
        json_object_put(j, "declined_proto",
                        json_integer_create(s.declined_proto));
        json_object_put(j, "declined_helper",
                        json_integer_create(s.declined_helper));
        json_object_put(j, "declined_busy",
                        json_integer_create(s.declined_busy));
        json_object_put(j, "added", json_integer_create(s.added));
        json_object_put(j, "add_failed", json_integer_create(s.add_failed));
        json_object_put(j, "add_failed_full",
                        json_integer_create(s.add_full));
        json_object_put(j, "removed", json_integer_create(s.removed));
        json_object_put(j, "updated", json_integer_create(s.updated));
        json_object_put(j, "flushes", json_integer_create(s.flushes));
        json_object_put(j, "last_used_answers",
                        json_integer_create(s.kept_alive));
        json_object_put(json, "conntrack", j);
    }
}

/* Counters: attempted, offloaded, failed per reason, deleted. */
static void
format_stats_cb(const struct offload_esw_state *st, void *aux_)
{
    const struct format_stats_aux *aux = aux_;
    const struct offload_counters *c = st->counters;
    struct json *json = aux->json;
    struct ds *out = aux->out;
    size_t n = 0, n_offloaded = 0;
    struct offload_flow *f;

    LIST_FOR_EACH (f, list_node, st->flows) {
        n++;
        n_offloaded += f->rule != NULL;
    }
    if (out) {
        size_t by_reason[OFFLOAD_N_REASONS] = { 0 };

        LIST_FOR_EACH (f, list_node, st->flows) {
            by_reason[f->reason]++;
        }
        ds_put_format(out, "hw-offload: %s\n",
                      st->enabled ? "enabled" : "disabled");
        ds_put_format(out, "current flows: %"PRIuSIZE" (offloaded %"PRIuSIZE
                      ", in software %"PRIuSIZE")\n",
                      n, n_offloaded, n - n_offloaded);
        for (int r = OFFLOAD_OK + 1; r < OFFLOAD_N_REASONS; r++) {
            if (by_reason[r]) {
                ds_put_format(out, "  in software, %s: %"PRIuSIZE"\n",
                              offload_reason_name(r), by_reason[r]);
            }
        }
        ds_put_cstr(out, "running totals since ovs-vswitchd started:\n");
        ds_put_format(out, "  offload attempts: %"PRIu64" (new flows %"PRIu64
                      ", modified flows %"PRIu64", retries %"PRIu64")\n",
                      c->puts, c->new_flows, c->modified,
                      c->retried);
        ds_put_format(out, "  rules put in a device: %"PRIu64"\n",
                      c->offloaded);
        for (int r = OFFLOAD_OK + 1; r < OFFLOAD_N_REASONS; r++) {
            ds_put_format(out, "  failed, %s: %"PRIu64"\n",
                          offload_reason_name(r), c->failed[r]);
        }
        ds_put_format(out, "  flows deleted: %"PRIu64" (flushed %"PRIu64
                      ")\n", c->flow_dels, c->flushed);
        ds_put_format(out, "  rules taken out of a device: %"PRIu64"\n",
                      c->rules_deleted);
    }
    format_ct_stats(out, json);
    if (json) {
        struct json *failed = json_object_create();

        json_object_put(json, "hw_offload",
                        json_boolean_create(st->enabled));
        json_object_put(json, "flows", json_integer_create(n));
        json_object_put(json, "flows_offloaded",
                        json_integer_create(n_offloaded));
        json_object_put(json, "flows_in_software",
                        json_integer_create(n - n_offloaded));
        json_object_put(json, "attempted",
                        json_integer_create(c->puts));
        json_object_put(json, "new", json_integer_create(c->new_flows));
        json_object_put(json, "modified",
                        json_integer_create(c->modified));
        json_object_put(json, "retried",
                        json_integer_create(c->retried));
        json_object_put(json, "offloaded",
                        json_integer_create(c->offloaded));
        for (int r = OFFLOAD_OK + 1; r < OFFLOAD_N_REASONS; r++) {
            json_object_put(failed, offload_reason_name(r),
                            json_integer_create(c->failed[r]));
        }
        json_object_put(json, "failed", failed);
        json_object_put(json, "deleted",
                        json_integer_create(c->flow_dels));
        json_object_put(json, "flushed",
                        json_integer_create(c->flushed));
        json_object_put(json, "rules_removed",
                        json_integer_create(c->rules_deleted));
    }
}

static void
format_stats(struct ds *out, struct json *json)
{
    struct format_stats_aux aux = { out, json };

    netdev_offload_esw_inspect(format_stats_cb, &aux);
}

struct check_rule {
    struct hmap_node node;          /* By hash of the rule pointer. */
    const struct offload_flow *flow;
    bool seen;
};

/* Collects the device's rules.  Only collects: the sim driver's
 * esw_rule_get_spec() takes the control mutex that esw_rule_foreach()
 * holds, so specs are read afterwards. */
struct rule_list {
    struct esw_rule **rules;
    size_t n, allocated;
};

static bool
collect_rule_cb(struct esw_rule *rule, void *list_)
{
    struct rule_list *list = list_;

    if (list->n >= list->allocated) {
        list->rules = x2nrealloc(list->rules, &list->allocated,
                                 sizeof *list->rules);
    }
    list->rules[list->n++] = rule;
    return true;
}

static struct check_rule *
check_rule_find(struct hmap *expected, const struct esw_rule *rule)
{
    struct check_rule *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, hash_pointer(rule, 0), expected) {
        if (c->flow->rule == rule) {
            return c;
        }
    }
    return NULL;
}

static bool
spec_equals(const struct esw_rule_spec *a, const struct esw_rule_spec *b)
{
    return (!memcmp(&a->match, &b->match, sizeof a->match)
            && !memcmp(&a->mask, &b->mask, sizeof a->mask)
            && a->priority == b->priority
            && a->n_actions == b->n_actions
            && !memcmp(a->actions, b->actions,
                       a->n_actions * sizeof a->actions[0]));
}

/* Adds a problem to 'problems': 'prefix', the ufid of 'f' (if not NULL)
 * and 'suffix'. */
static void
add_problem(struct svec *problems, const char *prefix,
            const struct offload_flow *f, const char *suffix)
{
    struct ds s = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&s, prefix);
    if (f) {
        odp_format_ufid(&f->ufid, &s);
    }
    ds_put_cstr(&s, suffix);
    svec_add_nocopy(problems, ds_steal_cstr(&s));
}

/* Checks one device's rules against 'expected'.  Adds any difference to
 * 'problems'.  A rule a previous ovs-vswitchd left, still waiting for its
 * flow, is counted in '*n_previous', not a problem. */
static void
check_device(struct esw_dev *dev, struct hmap *expected,
             struct svec *problems, size_t *n_rules, size_t *n_previous)
{
    struct rule_list list = { NULL, 0, 0 };

    esw_rule_foreach(dev, collect_rule_cb, &list);
    *n_rules += list.n;
    for (size_t i = 0; i < list.n; i++) {
        struct check_rule *c = check_rule_find(expected, list.rules[i]);
        struct esw_rule_spec spec, expected_spec;

        if (!c) {
            if (netdev_offload_esw_rule_is_previous(dev, list.rules[i])) {
                (*n_previous)++;
            } else {
                svec_add_nocopy(problems,
                                xasprintf("%s: rule without a flow",
                                          esw_dev_name(dev)));
            }
            continue;
        }
        c->seen = true;
        esw_rule_get_spec(dev, list.rules[i], &spec);
        offload_spec_expand(c->flow->spec, &expected_spec);
        if (!spec_equals(&spec, &expected_spec)) {
            char *prefix = xasprintf("%s: flow ", esw_dev_name(dev));

            add_problem(problems, prefix, c->flow,
                        ": rule differs from the flow's translation");
            free(prefix);
        }
    }
    free(list.rules);
}

struct check_aux {
    struct svec problems;
    size_t n_flows, n_offloaded, n_rules, n_previous;
};

/* Compares, under the provider's mutex, its records with the devices'
 * rule tables. */
static void
check_cb(const struct offload_esw_state *st, void *aux_)
{
    struct check_aux *aux = aux_;
    struct svec *problems = &aux->problems;
    const char *name;

    SSET_FOR_EACH (name, st->devices) {
        struct esw_dev *dev = esw_dev_lookup(name);
        struct hmap expected = HMAP_INITIALIZER(&expected);
        struct check_rule *c;
        struct offload_flow *f;

        if (!dev) {
            continue;
        }
        LIST_FOR_EACH (f, list_node, st->flows) {
            if (f->rule && f->dev == dev) {
                c = xzalloc(sizeof *c);
                c->flow = f;
                hmap_insert(&expected, &c->node, hash_pointer(f->rule, 0));
            }
        }

        check_device(dev, &expected, problems, &aux->n_rules,
                     &aux->n_previous);

        HMAP_FOR_EACH_POP (c, node, &expected) {
            if (!c->seen) {
                char *prefix = xasprintf("%s: flow ", name);

                add_problem(problems, prefix, c->flow, " reported "
                            "offloaded but its rule is not in the device");
                free(prefix);
            }
            free(c);
        }
        hmap_destroy(&expected);
        esw_dev_close(dev);
    }

    struct offload_flow *f;
    LIST_FOR_EACH (f, list_node, st->flows) {
        aux->n_flows++;
        aux->n_offloaded += f->rule != NULL;
        if ((f->rule != NULL) != (f->reason == OFFLOAD_OK)) {
            add_problem(problems, "flow ", f, ": state and rule disagree");
        }
    }
}

/* Connections: every device entry must be one of OVS's connections (the
 * same zone, tuples, mark and labels). */
struct ovs_conn {
    struct hmap_node node;
    struct ct_dpif_entry e;
};

/* An OVS tuple as the device's ('ipv6' says which addresses). */
static void
ct_tuple_to_esw(const struct ct_dpif_tuple *t, struct esw_ct_tuple *e,
                bool *ipv6)
{
    ct_offload_tuple_to_esw(t, e);
    *ipv6 = t->l3_type == AF_INET6;
}

static uint32_t
ct_key_hash(uint16_t zone, bool ipv6, const struct esw_ct_tuple *t)
{
    uint32_t h = hash_int(zone, ipv6);

    h = hash_bytes(&t->src, sizeof t->src, h);
    h = hash_bytes(&t->dst, sizeof t->dst, h);
    h = hash_int((uint32_t) t->src_port << 16 | t->dst_port, h);
    return hash_int(t->ip_proto, h);
}

static bool
ct_tuple_equals(const struct ct_dpif_tuple *t, bool ipv6,
                const struct esw_ct_tuple *e)
{
    struct esw_ct_tuple x;
    bool x_ipv6;

    ct_tuple_to_esw(t, &x, &x_ipv6);
    return (x_ipv6 == ipv6 && x.ip_proto == e->ip_proto
            && !memcmp(&x.src, &e->src, sizeof x.src)
            && !memcmp(&x.dst, &e->dst, sizeof x.dst)
            && x.src_port == e->src_port && x.dst_port == e->dst_port);
}

static void
collect_ovs_conns(struct hmap *conns)
{
    struct sset types = SSET_INITIALIZER(&types);
    const char *type;

    dp_enumerate_types(&types);
    SSET_FOR_EACH (type, &types) {
        struct sset names = SSET_INITIALIZER(&names);
        const char *name;

        if (!strcmp(type, "system")) {
            continue;       /* The kernel's conntrack: not offloaded here. */
        }

        dp_enumerate_names(type, &names);
        SSET_FOR_EACH (name, &names) {
            struct ct_dpif_dump_state *dump;
            struct dpif *dpif;
            int tot_bkts;

            if (dpif_open(name, type, &dpif)) {
                continue;
            }
            if (!ct_dpif_dump_start(dpif, &dump, NULL, &tot_bkts)) {
                struct ct_dpif_entry e;

                while (!ct_dpif_dump_next(dump, &e)) {
                    struct ovs_conn *c = xmalloc(sizeof *c);
                    struct esw_ct_tuple t;
                    bool ipv6;

                    c->e = e;
                    ct_tuple_to_esw(&e.tuple_orig, &t, &ipv6);
                    hmap_insert(conns, &c->node,
                                ct_key_hash(e.zone, ipv6, &t));
                }
                ct_dpif_dump_done(dump);
            }
            dpif_close(dpif);
        }
        sset_destroy(&names);
    }
    sset_destroy(&types);
}

/* The device's entries (not flushed). */
struct ct_list {
    struct esw_dev *dev;
    struct esw_ct_spec *specs;
    size_t n, allocated;
};

static bool
collect_ct_cb(struct esw_ct *ct, void *aux)
{
    struct ct_list *list = aux;
    struct esw_ct_stats st;

    if (list->n >= list->allocated) {
        list->specs = x2nrealloc(list->specs, &list->allocated,
                                 sizeof *list->specs);
    }
    esw_ct_get_spec(list->dev, ct, &list->specs[list->n]);
    esw_ct_get_stats(list->dev, ct, &st);
    list->n += !st.flushed;
    return true;
}

/* Adds to 'problems' the device connections OVS does not have. */
static void
check_conntrack(struct svec *problems, size_t *n_conns)
{
    char names[16][ESW_NAME_MAX];
    struct hmap conns = HMAP_INITIALIZER(&conns);
    size_t n_devs = esw_dev_list(names, ARRAY_SIZE(names));
    struct ovs_conn *c;
    bool collected = false;

    for (size_t i = 0; i < MIN(n_devs, ARRAY_SIZE(names)); i++) {
        struct esw_dev *dev = esw_dev_lookup(names[i]);
        struct ct_list list = { dev, NULL, 0, 0 };

        if (!dev) {
            continue;
        }
        esw_ct_foreach(dev, collect_ct_cb, &list);
        if (list.n && !collected) {
            collect_ovs_conns(&conns);
            collected = true;
        }
        *n_conns += list.n;
        for (size_t k = 0; k < list.n; k++) {
            const struct esw_ct_spec *s = &list.specs[k];
            const struct esw_ct_tuple *o = &s->orig;
            bool found = false, same_md = false;
            char buf[ESW_RULE_FORMAT_SIZE];

            HMAP_FOR_EACH_WITH_HASH (c, node,
                                     ct_key_hash(s->zone, s->ipv6, o),
                                     &conns) {
                if (c->e.zone == s->zone
                    && ct_tuple_equals(&c->e.tuple_orig, s->ipv6, o)
                    && ct_tuple_equals(&c->e.tuple_reply, s->ipv6,
                                       &s->reply)) {
                    found = true;
                    same_md = (c->e.mark == s->mark
                               && c->e.labels.u64.lo == s->label[0]
                               && c->e.labels.u64.hi == s->label[1]);
                    break;
                }
            }
            if (!found || !same_md) {
                svec_add_nocopy(problems,
                                xasprintf("%s: connection %s: %s", names[i],
                                          esw_ct_spec_format(s, buf,
                                                             sizeof buf),
                                          (found ? "mark or labels differ "
                                           "from OVS's"
                                           : "not in OVS's conntrack")));
            }
        }
        free(list.specs);
        esw_dev_close(dev);
    }
    HMAP_FOR_EACH_POP (c, node, &conns) {
        ct_dpif_entry_uninit(&c->e);
        free(c);
    }
    hmap_destroy(&conns);
}

/* Cross-checks the provider's records against the devices' rule tables.
 * Returns true if every flow reported offloaded has its rule in the
 * device, with the spec the flow translated to, and every rule in a
 * device belongs to an offloaded flow; otherwise lists the differences,
 * one a line, before the summary line.  Rules a previous ovs-vswitchd
 * left, still waiting for their flows to be re-created (for a bounded
 * time, see netdev_offload_esw_adopt()), are counted apart.  'json' is an
 * object: "consistent", "flows", "offloaded", "device_rules",
 * "previous_rules" and "problems" (an array of strings). */
static bool
check(struct ds *out, struct json *json)
{
    struct check_aux aux = { .problems = SVEC_EMPTY_INITIALIZER };
    size_t n_flows, n_offloaded, n_rules, n_previous, n_conns = 0;
    struct svec problems;
    bool ok;

    netdev_offload_esw_inspect(check_cb, &aux);
    check_conntrack(&aux.problems, &n_conns);
    problems = aux.problems;
    n_flows = aux.n_flows;
    n_offloaded = aux.n_offloaded;
    n_rules = aux.n_rules;
    n_previous = aux.n_previous;

    ok = !problems.n;
    if (out) {
        for (size_t i = 0; i < problems.n; i++) {
            ds_put_format(out, "%s\n", problems.names[i]);
        }
        ds_put_format(out, "%s: %"PRIuSIZE" flows, %"PRIuSIZE" offloaded, %"
                      PRIuSIZE" device rules",
                      ok ? "consistent" : "INCONSISTENT",
                      n_flows, n_offloaded, n_rules);
        if (n_previous) {
            ds_put_format(out, " (%"PRIuSIZE" of them a previous "
                          "ovs-vswitchd's, waiting for their flows)",
                          n_previous);
        }
        if (n_conns) {
            ds_put_format(out, ", %"PRIuSIZE" device connections", n_conns);
        }
        ds_put_char(out, '\n');
    }
    if (json) {
        struct json *jproblems = json_array_create_empty();

        for (size_t i = 0; i < problems.n; i++) {
            json_array_add(jproblems, json_string_create(problems.names[i]));
        }
        json_object_put(json, "consistent", json_boolean_create(ok));
        json_object_put(json, "flows", json_integer_create(n_flows));
        json_object_put(json, "offloaded", json_integer_create(n_offloaded));
        json_object_put(json, "device_rules", json_integer_create(n_rules));
        json_object_put(json, "previous_rules",
                        json_integer_create(n_previous));
        if (n_conns) {
            json_object_put(json, "device_connections",
                            json_integer_create(n_conns));
        }
        json_object_put(json, "problems", jproblems);
    }
    svec_destroy(&problems);
    return ok;
}

/* The commands take "[--json]" only. */
static const struct appctl_syntax json_only_syntax = {
    .opts = { { "--json", false } },
};

static void
offload_diag_dump_flows(struct unixctl_conn *conn, int argc,
                        const char *argv[], void *aux OVS_UNUSED)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct appctl_args args;
    struct json *flows, *json;
    bool as_json;

    if (!appctl_parse(conn, argc, argv, &json_only_syntax, &args)) {
        return;
    }
    as_json = appctl_json(&args);
    if (as_json) {
        flows = json_array_create_empty();
        dump_flows(NULL, flows);
        json = json_object_create();
        json_object_put(json, "flows", flows);
    } else {
        dump_flows(&text, NULL);
        json = NULL;
    }
    appctl_reply(conn, as_json, json, &text);
}

static void
offload_diag_stats(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *aux OVS_UNUSED)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct appctl_args args;
    struct json *json;
    bool as_json;

    if (!appctl_parse(conn, argc, argv, &json_only_syntax, &args)) {
        return;
    }
    as_json = appctl_json(&args);
    json = as_json ? json_object_create() : NULL;
    format_stats(as_json ? NULL : &text, json);
    appctl_reply(conn, as_json, json, &text);
}

static void
offload_diag_check(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *aux OVS_UNUSED)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct appctl_args args;
    struct json *json;
    bool as_json;

    if (!appctl_parse(conn, argc, argv, &json_only_syntax, &args)) {
        return;
    }
    as_json = appctl_json(&args);
    json = as_json ? json_object_create() : NULL;
    if (check(as_json ? NULL : &text, json)) {
        appctl_reply(conn, as_json, json, &text);
    } else {
        appctl_reply_error(conn, as_json, json, &text);
    }
}

void
offload_diag_register(void)
{
    unixctl_command_register("eswitch/dump-flows", "[--json]", 0, 1,
                             offload_diag_dump_flows, NULL);
    unixctl_command_register("eswitch/offload-stats", "[--json]", 0, 1,
                             offload_diag_stats, NULL);
    unixctl_command_register("eswitch/offload-check", "[--json]", 0, 1,
                             offload_diag_check, NULL);
}
