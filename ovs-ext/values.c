/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/values.c: the one integer parser, MAC parser and MAC formatter
 * of ovs-ext and ovs-eswitchctl, on top of OVS's own (see values.h). */

#include <config.h>

#include "values.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "echo-arg.h"
#include "openvswitch/dynamic-string.h"
#include "util.h"

#define DIGITS "0123456789"
#define HEXITS "0123456789abcdefABCDEF"

/* The one integer parser: OVS's, without the leniency of strtoull()
 * (leading space, a sign, "0x" in a decimal number). */
static bool
parse_uint64(const char *s, int base, uint64_t max, uint64_t *out)
{
    const char *digits = s;
    unsigned long long v;

    if (base == 16) {
        if (strncmp(s, "0x", 2)) {
            return false;
        }
        digits = s + 2;
    }
    if (!strchr(base == 16 ? HEXITS : DIGITS, digits[0]) || !digits[0]
        || !str_to_ullong(s, base, &v) || v > max) {
        return false;
    }
    *out = v;
    return true;
}

bool
value_parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    uint64_t v;

    if (!parse_uint64(s, 10, max, &v) || v < min) {
        return false;
    }
    *out = v;
    return true;
}

int
value_parse_uint_arg(const char *key, const char *value, uint32_t min,
                     uint32_t max, uint32_t *out, char **errp)
{
    if (!value_parse_uint(value, min, max, out)) {
        *errp = value_invalid(key, value, "an integer between %"PRIu32" and "
                              "%"PRIu32, min, max);
        return EINVAL;
    }
    return 0;
}

char *
value_invalid(const char *key, const char *value, const char *expected, ...)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    struct echo_buf b;
    va_list args;

    ds_put_format(&s, "invalid %s \"%s\": expected ", key,
                  echo_arg(value, &b));
    va_start(args, expected);
    ds_put_format_valist(&s, expected, args);
    va_end(args);
    return ds_steal_cstr(&s);
}

bool
value_parse_hex64(const char *s, uint64_t *out)
{
    return parse_uint64(s, 16, UINT64_MAX, out);
}

bool
value_parse_uint_prefix(const char *s, uint32_t *out, const char **endp)
{
    size_t n = strspn(s, DIGITS);
    char *digits = xmemdup0(s, n);
    bool ok = value_parse_uint(digits, 0, UINT32_MAX, out);

    free(digits);
    if (ok) {
        *endp = s + n;
    }
    return ok;
}

bool
value_parse_mac(const char *s, struct esw_eth_addr *mac)
{
    struct eth_addr ea;

    if (!eth_addr_from_string(s, &ea)) {
        return false;
    }
    memcpy(mac->ea, ea.ea, sizeof mac->ea);
    return true;
}
