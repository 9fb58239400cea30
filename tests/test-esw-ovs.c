/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The eSwitch against Open vSwitch's own code, on the same packets: the
 * device must rewrite and hash exactly as OVS's userspace datapath does,
 * so that a flow gives the same bytes and the same select-group bucket
 * whether the device or OVS's software path handles a packet.
 *
 *   test-esw-ovs rewrite N SEED
 *       N random frames (IPv4/IPv6 with TCP, UDP, SCTP, ICMP, ICMPv6;
 *       VLAN tags, IP options, extension headers, a routing header with
 *       segments left, fragments, L2 padding, truncated L4 headers, bad
 *       TCP offsets, random checksums including 0 and 0xffff, UDP
 *       checksum 0), each with random set / set_masked datapath actions
 *       of the headers it has.  OVS: odp_execute_actions() on the frame
 *       parsed by flow_extract(), as dpif-netdev runs a flow's actions.
 *       Device: the actions translated by offload_xlate() (the offload
 *       provider's translation) into a rule of a sim eSwitch, the frame
 *       injected and captured.  Prints how many frames of each kind were
 *       compared and how many differed (the first differences in full).
 *
 *   test-esw-ovs hash N SEED
 *       The same frames: esw_hash_rss(), esw_hash_l4() and
 *       esw_hash_sym_l4() against dpif-netdev's RSS hash (miniflow_extract
 *       then miniflow_hash_5tuple), hash_int() and
 *       flow_hash_symmetric_l3l4(), with OVS's vlan-limit 1 and 2.
 *
 *   test-esw-ovs tunnel N SEED
 *       The same frames encapsulated with random VXLAN and Geneve headers
 *       (IPv4 or IPv6, UDP checksum or not, Geneve options): OVS's
 *       netdev_tnl_push_udp_header() with the RSS hash dpif-netdev gives
 *       the frame against esw_pkt_encap(); then the encapsulated frame,
 *       sometimes with a byte changed, popped by OVS's
 *       netdev_vxlan/geneve_pop_header() against esw_pkt_decap(): when
 *       the device pops a frame, OVS must pop it to the same bytes and
 *       metadata; an intact frame both must pop.
 *
 *   test-esw-ovs ct N SEED
 *       N random TCP, UDP and ICMP echo connections over IPv4 and IPv6,
 *       with or without SNAT/DNAT, committed and established by OVS's
 *       conntrack_execute() and added to the device as ovs-ext's provider
 *       adds them; then packets of them both ways through both: a plain
 *       one must be taken by the device with OVS's bytes and ct_state,
 *       a spoiled one (wrong checksum, ICMP code, IPv6 extension header)
 *       must be left to OVS. */

#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conntrack.h"
#include "csum.h"
#include "ct-dpif.h"
#include "dp-packet.h"
#include "flow.h"
#include "hash.h"
#include "netdev-native-tnl.h"
#include "netlink.h"
#include "odp-execute.h"
#include "odp-netlink.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "packets.h"
#include "util.h"

#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#include "ovs-ext/ct-offload.h"
#include "ovs-ext/offload-xlate.h"

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state;

static uint32_t
rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (rng_state * UINT64_C(2685821657736338717)) >> 32;
}

static uint32_t
rnd_below(uint32_t n)
{
    return rnd() % n;
}

static bool
chance(int percent)
{
    return rnd_below(100) < (uint32_t) percent;
}

/* Frames. */

enum frame_kind {
    K_TCP4, K_UDP4, K_SCTP4, K_ICMP4, K_TCP6, K_UDP6, K_SCTP6, K_ICMP6,
    N_KINDS
};

static const char *const kind_names[N_KINDS] = {
    "ipv4/tcp", "ipv4/udp", "ipv4/sctp", "ipv4/icmp",
    "ipv6/tcp", "ipv6/udp", "ipv6/sctp", "ipv6/icmpv6",
};

struct frame {
    uint8_t b[512];
    size_t len;
    enum frame_kind kind;
    bool ipv6;
    uint8_t proto;
};

static void
put(struct frame *f, const void *p, size_t n)
{
    memcpy(f->b + f->len, p, n);
    f->len += n;
}

static void
put8(struct frame *f, uint8_t x)
{
    put(f, &x, 1);
}

static void
put16(struct frame *f, uint16_t x)
{
    uint16_t be = htons(x);

    put(f, &be, 2);
}

static void
put_rand(struct frame *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put8(f, rnd());
    }
}

/* A random checksum, often one of the encodings of zero. */
static uint16_t
rand_csum(void)
{
    switch (rnd_below(8)) {
    case 0: return 0;
    case 1: return 0xffff;
    default: return rnd();
    }
}

/* Builds the L4 header and payload of protocol 'proto' at the end of 'f'
 * ('n_payload' bytes after the header; the header may come out
 * truncated). */
static void
put_l4(struct frame *f, uint8_t proto, size_t n_payload)
{
    size_t start = f->len;

    switch (proto) {
    case IPPROTO_TCP: {
        uint8_t doff = chance(90) ? 5 + rnd_below(3) : rnd_below(16);

        put16(f, rnd());
        put16(f, rnd());
        put_rand(f, 8);
        put8(f, doff << 4);
        put8(f, rnd());
        put16(f, rnd());
        put16(f, rand_csum());
        put16(f, 0);
        if (doff > 5 && doff < 8) {
            put_rand(f, (doff - 5) * 4);
        }
        break;
    }
    case IPPROTO_UDP:
        put16(f, rnd());
        put16(f, rnd());
        put16(f, 8 + n_payload);
        put16(f, chance(30) ? 0 : rand_csum());
        break;
    case IPPROTO_SCTP:
        put16(f, rnd());
        put16(f, rnd());
        put_rand(f, 4);
        put_rand(f, 4);     /* CRC32c: random, a corrupt packet's. */
        break;
    default:                /* ICMP and ICMPv6. */
        put8(f, rnd());
        put8(f, rnd());
        put16(f, rand_csum());
        put_rand(f, 4);
        break;
    }
    put_rand(f, n_payload);
    if (chance(5)) {
        f->len = start + rnd_below(f->len - start);     /* Truncated. */
    }
}

