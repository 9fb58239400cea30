/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

#ifndef ESW_SIM_H
#define ESW_SIM_H 1

/* Private state of the "sim" eSwitch driver, shared by its files:
 *
 *   esw-sim.c        device lifecycle, vports, policy glue, representor
 *                    and host-side entry points (control code: it calls
 *                    the pipeline, never the reverse).
 *   esw-sim-rules.c  rules (validation against device state, add, modify,
 *                    delete, stats, orphaning).
 *   esw-sim-fwd.c    forwarding threads and the packet pipeline, with
 *                    its stages that the entry points also use (egress,
 *                    representor queues).
 *   esw-sim-trace.c  the pipeline's decisions for one packet, without
 *                    side effects (esw_trace_packet()).
 *
 * Locking and lifetimes
 * =====================
 *
 * 'ctl_mutex' serializes every control operation (vports, rules, policy);
 * it is the only lock.  Lock order: esw.c's registry mutex, then
 * 'ctl_mutex'.
 *
 * Forwarding threads and API readers (esw_rep_*(), esw_host_*(), stats)
 * never lock: they read RCU-protected pointers ('vports[]', each vport's
 * 'policy', each thread's 'rxset', rule versions in the classifier) while
 * online in the esw-rcu sense (forwarding threads are registered, API
 * readers use esw_rcu_read_lock()).  Writers publish new objects with
 * release stores, under 'ctl_mutex', and free the old ones with
 * esw_rcu_postpone().
 *
 * Counters are relaxed atomics: vport counters are added to (fetch_add,
 * once per batch) by any thread; rule counters are per forwarding thread,
 * each slot written by one thread only.  Readers sum them. */

#include <pthread.h>
#include <stdatomic.h>

#include "esw-cls.h"
#include "esw-io.h"
#include "esw-provider.h"
#include "esw-sim-ring.h"

struct esw_policy;
struct sim_thread;

#define SIM_DEFAULT_MAX_RULES   65536
#define SIM_DEFAULT_MAX_VPORTS  64
#define SIM_MAX_VPORTS          4096
#define SIM_MAX_THREADS         64
#define SIM_DEFAULT_BATCH       32
#define SIM_POLL_LINGER_NS      20000   /* A forwarding thread keeps polling
                                         * up to this long after its last
                                         * frame before it sleeps... */
#define SIM_POLL_LINGER_MIN_NS  2500    /* ...at least this long, or not at
                                         * all (see sim_linger_adapt())... */
#define SIM_POLL_COALESCE_NS    2000    /* ...and, while it lingers, waits
                                         * this long after a poll that got
                                         * only a few. */
#define SIM_MAX_BATCH           256
#define SIM_DEFAULT_REP_DEPTH   1024
#define SIM_MAX_REP_DEPTH       (1u << 20)
#define SIM_DEFAULT_MTU         1500
#define SIM_MIN_MTU             68
#define SIM_REP_REARM_POLLS   4   /* Empty recvs before re-arming. */
#define SIM_MAX_MTU             (ESW_FRAME_MAX - ESW_ETH_HDR_LEN \
                                 - ESW_MAX_VLANS * ESW_VLAN_HDR_LEN)
#define SIM_MAX_RECIRC          6       /* As OVS's dpif-netdev
                                         * (MAX_RECIRC_DEPTH). */
#define SIM_DEFAULT_MAX_METERS  4096
#define SIM_MAX_METERS          65536
#define SIM_DEFAULT_MAX_CONNS   65536
#define SIM_MAX_CONNS           (1u << 22)

struct sim_vport_counters {
    _Atomic uint64_t rx_packets, rx_bytes;
    _Atomic uint64_t tx_packets, tx_bytes;
    _Atomic uint64_t rep_rx_packets, rep_tx_packets;
    _Atomic uint64_t guest_mac_refused;
    _Atomic uint64_t drops[ESW_N_DROP_REASONS];
};

/* One representor (miss) queue: forwarding threads produce, the
 * representor reader of that queue consumes. */
