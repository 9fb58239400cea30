/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Benchmark: the eSwitch rule table (datapath/cls/esw-cls) against OVS 3.1's
 * classifier (lib/classifier.c), on the same rules and the same packets, in
 * the same run.
 *
 * Rule sets: N rules (1K, 100K, 1M) spread over M masks (1, 8, 32).  The
 * masks look like megaflow masks: in_port, dl_type and nw_proto exact, plus
 * IPv4 source and destination prefixes of various lengths and one or both
 * L4 ports.  Priorities are random.  Each of our key fields is mapped onto
 * the corresponding 'struct flow' field, so both tables do the same work.
 *
 * Traffic: "hit" packets are derived from random rules (their match, with
 * random unmasked fields); "miss" packets are random.  Before timing, every
 * packet's result is compared between the two tables (same priority, or
 * both miss).
 *
 * Timing: each lookup figure is the median of ROUNDS measurements, the
 * three kinds of lookup (esw single, esw batch, OVS) taking turns, so
 * that a disturbance from elsewhere on the machine hits all of them
 * alike rather than one.
 *
 * OVS's classifier is set up as ofproto does (staged lookup with
 * flow_segment_u64s), without prefix tries, and looked up with
 * classifier_lookup(cls, OVS_VERSION_MAX, &flow, NULL).
 *
 * Usage: bench-cls [--quick | --long] */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classifier.h"
#include "flow.h"
#include "openvswitch/match.h"
#include "openvswitch/util.h"
#include "ovs-rcu.h"
#include "util.h"

#include "datapath/cls/esw-cls.h"
#include "datapath/cls/esw-rcu.h"

#define N_PACKETS 8192
#define ROUNDS 3                /* Measurements per figure (median). */

static uint64_t prng_state = 12345;

