/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Unit tests of the eSwitch packet parser and rewrites.
 *
 *   test-esw-packet parse           parse hand-built frames, print keys
 *   test-esw-packet truncate        every prefix of TCP/IPv6 and TCP/IPv4
 *                                   frames: ranges of lengths and their key
 *   test-esw-packet vlan            push/pop round trips and errors
 *   test-esw-packet random SEED N   N mutated frames: invariants only
 *   test-esw-packet drop-reasons    names of the drop reasons
 *   test-esw-packet bench [N]       parse speed (not part of the suite)
 *
 * Exits 1 on the first failed check, with a message on stderr. */

#include "datapath/packet/esw-packet.h"
#include "datapath/packet/esw-packet-format.h"
#include "tests/unit-check.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Frame builder. */

struct frame {
    uint8_t b[1024];
    size_t n;
    size_t l3;                  /* Offset of the last IP header. */
    int l3_type;                /* 4, 6 or 0. */
};

static void
put(struct frame *f, const void *p, size_t n)
{
    CHECK_LE(f->n + n, sizeof f->b);
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void
put8(struct frame *f, uint8_t x)
{
    put(f, &x, 1);
}

static void
put16(struct frame *f, uint16_t x)
{
    x = htons(x);
    put(f, &x, 2);
}

static void
put_zeros(struct frame *f, size_t n)
{
    static const uint8_t zeros[256];

    put(f, zeros, n);
}

static void
eth(struct frame *f)
{
    static const uint8_t macs[12] = {
        0x02, 0, 0, 0, 0, 0x02,     /* dst */
        0x02, 0, 0, 0, 0, 0x01,     /* src */
    };

    memset(f, 0, sizeof *f);
    put(f, macs, sizeof macs);
}

static void
tag(struct frame *f, uint16_t tpid, uint16_t tci)
{
    put16(f, tpid);
    put16(f, tci);
}

/* IPv4 header with 'ihl' 32-bit words (options are NOPs), fragment field
 * 'frag' (flags and offset). */
static void
ipv4(struct frame *f, uint8_t proto, int ihl, uint16_t frag)
{
    static const uint8_t addrs[8] = { 10, 0, 0, 1, 10, 0, 0, 2 };

    put16(f, ESW_ETH_TYPE_IPV4);
    f->l3 = f->n;
    f->l3_type = 4;
    put8(f, 0x40 | ihl);
    put8(f, 0x2e);              /* DSCP 11, ECN 2. */
    put16(f, 0);                /* Total length: set by finish(). */
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put(f, addrs, sizeof addrs);
    for (int i = 20; i < ihl * 4; i++) {
        put8(f, 1);
    }
}

static void
ipv6(struct frame *f, uint8_t nh)
{
    static const uint8_t addrs[32] = {
        0x20, 0x01, 0x0d, 0xb8, [15] = 1,
        0x20, 0x01, 0x0d, 0xb8, [31] = 2,
    };

    put16(f, ESW_ETH_TYPE_IPV6);
    f->l3 = f->n;
    f->l3_type = 6;
    put16(f, 0x6b8f);           /* Version 6, traffic class 0xb8. */
    put16(f, 0x1234);           /* Flow label. */
    put16(f, 0);                /* Payload length: set by finish(). */
    put8(f, nh);
    put8(f, 255);
    put(f, addrs, sizeof addrs);
}

/* Hop-by-hop, routing or destination options: (len8 + 1) * 8 bytes. */
static void
ext6(struct frame *f, uint8_t nh, uint8_t len8)
{
    put8(f, nh);
    put8(f, len8);
    put_zeros(f, (len8 + 1) * 8 - 2);
}

static void
frag6(struct frame *f, uint8_t nh, uint16_t offset, bool more)
{
    put8(f, nh);
    put8(f, 0);
    put16(f, (offset << 3) | more);
    put16(f, 0xabcd);
    put16(f, 0xef01);
}

static void
ah6(struct frame *f, uint8_t nh)
{
    put8(f, nh);
    put8(f, 4);                 /* (4 + 2) * 4 = 24 bytes. */
    put_zeros(f, 22);
}

static void
tcp(struct frame *f, uint16_t sport, uint16_t dport, uint16_t flags)
{
    put16(f, sport);
    put16(f, dport);
    put_zeros(f, 8);
    put16(f, 0x5000 | flags);
    put_zeros(f, 6);
}

static void
udp(struct frame *f, uint16_t sport, uint16_t dport)
{
    put16(f, sport);
    put16(f, dport);
    put16(f, 8);
    put16(f, 0);
}

static void
sctp(struct frame *f, uint16_t sport, uint16_t dport)
{
    put16(f, sport);
    put16(f, dport);
    put_zeros(f, 8);
}

static void
icmp(struct frame *f, uint8_t type, uint8_t code)
{
    put8(f, type);
    put8(f, code);
    put_zeros(f, 6);
}

static void
payload(struct frame *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        put8(f, (uint8_t) i);
    }
}

