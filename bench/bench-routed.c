/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Routed traffic benchmark: OVS's userspace datapath (dpif-netdev) with
 * the eSwitch's representors as ports, two workloads, the software path at
 * its best against the device, printed side by side:
 *
 *   routed   a router's flow: new source and destination MACs, TTL - 1
 *            (set(eth), set_masked(ipv4(ttl))), output: every packet
 *            rewritten, checksums fixed;
 *   select   a 4-bucket dp_hash select group: hash(l4) and recirc in
 *            chain 0, then per bucket (dp_hash & 3) a new destination MAC
 *            and an output in chain 1: two lookups per packet.
 *   conntrack  an allow-related ACL (OVS's ct(table=1) pattern): ct(zone=1)
 *            and recirc in chain 0, then +new -> ct(commit),output and
 *            +est -> output; UDP connections opened by one packet from
 *            pf0vf0 and answered by one from pf0vf1 (software: OVS's
 *            userspace conntrack per packet; offloaded: the device's
 *            connection table, once the connections are in it):
 *            - Mpps of established traffic from pf0vf0 over 1, 1K and
 *              100K connections (10K with --quick).  Both modes'
 *              eSwitches get a table for all of them and the TCP ones
 *              (other_config:eswitch-max-conns, ct_table_size()); were
 *              it smaller, the offloaded figure would be shown as not
 *              measured, with what the mix of device and software
 *              gives; and
 *              of established TCP over 1K connections (a handshake
 *              through OVS first: SYN, SYN+ACK, ACK; then pure ACKs);
 *            - connections set up per second: the first 1K one at a
 *              time (median/p99 from the answer's injection to its
 *              delivery, i.e. established in OVS, and, offloaded, to
 *              the entry in the device), then up to the device's
 *              capacity in batches of WINDOW (first packets, then their
 *              answers), timed until every answer is delivered and
 *              (offloaded) every connection is in the device;
 *            - memory per connection: malloc's bytes (mallinfo2, all
 *              arenas) before/after that bulk set-up in each mode, and
 *              the device's table alone (a sim device of its own:
 *              bytes at creation, per entry malloc'd and RSS).
 *
 *   software path  hw-offload=false, other_config:eswitch-pmd=true: a PMD
 *                  thread (pmd-cpu-mask=0x1) polls the representors, OVS's
 *                  fastest software configuration;
 *   offloaded      hw-offload=true (representors polled by dpif-netdev's
 *                  non-PMD thread, which sleeps while nothing misses):
 *                  the device forwards, after the first packets.
 *
 * Each mode runs in its own child process (OVS's flow API cannot be
 * switched off once on).  No ofproto: an upcall callback stands for OVS's
 * slow path and returns the actions above, with megaflow masks like
 * ofproto-dpif's (see upcall_cb()).  1000 active 5-tuples per workload,
 * 64-byte UDP frames injected on pf0vf0 (capture host side), read on
 * pf0vf1, at most WINDOW in flight (closed loop, nothing lost to queue
 * overflow).  Reported: Mpps delivered over the measuring window (after
 * a warm-up of 0.5 s), and CPU time per delivered packet of every thread
 * but the injector (PMD spinning included: that is what a PMD costs).
 *
 * Usage: bench-routed [--quick] [--seconds S] */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "csum.h"
#include "ct-dpif.h"
#include "dpif.h"
#include "dummy.h"
#include "flow.h"
#include "netdev.h"
#include "netdev-offload.h"
#include "netlink.h"
#include "odp-execute.h"
#include "odp-netlink.h"
#include "odp-util.h"
#include "ovs-numa.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "packets.h"
#include "smap.h"
#include "util.h"

#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#include "ovs-ext/ct-offload.h"
#include "ovs-ext/eswitch.h"
#include "ovs-ext/ovs-ext.h"

#define FRAME_LEN 60
#define N_FLOWS 1000
#define WINDOW 512
#define ROUTED_NET 0x0a640000       /* 10.100.0.0: routed workload. */
#define SELECT_NET 0x0ac80000       /* 10.200.0.0: select workload. */

enum workload { ROUTED, SELECT, N_WORKLOADS };

static const char *const workload_names[N_WORKLOADS] = {
    [ROUTED] = "routed (set eth + TTL)",
    [SELECT] = "select group, 4 buckets",
};

#define CT_NET 0x0a960000           /* 10.150.0.0: conntrack workload. */
#define CT_ZONE 1
#define CT_POINTS 3                 /* Concurrent connections measured. */
#define CT_SINGLY 1000              /* Connections set up one by one. */

struct ct_result {
    double mpps[CT_POINTS];
    double cpu_ns[CT_POINTS];
    unsigned int conns[CT_POINTS];      /* Device connections (hw). */
    unsigned int rules;                 /* Device rules in use (hw). */
    uint32_t ovs_maxconns;              /* OVS's conntrack limit. */
    size_t dev_capacity;                /* The device's table (hw). */

    /* Connections set up in bulk (CT_SINGLY up to the smaller of the last
     * point and the device's capacity). */
    unsigned int bulk_n, bulk_established, bulk_in_dev, bulk_lost;
    double bulk_s, bulk_dev_s;          /* Until established, in device. */
    double bulk_bytes;                  /* malloc'd bytes per connection. */

    /* Connections set up one by one: from the answer's injection to its
     * delivery (established in OVS) and (hw) to the device's entry. */
    unsigned int lat_n;
    double est_med_us, est_p99_us, lat_med_us, lat_p99_us;

    /* Established TCP (handshake through OVS first). */
    unsigned int tcp_n, tcp_established, tcp_lost, tcp_conns;
    double tcp_mpps, tcp_cpu_ns;

    struct ct_offload_stats stats;      /* hw. */
};

struct result {
    double mpps[N_WORKLOADS];
    double cpu_ns[N_WORKLOADS];
    unsigned int rules[N_WORKLOADS];    /* Device rules in use (hw). */
    struct ct_result ct;
};

struct bench {
    bool hw;
    double seconds;
    unsigned int ct_points[CT_POINTS];  /* Ascending. */

