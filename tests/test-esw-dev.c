/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the eSwitch device API with the "sim" driver, or with the
 * driver $ESW_TEST_DRIVER names ("remote": a device hosted by
 * ovs-eswitchd, which the test starts), with the same expected output.
 *
 *   test-esw-dev open              open/close/lookup/refcount, drivers
 *   test-esw-dev vports            add/remove/query/iterate functions
 *   test-esw-dev forward           inject -> rule -> capture, rewrites
 *   test-esw-dev miss              miss -> representor queue, fd, overflow
 *   test-esw-dev rep-send          representor -> egress -> capture
 *   test-esw-dev validate          EINVAL/EOPNOTSUPP/ENOENT/ENOSPC/EEXIST
 *   test-esw-dev modify            modify, delete, stats, orphaned rules
 *   test-esw-dev policy            per-reason drops on hit and miss paths
 *   test-esw-dev rewrite           header rewrites, checksums, refusals
 *   test-esw-dev chains            recirculation, hash, select buckets,
 *                                  misses in a later chain, depth bound
 *   test-esw-dev meters            policers, in chains, deleted
 *   test-esw-dev churn SEED N T    rule churn while forwarding N packets
 *                                  with T threads: no loss, no misforward
 *   test-esw-dev shutdown          close with packets in flight
 *   test-esw-dev tap               tap backend (exit 77 if unavailable)
 *   test-esw-dev reset             remote only: the connection to the
 *                                  daemon breaks, the daemon lives: the
 *                                  device is taken over as it was
 *
 * Waits are bounded and condition-based (esw_dev_wait_idle()); output is
 * deterministic.  Exits 1 on the first failed check, with a message on
 * stderr. */

#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#include "datapath/esw-rule-format.h"
#include "datapath/policy/esw-policy.h"
#include "datapath/cls/esw-rcu.h"
#include "tests/unit-check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define WAIT_MS 10000

static const struct esw_eth_addr MAC_VF0 = { { 2, 0, 0, 0, 0, 0x10 } };
static const struct esw_eth_addr MAC_VF1 = { { 2, 0, 0, 0, 0, 0x11 } };
static const struct esw_eth_addr MAC_EXT = { { 2, 0, 0, 0, 0, 0xee } };
static const struct esw_eth_addr MAC_BCAST = { { 0xff, 0xff, 0xff, 0xff,
                                                 0xff, 0xff } };

/* Frames. */

struct frame_spec {
    struct esw_eth_addr dst, src;
    int n_tags;
    uint16_t tpid[2], tci[2];
    uint16_t eth_type;
    size_t payload;             /* Bytes after the ethertype. */
    uint32_t seq;               /* Written at the start of the payload. */
};

static struct esw_pkt *
make_frame(const struct frame_spec *f)
{
    size_t len = ESW_ETH_HDR_LEN + f->n_tags * 4 + f->payload;
    struct esw_pkt *pkt = esw_pkt_alloc(len);
    uint8_t *p;

    CHECK(pkt);
    p = pkt->data;
    memcpy(p, f->dst.ea, 6);
    memcpy(p + 6, f->src.ea, 6);
    p += 12;
    for (int i = 0; i < f->n_tags; i++) {
        p[0] = f->tpid[i] >> 8;
        p[1] = f->tpid[i];
        p[2] = f->tci[i] >> 8;
        p[3] = f->tci[i];
        p += 4;
    }
    p[0] = f->eth_type >> 8;
    p[1] = f->eth_type;
    p += 2;
    for (size_t i = 0; i < f->payload; i++) {
        p[i] = i;
    }
    if (f->payload >= 4) {
        uint32_t seq = htonl(f->seq);

        memcpy(p, &seq, 4);
    }
    return pkt;
}

static struct esw_pkt *
simple_frame(const struct esw_eth_addr *dst, const struct esw_eth_addr *src,
             uint32_t seq)
{
    struct frame_spec f = {
        .dst = *dst, .src = *src, .eth_type = 0x0800, .payload = 46,
        .seq = seq,
    };

    return make_frame(&f);
}

/* Prints a frame's Ethernet header and length. */
static void
print_frame(const char *what, const struct esw_pkt *pkt)
{
    const uint8_t *p = pkt->data;
    size_t ofs = 12;

    printf("%s: %02x:%02x:%02x:%02x:%02x:%02x > "
           "%02x:%02x:%02x:%02x:%02x:%02x", what,
           p[6], p[7], p[8], p[9], p[10], p[11],
           p[0], p[1], p[2], p[3], p[4], p[5]);
    while (ofs + 4 <= pkt->len) {
        uint16_t type = p[ofs] << 8 | p[ofs + 1];

        if (type != 0x8100 && type != 0x88a8) {
            break;
        }
        printf(" vlan %04x:%u:pcp%u", type,
               (p[ofs + 2] << 8 | p[ofs + 3]) & 0xfff, p[ofs + 2] >> 5);
        ofs += 4;
    }
    printf(" type %02x%02x len %"PRIu32"\n", p[ofs], p[ofs + 1], pkt->len);
}

/* Frees the 'n' packets in 'pkts'. */
static void
free_pkts(struct esw_pkt *pkts[], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        esw_pkt_free(pkts[i]);
    }
}

/* Devices and vports. */

/* The driver under test. */
static const char *
test_driver(void)
{
    const char *driver = getenv("ESW_TEST_DRIVER");

    return driver && driver[0] ? driver : "sim";
}

static struct esw_dev *
open_dev(const char *name, const struct esw_dev_config *cfg)
{
    struct esw_dev *dev;

    CHECK_EQ(esw_dev_open(name, test_driver(), cfg, &dev), 0);
    return dev;
}

static uint32_t
add_vport(struct esw_dev *dev, enum esw_vport_kind kind, uint32_t fn,
          const struct esw_eth_addr *mac, uint32_t rep_depth)
{
    struct esw_vport_config cfg = {
        .kind = kind, .pf = 0, .fn = fn, .vport = ESW_VPORT_AUTO,
        .rep_queue_depth = rep_depth,
        .io = &(struct esw_io_config) { .type = ESW_IO_CAPTURE,
                                        .queue_depth = 65536 },
    };
    struct esw_error err;
    uint32_t vport;

    if (mac) {
        cfg.mac = *mac;
    }
    if (esw_vport_add(dev, &cfg, &err, &vport)) {
        CHECK_FAIL("vport_add: %s", err.reason);
    }
    return vport;
}

static void
wait_idle(struct esw_dev *dev)
{
    CHECK_EQ(esw_dev_wait_idle(dev, WAIT_MS), 0);
}

static void
inject(struct esw_dev *dev, uint32_t vport, struct esw_pkt *pkt)
{
    CHECK_EQ(esw_host_inject(dev, vport, pkt), 0);
}

/* Reads exactly one packet captured on 'vport' (all must be there after
 * wait_idle()) and checks that nothing else is. */
static struct esw_pkt *
capture_one(struct esw_dev *dev, uint32_t vport)
{
    struct esw_pkt *pkts[2];
    size_t n = esw_host_capture_read(dev, vport, pkts, 2);

    CHECK_EQ(n, 1);
    return pkts[0];
}

static size_t
capture_count(struct esw_dev *dev, uint32_t vport)
{
    struct esw_pkt *pkts[64];
    size_t n, total = 0;

    while ((n = esw_host_capture_read(dev, vport, pkts, 64)) > 0) {
        free_pkts(pkts, n);
        total += n;
    }
    return total;
}

static size_t
rep_count(struct esw_dev *dev, uint32_t vport)
{
    struct esw_pkt *pkts[64];
    size_t n, total = 0;

    while ((n = esw_rep_recv(dev, vport, 0, pkts, 64)) > 0) {
        free_pkts(pkts, n);
        total += n;
    }
    return total;
}

/* Rules. */

static void
spec_init(struct esw_rule_spec *spec, uint32_t in_vport, uint32_t priority)
{
    memset(spec, 0, sizeof *spec);
    spec->match.in_vport = in_vport;
    spec->mask.in_vport = UINT32_MAX;
    spec->priority = priority;
}

static struct esw_action *
spec_action(struct esw_rule_spec *spec, enum esw_action_type type)
{
    struct esw_action *a = &spec->actions[spec->n_actions++];

    a->type = type;
    return a;
}

static void
spec_output(struct esw_rule_spec *spec, uint32_t vport)
{
    spec_action(spec, ESW_ACTION_OUTPUT)->vport = vport;
}

static struct esw_rule *
add_rule(struct esw_dev *dev, const struct esw_rule_spec *spec)
{
    struct esw_rule *rule;
    struct esw_error err;

    if (esw_rule_add(dev, spec, &err, &rule)) {
        CHECK_FAIL("rule_add: %s", err.reason);
    }
    return rule;
}

static void
print_drops(struct esw_dev *dev, uint32_t vport)
{
    struct esw_vport_info info;
    struct esw_vport_stats s;
    bool any = false;

    CHECK_EQ(esw_vport_get_info(dev, vport, &info), 0);
    CHECK_EQ(esw_vport_get_stats(dev, vport, &s), 0);
    printf("%s: rx %"PRIu64" tx %"PRIu64" rep_rx %"PRIu64" rep_tx %"PRIu64
           " drops:", info.name, s.rx_packets, s.tx_packets,
           s.rep_rx_packets, s.rep_tx_packets);
    for (int i = 0; i < ESW_N_DROP_REASONS; i++) {
        if (s.drops[i]) {
            printf(" %s=%"PRIu64, esw_drop_reason_name(i), s.drops[i]);
            any = true;
        }
    }
    printf("%s\n", any ? "" : " none");
}

/* open */

static void
test_open(void)
{
    struct esw_dev *a, *b, *c;
    const char *names[4];
    struct esw_caps caps;

    CHECK_EQ(esw_driver_list(names, 4), 2);
    printf("drivers: %s %s\n", names[0], names[1]);

    CHECK_EQ(esw_dev_open("esw0", "nosuch", NULL, &a), ENODEV);
    CHECK_EQ(esw_dev_open("", NULL, NULL, &a), EINVAL);
    CHECK_EQ(esw_dev_open("a-name-that-is-too-long", NULL, NULL, &a),
             EINVAL);
    CHECK_PTR_EQ(esw_dev_lookup("esw0"), NULL);

    a = open_dev("esw0", NULL);
    b = open_dev("esw0", NULL);
    CHECK_PTR_EQ(a, b);
    c = esw_dev_lookup("esw0");
    CHECK_PTR_EQ(c, a);
    printf("%s: driver %s\n", esw_dev_name(a), esw_dev_driver_name(a));
    esw_dev_get_caps(a, &caps);
    printf("caps: rules %"PRIu32" vports %"PRIu32" threads %"PRIu32
           " match %#"PRIx32" actions %#"PRIx32" set %#"PRIx32" recirc %"
           PRIu32" meters %"PRIu32" conns %"PRIu32"\n", caps.max_rules,
           caps.max_vports, caps.n_threads, caps.match_fields, caps.actions,
           caps.set_fields, caps.max_recirc, caps.max_meters, caps.max_conns);
    esw_dev_close(c);
    esw_dev_close(b);
    CHECK_PTR_EQ(esw_dev_lookup("esw0"), a);
    esw_dev_close(a);           /* The lookup's reference. */
    esw_dev_close(a);           /* The last one. */
    CHECK_PTR_EQ(esw_dev_lookup("esw0"), NULL);
    esw_dev_close(NULL);

    /* A new device of the same name is a new device. */
    a = open_dev("esw0", &(struct esw_dev_config) { .n_threads = 2 });
    esw_dev_get_caps(a, &caps);
    printf("reopened: threads %"PRIu32"\n", caps.n_threads);
    b = open_dev("esw1", NULL);
    CHECK(a != b);
    esw_dev_close(b);
    esw_dev_close(a);
    CHECK_EQ(esw_dev_open("esw0", test_driver(), &(struct esw_dev_config) {
                 .n_threads = 1000 }, &a), EINVAL);
}

/* vports */

static void
print_vport(struct esw_dev *dev, uint32_t vport)
{
    struct esw_host_info host;
    struct esw_vport_info info;

    CHECK_EQ(esw_vport_get_info(dev, vport, &info), 0);
    CHECK_EQ(esw_vport_get_host(dev, vport, &host), 0);
    printf("vport %"PRIu32": %s kind %s pf %"PRIu32" fn %"PRIu32
           " mac %02x:%02x:%02x:%02x:%02x:%02x mtu %"PRIu32" %s/%s io %s "
           "repq %"PRIu32" fd %s\n", info.vport, info.name,
           esw_vport_kind_name(info.kind), info.pf, info.fn,
           info.mac.ea[0], info.mac.ea[1], info.mac.ea[2], info.mac.ea[3],
           info.mac.ea[4], info.mac.ea[5], info.mtu,
           info.admin_up ? "up" : "down", info.oper_up ? "up" : "down",
           esw_io_type_name(host.type), info.rep_queue_depth,
           info.rep_fd >= 0 ? "yes" : "no");
}

static void
test_vports(void)
{
    struct esw_dev *dev = open_dev("esw0", &(struct esw_dev_config) {
                                       .max_vports = 8 });
    struct esw_vport_config cfg = { .kind = ESW_VPORT_VF, .fn = 0,
                                    .vport = ESW_VPORT_AUTO };
    uint32_t p0, hpf, vf0, vf1, sf, vports[8], v;
    struct esw_error err;
    size_t n;

    p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    hpf = add_vport(dev, ESW_VPORT_PF, 0, NULL, 0);
    vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 16);
    vf1 = add_vport(dev, ESW_VPORT_VF, 1, &MAC_VF1, 0);
    sf = add_vport(dev, ESW_VPORT_SF, 1000, NULL, 0);
    for (uint32_t i = p0; i <= sf; i++) {
        print_vport(dev, i);
    }
    (void) hpf;
    (void) vf1;

    CHECK_EQ(esw_vport_add(dev, &cfg, &err, &v), EEXIST);
    printf("add pf0vf0 again: %s\n", err.reason);
    cfg.fn = 7;
    cfg.vport = 2;
    CHECK_EQ(esw_vport_add(dev, &cfg, &err, &v), EEXIST);
    printf("add at vport 2: %s\n", err.reason);
    cfg.vport = 8;
    CHECK_EQ(esw_vport_add(dev, &cfg, &err, &v), EINVAL);
    printf("add at vport 8: %s\n", err.reason);
    cfg.vport = ESW_VPORT_AUTO;
    cfg.mtu = 10000;
    CHECK_EQ(esw_vport_add(dev, &cfg, &err, &v), EINVAL);
    printf("mtu 10000: %s\n", err.reason);
    cfg.mtu = 0;
    cfg.mac = MAC_BCAST;
    CHECK_EQ(esw_vport_add(dev, &cfg, &err, &v), EINVAL);
    printf("broadcast mac: %s\n", err.reason);
    cfg.mac = MAC_VF1;

    /* Fill up. */
    for (uint32_t fn = 10; fn < 13; fn++) {
        cfg.fn = fn;
        CHECK_EQ(esw_vport_add(dev, &cfg, &err, &v), 0);
    }
    cfg.fn = 13;
    CHECK_EQ(esw_vport_add(dev, &cfg, &err, &v), ENOSPC);
    printf("ninth vport: %s\n", err.reason);

    n = esw_vport_list(dev, vports, 8);
    printf("%zu vports:", n);
    for (size_t i = 0; i < n; i++) {
        struct esw_vport_info info;

        CHECK_EQ(esw_vport_get_info(dev, vports[i], &info), 0);
        printf(" %s", info.name);
    }
    printf("\n");

    CHECK_EQ(esw_vport_lookup(dev, "pf0vf1", &v), 0);
    CHECK_EQ(v, vf1);
    CHECK_EQ(esw_vport_del(dev, vf1), 0);
    CHECK_EQ(esw_vport_del(dev, vf1), ENOENT);
    CHECK_EQ(esw_vport_lookup(dev, "pf0vf1", &v), ENOENT);
    CHECK_EQ(esw_vport_get_info(dev, vf1, &(struct esw_vport_info) {0}),
             ENOENT);
    CHECK_EQ(esw_vport_list(dev, vports, 8), 7);

    /* Freed number is reused; settings. */
    cfg.fn = 20;
    CHECK_EQ(esw_vport_add(dev, &cfg, &err, &v), 0);
    CHECK_EQ(v, vf1);
    CHECK_EQ(esw_vport_set_mtu(dev, vf0, 9000), 0);
    CHECK_EQ(esw_vport_set_mtu(dev, vf0, 20), EINVAL);
    CHECK_EQ(esw_vport_set_mac(dev, vf0, &MAC_EXT), 0);
    CHECK_EQ(esw_vport_set_mac(dev, vf0, &MAC_BCAST), EINVAL);
    CHECK_EQ(esw_vport_set_admin_state(dev, vf0, false), 0);
    CHECK_EQ(esw_vport_set_mtu(dev, 99, 1500), ENOENT);
    print_vport(dev, vf0);
    print_vport(dev, v);
    esw_dev_close(dev);
}

