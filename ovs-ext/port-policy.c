/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* Per-port VLAN and MAC security policy: option parsing, application,
 * guest MAC mediation, held policies.  See port-policy.h. */

#include <config.h>

#include "port-policy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "netdev.h"
#include "netdev-provider.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/thread.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

#include "datapath/esw-packet-format.h"
#include "echo-arg.h"
#include "eswitch.h"

VLOG_DEFINE_THIS_MODULE(port_policy);

/* How often the tap host sides' addresses are looked at, in ms. */
#define PORT_POLICY_POLL_MS 100

/* Guest MAC changes are logged at INFO, but a guest that keeps asking
 * cannot flood the log. */
static struct vlog_rate_limit guest_rl = VLOG_RATE_LIMIT_INIT(10, 60);

const char *const port_policy_option_names[PORT_POLICY_N_OPTIONS + 1] = {
    "mac", "vlan", "qos", "vlan-proto", "trunks", "trunk-untagged",
    "spoofchk", "allowed-macs", "trust", "mac-changes", "promisc",
    "max-tx-rate", "min-tx-rate", "link-state", NULL
};

bool
port_policy_is_option(const char *key)
{
    for (const char *const *k = port_policy_option_names; *k; k++) {
        if (!strcmp(key, *k)) {
            return true;
        }
    }
    return false;
}

/* Parsing.
 * ======== */

static int
bad_value(char **errp, const char *key, const char *value,
          const char *expected)
{
    struct echo_buf b;

    *errp = xasprintf("invalid %s \"%s\": expected %s", key,
                      echo_arg(value, &b), expected);
    return EINVAL;
}

/* Parses a decimal integer of at most 9 digits from '*sp', advancing it. */
static bool
scan_uint(const char **sp, uint32_t *valuep)
{
    const char *s = *sp;
    uint32_t v = 0;
    int n = 0;

    while (*s >= '0' && *s <= '9') {
        if (++n > 9) {
            return false;
        }
        v = v * 10 + (*s++ - '0');
    }
    if (!n) {
        return false;
    }
    *valuep = v;
    *sp = s;
    return true;
}

static int
parse_uint_option(const char *key, const char *value, uint32_t min,
                  uint32_t max, uint32_t *out, char **errp)
{
    const char *s = value;
    uint32_t v;

    if (!scan_uint(&s, &v) || *s || v < min || v > max) {
        char *expected = xasprintf("an integer between %"PRIu32" and %"
                                   PRIu32, min, max);

        bad_value(errp, key, value, expected);
        free(expected);
        return EINVAL;
    }
    *out = v;
    return 0;
}

static int
parse_bool_option(const char *key, const char *value, bool *out,
                  char **errp)
{
    if (!strcmp(value, "true")) {
        *out = true;
    } else if (!strcmp(value, "false")) {
        *out = false;
    } else {
        return bad_value(errp, key, value, "true or false");
    }
    return 0;
}

static int
hexit(char c)
{
    return (c >= '0' && c <= '9' ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : -1);
}

/* Parses "xx:xx:xx:xx:xx:xx" (1 or 2 hex digits per byte) from '*sp',
 * advancing it. */
static bool
scan_mac(const char **sp, struct esw_eth_addr *mac)
{
    const char *s = *sp;

    for (int i = 0; i < ESW_ETH_ADDR_LEN; i++) {
        int hi = hexit(s[0]), lo;

        if (i && *s++ != ':') {
            return false;
        }
        hi = hexit(s[0]);
        if (hi < 0) {
            return false;
        }
        lo = hexit(s[1]);
        if (lo < 0) {
            mac->ea[i] = hi;
            s += 1;
        } else {
            mac->ea[i] = hi << 4 | lo;
            s += 2;
        }
    }
    *sp = s;
    return true;
}

static int
parse_mac_option(const char *key, const char *value,
                 struct esw_eth_addr *mac, char **errp)
{
    const char *s = value;

