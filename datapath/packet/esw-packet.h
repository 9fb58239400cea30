/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_PACKET_H
#define ESW_PACKET_H 1

/* Packets and flow keys of the eSwitch.
 *
 * This header is shared by every part of datapath/: the parser that turns a
 * frame into a 'struct esw_key', the vport policy stage, the rule table and
 * the drivers.  It depends on nothing outside the C library.
 *
 * Byte order
 * ==========
 *
 * Protocol fields in 'struct esw_key' are kept in network byte order, exactly
 * as they appear on the wire (like OVS's 'struct flow'), so that the parser
 * copies them without conversion and masked comparison works on raw bytes.
 * Only 'in_vport' is in host byte order.
 *
 * Error convention
 * ================
 *
 * Functions that can fail return 0 or a positive errno value.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* Ethertypes and TPIDs (host byte order; compare with ntohs()). */
#define ESW_ETH_TYPE_IPV4  0x0800
#define ESW_ETH_TYPE_ARP   0x0806
#define ESW_ETH_TYPE_IPV6  0x86dd
#define ESW_TPID_8021Q     0x8100
#define ESW_TPID_8021AD    0x88a8

#define ESW_ETH_ADDR_LEN   6
#define ESW_ETH_HDR_LEN    14
#define ESW_VLAN_HDR_LEN   4
#define ESW_MAX_VLANS      2

/* Smallest and largest frames (without FCS) the eSwitch accepts from a host
 * side.  Frames shorter than an Ethernet header are dropped as malformed;
 * frames longer than ESW_FRAME_MAX never enter the switch. */
#define ESW_FRAME_MIN      ESW_ETH_HDR_LEN
#define ESW_FRAME_MAX      9216

/* Headroom reserved in front of every packet so that pushing up to two
 * VLAN tags never moves the payload. */
#define ESW_PKT_HEADROOM   64

struct esw_eth_addr {
    uint8_t ea[ESW_ETH_ADDR_LEN];
};

/* One parsed VLAN tag.  'tpid' == 0 means "no tag at this position". */
struct esw_vlan {
    uint16_t tpid;              /* Network order: 0x8100 or 0x88a8 or 0. */
    uint16_t tci;               /* Network order: PCP(3) DEI(1) VID(12). */
};

union esw_ip_addr {
    uint32_t ip4;               /* Network order, for IPv4 (rest is zero). */
    struct in6_addr ip6;
};

/* IP fragment flags in 'ip_frag'. */
#define ESW_FRAG_ANY    (1 << 0)   /* Any fragment (first or later). */
#define ESW_FRAG_LATER  (1 << 1)   /* Not the first fragment: no L4 header. */

/* Tunnel metadata flags ('tun_flags'): Open vSwitch's FLOW_TNL_F_* bits
 * with the same values, and whether the outer header was IPv6. */
#define ESW_TUN_F_OAM   (1 << 0)   /* Geneve OAM bit. */
#define ESW_TUN_F_DF    (1 << 1)   /* Don't fragment (OVS's userspace
                                    * datapath never sets it on decap). */
#define ESW_TUN_F_CSUM  (1 << 2)   /* Outer UDP checksum present. */
#define ESW_TUN_F_KEY   (1 << 3)   /* 'tun_id' valid (VXLAN, Geneve). */
#define ESW_TUN_F_IPV6  (1 << 8)   /* Outer IPv6: 'tun_src'/'tun_dst' are
                                    * IPv6 addresses. */

/* Geneve option bytes a key holds. */
#define ESW_TUN_OPTS_MAX 16

/* The flow key: every field the eSwitch can match on.
 *
 * Exactly ESW_KEY_WORDS 64-bit words, so that the rule table can treat keys
 * and masks as opaque arrays of words.  Padding is always zero.  Fields a
 * packet does not have (e.g. L4 ports of an ARP frame) are zero.  'chain'
 * and 'dp_hash' are pipeline metadata, not packet contents: esw_parse()
 * sets them to zero. */
struct esw_key {
    union {
        struct {
            /* Word 0. */
            uint32_t in_vport;          /* Host order: ingress vport number. */
            uint16_t eth_type;          /* Ethertype after up to two tags. */
            uint8_t n_vlans;            /* Tags parsed (0..2); a third tag
                                         * stays in the payload and makes
                                         * 'eth_type' the third TPID. */
            uint8_t pad0;

