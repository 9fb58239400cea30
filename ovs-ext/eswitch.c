/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/eswitch.c: eSwitch instances (creation, destruction, layouts),
 * claims (which port holds which function), links; the module's globals. */

#include <config.h>

#include "eswitch-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ct-offload.h"
#include "dirs.h"
#include "echo-arg.h"
#include "eswitch-dpdk.h"
#include "netdev-offload-esw.h"
#include "eswitch-state.h"
#include "hash.h"
#include "if-notifier.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "seq.h"
#include "smap.h"
#include "util.h"
#include "values.h"

VLOG_DEFINE_THIS_MODULE(eswitch);

/* Uplink options and their defaults. */
#define ESWITCH_MAX_SFS     ESWITCH_MAX_STATIC_SFS

/* The globals of the eSwitch module (eswitch*.c).
 * ===============================================
 *
 * 'eswitch_mutex' protects every eSwitch instance (each 'struct eswitch'
 * and what hangs off it: claims, management records) and the settings
 * below that say "guarded".  It is taken after port-policy.c's mutex,
 * never before; the device calls made under it take only the device's
 * own locks.  Everything runs in the main thread (netdev set_config and
 * destruct, bridge_run, unixctl), so it is never contended: it states
 * what belongs together.
 *
 * The settings come from three places:
 *
 *   - Open_vSwitch other_config (eswitch_set_ovs_config(), and
 *     eswitch_set_max_rules() and eswitch_set_max_conns() from the
 *     offload provider): the layout of eSwitches created from it
 *     ('eswitch_ovs_layout'), their rule and connection capacities and
 *     whether their forwarding threads spin;
 *
 *   - ovs-vswitchd's command line (eswitch_set_mgmt_options(), before the
 *     main loop, hence not guarded): the configuration file, the recovery
 *     state directory and whether to wipe it;
 *
 *   - the configuration file itself, read once at the first
 *     eswitch_set_ovs_config() ('eswitch_mgmt_started'): its PFs and the
 *     defaults of hotplugged functions ('eswitch_file_cfg'). */
struct ovs_mutex eswitch_mutex = OVS_MUTEX_INITIALIZER;

/* Every eSwitch instance ("struct eswitch"), by name. */
struct hmap eswitches OVS_GUARDED_BY(eswitch_mutex)
    = HMAP_INITIALIZER(&eswitches);

/* Rule capacity of eSwitches created from now on (0: driver default). */
static uint32_t eswitch_max_rules OVS_GUARDED_BY(eswitch_mutex);

/* Connection table capacity of eSwitches created from now on (0: none,
 * ESWITCH_CONNS_DEFAULT: driver default). */
static uint32_t eswitch_max_conns OVS_GUARDED_BY(eswitch_mutex)
    = ESWITCH_CONNS_DEFAULT;

/* Whether eSwitches created from now on spin on their host sides instead
 * of sleeping (other_config:eswitch-busy-poll, for benchmarks). */
static bool eswitch_busy_poll OVS_GUARDED_BY(eswitch_mutex);

/* The layout of the eSwitches that other_config makes. */
static struct eswitch_layout eswitch_ovs_layout OVS_GUARDED_BY(eswitch_mutex)
    = {
    .n_vfs = ESWITCH_DEFAULT_VFS,
    .n_sfs = ESWITCH_DEFAULT_SFS,
    .host_io = ESWITCH_IO_AUTO,
};

/* The configuration file, the recovery state directory (NULL until the
 * first configuration: then their defaults) and --eswitch-reset. */
char *eswitch_config_file;
char *eswitch_state_dir;
bool eswitch_reset_state;

/* Whether the configuration file was read and the recovery state
 * restored, and what the file configures (built-in defaults without a
 * file). */
bool eswitch_mgmt_started OVS_GUARDED_BY(eswitch_mutex);
struct eswitch_file_config eswitch_file_cfg OVS_GUARDED_BY(eswitch_mutex) = {
    .virtio_features = ESWITCH_DEFAULT_FEATURES,
    .virtio_queues = 1,
    .virtio_mtu = 1500,
    .sf_first = ESW_SF_VIRTIO_MIN,
    .sf_last = ESWITCH_MAX_SF,
    .default_host_io = ESWITCH_IO_AUTO,
};

/* Directory of vhost-user sockets (other_config:eswitch-vhost-dir, NULL:
 * OVS's run directory): default sockets are "<eswitch>-<function>.sock"
 * there, and relative --vhost-user names are in it. */
char *eswitch_vhost_dir OVS_GUARDED_BY(eswitch_mutex);

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

