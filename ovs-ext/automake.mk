# ovs-ext/: the OVS side of the extension (netdev and offload providers,
# port policy glue, eswitch/* unixctl commands).
noinst_LIBRARIES += ovs-ext/libovsext.a
ovs_ext_libovsext_a_SOURCES = \
	ovs-ext/eswitch.c \
	ovs-ext/eswitch.h \
	ovs-ext/eswitch-config.c \
	ovs-ext/eswitch-config.h \
	ovs-ext/eswitch-dpdk.c \
	ovs-ext/eswitch-dpdk.h \
	ovs-ext/eswitch-mgmt-unixctl.c \
	ovs-ext/eswitch-state.c \
	ovs-ext/eswitch-state.h \
	ovs-ext/eswitch-show.c \
	ovs-ext/eswitch-show.h \
	ovs-ext/eswitch-trace.c \
	ovs-ext/eswitch-trace.h \
	ovs-ext/eswitch-unixctl.c \
	ovs-ext/eswitch-unixctl.h \
	ovs-ext/echo-arg.c \
	ovs-ext/echo-arg.h \
	ovs-ext/netdev-esw.c \
	ovs-ext/netdev-esw.h \
	ovs-ext/netdev-offload-esw.c \
	ovs-ext/netdev-offload-esw.h \
	ovs-ext/offload-unixctl.c \
	ovs-ext/offload-xlate.c \
	ovs-ext/offload-xlate.h \
	ovs-ext/ovs-ext.c \
	ovs-ext/ovs-ext.h \
	ovs-ext/rep-ports.c \
	ovs-ext/rep-ports.h \
	ovs-ext/port-policy.c \
	ovs-ext/port-policy.h \
	ovs-ext/port-policy-unixctl.c
ovs_ext_libovsext_a_CPPFLAGS = $(OVS_EXT_CPPFLAGS)
ovs_ext_libovsext_a_CFLAGS = $(OVS_EXT_CFLAGS)

man_MANS += ovs-ext/ovs-ext.8
