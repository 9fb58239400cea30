/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-eswitchctl: manages the functions of ovs-ext's eSwitches, after
 * NVIDIA BlueField's virtio-net controller CLI ("virtnet"): hotplug,
 * unplug, list, query, modify, log.  It talks to ovs-vswitchd over its
 * unixctl socket (the eswitch/... commands of
 * ovs-ext/eswitch-mgmt-unixctl.c, which answer in JSON) and prints tables,
 * or the JSON with --json.  See ovs-eswitchctl(8). */

#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command-line.h"
#include "daemon.h"
#include "dirs.h"
#include "jsonrpc.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "stream.h"
#include "timeval.h"
#include "util.h"

#include "ovs-ext/echo-arg.h"
#include "ovs-ext/eswitch.h"
#include "ovs-ext/eswitch-config.h"
#include "ovs-ext/eswitch-private.h"
#include "ovs-ext/values.h"

#include "esw-remote-proto.h"

extern char **environ;

static const char *target = "ovs-vswitchd";
static bool json_output;

/* --daemon: hotplug, unplug, list and query act on ovs-eswitchd's devices
 * (see "Daemon mode" below). */
static bool daemon_mode;
static void daemon_list(void);
static void daemon_query(const char *spec);
static void daemon_hotplug(int argc, char *argv[]);
static void daemon_unplug(int argc, char *argv[]);

/* The whole command must be done within 'timeout_secs' (--timeout), by
 * 'deadline' (in time_msec() terms), so that it never hangs on an
 * ovs-vswitchd that does not answer. */
#define DEFAULT_TIMEOUT 30
static uint32_t timeout_secs;
static long long int deadline;

OVS_NO_RETURN static void usage(void);

/* Exits with status 2 and "WHAT within N s (--timeout)[: NOTE]". */
OVS_NO_RETURN static void
die_timeout(const char *what, const char *note)
{
    fprintf(stderr, "ovs-eswitchctl: %s within %"PRIu32" s (--timeout)%s%s\n",
            what, timeout_secs, note ? ": " : "", note ? note : "");
    exit(2);
}

/* Talking to ovs-vswitchd.
 * ======================== */

/* The control socket of the target, or NULL if 'must' is false and it has
 * no pidfile (it is not running). */
static char *
target_socket(bool must)
{
    char *socket_name;

    if (target[0] != '/') {
        char *pidfile_name = xasprintf("%s/%s.pid", ovs_rundir(), target);
        pid_t pid;

        if (!must && access(pidfile_name, F_OK)) {
            free(pidfile_name);
            return NULL;
        }
        pid = read_pidfile(pidfile_name);
        if (pid < 0) {
            if (!must) {
                free(pidfile_name);
                return NULL;
            }
            ovs_fatal(-pid, "cannot read pidfile \"%s\" (is ovs-vswitchd "
                      "running?)", pidfile_name);
        }
        free(pidfile_name);
        socket_name = xasprintf("%s/%s.%ld.ctl", ovs_rundir(), target,
                                (long int) pid);
    } else {
        socket_name = xstrdup(target);
    }
    return socket_name;
}

/* Connects to the target, within the time left.  If 'must' is false,
 * returns NULL if it is not running, or with a note on stderr if it cannot
 * be reached (e.g. its socket is root's); otherwise dies then. */
static struct jsonrpc *
connect_to_target(bool must)
{
    char *socket_name = target_socket(must);
    struct stream *stream;
    long long int left;
    char *name;
    int error;

    if (!socket_name) {
        return NULL;
    }
    name = xasprintf("unix:%s", socket_name);
    left = MAX(deadline - time_msec(), 0);
    error = stream_open_block(stream_open(name, &stream, DSCP_DEFAULT), left,
                              &stream);
    if (error == ETIMEDOUT) {
        char *what = xasprintf("could not connect to \"%s\"", socket_name);

        die_timeout(what, NULL);
    } else if (error && must) {
        ovs_fatal(error, "cannot connect to \"%s\"", socket_name);
    } else if (error) {
        fprintf(stderr, "ovs-eswitchctl: cannot connect to \"%s\" (%s): not "
                "checked against the running ovs-vswitchd\n", socket_name,
                ovs_strerror(error));
    }
    free(name);
    free(socket_name);
    return error ? NULL : jsonrpc_open(stream);
}

/* What may still happen after ovs-vswitchd did not answer 'cmd' with
 * 'argc' arguments in time. */
static const char *
late_effect(const char *cmd, int argc)
{
    bool changes = (!strcmp(cmd, "eswitch/hotplug")
                    || (!strcmp(cmd, "eswitch/unplug") && argc == 1)
                    || !strcmp(cmd, "eswitch/modify")
                    || !strcmp(cmd, "vlog/set"));

    return (changes
            ? "it may still carry out the request when it answers again"
            : NULL);
}

/* Runs unixctl 'cmd' with 'argv' on 'client' (closed here), within the
 * time left.  Returns the result (malloc'd) or NULL with the server's error
 * in '*errorp'. */
static char *
transact__(struct jsonrpc *client, const char *cmd, int argc, char *argv[],
           char **errorp)
{
    struct jsonrpc_msg *request, *reply = NULL;
    struct json **args = xmalloc((argc + 1) * sizeof *args);
    char *result = NULL;
    struct json *id;
    int error;

    for (int i = 0; i < argc; i++) {
        args[i] = json_string_create(argv[i]);
    }
    request = jsonrpc_create_request(cmd, json_array_create(args, argc),
                                     NULL);
    id = json_clone(request->id);
    error = jsonrpc_send(client, request);
    while (!error) {
        jsonrpc_run(client);
        error = jsonrpc_recv(client, &reply);
        if (!error) {
            if ((reply->type == JSONRPC_REPLY || reply->type == JSONRPC_ERROR)
                && json_equal(id, reply->id)) {
                break;
            }
            jsonrpc_msg_destroy(reply);
            reply = NULL;
        } else if (error == EAGAIN) {
            if (time_msec() >= deadline) {
                char *what = xasprintf("%s did not answer %s", target, cmd);

                die_timeout(what, late_effect(cmd, argc));
            }
            error = 0;
            jsonrpc_run(client);
            jsonrpc_wait(client);
            jsonrpc_recv_wait(client);
            poll_timer_wait_until(deadline);
            poll_block();
        }
    }
    json_destroy(id);
    jsonrpc_close(client);
    if (error) {
        ovs_fatal(error, "%s: transaction error", target);
    }

    *errorp = NULL;
    if (reply->error && reply->error->type == JSON_STRING) {
        *errorp = xstrdup(json_string(reply->error));
    } else if (reply->result && reply->result->type == JSON_STRING) {
        result = xstrdup(json_string(reply->result));
    } else {
        ovs_fatal(0, "%s: unexpected reply to %s", target, cmd);
    }
    jsonrpc_msg_destroy(reply);
    return result;
}

/* As transact__(), on a new connection to the target. */
static char *
transact(const char *cmd, int argc, char *argv[], char **errorp)
{
    return transact__(connect_to_target(true), cmd, argc, argv, errorp);
}

OVS_NO_RETURN static void
die_server_error(const char *error)
{
    size_t len = strlen(error);

    fprintf(stderr, "ovs-eswitchctl: %s%s", error,
            len && error[len - 1] == '\n' ? "" : "\n");
    exit(2);
}

/* As transact(), but exits with status 2 and the server's message on
 * error. */
static char *
transact_or_die(const char *cmd, int argc, char *argv[])
{
    char *error;
    char *result = transact(cmd, argc, argv, &error);

    if (!result) {
        die_server_error(error);
    }
    return result;
}

static struct json *
parse_reply(const char *reply)
{
    struct json *json = json_from_string(reply);

    if (json->type == JSON_STRING) {
        ovs_fatal(0, "bad reply from %s: %s", target, json_string(json));
    }
    return json;
}

/* Output.
 * ======= */

static const char *
get_str(const struct json *obj, const char *key)
{
    const struct json *v = shash_find_data(json_object(obj), key);

    return v && v->type == JSON_STRING ? json_string(v) : "-";
}

static char *
get_val(const struct json *obj, const char *key)
{
    const struct json *v = shash_find_data(json_object(obj), key);

    if (!v || v->type == JSON_NULL) {
        return xstrdup("-");
    } else if (v->type == JSON_STRING) {
        return xstrdup(json_string(v));
    }
    return json_to_string(v, 0);
}

