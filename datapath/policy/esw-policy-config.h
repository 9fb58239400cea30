/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_POLICY_CONFIG_H
#define ESW_POLICY_CONFIG_H 1

/* Vport policy configuration: the plain-data half of esw-policy.h (whose
 * comment describes the semantics), without <stdatomic.h>, so that code
 * built against OVS's own atomics (ovs-atomic.h, which clang cannot mix
 * with <stdatomic.h>) can fill in and validate a configuration.  The
 * options' names, syntax and printing belong to the OVS side
 * (ovs-ext/port-policy-options.h): the device only validates. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esw-packet.h"

#define ESW_POLICY_MAX_ALLOWED_MACS 16
#define ESW_POLICY_VLAN_MAX         4094
#define ESW_POLICY_QOS_MAX          7
#define ESW_POLICY_RATE_MAX         1000000     /* Mbps, i.e. 1 Tbps. */
#define ESW_POLICY_N_VIDS           4096

/* Transmit burst allowance, in bits, for a max-tx-rate of 'MBPS' (> 0):
 * 10 ms worth of traffic, but at least two maximum-sized frames. */
#define ESW_POLICY_BURST_BITS(MBPS)                                     \
    ((uint64_t) (MBPS) * 10000 > 2 * ESW_FRAME_MAX * 8                  \
     ? (uint64_t) (MBPS) * 10000 : (uint64_t) 2 * ESW_FRAME_MAX * 8)

enum esw_policy_link_state {
    ESW_POLICY_LINK_AUTO,       /* Follow the link given to create(). */
    ESW_POLICY_LINK_UP,         /* Always up. */
    ESW_POLICY_LINK_DOWN,       /* Always down: all traffic dropped. */
    ESW_POLICY_N_LINK_STATES
};

/* Per-vport administrative policy.  Plain data; copy freely. */
struct esw_policy_config {
    struct esw_eth_addr admin_mac;  /* Administrative MAC, which wins over
                                     * the function's own and the guest's
                                     * (option admin-mac); zero: none. */
    uint16_t vlan;              /* VST VID 1..4094; 0 = VST off. */
    uint8_t qos;                /* VST PCP 0..7; nonzero requires vlan. */
    uint16_t vlan_proto;        /* Host order: ESW_TPID_8021Q (default) or
                                 * ESW_TPID_8021AD (requires vlan). */

    /* VGT trunks: bit N of the bitmap = VID N allowed (N in 1..4094).
     * An all-zero bitmap means no trunk filtering.  'trunk_untagged' says
     * whether untagged/priority-tagged frames pass when filtering. */
    uint64_t trunks[ESW_POLICY_N_VIDS / 64];
    bool trunk_untagged;        /* Default true. */

    bool spoofchk;              /* Default false. */
    bool trust;                 /* Guest may change its MAC. Default false. */
    bool promisc;               /* Default true (switchdev semantics). */

    size_t n_allowed_macs;      /* 0..ESW_POLICY_MAX_ALLOWED_MACS. */
    struct esw_eth_addr allowed_macs[ESW_POLICY_MAX_ALLOWED_MACS];

    uint32_t max_tx_rate;       /* Mbps; 0 = unlimited. */
    uint32_t min_tx_rate;       /* Mbps; 0 = none; not above max. */
    enum esw_policy_link_state link_state;  /* Default auto. */
};

#define ESW_POLICY_CONFIG_INITIALIZER {                 \
        .vlan_proto = ESW_TPID_8021Q,                   \
        .trunk_untagged = true,                         \
        .promisc = true,                                \
        .link_state = ESW_POLICY_LINK_AUTO,             \
    }

void esw_policy_config_init(struct esw_policy_config *);

static inline void
esw_policy_config_add_trunk(struct esw_policy_config *cfg, uint16_t vid)
{
    if (vid < ESW_POLICY_N_VIDS) {
        cfg->trunks[vid / 64] |= UINT64_C(1) << (vid % 64);
    }
}

static inline bool
esw_policy_config_has_trunk(const struct esw_policy_config *cfg,
                            uint16_t vid)
{
    return (vid < ESW_POLICY_N_VIDS
            && (cfg->trunks[vid / 64] >> (vid % 64)) & 1);
}

/* True if any trunk VID is set (trunk filtering active). */
bool esw_policy_config_has_trunks(const struct esw_policy_config *);

/* Returns 0 if 'cfg' is valid, otherwise EINVAL and, if 'reason_size' > 0,
 * a one-sentence lowercase reason in 'reason' naming the option with its
 * user-facing name and the offending value, e.g.
 * "vlan 4095 out of range 0..4094", "admin-mac 01:00:00:00:00:01 is not
 * unicast", "qos requires vlan", "min-tx-rate 200 exceeds max-tx-rate
 * 100".  On success 'reason' is set to "". */
int esw_policy_config_validate(const struct esw_policy_config *cfg,
                               char *reason, size_t reason_size);

/* Mediates a guest's request to change its MAC from 'current' to
 * 'requested' under 'cfg'.  Returns 0 if the request is accepted (the
 * caller then makes 'requested' the effective MAC and recompiles the
 * policy), otherwise a positive errno with a reason:
 *   EINVAL  'requested' is zero or not unicast;
 *   EPERM   an administrative MAC is set ("administrative mac X is set":
 *           the admin MAC always wins), or the port is not trusted
 *           ("port not trusted").
 * Requesting the current MAC is accepted as a no-op even when untrusted.
 * Logging and counting refusals is the caller's job. */
int esw_policy_guest_mac_request(const struct esw_policy_config *cfg,
                                 const struct esw_eth_addr *current,
                                 const struct esw_eth_addr *requested,
                                 char *reason, size_t reason_size);

#endif /* esw-policy-config.h */
