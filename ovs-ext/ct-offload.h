/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef CT_OFFLOAD_H
#define CT_OFFLOAD_H 1

/* Connection offload: OVS's userspace conntrack's established connections
 * in the eSwitches' connection tables.
 *
 * With hw-offload on and an eSwitch with a connection table (not the
 * remote driver's, which has none), ovs-ext registers
 * conntrack's offload hooks (OVS patch 0004, lib/conntrack-offload.h).
 * Every committed connection that becomes established (TCP: both peers
 * ESTABLISHED; UDP and ICMP: traffic both ways, for ICMP an echo reply)
 * is offered; a TCP, UDP or ICMP echo connection over IPv4 or IPv6
 * (ICMPv6 echo), without an ALG helper and not related to another one, is
 * taken: a worker thread ("ct_offload") adds it, with its zone, both
 * tuples (OVS's key and rev_key, NAT included), mark and labels, to the
 * connection table of every eSwitch that has one, and removes it when OVS
 * deletes the connection (expiry, flush, zone flush, replacement).  The
 * hooks only queue work: they never block conntrack's callers.
 * conntrack's sweeper asks for a connection's last use before it expires
 * it: the device's last packet, so that a connection the device keeps
 * busy does not expire.
 *
 * Device rules do 'ct(zone=Z[,nat])' followed by 'recirc(N)' (offload-
 * xlate.c): a packet of a connection in the table continues in chain N as
 * OVS's conntrack would send it there; any other goes to OVS. */

#include <stdbool.h>
#include <stdint.h>

struct ct_dpif_tuple;
struct esw_ct_tuple;
struct smap;

/* A tuple of OVS's conntrack as the device's connection table holds it
 * (IPv4 or IPv6 after the tuple's l3_type; ICMP's id, type and code in
 * the ports' place, as in both structures). */
void ct_offload_tuple_to_esw(const struct ct_dpif_tuple *,
                             struct esw_ct_tuple *);

/* Registers the hooks when 'other_config' has hw-offload on and an
 * eSwitch with a connection table exists, and keeps them while hw-offload
 * stays on (an eSwitch created later gets the connections held);
 * unregisters them when hw-offload goes off.  Main thread. */
void ct_offload_set_ovs_config(const struct smap *other_config);

/* True if the hooks are registered. */
bool ct_offload_enabled(void);

struct ct_offload_stats {
    uint64_t offered;           /* Established connections offered. */
    uint64_t declined;          /* Of which not taken (see below). */
    uint64_t declined_proto;    /* Not TCP, UDP or ICMP(v6) echo. */
    uint64_t declined_helper;   /* An ALG helper or a related connection. */
    uint64_t declined_busy;     /* The worker's queue was full. */
    uint64_t added;             /* Device entries added. */
    uint64_t add_failed;        /* Adds a device refused (full...). */
    uint64_t add_full;          /* Of which a full table. */
    uint64_t removed;           /* Entries removed (deleted, flushed,
                                 * their eSwitch removed). */
    uint64_t updated;           /* Mark or label changes. */
    uint64_t flushes;           /* OVS flushes (zone or all). */
    uint64_t kept_alive;        /* Last-used answers to the sweeper. */
    uint64_t connections;       /* Connections in a device now. */
    uint64_t pending;           /* Work items queued now. */
};

void ct_offload_get_stats(struct ct_offload_stats *);

/* True if connection offload is off only because the eSwitches have no
 * connection table (other_config:eswitch-max-conns=0), with hw-offload. */
bool ct_offload_no_tables(void);

/* eswitch.c tells which devices are eSwitches (main thread).  A
 * connection goes to the eSwitches' devices only (up to 8): to those that
 * exist when it is taken, and to an eSwitch created later
 * (ct_offload_dev_added(): the worker adds the connections held to it).
 * An eSwitch removed (ct_offload_dev_removed()) gets no new connections;
 * the worker takes its entries out a moment later and releases the
 * device: the provider keeps no device alive after its eSwitch beyond
 * that moment. */
struct esw_dev;
void ct_offload_dev_added(struct esw_dev *);
void ct_offload_dev_removed(struct esw_dev *);

#endif /* ct-offload.h */
