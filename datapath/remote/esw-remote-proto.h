/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_REMOTE_PROTO_H
#define ESW_REMOTE_PROTO_H 1

/* The device daemon's protocol: how the "remote" driver (esw-remote.c)
 * asks ovs-eswitchd (esw-remote-server.c) to run esw.h and esw-emu.h calls
 * on a device it hosts.
 *
 * Transport
 * =========
 *
 * A unix stream socket.  Every message is a 'struct esw_rmsg_hdr' followed
 * by 'len' payload bytes.  A reply carries the request's 'op' and 'seq';
 * its 'result' is the call's return value (0 or a positive errno, esw.h's
 * convention).  File descriptors (a representor queue's eventfd and the
 * memfd of its shared-memory ring, esw-remote-ring.h) travel with the
 * first byte of a reply, as SCM_RIGHTS.
 *
 * One connection serves one device: the first request is ESW_ROP_HELLO,
 * the second ESW_ROP_DEV_OPEN; the device is closed on ESW_ROP_DEV_CLOSE.
 * A connection that goes away without it leaves its device kept, for the
 * next DEV_OPEN of that name to take over (esw_rsession_detach()).  A
 * connection that opens no device may send admin requests (ESW_ROP_DAEMON_*,
 * ovs-eswitchctl) after its HELLO.  Requests are answered in order, so
 * a client may send several before reading their replies (pipelining);
 * the remote driver does so for rule deletions, which never fail.
 *
 * Payloads
 * ========
 *
 * The payloads are the fixed wire structures below, which embed esw.h's
 * plain-data structures in this host's layout: both ends run on the same
 * machine, and ESW_ROP_HELLO compares the protocol version and an ABI
 * fingerprint (the sizes of every embedded structure) before anything
 * else.  Pointers never travel: a config's pointer to its emulator part
 * is a "has_..." flag and the part itself; a rule handle is a 64-bit id
 * the client chooses.
 *
 * Every message is checked before use, on both sides: magic, version,
 * length (exact for fixed payloads, bounded for packets), NUL-terminated
 * strings, booleans that are 0 or 1, counts within their arrays, enums
 * within their range.  A malformed request gets EINVAL (EPROTO for a bad
 * header, after which the daemon closes the connection, since framing is
 * lost); a malformed reply makes the client's call fail with ENODEV, as a
 * device that went away. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esw.h"
#include "esw-emu.h"
#include "esw-policy-config.h"

#define ESW_RPROTO_MAGIC   0x52575345u     /* "ESWR" in memory order. */
#define ESW_RPROTO_VERSION 4
#define ESW_RPROTO_MAX_MSG (1u << 20)      /* Payload bound. */
#define ESW_RPROTO_MAX_BATCH 64            /* Packets in one reply. */
#define ESW_RPROTO_SOCKET  "ovs-eswitchd.sock"
#define ESW_RPROTO_MAX_FDS 2