/* Sets the IP length field from the frame length. */
static void
finish(struct frame *f)
{
    uint16_t x;

    if (f->l3_type == 4) {
        x = htons(f->n - f->l3);
        memcpy(f->b + f->l3 + 2, &x, 2);
    } else if (f->l3_type == 6) {
        x = htons(f->n - f->l3 - 40);
        memcpy(f->b + f->l3 + 4, &x, 2);
    }
}

/* Parses the first 'len' bytes of 'f' from an exact-size heap copy (so
 * that ASan sees any overread). */
static int
parse_exact(const uint8_t *frame, size_t len, struct esw_key *key)
{
    uint8_t *copy = malloc(len ? len : 1);
    int error;

    CHECK(copy);
    memcpy(copy, frame, len);
    error = esw_parse(copy, len, 7, key);
    free(copy);
    return error;
}

/* Invariants every key satisfies. */
static void
check_key(const struct esw_key *key, size_t len, int error)
{
    static const uint8_t zero[8];

    CHECK_EQ(key->in_vport, 7);
    CHECK_EQ(key->pad0, 0);
    CHECK_EQ(key->chain, 0);
    CHECK_EQ(key->dp_hash, 0);
    CHECK_EQ(key->tun_port, 0);
    CHECK_EQ(key->tun_flags, 0);
    CHECK_MEMEQ(key->pad4, zero, sizeof key->pad4);
    CHECK_MEMEQ(key->pad2, zero, sizeof key->pad2);
    CHECK_LE(key->n_vlans, ESW_MAX_VLANS);
    for (int i = key->n_vlans; i < ESW_MAX_VLANS; i++) {
        CHECK_EQ(key->vlans[i].tpid, 0);
        CHECK_EQ(key->vlans[i].tci, 0);
    }
    CHECK_EQ(key->ip_frag & ~(ESW_FRAG_ANY | ESW_FRAG_LATER), 0);
    if (key->ip_frag & ESW_FRAG_LATER) {
        CHECK_NE(key->ip_frag & ESW_FRAG_ANY, 0);
        CHECK_EQ(key->tp_src, 0);
        CHECK_EQ(key->tp_dst, 0);
    }
    CHECK_EQ(ntohs(key->tcp_flags) & 0xf000, 0);
    if (error) {
        struct esw_key z;

        CHECK_EQ(error, EINVAL);
        CHECK_LT(len, ESW_ETH_HDR_LEN);
        memset(&z, 0, sizeof z);
        z.in_vport = 7;
        CHECK_MEMEQ(&z, key, sizeof z);
    } else {
        CHECK_GE(len, ESW_ETH_HDR_LEN);
        CHECK_NE(key->eth_type, 0);
    }
    if (ntohs(key->eth_type) != ESW_ETH_TYPE_IPV6) {
        /* Only IPv6 uses the upper 12 bytes of the address unions. */
        CHECK_MEMEQ((const uint8_t *) &key->ip_src + 4, zero, 8);
        CHECK_MEMEQ((const uint8_t *) &key->ip_dst + 4, zero, 8);
    }
}

static void
print_parse(const char *name, const struct frame *f)
{
    char s[ESW_KEY_FORMAT_SIZE];
    struct esw_key key;
    int error;

    error = parse_exact(f->b, f->n, &key);
    check_key(&key, f->n, error);
    if (error) {
        printf("%s: error %s\n", name, error == EINVAL ? "EINVAL" : "?");
    } else {
        printf("%s: %s\n", name, esw_key_format(&key, s, sizeof s));
    }
}