static void
print_json(const char *reply)
{
    struct json *json = parse_reply(reply);
    char *s = json_to_string(json, JSSF_SORT | JSSF_PRETTY);

    puts(s);
    free(s);
    json_destroy(json);
}

/* Prints a function as "key: value" lines; a vhost-user host side's
 * members (the JSON's "vhost_user" object) as "vhost_path", "vhost_mode",
 * "guest" and "negotiated". */
static void
print_function(const struct json *fn)
{
    static const struct {
        const char *label;
        const char *object;     /* NULL: a member of 'fn' itself. */
        const char *key;
    } keys[] = {
        { "eswitch", NULL, "eswitch" },
        { "function", NULL, "function" },
        { "vport", NULL, "vport" },
        { "kind", NULL, "kind" },
        { "origin", NULL, "origin" },
        { "mac", NULL, "mac" },
        { "mtu", NULL, "mtu" },
        { "features", NULL, "features" },
        { "queues", NULL, "queues" },
        { "host_side", NULL, "host_side" },
        { "vhost_path", "vhost_user", "path" },
        { "vhost_mode", "vhost_user", "mode" },
        { "guest", "vhost_user", "guest" },
        { "negotiated", "vhost_user", "negotiated_features" },
        { "link_state", NULL, "link_state" },
        { "link", NULL, "link" },
        { "port", NULL, "port" },
        { "client", NULL, "client" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        const struct json *obj = fn;

        if (keys[i].object) {
            obj = shash_find_data(json_object(fn), keys[i].object);
            if (!obj || obj->type != JSON_OBJECT) {
                continue;
            }
        }
        if (shash_find(json_object(obj), keys[i].key)) {
            char *v = get_val(obj, keys[i].key);
            char key[32];

            snprintf(key, sizeof key, "%s:", keys[i].label);
            printf("%-11s %s\n", key, v);
            free(v);
        }
    }
}

static void
print_function_reply(const char *reply)
{
    if (json_output) {
        print_json(reply);
    } else {
        struct json *json = parse_reply(reply);

        print_function(json);
        json_destroy(json);
    }
}

/* Commands.
 * ========= */

/* Prints eswitch/list's 'reply' (or daemon mode's) as a table. */
static void
print_list(const char *reply)
{
    static const struct {
        const char *key, *title;
    } cols[] = {
        { "eswitch", "ESWITCH" }, { "vport", "VPORT" },
        { "function", "FUNCTION" }, { "kind", "KIND" },
        { "origin", "ORIGIN" }, { "mac", "MAC" }, { "mtu", "MTU" },
        { "queues", "QUEUES" }, { "link", "LINK" },
        { "host_side", "HOST" }, { "port", "PORT" },
    };
    enum { N_COLS = ARRAY_SIZE(cols) };
    const struct json_array *fns;
    size_t width[N_COLS];
    struct json *json;
    char ***cells;

    if (json_output) {
        print_json(reply);
        return;
    }
    json = parse_reply(reply);
    fns = json_array(shash_find_data(json_object(json), "functions"));
    cells = xcalloc(fns->n, sizeof *cells);
    for (size_t c = 0; c < N_COLS; c++) {
        width[c] = strlen(daemon_mode && c + 1 == N_COLS ? "CLIENT"
                          : cols[c].title);
    }
    for (size_t i = 0; i < fns->n; i++) {
        cells[i] = xcalloc(N_COLS, sizeof *cells[i]);
        for (size_t c = 0; c < N_COLS; c++) {
            /* Daemon mode: no ports, the device's client instead. */
            cells[i][c] = get_val(fns->elems[i],
                                  daemon_mode && c + 1 == N_COLS
                                  ? "client" : cols[c].key);
            width[c] = MAX(width[c], strlen(cells[i][c]));
        }
    }
    for (size_t c = 0; c < N_COLS; c++) {
        if (c + 1 < N_COLS) {
            printf("%-*s  ", (int) width[c], cols[c].title);
        } else {
            printf("%s\n", daemon_mode ? "CLIENT" : cols[c].title);
        }
    }
    for (size_t i = 0; i < fns->n; i++) {
        for (size_t c = 0; c < N_COLS; c++) {
            if (c + 1 < N_COLS) {
                printf("%-*s  ", (int) width[c], cells[i][c]);
            } else {
                printf("%s\n", cells[i][c]);
            }
            free(cells[i][c]);
        }
        free(cells[i]);
    }
    if (!fns->n && daemon_mode) {
        fprintf(stderr, "ovs-eswitchctl: ovs-eswitchd hosts no eswitch: "
                "one comes with ovs-vswitchd's first port of its functions "
                "or a hotplug\n");
    } else if (!fns->n) {
        fprintf(stderr, "ovs-eswitchctl: no eswitch is up yet: one comes up "
                "with the first port of its functions, a hotplug or the "
                "configuration file\n");
    }
    free(cells);
    json_destroy(json);
}

static void
cmd_list(int argc, char *argv[] OVS_UNUSED)
{
    char *reply;

    if (argc) {
        ovs_fatal(0, "usage: list");
    }
    if (daemon_mode) {
        daemon_list();
        return;
    }
    reply = transact_or_die("eswitch/list", 0, NULL);
    print_list(reply);
    free(reply);
}

static void
cmd_query(int argc, char *argv[])
{
    char *reply;

    if (argc != 1) {
        ovs_fatal(0, "usage: query FUNCTION");
    }
    if (daemon_mode) {
        daemon_query(argv[0]);
        return;
    }
    reply = transact_or_die("eswitch/query", 1, argv);
    print_function_reply(reply);
    free(reply);
}

/* Runs ovs-vsctl with 'args' (NULL-terminated) within the time left, and
 * returns its exit status, or -1 if it did not finish in time.  Stores the
 * command, as people would type it, in '*cmdp' (malloc'd). */
static int
run_vsctl(const char *const args[], char **cmdp)
{
    struct ds cmd = DS_EMPTY_INITIALIZER;
    long long int left = MAX(deadline - time_msec(), 0);
    char *timeout = xasprintf("--timeout=%lld", MAX((left + 999) / 1000, 1));
    char **argv;
    size_t n = 0;
    int status;
    pid_t pid;
    int error;

    while (args[n]) {
        n++;
    }
    argv = xcalloc(n + 4, sizeof *argv);
    argv[0] = (char *) "ovs-vsctl";
    argv[1] = timeout;
    /* On expiry, we say what timed out, not its "terminating with signal
     * 14". */
    argv[2] = (char *) "-vfatal_signal:console:off";
    ds_put_cstr(&cmd, "ovs-vsctl");
    for (size_t i = 0; i < n; i++) {
        argv[i + 3] = (char *) args[i];
        ds_put_format(&cmd, " %s", args[i]);
    }
    error = posix_spawnp(&pid, "ovs-vsctl", NULL, NULL, argv, environ);
    free(argv);
    free(timeout);
    if (error) {
        ovs_fatal(error, "cannot run \"%s\"", ds_cstr(&cmd));
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            ovs_fatal(errno, "\"%s\": waitpid failed", ds_cstr(&cmd));
        }
    }
    *cmdp = ds_steal_cstr(&cmd);
    if (WIFSIGNALED(status)) {
        /* ovs-vsctl dies of SIGALRM when its --timeout expires. */
        return WTERMSIG(status) == SIGALRM ? -1 : 128 + WTERMSIG(status);
    }
    return WEXITSTATUS(status);
}

/* Runs ovs-vsctl with 'args'; dies unless it succeeds. */
static void
run_vsctl_or_die(const char *const args[])
{
    char *cmd;
    int status = run_vsctl(args, &cmd);

    if (status < 0) {
        char *what = xasprintf("\"%s\" did not finish", cmd);

        die_timeout(what, NULL);
    } else if (status) {
        ovs_fatal(0, "\"%s\" failed", cmd);
    }
    free(cmd);
}

