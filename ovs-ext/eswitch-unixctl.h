/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_ESWITCH_UNIXCTL_H
#define OVS_EXT_ESWITCH_UNIXCTL_H 1

#include <stdbool.h>
#include <stddef.h>

#include "datapath/esw.h"

struct esw_pkt;

/* Registers eswitch/inject, eswitch/capture, eswitch/dump-rules and
 * eswitch/stats.  ovs_ext_register() (ovs-ext.c) calls this and the other
 * files' registration functions: eswitch/show (eswitch-show.h),
 * eswitch/trace (eswitch-trace.h), the offload diagnostics
 * (offload-diag.h), the port policy commands (port-policy.h) and
 * management (eswitch.h). */
void eswitch_unixctl_register(void);

/* Builds a packet from 'spec', hex bytes or a datapath flow in the syntax
 * of netdev-dummy/receive.  Returns NULL and stores an error message
 * (malloc'd, "bad packet: ...") in '*errorp' on failure. */
struct esw_pkt *eswitch_packet_from_spec(const char *spec, char **errorp);

#endif /* ovs-ext/eswitch-unixctl.h */
