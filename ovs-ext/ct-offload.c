/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Connection offload (see ct-offload.h).
 *
 * conntrack's hooks run in PMD, handler and sweeper threads, some under a
 * connection's lock: they decide at once whether a connection is one the
 * devices can hold, and queue an item (a lock-free MPSC queue, a latch to
 * wake the worker).  The worker alone changes the devices and the table
 * of held connections ('conns', a cmap keyed by conntrack's handle, so
 * that the sweeper's last-used question is answered without a lock: the
 * device counters are lock-free reads too). */

#include <config.h>

#include "ct-offload.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <string.h>

#include "cmap.h"
#include "conntrack.h"
#include "conntrack-offload.h"
#include "datapath/esw.h"
#include "datapath/cls/esw-rcu.h"
#include "eswitch.h"
#include "hash.h"
#include "latch.h"
#include "mpsc-queue.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ct_offload);

/* Devices a connection goes to, at most. */
#define CT_OFFLOAD_MAX_DEVS 8

/* Work items queued, at most: beyond, connections are declined (they
 * stay in software) rather than memory growing without bound. */
#define CT_OFFLOAD_MAX_PENDING 65536

enum ct_work_type {
    CT_WORK_ADD,
    CT_WORK_UPDATE,
    CT_WORK_DEL,
    CT_WORK_FLUSH,
    CT_WORK_FORGET,             /* Unregistered: drop everything. */
    CT_WORK_DEV_ADDED,          /* An eSwitch: add the held connections. */
    CT_WORK_DEV_GONE,           /* An eSwitch removed: take them out. */
};

struct ct_work {
    struct mpsc_queue_node node;
    enum ct_work_type type;
    const void *handle;
    struct esw_ct_spec spec;    /* ADD, UPDATE (mark, label). */
    bool all_zones;             /* FLUSH. */
    struct esw_dev *dev;        /* DEV_ADDED, DEV_GONE (referenced). */
};

/* A held connection: its entries in the devices. */
struct ct_conn {
    struct cmap_node node;      /* In 'conns', by handle. */
    const void *handle;
    uint16_t zone;
    struct esw_ct_spec spec;    /* For eSwitches created later. */

    /* Slots 0..n_devs-1 are used once each: an eSwitch removed leaves its
     * slot NULL (readers read 'cts[i]' first, then 'devs[i]'). */
    size_t n_devs;
    size_t n_live;              /* Slots with an entry. */
    struct esw_dev *devs[CT_OFFLOAD_MAX_DEVS];  /* Referenced while the
                                                 * slot's entry lives. */
    ATOMIC(struct esw_ct *) cts[CT_OFFLOAD_MAX_DEVS];       /* NULL: gone. */

    /* The sweeper's (see hook_conn_last_used()). */
    atomic_uint64_t seen_used;  /* Devices' last use, esw_time_msec(). */
    atomic_llong reported;      /* What was answered, time_msec(). */
};

static struct mpsc_queue queue = MPSC_QUEUE_INITIALIZER(&queue);
static struct latch wake;
static struct cmap conns = CMAP_INITIALIZER;       /* Worker writes. */
static atomic_bool enabled;
static atomic_count pending = ATOMIC_COUNT_INIT(0);
static atomic_count held = ATOMIC_COUNT_INIT(0);   /* Connections with a
                                                    * device entry. */

/* The eSwitches' devices, as eswitch.c creates and destroys them
 * (ct_offload_dev_added(), ct_offload_dev_removed()), each referenced: the
 * worker adds connections to these only, so that a removed eSwitch's
 * device gets no new ones and is released once the worker took its
 * entries out (CT_WORK_DEV_GONE). */
static struct ovs_mutex devs_mutex = OVS_MUTEX_INITIALIZER;
static struct esw_dev *esw_devs[CT_OFFLOAD_MAX_DEVS] OVS_GUARDED_BY(devs_mutex);
static size_t n_esw_devs OVS_GUARDED_BY(devs_mutex);
static bool worker_running OVS_GUARDED_BY(devs_mutex);

