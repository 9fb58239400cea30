/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-ext/port-policy-options.c: the Interface options of the port
 * policy, in one table: each option's name, parser, printer and JSON. */

#include <config.h>

#include "port-policy-options.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "datapath/esw.h"
#include "datapath/policy/esw-policy-config.h"
#include "echo-arg.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "smap.h"
#include "util.h"
#include "values.h"

/* The syntax of an option's value. */
enum option_type {
    OPT_UINT,                   /* Decimal 0..'max'. */
    OPT_BOOL,                   /* 'true_word' or 'false_word'. */
    OPT_ENUM,                   /* One of 'values'. */
    OPT_MAC,                    /* A unicast MAC. */
    OPT_TRUNKS,                 /* VLAN IDs and ranges, "10,20-30". */
    OPT_MACS,                   /* Unicast MACs, "A,B". */
};

struct option_value {
    const char *name;
    unsigned int value;
};

struct policy_option {
    const char *name;
    const char *alias_of;       /* NULL, or the option this is another name
                                 * of: it sets the same field and is never
                                 * printed. */
    enum option_type type;
    size_t offset, size;        /* Its field in struct esw_policy_config
                                 * (for OPT_TRUNKS and OPT_MACS, what tells
                                 * whether it differs from the default). */
    uint32_t max;               /* OPT_UINT. */
    const char *true_word, *false_word;     /* OPT_BOOL. */
    const struct option_value *values;      /* OPT_ENUM: the names, each
                                             * value's printed name first;
                                             * NULL-terminated. */
    bool nocase;                /* OPT_ENUM: case does not matter. */
    const char *expected;       /* OPT_ENUM: the names people should use. */
};

#define FIELD(MEMBER)                                           \
    offsetof(struct esw_policy_config, MEMBER),                 \
    sizeof ((struct esw_policy_config *) NULL)->MEMBER

#define UINT_OPTION(NAME, MEMBER, MAX)                                  \
    { .name = NAME, .type = OPT_UINT, FIELD(MEMBER), .max = MAX }
#define BOOL_OPTION(NAME, ALIAS_OF, MEMBER, TRUE, FALSE)                \
    { .name = NAME, .alias_of = ALIAS_OF, .type = OPT_BOOL,             \
      FIELD(MEMBER), .true_word = TRUE, .false_word = FALSE }

static const struct option_value vlan_protos[] = {
    { "802.1Q", ESW_TPID_8021Q },
    { "802.1ad", ESW_TPID_8021AD },
    { "0x8100", ESW_TPID_8021Q },
    { "0x88a8", ESW_TPID_8021AD },
    { NULL, 0 },
};

static const struct option_value link_states[] = {
    { "auto", ESW_POLICY_LINK_AUTO },
    { "up", ESW_POLICY_LINK_UP },
    { "down", ESW_POLICY_LINK_DOWN },
    { "enable", ESW_POLICY_LINK_UP },
    { "disable", ESW_POLICY_LINK_DOWN },
    { NULL, 0 },
};

static const struct policy_option options[PORT_POLICY_N_OPTIONS] = {
    { .name = "admin-mac", .type = OPT_MAC, FIELD(admin_mac) },
    { .name = "mac", .alias_of = "admin-mac", .type = OPT_MAC,
      FIELD(admin_mac) },
    UINT_OPTION("vlan", vlan, ESW_POLICY_VLAN_MAX),
    UINT_OPTION("qos", qos, ESW_POLICY_QOS_MAX),
    { .name = "vlan-proto", .type = OPT_ENUM, FIELD(vlan_proto),
      .values = vlan_protos, .nocase = true,
      .expected = "802.1Q or 802.1ad" },
    { .name = "trunks", .type = OPT_TRUNKS, FIELD(trunks) },
    BOOL_OPTION("trunk-untagged", NULL, trunk_untagged, "true", "false"),
    BOOL_OPTION("spoofchk", NULL, spoofchk, "true", "false"),
    { .name = "allowed-macs", .type = OPT_MACS, FIELD(n_allowed_macs) },
    BOOL_OPTION("trust", NULL, trust, "true", "false"),
    BOOL_OPTION("mac-changes", "trust", trust, "accept", "reject"),
    BOOL_OPTION("promisc", NULL, promisc, "true", "false"),
    UINT_OPTION("max-tx-rate", max_tx_rate, ESW_POLICY_RATE_MAX),
    UINT_OPTION("min-tx-rate", min_tx_rate, ESW_POLICY_RATE_MAX),
    { .name = "link-state", .type = OPT_ENUM, FIELD(link_state),
      .values = link_states, .expected = "auto, up or down" },
};