/* Waits until no port uses function 'fn' ("ESWITCH/FUNCTION"). */
static void
wait_port_released(const char *fn, const char *port)
{
    for (;;) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        char *reply = transact_or_die("eswitch/query", 1, (char **) &fn);
        struct json *json = parse_reply(reply);
        char *claim = get_val(json, "port");
        bool released = !strcmp(claim, "-");

        free(claim);
        json_destroy(json);
        free(reply);
        if (released) {
            return;
        }
        if (time_msec() >= deadline) {
            char *what = xasprintf("port %s did not let go of %s", port, fn);

            die_timeout(what, "the port is removed, the function is not "
                        "unplugged");
        }
        /* OVS is taking the port down: give it a moment. */
        nanosleep(&ts, NULL);
    }
}

static void
cmd_hotplug(int argc, char *argv[])
{
    const char *bridge = NULL;
    char **args;
    int n_args = 0;
    char *reply;

    if (daemon_mode) {
        daemon_hotplug(argc, argv);
        return;
    }
    args = xcalloc(argc + 1, sizeof *args);
    if (argc < 1) {
        ovs_fatal(0, "usage: hotplug vf|virtio [OPTIONS]");
    }
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--add-port")) {
            if (i + 1 >= argc) {
                ovs_fatal(0, "--add-port needs a bridge name");
            }
            bridge = argv[++i];
        } else {
            args[n_args++] = argv[i];
        }
    }
    if (bridge) {
        /* All or nothing: no function for a bridge that is not there. */
        const char *vsctl[] = { "br-exists", bridge, NULL };
        char *cmd;
        int status = run_vsctl(vsctl, &cmd);

        if (status == 2) {
            ovs_fatal(0, "no bridge named %s", bridge);
        } else if (status < 0) {
            char *what = xasprintf("\"%s\" did not finish", cmd);

            die_timeout(what, "nothing was hotplugged");
        } else if (status) {
            ovs_fatal(0, "\"%s\" failed: nothing was hotplugged", cmd);
        }
        free(cmd);
    }
    reply = transact_or_die("eswitch/hotplug", n_args, args);
    free(args);
    if (bridge) {
        struct json *json = parse_reply(reply);
        char *name = xstrdup(get_str(json, "function"));
        char *qualified = xasprintf("%s/%s", get_str(json, "eswitch"), name);
        const char *type = (!strcmp(get_str(json, "kind"), "vf")
                            ? "type=esw-vf" : "type=esw-virtio");
        const char *vsctl[] = { "add-port", bridge, name, "--", "set",
                                "Interface", name, type, NULL };
        char *cmd;
        int status = run_vsctl(vsctl, &cmd);

        if (status < 0) {
            char *what = xasprintf("\"%s\" did not finish", cmd);
            char *note = xasprintf("%s stays hotplugged and its port may "
                                   "still be added (ovs-eswitchctl unplug %s "
                                   "--force removes both)", name, name);

            die_timeout(what, note);
        } else if (status) {
            /* Undo the hotplug: nothing is left behind. */
            char *error;
            char *undo = transact("eswitch/unplug", 1, &qualified, &error);

            if (!undo) {
                ovs_fatal(0, "\"%s\" failed, and %s stays hotplugged: %s",
                          cmd, name, error);
            }
            ovs_fatal(0, "\"%s\" failed: %s unplugged again", cmd, name);
        }
        free(cmd);
        json_destroy(json);
        free(reply);
        reply = transact_or_die("eswitch/query", 1, &qualified);
        free(qualified);
        free(name);
    }
    print_function_reply(reply);
    free(reply);
}

static void
cmd_unplug(int argc, char *argv[])
{
    const char *dev = NULL;
    char *qualified = NULL;
    bool force = false;

    if (daemon_mode) {
        daemon_unplug(argc, argv);
        return;
    }
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) {
            force = true;
        } else if (!dev && argv[i][0] != '-') {
            dev = argv[i];
        } else {
            ovs_fatal(0, "usage: unplug FUNCTION [--force]");
        }
    }
    if (!dev) {
        ovs_fatal(0, "usage: unplug FUNCTION [--force]");
    }
    if (force) {
        /* Everything is checked before anything changes: then the
         * representor leaves its bridge first, the way an operator would
         * do it (OVS removes its flows, offloaded rules, MACs and policy
         * and releases the function), and the function goes. */
        char *check[] = { (char *) dev, (char *) "--check" };
        char *reply = transact_or_die("eswitch/unplug", 2, check);
        struct json *json = parse_reply(reply);
        char *port = get_val(json, "port");

        qualified = xasprintf("%s/%s", get_str(json, "eswitch"),
                              get_str(json, "function"));
        if (strcmp(port, "-")) {
            const char *vsctl[] = { "--if-exists", "del-port", port, NULL };

            run_vsctl_or_die(vsctl);
            wait_port_released(qualified, port);
        }
        dev = qualified;
        free(port);
        json_destroy(json);
        free(reply);
    }
    free(transact_or_die("eswitch/unplug", 1, (char **) &dev));
    free(qualified);
}

static void
cmd_modify(int argc, char *argv[])
{
    char *reply;

    if (argc < 1) {
        ovs_fatal(0, "usage: modify FUNCTION [OPTIONS]");
    }
    reply = transact_or_die("eswitch/modify", argc, argv);
    print_function_reply(reply);
    free(reply);
}

static void
cmd_log(int argc, char *argv[])
{
    static const char *const modules[] = {
        "eswitch", "eswitch_state", NULL
    };
    const char *level = NULL;

    if (argc == 2 && !strcmp(argv[0], "--level")) {
        level = argv[1];
    } else if (argc) {
        ovs_fatal(0, "usage: log [--level info|err|debug]");
    }
    if (level) {
        const char *vlevel = (!strcmp(level, "debug") ? "dbg"
                              : !strcmp(level, "info") ? "info"
                              : !strcmp(level, "err") ? "err"
                              : !strcmp(level, "warn") ? "warn" : NULL);

        if (!vlevel) {
            ovs_fatal(0, "unknown log level \"%s\": expected info, err, "
                      "warn or debug", level);
        }
        for (const char *const *m = modules; *m; m++) {
            char *arg = xasprintf("%s:file:%s", *m, vlevel);

            free(transact_or_die("vlog/set", 1, &arg));
            free(arg);
        }
    } else {
        char *reply = transact_or_die("vlog/list", 0, NULL);
        char *save = NULL;

        for (char *line = strtok_r(reply, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            if (strncmp(line, "console", 7) && strncmp(line, "-----", 5)
                && !strncmp(line, "eswitch ", 8)) {
                char console[16], syslog[16], file[16];

                if (ovs_scan(line, "eswitch %15s %15s %15s", console, syslog,
                             file)) {
                    printf("eswitch log level (file): %s\n", file);
                }
            }
        }
        free(reply);
    }
}

static void
cmd_version(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    char *error;
    char *reply = transact("eswitch/version", 0, NULL, &error);

    printf("ovs-eswitchctl (ovs-ext) %s\n", OVS_EXT_VERSION);
    if (reply) {
        printf("ovs-vswitchd: %s", reply);
    } else {
        printf("ovs-vswitchd: %s\n", error);
        free(error);
    }
    free(reply);
}

static void
cmd_config(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    char *reply = transact_or_die("eswitch/mgmt-config", 0, NULL);

    if (json_output) {
        print_json(reply);
    } else {
        struct json *json = parse_reply(reply);
        const struct shash_node **nodes = shash_sort(json_object(json));

        for (size_t i = 0; i < shash_count(json_object(json)); i++) {
            char *v = get_val(json, nodes[i]->name);

            printf("%s: %s\n", nodes[i]->name, v);
            free(v);
        }
        free(nodes);
        json_destroy(json);
    }
    free(reply);
}

/* Talking to ovs-eswitchd.
 * ========================
 *
 * The daemon-status and update commands go to the device daemon's control
 * socket (esw-remote-proto.h's admin requests), not to ovs-vswitchd. */

static const char *eswitchd_socket;     /* --socket, else the default. */

static int
eswitchd_timeout_ms(void)
{
    long long int left = deadline - time_msec();

    if (left <= 0) {
        die_timeout("no answer from ovs-eswitchd", NULL);
    }
    return left > INT_MAX ? INT_MAX : left;
}

/* Connects to ovs-eswitchd and says hello.  Exits with a message if it
 * cannot. */
static int
eswitchd_connect(char **pathp)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct esw_rw_hello hello = { .abi = esw_rproto_abi() }, reply;
    struct esw_rmsg_hdr hdr = { .magic = ESW_RPROTO_MAGIC,
                                .version = ESW_RPROTO_VERSION,
                                .op = ESW_ROP_HELLO, .len = sizeof hello,
                                .seq = 1 };
    char path[sizeof sun.sun_path];
    int fds[ESW_RPROTO_MAX_FDS];
    int sock, error;

    if (eswitchd_socket) {
        if (strlen(eswitchd_socket) >= sizeof path) {
            ovs_fatal(0, "%s: socket path too long", eswitchd_socket);
        }
        ovs_strlcpy(path, eswitchd_socket, sizeof path);
    } else if (esw_rproto_default_socket(path, sizeof path)) {
        ovs_fatal(0, "the default ovs-eswitchd socket path is too long: "
                  "use --socket");
    }
    *pathp = xstrdup(path);
    ovs_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || connect(sock, (struct sockaddr *) &sun, sizeof sun)) {
        ovs_fatal(0, "cannot connect to ovs-eswitchd at %s: %s (is it "
                  "running?)", path, ovs_strerror(errno));
    }
    error = esw_rproto_send(sock, &hdr, &hello, NULL, eswitchd_timeout_ms());
    if (!error) {
        error = esw_rproto_recv_hdr(sock, &hdr, fds, eswitchd_timeout_ms());
    }
    if (!error && (esw_rproto_check_hdr(&hdr, true) || hdr.n_fds
                   || hdr.len != sizeof reply)) {
        error = EPROTO;
    }
    if (!error) {
        error = esw_rproto_recv_all(sock, &reply, sizeof reply,
                                    eswitchd_timeout_ms());
    }
    if (!error && (hdr.result || reply.abi != hello.abi)) {
        ovs_fatal(0, "ovs-eswitchd at %s speaks another protocol version "
                  "(built apart from this ovs-eswitchctl)", path);
    }
    if (error == ETIMEDOUT) {
        die_timeout("no answer from ovs-eswitchd", path);
    } else if (error) {
        ovs_fatal(0, "ovs-eswitchd at %s: %s", path, ovs_strerror(error));
    }
    return sock;
}

