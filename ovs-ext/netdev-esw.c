/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Netdev classes for the functions of an eSwitch: "esw-uplink" (the wire
 * port and eSwitch manager), "esw-pf" (host PF), "esw-vf" (SR-IOV VF) and
 * "esw-virtio" (virtio-net device on an SF).
 *
 * Each netdev is the representor of one function, with switchdev
 * semantics: what it receives are the packets that the function sent and
 * that missed the eSwitch's rules (OVS's software path); what OVS sends on
 * it goes to the function, through the function's egress policy.
 *
 * By default the ports are not PMD ports: OVS's main thread polls them and
 * sleeps on the representor queues' eventfds, so an idle bridge costs no
 * CPU.  With other_config:eswitch-pmd=true they are PMD ports,
 * with one rx queue per representor queue of the function, polled by
 * OVS's PMD threads (which spin unless pmd-maxsleep lets them sleep).
 *
 * Threading: set_config, destruct and the status/stat callbacks run in the
 * main thread; rxq_recv, rxq_wait and send may run in any datapath thread.
 * These read the function's binding through RCU. */

#include <config.h>

#include "netdev-esw.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>

#include "dp-packet.h"
#include "dpif-netdev.h"
#include "flow.h"
#include "netdev-provider.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "packets.h"
#include "seq.h"
#include "openvswitch/shash.h"
#include "smap.h"
#include "timeval.h"
#include "util.h"

#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#include "eswitch.h"
#include "port-policy.h"
#include "values.h"

VLOG_DEFINE_THIS_MODULE(netdev_esw);

/* What a configured netdev is the representor of.  Immutable; replaced
 * through RCU.  Holds a reference to the device. */
struct esw_binding {
    struct esw_dev *dev;
    uint32_t vport;
    struct ovs_list released_node;  /* In 'released' once replaced. */
    uint64_t released_seq;          /* 'n_released' when it was. */
};

/* Bindings replaced or cleared whose device reference is not dropped yet.
 * The last reference to a device closes it: its functions and host sides
 * go (an uplink's wire socket file with them), and the eSwitch's name is
 * free for a new device.  An RCU callback alone would drop it at some
 * moment after OVS has reported the port's removal (cur_cfg), and an
 * uplink added meanwhile would find the old device and adopt it, with its
 * old host sides.  So netdev_esw_flush_released() drops these references
 * once a grace period has passed, before a configuration counts as
 * applied and before a port is configured; the RCU callback then only
 * frees the memory (and drops the reference itself if no flush did). */
static struct ovs_mutex released_mutex = OVS_MUTEX_INITIALIZER;
static struct ovs_list released OVS_GUARDED_BY(released_mutex)
    = OVS_LIST_INITIALIZER(&released);
static uint64_t n_released OVS_GUARDED_BY(released_mutex);

struct netdev_esw {
    struct netdev up;

    /* Main thread only. */
    struct eswitch *esw;        /* NULL until set_config succeeds. */
    uint32_t vport;
    struct smap options;        /* Last accepted options, for get_config. */
    bool hold_on_destruct;      /* The last set_config failed: OVS takes
                                 * the port out of the bridge, and the
                                 * function keeps its policy for the port's
                                 * return (port_policy_hold()). */
    char *refusal;              /* Why it failed, for the log; or NULL. */
    int requested_n_rxq;        /* The function's representor queues. */

    /* Any thread. */
    atomic_bool carrier;        /* As OVS last read it (get_carrier). */
    OVSRCU_TYPE(struct esw_binding *) binding;
    atomic_uint64_t tx_unbound;     /* Sent while not bound: dropped. */

    struct ovs_mutex mutex;
    enum netdev_flags flags OVS_GUARDED;
};

struct netdev_rxq_esw {
    struct netdev_rxq up;
};

/* Netdevs of the classes below that exist (constructed, not destructed). */
static struct atomic_count n_netdevs = ATOMIC_COUNT_INIT(0);

