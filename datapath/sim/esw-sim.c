/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* "sim" eSwitch driver: device lifecycle, vports, policy glue, the
 * representor and host-side entry points, and the egress stage shared by
 * the forwarding threads and esw_rep_send(). */

#include "esw-sim.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esw-policy.h"
#include "esw-rcu.h"

/* All match fields and actions. */
#define SIM_ALL_MATCH_FIELDS  ((1u << ESW_N_MATCH_FIELDS) - 1)
#define SIM_ALL_ACTIONS       ((1u << ESW_N_ACTION_TYPES) - 1)
#define SIM_ALL_SET_FIELDS    ((1u << ESW_N_FIELDS) - 1)

/* Vports. */

struct sim_vport *
sim_vport_get(struct sim_dev *dev, uint32_t vport)
{
    return (vport < dev->up.caps.max_vports
            ? atomic_load_explicit(&dev->vports[vport], memory_order_acquire)
            : NULL);
}

void
sim_vport_drop(struct sim_vport *v, enum esw_drop_reason reason, uint64_t n)
{
    atomic_fetch_add_explicit(&v->counters->drops[reason], n,
                              memory_order_relaxed);
}

/* Representor queues. */

static void
sim_rep_queues_free(struct sim_rep_queues *rq)
{
    if (rq) {
        for (uint32_t i = 0; i < rq->n; i++) {
            struct esw_pkt *pkts[64];
            size_t n;

            while ((n = esw_ring_dequeue_burst(&rq->q[i].ring,
                                               (void **) pkts, 64))) {
                for (size_t j = 0; j < n; j++) {
                    esw_pkt_free(pkts[j]);
                }
            }
            esw_ring_destroy(&rq->q[i].ring);
            esw_notifier_destroy(&rq->q[i].notifier);
        }
        free(rq);
    }
}

/* Creates 'n' empty queues of 'depth' packets each for 'owner', or returns
 * NULL with an errno value in '*errorp'. */
static struct sim_rep_queues *
sim_rep_queues_create(struct sim_vport *owner, uint32_t n, uint32_t depth,
                      int *errorp)
{
    struct sim_rep_queues *rq = calloc(1, sizeof *rq + n * sizeof rq->q[0]);

    if (!rq) {
        *errorp = ENOMEM;
        return NULL;
    }
    rq->owner = owner;
    for (uint32_t i = 0; i < n; i++) {
        rq->q[i].notifier.fd = -1;
    }
    for (; rq->n < n; rq->n++) {
        struct sim_rep_queue *q = &rq->q[rq->n];

        *errorp = esw_ring_init(&q->ring, depth);
        if (*errorp) {
            break;
        }
        *errorp = esw_notifier_init(&q->notifier);
        if (*errorp) {
            esw_ring_destroy(&q->ring);
            break;
        }
    }
    if (rq->n < n) {
        sim_rep_queues_free(rq);
        return NULL;
    }
    return rq;
}

static int
sim_vport_name(const struct esw_vport_config *cfg, char *name, size_t size)
{
    int n;

    switch (cfg->kind) {
    case ESW_VPORT_UPLINK:
        n = snprintf(name, size, "p%"PRIu32, cfg->pf);
        break;
    case ESW_VPORT_PF:
        n = snprintf(name, size, "pf%"PRIu32"hpf", cfg->pf);
        break;
    case ESW_VPORT_VF:
        n = snprintf(name, size, "pf%"PRIu32"vf%"PRIu32, cfg->pf, cfg->fn);
        break;
    case ESW_VPORT_SF:
        n = snprintf(name, size, "pf%"PRIu32"sf%"PRIu32, cfg->pf, cfg->fn);
        break;
    default:
        return EINVAL;
    }
    return n < 0 || (size_t) n >= size ? EINVAL : 0;
}

/* Returns whether the link that link-state=auto follows is up for 'v': the
 * uplink's administrative state (the "wire"), or up if there is no
 * uplink. */
bool
sim_auto_link_up(struct sim_dev *dev, const struct sim_vport *v)
{
    if (v->kind == ESW_VPORT_UPLINK) {
        return true;
    }
    for (size_t i = 0; i < dev->up.caps.max_vports; i++) {
        struct sim_vport *u = sim_vport_get(dev, i);

        if (u && u->kind == ESW_VPORT_UPLINK && u->pf == v->pf) {
            return atomic_load(&u->admin_up);
        }
    }
    return true;
}

const struct esw_eth_addr *
sim_vport_effective_mac(const struct sim_vport *v)
{
    if (v->policy_cfg && !esw_eth_addr_is_zero(&v->policy_cfg->admin_mac)) {
        return &v->policy_cfg->admin_mac;
    }
    if (!esw_eth_addr_is_zero(&v->granted_mac)) {
        return &v->granted_mac;
    }
    return &v->mac;
}

static void
sim_policy_free_cb(void *policy)
{
    esw_policy_destroy(policy);
}

/* Compiles 'v''s policy from its inputs and publishes it.  With
 * 'new_cfg' nonnull, uses it (a validated config, copied) instead of the
 * current one.  Returns ENOMEM on failure (nothing changed). */
static int
sim_vport_recompile(struct sim_dev *dev, struct sim_vport *v,
                    const struct esw_policy_config *new_cfg)
{
    const struct esw_policy_config *cfg = new_cfg ? new_cfg : v->policy_cfg;
    struct esw_policy *old = atomic_load(&v->policy), *p = NULL;
    struct esw_policy_config *copy = NULL;

    if (cfg) {
        const struct esw_eth_addr *mac;

        if (new_cfg) {
            copy = malloc(sizeof *copy);
            if (!copy) {
                return ENOMEM;
            }
            *copy = *new_cfg;
        }
        mac = (!esw_eth_addr_is_zero(&cfg->admin_mac) ? &cfg->admin_mac
               : !esw_eth_addr_is_zero(&v->granted_mac) ? &v->granted_mac
               : &v->mac);
        p = esw_policy_create(cfg, mac, sim_auto_link_up(dev, v), old);
        if (!p) {
            free(copy);
            return ENOMEM;
        }
    }
    if (new_cfg) {
        free(v->policy_cfg);
        v->policy_cfg = copy;
    }
    atomic_store_explicit(&v->policy, p, memory_order_release);
    if (old) {
        esw_rcu_postpone(sim_policy_free_cb, old);
    }
    return 0;
}

