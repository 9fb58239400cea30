# ovs-ext/: the OVS side of the extension (netdev and offload providers,
# port policy glue, eswitch/* unixctl commands).
noinst_LIBRARIES += ovs-ext/libovsext.a
ovs_ext_libovsext_a_SOURCES = \
	ovs-ext/appctl.c \
	ovs-ext/appctl.h \
	ovs-ext/ct-offload.c \
	ovs-ext/ct-offload.h \
	ovs-ext/eswitch.c \
	ovs-ext/eswitch.h \
	ovs-ext/eswitch-config.c \
	ovs-ext/eswitch-config.h \
	ovs-ext/eswitch-dpdk.c \
	ovs-ext/eswitch-dpdk.h \
	ovs-ext/eswitch-mgmt.c \
	ovs-ext/eswitch-mgmt-unixctl.c \
	ovs-ext/eswitch-names.c \
	ovs-ext/eswitch-resolve.c \
	ovs-ext/eswitch-private.h \
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
	ovs-ext/function-json.c \
	ovs-ext/function-json.h \
	ovs-ext/netdev-esw.c \
	ovs-ext/netdev-esw.h \
	ovs-ext/netdev-offload-esw.c \
	ovs-ext/netdev-offload-esw.h \
	ovs-ext/netdev-offload-esw-private.h \
	ovs-ext/offload-diag.c \
	ovs-ext/offload-diag.h \
	ovs-ext/offload-xlate.c \
	ovs-ext/offload-xlate.h \
	ovs-ext/ovs-ext.c \
	ovs-ext/ovs-ext.h \
	ovs-ext/rep-ports.c \
	ovs-ext/rep-ports.h \
	ovs-ext/port-policy.c \
	ovs-ext/port-policy.h \
	ovs-ext/port-policy-options.c \
	ovs-ext/port-policy-options.h \
	ovs-ext/port-policy-unixctl.c \
	ovs-ext/values.c \
	ovs-ext/values.h
ovs_ext_libovsext_a_CPPFLAGS = $(OVS_EXT_CPPFLAGS)
ovs_ext_libovsext_a_CFLAGS = $(OVS_EXT_CFLAGS)

man_MANS += ovs-ext/ovs-ext.8

# Unit tests of the port policy's option table.
check_PROGRAMS += tests/test-port-policy
tests_test_port_policy_SOURCES = tests/test-port-policy.c
tests_test_port_policy_CPPFLAGS = $(OVS_EXT_CPPFLAGS)
tests_test_port_policy_CFLAGS = $(OVS_EXT_CFLAGS)
tests_test_port_policy_LDADD = ovs-ext/libovsext.a datapath/libesw.a \
	$(OVS_LIBS) $(PTHREAD_LIBS)
