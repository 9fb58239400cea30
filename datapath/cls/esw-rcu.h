/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_RCU_H
#define ESW_RCU_H 1

/* Quiescent-state-based reclamation (QSBR) for the eSwitch.
 *
 * Readers of RCU-protected data (the rule table, see esw-cls.h) never take a
 * lock and never write shared memory.  Instead, every thread that may hold
 * pointers to such data is *registered* and periodically announces a
 * *quiescent state*: a point where it holds no such pointer.  A writer that
 * unlinks an object hands its destruction to esw_rcu_postpone(); the
 * callback runs only after every registered thread has passed through a
 * quiescent state since the call (a "grace period").
 *
 * Thread states
 * =============
 *
 * A thread is in one of three states:
 *
 *   - unregistered: the initial state.  The thread must not hold pointers
 *     to RCU-protected data.  It never delays a grace period.
 *
 *   - online: registered and possibly holding pointers.  A grace period
 *     cannot end until the thread calls esw_rcu_quiesce() or goes offline.
 *
 *   - offline ("extended quiescent state"): registered but holding no
 *     pointers, e.g. while blocked in epoll_wait().  Never delays a grace
 *     period.
 *
 *   esw_rcu_thread_register(), esw_rcu_quiesce() and esw_rcu_quiesce_end()
 *   make the calling thread online (registering it if needed).
 *   esw_rcu_quiesce_start() makes it offline.  A registered thread that
 *   exits is unregistered automatically (it must not be online with
 *   pointers when it does, obviously).
 *
 * Typical reader loops:
 *
 *     forwarding thread:                 any other thread (e.g. OVS's):
 *       esw_rcu_thread_register();         esw_rcu_read_lock();
 *       for (;;) {                         rule = esw_cls_lookup(...);
 *           esw_rcu_quiesce_start();       ...use rule...
 *           epoll_wait(...);               esw_rcu_read_unlock();
 *           esw_rcu_quiesce_end();
 *           ...process a batch...
 *           esw_rcu_quiesce();
 *       }
 *
 * esw_rcu_read_lock()/esw_rcu_read_unlock() bracket a short read-side
 * section in a thread that does not otherwise take part in QSBR: the lock
 * makes the thread online if it was not, and the matching unlock restores
 * the previous state (offline or unregistered-equivalent).  They nest.  In
 * a thread that is already online they cost almost nothing.  Do not call
 * esw_rcu_quiesce*() inside such a section.
 *
 * Callbacks
 * =========
 *
 * Callbacks passed to esw_rcu_postpone() run on a private background thread
 * ("esw-rcu", started on first use), in the order they were postponed,
 * after a grace period that began after the esw_rcu_postpone() call.  They
 * must not block for long; they may call esw_rcu_postpone() themselves.
 * The background thread is not a reader (it is never registered).
 *
 * Waiting
 * =======
 *
 * esw_rcu_synchronize() and esw_rcu_barrier() block.  If the caller is
 * online, it is made offline for the wait and online again before return
 * (so it must not hold RCU-protected pointers across the call).  They must
 * not be called from an RCU callback or inside esw_rcu_read_lock().
 *
 * esw_rcu_barrier() returns once the callback queue has been drained: every
 * callback postponed before the call, and every callback those postponed
 * in turn, has run.  Call it at shutdown (after stopping writers) for
 * leak-free exits under AddressSanitizer.
 *
 * Threading
 * =========
 *
 * All functions are thread-safe.  esw_rcu_quiesce() and the read-lock pair
 * are wait-free in the common case (a few loads and one store to a
 * thread-private cache line).  No function reports errors: memory
 * allocation failure aborts the process.
 */

#include <stdbool.h>

void esw_rcu_thread_register(void);
void esw_rcu_thread_unregister(void);
bool esw_rcu_thread_is_online(void);

void esw_rcu_quiesce(void);
void esw_rcu_quiesce_start(void);
void esw_rcu_quiesce_end(void);

void esw_rcu_read_lock(void);
void esw_rcu_read_unlock(void);

void esw_rcu_postpone(void (*cb)(void *aux), void *aux);
void esw_rcu_synchronize(void);
void esw_rcu_barrier(void);

#endif /* esw-rcu.h */
