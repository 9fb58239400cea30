/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* For nanosleep() even under -std=c11. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include "esw-rcu.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Implementation
 * ==============
 *
 * 'global_epoch' counts grace periods.  Each registered thread owns a
 * 'struct rcu_thread' whose 'ctr' is 0 while the thread is offline, and
 * otherwise the value of 'global_epoch' it saw at its last quiescent state.
 * A grace period increments 'global_epoch' to 'target' and waits until
 * every registered thread has 'ctr' == 0 or 'ctr' >= 'target'.
 *
 * Memory ordering:
 *
 *   - A quiescent state loads 'global_epoch' with acquire semantics and
 *     stores it into 'ctr' with release semantics: reads done before the
 *     quiescent state happen before the end of the grace period (the waiter
 *     loads 'ctr' with acquire), and reads after it that saw the new epoch
 *     see everything the writer did before starting the grace period.
 *
 *   - Going online is a Dekker-style handshake: the thread stores 'ctr' and
 *     then issues a sequentially consistent fence before reading shared
 *     pointers; the waiter bumps 'global_epoch' and issues the same fence
 *     before reading 'ctr'.  Either the waiter sees the thread online (and
 *     waits for it), or the thread sees the writer's unlinking.
 *
 * Callbacks are queued under 'cb_mutex' and run in FIFO order by one
 * background thread, in batches: it takes the whole queue, waits for one
 * grace period, runs the batch, and repeats. */

struct rcu_thread {
    _Atomic(uint64_t) ctr;      /* 0: offline.  Else epoch of last QS. */
    struct rcu_thread *next;    /* In 'threads', under 'registry_mutex'. */
    struct rcu_thread **pprev;
    char pad[64 - 8 - 2 * sizeof(void *)];  /* Own cache line. */
};

static _Atomic(uint64_t) global_epoch = 1;

/* Protects the list of registered threads. */
static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct rcu_thread *threads;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;  /* Unregisters a thread when it exits. */

static _Thread_local struct rcu_thread *self;
static _Thread_local unsigned int read_nest;
static _Thread_local bool read_went_online;

/* Callback queue, protected by 'cb_mutex'. */
struct rcu_cb {
    void (*cb)(void *);
    void *aux;
};
static pthread_mutex_t cb_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cb_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cb_done = PTHREAD_COND_INITIALIZER;
static struct rcu_cb *cb_queue;
static size_t cb_n, cb_allocated;
static uint64_t cb_n_posted;    /* Callbacks ever postponed. */
static uint64_t cb_n_done;      /* Callbacks ever run. */
static bool cb_thread_idle;     /* Waiting on 'cb_work'. */
static pthread_once_t cb_once = PTHREAD_ONCE_INIT;

static void
rcu_abort(const char *what, int error)
{
    fprintf(stderr, "esw-rcu: %s: %s\n", what, strerror(error));
    abort();
}

static void *
rcu_xmalloc(size_t size)
{
    void *p = malloc(size);
    if (!p) {
        rcu_abort("malloc", ENOMEM);
    }
    return p;
}

/* Thread registry. */

static void
rcu_unregister__(struct rcu_thread *t)
{
    atomic_store_explicit(&t->ctr, 0, memory_order_release);
    pthread_mutex_lock(&registry_mutex);
    *t->pprev = t->next;
    if (t->next) {
        t->next->pprev = t->pprev;
    }
    pthread_mutex_unlock(&registry_mutex);
    free(t);
}

static void
rcu_thread_exit(void *t)
{
    rcu_unregister__(t);
}

static void
rcu_create_key(void)
{
    int error = pthread_key_create(&exit_key, rcu_thread_exit);
    if (error) {
        rcu_abort("pthread_key_create", error);
    }
}

