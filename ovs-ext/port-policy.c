/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Per-port VLAN and MAC security policy: application, guest MAC
 * mediation, held policies, status.  See port-policy.h. */

#include <config.h>

#include "port-policy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "netdev.h"
#include "netdev-provider.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/thread.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

#include "datapath/esw-emu.h"
#include "eswitch.h"
#include "function-json.h"
#include "port-policy-options.h"
#include "values.h"

VLOG_DEFINE_THIS_MODULE(port_policy);

/* How often the tap host sides' addresses are looked at, in ms. */
#define PORT_POLICY_POLL_MS 100

/* Guest MAC changes are logged at INFO, but a guest that keeps asking
 * cannot flood the log. */
static struct vlog_rate_limit guest_rl = VLOG_RATE_LIMIT_INIT(10, 60);

/* The functions that representors hold.
 * ======================================
 *
 * Which port holds which function, and whether the claim is held (its
 * port out of the bridge), is the eSwitch claims' business
 * (eswitch_function_port(), eswitch_list_claims()).  This module keeps,
 * per function that a representor holds, only what guest MAC mediation
 * needs. */

struct pp_fn {
    struct hmap_node node;      /* In 'pp_fns', by pp_fn_hash(). */
    struct eswitch *esw;
    uint32_t vport;

    bool polls_host_mac;        /* The host side has an address to watch. */
    struct esw_eth_addr host_mac;   /* Its value when last looked at. */
    char *refusal;              /* Reason of the last refusal, or NULL. */
};

/* Protects 'pp_fns' and the garbage collection state.  Taken before
 * eswitch.c's mutex (which the device and eswitch calls made under it may
 * take), never the other way. */
static struct ovs_mutex pp_mutex = OVS_MUTEX_INITIALIZER;
static struct hmap pp_fns OVS_GUARDED_BY(pp_mutex)
    = HMAP_INITIALIZER(&pp_fns);
static long long int pp_next_poll OVS_GUARDED_BY(pp_mutex);

/* The bridge's database (see port_policy_set_idl()); its seqno when the
 * held functions were last checked against it. */
static const struct ovsdb_idl *pp_idl;
static unsigned int pp_idl_seqno OVS_GUARDED_BY(pp_mutex);
static bool pp_gc_needed OVS_GUARDED_BY(pp_mutex);

void
port_policy_set_idl(const struct ovsdb_idl *idl)
{
    pp_idl = idl;
}

static uint32_t
pp_fn_hash(const struct esw_dev *dev, uint32_t vport)
{
    return hash_int(vport, hash_pointer(dev, 0));
}

static struct pp_fn *
pp_fn_find(const struct esw_dev *dev, uint32_t vport) OVS_REQUIRES(pp_mutex)
{
    struct pp_fn *p;

    HMAP_FOR_EACH_WITH_HASH (p, node, pp_fn_hash(dev, vport), &pp_fns) {
        if (eswitch_dev(p->esw) == dev && p->vport == vport) {
            return p;
        }
    }
    return NULL;
}

static void
pp_fn_remove(struct pp_fn *p) OVS_REQUIRES(pp_mutex)
{
    hmap_remove(&pp_fns, &p->node);
    free(p->refusal);
    free(p);
}

/* Whether 'p''s function is held by a port in a bridge (not held out of
 * it). */
static bool
pp_fn_is_bound(const struct pp_fn *p) OVS_REQUIRES(pp_mutex)
{
    bool held;

    return (eswitch_function_port(eswitch_dev(p->esw), p->vport, NULL, &held)
            && !held);
}

/* The name of function 'vport' of 'esw' in messages, "esw0/pf0vf1" as
 * eswitch/policy/show names it (or "esw0/vport 3" if it is gone). */
struct fn_name {
    char s[2 * ESW_NAME_MAX + sizeof "/vport 4294967295"];
};

static const char *
fn_name(const struct eswitch *esw, uint32_t vport, struct fn_name *name)
{
    struct esw_vport_info info;

    if (!esw_vport_get_info(eswitch_dev(esw), vport, &info)) {
        snprintf(name->s, sizeof name->s, "%s/%s", eswitch_name(esw),
                 info.name);
    } else {
        snprintf(name->s, sizeof name->s, "%s/vport %"PRIu32,
                 eswitch_name(esw), vport);
    }
    return name->s;
}

