/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>

#include "eswitch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "echo-arg.h"
#include "eswitch-config.h"
#include "eswitch-dpdk.h"
#include "eswitch-state.h"
#include "hash.h"
#include "bitmap.h"
#include "dirs.h"
#include "if-notifier.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/thread.h"
#include "openvswitch/vlog.h"
#include "port-policy.h"
#include "seq.h"
#include "smap.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(eswitch);

/* Uplink options and their defaults. */
#define ESWITCH_DEFAULT_VFS 4
#define ESWITCH_DEFAULT_SFS 0
#define ESWITCH_MAX_SFS     ESWITCH_MAX_STATIC_SFS

/* Vport numbers of every eSwitch device: room for the static functions
 * and well over 1,000 hotplugged ones. */
#define ESWITCH_MAX_VPORTS  2048

/* The functions every eSwitch has, from Open_vSwitch other_config. */
struct eswitch_layout {
    uint32_t n_vfs;
    uint32_t n_sfs;             /* virtio-net devices on SFs 1000... */
    enum eswitch_host_io host_io;
};

/* A claim of one function by one port. */
struct eswitch_claim {
    struct hmap_node node;      /* In eswitch->claims, by vport. */
    uint32_t vport;
    char *port_name;
};

/* Protects 'eswitches' and every eSwitch's fields. */
static struct ovs_mutex eswitch_mutex = OVS_MUTEX_INITIALIZER;
static struct hmap eswitches OVS_GUARDED_BY(eswitch_mutex)
    = HMAP_INITIALIZER(&eswitches);

static void eswitch_destroy_if_unused(struct eswitch *)
    OVS_REQUIRES(eswitch_mutex);

struct seq *
eswitch_link_seq(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;
    static struct seq *link_seq;

    if (ovsthread_once_start(&once)) {
        link_seq = seq_create();
        ovsthread_once_done(&once);
    }
    return link_seq;
}

static void mgmt_start(void) OVS_REQUIRES(eswitch_mutex);

/* Function names.
 * =============== */

static bool
parse_uint(const char *s, uint32_t *valuep, const char **endp)
{
    uint64_t v = 0;
    const char *p = s;

    while (*p >= '0' && *p <= '9' && p - s < 9) {
        v = v * 10 + (*p++ - '0');
    }
    if (p == s || (*p >= '0' && *p <= '9')) {
        return false;
    }
    *valuep = v;
    *endp = p;
    return true;
}

bool
eswitch_parse_fn_name(const char *name, struct eswitch_fn_id *id)
{
    const char *p;
    uint32_t pf, fn;

    if (name[0] == 'p' && parse_uint(name + 1, &pf, &p) && !*p) {
        *id = (struct eswitch_fn_id) { ESW_VPORT_UPLINK, pf, 0 };
        return true;
    }
    if (strncmp(name, "pf", 2) || !parse_uint(name + 2, &pf, &p)) {
        return false;
    }
    if (!strcmp(p, "hpf")) {
        *id = (struct eswitch_fn_id) { ESW_VPORT_PF, pf, 0 };
        return true;
    } else if (!strncmp(p, "vf", 2) && parse_uint(p + 2, &fn, &p) && !*p) {
        *id = (struct eswitch_fn_id) { ESW_VPORT_VF, pf, fn };
        return true;
    } else if (!strncmp(p, "sf", 2) && parse_uint(p + 2, &fn, &p) && !*p) {
        *id = (struct eswitch_fn_id) { ESW_VPORT_SF, pf, fn };
        return true;
    }
    return false;
}

void
eswitch_format_fn_name(const struct eswitch_fn_id *id,
                       char buf[ESW_NAME_MAX])
{
    switch (id->kind) {
    case ESW_VPORT_UPLINK:
        snprintf(buf, ESW_NAME_MAX, "p%"PRIu32, id->pf);
        break;
    case ESW_VPORT_PF:
        snprintf(buf, ESW_NAME_MAX, "pf%"PRIu32"hpf", id->pf);
        break;
    case ESW_VPORT_VF:
        snprintf(buf, ESW_NAME_MAX, "pf%"PRIu32"vf%"PRIu32, id->pf, id->fn);
        break;
    case ESW_VPORT_SF:
        snprintf(buf, ESW_NAME_MAX, "pf%"PRIu32"sf%"PRIu32, id->pf, id->fn);
        break;
    default:
        OVS_NOT_REACHED();
    }
}

void
eswitch_default_name(uint32_t pf, char buf[ESW_NAME_MAX])
{
    snprintf(buf, ESW_NAME_MAX, "esw%"PRIu32, pf);
}

/* What users call each kind, in messages. */
static const char *
kind_noun(enum esw_vport_kind kind)
{
    switch (kind) {
    case ESW_VPORT_UPLINK: return "an uplink";
    case ESW_VPORT_PF: return "a host PF";
    case ESW_VPORT_VF: return "a VF";
    case ESW_VPORT_SF: return "an SF";
    default: OVS_NOT_REACHED();
    }
}

/* Option parsing.
 * =============== */

/* Parses 'value' of option 'key' as an integer in [min, max]. */
static int
parse_option_uint(const char *key, const char *value, uint32_t min,
                  uint32_t max, uint32_t *out, char **errp)
{
    const char *end;
    uint32_t v;

    if (!parse_uint(value, &v, &end) || *end || v < min || v > max) {
        struct echo_buf b;

        *errp = xasprintf("invalid %s \"%s\": expected an integer "
                          "between %"PRIu32" and %"PRIu32,
                          key, echo_arg(value, &b), min, max);
        return EINVAL;
    }
    *out = v;
    return 0;
}

static int
parse_esw_name(const char *value, char name[ESW_NAME_MAX], char **errp)
{
    size_t len = strlen(value);

    if (!len || len >= ESW_NAME_MAX
        || strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-_") != len) {
        struct echo_buf b;

        *errp = xasprintf("invalid eswitch \"%s\": expected up to %d "
                          "lowercase letters, digits, '-' or '_'",
                          echo_arg(value, &b), ESW_NAME_MAX - 1);
        return EINVAL;
    }
    ovs_strlcpy(name, value, ESW_NAME_MAX);
    return 0;
}

/* Refuses any option of 'options' not in the NULL-terminated 'known'. */
static int
check_known_options(const char *port_name, const struct smap *options,
                    const char *const known[], char **errp)
{
    struct smap_node *node;

    SMAP_FOR_EACH (node, options) {
        const char *const *k;

        for (k = known; *k; k++) {
            if (!strcmp(node->key, *k)) {
                break;
            }
        }
        if (!*k) {
            struct ds list = DS_EMPTY_INITIALIZER;
            struct echo_buf b;

            for (k = known; *k; k++) {
                ds_put_format(&list, "%s%s", k == known ? "" : ", ", *k);
            }
            *errp = xasprintf("%s: unknown option \"%s\" (known: %s)",
                              port_name, echo_arg(node->key, &b),
                              ds_cstr(&list));
            ds_destroy(&list);
            return EINVAL;
        }
    }
    return 0;
}

int
eswitch_resolve_port(const char *port_name, enum esw_vport_kind kind,
                     const struct smap *options, char esw_name[ESW_NAME_MAX],
                     struct eswitch_fn_id *id, char **errp)
{
    static const char *const uplink_options[] = {
        "eswitch", "pf", NULL
    };
    /* Representors also take the port policy options (port-policy.h). */
    const char *rep_options[4 + PORT_POLICY_N_OPTIONS + 1] = {
        "eswitch", "pf", "vf", "sf"
    };
    const char *fn_key = (kind == ESW_VPORT_VF ? "vf"
                          : kind == ESW_VPORT_SF ? "sf" : NULL);
    const char *value;
    bool named;
    int error;

    memcpy(&rep_options[4], port_policy_option_names,
           sizeof port_policy_option_names);
    error = check_known_options(port_name, options,
                                (kind == ESW_VPORT_UPLINK
                                 ? uplink_options : rep_options), errp);
    if (error) {
        return error;
    }
    if (kind != ESW_VPORT_VF && smap_get(options, "vf")) {
        *errp = xasprintf("%s: option \"vf\" applies only to type esw-vf",
                          port_name);
        return EINVAL;
    }
    if (kind != ESW_VPORT_SF && smap_get(options, "sf")) {
        *errp = xasprintf("%s: option \"sf\" applies only to type "
                          "esw-virtio", port_name);
        return EINVAL;
    }

    /* The name gives defaults for everything. */
    named = eswitch_parse_fn_name(port_name, id);
    if (named && id->kind != kind) {
        if (!smap_get(options, "pf") && !(fn_key && smap_get(options,
                                                             fn_key))) {
            *errp = xasprintf("%s names %s function, not %s: set the type "
                              "that matches the name or identify the "
                              "function with options", port_name,
                              kind_noun(id->kind), kind_noun(kind));
            return EINVAL;
        }
        named = false;
    }
    if (!named) {
        *id = (struct eswitch_fn_id) { .kind = kind };
    }