    if (!scan_mac(&s, mac) || *s) {
        return bad_value(errp, key, value,
                         "a MAC address such as 02:00:00:00:00:01");
    }
    if (esw_eth_addr_is_zero(mac)) {
        /* Not "no MAC" (the option unset): refused as multicast addresses
         * are, by esw_policy_config_validate(). */
        *errp = xasprintf("%s 00:00:00:00:00:00 is not unicast", key);
        return EINVAL;
    }
    return 0;
}

bool
port_policy_parse_mac(const char *s, struct esw_eth_addr *mac)
{
    return scan_mac(&s, mac) && !*s;
}

static const char *
skip_separators(const char *s)
{
    return s + strspn(s, ", ");
}

static int
parse_trunks(const char *value, struct esw_policy_config *cfg, char **errp)
{
    const char *s = skip_separators(value);

    if (!*s) {
        goto error;
    }
    while (*s) {
        uint32_t first, last;

        if (!scan_uint(&s, &first)) {
            goto error;
        }
        last = first;
        if (*s == '-') {
            s++;
            if (!scan_uint(&s, &last)) {
                goto error;
            }
        }
        if (first < 1 || last > ESW_POLICY_VLAN_MAX || first > last
            || (*s && *s != ',' && *s != ' ')) {
            goto error;
        }
        for (uint32_t vid = first; vid <= last; vid++) {
            esw_policy_config_add_trunk(cfg, vid);
        }
        s = skip_separators(s);
    }
    return 0;

error:
    return bad_value(errp, "trunks", value,
                     "VLAN IDs and ranges between 1 and 4094, such as "
                     "10,20-30");
}

static int
parse_allowed_macs(const char *value, struct esw_policy_config *cfg,
                   char **errp)
{
    const char *s = skip_separators(value);
    size_t n = 0;

    while (*s) {
        struct esw_eth_addr mac;

        if (!scan_mac(&s, &mac) || (*s && *s != ',' && *s != ' ')) {
            return bad_value(errp, "allowed-macs", value,
                             "MAC addresses separated by commas");
        }
        if (n < ESW_POLICY_MAX_ALLOWED_MACS) {
            cfg->allowed_macs[n] = mac;
        }
        n++;
        s = skip_separators(s);
    }
    if (n > ESW_POLICY_MAX_ALLOWED_MACS) {
        *errp = xasprintf("allowed-macs has %"PRIuSIZE" entries, at most %d "
                          "allowed", n, ESW_POLICY_MAX_ALLOWED_MACS);
        return EINVAL;
    }
    cfg->n_allowed_macs = n;
    return 0;
}

/* Parses option 'key' (one of port_policy_option_names[]) with 'value'
 * into 'cfg'.  'trust_set' tracks "trust" vs "mac-changes". */
static int
parse_option(const char *key, const char *value,
             struct esw_policy_config *cfg, char **errp)
{
    uint32_t u;
    int error;

