/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/offload-diag.h: the flow offload provider's diagnostics
 * (eswitch/dump-flows, eswitch/offload-stats, eswitch/offload-check). */

#ifndef OVS_EXT_OFFLOAD_DIAG_H
#define OVS_EXT_OFFLOAD_DIAG_H 1

/* Registers eswitch/dump-flows, eswitch/offload-stats and
 * eswitch/offload-check (see offload-diag.c). */
void offload_diag_register(void);

#endif /* ovs-ext/offload-diag.h */
