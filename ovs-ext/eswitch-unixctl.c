/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-appctl commands that act on an eSwitch's functions from their host
 * side, for tests and for users of the "capture" host side (what OVS's
 * netdev-dummy/receive and tx_pcap do for dummy ports):
 *
 *   eswitch/inject FUNCTION PACKET   the function transmits PACKET
 *   eswitch/capture FUNCTION [--hex] what the function received, drained
 *
 * FUNCTION is a function name ("pf0vf1"), optionally qualified by its
 * eSwitch ("esw0/pf0vf1").  PACKET is hex bytes or a datapath flow in the
 * syntax of ovs-appctl netdev-dummy/receive. */

#include <config.h>

#include "eswitch-unixctl.h"

#include <errno.h>
#include <string.h>

#include "dp-packet.h"
#include "flow.h"
#include "odp-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofpbuf.h"
#include "packets.h"
#include "unixctl.h"
#include "util.h"

#include "datapath/esw.h"
#include "eswitch.h"

/* How long eswitch/inject waits for the device to finish with the packet,
 * so that the next command sees its effect. */
#define INJECT_IDLE_TIMEOUT_MS 1000

/* Builds a frame from 'spec' (hex or datapath flow).  Returns NULL and
 * stores an error message in '*errorp' on failure. */
static struct dp_packet *
packet_from_spec(const char *spec, char **errorp)
{
    struct dp_packet *packet;

    *errorp = NULL;
    if (strchr(spec, '(')) {
        struct ofpbuf odp_key;
        struct flow flow;

        ofpbuf_init(&odp_key, 0);
        if (odp_flow_from_string(spec, NULL, &odp_key, NULL, errorp)
            || odp_flow_key_to_flow(odp_key.data, odp_key.size, &flow,
                                    errorp) == ODP_FIT_ERROR) {
            ofpbuf_uninit(&odp_key);
            if (!*errorp) {
                *errorp = xstrdup("bad packet flow syntax");
            }
            return NULL;
        }
        packet = dp_packet_new(0);
        flow_compose(packet, &flow, NULL, 64);
        ofpbuf_uninit(&odp_key);
    } else {
        const char *error = eth_from_hex(spec, &packet);

        if (error) {
            *errorp = xstrdup(error);
            return NULL;
        }
    }
    return packet;
}

static void
eswitch_unixctl_inject(struct unixctl_conn *conn, int argc OVS_UNUSED,
                       const char *argv[], void *aux OVS_UNUSED)
{
    struct dp_packet *packet;
    struct esw_pkt *pkt;
    struct esw_dev *dev;
    uint32_t vport;
    char *error;
    int err;

    if (eswitch_find_function(argv[1], &dev, &vport, &error)) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }
    packet = packet_from_spec(argv[2], &error);
    if (!packet) {
        char *msg = xasprintf("bad packet: %s", error);

        unixctl_command_reply_error(conn, msg);
        free(msg);
        free(error);
        return;
    }
    if (dp_packet_size(packet) > ESW_FRAME_MAX) {
        unixctl_command_reply_error(conn, "packet too long");
        dp_packet_delete(packet);
        return;
    }

    pkt = esw_pkt_from_data(dp_packet_data(packet), dp_packet_size(packet));
    dp_packet_delete(packet);
    err = pkt ? esw_host_inject(dev, vport, pkt) : ENOMEM;
    if (err == EOPNOTSUPP) {
        unixctl_command_reply_error(conn, "function has no capture host "
                                    "side (see its status host_side)");
    } else if (err == ENOBUFS) {
        unixctl_command_reply_error(conn, "inject queue full, packet "
                                    "dropped");
    } else if (err) {
        unixctl_command_reply_error(conn, ovs_strerror(err));
    } else {
        esw_dev_wait_idle(dev, INJECT_IDLE_TIMEOUT_MS);
        unixctl_command_reply(conn, NULL);
    }
}

static void
eswitch_unixctl_capture(struct unixctl_conn *conn, int argc,
                        const char *argv[], void *aux OVS_UNUSED)
{
    struct ds reply = DS_EMPTY_INITIALIZER;
    struct esw_pkt *pkts[64];
    struct esw_dev *dev;
    bool hex = false;
    uint32_t vport;
    char *error;
    size_t n;

    if (argc > 2) {
        if (strcmp(argv[2], "--hex")) {
            unixctl_command_reply_error(conn, "unknown option (expected "
                                        "--hex)");
            return;
        }
        hex = true;
    }
    if (eswitch_find_function(argv[1], &dev, &vport, &error)) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }

    while ((n = esw_host_capture_read(dev, vport, pkts, ARRAY_SIZE(pkts)))) {
        for (size_t i = 0; i < n; i++) {
            if (hex) {
                ds_put_hex(&reply, pkts[i]->data, pkts[i]->len);
                ds_put_char(&reply, '\n');
            } else {
                char *s = ofp_packet_to_string(pkts[i]->data, pkts[i]->len,
                                               htonl(PT_ETH));
                ds_put_cstr(&reply, s);
                free(s);
            }
            esw_pkt_free(pkts[i]);
        }
    }
    unixctl_command_reply(conn, ds_cstr(&reply));
    ds_destroy(&reply);
}

void
eswitch_unixctl_register(void)
{
    unixctl_command_register("eswitch/inject", "FUNCTION PACKET", 2, 2,
                             eswitch_unixctl_inject, NULL);
    unixctl_command_register("eswitch/capture", "FUNCTION [--hex]", 1, 2,
                             eswitch_unixctl_capture, NULL);
}