/* Recompiles every policy that follows uplink 'pf''s link. */
static void
sim_recompile_followers(struct sim_dev *dev, uint32_t pf)
{
    for (size_t i = 0; i < dev->up.caps.max_vports; i++) {
        struct sim_vport *v = sim_vport_get(dev, i);

        if (v && v->kind != ESW_VPORT_UPLINK && v->pf == pf
            && v->policy_cfg) {
            sim_vport_recompile(dev, v, NULL);
        }
    }
}

static void
sim_vport_free(struct sim_vport *v)
{
    struct sim_dev *dev = v->dev;
    struct esw_pkt *pkts[64];
    size_t n;

    if (v->io) {
        if (v->io->ops->rx_is_empty) {
            /* Tracked in 'in_flight': account for what never got in. */
            while ((n = v->io->ops->rx(v->io, pkts, 64)) > 0) {
                for (size_t i = 0; i < n; i++) {
                    esw_pkt_free(pkts[i]);
                }
                atomic_fetch_sub(&dev->in_flight, n);
            }
        }
        v->io->ops->close(v->io);
    }
    sim_rep_queues_free(atomic_load(&v->rep));
    esw_policy_destroy(atomic_load(&v->policy));
    free(v->policy_cfg);
    free(v);
}

static void
sim_vport_free_cb(void *v)
{
    sim_vport_free(v);
}

static int
sim_vport_check_config(struct sim_dev *dev, const struct esw_vport_config *c,
                       struct esw_error *err)
{
    if ((unsigned int) c->kind > ESW_VPORT_SF) {
        return esw_error_set(err, EINVAL, ESW_ERROR_VPORT_CONFIG, -1,
                             "unknown vport kind %d",
                             (int) c->kind);
    }
    if (c->vport != ESW_VPORT_AUTO && c->vport >= dev->up.caps.max_vports) {
        return esw_error_set(err, EINVAL, ESW_ERROR_VPORT_CONFIG, -1,
                             "vport %"PRIu32": out of range "
                             "0..%"PRIu32, c->vport,
                             dev->up.caps.max_vports - 1);
    }
    if (c->mtu && (c->mtu < SIM_MIN_MTU || c->mtu > SIM_MAX_MTU)) {
        return esw_error_set(err, EINVAL, ESW_ERROR_VPORT_CONFIG, -1,
                             "mtu %"PRIu32" out of range "
                             "%d..%d", c->mtu, SIM_MIN_MTU, SIM_MAX_MTU);
    }
    if (esw_eth_addr_is_multicast(&c->mac)) {
        return esw_error_set(err, EINVAL, ESW_ERROR_VPORT_CONFIG, -1,
                             "mac is not unicast");
    }
    if (c->n_rep_queues > ESW_MAX_REP_QUEUES) {
        return esw_error_set(err, EINVAL, ESW_ERROR_VPORT_CONFIG, -1,
                             "%"PRIu32" representor queues: "
                             "expected 1..%d", c->n_rep_queues,
                             ESW_MAX_REP_QUEUES);
    }
    if (c->rep_queue_depth > SIM_MAX_REP_DEPTH) {
        return esw_error_set(err, EINVAL, ESW_ERROR_VPORT_CONFIG, -1,
                             "representor queue depth %"PRIu32
                             " exceeds %u", c->rep_queue_depth,
                             SIM_MAX_REP_DEPTH);
    }
    if (c->io && (unsigned int) c->io->type > ESW_IO_WIRE) {
        return esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                             "unknown host-side type %d",
                             (int) c->io->type);
    }
    if (c->io && c->io->type == ESW_IO_VHOST_USER
        && (c->kind != ESW_VPORT_SF || c->fn < ESW_SF_VIRTIO_MIN)) {
        return esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                             "vhost-user host sides are for virtio-net "
                             "functions only");
    }
    if (c->io && c->io->type == ESW_IO_WIRE && c->kind != ESW_VPORT_UPLINK) {
        return esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                             "wire host sides are for uplinks only");
    }
    if (c->kind == ESW_VPORT_SF && c->fn >= ESW_SF_VIRTIO_MIN * 1000) {
        return esw_error_set(err, EINVAL, ESW_ERROR_VPORT_CONFIG, -1,
                             "sf number %"PRIu32" too large",
                             c->fn);
    }
    return 0;
}

/* Adds a vport; its host side takes over 'adopt_fds' if 'n_adopt_fds'
 * (then '*adopted' says whether it did: it owns them). */
