/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* ovs-eswitchd: the device daemon.  Hosts "sim" eSwitches in its own
 * process and serves them on a unix control socket to the "remote" driver
 * (esw-remote.c) of ovs-vswitchd or any other client of the device API.
 * See ovs-eswitchd.8. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* asprintf(), accept4(). */
#endif

#include "esw-remote-proto.h"
#include "esw-remote-ring.h"
#include "esw-remote-server.h"
#include "esw-remote-state.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_CLIENTS 64
#define SEND_TIMEOUT_MS 1000

struct client {
    int sock;
    struct esw_rsession *session;
    uint8_t *buf;               /* Input: a header, then its payload. */
    size_t len, allocated;
    bool update_pending;        /* Waits for a live update's result: its
                                 * later requests wait in 'buf'. */
    uint32_t update_seq;
};

static volatile sig_atomic_t exiting;
static const char *program_name = "ovs-eswitchd";
static bool verbose;

static struct client clients[MAX_CLIENTS];
static int listener = -1;
static char socket_path[sizeof ((struct sockaddr_un *) 0)->sun_path];
static char pidfile[ESW_RPROTO_PATH_MAX];

/* What status says of the daemon. */
static char self_binary[ESW_RPROTO_PATH_MAX];   /* Our executable. */
static long long int started_ns;    /* The first daemon (live updates
                                     * carry it over). */
static long long int process_ns;    /* This process. */
static uint32_t n_updates;
static struct esw_rw_update_result last_update;

/* A live update between its request and the new daemon's hello
 * (ovs-eswitchd(8)): forwarding goes on meanwhile. */
#define UPDATE_HELLO_MS 5000
#define UPDATE_RESTORE_MS 10000
static struct {
    pid_t pid;                  /* The new daemon, 0 if none. */
    int sock;                   /* Our end of the hand-over socket. */
    long long int deadline;     /* For its hello. */
    long long int started_ms;
    struct client *requester;   /* NULL once it went away. */
    uint32_t fault;             /* enum esw_update_fault. */
    struct esw_rw_update_result res;
} update = { .sock = -1 };

/* How long a device whose client went away without closing it is kept
 * for a client to take it over (ms; 0: for ever). */
#define DEFAULT_KEEP_MS (600 * 1000LL)
static long long int keep_ms = DEFAULT_KEEP_MS;

static long long int
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long long int
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void __attribute__((format(printf, 1, 2)))
log_msg(const char *format, ...)
{
    struct timespec ts;
    struct tm tm;
    char stamp[32];
    va_list args;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s|%s|", stamp, program_name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    fflush(stderr);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *format, ...)
{
    va_list args;

    fprintf(stderr, "%s: ", program_name);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(EXIT_FAILURE);
}

static void
usage(void)
{
    printf("%s: the eSwitch device daemon\n"
           "usage: %s [OPTIONS]\n"
           "\n"
           "Options:\n"
           "  --socket=PATH     control socket (default: $OVS_RUNDIR/%s)\n"
           "  --pidfile=FILE    write the process id to FILE\n"
           "  --detach          run in the background once listening\n"
           "  --log-file=FILE   log there instead of to stderr\n"
           "  --verbose         log client connections and malformed requests\n"
           "  --keep-devices=SECS  keep a device whose client went away\n"
           "                    without closing it SECS seconds for a client\n"
           "                    to take it over (default 600; 0: for ever)\n"
           "  --handover-fd=FD  (internal) take over from a running daemon:\n"
           "                    see \"ovs-eswitchctl update\"\n"
           "  -h, --help        this help\n"
           "  -V, --version     the version\n",
           program_name, program_name, ESW_RPROTO_SOCKET);
}

static void
on_signal(int sig __attribute__((unused)))
{
    exiting = 1;
}

/* Creates the listening socket at 'path': bound under a temporary name in
 * the same directory (with a umask that keeps it to its owner), then
 * renamed over 'path', which must be absent or a stale socket of a daemon
 * that is gone: never a symbolic link or any other file. */
static int
listen_at(const char *path)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    char tmp[sizeof sun.sun_path];
    struct stat st;
    mode_t old_umask;
    int sock;

    if (path[0] != '/') {
        fatal("%s: the socket path must be absolute", path);
    }
    if (snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long) getpid())
        >= (int) sizeof tmp) {
        fatal("%s: socket path too long (at most %zu bytes)", path,
              sizeof sun.sun_path - 16);
    }
    if (!lstat(path, &st)) {
        if (!S_ISSOCK(st.st_mode)) {
            fatal("%s: exists and is not a socket (refusing to replace it)",
                  path);
        }
        /* A socket: in use or stale? */
        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
        if (sock >= 0
            && !connect(sock, (struct sockaddr *) &sun, sizeof sun)) {
            fatal("%s: another daemon is listening there", path);
        }
        if (sock >= 0) {
            close(sock);
        }
    } else if (errno != ENOENT) {
        fatal("%s: %s", path, strerror(errno));
    }

    sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sock < 0) {
        fatal("socket: %s", strerror(errno));
    }
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", tmp);
    unlink(tmp);                /* Ours, from a previous pid: stale. */
    old_umask = umask(0077);
    if (bind(sock, (struct sockaddr *) &sun, sizeof sun) < 0) {
        int error = errno;

        umask(old_umask);
        fatal("%s: cannot bind: %s", tmp, strerror(error));
    }
    umask(old_umask);
    if (listen(sock, 16) < 0) {
        unlink(tmp);
        fatal("%s: cannot listen: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) < 0) {
        int error = errno;

        unlink(tmp);
        fatal("%s: %s", path, strerror(error));
    }
    return sock;
}

/* Writes our pid to 'file': a temporary file created exclusively, then
 * renamed over 'file'. */
