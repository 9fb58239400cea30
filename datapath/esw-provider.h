/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_PROVIDER_H
#define ESW_PROVIDER_H 1

/* eSwitch driver interface: what a driver implements behind esw.h.
 *
 * A driver allocates its own device structure embedding 'struct esw_dev'
 * (usually first) and returns it from 'open'; the generic layer (esw.c)
 * owns the name registry and the reference count, checks arguments that
 * do not depend on the driver, performs capability-based rule validation
 * (esw_rule_check_caps()) and then calls the driver.
 *
 * Error convention, ownership and threading are those of esw.h, except:
 *
 *   - 'open' and 'close' are called with the registry mutex held, at most
 *     once per device.  'close' must free everything, including rules.
 *   - 'rule_validate' is called after the generic checks passed; it checks
 *     what depends on the device state (vports exist).
 *   - Members may not be NULL, except where noted.
 *
 * The generic layer never touches a driver's rule handles: 'struct
 * esw_rule' is defined by each driver. */

#include "esw.h"

struct esw_driver;

/* Base of every device.  Drivers embed it and use a CONTAINER_OF style
 * cast (see esw-sim.h). */
struct esw_dev {
    const struct esw_driver *driver;
    char name[ESW_NAME_MAX];
    struct esw_caps caps;       /* Set by the driver's 'open'. */
    unsigned int ref_cnt;       /* Protected by the registry mutex. */
};

struct esw_driver {
    const char *name;

    /* Creates device 'name' ('cfg' never NULL: zeroed if the caller passed
     * NULL).  Must fill in dev->caps. */
    int (*open)(const char *name, const struct esw_dev_config *cfg,
                struct esw_dev **devp);
    void (*close)(struct esw_dev *);

    int (*vport_add)(struct esw_dev *, const struct esw_vport_config *,
                     struct esw_error *, uint32_t *vportp);
    int (*vport_del)(struct esw_dev *, uint32_t vport);
    int (*vport_get_info)(struct esw_dev *, uint32_t vport,
                          struct esw_vport_info *);
    int (*vport_lookup)(struct esw_dev *, const char *name,
                        uint32_t *vportp);
    size_t (*vport_list)(struct esw_dev *, uint32_t vports[], size_t max);
    int (*vport_set_mac)(struct esw_dev *, uint32_t vport,
                         const struct esw_eth_addr *);
    int (*vport_set_mtu)(struct esw_dev *, uint32_t vport, uint32_t mtu);
    int (*vport_set_admin_state)(struct esw_dev *, uint32_t vport, bool up);
    int (*vport_set_policy)(struct esw_dev *, uint32_t vport,
                            const struct esw_policy_config *,
                            struct esw_error *);
    int (*vport_guest_set_mac)(struct esw_dev *, uint32_t vport,
                               const struct esw_eth_addr *,
                               struct esw_error *);
    int (*vport_get_stats)(struct esw_dev *, uint32_t vport,
                           struct esw_vport_stats *);
    int (*vport_get_policy)(struct esw_dev *, uint32_t vport,
                            struct esw_policy_config *, bool *has_policy);
    int (*vport_guest_reset)(struct esw_dev *, uint32_t vport);
    /* May be NULL: esw_vport_get_host_mac() then fails with EOPNOTSUPP. */
    int (*vport_get_host_mac)(struct esw_dev *, uint32_t vport,
                              struct esw_eth_addr *);

    int (*rule_validate)(struct esw_dev *, const struct esw_rule_spec *,
                         struct esw_error *);
    int (*rule_add)(struct esw_dev *, const struct esw_rule_spec *,
                    struct esw_error *, struct esw_rule **);
    int (*rule_modify)(struct esw_dev *, struct esw_rule *,
                       const struct esw_rule_spec *, struct esw_error *);
    void (*rule_del)(struct esw_dev *, struct esw_rule *);
    int (*rule_get_stats)(struct esw_dev *, const struct esw_rule *,
                          struct esw_rule_stats *);
    void (*rule_get_spec)(struct esw_dev *, const struct esw_rule *,
                          struct esw_rule_spec *);
    size_t (*rule_count)(struct esw_dev *);
    void (*rule_foreach)(struct esw_dev *,
                         bool (*cb)(struct esw_rule *, void *), void *);

    size_t (*rep_recv)(struct esw_dev *, uint32_t vport, uint32_t queue,
                       struct esw_pkt *pkts[], size_t max);
    int (*rep_get_fd)(struct esw_dev *, uint32_t vport, uint32_t queue);
    int (*vport_set_rep_queues)(struct esw_dev *, uint32_t vport,
                                uint32_t n, struct esw_error *);
    int (*rep_send)(struct esw_dev *, uint32_t vport, struct esw_pkt *);

    /* May be NULL (hardware drivers): the esw.h calls then fail with
     * EOPNOTSUPP / return 0 / report idle. */
    int (*host_inject)(struct esw_dev *, uint32_t vport, struct esw_pkt *);
    size_t (*host_capture_read)(struct esw_dev *, uint32_t vport,
                                struct esw_pkt *pkts[], size_t max);
    bool (*is_idle)(struct esw_dev *);

    /* May be NULL: esw_trace_*() then fail with EOPNOTSUPP. */
    int (*trace_packet)(struct esw_dev *, uint32_t vport,
                        const struct esw_pkt *, struct esw_trace *);
    int (*trace_rep_send)(struct esw_dev *, uint32_t vport,
                          const struct esw_pkt *, struct esw_trace_output *);
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

/* Fills 'err' (may be NULL) with 'error', what it is about ('type' and
 * 'cause', see 'enum esw_error_type') and a printf-style reason, and
 * returns 'error'. */
int esw_error_set(struct esw_error *err, int error, enum esw_error_type type,
                  int cause, const char *format, ...)
    __attribute__((format(printf, 5, 6)));
void esw_error_clear(struct esw_error *err);

/* The built-in emulator driver. */
extern const struct esw_driver esw_sim_driver;

#endif /* esw-provider.h */
