/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* "wire" host-side backend: a cable between two emulated NICs.
 *
 * The function's side is a Unix SOCK_SEQPACKET connection at a path: one
 * eSwitch listens on it (cfg 'client' false: it creates the socket), the
 * other connects to it ('client' true), and each message is one Ethernet
 * frame, both ways.  Two ovs-vswitchd whose uplinks are the two ends of a
 * wire exchange their underlay traffic, with no privilege and no kernel
 * interface: the underlay of two emulated hosts in tests and benchmarks.
 *
 * The link is up while the connection exists ('is_up', 'host_up'): frames
 * sent while it is down are link-down drops.  The listening side accepts
 * a new peer at any time (a peer that restarted replaces the old
 * connection); the connecting side retries every WIRE_RETRY_MS while it
 * has no connection, so either daemon may start first or restart.
 *
 * Files: the listening side creates the socket with bind(), which never
 * follows a symbolic link; an existing socket there is replaced only if
 * nobody listens on it (a stale one from a crash), anything else at the
 * path is refused; on close the socket is removed only if it is still the
 * one this backend created.
 *
 * Threads: rx() (the owning forwarding thread) accepts, connects and
 * drops connections; tx() (any thread) sends under a read lock on the
 * connection, which rx() takes for writing only to replace it.  Sends
 * never block: a frame the socket cannot take now is dropped (counted by
 * the caller as ESW_DROP_HOST_TX). */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* accept4(), recvmmsg(), sendmmsg(). */
#endif

#include "esw-io.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "esw-provider.h"

#define WIRE_RETRY_MS 100       /* Reconnect interval of the client. */
#define WIRE_BATCH    32        /* Frames per recvmmsg()/sendmmsg(). */
#define WIRE_SOCKBUF  (4 * 1024 * 1024)     /* SO_SNDBUF/SO_RCVBUF. */

/* What an event of the backend's epoll set is about. */
enum wire_ev {
    WIRE_EV_LISTEN,
    WIRE_EV_TIMER,
    WIRE_EV_CONN,
};

struct esw_io_wire {
    struct esw_io up;
    char path[ESW_PATH_MAX];
    bool client;

    int epfd;                   /* Listen or timer fd, and conn: the fd the
                                 * forwarding thread waits on. */
    int listen_fd;              /* Server: the listening socket, else -1. */
    int timer_fd;               /* Client: reconnect timer, else -1. */
    dev_t sock_dev;             /* Server: the socket file created. */
    ino_t sock_ino;

    /* The connection: written by rx()'s thread under 'conn_lock' held for
     * writing, read by tx() with it held for reading. */
    pthread_rwlock_t conn_lock;
    int conn_fd;                /* -1 while the link is down. */
    atomic_bool link_up;        /* conn_fd >= 0, for is_up() without the
                                 * lock. */
    atomic_uint_least64_t connects;

    /* Receive buffers, rx()'s thread only. */
    uint8_t rx_buf[WIRE_BATCH][ESW_FRAME_MAX + 1];
};

static struct esw_io_wire *
esw_io_wire_cast(const struct esw_io *io)
{
    return (struct esw_io_wire *) io;
}

static void
wire_set_timer(struct esw_io_wire *w, bool on)
{
    struct itimerspec its;

    if (w->timer_fd < 0) {
        return;
    }
    memset(&its, 0, sizeof its);
    if (on) {
        its.it_value.tv_nsec = WIRE_RETRY_MS * 1000000L;
        its.it_interval = its.it_value;
    }
    timerfd_settime(w->timer_fd, 0, &its, NULL);
}

/* Makes 'fd' (or -1) the connection, closing the previous one. */
static void
wire_set_conn(struct esw_io_wire *w, int fd)
{
    int old;

    pthread_rwlock_wrlock(&w->conn_lock);
    old = w->conn_fd;
    w->conn_fd = fd;
    atomic_store(&w->link_up, fd >= 0);
    pthread_rwlock_unlock(&w->conn_lock);

    if (old >= 0) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, old, NULL);
        close(old);
    }
    if (fd >= 0) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP,
                                  .data.u32 = WIRE_EV_CONN };
        int size = WIRE_SOCKBUF;

        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev);
        atomic_fetch_add(&w->connects, 1);
    }
    wire_set_timer(w, fd < 0);
}

static int
wire_sockaddr(const char *path, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof *sun);
    sun->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sun->sun_path) {
        return ENAMETOOLONG;
    }
    memcpy(sun->sun_path, path, strlen(path));
    return 0;
}

/* Connects to 'path'.  Returns the connected socket, or -1 with errno. */
static int
wire_connect(const char *path)
{
    struct sockaddr_un sun;
    int fd, error;

    error = wire_sockaddr(path, &sun);
    if (error) {
        errno = error;
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun)) {
        error = errno;
        close(fd);
        errno = error;
        return -1;
    }
    return fd;
}

