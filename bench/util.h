/* util.h: what the C benchmarks of the device API share.  Define
 * BENCH_NAME (the program's name, for error messages) before including
 * it. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H 1

#include "datapath/esw.h"
#include "datapath/esw-emu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Seconds on the monotonic clock. */
static inline double
bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Exits after "BENCH_NAME: WHAT: strerror(ERROR)" on stderr. */
static inline void __attribute__((noreturn))
bench_die(const char *what, int error)
{
    fprintf(stderr, "%s: %s: %s\n", BENCH_NAME, what, strerror(error));
    exit(EXIT_FAILURE);
}

/* Adds VF 'fn' with a capture host side holding 'io_depth' frames (0: the
 * default) and a representor queue of 'rep_depth' (0: the default);
 * returns its vport or exits. */
static inline uint32_t
bench_add_vf(struct esw_dev *dev, uint32_t fn, uint32_t io_depth,
             uint32_t rep_depth)
{
    struct esw_io_config io = { .type = ESW_IO_CAPTURE,
                                .queue_depth = io_depth };
    struct esw_vport_config cfg = {
        .kind = ESW_VPORT_VF, .fn = fn, .vport = ESW_VPORT_AUTO,
        .rep_queue_depth = rep_depth, .io = &io,
    };
    struct esw_error err;
    uint32_t vport;
    int error = esw_vport_add(dev, &cfg, &err, &vport);

    if (error) {
        bench_die(err.reason, error);
    }
    return vport;
}

#endif /* bench/util.h */
