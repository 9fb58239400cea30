/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/eswitch-resolve.c: which function a port is (its name and
 * options), and the one resolver of "FUNCTION" arguments. */

#include <config.h>

#include "eswitch-private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo-arg.h"
#include "openvswitch/dynamic-string.h"
#include "port-policy-options.h"
#include "smap.h"
#include "util.h"
#include "values.h"

/* Which function a port is.
 * ========================= */

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

static int
parse_esw_name(const char *value, char name[ESW_NAME_MAX], char **errp)
{
    size_t len = strlen(value);

    if (!len || len >= ESW_NAME_MAX
        || strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-_") != len) {
        *errp = value_invalid("eswitch", value, "up to %d lowercase "
                              "letters, digits, '-' or '_'",
                              ESW_NAME_MAX - 1);
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
                              kind_noun(id->kind),
                              kind_noun(kind));
            return EINVAL;
        }
        named = false;
    }
    if (!named) {
        *id = (struct eswitch_fn_id) { .kind = kind };
    }

    value = smap_get(options, "pf");
    if (value) {
        error = value_parse_uint_arg("pf", value, 0, 7, &id->pf, errp);
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
            error = value_parse_uint_arg(fn_key, value,
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

/* "FUNCTION" arguments.
 * ===================== */

static int
compare_eswitch_names(const void *a_, const void *b_)
{
    const struct eswitch *const *a = a_;
    const struct eswitch *const *b = b_;

    return strcmp((*a)->name, (*b)->name);
}

/* Stores every eSwitch, by name, in '*listp' (malloc'd) and returns how
 * many. */
size_t
eswitch_sorted__(struct eswitch ***listp) OVS_REQUIRES(eswitch_mutex)
{
    struct eswitch **list;
    struct eswitch *esw;
    size_t n = 0;

    list = xmalloc((hmap_count(&eswitches) + 1) * sizeof *list);
    HMAP_FOR_EACH (esw, node, &eswitches) {
        list[n++] = esw;
    }
    qsort(list, n, sizeof *list, compare_eswitch_names);
    *listp = list;
    return n;
}

/* "no such eswitch "NAME" (eswitches: ...)", malloc'd. */
char *
eswitch_no_such__(const char *name) OVS_REQUIRES(eswitch_mutex)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct eswitch **list;
    size_t n = eswitch_sorted__(&list);
    struct echo_buf b;

    ds_put_format(&s, "no such eswitch \"%s\"", echo_arg(name, &b));
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%s%s", i ? ", " : " (eswitches: ", list[i]->name);
    }
    if (n) {
        ds_put_char(&s, ')');
    }
    free(list);
    return ds_steal_cstr(&s);
}

char *
eswitch_no_such(const char *name)
{
    char *error;

    ovs_mutex_lock(&eswitch_mutex);
    error = eswitch_no_such__(name);
    ovs_mutex_unlock(&eswitch_mutex);
    return error;
}

/* Finds the function that 'spec' names: "FUNCTION" (searched in every
 * eSwitch) or "ESWITCH/FUNCTION", where FUNCTION is a name ("pf0vf1") or
 * the function's vport number ("2").  See
 * eswitch_find_function() for the errors. */
int
eswitch_resolve_spec__(const char *spec, struct eswitch **eswp,
                       uint32_t *vportp, char **errp)
    OVS_REQUIRES(eswitch_mutex)
{
    const char *slash = strchr(spec, '/');
    const char *fn = slash ? slash + 1 : spec;
    bool is_index = fn[0] && strspn(fn, "0123456789") == strlen(fn);
    struct ds matches = DS_EMPTY_INITIALIZER;
    struct eswitch *found = NULL;
    uint32_t vport = 0, index = 0;
    struct eswitch **list;
    bool esw_found = !slash;
    size_t n_found = 0;
    struct echo_buf b;
    size_t n;

    if (is_index) {
        if (!value_parse_uint(fn, 0, UINT32_MAX, &index)) {
            *errp = xasprintf("no such function \"%s\"", echo_arg(spec, &b));
            return ENOENT;
        }
    }

    n = eswitch_sorted__(&list);
    for (size_t i = 0; i < n; i++) {
        struct eswitch *esw = list[i];
        struct esw_vport_info info;

        if (slash && (strlen(esw->name) != (size_t) (slash - spec)
                      || strncmp(esw->name, spec, slash - spec))) {
            continue;
        }
        esw_found = true;
        if (is_index ? !esw_vport_get_info(esw->dev, index, &info)
            : !esw_vport_lookup(esw->dev, fn, &info.vport)) {
            ds_put_format(&matches, "%s%s/%s", n_found ? ", " : "",
                          esw->name, fn);
            found = esw;
            vport = info.vport;
            n_found++;
        }
    }
    free(list);

    if (!esw_found) {
        char *name = xmemdup0(spec, slash - spec);

        *errp = eswitch_no_such__(name);
        free(name);
    } else if (!n_found) {
        *errp = xasprintf("no such function \"%s\"", echo_arg(spec, &b));
    } else if (n_found > 1) {
        *errp = xasprintf("\"%s\" is ambiguous: qualify it with its eswitch "
                          "(%s)", echo_arg(spec, &b), ds_cstr(&matches));
    } else {
        *eswp = found;
        *vportp = vport;
    }
    ds_destroy(&matches);
    return (!esw_found || !n_found ? ENOENT
            : n_found > 1 ? EINVAL
            : 0);
}

int
eswitch_find_function(const char *spec, struct esw_dev **devp,
                      uint32_t *vportp, char **errp)
{
    struct eswitch *esw;
    int error;

    ovs_mutex_lock(&eswitch_mutex);
    error = eswitch_resolve_spec__(spec, &esw, vportp, errp);
    if (!error) {
        *devp = esw->dev;
    }
    ovs_mutex_unlock(&eswitch_mutex);
    return error;
}