enum esw_rop {
    ESW_ROP_HELLO = 1,
    ESW_ROP_DEV_OPEN,
    ESW_ROP_DEV_CLOSE,
    ESW_ROP_VPORT_ADD,
    ESW_ROP_VPORT_DEL,
    ESW_ROP_VPORT_GET_INFO,
    ESW_ROP_VPORT_LOOKUP,
    ESW_ROP_VPORT_LIST,
    ESW_ROP_VPORT_SET_MAC,
    ESW_ROP_VPORT_SET_MTU,
    ESW_ROP_VPORT_SET_ADMIN,
    ESW_ROP_VPORT_SET_POLICY,
    ESW_ROP_VPORT_GUEST_SET_MAC,
    ESW_ROP_VPORT_GET_STATS,
    ESW_ROP_VPORT_GET_POLICY,
    ESW_ROP_VPORT_GUEST_RESET,
    ESW_ROP_VPORT_SET_REP_QUEUES,
    ESW_ROP_RULE_VALIDATE,
    ESW_ROP_RULE_ADD,
    ESW_ROP_RULE_MODIFY,
    ESW_ROP_RULE_DEL,
    ESW_ROP_RULE_GET_STATS,
    ESW_ROP_RULE_COUNT,
    ESW_ROP_METER_SET,
    ESW_ROP_METER_DEL,
    ESW_ROP_METER_GET_STATS,
    ESW_ROP_METER_GET_CONFIG,
    ESW_ROP_METER_LIST,
    ESW_ROP_REP_GET_FD,
    ESW_ROP_REP_SEND_RING,
    ESW_ROP_REP_SEND,
    ESW_ROP_TRACE_PACKET,
    ESW_ROP_TRACE_REP_SEND,
    ESW_ROP_HOST_GET,
    ESW_ROP_HOST_INJECT,
    ESW_ROP_HOST_CAPTURE_READ,
    ESW_ROP_IS_IDLE,
    ESW_ROP_RULE_LIST,
    ESW_ROP_DAEMON_STATUS,      /* Admin requests: on a connection */
    ESW_ROP_DAEMON_UPDATE,      /* without a device (ovs-eswitchctl). */
    ESW_ROP_DAEMON_FUNCTIONS,   /* Admin: a device's functions. */
    ESW_ROP_DAEMON_HOTPLUG,     /* Admin: a function added to a device
                                 * without a client. */
    ESW_ROP_DAEMON_UNPLUG,      /* Admin: and removed. */
    ESW_ROP_CT_MAP,             /* Connection table (version 4), see */
    ESW_ROP_CT_ADD,             /* "Connections" below. */
    ESW_ROP_CT_MODIFY,
    ESW_ROP_CT_DEL,
    ESW_ROP_CT_FLUSH,
    ESW_ROP_CT_COUNT,
    ESW_ROP_CT_LIST,
    ESW_N_ROPS
};

/* Returns the name of 'op' ("rule-add"), or "unknown". */
const char *esw_rop_name(unsigned int op);

struct esw_rmsg_hdr {
    uint32_t magic;             /* ESW_RPROTO_MAGIC. */
    uint16_t version;           /* ESW_RPROTO_VERSION. */
    uint16_t op;                /* enum esw_rop. */
    uint32_t len;               /* Payload bytes that follow. */
    uint32_t seq;               /* Chosen by the client, echoed. */
    int32_t result;             /* Replies: 0 or a positive errno. */
    uint32_t n_fds;             /* Replies: descriptors attached
                                 * (0..ESW_RPROTO_MAX_FDS). */
};

/* Wire payloads.  "Requests" and "replies" of each op; an op not listed
 * has an empty payload that way. */

struct esw_rw_hello {           /* Request and reply. */
    uint64_t abi;               /* esw_rproto_abi(). */
};

struct esw_rw_dev_open {        /* Request; reply: struct esw_caps. */
    char name[ESW_NAME_MAX];
    struct esw_dev_config cfg;  /* 'emu' NULL. */
    uint8_t has_emu;
    struct esw_emu_dev_config emu;
};

struct esw_rw_vport {           /* Requests naming a vport or a meter:
                                 * 'arg' is the MTU, admin state, number
                                 * of queues, queue, or most ids listed;
                                 * 'arg2' the most packets read. */
    uint32_t vport;
    uint32_t arg;
    uint32_t arg2;
};

struct esw_rw_vport_add {       /* Request; reply: esw_rw_error_u32. */
    struct esw_vport_config cfg;    /* 'io' NULL. */
    uint8_t has_io;
    struct esw_io_config io;
};

struct esw_rw_error_u32 {       /* Replies with an error and a number. */
    struct esw_error err;
    uint32_t value;
};

struct esw_rw_name {            /* VPORT_LOOKUP request. */
    char name[ESW_NAME_MAX];
};

struct esw_rw_mac {             /* VPORT_SET_MAC, VPORT_GUEST_SET_MAC. */
    uint32_t vport;
    struct esw_eth_addr mac;
};

struct esw_rw_policy {          /* SET_POLICY request, GET_POLICY reply. */
    uint32_t vport;
    uint8_t has_policy;
    struct esw_policy_config cfg;
};