static void
cmd_parse(int argc, char *argv[])
{
    struct frame f;

    eth(&f); ipv4(&f, 6, 5, 0); tcp(&f, 1000, 80, 0x002); finish(&f);
    print_parse("ipv4-tcp", &f);

    eth(&f); tag(&f, 0x8100, 0x6064); ipv4(&f, 17, 5, 0);
    udp(&f, 5353, 53); payload(&f, 10); finish(&f);
    print_parse("8021q-ipv4-udp", &f);

    eth(&f); tag(&f, 0x88a8, 0x00c8); tag(&f, 0x8100, 0x3064);
    ipv4(&f, 1, 5, 0); icmp(&f, 8, 0); finish(&f);
    print_parse("qinq-ipv4-icmp", &f);

    eth(&f); tag(&f, 0x8100, 0x1001); tag(&f, 0x8100, 0xf002);
    ipv4(&f, 132, 5, 0); sctp(&f, 2905, 2906); finish(&f);
    print_parse("8021q-8021q-ipv4-sctp", &f);

    eth(&f); tag(&f, 0x88a8, 10); tag(&f, 0x8100, 20); tag(&f, 0x8100, 30);
    ipv4(&f, 6, 5, 0); tcp(&f, 1, 2, 0x010); finish(&f);
    print_parse("triple-tag", &f);

    eth(&f); tag(&f, 0x88a8, 10); tag(&f, 0x88a8, 20); tag(&f, 0x88a8, 30);
    print_parse("triple-tag-truncated", &f);

    eth(&f); ipv4(&f, 6, 8, 0); tcp(&f, 443, 50000, 0x018); finish(&f);
    print_parse("ipv4-options-tcp", &f);

    eth(&f); ipv4(&f, 6, 15, 0); tcp(&f, 22, 50001, 0xfff); finish(&f);
    print_parse("ipv4-max-options-tcp", &f);

    eth(&f); ipv4(&f, 17, 5, 0x2000); udp(&f, 4789, 4789); payload(&f, 16);
    finish(&f);
    print_parse("ipv4-first-fragment", &f);

    eth(&f); ipv4(&f, 17, 5, 0x00b9); udp(&f, 4789, 4789); finish(&f);
    print_parse("ipv4-later-fragment", &f);

    eth(&f); ipv4(&f, 17, 5, 0x4000); udp(&f, 4789, 4789); finish(&f);
    print_parse("ipv4-dont-fragment", &f);

    eth(&f); ipv4(&f, 6, 4, 0); tcp(&f, 1, 2, 0); finish(&f);
    print_parse("ipv4-ihl-too-small", &f);

    eth(&f); ipv4(&f, 6, 5, 0); tcp(&f, 1, 2, 0); finish(&f);
    f.b[f.l3] = 0x4f;
    print_parse("ipv4-ihl-beyond-frame", &f);

    eth(&f); ipv4(&f, 6, 5, 0); tcp(&f, 1, 2, 0); finish(&f);
    f.b[f.l3 + 2] = 0; f.b[f.l3 + 3] = 19;
    print_parse("ipv4-total-length-too-small", &f);

    eth(&f); ipv4(&f, 17, 5, 0); finish(&f); udp(&f, 1, 2);
    print_parse("ipv4-total-length-trims-udp", &f);

    eth(&f); ipv4(&f, 6, 5, 0); tcp(&f, 1, 2, 0); finish(&f);
    f.b[f.l3 + 2] = 0xff;
    print_parse("ipv4-total-length-beyond-frame", &f);

    eth(&f); ipv4(&f, 6, 5, 0); tcp(&f, 1, 2, 0); finish(&f);
    f.b[f.l3] = 0x65;
    print_parse("ipv4-bad-version", &f);

    eth(&f); ipv4(&f, 6, 5, 0); put_zeros(&f, 10); finish(&f);
    print_parse("ipv4-truncated-tcp", &f);

    eth(&f); ipv6(&f, 6); tcp(&f, 1000, 80, 0x002); finish(&f);
    print_parse("ipv6-tcp", &f);

    eth(&f); ipv6(&f, 0); ext6(&f, 43, 1); ext6(&f, 60, 0);
    ext6(&f, 17, 2); udp(&f, 546, 547); finish(&f);
    print_parse("ipv6-hop-routing-dstopts-udp", &f);

    eth(&f); ipv6(&f, 44); frag6(&f, 17, 0, true); udp(&f, 1, 2);
    payload(&f, 8); finish(&f);
    print_parse("ipv6-first-fragment", &f);

    eth(&f); ipv6(&f, 0); ext6(&f, 44, 0); frag6(&f, 17, 100, false);
    payload(&f, 8); finish(&f);
    print_parse("ipv6-later-fragment", &f);

    eth(&f); ipv6(&f, 51); ah6(&f, 6); tcp(&f, 179, 1790, 0x011);
    finish(&f);
    print_parse("ipv6-ah-tcp", &f);

    eth(&f); ipv6(&f, 0); ext6(&f, 17, 0); udp(&f, 1, 2); finish(&f);
    f.b[f.l3 + 41] = 200;
    print_parse("ipv6-bogus-ext-length", &f);

    eth(&f); ipv6(&f, 60);
    for (int i = 0; i < 8; i++) {
        ext6(&f, 60, 0);
    }
    ext6(&f, 17, 0); udp(&f, 1, 2); finish(&f);
    print_parse("ipv6-too-many-ext-headers", &f);

    eth(&f); ipv6(&f, 60);
    for (int i = 0; i < 7; i++) {
        ext6(&f, 60, 0);
    }
    ext6(&f, 17, 0); udp(&f, 1, 2); finish(&f);
    print_parse("ipv6-max-ext-headers", &f);

    eth(&f); ipv6(&f, 6); tcp(&f, 1, 2, 0); finish(&f);
    f.b[f.l3 + 4] = 0; f.b[f.l3 + 5] = 10;
    print_parse("ipv6-payload-length-trims-tcp", &f);

    eth(&f); ipv6(&f, 58); icmp(&f, 128, 0); finish(&f);
    print_parse("ipv6-icmpv6-echo", &f);

    eth(&f); ipv6(&f, 50); payload(&f, 40); finish(&f);
    print_parse("ipv6-esp", &f);

    eth(&f); put16(&f, ESW_ETH_TYPE_ARP);
    {
        static const uint8_t arp[28] = {
            0, 1, 8, 0, 6, 4, 0, 1,
            0x02, 0, 0, 0, 0, 0x01, 192, 168, 1, 1,
            0, 0, 0, 0, 0, 0, 192, 168, 1, 2,
        };

        put(&f, arp, sizeof arp);
    }
    print_parse("arp-request", &f);
    f.n -= 1;
    print_parse("arp-truncated", &f);

    eth(&f); put16(&f, 0x0040); put8(&f, 0x42); put8(&f, 0x42);
    put8(&f, 0x03); payload(&f, 40);
    print_parse("llc", &f);

    eth(&f); tag(&f, 0x8100, 5); put16(&f, 0x05dc); payload(&f, 40);
    print_parse("8021q-llc", &f);

    eth(&f); put16(&f, 0x88cc); payload(&f, 40);
    print_parse("lldp", &f);

    eth(&f); put16(&f, 0x8100);
    print_parse("tpid-only", &f);

    eth(&f); tag(&f, 0x8100, 5); put8(&f, 8);
    print_parse("tag-without-type", &f);

    eth(&f); put8(&f, 8);
    print_parse("too-short", &f);
}