static void
random_frame(struct frame *f)
{
    static const uint8_t protos4[] = { IPPROTO_TCP, IPPROTO_UDP,
                                       IPPROTO_SCTP, IPPROTO_ICMP };
    static const uint8_t protos6[] = { IPPROTO_TCP, IPPROTO_UDP,
                                       IPPROTO_SCTP, IPPROTO_ICMPV6 };
    size_t n_payload = rnd_below(64), l3;
    int n_tags = chance(70) ? 0 : chance(70) ? 1 : 2;

    memset(f, 0, sizeof *f);
    f->kind = rnd_below(N_KINDS);
    f->ipv6 = f->kind >= K_TCP6;
    f->proto = f->ipv6 ? protos6[f->kind - K_TCP6] : protos4[f->kind];

    put_rand(f, 12);
    f->b[0] &= ~1;      /* Unicast. */
    for (int i = 0; i < n_tags; i++) {
        put16(f, chance(50) ? 0x8100 : 0x88a8);
        put16(f, rnd() & 0xefff);
    }
    put16(f, f->ipv6 ? 0x86dd : 0x0800);
    l3 = f->len;

    if (!f->ipv6) {
        int ihl = chance(80) ? 5 : 6 + rnd_below(3);
        uint16_t frag = 0;

        if (chance(10)) {
            frag = (chance(50) ? 0x2000 : 0) | rnd_below(3) * 100;
        } else if (chance(30)) {
            frag = 0x4000;      /* DF. */
        }
        put8(f, 0x40 | ihl);
        put8(f, rnd());
        put16(f, 0);            /* Total length, below. */
        put16(f, rnd());
        put16(f, frag);
        put8(f, rnd());
        put8(f, f->proto);
        put16(f, rand_csum());
        put_rand(f, 8);
        for (int i = 5; i < ihl; i++) {
            put_rand(f, 4);
        }
        put_l4(f, f->proto, n_payload);
        {
            uint16_t tot = f->len - l3;

            if (chance(3)) {
                tot += 1 + rnd_below(8);    /* Beyond the frame: bogus. */
            }
            f->b[l3 + 2] = tot >> 8;
            f->b[l3 + 3] = tot;
        }
    } else {
        uint8_t nh = f->proto;
        size_t plen_ofs;

        put16(f, 0x6000 | rnd_below(0x1000));
        put16(f, rnd());
        plen_ofs = f->len;
        put16(f, 0);
        /* Extension headers, written in reverse below: choose first. */
        uint8_t exts[3];
        int n_ext = chance(60) ? 0 : 1 + rnd_below(3);

        for (int i = 0; i < n_ext; i++) {
            static const uint8_t types[] = { 0, 43, 44, 60, 51 };

            exts[i] = types[rnd_below(sizeof types)];
        }
        put8(f, n_ext ? exts[0] : nh);
        put8(f, rnd());
        put_rand(f, 32);
        for (int i = 0; i < n_ext; i++) {
            uint8_t next = i + 1 < n_ext ? exts[i + 1] : nh;

            switch (exts[i]) {
            case 44:    /* Fragment. */
                put8(f, next);
                put8(f, 0);
                put16(f, chance(30) ? 0 : chance(50) ? 0x0001
                      : (rnd_below(4) << 3) | (rnd() & 1));
                put_rand(f, 4);
                break;
            case 51:    /* AH: length in 4-byte units minus 2. */
                put8(f, next);
                put8(f, 1);
                put_rand(f, 10);
                break;
            case 43:    /* Routing: segments left often nonzero. */
                put8(f, next);
                put8(f, 0);
                put8(f, rnd());
                put8(f, chance(50) ? 0 : 1 + rnd_below(3));
                put_rand(f, 4);
                break;
            default:
                put8(f, next);
                put8(f, 0);
                put_rand(f, 6);
                break;
            }
        }
        put_l4(f, f->proto, n_payload);
        {
            uint16_t plen = f->len - l3 - 40;

            if (chance(3)) {
                plen += 1 + rnd_below(8);
            }
            f->b[plen_ofs] = plen >> 8;
            f->b[plen_ofs + 1] = plen;
        }
    }
    if (chance(20)) {
        put_rand(f, 1 + rnd_below(20));     /* L2 padding. */
    }
    if (f->len < 60) {
        memset(f->b + f->len, 0, 60 - f->len);
        f->len = 60;
    }
}

/* Random datapath set actions for 'f', appended to 'actions'. */
static void
random_value_mask(void *value_, void *mask_, size_t n, bool masked)
{
    uint8_t *value = value_, *mask = mask_;

    for (size_t i = 0; i < n; i++) {
        mask[i] = !masked ? 0xff
                  : chance(40) ? 0 : chance(50) ? 0xff : rnd();
        value[i] = rnd() & mask[i];
    }
}

static void
put_set(struct ofpbuf *actions, enum ovs_key_attr type, void *value,
        void *mask, size_t size, bool masked)
{
    size_t ofs = nl_msg_start_nested(actions, (masked
                                               ? OVS_ACTION_ATTR_SET_MASKED
                                               : OVS_ACTION_ATTR_SET));
    uint8_t key[2 * sizeof(struct ovs_key_ipv6)];

    memcpy(key, value, size);
    memcpy(key + size, mask, size);
    nl_msg_put_unspec(actions, type, key, masked ? 2 * size : size);
    nl_msg_end_nested(actions, ofs);
}