struct esw_rw_rule {            /* RULE_VALIDATE/ADD/MODIFY requests. */
    uint64_t id;                /* 0 for VALIDATE. */
    struct esw_rule_spec spec;
};

struct esw_rw_rule_reply {      /* RULE_ADD/MODIFY replies. */
    struct esw_error err;
    struct esw_rule_spec spec;  /* As the device keeps it (the match
                                 * outside the mask cleared...). */
};

struct esw_rw_rule_id {         /* RULE_DEL, RULE_GET_STATS requests. */
    uint64_t id;
};

struct esw_rw_meter {           /* METER_SET request, GET_CONFIG reply. */
    uint32_t id;
    struct esw_meter_config cfg;
};

struct esw_rw_count {           /* Replies: RULE_COUNT, IS_IDLE. */
    uint64_t n;
};

struct esw_rw_rules {           /* RULE_LIST reply (request: esw_rw_vport,
                                 * 'arg' the first index in insertion
                                 * order, 'arg2' the most, 1..
                                 * ESW_RPROTO_MAX_RULES): 'n' esw_rw_rule
                                 * follow, 'total' the device's rules. */
    uint32_t n;
    uint32_t total;
};

#define ESW_RPROTO_MAX_RULES 128

struct esw_rw_list {            /* VPORT_LIST, METER_LIST replies:
                                 * followed by min(n, asked) uint32s. */
    uint32_t n;
};

struct esw_rw_pkt {             /* A packet: followed by 'len' bytes. */
    uint32_t len;
    uint32_t in_vport;
    uint32_t mark;
};

struct esw_rw_pkt_req {         /* REP_SEND, HOST_INJECT, TRACE_*
                                 * requests: one esw_rw_pkt follows. */
    uint32_t vport;
};

struct esw_rw_pkts {            /* HOST_CAPTURE_READ replies:
                                 * 'n' esw_rw_pkt, each with its bytes. */
    uint32_t n;
};

struct esw_rw_trace {           /* TRACE_PACKET reply, then the packet to
                                 * the representor if 'has_pkt'. */
    struct esw_trace trace;     /* Pointers NULL. */
    uint64_t rule_id;
    uint64_t stage_rule_ids[ESW_TRACE_MAX_STAGES];
    uint8_t has_pkt;
};

/* Connections (esw.h, "Connection tracking").
 *
 * The client names each entry with a nonzero 64-bit id it chooses, as
 * rules.  A 'struct esw_ct_spec' travels field by field
 * (esw_rw_ct_spec: both tuples' addresses as the 16 bytes of
 * union esw_ip_addr, whatever the family, and 'ipv6' a checked boolean),
 * so that the wire does not depend on what the device supports.
 *
 * Counters do not need a round trip: the daemon keeps every entry's
 * counters and last use in a table in shared memory (esw-remote-ring.h's
 * 'struct esw_rct'), one slot per entry, that the client maps once
 * (CT_MAP) and reads without a system call.  The daemon copies the
 * device's counters there at least every ESW_RCT_PUBLISH_MS, and before it
 * answers CT_COUNT, CT_LIST and an IS_IDLE that finds the device idle, so
 * that a reader after one of those sees the counters as of then.
 *
 *   CT_MAP     empty request; reply esw_rw_count (the table's slots), the
 *              table's memfd attached.  ENOENT: no connection table.
 *   CT_ADD     request esw_rw_ct; reply esw_rw_ct_reply (the entry's
 *              slot); esw_ct_add()'s errors, EINVAL for an id in use.
 *   CT_MODIFY  request esw_rw_ct_modify; ENOENT (no such id, or flushed).
 *   CT_DEL     request esw_rw_rule_id; ENOENT.  Never fails otherwise:
 *              the client sends it without waiting, as RULE_DEL.
 *   CT_FLUSH   request esw_rw_ct_flush; reply esw_rw_count (entries taken
 *              out).  Flushed entries keep their ids and slots until
 *              CT_DEL, as esw_ct_flush() keeps handles.
 *   CT_COUNT   empty request; reply esw_rw_count (entries not flushed).
 *   CT_LIST    request esw_rw_vport ('arg' the first, 'arg2' the most,
 *              1..ESW_RPROTO_MAX_CTS, in slot order); reply esw_rw_cts
 *              followed by 'n' esw_rw_ct_entry. */