/* forward */

static void
test_forward(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    uint32_t vf1 = add_vport(dev, ESW_VPORT_VF, 1, &MAC_VF1, 0);
    struct esw_rule_spec spec;
    struct esw_pkt *in, *out;
    struct esw_action *a;
    struct esw_rule *r;

    /* Plain output: bytes unchanged. */
    spec_init(&spec, vf0, 10);
    spec_output(&spec, p0);
    r = add_rule(dev, &spec);
    in = simple_frame(&MAC_EXT, &MAC_VF0, 1);
    struct esw_pkt *copy = esw_pkt_clone(in);
    inject(dev, vf0, in);
    wait_idle(dev);
    out = capture_one(dev, p0);
    CHECK_EQ(out->len, copy->len);
    CHECK_MEMEQ(out->data, copy->data, out->len);
    print_frame("output", out);
    esw_pkt_free(out);
    esw_pkt_free(copy);

    /* Push 802.1ad over 802.1Q, set both MACs. */
    spec_init(&spec, vf0, 10);
    a = spec_action(&spec, ESW_ACTION_PUSH_VLAN);
    a->vlan.tpid = ESW_TPID_8021Q;
    a->vlan.tci = 100 | 3 << 13;
    a = spec_action(&spec, ESW_ACTION_PUSH_VLAN);
    a->vlan.tpid = ESW_TPID_8021AD;
    a->vlan.tci = 200;
    spec_action(&spec, ESW_ACTION_SET_ETH_SRC)->mac = MAC_VF1;
    spec_action(&spec, ESW_ACTION_SET_ETH_DST)->mac = MAC_BCAST;
    spec_output(&spec, p0);
    CHECK_EQ(esw_rule_modify(dev, r, &spec, NULL), 0);
    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, 2));
    wait_idle(dev);
    out = capture_one(dev, p0);
    print_frame("push-push-set", out);
    CHECK_EQ(out->len, 60 + 8);
    esw_pkt_free(out);

    /* Pop from p0 to vf1. */
    spec_init(&spec, p0, 10);
    spec_action(&spec, ESW_ACTION_POP_VLAN);
    spec_output(&spec, vf1);
    add_rule(dev, &spec);
    struct frame_spec fs = {
        .dst = MAC_VF1, .src = MAC_EXT, .n_tags = 1,
        .tpid = { 0x8100 }, .tci = { 42 }, .eth_type = 0x0800,
        .payload = 46,
    };
    inject(dev, p0, make_frame(&fs));
    wait_idle(dev);
    out = capture_one(dev, vf1);
    print_frame("pop", out);
    CHECK_EQ(out->len, 60);
    esw_pkt_free(out);

    /* Outputs in order: untagged to vf1, tagged to p0 (hairpin-free). */
    spec_init(&spec, vf0, 10);
    spec_output(&spec, vf1);
    a = spec_action(&spec, ESW_ACTION_PUSH_VLAN);
    a->vlan.tpid = ESW_TPID_8021Q;
    a->vlan.tci = 7;
    spec_action(&spec, ESW_ACTION_COUNT);
    spec_output(&spec, p0);
    CHECK_EQ(esw_rule_modify(dev, r, &spec, NULL), 0);
    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, 3));
    wait_idle(dev);
    out = capture_one(dev, vf1);
    print_frame("multi vf1", out);
    esw_pkt_free(out);
    out = capture_one(dev, p0);
    print_frame("multi p0", out);
    esw_pkt_free(out);

    /* Explicit drop. */
    spec_init(&spec, vf0, 10);
    spec_action(&spec, ESW_ACTION_DROP);
    CHECK_EQ(esw_rule_modify(dev, r, &spec, NULL), 0);
    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, 4));
    /* Malformed: too short. */
    inject(dev, vf0, esw_pkt_alloc(10));
    wait_idle(dev);
    CHECK_EQ(capture_count(dev, p0) + capture_count(dev, vf1), 0);
    CHECK_EQ(rep_count(dev, vf0), 0);
    print_drops(dev, vf0);
    print_drops(dev, p0);
    print_drops(dev, vf1);
    esw_dev_close(dev);
}

/* miss */

static bool
fd_readable(int fd)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };

    return poll(&pfd, 1, 0) == 1;
}

static void
test_miss(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 4);
    struct esw_pkt *pkts[8];
    int fd = esw_rep_get_fd(dev, vf0, 0);
    size_t n;

    CHECK_GE(fd, 0);
    CHECK_EQ(esw_rep_get_fd(dev, 99, 0), -1);
    printf("fd readable before: %d\n", fd_readable(fd));
    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, 1));
    wait_idle(dev);
    printf("fd readable after miss: %d\n", fd_readable(fd));
    n = esw_rep_recv(dev, vf0, 0, pkts, 8);
    CHECK_EQ(n, 1);
    CHECK_EQ(pkts[0]->in_vport, vf0);
    print_frame("missed", pkts[0]);
    free_pkts(pkts, n);
    printf("fd readable after recv: %d\n", fd_readable(fd));
    /* The fd is cleared after 4 empty receives in a row. */
    for (int i = 0; i < 4; i++) {
        printf("fd readable before empty recv %d: %d\n", i, fd_readable(fd));
        CHECK_EQ(esw_rep_recv(dev, vf0, 0, pkts, 8), 0);
    }
    printf("fd readable after empty recvs: %d\n", fd_readable(fd));
    CHECK_EQ(esw_rep_recv(dev, p0, 0, pkts, 8), 0);

    /* Overflow: queue depth 4. */
    for (uint32_t i = 0; i < 10; i++) {
        inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, i));
    }
    wait_idle(dev);
    printf("fd readable after 10 misses: %d\n", fd_readable(fd));
    n = esw_rep_recv(dev, vf0, 0, pkts, 8);
    printf("recv: %zu\n", n);
    for (size_t i = 0; i < n; i++) {
        uint32_t seq;

        memcpy(&seq, pkts[i]->data + 14, 4);
        CHECK_EQ(ntohl(seq), i);
    }
    free_pkts(pkts, n);
    CHECK_EQ(rep_count(dev, vf0), 0);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(esw_rep_recv(dev, vf0, 0, pkts, 8), 0);
    }
    printf("fd readable after drain: %d\n", fd_readable(fd));
    print_drops(dev, vf0);
    esw_dev_close(dev);
}

/* rep-queues */

/* Receives everything waiting on each of the 'n' queues of 'vport' and
 * checks that each flow (source MAC) uses one queue only and arrives in
 * order (the sequence numbers of one flow increase).  Prints how many
 * packets and queues were used. */
static void
check_rep_queues(struct esw_dev *dev, uint32_t vport, uint32_t n)
{
    int queue_of[256];
    uint32_t last_seq[256];
    size_t total = 0, split = 0, disorder = 0;
    uint32_t used = 0;

    for (int i = 0; i < 256; i++) {
        queue_of[i] = -1;
    }
    for (uint32_t q = 0; q < n; q++) {
        struct esw_pkt *pkts[64];
        size_t n_pkts, in_queue = 0;

        while ((n_pkts = esw_rep_recv(dev, vport, q, pkts, 64)) > 0) {
            for (size_t i = 0; i < n_pkts; i++) {
                uint8_t flow = pkts[i]->data[11];
                uint32_t seq;

                memcpy(&seq, pkts[i]->data + 14, 4);
                seq = ntohl(seq);
                if (queue_of[flow] < 0) {
                    queue_of[flow] = q;
                } else if (queue_of[flow] != (int) q) {
                    split++;
                } else if (seq <= last_seq[flow]) {
                    disorder++;
                }
                last_seq[flow] = seq;
            }
            free_pkts(pkts, n_pkts);
            in_queue += n_pkts;
        }
        total += in_queue;
        used += in_queue > 0;
    }
    printf("%zu packets on %"PRIu32" of %"PRIu32" queues, flows split "
           "across queues: %zu, out of order: %zu\n", total, used, n, split,
           disorder);
}

static void
test_rep_queues(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    struct esw_vport_config cfg = {
        .kind = ESW_VPORT_SF, .pf = 0, .fn = 1000, .vport = ESW_VPORT_AUTO,
        .mac = MAC_VF0, .n_rep_queues = 4,
        .io = &(struct esw_io_config) { .type = ESW_IO_CAPTURE,
                                        .queue_depth = 4096 },
    };
    struct esw_vport_info info;
    struct esw_error err;
    uint32_t sf, seq = 0;

    CHECK_EQ(esw_vport_add(dev, &cfg, &err, &sf), 0);
    CHECK_EQ(esw_vport_get_info(dev, sf, &info), 0);
    printf("queues: %"PRIu32"\n", info.n_rep_queues);
    for (uint32_t q = 0; q < 4; q++) {
        CHECK_GE(esw_rep_get_fd(dev, sf, q), 0);
    }
    CHECK_EQ(esw_rep_get_fd(dev, sf, 4), -1);

    /* 32 flows (source MACs) of 8 packets each, interleaved. */
    for (uint32_t i = 0; i < 8; i++) {
        for (uint8_t flow = 0; flow < 32; flow++) {
            struct esw_eth_addr src = { { 2, 0, 0, 0, 1, flow } };

            inject(dev, sf, simple_frame(&MAC_EXT, &src, seq++));
        }
    }
    wait_idle(dev);
    check_rep_queues(dev, sf, 4);

    /* Fewer queues: what waits in the old ones moves over. */
    for (uint8_t flow = 0; flow < 32; flow++) {
        struct esw_eth_addr src = { { 2, 0, 0, 0, 1, flow } };

        inject(dev, sf, simple_frame(&MAC_EXT, &src, seq++));
    }
    wait_idle(dev);
    CHECK_EQ(esw_vport_set_rep_queues(dev, sf, 2, &err), 0);
    esw_rcu_barrier();
    CHECK_EQ(esw_vport_get_info(dev, sf, &info), 0);
    printf("queues: %"PRIu32"\n", info.n_rep_queues);
    CHECK_EQ(esw_rep_get_fd(dev, sf, 2), -1);
    check_rep_queues(dev, sf, 2);

    /* Errors change nothing. */
    CHECK_EQ(esw_vport_set_rep_queues(dev, sf, 0, &err), EINVAL);
    printf("%s\n", err.reason);
    CHECK_EQ(esw_vport_set_rep_queues(dev, sf, ESW_MAX_REP_QUEUES + 1, &err),
             EINVAL);
    CHECK_EQ(esw_vport_set_rep_queues(dev, 99, 2, &err), ENOENT);
    printf("%s\n", err.reason);
    cfg.fn = 1001;
    cfg.mac.ea[5]++;
    cfg.n_rep_queues = ESW_MAX_REP_QUEUES + 1;
    CHECK_EQ(esw_vport_add(dev, &cfg, &err, NULL), EINVAL);
    printf("%s\n", err.reason);
    CHECK_EQ(esw_vport_get_info(dev, sf, &info), 0);
    printf("queues: %"PRIu32"\n", info.n_rep_queues);
    print_drops(dev, sf);
    esw_dev_close(dev);
}

/* rep-send */

static void
test_rep_send(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    struct esw_policy_config pc;
    struct frame_spec fs = {
        .dst = MAC_VF0, .src = MAC_EXT, .n_tags = 1,
        .tpid = { 0x8100 }, .tci = { 100 }, .eth_type = 0x0800,
        .payload = 46,
    };
    struct esw_error err;
    struct esw_pkt *out;

    CHECK_EQ(esw_rep_send(dev, 99, simple_frame(&MAC_VF0, &MAC_EXT, 0)),
             ENOENT);
    CHECK_EQ(esw_rep_send(dev, vf0, simple_frame(&MAC_VF0, &MAC_EXT, 0)),
             0);
    out = capture_one(dev, vf0);
    print_frame("rep->vf0", out);
    esw_pkt_free(out);
    CHECK_EQ(capture_count(dev, p0), 0);

    /* VST 100: the tag is stripped; untagged or other VIDs dropped. */
    esw_policy_config_init(&pc);
    pc.vlan = 100;
    CHECK_EQ(esw_vport_set_policy(dev, vf0, &pc, &err), 0);
    CHECK_EQ(esw_rep_send(dev, vf0, make_frame(&fs)), 0);
    out = capture_one(dev, vf0);
    print_frame("rep->vf0 vst", out);
    esw_pkt_free(out);
    CHECK_EQ(esw_rep_send(dev, vf0, simple_frame(&MAC_VF0, &MAC_EXT, 0)),
             0);
    fs.tci[0] = 101;
    CHECK_EQ(esw_rep_send(dev, vf0, make_frame(&fs)), 0);
    CHECK_EQ(capture_count(dev, vf0), 0);

    /* MTU and link down. */
    CHECK_EQ(esw_vport_set_policy(dev, vf0, NULL, &err), 0);
    CHECK_EQ(esw_vport_set_mtu(dev, vf0, 100), 0);
    fs.n_tags = 0;
    fs.payload = 101;
    CHECK_EQ(esw_rep_send(dev, vf0, make_frame(&fs)), 0);
    fs.payload = 100;
    CHECK_EQ(esw_rep_send(dev, vf0, make_frame(&fs)), 0);
    CHECK_EQ(capture_count(dev, vf0), 1);
    CHECK_EQ(esw_vport_set_admin_state(dev, vf0, false), 0);
    CHECK_EQ(esw_rep_send(dev, vf0, make_frame(&fs)), 0);
    CHECK_EQ(capture_count(dev, vf0), 0);
    print_drops(dev, vf0);
    esw_dev_close(dev);
}

/* validate */

/* " {type cause}" of 'err', e.g. " {match ip_ttl}", " {capacity}". */
static const char *
error_cause(const struct esw_error *err)
{
    static char s[64];
    const char *cause = NULL;

    if (err->type == ESW_ERROR_MATCH && err->cause >= 0) {
        cause = esw_match_field_name(err->cause);
    } else if (err->type == ESW_ERROR_ACTION && err->cause >= 0) {
        cause = esw_action_type_name(err->cause);
    }
    snprintf(s, sizeof s, " {%s%s%s}", esw_error_type_name(err->type),
             cause ? " " : "", cause ? cause : "");
    return s;
}

