/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* "vhost-user" host-side backend: the function is a virtio-net device
 * whose rings a VM (QEMU) or a DPDK virtio_user port shares with us over a
 * vhost-user socket, served with DPDK's rte_vhost.
 *
 * Data path
 * =========
 *
 * rx (the forwarding thread that owns the vport): rte_vhost_dequeue_burst()
 * from the guest's transmit ring of every queue pair the guest enabled,
 * into mbufs of one pool, copied into eSwitch packets.  A frame with a
 * partial checksum (VIRTIO_NET_F_CSUM) gets its L4 checksum completed, a
 * TSO superframe (HOST_TSO4/6) is cut into MSS-size segments with their
 * IP and TCP headers and checksums fixed up: whatever the destination
 * (another guest, a tap, the uplink, OVS), it receives complete frames.
 *
 * tx (any thread): frames are spread over the guest's enabled receive
 * rings by a hash of their flow (RSS; one ring: no hashing), and
 * rte_vhost_enqueue_burst() copies them into the guest's buffers.  The
 * library copies and never keeps the mbufs, so they are built on the stack
 * around the eSwitch packets' own buffers: no pool, no copy.  A ring takes
 * one sender at a time ('tx_lock', a spin lock held for one burst).
 *
 * Sleeping: the forwarding thread sleeps on this backend's epoll fd, which
 * holds a dup of the kick eventfd of each guest transmit ring and 'wake'.
 * prepare_wait() enables the guest's notifications (kicks) on those rings,
 * drains the fds, and looks at the rings once more (whatever it finds
 * waits in 'stash'); rx() disables the notifications again, so a busy
 * guest does not kick for every frame.  An idle guest costs no CPU.
 *
 * Control path
 * ============
 *
 * rte_vhost calls new_device() once the guest driver is ready (DRIVER_OK),
 * vring_state_changed() as rings are enabled and disabled, and
 * destroy_device() when the driver or the connection goes away: the
 * published 'vid' says whether there is a guest (the function's link
 * follows it), 'rx_mask' and 'tx_mask' which queue pairs are served.  These
 * callbacks run in rte_vhost's threads and find their backend by socket
 * path in 'vhosts'.  destroy_device() waits for an RCU grace period after
 * unpublishing the guest, so that no forwarding thread or sender still
 * touches its rings when rte_vhost unmaps them.  close() is called after
 * a grace period (no data-path user left); rte_vhost_driver_unregister()
 * then disconnects a guest that is still there (destroy_device() is called
 * in the caller's thread), and removes a server socket.
 *
 * Sockets: in server mode (the default) the socket is created with bind():
 * a stale socket left by a previous run is removed first, anything else
 * at the path (a file, a symbolic link, a socket some process listens on)
 * is refused, as is a directory that others may write to without the
 * sticky bit.  In client mode rte_vhost connects, and reconnects whenever
 * the server goes away. */

/* DPDK's headers need GNU extensions (cpu_set_t). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "esw-io.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_net.h>
#include <rte_pause.h>
#include <rte_tcp.h>
#include <rte_udp.h>
#include <rte_vhost.h>

#include "esw-provider.h"
#include "esw-rcu.h"

#define VHOST_BURST        32       /* Frames per dequeue or enqueue. */
#define VHOST_POOL_MBUFS   8191     /* The receive pool (2 kB each). */
#define VHOST_MAX_SEGS     128      /* Most segments of one superframe. */
#define VHOST_STASH        (VHOST_BURST * VHOST_MAX_SEGS)
#define VHOST_TX_MAX       256      /* Frames grouped by queue at once. */

/* Vhost-user's own feature bits, which the library keeps. */
#define VHOST_F_LOG_ALL_BIT             26
#define VHOST_F_PROTOCOL_FEATURES_BIT   30

struct vhost_queue {
    int kick_fd;                /* Dup of the guest transmit ring's kick fd
                                 * in 'epfd', or -1.  Under 'mutex'. */
    atomic_flag tx_lock;        /* One sender on the receive ring. */
};

struct esw_io_vhost {
    struct esw_io up;
    char path[ESW_PATH_MAX];
    bool client;
    uint64_t offered;           /* Features, as configured. */
    uint32_t n_queues;          /* Queue pairs served. */
    struct esw_io_vhost *next;  /* In 'vhosts'. */

    /* Published for the data path by the callbacks. */
    _Atomic int vid;            /* -1: no guest driver is ready. */
    _Atomic uint64_t rx_mask;   /* Queues whose transmit ring is enabled. */
    _Atomic uint64_t tx_mask;   /* Queues whose receive ring is enabled. */
    _Atomic int n_nokick;       /* Polled rings without a kick fd: the
                                 * forwarding thread must not sleep. */
    int epfd;                   /* Kick fds and 'wake_fd'. */
    int wake_fd;                /* Signalled when a guest becomes ready. */

    /* Control state. */
    pthread_mutex_t mutex;      /* Protects what follows, and the queues'
                                 * kick fds. */
    int ctl_vid;                /* The guest's vid while running, else -1. */
    uint64_t rx_enabled;        /* Enabled rings by queue, as notified. */
    uint64_t tx_enabled;
    uint64_t negotiated;
    uint32_t guest_queues;
    uint64_t connects;
    bool closing;               /* close() is under way. */

    /* Forwarding thread only. */
    int fwd_vid;                /* The guest 'notify_on' refers to. */
    bool notify_on;             /* Kicks enabled on its transmit rings. */
    uint32_t next_queue;        /* Where the next rx starts (fairness). */
    size_t stash_head, stash_tail;
    struct esw_pkt *stash[VHOST_STASH];

    struct vhost_queue q[];     /* [n_queues]. */
};

/* Every open backend, for the callbacks (which only know the vid). */
static pthread_mutex_t vhosts_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct esw_io_vhost *vhosts;

static struct rte_mempool *vhost_pool;

static struct esw_io_vhost *
esw_io_vhost_cast(struct esw_io *io)
{
    return (struct esw_io_vhost *) io;
}

static const struct esw_io_vhost *
esw_io_vhost_cast_const(const struct esw_io *io)
{
    return (const struct esw_io_vhost *) io;
}

/* Checksums and segmentation.
 * =========================== */

/* The sum of an IPv4 or IPv6 pseudo-header (RFC 793, RFC 8200) for 'proto'
 * and an L4 length 'l4_len', unreduced. */
static uint32_t
pseudo_sum(const uint8_t *l3, bool ipv6, uint8_t proto, uint32_t l4_len)
{
    uint32_t sum;

    if (ipv6) {
        sum = __rte_raw_cksum(l3 + 8, 32, 0);
        sum += htons(l4_len >> 16);
    } else {
        sum = __rte_raw_cksum(l3 + 12, 8, 0);
    }
    return sum + htons(l4_len & 0xffff) + htons(proto);
}

/* Stores at 'field' the checksum of the 'len' bytes at 'l4' (where
 * 'field' is) plus 'sum'. */
static void
store_csum(uint8_t *l4, size_t len, uint32_t sum, uint8_t *field, bool udp)
{
    uint16_t csum;

    csum = ~__rte_raw_cksum_reduce(__rte_raw_cksum(l4, len, sum));
    if (udp && !csum) {
        csum = 0xffff;
    }
    memcpy(field, &csum, sizeof csum);
}

/* Where the L3 header of a frame parsed as 'ptype' starts, and whether it
 * is IPv6.  Returns false if it is neither IPv4 nor IPv6. */
static bool
l3_kind(uint32_t ptype, bool *ipv6)
{
    if (RTE_ETH_IS_IPV4_HDR(ptype)) {
        *ipv6 = false;
        return true;
    }
    if (RTE_ETH_IS_IPV6_HDR(ptype)) {
        *ipv6 = true;
        return true;
    }
    return false;
}

/* Copies the 'len' bytes at offset 'off' of 'm' to 'dst'. */
static void
mbuf_copy(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *dst)
{
    const void *p = rte_pktmbuf_read(m, off, len, dst);

    if (p && p != dst) {
        memcpy(dst, p, len);
    }
}

/* Completes the partial checksum (VIRTIO_NET_HDR_F_NEEDS_CSUM) of 'pkt',
 * received as 'm': rte_vhost leaves RX_L4_CKSUM_NONE on TCP and UDP frames
 * whose checksum field holds only the pseudo-header's sum (rarer layouts
 * it completes itself). */
static void
complete_csum(const struct rte_mbuf *m, struct esw_pkt *pkt)
{
    struct rte_net_hdr_lens lens;
    uint32_t ptype = rte_net_get_ptype(m, &lens, RTE_PTYPE_ALL_MASK);
    uint32_t l4_off = lens.l2_len + lens.l3_len;
    uint32_t l4 = ptype & RTE_PTYPE_L4_MASK;
    uint32_t field;

    if (l4 == RTE_PTYPE_L4_TCP) {
        field = offsetof(struct rte_tcp_hdr, cksum);
    } else if (l4 == RTE_PTYPE_L4_UDP) {
        field = offsetof(struct rte_udp_hdr, dgram_cksum);
    } else {
        return;                 /* SCTP: no CRC32c here; never offered. */
    }
    if (l4_off + field + 2 > pkt->len) {
        return;
    }
    store_csum(pkt->data + l4_off, pkt->len - l4_off, 0,
               pkt->data + l4_off + field, l4 == RTE_PTYPE_L4_UDP);
}

/* Cuts the TCP superframe 'm' (RX_LRO, MSS m->tso_segsz) into segments
 * stored in 'out' (room for VHOST_MAX_SEGS).  Returns how many.  A frame
 * that cannot be cut (not TCP over IP, too many segments, segments larger
 * than a frame) becomes one empty packet, which the pipeline drops as
 * malformed. */
static size_t
segment(const struct rte_mbuf *m, struct esw_pkt *out[])
{
    struct rte_net_hdr_lens lens;
    uint32_t ptype = rte_net_get_ptype(m, &lens, RTE_PTYPE_ALL_MASK);
    uint32_t len = rte_pktmbuf_pkt_len(m);
    uint32_t mss = m->tso_segsz;
    uint32_t hdr = lens.l2_len + lens.l3_len + lens.l4_len;
    uint32_t payload, n_segs, seq0 = 0;
    uint16_t id0 = 0;
    bool ipv6;

    if ((ptype & RTE_PTYPE_L4_MASK) != RTE_PTYPE_L4_TCP
        || !l3_kind(ptype, &ipv6) || hdr >= len || !mss
        || hdr + mss > ESW_FRAME_MAX) {
        goto bad;
    }
    payload = len - hdr;
    n_segs = (payload + mss - 1) / mss;
    if (n_segs > VHOST_MAX_SEGS) {
        goto bad;
    }

    for (uint32_t i = 0; i < n_segs; i++) {
        uint32_t seg_len = i + 1 < n_segs ? mss : payload - i * mss;
        struct esw_pkt *pkt = esw_pkt_alloc(hdr + seg_len);
        uint8_t *l3, *l4;
        struct rte_tcp_hdr *tcp;
        uint32_t l4_len = lens.l4_len + seg_len;

        if (!pkt) {
            while (i > 0) {
                esw_pkt_free(out[--i]);
            }
            goto bad;
        }
        mbuf_copy(m, 0, hdr, pkt->data);
        mbuf_copy(m, hdr + i * mss, seg_len, pkt->data + hdr);
        l3 = pkt->data + lens.l2_len;
        l4 = l3 + lens.l3_len;
        tcp = (struct rte_tcp_hdr *) l4;
        if (!i) {
            seq0 = ntohl(tcp->sent_seq);
            if (!ipv6) {
                id0 = ntohs(((struct rte_ipv4_hdr *) l3)->packet_id);
            }
        }
        if (ipv6) {
            struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *) l3;

            ip6->payload_len = htons(lens.l3_len - sizeof *ip6 + l4_len);
        } else {
            struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *) l3;

            ip->total_length = htons(lens.l3_len + l4_len);
            ip->packet_id = htons(id0 + i);
            ip->hdr_checksum = 0;
            ip->hdr_checksum = ~__rte_raw_cksum_reduce(
                __rte_raw_cksum(ip, lens.l3_len, 0));
        }
        tcp->sent_seq = htonl(seq0 + i * mss);
        if (i + 1 < n_segs) {
            tcp->tcp_flags &= ~(RTE_TCP_FIN_FLAG | RTE_TCP_PSH_FLAG);
        }
        if (i) {
            tcp->tcp_flags &= ~RTE_TCP_CWR_FLAG;
        }
        tcp->cksum = 0;
        store_csum(l4, l4_len, pseudo_sum(l3, ipv6, IPPROTO_TCP, l4_len),
                   (uint8_t *) &tcp->cksum, false);
        out[i] = pkt;
    }
    return n_segs;