static bool
is_esw_class(const struct netdev_class *class)
{
    return class->construct == netdev_esw_construct;
}

static struct netdev_esw *
netdev_esw_cast(const struct netdev *netdev)
{
    ovs_assert(is_esw_class(netdev_get_class(netdev)));
    return CONTAINER_OF(netdev, struct netdev_esw, up);
}

bool
netdev_is_esw(const struct netdev *netdev)
{
    return is_esw_class(netdev_get_class(netdev));
}

static enum esw_vport_kind
netdev_esw_kind(const struct netdev *netdev)
{
    const char *type = netdev_get_type(netdev);

    return (!strcmp(type, "esw-uplink") ? ESW_VPORT_UPLINK
            : !strcmp(type, "esw-pf") ? ESW_VPORT_PF
            : !strcmp(type, "esw-vf") ? ESW_VPORT_VF
            : ESW_VPORT_SF);
}

bool
netdev_esw_get_function(const struct netdev *netdev, struct esw_dev **devp,
                        uint32_t *vportp)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);
    struct esw_binding *b = ovsrcu_get(struct esw_binding *, &dev->binding);

    if (!b) {
        return false;
    }
    *devp = b->dev;
    *vportp = b->vport;
    return true;
}

/* Life cycle. */

static struct netdev *
netdev_esw_alloc(void)
{
    struct netdev_esw *dev = xzalloc(sizeof *dev);
    return &dev->up;
}

int
netdev_esw_construct(struct netdev *netdev)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);

    atomic_count_inc(&n_netdevs);
    ovs_mutex_init(&dev->mutex);
    smap_init(&dev->options);
    dev->requested_n_rxq = 1;
    ovsrcu_set_hidden(&dev->binding, NULL);
    atomic_init(&dev->tx_unbound, 0);
    ovs_mutex_lock(&dev->mutex);
    dev->flags = NETDEV_UP;
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

/* RCU callback of a replaced binding. */
static void
binding_free(struct esw_binding *b)
{
    struct esw_dev *dev;

    ovs_mutex_lock(&released_mutex);
    dev = b->dev;
    if (dev) {
        ovs_list_remove(&b->released_node);
    }
    ovs_mutex_unlock(&released_mutex);
    esw_dev_close(dev);
    free(b);
}

void
netdev_esw_flush_released(void)
{
    struct esw_binding *b;
    struct esw_dev **devs;
    size_t n = 0, max;
    uint64_t target;

    ovs_mutex_lock(&released_mutex);
    target = n_released;
    max = ovs_list_size(&released);
    ovs_mutex_unlock(&released_mutex);
    if (!max) {
        return;
    }

    /* Every binding released up to 'target' is read by no thread once a
     * grace period has passed.  Those released meanwhile wait for the next
     * flush (or their RCU callback). */
    ovsrcu_synchronize();
    devs = xmalloc(max * sizeof *devs);
    ovs_mutex_lock(&released_mutex);
    LIST_FOR_EACH_SAFE (b, released_node, &released) {
        if (b->released_seq <= target && n < max) {
            ovs_list_remove(&b->released_node);
            devs[n++] = b->dev;
            b->dev = NULL;      /* binding_free() only frees it. */
        }
    }
    ovs_mutex_unlock(&released_mutex);
    for (size_t i = 0; i < n; i++) {
        esw_dev_close(devs[i]);
    }
    free(devs);
}

/* Publishes the binding to ('esw', 'vport'), or none if 'esw' is NULL, and
 * frees the previous one after a grace period. */
static void
set_binding(struct netdev_esw *dev, struct eswitch *esw, uint32_t vport)
{
    struct esw_binding *old = ovsrcu_get_protected(struct esw_binding *,
                                                   &dev->binding);
    struct esw_binding *new = NULL;

    if (esw) {
        new = xmalloc(sizeof *new);
        new->dev = esw_dev_lookup(esw_dev_name(eswitch_dev(esw)));
        new->vport = vport;
        ovs_assert(new->dev);
    }
    ovsrcu_set(&dev->binding, new);
    if (old) {
        ovs_mutex_lock(&released_mutex);
        old->released_seq = ++n_released;
        ovs_list_push_back(&released, &old->released_node);
        ovs_mutex_unlock(&released_mutex);
        ovsrcu_postpone(binding_free, old);
    }
    netdev_change_seq_changed(&dev->up);
}

