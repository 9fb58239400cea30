/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* tests/test-port-policy.c: unit tests of the port policy's option table
 * (ovs-ext/port-policy-options.c): printing, JSON, parsing, aliases.
 *
 *   test-port-policy format            fixed configurations, printed
 *   test-port-policy parse KEY=VALUE...  parses the options, prints the
 *                                       configuration or the error */

#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/policy/esw-policy-config.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "ovs-ext/port-policy-options.h"
#include "ovs-ext/values.h"
#include "smap.h"
#include "util.h"

#include "unit-check.h"

static struct esw_eth_addr
mac(const char *s)
{
    struct esw_eth_addr ea;

    CHECK(value_parse_mac(s, &ea));
    return ea;
}

/* Prints 'cfg' as the option text and as JSON, after 'label'. */
static void
show(const char *label, const struct esw_policy_config *cfg)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct json *json = port_policy_options_to_json(cfg);
    char *js = json_to_string(json, JSSF_SORT);

    port_policy_format_options(cfg, &s);
    printf("%s: \"%s\"\n%s: %s\n", label, ds_cstr(&s), label, js);
    free(js);
    json_destroy(json);
    ds_destroy(&s);
}

static void
cmd_format(int argc OVS_UNUSED, char *argv[] OVS_UNUSED)
{
    struct esw_policy_config cfg = ESW_POLICY_CONFIG_INITIALIZER;

    show("default", &cfg);

    cfg.admin_mac = mac("02:00:00:00:00:10");
    cfg.vlan = 100;
    cfg.qos = 5;
    cfg.vlan_proto = ESW_TPID_8021AD;
    cfg.spoofchk = true;
    cfg.trust = true;
    cfg.promisc = false;
    cfg.n_allowed_macs = 2;
    cfg.allowed_macs[0] = mac("02:00:00:00:00:20");
    cfg.allowed_macs[1] = mac("02:00:00:00:00:21");
    cfg.max_tx_rate = 1000;
    cfg.min_tx_rate = 100;
    cfg.link_state = ESW_POLICY_LINK_DOWN;
    show("all", &cfg);

    esw_policy_config_init(&cfg);
    esw_policy_config_add_trunk(&cfg, 1);
    for (int vid = 10; vid <= 20; vid++) {
        esw_policy_config_add_trunk(&cfg, vid);
    }
    esw_policy_config_add_trunk(&cfg, 22);
    esw_policy_config_add_trunk(&cfg, 4093);
    esw_policy_config_add_trunk(&cfg, 4094);
    cfg.trunk_untagged = false;
    show("trunks", &cfg);
}

static void
cmd_parse(int argc, char *argv[])
{
    struct smap options = SMAP_INITIALIZER(&options);
    struct esw_policy_config cfg;
    bool has_policy;
    char *error;

    for (int i = 2; i < argc; i++) {
        char *eq = strchr(argv[i], '=');

        CHECK(eq);
        smap_add_nocopy(&options, xmemdup0(argv[i], eq - argv[i]),
                        xstrdup(eq + 1));
    }
    if (port_policy_parse(&options, &cfg, &has_policy, &error)) {
        printf("error: %s\n", error);
        free(error);
    } else {
        show(has_policy ? "policy" : "no policy", &cfg);
    }
    smap_destroy(&options);
}

int
main(int argc, char *argv[])
{
    static const struct {
        const char *name;
        void (*f)(int argc, char *argv[]);
    } commands[] = {
        { "format", cmd_format },
        { "parse", cmd_parse },
    };

    if (argc < 2) {
        fprintf(stderr, "usage: %s format|parse [KEY=VALUE...]\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            commands[i].f(argc, argv);
            return 0;
        }
    }
    fprintf(stderr, "%s: unknown command \"%s\"\n", argv[0], argv[1]);
    return 2;
}
