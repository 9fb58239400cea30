/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/eswitch-mgmt.c: management of the eSwitches' functions: the
 * configuration file, recovery state, hotplug, unplug, modify, list. */

#include <config.h>

#include "eswitch-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bitmap.h"
#include "dirs.h"
#include "eswitch-state.h"
#include "function-json.h"
#include "if-notifier.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "values.h"

/* Logs as module "eswitch" (see eswitch-private.h). */
#define this_module (*VLM_eswitch)

void
eswitch_set_mgmt_options(const char *config_file, const char *state_dir,
                         bool reset)
{
    free(eswitch_config_file);
    free(eswitch_state_dir);
    eswitch_config_file = config_file ? xstrdup(config_file) : NULL;
    eswitch_state_dir = state_dir ? xstrdup(state_dir) : NULL;
    eswitch_reset_state = reset;
}

/* Checks that no function of any eSwitch but function 'except' of 'esw'
 * (UINT32_MAX: none) has 'mac'. */
static int
check_mac_unique__(const struct eswitch *esw, const struct esw_eth_addr *mac,
                   uint32_t except, char **errp) OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch *other;
    int error = 0;

    HMAP_FOR_EACH (other, node, &eswitches) {
        size_t n;
        uint32_t *vports = eswitch_list_vports(other->dev, &n);

        for (size_t i = 0; i < n && !error; i++) {
            struct esw_vport_info info;

            if ((other != esw || vports[i] != except)
                && !esw_vport_get_info(other->dev, vports[i], &info)
                && !memcmp(&info.mac, mac, sizeof *mac)) {
                *errp = xasprintf("MAC "ETH_ADDR_FMT" is already used by "
                                  "function %s of eswitch %s",
                                  ESW_MAC_ARGS(mac), info.name, other->name);
                error = EEXIST;
            }
        }
        free(vports);
        if (error) {
            break;
        }
    }
    return error;
}

/* Recovery state.
 * =============== */

/* The recovery state of 'fn' of 'esw', whose device function is 'info'. */
static void
fn_state(const struct eswitch *esw, const struct eswitch_fn *fn,
         const struct esw_vport_info *info, struct eswitch_fn_state *st)
    OVS_REQUIRES(eswitch_mutex)
{
    struct esw_host_info host;

    esw_vport_get_host(esw->dev, info->vport, &host);
    memset(st, 0, sizeof *st);
    ovs_strlcpy(st->eswitch, esw->name, sizeof st->eswitch);
    ovs_strlcpy(st->function, info->name, sizeof st->function);
    st->kind = info->kind;
    st->pf = info->pf;
    st->fn = info->fn;
    st->hotplugged = fn->hotplugged;
    st->mac = info->mac;
    st->mtu = info->mtu;
    st->features = fn->features;
    st->queues = fn->queues;
    st->host_side = host.type;
    ovs_strlcpy(st->vhost_path, host.path, sizeof st->vhost_path);
    st->vhost_client = host.client;
    st->link_state = fn->link_state;
}

/* Saves the recovery state of 'fn' of 'esw'. */
static int
save_fn__(struct eswitch *esw, const struct eswitch_fn *fn, char **errp)
    OVS_REQUIRES(eswitch_mutex)
{
    struct esw_vport_info info;
    struct eswitch_fn_state st;
    int error;

    error = esw_vport_get_info(esw->dev, fn->vport, &info);
    if (error) {
        *errp = xasprintf("%s: vport %"PRIu32": %s", esw->name, fn->vport,
                          ovs_strerror(error));
        return error;
    }
    fn_state(esw, fn, &info, &st);
    return eswitch_state_save(eswitch_state_dir, &st, errp);
}

