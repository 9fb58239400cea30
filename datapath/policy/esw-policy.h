/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_POLICY_H
#define ESW_POLICY_H 1

/* Vport security and VLAN policy of the eSwitch.
 *
 * One policy governs one function (vport): the frames the function transmits
 * ("ingress" into the switch) and the frames delivered to it ("egress" from
 * the switch).  The semantics follow `ip link set PF vf N ...` and the
 * vSphere port security policy (DESIGN.md section 4).  The same compiled
 * policy is applied to traffic the device forwards by itself and to traffic
 * that misses and goes to the representor, so the two paths cannot disagree.
 *
 * Life cycle
 * ==========
 *
 *   1. Fill a 'struct esw_policy_config' (start from
 *      ESW_POLICY_CONFIG_INITIALIZER or esw_policy_config_init()).
 *   2. esw_policy_config_validate(): EINVAL plus a one-sentence reason
 *      naming the option and the value, e.g. "qos 9 out of range 0..7".
 *      The caller keeps the previous good policy when this fails.
 *   3. esw_policy_create() compiles the config into an immutable
 *      'struct esw_policy' (together with the effective MAC and the state
 *      of the link that link-state=auto follows).  Anything that changes
 *      one of these inputs (new config, guest MAC change accepted, uplink
 *      carrier change) means: create a new policy, publish it (RCU) and
 *      destroy the old one after a grace period.  Pass the old policy as
 *      'prev' so that the transmit rate limiter carries over (see below).
 *   4. esw_policy_destroy() (accepts NULL).
 *
 * Error convention
 * ================
 *
 * Functions that can fail return 0 or a positive errno value, except
 * esw_policy_create() (NULL on invalid config or out of memory) and the
 * hot-path decisions, which return true (pass) or false (drop, with the
 * reason stored in '*reason').
 *
 * Threading
 * =========
 *
 * 'struct esw_policy_config' is plain data: the caller synchronizes.
 * A 'struct esw_policy' is immutable after creation except for the transmit
 * rate limiter, which is a single atomic word updated lock-free.  Any
 * number of threads may call esw_policy_ingress()/esw_policy_egress() on
 * one policy concurrently (each on its own packet and key).  Destroying a
 * policy while another thread still uses it is the caller's problem (RCU).
 *
 * Ownership
 * =========
 *
 * The decision functions never free or take the packet: on a drop the
 * caller still owns it and counts the drop under '*reason'.
 *
 * Rate limiting (max-tx-rate)
 * ===========================
 *
 * Policed on the function's transmit (ingress), in bits of the frame as the
 * function sent it (before any VST tag is pushed, without FCS).  It is a
 * token bucket of rate 'max_tx_rate' Mbps and depth ESW_POLICY_BURST_BITS(),
 * i.e. max(10 ms at the rate, two maximum-sized frames), implemented as a
 * GCRA (virtual scheduling: one atomic "theoretical arrival time" word, so
 * concurrent threads never lose or double-count tokens).  A frame that does
 * not conform is dropped (ESW_DROP_RATE) and consumes nothing.  'now_ns' is
 * any monotonic clock in nanoseconds (below 2**58, i.e. 9 years); tests pass
 * a simulated clock.  When a policy is replaced, esw_policy_create() copies
 * the previous policy's debt ('prev'), so a reconfiguration neither refills
 * the bucket nor forgets a backlog; a policy created without 'prev' (or
 * whose predecessor did not police) starts with a full bucket.
 *
 * 'min_tx_rate' is a bandwidth guarantee for a scheduler: it is validated,
 * stored and reported, but the emulator does not enforce it (there is no
 * transmit contention to arbitrate).
 *
 * Ingress (frames FROM the function), in this order
 * =================================================
 *
 *   - link: link-state=disable, or auto while the followed link is down:
 *     ESW_DROP_LINK_DOWN.
 *   - length outside ESW_FRAME_MIN..ESW_FRAME_MAX: ESW_DROP_MALFORMED.
 *   - spoofchk on: the source MAC must be the effective MAC or one of
 *     'allowed_macs', else ESW_DROP_SPOOF (a multicast or zero source can
 *     never match, so it is always spoofed).  With spoofchk off, sources are
 *     not checked.
 *   - VST (vlan != 0), 802.1Q: untagged frames get a tag TPID 0x8100,
 *     VID = vlan, PCP = qos.  Any tagged frame (priority-tagged included)
 *     is ESW_DROP_VLAN.
 *   - VST, 802.1ad (QinQ): untagged frames and frames with one 802.1Q
 *     C-tag get an outer S-tag TPID 0x88a8, VID = vlan, PCP = qos pushed in
 *     front (the guest's C-tag is carried inside).  Frames whose outer tag
 *     is an S-tag (0x88a8) or that already carry two tags are
 *     ESW_DROP_VLAN.  In both modes a tag the parser could not take (a
 *     TPID left in key->eth_type: truncated or third tag) counts as a tag.
 *   - VGT trunks (trunk bitmap not empty): a frame whose outer tag has a VID
 *     in 1..4094 passes iff that VID is in the bitmap; untagged and
 *     priority-tagged (VID 0) frames pass iff 'trunk_untagged'; the
 *     outer TPID may be 0x8100 or 0x88a8; a truncated outer tag never
 *     passes.  Else ESW_DROP_VLAN.
 *   - max-tx-rate (above).
 *   The packet and the key are updated together: a pushed tag appears in
 *   key->vlans[0] (an inner C-tag moves to vlans[1]) and key->n_vlans, so
 *   the device's lookup sees the post-policy packet.
 *
 * Egress (frames TO the function), in this order
 * ==============================================
 *
 *   - link: as ingress (ESW_DROP_LINK_DOWN); shorter than ESW_FRAME_MIN:
 *     ESW_DROP_MALFORMED.
 *   - VST: the frame must carry an outer tag with the port's TPID and
 *     VID = vlan (PCP ignored); it is stripped.  Untagged frames, other
 *     TPIDs or other VIDs: ESW_DROP_VLAN.  With 802.1ad an inner C-tag is
 *     left in place for the guest.
 *   - VGT trunks: same rule as ingress, on the outer tag.
 *   - promisc off: unicast frames whose destination is neither the
 *     effective MAC nor an allowed MAC are ESW_DROP_NOT_FOR_ME; broadcast
 *     and multicast are delivered.
 *   Egress reads the Ethernet header and tags from the packet itself (the
 *   device may have rewritten it with actions since parsing), so 'key' is
 *   optional there; if given, it is kept consistent with a stripped tag.
 *
 * Fast path
 * =========
 *
 * esw_policy_ingress_is_noop() / esw_policy_egress_is_noop() are inline
 * flag tests: when true the corresponding decision would pass every frame
 * of ESW_FRAME_MIN..ESW_FRAME_MAX bytes unchanged and the caller may skip
 * the call.  The default configuration
 * (everything off, promisc on, link auto with the link up) is a no-op in
 * both directions.  esw_policy_ingress() itself is inline for the common
 * configurations (link up, no trunks, no rate limit, VST off or 802.1Q:
 * spoof check and tag push, the tag prebuilt at create time) and calls
 * out of line otherwise; esw_policy_ingress_needs_clock() tells whether
 * 'now_ns' is used at all.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esw-packet.h"
#include "esw-policy-config.h"

/* What esw_policy_ingress() decides inline, packed together so that a
 * caller applying one policy to a batch of frames can copy it once (into
 * registers) with esw_policy_ingress_fast(). */
