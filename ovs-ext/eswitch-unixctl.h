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
bool eswitch_parse_show_args(struct unixctl_conn *, int argc,
                             const char *argv[], char names[][ESW_NAME_MAX],
                             size_t max, size_t *n, bool *json);

/* Replies with 'json' serialized if 'as_json', else with 'text'; destroys
 * both. */
void eswitch_reply_json_or_text(struct unixctl_conn *, bool as_json,
                                struct json *json, struct ds *text);

#endif /* ovs-ext/eswitch-unixctl.h */