/* Brings up the eSwitches of the configuration file: all or none. */
static void
mgmt_apply_file__(bool explicit) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_file_config cfg;
    struct stat st;
    char *error = NULL;

    if (!explicit && lstat(eswitch_config_file, &st) && errno == ENOENT) {
        VLOG_DBG("no eswitch configuration file %s", eswitch_config_file);
        return;
    }
    if (eswitch_file_config_read(eswitch_config_file, &cfg, &error)) {
        VLOG_ERR("%s (the eswitches come from Open_vSwitch other_config "
                 "until the file is fixed and ovs-vswitchd restarted)",
                 error);
        free(error);
        return;
    }

    eswitch_file_config_destroy(&eswitch_file_cfg);
    eswitch_file_cfg = cfg;
    for (size_t i = 0; i < eswitch_file_cfg.n_pfs; i++) {
        const struct eswitch_pf_config *pfc = &eswitch_file_cfg.pfs[i];
        struct eswitch *esw = eswitch_lookup__(pfc->eswitch);

        if (!esw && !eswitch_create__(pfc->eswitch, pfc->pf, pfc, &esw,
                                      &error)) {
            continue;
        }
        if (esw) {
            error = xasprintf("eswitch %s exists already", pfc->eswitch);
        }
        VLOG_ERR("%s: pfs[%"PRIuSIZE"]: %s (none of the file's eswitches "
                 "is brought up; they come from Open_vSwitch other_config "
                 "until the file is fixed and ovs-vswitchd restarted)",
                 eswitch_config_file, i, error);
        free(error);
        /* Unwinds what this loop created, in reverse order. */
        for (size_t j = i; j-- > 0;) {
            struct eswitch *created
                = eswitch_lookup__(eswitch_file_cfg.pfs[j].eswitch);

            if (created) {
                created->pinned = false;
                eswitch_destroy_if_unused__(created);
            }
        }
        eswitch_file_config_destroy(&eswitch_file_cfg);
        eswitch_file_config_init(&eswitch_file_cfg);
        return;
    }
    if (eswitch_file_cfg.n_pfs) {
        VLOG_INFO("%s: %"PRIuSIZE" eswitches configured",
                  eswitch_config_file, eswitch_file_cfg.n_pfs);
    }
}

/* Restores one function from its recovery state. */
static int
mgmt_restore__(const struct eswitch_fn_state *st, char **errp)
    OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_fn_id id = { st->kind, st->pf, st->fn };
    char name[ESW_NAME_MAX];
    struct esw_vport_info info;
    struct eswitch_fn *fn;
    struct eswitch *esw;
    uint32_t vport;
    int error;

    eswitch_format_fn_name(&id, name);
    if (strcmp(name, st->function)) {
        *errp = xasprintf("function %s is not %s PF %"PRIu32" number %"
                          PRIu32, st->function, st->hotplugged ? "hotplugged"
                          : "static", st->pf, st->fn);
        return EINVAL;
    }
    error = eswitch_get__(st->eswitch, st->pf, &esw, errp);
    if (error) {
        return error;
    }
    if (st->hotplugged && esw->adopted
        && !esw_vport_lookup(esw->dev, name, &vport)) {
        /* The device outlived the previous ovs-vswitchd with this
         * function (DESIGN.md 3.2): it stays as it is. */
    } else if (st->hotplugged) {
        if (!esw_vport_lookup(esw->dev, name, &vport)) {
            *errp = xasprintf("function %s of eswitch %s exists already",
                              name, esw->name);
            error = EEXIST;
        }
        if (!error) {
            error = check_mac_unique__(esw, &st->mac, UINT32_MAX, errp);
        }
        if (!error) {
            struct eswitch_vhost_args vhost = { .path = st->vhost_path,
                                                .client = st->vhost_client,
                                                .features = st->features };

            error = eswitch_add_function(
                esw->dev, &id, &st->mac, st->mtu, st->queues, st->host_side,
                &vhost, (st->link_state == ESWITCH_LINK_AUTO ? esw->managed
                 : st->link_state == ESWITCH_LINK_UP), &vport, errp);
        }
    } else {
        if (esw_vport_lookup(esw->dev, name, &vport)) {
            *errp = xasprintf("eswitch %s has no static function %s any "
                              "more", esw->name, name);
            error = ENOENT;
        }
        if (!error) {
            error = check_mac_unique__(esw, &st->mac, vport, errp);
        }
        if (!error) {
            esw_vport_set_mac(esw->dev, vport, &st->mac);
            esw_vport_set_mtu(esw->dev, vport, st->mtu);
        }
    }
    if (error) {
        eswitch_destroy_if_unused__(esw);
        return error;
    }
    esw->pinned = true;
    esw_vport_get_info(esw->dev, vport, &info);
    fn = eswitch_fn_get__(esw, &info);
    if (fn->hotplugged != st->hotplugged) {
        /* A function beyond the layout of an eSwitch taken over is
         * hotplugged already (eswitch_create__()). */
        esw->n_hotplugged += st->hotplugged ? 1 : -1;
    }
    fn->hotplugged = st->hotplugged;
    fn->features = st->features;
    fn->queues = st->queues;
    fn->link_state = st->link_state;
    eswitch_set_link__(esw, vport,
                       eswitch_link_wanted__(esw, vport, esw->managed));
    return 0;
}