    value = smap_get(options, "pf");
    if (value) {
        error = parse_option_uint("pf", value, 0, 7, &id->pf, errp);
        if (error) {
            return error;
        }
    } else if (!named) {
        *errp = xasprintf("%s: cannot tell which function this port is: "
                          "name it %s or set options:pf%s", port_name,
                          (kind == ESW_VPORT_UPLINK ? "p<N>"
                           : kind == ESW_VPORT_PF ? "pf<N>hpf"
                           : kind == ESW_VPORT_VF ? "pf<N>vf<M>"
                           : "pf<N>sf<M>"),
                          fn_key ? (kind == ESW_VPORT_VF ? " and options:vf"
                                    : " and options:sf") : "");
        return EINVAL;
    }

    if (fn_key) {
        value = smap_get(options, fn_key);
        if (value) {
            error = parse_option_uint(fn_key, value,
                                      kind == ESW_VPORT_SF
                                      ? ESW_SF_VIRTIO_MIN : 0,
                                      kind == ESW_VPORT_SF ? 65535 : 1023,
                                      &id->fn, errp);
            if (error) {
                return error;
            }
        } else if (!named) {
            *errp = xasprintf("%s: cannot tell which function this port is:"
                              " set options:%s", port_name, fn_key);
            return EINVAL;
        }
        if (kind == ESW_VPORT_SF && id->fn < ESW_SF_VIRTIO_MIN) {
            *errp = xasprintf("%s: virtio-net devices use SF numbers "
                              "%d and up, not %"PRIu32, port_name,
                              ESW_SF_VIRTIO_MIN, id->fn);
            return EINVAL;
        }
    }

    value = smap_get(options, "eswitch");
    if (value) {
        return parse_esw_name(value, esw_name, errp);
    }
    eswitch_default_name(id->pf, esw_name);
    return 0;
}

/* The layout every eSwitch gets, from Open_vSwitch other_config. */
/* Rule capacity of eSwitches created from now on (0: driver default);
 * see eswitch_set_max_rules(). */
static uint32_t eswitch_max_rules OVS_GUARDED_BY(eswitch_mutex);

/* Whether eSwitches created from now on spin on their host sides instead
 * of sleeping (other_config:eswitch-busy-poll, for benchmarks). */
static bool eswitch_busy_poll OVS_GUARDED_BY(eswitch_mutex);

static struct eswitch_layout ovs_layout OVS_GUARDED_BY(eswitch_mutex) = {
    .n_vfs = ESWITCH_DEFAULT_VFS,
    .n_sfs = ESWITCH_DEFAULT_SFS,
    .host_io = ESWITCH_IO_AUTO,
};

static int
parse_ovs_layout(const struct smap *other_config,
                 struct eswitch_layout *layout, char **errp)
{
    const char *value;
    int error;

    memset(layout, 0, sizeof *layout);
    layout->n_vfs = ESWITCH_DEFAULT_VFS;
    value = smap_get(other_config, "eswitch-vfs");
    if (value) {
        error = parse_option_uint("eswitch-vfs", value, 0, ESWITCH_MAX_VFS,
                                  &layout->n_vfs, errp);
        if (error) {
            return error;
        }
    }
    layout->n_sfs = ESWITCH_DEFAULT_SFS;
    value = smap_get(other_config, "eswitch-sfs");
    if (value) {
        error = parse_option_uint("eswitch-sfs", value, 0, ESWITCH_MAX_SFS,
                                  &layout->n_sfs, errp);
        if (error) {
            return error;
        }
    }

    value = smap_get_def(other_config, "eswitch-host-io", "auto");
    if (!strcmp(value, "auto")) {
        layout->host_io = ESWITCH_IO_AUTO;
    } else if (!strcmp(value, "tap")) {
        layout->host_io = ESWITCH_IO_TAP;
    } else if (!strcmp(value, "capture")) {
        layout->host_io = ESWITCH_IO_CAPTURE;
    } else if (!strcmp(value, "vhost-user")) {
        layout->host_io = ESWITCH_IO_VHOST_USER;
    } else {
        struct echo_buf b;

        *errp = xasprintf("invalid eswitch-host-io \"%s\": expected auto, "
                          "tap, capture or vhost-user", echo_arg(value, &b));
        return EINVAL;
    }
    return 0;
}

/* Functions of a layout.
 * ====================== */

/* Stores in 'ids' (up to 'max') every function that an eSwitch serving PF
 * 'pf' has with 'layout', uplink first, and returns how many. */
static size_t
layout_functions(const struct eswitch_layout *layout, uint32_t pf,
                 struct eswitch_fn_id ids[], size_t max)
{
    size_t n = 0;

#define ADD_FN(KIND, FN)                                        \
    if (n < max) {                                              \
        ids[n++] = (struct eswitch_fn_id) { KIND, pf, FN };     \
    }
    ADD_FN(ESW_VPORT_UPLINK, 0);
    ADD_FN(ESW_VPORT_PF, 0);
    for (uint32_t i = 0; i < layout->n_vfs; i++) {
        ADD_FN(ESW_VPORT_VF, i);
    }
    for (uint32_t i = 0; i < layout->n_sfs; i++) {
        ADD_FN(ESW_VPORT_SF, ESW_SF_VIRTIO_MIN + i);
    }
#undef ADD_FN
    return n;
}

#define MAX_FUNCTIONS (2 + ESWITCH_MAX_VFS + ESWITCH_MAX_SFS)

/* Locally administered default MAC of a function: 02:65:PF:KIND:FN. */
static struct esw_eth_addr
default_mac(const struct eswitch_fn_id *id)
{
    return eswitch_default_mac(id->kind, id->pf, id->fn);
}

/* The representor queues of a function with 'queues' virtio-net queue
 * pairs (0: not a virtio-net device): one per queue pair, up to
 * ESW_MAX_REP_QUEUES. */
static uint32_t
rep_queues(uint32_t queues)
{
    return MIN(MAX(queues, 1), ESW_MAX_REP_QUEUES);
}

/* Directory of vhost-user sockets (other_config:eswitch-vhost-dir, default
 * OVS's run directory): default sockets are "<eswitch>-<function>.sock"
 * there, and relative --vhost-user names are in it. */
static char *vhost_dir OVS_GUARDED_BY(eswitch_mutex);

/* A vhost-user host side for add_function(). */
struct vhost_args {
    const char *path;           /* NULL: the default path. */
    bool client;
    uint64_t features;          /* Virtio-net features to offer. */
};

/* Adds function 'id' to 'dev' with 'mac' (NULL: its default MAC), 'mtu'
 * (0: 1500) and 'queues' virtio-net queue pairs (0: not virtio), with a
 * host side of 'io_type' ('vhost' for vhost-user: NULL for the default
 * socket and features).  Stores its vport number in '*vportp' (may be
 * NULL). */
static int
add_function(struct esw_dev *dev, const struct eswitch_fn_id *id,
             const struct esw_eth_addr *mac, uint32_t mtu, uint32_t queues,
             enum esw_io_type io_type, const struct vhost_args *vhost,
             bool link_up, uint32_t *vportp, char **errp)
    OVS_REQUIRES(eswitch_mutex)
{
    struct esw_vport_config cfg;
    struct esw_error err;
    char name[ESW_NAME_MAX];
    int error;

    if (io_type == ESW_IO_VHOST_USER) {
        char *dpdk_error = NULL;

        if (eswitch_dpdk_init(&dpdk_error)) {
            eswitch_format_fn_name(id, name);
            *errp = xasprintf("%s: cannot add function %s: %s",
                              esw_dev_name(dev), name, dpdk_error);
            free(dpdk_error);
            return ENODEV;
        }
    }

    memset(&cfg, 0, sizeof cfg);
    cfg.kind = id->kind;
    cfg.pf = id->pf;
    cfg.fn = id->fn;
    cfg.vport = ESW_VPORT_AUTO;
    cfg.mac = mac ? *mac : default_mac(id);
    cfg.mtu = mtu;
    cfg.admin_down = !link_up;
    cfg.n_rep_queues = rep_queues(queues);
    cfg.io.type = io_type;
    if (io_type == ESW_IO_VHOST_USER) {
        char *path;

        eswitch_format_fn_name(id, name);
        path = (vhost && vhost->path ? xstrdup(vhost->path)
                : xasprintf("%s/%s-%s.sock", vhost_dir ? vhost_dir
                            : ovs_rundir(), esw_dev_name(dev), name));
        if (strlen(path) >= sizeof cfg.io.path) {
            *errp = xasprintf("%s: cannot add function %s: vhost-user socket "
                              "path %s is longer than %d bytes",
                              esw_dev_name(dev), name, path,
                              ESW_PATH_MAX - 1);
            free(path);
            return EINVAL;
        }
        ovs_strlcpy(cfg.io.path, path, sizeof cfg.io.path);
        free(path);
        cfg.io.client = vhost && vhost->client;
        cfg.io.virtio_features = (vhost ? vhost->features
                                  : ESWITCH_DEFAULT_FEATURES);
        cfg.io.n_queues = MAX(queues, 1);
    }

    error = esw_vport_add(dev, &cfg, &err, vportp);
    if (error) {
        const char *reason = err.reason[0] ? err.reason : ovs_strerror(error);
        size_t len;

        eswitch_format_fn_name(id, name);
        len = strlen(name);
        if (!strncmp(reason, name, len) && !strncmp(reason + len, ": ", 2)) {
            reason += len + 2;      /* The device's reason names it too. */
        }
        *errp = xasprintf("%s: cannot add function %s: %s", esw_dev_name(dev),
                          name, reason);
    }
    return error;
}

