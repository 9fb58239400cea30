/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Flow offload provider "esw".  See netdev-offload-esw.h for the contract
 * and offload-xlate.c for the translation. */

#include <config.h>

#include "netdev-offload-esw.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dpif.h"
#include "dpif-netdev.h"
#include "flow.h"
#include "hash.h"
#include "netdev-offload-provider.h"
#include "netdev-provider.h"
#include "netdev-vport.h"
#include "netdev.h"
#include "ofproto/ofproto-dpif.h"
#include "ofproto/ofproto-provider.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "ovs-thread.h"
#include "smap.h"
#include "sset.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

#include "datapath/esw.h"
#include "eswitch.h"
#include "netdev-esw.h"
#include "offload-xlate.h"

VLOG_DEFINE_THIS_MODULE(netdev_offload_esw);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(20, 100);

/* The dp_layer reported for flows whose rule is in the device. */
#define OFFLOAD_ESW_DP_LAYER "esw"

/* One datapath megaflow put on an eSwitch port, offloaded or not. */
struct offload_flow {
    struct hmap_node node;          /* In 'flows', by hash of 'ufid'. */
    struct ovs_list list_node;      /* In 'flow_list', oldest first. */
    ovs_u128 ufid;                  /* dpif-netdev's mega_ufid. */
    struct netdev *netdev;          /* The in_port (a reference). */
    uint32_t tun_port;              /* Nonzero: 'netdev' is this tunnel
                                     * port (datapath number)... */
    odp_port_t orig_in_port;        /* ...whose packets came in on this
                                     * datapath port (OVS's info). */
    unsigned int tid;               /* Offload thread that put it. */

    /* The match, compressed: a 'struct match' is 3.4 kB, mostly zeros, and
     * is only needed again to retry or to print.  'flow', 'mask' and
     * 'actions' are one allocation, that 'flow' points to. */
    struct miniflow *flow;          /* Not masked, as given to flow_put. */
    struct minimask *mask;
    struct nlattr *actions;
    size_t actions_len;

    struct esw_dev *dev;            /* In_port's device (a reference), or
                                     * NULL if the port is not bound. */
    uint32_t in_vport;
    struct esw_rule *rule;          /* NULL unless in the device. */
    struct esw_rule_spec spec;      /* What 'rule' was made from. */

    enum offload_reason reason;     /* OFFLOAD_OK iff 'rule'. */
    char *reason_text;              /* NULL iff OFFLOAD_OK. */

    uint64_t base_packets;          /* Counted by earlier rules. */
    uint64_t base_bytes;
    uint64_t last_packets;          /* Last total seen by flow_get. */
    long long int used;             /* time_msec() when it last moved. */
};

struct offload_counters {
    uint64_t puts;                  /* flow_put calls (new or modified). */
    uint64_t new_flows;
    uint64_t modified;
    uint64_t offloaded;             /* Rules added or updated. */
    uint64_t retried;               /* Later attempts (room, re-enable). */
    uint64_t failed[OFFLOAD_N_REASONS];
    uint64_t flow_dels;             /* flow_del calls that found a flow. */
    uint64_t flushed;               /* Flows removed by flow_flush. */
    uint64_t rules_deleted;         /* Rules taken out of a device. */
};

static struct ovs_mutex offload_mutex = OVS_MUTEX_INITIALIZER;
static struct hmap flows OVS_GUARDED_BY(offload_mutex)
    = HMAP_INITIALIZER(&flows);
static struct ovs_list flow_list OVS_GUARDED_BY(offload_mutex)
    = OVS_LIST_INITIALIZER(&flow_list);
static struct offload_counters counters OVS_GUARDED_BY(offload_mutex);
static bool offload_enabled OVS_GUARDED_BY(offload_mutex);
/* Flows whose in_port is a tunnel port (see sweep_tunnel_flows()). */
static size_t n_tunnel_flows OVS_GUARDED_BY(offload_mutex);

/* OVS's vlan-limit (flow_vlan_limit) when the rules were last translated:
 * the translation depends on it (see offload-xlate.c), so when the user
 * changes other_config:vlan-limit every flow is translated again. */
static int rules_vlan_limit OVS_GUARDED_BY(offload_mutex);
/* Names of the devices this provider has put rules into. */
static struct sset devices OVS_GUARDED_BY(offload_mutex)
    = SSET_INITIALIZER(&devices);

/* A datapath meter, as OVS's userspace datapath has it (meter ids are the
 * datapath's, which ofproto-dpif allocates), and the devices it is in: a
 * meter goes into a device when the first rule that uses it does. */
struct offload_meter {
    struct hmap_node node;          /* In 'meters', by id. */
    uint32_t id;
    struct esw_meter_config cfg;
    char *unsupported;              /* Why no device can have it, or
                                     * NULL. */
    struct sset devices;            /* Names of the devices it is in. */
};

static struct hmap meters OVS_GUARDED_BY(offload_mutex)
    = HMAP_INITIALIZER(&meters);

static size_t
ufid_hash(const ovs_u128 *ufid)
{
    return ufid->u32[0];
}

static struct offload_flow *
flow_find(const ovs_u128 *ufid) OVS_REQUIRES(offload_mutex)
{
    struct offload_flow *f;

    HMAP_FOR_EACH_WITH_HASH (f, node, ufid_hash(ufid), &flows) {
        if (ovs_u128_equals(f->ufid, *ufid)) {
            return f;
        }
    }
    return NULL;
}