/* Brings up the configuration file's eSwitches and restores the recovery
 * state, once, at the first configuration (eswitch_set_ovs_config()). */
void
eswitch_mgmt_start__(void) OVS_REQUIRES(eswitch_mutex)
{
    bool explicit = eswitch_config_file != NULL;
    struct eswitch_fn_state *states;
    size_t n_states, n_errors, n_restored = 0;
    char **errors;

    if (!eswitch_config_file) {
        eswitch_config_file = xasprintf("%s/ovs-ext/eswitch.json",
                                        ovs_sysconfdir());
    }
    if (!eswitch_state_dir) {
        eswitch_state_dir = xasprintf("%s/ovs-ext/eswitch-state",
                                      ovs_dbdir());
    }

    if (eswitch_reset_state) {
        char *error = NULL;

        if (eswitch_state_reset(eswitch_state_dir, &error)) {
            VLOG_ERR("%s", error);
            free(error);
        } else {
            VLOG_INFO("%s: recovery state wiped (--eswitch-reset)",
                      eswitch_state_dir);
        }
    }

    mgmt_apply_file__(explicit);

    eswitch_state_load(eswitch_state_dir, &states, &n_states, &errors,
                       &n_errors);
    for (size_t i = 0; i < n_errors; i++) {
        VLOG_WARN("%s: recovery state skipped", errors[i]);
        free(errors[i]);
    }
    free(errors);
    for (size_t i = 0; i < n_states; i++) {
        char *error = NULL;

        if (mgmt_restore__(&states[i], &error)) {
            VLOG_WARN("%s/%s.%s.json: cannot restore: %s: recovery state "
                      "skipped", eswitch_state_dir, states[i].eswitch,
                      states[i].function, error);
            free(error);
        } else {
            n_restored++;
        }
    }
    free(states);
    if (n_states || n_errors) {
        VLOG_INFO("%s: restored %"PRIuSIZE" functions", eswitch_state_dir,
                  n_restored);
    }
}

/* List and query.
 * =============== */

/* A function described for list, query, hotplug and unplug --check: its
 * management members, known under the mutex, completed once it is
 * released by function_to_json() (which takes it). */
struct fn_desc {
    struct esw_dev *dev;        /* One reference. */
    uint32_t vport;
    struct json *json;
};

/* Starts describing function 'info' of 'esw': "pf", "number", "origin",
 * "features" and "queues" (virtio only) and "link_state" (auto, up,
 * down). */
