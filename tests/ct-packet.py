#!/usr/bin/env python3
# Copyright (c) 2026 The ovs-ext authors.
#
# Licensed under the Apache License, Version 2.0.

"""Prints an Ethernet/IPv4 or IPv6 TCP, UDP or ICMP frame in hex, checksums
right, for eswitch/inject (tests/offload-ct.at): datapath flow strings make
TCP segments with sequence and acknowledgement numbers 0, which OVS's
conntrack (rightly) takes for invalid after the handshake, and ICMP
messages without an id.

ct-packet.py tcp SRC-MAC DST-MAC SRC-IP:PORT DST-IP:PORT FLAGS SEQ ACK [LEN]
ct-packet.py udp SRC-MAC DST-MAC SRC-IP:PORT DST-IP:PORT [LEN]
ct-packet.py icmp SRC-MAC DST-MAC SRC-IP DST-IP TYPE ID SEQ [LEN]
ct-packet.py unreach SRC-MAC DST-MAC SRC-IP DST-IP INNER-FRAME
ct-packet.py --hopopts tcp|udp|icmp ...

An IPv6 address is written in brackets ([fd00::1]:80, [fd00::1]); then
'icmp' is ICMPv6.  FLAGS: TCP flags joined with '|' (syn, ack, psh, fin,
rst).  TYPE: a number, or 'request' or 'reply' (echo: 8 and 0, ICMPv6 128
and 129).  LEN: bytes of payload (default 0 for TCP, 8 for UDP and ICMP).
'unreach' is an ICMP destination unreachable (port, code 3; ICMPv6 type 1
code 4) quoting the IP packet of INNER-FRAME (a frame in hex, as this
script prints it) and its first 8 bytes of L4.  --hopopts puts an empty
hop-by-hop options header (PadN) before an IPv6 frame's L4 header."""

import socket
import struct
import sys

FLAGS = {"fin": 0x01, "syn": 0x02, "rst": 0x04, "psh": 0x08, "ack": 0x10}


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def address(s):
    if s.startswith("["):
        return socket.inet_pton(socket.AF_INET6, s.strip("[]"))
    return socket.inet_aton(s)


def endpoint(s):
    ip, port = s.rsplit(":", 1)
    return address(ip), int(port)


HOPOPTS = False


def frame(src_mac, dst_mac, src, dst, nproto, l4, ofs):
    """The frame with 'l4' (its checksum, at 'ofs', computed)."""
    v6 = len(src) == 16
    if nproto == 1:
        c = csum(l4)
    elif v6:
        c = csum(src + dst + struct.pack("!IxxxB", len(l4), nproto) + l4)
    else:
        c = csum(src + dst + struct.pack("!BBH", 0, nproto, len(l4)) + l4)
    if nproto == 17 and c == 0:
        c = 0xffff
    l4 = l4[:ofs] + struct.pack("!H", c) + l4[ofs + 2:]
    if v6:
        ext = b""
        nh = nproto
        if HOPOPTS:
            ext = struct.pack("!BB6s", nproto, 0, b"\x01\x04\0\0\0\0")
            nh = 0
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(ext) + len(l4), nh, 64,
                         src, dst)
        return dst_mac + src_mac + b"\x86\xdd" + ip + ext + l4
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64,
                     nproto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + b"\x08\x00" + ip + l4


def main(argv):
    global HOPOPTS
    if argv[1] == "--hopopts":
        HOPOPTS = True
        argv = argv[:1] + argv[2:]
    proto = argv[1]
    src_mac, dst_mac = mac(argv[2]), mac(argv[3])
    if proto in ("icmp", "unreach"):
        src, dst = address(argv[4]), address(argv[5])
        v6 = len(src) == 16
        nproto = 58 if v6 else 1
        if proto == "unreach":
            inner = bytes.fromhex(argv[6])[14:]
            inner = inner[:(40 if v6 else 20) + 8]
            l4 = struct.pack("!BBHI", 1 if v6 else 3, 4 if v6 else 3, 0,
                             0) + inner
        else:
            types = {"request": 128 if v6 else 8, "reply": 129 if v6 else 0}
            icmp_type = types[argv[6]] if argv[6] in types else int(argv[6])
            plen = int(argv[9]) if len(argv) > 9 else 8
            payload = bytes((0x61 + i) % 256 for i in range(plen))
            l4 = struct.pack("!BBHHH", icmp_type, 0, 0, int(argv[7]),
                             int(argv[8])) + payload
        print(frame(src_mac, dst_mac, src, dst, nproto, l4, 2).hex())
        return
    (src, sport), (dst, dport) = endpoint(argv[4]), endpoint(argv[5])
    if proto == "tcp":
        flags = 0
        for f in argv[6].split("|"):
            flags |= FLAGS[f]
        seq, ack = int(argv[7]), int(argv[8])
        plen = int(argv[9]) if len(argv) > 9 else 0
        payload = bytes((0x61 + i) % 256 for i in range(plen))
        l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags,
                         65535, 0, 0) + payload
        ofs, nproto = 16, 6
    else:
        plen = int(argv[6]) if len(argv) > 6 else 8
        payload = bytes((0x61 + i) % 256 for i in range(plen))
        l4 = struct.pack("!HHHH", sport, dport, 8 + plen, 0) + payload
        ofs, nproto = 6, 17
    print(frame(src_mac, dst_mac, src, dst, nproto, l4, ofs).hex())


if __name__ == "__main__":
    main(sys.argv)