/* Takes 'f''s rule, if any, out of the device, keeping its counters.
 * Returns true if there was one. */
static bool
rule_remove(struct offload_flow *f) OVS_REQUIRES(offload_mutex)
{
    struct esw_rule_stats s;

    if (!f->rule) {
        return false;
    }
    if (!esw_rule_get_stats(f->dev, f->rule, &s)) {
        f->base_packets += s.packets;
        f->base_bytes += s.bytes;
    }
    esw_rule_del(f->dev, f->rule);
    f->rule = NULL;
    counters.rules_deleted++;
    return true;
}

static void
set_state(struct offload_flow *f, enum offload_reason reason, char *text)
    OVS_REQUIRES(offload_mutex)
{
    free(f->reason_text);
    f->reason = reason;
    f->reason_text = text;
}

/* Resolves a datapath port for offload_xlate(); 'aux' is the dpif type. */
static bool
resolve_port(odp_port_t port, void *aux, struct esw_dev **devp,
             uint32_t *vportp, char name[OFFLOAD_PORT_NAME_MAX])
{
    struct netdev *netdev = netdev_ports_get(port, aux);
    bool ok;

    if (!netdev) {
        /* OVS does not register tap ports (a netdev bridge's internal
         * port, e.g. LOCAL) with the flow API: only the number is known
         * here ("ovs-appctl dpif/show" maps it to a name). */
        snprintf(name, OFFLOAD_PORT_NAME_MAX, "datapath port %"PRIu32,
                 odp_to_u32(port));
        return false;
    }
    ovs_strlcpy(name, netdev_get_name(netdev), OFFLOAD_PORT_NAME_MAX);
    ok = netdev_is_esw(netdev) && netdev_esw_get_function(netdev, devp,
                                                          vportp);
    netdev_close(netdev);
    return ok;
}

/* Resolves a datapath port for offload_xlate()'s tnl_pop; 'aux' is the
 * dpif type. */
static bool
resolve_tunnel(odp_port_t port, void *aux, enum esw_tunnel_type *typep,
               char name[OFFLOAD_PORT_NAME_MAX])
{
    struct netdev *netdev = netdev_ports_get(port, aux);
    const char *type;
    bool ok = true;

    if (!netdev) {
        snprintf(name, OFFLOAD_PORT_NAME_MAX, "datapath port %"PRIu32,
                 odp_to_u32(port));
        return false;
    }
    type = netdev_get_type(netdev);
    if (!strcmp(type, "vxlan")) {
        *typep = ESW_TUNNEL_VXLAN;
    } else if (!strcmp(type, "geneve")) {
        *typep = ESW_TUNNEL_GENEVE;
    } else {
        ovs_strlcpy(name, type, OFFLOAD_PORT_NAME_MAX);
        ok = false;
    }
    netdev_close(netdev);
    return ok;
}

/* Turns a device error into a reason. */
static enum offload_reason
device_reason(struct esw_dev *dev, int error, const struct esw_error *err,
              struct ds *text)
{
    const char *why = err->reason[0] ? err->reason : ovs_strerror(error);

    if (error == EOPNOTSUPP && err->type == ESW_ERROR_MATCH) {
        ds_put_format(text, "unsupported match: %s: %s",
                      esw_dev_name(dev), why);
        return OFFLOAD_UNSUPPORTED_MATCH;
    } else if (error == EOPNOTSUPP && err->type == ESW_ERROR_ACTION) {
        ds_put_format(text, "unsupported action: %s: %s",
                      esw_dev_name(dev), why);
        return OFFLOAD_UNSUPPORTED_ACTION;
    } else if (err->type == ESW_ERROR_CAPACITY) {
        ds_put_format(text, "device full: %s: %s", esw_dev_name(dev), why);
        return OFFLOAD_DEVICE_FULL;
    } else {
        ds_put_format(text, "device error: %s: %s", esw_dev_name(dev), why);
        return OFFLOAD_DEVICE_ERROR;
    }
}

/* Expands 'f''s match into 'match'. */
static void
flow_get_match(const struct offload_flow *f, struct match *match)
{
    miniflow_expand(f->flow, &match->flow);
    minimask_expand(f->mask, &match->wc);
    memset(&match->tun_md, 0, sizeof match->tun_md);
}

static struct offload_meter *
meter_find(uint32_t id) OVS_REQUIRES(offload_mutex)
{
    struct offload_meter *m;

    HMAP_FOR_EACH_WITH_HASH (m, node, hash_int(id, 0), &meters) {
        if (m->id == id) {
            return m;
        }
    }
    return NULL;
}

/* Puts the meters that 'spec' uses into 'dev', if they are not there yet.
 * Returns OFFLOAD_OK or the reason, appended to 'text', why it cannot. */
