/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>

#include "eswitch-config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "util.h"

bool
eswitch_host_io_from_string(const char *s, enum eswitch_host_io *io)
{
    if (!strcmp(s, "auto")) {
        *io = ESWITCH_IO_AUTO;
    } else if (!strcmp(s, "tap")) {
        *io = ESWITCH_IO_TAP;
    } else if (!strcmp(s, "capture")) {
        *io = ESWITCH_IO_CAPTURE;
    } else if (!strcmp(s, "vhost-user")) {
        *io = ESWITCH_IO_VHOST_USER;
    } else {
        return false;
    }
    return true;
}

const char *
eswitch_host_io_to_string(enum eswitch_host_io io)
{
    return (io == ESWITCH_IO_TAP ? "tap"
            : io == ESWITCH_IO_CAPTURE ? "capture"
            : io == ESWITCH_IO_VHOST_USER ? "vhost-user" : "auto");
}

bool
eswitch_mac_from_string(const char *s, struct esw_eth_addr *mac)
{
    unsigned int b[6];
    int n = 0;

    if (strlen(s) != 17
        || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2],
                  &b[3], &b[4], &b[5], &n) != 6 || n != 17) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        if (s[i * 3] == ' ' || s[i * 3] == '+' || s[i * 3] == '-'
            || (i < 5 && s[i * 3 + 2] != ':')) {
            return false;
        }
        mac->ea[i] = b[i];
    }
    return true;
}

struct esw_eth_addr
eswitch_default_mac(enum esw_vport_kind kind, uint32_t pf, uint32_t fn)
{
    struct esw_eth_addr mac = { { 0x02, 0x65, pf & 0xff, kind,
                                  (fn >> 8) & 0xff, fn & 0xff } };
    return mac;
}

void
eswitch_file_config_init(struct eswitch_file_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->virtio_features = ESWITCH_DEFAULT_FEATURES;
    cfg->virtio_queues = 1;
    cfg->virtio_mtu = 1500;
    cfg->sf_first = ESW_SF_VIRTIO_MIN;
    cfg->sf_last = ESWITCH_MAX_SF;
    cfg->default_host_io = ESWITCH_IO_AUTO;
}

void
eswitch_file_config_destroy(struct eswitch_file_config *cfg)
{
    if (cfg) {
        free(cfg->pfs);
        free(cfg->io_overrides);
        cfg->pfs = NULL;
        cfg->io_overrides = NULL;
        cfg->n_pfs = cfg->n_io_overrides = 0;
    }
}

enum eswitch_host_io
eswitch_file_config_host_io(const struct eswitch_file_config *cfg,
                            const char *fn_name)
{
    for (size_t i = 0; i < cfg->n_io_overrides; i++) {
        if (!strcmp(cfg->io_overrides[i].function, fn_name)) {
            return cfg->io_overrides[i].host_io;
        }
    }
    return cfg->default_host_io;
}

/* Parsing helpers.  Each stores a message "FIELD: ..." in '*errp' on
 * failure. */

static int OVS_PRINTF_FORMAT(3, 4)
field_error(char **errp, const char *field, const char *format, ...)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    va_list args;

    ds_put_format(&s, "%s: ", field);
    va_start(args, format);
    ds_put_format_valist(&s, format, args);
    va_end(args);
    *errp = ds_steal_cstr(&s);
    return EINVAL;
}

/* Checks that 'json' is an object whose keys are all in 'known'. */
static int
check_object(const struct json *json, const char *field,
             const char *const known[], char **errp)
{
    const struct shash_node **nodes;
    int error = 0;

    if (json->type != JSON_OBJECT) {
        return field_error(errp, field, "expected an object, not %s",
                           json_type_to_string(json->type));
    }
    nodes = shash_sort(json_object(json));
    for (size_t i = 0; i < shash_count(json_object(json)) && !error; i++) {
        const char *const *k;

        for (k = known; *k && strcmp(*k, nodes[i]->name); k++) {
            continue;
        }
        if (!*k) {
            struct ds list = DS_EMPTY_INITIALIZER;

            for (k = known; *k; k++) {
                ds_put_format(&list, "%s%s", k == known ? "" : ", ", *k);
            }
            error = field_error(errp, field, "unknown key \"%s\" (known: %s)",
                                nodes[i]->name, ds_cstr(&list));
            ds_destroy(&list);
        }
    }
    free(nodes);
    return error;
}

