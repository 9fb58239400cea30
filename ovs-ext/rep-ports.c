/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>

#include "rep-ports.h"

#include <string.h>

#include "netdev-provider.h"
#include "ofproto/ofproto-dpif.h"
#include "ofproto/ofproto-provider.h"
#include "sset.h"
#include "util.h"

#include "netdev-esw.h"

static bool
port_is_function(const char *name, struct esw_dev *dev, uint32_t vport)
{
    struct netdev *netdev = netdev_from_name(name);
    struct esw_dev *d;
    uint32_t v;
    bool match;

    if (!netdev) {
        return false;
    }
    match = (netdev_is_esw(netdev)
             && netdev_esw_get_function(netdev, &d, &v)
             && d == dev && v == vport);
    netdev_close(netdev);
    return match;
}

void
rep_port_find(struct esw_dev *dev, uint32_t vport, struct rep_port *rp)
{
    struct sset types = SSET_INITIALIZER(&types);
    const char *type;

    memset(rp, 0, sizeof *rp);
    ofproto_enumerate_types(&types);
    SSET_FOR_EACH (type, &types) {
        struct sset names = SSET_INITIALIZER(&names);
        const char *br_name;

        ofproto_enumerate_names(type, &names);
        SSET_FOR_EACH (br_name, &names) {
            struct ofproto_dpif *ofproto;
            struct ofproto_port_dump dump;
            struct ofproto_port port;

            ofproto = ofproto_dpif_lookup_by_name(br_name);
            if (!ofproto || rp->ofproto) {
                continue;
            }
            OFPROTO_PORT_FOR_EACH (&port, &dump, &ofproto->up) {
                if (!rp->ofproto && port_is_function(port.name, dev,
                                                     vport)) {
                    rp->ofproto = ofproto;
                    rp->ofp_port = port.ofp_port;
                    rp->bridge = xstrdup(br_name);
                    rp->name = xstrdup(port.name);
                }
            }
        }
        sset_destroy(&names);
    }
    sset_destroy(&types);
}

void
rep_port_destroy(struct rep_port *rp)
{
    free(rp->bridge);
    free(rp->name);
    memset(rp, 0, sizeof *rp);
}
