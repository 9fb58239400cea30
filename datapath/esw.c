/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Generic layer of the eSwitch device API: driver and device registries,
 * reference counting, capability-based rule validation and packet
 * helpers.  Everything else is dispatched to the driver. */

#include "esw-provider.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>
#include <time.h>

#define ESW_MAX_DRIVERS 8
#define ESW_MAX_DEVS    64

/* Registry of drivers and open devices.  'registry_mutex' protects every
 * variable below and each device's 'ref_cnt'; it is taken before any
 * device's internal mutex. */
static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static const struct esw_driver *drivers[ESW_MAX_DRIVERS];
static size_t n_drivers;
static bool builtins_registered;
static struct esw_dev *devs[ESW_MAX_DEVS];
static _Atomic bool leaving;

static const char *const match_field_names[ESW_N_MATCH_FIELDS] = {
    [ESW_MATCH_IN_VPORT] = "in_vport",
    [ESW_MATCH_ETH_SRC] = "eth_src",
    [ESW_MATCH_ETH_DST] = "eth_dst",
    [ESW_MATCH_ETH_TYPE] = "eth_type",
    [ESW_MATCH_VLAN] = "vlan",
    [ESW_MATCH_VLAN2] = "vlan2",
    [ESW_MATCH_IP_SRC] = "ip_src",
    [ESW_MATCH_IP_DST] = "ip_dst",
    [ESW_MATCH_IP_PROTO] = "ip_proto",
    [ESW_MATCH_IP_TOS] = "ip_tos",
    [ESW_MATCH_IP_TTL] = "ip_ttl",
    [ESW_MATCH_IP_FRAG] = "ip_frag",
    [ESW_MATCH_TP_SRC] = "tp_src",
    [ESW_MATCH_TP_DST] = "tp_dst",
    [ESW_MATCH_TCP_FLAGS] = "tcp_flags",
    [ESW_MATCH_CHAIN] = "chain",
    [ESW_MATCH_DP_HASH] = "dp_hash",
    [ESW_MATCH_IPV6_LABEL] = "ipv6_label",
    [ESW_MATCH_TUN_PORT] = "tun_port",
    [ESW_MATCH_TUN_ID] = "tun_id",
    [ESW_MATCH_TUN_SRC] = "tun_src",
    [ESW_MATCH_TUN_DST] = "tun_dst",
    [ESW_MATCH_TUN_TP] = "tun_tp",
    [ESW_MATCH_TUN_FLAGS] = "tun_flags",
    [ESW_MATCH_TUN_TOS_TTL] = "tun_tos_ttl",
    [ESW_MATCH_TUN_OPTS] = "tun_opts",
    [ESW_MATCH_CT_STATE] = "ct_state",
    [ESW_MATCH_CT_ZONE] = "ct_zone",
    [ESW_MATCH_CT_MARK] = "ct_mark",
    [ESW_MATCH_CT_LABEL] = "ct_label",
};

const char *
esw_match_field_name(enum esw_match_field field)
{
    return (unsigned int) field < ESW_N_MATCH_FIELDS
           ? match_field_names[field] : "unknown";
}

static const char *const action_names[ESW_N_ACTION_TYPES] = {
    [ESW_ACTION_OUTPUT] = "output",
    [ESW_ACTION_DROP] = "drop",
    [ESW_ACTION_PUSH_VLAN] = "push_vlan",
    [ESW_ACTION_POP_VLAN] = "pop_vlan",
    [ESW_ACTION_SET_ETH_SRC] = "set_eth_src",
    [ESW_ACTION_SET_ETH_DST] = "set_eth_dst",
    [ESW_ACTION_COUNT] = "count",
    [ESW_ACTION_SET] = "set",
    [ESW_ACTION_HASH] = "hash",
    [ESW_ACTION_RECIRC] = "recirc",
    [ESW_ACTION_METER] = "meter",
    [ESW_ACTION_ENCAP] = "encap",
    [ESW_ACTION_DECAP] = "decap",
    [ESW_ACTION_CT] = "ct",
    [ESW_ACTION_CT_CLEAR] = "ct_clear",
};

/* caps.actions and disabled_actions are 32-bit bitmaps. */
_Static_assert(ESW_N_ACTION_TYPES <= 32, "too many action types");

const char *
esw_action_type_name(enum esw_action_type type)
{
    return (unsigned int) type < ESW_N_ACTION_TYPES
           ? action_names[type] : "unknown";
}

const char *
esw_hash_alg_name(enum esw_hash_alg alg)
{
    switch (alg) {
    case ESW_HASH_L4: return "l4";
    case ESW_HASH_SYM_L4: return "sym_l4";
    case ESW_N_HASH_ALGS: break;
    }
    return "unknown";
}

const char *
esw_vport_kind_name(enum esw_vport_kind kind)
{
    switch (kind) {
    case ESW_VPORT_UPLINK: return "uplink";
    case ESW_VPORT_PF: return "pf";
    case ESW_VPORT_VF: return "vf";
    case ESW_VPORT_SF: return "sf";
    }
    return "unknown";
}

const char *
esw_error_type_name(enum esw_error_type type)
{
    switch (type) {
    case ESW_ERROR_NONE: return "none";
    case ESW_ERROR_UNSPECIFIED: return "unspecified";
    case ESW_ERROR_VPORT: return "vport";
    case ESW_ERROR_VPORT_CONFIG: return "vport-config";
    case ESW_ERROR_HOST_IO: return "host-io";
    case ESW_ERROR_POLICY: return "policy";
    case ESW_ERROR_MATCH: return "match";
    case ESW_ERROR_ACTION: return "action";
    case ESW_ERROR_CAPACITY: return "capacity";
    case ESW_ERROR_RULE: return "rule";
    case ESW_ERROR_CT: return "ct";
    }
    return "unknown";
}

int
esw_error_set(struct esw_error *err, int error, enum esw_error_type type,
              int cause, const char *format, ...)
{
    if (err) {
        va_list args;

        err->error = error;
        err->type = type;
        err->cause = cause;
        va_start(args, format);
        vsnprintf(err->reason, sizeof err->reason, format, args);
        va_end(args);
    }
    return error;
}

void
esw_error_clear(struct esw_error *err)
{
    if (err) {
        err->error = 0;
        err->type = ESW_ERROR_NONE;
        err->cause = -1;
        err->reason[0] = '\0';
    }
}