static int
get_uint(const struct json *obj, const char *key, const char *field,
         uint32_t min, uint32_t max, bool required, uint32_t *out,
         char **errp)
{
    const struct json *v = shash_find_data(json_object(obj), key);
    char *name = xasprintf("%s%s%s", field, field[0] ? "." : "", key);
    int error = 0;

    if (!v) {
        if (required) {
            error = field_error(errp, name, "missing");
        }
    } else if (v->type != JSON_INTEGER) {
        error = field_error(errp, name, "expected an integer, not %s",
                            json_type_to_string(v->type));
    } else if (v->integer < min || v->integer > max) {
        error = field_error(errp, name, "%lld is out of range %"PRIu32
                            "..%"PRIu32, v->integer, min, max);
    } else {
        *out = v->integer;
    }
    free(name);
    return error;
}

static int
get_string(const struct json *obj, const char *key, const char *field,
           const char **out, char **errp)
{
    const struct json *v = shash_find_data(json_object(obj), key);

    if (!v) {
        return 0;
    } else if (v->type != JSON_STRING) {
        return field_error(errp, field, "expected a string, not %s",
                           json_type_to_string(v->type));
    }
    *out = json_string(v);
    return 0;
}

static void
format_mac(const struct esw_eth_addr *mac, char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac->ea[0],
             mac->ea[1], mac->ea[2], mac->ea[3], mac->ea[4], mac->ea[5]);
}

static int
get_mac(const struct json *obj, const char *key, const char *field,
        bool *has, struct esw_eth_addr *mac, char **errp)
{
    const char *s = NULL;
    int error = get_string(obj, key, field, &s, errp);

    if (error || !s) {
        return error;
    }
    if (!eswitch_mac_from_string(s, mac)) {
        return field_error(errp, field, "\"%s\" is not a MAC address", s);
    }
    if (mac->ea[0] & 1) {
        return field_error(errp, field, "%s is a multicast address: a "
                           "function's MAC must be unicast", s);
    }
    if (!(mac->ea[0] | mac->ea[1] | mac->ea[2] | mac->ea[3] | mac->ea[4]
          | mac->ea[5])) {
        return field_error(errp, field, "the all-zeros MAC is not valid");
    }
    *has = true;
    return 0;
}

static int
parse_name(const char *s, const char *field, char out[ESW_NAME_MAX],
           char **errp)
{
    size_t len = strlen(s);

    if (!len || len >= ESW_NAME_MAX
        || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_") != len) {
        return field_error(errp, field, "invalid name \"%s\": expected up "
                           "to %d lowercase letters, digits, '-' or '_'",
                           s, ESW_NAME_MAX - 1);
    }
    ovs_strlcpy(out, s, ESW_NAME_MAX);
    return 0;
}

/* MAC ranges, for uniqueness across the device. */
struct mac_range {
    uint64_t first, last;       /* As 48-bit integers. */
    char *owner;                /* "pfs[0].mac_base", "uplinks[1].mac". */
};

/* Formats the name of function 'fn' of kind 'kind' of PF 'pf' as its
 * representor is named. */
static void
format_fn_name(enum esw_vport_kind kind, uint32_t pf, uint32_t fn,
               char name[ESW_NAME_MAX])
{
    switch (kind) {
    case ESW_VPORT_UPLINK:
        snprintf(name, ESW_NAME_MAX, "p%"PRIu32, pf);
        break;
    case ESW_VPORT_PF:
        snprintf(name, ESW_NAME_MAX, "pf%"PRIu32"hpf", pf);
        break;
    case ESW_VPORT_VF:
        snprintf(name, ESW_NAME_MAX, "pf%"PRIu32"vf%"PRIu32, pf, fn);
        break;
    case ESW_VPORT_SF:
    default:
        snprintf(name, ESW_NAME_MAX, "pf%"PRIu32"sf%"PRIu32, pf, fn);
        break;
    }
}

static uint64_t
mac_to_u64(const struct esw_eth_addr *mac)
{
    uint64_t v = 0;

    for (int i = 0; i < 6; i++) {
        v = (v << 8) | mac->ea[i];
    }
    return v;
}

static void
u64_to_mac(uint64_t v, struct esw_eth_addr *mac)
{
    for (int i = 5; i >= 0; i--) {
        mac->ea[i] = v & 0xff;
        v >>= 8;
    }
}

