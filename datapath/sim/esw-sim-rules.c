/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* "sim" eSwitch driver: rules.
 *
 * A rule handle ('struct esw_rule') points to its current version ('struct
 * sim_rule_version'), which is what the classifier holds and what the
 * forwarding threads execute.  esw_rule_modify() builds a new version and
 * swaps it in with esw_cls_replace() (make-before-break); old versions and
 * deleted handles are freed after an RCU grace period.  Counters live in
 * the handle, so they survive modifications. */

#include "esw-sim.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "esw-rcu.h"

static bool
sim_vport_exists(const void *dev, uint32_t vport)
{
    return sim_vport_get((struct sim_dev *) dev, vport) != NULL;
}

/* Checks what depends on the device state.  With 'ctl_mutex' held. */
static int
sim_rule_validate__(struct sim_dev *dev, const struct esw_rule_spec *spec,
                    struct esw_error *err)
{
    return esw_rule_check_vports(spec, sim_vport_exists, dev, err);
}

int
sim_rule_validate(struct esw_dev *dev_, const struct esw_rule_spec *spec,
                  struct esw_error *err)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    int error;

    pthread_mutex_lock(&dev->ctl_mutex);
    error = sim_rule_validate__(dev, spec, err);
    pthread_mutex_unlock(&dev->ctl_mutex);
    return error;
}

/* The size of a version of a rule with 'n_actions' actions. */
static size_t
sim_rule_version_size(size_t n_actions)
{
    return (sizeof(struct sim_rule_version)
            + n_actions * sizeof(struct esw_action));
}

/* Fills in 'v', a version of 'rule' made from 'spec', allocated with
 * sim_rule_version_size(spec->n_actions) bytes. */
static void
sim_rule_version_init(struct sim_rule_version *v, struct esw_rule *rule,
                      const struct esw_rule_spec *spec)
{
    size_t n_others = 0;

    memset(v, 0, sizeof *v);
    v->rule = rule;
    esw_rule_key(spec, &v->cls.match, &v->cls.mask);
    v->spec_mask_chain = spec->mask.chain;
    v->spec_mask_tun_port = spec->mask.tun_port;
    v->chain = v->cls.match.chain;
    v->cls.priority = spec->priority;
    v->n_actions = spec->n_actions;
    memcpy(v->actions, spec->actions, spec->n_actions * sizeof *v->actions);
    for (size_t i = 0; i < spec->n_actions; i++) {
        switch (spec->actions[i].type) {
        case ESW_ACTION_OUTPUT:
            v->n_outputs++;
            v->out_vport = spec->actions[i].vport;
            break;
        case ESW_ACTION_PUSH_VLAN:
        case ESW_ACTION_POP_VLAN:
        case ESW_ACTION_SET_ETH_SRC:
        case ESW_ACTION_SET_ETH_DST:
        case ESW_ACTION_SET:
        case ESW_ACTION_METER:
            n_others++;
            break;
        case ESW_ACTION_HASH:
            if (spec->actions[i].hash.alg == ESW_HASH_L4 && !v->hash_l4) {
                v->hash_l4 = true;
                v->hash_vlans = spec->actions[i].hash.max_vlans;
            }
            /* Fall through. */
        case ESW_ACTION_ENCAP:
            /* The UDP source port hashes the packet as it entered, like
             * the L4 hash. */
            if (!v->hash_l4) {
                v->hash_l4 = true;
                v->hash_vlans = spec->actions[i].encap.max_vlans;
            }
            /* Fall through. */
        case ESW_ACTION_DECAP:
        case ESW_ACTION_CT:
        case ESW_ACTION_RECIRC:
            v->chained = true;
            n_others++;
            break;
        case ESW_ACTION_CT_CLEAR:
            /* The CT metadata matters only to the next chains: in a
             * rule without RECIRC, nothing sees it. */
        case ESW_ACTION_DROP:
        case ESW_ACTION_COUNT:
        case ESW_N_ACTION_TYPES:
        default:
            break;
        }
    }
    v->simple_output = v->n_outputs == 1 && !n_others;
}

/* Stores in 'spec' the spec that 'v' was made from, with its match
 * masked. */
void
sim_rule_version_get_spec(const struct sim_rule_version *v,
                          struct esw_rule_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->match = v->cls.match;
    spec->mask = v->cls.mask;
    spec->mask.chain = v->spec_mask_chain;
    spec->mask.tun_port = v->spec_mask_tun_port;
    spec->priority = v->cls.priority;
    spec->n_actions = v->n_actions;
    memcpy(spec->actions, v->actions, v->n_actions * sizeof *v->actions);
}

static struct sim_rule_version *
sim_rule_version_create(struct esw_rule *rule,
                        const struct esw_rule_spec *spec)
{
    struct sim_rule_version *v = malloc(sim_rule_version_size(
                                            spec->n_actions));

    if (v) {
        sim_rule_version_init(v, rule, spec);
    }
    return v;
}

static void
sim_rule_version_free_cb(void *v)
{
    free(v);
}

