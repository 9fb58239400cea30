# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

# The eSwitch device API (esw.h), the driver interface, the "sim" emulator
# driver and its host-side I/O backends.
datapath_libesw_a_SOURCES += \
	datapath/esw.c \
	datapath/esw.h \
	datapath/esw-emu.c \
	datapath/esw-emu.h \
	datapath/esw-provider.h \
	datapath/esw-rule-format.c \
	datapath/esw-rule-format.h \
	datapath/esw-sim.c \
	datapath/esw-sim.h \
	datapath/esw-sim-fwd.c \
	datapath/esw-sim-rules.c \
	datapath/esw-sim-trace.c \
	datapath/esw-sim-ring.h \
	datapath/esw-io.h \
	datapath/esw-io-capture.c \
	datapath/esw-io-tap.c \
	datapath/io/esw-io-wire.c

# The vhost-user host-side backend, with DPDK's rte_vhost: a library of its
# own, so that libesw.a and the programs that use only it need no DPDK.
noinst_LIBRARIES += datapath/libesw-vhost.a
datapath_libesw_vhost_a_SOURCES = datapath/esw-io-vhost.c
datapath_libesw_vhost_a_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS) -mssse3

check_PROGRAMS += tests/test-esw-dev
tests_test_esw_dev_SOURCES = tests/test-esw-dev.c
tests_test_esw_dev_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
TESTSUITE_AT += tests/esw-dev.at

# Full-pipeline benchmark: one forwarding thread, capture I/O, busy poll.
BENCHMARKS += bench/bench-pipeline
bench_bench_pipeline_SOURCES = bench/bench-pipeline.c
bench_bench_pipeline_CFLAGS = $(AM_CFLAGS) -O2
bench_bench_pipeline_LDADD = datapath/libesw.a $(PTHREAD_LIBS)

check_PROGRAMS += tests/test-esw-rule-format
tests_test_esw_rule_format_SOURCES = tests/test-esw-rule-format.c
tests_test_esw_rule_format_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