static uint64_t
prng(void)
{
    uint64_t z = (prng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double
now(void)
{
    struct timespec ts;

    /* CPU time of this thread: the machine may be shared. */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint32_t
prefix(int len)
{
    return len ? htonl(UINT32_MAX << (32 - len)) : 0;
}

/* Mask number 'j' (0...31).  Mask 0 is the full 5-tuple. */
static void
make_mask(int j, struct esw_key *m)
{
    static const int dst_plens[] = { 32, 24, 16, 12 };
    static const int src_plens[] = { 32, 28, 20, 0 };

    memset(m, 0, sizeof *m);
    m->in_vport = UINT32_MAX;
    m->eth_type = UINT16_MAX;
    m->ip_proto = UINT8_MAX;
    m->ip_dst.ip4 = prefix(dst_plens[j & 3]);
    m->ip_src.ip4 = prefix(src_plens[(j >> 2) & 3]);
    m->tp_dst = UINT16_MAX;
    if (!(j & 16)) {
        m->tp_src = UINT16_MAX;
    }
}

static void
random_key(struct esw_key *k)
{
    memset(k, 0, sizeof *k);
    k->in_vport = 1 + prng() % 16;
    k->eth_type = htons(ESW_ETH_TYPE_IPV4);
    k->dst.ea[0] = 2;
    k->dst.ea[5] = prng();
    k->src.ea[0] = 2;
    k->src.ea[5] = prng();
    k->ip_src.ip4 = prng();
    k->ip_dst.ip4 = prng();
    k->ip_proto = prng() & 1 ? 6 : 17;
    k->ip_ttl = 64;
    k->tp_src = prng();
    k->tp_dst = prng();
}

/* Maps our key (or mask) onto OVS's flow (or wildcard mask). */
static void
key_to_flow(const struct esw_key *k, bool ipv6, struct flow *f)
{
    memset(f, 0, sizeof *f);
    f->in_port.odp_port = u32_to_odp(k->in_vport);
    f->dl_type = k->eth_type;
    memcpy(f->dl_dst.ea, k->dst.ea, ESW_ETH_ADDR_LEN);
    memcpy(f->dl_src.ea, k->src.ea, ESW_ETH_ADDR_LEN);
    for (int i = 0; i < ESW_MAX_VLANS; i++) {
        f->vlans[i].tpid = k->vlans[i].tpid;
        f->vlans[i].tci = k->vlans[i].tci;
    }
    if (ipv6) {
        memcpy(&f->ipv6_src, &k->ip_src.ip6, sizeof f->ipv6_src);
        memcpy(&f->ipv6_dst, &k->ip_dst.ip6, sizeof f->ipv6_dst);
    } else {
        f->nw_src = k->ip_src.ip4;
        f->nw_dst = k->ip_dst.ip4;
    }
    f->nw_proto = k->ip_proto;
    f->nw_tos = k->ip_tos;
    f->nw_ttl = k->ip_ttl;
    f->nw_frag = k->ip_frag;
    f->tp_src = k->tp_src;
    f->tp_dst = k->tp_dst;
    f->tcp_flags = k->tcp_flags;
}

static bool
key_is_ipv6(const struct esw_key *k)
{
    return k->eth_type == htons(ESW_ETH_TYPE_IPV6);
}

struct orule {
    struct cls_rule cr;
};

static void
orule_free(struct orule *o)
{
    cls_rule_destroy(&o->cr);
    free(o);
}

struct result {
    double esw, esw_batch, ovs;         /* Mlookups/s. */
};

struct bench {
    size_t n_rules;
    int n_masks;
    double duration;            /* Seconds per lookup measurement. */

    struct esw_cls_rule *erules;
    bool *skip;                 /* Duplicate: not inserted anywhere. */
    struct orule **orules;
    struct esw_cls *ecls;
    struct classifier ocls;

    struct esw_key keys[N_PACKETS];
    struct flow flows[N_PACKETS];

    double esw_insert, ovs_insert, esw_delete, ovs_delete;  /* Mrules/s. */
};

static void
build_rules(struct bench *b)
{
    struct esw_key masks[32];

    for (int j = 0; j < b->n_masks; j++) {
        make_mask(j, &masks[j]);
    }
    b->erules = xcalloc(b->n_rules, sizeof *b->erules);
    b->skip = xcalloc(b->n_rules, sizeof *b->skip);
    b->orules = xcalloc(b->n_rules, sizeof *b->orules);
    for (size_t i = 0; i < b->n_rules; i++) {
        struct esw_cls_rule *r = &b->erules[i];
        const struct esw_key *m = &masks[i % b->n_masks];
        struct esw_key k;
        struct match match;

        random_key(&k);
        r->mask = *m;
        for (int w = 0; w < ESW_KEY_WORDS; w++) {
            r->match.w[w] = k.w[w] & m->w[w];
        }
        r->priority = prng() % (1u << 30);

        match_init_catchall(&match);
        key_to_flow(&r->match, key_is_ipv6(&r->match), &match.flow);
        key_to_flow(&r->mask, key_is_ipv6(&r->match), &match.wc.masks);
        b->orules[i] = xmalloc(sizeof *b->orules[i]);
        cls_rule_init(&b->orules[i]->cr, &match, r->priority);
    }
}

static void
insert_rules(struct bench *b)
{
    size_t n_dup = 0;
    double t;

    b->ecls = esw_cls_create(b->n_rules);
    t = now();
    for (size_t i = 0; i < b->n_rules; i++) {
        int error = esw_cls_insert(b->ecls, &b->erules[i]);
        if (error) {
            ovs_assert(error == EEXIST);
            b->skip[i] = true;
            n_dup++;
        }
    }
    b->esw_insert = b->n_rules / (now() - t) / 1e6;
    esw_rcu_quiesce();

    classifier_init(&b->ocls, flow_segment_u64s);
    t = now();
    for (size_t i = 0; i < b->n_rules; i++) {
        if (!b->skip[i]) {
            classifier_insert(&b->ocls, &b->orules[i]->cr, OVS_VERSION_MIN,
                              NULL, 0);
        }
    }
    b->ovs_insert = (b->n_rules - n_dup) / (now() - t) / 1e6;
    ovsrcu_quiesce();
}

static void
make_packets(struct bench *b, bool hit)
{
    for (int i = 0; i < N_PACKETS; i++) {
        struct esw_key *k = &b->keys[i];

        random_key(k);
        if (hit) {
            const struct esw_cls_rule *r = &b->erules[prng() % b->n_rules];
            for (int w = 0; w < ESW_KEY_WORDS; w++) {
                k->w[w] = (k->w[w] & ~r->mask.w[w]) | r->match.w[w];
            }
        }
        key_to_flow(k, key_is_ipv6(k), &b->flows[i]);
    }
}

/* Both tables must agree on every packet (up to ties).  Returns the
 * number of hits. */
static int
verify(struct bench *b)
{
    int hits = 0;

    for (int i = 0; i < N_PACKETS; i++) {
        const struct esw_cls_rule *e = esw_cls_lookup(b->ecls, &b->keys[i]);
        const struct cls_rule *o = classifier_lookup(
            &b->ocls, OVS_VERSION_MAX, &b->flows[i], NULL);

        if (!e != !o || (e && (int) e->priority != o->priority)) {
            fprintf(stderr, "bench-cls: tables disagree on packet %d "
                    "(esw %"PRId64", ovs %d)\n", i,
                    e ? (int64_t) e->priority : -1, o ? o->priority : -1);
            exit(1);
        }
        hits += e != NULL;
    }
    return hits;
}

static uintptr_t sink;

static double
time_esw(struct bench *b)
{
    double t = now(), elapsed;
    uint64_t n = 0;

    do {
        for (int i = 0; i < N_PACKETS; i++) {
            sink += (uintptr_t) esw_cls_lookup(b->ecls, &b->keys[i]);
        }
        n += N_PACKETS;
        esw_rcu_quiesce();
    } while ((elapsed = now() - t) < b->duration);
    return n / elapsed / 1e6;
}

static double
time_esw_batch(struct bench *b)
{
    enum { BATCH = 32 };
    const struct esw_key *kp[N_PACKETS];
    const struct esw_cls_rule *out[BATCH];
    double t, elapsed;
    uint64_t n = 0;

    for (int i = 0; i < N_PACKETS; i++) {
        kp[i] = &b->keys[i];
    }
    t = now();
    do {
        for (int i = 0; i < N_PACKETS; i += BATCH) {
            esw_cls_lookup_batch(b->ecls, &kp[i], BATCH, out);
            sink += (uintptr_t) out[0];
        }
        n += N_PACKETS;
        esw_rcu_quiesce();
    } while ((elapsed = now() - t) < b->duration);
    return n / elapsed / 1e6;
}

static double
time_ovs(struct bench *b)
{
    double t = now(), elapsed;
    uint64_t n = 0;

    do {
        for (int i = 0; i < N_PACKETS; i++) {
            sink += (uintptr_t) classifier_lookup(&b->ocls, OVS_VERSION_MAX,
                                                  &b->flows[i], NULL);
        }
        n += N_PACKETS;
        ovsrcu_quiesce();
    } while ((elapsed = now() - t) < b->duration);
    return n / elapsed / 1e6;
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

/* Measures the three kinds of lookup in turns, ROUNDS times, each for
 * 'b->duration' / ROUNDS seconds, and returns the medians. */
static struct result
time_all(struct bench *b)
{
    double esw[ROUNDS], esw_batch[ROUNDS], ovs[ROUNDS];
    double duration = b->duration;
    struct result r;

    b->duration = duration / ROUNDS;
    for (int i = 0; i < ROUNDS; i++) {
        esw[i] = time_esw(b);
        esw_batch[i] = time_esw_batch(b);
        ovs[i] = time_ovs(b);
    }
    b->duration = duration;
    r.esw = median(esw, ROUNDS);
    r.esw_batch = median(esw_batch, ROUNDS);
    r.ovs = median(ovs, ROUNDS);
    return r;
}

static void
delete_rules(struct bench *b)
{
    size_t n = 0;
    double t;

    t = now();
    for (size_t i = 0; i < b->n_rules; i++) {
        if (!b->skip[i]) {
            esw_cls_remove(b->ecls, &b->erules[i]);
            n++;
        }
    }
    b->esw_delete = n / (now() - t) / 1e6;
    ovs_assert(!esw_cls_count(b->ecls));
    esw_cls_destroy(b->ecls);

    t = now();
    for (size_t i = 0; i < b->n_rules; i++) {
        if (!b->skip[i]) {
            classifier_remove_assert(&b->ocls, &b->orules[i]->cr);
        }
    }
    b->ovs_delete = n / (now() - t) / 1e6;
    classifier_destroy(&b->ocls);

    /* Nobody can see the rules any more. */
    esw_rcu_barrier();
    ovsrcu_synchronize();
    for (size_t i = 0; i < b->n_rules; i++) {
        orule_free(b->orules[i]);
    }
    free(b->orules);
    free(b->erules);
    free(b->skip);
    ovsrcu_quiesce();
}

int
main(int argc, char *argv[])
{
    static const size_t sizes[] = { 1000, 100000, 1000000 };
    static const int n_masks[] = { 1, 8, 32 };
    double duration = 0.25;
    bool quick = false;
    double min_ratio = 1e9;
    struct bench *b;

    set_program_name(argv[0]);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            quick = true;
            duration = 0.05;
        } else if (!strcmp(argv[i], "--long")) {
            duration = 1.0;
        } else {
            fprintf(stderr, "usage: %s [--quick | --long]\n", argv[0]);
            return 1;
        }
    }

    esw_rcu_thread_register();
    b = xzalloc(sizeof *b);
    printf("esw-cls vs. OVS %s classifier, %d packets per traffic set, "
           "%.2f s per figure (median of %d turns)\n\n", VERSION,
           N_PACKETS, duration, ROUNDS);
    printf("%8s %5s %7s | %8s %9s | %8s %9s | %8s %9s | %6s\n",
           "rules", "masks", "traffic", "esw", "ns/lookup", "esw-bat",
           "ns/lookup", "ovs", "ns/lookup", "ratio");
    printf("%8s %5s %7s | %8s %9s | %8s %9s | %8s %9s | %6s\n",
           "", "", "", "Mlkp/s", "", "Mlkp/s", "", "Mlkp/s", "", "esw/ovs");

    struct {
        size_t n_rules;
        int n_masks;
        double ei, oi, ed, od;
    } rates[9];
    int n_rates = 0;

    for (int s = 0; s < 3; s++) {
        if (quick && s == 2) {
            break;
        }
        for (int m = 0; m < 3; m++) {
            b->n_rules = sizes[s];
            b->n_masks = n_masks[m];
            b->duration = duration;
            build_rules(b);
            insert_rules(b);
            for (int hit = 1; hit >= 0; hit--) {
                struct result r;
                int hits;

                make_packets(b, hit);
                hits = verify(b);
                if (hit ? hits < N_PACKETS : hits > N_PACKETS / 100) {
                    fprintf(stderr, "bench-cls: unexpected %d hits\n", hits);
                    return 1;
                }
                r = time_all(b);
                printf("%8zu %5d %7s | %8.2f %9.1f | %8.2f %9.1f | "
                       "%8.2f %9.1f | %6.2f\n",
                       b->n_rules, b->n_masks, hit ? "hit" : "miss",
                       r.esw, 1e3 / r.esw, r.esw_batch, 1e3 / r.esw_batch,
                       r.ovs, 1e3 / r.ovs, r.esw / r.ovs);
                if (r.esw / r.ovs < min_ratio) {
                    min_ratio = r.esw / r.ovs;
                }
            }
            delete_rules(b);
            rates[n_rates].n_rules = b->n_rules;
            rates[n_rates].n_masks = b->n_masks;
            rates[n_rates].ei = b->esw_insert;
            rates[n_rates].oi = b->ovs_insert;
            rates[n_rates].ed = b->esw_delete;
            rates[n_rates].od = b->ovs_delete;
            n_rates++;
        }
    }
    printf("\nminimum lookup ratio esw/ovs (single lookups): %.2f\n\n",
           min_ratio);

    printf("%8s %5s | %8s %8s %6s | %8s %8s %6s\n", "rules", "masks",
           "esw ins", "ovs ins", "ratio", "esw del", "ovs del", "ratio");
    printf("%8s %5s | %8s %8s %6s | %8s %8s %6s\n", "", "",
           "Mrule/s", "Mrule/s", "", "Mrule/s", "Mrule/s", "");
    for (int i = 0; i < n_rates; i++) {
        printf("%8zu %5d | %8.2f %8.2f %6.2f | %8.2f %8.2f %6.2f\n",
               rates[i].n_rules, rates[i].n_masks,
               rates[i].ei, rates[i].oi, rates[i].ei / rates[i].oi,
               rates[i].ed, rates[i].od, rates[i].ed / rates[i].od);
    }
    free(b);
    esw_rcu_barrier();
    return 0;
}
