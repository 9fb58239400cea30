/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>

#include "rep-ports.h"

#include <string.h>

#include "ofproto/ofproto-dpif.h"
#include "ofproto/ofproto-provider.h"
#include "sset.h"
#include "util.h"

#include "eswitch.h"

/* Finds the bridge that has a port called 'name'. */
static void
find_bridge_port(const char *name, struct rep_port *rp)
{
    struct sset types = SSET_INITIALIZER(&types);
    const char *type;

    ofproto_enumerate_types(&types);
    SSET_FOR_EACH (type, &types) {
        struct sset names = SSET_INITIALIZER(&names);
        const char *br_name;

        ofproto_enumerate_names(type, &names);
        SSET_FOR_EACH (br_name, &names) {
            struct ofproto_dpif *ofproto;
            struct ofproto_port port;

            ofproto = ofproto_dpif_lookup_by_name(br_name);
            if (rp->ofproto || !ofproto
                || ofproto_port_query_by_name(&ofproto->up, name, &port)) {
                continue;
            }
            rp->ofproto = ofproto;
            rp->ofp_port = port.ofp_port;
            rp->bridge = xstrdup(br_name);
            rp->name = xstrdup(name);
            ofproto_port_destroy(&port);
        }
        sset_destroy(&names);
    }
    sset_destroy(&types);
}

void
rep_port_find(struct esw_dev *dev, uint32_t vport, struct rep_port *rp)
{
    char *port = NULL;
    bool held;

    memset(rp, 0, sizeof *rp);
    if (eswitch_function_port(dev, vport, &port, &held) && !held) {
        find_bridge_port(port, rp);
    }
    free(port);
}

void
rep_port_destroy(struct rep_port *rp)
{
    free(rp->bridge);
    free(rp->name);
    memset(rp, 0, sizeof *rp);
}