static void
format_range(const struct mac_range *r, struct ds *s)
{
    struct esw_eth_addr a;
    char buf[18];

    u64_to_mac(r->first, &a);
    format_mac(&a, buf);
    ds_put_cstr(s, buf);
    if (r->last != r->first) {
        u64_to_mac(r->last, &a);
        format_mac(&a, buf);
        ds_put_format(s, "-%s", buf);
    }
}

/* Adds 'r' to 'ranges' unless it overlaps one there. */
static int
add_range(struct mac_range *ranges, size_t *n, struct mac_range r,
          char **errp)
{
    for (size_t i = 0; i < *n; i++) {
        if (r.first <= ranges[i].last && ranges[i].first <= r.last) {
            struct ds a = DS_EMPTY_INITIALIZER, b = DS_EMPTY_INITIALIZER;
            int error;

            format_range(&r, &a);
            format_range(&ranges[i], &b);
            error = field_error(errp, r.owner, "%s %s %s %s (%s)",
                                r.first == r.last ? "MAC" : "MAC range",
                                ds_cstr(&a), (r.first == r.last
                                              ? "is already used by"
                                              : "overlaps"),
                                ranges[i].owner, ds_cstr(&b));
            ds_destroy(&a);
            ds_destroy(&b);
            free(r.owner);
            return error;
        }
    }
    ranges[(*n)++] = r;
    return 0;
}

static int
parse_pf(const struct json *json, const char *field,
         struct eswitch_pf_config *pf, char **errp)
{
    static const char *const known[] = {
        "pf", "eswitch", "driver", "mac_base", "vfs_per_pf", NULL
    };
    const char *s;
    int error;

    memset(pf, 0, sizeof *pf);
    ovs_strlcpy(pf->driver, "sim", sizeof pf->driver);
    pf->n_vfs = 4;
    error = check_object(json, field, known, errp);
    if (!error) {
        error = get_uint(json, "pf", field, 0, ESWITCH_MAX_PFS - 1, true,
                         &pf->pf, errp);
    }
    if (!error) {
        const struct json *v = shash_find_data(json_object(json),
                                               "vfs_per_pf");
        if (v && v->type == JSON_INTEGER && v->integer > ESWITCH_MAX_VFS) {
            char *name = xasprintf("%s.vfs_per_pf", field);

            error = field_error(errp, name, "%lld VFs are more than the "
                                "device supports (at most %d per PF)",
                                v->integer, ESWITCH_MAX_VFS);
            free(name);
        } else {
            error = get_uint(json, "vfs_per_pf", field, 0, ESWITCH_MAX_VFS,
                             false, &pf->n_vfs, errp);
        }
    }
    snprintf(pf->eswitch, sizeof pf->eswitch, "esw%"PRIu32, pf->pf);
    s = NULL;
    if (!error) {
        char *name = xasprintf("%s.eswitch", field);

        error = get_string(json, "eswitch", name, &s, errp);
        if (!error && s) {
            error = parse_name(s, name, pf->eswitch, errp);
        }
        free(name);
    }
    s = NULL;
    if (!error) {
        char *name = xasprintf("%s.driver", field);

        error = get_string(json, "driver", name, &s, errp);
        if (!error && s) {
            error = parse_name(s, name, pf->driver, errp);
        }
        free(name);
    }
    if (!error) {
        char *name = xasprintf("%s.mac_base", field);

        error = get_mac(json, "mac_base", name, &pf->has_mac_base,
                        &pf->mac_base, errp);
        free(name);
    }
    return error;
}

size_t
eswitch_file_config_macs(const struct eswitch_file_config *cfg,
                         struct eswitch_file_mac **macsp)
{
    size_t n = 0, allocated = 0;
    struct eswitch_file_mac *macs = NULL;