uint64_t
esw_time_msec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drivers. */

static int
esw_driver_register__(const struct esw_driver *driver)
{
    for (size_t i = 0; i < n_drivers; i++) {
        if (!strcmp(drivers[i]->name, driver->name)) {
            return EEXIST;
        }
    }
    if (n_drivers >= ESW_MAX_DRIVERS) {
        return ENOSPC;
    }
    drivers[n_drivers++] = driver;
    return 0;
}

static void
esw_register_builtins__(void)
{
    if (!builtins_registered) {
        builtins_registered = true;
        esw_driver_register__(&esw_sim_driver);
        esw_driver_register__(&esw_remote_driver);
    }
}

int
esw_driver_register(const struct esw_driver *driver)
{
    int error;

    pthread_mutex_lock(&registry_mutex);
    esw_register_builtins__();
    error = esw_driver_register__(driver);
    pthread_mutex_unlock(&registry_mutex);
    return error;
}

size_t
esw_driver_list(const char *names[], size_t max)
{
    size_t n;

    pthread_mutex_lock(&registry_mutex);
    esw_register_builtins__();
    for (size_t i = 0; i < n_drivers && i < max; i++) {
        names[i] = drivers[i]->name;
    }
    n = n_drivers;
    pthread_mutex_unlock(&registry_mutex);
    return n;
}

/* Devices. */

static struct esw_dev **
esw_dev_find__(const char *name)
{
    for (size_t i = 0; i < ESW_MAX_DEVS; i++) {
        if (devs[i] && !strcmp(devs[i]->name, name)) {
            return &devs[i];
        }
    }
    return NULL;
}

int
esw_dev_open(const char *name, const char *driver_name,
             const struct esw_dev_config *cfg, struct esw_dev **devp)
{
    const struct esw_driver *driver = NULL;
    struct esw_dev_config zero_cfg;
    struct esw_dev **slot, *dev;
    int error;

    *devp = NULL;
    if (!name || !name[0] || strlen(name) >= ESW_NAME_MAX) {
        return EINVAL;
    }
    if (!driver_name) {
        driver_name = "sim";
    }
    if (!cfg) {
        memset(&zero_cfg, 0, sizeof zero_cfg);
        cfg = &zero_cfg;
    }

    pthread_mutex_lock(&registry_mutex);
    esw_register_builtins__();
    slot = esw_dev_find__(name);
    if (slot) {
        dev = *slot;
        if (strcmp(dev->driver->name, driver_name)) {
            error = EEXIST;
        } else {
            dev->ref_cnt++;
            *devp = dev;
            error = 0;
        }
        goto out;
    }

    for (size_t i = 0; i < n_drivers; i++) {
        if (!strcmp(drivers[i]->name, driver_name)) {
            driver = drivers[i];
        }
    }
    if (!driver) {
        error = ENODEV;
        goto out;
    }
    slot = NULL;
    for (size_t i = 0; !slot && i < ESW_MAX_DEVS; i++) {
        if (!devs[i]) {
            slot = &devs[i];
        }
    }
    if (!slot) {
        error = ENOSPC;
        goto out;
    }
    error = driver->open(name, cfg, &dev);
    if (!error) {
        dev->driver = driver;
        snprintf(dev->name, sizeof dev->name, "%s", name);
        dev->ref_cnt = 1;
        *slot = dev;
        *devp = dev;
    }
out:
    pthread_mutex_unlock(&registry_mutex);
    return error;
}

void
esw_dev_close(struct esw_dev *dev)
{
    if (!dev) {
        return;
    }
    pthread_mutex_lock(&registry_mutex);
    if (!--dev->ref_cnt) {
        struct esw_dev **slot = esw_dev_find__(dev->name);

        if (slot) {
            *slot = NULL;
        }
        dev->driver->close(dev);
    }
    pthread_mutex_unlock(&registry_mutex);
}

static int
compare_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

size_t
esw_dev_list(char names[][ESW_NAME_MAX], size_t max)
{
    char all[ESW_MAX_DEVS][ESW_NAME_MAX];
    size_t n = 0;

    pthread_mutex_lock(&registry_mutex);
    for (size_t i = 0; i < ESW_MAX_DEVS; i++) {
        if (devs[i]) {
            snprintf(all[n++], ESW_NAME_MAX, "%s", devs[i]->name);
        }
    }
    pthread_mutex_unlock(&registry_mutex);

    qsort(all, n, sizeof all[0], compare_names);
    for (size_t i = 0; i < n && i < max; i++) {
        memcpy(names[i], all[i], ESW_NAME_MAX);
    }
    return n;
}

int
esw_trace_packet(struct esw_dev *dev, uint32_t vport,
                 const struct esw_pkt *pkt, struct esw_trace *trace)
{
    memset(trace, 0, sizeof *trace);
    return (dev->driver->trace_packet
            ? dev->driver->trace_packet(dev, vport, pkt, trace)
            : EOPNOTSUPP);
}

int
esw_trace_rep_send(struct esw_dev *dev, uint32_t vport,
                   const struct esw_pkt *pkt, struct esw_trace_output *out)
{
    memset(out, 0, sizeof *out);
    return (dev->driver->trace_rep_send
            ? dev->driver->trace_rep_send(dev, vport, pkt, out)
            : EOPNOTSUPP);
}

struct esw_dev *
esw_dev_lookup(const char *name)
{
    struct esw_dev **slot, *dev = NULL;

    pthread_mutex_lock(&registry_mutex);
    slot = name && name[0] ? esw_dev_find__(name) : NULL;
    if (slot) {
        dev = *slot;
        dev->ref_cnt++;
    }
    pthread_mutex_unlock(&registry_mutex);
    return dev;
}

const char *
esw_dev_name(const struct esw_dev *dev)
{
    return dev->name;
}

const char *
esw_dev_driver_name(const struct esw_dev *dev)
{
    return dev->driver->name;
}

void
esw_dev_get_caps(const struct esw_dev *dev, struct esw_caps *caps)
{
    *caps = dev->caps;
}

/* Vports: thin dispatch. */

int
esw_vport_add(struct esw_dev *dev, const struct esw_vport_config *cfg,
              struct esw_error *err, uint32_t *vportp)
{
    uint32_t vport;

