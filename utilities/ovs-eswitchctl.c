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

#include "ovs-ext/eswitch-config.h"
#include "ovs-ext/values.h"

#include "esw-remote-proto.h"

extern char **environ;

static const char *target = "ovs-vswitchd";
static bool json_output;

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

static void
cmd_list(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
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
    char *reply = transact_or_die("eswitch/list", 0, NULL);
    const struct json_array *fns;
    size_t width[N_COLS];
    struct json *json;
    char ***cells;

    if (json_output) {
        print_json(reply);
        free(reply);
        return;
    }
    json = parse_reply(reply);
    fns = json_array(shash_find_data(json_object(json), "functions"));
    cells = xcalloc(fns->n, sizeof *cells);
    for (size_t c = 0; c < N_COLS; c++) {
        width[c] = strlen(cols[c].title);
    }
    for (size_t i = 0; i < fns->n; i++) {
        cells[i] = xcalloc(N_COLS, sizeof *cells[i]);
        for (size_t c = 0; c < N_COLS; c++) {
            cells[i][c] = get_val(fns->elems[i], cols[c].key);
            width[c] = MAX(width[c], strlen(cells[i][c]));
        }
    }
    for (size_t c = 0; c < N_COLS; c++) {
        if (c + 1 < N_COLS) {
            printf("%-*s  ", (int) width[c], cols[c].title);
        } else {
            printf("%s\n", cols[c].title);
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
    if (!fns->n) {
        fprintf(stderr, "ovs-eswitchctl: no eswitch is up yet: one comes up "
                "with the first port of its functions, a hotplug or the "
                "configuration file\n");
    }
    free(cells);
    json_destroy(json);
    free(reply);
}

static void
cmd_query(int argc, char *argv[])
{
    char *reply;

    if (argc != 1) {
        ovs_fatal(0, "usage: query FUNCTION");
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
    char **args = xcalloc(argc + 1, sizeof *args);
    int n_args = 0;
    char *reply;

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
           "                             (daemon-status, update)\n"
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
    enum { OPT_JSON = UCHAR_MAX + 1, OPT_SOCKET };
    static const struct option long_options[] = {
        {"target", required_argument, NULL, 't'},
        {"timeout", required_argument, NULL, 'T'},
        {"json", no_argument, NULL, OPT_JSON},
        {"socket", required_argument, NULL, OPT_SOCKET},
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