    if (!strcmp(key, "mac")) {
        return parse_mac_option(key, value, &cfg->mac, errp);
    } else if (!strcmp(key, "vlan")) {
        error = parse_uint_option(key, value, 0, ESW_POLICY_VLAN_MAX, &u,
                                  errp);
        cfg->vlan = u;
    } else if (!strcmp(key, "qos")) {
        error = parse_uint_option(key, value, 0, ESW_POLICY_QOS_MAX, &u,
                                  errp);
        cfg->qos = u;
    } else if (!strcmp(key, "vlan-proto")) {
        if (!strcasecmp(value, "802.1q") || !strcasecmp(value, "0x8100")) {
            cfg->vlan_proto = ESW_TPID_8021Q;
        } else if (!strcasecmp(value, "802.1ad")
                   || !strcasecmp(value, "0x88a8")) {
            cfg->vlan_proto = ESW_TPID_8021AD;
        } else {
            return bad_value(errp, key, value, "802.1Q or 802.1ad");
        }
        return 0;
    } else if (!strcmp(key, "trunks")) {
        return parse_trunks(value, cfg, errp);
    } else if (!strcmp(key, "trunk-untagged")) {
        return parse_bool_option(key, value, &cfg->trunk_untagged, errp);
    } else if (!strcmp(key, "spoofchk")) {
        return parse_bool_option(key, value, &cfg->spoofchk, errp);
    } else if (!strcmp(key, "allowed-macs")) {
        return parse_allowed_macs(value, cfg, errp);
    } else if (!strcmp(key, "trust")) {
        return parse_bool_option(key, value, &cfg->trust, errp);
    } else if (!strcmp(key, "mac-changes")) {
        if (!strcmp(value, "accept")) {
            cfg->trust = true;
        } else if (!strcmp(value, "reject")) {
            cfg->trust = false;
        } else {
            return bad_value(errp, key, value, "accept or reject");
        }
        return 0;
    } else if (!strcmp(key, "promisc")) {
        return parse_bool_option(key, value, &cfg->promisc, errp);
    } else if (!strcmp(key, "max-tx-rate")) {
        error = parse_uint_option(key, value, 0, ESW_POLICY_RATE_MAX,
                                  &cfg->max_tx_rate, errp);
    } else if (!strcmp(key, "min-tx-rate")) {
        error = parse_uint_option(key, value, 0, ESW_POLICY_RATE_MAX,
                                  &cfg->min_tx_rate, errp);
    } else if (!strcmp(key, "link-state")) {
        if (!strcmp(value, "auto")) {
            cfg->link_state = ESW_POLICY_LINK_AUTO;
        } else if (!strcmp(value, "enable")) {
            cfg->link_state = ESW_POLICY_LINK_ENABLE;
        } else if (!strcmp(value, "disable")) {
            cfg->link_state = ESW_POLICY_LINK_DISABLE;
        } else {
            return bad_value(errp, key, value, "auto, enable or disable");
        }
        return 0;
    } else {
        OVS_NOT_REACHED();
    }
    return error;
}

int
port_policy_parse(const struct smap *options, struct esw_policy_config *cfg,
                  bool *has_policy, char **errp)
{
    const char *trust = smap_get(options, "trust");
    const char *mac_changes = smap_get(options, "mac-changes");
    char reason[ESW_ERROR_MAX];

    esw_policy_config_init(cfg);
    *has_policy = false;

    /* In a fixed order, so that the first error reported does not depend
     * on hashing. */
    for (const char *const *k = port_policy_option_names; *k; k++) {
        const char *value = smap_get(options, *k);
        int error;

        if (!value) {
            continue;
        }
        *has_policy = true;
        error = parse_option(*k, value, cfg, errp);
        if (error) {
            return error;
        }
    }
    if (trust && mac_changes
        && !strcmp(trust, "true") != !strcmp(mac_changes, "accept")) {
        *errp = xasprintf("trust=%s contradicts mac-changes=%s", trust,
                          mac_changes);
        return EINVAL;
    }
    if (esw_policy_config_validate(cfg, reason, sizeof reason)) {
        *errp = xstrdup(reason);
        return EINVAL;
    }
    return 0;
}

/* The ports whose functions have (or may have) a policy.
 * ====================================================== */

struct pp_port {
    struct hmap_node node;      /* In 'pp_ports', by hash of 'name'. */
    char *name;                 /* Port (Interface) name. */
    struct eswitch *esw;
    uint32_t vport;
    struct netdev *netdev;      /* The representor; NULL while held. */

    /* Guest MAC mediation. */
    bool polls_host_mac;        /* The host side has an address to watch. */
    struct esw_eth_addr host_mac;   /* Its value when last looked at. */
    char *refusal;              /* Reason of the last refusal, or NULL. */
};

/* Protects the registry.  Taken before eswitch.c's mutex (which the device
 * and eswitch calls made under it may take), never the other way. */
static struct ovs_mutex pp_mutex = OVS_MUTEX_INITIALIZER;
static struct hmap pp_ports OVS_GUARDED_BY(pp_mutex)
    = HMAP_INITIALIZER(&pp_ports);
static size_t pp_n_held OVS_GUARDED_BY(pp_mutex);
static long long int pp_next_poll OVS_GUARDED_BY(pp_mutex);

/* The bridge's database (see port_policy_set_idl()); its seqno when the
 * held functions were last checked against it. */
static const struct ovsdb_idl *pp_idl;
static unsigned int pp_idl_seqno OVS_GUARDED_BY(pp_mutex);
static bool pp_gc_needed OVS_GUARDED_BY(pp_mutex);