/* Whether connection offload is off because the eSwitches have no
 * connection table by configuration (eswitch-max-conns=0). */
static atomic_bool no_tables;
static atomic_uint64_t n_add_full;      /* Of n_add_failed: ENOSPC. */

/* Counters. */
static atomic_uint64_t n_offered, n_declined, n_declined_proto,
    n_declined_helper, n_declined_busy, n_added,
    n_add_failed, n_removed, n_updated, n_flushes, n_kept_alive;

static struct esw_ct *
conn_ct(struct ct_conn *c, size_t i)
{
    struct esw_ct *ct;

    atomic_read(&c->cts[i], &ct);
    return ct;
}

static uint32_t
handle_hash(const void *handle)
{
    return hash_pointer(handle, 0);
}

static void
counter_inc(atomic_uint64_t *c)
{
    uint64_t orig;

    atomic_add_relaxed(c, 1, &orig);
}

static uint64_t
counter_get(atomic_uint64_t *c)
{
    uint64_t v;

    atomic_read_relaxed(c, &v);
    return v;
}

static void
work_queue(struct ct_work *w)
{
    atomic_count_inc(&pending);
    mpsc_queue_insert(&queue, &w->node);
    latch_set(&wake);
}

/* The device's NAT bits are OVS's. */
BUILD_ASSERT_DECL(NAT_ACTION_SRC == ESW_CT_NAT_SRC
                  && NAT_ACTION_SRC_PORT == ESW_CT_NAT_SRC_PORT
                  && NAT_ACTION_DST == ESW_CT_NAT_DST
                  && NAT_ACTION_DST_PORT == ESW_CT_NAT_DST_PORT);

/* The hooks. */

void
ct_offload_tuple_to_esw(const struct ct_dpif_tuple *t,
                        struct esw_ct_tuple *e)
{
    memset(e, 0, sizeof *e);
    if (t->l3_type == AF_INET6) {
        e->src.ip6 = t->src.in6;
        e->dst.ip6 = t->dst.in6;
    } else {
        e->src.ip4 = t->src.ip;
        e->dst.ip4 = t->dst.ip;
    }
    /* ICMP: the id, type and code overlay the ports in both. */
    e->src_port = t->src_port;
    e->dst_port = t->dst_port;
    e->ip_proto = t->ip_proto;
}

/* True if the devices can hold a connection whose original tuple is 't':
 * TCP, UDP, ICMP or ICMPv6 echo (OVS's ICMP timestamp and information
 * request connections stay in software). */
static bool
ct_offload_proto_ok(const struct ct_dpif_tuple *t)
{
    switch (t->ip_proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
        return t->l3_type == AF_INET || t->l3_type == AF_INET6;
    case IPPROTO_ICMP:
        return t->l3_type == AF_INET && t->icmp_type == ICMP4_ECHO_REQUEST;
    case IPPROTO_ICMPV6:
        return t->l3_type == AF_INET6 && t->icmp_type == ICMP6_ECHO_REQUEST;
    default:
        return false;
    }
}

static void
conn_to_spec(const struct conntrack_offload_conn *c, struct esw_ct_spec *s)
{
    memset(s, 0, sizeof *s);
    s->zone = c->zone;
    s->ipv6 = c->orig.l3_type == AF_INET6;
    s->nat = c->nat_action & (NAT_ACTION_SRC | NAT_ACTION_SRC_PORT
                              | NAT_ACTION_DST | NAT_ACTION_DST_PORT);
    ct_offload_tuple_to_esw(&c->orig, &s->orig);
    ct_offload_tuple_to_esw(&c->reply, &s->reply);
    s->mark = c->mark;
    s->label[0] = c->label.u64.lo;
    s->label[1] = c->label.u64.hi;
}

