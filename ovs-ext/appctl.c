/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/appctl.c: what every ovs-ext appctl command shares: parsing its
 * arguments (ESWITCH, FUNCTION, options) and replying, errors in one form. */

#include <config.h>

#include "appctl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "unixctl.h"
#include "util.h"

#include "datapath/esw.h"
#include "echo-arg.h"
#include "eswitch.h"

static size_t
n_opts(const struct appctl_syntax *syntax)
{
    size_t n = 0;

    while (n < APPCTL_MAX_OPTS && syntax->opts[n].name) {
        n++;
    }
    return n;
}

static size_t
n_positional(const struct appctl_syntax *syntax)
{
    size_t n = 0;

    while (n < APPCTL_MAX_ARGS && syntax->args[n]) {
        n++;
    }
    return n;
}

/* "unknown option "OPT" (expected --a, --b or --c)". */
static char *
unknown_option(const char *opt, const struct appctl_syntax *syntax)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    size_t n = n_opts(syntax);
    struct echo_buf b;

    ds_put_format(&s, "unknown option \"%s\" (", echo_arg(opt, &b));
    if (!n) {
        ds_put_cstr(&s, "the command takes none");
    }
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%s%s", (!i ? "expected "
                                   : i + 1 < n ? ", " : " or "),
                      syntax->opts[i].name);
    }
    ds_put_char(&s, ')');
    return ds_steal_cstr(&s);
}

bool
appctl_parse(struct unixctl_conn *conn, int argc, const char *argv[],
             const struct appctl_syntax *syntax, struct appctl_args *args)
{
    size_t max_args = n_positional(syntax);
    size_t n = n_opts(syntax);
    struct echo_buf b;

    memset(args, 0, sizeof *args);
    args->syntax = syntax;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (arg[0] == '-') {
            size_t k;

            for (k = 0; k < n && strcmp(arg, syntax->opts[k].name); k++) {
                continue;
            }
            if (k >= n) {
                appctl_error_take(conn, unknown_option(arg, syntax));
                return false;
            } else if (!syntax->opts[k].has_value) {
                args->values[k] = syntax->opts[k].name;
            } else if (i + 1 >= argc) {
                appctl_error(conn, "%s needs a value", syntax->opts[k].name);
                return false;
            } else {
                args->values[k] = argv[++i];
            }
        } else if (args->n_args >= max_args) {
            appctl_error(conn, "unexpected argument \"%s\"",
                         echo_arg(arg, &b));
            return false;
        } else {
            args->args[args->n_args++] = arg;
        }
    }
    if (args->n_args < syntax->n_required) {
        appctl_error(conn, "missing %s", syntax->args[args->n_args]);
        return false;
    }
    return true;
}

const char *
appctl_opt(const struct appctl_args *args, const char *name)
{
    const struct appctl_syntax *syntax = args->syntax;

    for (size_t k = 0; k < n_opts(syntax); k++) {
        if (!strcmp(syntax->opts[k].name, name)) {
            return args->values[k];
        }
    }
    OVS_NOT_REACHED();
}

bool
appctl_json(const struct appctl_args *args)
{
    return appctl_opt(args, "--json") != NULL;
}

bool
appctl_function(struct unixctl_conn *conn, const char *spec,
                struct esw_dev **devp, uint32_t *vportp)
{
    char *error;

    if (eswitch_find_function(spec, devp, vportp, &error)) {
        appctl_error_take(conn, error);
        return false;
    }
    return true;
}

static void
reply__(struct unixctl_conn *conn, bool as_json, struct json *json,
        struct ds *text, bool error)
{
    char *s = as_json ? json_to_string(json, JSSF_SORT) : NULL;
    const char *body = s ? s : ds_cstr(text);

    if (error) {
        unixctl_command_reply_error(conn, body);
    } else {
        unixctl_command_reply(conn, body);
    }
    free(s);
    json_destroy(json);
    ds_destroy(text);
}

void
appctl_reply(struct unixctl_conn *conn, bool as_json, struct json *json,
             struct ds *text)
{
    reply__(conn, as_json, json, text, false);
}

void
appctl_reply_error(struct unixctl_conn *conn, bool as_json,
                   struct json *json, struct ds *text)
{
    reply__(conn, as_json, json, text, true);
}

void
appctl_reply_json(struct unixctl_conn *conn, struct json *json)
{
    struct ds text = DS_EMPTY_INITIALIZER;

    reply__(conn, true, json, &text, false);
}

void
appctl_error(struct unixctl_conn *conn, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    appctl_error_take(conn, xvasprintf(format, args));
    va_end(args);
}

void
appctl_error_take(struct unixctl_conn *conn, char *error)
{
    unixctl_command_reply_error(conn, error);
    free(error);
}

static const struct appctl_syntax show_syntax = {
    .args = { "eswitch name" },
    .opts = { { "--json", false } },
};

void
appctl_show_devices(struct unixctl_conn *conn, int argc, const char *argv[],
                    appctl_show_cb *show)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    char (*names)[ESW_NAME_MAX];
    struct appctl_args args;
    const char *esw_name;
    struct json *json;
    size_t n, max;

    if (!appctl_parse(conn, argc, argv, &show_syntax, &args)) {
        return;
    }
    esw_name = args.n_args ? args.args[0] : NULL;

    /* Devices may come and go meanwhile: those gone are skipped. */
    max = esw_dev_list(NULL, 0);
    names = xcalloc(MAX(max, 1), sizeof *names);
    n = MIN(esw_dev_list(names, max), max);
    if (esw_name) {
        size_t i;

        for (i = 0; i < n && strcmp(names[i], esw_name); i++) {
            continue;
        }
        if (i >= n) {
            appctl_error_take(conn, eswitch_no_such(esw_name));
            free(names);
            return;
        }
        memmove(names[0], names[i], ESW_NAME_MAX);
        n = 1;
    }

    json = json_object_create();
    for (size_t i = 0; i < n; i++) {
        struct esw_dev *dev = esw_dev_lookup(names[i]);
        uint32_t *vports = NULL;
        size_t n_vports = 0;
        struct json *jdev;

        if (!dev) {
            continue;
        }
        for (;;) {
            size_t total = esw_vport_list(dev, vports, n_vports);

            if (total <= n_vports) {
                n_vports = total;
                break;
            }
            n_vports = total + 16;
            vports = xrealloc(vports, n_vports * sizeof *vports);
        }

        jdev = json_object_create();
        show(dev, names[i], vports, n_vports, &text, jdev);
        json_object_put(json, names[i], jdev);
        free(vports);
        esw_dev_close(dev);
    }
    free(names);
    appctl_reply(conn, appctl_json(&args), json, &text);
}