struct esw_policy_fast {
    bool ingress_inline;        /* Link up, no trunks, no rate limit, VST
                                 * off or 802.1Q: esw_policy_ingress()
                                 * decides inline. */
    bool spoofchk;
    bool vst;                   /* 802.1Q VST: push 'vst_tag'. */
    uint8_t n_macs;
    uint8_t vst_tag[4];         /* The VST tag as on the wire. */
    uint64_t mac0;              /* mac_words[0], or UINT64_MAX (matches
                                 * nothing) if 'n_macs' is 0. */
};

/* Compiled policy.  Members are private to esw-policy.c except through the
 * inline accessors below. */
struct esw_policy {
    struct esw_policy_fast fast;
    bool ingress_noop;          /* Ingress passes everything unchanged. */
    bool egress_noop;           /* Egress passes everything unchanged. */
    bool link_up;               /* Effective link state. */
    bool spoofchk;
    bool promisc;
    bool has_trunks;
    bool trunk_untagged;
    uint16_t vst_tpid;          /* Host order; 0 if VST is off. */
    uint16_t vst_tci;           /* Host order: PCP << 13 | VID. */
    struct esw_eth_addr effective_mac;  /* May be zero (no MAC). */
    uint8_t n_macs;             /* Effective MAC (if nonzero) + allowed. */
    struct esw_eth_addr macs[ESW_POLICY_MAX_ALLOWED_MACS + 1];
    uint64_t mac_words[ESW_POLICY_MAX_ALLOWED_MACS + 1];  /* 'macs' as
                                 * esw_policy_mac_word__() values. */