#define ESW_RPROTO_MAX_CTS 256

struct esw_rw_ct_tuple {
    uint8_t src[16], dst[16];   /* union esw_ip_addr's bytes. */
    uint16_t src_port, dst_port;    /* Network order. */
    uint8_t ip_proto;
};

struct esw_rw_ct_spec {
    uint16_t zone;
    uint16_t nat;               /* ESW_CT_NAT_*. */
    uint8_t ipv6;               /* 0 or 1. */
    struct esw_rw_ct_tuple orig, reply;
    uint32_t mark;
    uint64_t label[2];
};

struct esw_rw_ct {              /* CT_ADD request. */
    uint64_t id;
    struct esw_rw_ct_spec spec;
};

struct esw_rw_ct_reply {        /* CT_ADD reply. */
    struct esw_error err;
    uint32_t slot;
};

struct esw_rw_ct_modify {       /* CT_MODIFY request. */
    uint64_t id;
    uint32_t mark;
    uint64_t label[2];
};

struct esw_rw_ct_flush {        /* CT_FLUSH request. */
    uint16_t zone;
    uint8_t all;                /* 1: every zone ('zone' 0). */
};

struct esw_rw_cts {             /* CT_LIST reply: 'n' entries follow,
                                 * 'total' the slots in use. */
    uint32_t n;
    uint32_t total;
};

struct esw_rw_ct_entry {
    uint64_t id;
    uint32_t slot;
    uint8_t flushed;
    struct esw_rw_ct_spec spec;
};

/* Converts a connection spec to and from its wire form.  The latter
 * returns EINVAL if 'ipv6' is neither 0 nor 1. */
void esw_rproto_ct_spec_to_wire(const struct esw_ct_spec *,
                                struct esw_rw_ct_spec *);
int esw_rproto_ct_spec_from_wire(const struct esw_rw_ct_spec *,
                                 struct esw_ct_spec *);

/* Admin requests (ovs-eswitchctl), after HELLO on a connection that
 * opens no device.  DAEMON_STATUS: empty request, reply
 * esw_rw_daemon_status followed by 'n_devs' esw_rw_daemon_dev.
 * DAEMON_UPDATE: request esw_rw_update_req, reply esw_rw_update_result
 * (the live update's, from the new daemon when it took over; from the
 * running one when it refused the request or the new one failed, the
 * reply's result an errno then).  See ovs-eswitchd(8). */
#define ESW_RPROTO_PATH_MAX 4096
#define ESW_RPROTO_VERSION_MAX 32
#define ESW_RPROTO_MESSAGE_MAX 256

enum esw_update_state {
    ESW_UPDATE_NONE,            /* No update since the daemon started. */
    ESW_UPDATE_RUNNING,
    ESW_UPDATE_DONE,
    ESW_UPDATE_FAILED,          /* The running daemon kept the devices. */
    ESW_UPDATE_REFUSED,         /* Only in a DAEMON_UPDATE reply: the
                                 * request was refused, nothing done. */
};

/* Faults injected into the state handed over, for tests of the new
 * daemon's refusal (esw-remote-state.h): the state truncated, of another
 * version, or with a count beyond its records. */
enum esw_update_fault {
    ESW_UPDATE_FAULT_NONE,
    ESW_UPDATE_FAULT_TRUNCATE,
    ESW_UPDATE_FAULT_VERSION,
    ESW_UPDATE_FAULT_COUNT,
};

struct esw_rw_update_req {
    char binary[ESW_RPROTO_PATH_MAX];   /* Absolute; "" the daemon's own
                                         * path. */
    uint32_t fault;                     /* enum esw_update_fault. */
};