static void
try_rule(struct esw_dev *dev, const char *what,
         const struct esw_rule_spec *spec)
{
    struct esw_error err;
    struct esw_rule *rule;
    int v, a;

    v = esw_rule_validate(dev, spec, &err);
    printf("%s: validate %s", what, v ? strerror(v) : "ok");
    if (v) {
        printf(" (%s%s)", err.reason, error_cause(&err));
    }
    a = esw_rule_add(dev, spec, &err, &rule);
    printf(", add %s", a ? strerror(a) : "ok");
    if (a) {
        printf(" (%s%s)", err.reason, error_cause(&err));
        CHECK_EQ(err.error, a);
        CHECK_PTR_EQ(rule, NULL);
    } else {
        CHECK_EQ(err.reason[0], '\0');
        CHECK_EQ(err.type, ESW_ERROR_NONE);
    }
    printf("\n");
    /* A rule that validates can be added unless the table is full or the
     * rule exists. */
    if (!v && a && a != ENOSPC && a != EEXIST) {
        CHECK_FAIL("check failed: the rule validated but adding it failed "
                   "with %s (%d)", strerror(a), a);
    }
}

static void
test_validate(void)
{
    struct esw_dev *dev = open_dev("esw0", &(struct esw_dev_config) {
        .max_rules = 3,
        .disabled_match_fields = 1u << ESW_MATCH_IP_TTL,
        .disabled_actions = 1u << ESW_ACTION_SET_ETH_DST,
    });
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    struct esw_rule_spec spec;
    struct esw_action *a;

    spec_init(&spec, vf0, 1);
    spec_output(&spec, p0);
    try_rule(dev, "good", &spec);
    try_rule(dev, "duplicate", &spec);

    spec.mask.ip_ttl = 0xff;
    try_rule(dev, "ttl", &spec);
    spec.mask.ip_ttl = 0;

    spec.mask.pad2[1] = 1;
    try_rule(dev, "padding", &spec);
    spec.mask.pad2[1] = 0;

    spec.mask.in_vport = 0xff;
    try_rule(dev, "partial in_vport", &spec);
    spec.mask.in_vport = UINT32_MAX;

    spec.match.in_vport = 9;
    try_rule(dev, "in_vport 9", &spec);
    spec.match.in_vport = 4096;
    try_rule(dev, "in_vport 4096", &spec);
    spec.match.in_vport = vf0;

    spec.actions[0].vport = 9;
    try_rule(dev, "output 9", &spec);
    spec.actions[0].vport = p0;

    spec_action(&spec, ESW_ACTION_SET_ETH_DST)->mac = MAC_EXT;
    try_rule(dev, "set_eth_dst", &spec);
    spec.actions[1].type = ESW_ACTION_SET_ETH_SRC;
    spec.actions[1].mac = MAC_BCAST;
    try_rule(dev, "set_eth_src bcast", &spec);
    spec.actions[1].type = 42;
    try_rule(dev, "unknown action", &spec);
    spec.actions[1].type = ESW_ACTION_DROP;
    try_rule(dev, "output+drop", &spec);
    spec.n_actions = 1;

    spec.priority = 2;
    for (int i = 0; i < 3; i++) {
        a = spec_action(&spec, ESW_ACTION_PUSH_VLAN);
        a->vlan.tpid = ESW_TPID_8021Q;
        a->vlan.tci = 10;
    }
    try_rule(dev, "3 pushes", &spec);
    spec.n_actions = 2;
    spec.actions[1].vlan.tpid = 0x9100;
    try_rule(dev, "tpid 0x9100", &spec);
    spec.actions[1].vlan.tpid = 0x88a8;
    spec.actions[1].vlan.tci = 4095;
    try_rule(dev, "vid 4095", &spec);
    spec.actions[1].vlan.tci = 4094;
    try_rule(dev, "push 4094", &spec);

    spec.n_actions = 17;
    try_rule(dev, "17 actions", &spec);
    spec.n_actions = 0;
    spec.priority = 3;
    try_rule(dev, "no actions", &spec);
    spec.priority = 4;
    spec_action(&spec, ESW_ACTION_DROP);
    try_rule(dev, "fourth rule", &spec);
    printf("rules %zu capacity %zu\n", esw_rule_count(dev),
           esw_rule_capacity(dev));
    esw_dev_close(dev);
}

/* pipelined: a remote device adds a rule that it can tell the device
 * accepts without waiting for the reply; the errors come back as from a
 * round trip, and the rule forwards before the next call returns. */

static struct esw_rule *
try_add(struct esw_dev *dev, const char *what,
        const struct esw_rule_spec *spec)
{
    struct esw_error err;
    struct esw_rule *rule;
    int error = esw_rule_add(dev, spec, &err, &rule);

    printf("%s: %s", what, error ? strerror(error) : "ok");
    if (error) {
        printf(" (%s%s)", err.reason, error_cause(&err));
        CHECK_EQ(err.error, error);
        CHECK_PTR_EQ(rule, NULL);
    }
    printf("\n");
    return rule;
}

/* Injects a frame from 'from' and prints where it went. */
static void
try_forward(struct esw_dev *dev, const char *what, uint32_t from,
            const struct esw_eth_addr *src, uint32_t to)
{
    inject(dev, from, simple_frame(&MAC_EXT, src, 1));
    wait_idle(dev);
    printf("%s: %zu on vport %"PRIu32"\n", what, capture_count(dev, to), to);
}

static void
test_pipelined(void)
{
    struct esw_dev *dev = open_dev("esw0", &(struct esw_dev_config) {
        .max_rules = 4,
        .disabled_actions = 1u << ESW_ACTION_SET_ETH_DST,
    });
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    uint32_t vf1 = add_vport(dev, ESW_VPORT_VF, 1, &MAC_VF1, 0);
    struct esw_rule_spec spec, dup, kept;
    struct esw_rule_stats st;
    struct esw_rule *r1, *r4, *r5;

    /* No call between the addition and the frame. */
    spec_init(&spec, vf0, 1);
    spec.match.tp_src = 7;      /* Not in the mask: kept masked. */
    spec_output(&spec, p0);
    r1 = try_add(dev, "vf0 to p0", &spec);
    try_forward(dev, "vf0 frame", vf0, &MAC_VF0, p0);
    esw_rule_get_spec(dev, r1, &kept);
    printf("kept: tp_src %"PRIu16" priority %"PRIu32" actions %zu\n",
           kept.match.tp_src, kept.priority, kept.n_actions);

    /* The same key as the device files it. */
    dup = spec;
    dup.match.tp_src = 9;
    try_add(dev, "unmasked bits differ", &dup);
    dup.mask.chain = UINT32_MAX;    /* Chain 0 either way. */
    try_add(dev, "chain 0 masked", &dup);
    dup = spec;
    dup.priority = 2;
    dup.actions[0].vport = 9;
    try_add(dev, "output 9", &dup);
    dup.actions[0].vport = p0;
    spec_action(&dup, ESW_ACTION_SET_ETH_DST)->mac = MAC_VF1;
    try_add(dev, "set_eth_dst", &dup);
    dup.n_actions = 1;

    spec_init(&spec, vf1, 1);
    spec_output(&spec, p0);
    try_add(dev, "vf1 to p0", &spec);
    spec_init(&spec, p0, 1);
    spec_output(&spec, vf0);
    try_add(dev, "p0 to vf0", &spec);
    r4 = try_add(dev, "vf0 priority 2", &dup);
    dup.priority = 3;
    try_add(dev, "fifth rule", &dup);
    esw_rule_del(dev, r4);
    r5 = try_add(dev, "after a deletion", &dup);
    esw_rule_del(dev, r5);                  /* Its reply not read yet. */
    r5 = try_add(dev, "again", &dup);

    /* The device orphans vf1's rule: it has room for one more, and the
     * driver knows only once it asks. */
    CHECK_EQ(esw_vport_del(dev, vf1), 0);
    dup.priority = 4;
    try_add(dev, "vf1 gone, one more", &dup);
    printf("rules %zu capacity %zu\n", esw_rule_count(dev),
           esw_rule_capacity(dev));

    /* Deleted and added again, above the others: forwards at once. */
    spec_init(&spec, vf0, 9);
    spec_output(&spec, p0);
    esw_rule_del(dev, r1);
    r1 = try_add(dev, "vf0 to p0 again", &spec);
    try_forward(dev, "vf0 frame", vf0, &MAC_VF0, p0);
    CHECK_EQ(esw_rule_get_stats(dev, r1, &st), 0);
    printf("vf0 to p0: %"PRIu64" packets\n", st.packets);
    esw_dev_close(dev);

    /* A burst: more replies than a socket's buffer holds. */
    dev = open_dev("esw1", NULL);
    p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    for (uint32_t i = 1; i <= 1000; i++) {
        spec_init(&spec, vf0, i);
        spec_output(&spec, p0);
        add_rule(dev, &spec);
    }
    try_forward(dev, "burst of 1000, vf0 frame", vf0, &MAC_VF0, p0);
    printf("rules %zu\n", esw_rule_count(dev));
    esw_dev_close(dev);
}

/* modify */

struct count_rules {
    struct esw_dev *dev;
    size_t n;
};

/* Also reads each rule's spec and stats, as the contract allows. */
static bool
count_rule_cb(struct esw_rule *rule, void *aux_)
{
    struct count_rules *aux = aux_;
    struct esw_rule_spec spec;
    struct esw_rule_stats st;

    esw_rule_get_spec(aux->dev, rule, &spec);
    CHECK_EQ(esw_rule_get_stats(aux->dev, rule, &st), 0);
    aux->n += spec.n_actions > 0;
    return true;
}

static void
test_modify(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    uint32_t vf1 = add_vport(dev, ESW_VPORT_VF, 1, &MAC_VF1, 0);
    struct esw_rule_stats st;
    struct esw_rule_spec spec, got;
    struct esw_rule *r, *r2;
    struct esw_error err;
    uint64_t t0 = esw_time_msec();
    struct count_rules cr = { .dev = dev, .n = 0 };

    spec_init(&spec, vf0, 10);
    spec.match.eth_type = htons(0x0800);
    spec.mask.eth_type = 0xffff;
    spec.match.tp_src = 0xffff;     /* Outside the mask: ignored. */
    spec_output(&spec, p0);
    r = add_rule(dev, &spec);
    esw_rule_get_spec(dev, r, &got);
    CHECK_EQ(got.match.tp_src, 0);
    /* Apart from the bits outside the mask, the spec comes back as it was
     * given: whatever the device matches besides (the chain, the tunnel
     * port) is not in its mask. */
    spec.match.tp_src = 0;
    CHECK_EQ(memcmp(&got.match, &spec.match, sizeof got.match), 0);
    CHECK_EQ(memcmp(&got.mask, &spec.mask, sizeof got.mask), 0);
    CHECK_EQ(got.priority, spec.priority);
    CHECK_EQ(got.n_actions, spec.n_actions);
    CHECK_EQ(memcmp(got.actions, spec.actions,
                    spec.n_actions * sizeof spec.actions[0]), 0);
    CHECK_EQ(esw_rule_get_stats(dev, r, &st), 0);
    CHECK_EQ(st.packets + st.bytes + st.used_ms, 0);

    for (uint32_t i = 0; i < 3; i++) {
        inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, i));
    }
    wait_idle(dev);
    CHECK_EQ(capture_count(dev, p0), 3);
    CHECK_EQ(esw_rule_get_stats(dev, r, &st), 0);
    printf("stats: %"PRIu64" packets %"PRIu64" bytes orphaned %d\n",
           st.packets, st.bytes, st.orphaned);
    CHECK_GE(st.used_ms, t0 - 10);
    CHECK_LE(st.used_ms, esw_time_msec() + 10);

    /* Modify the output: counters kept. */
    spec.actions[0].vport = vf1;
    CHECK_EQ(esw_rule_modify(dev, r, &spec, &err), 0);
    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, 9));
    wait_idle(dev);
    CHECK_EQ(capture_count(dev, p0), 0);
    CHECK_EQ(capture_count(dev, vf1), 1);
    CHECK_EQ(esw_rule_get_stats(dev, r, &st), 0);
    printf("after modify: %"PRIu64" packets\n", st.packets);

    /* A failed modify leaves the rule as it was. */
    spec.actions[0].vport = 9;
    CHECK_EQ(esw_rule_modify(dev, r, &spec, &err), ENOENT);
    printf("bad modify: %s\n", err.reason);
    esw_rule_get_spec(dev, r, &got);
    CHECK_EQ(got.actions[0].vport, vf1);

    /* A modify may not collide with another rule. */
    spec_init(&spec, vf0, 20);
    spec_output(&spec, p0);
    r2 = add_rule(dev, &spec);
    spec.priority = 10;
    spec.match.eth_type = htons(0x0800);
    spec.mask.eth_type = 0xffff;
    CHECK_EQ(esw_rule_modify(dev, r2, &spec, &err), EEXIST);
    printf("colliding modify: %s\n", err.reason);

    /* The higher-priority r2 wins. */
    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, 10));
    wait_idle(dev);
    CHECK_EQ(capture_count(dev, p0), 1);
    esw_rule_foreach(dev, count_rule_cb, &cr);
    printf("rules: %zu (foreach %zu)\n", esw_rule_count(dev), cr.n);

    /* Delete r2: r takes over. */
    esw_rule_del(dev, r2);
    esw_rule_del(dev, NULL);
    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, 11));
    wait_idle(dev);
    CHECK_EQ(capture_count(dev, vf1), 1);

    /* Removing vf1 orphans r: stats still readable, traffic misses. */
    CHECK_EQ(esw_vport_del(dev, vf1), 0);
    CHECK_EQ(esw_rule_get_stats(dev, r, &st), 0);
    printf("after vport del: rules %zu, r: %"PRIu64" packets orphaned "
           "%d\n", esw_rule_count(dev), st.packets, st.orphaned);
    CHECK_EQ(esw_rule_modify(dev, r, &spec, &err), ENOENT);
    printf("modify orphan: %s\n", err.reason);
    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, 12));
    wait_idle(dev);
    CHECK_EQ(rep_count(dev, vf0), 1);
    esw_rule_del(dev, r);
    printf("rules: %zu\n", esw_rule_count(dev));
    esw_dev_close(dev);
}

/* policy */

