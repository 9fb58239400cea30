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
