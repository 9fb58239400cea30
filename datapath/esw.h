/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_H
#define ESW_H 1

/* The eSwitch device API.
 *
 * One 'struct esw_dev' is one embedded switch of a NIC ("esw0").  It has
 * functions (vports: the uplink, the host PF, VFs, SFs), a rule table
 * matched on every packet a function transmits, per-vport policy (port
 * security and VLAN), and one representor per vport through which packets
 * that miss the rule table reach software (OVS) and through which software
 * sends packets to the function.  The API knows nothing of bridges or
 * OpenFlow.  A driver (datapath/esw-provider.h) implements it: "sim", the
 * software emulator, is built in; hardware drivers can follow behind the
 * same API.  This header is exactly what a hardware driver implements:
 * what only the emulator has (host sides, injected and captured packets,
 * busy polling, idle waits) is in esw-emu.h.
 *
 * Error convention
 * ================
 *
 * Every function that can fail returns 0 or a positive errno value:
 *
 *   EINVAL      The request is malformed (bad argument, bad field value,
 *               contradictory actions).  Never retry as is.
 *   EOPNOTSUPP  The request is well formed but this device cannot do it
 *               (match field or action missing from its capabilities).
 *   ENOSPC      A table is full (rules, vports).  Retry after freeing room.
 *   ENODEV      No such device or driver, or the device went away for
 *               good (a device hosted by another process, driver
 *               "remote": the device daemon was unreachable when it was
 *               opened, or answered garbage; every later call fails too).
 *   EAGAIN      The device is being reset (driver "remote": its device
 *               daemon went away and the driver is reconnecting, see
 *               DESIGN.md 3.2): nothing changed; the same call may
 *               succeed once the device is back.  Only calls that change
 *               the device (or need it to answer: validation, tracing,
 *               meter counters, the emulator's injection) return it;
 *               deletions are done, queries answer from the driver's
 *               record (links down), sends are dropped and counted.
 *   ENOENT      No such vport or rule.
 *   EEXIST      The name or vport number is taken.
 *   EBUSY       The object is in use (not returned by "sim" today).
 *   ENOBUFS     A bounded queue is full; the packet was dropped and counted.
 *   EACCES      The host side (emulator) cannot be attached for lack of
 *               permission.
 *   EPERM       The vport's policy refused a guest's request.
 *   ENOMEM      Out of memory; nothing changed.
 *   ETIMEDOUT   esw_dev_wait_idle() (emulator, esw-emu.h) gave up.
 *
 * No other value is returned.  Functions that take a 'struct esw_error *'
 * also say on failure what the error is about, typed ('type' and 'cause':
 * which match field, which action, which vport) for programs, and in a
 * human readable reason that names the offending field, action or object
 * ("match on ip_ttl not supported", "output to vport 9: no such vport",
 * "more than 2 vlan pushes") for people.  'err' may be NULL.  On success,
 * err->type is ESW_ERROR_NONE and err->reason the empty string.
 *
 * Lifecycle
 * =========
 *
 * esw_dev_open() creates the device on first open and otherwise returns the
 * existing device of that name with its reference count incremented;
 * esw_dev_close() drops a reference and destroys the device on the last
 * one.  Destroying a device removes its vports, frees every rule still in
 * it (rule handles become invalid) and frees every packet still queued.
 * Vports are added and removed at run time with esw_vport_add() and
 * esw_vport_del().  Removing a vport also takes every rule that matches on
 * it or outputs to it out of the table: such a rule is "orphaned"; its
 * handle stays valid (stats can still be read) until esw_rule_del(), but it
 * no longer forwards nor uses capacity, and esw_rule_modify() on it fails
 * with ENOENT.
 *
 * Ownership
 * =========
 *
 * esw_rep_send() takes ownership of the packet whatever it returns.
 * Packets returned by esw_rep_recv() belong to the caller, who frees them
 * with esw_pkt_free().  Rule specs, configs and policies are copied: the caller
 * keeps ownership of what it passes in.  Rule handles belong to the device;
 * they are valid from esw_rule_add() until esw_rule_del() or device
 * destruction.
 *
 * Threading
 * =========
 *
 * Forwarding runs in the device's own threads, never in the caller's.
 * Every function here may be called from any thread.  Control operations
 * (vports, rules, policy, MAC/MTU/link) are serialized inside the device
 * by one mutex, so concurrent callers are safe but run one at a time; none
 * of them makes the forwarding threads wait: updates are make-before-break
 * and old state is freed after an RCU grace period.  esw_rule_del() or
 * esw_rule_modify() of a rule must not race with another call on the same
 * rule handle (the caller owns the handle).  esw_rule_get_stats() and
 * esw_vport_get_stats() are lock-free reads of counters that the forwarding
 * threads update with relaxed atomics.  Per vport, esw_rep_recv() supports
 * one consumer at a time (many producers are internal); esw_rep_send() may
 * be called by many threads at once.  No call here
 * blocks for long: representor and host-side queues are non-blocking.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esw-packet.h"

struct esw_dev;
struct esw_emu_dev_config;
struct esw_io_config;
struct esw_policy_config;
struct esw_rule;

#define ESW_NAME_MAX      16    /* Device, vport and interface names,
                                 * including the terminating NUL. */
#define ESW_ERROR_MAX     128   /* Size of an error reason. */
#define ESW_MAX_ACTIONS   16
#define ESW_VPORT_AUTO    UINT32_MAX   /* Let the device pick the number. */
#define ESW_SF_VIRTIO_MIN 1000         /* SF numbers of virtio-net devices. */

/* What a failure is about, after DPDK's rte_flow_error: callers decide
 * from 'type' and 'cause', never from 'reason', which is for people. */
