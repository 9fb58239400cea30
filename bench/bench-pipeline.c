/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Full-pipeline benchmark of the sim eSwitch: one forwarding thread in
 * busy-poll mode, capture I/O, 64-byte frames, three scenarios side by
 * side:
 *
 *   hit, policy off   vf0 -> rule (in_vport) -> p0
 *   hit, policy on    vf0 with spoof check + VST 100 -> rule -> p0
 *   miss              vf0 -> no rule -> vf0's representor queue
 *
 * What is measured: the forwarding thread timestamps (rdtsc) every
 * non-empty batch from rx to the end of its processing (parse, policy,
 * lookup, actions, egress, enqueue to the capture or representor queue);
 * cycles/packet is that busy time over the packets received, so time the
 * thread spends spinning on an empty queue is excluded.  The injector (this
 * program's main thread) recycles packets: it reads what came out (capture
 * of p0, or the representor queue), resets the frame and injects it again.
 * Its own cost is reported separately, measured the same way (rdtsc around
 * each non-empty reset-and-inject batch, excluding its empty polls).
 * Mpps is packets forwarded per wall-clock second, which the injector may
 * limit on a machine with fewer than two free cores.
 *
 * With two CPUs or more, the forwarding thread and the injector are pinned
 * to two different CPUs (the first two this process may use), so that the
 * scheduler never runs them on the same one: otherwise a preemption in the
 * middle of a batch would be counted as forwarding time.
 *
 * The machine may be shared and the two threads interact (batch sizes
 * depend on their relative speed), so one run of a scenario is noisy: the
 * time of each scenario is split into ROUNDS runs, the scenarios take
 * turns (hit, hit with policy, miss, hit, ...), and each figure reported
 * is the median over the runs of its scenario (cycles/packet, Mpps and
 * injector cost each taken separately), with the range of cycles/packet.
 *
 * Usage: bench-pipeline [--quick] [--seconds S]
 * Targets: <= 150 cycles/packet on a hit with policy off; policy adds
 * <= 15%. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1           /* sched_setaffinity() */
#endif

#include "datapath/esw.h"
#include "datapath/esw-policy.h"
#include "datapath/esw-sim.h"

#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL 1024               /* Packets circulating. */
#define ROUNDS 5                /* Runs per scenario (median reported). */
#define FRAME_LEN 60

static const struct esw_eth_addr MAC_VF0 = { { 2, 0, 0, 0, 0, 0x10 } };
static const struct esw_eth_addr MAC_EXT = { { 2, 0, 0, 0, 0, 0xee } };

static uint8_t template[FRAME_LEN];

static uint64_t
now_ns(clockid_t clock)
{
    struct timespec ts;

    clock_gettime(clock, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t
cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#else
    return now_ns(CLOCK_MONOTONIC);
#endif
}

static void
reset_frame(struct esw_pkt *pkt)
{
    pkt->data = pkt->base + ESW_PKT_HEADROOM;
    pkt->len = FRAME_LEN;
    memcpy(pkt->data, template, FRAME_LEN);
}

struct result {
    double mpps;
    double cycles_per_pkt;
    double injector_cycles_per_pkt;
    uint64_t packets;
};

enum scenario { HIT, HIT_POLICY, MISS };

/* CPUs for the forwarding thread and the injector, or -1 (no pinning). */
static int fwd_cpu = -1, inj_cpu = -1;

static void
choose_cpus(void)
{
    cpu_set_t set;

    if (sched_getaffinity(0, sizeof set, &set)) {
        return;
    }
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (CPU_ISSET(i, &set)) {
            if (fwd_cpu < 0) {
                fwd_cpu = i;
            } else {
                inj_cpu = i;
                return;
            }
        }
    }
    fwd_cpu = -1;               /* A single CPU: nothing to separate. */
}

/* Pins the calling thread (and the threads it creates afterwards) to
 * 'cpu', if 'cpu' >= 0. */
static void
pin_to(int cpu)
{
    cpu_set_t set;

    if (cpu >= 0) {
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set)) {
            perror("bench-pipeline: sched_setaffinity");
        }
    }
}

