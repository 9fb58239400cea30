/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>

#include "ovs-ext.h"

#include <inttypes.h>

#include "util.h"

#include "ct-offload.h"
#include "datapath/esw.h"
#include "eswitch.h"
#include "eswitch-dpdk.h"
#include "eswitch-show.h"
#include "eswitch-trace.h"
#include "eswitch-unixctl.h"
#include "netdev-esw.h"
#include "port-policy.h"
#include "netdev-offload-esw.h"
#include "offload-diag.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "unixctl.h"

VLOG_DEFINE_THIS_MODULE(ovs_ext);

static bool registered;

const char *
ovs_ext_version(void)
{
    return OVS_EXT_VERSION;
}

/* eswitch/version: proves that the extension is loaded and says which
 * version of it and of OVS the process runs. */
static void
eswitch_unixctl_version(struct unixctl_conn *conn, int argc OVS_UNUSED,
                        const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    struct ds reply = DS_EMPTY_INITIALIZER;

    ds_put_format(&reply, "ovs-ext %s (Open vSwitch %s)\n",
                  ovs_ext_version(), VERSION);
    unixctl_command_reply(conn, ds_cstr(&reply));
    ds_destroy(&reply);
}

/* The device layer's log lines (datapath/esw.h, "Logging"): a device
 * hosted by ovs-eswitchd going away and coming back. */
static void
esw_log_hook(enum esw_log_level level, const char *msg)
{
    static struct vlog_rate_limit dbg_rl = VLOG_RATE_LIMIT_INIT(5, 60);

    switch (level) {
    case ESW_LOG_ERR:
        VLOG_ERR("%s", msg);
        break;
    case ESW_LOG_WARN:
        VLOG_WARN("%s", msg);
        break;
    case ESW_LOG_INFO:
        VLOG_INFO("%s", msg);
        break;
    case ESW_LOG_DBG:
    default:
        VLOG_DBG_RL(&dbg_rl, "%s", msg);
        break;
    }
}

void
ovs_ext_register(void)
{
    if (registered) {
        return;
    }
    registered = true;

    esw_set_log_hook(esw_log_hook);

    netdev_esw_register();
    netdev_offload_esw_register();
    unixctl_command_register("eswitch/version", "", 0, 0,
                             eswitch_unixctl_version, NULL);
    eswitch_unixctl_register();
    eswitch_trace_register();
    eswitch_show_register();
    port_policy_unixctl_register();
    eswitch_mgmt_unixctl_register();
    offload_diag_register();
    VLOG_DBG("ovs-ext %s registered", ovs_ext_version());
}

void
ovs_ext_set_ovs_idl(const struct ovsdb_idl *idl)
{
    port_policy_set_idl(idl);
}

void
ovs_ext_set_ovs_config(const struct smap *other_config)
{
    netdev_esw_set_ovs_config(other_config);
    eswitch_set_ovs_config(other_config);
    netdev_offload_esw_set_ovs_config(other_config);
    ct_offload_set_ovs_config(other_config);
}

void
ovs_ext_config_applied(void)
{
    netdev_esw_flush_released();
}

void
ovs_ext_wait(void)
{
    netdev_offload_esw_wait();
}

void
ovs_ext_exit(bool cleanup)
{
    if (!cleanup) {
        size_t n = esw_leave_devices();

        /* Nothing to say without such devices: OVS's own tests read the
         * last line of the log of a daemon that exits. */
        if (n) {
            VLOG_INFO("exiting: %"PRIuSIZE" eswitch devices in ovs-eswitchd "
                      "are left as they are (functions, host sides, rules) "
                      "for the next ovs-vswitchd", n);
        }
    }
}

void
ovs_ext_set_dpdk_init(void (*ovs_init)(const struct smap *))
{
    eswitch_dpdk_set_ovs_init(ovs_init);
}

bool
ovs_ext_dpdk_init_allowed(const struct smap *other_config)
{
    return eswitch_dpdk_ovs_init_allowed(other_config);
}
