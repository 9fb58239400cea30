/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_PROVIDER_H
#define ESW_PROVIDER_H 1

/* eSwitch driver interface: what a driver implements behind esw.h, after
 * OVS's lib/netdev-offload-provider.h.
 *
 * A driver allocates its own device structure embedding 'struct esw_dev'
 * (usually first) and returns it from 'open'; the generic layer (esw.c)
 * owns the name registry and the reference count, checks the arguments
 * that do not depend on the driver, performs capability-based rule
 * validation (esw_rule_check_caps()) and then calls the driver.
 *
 * Errors
 * ======
 *
 * Every callback that can fail returns 0 or a positive errno value, one of
 * those esw.h lists, with the meaning esw.h gives it (EINVAL malformed,
 * EOPNOTSUPP valid but not supported by this device, ENOSPC full, ENOENT
 * no such vport or rule...).  A callback that takes a 'struct esw_error *'
 * also fills it in on failure with esw_error_set() (type, cause, reason),
 * which accepts a NULL 'err'; the generic layer cleared it before the
 * call (and, for the rule callbacks, passes one of its own when the caller
 * gave none).  A driver that uses negative codes
 * (DPDK, the kernel) converts them here, once.
 *
 * Ownership
 * =========
 *
 * Callers keep what they pass in (configs, specs, policies, names): a
 * driver copies what it keeps.  A callback that takes a packet
 * ('rep_send', the emulator's 'host_inject') owns it whatever it returns:
 * it delivers or frees it.  Packets a callback returns ('rep_recv', the
 * emulator's 'host_capture_read') belong to the caller.  Rule handles
 * ('struct esw_rule', defined by each driver) belong to the driver from
 * 'rule_add' until 'rule_del' or 'close'; the generic layer never looks
 * inside them.
 *
 * Life cycle and threading
 * ========================
 *
 * 'open' and 'close' are called with the registry mutex held, at most
 * once per device, 'close' when the last reference goes: it must stop
 * forwarding and free everything, rules and queued packets included.
 * Every other callback may be called from any thread, concurrently, and
 * must not block for long (esw.h, "Threading").
 *
 * Which callbacks may be NULL
 * ===========================
 *
 * Every member of 'struct esw_driver' must be nonnull, except those marked
 * "May be NULL", and 'emu': the emulator's extra ops (esw-emu.h), which a
 * hardware driver leaves NULL. */

#include "esw.h"
#include "esw-emu.h"

struct esw_driver;

/* Base of every device.  Drivers embed it and use a CONTAINER_OF style
 * cast (see esw-sim.h). */
struct esw_dev {
    const struct esw_driver *driver;
    char name[ESW_NAME_MAX];
    struct esw_caps caps;       /* Set by the driver's 'open'. */
    unsigned int ref_cnt;       /* Protected by the registry mutex. */
};

/* What only an emulator implements (esw-emu.h).  A hardware driver leaves
 * esw_driver's 'emu' NULL; the esw-emu.h calls then fail with EOPNOTSUPP,
 * return 0 or report idle.  An emulator may also leave any member NULL,
 * with the same effect for that call. */
struct esw_emu_ops {
    /* Stores what is behind function 'vport' in '*info' (zeroed by the
     * caller), its MAC included if it has one.  ENOENT if there is no such
     * vport. */
    int (*vport_get_host)(struct esw_dev *, uint32_t vport,
                          struct esw_host_info *info);

    /* The function behind 'vport' transmits 'pkt' (never NULL): takes it
     * whatever it returns.  ENOENT, EOPNOTSUPP (the host side cannot be
     * injected into), ENOBUFS (queue full: 'pkt' dropped and freed). */
    int (*host_inject)(struct esw_dev *, uint32_t vport, struct esw_pkt *);

    /* Dequeues up to 'max' (at least 1) packets the function behind
     * 'vport' received into 'pkts'; they become the caller's.  Returns how
     * many (0 also without such a vport or capture host side). */
    size_t (*host_capture_read)(struct esw_dev *, uint32_t vport,
                                struct esw_pkt *pkts[], size_t max);

    /* True if nothing injected, sent or in flight is still being
     * processed.  Must not block. */
    bool (*is_idle)(struct esw_dev *);
};

struct esw_driver {
    /* The driver's name ("sim"), as esw_dev_open() takes it. */
    const char *name;