static void
fail(const char *what)
{
    fprintf(stderr, "bench-pipeline: %s\n", what);
    exit(1);
}

static struct result
run(enum scenario sc, double seconds)
{
    struct esw_dev_config cfg = { .n_threads = 1, .busy_poll = true };
    struct esw_vport_config vc = {
        .vport = ESW_VPORT_AUTO, .rep_queue_depth = 4096,
        .io = { .type = ESW_IO_CAPTURE, .queue_depth = 4096 },
    };
    uint64_t c0, p0_pkts, c1, p1_pkts, t0, t1, inj_cycles = 0;
    uint32_t p0, vf0;
    struct esw_pkt *pkts[64];
    struct result res;
    struct esw_dev *dev;
    uint64_t deadline;

    pin_to(fwd_cpu);            /* Inherited by the forwarding thread. */
    if (esw_dev_open("bench0", "sim", &cfg, &dev)) {
        fail("cannot open device");
    }
    pin_to(inj_cpu);
    vc.kind = ESW_VPORT_UPLINK;
    if (esw_vport_add(dev, &vc, NULL, &p0)) {
        fail("cannot add p0");
    }
    vc.kind = ESW_VPORT_VF;
    vc.mac = MAC_VF0;
    if (esw_vport_add(dev, &vc, NULL, &vf0)) {
        fail("cannot add vf0");
    }
    if (sc != MISS) {
        struct esw_rule_spec spec;
        struct esw_rule *rule;

        memset(&spec, 0, sizeof spec);
        spec.match.in_vport = vf0;
        spec.mask.in_vport = UINT32_MAX;
        spec.priority = 1;
        spec.actions[0].type = ESW_ACTION_OUTPUT;
        spec.actions[0].vport = p0;
        spec.n_actions = 1;
        if (esw_rule_add(dev, &spec, NULL, &rule)) {
            fail("cannot add rule");
        }
    }
    if (sc == HIT_POLICY) {
        struct esw_policy_config pc;

        esw_policy_config_init(&pc);
        pc.spoofchk = true;
        pc.vlan = 100;
        if (esw_vport_set_policy(dev, vf0, &pc, NULL)) {
            fail("cannot set policy");
        }
    }

    for (int i = 0; i < POOL; i++) {
        struct esw_pkt *pkt = esw_pkt_alloc(FRAME_LEN);

        if (!pkt) {
            fail("out of memory");
        }
        reset_frame(pkt);
        if (esw_host_inject(dev, vf0, pkt)) {
            fail("inject queue full");
        }
    }

    /* Warm up for 10% of the run, then measure. */
    for (int phase = 0; phase < 2; phase++) {
        deadline = now_ns(CLOCK_MONOTONIC)
                   + (uint64_t) (seconds * (phase ? 1e9 : 1e8));
        esw_sim_get_thread_busy(dev, 0, &c0, &p0_pkts);
        t0 = now_ns(CLOCK_MONOTONIC);
        inj_cycles = 0;
        for (uint64_t iter = 0; ; iter++) {
            size_t n = (sc == MISS
                        ? esw_rep_recv(dev, vf0, 0, pkts, 64)
                        : esw_host_capture_read(dev, p0, pkts, 64));

            if (n) {
                uint64_t start = cycles();

                for (size_t i = 0; i < n; i++) {
                    reset_frame(pkts[i]);
                    if (esw_host_inject(dev, vf0, pkts[i])) {
                        fail("inject queue full");
                    }
                }
                inj_cycles += cycles() - start;
            }
            if (!(iter & 255) && now_ns(CLOCK_MONOTONIC) >= deadline) {
                break;
            }
        }
        t1 = now_ns(CLOCK_MONOTONIC);
        esw_sim_get_thread_busy(dev, 0, &c1, &p1_pkts);
    }

    res.packets = p1_pkts - p0_pkts;
    res.mpps = res.packets / ((t1 - t0) / 1e3);
    res.cycles_per_pkt = res.packets ? (double) (c1 - c0) / res.packets : 0;
    res.injector_cycles_per_pkt = (res.packets
                                   ? (double) inj_cycles / res.packets : 0);
    esw_dev_close(dev);         /* Frees the circulating packets. */
    return res;
}

