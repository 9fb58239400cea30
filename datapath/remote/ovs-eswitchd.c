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
#include "esw-remote-server.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS 64
#define SEND_TIMEOUT_MS 1000

struct client {
    int sock;
    struct esw_rsession *session;
    uint8_t *buf;               /* Input: a header, then its payload. */
    size_t len, allocated;
};

static volatile sig_atomic_t exiting;
static const char *program_name = "ovs-eswitchd";
static bool verbose;

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
client_close(struct client *c)
{
    if (verbose) {
        const char *name = esw_rsession_dev_name(c->session);

        log_msg("client %d gone%s%s", c->sock, name ? ": closing " : "",
                name ? name : "");
    }
    esw_rsession_destroy(c->session);
    close(c->sock);
    free(c->buf);
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

/* Handles the complete messages in 'c''s buffer.  Returns false if the
 * client must go. */
static bool
client_process(struct client *c)
{
    size_t off = 0;
    bool keep = true;

    while (keep && c->len - off >= sizeof(struct esw_rmsg_hdr)) {
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
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    static struct client clients[MAX_CLIENTS];
    const char *pidfile = NULL, *log_file = NULL;
    char socket_path[sizeof ((struct sockaddr_un *) 0)->sun_path];
    bool detach = false;
    struct sigaction sa;
    int listener, opt;
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
            pidfile = optarg;
            break;
        case 'd':
            detach = true;
            break;
        case 'l':
            log_file = optarg;
            break;
        case 'v':
            verbose = true;
            break;
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

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    if (detach) {
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

    listener = listen_at(socket_path);
    if (pidfile) {
        write_pidfile(pidfile);
    }
    log_msg("listening on %s", socket_path);
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

    for (size_t i = 0; i < MAX_CLIENTS; i++) {
        clients[i].sock = -1;
    }
    while (!exiting) {
        struct pollfd pfds[2 * MAX_CLIENTS + 1];
        size_t map[2 * MAX_CLIENTS + 1];
        nfds_t n = 0;

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
        if (poll(pfds, n, 1000) < 0) {
            if (errno != EINTR) {
                fatal("poll: %s", strerror(errno));
            }
            continue;
        }
        for (nfds_t k = 1; k < n; k++) {
            struct client *c = &clients[map[k]];

            if (!pfds[k].revents || c->sock < 0) {
                continue;
            }
            if (pfds[k].fd == c->sock) {
                if (!client_read(c)) {
                    client_close(c);
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
    close(listener);
    unlink(socket_path);
    if (pidfile) {
        unlink(pidfile);
    }
    return 0;
}