enum esw_error_type {
    ESW_ERROR_NONE,             /* Success. */
    ESW_ERROR_UNSPECIFIED,      /* Nothing more specific: out of memory, a
                                 * system call failed. */
    ESW_ERROR_VPORT,            /* A vport named by the request (no such
                                 * vport, name or number taken): 'cause' is
                                 * its number, or -1. */
    ESW_ERROR_VPORT_CONFIG,     /* A field of a vport config (kind, number
                                 * range, MTU, MAC, queues, name). */
    ESW_ERROR_HOST_IO,          /* The host side of a function (emulator:
                                 * tap, capture, vhost-user; for a virtio
                                 * feature, 'cause' is its bit). */
    ESW_ERROR_POLICY,           /* A vport policy value, or a guest request
                                 * the policy refused (EPERM). */
    ESW_ERROR_MATCH,            /* A rule's match: 'cause' is the
                                 * 'enum esw_match_field' concerned, or -1
                                 * (mask on padding). */
    ESW_ERROR_ACTION,           /* A rule's actions: 'cause' is the
                                 * 'enum esw_action_type' concerned, or -1
                                 * (the list as a whole). */
    ESW_ERROR_CAPACITY,         /* A table is full (rules, vport numbers). */
    ESW_ERROR_RULE,             /* A rule as a whole (the same rule exists,
                                 * the rule is orphaned). */
    ESW_ERROR_CT,               /* A connection table entry (its tuples,
                                 * NAT, a tuple taken). */
};

/* Returns a short stable name for 'type' ("match", "action"...). */
const char *esw_error_type_name(enum esw_error_type type);

/* A failure: the errno value returned, what it is about, and a reason
 * for people ("match on ip_ttl not supported"). */
struct esw_error {
    int error;                          /* The errno value returned. */
    enum esw_error_type type;           /* ESW_ERROR_NONE on success. */
    int cause;                          /* See 'enum esw_error_type'. */
    char reason[ESW_ERROR_MAX];         /* Empty on success. */
};

/* Devices.
 * ======== */

/* Match fields, as bits of esw_caps.match_fields: one per group of
 * 'struct esw_key' members a rule's mask may cover. */
enum esw_match_field {
    ESW_MATCH_IN_VPORT,         /* in_vport. */
    ESW_MATCH_ETH_SRC,          /* src. */
    ESW_MATCH_ETH_DST,          /* dst. */
    ESW_MATCH_ETH_TYPE,         /* eth_type. */
    ESW_MATCH_VLAN,             /* n_vlans, vlans[0]. */
    ESW_MATCH_VLAN2,            /* vlans[1] (inner tag of QinQ). */
    ESW_MATCH_IP_SRC,           /* ip_src. */
    ESW_MATCH_IP_DST,           /* ip_dst. */
    ESW_MATCH_IP_PROTO,         /* ip_proto. */
    ESW_MATCH_IP_TOS,           /* ip_tos. */
    ESW_MATCH_IP_TTL,           /* ip_ttl. */
    ESW_MATCH_IP_FRAG,          /* ip_frag. */
    ESW_MATCH_TP_SRC,           /* tp_src. */
    ESW_MATCH_TP_DST,           /* tp_dst. */
    ESW_MATCH_TCP_FLAGS,        /* tcp_flags. */
    ESW_MATCH_CHAIN,            /* chain (see "Chains" below). */
    ESW_MATCH_DP_HASH,          /* dp_hash. */
    ESW_MATCH_IPV6_LABEL,       /* ipv6_label. */
    ESW_MATCH_TUN_PORT,         /* tun_port. */
    ESW_MATCH_TUN_ID,           /* tun_id. */
    ESW_MATCH_TUN_SRC,          /* tun_src. */
    ESW_MATCH_TUN_DST,          /* tun_dst. */
    ESW_MATCH_TUN_TP,           /* tun_tp_src, tun_tp_dst. */
    ESW_MATCH_TUN_FLAGS,        /* tun_flags. */
    ESW_MATCH_TUN_TOS_TTL,      /* tun_tos, tun_ttl. */
    ESW_MATCH_TUN_OPTS,         /* tun_opts_len, tun_opts. */
    ESW_MATCH_CT_STATE,         /* ct_state (see "Connection tracking"). */
    ESW_MATCH_CT_ZONE,          /* ct_zone. */
    ESW_MATCH_CT_MARK,          /* ct_mark. */
    ESW_MATCH_CT_LABEL,         /* ct_label. */
    ESW_N_MATCH_FIELDS
};

/* Returns the name used in error reasons ("ip_ttl", "eth_src"...). */
const char *esw_match_field_name(enum esw_match_field);

enum esw_action_type {
    ESW_ACTION_OUTPUT,          /* Send a copy to 'vport'. */
    ESW_ACTION_DROP,            /* Explicit drop (must be alone). */
    ESW_ACTION_PUSH_VLAN,       /* Push tag 'vlan.tpid', 'vlan.tci'. */
    ESW_ACTION_POP_VLAN,        /* Pop the outer tag. */
    ESW_ACTION_SET_ETH_SRC,     /* Rewrite the source MAC to 'mac'. */
    ESW_ACTION_SET_ETH_DST,     /* Rewrite the destination MAC to 'mac'. */
    ESW_ACTION_COUNT,           /* No-op: every rule always counts.  Kept
                                 * so that translators can state it. */
    ESW_ACTION_SET,             /* Masked header rewrite 'set' (see
                                 * esw-packet.h): checksums follow. */
    ESW_ACTION_HASH,            /* dp_hash := hash 'hash.alg' of the packet
                                 * with 'hash.basis', for the next chains. */
    ESW_ACTION_RECIRC,          /* Continue the lookup in chain 'chain'
                                 * with the packet as modified so far (must
                                 * be the last action). */
    ESW_ACTION_METER,           /* Police with meter 'meter': a packet over
                                 * its rate is dropped here. */
    ESW_ACTION_ENCAP,           /* Push the tunnel header 'encap' (see
                                 * "Tunnels" in esw-packet.h). */
    ESW_ACTION_DECAP,           /* Pop a 'decap.type' header into the
                                 * key's tunnel metadata; must be followed
                                 * by RECIRC, the last action.  A frame the
                                 * device cannot pop exactly as OVS would
                                 * misses (see "Chains"). */
    ESW_ACTION_CT,              /* Look the packet up in the connection
                                 * table, zone 'ct.zone', NAT it if
                                 * 'ct.nat'; must be followed by RECIRC,
                                 * the last action (see "Connection
                                 * tracking"). */
    ESW_ACTION_CT_CLEAR,        /* Clear the connection-tracking metadata
                                 * that earlier CT actions left (ct_state,
                                 * ct_zone, ct_mark, ct_label: all zero for
                                 * the rest of the rule and the next
                                 * chains), as OVS's ct_clear (see
                                 * "Connection tracking"). */
    ESW_N_ACTION_TYPES
};

