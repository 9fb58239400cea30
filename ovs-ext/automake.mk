# ovs-ext/: the OVS side of the extension (netdev and offload providers,
# port policy glue, eswitch/* unixctl commands).
noinst_LIBRARIES += ovs-ext/libovsext.a
ovs_ext_libovsext_a_SOURCES = \
	ovs-ext/eswitch.c \
	ovs-ext/eswitch.h \
	ovs-ext/eswitch-unixctl.c \
	ovs-ext/eswitch-unixctl.h \
	ovs-ext/netdev-esw.c \
	ovs-ext/netdev-esw.h \
	ovs-ext/ovs-ext.c \
	ovs-ext/ovs-ext.h
ovs_ext_libovsext_a_CPPFLAGS = $(OVS_EXT_CPPFLAGS)
ovs_ext_libovsext_a_CFLAGS = $(OVS_EXT_CFLAGS)