static void
release_function(struct netdev_esw *dev)
{
    const char *name = netdev_get_name(&dev->up);

    if (!dev->esw) {
        return;
    }
    set_binding(dev, NULL, 0);
    if (netdev_esw_kind(&dev->up) == ESW_VPORT_UPLINK) {
        eswitch_unmanage(dev->esw);
    } else if (dev->hold_on_destruct) {
        /* Takes the claim. */
        port_policy_hold(name, dev->esw, dev->vport, dev->refusal);
    } else {
        port_policy_unbind(name, dev->esw, dev->vport);
        eswitch_release(dev->esw, dev->vport);
    }
    dev->esw = NULL;
}

static void
netdev_esw_destruct(struct netdev *netdev)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);

    release_function(dev);
    free(dev->refusal);
    smap_destroy(&dev->options);
    ovs_mutex_destroy(&dev->mutex);
    atomic_count_dec(&n_netdevs);
}

static void
netdev_esw_dealloc(struct netdev *netdev)
{
    free(netdev_esw_cast(netdev));
}

/* Configuration. */

/* One rx queue per representor queue of the function: asks OVS to
 * reconfigure the port when that number changed. */
static void
update_n_rxq(struct netdev_esw *dev)
{
    struct esw_vport_info info;
    int n = 1;

    if (dev->esw && !esw_vport_get_info(eswitch_dev(dev->esw), dev->vport,
                                        &info)) {
        n = info.n_rep_queues;
    }
    if (n != dev->requested_n_rxq) {
        dev->requested_n_rxq = n;
        if (n != netdev_n_rxq(&dev->up)) {
            netdev_request_reconfigure(&dev->up);
        }
    }
}

static int
netdev_esw_reconfigure(struct netdev *netdev)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);

    netdev->n_rxq = dev->requested_n_rxq;
    netdev_change_seq_changed(netdev);
    return 0;
}

static int
netdev_esw_get_config(const struct netdev *netdev, struct smap *args)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);

    smap_clone(args, &dev->options);
    return 0;
}

static int
netdev_esw_set_config(struct netdev *netdev, const struct smap *args,
                      char **errp)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);
    enum esw_vport_kind kind = netdev_esw_kind(netdev);
    const char *name = netdev_get_name(netdev);
    struct esw_policy_config policy;
    bool has_policy = false;
    struct eswitch *esw;
    bool fresh = false;
    uint32_t vport;
    int error;

    /* A port removed earlier in this configuration may have left its
     * device open (its eSwitch gone): closed before anything opens it. */
    netdev_esw_flush_released();
    if (kind == ESW_VPORT_UPLINK) {
        error = eswitch_manage(name, args, &esw, &vport, errp);
    } else {
        char esw_name[ESW_NAME_MAX];
        struct eswitch_fn_id id;

        /* The whole configuration is checked before anything changes. */
        error = eswitch_resolve_port(name, kind, args, esw_name, &id, errp);
        if (!error) {
            error = port_policy_parse(args, &policy, &has_policy, errp);
        }
        if (!error) {
            error = eswitch_claim(esw_name, &id, name, &esw, &vport, &fresh,
                                  errp);
        }
        if (!error) {
            error = port_policy_apply(esw, vport,
                                      has_policy ? &policy : NULL, errp);
            if (error && fresh) {
                eswitch_release(esw, vport);
            }
        }
    }
    if (error) {
        /* Whatever this port had before stays as it was, also once OVS
         * takes the port out of the bridge for this error. */
        dev->hold_on_destruct = dev->esw && kind != ESW_VPORT_UPLINK;
        free(dev->refusal);
        dev->refusal = errp && *errp ? xstrdup(*errp) : NULL;
        return error;
    }
    dev->hold_on_destruct = false;
    free(dev->refusal);
    dev->refusal = NULL;

    if (kind != ESW_VPORT_UPLINK) {
        port_policy_bind(name, esw, vport, has_policy ? &policy : NULL);
    }
    if (esw != dev->esw || vport != dev->vport) {
        /* An uplink always comes back to its own eSwitch, so only
         * representors get here with an earlier claim to give up. */
        if (dev->esw) {
            port_policy_unbind(name, dev->esw, dev->vport);
            eswitch_release(dev->esw, dev->vport);
        }
        dev->esw = esw;
        dev->vport = vport;
        set_binding(dev, esw, vport);
        VLOG_DBG("%s: representor of %s vport %"PRIu32, name,
                 eswitch_name(esw), vport);
    }
    update_n_rxq(dev);
    smap_destroy(&dev->options);
    smap_clone(&dev->options, args);
    return 0;
}

