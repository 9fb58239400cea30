/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* "capture" host-side backend: in-memory queues, for tests and benchmarks.
 *
 * inject queue: test threads -> forwarding thread (rx), with an eventfd
 *               notifier so that an idle forwarding thread wakes up.
 * capture queue: forwarding threads and representor senders -> test
 *               reader (tx).  Full: the frame is dropped and the caller
 *               counts it (ESW_DROP_HOST_TX). */

#include "esw-io.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esw-provider.h"
#include "esw-sim-ring.h"

#define CAPTURE_DEFAULT_DEPTH 1024
#define CAPTURE_MAX_DEPTH     (1u << 20)

struct esw_io_capture {
    struct esw_io up;
    struct esw_ring inject;         /* Function tx, consumed by rx(). */
    struct esw_notifier inject_notifier;
    struct esw_ring capture;        /* Function rx, filled by tx(). */
};

static struct esw_io_capture *
esw_io_capture_cast(struct esw_io *io)
{
    return (struct esw_io_capture *) io;
}

static void
drain_ring(struct esw_ring *r)
{
    void *p;

    while (esw_ring_dequeue_burst(r, &p, 1)) {
        esw_pkt_free(p);
    }
}

static int
capture_open(const struct esw_io_params *params, struct esw_io **iop,
             struct esw_error *err)
{
    uint32_t depth = params->cfg->queue_depth;
    struct esw_io_capture *c;
    int error;

    *iop = NULL;
    if (!depth) {
        depth = CAPTURE_DEFAULT_DEPTH;
    }
    if (depth > CAPTURE_MAX_DEPTH) {
        return esw_error_set(err, EINVAL, ESW_ERROR_HOST_IO, -1,
                             "%s: capture queue depth %"PRIu32
                             " exceeds %u", params->vport_name, depth,
                             CAPTURE_MAX_DEPTH);
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        return esw_error_set(err, ENOMEM, ESW_ERROR_UNSPECIFIED, -1,
                             "out of memory");
    }
    c->up.ops = &esw_io_capture_ops;
    error = esw_ring_init(&c->inject, depth);
    if (error) {
        goto err_free;
    }
    error = esw_ring_init(&c->capture, depth);
    if (error) {
        goto err_inject;
    }
    error = esw_notifier_init(&c->inject_notifier);
    if (error) {
        goto err_capture;
    }
    *iop = &c->up;
    return 0;

err_capture:
    esw_ring_destroy(&c->capture);
err_inject:
    esw_ring_destroy(&c->inject);
err_free:
    free(c);
    return esw_error_set(err, error, ESW_ERROR_HOST_IO, -1,
                         "%s: capture queues: %s",
                         params->vport_name, strerror(error));
}

static void
capture_close(struct esw_io *io)
{
    struct esw_io_capture *c;

    if (!io) {
        return;
    }
    c = esw_io_capture_cast(io);
    drain_ring(&c->inject);
    drain_ring(&c->capture);
    esw_notifier_destroy(&c->inject_notifier);
    esw_ring_destroy(&c->inject);
    esw_ring_destroy(&c->capture);
    free(c);
}

static size_t
capture_rx(struct esw_io *io, struct esw_pkt *pkts[], size_t max)
{
    struct esw_io_capture *c = esw_io_capture_cast(io);

    return esw_ring_dequeue_burst(&c->inject, (void **) pkts, max);
}

static size_t
capture_tx(struct esw_io *io, struct esw_pkt *pkts[], size_t n)
{
    struct esw_io_capture *c = esw_io_capture_cast(io);
    size_t done = esw_ring_enqueue_burst(&c->capture, (void *const *) pkts,
                                         n);

    for (size_t i = done; i < n; i++) {
        esw_pkt_free(pkts[i]);
    }
    return done;
}

static int
capture_get_fd(const struct esw_io *io)
{
    const struct esw_io_capture *c = (const struct esw_io_capture *) io;

    return c->inject_notifier.fd;
}

static bool
capture_prepare_wait(struct esw_io *io)
{
    struct esw_io_capture *c = esw_io_capture_cast(io);

    return esw_notifier_prepare(&c->inject_notifier, &c->inject);
}

static bool
capture_rx_is_empty(struct esw_io *io)
{
    return esw_ring_is_empty(&esw_io_capture_cast(io)->inject);
}

int
esw_io_capture_inject(struct esw_io *io, struct esw_pkt *pkt)
{
    struct esw_io_capture *c = esw_io_capture_cast(io);

    if (!esw_ring_enqueue(&c->inject, pkt)) {
        esw_pkt_free(pkt);
        return ENOBUFS;
    }
    esw_notifier_signal(&c->inject_notifier);
    return 0;
}

size_t
esw_io_capture_read(struct esw_io *io, struct esw_pkt *pkts[], size_t max)
{
    struct esw_io_capture *c = esw_io_capture_cast(io);

    return esw_ring_dequeue_burst(&c->capture, (void **) pkts, max);
}

const struct esw_io_ops esw_io_capture_ops = {
    .type = ESW_IO_CAPTURE,
    .open = capture_open,
    .close = capture_close,
    .rx = capture_rx,
    .tx = capture_tx,
    .get_fd = capture_get_fd,
    .prepare_wait = capture_prepare_wait,
    .rx_is_empty = capture_rx_is_empty,
};

/* Backends registered with esw_io_register(), by type. */
static const struct esw_io_ops *_Atomic registered_ops[ESW_IO_VHOST_USER + 1];

void
esw_io_register(const struct esw_io_ops *ops)
{
    if ((unsigned int) ops->type < sizeof registered_ops
                                   / sizeof registered_ops[0]) {
        atomic_store_explicit(&registered_ops[ops->type], ops,
                              memory_order_release);
    }
}

const struct esw_io_ops *
esw_io_ops_for_type(enum esw_io_type type)
{
    switch (type) {
    case ESW_IO_CAPTURE:
        return &esw_io_capture_ops;
    case ESW_IO_TAP:
        return &esw_io_tap_ops;
    case ESW_IO_WIRE:
        return &esw_io_wire_ops;
    case ESW_IO_VHOST_USER:
        return atomic_load_explicit(&registered_ops[type],
                                    memory_order_acquire);
    case ESW_IO_NONE:
    default:
        return NULL;
    }
}