static enum offload_reason
meters_prepare(struct esw_dev *dev, const struct esw_rule_spec *spec,
               struct ds *text) OVS_REQUIRES(offload_mutex)
{
    for (size_t i = 0; i < spec->n_actions; i++) {
        const struct esw_action *a = &spec->actions[i];
        struct offload_meter *m;
        struct esw_error err;
        int error;

        if (a->type != ESW_ACTION_METER) {
            continue;
        }
        m = meter_find(a->meter);
        if (!m) {
            ds_put_format(text, "unsupported action: meter(%"PRIu32"): "
                          "not a meter of the datapath", a->meter);
            return OFFLOAD_UNSUPPORTED_ACTION;
        }
        if (m->unsupported) {
            ds_put_format(text, "unsupported action: meter(%"PRIu32"): %s",
                          a->meter, m->unsupported);
            return OFFLOAD_UNSUPPORTED_ACTION;
        }
        if (sset_contains(&m->devices, esw_dev_name(dev))) {
            continue;
        }
        error = esw_meter_set(dev, m->id, &m->cfg, &err);
        if (error) {
            return device_reason(dev, error, &err, text);
        }
        sset_add(&m->devices, esw_dev_name(dev));
    }
    return OFFLOAD_OK;
}

/* Brings 'f''s rule in line with its match and actions: added, modified
 * (make-before-break) or, when that is not possible, removed with the
 * reason recorded.  'count' says whether to count a failure (a retry's
 * failure is not counted again).  'match' is 'f''s match, expanded, or
 * NULL to expand it here. */
static enum offload_reason
offload_try__(struct offload_flow *f, const struct match *match, bool count)
    OVS_REQUIRES(offload_mutex)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    enum offload_reason r;

    if (!offload_enabled) {
        ds_put_cstr(&text, "hw-offload disabled");
        r = OFFLOAD_DISABLED;
    } else if (!f->dev && f->tun_port) {
        char name[OFFLOAD_PORT_NAME_MAX];
        enum esw_tunnel_type type;

        if (!resolve_tunnel(u32_to_odp(f->tun_port),
                            CONST_CAST(char *,
                                       netdev_get_dpif_type(f->netdev)),
                            &type, name)) {
            ds_put_format(&text, "unsupported match: in_port %s: tunnel "
                          "type %s not supported", netdev_get_name(f->netdev),
                          name);
            r = OFFLOAD_UNSUPPORTED_MATCH;
        } else {
            ds_put_format(&text, "device error: %s: its packets did not "
                          "come in on an eswitch uplink",
                          netdev_get_name(f->netdev));
            r = OFFLOAD_DEVICE_ERROR;
        }
    } else if (!f->dev) {
        ds_put_format(&text, "device error: %s is not bound to an eswitch "
                      "function", netdev_get_name(f->netdev));
        r = OFFLOAD_DEVICE_ERROR;
    } else {
        struct offload_xlate_ctx ctx = {
            .dev = f->dev,
            .in_vport = f->in_vport,
            .tun_port = f->tun_port,
            .resolve = resolve_port,
            .resolve_tunnel = resolve_tunnel,
            .aux = CONST_CAST(char *, netdev_get_dpif_type(f->netdev)),
        };
        struct esw_rule_spec spec;
        struct match expanded;

        if (!match) {
            flow_get_match(f, &expanded);
            match = &expanded;
        }
        r = offload_xlate(&ctx, match, f->actions, f->actions_len,
                          &spec, &text);
        if (!r) {
            r = meters_prepare(f->dev, &spec, &text);
        }
        if (!r) {
            struct esw_error err;
            int error;

            /* esw_rule_add() and esw_rule_modify() validate: no
             * esw_rule_validate() first, which would take the device's
             * control lock once more and check the same things. */
            if (!f->rule) {
                error = esw_rule_add(f->dev, &spec, &err, &f->rule);
            } else {
                error = esw_rule_modify(f->dev, f->rule, &spec, &err);
                if (error) {
                    /* Report what esw_rule_validate() would have refused
                     * first (e.g. "no such vport" rather than "rule is
                     * orphaned"), as when validation came first. */
                    struct esw_error verr;
                    int verror = esw_rule_validate(f->dev, &spec, &verr);

                    if (verror) {
                        error = verror;
                        err = verr;
                    }
                }
            }
            if (error) {
                r = device_reason(f->dev, error, &err, &text);
            } else {
                f->spec = spec;
                sset_add(&devices, esw_dev_name(f->dev));
            }
        }
    }

    if (r) {
        rule_remove(f);
        if (count) {
            counters.failed[r]++;
        }
        if (!VLOG_DROP_DBG(&rl)) {
            struct ds s = DS_EMPTY_INITIALIZER;

            odp_format_ufid(&f->ufid, &s);
            VLOG_DBG("%s: flow %s stays in software: %s",
                     netdev_get_name(f->netdev), ds_cstr(&s), ds_cstr(&text));
            ds_destroy(&s);
        }
        set_state(f, r, ds_steal_cstr(&text));
    } else {
        counters.offloaded++;
        set_state(f, OFFLOAD_OK, NULL);
        ds_destroy(&text);
    }
    return r;
}

static enum offload_reason
offload_try(struct offload_flow *f, bool count) OVS_REQUIRES(offload_mutex)
{
    return offload_try__(f, NULL, count);
}

/* After a rule left 'dev': offloads, oldest first, the flows that found
 * 'dev' full, until it is full again. */
static void
retry_full(struct esw_dev *dev) OVS_REQUIRES(offload_mutex)
{
    struct offload_flow *f;

    LIST_FOR_EACH (f, list_node, &flow_list) {
        if (f->reason == OFFLOAD_DEVICE_FULL && f->dev == dev) {
            counters.retried++;
            if (offload_try(f, false) == OFFLOAD_DEVICE_FULL) {
                break;
            }
        }
    }
}

