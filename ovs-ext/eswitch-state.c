/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#include <config.h>

#include "eswitch-state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eswitch-config.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "util.h"

#define STATE_SUFFIX ".json"

const char *
eswitch_link_state_to_string(enum eswitch_link_state s)
{
    return (s == ESWITCH_LINK_UP ? "up"
            : s == ESWITCH_LINK_DOWN ? "down" : "auto");
}

bool
eswitch_link_state_from_string(const char *s, enum eswitch_link_state *out)
{
    if (!strcmp(s, "auto")) {
        *out = ESWITCH_LINK_AUTO;
    } else if (!strcmp(s, "up")) {
        *out = ESWITCH_LINK_UP;
    } else if (!strcmp(s, "down")) {
        *out = ESWITCH_LINK_DOWN;
    } else {
        return false;
    }
    return true;
}

const char *
eswitch_kind_to_string(enum esw_vport_kind kind, uint32_t fn)
{
    switch (kind) {
    case ESW_VPORT_UPLINK: return "uplink";
    case ESW_VPORT_PF: return "pf";
    case ESW_VPORT_VF: return "vf";
    case ESW_VPORT_SF: return fn >= ESW_SF_VIRTIO_MIN ? "virtio" : "sf";
    default: OVS_NOT_REACHED();
    }
}

static bool
kind_from_string(const char *s, enum esw_vport_kind *kind)
{
    if (!strcmp(s, "uplink")) {
        *kind = ESW_VPORT_UPLINK;
    } else if (!strcmp(s, "pf")) {
        *kind = ESW_VPORT_PF;
    } else if (!strcmp(s, "vf")) {
        *kind = ESW_VPORT_VF;
    } else if (!strcmp(s, "virtio") || !strcmp(s, "sf")) {
        *kind = ESW_VPORT_SF;
    } else {
        return false;
    }
    return true;
}

static char *
state_path(const char *dir, const char *eswitch, const char *function,
           const char *suffix)
{
    return xasprintf("%s/%s.%s%s", dir, eswitch, function, suffix);
}

static int
make_dirs(const char *dir)
{
    char *copy = xstrdup(dir);
    int error = 0;

    for (char *p = copy + 1; ; p++) {
        if (*p == '/' || !*p) {
            char c = *p;

            *p = '\0';
            if (mkdir(copy, 0755) && errno != EEXIST) {
                error = errno;
                break;
            }
            *p = c;
            if (!c) {
                break;
            }
        }
    }
    free(copy);
    return error;
}

int
eswitch_state_save(const char *dir, const struct eswitch_fn_state *st,
                   char **errp)
{
    const struct esw_eth_addr *m = &st->mac;
    char *tmp = state_path(dir, st->eswitch, st->function, ".tmp");
    char *path = state_path(dir, st->eswitch, st->function, STATE_SUFFIX);
    struct json *json = json_object_create();
    int error = 0;
    char *text;
    size_t len;
    int fd;

    json_object_put_string(json, "eswitch", st->eswitch);
    json_object_put_string(json, "function", st->function);
    json_object_put_string(json, "kind",
                           eswitch_kind_to_string(st->kind, st->fn));
    json_object_put(json, "pf", json_integer_create(st->pf));
    json_object_put(json, "number", json_integer_create(st->fn));
    json_object_put(json, "hotplugged", json_boolean_create(st->hotplugged));
    json_object_put_format(json, "mac", "%02x:%02x:%02x:%02x:%02x:%02x",
                           m->ea[0], m->ea[1], m->ea[2], m->ea[3], m->ea[4],
                           m->ea[5]);
    json_object_put(json, "mtu", json_integer_create(st->mtu));
    json_object_put_format(json, "features", "0x%"PRIx64, st->features);
    json_object_put(json, "queues", json_integer_create(st->queues));
    json_object_put_string(json, "host_side",
                           esw_io_type_name(st->host_side));
    if (st->host_side == ESW_IO_VHOST_USER) {
        struct json *vhost = json_object_create();

        json_object_put_string(vhost, "path", st->vhost_path);
        json_object_put(vhost, "client",
                        json_boolean_create(st->vhost_client));
        json_object_put(json, "vhost_user", vhost);
    }
    json_object_put_string(json, "link_state",
                           eswitch_link_state_to_string(st->link_state));
    text = json_to_string(json, JSSF_SORT);
    json_destroy(json);
    len = strlen(text);
    text[len] = '\n';           /* Replaces the NUL; written by length. */

    error = make_dirs(dir);
    fd = error ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        error = error ? error : errno;
    } else {
        ssize_t n = write(fd, text, len + 1);

        if (n != (ssize_t) len + 1) {
            error = n < 0 ? errno : EIO;
        } else if (fsync(fd)) {
            error = errno;
        }
        if (close(fd) && !error) {
            error = errno;
        }
        if (!error && rename(tmp, path)) {
            error = errno;
        }
        if (error) {
            unlink(tmp);
        }
    }
    if (error) {
        *errp = xasprintf("%s: cannot write recovery state: %s", path,
                          ovs_strerror(error));
    }
    free(text);
    free(tmp);
    free(path);
    return error;
}