struct sim_rep_queue {
    struct esw_ring ring;
    struct esw_notifier notifier;
    unsigned int empty_polls;   /* Consumer only: empty recvs since the fd
                                 * was last re-armed. */
};

/* A vport's representor queues.  Immutable once published (the count and
 * the queues themselves; the rings are concurrent), replaced as a whole
 * through RCU by esw_vport_set_rep_queues(). */
struct sim_rep_queues {
    struct sim_vport *owner;
    uint32_t n;
    struct sim_rep_queue q[];
};

struct sim_vport {
    struct sim_dev *dev;
    uint32_t number;
    char name[ESW_NAME_MAX];
    enum esw_vport_kind kind;
    uint32_t pf, fn;
    unsigned int thread;        /* Index of the forwarding thread that
                                 * receives from the host side. */

    /* Read by forwarding threads, written under 'ctl_mutex'. */
    _Atomic uint32_t mtu;
    _Atomic bool admin_up;
    _Atomic(struct esw_policy *) policy;    /* RCU; NULL = no policy. */

    /* Under 'ctl_mutex'. */
    struct esw_eth_addr mac;            /* Administrative default. */
    struct esw_eth_addr guest_mac;      /* Last guest request, accepted or
                                         * not: for status only. */
    struct esw_eth_addr granted_mac;    /* Last request the policy
                                         * accepted (zero: none): the only
                                         * guest MAC that can be in effect.
                                         * A refused request never changes
                                         * it. */
    bool guest_mac_refused;             /* Last request refused. */
    struct esw_policy_config *policy_cfg;   /* NULL: none. */

    /* Immutable after creation. */
    struct esw_io *io;                  /* NULL: not attached. */
    enum esw_io_type io_type;

    /* Representor (miss) queues, RCU; never NULL once added. */
    _Atomic(struct sim_rep_queues *) rep;
    uint32_t rep_queue_depth;       /* Per queue, immutable. */

    struct sim_vport_counters *counters;    /* 'own_counters' or the
                                             * device's counter store's. */
    struct sim_vport_counters own_counters;
};

/* A rule handle (esw.h's opaque 'struct esw_rule'). */
struct esw_rule {
    struct sim_dev *dev;
    struct sim_rule_version *cur;   /* Under 'ctl_mutex'. */
    _Atomic bool installed;         /* In the classifier (not orphaned). */
    struct esw_rule *prev, *next;   /* 'rules' list, under 'ctl_mutex'. */

    /* Per forwarding thread, written by that thread only. */
    struct sim_rule_stats *stats;   /* [n_threads]. */
};

struct sim_rule_stats {
    _Alignas(64) _Atomic uint64_t packets;
    _Atomic uint64_t bytes;
    _Atomic uint64_t used_ms;
};

/* One version of a rule, as seen by the forwarding threads.  Immutable
 * once in the classifier; replaced as a whole by esw_rule_modify().  Holds
 * the spec's actions only, not ESW_MAX_ACTIONS of them: a rule with one
 * output takes about 400 bytes instead of 1.9 kB (see
 * sim_rule_version_get_spec()). */
struct sim_rule_version {
    struct esw_cls_rule cls;        /* Must be first.  Its match, mask and
                                     * priority are the spec's, except that
                                     * the chain is always matched exactly
                                     * (rules of chain 0 live in a table
                                     * of their own, see sim_dev). */
    struct esw_rule *rule;
    uint32_t spec_mask_chain;       /* The spec's masks of the chain and */
    uint32_t spec_mask_tun_port;    /* ...of the tunnel port. */
    size_t n_outputs;
    bool simple_output;             /* Exactly one OUTPUT, nothing else. */
    bool chained;                   /* RECIRC or HASH: the packet goes
                                     * through the chain executor. */
    uint32_t chain;                 /* The rule's chain. */
    bool hash_l4;                   /* Has a HASH action with ESW_HASH_L4, */
    uint16_t hash_vlans;            /* ...whose 'max_vlans' is this. */
    uint32_t out_vport;             /* The OUTPUT if 'simple_output'. */
    size_t n_actions;
    struct esw_action actions[];    /* The spec's, 'n_actions' of them. */
};

