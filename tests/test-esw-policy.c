/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the vport security and VLAN policy.
 *
 *   test-esw-policy validate        validation messages
 *   test-esw-policy noop            which configs take the fast path
 *   test-esw-policy format          config formatting
 *   test-esw-policy vst-8021q       VST with 802.1Q
 *   test-esw-policy vst-8021ad      VST with 802.1ad (QinQ)
 *   test-esw-policy trunks          VGT trunk filtering
 *   test-esw-policy spoof           spoof check and allowed MACs
 *   test-esw-policy promisc         destination filter
 *   test-esw-policy link-state      link-state auto/enable/disable
 *   test-esw-policy rate            max-tx-rate with a simulated clock
 *   test-esw-policy rate-threads N  N threads share one rate limiter
 *   test-esw-policy guest-mac       guest MAC change requests
 *   test-esw-policy random SEED N   random configs and frames: invariants
 *   test-esw-policy bench [N]       decision speed (not part of the suite)
 *
 * Every decision is checked against the contract (a dropped packet and its
 * key are unchanged; a passed packet's key equals a fresh parse of it).
 * Exits 1 on the first failed check, with a message on stderr. */

#include "datapath/policy/esw-policy.h"
#include "datapath/packet/esw-packet-format.h"
#include "tests/unit-check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define VPORT 3

static struct esw_eth_addr
mac(const char *s)
{
    struct esw_eth_addr ea;
    unsigned int b[6];

    CHECK_EQ(sscanf(s, "%x:%x:%x:%x:%x:%x",
                    &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]), 6);
    for (int i = 0; i < 6; i++) {
        ea.ea[i] = b[i];
    }
    return ea;
}

/* Frames: Ethernet, up to three tags, IPv4/UDP with 'pad' payload bytes. */
struct frame {
    uint8_t b[ESW_FRAME_MAX];
    size_t n;
};

static void
put16(struct frame *f, uint16_t x)
{
    f->b[f->n++] = x >> 8;
    f->b[f->n++] = x;
}

static void
frame_eth(struct frame *f, const char *dst, const char *src)
{
    struct esw_eth_addr d = mac(dst), s = mac(src);

    f->n = 0;
    memcpy(f->b, d.ea, 6);
    memcpy(f->b + 6, s.ea, 6);
    f->n = 12;
}

static void
frame_tag(struct frame *f, uint16_t tpid, uint16_t tci)
{
    put16(f, tpid);
    put16(f, tci);
}

static void
frame_ipv4_udp(struct frame *f, size_t pad)
{
    static const uint8_t ip[20] = {
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    };
    size_t l3;

    put16(f, ESW_ETH_TYPE_IPV4);
    l3 = f->n;
    memcpy(f->b + f->n, ip, sizeof ip);
    f->n += sizeof ip;
    put16(f, 1000);
    put16(f, 2000);
    put16(f, 8 + pad);
    put16(f, 0);
    CHECK_LE(f->n + pad, sizeof f->b);
    memset(f->b + f->n, 0x5a, pad);
    f->n += pad;
    f->b[l3 + 2] = (f->n - l3) >> 8;
    f->b[l3 + 3] = f->n - l3;
}

/* Shorthands: untagged or tagged UDP frames from 'src' to 'dst'. */
static void
mk(struct frame *f, const char *dst, const char *src)
{
    frame_eth(f, dst, src);
    frame_ipv4_udp(f, 18);
}

static void
mk1(struct frame *f, const char *dst, const char *src,
    uint16_t tpid, uint16_t tci)
{
    frame_eth(f, dst, src);
    frame_tag(f, tpid, tci);
    frame_ipv4_udp(f, 14);
}

static void
mk2(struct frame *f, const char *dst, const char *src,
    uint16_t tpid1, uint16_t tci1, uint16_t tpid2, uint16_t tci2)
{
    frame_eth(f, dst, src);
    frame_tag(f, tpid1, tci1);
    frame_tag(f, tpid2, tci2);
    frame_ipv4_udp(f, 10);
}

#define GUEST "02:00:00:00:00:01"
#define PEER  "02:00:00:00:00:99"
#define BCAST "ff:ff:ff:ff:ff:ff"

struct pkt_buf {
    uint8_t buf[ESW_PKT_HEADROOM + ESW_FRAME_MAX];
    struct esw_pkt pkt;
};

static void
pkt_init(struct pkt_buf *pb, const struct frame *f)
{
    pb->pkt.base = pb->buf;
    pb->pkt.data = pb->buf + ESW_PKT_HEADROOM;
    pb->pkt.size = sizeof pb->buf;
    pb->pkt.len = f->n;
    pb->pkt.in_vport = VPORT;
    pb->pkt.mark = 0;
    memcpy(pb->pkt.data, f->b, f->n);
}

/* Runs one decision and checks the contract.  Returns true on pass and
 * stores the reason of a drop in '*reason'. */
static bool
decide(struct esw_policy *p, bool ingress, const struct frame *f,
       uint64_t now, struct pkt_buf *pb, struct esw_key *key,
       enum esw_drop_reason *reason)
{
    struct esw_key before, fresh;
    bool pass;