            /* Words 1-3. */
            struct esw_eth_addr dst;
            struct esw_eth_addr src;
            struct esw_vlan vlans[ESW_MAX_VLANS];  /* [0] is the outer tag. */
            uint32_t chain;             /* Host order: the chain the packet
                                         * is looked up in (0 as it enters
                                         * the switch, N after a
                                         * recirculation to chain N). */

            /* Words 4-7. */
            union esw_ip_addr ip_src;
            union esw_ip_addr ip_dst;

            /* Words 8-9. */
            uint8_t ip_proto;
            uint8_t ip_tos;             /* DSCP and ECN. */
            uint8_t ip_ttl;             /* TTL or hop limit. */
            uint8_t ip_frag;            /* ESW_FRAG_*. */
            uint16_t tp_src;            /* L4 ports; ICMP type in tp_src. */
            uint16_t tp_dst;            /* ICMP code in tp_dst. */
            uint16_t tcp_flags;         /* Network order, low 12 bits. */
            uint8_t pad2[2];
            uint32_t dp_hash;           /* Host order: set by a HASH action
                                         * for the following chains, 0
                                         * until then. */

            /* Word 10. */
            uint32_t ipv6_label;        /* IPv6 flow label: network order,
                                         * low 20 bits. */
            uint32_t tun_port;          /* Host order: the tunnel a DECAP
                                         * action took the packet out of
                                         * (its 'tun_port'), 0: none.  Like
                                         * 'chain', pipeline metadata. */

            /* Words 11-19: the tunnel metadata a DECAP action stored (all
             * zero for a packet that was not decapsulated), as Open
             * vSwitch's userspace datapath fills its 'struct flow_tnl'
             * when it pops a header. */
            uint64_t tun_id;            /* Network order (VNI in the low 24
                                         * bits). */
            union esw_ip_addr tun_src;  /* Outer source and destination */
            union esw_ip_addr tun_dst;  /* (IPv6 if ESW_TUN_F_IPV6). */
            uint16_t tun_tp_src;        /* Outer UDP ports, network */
            uint16_t tun_tp_dst;        /* order. */
            uint16_t tun_flags;         /* Host order: ESW_TUN_F_*. */
            uint8_t tun_tos;            /* Outer TOS / traffic class. */
            uint8_t tun_ttl;            /* Outer TTL / hop limit. */
            uint8_t tun_opts_len;       /* Bytes of Geneve options (0..252),
                                         * whose first ESW_TUN_OPTS_MAX
                                         * bytes are in 'tun_opts'. */
            uint8_t pad4[7];
            uint8_t tun_opts[ESW_TUN_OPTS_MAX];  /* As on the wire. */

            /* Words 20-22: connection tracking metadata an ESW_ACTION_CT
             * set (all zero before one, as OVS's before its first ct()):
             * Open vSwitch's ct_state (CS_* bits, esw.h ESW_CS_*),
             * ct_zone, ct_mark and ct_label, in host order, the label as
             * OVS's ovs_u128 (u64.lo, u64.hi).  Pipeline metadata. */
            uint8_t ct_state;
            uint8_t pad5;
            uint16_t ct_zone;
            uint32_t ct_mark;
            uint64_t ct_label[2];
        };
#define ESW_KEY_WORDS 23
        uint64_t w[ESW_KEY_WORDS];
    };
};

_Static_assert(sizeof(struct esw_key) == ESW_KEY_WORDS * 8,
               "struct esw_key must be exactly ESW_KEY_WORDS words");

/* A packet owned by the eSwitch.
 *
 * 'data' points into 'base' with at least ESW_PKT_HEADROOM bytes in front
 * of it when the packet is created.  The buffer is owned by whoever holds
 * the packet; ownership of a 'struct esw_pkt *' passed to a function that
 * "takes" it is transferred whatever that function returns. */