int
eswitch_state_remove(const char *dir, const char *eswitch,
                     const char *function, char **errp)
{
    char *path = state_path(dir, eswitch, function, STATE_SUFFIX);
    int error = 0;

    if (unlink(path) && errno != ENOENT) {
        error = errno;
        *errp = xasprintf("%s: cannot remove recovery state: %s", path,
                          ovs_strerror(error));
    }
    free(path);
    return error;
}

/* Parses one state file's JSON into 'st'.  Returns NULL or a reason. */
static char *
parse_state(const struct json *json, struct eswitch_fn_state *st)
{
    static const char *const strings[] = {
        "eswitch", "function", "kind", "mac", "features", "host_side",
        "link_state", NULL
    };
    static const char *const ints[] = { "pf", "number", "mtu", "queues",
                                        NULL };
    const struct json *v;

    if (json->type != JSON_OBJECT) {
        return xstrdup("not a JSON object");
    }
    for (const char *const *k = strings; *k; k++) {
        v = shash_find_data(json_object(json), *k);
        if (!v || v->type != JSON_STRING) {
            return xasprintf("\"%s\" is missing or not a string", *k);
        }
    }
    for (const char *const *k = ints; *k; k++) {
        v = shash_find_data(json_object(json), *k);
        if (!v || v->type != JSON_INTEGER || v->integer < 0
            || v->integer > UINT32_MAX) {
            return xasprintf("\"%s\" is missing or not a number", *k);
        }
    }
    v = shash_find_data(json_object(json), "hotplugged");
    if (!v || (v->type != JSON_TRUE && v->type != JSON_FALSE)) {
        return xstrdup("\"hotplugged\" is missing or not a boolean");
    }

#define STR(KEY) json_string(shash_find_data(json_object(json), KEY))
#define INT(KEY) json_integer(shash_find_data(json_object(json), KEY))
    memset(st, 0, sizeof *st);
    st->hotplugged = v->type == JSON_TRUE;
    if (strlen(STR("eswitch")) >= ESW_NAME_MAX
        || strlen(STR("function")) >= ESW_NAME_MAX) {
        return xstrdup("name too long");
    }
    ovs_strlcpy(st->eswitch, STR("eswitch"), sizeof st->eswitch);
    ovs_strlcpy(st->function, STR("function"), sizeof st->function);
    if (!kind_from_string(STR("kind"), &st->kind)) {
        return xasprintf("unknown kind \"%s\"", STR("kind"));
    }
    st->pf = INT("pf");
    st->fn = INT("number");
    st->mtu = INT("mtu");
    st->queues = INT("queues");
    if (!eswitch_mac_from_string(STR("mac"), &st->mac)
        || st->mac.ea[0] & 1) {
        return xasprintf("bad mac \"%s\"", STR("mac"));
    }
    if (st->mtu < ESWITCH_MIN_MTU || st->mtu > ESWITCH_MAX_MTU) {
        return xasprintf("bad mtu %"PRIu32, st->mtu);
    }
    if (sscanf(STR("features"), "0x%"SCNx64, &st->features) != 1) {
        return xasprintf("bad features \"%s\"", STR("features"));
    }
    if (!strcmp(STR("host_side"), "tap")) {
        st->host_side = ESW_IO_TAP;
    } else if (!strcmp(STR("host_side"), "capture")) {
        st->host_side = ESW_IO_CAPTURE;
    } else if (!strcmp(STR("host_side"), "vhost-user")) {
        const struct json *vhost = shash_find_data(json_object(json),
                                                   "vhost_user");
        const struct json *path = NULL, *client = NULL;

        if (vhost && vhost->type == JSON_OBJECT) {
            path = shash_find_data(json_object(vhost), "path");
            client = shash_find_data(json_object(vhost), "client");
        }
        if (!path || path->type != JSON_STRING
            || json_string(path)[0] != '/'
            || strlen(json_string(path)) >= sizeof st->vhost_path
            || !client
            || (client->type != JSON_TRUE && client->type != JSON_FALSE)) {
            return xstrdup("\"vhost_user\" is missing or not "
                           "{\"path\": ABSOLUTE-PATH, \"client\": BOOLEAN}");
        }
        st->host_side = ESW_IO_VHOST_USER;
        ovs_strlcpy(st->vhost_path, json_string(path),
                    sizeof st->vhost_path);
        st->vhost_client = client->type == JSON_TRUE;
    } else {
        return xasprintf("bad host_side \"%s\"", STR("host_side"));
    }
    if (!eswitch_link_state_from_string(STR("link_state"),
                                        &st->link_state)) {
        return xasprintf("bad link_state \"%s\"", STR("link_state"));
    }
#undef STR
#undef INT
    return NULL;
}

