/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The device daemon's protocol: message checks, request decoding and
 * socket I/O (esw-remote-proto.h). */

#include "esw-remote-proto.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "esw-remote-ring.h"

#ifndef ESW_RUNDIR
#define ESW_RUNDIR "/var/run/openvswitch"
#endif

static const char *const rop_names[ESW_N_ROPS] = {
    [ESW_ROP_HELLO] = "hello",
    [ESW_ROP_DEV_OPEN] = "dev-open",
    [ESW_ROP_DEV_CLOSE] = "dev-close",
    [ESW_ROP_VPORT_ADD] = "vport-add",
    [ESW_ROP_VPORT_DEL] = "vport-del",
    [ESW_ROP_VPORT_GET_INFO] = "vport-get-info",
    [ESW_ROP_VPORT_LOOKUP] = "vport-lookup",
    [ESW_ROP_VPORT_LIST] = "vport-list",
    [ESW_ROP_VPORT_SET_MAC] = "vport-set-mac",
    [ESW_ROP_VPORT_SET_MTU] = "vport-set-mtu",
    [ESW_ROP_VPORT_SET_ADMIN] = "vport-set-admin",
    [ESW_ROP_VPORT_SET_POLICY] = "vport-set-policy",
    [ESW_ROP_VPORT_GUEST_SET_MAC] = "vport-guest-set-mac",
    [ESW_ROP_VPORT_GET_STATS] = "vport-get-stats",
    [ESW_ROP_VPORT_GET_POLICY] = "vport-get-policy",
    [ESW_ROP_VPORT_GUEST_RESET] = "vport-guest-reset",
    [ESW_ROP_VPORT_SET_REP_QUEUES] = "vport-set-rep-queues",
    [ESW_ROP_RULE_VALIDATE] = "rule-validate",
    [ESW_ROP_RULE_ADD] = "rule-add",
    [ESW_ROP_RULE_MODIFY] = "rule-modify",
    [ESW_ROP_RULE_DEL] = "rule-del",
    [ESW_ROP_RULE_GET_STATS] = "rule-get-stats",
    [ESW_ROP_RULE_COUNT] = "rule-count",
    [ESW_ROP_METER_SET] = "meter-set",
    [ESW_ROP_METER_DEL] = "meter-del",
    [ESW_ROP_METER_GET_STATS] = "meter-get-stats",
    [ESW_ROP_METER_GET_CONFIG] = "meter-get-config",
    [ESW_ROP_METER_LIST] = "meter-list",
    [ESW_ROP_REP_GET_FD] = "rep-get-fd",
    [ESW_ROP_REP_SEND_RING] = "rep-send-ring",
    [ESW_ROP_REP_SEND] = "rep-send",
    [ESW_ROP_TRACE_PACKET] = "trace-packet",
    [ESW_ROP_TRACE_REP_SEND] = "trace-rep-send",
    [ESW_ROP_HOST_GET] = "host-get",
    [ESW_ROP_HOST_INJECT] = "host-inject",
    [ESW_ROP_HOST_CAPTURE_READ] = "host-capture-read",
    [ESW_ROP_IS_IDLE] = "is-idle",
    [ESW_ROP_RULE_LIST] = "rule-list",
    [ESW_ROP_DAEMON_STATUS] = "daemon-status",
    [ESW_ROP_DAEMON_UPDATE] = "daemon-update",
    [ESW_ROP_DAEMON_FUNCTIONS] = "daemon-functions",
    [ESW_ROP_DAEMON_HOTPLUG] = "daemon-hotplug",
    [ESW_ROP_DAEMON_UNPLUG] = "daemon-unplug",
    [ESW_ROP_CT_MAP] = "ct-map",
    [ESW_ROP_CT_ADD] = "ct-add",
    [ESW_ROP_CT_MODIFY] = "ct-modify",
    [ESW_ROP_CT_DEL] = "ct-del",
    [ESW_ROP_CT_FLUSH] = "ct-flush",
    [ESW_ROP_CT_COUNT] = "ct-count",
    [ESW_ROP_CT_LIST] = "ct-list",
};

const char *
esw_rop_name(unsigned int op)
{
    return op < ESW_N_ROPS && rop_names[op] ? rop_names[op] : "unknown";
}