static void
random_actions(const struct frame *f, struct ofpbuf *actions)
{
    int n = 1 + rnd_below(3);

    for (int i = 0; i < n; i++) {
        bool masked = chance(70);

        switch (rnd_below(3)) {
        case 0: {
            struct ovs_key_ethernet v, m;

            random_value_mask(&v, &m, sizeof v, masked);
            v.eth_src.ea[0] &= ~1;  /* The device sets no multicast source
                                     * address (it refuses the rule). */
            put_set(actions, OVS_KEY_ATTR_ETHERNET, &v, &m, sizeof v, masked);
            break;
        }
        case 1:
            if (!f->ipv6) {
                struct ovs_key_ipv4 v, m;

                random_value_mask(&v, &m, sizeof v, masked);
                m.ipv4_proto = m.ipv4_frag = 0;
                v.ipv4_proto = v.ipv4_frag = 0;
                put_set(actions, OVS_KEY_ATTR_IPV4, &v, &m, sizeof v, masked);
            } else {
                struct ovs_key_ipv6 v, m;

                random_value_mask(&v, &m, sizeof v, masked);
                m.ipv6_proto = m.ipv6_frag = 0;
                v.ipv6_proto = v.ipv6_frag = 0;
                m.ipv6_label &= htonl(IPV6_LABEL_MASK);
                v.ipv6_label &= m.ipv6_label;
                put_set(actions, OVS_KEY_ATTR_IPV6, &v, &m, sizeof v, masked);
            }
            break;
        default:
            if (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6) {
                struct ovs_key_icmp v, m;

                random_value_mask(&v, &m, sizeof v, false);
                put_set(actions, (f->ipv6 ? OVS_KEY_ATTR_ICMPV6
                                  : OVS_KEY_ATTR_ICMP),
                        &v, &m, sizeof v, false);
            } else {
                struct ovs_key_tcp v, m;

                random_value_mask(&v, &m, sizeof v, masked);
                put_set(actions, (f->proto == IPPROTO_TCP ? OVS_KEY_ATTR_TCP
                                  : f->proto == IPPROTO_UDP ? OVS_KEY_ATTR_UDP
                                  : OVS_KEY_ATTR_SCTP),
                        &v, &m, sizeof v, masked);
            }
            break;
        }
    }
}

/* The device. */

static struct esw_dev *dev;
static uint32_t vport_in, vport_out;
static struct esw_rule *rule;

static bool
resolve(odp_port_t port OVS_UNUSED, void *aux OVS_UNUSED,
        struct esw_dev **devp, uint32_t *vportp,
        char name[OFFLOAD_PORT_NAME_MAX] OVS_UNUSED)
{
    *devp = dev;
    *vportp = vport_out;
    return true;
}

static void
open_device(void)
{
    static const struct esw_io_config capture = { .type = ESW_IO_CAPTURE };
    struct esw_vport_config vc = {
        .kind = ESW_VPORT_VF, .vport = ESW_VPORT_AUTO, .io = &capture,
    };
    struct esw_error err;

    if (esw_dev_open("ovstest0", "sim", NULL, &dev)
        || esw_vport_add(dev, &vc, &err, &vport_in)) {
        ovs_fatal(0, "cannot create the device");
    }
    vc.fn = 1;
    if (esw_vport_add(dev, &vc, &err, &vport_out)) {
        ovs_fatal(0, "cannot create the device: %s", err.reason);
    }
}

/* Runs 'f' through the device with the rule translated from 'actions'
 * (plus an output).  Returns false if the translation is refused. */
static bool
device_run(const struct frame *f, const struct ofpbuf *actions,
           uint8_t *out, size_t *out_len, struct ds *why)
{
    struct offload_xlate_ctx ctx = {
        .dev = dev, .in_vport = vport_in, .resolve = resolve,
    };
    struct esw_rule_spec spec;
    struct ofpbuf with_output;
    struct esw_error err;
    struct esw_pkt *pkt;
    struct match match;

    ofpbuf_init(&with_output, actions->size + 16);
    ofpbuf_put(&with_output, actions->data, actions->size);
    nl_msg_put_odp_port(&with_output, OVS_ACTION_ATTR_OUTPUT, u32_to_odp(1));
    match_init_catchall(&match);
    if (offload_xlate(&ctx, &match, with_output.data, with_output.size,
                      &spec, why) != OFFLOAD_OK) {
        ofpbuf_uninit(&with_output);
        return false;
    }
    ofpbuf_uninit(&with_output);
    if (rule ? esw_rule_modify(dev, rule, &spec, &err)
        : esw_rule_add(dev, &spec, &err, &rule)) {
        ds_put_format(why, "device: %s", err.reason);
        return false;
    }
    pkt = esw_pkt_from_data(f->b, f->len);
    if (esw_host_inject(dev, vport_in, pkt)
        || esw_dev_wait_idle(dev, 10000)
        || esw_host_capture_read(dev, vport_out, &pkt, 1) != 1) {
        ovs_fatal(0, "the device did not deliver the frame");
    }
    memcpy(out, pkt->data, pkt->len);
    *out_len = pkt->len;
    esw_pkt_free(pkt);
    return true;
}

static void
ovs_run(const struct frame *f, const struct ofpbuf *actions, uint8_t *out,
        size_t *out_len)
{
    struct dp_packet *p = dp_packet_clone_data(f->b, f->len);
    struct dp_packet_batch batch;
    struct flow flow;

    flow_extract(p, &flow);
    dp_packet_batch_init_packet(&batch, p);
    odp_execute_actions(NULL, &batch, false, actions->data, actions->size,
                        NULL);
    memcpy(out, dp_packet_data(p), dp_packet_size(p));
    *out_len = dp_packet_size(p);
    dp_packet_delete(p);
}

static void
put_hex(struct ds *s, const char *what, const uint8_t *b, size_t n)
{
    ds_put_format(s, "  %s:", what);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, "%s%02x", i % 32 ? "" : "\n    ", b[i]);
    }
    ds_put_char(s, '\n');
}