    /* Rate limiter (GCRA); inactive if 'tick_per_bit' is 0. */
    uint64_t tick_per_bit;      /* Cost of one bit, in 1/64 ns units. */
    uint64_t tolerance;         /* Burst, in 1/64 ns units. */
    _Atomic uint64_t tat;       /* Theoretical arrival time, 1/64 ns. */

    struct esw_policy_config config;    /* As given to create(). */
};

/* Compiles 'cfg' (which must be valid: NULL is returned otherwise, or if
 * out of memory).  'effective_mac' is the admin MAC if set, else the MAC
 * the guest was allowed to set, else the function's default; NULL or zero
 * means the function has no MAC.  If 'cfg->admin_mac' is nonzero it is used
 * whatever 'effective_mac' says.  'auto_link_up' is the state of the link
 * that link-state=auto follows (for a VF: its PF/uplink).  'prev' is the
 * policy being replaced, or NULL; it is only read (it may still be in use
 * by other threads). */
struct esw_policy *esw_policy_create(const struct esw_policy_config *cfg,
                                     const struct esw_eth_addr *effective_mac,
                                     bool auto_link_up,
                                     const struct esw_policy *prev);
void esw_policy_destroy(struct esw_policy *);

static inline bool
esw_policy_ingress_is_noop(const struct esw_policy *p)
{
    return p->ingress_noop;
}

static inline bool
esw_policy_egress_is_noop(const struct esw_policy *p)
{
    return p->egress_noop;
}

static inline bool
esw_policy_is_link_up(const struct esw_policy *p)
{
    return p->link_up;
}

static inline const struct esw_policy_config *
esw_policy_get_config(const struct esw_policy *p)
{
    return &p->config;
}

static inline const struct esw_eth_addr *
esw_policy_get_effective_mac(const struct esw_policy *p)
{
    return &p->effective_mac;
}

/* True if esw_policy_ingress() needs 'now_ns' (the rate limiter is on);
 * otherwise callers may pass 0 and skip reading the clock. */
static inline bool
esw_policy_ingress_needs_clock(const struct esw_policy *p)
{
    return p->tick_per_bit != 0;
}

/* The general case of esw_policy_ingress(), out of line.  Call
 * esw_policy_ingress() instead. */
bool esw_policy_ingress__(struct esw_policy *policy, struct esw_pkt *pkt,
                          struct esw_key *key, uint64_t now_ns,
                          enum esw_drop_reason *reason);

/* The 8 bytes at 'p' as one integer, from which esw_policy_mac_word__()
 * takes the first 6 (for comparisons only) and esw_policy_type16__() the
 * last 2 (as they are in memory: network order for a frame's type). */
static inline uint64_t
esw_policy_load8__(const void *p)
{
    uint64_t w;

    __builtin_memcpy(&w, p, sizeof w);
    return w;
}

static inline uint64_t
esw_policy_mac_word__(uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return w & UINT64_C(0xffffffffffff);
#else
    return w >> 16;
#endif
}

static inline uint16_t
esw_policy_type16__(uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return w >> 48;
#else
    return w;
#endif
}

static inline bool
esw_policy_has_mac__(const struct esw_policy *p, const uint8_t ea[6])
{
    for (size_t i = 0; i < p->n_macs; i++) {
        if (!__builtin_memcmp(p->macs[i].ea, ea, ESW_ETH_ADDR_LEN)) {
            return true;
        }
    }
    return false;
}