void
port_policy_set_idl(const struct ovsdb_idl *idl)
{
    pp_idl = idl;
}

static struct pp_port *
pp_find(const char *name) OVS_REQUIRES(pp_mutex)
{
    struct pp_port *p;

    HMAP_FOR_EACH_WITH_HASH (p, node, hash_string(name, 0), &pp_ports) {
        if (!strcmp(p->name, name)) {
            return p;
        }
    }
    return NULL;
}

static struct pp_port *
pp_find_function(const struct esw_dev *dev, uint32_t vport)
    OVS_REQUIRES(pp_mutex)
{
    struct pp_port *p;

    HMAP_FOR_EACH (p, node, &pp_ports) {
        if (eswitch_dev(p->esw) == dev && p->vport == vport) {
            return p;
        }
    }
    return NULL;
}

static void
pp_remove(struct pp_port *p) OVS_REQUIRES(pp_mutex)
{
    if (!p->netdev) {
        pp_n_held--;
    }
    hmap_remove(&pp_ports, &p->node);
    free(p->refusal);
    free(p->name);
    free(p);
}

/* The name of function 'vport' of 'esw' in messages, "esw0/pf0vf1" as
 * eswitch/policy/show names it (or "esw0/vport 3" if it is gone). */
struct fn_name {
    char s[2 * ESW_NAME_MAX + sizeof "/vport 4294967295"];
};

static const char *
fn_name(const struct eswitch *esw, uint32_t vport, struct fn_name *name)
{
    struct esw_vport_info info;

    if (!esw_vport_get_info(eswitch_dev(esw), vport, &info)) {
        snprintf(name->s, sizeof name->s, "%s/%s", eswitch_name(esw),
                 info.name);
    } else {
        snprintf(name->s, sizeof name->s, "%s/vport %"PRIu32,
                 eswitch_name(esw), vport);
    }
    return name->s;
}

/* Takes everything the policy put into function 'vport' of 'esw' out of
 * the device: the policy and the guest's MAC.  (Rules that reference the
 * vport belong to the flow offload provider, which removes them with the
 * port's datapath flows.) */
static void
reset_function(const char *port_name, struct eswitch *esw, uint32_t vport)
{
    struct esw_dev *dev = eswitch_dev(esw);
    struct esw_error err;
    struct fn_name name;

    if (esw_vport_set_policy(dev, vport, NULL, &err)
        || esw_vport_guest_reset(dev, vport)) {
        /* Only if the function is already gone, which leaves nothing. */
        VLOG_DBG("%s: function %s not reset: %s", port_name,
                 fn_name(esw, vport, &name), err.reason);
    }
}

int
port_policy_apply(struct eswitch *esw, uint32_t vport,
                  const struct esw_policy_config *cfg, char **errp)
{
    struct esw_error err;
    int error;

    error = esw_vport_set_policy(eswitch_dev(esw), vport, cfg, &err);
    if (error) {
        *errp = xasprintf("cannot apply the port policy: %s",
                          err.reason[0] ? err.reason : ovs_strerror(error));
    }
    return error;
}

bool
port_policy_is_held(const char *port_name, const struct eswitch *esw,
                    uint32_t vport)
{
    struct pp_port *p;
    bool held;

    ovs_mutex_lock(&pp_mutex);
    p = pp_find(port_name);
    held = p && !p->netdev && p->esw == esw && p->vport == vport;
    ovs_mutex_unlock(&pp_mutex);
    return held;
}

/* Strips the "<function>: " prefix of a device error reason. */
static const char *
device_reason(const char *reason, const char *fn_name)
{
    size_t len = strlen(fn_name);

    return (!strncmp(reason, fn_name, len) && !strncmp(reason + len, ": ", 2)
            ? reason + len + 2 : reason);
}

/* The guest of 'p''s function (or of 'vport' of 'dev' when 'p' is NULL)
 * asks for 'mac'. */
