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
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(eswitch_state);

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

/* Largest state file read (they are about 300 bytes). */
#define STATE_MAX_SIZE (64 * 1024)

static char *
state_name(const char *eswitch, const char *function, const char *suffix)
{
    return xasprintf("%s.%s%s", eswitch, function, suffix);
}

/* Creates 'dir' and its missing parents: 'dir' itself 0700, parents
 * 0755. */
static int
make_dirs(const char *dir)
{
    char *copy = xstrdup(dir);
    int error = 0;

    for (char *p = copy + 1; ; p++) {
        if (*p == '/' || !*p) {
            char c = *p;

            *p = '\0';
            if (mkdir(copy, c ? 0755 : 0700) && errno != EEXIST) {
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

/* Opens state directory 'dir', created 0700 if 'create' and missing.
 * Returns 0 and its fd in '*dirfdp', ENOENT (without a message) if it is
 * missing and not 'create', or another error with a message.
 *
 * Files in it are trusted as ovs-vswitchd's own: a directory that belongs
 * to another user or that group or others can write is refused (anyone
 * could plant state there); one that others can only read is made 0700. */
static int
open_state_dir(const char *dir, bool create, int *dirfdp, char **errp)
{
    struct stat st;
    int error = 0;
    int fd;

    *dirfdp = -1;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        error = make_dirs(dir);
        if (!error) {
            fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
    }
    if (fd < 0) {
        error = error ? error : errno;
        if (error != ENOENT || create) {
            *errp = xasprintf("%s: cannot open the recovery state "
                              "directory: %s", dir, ovs_strerror(error));
        }
        return error;
    }

    if (fstat(fd, &st)) {
        error = errno;
        *errp = xasprintf("%s: cannot stat the recovery state directory: %s",
                          dir, ovs_strerror(error));
    } else if (st.st_uid != geteuid()) {
        error = EPERM;
        *errp = xasprintf("%s: not used for recovery state: owned by uid %u,"
                          " not by ovs-vswitchd's uid %u", dir,
                          (unsigned int) st.st_uid,
                          (unsigned int) geteuid());
    } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        error = EPERM;
        *errp = xasprintf("%s: not used for recovery state: writable by "
                          "group or others (mode %04o): chmod 0700 it", dir,
                          (unsigned int) (st.st_mode & 07777));
    } else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
        if (fchmod(fd, st.st_mode & ~(S_IRWXG | S_IRWXO) & 07777)) {
            error = errno;
            *errp = xasprintf("%s: cannot make the recovery state directory "
                              "0700: %s", dir, ovs_strerror(error));
        } else {
            VLOG_INFO("%s: recovery state directory made 0700 (it was %04o)",
                      dir, (unsigned int) (st.st_mode & 07777));
        }
    }
    if (error) {
        close(fd);
        return error;
    }
    *dirfdp = fd;
    return 0;
}

/* Creates temporary file 'tmp' in 'dirfd' (directory 'dir') exclusively.
 * Something left in its place (a crash's temporary file, or a link or a
 * FIFO someone planted) is removed, never followed or opened. */
static int
create_tmp(int dirfd, const char *dir, const char *tmp, int *fdp)
{
    for (int tries = 0; ; tries++) {
        struct stat st;
        int fd;

        fd = openat(dirfd, tmp, (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW
                                 | O_NONBLOCK | O_CLOEXEC), 0600);
        if (fd >= 0) {
            *fdp = fd;
            return 0;
        }
        if (errno != EEXIST || tries
            || fstatat(dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW)) {
            return errno;
        }
        if (S_ISDIR(st.st_mode) || unlinkat(dirfd, tmp, 0)) {
            return S_ISDIR(st.st_mode) ? EISDIR : errno;
        }
        if (S_ISREG(st.st_mode)) {
            VLOG_DBG("%s/%s: removed a stale temporary file", dir, tmp);
        } else {
            VLOG_WARN("%s/%s: removed %s left in place of the temporary file"
                      " (not followed)", dir, tmp,
                      S_ISLNK(st.st_mode) ? "a symbolic link"
                      : S_ISFIFO(st.st_mode) ? "a FIFO"
                      : "a special file");
        }
    }
}

/* Writes 'len' bytes of 'text' to temporary file 'tmp' of 'dirfd' and
 * renames it to 'name', durably. */
static int
write_atomically(int dirfd, const char *dir, const char *tmp,
                 const char *name, const char *text, size_t len)
{
    int error, fd = -1;
    ssize_t n;

    error = create_tmp(dirfd, dir, tmp, &fd);
    if (error) {
        return error;
    }
    n = write(fd, text, len);
    if (n != (ssize_t) len) {
        error = n < 0 ? errno : EIO;
    } else if (fsync(fd)) {
        error = errno;
    }
    if (close(fd) && !error) {
        error = errno;
    }
    if (!error && renameat(dirfd, tmp, dirfd, name)) {
        error = errno;
    }
    if (error) {
        unlinkat(dirfd, tmp, 0);
    } else if (fsync(dirfd)) {
        error = errno;          /* The rename may not be durable. */
    }
    return error;
}

int
eswitch_state_save(const char *dir, const struct eswitch_fn_state *st,
                   char **errp)
{
    const struct esw_eth_addr *m = &st->mac;
    char *tmp = state_name(st->eswitch, st->function, ".tmp");
    char *name = state_name(st->eswitch, st->function, STATE_SUFFIX);
    struct json *json = json_object_create();
    char *text;
    size_t len;
    int dirfd;
    int error;

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

    error = open_state_dir(dir, true, &dirfd, errp);
    if (!error) {
        error = write_atomically(dirfd, dir, tmp, name, text, len + 1);
        if (error) {
            *errp = xasprintf("%s/%s: cannot write recovery state: %s", dir,
                              name, ovs_strerror(error));
        }
        close(dirfd);
    }
    free(text);
    free(tmp);
    free(name);
    return error;
}

int
eswitch_state_remove(const char *dir, const char *eswitch,
                     const char *function, char **errp)
{
    char *name = state_name(eswitch, function, STATE_SUFFIX);
    int dirfd;
    int error;

    error = open_state_dir(dir, false, &dirfd, errp);
    if (error == ENOENT) {
        error = 0;              /* No directory, no file. */
    } else if (!error) {
        if (unlinkat(dirfd, name, 0) && errno != ENOENT) {
            error = errno;
            *errp = xasprintf("%s/%s: cannot remove recovery state: %s", dir,
                              name, ovs_strerror(error));
        }
        close(dirfd);
    }
    free(name);
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

/* Reads the names in 'dirfd' (directory 'dir') that end in one of the
 * 'suffixes' (NULL-terminated), sorted.  Returns how many, in '*namesp'
 * (malloc'd), or SIZE_MAX with a message. */
static size_t
list_names(int dirfd, const char *dir, const char *const suffixes[],
           char ***namesp, char **errp)
{
    size_t n_names = 0, allocated = 0;
    char **names = NULL;
    struct dirent *de;
    int fd = dup(dirfd);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);

    if (!d) {
        *errp = xasprintf("%s: cannot read the recovery state directory: %s",
                          dir, ovs_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return SIZE_MAX;
    }
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);

        for (const char *const *sfx = suffixes; *sfx; sfx++) {
            if (len > strlen(*sfx)
                && !strcmp(de->d_name + len - strlen(*sfx), *sfx)) {
                if (n_names >= allocated) {
                    names = x2nrealloc(names, &allocated, sizeof *names);
                }
                names[n_names++] = xstrdup(de->d_name);
                break;
            }
        }
    }
    closedir(d);
    if (n_names) {
        qsort(names, n_names, sizeof *names, compare_names);
    }
    *namesp = names;
    return n_names;
}

void
eswitch_state_load(const char *dir,
                   struct eswitch_fn_state **statesp, size_t *n_statesp,
                   char ***errorsp, size_t *n_errorsp)
{
    static const char *const suffixes[] = { STATE_SUFFIX, NULL };
    char **names = NULL;
    char *error = NULL;
    size_t n_names;
    int dirfd;

    *statesp = NULL;
    *n_statesp = 0;
    *errorsp = NULL;
    *n_errorsp = 0;

    if (open_state_dir(dir, false, &dirfd, &error)) {
        if (error) {
            *errorsp = xmalloc(sizeof **errorsp);
            (*errorsp)[(*n_errorsp)++] = error;
        }
        return;
    }
    n_names = list_names(dirfd, dir, suffixes, &names, &error);
    if (n_names == SIZE_MAX) {
        *errorsp = xmalloc(sizeof **errorsp);
        (*errorsp)[(*n_errorsp)++] = error;
        close(dirfd);
        return;
    }
    if (!n_names) {
        close(dirfd);
        return;
    }

    *statesp = xcalloc(n_names, sizeof **statesp);
    *errorsp = xcalloc(n_names, sizeof **errorsp);
    for (size_t i = 0; i < n_names; i++) {
        char *path = xasprintf("%s/%s", dir, names[i]);
        struct json *json = eswitch_json_from_file_at(dirfd, names[i],
                                                      STATE_MAX_SIZE);
        struct eswitch_fn_state *st = &(*statesp)[*n_statesp];
        char *reason;

        if (json->type == JSON_STRING) {
            reason = NULL;
            (*errorsp)[(*n_errorsp)++] = eswitch_json_file_error(
                path, json_string(json));
        } else {
            reason = parse_state(json, st);
            if (!reason) {
                char *expected = state_name(st->eswitch, st->function,
                                            STATE_SUFFIX);

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
    close(dirfd);
}

int
eswitch_state_reset(const char *dir, char **errp)
{
    static const char *const suffixes[] = { STATE_SUFFIX, ".tmp", NULL };
    char **names = NULL;
    size_t n_names;
    int error = 0;
    int dirfd;

    error = open_state_dir(dir, false, &dirfd, errp);
    if (error) {
        return error == ENOENT ? 0 : error;
    }
    n_names = list_names(dirfd, dir, suffixes, &names, errp);
    if (n_names == SIZE_MAX) {
        close(dirfd);
        return EIO;
    }
    for (size_t i = 0; i < n_names; i++) {
        /* unlinkat() removes a link, never what it points to. */
        if (unlinkat(dirfd, names[i], 0) && !error) {
            error = errno;
            *errp = xasprintf("%s/%s: cannot remove: %s", dir, names[i],
                              ovs_strerror(error));
        }
        free(names[i]);
    }
    free(names);
    close(dirfd);
    return error;
}
