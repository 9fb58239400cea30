/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Flow offload benchmark: OVS's userspace datapath (dpif-netdev) with the
 * eSwitch's representors as ports, printed side by side in three modes:
 * hw-offload=false; hw-offload=true with OVS 3.1's offload thread as it is
 * without our patch series (it polls its queue, sleeping 1 to 64 ms when
 * it is empty: dpif_netdev_set_offload_wake(false), the peer); and
 * hw-offload=true as ovs-ext runs it (the offload thread wakes when a
 * request arrives, vswitchd-plugin/ovs-patches/0001).  Each mode runs in
 * its own child process (OVS's flow API cannot be switched off once on),
 * with the same I/O: in-memory ("capture") host sides, 64-byte UDP frames
 * injected on pf0vf0 and read on pf0vf1.
 *
 * There is no ofproto here: an upcall callback stands for OVS's slow path
 * (output pf0vf0 -> pf0vf1, megaflow mask in_port + eth_type + ip_dst), so
 * the flow-setup rate is dpif-netdev's upcall/flow-install rate, with the
 * offload thread (hw) running beside it.  The main thread is dpif-netdev's
 * non-PMD thread, as in ovs-vswitchd (our ports are not PMD ports): it
 * polls the representors and sleeps on their eventfds when idle.
 *
 * Measured:
 *   - new-flow setup rate: N first packets, each of a new megaflow,
 *     injected back to back; flows/s until all were delivered (through
 *     OVS's software path in both modes).
 *   - first packet -> offloaded (hw only): new flows at a paced rate
 *     (default 10000 flows/s); the offload thread records when it put
 *     the rule of flow k in the device (see __wrap_netdev_flow_put()).
 *     Median and p99, and the bursts in which rules appear (rules that
 *     appear within 100 us of each other: OVS 3.1's polling offload thread
 *     takes flows in bursts).  The CPU per new flow at that rate, every
 *     thread but the injector, and the offload thread's sleeps per flow.
 *     Then the same phase once more with hw-offload=true and a device that
 *     never sleeps, as a NIC (the eSwitch's forwarding thread busy-polls:
 *     other_config:eswitch-busy-poll), printed apart: latencies only, the
 *     spinning thread's CPU is not comparable.  The first figure, the
 *     device sleeping on its queues, stays the headline.
 *   - forwarding: 1, 1K and 100K active 5-tuples (one megaflow: only
 *     ip_dst is in the mask), Mpps delivered to pf0vf1 over the measuring
 *     window; in hw mode after the rule is in the device; the second of
 *     two passes (the first warms up).  Injection is closed-loop (at most
 *     WINDOW packets in flight), so nothing is lost to queue overflow.
 *
 * Usage: bench-offload [--quick] [--seconds S] [--setup-flows N]
 *                      [--busy-poll] [--no-forwarding]
 *                      [--modes sw,poll,hw,busy]
 * (--setup-flows: flows in the setup phase, e.g. many for a profile;
 * --busy-poll: every run with a busy-polling device; --no-forwarding and
 * --modes: only some phases and modes, for A/B comparisons and profiles;
 * a mode not run prints as zeros.)
 * Targets: offloaded forwarding >= 3x the software path (issue 6); at 10K
 * new flows/s, first packet -> in device p99 < 200 us and median < 50 us;
 * offload adds <= 10% to the CPU per new flow (issue 14). */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dpif.h"
#include "dpif-netdev.h"
#include "flow.h"
#include "netdev.h"
#include "netdev-offload.h"
#include "netlink.h"
#include "odp-netlink.h"
#include "odp-util.h"
#include "openvswitch/match.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs-atomic.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "packets.h"
#include "smap.h"
#include "util.h"

#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#include "ovs-ext/eswitch.h"
#include "ovs-ext/ovs-ext.h"

#define FRAME_LEN 60

/* Modes, for --modes (default all three). */
#define MODE_SW   1u                    /* hw-offload=false. */
#define MODE_POLL 2u                    /* true, OVS 3.1's polling. */
#define MODE_HW   4u                    /* true, as ovs-ext runs it. */
#define MODE_BUSY 8u                    /* true, the device busy-polls
                                         * (latency phase only). */
#define N_FWD_CASES 3

static const unsigned int fwd_flows[N_FWD_CASES] = { 1, 1000, 100000 };

struct result {
    double setup_rate;                  /* New flows/s. */
    double setup_cpu_us;                /* CPU (all threads but the
                                         * injector) per new flow. */
    double setup_cpu_util;              /* That CPU / wall time (cores). */
    double setup_main_us;               /* Of which dpif-netdev's thread. */
    double setup_offload_us;            /* Of which OVS's offload thread. */
    double setup_ofl_sleeps;            /* Its sleeps (voluntary context
                                         * switches) per new flow. */
    double lat_p50_us, lat_p99_us;      /* hw only; < 0 if not measured. */
    unsigned int lat_batches;           /* Bursts of rules (hw only). */
    double lat_gap_us;                  /* Median time between bursts. */
    double miss_p50_us, miss_p99_us;    /* First packet -> upcall. */
    double ofl_p50_us, ofl_p99_us;      /* Upcall -> in device. */
    unsigned int lat_n;
    double lat_cpu_us;                  /* CPU (all but the injector) per
                                         * new flow in the latency phase. */
    double lat_ofl_sleeps;              /* Offload thread's sleeps per new
                                         * flow in that phase. */
    double mpps[N_FWD_CASES];
    double fwd_cpu_ns[N_FWD_CASES];     /* CPU per delivered packet, all
                                         * threads but the injector. */
};

struct bench {
    bool hw;
    bool poll;                          /* hw: OVS 3.1's polling offload
                                         * thread (the unpatched peer). */
    bool busy_poll;                     /* --busy-poll: the eSwitch's
                                         * forwarding thread spins. */
    double seconds;
    unsigned int n_setup;               /* Flows in the setup phase. */
    unsigned int n_lat;                 /* Flows in the latency phase. */
    unsigned int lat_rate;              /* New flows/s in that phase. */
    bool no_forwarding;                 /* --no-forwarding: skip it. */
    unsigned int modes;                 /* --modes: MODE_* bits to run. */

    struct dpif *dpif;
    odp_port_t vf0_port, vf1_port;
    struct esw_dev *dev;
    uint32_t vf0, vf1;

    atomic_bool stop;                   /* Stops the datapath thread. */
    pthread_t dp_thread;

    /* Whether the injector sleeps (rather than yields) while waiting for
     * room in its window, see inject(). */
    bool sleep_wait;

    /* Latency phase: when the slow path (upcall) saw flow k, and (hw)
     * when its rule was in the device (atomic: written by the offload
     * thread, see __wrap_netdev_flow_put()). */
    uint64_t *t_upcall;
    unsigned int n_t_upcall;
    atomic_uint64_t *t_rule;
    atomic_uint64_t n_timed;            /* Nonzero entries in 't_rule'. */
    size_t rules_base;                  /* Device rules before the phase. */
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

/* CPU time consumed by every thread of this process except the calling
 * one (the injector, which stands for the traffic source). */
static uint64_t
datapath_cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID)
           - clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* Stands for OVS's slow path: pf0vf0 -> pf0vf1, mask in_port, eth_type,
 * ip_dst (and recirc_id, which dpif-netdev wants exact). */
static int
upcall_cb(const struct dp_packet *packet OVS_UNUSED, const struct flow *flow,
          ovs_u128 *ufid OVS_UNUSED, unsigned pmd_id OVS_UNUSED,
          enum dpif_upcall_type type OVS_UNUSED,
          const struct nlattr *userdata OVS_UNUSED, struct ofpbuf *actions,
          struct flow_wildcards *wc, struct ofpbuf *put_actions OVS_UNUSED,
          void *aux)
{
    struct bench *b = aux;
    uint32_t k = ntohl(flow->nw_dst) - 0x0a400000;

    if (b->t_upcall && k < b->n_t_upcall && !b->t_upcall[k]) {
        b->t_upcall[k] = now_ns();
    }
    if (flow->in_port.odp_port == b->vf0_port) {
        nl_msg_put_odp_port(actions, OVS_ACTION_ATTR_OUTPUT, b->vf1_port);
    }
    if (wc) {
        flow_wildcards_init_catchall(wc);
        wc->masks.in_port.odp_port = u32_to_odp(UINT32_MAX);
        wc->masks.recirc_id = UINT32_MAX;
        wc->masks.dl_type = OVS_BE16_MAX;
        wc->masks.vlans[0].tci = OVS_BE16_MAX;
        wc->masks.nw_dst = OVS_BE32_MAX;
        wc->masks.nw_frag = FLOW_NW_FRAG_MASK;
    }
    return 0;
}

static void *
datapath_main(void *b_)
{
    struct bench *b = b_;
    bool stop = false;

    /* A name for perf and top -H ("dp-main"): the injector is the other
     * "bench-offload" thread, and is not counted. */
    prctl(PR_SET_NAME, "dp-main");
    while (!stop) {
        dpif_run(b->dpif);
        dpif_wait(b->dpif);
        poll_timer_wait(1);
        poll_block();
        atomic_read(&b->stop, &stop);
    }
    return NULL;
}

static void
make_frame(uint8_t *f, uint32_t ip_src, uint32_t ip_dst, uint16_t sport)
{
    static const uint8_t hdr[] = {
        0x02, 0x65, 0x00, 0x02, 0x00, 0x01,     /* dst: pf0vf1. */
        0x02, 0x65, 0x00, 0x02, 0x00, 0x00,     /* src: pf0vf0. */
        0x08, 0x00,
        0x45, 0x00, 0x00, 46, 0x00, 0x00, 0x00, 0x00, 64, 17,
        0x00, 0x00,
    };

    memset(f, 0, FRAME_LEN);
    memcpy(f, hdr, sizeof hdr);
    f[16] = 0;
    f[17] = FRAME_LEN - 14;
    for (int i = 0; i < 4; i++) {
        f[26 + i] = ip_src >> (24 - 8 * i);
        f[30 + i] = ip_dst >> (24 - 8 * i);
    }
    f[34] = sport >> 8;
    f[35] = sport;
    f[36] = 0x10;                               /* dport 4096. */
    f[38] = 0;
    f[39] = FRAME_LEN - 34;
}

/* Most packets injected and not yet delivered: below the representor and
 * capture queue depths (1024), so that a slow consumer is waited for
 * instead of overflowing a queue (closed loop). */
#define WINDOW 512

static uint64_t drain(struct bench *);

/* Waits a little for the datapath.  With 'sleep_wait' the injector sleeps
 * (a traffic source outside the machine uses none of its CPU); otherwise
 * it yields, which keeps it runnable: on a 2-core machine it then takes a
 * core from the datapath's threads whenever more than one of them wants
 * to run (hw-offload=true: dpif-netdev's thread and its offload thread),
 * so that a rate compares the scheduler's sharing more than the work. */
static void
inject_wait(const struct bench *b)
{
    if (b->sleep_wait) {
        struct timespec ts = { 0, 20000 };

        nanosleep(&ts, NULL);
    } else {
        sched_yield();
    }
}

/* Injects one frame once fewer than WINDOW packets are in flight,
 * draining pf0vf1 meanwhile.  '*injected' and '*delivered' count. */
static void
inject(struct bench *b, const uint8_t *frame, uint64_t *injected,
       uint64_t *delivered)
{
    uint64_t deadline = 0;

    while (*injected - *delivered >= WINDOW) {
        uint64_t n = drain(b);

        *delivered += n;
        if (!n) {
            /* A packet may have been dropped (counted by the device):
             * do not wait for it forever. */
            if (!deadline) {
                deadline = now_ns() + 100000000;
            } else if (now_ns() > deadline) {
                *delivered = *injected - WINDOW + 1;
                break;
            }
            inject_wait(b);
        }
    }
    for (;;) {
        struct esw_pkt *pkt = esw_pkt_from_data(frame, FRAME_LEN);

        if (!esw_host_inject(b->dev, b->vf0, pkt)) {
            ++*injected;
            return;
        }
        *delivered += drain(b);
        inject_wait(b);
    }
}

static uint64_t
drain(struct bench *b)
{
    struct esw_pkt *out[64];
    uint64_t total = 0;
    size_t n;

    do {
        n = esw_host_capture_read(b->dev, b->vf1, out, ARRAY_SIZE(out));
        for (size_t i = 0; i < n; i++) {
            esw_pkt_free(out[i]);
        }
        total += n;
    } while (n);
    return total;
}

/* Waits until 'target' packets were delivered (counting from
 * '*delivered') or 10 s passed. */
static void
wait_delivered(struct bench *b, uint64_t *delivered, uint64_t target)
{
    uint64_t deadline = now_ns() + 10ULL * 1000000000;

    while (*delivered < target && now_ns() < deadline) {
        uint64_t n = drain(b);

        *delivered += n;
        if (!n) {
            usleep(50);
        }
    }
}

static void
wait_rules(struct bench *b, size_t target)
{
    uint64_t deadline = now_ns() + 10ULL * 1000000000;

    while (esw_rule_count(b->dev) < target && now_ns() < deadline) {
        usleep(100);
    }
}

static int
cmp_u64(const void *a_, const void *b_)
{
    uint64_t a = *(const uint64_t *) a_, b = *(const uint64_t *) b_;

    return a < b ? -1 : a > b;
}

/* The bench whose latency phase is on, for __wrap_netdev_flow_put(). */
static struct bench *timed_bench;

int __real_netdev_flow_put(struct netdev *, struct match *, struct nlattr *,
                           size_t, const ovs_u128 *, struct offload_info *,
                           struct dpif_flow_stats *);
int __wrap_netdev_flow_put(struct netdev *, struct match *, struct nlattr *,
                           size_t, const ovs_u128 *, struct offload_info *,
                           struct dpif_flow_stats *);

/* dpif-netdev's offload thread calls the flow API through this (the bench
 * is linked with -Wl,--wrap=netdev_flow_put).  In the latency phase it
 * records when the rule of flow k is in the device: the provider inserts
 * the rule before it returns, and the device's rule count says that it
 * did.  Recorded by the offload thread itself: a thread that watched the
 * device would record late whenever no CPU was free for it. */
int
__wrap_netdev_flow_put(struct netdev *netdev, struct match *match,
                       struct nlattr *actions, size_t actions_len,
                       const ovs_u128 *ufid, struct offload_info *info,
                       struct dpif_flow_stats *stats)
{
    int error = __real_netdev_flow_put(netdev, match, actions, actions_len,
                                       ufid, info, stats);
    struct bench *b = timed_bench;
    uint32_t k = ntohl(match->flow.nw_dst) - 0x0a400000;

    if (!error && b && k < b->n_lat) {
        uint64_t n_timed, t = now_ns();

        atomic_read(&b->n_timed, &n_timed);
        if (esw_rule_count(b->dev) > b->rules_base + n_timed) {
            atomic_store(&b->t_rule[k], t);
            atomic_add(&b->n_timed, 1, &n_timed);
        }
    }
    return error;
}

/* CPU time of thread 'tid' of this process (Linux's encoding of a thread
 * CPU clock), 0 if unknown. */
static uint64_t
tid_cpu_ns(pid_t tid)
{
    clockid_t clock = (~(clockid_t) tid << 3) | 6;
    struct timespec ts;

    return (tid && !clock_gettime(clock, &ts)
            ? (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec : 0);
}

/* Voluntary context switches of thread 'tid' of this process (the times
 * it slept), 0 if unknown. */
static unsigned long long
tid_sleeps(pid_t tid)
{
    unsigned long long n = 0;
    char path[64], line[128];
    FILE *f;

    snprintf(path, sizeof path, "/proc/self/task/%d/status", (int) tid);
    f = tid ? fopen(path, "r") : NULL;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "voluntary_ctxt_switches: %llu", &n) == 1) {
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    return n;
}

/* The thread id of OVS's (first) offload thread, 0 if there is none. */
static pid_t
thread_tid(const char *prefix)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *de;
    pid_t tid = 0;

    while (dir && !tid && (de = readdir(dir))) {
        char path[300], comm[32] = "";
        FILE *f;

        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        f = fopen(path, "r");
        if (f) {
            if (fgets(comm, sizeof comm, f)
                && !strncmp(comm, prefix, strlen(prefix))) {
                tid = atoi(de->d_name);
            }
            fclose(f);
        }
    }
    if (dir) {
        closedir(dir);
    }
    return tid;
}

static uint64_t
dp_thread_cpu_ns(const struct bench *b)
{
    clockid_t clock;
    struct timespec ts;

    return (!pthread_getcpuclockid(b->dp_thread, &clock)
            && !clock_gettime(clock, &ts)
            ? (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec : 0);
}

static void
run_setup(struct bench *b, struct result *r)
{
    uint8_t frame[FRAME_LEN];
    uint64_t injected = 0, delivered = 0, t0, t1, cpu0, main0, ofl0;
    unsigned long long sleeps0;
    pid_t ofl_tid;

    /* The first offload creates OVS's offload thread: one flow before the
     * measurement, so that its CPU can be read. */
    make_frame(frame, 0x0a000001, 0x0a3f0000, 1);
    inject(b, frame, &injected, &delivered);
    wait_delivered(b, &delivered, 1);
    if (b->hw) {
        wait_rules(b, 1);
    }
    ofl_tid = thread_tid("hw_offload");
    injected = delivered = 0;

    /* The injector stands for a traffic source outside the machine: it
     * sleeps while its window is full (see inject_wait()). */
    b->sleep_wait = true;
    drain(b);
    t0 = now_ns();
    cpu0 = datapath_cpu_ns();
    main0 = dp_thread_cpu_ns(b);
    ofl0 = tid_cpu_ns(ofl_tid);
    sleeps0 = tid_sleeps(ofl_tid);
    for (unsigned int i = 0; i < b->n_setup; i++) {
        make_frame(frame, 0x0a000001, 0x0a010000 + i, 1);
        inject(b, frame, &injected, &delivered);
    }
    wait_delivered(b, &delivered, b->n_setup);
    t1 = now_ns();
    r->setup_rate = b->n_setup / ((t1 - t0) / 1e9);
    if (b->hw) {
        /* The offload work belongs to the setup cost. */
        wait_rules(b, b->n_setup + 1);
        t1 = now_ns();
    }
    b->sleep_wait = false;
    r->setup_cpu_us = (datapath_cpu_ns() - cpu0) / 1e3 / b->n_setup;
    r->setup_cpu_util = (datapath_cpu_ns() - cpu0) / (double) (t1 - t0);
    r->setup_main_us = (dp_thread_cpu_ns(b) - main0) / 1e3 / b->n_setup;
    r->setup_offload_us = (ofl_tid ? (tid_cpu_ns(ofl_tid) - ofl0) / 1e3
                           / b->n_setup : 0);
    r->setup_ofl_sleeps = (ofl_tid ? (double) (tid_sleeps(ofl_tid) - sleeps0)
                           / b->n_setup : 0);
}

/* Median and p99 in us of b[k] - a[k] over the k where both are known;
 * 'lat' is scratch space. */
static void
percentiles(const uint64_t *a, const uint64_t *b, unsigned int n_in,
            uint64_t *lat, unsigned int *np, double *p50, double *p99)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < n_in; i++) {
        if (a[i] && b[i]) {
            lat[n++] = b[i] > a[i] ? b[i] - a[i] : 0;
        }
    }
    qsort(lat, n, sizeof *lat, cmp_u64);
    *np = n;
    *p50 = n ? lat[n / 2] / 1e3 : -1;
    *p99 = n ? lat[MIN(n - 1, n * 99 / 100)] / 1e3 : -1;
}