/* Data path. */

static struct netdev_rxq *
netdev_esw_rxq_alloc(void)
{
    struct netdev_rxq_esw *rx = xzalloc(sizeof *rx);
    return &rx->up;
}

static int
netdev_esw_rxq_construct(struct netdev_rxq *rxq OVS_UNUSED)
{
    return 0;
}

static void
netdev_esw_rxq_destruct(struct netdev_rxq *rxq OVS_UNUSED)
{
}

static void
netdev_esw_rxq_dealloc(struct netdev_rxq *rxq)
{
    free(CONTAINER_OF(rxq, struct netdev_rxq_esw, up));
}

static int
netdev_esw_rxq_recv(struct netdev_rxq *rxq, struct dp_packet_batch *batch,
                    int *qfill)
{
    struct netdev_esw *dev = netdev_esw_cast(rxq->netdev);
    struct esw_binding *b = ovsrcu_get(struct esw_binding *, &dev->binding);
    struct esw_pkt *pkts[NETDEV_MAX_BURST];
    size_t n;

    if (qfill) {
        *qfill = -ENOTSUP;
    }
    if (!b) {
        return EAGAIN;
    }
    n = esw_rep_recv(b->dev, b->vport, rxq->queue_id, pkts,
                     NETDEV_MAX_BURST);
    if (!n) {
        return EAGAIN;
    }

    /* Every frame gets its RSS hash, as a NIC's receive descriptor gives
     * one, and the very hash dpif-netdev would compute (esw_hash_rss()):
     * OVS 3.1 computes none for a packet its "simple match" table
     * classifies, yet tnl_push takes the UDP source port from it and the
     * hash action (dp_hash) uses it, so without one such packets would get
     * whatever the buffer held, and the device, which computes the hash,
     * different bytes.  Elsewhere OVS finds the hash it would compute. */
    int max_vlans = MIN(MAX(flow_vlan_limit, 1), ESW_MAX_VLANS);

    dp_packet_batch_init(batch);
    for (size_t i = 0; i < n; i++) {
        struct dp_packet *packet;

        packet = dp_packet_new_with_headroom(pkts[i]->len,
                                             DP_NETDEV_HEADROOM);
        dp_packet_put(packet, pkts[i]->data, pkts[i]->len);
        dp_packet_set_rss_hash(packet, esw_hash_rss(pkts[i]->data,
                                                    pkts[i]->len,
                                                    max_vlans));
        esw_pkt_free(pkts[i]);
        dp_packet_batch_add(batch, packet);
    }
    return 0;
}

static void
netdev_esw_rxq_wait(struct netdev_rxq *rxq)
{
    struct netdev_esw *dev = netdev_esw_cast(rxq->netdev);
    struct esw_binding *b = ovsrcu_get(struct esw_binding *, &dev->binding);
    int fd = b ? esw_rep_get_fd(b->dev, b->vport, rxq->queue_id) : -1;

    if (fd >= 0) {
        poll_fd_wait(fd, POLLIN);
    }
}