    esw_error_clear(err);
    if (!cfg) {
        return esw_error_set(err, EINVAL, ESW_ERROR_VPORT_CONFIG, -1,
                             "no vport config");
    }
    /* The driver's 'vportp' is never NULL (esw-provider.h). */
    return dev->driver->vport_add(dev, cfg, err, vportp ? vportp : &vport);
}

int
esw_vport_del(struct esw_dev *dev, uint32_t vport)
{
    return dev->driver->vport_del(dev, vport);
}

int
esw_vport_get_info(struct esw_dev *dev, uint32_t vport,
                   struct esw_vport_info *info)
{
    memset(info, 0, sizeof *info);
    return dev->driver->vport_get_info(dev, vport, info);
}

int
esw_vport_lookup(struct esw_dev *dev, const char *name, uint32_t *vportp)
{
    return name ? dev->driver->vport_lookup(dev, name, vportp) : ENOENT;
}

size_t
esw_vport_list(struct esw_dev *dev, uint32_t vports[], size_t max)
{
    return dev->driver->vport_list(dev, vports, max);
}

int
esw_vport_set_mac(struct esw_dev *dev, uint32_t vport,
                  const struct esw_eth_addr *mac)
{
    if (esw_eth_addr_is_multicast(mac)) {
        return EINVAL;
    }
    return dev->driver->vport_set_mac(dev, vport, mac);
}

int
esw_vport_set_mtu(struct esw_dev *dev, uint32_t vport, uint32_t mtu)
{
    return dev->driver->vport_set_mtu(dev, vport, mtu);
}

int
esw_vport_set_rep_queues(struct esw_dev *dev, uint32_t vport, uint32_t n,
                         struct esw_error *err)
{
    esw_error_clear(err);
    if (n < 1 || n > ESW_MAX_REP_QUEUES) {
        return esw_error_set(err, EINVAL, ESW_ERROR_VPORT_CONFIG, -1,
                             "%"PRIu32" representor queues: "
                             "expected 1..%d", n, ESW_MAX_REP_QUEUES);
    }
    return dev->driver->vport_set_rep_queues(dev, vport, n, err);
}

int
esw_vport_set_admin_state(struct esw_dev *dev, uint32_t vport, bool up)
{
    return dev->driver->vport_set_admin_state(dev, vport, up);
}

int
esw_vport_set_policy(struct esw_dev *dev, uint32_t vport,
                     const struct esw_policy_config *cfg,
                     struct esw_error *err)
{
    esw_error_clear(err);
    return dev->driver->vport_set_policy(dev, vport, cfg, err);
}

int
esw_vport_guest_set_mac(struct esw_dev *dev, uint32_t vport,
                        const struct esw_eth_addr *mac,
                        struct esw_error *err)
{
    esw_error_clear(err);
    return dev->driver->vport_guest_set_mac(dev, vport, mac, err);
}

int
esw_vport_get_policy(struct esw_dev *dev, uint32_t vport,
                     struct esw_policy_config *cfg, bool *has_policy)
{
    *has_policy = false;
    return dev->driver->vport_get_policy(dev, vport, cfg, has_policy);
}

int
esw_vport_guest_reset(struct esw_dev *dev, uint32_t vport)
{
    return dev->driver->vport_guest_reset(dev, vport);
}

int
esw_vport_get_stats(struct esw_dev *dev, uint32_t vport,
                    struct esw_vport_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    return dev->driver->vport_get_stats(dev, vport, stats);
}

/* Rules. */

struct field_range {
    enum esw_match_field field;
    size_t ofs, len;
};

#define FIELD(F, MEMBER) \
    { F, offsetof(struct esw_key, MEMBER), \
      sizeof ((struct esw_key *) 0)->MEMBER }

static const struct field_range field_ranges[] = {
    FIELD(ESW_MATCH_IN_VPORT, in_vport),
    FIELD(ESW_MATCH_ETH_TYPE, eth_type),
    FIELD(ESW_MATCH_VLAN, n_vlans),
    FIELD(ESW_MATCH_ETH_DST, dst),
    FIELD(ESW_MATCH_ETH_SRC, src),
    FIELD(ESW_MATCH_VLAN, vlans[0]),
    FIELD(ESW_MATCH_VLAN2, vlans[1]),
    FIELD(ESW_MATCH_IP_SRC, ip_src),
    FIELD(ESW_MATCH_IP_DST, ip_dst),
    FIELD(ESW_MATCH_IP_PROTO, ip_proto),
    FIELD(ESW_MATCH_IP_TOS, ip_tos),
    FIELD(ESW_MATCH_IP_TTL, ip_ttl),
    FIELD(ESW_MATCH_IP_FRAG, ip_frag),
    FIELD(ESW_MATCH_TP_SRC, tp_src),
    FIELD(ESW_MATCH_TP_DST, tp_dst),
    FIELD(ESW_MATCH_TCP_FLAGS, tcp_flags),
    FIELD(ESW_MATCH_CHAIN, chain),
    FIELD(ESW_MATCH_DP_HASH, dp_hash),
    FIELD(ESW_MATCH_IPV6_LABEL, ipv6_label),
    FIELD(ESW_MATCH_TUN_PORT, tun_port),
    FIELD(ESW_MATCH_TUN_ID, tun_id),
    FIELD(ESW_MATCH_TUN_SRC, tun_src),
    FIELD(ESW_MATCH_TUN_DST, tun_dst),
    FIELD(ESW_MATCH_TUN_TP, tun_tp_src),
    FIELD(ESW_MATCH_TUN_TP, tun_tp_dst),
    FIELD(ESW_MATCH_TUN_FLAGS, tun_flags),
    FIELD(ESW_MATCH_TUN_TOS_TTL, tun_tos),
    FIELD(ESW_MATCH_TUN_TOS_TTL, tun_ttl),
    FIELD(ESW_MATCH_TUN_OPTS, tun_opts_len),
    FIELD(ESW_MATCH_TUN_OPTS, tun_opts),
    FIELD(ESW_MATCH_CT_STATE, ct_state),
    FIELD(ESW_MATCH_CT_ZONE, ct_zone),
    FIELD(ESW_MATCH_CT_MARK, ct_mark),
    FIELD(ESW_MATCH_CT_LABEL, ct_label),
};