/* Every vport number of 'dev', in increasing order (malloc'd, '*np' of
 * them). */
static uint32_t *
list_vports(struct esw_dev *dev, size_t *np)
{
    size_t max = 64;

    for (;;) {
        uint32_t *vports = xmalloc(max * sizeof *vports);
        size_t n = esw_vport_list(dev, vports, max);

        if (n <= max) {
            *np = n;
            return vports;
        }
        free(vports);
        max = n;
    }
}

/* eSwitch instances.
 * ================== */

/* What the management plane (ovs-eswitchctl, the configuration file,
 * recovery) knows of a function beyond what the device models. */
struct eswitch_fn {
    struct hmap_node node;      /* In eswitch->fns, by vport. */
    uint32_t vport;
    struct eswitch_fn_id id;
    bool hotplugged;            /* Else a static function. */
    uint64_t features;          /* Virtio-net feature bits. */
    uint32_t queues;            /* Virtio-net queue pairs. */
    enum eswitch_link_state link_state;
};

struct eswitch {
    struct hmap_node node;      /* In 'eswitches', by name. */
    char name[ESW_NAME_MAX];
    uint32_t pf;                /* The PF it serves. */
    struct esw_dev *dev;        /* One reference. */
    struct eswitch_layout layout;   /* What it was last laid out with. */
    enum esw_io_type io_type;   /* What the host-io setting resolved to. */
    bool vhost_user;            /* Virtio-net functions get vhost-user
                                 * host sides (eswitch-host-io). */
    char uplink_name[ESW_NAME_MAX];  /* Its uplink port's name. */
    bool managed;               /* The uplink port exists. */
    struct hmap claims;         /* Contains "struct eswitch_claim"s. */

    /* Management. */
    const struct eswitch_pf_config *pfc;  /* In 'file_cfg', or NULL if the
                                           * layout is other_config's. */
    bool pinned;                /* Stays without ports: it comes from the
                                 * configuration file or was managed. */
    struct hmap fns;            /* Contains "struct eswitch_fn"s. */
    size_t n_hotplugged;        /* Hotplugged functions in 'fns'. */
};

/* The configuration file and recovery state (see eswitch_set_mgmt_options()
 * in eswitch.h). */
static char *config_file_name;
static char *state_dir;
static bool reset_state;
static bool mgmt_started OVS_GUARDED_BY(eswitch_mutex);
static struct eswitch_file_config file_cfg OVS_GUARDED_BY(eswitch_mutex) = {
    .virtio_features = ESWITCH_DEFAULT_FEATURES,
    .virtio_queues = 1,
    .virtio_mtu = 1500,
    .sf_first = ESW_SF_VIRTIO_MIN,
    .sf_last = ESWITCH_MAX_SF,
    .default_host_io = ESWITCH_IO_AUTO,
};

static struct eswitch *
eswitch_lookup__(const char *name) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch *esw;

    HMAP_FOR_EACH_WITH_HASH (esw, node, hash_string(name, 0), &eswitches) {
        if (!strcmp(esw->name, name)) {
            return esw;
        }
    }
    return NULL;
}

static struct eswitch_claim *
find_claim(const struct eswitch *esw, uint32_t vport)
    OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_claim *claim;

    HMAP_FOR_EACH_WITH_HASH (claim, node, hash_int(vport, 0), &esw->claims) {
        if (claim->vport == vport) {
            return claim;
        }
    }
    return NULL;
}

static void
add_claim(struct eswitch *esw, uint32_t vport, const char *port_name)
    OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_claim *claim = xmalloc(sizeof *claim);

    claim->vport = vport;
    claim->port_name = xstrdup(port_name);
    hmap_insert(&esw->claims, &claim->node, hash_int(vport, 0));
}

static void
remove_claim(struct eswitch *esw, struct eswitch_claim *claim)
    OVS_REQUIRES(eswitch_mutex)
{
    hmap_remove(&esw->claims, &claim->node);
    free(claim->port_name);
    free(claim);
}

static struct eswitch_fn *
find_fn(const struct eswitch *esw, uint32_t vport) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_fn *fn;

    HMAP_FOR_EACH_WITH_HASH (fn, node, hash_int(vport, 0), &esw->fns) {
        if (fn->vport == vport) {
            return fn;
        }
    }
    return NULL;
}

static bool
is_virtio(const struct eswitch_fn_id *id)
{
    return id->kind == ESW_VPORT_SF && id->fn >= ESW_SF_VIRTIO_MIN;
}

/* The queue pairs of function 'id' until it has a record of its own. */
static uint32_t
default_queues(const struct eswitch_fn_id *id) OVS_REQUIRES(eswitch_mutex)
{
    return is_virtio(id) ? file_cfg.virtio_queues : 0;
}

/* The virtio-net defaults of functions that have no record. */
static void
fn_defaults(const struct eswitch_fn_id *id, struct eswitch_fn *fn)
    OVS_REQUIRES(eswitch_mutex)
{
    memset(fn, 0, sizeof *fn);
    fn->id = *id;
    fn->features = is_virtio(id) ? file_cfg.virtio_features : 0;
    fn->queues = default_queues(id);
    fn->link_state = ESWITCH_LINK_AUTO;
}

/* Returns the record of 'vport' (with 'info'), created if needed. */
static struct eswitch_fn *
get_fn(struct eswitch *esw, const struct esw_vport_info *info)
    OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_fn *fn = find_fn(esw, info->vport);

    if (!fn) {
        struct eswitch_fn_id id = { info->kind, info->pf, info->fn };

        fn = xmalloc(sizeof *fn);
        fn_defaults(&id, fn);
        fn->vport = info->vport;
        hmap_insert(&esw->fns, &fn->node, hash_int(fn->vport, 0));
    }
    return fn;
}

static void
remove_fn(struct eswitch *esw, struct eswitch_fn *fn)
    OVS_REQUIRES(eswitch_mutex)
{
    if (fn->hotplugged) {
        esw->n_hotplugged--;
    }
    hmap_remove(&esw->fns, &fn->node);
    free(fn);
}

/* Whether 'vport' of 'esw' has its link up while the eSwitch is (or is
 * not, per 'managed') managed. */
static bool
link_wanted(const struct eswitch *esw, uint32_t vport, bool managed)
    OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch_fn *fn = find_fn(esw, vport);

    return (fn && fn->link_state != ESWITCH_LINK_AUTO
            ? fn->link_state == ESWITCH_LINK_UP : managed);
}

/* Functions' links are up only while the eSwitch has its manager (unless
 * forced with "ovs-eswitchctl modify --link-state"). */
/* Sets the administrative link state of 'vport' and tells the
 * representors (eswitch_link_seq()): the uplink's state also moves every
 * function whose link state is "auto". */
static void
set_link(struct eswitch *esw, uint32_t vport, bool up)
    OVS_REQUIRES(eswitch_mutex)
{
    esw_vport_set_admin_state(esw->dev, vport, up);
    seq_change(eswitch_link_seq());
}

static void
set_all_links(struct eswitch *esw, bool up) OVS_REQUIRES(eswitch_mutex)
{
    size_t n;
    uint32_t *vports = list_vports(esw->dev, &n);

    for (size_t i = 0; i < n; i++) {
        set_link(esw, vports[i], link_wanted(esw, vports[i], up));
    }
    free(vports);
}

/* The MAC of static function 'id' of an eSwitch configured by 'pfc'
 * (NULL: its default MAC). */
static bool
static_mac(const struct eswitch_pf_config *pfc, const struct eswitch_fn_id *id,
           struct esw_eth_addr *mac)
{
    if (!pfc) {
        return false;
    }
    if (id->kind == ESW_VPORT_UPLINK) {
        *mac = pfc->uplink_mac;
        return pfc->has_uplink_mac;
    }
    if (pfc->has_mac_base) {
        uint64_t v = 0;

        for (int i = 0; i < 6; i++) {
            v = (v << 8) | pfc->mac_base.ea[i];
        }
        v += id->kind == ESW_VPORT_VF ? 1 + id->fn : 0;
        for (int i = 5; i >= 0; i--) {
            mac->ea[i] = v & 0xff;
            v >>= 8;
        }
        return true;
    }
    return false;
}

/* Host side of function 'id' of an eSwitch whose host sides resolved to
 * 'esw_io', and whose virtio-net functions get vhost-user host sides if
 * 'vhost_user'.  Only virtio-net functions can have one: for the others
 * "vhost-user" means "auto". */