/* Hash algorithms of ESW_ACTION_HASH: Open vSwitch's, see esw_hash_*() in
 * esw-packet.h. */
enum esw_hash_alg {
    ESW_HASH_L4,                /* OVS_HASH_ALG_L4. */
    ESW_HASH_SYM_L4,            /* OVS_HASH_ALG_SYM_L4. */
    ESW_N_HASH_ALGS
};

const char *esw_hash_alg_name(enum esw_hash_alg);

/* Returns the name used in error reasons ("output", "push_vlan"...). */
const char *esw_action_type_name(enum esw_action_type);

struct esw_caps {
    uint32_t match_fields;      /* Bitmap of 1 << ESW_MATCH_*. */
    uint32_t actions;           /* Bitmap of 1 << ESW_ACTION_*. */
    uint32_t set_fields;        /* Bitmap of 1 << ESW_FIELD_*: what
                                 * ESW_ACTION_SET may rewrite. */
    uint32_t max_recirc;        /* Most recirculations of one packet (see
                                 * "Chains"). */
    uint32_t max_meters;        /* Meter ids are 0..max_meters-1. */
    uint32_t max_rules;         /* Rule capacity. */
    uint32_t max_vports;        /* Vport numbers are 0..max_vports-1. */
    uint32_t max_outputs;       /* Most OUTPUT actions in one rule. */
    uint32_t max_vlan_pushes;   /* Most PUSH_VLAN actions in one rule. */
    uint32_t n_threads;         /* Forwarding threads. */
    uint32_t max_conns;         /* Connection table capacity (0: no
                                 * connection table). */
};

/* Device configuration.  Zero-initialize, then set what matters: zero
 * fields mean "driver default".  The sim driver honours every field; the
 * capability overrides let tests reach EOPNOTSUPP and ENOSPC. */
struct esw_dev_config {
    uint32_t n_threads;         /* Forwarding threads (sim default 1). */
    uint32_t max_rules;         /* Rule capacity (sim default 65536). */
    uint32_t max_vports;        /* (sim default 64, at most 4096). */
    uint32_t disabled_match_fields;  /* 1 << ESW_MATCH_* not to offer. */
    uint32_t disabled_actions;       /* 1 << ESW_ACTION_* not to offer. */
    uint32_t disabled_set_fields;    /* 1 << ESW_FIELD_* not to offer. */
    uint32_t max_recirc;        /* (sim default and maximum 6, as Open
                                 * vSwitch's userspace datapath.) */
    uint32_t max_meters;        /* (sim default 4096, at most 65536). */
    uint32_t max_conns;         /* Connections (sim default 65536, at
                                 * most 4194304). */
    const struct esw_emu_dev_config *emu;   /* Emulator only (esw-emu.h):
                                             * NULL for the defaults.  A
                                             * hardware driver ignores
                                             * it. */
};

/* Opens (creating on first use) the device 'name' with driver
 * 'driver_name' ("sim", "remote"; NULL means "sim").  'cfg' (may be NULL) is used
 * only when the device is created; a later open of an existing device with
 * a different driver fails with EEXIST.  Returns 0 and stores the device
 * in '*devp', or a positive errno: ENODEV (unknown driver), EINVAL (bad
 * name or config), or the driver's error. */
int esw_dev_open(const char *name, const char *driver_name,
                 const struct esw_dev_config *cfg, struct esw_dev **devp);

/* Drops a reference to 'dev', destroying it on the last one.  Accepts
 * NULL. */
void esw_dev_close(struct esw_dev *dev);

/* Stores the names of up to 'max' open devices, in alphabetical order,
 * in 'names' and returns how many devices are open. */
size_t esw_dev_list(char names[][ESW_NAME_MAX], size_t max);

/* Returns the device named 'name' with a new reference, or NULL. */
struct esw_dev *esw_dev_lookup(const char *name);

/* The process exits leaving its devices as they are (as a crash would):
 * from this call on, a device that outlives its client (the "remote"
 * driver's, kept by ovs-eswitchd) is not changed any more by this
 * process: deleting rules, vports or meters, changing a vport and closing
 * the device only drop this process's view, and additions fail with
 * ESHUTDOWN; queries still work.  Devices of other drivers die with the
 * process anyway and are not affected.  Not undone.  Returns how many open
 * devices are left so. */
size_t esw_leave_devices(void);
bool esw_leaving_devices(void);

/* Logging.
 * ========
 *
 * A driver reports what the user should know of and cannot see through
 * this API (driver "remote": the device daemon went away, it came back) as
 * a line of text at a level.  Without a hook, WARN and ERR lines go to the
 * standard error and the others nowhere; esw_set_log_hook() sends every
 * line to 'hook' instead (ovs-vswitchd: to its log), from any thread.
 * NULL restores the default. */
enum esw_log_level {
    ESW_LOG_ERR,
    ESW_LOG_WARN,
    ESW_LOG_INFO,
    ESW_LOG_DBG,
};

void esw_set_log_hook(void (*hook)(enum esw_log_level, const char *msg));