bad:
    out[0] = esw_pkt_alloc(0);
    return out[0] ? 1 : 0;
}

/* Converts 'm' into packets appended to the stash.  Returns how many. */
static size_t
stash_mbuf(struct esw_io_vhost *vh, const struct rte_mbuf *m)
{
    struct esw_pkt **out = &vh->stash[vh->stash_tail];
    uint32_t len = rte_pktmbuf_pkt_len(m);
    size_t n = 1;

    if (m->ol_flags & RTE_MBUF_F_RX_LRO && m->tso_segsz) {
        n = segment(m, out);
    } else if (len > ESW_FRAME_MAX) {
        /* Dropped by the pipeline as malformed (the guest ignored the
         * MTU). */
        out[0] = esw_pkt_alloc(0);
        n = out[0] != NULL;
    } else {
        out[0] = esw_pkt_alloc(len);
        if (!out[0]) {
            return 0;
        }
        if (m->nb_segs == 1) {
            memcpy(out[0]->data, rte_pktmbuf_mtod(m, void *), len);
        } else {
            mbuf_copy(m, 0, len, out[0]->data);
        }
        if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK)
            == RTE_MBUF_F_RX_L4_CKSUM_NONE) {
            complete_csum(m, out[0]);
        }
    }
    vh->stash_tail += n;
    return n;
}

