# vswitchd-plugin/: our ovs-vswitchd, OVS's bridge main loop plus ovs-ext.
sbin_PROGRAMS += vswitchd-plugin/ovs-vswitchd
vswitchd_plugin_ovs_vswitchd_SOURCES = \
	vswitchd-plugin/ovs-vswitchd.c \
	vswitchd-plugin/ovs-hooks.c
vswitchd_plugin_ovs_vswitchd_CPPFLAGS = $(OVS_EXT_CPPFLAGS)
vswitchd_plugin_ovs_vswitchd_CFLAGS = $(OVS_EXT_CFLAGS)
# bridge.o and system-stats.o are in none of OVS's libraries.
vswitchd_plugin_ovs_vswitchd_LDADD = \
	ovs-ext/libovsext.a \
	datapath/libesw-vhost.a \
	datapath/libesw.a \
	$(OVS_DIR)/vswitchd/bridge.o \
	$(OVS_DIR)/vswitchd/system-stats.o \
	$(OVS_LIBS) $(PTHREAD_LIBS)
# The hooks into OVS's code: see vswitchd-plugin/ovs-hooks.c.
vswitchd_plugin_ovs_vswitchd_LDFLAGS = $(AM_LDFLAGS) $(OVS_VSWITCHD_LDFLAGS) \
	-Wl,--wrap=netdev_set_flow_api_enabled \
	-Wl,--wrap=dpdk_init \
	-Wl,--wrap=ovsrec_open_vswitch_first \
	-Wl,--wrap=ovsrec_open_vswitch_set_cur_cfg \
	-Wl,--wrap=dpif_meter_set \
	-Wl,--wrap=dpif_meter_get \
	-Wl,--wrap=dpif_meter_del

# Our patches on OVS, applied by utilities/ovs-ext-setup (see the series).
EXTRA_DIST += \
	vswitchd-plugin/ovs-patches/series \
	vswitchd-plugin/ovs-patches/0001-dpif-netdev-offload-thread-wakes-on-enqueue.patch \
	vswitchd-plugin/ovs-patches/0002-dpif-netdev-compact-offload-requests.patch