static void
write_pidfile(const char *file)
{
    char *tmp;
    FILE *f;
    int fd;

    if (asprintf(&tmp, "%s.%ld.tmp", file, (long) getpid()) < 0) {
        fatal("out of memory");
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              0644);
    if (fd < 0) {
        fatal("%s: %s", tmp, strerror(errno));
    }
    f = fdopen(fd, "w");
    if (!f || fprintf(f, "%ld\n", (long) getpid()) < 0 || fclose(f)) {
        unlink(tmp);
        fatal("%s: cannot write", tmp);
    }
    if (rename(tmp, file) < 0) {
        unlink(tmp);
        fatal("%s: %s", file, strerror(errno));
    }
    free(tmp);
}

static void
log_expired(const char *name, size_t n_rules)
{
    log_msg("%s: destroyed: no client took it over (%zu rules)", name,
            n_rules);
}

/* Closes 'c''s connection: its device, if it has one still open, is kept
 * for a client to take over, unless the daemon is exiting. */
static void
client_close(struct client *c)
{
    const char *name = esw_rsession_dev_name(c->session);

    if (name && !exiting && esw_rsession_detach(c->session, now_ms())) {
        log_msg("%s: its client went away: the device is kept, forwarding "
                "by its %zu rules, for a client to take it over", name,
                esw_rsession_n_rules(c->session));
    } else {
        if (verbose) {
            log_msg("client %d gone%s%s", c->sock, name ? ": closing " : "",
                    name ? name : "");
        }
        esw_rsession_destroy(c->session);
    }
    close(c->sock);
    free(c->buf);
    if (update.requester == c) {
        update.requester = NULL;
    }
    memset(c, 0, sizeof *c);
    c->sock = -1;
}

static bool
client_reply(struct client *c, const struct esw_rmsg_hdr *req,
             const struct esw_rreply *r)
{
    struct esw_rmsg_hdr hdr = {
        .magic = ESW_RPROTO_MAGIC, .version = ESW_RPROTO_VERSION,
        .op = req->op, .len = r->len, .seq = req->seq,
        .result = r->result, .n_fds = r->n_fds,
    };

    return !esw_rproto_send(c->sock, &hdr, r->data, r->fds,
                            SEND_TIMEOUT_MS);
}

static bool client_process(struct client *);

/* Admin requests and live update (ovs-eswitchd(8)). */

static size_t
count_clients(void)
{
    size_t n = 0;

    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        n += clients[i].sock >= 0;
    }
    return n;
}

static void
put_dev(struct esw_rreply *r, const struct esw_rsession *s, bool attached,
        long long int detached_at)
{
    struct esw_rw_daemon_dev d;

    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", esw_rsession_dev_name(s));
    d.attached = attached;
    d.n_vports = esw_rsession_n_vports(s);
    d.n_rules = esw_rsession_n_rules(s);
    d.n_meters = esw_rsession_n_meters(s);
    d.detached_ms = attached ? 0 : now_ms() - detached_at;
    esw_rreply_put(r, &d, sizeof d);
}

/* DAEMON_STATUS's reply. */
static void
daemon_status(struct esw_rreply *r)
{
    struct esw_rw_daemon_status *st = calloc(1, sizeof *st);
    long long int now = now_ns(), detached_at;
    struct esw_rsession *s;

    if (!st) {
        r->result = ENOMEM;
        return;
    }
    st->pid = getpid();
    snprintf(st->version, sizeof st->version, "%s", OVS_EXT_VERSION);
    snprintf(st->binary, sizeof st->binary, "%s", self_binary);
    st->uptime_ms = (now - started_ns) / 1000000;
    st->process_ms = (now - process_ns) / 1000000;
    st->n_updates = n_updates;
    st->n_clients = count_clients();
    st->n_detached = esw_rsession_n_detached();
    st->last = update.pid ? update.res : last_update;
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].sock >= 0 && esw_rsession_dev_name(clients[i].session)) {
            st->n_attached++;
        }
    }
    st->n_devs = st->n_attached + st->n_detached;
    esw_rreply_put(r, st, sizeof *st);
    free(st);
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].sock >= 0 && esw_rsession_dev_name(clients[i].session)) {
            put_dev(r, clients[i].session, true, 0);
        }
    }
    for (size_t i = 0; (s = esw_rsession_detached_get(i, &detached_at)); i++) {
        put_dev(r, s, false, detached_at);
    }
}

/* Replies to a DAEMON_UPDATE of 'c' (sequence 'seq') with 'res'. */
static void
update_reply(struct client *c, uint32_t seq, int error,
             const struct esw_rw_update_result *res)
{
    struct esw_rmsg_hdr req = { .op = ESW_ROP_DAEMON_UPDATE, .seq = seq };
    struct esw_rreply r;

    esw_rreply_init(&r);
    r.result = error;
    esw_rreply_put(&r, res, sizeof *res);
    client_reply(c, &req, &r);
    esw_rreply_destroy(&r);
}

static void __attribute__((format(printf, 3, 4)))
update_refuse(struct esw_rreply *r, int error, const char *format, ...)
{
    struct esw_rw_update_result *res = calloc(1, sizeof *res);
    va_list args;

    if (!res) {
        r->result = ENOMEM;
        return;
    }
    res->state = ESW_UPDATE_REFUSED;
    res->error = error;
    va_start(args, format);
    vsnprintf(res->message, sizeof res->message, format, args);
    va_end(args);
    r->result = error;
    esw_rreply_put(r, res, sizeof *res);
    free(res);
}

/* Starts a live update to 'binary': the new daemon is started with the
 * hand-over socket; the rest happens when it says hello
 * (update_handover()).  Forwarding goes on meanwhile. */
