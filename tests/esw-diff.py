#! /usr/bin/env python3
# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.
"""esw-diff: differential tester of flow offload, offloaded vs software.

Each case is a random but seeded set-up -- port policies on the eSwitch
functions, an OpenFlow table, OVS settings -- and a random sequence of steps,
mostly frames injected on random ports.  The same case runs on two fresh
ovs-vswitchd instances at once, command by command: one with
other_config:hw-offload=false (the reference: every frame takes OVS's
software path) and one with hw-offload=true (frames that hit a device rule
never reach OVS).  What the two show must be identical:

  - after every step, the frames each function received (eswitch/capture
    --hex: bytes, port, order) and what OVS sent to the bridge's LOCAL port
    (its tx_pcap), and the answer of the step's command;
  - at the end, each function's traffic and drop counters by reason
    (eswitch/stats), the OpenFlow rules' packet and byte counts, the
    datapath flows with their counts, and the MAC learning table;
  - and, on their own, each daemon's log has no warning or error and the
    offloading one passes eswitch/offload-check.

Every frame is sent so that both paths of the offloading daemon see it:
after each step the tester waits until OVS's offload thread has given every
datapath flow to the eSwitch (offloaded, or in software with a reason), so
the first packet of a flow goes through OVS and the next ones, and the
variants of it that follow (an extra inner tag, a truncation, other
addresses...), meet the device's rules.

On a mismatch the case is shrunk (steps, flows, policy options and settings
dropped one at a time while it still fails the same way) and a minimal
reproduction printed: the seed, the commands, and the expected (software)
and actual (offloaded) outputs.  The last line is "N cases, M mismatches".
--case-out writes the case as JSON; --case runs such files (or a directory
of them, e.g. tests/esw-diff-cases/, the differences found so far).

What may legitimately differ, and is kept out (each explained where it is
done): the representor (miss) counters and the drops by a rule, which count
which path a frame took; the TCP flags of datapath flows; times and
durations; the recirculation ids of controller actions.  What would make
OVS itself behave differently from one run to the next is avoided instead:
no source MAC is sent from two ports (a MAC move makes learning depend on
when stats are pushed), no transmit rate limit, catch-all flows instead of
table misses, revalidation only at known points (revalidate()), and
offloads waited for (settle()).  --modes true,true and false,false run a
case against itself, to check that the tester is deterministic.

Only Python's standard library; frames are built with struct.

Usage: esw-diff.py [--seed S] [--cases N] [--ovs-dir DIR] [--dir DIR] ...
  (ovs-vswitchd, ovsdb-server, ovs-vsctl, ovs-ofctl and ovs-appctl come
  from PATH; --ovs-dir is the pinned OVS tree, for the database schema.)
"""

import argparse
import json
import os
import random
import re
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

# The bridge's ports, added in this order so that OpenFlow and datapath
# port numbers are predictable: (name, interface type, ofport, default MAC).
PORTS = [
    ("p0", "esw-uplink", 1, "02:65:00:00:00:00"),
    ("pf0vf0", "esw-vf", 2, "02:65:00:02:00:00"),
    ("pf0vf1", "esw-vf", 3, "02:65:00:02:00:01"),
    ("pf0vf2", "esw-vf", 4, "02:65:00:02:00:02"),
    ("pf0vf3", "esw-vf", 5, "02:65:00:02:00:03"),
    ("pf0hpf", "esw-pf", 6, "02:65:00:01:00:00"),
]
PORT_NAMES = [p[0] for p in PORTS]
FUNCTIONS = PORT_NAMES[1:]          # Those that take a policy.
ESW_DP_PORTS = {str(i + 1) for i in range(len(PORTS))}

# Source MACs belong to one port each: OVS's MAC learning then never sees
# a MAC move.  (A move makes learning depend on when a revalidator pushes
# the stats of the older flow, which relearns the MAC on its old port: a
# matter of timing, not of offload.  See mac_pool().)
WIRE_MACS = ["00:00:5e:00:53:01", "00:00:5e:00:53:02"]
MCAST_MACS = ["01:00:5e:00:00:01", "33:33:00:00:00:01", "01:80:c2:00:00:0e"]
BCAST = "ff:ff:ff:ff:ff:ff"
UNKNOWN_MAC = "02:00:00:00:77:77"
REWRITE_MACS = ["02:00:00:00:99:01", "02:00:00:00:99:02", "01:00:5e:00:00:99"]
VIDS = [0, 1, 10, 20, 100, 200, 300, 4095]
POLICY_VIDS = [10, 20, 100, 200, 300]
TPIDS = [0x8100] * 6 + [0x88a8] * 3 + [0x9100, 0x9200]
IP4S = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "192.168.0.1", "10.1.0.1",
        "224.0.0.1", "0.0.0.0"]
IP6S = ["2001:db8::1", "2001:db8::2", "fe80::1", "ff02::1", "::"]
L4PORTS = [1, 2, 53, 67, 80, 443, 4789, 65535]
OTHER_TYPES = [0x88cc, 0x88b5, 0x8847, 0x8906, 0x0842, 0x86dd, 0x0806,
               0x8100, 0x88a8]


def mac_pool(port, kind):
    """The MACs that belong behind 'port' ('own', 'forged', 'allowed',
    'admin'), so that each source MAC is only ever sent from one port."""
    i = PORT_NAMES.index(port)
    if port == "p0":
        return {"own": WIRE_MACS, "forged": ["00:00:5e:00:53:0f"],
                "allowed": [], "admin": []}[kind]
    return {"own": [PORTS[i][3]],
            "forged": ["02:00:00:66:%02x:01" % i, "02:00:00:66:%02x:02" % i],
            "allowed": ["02:00:00:a1:%02x:01" % i, "02:00:00:a1:%02x:02" % i],
            "admin": ["02:00:00:ad:%02x:01" % i]}[kind]


def all_unicast_macs():
    macs = [UNKNOWN_MAC]
    for port in PORT_NAMES:
        for kind in ("own", "forged", "allowed", "admin"):
            macs += mac_pool(port, kind)
    return macs


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


def ip4_bytes(ip):
    return bytes(int(x) for x in ip.split("."))


def ip6_bytes(ip):
    return socket.inet_pton(socket.AF_INET6, ip)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


# ---------------------------------------------------------------------------
# Frames.  A frame is a spec (a dict, so that variants can be derived from
# it) turned into bytes by build_frame().

def l4_bytes(proto, spec):
    if proto == 17:
        return struct.pack("!HHHH", spec["sport"], spec["dport"], 8 + 4, 0) \
            + b"\xde\xad\xbe\xef"
    if proto == 6:
        return struct.pack("!HHIIBBHHH", spec["sport"], spec["dport"], 1, 0,
                           5 << 4, spec["tcp_flags"] & 0xff, 8192, 0, 0)
    if proto in (1, 58):
        return struct.pack("!BBHI", spec["icmp_type"], spec["icmp_code"], 0, 0)
    if proto == 132:
        return struct.pack("!HHII", spec["sport"], spec["dport"], 0, 0)
    return b"\x00\x01\x02\x03\x04\x05\x06\x07"