uint64_t
esw_rproto_abi(void)
{
    static const size_t sizes[] = {
        sizeof(struct esw_rmsg_hdr), sizeof(struct esw_dev_config),
        sizeof(struct esw_emu_dev_config), sizeof(struct esw_caps),
        sizeof(struct esw_vport_config), sizeof(struct esw_io_config),
        sizeof(struct esw_error), sizeof(struct esw_vport_info),
        sizeof(struct esw_vport_stats), sizeof(struct esw_policy_config),
        sizeof(struct esw_rule_spec), sizeof(struct esw_rule_stats),
        sizeof(struct esw_meter_config), sizeof(struct esw_meter_stats),
        sizeof(struct esw_trace), sizeof(struct esw_host_info),
        sizeof(struct esw_trace_output), sizeof(struct esw_key),
        sizeof(struct esw_rw_daemon_hotplug),
        sizeof(struct esw_rw_daemon_unplug),
        sizeof(struct esw_rw_daemon_fns), sizeof(struct esw_rw_daemon_fn),
        sizeof(struct esw_rw_ct), sizeof(struct esw_rw_ct_reply),
        sizeof(struct esw_rw_ct_modify), sizeof(struct esw_rw_ct_flush),
        sizeof(struct esw_rw_cts), sizeof(struct esw_rw_ct_entry),
        sizeof(struct esw_rct_slot),
    };
    uint64_t hash = 1469598103934665603ULL;     /* FNV-1a. */

    hash = (hash ^ ESW_RPROTO_VERSION) * 1099511628211ULL;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        hash = (hash ^ sizes[i]) * 1099511628211ULL;
    }
    return hash;
}

/* Connections. */

_Static_assert(sizeof(union esw_ip_addr) == 16, "an address is 16 bytes");
/* The conversions below copy every field of these structures: one added
 * to them must be added to esw_rw_ct_tuple or esw_rw_ct_spec and here
 * (then update these sizes). */
_Static_assert(sizeof(struct esw_ct_tuple) == 40
               && offsetof(struct esw_ct_tuple, ip_proto) == 36,
               "struct esw_ct_tuple changed: encode its new fields");
_Static_assert(sizeof(struct esw_ct_spec) == 112
               && offsetof(struct esw_ct_spec, label) == 96,
               "struct esw_ct_spec changed: encode its new fields");

static void
ct_tuple_to_wire(const struct esw_ct_tuple *t, struct esw_rw_ct_tuple *w)
{
    memcpy(w->src, &t->src, sizeof w->src);
    memcpy(w->dst, &t->dst, sizeof w->dst);
    w->src_port = t->src_port;
    w->dst_port = t->dst_port;
    w->ip_proto = t->ip_proto;
}

static void
ct_tuple_from_wire(const struct esw_rw_ct_tuple *w, struct esw_ct_tuple *t)
{
    memset(t, 0, sizeof *t);
    memcpy(&t->src, w->src, sizeof w->src);
    memcpy(&t->dst, w->dst, sizeof w->dst);
    t->src_port = w->src_port;
    t->dst_port = w->dst_port;
    t->ip_proto = w->ip_proto;
}

void
esw_rproto_ct_spec_to_wire(const struct esw_ct_spec *s,
                           struct esw_rw_ct_spec *w)
{
    memset(w, 0, sizeof *w);
    w->zone = s->zone;
    w->nat = s->nat;
    w->ipv6 = s->ipv6;
    ct_tuple_to_wire(&s->orig, &w->orig);
    ct_tuple_to_wire(&s->reply, &w->reply);
    w->mark = s->mark;
    w->label[0] = s->label[0];
    w->label[1] = s->label[1];
}

int
esw_rproto_ct_spec_from_wire(const struct esw_rw_ct_spec *w,
                             struct esw_ct_spec *s)
{
    memset(s, 0, sizeof *s);
    if (w->ipv6 > 1) {
        return EINVAL;
    }
    s->zone = w->zone;
    s->nat = w->nat;
    s->ipv6 = w->ipv6;
    ct_tuple_from_wire(&w->orig, &s->orig);
    ct_tuple_from_wire(&w->reply, &s->reply);
    s->mark = w->mark;
    s->label[0] = w->label[0];
    s->label[1] = w->label[1];
    return 0;
}

int
esw_rproto_check_update_result(const struct esw_rw_update_result *r)
{
    return (r->state > ESW_UPDATE_REFUSED
            || esw_rproto_check_string(r->old_version, sizeof r->old_version)
            || esw_rproto_check_string(r->new_version, sizeof r->new_version)
            || esw_rproto_check_string(r->old_binary, sizeof r->old_binary)
            || esw_rproto_check_string(r->new_binary, sizeof r->new_binary)
            || esw_rproto_check_string(r->message, sizeof r->message)
            ? EINVAL : 0);
}

int
esw_rproto_check_hdr(const struct esw_rmsg_hdr *hdr, bool is_reply)
{
    if (hdr->magic != ESW_RPROTO_MAGIC
        || hdr->version != ESW_RPROTO_VERSION
        || hdr->len > ESW_RPROTO_MAX_MSG
        || !hdr->op || hdr->op >= ESW_N_ROPS
        || hdr->n_fds > (is_reply ? ESW_RPROTO_MAX_FDS : 0)
        || (!is_reply && hdr->result)
        || (is_reply && hdr->result < 0)) {
        return EPROTO;
    }
    return 0;
}