static int
test_rewrite(unsigned int n, uint64_t seed)
{
    unsigned int compared[N_KINDS] = { 0 }, refused = 0, n_diff = 0;
    unsigned int changed = 0;

    rng_state = seed | 1;
    flow_vlan_limit = ESW_MAX_VLANS;
    odp_execute_init();
    open_device();
    for (unsigned int i = 0; i < n; i++) {
        uint8_t hw[512], sw[512];
        size_t hw_len, sw_len;
        struct ds why = DS_EMPTY_INITIALIZER;
        struct ofpbuf actions;
        struct frame f;

        random_frame(&f);
        ofpbuf_init(&actions, 0);
        random_actions(&f, &actions);
        ovs_run(&f, &actions, sw, &sw_len);
        if (!device_run(&f, &actions, hw, &hw_len, &why)) {
            struct ds s = DS_EMPTY_INITIALIZER;

            format_odp_actions(&s, actions.data, actions.size, NULL);
            fprintf(stderr, "refused: %s: %s\n", ds_cstr(&s), ds_cstr(&why));
            ds_destroy(&s);
            refused++;
        } else if (hw_len != sw_len || memcmp(hw, sw, sw_len)) {
            if (n_diff++ < 5) {
                struct ds s = DS_EMPTY_INITIALIZER;

                ds_put_format(&s, "difference (%s), actions ",
                              kind_names[f.kind]);
                format_odp_actions(&s, actions.data, actions.size, NULL);
                ds_put_char(&s, '\n');
                put_hex(&s, "frame", f.b, f.len);
                put_hex(&s, "ovs", sw, sw_len);
                put_hex(&s, "device", hw, hw_len);
                fputs(ds_cstr(&s), stderr);
                ds_destroy(&s);
            }
        } else {
            compared[f.kind]++;
            changed += memcmp(sw, f.b, f.len) != 0;
        }
        ds_destroy(&why);
        ofpbuf_uninit(&actions);
    }
    printf("rewrite: %u frames:", n);
    for (int k = 0; k < N_KINDS; k++) {
        printf(" %s %s", kind_names[k], compared[k] ? "ok" : "none");
    }
    printf("\n");
    printf("translation refused: %u, differences: %u\n", refused, n_diff);
    /* Most frames must actually change, or the test proves little. */
    printf("frames changed by the actions: %s\n",
           changed > n / 2 ? "most" : "few");
    esw_rule_del(dev, rule);
    esw_dev_close(dev);
    return n_diff || refused ? 1 : 0;
}

static int
test_hash(unsigned int n, uint64_t seed)
{
    unsigned int n_diff = 0;

    rng_state = seed | 1;
    for (unsigned int i = 0; i < n; i++) {
        int limit = 1 + (i & 1);
        uint32_t basis = chance(50) ? 0 : rnd();
        struct dp_packet *p;
        uint32_t rss, esw_rss;
        struct frame f;
        struct flow flow;

        random_frame(&f);
        flow_vlan_limit = limit;
        p = dp_packet_clone_data(f.b, f.len);
        flow_extract(p, &flow);
        /* dfc_processing(): miniflow_extract() set it for TCP and UDP;
         * miniflow_hash_5tuple() gives the same as flow_hash_5tuple(). */
        rss = (dp_packet_rss_valid(p) ? dp_packet_get_rss_hash(p)
               : flow_hash_5tuple(&flow, 0));
        esw_rss = esw_hash_rss(f.b, f.len, limit);
        if (rss != esw_rss
            || hash_int(rss, basis) != esw_hash_l4(esw_rss, basis)
            || (flow_hash_symmetric_l3l4(&flow, basis, false)
                != esw_hash_sym_l4(f.b, f.len, limit, basis))) {
            if (n_diff++ < 5) {
                struct ds s = DS_EMPTY_INITIALIZER;

                ds_put_format(&s, "hash difference (%s, vlan-limit %d, "
                              "basis %#"PRIx32"): rss %#"PRIx32"/%#"PRIx32
                              ", sym %#"PRIx32"/%#"PRIx32"\n",
                              kind_names[f.kind], limit, basis, rss, esw_rss,
                              flow_hash_symmetric_l3l4(&flow, basis, false),
                              esw_hash_sym_l4(f.b, f.len, limit, basis));
                put_hex(&s, "frame", f.b, f.len);
                fputs(ds_cstr(&s), stderr);
                ds_destroy(&s);
            }
        }
        dp_packet_delete(p);
    }
    printf("hash: %u frames, vlan-limit 1 and 2: rss, l4, sym_l4: "
           "%u differences\n", n, n_diff);
    return n_diff ? 1 : 0;
}

/* A random tunnel header for 'f', as OVS's *_build_header() make them,
 * into 'data' and 'e'. */
