# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

# The sim driver's host-side I/O backends: what the function behind a vport
# (a VM, the wire) sends and receives.
datapath_libesw_a_SOURCES += \
	datapath/io/esw-io.h \
	datapath/io/esw-io-capture.c \
	datapath/io/esw-io-tap.c \
	datapath/io/esw-io-wire.c

# The vhost-user host-side backend, with DPDK's rte_vhost: a library of its
# own, so that libesw.a and the programs that use only it need no DPDK.
noinst_LIBRARIES += datapath/libesw-vhost.a
datapath_libesw_vhost_a_SOURCES = datapath/io/esw-io-vhost.c
datapath_libesw_vhost_a_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS) -mssse3
