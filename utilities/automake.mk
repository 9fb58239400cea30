# utilities/: set-up, sandbox and command-line tools.
EXTRA_DIST += \
	utilities/ovs-ext-setup \
	utilities/ovs-ext-build \
	utilities/ovs-ext-check \
	utilities/ovs-ext-sandbox \
	utilities/ovs-ext-hosts \
	utilities/ovs-ext-vm

# ovs-eswitchctl: device management (hotplug, unplug, list, query, modify,
# log), a client of ovs-vswitchd's unixctl socket like ovs-appctl.
bin_PROGRAMS += utilities/ovs-eswitchctl
utilities_ovs_eswitchctl_SOURCES = utilities/ovs-eswitchctl.c
utilities_ovs_eswitchctl_CPPFLAGS = $(OVS_EXT_CPPFLAGS)
utilities_ovs_eswitchctl_CFLAGS = $(OVS_EXT_CFLAGS)
utilities_ovs_eswitchctl_LDADD = ovs-ext/libovsext.a datapath/libesw.a \
	$(OVS_LIBS) \
	$(PTHREAD_LIBS)
dist_man8_MANS += utilities/ovs-eswitchctl.8
