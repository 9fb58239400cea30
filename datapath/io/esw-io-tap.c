/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* "tap" host-side backend: one Linux tap device per function.
 *
 * The tap fd is the switch side; the kernel interface is the function (a
 * VM once moved into a network namespace, or the wire for the uplink):
 * frames the interface transmits are read from the fd (rx), frames the
 * switch delivers are written to it (tx).  The fd is non-blocking: a frame
 * the kernel cannot take right away is dropped (counted by the caller as
 * ESW_DROP_HOST_TX).  Opening needs /dev/net/tun and CAP_NET_ADMIN; on
 * any failure nothing is left behind. */

#include "esw-io.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "esw-provider.h"

struct esw_io_tap {
    struct esw_io up;
    int fd;
};

static struct esw_io_tap *
esw_io_tap_cast(struct esw_io *io)
{
    return (struct esw_io_tap *) io;
}

/* Gives the tap interface (the function's side) the function's MAC, as a
 * VM's NIC would have it. */
static int
tap_set_mac(const char *name, const struct esw_eth_addr *mac)
{
    struct ifreq ifr;
    int sock, error = 0;

    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        return errno;
    }
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, mac->ea, ESW_ETH_ADDR_LEN);
    if (ioctl(sock, SIOCSIFHWADDR, &ifr) < 0) {
        error = errno;
    }
    close(sock);
    return error;
}

static struct esw_io *
tap_create(const char *name, int fd)
{
    struct esw_io_tap *tap = calloc(1, sizeof *tap);

    if (tap) {
        tap->up.ops = &esw_io_tap_ops;
        snprintf(tap->up.name, sizeof tap->up.name, "%s", name);
        tap->fd = fd;
    }
    return tap ? &tap->up : NULL;
}

/* Takes over the tap fd another process exported: it must be a tap
 * attached to an interface (TUNGETIFF; its name may differ from 'name'
 * if the interface was renamed in a VM's namespace), which keeps its MAC
 * and everything else. */
static int
tap_adopt(const struct esw_io_params *params, const char *name,
          struct esw_io **iop, struct esw_error *err)
{
    int fd = params->adopt_fds[0];
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    if (params->n_adopt_fds != 1 || fd < 0
        || ioctl(fd, TUNGETIFF, &ifr) < 0
        || (ifr.ifr_flags & (IFF_TAP | IFF_TUN)) != IFF_TAP) {
        return esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                             "%s: tap %s: the descriptor handed over is "
                             "not a tap", params->vport_name, name);
    }
    *iop = tap_create(ifr.ifr_name, fd);
    return (*iop ? 0 : esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                                     "out of memory"));
}

static int
tap_open(const struct esw_io_params *params, struct esw_io **iop,
         struct esw_error *err)
{
    char name[IFNAMSIZ];
    struct ifreq ifr;
    int fd, error;

    *iop = NULL;
    if (params->cfg->ifname[0]) {
        if (strnlen(params->cfg->ifname, sizeof params->cfg->ifname)
            >= IFNAMSIZ) {
            return esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                                 "%s: tap name too long",
                                 params->vport_name);
        }
        snprintf(name, sizeof name, "%s", params->cfg->ifname);
    } else {
        /* "esw0" + "pf0vf3", truncated to IFNAMSIZ - 1. */
        snprintf(name, sizeof name, "%.*s%s", IFNAMSIZ - 1,
                 params->dev_name, params->vport_name);
    }

    if (params->n_adopt_fds) {
        return tap_adopt(params, name, iop, err);
    }
    fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        error = errno;
        return esw_error_set(err, error == ENOENT ? ENODEV
                             : error == EPERM ? EACCES : error,
                             ESW_ERROR_HOST_IO, -1,
                             "%s: tap %s: cannot open /dev/net/tun: %s",
                             params->vport_name, name, strerror(error));
    }
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, sizeof ifr.ifr_name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        error = errno;
        close(fd);
        if (error == EPERM) {
            return esw_error_set(err, EACCES, ESW_ERROR_HOST_IO, -1,
                                 "%s: tap %s: CAP_NET_ADMIN "
                                 "required", params->vport_name, name);
        }
        return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                             "%s: tap %s: %s",
                             params->vport_name, name, strerror(error));
    }

    if (params->mac && !esw_eth_addr_is_zero(params->mac)) {
        error = tap_set_mac(ifr.ifr_name, params->mac);
        if (error) {
            close(fd);
            return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                                 "%s: tap %s: cannot set its "
                                 "MAC: %s", params->vport_name, ifr.ifr_name,
                                 strerror(error));
        }
    }

    *iop = tap_create(ifr.ifr_name, fd);
    if (!*iop) {
        close(fd);
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    return 0;
}

static void
tap_close(struct esw_io *io)
{
    if (io) {
        struct esw_io_tap *tap = esw_io_tap_cast(io);

        close(tap->fd);
        free(tap);
    }
}

static size_t
tap_rx(struct esw_io *io, struct esw_pkt *pkts[], size_t max)
{
    struct esw_io_tap *tap = esw_io_tap_cast(io);
    uint8_t buf[ESW_FRAME_MAX + 1];
    size_t n = 0;

    while (n < max) {
        ssize_t len = read(tap->fd, buf, sizeof buf);
        struct esw_pkt *pkt;

        if (len < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;              /* EAGAIN, or the interface went away. */
        }
        /* An oversized frame becomes an empty packet, which the pipeline
         * drops and counts as malformed. */
        pkt = esw_pkt_from_data(buf, len <= ESW_FRAME_MAX ? len : 0);
        if (!pkt) {
            break;
        }
        pkts[n++] = pkt;
    }
    return n;
}

static size_t
tap_tx(struct esw_io *io, struct esw_pkt *pkts[], size_t n)
{
    struct esw_io_tap *tap = esw_io_tap_cast(io);
    size_t done = 0;

    for (size_t i = 0; i < n; i++) {
        ssize_t retval;

        do {
            retval = write(tap->fd, pkts[i]->data, pkts[i]->len);
        } while (retval < 0 && errno == EINTR);
        if (retval == (ssize_t) pkts[i]->len) {
            done++;
        }
        esw_pkt_free(pkts[i]);
    }
    return done;
}

/* The tun driver answers SIOCGIFHWADDR on the fd itself, so this works
 * after the interface was moved into another network namespace (a VM) or
 * renamed there. */
static int
tap_get_mac(const struct esw_io *io, struct esw_eth_addr *mac)
{
    const struct esw_io_tap *tap = (const struct esw_io_tap *) io;
    struct ifreq ifr;

    memset(&ifr, 0, sizeof ifr);
    if (ioctl(tap->fd, SIOCGIFHWADDR, &ifr) < 0) {
        return errno;
    }
    memcpy(mac->ea, ifr.ifr_hwaddr.sa_data, ESW_ETH_ADDR_LEN);
    return 0;
}

static int
tap_get_fd(const struct esw_io *io)
{
    return ((const struct esw_io_tap *) io)->fd;
}

static size_t
tap_export_fds(const struct esw_io *io, int fds[])
{
    fds[0] = ((const struct esw_io_tap *) io)->fd;
    return 1;
}

const struct esw_io_ops esw_io_tap_ops = {
    .type = ESW_IO_TAP,
    .open = tap_open,
    .close = tap_close,
    .rx = tap_rx,
    .tx = tap_tx,
    .get_fd = tap_get_fd,
    .prepare_wait = NULL,       /* Level-triggered fd. */
    .rx_is_empty = NULL,        /* Not tracked by esw_dev_is_idle(). */
    .get_mac = tap_get_mac,
    .export_fds = tap_export_fds,
};
