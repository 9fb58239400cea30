# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

# The eSwitch rule table and its RCU (QSBR) reclamation scheme.
datapath_libesw_a_SOURCES += \
	datapath/cls/esw-rcu.c \
	datapath/cls/esw-rcu.h \
	datapath/cls/esw-cls.c \
	datapath/cls/esw-cls-table.c \
	datapath/cls/esw-cls-private.h \
	datapath/cls/esw-cls.h

check_PROGRAMS += tests/test-esw-cls
tests_test_esw_cls_SOURCES = tests/test-esw-cls.c
tests_test_esw_cls_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
TESTSUITE_AT += tests/esw-cls.at

# Benchmark against OVS's classifier: the only file here that uses OVS.
BENCHMARKS += bench/bench-cls
bench_bench_cls_SOURCES = bench/bench-cls.c
bench_bench_cls_CPPFLAGS = $(OVS_EXT_CPPFLAGS)
bench_bench_cls_CFLAGS = $(OVS_EXT_CFLAGS) -O2
bench_bench_cls_LDADD = datapath/libesw.a $(OVS_LIBS) $(PTHREAD_LIBS)