const char *esw_dev_name(const struct esw_dev *);
const char *esw_dev_driver_name(const struct esw_dev *);
void esw_dev_get_caps(const struct esw_dev *, struct esw_caps *);

/* Returns the names of the registered drivers in 'names' (up to 'max')
 * and their total number. */
size_t esw_driver_list(const char *names[], size_t max);

/* Functions (vports).
 * =================== */

enum esw_vport_kind {
    ESW_VPORT_UPLINK,           /* The wire ("p0"). */
    ESW_VPORT_PF,               /* The host PF ("pf0hpf"). */
    ESW_VPORT_VF,               /* An SR-IOV VF ("pf0vf3"). */
    ESW_VPORT_SF,               /* A sub-function; virtio-net devices use
                                 * numbers >= ESW_SF_VIRTIO_MIN
                                 * ("pf0sf1000"). */
};

const char *esw_vport_kind_name(enum esw_vport_kind);

struct esw_vport_config {
    enum esw_vport_kind kind;
    uint32_t pf;                /* PF number (not for UPLINK: port). */
    uint32_t fn;                /* VF or SF number (VF, SF only). */
    uint32_t vport;             /* Wanted number or ESW_VPORT_AUTO. */
    struct esw_eth_addr mac;    /* The function's own MAC (zero: none);
                                 * a policy's admin_mac wins over it. */
    uint32_t mtu;               /* 0 means 1500.  68..9198. */
    bool admin_down;            /* Start with the link down. */
    uint32_t rep_queue_depth;   /* Representor (miss) queue depth,
                                 * rounded up to a power of 2
                                 * (0: 1024), per queue. */
    uint32_t n_rep_queues;      /* Representor (miss) queues,
                                 * 1..ESW_MAX_REP_QUEUES (0: 1). */
    const struct esw_io_config *io;  /* Emulator only: the function's host
                                      * side (esw-emu.h); NULL: none.  A
                                      * hardware driver ignores it. */
};

/* Most representor queues a vport may have.  A vport with several spreads
 * its misses over them by a hash of the frame's addresses and L4 ports
 * (RSS): the packets of one flow stay in order on one queue. */
#define ESW_MAX_REP_QUEUES 16

/* Adds a function to 'dev'.  Its name follows the BlueField convention
 * (p<pf>, pf<pf>hpf, pf<pf>vf<fn>, pf<pf>sf<fn>).  Stores the vport number
 * in '*vportp' (may be NULL).  Errors: EINVAL (bad config), EEXIST (name or
 * number taken), ENOSPC (no free vport number), EACCES/ENODEV from the host
 * side (then nothing was added). */
int esw_vport_add(struct esw_dev *, const struct esw_vport_config *,
                  struct esw_error *err, uint32_t *vportp);

/* Removes vport 'vport': its representor queue and host side are drained
 * and freed, its rules are orphaned (see "Lifecycle").  ENOENT if there is
 * no such vport. */
int esw_vport_del(struct esw_dev *, uint32_t vport);

struct esw_vport_info {
    uint32_t vport;
    enum esw_vport_kind kind;
    uint32_t pf, fn;
    char name[ESW_NAME_MAX];
    struct esw_eth_addr mac;            /* The function's own MAC (from
                                         * its config or
                                         * esw_vport_set_mac()). */
    struct esw_eth_addr guest_mac;      /* Last MAC the guest requested
                                         * (zero: none). */
    struct esw_eth_addr effective_mac;  /* What spoof check enforces. */
    bool guest_mac_refused;             /* Last guest request refused. */
    uint32_t mtu;
    bool admin_up;
    bool oper_up;               /* admin_up, the function's side up
                                 * (emulator: host side attached and up,
                                 * esw-emu.h 'host_up'), and the policy's
                                 * link state allows it. */
    bool has_policy;
    uint32_t rep_queue_depth;    /* Per queue. */
    uint32_t n_rep_queues;
    int rep_fd;                  /* Queue 0's, see esw_rep_get_fd(). */
};

int esw_vport_get_info(struct esw_dev *, uint32_t vport,
                       struct esw_vport_info *);

/* Finds the vport called 'name'.  ENOENT if none. */
int esw_vport_lookup(struct esw_dev *, const char *name, uint32_t *vportp);

/* Stores up to 'max' vport numbers in increasing order in 'vports' and
 * returns how many vports exist. */
size_t esw_vport_list(struct esw_dev *, uint32_t vports[], size_t max);

int esw_vport_set_mac(struct esw_dev *, uint32_t vport,
                      const struct esw_eth_addr *);
int esw_vport_set_mtu(struct esw_dev *, uint32_t vport, uint32_t mtu);
int esw_vport_set_admin_state(struct esw_dev *, uint32_t vport, bool up);

/* Replaces the policy of 'vport' by one compiled from 'cfg' (NULL: no
 * policy, everything allowed).  The config is validated first: on any
 * error nothing changes.  The swap is atomic for the forwarding threads:
 * each packet sees either the old or the new policy, entirely. */
int esw_vport_set_policy(struct esw_dev *, uint32_t vport,
                         const struct esw_policy_config *cfg,
                         struct esw_error *err);

/* A guest on 'vport' asks to change its MAC to 'mac'.  Returns 0 if the
 * policy accepted it (the effective MAC becomes 'mac'), EPERM if it was
 * refused (reason in 'err'; the refusal is counted and the requested MAC
 * kept for status), EINVAL if 'mac' is not a unicast address, ENOENT if
 * there is no such vport. */
int esw_vport_guest_set_mac(struct esw_dev *, uint32_t vport,
                            const struct esw_eth_addr *mac,
                            struct esw_error *err);

/* Stores in '*has_policy' whether 'vport' has a policy and, if so, its
 * configuration (as last given to esw_vport_set_policy()) in '*cfg'.
 * ENOENT if there is no such vport. */
int esw_vport_get_policy(struct esw_dev *, uint32_t vport,
                         struct esw_policy_config *cfg, bool *has_policy);