static void
random_tunnel(struct ovs_action_push_tnl *data, struct esw_encap *e)
{
    bool ipv6 = chance(30), geneve = chance(50);
    bool udp_csum = ipv6 || chance(30);
    struct frame h = { .len = 0 };
    size_t ip_ofs, opts_len = 0;

    put_rand(&h, 12);
    h.b[0] &= ~1;                       /* Unicast. */
    put16(&h, ipv6 ? 0x86dd : 0x0800);
    ip_ofs = h.len;
    if (ipv6) {
        uint8_t tc = rnd();

        put8(&h, 0x60 | tc >> 4);
        put8(&h, tc << 4);
        put16(&h, 0);
        put16(&h, 0);                   /* Payload length. */
        put8(&h, 17);
        put8(&h, 1 + rnd_below(255));
        put_rand(&h, 32);
    } else {
        uint16_t ip_csum;

        put8(&h, 0x45);
        put8(&h, rnd());
        put16(&h, 0);                   /* Total length. */
        put16(&h, 0);
        put16(&h, chance(50) ? 0x4000 : 0);
        put8(&h, 1 + rnd_below(255));
        put8(&h, 17);
        put16(&h, 0);
        put_rand(&h, 8);
        ip_csum = csum(h.b + ip_ofs, 20);
        memcpy(h.b + ip_ofs + 10, &ip_csum, 2);
    }
    put16(&h, 0);                       /* Source port. */
    put16(&h, geneve ? 6081 : 4789);
    put16(&h, 0);                       /* Length. */
    put16(&h, udp_csum ? 0xffff : 0);
    if (geneve) {
        size_t room = ESW_ENCAP_HEADER_MAX - h.len - 8;

        while (chance(60) && opts_len + 8 <= room) {
            opts_len += 4 * (1 + rnd_below(MIN(8, (room - opts_len) / 4)));
        }
        put8(&h, opts_len / 4);
        put8(&h, chance(10) ? 0x80 : 0);
        put16(&h, 0x6558);
        put_rand(&h, 3);
        put8(&h, 0);
        put_rand(&h, opts_len);
    } else {
        put8(&h, 0x08);
        put8(&h, 0);
        put16(&h, 0);
        put_rand(&h, 3);
        put8(&h, 0);
    }
    memset(data, 0, sizeof *data);
    memcpy(data->header, h.b, h.len);
    data->header_len = h.len;
    data->tnl_type = geneve ? OVS_VPORT_TYPE_GENEVE : OVS_VPORT_TYPE_VXLAN;
    memset(e, 0, sizeof *e);
    e->type = geneve ? ESW_TUNNEL_GENEVE : ESW_TUNNEL_VXLAN;
    e->header_len = h.len;
    e->max_vlans = 1;
    e->port_min = tnl_udp_port_min;
    e->port_max = tnl_udp_port_max;
    memcpy(e->header, h.b, h.len);
}

/* Whether OVS's popped metadata 'tnl' is the device's 'k'. */
static bool
tunnel_md_equal(const struct flow_tnl *tnl, const struct esw_key *k)
{
    bool ipv6 = k->tun_flags & ESW_TUN_F_IPV6;
    uint8_t opts_len = (tnl->flags & FLOW_TNL_F_UDPIF
                        ? tnl->metadata.present.len : 0);

    return (!memcmp(&tnl->tun_id, &k->tun_id, 8)
            && (ipv6
                ? (!memcmp(&tnl->ipv6_src, &k->tun_src.ip6, 16)
                   && !memcmp(&tnl->ipv6_dst, &k->tun_dst.ip6, 16))
                : (tnl->ip_src == k->tun_src.ip4
                   && tnl->ip_dst == k->tun_dst.ip4))
            && tnl->ip_tos == k->tun_tos && tnl->ip_ttl == k->tun_ttl
            && tnl->tp_src == k->tun_tp_src && tnl->tp_dst == k->tun_tp_dst
            && (tnl->flags & FLOW_TNL_F_MASK)
               == (k->tun_flags & ~ESW_TUN_F_IPV6)
            && opts_len == k->tun_opts_len
            && !memcmp(tnl->metadata.opts.u8, k->tun_opts,
                       MIN(opts_len, ESW_TUN_OPTS_MAX)));
}

static int
test_tunnel(unsigned int n, uint64_t seed)
{
    unsigned int n_diff = 0, popped = 0, left = 0, v6 = 0, geneve = 0;

    rng_state = seed | 1;
    flow_vlan_limit = 1;
    for (unsigned int i = 0; i < n && n_diff < 5; i++) {
        struct ovs_action_push_tnl data;
        struct dp_packet *p, *q;
        struct esw_pkt *pkt;
        struct esw_decap d;
        struct esw_encap e;
        struct esw_key md;
        struct flow flow;
        struct frame f;
        bool ovs_ok, esw_ok;

        random_frame(&f);
        random_tunnel(&data, &e);
        v6 += e.header[12] == 0x86;
        geneve += e.type == ESW_TUNNEL_GENEVE;

        /* Encapsulation. */
        p = dp_packet_clone_data_with_headroom(f.b, f.len, 256);
        flow_extract(p, &flow);
        dp_packet_set_rss_hash(p, dp_packet_rss_valid(p)
                               ? dp_packet_get_rss_hash(p)
                               : flow_hash_5tuple(&flow, 0));
        netdev_tnl_push_udp_header(NULL, p, &data);
        pkt = esw_pkt_from_data(f.b, f.len);
        if (esw_pkt_encap(&pkt, &e, esw_hash_rss(f.b, f.len, 1))
            || pkt->len != dp_packet_size(p)
            || memcmp(pkt->data, dp_packet_data(p), pkt->len)) {
            struct ds s = DS_EMPTY_INITIALIZER;

            ds_put_format(&s, "encap difference (%s)\n", kind_names[f.kind]);
            put_hex(&s, "ovs", dp_packet_data(p), dp_packet_size(p));
            put_hex(&s, "device", pkt->data, pkt->len);
            fputs(ds_cstr(&s), stderr);
            ds_destroy(&s);
            n_diff++;
            esw_pkt_free(pkt);
            dp_packet_delete(p);
            continue;
        }

        /* Decapsulation, of the frame or of a damaged copy. */
        if (chance(30)) {
            size_t at = rnd_below(MIN(pkt->len, e.header_len + 8));

            pkt->data[at] ^= 1 << rnd_below(8);
        }
        q = dp_packet_clone_data(pkt->data, pkt->len);
        flow_extract(q, &flow);
        q = (e.type == ESW_TUNNEL_VXLAN ? netdev_vxlan_pop_header(q)
             : netdev_geneve_pop_header(q));
        ovs_ok = q != NULL;
        memset(&md, 0, sizeof md);
        d = (struct esw_decap) { .type = e.type, .max_vlans = 1,
                                 .tun_port = 1 };
        esw_ok = !esw_pkt_decap(pkt, &d, &md);
        if (esw_ok && (!ovs_ok || dp_packet_size(q) != pkt->len
                       || memcmp(dp_packet_data(q), pkt->data, pkt->len)
                       || !tunnel_md_equal(&q->md.tunnel, &md))) {
            fprintf(stderr, "decap difference (%s): ovs %s\n",
                    kind_names[f.kind], ovs_ok ? "popped" : "did not pop");
            n_diff++;
        } else if (!esw_ok && ovs_ok
                   && !memcmp(dp_packet_data(p), pkt->data, pkt->len)) {
            fprintf(stderr, "decap refused an intact frame (%s)\n",
                    kind_names[f.kind]);
            n_diff++;
        }
        popped += esw_ok;
        left += !esw_ok;
        dp_packet_delete(q);
        esw_pkt_free(pkt);
        dp_packet_delete(p);
    }
    printf("tunnel: %u frames (ipv6 outer: %s, geneve: %s): %u differences\n",
           n, v6 > n / 5 ? "many" : "few", geneve > n / 3 ? "many" : "few",
           n_diff);
    printf("popped by the device: %s, left to OVS: %s\n",
           popped > n / 2 ? "most" : "few", left ? "some" : "none");
    return n_diff ? 1 : 0;
}