static void
update_start(struct client *c, const struct esw_rmsg_hdr *hdr,
             const char *binary, uint32_t fault, struct esw_rreply *r)
{
    posix_spawn_file_actions_t actions;
    char fd_arg[32];
    char *argv[3];
    struct stat st;
    int sp[2], error;
    pid_t pid;

    if (update.pid) {
        update_refuse(r, EBUSY, "an update is already running (to %s, pid "
                      "%ld, started %lld ms ago)", update.res.new_binary,
                      (long) update.pid, now_ms() - update.started_ms);
        return;
    }
    if (!binary[0]) {
        binary = self_binary;
    }
    if (stat(binary, &st)) {
        update_refuse(r, errno, "%s: %s", binary, strerror(errno));
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        update_refuse(r, EINVAL, "%s: not a regular file", binary);
        return;
    }
    if (access(binary, X_OK)) {
        update_refuse(r, EACCES, "%s: not executable", binary);
        return;
    }
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
        update_refuse(r, errno, "socketpair: %s", strerror(errno));
        return;
    }
    /* The new daemon gets its end as fd 3 (dup2() clears CLOEXEC). */
    snprintf(fd_arg, sizeof fd_arg, "--handover-fd=%d", 3);
    argv[0] = (char *) binary;
    argv[1] = fd_arg;
    argv[2] = NULL;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, sp[1], 3);
    error = posix_spawn(&pid, binary, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(sp[1]);
    if (error) {
        close(sp[0]);
        update_refuse(r, error, "%s: cannot start it: %s", binary,
                      strerror(error));
        return;
    }
    memset(&update.res, 0, sizeof update.res);
    update.res.state = ESW_UPDATE_RUNNING;
    update.res.started = time(NULL);
    update.res.old_pid = getpid();
    update.res.new_pid = pid;
    snprintf(update.res.old_version, sizeof update.res.old_version, "%s",
             OVS_EXT_VERSION);
    snprintf(update.res.old_binary, sizeof update.res.old_binary, "%s",
             self_binary);
    snprintf(update.res.new_binary, sizeof update.res.new_binary, "%s",
             binary);
    update.pid = pid;
    update.sock = sp[0];
    update.started_ms = now_ms();
    update.deadline = update.started_ms + UPDATE_HELLO_MS;
    update.requester = c;
    update.fault = fault;
    c->update_pending = true;
    c->update_seq = hdr->seq;
    log_msg("live update: started %s (pid %ld)", binary, (long) pid);
}

/* The session of a client that controls device 'name', if any. */
static struct esw_rsession *
attached_session(const char *name)
{
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        const char *dev = (clients[i].sock >= 0
                           ? esw_rsession_dev_name(clients[i].session)
                           : NULL);

        if (dev && !strcmp(dev, name)) {
            return clients[i].session;
        }
    }
    return NULL;
}

/* DAEMON_FUNCTIONS, DAEMON_HOTPLUG, DAEMON_UNPLUG (ovs-eswitchctl
 * --daemon): a device a client controls may be read, not changed (a
 * device has one controlling session). */
static void
admin_device(const struct esw_rreq *req, struct esw_rreply *r)
{
    struct esw_rsession *s = attached_session(req->name);

    if (req->op == ESW_ROP_DAEMON_FUNCTIONS) {
        if (!s) {
            s = esw_rsession_find_detached(req->name);
        }
        if (s) {
            esw_rsession_admin_functions(s, attached_session(req->name),
                                         r);
        } else {
            r->result = ENODEV;
        }
    } else if (s) {
        r->result = EBUSY;
    } else if (req->op == ESW_ROP_DAEMON_HOTPLUG) {
        esw_rsession_admin_hotplug(req, now_ms(), r);
        if (!r->result) {
            const struct esw_rw_error_u32 *w = (const void *) r->data;

            log_msg("%s: vport %"PRIu32" hotplugged by ovs-eswitchctl "
                    "(the device is kept for a client to take it over)",
                    req->name, w->value);
        }
    } else {
        esw_rsession_admin_unplug(req, r);
        if (!r->result) {
            log_msg("%s: vport %"PRIu32" unplugged by ovs-eswitchctl",
                    req->name, req->vport);
        }
    }
}

/* Returns true if 'c' is to get 'r' as the reply now. */
static bool
admin_request(struct client *c, const struct esw_rmsg_hdr *hdr,
              const uint8_t *payload, struct esw_rreply *r)
{
    struct esw_rreq *req = malloc(sizeof *req);
    bool reply = true;

    if (!req) {
        r->result = ENOMEM;
        return true;
    }
    r->result = esw_rproto_decode_request(hdr, payload, req, r->reason,
                                          sizeof r->reason);
    if (r->result) {
        if (verbose) {
            log_msg("client %d: malformed request: %s", c->sock, r->reason);
        }
    } else if (hdr->op == ESW_ROP_DAEMON_STATUS) {
        daemon_status(r);
    } else if (hdr->op == ESW_ROP_DAEMON_FUNCTIONS
               || hdr->op == ESW_ROP_DAEMON_HOTPLUG
               || hdr->op == ESW_ROP_DAEMON_UNPLUG) {
        admin_device(req, r);
    } else {
        update_start(c, hdr, req->binary, req->fault, r);
        reply = !c->update_pending;
    }
    free(req);
    return reply;
}

static void
pause_one(struct esw_rsession *s, bool pause)
{
    if (pause) {
        esw_rsession_pause(s);
    } else {
        int error = esw_rsession_resume(s);

        if (error) {
            log_msg("%s: cannot resume forwarding: %s",
                    esw_rsession_dev_name(s), strerror(error));
        }
    }
}

/* Pauses or resumes every device. */
static void
pause_all(bool pause)
{
    long long int detached_at;
    struct esw_rsession *s;

    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].sock >= 0) {
            pause_one(clients[i].session, pause);
        }
    }
    for (size_t i = 0; (s = esw_rsession_detached_get(i, &detached_at)); i++) {
        pause_one(s, pause);
    }
}

