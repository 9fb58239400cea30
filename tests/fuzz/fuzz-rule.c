/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* libFuzzer target: esw_rule_validate() and esw_rule_add() on arbitrary
 * rule specs, and the pipeline's actions (rewrites, hashes, chains,
 * meters) run by esw_trace_packet() on the rules that were added.
 *
 * The first input byte picks one of two sim devices (all capabilities, or
 * some match fields, actions and rewritable fields disabled and a tiny
 * table); the rest is the raw bytes of a 'struct esw_rule_spec' (enums,
 * counts, vport numbers, set headers, values and masks included).
 * Invariants checked:
 *   - validate returns 0, EINVAL, EOPNOTSUPP or ENOENT, with err.error
 *     equal to it and a non-empty reason exactly when it fails;
 *   - add agrees with validate, except that it may also fail with ENOSPC
 *     or EEXIST; a rule that was added can be read back and deleted;
 *   - tracing frames (IPv4/UDP, IPv4/TCP with options, tagged IPv6/TCP,
 *     IPv6 fragment, ARP, runt) through an added rule, in whatever chain,
 *     never fails and reports a verdict (the sanitizers watch the
 *     rewrites). */

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
                                 | 1u << ESW_ACTION_POP_VLAN
                                 | 1u << ESW_ACTION_RECIRC),
            .disabled_set_fields = (1u << ESW_FIELD_IPV6_LABEL
                                    | 1u << ESW_FIELD_TCP_SRC),
            .max_meters = 4,
        },
    };

    for (int i = 0; i < 2; i++) {
        char name[16];

        snprintf(name, sizeof name, "fuzz%d", i);
        if (esw_dev_open(name, "sim", &cfgs[i], &devs[i])) {
            abort();
        }
        /* Meter 1 exists. */
        {
            struct esw_meter_config mc = {
                .pktps = true, .n_bands = 1,
                .bands = { { .rate = 1000, .burst = 10 } },
            };

            if (esw_meter_set(devs[i], 1, &mc, NULL)) {
                abort();
            }
        }
        /* Vports 0..3 exist, 4..7 do not. */
        for (uint32_t fn = 0; fn < 4; fn++) {
            struct esw_vport_config vc = {
                .kind = ESW_VPORT_VF, .fn = fn, .vport = ESW_VPORT_AUTO,
                .io = NULL,         /* No host side. */
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

/* Frames to trace: IPv4/UDP, IPv4/TCP with options, 802.1Q IPv6/TCP, an
 * IPv6 non-first fragment, ARP, a runt. */
static const uint8_t frames[][80] = {
    { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
      0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
      0x03, 0xe8, 0, 53, 0, 26, 0x12, 0x34 },
    { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
      0x46, 0, 0, 48, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
      1, 1, 1, 0, 0x03, 0xe8, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12,
      0xff, 0xff, 0xab, 0xcd },
    { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0, 100, 0x86, 0xdd,
      0x60, 0, 0, 0, 0, 20, 6, 64, 0x20, 1, 0x0d, 0xb8, [39] = 1,
      0x20, 1, 0x0d, 0xb8, [55] = 2, 0x03, 0xe8, 0, 80, [68] = 0x50 },
    { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd,
      0x60, 0, 0, 0, 0, 16, 44, 64, 0x20, 1, [35] = 1, 0x20, 1, [51] = 2,
      17, 0, 0, 0x10, 0, 0, 0, 1 },
    { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06,
      0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1 },
    { 2, 0, 0, 0, 0, 2 },
};
static const size_t frame_lens[] = { 60, 62, 78, 66, 42, 6 };

static void
trace_frames(struct esw_dev *dev, const struct esw_rule_spec *spec)
{
    uint32_t vport = (spec->mask.in_vport ? spec->match.in_vport : 0) & 3;

    for (size_t i = 0; i < sizeof frame_lens / sizeof *frame_lens; i++) {
        struct esw_pkt *pkt = esw_pkt_from_data(frames[i], frame_lens[i]);
        struct esw_trace tr;

        fuzz_assert(pkt != NULL, "packet");
        fuzz_assert(!esw_trace_packet(dev, vport, pkt, &tr), "trace");
        fuzz_assert(tr.verdict == ESW_TRACE_DROP
                    || tr.verdict == ESW_TRACE_HIT
                    || tr.verdict == ESW_TRACE_MISS, "verdict");
        fuzz_assert(tr.n_stages <= ESW_TRACE_MAX_STAGES, "stages");
        esw_pkt_free(tr.to_representor);
        esw_pkt_free(pkt);
    }
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
        trace_frames(dev, &spec);
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