static int
compare_doubles(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;

    return a < b ? -1 : a > b;
}

static double
median(double v[], int n)
{
    qsort(v, n, sizeof *v, compare_doubles);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Cycles of the forwarding thread's clock per nanosecond. */
static double
cycles_per_ns(void)
{
#if defined(__x86_64__) || defined(__i386__)
    uint64_t t0 = now_ns(CLOCK_MONOTONIC), c0 = __builtin_ia32_rdtsc();
    uint64_t t1, c1;

    do {
        t1 = now_ns(CLOCK_MONOTONIC);
    } while (t1 - t0 < 50 * 1000 * 1000);
    c1 = __builtin_ia32_rdtsc();
    return (double) (c1 - c0) / (t1 - t0);
#else
    return 1.0;
#endif
}

int
main(int argc, char *argv[])
{
    static const char *const names[] = {
        [HIT] = "hit, policy off", [HIT_POLICY] = "hit, policy on",
        [MISS] = "miss",
    };
    double seconds = 2.0, ghz;
    double mpps[3][ROUNDS], cpp[3][ROUNDS], inj[3][ROUNDS];
    double lo[3], hi[3];
    struct result r[3];

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            seconds = 0.5;
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: %s [--quick] [--seconds S]\n", argv[0]);
            return 2;
        }
    }
    for (size_t i = 0; i < FRAME_LEN; i++) {
        template[i] = i;
    }
    memcpy(template, MAC_EXT.ea, 6);
    memcpy(template + 6, MAC_VF0.ea, 6);
    template[12] = 0x08;
    template[13] = 0x00;

    ghz = cycles_per_ns();
    choose_cpus();
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < 3; i++) {
            struct result x = run(i, seconds / ROUNDS);

            mpps[i][round] = x.mpps;
            cpp[i][round] = x.cycles_per_pkt;
            inj[i][round] = x.injector_cycles_per_pkt;
        }
    }
    for (int i = 0; i < 3; i++) {
        r[i].mpps = median(mpps[i], ROUNDS);
        r[i].cycles_per_pkt = median(cpp[i], ROUNDS);   /* Sorts 'cpp'. */
        r[i].injector_cycles_per_pkt = median(inj[i], ROUNDS);
        lo[i] = cpp[i][0];
        hi[i] = cpp[i][ROUNDS - 1];
    }

    printf("sim eSwitch pipeline, 1 forwarding thread (busy poll), "
           "capture I/O, %d-byte frames, %.1f s per scenario, TSC %.2f "
           "GHz\nmedians of %d runs of %.2f s per scenario, taking turns\n",
           FRAME_LEN + 4, seconds, ghz, ROUNDS, seconds / ROUNDS);
    if (fwd_cpu >= 0) {
        printf("forwarding thread on CPU %d, injector on CPU %d\n",
               fwd_cpu, inj_cpu);
    }
    printf("\n");
    printf("%-18s %8s %11s %15s %8s %20s\n", "scenario", "Mpps",
           "cycles/pkt", "(range)", "ns/pkt", "injector cycles/pkt");
    for (int i = 0; i < 3; i++) {
        char range[32];

        snprintf(range, sizeof range, "(%.0f-%.0f)", lo[i], hi[i]);
        printf("%-18s %8.2f %11.1f %15s %8.1f %20.1f\n", names[i],
               r[i].mpps, r[i].cycles_per_pkt, range,
               r[i].cycles_per_pkt / ghz, r[i].injector_cycles_per_pkt);
    }
    printf("\npolicy overhead on a hit: %+.1f%% (target <= 15%%); hit "
           "cost %.1f cycles/pkt (target <= 150)\n",
           (r[HIT_POLICY].cycles_per_pkt / r[HIT].cycles_per_pkt - 1) * 100,
           r[HIT].cycles_per_pkt);
    return 0;
}