static const struct {
    size_t ofs, len;
} pad_ranges[] = {
    { offsetof(struct esw_key, pad0), sizeof ((struct esw_key *) 0)->pad0 },
    { offsetof(struct esw_key, pad2), sizeof ((struct esw_key *) 0)->pad2 },
    { offsetof(struct esw_key, pad4), sizeof ((struct esw_key *) 0)->pad4 },
    { offsetof(struct esw_key, pad5), sizeof ((struct esw_key *) 0)->pad5 },
};

static bool
bytes_nonzero(const void *p_, size_t len)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < len; i++) {
        if (p[i]) {
            return true;
        }
    }
    return false;
}

static int
check_match(const struct esw_caps *caps, const struct esw_rule_spec *spec,
            struct esw_error *err)
{
    const uint8_t *mask = (const uint8_t *) &spec->mask;

    for (size_t i = 0; i < sizeof pad_ranges / sizeof *pad_ranges; i++) {
        if (bytes_nonzero(mask + pad_ranges[i].ofs, pad_ranges[i].len)) {
            return esw_error_set(err, EINVAL, ESW_ERROR_MATCH, -1,
                                 "mask covers key padding");
        }
    }
    if (spec->mask.tcp_flags & ~htons(0x0fff)) {
        return esw_error_set(err, EINVAL, ESW_ERROR_MATCH, ESW_MATCH_TCP_FLAGS,
                             "tcp_flags mask covers reserved bits");
    }
    for (size_t i = 0; i < sizeof field_ranges / sizeof *field_ranges; i++) {
        const struct field_range *r = &field_ranges[i];

        if (bytes_nonzero(mask + r->ofs, r->len)
            && !(caps->match_fields & (1u << r->field))) {
            return esw_error_set(err, EOPNOTSUPP,
                                 ESW_ERROR_MATCH, (int) r->field,
                                 "match on %s not supported",
                                 esw_match_field_name(r->field));
        }
    }
    if (spec->mask.in_vport) {
        if (spec->mask.in_vport != UINT32_MAX) {
            return esw_error_set(err, EOPNOTSUPP,
                                 ESW_ERROR_MATCH, ESW_MATCH_IN_VPORT,
                                 "partial mask on in_vport not supported");
        }
        if (spec->match.in_vport >= caps->max_vports) {
            return esw_error_set(err, EINVAL,
                                 ESW_ERROR_MATCH, ESW_MATCH_IN_VPORT,
                                 "match on in_vport %"PRIu32": "
                                 "out of range", spec->match.in_vport);
        }
    }
    if (spec->mask.ipv6_label & ~htonl(0xfffff)) {
        return esw_error_set(err, EINVAL, ESW_ERROR_MATCH,
                             ESW_MATCH_IPV6_LABEL,
                             "ipv6_label mask beyond 20 bits");
    }
    if (spec->mask.tun_port && spec->mask.tun_port != UINT32_MAX) {
        return esw_error_set(err, EINVAL, ESW_ERROR_MATCH, ESW_MATCH_TUN_PORT,
                             "partial mask on tun_port");
    }
    if (spec->mask.tun_flags
        & ~(ESW_TUN_F_OAM | ESW_TUN_F_DF | ESW_TUN_F_CSUM | ESW_TUN_F_KEY
            | ESW_TUN_F_IPV6)) {
        return esw_error_set(err, EINVAL, ESW_ERROR_MATCH,
                             ESW_MATCH_TUN_FLAGS,
                             "tun_flags mask covers undefined bits");
    }
    if (spec->mask.chain && spec->mask.chain != UINT32_MAX) {
        return esw_error_set(err, EINVAL, ESW_ERROR_MATCH, ESW_MATCH_CHAIN,
                             "partial mask on chain: a rule lives in one "
                             "chain");
    }
    if ((spec->mask.n_vlans & spec->match.n_vlans) > ESW_MAX_VLANS) {
        return esw_error_set(err, EINVAL, ESW_ERROR_MATCH, ESW_MATCH_VLAN,
                             "match on n_vlans %u: "
                             "more than %d", spec->match.n_vlans,
                             ESW_MAX_VLANS);
    }
    return 0;
}

/* Size of the value of each set header, and its padding. */
static const struct {
    size_t size;
    size_t pad_ofs, pad_len;
} set_layout[ESW_N_SET_HEADERS] = {
    [ESW_SET_ETH] = { sizeof(struct esw_set_eth), 0, 0 },
    [ESW_SET_IPV4] = { sizeof(struct esw_set_ipv4),
                       offsetof(struct esw_set_ipv4, pad), 2 },
    [ESW_SET_IPV6] = { sizeof(struct esw_set_ipv6),
                       offsetof(struct esw_set_ipv6, pad), 2 },
    [ESW_SET_TCP] = { sizeof(struct esw_set_l4), 0, 0 },
    [ESW_SET_UDP] = { sizeof(struct esw_set_l4), 0, 0 },
    [ESW_SET_SCTP] = { sizeof(struct esw_set_l4), 0, 0 },
    [ESW_SET_ICMP] = { sizeof(struct esw_set_icmp), 0, 0 },
};

static int
check_set(const struct esw_caps *caps, const struct esw_set *set,
          struct esw_error *err)
{
    const uint8_t *v = (const uint8_t *) &set->value;
    const uint8_t *m = (const uint8_t *) &set->mask;
    uint32_t fields, missing;
    const char *hdr;

    if (set->header >= ESW_N_SET_HEADERS) {
        return esw_error_set(err, EINVAL, ESW_ERROR_ACTION, ESW_ACTION_SET,
                             "set: unknown header %d", set->header);
    }
    hdr = esw_set_header_name(set->header);
    for (size_t i = 0; i < sizeof set->mask; i++) {
        bool pad = (i >= set_layout[set->header].size
                    || (i >= set_layout[set->header].pad_ofs
                        && i < (set_layout[set->header].pad_ofs
                                + set_layout[set->header].pad_len)));

        if (pad && m[i]) {
            return esw_error_set(err, EINVAL, ESW_ERROR_ACTION,
                                 ESW_ACTION_SET, "set of %s: mask covers "
                                 "padding", hdr);
        }
        if (v[i] & ~m[i]) {
            return esw_error_set(err, EINVAL, ESW_ERROR_ACTION,
                                 ESW_ACTION_SET, "set of %s: value bits "
                                 "outside the mask", hdr);
        }
    }
    if (set->header == ESW_SET_IPV6
        && set->mask.ipv6.label & ~htonl(0xfffff)) {
        return esw_error_set(err, EINVAL, ESW_ERROR_ACTION, ESW_ACTION_SET,
                             "set of ipv6_label: mask beyond 20 bits");
    }
    fields = esw_set_fields(set);
    missing = fields & ~caps->set_fields;
    if (missing) {
        return esw_error_set(err, EOPNOTSUPP, ESW_ERROR_ACTION,
                             ESW_ACTION_SET, "set of %s not supported",
                             esw_field_name(__builtin_ctz(missing)));
    }
    return 0;
}