/* A rule is one allocation: the handle, its per-thread counters (each on
 * its own cache line) and its first version, so that adding a rule costs a
 * single malloc() (no memalign()).  Later versions (esw_rule_modify()) are
 * allocated on their own. */
static size_t
sim_rule_stats_ofs(const struct esw_rule *rule)
{
    uintptr_t p = (uintptr_t) (rule + 1);

    return ((p + 63) & ~(uintptr_t) 63) - (uintptr_t) rule;
}

static struct sim_rule_version *
sim_rule_first_version(struct esw_rule *rule)
{
    return (struct sim_rule_version *) (rule->stats + rule->dev->n_threads);
}

static struct esw_rule *
sim_rule_alloc(struct sim_dev *dev, const struct esw_rule_spec *spec)
{
    size_t size = (sizeof(struct esw_rule) + 63
                   + dev->n_threads * sizeof(struct sim_rule_stats)
                   + sim_rule_version_size(spec->n_actions));
    struct esw_rule *rule = malloc(size);

    if (!rule) {
        return NULL;
    }
    memset(rule, 0, sizeof *rule);
    rule->dev = dev;
    rule->stats = (struct sim_rule_stats *) ((char *) rule
                                             + sim_rule_stats_ofs(rule));
    for (size_t i = 0; i < dev->n_threads; i++) {
        atomic_init(&rule->stats[i].packets, 0);
        atomic_init(&rule->stats[i].bytes, 0);
        atomic_init(&rule->stats[i].used_ms, 0);
    }
    rule->cur = sim_rule_first_version(rule);
    sim_rule_version_init(rule->cur, rule, spec);
    return rule;
}

static void
sim_rule_free_cb(void *rule_)
{
    struct esw_rule *rule = rule_;

    if (rule->cur != sim_rule_first_version(rule)) {
        free(rule->cur);
    }
    free(rule);
}

static bool
sim_rule_uses_vport(const struct sim_rule_version *v, uint32_t vport)
{
    if (v->cls.mask.in_vport && v->cls.match.in_vport == vport) {
        return true;
    }
    for (size_t i = 0; i < v->n_actions; i++) {
        if (v->actions[i].type == ESW_ACTION_OUTPUT
            && v->actions[i].vport == vport) {
            return true;
        }
    }
    return false;
}

static int
sim_cls_error(int error, struct esw_error *err, const struct sim_dev *dev)
{
    switch (error) {
    case ENOSPC:
        return esw_error_set(err, ENOSPC, ESW_ERROR_CAPACITY, -1,
                             "rule table full (%"PRIu32
                             " rules)", dev->up.caps.max_rules);
    case EEXIST:
        return esw_error_set(err, EEXIST, ESW_ERROR_RULE, -1,
                             "a rule with the same match, "
                             "mask and priority exists");
    default:
        return esw_error_set(err, error, ESW_ERROR_UNSPECIFIED, -1,
                             "rule table: %s", strerror(error));
    }
}

int
sim_rule_add(struct esw_dev *dev_, const struct esw_rule_spec *spec,
             struct esw_error *err, struct esw_rule **rulep)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct esw_rule *rule;
    int error;

    rule = sim_rule_alloc(dev, spec);
    if (!rule) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }

    pthread_mutex_lock(&dev->ctl_mutex);
    error = sim_rule_validate__(dev, spec, err);
    if (!error && (esw_cls_count(dev->cls) + esw_cls_count(dev->cls_chains)
                   >= dev->up.caps.max_rules)) {
        error = sim_cls_error(ENOSPC, err, dev);
    }
    if (!error) {
        error = esw_cls_insert(sim_cls_of_chain(dev, rule->cur->chain),
                               &rule->cur->cls);
        if (error) {
            sim_cls_error(error, err, dev);
        }
    }
    if (!error) {
        rule->installed = true;
        rule->prev = dev->rules_tail;
        if (dev->rules_tail) {
            dev->rules_tail->next = rule;
        } else {
            dev->rules_head = rule;
        }
        dev->rules_tail = rule;
        dev->n_rules++;
    }
    pthread_mutex_unlock(&dev->ctl_mutex);

    if (error) {
        sim_rule_free_cb(rule);
    } else {
        *rulep = rule;
    }
    return error;
}

