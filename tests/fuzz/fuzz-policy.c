/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* libFuzzer target: the vport policy.  The input is consumed as a config
 * (validated; if valid, compiled), a guest MAC request, then a sequence of
 * frames run through ingress or egress.  The contract and the semantics
 * (DESIGN.md section 4) are checked with abort(). */

#include "datapath/policy/esw-policy.h"
#include "datapath/packet/esw-packet-format.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
    const uint8_t *p;
    size_t n;
};

static uint8_t
get8(struct input *in)
{
    uint8_t x = 0;

    if (in->n) {
        x = *in->p++;
        in->n--;
    }
    return x;
}

static uint16_t
get16(struct input *in)
{
    return get8(in) << 8 | get8(in);
}

static uint32_t
get32(struct input *in)
{
    return (uint32_t) get16(in) << 16 | get16(in);
}

static const struct esw_eth_addr macs[8] = {
    { { 0x02, 0, 0, 0, 0, 0x01 } },
    { { 0x02, 0, 0, 0, 0, 0x02 } },
    { { 0x02, 0, 0, 0, 0, 0x03 } },
    { { 0x02, 0, 0, 0, 0, 0x01 } },
    { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
    { { 0x01, 0x00, 0x5e, 0, 0, 0x01 } },
    { { 0, 0, 0, 0, 0, 0 } },
    { { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 } },
};

static struct esw_eth_addr
get_mac(struct input *in)
{
    uint8_t b = get8(in);

    if (b & 0x80) {
        struct esw_eth_addr ea;

        for (int i = 0; i < 6; i++) {
            ea.ea[i] = get8(in);
        }
        return ea;
    }
    return macs[b % 8];
}

static bool
eq(const void *a, const void *b)
{
    return !memcmp(a, b, ESW_ETH_ADDR_LEN);
}

static bool
mac_known(const struct esw_policy *p, const uint8_t *ea)
{
    const struct esw_policy_config *cfg = esw_policy_get_config(p);

    if (!esw_eth_addr_is_zero(esw_policy_get_effective_mac(p))
        && eq(esw_policy_get_effective_mac(p), ea)) {
        return true;
    }
    for (size_t i = 0; i < cfg->n_allowed_macs; i++) {
        if (eq(&cfg->allowed_macs[i], ea)) {
            return true;
        }
    }
    return false;
}

static void
get_config(struct input *in, struct esw_policy_config *cfg)
{
    static const uint16_t protos[4] = { 0x8100, 0x88a8, 0x9100, 0x0800 };
    uint8_t flags = get8(in);

    esw_policy_config_init(cfg);
    if (flags & 1) {
        cfg->admin_mac = get_mac(in);
    }
    cfg->spoofchk = flags & 2;
    cfg->trust = flags & 4;
    cfg->promisc = flags & 8;
    cfg->trunk_untagged = !(flags & 16);
    if (flags & 32) {
        cfg->vlan = get16(in) & 0x1fff;
        cfg->qos = get8(in) & 0xf;
        cfg->vlan_proto = protos[get8(in) % 4];
    }
    if (flags & 64) {
        for (int i = get8(in) % 8; i > 0; i--) {
            esw_policy_config_add_trunk(cfg, get16(in) & 0xfff);
        }
    }
    if (flags & 128) {
        cfg->n_allowed_macs = get8(in) % (ESW_POLICY_MAX_ALLOWED_MACS + 2);
        for (size_t i = 0; i < cfg->n_allowed_macs
                           && i < ESW_POLICY_MAX_ALLOWED_MACS; i++) {
            cfg->allowed_macs[i] = get_mac(in);
        }
    }
    flags = get8(in);
    if (flags & 1) {
        cfg->max_tx_rate = get32(in) % 1100000;
    }
    if (flags & 2) {
        cfg->min_tx_rate = get32(in) % 1100000;
    }
    cfg->link_state = (flags >> 2) % 4;
}

static void
check_guest_mac(const struct esw_policy_config *cfg, struct input *in)
{
    struct esw_eth_addr cur = get_mac(in), req = get_mac(in);
    char reason[128];
    int error;

    error = esw_policy_guest_mac_request(cfg, &cur, &req, reason,
                                         sizeof reason);
    if (error == 0) {
        if (reason[0] || esw_eth_addr_is_zero(&req)
            || esw_eth_addr_is_multicast(&req)
            || (!eq(&cur, &req)
                && (!cfg->trust || !esw_eth_addr_is_zero(&cfg->admin_mac)))) {
            abort();
        }
    } else if ((error != EPERM && error != EINVAL) || !islower(reason[0])) {
        abort();
    }
}

static void
run_frame(struct esw_policy *p, struct input *in, uint64_t now)
{
    const struct esw_policy_config *cfg = esw_policy_get_config(p);
    uint8_t ctl = get8(in);
    bool ingress = ctl & 1;
    size_t len = (size_t) (ctl >> 1) << 8 | get8(in);
    struct esw_key key, before, fresh;
    enum esw_drop_reason reason = ESW_N_DROP_REASONS;
    uint8_t *buf, *frame;
    struct esw_pkt pkt;
    bool pass;

    if (len > in->n) {
        len = in->n;
    }
    frame = malloc(len + 1);
    buf = malloc(ESW_PKT_HEADROOM + len);
    if (!frame || !buf) {
        abort();
    }
    memcpy(frame, in->p, len);
    in->p += len;
    in->n -= len;

    pkt.base = buf;
    pkt.data = buf + ESW_PKT_HEADROOM;
    pkt.size = ESW_PKT_HEADROOM + len;
    pkt.len = len;
    pkt.in_vport = 5;
    pkt.mark = 0;
    memcpy(pkt.data, frame, len);
    if (esw_parse(pkt.data, pkt.len, 5, &key) && ingress) {
        /* The device drops these as malformed before the policy; the
         * policy must still cope. */
    }
    before = key;

    pass = (ingress ? esw_policy_ingress(p, &pkt, &key, now, &reason)
            : esw_policy_egress(p, &pkt, &key, &reason));
    if (pass) {
        if (reason != ESW_N_DROP_REASONS || !esw_policy_is_link_up(p)
            || pkt.data < pkt.base
            || pkt.data + pkt.len > pkt.base + pkt.size) {
            abort();
        }
        esw_parse(pkt.data, pkt.len, 5, &fresh);
        if (memcmp(&fresh, &key, sizeof key)) {
            abort();            /* Key does not describe the packet. */
        }
        if (ingress) {
            if (cfg->spoofchk && !mac_known(p, frame + 6)) {
                abort();
            }
            if (cfg->vlan) {
                if (pkt.len != len + 4 || key.n_vlans < 1
                    || key.vlans[0].tpid != htons(cfg->vlan_proto)
                    || key.vlans[0].tci != htons(cfg->qos << 13
                                                 | cfg->vlan)
                    || memcmp(pkt.data + 16, frame + 12, len - 12)) {
                    abort();
                }
            } else if (pkt.len != len || memcmp(pkt.data, frame, len)) {
                abort();
            }
            if (esw_policy_config_has_trunks(cfg) && before.n_vlans
                && ntohs(before.vlans[0].tci) & 0xfff
                && !esw_policy_config_has_trunk(
                    cfg, ntohs(before.vlans[0].tci) & 0xfff)) {
                abort();
            }
        } else {
            if (cfg->vlan) {
                uint16_t tpid = frame[12] << 8 | frame[13];
                uint16_t vid = (frame[14] << 8 | frame[15]) & 0xfff;

                if (len < 18 || tpid != cfg->vlan_proto
                    || vid != cfg->vlan || pkt.len != len - 4
                    || memcmp(pkt.data + 12, frame + 16, len - 16)) {
                    abort();
                }
            } else if (pkt.len != len || memcmp(pkt.data, frame, len)) {
                abort();
            }
            if (!cfg->promisc && !(frame[0] & 1) && !mac_known(p, frame)) {
                abort();
            }
        }
        if (memcmp(pkt.data, frame, 12)) {
            abort();            /* MACs never change. */
        }
    } else {
        if (reason >= ESW_N_DROP_REASONS
            || pkt.len != len || memcmp(pkt.data, frame, len)
            || memcmp(&before, &key, sizeof key)) {
            abort();
        }
        if (len >= ESW_FRAME_MIN && len <= ESW_FRAME_MAX
            && (ingress ? esw_policy_ingress_is_noop(p)
                : esw_policy_egress_is_noop(p))) {
            abort();            /* A no-op policy dropped a frame. */
        }
        if (reason == ESW_DROP_RATE && !cfg->max_tx_rate) {
            abort();
        }
    }
    free(buf);
    free(frame);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = { data, size };
    struct esw_policy_config cfg;
    struct esw_policy *p, *p2;
    struct esw_eth_addr eff;
    char reason[128];
    uint64_t now;
    uint8_t flags;
    int error;

    get_config(&in, &cfg);
    eff = get_mac(&in);
    flags = get8(&in);
    error = esw_policy_config_validate(&cfg, reason, sizeof reason);
    p = esw_policy_create(&cfg, &eff, flags & 1, NULL);
    if (error) {
        if (error != EINVAL || p || !islower((unsigned char) reason[0])
            || strlen(reason) >= sizeof reason - 1) {
            abort();
        }
        return 0;
    }
    if (!p || reason[0]) {
        abort();
    }
    check_guest_mac(&cfg, &in);

    now = (uint64_t) get32(&in) * 1000;
    for (int i = 0; in.n && i < 64; i++) {
        if (get8(&in) == 0xa5) {
            /* Swap in a recompiled policy, as the device does. */
            p2 = esw_policy_create(&cfg, &eff, !(flags & 1), p);
            if (!p2) {
                abort();
            }
            esw_policy_destroy(p);
            p = p2;
        }
        now += get16(&in) * 100;
        run_frame(p, &in, now);
    }
    esw_policy_destroy(p);
    return 0;
}