struct esw_pkt {
    uint8_t *base;              /* Start of the buffer. */
    uint8_t *data;              /* Start of the frame. */
    uint32_t size;              /* Buffer size from 'base'. */
    uint32_t len;               /* Frame length from 'data'. */
    uint32_t in_vport;          /* Where the packet entered the switch. */
    uint32_t mark;              /* Driver-private metadata. */
};

/* Reasons a packet is dropped by the eSwitch.  Every drop is counted per
 * vport under exactly one of these. */
enum esw_drop_reason {
    ESW_DROP_MALFORMED,         /* Shorter than an Ethernet header, or too
                                 * long for the switch. */
    ESW_DROP_SPOOF,             /* Source MAC not allowed (spoof check). */
    ESW_DROP_VLAN,              /* VLAN violation (VST or trunk policy). */
    ESW_DROP_NOT_FOR_ME,        /* Unicast to another MAC, not promiscuous. */
    ESW_DROP_RATE,              /* Transmit rate exceeded. */
    ESW_DROP_LINK_DOWN,         /* Function link is down. */
    ESW_DROP_MTU,               /* Frame larger than the vport's MTU. */
    ESW_DROP_RULE,              /* A rule's explicit drop action. */
    ESW_DROP_MISS_QUEUE_FULL,   /* Representor (miss) queue overflow. */
    ESW_DROP_HOST_TX,           /* Host side could not take the packet. */
    ESW_DROP_METER,             /* Over the rate of a rule's meter. */
    ESW_DROP_NO_CONTROLLER,     /* A miss while no control plane had the
                                 * device (remote driver, esw-sim.h). */
    ESW_N_DROP_REASONS
};

/* Returns a short stable name ("spoof", "vlan", ...) for 'reason'. */
const char *esw_drop_reason_name(enum esw_drop_reason reason);

/* Parses the 'len' bytes at 'frame' into 'key' (in_vport is set to
 * 'in_vport').  Never reads outside [frame, frame + len).  Returns 0 on
 * success, EINVAL if the frame is shorter than an Ethernet header (then
 * 'key' is all zero except in_vport).  Any other oddity (truncated or bogus
 * L3/L4 headers, unknown ethertypes, more than two tags) is not an error:
 * parsing stops at the last complete header and the remaining fields are
 * zero.  What counts as a valid IPv4/IPv6/ARP header, and an 802.3 frame's
 * LLC/SNAP Ethertype, follow OVS's parser (lib/flow.c), so that a device
 * rule made from an OVS flow matches the frames that flow matches: an IP
 * length beyond the frame makes it not IP, the version nibble is not
 * checked (tests/esw-diff-cases/ holds a frame for each). */
int esw_parse(const void *frame, size_t len, uint32_t in_vport,
              struct esw_key *key);

/* VLAN and Ethernet rewrites on a packet.  'tpid' and 'tci' are in host
 * byte order.  esw_pkt_push_vlan() returns ENOBUFS if there is no headroom
 * left; esw_pkt_pop_vlan() returns EINVAL if the frame carries no
 * 802.1Q/802.1ad tag. */
int esw_pkt_push_vlan(struct esw_pkt *, uint16_t tpid, uint16_t tci);
int esw_pkt_pop_vlan(struct esw_pkt *);
void esw_pkt_set_eth_src(struct esw_pkt *, const struct esw_eth_addr *);
void esw_pkt_set_eth_dst(struct esw_pkt *, const struct esw_eth_addr *);

