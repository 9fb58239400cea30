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

#include "hash.h"
#include "if-notifier.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/thread.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(eswitch);

/* Uplink options and their defaults. */
#define ESWITCH_DEFAULT_VFS 4
#define ESWITCH_DEFAULT_SFS 0
#define ESWITCH_MAX_VFS     32
#define ESWITCH_MAX_SFS     16

enum eswitch_host_io {
    ESWITCH_IO_AUTO,            /* tap if permitted, else capture. */
    ESWITCH_IO_TAP,
    ESWITCH_IO_CAPTURE,
};

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
        *errp = xasprintf("invalid %s \"%s\": expected an integer "
                          "between %"PRIu32" and %"PRIu32,
                          key, value, min, max);
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
        *errp = xasprintf("invalid eswitch \"%s\": expected up to %d "
                          "lowercase letters, digits, '-' or '_'",
                          value, ESW_NAME_MAX - 1);
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

            for (k = known; *k; k++) {
                ds_put_format(&list, "%s%s", k == known ? "" : ", ", *k);
            }
            *errp = xasprintf("%s: unknown option \"%s\" (known: %s)",
                              port_name, node->key, ds_cstr(&list));
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
    static const char *const rep_options[] = {
        "eswitch", "pf", "vf", "sf", NULL
    };
    static const char *const uplink_options[] = {
        "eswitch", "pf", NULL
    };
    const char *fn_key = (kind == ESW_VPORT_VF ? "vf"
                          : kind == ESW_VPORT_SF ? "sf" : NULL);
    const char *value;
    bool named;
    int error;

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
    } else {
        *errp = xasprintf("invalid eswitch-host-io \"%s\": expected auto, "
                          "tap or capture", value);
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
    struct esw_eth_addr mac = { { 0x02, 0x65, id->pf & 0xff, id->kind,
                                  (id->fn >> 8) & 0xff, id->fn & 0xff } };
    return mac;
}

static int
add_function(struct esw_dev *dev, const struct eswitch_fn_id *id,
             enum esw_io_type io_type, bool link_up, char **errp)
{
    struct esw_vport_config cfg;
    struct esw_error err;
    char name[ESW_NAME_MAX];
    int error;

    memset(&cfg, 0, sizeof cfg);
    cfg.kind = id->kind;
    cfg.pf = id->pf;
    cfg.fn = id->fn;
    cfg.vport = ESW_VPORT_AUTO;
    cfg.mac = default_mac(id);
    cfg.admin_down = !link_up;
    cfg.io.type = io_type;

    error = esw_vport_add(dev, &cfg, &err, NULL);
    if (error) {
        eswitch_format_fn_name(id, name);
        *errp = xasprintf("%s: cannot add function %s: %s", esw_dev_name(dev),
                          name, err.reason[0] ? err.reason
                          : ovs_strerror(error));
    }
    return error;
}

/* eSwitch instances.
 * ================== */

struct eswitch {
    struct hmap_node node;      /* In 'eswitches', by name. */
    char name[ESW_NAME_MAX];
    uint32_t pf;                /* The PF it serves. */
    struct esw_dev *dev;        /* One reference. */
    struct eswitch_layout layout;   /* What it was last laid out with. */
    enum esw_io_type io_type;   /* What the host-io setting resolved to. */
    char uplink_name[ESW_NAME_MAX];  /* Its uplink port's name. */
    bool managed;               /* The uplink port exists. */
    struct hmap claims;         /* Contains "struct eswitch_claim"s. */
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

/* Functions' links are up only while the eSwitch has its manager. */
static void
set_all_links(struct eswitch *esw, bool up) OVS_REQUIRES(eswitch_mutex)
{
    uint32_t vports[MAX_FUNCTIONS];
    size_t n = esw_vport_list(esw->dev, vports, ARRAY_SIZE(vports));

    for (size_t i = 0; i < MIN(n, ARRAY_SIZE(vports)); i++) {
        esw_vport_set_admin_state(esw->dev, vports[i], up);
    }
}

/* Creates eSwitch 'name' serving PF 'pf' with the functions of the current
 * layout. */
static int
eswitch_create(const char *name, uint32_t pf, struct eswitch **eswp,
               char **errp) OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch_layout *layout = &ovs_layout;
    struct eswitch_fn_id ids[MAX_FUNCTIONS];
    size_t n_ids = layout_functions(layout, pf, ids, ARRAY_SIZE(ids));
    enum esw_io_type io_type;
    struct esw_dev *dev;
    struct eswitch *esw;
    int error;