static void
test_policy(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    uint32_t vf1 = add_vport(dev, ESW_VPORT_VF, 1, &MAC_VF1, 0);
    static const struct esw_eth_addr new_mac = { { 2, 0, 0, 0, 0, 0x77 } };
    struct esw_policy_config pc;
    struct esw_vport_info info;
    struct esw_rule_spec spec;
    struct esw_error err;
    struct esw_pkt *pkts[4], *out;
    struct frame_spec fs = {
        .dst = MAC_EXT, .src = MAC_VF0, .n_tags = 1,
        .tpid = { 0x8100 }, .tci = { 5 }, .eth_type = 0x0800,
        .payload = 46,
    };

    /* vf0: spoof check + VST 100 pcp 2; forwarded vf0 -> p0. */
    esw_policy_config_init(&pc);
    pc.spoofchk = true;
    pc.vlan = 100;
    pc.qos = 2;
    pc.promisc = false;
    CHECK_EQ(esw_vport_set_policy(dev, vf0, &pc, &err), 0);
    spec_init(&spec, vf0, 10);
    spec_output(&spec, p0);
    add_rule(dev, &spec);

    /* An invalid policy changes nothing. */
    pc.qos = 9;
    CHECK_EQ(esw_vport_set_policy(dev, vf0, &pc, &err), EINVAL);
    printf("bad policy: %s\n", err.reason);
    CHECK_EQ(esw_vport_set_policy(dev, 99, NULL, &err), ENOENT);

    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, 1));    /* ok */
    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF1, 2));    /* spoof */
    inject(dev, vf0, make_frame(&fs));                        /* vlan */
    wait_idle(dev);
    out = capture_one(dev, p0);
    print_frame("vf0->p0", out);
    esw_pkt_free(out);

    /* Missed path: vf1 has the same policy but no rule. */
    pc.qos = 0;
    CHECK_EQ(esw_vport_set_policy(dev, vf1, &pc, &err), 0);
    inject(dev, vf1, simple_frame(&MAC_EXT, &MAC_VF1, 1));    /* ok */
    inject(dev, vf1, simple_frame(&MAC_EXT, &MAC_VF0, 2));    /* spoof */
    fs.src = MAC_VF1;
    inject(dev, vf1, make_frame(&fs));                        /* vlan */
    wait_idle(dev);
    CHECK_EQ(esw_rep_recv(dev, vf1, 0, pkts, 4), 1);
    print_frame("vf1 missed", pkts[0]);
    esw_pkt_free(pkts[0]);

    /* Egress to vf0 from p0 (forwarded), then via the representor:
     * promisc off drops unicast to other MACs; VST strips the tag. */
    spec_init(&spec, p0, 10);
    spec_output(&spec, vf0);
    add_rule(dev, &spec);
    fs.dst = MAC_VF0;
    fs.src = MAC_EXT;
    fs.tci[0] = 100;
    inject(dev, p0, make_frame(&fs));                         /* ok */
    fs.dst = MAC_VF1;
    inject(dev, p0, make_frame(&fs));                         /* promisc */
    fs.dst = MAC_VF0;
    fs.n_tags = 0;
    inject(dev, p0, make_frame(&fs));                         /* vlan */
    wait_idle(dev);
    out = capture_one(dev, vf0);
    print_frame("p0->vf0", out);
    esw_pkt_free(out);
    fs.n_tags = 1;
    fs.dst = MAC_BCAST;
    CHECK_EQ(esw_rep_send(dev, vf0, make_frame(&fs)), 0);     /* ok */
    fs.dst = MAC_EXT;
    CHECK_EQ(esw_rep_send(dev, vf0, make_frame(&fs)), 0);     /* promisc */
    out = capture_one(dev, vf0);
    print_frame("rep->vf0", out);
    esw_pkt_free(out);

    /* Guest MAC: refused while untrusted, accepted when trusted. */
    CHECK_EQ(esw_vport_guest_set_mac(dev, vf0, &new_mac, &err), EPERM);
    printf("guest mac: %s\n", err.reason);
    CHECK_EQ(esw_vport_get_info(dev, vf0, &info), 0);
    printf("refused %d effective %02x guest %02x\n", info.guest_mac_refused,
           info.effective_mac.ea[5], info.guest_mac.ea[5]);
    inject(dev, vf0, simple_frame(&MAC_EXT, &new_mac, 3));    /* spoof */
    wait_idle(dev);     /* Judged by the old policy, not the next one. */
    pc.trust = true;
    pc.qos = 2;
    CHECK_EQ(esw_vport_set_policy(dev, vf0, &pc, &err), 0);
    CHECK_EQ(esw_vport_guest_set_mac(dev, vf0, &new_mac, &err), 0);
    CHECK_EQ(esw_vport_get_info(dev, vf0, &info), 0);
    printf("refused %d effective %02x guest %02x\n", info.guest_mac_refused,
           info.effective_mac.ea[5], info.guest_mac.ea[5]);
    inject(dev, vf0, simple_frame(&MAC_EXT, &new_mac, 4));    /* ok */
    inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, 5));    /* spoof */
    wait_idle(dev);
    CHECK_EQ(capture_count(dev, p0), 1);

    /* Link-state disable in the policy. */
    pc.link_state = ESW_POLICY_LINK_DOWN;
    CHECK_EQ(esw_vport_set_policy(dev, vf0, &pc, &err), 0);
    CHECK_EQ(esw_vport_get_info(dev, vf0, &info), 0);
    printf("link disabled: oper %s\n", info.oper_up ? "up" : "down");
    inject(dev, vf0, simple_frame(&MAC_EXT, &new_mac, 6));
    wait_idle(dev);
    CHECK_EQ(capture_count(dev, p0), 0);

    print_drops(dev, vf0);
    print_drops(dev, vf1);
    print_drops(dev, p0);
    CHECK_EQ(esw_vport_get_stats(dev, vf0, &(struct esw_vport_stats) {0}),
             0);
    struct esw_vport_stats s;
    CHECK_EQ(esw_vport_get_stats(dev, vf0, &s), 0);
    printf("vf0 guest_mac_refused %"PRIu64"\n", s.guest_mac_refused);
    esw_dev_close(dev);
}

/* churn */

/* trace */

static void
print_trace(const char *what, const struct esw_trace *tr)
{
    static const char *const verdicts[] = { "drop", "hit", "miss" };

    printf("%s: %s", what, verdicts[tr->verdict]);
    if (tr->verdict == ESW_TRACE_DROP) {
        printf(" (%s)", esw_drop_reason_name(tr->drop_reason));
    }
    printf(" looked-up vlans %d", tr->looked_up.n_vlans);
    for (size_t i = 0; i < tr->n_outputs; i++) {
        const struct esw_trace_output *o = &tr->outputs[i];

        printf(" -> vport %"PRIu32" %s", o->vport,
               o->delivered ? "delivered" : esw_drop_reason_name(
                   o->drop_reason));
        if (o->delivered) {
            printf(" vlans %d", o->key.n_vlans);
        }
    }
    printf("\n");
}

static void
test_trace(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    uint32_t vf1 = add_vport(dev, ESW_VPORT_VF, 1, &MAC_VF1, 0);
    struct esw_vport_stats before, after;
    struct esw_rule_stats rs;
    struct esw_policy_config pc;
    struct esw_rule_spec spec;
    struct esw_error err;
    struct esw_trace tr;
    struct esw_rule *r;
    struct esw_pkt *pkt;

    /* vf0: spoof check + VST 100; rule vf0 -> p0 and vf1 (vf1: VST 200). */
    esw_policy_config_init(&pc);
    pc.spoofchk = true;
    pc.vlan = 100;
    CHECK_EQ(esw_vport_set_policy(dev, vf0, &pc, &err), 0);
    pc.vlan = 200;
    CHECK_EQ(esw_vport_set_policy(dev, vf1, &pc, &err), 0);
    spec_init(&spec, vf0, 10);
    spec_output(&spec, p0);
    spec_output(&spec, vf1);
    r = add_rule(dev, &spec);
    CHECK_EQ(esw_vport_get_stats(dev, vf0, &before), 0);

    pkt = simple_frame(&MAC_EXT, &MAC_VF0, 1);
    CHECK_EQ(esw_trace_packet(dev, vf0, pkt, &tr), 0);
    print_trace("vf0 good", &tr);
    CHECK_PTR_EQ(tr.rule, r);
    esw_pkt_free(pkt);

    pkt = simple_frame(&MAC_EXT, &MAC_VF1, 2);
    CHECK_EQ(esw_trace_packet(dev, vf0, pkt, &tr), 0);
    print_trace("vf0 spoofed", &tr);
    esw_pkt_free(pkt);

    pkt = simple_frame(&MAC_EXT, &MAC_VF1, 3);
    CHECK_EQ(esw_trace_packet(dev, vf1, pkt, &tr), 0);
    print_trace("vf1 no rule", &tr);
    print_frame("vf1 to representor", tr.to_representor);
    esw_pkt_free(tr.to_representor);
    esw_pkt_free(pkt);

    /* What software sends on representors. */
    pkt = simple_frame(&MAC_VF0, &MAC_EXT, 4);
    CHECK_EQ(esw_trace_rep_send(dev, vf0, pkt, &tr.outputs[0]), 0);
    tr.verdict = ESW_TRACE_HIT;
    tr.n_outputs = 1;
    print_trace("rep->vf0 untagged", &tr);
    CHECK_EQ(esw_pkt_push_vlan(pkt, 0x8100, 100), 0);
    CHECK_EQ(esw_trace_rep_send(dev, vf0, pkt, &tr.outputs[0]), 0);
    print_trace("rep->vf0 vlan 100", &tr);
    CHECK_EQ(esw_trace_rep_send(dev, 99, pkt, &tr.outputs[0]), ENOENT);
    esw_pkt_free(pkt);

    pkt = esw_pkt_from_data("\x01\x02", 2);
    CHECK_EQ(esw_trace_packet(dev, vf1, pkt, &tr), 0);
    print_trace("vf1 runt", &tr);
    CHECK_EQ(esw_trace_packet(dev, 99, pkt, &tr), ENOENT);
    esw_pkt_free(pkt);

    /* Nothing moved. */
    CHECK_EQ(esw_vport_get_stats(dev, vf0, &after), 0);
    CHECK_MEMEQ(&before, &after, sizeof before);
    CHECK_EQ(esw_rule_get_stats(dev, r, &rs), 0);
    CHECK_EQ(rs.packets, 0);
    CHECK_EQ(capture_count(dev, p0), 0);
    esw_dev_close(dev);
}

static uint32_t
prng_next(uint32_t *state)
{
    /* xorshift32. */
    uint32_t x = *state;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *state = x;
}

struct churn_ctx {
    struct esw_dev *dev;
    uint32_t src, dst, other;
    struct esw_rule *watched;
    uint32_t seed;
    atomic_bool stop;
    unsigned long n_ops;
};

static void *
churn_main(void *ctx_)
{
    struct churn_ctx *ctx = ctx_;
    struct esw_rule *unrelated[64] = { NULL };
    uint32_t seed = ctx->seed;

    while (!atomic_load(&ctx->stop)) {
        uint32_t r = prng_next(&seed);
        struct esw_rule_spec spec;
        size_t i = r % 64;

        if (r % 8 == 0) {
            /* Make-before-break replacement of the watched rule by an
             * equivalent one: another priority, mask or action list. */
            spec_init(&spec, ctx->src, 100 + (r >> 8) % 50);
            if (r & 0x100) {
                spec.match.eth_type = htons(0x0800);
                spec.mask.eth_type = 0xffff;
            }
            if (r & 0x200) {
                spec_action(&spec, ESW_ACTION_COUNT);
            }
            spec_output(&spec, ctx->dst);
            CHECK_EQ(esw_rule_modify(ctx->dev, ctx->watched, &spec, NULL),
                     0);
        } else if (unrelated[i]) {
            if (r & 0x100) {
                esw_rule_del(ctx->dev, unrelated[i]);
                unrelated[i] = NULL;
            } else {
                spec_init(&spec, ctx->other, r >> 16);
                spec.match.dst.ea[5] = r >> 8;
                spec.mask.dst.ea[5] = 0xff;
                spec_output(&spec, ctx->src);
                /* EEXIST (a twin exists) leaves it unchanged. */
                esw_rule_modify(ctx->dev, unrelated[i], &spec, NULL);
            }
        } else {
            /* Unrelated: other in_vport, or the watched vport with an
             * eth_dst the stream never uses. */
            if (r & 0x100) {
                spec_init(&spec, ctx->other, r >> 16);
            } else {
                spec_init(&spec, ctx->src, 1000 + (r >> 20));
                spec.match.dst.ea[0] = 0x06;
                spec.mask.dst.ea[0] = 0xff;
            }
            spec.match.dst.ea[5] = r >> 8;
            spec.mask.dst.ea[5] = 0xff;
            spec_output(&spec, ctx->other);
            if (esw_rule_add(ctx->dev, &spec, NULL, &unrelated[i])) {
                unrelated[i] = NULL;   /* Duplicate: fine. */
            }
        }
        ctx->n_ops++;
    }
    for (size_t i = 0; i < 64; i++) {
        esw_rule_del(ctx->dev, unrelated[i]);
    }
    return NULL;
}

static void
test_churn(uint32_t seed, uint32_t n_pkts, uint32_t n_threads)
{
    struct esw_dev *dev = open_dev("esw0", &(struct esw_dev_config) {
                                       .n_threads = n_threads });
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    uint32_t vf1 = add_vport(dev, ESW_VPORT_VF, 1, &MAC_VF1, 0);
    struct churn_ctx ctx = {
        .dev = dev, .src = vf0, .dst = p0, .other = vf1, .seed = seed,
    };
    struct esw_rule_spec spec;
    struct esw_rule_stats st;
    uint32_t next_seq = 0, sent = 0;
    pthread_t thread;

    spec_init(&spec, vf0, 100);
    spec_output(&spec, p0);
    ctx.watched = add_rule(dev, &spec);
    CHECK_EQ(pthread_create(&thread, NULL, churn_main, &ctx), 0);

    while (next_seq < n_pkts) {
        struct esw_pkt *pkts[64];
        size_t n;

        /* Keep at most 256 packets in flight. */
        while (sent < n_pkts && sent - next_seq < 256) {
            CHECK_EQ(esw_host_inject(dev, vf0,
                                     simple_frame(&MAC_EXT, &MAC_VF0,
                                                  sent)), 0);
            sent++;
        }
        n = esw_host_capture_read(dev, p0, pkts, 64);
        for (size_t i = 0; i < n; i++) {
            uint32_t seq;

            memcpy(&seq, pkts[i]->data + 14, 4);
            if (ntohl(seq) != next_seq) {
                CHECK_FAIL("expected seq %"PRIu32", got %"PRIu32,
                           next_seq, ntohl(seq));
            }
            next_seq++;
        }
        free_pkts(pkts, n);
        if (!n && sent == n_pkts) {
            /* Everything injected: if the device is idle and nothing more
             * comes out, packets were lost. */
            CHECK_EQ(esw_dev_wait_idle(dev, WAIT_MS), 0);
            n = esw_host_capture_read(dev, p0, pkts, 64);
            if (!n) {
                CHECK_FAIL("lost %"PRIu32" packets", n_pkts - next_seq);
            }
            for (size_t i = 0; i < n; i++) {
                uint32_t seq;

                memcpy(&seq, pkts[i]->data + 14, 4);
                CHECK_EQ(ntohl(seq), next_seq);
                next_seq++;
            }
            free_pkts(pkts, n);
        }
    }
    atomic_store(&ctx.stop, true);
    pthread_join(thread, NULL);
    wait_idle(dev);

    CHECK_EQ(capture_count(dev, p0), 0);
    CHECK_EQ(capture_count(dev, vf1), 0);
    CHECK_EQ(capture_count(dev, vf0), 0);
    CHECK_EQ(rep_count(dev, vf0), 0);
    CHECK_EQ(esw_rule_get_stats(dev, ctx.watched, &st), 0);
    CHECK_EQ(st.packets, n_pkts);
    CHECK_GT(ctx.n_ops, 0);
    printf("churn: %"PRIu32" packets forwarded in order, none lost or "
           "misforwarded, watched rule counted %"PRIu64"\n", next_seq,
           st.packets);
    print_drops(dev, vf0);
    printf("rules left: %zu\n", esw_rule_count(dev));
    esw_dev_close(dev);
}

/* shutdown */