/* Plain-structure checks. */

int
esw_rproto_check_bools(const void *raw, const size_t offsets[], size_t n)
{
    const uint8_t *p = raw;

    for (size_t i = 0; i < n; i++) {
        if (p[offsets[i]] > 1) {
            return EINVAL;
        }
    }
    return 0;
}

int
esw_rproto_check_string(const char *s, size_t size)
{
    return memchr(s, '\0', size) ? 0 : EINVAL;
}

int
esw_rproto_check_spec(const struct esw_rule_spec *spec)
{
    if (spec->n_actions > ESW_MAX_ACTIONS) {
        return EINVAL;
    }
    for (size_t i = 0; i < spec->n_actions; i++) {
        if ((unsigned int) spec->actions[i].type >= ESW_N_ACTION_TYPES) {
            return EINVAL;
        }
    }
    return 0;
}

int
esw_rproto_check_policy(const void *raw)
{
    static const size_t bools[] = {
        offsetof(struct esw_policy_config, trunk_untagged),
        offsetof(struct esw_policy_config, spoofchk),
        offsetof(struct esw_policy_config, trust),
        offsetof(struct esw_policy_config, promisc),
    };
    struct esw_policy_config cfg;

    if (esw_rproto_check_bools(raw, bools, sizeof bools / sizeof *bools)) {
        return EINVAL;
    }
    memcpy(&cfg, raw, sizeof cfg);
    return (cfg.n_allowed_macs > ESW_POLICY_MAX_ALLOWED_MACS
            || (unsigned int) cfg.link_state >= ESW_POLICY_N_LINK_STATES
            ? EINVAL : 0);
}

int
esw_rproto_check_meter(const void *raw)
{
    static const size_t bools[] = {
        offsetof(struct esw_meter_config, pktps),
    };
    struct esw_meter_config cfg;

    if (esw_rproto_check_bools(raw, bools, 1)) {
        return EINVAL;
    }
    memcpy(&cfg, raw, sizeof cfg);
    return cfg.n_bands > ESW_MAX_METER_BANDS ? EINVAL : 0;
}

int
esw_rproto_check_vport_info(const void *raw)
{
    static const size_t bools[] = {
        offsetof(struct esw_vport_info, guest_mac_refused),
        offsetof(struct esw_vport_info, admin_up),
        offsetof(struct esw_vport_info, oper_up),
        offsetof(struct esw_vport_info, has_policy),
    };
    const struct esw_vport_info *info = raw;

    return (esw_rproto_check_bools(raw, bools, sizeof bools / sizeof *bools)
            || esw_rproto_check_string(info->name, sizeof info->name)
            ? EINVAL : 0);
}

int
esw_rproto_check_host_info(const void *raw)
{
    static const size_t bools[] = {
        offsetof(struct esw_host_info, has_mac),
        offsetof(struct esw_host_info, host_up),
        offsetof(struct esw_host_info, client),
    };
    const struct esw_host_info *info = raw;

    return (esw_rproto_check_bools(raw, bools, sizeof bools / sizeof *bools)
            || esw_rproto_check_string(info->ifname, sizeof info->ifname)
            || esw_rproto_check_string(info->path, sizeof info->path)
            ? EINVAL : 0);
}

int
esw_rproto_check_trace(const void *raw)
{
    const uint8_t *p = raw;
    struct esw_trace *t = malloc(sizeof *t);
    int error = 0;

    if (!t) {
        return ENOMEM;
    }
    if (p[offsetof(struct esw_trace, recirc_limit)] > 1) {
        error = EINVAL;
        goto out;
    }
    memcpy(t, raw, sizeof *t);
    if (t->n_stages > ESW_TRACE_MAX_STAGES
        || t->n_outputs > sizeof t->outputs / sizeof t->outputs[0]
        || esw_rproto_check_spec(&t->spec)) {
        error = EINVAL;
        goto out;
    }
    for (size_t i = 0; i < t->n_stages; i++) {
        if (esw_rproto_check_spec(&t->stages[i].spec)) {
            error = EINVAL;
            goto out;
        }
    }
    for (size_t i = 0; i < t->n_outputs; i++) {
        size_t off = (offsetof(struct esw_trace, outputs)
                      + i * sizeof t->outputs[0]
                      + offsetof(struct esw_trace_output, delivered));

        if (p[off] > 1) {
            error = EINVAL;
            goto out;
        }
    }
out:
    free(t);
    return error;
}

/* Requests. */