/* Header rewrites.
 * ================
 *
 * A rewrite ('struct esw_set') names a header ("field group") and gives a
 * value and a mask in the layout of that header's 'struct esw_set_*'
 * (network byte order, as on the wire): each masked bit of the packet's
 * field becomes the value's bit.  Value bits outside the mask must be zero.
 * The rewrite keeps the packet's checksums right, incrementally (RFC 1624):
 * the IPv4 header checksum; the TCP, UDP and ICMPv6 checksums over the
 * pseudo-header when an IP address changes; the TCP, UDP and ICMP
 * checksums when a port or the ICMP type or code changes.  A UDP checksum
 * of 0 ("none", over IPv4) stays 0; one that becomes 0 is written 0xffff.
 * SCTP's CRC32c is recomputed (an existing error in it is kept, so that a
 * corrupt packet stays detectably corrupt).
 *
 * The semantics are those of Open vSwitch's userspace datapath for its
 * "set" and "set_masked" actions (lib/odp-execute.c, lib/packets.c), byte
 * for byte, so that a packet rewritten by the device and the same packet
 * rewritten by OVS's software path are identical, checksums included:
 *
 *   - a field (address, TOS, TTL, port) is written, and its checksums
 *     updated, only if its value changes; IPv6 traffic class, flow label
 *     and hop limit are always written (they are in no checksum);
 *   - an IPv4 group applies to a frame whose Ethertype (after up to two
 *     VLAN tags) is IPv4 and that has 20 bytes there, an IPv6 group
 *     likewise with 40 bytes; L4 checksums are updated only where OVS finds
 *     an L4 header (a valid IPv4 total length or IPv6 payload length; for
 *     IPv6 after the extension headers; IPv4 non-first fragments
 *     included, as OVS does, IPv6 non-first fragments and packets with an
 *     active routing header excluded);
 *   - TCP ports apply if the TCP header is complete (data offset of at
 *     least 5 words, within the packet), UDP if 8 bytes are there, SCTP 12,
 *     ICMP/ICMPv6 8.  None checks the IP protocol: the rule's match does.
 *
 * Each field of a group is also a capability bit ('enum esw_field'), so
 * that a device can offer rewrites field by field. */

enum esw_set_header {
    ESW_SET_ETH,                /* struct esw_set_eth. */
    ESW_SET_IPV4,               /* struct esw_set_ipv4. */
    ESW_SET_IPV6,               /* struct esw_set_ipv6. */
    ESW_SET_TCP,                /* struct esw_set_l4. */
    ESW_SET_UDP,                /* struct esw_set_l4. */
    ESW_SET_SCTP,               /* struct esw_set_l4. */
    ESW_SET_ICMP,               /* struct esw_set_icmp (ICMP and ICMPv6). */
    ESW_N_SET_HEADERS
};

struct esw_set_eth {
    struct esw_eth_addr src, dst;
};

struct esw_set_ipv4 {
    uint32_t src, dst;
    uint8_t tos;                /* DSCP and ECN. */
    uint8_t ttl;
    uint8_t pad[2];
};

struct esw_set_ipv6 {
    struct in6_addr src, dst;
    uint32_t label;             /* Flow label, low 20 bits. */
    uint8_t tclass;             /* Traffic class (DSCP and ECN). */
    uint8_t hlimit;             /* Hop limit. */
    uint8_t pad[2];
};

struct esw_set_l4 {
    uint16_t src, dst;          /* TCP, UDP or SCTP ports. */
};

struct esw_set_icmp {
    uint8_t type, code;
};

union esw_set_value {
    struct esw_set_eth eth;
    struct esw_set_ipv4 ipv4;
    struct esw_set_ipv6 ipv6;
    struct esw_set_l4 l4;
    struct esw_set_icmp icmp;
};

struct esw_set {
    uint8_t header;             /* enum esw_set_header. */
    uint8_t pad[3];
    union esw_set_value value;
    union esw_set_value mask;
};

/* The rewritable fields, as bits of esw_caps.set_fields. */
enum esw_field {
    ESW_FIELD_ETH_SRC,
    ESW_FIELD_ETH_DST,
    ESW_FIELD_IPV4_SRC,
    ESW_FIELD_IPV4_DST,
    ESW_FIELD_IPV4_TOS,
    ESW_FIELD_IPV4_TTL,
    ESW_FIELD_IPV6_SRC,
    ESW_FIELD_IPV6_DST,
    ESW_FIELD_IPV6_TCLASS,
    ESW_FIELD_IPV6_LABEL,
    ESW_FIELD_IPV6_HLIMIT,
    ESW_FIELD_TCP_SRC,
    ESW_FIELD_TCP_DST,
    ESW_FIELD_UDP_SRC,
    ESW_FIELD_UDP_DST,
    ESW_FIELD_SCTP_SRC,
    ESW_FIELD_SCTP_DST,
    ESW_FIELD_ICMP_TYPE,
    ESW_FIELD_ICMP_CODE,
    ESW_N_FIELDS
};

