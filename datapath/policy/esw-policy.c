/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Vport security and VLAN policy.  See esw-policy.h for the semantics. */

#include "esw-policy.h"
#include "esw-packet-format.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rate limiter arithmetic.  Time is kept in ticks of 1/64 ns.  The cost of
 * a frame of B bits at R Mbps is B * 1000 / R ns = B * 64000 / R ticks,
 * computed (rounded to nearest) as (B * m) >> RATE_SHIFT, where
 * m = 'tick_per_bit' = (64000 << RATE_SHIFT) / R.  Bounds: R >= 1 gives
 * m < 2**40; B is at most a burst, ESW_POLICY_BURST_BITS(1) = 147456 bits
 * < 2**18 for R = 1, or R * 10000 bits with m <= 2**40 / R for larger R,
 * so B * m stays below 2**58 (frames are at most ESW_FRAME_MAX bytes). */
#define TICKS_PER_NS 64
#define RATE_SHIFT   24
#define RATE_HALF    (UINT64_C(1) << (RATE_SHIFT - 1))   /* Rounding. */

void
esw_policy_config_init(struct esw_policy_config *cfg)
{
    *cfg = (struct esw_policy_config) ESW_POLICY_CONFIG_INITIALIZER;
}

bool
esw_policy_config_has_trunks(const struct esw_policy_config *cfg)
{
    for (size_t i = 0; i < ESW_POLICY_N_VIDS / 64; i++) {
        if (cfg->trunks[i]) {
            return true;
        }
    }
    return false;
}

static int __attribute__((format(printf, 3, 4)))
set_reason(char *reason, size_t size, const char *fmt, ...)
{
    if (size) {
        va_list args;

        va_start(args, fmt);
        vsnprintf(reason, size, fmt, args);
        va_end(args);
    }
    return EINVAL;
}

static bool
eth_addr_equals(const struct esw_eth_addr *a, const struct esw_eth_addr *b)
{
    return !memcmp(a->ea, b->ea, ESW_ETH_ADDR_LEN);
}

int
esw_policy_config_validate(const struct esw_policy_config *cfg,
                           char *reason, size_t size)
{
    char s[ESW_ETH_ADDR_STRLEN];
    bool has_trunks;

    if (size) {
        reason[0] = '\0';
    }

    if (esw_eth_addr_is_multicast(&cfg->admin_mac)) {
        return set_reason(reason, size, "admin-mac %s is not unicast",
                          esw_eth_addr_format(&cfg->admin_mac, s, sizeof s));
    }
    if (cfg->vlan > ESW_POLICY_VLAN_MAX) {
        return set_reason(reason, size, "vlan %d out of range 0..%d",
                          cfg->vlan, ESW_POLICY_VLAN_MAX);
    }
    if (cfg->qos > ESW_POLICY_QOS_MAX) {
        return set_reason(reason, size, "qos %d out of range 0..%d",
                          cfg->qos, ESW_POLICY_QOS_MAX);
    }
    if (cfg->qos && !cfg->vlan) {
        return set_reason(reason, size, "qos requires vlan");
    }
    if (cfg->vlan_proto != ESW_TPID_8021Q
        && cfg->vlan_proto != ESW_TPID_8021AD) {
        return set_reason(reason, size,
                          "vlan-proto 0x%04x is neither 802.1Q (0x8100) "
                          "nor 802.1ad (0x88a8)", cfg->vlan_proto);
    }
    if (cfg->vlan_proto == ESW_TPID_8021AD && !cfg->vlan) {
        return set_reason(reason, size, "vlan-proto 802.1ad requires vlan");
    }

    has_trunks = esw_policy_config_has_trunks(cfg);
    if (esw_policy_config_has_trunk(cfg, 0)) {
        return set_reason(reason, size, "trunks vlan 0 out of range 1..%d",
                          ESW_POLICY_VLAN_MAX);
    }
    if (esw_policy_config_has_trunk(cfg, ESW_POLICY_N_VIDS - 1)) {
        return set_reason(reason, size, "trunks vlan %d out of range 1..%d",
                          ESW_POLICY_N_VIDS - 1, ESW_POLICY_VLAN_MAX);
    }
    if (has_trunks && cfg->vlan) {
        return set_reason(reason, size,
                          "trunks cannot be combined with vlan %d",
                          cfg->vlan);
    }
    if (!has_trunks && !cfg->trunk_untagged) {
        return set_reason(reason, size,
                          "trunks excluding untagged frames must allow "
                          "at least one vlan");
    }

    if (cfg->n_allowed_macs > ESW_POLICY_MAX_ALLOWED_MACS) {
        return set_reason(reason, size,
                          "allowed-macs has %zu entries, at most %d allowed",
                          cfg->n_allowed_macs, ESW_POLICY_MAX_ALLOWED_MACS);
    }
    for (size_t i = 0; i < cfg->n_allowed_macs; i++) {
        const struct esw_eth_addr *ea = &cfg->allowed_macs[i];

        esw_eth_addr_format(ea, s, sizeof s);
        if (esw_eth_addr_is_zero(ea)) {
            return set_reason(reason, size, "allowed-macs %s is zero", s);
        }
        if (esw_eth_addr_is_multicast(ea)) {
            return set_reason(reason, size,
                              "allowed-macs %s is not unicast", s);
        }
        for (size_t j = 0; j < i; j++) {
            if (eth_addr_equals(ea, &cfg->allowed_macs[j])) {
                return set_reason(reason, size,
                                  "allowed-macs %s is listed twice", s);
            }
        }
    }

    if (cfg->max_tx_rate > ESW_POLICY_RATE_MAX) {
        return set_reason(reason, size,
                          "max-tx-rate %"PRIu32" out of range 0..%d",
                          cfg->max_tx_rate, ESW_POLICY_RATE_MAX);
    }
    if (cfg->min_tx_rate > ESW_POLICY_RATE_MAX) {
        return set_reason(reason, size,
                          "min-tx-rate %"PRIu32" out of range 0..%d",
                          cfg->min_tx_rate, ESW_POLICY_RATE_MAX);
    }
    if (cfg->max_tx_rate && cfg->min_tx_rate > cfg->max_tx_rate) {
        return set_reason(reason, size,
                          "min-tx-rate %"PRIu32" exceeds max-tx-rate %"PRIu32,
                          cfg->min_tx_rate, cfg->max_tx_rate);
    }
    if ((unsigned int) cfg->link_state >= ESW_POLICY_N_LINK_STATES) {
        return set_reason(reason, size,
                          "link-state %u is not auto, up or down",
                          (unsigned int) cfg->link_state);
    }
    return 0;
}