static void
test_shutdown(void)
{
    struct esw_dev *dev = open_dev("esw0", &(struct esw_dev_config) {
                                       .n_threads = 2 });
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    uint32_t vf1 = add_vport(dev, ESW_VPORT_VF, 1, &MAC_VF1, 64);
    struct esw_rule_spec spec;
    struct esw_rule *r;

    spec_init(&spec, vf0, 10);
    spec_output(&spec, p0);
    add_rule(dev, &spec);
    spec_init(&spec, p0, 10);
    spec_output(&spec, vf0);
    spec_output(&spec, vf1);
    r = add_rule(dev, &spec);
    for (uint32_t i = 0; i < 2000; i++) {
        inject(dev, i % 3 == 0 ? vf0 : i % 3 == 1 ? p0 : vf1,
               simple_frame(&MAC_EXT, &MAC_VF0, i));
        CHECK_EQ(esw_rep_send(dev, vf1, simple_frame(&MAC_VF1, &MAC_EXT,
                                                     i)), 0);
    }
    /* Deleting a vport with queued packets, then closing with everything
     * in flight: ASan reports any leak. */
    CHECK_EQ(esw_vport_del(dev, vf1), 0);
    esw_rule_del(dev, r);
    esw_dev_close(dev);
    printf("closed with packets in flight\n");
}

/* tap */

static void
test_tap(void)
{
    struct esw_dev *dev;
    struct esw_io_config io = { .type = ESW_IO_TAP, .ifname = "eswtest0" };
    struct esw_vport_config cfg = {
        .kind = ESW_VPORT_VF, .fn = 0, .vport = ESW_VPORT_AUTO,
        .mac = MAC_VF0, .io = &io,
    };
    struct esw_host_info host;
    struct esw_vport_info info;
    struct esw_rule_spec spec;
    struct sockaddr_ll sll;
    struct esw_error err;
    struct ifreq ifr;
    uint32_t p0, vf0;
    int sock, error;
    uint8_t buf[2048];

    if (access("/dev/net/tun", R_OK | W_OK)) {
        printf("skip: /dev/net/tun not available\n");
        exit(77);
    }
    dev = open_dev("esw0", NULL);
    p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    error = esw_vport_add(dev, &cfg, &err, &vf0);
    if (error == EACCES || error == EPERM || error == ENODEV) {
        printf("skip: %s\n", err.reason);
        esw_dev_close(dev);
        exit(77);
    }
    CHECK_EQ(error, 0);
    CHECK_EQ(esw_vport_get_info(dev, vf0, &info), 0);
    CHECK_EQ(esw_vport_get_host(dev, vf0, &host), 0);
    printf("tap: %s io %s oper %s\n", info.name, host.ifname,
           info.oper_up ? "up" : "down");

    /* A tap that already exists under another owner: clean failure. */
    cfg.fn = 1;
    io.ifname[0] = '\0';
    memcpy(io.ifname, "a/b", 4);
    CHECK_NE(esw_vport_add(dev, &cfg, &err, NULL), 0);
    CHECK_EQ(esw_vport_lookup(dev, "pf0vf1", &(uint32_t) {0}), ENOENT);

    /* Bring the interface up and open a packet socket on it: the socket
     * plays the guest. */
    sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(0x88b5));
    CHECK_GE(sock, 0);
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", host.ifname);
    CHECK_EQ(ioctl(sock, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags |= IFF_UP;
    CHECK_EQ(ioctl(sock, SIOCSIFFLAGS, &ifr), 0);
    memset(&sll, 0, sizeof sll);
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(0x88b5);
    sll.sll_ifindex = if_nametoindex(host.ifname);
    CHECK_GT(sll.sll_ifindex, 0);
    CHECK_EQ(bind(sock, (struct sockaddr *) &sll, sizeof sll), 0);

    /* Guest -> vf0 tap -> rule -> p0 capture.  Only our ethertype is
     * forwarded: the kernel's own frames (IPv6 ND...) miss. */
    spec_init(&spec, vf0, 10);
    spec.match.eth_type = htons(0x88b5);
    spec.mask.eth_type = 0xffff;
    spec_output(&spec, p0);
    add_rule(dev, &spec);
    struct frame_spec fs = {
        .dst = MAC_EXT, .src = MAC_VF0, .eth_type = 0x88b5, .payload = 50,
        .seq = 7,
    };
    struct esw_pkt *frame = make_frame(&fs), *out = NULL;
    CHECK_EQ(send(sock, frame->data, frame->len, 0), frame->len);
    uint64_t deadline = esw_time_msec() + WAIT_MS;
    while (!esw_host_capture_read(dev, p0, &out, 1)) {
        CHECK_LT(esw_time_msec(), deadline);
        poll(NULL, 0, 1);
    }
    CHECK_EQ(out->len, frame->len);
    CHECK_MEMEQ(out->data, frame->data, frame->len);
    print_frame("tap->p0", out);
    esw_pkt_free(out);

    /* p0 capture -> rule -> vf0 tap -> guest socket. */
    spec_init(&spec, p0, 10);
    spec_output(&spec, vf0);
    add_rule(dev, &spec);
    fs.dst = MAC_VF0;
    fs.src = MAC_EXT;
    esw_pkt_free(frame);
    frame = make_frame(&fs);
    inject(dev, p0, esw_pkt_clone(frame));
    struct pollfd pfd = { .fd = sock, .events = POLLIN };
    CHECK_EQ(poll(&pfd, 1, WAIT_MS), 1);
    ssize_t n = recv(sock, buf, sizeof buf, 0);
    CHECK_EQ(n, frame->len);
    CHECK_MEMEQ(buf, frame->data, n);
    printf("p0->tap: %zd bytes\n", n);
    esw_pkt_free(frame);
    close(sock);

    CHECK_EQ(esw_vport_del(dev, vf0), 0);
    esw_dev_close(dev);
    CHECK_EQ(if_nametoindex("eswtest0"), 0);
    printf("tap removed\n");
}

/* Routed traffic: rewrites, chains, hashes, meters. */

/* A 'len'-byte IPv4/UDP (or, with 'ipv6', IPv6/UDP) frame from 'src' to
 * 'dst' with L4 ports 'sport' and 'dport', TTL or hop limit 'ttl' and
 * correct checksums. */
static uint16_t
csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return ~sum;
}

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) {
        sum += p[i] << 8 | p[i + 1];
    }
    if (n & 1) {
        sum += p[n - 1] << 8;
    }
    return sum;
}

static struct esw_pkt *
udp_frame(bool ipv6, uint16_t sport, uint16_t dport, uint8_t ttl)
{
    size_t l3 = ESW_ETH_HDR_LEN, hlen = ipv6 ? 40 : 20, l4 = l3 + hlen;
    size_t len = l4 + 8 + 18;
    struct esw_pkt *pkt = esw_pkt_alloc(len);
    uint8_t *p = pkt->data;
    uint32_t sum;

    memset(p, 0, len);
    memcpy(p, MAC_EXT.ea, 6);
    memcpy(p + 6, MAC_VF0.ea, 6);
    if (ipv6) {
        p[12] = 0x86;
        p[13] = 0xdd;
        p[l3] = 0x60;
        p[l3 + 5] = 8 + 18;
        p[l3 + 6] = 17;
        p[l3 + 7] = ttl;
        p[l3 + 8] = 0x20;           /* 2001:db8::1 -> 2001:db8::2 */
        p[l3 + 9] = 0x01;
        p[l3 + 10] = 0x0d;
        p[l3 + 11] = 0xb8;
        memcpy(p + l3 + 24, p + l3 + 8, 4);
        p[l3 + 23] = 1;
        p[l3 + 39] = 2;
    } else {
        p[12] = 0x08;
        p[l3] = 0x45;
        p[l3 + 3] = hlen + 8 + 18;
        p[l3 + 8] = ttl;
        p[l3 + 9] = 17;
        p[l3 + 12] = 10;            /* 10.0.0.1 -> 10.1.0.2 */
        p[l3 + 15] = 1;
        p[l3 + 16] = 10;
        p[l3 + 17] = 1;
        p[l3 + 19] = 2;
        sum = csum_fold(csum_add(0, p + l3, 20));
        p[l3 + 10] = sum >> 8;
        p[l3 + 11] = sum;
    }
    p[l4] = sport >> 8;
    p[l4 + 1] = sport;
    p[l4 + 2] = dport >> 8;
    p[l4 + 3] = dport;
    p[l4 + 5] = 8 + 18;
    for (size_t i = 0; i < 18; i++) {
        p[l4 + 8 + i] = i;
    }
    /* Pseudo-header: addresses, protocol, length. */
    sum = csum_add(0, p + l3 + (ipv6 ? 8 : 12), ipv6 ? 32 : 8);
    sum += 17 + 8 + 18;
    sum = csum_fold(csum_add(sum, p + l4, 8 + 18));
    p[l4 + 6] = sum >> 8;
    p[l4 + 7] = sum;
    return pkt;
}

/* Prints what matters of a captured UDP frame and whether its checksums
 * (IPv4 header, UDP over the pseudo-header) verify from scratch. */
static void
print_udp(const char *what, const struct esw_pkt *pkt)
{
    const uint8_t *p = pkt->data;
    bool ipv6 = p[12] == 0x86;
    size_t l3 = ESW_ETH_HDR_LEN, l4 = l3 + (ipv6 ? 40 : 20);
    uint16_t ulen = p[l4 + 4] << 8 | p[l4 + 5];
    uint32_t sum;
    bool ip_ok = true, udp_ok;
    char src[64], dst[64];

    if (ipv6) {
        inet_ntop(AF_INET6, p + l3 + 8, src, sizeof src);
        inet_ntop(AF_INET6, p + l3 + 24, dst, sizeof dst);
    } else {
        inet_ntop(AF_INET, p + l3 + 12, src, sizeof src);
        inet_ntop(AF_INET, p + l3 + 16, dst, sizeof dst);
        ip_ok = !csum_fold(csum_add(0, p + l3, 20));
    }
    sum = csum_add(0, p + l3 + (ipv6 ? 8 : 12), ipv6 ? 32 : 8);
    sum += 17 + ulen;
    udp_ok = (!(p[l4 + 6] | p[l4 + 7]) && !ipv6) || !csum_fold(csum_add(
                  sum, p + l4, ulen));
    printf("%s: %02x:%02x:%02x:%02x:%02x:%02x > %02x:%02x:%02x:%02x:%02x:"
           "%02x %s:%d > %s:%d %s %d tos 0x%02x csum 0x%02x%02x %s\n", what,
           p[6], p[7], p[8], p[9], p[10], p[11],
           p[0], p[1], p[2], p[3], p[4], p[5],
           src, p[l4] << 8 | p[l4 + 1], dst, p[l4 + 2] << 8 | p[l4 + 3],
           ipv6 ? "hlim" : "ttl", p[l3 + (ipv6 ? 7 : 8)],
           ipv6 ? ((p[l3] & 0xf) << 4 | p[l3 + 1] >> 4) : p[l3 + 1],
           p[l4 + 6], p[l4 + 7],
           ip_ok && udp_ok ? "checksums ok" : "BAD CHECKSUM");
}

static struct esw_action *
spec_set(struct esw_rule_spec *spec, enum esw_set_header header)
{
    struct esw_action *a = spec_action(spec, ESW_ACTION_SET);

    memset(&a->set, 0, sizeof a->set);
    a->set.header = header;
    return a;
}

static void
test_rewrite(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    struct esw_rule_spec spec;
    struct esw_rule *rule;
    struct esw_action *a;
    struct esw_pkt *out;

    /* A router: new MACs, TTL - 1. */
    spec_init(&spec, vf0, 1);
    spec.match.eth_type = htons(0x0800);
    spec.mask.eth_type = UINT16_MAX;
    spec.match.ip_ttl = 64;
    spec.mask.ip_ttl = UINT8_MAX;
    spec_action(&spec, ESW_ACTION_SET_ETH_SRC)->mac = MAC_VF1;
    a = spec_set(&spec, ESW_SET_ETH);
    a->set.value.eth.dst = MAC_BCAST;
    a->set.value.eth.dst.ea[5] = 0x66;
    a->set.mask.eth.dst = MAC_BCAST;
    a = spec_set(&spec, ESW_SET_IPV4);
    a->set.value.ipv4.ttl = 63;
    a->set.mask.ipv4.ttl = 0xff;
    spec_output(&spec, p0);
    rule = add_rule(dev, &spec);
    print_udp("sent", udp_frame(false, 1000, 53, 64));
    inject(dev, vf0, udp_frame(false, 1000, 53, 64));
    wait_idle(dev);
    out = capture_one(dev, p0);
    print_udp("routed", out);
    esw_pkt_free(out);

    /* NAT: source address and port, DSCP (ECN kept). */
    spec.n_actions = 0;
    a = spec_set(&spec, ESW_SET_IPV4);
    a->set.value.ipv4.src = htonl(0xc0000201);     /* 192.0.2.1 */
    a->set.mask.ipv4.src = UINT32_MAX;
    a->set.value.ipv4.tos = 0xb8;
    a->set.mask.ipv4.tos = 0xfc;
    a = spec_set(&spec, ESW_SET_UDP);
    a->set.value.l4.src = htons(40000);
    a->set.mask.l4.src = UINT16_MAX;
    spec_output(&spec, p0);
    CHECK_EQ(esw_rule_modify(dev, rule, &spec, NULL), 0);
    inject(dev, vf0, udp_frame(false, 1000, 53, 64));
    wait_idle(dev);
    out = capture_one(dev, p0);
    print_udp("nat", out);
    esw_pkt_free(out);

    /* A UDP checksum of 0 (none) stays 0. */
    {
        struct esw_pkt *pkt = udp_frame(false, 1000, 53, 64);

        pkt->data[ESW_ETH_HDR_LEN + 26] = pkt->data[ESW_ETH_HDR_LEN + 27] = 0;
        inject(dev, vf0, pkt);
        wait_idle(dev);
        out = capture_one(dev, p0);
        print_udp("nat no-csum", out);
        esw_pkt_free(out);
    }

    /* IPv6: hop limit, half the destination address, the flow label. */
    spec_init(&spec, vf0, 1);
    spec.match.eth_type = htons(0x86dd);
    spec.mask.eth_type = UINT16_MAX;
    a = spec_set(&spec, ESW_SET_IPV6);
    a->set.value.ipv6.hlimit = 63;
    a->set.mask.ipv6.hlimit = 0xff;
    memset(&a->set.mask.ipv6.dst.s6_addr[8], 0xff, 8);
    a->set.value.ipv6.dst.s6_addr[15] = 0x99;
    a->set.value.ipv6.label = htonl(0x12345);
    a->set.mask.ipv6.label = htonl(0xfffff);
    spec_output(&spec, p0);
    rule = add_rule(dev, &spec);
    inject(dev, vf0, udp_frame(true, 1000, 53, 64));
    wait_idle(dev);
    out = capture_one(dev, p0);
    print_udp("ipv6", out);
    printf("ipv6 label 0x%x\n", (out->data[15] & 0xf) << 16
           | out->data[16] << 8 | out->data[17]);
    esw_pkt_free(out);
    esw_rule_del(dev, rule);
    esw_dev_close(dev);

    /* What a device cannot or will not do. */
    dev = open_dev("esw0", &(struct esw_dev_config) {
        .disabled_set_fields = 1u << ESW_FIELD_IPV6_LABEL,
    });
    vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    spec_init(&spec, vf0, 1);
    a = spec_set(&spec, ESW_SET_IPV6);
    a->set.mask.ipv6.label = htonl(0xfffff);
    spec_output(&spec, p0);
    try_rule(dev, "label", &spec);
    a->set.mask.ipv6.label = htonl(0x100000);
    try_rule(dev, "label mask", &spec);
    a->set.mask.ipv6.label = 0;
    a->set.value.ipv6.hlimit = 1;
    try_rule(dev, "value outside mask", &spec);
    a->set.value.ipv6.hlimit = 0;
    a->set.mask.ipv6.pad[0] = 1;
    try_rule(dev, "mask on padding", &spec);
    a->set.mask.ipv6.pad[0] = 0;
    a->set.header = ESW_SET_ICMP;
    a->set.mask.ipv6.dst.s6_addr[0] = 1;
    try_rule(dev, "mask beyond icmp", &spec);
    a->set.header = 42;
    try_rule(dev, "unknown header", &spec);
    esw_dev_close(dev);
}