static void
rcu_go_online(struct rcu_thread *t)
{
    atomic_store_explicit(&t->ctr,
                          atomic_load_explicit(&global_epoch,
                                               memory_order_acquire),
                          memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
}

static void
rcu_go_offline(struct rcu_thread *t)
{
    atomic_store_explicit(&t->ctr, 0, memory_order_release);
}

/* Registers the calling thread, offline, and returns its record. */
static struct rcu_thread *
rcu_register(void)
{
    struct rcu_thread *t;

    pthread_once(&key_once, rcu_create_key);
    t = rcu_xmalloc(sizeof *t);
    memset(t, 0, sizeof *t);
    atomic_init(&t->ctr, 0);

    pthread_mutex_lock(&registry_mutex);
    t->next = threads;
    if (threads) {
        threads->pprev = &t->next;
    }
    t->pprev = &threads;
    threads = t;
    pthread_mutex_unlock(&registry_mutex);

    pthread_setspecific(exit_key, t);
    self = t;
    return t;
}

void
esw_rcu_thread_register(void)
{
    if (!self) {
        rcu_go_online(rcu_register());
    }
}

void
esw_rcu_thread_unregister(void)
{
    if (self) {
        pthread_setspecific(exit_key, NULL);
        rcu_unregister__(self);
        self = NULL;
    }
}

bool
esw_rcu_thread_is_online(void)
{
    return self && atomic_load_explicit(&self->ctr, memory_order_relaxed);
}

/* Quiescent states. */

void
esw_rcu_quiesce(void)
{
    struct rcu_thread *t = self;

    if (!t) {
        rcu_go_online(rcu_register());
    } else if (!atomic_load_explicit(&t->ctr, memory_order_relaxed)) {
        rcu_go_online(t);
    } else {
        uint64_t e = atomic_load_explicit(&global_epoch,
                                          memory_order_acquire);
        atomic_store_explicit(&t->ctr, e, memory_order_release);
    }
}

void
esw_rcu_quiesce_start(void)
{
    if (self) {
        rcu_go_offline(self);
    }
}

void
esw_rcu_quiesce_end(void)
{
    rcu_go_online(self ? self : rcu_register());
}

void
esw_rcu_read_lock(void)
{
    if (!read_nest++) {
        struct rcu_thread *t = self ? self : rcu_register();

        read_went_online = !atomic_load_explicit(&t->ctr,
                                                 memory_order_relaxed);
        if (read_went_online) {
            rcu_go_online(t);
        }
    }
}

void
esw_rcu_read_unlock(void)
{
    if (!--read_nest && read_went_online) {
        rcu_go_offline(self);
    }
}

/* Grace periods. */

static void
rcu_backoff(unsigned int *n)
{
    if (*n < 10) {
        sched_yield();
    } else {
        unsigned int us = *n < 20 ? 20 : *n < 40 ? 100 : 1000;
        struct timespec ts = { 0, us * 1000L };
        nanosleep(&ts, NULL);
    }
    (*n)++;
}

/* Waits for a grace period.  The caller must not be online. */
static void
rcu_wait_gp(void)
{
    uint64_t target = atomic_fetch_add(&global_epoch, 1) + 1;
    unsigned int n = 0;
    struct rcu_thread *t;

    atomic_thread_fence(memory_order_seq_cst);

    pthread_mutex_lock(&registry_mutex);
    for (t = threads; t; ) {
        uint64_t c = atomic_load_explicit(&t->ctr, memory_order_acquire);
        if (!c || c >= target) {
            t = t->next;
        } else {
            pthread_mutex_unlock(&registry_mutex);
            rcu_backoff(&n);
            pthread_mutex_lock(&registry_mutex);
            t = threads;        /* 't' may be gone: start over. */
        }
    }
    pthread_mutex_unlock(&registry_mutex);
}

static void
rcu_check_not_in_read_section(const char *function)
{
    if (read_nest) {
        fprintf(stderr, "esw-rcu: %s inside esw_rcu_read_lock()\n",
                function);
        abort();
    }
}

void
esw_rcu_synchronize(void)
{
    bool was_online = esw_rcu_thread_is_online();

    rcu_check_not_in_read_section(__func__);
    if (was_online) {
        rcu_go_offline(self);
    }
    rcu_wait_gp();
    if (was_online) {
        rcu_go_online(self);
    }
}

/* Callbacks. */

static void *
rcu_cb_main(void *arg)
{
    struct rcu_cb *batch = NULL;
    size_t batch_allocated = 0;

    (void) arg;
    for (;;) {
        struct rcu_cb *tmp;
        size_t n, i;

        pthread_mutex_lock(&cb_mutex);
        while (!cb_n) {
            cb_thread_idle = true;
            pthread_cond_wait(&cb_work, &cb_mutex);
        }
        cb_thread_idle = false;

        /* Swap the queue with our (empty) batch buffer. */
        tmp = batch;
        batch = cb_queue;
        n = cb_n;
        cb_queue = tmp;
        cb_n = 0;
        i = batch_allocated;
        batch_allocated = cb_allocated;
        cb_allocated = i;
        pthread_mutex_unlock(&cb_mutex);

        rcu_wait_gp();
        for (i = 0; i < n; i++) {
            batch[i].cb(batch[i].aux);
        }

        pthread_mutex_lock(&cb_mutex);
        cb_n_done += n;
        pthread_cond_broadcast(&cb_done);
        pthread_mutex_unlock(&cb_mutex);
    }
    return NULL;
}

static void
rcu_start_cb_thread(void)
{
    pthread_attr_t attr;
    pthread_t thread;
    int error;

    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    error = pthread_create(&thread, &attr, rcu_cb_main, NULL);
    pthread_attr_destroy(&attr);
    if (error) {
        rcu_abort("pthread_create", error);
    }
}

void
esw_rcu_postpone(void (*cb)(void *), void *aux)
{
    pthread_once(&cb_once, rcu_start_cb_thread);

    pthread_mutex_lock(&cb_mutex);
    if (cb_n >= cb_allocated) {
        size_t n = cb_allocated ? 2 * cb_allocated : 64;
        struct rcu_cb *q = realloc(cb_queue, n * sizeof *q);
        if (!q) {
            rcu_abort("realloc", ENOMEM);
        }
        cb_queue = q;
        cb_allocated = n;
    }
    cb_queue[cb_n].cb = cb;
    cb_queue[cb_n].aux = aux;
    cb_n++;
    cb_n_posted++;
    if (cb_thread_idle) {
        cb_thread_idle = false;
        pthread_cond_signal(&cb_work);
    }
    pthread_mutex_unlock(&cb_mutex);
}

void
esw_rcu_barrier(void)
{
    bool was_online = esw_rcu_thread_is_online();

    rcu_check_not_in_read_section(__func__);
    if (was_online) {
        rcu_go_offline(self);
    }

    pthread_mutex_lock(&cb_mutex);
    for (;;) {
        uint64_t target = cb_n_posted;

        while (cb_n_done < target) {
            pthread_cond_wait(&cb_done, &cb_mutex);
        }
        if (cb_n_posted == target) {
            break;
        }
    }
    pthread_mutex_unlock(&cb_mutex);

    if (was_online) {
        rcu_go_online(self);
    }
}
