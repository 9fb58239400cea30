/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Full-pipeline benchmark of the sim eSwitch: the forwarding step of one
 * thread, capture I/O, 64-byte IPv4/UDP frames, five scenarios side by
 * side:
 *
 *   hit, policy off   vf0 -> rule (in_vport) -> p0
 *   hit, policy on    vf0 with spoof check + VST 100 -> rule -> p0
 *   miss              vf0 -> no rule -> vf0's representor queue
 *   hit, routed       vf0 -> rule: new MACs, TTL - 1 (IPv4 checksum
 *                     updated) -> p0
 *   hit, 2 chains     vf0 -> rule: hash(l4), recirc -> chain 1: one of 4
 *                     rules by dp_hash -> p0
 *
 * Method.  The device's forwarding thread is stopped and this program
 * drives the forwarding step itself, synchronously, in one thread
 * (esw_sim_poll_once(), see esw-sim.h), so that nothing races: a round
 * injects POOL frames into vf0's host-rx (capture inject) queue, then
 * times (rdtsc) the polls that drain them, in full batches of the
 * device's batch size (rx from the queue, checks, parse, policy, lookup,
 * actions, egress, enqueue to p0's capture queue or the representor
 * queue), then takes the frames back from where they went (checking that
 * none was lost), resets and reinjects them.  Only the drain is timed.
 * The scenarios (one device each) take turns round by round; each
 * figure is the median over the rounds of a scenario (the first rounds
 * are a warm-up), with the 10th-90th percentile range.  Cycles are TSC
 * ticks; Mpps is the rate of one core doing nothing but this forwarding.
 *
 * Instructions per packet, a machine-independent figure, are counted by
 * running this program again under callgrind (valgrind), counting only
 * inside esw_sim_poll_once() (hardware counters are often unavailable in
 * VMs); "n/a" if valgrind is not installed, skipped with --no-insns.
 *
 * Usage: bench-pipeline [--quick] [--seconds S] [--no-insns]
 *        bench-pipeline --rounds N --scenario hit|policy|miss|routed|chains
 *            (N rounds of one scenario, untimed: for callgrind or perf)
 * Targets: <= 150 cycles/packet on a hit with policy off; policy adds
 * <= 15%. */

#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#include "datapath/policy/esw-policy.h"
#include "datapath/cls/esw-rcu.h"
#include "datapath/sim/esw-sim.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POOL 1024               /* Frames per round. */
#define WARMUP_ROUNDS 50        /* Per scenario, not counted. */
#define FRAME_LEN 60

static const struct esw_eth_addr MAC_VF0 = { { 2, 0, 0, 0, 0, 0x10 } };
static const struct esw_eth_addr MAC_EXT = { { 2, 0, 0, 0, 0, 0xee } };

static uint8_t template[FRAME_LEN];

/* A well-formed 60-byte IPv4/UDP frame from vf0 (10.0.0.1:1000) to
 * 192.0.2.1:53, so that the parser goes through L3 and L4 as with real
 * traffic. */
static void
init_template(void)
{
    static const uint8_t ip_udp[28] = {
        0x45, 0x00, 0x00, 46, 0x00, 0x01, 0x00, 0x00,   /* IPv4, len 46 */
        64, 17, 0x00, 0x00,                             /* TTL, UDP, csum */
        10, 0, 0, 1, 192, 0, 2, 1,                      /* src, dst */
        0x03, 0xe8, 0x00, 0x35, 0x00, 26, 0x00, 0x00,   /* UDP 1000 -> 53 */
    };

    memset(template, 0, sizeof template);
    memcpy(template, MAC_EXT.ea, 6);
    memcpy(template + 6, MAC_VF0.ea, 6);
    template[12] = 0x08;
    template[13] = 0x00;
    memcpy(template + 14, ip_udp, sizeof ip_udp);
}

enum scenario { HIT, HIT_POLICY, MISS, HIT_ROUTED, HIT_CHAINS, N_SCENARIOS };

static const char *const names[N_SCENARIOS] = {
    [HIT] = "hit, policy off", [HIT_POLICY] = "hit, policy on",
    [MISS] = "miss", [HIT_ROUTED] = "hit, routed", [HIT_CHAINS] = "hit, 2 chains",
};
static const char *const short_names[N_SCENARIOS] = {
    [HIT] = "hit", [HIT_POLICY] = "policy", [MISS] = "miss",
    [HIT_ROUTED] = "routed", [HIT_CHAINS] = "chains",
};

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t
cycles(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#else
    return now_ns();
#endif
}