/* Sends admin request 'op' with 'payload' and returns the reply's payload
 * (of '*lenp' bytes) and result in '*resultp'. */
static uint8_t *
eswitchd_transact(enum esw_rop op, const void *payload, size_t len,
                  int *resultp, size_t *lenp)
{
    struct esw_rmsg_hdr hdr = { .magic = ESW_RPROTO_MAGIC,
                                .version = ESW_RPROTO_VERSION, .op = op,
                                .len = len, .seq = 2 };
    int fds[ESW_RPROTO_MAX_FDS];
    uint8_t *reply = NULL;
    char *path;
    int sock = eswitchd_connect(&path);
    int error;

    error = esw_rproto_send(sock, &hdr, payload, NULL, eswitchd_timeout_ms());
    if (!error) {
        error = esw_rproto_recv_hdr(sock, &hdr, fds, eswitchd_timeout_ms());
    }
    if (!error && (esw_rproto_check_hdr(&hdr, true) || hdr.n_fds
                   || hdr.op != op || hdr.seq != 2)) {
        error = EPROTO;
    }
    if (!error) {
        reply = xmalloc(hdr.len ? hdr.len : 1);
        error = esw_rproto_recv_all(sock, reply, hdr.len,
                                    eswitchd_timeout_ms());
    }
    if (error == ETIMEDOUT) {
        die_timeout("no answer from ovs-eswitchd", path);
    } else if (error == EPIPE) {
        ovs_fatal(0, "ovs-eswitchd at %s closed the connection", path);
    } else if (error) {
        ovs_fatal(0, "ovs-eswitchd at %s: %s", path, ovs_strerror(error));
    }
    close(sock);
    free(path);
    *resultp = hdr.result;
    *lenp = hdr.len;
    return reply;
}

static const char *
update_state_name(uint32_t state)
{
    switch (state) {
    case ESW_UPDATE_NONE: return "none";
    case ESW_UPDATE_RUNNING: return "running";
    case ESW_UPDATE_DONE: return "done";
    case ESW_UPDATE_FAILED: return "failed";
    case ESW_UPDATE_REFUSED: return "refused";
    default: return "unknown";
    }
}

static void
print_update(const struct esw_rw_update_result *u)
{
    char when[32];
    struct tm tm;
    time_t t = u->started;

    if (u->state == ESW_UPDATE_NONE) {
        printf("last update: none since the daemon started\n");
        return;
    }
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("last update: %s, started %s\n", update_state_name(u->state),
           when);
    printf("  from: pid %"PRIu32", version %s, %s\n", u->old_pid,
           u->old_version, u->old_binary);
    printf("  to: pid %"PRIu32", version %s, %s\n", u->new_pid,
           u->new_version[0] ? u->new_version : "unknown", u->new_binary);
    if (u->state == ESW_UPDATE_DONE || u->state == ESW_UPDATE_FAILED) {
        printf("  forwarding paused: %"PRIu64".%01"PRIu64" ms\n",
               u->pause_us / 1000, u->pause_us % 1000 / 100);
    }
    if (u->state == ESW_UPDATE_FAILED) {
        printf("  error: %s (the previous daemon kept the devices)\n",
               u->message);
    }
}

/* Gets and checks the daemon's status; '*devsp' its devices. */
static struct esw_rw_daemon_status *
get_daemon_status(struct esw_rw_daemon_dev **devsp)
{
    struct esw_rw_daemon_status *st;
    size_t len;
    int result;
    uint8_t *reply = eswitchd_transact(ESW_ROP_DAEMON_STATUS, NULL, 0,
                                       &result, &len);

    st = xmalloc(sizeof *st);
    if (result || len < sizeof *st) {
        ovs_fatal(0, "ovs-eswitchd: daemon-status: %s",
                  result ? ovs_strerror(result) : "short reply");
    }
    memcpy(st, reply, sizeof *st);
    if (esw_rproto_check_string(st->version, sizeof st->version)
        || esw_rproto_check_string(st->binary, sizeof st->binary)
        || esw_rproto_check_update_result(&st->last)
        || len != sizeof *st + (size_t) st->n_devs
                                * sizeof(struct esw_rw_daemon_dev)) {
        ovs_fatal(0, "ovs-eswitchd: daemon-status: malformed reply");
    }
    *devsp = xmalloc((st->n_devs ? st->n_devs : 1) * sizeof **devsp);
    memcpy(*devsp, reply + sizeof *st, st->n_devs * sizeof **devsp);
    for (size_t i = 0; i < st->n_devs; i++) {
        if (esw_rproto_check_string((*devsp)[i].name,
                                    sizeof (*devsp)[i].name)) {
            ovs_fatal(0, "ovs-eswitchd: daemon-status: malformed reply");
        }
    }
    free(reply);
    return st;
}

static void
cmd_daemon_status(int argc, char *argv[] OVS_UNUSED)
{
    struct esw_rw_daemon_dev *devs;
    struct esw_rw_daemon_status *st;

    if (argc) {
        ovs_fatal(0, "usage: daemon-status");
    }
    st = get_daemon_status(&devs);
    printf("ovs-eswitchd: pid %"PRIu32", version %s\n", st->pid,
           st->version);
    printf("binary: %s\n", st->binary);
    printf("uptime: %"PRIu64" ms (this process %"PRIu64" ms)\n",
           st->uptime_ms, st->process_ms);
    printf("clients: %"PRIu32"\n", st->n_clients);
    printf("devices: %"PRIu32" (%"PRIu32" attached, %"PRIu32" kept for a "
           "client)\n", st->n_devs, st->n_attached, st->n_detached);
    for (size_t i = 0; i < st->n_devs; i++) {
        const struct esw_rw_daemon_dev *d = &devs[i];

        printf("  %s: %"PRIu32" vports, %"PRIu32" rules, %"PRIu32" meters, ",
               d->name, d->n_vports, d->n_rules, d->n_meters);
        if (d->attached) {
            printf("attached\n");
        } else {
            printf("no client for %"PRIu64" ms\n", d->detached_ms);
        }
    }
    printf("live updates: %"PRIu32"\n", st->n_updates);
    print_update(&st->last);
    free(devs);
    free(st);
}