static void
fn_desc_start__(struct eswitch *esw, const struct esw_vport_info *info,
                struct fn_desc *d) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_fn_id id = { info->kind, info->pf, info->fn };
    const struct eswitch_fn *fn = eswitch_fn_find__(esw, info->vport);
    struct eswitch_fn defaults;

    if (!fn) {
        eswitch_fn_defaults__(&id, &defaults);
        fn = &defaults;
    }
    d->dev = esw_dev_lookup(esw->name);
    d->vport = info->vport;
    d->json = json_object_create();
    json_object_put(d->json, "pf", json_integer_create(info->pf));
    json_object_put(d->json, "number", json_integer_create(info->fn));
    json_object_put_string(d->json, "origin",
                           fn->hotplugged ? "hotplug" : "static");
    if (eswitch_fn_is_virtio(&id)) {
        json_object_put_format(d->json, "features", "0x%"PRIx64,
                               fn->features);
        json_object_put(d->json, "queues", json_integer_create(fn->queues));
    }
    json_object_put_string(d->json, "link_state",
                           eswitch_link_state_to_string(fn->link_state));
}

/* Completes 'd' with function_to_json() and returns its JSON. */
static struct json *
fn_desc_finish(struct fn_desc *d) OVS_EXCLUDED(eswitch_mutex)
{
    function_to_json(d->dev, d->vport, d->json);
    esw_dev_close(d->dev);
    return d->json;
}

struct json *
eswitch_mgmt_list(void)
{
    struct json *functions = json_array_create_empty();
    struct json *reply = json_object_create();
    size_t n_descs = 0, allocated = 0;
    struct fn_desc *descs = NULL;
    struct eswitch **list;
    size_t n;

    ovs_mutex_lock(&eswitch_mutex);
    n = eswitch_sorted__(&list);
    for (size_t i = 0; i < n; i++) {
        size_t n_vports;
        uint32_t *vports = eswitch_list_vports(list[i]->dev, &n_vports);

        for (size_t j = 0; j < n_vports; j++) {
            struct esw_vport_info info;

            if (!esw_vport_get_info(list[i]->dev, vports[j], &info)) {
                if (n_descs >= allocated) {
                    descs = x2nrealloc(descs, &allocated, sizeof *descs);
                }
                fn_desc_start__(list[i], &info, &descs[n_descs++]);
            }
        }
        free(vports);
    }
    free(list);
    ovs_mutex_unlock(&eswitch_mutex);

    for (size_t i = 0; i < n_descs; i++) {
        json_array_add(functions, fn_desc_finish(&descs[i]));
    }
    free(descs);
    json_object_put(reply, "functions", functions);
    return reply;
}

int
eswitch_mgmt_query(const char *spec, struct json **replyp, char **errp)
{
    struct esw_vport_info info;
    struct eswitch *esw;
    struct fn_desc d;
    uint32_t vport;
    int error;

    ovs_mutex_lock(&eswitch_mutex);
    error = eswitch_resolve_spec__(spec, &esw, &vport, errp);
    if (!error) {
        error = esw_vport_get_info(esw->dev, vport, &info);
        if (error) {
            *errp = xasprintf("%s: %s", spec, ovs_strerror(error));
        } else {
            fn_desc_start__(esw, &info, &d);
        }
    }
    ovs_mutex_unlock(&eswitch_mutex);
    if (!error) {
        *replyp = fn_desc_finish(&d);
    }
    return error;
}

struct json *
eswitch_mgmt_config(void)
{
    struct json *json = json_object_create();

    ovs_mutex_lock(&eswitch_mutex);
    json_object_put_string(json, "config_file",
                           eswitch_config_file ? eswitch_config_file : "");
    json_object_put_string(json, "state_dir",
                           eswitch_state_dir ? eswitch_state_dir : "");
    json_object_put(json, "configured_pfs",
                    json_integer_create(eswitch_file_cfg.n_pfs));
    json_object_put_format(json, "virtio_features", "0x%"PRIx64,
                           eswitch_file_cfg.virtio_features);
    json_object_put(json, "virtio_queues",
                    json_integer_create(eswitch_file_cfg.virtio_queues));
    json_object_put(json, "virtio_mtu",
                    json_integer_create(eswitch_file_cfg.virtio_mtu));
    json_object_put_format(json, "sf_pool", "%"PRIu32"-%"PRIu32,
                           eswitch_file_cfg.sf_first,
                           eswitch_file_cfg.sf_last);
    ovs_mutex_unlock(&eswitch_mutex);
    return json;
}

