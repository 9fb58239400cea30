/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-vswitchd with the ovs-ext extension.
 *
 * This is a drop-in replacement for Open vSwitch 3.1.0's ovs-vswitchd: the
 * same command line, the same bridge/ofproto main loop from OVS's libraries
 * (vswitchd/bridge.o), and one extra step, ovs_ext_register(), that adds the
 * eSwitch interface types, the flow offload provider and the eswitch/...
 * unixctl commands before the database is first read.  Everything that is
 * not ovs-ext's behaves as the stock daemon does. */

#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bridge.h"
#include "command-line.h"
#include "daemon.h"
#include "dirs.h"
#include "dpdk.h"
#include "dpif.h"
#include "dummy.h"
#include "fatal-signal.h"
#include "memory.h"
#include "netdev.h"
#include "ovs-numa.h"
#include "ovs-rcu.h"
#include "ovs-router.h"
#include "ovs-thread.h"
#include "simap.h"
#include "stream-ssl.h"
#include "stream.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"
#include "lib/dns-resolve.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"

#include "ovs-ext/eswitch.h"
#include "ovs-ext/ovs-ext.h"

VLOG_DEFINE_THIS_MODULE(vswitchd);

/* What the command line asked for, beyond what OVS's own option handlers
 * (daemon, vlog, SSL) record themselves. */
struct vswitchd_options {
    char *db_remote;            /* Database to connect to (owned). */
    const char *unixctl_path;   /* --unixctl, or NULL for the default. */
    bool mlockall;              /* --mlockall. */
    const char *eswitch_config; /* --eswitch-config, or NULL. */
    const char *eswitch_state_dir;  /* --eswitch-state-dir, or NULL. */
    bool eswitch_reset;         /* --eswitch-reset. */
};

/* State of the "exit" unixctl command. */
struct vswitchd_exit_request {
    bool requested;             /* Leave the main loop. */
    bool cleanup;               /* "exit --cleanup": delete datapaths too. */
};

static void parse_command_line(int argc, char *argv[],
                               struct vswitchd_options *);
OVS_NO_RETURN static void print_usage(void);
static unixctl_cb_func vswitchd_unixctl_exit;

static void
lock_memory(void)
{
    if (mlockall(MCL_CURRENT | MCL_FUTURE)) {
        VLOG_ERR("mlockall failed: %s", ovs_strerror(errno));
    } else {
        set_memory_locked();
    }
}

static void
report_memory_usage(void)
{
    struct simap usage;

    simap_init(&usage);
    bridge_get_memory_usage(&usage);
    memory_report(&usage);
    simap_destroy(&usage);
}

int
main(int argc, char *argv[])
{
    struct vswitchd_options opts = { .db_remote = NULL };
    struct vswitchd_exit_request exit_req = { .requested = false };
    struct unixctl_server *unixctl;

    set_program_name(argv[0]);
    ovsthread_id_init();
    dns_resolve_init(true);
    ovs_cmdl_proctitle_init(argc, argv);
    service_start(&argc, &argv);
    parse_command_line(argc, argv, &opts);
    fatal_ignore_sigpipe();

    daemonize_start(true);
    if (opts.mlockall) {
        lock_memory();
    }

    if (unixctl_server_create(opts.unixctl_path, &unixctl)) {
        exit(EXIT_FAILURE);
    }
    unixctl_command_register("exit", "[--cleanup]", 0, 1,
                             vswitchd_unixctl_exit, &exit_req);

    /* The extension's types and commands must exist before bridge_init()
     * reads the database for the first time. */
    ovs_ext_register();
    eswitch_set_mgmt_options(opts.eswitch_config, opts.eswitch_state_dir,
                             opts.eswitch_reset);

    bridge_init(opts.db_remote);
    free(opts.db_remote);

    while (!exit_req.requested) {
        memory_run();
        if (memory_should_report()) {
            report_memory_usage();
        }
        bridge_run();
        unixctl_server_run(unixctl);
        netdev_run();

        memory_wait();
        bridge_wait();
        ovs_ext_wait();
        unixctl_server_wait(unixctl);
        netdev_wait();
        if (exit_req.requested) {
            poll_immediate_wake();
        }
        poll_block();
        if (should_service_stop()) {
            exit_req.requested = true;
        }
    }

    ovs_ext_exit(exit_req.cleanup);
    bridge_exit(exit_req.cleanup);
    unixctl_server_destroy(unixctl);
    service_stop();
    vlog_disable_async();
    ovsrcu_exit();
    dns_resolve_destroy();
    return 0;
}

static void
print_version(void)
{
    ovs_print_version(0, 0);
    print_dpdk_version();
    printf("ovs-ext %s\n", ovs_ext_version());
}