static int __attribute__((format(printf, 3, 4)))
bad(char *reason, size_t size, const char *format, ...)
{
    if (size) {
        va_list args;

        va_start(args, format);
        vsnprintf(reason, size, format, args);
        va_end(args);
    }
    return EINVAL;
}

/* Decodes a packet request: 'struct esw_rw_pkt_req', then one packet. */
static int
decode_pkt(const uint8_t *p, size_t len, struct esw_rreq *req,
           char *reason, size_t size)
{
    struct esw_rw_pkt_req r;
    size_t hdr = sizeof r + sizeof req->pkt;

    if (len < hdr) {
        return bad(reason, size, "packet request of %zu bytes is short",
                   len);
    }
    memcpy(&r, p, sizeof r);
    memcpy(&req->pkt, p + sizeof r, sizeof req->pkt);
    if (req->pkt.len > ESW_FRAME_MAX || len - hdr != req->pkt.len) {
        return bad(reason, size, "packet length %"PRIu32" does not match "
                   "the %zu bytes sent (at most %d)", req->pkt.len,
                   len - hdr, ESW_FRAME_MAX);
    }
    req->vport = r.vport;
    req->frame = p + hdr;
    return 0;
}

static int
decode_dev_open(const uint8_t *p, struct esw_rreq *req, char *reason,
                size_t size)
{
    const uint8_t *emu = p + offsetof(struct esw_rw_dev_open, emu);
    struct esw_rw_dev_open o;

    if (p[offsetof(struct esw_rw_dev_open, has_emu)] > 1
        || emu[offsetof(struct esw_emu_dev_config, busy_poll)] > 1) {
        return bad(reason, size, "dev-open: bad boolean");
    }
    memcpy(&o, p, sizeof o);
    if (esw_rproto_check_string(o.name, sizeof o.name)) {
        return bad(reason, size, "dev-open: name not terminated");
    }
    memcpy(req->name, o.name, sizeof req->name);
    req->dev_cfg = o.cfg;
    req->emu = o.emu;
    req->dev_cfg.emu = o.has_emu ? &req->emu : NULL;
    return 0;
}

static int
decode_vport_add(const uint8_t *p, struct esw_vport_config *vcfg,
                 struct esw_io_config *vio, char *reason, size_t size)
{
    const uint8_t *cfg = p + offsetof(struct esw_rw_vport_add, cfg);
    const uint8_t *io = p + offsetof(struct esw_rw_vport_add, io);
    struct esw_rw_vport_add a;

    if (p[offsetof(struct esw_rw_vport_add, has_io)] > 1
        || cfg[offsetof(struct esw_vport_config, admin_down)] > 1
        || io[offsetof(struct esw_io_config, client)] > 1) {
        return bad(reason, size, "vport-add: bad boolean");
    }
    memcpy(&a, p, sizeof a);
    if (esw_rproto_check_string(a.io.ifname, sizeof a.io.ifname)
        || esw_rproto_check_string(a.io.path, sizeof a.io.path)) {
        return bad(reason, size, "vport-add: name not terminated");
    }
    if ((unsigned int) a.cfg.kind > ESW_VPORT_SF
        || (unsigned int) a.io.type > ESW_IO_WIRE) {
        return bad(reason, size, "vport-add: bad kind or host side");
    }
    *vcfg = a.cfg;
    *vio = a.io;
    vcfg->io = a.has_io ? vio : NULL;
    return 0;
}

void
esw_rproto_hotplug_fn(const uint8_t *hotplug, uint32_t i,
                      struct esw_vport_config *cfg, struct esw_io_config *io)
{
    const uint8_t *p = (hotplug + offsetof(struct esw_rw_daemon_hotplug, fns)
                        + i * sizeof(struct esw_rw_vport_add));
    char reason[1];

    decode_vport_add(p, cfg, io, reason, 0);
}