static int
netdev_esw_send(struct netdev *netdev, int qid OVS_UNUSED,
                struct dp_packet_batch *batch,
                bool concurrent_txq OVS_UNUSED)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);
    struct esw_binding *b = ovsrcu_get(struct esw_binding *, &dev->binding);
    struct dp_packet *packet;

    DP_PACKET_BATCH_FOR_EACH (i, packet, batch) {
        struct esw_pkt *pkt = NULL;

        if (b) {
            pkt = esw_pkt_from_data(dp_packet_data(packet),
                                    dp_packet_size(packet));
        }
        if (pkt) {
            esw_rep_send(b->dev, b->vport, pkt);
        } else {
            uint64_t orig;

            atomic_add_relaxed(&dev->tx_unbound, 1, &orig);
        }
    }
    dp_packet_delete_batch(batch, true);
    return 0;
}

/* Properties, status and statistics. */

/* Reads the function's info.  Returns false if the netdev is not bound. */
static bool
get_info(const struct netdev *netdev, struct esw_dev **devp,
         struct esw_vport_info *info)
{
    uint32_t vport;

    return (netdev_esw_get_function(netdev, devp, &vport)
            && !esw_vport_get_info(*devp, vport, info));
}

static int
netdev_esw_get_etheraddr(const struct netdev *netdev, struct eth_addr *mac)
{
    struct esw_vport_info info;
    struct esw_dev *esw_dev;

    if (!get_info(netdev, &esw_dev, &info)) {
        return ENODEV;
    }
    memcpy(mac->ea, info.effective_mac.ea, ETH_ADDR_LEN);
    return 0;
}

static int
netdev_esw_get_mtu(const struct netdev *netdev, int *mtup)
{
    struct esw_vport_info info;
    struct esw_dev *esw_dev;

    if (!get_info(netdev, &esw_dev, &info)) {
        return ENODEV;
    }
    *mtup = info.mtu;
    return 0;
}

static int
netdev_esw_set_mtu(struct netdev *netdev, int mtu)
{
    struct esw_dev *esw_dev;
    uint32_t vport;
    int error;

    if (!netdev_esw_get_function(netdev, &esw_dev, &vport)) {
        return ENODEV;
    }
    if (mtu < 68 || mtu > 9198) {
        return EINVAL;
    }
    error = esw_vport_set_mtu(esw_dev, vport, mtu);
    if (!error) {
        netdev_change_seq_changed(netdev);
    }
    return error;
}

static bool
carrier_now(const struct netdev *netdev)
{
    struct esw_vport_info info;
    struct esw_dev *esw_dev;

    return get_info(netdev, &esw_dev, &info) && info.oper_up;
}

/* Remembers what OVS read, so that refresh_carriers() tells OVS of any
 * change since (a link that goes down just after the port came up, e.g.
 * a remote device's reset, included). */
static int
netdev_esw_get_carrier(const struct netdev *netdev, bool *carrier)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);

    *carrier = carrier_now(netdev);
    atomic_store_relaxed(&dev->carrier, *carrier);
    return 0;
}

static int
netdev_esw_update_flags(struct netdev *netdev, enum netdev_flags off,
                        enum netdev_flags on, enum netdev_flags *old_flagsp)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);
    enum netdev_flags new;

    if ((off | on) & ~(NETDEV_UP | NETDEV_PROMISC)) {
        return EINVAL;
    }
    ovs_mutex_lock(&dev->mutex);
    *old_flagsp = dev->flags;
    new = (dev->flags | on) & ~off;
    if (new != dev->flags) {
        dev->flags = new;
        netdev_change_seq_changed(netdev);
    }
    ovs_mutex_unlock(&dev->mutex);
    return 0;
}