    struct dpif *dpif;
    odp_port_t vf0_port, vf1_port;
    struct esw_dev *dev;
    uint32_t vf0, vf1;

    atomic_bool stop;
    pthread_t dp_thread;
};

static uint64_t
clock_ns(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t
now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of every thread of this process but the caller (the injector,
 * which stands for a traffic source outside the machine). */
static uint64_t
datapath_cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID)
           - clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static void
put_set_masked(struct ofpbuf *actions, enum ovs_key_attr type,
               const void *key, const void *mask, size_t size)
{
    size_t ofs = nl_msg_start_nested(actions, OVS_ACTION_ATTR_SET_MASKED);
    uint8_t buf[2 * sizeof(struct ovs_key_ipv6)];

    memcpy(buf, key, size);
    memcpy(buf + size, mask, size);
    nl_msg_put_unspec(actions, type, buf, 2 * size);
    nl_msg_end_nested(actions, ofs);
}

static void
put_set_eth_dst(struct ofpbuf *actions, uint8_t last, bool src_too)
{
    struct ovs_key_ethernet key, mask;

    memset(&key, 0, sizeof key);
    memset(&mask, 0, sizeof mask);
    key.eth_dst = (struct eth_addr) { { { 0x02, 0x65, 0, 0x02, 0, last } } };
    mask.eth_dst = eth_addr_exact;
    if (src_too) {
        key.eth_src = (struct eth_addr) { { { 0x02, 0, 0, 0, 0xfe, 0 } } };
        mask.eth_src = eth_addr_exact;
    }
    put_set_masked(actions, OVS_KEY_ATTR_ETHERNET, &key, &mask, sizeof key);
}

/* ct(zone=CT_ZONE[,commit]). */
static void
put_ct(struct ofpbuf *actions, bool commit)
{
    size_t ofs = nl_msg_start_nested(actions, OVS_ACTION_ATTR_CT);

    if (commit) {
        nl_msg_put_flag(actions, OVS_CT_ATTR_COMMIT);
    }
    nl_msg_put_u16(actions, OVS_CT_ATTR_ZONE, CT_ZONE);
    nl_msg_end_nested(actions, ofs);
}

/* The conntrack workload's flows: chain 0 tracks (recirc 2 from pf0vf0,
 * 3 from pf0vf1); then pf0vf0's new connections are committed, and
 * established packets pass both ways. */
static void
upcall_ct(struct bench *b, const struct flow *flow, struct ofpbuf *actions,
          struct flow_wildcards *wc)
{
    bool from_vf0 = flow->in_port.odp_port == b->vf0_port;

    if (wc) {
        wc->masks.nw_proto = UINT8_MAX;
    }
    if (!flow->recirc_id) {
        put_ct(actions, false);
        nl_msg_put_u32(actions, OVS_ACTION_ATTR_RECIRC, from_vf0 ? 2 : 3);
        return;
    }
    if (wc) {
        wc->masks.ct_state = CS_NEW | CS_ESTABLISHED | CS_TRACKED;
    }
    if (from_vf0 && flow->ct_state & CS_NEW) {
        put_ct(actions, true);
        nl_msg_put_odp_port(actions, OVS_ACTION_ATTR_OUTPUT, b->vf1_port);
    } else if (flow->ct_state & CS_ESTABLISHED) {
        nl_msg_put_odp_port(actions, OVS_ACTION_ATTR_OUTPUT,
                            from_vf0 ? b->vf1_port : b->vf0_port);
    }
}

/* Stands for ofproto-dpif: the actions and megaflow masks it would give
 * the workloads' flows. */
static int
upcall_cb(const struct dp_packet *packet OVS_UNUSED, const struct flow *flow,
          ovs_u128 *ufid OVS_UNUSED, unsigned pmd_id OVS_UNUSED,
          enum dpif_upcall_type type OVS_UNUSED,
          const struct nlattr *userdata OVS_UNUSED, struct ofpbuf *actions,
          struct flow_wildcards *wc, struct ofpbuf *put_actions OVS_UNUSED,
          void *aux)
{
    struct bench *b = aux;
    uint32_t net = ntohl(flow->nw_dst) & 0xffff0000;

    if (wc) {
        flow_wildcards_init_catchall(wc);
        wc->masks.in_port.odp_port = u32_to_odp(UINT32_MAX);
        wc->masks.recirc_id = UINT32_MAX;
        wc->masks.dl_type = OVS_BE16_MAX;
        wc->masks.vlans[0].tci = OVS_BE16_MAX;
        wc->masks.nw_frag = FLOW_NW_FRAG_MASK;
    }
    if (flow->dl_type == htons(ETH_TYPE_IP)
        && (flow->nw_proto == IPPROTO_UDP || flow->nw_proto == IPPROTO_TCP)
        && ((flow->in_port.odp_port == b->vf0_port && net == CT_NET)
            || (flow->in_port.odp_port == b->vf1_port
                && (ntohl(flow->nw_src) & 0xffff0000) == CT_NET))) {
        if (wc) {
            if (flow->in_port.odp_port == b->vf0_port) {
                wc->masks.nw_dst = htonl(0xffff0000);
            } else {
                wc->masks.nw_src = htonl(0xffff0000);
            }
        }
        upcall_ct(b, flow, actions, wc);
        return 0;
    }
    if (flow->in_port.odp_port != b->vf0_port) {
        return 0;                           /* Drop. */
    }
    if (net == ROUTED_NET) {
        /* ip,nw_dst=10.100.0.0/16,actions=dec_ttl,mod_dl_src,mod_dl_dst,
         * output: dec_ttl makes the TTL part of the megaflow. */
        struct ovs_key_ipv4 key, mask;

        memset(&key, 0, sizeof key);
        memset(&mask, 0, sizeof mask);
        key.ipv4_ttl = flow->nw_ttl - 1;
        mask.ipv4_ttl = UINT8_MAX;
        put_set_masked(actions, OVS_KEY_ATTR_IPV4, &key, &mask, sizeof key);
        put_set_eth_dst(actions, 0x01, true);
        nl_msg_put_odp_port(actions, OVS_ACTION_ATTR_OUTPUT, b->vf1_port);
        if (wc) {
            wc->masks.nw_dst = htonl(0xffff0000);
            wc->masks.nw_ttl = UINT8_MAX;
        }
    } else if (net == SELECT_NET && !flow->recirc_id) {
        /* ip,nw_dst=10.200.0.0/16,actions=group:1 (dp_hash): hash and
         * recirculate. */
        struct ovs_action_hash hash = { OVS_HASH_ALG_L4, 0 };

        nl_msg_put_unspec(actions, OVS_ACTION_ATTR_HASH, &hash, sizeof hash);
        nl_msg_put_u32(actions, OVS_ACTION_ATTR_RECIRC, 1);
        if (wc) {
            wc->masks.nw_dst = htonl(0xffff0000);
        }
    } else if (net == SELECT_NET) {
        /* After the recirculation: the bucket of dp_hash & 3. */
        put_set_eth_dst(actions, 0xb0 + (flow->dp_hash & 3), false);
        nl_msg_put_odp_port(actions, OVS_ACTION_ATTR_OUTPUT, b->vf1_port);
        if (wc) {
            wc->masks.dp_hash = 3;
        }
    }
    return 0;
}