/* Forgets what the guest on 'vport' asked for: its requested MAC, whether
 * it was accepted (the effective MAC falls back to the administrative or
 * the default MAC) and the refusal flag, as a function reset does when its
 * user goes away (VM detached, port removed), so that the next user starts
 * clean.  Counters are kept.  ENOENT if there is no such vport. */
int esw_vport_guest_reset(struct esw_dev *, uint32_t vport);

struct esw_vport_stats {
    uint64_t rx_packets, rx_bytes;   /* From the host side (function tx). */
    uint64_t tx_packets, tx_bytes;   /* To the host side (function rx). */
    uint64_t rep_rx_packets;         /* Missed, queued to the representor. */
    uint64_t rep_tx_packets;         /* Sent by software on the rep. */
    uint64_t guest_mac_refused;      /* Refused guest MAC changes. */
    uint64_t drops[ESW_N_DROP_REASONS];  /* Per reason. */
};

int esw_vport_get_stats(struct esw_dev *, uint32_t vport,
                        struct esw_vport_stats *);

/* Rules.
 * ====== */

struct esw_action {
    enum esw_action_type type;
    union {
        uint32_t vport;                         /* OUTPUT. */
        struct {
            uint16_t tpid;                      /* Host order: 0x8100 or
                                                 * 0x88a8. */
            uint16_t tci;                       /* Host order. */
        } vlan;                                 /* PUSH_VLAN. */
        struct esw_eth_addr mac;                /* SET_ETH_*. */
        struct esw_set set;                     /* SET. */
        struct {
            uint16_t alg;                       /* enum esw_hash_alg. */
            uint16_t max_vlans;                 /* VLAN tags the hash's
                                                 * parse skips, 1 or 2
                                                 * (OVS's vlan-limit). */
            uint32_t basis;
        } hash;                                 /* HASH. */
        uint32_t chain;                         /* RECIRC. */
        uint32_t meter;                         /* METER. */
        struct esw_encap encap;                 /* ENCAP. */
        struct esw_decap decap;                 /* DECAP. */
        struct {
            uint16_t zone;
            bool nat;                           /* Apply the connection's
                                                 * NAT (OVS's ct(nat)). */
        } ct;                                   /* CT. */
    };
};

/* A rule: packets whose key K satisfies (K & mask) == (match & mask)
 * are handled by 'actions', in order (an OUTPUT sends the packet as
 * modified so far).  Bits of 'match' outside 'mask' are ignored.  Among
 * several matching rules, the highest 'priority' wins; between rules of
 * equal priority that overlap, which one wins is undefined.  No actions at
 * all means drop, like a DROP action (counted as ESW_DROP_RULE).
 *
 * Chains
 * ======
 *
 * A rule lives in exactly one chain: 'match.chain' (0 if 'mask.chain' is
 * 0; a mask on 'chain' is all-ones or nothing).  A packet entering the
 * switch is looked up in chain 0.  A rule whose last action is RECIRC N
 * sends the packet, as its actions left it (rewrites, tags, the dp_hash of
 * a HASH action), to a new lookup in chain N, keeping its in_vport; the
 * rule found there continues, and so on, up to caps.max_recirc
 * recirculations.  A packet is never half processed nor processed twice:
 *
 *   - the outputs and meters of a packet that recirculates take effect
 *     only once it has finished its last chain with a hit; rule counters
 *     count it then, too;
 *   - if it misses in a later chain (or would recirculate more than
 *     max_recirc times), none of that happens: the packet goes to the
 *     representor of its in_vport exactly as it entered chain 0 (after the
 *     ingress policy), as for a miss in chain 0, so that software
 *     processes it from the start.
 *
 * Tunnels: a rule of chain 0 or of another chain may DECAP a tunnelled
 * frame and RECIRC (to any chain, 0 included): the lookups that follow
 * see the inner frame with the tunnel metadata in the key's tun_* fields
 * and 'tun_port' set to the DECAP's.  A rule matches 'tun_port' exactly,
 * whether its mask says so or not (as 'chain'), so that a rule made for
 * frames that were not decapsulated never sees one that was.  A packet
 * that misses after a DECAP goes to the representor of its in_vport as it
 * entered chain 0, still encapsulated, like any later miss.  ENCAP pushes
 * a header (the outer VLAN of a tagged underlay is a PUSH_VLAN after it).
 *
 * Meters: a METER action polices the packet with that meter (see "Meters"
 * below); a meter id that does not exist lets everything through. */
struct esw_rule_spec {
    struct esw_key match, mask;
    uint32_t priority;
    struct esw_action actions[ESW_MAX_ACTIONS];
    size_t n_actions;
};

/* Checks whether 'spec' could be added to 'dev' now: EINVAL (malformed),
 * EOPNOTSUPP (unsupported field or action), ENOENT (output to or match on
 * a vport that does not exist).  Does not check capacity. */
int esw_rule_validate(struct esw_dev *, const struct esw_rule_spec *,
                      struct esw_error *err);

/* Validates and adds 'spec', storing a handle in '*rulep'.  Also ENOSPC if
 * the table is full, EEXIST if a rule with the same match, mask and
 * priority exists (as the device files rules: see esw_rule_key() in
 * esw-provider.h).  The rule forwards before any later call on 'dev'
 * returns: at once in this process ("sim"); a "remote" device's daemon
 * may still be installing it when this returns, but it handles requests
 * in order. */
int esw_rule_add(struct esw_dev *, const struct esw_rule_spec *,
                 struct esw_error *err, struct esw_rule **rulep);

/* Replaces 'rule''s match, priority and actions by 'spec', keeping its
 * handle and counters.  Make-before-break: every packet is handled by the
 * old or the new version, never by neither.  On error the rule is left as
 * it was. */
int esw_rule_modify(struct esw_dev *, struct esw_rule *,
                    const struct esw_rule_spec *, struct esw_error *err);