/* Layouts.
 * ======== */

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
        error = value_parse_uint_arg("eswitch-vfs", value, 0, ESWITCH_MAX_VFS,
                                  &layout->n_vfs, errp);
        if (error) {
            return error;
        }
    }
    layout->n_sfs = ESWITCH_DEFAULT_SFS;
    value = smap_get(other_config, "eswitch-sfs");
    if (value) {
        error = value_parse_uint_arg("eswitch-sfs", value, 0, ESWITCH_MAX_SFS,
                                  &layout->n_sfs, errp);
        if (error) {
            return error;
        }
    }

    value = smap_get_def(other_config, "eswitch-host-io", "auto");
    if (!eswitch_host_io_from_string(value, &layout->host_io)) {
        *errp = value_invalid("eswitch-host-io", value,
                              "auto, tap, capture or vhost-user");
        return EINVAL;
    }

    value = smap_get(other_config, "eswitch-uplink-wire");
    if (value && value[0]) {
        const char *path = (!strncmp(value, "punix:", 6) ? value + 6
                            : !strncmp(value, "unix:", 5) ? value + 5 : NULL);

        if (!path || path[0] != '/' || strlen(path) >= sizeof layout->wire) {
            *errp = value_invalid("eswitch-uplink-wire", value,
                                  "punix:PATH or unix:PATH, PATH absolute "
                                  "and at most 107 bytes");
            return EINVAL;
        }
        ovs_strlcpy(layout->wire, path, sizeof layout->wire);
        layout->wire_client = value[0] == 'u';
    }
    return 0;
}

/* The host side of function 'id' of an eSwitch laid out by 'layout',
 * given what its other functions' host sides are ('io_type'): the
 * uplink's is the wire if there is one.  Fills in '*sock' for a wire. */
static enum esw_io_type
layout_fn_io_type__(const struct eswitch_layout *layout,
                    const struct eswitch_fn_id *id, enum esw_io_type io_type,
                    bool vhost_user, struct eswitch_vhost_args *sock)
    OVS_REQUIRES(eswitch_mutex)
{
    if (id->kind == ESW_VPORT_UPLINK && layout->wire[0]) {
        sock->path = layout->wire;
        sock->client = layout->wire_client;
        return ESW_IO_WIRE;
    }
    return eswitch_fn_io_type__(id, io_type, vhost_user);
}

/* Stores in 'ids' (up to 'max') every function that an eSwitch serving PF
 * 'pf' has with 'layout', uplink first, and returns how many. */
static size_t
layout_functions(const struct eswitch_layout *layout, uint32_t pf,
                 struct eswitch_fn_id ids[], size_t max)
{
    return eswitch_layout_functions(layout->n_vfs, layout->n_sfs, pf, ids,
                                    max);
}

/* What the host-io setting 'io' resolves to, once tap was tried. */
static enum esw_io_type
host_io_type(enum eswitch_host_io io)
{
    return io == ESWITCH_IO_CAPTURE ? ESW_IO_CAPTURE : ESW_IO_TAP;
}

/* Functions.
 * ========== */

uint32_t
eswitch_rep_queues(uint32_t queues)
{
    return MIN(MAX(queues, 1), ESW_MAX_REP_QUEUES);
}

bool
eswitch_fn_is_virtio(const struct eswitch_fn_id *id)
{
    return id->kind == ESW_VPORT_SF && id->fn >= ESW_SF_VIRTIO_MIN;
}

/* Adds function 'id' to 'dev' with 'mac' (NULL: its default MAC), 'mtu'
 * (0: 1500) and 'queues' virtio-net queue pairs (0: not virtio), with a
 * host side of 'io_type' ('vhost' for vhost-user: NULL for the default
 * socket and features; for a wire: its socket path and mode).  Stores its vport number in '*vportp' (may be
 * NULL). */