/* Prints, for each range of prefix lengths of 'f' that parse to the same
 * key, the range and the key; checks the invariants and that every field
 * of a prefix's key is zero or the full frame's value. */
static void
truncate_frame(const char *name, const struct frame *f)
{
    struct esw_key full, key, prev;
    char s[ESW_KEY_FORMAT_SIZE];
    size_t start = 0;
    int prev_error = 0;

    CHECK_EQ(parse_exact(f->b, f->n, &full), 0);
    printf("%s (%zu bytes):\n", name, f->n);
    for (size_t len = 0; len <= f->n + 1; len++) {
        int error = len <= f->n ? parse_exact(f->b, len, &key) : -1;

        if (len <= f->n) {
            const uint8_t *k = (const uint8_t *) &key;
            const uint8_t *fk = (const uint8_t *) &full;

            check_key(&key, len, error);
            for (size_t i = 0; i < sizeof key; i++) {
                /* A truncated tag leaves its TPID in 'eth_type', a
                 * truncated IPv6 extension header its type in
                 * 'ip_proto'. */
                if (i == offsetof(struct esw_key, eth_type)
                    || i == offsetof(struct esw_key, eth_type) + 1
                    || i == offsetof(struct esw_key, ip_proto)) {
                    continue;
                }
                if (k[i] && k[i] != fk[i]) {
                    CHECK_FAIL("check failed: byte %zu of the key of the "
                               "first %zu bytes is 0 or the full frame's "
                               "(%#x vs. %#x)", i, len, k[i], fk[i]);
                }
            }
        }
        if (len && (error != prev_error || memcmp(&key, &prev, sizeof key)
                    || len > f->n)) {
            printf("  %zu..%zu: ", start, len - 1);
            if (prev_error) {
                printf("error EINVAL\n");
            } else {
                printf("%s\n", esw_key_format(&prev, s, sizeof s));
            }
            start = len;
        }
        prev = key;
        prev_error = error;
    }
}