static int
guest_request__(struct pp_port *p, struct esw_dev *dev, uint32_t vport,
                const struct esw_eth_addr *mac, const char *source,
                char **reasonp) OVS_REQUIRES(pp_mutex)
{
    char old_s[ESW_ETH_ADDR_STRLEN], new_s[ESW_ETH_ADDR_STRLEN];
    struct esw_vport_info info;
    struct esw_error err;
    const char *reason;
    int error;

    error = esw_vport_get_info(dev, vport, &info);
    if (error) {
        return error;
    }
    esw_eth_addr_format(&info.effective_mac, old_s, sizeof old_s);
    esw_eth_addr_format(mac, new_s, sizeof new_s);

    error = esw_vport_guest_set_mac(dev, vport, mac, &err);
    reason = device_reason(err.reason, info.name);
    if (!error) {
        if (p) {
            free(p->refusal);
            p->refusal = NULL;
            if (p->netdev) {
                netdev_change_seq_changed(p->netdev);   /* mac_in_use. */
            }
        }
        if (strcmp(old_s, new_s)) {
            VLOG_INFO_RL(&guest_rl, "%s: guest MAC change (%s) from %s to "
                         "%s accepted", p ? p->name : info.name, source,
                         old_s, new_s);
        }
    } else if (error == EPERM) {
        if (p) {
            free(p->refusal);
            p->refusal = xstrdup(reason);
            if (p->netdev) {
                netdev_change_seq_changed(p->netdev);   /* Status. */
            }
        }
        VLOG_INFO_RL(&guest_rl, "%s: guest MAC change (%s) from %s to %s "
                     "refused: %s", p ? p->name : info.name, source, old_s,
                     new_s, reason);
    }
    if (error && reasonp) {
        *reasonp = xstrdup(reason[0] ? reason : ovs_strerror(error));
    }
    return error;
}

int
port_policy_guest_request(struct esw_dev *dev, uint32_t vport,
                          const struct esw_eth_addr *mac, const char *source,
                          char **reasonp)
{
    int error;

    ovs_mutex_lock(&pp_mutex);
    error = guest_request__(pp_find_function(dev, vport), dev, vport, mac,
                            source, reasonp);
    ovs_mutex_unlock(&pp_mutex);
    return error;
}

void
port_policy_bind(const char *port_name, struct eswitch *esw, uint32_t vport,
                 const struct esw_policy_config *cfg, struct netdev *netdev)
{
    struct esw_dev *dev = eswitch_dev(esw);
    struct esw_vport_info info;
    struct fn_name name;
    struct pp_port *p;

    ovs_mutex_lock(&pp_mutex);
    p = pp_find(port_name);
    if (p && (p->esw != esw || p->vport != vport)) {
        /* The port came back for another function: the one it held (or,
         * if it was bound, had) is garbage. */
        VLOG_DBG("%s: function %s no longer held", port_name,
                 fn_name(p->esw, p->vport, &name));
        reset_function(port_name, p->esw, p->vport);
        if (!p->netdev) {
            eswitch_release(p->esw, p->vport);
        }
        pp_remove(p);
        p = NULL;
    }
    if (!p) {
        p = xzalloc(sizeof *p);
        p->name = xstrdup(port_name);
        p->esw = esw;
        p->vport = vport;
        p->netdev = netdev;
        hmap_insert(&pp_ports, &p->node, hash_string(port_name, 0));
        p->polls_host_mac = !esw_vport_get_host_mac(dev, vport,
                                                    &p->host_mac);
    } else if (!p->netdev) {
        VLOG_DBG("%s: takes back function %s", port_name,
                 fn_name(esw, vport, &name));
        pp_n_held--;
    }
    p->netdev = netdev;

    /* A port that becomes trusted gets what its guest asked for (the
     * only case where asking again can have another answer). */
    if (cfg && cfg->trust && esw_eth_addr_is_zero(&cfg->mac)
        && !esw_vport_get_info(dev, vport, &info) && info.guest_mac_refused
        && !esw_eth_addr_is_zero(&info.guest_mac)) {
        guest_request__(p, dev, vport, &info.guest_mac, "now trusted", NULL);
    }
    ovs_mutex_unlock(&pp_mutex);
}