static void
cmd_update(int argc, char *argv[])
{
    struct esw_rw_update_req *req = xzalloc(sizeof *req);
    struct esw_rw_update_result res;
    bool start = false, status = false;
    uint8_t *reply;
    size_t len;
    int result;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--start")) {
            start = true;
        } else if (!strcmp(argv[i], "--status")) {
            status = true;
        } else if (!strcmp(argv[i], "--binary") && i + 1 < argc) {
            const char *bin = argv[++i];
            char *abs = (bin[0] == '/' ? xstrdup(bin)
                         : xasprintf("%s/%s", get_cwd(), bin));

            if (strlen(abs) >= sizeof req->binary) {
                ovs_fatal(0, "--binary %s: path too long", bin);
            }
            ovs_strlcpy(req->binary, abs, sizeof req->binary);
            free(abs);
        } else if (!strcmp(argv[i], "--test-fault") && i + 1 < argc) {
            const char *f = argv[++i];

            req->fault = (!strcmp(f, "truncate") ? ESW_UPDATE_FAULT_TRUNCATE
                          : !strcmp(f, "version") ? ESW_UPDATE_FAULT_VERSION
                          : !strcmp(f, "count") ? ESW_UPDATE_FAULT_COUNT
                          : UINT32_MAX);
            if (req->fault == UINT32_MAX) {
                ovs_fatal(0, "--test-fault %s: expected truncate, version "
                          "or count", f);
            }
        } else {
            ovs_fatal(0, "usage: update --start [--binary PATH] | "
                      "update --status");
        }
    }
    if (start == status || (status && (req->binary[0] || req->fault))) {
        ovs_fatal(0, "usage: update --start [--binary PATH] | "
                  "update --status");
    }
    if (status) {
        struct esw_rw_daemon_dev *devs;
        struct esw_rw_daemon_status *st = get_daemon_status(&devs);

        if (st->last.state == ESW_UPDATE_RUNNING) {
            printf("update running since %"PRId64" (to %s, pid %"PRIu32")\n",
                   st->last.started, st->last.new_binary, st->last.new_pid);
        }
        print_update(&st->last);
        free(devs);
        free(st);
        free(req);
        return;
    }
    reply = eswitchd_transact(ESW_ROP_DAEMON_UPDATE, req, sizeof *req,
                              &result, &len);
    free(req);
    if (len != sizeof res) {
        ovs_fatal(0, "ovs-eswitchd: update: %s",
                  result ? ovs_strerror(result) : "malformed reply");
    }
    memcpy(&res, reply, sizeof res);
    free(reply);
    if (esw_rproto_check_update_result(&res)) {
        ovs_fatal(0, "ovs-eswitchd: update: malformed reply");
    }
    if (res.state == ESW_UPDATE_REFUSED) {
        fprintf(stderr, "ovs-eswitchctl: update refused: %s\n", res.message);
        exit(1);
    } else if (result || res.state != ESW_UPDATE_DONE) {
        fprintf(stderr, "ovs-eswitchctl: update failed: %s: ovs-eswitchd "
                "(pid %"PRIu32") keeps the devices\n", res.message,
                res.old_pid);
        exit(1);
    }
    print_update(&res);
}

/* Daemon mode (--daemon).
 * =======================
 *
 * hotplug, unplug, list and query act on the devices ovs-eswitchd hosts,
 * with or without ovs-vswitchd (esw-remote-proto.h's DAEMON_FUNCTIONS,
 * DAEMON_HOTPLUG, DAEMON_UNPLUG): what virtnet does with the virtio-net
 * controller.  A device created here gets the functions ovs-vswitchd
 * would give it (its built-in layout, eswitch_default_layout()) and stays
 * in the daemon without a client, for ovs-vswitchd to take over with the
 * functions as they are.  A device a client controls can be read, not
 * changed: it has one controlling session. */

struct dfn {
    struct esw_vport_info info;
    struct esw_host_info host;
};

struct ddev {
    char name[ESW_NAME_MAX];
    bool attached;
    struct dfn *fns;
    size_t n_fns;
};

/* Exits with status 2 and 'format''s message: the daemon-mode request is
 * refused, as ovs-vswitchd refuses its own (die_server_error()). */
OVS_NO_RETURN static void OVS_PRINTF_FORMAT(1, 2)
daemon_refuse(const char *format, ...)
{
    va_list args;
    char *msg;

    va_start(args, format);
    msg = xvasprintf(format, args);
    va_end(args);
    die_server_error(msg);
}

/* Refuses a request naming eSwitch 'name', which the daemon does not have,
 * listing those it has (as ovs-vswitchd lists its own). */
OVS_NO_RETURN static void
daemon_refuse_no_eswitch(const char *name, const struct ddev *devs,
                         size_t n_devs)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct echo_buf b;

    ds_put_format(&s, "no such eswitch \"%s\"", echo_arg(name, &b));
    for (size_t i = 0; i < n_devs; i++) {
        ds_put_format(&s, "%s%s", i ? ", " : " (eswitches: ", devs[i].name);
    }
    if (n_devs) {
        ds_put_char(&s, ')');
    }
    die_server_error(ds_cstr(&s));
}

/* Reads device 'name''s functions into 'd'.  Returns false if the daemon
 * has no such device. */
static bool
daemon_get_dev(const char *name, struct ddev *d)
{
    struct esw_rw_name req;
    struct esw_rw_daemon_fns h;
    uint8_t *reply;
    size_t len;
    int result;

    memset(&req, 0, sizeof req);
    ovs_strlcpy(req.name, name, sizeof req.name);
    memset(d, 0, sizeof *d);
    ovs_strlcpy(d->name, name, sizeof d->name);
    reply = eswitchd_transact(ESW_ROP_DAEMON_FUNCTIONS, &req, sizeof req,
                              &result, &len);
    if (result == ENODEV) {
        free(reply);
        return false;
    } else if (result || len < sizeof h) {
        ovs_fatal(0, "ovs-eswitchd: functions of %s: %s", name,
                  result ? ovs_strerror(result) : "short reply");
    }
    memcpy(&h, reply, sizeof h);
    if (h.attached > 1
        || (len - sizeof h) / sizeof *d->fns != h.n
        || (len - sizeof h) % sizeof *d->fns) {
        ovs_fatal(0, "ovs-eswitchd: functions of %s: malformed reply", name);
    }
    d->attached = h.attached;
    d->n_fns = h.n;
    d->fns = xmalloc((h.n ? h.n : 1) * sizeof *d->fns);
    memcpy(d->fns, reply + sizeof h, h.n * sizeof *d->fns);
    for (size_t i = 0; i < h.n; i++) {
        if (esw_rproto_check_vport_info(&d->fns[i].info)
            || esw_rproto_check_host_info(&d->fns[i].host)) {
            ovs_fatal(0, "ovs-eswitchd: functions of %s: malformed reply",
                      name);
        }
    }
    free(reply);
    return true;
}

/* Every device of the daemon, sorted by name. */
static struct ddev *
daemon_get_devs(size_t *np)
{
    struct esw_rw_daemon_dev *devs;
    struct esw_rw_daemon_status *st = get_daemon_status(&devs);
    struct ddev *ddevs = xcalloc(st->n_devs ? st->n_devs : 1, sizeof *ddevs);
    size_t n = 0;

    for (size_t i = 0; i < st->n_devs; i++) {
        n += daemon_get_dev(devs[i].name, &ddevs[n]);
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && strcmp(ddevs[j - 1].name,
                                           ddevs[j].name) > 0; j--) {
            struct ddev t = ddevs[j];

            ddevs[j] = ddevs[j - 1];
            ddevs[j - 1] = t;
        }
    }
    free(devs);
    free(st);
    *np = n;
    return ddevs;
}

static void
daemon_free_devs(struct ddev *devs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(devs[i].fns);
    }
    free(devs);
}

/* Whether function 'info' is one of the built-in layout of its device's
 * PF (a static function), not a hotplugged one. */
static bool
daemon_fn_is_static(const struct ddev *d, const struct esw_vport_info *info)
{
    struct eswitch_fn_id ids[64];
    uint32_t pf = 0;
    size_t n;

    for (size_t i = 0; i < d->n_fns; i++) {
        if (d->fns[i].info.kind == ESW_VPORT_PF) {
            pf = d->fns[i].info.pf;
        }
    }
    n = eswitch_default_layout(pf, ids, ARRAY_SIZE(ids));
    for (size_t i = 0; i < n; i++) {
        char name[ESW_NAME_MAX];

        eswitch_format_fn_name(&ids[i], name);
        if (!strcmp(name, info->name)) {
            return true;
        }
    }
    return false;
}