/* A meter (see esw.h).  Immutable configuration; the buckets are shared by
 * the forwarding threads under 'lock', a spinlock held for a few
 * arithmetic operations per packet; counters are relaxed atomics.
 * Replaced as a whole by esw_meter_set(), freed through RCU. */
struct sim_meter {
    struct esw_meter_config cfg;    /* Bursts filled in. */
    uint64_t max_bucket[ESW_MAX_METER_BANDS];  /* burst * 1000 * 1e6. */

    atomic_flag lock;               /* Guards 'used_ns' and 'bucket'. */
    uint64_t used_ns;               /* Last refill. */
    uint64_t bucket[ESW_MAX_METER_BANDS];   /* In units * 1e6, where a unit
                                             * is a bit (kbit/s) or a 1/1000
                                             * packet (packets/s), so that
                                             * 1 ns at 'rate' adds 'rate'. */

    _Atomic uint64_t packets, bytes;
    _Atomic uint64_t band_packets[ESW_MAX_METER_BANDS];
    _Atomic uint64_t band_bytes[ESW_MAX_METER_BANDS];
};

/* The vports a forwarding thread receives from.  RCU. */
struct sim_rxset {
    size_t n;
    struct sim_vport *vports[];
};

struct sim_thread {
    struct sim_dev *dev;
    unsigned int idx;
    pthread_t thread;
    bool started;
    int epfd;                       /* Host-side fds and 'wake'. */
    struct esw_notifier wake;       /* Control -> thread. */
    _Atomic(struct sim_rxset *) rxset;
    _Atomic bool stop;
    size_t n_vports;                /* Under 'ctl_mutex'. */

    /* Scratch space of esw_sim_poll_once(), allocated on first use. */
    struct sim_fwd_ctx *poll_ctx;
};

struct sim_dev {
    struct esw_dev up;
    struct esw_dev_config cfg;      /* Without 'emu': */
    uint32_t batch_size;            /* Its batch size... */
    bool busy_poll;                 /* ...and busy polling. */

    pthread_mutex_t ctl_mutex;
    _Atomic(struct sim_vport *) *vports;    /* [max_vports], RCU. */
    size_t n_vports;                        /* Under 'ctl_mutex'. */
    struct esw_cls *cls;            /* Rules of chain 0, where every packet
                                     * starts: their masks leave 'chain'
                                     * out. */
    struct esw_cls *cls_chains;     /* Rules of the other chains, their
                                     * masks covering 'chain'.  Both tables
                                     * share the rule capacity. */
    struct esw_rule *rules_head, *rules_tail;   /* Under 'ctl_mutex'. */
    size_t n_rules;                 /* Handles, orphaned included. */

    unsigned int n_threads;
    struct sim_thread *threads;

    _Atomic(struct sim_meter *) *meters;    /* [caps.max_meters], RCU. */

    /* Packets injected or being forwarded, not yet fully processed. */
    _Atomic int64_t in_flight;

    /* Connection table (esw-sim-ct.c). */
    struct sim_ct_table *ct;

    /* Where misses go instead of the representor queues, if set
     * (esw_sim_set_rep_sink()). */
    struct esw_sim_rep_sink *_Atomic rep_sink;

    /* Where vports added from then on keep their counters, if set
     * (esw_sim_set_counter_store()); under 'ctl_mutex'. */
    const struct esw_sim_counter_store *counter_store;
};

static inline struct sim_dev *
sim_dev_cast(struct esw_dev *dev)
{
    return (struct sim_dev *) dev;
}

/* esw-sim.c */
struct sim_vport *sim_vport_get(struct sim_dev *, uint32_t vport);
bool sim_auto_link_up(struct sim_dev *, const struct sim_vport *);
const struct esw_eth_addr *sim_vport_effective_mac(const struct sim_vport *);
void sim_vport_drop(struct sim_vport *, enum esw_drop_reason, uint64_t n);