/* Creates the listening socket at 'path'.  Returns 0 or a positive errno
 * with a reason in 'err'. */
static int
wire_listen(struct esw_io_wire *w, const struct esw_io_params *params,
            struct esw_error *err)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd, error;

    if (!lstat(w->path, &st)) {
        if (!S_ISSOCK(st.st_mode)) {
            return esw_error_set(err, EEXIST, ESW_ERROR_HOST_IO, -1,
                                 "%s: wire %s: exists and is not a socket",
                                 params->vport_name, w->path);
        }
        /* Stale only if nobody listens: a listener whose backlog is full
         * (of our own earlier probes, say, never accepted) refuses a
         * non-blocking connect with EAGAIN. */
        fd = wire_connect(w->path);
        error = fd < 0 ? errno : 0;
        if (fd >= 0) {
            close(fd);
        }
        if (!error || error == EAGAIN) {
            return esw_error_set(err, EADDRINUSE, ESW_ERROR_HOST_IO, -1,
                                 "%s: wire %s: another process listens "
                                 "there", params->vport_name, w->path);
        }
        if (error != ECONNREFUSED && error != ENOENT) {
            return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                                 "%s: wire %s: cannot tell whether the "
                                 "socket is in use: %s", params->vport_name,
                                 w->path, strerror(error));
        }
        if (unlink(w->path) && errno != ENOENT) {
            error = errno;
            return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                                 "%s: wire %s: cannot remove the stale "
                                 "socket: %s", params->vport_name, w->path,
                                 strerror(error));
        }
    }

    wire_sockaddr(w->path, &sun);
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = errno;
        return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                             "%s: wire: socket: %s", params->vport_name,
                             strerror(error));
    }
    if (bind(fd, (struct sockaddr *) &sun, sizeof sun)) {
        error = errno;
        close(fd);
        return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                             "%s: wire %s: cannot create the socket: %s",
                             params->vport_name, w->path, strerror(error));
    }
    if (lstat(w->path, &st) || listen(fd, 4)) {
        error = errno;
        close(fd);
        unlink(w->path);
        return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                             "%s: wire %s: cannot listen: %s",
                             params->vport_name, w->path, strerror(error));
    }
    w->sock_dev = st.st_dev;
    w->sock_ino = st.st_ino;
    w->listen_fd = fd;
    return 0;
}

/* Removes the socket file if it is still the one 'w' created. */
static void
wire_unlink(const struct esw_io_wire *w)
{
    struct stat st;

    if (!lstat(w->path, &st) && S_ISSOCK(st.st_mode)
        && st.st_dev == w->sock_dev && st.st_ino == w->sock_ino) {
        unlink(w->path);
    }
}

static void wire_close(struct esw_io *);

static bool
wire_is_socket(int fd, bool listening)
{
    struct stat st;
    int accepting = 0;
    socklen_t len = sizeof accepting;

    return (fd >= 0 && !fstat(fd, &st) && S_ISSOCK(st.st_mode)
            && !getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len)
            && !accepting == !listening);
}

/* Takes over the sockets another process's wire of this config exported
 * (wire_export_fds()): the listening socket (server) and the connection,
 * if there was one; frames queued in them stay there. */
static int
wire_adopt(struct esw_io_wire *w, const struct esw_io_params *params,
           struct esw_error *err)
{
    int listen_fd = params->adopt_fds[0];
    int conn_fd = params->n_adopt_fds > 1 ? params->adopt_fds[1] : -1;
    struct epoll_event ev;
    struct stat st;

    if (params->n_adopt_fds != 2
        || (w->client ? listen_fd >= 0 : !wire_is_socket(listen_fd, true))
        || (conn_fd >= 0 && !wire_is_socket(conn_fd, false))
        || (!w->client && (lstat(w->path, &st) || !S_ISSOCK(st.st_mode)))) {
        return esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                             "%s: wire %s: the descriptors handed over are "
                             "not this wire's", params->vport_name, w->path);
    }
    if (w->client) {
        w->timer_fd = timerfd_create(CLOCK_MONOTONIC,
                                     TFD_NONBLOCK | TFD_CLOEXEC);
        if (w->timer_fd < 0) {
            int error = errno;

            return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                                 "%s: wire: timerfd: %s", params->vport_name,
                                 strerror(error));
        }
        ev = (struct epoll_event) { .events = EPOLLIN,
                                    .data.u32 = WIRE_EV_TIMER };
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->timer_fd, &ev);
    } else {
        w->sock_dev = st.st_dev;
        w->sock_ino = st.st_ino;
        w->listen_fd = listen_fd;
        ev = (struct epoll_event) { .events = EPOLLIN,
                                    .data.u32 = WIRE_EV_LISTEN };
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->listen_fd, &ev);
    }
    wire_set_conn(w, conn_fd);
    return 0;
}