/* Data path.
 * ========== */

/* Dequeues up to 'max' frames (at most VHOST_BURST) from the transmit ring
 * of queue 'q' of guest 'vid' into the (empty) stash.  Returns how many
 * packets the stash holds then. */
static size_t
dequeue(struct esw_io_vhost *vh, int vid, uint32_t q, size_t max)
{
    struct rte_mbuf *mbufs[VHOST_BURST];
    uint16_t n;

    n = rte_vhost_dequeue_burst(vid, 2 * q + 1, vhost_pool, mbufs,
                                max < VHOST_BURST ? max : VHOST_BURST);
    for (uint16_t i = 0; i < n; i++) {
        stash_mbuf(vh, mbufs[i]);
    }
    if (n) {
        rte_pktmbuf_free_bulk(mbufs, n);
    }
    return vh->stash_tail - vh->stash_head;
}

/* Moves up to 'max' stashed packets to 'pkts'. */
static size_t
unstash(struct esw_io_vhost *vh, struct esw_pkt *pkts[], size_t max)
{
    size_t n = vh->stash_tail - vh->stash_head;

    if (n > max) {
        n = max;
    }
    memcpy(pkts, &vh->stash[vh->stash_head], n * sizeof pkts[0]);
    vh->stash_head += n;
    if (vh->stash_head == vh->stash_tail) {
        vh->stash_head = vh->stash_tail = 0;
    }
    return n;
}

/* Turns the guest's kicks on the served transmit rings on or off. */
static void
set_notify(struct esw_io_vhost *vh, int vid, bool on)
{
    uint64_t mask = atomic_load_explicit(&vh->rx_mask, memory_order_acquire);

    while (mask) {
        uint32_t q = __builtin_ctzll(mask);

        mask &= mask - 1;
        rte_vhost_enable_guest_notification(vid, 2 * q + 1, on);
    }
    vh->notify_on = on;
}