/* Writes the daemon's state (devices paused) into 'w'. */
static int
state_write(struct esw_rstate_writer *w, long long int paused_at)
{
    struct esw_rs_daemon *d = calloc(1, sizeof *d);
    long long int detached_at, now = now_ms();
    struct esw_rsession *s;
    int error = 0;

    if (!d) {
        return ENOMEM;
    }
    d->paused_at_ns = paused_at;
    d->started_ns = started_ns;
    d->n_updates = n_updates;
    d->listener = esw_rstate_fd(w, listener);
    d->keep_ms = keep_ms;
    d->verbose = verbose;
    snprintf(d->socket_path, sizeof d->socket_path, "%s", socket_path);
    snprintf(d->pidfile, sizeof d->pidfile, "%s", pidfile);
    d->update = update.res;
    d->n_sessions = count_clients() + esw_rsession_n_detached();
    esw_rstate_put(w, ESW_RSTATE_DAEMON, d, sizeof *d, NULL, 0);
    free(d);
    for (size_t i = 0; !error && i < MAX_CLIENTS; i++) {
        struct client *c = &clients[i];
        struct esw_rs_session rs;

        if (c->sock < 0) {
            continue;
        }
        memset(&rs, 0, sizeof rs);
        rs.sock = esw_rstate_fd(w, c->sock);
        rs.hello = esw_rsession_hello_done(c->session);
        rs.has_dev = esw_rsession_dev_name(c->session) != NULL;
        rs.update_pending = c->update_pending;
        rs.update_seq = c->update_seq;
        rs.buf_len = c->len;
        esw_rstate_put(w, ESW_RSTATE_SESSION, &rs, sizeof rs, c->buf, c->len);
        if (rs.has_dev) {
            error = esw_rsession_save(c->session, w);
        }
    }
    for (size_t i = 0;
         !error && (s = esw_rsession_detached_get(i, &detached_at)); i++) {
        struct esw_rs_session rs = { .sock = -1, .has_dev = true,
                                     .admin = esw_rsession_is_admin(s),
                                     .detached_ms = now - detached_at };

        esw_rstate_put(w, ESW_RSTATE_SESSION, &rs, sizeof rs, NULL, 0);
        error = esw_rsession_save(s, w);
    }
    return error ? error : esw_rstate_finish(w);
}

/* Test faults (enum esw_update_fault) in a copy of the state 'data'. */
static size_t
state_fault(uint8_t *data, size_t len, uint32_t fault)
{
    struct esw_rstate_hdr hdr;
    size_t pos = sizeof hdr;

    memcpy(&hdr, data, sizeof hdr);
    if (fault == ESW_UPDATE_FAULT_TRUNCATE) {
        return len / 2;
    } else if (fault == ESW_UPDATE_FAULT_VERSION) {
        hdr.version++;
        memcpy(data, &hdr, sizeof hdr);
    } else if (fault == ESW_UPDATE_FAULT_COUNT) {
        /* The first device says it has 1000 more rules than follow, or
         * the daemon 1000 more sessions if there is no device. */
        while (pos + sizeof(struct esw_rstate_rec) <= len) {
            struct esw_rstate_rec rec;

            memcpy(&rec, data + pos, sizeof rec);
            if (rec.type == ESW_RSTATE_DEV) {
                struct esw_rs_dev d;

                memcpy(&d, data + pos + sizeof rec, sizeof d);
                d.n_rules += 1000;
                memcpy(data + pos + sizeof rec, &d, sizeof d);
                return len;
            }
            pos += sizeof rec + rec.len + (8 - rec.len % 8) % 8;
        }
        struct esw_rs_daemon *d = malloc(sizeof *d);

        if (d) {
            memcpy(d, data + sizeof hdr + sizeof(struct esw_rstate_rec),
                   sizeof *d);
            d->n_sessions += 1000;
            memcpy(data + sizeof hdr + sizeof(struct esw_rstate_rec), d,
                   sizeof *d);
            free(d);
        }
    }
    return len;
}

/* Puts 'data' in a sealed memfd. */
static int
state_memfd(const uint8_t *data, size_t len)
{
    int fd = memfd_create("esw-state", MFD_CLOEXEC | MFD_ALLOW_SEALING);

    if (fd < 0) {
        return -1;
    }
    for (size_t off = 0; off < len; ) {
        ssize_t n = write(fd, data + off, len - off);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            close(fd);
            return -1;
        }
        off += n;
    }
    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE
          | F_SEAL_SEAL);
    return fd;
}

/* Ends the running update as failed: the new daemon killed (it resumed
 * nothing), ours resumed by the caller. */
static void __attribute__((format(printf, 2, 3)))
update_fail(int error, const char *format, ...)
{
    va_list args;
    int status;

    va_start(args, format);
    vsnprintf(update.res.message, sizeof update.res.message, format, args);
    va_end(args);
    if (update.pid > 0) {
        kill(update.pid, SIGKILL);
        while (waitpid(update.pid, &status, 0) < 0 && errno == EINTR) {
            continue;
        }
    }
    close(update.sock);
    update.res.state = ESW_UPDATE_FAILED;
    update.res.error = error;
    last_update = update.res;
    log_msg("live update to %s failed: %s: this daemon keeps the devices",
            update.res.new_binary, update.res.message);
    if (update.requester) {
        update.requester->update_pending = false;
        update_reply(update.requester, update.requester->update_seq, error,
                     &update.res);
        client_process(update.requester);   /* What waited behind it. */
    }
    update.pid = 0;
    update.sock = -1;
    update.requester = NULL;
}