/* Returns the field's name ("ipv4_ttl", "ipv6_label"...). */
const char *esw_field_name(enum esw_field);

/* Returns the name of a set header ("eth", "ipv4", "tcp"...). */
const char *esw_set_header_name(enum esw_set_header);

/* Returns the bitmap (1 << ESW_FIELD_*) of the fields that 'set' changes:
 * those with a nonzero mask.  0 for an unknown header. */
uint32_t esw_set_fields(const struct esw_set *set);

/* Where the headers of a frame are and what Open vSwitch's parser
 * (miniflow_extract()) makes of them: what rewrites and OVS's hash
 * functions work on.  Addresses, types and ports are in network order. */
struct esw_layout {
    uint16_t eth_type;          /* After up to two tags (OVS's dl_type). */
    uint16_t vlan_tci[ESW_MAX_VLANS];   /* Parsed tags' TCIs, 0: none. */
    uint16_t l3;                /* Offset of the L3 header. */
    uint16_t l3_size;           /* Bytes from there to the end. */
    uint16_t l4;                /* Offset of the L4 header (0: none). */
    uint16_t l4_size;           /* L4 header and payload, without L2
                                 * padding (0: none). */
    bool ip_valid;              /* The IPv4/IPv6 header passed OVS's
                                 * length checks: 'nw_*' are set. */
    uint8_t nw_proto;           /* IPv4 protocol; IPv6: last next header
                                 * reached (IPPROTO_FRAGMENT, 44, for a
                                 * non-first fragment); ARP: opcode. */
    uint8_t nw_frag;            /* ESW_FRAG_*, as OVS sets them. */
    uint8_t ipv6_nh;            /* IPv6: the fixed header's next header. */
    bool tcp_valid;             /* TCP header complete (OVS's check). */
    uint32_t nw_src, nw_dst;    /* IPv4 or ARP addresses. */
    uint16_t tp_src, tp_dst;    /* L4 ports, ICMP type and code (as
                                 * 16-bit values), 0 where OVS has none. */
};

/* Finds the layout of the 'len' bytes at 'frame', skipping at most
 * 'max_vlans' VLAN tags (1 or 2: Open vSwitch's other_config:vlan-limit,
 * see the hashes below; ESW_MAX_VLANS like the device's parser). */
void esw_pkt_layout(const uint8_t *frame, size_t len, int max_vlans,
                    struct esw_layout *);

/* Applies 'set' to 'pkt' (see above).  'layout' is the packet's layout
 * (esw_pkt_layout()); rewrites move no header, so it stays valid for the
 * offsets (not for the field values it holds). */
void esw_pkt_set(struct esw_pkt *pkt, const struct esw_layout *layout,
                 const struct esw_set *set);

/* Connection tracking (ESW_ACTION_CT, esw.h).
 *
 * The tuple of a packet as OVS's conntrack would extract it, laid out as
 * 'struct esw_ct_tuple': for ICMP and ICMPv6 echo, 'src_port' is the id
 * and 'dst_port' the type and code bytes in memory order. */
struct esw_ct_pkt {
    union esw_ip_addr src, dst;     /* IPv4: 'ip4', the rest zero. */
    uint16_t src_port, dst_port;    /* Network order. */
    uint8_t ip_proto;
    bool ipv6;
};

/* True if 'pkt' (laid out in 'l', parsed with up to two VLAN tags) is a
 * packet of an established connection that OVS's userspace conntrack
 * would take as it is: IPv4 (its header checksum right) or IPv6 without
 * extension headers, not a fragment; TCP, UDP, or ICMP (ICMPv6) echo
 * request or reply of code 0; its L4 header length and checksum right (a
 * zero UDP checksum over IPv4 is none; ICMPv6's and IPv6's covers the
 * pseudo-header); nonzero TCP and UDP ports and, for TCP, ACK without
 * SYN, FIN or RST (packets that change a connection's state in OVS's
 * tracker).  Then stores its tuple in '*out'.  ICMP errors (related to
 * another connection in OVS) and other ICMP messages are not taken. */
bool esw_pkt_ct_check(const struct esw_pkt *pkt, const struct esw_layout *l,
                      struct esw_ct_pkt *out);