static void
parse_command_line(int argc, char *argv[], struct vswitchd_options *opts)
{
    enum {
        OPT_PEER_CA_CERT = UCHAR_MAX + 1,
        OPT_MLOCKALL,
        OPT_UNIXCTL,
        VLOG_OPTION_ENUMS,
        OPT_BOOTSTRAP_CA_CERT,
        OPT_ENABLE_DUMMY,
        OPT_DISABLE_SYSTEM,
        OPT_DISABLE_SYSTEM_ROUTE,
        DAEMON_OPTION_ENUMS,
        OPT_DPDK,
        SSL_OPTION_ENUMS,
        OPT_DUMMY_NUMA,
        OPT_ESWITCH_CONFIG,
        OPT_ESWITCH_STATE_DIR,
        OPT_ESWITCH_RESET,
    };
    static const struct option long_options[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"mlockall", no_argument, NULL, OPT_MLOCKALL},
        {"unixctl", required_argument, NULL, OPT_UNIXCTL},
        DAEMON_LONG_OPTIONS,
        VLOG_LONG_OPTIONS,
        STREAM_SSL_LONG_OPTIONS,
        {"peer-ca-cert", required_argument, NULL, OPT_PEER_CA_CERT},
        {"bootstrap-ca-cert", required_argument, NULL, OPT_BOOTSTRAP_CA_CERT},
        {"enable-dummy", optional_argument, NULL, OPT_ENABLE_DUMMY},
        {"disable-system", no_argument, NULL, OPT_DISABLE_SYSTEM},
        {"disable-system-route", no_argument, NULL, OPT_DISABLE_SYSTEM_ROUTE},
        {"dpdk", optional_argument, NULL, OPT_DPDK},
        {"dummy-numa", required_argument, NULL, OPT_DUMMY_NUMA},
        {"eswitch-config", required_argument, NULL, OPT_ESWITCH_CONFIG},
        {"eswitch-state-dir", required_argument, NULL,
         OPT_ESWITCH_STATE_DIR},
        {"eswitch-reset", no_argument, NULL, OPT_ESWITCH_RESET},
        {NULL, 0, NULL, 0},
    };
    char *short_options = ovs_cmdl_long_options_to_short_options(long_options);
    int c;

    while ((c = getopt_long(argc, argv, short_options, long_options,
                            NULL)) != -1) {
        switch (c) {
        case 'h':
            print_usage();

        case 'V':
            print_version();
            exit(EXIT_SUCCESS);

        case OPT_MLOCKALL:
            opts->mlockall = true;
            break;

        case OPT_UNIXCTL:
            opts->unixctl_path = optarg;
            break;

        VLOG_OPTION_HANDLERS
        DAEMON_OPTION_HANDLERS
        STREAM_SSL_OPTION_HANDLERS

        case OPT_PEER_CA_CERT:
            stream_ssl_set_peer_ca_cert_file(optarg);
            break;

        case OPT_BOOTSTRAP_CA_CERT:
            stream_ssl_set_ca_cert_file(optarg, true);
            break;

        case OPT_ENABLE_DUMMY:
            dummy_enable(optarg);
            break;

        case OPT_DISABLE_SYSTEM:
            dp_disallow_provider("system");
            break;

        case OPT_DISABLE_SYSTEM_ROUTE:
            ovs_router_disable_system_routing_table();
            break;

        case OPT_DPDK:
            ovs_fatal(0, "Using --dpdk to configure DPDK is not supported.");

        case OPT_DUMMY_NUMA:
            ovs_numa_set_dummy(optarg);
            break;

        case OPT_ESWITCH_CONFIG:
            opts->eswitch_config = optarg;
            break;

        case OPT_ESWITCH_STATE_DIR:
            opts->eswitch_state_dir = optarg;
            break;

        case OPT_ESWITCH_RESET:
            opts->eswitch_reset = true;
            break;

        case '?':
            exit(EXIT_FAILURE);

        default:
            OVS_NOT_REACHED();
        }
    }
    free(short_options);

    if (argc - optind > 1) {
        VLOG_FATAL("at most one non-option argument accepted; "
                   "use --help for usage");
    }
    opts->db_remote = (optind < argc
                       ? xstrdup(argv[optind])
                       : xasprintf("unix:%s/db.sock", ovs_rundir()));
}

static void
print_usage(void)
{
    printf("%s: Open vSwitch daemon with the ovs-ext eSwitch extension\n"
           "usage: %s [OPTIONS] [DATABASE]\n"
           "where DATABASE is a socket on which ovsdb-server is listening\n"
           "      (default: \"unix:%s/db.sock\").\n",
           program_name, program_name, ovs_rundir());
    stream_usage("DATABASE", true, false, true);
    daemon_usage();
    vlog_usage();
    printf("\nDPDK options:\n"
           "Configuration of DPDK via command-line is removed from this\n"
           "version of Open vSwitch. DPDK is configured through ovsdb.\n");
    printf("\neSwitch management options (ovs-ext):\n"
           "  --eswitch-config=FILE     eSwitch configuration file (default:\n"
           "                            %s/ovs-ext/eswitch.json, if present)\n"
           "  --eswitch-state-dir=DIR   recovery state of managed functions\n"
           "                            (default: %s/ovs-ext/eswitch-state)\n"
           "  --eswitch-reset           wipe the recovery state at start\n",
           ovs_sysconfdir(), ovs_dbdir());
    printf("\nOther options:\n"
           "  --unixctl=SOCKET          override default control socket name\n"
           "  -h, --help                display this help message\n"
           "  -V, --version             display version information\n");
    exit(EXIT_SUCCESS);
}

static void
vswitchd_unixctl_exit(struct unixctl_conn *conn, int argc,
                      const char *argv[], void *req_)
{
    struct vswitchd_exit_request *req = req_;

    /* As in the stock daemon, an argument other than --cleanup is ignored. */
    req->requested = true;
    req->cleanup = argc > 1 && !strcmp(argv[1], "--cleanup");
    unixctl_command_reply(conn, NULL);
}
