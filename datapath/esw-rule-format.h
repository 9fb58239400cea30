/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_RULE_FORMAT_H
#define ESW_RULE_FORMAT_H 1

/* Human-readable rule specs, for diagnostics (eswitch/dump-rules) and
 * tests.  Thread-safe; writes a NUL-terminated string of at most 'size'
 * bytes (truncated if needed) and returns 'buf'.
 *
 *   priority=10,in_vport=2,eth_dst=02:65:00:02:00:01,eth_type=0x800,
 *   ip_dst=10.0.0.0/24 actions=push_vlan(tpid=0x8100,vid=100,pcp=0),output:3
 *
 * Only fields with a non-zero mask appear; a partial mask is printed after
 * a '/' (a prefix length for CIDR IP masks).  VLAN TCIs and TPIDs print in
 * hex as in the key.  A rule without actions prints "actions=drop". */

#include <stddef.h>

#include "esw.h"

/* Enough for any rule. */
#define ESW_RULE_FORMAT_SIZE 4096

char *esw_rule_spec_format(const struct esw_rule_spec *, char *buf,
                           size_t size);

/* A connection table entry, in the form of OVS's dpctl/dump-conntrack:
 *
 *   tcp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1024,dport=80),
 *   reply=(src=10.0.0.2,dst=10.0.0.1,sport=80,dport=1024),zone=1,mark=1
 *
 * then ",labels=0x..." and ",nat=snat" or ",nat=dnat" where they apply. */
char *esw_ct_spec_format(const struct esw_ct_spec *, char *buf, size_t size);

#endif /* esw-rule-format.h */