/* esw-sim.c: meters. */
/* Polices a packet of 'len' bytes at time 'now_ns' with meter 'id':
 * returns false if it is to be dropped.  A missing meter passes. */
bool sim_meter_run(struct sim_dev *, uint32_t id, uint32_t len,
                   uint64_t now_ns);

/* Applies the header edit 'a' (PUSH_VLAN, POP_VLAN, SET_ETH_*, SET) to
 * 'pkt', the one implementation for forwarding, chains and tracing.  SET
 * parses the packet's layout into '*layout' first unless '*have_layout';
 * tag changes invalidate it.  A push cannot fail (two pushes fit the
 * headroom) and a pop of an untagged frame does nothing. */
static inline void
sim_edit(struct esw_pkt *pkt, const struct esw_action *a,
         struct esw_layout *layout, bool *have_layout)
{
    switch (a->type) {
    case ESW_ACTION_PUSH_VLAN:
        esw_pkt_push_vlan(pkt, a->vlan.tpid, a->vlan.tci);
        *have_layout = false;
        break;
    case ESW_ACTION_POP_VLAN:
        esw_pkt_pop_vlan(pkt);
        *have_layout = false;
        break;
    case ESW_ACTION_SET_ETH_SRC:
        esw_pkt_set_eth_src(pkt, &a->mac);
        break;
    case ESW_ACTION_SET_ETH_DST:
        esw_pkt_set_eth_dst(pkt, &a->mac);
        break;
    case ESW_ACTION_SET:
        if (!*have_layout) {
            esw_pkt_layout(pkt->data, pkt->len, ESW_MAX_VLANS, layout);
            *have_layout = true;
        }
        esw_pkt_set(pkt, layout, &a->set);
        break;
    default:
        break;
    }
}

/* esw-sim-fwd.c: pipeline stages. */
uint32_t sim_l3_len(const struct esw_pkt *);
/* Egress of 'pkts' (their ownership passes) to 'dst': link, policy, MTU,
 * host side, counting each drop by reason. */
void sim_egress(struct sim_dev *, struct sim_vport *dst,
                struct esw_pkt *pkts[], size_t n);
/* Queues the misses 'pkts' (their ownership passes) to 'src''s
 * representor queues, counting those that do not fit as drops. */
void sim_rep_enqueue(struct sim_vport *src, struct esw_pkt *pkts[], size_t n);
uint32_t sim_rep_queue_select(const struct esw_pkt *, uint32_t n);

/* A representor sink: the device daemon's shared-memory representor
 * queues (datapath/remote/).  Once set on a device, its forwarding threads
 * hand every missed packet to 'queue' instead of queueing it: 'queue' (in
 * their RCU read side) takes 'pkt' and returns whether it kept it (false:
 * a full queue, counted as a miss-queue-full drop).  The device still
 * picks the queue (RSS over the vport's representor queues) and counts.
 * Set before the device has vports, by the device's only controller; the
 * sink must outlive the device.  While 'unattended' is true (no control
 * plane has the device: its client went away), misses are not queued but
 * dropped and counted as ESW_DROP_NO_CONTROLLER. */
struct esw_sim_rep_sink {
    bool (*queue)(void *aux, uint32_t vport, uint32_t queue,
                  struct esw_pkt *pkt);
    void *aux;
    _Atomic bool unattended;
};

void esw_sim_set_rep_sink(struct esw_dev *, struct esw_sim_rep_sink *);

/* A counter store: the device daemon's counters in shared memory, which
 * its clients read without asking.  Once set on a device, a vport added
 * later keeps its counters where 'get' says for its number (zeroed, valid
 * for the device's life; NULL: in the vport).  Set before the device has
 * vports, by its only controller. */
struct esw_sim_counter_store {
    struct sim_vport_counters *(*get)(void *aux, uint32_t vport);
    void *aux;
};

