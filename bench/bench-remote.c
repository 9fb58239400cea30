/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The device in its own process vs in-process: the same device API calls
 * on a "sim" device in this process and on one hosted by ovs-eswitchd
 * (the "remote" driver), side by side:
 *
 *   - rule insertion: esw_rule_add() of N distinct rules, one caller (as
 *     ovs-ext's offload thread), then their deletion (pipelined by the
 *     remote driver);
 *   - miss path to OVS's side: N missed packets waiting in a representor
 *     queue, read with esw_rep_recv() in bursts of 32 (what a PMD thread
 *     does), the second time the queue fills (its memory warm): in-process
 *     a ring of pointers, remote a copy out of the shared-memory ring;
 *   - OVS's sends: N packets sent on a representor with esw_rep_send()
 *     until the function's host side has them all (remote: through the
 *     send ring);
 *   - N reads of a vport's counters (remote: from shared memory);
 *   - connection table: esw_ct_add() of N distinct UDP connections, one
 *     caller (as ct-offload's worker), N reads of their counters
 *     (esw_ct_get_stats(), what conntrack's sweeper asks through
 *     ct-offload; remote: from the daemon's shared table), then their
 *     deletion (pipelined by the remote driver);
 *   - offloaded forwarding: N frames written to a wire uplink's socket
 *     (esw-io-wire.c: the same injection in both, a SOCK_SEQPACKET
 *     connection from this process) and forwarded by one device rule to
 *     a function, timed until that function's counters (tx_packets) have
 *     them all (the best of three runs).  The device forwards with the
 *     same sim code in both (in this process or in the daemon): the
 *     figure must not change.
 *
 * The daemon is started from the build tree (--daemon=PATH, default
 * datapath/remote/ovs-eswitchd) with its socket in a temporary directory.
 *
 * Usage: bench-remote [--quick] [--daemon=PATH] */

#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#define BENCH_NAME "bench-remote"
#include "bench/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BURST 32



struct result {
    double add_rate, del_rate;  /* Rules/s. */
    double miss_mpps;
    double send_mpps;
    double stats_mps;           /* Vport counter reads, millions/s. */
    double ct_add_rate, ct_del_rate;    /* Connections/s. */
    double ct_stats_mps;        /* Connection counter reads, millions/s. */
    double fwd_mpps;            /* Offloaded forwarding. */
};

static char wire_dir[64];       /* Where the wire sockets go. */


/* Offloaded forwarding: 'n' frames into a wire uplink, a rule forwarding
 * them to 'out' (capture, empty); returns Mpps, until 'out''s counters
 * have them all. */
static double
offloaded(struct esw_dev *dev, const char *driver, uint32_t out, size_t n)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct esw_io_config io = { .type = ESW_IO_WIRE };
    struct esw_vport_config cfg = {
        .kind = ESW_VPORT_UPLINK, .vport = ESW_VPORT_AUTO, .io = &io,
    };
    static const uint8_t frame[64] = {
        2, 0, 0, 0, 0, 0x22, 2, 0, 0, 0, 0, 0x33, 0x08, 0x00,
        0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17, 0, 0,
        10, 0, 0, 1, 10, 0, 0, 2,
    };
    struct esw_vport_stats st0, st;
    struct esw_host_info host;
    struct esw_rule_spec spec;
    struct esw_pkt *pkts[BURST];
    struct esw_rule *rule;
    struct esw_error err;
    uint32_t wire;
    double t0, t1;
    size_t got;
    int fd, error;

    /* A socket of its own each time: the previous run's listener may not
     * be closed yet (its vport's host side goes after a grace period). */
    static int n_runs;

    snprintf(io.path, sizeof io.path, "%s/wire-%s-%d.sock", wire_dir, driver,
             n_runs++);
    error = esw_vport_add(dev, &cfg, &err, &wire);
    if (error) {
        bench_die(err.reason, error);
    }
    memset(&spec, 0, sizeof spec);
    spec.match.in_vport = wire;
    spec.mask.in_vport = UINT32_MAX;
    spec.priority = 1;
    spec.actions[0].type = ESW_ACTION_OUTPUT;
    spec.actions[0].vport = out;
    spec.n_actions = 1;
    error = esw_rule_add(dev, &spec, &err, &rule);
    if (error) {
        bench_die(err.reason, error);
    }

    fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    memcpy(sun.sun_path, io.path, strlen(io.path) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        bench_die(io.path, errno);
    }
    for (int i = 0; ; i++) {            /* The device accepts it. */
        if (!esw_vport_get_host(dev, wire, &host) && host.host_up) {
            break;
        } else if (i > 5000) {
            bench_die("the wire is not connected", ETIMEDOUT);
        }
        nanosleep(&(struct timespec) { .tv_nsec = 1000 * 1000 }, NULL);
    }
    if (esw_vport_get_stats(dev, out, &st0)) {
        bench_die("stats", EINVAL);
    }
    t0 = bench_now();
    for (size_t i = 0; i < n; i++) {
        if (send(fd, frame, sizeof frame, 0) != sizeof frame) {
            bench_die("send on the wire", errno);
        }
    }
    do {
        if (esw_vport_get_stats(dev, out, &st)) {
            bench_die("stats", EINVAL);
        }
        if (bench_now() - t0 > 60) {
            bench_die("frames not forwarded", ETIMEDOUT);
        }
        /* Not a busy loop: the forwarding thread needs a core of the
         * two. */
        nanosleep(&(struct timespec) { .tv_nsec = 50 * 1000 }, NULL);
    } while (st.tx_packets - st0.tx_packets < n);
    t1 = bench_now();
    close(fd);

    got = 0;
    while (got < n) {
        size_t m = esw_host_capture_read(dev, out, pkts, BURST);

        if (!m) {
            break;
        }
        for (size_t i = 0; i < m; i++) {
            esw_pkt_free(pkts[i]);
        }
        got += m;
    }
    if (got != n) {
        bench_die("forwarded frames missing on the host side", EINVAL);
    }
    esw_rule_del(dev, rule);
    esw_vport_del(dev, wire);
    unlink(io.path);
    return n / (t1 - t0) / 1e6;
}

static void
run(const char *driver, size_t n_rules, size_t n_pkts, struct result *res)
{
    struct esw_dev_config cfg = { .max_rules = n_rules + 16 };
    struct esw_rule **rules = calloc(n_rules, sizeof *rules);
    struct esw_pkt *pkts[BURST];
    struct esw_dev *dev;
    uint32_t a, b;
    size_t got;
    double t0;
    int error;

    error = esw_dev_open("bench0", driver, &cfg, &dev);
    if (error) {
        bench_die("cannot open the device", error);
    }
    a = bench_add_vf(dev, 0, 65536, n_pkts);
    b = bench_add_vf(dev, 1, 65536, 1024);      /* Capture queue 65536 deep. */

    /* Rule insertion and deletion. */
    t0 = bench_now();
    for (size_t i = 0; i < n_rules; i++) {
        struct esw_rule_spec spec;
        struct esw_error err;

        memset(&spec, 0, sizeof spec);
        spec.match.in_vport = a;
        spec.mask.in_vport = UINT32_MAX;
        spec.match.eth_type = htons(0x0800);
        spec.mask.eth_type = 0xffff;
        spec.match.ip_dst.ip4 = htonl(0x0a000000 + i);
        spec.mask.ip_dst.ip4 = UINT32_MAX;
        spec.priority = 1;
        spec.actions[0].type = ESW_ACTION_OUTPUT;
        spec.actions[0].vport = b;
        spec.n_actions = 1;
        error = esw_rule_add(dev, &spec, &err, &rules[i]);
        if (error) {
            bench_die(err.reason, error);
        }
    }
    res->add_rate = n_rules / (bench_now() - t0);
    t0 = bench_now();
    for (size_t i = 0; i < n_rules; i++) {
        esw_rule_del(dev, rules[i]);
    }
    if (esw_rule_count(dev)) {          /* Also waits for the replies. */
        bench_die("rules left", EINVAL);
    }
    res->del_rate = n_rules / (bench_now() - t0);

    /* Misses waiting in the representor queue, then read: twice, the
     * second time timed (the queue's memory warm, as in steady state). */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < n_pkts; i++) {
            static const uint8_t frame[64] = {
                2, 0, 0, 0, 0, 0xee, 2, 0, 0, 0, 0, 0x10, 0x08, 0x00,
                0x45, 0, 0, 50, 0, 0, 0, 0, 64, 17, 0, 0,
                10, 0, 0, 1, 10, 0, 0, 2,
            };
            struct esw_pkt *pkt = esw_pkt_from_data(frame, sizeof frame);

            error = esw_host_inject(dev, a, pkt);
            if (error) {
                bench_die("inject", error);
            }
        }
        if (esw_dev_wait_idle(dev, 60000)) {
            bench_die("the device did not settle", ETIMEDOUT);
        }
        got = 0;
        t0 = bench_now();
        while (got < n_pkts) {
            size_t n = esw_rep_recv(dev, a, 0, pkts, BURST);

            if (!n) {
                bench_die("missing misses", EINVAL);
            }
            for (size_t i = 0; i < n; i++) {
                esw_pkt_free(pkts[i]);
            }
            got += n;
        }
        res->miss_mpps = got / (bench_now() - t0) / 1e6;
    }

    /* OVS's sends to the function behind 'b', until it has them. */
    t0 = bench_now();
    for (size_t i = 0; i < n_pkts; i++) {
        static const uint8_t frame[64] = {
            2, 0, 0, 0, 0, 0x11, 2, 0, 0, 0, 0, 0xee, 0x08, 0x00,
        };

        error = esw_rep_send(dev, b, esw_pkt_from_data(frame, sizeof frame));
        if (error) {
            bench_die("send", error);
        }
    }
    if (esw_dev_wait_idle(dev, 60000)) {
        bench_die("the device did not settle", ETIMEDOUT);
    }
    res->send_mpps = n_pkts / (bench_now() - t0) / 1e6;
    got = 0;
    while (got < n_pkts) {
        size_t n = esw_host_capture_read(dev, b, pkts, BURST);

        if (!n) {
            break;
        }
        for (size_t i = 0; i < n; i++) {
            esw_pkt_free(pkts[i]);
        }
        got += n;
    }
    if (got != n_pkts) {
        bench_die("sends missing on the host side", EINVAL);
    }

    /* Counter reads (remote: from shared memory). */
    t0 = bench_now();
    for (size_t i = 0; i < n_pkts; i++) {
        struct esw_vport_stats st;

        error = esw_vport_get_stats(dev, a, &st);
        if (error) {
            bench_die("stats", error);
        }
    }
    res->stats_mps = n_pkts / (bench_now() - t0) / 1e6;

    /* Connections. */
    struct esw_ct **cts = calloc(n_rules, sizeof *cts);

    t0 = bench_now();
    for (size_t i = 0; i < n_rules; i++) {
        struct esw_ct_spec spec;
        struct esw_error err;

        memset(&spec, 0, sizeof spec);
        spec.zone = 1;
        spec.orig.ip_proto = spec.reply.ip_proto = 17;
        spec.orig.src.ip4 = spec.reply.dst.ip4 = htonl(0x0a000000 + i);
        spec.orig.dst.ip4 = spec.reply.src.ip4 = htonl(0x0b000001);
        spec.orig.src_port = spec.reply.dst_port = htons(1024 + i % 60000);
        spec.orig.dst_port = spec.reply.src_port = htons(53);
        error = esw_ct_add(dev, &spec, &err, &cts[i]);
        if (error) {
            bench_die(err.reason, error);
        }
    }
    res->ct_add_rate = n_rules / (bench_now() - t0);
    t0 = bench_now();
    for (size_t i = 0; i < n_pkts; i++) {
        struct esw_ct_stats st;

        error = esw_ct_get_stats(dev, cts[i % n_rules], &st);
        if (error) {
            bench_die("connection stats", error);
        }
    }
    res->ct_stats_mps = n_pkts / (bench_now() - t0) / 1e6;
    t0 = bench_now();
    for (size_t i = 0; i < n_rules; i++) {
        esw_ct_del(dev, cts[i]);
    }
    if (esw_ct_count(dev)) {        /* Also waits for the deletions. */
        bench_die("connections left", EINVAL);
    }
    res->ct_del_rate = n_rules / (bench_now() - t0);
    free(cts);

    /* The best of three: the figure is a wire socket's rate on a loaded
     * machine. */
    res->fwd_mpps = 0;
    for (int i = 0; i < 3; i++) {
        double mpps = offloaded(dev, driver, b, n_pkts);

        res->fwd_mpps = mpps > res->fwd_mpps ? mpps : res->fwd_mpps;
    }

    esw_dev_close(dev);
    free(rules);
}