/* Translates every flow again if OVS's vlan-limit changed since they were
 * translated.  Until then the device may hold rules made for the old
 * limit, as OVS's own datapath holds megaflows made for it: at most one
 * main-loop iteration, since OVS changes the limit in bridge_reconfigure()
 * and ovs-ext sees the configuration at the start of the next
 * bridge_run(). */
static void
check_vlan_limit(void) OVS_REQUIRES(offload_mutex)
{
    int limit = flow_vlan_limit;
    struct offload_flow *f;

    if (limit == rules_vlan_limit) {
        return;
    }
    if (rules_vlan_limit && !ovs_list_is_empty(&flow_list)) {
        VLOG_INFO("vlan-limit changed from %d to %d: translating the "
                  "offloaded flows again", rules_vlan_limit, limit);
    }
    rules_vlan_limit = limit;
    LIST_FOR_EACH (f, list_node, &flow_list) {
        if (f->reason != OFFLOAD_DISABLED) {
            struct esw_dev *dev = f->dev;
            bool had_rule = f->rule != NULL;

            offload_try(f, false);
            if (had_rule && !f->rule && dev) {
                retry_full(dev);
            }
        }
    }
}

static void
flow_destroy(struct offload_flow *f) OVS_REQUIRES(offload_mutex)
{
    if (f->tun_port) {
        n_tunnel_flows--;
    }
    rule_remove(f);
    hmap_remove(&flows, &f->node);
    ovs_list_remove(&f->list_node);
    esw_dev_close(f->dev);
    netdev_close(f->netdev);
    free(f->flow);
    free(f->reason_text);
    free(f);
}

/* For a flow on a tunnel port: finds the uplink its packets came in on
 * (and were decapsulated by), in '*devp' and '*vportp'.  Returns false if
 * that is not an eSwitch uplink. */
static bool
tunnel_get_uplink(const struct offload_flow *f, struct esw_dev **devp,
                  uint32_t *vportp)
{
    struct netdev *phys = netdev_ports_get(f->orig_in_port,
                                           netdev_get_dpif_type(f->netdev));
    struct esw_vport_info info;
    bool ok;

    ok = (phys && netdev_is_esw(phys)
          && netdev_esw_get_function(phys, devp, vportp)
          && !esw_vport_get_info(*devp, *vportp, &info)
          && info.kind == ESW_VPORT_UPLINK);
    netdev_close(phys);
    return ok;
}

/* Binds 'f' to the function its in_port currently represents (for a
 * tunnel port, to the uplink its packets came in on). */
static void
flow_bind(struct offload_flow *f) OVS_REQUIRES(offload_mutex)
{
    struct esw_dev *dev = NULL;
    uint32_t vport = 0;

    if (f->tun_port ? !tunnel_get_uplink(f, &dev, &vport)
        : !netdev_esw_get_function(f->netdev, &dev, &vport)) {
        dev = NULL;
    }
    if (dev != f->dev || vport != f->in_vport) {
        struct esw_dev *old = f->dev;

        if (rule_remove(f)) {
            retry_full(old);
        }
        esw_dev_close(old);
        f->dev = dev ? esw_dev_lookup(esw_dev_name(dev)) : NULL;
        f->in_vport = vport;
    }
}

static void
fill_stats(struct offload_flow *f, struct dpif_flow_stats *stats)
    OVS_REQUIRES(offload_mutex)
{
    uint64_t packets = f->base_packets, bytes = f->base_bytes;
    struct esw_rule_stats s;

    if (f->rule && !esw_rule_get_stats(f->dev, f->rule, &s)) {
        packets += s.packets;
        bytes += s.bytes;
    }
    if (packets != f->last_packets) {
        f->last_packets = packets;
        f->used = time_msec();
    }
    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->n_packets = packets;
        stats->n_bytes = bytes;
        stats->used = f->used;
    }
}

/* Compresses 'src' into 'values' (room for FLOW_U64S) and 'map', in one
 * pass (miniflow_create() takes two and a malloc()).  Returns the number of
 * values. */
static size_t
compress_flow(const struct flow *src, struct flowmap *map, uint64_t *values)
{
    const uint64_t *w = (const uint64_t *) src;
    size_t n = 0;

    flowmap_init(map);
    for (size_t i = 0; i < FLOW_U64S; i++) {
        if (w[i]) {
            flowmap_set(map, i, 1);
            values[n++] = w[i];
        }
    }
    return n;
}

/* Stores 'match' and 'actions' in 'f', in a single allocation, freeing what
 * 'f' had. */
static void
flow_set_match(struct offload_flow *f, const struct match *match,
               const struct nlattr *actions, size_t actions_len)
{
    uint64_t flow_values[FLOW_U64S], mask_values[FLOW_U64S];
    struct flowmap flow_map, mask_map;
    size_t n_flow, n_mask, flow_size, mask_size;
    char *p;

    n_flow = compress_flow(&match->flow, &flow_map, flow_values);
    n_mask = compress_flow(&match->wc.masks, &mask_map, mask_values);
    flow_size = sizeof(struct miniflow) + MINIFLOW_VALUES_SIZE(n_flow);
    mask_size = sizeof(struct miniflow) + MINIFLOW_VALUES_SIZE(n_mask);

    free(f->flow);
    p = xmalloc(flow_size + mask_size + actions_len);
    f->flow = (struct miniflow *) p;
    f->flow->map = flow_map;
    memcpy(miniflow_values(f->flow), flow_values,
           MINIFLOW_VALUES_SIZE(n_flow));
    f->mask = (struct minimask *) (p + flow_size);
    f->mask->masks.map = mask_map;
    memcpy(miniflow_values(&f->mask->masks), mask_values,
           MINIFLOW_VALUES_SIZE(n_mask));
    f->actions = (struct nlattr *) (p + flow_size + mask_size);
    memcpy(f->actions, actions, actions_len);
    f->actions_len = actions_len;
}