const char *const port_policy_option_names[PORT_POLICY_N_OPTIONS + 1] = {
    "admin-mac", "mac", "vlan", "qos", "vlan-proto", "trunks",
    "trunk-untagged", "spoofchk", "allowed-macs", "trust", "mac-changes",
    "promisc", "max-tx-rate", "min-tx-rate", "link-state", NULL
};

static const struct esw_policy_config defaults
    = ESW_POLICY_CONFIG_INITIALIZER;

/* Fields.
 * ======= */

static uint32_t
get_field(const struct esw_policy_config *cfg, const struct policy_option *o)
{
    const char *p = (const char *) cfg + o->offset;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;

    switch (o->size) {
    case 1: memcpy(&u8, p, 1); return u8;
    case 2: memcpy(&u16, p, 2); return u16;
    case 4: memcpy(&u32, p, 4); return u32;
    default: OVS_NOT_REACHED();
    }
}

static void
set_field(struct esw_policy_config *cfg, const struct policy_option *o,
          uint32_t value)
{
    char *p = (char *) cfg + o->offset;
    uint8_t u8 = value;
    uint16_t u16 = value;

    switch (o->size) {
    case 1: memcpy(p, &u8, 1); break;
    case 2: memcpy(p, &u16, 2); break;
    case 4: memcpy(p, &value, 4); break;
    default: OVS_NOT_REACHED();
    }
}

static bool
same_field(const struct esw_policy_config *a,
           const struct esw_policy_config *b, const struct policy_option *o)
{
    return !memcmp((const char *) a + o->offset, (const char *) b + o->offset,
                   o->size);
}

static const char *
enum_name(const struct policy_option *o, uint32_t value)
{
    for (const struct option_value *v = o->values; v->name; v++) {
        if (v->value == value) {
            return v->name;
        }
    }
    return "?";
}

/* Parsing.
 * ======== */

static int
bad_value(char **errp, const char *key, const char *value,
          const char *expected)
{
    *errp = value_invalid(key, value, "%s", expected);
    return EINVAL;
}

static int
parse_mac(const char *key, const char *value, struct esw_eth_addr *mac,
          char **errp)
{
    if (!value_parse_mac(value, mac)) {
        return bad_value(errp, key, value,
                         "a MAC address such as 02:00:00:00:00:01");
    }
    if (esw_eth_addr_is_zero(mac) || esw_eth_addr_is_multicast(mac)) {
        /* Zero is not "no MAC" (the option unset). */
        *errp = xasprintf("%s "ETH_ADDR_FMT" is not unicast", key,
                          ESW_MAC_ARGS(mac));
        return EINVAL;
    }
    return 0;
}

/* Parses one trunk, "VID" or "VID-VID", into 'cfg'. */
static bool
parse_trunk(const char *token, struct esw_policy_config *cfg)
{
    const char *dash = strchr(token, '-');
    char *first_s = dash ? xmemdup0(token, dash - token) : xstrdup(token);
    uint32_t first = 0, last = 0;
    bool ok;

    ok = (value_parse_uint(first_s, 1, ESW_POLICY_VLAN_MAX, &first)
          && value_parse_uint(dash ? dash + 1 : first_s, first,
                              ESW_POLICY_VLAN_MAX, &last));
    free(first_s);
    for (uint32_t vid = first; ok && vid <= last; vid++) {
        esw_policy_config_add_trunk(cfg, vid);
    }
    return ok;
}