static void *
datapath_main(void *b_)
{
    struct bench *b = b_;
    bool stop = false;

    while (!stop) {
        dpif_run(b->dpif);
        dpif_wait(b->dpif);
        poll_timer_wait(1);
        poll_block();
        atomic_read(&b->stop, &stop);
    }
    return NULL;
}

/* The answer to make_frame(f, ip_dst, sport): from pf0vf1, ip_dst:53 to
 * 10.0.0.1:sport. */
static void
make_reply(uint8_t *f, uint32_t ip_src, uint16_t dport)
{
    static const uint8_t hdr[] = {
        0x02, 0x65, 0x00, 0x02, 0x00, 0x00,     /* dst: pf0vf0. */
        0x02, 0x65, 0x00, 0x02, 0x00, 0x01,     /* src: pf0vf1. */
        0x08, 0x00,
        0x45, 0x00, 0x00, FRAME_LEN - 14, 0x00, 0x00, 0x00, 0x00, 64, 17,
        0x00, 0x00, 0, 0, 0, 0, 10, 0, 0, 1,
    };
    uint16_t csum;

    memset(f, 0, FRAME_LEN);
    memcpy(f, hdr, sizeof hdr);
    for (int i = 0; i < 4; i++) {
        f[26 + i] = ip_src >> (24 - 8 * i);
    }
    csum = csum_finish(csum_continue(0, f + 14, 20));
    memcpy(f + 24, &csum, 2);
    f[35] = 53;
    f[36] = dport >> 8;
    f[37] = dport;
    f[39] = FRAME_LEN - 34;
}

static void
make_frame(uint8_t *f, uint32_t ip_dst, uint16_t sport)
{
    static const uint8_t hdr[] = {
        0x02, 0x00, 0x00, 0x00, 0xfe, 0x00,     /* dst: the router. */
        0x02, 0x65, 0x00, 0x02, 0x00, 0x00,     /* src: pf0vf0. */
        0x08, 0x00,
        0x45, 0x00, 0x00, FRAME_LEN - 14, 0x00, 0x00, 0x00, 0x00, 64, 17,
        0x00, 0x00, 10, 0, 0, 1,
    };
    uint16_t csum;

    memset(f, 0, FRAME_LEN);
    memcpy(f, hdr, sizeof hdr);
    for (int i = 0; i < 4; i++) {
        f[30 + i] = ip_dst >> (24 - 8 * i);
    }
    csum = csum_finish(csum_continue(0, f + 14, 20));
    memcpy(f + 24, &csum, 2);
    f[34] = sport >> 8;
    f[35] = sport;
    f[37] = 53;
    f[39] = FRAME_LEN - 34;
}

/* Reads and frees what function 'fn' received; returns how many. */
static uint64_t
drain_fn(struct bench *b, uint32_t fn)
{
    struct esw_pkt *out[64];
    uint64_t total = 0;
    size_t n;

    do {
        n = esw_host_capture_read(b->dev, fn, out, ARRAY_SIZE(out));
        for (size_t i = 0; i < n; i++) {
            esw_pkt_free(out[i]);
        }
        total += n;
    } while (n);
    return total;
}

static uint64_t
drain(struct bench *b)
{
    return drain_fn(b, b->vf1);
}

/* Injects one frame on function 'in' once fewer than WINDOW packets are
 * in flight to function 'out'. */
static void
inject_fn(struct bench *b, uint32_t in, uint32_t out, const uint8_t *frame,
          uint64_t *injected, uint64_t *delivered)
{
    uint64_t deadline = 0;

    while (*injected - *delivered >= WINDOW) {
        uint64_t n = drain_fn(b, out);

        *delivered += n;
        if (!n) {
            if (!deadline) {
                deadline = now_ns() + 100000000;
            } else if (now_ns() > deadline) {
                *delivered = *injected - WINDOW + 1;    /* Lost one. */
                break;
            }
            sched_yield();
        }
    }
    for (;;) {
        struct esw_pkt *pkt = esw_pkt_from_data(frame, FRAME_LEN);

        if (!esw_host_inject(b->dev, in, pkt)) {
            ++*injected;
            return;
        }
        *delivered += drain_fn(b, out);
        sched_yield();
    }
}

/* Injects one frame on pf0vf0 (see inject_fn()). */
static void
inject(struct bench *b, const uint8_t *frame, uint64_t *injected,
       uint64_t *delivered)
{
    inject_fn(b, b->vf0, b->vf1, frame, injected, delivered);
}

/* Reads what function 'fn' receives until 'target' packets were
 * delivered or 10 s passed. */
static void
wait_fn(struct bench *b, uint32_t fn, uint64_t *delivered, uint64_t target)
{
    uint64_t deadline = now_ns() + 10ULL * 1000000000;

    while (*delivered < target && now_ns() < deadline) {
        uint64_t n = drain_fn(b, fn);

        *delivered += n;
        if (!n) {
            usleep(50);
        }
    }
}