static enum esw_io_type
fn_io_type(const struct eswitch_fn_id *id, enum esw_io_type esw_io,
           bool vhost_user) OVS_REQUIRES(eswitch_mutex)
{
    char name[ESW_NAME_MAX];

    eswitch_format_fn_name(id, name);
    for (size_t i = 0; i < file_cfg.n_io_overrides; i++) {
        const struct eswitch_io_override *o = &file_cfg.io_overrides[i];

        if (!strcmp(o->function, name) && o->host_io != ESWITCH_IO_AUTO) {
            if (o->host_io == ESWITCH_IO_VHOST_USER) {
                return is_virtio(id) ? ESW_IO_VHOST_USER : esw_io;
            }
            return o->host_io == ESWITCH_IO_TAP ? ESW_IO_TAP : ESW_IO_CAPTURE;
        }
    }
    return vhost_user && is_virtio(id) ? ESW_IO_VHOST_USER : esw_io;
}

/* Creates eSwitch 'name' serving PF 'pf' with the functions of its layout:
 * the configuration file's 'pfc' if nonnull, else other_config's. */
static int
eswitch_create(const char *name, uint32_t pf,
               const struct eswitch_pf_config *pfc, struct eswitch **eswp,
               char **errp) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_layout layout = ovs_layout;
    struct esw_dev_config dev_cfg = { .max_vports = ESWITCH_MAX_VPORTS,
                                      .max_rules = eswitch_max_rules,
                                      .busy_poll = eswitch_busy_poll };
    struct eswitch_fn_id ids[MAX_FUNCTIONS];
    enum esw_io_type io_type;
    struct esw_dev *dev;
    struct eswitch *esw;
    bool vhost_user;
    size_t n_ids;
    int error;

    if (pfc) {
        layout.n_vfs = pfc->n_vfs;
        layout.n_sfs = 0;
        layout.host_io = file_cfg.default_host_io;
    }
    n_ids = layout_functions(&layout, pf, ids, ARRAY_SIZE(ids));

    error = esw_dev_open(name, pfc ? pfc->driver : "sim", &dev_cfg, &dev);
    if (error) {
        struct echo_buf b;

        *errp = xasprintf("cannot open eswitch %s: %s", echo_arg(name, &b),
                          error == ENODEV && pfc
                          ? "no such driver" : ovs_strerror(error));
        return error;
    }

    io_type = (layout.host_io == ESWITCH_IO_CAPTURE ? ESW_IO_CAPTURE
               : ESW_IO_TAP);
    vhost_user = layout.host_io == ESWITCH_IO_VHOST_USER;
    for (size_t i = 0; i < n_ids; i++) {
        struct esw_eth_addr mac;
        bool has_mac = static_mac(pfc, &ids[i], &mac);
        struct vhost_args vhost = { .features = file_cfg.virtio_features };

        error = add_function(dev, &ids[i], has_mac ? &mac : NULL, 0,
                             default_queues(&ids[i]),
                             fn_io_type(&ids[i], io_type, vhost_user), &vhost,
                             false, NULL, errp);
        if (error && i == 0
            && (layout.host_io == ESWITCH_IO_AUTO || vhost_user)
            && (error == EACCES || error == ENODEV || error == EPERM)) {
            VLOG_INFO("%s: tap devices are not available (%s): the "
                      "functions' host sides are in memory (capture)",
                      name, *errp);
            free(*errp);
            *errp = NULL;
            io_type = ESW_IO_CAPTURE;
            error = add_function(dev, &ids[i], has_mac ? &mac : NULL, 0,
                                 default_queues(&ids[i]),
                                 fn_io_type(&ids[i], io_type, vhost_user),
                                 &vhost, false, NULL, errp);
        }
        if (error) {
            esw_dev_close(dev);     /* Takes the added vports with it. */
            return error;
        }
    }

    esw = xzalloc(sizeof *esw);
    ovs_strlcpy(esw->name, name, sizeof esw->name);
    esw->pf = pf;
    esw->dev = dev;
    esw->layout = layout;
    esw->io_type = io_type;
    esw->vhost_user = vhost_user;
    esw->pfc = pfc;
    esw->pinned = pfc != NULL;
    snprintf(esw->uplink_name, sizeof esw->uplink_name, "p%"PRIu32, pf);
    hmap_init(&esw->claims);
    hmap_init(&esw->fns);
    hmap_insert(&eswitches, &esw->node, hash_string(esw->name, 0));
    VLOG_INFO("%s: eswitch created%s: uplink, host PF, %"PRIu32" VFs, %"
              PRIu32" virtio-net devices, host sides %s%s", esw->name,
              pfc ? " from the configuration file" : "", layout.n_vfs,
              layout.n_sfs, esw_io_type_name(io_type),
              vhost_user ? " (virtio-net: vhost-user)" : "");
    *eswp = esw;
    return 0;
}

/* The configuration file's PF 'pf', if any. */
static const struct eswitch_pf_config *
file_pf(uint32_t pf) OVS_REQUIRES(eswitch_mutex)
{
    for (size_t i = 0; i < file_cfg.n_pfs; i++) {
        if (file_cfg.pfs[i].pf == pf) {
            return &file_cfg.pfs[i];
        }
    }
    return NULL;
}

/* Finds eSwitch 'name' for PF 'pf', creating it if needed. */
static int
eswitch_get(const char *name, uint32_t pf, struct eswitch **eswp,
            char **errp) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch *esw = eswitch_lookup__(name);

    if (!esw) {
        const struct eswitch_pf_config *pfc = file_pf(pf);
        char default_name[ESW_NAME_MAX];

        eswitch_default_name(pf, default_name);
        if (pfc && !strcmp(name, default_name)) {
            /* A port that names no eSwitch gets the one the configuration
             * file gives its PF. */
            esw = eswitch_lookup__(pfc->eswitch);
        }
    }
    if (!esw) {
        const struct eswitch_pf_config *pfc = file_pf(pf);

        if (pfc && strcmp(pfc->eswitch, name)) {
            *errp = xasprintf("PF %"PRIu32" is served by eswitch %s (see %s),"
                              " not %s", pf, pfc->eswitch, config_file_name,
                              name);
            return EINVAL;
        }
        return eswitch_create(name, pf, NULL, eswp, errp);
    }
    if (esw->pf != pf) {
        *errp = xasprintf("eswitch %s serves PF %"PRIu32", not PF %"PRIu32,
                          name, esw->pf, pf);
        return EINVAL;
    }
    *eswp = esw;
    return 0;
}

/* Adjusts the functions of 'esw' to the current layout: adds missing ones
 * and removes unclaimed ones the layout no longer has.  Functions in use by
 * a port stay (and are reported), as does the host side of an eSwitch with
 * ports.  Hotplugged functions and eSwitches from the configuration file
 * are not other_config's business.  Returns true if it added functions. */
static bool
eswitch_relayout(struct eswitch *esw) OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch_layout *layout = &ovs_layout;
    struct eswitch_fn_id ids[MAX_FUNCTIONS];
    size_t n_ids = layout_functions(layout, esw->pf, ids, ARRAY_SIZE(ids));
    bool new_io = layout->host_io != esw->layout.host_io;
    bool added = false;
    uint32_t *vports;
    size_t n_vports;

    if (esw->pfc) {
        return false;
    }
    if (new_io && !hmap_is_empty(&esw->claims)) {
        VLOG_WARN("%s: eswitch-host-io cannot change while ports use the "
                  "functions of the eswitch: remove them first", esw->name);
        new_io = false;
    } else if (new_io) {
        esw->io_type = (layout->host_io == ESWITCH_IO_CAPTURE
                        ? ESW_IO_CAPTURE : ESW_IO_TAP);
        esw->vhost_user = layout->host_io == ESWITCH_IO_VHOST_USER;
    }

    vports = list_vports(esw->dev, &n_vports);
    for (size_t i = 0; i < n_vports; i++) {
        struct eswitch_fn *fn = find_fn(esw, vports[i]);
        struct esw_vport_info info;
        bool wanted = false;

        if ((fn && fn->hotplugged)
            || esw_vport_get_info(esw->dev, vports[i], &info)) {
            continue;
        }
        for (size_t j = 0; j < n_ids; j++) {
            wanted |= (ids[j].kind == info.kind && ids[j].pf == info.pf
                       && ids[j].fn == info.fn);
        }
        if (!wanted || new_io) {
            struct eswitch_claim *claim = find_claim(esw, vports[i]);

            if (claim) {
                VLOG_WARN("%s: function %s stays: it is in use by port %s",
                          esw->name, info.name, claim->port_name);
            } else {
                esw_vport_del(esw->dev, vports[i]);
                if (fn) {
                    char *error = NULL;

                    if (state_dir
                        && eswitch_state_remove(state_dir, esw->name,
                                                info.name, &error)) {
                        VLOG_WARN("%s", error);
                        free(error);
                    }
                    remove_fn(esw, fn);
                }
            }
        }
    }
    free(vports);

    for (size_t j = 0; j < n_ids; j++) {
        char name[ESW_NAME_MAX];
        uint32_t vport;
        char *error;

        eswitch_format_fn_name(&ids[j], name);
        if (!esw_vport_lookup(esw->dev, name, &vport)) {
            continue;
        }
        struct vhost_args vhost = { .features = file_cfg.virtio_features };

        if (add_function(esw->dev, &ids[j], NULL, 0, default_queues(&ids[j]),
                         fn_io_type(&ids[j], esw->io_type, esw->vhost_user),
                         &vhost, esw->managed, NULL, &error)) {
            VLOG_WARN("%s", error);
            free(error);
        } else {
            added = true;
        }
    }
    if (new_io) {
        esw->layout.host_io = layout->host_io;
    }
    esw->layout.n_vfs = layout->n_vfs;
    esw->layout.n_sfs = layout->n_sfs;
    return added;
}