/* Parses a list of 'type' (OPT_TRUNKS or OPT_MACS) separated by commas or
 * spaces. */
static int
parse_list(const char *key, enum option_type type, const char *value,
           struct esw_policy_config *cfg, char **errp)
{
    char *copy = xstrdup(value);
    char *save = NULL, *token;
    size_t n = 0;
    bool ok = true;

    for (token = strtok_r(copy, ", ", &save); token && ok;
         token = strtok_r(NULL, ", ", &save)) {
        if (type == OPT_TRUNKS) {
            ok = parse_trunk(token, cfg);
        } else {
            struct esw_eth_addr mac;

            ok = value_parse_mac(token, &mac);
            if (ok && n < ESW_POLICY_MAX_ALLOWED_MACS) {
                cfg->allowed_macs[n] = mac;
            }
        }
        n++;
    }
    free(copy);

    if (type == OPT_TRUNKS && (!ok || !n)) {
        return bad_value(errp, key, value, "VLAN IDs and ranges between 1 "
                         "and 4094, such as 10,20-30");
    } else if (!ok) {
        return bad_value(errp, key, value,
                         "MAC addresses separated by commas");
    } else if (type == OPT_MACS) {
        if (n > ESW_POLICY_MAX_ALLOWED_MACS) {
            *errp = xasprintf("%s has %"PRIuSIZE" entries, at most %d "
                              "allowed", key, n, ESW_POLICY_MAX_ALLOWED_MACS);
            return EINVAL;
        }
        cfg->n_allowed_macs = n;
    }
    return 0;
}

/* Parses 'value' of option 'o' (given as 'key') into 'cfg'. */
static int
parse_option(const struct policy_option *o, const char *key,
             const char *value, struct esw_policy_config *cfg, char **errp)
{
    uint32_t u;

    switch (o->type) {
    case OPT_UINT:
        if (value_parse_uint_arg(key, value, 0, o->max, &u, errp)) {
            return EINVAL;
        }
        set_field(cfg, o, u);
        return 0;

    case OPT_BOOL:
        if (strcmp(value, o->true_word) && strcmp(value, o->false_word)) {
            *errp = value_invalid(key, value, "%s or %s", o->true_word,
                                  o->false_word);
            return EINVAL;
        }
        set_field(cfg, o, !strcmp(value, o->true_word));
        return 0;

    case OPT_ENUM:
        for (const struct option_value *v = o->values; v->name; v++) {
            if (o->nocase ? !strcasecmp(value, v->name)
                : !strcmp(value, v->name)) {
                set_field(cfg, o, v->value);
                return 0;
            }
        }
        return bad_value(errp, key, value, o->expected);

    case OPT_MAC:
        return parse_mac(key, value, &cfg->admin_mac, errp);

    case OPT_TRUNKS:
    case OPT_MACS:
        return parse_list(key, o->type, value, cfg, errp);
    }
    OVS_NOT_REACHED();
}

int
port_policy_parse(const struct smap *options_, struct esw_policy_config *cfg,
                  bool *has_policy, char **errp)
{
    char reason[ESW_ERROR_MAX];

    esw_policy_config_init(cfg);
    *has_policy = false;

    /* In table order, so that the first error reported does not depend on
     * hashing. */
    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        const struct policy_option *o = &options[i];
        const char *value = smap_get(options_, o->name);
        const char *primary = (o->alias_of
                               ? smap_get(options_, o->alias_of) : NULL);
        struct esw_policy_config alias_cfg;
        int error;

        if (!value) {
            continue;
        }
        *has_policy = true;
        alias_cfg = *cfg;
        error = parse_option(o, o->name, value, primary ? &alias_cfg : cfg,
                             errp);
        if (error) {
            return error;
        }
        if (primary && !same_field(cfg, &alias_cfg, o)) {
            struct echo_buf b1, b2;

            *errp = xasprintf("%s=%s contradicts %s=%s", o->alias_of,
                              echo_arg(primary, &b1), o->name,
                              echo_arg(value, &b2));
            return EINVAL;
        }
    }
    if (esw_policy_config_validate(cfg, reason, sizeof reason)) {
        *errp = xstrdup(reason);
        return EINVAL;
    }
    return 0;
}