    for (size_t i = 0; i < cfg->n_pfs; i++) {
        const struct eswitch_pf_config *pf = &cfg->pfs[i];

        for (uint32_t k = 0; pf->has_mac_base && k <= pf->n_vfs; k++) {
            struct eswitch_file_mac *m;

            if (n >= allocated) {
                macs = x2nrealloc(macs, &allocated, sizeof *macs);
            }
            m = &macs[n++];
            snprintf(m->field, sizeof m->field, "pfs[%u].mac_base",
                     (unsigned int) i);
            ovs_strlcpy(m->eswitch, pf->eswitch, sizeof m->eswitch);
            format_fn_name(k ? ESW_VPORT_VF : ESW_VPORT_PF, pf->pf,
                           k ? k - 1 : 0, m->function);
            u64_to_mac(mac_to_u64(&pf->mac_base) + k, &m->mac);
        }
    }
    /* Uplinks in the order of "uplinks". */
    for (size_t i = 0; ; i++) {
        const struct eswitch_pf_config *pf = NULL;

        for (size_t j = 0; j < cfg->n_pfs; j++) {
            if (cfg->pfs[j].has_uplink_mac && cfg->pfs[j].uplink_index == i) {
                pf = &cfg->pfs[j];
            }
        }
        if (!pf) {
            break;
        }
        if (n >= allocated) {
            macs = x2nrealloc(macs, &allocated, sizeof *macs);
        }
        snprintf(macs[n].field, sizeof macs[n].field, "uplinks[%u].mac",
                 (unsigned int) i);
        ovs_strlcpy(macs[n].eswitch, pf->eswitch, sizeof macs[n].eswitch);
        format_fn_name(ESW_VPORT_UPLINK, pf->pf, 0, macs[n].function);
        macs[n].mac = pf->uplink_mac;
        n++;
    }
    *macsp = macs;
    return n;
}

/* Whether the static function with default MAC 'mac' (see
 * eswitch_default_mac()) keeps that MAC under 'cfg': then stores its name
 * and its eSwitch's in 'fn_name' and 'esw_name'.  The static functions of
 * an eSwitch the file does not configure are those of any Open_vSwitch
 * other_config layout (uplink, host PF, VFs 0..31, virtio-net devices
 * 1000..1015); those of the file's eSwitches are the uplink and, without
 * "mac_base", the host PF and its VFs.  Hotplugged functions are left to
 * hotplug, which refuses a MAC in use. */
static bool
static_default_mac_owner(const struct eswitch_file_config *cfg,
                         const struct esw_eth_addr *mac,
                         char esw_name[ESW_NAME_MAX],
                         char fn_name[ESW_NAME_MAX])
{
    const struct eswitch_pf_config *pfc = NULL;
    uint32_t pf = mac->ea[2], kind = mac->ea[3];
    uint32_t fn = (mac->ea[4] << 8) | mac->ea[5];
    bool keeps;

    if (mac->ea[0] != 0x02 || mac->ea[1] != 0x65 || pf >= ESWITCH_MAX_PFS) {
        return false;
    }
    for (size_t i = 0; i < cfg->n_pfs; i++) {
        if (cfg->pfs[i].pf == pf) {
            pfc = &cfg->pfs[i];
        }
    }
    switch (kind) {
    case ESW_VPORT_UPLINK:
        keeps = !fn && !(pfc && pfc->has_uplink_mac);
        break;
    case ESW_VPORT_PF:
        keeps = !fn && !(pfc && pfc->has_mac_base);
        break;
    case ESW_VPORT_VF:
        keeps = (pfc
                 ? !pfc->has_mac_base && fn < pfc->n_vfs
                 : fn < ESWITCH_MAX_VFS);
        break;
    case ESW_VPORT_SF:
        keeps = (!pfc && fn >= ESW_SF_VIRTIO_MIN
                 && fn < ESW_SF_VIRTIO_MIN + ESWITCH_MAX_STATIC_SFS);
        break;
    default:
        return false;
    }
    if (keeps) {
        if (pfc) {
            ovs_strlcpy(esw_name, pfc->eswitch, ESW_NAME_MAX);
        } else {
            snprintf(esw_name, ESW_NAME_MAX, "esw%"PRIu32, pf);
        }
        format_fn_name(kind, pf, fn, fn_name);
    }
    return keeps;
}

/* Refuses a MAC of the file that is the default MAC of a static function
 * that keeps it, in any eSwitch. */
static int
check_default_macs(const struct eswitch_file_config *cfg, char **errp)
{
    struct eswitch_file_mac *macs;
    size_t n = eswitch_file_config_macs(cfg, &macs);
    int error = 0;

    for (size_t i = 0; i < n && !error; i++) {
        char esw_name[ESW_NAME_MAX], fn_name[ESW_NAME_MAX];

        if (static_default_mac_owner(cfg, &macs[i].mac, esw_name, fn_name)
            && (strcmp(esw_name, macs[i].eswitch)
                || strcmp(fn_name, macs[i].function))) {
            char buf[18];

            format_mac(&macs[i].mac, buf);
            error = field_error(errp, macs[i].field, "MAC %s of %s is the "
                                "default MAC of function %s of eswitch %s",
                                buf, macs[i].function, fn_name, esw_name);
        }
    }
    free(macs);
    return error;
}