void
eswitch_set_max_rules(uint32_t max_rules)
{
    ovs_mutex_lock(&eswitch_mutex);
    eswitch_max_rules = max_rules;
    ovs_mutex_unlock(&eswitch_mutex);
}

/* Applies other_config:eswitch-vhost-dir (an absolute directory) to the
 * vhost-user sockets created from now on. */
static void
set_vhost_dir(const char *dir) OVS_REQUIRES(eswitch_mutex)
{
    static char *last_bad;

    if (dir && dir[0] != '/') {
        if (!last_bad || strcmp(last_bad, dir)) {
            VLOG_WARN("Open_vSwitch other_config: invalid eswitch-vhost-dir "
                      "\"%s\": expected an absolute directory (keeping %s)",
                      dir, vhost_dir ? vhost_dir : ovs_rundir());
            free(last_bad);
            last_bad = xstrdup(dir);
        }
        return;
    }
    free(last_bad);
    last_bad = NULL;
    if (!dir != !vhost_dir || (dir && strcmp(dir, vhost_dir))) {
        free(vhost_dir);
        vhost_dir = dir ? xstrdup(dir) : NULL;
    }
}

void
eswitch_set_ovs_config(const struct smap *other_config)
{
    static char *last_error;
    struct eswitch_layout layout;
    struct eswitch *esw;
    bool added = false;
    bool layout_ok;
    char *error = NULL;

    layout_ok = !parse_ovs_layout(other_config, &layout, &error);
    if (!layout_ok) {
        /* There is no error column for other_config: log each new error
         * once and keep the last good layout. */
        if (!last_error || strcmp(last_error, error)) {
            VLOG_WARN("Open_vSwitch other_config: %s (keeping the previous "
                      "eswitch layout)", error);
            free(last_error);
            last_error = error;
        } else {
            free(error);
        }
    } else {
        free(last_error);
        last_error = NULL;
    }

    ovs_mutex_lock(&eswitch_mutex);
    eswitch_dpdk_set_ovs_config(other_config);
    set_vhost_dir(smap_get(other_config, "eswitch-vhost-dir"));
    eswitch_busy_poll = smap_get_bool(other_config, "eswitch-busy-poll",
                                      false);
    if (layout_ok && memcmp(&layout, &ovs_layout, sizeof layout)) {
        ovs_layout = layout;
        HMAP_FOR_EACH (esw, node, &eswitches) {
            added |= eswitch_relayout(esw);
        }
    }
    if (!mgmt_started) {
        /* The first configuration is known: bring up the configuration
         * file's eSwitches and restore recovery state, before any port of
         * the database is set up. */
        mgmt_started = true;
        mgmt_start();
        added = true;
    }
    ovs_mutex_unlock(&eswitch_mutex);

    if (added) {
        /* Ports that failed for lack of these functions get retried. */
        if_notifier_manual_report();
    }
}

int
eswitch_manage(const char *port_name, const struct smap *options,
               struct eswitch **eswp, uint32_t *vportp, char **errp)
{
    char esw_name[ESW_NAME_MAX];
    struct eswitch_fn_id id;
    struct eswitch *esw;
    uint32_t vport;
    int error;

    error = eswitch_resolve_port(port_name, ESW_VPORT_UPLINK, options,
                                 esw_name, &id, errp);
    if (error) {
        return error;
    }

    ovs_mutex_lock(&eswitch_mutex);
    error = eswitch_get(esw_name, id.pf, &esw, errp);
    if (error) {
        goto out;
    }
    if (esw->managed && strcmp(esw->uplink_name, port_name)) {
        *errp = xasprintf("eswitch %s is already managed by uplink port %s",
                          esw->name, esw->uplink_name);
        error = EBUSY;
        goto out;
    }
    ovs_assert(!esw_vport_lookup(esw->dev, esw->uplink_name, &vport)
               || !strcmp(esw->uplink_name, port_name));
    if (esw_vport_lookup(esw->dev, port_name, &vport)) {
        *errp = xasprintf("eswitch %s has no uplink function %s", esw->name,
                          port_name);
        error = ENOENT;
        eswitch_destroy_if_unused(esw);
        goto out;
    }
    if (!esw->managed) {
        esw->managed = true;
        ovs_strlcpy(esw->uplink_name, port_name, sizeof esw->uplink_name);
        add_claim(esw, vport, port_name);
        set_all_links(esw, true);
        VLOG_INFO("%s: managed by uplink port %s: functions' links are up",
                  esw->name, port_name);
    }
    *eswp = esw;
    *vportp = vport;
out:
    ovs_mutex_unlock(&eswitch_mutex);
    return error;
}

void
eswitch_unmanage(struct eswitch *esw)
{
    uint32_t vport;

    if (!esw) {
        return;
    }
    ovs_mutex_lock(&eswitch_mutex);
    esw->managed = false;
    if (!esw_vport_lookup(esw->dev, esw->uplink_name, &vport)) {
        struct eswitch_claim *claim = find_claim(esw, vport);

        if (claim) {
            remove_claim(esw, claim);
        }
    }
    if (!hmap_is_empty(&esw->claims)) {
        VLOG_INFO("%s: uplink port %s removed: the links of the remaining "
                  "%"PRIuSIZE" functions in use are down until it returns",
                  esw->name, esw->uplink_name, hmap_count(&esw->claims));
    }
    if (!hmap_is_empty(&esw->claims) || esw->pinned) {
        set_all_links(esw, false);
    }
    eswitch_destroy_if_unused(esw);
    ovs_mutex_unlock(&eswitch_mutex);
}

int
eswitch_claim(const char *esw_name, const struct eswitch_fn_id *id,
              const char *port_name, struct eswitch **eswp,
              uint32_t *vportp, char **errp)
{
    char fn_name[ESW_NAME_MAX];
    struct eswitch_claim *claim;
    struct eswitch *esw;
    uint32_t vport;
    int error;

    eswitch_format_fn_name(id, fn_name);

    ovs_mutex_lock(&eswitch_mutex);
    error = eswitch_get(esw_name, id->pf, &esw, errp);
    if (error) {
        goto out;
    }
    if (esw_vport_lookup(esw->dev, fn_name, &vport)) {
        *errp = xasprintf("eswitch %s has no function %s (it has %"PRIu32
                          " VFs and %"PRIu32" virtio-net devices)",
                          esw->name, fn_name, esw->layout.n_vfs,
                          esw->layout.n_sfs);
        eswitch_destroy_if_unused(esw);
        error = ENOENT;
        goto out;
    }
    claim = find_claim(esw, vport);
    if (claim && strcmp(claim->port_name, port_name)) {
        *errp = xasprintf("function %s of eswitch %s is already in use by "
                          "port %s", fn_name, esw->name, claim->port_name);
        error = EBUSY;
        goto out;
    }
    if (!claim) {
        add_claim(esw, vport, port_name);
    }
    *eswp = esw;
    *vportp = vport;
out:
    ovs_mutex_unlock(&eswitch_mutex);
    return error;
}

void
eswitch_release(struct eswitch *esw, uint32_t vport)
{
    struct eswitch_claim *claim;

    if (!esw) {
        return;
    }
    ovs_mutex_lock(&eswitch_mutex);
    claim = find_claim(esw, vport);
    if (claim) {
        remove_claim(esw, claim);
    }
    eswitch_destroy_if_unused(esw);
    ovs_mutex_unlock(&eswitch_mutex);
}

static void
eswitch_destroy_if_unused(struct eswitch *esw) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_fn *fn;

    if (esw->managed || !hmap_is_empty(&esw->claims) || esw->pinned) {
        return;
    }
    VLOG_INFO("%s: eswitch destroyed: no port uses it", esw->name);
    hmap_remove(&eswitches, &esw->node);
    hmap_destroy(&esw->claims);
    HMAP_FOR_EACH_POP (fn, node, &esw->fns) {
        free(fn);
    }
    hmap_destroy(&esw->fns);
    esw_dev_close(esw->dev);
    free(esw);
}

struct esw_dev *
eswitch_dev(const struct eswitch *esw)
{
    return esw->dev;
}

const char *
eswitch_name(const struct eswitch *esw)
{
    return esw->name;
}

bool
eswitch_is_managed(const struct eswitch *esw)
{
    bool managed;

    ovs_mutex_lock(&eswitch_mutex);
    managed = esw->managed;
    ovs_mutex_unlock(&eswitch_mutex);
    return managed;
}

const char *
eswitch_uplink_name(const struct eswitch *esw)
{
    return esw->uplink_name;
}

