/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_ESWITCH_UNIXCTL_H
#define OVS_EXT_ESWITCH_UNIXCTL_H 1

/* Registers the eswitch/inject and eswitch/capture commands. */
void eswitch_unixctl_register(void);

#endif /* ovs-ext/eswitch-unixctl.h */