/* Hotplug, unplug, modify.
 * ======================== */

/* Lowest free number for a new function of 'kind' in 'esw'. */
static int
alloc_fn_number__(struct eswitch *esw, enum esw_vport_kind kind,
                  uint32_t *fnp, char **errp) OVS_REQUIRES(eswitch_mutex)
{
    uint32_t first = kind == ESW_VPORT_VF ? 0 : eswitch_file_cfg.sf_first;
    uint32_t last = (kind == ESW_VPORT_VF ? ESWITCH_MAX_VFS - 1
                     : eswitch_file_cfg.sf_last);
    size_t n_bits = last - first + 1;
    unsigned long *used = bitmap_allocate(n_bits);
    size_t n, free_bit;
    uint32_t *vports = eswitch_list_vports(esw->dev, &n);
    int error = 0;

    for (size_t i = 0; i < n; i++) {
        struct esw_vport_info info;

        if (!esw_vport_get_info(esw->dev, vports[i], &info)
            && info.kind == kind && info.fn >= first && info.fn <= last) {
            bitmap_set1(used, info.fn - first);
        }
    }
    free(vports);
    free_bit = bitmap_scan(used, 0, 0, n_bits);
    if (free_bit >= n_bits) {
        *errp = xasprintf("eswitch %s has no free %s number (%"PRIu32
                          "..%"PRIu32" are taken)", esw->name,
                          kind == ESW_VPORT_VF ? "VF" : "virtio SF",
                          first, last);
        error = ENOSPC;
    } else {
        *fnp = first + free_bit;
    }
    bitmap_free(used);
    return error;
}

/* The eSwitch a hotplug goes to (see struct eswitch_hotplug_args). */
static int
hotplug_eswitch__(const struct eswitch_hotplug_args *a, struct eswitch **eswp,
                  char **errp) OVS_REQUIRES(eswitch_mutex)
{
    if (a->eswitch) {
        /* A management command creates no eSwitch by name: a typo would
         * make one with the MACs of another. */
        struct eswitch *esw = eswitch_lookup__(a->eswitch);

        if (!esw) {
            *errp = eswitch_no_such__(a->eswitch);
            return ENOENT;
        }
        if (a->has_pf && esw->pf != a->pf) {
            *errp = xasprintf("eswitch %s serves PF %"PRIu32", not PF %"
                              PRIu32, esw->name, esw->pf, a->pf);
            return EINVAL;
        }
        *eswp = esw;
        return 0;
    } else {
        const struct eswitch_pf_config *pfc = eswitch_file_pf__(a->pf);
        char name[ESW_NAME_MAX];

        if (pfc) {
            ovs_strlcpy(name, pfc->eswitch, sizeof name);
        } else {
            eswitch_default_name(a->pf, name);
        }
        return eswitch_get__(name, a->pf, eswp, errp);
    }
}