static void
fail(const char *what)
{
    fprintf(stderr, "bench-pipeline: %s\n", what);
    exit(1);
}

static void
reset_frame(struct esw_pkt *pkt)
{
    pkt->data = pkt->base + ESW_PKT_HEADROOM;
    pkt->len = FRAME_LEN;
    memcpy(pkt->data, template, FRAME_LEN);
}

/* One scenario: a device and its frames. */
struct bench {
    enum scenario sc;
    struct esw_dev *dev;
    uint32_t p0, vf0;
    struct esw_pkt *pkts[POOL];
    double *samples;            /* Cycles/packet of each counted round. */
    size_t n_samples, alloc_samples;
};

static void
add_rule(struct bench *b, const struct esw_rule_spec *spec)
{
    struct esw_rule *rule;
    struct esw_error err;

    if (esw_rule_add(b->dev, spec, &err, &rule)) {
        fprintf(stderr, "bench-pipeline: cannot add rule: %s\n", err.reason);
        exit(1);
    }
}

static void
bench_init(struct bench *b, enum scenario sc)
{
    struct esw_dev_config cfg = { .n_threads = 1 };
    struct esw_vport_config vc = {
        .vport = ESW_VPORT_AUTO, .rep_queue_depth = 4 * POOL,
        .io = &(struct esw_io_config) { .type = ESW_IO_CAPTURE,
                                        .queue_depth = 4 * POOL },
    };
    char name[32];

    memset(b, 0, sizeof *b);
    b->sc = sc;
    snprintf(name, sizeof name, "bench%d", (int) sc);
    if (esw_dev_open(name, "sim", &cfg, &b->dev)) {
        fail("cannot open device");
    }
    vc.kind = ESW_VPORT_UPLINK;
    if (esw_vport_add(b->dev, &vc, NULL, &b->p0)) {
        fail("cannot add p0");
    }
    vc.kind = ESW_VPORT_VF;
    vc.mac = MAC_VF0;
    if (esw_vport_add(b->dev, &vc, NULL, &b->vf0)) {
        fail("cannot add vf0");
    }
    if (sc == HIT || sc == HIT_POLICY) {
        struct esw_rule_spec spec;

        memset(&spec, 0, sizeof spec);
        spec.match.in_vport = b->vf0;
        spec.mask.in_vport = UINT32_MAX;
        spec.priority = 1;
        spec.actions[0].type = ESW_ACTION_OUTPUT;
        spec.actions[0].vport = b->p0;
        spec.n_actions = 1;
        add_rule(b, &spec);
    } else if (sc == HIT_ROUTED) {
        struct esw_rule_spec spec;
        struct esw_action *a = spec.actions;

        memset(&spec, 0, sizeof spec);
        spec.match.in_vport = b->vf0;
        spec.mask.in_vport = UINT32_MAX;
        spec.match.eth_type = htons(0x0800);
        spec.mask.eth_type = UINT16_MAX;
        spec.match.ip_ttl = 64;
        spec.mask.ip_ttl = UINT8_MAX;
        spec.priority = 1;
        a[0].type = ESW_ACTION_SET_ETH_SRC;
        a[0].mac = MAC_EXT;
        a[1].type = ESW_ACTION_SET_ETH_DST;
        a[1].mac = MAC_VF0;
        a[2].type = ESW_ACTION_SET;
        a[2].set.header = ESW_SET_IPV4;
        a[2].set.value.ipv4.ttl = 63;
        a[2].set.mask.ipv4.ttl = UINT8_MAX;
        a[3].type = ESW_ACTION_OUTPUT;
        a[3].vport = b->p0;
        spec.n_actions = 4;
        add_rule(b, &spec);
    } else if (sc == HIT_CHAINS) {
        struct esw_rule_spec spec;

        memset(&spec, 0, sizeof spec);
        spec.match.in_vport = b->vf0;
        spec.mask.in_vport = UINT32_MAX;
        spec.priority = 1;
        spec.actions[0].type = ESW_ACTION_HASH;
        spec.actions[0].hash.alg = ESW_HASH_L4;
        spec.actions[0].hash.max_vlans = 1;
        spec.actions[1].type = ESW_ACTION_RECIRC;
        spec.actions[1].chain = 1;
        spec.n_actions = 2;
        add_rule(b, &spec);
        for (uint32_t bucket = 0; bucket < 4; bucket++) {
            memset(&spec, 0, sizeof spec);
            spec.match.in_vport = b->vf0;
            spec.mask.in_vport = UINT32_MAX;
            spec.match.chain = 1;
            spec.mask.chain = UINT32_MAX;
            spec.match.dp_hash = bucket;
            spec.mask.dp_hash = 3;
            spec.priority = 1;
            spec.actions[0].type = ESW_ACTION_OUTPUT;
            spec.actions[0].vport = b->p0;
            spec.n_actions = 1;
            add_rule(b, &spec);
        }
    }
    if (sc == HIT_POLICY) {
        struct esw_policy_config pc;

        esw_policy_config_init(&pc);
        pc.spoofchk = true;
        pc.vlan = 100;
        if (esw_vport_set_policy(b->dev, b->vf0, &pc, NULL)) {
            fail("cannot set policy");
        }
    }
    if (esw_sim_stop_threads(b->dev)) {
        fail("not a sim device");
    }
    for (int i = 0; i < POOL; i++) {
        b->pkts[i] = esw_pkt_alloc(FRAME_LEN);
        if (!b->pkts[i]) {
            fail("out of memory");
        }
    }
}