/* Removes and frees 'rule' (orphaned or not).  Accepts NULL.  Packets
 * being forwarded by it finish; its memory is freed after a grace
 * period. */
void esw_rule_del(struct esw_dev *, struct esw_rule *);

struct esw_rule_stats {
    uint64_t packets, bytes;
    uint64_t used_ms;           /* Last hit, esw_time_msec() clock; 0 =
                                 * never. */
    bool orphaned;              /* A vport of the rule went away. */
};

int esw_rule_get_stats(struct esw_dev *, const struct esw_rule *,
                       struct esw_rule_stats *);

/* Copies 'rule''s current spec into 'spec'. */
void esw_rule_get_spec(struct esw_dev *, const struct esw_rule *,
                       struct esw_rule_spec *spec);

/* Rules in the table (not orphaned) and capacity. */
size_t esw_rule_count(struct esw_dev *);
size_t esw_rule_capacity(struct esw_dev *);

/* Calls 'cb' for each rule (including orphaned ones), in insertion order,
 * with the control mutex held: 'cb' must not call back into 'dev' except
 * esw_rule_get_stats() and esw_rule_get_spec().  Stops early when 'cb'
 * returns false. */
void esw_rule_foreach(struct esw_dev *,
                      bool (*cb)(struct esw_rule *, void *aux), void *aux);

/* Monotonic time in milliseconds, the clock of 'used_ms'. */
uint64_t esw_time_msec(void);

/* Meters.
 * =======
 *
 * A meter is a set of bands, each a token bucket: 'rate' (kbit/s, or
 * packets/s with 'pktps') and 'burst' (kbit or packets; 0 means 'rate').
 * A packet that exceeds any band is dropped, and counted on the band with
 * the highest rate it exceeded; the others pass.  This is Open vSwitch's
 * userspace datapath's meter (drop bands).  Meters are shared by every
 * rule that names them and by every forwarding thread. */

#define ESW_MAX_METER_BANDS 4

struct esw_meter_band {
    uint64_t rate;              /* kbit/s or packets/s, nonzero. */
    uint64_t burst;             /* kbit or packets (0: 'rate'). */
};

struct esw_meter_config {
    bool pktps;                 /* Rates in packets/s, not kbit/s. */
    uint32_t n_bands;           /* 1..ESW_MAX_METER_BANDS. */
    struct esw_meter_band bands[ESW_MAX_METER_BANDS];
};

struct esw_meter_stats {
    uint64_t packets, bytes;    /* Packets that reached the meter. */
    uint64_t band_packets[ESW_MAX_METER_BANDS];   /* Dropped, per band. */
    uint64_t band_bytes[ESW_MAX_METER_BANDS];
};

/* Creates meter 'id' or replaces its configuration (buckets full, counters
 * zero: as Open vSwitch does when a meter is modified).  EINVAL for a bad
 * configuration (no band, more than ESW_MAX_METER_BANDS, a zero rate) or
 * an id not below caps.max_meters; EOPNOTSUPP if the device has no meters
 * (caps.max_meters is 0); ENOMEM. */
int esw_meter_set(struct esw_dev *, uint32_t id,
                  const struct esw_meter_config *, struct esw_error *err);

/* Removes meter 'id'.  Rules that name it let packets through from then
 * on.  ENOENT if there is no such meter. */
int esw_meter_del(struct esw_dev *, uint32_t id);

/* ENOENT if there is no such meter. */
int esw_meter_get_stats(struct esw_dev *, uint32_t id,
                        struct esw_meter_stats *);
int esw_meter_get_config(struct esw_dev *, uint32_t id,
                         struct esw_meter_config *);

/* Stores up to 'max' meter ids in increasing order in 'ids' and returns
 * how many meters exist. */
size_t esw_meter_list(struct esw_dev *, uint32_t ids[], size_t max);

/* Connection tracking.
 * ====================
 *
 * The device holds a table of connections that software (Open vSwitch's
 * userspace conntrack) committed and saw established, after mlx5's CT
 * tables: each entry, in a zone, holds both directions of a connection as
 * OVS's conntrack keeps them: the original tuple (as the first packet
 * came) and the reply tuple (as replies come: the reverse of the
 * original after NAT).  A packet of the original direction that is NATed
 * leaves with the reverse of the reply tuple, a reply with the reverse of
 * the original tuple: addresses and ports are rewritten with their
 * checksums exactly as OVS's conntrack rewrites them.  TCP, UDP and ICMP
 * echo over IPv4, TCP, UDP and ICMPv6 echo over IPv6; NAT changes either
 * the source or the destination (OVS's NAT_ACTION_* bits in 'nat'): the
 * address and, for TCP and UDP, the port (OVS never translates an ICMP
 * echo's id).  An ICMP echo connection is keyed as OVS's conntrack keys
 * it: addresses, id, type and code; its original tuple is an echo
 * request's (ICMP type 8, ICMPv6 128), its reply tuple an echo reply's
 * (0, 129), codes 0, both with the same id.
 *
 * ESW_ACTION_CT (zone Z, nat N), followed by RECIRC: the packet's tuple is
 * looked up in zone Z.  Found, the packet continues in the RECIRC's chain
 * with the key's ct_state = trk|est (|rpl for the reply direction,
 * |snat or |dnat when NAT was applied, as OVS sets them), ct_zone = Z,
 * ct_mark and ct_label the entry's; with N the packet is NATed first
 * (unless an earlier CT of the same zone did).  Not found, or a packet
 * OVS's conntrack would judge on its own (TCP SYN, FIN or RST or invalid
 * flags, an IP fragment, an IPv6 extension header, a bad IPv4 or L4
 * checksum, a truncated header, a zero port, an ICMP message other than
 * an echo request or reply of code 0: errors, which OVS relates to
 * another connection, included), or a device without a connection table:
 * a miss in a later chain (see "Chains": the packet goes to the
 * representor exactly as it entered chain 0, and OVS tracks it itself).  An entry's counters count
 * the packets that then complete their chains, per direction.
 *
 * ESW_ACTION_CT_CLEAR, anywhere in a rule: the packet's CT metadata is
 * cleared, as OVS's ct_clear clears it (ct_state 0: untracked; ct_zone,
 * ct_mark and ct_label 0): a later lookup sees ct_state=-trk, and a later
 * CT starts afresh, even in the zone of an earlier one (its NAT applies
 * again).  Between a logical switch's and a logical router's pipelines,
 * OVN clears the first zone's state this way before the second CT.
 *
 * Entries are added and removed by software only: the device never
 * creates, ages or expires one; software asks for its 'used_ms' to keep
 * its own connection alive.  ESW_CS_* are OVS's CS_* values. */