int
eswitch_hotplug(const struct eswitch_hotplug_args *a,
                char fn_name[ESW_NAME_MAX], char **errp)
{
    bool virtio = a->kind == ESW_VPORT_SF;
    struct eswitch_fn_id id = { .kind = a->kind };
    struct esw_eth_addr mac;
    struct eswitch_fn *fn;
    struct esw_vport_info info;
    struct eswitch_vhost_args vhost;
    struct eswitch *esw;
    uint32_t vport, mtu, queues;
    uint64_t features;
    char *vhost_path;
    int error;

    if (!virtio && (a->queues || a->has_features || a->vhost_path)) {
        *errp = xasprintf("--%s applies only to virtio devices",
                          a->queues ? "queues"
                          : a->has_features ? "features" : "vhost-user");
        return EINVAL;
    }
    if (a->vhost_client && !a->vhost_path) {
        *errp = xstrdup("--client needs --vhost-user PATH");
        return EINVAL;
    }
    if (a->vhost_path && a->vhost_path[0] != '/'
        && (!a->vhost_path[0] || strchr(a->vhost_path, '/')
            || !strcmp(a->vhost_path, ".") || !strcmp(a->vhost_path, ".."))) {
        *errp = value_invalid("--vhost-user", a->vhost_path,
                              "an absolute path or a file name (in the "
                              "socket directory)");
        return EINVAL;
    }
    if (a->has_mac && eswitch_check_fn_mac(&a->mac, errp)) {
        return EINVAL;
    }

    ovs_mutex_lock(&eswitch_mutex);
    if (!eswitch_mgmt_started) {
        *errp = xstrdup("ovs-vswitchd has not read its configuration yet: "
                        "try again");
        error = EAGAIN;
        goto out;
    }
    features = (a->has_features ? a->features
                : eswitch_file_cfg.virtio_features);
    if (a->vhost_path) {
        struct esw_error err;

        error = esw_vhost_check_features(features, &err);
        if (error) {
            *errp = xasprintf("invalid --features: %s", err.reason);
            goto out;
        }
    }
    error = hotplug_eswitch__(a, &esw, errp);
    if (error) {
        goto out;
    }

    id.pf = esw->pf;
    error = alloc_fn_number__(esw, a->kind, &id.fn, errp);
    if (error) {
        goto undo;
    }
    mac = a->has_mac ? a->mac : eswitch_default_mac(id.kind, id.pf, id.fn);
    error = check_mac_unique__(esw, &mac, UINT32_MAX, errp);
    if (error) {
        if (!a->has_mac) {
            char *e = *errp;

            *errp = xasprintf("%s: choose one with --mac", e);
            free(e);
        }
        goto undo;
    }
    mtu = (a->mtu ? a->mtu
           : virtio ? eswitch_file_cfg.virtio_mtu : 1500);
    queues = (!virtio ? 0
              : a->queues ? a->queues : eswitch_file_cfg.virtio_queues);
    vhost_path = (!a->vhost_path || a->vhost_path[0] == '/'
                  ? nullable_xstrdup(a->vhost_path)
                  : xasprintf("%s/%s", eswitch_vhost_dir ? eswitch_vhost_dir
                              : ovs_rundir(), a->vhost_path));
    vhost = (struct eswitch_vhost_args) { .path = vhost_path,
                                          .client = a->vhost_client,
                                          .features = features };
    error = eswitch_add_function(esw->dev, &id, &mac, mtu, queues,
                                 (a->vhost_path ? ESW_IO_VHOST_USER
                                  : eswitch_fn_io_type__(&id, esw->io_type,
                                                         esw->vhost_user)),
                                 &vhost, esw->managed, &vport, errp);
    free(vhost_path);
    if (error) {
        goto undo;
    }
    esw_vport_get_info(esw->dev, vport, &info);
    fn = eswitch_fn_get__(esw, &info);
    fn->hotplugged = true;
    esw->n_hotplugged++;
    if (virtio) {
        fn->queues = queues;
        fn->features = features;
    }
    error = save_fn__(esw, fn, errp);
    if (error) {
        esw_vport_del(esw->dev, vport);
        eswitch_fn_remove__(esw, fn);
        goto undo;
    }
    esw->pinned = true;
    ovs_strlcpy(fn_name, info.name, ESW_NAME_MAX);
    VLOG_INFO("%s: hotplugged %s %s (vport %"PRIu32", MAC "ETH_ADDR_FMT")",
              esw->name, virtio ? "virtio-net device" : "VF", info.name,
              vport, ESW_MAC_ARGS(&mac));
    ovs_mutex_unlock(&eswitch_mutex);

    /* Ports that wait for this function get retried. */
    if_notifier_manual_report();
    return 0;

undo:
    eswitch_destroy_if_unused__(esw);
out:
    ovs_mutex_unlock(&eswitch_mutex);
    return error;
}