void esw_sim_set_counter_store(struct esw_dev *,
                               const struct esw_sim_counter_store *);

/* Live update: the device daemon's hand-over of a running device to a
 * new process (datapath/remote/, ovs-eswitchd(8)).
 *
 * esw_sim_pause() stops the device's forwarding threads (joined: from
 * then on nothing forwards, host sides queue what arrives) and
 * esw_sim_resume() starts them again; the control API works meanwhile.
 * Both return EINVAL for a device that is not "sim".
 *
 * What esw.h does not show of a vport: the guest's MAC request state
 * and the host side's descriptors (borrowed), esw_sim_vport_export();
 * esw_sim_vport_restore_guest() puts the former back (no counter moves,
 * the policy is recompiled).  esw_sim_vport_add_adopt() is
 * esw_vport_add() taking the host-side descriptors 'fds' over instead of
 * creating them (esw_io_params 'adopt_fds'): they are the device's from
 * the call on (closed if the add fails).
 * esw_sim_rule_add_stats() and esw_sim_meter_add_stats() add a previous
 * process's counts to a rule's and a meter's,
 * esw_sim_host_deliver() gives a capture host side frames as received
 * (what the function had not read yet). */
struct esw_sim_vport_export {
    struct esw_eth_addr guest_mac, granted_mac;
    bool guest_mac_refused;
    int host_fds[ESW_IO_MAX_EXPORT_FDS];
    size_t n_host_fds;
};

int esw_sim_pause(struct esw_dev *);
int esw_sim_resume(struct esw_dev *);
int esw_sim_vport_export(struct esw_dev *, uint32_t vport,
                         struct esw_sim_vport_export *);
int esw_sim_vport_restore_guest(struct esw_dev *, uint32_t vport,
                                const struct esw_eth_addr *guest_mac,
                                const struct esw_eth_addr *granted_mac,
                                bool refused);
int esw_sim_vport_add_adopt(struct esw_dev *, const struct esw_vport_config *,
                            const int fds[], size_t n_fds,
                            struct esw_error *, uint32_t *vportp);
int esw_sim_rule_add_stats(struct esw_dev *, struct esw_rule *,
                           const struct esw_rule_stats *);
int esw_sim_meter_add_stats(struct esw_dev *, uint32_t id,
                            const struct esw_meter_stats *);
size_t esw_sim_host_deliver(struct esw_dev *, uint32_t vport,
                            struct esw_pkt *pkts[], size_t n);

/* esw-sim-trace.c */
int sim_trace_packet(struct esw_dev *, uint32_t vport, const struct esw_pkt *,
                     struct esw_trace *);
int sim_trace_rep_send(struct esw_dev *, uint32_t vport,
                       const struct esw_pkt *, struct esw_trace_output *);

/* esw-sim-rules.c */
/* The table of the rules of 'chain'. */
static inline struct esw_cls *
sim_cls_of_chain(const struct sim_dev *dev, uint32_t chain)
{
    return chain ? dev->cls_chains : dev->cls;
}

int sim_rule_validate(struct esw_dev *, const struct esw_rule_spec *,
                      struct esw_error *);
int sim_rule_add(struct esw_dev *, const struct esw_rule_spec *,
                 struct esw_error *, struct esw_rule **);
int sim_rule_modify(struct esw_dev *, struct esw_rule *,
                    const struct esw_rule_spec *, struct esw_error *);
void sim_rule_del(struct esw_dev *, struct esw_rule *);
int sim_rule_get_stats(struct esw_dev *, const struct esw_rule *,
                       struct esw_rule_stats *);
void sim_rule_version_get_spec(const struct sim_rule_version *,
                               struct esw_rule_spec *);
void sim_rule_get_spec(struct esw_dev *, const struct esw_rule *,
                       struct esw_rule_spec *);
size_t sim_rule_count(struct esw_dev *);
void sim_rule_foreach(struct esw_dev *, bool (*cb)(struct esw_rule *, void *),
                      void *aux);
