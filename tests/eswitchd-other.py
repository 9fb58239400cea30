#! /usr/bin/env python3
# Copyright (c) 2026 The ovs-ext authors.
# Licensed under the Apache License 2.0.
#
# An ovs-eswitchd of another build (tests/restart.at): listens on the
# control socket and answers every handshake (datapath/remote/
# esw-remote-proto.h, ESW_ROP_HELLO) as a daemon of the next protocol
# version would, with EPROTO, then hangs up.  Appends a line to LOG per
# handshake, so that a test sees the remote driver come back for more.
#
# usage: eswitchd-other.py SOCKET LOG

import os
import socket
import struct
import sys

MAGIC = 0x52575345
VERSION = 4
HDR = struct.Struct("<IHHIIiI")     # magic version op len seq result n_fds
EPROTO = 71


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def main():
    path, log = sys.argv[1], sys.argv[2]
    tmp = "%s.%d.tmp" % (path, os.getpid())
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(tmp)
    listener.listen(16)
    os.rename(tmp, path)
    n = 0
    while True:
        conn, _ = listener.accept()
        conn.settimeout(10)
        try:
            hdr = recv_exact(conn, HDR.size)
            if hdr is not None:
                magic, version, op, length, seq, _, _ = HDR.unpack(hdr)
                if length <= 4096:
                    recv_exact(conn, length)
                n += 1
                conn.sendall(HDR.pack(MAGIC, VERSION + 1, op, 8, seq, EPROTO,
                                      0) + b"\0" * 8)
                with open(log, "a") as f:
                    f.write("handshake %d refused\n" % n)
        except OSError:
            pass
        conn.close()


if __name__ == "__main__":
    main()