    pkt_init(pb, f);
    esw_parse(pb->pkt.data, pb->pkt.len, VPORT, key);
    before = *key;
    *reason = ESW_N_DROP_REASONS;
    pass = (ingress ? esw_policy_ingress(p, &pb->pkt, key, now, reason)
            : esw_policy_egress(p, &pb->pkt, key, reason));
    if (pass) {
        CHECK_EQ(*reason, ESW_N_DROP_REASONS);
        esw_parse(pb->pkt.data, pb->pkt.len, VPORT, &fresh);
        CHECK_MEMEQ(&fresh, key, sizeof fresh);
        CHECK(pb->pkt.data >= pb->pkt.base);
        CHECK(pb->pkt.data + pb->pkt.len <= pb->pkt.base + pb->pkt.size);
    } else {
        CHECK_LT(*reason, ESW_N_DROP_REASONS);
        CHECK_EQ(pb->pkt.len, f->n);
        CHECK_MEMEQ(pb->pkt.data, f->b, f->n);
        CHECK_MEMEQ(&before, key, sizeof before);
    }
    if (f->n >= ESW_FRAME_MIN
        && (ingress ? esw_policy_ingress_is_noop(p)
            : esw_policy_egress_is_noop(p))) {
        CHECK(pass);
        CHECK_EQ(pb->pkt.len, f->n);
        CHECK_MEMEQ(pb->pkt.data, f->b, f->n);
    }
    return pass;
}

/* Prints "ingress|egress NAME: pass TAGS" or "...: drop REASON". */
static void
run(struct esw_policy *p, bool ingress, const char *name,
    const struct frame *f)
{
    enum esw_drop_reason reason;
    struct pkt_buf pb;
    struct esw_key key;

    printf("%s %s: ", ingress ? "ingress" : "egress", name);
    if (decide(p, ingress, f, 0, &pb, &key, &reason)) {
        printf("pass len=%"PRIu32, pb.pkt.len);
        if (!key.n_vlans) {
            printf(" untagged");
        }
        for (int i = 0; i < key.n_vlans; i++) {
            uint16_t tci = ntohs(key.vlans[i].tci);

            printf(" vlan=%04x:%d:pcp%d", ntohs(key.vlans[i].tpid),
                   tci & 0xfff, tci >> 13);
        }
        printf("\n");
    } else {
        printf("drop %s\n", esw_drop_reason_name(reason));
    }
}

static struct esw_policy *
create(const struct esw_policy_config *cfg, const char *eff)
{
    struct esw_eth_addr ea = mac(eff);
    char reason[128];
    struct esw_policy *p;

    if (esw_policy_config_validate(cfg, reason, sizeof reason)) {
        fprintf(stderr, "invalid config: %s\n", reason);
        exit(1);
    }
    p = esw_policy_create(cfg, &ea, true, NULL);
    CHECK(p);
    return p;
}

/* validate */

struct validate_case {
    const char *name;
    void (*mutate)(struct esw_policy_config *);
};

#define MUTATOR(NAME, BODY)                                     \
    static void                                                 \
    NAME(struct esw_policy_config *c)                           \
    {                                                           \
        BODY;                                                   \
    }

MUTATOR(m_default, (void) c)
MUTATOR(m_mac_ok, c->admin_mac = mac("02:00:00:00:00:10"))
MUTATOR(m_mac_mcast, c->admin_mac = mac("01:00:00:00:00:01"))
MUTATOR(m_mac_bcast, c->admin_mac = mac(BCAST))
MUTATOR(m_vlan_ok, c->vlan = 4094; c->qos = 7)
MUTATOR(m_vlan_4095, c->vlan = 4095)
MUTATOR(m_vlan_big, c->vlan = 65535)
MUTATOR(m_qos_9, c->vlan = 10; c->qos = 9)
MUTATOR(m_qos_novlan, c->qos = 3)
MUTATOR(m_proto_ad, c->vlan = 10; c->vlan_proto = ESW_TPID_8021AD)
MUTATOR(m_proto_bad, c->vlan = 10; c->vlan_proto = 0x9100)
MUTATOR(m_proto_novlan, c->vlan_proto = ESW_TPID_8021AD)
MUTATOR(m_trunks_ok, esw_policy_config_add_trunk(c, 1);
        esw_policy_config_add_trunk(c, 4094))
MUTATOR(m_trunks_0, esw_policy_config_add_trunk(c, 0))
MUTATOR(m_trunks_4095, esw_policy_config_add_trunk(c, 4095))
MUTATOR(m_trunks_vst, esw_policy_config_add_trunk(c, 5); c->vlan = 100)
MUTATOR(m_trunks_notag_only, esw_policy_config_add_trunk(c, 5);
        c->trunk_untagged = false)
MUTATOR(m_trunks_empty, c->trunk_untagged = false)
MUTATOR(m_allowed_ok, c->n_allowed_macs = 2;
        c->allowed_macs[0] = mac("02:00:00:00:00:20");
        c->allowed_macs[1] = mac("02:00:00:00:00:21"))
MUTATOR(m_allowed_dup, c->n_allowed_macs = 3;
        c->allowed_macs[0] = mac("02:00:00:00:00:20");
        c->allowed_macs[1] = mac("02:00:00:00:00:21");
        c->allowed_macs[2] = mac("02:00:00:00:00:20"))
MUTATOR(m_allowed_mcast, c->n_allowed_macs = 1;
        c->allowed_macs[0] = mac("33:33:00:00:00:01"))