/* The provider. */

/* Our representors and uplinks, and OVS's tunnel ports: the packets of a
 * tunnel port come from an uplink's tnl_pop flow, which the device may
 * have decapsulated (as OVS's DPDK provider accepted "vport" flows). */
static int
offload_esw_init_flow_api(struct netdev *netdev)
{
    return (netdev_is_esw(netdev)
            || netdev_vport_is_vport_class(netdev->netdev_class)
            ? 0 : EOPNOTSUPP);
}

static int
offload_esw_flow_put(struct netdev *netdev, struct match *match,
                     struct nlattr *actions, size_t actions_len,
                     const ovs_u128 *ufid, struct offload_info *info,
                     struct dpif_flow_stats *stats)
{
    struct offload_flow *f;

    ovs_mutex_lock(&offload_mutex);
    check_vlan_limit();
    counters.puts++;
    f = flow_find(ufid);
    if (!f) {
        f = xzalloc(sizeof *f);
        f->ufid = *ufid;
        f->netdev = netdev_ref(netdev);
        hmap_insert(&flows, &f->node, ufid_hash(ufid));
        ovs_list_push_back(&flow_list, &f->list_node);
        counters.new_flows++;
    } else {
        counters.modified++;
        if (f->netdev != netdev) {
            netdev_close(f->netdev);
            f->netdev = netdev_ref(netdev);
        }
    }
    f->tid = netdev_offload_thread_id();
    n_tunnel_flows -= f->tun_port != 0;
    if (netdev_is_esw(netdev)) {
        f->tun_port = 0;
    } else {
        f->tun_port = odp_to_u32(match->flow.in_port.odp_port);
        f->orig_in_port = info->orig_in_port;
    }
    n_tunnel_flows += f->tun_port != 0;
    flow_set_match(f, match, actions, actions_len);
    flow_bind(f);

    offload_try__(f, match, true);
    if (stats) {
        fill_stats(f, stats);
    }
    ovs_mutex_unlock(&offload_mutex);
    return 0;
}

static int
offload_esw_flow_get(struct netdev *netdev OVS_UNUSED,
                     struct match *match OVS_UNUSED,
                     struct nlattr **actions OVS_UNUSED,
                     const ovs_u128 *ufid, struct dpif_flow_stats *stats,
                     struct dpif_flow_attrs *attrs,
                     struct ofpbuf *wbuffer OVS_UNUSED)
{
    struct offload_flow *f;
    int error = 0;

    ovs_mutex_lock(&offload_mutex);
    f = flow_find(ufid);
    if (!f) {
        error = ENOENT;
        goto out;
    }
    if (f->rule) {
        struct esw_rule_stats s;

        if (!esw_rule_get_stats(f->dev, f->rule, &s) && s.orphaned) {
            /* A vport of the rule went away under us: the rule no longer
             * forwards, so the flow is back in software. */
            rule_remove(f);
            counters.failed[OFFLOAD_DEVICE_ERROR]++;
            set_state(f, OFFLOAD_DEVICE_ERROR,
                      xasprintf("device error: %s: a vport of the rule "
                                "went away", esw_dev_name(f->dev)));
            retry_full(f->dev);
        }
    }
    fill_stats(f, stats);
    attrs->offloaded = f->rule != NULL;
    attrs->dp_layer = f->rule ? OFFLOAD_ESW_DP_LAYER : "ovs";
    attrs->dp_extra_info = NULL;
out:
    ovs_mutex_unlock(&offload_mutex);
    return error;
}

static int
offload_esw_flow_del(struct netdev *netdev OVS_UNUSED, const ovs_u128 *ufid,
                     struct dpif_flow_stats *stats)
{
    struct offload_flow *f;
    struct esw_dev *dev;
    int error = 0;

    ovs_mutex_lock(&offload_mutex);
    f = flow_find(ufid);
    if (!f) {
        error = ENOENT;
        goto out;
    }
    counters.flow_dels++;
    fill_stats(f, stats);
    dev = f->dev ? esw_dev_lookup(esw_dev_name(f->dev)) : NULL;
    if (f->rule) {
        flow_destroy(f);
        retry_full(dev);
    } else {
        flow_destroy(f);
    }
    esw_dev_close(dev);
out:
    ovs_mutex_unlock(&offload_mutex);
    return error;
}