int
esw_rproto_decode_request(const struct esw_rmsg_hdr *hdr,
                          const uint8_t *p, struct esw_rreq *req,
                          char *reason, size_t size)
{
    size_t len = hdr->len;
    size_t expected = 0;

    memset(req, 0, sizeof *req);
    if (size) {
        reason[0] = '\0';
    }
    req->op = hdr->op;
    req->seq = hdr->seq;

    switch ((enum esw_rop) hdr->op) {
    case ESW_ROP_HELLO:
        expected = sizeof(struct esw_rw_hello);
        break;
    case ESW_ROP_DEV_OPEN:
        expected = sizeof(struct esw_rw_dev_open);
        break;
    case ESW_ROP_DEV_CLOSE:
    case ESW_ROP_RULE_COUNT:
    case ESW_ROP_IS_IDLE:
    case ESW_ROP_DAEMON_STATUS:
    case ESW_ROP_CT_MAP:
    case ESW_ROP_CT_COUNT:
        expected = 0;
        break;
    case ESW_ROP_CT_ADD:
        expected = sizeof(struct esw_rw_ct);
        break;
    case ESW_ROP_CT_MODIFY:
        expected = sizeof(struct esw_rw_ct_modify);
        break;
    case ESW_ROP_CT_DEL:
        expected = sizeof(struct esw_rw_rule_id);
        break;
    case ESW_ROP_CT_FLUSH:
        expected = sizeof(struct esw_rw_ct_flush);
        break;
    case ESW_ROP_DAEMON_UPDATE:
        expected = sizeof(struct esw_rw_update_req);
        break;
    case ESW_ROP_DAEMON_FUNCTIONS:
        expected = sizeof(struct esw_rw_name);
        break;
    case ESW_ROP_DAEMON_HOTPLUG:
        expected = sizeof(struct esw_rw_daemon_hotplug);
        break;
    case ESW_ROP_DAEMON_UNPLUG:
        expected = sizeof(struct esw_rw_daemon_unplug);
        break;
    case ESW_ROP_VPORT_ADD:
        expected = sizeof(struct esw_rw_vport_add);
        break;
    case ESW_ROP_VPORT_DEL:
    case ESW_ROP_VPORT_GET_INFO:
    case ESW_ROP_VPORT_LIST:
    case ESW_ROP_VPORT_SET_MTU:
    case ESW_ROP_VPORT_SET_ADMIN:
    case ESW_ROP_VPORT_GET_STATS:
    case ESW_ROP_VPORT_GET_POLICY:
    case ESW_ROP_VPORT_GUEST_RESET:
    case ESW_ROP_VPORT_SET_REP_QUEUES:
    case ESW_ROP_METER_DEL:
    case ESW_ROP_METER_GET_STATS:
    case ESW_ROP_METER_GET_CONFIG:
    case ESW_ROP_METER_LIST:
    case ESW_ROP_REP_GET_FD:
    case ESW_ROP_REP_SEND_RING:
    case ESW_ROP_HOST_GET:
    case ESW_ROP_HOST_CAPTURE_READ:
    case ESW_ROP_RULE_LIST:
    case ESW_ROP_CT_LIST:
        expected = sizeof(struct esw_rw_vport);
        break;
    case ESW_ROP_VPORT_LOOKUP:
        expected = sizeof(struct esw_rw_name);
        break;
    case ESW_ROP_VPORT_SET_MAC:
    case ESW_ROP_VPORT_GUEST_SET_MAC:
        expected = sizeof(struct esw_rw_mac);
        break;
    case ESW_ROP_VPORT_SET_POLICY:
        expected = sizeof(struct esw_rw_policy);
        break;
    case ESW_ROP_RULE_VALIDATE:
    case ESW_ROP_RULE_ADD:
    case ESW_ROP_RULE_MODIFY:
        expected = sizeof(struct esw_rw_rule);
        break;
    case ESW_ROP_RULE_DEL:
    case ESW_ROP_RULE_GET_STATS:
        expected = sizeof(struct esw_rw_rule_id);
        break;
    case ESW_ROP_METER_SET:
        expected = sizeof(struct esw_rw_meter);
        break;
    case ESW_ROP_REP_SEND:
    case ESW_ROP_TRACE_PACKET:
    case ESW_ROP_TRACE_REP_SEND:
    case ESW_ROP_HOST_INJECT:
        return decode_pkt(p, len, req, reason, size);
    case ESW_N_ROPS:
    default:
        return bad(reason, size, "unknown operation %u", hdr->op);
    }
    if (len != expected) {
        return bad(reason, size, "%s: %zu bytes, expected %zu",
                   esw_rop_name(hdr->op), len, expected);
    }

    switch ((enum esw_rop) hdr->op) {
    case ESW_ROP_HELLO: {
        struct esw_rw_hello h;

        memcpy(&h, p, sizeof h);
        req->id = h.abi;
        break;
    }
    case ESW_ROP_DEV_OPEN:
        return decode_dev_open(p, req, reason, size);
    case ESW_ROP_VPORT_ADD:
        return decode_vport_add(p, &req->vport_cfg, &req->io, reason, size);
    case ESW_ROP_DAEMON_FUNCTIONS: {
        struct esw_rw_name n;

        memcpy(&n, p, sizeof n);
        if (esw_rproto_check_string(n.name, sizeof n.name)) {
            return bad(reason, size, "daemon-functions: name not "
                       "terminated");
        }
        memcpy(req->name, n.name, sizeof req->name);
        break;
    }
    case ESW_ROP_DAEMON_UNPLUG: {
        struct esw_rw_daemon_unplug u;

        memcpy(&u, p, sizeof u);
        if (esw_rproto_check_string(u.name, sizeof u.name)) {
            return bad(reason, size, "daemon-unplug: name not terminated");
        }
        memcpy(req->name, u.name, sizeof req->name);
        req->vport = u.vport;
        break;
    }
    case ESW_ROP_DAEMON_HOTPLUG: {
        const uint8_t *fns = p + offsetof(struct esw_rw_daemon_hotplug, fns);
        uint32_t n;
        int error;

        memcpy(&n, p + offsetof(struct esw_rw_daemon_hotplug, n), sizeof n);
        if (p[offsetof(struct esw_rw_daemon_hotplug, tap_fallback)] > 1
            || !n || n > ESW_RPROTO_MAX_FUNCTIONS) {
            return bad(reason, size, "daemon-hotplug: bad boolean or "
                       "%"PRIu32" functions (1..%d)", n,
                       ESW_RPROTO_MAX_FUNCTIONS);
        }
        error = decode_dev_open(p + offsetof(struct esw_rw_daemon_hotplug,
                                             open), req, reason, size);
        for (uint32_t i = 0; !error && i < n; i++) {
            /* Each is checked now, decoded again by the caller. */
            error = decode_vport_add(fns + i * sizeof(struct esw_rw_vport_add),
                                     &req->vport_cfg, &req->io, reason, size);
        }
        if (error) {
            return error;
        }
        req->arg = n;
        req->hotplug = p;
        break;
    }
    case ESW_ROP_VPORT_LOOKUP: {
        struct esw_rw_name n;

        memcpy(&n, p, sizeof n);
        if (esw_rproto_check_string(n.name, sizeof n.name)) {
            return bad(reason, size, "vport-lookup: name not terminated");
        }
        memcpy(req->name, n.name, sizeof req->name);
        break;
    }
    case ESW_ROP_VPORT_SET_MAC:
    case ESW_ROP_VPORT_GUEST_SET_MAC: {
        struct esw_rw_mac m;

        memcpy(&m, p, sizeof m);
        req->vport = m.vport;
        req->mac = m.mac;
        break;
    }
    case ESW_ROP_VPORT_SET_POLICY: {
        const uint8_t *cfg = p + offsetof(struct esw_rw_policy, cfg);
        struct esw_rw_policy *pol;

        if (p[offsetof(struct esw_rw_policy, has_policy)] > 1
            || esw_rproto_check_policy(cfg)) {
            return bad(reason, size, "vport-set-policy: bad policy");
        }
        pol = malloc(sizeof *pol);
        if (!pol) {
            return ENOMEM;
        }
        memcpy(pol, p, sizeof *pol);
        req->vport = pol->vport;
        req->has_policy = pol->has_policy;
        req->policy = pol->cfg;
        free(pol);
        break;
    }
    case ESW_ROP_RULE_VALIDATE:
    case ESW_ROP_RULE_ADD:
    case ESW_ROP_RULE_MODIFY: {
        struct esw_rw_rule *r = malloc(sizeof *r);

        if (!r) {
            return ENOMEM;
        }
        memcpy(r, p, sizeof *r);
        req->id = r->id;
        req->spec = r->spec;
        free(r);
        if (esw_rproto_check_spec(&req->spec)) {
            return bad(reason, size, "%s: bad action list",
                       esw_rop_name(hdr->op));
        }
        if (hdr->op != ESW_ROP_RULE_VALIDATE && !req->id) {
            return bad(reason, size, "%s: rule id 0", esw_rop_name(hdr->op));
        }
        break;
    }
    case ESW_ROP_RULE_DEL:
    case ESW_ROP_RULE_GET_STATS: {
        struct esw_rw_rule_id r;

        memcpy(&r, p, sizeof r);
        req->id = r.id;
        break;
    }
    case ESW_ROP_METER_SET: {
        struct esw_rw_meter m;

        if (esw_rproto_check_meter(p + offsetof(struct esw_rw_meter, cfg))) {
            return bad(reason, size, "meter-set: bad configuration");
        }
        memcpy(&m, p, sizeof m);
        req->vport = m.id;
        req->meter = m.cfg;
        break;
    }
    case ESW_ROP_VPORT_DEL:
    case ESW_ROP_VPORT_GET_INFO:
    case ESW_ROP_VPORT_LIST:
    case ESW_ROP_VPORT_SET_MTU:
    case ESW_ROP_VPORT_SET_ADMIN:
    case ESW_ROP_VPORT_GET_STATS:
    case ESW_ROP_VPORT_GET_POLICY:
    case ESW_ROP_VPORT_GUEST_RESET:
    case ESW_ROP_VPORT_SET_REP_QUEUES:
    case ESW_ROP_METER_DEL:
    case ESW_ROP_METER_GET_STATS:
    case ESW_ROP_METER_GET_CONFIG:
    case ESW_ROP_METER_LIST:
    case ESW_ROP_REP_GET_FD:
    case ESW_ROP_REP_SEND_RING:
    case ESW_ROP_HOST_GET:
    case ESW_ROP_HOST_CAPTURE_READ:
    case ESW_ROP_RULE_LIST:
    case ESW_ROP_CT_LIST: {
        struct esw_rw_vport v;

        memcpy(&v, p, sizeof v);
        req->vport = v.vport;
        req->arg = v.arg;
        req->arg2 = v.arg2;
        if (hdr->op == ESW_ROP_HOST_CAPTURE_READ
            && (!v.arg2 || v.arg2 > ESW_RPROTO_MAX_BATCH)) {
            return bad(reason, size, "%s: batch of %"PRIu32", expected "
                       "1..%d", esw_rop_name(hdr->op), v.arg2,
                       ESW_RPROTO_MAX_BATCH);
        }
        if (hdr->op == ESW_ROP_RULE_LIST
            && (!v.arg2 || v.arg2 > ESW_RPROTO_MAX_RULES)) {
            return bad(reason, size, "rule-list: batch of %"PRIu32", "
                       "expected 1..%d", v.arg2, ESW_RPROTO_MAX_RULES);
        }
        if (hdr->op == ESW_ROP_CT_LIST
            && (!v.arg2 || v.arg2 > ESW_RPROTO_MAX_CTS)) {
            return bad(reason, size, "ct-list: batch of %"PRIu32", "
                       "expected 1..%d", v.arg2, ESW_RPROTO_MAX_CTS);
        }
        if (hdr->op == ESW_ROP_VPORT_SET_ADMIN && v.arg > 1) {
            return bad(reason, size, "vport-set-admin: bad state");
        }
        break;
    }
    case ESW_ROP_DAEMON_UPDATE: {
        const char *binary = (const char *) p
                             + offsetof(struct esw_rw_update_req, binary);

        memcpy(&req->fault, p + offsetof(struct esw_rw_update_req, fault),
               sizeof req->fault);
        if (esw_rproto_check_string(binary, ESW_RPROTO_PATH_MAX)
            || (binary[0] && binary[0] != '/')
            || req->fault > ESW_UPDATE_FAULT_COUNT) {
            return bad(reason, size, "daemon-update: bad binary path or "
                       "fault");
        }
        req->binary = binary;
        break;
    }
    case ESW_ROP_CT_ADD: {
        struct esw_rw_ct c;

        memcpy(&c, p, sizeof c);
        if (esw_rproto_ct_spec_from_wire(&c.spec, &req->ct)) {
            return bad(reason, size, "ct-add: bad boolean");
        }
        if (!c.id) {
            return bad(reason, size, "ct-add: connection id 0");
        }
        req->id = c.id;
        break;
    }
    case ESW_ROP_CT_MODIFY: {
        struct esw_rw_ct_modify m;

        memcpy(&m, p, sizeof m);
        req->id = m.id;
        req->ct.mark = m.mark;
        req->ct.label[0] = m.label[0];
        req->ct.label[1] = m.label[1];
        break;
    }
    case ESW_ROP_CT_DEL: {
        struct esw_rw_rule_id r;

        memcpy(&r, p, sizeof r);
        req->id = r.id;
        break;
    }
    case ESW_ROP_CT_FLUSH: {
        struct esw_rw_ct_flush f;

        memcpy(&f, p, sizeof f);
        if (f.all > 1 || (f.all && f.zone)) {
            return bad(reason, size, "ct-flush: bad boolean or a zone with "
                       "every zone");
        }
        req->ct.zone = f.zone;
        req->ct_all = f.all;
        break;
    }
    case ESW_ROP_DEV_CLOSE:
    case ESW_ROP_RULE_COUNT:
    case ESW_ROP_IS_IDLE:
    case ESW_ROP_DAEMON_STATUS:
    case ESW_ROP_CT_MAP:
    case ESW_ROP_CT_COUNT:
        break;
    case ESW_ROP_REP_SEND:
    case ESW_ROP_TRACE_PACKET:
    case ESW_ROP_TRACE_REP_SEND:
    case ESW_ROP_HOST_INJECT:
    case ESW_N_ROPS:
    default:
        break;
    }
    return 0;
}