/* The new daemon said hello (or went away): hands everything over. */
static void
update_handover(void)
{
    struct esw_rstate_writer w;
    struct esw_rhandover_msg msg;
    struct esw_rstate self;
    long long int paused_at, pause_ns;
    char reason[256], self_reason[256];
    bool written;
    uint8_t *copy;
    size_t n_fds, len;
    int error, memfd;

    error = esw_rhandover_recv(update.sock, &msg, NULL, 0, &n_fds, 0);
    if (error || msg.type != ESW_RHANDOVER_HELLO) {
        int status = 0;
        pid_t done = 0;

        /* A new daemon that closed the socket is usually exiting: its
         * status says more (up to 500 ms; the control loop only waits). */
        for (int i = 0; error == EPIPE && !done && i < 50; i++) {
            done = waitpid(update.pid, &status, WNOHANG);
            if (!done) {
                usleep(10000);
            }
        }
        if (done > 0) {
            update.pid = -update.pid;   /* Reaped: not to be killed. */
        }
        if (done <= 0 || !WIFEXITED(status)) {
            update_fail(EPROTO, "%s did not take over (%s; not an "
                        "ovs-eswitchd?)", update.res.new_binary,
                        error ? strerror(error) : "no hello");
        } else {
            update_fail(EPROTO, "%s exited with status %d without taking "
                        "over (not an ovs-eswitchd?)", update.res.new_binary,
                        WEXITSTATUS(status));
        }
        return;
    }
    msg.version[sizeof msg.version - 1] = '\0';
    snprintf(update.res.new_version, sizeof update.res.new_version, "%s",
             msg.version);
    if (msg.state_version != ESW_RSTATE_VERSION
        || msg.abi != esw_rstate_abi()) {
        update_fail(EPROTO, "%s (version %s) reads state version %"PRIu32
                    ", this daemon writes version %d: it cannot take over",
                    update.res.new_binary, msg.version, msg.state_version,
                    ESW_RSTATE_VERSION);
        return;
    }

    /* Forwarding stops here. */
    paused_at = now_ns();
    pause_all(true);
    esw_rstate_writer_init(&w);
    error = state_write(&w, paused_at);
    written = !error;
    copy = error ? NULL : malloc(w.len);
    memfd = -1;
    if (copy) {
        memcpy(copy, w.data, w.len);
        len = state_fault(copy, w.len, update.fault);
        memfd = state_memfd(copy, len);
        free(copy);
    }
    if (!error && memfd < 0) {
        error = ENOMEM;
    }
    for (size_t i = 0; !error && i < w.n_fds; i += ESW_RHANDOVER_FDS) {
        size_t k = w.n_fds - i < ESW_RHANDOVER_FDS ? w.n_fds - i
                   : ESW_RHANDOVER_FDS;

        memset(&msg, 0, sizeof msg);
        msg.magic = ESW_RHANDOVER_MAGIC;
        msg.type = ESW_RHANDOVER_FDS_MSG;
        msg.n = k;
        error = esw_rhandover_send(update.sock, &msg, w.fds + i, k);
    }
    if (!error) {
        memset(&msg, 0, sizeof msg);
        msg.magic = ESW_RHANDOVER_MAGIC;
        msg.type = ESW_RHANDOVER_STATE;
        msg.n = 1;
        error = esw_rhandover_send(update.sock, &msg, &memfd, 1);
    }
    if (memfd >= 0) {
        close(memfd);
    }
    if (!error) {
        error = esw_rhandover_recv(update.sock, &msg, NULL, 0, &n_fds,
                                   UPDATE_RESTORE_MS);
        if (!error && (msg.type != ESW_RHANDOVER_RESTORED || msg.error)) {
            snprintf(reason, sizeof reason, "%s", msg.message);
            error = msg.error ? msg.error : EPROTO;
        } else if (error) {
            snprintf(reason, sizeof reason, "no answer from the new daemon "
                     "(%s)", strerror(error));
        }
    } else {
        snprintf(reason, sizeof reason, "cannot hand the state over: %s",
                 strerror(error));
    }
    if (!error) {
        /* Logged before the commit: the new daemon logs only after it. */
        log_msg("live update: handed over to %s (pid %ld, version %s)",
                update.res.new_binary, (long) update.pid,
                update.res.new_version);
        memset(&msg, 0, sizeof msg);
        msg.magic = ESW_RHANDOVER_MAGIC;
        msg.type = ESW_RHANDOVER_COMMIT;
        error = esw_rhandover_send(update.sock, &msg, NULL, 0);
        if (error) {
            snprintf(reason, sizeof reason, "the new daemon went away: %s",
                     strerror(error));
        }
    }
    if (!error) {
        /* The new daemon has everything, the requester's connection
         * included, and resumes forwarding: we go, touching nothing. */
        _exit(0);
    }

    /* Failed: the new daemon is killed, ours resumes as it was. */
    pause_all(false);
    memset(&self, 0, sizeof self);
    if (written && esw_rstate_parse(w.data, w.len, w.n_fds, &self,
                                    self_reason, sizeof self_reason)) {
        /* Cannot happen (we wrote it): capture frames are lost. */
        log_msg("live update: our own state does not read back: %s",
                self_reason);
        memset(&self, 0, sizeof self);
    }
    pause_ns = now_ns() - paused_at;
    update.res.pause_us = pause_ns / 1000;
    /* Capture host sides get their unread frames back, in the order
     * state_write() wrote the sessions. */
    size_t i = 0;
    long long int detached_at;
    struct esw_rsession *s;

    for (size_t k = 0; k < MAX_CLIENTS; k++) {
        if (clients[k].sock >= 0) {
            if (i < self.n_sessions && self.sessions[i].s.has_dev) {
                esw_rsession_unsave(clients[k].session, &self.sessions[i]);
            }
            i++;
        }
    }
    for (size_t j = 0; (s = esw_rsession_detached_get(j, &detached_at));
         j++, i++) {
        if (i < self.n_sessions) {
            esw_rsession_unsave(s, &self.sessions[i]);
        }
    }
    esw_rstate_destroy(&self);
    esw_rstate_writer_destroy(&w);
    update_fail(error, "%s", reason);
}

/* The new daemon's side of a live update: takes everything over from the
 * daemon at the other end of 'sock'.  Exits if it cannot. */
static void __attribute__((noreturn, format(printf, 2, 3)))
restore_refuse(int sock, const char *format, ...)
{
    struct esw_rhandover_msg msg;
    va_list args;

    memset(&msg, 0, sizeof msg);
    msg.magic = ESW_RHANDOVER_MAGIC;
    msg.type = ESW_RHANDOVER_RESTORED;
    msg.error = EINVAL;
    va_start(args, format);
    vsnprintf(msg.message, sizeof msg.message, format, args);
    va_end(args);
    log_msg("live update refused: %s: the running daemon keeps the "
            "devices", msg.message);
    esw_rhandover_send(sock, &msg, NULL, 0);
    /* Nothing torn down: what we hold is still the running daemon's. */
    _exit(EXIT_FAILURE);
}