/* Takes everything the policy put into function 'vport' of 'esw' out of
 * the device: the policy and the guest's MAC.  (Rules that reference the
 * vport belong to the flow offload provider, which removes them with the
 * port's datapath flows.) */
static void
reset_function(const char *port_name, struct eswitch *esw, uint32_t vport)
{
    struct esw_dev *dev = eswitch_dev(esw);
    struct esw_error err;
    struct fn_name name;

    if (esw_vport_set_policy(dev, vport, NULL, &err)
        || esw_vport_guest_reset(dev, vport)) {
        /* Only if the function is already gone, which leaves nothing. */
        VLOG_DBG("%s: function %s not reset: %s", port_name,
                 fn_name(esw, vport, &name), err.reason);
    }
}

/* Garbage-collects function 'vport' of 'esw' that port 'port_name' held:
 * its policy and guest MAC go, and its claim is released. */
static void
drop_held(const char *port_name, struct eswitch *esw, uint32_t vport)
    OVS_REQUIRES(pp_mutex)
{
    struct pp_fn *p = pp_fn_find(eswitch_dev(esw), vport);

    if (p) {
        pp_fn_remove(p);
    }
    reset_function(port_name, esw, vport);
    eswitch_release(esw, vport);
}

int
port_policy_apply(struct eswitch *esw, uint32_t vport,
                  const struct esw_policy_config *cfg, char **errp)
{
    struct esw_error err;
    int error;

    error = esw_vport_set_policy(eswitch_dev(esw), vport, cfg, &err);
    if (error) {
        *errp = xasprintf("cannot apply the port policy: %s",
                          err.reason[0] ? err.reason : ovs_strerror(error));
    }
    return error;
}

/* Strips the "<function>: " prefix of a device error reason. */
static const char *
device_reason(const char *reason, const char *fn_name)
{
    size_t len = strlen(fn_name);

    return (!strncmp(reason, fn_name, len) && !strncmp(reason + len, ": ", 2)
            ? reason + len + 2 : reason);
}

/* Tells the representor that holds function 'vport' of 'dev', if it is in
 * a bridge, that its MAC or status changed. */
static void
notify_representor(const struct esw_dev *dev, uint32_t vport)
{
    struct netdev *netdev;
    char *port = NULL;
    bool held;

    if (eswitch_function_port(dev, vport, &port, &held) && !held) {
        netdev = netdev_from_name(port);
        if (netdev) {
            netdev_change_seq_changed(netdev);
            netdev_close(netdev);
        }
    }
    free(port);
}

/* The guest of function 'vport' of 'dev' (whose mediation state is 'p',
 * or NULL if no representor holds it) asks for 'mac'. */
static int
guest_request__(struct pp_fn *p, struct esw_dev *dev, uint32_t vport,
                const struct esw_eth_addr *mac, const char *source,
                char **reasonp) OVS_REQUIRES(pp_mutex)
{
    struct esw_vport_info info;
    struct esw_error err;
    const char *reason;
    char *port = NULL;
    const char *who;
    int error;

    error = esw_vport_get_info(dev, vport, &info);
    if (error) {
        return error;
    }
    eswitch_function_port(dev, vport, &port, NULL);
    who = port ? port : info.name;

    error = esw_vport_guest_set_mac(dev, vport, mac, &err);
    reason = device_reason(err.reason, info.name);
    if (!error) {
        if (p) {
            free(p->refusal);
            p->refusal = NULL;
        }
        notify_representor(dev, vport);         /* mac_in_use. */
        if (memcmp(&info.effective_mac, mac, sizeof *mac)) {
            VLOG_INFO_RL(&guest_rl, "%s: guest MAC change (%s) from "
                         ETH_ADDR_FMT" to "ETH_ADDR_FMT" accepted", who,
                         source, ESW_MAC_ARGS(&info.effective_mac),
                         ESW_MAC_ARGS(mac));
        }
    } else if (error == EPERM) {
        if (p) {
            free(p->refusal);
            p->refusal = xstrdup(reason);
        }
        notify_representor(dev, vport);         /* Status. */
        VLOG_INFO_RL(&guest_rl, "%s: guest MAC change (%s) from "
                     ETH_ADDR_FMT" to "ETH_ADDR_FMT" refused: %s", who,
                     source, ESW_MAC_ARGS(&info.effective_mac),
                     ESW_MAC_ARGS(mac), reason);
    }
    if (error && reasonp) {
        *reasonp = xstrdup(reason[0] ? reason : ovs_strerror(error));
    }
    free(port);
    return error;
}