static void
cmd_truncate(int argc, char *argv[])
{
    struct frame f;

    eth(&f); tag(&f, 0x8100, 0x2064); ipv6(&f, 0); ext6(&f, 44, 0);
    frag6(&f, 6, 0, true); tcp(&f, 1000, 80, 0x012); payload(&f, 4);
    finish(&f);
    truncate_frame("8021q-ipv6-hop-frag-tcp", &f);

    eth(&f); ipv4(&f, 6, 6, 0); tcp(&f, 1000, 80, 0x012); payload(&f, 2);
    finish(&f);
    truncate_frame("ipv4-options-tcp", &f);
}

static struct esw_pkt
make_pkt(uint8_t *buf, size_t size, size_t headroom, const struct frame *f)
{
    struct esw_pkt pkt = {
        .base = buf, .data = buf + headroom, .size = size, .len = f->n,
    };

    CHECK_LE(headroom + f->n, size);
    memcpy(pkt.data, f->b, f->n);
    return pkt;
}

static void
print_pkt(const char *what, const struct esw_pkt *pkt)
{
    char s[ESW_KEY_FORMAT_SIZE];
    struct esw_key key;

    CHECK_EQ(parse_exact(pkt->data, pkt->len, &key), 0);
    printf("%s: len=%"PRIu32" headroom=%td %s\n", what, pkt->len,
           pkt->data - pkt->base, esw_key_format(&key, s, sizeof s));
}

