# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

# The "sim" driver: the emulated eSwitch (vports, rule tables and chains,
# forwarding threads, representor rings, counters, trace).
datapath_libesw_a_SOURCES += \
	datapath/sim/esw-sim.c \
	datapath/sim/esw-sim.h \
	datapath/sim/esw-sim-ct.c \
	datapath/sim/esw-sim-fwd.c \
	datapath/sim/esw-sim-rules.c \
	datapath/sim/esw-sim-trace.c \
	datapath/sim/esw-sim-ring.h

# Full-pipeline benchmark: one forwarding thread, capture I/O, busy poll.
BENCHMARKS += bench/bench-pipeline
bench_bench_pipeline_SOURCES = bench/bench-pipeline.c
bench_bench_pipeline_CFLAGS = $(AM_CFLAGS) -O2
bench_bench_pipeline_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
