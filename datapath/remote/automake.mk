# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

# The device as its own process: the "remote" driver (a device hosted by
# ovs-eswitchd, driven over its control socket), the protocol both ends
# speak, the daemon's sessions, and the daemon.
datapath_libesw_a_SOURCES += \
	datapath/remote/esw-remote.c \
	datapath/remote/esw-remote-ct.c \
	datapath/remote/esw-remote-private.h \
	datapath/remote/esw-remote-reset.c \
	datapath/remote/esw-remote-proto.c \
	datapath/remote/esw-remote-proto.h \
	datapath/remote/esw-remote-server.c \
	datapath/remote/esw-remote-server.h \
	datapath/remote/esw-remote-state.c \
	datapath/remote/esw-remote-state.h

sbin_PROGRAMS += datapath/remote/ovs-eswitchd
datapath_remote_ovs_eswitchd_SOURCES = datapath/remote/ovs-eswitchd.c
datapath_remote_ovs_eswitchd_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
dist_man8_MANS += datapath/remote/ovs-eswitchd.8

# The device in its own process vs in-process: rule insertion and the miss
# path to OVS's side through the device API (starts ovs-eswitchd).
BENCHMARKS += bench/bench-remote
bench_bench_remote_SOURCES = bench/bench-remote.c bench/util.h
bench_bench_remote_CFLAGS = $(AM_CFLAGS) -O2
bench_bench_remote_LDADD = datapath/libesw.a $(PTHREAD_LIBS)

# The live update's state parser against corrupt states (tests/update.at).
check_PROGRAMS += tests/test-esw-state
tests_test_esw_state_SOURCES = tests/test-esw-state.c tests/unit-check.h
tests_test_esw_state_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