/* chains */

/* Four buckets: chain 0 hashes and recirculates to chain 7, where
 * dp_hash & 3 picks an output tagged with the bucket's VID. */
static void
add_select_group(struct esw_dev *dev, uint32_t in, uint32_t out,
                 uint32_t basis, struct esw_rule *buckets[4],
                 struct esw_rule **first)
{
    struct esw_rule_spec spec;
    struct esw_action *a;

    spec_init(&spec, in, 1);
    spec_output(&spec, out);        /* A copy before the recirculation. */
    a = spec_action(&spec, ESW_ACTION_HASH);
    a->hash.alg = ESW_HASH_L4;
    a->hash.basis = basis;
    a->hash.max_vlans = 1;
    spec_action(&spec, ESW_ACTION_RECIRC)->chain = 7;
    *first = add_rule(dev, &spec);
    for (uint32_t b = 0; b < 4; b++) {
        spec_init(&spec, in, 1);
        spec.match.chain = 7;
        spec.mask.chain = UINT32_MAX;
        spec.match.dp_hash = b;
        spec.mask.dp_hash = 3;
        a = spec_action(&spec, ESW_ACTION_PUSH_VLAN);
        a->vlan.tpid = 0x8100;
        a->vlan.tci = 10 + b;
        spec_output(&spec, out);
        buckets[b] = add_rule(dev, &spec);
    }
}

static uint64_t
rule_packets(struct esw_dev *dev, struct esw_rule *rule)
{
    struct esw_rule_stats s;

    CHECK_EQ(esw_rule_get_stats(dev, rule, &s), 0);
    return s.packets;
}

static void
test_chains(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    struct esw_rule *buckets[4], *first, *loop;
    unsigned int per_bucket[4] = { 0 }, wrong = 0, n = 0;
    struct esw_rule_spec spec;
    struct esw_pkt *pkts[64];
    size_t got;

    add_select_group(dev, vf0, p0, 0x1234, buckets, &first);
    for (uint16_t sport = 1; sport <= 200; sport++) {
        struct esw_pkt *pkt = udp_frame(false, sport, 53, 64);
        uint32_t want = esw_hash_l4(esw_hash_rss(pkt->data, pkt->len, 1),
                                    0x1234) & 3;

        inject(dev, vf0, pkt);
        wait_idle(dev);
        /* The copy before the recirculation, then the bucket's. */
        got = esw_host_capture_read(dev, p0, pkts, 64);
        CHECK_EQ(got, 2);
        CHECK_EQ(pkts[0]->len, ESW_ETH_HDR_LEN + 20 + 8 + 18);
        if ((pkts[1]->data[15] & 0xff) - 10 != (int) want) {
            wrong++;
        }
        per_bucket[want]++;
        free_pkts(pkts, got);
        n++;
    }
    printf("select: %u packets, %u in the wrong bucket, all 4 buckets "
           "used: %s\n", n, wrong,
           per_bucket[0] && per_bucket[1] && per_bucket[2] && per_bucket[3]
           ? "yes" : "no");
    printf("counters: first %"PRIu64", buckets %"PRIu64"\n",
           rule_packets(dev, first),
           rule_packets(dev, buckets[0]) + rule_packets(dev, buckets[1])
           + rule_packets(dev, buckets[2]) + rule_packets(dev, buckets[3]));

    /* Bucket 3's rule goes: its packets are not half processed: no copy,
     * no count, the original to the representor. */
    esw_rule_del(dev, buckets[3]);
    n = 0;
    for (uint16_t sport = 1; sport <= 200; sport++) {
        struct esw_pkt *pkt = udp_frame(false, sport, 53, 64);
        uint32_t want = esw_hash_l4(esw_hash_rss(pkt->data, pkt->len, 1),
                                    0x1234) & 3;

        if (want == 3) {
            struct esw_pkt *sent = esw_pkt_clone(pkt);

            inject(dev, vf0, pkt);
            wait_idle(dev);
            CHECK_EQ(capture_count(dev, p0), 0);
            CHECK_EQ(esw_rep_recv(dev, vf0, 0, pkts, 64), 1);
            CHECK(pkts[0]->len == sent->len
                  && !memcmp(pkts[0]->data, sent->data, sent->len));
            free_pkts(pkts, 1);
            esw_pkt_free(sent);
            n++;
        } else {
            esw_pkt_free(pkt);
        }
    }
    printf("bucket 3 missing: %u packets to the representor unchanged, "
           "counters: first %"PRIu64"\n", n, rule_packets(dev, first));

    /* A chain that recirculates to itself hits the bound. */
    spec_init(&spec, vf0, 2);
    spec.match.chain = 7;
    spec.mask.chain = UINT32_MAX;
    spec_action(&spec, ESW_ACTION_RECIRC)->chain = 7;
    loop = add_rule(dev, &spec);
    inject(dev, vf0, udp_frame(false, 1, 53, 64));
    wait_idle(dev);
    printf("loop: %zu captured, %zu to the representor, loop rule %"PRIu64
           "\n", capture_count(dev, p0), rep_count(dev, vf0),
           rule_packets(dev, loop));

    /* Chains: partial mask, a rule after the recirculation. */
    spec.mask.chain = 0xff;
    try_rule(dev, "partial chain mask", &spec);
    spec.mask.chain = UINT32_MAX;
    spec.n_actions = 0;
    spec_action(&spec, ESW_ACTION_RECIRC)->chain = 8;
    spec_output(&spec, p0);
    try_rule(dev, "recirc then output", &spec);
    print_drops(dev, vf0);
    esw_dev_close(dev);
}

/* meters */

static void
test_meters(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    struct esw_meter_config mc = { .pktps = true, .n_bands = 1,
                                   .bands = { { .rate = 1, .burst = 5 } } };
    struct esw_meter_stats ms;
    struct esw_rule_spec spec;
    struct esw_rule *rule;
    struct esw_error err;
    uint32_t ids[4];

    /* 1 packet/s, burst 5: of 20 back-to-back packets, 5 pass. */
    CHECK_EQ(esw_meter_set(dev, 3, &mc, &err), 0);
    spec_init(&spec, vf0, 1);
    spec_action(&spec, ESW_ACTION_METER)->meter = 3;
    spec_output(&spec, p0);
    rule = add_rule(dev, &spec);
    for (int i = 0; i < 20; i++) {
        inject(dev, vf0, udp_frame(false, 1, 53, 64));
    }
    wait_idle(dev);
    CHECK_EQ(esw_meter_get_stats(dev, 3, &ms), 0);
    printf("pktps: delivered %zu, meter in %"PRIu64" dropped %"PRIu64
           ", rule %"PRIu64"\n", capture_count(dev, p0), ms.packets,
           ms.band_packets[0], rule_packets(dev, rule));

    /* 1 kbit/s, burst 8 kbit: 1000 bytes pass; 60-byte frames: 16. */
    mc.pktps = false;
    mc.bands[0].rate = 1;
    mc.bands[0].burst = 8;
    mc.bands[1].rate = 1000;
    mc.n_bands = 2;
    CHECK_EQ(esw_meter_set(dev, 3, &mc, &err), 0);
    for (int i = 0; i < 20; i++) {
        inject(dev, vf0, udp_frame(false, 1, 53, 64));
    }
    wait_idle(dev);
    CHECK_EQ(esw_meter_get_stats(dev, 3, &ms), 0);
    printf("kbps: delivered %zu, meter in %"PRIu64" dropped %"PRIu64
           "/%"PRIu64" bytes %"PRIu64"\n", capture_count(dev, p0),
           ms.packets, ms.band_packets[0], ms.band_packets[1],
           ms.band_bytes[0]);

    /* In a chain: a packet that misses later is not metered. */
    spec_init(&spec, vf0, 2);
    spec_action(&spec, ESW_ACTION_METER)->meter = 3;
    spec_action(&spec, ESW_ACTION_RECIRC)->chain = 1;
    CHECK_EQ(esw_rule_modify(dev, rule, &spec, NULL), 0);
    inject(dev, vf0, udp_frame(false, 1, 53, 64));
    wait_idle(dev);
    CHECK_EQ(esw_meter_get_stats(dev, 3, &ms), 0);
    printf("chain miss: to the representor %zu, meter in %"PRIu64"\n",
           rep_count(dev, vf0), ms.packets);

    printf("meters: %zu", esw_meter_list(dev, ids, 4));
    printf(" (id %"PRIu32")\n", ids[0]);
    mc.n_bands = 0;
    CHECK_EQ(esw_meter_set(dev, 4, &mc, &err), EINVAL);
    printf("no band: %s\n", err.reason);
    mc.n_bands = 1;
    CHECK_EQ(esw_meter_set(dev, 4096, &mc, &err), EINVAL);
    printf("id 4096: %s\n", err.reason);
    CHECK_EQ(esw_meter_del(dev, 3), 0);
    CHECK_EQ(esw_meter_del(dev, 3), ENOENT);
    /* Without the meter, everything passes. */
    spec_init(&spec, vf0, 1);
    spec_action(&spec, ESW_ACTION_METER)->meter = 3;
    spec_output(&spec, p0);
    CHECK_EQ(esw_rule_modify(dev, rule, &spec, NULL), 0);
    for (int i = 0; i < 20; i++) {
        inject(dev, vf0, udp_frame(false, 1, 53, 64));
    }
    wait_idle(dev);
    printf("meter deleted: delivered %zu\n", capture_count(dev, p0));
    print_drops(dev, vf0);
    esw_dev_close(dev);
}

/* ct */

/* An IPv4 TCP (flags 'tcp_flags') or UDP ('tcp_flags' < 0) frame from
 * 'src':'sport' to 'dst':'dport' (host order), checksums right; a UDP
 * checksum of 0 if 'udp_no_csum'. */
static struct esw_pkt *
ct_frame(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
         int tcp_flags, bool udp_no_csum)
{
    bool tcp = tcp_flags >= 0;
    size_t l3 = ESW_ETH_HDR_LEN, l4 = l3 + 20, hl = tcp ? 20 : 8;
    size_t plen = 12, len = l4 + hl + plen;
    struct esw_pkt *pkt = esw_pkt_alloc(len);
    uint8_t *p = pkt->data;
    uint32_t sum, a;
    uint16_t csum_ofs = tcp ? 16 : 6;

    memset(p, 0, len);
    memcpy(p, MAC_EXT.ea, 6);
    memcpy(p + 6, MAC_VF0.ea, 6);
    p[12] = 0x08;
    p[l3] = 0x45;
    p[l3 + 3] = 20 + hl + plen;
    p[l3 + 8] = 64;
    p[l3 + 9] = tcp ? 6 : 17;
    a = htonl(src);
    memcpy(p + l3 + 12, &a, 4);
    a = htonl(dst);
    memcpy(p + l3 + 16, &a, 4);
    sum = csum_fold(csum_add(0, p + l3, 20));
    p[l3 + 10] = sum >> 8;
    p[l3 + 11] = sum;
    p[l4] = sport >> 8;
    p[l4 + 1] = sport;
    p[l4 + 2] = dport >> 8;
    p[l4 + 3] = dport;
    if (tcp) {
        p[l4 + 7] = 1;              /* seq 1, ack 1 */
        p[l4 + 11] = 1;
        p[l4 + 12] = 5 << 4;
        p[l4 + 13] = tcp_flags;
        p[l4 + 14] = 0x10;          /* window */
    } else {
        p[l4 + 5] = hl + plen;
    }
    for (size_t i = 0; i < plen; i++) {
        p[l4 + hl + i] = 0xa0 + i;
    }
    if (!udp_no_csum) {
        sum = csum_add(0, p + l3 + 12, 8);
        sum += p[l3 + 9] + hl + plen;
        sum = csum_fold(csum_add(sum, p + l4, hl + plen));
        p[l4 + csum_ofs] = sum >> 8;
        p[l4 + csum_ofs + 1] = sum;
    }
    return pkt;
}

/* Prints the addresses, ports and checksums of an IPv4 TCP/UDP frame, and
 * whether it is byte for byte 'want'. */
static void
print_ct_frame(const char *what, const struct esw_pkt *pkt,
               const struct esw_pkt *want)
{
    const uint8_t *p = pkt->data;
    size_t l3 = ESW_ETH_HDR_LEN, l4 = l3 + 20;
    bool tcp = p[l3 + 9] == 6;
    size_t c = l4 + (tcp ? 16 : 6);
    char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];

    inet_ntop(AF_INET, p + l3 + 12, src, sizeof src);
    inet_ntop(AF_INET, p + l3 + 16, dst, sizeof dst);
    printf("%s: %s %s:%d > %s:%d ip csum 0x%02x%02x %s csum 0x%02x%02x, %s\n",
           what, tcp ? "tcp" : "udp", src, p[l4] << 8 | p[l4 + 1], dst,
           p[l4 + 2] << 8 | p[l4 + 3], p[l3 + 10], p[l3 + 11],
           tcp ? "tcp" : "udp", p[c], p[c + 1],
           (pkt->len == want->len && !memcmp(pkt->data, want->data, want->len)
            ? "as built with that tuple" : "DIFFERENT"));
}

static struct esw_ct *
try_ct(struct esw_dev *dev, const char *what, const struct esw_ct_spec *spec)
{
    struct esw_error err;
    struct esw_ct *ct;
    int error = esw_ct_add(dev, spec, &err, &ct);

    printf("%s: %s", what, error ? strerror(error) : "ok");
    if (error) {
        printf(" (%s {%s})", err.reason, esw_error_type_name(err.type));
        CHECK_PTR_EQ(ct, NULL);
    }
    printf("\n");
    return ct;
}

static void
ct_tuple_init(struct esw_ct_tuple *t, uint8_t proto, uint32_t src,
              uint16_t sport, uint32_t dst, uint16_t dport)
{
    memset(t, 0, sizeof *t);
    t->ip_proto = proto;
    t->src.ip4 = htonl(src);
    t->dst.ip4 = htonl(dst);
    t->src_port = htons(sport);
    t->dst_port = htons(dport);
}

static void
print_ct_stats(struct esw_dev *dev, const char *what, const struct esw_ct *ct)
{
    struct esw_ct_stats st;

    CHECK_EQ(esw_ct_get_stats(dev, ct, &st), 0);
    printf("%s: orig %"PRIu64" packets %"PRIu64" bytes, reply %"PRIu64
           " packets %"PRIu64" bytes, used %s%s\n", what, st.packets[0],
           st.bytes[0], st.packets[1], st.bytes[1], st.used_ms ? "yes" : "no",
           st.flushed ? ", flushed" : "");
}

/* Injects 'pkt' on 'in' and prints what 'out' captured (compared with
 * 'want') or that it went to the representor unchanged. */
static void
ct_send(struct esw_dev *dev, const char *what, uint32_t in, uint32_t out,
        struct esw_pkt *pkt, struct esw_pkt *want)
{
    struct esw_pkt *sent = esw_pkt_clone(pkt);
    struct esw_pkt *pkts[4];
    size_t n;