static void
cmd_vlan(int argc, char *argv[])
{
    static const struct esw_eth_addr mac1 = { { 0x02, 0xaa, 0, 0, 0, 1 } };
    static const struct esw_eth_addr mac2 = { { 0x02, 0xbb, 0, 0, 0, 2 } };
    uint8_t buf[256];
    struct esw_pkt pkt;
    struct frame f;

    eth(&f); ipv4(&f, 17, 5, 0); udp(&f, 1, 2); finish(&f);
    pkt = make_pkt(buf, sizeof buf, ESW_PKT_HEADROOM, &f);
    print_pkt("original", &pkt);

    CHECK_EQ(esw_pkt_push_vlan(&pkt, ESW_TPID_8021Q, 0x6064), 0);
    print_pkt("push 8100:100:pcp3", &pkt);
    CHECK_EQ(esw_pkt_push_vlan(&pkt, ESW_TPID_8021AD, 0x00c8), 0);
    print_pkt("push 88a8:200", &pkt);
    CHECK_EQ(esw_pkt_push_vlan(&pkt, ESW_TPID_8021Q, 0x1fff), 0);
    print_pkt("push 8100:4095:dei", &pkt);
    CHECK_EQ(esw_pkt_pop_vlan(&pkt), 0);
    print_pkt("pop", &pkt);
    CHECK_EQ(esw_pkt_pop_vlan(&pkt), 0);
    print_pkt("pop", &pkt);
    CHECK_EQ(esw_pkt_pop_vlan(&pkt), 0);
    print_pkt("pop", &pkt);
    CHECK_EQ(pkt.len, f.n);
    CHECK_MEMEQ(pkt.data, f.b, f.n);
    printf("round trip: identical\n");
    printf("pop untagged: %s\n",
           esw_pkt_pop_vlan(&pkt) == EINVAL ? "EINVAL" : "?");
    CHECK_EQ(pkt.len, f.n);
    CHECK_MEMEQ(pkt.data, f.b, f.n);

    esw_pkt_set_eth_src(&pkt, &mac1);
    esw_pkt_set_eth_dst(&pkt, &mac2);
    print_pkt("set src and dst", &pkt);
    CHECK_MEMEQ(pkt.data + 12, f.b + 12, f.n - 12);

    /* Headroom exhaustion. */
    pkt = make_pkt(buf, sizeof buf, 7, &f);
    CHECK_EQ(esw_pkt_push_vlan(&pkt, ESW_TPID_8021Q, 1), 0);
    printf("push with 3 bytes of headroom: %s\n",
           esw_pkt_push_vlan(&pkt, ESW_TPID_8021Q, 2) == ENOBUFS
           ? "ENOBUFS" : "?");
    print_pkt("after refused push", &pkt);

    /* Frames too short for the operation. */
    f.n = 15;
    pkt = make_pkt(buf, sizeof buf, ESW_PKT_HEADROOM, &f);
    memcpy(pkt.data + 12, "\x81\x00", 2);
    printf("pop 15-byte tagged frame: %s\n",
           esw_pkt_pop_vlan(&pkt) == EINVAL ? "EINVAL" : "?");
    CHECK_EQ(pkt.len, 15);
    f.n = 16;
    pkt = make_pkt(buf, sizeof buf, ESW_PKT_HEADROOM, &f);
    memcpy(pkt.data + 12, "\x88\xa8", 2);
    printf("pop 16-byte tagged frame: %s\n",
           esw_pkt_pop_vlan(&pkt) ? "error" : "ok");
    CHECK_EQ(pkt.len, 12);
    f.n = 11;
    pkt = make_pkt(buf, sizeof buf, ESW_PKT_HEADROOM, &f);
    printf("push on 11-byte frame: %s\n",
           esw_pkt_push_vlan(&pkt, ESW_TPID_8021Q, 1) == EINVAL
           ? "EINVAL" : "?");
    CHECK_EQ(pkt.len, 11);
}

/* xorshift64*: deterministic across platforms. */
static uint64_t prng_state;

static uint32_t
prng(void)
{
    prng_state ^= prng_state >> 12;
    prng_state ^= prng_state << 25;
    prng_state ^= prng_state >> 27;
    return (prng_state * UINT64_C(2685821657736338717)) >> 32;
}

static void
build_template(int which, struct frame *f)
{
    eth(f);
    switch (which % 6) {
    case 0:
        ipv4(f, 6, 5 + prng() % 3, 0); tcp(f, 1, 2, 0x02);
        break;
    case 1:
        tag(f, 0x8100, 5); ipv4(f, 17, 5, prng() % 2 ? 0x2000 : 0);
        udp(f, 3, 4);
        break;
    case 2:
        tag(f, 0x88a8, 5); tag(f, 0x8100, 6); ipv6(f, 0); ext6(f, 44, 0);
        frag6(f, 6, 0, 1); tcp(f, 1, 2, 0x10);
        break;
    case 3:
        ipv6(f, 60); ext6(f, 43, 1); ext6(f, 58, 0); icmp(f, 135, 0);
        break;
    case 4:
        ipv6(f, 51); ah6(f, 132); sctp(f, 7, 8);
        break;
    default:
        tag(f, 0x8100, 1); tag(f, 0x8100, 2); tag(f, 0x8100, 3);
        ipv4(f, 6, 5, 0); tcp(f, 1, 2, 0x02);
        break;
    }
    payload(f, prng() % 32);
    finish(f);
}

