# tests/: the autotest suite (OVS's macros, our binary first on the PATH)
# and the unit-test programs it runs.

TESTSUITE_AT += \
	tests/testsuite.at \
	tests/ovs-ext-macros.at \
	tests/vswitchd.at \
	tests/netdev-esw.at \
	tests/system-esw.at \
	tests/policy.at \
	tests/system-policy.at \
	tests/diagnostics.at \
	tests/eswitchctl.at \
	tests/offload.at \
	tests/ovs-patches.at \
	tests/security.at \
	tests/offload-rewrite.at \
	tests/offload-chains.at \
	tests/offload-ct.at \
	tests/offload-tunnel.at \
	tests/offload-meters.at \
	tests/offload-policy.at \
	tests/system-offload.at \
	tests/vhost-user.at \
	tests/system-vhost-qemu.at \
	tests/esw-diff.at \
	tests/tunnel-hosts.at \
	tests/system-ovn.at \
	tests/remote.at \
	tests/restart.at \
	tests/update.at
TESTSUITE = $(srcdir)/tests/testsuite
EXTRA_DIST += $(TESTSUITE_AT) $(TESTSUITE) tests/atlocal.in tests/package.m4.in
# The checks the unit-test programs (tests/test-esw-*.c) share.
EXTRA_DIST += tests/unit-check.h
DISTCLEANFILES += tests/atconfig tests/atlocal

# The differential tester, offloaded vs software (tests/esw-diff.at runs a
# few cases; "make fuzz-diff", in tests/fuzz/fuzz.mk, many more).
EXTRA_DIST += tests/esw-diff.py tests/esw-diff-cases
# A hostile client of ovs-eswitchd's socket (tests/remote.at).
EXTRA_DIST += tests/eswitchd-client.py
# The far end of an uplink wire that sends through a restart (restart.at).
EXTRA_DIST += tests/wire-sender.py
# The far end of an uplink wire that measures a live update's gap
# (update.at, bench/bench-update.sh).
EXTRA_DIST += tests/wire-gap.py
EXTRA_DIST += tests/eswitchd-other.py

# Frames of TCP, UDP and ICMP connections (IPv4, IPv6) for eswitch/inject
# (offload-ct.at).
EXTRA_DIST += tests/ct-packet.py

# The suite is generated with OVS's test macros from the pinned tree.
AUTOM4TE = autom4te
AUTOTEST = $(AUTOM4TE) --language=autotest
$(TESTSUITE): $(TESTSUITE_AT) tests/package.m4
	$(AM_V_GEN)$(AUTOTEST) -I $(srcdir) -I tests -I $(OVS_DIR) \
	    $(srcdir)/tests/testsuite.at -o $@.tmp && mv $@.tmp $@
MAINTAINERCLEANFILES = $(TESTSUITE)

# Our binaries come first; then OVS's tools from the same pinned tree.
AUTOTEST_PATH = $(abs_top_builddir)/vswitchd-plugin:$(abs_top_builddir)/datapath/remote:$(abs_top_builddir)/tests:$(abs_top_builddir)/utilities:$(OVS_DIR)/utilities:$(OVS_DIR)/ovsdb:$(OVS_DIR)/tests

# OVS daemons --detach, and the macros stop them by polling "kill -0",
# which succeeds on a zombie until PID 1 reaps it: tests/subreaper reaps
# them at once (see ../shared/notes).
check_PROGRAMS += tests/subreaper
tests_subreaper_SOURCES = tests/subreaper.c

TESTSUITEFLAGS ?= -j2
check-local: $(TESTSUITE) tests/atconfig tests/atlocal $(check_PROGRAMS) \
		$(sbin_PROGRAMS) $(bin_PROGRAMS)
	tests/subreaper $(SHELL) '$(TESTSUITE)' -C tests \
	    AUTOTEST_PATH='$(AUTOTEST_PATH)' $(TESTSUITEFLAGS)

clean-local:
	test ! -f '$(TESTSUITE)' || $(SHELL) '$(TESTSUITE)' -C tests --clean

# A selection of OVS's own tests, from the pinned tree's testsuite, run
# against our ovs-vswitchd (tests/ovs-compat says which and why).
EXTRA_DIST += tests/ovs-compat
check-ovs-compat: $(sbin_PROGRAMS) tests/subreaper
	tests/subreaper $(SHELL) $(srcdir)/tests/ovs-compat '$(OVS_DIR)' \
	    '$(abs_top_builddir)/vswitchd-plugin' tests/ovs-compat.dir \
	    $(TESTSUITEFLAGS)
clean-local: clean-ovs-compat
clean-ovs-compat:
	rm -rf tests/ovs-compat.dir
.PHONY: check-ovs-compat clean-ovs-compat

# The device's rewrites and hashes against OVS's own code (links OVS).
check_PROGRAMS += tests/test-esw-ovs
tests_test_esw_ovs_SOURCES = tests/test-esw-ovs.c
tests_test_esw_ovs_CPPFLAGS = $(OVS_EXT_CPPFLAGS)
tests_test_esw_ovs_CFLAGS = $(OVS_EXT_CFLAGS)
tests_test_esw_ovs_LDADD = \
	ovs-ext/libovsext.a \
	datapath/libesw-vhost.a \
	datapath/libesw.a \
	$(OVS_LIBS) $(PTHREAD_LIBS)
tests_test_esw_ovs_LDFLAGS = $(AM_LDFLAGS) $(OVS_VSWITCHD_LDFLAGS)

# A guest for vhost-user host sides without a VM: DPDK virtio_user ports.
check_PROGRAMS += tests/test-virtio-user
tests_test_virtio_user_SOURCES = tests/test-virtio-user.c
tests_test_virtio_user_CFLAGS = $(AM_CFLAGS) $(DPDK_CFLAGS) -mssse3
tests_test_virtio_user_LDADD = $(DPDK_LIBS)

# The offload and policy suites with ovs-vswitchd's eSwitches hosted by the
# device daemon (the remote driver, OVS_EXT_ESW_DRIVER=remote), and the
# device API's unit tests against the remote driver (keyword "remote").
REMOTE_TESTSUITEFLAGS = -j2
check-remote: $(TESTSUITE) tests/atconfig tests/atlocal $(check_PROGRAMS) \
		$(sbin_PROGRAMS) $(bin_PROGRAMS)
	tests/subreaper $(SHELL) '$(TESTSUITE)' -C tests \
	    AUTOTEST_PATH='$(AUTOTEST_PATH)' OVS_EXT_ESW_DRIVER=remote \
	    -k 'offload,!system' -k 'policy,!system' -k 'remote,!system' \
	    $(REMOTE_TESTSUITEFLAGS)
.PHONY: check-remote