/* Starts 'daemon' listening on 'sock'; returns its pid once it accepts. */
static pid_t
start_daemon(const char *daemon, const char *sock, const char *log)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    char arg[sizeof sun.sun_path + 16], log_arg[128];
    pid_t pid;

    if (strlen(sock) >= sizeof sun.sun_path) {
        bench_die(sock, ENAMETOOLONG);
    }
    snprintf(arg, sizeof arg, "--socket=%s", sock);
    snprintf(log_arg, sizeof log_arg, "--log-file=%s", log);
    pid = fork();
    if (pid < 0) {
        bench_die("fork", errno);
    }
    if (!pid) {
        execl(daemon, daemon, arg, log_arg, (char *) NULL);
        fprintf(stderr, "bench-remote: %s: %s\n", daemon, strerror(errno));
        _exit(127);
    }
    memcpy(sun.sun_path, sock, strlen(sock) + 1);
    for (int i = 0; i < 500; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);

        if (fd >= 0 && !connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
            close(fd);
            return pid;
        }
        if (fd >= 0) {
            close(fd);
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            bench_die("the daemon exited", ECHILD);
        }
        nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
    }
    kill(pid, SIGTERM);
    bench_die("the daemon does not listen", ETIMEDOUT);
}

/* One line of the table: 'label', the two figures with 'prec' decimals and
 * their ratio. */