MUTATOR(m_allowed_zero, c->n_allowed_macs = 1)
MUTATOR(m_allowed_many, c->n_allowed_macs = 17)
MUTATOR(m_rate_ok, c->max_tx_rate = 100; c->min_tx_rate = 100)
MUTATOR(m_rate_min_only, c->min_tx_rate = 50)
MUTATOR(m_rate_min_gt_max, c->max_tx_rate = 100; c->min_tx_rate = 200)
MUTATOR(m_rate_max_big, c->max_tx_rate = 1000001)
MUTATOR(m_rate_min_big, c->min_tx_rate = 2000000)
MUTATOR(m_link_disable, c->link_state = ESW_POLICY_LINK_DOWN)
MUTATOR(m_link_bad, c->link_state = 3)

static void
cmd_validate(int argc, char *argv[])
{
    static const struct validate_case cases[] = {
        { "default", m_default },
        { "admin-mac", m_mac_ok },
        { "admin-mac multicast", m_mac_mcast },
        { "admin-mac broadcast", m_mac_bcast },
        { "vlan 4094 qos 7", m_vlan_ok },
        { "vlan 4095", m_vlan_4095 },
        { "vlan 65535", m_vlan_big },
        { "qos 9", m_qos_9 },
        { "qos without vlan", m_qos_novlan },
        { "vlan-proto 802.1ad", m_proto_ad },
        { "vlan-proto 0x9100", m_proto_bad },
        { "vlan-proto 802.1ad without vlan", m_proto_novlan },
        { "trunks 1,4094", m_trunks_ok },
        { "trunks 0", m_trunks_0 },
        { "trunks 4095", m_trunks_4095 },
        { "trunks with vlan", m_trunks_vst },
        { "trunks 5 without untagged", m_trunks_notag_only },
        { "no trunks without untagged", m_trunks_empty },
        { "allowed-macs", m_allowed_ok },
        { "allowed-macs duplicate", m_allowed_dup },
        { "allowed-macs multicast", m_allowed_mcast },
        { "allowed-macs zero", m_allowed_zero },
        { "allowed-macs 17", m_allowed_many },
        { "rates", m_rate_ok },
        { "min-tx-rate only", m_rate_min_only },
        { "min-tx-rate above max", m_rate_min_gt_max },
        { "max-tx-rate too big", m_rate_max_big },
        { "min-tx-rate too big", m_rate_min_big },
        { "link-state down", m_link_disable },
        { "link-state 3", m_link_bad },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct esw_policy_config cfg;
        struct esw_policy *p;
        char reason[128];
        int error;

        esw_policy_config_init(&cfg);
        cases[i].mutate(&cfg);
        memset(reason, 'x', sizeof reason);
        error = esw_policy_config_validate(&cfg, reason, sizeof reason);
        p = esw_policy_create(&cfg, NULL, true, NULL);
        if (error) {
            CHECK_EQ(error, EINVAL);
            CHECK(reason[0]);
            CHECK_PTR_EQ(p, NULL);
            printf("%s: %s\n", cases[i].name, reason);
        } else {
            CHECK_STREQ(reason, "");
            CHECK(p);
            printf("%s: ok\n", cases[i].name);
        }
        esw_policy_destroy(p);

        /* A short buffer truncates, a zero-sized one is not touched. */
        memset(reason, 'x', sizeof reason);
        CHECK_EQ(esw_policy_config_validate(&cfg, reason, 5), error);
        if (error) {
            CHECK_LT(strlen(reason), 5);
        }
        CHECK_EQ(esw_policy_config_validate(&cfg, reason, 0), error);
    }
}

/* noop */

static void
show_noop(const char *name, const struct esw_policy_config *cfg,
          bool link_up)
{
    struct esw_policy *p = esw_policy_create(cfg, NULL, link_up, NULL);

    CHECK(p);
    printf("%s: ingress %s, egress %s\n", name,
           esw_policy_ingress_is_noop(p) ? "noop" : "active",
           esw_policy_egress_is_noop(p) ? "noop" : "active");
    esw_policy_destroy(p);
}

static void
cmd_noop(int argc, char *argv[])
{
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;

    show_noop("default", &cfg, true);
    show_noop("default, auto link down", &cfg, false);
    cfg.admin_mac = mac("02:00:00:00:00:10");
    cfg.trust = true;
    cfg.min_tx_rate = 10;
    show_noop("mac trust min-tx-rate", &cfg, true);

    esw_policy_config_init(&cfg);
    cfg.spoofchk = true;
    show_noop("spoofchk", &cfg, true);
    esw_policy_config_init(&cfg);
    cfg.vlan = 5;
    show_noop("vlan", &cfg, true);
    esw_policy_config_init(&cfg);
    esw_policy_config_add_trunk(&cfg, 5);
    show_noop("trunks", &cfg, true);
    esw_policy_config_init(&cfg);
    cfg.promisc = false;
    show_noop("promisc off", &cfg, true);
    esw_policy_config_init(&cfg);
    cfg.max_tx_rate = 1000;
    show_noop("max-tx-rate", &cfg, true);
    esw_policy_config_init(&cfg);
    cfg.link_state = ESW_POLICY_LINK_UP;
    show_noop("link-state up, auto link down", &cfg, false);
    cfg.link_state = ESW_POLICY_LINK_DOWN;
    show_noop("link-state down", &cfg, true);
}

/* VST */