static int
check_actions(const struct esw_caps *caps, const struct esw_rule_spec *spec,
              struct esw_error *err)
{
    size_t n_outputs = 0, n_pushes = 0, n_drops = 0, n_others = 0;

    if (spec->n_actions > ESW_MAX_ACTIONS) {
        return esw_error_set(err, EINVAL, ESW_ERROR_ACTION, -1,
                             "%zu actions: more than %d",
                             spec->n_actions, ESW_MAX_ACTIONS);
    }
    for (size_t i = 0; i < spec->n_actions; i++) {
        const struct esw_action *a = &spec->actions[i];

        if ((unsigned int) a->type >= ESW_N_ACTION_TYPES) {
            return esw_error_set(err, EINVAL, ESW_ERROR_ACTION, -1,
                                 "action %zu: unknown type %d",
                                 i, (int) a->type);
        }
        if (!(caps->actions & (1u << a->type))) {
            return esw_error_set(err, EOPNOTSUPP,
                                 ESW_ERROR_ACTION, (int) a->type,
                                 "action %s not supported",
                                 esw_action_type_name(a->type));
        }
        switch (a->type) {
        case ESW_ACTION_OUTPUT:
            if (a->vport >= caps->max_vports) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_OUTPUT,
                                     "output to vport %"PRIu32
                                     ": out of range", a->vport);
            }
            if (++n_outputs > caps->max_outputs) {
                return esw_error_set(err, EOPNOTSUPP,
                                     ESW_ERROR_ACTION, ESW_ACTION_OUTPUT,
                                     "more than %"PRIu32" outputs",
                                     caps->max_outputs);
            }
            break;

        case ESW_ACTION_DROP:
            n_drops++;
            continue;

        case ESW_ACTION_PUSH_VLAN:
            if (a->vlan.tpid != ESW_TPID_8021Q
                && a->vlan.tpid != ESW_TPID_8021AD) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_PUSH_VLAN,
                                     "push_vlan: tpid %#06x "
                                     "is not 0x8100 or 0x88a8",
                                     a->vlan.tpid);
            }
            if ((a->vlan.tci & 0xfff) == 0xfff) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_PUSH_VLAN,
                                     "push_vlan: vid 4095 out of range");
            }
            if (++n_pushes > caps->max_vlan_pushes) {
                return esw_error_set(err, EOPNOTSUPP,
                                     ESW_ERROR_ACTION, ESW_ACTION_PUSH_VLAN,
                                     "more than %"PRIu32" vlan pushes",
                                     caps->max_vlan_pushes);
            }
            break;

        case ESW_ACTION_SET_ETH_SRC:
            if (esw_eth_addr_is_multicast(&a->mac)) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_SET_ETH_SRC,
                                     "set_eth_src: multicast address");
            }
            break;

        case ESW_ACTION_POP_VLAN:
        case ESW_ACTION_SET_ETH_DST:
        case ESW_ACTION_CT_CLEAR:
            break;

        case ESW_ACTION_SET: {
            int error = check_set(caps, &a->set, err);

            if (error) {
                return error;
            }
            break;
        }

        case ESW_ACTION_HASH:
            if (a->hash.alg >= ESW_N_HASH_ALGS) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_HASH,
                                     "hash: unknown algorithm %d",
                                     a->hash.alg);
            }
            if (a->hash.max_vlans < 1 || a->hash.max_vlans > ESW_MAX_VLANS) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_HASH,
                                     "hash: max_vlans %d, expected 1..%d",
                                     a->hash.max_vlans, ESW_MAX_VLANS);
            }
            break;

        case ESW_ACTION_RECIRC:
            if (i != spec->n_actions - 1) {
                return esw_error_set(err, EOPNOTSUPP,
                                     ESW_ERROR_ACTION, ESW_ACTION_RECIRC,
                                     "recirc to chain %"PRIu32" before "
                                     "other actions: it must be the last",
                                     a->chain);
            }
            break;

        case ESW_ACTION_METER:
            if (a->meter >= caps->max_meters) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_METER,
                                     "meter %"PRIu32": out of range",
                                     a->meter);
            }
            break;

        case ESW_ACTION_ENCAP: {
            char why[ESW_ERROR_MAX - 8];

            if (esw_encap_check(&a->encap, why, sizeof why)) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_ENCAP,
                                     "encap: %s", why);
            }
            break;
        }

        case ESW_ACTION_DECAP:
            if (a->decap.type >= ESW_N_TUNNEL_TYPES) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_DECAP,
                                     "decap: unknown tunnel type %d",
                                     a->decap.type);
            }
            if (!a->decap.tun_port) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_DECAP,
                                     "decap: tun_port 0");
            }
            if (a->decap.max_vlans < 1 || a->decap.max_vlans > ESW_MAX_VLANS) {
                return esw_error_set(err, EINVAL,
                                     ESW_ERROR_ACTION, ESW_ACTION_DECAP,
                                     "decap: max_vlans %d, expected 1..%d",
                                     a->decap.max_vlans, ESW_MAX_VLANS);
            }
            if (i + 2 != spec->n_actions
                || spec->actions[i + 1].type != ESW_ACTION_RECIRC) {
                return esw_error_set(err, EOPNOTSUPP,
                                     ESW_ERROR_ACTION, ESW_ACTION_DECAP,
                                     "decap not followed by recirc, the "
                                     "last action");
            }
            break;

        case ESW_ACTION_CT:
            if (i + 2 != spec->n_actions
                || spec->actions[i + 1].type != ESW_ACTION_RECIRC) {
                return esw_error_set(err, EOPNOTSUPP,
                                     ESW_ERROR_ACTION, ESW_ACTION_CT,
                                     "ct not followed by recirc, the last "
                                     "action");
            }
            break;

        case ESW_ACTION_COUNT:
        case ESW_N_ACTION_TYPES:
        default:
            continue;
        }
        n_others++;
    }
    if (n_drops && n_others) {
        return esw_error_set(err, EINVAL, ESW_ERROR_ACTION, ESW_ACTION_DROP,
                             "drop combined with other actions");
    }
    return 0;
}

