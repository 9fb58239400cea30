/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* The pause of a live update of ovs-eswitchd (ovs-eswitchd(8)) against
 * the number of rules in its device: a client of the device API (the
 * "remote" driver, as ovs-vswitchd) opens a device in the daemon at
 * $OVS_ESWITCHD_SOCKET, adds two vports and R rules, runs
 * "ovs-eswitchctl update --start" and prints the pause the new daemon
 * measured, then checks through its own connection (kept across the
 * update) that the device has its R rules and a rule's counters.
 * bench/bench-update.sh runs it.
 *
 * Usage: bench-update-rules R */

#include "datapath/esw.h"
#include "datapath/esw-emu.h"
#define BENCH_NAME "bench-update-rules"
#include "bench/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>




int
main(int argc, char *argv[])
{
    struct esw_dev_config cfg;
    struct esw_rule *first = NULL;
    struct esw_rule_stats st;
    struct esw_dev *dev;
    char line[256], pause[64] = "?";
    unsigned long n;
    double t0, t_update;
    uint32_t a, b;
    char *end;
    FILE *f;
    int error;

    n = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
    if (argc != 2 || *end || n > 1000000) {
        fprintf(stderr, "usage: %s RULES (0..1000000)\n", argv[0]);
        return EXIT_FAILURE;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.max_rules = n + 16;
    error = esw_dev_open("benchupd", "remote", &cfg, &dev);
    if (error) {
        bench_die("cannot open the device in ovs-eswitchd", error);
    }
    a = bench_add_vf(dev, 0, 0, 0);
    b = bench_add_vf(dev, 1, 0, 0);
    for (unsigned long i = 0; i < n; i++) {
        struct esw_rule_spec spec;
        struct esw_error err;
        struct esw_rule *rule;

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
        error = esw_rule_add(dev, &spec, &err, &rule);
        if (error) {
            bench_die(err.reason, error);
        }
        if (!first) {
            first = rule;
        }
    }

    t0 = bench_now();
    if (system("ovs-eswitchctl update --start > /dev/null")) {
        bench_die("ovs-eswitchctl update --start failed", EINVAL);
    }
    t_update = bench_now() - t0;
    f = popen("ovs-eswitchctl update --status", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *p = strstr(line, "paused: ");

        if (p) {
            snprintf(pause, sizeof pause, "%s", p + 8);
            pause[strcspn(pause, "\n")] = '\0';
        }
    }
    if (f) {
        pclose(f);
    }

    /* Through the same connection: the device as it was. */
    if (esw_rule_count(dev) != n) {
        bench_die("rules lost in the update", EINVAL);
    }
    memset(&st, 0, sizeof st);
    if (first && esw_rule_get_stats(dev, first, &st)) {
        bench_die("a rule's counters after the update", EINVAL);
    }
    printf("  %7lu rules: forwarding paused %s, update --start %.1f ms; "
           "rules after: %zu\n", n, pause, t_update * 1000,
           esw_rule_count(dev));
    esw_dev_close(dev);
    return 0;
}