static int
parse_config(const struct json *json, struct eswitch_file_config *cfg,
             char **errp)
{
    static const char *const top_keys[] = {
        "pfs", "uplinks", "virtio", "sf_pool", "host_io", NULL
    };
    static const char *const uplink_keys[] = { "port", "mac", NULL };
    static const char *const virtio_keys[] = {
        "features", "queues", "mtu", NULL
    };
    static const char *const pool_keys[] = { "first", "last", NULL };
    struct mac_range *ranges = NULL;
    const struct json *v;
    size_t n_ranges = 0;
    int error;

    error = check_object(json, "(top level)", top_keys, errp);
    if (error) {
        return error;
    }

    v = shash_find_data(json_object(json), "pfs");
    if (v) {
        if (v->type != JSON_ARRAY) {
            return field_error(errp, "pfs", "expected an array, not %s",
                               json_type_to_string(v->type));
        }
        if (v->array.n > ESWITCH_MAX_PFS) {
            return field_error(errp, "pfs", "%"PRIuSIZE" PFs are more than "
                               "the device supports (at most %d)",
                               v->array.n, ESWITCH_MAX_PFS);
        }
        cfg->pfs = xcalloc(v->array.n ? v->array.n : 1, sizeof *cfg->pfs);
        ranges = xcalloc(2 * ESWITCH_MAX_PFS, sizeof *ranges);
        for (size_t i = 0; i < v->array.n; i++) {
            struct eswitch_pf_config *pf = &cfg->pfs[i];
            char *field = xasprintf("pfs[%"PRIuSIZE"]", i);

            error = parse_pf(v->array.elems[i], field, pf, errp);
            for (size_t j = 0; !error && j < i; j++) {
                if (cfg->pfs[j].pf == pf->pf) {
                    error = field_error(errp, field, "PF %"PRIu32" is "
                                        "already configured by pfs[%"
                                        PRIuSIZE"]", pf->pf, j);
                } else if (!strcmp(cfg->pfs[j].eswitch, pf->eswitch)) {
                    error = field_error(errp, field, "eswitch %s already "
                                        "serves PF %"PRIu32" (pfs[%"PRIuSIZE
                                        "])", pf->eswitch, cfg->pfs[j].pf, j);
                }
            }
            if (!error && pf->has_mac_base) {
                struct mac_range r;

                r.first = mac_to_u64(&pf->mac_base);
                r.last = r.first + pf->n_vfs;
                if ((r.first & UINT64_C(0xffffffffff)) + pf->n_vfs
                    > UINT64_C(0xffffffffff)) {
                    char mac[18];

                    format_mac(&pf->mac_base, mac);
                    error = field_error(errp, field, "mac_base %s: its "
                                        "%"PRIu32" MACs run past "
                                        "%02x:ff:ff:ff:ff:ff", mac,
                                        pf->n_vfs + 1, pf->mac_base.ea[0]);
                } else {
                    r.owner = xasprintf("%s.mac_base", field);
                    error = add_range(ranges, &n_ranges, r, errp);
                }
            }
            free(field);
            if (error) {
                goto out;
            }
            cfg->n_pfs++;
        }
    }

    v = shash_find_data(json_object(json), "uplinks");
    if (v) {
        if (v->type != JSON_ARRAY) {
            error = field_error(errp, "uplinks", "expected an array, not %s",
                                json_type_to_string(v->type));
            goto out;
        }
        for (size_t i = 0; i < v->array.n; i++) {
            const struct json *u = v->array.elems[i];
            char *field = xasprintf("uplinks[%"PRIuSIZE"]", i);
            char *mac_field = xasprintf("%s.mac", field);
            struct eswitch_pf_config *pf = NULL;
            struct esw_eth_addr mac;
            bool has_mac = false;
            uint32_t port = 0;

            error = check_object(u, field, uplink_keys, errp);
            if (!error) {
                error = get_uint(u, "port", field, 0, ESWITCH_MAX_PFS - 1,
                                 true, &port, errp);
            }
            if (!error) {
                for (size_t j = 0; j < cfg->n_pfs; j++) {
                    if (cfg->pfs[j].pf == port) {
                        pf = &cfg->pfs[j];
                    }
                }
                if (!pf) {
                    error = field_error(errp, field, "no PF %"PRIu32" in "
                                        "\"pfs\" for uplink p%"PRIu32,
                                        port, port);
                } else if (pf->has_uplink_mac) {
                    error = field_error(errp, field, "uplink p%"PRIu32" is "
                                        "configured twice", port);
                }
            }
            if (!error) {
                error = get_mac(u, "mac", mac_field, &has_mac, &mac, errp);
            }
            if (!error && has_mac) {
                struct mac_range r = { mac_to_u64(&mac), mac_to_u64(&mac),
                                       xstrdup(mac_field) };

                error = add_range(ranges, &n_ranges, r, errp);
                pf->has_uplink_mac = true;
                pf->uplink_mac = mac;
                pf->uplink_index = i;
            }
            free(mac_field);
            free(field);
            if (error) {
                goto out;
            }
        }
    }

    error = check_default_macs(cfg, errp);
    if (error) {
        goto out;
    }

    v = shash_find_data(json_object(json), "virtio");
    if (v) {
        const char *s = NULL;

        error = check_object(v, "virtio", virtio_keys, errp);
        if (!error) {
            error = get_uint(v, "queues", "virtio", 1, ESWITCH_MAX_QUEUES,
                             false, &cfg->virtio_queues, errp);
        }
        if (!error) {
            error = get_uint(v, "mtu", "virtio", ESWITCH_MIN_MTU,
                             ESWITCH_MAX_MTU, false, &cfg->virtio_mtu, errp);
        }
        if (!error) {
            error = get_string(v, "features", "virtio.features", &s, errp);
        }
        if (!error && s) {
            char *end;

            errno = 0;
            cfg->virtio_features = strtoull(s, &end, 16);
            if (strncmp(s, "0x", 2) || !s[2] || *end || errno) {
                error = field_error(errp, "virtio.features", "\"%s\" is not "
                                    "a hexadecimal number (0x...)", s);
            }
        }
        if (error) {
            goto out;
        }
    }

    v = shash_find_data(json_object(json), "sf_pool");
    if (v) {
        const struct json *first;

        error = check_object(v, "sf_pool", pool_keys, errp);
        first = error ? NULL : shash_find_data(json_object(v), "first");
        if (first && first->type == JSON_INTEGER
            && first->integer < ESW_SF_VIRTIO_MIN) {
            error = field_error(errp, "sf_pool.first", "%lld is below %d: "
                                "virtio-net devices use SF numbers %d and up",
                                first->integer, ESW_SF_VIRTIO_MIN,
                                ESW_SF_VIRTIO_MIN);
        }
        if (!error) {
            error = get_uint(v, "first", "sf_pool", ESW_SF_VIRTIO_MIN,
                             ESWITCH_MAX_SF, false, &cfg->sf_first, errp);
        }
        if (!error) {
            error = get_uint(v, "last", "sf_pool", cfg->sf_first,
                             ESWITCH_MAX_SF, false, &cfg->sf_last, errp);
        }
        if (error) {
            goto out;
        }
    }

    v = shash_find_data(json_object(json), "host_io");
    if (v) {
        const struct shash_node **nodes;
        size_t n;

        if (v->type != JSON_OBJECT) {
            error = field_error(errp, "host_io", "expected an object, not %s",
                                json_type_to_string(v->type));
            goto out;
        }
        n = shash_count(json_object(v));
        cfg->io_overrides = xcalloc(n ? n : 1, sizeof *cfg->io_overrides);
        nodes = shash_sort(json_object(v));
        for (size_t i = 0; i < n && !error; i++) {
            const struct json *io = nodes[i]->data;
            char *field = xasprintf("host_io.%s", nodes[i]->name);
            enum eswitch_host_io host_io;

            if (io->type != JSON_STRING
                || !eswitch_host_io_from_string(json_string(io), &host_io)) {
                error = field_error(errp, field, "expected \"auto\", "
                                    "\"tap\", \"capture\" or "
                                    "\"vhost-user\"");
            } else if (!strcmp(nodes[i]->name, "default")) {
                cfg->default_host_io = host_io;
            } else if (strlen(nodes[i]->name) >= ESW_NAME_MAX) {
                error = field_error(errp, field, "not a function name");
            } else {
                struct eswitch_io_override *o
                    = &cfg->io_overrides[cfg->n_io_overrides++];

                ovs_strlcpy(o->function, nodes[i]->name, sizeof o->function);
                o->host_io = host_io;
            }
            free(field);
        }
        free(nodes);
    }

out:
    for (size_t i = 0; i < n_ranges; i++) {
        free(ranges[i].owner);
    }
    free(ranges);
    return error;
}