static struct json *
daemon_fn_json(const struct ddev *d, const struct dfn *fn)
{
    const struct esw_vport_info *info = &fn->info;
    struct json *json = json_object_create();
    const struct esw_eth_addr *m = &info->mac;

    json_object_put_string(json, "eswitch", d->name);
    json_object_put_string(json, "function", info->name);
    json_object_put(json, "vport", json_integer_create(info->vport));
    json_object_put_string(json, "kind",
                           eswitch_kind_to_string(info->kind, info->fn));
    json_object_put_string(json, "origin", (daemon_fn_is_static(d, info)
                                            ? "static" : "hotplug"));
    json_object_put_format(json, "mac", "%02x:%02x:%02x:%02x:%02x:%02x",
                           m->ea[0], m->ea[1], m->ea[2], m->ea[3], m->ea[4],
                           m->ea[5]);
    json_object_put(json, "mtu", json_integer_create(info->mtu));
    if (info->kind == ESW_VPORT_SF && info->fn >= ESW_SF_VIRTIO_MIN) {
        json_object_put(json, "queues",
                        json_integer_create(info->n_rep_queues));
    }
    json_object_put_string(json, "host_side",
                           esw_io_type_name(fn->host.type));
    json_object_put_string(json, "link", info->oper_up ? "up" : "down");
    json_object_put_string(json, "client", (d->attached ? "ovs-vswitchd"
                                            : "none"));
    return json;
}

/* Finds the function 'spec' names ("FUNCTION" or "ESWITCH/FUNCTION", a
 * name or a vport number) in 'devs', as ovs-vswitchd does.  Exits with its
 * errors. */
static void
daemon_resolve(const char *spec, struct ddev *devs, size_t n_devs,
               struct ddev **devp, struct dfn **fnp)
{
    const char *slash = strchr(spec, '/');
    const char *fn = slash ? slash + 1 : spec;
    bool is_index = fn[0] && strspn(fn, "0123456789") == strlen(fn);
    struct ds matches = DS_EMPTY_INITIALIZER;
    bool esw_found = !slash;
    uint32_t index = 0;
    size_t n_found = 0;
    struct echo_buf b;

    if (is_index && !value_parse_uint(fn, 0, UINT32_MAX, &index)) {
        daemon_refuse("no such function \"%s\"", echo_arg(spec, &b));
    }
    for (size_t i = 0; i < n_devs; i++) {
        struct ddev *d = &devs[i];

        if (slash && (strlen(d->name) != (size_t) (slash - spec)
                      || strncmp(d->name, spec, slash - spec))) {
            continue;
        }
        esw_found = true;
        for (size_t j = 0; j < d->n_fns; j++) {
            if (is_index ? d->fns[j].info.vport == index
                : !strcmp(d->fns[j].info.name, fn)) {
                ds_put_format(&matches, "%s%s/%s", n_found ? ", " : "",
                              d->name, fn);
                *devp = d;
                *fnp = &d->fns[j];
                n_found++;
            }
        }
    }
    if (!esw_found) {
        daemon_refuse_no_eswitch(xmemdup0(spec, slash - spec), devs, n_devs);
    } else if (!n_found) {
        daemon_refuse("no such function \"%s\"", echo_arg(spec, &b));
    } else if (n_found > 1) {
        daemon_refuse("\"%s\" is ambiguous: qualify it with its eswitch (%s)",
                  echo_arg(spec, &b), ds_cstr(&matches));
    }
    ds_destroy(&matches);
}

static void
daemon_list(void)
{
    struct json *json = json_object_create();
    struct json *fns = json_array_create_empty();
    size_t n_devs;
    struct ddev *devs = daemon_get_devs(&n_devs);
    char *s;

    for (size_t i = 0; i < n_devs; i++) {
        for (size_t j = 0; j < devs[i].n_fns; j++) {
            json_array_add(fns, daemon_fn_json(&devs[i], &devs[i].fns[j]));
        }
    }
    json_object_put(json, "functions", fns);
    s = json_to_string(json, 0);
    print_list(s);
    free(s);
    json_destroy(json);
    daemon_free_devs(devs, n_devs);
}

static void
daemon_query(const char *spec)
{
    size_t n_devs;
    struct ddev *devs = daemon_get_devs(&n_devs);
    struct ddev *d = NULL;
    struct dfn *fn = NULL;
    struct json *json;
    char *s;

    daemon_resolve(spec, devs, n_devs, &d, &fn);
    json = daemon_fn_json(d, fn);
    s = json_to_string(json, 0);
    print_function_reply(s);
    free(s);
    json_destroy(json);
    daemon_free_devs(devs, n_devs);
}

OVS_NO_RETURN static void
daemon_controlled(const char *dev, const char *what)
{
    fprintf(stderr, "ovs-eswitchctl: eswitch %s is controlled by "
            "ovs-vswitchd: %s through it (ovs-eswitchctl %s, without "
            "--daemon)\n", dev, what, what);
    exit(2);
}

static void
put_mac_json(struct ds *s, const struct esw_eth_addr *m)
{
    ds_put_format(s, "%02x:%02x:%02x:%02x:%02x:%02x", m->ea[0], m->ea[1],
                  m->ea[2], m->ea[3], m->ea[4], m->ea[5]);
}

/* hotplug vf|virtio [--eswitch E] [--pf N] [--mac MAC] [--mtu N]
 * [--queues N] in the daemon: the values checked as ovs-vswitchd does. */
