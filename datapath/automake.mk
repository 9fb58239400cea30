# Copyright (c) 2026 The ovs-ext authors.  Licensed under the Apache License 2.0.

# The eSwitch device API (esw.h), the generic layer over the drivers
# (esw.c), the driver interface (esw-provider.h), the emulator-only calls
# (esw-emu.h) and the rule formatter.  The drivers and the pieces they are
# built from are in the sub-folders (see DESIGN.md's file map).
datapath_libesw_a_SOURCES += \
	datapath/esw.c \
	datapath/esw.h \
	datapath/esw-emu.c \
	datapath/esw-emu.h \
	datapath/esw-provider.h \
	datapath/esw-rule-format.c \
	datapath/esw-rule-format.h

check_PROGRAMS += tests/test-esw-dev
tests_test_esw_dev_SOURCES = tests/test-esw-dev.c
tests_test_esw_dev_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
TESTSUITE_AT += tests/esw-dev.at

check_PROGRAMS += tests/test-esw-rule-format
tests_test_esw_rule_format_SOURCES = tests/test-esw-rule-format.c
tests_test_esw_rule_format_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