int
eswitch_find_function(const char *spec, struct esw_dev **devp,
                      uint32_t *vportp, char **errp)
{
    const char *slash = strchr(spec, '/');
    char esw_name[ESW_NAME_MAX] = "";
    const char *fn = spec;
    bool esw_found = false;
    struct eswitch *esw;
    int error = ENOENT;

    if (slash) {
        if (slash - spec >= ESW_NAME_MAX) {
            *errp = xasprintf("no such eswitch");
            return ENOENT;
        }
        memcpy(esw_name, spec, slash - spec);
        esw_name[slash - spec] = '\0';
        fn = slash + 1;
    }

    ovs_mutex_lock(&eswitch_mutex);
    HMAP_FOR_EACH (esw, node, &eswitches) {
        if (esw_name[0] && strcmp(esw->name, esw_name)) {
            continue;
        }
        esw_found = true;
        if (!esw_vport_lookup(esw->dev, fn, vportp)) {
            *devp = esw->dev;
            error = 0;
            break;
        }
    }
    ovs_mutex_unlock(&eswitch_mutex);
    if (error) {
        *errp = xstrdup(esw_name[0] && !esw_found ? "no such eswitch"
                        : "no such function");
    }
    return error;
}

size_t
eswitch_count(void)
{
    size_t n;

    ovs_mutex_lock(&eswitch_mutex);
    n = hmap_count(&eswitches);
    ovs_mutex_unlock(&eswitch_mutex);
    return n;
}

/* Management: configuration file, recovery, hotplug.
 * =================================================== */

void
eswitch_set_mgmt_options(const char *config_file, const char *state_dir_,
                         bool reset)
{
    free(config_file_name);
    free(state_dir);
    config_file_name = config_file ? xstrdup(config_file) : NULL;
    state_dir = state_dir_ ? xstrdup(state_dir_) : NULL;
    reset_state = reset;
}

static void
format_mac(const struct esw_eth_addr *m, char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m->ea[0], m->ea[1],
             m->ea[2], m->ea[3], m->ea[4], m->ea[5]);
}

/* Checks that no function of any eSwitch but function 'except' of 'esw'
 * (UINT32_MAX: none) has 'mac'. */
static int
check_mac_unique(const struct eswitch *esw, const struct esw_eth_addr *mac,
                 uint32_t except, char **errp) OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch *other;
    int error = 0;

    HMAP_FOR_EACH (other, node, &eswitches) {
        size_t n;
        uint32_t *vports = list_vports(other->dev, &n);

        for (size_t i = 0; i < n && !error; i++) {
            struct esw_vport_info info;

            if ((other != esw || vports[i] != except)
                && !esw_vport_get_info(other->dev, vports[i], &info)
                && !memcmp(&info.mac, mac, sizeof *mac)) {
                char buf[18];

                format_mac(mac, buf);
                *errp = xasprintf("MAC %s is already used by function %s of "
                                  "eswitch %s", buf, info.name, other->name);
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

/* The recovery state of 'fn' of 'esw', whose device function is 'info'. */
static void
fn_state(const struct eswitch *esw, const struct eswitch_fn *fn,
         const struct esw_vport_info *info, struct eswitch_fn_state *st)
    OVS_REQUIRES(eswitch_mutex)
{
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
    st->host_side = info->io_type;
    ovs_strlcpy(st->vhost_path, info->io_path, sizeof st->vhost_path);
    st->vhost_client = info->io_client;
    st->link_state = fn->link_state;
}

/* Saves the recovery state of 'fn' of 'esw'. */
static int
save_fn(struct eswitch *esw, const struct eswitch_fn *fn, char **errp)
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
    return eswitch_state_save(state_dir, &st, errp);
}

/* Destroys 'esw' even if pinned, when nothing claims it. */
static void
unpin_and_destroy(struct eswitch *esw) OVS_REQUIRES(eswitch_mutex)
{
    esw->pinned = false;
    eswitch_destroy_if_unused(esw);
}

/* Brings up the eSwitches of the configuration file: all or none. */
static void
mgmt_apply_file(bool explicit) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_file_config cfg;
    struct stat st;
    char *error = NULL;

    if (!explicit && lstat(config_file_name, &st) && errno == ENOENT) {
        VLOG_DBG("no eswitch configuration file %s", config_file_name);
        return;
    }
    if (eswitch_file_config_read(config_file_name, &cfg, &error)) {
        VLOG_ERR("%s (the eswitches come from Open_vSwitch other_config "
                 "until the file is fixed and ovs-vswitchd restarted)",
                 error);
        free(error);
        return;
    }

    eswitch_file_config_destroy(&file_cfg);
    file_cfg = cfg;
    for (size_t i = 0; i < file_cfg.n_pfs; i++) {
        const struct eswitch_pf_config *pfc = &file_cfg.pfs[i];
        struct eswitch *esw = eswitch_lookup__(pfc->eswitch);

        if (!esw && !eswitch_create(pfc->eswitch, pfc->pf, pfc, &esw,
                                    &error)) {
            continue;
        }
        if (esw) {
            error = xasprintf("eswitch %s exists already", pfc->eswitch);
        }
        VLOG_ERR("%s: pfs[%"PRIuSIZE"]: %s (none of the file's eswitches "
                 "is brought up; they come from Open_vSwitch other_config "
                 "until the file is fixed and ovs-vswitchd restarted)",
                 config_file_name, i, error);
        free(error);
        for (size_t j = 0; j < i; j++) {
            struct eswitch *created
                = eswitch_lookup__(file_cfg.pfs[j].eswitch);

            if (created) {
                unpin_and_destroy(created);
            }
        }
        eswitch_file_config_destroy(&file_cfg);
        eswitch_file_config_init(&file_cfg);
        return;
    }
    if (file_cfg.n_pfs) {
        VLOG_INFO("%s: %"PRIuSIZE" eswitches configured", config_file_name,
                  file_cfg.n_pfs);
    }
}

/* Restores one function from its recovery state. */
static int
mgmt_restore(const struct eswitch_fn_state *st, char **errp)
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
    error = eswitch_get(st->eswitch, st->pf, &esw, errp);
    if (error) {
        return error;
    }
    if (st->hotplugged) {
        if (!esw_vport_lookup(esw->dev, name, &vport)) {
            *errp = xasprintf("function %s of eswitch %s exists already",
                              name, esw->name);
            eswitch_destroy_if_unused(esw);
            return EEXIST;
        }
        struct vhost_args vhost = { .path = st->vhost_path,
                                    .client = st->vhost_client,
                                    .features = st->features };

        error = check_mac_unique(esw, &st->mac, UINT32_MAX, errp);
        if (error) {
            eswitch_destroy_if_unused(esw);
            return error;
        }
        error = add_function(esw->dev, &id, &st->mac, st->mtu, st->queues,
                             st->host_side, &vhost,
                             (st->link_state == ESWITCH_LINK_AUTO
                              ? esw->managed
                              : st->link_state == ESWITCH_LINK_UP),
                             &vport, errp);
        if (error) {
            eswitch_destroy_if_unused(esw);
            return error;
        }
    } else {
        if (esw_vport_lookup(esw->dev, name, &vport)) {
            *errp = xasprintf("eswitch %s has no static function %s any "
                              "more", esw->name, name);
            eswitch_destroy_if_unused(esw);
            return ENOENT;
        }
        error = check_mac_unique(esw, &st->mac, vport, errp);
        if (error) {
            eswitch_destroy_if_unused(esw);
            return error;
        }
        esw_vport_set_mac(esw->dev, vport, &st->mac);
        esw_vport_set_mtu(esw->dev, vport, st->mtu);
    }
    esw->pinned = true;
    esw_vport_get_info(esw->dev, vport, &info);
    fn = get_fn(esw, &info);
    fn->hotplugged = st->hotplugged;
    esw->n_hotplugged += st->hotplugged;
    fn->features = st->features;
    fn->queues = st->queues;
    fn->link_state = st->link_state;
    set_link(esw, vport, link_wanted(esw, vport, esw->managed));
    return 0;
}

static void
mgmt_start(void) OVS_REQUIRES(eswitch_mutex)
{
    bool explicit = config_file_name != NULL;
    struct eswitch_fn_state *states;
    size_t n_states, n_errors, n_restored = 0;
    char **errors;

    if (!config_file_name) {
        config_file_name = xasprintf("%s/ovs-ext/eswitch.json",
                                     ovs_sysconfdir());
    }
    if (!state_dir) {
        state_dir = xasprintf("%s/ovs-ext/eswitch-state", ovs_dbdir());
    }

    if (reset_state) {
        char *error = NULL;

        if (eswitch_state_reset(state_dir, &error)) {
            VLOG_ERR("%s", error);
            free(error);
        } else {
            VLOG_INFO("%s: recovery state wiped (--eswitch-reset)",
                      state_dir);
        }
    }

    mgmt_apply_file(explicit);

    eswitch_state_load(state_dir, &states, &n_states, &errors, &n_errors);
    for (size_t i = 0; i < n_errors; i++) {
        VLOG_WARN("%s: recovery state skipped", errors[i]);
        free(errors[i]);
    }
    free(errors);
    for (size_t i = 0; i < n_states; i++) {
        char *error = NULL;

        if (mgmt_restore(&states[i], &error)) {
            VLOG_WARN("%s/%s.%s.json: cannot restore: %s: recovery state "
                      "skipped", state_dir, states[i].eswitch,
                      states[i].function, error);
            free(error);
        } else {
            n_restored++;
        }
    }
    free(states);
    if (n_states || n_errors) {
        VLOG_INFO("%s: restored %"PRIuSIZE" functions", state_dir,
                  n_restored);
    }
}