int
eswitch_add_function(struct esw_dev *dev, const struct eswitch_fn_id *id,
                     const struct esw_eth_addr *mac, uint32_t mtu,
                     uint32_t queues, enum esw_io_type io_type,
                     const struct eswitch_vhost_args *vhost, bool link_up,
                     uint32_t *vportp, char **errp)
    OVS_REQUIRES(eswitch_mutex)
{
    struct esw_io_config io = { .type = io_type };
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
    cfg.mac = mac ? *mac : eswitch_default_mac(id->kind, id->pf, id->fn);
    cfg.mtu = mtu;
    cfg.admin_down = !link_up;
    cfg.n_rep_queues = eswitch_rep_queues(queues);
    cfg.io = &io;
    if (io_type == ESW_IO_VHOST_USER) {
        char *path;

        eswitch_format_fn_name(id, name);
        path = (vhost && vhost->path ? xstrdup(vhost->path)
                : xasprintf("%s/%s-%s.sock", eswitch_vhost_dir
                            ? eswitch_vhost_dir : ovs_rundir(),
                            esw_dev_name(dev), name));
        if (strlen(path) >= sizeof io.path) {
            *errp = xasprintf("%s: cannot add function %s: vhost-user socket "
                              "path %s is longer than %d bytes",
                              esw_dev_name(dev), name, path,
                              ESW_PATH_MAX - 1);
            free(path);
            return EINVAL;
        }
        ovs_strlcpy(io.path, path, sizeof io.path);
        free(path);
        io.client = vhost && vhost->client;
        io.virtio_features = (vhost ? vhost->features
                              : ESWITCH_DEFAULT_FEATURES);
        io.n_queues = MAX(queues, 1);
    } else if (io_type == ESW_IO_WIRE) {
        ovs_strlcpy(io.path, vhost->path, sizeof io.path);
        io.client = vhost->client;
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
uint32_t *
eswitch_list_vports(struct esw_dev *dev, size_t *np)
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

/* The queue pairs of function 'id' until it has a record of its own. */
uint32_t
eswitch_default_queues__(const struct eswitch_fn_id *id)
    OVS_REQUIRES(eswitch_mutex)
{
    return eswitch_fn_is_virtio(id) ? eswitch_file_cfg.virtio_queues : 0;
}

/* The record of a function that has none of its own. */
void
eswitch_fn_defaults__(const struct eswitch_fn_id *id, struct eswitch_fn *fn)
    OVS_REQUIRES(eswitch_mutex)
{
    memset(fn, 0, sizeof *fn);
    fn->id = *id;
    fn->features = (eswitch_fn_is_virtio(id)
                    ? eswitch_file_cfg.virtio_features : 0);
    fn->queues = eswitch_default_queues__(id);
    fn->link_state = ESWITCH_LINK_AUTO;
}

struct eswitch_fn *
eswitch_fn_find__(const struct eswitch *esw, uint32_t vport)
    OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_fn *fn;

    HMAP_FOR_EACH_WITH_HASH (fn, node, hash_int(vport, 0), &esw->fns) {
        if (fn->vport == vport) {
            return fn;
        }
    }
    return NULL;
}

/* Returns the record of 'info''s function, created if needed. */
struct eswitch_fn *
eswitch_fn_get__(struct eswitch *esw, const struct esw_vport_info *info)
    OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_fn *fn = eswitch_fn_find__(esw, info->vport);

    if (!fn) {
        struct eswitch_fn_id id = { info->kind, info->pf, info->fn };

        fn = xmalloc(sizeof *fn);
        eswitch_fn_defaults__(&id, fn);
        fn->vport = info->vport;
        hmap_insert(&esw->fns, &fn->node, hash_int(fn->vport, 0));
    }
    return fn;
}