    /* True if its devices outlive the process that opened them (a device
     * hosted by another process, "remote"): see esw_leave_devices(). */
    bool outlives_process;

    /* Devices.
     * ======== */

    /* Creates device 'name' with 'cfg' (never NULL: zeroed if the caller
     * passed NULL; the zero fields mean the driver's defaults; a hardware
     * driver ignores 'cfg->emu').  Fills in dev->caps and stores the device
     * in '*devp' (the generic layer fills in the rest of 'struct
     * esw_dev').  EINVAL for a config it cannot honour, ENOMEM; on failure
     * nothing is left behind. */
    int (*open)(const char *name, const struct esw_dev_config *cfg,
                struct esw_dev **devp);

    /* Destroys 'dev' (its last reference is gone): stops forwarding,
     * removes every vport and frees every rule handle and queued packet. */
    void (*close)(struct esw_dev *dev);

    /* Vports.
     * ======= */

    /* Adds the function 'cfg' describes (the generic layer checked nothing
     * of it), stores its vport number in '*vportp' (never NULL).  EINVAL
     * (bad config: ESW_ERROR_VPORT_CONFIG), EEXIST (name or number taken:
     * ESW_ERROR_VPORT), ENOSPC (no free number: ESW_ERROR_CAPACITY), an
     * emulator's host-side errors (EACCES, ENODEV: ESW_ERROR_HOST_IO; a
     * hardware driver ignores 'cfg->io').  On failure nothing was added. */
    int (*vport_add)(struct esw_dev *, const struct esw_vport_config *cfg,
                     struct esw_error *err, uint32_t *vportp);

    /* Removes 'vport': drains and frees its queues and host side, orphans
     * the rules that match on it or output to it (esw.h, "Lifecycle").
     * ENOENT. */
    int (*vport_del)(struct esw_dev *, uint32_t vport);

    /* Fills in '*info' (zeroed by the caller) for 'vport'.  ENOENT. */
    int (*vport_get_info)(struct esw_dev *, uint32_t vport,
                          struct esw_vport_info *info);

    /* Stores the number of the vport called 'name'.  ENOENT. */
    int (*vport_lookup)(struct esw_dev *, const char *name,
                        uint32_t *vportp);

    /* Stores up to 'max' vport numbers (increasing) in 'vports' and
     * returns how many exist. */
    size_t (*vport_list)(struct esw_dev *, uint32_t vports[], size_t max);

    /* Set the function's own MAC (the generic layer refused a multicast
     * one), its MTU (EINVAL outside 68..9198) and administrative link
     * state.  ENOENT. */
    int (*vport_set_mac)(struct esw_dev *, uint32_t vport,
                         const struct esw_eth_addr *);
    int (*vport_set_mtu)(struct esw_dev *, uint32_t vport, uint32_t mtu);
    int (*vport_set_admin_state)(struct esw_dev *, uint32_t vport, bool up);

    /* Policy (esw.h, esw-policy.h): replaces 'vport''s policy by 'cfg'
     * (NULL: none), validated first, atomically for traffic; EINVAL
     * (ESW_ERROR_POLICY), ENOENT, ENOMEM.  A driver without vport ACLs
     * compiles the policy into rules. */
    int (*vport_set_policy)(struct esw_dev *, uint32_t vport,
                            const struct esw_policy_config *cfg,
                            struct esw_error *err);

    /* Mediates a guest's MAC request under the vport's policy: 0
     * (accepted), EPERM (refused: counted, ESW_ERROR_POLICY with the
     * reason), EINVAL (not unicast), ENOENT. */
    int (*vport_guest_set_mac)(struct esw_dev *, uint32_t vport,
                               const struct esw_eth_addr *,
                               struct esw_error *err);

    /* Fills in '*stats' (zeroed by the caller), without locking the
     * forwarding path.  ENOENT. */
    int (*vport_get_stats)(struct esw_dev *, uint32_t vport,
                           struct esw_vport_stats *stats);

    /* Stores whether 'vport' has a policy in '*has_policy' (false on
     * entry) and, if so, its config.  ENOENT. */
    int (*vport_get_policy)(struct esw_dev *, uint32_t vport,
                            struct esw_policy_config *cfg, bool *has_policy);