static bool
hook_conn_add(const struct conntrack_offload_conn *c)
{
    bool on;
    struct ct_work *w;

    counter_inc(&n_offered);
    atomic_read_relaxed(&enabled, &on);
    if (!on) {
        counter_inc(&n_declined);
        return false;
    }
    if (!ct_offload_proto_ok(&c->orig)) {
        counter_inc(&n_declined_proto);
        counter_inc(&n_declined);
        return false;
    }
    if (c->helper || c->related) {
        /* The helper must see every packet (an FTP control connection's
         * PORT commands); a related connection's NAT may come from its
         * parent's helper. */
        counter_inc(&n_declined_helper);
        counter_inc(&n_declined);
        return false;
    }
    if (atomic_count_get(&pending) >= CT_OFFLOAD_MAX_PENDING) {
        counter_inc(&n_declined_busy);
        counter_inc(&n_declined);
        return false;
    }
    w = xzalloc(sizeof *w);
    w->type = CT_WORK_ADD;
    w->handle = c->handle;
    conn_to_spec(c, &w->spec);
    work_queue(w);
    return true;
}

static void
hook_conn_update(const struct conntrack_offload_conn *c)
{
    struct ct_work *w = xzalloc(sizeof *w);

    w->type = CT_WORK_UPDATE;
    w->handle = c->handle;
    conn_to_spec(c, &w->spec);
    work_queue(w);
}

static void
hook_conn_del(const void *handle)
{
    struct ct_work *w = xzalloc(sizeof *w);

    w->type = CT_WORK_DEL;
    w->handle = handle;
    work_queue(w);
}

static void
hook_flush(const uint16_t *zone)
{
    struct ct_work *w = xzalloc(sizeof *w);

    w->type = CT_WORK_FLUSH;
    w->all_zones = !zone;
    w->spec.zone = zone ? *zone : 0;
    work_queue(w);
}

static struct ct_conn *
conn_find(const void *handle)
{
    struct ct_conn *c;

    CMAP_FOR_EACH_WITH_HASH (c, node, handle_hash(handle), &conns) {
        if (c->handle == handle) {
            return c;
        }
    }
    return NULL;
}

/* The devices' last packet of connection 'handle', in time_msec()'s
 * clock.  Called by conntrack's sweeper: no lock, no wait.
 *
 * A use the devices report for the first time is converted from their
 * clock (esw_time_msec()) to OVS's; a use already reported keeps the time
 * it was reported with.  The two clocks run at the same pace, except
 * when OVS's is warped (tests: time/warp), where a conversion alone would
 * make a packet of long ago look recent at every later question. */
static bool
hook_conn_last_used(const void *handle, long long int *last_used)
{
    long long int reported = 0;
    uint64_t used = 0, seen;
    struct ct_conn *c;

    esw_rcu_read_lock();
    c = conn_find(handle);
    if (c) {
        for (size_t i = 0; i < CT_OFFLOAD_MAX_DEVS; i++) {
            struct esw_ct *ct = conn_ct(c, i);
            struct esw_ct_stats st;

            if (ct && !esw_ct_get_stats(c->devs[i], ct, &st)) {
                used = MAX(used, st.used_ms);
            }
        }
        atomic_read_relaxed(&c->seen_used, &seen);
        if (used > seen) {
            uint64_t now = esw_time_msec();

            reported = time_msec() - (long long int) (now - MIN(used, now));
            atomic_store_relaxed(&c->seen_used, used);
            atomic_store_relaxed(&c->reported, reported);
        } else {
            atomic_read_relaxed(&c->reported, &reported);
        }
    }
    esw_rcu_read_unlock();
    if (!reported) {
        return false;
    }
    *last_used = reported;
    counter_inc(&n_kept_alive);
    return true;
}

static const struct conntrack_offload_hooks hooks = {
    .conn_add = hook_conn_add,
    .conn_update = hook_conn_update,
    .conn_del = hook_conn_del,
    .flush = hook_flush,
    .conn_last_used = hook_conn_last_used,
};