int
esw_rule_check_caps(const struct esw_caps *caps,
                    const struct esw_rule_spec *spec, struct esw_error *err)
{
    int error = check_match(caps, spec, err);

    return error ? error : check_actions(caps, spec, err);
}

int
esw_rule_check_vports(const struct esw_rule_spec *spec,
                      bool (*exists)(const void *aux, uint32_t vport),
                      const void *aux, struct esw_error *err)
{
    if (spec->mask.in_vport && !exists(aux, spec->match.in_vport)) {
        return esw_error_set(err, ENOENT, ESW_ERROR_MATCH, ESW_MATCH_IN_VPORT,
                             "match on in_vport %"PRIu32": "
                             "no such vport", spec->match.in_vport);
    }
    for (size_t i = 0; i < spec->n_actions; i++) {
        const struct esw_action *a = &spec->actions[i];

        if (a->type == ESW_ACTION_OUTPUT && !exists(aux, a->vport)) {
            return esw_error_set(err, ENOENT,
                                 ESW_ERROR_ACTION, ESW_ACTION_OUTPUT,
                                 "output to vport %"PRIu32": "
                                 "no such vport", a->vport);
        }
    }
    return 0;
}

void
esw_rule_key(const struct esw_rule_spec *spec,
             struct esw_key *match, struct esw_key *mask)
{
    for (size_t i = 0; i < ESW_KEY_WORDS; i++) {
        match->w[i] = spec->match.w[i] & spec->mask.w[i];
    }
    *mask = spec->mask;
    /* A rule lives in one chain.  Chain 0's table holds nothing else. */
    mask->chain = match->chain ? UINT32_MAX : 0;
    /* A rule sees only the packets of its tunnel (0: not decapsulated). */
    mask->tun_port = UINT32_MAX;
}

void
esw_rule_spec_normalize(const struct esw_rule_spec *spec,
                        struct esw_rule_spec *out)
{
    struct esw_key mask;

    memset(out, 0, sizeof *out);
    esw_rule_key(spec, &out->match, &mask);
    out->mask = spec->mask;
    out->priority = spec->priority;
    out->n_actions = spec->n_actions;
    memcpy(out->actions, spec->actions,
           spec->n_actions * sizeof *spec->actions);
}

int
esw_rule_validate(struct esw_dev *dev, const struct esw_rule_spec *spec,
                  struct esw_error *err)
{
    struct esw_error tmp;
    int error;

    if (!err) {
        err = &tmp;
    }
    esw_error_clear(err);
    error = esw_rule_check_caps(&dev->caps, spec, err);
    return error ? error : dev->driver->rule_validate(dev, spec, err);
}

int
esw_rule_add(struct esw_dev *dev, const struct esw_rule_spec *spec,
             struct esw_error *err, struct esw_rule **rulep)
{
    struct esw_error tmp;
    int error;

    *rulep = NULL;
    if (!err) {
        err = &tmp;
    }
    esw_error_clear(err);
    error = esw_rule_check_caps(&dev->caps, spec, err);
    return error ? error : dev->driver->rule_add(dev, spec, err, rulep);
}

int
esw_rule_modify(struct esw_dev *dev, struct esw_rule *rule,
                const struct esw_rule_spec *spec, struct esw_error *err)
{
    struct esw_error tmp;
    int error;

    if (!err) {
        err = &tmp;
    }
    esw_error_clear(err);
    error = esw_rule_check_caps(&dev->caps, spec, err);
    return error ? error : dev->driver->rule_modify(dev, rule, spec, err);
}

void
esw_rule_del(struct esw_dev *dev, struct esw_rule *rule)
{
    if (rule) {
        dev->driver->rule_del(dev, rule);
    }
}

int
esw_rule_get_stats(struct esw_dev *dev, const struct esw_rule *rule,
                   struct esw_rule_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    return dev->driver->rule_get_stats(dev, rule, stats);
}

void
esw_rule_get_spec(struct esw_dev *dev, const struct esw_rule *rule,
                  struct esw_rule_spec *spec)
{
    dev->driver->rule_get_spec(dev, rule, spec);
}

size_t
esw_rule_count(struct esw_dev *dev)
{
    return dev->driver->rule_count(dev);
}

size_t
esw_rule_capacity(struct esw_dev *dev)
{
    return dev->caps.max_rules;
}

void
esw_rule_foreach(struct esw_dev *dev,
                 bool (*cb)(struct esw_rule *, void *aux), void *aux)
{
    dev->driver->rule_foreach(dev, cb, aux);
}

/* Meters. */

int
esw_meter_set(struct esw_dev *dev, uint32_t id,
              const struct esw_meter_config *cfg, struct esw_error *err)
{
    struct esw_error tmp;

    if (!err) {
        err = &tmp;
    }
    esw_error_clear(err);
    if (!dev->driver->meter_set || !dev->caps.max_meters) {
        return esw_error_set(err, EOPNOTSUPP, ESW_ERROR_UNSPECIFIED, -1,
                             "%s has no meters", dev->name);
    }
    if (id >= dev->caps.max_meters) {
        return esw_error_set(err, EINVAL, ESW_ERROR_UNSPECIFIED, -1,
                             "meter %"PRIu32": out of range 0..%"PRIu32,
                             id, dev->caps.max_meters - 1);
    }
    if (!cfg->n_bands || cfg->n_bands > ESW_MAX_METER_BANDS) {
        return esw_error_set(err, EINVAL, ESW_ERROR_UNSPECIFIED, -1,
                             "meter %"PRIu32": %"PRIu32" bands, expected "
                             "1..%d", id, cfg->n_bands, ESW_MAX_METER_BANDS);
    }
    for (uint32_t i = 0; i < cfg->n_bands; i++) {
        if (!cfg->bands[i].rate) {
            return esw_error_set(err, EINVAL, ESW_ERROR_UNSPECIFIED, -1,
                                 "meter %"PRIu32": band %"PRIu32" has rate "
                                 "0", id, i);
        }
    }
    return dev->driver->meter_set(dev, id, cfg, err);
}