static void
wait_delivered(struct bench *b, uint64_t *delivered, uint64_t target)
{
    wait_fn(b, b->vf1, delivered, target);
}

/* Waits until the device has 'target' rules or 10 s passed. */
static void
wait_rules(struct bench *b, size_t target)
{
    uint64_t deadline = now_ns() + 10ULL * 1000000000;

    while (esw_rule_count(b->dev) < target && now_ns() < deadline) {
        usleep(1000);
    }
}

/* Injects 'frames' (n of them, in turn) on pf0vf0 for a warm-up of 0.5 s
 * and then the measuring window: stores Mpps delivered on pf0vf1 and CPU
 * time per delivered packet. */
static void
measure(struct bench *b, const uint8_t *frames, size_t n,
        uint64_t *injected, uint64_t *delivered, double *mpps,
        double *cpu_ns)
{
    uint64_t t0, t1, d0 = 0, cpu0 = 0;

    t0 = now_ns();
    for (uint64_t i = 0; ; i++) {
        inject(b, frames + (i % n) * FRAME_LEN, injected, delivered);
        if (!(i & 63)) {
            uint64_t t = now_ns();

            *delivered += drain(b);
            if (!d0 && t - t0 > 500000000) {
                d0 = *delivered;
                t0 = t;
                cpu0 = datapath_cpu_ns();
            } else if (d0 && t - t0 > b->seconds * 1e9) {
                break;
            }
        }
    }
    *delivered += drain(b);
    t1 = now_ns();
    *mpps = (*delivered - d0) / ((t1 - t0) / 1e9) / 1e6;
    *cpu_ns = (double) (datapath_cpu_ns() - cpu0) / (*delivered - d0);
    usleep(100000);
    *delivered += drain(b);
    if (*delivered < *injected) {
        /* Lost ones would hold up every later wait_delivered(). */
        *delivered = *injected;
    }
}

static void
run_workload(struct bench *b, enum workload w, struct result *r)
{
    uint32_t net = w == ROUTED ? ROUTED_NET : SELECT_NET;
    uint8_t *frames = xmalloc((size_t) N_FLOWS * FRAME_LEN);
    uint64_t injected = 0, delivered = 0;
    size_t rules0 = esw_rule_count(b->dev);

    for (unsigned int i = 0; i < N_FLOWS; i++) {
        make_frame(frames + (size_t) i * FRAME_LEN, net | (i % 16),
                   1024 + i);
    }
    /* First packets: the megaflows (and, hw, their rules: one for the
     * router, one plus one per bucket for the group). */
    for (unsigned int i = 0; i < N_FLOWS; i++) {
        inject(b, frames + (size_t) i * FRAME_LEN, &injected, &delivered);
    }
    wait_delivered(b, &delivered, injected);
    if (b->hw) {
        wait_rules(b, rules0 + (w == ROUTED ? 1 : 5));
    }
    r->rules[w] = esw_rule_count(b->dev) - rules0;

    measure(b, frames, N_FLOWS, &injected, &delivered, &r->mpps[w],
            &r->cpu_ns[w]);
    free(frames);
}

/* The conntrack workload.
 * ======================= */

/* Connection i's tuple: 10.0.0.1:sport -> ip:53, UDP. */
static void
ct_tuple(unsigned int i, uint32_t *ip, uint16_t *sport)
{
    *ip = CT_NET | (i >> 14);
    *sport = 1024 + (i & 0x3fff);
}

/* Bytes malloc'd (all arenas, mmapped blocks included). */
static double
malloc_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();

    return (double) mi.uordblks + mi.hblkhd;
}

/* Resident set size, bytes. */
static double
rss_bytes(void)
{
    unsigned long size, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%lu %lu", &size, &rss) != 2) {
            rss = 0;
        }
        fclose(f);
    }
    return (double) rss * sysconf(_SC_PAGESIZE);
}

struct ct_io {
    uint8_t *frames;                /* Connection i's pf0vf0 frame. */
    uint64_t injected, delivered;   /* pf0vf0 -> pf0vf1. */
    uint64_t replied, reply_delivered;      /* pf0vf1 -> pf0vf0. */
    uint64_t lost;                  /* First packets not delivered. */
};

static void
ct_open(struct bench *b, struct ct_io *io, unsigned int i)
{
    inject(b, io->frames + (size_t) i * FRAME_LEN, &io->injected,
           &io->delivered);
}

static void
ct_answer(struct bench *b, struct ct_io *io, unsigned int i)
{
    uint8_t frame[FRAME_LEN];
    uint16_t sport;
    uint32_t ip;

    ct_tuple(i, &ip, &sport);
    make_reply(frame, ip, sport);
    inject_fn(b, b->vf1, b->vf0, frame, &io->replied, &io->reply_delivered);
}

/* Waits until the first packets sent were delivered (or 10 s); counts the
 * missing ones lost (so that later waits do not wait for them). */
static void
ct_wait_opened(struct bench *b, struct ct_io *io)
{
    wait_delivered(b, &io->delivered, io->injected);
    if (io->delivered < io->injected) {
        io->lost += io->injected - io->delivered;
        io->delivered = io->injected;
    }
}

/* Sets up connections [first, last) in batches of WINDOW: their first
 * packets, then (once OVS committed them) their answers; returns once
 * every answer was delivered (established in OVS). */
static void
ct_setup_bulk(struct bench *b, struct ct_io *io, unsigned int first,
              unsigned int last)
{
    for (unsigned int i = first; i < last; i += WINDOW) {
        unsigned int end = MIN(last, i + WINDOW);

        for (unsigned int j = i; j < end; j++) {
            ct_open(b, io, j);
        }
        ct_wait_opened(b, io);
        for (unsigned int j = i; j < end; j++) {
            ct_answer(b, io, j);
        }
    }
    wait_fn(b, b->vf0, &io->reply_delivered, io->replied);
}

/* Waits until the device holds 'target' connections or 'timeout_ns'
 * passed, spinning if 'spin'. */
