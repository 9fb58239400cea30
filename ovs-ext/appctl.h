/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/appctl.h: what every ovs-ext appctl command shares: parsing its
 * arguments (ESWITCH, FUNCTION, options) and replying, errors in one form. */

#ifndef OVS_EXT_APPCTL_H
#define OVS_EXT_APPCTL_H 1

/* Every ovs-ext command checks all its arguments before it does or prints
 * anything, and answers a bad one with an error reply (ovs-appctl exits
 * with status 2) in one of these forms, the user's text echoed as
 * echo-arg.h says:
 *
 *     unknown option "--yaml" (expected --json)
 *     --count needs a value
 *     unexpected argument "esw1"
 *     missing packet
 *     invalid --count "0": expected 1..1024          (values.h)
 *     no such eswitch "esw7" (eswitches: esw0, esw1)
 *     no such function "pf0vf9"
 *
 * Positional arguments (names, packets) never start with '-'; options
 * start with '-' and may come anywhere among them, in any order. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

struct ds;
struct esw_dev;
struct json;
struct unixctl_conn;

#define APPCTL_MAX_ARGS 3
#define APPCTL_MAX_OPTS 8

/* An option of a command. */
struct appctl_opt {
    const char *name;           /* "--json". */
    bool has_value;             /* Takes the next argument as its value. */
};

/* A command's syntax (unixctl checks only the number of arguments). */
struct appctl_syntax {
    /* What each positional argument is, in order ("function name",
     * "packet"): the first 'n_required' must be given ("missing NAME"),
     * the others may. */
    const char *args[APPCTL_MAX_ARGS];
    size_t n_required;

    /* The options, up to the first without a name. */
    struct appctl_opt opts[APPCTL_MAX_OPTS];
};

/* A command's arguments, parsed.  Pointers into argv[]. */
struct appctl_args {
    const struct appctl_syntax *syntax;
    const char *args[APPCTL_MAX_ARGS]; /* Positional arguments, in order. */
    size_t n_args;
    const char *values[APPCTL_MAX_OPTS]; /* Per option of 'syntax': NULL
                                          * if absent, else its value (its
                                          * name if it takes none). */
};

/* Parses argv[1..argc-1] according to 'syntax' into 'args'.  Returns true
 * if they fit, otherwise replies with the error and returns false. */
bool appctl_parse(struct unixctl_conn *, int argc, const char *argv[],
                  const struct appctl_syntax *syntax,
                  struct appctl_args *args);

/* The value of option 'name' of 'args' (its name for an option that takes
 * no value), or NULL if it was not given. */
const char *appctl_opt(const struct appctl_args *args, const char *name);

/* True if "--json" was given. */
bool appctl_json(const struct appctl_args *args);

/* Resolves FUNCTION argument 'spec' (eswitch_find_function()).  Returns
 * true on success, otherwise replies with the error and returns false. */
bool appctl_function(struct unixctl_conn *, const char *spec,
                     struct esw_dev **devp, uint32_t *vportp);

/* Replies with 'json' (sorted keys) if 'as_json', else with 'text', and
 * frees both ('json' may be NULL if not 'as_json'; 'text' may be empty if
 * 'as_json'). */
void appctl_reply(struct unixctl_conn *, bool as_json, struct json *json,
                  struct ds *text);

/* The same, as an error reply. */
void appctl_reply_error(struct unixctl_conn *, bool as_json,
                        struct json *json, struct ds *text);

/* Replies with 'json' (sorted keys), and frees it. */
void appctl_reply_json(struct unixctl_conn *, struct json *json);

/* Replies with an error, 'format' printf-style. */
void appctl_error(struct unixctl_conn *, const char *format, ...)
    OVS_PRINTF_FORMAT(2, 3);

/* Replies with error 'error' (malloc'd), and frees it. */
void appctl_error_take(struct unixctl_conn *, char *error);

/* For commands that take "[ESWITCH] [--json]": calls 'show' for each
 * eSwitch selected (all of them, alphabetically, or the one named), with
 * its vports in increasing order; 'show' appends text to 'text' and puts
 * members into 'jdev', the device's JSON object.  Then replies with the
 * text or with a JSON object of the devices' objects by name.  Replies with
 * an error for bad arguments or an unknown eSwitch. */
typedef void appctl_show_cb(struct esw_dev *, const char *name,
                            const uint32_t *vports, size_t n_vports,
                            struct ds *text, struct json *jdev);
void appctl_show_devices(struct unixctl_conn *, int argc, const char *argv[],
                         appctl_show_cb *);

#endif /* ovs-ext/appctl.h */