/* Runs one round; returns its cycles per packet. */
static double
bench_round(struct bench *b)
{
    size_t n = 0;
    uint64_t c0, c1;

    for (int i = 0; i < POOL; i++) {
        reset_frame(b->pkts[i]);
        if (esw_host_inject(b->dev, b->vf0, b->pkts[i])) {
            fail("inject queue full");
        }
    }

    c0 = cycles();
    while (n < POOL) {
        size_t k = esw_sim_poll_once(b->dev, 0);

        if (!k) {
            fail("forwarding stalled");
        }
        n += k;
    }
    c1 = cycles();

    for (n = 0; n < POOL; ) {
        size_t k = (b->sc == MISS
                    ? esw_rep_recv(b->dev, b->vf0, 0, b->pkts + n, POOL - n)
                    : esw_host_capture_read(b->dev, b->p0, b->pkts + n,
                                            POOL - n));
        if (!k) {
            fail("packets lost");
        }
        n += k;
    }
    esw_rcu_quiesce();
    return (double) (c1 - c0) / POOL;
}

static void
bench_record(struct bench *b, double cpp)
{
    if (b->n_samples >= b->alloc_samples) {
        b->alloc_samples = b->alloc_samples ? 2 * b->alloc_samples : 1024;
        b->samples = realloc(b->samples,
                             b->alloc_samples * sizeof *b->samples);
        if (!b->samples) {
            fail("out of memory");
        }
    }
    b->samples[b->n_samples++] = cpp;
}

static void
bench_destroy(struct bench *b)
{
    esw_dev_close(b->dev);      /* Frees the injected frames, if any. */
    for (int i = 0; i < POOL; i++) {
        esw_pkt_free(b->pkts[i]);
    }
    free(b->samples);
}

static int
compare_doubles(const void *a_, const void *b_)
{
    double a = *(const double *) a_, b = *(const double *) b_;

    return a < b ? -1 : a > b;
}

/* The 'q' quantile of sorted 'v'. */
static double
quantile(const double v[], size_t n, double q)
{
    double pos = q * (n - 1);
    size_t i = pos;

    return i + 1 < n ? v[i] + (v[i + 1] - v[i]) * (pos - i) : v[n - 1];
}

/* TSC cycles per nanosecond. */
static double
cycles_per_ns(void)
{
#if defined(__x86_64__) || defined(__i386__)
    uint64_t t0 = now_ns(), c0 = __builtin_ia32_rdtsc();
    uint64_t t1, c1;

    do {
        t1 = now_ns();
    } while (t1 - t0 < 50 * 1000 * 1000);
    c1 = __builtin_ia32_rdtsc();
    return (double) (c1 - c0) / (t1 - t0);
#else
    return 1.0;
#endif
}

/* Runs 'rounds' rounds of scenario 'sc', untimed (for callgrind). */
static void
run_rounds(enum scenario sc, long rounds)
{
    static struct bench b;

    bench_init(&b, sc);
    for (long i = 0; i < rounds; i++) {
        bench_round(&b);
    }
    bench_destroy(&b);
}

/* Instructions per packet of scenario 'sc' inside esw_sim_poll_once(),
 * counted by callgrind, or a negative number if that failed. */