void
port_policy_unbind(const char *port_name, struct eswitch *esw,
                   uint32_t vport)
{
    struct pp_port *p;

    ovs_mutex_lock(&pp_mutex);
    p = pp_find(port_name);
    if (p && p->esw == esw && p->vport == vport) {
        pp_remove(p);
    }
    ovs_mutex_unlock(&pp_mutex);
    reset_function(port_name, esw, vport);
}

void
port_policy_hold(const char *port_name, struct eswitch *esw, uint32_t vport,
                 const char *reason)
{
    struct fn_name name;
    struct pp_port *p;

    ovs_mutex_lock(&pp_mutex);
    p = pp_find(port_name);
    if (!p) {
        p = xzalloc(sizeof *p);
        p->name = xstrdup(port_name);
        p->esw = esw;
        p->vport = vport;
        hmap_insert(&pp_ports, &p->node, hash_string(port_name, 0));
    }
    ovs_assert(p->esw == esw && p->vport == vport);
    if (p->netdev) {
        p->netdev = NULL;
        pp_n_held++;
    }
    pp_gc_needed = true;
    /* INFO: the user's error is in the Interface's error column, and OVS
     * warns that it could not set the configuration. */
    VLOG_INFO("%s: new configuration refused%s%s%s: the port is out of the "
              "bridge until it is fixed, function %s keeps its previous "
              "policy", port_name, reason ? " (" : "", reason ? reason : "",
              reason ? ")" : "", fn_name(esw, vport, &name));
    ovs_mutex_unlock(&pp_mutex);
}

/* Status and diagnostics.
 * ======================= */

static void
format_mac(const struct esw_eth_addr *mac, char s[ESW_ETH_ADDR_STRLEN])
{
    esw_eth_addr_format(mac, s, ESW_ETH_ADDR_STRLEN);
}

/* What the guest asked for, as "accepted" or "refused: REASON". */
static char *
guest_mac_change_state(const struct pp_port *p,
                       const struct esw_vport_info *info)
    OVS_REQUIRES(pp_mutex)
{
    if (!info->guest_mac_refused) {
        return xstrdup("accepted");
    }
    return (p && p->refusal ? xasprintf("refused: %s", p->refusal)
            : xstrdup("refused"));
}

void
port_policy_get_status(const char *port_name, struct esw_dev *dev,
                       uint32_t vport, struct smap *status)
{
    struct esw_vport_info info;
    struct pp_port *p;
    char s[ESW_ETH_ADDR_STRLEN];

    if (esw_vport_get_info(dev, vport, &info)) {
        return;
    }
    ovs_mutex_lock(&pp_mutex);
    p = pp_find(port_name);
    if (info.has_policy) {
        struct esw_policy_config cfg;
        bool has_policy;

        if (!esw_vport_get_policy(dev, vport, &cfg, &has_policy)
            && has_policy) {
            char buf[512];

            esw_policy_config_format(&cfg, buf, sizeof buf);
            smap_add(status, "policy", buf[0] ? buf : "default");
        }
    }
    if (!esw_eth_addr_is_zero(&info.guest_mac)) {
        format_mac(&info.guest_mac, s);
        smap_add(status, "guest_mac", s);
        smap_add_nocopy(status, xstrdup("guest_mac_change"),
                        guest_mac_change_state(p, &info));
    }
    ovs_mutex_unlock(&pp_mutex);
}

struct rule_ref_aux {
    struct esw_dev *dev;
    uint32_t vport;
    size_t n;
};

static bool
count_rule_refs_cb(struct esw_rule *rule, void *aux_)
{
    struct rule_ref_aux *aux = aux_;
    struct esw_rule_spec spec;
    bool refs;

    esw_rule_get_spec(aux->dev, rule, &spec);
    refs = spec.mask.in_vport && spec.match.in_vport == aux->vport;
    for (size_t i = 0; i < spec.n_actions && !refs; i++) {
        refs = (spec.actions[i].type == ESW_ACTION_OUTPUT
                && spec.actions[i].vport == aux->vport);
    }
    aux->n += refs;
    return true;
}