static bool
t_rule_complete(struct bench *b)
{
    uint64_t n_timed;

    atomic_read(&b->n_timed, &n_timed);
    return n_timed == b->n_lat;
}

static void
run_latency(struct bench *b, struct result *r)
{
    uint64_t *t_inject = xcalloc(b->n_lat, sizeof *t_inject);
    uint64_t *t_rule = xcalloc(b->n_lat, sizeof *t_rule);
    uint64_t *lat = xcalloc(b->n_lat, sizeof *lat);
    uint64_t *t_upcall;
    uint64_t period = 1000000000ULL / b->lat_rate, start;
    uint64_t injected = 0, delivered = 0, cpu0;
    pid_t ofl_tid = thread_tid("hw_offload");
    unsigned long long sleeps0;
    uint8_t frame[FRAME_LEN];
    unsigned int n = 0;

    bool spin = getenv("BENCH_SPIN_PACING") != NULL;

    r->lat_p50_us = r->lat_p99_us = -1;
    r->ofl_p50_us = r->ofl_p99_us = -1;
    b->t_upcall = xcalloc(b->n_lat, sizeof *b->t_upcall);
    b->n_t_upcall = b->n_lat;
    b->t_rule = xmalloc(b->n_lat * sizeof *b->t_rule);
    for (unsigned int i = 0; i < b->n_lat; i++) {
        atomic_init(&b->t_rule[i], 0);
    }
    atomic_init(&b->n_timed, 0);
    b->rules_base = esw_rule_count(b->dev);
    timed_bench = b;

    /* Paced injection.  The injector stands for a traffic source outside
     * the machine: between two flows it sleeps (to the ns: timer slack 1)
     * rather than spinning, which would take one of the 2 cores from the
     * datapath.  't_inject' is when the frame was really injected.
     * BENCH_SPIN_PACING: spin instead (the original pacing). */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    cpu0 = datapath_cpu_ns();
    sleeps0 = tid_sleeps(ofl_tid);
    start = now_ns();
    for (unsigned int i = 0; i < b->n_lat; i++) {
        uint64_t due = start + i * period;

        if (spin) {
            while (now_ns() < due) {
                continue;
            }
        } else if (now_ns() < due) {
            struct timespec ts = { due / 1000000000, due % 1000000000 };

            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
        make_frame(frame, 0x0a000001, 0x0a400000 + i, 1);
        t_inject[i] = now_ns();
        inject(b, frame, &injected, &delivered);
        delivered += drain(b);
    }
    wait_delivered(b, &delivered, b->n_lat);
    if (b->hw) {
        uint64_t deadline = now_ns() + 10ULL * 1000000000;

        while (!t_rule_complete(b) && now_ns() < deadline) {
            usleep(100);
        }
    }
    timed_bench = NULL;
    r->lat_cpu_us = (datapath_cpu_ns() - cpu0) / 1e3 / b->n_lat;
    r->lat_ofl_sleeps = (ofl_tid ? (double) (tid_sleeps(ofl_tid) - sleeps0)
                         / b->n_lat : 0);
    for (unsigned int i = 0; i < b->n_lat; i++) {
        atomic_read(&b->t_rule[i], &t_rule[i]);
    }
    if (t_rule_complete(b)) {
        /* Otherwise a late offload could still write it. */
        free(b->t_rule);
    }
    b->t_rule = NULL;

    /* OVS 3.1's offload thread takes flows in bursts (it polls its queue,
     * sleeping 1 ms or more in between): rules that appear within 100 us
     * of each other are one burst. */
    r->lat_batches = 0;
    r->lat_gap_us = -1;
    if (b->hw) {
        uint64_t last = 0, prev_start = 0;
        unsigned int n_gaps = 0;

        for (unsigned int i = 0; i < b->n_lat; i++) {
            uint64_t t = t_rule[i];

            if (t && (!last || t - last > 100000)) {
                if (prev_start) {
                    lat[n_gaps++] = t - prev_start;
                }
                prev_start = t;
                r->lat_batches++;
            }
            if (t) {
                last = t;
            }
        }
        if (n_gaps) {
            qsort(lat, n_gaps, sizeof *lat, cmp_u64);
            r->lat_gap_us = lat[n_gaps / 2] / 1e3;
        }
    }
    percentiles(t_inject, t_rule, b->n_lat, lat, &r->lat_n,
                &r->lat_p50_us, &r->lat_p99_us);
    percentiles(t_inject, b->t_upcall, b->n_lat, lat, &n,
                &r->miss_p50_us, &r->miss_p99_us);
    percentiles(b->t_upcall, t_rule, b->n_lat, lat, &n,
                &r->ofl_p50_us, &r->ofl_p99_us);
    free(t_rule);
    free(t_inject);
    free(lat);
    t_upcall = b->t_upcall;
    b->t_upcall = NULL;
    free(t_upcall);
}

/* Pins thread 'tid' (0: the caller) to CPU 'cpu'; ignored where that
 * fails (fewer CPUs, a restricted cpuset). */
static void
pin_thread(pid_t tid, int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    (void) sched_setaffinity(tid, sizeof set, &set);
}

/* The forwarding phase pins the injector (the caller) and the eSwitch's
 * forwarding thread to two different CPUs in both modes: otherwise the
 * scheduler sometimes puts them on one CPU and the figure of a run halves
 * or not by chance.  OVS's datapath thread is left to the scheduler (with
 * hw-offload=false it shares a CPU with one of them, as it would on any
 * 2-core machine).  The CPU time per packet of every thread but the
 * injector is reported beside Mpps: it does not depend on that. */
static void
run_forwarding(struct bench *b, struct result *r)
{
    pid_t fwd_tid = thread_tid("esw0-fwd");

    if (sysconf(_SC_NPROCESSORS_ONLN) >= 2 && fwd_tid) {
        pin_thread(fwd_tid, 0);
        pin_thread(0, 1);
    }
    for (int c = 0; c < N_FWD_CASES; c++) {
        unsigned int n_flows = fwd_flows[c];
        uint8_t *frames = xmalloc((size_t) n_flows * FRAME_LEN);
        uint32_t ip_dst = 0x0a800000 + c;
        uint64_t injected = 0, delivered = 0, t0, t1, d0, cpu0 = 0;
        size_t rules = esw_rule_count(b->dev);

        for (unsigned int i = 0; i < n_flows; i++) {
            make_frame(frames + (size_t) i * FRAME_LEN,
                       0x0b000000 + i / 1000, ip_dst, 1024 + i % 1000);
        }
        /* First packet: the megaflow (and, hw, its rule). */
        inject(b, frames, &injected, &delivered);
        wait_delivered(b, &delivered, 1);
        if (b->hw) {
            wait_rules(b, rules + 1);
        }
        /* Warm up (caches), then measure. */
        t0 = now_ns();
        d0 = 0;
        for (uint64_t i = 0; ; i++) {
            inject(b, frames + (i % n_flows) * FRAME_LEN, &injected,
                   &delivered);
            if (!(i & 63)) {
                uint64_t t = now_ns();

                delivered += drain(b);
                if (!d0 && t - t0 > 500000000) {
                    d0 = delivered;
                    t0 = t;
                    cpu0 = datapath_cpu_ns();
                } else if (d0 && t - t0 > b->seconds * 1e9) {
                    break;
                }
            }
        }
        delivered += drain(b);
        t1 = now_ns();
        r->mpps[c] = (delivered - d0) / ((t1 - t0) / 1e9) / 1e6;
        r->fwd_cpu_ns[c] = (double) (datapath_cpu_ns() - cpu0)
                           / (delivered - d0);
        if (getenv("BENCH_VERBOSE")) {
            fprintf(stderr, "%u flows: %"PRIu64" delivered in %.3f s, "
                    "rules %"PRIuSIZE" -> %"PRIuSIZE"\n", n_flows,
                    delivered - d0, (t1 - t0) / 1e9, rules,
                    esw_rule_count(b->dev));
        }
        usleep(100000);
        drain(b);
        free(frames);
    }
}

/* With BENCH_VERBOSE set: datapath flows and device rules after a phase. */
static void
report(struct bench *b, const char *phase)
{
    struct dpif_dp_stats stats;

    if (getenv("BENCH_VERBOSE") && !dpif_get_dp_stats(b->dpif, &stats)) {
        fprintf(stderr, "%s %s: %"PRIu64" flows, %"PRIuSIZE" rules, "
                "%"PRIu64" hits, %"PRIu64" misses, %"PRIu64" lost\n",
                b->hw ? "hw" : "sw", phase, stats.n_flows,
                esw_rule_count(b->dev), stats.n_hit, stats.n_missed,
                stats.n_lost);
    }
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
    /* The datapath keeps its own reference. */
    return error;
}

static int
run_mode(struct bench *b, struct result *r)
{
    struct smap cfg = SMAP_INITIALIZER(&cfg);
    odp_port_t p0_port;
    pthread_t dp_thread;
    char *err = NULL;

    memset(r, 0, sizeof *r);
    smap_add(&cfg, "eswitch-host-io", "capture");
    if (b->busy_poll) {
        smap_add(&cfg, "eswitch-busy-poll", "true");
    }
    smap_add(&cfg, "eswitch-vfs", "2");
    smap_add(&cfg, "hw-offload", b->hw ? "true" : "false");
    smap_add_format(&cfg, "eswitch-max-rules", "%u",
                    b->n_setup + b->n_lat + N_FWD_CASES + 16);
    ovs_ext_register();
    if (b->poll) {
        dpif_netdev_set_offload_wake(false);
    }

    ovs_ext_set_ovs_config(&cfg);
    netdev_set_flow_api_enabled(&cfg);

    if (dpif_create_and_open("ovs-bench", "netdev", &b->dpif)) {
        fprintf(stderr, "cannot create the datapath\n");
        return 1;
    }
    if (open_port(b, "p0", "esw-uplink", &p0_port)
        || open_port(b, "pf0vf0", "esw-vf", &b->vf0_port)
        || open_port(b, "pf0vf1", "esw-vf", &b->vf1_port)
        || eswitch_find_function("pf0vf0", &b->dev, &b->vf0, &err)
        || eswitch_find_function("pf0vf1", &b->dev, &b->vf1, &err)) {
        fprintf(stderr, "cannot set up the ports: %s\n", err ? err : "");
        return 1;
    }
    dpif_register_upcall_cb(b->dpif, upcall_cb, b);
    dpif_enable_upcall(b->dpif);

    atomic_init(&b->stop, false);
    pthread_create(&dp_thread, NULL, datapath_main, b);
    b->dp_thread = dp_thread;
    /* This thread only injects and reads packets from now on. */
    ovsrcu_quiesce_start();

    run_setup(b, r);
    report(b, "setup");
    run_latency(b, r);
    report(b, "latency");
    /* Let the device and OVS settle (deferred frees, idle offload thread)
     * before measuring throughput. */
    usleep(500000);
    /* A first pass warms up (and, hw, lets the device finish with the
     * thousands of rules just added); the second one is reported. */
    if (!b->no_forwarding) {
        run_forwarding(b, r);
        run_forwarding(b, r);
        report(b, "forwarding");
    }

    atomic_store(&b->stop, true);
    pthread_join(dp_thread, NULL);
    smap_destroy(&cfg);
    return 0;
}

/* Runs one mode in a child process; its result comes back on a pipe. */
static int
run_child(struct bench *b, struct result *r)
{
    int fds[2];
    pid_t pid;
    int status;

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
        /* Skip OVS's exit handlers: the datapath is not torn down. */
        _exit(error);
    }
    close(fds[1]);
    ssize_t n = read(fds[0], r, sizeof *r);
    close(fds[0]);
    waitpid(pid, &status, 0);
    return (n == sizeof *r && WIFEXITED(status) && !WEXITSTATUS(status))
           ? 0 : 1;
}