static void
cmd_vst_8021q(int argc, char *argv[])
{
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;
    struct esw_policy *p;
    struct frame f;

    cfg.vlan = 100;
    cfg.qos = 5;
    p = create(&cfg, GUEST);

    mk(&f, PEER, GUEST);
    run(p, true, "untagged", &f);
    mk1(&f, PEER, GUEST, 0x8100, 200);
    run(p, true, "8100:200", &f);
    mk1(&f, PEER, GUEST, 0x8100, 100);
    run(p, true, "8100:100", &f);
    mk1(&f, PEER, GUEST, 0x8100, 0x6000);
    run(p, true, "priority-tagged", &f);
    mk1(&f, PEER, GUEST, 0x88a8, 100);
    run(p, true, "88a8:100", &f);
    frame_eth(&f, PEER, GUEST);
    put16(&f, 0x8100);
    run(p, true, "truncated tag", &f);
    frame_eth(&f, PEER, GUEST);
    put16(&f, 0x0800);
    run(p, true, "14-byte frame", &f);

    mk1(&f, GUEST, PEER, 0x8100, 100);
    run(p, false, "8100:100", &f);
    mk1(&f, GUEST, PEER, 0x8100, 0xe064);
    run(p, false, "8100:100:pcp7", &f);
    mk2(&f, GUEST, PEER, 0x8100, 100, 0x8100, 7);
    run(p, false, "8100:100 8100:7", &f);
    mk(&f, GUEST, PEER);
    run(p, false, "untagged", &f);
    mk1(&f, GUEST, PEER, 0x8100, 200);
    run(p, false, "8100:200", &f);
    mk1(&f, GUEST, PEER, 0x88a8, 100);
    run(p, false, "88a8:100", &f);
    frame_eth(&f, GUEST, PEER);
    frame_tag(&f, 0x8100, 100);
    run(p, false, "tag only", &f);
    esw_policy_destroy(p);
}

static void
cmd_vst_8021ad(int argc, char *argv[])
{
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;
    struct esw_policy *p;
    struct frame f;

    cfg.vlan = 300;
    cfg.qos = 2;
    cfg.vlan_proto = ESW_TPID_8021AD;
    p = create(&cfg, GUEST);

    mk(&f, PEER, GUEST);
    run(p, true, "untagged", &f);
    mk1(&f, PEER, GUEST, 0x8100, 10);
    run(p, true, "8100:10", &f);
    mk1(&f, PEER, GUEST, 0x88a8, 10);
    run(p, true, "88a8:10", &f);
    mk2(&f, PEER, GUEST, 0x8100, 10, 0x8100, 20);
    run(p, true, "8100:10 8100:20", &f);
    frame_eth(&f, PEER, GUEST);
    frame_tag(&f, 0x8100, 10);
    put16(&f, 0x8100);
    run(p, true, "8100:10 truncated tag", &f);

    mk2(&f, GUEST, PEER, 0x88a8, 300, 0x8100, 10);
    run(p, false, "88a8:300 8100:10", &f);
    mk1(&f, GUEST, PEER, 0x88a8, 300);
    run(p, false, "88a8:300", &f);
    frame_eth(&f, GUEST, PEER);
    frame_tag(&f, 0x88a8, 300);
    frame_tag(&f, 0x8100, 10);
    frame_tag(&f, 0x8100, 20);
    frame_ipv4_udp(&f, 0);
    run(p, false, "88a8:300 8100:10 8100:20", &f);
    mk1(&f, GUEST, PEER, 0x8100, 300);
    run(p, false, "8100:300", &f);
    mk2(&f, GUEST, PEER, 0x88a8, 301, 0x8100, 10);
    run(p, false, "88a8:301 8100:10", &f);
    mk(&f, GUEST, PEER);
    run(p, false, "untagged", &f);
    esw_policy_destroy(p);
}

/* Trunks. */

static void
trunk_frames(struct esw_policy *p)
{
    static const uint16_t vids[] = { 10, 15, 20, 25, 30, 31, 4094 };
    struct frame f;
    char name[32];

    for (int dir = 1; dir >= 0; dir--) {
        const char *dst = dir ? PEER : GUEST;
        const char *src = dir ? GUEST : PEER;

        mk(&f, dst, src);
        run(p, dir, "untagged", &f);
        mk1(&f, dst, src, 0x8100, 0x4000);
        run(p, dir, "priority-tagged", &f);
        for (size_t i = 0; i < sizeof vids / sizeof vids[0]; i++) {
            snprintf(name, sizeof name, "8100:%d", vids[i]);
            mk1(&f, dst, src, 0x8100, vids[i]);
            run(p, dir, name, &f);
        }
        mk1(&f, dst, src, 0x88a8, 25);
        run(p, dir, "88a8:25", &f);
        mk2(&f, dst, src, 0x8100, 25, 0x8100, 31);
        run(p, dir, "8100:25 8100:31", &f);
    }
}

static void
cmd_trunks(int argc, char *argv[])
{
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;
    struct esw_policy *p;

    esw_policy_config_add_trunk(&cfg, 10);
    for (int vid = 20; vid <= 30; vid++) {
        esw_policy_config_add_trunk(&cfg, vid);
    }
    printf("trunks 10,20-30:\n");
    p = create(&cfg, GUEST);
    trunk_frames(p);
    esw_policy_destroy(p);

    cfg.trunk_untagged = false;
    printf("trunks 10,20-30 without untagged:\n");
    p = create(&cfg, GUEST);
    trunk_frames(p);
    esw_policy_destroy(p);
}