/* Rules (in the table or orphaned) that match on or output to 'vport'. */
static size_t
count_rule_refs(struct esw_dev *dev, uint32_t vport)
{
    struct rule_ref_aux aux = { .dev = dev, .vport = vport };

    esw_rule_foreach(dev, count_rule_refs_cb, &aux);
    return aux.n;
}

/* Policy options as esw_policy_config_format() writes them ("key=value
 * ...", values without spaces), as a JSON object of strings. */
static struct json *
policy_options_json(const char *formatted)
{
    struct json *options = json_object_create();
    char *copy = xstrdup(formatted);
    char *save = NULL, *token;

    for (token = strtok_r(copy, " ", &save); token;
         token = strtok_r(NULL, " ", &save)) {
        char *value = strchr(token, '=');

        if (value) {
            *value++ = '\0';
            json_object_put_string(options, token, value);
        }
    }
    free(copy);
    return options;
}

int
port_policy_format(struct esw_dev *dev, uint32_t vport, struct ds *s,
                   struct json *json)
{
    static const enum esw_drop_reason reasons[] = {
        ESW_DROP_SPOOF, ESW_DROP_VLAN, ESW_DROP_NOT_FOR_ME, ESW_DROP_RATE,
        ESW_DROP_LINK_DOWN,
    };
    char mac_s[ESW_ETH_ADDR_STRLEN], eff_s[ESW_ETH_ADDR_STRLEN];
    char guest_s[ESW_ETH_ADDR_STRLEN];
    struct esw_policy_config cfg;
    struct esw_vport_stats stats;
    struct esw_vport_info info;
    char *guest_state = NULL;
    char policy[512] = "";
    char *port = NULL;
    bool has_policy;
    bool held = false;
    size_t n_rules;
    struct pp_port *p;

    if (esw_vport_get_info(dev, vport, &info)
        || esw_vport_get_policy(dev, vport, &cfg, &has_policy)
        || esw_vport_get_stats(dev, vport, &stats)) {
        return ENOENT;
    }

    ovs_mutex_lock(&pp_mutex);
    p = pp_find_function(dev, vport);
    if (p) {
        port = xstrdup(p->name);
        held = !p->netdev;
    }
    if (!esw_eth_addr_is_zero(&info.guest_mac)) {
        guest_state = guest_mac_change_state(p, &info);
    }
    ovs_mutex_unlock(&pp_mutex);

    if (has_policy) {
        esw_policy_config_format(&cfg, policy, sizeof policy);
    }
    format_mac(&info.mac, mac_s);
    format_mac(&info.effective_mac, eff_s);
    format_mac(&info.guest_mac, guest_s);
    n_rules = count_rule_refs(dev, vport);

    if (s) {
        ds_put_format(s, "function: %s/%s (vport %"PRIu32")\n",
                      esw_dev_name(dev), info.name, vport);
        if (!port) {
            ds_put_cstr(s, "port: none\n");
        } else if (held) {
            ds_put_format(s, "port: %s (out of the bridge: its new "
                          "configuration was refused, the previous policy "
                          "stays)\n", port);
        } else {
            ds_put_format(s, "port: %s\n", port);
        }
        ds_put_format(s, "policy: %s\n",
                      !has_policy ? "none" : policy[0] ? policy : "default");
        ds_put_format(s, "mac: default %s, effective %s\n", mac_s, eff_s);
        if (guest_state) {
            ds_put_format(s, "guest mac: %s (%s)\n", guest_s, guest_state);
        } else {
            ds_put_cstr(s, "guest mac: none\n");
        }
        ds_put_format(s, "guest mac changes refused: %"PRIu64"\n",
                      stats.guest_mac_refused);
        ds_put_format(s, "rules: %"PRIuSIZE"\n", n_rules);
        ds_put_cstr(s, "drops:");
        for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
            ds_put_format(s, "%s %s %"PRIu64, i ? "," : "",
                          esw_drop_reason_name(reasons[i]),
                          stats.drops[reasons[i]]);
        }
        ds_put_char(s, '\n');
    }

    if (json) {
        struct json *drops = json_object_create();

        json_object_put_string(json, "function", info.name);
        json_object_put_string(json, "eswitch", esw_dev_name(dev));
        json_object_put(json, "vport", json_integer_create(vport));
        json_object_put(json, "port", (port ? json_string_create(port)
                                       : json_null_create()));
        json_object_put(json, "held", json_boolean_create(held));
        json_object_put(json, "policy", (has_policy
                                         ? policy_options_json(policy)
                                         : json_null_create()));
        json_object_put_string(json, "mac", mac_s);
        json_object_put_string(json, "effective_mac", eff_s);
        json_object_put(json, "guest_mac", (guest_state
                                            ? json_string_create(guest_s)
                                            : json_null_create()));
        json_object_put(json, "guest_mac_change",
                        (guest_state ? json_string_create(guest_state)
                         : json_null_create()));
        json_object_put(json, "guest_mac_changes_refused",
                        json_integer_create(stats.guest_mac_refused));
        json_object_put(json, "rules", json_integer_create(n_rules));
        for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
            json_object_put(drops, esw_drop_reason_name(reasons[i]),
                            json_integer_create(stats.drops[reasons[i]]));
        }
        json_object_put(json, "drops", drops);
    }
    free(guest_state);
    free(port);
    return 0;
}