def l3_bytes(spec):
    kind = spec["l3"]
    if kind == "ipv4":
        l4 = l4_bytes(spec["proto"], spec)
        opts = b"\x01" * (4 * spec["ip_opts"])      # NOPs
        ihl = 5 + spec["ip_opts"]
        tot = 20 + len(opts) + len(l4) + spec["tot_delta"]
        hdr = struct.pack("!BBHHHBBH4s4s", (spec["ip_ver"] << 4) | ihl,
                          spec["tos"], tot & 0xffff, 1, spec["frag"],
                          spec["ttl"], spec["proto"], 0,
                          ip4_bytes(spec["src_ip"]), ip4_bytes(spec["dst_ip"]))
        hdr += opts
        hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
        return hdr + l4
    if kind == "ipv6":
        body = l4_bytes(spec["proto"], spec)
        nxt = spec["proto"]
        for ext in reversed(spec["ext"]):
            if ext == 44:
                body = struct.pack("!BBHI", nxt, 0, spec["frag6"], 7) + body
            else:
                body = struct.pack("!BB", nxt, 0) + b"\x01\x04\0\0\0\0" + body
            nxt = ext
        plen = 0 if spec.get("plen0") else len(body) + spec["tot_delta"]
        hdr = struct.pack("!IHBB16s16s", (spec.get("ip6_ver", 6) << 28)
                          | (spec["tos"] << 20),
                          plen & 0xffff, nxt, spec["ttl"],
                          ip6_bytes(spec["src_ip6"]),
                          ip6_bytes(spec["dst_ip6"]))
        return hdr + body
    if kind == "arp":
        return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, spec["arp_op"],
                           mac_bytes(spec["src"]), ip4_bytes(spec["src_ip"]),
                           b"\0" * 6, ip4_bytes(spec["dst_ip"]))
    if kind == "llc":
        if spec["snap"]:
            return b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + l3_bytes(
                dict(spec, l3="ipv4"))
        return b"\x42\x42\x03" + b"\0" * 20
    return bytes(range(spec.get("payload_len", 30)))


ETH_TYPES = {"ipv4": 0x0800, "ipv6": 0x86dd, "arp": 0x0806}


def build_frame(spec):
    """The bytes of frame 'spec'."""
    body = l3_bytes(spec)
    if spec["l3"] == "arp" and spec.get("rarp"):
        eth_type = 0x8035
    elif spec["l3"] in ETH_TYPES:
        eth_type = ETH_TYPES[spec["l3"]]
    elif spec["l3"] == "llc":
        eth_type = len(body)
    else:
        eth_type = spec["eth_type"]
    frame = mac_bytes(spec["dst"]) + mac_bytes(spec["src"])
    for tpid, tci in spec["tags"]:
        frame += struct.pack("!HH", tpid, tci)
    frame += struct.pack("!H", eth_type) + body + b"\0" * spec["pad"]
    if spec["trunc"] is not None:
        frame = frame[:spec["trunc"]]
    return frame


def describe_frame(spec, frame):
    """A short human description of a frame spec."""
    d = "%s>%s" % (spec["src"], spec["dst"])
    if spec["tags"]:
        d += " " + "/".join("%04x:%d" % (tpid, tci & 0xfff)
                            + (":p%d" % (tci >> 13) if tci >> 13 else "")
                            for tpid, tci in spec["tags"])
    l3 = spec["l3"]
    if l3 == "ipv4":
        d += " ipv4%s %s>%s proto %d" % (
            "(v%d)" % spec["ip_ver"] if spec["ip_ver"] != 4 else "",
            spec["src_ip"], spec["dst_ip"], spec["proto"])
        if spec["frag"] & 0x3fff:
            d += " frag 0x%04x" % spec["frag"]
        if spec["ip_opts"]:
            d += " opts"
        if spec["tot_delta"]:
            d += " tot_len%+d" % spec["tot_delta"]
    elif l3 == "ipv6":
        d += " ipv6%s %s>%s %sproto %d" % (
            "(v%d)" % spec["ip6_ver"] if spec.get("ip6_ver", 6) != 6 else "",
            spec["src_ip6"], spec["dst_ip6"],
            "".join("ext%d " % e for e in spec["ext"]), spec["proto"])
        if spec.get("plen0"):
            d += " plen 0"
        elif spec["tot_delta"]:
            d += " plen%+d" % spec["tot_delta"]
    elif l3 == "arp":
        d += " %s op %d %s>%s" % ("rarp" if spec.get("rarp") else "arp",
                                  spec["arp_op"], spec["src_ip"],
                                  spec["dst_ip"])
    elif l3 == "llc":
        d += " 802.3 %s" % ("snap ipv4" if spec["snap"] else "llc")
    else:
        d += " type 0x%04x" % spec["eth_type"]
    has_l4 = spec["l3"] in ("ipv4", "ipv6") or (spec["l3"] == "llc"
                                                 and spec["snap"])
    if has_l4 and spec["proto"] in (6, 17, 132):
        d += " ports %d>%d" % (spec["sport"], spec["dport"])
    if spec["trunc"] is not None:
        d += " truncated"
    return d + ", %d bytes" % len(frame)


def random_frame(rng, port):
    """A random frame that 'port' sends."""
    r = rng.random()
    if r < 0.75:
        src = rng.choice(mac_pool(port, "own"))
    elif r < 0.85:
        src = rng.choice(mac_pool(port, "forged"))
    elif r < 0.93 and mac_pool(port, "allowed"):
        src = rng.choice(mac_pool(port, "allowed") + mac_pool(port, "admin"))
    else:
        src = rng.choice(MCAST_MACS + mac_pool(port, "own"))
    r = rng.random()
    if r < 0.55:
        dst = rng.choice([m for m in all_unicast_macs()
                          if m not in mac_pool(port, "own")])
    elif r < 0.8:
        dst = BCAST
    else:
        dst = rng.choice(MCAST_MACS + [UNKNOWN_MAC])
    n_tags = rng.choices([0, 1, 2, 3], [45, 30, 18, 7])[0]
    tags = [(rng.choice(TPIDS), random_tci(rng)) for _ in range(n_tags)]
    spec = {
        "src": src, "dst": dst, "tags": tags,
        "l3": rng.choices(["ipv4", "ipv6", "arp", "llc", "other"],
                          [45, 22, 12, 5, 16])[0],
        "eth_type": rng.choice(OTHER_TYPES),
        "payload_len": rng.randrange(0, 60),
        "snap": rng.random() < 0.5,
        "ip_ver": 4 if rng.random() < 0.95 else rng.choice([6, 0, 15]),
        "ip6_ver": 6 if rng.random() < 0.95 else rng.choice([4, 0]),
        "plen0": rng.random() < 0.04,
        "ip_opts": rng.choice([0] * 8 + [1, 2]),
        "tos": rng.choice([0, 0, 0, 0x10, 0xb8, 3]),
        "ttl": rng.choice([64, 64, 64, 1, 0, 255]),
        "proto": rng.choices([17, 6, 1, 58, 132, 47, 59],
                             [40, 25, 10, 8, 5, 6, 6])[0],
        "frag": rng.choices([0, 0x4000, 0x2000, 0x2010, 0x0010],
                            [60, 20, 8, 6, 6])[0],
        "frag6": rng.choice([0x0001, 0x0000, 0x0011, 0x0010]),
        "tot_delta": rng.choices([0, 10, -10, -60], [90, 4, 4, 2])[0],
        "src_ip": rng.choice(IP4S), "dst_ip": rng.choice(IP4S),
        "src_ip6": rng.choice(IP6S), "dst_ip6": rng.choice(IP6S),
        "ext": [rng.choice([0, 43, 44, 60])
                for _ in range(rng.choices([0, 1, 2, 3], [60, 25, 10, 5])[0])],
        "sport": rng.choice(L4PORTS), "dport": rng.choice(L4PORTS),
        "tcp_flags": rng.choice([0x02, 0x12, 0x10, 0x11, 0x04, 0x29]),
        "icmp_type": rng.choice([8, 0, 3, 11, 128, 135]),
        "icmp_code": rng.choice([0, 3]),
        "arp_op": rng.choice([1, 2, 1, 3, 0x101]),
        "rarp": rng.random() < 0.15,
        "pad": rng.choices([0, 1, 3, 9], [80, 8, 6, 6])[0],
        "trunc": None,
    }
    if spec["l3"] == "ipv6" and spec["proto"] == 1:
        spec["proto"] = 58
    if spec["l3"] == "ipv4" and spec["proto"] in (58, 59):
        spec["proto"] = 1
    r = rng.random()
    if r < 0.06:
        spec["trunc"] = rng.randrange(1, 14)           # Runt.
    elif r < 0.16:
        spec["trunc"] = rng.randrange(14, len(build_frame(spec)) + 1)
    elif r < 0.18:
        spec["pad"] = rng.choice([1400, 1480, 1600])    # Near or over MTU.
    return spec