static void
restore(int sock)
{
    struct esw_rhandover_msg msg;
    struct esw_rstate st;
    char reason[256];
    int *fds = malloc(ESW_RSTATE_MAX_FDS * sizeof *fds);
    size_t n_fds = 0, n, n_devs = 0;
    uint8_t *data = NULL;
    long long int resumed_at;
    struct stat sb;
    int memfd = -1, error;

    if (!fds) {
        fatal("out of memory");
    }
    memset(&msg, 0, sizeof msg);
    msg.magic = ESW_RHANDOVER_MAGIC;
    msg.type = ESW_RHANDOVER_HELLO;
    msg.state_version = ESW_RSTATE_VERSION;
    msg.abi = esw_rstate_abi();
    msg.pid = getpid();
    snprintf(msg.version, sizeof msg.version, "%s", OVS_EXT_VERSION);
    if (esw_rhandover_send(sock, &msg, NULL, 0)) {
        fatal("--handover-fd: cannot talk to the running daemon");
    }
    for (;;) {
        error = esw_rhandover_recv(sock, &msg, fds + n_fds,
                                   ESW_RSTATE_MAX_FDS - n_fds, &n,
                                   UPDATE_RESTORE_MS);
        if (error) {
            restore_refuse(sock, "receiving the state: %s", strerror(error));
        }
        if (msg.type == ESW_RHANDOVER_FDS_MSG && n == msg.n) {
            n_fds += n;
        } else if (msg.type == ESW_RHANDOVER_STATE && n == 1) {
            memfd = fds[n_fds];
            break;
        } else {
            restore_refuse(sock, "unexpected hand-over message %"PRIu32,
                           msg.type);
        }
    }
    if (fstat(memfd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size < 0
        || sb.st_size > ESW_RSTATE_MAX_SIZE) {
        restore_refuse(sock, "the state is not a file of at most %u bytes",
                       ESW_RSTATE_MAX_SIZE);
    }
    data = malloc(sb.st_size ? sb.st_size : 1);
    if (!data || pread(memfd, data, sb.st_size, 0) != sb.st_size) {
        restore_refuse(sock, "cannot read the state");
    }
    close(memfd);
    if (esw_rstate_parse(data, sb.st_size, n_fds, &st, reason,
                         sizeof reason)) {
        restore_refuse(sock, "state refused: %s", reason);
    }

    /* Checked: everything is created from here on. */
    listener = fds[st.daemon.listener];
    fds[st.daemon.listener] = -1;
    keep_ms = st.daemon.keep_ms;
    verbose = st.daemon.verbose;
    snprintf(socket_path, sizeof socket_path, "%s", st.daemon.socket_path);
    snprintf(pidfile, sizeof pidfile, "%s", st.daemon.pidfile);
    started_ns = st.daemon.started_ns;
    for (size_t i = 0, k = 0; i < st.n_sessions; i++) {
        const struct esw_rstate_session *ss = &st.sessions[i];
        struct esw_rsession *s = esw_rsession_restore(ss, fds, now_ms(),
                                                      reason, sizeof reason);

        if (!s) {
            restore_refuse(sock, "%s", reason);
        }
        n_devs += ss->s.has_dev;
        if (ss->s.sock >= 0) {
            struct client *c;

            if (k >= MAX_CLIENTS) {
                restore_refuse(sock, "more than %d clients", MAX_CLIENTS);
            }
            c = &clients[k++];
            c->sock = fds[ss->s.sock];
            fds[ss->s.sock] = -1;
            c->session = s;
            c->update_pending = ss->s.update_pending;
            c->update_seq = ss->s.update_seq;
            c->len = c->allocated = ss->s.buf_len;
            c->buf = malloc(c->len ? c->len : 1);
            if (!c->buf) {
                restore_refuse(sock, "out of memory");
            }
            memcpy(c->buf, ss->buf, c->len);
        }
    }
    for (size_t i = 0; i < n_fds; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }

    memset(&msg, 0, sizeof msg);
    msg.magic = ESW_RHANDOVER_MAGIC;
    msg.type = ESW_RHANDOVER_RESTORED;
    if (esw_rhandover_send(sock, &msg, NULL, 0)
        || esw_rhandover_recv(sock, &msg, NULL, 0, &n, UPDATE_RESTORE_MS)
        || msg.type != ESW_RHANDOVER_COMMIT) {
        log_msg("live update: the running daemon did not commit: it keeps "
                "the devices");
        _exit(EXIT_FAILURE);
    }
    close(sock);

    /* Forwarding resumes here. */
    pause_all(false);
    resumed_at = now_ns();
    last_update = st.daemon.update;
    last_update.state = ESW_UPDATE_DONE;
    last_update.new_pid = getpid();
    snprintf(last_update.new_version, sizeof last_update.new_version, "%s",
             OVS_EXT_VERSION);
    last_update.pause_us = (resumed_at - st.daemon.paused_at_ns) / 1000;
    n_updates = st.daemon.n_updates + 1;
    if (pidfile[0]) {
        write_pidfile(pidfile);
    }
    log_msg("live update from pid %"PRIu32" (%s, version %s): %zu devices "
            "and %zu sessions taken over, forwarding paused %"PRIu64".%01"
            PRIu64" ms", last_update.old_pid, last_update.old_binary,
            last_update.old_version, n_devs, st.n_sessions,
            last_update.pause_us / 1000, last_update.pause_us % 1000 / 100);
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &clients[i];

        if (c->sock >= 0 && c->update_pending) {
            c->update_pending = false;
            update_reply(c, c->update_seq, 0, &last_update);
        }
    }
    esw_rstate_destroy(&st);
    free(data);
    free(fds);
}

/* Handles the complete messages in 'c''s buffer.  Returns false if the
 * client must go. */