static double
count_instructions(enum scenario sc, long rounds)
{
    char out[64], cmd[512], line[256];
    double insns = -1;
    FILE *f;

    snprintf(out, sizeof out, "/tmp/bench-pipeline.%ld.callgrind",
             (long) getpid());
    snprintf(cmd, sizeof cmd, "valgrind --tool=callgrind --collect-atstart=no"
             " --toggle-collect=esw_sim_poll_once --callgrind-out-file=%s"
             " /proc/%ld/exe --rounds %ld --scenario %s >/dev/null 2>&1",
             out, (long) getpid(), rounds, short_names[sc]);
    if (system(cmd)) {
        unlink(out);
        return -1;
    }
    f = fopen(out, "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            unsigned long long total;

            if (sscanf(line, "totals: %llu", &total) == 1
                || sscanf(line, "summary: %llu", &total) == 1) {
                insns = (double) total / ((double) rounds * POOL);
            }
        }
        fclose(f);
    }
    unlink(out);
    return insns;
}

int
main(int argc, char *argv[])
{
    static struct bench benches[N_SCENARIOS];
    double seconds = 3.0, ghz, insns[N_SCENARIOS], med[N_SCENARIOS];
    bool do_insns = true;
    long rounds = -1;
    int only = -1;
    uint64_t deadline;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            seconds = 0.6;
        } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
            seconds = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--no-insns")) {
            do_insns = false;
        } else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            rounds = atol(argv[++i]);
        } else if (!strcmp(argv[i], "--scenario") && i + 1 < argc) {
            i++;
            for (int j = 0; j < N_SCENARIOS; j++) {
                if (!strcmp(argv[i], short_names[j])) {
                    only = j;
                }
            }
            if (only < 0) {
                fprintf(stderr, "bench-pipeline: unknown scenario %s\n",
                        argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: %s [--quick] [--seconds S] [--no-insns]"
                    "\n       %s --rounds N --scenario hit|policy|miss|routed|chains\n",
                    argv[0], argv[0]);
            return 2;
        }
    }
    init_template();

    esw_rcu_thread_register();
    if (rounds >= 0 || only >= 0) {
        if (rounds < 0 || only < 0) {
            fail("--rounds and --scenario go together");
        }
        run_rounds(only, rounds);
        return 0;
    }

    ghz = cycles_per_ns();
    for (int i = 0; i < N_SCENARIOS; i++) {
        bench_init(&benches[i], i);
    }
    for (int r = 0; r < WARMUP_ROUNDS; r++) {
        for (int i = 0; i < N_SCENARIOS; i++) {
            bench_round(&benches[i]);
        }
    }
    deadline = now_ns() + (uint64_t) (seconds * 1e9);
    do {
        for (int i = 0; i < N_SCENARIOS; i++) {
            bench_record(&benches[i], bench_round(&benches[i]));
        }
    } while (now_ns() < deadline);

    for (int i = 0; i < N_SCENARIOS; i++) {
        insns[i] = do_insns ? count_instructions(i, 200) : -1;
    }

    printf("sim eSwitch pipeline, forwarding step driven synchronously "
           "(one thread), capture I/O, %d-byte IPv4/UDP frames, batches of "
           "%d\n%zu rounds of %d frames per scenario, taking turns, %.1f s; "
           "TSC %.2f GHz\n\n", FRAME_LEN + 4, SIM_DEFAULT_BATCH,
           benches[0].n_samples, POOL,
           seconds, ghz);
    printf("%-18s %8s %11s %15s %8s %11s\n", "scenario", "Mpps",
           "cycles/pkt", "(p10-p90)", "ns/pkt", "instr/pkt");
    for (int i = 0; i < N_SCENARIOS; i++) {
        struct bench *b = &benches[i];
        char range[32], ins[32];

        qsort(b->samples, b->n_samples, sizeof *b->samples,
              compare_doubles);
        med[i] = quantile(b->samples, b->n_samples, 0.5);
        snprintf(range, sizeof range, "(%.0f-%.0f)",
                 quantile(b->samples, b->n_samples, 0.1),
                 quantile(b->samples, b->n_samples, 0.9));
        if (insns[i] >= 0) {
            snprintf(ins, sizeof ins, "%.1f", insns[i]);
        } else {
            snprintf(ins, sizeof ins, "n/a");
        }
        printf("%-18s %8.2f %11.1f %15s %8.1f %11s\n", names[i],
               ghz * 1e3 / med[i], med[i], range, med[i] / ghz, ins);
    }
    printf("\npolicy overhead on a hit: %+.1f%% (target <= 15%%); hit "
           "cost %.1f cycles/pkt (target <= 150)\n",
           (med[HIT_POLICY] / med[HIT] - 1) * 100, med[HIT]);
    for (int i = 0; i < N_SCENARIOS; i++) {
        bench_destroy(&benches[i]);
    }
    return 0;
}