/* ct: OVS's userspace conntrack against the device's connection table. */

/* A frame of 'proto' over IPv4 or IPv6 ('v6') with tuple 't' (the
 * device's: addresses, ports or ICMP id and type), TCP flags 'tcp_flags',
 * 'payload' bytes, checksums right (OVS's flow_compose(); an ICMP echo's
 * id and sequence number 'seq' added and its checksum computed again); a
 * UDP checksum of 0 if 'udp_zero'. */
static struct dp_packet *
ct_frame(bool v6, uint8_t proto, const struct esw_ct_tuple *t,
         uint16_t tcp_flags, size_t payload, bool udp_zero, uint16_t seq)
{
    struct dp_packet *p = dp_packet_new(0);
    bool icmp = proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
    struct flow flow;

    memset(&flow, 0, sizeof flow);
    flow.dl_src = (struct eth_addr) { { { 0x02, 0, 0, 0, 0, 1 } } };
    flow.dl_dst = (struct eth_addr) { { { 0x02, 0, 0, 0, 0, 2 } } };
    if (v6) {
        flow.dl_type = htons(ETH_TYPE_IPV6);
        flow.ipv6_src = t->src.ip6;
        flow.ipv6_dst = t->dst.ip6;
    } else {
        flow.dl_type = htons(ETH_TYPE_IP);
        flow.nw_src = t->src.ip4;
        flow.nw_dst = t->dst.ip4;
    }
    flow.nw_proto = proto;
    flow.nw_ttl = 64;
    if (icmp) {
        flow.tp_src = htons(t->icmp_type);
        flow.tp_dst = htons(t->icmp_code);
    } else {
        flow.tp_src = t->src_port;
        flow.tp_dst = t->dst_port;
    }
    flow.tcp_flags = htons(tcp_flags);
    flow_compose(p, &flow, NULL, payload);
    if (proto == IPPROTO_UDP && udp_zero) {
        struct udp_header *uh = dp_packet_l4(p);

        uh->udp_csum = 0;
    } else if (icmp) {
        uint8_t *ih = dp_packet_l4(p);
        size_t len = dp_packet_l4_size(p);
        ovs_be16 c;

        memcpy(ih + 4, &t->icmp_id, 2);
        put_unaligned_be16((ovs_be16 *) (ih + 6), htons(seq));
        memset(ih + 2, 0, 2);
        c = (v6 ? packet_csum_upperlayer6(dp_packet_l3(p), ih,
                                          IPPROTO_ICMPV6, len)
             : csum(ih, len));
        memcpy(ih + 2, &c, 2);
    }
    return p;
}

/* 'p' with an empty IPv6 hop-by-hop options header (PadN) before its L4
 * header: OVS's conntrack tracks it, the device leaves it to OVS. */
static struct dp_packet *
ct_add_hopopts(struct dp_packet *p)
{
    static const uint8_t padn[6] = { 1, 4, 0, 0, 0, 0 };
    size_t l3 = (char *) dp_packet_l3(p) - (char *) dp_packet_data(p);
    const uint8_t *old = dp_packet_data(p);
    struct dp_packet *q = dp_packet_new(dp_packet_size(p) + 8);
    struct ovs_16aligned_ip6_hdr *ip6;
    uint8_t hdr[2];

    dp_packet_put(q, old, l3 + 40);
    hdr[0] = old[l3 + 6];
    hdr[1] = 0;
    dp_packet_put(q, hdr, 2);
    dp_packet_put(q, padn, sizeof padn);
    dp_packet_put(q, old + l3 + 40, dp_packet_size(p) - l3 - 40);
    ip6 = (struct ovs_16aligned_ip6_hdr *) ((uint8_t *) dp_packet_data(q)
                                            + l3);
    ip6->ip6_nxt = IPPROTO_HOPOPTS;
    ip6->ip6_plen = htons(ntohs(ip6->ip6_plen) + 8);
    dp_packet_delete(p);
    return q;
}

/* Runs 'p' (taken) through OVS's conntrack: ct(zone, [commit], [nat]).
 * Returns the packet and its ct_state. */
static struct dp_packet *
ct_ovs(struct conntrack *ct, struct dp_packet *p, uint16_t zone, bool commit,
       const struct nat_action_info_t *nat, uint8_t *ct_state)
{
    struct dp_packet_batch batch;
    struct flow flow;

    flow_extract(p, &flow);
    pkt_metadata_init(&p->md, u32_to_odp(1));
    dp_packet_batch_init_packet(&batch, p);
    conntrack_execute(ct, &batch, flow.dl_type, false, commit, zone,
                      NULL, NULL, 0, 0, NULL, nat, time_msec(), 0);
    *ct_state = p->md.ct_state;
    return p;
}