/* Spoof check. */

static void
cmd_spoof(int argc, char *argv[])
{
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;
    static const char *srcs[] = {
        GUEST, "02:00:00:00:00:20", "02:00:00:00:00:21",
        "02:00:00:00:00:22", "01:00:5e:00:00:01", BCAST,
        "00:00:00:00:00:00",
    };
    struct esw_policy *p;
    struct frame f;

    cfg.n_allowed_macs = 2;
    cfg.allowed_macs[0] = mac("02:00:00:00:00:20");
    cfg.allowed_macs[1] = mac("02:00:00:00:00:21");
    for (int on = 1; on >= 0; on--) {
        cfg.spoofchk = on;
        printf("spoofchk %s, effective mac %s, allowed-macs "
               "02:00:00:00:00:20,02:00:00:00:00:21:\n",
               on ? "on" : "off", GUEST);
        p = create(&cfg, GUEST);
        for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
            mk(&f, PEER, srcs[i]);
            run(p, true, srcs[i], &f);
        }
        esw_policy_destroy(p);
    }

    /* The admin MAC wins over the effective MAC given to create(). */
    cfg.spoofchk = true;
    cfg.n_allowed_macs = 0;
    cfg.admin_mac = mac("02:00:00:00:00:10");
    printf("spoofchk on, mac 02:00:00:00:00:10, guest asked for %s:\n",
           GUEST);
    p = create(&cfg, GUEST);
    mk(&f, PEER, GUEST);
    run(p, true, GUEST, &f);
    mk(&f, PEER, "02:00:00:00:00:10");
    run(p, true, "02:00:00:00:00:10", &f);
    esw_policy_destroy(p);

    /* No MAC at all: only allowed MACs pass. */
    esw_policy_config_init(&cfg);
    cfg.spoofchk = true;
    printf("spoofchk on, no mac:\n");
    p = esw_policy_create(&cfg, NULL, true, NULL);
    mk(&f, PEER, GUEST);
    run(p, true, GUEST, &f);
    esw_policy_destroy(p);
}

/* Promiscuous filter. */

static void
cmd_promisc(int argc, char *argv[])
{
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;
    static const char *dsts[] = {
        GUEST, "02:00:00:00:00:20", PEER, BCAST, "01:00:5e:00:00:01",
        "33:33:00:00:00:01",
    };
    struct esw_policy *p;
    struct frame f;

    cfg.n_allowed_macs = 1;
    cfg.allowed_macs[0] = mac("02:00:00:00:00:20");
    for (int on = 0; on <= 1; on++) {
        cfg.promisc = on;
        printf("promisc %s, effective mac %s, allowed-macs "
               "02:00:00:00:00:20:\n", on ? "on" : "off", GUEST);
        p = create(&cfg, GUEST);
        for (size_t i = 0; i < sizeof dsts / sizeof dsts[0]; i++) {
            mk(&f, dsts[i], PEER);
            run(p, false, dsts[i], &f);
        }
        /* Ingress is not filtered by destination. */
        mk(&f, PEER, GUEST);
        run(p, true, PEER, &f);
        esw_policy_destroy(p);
    }

    /* With VST the filter applies to the frame with its tag. */
    cfg.promisc = false;
    cfg.vlan = 7;
    printf("promisc off, vlan 7:\n");
    p = create(&cfg, GUEST);
    mk1(&f, GUEST, PEER, 0x8100, 7);
    run(p, false, GUEST, &f);
    mk1(&f, PEER, GUEST, 0x8100, 7);
    run(p, false, PEER, &f);
    esw_policy_destroy(p);
}

/* Link state. */

static void
cmd_link_state(int argc, char *argv[])
{
    static const char *names[] = { "auto", "up", "down" };
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;

    for (int ls = 0; ls < ESW_POLICY_N_LINK_STATES; ls++) {
        for (int up = 1; up >= 0; up--) {
            struct esw_eth_addr ea = mac(GUEST);
            struct esw_policy *p;
            struct frame f;

            cfg.link_state = ls;
            p = esw_policy_create(&cfg, &ea, up, NULL);
            CHECK(p);
            printf("link-state %s, followed link %s: %s\n", names[ls],
                   up ? "up" : "down",
                   esw_policy_is_link_up(p) ? "up" : "down");
            mk(&f, PEER, GUEST);
            run(p, true, "frame", &f);
            mk(&f, GUEST, PEER);
            run(p, false, "frame", &f);
            esw_policy_destroy(p);
        }
    }
}

/* Rate limiting. */

/* Offers 'n' frames of 'len' bytes at 'now' to 'p'; returns how many
 * pass.  (The policy only polices: the packet is not modified.) */
static int
offer(struct esw_policy *p, int n, size_t len, uint64_t now)
{
    static struct pkt_buf pb;
    enum esw_drop_reason reason;
    struct esw_key key, key0;
    struct frame f;
    int passed = 0;

    frame_eth(&f, PEER, GUEST);
    frame_ipv4_udp(&f, len - 42);
    CHECK_EQ(f.n, len);
    pkt_init(&pb, &f);
    esw_parse(pb.pkt.data, pb.pkt.len, VPORT, &key0);
    for (int i = 0; i < n; i++) {
        key = key0;
        if (esw_policy_ingress(p, &pb.pkt, &key, now, &reason)) {
            passed++;
        } else {
            CHECK_EQ(reason, ESW_DROP_RATE);
        }
        CHECK_EQ(pb.pkt.len, len);
        CHECK_MEMEQ(&key, &key0, sizeof key);
    }
    return passed;
}