/* Finds the function that 'spec' names: "FUNCTION", "ESWITCH/FUNCTION",
 * or an index (vport number) "N" or "ESWITCH/N". */
static int
resolve_spec(const char *spec, struct eswitch **eswp, uint32_t *vportp,
             char **errp) OVS_REQUIRES(eswitch_mutex)
{
    const char *slash = strchr(spec, '/');
    const char *fn = slash ? slash + 1 : spec;
    bool is_index = fn[0] && strspn(fn, "0123456789") == strlen(fn);
    struct eswitch *esw, *found = NULL;
    uint32_t vport = 0, index = 0;
    size_t n_found = 0;

    if (is_index) {
        const char *end;

        if (!parse_uint(fn, &index, &end)) {
            struct echo_buf b;

            *errp = xasprintf("no such function \"%s\"", echo_arg(spec, &b));
            return ENOENT;
        }
    }
    HMAP_FOR_EACH (esw, node, &eswitches) {
        struct esw_vport_info info;

        if (slash && (strlen(esw->name) != (size_t) (slash - spec)
                      || strncmp(esw->name, spec, slash - spec))) {
            continue;
        }
        if (is_index ? !esw_vport_get_info(esw->dev, index, &info)
            : !esw_vport_lookup(esw->dev, fn, &info.vport)) {
            found = esw;
            vport = info.vport;
            n_found++;
        }
    }
    if (n_found > 1) {
        *errp = xasprintf("\"%s\" is ambiguous: qualify it with its eswitch "
                          "(ESWITCH/%s)", spec, fn);
        return EINVAL;
    } else if (!n_found) {
        struct echo_buf b;

        *errp = xasprintf("no such function \"%s\"", echo_arg(spec, &b));
        return ENOENT;
    }
    *eswp = found;
    *vportp = vport;
    return 0;
}

static struct json *
fn_to_json(struct eswitch *esw, const struct esw_vport_info *info)
    OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch_fn *fn = find_fn(esw, info->vport);
    const struct eswitch_claim *claim = find_claim(esw, info->vport);
    struct json *json = json_object_create();
    struct eswitch_fn defaults;
    char mac[18];

    if (!fn) {
        struct eswitch_fn_id id = { info->kind, info->pf, info->fn };

        fn_defaults(&id, &defaults);
        fn = &defaults;
    }
    json_object_put_string(json, "eswitch", esw->name);
    json_object_put_string(json, "function", info->name);
    json_object_put(json, "index", json_integer_create(info->vport));
    json_object_put_string(json, "kind",
                           eswitch_kind_to_string(info->kind, info->fn));
    json_object_put(json, "pf", json_integer_create(info->pf));
    json_object_put(json, "number", json_integer_create(info->fn));
    json_object_put_string(json, "origin",
                           fn->hotplugged ? "hotplug" : "static");
    format_mac(&info->mac, mac);
    json_object_put_string(json, "mac", mac);
    json_object_put(json, "mtu", json_integer_create(info->mtu));
    if (info->kind == ESW_VPORT_SF && info->fn >= ESW_SF_VIRTIO_MIN) {
        json_object_put_format(json, "features", "0x%"PRIx64, fn->features);
        json_object_put(json, "queues", json_integer_create(fn->queues));
    }
    json_object_put_string(json, "host_side",
                           esw_io_type_name(info->io_type));
    if (info->io_type == ESW_IO_VHOST_USER) {
        json_object_put_string(json, "vhost_path", info->io_path);
        json_object_put_string(json, "vhost_mode",
                               info->io_client ? "client" : "server");
        json_object_put(json, "guest", json_boolean_create(info->host_up));
        json_object_put_format(json, "negotiated", "0x%"PRIx64,
                               info->virtio_negotiated);
    }
    json_object_put_string(json, "link_state",
                           eswitch_link_state_to_string(fn->link_state));
    json_object_put_string(json, "link", info->oper_up ? "up" : "down");
    json_object_put(json, "port", (claim
                                   ? json_string_create(claim->port_name)
                                   : json_null_create()));
    return json;
}

static int
compare_eswitch_names(const void *a_, const void *b_)
{
    const struct eswitch *const *a = a_;
    const struct eswitch *const *b = b_;

    return strcmp((*a)->name, (*b)->name);
}

struct json *
eswitch_mgmt_list(void)
{
    struct json *functions = json_array_create_empty();
    struct json *reply = json_object_create();
    struct eswitch **list;
    struct eswitch *esw;
    size_t n = 0;

    ovs_mutex_lock(&eswitch_mutex);
    list = xmalloc((hmap_count(&eswitches) + 1) * sizeof *list);
    HMAP_FOR_EACH (esw, node, &eswitches) {
        list[n++] = esw;
    }
    qsort(list, n, sizeof *list, compare_eswitch_names);
    for (size_t i = 0; i < n; i++) {
        size_t n_vports;
        uint32_t *vports = list_vports(list[i]->dev, &n_vports);

        for (size_t j = 0; j < n_vports; j++) {
            struct esw_vport_info info;

            if (!esw_vport_get_info(list[i]->dev, vports[j], &info)) {
                json_array_add(functions, fn_to_json(list[i], &info));
            }
        }
        free(vports);
    }
    free(list);
    ovs_mutex_unlock(&eswitch_mutex);

    json_object_put(reply, "functions", functions);
    return reply;
}

int
eswitch_mgmt_query(const char *spec, struct json **replyp, char **errp)
{
    struct esw_vport_info info;
    struct eswitch *esw;
    uint32_t vport;
    int error;

    ovs_mutex_lock(&eswitch_mutex);
    error = resolve_spec(spec, &esw, &vport, errp);
    if (!error) {
        error = esw_vport_get_info(esw->dev, vport, &info);
        if (error) {
            *errp = xasprintf("%s: %s", spec, ovs_strerror(error));
        } else {
            *replyp = fn_to_json(esw, &info);
        }
    }
    ovs_mutex_unlock(&eswitch_mutex);
    return error;
}

static int
check_mac(const struct esw_eth_addr *mac, char **errp)
{
    char buf[18];

    format_mac(mac, buf);
    if (mac->ea[0] & 1) {
        *errp = xasprintf("%s is a multicast address: a function's MAC must "
                          "be unicast", buf);
        return EINVAL;
    }
    if (!(mac->ea[0] | mac->ea[1] | mac->ea[2] | mac->ea[3] | mac->ea[4]
          | mac->ea[5])) {
        *errp = xstrdup("the all-zeros MAC is not valid");
        return EINVAL;
    }
    return 0;
}

/* "no such eswitch "NAME" (eswitches: ...)", malloc'd. */
static char *
no_such_eswitch(const char *name) OVS_REQUIRES(eswitch_mutex)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct eswitch **list;
    struct eswitch *esw;
    size_t n = 0;

    list = xmalloc((hmap_count(&eswitches) + 1) * sizeof *list);
    HMAP_FOR_EACH (esw, node, &eswitches) {
        list[n++] = esw;
    }
    qsort(list, n, sizeof *list, compare_eswitch_names);
    ds_put_format(&s, "no such eswitch \"%s\"", name);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%s%s", i ? ", " : " (eswitches: ", list[i]->name);
    }
    if (n) {
        ds_put_char(&s, ')');
    }
    free(list);
    return ds_steal_cstr(&s);
}