char *
eswitch_json_file_error(const char *file_name, const char *msg)
{
    int line, column, byte, n = 0;

    /* OVS counts lines from 0: people count from 1. */
    if (sscanf(msg, "line %d, column %d, byte %d: %n", &line, &column,
               &byte, &n) == 3 && n) {
        return xasprintf("%s: line %d, column %d: %s", file_name, line + 1,
                         column, msg + n);
    }
    return xasprintf("%s: %s", file_name, msg);
}

static const char *
file_type_name(mode_t mode)
{
    return (S_ISLNK(mode) ? "a symbolic link"
            : S_ISFIFO(mode) ? "a FIFO"
            : S_ISDIR(mode) ? "a directory"
            : S_ISSOCK(mode) ? "a socket"
            : S_ISCHR(mode) ? "a character device"
            : S_ISBLK(mode) ? "a block device"
            : "of an unknown type");
}

/* Refuses 'st' unless it is a regular file of at most 'max_size' bytes. */
static struct json *
check_file_stat(const struct stat *st, off_t max_size)
{
    if (!S_ISREG(st->st_mode)) {
        return json_string_create_nocopy(
            xasprintf("not a regular file (%s)", file_type_name(st->st_mode)));
    }
    if (st->st_size > max_size) {
        return json_string_create_nocopy(
            xasprintf("too large (%lld bytes; at most %lld)",
                      (long long int) st->st_size,
                      (long long int) max_size));
    }
    return NULL;
}