static size_t
vhost_rx(struct esw_io *io, struct esw_pkt *pkts[], size_t max)
{
    struct esw_io_vhost *vh = esw_io_vhost_cast(io);
    size_t n = unstash(vh, pkts, max);
    uint64_t mask;
    int vid;

    vid = atomic_load_explicit(&vh->vid, memory_order_acquire);
    if (vid < 0 || n >= max) {
        return n;
    }
    if (vid != vh->fwd_vid) {
        vh->fwd_vid = vid;
        vh->notify_on = true;   /* rte_vhost's initial state. */
    }
    if (vh->notify_on) {
        set_notify(vh, vid, false);
    }
    mask = atomic_load_explicit(&vh->rx_mask, memory_order_acquire);
    if (!mask) {
        return n;
    }
    /* Start from a different queue each time, so that a busy one does not
     * starve the others. */
    for (uint32_t i = 0; i < vh->n_queues && n < max; i++) {
        uint32_t q = (vh->next_queue + i) % vh->n_queues;

        if (mask & (UINT64_C(1) << q) && dequeue(vh, vid, q, max - n)) {
            n += unstash(vh, pkts + n, max - n);
        }
    }
    vh->next_queue = (vh->next_queue + 1) % vh->n_queues;
    return n;
}

/* The queue of 'queues' (of 'n') that 'pkt' goes to: a hash of the fields
 * that identify its flow (addresses, protocol, ports), so that a flow
 * stays in order on one ring. */
static uint32_t
pick_queue(const struct esw_pkt *pkt, const uint8_t queues[], uint32_t n)
{
    uint64_t w[7] = { 0 };
    uint8_t *b = (uint8_t *) w;
    struct esw_key key;
    uint64_t h = 0;

    esw_parse(pkt->data, pkt->len, 0, &key);
    memcpy(b, &key.dst, 6);
    memcpy(b + 6, &key.src, 6);
    memcpy(b + 12, &key.eth_type, 2);
    memcpy(b + 14, &key.ip_src, 16);
    memcpy(b + 30, &key.ip_dst, 16);
    memcpy(b + 46, &key.tp_src, 2);
    memcpy(b + 48, &key.tp_dst, 2);
    b[50] = key.ip_proto;
    for (size_t i = 0; i < 7; i++) {
        h = (h ^ w[i]) * UINT64_C(0x9e3779b97f4a7c15);
    }
    /* A multiplication carries differences upwards only: mix the high
     * bits back down (splitmix64's finalizer). */
    h ^= h >> 30;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 31;
    return queues[h % n];
}

/* Wraps 'pkt' in 'm' for rte_vhost_enqueue_burst(), which copies the frame
 * into the guest's buffers and leaves the mbuf to its owner: the mbuf
 * only describes the packet's own buffer (an external buffer that nobody
 * frees through the mbuf). */
static void
wrap_pkt(struct rte_mbuf *m, struct esw_pkt *pkt)
{
    memset(m, 0, sizeof *m);
    m->buf_addr = pkt->base;
    m->buf_iova = RTE_BAD_IOVA;
    m->buf_len = pkt->size;
    m->data_off = pkt->data - pkt->base;
    m->data_len = pkt->len;
    m->pkt_len = pkt->len;
    m->nb_segs = 1;
    m->port = RTE_MBUF_PORT_INVALID;
    rte_mbuf_refcnt_set(m, 1);
}

/* Enqueues the 'n' packets of 'pkts' (not taken) to receive ring of queue
 * 'q'.  Returns how many the guest took. */
static size_t
enqueue(struct esw_io_vhost *vh, int vid, uint32_t q,
        struct esw_pkt *pkts[], size_t n)
{
    struct vhost_queue *vq = &vh->q[q];
    size_t done = 0;

    while (atomic_flag_test_and_set_explicit(&vq->tx_lock,
                                             memory_order_acquire)) {
        rte_pause();
    }
    for (size_t i = 0; i < n; i += VHOST_BURST) {
        struct rte_mbuf mbufs[VHOST_BURST], *ptrs[VHOST_BURST];
        uint16_t k = n - i < VHOST_BURST ? n - i : VHOST_BURST;
        uint16_t sent;

        for (uint16_t j = 0; j < k; j++) {
            wrap_pkt(&mbufs[j], pkts[i + j]);
            ptrs[j] = &mbufs[j];
        }
        sent = rte_vhost_enqueue_burst(vid, 2 * q, ptrs, k);
        done += sent;
        if (sent < k) {
            break;              /* The guest's ring is full. */
        }
    }
    atomic_flag_clear_explicit(&vq->tx_lock, memory_order_release);
    return done;
}

