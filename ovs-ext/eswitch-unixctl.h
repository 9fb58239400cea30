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

/* Arguments of diagnostics commands: positional arguments (names,
 * packets: none starts with '-') with an optional "--json" anywhere among
 * them.
 *
 * Parses argv[1..argc-1]: stores the positional arguments, in order, in
 * 'args' (room for 'max_args' pointers, into 'argv'), their number in
 * '*n_args' and whether --json was given in '*as_json'.  Replies with an
 * error and returns false for an option other than --json or for more
 * than 'max_args' positional arguments ("unknown option (expected
 * --json)" if the command takes none, else "too many arguments").  The
 * caller checks the minimum, before replying anything. */
bool eswitch_unixctl_parse_args(struct unixctl_conn *, int argc,
                                const char *argv[], size_t max_args,
                                const char *args[], size_t *n_args,
                                bool *as_json);

/* Replies with 'json' (sorted keys) if 'as_json', else with 'text', and
 * frees both ('json' may be NULL if not 'as_json'; 'text' may be empty if
 * 'as_json'). */
void eswitch_unixctl_reply(struct unixctl_conn *, bool as_json,
                           struct json *json, struct ds *text);

/* The same, as an error reply (ovs-appctl exits with status 2). */
void eswitch_unixctl_reply_error(struct unixctl_conn *, bool as_json,
                                 struct json *json, struct ds *text);

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