int
esw_policy_guest_mac_request(const struct esw_policy_config *cfg,
                             const struct esw_eth_addr *current,
                             const struct esw_eth_addr *requested,
                             char *reason, size_t size)
{
    char s[ESW_ETH_ADDR_STRLEN];

    if (size) {
        reason[0] = '\0';
    }
    if (esw_eth_addr_is_zero(requested)
        || esw_eth_addr_is_multicast(requested)) {
        return set_reason(reason, size, "requested mac %s is not unicast",
                          esw_eth_addr_format(requested, s, sizeof s));
    }
    if (current && eth_addr_equals(current, requested)) {
        return 0;
    }
    if (!esw_eth_addr_is_zero(&cfg->admin_mac)) {
        set_reason(reason, size, "administrative mac %s is set",
                   esw_eth_addr_format(&cfg->admin_mac, s, sizeof s));
        return EPERM;
    }
    if (!cfg->trust) {
        set_reason(reason, size, "port not trusted");
        return EPERM;
    }
    return 0;
}

struct esw_policy *
esw_policy_create(const struct esw_policy_config *cfg,
                  const struct esw_eth_addr *effective_mac,
                  bool auto_link_up, const struct esw_policy *prev)
{
    struct esw_policy *p;

    if (esw_policy_config_validate(cfg, NULL, 0)) {
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        return NULL;
    }
    p->config = *cfg;

    if (!esw_eth_addr_is_zero(&cfg->admin_mac)) {
        p->effective_mac = cfg->admin_mac;
    } else if (effective_mac && !esw_eth_addr_is_multicast(effective_mac)) {
        p->effective_mac = *effective_mac;
    }
    if (!esw_eth_addr_is_zero(&p->effective_mac)) {
        p->macs[p->n_macs++] = p->effective_mac;
    }
    for (size_t i = 0; i < cfg->n_allowed_macs; i++) {
        if (!eth_addr_equals(&cfg->allowed_macs[i], &p->effective_mac)) {
            p->macs[p->n_macs++] = cfg->allowed_macs[i];
        }
    }

    for (size_t i = 0; i < p->n_macs; i++) {
        uint8_t buf[8] = { 0 };

        memcpy(buf, p->macs[i].ea, ESW_ETH_ADDR_LEN);
        p->mac_words[i] = esw_policy_mac_word__(esw_policy_load8__(buf));
    }

    p->link_up = (cfg->link_state == ESW_POLICY_LINK_UP ? true
                  : cfg->link_state == ESW_POLICY_LINK_DOWN ? false
                  : auto_link_up);
    p->spoofchk = cfg->spoofchk;
    p->promisc = cfg->promisc;
    p->has_trunks = esw_policy_config_has_trunks(cfg);
    p->trunk_untagged = cfg->trunk_untagged;
    if (cfg->vlan) {
        p->vst_tpid = cfg->vlan_proto;
        p->vst_tci = (uint16_t) (cfg->qos << 13) | cfg->vlan;
    }

    if (cfg->max_tx_rate) {
        uint64_t burst = ESW_POLICY_BURST_BITS(cfg->max_tx_rate);

        p->tick_per_bit = ((uint64_t) 1000 * TICKS_PER_NS << RATE_SHIFT)
                          / cfg->max_tx_rate;
        p->tolerance = (burst * p->tick_per_bit + RATE_HALF) >> RATE_SHIFT;
        atomic_init(&p->tat, (prev && prev->tick_per_bit
                              ? atomic_load_explicit(&prev->tat,
                                                     memory_order_relaxed)
                              : 0));
    } else {
        atomic_init(&p->tat, 0);
    }

    p->ingress_noop = (p->link_up && !p->spoofchk && !p->vst_tpid
                       && !p->has_trunks && !p->tick_per_bit);
    p->fast.ingress_inline = (p->link_up && !p->has_trunks
                              && !p->tick_per_bit
                              && (!p->vst_tpid
                                  || p->vst_tpid == ESW_TPID_8021Q));
    p->fast.spoofchk = p->spoofchk;
    p->fast.vst = p->vst_tpid != 0;
    p->fast.n_macs = p->n_macs;
    p->fast.vst_tag[0] = p->vst_tpid >> 8;
    p->fast.vst_tag[1] = p->vst_tpid & 0xff;
    p->fast.vst_tag[2] = p->vst_tci >> 8;
    p->fast.vst_tag[3] = p->vst_tci & 0xff;
    p->fast.mac0 = p->n_macs ? p->mac_words[0] : UINT64_MAX;
    p->egress_noop = (p->link_up && !p->vst_tpid && !p->has_trunks
                      && p->promisc);
    return p;
}

