# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

# The vport security/VLAN policy engine and its configuration vocabulary.
datapath_libesw_a_SOURCES += \
	datapath/policy/esw-policy.c \
	datapath/policy/esw-policy.h \
	datapath/policy/esw-policy-config.h

check_PROGRAMS += tests/test-esw-policy
tests_test_esw_policy_SOURCES = tests/test-esw-policy.c
tests_test_esw_policy_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
TESTSUITE_AT += tests/esw-policy.at