int
esw_meter_del(struct esw_dev *dev, uint32_t id)
{
    return dev->driver->meter_del ? dev->driver->meter_del(dev, id)
                                  : EOPNOTSUPP;
}

int
esw_meter_get_stats(struct esw_dev *dev, uint32_t id,
                    struct esw_meter_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    return (dev->driver->meter_get_stats
            ? dev->driver->meter_get_stats(dev, id, stats) : EOPNOTSUPP);
}

int
esw_meter_get_config(struct esw_dev *dev, uint32_t id,
                     struct esw_meter_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    return (dev->driver->meter_get_config
            ? dev->driver->meter_get_config(dev, id, cfg) : EOPNOTSUPP);
}

size_t
esw_meter_list(struct esw_dev *dev, uint32_t ids[], size_t max)
{
    return dev->driver->meter_list ? dev->driver->meter_list(dev, ids, max)
                                   : 0;
}

/* Connection table. */

static bool
ct_addr_eq(const union esw_ip_addr *a, const union esw_ip_addr *b)
{
    return !memcmp(a, b, sizeof *a);
}

static bool
ct_tuple_eq_reverse(const struct esw_ct_tuple *a, const struct esw_ct_tuple *b)
{
    return (ct_addr_eq(&a->src, &b->dst) && ct_addr_eq(&a->dst, &b->src)
            && a->src_port == b->dst_port && a->dst_port == b->src_port);
}

/* ICMP types of OVS's conntrack (lib/conntrack.c's reverse_icmp_type()). */
#define CT_ICMP4_ECHO_REPLY        0
#define CT_ICMP4_ECHO_REQUEST      8
#define CT_ICMP4_TIMESTAMP        13
#define CT_ICMP4_TIMESTAMPREPLY   14
#define CT_ICMP4_INFOREQUEST      15
#define CT_ICMP4_INFOREPLY        16
#define CT_ICMP6_ECHO_REQUEST    128
#define CT_ICMP6_ECHO_REPLY      129

/* The checks of an ICMP (ICMPv6 if 'ipv6') connection's tuples 'o' and
 * 'r': an echo request and its reply, with one id. */
static int
ct_check_icmp(const struct esw_ct_tuple *o, const struct esw_ct_tuple *r,
              bool ipv6, struct esw_error *err)
{
    uint8_t req = ipv6 ? CT_ICMP6_ECHO_REQUEST : CT_ICMP4_ECHO_REQUEST;
    uint8_t rep = ipv6 ? CT_ICMP6_ECHO_REPLY : CT_ICMP4_ECHO_REPLY;

    if (o->icmp_id != r->icmp_id) {
        return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                             "icmp: the two directions' ids differ");
    }
    if (o->icmp_code || r->icmp_code) {
        return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                             "icmp: code %u, not 0",
                             o->icmp_code ? o->icmp_code : r->icmp_code);
    }
    if (o->icmp_type == req && r->icmp_type == rep) {
        return 0;
    }
    if (!ipv6
        && ((o->icmp_type == CT_ICMP4_TIMESTAMP
             && r->icmp_type == CT_ICMP4_TIMESTAMPREPLY)
            || (o->icmp_type == CT_ICMP4_INFOREQUEST
                && r->icmp_type == CT_ICMP4_INFOREPLY))) {
        return esw_error_set(err, EOPNOTSUPP, ESW_ERROR_CT, -1,
                             "icmp type %u connections not supported "
                             "(echo only)", o->icmp_type);
    }
    return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                         "icmp types %u and %u: not a request and its "
                         "reply", o->icmp_type, r->icmp_type);
}

/* The checks of 'spec' that depend on no device state. */
static int
ct_check_spec(const struct esw_ct_spec *spec, struct esw_error *err)
{
    const struct esw_ct_tuple *o = &spec->orig, *r = &spec->reply;
    uint8_t icmp = spec->ipv6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
    uint16_t nat = spec->nat;
    bool ports;
    int error;

    if (o->ip_proto != IPPROTO_TCP && o->ip_proto != IPPROTO_UDP
        && o->ip_proto != icmp) {
        return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                             "protocol %u: not tcp, udp or %s", o->ip_proto,
                             spec->ipv6 ? "icmpv6" : "icmp");
    }
    if (r->ip_proto != o->ip_proto) {
        return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                             "the two directions' protocols differ");
    }
    ports = o->ip_proto != icmp;
    if (ports) {
        if (!o->src_port || !o->dst_port || !r->src_port || !r->dst_port) {
            return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1, "port 0");
        }
    } else {
        error = ct_check_icmp(o, r, spec->ipv6, err);
        if (error) {
            return error;
        }
    }
    for (size_t i = 0; !spec->ipv6 && i < 2; i++) {
        const struct esw_ct_tuple *t = i ? r : o;

        if (memcmp(&t->src.ip6.s6_addr[4], &in6addr_any.s6_addr[4], 12)
            || memcmp(&t->dst.ip6.s6_addr[4], &in6addr_any.s6_addr[4], 12)) {
            return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                                 "IPv4 address with nonzero padding");
        }
    }
    if (nat & ~(ESW_CT_NAT_SRC | ESW_CT_NAT_SRC_PORT | ESW_CT_NAT_DST
                | ESW_CT_NAT_DST_PORT)) {
        return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                             "nat %#x: undefined bits", nat);
    }
    if ((nat & ESW_CT_NAT_SRC) && (nat & ESW_CT_NAT_DST)) {
        return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                             "nat: source and destination at once");
    }
    /* ICMP: OVS translates the addresses only (port bits, set when the
     * nat() action has a port range, change nothing); the ids and types
     * were checked above. */
    if (nat & ESW_CT_NAT_SRC) {
        /* The reply comes from the original destination. */
        if (!ct_addr_eq(&r->src, &o->dst)
            || (ports && r->src_port != o->dst_port)) {
            return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                                 "snat: the reply's source is not the "
                                 "original destination");
        }
    } else if (nat & ESW_CT_NAT_DST) {
        /* The reply goes to the original source. */
        if (!ct_addr_eq(&r->dst, &o->src)
            || (ports && r->dst_port != o->src_port)) {
            return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                                 "dnat: the reply's destination is not the "
                                 "original source");
        }
    } else if (nat) {
        return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                             "nat %#x: a port without its address", nat);
    } else if (ports ? !ct_tuple_eq_reverse(o, r)
               : (!ct_addr_eq(&o->src, &r->dst)
                  || !ct_addr_eq(&o->dst, &r->src))) {
        return esw_error_set(err, EINVAL, ESW_ERROR_CT, -1,
                             "no nat: the reply tuple is not the reverse "
                             "of the original");
    }
    return 0;
}

