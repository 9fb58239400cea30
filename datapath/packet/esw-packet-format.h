/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_PACKET_FORMAT_H
#define ESW_PACKET_FORMAT_H 1

/* Human-readable forms of eSwitch packets and keys, for diagnostics and
 * tests.  Implemented in esw-packet.c.  All functions are thread-safe and
 * write a NUL-terminated string of at most 'size' bytes (truncating if
 * needed; nothing is written if 'size' is 0) and return 'buf'. */

#include <stddef.h>

#include "esw-packet.h"

/* Value of 'eth_type' (network order in the key) for an IEEE 802.3 frame,
 * whose type field is a length (< 0x600): like OVS's FLOW_DL_TYPE_NONE.
 * LLC/SNAP headers are not parsed. */
#define ESW_ETH_TYPE_NONE  0x05ff

/* Enough for any esw_key_format() output. */
#define ESW_KEY_FORMAT_SIZE 768

/* "xx:xx:xx:xx:xx:xx" plus NUL. */
#define ESW_ETH_ADDR_STRLEN 18

/* Formats 'ea' as "02:00:00:00:00:01". */
char *esw_eth_addr_format(const struct esw_eth_addr *ea,
                          char *buf, size_t size);

/* Formats 'key' on one line, fields in wire order, only those the parser
 * could have set for this packet:
 *
 *   in_vport=1 dst=... src=... vlan=8100:100:pcp3 vlan=... eth_type=0x0800
 *   ip_src=10.0.0.1 ip_dst=10.0.0.2 proto=6 tos=0 ttl=64 frag=no
 *   tp_src=1000 tp_dst=80 tcp_flags=0x002
 *
 * ('vlan=TPID:VID:pcpN[:dei]', TPID in hex; 'frag=first|later|no';
 * ICMP/ICMPv6 print 'icmp_type=' and 'icmp_code=' instead of ports; ARP
 * prints 'arp_op= arp_spa= arp_tpa='; a nonzero 'chain' and 'dp_hash'
 * print after 'in_vport' as 'chain=N dp_hash=0xH', a nonzero IPv6 flow
 * label after the addresses as 'label=0xL'; the tunnel metadata of a
 * decapsulated packet after them as 'tun_port=N tun_id=0xI tun_src=A
 * tun_dst=A tun_tp_src=P tun_tp_dst=P tun_flags=0xF tun_tos=T tun_ttl=T
 * [tun_opts=0xHEX]'). */
char *esw_key_format(const struct esw_key *key, char *buf, size_t size);

#endif /* esw-packet-format.h */