static int
sim_vport_add__(struct esw_dev *dev_, const struct esw_vport_config *cfg,
                const int adopt_fds[], size_t n_adopt_fds, bool *adopted,
                struct esw_error *err, uint32_t *vportp)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    const struct esw_io_ops *io_ops;
    char name[ESW_NAME_MAX];
    struct sim_vport *v;
    uint32_t number;
    int error;

    error = sim_vport_check_config(dev, cfg, err);
    if (error) {
        return error;
    }
    if (sim_vport_name(cfg, name, sizeof name)) {
        return esw_error_set(err, EINVAL, ESW_ERROR_VPORT_CONFIG, -1,
                             "vport name too long");
    }

    pthread_mutex_lock(&dev->ctl_mutex);
    for (size_t i = 0; i < dev->up.caps.max_vports; i++) {
        struct sim_vport *o = sim_vport_get(dev, i);

        if (o && !strcmp(o->name, name)) {
            error = esw_error_set(err, EEXIST, ESW_ERROR_VPORT, -1,
                                  "%s: vport exists", name);
            goto out;
        }
    }
    number = cfg->vport;
    if (number == ESW_VPORT_AUTO) {
        for (number = 0; number < dev->up.caps.max_vports; number++) {
            if (!sim_vport_get(dev, number)) {
                break;
            }
        }
        if (number >= dev->up.caps.max_vports) {
            error = esw_error_set(err, ENOSPC, ESW_ERROR_CAPACITY, -1,
                                  "%s: no free vport number",
                                  name);
            goto out;
        }
    } else if (sim_vport_get(dev, number)) {
        error = esw_error_set(err, EEXIST, ESW_ERROR_VPORT, (int) number,
                              "%s: vport %"PRIu32" is taken",
                              name, number);
        goto out;
    }

    v = calloc(1, sizeof *v);
    if (!v) {
        error = esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                              "out of memory");
        goto out;
    }
    v->dev = dev;
    v->number = number;
    v->counters = &v->own_counters;
    if (dev->counter_store) {
        struct sim_vport_counters *c = dev->counter_store->get(
            dev->counter_store->aux, number);

        if (c) {
            v->counters = c;
        }
    }
    snprintf(v->name, sizeof v->name, "%s", name);
    v->kind = cfg->kind;
    v->pf = cfg->pf;
    v->fn = cfg->fn;
    atomic_init(&v->mtu, cfg->mtu ? cfg->mtu : SIM_DEFAULT_MTU);
    atomic_init(&v->admin_up, !cfg->admin_down);
    atomic_init(&v->policy, NULL);
    v->mac = cfg->mac;
    v->io_type = cfg->io ? cfg->io->type : ESW_IO_NONE;
    v->rep_queue_depth = (cfg->rep_queue_depth ? cfg->rep_queue_depth
                          : SIM_DEFAULT_REP_DEPTH);
    atomic_init(&v->rep,
                sim_rep_queues_create(v, (cfg->n_rep_queues
                                          ? cfg->n_rep_queues : 1),
                                      v->rep_queue_depth, &error));
    if (!atomic_load(&v->rep)) {
        free(v);
        error = esw_error_set(err, error, ESW_ERROR_UNSPECIFIED, -1,
                              "%s: representor queues: %s",
                              name, strerror(error));
        goto out;
    }

    io_ops = esw_io_ops_for_type(v->io_type);
    if (!io_ops && v->io_type != ESW_IO_NONE) {
        error = esw_error_set(err, ENODEV, ESW_ERROR_HOST_IO, -1,
                              "%s: %s host sides are not available (DPDK "
                              "is not initialised)", name,
                              esw_io_type_name(v->io_type));
        goto err_free;
    }
    if (io_ops) {
        struct esw_io_params params = {
            .vport_name = name,
            .dev_name = dev->up.name,
            .cfg = cfg->io,
            .mac = &cfg->mac,
            .adopt_fds = adopt_fds,
            .n_adopt_fds = n_adopt_fds,
        };

        error = io_ops->open(&params, &v->io, err);
        if (error) {
            goto err_free;
        }
        *adopted = n_adopt_fds > 0;
    }

    error = sim_thread_attach_vport(dev, v);
    if (error) {
        esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                      "%s: cannot poll host side: %s", name,
                      strerror(error));
        goto err_free;
    }
    atomic_store_explicit(&dev->vports[number], v, memory_order_release);
    dev->n_vports++;
    if (vportp) {
        *vportp = number;
    }
    goto out;

err_free:
    sim_vport_free(v);
out:
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

static int
sim_vport_add(struct esw_dev *dev, const struct esw_vport_config *cfg,
              struct esw_error *err, uint32_t *vportp)
{
    bool adopted = false;

    return sim_vport_add__(dev, cfg, NULL, 0, &adopted, err, vportp);
}