static void
cmd_rate(int argc, char *argv[])
{
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;
    struct esw_eth_addr ea = mac(GUEST);
    uint64_t t = UINT64_C(1000000000000);  /* Arbitrary origin: 1000 s. */
    struct esw_policy *p, *p2;
    uint64_t bits;
    int n;

    cfg.max_tx_rate = 100;
    p = esw_policy_create(&cfg, &ea, true, NULL);
    CHECK(p);
    printf("max-tx-rate 100: burst %"PRIu64" bits\n",
           ESW_POLICY_BURST_BITS(100));
    printf("t=0: %d of 100 1500-byte frames pass\n", offer(p, 100, 1500, t));
    printf("t=0: %d of 10 64-byte frames pass\n", offer(p, 10, 64, t));
    printf("t=1ms: %d of 100 1500-byte frames pass\n",
           offer(p, 100, 1500, t + 1000000));
    printf("t=1.12ms: %d of 100 1500-byte frames pass\n",
           offer(p, 100, 1500, t + 1120000));

    /* Offer twice the rate for one simulated second, in 10 us steps:
     * what passes is the rate plus at most the burst. */
    bits = 0;
    for (int step = 1; step <= 100000; step++) {
        bits += (uint64_t) offer(p, 1, 250, t + 10000000 + step * 10000)
                * 250 * 8;
    }
    printf("1 s at 200 Mbps offered: %"PRIu64" bits passed\n", bits);
    CHECK_LE(bits, 100000000 + ESW_POLICY_BURST_BITS(100));
    CHECK_GE(bits, 100000000 - 250 * 8);

    /* After an idle period the bucket is full again, not fuller. */
    t += UINT64_C(60000000000);
    n = offer(p, 200, 1500, t);
    printf("after 60 s idle: %d of 200 1500-byte frames pass\n", n);

    /* A swap carries the debt: the new policy (even at a higher rate)
     * starts with the empty bucket of the old one. */
    cfg.max_tx_rate = 200;
    p2 = esw_policy_create(&cfg, &ea, true, p);
    CHECK(p2);
    printf("swap to 200 with prev: %d of 200 1500-byte frames pass\n",
           offer(p2, 200, 1500, t));
    printf("swap to 200 with prev, t+1ms: %d of 200 frames pass\n",
           offer(p2, 200, 1500, t + 1000000));
    esw_policy_destroy(p2);
    p2 = esw_policy_create(&cfg, &ea, true, NULL);
    printf("swap to 200 without prev: %d of 200 1500-byte frames pass\n",
           offer(p2, 200, 1500, t));
    esw_policy_destroy(p2);
    esw_policy_destroy(p);

    /* The fastest and slowest rates. */
    cfg.max_tx_rate = ESW_POLICY_RATE_MAX;
    p = esw_policy_create(&cfg, &ea, true, NULL);
    printf("max-tx-rate %d: burst %"PRIu64" bits\n", ESW_POLICY_RATE_MAX,
           ESW_POLICY_BURST_BITS(ESW_POLICY_RATE_MAX));
    n = offer(p, 200000, 9000, t);
    printf("  %d of 200000 9000-byte frames pass at once\n", n);
    bits = 0;
    for (int step = 1; step <= 1000; step++) {
        bits += (uint64_t) offer(p, 250, 64, t + step * 100) * 64 * 8;
    }
    printf("  then 100 us at 1.28 Tbps offered: %"PRIu64" bits passed\n",
           bits);
    CHECK_LE(bits, 100000000);
    esw_policy_destroy(p);
    cfg.max_tx_rate = 1;
    p = esw_policy_create(&cfg, &ea, true, NULL);
    printf("max-tx-rate 1: %d of 10 9000-byte frames pass at once\n",
           offer(p, 10, 9000, t));
    n = offer(p, 1, 9000, t + 72000000);
    printf("  %d more after 72 ms, ", n);
    printf("%d after 73 ms\n", offer(p, 1, 9000, t + 73000000));
    esw_policy_destroy(p);
}

struct rate_thread {
    pthread_t thread;
    struct esw_policy *policy;
    int passed;
};

static void *
rate_thread_main(void *t_)
{
    struct rate_thread *t = t_;
    uint8_t buf[ESW_PKT_HEADROOM + 128];

    for (int i = 0; i < 200000; i++) {
        struct esw_pkt pkt = {
            .base = buf, .data = buf + ESW_PKT_HEADROOM,
            .size = sizeof buf, .len = 100,
        };
        enum esw_drop_reason reason;
        struct esw_key key;

        memset(pkt.data, 0, 100);
        pkt.data[6] = 2;
        esw_parse(pkt.data, pkt.len, VPORT, &key);
        t->passed += esw_policy_ingress(t->policy, &pkt, &key,
                                        UINT64_C(5000000000), &reason);
    }
    return NULL;
}

/* Threads share a policy with a frozen clock: exactly the bucket's
 * frames pass, however the threads interleave. */