static int
compare_names(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;

    return strcmp(*a, *b);
}

void
eswitch_state_load(const char *dir,
                   struct eswitch_fn_state **statesp, size_t *n_statesp,
                   char ***errorsp, size_t *n_errorsp)
{
    size_t n_names = 0, allocated = 0;
    char **names = NULL;
    struct dirent *de;
    DIR *d;

    *statesp = NULL;
    *n_statesp = 0;
    *errorsp = NULL;
    *n_errorsp = 0;

    d = opendir(dir);
    if (!d) {
        return;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);

        if (len > strlen(STATE_SUFFIX)
            && !strcmp(de->d_name + len - strlen(STATE_SUFFIX),
                       STATE_SUFFIX)) {
            if (n_names >= allocated) {
                names = x2nrealloc(names, &allocated, sizeof *names);
            }
            names[n_names++] = xstrdup(de->d_name);
        }
    }
    closedir(d);
    if (!n_names) {
        return;
    }
    qsort(names, n_names, sizeof *names, compare_names);

    *statesp = xcalloc(n_names, sizeof **statesp);
    *errorsp = xcalloc(n_names, sizeof **errorsp);
    for (size_t i = 0; i < n_names; i++) {
        char *path = xasprintf("%s/%s", dir, names[i]);
        struct json *json = json_from_file(path);
        struct eswitch_fn_state *st = &(*statesp)[*n_statesp];
        char *reason;

        if (json->type == JSON_STRING) {
            reason = NULL;
            (*errorsp)[(*n_errorsp)++] = eswitch_json_file_error(
                path, json_string(json));
        } else {
            reason = parse_state(json, st);
            if (!reason) {
                char *expected = xasprintf("%s.%s%s", st->eswitch,
                                           st->function, STATE_SUFFIX);

                if (strcmp(expected, names[i])) {
                    reason = xasprintf("describes %s/%s: the file name "
                                       "should be %s", st->eswitch,
                                       st->function, expected);
                }
                free(expected);
            }
        }
        if (json->type != JSON_STRING && reason) {
            (*errorsp)[(*n_errorsp)++] = xasprintf("%s: %s", path, reason);
            free(reason);
        } else if (json->type != JSON_STRING) {
            (*n_statesp)++;
        }
        json_destroy(json);
        free(path);
        free(names[i]);
    }
    free(names);
}

int
eswitch_state_reset(const char *dir, char **errp)
{
    struct dirent *de;
    int error = 0;
    DIR *d;

    d = opendir(dir);
    if (!d) {
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);

        if ((len > 5 && !strcmp(de->d_name + len - 5, STATE_SUFFIX))
            || (len > 4 && !strcmp(de->d_name + len - 4, ".tmp"))) {
            char *path = xasprintf("%s/%s", dir, de->d_name);

            if (unlink(path) && !error) {
                error = errno;
                *errp = xasprintf("%s: cannot remove: %s", path,
                                  ovs_strerror(error));
            }
            free(path);
        }
    }
    closedir(d);
    return error;
}
