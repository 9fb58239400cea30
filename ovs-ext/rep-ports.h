/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_REP_PORTS_H
#define OVS_EXT_REP_PORTS_H 1

/* Where the representor of an eSwitch function is: the port that holds
 * the function (its claim, eswitch_function_port()) and the bridge that
 * port is on now (main thread only: it asks OVS's ofprotos). */

#include <stdint.h>
#include "openflow/openflow.h"

struct esw_dev;
struct ofproto_dpif;

struct rep_port {
    struct ofproto_dpif *ofproto;   /* NULL if on no bridge. */
    ofp_port_t ofp_port;
    char *bridge;                   /* Owned; NULL if on no bridge. */
    char *name;                     /* Owned; NULL if on no bridge. */
};

/* Finds the bridge port that represents ('dev', 'vport'). */
void rep_port_find(struct esw_dev *, uint32_t vport, struct rep_port *);
void rep_port_destroy(struct rep_port *);

#endif /* ovs-ext/rep-ports.h */