void
eswitch_fn_remove__(struct eswitch *esw, struct eswitch_fn *fn)
    OVS_REQUIRES(eswitch_mutex)
{
    if (fn->hotplugged) {
        esw->n_hotplugged--;
    }
    hmap_remove(&esw->fns, &fn->node);
    free(fn);
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
enum esw_io_type
eswitch_fn_io_type__(const struct eswitch_fn_id *id, enum esw_io_type esw_io,
                     bool vhost_user)
    OVS_REQUIRES(eswitch_mutex)
{
    char name[ESW_NAME_MAX];

    eswitch_format_fn_name(id, name);
    for (size_t i = 0; i < eswitch_file_cfg.n_io_overrides; i++) {
        const struct eswitch_io_override *o
            = &eswitch_file_cfg.io_overrides[i];

        if (!strcmp(o->function, name) && o->host_io != ESWITCH_IO_AUTO) {
            if (o->host_io == ESWITCH_IO_VHOST_USER) {
                return (eswitch_fn_is_virtio(id) ? ESW_IO_VHOST_USER
                        : esw_io);
            }
            return host_io_type(o->host_io);
        }
    }
    return (vhost_user && eswitch_fn_is_virtio(id) ? ESW_IO_VHOST_USER
            : esw_io);
}

/* Instances.
 * ========== */

struct eswitch *
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

/* Adds the functions 'ids' of an eSwitch configured by 'pfc' (NULL:
 * other_config) to 'dev', with host sides 'io' (tap falls back to capture
 * when 'io' is "auto" or "vhost-user" and tap devices are not available;
 * "vhost-user" gives the virtio-net functions vhost-user host sides with
 * their default sockets).  Stores what the
 * host sides resolved to in '*io_typep'.  On failure the device may hold
 * some of the functions: closing it takes them. */
static int
add_layout_functions(struct esw_dev *dev, const struct eswitch_fn_id ids[],
                     size_t n_ids, const struct eswitch_pf_config *pfc,
                     const struct eswitch_layout *layout,
                     enum esw_io_type *io_typep,
                     char **errp) OVS_REQUIRES(eswitch_mutex)
{
    enum eswitch_host_io io = layout->host_io;
    enum esw_io_type io_type = host_io_type(io);
    bool vhost_user = io == ESWITCH_IO_VHOST_USER;
    bool tried_tap = false;

    for (size_t i = 0; i < n_ids; i++) {
        struct eswitch_vhost_args vhost = {
            .features = eswitch_file_cfg.virtio_features
        };
        struct esw_eth_addr mac;
        bool has_mac = static_mac(pfc, &ids[i], &mac);
        uint32_t queues = eswitch_default_queues__(&ids[i]);
        enum esw_io_type fn_io = layout_fn_io_type__(layout, &ids[i], io_type,
                                                     vhost_user, &vhost);
        char name[ESW_NAME_MAX];
        uint32_t vport;
        int error;

        eswitch_format_fn_name(&ids[i], name);
        if (!esw_vport_lookup(dev, name, &vport)) {
            /* Taken over from a previous ovs-vswitchd (the device outlived
             * it, DESIGN.md 3.2): the function stays as it is, host side
             * included. */
            continue;
        }
        error = eswitch_add_function(dev, &ids[i], has_mac ? &mac : NULL, 0,
                                     queues, fn_io, &vhost, false, NULL,
                                     errp);
        if (error && !tried_tap && fn_io == ESW_IO_TAP
            && (io == ESWITCH_IO_AUTO || vhost_user)
            && (error == EACCES || error == ENODEV || error == EPERM)) {
            VLOG_INFO("%s: tap devices are not available (%s): the "
                      "functions' host sides are in memory (capture)",
                      esw_dev_name(dev), *errp);
            free(*errp);
            *errp = NULL;
            io_type = ESW_IO_CAPTURE;
            error = eswitch_add_function(
                dev, &ids[i], has_mac ? &mac : NULL, 0, queues,
                eswitch_fn_io_type__(&ids[i], io_type, vhost_user), &vhost,
                false, NULL, errp);
        }
        tried_tap |= fn_io == ESW_IO_TAP;
        if (error) {
            return error;
        }
    }
    *io_typep = io_type;
    return 0;
}

/* The driver of the eSwitches the configuration file does not describe:
 * "sim", in this process, unless $OVS_EXT_ESW_DRIVER names another
 * ("remote": the device hosted by the device daemon ovs-eswitchd). */
static const char *
eswitch_default_driver(void)
{
    const char *driver = getenv("OVS_EXT_ESW_DRIVER");

    return driver && driver[0] ? driver : "sim";
}

/* Records the functions of taken-over 'esw' beyond its layout 'ids' as
 * hotplugged ones (a previous ovs-vswitchd's, or ovs-eswitchctl --daemon's
 * in ovs-eswitchd), so that "unplug" removes them as it would have. */
static void
adopt_hotplugged__(struct eswitch *esw, const struct eswitch_fn_id ids[],
                   size_t n_ids) OVS_REQUIRES(eswitch_mutex)
{
    size_t n;
    uint32_t *vports = eswitch_list_vports(esw->dev, &n);

    for (size_t i = 0; i < n; i++) {
        struct esw_vport_info info;
        bool in_layout = false;

        if (esw_vport_get_info(esw->dev, vports[i], &info)) {
            continue;
        }
        for (size_t j = 0; j < n_ids && !in_layout; j++) {
            in_layout = (ids[j].kind == info.kind
                         && (info.kind == ESW_VPORT_UPLINK
                             || ids[j].pf == info.pf)
                         && ids[j].fn == info.fn);
        }
        if (!in_layout && (info.kind == ESW_VPORT_VF
                           || info.kind == ESW_VPORT_SF)) {
            struct eswitch_fn *fn = eswitch_fn_get__(esw, &info);

            if (!fn->hotplugged) {
                fn->hotplugged = true;
                esw->n_hotplugged++;
                esw->pinned = true;
            }
        }
    }
    free(vports);
}

/* Creates eSwitch 'name' serving PF 'pf' with the functions of its layout:
 * the configuration file's 'pfc' if nonnull, else other_config's.  Undone
 * by eswitch_destroy__(). */
int
eswitch_create__(const char *name, uint32_t pf,
                 const struct eswitch_pf_config *pfc, struct eswitch **eswp,
                 char **errp) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_layout layout = eswitch_ovs_layout;
    struct esw_emu_dev_config emu = { .busy_poll = eswitch_busy_poll };
    struct esw_dev_config dev_cfg = { .max_vports = ESWITCH_MAX_VPORTS,
                                      .max_rules = eswitch_max_rules,
                                      .emu = &emu };
    struct eswitch_fn_id ids[ESWITCH_MAX_FUNCTIONS];
    enum esw_io_type io_type;
    struct esw_dev *dev;
    struct eswitch *esw;
    size_t n_ids;
    int error;

    if (!eswitch_max_conns) {
        /* No connection table: a ct action would only ever miss. */
        dev_cfg.disabled_actions = 1u << ESW_ACTION_CT;
        dev_cfg.disabled_match_fields = ((1u << ESW_MATCH_CT_STATE)
                                         | (1u << ESW_MATCH_CT_ZONE)
                                         | (1u << ESW_MATCH_CT_MARK)
                                         | (1u << ESW_MATCH_CT_LABEL));
    } else if (eswitch_max_conns != ESWITCH_CONNS_DEFAULT) {
        dev_cfg.max_conns = eswitch_max_conns;
    }
    if (pfc) {
        layout.n_vfs = pfc->n_vfs;
        layout.n_sfs = 0;
        layout.host_io = eswitch_file_cfg.default_host_io;
    }
    n_ids = layout_functions(&layout, pf, ids, ARRAY_SIZE(ids));

    error = esw_dev_open(name, pfc ? pfc->driver : eswitch_default_driver(),
                         &dev_cfg, &dev);
    if (error) {
        struct echo_buf b;

        *errp = xasprintf("cannot open eswitch %s: %s", echo_arg(name, &b),
                          error == ENODEV && pfc
                          ? "no such driver" : ovs_strerror(error));
        return error;
    }
    size_t n_before = esw_vport_list(dev, NULL, 0);
    error = add_layout_functions(dev, ids, n_ids, pfc, &layout, &io_type,
                                 errp);
    if (!error && n_before) {
        size_t n_rules = netdev_offload_esw_adopt(dev);

        VLOG_INFO("%s: taken over from the device as a previous "
                  "ovs-vswitchd left it: %"PRIuSIZE" functions kept with "
                  "their host sides, %"PRIuSIZE" rules (kept while OVS "
                  "re-creates their flows)", name, n_before, n_rules);
    }
    if (error) {
        esw_dev_close(dev);     /* Takes the added vports with it. */
        return error;
    }

    esw = xzalloc(sizeof *esw);
    ovs_strlcpy(esw->name, name, sizeof esw->name);
    esw->pf = pf;
    esw->dev = dev;
    esw->layout = layout;
    esw->io_type = io_type;
    esw->vhost_user = layout.host_io == ESWITCH_IO_VHOST_USER;
    esw->pfc = pfc;
    esw->pinned = pfc != NULL;
    esw->adopted = n_before > 0;
    snprintf(esw->uplink_name, sizeof esw->uplink_name, "p%"PRIu32, pf);
    hmap_init(&esw->claims);
    hmap_init(&esw->fns);
    hmap_insert(&eswitches, &esw->node, hash_string(esw->name, 0));
    ct_offload_dev_added(dev);
    if (esw->adopted) {
        adopt_hotplugged__(esw, ids, n_ids);
    }
    VLOG_INFO("%s: eswitch created%s: uplink, host PF, %"PRIu32" VFs, %"
              PRIu32" virtio-net devices, host sides %s%s%s%s%s", esw->name,
              pfc ? " from the configuration file" : "", layout.n_vfs,
              layout.n_sfs, esw_io_type_name(io_type),
              esw->vhost_user ? " (virtio-net: vhost-user)" : "",
              layout.wire[0] ? " (uplink: wire " : "",
              layout.wire[0] ? layout.wire : "", layout.wire[0] ? ")" : "");
    *eswp = esw;
    return 0;
}

