/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>

#include "eswitch-dpdk.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "dpdk.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/thread.h"
#include "openvswitch/vlog.h"
#include "smap.h"
#include "util.h"

#include "datapath/io/esw-io.h"

VLOG_DEFINE_THIS_MODULE(eswitch_dpdk);

/* The EAL settings of the eSwitch's own DPDK (see eswitch-dpdk.h). */
#define ESWITCH_EAL_MEMORY_MB "128"
#define ESWITCH_EAL_FILE_PREFIX "ovs-ext"

enum dpdk_mode {
    DPDK_NONE,                  /* Not initialised (or failed). */
    DPDK_OVS,                   /* OVS's own. */
    DPDK_ESWITCH,               /* Ours, --no-huge. */
};

static enum dpdk_mode mode;
static bool eal_ours;               /* We initialised EAL (even if what
                                     * followed failed). */
static char *init_error;            /* Why initialisation failed, if it
                                     * did: it is not retried. */
static struct smap ovs_config = SMAP_INITIALIZER(&ovs_config);

/* Our EAL's arguments: rte_eal_init() may keep pointers into them. */
static char *eal_argv[16];

/* OVS's dpdk_init(), if the process has the hook (ovs-vswitchd, see
 * vswitchd-plugin/ovs-hooks.c). */
static void (*ovs_dpdk_init)(const struct smap *);

static bool
ovs_dpdk_requested(const struct smap *other_config)
{
    const char *value = smap_get_def(other_config, "dpdk-init", "false");

    return !strcasecmp(value, "true") || !strcasecmp(value, "try");
}

void
eswitch_dpdk_set_ovs_init(void (*ovs_init)(const struct smap *))
{
    ovs_dpdk_init = ovs_init;
}

bool
eswitch_dpdk_ovs_init_allowed(const struct smap *other_config)
{
    if (eal_ours && other_config && ovs_dpdk_requested(other_config)) {
        /* rte_eal_init() would fail, and OVS would abort. */
        VLOG_WARN_ONCE("other_config:dpdk-init=%s cannot take effect: "
                       "DPDK was initialised for the eswitch's vhost-user "
                       "host sides before (without hugepages); restart "
                       "ovs-vswitchd to use OVS's DPDK",
                       smap_get(other_config, "dpdk-init"));
        return false;
    }
    return true;
}

void
eswitch_dpdk_set_ovs_config(const struct smap *other_config)
{
    smap_destroy(&ovs_config);
    smap_clone(&ovs_config, other_config);
}

/* DPDK's log types of rte_vhost, whose warnings and errors are not ours
 * to raise (see dpdk_log_write()). */
static int vhost_log_types[2] = { -1, -1 };

/* DPDK's messages, one line per write, into our log: what DPDK says at
 * info or debug level (every vhost-user message, for one) is debug here,
 * its warnings and errors stay what they are, except rte_vhost's.
 * rte_vhost reports a guest that goes away (a reset connection, a server
 * to reconnect to that is not there yet) as an error; those are expected
 * events, and every failure of a host side that needs the user is
 * reported by ovs-ext itself (a refused hotplug, a function whose guest
 * never becomes ready in eswitch/show): they are info here. */
static ssize_t
dpdk_log_write(void *aux OVS_UNUSED, const char *buf, size_t size)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(60, 120);
    uint32_t level = rte_log_cur_msg_loglevel();
    int type = rte_log_cur_msg_logtype();
    int len = size;

    while (len > 0 && buf[len - 1] == '\n') {
        len--;
    }
    if (level <= RTE_LOG_WARNING
        && (type == vhost_log_types[0] || type == vhost_log_types[1])) {
        level = RTE_LOG_NOTICE;
    }
    if (level <= RTE_LOG_ERR) {
        VLOG_ERR_RL(&rl, "%.*s", len, buf);
    } else if (level == RTE_LOG_WARNING) {
        VLOG_WARN_RL(&rl, "%.*s", len, buf);
    } else if (level == RTE_LOG_NOTICE) {
        VLOG_INFO_RL(&rl, "%.*s", len, buf);
    } else {
        VLOG_DBG_RL(&rl, "%.*s", len, buf);
    }
    return size;
}

/* "0@(0,1,...)": EAL's one lcore, on every CPU this thread may run on (so
 * that rte_eal_init() does not pin the main thread). */