    inject(dev, in, pkt);
    wait_idle(dev);
    n = esw_host_capture_read(dev, out, pkts, 4);
    if (n) {
        CHECK_EQ(n, 1);
        print_ct_frame(what, pkts[0], want);
        free_pkts(pkts, n);
    } else {
        n = esw_rep_recv(dev, in, 0, pkts, 4);
        CHECK_EQ(n, 1);
        printf("%s: to the representor, %s\n", what,
               (pkts[0]->len == sent->len
                && !memcmp(pkts[0]->data, sent->data, sent->len)
                ? "unchanged" : "CHANGED"));
        free_pkts(pkts, n);
    }
    esw_pkt_free(sent);
    esw_pkt_free(want);
}

#define IP(a, b, c, d) ((uint32_t) (a) << 24 | (b) << 16 | (c) << 8 | (d))

static void
test_ct(void)
{
    struct esw_dev *dev = open_dev("esw0", &(struct esw_dev_config) {
                                       .max_conns = 3 });
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    uint32_t vm = IP(10, 0, 0, 1), srv = IP(192, 0, 2, 9);
    uint32_t pub = IP(203, 0, 113, 5);
    struct esw_ct *snat, *udp, *ct3, *x;
    struct esw_rule *est_out, *est_in;
    struct esw_ct_spec spec;
    struct esw_rule_spec rs;
    struct esw_action *a;
    struct esw_trace tr;
    struct esw_caps caps;
    char buf[512];

    esw_dev_get_caps(dev, &caps);
    printf("capacity %zu (caps %"PRIu32"), count %zu\n",
           esw_ct_capacity(dev), caps.max_conns, esw_ct_count(dev));

    /* Bad entries change nothing. */
    memset(&spec, 0, sizeof spec);
    spec.zone = 5;
    /* ICMP: echo only (OVS's timestamp connections stay in software),
     * a request and its reply with one id, the family's ICMP. */
    ct_tuple_init(&spec.orig, IPPROTO_ICMP, vm, 7, srv, 13 << 8);
    ct_tuple_init(&spec.reply, IPPROTO_ICMP, srv, 7, vm, 14 << 8);
    try_ct(dev, "icmp timestamp", &spec);
    ct_tuple_init(&spec.orig, IPPROTO_ICMP, vm, 7, srv, 8 << 8);
    ct_tuple_init(&spec.reply, IPPROTO_ICMP, srv, 8, vm, 0);
    try_ct(dev, "icmp ids differ", &spec);
    ct_tuple_init(&spec.reply, IPPROTO_ICMP, srv, 7, vm, 8 << 8);
    try_ct(dev, "icmp request both ways", &spec);
    ct_tuple_init(&spec.reply, IPPROTO_ICMP, srv, 7, vm, 1);
    try_ct(dev, "icmp code 1", &spec);
    spec.ipv6 = true;
    ct_tuple_init(&spec.reply, IPPROTO_ICMP, srv, 7, vm, 0);
    try_ct(dev, "icmp over ipv6", &spec);
    spec.ipv6 = false;
    ct_tuple_init(&spec.orig, IPPROTO_TCP, vm, 1234, srv, 80);
    ct_tuple_init(&spec.reply, IPPROTO_TCP, srv, 80, vm, 1235);
    try_ct(dev, "no nat, reply not the reverse", &spec);
    spec.nat = ESW_CT_NAT_SRC | ESW_CT_NAT_DST;
    try_ct(dev, "snat and dnat", &spec);
    spec.nat = ESW_CT_NAT_SRC;
    ct_tuple_init(&spec.reply, IPPROTO_TCP, srv, 81, pub, 40000);
    try_ct(dev, "snat, reply from elsewhere", &spec);
    ct_tuple_init(&spec.reply, IPPROTO_UDP, srv, 80, pub, 40000);
    try_ct(dev, "protocols differ", &spec);
    printf("count %zu\n", esw_ct_count(dev));

    /* An SNAT'd TCP connection (ports too), mark 7, and a UDP one. */
    spec.nat = ESW_CT_NAT_SRC | ESW_CT_NAT_SRC_PORT;
    ct_tuple_init(&spec.reply, IPPROTO_TCP, srv, 80, pub, 40000);
    spec.mark = 7;
    spec.label[1] = UINT64_C(0x8000000000000000);
    snat = try_ct(dev, "tcp snat", &spec);
    try_ct(dev, "same again", &spec);
    memset(&spec, 0, sizeof spec);
    spec.zone = 5;
    ct_tuple_init(&spec.orig, IPPROTO_UDP, vm, 5353, srv, 53);
    ct_tuple_init(&spec.reply, IPPROTO_UDP, srv, 53, vm, 5353);
    udp = try_ct(dev, "udp", &spec);
    spec.zone = 6;
    ct3 = try_ct(dev, "udp in zone 6", &spec);
    spec.zone = 7;
    try_ct(dev, "a fourth", &spec);
    printf("count %zu\n", esw_ct_count(dev));
    esw_ct_get_spec(dev, snat, &spec);
    printf("%s\n", esw_ct_spec_format(&spec, buf, sizeof buf));

    /* Chain 0: ct(zone=5,nat) and on to chain 1, both ways; chain 1: the
     * established packets with mark 7 out (TCP), or any mark (UDP, lower
     * priority). */
    spec_init(&rs, vf0, 1);
    a = spec_action(&rs, ESW_ACTION_CT);
    a->ct.zone = 5;
    a->ct.nat = true;
    spec_action(&rs, ESW_ACTION_RECIRC)->chain = 1;
    add_rule(dev, &rs);
    rs.match.in_vport = p0;
    add_rule(dev, &rs);
    spec_init(&rs, vf0, 10);
    rs.match.chain = 1;
    rs.mask.chain = UINT32_MAX;
    rs.match.ct_state = ESW_CS_TRACKED | ESW_CS_ESTABLISHED;
    rs.mask.ct_state = ESW_CS_TRACKED | ESW_CS_ESTABLISHED | ESW_CS_NEW;
    rs.match.ct_mark = 7;
    rs.mask.ct_mark = UINT32_MAX;
    spec_output(&rs, p0);
    est_out = add_rule(dev, &rs);
    rs.match.in_vport = p0;
    rs.n_actions = 0;
    spec_output(&rs, vf0);
    est_in = add_rule(dev, &rs);
    rs.priority = 5;
    rs.mask.ct_mark = 0;
    rs.match.ct_mark = 0;
    add_rule(dev, &rs);
    rs.match.in_vport = vf0;
    rs.n_actions = 0;
    spec_output(&rs, p0);
    add_rule(dev, &rs);

    ct_send(dev, "tcp orig", vf0, p0, ct_frame(vm, srv, 1234, 80, 0x10, 0),
            ct_frame(pub, srv, 40000, 80, 0x10, 0));
    ct_send(dev, "tcp reply", p0, vf0, ct_frame(srv, pub, 80, 40000, 0x18, 0),
            ct_frame(srv, vm, 80, 1234, 0x18, 0));
    print_ct_stats(dev, "tcp snat", snat);
    {
        struct esw_pkt *pkt = ct_frame(srv, pub, 80, 40000, 0x10, 0);

        CHECK_EQ(esw_trace_packet(dev, p0, pkt, &tr), 0);   /* Not taken. */
        esw_pkt_free(pkt);
    }
    CHECK_EQ(tr.n_stages, 2);
    esw_pkt_free(tr.to_representor);
    printf("trace reply: chain %"PRIu32" ct_state %#x zone %u mark %"PRIu32
           " label %#"PRIx64":%#"PRIx64"\n", tr.stages[1].key.chain,
           tr.stages[1].key.ct_state, tr.stages[1].key.ct_zone,
           tr.stages[1].key.ct_mark, tr.stages[1].key.ct_label[1],
           tr.stages[1].key.ct_label[0]);
    ct_send(dev, "tcp syn", vf0, p0, ct_frame(vm, srv, 1234, 80, 0x02, 0),
            NULL);
    ct_send(dev, "tcp fin", vf0, p0, ct_frame(vm, srv, 1234, 80, 0x11, 0),
            NULL);
    ct_send(dev, "tcp rst", p0, vf0, ct_frame(srv, pub, 80, 40000, 0x14, 0),
            NULL);
    {
        struct esw_pkt *bad = ct_frame(vm, srv, 1234, 80, 0x10, 0);

        bad->data[ESW_ETH_HDR_LEN + 20 + 16] ^= 1;
        ct_send(dev, "tcp bad checksum", vf0, p0, bad, NULL);
        bad = ct_frame(vm, srv, 1234, 80, 0x10, 0);
        bad->data[ESW_ETH_HDR_LEN + 10] ^= 1;
        ct_send(dev, "ip bad checksum", vf0, p0, bad, NULL);
        bad = ct_frame(vm, srv, 1234, 80, 0x10, 0);
        bad->data[ESW_ETH_HDR_LEN + 6] = 0x20;     /* MF */
        bad->data[ESW_ETH_HDR_LEN + 10] -= 0x20;
        ct_send(dev, "first fragment", vf0, p0, bad, NULL);
    }
    ct_send(dev, "unknown connection", vf0, p0,
            ct_frame(vm, srv, 1235, 80, 0x10, 0), NULL);
    ct_send(dev, "udp orig", vf0, p0, ct_frame(vm, srv, 5353, 53, -1, 0),
            ct_frame(vm, srv, 5353, 53, -1, 0));
    ct_send(dev, "udp reply, no checksum", p0, vf0,
            ct_frame(srv, vm, 53, 5353, -1, 1),
            ct_frame(srv, vm, 53, 5353, -1, 1));
    print_ct_stats(dev, "tcp snat", snat);
    print_ct_stats(dev, "udp", udp);
    printf("rules: est out %"PRIu64", est in %"PRIu64"\n",
           rule_packets(dev, est_out), rule_packets(dev, est_in));

    /* The mark changes: the mark-7 rules no longer see it. */
    CHECK_EQ(esw_ct_modify(dev, snat, 8, (uint64_t[2]) { 0, 0 }), 0);
    ct_send(dev, "tcp orig, mark 8", vf0, p0,
            ct_frame(vm, srv, 1234, 80, 0x10, 0),
            ct_frame(pub, srv, 40000, 80, 0x10, 0));
    printf("rules: est out %"PRIu64"\n", rule_packets(dev, est_out));

    /* Flushing zone 5 takes two entries out; their handles stay. */
    printf("flush zone 5: %zu", esw_ct_flush(dev, &(uint16_t) { 5 }));
    printf(", count %zu\n", esw_ct_count(dev));
    print_ct_stats(dev, "tcp snat", snat);
    CHECK_EQ(esw_ct_modify(dev, snat, 9, (uint64_t[2]) { 0, 0 }), ENOENT);
    ct_send(dev, "tcp orig after flush", vf0, p0,
            ct_frame(vm, srv, 1234, 80, 0x10, 0), NULL);
    memset(&spec, 0, sizeof spec);
    spec.zone = 5;
    ct_tuple_init(&spec.orig, IPPROTO_UDP, vm, 5353, srv, 53);
    ct_tuple_init(&spec.reply, IPPROTO_UDP, srv, 53, vm, 5353);
    x = try_ct(dev, "udp again", &spec);
    esw_ct_del(dev, snat);
    esw_ct_del(dev, udp);
    esw_ct_del(dev, x);
    printf("flush all: %zu", esw_ct_flush(dev, NULL));
    printf(", count %zu\n", esw_ct_count(dev));
    esw_ct_del(dev, ct3);

    /* An ICMP echo and an IPv6 connection whose addresses are the IPv4
     * one's followed by zeros: not the same tuples. */
    memset(&spec, 0, sizeof spec);
    ct_tuple_init(&spec.orig, IPPROTO_ICMP, vm, 7, srv, 8 << 8);
    ct_tuple_init(&spec.reply, IPPROTO_ICMP, pub, 7, vm, 0);
    spec.nat = ESW_CT_NAT_DST | ESW_CT_NAT_DST_PORT;
    snat = try_ct(dev, "icmp echo, dnat", &spec);
    esw_ct_get_spec(dev, snat, &spec);
    printf("%s\n", esw_ct_spec_format(&spec, buf, sizeof buf));
    spec.ipv6 = true;
    spec.orig.ip_proto = spec.reply.ip_proto = IPPROTO_ICMPV6;
    spec.orig.icmp_type = 128;
    spec.reply.icmp_type = 129;
    udp = try_ct(dev, "icmpv6 echo, same address bytes", &spec);
    esw_ct_get_spec(dev, udp, &spec);
    printf("%s\n", esw_ct_spec_format(&spec, buf, sizeof buf));
    printf("count %zu\n", esw_ct_count(dev));
    esw_ct_del(dev, snat);
    esw_ct_del(dev, udp);
    esw_ct_del(dev, NULL);
    print_drops(dev, vf0);
    print_drops(dev, p0);
    esw_dev_close(dev);
}

/* ct-clear */

/* Prints the CT metadata of the trace's stages, as looked up in chains
 * 1 and up. */
static void
print_trace_ct(struct esw_dev *dev, const char *what, uint32_t in,
               struct esw_pkt *pkt)
{
    struct esw_trace tr;

    CHECK_EQ(esw_trace_packet(dev, in, pkt, &tr), 0);
    esw_pkt_free(tr.to_representor);
    esw_pkt_free(pkt);
    printf("trace %s: %s", what, (tr.verdict == ESW_TRACE_HIT ? "hit"
                                  : tr.verdict == ESW_TRACE_MISS ? "miss"
                                  : "drop"));
    for (size_t i = 1; i < tr.n_stages; i++) {
        const struct esw_key *k = &tr.stages[i].key;

        printf(", chain %"PRIu32" ct_state %#x zone %u mark %"PRIu32
               " label %#"PRIx64":%#"PRIx64, k->chain, k->ct_state,
               k->ct_zone, k->ct_mark, k->ct_label[1], k->ct_label[0]);
    }
    printf("\n");
}

/* ESW_ACTION_CT_CLEAR.  Without a connection table (a device opened
 * without one offers neither CT nor ct_* matches), only that it travels
 * and leaves the packet alone. */