struct esw_rw_update_result {
    uint32_t state;             /* enum esw_update_state. */
    int32_t error;              /* 0, or why it failed or was refused. */
    int64_t started;            /* Wall clock, seconds since the epoch. */
    uint64_t pause_us;          /* Forwarding paused (DONE, FAILED). */
    uint32_t old_pid, new_pid;
    char old_version[ESW_RPROTO_VERSION_MAX];
    char new_version[ESW_RPROTO_VERSION_MAX];
    char old_binary[ESW_RPROTO_PATH_MAX];
    char new_binary[ESW_RPROTO_PATH_MAX];
    char message[ESW_RPROTO_MESSAGE_MAX];   /* Why, for FAILED/REFUSED. */
};

struct esw_rw_daemon_status {
    uint32_t pid;
    char version[ESW_RPROTO_VERSION_MAX];
    char binary[ESW_RPROTO_PATH_MAX];
    uint64_t uptime_ms;         /* Since the first daemon started (live
                                 * updates keep it). */
    uint64_t process_ms;        /* Since this process started. */
    uint32_t n_updates;         /* Live updates done. */
    uint32_t n_clients;         /* Connections. */
    uint32_t n_attached;        /* Devices with a client. */
    uint32_t n_detached;        /* Devices kept for a client. */
    struct esw_rw_update_result last;
    uint32_t n_devs;
};

struct esw_rw_daemon_dev {
    char name[ESW_NAME_MAX];
    uint8_t attached;
    uint32_t n_vports, n_rules, n_meters;
    uint64_t detached_ms;       /* How long without a client. */
};

/* Functions of the devices the daemon hosts (ovs-eswitchctl --daemon:
 * hotplug before or without ovs-vswitchd).
 *
 * DAEMON_FUNCTIONS: request esw_rw_name (the device), reply
 * esw_rw_daemon_fns followed by 'n' esw_rw_daemon_fn, in vport order;
 * ENODEV if the daemon has no such device.  Read-only: allowed on a
 * device a client controls.
 *
 * DAEMON_HOTPLUG: request esw_rw_daemon_hotplug, reply esw_rw_error_u32
 * (the new function's vport).  The device is created with 'open' if the
 * daemon has none of that name; each of 'fns' but the last is added
 * unless the device has a function of its kind and numbers already (the
 * layout ovs-vswitchd would give the device); the last is the new
 * function, EEXIST if the device has it.  A device created this way is
 * kept without a client (as one whose client went away), for a client
 * (ovs-vswitchd) to take it over; it does not expire (--keep-devices)
 * until a client took it over.  EBUSY if a client controls the device.
 *
 * DAEMON_UNPLUG: request esw_rw_daemon_unplug; EBUSY if a client controls
 * the device, ENODEV without the device, ENOENT without the vport. */
#define ESW_RPROTO_MAX_FUNCTIONS 16

struct esw_rw_daemon_hotplug {
    struct esw_rw_dev_open open;
    uint8_t tap_fallback;       /* A tap host side that cannot be created
                                 * (no permission) becomes a capture one,
                                 * for this function and the next. */
    uint32_t n;                 /* 1..ESW_RPROTO_MAX_FUNCTIONS. */
    struct esw_rw_vport_add fns[ESW_RPROTO_MAX_FUNCTIONS];
};

struct esw_rw_daemon_unplug {
    char name[ESW_NAME_MAX];    /* The device. */
    uint32_t vport;
};

struct esw_rw_daemon_fns {
    uint8_t attached;           /* A client controls the device. */
    uint32_t n;
};

struct esw_rw_daemon_fn {
    struct esw_vport_info info; /* 'rep_fd' -1. */
    struct esw_host_info host;
};

/* Checks a DAEMON_UPDATE reply or a status's 'last': EINVAL if a string
 * is not terminated or the state out of range. */
int esw_rproto_check_update_result(const struct esw_rw_update_result *);

/* Fingerprint of the structures above, as both ends were built. */
uint64_t esw_rproto_abi(void);

/* Checks a message header as received ('is_reply' for the client): EPROTO
 * (bad magic, version, length, descriptor count or op), else 0. */
int esw_rproto_check_hdr(const struct esw_rmsg_hdr *, bool is_reply);