/* Prints "A / B" right-aligned in 16 columns ("A / -" if 'b' < 0). */
static void
print_pair(double a, double b, const char *fmt)
{
    char s_a[16] = "-", s_b[16] = "-", out[40];

    snprintf(s_a, sizeof s_a, fmt, a);
    if (b >= 0) {
        snprintf(s_b, sizeof s_b, fmt, b);
    }
    snprintf(out, sizeof out, "%s / %s", s_a, s_b);
    printf(" %16s", out);
}

/* How much more 'a' is than 'b', in percent. */
static double
pct(double a, double b)
{
    return (a / b - 1) * 100;
}

static void
print_results(const struct bench *b, const struct result *sw,
              const struct result *polled, const struct result *hw,
              const struct result *busy)
{
    const struct result *hws[2] = { polled, hw };

    printf("dpif-netdev (non-PMD thread) + eSwitch sim, capture I/O, "
           "64-byte UDP, pf0vf0 -> pf0vf1\n");
    printf("%-44s %16s %16s %16s\n", "", "hw-offload=false",
           "true, 3.1 polls", "hw-offload=true");
    printf("%-44s %16.0f %16.0f %16.0f  (offload adds %+.1f%% to setup "
           "cost; 3.1: %+.1f%%)\n", "new-flow setup rate (flows/s)",
           sw->setup_rate, polled->setup_rate, hw->setup_rate,
           pct(sw->setup_rate, hw->setup_rate),
           pct(sw->setup_rate, polled->setup_rate));
    printf("%-44s %16.2f %16.2f %16.2f  (offload adds %+.1f%%; 3.1: "
           "%+.1f%%; %.2f / %.2f / %.2f cores busy)\n",
           "  CPU per new flow, all but injector (us)", sw->setup_cpu_us,
           polled->setup_cpu_us, hw->setup_cpu_us,
           pct(hw->setup_cpu_us, sw->setup_cpu_us),
           pct(polled->setup_cpu_us, sw->setup_cpu_us), sw->setup_cpu_util,
           polled->setup_cpu_util, hw->setup_cpu_util);
    printf("%-44s", "    dpif-netdev thread / offload thread (us)");
    print_pair(sw->setup_main_us, -1, "%.2f");
    for (int i = 0; i < 2; i++) {
        print_pair(hws[i]->setup_main_us, hws[i]->setup_offload_us, "%.2f");
    }
    printf("\n");
    printf("%-44s %16s %16.2f %16.2f\n",
           "    offload thread sleeps per new flow", "-",
           polled->setup_ofl_sleeps, hw->setup_ofl_sleeps);
    printf("%-44s %16s %16.0f %16.0f  (%u flows at %u flows/s)\n",
           "first packet -> in device, median (us)", "-",
           polled->lat_p50_us, hw->lat_p50_us, hw->lat_n, b->lat_rate);
    printf("%-44s %16s %16.0f %16.0f\n",
           "first packet -> in device, p99 (us)", "-", polled->lat_p99_us,
           hw->lat_p99_us);
    printf("%-44s %16.2f %16.2f %16.2f  (offload adds %+.1f%%)\n",
           "  CPU per new flow at that rate (us)", sw->lat_cpu_us,
           polled->lat_cpu_us, hw->lat_cpu_us,
           pct(hw->lat_cpu_us, sw->lat_cpu_us));
    printf("%-44s %16s %16.2f %16.2f\n",
           "    offload thread sleeps per new flow", "-",
           polled->lat_ofl_sleeps, hw->lat_ofl_sleeps);
    printf("%-44s", "  first packet -> upcall, median / p99 (us)");
    print_pair(sw->miss_p50_us, sw->miss_p99_us, "%.0f");
    for (int i = 0; i < 2; i++) {
        print_pair(hws[i]->miss_p50_us, hws[i]->miss_p99_us, "%.0f");
    }
    printf("\n");
    printf("%-44s %16s", "  upcall -> in device, median / p99 (us)", "-");
    for (int i = 0; i < 2; i++) {
        print_pair(hws[i]->ofl_p50_us, hws[i]->ofl_p99_us, "%.0f");
    }
    printf("\n");
    printf("%-44s %16s", "  bursts of rules, flows each", "-");
    for (int i = 0; i < 2; i++) {
        char burst[40];

        snprintf(burst, sizeof burst, "%u, %.1f", hws[i]->lat_batches,
                 hws[i]->lat_batches
                 ? (double) hws[i]->lat_n / hws[i]->lat_batches : 0);
        printf(" %16s", burst);
    }
    printf("  (3.1: median %.0f us apart)\n", polled->lat_gap_us);
    if (busy) {
        /* The device's forwarding thread spins instead of sleeping between
         * packets, as a NIC never sleeps: its CPU is not comparable, only
         * the latencies are printed. */
        printf("%-44s %16s %16s", "first packet -> in device, device "
               "busy-polls", "-", "-");
        print_pair(busy->lat_p50_us, busy->lat_p99_us, "%.0f");
        printf("  (median / p99 us; the eSwitch's forwarding thread "
               "spins as a NIC never sleeps)\n");
        printf("%-44s %16s %16s", "  first packet -> upcall, busy-polls",
               "-", "-");
        print_pair(busy->miss_p50_us, busy->miss_p99_us, "%.0f");
        printf("\n");
        printf("%-44s %16s %16s", "  upcall -> in device, busy-polls",
               "-", "-");
        print_pair(busy->ofl_p50_us, busy->ofl_p99_us, "%.0f");
        printf("\n");
    }
    for (int c = 0; c < (b->no_forwarding ? 0 : N_FWD_CASES); c++) {
        char label[64];

        snprintf(label, sizeof label, "forwarding, %u active flows (Mpps)",
                 fwd_flows[c]);
        printf("%-44s %16.3f %16.3f %16.3f  (x%.1f)\n", label, sw->mpps[c],
               polled->mpps[c], hw->mpps[c], hw->mpps[c] / sw->mpps[c]);
        printf("%-44s %16.0f %16.0f %16.0f  (x%.1f less)\n",
               "  CPU per packet, all but injector (ns)", sw->fwd_cpu_ns[c],
               polled->fwd_cpu_ns[c], hw->fwd_cpu_ns[c],
               sw->fwd_cpu_ns[c] / hw->fwd_cpu_ns[c]);
    }
}