static size_t
vhost_tx(struct esw_io *io, struct esw_pkt *pkts[], size_t n)
{
    struct esw_io_vhost *vh = esw_io_vhost_cast(io);
    int vid = atomic_load_explicit(&vh->vid, memory_order_acquire);
    uint64_t mask = atomic_load_explicit(&vh->tx_mask, memory_order_acquire);
    size_t done = 0;

    if (vid >= 0 && mask) {
        uint8_t queues[ESW_MAX_QUEUES];
        uint32_t n_queues = 0;

        for (uint64_t m = mask; m; m &= m - 1) {
            queues[n_queues++] = __builtin_ctzll(m);
        }
        if (n_queues == 1) {
            done = enqueue(vh, vid, queues[0], pkts, n);
        } else {
            /* Grouped by queue, in order within each. */
            for (size_t base = 0; base < n; base += VHOST_TX_MAX) {
                size_t k = n - base < VHOST_TX_MAX ? n - base : VHOST_TX_MAX;
                struct esw_pkt *group[VHOST_TX_MAX];
                uint8_t qs[VHOST_TX_MAX];
                uint64_t used = 0;

                for (size_t i = 0; i < k; i++) {
                    qs[i] = pick_queue(pkts[base + i], queues, n_queues);
                    used |= UINT64_C(1) << qs[i];
                }
                for (; used; used &= used - 1) {
                    uint32_t q = __builtin_ctzll(used);
                    size_t n_group = 0;

                    for (size_t i = 0; i < k; i++) {
                        if (qs[i] == q) {
                            group[n_group++] = pkts[base + i];
                        }
                    }
                    done += enqueue(vh, vid, q, group, n_group);
                }
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        esw_pkt_free(pkts[i]);
    }
    return done;
}

static int
vhost_get_fd(const struct esw_io *io)
{
    return esw_io_vhost_cast_const(io)->epfd;
}

/* Clears every fd of 'epfd' that is readable. */
static void
drain_fds(struct esw_io_vhost *vh)
{
    struct epoll_event events[ESW_MAX_QUEUES + 1];
    int n = epoll_wait(vh->epfd, events, ESW_MAX_QUEUES + 1, 0);

    for (int i = 0; i < n; i++) {
        uint64_t value;
        ssize_t retval = read(events[i].data.fd, &value, sizeof value);

        (void) retval;          /* EAGAIN: cleared meanwhile. */
    }
}

static bool
vhost_prepare_wait(struct esw_io *io)
{
    struct esw_io_vhost *vh = esw_io_vhost_cast(io);
    uint64_t mask;
    int vid;

    if (vh->stash_tail != vh->stash_head) {
        return false;
    }
    vid = atomic_load_explicit(&vh->vid, memory_order_acquire);
    if (vid >= 0) {
        if (atomic_load_explicit(&vh->n_nokick, memory_order_relaxed)) {
            return false;       /* Nothing would wake us: poll. */
        }
        if (vid != vh->fwd_vid) {
            vh->fwd_vid = vid;
            vh->notify_on = true;
        }
        set_notify(vh, vid, true);
    }
    /* Either the guest sees the notifications enabled, or we see what it
     * queued before. */
    atomic_thread_fence(memory_order_seq_cst);
    drain_fds(vh);
    if (atomic_load_explicit(&vh->vid, memory_order_acquire) != vid) {
        return false;           /* A guest came or went: look again. */
    }
    if (vid < 0) {
        return true;
    }
    mask = atomic_load_explicit(&vh->rx_mask, memory_order_acquire);
    while (mask) {
        uint32_t q = __builtin_ctzll(mask);

        mask &= mask - 1;
        if (dequeue(vh, vid, q, VHOST_BURST)) {
            set_notify(vh, vid, false);
            return false;
        }
    }
    return true;
}

static bool
vhost_is_up(const struct esw_io *io)
{
    return atomic_load_explicit(&esw_io_vhost_cast_const(io)->vid,
                                memory_order_relaxed) >= 0;
}

static void
vhost_get_info(const struct esw_io *io, struct esw_host_info *info)
{
    struct esw_io_vhost *vh = (struct esw_io_vhost *) io;

    pthread_mutex_lock(&vh->mutex);
    info->host_up = vh->ctl_vid >= 0;
    memcpy(info->path, vh->path, sizeof info->path);
    info->client = vh->client;
    info->virtio_offered = vh->offered;
    info->virtio_negotiated = vh->ctl_vid >= 0 ? vh->negotiated : 0;
    info->virtio_queues = vh->n_queues;
    info->virtio_guest_queues = vh->ctl_vid >= 0 ? vh->guest_queues : 0;
    info->virtio_enabled_queues = __builtin_popcountll(
        atomic_load(&vh->rx_mask) & atomic_load(&vh->tx_mask));
    info->host_connects = vh->connects;
    pthread_mutex_unlock(&vh->mutex);
}

/* Control path.
 * ============= */

/* Finds the backend of guest 'vid'. */
static struct esw_io_vhost *
vhost_find(int vid)
{
    struct esw_io_vhost *vh;
    char path[ESW_PATH_MAX];

    if (rte_vhost_get_ifname(vid, path, sizeof path)) {
        return NULL;
    }
    pthread_mutex_lock(&vhosts_mutex);
    for (vh = vhosts; vh; vh = vh->next) {
        if (!strcmp(vh->path, path)) {
            break;
        }
    }
    pthread_mutex_unlock(&vhosts_mutex);
    return vh;
}

/* Publishes the served queues: those enabled, below the guest's count. */
static void
publish_masks(struct esw_io_vhost *vh)
{
    uint64_t served = (vh->n_queues >= 64 ? UINT64_MAX
                       : (UINT64_C(1) << vh->n_queues) - 1);

    atomic_store_explicit(&vh->rx_mask, vh->rx_enabled & served,
                          memory_order_release);
    atomic_store_explicit(&vh->tx_mask, vh->tx_enabled & served,
                          memory_order_release);
}

static void
kick_unwatch(struct esw_io_vhost *vh, uint32_t q)
{
    struct vhost_queue *vq = &vh->q[q];

    if (vq->kick_fd >= 0) {
        epoll_ctl(vh->epfd, EPOLL_CTL_DEL, vq->kick_fd, NULL);
        close(vq->kick_fd);
        vq->kick_fd = -1;
    } else if (vq->kick_fd == -2) {
        atomic_fetch_sub(&vh->n_nokick, 1);
        vq->kick_fd = -1;
    }
}

/* Watches the kick fd of queue 'q''s transmit ring of guest 'vid'.  Its own
 * dup, so that it stays valid (and can be taken out of the epoll set)
 * whatever rte_vhost does with the original.  A ring without a kick fd
 * (-2) must be polled. */
static void
kick_watch(struct esw_io_vhost *vh, int vid, uint32_t q)
{
    struct vhost_queue *vq = &vh->q[q];
    struct rte_vhost_vring vring;
    int fd;

    kick_unwatch(vh, q);
    if (rte_vhost_get_vhost_vring(vid, 2 * q + 1, &vring) || vring.kickfd < 0
        || (fd = fcntl(vring.kickfd, F_DUPFD_CLOEXEC, 0)) < 0) {
        vq->kick_fd = -2;
        atomic_fetch_add(&vh->n_nokick, 1);
        return;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    if (epoll_ctl(vh->epfd, EPOLL_CTL_ADD, fd, &ev)) {
        close(fd);
        vq->kick_fd = -2;
        atomic_fetch_add(&vh->n_nokick, 1);
        return;
    }
    vq->kick_fd = fd;
}

static int
new_device(int vid)
{
    struct esw_io_vhost *vh = vhost_find(vid);
    uint64_t one = 1;
    ssize_t retval;

    if (!vh) {
        return -1;
    }
    pthread_mutex_lock(&vh->mutex);
    vh->guest_queues = rte_vhost_get_vring_num(vid) / 2;
    if (rte_vhost_get_negotiated_features(vid, &vh->negotiated)) {
        vh->negotiated = 0;
    }
    vh->negotiated &= ~((UINT64_C(1) << VHOST_F_PROTOCOL_FEATURES_BIT)
                        | (UINT64_C(1) << VHOST_F_LOG_ALL_BIT));
    for (uint32_t q = 0; q < vh->n_queues; q++) {
        if (vh->rx_enabled & (UINT64_C(1) << q)) {
            kick_watch(vh, vid, q);
        }
    }
    vh->ctl_vid = vid;
    vh->connects++;
    publish_masks(vh);
    atomic_store_explicit(&vh->vid, vid, memory_order_release);
    pthread_mutex_unlock(&vh->mutex);

    /* The forwarding thread may be asleep: it has a guest to poll now. */
    retval = write(vh->wake_fd, &one, sizeof one);
    (void) retval;
    return 0;
}

static void
destroy_device(int vid)
{
    struct esw_io_vhost *vh = vhost_find(vid);
    bool closing;

    if (!vh) {
        return;
    }
    pthread_mutex_lock(&vh->mutex);
    if (vh->ctl_vid != vid) {
        pthread_mutex_unlock(&vh->mutex);
        return;
    }
    atomic_store_explicit(&vh->vid, -1, memory_order_release);
    vh->ctl_vid = -1;
    closing = vh->closing;
    pthread_mutex_unlock(&vh->mutex);

    /* rte_vhost unmaps the rings when this returns: wait until no thread
     * uses them.  (When closing, none can: the vport is gone already.) */
    if (!closing) {
        esw_rcu_synchronize();
    }

    pthread_mutex_lock(&vh->mutex);
    for (uint32_t q = 0; q < vh->n_queues; q++) {
        kick_unwatch(vh, q);
    }
    /* The rings start disabled when the guest driver comes back. */
    vh->rx_enabled = vh->tx_enabled = 0;
    publish_masks(vh);
    pthread_mutex_unlock(&vh->mutex);
}

static int
vring_state_changed(int vid, uint16_t ring, int enable)
{
    struct esw_io_vhost *vh = vhost_find(vid);
    uint32_t q = ring / 2;
    uint64_t bit = UINT64_C(1) << (q % 64);

    if (!vh || q >= vh->n_queues) {
        return 0;               /* Not served (the guest has more). */
    }
    pthread_mutex_lock(&vh->mutex);
    if (ring & 1) {
        vh->rx_enabled = enable ? vh->rx_enabled | bit : vh->rx_enabled & ~bit;
        if (vh->ctl_vid == vid) {
            if (enable) {
                kick_watch(vh, vid, q);
            } else {
                kick_unwatch(vh, q);
            }
        }
    } else {
        vh->tx_enabled = enable ? vh->tx_enabled | bit : vh->tx_enabled & ~bit;
    }
    publish_masks(vh);
    pthread_mutex_unlock(&vh->mutex);
    return 0;
}

static void
destroy_connection(int vid)
{
    struct esw_io_vhost *vh = vhost_find(vid);

    if (vh) {
        pthread_mutex_lock(&vh->mutex);
        if (vh->ctl_vid < 0) {
            vh->rx_enabled = vh->tx_enabled = 0;
            publish_masks(vh);
        }
        pthread_mutex_unlock(&vh->mutex);
    }
}

static const struct rte_vhost_device_ops vhost_device_ops = {
    .new_device = new_device,
    .destroy_device = destroy_device,
    .vring_state_changed = vring_state_changed,
    .destroy_connection = destroy_connection,
};

/* Makes sure that bind() can create a socket at 'path': removes a stale
 * socket that nobody listens on any more, refuses anything else. */
static int
check_socket_path(const char *vport_name, const char *path,
                  struct esw_error *err)
{
    char dir[ESW_PATH_MAX];
    const char *slash = strrchr(path, '/');
    struct stat st;

    snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int) (slash - path),
             path);
    if (stat(dir, &st)) {
        return esw_error_set(err, errno, ESW_ERROR_HOST_IO, -1,
                             "%s: vhost-user socket directory "
                             "%s: %s", vport_name, dir, strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        return esw_error_set(err, ENOTDIR, ESW_ERROR_HOST_IO, -1,
                             "%s: %s is not a directory",
                             vport_name, dir);
    }
    if ((st.st_uid != geteuid() && st.st_uid != 0)
        || (st.st_mode & (S_IWGRP | S_IWOTH) && !(st.st_mode & S_ISVTX))) {
        return esw_error_set(err, EACCES, ESW_ERROR_HOST_IO, -1,
                             "%s: %s is writable by other "
                             "users: no place for a vhost-user socket",
                             vport_name, dir);
    }

    if (lstat(path, &st)) {
        if (errno == ENOENT) {
            return 0;
        }
        return esw_error_set(err, errno, ESW_ERROR_HOST_IO, -1, "%s: %s: %s",
                             vport_name, path, strerror(errno));
    }
    if (!S_ISSOCK(st.st_mode)) {
        return esw_error_set(err, EEXIST, ESW_ERROR_HOST_IO, -1,
                             "%s: %s exists and is not a "
                             "socket", vport_name, path);
    }

    /* A socket: left behind by a previous run, or in use? */
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    bool in_use;

    if (fd < 0) {
        return esw_error_set(err, errno, ESW_ERROR_HOST_IO, -1,
                             "%s: socket: %s", vport_name,
                             strerror(errno));
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    in_use = !connect(fd, (struct sockaddr *) &sun, sizeof sun)
             || errno == EAGAIN;
    close(fd);
    if (in_use) {
        return esw_error_set(err, EADDRINUSE, ESW_ERROR_HOST_IO, -1,
                             "%s: %s is in use by another "
                             "process", vport_name, path);
    }
    if (unlink(path) && errno != ENOENT) {
        return esw_error_set(err, errno, ESW_ERROR_HOST_IO, -1,
                             "%s: cannot remove stale socket "
                             "%s: %s", vport_name, path, strerror(errno));
    }
    return 0;
}

static int
vhost_open(const struct esw_io_params *params, struct esw_io **iop,
           struct esw_error *err)
{
    const struct esw_io_config *cfg = params->cfg;
    uint32_t n_queues = cfg->n_queues ? cfg->n_queues : 1;
    size_t path_len = strnlen(cfg->path, sizeof cfg->path);
    struct epoll_event ev = { .events = EPOLLIN };
    struct esw_error feature_err;
    uint64_t all, disable;
    struct esw_io_vhost *vh;
    uint64_t flags;
    int error;

    *iop = NULL;
    if (!vhost_pool) {
        return esw_error_set(err, ENODEV, ESW_ERROR_HOST_IO, -1,
                             "%s: vhost-user host sides are "
                             "not available (DPDK is not initialised)",
                             params->vport_name);
    }
    if (cfg->path[0] != '/' || path_len >= sizeof cfg->path) {
        return esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                             "%s: vhost-user socket path must "
                             "be absolute and shorter than %d bytes",
                             params->vport_name, ESW_PATH_MAX);
    }
    if (n_queues > ESW_MAX_QUEUES) {
        return esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                             "%s: %"PRIu32" queue pairs: "
                             "expected 1..%d", params->vport_name, n_queues,
                             ESW_MAX_QUEUES);
    }
    error = esw_vhost_check_features(cfg->virtio_features, &feature_err);
    if (error) {
        return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                             "%s: %s", params->vport_name,
                             feature_err.reason);
    }

    pthread_mutex_lock(&vhosts_mutex);
    for (vh = vhosts; vh; vh = vh->next) {
        if (!strcmp(vh->path, cfg->path)) {
            pthread_mutex_unlock(&vhosts_mutex);
            return esw_error_set(err, EEXIST, ESW_ERROR_HOST_IO, -1,
                                 "%s: vhost-user socket %s is "
                                 "used by another function",
                                 params->vport_name, cfg->path);
        }
    }
    pthread_mutex_unlock(&vhosts_mutex);

    if (!cfg->client) {
        error = check_socket_path(params->vport_name, cfg->path, err);
        if (error) {
            return error;
        }
    }

    vh = calloc(1, sizeof *vh + n_queues * sizeof vh->q[0]);
    if (!vh) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    vh->up.ops = &esw_io_vhost_ops;
    memcpy(vh->path, cfg->path, path_len + 1);
    vh->client = cfg->client;
    vh->offered = cfg->virtio_features;
    vh->n_queues = n_queues;
    atomic_init(&vh->vid, -1);
    atomic_init(&vh->rx_mask, 0);
    atomic_init(&vh->tx_mask, 0);
    atomic_init(&vh->n_nokick, 0);
    vh->ctl_vid = -1;
    vh->fwd_vid = -1;
    pthread_mutex_init(&vh->mutex, NULL);
    for (uint32_t q = 0; q < n_queues; q++) {
        vh->q[q].kick_fd = -1;
        atomic_flag_clear(&vh->q[q].tx_lock);
    }

    vh->epfd = epoll_create1(EPOLL_CLOEXEC);
    vh->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ev.data.fd = vh->wake_fd;
    if (vh->epfd < 0 || vh->wake_fd < 0
        || epoll_ctl(vh->epfd, EPOLL_CTL_ADD, vh->wake_fd, &ev)) {
        error = esw_error_set(err, errno, ESW_ERROR_HOST_IO, -1,
                              "%s: %s", params->vport_name,
                              strerror(errno));
        goto err_fds;
    }

    flags = RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS;
    if (cfg->client) {
        flags |= RTE_VHOST_USER_CLIENT;
    }
    if (rte_vhost_driver_register(vh->path, flags)) {
        error = esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                              "%s: cannot register vhost-user "
                              "socket %s", params->vport_name, vh->path);
        goto err_fds;
    }
    /* Offer exactly the configured features that the backend serves
     * (the library's own vhost-user bits stay). */
    if (rte_vhost_driver_get_features(vh->path, &all)) {
        all = 0;
    }
    disable = all & ~(cfg->virtio_features & ESW_VHOST_BACKEND_FEATURES)
              & ~((UINT64_C(1) << VHOST_F_PROTOCOL_FEATURES_BIT)
                  | (UINT64_C(1) << VHOST_F_LOG_ALL_BIT));
    if ((disable && rte_vhost_driver_disable_features(vh->path, disable))
        || rte_vhost_driver_callback_register(vh->path, &vhost_device_ops)) {
        error = esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                              "%s: cannot configure vhost-user "
                              "socket %s", params->vport_name, vh->path);
        goto err_unregister;
    }

    pthread_mutex_lock(&vhosts_mutex);
    vh->next = vhosts;
    vhosts = vh;
    pthread_mutex_unlock(&vhosts_mutex);

    if (rte_vhost_driver_start(vh->path)) {
        error = esw_error_set(err, EADDRINUSE, ESW_ERROR_HOST_IO, -1,
                              "%s: cannot %s vhost-user "
                              "socket %s", params->vport_name,
                              cfg->client ? "connect to" : "listen on",
                              vh->path);
        goto err_unlist;
    }
    *iop = &vh->up;
    return 0;