static int
offload_esw_flow_flush(struct netdev *netdev)
{
    struct esw_dev *dev = NULL;
    struct offload_flow *f;
    uint32_t vport = 0;
    bool bound;

    ovs_mutex_lock(&offload_mutex);
    bound = (netdev_is_esw(netdev)
             && netdev_esw_get_function(netdev, &dev, &vport));
    if (bound) {
        dev = esw_dev_lookup(esw_dev_name(dev));
    }
    LIST_FOR_EACH_SAFE (f, list_node, &flow_list) {
        if (f->netdev == netdev) {
            counters.flushed++;
            flow_destroy(f);
        } else if (bound && f->rule && f->dev == dev) {
            /* Rules that output to the port that goes away leave the
             * device too; OVS revalidates these flows next. */
            for (size_t i = 0; i < f->spec.n_actions; i++) {
                if (f->spec.actions[i].type == ESW_ACTION_OUTPUT
                    && f->spec.actions[i].vport == vport) {
                    rule_remove(f);
                    counters.failed[OFFLOAD_PORT_REMOVED]++;
                    set_state(f, OFFLOAD_PORT_REMOVED,
                              xasprintf("output port %s removed",
                                        netdev_get_name(netdev)));
                    break;
                }
            }
        }
    }
    if (dev) {
        retry_full(dev);
        esw_dev_close(dev);
    }
    ovs_mutex_unlock(&offload_mutex);
    return 0;
}

static int
offload_esw_flow_get_n_flows(struct netdev *netdev, uint64_t *n_flows)
{
    unsigned int n_threads = netdev_offload_thread_nb();
    struct offload_flow *f;

    ovs_mutex_lock(&offload_mutex);
    LIST_FOR_EACH (f, list_node, &flow_list) {
        if (f->netdev == netdev && f->rule && f->tid < n_threads) {
            n_flows[f->tid]++;
        }
    }
    ovs_mutex_unlock(&offload_mutex);
    return 0;
}

/* Meters.  OVS 3.1's userspace datapath does not call the flow API's
 * meter callbacks (only dpif-netlink does): ovs-vswitchd's hook on
 * dpif_meter_set/get/del() (vswitchd-plugin/ovs-hooks.c) calls them for
 * the "netdev" datapath, after OVS's own meter call succeeded. */

int
netdev_offload_esw_meter_set(ofproto_meter_id meter_id,
                             struct ofputil_meter_config *config)
{
    struct offload_meter *m;
    const char *name;

    ovs_mutex_lock(&offload_mutex);
    m = meter_find(meter_id.uint32);
    if (!m) {
        m = xzalloc(sizeof *m);
        m->id = meter_id.uint32;
        sset_init(&m->devices);
        hmap_insert(&meters, &m->node, hash_int(m->id, 0));
    }
    free(m->unsupported);
    m->unsupported = NULL;
    memset(&m->cfg, 0, sizeof m->cfg);
    m->cfg.pktps = (config->flags & OFPMF13_PKTPS) != 0;
    m->cfg.n_bands = config->n_bands;
    if (config->n_bands > ESW_MAX_METER_BANDS) {
        m->unsupported = xasprintf("%"PRIu16" bands, at most %d",
                                   config->n_bands, ESW_MAX_METER_BANDS);
    }
    for (size_t i = 0; i < config->n_bands && !m->unsupported; i++) {
        const struct ofputil_meter_band *b = &config->bands[i];

        if (b->type != OFPMBT13_DROP) {
            m->unsupported = xasprintf("band %"PRIuSIZE" does not drop", i);
        }
        m->cfg.bands[i].rate = b->rate;
        m->cfg.bands[i].burst = b->burst_size;
    }
    /* A new configuration restarts the meter in the devices too. */
    SSET_FOR_EACH (name, &m->devices) {
        struct esw_dev *dev = esw_dev_lookup(name);

        if (dev) {
            if (m->unsupported) {
                esw_meter_del(dev, m->id);
            } else {
                esw_meter_set(dev, m->id, &m->cfg, NULL);
            }
            esw_dev_close(dev);
        }
    }
    if (m->unsupported) {
        sset_clear(&m->devices);
    }
    ovs_mutex_unlock(&offload_mutex);
    return 0;
}

/* Adds what the devices counted for meter 'id' to 'stats'. */
static void
meter_add_stats(const struct offload_meter *m,
                struct ofputil_meter_stats *stats)
    OVS_REQUIRES(offload_mutex)
{
    const char *name;

    SSET_FOR_EACH (name, &m->devices) {
        struct esw_dev *dev = esw_dev_lookup(name);
        struct esw_meter_stats s;

        if (dev && !esw_meter_get_stats(dev, m->id, &s)) {
            stats->packet_in_count += s.packets;
            stats->byte_in_count += s.bytes;
            for (size_t i = 0; i < stats->n_bands
                               && i < ESW_MAX_METER_BANDS; i++) {
                stats->bands[i].packet_count += s.band_packets[i];
                stats->bands[i].byte_count += s.band_bytes[i];
            }
        }
        esw_dev_close(dev);
    }
}

int
netdev_offload_esw_meter_get(ofproto_meter_id meter_id,
                             struct ofputil_meter_stats *stats)
{
    struct offload_meter *m;

    ovs_mutex_lock(&offload_mutex);
    m = meter_find(meter_id.uint32);
    if (m && stats) {
        meter_add_stats(m, stats);
    }
    ovs_mutex_unlock(&offload_mutex);
    return m ? 0 : ENOENT;
}

int
netdev_offload_esw_meter_del(ofproto_meter_id meter_id,
                             struct ofputil_meter_stats *stats)
{
    struct offload_meter *m;
    const char *name;

    ovs_mutex_lock(&offload_mutex);
    m = meter_find(meter_id.uint32);
    if (m) {
        if (stats) {
            meter_add_stats(m, stats);
        }
        SSET_FOR_EACH (name, &m->devices) {
            struct esw_dev *dev = esw_dev_lookup(name);

            if (dev) {
                esw_meter_del(dev, m->id);
                esw_dev_close(dev);
            }
        }
        hmap_remove(&meters, &m->node);
        sset_destroy(&m->devices);
        free(m->unsupported);
        free(m);
    }
    ovs_mutex_unlock(&offload_mutex);
    return m ? 0 : ENOENT;
}

