/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_ESWITCH_TRACE_H
#define OVS_EXT_ESWITCH_TRACE_H 1

/* Registers eswitch/trace (see eswitch-trace.c). */
void eswitch_trace_register(void);

#endif /* ovs-ext/eswitch-trace.h */
