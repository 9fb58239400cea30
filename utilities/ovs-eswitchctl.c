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
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "command-line.h"
#include "daemon.h"
#include "dirs.h"
#include "jsonrpc.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "unixctl.h"
#include "util.h"

#include "ovs-ext/eswitch-config.h"

extern char **environ;

static const char *target = "ovs-vswitchd";
static bool json_output;

OVS_NO_RETURN static void usage(void);

/* Talking to ovs-vswitchd.
 * ======================== */

static struct jsonrpc *
connect_to_target(void)
{
    struct jsonrpc *client;
    char *socket_name;
    int error;

    if (target[0] != '/') {
        char *pidfile_name = xasprintf("%s/%s.pid", ovs_rundir(), target);
        pid_t pid = read_pidfile(pidfile_name);

        if (pid < 0) {
            ovs_fatal(-pid, "cannot read pidfile \"%s\" (is ovs-vswitchd "
                      "running?)", pidfile_name);
        }
        free(pidfile_name);
        socket_name = xasprintf("%s/%s.%ld.ctl", ovs_rundir(), target,
                                (long int) pid);
    } else {
        socket_name = xstrdup(target);
    }
    error = unixctl_client_create(socket_name, &client);
    if (error) {
        ovs_fatal(error, "cannot connect to \"%s\"", socket_name);
    }
    free(socket_name);
    return client;
}

/* Runs unixctl 'cmd' with 'argv' on the target.  Returns the result
 * (malloc'd) or NULL with the server's error in '*errorp'. */
static char *
transact(const char *cmd, int argc, char *argv[], char **errorp)
{
    struct jsonrpc *client = connect_to_target();
    char *result = NULL, *error = NULL;
    int retval;

    retval = unixctl_client_transact(client, (char *) cmd, argc, argv,
                                     &result, &error);
    jsonrpc_close(client);
    if (retval) {
        ovs_fatal(retval, "%s: transaction error", target);
    }
    *errorp = error;
    if (error) {
        free(result);
        return NULL;
    }
    return result;
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

/* Prints a function as "key: value" lines. */
static void
print_function(const struct json *fn)
{
    static const char *const keys[] = {
        "eswitch", "function", "index", "kind", "origin", "mac", "mtu",
        "features", "queues", "host_side", "vhost_path", "vhost_mode",
        "guest", "negotiated", "link_state", "link", "port", NULL
    };

    for (const char *const *k = keys; *k; k++) {
        if (shash_find(json_object(fn), *k)) {
            char *v = get_val(fn, *k);
            char key[32];

            snprintf(key, sizeof key, "%s:", *k);
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
        { "eswitch", "ESWITCH" }, { "index", "INDEX" },
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

/* Runs ovs-vsctl with 'args' (NULL-terminated); dies if it fails. */
static void
run_vsctl(const char *const args[])
{
    struct ds cmd = DS_EMPTY_INITIALIZER;
    char **argv;
    size_t n = 0;
    int status;
    pid_t pid;
    int error;

    while (args[n]) {
        n++;
    }
    argv = xcalloc(n + 2, sizeof *argv);
    argv[0] = (char *) "ovs-vsctl";
    ds_put_cstr(&cmd, "ovs-vsctl");
    for (size_t i = 0; i < n; i++) {
        argv[i + 1] = (char *) args[i];
        ds_put_format(&cmd, " %s", args[i]);
    }
    error = posix_spawnp(&pid, "ovs-vsctl", NULL, NULL, argv, environ);
    free(argv);
    if (error) {
        ovs_fatal(error, "cannot run \"%s\"", ds_cstr(&cmd));
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)
        || WEXITSTATUS(status)) {
        ovs_fatal(0, "\"%s\" failed", ds_cstr(&cmd));
    }
    ds_destroy(&cmd);
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
    reply = transact_or_die("eswitch/hotplug", n_args, args);
    free(args);
    if (bridge) {
        struct json *json = parse_reply(reply);
        char *name = xstrdup(get_str(json, "function"));
        const char *type = (!strcmp(get_str(json, "kind"), "vf")
                            ? "type=esw-vf" : "type=esw-virtio");
        const char *vsctl[] = { "add-port", bridge, name, "--", "set",
                                "Interface", name, type, NULL };

        run_vsctl(vsctl);
        json_destroy(json);
        free(reply);
        reply = transact_or_die("eswitch/query", 1, &name);
        free(name);
    }
    print_function_reply(reply);
    free(reply);
}

static void
sleep_msec(long msec)
{
    struct timespec ts = { msec / 1000, (msec % 1000) * 1000000 };

    nanosleep(&ts, NULL);
}

static void
cmd_unplug(int argc, char *argv[])
{
    const char *dev = NULL;
    bool force = false;
    char *reply, *error;

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
        /* Detach the representor from its bridge first, the way an operator
         * would: OVS then removes its flows, offloaded rules, MACs and
         * policy, and releases the function. */
        struct json *json;
        char *port;

        reply = transact_or_die("eswitch/query", 1, (char **) &dev);
        json = parse_reply(reply);
        port = get_val(json, "port");
        if (strcmp(port, "-")) {
            const char *vsctl[] = { "--if-exists", "del-port", port, NULL };

            run_vsctl(vsctl);
        }
        free(port);
        json_destroy(json);
        free(reply);
    }
    for (int tries = 0; ; tries++) {
        reply = transact("eswitch/unplug", 1, (char **) &dev, &error);
        if (reply || !force || tries >= 100 || !strstr(error, "in use")) {
            break;
        }
        /* The port is going away: give ovs-vswitchd a moment. */
        free(error);
        sleep_msec(50);
    }
    if (!reply) {
        die_server_error(error);
    }
    free(reply);
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
        "eswitch", NULL
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

                if (sscanf(line, "eswitch %15s %15s %15s", console, syslog,
                           file) == 3) {
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

/* Validates a configuration file offline, with the daemon's messages. */
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
           "FUNCTION is a name (pf0vf2, pf0sf1000) or an index, optionally\n"
           "qualified by its eSwitch (esw0/pf0vf2, esw0/3).\n"
           "\nOptions:\n"
           "  -t, --target=TARGET        pidfile or socket of ovs-vswitchd\n"
           "  --json                     JSON output\n"
           "  -h, --help                 display this help message\n"
           "  -V, --version              display version information\n",
           program_name, program_name);
    exit(EXIT_SUCCESS);
}

int
main(int argc, char *argv[])
{
    enum { OPT_JSON = UCHAR_MAX + 1 };
    static const struct option long_options[] = {
        {"target", required_argument, NULL, 't'},
        {"json", no_argument, NULL, OPT_JSON},
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
        case OPT_JSON:
            json_output = true;
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
