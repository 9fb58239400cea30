#!/usr/bin/env python3
# Copyright (c) 2026 The ovs-ext authors.
#
# Licensed under the Apache License, Version 2.0.

"""Prints an Ethernet/IPv4 TCP or UDP frame in hex, checksums right, for
eswitch/inject (tests/offload-ct.at): datapath flow strings make TCP
segments with sequence and acknowledgement numbers 0, which OVS's
conntrack (rightly) takes for invalid after the handshake.

ct-packet.py tcp SRC-MAC DST-MAC SRC-IP:PORT DST-IP:PORT FLAGS SEQ ACK [LEN]
ct-packet.py udp SRC-MAC DST-MAC SRC-IP:PORT DST-IP:PORT [LEN]

FLAGS: TCP flags joined with '|' (syn, ack, psh, fin, rst).  LEN: bytes of
payload (default 0 for TCP, 8 for UDP)."""

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


def endpoint(s):
    ip, port = s.rsplit(":", 1)
    return socket.inet_aton(ip), int(port)


def main(argv):
    proto = argv[1]
    src_mac, dst_mac = mac(argv[2]), mac(argv[3])
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
    pseudo = src + dst + struct.pack("!BBH", 0, nproto, len(l4))
    c = csum(pseudo + l4)
    if nproto == 17 and c == 0:
        c = 0xffff
    l4 = l4[:ofs] + struct.pack("!H", c) + l4[ofs + 2:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64,
                     nproto, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    frame = dst_mac + src_mac + b"\x08\x00" + ip + l4
    print(frame.hex())


if __name__ == "__main__":
    main(sys.argv)