def random_tci(rng):
    pcp = rng.choice([0, 0, 0, 0, 3, 7])
    return (pcp << 13) | (rng.random() < 0.05) << 12 | rng.choice(VIDS)


def frame_variants(rng, spec):
    """Frames close to 'spec' that a device rule made for 'spec' must treat
    exactly as OVS's flow for it would: one more (inner or outer) tag, one
    less, another TPID or VID, other addresses, ports, flags, a truncation."""
    out = []
    # (Weighted towards what a device parses differently from OVS: VLAN
    # stacks deeper than OVS's vlan-limit, truncated headers.)
    choices = ["inner_tag"] * 4 + ["outer_tag"] * 2 + ["trunc"] * 2 + [
        "pop_tag", "tpid", "vid", "ip", "l4", "mac", "pad", "frag", "proto",
        "ttl", "snap"]
    whats = []
    while len(whats) < rng.choice([1, 2, 2, 3, 3, 4]):
        what = rng.choice(choices)
        if what not in whats:
            whats.append(what)
    for what in whats:
        v = json.loads(json.dumps(spec))       # Deep copy.
        v["tags"] = [tuple(t) for t in v["tags"]]
        if what == "inner_tag":
            v["tags"].append((rng.choice([0x8100, 0x8100, 0x88a8]),
                              random_tci(rng)))
        elif what == "outer_tag":
            v["tags"].insert(0, (rng.choice([0x8100, 0x88a8, 0x88a8]),
                                 random_tci(rng)))
        elif what == "pop_tag" and v["tags"]:
            v["tags"].pop(rng.randrange(len(v["tags"])))
        elif what == "tpid" and v["tags"]:
            i = rng.randrange(len(v["tags"]))
            v["tags"][i] = (rng.choice([0x8100, 0x88a8, 0x9100]),
                            v["tags"][i][1])
        elif what == "vid" and v["tags"]:
            i = rng.randrange(len(v["tags"]))
            v["tags"][i] = (v["tags"][i][0], random_tci(rng))
        elif what == "ip":
            v["src_ip"], v["dst_ip"] = rng.choice(IP4S), rng.choice(IP4S)
            v["dst_ip6"] = rng.choice(IP6S)
        elif what == "l4":
            v["sport"], v["dport"] = rng.choice(L4PORTS), rng.choice(L4PORTS)
            v["tcp_flags"] = rng.choice([0x02, 0x12, 0x10, 0x01])
            v["icmp_type"] = rng.choice([8, 0, 135])
        elif what == "mac":
            v["dst"] = rng.choice(all_unicast_macs() + [BCAST])
        elif what == "trunc":
            n = len(build_frame(v))
            v["trunc"] = rng.randrange(12, n) if n > 12 else None
        elif what == "pad":
            v["pad"] = rng.choice([0, 1, 7, 100])
        elif what == "frag":
            v["frag"] = rng.choice([0, 0x2000, 0x0010, 0x4000])
            v["frag6"] = rng.choice([0x0001, 0x0010])
            v["ext"] = v["ext"] or [44]
        elif what == "proto":
            v["proto"] = rng.choice([6, 17, 1, 47])
            if v["l3"] == "ipv6" and v["proto"] == 1:
                v["proto"] = 58
        elif what == "snap" and v["l3"] == "llc":
            v["snap"] = not v["snap"]
        elif what == "ttl":
            v["ttl"], v["tos"] = rng.choice([0, 1, 64]), rng.choice([0, 0xb8])
        out.append(v)
    return out


# ---------------------------------------------------------------------------
# Cases.

def random_policy(rng, port):
    """Random valid port policy options for function 'port'."""
    opts = {}
    r = rng.random()
    if r < 0.3:
        opts["vlan"] = str(rng.choice(POLICY_VIDS))
        if rng.random() < 0.3:
            opts["qos"] = str(rng.randrange(8))
        if rng.random() < 0.25:
            opts["vlan-proto"] = rng.choice(["802.1ad", "802.1Q"])
    elif r < 0.5:
        vids = sorted(rng.sample(POLICY_VIDS, rng.randrange(1, 4)))
        opts["trunks"] = ",".join(map(str, vids))
        if rng.random() < 0.3:
            opts["trunk-untagged"] = "false"
    if rng.random() < 0.35:
        opts["spoofchk"] = "true"
    if rng.random() < 0.2:
        opts["allowed-macs"] = ",".join(
            rng.sample(mac_pool(port, "allowed"), rng.randrange(1, 3)))
    if rng.random() < 0.2:
        opts["promisc"] = "false"
    if rng.random() < 0.1:
        opts["link-state"] = rng.choice(["disable", "enable"])
    if rng.random() < 0.1:
        opts["mac"] = mac_pool(port, "admin")[0]
    if rng.random() < 0.1:
        opts["trust"] = "true"
    if rng.random() < 0.05:
        opts["min-tx-rate"] = "100"
    # Not max-tx-rate: rate policing depends on time, so the same frames
    # may be dropped in one run and not in the other.
    return opts


def random_match(rng, in_ports):
    m = []
    if rng.random() < 0.7:
        m.append("in_port=%s" % rng.choice(in_ports))
    cls = rng.choices(["l2", "ip", "ipv6", "arp"], [40, 35, 15, 10])[0]
    if cls == "l2":
        if rng.random() < 0.6:
            m.append("dl_type=0x%04x" % rng.choice(
                [0x8100, 0x8100, 0x8100, 0x88a8, 0x88a8, 0x9100, 0x0800,
                 0x86dd, 0x88cc, 0x0806, 0x8847]))
    elif cls == "ip":
        m.append(rng.choice(["ip", "udp", "tcp", "icmp"]))
    elif cls == "ipv6":
        m.append(rng.choice(["ipv6", "udp6", "tcp6", "icmp6"]))
    else:
        m.append("arp")
    r = rng.random()
    if r < 0.3:
        m.append("dl_vlan=%d" % rng.choice(POLICY_VIDS + [0, 1]))
    elif r < 0.4:
        m.append(rng.choice(["vlan_tci=0", "vlan_tci=0x1000/0x1000",
                             "dl_vlan_pcp=%d" % rng.choice([0, 3, 7])]))
    if rng.random() < 0.25:
        mac = rng.choice(all_unicast_macs() + [BCAST])
        m.append(rng.choice(["dl_dst=%s", "dl_src=%s"]) % mac)
    elif rng.random() < 0.1:
        m.append("dl_dst=01:00:00:00:00:00/01:00:00:00:00:00")
    if cls == "ip":
        if rng.random() < 0.4:
            m.append("nw_dst=%s" % rng.choice(IP4S[:5] + ["10.0.0.0/24"]))
        if rng.random() < 0.3:
            m.append("nw_src=%s" % rng.choice(IP4S[:5] + ["10.0.0.0/8"]))
        if rng.random() < 0.15:
            m.append("nw_ttl=%d" % rng.choice([0, 1, 64]))
        if rng.random() < 0.15:
            m.append("nw_tos=%d" % rng.choice([0, 0x10, 0xb8]))
        if rng.random() < 0.2:
            m.append("ip_frag=%s" % rng.choice(
                ["no", "yes", "first", "later", "not_later"]))
    if cls == "ipv6":
        if rng.random() < 0.4:
            m.append("ipv6_dst=%s" % rng.choice(IP6S))
        if rng.random() < 0.2:
            m.append("ip_frag=%s" % rng.choice(["no", "yes", "later"]))
    if cls in ("ip", "ipv6"):
        l4 = next((x for x in m if x in ("udp", "tcp", "udp6", "tcp6")), None)
        if l4 and rng.random() < 0.5:
            m.append("tp_%s=%d" % (rng.choice(["src", "dst"]),
                                   rng.choice(L4PORTS)))
        if l4 in ("tcp", "tcp6") and rng.random() < 0.3:
            m.append("tcp_flags=%s" % rng.choice(["+syn", "+syn-ack", "+ack"]))
        if any(x in ("icmp", "icmp6") for x in m) and rng.random() < 0.5:
            m.append("icmp_type=%d" % rng.choice([8, 0, 128, 135]))
        if cls == "ip" and l4 is None and rng.random() < 0.2 \
           and "icmp" not in m:
            m.append("nw_proto=%d" % rng.choice([17, 6, 47, 132]))
    if cls == "arp":
        if rng.random() < 0.5:
            m.append("arp_op=%d" % rng.choice([1, 2]))
        if rng.random() < 0.3:
            m.append("arp_tpa=%s" % rng.choice(IP4S[:3]))
        if rng.random() < 0.1:
            m.append("arp_sha=%s" % rng.choice(all_unicast_macs()))
    return m