/* Main loop.
 * ========== */

/* Looks at the host sides' addresses: a change is the guest asking for a
 * new MAC. */
static void
poll_host_macs(void) OVS_REQUIRES(pp_mutex)
{
    struct pp_port *p;

    HMAP_FOR_EACH (p, node, &pp_ports) {
        struct esw_dev *dev = eswitch_dev(p->esw);
        struct esw_eth_addr mac;

        if (!p->polls_host_mac || !p->netdev
            || esw_vport_get_host_mac(dev, p->vport, &mac)
            || !memcmp(&mac, &p->host_mac, sizeof mac)) {
            continue;
        }
        p->host_mac = mac;
        guest_request__(p, dev, p->vport, &mac, "tap", NULL);
    }
}

static bool
is_rep_type(const char *type)
{
    return (!strcmp(type, "esw-pf") || !strcmp(type, "esw-vf")
            || !strcmp(type, "esw-virtio"));
}

/* Releases the held functions whose Interface is gone from the
 * database. */
static void
gc_held(void) OVS_REQUIRES(pp_mutex)
{
    const struct ovsrec_interface *iface;
    struct sset names = SSET_INITIALIZER(&names);
    struct pp_port *p;

    OVSREC_INTERFACE_FOR_EACH (iface, pp_idl) {
        if (is_rep_type(iface->type)) {
            sset_add(&names, iface->name);
        }
    }
    HMAP_FOR_EACH_SAFE (p, node, &pp_ports) {
        if (!p->netdev && !sset_contains(&names, p->name)) {
            struct fn_name name;

            VLOG_INFO("%s: interface deleted: function %s released and its "
                      "policy removed", p->name,
                      fn_name(p->esw, p->vport, &name));
            reset_function(p->name, p->esw, p->vport);
            eswitch_release(p->esw, p->vport);
            pp_remove(p);
        }
    }
    sset_destroy(&names);
}

void
port_policy_run(void)
{
    long long int now = time_msec();

    ovs_mutex_lock(&pp_mutex);
    if (now >= pp_next_poll) {
        pp_next_poll = now + PORT_POLICY_POLL_MS;
        poll_host_macs();
    }
    if (pp_n_held && pp_idl
        && (pp_gc_needed || ovsdb_idl_get_seqno(pp_idl) != pp_idl_seqno)) {
        pp_gc_needed = false;
        pp_idl_seqno = ovsdb_idl_get_seqno(pp_idl);
        gc_held();
    }
    ovs_mutex_unlock(&pp_mutex);
}

void
port_policy_wait(void)
{
    struct pp_port *p;

    ovs_mutex_lock(&pp_mutex);
    HMAP_FOR_EACH (p, node, &pp_ports) {
        if (p->polls_host_mac && p->netdev) {
            poll_timer_wait_until(pp_next_poll);
            break;
        }
    }
    if (pp_gc_needed && pp_n_held) {
        poll_immediate_wake();
    }
    ovs_mutex_unlock(&pp_mutex);
}