void sim_rules_orphan_vport(struct sim_dev *, uint32_t vport);
void sim_rules_destroy_all(struct sim_dev *);

/* esw-sim-ct.c: the connection table.  Lookups are lock-free (esw-rcu);
 * changes are made under 'ctl_mutex'. */
struct sim_ct_hit {
    struct esw_ct *ct;
    int dir;                        /* 0: original, 1: reply. */
};

/* Metadata an ESW_ACTION_CT leaves for the next chains. */
struct sim_ct_md {
    uint8_t state;                  /* ESW_CS_*, 0: no CT yet. */
    uint16_t zone;
    uint32_t mark;
    uint64_t label[2];
};

int sim_ct_create(struct sim_dev *);
void sim_ct_destroy(struct sim_dev *);      /* Under 'ctl_mutex'. */
/* Runs CT action 'a' on 'pkt': true (packet NATed if asked, 'md' and
 * 'hit' set) if the connection is in the table and the packet is one the
 * device handles, false for a miss.  Counts nothing. */
bool sim_ct_execute(struct sim_dev *, struct esw_pkt *pkt,
                    const struct esw_action *a, struct sim_ct_md *md,
                    struct sim_ct_hit *hit);
/* Counts a packet of 'len' bytes through 'hit' at 'now_ms'. */
void sim_ct_count(const struct sim_ct_hit *hit, uint32_t len, uint64_t now_ms);
/* Sets the CT metadata of 'key' from 'md'. */
static inline void
sim_ct_md_to_key(const struct sim_ct_md *md, struct esw_key *key)
{
    key->ct_state = md->state;
    key->ct_zone = md->zone;
    key->ct_mark = md->mark;
    key->ct_label[0] = md->label[0];
    key->ct_label[1] = md->label[1];
}

int sim_ct_add(struct esw_dev *, const struct esw_ct_spec *,
               struct esw_error *, struct esw_ct **);
int sim_ct_modify(struct esw_dev *, struct esw_ct *, uint32_t mark,
                  const uint64_t label[2]);
void sim_ct_del(struct esw_dev *, struct esw_ct *);
size_t sim_ct_flush(struct esw_dev *, const uint16_t *zone);
int sim_ct_get_stats(struct esw_dev *, const struct esw_ct *,
                     struct esw_ct_stats *);
void sim_ct_get_spec(struct esw_dev *, const struct esw_ct *,
                     struct esw_ct_spec *);
size_t sim_ct_count_entries(struct esw_dev *);
void sim_ct_foreach(struct esw_dev *, bool (*cb)(struct esw_ct *, void *),
                    void *aux);

/* esw-sim-fwd.c */
int sim_threads_start(struct sim_dev *);
void sim_threads_stop(struct sim_dev *);   /* Joins; frees nothing. */
int sim_threads_restart(struct sim_dev *); /* After sim_threads_stop(). */
void sim_threads_free(struct sim_dev *);   /* After a barrier. */
int sim_thread_attach_vport(struct sim_dev *, struct sim_vport *);
void sim_thread_detach_vport(struct sim_dev *, struct sim_vport *);

/* For benchmarks and profiling: the forwarding step, driven synchronously.
 *
 * esw_sim_stop_threads() stops (and joins) the forwarding threads of sim
 * device 'dev' for good: from then on nothing forwards unless the caller
 * calls esw_sim_poll_once(), which runs one iteration of forwarding thread
 * 'idx''s loop in the calling thread: one rx batch (the device's batch
 * size) from each vport of that thread, through the whole pipeline.  It
 * returns the number of packets received.  One caller at a time per
 * 'idx'; the caller must be online in the esw-rcu sense (registered, or
 * inside esw_rcu_read_lock()).  Control operations (vports, rules,
 * policies) keep working meanwhile.  EINVAL / 0 for a device that is not
 * "sim", an 'idx' out of range or threads still running. */
int esw_sim_stop_threads(struct esw_dev *);
size_t esw_sim_poll_once(struct esw_dev *, unsigned int idx);

#endif /* esw-sim.h */