/* Applies 'policy' to a frame transmitted by the function.  'key' must be
 * esw_parse() of 'pkt'.  Returns true to let the frame into the switch
 * (the packet and the key may have been modified: VST tag pushed), false
 * to drop it with the reason in '*reason' (packet and key then unchanged).
 * 'now_ns' feeds the rate limiter.
 *
 * The common configurations (see esw_policy_fast's 'ingress_inline') are
 * decided inline,
 * with the same checks in the same order as esw_policy_ingress__(). */
static inline bool esw_policy_ingress(struct esw_policy *, struct esw_pkt *,
                                      struct esw_key *, uint64_t now_ns,
                                      enum esw_drop_reason *);

/* esw_policy_ingress() for a frame whose length the caller has already
 * checked to be in ESW_FRAME_MIN..ESW_FRAME_MAX, with 'f' a copy of
 * p->fast (taken once for a batch: the compiler can then keep it in
 * registers, as nothing the function stores can alias it). */
static inline __attribute__((always_inline)) bool
esw_policy_ingress_fast(const struct esw_policy_fast *f,
                        struct esw_policy *p, struct esw_pkt *pkt,
                        struct esw_key *key, uint64_t now_ns,
                        enum esw_drop_reason *reason)
{
    uint64_t w;

    if (!f->ingress_inline) {
        return esw_policy_ingress__(p, pkt, key, now_ns, reason);
    }

    /* The source MAC and the first type, from the frame rather than the
     * key: the parser has just written the key's fields in pieces, and a
     * wide load of those would wait for the stores.  A tag is there,
     * parsed (key->n_vlans) or not (its TPID in key->eth_type), iff the
     * first type is a TPID. */
    w = esw_policy_load8__(pkt->data + ESW_ETH_ADDR_LEN);
    if (f->spoofchk) {
        uint64_t src = esw_policy_mac_word__(w);
        bool ok = src == f->mac0;

        for (size_t i = 1; !ok && i < f->n_macs; i++) {
            ok = p->mac_words[i] == src;
        }
        if (!ok) {
            *reason = ESW_DROP_SPOOF;
            return false;
        }
    }
    if (f->vst) {
        uint16_t type = esw_policy_type16__(w);

        /* 802.1Q VST: any tag, parsed or not, is a violation. */
        if (type == htons(ESW_TPID_8021Q) || type == htons(ESW_TPID_8021AD)) {
            *reason = ESW_DROP_VLAN;
            return false;
        }
        if (pkt->data - pkt->base < ESW_VLAN_HDR_LEN) {
            *reason = ESW_DROP_MALFORMED;
            return false;
        }
        esw_pkt_push_tag_unchecked(pkt, f->vst_tag);
        /* No tag before: vlans[] is all zero and n_vlans is 0; the tag
         * as on the wire is the key's 'struct esw_vlan'. */
        __builtin_memcpy(&key->vlans[0], f->vst_tag, sizeof key->vlans[0]);
        key->n_vlans = 1;
    }
    return true;
}

static inline bool
esw_policy_ingress(struct esw_policy *p, struct esw_pkt *pkt,
                   struct esw_key *key, uint64_t now_ns,
                   enum esw_drop_reason *reason)
{
    if (!p->fast.ingress_inline) {
        return esw_policy_ingress__(p, pkt, key, now_ns, reason);
    }
    if (pkt->len < ESW_ETH_HDR_LEN || pkt->len > ESW_FRAME_MAX) {
        *reason = ESW_DROP_MALFORMED;
        return false;
    }
    return esw_policy_ingress_fast(&p->fast, p, pkt, key, now_ns, reason);
}

/* Applies 'policy' to a frame about to be delivered to the function.
 * Returns true to deliver it (VST tag possibly stripped; 'key', if not
 * NULL, updated to match), false to drop it with '*reason' set. */
bool esw_policy_egress(const struct esw_policy *policy, struct esw_pkt *pkt,
                       struct esw_key *key, enum esw_drop_reason *reason);

#endif /* esw-policy.h */