static uint64_t
sum_drops(const struct esw_vport_stats *s, bool to_function)
{
    uint64_t sum = 0;

    for (int i = 0; i < ESW_N_DROP_REASONS; i++) {
        bool egress = i == ESW_DROP_HOST_TX || i == ESW_DROP_NOT_FOR_ME;

        if (egress == to_function) {
            sum += s->drops[i];
        }
    }
    return sum;
}

static int
netdev_esw_get_stats(const struct netdev *netdev, struct netdev_stats *stats)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);
    struct esw_vport_stats s;
    struct esw_dev *esw_dev;
    uint64_t unbound;
    uint32_t vport;

    memset(stats, 0xff, sizeof *stats);
    atomic_read_relaxed(&dev->tx_unbound, &unbound);
    if (!netdev_esw_get_function(netdev, &esw_dev, &vport)
        || esw_vport_get_stats(esw_dev, vport, &s)) {
        memset(&s, 0, sizeof s);
    }

    /* Like a switchdev representor: the function's traffic, including
     * what the eSwitch forwarded without OVS.  What the function sent is
     * received by the port, and the other way round. */
    stats->rx_packets = s.rx_packets;
    stats->rx_bytes = s.rx_bytes;
    stats->tx_packets = s.tx_packets;
    stats->tx_bytes = s.tx_bytes;
    stats->rx_dropped = sum_drops(&s, false);
    stats->tx_dropped = sum_drops(&s, true) + unbound;
    stats->rx_errors = s.drops[ESW_DROP_MALFORMED];
    stats->tx_errors = 0;
    return 0;
}

static int
netdev_esw_get_custom_stats(const struct netdev *netdev,
                            struct netdev_custom_stats *custom)
{
    struct esw_vport_stats s;
    struct esw_dev *esw_dev;
    uint32_t vport;
    size_t n = 0;

    if (!netdev_esw_get_function(netdev, &esw_dev, &vport)
        || esw_vport_get_stats(esw_dev, vport, &s)) {
        memset(&s, 0, sizeof s);
    }

    custom->counters = xcalloc(ESW_N_DROP_REASONS + 3,
                               sizeof *custom->counters);
#define ADD_COUNTER(NAME, VALUE)                                          \
    do {                                                                  \
        snprintf(custom->counters[n].name, NETDEV_CUSTOM_STATS_NAME_SIZE, \
                 "%s", NAME);                                             \
        custom->counters[n++].value = VALUE;                              \
    } while (0)
    ADD_COUNTER("miss_to_representor", s.rep_rx_packets);
    ADD_COUNTER("sent_by_representor", s.rep_tx_packets);
    ADD_COUNTER("guest_mac_change_refused", s.guest_mac_refused);
    for (int i = 0; i < ESW_N_DROP_REASONS; i++) {
        char name[NETDEV_CUSTOM_STATS_NAME_SIZE];

        snprintf(name, sizeof name, "drop_%s", esw_drop_reason_name(i));
        for (char *p = name; *p; p++) {
            *p = *p == '-' ? '_' : *p;    /* OVS style: drop_host_tx. */
        }
        ADD_COUNTER(name, s.drops[i]);
    }
#undef ADD_COUNTER
    custom->size = n;
    return 0;
}

static int
netdev_esw_get_status(const struct netdev *netdev, struct smap *smap)
{
    struct netdev_esw *dev = netdev_esw_cast(netdev);
    struct esw_host_info host;
    struct esw_vport_info info;
    struct esw_dev *esw_dev;

    if (!dev->esw || !get_info(netdev, &esw_dev, &info)) {
        return 0;
    }
    smap_add(smap, "eswitch", eswitch_name(dev->esw));
    smap_add(smap, "driver", esw_dev_driver_name(esw_dev));
    smap_add(smap, "function", info.name);
    smap_add(smap, "function_kind",
             eswitch_kind_to_string(info.kind, info.fn));
    smap_add_format(smap, "vport", "%"PRIu32, info.vport);
    esw_vport_get_host(esw_dev, info.vport, &host);
    if (host.ifname[0] || host.type == ESW_IO_WIRE) {
        smap_add_format(smap, "host_side", "%s %s",
                        esw_io_type_name(host.type),
                        host.ifname[0] ? host.ifname : host.path);
    } else {
        smap_add(smap, "host_side", esw_io_type_name(host.type));
    }
    smap_add_format(smap, "mac", ETH_ADDR_FMT, ESW_MAC_ARGS(&info.mac));
    smap_add_format(smap, "effective_mac", ETH_ADDR_FMT,
                    ESW_MAC_ARGS(&info.effective_mac));
    smap_add(smap, "link", info.oper_up ? "up" : "down");
    port_policy_get_status(netdev_get_name(netdev), esw_dev, info.vport,
                           smap);
    if (!eswitch_is_managed(dev->esw)) {
        smap_add_format(smap, "eswitch_state", "waiting for its uplink: "
                        "add port %s (type esw-uplink) to a bridge",
                        eswitch_uplink_name(dev->esw));
    }
    return 0;
}