void
esw_policy_destroy(struct esw_policy *p)
{
    free(p);
}

static inline bool
policy_has_mac(const struct esw_policy *p, const uint8_t ea[6])
{
    return esw_policy_has_mac__(p, ea);
}

static inline bool
is_vlan_tpid(uint16_t be_type)
{
    return (be_type == htons(ESW_TPID_8021Q)
            || be_type == htons(ESW_TPID_8021AD));
}

/* VGT check.  'tagged' says the frame has a complete outer tag with TCI
 * 'tci' (network order); 'bad_tag' that it has an outer TPID without a
 * complete tag. */
static inline bool
trunk_allows(const struct esw_policy *p, bool tagged, bool bad_tag,
             uint16_t tci)
{
    uint16_t vid = ntohs(tci) & 0xfff;

    if (bad_tag) {
        return false;
    }
    if (!tagged || !vid) {
        return p->trunk_untagged;
    }
    return esw_policy_config_has_trunk(&p->config, vid);
}

/* GCRA conformance test of a frame of 'len' bytes at 'now_ns'; consumes
 * the frame's tokens if it conforms. */
static bool
police(struct esw_policy *p, uint32_t len, uint64_t now_ns)
{
    uint64_t now = now_ns * TICKS_PER_NS;
    uint64_t cost = ((uint64_t) len * 8 * p->tick_per_bit + RATE_HALF)
                    >> RATE_SHIFT;
    uint64_t tat = atomic_load_explicit(&p->tat, memory_order_relaxed);

    for (;;) {
        uint64_t new_tat = (tat > now ? tat : now) + cost;

        if (new_tat - now > p->tolerance) {
            return false;
        }
        if (atomic_compare_exchange_weak_explicit(&p->tat, &tat, new_tat,
                                                  memory_order_relaxed,
                                                  memory_order_relaxed)) {
            return true;
        }
    }
}