#define ESW_CS_NEW          0x01
#define ESW_CS_ESTABLISHED  0x02
#define ESW_CS_RELATED      0x04
#define ESW_CS_REPLY_DIR    0x08
#define ESW_CS_INVALID      0x10
#define ESW_CS_TRACKED      0x20
#define ESW_CS_SRC_NAT      0x40
#define ESW_CS_DST_NAT      0x80

/* NAT bits of an entry ('struct esw_ct_spec''s 'nat'): OVS's
 * NAT_ACTION_*, for the original direction. */
#define ESW_CT_NAT_SRC      0x01
#define ESW_CT_NAT_SRC_PORT 0x02
#define ESW_CT_NAT_DST      0x04
#define ESW_CT_NAT_DST_PORT 0x08

/* As OVS's ct_dpif_tuple: for ICMP and ICMPv6 the echo id takes the
 * source port's place, the type and code the destination port's. */
struct esw_ct_tuple {
    union esw_ip_addr src, dst;     /* Network order (IPv4: 'ip4'). */
    union {
        uint16_t src_port;          /* TCP, UDP: network order. */
        uint16_t icmp_id;           /* ICMP echo: network order. */
    };
    union {
        uint16_t dst_port;          /* TCP, UDP: network order. */
        struct {
            uint8_t icmp_type;      /* ICMP echo. */
            uint8_t icmp_code;
        };
    };
    uint8_t ip_proto;               /* IPPROTO_TCP, IPPROTO_UDP,
                                     * IPPROTO_ICMP (IPv4) or
                                     * IPPROTO_ICMPV6 (IPv6). */
};

struct esw_ct_spec {
    uint16_t zone;
    uint16_t nat;                   /* ESW_CT_NAT_*. */
    bool ipv6;                      /* Both tuples' addresses are IPv6. */
    struct esw_ct_tuple orig;       /* Original direction. */
    struct esw_ct_tuple reply;      /* Reply direction. */
    uint32_t mark;
    uint64_t label[2];              /* OVS's ovs_u128: lo, hi. */
};

struct esw_ct_stats {
    uint64_t packets[2], bytes[2];  /* [0] original, [1] reply direction. */
    uint64_t used_ms;               /* Last packet, esw_time_msec() clock;
                                     * 0 = never. */
    bool flushed;                   /* Taken out by esw_ct_flush(). */
};

struct esw_ct;

/* Adds a connection, storing its handle in '*ctp'.  EINVAL (not TCP, UDP
 * or the address family's ICMP, the two tuples of different protocols, a
 * zero port, an IPv4 address with nonzero padding, ICMP tuples that are
 * not an echo request and its reply with one id, NAT bits that OVS would
 * not set or that do not match the tuples), EOPNOTSUPP (no connection
 * table: caps.max_conns 0; an ICMP connection other than echo, such as
 * OVS's timestamp and information request connections), EEXIST (either
 * tuple is in the zone already), ENOSPC (caps.max_conns entries).  The
 * entry is used by the next packets. */
int esw_ct_add(struct esw_dev *, const struct esw_ct_spec *,
               struct esw_error *err, struct esw_ct **ctp);

/* Changes the mark and label of 'ct' (OVS changed its connection's).
 * ENOENT if 'ct' was flushed. */
int esw_ct_modify(struct esw_dev *, struct esw_ct *, uint32_t mark,
                  const uint64_t label[2]);

/* Removes and frees 'ct' (flushed or not).  Accepts NULL.  Packets being
 * forwarded through it finish; its memory is freed after a grace
 * period. */
void esw_ct_del(struct esw_dev *, struct esw_ct *);

/* Takes the entries of 'zone' (all if NULL) out of the table: they no
 * longer match nor count against capacity; their handles stay valid
 * (stats, spec) until esw_ct_del().  Returns how many were taken out. */
size_t esw_ct_flush(struct esw_dev *, const uint16_t *zone);

int esw_ct_get_stats(struct esw_dev *, const struct esw_ct *,
                     struct esw_ct_stats *);
void esw_ct_get_spec(struct esw_dev *, const struct esw_ct *,
                     struct esw_ct_spec *);

/* Entries in the table (not flushed) and capacity (caps.max_conns). */
size_t esw_ct_count(struct esw_dev *);
size_t esw_ct_capacity(struct esw_dev *);

/* Calls 'cb' for each entry (flushed ones included), in insertion order,
 * with the control mutex held: 'cb' may only call esw_ct_get_stats() and
 * esw_ct_get_spec().  Stops early when 'cb' returns false. */
void esw_ct_foreach(struct esw_dev *,
                    bool (*cb)(struct esw_ct *, void *aux), void *aux);

/* Packets.
 * ======== */

/* Allocates a packet able to hold 'len' bytes after ESW_PKT_HEADROOM, with
 * 'len' set and 'data' uninitialized.  NULL if 'len' > ESW_FRAME_MAX or
 * out of memory. */
struct esw_pkt *esw_pkt_alloc(size_t len);
/* Same, with the frame copied from 'frame'. */
struct esw_pkt *esw_pkt_from_data(const void *frame, size_t len);
struct esw_pkt *esw_pkt_clone(const struct esw_pkt *);
void esw_pkt_free(struct esw_pkt *);   /* Accepts NULL. */