int
port_policy_guest_request(struct esw_dev *dev, uint32_t vport,
                          const struct esw_eth_addr *mac, const char *source,
                          char **reasonp)
{
    int error;

    ovs_mutex_lock(&pp_mutex);
    error = guest_request__(pp_fn_find(dev, vport), dev, vport, mac, source,
                            reasonp);
    ovs_mutex_unlock(&pp_mutex);
    return error;
}

void
port_policy_bind(const char *port_name, struct eswitch *esw, uint32_t vport,
                 const struct esw_policy_config *cfg)
{
    struct esw_dev *dev = eswitch_dev(esw);
    struct eswitch_claim_info *held;
    struct esw_vport_info info;
    struct fn_name name;
    struct pp_fn *p;
    size_t n_held;

    ovs_mutex_lock(&pp_mutex);
    n_held = eswitch_list_claims(port_name, true, &held);
    for (size_t i = 0; i < n_held; i++) {
        if (held[i].esw == esw && held[i].vport == vport) {
            VLOG_DBG("%s: takes back function %s", port_name,
                     fn_name(esw, vport, &name));
            eswitch_claim_set_held(esw, vport, false);
        } else {
            /* The port came back for another function: the one it held
             * is garbage. */
            VLOG_DBG("%s: function %s no longer held", port_name,
                     fn_name(held[i].esw, held[i].vport, &name));
            drop_held(port_name, held[i].esw, held[i].vport);
        }
    }
    eswitch_claim_infos_destroy(held, n_held);

    p = pp_fn_find(dev, vport);
    if (!p) {
        p = xzalloc(sizeof *p);
        p->esw = esw;
        p->vport = vport;
        p->polls_host_mac = !esw_vport_get_host_mac(dev, vport,
                                                    &p->host_mac);
        hmap_insert(&pp_fns, &p->node, pp_fn_hash(dev, vport));
    }

    /* A port that becomes trusted gets what its guest asked for (the
     * only case where asking again can have another answer). */
    if (cfg && cfg->trust && esw_eth_addr_is_zero(&cfg->admin_mac)
        && !esw_vport_get_info(dev, vport, &info) && info.guest_mac_refused
        && !esw_eth_addr_is_zero(&info.guest_mac)) {
        guest_request__(p, dev, vport, &info.guest_mac, "now trusted", NULL);
    }
    ovs_mutex_unlock(&pp_mutex);
}

void
port_policy_unbind(const char *port_name, struct eswitch *esw,
                   uint32_t vport)
{
    struct pp_fn *p;

    ovs_mutex_lock(&pp_mutex);
    p = pp_fn_find(eswitch_dev(esw), vport);
    if (p) {
        pp_fn_remove(p);
    }
    ovs_mutex_unlock(&pp_mutex);
    reset_function(port_name, esw, vport);
}

void
port_policy_hold(const char *port_name, struct eswitch *esw, uint32_t vport,
                 const char *reason)
{
    struct fn_name name;

    ovs_mutex_lock(&pp_mutex);
    eswitch_claim_set_held(esw, vport, true);
    pp_gc_needed = true;
    /* INFO: the user's error is in the Interface's error column, and OVS
     * warns that it could not set the configuration. */
    VLOG_INFO("%s: new configuration refused%s%s%s: the port is out of the "
              "bridge until it is fixed, function %s keeps its previous "
              "policy", port_name, reason ? " (" : "", reason ? reason : "",
              reason ? ")" : "", fn_name(esw, vport, &name));
    ovs_mutex_unlock(&pp_mutex);
}

/* Status and diagnostics.
 * ======================= */

/* What the guest asked for, as "accepted" or "refused: REASON". */
static char *
guest_mac_change_state(const struct pp_fn *p,
                       const struct esw_vport_info *info)
    OVS_REQUIRES(pp_mutex)
{
    if (!info->guest_mac_refused) {
        return xstrdup("accepted");
    }
    return (p && p->refusal ? xasprintf("refused: %s", p->refusal)
            : xstrdup("refused"));
}

/* The policy of 'vport' of 'dev' as "key=value ..." (malloc'd): "none"
 * without a policy, "default" for one with only default values. */
static char *
policy_text(struct esw_dev *dev, uint32_t vport)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct esw_policy_config cfg;
    bool has_policy;

    if (esw_vport_get_policy(dev, vport, &cfg, &has_policy) || !has_policy) {
        ds_put_cstr(&s, "none");
    } else {
        port_policy_format_options(&cfg, &s);
        if (!s.length) {
            ds_put_cstr(&s, "default");
        }
    }
    return ds_steal_cstr(&s);
}

