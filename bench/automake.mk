# bench/: benchmarks, each printed side by side with its peer.
# "make bench" builds and runs every program in BENCHMARKS;
# BENCHFLAGS is passed to each (e.g. BENCHFLAGS=--quick).
bench: $(BENCHMARKS)
	@set -e; for p in $(BENCHMARKS); do \
	    echo "=== $$p $(BENCHFLAGS)"; ./$$p $(BENCHFLAGS); echo; \
	done
bench-quick:
	$(MAKE) bench BENCHFLAGS=--quick
.PHONY: bench bench-quick

# bench-hotplug.sh: 1,000 hotplugged virtio-net functions with representors
# on one bridge (a script driving the built ovs-vswitchd and
# ovs-eswitchctl); part of "make bench", or alone with "make bench-hotplug".
EXTRA_DIST += bench/bench-hotplug.sh
bench: bench-hotplug
bench-hotplug: $(sbin_PROGRAMS) $(bin_PROGRAMS)
	$(SHELL) $(srcdir)/bench/bench-hotplug.sh --ovs-dir='$(OVS_DIR)' \
	    --builddir='$(abs_top_builddir)' $(BENCHFLAGS)
.PHONY: bench-hotplug

# bench-update.sh: a live update of ovs-eswitchd under offloaded traffic
# (frames lost, the gap, the pause), beside the same traffic without an
# update, and the pause against the rules in the device
# (bench-update-rules); part of "make bench", or alone with
# "make bench-update".
EXTRA_DIST += bench/bench-update.sh
EXTRA_PROGRAMS += bench/bench-update-rules
bench_bench_update_rules_SOURCES = bench/bench-update-rules.c bench/util.h
bench_bench_update_rules_LDADD = datapath/libesw.a $(PTHREAD_LIBS)
bench: bench-update
bench-update: $(sbin_PROGRAMS) $(bin_PROGRAMS) bench/bench-update-rules
	$(SHELL) $(srcdir)/bench/bench-update.sh --ovs-dir='$(OVS_DIR)' \
	    --builddir='$(abs_top_builddir)' $(BENCHFLAGS)
.PHONY: bench-update

# bench-vhost.sh: virtio_user guests through the eSwitch's vhost-user host
# sides (offloaded rule) vs through OVS's dpdkvhostuserclient ports and a
# PMD thread, in one ovs-vswitchd; part of "make bench", or alone with
# "make bench-vhost".
EXTRA_DIST += bench/bench-vhost.sh bench/bench-lib.sh
bench: bench-vhost
bench-vhost: $(sbin_PROGRAMS) $(bin_PROGRAMS) tests/test-virtio-user
	$(SHELL) $(srcdir)/bench/bench-vhost.sh --ovs-dir='$(OVS_DIR)' \
	    --builddir='$(abs_top_builddir)' $(BENCHFLAGS)
.PHONY: bench-vhost

# bench-tunnel.sh: VM to VM across two hosts (two ovs-vswitchd, uplinks
# cabled by a wire) over VXLAN: virtio_user guests on the eSwitches'
# vhost-user functions vs on OVS's dpdkvhostuserclient ports, PMD threads;
# part of "make bench", or alone with "make bench-tunnel".
EXTRA_DIST += bench/bench-tunnel.sh
bench: bench-tunnel
bench-tunnel: $(sbin_PROGRAMS) $(bin_PROGRAMS) tests/test-virtio-user
	$(SHELL) $(srcdir)/bench/bench-tunnel.sh --ovs-dir='$(OVS_DIR)' \
	    --builddir='$(abs_top_builddir)' $(BENCHFLAGS)
.PHONY: bench-tunnel

include bench/offload.mk

# bench-idle.sh: the CPU of an idle ovs-vswitchd with six eSwitch ports and
# hw-offload=true, with OVS 3.1's polling offload thread beside ours.
EXTRA_DIST += bench/bench-idle.sh
bench: bench-idle
bench-idle: $(sbin_PROGRAMS)
	$(SHELL) $(srcdir)/bench/bench-idle.sh --ovs-dir='$(OVS_DIR)' \
	    --builddir='$(abs_top_builddir)' $(BENCHFLAGS)
.PHONY: bench-idle

# bench-restart.sh: offloaded traffic through an ovs-vswitchd restart,
# through a restart of the device daemon (a device reset) and through a
# live update of it, side by side; part of "make bench", or alone with
# "make bench-restart".
EXTRA_DIST += bench/bench-restart.sh
bench: bench-restart
bench-restart: $(sbin_PROGRAMS) $(bin_PROGRAMS)
	$(SHELL) $(srcdir)/bench/bench-restart.sh --ovs-dir='$(OVS_DIR)' \
	    --builddir='$(abs_top_builddir)' $(BENCHFLAGS)
.PHONY: bench-restart

# bench-flow-setup.sh: CPU per new flow in the real ovs-vswitchd (OpenFlow
# translation included), hw-offload=false vs true, new flows from an
# external injector (test-virtio-user); beside bench-offload's figures,
# which have no ofproto.  Part of "make bench", or alone with
# "make bench-flow-setup".
EXTRA_DIST += bench/bench-flow-setup.sh
bench: bench-flow-setup
bench-flow-setup: $(sbin_PROGRAMS) $(bin_PROGRAMS) tests/test-virtio-user
	$(SHELL) $(srcdir)/bench/bench-flow-setup.sh --ovs-dir='$(OVS_DIR)' \
	    --builddir='$(abs_top_builddir)' $(BENCHFLAGS)
.PHONY: bench-flow-setup
