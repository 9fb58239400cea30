/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef OVS_EXT_ESWITCH_SHOW_H
#define OVS_EXT_ESWITCH_SHOW_H 1

/* Registers eswitch/show (see eswitch-show.c). */
void eswitch_show_register(void);

#endif /* ovs-ext/eswitch-show.h */
