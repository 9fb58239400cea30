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

struct ds;
struct esw_pkt;
struct json;
struct unixctl_conn;

/* Registers eswitch/inject, eswitch/capture, eswitch/dump-rules and
 * eswitch/stats. */
void eswitch_unixctl_register(void);

/* Builds a packet from 'spec', hex bytes or a datapath flow in the syntax
 * of netdev-dummy/receive.  Returns NULL and stores an error message
 * (malloc'd, "bad packet: ...") in '*errorp' on failure. */
struct esw_pkt *eswitch_packet_from_spec(const char *spec, char **errorp);

/* For "eswitch/... [ESWITCH] [--json]" commands: parses 'argv', stores the
 * names of the eSwitches to show (all, or the one named) in 'names' (up to
 * 'max') and their number in '*n'.  Replies with an error and returns
 * false on a bad argument. */
/* For commands that take "[ESWITCH] [--json]": calls 'show' for each
 * eSwitch selected (all of them, alphabetically, or the one named), with
 * its vports in increasing order; 'show' appends text to 'text' and puts
 * members into 'jdev', the device's JSON object.  Then replies with the
 * text or with a JSON object of the devices' objects by name.  Replies with
 * an error for bad arguments or an unknown eSwitch. */
typedef void eswitch_show_cb(struct esw_dev *, const char *name,
                             const uint32_t *vports, size_t n_vports,
                             struct ds *text, struct json *jdev);
void eswitch_unixctl_show_devices(struct unixctl_conn *, int argc,
                                  const char *argv[], eswitch_show_cb *);

#endif /* ovs-ext/eswitch-unixctl.h */