/* Representors.
 * ============= */

/* Dequeues up to 'max' packets from representor queue 'queue' of 'vport':
 * packets that missed the rule table after entering from 'vport' (after
 * its ingress policy).  Never blocks; returns how many it stored (0 also
 * if there is no such vport or queue).  One consumer per queue at a
 * time. */
size_t esw_rep_recv(struct esw_dev *, uint32_t vport, uint32_t queue,
                    struct esw_pkt *pkts[], size_t max);

/* Changes the number of representor queues of 'vport' to 'n'
 * (1..ESW_MAX_REP_QUEUES).  Packets waiting in the old queues move to the
 * new ones once the device's forwarding threads are done with the old
 * ones (an RCU grace period, see esw-rcu.h); none is lost, unless the new
 * queues are full (counted as miss-queue-full drops).  The queues' fds
 * change.  The caller makes sure
 * that nobody consumes the vport's queues meanwhile (its representor is
 * not in use).  EINVAL (bad 'n'), ENOENT (no such vport), ENOMEM/EMFILE
 * (then nothing changed). */
int esw_vport_set_rep_queues(struct esw_dev *, uint32_t vport, uint32_t n,
                             struct esw_error *);

/* Returns an fd (eventfd) that is readable while representor queue 'queue'
 * of 'vport' may be non-empty, for poll()/epoll; -1 if there is no such
 * vport or queue.
 * The fd belongs to the device: do not read or close it.  It becomes
 * readable whenever a packet is queued after esw_rep_recv() found the
 * queue empty; it is cleared by the 4th consecutive esw_rep_recv() that
 * finds the queue empty (so a busy consumer does not pay a syscall per
 * packet; a poll loop may see up to 3 spurious wakeups). */
int esw_rep_get_fd(struct esw_dev *, uint32_t vport, uint32_t queue);

/* Sends 'pkt' from the representor of 'vport' to the function behind it:
 * through the vport's egress policy to its host side, in the caller's
 * thread (it never waits for a forwarding thread).  Takes ownership of
 * 'pkt'.  Returns 0 once the packet was delivered or dropped (a drop by
 * policy, link, MTU or a full host side is counted in the vport's
 * per-reason drops, like on the forwarding path), ENOENT if there is no
 * such vport.  A device in another process (driver "remote") may instead
 * return 0 once the packet is queued to it: it is then delivered or
 * dropped before the device handles any later call of the same process
 * on it, so that what the caller observes next (counters, captures)
 * includes it. */
int esw_rep_send(struct esw_dev *, uint32_t vport, struct esw_pkt *pkt);

/* Tracing.
 * ======== */

/* What the device would do with a packet that the function behind a vport
 * transmits, stage by stage, for diagnostics.  Nothing is sent and no
 * counter, rule "used" time, meter or rate-limiter state changes; meters
 * and rate policing are therefore not evaluated. */
enum esw_trace_verdict {
    ESW_TRACE_DROP,             /* Dropped before lookup ('drop_reason'). */
    ESW_TRACE_HIT,              /* Rules handled it in every chain it went
                                 * through ('stages', 'outputs'). */
    ESW_TRACE_MISS,             /* Sent to the vport's representor: a miss
                                 * in chain 0, or in a later chain, or too
                                 * many recirculations ('stages' says). */
};

struct esw_trace_output {
    uint32_t vport;
    bool delivered;             /* Passed the vport's egress stage. */
    enum esw_drop_reason drop_reason;   /* If not delivered. */
    struct esw_key key;         /* The frame as delivered, parsed. */
};

/* One chain the packet went through. */
struct esw_trace_stage {
    struct esw_key key;                 /* As looked up ('key.chain' is the
                                         * chain, 'key.dp_hash' the hash
                                         * so far). */
    struct esw_rule *rule;              /* NULL: a miss in this chain. */
    struct esw_rule_spec spec;          /* 'rule''s spec. */
    struct esw_key after;               /* The packet as the rule's actions
                                         * left it (parsed). */
};

#define ESW_TRACE_MAX_STAGES 8

struct esw_trace {
    enum esw_trace_verdict verdict;
    enum esw_drop_reason drop_reason;   /* ESW_TRACE_DROP. */
    struct esw_key received;            /* As the function sent it. */
    struct esw_key looked_up;           /* After ingress policy. */
    struct esw_rule *rule;              /* The chain-0 rule (NULL on a
                                         * chain-0 miss). */
    struct esw_rule_spec spec;          /* 'rule''s spec. */
    size_t n_stages;                    /* Chains looked up (0 on DROP). */
    struct esw_trace_stage stages[ESW_TRACE_MAX_STAGES];
    bool recirc_limit;                  /* ESW_TRACE_MISS because the packet
                                         * would recirculate more than
                                         * caps.max_recirc times. */
    size_t n_outputs;
    struct esw_trace_output outputs[ESW_MAX_ACTIONS * ESW_TRACE_MAX_STAGES];
    struct esw_pkt *to_representor;     /* ESW_TRACE_MISS: the packet as
                                         * the representor would receive
                                         * it (owned by the caller: free
                                         * with esw_pkt_free()). */
};

/* Traces 'pkt' (not taken) as if the function behind 'vport' transmitted
 * it.  ENOENT if there is no such vport, EOPNOTSUPP if the driver cannot
 * trace. */
int esw_trace_packet(struct esw_dev *, uint32_t vport,
                     const struct esw_pkt *pkt, struct esw_trace *);

/* Traces the egress stage for 'pkt' (not taken) sent on the representor
 * of 'vport' (see esw_rep_send()) into 'out'. */
int esw_trace_rep_send(struct esw_dev *, uint32_t vport,
                       const struct esw_pkt *pkt,
                       struct esw_trace_output *out);

#endif /* esw.h */
