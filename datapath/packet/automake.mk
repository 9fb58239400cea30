# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

# Packets: the parser (the device's match key), the header rewrites and the
# OVS-compatible hash.
datapath_libesw_a_SOURCES += \
	datapath/packet/esw-packet.c \
	datapath/packet/esw-packet.h \
	datapath/packet/esw-packet-hash.c \
	datapath/packet/esw-packet-rewrite.c \
	datapath/packet/esw-packet-tunnel.c \
	datapath/packet/esw-packet-private.h \
	datapath/packet/esw-packet-format.h

check_PROGRAMS += tests/test-esw-packet
tests_test_esw_packet_SOURCES = tests/test-esw-packet.c
tests_test_esw_packet_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
TESTSUITE_AT += tests/esw-packet.at