static int
wire_open(const struct esw_io_params *params, struct esw_io **iop,
          struct esw_error *err)
{
    const struct esw_io_config *cfg = params->cfg;
    struct epoll_event ev;
    struct esw_io_wire *w;
    size_t len;
    int error;

    *iop = NULL;
    len = strnlen(cfg->path, sizeof cfg->path);
    if (!len || len >= sizeof cfg->path || cfg->path[0] != '/') {
        return esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                             "%s: wire path must be absolute and at most "
                             "%d bytes", params->vport_name,
                             ESW_PATH_MAX - 1);
    }

    w = calloc(1, sizeof *w);
    if (!w) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    w->up.ops = &esw_io_wire_ops;
    memcpy(w->path, cfg->path, len);
    w->client = cfg->client;
    w->listen_fd = w->timer_fd = w->conn_fd = -1;
    pthread_rwlock_init(&w->conn_lock, NULL);
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0) {
        error = errno;
        free(w);
        return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                             "%s: wire: epoll: %s", params->vport_name,
                             strerror(error));
    }

    if (params->n_adopt_fds) {
        error = wire_adopt(w, params, err);
        if (error) {
            w->listen_fd = w->conn_fd = -1;     /* The caller's still. */
            wire_close(&w->up);
            return error;
        }
    } else if (w->client) {
        int fd;

        w->timer_fd = timerfd_create(CLOCK_MONOTONIC,
                                     TFD_NONBLOCK | TFD_CLOEXEC);
        if (w->timer_fd < 0) {
            error = errno;
            wire_close(&w->up);
            return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                                 "%s: wire: timerfd: %s", params->vport_name,
                                 strerror(error));
        }
        ev = (struct epoll_event) { .events = EPOLLIN,
                                    .data.u32 = WIRE_EV_TIMER };
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->timer_fd, &ev);

        /* The peer may not be there yet (ENOENT, ECONNREFUSED) or be busy
         * (EAGAIN): then the timer retries.  Anything else is a bad
         * path. */
        fd = wire_connect(w->path);
        error = fd < 0 ? errno : 0;
        if (error && error != ENOENT && error != ECONNREFUSED
            && error != EAGAIN) {
            wire_close(&w->up);
            return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                                 "%s: wire %s: cannot connect: %s",
                                 params->vport_name, cfg->path,
                                 strerror(error));
        }
        wire_set_conn(w, fd);
    } else {
        error = wire_listen(w, params, err);
        if (error) {
            wire_close(&w->up);
            return error;
        }
        ev = (struct epoll_event) { .events = EPOLLIN,
                                    .data.u32 = WIRE_EV_LISTEN };
        epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->listen_fd, &ev);
    }
    *iop = &w->up;
    return 0;
}

static void
wire_close(struct esw_io *io)
{
    if (io) {
        struct esw_io_wire *w = esw_io_wire_cast(io);

        if (w->conn_fd >= 0) {
            close(w->conn_fd);
        }
        if (w->listen_fd >= 0) {
            close(w->listen_fd);
            wire_unlink(w);
        }
        if (w->timer_fd >= 0) {
            close(w->timer_fd);
        }
        if (w->epfd >= 0) {
            close(w->epfd);
        }
        pthread_rwlock_destroy(&w->conn_lock);
        free(w);
    }
}

/* Accepts, reconnects and notices hang-ups: whatever made the epoll set
 * readable apart from frames. */
static void
wire_service(struct esw_io_wire *w)
{
    struct epoll_event evs[3];
    int n = epoll_wait(w->epfd, evs, 3, 0);

    for (int i = 0; i < n; i++) {
        switch ((enum wire_ev) evs[i].data.u32) {
        case WIRE_EV_LISTEN:
            for (;;) {
                int fd = accept4(w->listen_fd, NULL, NULL,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                    break;
                }
                wire_set_conn(w, fd);   /* The newest peer wins. */
            }
            break;
        case WIRE_EV_TIMER: {
            uint64_t expirations;

            if (read(w->timer_fd, &expirations, sizeof expirations) < 0) {
                /* EAGAIN: nothing expired after all. */
            }
            if (w->conn_fd < 0) {
                int fd = wire_connect(w->path);

                if (fd >= 0) {
                    wire_set_conn(w, fd);
                }
            }
            break;
        }
        case WIRE_EV_CONN:
            if ((evs[i].events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP))
                && !(evs[i].events & EPOLLIN)) {
                wire_set_conn(w, -1);
            }
            break;
        }
    }
}