struct json *
eswitch_json_from_file_at(int dirfd, const char *name, off_t max_size)
{
    struct stat before, st;
    struct json *json;
    FILE *stream;
    int fd;

    /* Look first, so that nothing but a regular file is ever opened: the
     * open of a FIFO blocks, that of a device may do anything. */
    if (fstatat(dirfd, name, &before, AT_SYMLINK_NOFOLLOW)) {
        return json_string_create_nocopy(
            xasprintf("error opening \"%s\": %s", name,
                      ovs_strerror(errno)));
    }
    json = check_file_stat(&before, max_size);
    if (json) {
        return json;
    }

    /* It may have been replaced since: O_NOFOLLOW and O_NONBLOCK make sure
     * the open cannot follow a link or block, and the same checks apply to
     * what was opened. */
    fd = openat(dirfd, name,
                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        return json_string_create_nocopy(
            xasprintf("error opening \"%s\": %s", name,
                      errno == ELOOP ? "not a regular file (a symbolic link)"
                      : ovs_strerror(errno)));
    }
    if (fstat(fd, &st)) {
        json = json_string_create_nocopy(
            xasprintf("cannot stat \"%s\": %s", name, ovs_strerror(errno)));
    } else {
        json = check_file_stat(&st, max_size);
    }
    if (json) {
        close(fd);
        return json;
    }

    stream = fdopen(fd, "r");
    if (!stream) {
        json = json_string_create_nocopy(
            xasprintf("error opening \"%s\": %s", name,
                      ovs_strerror(errno)));
        close(fd);
        return json;
    }
    json = json_from_stream(stream);
    fclose(stream);
    return json;
}

int
eswitch_file_config_read(const char *file_name,
                         struct eswitch_file_config *cfg, char **errp)
{
    struct json *json = eswitch_json_from_file_at(AT_FDCWD, file_name,
                                                  ESWITCH_CONFIG_MAX_SIZE);
    char *msg = NULL;
    int error;

    eswitch_file_config_init(cfg);
    if (json->type == JSON_STRING) {
        *errp = eswitch_json_file_error(file_name, json_string(json));
        json_destroy(json);
        return EINVAL;
    }
    error = parse_config(json, cfg, &msg);
    json_destroy(json);
    if (error) {
        *errp = xasprintf("%s: %s", file_name, msg);
        free(msg);
        eswitch_file_config_destroy(cfg);
        eswitch_file_config_init(cfg);
    }
    return error;
}
