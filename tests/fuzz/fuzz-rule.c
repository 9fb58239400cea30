/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* libFuzzer target: esw_rule_validate() and esw_rule_add() on arbitrary
 * rule specs.
 *
 * The first input byte picks one of two sim devices (all capabilities, or
 * some match fields and actions disabled and a tiny table); the rest is
 * the raw bytes of a 'struct esw_rule_spec' (enums, counts and vport
 * numbers included).  Invariants checked:
 *   - validate returns 0, EINVAL, EOPNOTSUPP or ENOENT, with err.error
 *     equal to it and a non-empty reason exactly when it fails;
 *   - add agrees with validate, except that it may also fail with ENOSPC
 *     or EEXIST; a rule that was added can be read back and deleted. */

#include "datapath/esw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct esw_dev *devs[2];

static void
fuzz_assert(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz-rule: invariant failed: %s\n", what);
        abort();
    }
}

static void
init_devs(void)
{
    static const struct esw_dev_config cfgs[2] = {
        { .max_vports = 8 },
        {
            .max_vports = 8, .max_rules = 4,
            .disabled_match_fields = (1u << ESW_MATCH_IP_TTL
                                      | 1u << ESW_MATCH_TCP_FLAGS
                                      | 1u << ESW_MATCH_VLAN2),
            .disabled_actions = (1u << ESW_ACTION_SET_ETH_DST
                                 | 1u << ESW_ACTION_POP_VLAN),
        },
    };

    for (int i = 0; i < 2; i++) {
        char name[16];

        snprintf(name, sizeof name, "fuzz%d", i);
        if (esw_dev_open(name, "sim", &cfgs[i], &devs[i])) {
            abort();
        }
        /* Vports 0..3 exist, 4..7 do not. */
        for (uint32_t fn = 0; fn < 4; fn++) {
            struct esw_vport_config vc = {
                .kind = ESW_VPORT_VF, .fn = fn, .vport = ESW_VPORT_AUTO,
                .io = { .type = ESW_IO_NONE },
            };

            if (esw_vport_add(devs[i], &vc, NULL, NULL)) {
                abort();
            }
        }
    }
}

static int
reason_ok(const struct esw_error *err, int error)
{
    size_t len = strnlen(err->reason, sizeof err->reason);

    /* Every failure says what it is about; EOPNOTSUPP, the "valid but
     * unsupported" answer, always names a match field or an action. */
    return (len < sizeof err->reason && err->error == error
            && (error ? len > 0 : len == 0)
            && (error ? err->type != ESW_ERROR_NONE
                : err->type == ESW_ERROR_NONE)
            && (error != EOPNOTSUPP || err->type == ESW_ERROR_MATCH
                || err->type == ESW_ERROR_ACTION));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esw_rule_spec spec, got;
    struct esw_error err;
    struct esw_rule *rule;
    struct esw_dev *dev;
    int v, a;

    if (!devs[0]) {
        init_devs();
    }
    if (!size) {
        return 0;
    }
    dev = devs[data[0] & 1];
    data++;
    size--;
    memset(&spec, 0, sizeof spec);
    memcpy(&spec, data, size < sizeof spec ? size : sizeof spec);
    /* Keep the count mostly in range so that actions get exercised. */
    if (size < sizeof spec || spec.n_actions > ESW_MAX_ACTIONS + 1) {
        spec.n_actions %= ESW_MAX_ACTIONS + 2;
    }

    memset(&err, 0x5a, sizeof err);
    v = esw_rule_validate(dev, &spec, &err);
    fuzz_assert(v == 0 || v == EINVAL || v == EOPNOTSUPP || v == ENOENT,
                "validate error code");
    fuzz_assert(reason_ok(&err, v), "validate reason");

    memset(&err, 0x5a, sizeof err);
    a = esw_rule_add(dev, &spec, &err, &rule);
    fuzz_assert(reason_ok(&err, a), "add reason");
    if (v) {
        fuzz_assert(a == v, "add agrees with validate");
        fuzz_assert(rule == NULL, "no rule on error");
    } else {
        fuzz_assert(a == 0 || a == ENOSPC || a == EEXIST,
                    "valid rule added");
    }
    if (!a) {
        esw_rule_get_spec(dev, rule, &got);
        fuzz_assert(got.priority == spec.priority
                    && got.n_actions == spec.n_actions
                    && !memcmp(&got.mask, &spec.mask, sizeof got.mask),
                    "spec read back");
        for (size_t i = 0; i < ESW_KEY_WORDS; i++) {
            fuzz_assert(got.match.w[i] == (spec.match.w[i]
                                           & spec.mask.w[i]),
                        "match normalized");
        }
        esw_rule_del(dev, rule);
    }
    return 0;
}
