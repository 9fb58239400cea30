# Flow offload benchmark: dpif-netdev + the eSwitch, hw-offload=false vs
# true side by side (see bench/bench-offload.c).
BENCHMARKS += bench/bench-offload
bench_bench_offload_SOURCES = bench/bench-offload.c
bench_bench_offload_CPPFLAGS = $(OVS_EXT_CPPFLAGS)
bench_bench_offload_CFLAGS = $(OVS_EXT_CFLAGS) -O2
bench_bench_offload_LDADD = \
	ovs-ext/libovsext.a \
	datapath/libesw-vhost.a \
	datapath/libesw.a \
	$(OVS_LIBS) $(PTHREAD_LIBS)
# The offload thread's calls into the flow API are timed (see
# __wrap_netdev_flow_put()).
bench_bench_offload_LDFLAGS = $(AM_LDFLAGS) $(OVS_VSWITCHD_LDFLAGS) \
	-Wl,--wrap=netdev_flow_put

# Routed traffic and a select group: OVS's software path with a PMD thread
# vs the device (see bench/bench-routed.c).
BENCHMARKS += bench/bench-routed
bench_bench_routed_SOURCES = bench/bench-routed.c
bench_bench_routed_CPPFLAGS = $(OVS_EXT_CPPFLAGS)
bench_bench_routed_CFLAGS = $(OVS_EXT_CFLAGS) -O2
bench_bench_routed_LDADD = \
	ovs-ext/libovsext.a \
	datapath/libesw-vhost.a \
	datapath/libesw.a \
	$(OVS_LIBS) $(PTHREAD_LIBS)
bench_bench_routed_LDFLAGS = $(AM_LDFLAGS) $(OVS_VSWITCHD_LDFLAGS)