/* The worker. */

static void
conn_free_cb(struct ct_conn *c)
{
    free(c);
}

/* Adds 'c' to 'dev', in slot 'c->n_devs', with a reference of its own
 * to 'dev'.  Returns false if 'dev' refused it. */
static bool
conn_slot_add(struct ct_conn *c, struct esw_dev *dev)
{
    struct esw_error err;
    struct esw_ct *ct;
    int error;

    if (c->n_devs >= CT_OFFLOAD_MAX_DEVS || !esw_ct_capacity(dev)) {
        return false;
    }
    error = esw_ct_add(dev, &c->spec, &err, &ct);
    if (error) {
        static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 5);

        /* The connection stays in software on this device (its packets
         * miss at the ct action): expected when the table is full,
         * counted for eswitch/offload-stats. */
        counter_inc(&n_add_failed);
        if (error == ENOSPC) {
            counter_inc(&n_add_full);
        }
        VLOG_DBG_RL(&rl, "%s: connection not offloaded: %s",
                    esw_dev_name(dev), err.reason);
        return false;
    }
    counter_inc(&n_added);
    c->devs[c->n_devs] = esw_dev_lookup(esw_dev_name(dev));
    ovs_assert(c->devs[c->n_devs] == dev);
    atomic_store(&c->cts[c->n_devs], ct);
    c->n_devs++;
    if (!c->n_live++) {
        atomic_count_inc(&held);
    }
    return true;
}

/* Takes 'c' out of the device of slot 'i', if it is there. */
static void
conn_slot_drop(struct ct_conn *c, size_t i)
{
    struct esw_ct *ct = conn_ct(c, i);

    if (ct) {
        atomic_store(&c->cts[i], NULL);
        esw_ct_del(c->devs[i], ct);
        esw_dev_close(c->devs[i]);
        counter_inc(&n_removed);
        if (!--c->n_live) {
            atomic_count_dec(&held);
        }
    }
}

/* Stores in 'devs' the eSwitches' devices, each referenced, and returns
 * how many. */
static size_t
devs_snapshot(struct esw_dev *devs[CT_OFFLOAD_MAX_DEVS])
{
    size_t n = 0;

    ovs_mutex_lock(&devs_mutex);
    for (size_t i = 0; i < n_esw_devs; i++) {
        devs[n] = esw_dev_lookup(esw_dev_name(esw_devs[i]));
        ovs_assert(devs[n] == esw_devs[i]);
        n++;
    }
    ovs_mutex_unlock(&devs_mutex);
    return n;
}

/* Removes 'c' from the devices and from 'conns'. */
static void
conn_remove(struct ct_conn *c)
{
    cmap_remove(&conns, &c->node, handle_hash(c->handle));
    for (size_t i = 0; i < c->n_devs; i++) {
        conn_slot_drop(c, i);
    }
    ovsrcu_postpone(conn_free_cb, c);
}

static void
work_add(const struct ct_work *w)
{
    struct esw_dev *devs[CT_OFFLOAD_MAX_DEVS];
    struct ct_conn *c = conn_find(w->handle);
    size_t n;

    if (c) {
        /* A handle is not reused before its del: a stale entry. */
        conn_remove(c);
    }
    c = xzalloc(sizeof *c);
    c->handle = w->handle;
    c->zone = w->spec.zone;
    c->spec = w->spec;
    n = devs_snapshot(devs);
    for (size_t i = 0; i < n; i++) {
        conn_slot_add(c, devs[i]);
        esw_dev_close(devs[i]);
    }
    /* Held even if no device took it: OVS's conntrack counts it as taken
     * (it is not offered again), and an eSwitch created later gets it. */
    cmap_insert(&conns, &c->node, handle_hash(c->handle));
}

