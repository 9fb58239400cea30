/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* libFuzzer target: the live update's state parser (esw-remote-state.h).
 * The first byte says how many descriptors came with the state, the rest
 * is the state.  A state the parser accepts is walked as the new daemon
 * would, every index checked against what was received. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esw-remote-state.h"

static void
check_fd(int32_t idx, size_t n_fds)
{
    if (idx != -1 && (idx < 0 || (size_t) idx >= n_fds)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct esw_rstate st;
    char reason[256];
    uint8_t *copy;
    size_t n_fds;

    if (!size) {
        return 0;
    }
    n_fds = data[0];
    /* A copy of exactly the state, so that ASan sees overreads. */
    copy = malloc(size - 1 ? size - 1 : 1);
    if (!copy) {
        abort();
    }
    memcpy(copy, data + 1, size - 1);
    if (!esw_rstate_parse(copy, size - 1, n_fds, &st, reason,
                          sizeof reason)) {
        check_fd(st.daemon.listener, n_fds);
        for (size_t i = 0; i < st.n_sessions; i++) {
            const struct esw_rstate_session *ss = &st.sessions[i];

            check_fd(ss->s.sock, n_fds);
            for (uint32_t v = 0; ss->s.has_dev && v < ss->dev.n_vports;
                 v++) {
                const struct esw_rs_vport *vp = &ss->vports[v].v;

                if (vp->add.cfg.n_rep_queues > ESW_MAX_REP_QUEUES
                    || vp->n_host_fds > 2) {
                    abort();
                }
                check_fd(vp->send_memfd, n_fds);
            }
        }
        esw_rstate_destroy(&st);
    } else if (!reason[0]) {
        abort();                /* A refusal always says why. */
    }
    free(copy);
    return 0;
}