static inline bool
drop(enum esw_drop_reason *reason, enum esw_drop_reason r)
{
    *reason = r;
    return false;
}

bool
esw_policy_ingress__(struct esw_policy *p, struct esw_pkt *pkt,
                     struct esw_key *key, uint64_t now_ns,
                     enum esw_drop_reason *reason)
{
    bool push = false;

    if (!p->link_up) {
        return drop(reason, ESW_DROP_LINK_DOWN);
    }
    if (pkt->len < ESW_ETH_HDR_LEN || pkt->len > ESW_FRAME_MAX) {
        return drop(reason, ESW_DROP_MALFORMED);
    }
    if (p->spoofchk && !policy_has_mac(p, key->src.ea)) {
        return drop(reason, ESW_DROP_SPOOF);
    }

    if (p->vst_tpid) {
        /* A TPID left in 'eth_type' is a tag the parser could not take:
         * a third tag, or a truncated one.  Both count as tagged. */
        bool extra = is_vlan_tpid(key->eth_type);

        if (p->vst_tpid == ESW_TPID_8021Q) {
            if (key->n_vlans || extra) {
                return drop(reason, ESW_DROP_VLAN);
            }
        } else if (extra || key->n_vlans > 1
                   || (key->n_vlans == 1
                       && key->vlans[0].tpid != htons(ESW_TPID_8021Q))) {
            return drop(reason, ESW_DROP_VLAN);
        }
        if (pkt->data - pkt->base < ESW_VLAN_HDR_LEN) {
            return drop(reason, ESW_DROP_MALFORMED);
        }
        push = true;
    } else if (p->has_trunks
               && !trunk_allows(p, key->n_vlans > 0,
                                !key->n_vlans && is_vlan_tpid(key->eth_type),
                                key->vlans[0].tci)) {
        return drop(reason, ESW_DROP_VLAN);
    }

    if (p->tick_per_bit && !police(p, pkt->len, now_ns)) {
        return drop(reason, ESW_DROP_RATE);
    }

    if (push) {
        /* Cannot fail: length and headroom checked above. */
        esw_pkt_push_vlan(pkt, p->vst_tpid, p->vst_tci);
        key->vlans[1] = key->vlans[0];
        key->vlans[0].tpid = htons(p->vst_tpid);
        key->vlans[0].tci = htons(p->vst_tci);
        key->n_vlans++;
    }
    return true;
}

bool
esw_policy_egress(const struct esw_policy *p, struct esw_pkt *pkt,
                  struct esw_key *key, enum esw_drop_reason *reason)
{
    const uint8_t *data = pkt->data;
    bool tagged, bad_tag;
    uint16_t type, tci;

    if (!p->link_up) {
        return drop(reason, ESW_DROP_LINK_DOWN);
    }
    if (pkt->len < ESW_ETH_HDR_LEN) {
        return drop(reason, ESW_DROP_MALFORMED);
    }
    memcpy(&type, data + 12, 2);
    tagged = is_vlan_tpid(type) && pkt->len >= ESW_ETH_HDR_LEN + 4;
    bad_tag = is_vlan_tpid(type) && !tagged;
    if (tagged) {
        memcpy(&tci, data + 14, 2);
    } else {
        tci = 0;
    }

    if (p->vst_tpid) {
        if (!tagged || type != htons(p->vst_tpid)
            || (ntohs(tci) & 0xfff) != (p->vst_tci & 0xfff)) {
            return drop(reason, ESW_DROP_VLAN);
        }
    } else if (p->has_trunks && !trunk_allows(p, tagged, bad_tag, tci)) {
        return drop(reason, ESW_DROP_VLAN);
    }

    if (!p->promisc && !(data[0] & 1) && !policy_has_mac(p, data)) {
        return drop(reason, ESW_DROP_NOT_FOR_ME);
    }

    if (p->vst_tpid) {
        esw_pkt_pop_vlan(pkt);      /* Cannot fail: tag checked above. */
        if (key) {
            if (key->n_vlans == 1
                || (key->n_vlans == 2 && !is_vlan_tpid(key->eth_type))) {
                key->vlans[0] = key->vlans[1];
                memset(&key->vlans[1], 0, sizeof key->vlans[1]);
                key->n_vlans--;
            } else {
                /* A third tag moves into the key, or the key did not
                 * describe the packet: parse again. */
                esw_parse(pkt->data, pkt->len, key->in_vport, key);
            }
        }
    }
    return true;
}