void
port_policy_get_status(const char *port_name OVS_UNUSED, struct esw_dev *dev,
                       uint32_t vport, struct smap *status)
{
    struct esw_vport_info info;
    struct pp_fn *p;

    if (esw_vport_get_info(dev, vport, &info)) {
        return;
    }
    if (info.has_policy) {
        smap_add_nocopy(status, xstrdup("policy"), policy_text(dev, vport));
    }
    if (!esw_eth_addr_is_zero(&info.guest_mac)) {
        ovs_mutex_lock(&pp_mutex);
        p = pp_fn_find(dev, vport);
        smap_add_format(status, "guest_mac", ETH_ADDR_FMT,
                        ESW_MAC_ARGS(&info.guest_mac));
        smap_add_nocopy(status, xstrdup("guest_mac_change"),
                        guest_mac_change_state(p, &info));
        ovs_mutex_unlock(&pp_mutex);
    }
}

struct rule_ref_aux {
    struct esw_dev *dev;
    uint32_t vport;
    size_t n;
};

static bool
count_rule_refs_cb(struct esw_rule *rule, void *aux_)
{
    struct rule_ref_aux *aux = aux_;
    struct esw_rule_spec spec;
    bool refs;

    esw_rule_get_spec(aux->dev, rule, &spec);
    refs = spec.mask.in_vport && spec.match.in_vport == aux->vport;
    for (size_t i = 0; i < spec.n_actions && !refs; i++) {
        refs = (spec.actions[i].type == ESW_ACTION_OUTPUT
                && spec.actions[i].vport == aux->vport);
    }
    aux->n += refs;
    return true;
}

/* Rules (in the table or orphaned) that match on or output to 'vport'. */
static size_t
count_rule_refs(struct esw_dev *dev, uint32_t vport)
{
    struct rule_ref_aux aux = { .dev = dev, .vport = vport };

    esw_rule_foreach(dev, count_rule_refs_cb, &aux);
    return aux.n;
}

int
port_policy_format(struct esw_dev *dev, uint32_t vport, struct ds *s,
                   struct json *json)
{
    static const enum esw_drop_reason reasons[] = {
        ESW_DROP_SPOOF, ESW_DROP_VLAN, ESW_DROP_NOT_FOR_ME, ESW_DROP_RATE,
        ESW_DROP_LINK_DOWN,
    };
    struct esw_vport_stats stats;
    struct esw_vport_info info;
    char *guest_state = NULL;
    char *port = NULL;
    bool held = false;
    size_t n_rules;

    if (esw_vport_get_info(dev, vport, &info)
        || esw_vport_get_stats(dev, vport, &stats)) {
        return ENOENT;
    }

    ovs_mutex_lock(&pp_mutex);
    if (!esw_eth_addr_is_zero(&info.guest_mac)) {
        guest_state = guest_mac_change_state(pp_fn_find(dev, vport), &info);
    }
    ovs_mutex_unlock(&pp_mutex);
    n_rules = count_rule_refs(dev, vport);