def random_actions(rng, table, n_tables):
    """A random action list (OpenFlow 1.3 syntax of ovs-ofctl)."""
    if rng.random() < 0.2:
        return "drop"
    a = []
    normal = rng.random() < 0.25
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        op = rng.choice(["pop", "push", "mod_vid", "mod_pcp", "push", "pop"])
        if op == "pop":
            a.append("pop_vlan")
        elif op == "push":
            a.append("push_vlan:0x%04x" % rng.choice([0x8100, 0x88a8]))
            a.append("mod_vlan_vid:%d" % rng.choice(POLICY_VIDS))
        elif op == "mod_vid":
            a.append("mod_vlan_vid:%d" % rng.choice(POLICY_VIDS))
        else:
            a.append("mod_vlan_pcp:%d" % rng.choice([0, 5]))
    if normal:
        # No MAC rewrite before NORMAL: it would learn the new source MAC
        # on this port (see mac_pool()).
        a.append("NORMAL")
        return ",".join(a)
    if rng.random() < 0.25:
        a.append("mod_dl_dst:%s" % rng.choice(REWRITE_MACS[:2] + [BCAST]))
    if rng.random() < 0.15:
        a.append("mod_dl_src:%s" % rng.choice(REWRITE_MACS))
    if rng.random() < 0.08:
        a.append(rng.choice(["dec_ttl", "mod_nw_tos:16", "LOCAL",
                             "controller"]))
    n_out = rng.choice([1, 1, 1, 2, 3])
    for _ in range(n_out):
        r = rng.random()
        if r < 0.08:
            a.append("in_port")
        elif r < 0.12 and table + 1 < n_tables:
            a.append("resubmit(,%d)" % (table + 1))
        else:
            a.append("output:%s" % rng.choice(PORT_NAMES))
        if rng.random() < 0.2:
            a.append(rng.choice(["pop_vlan", "mod_vlan_vid:%d"
                                 % rng.choice(POLICY_VIDS)]))
    return ",".join(a)


def random_flow(rng, n_tables, in_ports=None):
    table = rng.choice([0] * 4 + [1]) if n_tables > 1 else 0
    prio = rng.choice([1, 10, 100, 1000, 50000])
    match = random_match(rng, in_ports or PORT_NAMES)
    flow = ("table=%d," % table if table else "") + "priority=%d," % prio \
        + ",".join(match)
    return (flow.rstrip(",") + ",actions="
            + random_actions(rng, table, n_tables))


def generate_case(seed, n_frames):
    """The case of 'seed': a dict that run_case() executes."""
    rng = random.Random(seed)
    case = {"seed": seed, "settings": {}, "ports": {}, "flows": [],
            "steps": []}
    r = rng.random()
    if r < 0.25:
        case["settings"]["vlan-limit"] = rng.choice(["0", "2"])
    case["settings"]["no-flood-local"] = rng.random() < 0.7
    for port in FUNCTIONS:
        pc = {}
        if rng.random() < 0.65:
            opts = random_policy(rng, port)
            if opts:
                pc["options"] = opts
        if rng.random() < 0.08:
            pc["mtu_request"] = rng.choice([100, 576, 1400])
        if rng.random() < 0.06:
            pc["tag"] = str(rng.choice(POLICY_VIDS))
        if pc:
            case["ports"][port] = pc
    n_tables = rng.choice([1, 1, 1, 2])
    r = rng.random()
    if r < 0.55:
        case["flows"].append("priority=0,actions=NORMAL")
    elif r < 0.75:
        case["flows"].append("priority=0,actions=drop")
    if n_tables > 1:
        case["flows"].append("table=1,priority=0,actions=NORMAL")
    for _ in range(rng.randrange(1, 9)):
        case["flows"].append(random_flow(rng, n_tables))
    frames = 0
    seen = []                   # Frames sent so far: (port, spec).
    while frames < n_frames:
        r = rng.random()
        if r < 0.04:
            case["steps"].append({"op": "add-flow",
                                  "flow": random_flow(rng, n_tables)})
            continue
        deletable = [f for f in case["flows"]
                     if not re.match(r"(table=\d+,)?priority=0,actions=", f)]
        if r < 0.06 and deletable:
            # (Not a catch-all: see MISS_FLOWS.)
            case["steps"].append({"op": "del-flow",
                                  "flow": rng.choice(deletable)})
            continue
        if r < 0.08:
            port = rng.choice(FUNCTIONS)
            key, value = rng.choice([
                ("spoofchk", rng.choice(["true", "false"])),
                ("promisc", rng.choice(["true", "false"])),
                ("link-state", rng.choice(["auto", "disable", "enable"])),
                ("trust", rng.choice(["true", "false"]))])
            case["steps"].append({"op": "set-option", "port": port,
                                  "key": key, "value": value})
            continue
        if r < 0.09:
            port = rng.choice(FUNCTIONS)
            case["steps"].append({"op": "guest-set-mac", "port": port,
                                  "mac": rng.choice(mac_pool(port, "forged")
                                                    + mac_pool(port, "own"))})
            continue
        if seen and rng.random() < 0.25:
            port, spec = rng.choice(seen)       # An older frame again.
        else:
            port = rng.choice(PORT_NAMES)
            spec = random_frame(rng, port)
            seen.append((port, spec))
        # The frame, then (once its flow is in the device) again, then
        # variants of it.
        group = [spec, spec] + frame_variants(rng, spec)
        for s in group:
            frame = build_frame(s)
            case["steps"].append({"op": "inject", "port": port,
                                  "hex": frame.hex(),
                                  "desc": describe_frame(s, frame)})
            frames += 1
    return case


# ---------------------------------------------------------------------------
# Running a case: two daemons side by side.

class Failure(Exception):
    pass


# A flow that no packet reaches (nothing resubmits to table 200): adding
# and deleting it makes OVS revalidate every datapath flow at once.
NOOP_FLOW = "table=200,priority=0,cookie=0x5eed,actions=drop"

# Catch-all drops in the tables that packets reach, added before the
# case's flows (a case's own priority=0 catch-all replaces them).  Without
# them a table miss would be translated to "send to controller" whenever a
# flow is translated while an OpenFlow connection that has not negotiated
# OpenFlow 1.3 yet is open (every ovs-ofctl, for a moment): OVS's default
# table-miss behaviour follows the connections of the moment.
MISS_FLOWS = ["table=0,priority=0,actions=drop",
              "table=1,priority=0,actions=drop"]


# A command whose own process waited long for the CPU (a busy machine)
# says so on stderr ("timeval|WARN|Unreasonably long 2246ms poll
# interval", then its "coverage|INFO" counters), which is part of the
# output compared between the two sides: kept off the console of the
# ovs-vsctl and ovs-ofctl that the sides run.
QUIET_UNDER_LOAD = ["-vtimeval:console:off", "-vcoverage:console:off"]