static size_t
wait_conns(struct bench *b, size_t target, uint64_t timeout_ns, bool spin)
{
    uint64_t deadline = now_ns() + timeout_ns;
    size_t n;

    while ((n = esw_ct_count(b->dev)) < target && now_ns() < deadline) {
        if (spin) {
            sched_yield();
        } else {
            usleep(1000);
        }
    }
    return n;
}

static int
cmp_double(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;

    return a < b ? -1 : a > b;
}

/* Makes the UDP frame 'f' (make_frame(), make_reply()) a TCP segment
 * without payload, with 'flags', 'seq' and 'ack'; checksums fixed. */
static void
make_tcp(uint8_t *f, uint8_t flags, uint32_t seq, uint32_t ack)
{
    uint8_t ph[12];
    uint16_t csum;

    f[16] = 0;
    f[17] = 40;                         /* IP total length. */
    f[23] = IPPROTO_TCP;
    f[24] = f[25] = 0;
    csum = csum_finish(csum_continue(0, f + 14, 20));
    memcpy(f + 24, &csum, 2);
    for (int i = 0; i < 4; i++) {
        f[38 + i] = seq >> (24 - 8 * i);
        f[42 + i] = ack >> (24 - 8 * i);
    }
    f[46] = 0x50;                       /* 20-byte header. */
    f[47] = flags;
    f[48] = f[49] = 0xff;               /* Window. */
    memset(f + 50, 0, FRAME_LEN - 50);  /* Checksum, urgent, padding. */
    memcpy(ph, f + 26, 8);              /* Pseudo-header. */
    ph[8] = 0;
    ph[9] = IPPROTO_TCP;
    ph[10] = 0;
    ph[11] = 20;
    csum = csum_finish(csum_continue(csum_continue(0, ph, sizeof ph),
                                     f + 34, 20));
    memcpy(f + 50, &csum, 2);
}

/* Established TCP: 'n' connections (the UDP ones' tuples), each with a
 * handshake through OVS (SYN from pf0vf0, SYN+ACK from pf0vf1, ACK), in
 * batches of WINDOW; then Mpps of pure ACKs (seq and ack as after the
 * handshake) from pf0vf0. */
static void
run_ct_tcp(struct bench *b, unsigned int n, struct ct_result *r)
{
    struct ct_io io = { .frames = xmalloc((size_t) n * FRAME_LEN) };
    size_t conns0 = b->hw ? esw_ct_count(b->dev) : 0;
    uint8_t frame[FRAME_LEN];

    for (unsigned int i = 0; i < n; i++) {
        uint8_t *f = io.frames + (size_t) i * FRAME_LEN;
        uint16_t sport;
        uint32_t ip;

        ct_tuple(i, &ip, &sport);
        make_frame(f, ip, sport);
        make_tcp(f, TCP_ACK, 1001, 5001);
    }
    for (unsigned int i = 0; i < n; i += WINDOW) {
        unsigned int end = MIN(n, i + WINDOW);

        for (unsigned int j = i; j < end; j++) {
            uint16_t sport;
            uint32_t ip;

            ct_tuple(j, &ip, &sport);
            make_frame(frame, ip, sport);
            make_tcp(frame, TCP_SYN, 1000, 0);
            inject(b, frame, &io.injected, &io.delivered);
        }
        ct_wait_opened(b, &io);
        for (unsigned int j = i; j < end; j++) {
            uint16_t sport;
            uint32_t ip;

            ct_tuple(j, &ip, &sport);
            make_reply(frame, ip, sport);
            make_tcp(frame, TCP_SYN | TCP_ACK, 5000, 1001);
            inject_fn(b, b->vf1, b->vf0, frame, &io.replied,
                      &io.reply_delivered);
        }
        wait_fn(b, b->vf0, &io.reply_delivered, io.replied);
        for (unsigned int j = i; j < end; j++) {
            ct_open(b, &io, j);
        }
        ct_wait_opened(b, &io);
    }
    r->tcp_n = n;
    r->tcp_established = io.reply_delivered;
    r->tcp_lost = io.lost;
    if (b->hw) {
        r->tcp_conns = wait_conns(b, conns0 + n, 10ULL * 1000000000, false)
                       - conns0;
    }
    measure(b, io.frames, n, &io.injected, &io.delivered, &r->tcp_mpps,
            &r->tcp_cpu_ns);
    free(io.frames);
}

/* Connections 0..CT_SINGLY-1 one at a time (first packet, delivered;
 * answer, delivered; with offload, the entry in the device, whose delay
 * after the answer's delivery is sampled); the rest in bulk, timed and
 * with malloc's bytes per connection; Mpps of established traffic from
 * pf0vf0 over the first ct_points[p] connections, for each point. */