int
main(int argc, char *argv[])
{
    struct bench b = {
        .seconds = 2,
        .n_setup = 20000,
        .n_lat = 5000,
        .lat_rate = 10000,
        .modes = MODE_SW | MODE_POLL | MODE_HW | MODE_BUSY,
    };
    struct result sw, polled, hw, busy;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            b.seconds = 0.5;
            b.n_setup = 5000;
            b.n_lat = 2000;
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            b.seconds = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--busy-poll")) {
            b.busy_poll = true;
        } else if (!strcmp(argv[i], "--setup-flows") && i + 1 < argc) {
            int n = atoi(argv[++i]);

            b.n_setup = MAX(n, 1);
        } else if (!strcmp(argv[i], "--no-forwarding")) {
            b.no_forwarding = true;
        } else if (!strcmp(argv[i], "--modes") && i + 1 < argc) {
            const char *m = argv[++i];

            b.modes = ((strstr(m, "sw") ? MODE_SW : 0)
                       | (strstr(m, "poll") ? MODE_POLL : 0)
                       | (strstr(m, "hw") ? MODE_HW : 0)
                       | (strstr(m, "busy") ? MODE_BUSY : 0));
            if (!b.modes) {
                fprintf(stderr, "--modes: a list of sw, poll, hw, busy\n");
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s [--quick] [--seconds S] "
                    "[--setup-flows N] [--busy-poll] [--no-forwarding] "
                    "[--modes sw,poll,hw,busy]\n", argv[0]);
            return 2;
        }
    }
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);

    /* A mode not run (--modes) prints as zeros. */
    memset(&sw, 0, sizeof sw);
    memset(&polled, 0, sizeof polled);
    memset(&hw, 0, sizeof hw);
    memset(&busy, 0, sizeof busy);
    b.hw = false;
    if (b.modes & MODE_SW && run_child(&b, &sw)) {
        fprintf(stderr, "hw-offload=false run failed\n");
        return 1;
    }
    b.hw = true;
    b.poll = true;
    if (b.modes & MODE_POLL && run_child(&b, &polled)) {
        fprintf(stderr, "hw-offload=true (OVS 3.1 polling) run failed\n");
        return 1;
    }
    b.poll = false;
    if (b.modes & MODE_HW && run_child(&b, &hw)) {
        fprintf(stderr, "hw-offload=true run failed\n");
        return 1;
    }
    /* The latency phase again with a device that never sleeps (the
     * forwarding thread busy-polls), unless every run did (--busy-poll). */
    if (b.modes & MODE_BUSY && !b.busy_poll) {
        struct bench bb = b;

        bb.busy_poll = true;
        bb.n_setup = 1;
        bb.no_forwarding = true;
        if (run_child(&bb, &busy)) {
            fprintf(stderr, "hw-offload=true (device busy-polling) run "
                    "failed\n");
            return 1;
        }
    }
    print_results(&b, &sw, &polled, &hw,
                  b.modes & MODE_BUSY && !b.busy_poll ? &busy : NULL);
    return 0;
}
