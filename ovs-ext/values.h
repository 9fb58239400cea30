/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/values.h: the one integer parser, MAC parser and MAC formatter
 * of ovs-ext and ovs-eswitchctl, on top of OVS's own. */

#ifndef OVS_EXT_VALUES_H
#define OVS_EXT_VALUES_H 1

/* Every integer and MAC address that a user gives (Interface options,
 * other_config, appctl and ovs-eswitchctl arguments, the configuration
 * file, recovery state) is read by the functions below, so that one
 * syntax holds everywhere:
 *
 *   - integers: OVS's str_to_ullong(), decimal digits only (no sign, no
 *     space), or "0x" and hex digits where a hexadecimal number is asked
 *     for (virtio feature bits);
 *
 *   - MAC addresses: OVS's eth_addr_from_string(), "xx:xx:xx:xx:xx:xx";
 *
 * and printed with OVS's ETH_ADDR_FMT:
 *
 *     ds_put_format(&s, "mac "ETH_ADDR_FMT, ETH_ADDR_BYTES_ARGS(mac.ea));
 *
 * These functions only parse; the caller says what was wrong, naming the
 * option and echoing the value (echo-arg.h). */

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "datapath/packet/esw-packet.h"
#include "packets.h"

/* Parses 's' as a decimal integer between 'min' and 'max' (both
 * included).  Returns false, leaving '*out' alone, if it is not one. */
bool value_parse_uint(const char *s, uint32_t min, uint32_t max,
                      uint32_t *out);

/* Parses 's' as "0x" followed by up to 16 hex digits. */
bool value_parse_hex64(const char *s, uint64_t *out);

/* Parses the decimal digits at the start of 's' as a 32-bit integer;
 * stores it, and in '*endp' what follows the digits.  For names that
 * embed numbers ("pf0vf3"). */
bool value_parse_uint_prefix(const char *s, uint32_t *out,
                             const char **endp);

/* As value_parse_uint(), for option or argument 'key': on failure returns
 * EINVAL with "invalid KEY \"VALUE\": expected an integer between MIN and
 * MAX" in '*errp' (malloc'd). */
int value_parse_uint_arg(const char *key, const char *value, uint32_t min,
                         uint32_t max, uint32_t *out, char **errp);

/* Returns "invalid KEY \"VALUE\": expected " followed by 'expected', a
 * printf format (malloc'd); VALUE is echoed as echo-arg.h says. */
char *value_invalid(const char *key, const char *value,
                    const char *expected, ...)
    OVS_PRINTF_FORMAT(3, 4);

/* Parses 's' as a MAC address "xx:xx:xx:xx:xx:xx". */
bool value_parse_mac(const char *s, struct esw_eth_addr *mac);

/* OVS's ETH_ADDR_BYTES_ARGS for a 'struct esw_eth_addr *'. */
#define ESW_MAC_ARGS(MAC) ETH_ADDR_BYTES_ARGS((MAC)->ea)

#endif /* ovs-ext/values.h */
