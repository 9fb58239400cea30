/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_OFFLOAD_XLATE_H
#define OVS_EXT_OFFLOAD_XLATE_H 1

/* Translation of a datapath megaflow (OVS 'struct match' plus datapath
 * actions in netlink format) into an eSwitch rule.
 *
 * The translation is exact or refused: a megaflow whose match or actions
 * the device cannot reproduce bit for bit is refused with a reason naming
 * the field or action, so that the flow stays in OVS's software path.
 * Device capabilities are not checked here: esw_rule_validate() does that
 * afterwards and its reason is reported as is.
 *
 * Pure function of its inputs, callable from any thread. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "datapath/esw.h"
#include "openvswitch/types.h"

struct ds;
struct match;
struct nlattr;

/* Why a flow is not in the device.  OFFLOAD_OK means it is. */
enum offload_reason {
    OFFLOAD_OK,
    OFFLOAD_SLOW_PATH,              /* A userspace() action: ovs-vswitchd
                                     * sees every packet ("slow path:
                                     * controller"). */
    OFFLOAD_UNSUPPORTED_ACTION,     /* "unsupported action: ct". */
    OFFLOAD_UNSUPPORTED_MATCH,      /* "unsupported match: recirc_id". */
    OFFLOAD_DEVICE_FULL,            /* ENOSPC from the device. */
    OFFLOAD_DEVICE_ERROR,           /* Any other device failure. */
    OFFLOAD_DISABLED,               /* other_config:hw-offload=false. */
    OFFLOAD_PORT_REMOVED,           /* An output port left the bridge. */
    OFFLOAD_N_REASONS
};

/* Short stable name, e.g. "unsupported-action", for counters. */
const char *offload_reason_name(enum offload_reason);

#define OFFLOAD_PORT_NAME_MAX 64

/* Resolves datapath port 'port' to a function of an eSwitch.  Returns true
 * and stores the device and vport if 'port' is an eSwitch port bound to a
 * function; otherwise returns false and stores in 'name' the port's name
 * (or its number) for the reason text. */
typedef bool offload_resolve_port_cb(odp_port_t port, void *aux,
                                     struct esw_dev **devp, uint32_t *vportp,
                                     char name[OFFLOAD_PORT_NAME_MAX]);

/* Resolves datapath port 'port' to a tunnel port: returns true and stores
 * its tunnel type if it is a VXLAN or Geneve port; otherwise returns false
 * and stores in 'name' what it is instead ("gre", "patch", "datapath port
 * 7": a tunnel type the device does not do, or no tunnel at all). */
typedef bool offload_resolve_tunnel_cb(odp_port_t port, void *aux,
                                       enum esw_tunnel_type *typep,
                                       char name[OFFLOAD_PORT_NAME_MAX]);

struct offload_xlate_ctx {
    struct esw_dev *dev;            /* Device of the flow's in_port (for a
                                     * tunnel port: of the uplink its
                                     * packets came in on). */
    uint32_t in_vport;              /* Its vport. */
    uint32_t tun_port;              /* Nonzero: the flow's in_port is this
                                     * tunnel port (datapath number), whose
                                     * packets the device decapsulated. */
    offload_resolve_port_cb *resolve;
    offload_resolve_tunnel_cb *resolve_tunnel;
    void *aux;
};

/* Translates 'match' and the 'actions_len' bytes of datapath 'actions'
 * into 'spec' (priority 0).  Returns OFFLOAD_OK or
 * OFFLOAD_SLOW_PATH (a userspace() action: "slow path: controller",
 * "slow path: lacp"), or
 * OFFLOAD_UNSUPPORTED_MATCH (the first field the device cannot match:
 * "unsupported match: arp_sha", "unsupported match: ct_state") or
 * OFFLOAD_UNSUPPORTED_ACTION (every action it cannot do, in order:
 * "unsupported action: ct, set(nsh)",
 * "unsupported action: output to datapath port 100 (not on esw0)"), with
 * the reason appended to 'reason'.
 *
 * Datapath             Device
 * recirc_id=N          chain N (in the match; 0: chain 0)
 * dp_hash              dp_hash, same mask
 * set, set_masked of   SET_ETH_SRC/DST (whole addresses), SET of the
 *   eth, ipv4, ipv6,   header group with value and mask (see
 *   tcp, udp, sctp,    esw-packet.h), exactly as OVS executes them
 *   icmp, icmpv6
 * hash(l4), hash(sym_l4)   HASH
 * recirc(N)            RECIRC N
 * meter(N)             METER N (the provider puts meter N in the device)
 * push_vlan, pop_vlan, output, drop   the same
 * tnl_push(VXLAN or Geneve header)     ENCAP (outputs after it must go
 *                      to an uplink of the device)
 * tnl_pop(port)        DECAP + RECIRC to the flow's chain, the device's
 *                      'tun_port' being the tunnel's datapath port
 * clone(actions)       its actions, if nothing follows the clone or only
 *                      outputs do (those are put first)
 * in_port(tunnel), tunnel(...)   tun_port, tun_* (Geneve options in
 *                      OVS's raw "udpif" form, their first 16 bytes)
 *
 * Actions without any output or recirculation become one DROP. */
enum offload_reason offload_xlate(const struct offload_xlate_ctx *,
                                  const struct match *match,
                                  const struct nlattr *actions,
                                  size_t actions_len,
                                  struct esw_rule_spec *spec,
                                  struct ds *reason);

#endif /* ovs-ext/offload-xlate.h */
