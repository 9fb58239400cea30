/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Flow offload provider "esw".  See netdev-offload-esw.h for the contract,
 * offload-xlate.c for the translation and offload-diag.c for the
 * diagnostics. */

#include <config.h>

#include "netdev-offload-esw.h"
#include "netdev-offload-esw-private.h"

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
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/list.h"
#include "openvswitch/match.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "ovs-rcu.h"
#include "openvswitch/poll-loop.h"
#include "ovs-thread.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

#include "datapath/esw.h"
#include "eswitch.h"
#include "netdev-esw.h"
#include "offload-xlate.h"
#include "values.h"

VLOG_DEFINE_THIS_MODULE(netdev_offload_esw);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(20, 100);

/* Guards all the provider's state, per netdev and global: a retry or a
 * configuration change moves the rules of flows of every netdev. */
static struct ovs_mutex offload_mutex = OVS_MUTEX_INITIALIZER;

/* Per-netdev offload state, on the netdev's 'hw_info.offload_data':
 * created by init_flow_api when the provider claims the netdev, destroyed
 * by uninit_flow_api when OVS destroys the netdev.  A flow is looked up in
 * its in_port's table only, as netdev-offload-dpdk does: dpif-netdev's
 * mega_ufid hashes the masked match, whose in_port is always exact, and
 * dpif-netdev flushes a port's flows before its number can be reused. */
struct offload_data {
    /* offload_flow's by hash of ufid.  A cmap, although only used under
     * 'offload_mutex': it keeps the hashes in its buckets, so that looking
     * up a new flow (every flow_put of one) reads two buckets and no flow,
     * where an hmap walks a chain of flows scattered over the heap, a cache
     * and TLB miss each (the largest single cost of flow_put with 100K
     * flows). */
    struct cmap flows OVS_GUARDED_BY(offload_mutex);
};

/* Every flow, of every netdev, oldest first: the order of retries (when
 * room frees up in a device, the oldest flow gets it) and of dumps. */
static struct ovs_list flow_list OVS_GUARDED_BY(offload_mutex)
    = OVS_LIST_INITIALIZER(&flow_list);
static struct offload_counters counters OVS_GUARDED_BY(offload_mutex);

/* When to try again the flows refused because their device was being
 * reset ('device_reset'), 0 if none was. */
static atomic_llong reset_retry_at = ATOMIC_VAR_INIT(0);
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

/* Returns 'netdev''s offload state: NULL only if this provider did not
 * claim 'netdev'. */
static struct offload_data *
offload_data_get(struct netdev *netdev)
{
    return ovsrcu_get(void *, &netdev->hw_info.offload_data);
}

static struct offload_flow *
flow_find(struct offload_data *data, const ovs_u128 *ufid)
    OVS_REQUIRES(offload_mutex)
{
    struct offload_flow *f;

    CMAP_FOR_EACH_WITH_HASH (f, node, ufid_hash(ufid), &data->flows) {
        if (ovs_u128_equals(f->ufid, *ufid)) {
            return f;
        }
    }
    return NULL;
}

/* Returns a copy of 'spec' without its unused action slots. */
static struct offload_spec *
offload_spec_create(const struct esw_rule_spec *spec)
{
    struct offload_spec *s;

    s = xmalloc(sizeof *s + spec->n_actions * sizeof *s->actions);
    s->match = spec->match;
    s->mask = spec->mask;
    s->priority = spec->priority;
    s->n_actions = spec->n_actions;
    memcpy(s->actions, spec->actions, spec->n_actions * sizeof *s->actions);
    return s;
}

void
offload_spec_expand(const struct offload_spec *s, struct esw_rule_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->match = s->match;
    spec->mask = s->mask;
    spec->priority = s->priority;
    spec->n_actions = s->n_actions;
    memcpy(spec->actions, s->actions, s->n_actions * sizeof *s->actions);
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
    free(f->spec);
    f->spec = NULL;
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
               struct ds *text, int *errorp) OVS_REQUIRES(offload_mutex)
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
            *errorp = error;
            return device_reason(dev, error, &err, text);
        }
        sset_add(&m->devices, esw_dev_name(dev));
    }
    return OFFLOAD_OK;
}

/* A rule a previous ovs-vswitchd left in a device we took over
 * (netdev_offload_esw_adopt()).  'stale_mutex' is a leaf lock. */
struct stale_rule {
    struct ovs_list node;
    struct esw_dev *dev;        /* A reference. */
    struct esw_rule *rule;
    struct esw_rule_spec spec;
};

static struct ovs_mutex stale_mutex = OVS_MUTEX_INITIALIZER;
static struct ovs_list stale_rules OVS_GUARDED_BY(stale_mutex)
    = OVS_LIST_INITIALIZER(&stale_rules);