int
esw_sim_vport_add_adopt(struct esw_dev *dev, const struct esw_vport_config *cfg,
                        const int fds[], size_t n_fds, struct esw_error *err,
                        uint32_t *vportp)
{
    bool adopted = false;
    int error;

    esw_error_clear(err);
    if (dev->driver != &esw_sim_driver) {
        error = esw_error_set(err, EINVAL, ESW_ERROR_UNSPECIFIED, -1,
                              "not a sim device");
    } else {
        error = sim_vport_add__(dev, cfg, fds, n_fds, &adopted, err, vportp);
    }
    for (size_t i = 0; error && !adopted && i < n_fds; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    return error;
}

/* Unpublishes 'v' and frees it after a grace period.  With 'ctl_mutex'
 * held. */
static void
sim_vport_del__(struct sim_dev *dev, struct sim_vport *v)
{
    sim_rules_orphan_vport(dev, v->number);
    atomic_store_explicit(&dev->vports[v->number], NULL,
                          memory_order_release);
    dev->n_vports--;
    sim_thread_detach_vport(dev, v);
    if (v->kind == ESW_VPORT_UPLINK) {
        sim_recompile_followers(dev, v->pf);
    }
    esw_rcu_postpone(sim_vport_free_cb, v);
}

static int
sim_vport_del(struct esw_dev *dev_, uint32_t vport)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;

    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (v) {
        sim_vport_del__(dev, v);
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return v ? 0 : ENOENT;
}

/* Whether host side 'io' has a user (esw-emu.h, 'host_up'). */
static bool
sim_io_host_up(const struct esw_io *io)
{
    struct esw_host_info host = { .host_up = true };

    if (io->ops->get_info) {
        io->ops->get_info(io, &host);
    }
    return host.host_up;
}

static int
sim_vport_get_info(struct esw_dev *dev_, uint32_t vport,
                   struct esw_vport_info *info)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;

    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (v) {
        struct esw_policy *p = atomic_load(&v->policy);

        memset(info, 0, sizeof *info);
        info->vport = v->number;
        info->kind = v->kind;
        info->pf = v->pf;
        info->fn = v->fn;
        memcpy(info->name, v->name, sizeof info->name);
        info->mac = v->mac;
        info->guest_mac = v->guest_mac;
        info->effective_mac = *sim_vport_effective_mac(v);
        info->guest_mac_refused = v->guest_mac_refused;
        info->mtu = atomic_load(&v->mtu);
        info->admin_up = atomic_load(&v->admin_up);
        info->has_policy = v->policy_cfg != NULL;
        info->oper_up = (info->admin_up && v->io && sim_io_host_up(v->io)
                         && (!p || esw_policy_is_link_up(p)));
        struct sim_rep_queues *rq = atomic_load(&v->rep);

        info->rep_queue_depth = esw_ring_capacity(&rq->q[0].ring);
        info->n_rep_queues = rq->n;
        info->rep_fd = rq->q[0].notifier.fd;
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return v ? 0 : ENOENT;
}

static int
sim_vport_lookup(struct esw_dev *dev_, const char *name, uint32_t *vportp)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    int error = ENOENT;

    pthread_mutex_lock(&dev->ctl_mutex);
    for (size_t i = 0; i < dev->up.caps.max_vports; i++) {
        struct sim_vport *v = sim_vport_get(dev, i);

        if (v && !strcmp(v->name, name)) {
            *vportp = v->number;
            error = 0;
            break;
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

static size_t
sim_vport_list(struct esw_dev *dev_, uint32_t vports[], size_t max)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    size_t n = 0;

    pthread_mutex_lock(&dev->ctl_mutex);
    for (size_t i = 0; i < dev->up.caps.max_vports; i++) {
        if (sim_vport_get(dev, i)) {
            if (n < max) {
                vports[n] = i;
            }
            n++;
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return n;
}

static int
sim_vport_set_mac(struct esw_dev *dev_, uint32_t vport,
                  const struct esw_eth_addr *mac)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;
    int error = ENOENT;

    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (v) {
        struct esw_eth_addr old = v->mac;

        v->mac = *mac;
        error = sim_vport_recompile(dev, v, NULL);
        if (error) {
            v->mac = old;
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

static int
sim_vport_set_mtu(struct esw_dev *dev_, uint32_t vport, uint32_t mtu)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;
    int error = ENOENT;

    if (mtu < SIM_MIN_MTU || mtu > SIM_MAX_MTU) {
        return EINVAL;
    }
    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (v) {
        atomic_store(&v->mtu, mtu);
        error = 0;
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

static int
sim_vport_set_admin_state(struct esw_dev *dev_, uint32_t vport, bool up)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;

    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (v) {
        atomic_store(&v->admin_up, up);
        if (v->kind == ESW_VPORT_UPLINK) {
            sim_recompile_followers(dev, v->pf);
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return v ? 0 : ENOENT;
}

static int
sim_vport_set_policy(struct esw_dev *dev_, uint32_t vport,
                     const struct esw_policy_config *cfg,
                     struct esw_error *err)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;
    int error;

    if (cfg) {
        char reason[ESW_ERROR_MAX];

        error = esw_policy_config_validate(cfg, reason, sizeof reason);
        if (error) {
            return esw_error_set(err, error, ESW_ERROR_POLICY, -1,
                                 "%s", reason);
        }
    }
    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (!v) {
        error = esw_error_set(err, ENOENT, ESW_ERROR_VPORT, (int) vport,
                              "vport %"PRIu32": no such vport",
                              vport);
    } else if (cfg) {
        error = sim_vport_recompile(dev, v, cfg);
        if (error) {
            esw_error_set(err, error, ESW_ERROR_UNSPECIFIED, -1,
                          "%s: cannot compile policy", v->name);
        }
    } else {
        struct esw_policy *old = atomic_load(&v->policy);

        atomic_store_explicit(&v->policy, NULL, memory_order_release);
        if (old) {
            esw_rcu_postpone(sim_policy_free_cb, old);
        }
        free(v->policy_cfg);
        v->policy_cfg = NULL;
        error = 0;
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

static int
sim_vport_guest_set_mac(struct esw_dev *dev_, uint32_t vport,
                        const struct esw_eth_addr *mac,
                        struct esw_error *err)
{
    static const struct esw_policy_config default_cfg
        = ESW_POLICY_CONFIG_INITIALIZER;
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;
    int error;

    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (!v) {
        error = esw_error_set(err, ENOENT, ESW_ERROR_VPORT, (int) vport,
                              "vport %"PRIu32": no such vport",
                              vport);
    } else {
        const struct esw_policy_config *cfg = (v->policy_cfg
                                               ? v->policy_cfg
                                               : &default_cfg);
        char reason[ESW_ERROR_MAX];
        struct esw_eth_addr old_guest = v->guest_mac;
        struct esw_eth_addr old_granted = v->granted_mac;

        error = esw_policy_guest_mac_request(cfg,
                                             sim_vport_effective_mac(v),
                                             mac, reason, sizeof reason);
        if (error == EPERM) {
            /* Kept for status; what is in effect does not change. */
            v->guest_mac = *mac;
            v->guest_mac_refused = true;
            atomic_fetch_add(&v->counters->guest_mac_refused, 1);
            esw_error_set(err, EPERM, ESW_ERROR_POLICY, -1,
                          "%s: %s", v->name, reason);
        } else if (error) {
            esw_error_set(err, error, ESW_ERROR_POLICY, -1,
                          "%s: %s", v->name, reason);
        } else {
            v->guest_mac = *mac;
            v->granted_mac = *mac;
            v->guest_mac_refused = false;
            error = sim_vport_recompile(dev, v, NULL);
            if (error) {
                v->guest_mac = old_guest;
                v->granted_mac = old_granted;
                esw_error_set(err, error, ESW_ERROR_UNSPECIFIED, -1,
                              "%s: cannot compile policy",
                              v->name);
            }
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

static int
sim_vport_get_policy(struct esw_dev *dev_, uint32_t vport,
                     struct esw_policy_config *cfg, bool *has_policy)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;

    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (v && v->policy_cfg) {
        *cfg = *v->policy_cfg;
        *has_policy = true;
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return v ? 0 : ENOENT;
}

static int
sim_vport_guest_reset(struct esw_dev *dev_, uint32_t vport)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;
    int error = ENOENT;

    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (v) {
        struct esw_eth_addr old_guest = v->guest_mac;
        struct esw_eth_addr old_granted = v->granted_mac;
        bool old_refused = v->guest_mac_refused;

        memset(&v->guest_mac, 0, sizeof v->guest_mac);
        memset(&v->granted_mac, 0, sizeof v->granted_mac);
        v->guest_mac_refused = false;
        error = (!esw_eth_addr_is_zero(&old_granted)
                 ? sim_vport_recompile(dev, v, NULL) : 0);
        if (error) {
            v->guest_mac = old_guest;
            v->granted_mac = old_granted;
            v->guest_mac_refused = old_refused;
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

static int
sim_vport_get_host(struct esw_dev *dev_, uint32_t vport,
                   struct esw_host_info *info)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;
    int error = ENOENT;

    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (v) {
        info->type = v->io_type;
        if (v->io) {
            memcpy(info->ifname, v->io->name, sizeof info->ifname);
            info->has_mac = (v->io->ops->get_mac
                             && !v->io->ops->get_mac(v->io, &info->mac));
            info->host_up = true;
            if (v->io->ops->get_info) {
                v->io->ops->get_info(v->io, info);
            }
        }
        error = 0;
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

static int
sim_vport_get_stats(struct esw_dev *dev_, uint32_t vport,
                    struct esw_vport_stats *s)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;

    esw_rcu_read_lock();
    v = sim_vport_get(dev, vport);
    if (v) {
        const struct sim_vport_counters *c = v->counters;

        s->rx_packets = atomic_load_explicit(&c->rx_packets,
                                             memory_order_relaxed);
        s->rx_bytes = atomic_load_explicit(&c->rx_bytes,
                                           memory_order_relaxed);
        s->tx_packets = atomic_load_explicit(&c->tx_packets,
                                             memory_order_relaxed);
        s->tx_bytes = atomic_load_explicit(&c->tx_bytes,
                                           memory_order_relaxed);
        s->rep_rx_packets = atomic_load_explicit(&c->rep_rx_packets,
                                                 memory_order_relaxed);
        s->rep_tx_packets = atomic_load_explicit(&c->rep_tx_packets,
                                                 memory_order_relaxed);
        s->guest_mac_refused = atomic_load_explicit(&c->guest_mac_refused,
                                                    memory_order_relaxed);
        for (int i = 0; i < ESW_N_DROP_REASONS; i++) {
            s->drops[i] = atomic_load_explicit(&c->drops[i],
                                               memory_order_relaxed);
        }
    }
    esw_rcu_read_unlock();
    return v ? 0 : ENOENT;
}

/* Egress: policy, link, MTU, host side.  Takes the packets. */

/* Representors and host side. */

/* Representor queue 'queue' of 'vport', or NULL.  Within an RCU read-side
 * critical section. */
static struct sim_rep_queue *
sim_rep_queue_get(struct sim_dev *dev, uint32_t vport, uint32_t queue)
{
    struct sim_vport *v = sim_vport_get(dev, vport);
    struct sim_rep_queues *rq;

    if (!v) {
        return NULL;
    }
    rq = atomic_load_explicit(&v->rep, memory_order_acquire);
    return queue < rq->n ? &rq->q[queue] : NULL;
}

static size_t
sim_rep_recv(struct esw_dev *dev_, uint32_t vport, uint32_t queue,
             struct esw_pkt *pkts[], size_t max)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_rep_queue *q;
    size_t n = 0;

    esw_rcu_read_lock();
    q = sim_rep_queue_get(dev, vport, queue);
    if (q) {
        n = esw_ring_dequeue_burst(&q->ring, (void **) pkts, max);
        if (n) {
            q->empty_polls = 0;
        }
        /* Found it empty a few times in a row (so that a consumer that
         * polls busily does not pay two syscalls per packet): clear and
         * re-arm the fd.  If a packet raced in, leave the fd readable. */
        if (!n && ++q->empty_polls >= SIM_REP_REARM_POLLS) {
            q->empty_polls = 0;
            if (!esw_notifier_prepare(&q->notifier, &q->ring)) {
                uint64_t one = 1;
                ssize_t retval;

                atomic_store(&q->notifier.armed, false);
                retval = write(q->notifier.fd, &one, sizeof one);
                (void) retval;
            }
        }
    }
    esw_rcu_read_unlock();
    return n;
}

static int
sim_rep_get_fd(struct esw_dev *dev_, uint32_t vport, uint32_t queue)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_rep_queue *q;
    int fd;

    esw_rcu_read_lock();
    q = sim_rep_queue_get(dev, vport, queue);
    fd = q ? q->notifier.fd : -1;
    esw_rcu_read_unlock();
    return fd;
}

/* After a grace period that followed the replacement of 'old_' (so no
 * forwarding thread enqueues to it any more and nobody consumes it): moves
 * its packets to the vport's current queues and frees it.  Runs before the
 * vport itself can be freed (callbacks run in order, and the vport's
 * deletion postpones its free after this). */
static void
sim_rep_queues_retire_cb(void *old_)
{
    struct sim_rep_queues *old = old_;
    struct sim_vport *v = old->owner;

    for (uint32_t i = 0; i < old->n; i++) {
        struct esw_pkt *pkts[64];
        size_t n;

        while ((n = esw_ring_dequeue_burst(&old->q[i].ring,
                                           (void **) pkts, 64))) {
            atomic_fetch_sub_explicit(&v->counters->rep_rx_packets, n,
                                      memory_order_relaxed);
            sim_rep_enqueue(v, pkts, n);
        }
    }
    sim_rep_queues_free(old);
}

static int
sim_vport_set_rep_queues(struct esw_dev *dev_, uint32_t vport, uint32_t n,
                         struct esw_error *err)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_rep_queues *old, *new;
    struct sim_vport *v;
    int error = 0;

    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (!v) {
        error = esw_error_set(err, ENOENT, ESW_ERROR_VPORT, (int) vport,
                              "vport %"PRIu32": no such vport",
                              vport);
        goto out;
    }
    old = atomic_load(&v->rep);
    if (old->n == n) {
        goto out;
    }
    new = sim_rep_queues_create(v, n, v->rep_queue_depth, &error);
    if (!new) {
        error = esw_error_set(err, error, ESW_ERROR_UNSPECIFIED, -1,
                              "%s: representor queues: %s",
                              v->name, strerror(error));
        goto out;
    }
    atomic_store_explicit(&v->rep, new, memory_order_release);
    /* Forwarding threads may still enqueue to 'old' until they quiesce. */
    esw_rcu_postpone(sim_rep_queues_retire_cb, old);

out:
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

static int
sim_rep_send(struct esw_dev *dev_, uint32_t vport, struct esw_pkt *pkt)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;

    esw_rcu_read_lock();
    v = sim_vport_get(dev, vport);
    if (v) {
        atomic_fetch_add_explicit(&v->counters->rep_tx_packets, 1,
                                  memory_order_relaxed);
        if (pkt->len < ESW_FRAME_MIN || pkt->len > ESW_FRAME_MAX) {
            sim_vport_drop(v, ESW_DROP_MALFORMED, 1);
            esw_pkt_free(pkt);
        } else {
            sim_egress(dev, v, &pkt, 1);
        }
    } else {
        esw_pkt_free(pkt);
    }
    esw_rcu_read_unlock();
    return v ? 0 : ENOENT;
}

static int
sim_host_inject(struct esw_dev *dev_, uint32_t vport, struct esw_pkt *pkt)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;
    int error;

    esw_rcu_read_lock();
    v = sim_vport_get(dev, vport);
    if (!v) {
        error = ENOENT;
        esw_pkt_free(pkt);
    } else if (v->io_type != ESW_IO_CAPTURE) {
        error = EOPNOTSUPP;
        esw_pkt_free(pkt);
    } else {
        atomic_fetch_add(&dev->in_flight, 1);
        error = esw_io_capture_inject(v->io, pkt);
        if (error) {
            atomic_fetch_sub(&dev->in_flight, 1);
        }
    }
    esw_rcu_read_unlock();
    return error;
}

static size_t
sim_host_capture_read(struct esw_dev *dev_, uint32_t vport,
                      struct esw_pkt *pkts[], size_t max)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;
    size_t n = 0;

    esw_rcu_read_lock();
    v = sim_vport_get(dev, vport);
    if (v && v->io_type == ESW_IO_CAPTURE) {
        n = esw_io_capture_read(v->io, pkts, max);
    }
    esw_rcu_read_unlock();
    return n;
}

static bool
sim_is_idle(struct esw_dev *dev_)
{
    struct sim_dev *dev = sim_dev_cast(dev_);

    return atomic_load(&dev->in_flight) == 0;
}

/* Meters. */

#define NS_PER_UNIT_SCALE UINT64_C(1000000)   /* See 'bucket'. */

bool
sim_meter_run(struct sim_dev *dev, uint32_t id, uint32_t len,
              uint64_t now_ns)
{
    struct sim_meter *m;
    uint64_t volume, delta;
    uint64_t best_rate = 0;
    int best = -1;

    if (id >= dev->up.caps.max_meters) {
        return true;
    }
    m = atomic_load_explicit(&dev->meters[id], memory_order_acquire);
    if (!m) {
        return true;
    }
    volume = (m->cfg.pktps ? 1000 : (uint64_t) len * 8) * NS_PER_UNIT_SCALE;

    while (atomic_flag_test_and_set_explicit(&m->lock,
                                             memory_order_acquire)) {
        continue;
    }
    delta = now_ns > m->used_ns ? now_ns - m->used_ns : 0;
    if (now_ns > m->used_ns) {
        m->used_ns = now_ns;
    }
    for (uint32_t i = 0; i < m->cfg.n_bands; i++) {
        uint64_t rate = m->cfg.bands[i].rate;
        uint64_t room = m->max_bucket[i] - m->bucket[i];

        /* 'delta * rate' may overflow, the room may not. */
        m->bucket[i] += (delta > room / rate ? room : delta * rate);
        if (m->bucket[i] >= volume) {
            m->bucket[i] -= volume;
        } else if (rate > best_rate) {
            best_rate = rate;
            best = i;
        }
    }
    atomic_flag_clear_explicit(&m->lock, memory_order_release);

    atomic_fetch_add_explicit(&m->packets, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->bytes, len, memory_order_relaxed);
    if (best >= 0) {
        atomic_fetch_add_explicit(&m->band_packets[best], 1,
                                  memory_order_relaxed);
        atomic_fetch_add_explicit(&m->band_bytes[best], len,
                                  memory_order_relaxed);
        return false;
    }
    return true;
}

static void
sim_meter_free_cb(void *m)
{
    free(m);
}

static uint64_t
sim_now_ns__(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
sim_meter_set(struct esw_dev *dev_, uint32_t id,
              const struct esw_meter_config *cfg, struct esw_error *err)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_meter *m, *old;

    for (uint32_t i = 0; i < cfg->n_bands; i++) {
        if (cfg->bands[i].rate > UINT32_MAX
            || cfg->bands[i].burst > UINT32_MAX) {
            return esw_error_set(err, EINVAL, ESW_ERROR_UNSPECIFIED, -1,
                                 "meter %"PRIu32": band %"PRIu32": rate "
                                 "or burst above %"PRIu32, id, i,
                                 UINT32_MAX);
        }
    }
    m = calloc(1, sizeof *m);
    if (!m) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    m->cfg = *cfg;
    atomic_flag_clear(&m->lock);
    m->used_ns = sim_now_ns__();
    for (uint32_t i = 0; i < cfg->n_bands; i++) {
        struct esw_meter_band *b = &m->cfg.bands[i];

        if (!b->burst) {
            b->burst = b->rate;     /* As OVS. */
        }
        m->max_bucket[i] = b->burst * 1000 * NS_PER_UNIT_SCALE;
        m->bucket[i] = m->max_bucket[i];    /* Start full. */
    }

    pthread_mutex_lock(&dev->ctl_mutex);
    old = atomic_load_explicit(&dev->meters[id], memory_order_relaxed);
    atomic_store_explicit(&dev->meters[id], m, memory_order_release);
    pthread_mutex_unlock(&dev->ctl_mutex);
    if (old) {
        esw_rcu_postpone(sim_meter_free_cb, old);
    }
    return 0;
}

static int
sim_meter_del(struct esw_dev *dev_, uint32_t id)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_meter *old = NULL;

    if (id < dev->up.caps.max_meters) {
        pthread_mutex_lock(&dev->ctl_mutex);
        old = atomic_load_explicit(&dev->meters[id], memory_order_relaxed);
        atomic_store_explicit(&dev->meters[id], NULL, memory_order_release);
        pthread_mutex_unlock(&dev->ctl_mutex);
    }
    if (!old) {
        return ENOENT;
    }
    esw_rcu_postpone(sim_meter_free_cb, old);
    return 0;
}

static int
sim_meter_get(struct esw_dev *dev_, uint32_t id,
              struct esw_meter_stats *stats, struct esw_meter_config *cfg)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_meter *m;
    int error = 0;

    if (id >= dev->up.caps.max_meters) {
        return ENOENT;
    }
    /* The control mutex keeps the meter from being freed. */
    pthread_mutex_lock(&dev->ctl_mutex);
    m = atomic_load_explicit(&dev->meters[id], memory_order_relaxed);
    if (!m) {
        error = ENOENT;
    } else if (cfg) {
        *cfg = m->cfg;
    } else {
        stats->packets = atomic_load_explicit(&m->packets,
                                              memory_order_relaxed);
        stats->bytes = atomic_load_explicit(&m->bytes, memory_order_relaxed);
        for (uint32_t i = 0; i < ESW_MAX_METER_BANDS; i++) {
            stats->band_packets[i]
                = atomic_load_explicit(&m->band_packets[i],
                                       memory_order_relaxed);
            stats->band_bytes[i]
                = atomic_load_explicit(&m->band_bytes[i],
                                       memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

static int
sim_meter_get_stats(struct esw_dev *dev, uint32_t id,
                    struct esw_meter_stats *stats)
{
    return sim_meter_get(dev, id, stats, NULL);
}

static int
sim_meter_get_config(struct esw_dev *dev, uint32_t id,
                     struct esw_meter_config *cfg)
{
    return sim_meter_get(dev, id, NULL, cfg);
}

static size_t
sim_meter_list(struct esw_dev *dev_, uint32_t ids[], size_t max)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    size_t n = 0;

    pthread_mutex_lock(&dev->ctl_mutex);
    for (uint32_t i = 0; i < dev->up.caps.max_meters; i++) {
        if (atomic_load_explicit(&dev->meters[i], memory_order_relaxed)) {
            if (n < max) {
                ids[n] = i;
            }
            n++;
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return n;
}

/* Device lifecycle. */

static void sim_close(struct esw_dev *);

static int
sim_open(const char *name, const struct esw_dev_config *cfg,
         struct esw_dev **devp)
{
    struct sim_dev *dev;
    struct esw_caps *caps;
    int error;

    if (cfg->n_threads > SIM_MAX_THREADS
        || cfg->max_vports > SIM_MAX_VPORTS
        || (cfg->emu && cfg->emu->batch_size > SIM_MAX_BATCH)
        || cfg->disabled_match_fields & ~SIM_ALL_MATCH_FIELDS
        || cfg->disabled_actions & ~SIM_ALL_ACTIONS
        || cfg->disabled_set_fields & ~SIM_ALL_SET_FIELDS
        || cfg->max_recirc > SIM_MAX_RECIRC
        || cfg->max_meters > SIM_MAX_METERS
        || cfg->max_conns > SIM_MAX_CONNS) {
        return EINVAL;
    }
    dev = calloc(1, sizeof *dev);
    if (!dev) {
        return ENOMEM;
    }
    dev->cfg = *cfg;
    dev->cfg.emu = NULL;        /* The caller's: copied below. */
    caps = &dev->up.caps;
    caps->match_fields = SIM_ALL_MATCH_FIELDS & ~cfg->disabled_match_fields;
    caps->actions = SIM_ALL_ACTIONS & ~cfg->disabled_actions;
    caps->set_fields = SIM_ALL_SET_FIELDS & ~cfg->disabled_set_fields;
    caps->max_recirc = cfg->max_recirc ? cfg->max_recirc : SIM_MAX_RECIRC;
    caps->max_meters = (cfg->max_meters ? cfg->max_meters
                        : SIM_DEFAULT_MAX_METERS);
    caps->max_rules = cfg->max_rules ? cfg->max_rules
                                     : SIM_DEFAULT_MAX_RULES;
    caps->max_vports = cfg->max_vports ? cfg->max_vports
                                       : SIM_DEFAULT_MAX_VPORTS;
    caps->max_outputs = ESW_MAX_ACTIONS;
    caps->max_vlan_pushes = ESW_MAX_VLANS;
    caps->n_threads = cfg->n_threads ? cfg->n_threads : 1;
    caps->max_conns = cfg->max_conns ? cfg->max_conns : SIM_DEFAULT_MAX_CONNS;
    if (!(caps->actions & (1u << ESW_ACTION_CT))) {
        caps->max_conns = 0;        /* Without CT, a table is no use. */
    }
    dev->batch_size = (cfg->emu && cfg->emu->batch_size
                       ? cfg->emu->batch_size : SIM_DEFAULT_BATCH);
    dev->busy_poll = cfg->emu && cfg->emu->busy_poll;
    dev->n_threads = caps->n_threads;
    pthread_mutex_init(&dev->ctl_mutex, NULL);
    atomic_init(&dev->in_flight, 0);
    atomic_init(&dev->rep_sink, NULL);

    dev->vports = calloc(caps->max_vports, sizeof *dev->vports);
    dev->meters = calloc(caps->max_meters, sizeof *dev->meters);
    dev->cls = esw_cls_create(caps->max_rules);
    dev->cls_chains = esw_cls_create(caps->max_rules);
    if (!dev->vports || !dev->meters || !dev->cls || !dev->cls_chains
        || (caps->max_conns && sim_ct_create(dev))) {
        sim_close(&dev->up);
        return ENOMEM;
    }
    error = sim_threads_start(dev);
    if (error) {
        sim_close(&dev->up);
        return error;
    }
    (void) name;
    *devp = &dev->up;
    return 0;
}

static void
sim_close(struct esw_dev *dev_)
{
    struct sim_dev *dev = sim_dev_cast(dev_);

    sim_threads_stop(dev);
    if (dev->vports) {
        pthread_mutex_lock(&dev->ctl_mutex);
        for (size_t i = 0; i < dev->up.caps.max_vports; i++) {
            struct sim_vport *v = sim_vport_get(dev, i);

            if (v) {
                sim_vport_del__(dev, v);
            }
        }
        sim_rules_destroy_all(dev);
        sim_ct_destroy(dev);
        pthread_mutex_unlock(&dev->ctl_mutex);
    }
    if (dev->meters) {
        for (size_t i = 0; i < dev->up.caps.max_meters; i++) {
            struct sim_meter *m = atomic_load(&dev->meters[i]);

            if (m) {
                esw_rcu_postpone(sim_meter_free_cb, m);
            }
        }
    }
    esw_cls_destroy(dev->cls);
    esw_cls_destroy(dev->cls_chains);
    /* Runs every postponed free (vports, policies, rules, the
     * classifier's memory) before the device goes away. */
    esw_rcu_barrier();
    sim_threads_free(dev);
    free(dev->vports);
    free(dev->meters);
    pthread_mutex_destroy(&dev->ctl_mutex);
    free(dev);
}

/* What only an emulator has (esw-emu.h). */
static const struct esw_emu_ops sim_emu_ops = {
    .vport_get_host = sim_vport_get_host,
    .host_inject = sim_host_inject,
    .host_capture_read = sim_host_capture_read,
    .is_idle = sim_is_idle,
};

const struct esw_driver esw_sim_driver = {
    .name = "sim",
    .open = sim_open,
    .close = sim_close,
    .vport_add = sim_vport_add,
    .vport_del = sim_vport_del,
    .vport_get_info = sim_vport_get_info,
    .vport_lookup = sim_vport_lookup,
    .vport_list = sim_vport_list,
    .vport_set_mac = sim_vport_set_mac,
    .vport_set_mtu = sim_vport_set_mtu,
    .vport_set_admin_state = sim_vport_set_admin_state,
    .vport_set_policy = sim_vport_set_policy,
    .vport_guest_set_mac = sim_vport_guest_set_mac,
    .vport_get_stats = sim_vport_get_stats,
    .vport_get_policy = sim_vport_get_policy,
    .vport_guest_reset = sim_vport_guest_reset,
    .rule_validate = sim_rule_validate,
    .rule_add = sim_rule_add,
    .rule_modify = sim_rule_modify,
    .rule_del = sim_rule_del,
    .rule_get_stats = sim_rule_get_stats,
    .rule_get_spec = sim_rule_get_spec,
    .rule_count = sim_rule_count,
    .rule_foreach = sim_rule_foreach,
    .rep_recv = sim_rep_recv,
    .rep_get_fd = sim_rep_get_fd,
    .vport_set_rep_queues = sim_vport_set_rep_queues,
    .rep_send = sim_rep_send,
    .meter_set = sim_meter_set,
    .meter_del = sim_meter_del,
    .meter_get_stats = sim_meter_get_stats,
    .meter_get_config = sim_meter_get_config,
    .meter_list = sim_meter_list,
    .ct_add = sim_ct_add,
    .ct_modify = sim_ct_modify,
    .ct_del = sim_ct_del,
    .ct_flush = sim_ct_flush,
    .ct_get_stats = sim_ct_get_stats,
    .ct_get_spec = sim_ct_get_spec,
    .ct_count = sim_ct_count_entries,
    .ct_foreach = sim_ct_foreach,
    .trace_packet = sim_trace_packet,
    .trace_rep_send = sim_trace_rep_send,
    .emu = &sim_emu_ops,
};

void
esw_sim_set_rep_sink(struct esw_dev *dev_, struct esw_sim_rep_sink *sink)
{
    struct sim_dev *dev = sim_dev_cast(dev_);

    atomic_store_explicit(&dev->rep_sink, sink, memory_order_release);
}

void
esw_sim_set_counter_store(struct esw_dev *dev_,
                          const struct esw_sim_counter_store *store)
{
    sim_dev_cast(dev_)->counter_store = store;
}

/* Live update (esw-sim.h). */

int
esw_sim_pause(struct esw_dev *dev_)
{
    if (dev_->driver != &esw_sim_driver) {
        return EINVAL;
    }
    sim_threads_stop(sim_dev_cast(dev_));
    return 0;
}

int
esw_sim_resume(struct esw_dev *dev_)
{
    if (dev_->driver != &esw_sim_driver) {
        return EINVAL;
    }
    return sim_threads_restart(sim_dev_cast(dev_));
}

int
esw_sim_vport_export(struct esw_dev *dev_, uint32_t vport,
                     struct esw_sim_vport_export *e)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;

    memset(e, 0, sizeof *e);
    if (dev_->driver != &esw_sim_driver) {
        return EINVAL;
    }
    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (v) {
        e->guest_mac = v->guest_mac;
        e->granted_mac = v->granted_mac;
        e->guest_mac_refused = v->guest_mac_refused;
        if (v->io && v->io->ops->export_fds) {
            e->n_host_fds = v->io->ops->export_fds(v->io, e->host_fds);
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return v ? 0 : ENOENT;
}

int
esw_sim_vport_restore_guest(struct esw_dev *dev_, uint32_t vport,
                            const struct esw_eth_addr *guest_mac,
                            const struct esw_eth_addr *granted_mac,
                            bool refused)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;
    int error = ENOENT;

    if (dev_->driver != &esw_sim_driver) {
        return EINVAL;
    }
    pthread_mutex_lock(&dev->ctl_mutex);
    v = sim_vport_get(dev, vport);
    if (v) {
        v->guest_mac = *guest_mac;
        v->granted_mac = *granted_mac;
        v->guest_mac_refused = refused;
        error = sim_vport_recompile(dev, v, NULL);
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

int
esw_sim_rule_add_stats(struct esw_dev *dev_, struct esw_rule *rule,
                       const struct esw_rule_stats *st)
{
    if (dev_->driver != &esw_sim_driver || !rule->stats) {
        return EINVAL;
    }
    /* Thread 0's slot: the threads are paused (esw_sim_pause()). */
    atomic_fetch_add(&rule->stats[0].packets, st->packets);
    atomic_fetch_add(&rule->stats[0].bytes, st->bytes);
    if (st->used_ms > atomic_load(&rule->stats[0].used_ms)) {
        atomic_store(&rule->stats[0].used_ms, st->used_ms);
    }
    return 0;
}

int
esw_sim_meter_add_stats(struct esw_dev *dev_, uint32_t id,
                        const struct esw_meter_stats *st)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_meter *m;

    if (dev_->driver != &esw_sim_driver || id >= dev->up.caps.max_meters) {
        return EINVAL;
    }
    pthread_mutex_lock(&dev->ctl_mutex);
    m = atomic_load_explicit(&dev->meters[id], memory_order_relaxed);
    if (m) {
        atomic_fetch_add(&m->packets, st->packets);
        atomic_fetch_add(&m->bytes, st->bytes);
        for (uint32_t i = 0; i < ESW_MAX_METER_BANDS; i++) {
            atomic_fetch_add(&m->band_packets[i], st->band_packets[i]);
            atomic_fetch_add(&m->band_bytes[i], st->band_bytes[i]);
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    return m ? 0 : ENOENT;
}

size_t
esw_sim_host_deliver(struct esw_dev *dev_, uint32_t vport,
                     struct esw_pkt *pkts[], size_t n)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_vport *v;
    size_t done = 0;

    esw_rcu_read_lock();
    v = (dev_->driver == &esw_sim_driver ? sim_vport_get(dev, vport)
         : NULL);
    if (v && v->io) {
        done = v->io->ops->tx(v->io, pkts, n);
    } else {
        for (size_t i = 0; i < n; i++) {
            esw_pkt_free(pkts[i]);
        }
    }
    esw_rcu_read_unlock();
    return done;
}