# What stock OVS 3.1 logs about the hostile frames of the cases, in both
# modes alike (each seen with OVS's own ovs-vswitchd and dummy ports too):
# a frame whose VLAN tag is cut short, or whose VLAN the input port (tag,
# trunks) does not carry (NORMAL); and flows that its userspace datapath
# cannot parse back from their netlink key or mask when a revalidator
# modifies them: MPLS label stacks, and with vlan-limit 0 or 2 a second
# tag cut short ("encap()").  Not ours, and not a matter of offload.
OVS_HOSTILE_FRAME_LOGS = [
    r"ofproto_dpif_xlate\|WARN\|dropping packet with partial VLAN tag",
    r"ofproto_dpif_xlate\|WARN\|dropping VLAN [0-9]+ (tagged )?packet "
    r"received on port",
    r"dpif_netdev\(revalidator[0-9]*\)\|ERR\|internal error parsing flow "
    r"(key|mask) .*(mpls\(|encap\(\))",
    r"dpif\(revalidator[0-9]*\)\|WARN\|dummy@ovs-dummy: failed to "
    r"put\[modify\] \(Invalid argument\) .*(mpls\(|encap\(\))",
    r"odp_util\(revalidator[0-9]*\)\|WARN\|MPLS LSEs have invalid length",
    r"odp_util\(revalidator[0-9]*\)\|WARN\|the flow key in error is: "
    r".*mpls\(",
]


def log_problems(path, ignore=OVS_HOSTILE_FRAME_LOGS):
    """The WARN/ERR/EMER lines of log 'path' that OVS's check_logs would
    not ignore, nor 'ignore'."""
    if not os.path.exists(path):
        return []
    skip = re.compile(r"reset by peer|Broken pipe|is not connected"
                      r"|timeval.*Unreasonably long [0-9]*ms poll interval"
                      r"|timeval.*faults: [0-9]* minor, [0-9]* major"
                      r"|timeval.*disk: [0-9]* reads, [0-9]* writes"
                      r"|timeval.*context switches: [0-9]* voluntary"
                      r"|ovs_rcu.*blocked [0-9]* ms waiting for .* to quiesce"
                      r"|Dropped [0-9]* log messages"
                      r"|setting extended ack support failed")
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            if (re.search(r"\|(WARN|ERR|EMER)\|", line)
                    and not skip.search(line)
                    and not any(re.search(p, line) for p in ignore)):
                out.append(line.rstrip("\n"))
    return out