    /* Forgets the guest's MAC requests (esw.h).  ENOENT. */
    int (*vport_guest_reset)(struct esw_dev *, uint32_t vport);

    /* Rules.
     * ====== */

    /* Checks what depends on the device state (the vports 'spec' names
     * exist), after the generic checks passed: ENOENT (ESW_ERROR_VPORT). */
    int (*rule_validate)(struct esw_dev *, const struct esw_rule_spec *,
                         struct esw_error *err);

    /* Validates and adds 'spec' (copied), storing a new handle in
     * '*rulep'.  ENOSPC (ESW_ERROR_CAPACITY), EEXIST (ESW_ERROR_RULE), the
     * 'rule_validate' errors.  The rule forwards before any later call on
     * the device returns. */
    int (*rule_add)(struct esw_dev *, const struct esw_rule_spec *,
                    struct esw_error *err, struct esw_rule **rulep);

    /* Replaces 'rule''s spec, make-before-break, keeping its counters; on
     * error the rule is unchanged.  ENOENT for an orphaned rule. */
    int (*rule_modify)(struct esw_dev *, struct esw_rule *,
                       const struct esw_rule_spec *, struct esw_error *err);

    /* Removes and frees 'rule' (never NULL), orphaned or not, after the
     * packets being forwarded by it are done (RCU). */
    void (*rule_del)(struct esw_dev *, struct esw_rule *);

    /* Reads 'rule''s counters without locking the forwarding path. */
    int (*rule_get_stats)(struct esw_dev *, const struct esw_rule *,
                          struct esw_rule_stats *);

    /* Copies 'rule''s current spec. */
    void (*rule_get_spec)(struct esw_dev *, const struct esw_rule *,
                          struct esw_rule_spec *);

    /* Rules in the table (not orphaned). */
    size_t (*rule_count)(struct esw_dev *);

    /* Calls 'cb' for each rule handle, in insertion order, under the
     * control lock (esw.h, esw_rule_foreach()). */
    void (*rule_foreach)(struct esw_dev *,
                         bool (*cb)(struct esw_rule *, void *), void *aux);

    /* Representors.
     * ============= */

    /* Dequeues up to 'max' (at least 1) missed packets of queue 'queue' of
     * 'vport' into 'pkts'; they become the caller's.  Never blocks;
     * returns how many (0 also for a bad vport or queue). */
    size_t (*rep_recv)(struct esw_dev *, uint32_t vport, uint32_t queue,
                       struct esw_pkt *pkts[], size_t max);

    /* Returns the fd that signals queue 'queue' of 'vport' (the driver
     * keeps it), or -1. */
    int (*rep_get_fd)(struct esw_dev *, uint32_t vport, uint32_t queue);

    /* Changes the number of representor queues of 'vport' to 'n'
     * (1..ESW_MAX_REP_QUEUES, checked by the generic layer), losing no
     * packet.  ENOENT, ENOMEM/EMFILE (nothing changed). */
    int (*vport_set_rep_queues)(struct esw_dev *, uint32_t vport,
                                uint32_t n, struct esw_error *err);

    /* Sends 'pkt' (never NULL, taken whatever this returns) from 'vport''s
     * representor through its egress policy to its function, in the
     * caller's thread, or (a device in another process) queues it to be
     * sent before the device's next call from this process (esw.h).
     * ENOENT. */
    int (*rep_send)(struct esw_dev *, uint32_t vport, struct esw_pkt *pkt);

    /* Meters.
     * ======= */

    /* May be NULL (a device without meters, caps.max_meters 0): the
     * esw_meter_*() calls then fail with EOPNOTSUPP / list nothing.
     * 'meter_set' is called after the generic checks of the config. */
    int (*meter_set)(struct esw_dev *, uint32_t id,
                     const struct esw_meter_config *, struct esw_error *);
    int (*meter_del)(struct esw_dev *, uint32_t id);
    int (*meter_get_stats)(struct esw_dev *, uint32_t id,
                           struct esw_meter_stats *);
    int (*meter_get_config)(struct esw_dev *, uint32_t id,
                            struct esw_meter_config *);
    size_t (*meter_list)(struct esw_dev *, uint32_t ids[], size_t max);

    /* Connection table.
     * ================= */

