#! /usr/bin/env python3
# Copyright (c) 2026 The ovs-ext authors.
# Licensed under the Apache License 2.0.
#
# A hostile client of ovs-eswitchd's control socket (datapath/remote/
# esw-remote-proto.h): sends malformed messages and prints, for each, the
# daemon's answer: the error in its reply and whether it hung up.
#
# usage: eswitchd-client.py SOCKET

import errno
import socket
import struct
import sys

MAGIC = 0x52575345
VERSION = 4
HDR = struct.Struct("<IHHIIiI")     # magic version op len seq result n_fds
OP_HELLO, OP_DEV_OPEN, OP_DEV_CLOSE = 1, 2, 3


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def exchange(s, op, payload, magic=MAGIC, version=VERSION, length=None):
    length = len(payload) if length is None else length
    s.sendall(HDR.pack(magic, version, op, length, 7, 0, 0) + payload)
    hdr = recv_exact(s, HDR.size)
    if hdr is None:
        return None, None
    magic_, version_, op_, len_, seq, result, n_fds = HDR.unpack(hdr)
    body = recv_exact(s, len_) if len_ else b""
    return result, body


def state(s):
    """Whether the daemon hung up on 's': it answers a request if not."""
    try:
        result, _ = exchange(s, OP_HELLO, b"\0" * 3)
    except OSError:
        return "hung up"
    return "hung up" if result is None else "still open"


def name(result):
    return "ok" if result == 0 else errno.errorcode.get(result, str(result))


def main():
    path = sys.argv[1]

    s = connect(path)
    result, _ = exchange(s, OP_HELLO, b"", magic=0xdeadbeef)
    print("bad magic: %s, %s" % (name(result), state(s)))

    s = connect(path)
    result, _ = exchange(s, OP_HELLO, b"", version=99)
    print("bad version: %s, %s" % (name(result), state(s)))

    s = connect(path)
    result, _ = exchange(s, 200, b"")
    print("unknown operation: %s, %s" % (name(result), state(s)))

    s = connect(path)
    result, _ = exchange(s, OP_HELLO, b"", length=(1 << 20) + 1)
    print("oversized payload: %s, %s" % (name(result), state(s)))

    s = connect(path)
    result, _ = exchange(s, OP_DEV_CLOSE, b"")
    print("request before the handshake: %s, %s" % (name(result), state(s)))

    s = connect(path)
    result, body = exchange(s, OP_HELLO, struct.pack("<Q", 12345))
    print("handshake with another build: %s, %s" % (name(result), state(s)))
    abi = struct.unpack("<Q", body)[0]

    # The daemon's build: a good handshake, then bad requests.
    s = connect(path)
    result, _ = exchange(s, OP_HELLO, struct.pack("<Q", abi))
    print("handshake: %s" % name(result))
    result, _ = exchange(s, OP_HELLO, b"\0" * 3)
    print("short hello: %s" % name(result))
    result, _ = exchange(s, OP_DEV_OPEN, b"\xff" * 8)
    print("short dev-open: %s" % name(result))
    result, _ = exchange(s, 4, b"\0" * 4)           # vport-add, no device
    print("short vport-add: %s" % name(result))
    print("connection: %s" % state(s))


main()
