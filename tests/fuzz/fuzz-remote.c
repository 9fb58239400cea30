/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* libFuzzer target: the device daemon's message decoder and session
 * (datapath/remote/).  The input is a sequence of messages, each one
 * byte of flags and op, two of length and that many payload bytes (or,
 * with flag 0x80, a raw header taken from the input as is).  Each message
 * goes through esw_rproto_check_hdr() and esw_rproto_decode_request(),
 * whose output is checked with abort(), then to a session on a real sim
 * device (opened by a valid handshake first, with a connection table of
 * 4 entries), as ovs-eswitchd would run it, its connection counters
 * published after each.  Nothing may crash, leak or read outside the
 * input. */

#include "datapath/remote/esw-remote-proto.h"
#include "datapath/remote/esw-remote-server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_decoded(const struct esw_rmsg_hdr *hdr, const uint8_t *payload,
              const struct esw_rreq *req)
{
    if (!memchr(req->name, '\0', sizeof req->name)
        || req->spec.n_actions > ESW_MAX_ACTIONS
        || req->policy.n_allowed_macs > ESW_POLICY_MAX_ALLOWED_MACS
        || req->meter.n_bands > ESW_MAX_METER_BANDS
        || (req->dev_cfg.emu && req->dev_cfg.emu != &req->emu)
        || (req->vport_cfg.io && req->vport_cfg.io != &req->io)) {
        abort();
    }
    if (req->frame && (req->pkt.len > ESW_FRAME_MAX
                       || req->frame < payload
                       || req->frame + req->pkt.len > payload + hdr->len)) {
        abort();
    }
    if (req->vport_cfg.io && (!memchr(req->io.ifname, '\0',
                                      sizeof req->io.ifname)
                              || !memchr(req->io.path, '\0',
                                         sizeof req->io.path))) {
        abort();
    }
    /* Connections: an id for those that name one, every zone only
     * without a zone, the spec's boolean 0 or 1 on the wire. */
    if (hdr->op == ESW_ROP_CT_ADD
        && (!req->id
            || payload[offsetof(struct esw_rw_ct, spec)
                       + offsetof(struct esw_rw_ct_spec, ipv6)] > 1
            || (uint8_t) req->ct.ipv6 > 1)) {
        abort();
    }
    if (hdr->op == ESW_ROP_CT_FLUSH && req->ct_all && req->ct.zone) {
        abort();
    }
    if (hdr->op == ESW_ROP_CT_LIST
        && (!req->arg2 || req->arg2 > ESW_RPROTO_MAX_CTS)) {
        abort();
    }
}

/* A CT_LIST reply: entries in increasing slots, within the bound, each
 * with an id. */
static void
check_ct_list(const struct esw_rmsg_hdr *hdr, const struct esw_rreply *r)
{
    struct esw_rw_cts w;
    const uint8_t *p;

    if (hdr->op != ESW_ROP_CT_LIST || r->result || r->len < sizeof w) {
        return;
    }
    memcpy(&w, r->data, sizeof w);
    p = r->data + sizeof w;
    if (w.n > ESW_RPROTO_MAX_CTS
        || r->len != sizeof w + w.n * sizeof(struct esw_rw_ct_entry)) {
        abort();
    }
    for (uint32_t i = 0; i < w.n; i++) {
        struct esw_rw_ct_entry e;

        memcpy(&e, p + i * sizeof e, sizeof e);
        if (!e.id || e.flushed > 1 || e.spec.ipv6 > 1) {
            abort();
        }
    }
}

static bool
run(struct esw_rsession *s, struct esw_rmsg_hdr *hdr, const uint8_t *payload)
{
    struct esw_rreply reply;
    struct esw_rreq *req = malloc(sizeof *req);
    bool keep;

    if (!req) {
        abort();
    }
    if (!esw_rproto_decode_request(hdr, payload, req, NULL, 0)) {
        check_decoded(hdr, payload, req);
    }
    free(req);

    esw_rreply_init(&reply);
    keep = esw_rsession_handle(s, hdr, payload, &reply);
    if (reply.result < 0 || reply.len > ESW_RPROTO_MAX_MSG) {
        abort();
    }
    check_ct_list(hdr, &reply);
    esw_rreply_destroy(&reply);
    esw_rsession_ct_publish(s);     /* As the daemon's loop does. */
    return keep;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esw_rsession *s = esw_rsession_create();
    struct esw_rw_hello hello = { .abi = esw_rproto_abi() };
    struct esw_rw_dev_open open;
    struct esw_rmsg_hdr hdr = {
        .magic = ESW_RPROTO_MAGIC, .version = ESW_RPROTO_VERSION,
        .op = ESW_ROP_HELLO, .len = sizeof hello,
    };

    if (!s || !run(s, &hdr, (const uint8_t *) &hello)) {
        abort();
    }
    memset(&open, 0, sizeof open);
    strcpy(open.name, "fuzz0");
    open.cfg.max_vports = 8;
    open.cfg.max_rules = 64;
    open.cfg.max_conns = 4;         /* 8 slots: full tables reachable. */
    hdr.op = ESW_ROP_DEV_OPEN;
    hdr.len = sizeof open;
    run(s, &hdr, (const uint8_t *) &open);

    while (size >= 3) {
        uint8_t flags = data[0];
        size_t len = data[1] | data[2] << 8;
        uint8_t *payload;

        data += 3;
        size -= 3;
        if (flags & 0x80) {
            if (size < sizeof hdr) {
                break;
            }
            memcpy(&hdr, data, sizeof hdr);
            data += sizeof hdr;
            size -= sizeof hdr;
            len = hdr.len;
        } else {
            hdr = (struct esw_rmsg_hdr) {
                .magic = ESW_RPROTO_MAGIC, .version = ESW_RPROTO_VERSION,
                .op = flags & 0x3f, .len = len,
            };
        }
        if (esw_rproto_check_hdr(&hdr, false)) {
            continue;           /* The daemon hangs up. */
        }
        if (len > size) {
            break;
        }
        /* A copy of exactly 'len' bytes, so that ASan sees overreads. */
        payload = malloc(len ? len : 1);
        if (!payload) {
            abort();
        }
        memcpy(payload, data, len);
        data += len;
        size -= len;
        if (!run(s, &hdr, payload)) {
            free(payload);
            break;
        }
        free(payload);
    }
    esw_rsession_destroy(s);
    return 0;
}