/* Resolves 'spec' to a function that can be unplugged, but for its port:
 * a hotplugged one. */
static int
unplug_check__(const char *spec, struct eswitch **eswp, uint32_t *vportp,
               struct esw_vport_info *info, char **errp)
    OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch_fn *fn;
    int error;

    error = eswitch_resolve_spec__(spec, eswp, vportp, errp);
    if (error) {
        return error;
    }
    error = esw_vport_get_info((*eswp)->dev, *vportp, info);
    if (error) {
        *errp = xasprintf("%s: %s", spec, ovs_strerror(error));
        return error;
    }
    fn = eswitch_fn_find__(*eswp, *vportp);
    if (!fn || !fn->hotplugged) {
        *errp = xasprintf("%s is a static function of eswitch %s: only "
                          "hotplugged functions can be unplugged", info->name,
                          (*eswp)->name);
        return EINVAL;
    }
    return 0;
}

int
eswitch_unplug_check(const char *spec, struct json **replyp, char **errp)
{
    struct esw_vport_info info;
    struct eswitch *esw;
    uint32_t vport;
    int error;

    struct fn_desc d;

    ovs_mutex_lock(&eswitch_mutex);
    error = unplug_check__(spec, &esw, &vport, &info, errp);
    if (!error) {
        fn_desc_start__(esw, &info, &d);
    }
    ovs_mutex_unlock(&eswitch_mutex);
    if (!error) {
        *replyp = fn_desc_finish(&d);
    }
    return error;
}

int
eswitch_unplug(const char *spec, char **errp)
{
    const struct eswitch_claim *claim;
    struct esw_vport_info info;
    struct eswitch *esw;
    uint32_t vport;
    int error;

    ovs_mutex_lock(&eswitch_mutex);
    error = unplug_check__(spec, &esw, &vport, &info, errp);
    if (error) {
        goto out;
    }
    claim = eswitch_claim_find__(esw, vport);
    if (claim) {
        *errp = xasprintf("%s is in use by port %s: remove the port first "
                          "or unplug with --force", info.name,
                          claim->port_name);
        error = EBUSY;
        goto out;
    }
    error = eswitch_state_remove(eswitch_state_dir, esw->name, info.name,
                                 errp);
    if (error) {
        goto out;
    }
    esw_vport_del(esw->dev, vport);
    eswitch_fn_remove__(esw, eswitch_fn_find__(esw, vport));
    VLOG_INFO("%s: unplugged %s", esw->name, info.name);
out:
    ovs_mutex_unlock(&eswitch_mutex);
    return error;
}

/* Checks what eswitch_modify() is asked to do to function 'info' of
 * 'esw' before anything changes. */
static int
modify_check__(struct eswitch *esw, const struct esw_vport_info *info,
               const struct eswitch_modify_args *a, char **errp)
    OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_fn_id id = { info->kind, info->pf, info->fn };
    const struct eswitch_claim *claim;
    int error;

    if (!eswitch_fn_is_virtio(&id) && (a->queues || a->has_features)) {
        *errp = xasprintf("--%s applies only to virtio devices, and %s is "
                          "%s", a->queues ? "queues" : "features", info->name,
                          eswitch_kind_to_string(info->kind, info->fn));
        return EINVAL;
    }
    if (a->queues || a->has_features) {
        struct esw_host_info host;

        if (!esw_vport_get_host(esw->dev, info->vport, &host)
            && host.type == ESW_IO_VHOST_USER) {
            /* They are what the socket offers the guest. */
            *errp = xasprintf("the %s of %s cannot change: its vhost-user "
                              "host side offers them; unplug it and hotplug "
                              "it again", a->queues ? "queues" : "features",
                              info->name);
            return EBUSY;
        }
    }
    claim = eswitch_claim_find__(esw, info->vport);
    if (a->queues && eswitch_rep_queues(a->queues) != info->n_rep_queues
        && claim) {
        /* OVS polls the representor's queues: they cannot change under
         * it. */
        *errp = xasprintf("%s is in use by port %s: remove the port first "
                          "to change its queues", info->name,
                          claim->port_name);
        return EBUSY;
    }
    if (a->has_mac) {
        error = eswitch_check_fn_mac(&a->mac, errp);
        if (!error) {
            error = check_mac_unique__(esw, &a->mac, info->vport, errp);
        }
        return error;
    }
    return 0;
}

