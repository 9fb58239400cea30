# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

# The packet parser and rewrites, and the vport security/VLAN policy.
datapath_libesw_a_SOURCES += \
	datapath/esw-packet.c \
	datapath/esw-packet-hash.c \
	datapath/esw-packet-rewrite.c \
	datapath/esw-packet-private.h \
	datapath/esw-packet-format.h \
	datapath/esw-policy.c \
	datapath/esw-policy.h \
	datapath/esw-policy-config.h

check_PROGRAMS += tests/test-esw-packet tests/test-esw-policy
tests_test_esw_packet_SOURCES = tests/test-esw-packet.c
tests_test_esw_packet_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
tests_test_esw_policy_SOURCES = tests/test-esw-policy.c
tests_test_esw_policy_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
TESTSUITE_AT += tests/esw-packet.at tests/esw-policy.at