static void
test_ct_clear(void)
{
    struct esw_dev *dev = open_dev("esw0", NULL);
    uint32_t p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    uint32_t vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    uint32_t vm = IP(10, 0, 0, 1), srv = IP(192, 0, 2, 9);
    struct esw_ct *z5, *z6, *clr, *noclr;
    struct esw_rule *two_zones, *untracked, *back;
    struct esw_ct_spec spec;
    struct esw_rule_spec rs;
    struct esw_action *a;
    struct esw_caps caps;

    esw_dev_get_caps(dev, &caps);
    printf("ct_clear offered: %s\n",
           caps.actions & (1u << ESW_ACTION_CT_CLEAR) ? "yes" : "no");

    /* Valid anywhere, even with no RECIRC after it: from p0, ct_clear and
     * out to vf0. */
    spec_init(&rs, p0, 1);
    spec_action(&rs, ESW_ACTION_CT_CLEAR);
    spec_output(&rs, vf0);
    back = add_rule(dev, &rs);
    ct_send(dev, "p0, ct_clear, output", p0, vf0,
            ct_frame(srv, vm, 53, 5353, -1, 0),
            ct_frame(srv, vm, 53, 5353, -1, 0));
    printf("rule: %"PRIu64"\n", rule_packets(dev, back));

    if (!caps.max_conns) {
        /* ct_clear, recirc(1); chain 1: out. */
        spec_init(&rs, vf0, 1);
        spec_action(&rs, ESW_ACTION_CT_CLEAR);
        spec_action(&rs, ESW_ACTION_RECIRC)->chain = 1;
        add_rule(dev, &rs);
        spec_init(&rs, vf0, 1);
        rs.match.chain = 1;
        rs.mask.chain = UINT32_MAX;
        spec_output(&rs, p0);
        untracked = add_rule(dev, &rs);
        ct_send(dev, "ct_clear, recirc", vf0, p0,
                ct_frame(vm, srv, 5353, 53, -1, 0),
                ct_frame(vm, srv, 5353, 53, -1, 0));
        printf("rule: %"PRIu64"\n", rule_packets(dev, untracked));
        esw_dev_close(dev);
        return;
    }

    /* UDP vm:5353 -> srv:53 in zone 5 (mark 7, a label) and in zone 6;
     * vm:5354 and vm:5355 in zone 5 (mark 7, a label). */
    memset(&spec, 0, sizeof spec);
    spec.zone = 5;
    spec.mark = 7;
    spec.label[0] = 0x33;
    ct_tuple_init(&spec.orig, IPPROTO_UDP, vm, 5353, srv, 53);
    ct_tuple_init(&spec.reply, IPPROTO_UDP, srv, 53, vm, 5353);
    z5 = try_ct(dev, "zone 5", &spec);
    spec.zone = 6;
    spec.mark = 0;
    spec.label[0] = 0;
    z6 = try_ct(dev, "zone 6", &spec);
    spec.zone = 5;
    spec.mark = 7;
    spec.label[0] = 0x33;
    ct_tuple_init(&spec.orig, IPPROTO_UDP, vm, 5354, srv, 53);
    ct_tuple_init(&spec.reply, IPPROTO_UDP, srv, 53, vm, 5354);
    clr = try_ct(dev, "zone 5, port 5354", &spec);
    ct_tuple_init(&spec.orig, IPPROTO_UDP, vm, 5355, srv, 53);
    ct_tuple_init(&spec.reply, IPPROTO_UDP, srv, 53, vm, 5355);
    noclr = try_ct(dev, "zone 5, port 5355", &spec);

    /* Chain 0: ct(zone=5), recirc(1).  Chain 1, established in zone 5:
     * port 5353, OVN's switch-to-router pattern: ct_clear, ct(zone=6),
     * recirc(2); port 5354: ct_clear, recirc(3); port 5355: recirc(3)
     * without the clear.  Chain 2: established in zone 6 with mark 0 and
     * no label, out.  Chain 3: untracked, out. */
    spec_init(&rs, vf0, 1);
    a = spec_action(&rs, ESW_ACTION_CT);
    a->ct.zone = 5;
    spec_action(&rs, ESW_ACTION_RECIRC)->chain = 1;
    add_rule(dev, &rs);
    for (uint16_t port = 5353; port <= 5355; port++) {
        spec_init(&rs, vf0, 1);
        rs.match.chain = 1;
        rs.mask.chain = UINT32_MAX;
        rs.match.ct_state = ESW_CS_TRACKED | ESW_CS_ESTABLISHED;
        rs.mask.ct_state = ESW_CS_TRACKED | ESW_CS_ESTABLISHED;
        rs.match.ct_zone = 5;
        rs.mask.ct_zone = UINT16_MAX;
        rs.match.eth_type = htons(0x0800);
        rs.mask.eth_type = UINT16_MAX;
        rs.match.ip_proto = IPPROTO_UDP;
        rs.mask.ip_proto = UINT8_MAX;
        rs.match.tp_src = htons(port);
        rs.mask.tp_src = UINT16_MAX;
        if (port != 5355) {
            spec_action(&rs, ESW_ACTION_CT_CLEAR);
        }
        if (port == 5353) {
            a = spec_action(&rs, ESW_ACTION_CT);
            a->ct.zone = 6;
        }
        spec_action(&rs, ESW_ACTION_RECIRC)->chain = port == 5353 ? 2 : 3;
        add_rule(dev, &rs);
    }
    spec_init(&rs, vf0, 1);
    rs.match.chain = 2;
    rs.mask.chain = UINT32_MAX;
    rs.match.ct_state = ESW_CS_TRACKED | ESW_CS_ESTABLISHED;
    rs.mask.ct_state = ESW_CS_TRACKED | ESW_CS_ESTABLISHED;
    rs.match.ct_zone = 6;
    rs.mask.ct_zone = UINT16_MAX;
    rs.mask.ct_mark = UINT32_MAX;
    rs.mask.ct_label[0] = rs.mask.ct_label[1] = UINT64_MAX;
    spec_output(&rs, p0);
    two_zones = add_rule(dev, &rs);
    spec_init(&rs, vf0, 1);
    rs.match.chain = 3;
    rs.mask.chain = UINT32_MAX;
    rs.mask.ct_state = ESW_CS_TRACKED;
    spec_output(&rs, p0);
    untracked = add_rule(dev, &rs);

    ct_send(dev, "two zones", vf0, p0, ct_frame(vm, srv, 5353, 53, -1, 0),
            ct_frame(vm, srv, 5353, 53, -1, 0));
    ct_send(dev, "ct_clear, then -trk", vf0, p0,
            ct_frame(vm, srv, 5354, 53, -1, 0),
            ct_frame(vm, srv, 5354, 53, -1, 0));
    ct_send(dev, "no ct_clear, +trk", vf0, p0,
            ct_frame(vm, srv, 5355, 53, -1, 0), NULL);
    print_trace_ct(dev, "two zones", vf0, ct_frame(vm, srv, 5353, 53, -1, 0));
    print_trace_ct(dev, "ct_clear", vf0, ct_frame(vm, srv, 5354, 53, -1, 0));
    print_trace_ct(dev, "no ct_clear", vf0,
                   ct_frame(vm, srv, 5355, 53, -1, 0));
    print_ct_stats(dev, "zone 5", z5);
    print_ct_stats(dev, "zone 6", z6);
    print_ct_stats(dev, "zone 5, port 5354", clr);
    print_ct_stats(dev, "zone 5, port 5355", noclr);
    printf("rules: two zones %"PRIu64", untracked %"PRIu64"\n",
           rule_packets(dev, two_zones), rule_packets(dev, untracked));
    esw_ct_del(dev, z5);
    esw_ct_del(dev, z6);
    esw_ct_del(dev, clr);
    esw_ct_del(dev, noclr);
    print_drops(dev, vf0);
    esw_dev_close(dev);

    /* A device that does not offer it. */
    dev = open_dev("esw1", &(struct esw_dev_config) {
                       .disabled_actions = 1u << ESW_ACTION_CT_CLEAR });
    spec_init(&rs, 0, 1);
    rs.mask.in_vport = 0;
    spec_action(&rs, ESW_ACTION_CT_CLEAR);
    spec_action(&rs, ESW_ACTION_RECIRC)->chain = 1;
    try_rule(dev, "not offered", &rs);
    esw_dev_close(dev);
}

/* ct (remote) */

static void
test_ct_none(void)
{
    struct esw_dev *dev = open_dev("esw0", &(struct esw_dev_config) {
                                       .disabled_actions
                                           = 1u << ESW_ACTION_CT });
    struct esw_ct_spec spec;
    struct esw_error err;
    struct esw_ct *ct;
    int error;

    memset(&spec, 0, sizeof spec);
    ct_tuple_init(&spec.orig, IPPROTO_UDP, 1, 1, 2, 2);
    ct_tuple_init(&spec.reply, IPPROTO_UDP, 2, 2, 1, 1);
    error = esw_ct_add(dev, &spec, &err, &ct);
    printf("add: %s (%s)", strerror(error), err.reason);
    printf(", capacity %zu, count %zu\n", esw_ct_capacity(dev),
           esw_ct_count(dev));
    esw_dev_close(dev);
}

/* reset */

/* Prints the driver's WARN and INFO lines, with the socket path and the
 * times left out. */
static void
reset_log(enum esw_log_level level, const char *msg)
{
    const char *path = getenv("OVS_ESWITCHD_SOCKET");
    size_t path_len = path ? strlen(path) : 0;
    char out[512];
    size_t n = 0;

    if (level != ESW_LOG_WARN && level != ESW_LOG_INFO) {
        return;
    }
    for (const char *p = msg; *p && n < sizeof out - 8; ) {
        if (path_len && !strncmp(p, path, path_len)) {
            n += snprintf(out + n, sizeof out - n, "SOCKET");
            p += path_len;
        } else if (*p >= '0' && *p <= '9') {
            const char *q = p;

            while (*q >= '0' && *q <= '9') {
                q++;
            }
            if (!strncmp(q, " ms", 3)) {
                out[n++] = 'N';
            } else {
                memcpy(out + n, p, q - p < (long) (sizeof out - 8 - n)
                                   ? (size_t) (q - p) : 0);
                n += q - p < (long) (sizeof out - 8 - n) ? (size_t) (q - p)
                                                         : 0;
            }
            p = q;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    printf("%s %s\n", level == ESW_LOG_WARN ? "WARN" : "INFO", out);
}

/* Breaks this process's connections to the daemon at
 * $OVS_ESWITCHD_SOCKET, as a failing transport would, while the daemon
 * lives.  Returns how many. */
static int
break_connections(void)
{
    const char *path = getenv("OVS_ESWITCHD_SOCKET");
    int n = 0;

    for (int fd = 3; path && fd < 1024; fd++) {
        struct sockaddr_un sun;
        socklen_t len = sizeof sun;

        memset(&sun, 0, sizeof sun);
        if (!getpeername(fd, (struct sockaddr *) &sun, &len)
            && sun.sun_family == AF_UNIX
            && !strncmp(sun.sun_path, path, strlen(path))) {
            shutdown(fd, SHUT_RDWR);
            n++;
        }
    }
    return n;
}

static void
test_reset(void)
{
    struct esw_meter_config meter = { .n_bands = 1,
                                      .bands = { { .rate = 1000 } } };
    struct esw_rule_stats st;
    struct esw_vport_info info;
    struct esw_rule_spec spec;
    struct esw_ct_spec cs;
    struct esw_ct *ct, *ct2;
    struct esw_rule *r1;
    struct esw_dev *dev;
    uint32_t p0, vf0, vf1;
    int error = EAGAIN;
    char buf[512];

    if (strcmp(test_driver(), "remote")) {
        printf("the remote driver only\n");
        exit(77);
    }
    esw_set_log_hook(reset_log);
    dev = open_dev("esw0", NULL);
    p0 = add_vport(dev, ESW_VPORT_UPLINK, 0, NULL, 0);
    vf0 = add_vport(dev, ESW_VPORT_VF, 0, &MAC_VF0, 0);
    vf1 = add_vport(dev, ESW_VPORT_VF, 1, &MAC_VF1, 0);
    CHECK_EQ(esw_vport_set_mtu(dev, vf0, 1400), 0);
    CHECK_EQ(esw_meter_set(dev, 1, &meter, NULL), 0);
    spec_init(&spec, vf0, 10);
    spec_output(&spec, p0);
    r1 = add_rule(dev, &spec);
    spec_init(&spec, p0, 10);
    spec_output(&spec, vf1);
    add_rule(dev, &spec);
    for (uint32_t i = 0; i < 10; i++) {
        inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, i));
    }
    wait_idle(dev);
    CHECK_EQ(capture_count(dev, p0), 10);

    /* Two connections, one deleted: the device keeps the other. */
    memset(&cs, 0, sizeof cs);
    cs.zone = 3;
    cs.mark = 5;
    ct_tuple_init(&cs.orig, IPPROTO_UDP, 0x0a000001, 5000, 0x0a000002, 53);
    ct_tuple_init(&cs.reply, IPPROTO_UDP, 0x0a000002, 53, 0x0a000001, 5000);
    CHECK_EQ(esw_ct_add(dev, &cs, NULL, &ct), 0);
    cs.orig.src_port = cs.reply.dst_port = htons(5001);
    CHECK_EQ(esw_ct_add(dev, &cs, NULL, &ct2), 0);
    esw_ct_del(dev, ct2);

    /* The connection breaks: the device is reset, the driver reconnects
     * and takes the device the daemon kept over. */
    CHECK_EQ(break_connections(), 1);
    for (int i = 0; i < WAIT_MS && error == EAGAIN; i++) {
        error = esw_rule_validate(dev, &spec, NULL);
        if (error == EAGAIN) {
            usleep(1000);
        }
    }
    CHECK_EQ(error, 0);
    CHECK_EQ(esw_vport_get_info(dev, vf0, &info), 0);
    printf("back: %zu vports, %zu rules, %zu meters, %s mtu %"PRIu32
           " link %s\n", esw_vport_list(dev, NULL, 0), esw_rule_count(dev),
           esw_meter_list(dev, NULL, 0), info.name, info.mtu,
           info.oper_up ? "up" : "down");

    /* Forwarding and counters go on. */
    for (uint32_t i = 0; i < 10; i++) {
        inject(dev, vf0, simple_frame(&MAC_EXT, &MAC_VF0, i));
    }
    wait_idle(dev);
    CHECK_EQ(capture_count(dev, p0), 10);
    CHECK_EQ(esw_rule_get_stats(dev, r1, &st), 0);
    printf("rule: %"PRIu64" packets\n", st.packets);
    print_drops(dev, vf0);
    esw_ct_get_spec(dev, ct, &cs);
    printf("connections: %zu, %s\n", esw_ct_count(dev),
           esw_ct_spec_format(&cs, buf, sizeof buf));
    esw_ct_del(dev, ct);
    printf("connections: %zu\n", esw_ct_count(dev));
    esw_dev_close(dev);
}

int
main(int argc, char *argv[])
{
    const char *cmd = argc > 1 ? argv[1] : "";

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(cmd, "open")) {
        test_open();
    } else if (!strcmp(cmd, "vports")) {
        test_vports();
    } else if (!strcmp(cmd, "forward")) {
        test_forward();
    } else if (!strcmp(cmd, "miss")) {
        test_miss();
    } else if (!strcmp(cmd, "rep-queues")) {
        test_rep_queues();
    } else if (!strcmp(cmd, "rep-send")) {
        test_rep_send();
    } else if (!strcmp(cmd, "validate")) {
        test_validate();
    } else if (!strcmp(cmd, "pipelined")) {
        test_pipelined();
    } else if (!strcmp(cmd, "modify")) {
        test_modify();
    } else if (!strcmp(cmd, "policy")) {
        test_policy();
    } else if (!strcmp(cmd, "trace")) {
        test_trace();
    } else if (!strcmp(cmd, "rewrite")) {
        test_rewrite();
    } else if (!strcmp(cmd, "chains")) {
        test_chains();
    } else if (!strcmp(cmd, "meters")) {
        test_meters();
    } else if (!strcmp(cmd, "ct")) {
        test_ct();
    } else if (!strcmp(cmd, "ct-none")) {
        test_ct_none();
    } else if (!strcmp(cmd, "ct-clear")) {
        test_ct_clear();
    } else if (!strcmp(cmd, "churn") && argc == 5) {
        test_churn(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0),
                   strtoul(argv[4], NULL, 0));
    } else if (!strcmp(cmd, "shutdown")) {
        test_shutdown();
    } else if (!strcmp(cmd, "tap")) {
        test_tap();
    } else if (!strcmp(cmd, "reset")) {
        test_reset();
    } else {
        fprintf(stderr, "usage: %s open|vports|forward|miss|rep-queues|rep-send|"
                "validate|pipelined|modify|policy|trace|rewrite|chains|meters|ct|ct-none|ct-clear|"
                "churn SEED N THREADS|shutdown|tap|reset\n",
                argv[0]);
        return 2;
    }
    return 0;
}