static void
print_row(const char *label, int prec, double in_process, double remote)
{
    printf("%-34s %12.*f %12.*f %7.1fx\n", label, prec, in_process, prec,
           remote, in_process / remote);
}

int
main(int argc, char *argv[])
{
    const char *daemon = "datapath/remote/ovs-eswitchd";
    size_t n_rules = 20000, n_pkts = 32768;
    char dir[] = "/tmp/bench-remote.XXXXXX";
    struct result sim, remote;
    char sock[64], log[64];
    pid_t pid;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            n_rules = 2000;
            n_pkts = 4096;
        } else if (!strncmp(argv[i], "--daemon=", 9)) {
            daemon = argv[i] + 9;
        } else {
            fprintf(stderr, "usage: %s [--quick] [--daemon=PATH]\n",
                    argv[0]);
            return EXIT_FAILURE;
        }
    }
    if (!mkdtemp(dir)) {
        bench_die("mkdtemp", errno);
    }
    snprintf(sock, sizeof sock, "%s/ovs-eswitchd.sock", dir);
    snprintf(log, sizeof log, "%s/ovs-eswitchd.log", dir);
    snprintf(wire_dir, sizeof wire_dir, "%s", dir);
    pid = start_daemon(daemon, sock, log);
    setenv("OVS_ESWITCHD_SOCKET", sock, 1);

    run("sim", n_rules, n_pkts, &sim);
    run("remote", n_rules, n_pkts, &remote);

    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    unlink(log);
    rmdir(dir);

    printf("device API calls, in-process (sim) vs in ovs-eswitchd (remote);"
           " %zu rules, %zu misses of 64 bytes\n", n_rules, n_pkts);
    printf("%-34s %12s %12s %8s\n", "", "in-process", "remote", "ratio");
    print_row("rule insertion (rules/s)", 0, sim.add_rate, remote.add_rate);
    print_row("rule deletion (rules/s)", 0, sim.del_rate, remote.del_rate);
    print_row("miss path to OVS (Mpps)", 2, sim.miss_mpps, remote.miss_mpps);
    print_row("OVS's sends to a function (Mpps)", 2,
              sim.send_mpps, remote.send_mpps);
    print_row("connection insertion (conns/s)", 0,
              sim.ct_add_rate, remote.ct_add_rate);
    print_row("connection deletion (conns/s)", 0,
              sim.ct_del_rate, remote.ct_del_rate);
    print_row("connection counter reads (M/s)", 2,
              sim.ct_stats_mps, remote.ct_stats_mps);
    print_row("vport counter reads (M/s)", 2, sim.stats_mps, remote.stats_mps);
    print_row("offloaded forwarding (Mpps)", 2, sim.fwd_mpps, remote.fwd_mpps);
    return 0;
}
