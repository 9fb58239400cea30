#!/usr/bin/env python3
# Copyright (c) 2026 The ovs-ext authors.
#
# Licensed under the Apache License, Version 2.0.

"""The far end of an eSwitch uplink's wire that measures a forwarding gap
(tests/update.at, bench/bench-update.sh).

wire-gap.py PATH OUT: listens at PATH (a Unix seqpacket socket, one
Ethernet frame per message, as datapath/io/esw-io-wire.c), accepts the
uplink that connects (eswitch-uplink-wire=unix:PATH), creates
OUT.connected and, from SIGUSR2 on, sends it a numbered UDP frame to 10.0.0.2 every millisecond, and
receives what comes back (a flow sends the uplink's frames back out of
it).  On SIGTERM it stops sending, waits up to 2 s for the frames still
on their way, and writes to OUT:

    sent N, received M, lost L, max gap G ms, gaps over 10 ms: K

where a gap is the time between two frames received in a row while it
was sending (1 ms when nothing stops them)."""

import os
import select
import signal
import socket
import struct
import sys
import time


def checksum(data):
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def frame(seq):
    payload = struct.pack("!Q", seq) + b"\0" * 10
    udp = struct.pack("!HHHH", 1, 2, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17,
                     0, socket.inet_aton("10.0.0.1"),
                     socket.inet_aton("10.0.0.2"))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = (bytes.fromhex("026500020000") + bytes.fromhex("00005e005301")
           + b"\x08\x00")
    return eth + ip + udp


def main():
    path, out = sys.argv[1], sys.argv[2]
    state = {"stop": False, "go": False}

    def on_term(signum, frame_):
        state["stop"] = True

    def on_usr2(signum, frame_):
        state["go"] = True

    signal.signal(signal.SIGUSR2, on_usr2)
    signal.signal(signal.SIGTERM, on_term)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(1)
    conn, _ = listener.accept()
    conn.setblocking(False)
    os.close(os.open(out + ".connected",
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    sent = 0
    seen = set()
    last = None
    max_gap = 0.0
    big_gaps = 0

    def receive(now, measure):
        nonlocal last, max_gap, big_gaps
        while True:
            try:
                data = conn.recv(2048)
            except BlockingIOError:
                return
            if len(data) >= 50:
                seen.add(struct.unpack("!Q", data[42:50])[0])
                if measure and last is not None:
                    gap = (now - last) * 1000
                    max_gap = max(max_gap, gap)
                    big_gaps += gap > 10
                last = now

    next_send = time.monotonic()
    while not state["stop"]:
        now = time.monotonic()
        if state["go"] and now >= next_send:
            try:
                conn.send(frame(sent))
                sent += 1
            except BlockingIOError:
                pass
            next_send += 0.001
            if next_send < now - 0.1:
                next_send = now
        receive(now, state["go"])
        timeout = max(0.0, min(0.001, next_send - time.monotonic()))
        try:
            select.select([conn], [], [], timeout)
        except InterruptedError:
            pass
    deadline = time.monotonic() + 2
    while len(seen) < sent and time.monotonic() < deadline:
        try:
            select.select([conn], [], [], 0.01)
        except InterruptedError:
            pass
        receive(time.monotonic(), False)
    tmp = out + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w") as f:
        f.write("sent %d, received %d, lost %d, max gap %.1f ms, "
                "gaps over 10 ms: %d\n"
                % (sent, len(seen), sent - len(seen), max_gap, big_gaps))
    os.rename(tmp, out)


if __name__ == "__main__":
    main()