/* Eswitch device 'dev' is new: gives it the connections held. */
static void
work_dev_added(struct esw_dev *dev)
{
    struct ct_conn *c;

    CMAP_FOR_EACH (c, node, &conns) {
        bool has = false;

        for (size_t i = 0; i < c->n_devs; i++) {
            has |= c->devs[i] == dev && conn_ct(c, i);
        }
        if (!has) {
            conn_slot_add(c, dev);
        }
    }
}

/* Eswitch device 'dev' was removed: takes its entries out (releasing the
 * references that kept it). */
static void
work_dev_gone(struct esw_dev *dev)
{
    struct ct_conn *c;

    CMAP_FOR_EACH (c, node, &conns) {
        for (size_t i = 0; i < c->n_devs; i++) {
            if (c->devs[i] == dev) {
                conn_slot_drop(c, i);
            }
        }
    }
}

static void
work_update(const struct ct_work *w)
{
    struct ct_conn *c = conn_find(w->handle);

    if (c) {
        c->spec.mark = w->spec.mark;
        memcpy(c->spec.label, w->spec.label, sizeof c->spec.label);
        for (size_t i = 0; i < c->n_devs; i++) {
            struct esw_ct *ct = conn_ct(c, i);

            if (ct) {
                esw_ct_modify(c->devs[i], ct, w->spec.mark, w->spec.label);
            }
        }
        counter_inc(&n_updated);
    }
}

static void
work_flush(bool all, uint16_t zone)
{
    struct ct_conn *c;

    CMAP_FOR_EACH (c, node, &conns) {
        if (all || c->zone == zone) {
            conn_remove(c);
        }
    }
}

static void
work_run(struct ct_work *w)
{
    switch (w->type) {
    case CT_WORK_ADD:
        if (ct_offload_enabled()) {
            work_add(w);
        }
        break;
    case CT_WORK_UPDATE:
        work_update(w);
        break;
    case CT_WORK_DEL: {
        struct ct_conn *c = conn_find(w->handle);

        if (c) {
            conn_remove(c);
        }
        break;
    }
    case CT_WORK_FLUSH:
        counter_inc(&n_flushes);
        work_flush(w->all_zones, w->spec.zone);
        break;
    case CT_WORK_FORGET:
        work_flush(true, 0);
        break;
    case CT_WORK_DEV_ADDED:
        if (ct_offload_enabled()) {
            work_dev_added(w->dev);
        }
        esw_dev_close(w->dev);
        break;
    case CT_WORK_DEV_GONE:
        work_dev_gone(w->dev);
        esw_dev_close(w->dev);
        break;
    }
}

static void *
worker_main(void *arg OVS_UNUSED)
{
    for (;;) {
        struct mpsc_queue_node *node;

        latch_poll(&wake);
        mpsc_queue_acquire(&queue);
        while ((node = mpsc_queue_pop(&queue))) {
            struct ct_work *w = CONTAINER_OF(node, struct ct_work, node);

            work_run(w);
            free(w);
            atomic_count_dec(&pending);
        }
        mpsc_queue_release(&queue);
        latch_wait(&wake);
        /* An item whose producer has not finished linking it is seen on
         * the next poll. */
        if (atomic_count_get(&pending)) {
            poll_timer_wait(1);
        }
        poll_block();
    }
    return NULL;
}

static void
worker_start(void)
{
    static struct ovsthread_once once = OVSTHREAD_ONCE_INITIALIZER;

    if (ovsthread_once_start(&once)) {
        latch_init(&wake);
        ovs_thread_create("ct_offload", worker_main, NULL);
        ovs_mutex_lock(&devs_mutex);
        worker_running = true;
        ovs_mutex_unlock(&devs_mutex);
        ovsthread_once_done(&once);
    }
}