/* Undoes eswitch_create__(), with every claim and management record. */
void
eswitch_destroy__(struct eswitch *esw) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_claim *claim;
    struct eswitch_fn *fn;

    VLOG_INFO("%s: eswitch destroyed: no port uses it", esw->name);
    hmap_remove(&eswitches, &esw->node);
    HMAP_FOR_EACH_POP (claim, node, &esw->claims) {
        free(claim->port_name);
        free(claim);
    }
    hmap_destroy(&esw->claims);
    HMAP_FOR_EACH_POP (fn, node, &esw->fns) {
        free(fn);
    }
    hmap_destroy(&esw->fns);
    ct_offload_dev_removed(esw->dev);
    esw_dev_close(esw->dev);
    free(esw);
}

/* Destroys 'esw' if nothing keeps it: no uplink port, no claim, not
 * pinned by management. */
void
eswitch_destroy_if_unused__(struct eswitch *esw) OVS_REQUIRES(eswitch_mutex)
{
    if (!esw->managed && hmap_is_empty(&esw->claims) && !esw->pinned) {
        eswitch_destroy__(esw);
    }
}

/* The configuration file's PF 'pf', if any. */
const struct eswitch_pf_config *
eswitch_file_pf__(uint32_t pf) OVS_REQUIRES(eswitch_mutex)
{
    for (size_t i = 0; i < eswitch_file_cfg.n_pfs; i++) {
        if (eswitch_file_cfg.pfs[i].pf == pf) {
            return &eswitch_file_cfg.pfs[i];
        }
    }
    return NULL;
}

/* Finds eSwitch 'name' for PF 'pf', creating it if needed. */
int
eswitch_get__(const char *name, uint32_t pf, struct eswitch **eswp,
              char **errp) OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch_pf_config *pfc = eswitch_file_pf__(pf);
    struct eswitch *esw = eswitch_lookup__(name);

    if (!esw && pfc) {
        char default_name[ESW_NAME_MAX];

        eswitch_default_name(pf, default_name);
        if (!strcmp(name, default_name)) {
            /* A port that names no eSwitch gets the one the configuration
             * file gives its PF. */
            esw = eswitch_lookup__(pfc->eswitch);
        }
    }
    if (!esw) {
        if (pfc && strcmp(pfc->eswitch, name)) {
            *errp = xasprintf("PF %"PRIu32" is served by eswitch %s (see %s),"
                              " not %s", pf, pfc->eswitch,
                              eswitch_config_file, name);
            return EINVAL;
        }
        return eswitch_create__(name, pf, NULL, eswp, errp);
    }
    if (esw->pf != pf) {
        *errp = xasprintf("eswitch %s serves PF %"PRIu32", not PF %"PRIu32,
                          name, esw->pf, pf);
        return EINVAL;
    }
    *eswp = esw;
    return 0;
}