static void
run_ct(struct bench *b, struct ct_result *r)
{
    unsigned int n_max = b->ct_points[CT_POINTS - 1];
    struct ct_io io = { .frames = xmalloc((size_t) n_max * FRAME_LEN) };
    double *lat = xmalloc(CT_SINGLY * sizeof *lat);
    double *est = xmalloc(CT_SINGLY * sizeof *est);
    size_t rules0 = esw_rule_count(b->dev);
    unsigned int n = 0, bulk_end;
    int p = 0;

    if (ct_dpif_get_maxconns(b->dpif, &r->ovs_maxconns)) {
        r->ovs_maxconns = 0;
    }
    r->dev_capacity = esw_ct_capacity(b->dev);
    for (unsigned int i = 0; i < n_max; i++) {
        uint16_t sport;
        uint32_t ip;

        ct_tuple(i, &ip, &sport);
        make_frame(io.frames + (size_t) i * FRAME_LEN, ip, sport);
    }

    while (n < CT_SINGLY) {
        size_t conns0 = b->hw ? esw_ct_count(b->dev) : 0;
        uint64_t t0, t_est = 0, t_dev = 0, deadline;

        ct_open(b, &io, n);
        ct_wait_opened(b, &io);

        /* The answer: until it is delivered (OVS established the
         * connection) and, hw, the device holds the connection. */
        t0 = now_ns();
        deadline = t0 + 1000000000;
        ct_answer(b, &io, n);
        while ((!t_est || (b->hw && !t_dev)) && now_ns() < deadline) {
            if (!t_est) {
                io.reply_delivered += drain_fn(b, b->vf0);
                if (io.reply_delivered == io.replied) {
                    t_est = now_ns();
                }
            }
            if (b->hw && !t_dev && esw_ct_count(b->dev) > conns0) {
                t_dev = now_ns();
            }
            sched_yield();
        }
        if (t_est) {
            est[r->lat_n] = (t_est - t0) / 1e3;
            lat[r->lat_n] = (t_dev - t0) / 1e3;
            r->lat_n += !b->hw || t_dev;
        }
        n++;
        if (n == 1) {
            /* One established packet more from pf0vf0: OVS's flow for
             * it (and, hw, its rule). */
            ct_open(b, &io, 0);
            ct_wait_opened(b, &io);
            if (b->hw) {
                wait_rules(b, rules0 + 3);
            }
        }
        if (p < CT_POINTS && n == b->ct_points[p]) {
            measure(b, io.frames, n, &io.injected, &io.delivered,
                    &r->mpps[p], &r->cpu_ns[p]);
            r->conns[p] = b->hw ? esw_ct_count(b->dev) : 0;
            p++;
        }
    }
    r->rules = esw_rule_count(b->dev) - rules0;
    if (r->lat_n) {
        qsort(lat, r->lat_n, sizeof *lat, cmp_double);
        qsort(est, r->lat_n, sizeof *est, cmp_double);
        r->lat_med_us = lat[r->lat_n / 2];
        r->lat_p99_us = lat[(size_t) (r->lat_n * 0.99)];
        r->est_med_us = est[r->lat_n / 2];
        r->est_p99_us = est[(size_t) (r->lat_n * 0.99)];
    }

    /* TCP, over as many connections as the second point. */
    run_ct_tcp(b, b->ct_points[1], r);

    /* In bulk, as many as the device can hold (the same number in both
     * modes), timed; then the rest. */
    bulk_end = MIN(n_max, r->dev_capacity - r->tcp_n);
    if (bulk_end > n) {
        uint64_t replied0 = io.replied, lost0 = io.lost, t0, t1;
        size_t conns0 = b->hw ? esw_ct_count(b->dev) : 0;
        double mem0;

        usleep(100000);
        mem0 = malloc_bytes();
        t0 = now_ns();
        ct_setup_bulk(b, &io, n, bulk_end);
        t1 = now_ns();
        r->bulk_n = bulk_end - n;
        r->bulk_established = io.reply_delivered - replied0;
        r->bulk_lost = io.lost - lost0;
        r->bulk_s = (t1 - t0) / 1e9;
        if (b->hw) {
            r->bulk_in_dev = wait_conns(b, conns0 + r->bulk_n,
                                        10ULL * 1000000000, true) - conns0;
            r->bulk_dev_s = (now_ns() - t0) / 1e9;
        }
        usleep(100000);
        r->bulk_bytes = (malloc_bytes() - mem0) / r->bulk_n;
        n = bulk_end;
    }
    if (n < n_max) {
        ct_setup_bulk(b, &io, n, n_max);
        n = n_max;
        if (b->hw) {
            usleep(100000);
        }
    }
    for (; p < CT_POINTS; p++) {
        measure(b, io.frames, b->ct_points[p], &io.injected, &io.delivered,
                &r->mpps[p], &r->cpu_ns[p]);
        r->conns[p] = b->hw ? esw_ct_count(b->dev) - r->tcp_conns : 0;
    }
    if (b->hw) {
        ct_offload_get_stats(&r->stats);
    }
    free(lat);
    free(est);
    free(io.frames);
}

/* The device's table alone (a sim device of its own, with room for 'n'
 * connections): malloc'd bytes and RSS for the table at creation and
 * per entry after adding 'n' UDP connections. */
struct ct_mem {
    unsigned int n;
    double table_bytes;             /* At creation (hash buckets...). */
    double entry_bytes, entry_rss;  /* Per entry. */
    size_t entry_struct;            /* malloc_usable_size() of a handle. */
    int error;
};

static void
measure_ct_memory(unsigned int n, struct ct_mem *m)
{
    struct esw_dev_config cfg = { .max_conns = n };
    struct esw_dev *dev;
    double mem0, mem1, rss1;

    memset(m, 0, sizeof *m);
    m->n = n;
    mem0 = malloc_bytes();
    m->error = esw_dev_open("ctmem", "sim", &cfg, &dev);
    if (m->error) {
        return;
    }
    mem1 = malloc_bytes();
    rss1 = rss_bytes();
    m->table_bytes = mem1 - mem0;
    for (unsigned int i = 0; i < n; i++) {
        struct esw_ct_spec spec;
        struct esw_error err;
        struct esw_ct *ct;
        uint16_t sport;
        uint32_t ip;

        ct_tuple(i, &ip, &sport);
        memset(&spec, 0, sizeof spec);
        spec.zone = CT_ZONE;
        spec.orig.src.ip4 = htonl(0x0a000001);
        spec.orig.dst.ip4 = htonl(ip);
        spec.orig.src_port = htons(sport);
        spec.orig.dst_port = htons(53);
        spec.orig.ip_proto = IPPROTO_UDP;
        spec.reply.src = spec.orig.dst;
        spec.reply.dst = spec.orig.src;
        spec.reply.src_port = spec.orig.dst_port;
        spec.reply.dst_port = spec.orig.src_port;
        spec.reply.ip_proto = IPPROTO_UDP;
        m->error = esw_ct_add(dev, &spec, &err, &ct);
        if (m->error) {
            break;
        }
        if (!i) {
            m->entry_struct = malloc_usable_size(ct);
        }
    }
    if (!m->error) {
        m->entry_bytes = (malloc_bytes() - mem1) / n;
        m->entry_rss = (rss_bytes() - rss1) / n;
    }
    esw_dev_close(dev);
}