int
eswitch_modify(const char *spec, const struct eswitch_modify_args *a,
               char **errp)
{
    struct esw_vport_info info, new_info;
    struct eswitch_fn *fn, new_fn;
    struct eswitch_fn_state st;
    struct eswitch *esw;
    uint32_t vport;
    bool had_fn;
    int error;

    ovs_mutex_lock(&eswitch_mutex);
    error = eswitch_resolve_spec__(spec, &esw, &vport, errp);
    if (error) {
        goto out;
    }
    esw_vport_get_info(esw->dev, vport, &info);
    error = modify_check__(esw, &info, a, errp);
    if (error) {
        goto out;
    }

    /* The new state is saved first: a change that cannot be persisted is
     * not made (and the previous state is put back if the device refuses
     * it after all). */
    had_fn = eswitch_fn_find__(esw, vport) != NULL;
    fn = eswitch_fn_get__(esw, &info);
    new_fn = *fn;
    if (a->queues) {
        new_fn.queues = a->queues;
    }
    if (a->has_features) {
        new_fn.features = a->features;
    }
    if (a->has_link_state) {
        new_fn.link_state = a->link_state;
    }
    new_info = info;
    if (a->has_mac) {
        new_info.mac = a->mac;
    }
    if (a->mtu) {
        new_info.mtu = a->mtu;
    }
    fn_state(esw, &new_fn, &new_info, &st);
    error = eswitch_state_save(eswitch_state_dir, &st, errp);
    if (error) {
        goto undo_fn;
    }

    if (a->queues) {
        struct esw_error err;

        error = esw_vport_set_rep_queues(esw->dev, vport,
                                         eswitch_rep_queues(a->queues), &err);
        if (error) {
            *errp = xasprintf("%s: %s", info.name, err.reason);
            goto undo_state;
        }
    }
    if (a->has_mac) {
        error = esw_vport_set_mac(esw->dev, vport, &a->mac);
    }
    if (!error && a->mtu) {
        error = esw_vport_set_mtu(esw->dev, vport, a->mtu);
    }
    if (error) {
        *errp = xasprintf("%s: %s", info.name, ovs_strerror(error));
        goto undo_device;
    }
    esw->pinned = true;
    fn->queues = new_fn.queues;
    fn->features = new_fn.features;
    fn->link_state = new_fn.link_state;
    if (a->has_link_state) {
        eswitch_set_link__(esw, vport,
                           eswitch_link_wanted__(esw, vport, esw->managed));
    }
    VLOG_INFO("%s: modified %s", esw->name, info.name);
    goto out;

undo_device:
    if (a->queues) {
        struct esw_error err;

        esw_vport_set_rep_queues(esw->dev, vport, info.n_rep_queues, &err);
    }
    if (a->has_mac) {
        esw_vport_set_mac(esw->dev, vport, &info.mac);
    }
undo_state:
    {
        char *error2 = NULL;

        if (had_fn) {
            fn_state(esw, fn, &info, &st);
        }
        if (had_fn
            ? eswitch_state_save(eswitch_state_dir, &st, &error2)
            : eswitch_state_remove(eswitch_state_dir, esw->name, info.name,
                                   &error2)) {
            VLOG_WARN("%s", error2);
            free(error2);
        }
    }
undo_fn:
    if (!had_fn) {
        eswitch_fn_remove__(esw, fn);
    }
out:
    ovs_mutex_unlock(&eswitch_mutex);
    return error;
}