/* Removes function 'vport' ('info') of 'esw', which the layout no longer
 * has, unless a port holds it. */
static void
relayout_remove(struct eswitch *esw, const struct esw_vport_info *info)
    OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_claim *claim = eswitch_claim_find__(esw, info->vport);
    struct eswitch_fn *fn = eswitch_fn_find__(esw, info->vport);

    if (claim) {
        VLOG_WARN("%s: function %s stays: it is in use by port %s",
                  esw->name, info->name, claim->port_name);
        return;
    }
    esw_vport_del(esw->dev, info->vport);
    if (fn) {
        char *error = NULL;

        if (eswitch_state_dir
            && eswitch_state_remove(eswitch_state_dir, esw->name,
                                    info->name, &error)) {
            VLOG_WARN("%s", error);
            free(error);
        }
        eswitch_fn_remove__(esw, fn);
    }
}

/* Adjusts the functions of 'esw' to the current layout: adds missing ones
 * and removes unclaimed ones the layout no longer has.  Functions in use by
 * a port stay (and are reported), as does the host side of an eSwitch with
 * ports.  Hotplugged functions and eSwitches from the configuration file
 * are not other_config's business.  Returns true if it added functions. */
static bool
eswitch_relayout__(struct eswitch *esw) OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch_layout *layout = &eswitch_ovs_layout;
    struct eswitch_fn_id ids[ESWITCH_MAX_FUNCTIONS];
    size_t n_ids = layout_functions(layout, esw->pf, ids, ARRAY_SIZE(ids));
    bool new_io = layout->host_io != esw->layout.host_io;
    bool new_wire = (strcmp(layout->wire, esw->layout.wire)
                     || layout->wire_client != esw->layout.wire_client);
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
        esw->io_type = host_io_type(layout->host_io);
        esw->vhost_user = layout->host_io == ESWITCH_IO_VHOST_USER;
    }
    if (new_wire) {
        uint32_t uplink;

        if (!esw_vport_lookup(esw->dev, esw->uplink_name, &uplink)
            && eswitch_claim_find__(esw, uplink)) {
            VLOG_WARN("%s: eswitch-uplink-wire cannot change while port %s "
                      "uses the uplink: remove it first", esw->name,
                      esw->uplink_name);
            new_wire = false;
        }
    }

    vports = eswitch_list_vports(esw->dev, &n_vports);
    for (size_t i = 0; i < n_vports; i++) {
        struct eswitch_fn *fn = eswitch_fn_find__(esw, vports[i]);
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
        if (!wanted || new_io
            || (new_wire && info.kind == ESW_VPORT_UPLINK)) {
            relayout_remove(esw, &info);
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
        struct eswitch_vhost_args vhost = {
            .features = eswitch_file_cfg.virtio_features
        };

        struct eswitch_layout wire_layout = esw->layout;

        if (new_wire) {
            memcpy(wire_layout.wire, layout->wire, sizeof wire_layout.wire);
            wire_layout.wire_client = layout->wire_client;
        }
        if (eswitch_add_function(esw->dev, &ids[j], NULL, 0,
                                 eswitch_default_queues__(&ids[j]),
                                 layout_fn_io_type__(&wire_layout, &ids[j],
                                                     esw->io_type,
                                                     esw->vhost_user, &vhost),
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
    if (new_wire) {
        memcpy(esw->layout.wire, layout->wire, sizeof esw->layout.wire);
        esw->layout.wire_client = layout->wire_client;
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

static void
format_max_conns(struct ds *s, uint32_t max_conns)
{
    if (max_conns == ESWITCH_CONNS_DEFAULT) {
        ds_put_cstr(s, "the driver's default");
    } else {
        ds_put_format(s, "%"PRIu32, max_conns);
    }
}

void
eswitch_set_max_conns(uint32_t max_conns)
{
    ovs_mutex_lock(&eswitch_mutex);
    if (max_conns != eswitch_max_conns && !hmap_is_empty(&eswitches)) {
        struct ds s = DS_EMPTY_INITIALIZER;
        const struct eswitch *esw;

        /* A table is sized when its device is created: say which ones
         * this does not change. */
        ds_put_cstr(&s, "eswitch-max-conns ");
        format_max_conns(&s, eswitch_max_conns);
        ds_put_cstr(&s, " -> ");
        format_max_conns(&s, max_conns);
        ds_put_cstr(&s, ": applies to eswitches created from now on;");
        HMAP_FOR_EACH (esw, node, &eswitches) {
            ds_put_format(&s, " %s keeps %"PRIuSIZE",", esw->name,
                          esw_ct_capacity(esw->dev));
        }
        ds_chomp(&s, ',');
        VLOG_INFO("%s", ds_cstr(&s));
        ds_destroy(&s);
    }
    eswitch_max_conns = max_conns;
    ovs_mutex_unlock(&eswitch_mutex);
}

uint32_t
eswitch_get_max_conns(void)
{
    uint32_t max_conns;

    ovs_mutex_lock(&eswitch_mutex);
    max_conns = eswitch_max_conns;
    ovs_mutex_unlock(&eswitch_mutex);
    return max_conns;
}

/* Applies other_config:eswitch-vhost-dir (an absolute directory) to the
 * vhost-user sockets created from now on. */
static void
set_vhost_dir(const char *dir) OVS_REQUIRES(eswitch_mutex)
{
    static char *last_bad;

    if (dir && dir[0] != '/') {
        if (!last_bad || strcmp(last_bad, dir)) {
            struct echo_buf b;

            VLOG_WARN("Open_vSwitch other_config: invalid eswitch-vhost-dir "
                      "\"%s\": expected an absolute directory (keeping %s)",
                      echo_arg(dir, &b), eswitch_vhost_dir
                      ? eswitch_vhost_dir : ovs_rundir());
            free(last_bad);
            last_bad = xstrdup(dir);
        }
        return;
    }
    free(last_bad);
    last_bad = NULL;
    if (!dir != !eswitch_vhost_dir
        || (dir && strcmp(dir, eswitch_vhost_dir))) {
        free(eswitch_vhost_dir);
        eswitch_vhost_dir = dir ? xstrdup(dir) : NULL;
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
    if (layout_ok && memcmp(&layout, &eswitch_ovs_layout, sizeof layout)) {
        eswitch_ovs_layout = layout;
        HMAP_FOR_EACH (esw, node, &eswitches) {
            added |= eswitch_relayout__(esw);
        }
    }
    if (!eswitch_mgmt_started) {
        /* The first configuration is known: bring up the configuration
         * file's eSwitches and restore recovery state, before any port of
         * the database is set up. */
        eswitch_mgmt_started = true;
        eswitch_mgmt_start__();
        added = true;
    }
    ovs_mutex_unlock(&eswitch_mutex);

    if (added) {
        /* Ports that failed for lack of these functions get retried. */
        if_notifier_manual_report();
    }
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

/* Links.
 * ====== */

/* Whether 'vport' of 'esw' has its link up while the eSwitch is (or is
 * not, per 'managed') managed: functions' links are up only while the
 * eSwitch has its manager, unless forced with "ovs-eswitchctl modify
 * --link-state". */
bool
eswitch_link_wanted__(const struct eswitch *esw, uint32_t vport,
                      bool managed) OVS_REQUIRES(eswitch_mutex)
{
    const struct eswitch_fn *fn = eswitch_fn_find__(esw, vport);

    return (fn && fn->link_state != ESWITCH_LINK_AUTO
            ? fn->link_state == ESWITCH_LINK_UP : managed);
}

/* Sets the administrative link state of 'vport' and tells the
 * representors (eswitch_link_seq()). */
void
eswitch_set_link__(struct eswitch *esw, uint32_t vport, bool up)
    OVS_REQUIRES(eswitch_mutex)
{
    esw_vport_set_admin_state(esw->dev, vport, up);
    seq_change(eswitch_link_seq());
}

/* The uplink's state moves every function whose link state is "auto". */
static void
set_all_links__(struct eswitch *esw, bool up) OVS_REQUIRES(eswitch_mutex)
{
    size_t n;
    uint32_t *vports = eswitch_list_vports(esw->dev, &n);

    for (size_t i = 0; i < n; i++) {
        eswitch_set_link__(esw, vports[i],
                           eswitch_link_wanted__(esw, vports[i], up));
    }
    free(vports);
}

/* Claims.
 * ======= */

struct eswitch_claim *
eswitch_claim_find__(const struct eswitch *esw, uint32_t vport)
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
add_claim__(struct eswitch *esw, uint32_t vport, const char *port_name)
    OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch_claim *claim = xzalloc(sizeof *claim);

    claim->vport = vport;
    claim->port_name = xstrdup(port_name);
    hmap_insert(&esw->claims, &claim->node, hash_int(vport, 0));
    esw->claimed = true;
}

/* After a port failed to claim a function of 'esw' (it has none of that
 * name): destroys 'esw' if nothing keeps it, except a device taken over
 * from a previous ovs-vswitchd that no port has used yet.  When a new
 * ovs-vswitchd restores its ports one by one, the first may name a
 * function that is gone (unplugged meanwhile): closing the device then
 * would destroy, in the device daemon, every function the next ports
 * come for, with their host sides. */
static void
eswitch_claim_failed__(struct eswitch *esw) OVS_REQUIRES(eswitch_mutex)
{
    if (!esw->adopted || esw->claimed) {
        eswitch_destroy_if_unused__(esw);
    }
}

static void
remove_claim__(struct eswitch *esw, struct eswitch_claim *claim)
    OVS_REQUIRES(eswitch_mutex)
{
    hmap_remove(&esw->claims, &claim->node);
    free(claim->port_name);
    free(claim);
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
    error = eswitch_get__(esw_name, id.pf, &esw, errp);
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
        eswitch_claim_failed__(esw);
        goto out;
    }
    if (!esw->managed) {
        esw->managed = true;
        ovs_strlcpy(esw->uplink_name, port_name, sizeof esw->uplink_name);
        add_claim__(esw, vport, port_name);
        set_all_links__(esw, true);
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
        struct eswitch_claim *claim = eswitch_claim_find__(esw, vport);

        if (claim) {
            remove_claim__(esw, claim);
        }
    }
    if (!hmap_is_empty(&esw->claims)) {
        VLOG_INFO("%s: uplink port %s removed: the links of the remaining "
                  "%"PRIuSIZE" functions in use are down until it returns",
                  esw->name, esw->uplink_name, hmap_count(&esw->claims));
    }
    if (!hmap_is_empty(&esw->claims) || esw->pinned) {
        set_all_links__(esw, false);
    }
    eswitch_destroy_if_unused__(esw);
    ovs_mutex_unlock(&eswitch_mutex);
}

int
eswitch_claim(const char *esw_name, const struct eswitch_fn_id *id,
              const char *port_name, struct eswitch **eswp,
              uint32_t *vportp, bool *newp, char **errp)
{
    char fn_name[ESW_NAME_MAX];
    struct eswitch_claim *claim;
    struct eswitch *esw;
    uint32_t vport;
    int error;

    eswitch_format_fn_name(id, fn_name);

    ovs_mutex_lock(&eswitch_mutex);
    error = eswitch_get__(esw_name, id->pf, &esw, errp);
    if (error) {
        goto out;
    }
    if (esw_vport_lookup(esw->dev, fn_name, &vport)) {
        *errp = xasprintf("eswitch %s has no function %s (it has %"PRIu32
                          " VFs and %"PRIu32" virtio-net devices)",
                          esw->name, fn_name, esw->layout.n_vfs,
                          esw->layout.n_sfs);
        eswitch_claim_failed__(esw);
        error = ENOENT;
        goto out;
    }
    claim = eswitch_claim_find__(esw, vport);
    if (claim && strcmp(claim->port_name, port_name)) {
        *errp = xasprintf("function %s of eswitch %s is already in use by "
                          "port %s", fn_name, esw->name, claim->port_name);
        error = EBUSY;
        goto out;
    }
    if (!claim) {
        add_claim__(esw, vport, port_name);
    }
    *eswp = esw;
    *vportp = vport;
    *newp = !claim;
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
    claim = eswitch_claim_find__(esw, vport);
    if (claim) {
        remove_claim__(esw, claim);
    }
    eswitch_destroy_if_unused__(esw);
    ovs_mutex_unlock(&eswitch_mutex);
}

void
eswitch_claim_set_held(struct eswitch *esw, uint32_t vport, bool held)
{
    struct eswitch_claim *claim;

    ovs_mutex_lock(&eswitch_mutex);
    claim = eswitch_claim_find__(esw, vport);
    if (claim) {
        claim->held = held;
    }
    ovs_mutex_unlock(&eswitch_mutex);
}

static struct eswitch *
eswitch_from_dev__(const struct esw_dev *dev) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch *esw;

    HMAP_FOR_EACH_WITH_HASH (esw, node, hash_string(esw_dev_name(dev), 0),
                             &eswitches) {
        if (esw->dev == dev) {
            return esw;
        }
    }
    return NULL;
}

bool
eswitch_function_port(const struct esw_dev *dev, uint32_t vport,
                      char **port_namep, bool *heldp)
{
    const struct eswitch_claim *claim = NULL;
    const struct eswitch *esw;

    ovs_mutex_lock(&eswitch_mutex);
    esw = eswitch_from_dev__(dev);
    if (esw) {
        claim = eswitch_claim_find__(esw, vport);
    }
    if (claim) {
        if (port_namep) {
            *port_namep = xstrdup(claim->port_name);
        }
        if (heldp) {
            *heldp = claim->held;
        }
    }
    ovs_mutex_unlock(&eswitch_mutex);
    return claim != NULL;
}

size_t
eswitch_list_claims(const char *port_name, bool held_only,
                    struct eswitch_claim_info **infosp)
{
    struct eswitch_claim_info *infos = NULL;
    size_t n = 0, allocated = 0;
    struct eswitch *esw;

    ovs_mutex_lock(&eswitch_mutex);
    HMAP_FOR_EACH (esw, node, &eswitches) {
        const struct eswitch_claim *claim;

        HMAP_FOR_EACH (claim, node, &esw->claims) {
            if ((port_name && strcmp(port_name, claim->port_name))
                || (held_only && !claim->held)) {
                continue;
            }
            if (n >= allocated) {
                infos = x2nrealloc(infos, &allocated, sizeof *infos);
            }
            infos[n++] = (struct eswitch_claim_info) {
                .esw = esw,
                .vport = claim->vport,
                .port_name = xstrdup(claim->port_name),
                .held = claim->held,
            };
        }
    }
    ovs_mutex_unlock(&eswitch_mutex);
    *infosp = infos;
    return n;
}

void
eswitch_claim_infos_destroy(struct eswitch_claim_info *infos, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(infos[i].port_name);
    }
    free(infos);
}