static struct netdev_class netdev_esw_classes[4];

/* eswitch_link_seq() when the representors last refreshed their status,
 * and when to refresh it once more (0: no need). */
static uint64_t link_seqno;
static long long int link_recheck;

/* After a link change, the status is refreshed once more this much later.
 * OVS writes an Interface's status in a transaction of its own and skips
 * writing a value equal to the one its database cache holds; at start-up
 * a representor's first status (its uplink not there yet) may still be in
 * flight when the link changes, the cache then holds the previous
 * process's value, equal to the new one, and the transient value would
 * win.  A second refresh, once the first has settled, cannot lose. */
#define LINK_RECHECK_MSEC 500

/* A function's link (carrier) moved without its representor knowing:
 * tells OVS to read every representor's status again (link_state,
 * carrier), which it does only for netdevs whose change_seq changed. */
static void
refresh_links(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(netdev_esw_classes); i++) {
        struct shash_node *node;
        struct shash devices;

        shash_init(&devices);
        netdev_get_devices(&netdev_esw_classes[i], &devices);
        SHASH_FOR_EACH (node, &devices) {
            struct netdev *netdev = node->data;

            netdev_change_seq_changed(netdev);
            netdev_close(netdev);
        }
        shash_destroy(&devices);
    }
}

/* A function's link also changes without the eSwitch's management knowing:
 * a vhost-user guest's driver comes and goes (in DPDK's threads).  Once a
 * second, the netdevs whose carrier changed tell OVS (which then updates
 * the Interface's link_state). */
#define CARRIER_REFRESH_MS 1000
static long long int next_carrier_refresh;

static void
refresh_carriers(void)
{
    if (!atomic_count_get(&n_netdevs) || time_msec() < next_carrier_refresh) {
        return;
    }
    next_carrier_refresh = time_msec() + CARRIER_REFRESH_MS;
    for (size_t i = 0; i < ARRAY_SIZE(netdev_esw_classes); i++) {
        struct shash devices = SHASH_INITIALIZER(&devices);
        struct shash_node *node;

        netdev_get_devices(&netdev_esw_classes[i], &devices);
        SHASH_FOR_EACH (node, &devices) {
            struct netdev *netdev = node->data;
            struct netdev_esw *dev = netdev_esw_cast(netdev);
            bool carrier = carrier_now(netdev), told;

            atomic_read_relaxed(&dev->carrier, &told);
            if (carrier != told) {
                atomic_store_relaxed(&dev->carrier, carrier);
                netdev_change_seq_changed(netdev);
            }
            netdev_close(netdev);
        }
        shash_destroy(&devices);
    }
}

/* Runs the port policy's housekeeping and follows link changes once per
 * main loop iteration (the four classes share it). */
static void
netdev_esw_run(const struct netdev_class *class)
{
    if (!strcmp(class->type, "esw-vf")) {
        uint64_t seqno = seq_read(eswitch_link_seq());

        port_policy_run();
        if (seqno != link_seqno) {
            link_seqno = seqno;
            link_recheck = time_msec() + LINK_RECHECK_MSEC;
            refresh_links();
        } else if (link_recheck && time_msec() >= link_recheck) {
            link_recheck = 0;
            refresh_links();
        }
        refresh_carriers();
    }
}