static const struct netdev_flow_api netdev_offload_esw = {
    .type = "esw",
    .flow_flush = offload_esw_flow_flush,
    .flow_put = offload_esw_flow_put,
    .flow_get = offload_esw_flow_get,
    .flow_del = offload_esw_flow_del,
    .flow_get_n_flows = offload_esw_flow_get_n_flows,
    .meter_set = netdev_offload_esw_meter_set,
    .meter_get = netdev_offload_esw_meter_get,
    .meter_del = netdev_offload_esw_meter_del,
    .init_flow_api = offload_esw_init_flow_api,
};

void offload_unixctl_register(void);

void
netdev_offload_esw_register(void)
{
    static bool registered;

    if (!registered) {
        const char *keep_polling = getenv("OVS_EXT_OFFLOAD_POLL");

        registered = true;
        netdev_register_flow_api_provider(&netdev_offload_esw);
        /* dpif-netdev's offload threads wake up when a flow arrives instead
         * of polling (vswitchd-plugin/ovs-patches/0001), unless
         * OVS_EXT_OFFLOAD_POLL keeps OVS 3.1's polling, for benchmarks. */
        dpif_netdev_set_offload_wake(!keep_polling || !keep_polling[0]
                                     || !strcmp(keep_polling, "0"));
        offload_unixctl_register();
    }
}

/* Takes away the flows of tunnel ports that left the datapath.  OVS
 * flushes a port's flows from the flow API when the port goes, but a
 * tunnel port's flow that a revalidator deletes or modifies around that
 * moment may reach the provider after the flush, or its deletion never
 * (dpif-netdev finds no port to hand it to): such a flow, and its rule,
 * would stay forever.  Checked at most every 100 ms, only while there
 * are tunnel flows. */
static void
sweep_tunnel_flows(void) OVS_REQUIRES(offload_mutex)
{
    static long long int next_sweep;
    long long int now = time_msec();
    struct offload_flow *f;

    if (!n_tunnel_flows || now < next_sweep) {
        return;
    }
    next_sweep = now + 100;
    LIST_FOR_EACH_SAFE (f, list_node, &flow_list) {
        struct netdev *netdev;

        if (!f->tun_port) {
            continue;
        }
        netdev = netdev_ports_get(u32_to_odp(f->tun_port),
                                  netdev_get_dpif_type(f->netdev));
        if (netdev != f->netdev) {
            struct esw_dev *dev = (f->dev ? esw_dev_lookup(esw_dev_name(f->dev))
                                   : NULL);
            bool had_rule = f->rule != NULL;

            counters.flushed++;
            flow_destroy(f);
            if (had_rule) {
                retry_full(dev);
            }
            esw_dev_close(dev);
        }
        netdev_close(netdev);
    }
}

void
netdev_offload_esw_set_ovs_config(const struct smap *other_config)
{
    bool enable = smap_get_bool(other_config, "hw-offload", false);
    unsigned long long int max_rules;
    struct offload_flow *f;

    max_rules = smap_get_ullong(other_config, "eswitch-max-rules", 0);
    eswitch_set_max_rules(MIN(max_rules, UINT32_MAX));

    ovs_mutex_lock(&offload_mutex);
    check_vlan_limit();
    sweep_tunnel_flows();
    if (enable != offload_enabled) {
        offload_enabled = enable;
        LIST_FOR_EACH (f, list_node, &flow_list) {
            if (!enable || f->reason == OFFLOAD_DISABLED) {
                struct esw_dev *dev = f->dev;
                bool had_rule = f->rule != NULL;

                if (enable) {
                    counters.retried++;
                }
                offload_try(f, !enable);
                if (had_rule && !f->rule && dev) {
                    retry_full(dev);
                }
            }
        }
    }
    ovs_mutex_unlock(&offload_mutex);
}

/* Diagnostics. */

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

void
netdev_offload_esw_dump_flows(struct ds *out, struct json *jflows)
{
    struct offload_flow *f;

    ovs_mutex_lock(&offload_mutex);
    LIST_FOR_EACH (f, list_node, &flow_list) {
        struct dpif_flow_stats stats;
        long long int now;

        fill_stats(f, &stats);
        now = MAX(time_msec(), stats.used);
        if (out) {
            dump_flow_text(f, &stats, now, out);
        }
        if (jflows) {
            json_array_add(jflows, dump_flow_json(f, &stats, now));
        }
    }
    ovs_mutex_unlock(&offload_mutex);
}