static void
cmd_rate_threads(int argc, char *argv[])
{
    int n = argc > 2 ? atoi(argv[2]) : 2;
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;
    struct rate_thread *threads;
    struct esw_policy *p;
    int total = 0;

    CHECK_GT(n, 0);
    CHECK_LE(n, 64);
    cfg.max_tx_rate = 10000;
    p = esw_policy_create(&cfg, NULL, true, NULL);
    CHECK(p);
    threads = calloc(n, sizeof *threads);
    CHECK(threads);
    for (int i = 0; i < n; i++) {
        threads[i].policy = p;
        CHECK_EQ(pthread_create(&threads[i].thread, NULL, rate_thread_main,
                                &threads[i]), 0);
    }
    for (int i = 0; i < n; i++) {
        CHECK_EQ(pthread_join(threads[i].thread, NULL), 0);
        total += threads[i].passed;
    }
    esw_policy_destroy(p);

    /* The same, single-threaded. */
    p = esw_policy_create(&cfg, NULL, true, NULL);
    CHECK(p);
    threads[0].policy = p;
    threads[0].passed = 0;
    rate_thread_main(&threads[0]);
    printf("%d threads, burst %"PRIu64" bits: %s 100-byte frames passed "
           "as with 1 thread\n", n, ESW_POLICY_BURST_BITS(10000),
           total == threads[0].passed ? "the same number of" : "NOT");
    CHECK_EQ(total, threads[0].passed);
    CHECK_GE(total, 124900);
    CHECK_LE(total, 125100);
    free(threads);
    esw_policy_destroy(p);
}

/* Guest MAC requests. */

static void
guest_mac(const struct esw_policy_config *cfg, const char *desc,
          const char *cur, const char *req)
{
    struct esw_eth_addr c = mac(cur), r = mac(req);
    char reason[128];
    int error;

    memset(reason, 'x', sizeof reason);
    error = esw_policy_guest_mac_request(cfg, &c, &r, reason, sizeof reason);
    printf("%s: %s -> %s: ", desc, cur, req);
    if (!error) {
        CHECK_STREQ(reason, "");
        printf("accepted\n");
    } else {
        if (error != EPERM && error != EINVAL) {
            CHECK_FAIL("check failed: error is EPERM or EINVAL (%s, %d)",
                       strerror(error), error);
        }
        printf("%s (%s)\n", error == EPERM ? "EPERM" : "EINVAL", reason);
    }
}

static void
cmd_guest_mac(int argc, char *argv[])
{
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;

    guest_mac(&cfg, "untrusted", GUEST, "02:00:00:00:00:02");
    guest_mac(&cfg, "untrusted", GUEST, GUEST);
    guest_mac(&cfg, "untrusted", GUEST, "01:00:00:00:00:02");
    cfg.trust = true;
    guest_mac(&cfg, "trusted", GUEST, "02:00:00:00:00:02");
    guest_mac(&cfg, "trusted", GUEST, "00:00:00:00:00:00");
    guest_mac(&cfg, "trusted", GUEST, BCAST);
    cfg.admin_mac = mac("02:00:00:00:00:10");
    guest_mac(&cfg, "trusted, admin mac", "02:00:00:00:00:10",
              "02:00:00:00:00:02");
    guest_mac(&cfg, "trusted, admin mac", "02:00:00:00:00:10",
              "02:00:00:00:00:10");
    cfg.trust = false;
    guest_mac(&cfg, "untrusted, admin mac", "02:00:00:00:00:10",
              "02:00:00:00:00:02");
}

/* Random configs and frames. */

static uint64_t prng_state;

static uint32_t
prng(void)
{
    prng_state ^= prng_state >> 12;
    prng_state ^= prng_state << 25;
    prng_state ^= prng_state >> 27;
    return (prng_state * UINT64_C(2685821657736338717)) >> 32;
}

static const char *const rnd_macs[] = {
    GUEST, PEER, "02:00:00:00:00:20", BCAST, "01:00:5e:00:00:01",
};

static void
random_config(struct esw_policy_config *cfg)
{
    esw_policy_config_init(cfg);
    if (prng() % 4 == 0) {
        cfg->admin_mac = mac(rnd_macs[prng() % 3]);
    }
    if (prng() % 3 == 0) {
        cfg->vlan = prng() % 4 + 1;
        cfg->qos = prng() % 8;
        cfg->vlan_proto = prng() % 2 ? ESW_TPID_8021Q : ESW_TPID_8021AD;
    } else if (prng() % 2) {
        esw_policy_config_add_trunk(cfg, prng() % 4 + 1);
        cfg->trunk_untagged = prng() % 2;
    }
    cfg->spoofchk = prng() % 2;
    cfg->promisc = prng() % 2;
    if (prng() % 2) {
        cfg->n_allowed_macs = 1;
        cfg->allowed_macs[0] = mac("02:00:00:00:00:20");
    }
    if (prng() % 4 == 0) {
        cfg->max_tx_rate = prng() % 1000 + 1;
    }
    cfg->link_state = prng() % 5 ? ESW_POLICY_LINK_AUTO : prng() % 3;
}