static bool
client_process(struct client *c)
{
    size_t off = 0;
    bool keep = true;

    while (keep && !c->update_pending
           && c->len - off >= sizeof(struct esw_rmsg_hdr)) {
        struct esw_rmsg_hdr hdr;
        struct esw_rreply r;

        memcpy(&hdr, c->buf + off, sizeof hdr);
        if (esw_rproto_check_hdr(&hdr, false)) {
            /* Framing is lost: answer once and hang up. */
            struct esw_rreply bad;

            esw_rreply_init(&bad);
            bad.result = EPROTO;
            hdr.op = hdr.op && hdr.op < ESW_N_ROPS ? hdr.op : ESW_ROP_HELLO;
            client_reply(c, &hdr, &bad);
            log_msg("client %d: malformed message header: disconnecting",
                    c->sock);
            return false;
        }
        if (c->len - off < sizeof hdr + hdr.len) {
            break;
        }
        esw_rreply_init(&r);
        if ((hdr.op == ESW_ROP_DAEMON_STATUS
             || hdr.op == ESW_ROP_DAEMON_UPDATE
             || hdr.op == ESW_ROP_DAEMON_FUNCTIONS
             || hdr.op == ESW_ROP_DAEMON_HOTPLUG
             || hdr.op == ESW_ROP_DAEMON_UNPLUG)
            && esw_rsession_hello_done(c->session)
            && !esw_rsession_dev_name(c->session)) {
            bool reply = admin_request(c, &hdr, c->buf + off + sizeof hdr,
                                       &r);

            if (reply && !client_reply(c, &hdr, &r)) {
                keep = false;
            }
            esw_rreply_destroy(&r);
            off += sizeof hdr + hdr.len;
            continue;
        }
        if (hdr.op == ESW_ROP_DEV_CLOSE && esw_rsession_dev_name(c->session)) {
            log_msg("%s: closed by its client: destroyed",
                    esw_rsession_dev_name(c->session));
        }
        keep = esw_rsession_handle(c->session, &hdr,
                                   c->buf + off + sizeof hdr, &r);
        if (verbose && r.reason[0]) {
            log_msg("client %d: malformed request: %s", c->sock, r.reason);
        }
        if (!keep) {
            log_msg("client %d: failed handshake: disconnecting", c->sock);
        }
        if (!client_reply(c, &hdr, &r)) {
            keep = false;
        }
        esw_rreply_destroy(&r);
        off += sizeof hdr + hdr.len;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return keep;
}

static bool
client_read(struct client *c)
{
    for (;;) {
        size_t want = sizeof(struct esw_rmsg_hdr);
        ssize_t n;

        if (c->len >= want) {
            struct esw_rmsg_hdr hdr;

            memcpy(&hdr, c->buf, sizeof hdr);
            if (hdr.len <= ESW_RPROTO_MAX_MSG) {
                want += hdr.len;
            }
        }
        if (want < c->len + 4096) {
            want = c->len + 4096;
        }
        if (want > c->allocated) {
            uint8_t *buf = realloc(c->buf, want);

            if (!buf) {
                return false;
            }
            c->buf = buf;
            c->allocated = want;
        }
        n = recv(c->sock, c->buf + c->len, c->allocated - c->len,
                 MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        if (n == 0) {
            return false;
        }
        c->len += n;
        if (!client_process(c)) {
            return false;
        }
    }
}

int
main(int argc, char *argv[])
{
    static const struct option options[] = {
        { "socket", required_argument, NULL, 's' },
        { "pidfile", required_argument, NULL, 'p' },
        { "detach", no_argument, NULL, 'd' },
        { "log-file", required_argument, NULL, 'l' },
        { "verbose", no_argument, NULL, 'v' },
        { "keep-devices", required_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "handover-fd", required_argument, NULL, 'H' },
        { NULL, 0, NULL, 0 },
    };
    const char *log_file = NULL;
    bool detach = false;
    struct sigaction sa;
    int opt, handover_fd = -1;
    int ready[2] = { -1, -1 };

    socket_path[0] = '\0';
    while ((opt = getopt_long(argc, argv, "hV", options, NULL)) != -1) {
        switch (opt) {
        case 's':
            if (snprintf(socket_path, sizeof socket_path, "%s", optarg)
                >= (int) sizeof socket_path) {
                fatal("%s: socket path too long", optarg);
            }
            break;
        case 'p':
            if (snprintf(pidfile, sizeof pidfile, "%s", optarg)
                >= (int) sizeof pidfile) {
                fatal("%s: pid file path too long", optarg);
            }
            break;
        case 'H': {
            char *end;
            long fd;

            errno = 0;
            fd = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || fd < 3 || fd > 1024
                || fcntl(fd, F_GETFD) < 0) {
                fatal("--handover-fd=%s: not an open descriptor (this "
                      "option is for ovs-eswitchd's live update only)",
                      optarg);
            }
            handover_fd = fd;
            break;
        }
        case 'd':
            detach = true;
            break;
        case 'l':
            log_file = optarg;
            break;
        case 'v':
            verbose = true;
            break;
        case 'k': {
            char *end;
            long long int secs;

            errno = 0;
            secs = strtoll(optarg, &end, 10);
            if (errno || end == optarg || *end || secs < 0
                || secs > 365LL * 86400) {
                fatal("--keep-devices=%s: expected seconds, 0..%lld",
                      optarg, 365LL * 86400);
            }
            keep_ms = secs * 1000;
            break;
        }
        case 'h':
            usage();
            return 0;
        case 'V':
            printf("%s (ovs-ext) %s\n", program_name, OVS_EXT_VERSION);
            return 0;
        default:
            fprintf(stderr, "Try '%s --help'.\n", program_name);
            return EXIT_FAILURE;
        }
    }
    if (optind < argc) {
        fatal("unexpected argument '%s' (try --help)", argv[optind]);
    }
    if (!socket_path[0]
        && esw_rproto_default_socket(socket_path, sizeof socket_path)) {
        fatal("the default socket path is too long: use --socket");
    }
    if (log_file) {
        int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW
                      | O_CLOEXEC, 0644);

        if (fd < 0) {
            fatal("%s: %s", log_file, strerror(errno));
        }
        dup2(fd, STDERR_FILENO);
        close(fd);
    }

    process_ns = started_ns = now_ns();
    {
        ssize_t len = readlink("/proc/self/exe", self_binary,
                               sizeof self_binary - 1);

        self_binary[len > 0 ? len : 0] = '\0';
    }
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        clients[i].sock = -1;
    }

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if (handover_fd >= 0) {
        /* A live update: everything comes from the running daemon. */
        restore(handover_fd);
        detach = false;
    } else if (detach) {
        pid_t pid;

        if (pipe(ready) < 0) {
            fatal("pipe: %s", strerror(errno));
        }
        pid = fork();
        if (pid < 0) {
            fatal("fork: %s", strerror(errno));
        }
        if (pid > 0) {
            char c;

            /* Returns once the child listens (or failed). */
            close(ready[1]);
            return read(ready[0], &c, 1) == 1 ? 0 : EXIT_FAILURE;
        }
        close(ready[0]);
        setsid();
    }

    if (handover_fd < 0) {
        listener = listen_at(socket_path);
        if (pidfile[0]) {
            write_pidfile(pidfile);
        }
        log_msg("listening on %s", socket_path);
    }
    if (detach) {
        int null = open("/dev/null", O_RDWR);

        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            if (!log_file) {
                dup2(null, STDERR_FILENO);
            }
            close(null);
        }
        if (write(ready[1], "", 1) != 1) {
            fatal("cannot signal the parent");
        }
        close(ready[1]);
        if (chdir("/")) {
            /* Nothing relies on the working directory. */
        }
    }

    /* Requests that came before a live update and waited in the previous
     * daemon's buffers. */
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].sock >= 0 && clients[i].len
            && !client_process(&clients[i])) {
            client_close(&clients[i]);
        }
    }
    long long int next_publish = 0;
    while (!exiting) {
        struct pollfd pfds[2 * MAX_CLIENTS + 2];
        size_t map[2 * MAX_CLIENTS + 2];
        int timeout = 1000;
        bool publish = false;
        nfds_t n = 0;

        /* The connections' counters, for their clients to read (see
         * esw-remote-proto.h, "Connections"). */
        for (size_t i = 0; i < MAX_CLIENTS; i++) {
            publish |= (clients[i].sock >= 0
                        && esw_rsession_has_cts(clients[i].session));
        }
        if (publish) {
            long long int now = now_ms();

            if (now >= next_publish) {
                for (size_t i = 0; i < MAX_CLIENTS; i++) {
                    if (clients[i].sock >= 0) {
                        esw_rsession_ct_publish(clients[i].session);
                    }
                }
                next_publish = now + ESW_RCT_PUBLISH_MS;
            }
            timeout = next_publish - now < timeout ? next_publish - now
                                                   : timeout;
        }

        if (update.pid) {
            long long int left = update.deadline - now_ms();

            if (left <= 0) {
                update_fail(ETIMEDOUT, "%s did not answer within %d ms "
                            "(not an ovs-eswitchd?)", update.res.new_binary,
                            UPDATE_HELLO_MS);
                continue;
            }
            timeout = left < timeout ? left : timeout;
        }
        pfds[n].fd = listener;
        pfds[n++].events = POLLIN;
        for (size_t i = 0; i < MAX_CLIENTS; i++) {
            if (clients[i].sock >= 0) {
                int send_fd = esw_rsession_send_fd(clients[i].session);

                map[n] = i;
                pfds[n].fd = clients[i].sock;
                pfds[n++].events = POLLIN;
                if (send_fd >= 0) {
                    map[n] = i;
                    pfds[n].fd = send_fd;   /* The client's sends. */
                    pfds[n++].events = POLLIN;
                }
            }
        }
        if (update.pid) {
            map[n] = MAX_CLIENTS;
            pfds[n].fd = update.sock;
            pfds[n++].events = POLLIN;
        }
        if (keep_ms && esw_rsession_n_detached()) {
            esw_rsession_expire(now_ms(), keep_ms, log_expired);
        }
        if (poll(pfds, n, timeout) < 0) {
            if (errno != EINTR) {
                fatal("poll: %s", strerror(errno));
            }
            continue;
        }
        if (update.pid && pfds[n - 1].revents) {
            update_handover();  /* Does not return if it succeeds. */
            continue;
        }
        for (nfds_t k = 1; k < n; k++) {
            struct client *c;

            if (map[k] >= MAX_CLIENTS) {
                continue;
            }
            c = &clients[map[k]];
            if (!pfds[k].revents || c->sock < 0) {
                continue;
            }
            if (pfds[k].fd == c->sock) {
                long long int since;

                if (!client_read(c)) {
                    client_close(c);
                } else if (esw_rsession_take_adopted(c->session, &since)) {
                    bool admin = esw_rsession_adopted_admin(c->session);

                    log_msg("%s: taken over by a new client %lld ms after "
                            "%s (%zu rules, %llu "
                            "misses dropped meanwhile, counted per vport "
                            "as no-controller)",
                            esw_rsession_dev_name(c->session),
                            now_ms() - since,
                            (admin ? "it was kept (made or changed by "
                             "ovs-eswitchctl --daemon)"
                             : "the previous one went away"),
                            esw_rsession_n_rules(c->session),
                            (unsigned long long)
                            esw_rsession_no_controller_drops(c->session));
                }
            } else if (pfds[k].fd == esw_rsession_send_fd(c->session)) {
                esw_rsession_run(c->session);
            }
        }
        if (pfds[0].revents & POLLIN) {
            int sock = accept4(listener, NULL, NULL,
                               SOCK_CLOEXEC | SOCK_NONBLOCK);
            struct client *c = NULL;

            for (size_t i = 0; sock >= 0 && i < MAX_CLIENTS; i++) {
                if (clients[i].sock < 0) {
                    c = &clients[i];
                    break;
                }
            }
            if (sock >= 0 && c) {
                c->sock = sock;
                c->session = esw_rsession_create();
                if (!c->session) {
                    close(sock);
                    c->sock = -1;
                } else if (verbose) {
                    log_msg("client %d connected", sock);
                }
            } else if (sock >= 0) {
                log_msg("too many clients (%d): refusing one", MAX_CLIENTS);
                close(sock);
            }
        }
    }

    log_msg("exiting");
    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].sock >= 0) {
            client_close(&clients[i]);
        }
    }
    esw_rsession_expire(0, -1, NULL);
    if (update.pid) {
        kill(update.pid, SIGKILL);
        waitpid(update.pid, NULL, 0);
    }
    close(listener);
    unlink(socket_path);
    if (pidfile[0]) {
        unlink(pidfile);
    }
    return 0;
}