/* Socket I/O. */

static int
wait_fd(int sock, short events, int timeout_ms)
{
    struct pollfd pfd = { .fd = sock, .events = events };
    int n;

    do {
        n = poll(&pfd, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? errno : n == 0 ? ETIMEDOUT : 0;
}

int
esw_rproto_send(int sock, const struct esw_rmsg_hdr *hdr,
                const void *payload, const int fds[], int timeout_ms)
{
    union {
        struct cmsghdr cm;
        char buf[CMSG_SPACE(ESW_RPROTO_MAX_FDS * sizeof(int))];
    } control;
    struct iovec iov[2] = {
        { .iov_base = (void *) hdr, .iov_len = sizeof *hdr },
        { .iov_base = (void *) payload, .iov_len = hdr->len },
    };
    struct msghdr msg = { .msg_iov = iov, .msg_iovlen = hdr->len ? 2 : 1 };
    size_t total = sizeof *hdr + hdr->len;

    if (hdr->n_fds) {
        size_t n_fds = hdr->n_fds;
        struct cmsghdr *cmsg;

        if (n_fds > ESW_RPROTO_MAX_FDS) {
            return EINVAL;
        }
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(n_fds * sizeof(int));
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(n_fds * sizeof(int));
        memcpy(CMSG_DATA(cmsg), fds, n_fds * sizeof(int));
    }
    while (total) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            int error = errno;

            if (error == EINTR) {
                continue;
            }
            if (error == EAGAIN || error == EWOULDBLOCK) {
                error = wait_fd(sock, POLLOUT, timeout_ms);
                if (!error) {
                    continue;
                }
            }
            return error;
        }
        total -= n;
        msg.msg_control = NULL;     /* The descriptor went with byte 1. */
        msg.msg_controllen = 0;
        while (n > 0 && msg.msg_iovlen) {
            size_t step = (size_t) n < msg.msg_iov->iov_len
                          ? (size_t) n : msg.msg_iov->iov_len;

            msg.msg_iov->iov_base = (char *) msg.msg_iov->iov_base + step;
            msg.msg_iov->iov_len -= step;
            n -= step;
            if (!msg.msg_iov->iov_len) {
                msg.msg_iov++;
                msg.msg_iovlen--;
            }
        }
    }
    return 0;
}