static void
random_frame(struct frame *f)
{
    static const uint16_t tpids[] = { 0x8100, 0x88a8, 0x0800 };

    /* One prng() call per statement: argument evaluation order is
     * unspecified and differs between compilers. */
    const char *dst = rnd_macs[prng() % 5];
    const char *src = rnd_macs[prng() % 5];

    frame_eth(f, dst, src);
    for (int i = prng() % 4; i > 0; i--) {
        uint16_t tpid = tpids[prng() % 3];
        uint16_t vid = prng() % 6;
        uint16_t pcp = prng() % 8;

        frame_tag(f, tpid, vid | pcp << 13);
    }
    frame_ipv4_udp(f, prng() % 64);
    if (prng() % 4 == 0) {
        f->n = prng() % f->n;
    }
}

static void
cmd_random(int argc, char *argv[])
{
    unsigned long long seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
    unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 0) : 1000;
    unsigned long counts[2][ESW_N_DROP_REASONS + 1] = { { 0 } };

    prng_state = seed * 2 + 1;
    for (unsigned long i = 0; i < n; i++) {
        struct esw_policy_config cfg;
        struct esw_eth_addr ea = mac(rnd_macs[prng() % 3]);
        struct esw_policy *p;

        random_config(&cfg);
        p = esw_policy_create(&cfg, &ea, prng() % 8, NULL);
        CHECK(p);
        for (int j = 0; j < 20; j++) {
            enum esw_drop_reason reason;
            bool ingress = prng() % 2;
            struct pkt_buf pb;
            struct esw_key key;
            struct frame f;

            random_frame(&f);
            if (decide(p, ingress, &f, (uint64_t) j * 100000, &pb, &key,
                       &reason)) {
                counts[ingress][ESW_N_DROP_REASONS]++;
            } else {
                counts[ingress][reason]++;
            }
        }
        esw_policy_destroy(p);
    }
    for (int dir = 1; dir >= 0; dir--) {
        printf("%s: pass %lu", dir ? "ingress" : "egress",
               counts[dir][ESW_N_DROP_REASONS]);
        for (int r = 0; r < ESW_N_DROP_REASONS; r++) {
            if (counts[dir][r]) {
                printf(", %s %lu", esw_drop_reason_name(r), counts[dir][r]);
            }
        }
        printf("\n");
    }
}

/* Speed of the decisions (not part of the suite). */

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
bench_one(const char *name, struct esw_policy_config *cfg, bool ingress,
          const struct frame *f, unsigned long n)
{
    struct esw_eth_addr ea = mac(GUEST);
    struct esw_policy *p = esw_policy_create(cfg, &ea, true, NULL);
    enum esw_drop_reason reason;
    unsigned long passed = 0;
    struct esw_key key0, key;
    struct pkt_buf pb;
    uint64_t start;

    CHECK(p);
    pkt_init(&pb, f);
    esw_parse(pb.pkt.data, pb.pkt.len, VPORT, &key0);
    start = now_ns();
    for (unsigned long i = 0; i < n; i++) {
        /* Reset the packet (a VST push or pop moves 'data'). */
        pb.pkt.data = pb.buf + ESW_PKT_HEADROOM;
        pb.pkt.len = f->n;
        memcpy(pb.pkt.data, f->b, 16);
        key = key0;
        passed += (ingress
                   ? esw_policy_ingress(p, &pb.pkt, &key, start + i * 10,
                                        &reason)
                   : esw_policy_egress(p, &pb.pkt, &key, &reason));
        __asm__ volatile("" : : "r"(&key) : "memory");
    }
    printf("%s: %.2f ns/decision (%lu passed)\n", name,
           (double) (now_ns() - start) / n, passed);
    esw_policy_destroy(p);
}

static void
cmd_bench(int argc, char *argv[])
{
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 10000000;
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;
    struct frame f, ft;

    mk(&f, PEER, GUEST);
    mk1(&ft, GUEST, PEER, 0x8100, 100);

    cfg.spoofchk = true;
    cfg.n_allowed_macs = 4;
    for (int i = 0; i < 4; i++) {
        cfg.allowed_macs[i] = mac("02:00:00:00:01:00");
        cfg.allowed_macs[i].ea[5] = i;
    }
    bench_one("ingress spoofchk (5 macs, hit first)", &cfg, true, &f, n);
    cfg.vlan = 100;
    bench_one("ingress spoofchk + vst push", &cfg, true, &f, n);
    cfg.max_tx_rate = 1000000;
    bench_one("ingress spoofchk + vst + rate", &cfg, true, &f, n);
    cfg.promisc = false;
    bench_one("egress vst pop + promisc off", &cfg, false, &ft, n);
}

int
main(int argc, char *argv[])
{
    static const struct {
        const char *name;
        void (*cb)(int argc, char *argv[]);
    } cmds[] = {
        { "validate", cmd_validate },
        { "noop", cmd_noop },
        { "vst-8021q", cmd_vst_8021q },
        { "vst-8021ad", cmd_vst_8021ad },
        { "trunks", cmd_trunks },
        { "spoof", cmd_spoof },
        { "promisc", cmd_promisc },
        { "link-state", cmd_link_state },
        { "rate", cmd_rate },
        { "rate-threads", cmd_rate_threads },
        { "guest-mac", cmd_guest_mac },
        { "random", cmd_random },
        { "bench", cmd_bench },
    };

    if (argc < 2) {
        fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if (!strcmp(argv[1], cmds[i].name)) {
            cmds[i].cb(argc, argv);
            return 0;
        }
    }
    fprintf(stderr, "%s: unknown command \"%s\"\n", argv[0], argv[1]);
    return 2;
}