static size_t
wire_rx(struct esw_io *io, struct esw_pkt *pkts[], size_t max)
{
    struct esw_io_wire *w = esw_io_wire_cast(io);
    size_t n = 0;

    while (n < max && w->conn_fd >= 0) {
        struct mmsghdr msgs[WIRE_BATCH];
        struct iovec iovs[WIRE_BATCH];
        size_t want = max - n < WIRE_BATCH ? max - n : WIRE_BATCH;
        bool eof = false;
        int got;

        for (size_t i = 0; i < want; i++) {
            iovs[i] = (struct iovec) { w->rx_buf[i], sizeof w->rx_buf[i] };
            memset(&msgs[i], 0, sizeof msgs[i]);
            msgs[i].msg_hdr.msg_iov = &iovs[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        got = recvmmsg(w->conn_fd, msgs, want, MSG_DONTWAIT, NULL);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                wire_set_conn(w, -1);
            }
            break;
        }
        for (int i = 0; i < got; i++) {
            size_t len = msgs[i].msg_len;
            struct esw_pkt *pkt;

            if (!len && !(msgs[i].msg_hdr.msg_flags & MSG_TRUNC)) {
                /* End of file (a peer never sends empty frames). */
                eof = true;
                break;
            }

            /* An oversized frame becomes an empty packet, which the
             * pipeline drops and counts as malformed. */
            if (len > ESW_FRAME_MAX
                || msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
                len = 0;
            }
            pkt = esw_pkt_from_data(w->rx_buf[i], len);
            if (pkt) {
                pkts[n++] = pkt;
            }
        }
        if (!got || eof) {
            wire_set_conn(w, -1);   /* The peer went away. */
            break;
        }
        if ((size_t) got < want) {
            break;
        }
    }
    if (n < max) {
        wire_service(w);
    }
    return n;
}

static size_t
wire_tx(struct esw_io *io, struct esw_pkt *pkts[], size_t n)
{
    struct esw_io_wire *w = esw_io_wire_cast(io);
    size_t done = 0;

    pthread_rwlock_rdlock(&w->conn_lock);
    for (size_t i = 0; w->conn_fd >= 0 && i < n; ) {
        struct mmsghdr msgs[WIRE_BATCH];
        struct iovec iovs[WIRE_BATCH];
        size_t want = n - i < WIRE_BATCH ? n - i : WIRE_BATCH;
        int sent;

        for (size_t j = 0; j < want; j++) {
            iovs[j] = (struct iovec) { pkts[i + j]->data, pkts[i + j]->len };
            memset(&msgs[j], 0, sizeof msgs[j]);
            msgs[j].msg_hdr.msg_iov = &iovs[j];
            msgs[j].msg_hdr.msg_iovlen = 1;
        }
        sent = sendmmsg(w->conn_fd, msgs, want, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR) {
            continue;
        }
        if (sent <= 0) {
            break;              /* Full (EAGAIN) or gone: drop the rest. */
        }
        done += sent;
        i += sent;
        if ((size_t) sent < want) {
            /* The socket is full: skip the frame it did not take. */
            i++;
        }
    }
    pthread_rwlock_unlock(&w->conn_lock);
    for (size_t i = 0; i < n; i++) {
        esw_pkt_free(pkts[i]);
    }
    return done;
}

static int
wire_get_fd(const struct esw_io *io)
{
    return esw_io_wire_cast(io)->epfd;
}

static bool
wire_is_up(const struct esw_io *io)
{
    return atomic_load(&esw_io_wire_cast(io)->link_up);
}

static void
wire_get_info(const struct esw_io *io, struct esw_host_info *info)
{
    const struct esw_io_wire *w = esw_io_wire_cast(io);

    info->host_up = atomic_load(&w->link_up);
    memcpy(info->path, w->path, sizeof info->path);
    info->client = w->client;
    info->host_connects = atomic_load(&w->connects);
}

static size_t
wire_export_fds(const struct esw_io *io, int fds[])
{
    const struct esw_io_wire *w = esw_io_wire_cast(io);

    fds[0] = w->listen_fd;
    fds[1] = w->conn_fd;        /* Its thread is stopped: stable. */
    return 2;
}

const struct esw_io_ops esw_io_wire_ops = {
    .type = ESW_IO_WIRE,
    .open = wire_open,
    .close = wire_close,
    .rx = wire_rx,
    .tx = wire_tx,
    .get_fd = wire_get_fd,
    .prepare_wait = NULL,       /* Level-triggered epoll fd. */
    .rx_is_empty = NULL,        /* Not tracked by esw_dev_is_idle(). */
    .get_mac = NULL,
    .is_up = wire_is_up,
    .get_info = wire_get_info,
    .export_fds = wire_export_fds,
};