static int
open_port(struct bench *b, const char *name, const char *type,
          odp_port_t *portp)
{
    struct smap args = SMAP_INITIALIZER(&args);
    struct netdev *netdev;
    char *err = NULL;
    int error;

    error = netdev_open(name, type, &netdev);
    if (!error) {
        error = netdev_set_config(netdev, &args, &err);
    }
    if (!error) {
        *portp = ODPP_NONE;
        error = dpif_port_add(b->dpif, netdev, portp);
    }
    if (error) {
        fprintf(stderr, "%s: %s %s\n", name, ovs_strerror(error),
                err ? err : "");
    }
    free(err);
    return error;
}

/* The device's connection table: every connection of the largest point
 * and the TCP ones (as many as the second point). */
static unsigned int
ct_table_size(const struct bench *b)
{
    return b->ct_points[CT_POINTS - 1] + b->ct_points[1];
}

static int
run_mode(struct bench *b, struct result *r)
{
    struct smap cfg = SMAP_INITIALIZER(&cfg);
    odp_port_t p0_port;
    char *err = NULL;

    memset(r, 0, sizeof *r);
    smap_add(&cfg, "eswitch-host-io", "capture");
    smap_add(&cfg, "eswitch-vfs", "2");
    smap_add(&cfg, "hw-offload", b->hw ? "true" : "false");
    smap_add(&cfg, "eswitch-pmd", b->hw ? "false" : "true");
    smap_add(&cfg, "pmd-cpu-mask", "0x1");
    smap_add_format(&cfg, "eswitch-max-conns", "%u", ct_table_size(b));
    ovs_numa_init();            /* As bridge_init() does: PMD threads
                                 * need the CPU list, */
    odp_execute_init();         /* and the actions their implementation. */
    ovs_ext_register();
    ovs_ext_set_ovs_config(&cfg);
    netdev_set_flow_api_enabled(&cfg);

    /* dpif-netdev under its "dummy" type: the same datapath, with a dummy
     * internal port rather than a tap device (the child exits without
     * tearing the datapath down). */
    dummy_enable(NULL);
    if (dpif_create_and_open("ovs-routed", "dummy", &b->dpif)) {
        fprintf(stderr, "cannot create the datapath\n");
        return 1;
    }
    dpif_set_config(b->dpif, &cfg);
    if (open_port(b, "p0", "esw-uplink", &p0_port)
        || open_port(b, "pf0vf0", "esw-vf", &b->vf0_port)
        || open_port(b, "pf0vf1", "esw-vf", &b->vf1_port)
        || eswitch_find_function("pf0vf0", &b->dev, &b->vf0, &err)
        || eswitch_find_function("pf0vf1", &b->dev, &b->vf1, &err)) {
        fprintf(stderr, "cannot set up the ports: %s\n", err ? err : "");
        return 1;
    }
    /* As bridge_run() does on every iteration: now that the eSwitch
     * exists, connection offload turns on (with hw-offload). */
    ovs_ext_set_ovs_config(&cfg);
    dpif_register_upcall_cb(b->dpif, upcall_cb, b);
    dpif_enable_upcall(b->dpif);

    atomic_init(&b->stop, false);
    pthread_create(&b->dp_thread, NULL, datapath_main, b);
    ovsrcu_quiesce_start();

    for (int w = 0; w < N_WORKLOADS; w++) {
        run_workload(b, w, r);
    }
    run_ct(b, &r->ct);

    atomic_store(&b->stop, true);
    pthread_join(b->dp_thread, NULL);
    smap_destroy(&cfg);
    return 0;
}

static int
run_child(struct bench *b, struct result *r)
{
    int fds[2];
    pid_t pid;
    int status;
    ssize_t n;

    if (pipe(fds)) {
        return 1;
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        return 1;
    }
    if (!pid) {
        struct result res;
        int error;

        close(fds[0]);
        error = run_mode(b, &res);
        if (!error && write(fds[1], &res, sizeof res) != sizeof res) {
            error = 1;
        }
        _exit(error);
    }
    close(fds[1]);
    n = read(fds[0], r, sizeof *r);
    close(fds[0]);
    waitpid(pid, &status, 0);
    return (n == sizeof *r && WIFEXITED(status) && !WEXITSTATUS(status))
           ? 0 : 1;
}

/* "1 connection", "1K connections", "100K connections". */
static void
ct_count_label(unsigned int n, char *buf, size_t size)
{
    if (n >= 1000 && !(n % 1000)) {
        snprintf(buf, size, "%uK connections", n / 1000);
    } else {
        snprintf(buf, size, "%u connection%s", n, n == 1 ? "" : "s");
    }
}