static char *
lcores_arg(void)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    cpu_set_t cpus;
    bool first = true;

    ds_put_cstr(&s, "0@(");
    if (!sched_getaffinity(0, sizeof cpus, &cpus)) {
        for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
            if (CPU_ISSET(cpu, &cpus)) {
                ds_put_format(&s, "%s%d", first ? "" : ",", cpu);
                first = false;
            }
        }
    }
    if (first) {
        ds_put_char(&s, '0');
    }
    ds_put_char(&s, ')');
    return ds_steal_cstr(&s);
}

static int
eal_init(char **errp)
{
    static cookie_io_functions_t log_functions = { .write = dpdk_log_write };
    const char *const args[] = {
        "ovs-vswitchd", "--no-huge", "-m", ESWITCH_EAL_MEMORY_MB,
        "--no-pci", "--no-shconf", "--no-telemetry",
        "--file-prefix", ESWITCH_EAL_FILE_PREFIX, "--lcores",
    };
    struct ds cmd = DS_EMPTY_INITIALIZER;
    cpu_set_t cpus;
    bool have_cpus;
    FILE *stream;
    int argc = 0;
    int retval;

    for (size_t i = 0; i < ARRAY_SIZE(args); i++) {
        eal_argv[argc++] = xstrdup(args[i]);
    }
    eal_argv[argc++] = lcores_arg();
    for (int i = 1; i < argc; i++) {
        ds_put_format(&cmd, "%s%s", i > 1 ? " " : "", eal_argv[i]);
    }

    /* rte_log_register() returns the id of a type that exists. */
    vhost_log_types[0] = rte_log_register("lib.vhost.config");
    vhost_log_types[1] = rte_log_register("lib.vhost.data");
    stream = fopencookie(NULL, "w", log_functions);
    if (stream) {
        setvbuf(stream, NULL, _IOLBF, 0);
        rte_openlog_stream(stream);
    }
    /* EAL sets the calling thread's affinity to its main lcore's. */
    have_cpus = !pthread_getaffinity_np(pthread_self(), sizeof cpus, &cpus);
    retval = rte_eal_init(argc, eal_argv);
    if (have_cpus) {
        pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
    }
    if (retval < 0) {
        *errp = xasprintf("cannot initialise DPDK for vhost-user host sides "
                          "(EAL %s): %s", ds_cstr(&cmd),
                          rte_strerror(rte_errno));
        ds_destroy(&cmd);
        return ENODEV;
    }
    VLOG_INFO("DPDK initialised for the eswitch's vhost-user host sides "
              "(OVS's own DPDK is not enabled): EAL %s", ds_cstr(&cmd));
    ds_destroy(&cmd);
    return 0;
}

int
eswitch_dpdk_init(char **errp)
{
    static struct ovs_mutex mutex = OVS_MUTEX_INITIALIZER;
    struct esw_error err;
    int error = 0;

    ovs_mutex_lock(&mutex);
    if (mode != DPDK_NONE) {
        goto out;
    }
    if (init_error) {
        *errp = xstrdup(init_error);
        error = ENODEV;
        goto out;
    }

    if (!dpdk_available() && ovs_dpdk_requested(&ovs_config)
        && ovs_dpdk_init) {
        /* OVS would initialise its DPDK next in this bridge_run(): let it
         * do so now, with its own settings. */
        ovs_dpdk_init(&ovs_config);
    }
    if (dpdk_available()) {
        mode = DPDK_OVS;
        VLOG_INFO("the eswitch's vhost-user host sides use OVS's DPDK "
                  "(other_config:dpdk-init)");
    } else if (ovs_dpdk_requested(&ovs_config)) {
        init_error = xstrdup("OVS's DPDK (other_config:dpdk-init) did not "
                             "initialise: see its log messages");
        error = ENODEV;
    } else {
        error = eal_init(&init_error);
        if (!error) {
            eal_ours = true;
            mode = DPDK_ESWITCH;
        }
    }
    if (!error && esw_io_vhost_init(&err)) {
        init_error = xstrdup(err.reason);
        error = err.error;
        mode = DPDK_NONE;
    }
    if (error) {
        *errp = xstrdup(init_error);
    }
out:
    ovs_mutex_unlock(&mutex);
    return error;
}

const char *
eswitch_dpdk_mode(void)
{
    return (mode == DPDK_OVS ? "ovs"
            : mode == DPDK_ESWITCH ? "eswitch" : "none");
}