static void
daemon_hotplug(int argc, char *argv[])
{
    struct esw_rw_daemon_hotplug *req = xzalloc(sizeof *req);
    struct eswitch_fn_id ids[ESW_RPROTO_MAX_FUNCTIONS];
    const char *eswitch = NULL, *type;
    bool has_pf = false, has_mac = false, virtio;
    enum esw_io_type io_type = ESW_IO_TAP;
    bool io_fallback = true;
    uint32_t pf = 0, mtu = 0, queues = 0, first, last;
    struct esw_eth_addr mac;
    struct esw_rw_error_u32 w;
    struct eswitch_fn_id id;
    char name[ESW_NAME_MAX];
    struct echo_buf b;
    struct ddev d;
    size_t n_ids, len;
    uint8_t *reply;
    bool exists;
    int result;

    if (argc < 1) {
        ovs_fatal(0, "usage: hotplug vf|virtio [OPTIONS]");
    }
    type = argv[0];
    if (strcmp(type, "vf") && strcmp(type, "virtio")) {
        daemon_refuse("unknown device type \"%s\": expected vf or virtio",
                  echo_arg(type, &b));
    }
    virtio = !strcmp(type, "virtio");
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        char *error = NULL;

        if (!strcmp(opt, "--vhost-user") || !strcmp(opt, "--client")
            || !strcmp(opt, "--add-port") || !strcmp(opt, "--features")) {
            ovs_fatal(0, "%s needs ovs-vswitchd (%s): not with --daemon", opt,
                      !strcmp(opt, "--add-port") ? "a bridge port"
                      : !strcmp(opt, "--features") ? "it keeps the offered "
                      "features" : "vhost-user host sides are in its "
                      "process");
        } else if (strcmp(opt, "--eswitch") && strcmp(opt, "--pf")
                   && strcmp(opt, "--mac") && strcmp(opt, "--mtu")
                   && strcmp(opt, "--queues") && strcmp(opt, "--host-io")) {
            ovs_fatal(0, "unknown option \"%s\"", echo_arg(opt, &b));
        } else if (!value) {
            ovs_fatal(0, "%s needs a value", opt);
        }
        i++;
        if (!strcmp(opt, "--eswitch")) {
            eswitch = value;
        } else if (!strcmp(opt, "--host-io")) {
            /* other_config:eswitch-host-io's values but vhost-user. */
            io_fallback = !strcmp(value, "auto");
            io_type = !strcmp(value, "capture") ? ESW_IO_CAPTURE : ESW_IO_TAP;
            if (!io_fallback && strcmp(value, "tap")
                && strcmp(value, "capture")) {
                error = value_invalid("--host-io", value, "auto, tap or "
                                      "capture");
            }
        } else if (!strcmp(opt, "--pf")) {
            if (!value_parse_uint(value, 0, ESWITCH_MAX_PFS - 1, &pf)) {
                error = value_invalid("--pf", value, "0..%d",
                                      ESWITCH_MAX_PFS - 1);
            }
            has_pf = true;
        } else if (!strcmp(opt, "--mac")) {
            if (!value_parse_mac(value, &mac)) {
                error = value_invalid("--mac", value, "xx:xx:xx:xx:xx:xx");
            }
            has_mac = true;
        } else if (!strcmp(opt, "--mtu")) {
            if (!value_parse_uint(value, ESWITCH_MIN_MTU, ESWITCH_MAX_MTU,
                                  &mtu)) {
                error = value_invalid("--mtu", value, "%d..%d",
                                      ESWITCH_MIN_MTU, ESWITCH_MAX_MTU);
            }
        } else if (!value_parse_uint(value, 1, ESWITCH_MAX_QUEUES,
                                     &queues)) {
            error = value_invalid("--queues", value, "1..%d",
                                  ESWITCH_MAX_QUEUES);
        }
        if (error) {
            die_server_error(error);
        }
    }
    if (!virtio && queues) {
        daemon_refuse("--queues applies only to virtio devices");
    }
    if (has_mac) {
        char *error;

        if (eswitch_check_fn_mac(&mac, &error)) {
            die_server_error(error);
        }
    }

    /* The device, and the PF it serves. */
    if (eswitch) {
        exists = daemon_get_dev(eswitch, &d);
        if (!exists) {
            /* As ovs-vswitchd: a management command creates no eSwitch by
             * name (a typo would make one with the MACs of another). */
            size_t n_devs;
            struct ddev *devs = daemon_get_devs(&n_devs);

            daemon_refuse_no_eswitch(eswitch, devs, n_devs);
        }
        for (size_t i = 0; i < d.n_fns; i++) {
            if (d.fns[i].info.kind == ESW_VPORT_PF) {
                if (has_pf && d.fns[i].info.pf != pf) {
                    daemon_refuse("eswitch %s serves PF %"PRIu32", not PF %"
                              PRIu32, eswitch, d.fns[i].info.pf, pf);
                }
                pf = d.fns[i].info.pf;
            }
        }
        ovs_strlcpy(name, eswitch, sizeof name);
    } else {
        eswitch_default_name(pf, name);
        exists = daemon_get_dev(name, &d);
    }
    if (d.attached) {
        daemon_controlled(name, "hotplug");
    }

    /* The layout ovs-vswitchd gives the device, then the new function with
     * the lowest free number (of the layout's or the device's). */
    n_ids = eswitch_default_layout(pf, ids, ARRAY_SIZE(ids) - 1);
    id = (struct eswitch_fn_id) { virtio ? ESW_VPORT_SF : ESW_VPORT_VF, pf,
                                  0 };
    first = virtio ? ESW_SF_VIRTIO_MIN : 0;
    last = virtio ? ESWITCH_MAX_SF : ESWITCH_MAX_VFS - 1;
    for (id.fn = first; id.fn <= last; id.fn++) {
        bool used = false;

        for (size_t i = 0; i < n_ids && !used; i++) {
            used = ids[i].kind == id.kind && ids[i].fn == id.fn;
        }
        for (size_t i = 0; i < d.n_fns && !used; i++) {
            used = (d.fns[i].info.kind == id.kind
                    && d.fns[i].info.pf == pf && d.fns[i].info.fn == id.fn);
        }
        if (!used) {
            break;
        }
    }
    if (id.fn > last) {
        daemon_refuse("eswitch %s has no free %s number (%"PRIu32"..%"PRIu32
                  " are taken)", name, virtio ? "virtio SF" : "VF", first,
                  last);
    }
    if (!has_mac) {
        mac = eswitch_default_mac(id.kind, id.pf, id.fn);
    }
    for (size_t i = 0; i < d.n_fns + n_ids; i++) {
        char other[ESW_NAME_MAX];
        struct esw_eth_addr m;

        if (i < d.n_fns) {
            m = d.fns[i].info.mac;
            ovs_strlcpy(other, d.fns[i].info.name, sizeof other);
        } else {
            m = eswitch_default_mac(ids[i - d.n_fns].kind, pf,
                                    ids[i - d.n_fns].fn);
            eswitch_format_fn_name(&ids[i - d.n_fns], other);
        }
        if (!memcmp(&m, &mac, sizeof m)) {
            struct ds s = DS_EMPTY_INITIALIZER;

            ds_put_cstr(&s, "MAC ");
            put_mac_json(&s, &mac);
            ds_put_format(&s, " is already used by function %s of eswitch "
                          "%s%s", other, name,
                          has_mac ? "" : ": choose one with --mac");
            die_server_error(ds_cstr(&s));
        }
    }
    ids[n_ids++] = id;

    /* The device as ovs-vswitchd opens it (eswitch_create__()). */
    ovs_strlcpy(req->open.name, name, sizeof req->open.name);
    req->open.cfg.max_vports = ESWITCH_MAX_VPORTS;
    req->open.has_emu = 1;
    req->tap_fallback = io_fallback;
    req->n = n_ids;
    for (size_t i = 0; i < n_ids; i++) {
        struct esw_rw_vport_add *a = &req->fns[i];
        bool is_new = i + 1 == n_ids;
        bool fn_virtio = (ids[i].kind == ESW_VPORT_SF
                          && ids[i].fn >= ESW_SF_VIRTIO_MIN);

        a->cfg.kind = ids[i].kind;
        a->cfg.pf = ids[i].pf;
        a->cfg.fn = ids[i].fn;
        a->cfg.vport = ESW_VPORT_AUTO;
        a->cfg.mac = (is_new ? mac
                      : eswitch_default_mac(ids[i].kind, ids[i].pf,
                                            ids[i].fn));
        a->cfg.mtu = is_new ? mtu : 0;
        a->cfg.admin_down = true;
        a->cfg.n_rep_queues = (is_new && fn_virtio
                               ? MIN(MAX(queues, 1), ESW_MAX_REP_QUEUES)
                               : 1);
        a->has_io = 1;
        a->io.type = io_type;
    }
    reply = eswitchd_transact(ESW_ROP_DAEMON_HOTPLUG, req, sizeof *req,
                              &result, &len);
    free(req);
    if (len != sizeof w) {
        if (result == EBUSY) {
            daemon_controlled(name, "hotplug");
        }
        ovs_fatal(0, "ovs-eswitchd: hotplug: %s",
                  result ? ovs_strerror(result) : "malformed reply");
    }
    memcpy(&w, reply, sizeof w);
    free(reply);
    if (result == EBUSY) {
        daemon_controlled(name, "hotplug");
    } else if (result) {
        char fn_name[ESW_NAME_MAX];

        eswitch_format_fn_name(&id, fn_name);
        if (esw_rproto_check_string(w.err.reason, sizeof w.err.reason)) {
            ovs_fatal(0, "ovs-eswitchd: hotplug: malformed reply");
        }
        daemon_refuse("%s: cannot add function %s: %s", name, fn_name,
                  w.err.reason[0] ? w.err.reason : ovs_strerror(result));
    }
    free(d.fns);
    {
        char *spec = xasprintf("%s/%"PRIu32, name, w.value);

        daemon_query(spec);
        free(spec);
    }
}

static void
daemon_unplug(int argc, char *argv[])
{
    struct esw_rw_daemon_unplug req;
    const char *spec = NULL;
    struct ddev *d = NULL;
    struct dfn *fn = NULL;
    struct ddev *devs;
    size_t n_devs, len;
    uint8_t *reply;
    int result;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--force")) {
            ovs_fatal(0, "--force removes the function's port through "
                      "ovs-vswitchd: not with --daemon");
        } else if (!spec && argv[i][0] != '-') {
            spec = argv[i];
        } else {
            ovs_fatal(0, "usage: unplug FUNCTION [--force]");
        }
    }
    if (!spec) {
        ovs_fatal(0, "usage: unplug FUNCTION [--force]");
    }
    devs = daemon_get_devs(&n_devs);
    daemon_resolve(spec, devs, n_devs, &d, &fn);
    if (d->attached) {
        daemon_controlled(d->name, "unplug");
    }
    if (daemon_fn_is_static(d, &fn->info)) {
        daemon_refuse("%s is a static function of eswitch %s: only "
                  "hotplugged functions can be unplugged", fn->info.name,
                  d->name);
    }
    memset(&req, 0, sizeof req);
    ovs_strlcpy(req.name, d->name, sizeof req.name);
    req.vport = fn->info.vport;
    reply = eswitchd_transact(ESW_ROP_DAEMON_UNPLUG, &req, sizeof req,
                              &result, &len);
    free(reply);
    if (result == EBUSY) {
        daemon_controlled(d->name, "unplug");
    } else if (result) {
        ovs_fatal(0, "ovs-eswitchd: unplug %s/%s: %s", d->name,
                  fn->info.name, ovs_strerror(result));
    }
    daemon_free_devs(devs, n_devs);
}