static void
print_ct(const struct bench *b, const struct ct_result *sw,
         const struct ct_result *hw)
{
    const struct ct_offload_stats *st = &hw->stats;

    printf("allow-related ACL (ct), zone %d: ct,recirc; +new from pf0vf0: "
           "ct(commit),output; +est: output\n", CT_ZONE);
    printf("  limits: OVS's conntrack maxconns %"PRIu32" (its default, "
           "unchanged); device table %"PRIuSIZE" entries "
           "(other_config:eswitch-max-conns=%u, both modes); the offload "
           "worker's queue: its compiled-in bound (declines counted "
           "below)\n", hw->ovs_maxconns, hw->dev_capacity,
           ct_table_size(b));
    for (int p = 0; p < CT_POINTS; p++) {
        unsigned int n = b->ct_points[p];
        char what[32], label[64];

        ct_count_label(n, what, sizeof what);
        snprintf(label, sizeof label, "est UDP, %s (Mpps)", what);
        if (hw->conns[p] >= n) {
            printf("%-40s %18.3f %18.3f  (x%.1f, %u device rules, %u device "
                   "connections)\n", label, sw->mpps[p], hw->mpps[p],
                   hw->mpps[p] / sw->mpps[p], hw->rules, hw->conns[p]);
            printf("%-40s %18.0f %18.0f  (x%.1f less)\n",
                   "  CPU per packet, all but injector (ns)", sw->cpu_ns[p],
                   hw->cpu_ns[p], sw->cpu_ns[p] / hw->cpu_ns[p]);
        } else {
            printf("%-40s %18.3f %18s  (not measured offloaded: the device "
                   "holds %u of the %u connections, its table being full; "
                   "with the other %u in software: %.3f Mpps)\n", label,
                   sw->mpps[p], "n/a", hw->conns[p], n, n - hw->conns[p],
                   hw->mpps[p]);
            printf("%-40s %18.0f %18s\n",
                   "  CPU per packet, all but injector (ns)", sw->cpu_ns[p],
                   "n/a");
        }
    }

    {
        char what[32], label[64];

        ct_count_label(sw->tcp_n, what, sizeof what);
        snprintf(label, sizeof label, "est TCP, %s (Mpps)", what);
        printf("%-40s %18.3f %18.3f  (x%.1f, %u device connections; "
               "handshakes through OVS: %u and %u SYN+ACKs delivered, %u "
               "and %u segments lost)\n", label, sw->tcp_mpps, hw->tcp_mpps,
               hw->tcp_mpps / sw->tcp_mpps, hw->tcp_conns,
               sw->tcp_established, hw->tcp_established, sw->tcp_lost,
               hw->tcp_lost);
        printf("%-40s %18.0f %18.0f  (x%.1f less)\n",
               "  CPU per packet, all but injector (ns)", sw->tcp_cpu_ns,
               hw->tcp_cpu_ns, sw->tcp_cpu_ns / hw->tcp_cpu_ns);
    }
    printf("%-40s %18.0f %18.0f  (%u new UDP connections, first packet "
           "and answer, %u and %u answers delivered, %u and %u first "
           "packets lost)\n",
           "connections set up per second, in OVS", sw->bulk_n / sw->bulk_s,
           hw->bulk_n / hw->bulk_s, sw->bulk_n, sw->bulk_established,
           hw->bulk_established, sw->bulk_lost, hw->bulk_lost);
    printf("%-40s %18s %18.0f  (%u of %u in the device after %.3f s)\n",
           "  ... and in the device", "-", hw->bulk_in_dev / hw->bulk_dev_s,
           hw->bulk_in_dev, hw->bulk_n, hw->bulk_dev_s);
    printf("%-40s %18.1f %18.1f  (p99 %.1f and %.1f; %u and %u connections "
           "set up one at a time: answer injected -> delivered)\n",
           "  answer to established in OVS, med (us)", sw->est_med_us,
           hw->est_med_us, sw->est_p99_us, hw->est_p99_us, sw->lat_n,
           hw->lat_n);
    printf("%-40s %18s %18.1f  (p99 %.1f: answer injected -> the "
           "connection in the device's table)\n",
           "  answer to device entry, median (us)", "-", hw->lat_med_us,
           hw->lat_p99_us);
    printf("  offload worker: %"PRIu64" connections offered, %"PRIu64
           " added, %"PRIu64" refused by the device (table full), %"PRIu64
           " declined (queue full)\n", st->offered, st->added,
           st->add_full, st->declined_busy);
}

static void
print_ct_memory(const struct ct_result *sw, const struct ct_result *hw,
                const struct ct_mem *m)
{
    printf("%-40s %18.0f %18.0f  (malloc'd bytes, all arenas, during the "
           "bulk set-up of %u connections; offloaded - software: %.0f)\n",
           "memory per connection (bytes)", sw->bulk_bytes, hw->bulk_bytes,
           sw->bulk_n, hw->bulk_bytes - sw->bulk_bytes);
    if (m->error) {
        printf("  device table alone: not measured: %s\n",
               ovs_strerror(m->error));
        return;
    }
    printf("%-40s %18s %18.0f  (a sim device of its own, max_conns=%u, "
           "%u UDP entries: malloc'd bytes; entry struct %"PRIuSIZE" "
           "(malloc_usable_size), plus its mark/label block; RSS %.0f "
           "per entry)\n", "  device table alone, per entry (bytes)", "-",
           m->entry_bytes, m->n, m->n, m->entry_struct, m->entry_rss);
    printf("%-40s %18s %18.0f  (at creation, for max_conns=%u: hash "
           "buckets, %.1f bytes per connection of capacity)\n",
           "  device table alone, empty (bytes)", "-", m->table_bytes,
           m->n, m->table_bytes / m->n);
}

int
main(int argc, char *argv[])
{
    struct bench b = { .seconds = 2, .ct_points = { 1, 1000, 100000 } };
    struct result sw, hw;
    struct ct_mem mem;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            b.seconds = 0.5;
            b.ct_points[2] = 10000;
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            b.seconds = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--quick] [--seconds S]\n", argv[0]);
            return 2;
        }
    }
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);

    b.hw = false;
    if (run_child(&b, &sw)) {
        fprintf(stderr, "software-path run failed\n");
        return 1;
    }
    b.hw = true;
    if (run_child(&b, &hw)) {
        fprintf(stderr, "offloaded run failed\n");
        return 1;
    }

    printf("dpif-netdev + eSwitch sim, capture I/O, 64-byte UDP, %d active "
           "flows, pf0vf0 -> pf0vf1\n", N_FLOWS);
    printf("software path: hw-offload=false, eswitch-pmd=true (1 PMD "
           "thread); offloaded: hw-offload=true\n");
    printf("%-40s %18s %18s\n", "", "software path", "offloaded");
    for (int w = 0; w < N_WORKLOADS; w++) {
        char label[64];

        snprintf(label, sizeof label, "%s (Mpps)", workload_names[w]);
        printf("%-40s %18.3f %18.3f  (x%.1f, %u device rules)\n", label,
               sw.mpps[w], hw.mpps[w], hw.mpps[w] / sw.mpps[w],
               hw.rules[w]);
        printf("%-40s %18.0f %18.0f  (x%.1f less)\n",
               "  CPU per packet, all but injector (ns)", sw.cpu_ns[w],
               hw.cpu_ns[w], sw.cpu_ns[w] / hw.cpu_ns[w]);
    }
    print_ct(&b, &sw.ct, &hw.ct);

    measure_ct_memory(b.ct_points[CT_POINTS - 1], &mem);
    print_ct_memory(&sw.ct, &hw.ct, &mem);
    return 0;
}