err_unlist:
    pthread_mutex_lock(&vhosts_mutex);
    for (struct esw_io_vhost **p = &vhosts; *p; p = &(*p)->next) {
        if (*p == vh) {
            *p = vh->next;
            break;
        }
    }
    pthread_mutex_unlock(&vhosts_mutex);
err_unregister:
    vh->closing = true;
    rte_vhost_driver_unregister(vh->path);
err_fds:
    if (vh->wake_fd >= 0) {
        close(vh->wake_fd);
    }
    if (vh->epfd >= 0) {
        close(vh->epfd);
    }
    pthread_mutex_destroy(&vh->mutex);
    free(vh);
    return error;
}

static void
vhost_close(struct esw_io *io)
{
    struct esw_io_vhost *vh;

    if (!io) {
        return;
    }
    vh = esw_io_vhost_cast(io);
    pthread_mutex_lock(&vh->mutex);
    vh->closing = true;
    pthread_mutex_unlock(&vh->mutex);

    /* Disconnects a guest (destroy_device() runs here) and, in server
     * mode, removes the socket.  No callback runs for this socket after
     * it returns. */
    rte_vhost_driver_unregister(vh->path);

    pthread_mutex_lock(&vhosts_mutex);
    for (struct esw_io_vhost **p = &vhosts; *p; p = &(*p)->next) {
        if (*p == vh) {
            *p = vh->next;
            break;
        }
    }
    pthread_mutex_unlock(&vhosts_mutex);

    for (uint32_t q = 0; q < vh->n_queues; q++) {
        kick_unwatch(vh, q);
    }
    while (vh->stash_head < vh->stash_tail) {
        esw_pkt_free(vh->stash[vh->stash_head++]);
    }
    close(vh->wake_fd);
    close(vh->epfd);
    pthread_mutex_destroy(&vh->mutex);
    free(vh);
}