static long long int stale_deadline OVS_GUARDED_BY(stale_mutex);
static size_t stale_kept OVS_GUARDED_BY(stale_mutex);
static size_t stale_replaced OVS_GUARDED_BY(stale_mutex);

static bool
collect_stale_cb(struct esw_rule *rule, void *aux)
{
    struct ovs_list *list = aux;
    struct stale_rule *sr = xzalloc(sizeof *sr);

    sr->rule = rule;
    ovs_list_push_back(list, &sr->node);
    return true;
}

size_t
netdev_offload_esw_adopt(struct esw_dev *dev)
{
    struct ovs_list list = OVS_LIST_INITIALIZER(&list);
    struct stale_rule *sr;
    size_t n;

    esw_rule_foreach(dev, collect_stale_cb, &list);
    n = ovs_list_size(&list);
    if (n) {
        /* Rules of ours are in it (eswitch/offload-check looks there). */
        ovs_mutex_lock(&offload_mutex);
        sset_add(&devices, esw_dev_name(dev));
        ovs_mutex_unlock(&offload_mutex);
    }
    ovs_mutex_lock(&stale_mutex);
    LIST_FOR_EACH_POP (sr, node, &list) {
        sr->dev = esw_dev_lookup(esw_dev_name(dev));
        esw_rule_get_spec(dev, sr->rule, &sr->spec);
        ovs_list_push_back(&stale_rules, &sr->node);
    }
    stale_deadline = time_msec() + NETDEV_OFFLOAD_ESW_STALE_MS;
    ovs_mutex_unlock(&stale_mutex);
    return n;
}

static bool
same_match(const struct esw_rule_spec *a, const struct esw_rule_spec *b)
{
    const uint8_t *am = (const uint8_t *) &a->match;
    const uint8_t *ak = (const uint8_t *) &a->mask;
    const uint8_t *bm = (const uint8_t *) &b->match;
    const uint8_t *bk = (const uint8_t *) &b->mask;

    if (a->priority != b->priority) {
        return false;
    }
    for (size_t i = 0; i < sizeof a->match; i++) {
        if (ak[i] != bk[i] || (am[i] & ak[i]) != (bm[i] & bk[i])) {
            return false;
        }
    }
    return true;
}

/* Gives a flow about to be offloaded on 'dev' with 'spec' the previous
 * incarnation's rule of the same match, if there is one: kept, or
 * modified to 'spec' (make-before-break).  Returns true and the rule in
 * '*rulep' then. */
static bool
stale_take(struct esw_dev *dev, const struct esw_rule_spec *spec,
           struct esw_rule **rulep)
{
    struct stale_rule *sr, *found = NULL;
    bool taken = false;

    ovs_mutex_lock(&stale_mutex);
    LIST_FOR_EACH (sr, node, &stale_rules) {
        if (sr->dev == dev && same_match(&sr->spec, spec)) {
            found = sr;
            ovs_list_remove(&sr->node);
            break;
        }
    }
    if (found) {
        if (found->spec.n_actions == spec->n_actions
            && !memcmp(found->spec.actions, spec->actions,
                       spec->n_actions * sizeof spec->actions[0])) {
            stale_kept++;
            taken = true;
        } else if (!esw_rule_modify(dev, found->rule, spec, NULL)) {
            stale_replaced++;
            taken = true;
        } else {
            esw_rule_del(dev, found->rule);
        }
        if (taken) {
            *rulep = found->rule;
        }
        esw_dev_close(found->dev);
        free(found);
    }
    ovs_mutex_unlock(&stale_mutex);
    return taken;
}

/* Removes the stale rules once their bound passed (not while
 * 'restore_wait'), logging once what reconciliation did. */
static void
stale_sweep(bool restore_wait)
{
    struct stale_rule *sr;
    size_t n = 0;

    ovs_mutex_lock(&stale_mutex);
    if (restore_wait) {
        stale_deadline = time_msec() + NETDEV_OFFLOAD_ESW_STALE_MS;
    } else if ((!ovs_list_is_empty(&stale_rules) || stale_kept
                || stale_replaced) && time_msec() >= stale_deadline) {
        LIST_FOR_EACH_POP (sr, node, &stale_rules) {
            esw_rule_del(sr->dev, sr->rule);
            esw_dev_close(sr->dev);
            free(sr);
            n++;
        }
        VLOG_INFO("reconciliation with the rules of the previous "
                  "ovs-vswitchd done: %"PRIuSIZE" kept, %"PRIuSIZE
                  " replaced by their re-created flows, %"PRIuSIZE
                  " removed (their flows were not re-created within "
                  "%d ms)", stale_kept, stale_replaced, n,
                  NETDEV_OFFLOAD_ESW_STALE_MS);
        stale_kept = stale_replaced = 0;
    }
    ovs_mutex_unlock(&stale_mutex);
}