static void
cmd_random(int argc, char *argv[])
{
    unsigned long long seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 1;
    unsigned long n = argc > 3 ? strtoul(argv[3], NULL, 0) : 10000;
    unsigned long n_ok = 0, n_l4 = 0, n_frag = 0, n_tags = 0;
    uint8_t buf[2048];

    prng_state = seed * 2 + 1;
    for (unsigned long i = 0; i < n; i++) {
        struct esw_key key, key2;
        struct esw_pkt pkt;
        struct frame f;
        int error;

        build_template(prng(), &f);
        for (int j = prng() % 4; j > 0; j--) {
            size_t ofs = prng() % f.n;

            f.b[ofs] = prng();
        }
        if (prng() % 2) {
            f.n = prng() % (f.n + 1);
        }
        error = parse_exact(f.b, f.n, &key);
        check_key(&key, f.n, error);
        n_ok += !error;
        n_l4 += (key.tp_src || key.tp_dst);
        n_frag += (key.ip_frag != 0);
        n_tags += key.n_vlans;

        /* Parsing is a pure function of the bytes. */
        CHECK_EQ(parse_exact(f.b, f.n, &key2), error);
        CHECK_MEMEQ(&key, &key2, sizeof key);

        /* push + pop is the identity. */
        pkt = make_pkt(buf, sizeof buf, ESW_PKT_HEADROOM, &f);
        if (!esw_pkt_push_vlan(&pkt, ESW_TPID_8021AD, prng() & 0xffff)) {
            CHECK_GE(f.n, 12);
            CHECK_EQ(esw_pkt_pop_vlan(&pkt), 0);
            CHECK_EQ(pkt.len, f.n);
            CHECK_MEMEQ(pkt.data, f.b, f.n);
        } else {
            CHECK_LT(f.n, 12);
        }
    }
    printf("%lu frames: %lu parsed, %lu with ports, %lu fragments, "
           "%lu tags\n", n, n_ok, n_l4, n_frag, n_tags);
}

static void
cmd_drop_reasons(int argc, char *argv[])
{
    for (int i = 0; i <= ESW_N_DROP_REASONS; i++) {
        printf("%d %s\n", i, esw_drop_reason_name(i));
    }
}

static uint64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
cmd_bench(int argc, char *argv[])
{
    unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 0) : 20000000;
    struct frame frames[3];
    uint64_t sum = 0;

    eth(&frames[0]); ipv4(&frames[0], 6, 5, 0);
    tcp(&frames[0], 1, 2, 2); payload(&frames[0], 10); finish(&frames[0]);
    eth(&frames[1]); tag(&frames[1], 0x8100, 100); ipv4(&frames[1], 17, 5, 0);
    udp(&frames[1], 1, 2); payload(&frames[1], 18); finish(&frames[1]);
    eth(&frames[2]); ipv6(&frames[2], 6); tcp(&frames[2], 1, 2, 2);
    finish(&frames[2]);

    for (int j = 0; j < 3; j++) {
        static const char *names[] = {
            "ipv4-tcp", "8021q-ipv4-udp", "ipv6-tcp",
        };
        struct esw_key key;
        uint64_t start = now_ns(), elapsed;

        for (unsigned long i = 0; i < n; i++) {
            esw_parse(frames[j].b, frames[j].n, i, &key);
            sum += key.tp_src;
            __asm__ volatile("" : : "r"(&key) : "memory");
        }
        elapsed = now_ns() - start;
        printf("%s: %.2f ns/parse\n", names[j], (double) elapsed / n);
    }
    printf("(checksum %"PRIu64")\n", sum);
}

int
main(int argc, char *argv[])
{
    static const struct {
        const char *name;
        void (*cb)(int argc, char *argv[]);
    } cmds[] = {
        { "parse", cmd_parse },
        { "truncate", cmd_truncate },
        { "vlan", cmd_vlan },
        { "random", cmd_random },
        { "drop-reasons", cmd_drop_reasons },
        { "bench", cmd_bench },
    };

    if (argc < 2) {
        fprintf(stderr, "usage: %s parse|truncate|vlan|random SEED N|"
                "drop-reasons|bench [N]\n", argv[0]);
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
