#!/usr/bin/env python3
# Copyright (c) 2026 The ovs-ext authors.
#
# Licensed under the Apache License, Version 2.0.

"""A far end of an eSwitch uplink's wire (tests/restart.at).

wire-sender.py PATH OUT: listens at PATH (a Unix seqpacket socket, one
Ethernet frame per message, as datapath/io/esw-io-wire.c), accepts the
uplink that connects (eswitch-uplink-wire=unix:PATH) and, from SIGUSR2
on, sends it a UDP frame to 10.0.0.2 (pf0vf0's MAC) every millisecond
until SIGTERM; on SIGUSR1 it sends three frames to 10.0.0.3 (pf0vf1's MAC)
as well.  If the uplink goes away (its device daemon was killed), the
frames due meanwhile are lost as on a cable without a link, and the next
uplink that connects (the device re-created) is accepted.  On SIGTERM it
writes "sent A to-10.0.0.2, B to-10.0.0.3 in T ms, D while the wire was
down" to OUT (A and B count the frames due, D those of them that found no
uplink) and exits.  SIGHUP pauses the frames to 10.0.0.2 (SIGUSR2
resumes them) and writes the same line, the counts so far, to OUT
(bench/bench-restart.sh reads what a window of time sent)."""

import os
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


def frame(dst_mac, dst_ip):
    payload = b"\0" * 18
    udp = struct.pack("!HHHH", 1, 2, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17,
                     0, socket.inet_aton("10.0.0.1"),
                     socket.inet_aton(dst_ip))
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = (bytes.fromhex(dst_mac.replace(":", ""))
           + bytes.fromhex("00005e005301") + b"\x08\x00")
    return eth + ip + udp


def main():
    path, out = sys.argv[1], sys.argv[2]
    a = frame("02:65:00:02:00:00", "10.0.0.2")
    b = frame("02:65:00:02:00:01", "10.0.0.3")
    state = {"stop": False, "b": 0, "go": False, "report": False}

    def on_term(signum, frame_):
        state["stop"] = True

    def on_usr1(signum, frame_):
        state["b"] += 3

    def on_usr2(signum, frame_):
        state["go"] = True

    def on_hup(signum, frame_):
        state["go"] = False
        state["report"] = True

    signal.signal(signal.SIGUSR2, on_usr2)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGHUP, on_hup)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(1)
    conn, _ = listener.accept()
    listener.setblocking(False)
    n_a = n_b = down = 0
    start = None

    def send(frame):
        nonlocal conn, down
        if conn is None:
            try:
                conn, _ = listener.accept()
                conn.setblocking(True)
            except (BlockingIOError, InterruptedError):
                down += 1
                return
        try:
            conn.send(frame)
        except OSError:
            conn.close()
            conn = None
            down += 1

    def report():
        ms = int((time.monotonic() - start) * 1000) if start is not None else 0
        tmp = out + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write("sent %d to-10.0.0.2, %d to-10.0.0.3 in %d ms, %d while "
                    "the wire was down\n" % (n_a, n_b, ms, down))
        os.rename(tmp, out)

    while not state["stop"]:
        if state["report"]:
            state["report"] = False
            report()
        if state["go"]:
            if start is None:
                start = time.monotonic()
            send(a)
            n_a += 1
        while state["b"]:
            send(b)
            state["b"] -= 1
            n_b += 1
        time.sleep(0.001)
    report()


if __name__ == "__main__":
    main()