/* NATs 'pkt', which passed esw_pkt_ct_check() with layout 'l', as OVS's
 * conntrack does: the source ('src') or destination address becomes
 * 'addr' (IPv4 or IPv6 as the packet), and for TCP and UDP the ports
 * become 'src_port' and 'dst_port' (network order; ignored for ICMP, whose
 * id OVS does not translate), with the checksums updated byte for byte as
 * OVS updates them (IPv4's header checksum; TCP, UDP and ICMPv6 over the
 * pseudo-header). */
void esw_pkt_nat(struct esw_pkt *pkt, const struct esw_layout *l, bool src,
                 const union esw_ip_addr *addr, uint16_t src_port,
                 uint16_t dst_port);

/* CRC32c (Castagnoli) of 'n' bytes, as SCTP uses it: the value to store
 * in the header is its little-endian representation. */
uint32_t esw_crc32c(const void *data, size_t n);

/* Hashes, as Open vSwitch computes them (lib/hash.h without SSE 4.2, as
 * the pinned OVS is built; lib/flow.c; lib/dp-packet.h), for the HASH
 * action: a device and OVS's software path must give a packet the same
 * dp_hash, so that both pick the same select-group bucket.
 *
 * esw_hash_rss() is the "RSS hash" OVS's userspace datapath gives a packet
 * it receives (dpif-netdev's dfc_processing() through miniflow_extract()
 * and miniflow_hash_5tuple()): 'frame' as it entered the datapath.
 * 'max_vlans' is OVS's vlan-limit: its parser skips at most that many
 * tags (1 by default in ovs-vswitchd, 2 at most).
 * esw_hash_l4() is what OVS's hash action with OVS_HASH_ALG_L4 gives a
 * packet whose RSS hash is 'rss': hash_int(rss, basis).
 * esw_hash_sym_l4() is OVS_HASH_ALG_SYM_L4: flow_hash_symmetric_l3l4()
 * of the frame as it is now, without UDP ports. */
uint32_t esw_hash_rss(const uint8_t *frame, size_t len, int max_vlans);
uint32_t esw_hash_l4(uint32_t rss, uint32_t basis);
uint32_t esw_hash_sym_l4(const uint8_t *frame, size_t len, int max_vlans,
                         uint32_t basis);

/* Tunnels.
 * ========
 *
 * Encapsulation and decapsulation of VXLAN and Geneve (over IPv4 or IPv6,
 * UDP), with the semantics of Open vSwitch's userspace datapath
 * (lib/netdev-native-tnl.c) byte for byte: a frame encapsulated by the
 * device and the same frame encapsulated by OVS's software path are
 * identical, and the device decapsulates exactly the frames OVS's software
 * path would pop, into the same metadata. */

enum esw_tunnel_type {
    ESW_TUNNEL_VXLAN,
    ESW_TUNNEL_GENEVE,
    ESW_N_TUNNEL_TYPES
};

/* Returns "vxlan" or "geneve". */
const char *esw_tunnel_type_name(enum esw_tunnel_type);

/* Most bytes of an encapsulation header: Ethernet, IPv6, UDP, Geneve with
 * 66 bytes of options. */
#define ESW_ENCAP_HEADER_MAX 136

/* An encapsulation: the header Open vSwitch builds for a tunnel port
 * ('struct ovs_action_push_tnl''s template), pushed in front of the frame
 * with, per packet, as OVS fills them:
 *
 *   - the IPv4 total length (and the IPv4 header checksum, updated from
 *     the template's, which was computed with a zero length) or the IPv6
 *     payload length; the IPv4 identification stays the template's;
 *   - the UDP length;
 *   - the UDP source port: port_min + ((rss * (port_max - port_min)) >> 32)
 *     where 'rss' is the RSS hash OVS gave the inner packet when it
 *     entered the datapath (esw_hash_rss());
 *   - the UDP checksum, over the pseudo-header and the whole datagram, if
 *     the template's is nonzero (OVS's marker: IPv6, or the "csum" option),
 *     0xffff for a computed 0; a zero checksum stays zero. */