static void
netdev_esw_wait(const struct netdev_class *class)
{
    if (!strcmp(class->type, "esw-vf")) {
        port_policy_wait();
        seq_wait(eswitch_link_seq(), link_seqno);
        if (link_recheck) {
            poll_timer_wait_until(link_recheck);
        }
        if (atomic_count_get(&n_netdevs)) {
            poll_timer_wait_until(next_carrier_refresh);
        }
    }
}

#define NETDEV_ESW_CLASS_COMMON                         \
    .is_pmd = false,            /* See netdev_esw_set_ovs_config(). */ \
    .run = netdev_esw_run,                              \
    .wait = netdev_esw_wait,                            \
    .alloc = netdev_esw_alloc,                          \
    .construct = netdev_esw_construct,                  \
    .destruct = netdev_esw_destruct,                    \
    .dealloc = netdev_esw_dealloc,                      \
    .get_config = netdev_esw_get_config,                \
    .set_config = netdev_esw_set_config,                \
    .reconfigure = netdev_esw_reconfigure,              \
    .send = netdev_esw_send,                            \
    .get_etheraddr = netdev_esw_get_etheraddr,          \
    .get_mtu = netdev_esw_get_mtu,                      \
    .set_mtu = netdev_esw_set_mtu,                      \
    .get_carrier = netdev_esw_get_carrier,              \
    .get_stats = netdev_esw_get_stats,                  \
    .get_custom_stats = netdev_esw_get_custom_stats,    \
    .get_status = netdev_esw_get_status,                \
    .update_flags = netdev_esw_update_flags,            \
    .rxq_alloc = netdev_esw_rxq_alloc,                  \
    .rxq_construct = netdev_esw_rxq_construct,          \
    .rxq_destruct = netdev_esw_rxq_destruct,            \
    .rxq_dealloc = netdev_esw_rxq_dealloc,              \
    .rxq_recv = netdev_esw_rxq_recv,                    \
    .rxq_wait = netdev_esw_rxq_wait

/* Not const: 'is_pmd' follows other_config:eswitch-pmd, changed only while
 * no netdev of these classes exists ('n_netdevs' is 0). */
static struct netdev_class netdev_esw_classes[4] = {
    { .type = "esw-uplink", NETDEV_ESW_CLASS_COMMON },
    { .type = "esw-pf", NETDEV_ESW_CLASS_COMMON },
    { .type = "esw-vf", NETDEV_ESW_CLASS_COMMON },
    { .type = "esw-virtio", NETDEV_ESW_CLASS_COMMON },
};

void
netdev_esw_set_ovs_config(const struct smap *other_config)
{
    static bool pending_logged;
    bool pmd = smap_get_bool(other_config, "eswitch-pmd", false);

    if (pmd == netdev_esw_classes[0].is_pmd) {
        pending_logged = false;
    } else if (!atomic_count_get(&n_netdevs)) {
        /* No netdev of these classes exists: nobody has seen 'is_pmd'. */
        for (size_t i = 0; i < ARRAY_SIZE(netdev_esw_classes); i++) {
            netdev_esw_classes[i].is_pmd = pmd;
        }
        pending_logged = false;
        VLOG_INFO("eswitch representors are %s (other_config:eswitch-pmd="
                  "%s)", pmd ? "PMD ports" : "polled by the main thread",
                  pmd ? "true" : "false");
    } else if (!pending_logged) {
        pending_logged = true;
        VLOG_INFO("other_config:eswitch-pmd=%s takes effect once no eSwitch "
                  "port exists, or when ovs-vswitchd restarts",
                  pmd ? "true" : "false");
    }
}

void
netdev_esw_register(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(netdev_esw_classes); i++) {
        netdev_register_provider(&netdev_esw_classes[i]);
    }
}