int
esw_ct_add(struct esw_dev *dev, const struct esw_ct_spec *spec,
           struct esw_error *err, struct esw_ct **ctp)
{
    struct esw_error tmp;
    int error;

    *ctp = NULL;
    if (!err) {
        err = &tmp;
    }
    esw_error_clear(err);
    if (!dev->driver->ct_add || !dev->caps.max_conns) {
        return esw_error_set(err, EOPNOTSUPP, ESW_ERROR_CT, -1,
                             "%s has no connection table", dev->name);
    }
    error = ct_check_spec(spec, err);
    return error ? error : dev->driver->ct_add(dev, spec, err, ctp);
}

int
esw_ct_modify(struct esw_dev *dev, struct esw_ct *ct, uint32_t mark,
              const uint64_t label[2])
{
    return (dev->driver->ct_modify
            ? dev->driver->ct_modify(dev, ct, mark, label) : EOPNOTSUPP);
}

void
esw_ct_del(struct esw_dev *dev, struct esw_ct *ct)
{
    if (ct && dev->driver->ct_del) {
        dev->driver->ct_del(dev, ct);
    }
}

size_t
esw_ct_flush(struct esw_dev *dev, const uint16_t *zone)
{
    return (dev->driver->ct_flush && dev->caps.max_conns
            ? dev->driver->ct_flush(dev, zone) : 0);
}

int
esw_ct_get_stats(struct esw_dev *dev, const struct esw_ct *ct,
                 struct esw_ct_stats *stats)
{
    memset(stats, 0, sizeof *stats);
    return (dev->driver->ct_get_stats
            ? dev->driver->ct_get_stats(dev, ct, stats) : EOPNOTSUPP);
}

void
esw_ct_get_spec(struct esw_dev *dev, const struct esw_ct *ct,
                struct esw_ct_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    if (dev->driver->ct_get_spec) {
        dev->driver->ct_get_spec(dev, ct, spec);
    }
}

size_t
esw_ct_count(struct esw_dev *dev)
{
    /* A driver without a table (caps.max_conns 0) is not asked. */
    return (dev->driver->ct_count && dev->caps.max_conns
            ? dev->driver->ct_count(dev) : 0);
}

size_t
esw_ct_capacity(struct esw_dev *dev)
{
    return dev->driver->ct_add ? dev->caps.max_conns : 0;
}

void
esw_ct_foreach(struct esw_dev *dev,
               bool (*cb)(struct esw_ct *, void *aux), void *aux)
{
    if (dev->driver->ct_foreach && dev->caps.max_conns) {
        dev->driver->ct_foreach(dev, cb, aux);
    }
}

/* Packets. */

struct esw_pkt *
esw_pkt_alloc(size_t len)
{
    struct esw_pkt *pkt;
    size_t size;

    if (len > ESW_FRAME_MAX) {
        return NULL;
    }
    /* One allocation: the struct, then the buffer. */
    size = ESW_PKT_HEADROOM + (len > 128 ? len : 128);
    pkt = malloc(sizeof *pkt + size);
    if (!pkt) {
        return NULL;
    }
    pkt->base = (uint8_t *) (pkt + 1);
    pkt->data = pkt->base + ESW_PKT_HEADROOM;
    pkt->size = size;
    pkt->len = len;
    pkt->in_vport = 0;
    pkt->mark = 0;
    return pkt;
}

struct esw_pkt *
esw_pkt_from_data(const void *frame, size_t len)
{
    struct esw_pkt *pkt = esw_pkt_alloc(len);

    if (pkt) {
        memcpy(pkt->data, frame, len);
    }
    return pkt;
}

struct esw_pkt *
esw_pkt_clone(const struct esw_pkt *src)
{
    struct esw_pkt *pkt = esw_pkt_from_data(src->data, src->len);

    if (pkt) {
        pkt->in_vport = src->in_vport;
        pkt->mark = src->mark;
    }
    return pkt;
}

void
esw_pkt_free(struct esw_pkt *pkt)
{
    free(pkt);
}

/* Representors and host side. */

size_t
esw_rep_recv(struct esw_dev *dev, uint32_t vport, uint32_t queue,
             struct esw_pkt *pkts[], size_t max)
{
    return max ? dev->driver->rep_recv(dev, vport, queue, pkts, max) : 0;
}

int
esw_rep_get_fd(struct esw_dev *dev, uint32_t vport, uint32_t queue)
{
    return dev->driver->rep_get_fd(dev, vport, queue);
}

int
esw_rep_send(struct esw_dev *dev, uint32_t vport, struct esw_pkt *pkt)
{
    if (!pkt) {
        return EINVAL;
    }
    return dev->driver->rep_send(dev, vport, pkt);
}

size_t
esw_leave_devices(void)
{
    size_t n = 0;

    atomic_store(&leaving, true);
    pthread_mutex_lock(&registry_mutex);
    for (size_t i = 0; i < ESW_MAX_DEVS; i++) {
        n += devs[i] && devs[i]->driver->outlives_process;
    }
    pthread_mutex_unlock(&registry_mutex);
    return n;
}

bool
esw_leaving_devices(void)
{
    return atomic_load_explicit(&leaving, memory_order_relaxed);
}

/* Logging. */

static void (*_Atomic log_hook)(enum esw_log_level, const char *);

void
esw_set_log_hook(void (*hook)(enum esw_log_level, const char *msg))
{
    atomic_store(&log_hook, hook);
}

void
esw_log(enum esw_log_level level, const char *format, ...)
{
    void (*hook)(enum esw_log_level, const char *) = atomic_load(&log_hook);
    char msg[512];
    va_list args;

    if (!hook && level > ESW_LOG_WARN) {
        return;
    }
    va_start(args, format);
    vsnprintf(msg, sizeof msg, format, args);
    va_end(args);
    if (hook) {
        hook(level, msg);
    } else {
        fprintf(stderr, "esw|%s|%s\n", level == ESW_LOG_ERR ? "ERR" : "WARN",
                msg);
    }
}