int
sim_rule_modify(struct esw_dev *dev_, struct esw_rule *rule,
                const struct esw_rule_spec *spec, struct esw_error *err)
{
    struct sim_dev *dev = sim_dev_cast(dev_);
    struct sim_rule_version *new, *old;
    int error;

    new = sim_rule_version_create(rule, spec);
    if (!new) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    pthread_mutex_lock(&dev->ctl_mutex);
    old = rule->cur;
    if (!rule->installed) {
        error = esw_error_set(err, ENOENT, ESW_ERROR_RULE, -1,
                              "rule is orphaned: one of its "
                              "vports went away");
    } else {
        error = sim_rule_validate__(dev, spec, err);
    }
    if (!error && new->chain == old->chain) {
        error = esw_cls_replace(sim_cls_of_chain(dev, new->chain),
                                &old->cls, &new->cls);
        if (error) {
            sim_cls_error(error, err, dev);
        }
    } else if (!error) {
        /* Into another chain's table: the new version first (the two
         * cannot match the same packets). */
        error = esw_cls_insert(sim_cls_of_chain(dev, new->chain), &new->cls);
        if (error) {
            sim_cls_error(error, err, dev);
        } else {
            esw_cls_remove(sim_cls_of_chain(dev, old->chain), &old->cls);
        }
    }
    if (!error) {
        rule->cur = new;
        if (old != sim_rule_first_version(rule)) {
            esw_rcu_postpone(sim_rule_version_free_cb, old);
        }
    }
    pthread_mutex_unlock(&dev->ctl_mutex);
    if (error) {
        free(new);
    }
    return error;
}

void
sim_rule_del(struct esw_dev *dev_, struct esw_rule *rule)
{
    struct sim_dev *dev = sim_dev_cast(dev_);

    pthread_mutex_lock(&dev->ctl_mutex);
    if (rule->installed) {
        esw_cls_remove(sim_cls_of_chain(dev, rule->cur->chain),
                       &rule->cur->cls);
        rule->installed = false;
    }
    if (rule->prev) {
        rule->prev->next = rule->next;
    } else {
        dev->rules_head = rule->next;
    }
    if (rule->next) {
        rule->next->prev = rule->prev;
    } else {
        dev->rules_tail = rule->prev;
    }
    dev->n_rules--;
    pthread_mutex_unlock(&dev->ctl_mutex);
    esw_rcu_postpone(sim_rule_free_cb, rule);
}

int
sim_rule_get_stats(struct esw_dev *dev_, const struct esw_rule *rule,
                   struct esw_rule_stats *stats)
{
    struct sim_dev *dev = sim_dev_cast(dev_);

    for (size_t i = 0; i < dev->n_threads; i++) {
        const struct sim_rule_stats *s = &rule->stats[i];
        uint64_t used = atomic_load_explicit(&s->used_ms,
                                             memory_order_relaxed);

        stats->packets += atomic_load_explicit(&s->packets,
                                               memory_order_relaxed);
        stats->bytes += atomic_load_explicit(&s->bytes,
                                             memory_order_relaxed);
        if (used > stats->used_ms) {
            stats->used_ms = used;
        }
    }
    /* Only the owner of the handle changes this, and it is not racing. */
    stats->orphaned = !rule->installed;
    return 0;
}

/* The device whose sim_rule_foreach() runs in this thread, if any: its
 * callback already holds 'ctl_mutex', which is not recursive. */
static _Thread_local const struct sim_dev *foreach_dev;

void
sim_rule_get_spec(struct esw_dev *dev_, const struct esw_rule *rule,
                  struct esw_rule_spec *spec)
{
    struct sim_dev *dev = sim_dev_cast(dev_);

    if (foreach_dev == dev) {
        sim_rule_version_get_spec(rule->cur, spec);
        return;
    }
    pthread_mutex_lock(&dev->ctl_mutex);
    sim_rule_version_get_spec(rule->cur, spec);
    pthread_mutex_unlock(&dev->ctl_mutex);
}

size_t
sim_rule_count(struct esw_dev *dev_)
{
    struct sim_dev *dev = sim_dev_cast(dev_);

    return esw_cls_count(dev->cls) + esw_cls_count(dev->cls_chains);
}

void
sim_rule_foreach(struct esw_dev *dev_,
                 bool (*cb)(struct esw_rule *, void *), void *aux)
{
    struct sim_dev *dev = sim_dev_cast(dev_);

    pthread_mutex_lock(&dev->ctl_mutex);
    foreach_dev = dev;
    for (struct esw_rule *r = dev->rules_head; r; r = r->next) {
        if (!cb(r, aux)) {
            break;
        }
    }
    foreach_dev = NULL;
    pthread_mutex_unlock(&dev->ctl_mutex);
}

/* Takes every rule that uses 'vport' out of the classifier.  With
 * 'ctl_mutex' held. */
void
sim_rules_orphan_vport(struct sim_dev *dev, uint32_t vport)
{
    for (struct esw_rule *r = dev->rules_head; r; r = r->next) {
        if (r->installed && sim_rule_uses_vport(r->cur, vport)) {
            esw_cls_remove(sim_cls_of_chain(dev, r->cur->chain),
                           &r->cur->cls);
            r->installed = false;
        }
    }
}

/* Frees every rule (device destruction).  With 'ctl_mutex' held. */
void
sim_rules_destroy_all(struct sim_dev *dev)
{
    struct esw_rule *r, *next;

    for (r = dev->rules_head; r; r = next) {
        next = r->next;
        if (r->installed) {
            esw_cls_remove(sim_cls_of_chain(dev, r->cur->chain),
                           &r->cur->cls);
        }
        esw_rcu_postpone(sim_rule_free_cb, r);
    }
    dev->rules_head = dev->rules_tail = NULL;
    dev->n_rules = 0;
}