/* True if an eSwitch has a connection table. */
static bool
any_ct_device(void)
{
    char names[CT_OFFLOAD_MAX_DEVS][ESW_NAME_MAX];
    size_t n = MIN(esw_dev_list(names, CT_OFFLOAD_MAX_DEVS),
                   CT_OFFLOAD_MAX_DEVS);

    for (size_t i = 0; i < n; i++) {
        struct esw_dev *dev = esw_dev_lookup(names[i]);
        bool has = dev && esw_ct_capacity(dev);

        esw_dev_close(dev);
        if (has) {
            return true;
        }
    }
    return false;
}

void
ct_offload_set_ovs_config(const struct smap *other_config)
{
    bool hw = smap_get_bool(other_config, "hw-offload", false);
    bool want, on;

    /* On with the first eSwitch with a table; then on while hw-offload
     * stays on, so that the connections held survive their eSwitches
     * being removed and go to those created later (OVS's conntrack
     * offers a connection once: off, the provider would forget them). */
    atomic_read_relaxed(&enabled, &on);
    want = hw && (on || (eswitch_count() > 0 && any_ct_device()));
    atomic_store_relaxed(&no_tables, (hw && !eswitch_get_max_conns()
                                      && eswitch_count() > 0
                                      && !any_ct_device()));
    if (want == on) {
        return;
    }
    if (want) {
        worker_start();
        atomic_store(&enabled, true);
        conntrack_offload_set_hooks(&hooks);
        VLOG_INFO("connection offload on: established connections go to "
                  "the eSwitches' connection tables");
    } else {
        struct ct_work *w = xzalloc(sizeof *w);

        conntrack_offload_set_hooks(NULL);
        atomic_store(&enabled, false);
        w->type = CT_WORK_FORGET;
        work_queue(w);
        VLOG_INFO("connection offload off");
    }
}

bool
ct_offload_enabled(void)
{
    bool on;

    atomic_read_relaxed(&enabled, &on);
    return on;
}

void
ct_offload_get_stats(struct ct_offload_stats *s)
{
    memset(s, 0, sizeof *s);
    s->offered = counter_get(&n_offered);
    s->declined = counter_get(&n_declined);
    s->declined_proto = counter_get(&n_declined_proto);
    s->declined_helper = counter_get(&n_declined_helper);
    s->declined_busy = counter_get(&n_declined_busy);
    s->added = counter_get(&n_added);
    s->add_failed = counter_get(&n_add_failed);
    s->add_full = counter_get(&n_add_full);
    s->removed = counter_get(&n_removed);
    s->updated = counter_get(&n_updated);
    s->flushes = counter_get(&n_flushes);
    s->kept_alive = counter_get(&n_kept_alive);
    s->connections = atomic_count_get(&held);
    s->pending = atomic_count_get(&pending);
}

bool
ct_offload_no_tables(void)
{
    bool v;

    atomic_read_relaxed(&no_tables, &v);
    return v;
}

void
ct_offload_dev_added(struct esw_dev *dev)
{
    ovs_mutex_lock(&devs_mutex);
    if (n_esw_devs < CT_OFFLOAD_MAX_DEVS) {
        esw_devs[n_esw_devs++] = esw_dev_lookup(esw_dev_name(dev));
        if (worker_running) {
            struct ct_work *w = xzalloc(sizeof *w);

            w->type = CT_WORK_DEV_ADDED;
            w->dev = esw_dev_lookup(esw_dev_name(dev));
            work_queue(w);
        }
    }
    ovs_mutex_unlock(&devs_mutex);
}

void
ct_offload_dev_removed(struct esw_dev *dev)
{
    ovs_mutex_lock(&devs_mutex);
    for (size_t i = 0; i < n_esw_devs; i++) {
        if (esw_devs[i] == dev) {
            esw_devs[i] = esw_devs[--n_esw_devs];
            if (worker_running) {
                /* The worker releases the list's reference. */
                struct ct_work *w = xzalloc(sizeof *w);

                w->type = CT_WORK_DEV_GONE;
                w->dev = dev;
                work_queue(w);
            } else {
                esw_dev_close(dev);
            }
            break;
        }
    }
    ovs_mutex_unlock(&devs_mutex);
}