/* A random address of family 'v6' in 'prefix' (IPv4: its first byte;
 * IPv6: its first two). */
static void
ct_rand_addr(bool v6, uint16_t prefix, union esw_ip_addr *a)
{
    memset(a, 0, sizeof *a);
    if (v6) {
        put_unaligned_be16((ovs_be16 *) a->ip6.s6_addr, htons(prefix));
        for (int i = 2; i < 16; i++) {
            a->ip6.s6_addr[i] = chance(50) ? 0 : rnd();
        }
    } else {
        a->ip4 = htonl((uint32_t) prefix << 24 | (rnd() & 0xffffff));
    }
}

/* What a packet of an established connection is made into. */
enum ct_odd {
    CT_PLAIN,           /* Nothing: the device must take it as OVS. */
    CT_BAD_CSUM,        /* A wrong L4 checksum: OVS's +inv. */
    CT_ICMP_CODE,       /* An echo with code 1: OVS's +inv. */
    CT_HOPOPTS,         /* An IPv6 extension header: OVS's. */
};

static int
test_ct(unsigned int n, uint64_t seed)
{
    unsigned int n_pkts = 0, n_diff = 0, n_nat = 0, n_tcp = 0, n_icmp = 0;
    unsigned int n_v6 = 0, n_odd = 0;
    struct esw_rule *r0 = NULL, *r1 = NULL;
    struct esw_rule_spec spec;
    struct esw_error err;

    rng_state = seed;
    open_device();
    memset(&spec, 0, sizeof spec);
    spec.match.chain = 1;
    spec.mask.chain = UINT32_MAX;
    spec.actions[0].type = ESW_ACTION_OUTPUT;
    spec.actions[0].vport = vport_out;
    spec.n_actions = 1;
    if (esw_rule_add(dev, &spec, &err, &r1)) {
        ovs_fatal(0, "chain 1 rule: %s", err.reason);
    }
    for (unsigned int i = 0; i < n; i++) {
        struct conntrack *ct = conntrack_init();
        bool v6 = chance(40);
        uint8_t icmp_proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
        uint32_t which = rnd_below(10);
        uint8_t proto = (which < 4 ? IPPROTO_TCP : which < 7 ? IPPROTO_UDP
                         : icmp_proto);
        bool icmp = proto == icmp_proto;
        uint16_t zone = rnd_below(4);
        bool action_nat = chance(80);
        struct nat_action_info_t nat, *natp = NULL;
        struct conntrack_dump dump;
        struct esw_ct_tuple first;
        struct ct_dpif_entry e;
        struct esw_ct_spec cs;
        struct esw_ct *dct;
        struct dp_packet *p;
        uint8_t state;
        int tot_bkts;

        conntrack_set_tcp_seq_chk(ct, false);
        memset(&first, 0, sizeof first);
        ct_rand_addr(v6, v6 ? 0xfd00 : 10, &first.src);
        ct_rand_addr(v6, v6 ? 0xfd00 : 10, &first.dst);
        if (icmp) {
            first.icmp_id = htons(rnd());
            first.icmp_type = v6 ? ICMP6_ECHO_REQUEST : ICMP4_ECHO_REQUEST;
        } else {
            first.src_port = htons(1 + rnd_below(65535));
            first.dst_port = htons(1 + rnd_below(65535));
        }
        memset(&nat, 0, sizeof nat);
        switch (rnd_below(5)) {
        case 0:
            break;
        case 1: case 2:
            nat.nat_action = NAT_ACTION_SRC;
            break;
        default:
            nat.nat_action = NAT_ACTION_DST;
            break;
        }
        if (nat.nat_action) {
            union esw_ip_addr addr;

            ct_rand_addr(v6, v6 ? 0x2001 : 192, &addr);
            if (v6) {
                nat.min_addr.ipv6 = nat.max_addr.ipv6 = addr.ip6;
            } else {
                nat.min_addr.ipv4 = nat.max_addr.ipv4 = addr.ip4;
            }
            /* A port range: OVS translates no ICMP id for it. */
            if (chance(50)) {
                nat.nat_action |= (nat.nat_action == NAT_ACTION_SRC
                                   ? NAT_ACTION_SRC_PORT
                                   : NAT_ACTION_DST_PORT);
                nat.min_port = nat.max_port = 1024 + rnd_below(60000);
            }
            natp = &nat;
            n_nat++;
        }
        n_tcp += proto == IPPROTO_TCP;
        n_icmp += icmp;
        n_v6 += v6;

        /* OVS commits the connection and sees it established (an echo
         * request and its reply). */
        p = ct_ovs(ct, ct_frame(v6, proto, &first, TCP_SYN, 0, false, 1),
                   zone, true, natp, &state);
        dp_packet_delete(p);
        if (conntrack_dump_start(ct, &dump, NULL, &tot_bkts)
            || conntrack_dump_next(&dump, &e)) {
            ovs_fatal(0, "no connection committed");
        }
        conntrack_dump_done(&dump);

        /* The device holds it, as ovs-ext's provider adds it. */
        memset(&cs, 0, sizeof cs);
        cs.zone = e.zone;
        cs.nat = nat.nat_action;
        cs.ipv6 = v6;
        ct_offload_tuple_to_esw(&e.tuple_orig, &cs.orig);
        ct_offload_tuple_to_esw(&e.tuple_reply, &cs.reply);
        ct_dpif_entry_uninit(&e);
        p = ct_ovs(ct, ct_frame(v6, proto, &cs.reply, TCP_SYN | TCP_ACK, 0,
                                false, 1),
                   zone, false, natp, &state);
        dp_packet_delete(p);
        if (!(state & CS_ESTABLISHED)) {
            ovs_fatal(0, "OVS did not see the connection established");
        }
        if (esw_ct_add(dev, &cs, &err, &dct)) {
            ovs_fatal(0, "esw_ct_add: %s", err.reason);
        }
        memset(&spec, 0, sizeof spec);
        spec.actions[0].type = ESW_ACTION_CT;
        spec.actions[0].ct.zone = zone;
        spec.actions[0].ct.nat = action_nat;
        spec.actions[1].type = ESW_ACTION_RECIRC;
        spec.actions[1].chain = 1;
        spec.n_actions = 2;
        if (r0 ? esw_rule_modify(dev, r0, &spec, &err)
            : esw_rule_add(dev, &spec, &err, &r0)) {
            ovs_fatal(0, "chain 0 rule: %s", err.reason);
        }

        for (int k = 0; k < 6; k++) {
            bool reply = chance(50);
            const struct esw_ct_tuple *t = reply ? &cs.reply : &cs.orig;
            bool udp_zero = proto == IPPROTO_UDP && chance(30);
            /* A zero UDP checksum is none over IPv4, wrong over IPv6. */
            enum ct_odd odd = udp_zero && v6 ? CT_BAD_CSUM : CT_PLAIN;
            struct dp_packet *in;
            struct esw_pkt *pkt;
            struct esw_trace tr;
            bool taken, same;

            in = ct_frame(v6, proto, t,
                          TCP_ACK | (chance(50) ? TCP_PSH : 0),
                          rnd_below(40), udp_zero, 2 + k);
            if (!odd && chance(15)) {
                uint8_t *l4 = dp_packet_l4(in);
                uint32_t r = rnd_below(3);

                if (r == 0) {
                    odd = CT_BAD_CSUM;
                    l4[proto == IPPROTO_TCP ? 17 : proto == IPPROTO_UDP ? 7
                       : 3] ^= 0x10;
                } else if (r == 1 && icmp) {
                    odd = CT_ICMP_CODE;
                    l4[1] = 1;
                    l4[3] -= 1;         /* The checksum stays right. */
                } else if (v6) {
                    odd = CT_HOPOPTS;
                    in = ct_add_hopopts(in);
                }
            }
            pkt = esw_pkt_from_data(dp_packet_data(in), dp_packet_size(in));
            if (esw_trace_packet(dev, vport_in, pkt, &tr)) {
                ovs_fatal(0, "trace failed");
            }
            esw_pkt_free(tr.to_representor);
            taken = tr.verdict == ESW_TRACE_HIT && tr.n_stages == 2;
            if (taken && (esw_host_inject(dev, vport_in, pkt)
                          || esw_dev_wait_idle(dev, 10000)
                          || esw_host_capture_read(dev, vport_out, &pkt,
                                                   1) != 1)) {
                ovs_fatal(0, "the device did not deliver the frame");
            }
            p = ct_ovs(ct, in, zone, false, action_nat ? &nat : NULL,
                       &state);
            /* A plain packet is the device's, exactly as OVS makes it;
             * any other goes to OVS untouched. */
            same = (odd == CT_PLAIN
                    ? (taken && pkt->len == dp_packet_size(p)
                       && !memcmp(pkt->data, dp_packet_data(p), pkt->len)
                       && state == tr.stages[1].key.ct_state)
                    : !taken);
            if (!same && n_diff++ < 5) {
                static const char *const odd_names[] = {
                    "plain", "bad checksum", "icmp code 1", "hop-by-hop",
                };
                struct ds s = DS_EMPTY_INITIALIZER;

                ds_put_format(&s, "difference: %s %s %s %s nat %#x, "
                              "ct_state ovs %#x device %s %#x\n",
                              v6 ? "ipv6" : "ipv4",
                              (proto == IPPROTO_TCP ? "tcp"
                               : proto == IPPROTO_UDP ? "udp" : "icmp"),
                              reply ? "reply" : "orig", odd_names[odd],
                              cs.nat, state, taken ? "took it" : "missed",
                              taken ? tr.stages[1].key.ct_state : 0);
                put_hex(&s, "ovs", dp_packet_data(p), dp_packet_size(p));
                if (taken) {
                    put_hex(&s, "device", pkt->data, pkt->len);
                }
                fputs(ds_cstr(&s), stdout);
                ds_destroy(&s);
            }
            n_pkts++;
            n_odd += odd != CT_PLAIN;
            esw_pkt_free(pkt);
            dp_packet_delete(p);
        }
        esw_ct_del(dev, dct);
        conntrack_destroy(ct);
    }
    printf("ct: %u connections (tcp: %s, icmp: %s, ipv6: %s, nat: %s), %u "
           "established packets (left to OVS: %s): %u differences\n", n,
           n_tcp > n / 4 ? "many" : "few", n_icmp > n / 5 ? "many" : "few",
           n_v6 > n / 4 ? "many" : "few", n_nat > n / 4 ? "many" : "few",
           n_pkts, n_odd > n_pkts / 20 ? "some" : "few", n_diff);
    esw_rule_del(dev, r0);
    esw_rule_del(dev, r1);
    return n_diff ? 1 : 0;
}

int
main(int argc, char *argv[])
{
    unsigned int n;
    uint64_t seed;

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    if (argc != 4) {
        fprintf(stderr, "usage: %s rewrite|hash|tunnel|ct N SEED\n", argv[0]);
        return 2;
    }
    n = strtoul(argv[2], NULL, 0);
    seed = strtoull(argv[3], NULL, 0);
    if (!strcmp(argv[1], "rewrite")) {
        return test_rewrite(n, seed);
    } else if (!strcmp(argv[1], "hash")) {
        return test_hash(n, seed);
    } else if (!strcmp(argv[1], "tunnel")) {
        return test_tunnel(n, seed);
    } else if (!strcmp(argv[1], "ct")) {
        return test_ct(n, seed);
    }
    fprintf(stderr, "usage: %s rewrite|hash|tunnel|ct N SEED\n", argv[0]);
    return 2;
}