static void
close_fds(int fds[ESW_RPROTO_MAX_FDS])
{
    for (size_t i = 0; i < ESW_RPROTO_MAX_FDS; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

int
esw_rproto_recv_hdr(int sock, struct esw_rmsg_hdr *hdr,
                    int fds[ESW_RPROTO_MAX_FDS], int timeout_ms)
{
    union {
        struct cmsghdr cm;
        char buf[CMSG_SPACE(8 * sizeof(int))];
    } control;
    size_t got = 0, n_got = 0;

    for (size_t i = 0; i < ESW_RPROTO_MAX_FDS; i++) {
        fds[i] = -1;
    }
    while (got < sizeof *hdr) {
        struct iovec iov = { .iov_base = (char *) hdr + got,
                             .iov_len = sizeof *hdr - got };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                              .msg_control = control.buf,
                              .msg_controllen = sizeof control.buf };
        ssize_t n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        if (n < 0) {
            int error = errno;

            if (error == EINTR) {
                continue;
            }
            if (error == EAGAIN || error == EWOULDBLOCK) {
                error = wait_fd(sock, POLLIN, timeout_ms);
                if (!error) {
                    continue;
                }
            }
            close_fds(fds);
            return error;
        }
        if (n == 0) {
            close_fds(fds);
            return EPIPE;
        }
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c;
             c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                size_t n_fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

                for (size_t i = 0; i < n_fds; i++) {
                    int fd;

                    memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
                    if (n_got < ESW_RPROTO_MAX_FDS) {
                        fds[n_got++] = fd;
                    } else {
                        close(fd);      /* More than we take. */
                    }
                }
            }
        }
        got += n;
    }
    return 0;
}

int
esw_rproto_recv_all(int sock, void *buf_, size_t len, int timeout_ms)
{
    uint8_t *buf = buf_;

    while (len) {
        ssize_t n = recv(sock, buf, len, MSG_DONTWAIT);

        if (n < 0) {
            int error = errno;

            if (error == EINTR) {
                continue;
            }
            if (error == EAGAIN || error == EWOULDBLOCK) {
                error = wait_fd(sock, POLLIN, timeout_ms);
                if (!error) {
                    continue;
                }
            }
            return error;
        }
        if (n == 0) {
            return EPIPE;
        }
        buf += n;
        len -= n;
    }
    return 0;
}

int
esw_rproto_default_socket(char *path, size_t size)
{
    const char *env = getenv("OVS_ESWITCHD_SOCKET");
    const char *rundir = getenv("OVS_RUNDIR");
    int n;

    if (env && env[0]) {
        n = snprintf(path, size, "%s", env);
    } else {
        n = snprintf(path, size, "%s/%s",
                     rundir && rundir[0] ? rundir : ESW_RUNDIR,
                     ESW_RPROTO_SOCKET);
    }
    return n < 0 || (size_t) n >= size ? ENAMETOOLONG : 0;
}