class Side:
    """One ovsdb-server and ovs-vswitchd in their own directory."""

    def __init__(self, workdir, hw, ovs_dir, suffix=""):
        self.hw = hw
        self.name = "hw-offload=%s" % ("true" if hw else "false")
        self.dir = os.path.join(workdir, ("offload" if hw else "software")
                                + suffix)
        self.schema = os.path.join(ovs_dir, "vswitchd", "vswitch.ovsschema")
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir,
                        OVS_DBDIR=self.dir, OVS_SYSCONFDIR=self.dir)
        self.pids = {}
        self.ctl = None
        self.pcap_offset = 0
        self.fdb = None

    # Commands.
    def run(self, argv, timeout=60):
        p = subprocess.run(argv, cwd=self.dir, env=self.env, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        return p.returncode, p.stdout, p.stderr

    def must(self, argv):
        rc, out, err = self.run(argv)
        if rc:
            raise Failure("%s: %s failed: %s" % (self.name, " ".join(argv),
                                                 err.strip()))
        return out

    def appctl(self, *args, target=None):
        """Like ovs-appctl [-t TARGET] ARGS, through the daemon's control
        socket (one connection per command, as ovs-appctl).  Returns the
        reply, or "error: " and the error reply."""
        return self.appctl_reply(self.appctl_send(*args, target=target),
                                 args[0])

    def appctl_send(self, *args, target=None):
        """Sends command ARGS on a new connection, which it returns."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        try:
            connect_unix(s, target or self.ctl)
            s.sendall(json.dumps({"method": args[0], "params": list(args[1:]),
                                  "id": 0}).encode())
        except BaseException:
            s.close()
            raise
        return s

    def appctl_reply(self, s, command, poke=False):
        """The reply to 'command' sent on connection 's', which it closes.

        With 'poke', sends "version" every 5 ms while the reply does not
        come: ovs-vswitchd answers revalidator/wait only when its main loop
        wakes up for something else after the flow dump ended (it does not
        wait on the dump itself), every few seconds on an idle daemon."""
        deadline = time.time() + 60
        try:
            buf = b""
            dec = json.JSONDecoder()
            while True:
                if poke:
                    ready, _, _ = select.select([s], [], [], 0.005)
                    if not ready:
                        if time.time() > deadline:
                            raise Failure("%s: %s: no reply within 60 s"
                                          % (self.name, command))
                        self.appctl("version")
                        continue
                chunk = s.recv(1 << 16)
                if not chunk:
                    raise Failure("%s: %s: connection closed" % (self.name,
                                                                command))
                buf += chunk
                try:
                    reply, _ = dec.raw_decode(buf.decode())
                    break
                except ValueError:
                    continue
        finally:
            s.close()
        if reply.get("error") is not None:
            return "error: " + str(reply["error"])
        return reply.get("result") or ""

    # Daemons.
    def start(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        open(os.path.join(self.dir, ".conf.db.~lock~"), "w").close()
        self.must(["ovsdb-tool", "create", "conf.db", self.schema])
        self.must(["ovsdb-server", "--detach", "--no-chdir", "--pidfile",
                   "--log-file", "-vconsole:off",
                   "--remote=punix:%s/db.sock" % self.dir])
        self.pids["ovsdb-server"] = self.read_pid("ovsdb-server")
        self.must(["ovs-vsctl", "--no-wait", "init"])
        self.must(["ovs-vswitchd", "--enable-dummy", "--disable-system",
                   "--disable-system-route", "--detach", "--no-chdir",
                   "--pidfile", "--log-file", "-vconsole:off", "-vvconn",
                   "-vofproto_dpif", "-vunixctl"])
        self.pids["ovs-vswitchd"] = self.read_pid("ovs-vswitchd")
        self.ctl = os.path.join(self.dir, "ovs-vswitchd.%d.ctl"
                                % self.pids["ovs-vswitchd"])

    def read_pid(self, name):
        with open(os.path.join(self.dir, name + ".pid")) as f:
            return int(f.read().strip())

    def stop(self):
        """Stops the daemons (by their pids).  Returns the log problems."""
        problems = []
        if "ovs-vswitchd" in self.pids:
            problems = log_problems(os.path.join(self.dir, "ovs-vswitchd.log"))
            problems += log_problems(os.path.join(self.dir,
                                                  "ovsdb-server.log"))
        for name in ("ovs-vswitchd", "ovsdb-server"):
            pid = self.pids.pop(name, None)
            if pid is None:
                continue
            try:
                self.appctl("exit", target=os.path.join(
                    self.dir, "%s.%d.ctl" % (name, pid)))
            except (OSError, Failure):
                pass
            if not wait_dead(pid, 10):
                os.kill(pid, signal.SIGKILL)
                wait_dead(pid, 5)
        # Sanitizer reports (atlocal's ASAN_OPTIONS and UBSAN_OPTIONS write
        # them to asan.PID or ubsan.PID in the daemon's directory).
        for name in sorted(os.listdir(self.dir)):
            if name.startswith(("asan.", "ubsan.")):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    problems.append("%s: %s" % (name, f.read(4000)))
        return problems

    def kill(self):
        for name in list(self.pids):
            try:
                os.kill(self.pids.pop(name), signal.SIGKILL)
            except OSError:
                pass

    # State.
    def read_pcap(self):
        """The frames OVS sent to the LOCAL port since the last call."""
        path = os.path.join(self.dir, "br0-tx.pcap")
        if not os.path.exists(path):
            return ""
        with open(path, "rb") as f:
            data = f.read()
        off = max(self.pcap_offset, 24)
        frames = []
        while off + 16 <= len(data):
            caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
            if off + 16 + caplen > len(data):
                break
            frames.append(data[off + 16:off + 16 + caplen].hex())
            off += 16 + caplen
        self.pcap_offset = off
        return "".join(f + "\n" for f in frames)

    def read_fdb(self):
        out = self.appctl("fdb/show", "br0")
        return sorted(" ".join(line.split()[:3])
                      for line in out.splitlines()[1:] if line.strip())

    def settled(self):
        """Whether OVS's offload thread has handled every datapath flow of
        an eSwitch port: the provider knows each with its current actions,
        and nothing else.  Returns None if so, else the differences."""
        # (By match: dpctl shows a flow's ufid, the provider its megaflow's.)
        dp = {}
        for line in self.appctl("dpctl/dump-flows").splitlines():
            m = re.match(r"(.*?in_port\((\d+)\).*?), packets:.* actions:(.*)",
                         line)
            if m and m.group(2) in ESW_DP_PORTS:
                dp[m.group(1)] = m.group(3)
        esw = {f["match"]: f["actions"] for f in json.loads(
            self.appctl("eswitch/dump-flows", "--json"))["flows"]}
        if dp == esw:
            return None
        return "".join("  datapath %s: %s\n  eswitch %s\n" % (
            match, dp.get(match, "(none)"), esw.get(match, "(none)"))
            for match in sorted(set(dp) | set(esw))
            if dp.get(match) != esw.get(match))


def connect_unix(s, path):
    """s.connect(path), also for paths longer than a socket address holds
    (deep test directories): through the directory's /proc/self/fd entry,
    as OVS's own clients do."""
    if len(path.encode()) < 100:
        s.connect(path)
        return
    fd = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        s.connect("/proc/self/fd/%d/%s" % (fd, os.path.basename(path)))
    finally:
        os.close(fd)


def wait_dead(pid, timeout):
    """Waits until 'pid' has exited (a zombie counts: OVS daemons detach,
    and whoever reaps them may be slow)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.01)
    return False


def q(args):
    return " ".join(shlex.quote(a) for a in args)


class Run:
    """One execution of a case on the two sides, in lockstep."""

    def __init__(self, case, workdir, ovs_dir, modes, early_exit):
        self.case = case
        self.sides = [Side(workdir, modes[0], ovs_dir),
                      Side(workdir, modes[1], ovs_dir,
                           "-2" if modes[0] == modes[1] else "")]
        self.early_exit = early_exit
        self.transcript = []        # Command lines and comments.
        self.mismatch = None        # (label, kind, expected, actual)
        self.problems = []          # Non-differential failures.

    # Execution helpers: every command goes to both sides.
    def both(self, fn):
        """[fn(side) for each side], run at the same time on both (each
        side's commands stay in order; waits overlap)."""
        results = [None, None]
        errors = []

        def work(i):
            try:
                results[i] = fn(self.sides[i])
            except BaseException as e:     # Re-raised in the caller.
                errors.append(e)
        t = threading.Thread(target=work, args=(1,))
        t.start()
        work(0)
        t.join()
        if errors:
            raise errors[0]
        return results

    def cmd(self, kind, args, record=True, where=None):
        def run1(side):
            if kind == "appctl":
                return side.appctl(*args)
            argv = {"vsctl": ["ovs-vsctl"], "ofctl": ["ovs-ofctl"]}[kind] \
                + QUIET_UNDER_LOAD + args
            rc, out, err = side.run(argv)
            return out + err + ("(exit status %d)\n" % rc if rc else "")
        outs = self.both(run1)
        line = q(["ovs-" + kind] + args)
        if record:
            self.transcript.append(line)
        if where is not None:
            self.compare(where + ": " + line, "command", outs[0], outs[1])
        return outs

    def compare(self, label, kind, expected, actual):
        if expected != actual and self.mismatch is None:
            self.mismatch = (label, kind, expected, actual)
        if self.mismatch and self.early_exit:
            raise Failure("mismatch")

    def revalidate(self):
        """Makes both sides revalidate every datapath flow now: its stats
        pushed to its OpenFlow rules and its actions translated again with
        the current OpenFlow and MAC learning tables.

        revalidator/wait waits for the end of the next flow dump, which may
        have started before the command; a change of the OpenFlow tables
        makes the revalidators start a dump of every flow right away (or
        right after the current one), which may end before a wait issued
        after it even starts.  So, twice: start a wait, make sure OVS has
        registered it (a command on another connection is answered after
        it), change the tables (add, then delete, a flow that no packet
        reaches), and let the wait end.  The second wait then ends with a
        dump that started after the first change."""
        self.transcript.append("# revalidate every flow now: wait for a "
                               "flow dump that a no-op OpenFlow change "
                               "starts, twice:")
        for args in (["add-flow", "br0", NOOP_FLOW],
                     ["del-flows", "br0", NOOP_FLOW.split(",")[0]]):
            argv = ["ovs-ofctl", "-O", "OpenFlow13"] + args

            def one(side):
                conn = side.appctl_send("revalidator/wait")
                side.appctl("version")
                side.must(argv)
                return side.appctl_reply(conn, "revalidator/wait", poke=True)
            self.both(one)
            self.transcript.append("ovs-appctl revalidator/wait & "
                                   "ovs-appctl version >/dev/null; %s; wait"
                                   % q(argv))

    def settle(self):
        """Waits until the offloading side's flows are in the device (or
        known to stay in software).  Nothing to wait for without offload."""
        self.transcript.append("# wait until eswitch/dump-flows lists every "
                               "datapath flow with its current actions "
                               "(hw-offload=true only)")
        for side in self.sides:
            if not side.hw:
                continue
            deadline = time.time() + 20
            while True:
                diff = side.settled()
                if diff is None:
                    break
                if time.time() > deadline:
                    self.problems.append("%s: flows not offloaded within 20 s"
                                         ":\n%s" % (side.name, diff))
                    raise Failure("settle")
                time.sleep(0.002)

    def observe_delivery(self, where):
        for port in PORT_NAMES:
            outs = self.both(lambda s: s.appctl("eswitch/capture", port,
                                                "--hex"))
            self.compare("%s: ovs-appctl eswitch/capture %s --hex"
                         % (where, port), "delivery", outs[0], outs[1])
        outs = [s.read_pcap() for s in self.sides]
        self.compare("%s: frames sent to br0 (LOCAL, its tx_pcap)" % where,
                     "delivery", outs[0], outs[1])

    def setup(self):
        c = self.case
        self.both(Side.start)
        settings = ["other_config:eswitch-host-io=capture",
                    # Keep idle flows for the whole case, and let only
                    # revalidate() make the revalidators work: with long
                    # periods, a busy machine never makes OVS delete
                    # low-rate flows instead of revalidating them (it does
                    # when a dump takes over max-revalidator/2), which
                    # would make the datapath flows and their counts
                    # depend on timing.
                    "other_config:max-idle=600000",
                    "other_config:max-revalidator=10000"]
        if "vlan-limit" in c["settings"]:
            settings.append("other_config:vlan-limit=%s"
                            % c["settings"]["vlan-limit"])
        # Like OVS_VSWITCHD_START (add_of_br): br0 in secure fail mode.
        self.both(lambda side: side.must(
            ["ovs-vsctl", "--", "set", "Open_vSwitch", "."] + settings
            + ["other_config:hw-offload=%s" % ("true" if side.hw
                                               else "false")]))
        self.transcript.append(q(["ovs-vsctl", "set", "Open_vSwitch", "."]
                                 + settings + ["other_config:hw-offload=true"
                                               "|false"]))
        self.cmd("vsctl", [
            "--", "add-br", "br0", "--", "set", "bridge", "br0",
            "datapath-type=dummy", "fail-mode=secure",
            "other-config:datapath-id=fedcba9876543210",
            "other-config:hwaddr=aa:55:aa:55:00:00",
            "protocols=[OpenFlow10,OpenFlow11,OpenFlow12,OpenFlow13,"
            "OpenFlow14,OpenFlow15]",
            "--", "set", "interface", "br0", "options:tx_pcap=br0-tx.pcap"],
            where="setup")
        for name, itype, ofport, _ in PORTS:
            pc = c["ports"].get(name, {})
            args = ["add-port", "br0", name, "--", "set", "interface", name,
                    "type=" + itype, "ofport_request=%d" % ofport]
            args += ["options:%s=%s" % kv
                     for kv in sorted(pc.get("options", {}).items())]
            if "mtu_request" in pc:
                args.append("mtu_request=%d" % pc["mtu_request"])
            if "tag" in pc:
                args += ["--", "set", "port", name, "tag=" + pc["tag"]]
            self.cmd("vsctl", args, where="setup")
        if c["settings"].get("no-flood-local"):
            self.cmd("ofctl", ["mod-port", "br0", "br0", "no-flood"],
                     where="setup")
        for flow in MISS_FLOWS + c["flows"]:
            self.cmd("ofctl", ["-O", "OpenFlow13", "add-flow", "br0", flow],
                     where="setup")
        self.revalidate()
        for side in self.sides:
            side.fdb = side.read_fdb()

    def step(self, i, st):
        where = "step %d" % (i + 1)
        op = st["op"]
        if op == "inject":
            self.transcript.append("# %s: %s" % (where, st["desc"]))
            self.cmd("appctl", ["eswitch/inject", st["port"], st["hex"]],
                     where=where)
        elif op == "add-flow":
            self.cmd("ofctl", ["-O", "OpenFlow13", "add-flow", "br0",
                               st["flow"]], where=where)
        elif op == "del-flow":
            self.cmd("ofctl", ["-O", "OpenFlow13", "--strict", "del-flows",
                               "br0", st["flow"].split(",actions=")[0]],
                     where=where)
        elif op == "set-option":
            self.cmd("vsctl", ["set", "interface", st["port"],
                               "options:%s=%s" % (st["key"], st["value"])],
                     where=where)
        elif op == "guest-set-mac":
            self.cmd("appctl", ["eswitch/guest-set-mac", st["port"],
                                st["mac"]], where=where)
        # What the step delivered, before anything else moves.
        self.observe_delivery(where)
        if op == "inject":
            # A newly learned MAC changes what NORMAL does with frames
            # whose flows exist: let the revalidators update them first
            # (in both, if either learned something).
            fdbs = [s.read_fdb() for s in self.sides]
            if any(f != s.fdb for f, s in zip(fdbs, self.sides)):
                self.transcript.append("# the MAC learning table changed:")
                self.revalidate()
            for f, s in zip(fdbs, self.sides):
                s.fdb = f
        else:
            self.revalidate()
        self.settle()

    def finish(self):
        self.revalidate()
        self.settle()
        outs = self.both(lambda s: s.appctl("eswitch/stats", "--json"))
        self.compare("end: ovs-appctl eswitch/stats (traffic and drops)",
                     "counters", *[stats_view(o) for o in outs])
        outs = self.both(lambda s: s.must(["ovs-ofctl", "-O", "OpenFlow13",
                                           "dump-flows", "br0"]))
        self.compare("end: ovs-ofctl -O OpenFlow13 dump-flows br0 "
                     "(n_packets, n_bytes)", "openflow",
                     *[ofctl_view(o) for o in outs])
        outs = [s.appctl("dpctl/dump-flows") for s in self.sides]
        self.compare("end: ovs-appctl dpctl/dump-flows (datapath flows and "
                     "their counts)", "dpflows", *[dpflows_view(o)
                                                   for o in outs])
        outs = [s.read_fdb() for s in self.sides]
        self.compare("end: ovs-appctl fdb/show br0 (without ages)", "fdb",
                     *["".join(x + "\n" for x in o) for o in outs])
        for side in self.sides:
            if side.hw:
                out = side.appctl("eswitch/offload-check")
                if not out.startswith("consistent:"):
                    self.problems.append("%s: ovs-appctl eswitch/"
                                         "offload-check:\n%s"
                                         % (side.name, out))

    def execute(self):
        """Runs the case.  Returns None if both sides agree, else the kind
        of the first mismatch or problem."""
        try:
            self.setup()
            for i, st in enumerate(self.case["steps"]):
                self.step(i, st)
            self.finish()
        except Failure as e:
            if str(e) not in ("mismatch", "settle"):
                self.problems.append(str(e))
        finally:
            def stop(side):
                try:
                    return side.stop()
                except BaseException:
                    side.kill()
                    raise
            for side, probs in zip(self.sides, self.both(stop)):
                self.problems += ["%s: log: %s" % (side.name, p)
                                  for p in probs]
        if self.mismatch:
            return self.mismatch[1]
        if self.problems:
            return "problem"
        return None


def stats_view(text):
    """eswitch/stats --json without what legitimately differs: the
    representor (miss) counters, which count OVS's software path (every
    frame without offload, the first ones of a flow with it), and drops by
    a rule ("rule"), which only a device rule makes (without offload OVS
    drops those frames in software, where no eSwitch counter sees them)."""
    try:
        stats = json.loads(text)
    except ValueError:
        return text
    out = []
    for esw, funcs in sorted(stats.items()):
        for func, st in sorted(funcs.items()):
            drops = ", ".join("%s %d" % (k, v)
                              for k, v in sorted(st["drops"].items())
                              if k != "rule")
            out.append("%s/%s: rx %d pkts %d bytes, tx %d pkts %d bytes, "
                       "mac changes refused %d, drops: %s\n" % (
                           esw, func, st["rx_packets"], st["rx_bytes"],
                           st["tx_packets"], st["tx_bytes"],
                           st["guest_mac_change_refused"], drops))
    return "".join(out)


def ofctl_view(text):
    """OpenFlow rules with their counts, without durations (time)."""
    out = []
    for line in text.splitlines()[1:]:
        line = re.sub(r" duration=[0-9.]+s,", "", line)
        line = re.sub(r" reset_counts", "", line)
        out.append(line.strip() + "\n")
    return "".join(out)


def dpflows_view(text):
    """Datapath flows with their counts, sorted, without "used" (time) and
    "flags" (the TCP flags seen: device rules count packets and bytes, not
    flags, so with offload only the packets of OVS's path have them)."""
    lines = [re.sub(r" (used|flags):[^,]*,", "", line)
             for line in text.splitlines() if not line.startswith("flow-dump")]
    # The recirculation ids of controller actions are allocated as
    # revalidator threads translate flows, in no fixed order.
    lines = [re.sub(r"recirc_id=[0-9]+", "recirc_id=N", line)
             for line in lines]
    return "".join(sorted(line + "\n" for line in lines))


# ---------------------------------------------------------------------------
# Shrinking and reporting.

def case_dir(case):
    """The name of the work directory of 'case'."""
    if "name" in case:
        return "case-" + re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(
            case["name"]).rsplit(".json", 1)[0])
    return "case-%d" % case["seed"]


def copy_case(case):
    return json.loads(json.dumps(case))


def case_size(case):
    return (len(case["steps"]) + len(case["flows"])
            + sum(len(pc.get("options", {})) + len(pc) for pc in
                  case["ports"].values()) + len(case["settings"]))


def shrink(case, kind, runner, deadline, verbose=False):
    """Drops parts of 'case' while it still fails with 'kind': chunks of
    steps (halving), then flows, policy options, port settings and OVS
    settings one at a time, until nothing more can go.  Returns the smaller
    case and the number of runs."""
    tries = [0]

    def fails(cand):
        if time.time() > deadline:
            return False
        tries[0] += 1
        got = runner(cand, True)
        if verbose:
            print("  shrink: %d steps, %d flows, size %d: %s" % (
                len(cand["steps"]), len(cand["flows"]), case_size(cand),
                got or "same"))
            sys.stdout.flush()
        return got == kind

    def drop_items(case, get):
        """Tries to drop each item of the list get(case), in chunks."""
        size = max(len(get(case)) // 2, 1)
        progress = False
        while size >= 1:
            i = 0
            while i < len(get(case)):
                cand = copy_case(case)
                del get(cand)[i:i + size]
                if fails(cand):
                    case, progress = cand, True
                else:
                    i += size
            size //= 2
        return case, progress

    progress = True
    while progress and time.time() < deadline:
        case, p1 = drop_items(case, lambda c: c["steps"])
        case, p2 = drop_items(case, lambda c: c["flows"])
        progress = p1 or p2
        # Port and OVS settings, one at a time.
        keys = [(port, "options", k)
                for port, pc in sorted(case["ports"].items())
                for k in sorted(pc.get("options", {}))]
        keys += [(port, k, None) for port, pc in sorted(case["ports"].items())
                 for k in ("mtu_request", "tag") if k in pc]
        keys += [(None, k, None) for k in sorted(case["settings"])
                 if case["settings"][k]]
        for port, k1, k2 in keys:
            cand = copy_case(case)
            if port is None:
                del cand["settings"][k1]
            elif k2 is None:
                del cand["ports"][port][k1]
            else:
                del cand["ports"][port][k1][k2]
            if fails(cand):
                case, progress = cand, True
    return case, tries[0]


def indent(text, prefix="    "):
    if not text:
        return prefix + "(nothing)\n"
    return "".join(prefix + line + "\n" for line in text.splitlines())


def report(run, case, original, args, note=None):
    """Prints the minimal reproduction of a failed run."""
    sides = run.sides
    p = []
    what = ("case %s" % original["name"] if "name" in original
            else "seed %d" % case["seed"])
    if case is original:
        p.append("MISMATCH: %s (%d steps, %d flows, not shrunk)" % (
            what, len(case["steps"]), len(case["flows"])))
    else:
        p.append("MISMATCH: %s (shrunk from %d steps, %d flows to %d "
                 "steps, %d flows)" % (what, len(original["steps"]),
                                       len(original["flows"]),
                                       len(case["steps"]), len(case["flows"])))
    if "name" in original:
        p.append("  rerun: %s --case %s" % (os.path.basename(sys.argv[0]),
                                             original["name"]))
    else:
        p.append("  rerun: %s --seed %d --cases 1%s" % (
            os.path.basename(sys.argv[0]), case["seed"],
            " --frames %d" % args.frames if args.frames != DEFAULT_FRAMES
            else ""))
    if "about" in original:
        p.append("  about: " + original["about"])
    if note:
        p.append("  note: " + note)
    if args.case_out:
        p.append("  minimal case: %s (rerun with --case FILE)" % args.case_out)
    p.append("  commands, run on a fresh ovs-vswitchd with each setting "
             "(OVS_VSWITCHD_START-like, datapath-type=dummy):")
    p += ["    " + line for line in run.transcript]
    if run.mismatch:
        label, _, expected, actual = run.mismatch
        p.append("  differs at: %s" % label)
        p.append("  %s (expected):" % sides[0].name)
        p.append(indent(expected, "    ").rstrip("\n"))
        p.append("  %s (actual):" % sides[1].name)
        p.append(indent(actual, "    ").rstrip("\n"))
    for prob in run.problems:
        p.append("  problem: %s" % prob)
    print("\n".join(p))
    sys.stdout.flush()


DEFAULT_FRAMES = 24


def main():
    ap = argparse.ArgumentParser(
        description="Differential tester of flow offload: the same random "
        "cases with hw-offload=false and true must give identical results.")
    ap.add_argument("--seed", type=int, default=1,
                    help="seed of the first case (case i has seed SEED+i)")
    ap.add_argument("--cases", type=int, default=10, help="number of cases")
    ap.add_argument("--frames", type=int, default=DEFAULT_FRAMES,
                    help="frames injected per case (default %(default)s)")
    ap.add_argument("--case", metavar="FILE", action="append",
                    help="run the case in FILE (JSON, as written by "
                    "--case-out), or every *.json of a directory, instead "
                    "of generated ones; may be repeated")
    ap.add_argument("--case-out", metavar="FILE",
                    help="write the (minimal) failing case there")
    ap.add_argument("--ovs-dir", default=os.environ.get("OVS_DIR"),
                    help="the pinned OVS tree (for vswitch.ovsschema; "
                    "default $OVS_DIR)")
    ap.add_argument("--dir", default="esw-diff.dir",
                    help="work directory (default %(default)s)")
    ap.add_argument("--modes", default="false,true",
                    help="hw-offload of the reference and the tested side "
                    "(default %(default)s; true,true or false,false check "
                    "that the tester itself is deterministic)")
    ap.add_argument("--no-shrink", action="store_true",
                    help="report a mismatch as found, without shrinking it")
    ap.add_argument("--shrink-seconds", type=int, default=600,
                    help="time limit for shrinking one case")
    ap.add_argument("--keep-going", action="store_true",
                    help="run every case even after a mismatch")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="print one line per case")
    args = ap.parse_args()

    if not args.ovs_dir or not os.path.exists(
            os.path.join(args.ovs_dir, "vswitchd", "vswitch.ovsschema")):
        ap.error("--ovs-dir (or $OVS_DIR) must be the OVS tree with "
                 "vswitchd/vswitch.ovsschema")
    modes = [m.strip() == "true" for m in args.modes.split(",")]
    if len(modes) != 2 or any(m.strip() not in ("true", "false")
                              for m in args.modes.split(",")):
        ap.error("--modes takes two of true/false, e.g. false,true")
    workdir = os.path.abspath(args.dir)
    os.makedirs(workdir, exist_ok=True)
    # Stop the daemons (the "finally" of Run.execute()) when killed too.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    def runner(case, early_exit):
        run = Run(case, os.path.join(workdir, case_dir(case)),
                  args.ovs_dir, modes, early_exit)
        kind = run.execute()
        runner.last = run
        return kind

    if args.case:
        cases = []
        names = []
        for name in args.case:
            if os.path.isdir(name):
                names += sorted(os.path.join(name, n) for n in os.listdir(name)
                                if n.endswith(".json"))
            else:
                names.append(name)
        for name in names:
            with open(name) as f:
                case = json.load(f)
            case.setdefault("name", name)
            cases.append(case)
    else:
        cases = (generate_case(args.seed + i, args.frames)
                 for i in range(args.cases))
    n = bad = 0
    for case in cases:
        n += 1
        t0 = time.time()
        kind = runner(case, False)
        first = runner.last
        if args.verbose:
            print("case %s: %d flows, %d steps: %s (%.1f s)" % (
                case.get("name", "seed %d" % case["seed"]),
                len(case["flows"]), len(case["steps"]),
                kind or "same", time.time() - t0))
            sys.stdout.flush()
        if not kind:
            shutil.rmtree(os.path.join(workdir, case_dir(case)),
                          ignore_errors=True)
            continue
        bad += 1
        small, final, note = case, first, None
        if not args.no_shrink:
            small, tries = shrink(case, kind, runner,
                                  time.time() + args.shrink_seconds,
                                  args.verbose)
            if args.verbose:
                print("  shrunk in %d runs" % tries)
            if small is not case:
                # Once more, fully, for the report.
                if runner(small, False) == kind:
                    final = runner.last
                else:
                    note = ("the smaller case did not fail again: the "
                            "failure is not deterministic; this is the "
                            "whole case's first run")
                    small = case
        if args.case_out:
            with open(args.case_out, "w") as f:
                json.dump(small, f, indent=1, sort_keys=True)
                f.write("\n")
        report(final, small, case, args, note)
        if not args.keep_going:
            break
    print("%d cases, %d mismatches" % (n, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
