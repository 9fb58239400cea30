/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/eswitch-names.c: the names of eSwitch functions ("pf0vf3") and
 * of their kinds ("vf", "virtio"); no state, so that tools can use it. */

#include <config.h>

#include "eswitch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "values.h"

/* Function names.
 * =============== */

bool
eswitch_parse_fn_name(const char *name, struct eswitch_fn_id *id)
{
    const char *p;
    uint32_t pf, fn;

    if (name[0] == 'p' && value_parse_uint_prefix(name + 1, &pf, &p)
        && !*p) {
        *id = (struct eswitch_fn_id) { ESW_VPORT_UPLINK, pf, 0 };
        return true;
    }
    if (strncmp(name, "pf", 2)
        || !value_parse_uint_prefix(name + 2, &pf, &p)) {
        return false;
    }
    if (!strcmp(p, "hpf")) {
        *id = (struct eswitch_fn_id) { ESW_VPORT_PF, pf, 0 };
        return true;
    } else if (!strncmp(p, "vf", 2)
               && value_parse_uint_prefix(p + 2, &fn, &p) && !*p) {
        *id = (struct eswitch_fn_id) { ESW_VPORT_VF, pf, fn };
        return true;
    } else if (!strncmp(p, "sf", 2)
               && value_parse_uint_prefix(p + 2, &fn, &p) && !*p) {
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

/* Kinds.
 * ====== */

const char *
eswitch_kind_to_string(enum esw_vport_kind kind, uint32_t fn)
{
    switch (kind) {
    case ESW_VPORT_UPLINK: return "uplink";
    case ESW_VPORT_PF: return "pf";
    case ESW_VPORT_VF: return "vf";
    case ESW_VPORT_SF: return fn >= ESW_SF_VIRTIO_MIN ? "virtio" : "sf";
    default: OVS_NOT_REACHED();
    }
}

bool
eswitch_kind_from_string(const char *s, enum esw_vport_kind *kind)
{
    if (!strcmp(s, "uplink")) {
        *kind = ESW_VPORT_UPLINK;
    } else if (!strcmp(s, "pf")) {
        *kind = ESW_VPORT_PF;
    } else if (!strcmp(s, "vf")) {
        *kind = ESW_VPORT_VF;
    } else if (!strcmp(s, "virtio") || !strcmp(s, "sf")) {
        *kind = ESW_VPORT_SF;
    } else {
        return false;
    }
    return true;
}

size_t
eswitch_layout_functions(uint32_t n_vfs, uint32_t n_sfs, uint32_t pf,
                         struct eswitch_fn_id ids[], size_t max)
{
    size_t n = 0;

#define ADD_FN(KIND, FN)                                        \
    if (n < max) {                                              \
        ids[n++] = (struct eswitch_fn_id) { KIND, pf, FN };     \
    }
    ADD_FN(ESW_VPORT_UPLINK, 0);
    ADD_FN(ESW_VPORT_PF, 0);
    for (uint32_t i = 0; i < n_vfs; i++) {
        ADD_FN(ESW_VPORT_VF, i);
    }
    for (uint32_t i = 0; i < n_sfs; i++) {
        ADD_FN(ESW_VPORT_SF, ESW_SF_VIRTIO_MIN + i);
    }
#undef ADD_FN
    return n;
}

size_t
eswitch_default_layout(uint32_t pf, struct eswitch_fn_id ids[], size_t max)
{
    return eswitch_layout_functions(ESWITCH_DEFAULT_VFS, ESWITCH_DEFAULT_SFS,
                                    pf, ids, max);
}