/* Lowest free number for a new function of 'kind' in 'esw'. */
static int
alloc_fn_number(struct eswitch *esw, enum esw_vport_kind kind,
                uint32_t *fnp, char **errp) OVS_REQUIRES(eswitch_mutex)
{
    uint32_t first = kind == ESW_VPORT_VF ? 0 : file_cfg.sf_first;
    uint32_t last = (kind == ESW_VPORT_VF ? ESWITCH_MAX_VFS - 1
                     : file_cfg.sf_last);
    size_t n_bits = last - first + 1;
    unsigned long *used = bitmap_allocate(n_bits);
    size_t n, free_bit;
    uint32_t *vports = list_vports(esw->dev, &n);
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

int
eswitch_hotplug(const struct eswitch_hotplug_args *a,
                char fn_name[ESW_NAME_MAX], char **errp)
{
    bool virtio = a->kind == ESW_VPORT_SF;
    struct eswitch_fn_id id = { .kind = a->kind };
    struct esw_eth_addr mac;
    struct eswitch_fn *fn;
    struct esw_vport_info info;
    struct vhost_args vhost;
    struct eswitch *esw;
    uint32_t vport, mtu, queues;
    uint64_t features;
    char *vhost_path;
    char buf[18];
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
        *errp = xasprintf("invalid --vhost-user \"%s\": expected an "
                          "absolute path or a file name (in the socket "
                          "directory)", a->vhost_path);
        return EINVAL;
    }
    if (a->has_mac && check_mac(&a->mac, errp)) {
        return EINVAL;
    }

    ovs_mutex_lock(&eswitch_mutex);
    if (!mgmt_started) {
        *errp = xstrdup("ovs-vswitchd has not read its configuration yet: "
                        "try again");
        error = EAGAIN;
        goto out;
    }
    features = a->has_features ? a->features : file_cfg.virtio_features;
    if (a->vhost_path) {
        struct esw_error err;

        error = esw_vhost_check_features(features, &err);
        if (error) {
            *errp = xasprintf("invalid --features: %s", err.reason);
            goto out;
        }
    }
    if (a->eswitch) {
        /* A management command creates no eSwitch by name: a typo would
         * make one with the MACs of another. */
        esw = eswitch_lookup__(a->eswitch);
        if (!esw) {
            *errp = no_such_eswitch(a->eswitch);
            error = ENOENT;
            goto out;
        }
        if (a->has_pf && esw->pf != a->pf) {
            *errp = xasprintf("eswitch %s serves PF %"PRIu32", not PF %"
                              PRIu32, esw->name, esw->pf, a->pf);
            error = EINVAL;
            goto out;
        }
    } else {
        const struct eswitch_pf_config *pfc = file_pf(a->pf);
        char name[ESW_NAME_MAX];

        if (pfc) {
            ovs_strlcpy(name, pfc->eswitch, sizeof name);
        } else {
            eswitch_default_name(a->pf, name);
        }
        error = eswitch_get(name, a->pf, &esw, errp);
        if (error) {
            goto out;
        }
    }

    id.pf = esw->pf;
    error = alloc_fn_number(esw, a->kind, &id.fn, errp);
    if (error) {
        goto undo;
    }
    mac = a->has_mac ? a->mac : default_mac(&id);
    error = check_mac_unique(esw, &mac, UINT32_MAX, errp);
    if (error) {
        if (!a->has_mac) {
            char *e = *errp;

            *errp = xasprintf("%s: choose one with --mac", e);
            free(e);
        }
        goto undo;
    }
    mtu = a->mtu ? a->mtu : virtio ? file_cfg.virtio_mtu : 1500;
    queues = !virtio ? 0 : a->queues ? a->queues : file_cfg.virtio_queues;
    vhost_path = (!a->vhost_path || a->vhost_path[0] == '/'
                  ? nullable_xstrdup(a->vhost_path)
                  : xasprintf("%s/%s", vhost_dir ? vhost_dir : ovs_rundir(),
                              a->vhost_path));
    vhost = (struct vhost_args) { .path = vhost_path,
                                  .client = a->vhost_client,
                                  .features = features };
    error = add_function(esw->dev, &id, &mac, mtu, queues,
                         (a->vhost_path ? ESW_IO_VHOST_USER
                          : fn_io_type(&id, esw->io_type, esw->vhost_user)),
                         &vhost, esw->managed, &vport, errp);
    free(vhost_path);
    if (error) {
        goto undo;
    }
    esw_vport_get_info(esw->dev, vport, &info);
    fn = get_fn(esw, &info);
    fn->hotplugged = true;
    esw->n_hotplugged++;
    if (virtio) {
        fn->queues = queues;
        fn->features = features;
    }
    error = save_fn(esw, fn, errp);
    if (error) {
        esw_vport_del(esw->dev, vport);
        remove_fn(esw, fn);
        goto undo;
    }
    esw->pinned = true;
    ovs_strlcpy(fn_name, info.name, ESW_NAME_MAX);
    format_mac(&mac, buf);
    VLOG_INFO("%s: hotplugged %s %s (index %"PRIu32", MAC %s)", esw->name,
              virtio ? "virtio-net device" : "VF", info.name, vport, buf);
    ovs_mutex_unlock(&eswitch_mutex);

    /* Ports that wait for this function get retried. */
    if_notifier_manual_report();
    return 0;

undo:
    eswitch_destroy_if_unused(esw);
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

    error = resolve_spec(spec, eswp, vportp, errp);
    if (error) {
        return error;
    }
    error = esw_vport_get_info((*eswp)->dev, *vportp, info);
    if (error) {
        *errp = xasprintf("%s: %s", spec, ovs_strerror(error));
        return error;
    }
    fn = find_fn(*eswp, *vportp);
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

    ovs_mutex_lock(&eswitch_mutex);
    error = unplug_check__(spec, &esw, &vport, &info, errp);
    if (!error) {
        *replyp = fn_to_json(esw, &info);
    }
    ovs_mutex_unlock(&eswitch_mutex);
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
    claim = find_claim(esw, vport);
    if (claim) {
        *errp = xasprintf("%s is in use by port %s: remove the port first "
                          "or unplug with --force", info.name,
                          claim->port_name);
        error = EBUSY;
        goto out;
    }
    error = eswitch_state_remove(state_dir, esw->name, info.name, errp);
    if (error) {
        goto out;
    }
    esw_vport_del(esw->dev, vport);
    remove_fn(esw, find_fn(esw, vport));
    VLOG_INFO("%s: unplugged %s", esw->name, info.name);
out:
    ovs_mutex_unlock(&eswitch_mutex);
    return error;
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
    bool virtio;
    int error;

    ovs_mutex_lock(&eswitch_mutex);
    error = resolve_spec(spec, &esw, &vport, errp);
    if (error) {
        goto out;
    }
    esw_vport_get_info(esw->dev, vport, &info);
    virtio = info.kind == ESW_VPORT_SF && info.fn >= ESW_SF_VIRTIO_MIN;

    /* Check everything before changing anything. */
    if (!virtio && (a->queues || a->has_features)) {
        *errp = xasprintf("--%s applies only to virtio devices, and %s is "
                          "%s", a->queues ? "queues" : "features", info.name,
                          eswitch_kind_to_string(info.kind, info.fn));
        error = EINVAL;
        goto out;
    }
    if (info.io_type == ESW_IO_VHOST_USER && (a->queues || a->has_features)) {
        /* They are what the socket offers the guest. */
        *errp = xasprintf("the %s of %s cannot change: its vhost-user host "
                          "side offers them; unplug it and hotplug it again",
                          a->queues ? "queues" : "features", info.name);
        error = EBUSY;
        goto out;
    }
    if (a->queues && rep_queues(a->queues) != info.n_rep_queues
        && find_claim(esw, vport)) {
        /* OVS polls the representor's queues: they cannot change under
         * it. */
        *errp = xasprintf("%s is in use by port %s: remove the port first "
                          "to change its queues",
                          info.name, find_claim(esw, vport)->port_name);
        error = EBUSY;
        goto out;
    }
    if (a->has_mac) {
        error = check_mac(&a->mac, errp);
        if (!error) {
            error = check_mac_unique(esw, &a->mac, vport, errp);
        }
        if (error) {
            goto out;
        }
    }

    /* The new state is saved first: a change that cannot be persisted is
     * not made (and the previous state is put back if the device refuses
     * it after all). */
    had_fn = find_fn(esw, vport) != NULL;
    fn = get_fn(esw, &info);
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
    error = eswitch_state_save(state_dir, &st, errp);
    if (error) {
        goto undo_fn;
    }

    if (a->queues) {
        struct esw_error err;

        error = esw_vport_set_rep_queues(esw->dev, vport,
                                         rep_queues(a->queues), &err);
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
        set_link(esw, vport, link_wanted(esw, vport, esw->managed));
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
    if (had_fn) {
        char *error2 = NULL;

        fn_state(esw, fn, &info, &st);
        if (eswitch_state_save(state_dir, &st, &error2)) {
            VLOG_WARN("%s", error2);
            free(error2);
        }
    } else {
        char *error2 = NULL;

        if (eswitch_state_remove(state_dir, esw->name, info.name, &error2)) {
            VLOG_WARN("%s", error2);
            free(error2);
        }
    }
undo_fn:
    if (!had_fn) {
        remove_fn(esw, fn);
    }
out:
    ovs_mutex_unlock(&eswitch_mutex);
    return error;
}

struct json *
eswitch_mgmt_config(void)
{
    struct json *json = json_object_create();

    ovs_mutex_lock(&eswitch_mutex);
    json_object_put_string(json, "config_file",
                           config_file_name ? config_file_name : "");
    json_object_put_string(json, "state_dir", state_dir ? state_dir : "");
    json_object_put(json, "configured_pfs",
                    json_integer_create(file_cfg.n_pfs));
    json_object_put_format(json, "virtio_features", "0x%"PRIx64,
                           file_cfg.virtio_features);
    json_object_put(json, "virtio_queues",
                    json_integer_create(file_cfg.virtio_queues));
    json_object_put(json, "virtio_mtu",
                    json_integer_create(file_cfg.virtio_mtu));
    json_object_put_format(json, "sf_pool", "%"PRIu32"-%"PRIu32,
                           file_cfg.sf_first, file_cfg.sf_last);
    ovs_mutex_unlock(&eswitch_mutex);
    return json;
}