    /* May be NULL (no connection table, caps.max_conns 0): the esw_ct_*()
     * calls then fail with EOPNOTSUPP / count and list nothing.  'ct_add'
     * is called after the generic checks of the spec (esw.c); its other
     * errors: EEXIST (ESW_ERROR_CT), ENOSPC (ESW_ERROR_CAPACITY), ENOMEM.
     * The others as esw.h describes them. */
    int (*ct_add)(struct esw_dev *, const struct esw_ct_spec *,
                  struct esw_error *, struct esw_ct **);
    int (*ct_modify)(struct esw_dev *, struct esw_ct *, uint32_t mark,
                     const uint64_t label[2]);
    void (*ct_del)(struct esw_dev *, struct esw_ct *);
    size_t (*ct_flush)(struct esw_dev *, const uint16_t *zone);
    int (*ct_get_stats)(struct esw_dev *, const struct esw_ct *,
                        struct esw_ct_stats *);
    void (*ct_get_spec)(struct esw_dev *, const struct esw_ct *,
                        struct esw_ct_spec *);
    size_t (*ct_count)(struct esw_dev *);
    void (*ct_foreach)(struct esw_dev *,
                       bool (*cb)(struct esw_ct *, void *), void *aux);

    /* Tracing.
     * ======== */

    /* May be NULL: esw_trace_packet() and esw_trace_rep_send() then fail
     * with EOPNOTSUPP.  What the device would do with 'pkt' (not taken),
     * changing nothing (esw.h, "Tracing"); ENOENT. */
    int (*trace_packet)(struct esw_dev *, uint32_t vport,
                        const struct esw_pkt *pkt, struct esw_trace *);
    int (*trace_rep_send)(struct esw_dev *, uint32_t vport,
                          const struct esw_pkt *pkt,
                          struct esw_trace_output *);

    /* Emulator.
     * ========= */

    /* NULL for a hardware driver: see 'struct esw_emu_ops'. */
    const struct esw_emu_ops *emu;
};

/* Registers 'driver' (its name must be unique).  Built-in drivers ("sim")
 * are registered automatically.  EEXIST if the name is taken. */
int esw_driver_register(const struct esw_driver *driver);

/* Generic, device-state-independent checks of a rule spec against 'caps':
 * EINVAL for malformed specs, EOPNOTSUPP for unsupported fields and
 * actions, with the reason in 'err' (never NULL here). */
int esw_rule_check_caps(const struct esw_caps *caps,
                        const struct esw_rule_spec *spec,
                        struct esw_error *err);

/* The device-state checks of a rule spec every driver makes: ENOENT
 * (ESW_ERROR_MATCH or ESW_ERROR_ACTION) if 'spec' matches on or outputs to
 * a vport for which 'exists'('aux', vport) is false. */
int esw_rule_check_vports(const struct esw_rule_spec *spec,
                          bool (*exists)(const void *aux, uint32_t vport),
                          const void *aux, struct esw_error *err);

/* The key a device files 'spec' under in its rule table: '*match' is the
 * spec's match masked, '*mask' its mask as looked up (a rule sees only the
 * packets of its chain and of its tunnel, whatever its mask says: see
 * "Tunnels" in esw.h).  Two rules with equal keys and priorities collide
 * (EEXIST). */
void esw_rule_key(const struct esw_rule_spec *spec,
                  struct esw_key *match, struct esw_key *mask);

/* Stores in '*out' 'spec' as a device keeps it (what esw_rule_get_spec()
 * returns): its match masked, the actions past 'n_actions' zeroed. */
void esw_rule_spec_normalize(const struct esw_rule_spec *spec,
                             struct esw_rule_spec *out);

/* Fills 'err' (may be NULL) with 'error', what it is about ('type' and
 * 'cause', see 'enum esw_error_type') and a printf-style reason, and
 * returns 'error'. */
int esw_error_set(struct esw_error *err, int error, enum esw_error_type type,
                  int cause, const char *format, ...)
    __attribute__((format(printf, 5, 6)));
void esw_error_clear(struct esw_error *err);

/* The built-in drivers: the emulator, and a device hosted by the device
 * daemon ovs-eswitchd (datapath/remote/). */
extern const struct esw_driver esw_sim_driver;
extern const struct esw_driver esw_remote_driver;

/* Logs a line (esw.h, "Logging") through the hook the process set. */
void esw_log(enum esw_log_level, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* esw-provider.h */