/* Checks the MACs that 'cfg' (of 'file_name') gives its static functions
 * against those of the running ovs-vswitchd's functions, except the static
 * functions of the eSwitches the file replaces.  Exits with status 1 and a
 * message naming both functions on the first collision. */
static void
validate_against_running(const char *file_name,
                         const struct eswitch_file_config *cfg)
{
    struct jsonrpc *client = connect_to_target(false);
    const struct json_array *fns;
    struct eswitch_file_mac *macs;
    struct json *json;
    char *reply, *error;
    size_t n_macs;

    if (!client) {
        return;                 /* Not running: offline checks only. */
    }
    reply = transact__(client, "eswitch/list", 0, NULL, &error);
    if (!reply) {
        die_server_error(error);
    }
    json = parse_reply(reply);
    fns = json_array(shash_find_data(json_object(json), "functions"));
    n_macs = eswitch_file_config_macs(cfg, &macs);
    for (size_t i = 0; i < fns->n; i++) {
        const struct json *fn = fns->elems[i];
        const struct json *pf = shash_find_data(json_object(fn), "pf");
        struct esw_eth_addr mac;
        bool replaced = false;

        if (!value_parse_mac(get_str(fn, "mac"), &mac)) {
            continue;
        }
        for (size_t j = 0; j < cfg->n_pfs; j++) {
            replaced |= (pf && pf->type == JSON_INTEGER
                         && pf->integer == cfg->pfs[j].pf
                         && !strcmp(get_str(fn, "origin"), "static"));
        }
        for (size_t j = 0; j < n_macs && !replaced; j++) {
            if (!memcmp(&macs[j].mac, &mac, sizeof mac)
                && (strcmp(macs[j].eswitch, get_str(fn, "eswitch"))
                    || strcmp(macs[j].function, get_str(fn, "function")))) {
                fprintf(stderr, "%s: %s: MAC %s of %s is already used by "
                        "function %s of eswitch %s\n", file_name,
                        macs[j].field, get_str(fn, "mac"), macs[j].function,
                        get_str(fn, "function"), get_str(fn, "eswitch"));
                exit(1);
            }
        }
    }
    free(macs);
    json_destroy(json);
    free(reply);
}

/* Validates a configuration file offline, with the daemon's messages, and
 * against the running daemon's functions if there is one. */
static void
cmd_validate(int argc, char *argv[])
{
    struct eswitch_file_config cfg;
    char *error;

    if (argc != 1) {
        ovs_fatal(0, "usage: validate FILE");
    }
    if (eswitch_file_config_read(argv[0], &cfg, &error)) {
        fprintf(stderr, "%s\n", error);
        free(error);
        exit(1);
    }
    validate_against_running(argv[0], &cfg);
    printf("%s: valid: %"PRIuSIZE" PFs\n", argv[0], cfg.n_pfs);
    eswitch_file_config_destroy(&cfg);
}

static const struct {
    const char *name;
    void (*handler)(int argc, char *argv[]);
} commands[] = {
    { "list", cmd_list },
    { "query", cmd_query },
    { "hotplug", cmd_hotplug },
    { "unplug", cmd_unplug },
    { "modify", cmd_modify },
    { "log", cmd_log },
    { "version", cmd_version },
    { "config", cmd_config },
    { "validate", cmd_validate },
    { "daemon-status", cmd_daemon_status },
    { "update", cmd_update },
};

static void
usage(void)
{
    printf("%s: manage the functions of ovs-ext eSwitches\n"
           "usage: %s [OPTIONS] COMMAND [ARG...]\n"
           "\nCommands:\n"
           "  list                       functions of every eSwitch\n"
           "  query FUNCTION             one function\n"
           "  hotplug vf|virtio [--eswitch E] [--pf N] [--mac MAC] "
           "[--mtu N]\n"
           "          [--queues N] [--features HEX] [--add-port BRIDGE]\n"
           "          [--vhost-user PATH [--client]]\n"
           "  unplug FUNCTION [--force]  remove a hotplugged function\n"
           "  modify FUNCTION [--mac MAC] [--mtu N] "
           "[--link-state auto|up|down]\n"
           "          [--queues N] [--features HEX]\n"
           "  log [--level info|err|warn|debug]\n"
           "  config                     management settings in force\n"
           "  validate FILE              check a configuration file\n"
           "  version\n"
           "  daemon-status              the device daemon ovs-eswitchd\n"
           "  update --start [--binary PATH]\n"
           "                             live update of ovs-eswitchd\n"
           "  update --status            the last live update\n"
           "FUNCTION is a name (pf0vf2, pf0sf1000) or a vport number,\n"
           "optionally qualified by its eSwitch (esw0/pf0vf2, esw0/3).\n"
           "\nOptions:\n"
           "  -t, --target=TARGET        pidfile or socket of ovs-vswitchd\n"
           "  --socket=PATH              ovs-eswitchd's control socket\n"
           "                             (daemon-status, update, --daemon)\n"
           "  --daemon                   hotplug, unplug, list, query: the\n"
           "                             devices of ovs-eswitchd (no\n"
           "                             ovs-vswitchd needed)\n"
           "  -T, --timeout=SECS         give up after SECS seconds\n"
           "                             (default $OVS_CTL_TIMEOUT, else %d)\n"
           "  --json                     JSON output\n"
           "  -h, --help                 display this help message\n"
           "  -V, --version              display version information\n",
           program_name, program_name, DEFAULT_TIMEOUT);
    exit(EXIT_SUCCESS);
}

int
main(int argc, char *argv[])
{
    enum { OPT_JSON = UCHAR_MAX + 1, OPT_SOCKET, OPT_DAEMON };
    static const struct option long_options[] = {
        {"target", required_argument, NULL, 't'},
        {"timeout", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, OPT_JSON},
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"daemon", no_argument, NULL, OPT_DAEMON},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    char *short_options, *options;
    const char *cmd;

    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    options = ovs_cmdl_long_options_to_short_options(long_options);
    short_options = xasprintf("+%s", options);
    free(options);
    for (;;) {
        int c = getopt_long(argc, argv, short_options, long_options, NULL);

        if (c == -1) {
            break;
        }
        switch (c) {
        case 't':
            target = optarg;
            break;
        case 'T':
            if (!value_parse_uint(optarg, 1, UINT32_MAX, &timeout_secs)) {
                ovs_fatal(0, "invalid --timeout \"%s\": expected a number "
                          "of seconds (1 or more)", optarg);
            }
            break;
        case OPT_JSON:
            json_output = true;
            break;
        case OPT_SOCKET:
            eswitchd_socket = optarg;
            break;
        case OPT_DAEMON:
            daemon_mode = true;
            break;
        case 'h':
            usage();
        case 'V':
            printf("ovs-eswitchctl (ovs-ext) %s\n", OVS_EXT_VERSION);
            exit(EXIT_SUCCESS);
        case '?':
            exit(EXIT_FAILURE);
        default:
            OVS_NOT_REACHED();
        }
    }
    free(short_options);
    if (!timeout_secs) {
        const char *env = getenv("OVS_CTL_TIMEOUT");

        if (!env || !value_parse_uint(env, 1, UINT32_MAX, &timeout_secs)) {
            timeout_secs = DEFAULT_TIMEOUT;
        }
    }
    deadline = time_msec() + timeout_secs * 1000LL;

    if (optind >= argc) {
        ovs_fatal(0, "missing command name; use --help for help");
    }
    cmd = argv[optind++];
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(commands[i].name, cmd)) {
            commands[i].handler(argc - optind, argv + optind);
            return 0;
        }
    }
    ovs_fatal(0, "unknown command \"%s\"; use --help for help", cmd);
}