bool
netdev_offload_esw_rule_is_previous(const struct esw_dev *dev,
                                    const struct esw_rule *rule)
{
    const struct stale_rule *sr;
    bool found = false;

    ovs_mutex_lock(&stale_mutex);
    LIST_FOR_EACH (sr, node, &stale_rules) {
        if (sr->dev == dev && sr->rule == rule) {
            found = true;
            break;
        }
    }
    ovs_mutex_unlock(&stale_mutex);
    return found;
}

void
netdev_offload_esw_wait(void)
{
    long long int at;

    atomic_read_relaxed(&reset_retry_at, &at);
    if (at) {
        poll_timer_wait_until(at);
    }
    ovs_mutex_lock(&stale_mutex);
    if (!ovs_list_is_empty(&stale_rules) || stale_kept || stale_replaced) {
        poll_timer_wait_until(stale_deadline);
    }
    ovs_mutex_unlock(&stale_mutex);
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
    int dev_error = 0;

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
            r = meters_prepare(f->dev, &spec, &text, &dev_error);
        }
        if (!r) {
            struct esw_error err;
            int error;

            /* esw_rule_add() and esw_rule_modify() validate: no
             * esw_rule_validate() first, which would take the device's
             * control lock once more and check the same things. */
            if (!f->rule) {
                error = (stale_take(f->dev, &spec, &f->rule) ? 0
                         : esw_rule_add(f->dev, &spec, &err, &f->rule));
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
                dev_error = error;
                r = device_reason(f->dev, error, &err, &text);
            } else {
                free(f->spec);
                f->spec = offload_spec_create(&spec);
                sset_add(&devices, esw_dev_name(f->dev));
            }
        }
    }

    f->device_reset = dev_error == EAGAIN;
    if (f->device_reset) {
        long long int at;

        atomic_read_relaxed(&reset_retry_at, &at);
        if (!at) {
            atomic_store_relaxed(&reset_retry_at, time_msec() + 1000);
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

/* Once a second while some flows were refused because their device was
 * being reset (a remote device whose daemon went away): tries them
 * again, so that they are offloaded once the device is back. */
static void
retry_reset_flows(void) OVS_REQUIRES(offload_mutex)
{
    struct offload_flow *f;
    long long int at;

    atomic_read_relaxed(&reset_retry_at, &at);
    if (!at || time_msec() < at) {
        return;
    }
    atomic_store_relaxed(&reset_retry_at, 0);
    LIST_FOR_EACH (f, list_node, &flow_list) {
        if (f->device_reset) {
            counters.retried++;
            offload_try(f, false);
        }
    }
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
    cmap_remove(&offload_data_get(f->netdev)->flows, &f->node,
                ufid_hash(&f->ufid));
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
    struct offload_data *data;

    if (!netdev_is_esw(netdev)
        && !netdev_vport_is_vport_class(netdev->netdev_class)) {
        return EOPNOTSUPP;
    }
    if (!offload_data_get(netdev)) {
        /* No other thread sees 'data' before ovsrcu_set(). */
        data = xmalloc(sizeof *data);
        cmap_init(&data->flows);
        ovsrcu_set(&netdev->hw_info.offload_data, data);
    }
    return 0;
}

/* Frees 'netdev''s offload state.  OVS calls this from netdev_unref() with
 * its netdev_mutex held, so it must not take offload_mutex (flow_destroy()
 * closes netdevs with offload_mutex held), and it need not: every flow holds
 * a reference to its netdev, so a netdev being destroyed has no flow left
 * and no one else can reach its state. */
static void
offload_esw_uninit_flow_api(struct netdev *netdev)
{
    struct offload_data *data = offload_data_get(netdev);

    if (data) {
        ovs_assert(cmap_is_empty(&data->flows));
        cmap_destroy(&data->flows);
        ovsrcu_set(&netdev->hw_info.offload_data, NULL);
        free(data);
    }
}

static int
offload_esw_flow_put(struct netdev *netdev, struct match *match,
                     struct nlattr *actions, size_t actions_len,
                     const ovs_u128 *ufid, struct offload_info *info,
                     struct dpif_flow_stats *stats)
{
    struct offload_data *data = offload_data_get(netdev);
    struct offload_flow *f;

    if (!data) {
        return EOPNOTSUPP;
    }
    ovs_mutex_lock(&offload_mutex);
    check_vlan_limit();
    counters.puts++;
    f = flow_find(data, ufid);
    if (!f) {
        f = xzalloc(sizeof *f);
        f->ufid = *ufid;
        f->netdev = netdev_ref(netdev);
        cmap_insert(&data->flows, &f->node, ufid_hash(ufid));
        ovs_list_push_back(&flow_list, &f->list_node);
        counters.new_flows++;
    } else {
        counters.modified++;
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
offload_esw_flow_get(struct netdev *netdev,
                     struct match *match OVS_UNUSED,
                     struct nlattr **actions OVS_UNUSED,
                     const ovs_u128 *ufid, struct dpif_flow_stats *stats,
                     struct dpif_flow_attrs *attrs,
                     struct ofpbuf *wbuffer OVS_UNUSED)
{
    struct offload_data *data = offload_data_get(netdev);
    struct offload_flow *f;
    int error = 0;

    if (!data) {
        return ENOENT;
    }
    ovs_mutex_lock(&offload_mutex);
    f = flow_find(data, ufid);
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
offload_esw_flow_del(struct netdev *netdev, const ovs_u128 *ufid,
                     struct dpif_flow_stats *stats)
{
    struct offload_data *data = offload_data_get(netdev);
    struct offload_flow *f;
    struct esw_dev *dev;
    int error = 0;

    if (!data) {
        return ENOENT;
    }
    ovs_mutex_lock(&offload_mutex);
    f = flow_find(data, ufid);
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
            for (size_t i = 0; i < f->spec->n_actions; i++) {
                if (f->spec->actions[i].type == ESW_ACTION_OUTPUT
                    && f->spec->actions[i].vport == vport) {
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
    struct offload_data *data = offload_data_get(netdev);
    struct offload_flow *f;

    if (!data) {
        return EOPNOTSUPP;
    }
    ovs_mutex_lock(&offload_mutex);
    CMAP_FOR_EACH (f, node, &data->flows) {
        if (f->rule && f->tid < n_threads) {
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
    .uninit_flow_api = offload_esw_uninit_flow_api,
};

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

/* Applies other_config:eswitch-max-conns (see the header).  A bad value
 * is logged once and changes nothing, as a bad eswitch layout. */
static void
set_max_conns(const struct smap *other_config)
{
    static char *last_error;
    const char *value = smap_get(other_config, "eswitch-max-conns");
    uint32_t max_conns = ESWITCH_CONNS_DEFAULT;
    char *error = NULL;

    if (value && value_parse_uint_arg("eswitch-max-conns", value, 0,
                                      ESWITCH_MAX_CONNS, &max_conns,
                                      &error)) {
        if (!last_error || strcmp(last_error, error)) {
            uint32_t kept = eswitch_get_max_conns();

            if (kept == ESWITCH_CONNS_DEFAULT) {
                VLOG_WARN("Open_vSwitch other_config: %s (keeping the "
                          "driver's default)", error);
            } else {
                VLOG_WARN("Open_vSwitch other_config: %s (keeping %"PRIu32
                          ")", error, kept);
            }
            free(last_error);
            last_error = error;
        } else {
            free(error);
        }
        return;
    }
    free(last_error);
    last_error = NULL;
    eswitch_set_max_conns(max_conns);
}

void
netdev_offload_esw_set_ovs_config(const struct smap *other_config)
{
    bool enable = smap_get_bool(other_config, "hw-offload", false);
    unsigned long long int max_rules;
    struct offload_flow *f;

    max_rules = smap_get_ullong(other_config, "eswitch-max-rules", 0);
    eswitch_set_max_rules(MIN(max_rules, UINT32_MAX));
    set_max_conns(other_config);

    stale_sweep(smap_get_bool(other_config, "flow-restore-wait", false));
    ovs_mutex_lock(&offload_mutex);
    check_vlan_limit();
    sweep_tunnel_flows();
    retry_reset_flows();
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

void
netdev_offload_esw_inspect(void (*cb)(const struct offload_esw_state *,
                                      void *aux),
                           void *aux)
{
    ovs_mutex_lock(&offload_mutex);
    struct offload_esw_state state = {
        .flows = &flow_list,
        .counters = &counters,
        .enabled = offload_enabled,
        .devices = &devices,
    };
    cb(&state, aux);
    ovs_mutex_unlock(&offload_mutex);
}

void
netdev_offload_esw_flow_stats(struct offload_flow *f,
                              struct dpif_flow_stats *stats)
    OVS_NO_THREAD_SAFETY_ANALYSIS
{
    /* Called from netdev_offload_esw_inspect()'s callback, under the
     * mutex, which clang cannot see through the callback. */
    fill_stats(f, stats);
}