void
netdev_offload_esw_format_stats(struct ds *out, struct json *json)
{
    size_t n = 0, n_offloaded = 0;
    struct offload_flow *f;

    ovs_mutex_lock(&offload_mutex);
    LIST_FOR_EACH (f, list_node, &flow_list) {
        n++;
        n_offloaded += f->rule != NULL;
    }
    if (out) {
        size_t by_reason[OFFLOAD_N_REASONS] = { 0 };

        LIST_FOR_EACH (f, list_node, &flow_list) {
            by_reason[f->reason]++;
        }
        ds_put_format(out, "hw-offload: %s\n",
                      offload_enabled ? "enabled" : "disabled");
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
                      counters.puts, counters.new_flows, counters.modified,
                      counters.retried);
        ds_put_format(out, "  rules put in a device: %"PRIu64"\n",
                      counters.offloaded);
        for (int r = OFFLOAD_OK + 1; r < OFFLOAD_N_REASONS; r++) {
            ds_put_format(out, "  failed, %s: %"PRIu64"\n",
                          offload_reason_name(r), counters.failed[r]);
        }
        ds_put_format(out, "  flows deleted: %"PRIu64" (flushed %"PRIu64
                      ")\n", counters.flow_dels, counters.flushed);
        ds_put_format(out, "  rules taken out of a device: %"PRIu64"\n",
                      counters.rules_deleted);
    }
    if (json) {
        struct json *failed = json_object_create();

        json_object_put(json, "hw_offload",
                        json_boolean_create(offload_enabled));
        json_object_put(json, "flows", json_integer_create(n));
        json_object_put(json, "flows_offloaded",
                        json_integer_create(n_offloaded));
        json_object_put(json, "flows_in_software",
                        json_integer_create(n - n_offloaded));
        json_object_put(json, "attempted",
                        json_integer_create(counters.puts));
        json_object_put(json, "new", json_integer_create(counters.new_flows));
        json_object_put(json, "modified",
                        json_integer_create(counters.modified));
        json_object_put(json, "retried",
                        json_integer_create(counters.retried));
        json_object_put(json, "offloaded",
                        json_integer_create(counters.offloaded));
        for (int r = OFFLOAD_OK + 1; r < OFFLOAD_N_REASONS; r++) {
            json_object_put(failed, offload_reason_name(r),
                            json_integer_create(counters.failed[r]));
        }
        json_object_put(json, "failed", failed);
        json_object_put(json, "deleted",
                        json_integer_create(counters.flow_dels));
        json_object_put(json, "flushed",
                        json_integer_create(counters.flushed));
        json_object_put(json, "rules_removed",
                        json_integer_create(counters.rules_deleted));
    }
    ovs_mutex_unlock(&offload_mutex);
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
 * 'problems'. */
static void
check_device(struct esw_dev *dev, struct hmap *expected,
             struct svec *problems, size_t *n_rules)
    OVS_REQUIRES(offload_mutex)
{
    struct rule_list list = { NULL, 0, 0 };

    esw_rule_foreach(dev, collect_rule_cb, &list);
    *n_rules += list.n;
    for (size_t i = 0; i < list.n; i++) {
        struct check_rule *c = check_rule_find(expected, list.rules[i]);
        struct esw_rule_spec spec;

        if (!c) {
            svec_add_nocopy(problems, xasprintf("%s: rule without a flow",
                                                esw_dev_name(dev)));
            continue;
        }
        c->seen = true;
        esw_rule_get_spec(dev, list.rules[i], &spec);
        if (!spec_equals(&spec, &c->flow->spec)) {
            char *prefix = xasprintf("%s: flow ", esw_dev_name(dev));

            add_problem(problems, prefix, c->flow,
                        ": rule differs from the flow's translation");
            free(prefix);
        }
    }
    free(list.rules);
}

bool
netdev_offload_esw_check(struct ds *out, struct json *json)
{
    size_t n_flows = 0, n_offloaded = 0, n_rules = 0;
    struct svec problems = SVEC_EMPTY_INITIALIZER;
    const char *name;
    bool ok;

    ovs_mutex_lock(&offload_mutex);
    SSET_FOR_EACH (name, &devices) {
        struct esw_dev *dev = esw_dev_lookup(name);
        struct hmap expected = HMAP_INITIALIZER(&expected);
        struct check_rule *c;
        struct offload_flow *f;

        if (!dev) {
            continue;
        }
        LIST_FOR_EACH (f, list_node, &flow_list) {
            if (f->rule && f->dev == dev) {
                c = xzalloc(sizeof *c);
                c->flow = f;
                hmap_insert(&expected, &c->node, hash_pointer(f->rule, 0));
            }
        }

        check_device(dev, &expected, &problems, &n_rules);

        HMAP_FOR_EACH_POP (c, node, &expected) {
            if (!c->seen) {
                char *prefix = xasprintf("%s: flow ", name);

                add_problem(&problems, prefix, c->flow, " reported "
                            "offloaded but its rule is not in the device");
                free(prefix);
            }
            free(c);
        }
        hmap_destroy(&expected);
        esw_dev_close(dev);
    }

    struct offload_flow *f;
    LIST_FOR_EACH (f, list_node, &flow_list) {
        n_flows++;
        n_offloaded += f->rule != NULL;
        if ((f->rule != NULL) != (f->reason == OFFLOAD_OK)) {
            add_problem(&problems, "flow ", f, ": state and rule disagree");
        }
    }
    ovs_mutex_unlock(&offload_mutex);

    ok = !problems.n;
    if (out) {
        for (size_t i = 0; i < problems.n; i++) {
            ds_put_format(out, "%s\n", problems.names[i]);
        }
        ds_put_format(out, "%s: %"PRIuSIZE" flows, %"PRIuSIZE" offloaded, %"
                      PRIuSIZE" device rules\n",
                      ok ? "consistent" : "INCONSISTENT",
                      n_flows, n_offloaded, n_rules);
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
        json_object_put(json, "problems", jproblems);
    }
    svec_destroy(&problems);
    return ok;
}