const struct esw_io_ops esw_io_vhost_ops = {
    .type = ESW_IO_VHOST_USER,
    .open = vhost_open,
    .close = vhost_close,
    .rx = vhost_rx,
    .tx = vhost_tx,
    .get_fd = vhost_get_fd,
    .prepare_wait = vhost_prepare_wait,
    .rx_is_empty = NULL,        /* Not tracked by esw_dev_is_idle(). */
    .get_mac = NULL,            /* The guest's MAC is the VMM's business. */
    .is_up = vhost_is_up,
    .get_info = vhost_get_info,
};

int
esw_io_vhost_init(struct esw_error *err)
{
    static pthread_mutex_t init_mutex = PTHREAD_MUTEX_INITIALIZER;
    int error = 0;

    pthread_mutex_lock(&init_mutex);
    if (!vhost_pool) {
        if (!rte_lcore_count()) {
            error = esw_error_set(err, ENODEV, ESW_ERROR_HOST_IO, -1,
                                  "vhost-user host sides need "
                                  "DPDK, which is not initialised");
        } else {
            vhost_pool = rte_pktmbuf_pool_create("esw_vhost_rx",
                                                 VHOST_POOL_MBUFS, 0, 0,
                                                 RTE_MBUF_DEFAULT_BUF_SIZE,
                                                 SOCKET_ID_ANY);
            if (!vhost_pool) {
                error = esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                                      "vhost-user host sides: "
                                      "cannot create the mbuf pool: %s",
                                      rte_strerror(rte_errno));
            } else {
                esw_io_register(&esw_io_vhost_ops);
            }
        }
    }
    pthread_mutex_unlock(&init_mutex);
    return error;
}