/* A request, decoded and checked by esw_rproto_decode_request(). */
struct esw_rreq {
    uint16_t op;
    uint32_t seq;
    uint32_t vport, arg, arg2;
    uint64_t id;
    char name[ESW_NAME_MAX];
    struct esw_dev_config dev_cfg;      /* 'emu' points to 'emu'. */
    struct esw_emu_dev_config emu;
    struct esw_vport_config vport_cfg;  /* 'io' points to 'io'. */
    struct esw_io_config io;
    struct esw_eth_addr mac;
    bool has_policy;
    struct esw_policy_config policy;
    struct esw_rule_spec spec;
    struct esw_meter_config meter;
    struct esw_rw_pkt pkt;              /* Packet requests. */
    const uint8_t *frame;               /* Into the message. */
    const char *binary;                 /* DAEMON_UPDATE: into the
                                         * message. */
    uint32_t fault;
    const uint8_t *hotplug;             /* DAEMON_HOTPLUG: the
                                         * esw_rw_daemon_hotplug, checked,
                                         * in the message. */
    struct esw_ct_spec ct;              /* CT_ADD; CT_MODIFY: 'mark' and
                                         * 'label'; CT_FLUSH: 'zone'. */
    bool ct_all;                        /* CT_FLUSH: every zone. */
};

/* Decodes DAEMON_HOTPLUG's function 'i' (of a request that
 * esw_rproto_decode_request() accepted) into 'cfg' and 'io' ('cfg->io'
 * points to 'io' if it has a host side). */
void esw_rproto_hotplug_fn(const uint8_t *hotplug, uint32_t i,
                           struct esw_vport_config *cfg,
                           struct esw_io_config *io);

/* Decodes and checks request 'payload' (of 'hdr->len' bytes) into 'req'.
 * Returns 0 or EINVAL with a reason in 'reason'.  Never reads outside
 * 'payload', never trusts a pointer or a count from it. */
int esw_rproto_decode_request(const struct esw_rmsg_hdr *hdr,
                              const uint8_t *payload, struct esw_rreq *req,
                              char *reason, size_t reason_size);

/* Checks of plain structures received from the other side: EINVAL if a
 * boolean is neither 0 nor 1, a count exceeds its array, an enum is out of
 * range or a string is not NUL-terminated. */
int esw_rproto_check_bools(const void *, const size_t offsets[], size_t n);
int esw_rproto_check_spec(const struct esw_rule_spec *);
int esw_rproto_check_policy(const void *raw_cfg);
int esw_rproto_check_meter(const void *raw_cfg);
int esw_rproto_check_vport_info(const void *raw_info);
int esw_rproto_check_host_info(const void *raw_info);
int esw_rproto_check_trace(const void *raw_trace);
int esw_rproto_check_string(const char *, size_t size);

/* Socket I/O, blocking with 'timeout_ms' (-1: none) for each wait.
 * esw_rproto_send() sends a header and payload with 'hdr->n_fds'
 * descriptors 'fds' attached.  esw_rproto_recv_hdr() receives a header
 * and the descriptors that came with it (at most ESW_RPROTO_MAX_FDS,
 * stored in 'fds', the rest -1); esw_rproto_recv_all() the payload.  0 or
 * a positive errno (EPIPE once the peer closed). */
int esw_rproto_send(int sock, const struct esw_rmsg_hdr *,
                    const void *payload, const int fds[], int timeout_ms);
int esw_rproto_recv_hdr(int sock, struct esw_rmsg_hdr *,
                        int fds[ESW_RPROTO_MAX_FDS], int timeout_ms);
int esw_rproto_recv_all(int sock, void *buf, size_t len, int timeout_ms);

/* Default socket path: $OVS_ESWITCHD_SOCKET, else
 * $OVS_RUNDIR/ovs-eswitchd.sock, else RUNDIR/ovs-eswitchd.sock.  Returns
 * 0, or ENAMETOOLONG. */
int esw_rproto_default_socket(char *path, size_t size);

#endif /* esw-remote-proto.h */