    if (s) {
        char *policy = policy_text(dev, vport);

        eswitch_function_port(dev, vport, &port, &held);
        ds_put_format(s, "function: %s/%s (vport %"PRIu32")\n",
                      esw_dev_name(dev), info.name, vport);
        if (!port) {
            ds_put_cstr(s, "port: none\n");
        } else if (held) {
            ds_put_format(s, "port: %s (out of the bridge: its new "
                          "configuration was refused, the previous policy "
                          "stays)\n", port);
        } else {
            ds_put_format(s, "port: %s\n", port);
        }
        ds_put_format(s, "policy: %s\n", policy);
        ds_put_format(s, "mac: default "ETH_ADDR_FMT", effective "
                      ETH_ADDR_FMT"\n", ESW_MAC_ARGS(&info.mac),
                      ESW_MAC_ARGS(&info.effective_mac));
        if (guest_state) {
            ds_put_format(s, "guest mac: "ETH_ADDR_FMT" (%s)\n",
                          ESW_MAC_ARGS(&info.guest_mac), guest_state);
        } else {
            ds_put_cstr(s, "guest mac: none\n");
        }
        ds_put_format(s, "guest mac changes refused: %"PRIu64"\n",
                      stats.guest_mac_refused);
        ds_put_format(s, "rules: %"PRIuSIZE"\n", n_rules);
        ds_put_cstr(s, "drops:");
        for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
            ds_put_format(s, "%s %s %"PRIu64, i ? "," : "",
                          esw_drop_reason_name(reasons[i]),
                          stats.drops[reasons[i]]);
        }
        ds_put_char(s, '\n');
        free(policy);
    }

    if (json) {
        struct json *drops = json_object_create();

        function_to_json(dev, vport, json);
        json_object_put(json, "guest_mac", (guest_state
                                            ? json_string_create_nocopy(
                                                xasprintf(ETH_ADDR_FMT,
                                                ESW_MAC_ARGS(&info.guest_mac)))
                                            : json_null_create()));
        json_object_put(json, "guest_mac_change",
                        (guest_state ? json_string_create(guest_state)
                         : json_null_create()));
        json_object_put(json, "guest_mac_changes_refused",
                        json_integer_create(stats.guest_mac_refused));
        json_object_put(json, "rules", json_integer_create(n_rules));
        for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
            json_object_put(drops, esw_drop_reason_name(reasons[i]),
                            json_integer_create(stats.drops[reasons[i]]));
        }
        json_object_put(json, "drops", drops);
    }
    free(guest_state);
    free(port);
    return 0;
}

/* Main loop.
 * ========== */

/* Looks at the host sides' addresses: a change is the guest asking for a
 * new MAC. */
static void
poll_host_macs(void) OVS_REQUIRES(pp_mutex)
{
    struct pp_fn *p;

    HMAP_FOR_EACH (p, node, &pp_fns) {
        struct esw_dev *dev = eswitch_dev(p->esw);
        struct esw_eth_addr mac;

        if (!p->polls_host_mac || !pp_fn_is_bound(p)
            || esw_vport_get_host_mac(dev, p->vport, &mac)
            || !memcmp(&mac, &p->host_mac, sizeof mac)) {
            continue;
        }
        p->host_mac = mac;
        guest_request__(p, dev, p->vport, &mac, "tap", NULL);
    }
}

static bool
is_rep_type(const char *type)
{
    return (!strcmp(type, "esw-pf") || !strcmp(type, "esw-vf")
            || !strcmp(type, "esw-virtio"));
}

/* Releases the held functions whose Interface is gone from the
 * database. */
static void
gc_held(void) OVS_REQUIRES(pp_mutex)
{
    const struct ovsrec_interface *iface;
    struct sset names = SSET_INITIALIZER(&names);
    struct eswitch_claim_info *held;
    size_t n_held;

    n_held = eswitch_list_claims(NULL, true, &held);
    if (n_held) {
        OVSREC_INTERFACE_FOR_EACH (iface, pp_idl) {
            if (is_rep_type(iface->type)) {
                sset_add(&names, iface->name);
            }
        }
    }
    for (size_t i = 0; i < n_held; i++) {
        if (!sset_contains(&names, held[i].port_name)) {
            struct fn_name name;

            VLOG_INFO("%s: interface deleted: function %s released and its "
                      "policy removed", held[i].port_name,
                      fn_name(held[i].esw, held[i].vport, &name));
            drop_held(held[i].port_name, held[i].esw, held[i].vport);
        }
    }
    eswitch_claim_infos_destroy(held, n_held);
    sset_destroy(&names);
}

void
port_policy_run(void)
{
    long long int now = time_msec();

    ovs_mutex_lock(&pp_mutex);
    if (now >= pp_next_poll) {
        pp_next_poll = now + PORT_POLICY_POLL_MS;
        poll_host_macs();
    }
    if (pp_idl
        && (pp_gc_needed || ovsdb_idl_get_seqno(pp_idl) != pp_idl_seqno)) {
        pp_gc_needed = false;
        pp_idl_seqno = ovsdb_idl_get_seqno(pp_idl);
        gc_held();
    }
    ovs_mutex_unlock(&pp_mutex);
}

void
port_policy_wait(void)
{
    struct pp_fn *p;

    ovs_mutex_lock(&pp_mutex);
    HMAP_FOR_EACH (p, node, &pp_fns) {
        if (p->polls_host_mac && pp_fn_is_bound(p)) {
            poll_timer_wait_until(pp_next_poll);
            break;
        }
    }
    if (pp_gc_needed) {
        poll_immediate_wake();
    }
    ovs_mutex_unlock(&pp_mutex);
}