    error = esw_dev_open(name, "sim", NULL, &dev);
    if (error) {
        *errp = xasprintf("cannot open eswitch %s: %s", name,
                          ovs_strerror(error));
        return error;
    }

    io_type = (layout->host_io == ESWITCH_IO_CAPTURE ? ESW_IO_CAPTURE
               : ESW_IO_TAP);
    for (size_t i = 0; i < n_ids; i++) {
        error = add_function(dev, &ids[i], io_type, false, errp);
        if (error && i == 0 && layout->host_io == ESWITCH_IO_AUTO
            && (error == EACCES || error == ENODEV || error == EPERM)) {
            VLOG_INFO("%s: tap devices are not available (%s): the "
                      "functions' host sides are in memory (capture)",
                      name, *errp);
            free(*errp);
            *errp = NULL;
            io_type = ESW_IO_CAPTURE;
            error = add_function(dev, &ids[i], io_type, false, errp);
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
    esw->layout = *layout;
    esw->io_type = io_type;
    snprintf(esw->uplink_name, sizeof esw->uplink_name, "p%"PRIu32, pf);
    hmap_init(&esw->claims);
    hmap_insert(&eswitches, &esw->node, hash_string(esw->name, 0));
    VLOG_INFO("%s: eswitch created: uplink, host PF, %"PRIu32" VFs, %"PRIu32
              " virtio-net devices, host sides %s", esw->name, layout->n_vfs,
              layout->n_sfs, esw_io_type_name(io_type));
    *eswp = esw;
    return 0;
}

/* Finds eSwitch 'name' for PF 'pf', creating it if needed. */
static int
eswitch_get(const char *name, uint32_t pf, struct eswitch **eswp,
            char **errp) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch *esw = eswitch_lookup__(name);

    if (!esw) {
        return eswitch_create(name, pf, eswp, errp);
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
 * ports.  Returns true if it added functions. */
static bool
eswitch_relayout(struct eswitch *esw) OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch_layout *layout = &ovs_layout;
    struct eswitch_fn_id ids[MAX_FUNCTIONS];
    size_t n_ids = layout_functions(layout, esw->pf, ids, ARRAY_SIZE(ids));
    bool new_io = layout->host_io != esw->layout.host_io;
    uint32_t vports[MAX_FUNCTIONS];
    bool added = false;
    size_t n_vports;

    if (new_io && !hmap_is_empty(&esw->claims)) {
        VLOG_WARN("%s: eswitch-host-io cannot change while ports use the "
                  "functions of the eswitch: remove them first", esw->name);
        new_io = false;
    } else if (new_io) {
        esw->io_type = (layout->host_io == ESWITCH_IO_CAPTURE
                        ? ESW_IO_CAPTURE : ESW_IO_TAP);
    }

    n_vports = esw_vport_list(esw->dev, vports, ARRAY_SIZE(vports));
    for (size_t i = 0; i < MIN(n_vports, ARRAY_SIZE(vports)); i++) {
        struct esw_vport_info info;
        bool wanted = false;

        if (esw_vport_get_info(esw->dev, vports[i], &info)) {
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
            }
        }
    }

    for (size_t j = 0; j < n_ids; j++) {
        char name[ESW_NAME_MAX];
        uint32_t vport;
        char *error;

        eswitch_format_fn_name(&ids[j], name);
        if (!esw_vport_lookup(esw->dev, name, &vport)) {
            continue;
        }
        if (add_function(esw->dev, &ids[j], esw->io_type, esw->managed,
                         &error)) {
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
eswitch_set_ovs_config(const struct smap *other_config)
{
    static char *last_error;
    struct eswitch_layout layout;
    struct eswitch *esw;
    bool added = false;
    char *error = NULL;

    if (parse_ovs_layout(other_config, &layout, &error)) {
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
        return;
    }
    free(last_error);
    last_error = NULL;

    ovs_mutex_lock(&eswitch_mutex);
    if (memcmp(&layout, &ovs_layout, sizeof layout)) {
        ovs_layout = layout;
        HMAP_FOR_EACH (esw, node, &eswitches) {
            added |= eswitch_relayout(esw);
        }
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
    if (esw->managed || !hmap_is_empty(&esw->claims)) {
        return;
    }
    VLOG_INFO("%s: eswitch destroyed: no port uses it", esw->name);
    hmap_remove(&eswitches, &esw->node);
    hmap_destroy(&esw->claims);
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
