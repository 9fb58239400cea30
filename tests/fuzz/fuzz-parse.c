/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* libFuzzer target: esw_parse() and the VLAN/Ethernet rewrites on
 * arbitrary bytes.  Invariants are checked with abort(). */

#include "datapath/packet/esw-packet.h"
#include "datapath/packet/esw-packet-format.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_key(const struct esw_key *key, size_t len, int error)
{
    static const uint8_t zero[8];

    if (key->in_vport != 42 || key->pad0 || key->chain || key->dp_hash
        || key->tun_port || key->tun_flags || key->tun_id
        || memcmp(key->pad2, zero, sizeof key->pad2)
        || key->n_vlans > ESW_MAX_VLANS
        || key->ip_frag & ~(ESW_FRAG_ANY | ESW_FRAG_LATER)
        || (key->ip_frag & ESW_FRAG_LATER && (key->tp_src | key->tp_dst))
        || ntohs(key->tcp_flags) & 0xf000
        || (error != 0) != (len < ESW_ETH_HDR_LEN)
        || (!error && !key->eth_type)) {
        abort();
    }
    for (int i = key->n_vlans; i < ESW_MAX_VLANS; i++) {
        if (key->vlans[i].tpid || key->vlans[i].tci) {
            abort();
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct esw_eth_addr ea = { { 2, 0, 0, 0, 0, 1 } };
    char s[ESW_KEY_FORMAT_SIZE];
    struct esw_key key, key2;
    struct esw_pkt pkt;
    uint8_t *buf;
    unsigned int tpid;
    int error;

    if (size > ESW_FRAME_MAX) {
        return 0;
    }

    /* 'data' is exactly 'size' bytes on the heap: ASan catches overreads. */
    error = esw_parse(data, size, 42, &key);
    check_key(&key, size, error);
    esw_key_format(&key, s, sizeof s);
    if (strlen(s) >= sizeof s - 1) {
        abort();                /* ESW_KEY_FORMAT_SIZE too small. */
    }

    /* push, parse, pop gives back the same bytes and key. */
    buf = malloc(ESW_PKT_HEADROOM + size + 1);
    if (!buf) {
        return 0;
    }
    pkt.base = buf;
    pkt.data = buf + ESW_PKT_HEADROOM;
    pkt.size = ESW_PKT_HEADROOM + size;
    pkt.len = size;
    memcpy(pkt.data, data, size);
    if (!esw_pkt_push_vlan(&pkt, ESW_TPID_8021Q, 0xe123)) {
        if (pkt.len != size + 4
            || esw_parse(pkt.data, pkt.len, 42, &key2) != 0
            || (size >= ESW_ETH_HDR_LEN
                && (key2.n_vlans < 1
                    || key2.vlans[0].tpid != htons(ESW_TPID_8021Q)
                    || key2.vlans[0].tci != htons(0xe123)))
            || esw_pkt_pop_vlan(&pkt)
            || pkt.len != size || memcmp(pkt.data, data, size)) {
            abort();
        }
        esw_parse(pkt.data, pkt.len, 42, &key2);
        if (memcmp(&key, &key2, sizeof key)) {
            abort();
        }
    } else if (size >= 12) {
        abort();
    }

    /* pop on the original: works iff the frame has a complete tag right
     * after the MAC addresses, parsed or not (a tag beyond the parse depth
     * or of an IEEE 802.3 frame's LLC/SNAP Ethertype is not in n_vlans). */
    tpid = size >= 14 ? (data[12] << 8) | data[13] : 0;
    error = esw_pkt_pop_vlan(&pkt);
    if (!error != (size >= 16 && (tpid == ESW_TPID_8021Q
                                  || tpid == ESW_TPID_8021AD))
        || (key.n_vlans > 0 && error)) {
        abort();
    }
    if (!error) {
        check_key(&key2, pkt.len, esw_parse(pkt.data, pkt.len, 42, &key2));
        if (key.n_vlans == 2 && key2.n_vlans < 1) {
            abort();
        }
    }
    esw_pkt_set_eth_src(&pkt, &ea);
    esw_pkt_set_eth_dst(&pkt, &ea);
    free(buf);
    return 0;
}