struct esw_encap {
    uint8_t type;               /* enum esw_tunnel_type. */
    uint8_t header_len;         /* Bytes of 'header'. */
    uint8_t max_vlans;          /* VLAN tags the RSS hash's parse skips (1
                                 * or 2, OVS's vlan-limit). */
    uint8_t pad;
    uint16_t port_min;          /* UDP source port range, host order */
    uint16_t port_max;          /* (OVS's tnl/egress_port_range). */
    uint8_t header[ESW_ENCAP_HEADER_MAX];
};

/* A decapsulation: 'type''s header (over untagged Ethernet, IPv4 without
 * options or IPv6 without extension headers, UDP) comes off the frame and
 * its fields go into the key's tunnel metadata, with 'tun_port'. */
struct esw_decap {
    uint8_t type;               /* enum esw_tunnel_type. */
    uint8_t max_vlans;          /* For the inner frame's RSS hash. */
    uint8_t pad[2];
    uint32_t tun_port;          /* Nonzero: the key's 'tun_port' after. */
};

/* Checks 'encap': EINVAL and a reason in 'why' (at least 64 bytes) if its
 * header is not an Ethernet, IPv4 (20 bytes) or IPv6, UDP and 'type''s
 * header, or its port range is empty. */
int esw_encap_check(const struct esw_encap *, char *why, size_t why_size);

/* Pushes 'encap' onto '*pktp' (see above) with 'rss' the inner packet's
 * RSS hash.  If the headroom is too small, '*pktp' is replaced by a copy
 * with room (the old packet is freed).  Returns 0, or ENOBUFS if the
 * result would be longer than ESW_FRAME_MAX or memory ran out (then
 * '*pktp' is unchanged). */
int esw_pkt_encap(struct esw_pkt **pktp, const struct esw_encap *,
                  uint32_t rss);

/* Pops 'decap''s header off 'pkt', storing the tunnel metadata in 'md''s
 * tun_* fields (and 'tun_port'); the other fields of 'md' are left alone.
 * Returns 0, or EINVAL (nothing changed) if the frame is not one that
 * Open vSwitch's userspace datapath would pop with the same result: a
 * tag in front of the outer IP header, IP options or extension headers,
 * an IPv4 header checksum that is wrong, a length beyond the frame, a bad
 * nonzero UDP checksum, VXLAN flags other than "I" (GPE included) or a
 * nonzero reserved byte, a Geneve version other than 0 or a payload that
 * is not Ethernet.  OVS drops such a frame or handles it otherwise: the
 * device leaves it to OVS. */
int esw_pkt_decap(struct esw_pkt *pkt, const struct esw_decap *,
                  struct esw_key *md);

/* Copies the tunnel metadata (tun_port and the tun_* fields) of 'src' into
 * 'dst'. */
void esw_key_copy_tunnel(struct esw_key *dst, const struct esw_key *src);

/* Inserts the 4-byte tag 'tag' (TPID then TCI, as on the wire) after the
 * MAC addresses, in the headroom.  The caller has checked that the frame
 * has at least 12 bytes and that 4 bytes of headroom are left (this is
 * esw_pkt_push_vlan() without the checks, for the forwarding fast path).
 * Copies through registers: no call, no byte loop. */
static inline void
esw_pkt_push_tag_unchecked(struct esw_pkt *pkt, const uint8_t tag[4])
{
    uint8_t *data = pkt->data;
    uint64_t macs_lo;
    uint32_t macs_hi;

    __builtin_memcpy(&macs_lo, data, 8);
    __builtin_memcpy(&macs_hi, data + 8, 4);
    data -= ESW_VLAN_HDR_LEN;
    __builtin_memcpy(data, &macs_lo, 8);
    __builtin_memcpy(data + 8, &macs_hi, 4);
    __builtin_memcpy(data + 12, tag, 4);
    pkt->data = data;
    pkt->len += ESW_VLAN_HDR_LEN;
}

static inline bool
esw_eth_addr_is_multicast(const struct esw_eth_addr *a)
{
    return a->ea[0] & 1;
}

static inline bool
esw_eth_addr_is_zero(const struct esw_eth_addr *a)
{
    return !(a->ea[0] | a->ea[1] | a->ea[2] | a->ea[3] | a->ea[4] | a->ea[5]);
}

#endif /* esw-packet.h */