/* Printing and JSON.
 * ================== */

/* Appends the value of option 'o' in 'cfg' to 's', in the option
 * syntax. */
static void
format_value(const struct policy_option *o,
             const struct esw_policy_config *cfg, struct ds *s)
{
    switch (o->type) {
    case OPT_UINT:
        ds_put_format(s, "%"PRIu32, get_field(cfg, o));
        break;
    case OPT_BOOL:
        ds_put_cstr(s, get_field(cfg, o) ? o->true_word : o->false_word);
        break;
    case OPT_ENUM:
        ds_put_cstr(s, enum_name(o, get_field(cfg, o)));
        break;
    case OPT_MAC:
        ds_put_format(s, ETH_ADDR_FMT, ESW_MAC_ARGS(&cfg->admin_mac));
        break;
    case OPT_TRUNKS:
        for (int vid = 0, n = 0; vid < ESW_POLICY_N_VIDS; vid++) {
            int end = vid;

            if (!esw_policy_config_has_trunk(cfg, vid)) {
                continue;
            }
            while (end + 1 < ESW_POLICY_N_VIDS
                   && esw_policy_config_has_trunk(cfg, end + 1)) {
                end++;
            }
            ds_put_format(s, "%s%d", n++ ? "," : "", vid);
            if (end != vid) {
                ds_put_format(s, "-%d", end);
            }
            vid = end;
        }
        break;
    case OPT_MACS:
        for (size_t i = 0; i < cfg->n_allowed_macs
                           && i < ESW_POLICY_MAX_ALLOWED_MACS; i++) {
            ds_put_format(s, "%s"ETH_ADDR_FMT, i ? "," : "",
                          ESW_MAC_ARGS(&cfg->allowed_macs[i]));
        }
        break;
    default:
        OVS_NOT_REACHED();
    }
}

/* Whether option 'o' is printed for 'cfg': it is not an alias and its
 * value is not the default. */
static bool
is_printed(const struct policy_option *o, const struct esw_policy_config *cfg)
{
    return !o->alias_of && !same_field(cfg, &defaults, o);
}

void
port_policy_format_options(const struct esw_policy_config *cfg,
                           struct ds *s)
{
    bool first = true;

    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        if (is_printed(&options[i], cfg)) {
            ds_put_format(s, "%s%s=", first ? "" : " ", options[i].name);
            format_value(&options[i], cfg, s);
            first = false;
        }
    }
}

struct json *
port_policy_options_to_json(const struct esw_policy_config *cfg)
{
    struct json *json = json_object_create();

    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        const struct policy_option *o = &options[i];
        struct json *value;

        if (!is_printed(o, cfg)) {
            continue;
        }
        if (o->type == OPT_UINT) {
            value = json_integer_create(get_field(cfg, o));
        } else if (o->type == OPT_BOOL) {
            value = json_boolean_create(get_field(cfg, o));
        } else if (o->type == OPT_MACS) {
            value = json_array_create_empty();
            for (size_t j = 0; j < cfg->n_allowed_macs
                               && j < ESW_POLICY_MAX_ALLOWED_MACS; j++) {
                json_array_add(value, json_string_create_nocopy(
                    xasprintf(ETH_ADDR_FMT,
                              ESW_MAC_ARGS(&cfg->allowed_macs[j]))));
            }
        } else {
            struct ds s = DS_EMPTY_INITIALIZER;

            format_value(o, cfg, &s);
            value = json_string_create_nocopy(ds_steal_cstr(&s));
        }
        json_object_put(json, o->name, value);
    }
    return json;
}
