/*
 * Copyright (c) 2026 The ovs-ext authors.
 *
 * Licensed under the Apache License, Version 2.0.
 */

/* test-virtio-user: guests for vhost-user host sides without a VM.
 *
 * "test-virtio-user probe" only checks that DPDK runs here (exit status 0,
 * else 77).
 *
 * Each "port" is a DPDK virtio_user port, i.e. DPDK's own virtio-net
 * driver on rings shared over a vhost-user socket, in this process (EAL
 * --no-huge, memory backed by memfd).  Then the commands run in order:
 *
 *   port NAME SOCKET [mac=MAC] [queues=N] [server] [offload=csum|tso]
 *                               [packed]     must come first, one per port
 *   wait-file FILE     wait until FILE exists (the test says "go")
 *   caps NAME          the port's queues and transmit offloads, as its
 *                      driver negotiated them with the host side
 *   send NAME DST-MAC COUNT [len=N] [flows=N] [src=MAC] [vlan=VID]
 *                           [proto=udp|tcp] [csum] [tso=MSS] [queue=Q]
 *                           [rate=N]
 *                      COUNT IPv4 frames of N bytes (default 64) from
 *                      10.0.0.1 to 10.0.0.2, with UDP or TCP source ports
 *                      1000..1000+flows-1 in turn; 'csum' leaves the L4
 *                      checksum to the host side (checksum offload),
 *                      'tso=MSS' sends each frame as one TCP superframe
 *                      for the host side to segment; sent from queue Q
 *                      (default: the flow's index modulo the queues);
 *                      'rate=N': N frames per second on average, in
 *                      bursts (the sender sleeps once it is 1 ms ahead)
 *   expect NAME COUNT  receive until NAME got COUNT frames (or the
 *                      timeout), then print what it got: frames, bytes,
 *                      frames per queue, TCP payload bytes, bad checksums
 *   hold NAME          poll until the port's link goes down (the host side
 *                      went away), print it
 *   idle SECONDS       do nothing for SECONDS (the ports stay attached)
 *   bench TX RX DST-MAC SECONDS [len=N] [flows=N] [src=MAC]
 *                      send from TX as fast as possible for SECONDS while
 *                      receiving on RX; print packets per second
 *
 * Every port is polled for received frames during every command, so that
 * the rings never fill up.  Output goes to stdout, DPDK's own messages to
 * stderr.  Exit status: 0, or 1 if a command failed (timeout, bad
 * argument), or 77 if DPDK cannot run here. */

#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#define MAX_PORTS   4
#define MAX_QUEUES  16
#define RING_SIZE   256
#define BURST       32
#define N_MBUFS     8191
#define N_BIG_MBUFS 511
#define BIG_SIZE    (RTE_PKTMBUF_HEADROOM + 10240)

struct port {
    const char *name;
    const char *socket;
    struct rte_ether_addr mac;
    bool has_mac;
    unsigned int queues;
    bool server;
    bool packed;
    uint64_t tx_offloads;       /* Requested. */
    uint16_t id;

    /* Received since the last 'expect'. */
    uint64_t rx_frames, rx_bytes, rx_tcp_payload, rx_bad_csum;
    uint64_t rx_queue[MAX_QUEUES];
};

static struct port ports[MAX_PORTS];
static size_t n_ports;
static struct rte_mempool *pool;        /* 2 kB: receive, small frames. */
static struct rte_mempool *big_pool;    /* Frames of up to 10 kB. */
static double timeout_s = 10.0;

static double
now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
sleep_us(long us)
{
    struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

    nanosleep(&ts, NULL);
}

static void __attribute__((format(printf, 1, 2), noreturn))
fail(const char *format, ...)
{
    va_list args;

    fflush(stdout);
    fprintf(stderr, "test-virtio-user: ");
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(1);
}

static struct port *
find_port(const char *name)
{
    for (size_t i = 0; i < n_ports; i++) {
        if (!strcmp(ports[i].name, name)) {
            return &ports[i];
        }
    }
    fail("no port %s", name);
}

static void
parse_mac(const char *s, struct rte_ether_addr *mac)
{
    if (rte_ether_unformat_addr(s, mac)) {
        fail("bad MAC %s", s);
    }
}

static unsigned long
parse_num(const char *s, unsigned long min, unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 0);
    if (errno || *end || !*s || v < min || v > max) {
        fail("bad number %s (%lu..%lu)", s, min, max);
    }
    return v;
}

/* Receiving. */

/* True if the TCP or UDP checksum of the L4 header 'l4' after 'ip' is
 * right. */
static bool
l4_csum_ok(const struct rte_ipv4_hdr *ip, const void *l4)
{
    uint32_t l4_len = rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);
    uint32_t sum = __rte_raw_cksum(l4, l4_len, 0) + rte_ipv4_phdr_cksum(ip, 0);

    return __rte_raw_cksum_reduce(sum) == 0xffff;
}

/* Checks the IPv4 header and TCP/UDP checksums of 'm'.  Returns true if
 * they are correct (or the frame is not IPv4 TCP/UDP). */
static bool
csum_ok(struct rte_mbuf *m, uint64_t *tcp_payload)
{
    struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
    uint16_t type = eth->ether_type;
    size_t off = sizeof *eth;
    struct rte_ipv4_hdr *ip;
    size_t ihl;

    if (type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)) {
        type = ((struct rte_vlan_hdr *) (eth + 1))->eth_proto;
        off += sizeof(struct rte_vlan_hdr);
    }
    if (type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)
        || m->data_len < off + sizeof *ip) {
        return true;
    }
    ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, off);
    ihl = rte_ipv4_hdr_len(ip);
    if (rte_raw_cksum(ip, ihl) != 0xffff) {
        return false;
    }
    if (ip->next_proto_id == IPPROTO_TCP) {
        struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *) ((uint8_t *) ip
                                                          + ihl);

        *tcp_payload += (rte_be_to_cpu_16(ip->total_length) - ihl
                         - ((tcp->data_off >> 4) * 4));
        return l4_csum_ok(ip, tcp);
    } else if (ip->next_proto_id == IPPROTO_UDP) {
        struct rte_udp_hdr *udp = (struct rte_udp_hdr *) ((uint8_t *) ip
                                                          + ihl);

        return !udp->dgram_cksum || l4_csum_ok(ip, udp);
    }
    return true;
}

/* Receives whatever every port has. */
static void
poll_rx(void)
{
    for (size_t i = 0; i < n_ports; i++) {
        struct port *p = &ports[i];

        for (uint16_t q = 0; q < p->queues; q++) {
            struct rte_mbuf *mbufs[BURST];
            uint16_t n = rte_eth_rx_burst(p->id, q, mbufs, BURST);

            for (uint16_t k = 0; k < n; k++) {
                p->rx_frames++;
                p->rx_bytes += rte_pktmbuf_pkt_len(mbufs[k]);
                p->rx_queue[q]++;
                if (!csum_ok(mbufs[k], &p->rx_tcp_payload)) {
                    p->rx_bad_csum++;
                }
            }
            rte_pktmbuf_free_bulk(mbufs, n);
        }
    }
}

/* Reads every port's link state, at most every 10 ms: that is when a
 * virtio_user port notices that its host side went away and, if it
 * listens, takes the next connection (the host side's restart). */
static void
poll_links(void)
{
    static double next;
    double now = now_s();

    if (now >= next) {
        next = now + 0.01;
        for (size_t i = 0; i < n_ports; i++) {
            struct rte_eth_link link;

            rte_eth_link_get_nowait(ports[i].id, &link);
        }
    }
}

/* Sending. */

struct send_args {
    struct rte_ether_addr dst, src;
    uint32_t count, len, flows, vlan, mss;
    uint32_t rate;              /* Frames per second, 0: no pacing. */
    bool tcp, csum;
    int queue;                  /* -1: by flow. */
};

/* Builds frame 'i' of 'a' from 'p'. */
static struct rte_mbuf *
build_frame(const struct port *p, const struct send_args *a, uint32_t i)
{
    struct rte_mbuf *m = rte_pktmbuf_alloc(a->len > 2000 ? big_pool : pool);
    size_t l2 = sizeof(struct rte_ether_hdr) + (a->vlan ? 4 : 0);
    size_t l4 = a->tcp ? sizeof(struct rte_tcp_hdr)
                       : sizeof(struct rte_udp_hdr);
    size_t hdr = l2 + sizeof(struct rte_ipv4_hdr) + l4;
    uint32_t len = a->len < hdr ? hdr : a->len;
    struct rte_ether_hdr *eth;
    struct rte_ipv4_hdr *ip;
    uint8_t *l4p;

    if (!m) {
        fail("out of mbufs");
    }
    eth = (struct rte_ether_hdr *) rte_pktmbuf_append(m, len);
    if (!eth) {
        fail("frame of %"PRIu32" bytes does not fit an mbuf", len);
    }
    memset(eth, 0, len);
    eth->dst_addr = a->dst;
    eth->src_addr = a->src;
    if (a->vlan) {
        struct rte_vlan_hdr *v = (struct rte_vlan_hdr *) (eth + 1);

        eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
        v->vlan_tci = rte_cpu_to_be_16(a->vlan);
        v->eth_proto = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    } else {
        eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
    }
    ip = (struct rte_ipv4_hdr *) ((uint8_t *) eth + l2);
    ip->version_ihl = RTE_IPV4_VHL_DEF;
    ip->total_length = rte_cpu_to_be_16(len - l2);
    ip->packet_id = rte_cpu_to_be_16(i);
    ip->time_to_live = 64;
    ip->next_proto_id = a->tcp ? IPPROTO_TCP : IPPROTO_UDP;
    ip->src_addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 1));
    ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 2));
    ip->hdr_checksum = rte_ipv4_cksum(ip);
    l4p = (uint8_t *) (ip + 1);
    for (size_t k = hdr; k < len; k++) {
        ((uint8_t *) eth)[k] = k + i;
    }

    m->l2_len = l2;
    m->l3_len = sizeof *ip;
    m->l4_len = l4;
    if (a->tcp) {
        struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *) l4p;

        tcp->src_port = rte_cpu_to_be_16(1000 + i % a->flows);
        tcp->dst_port = rte_cpu_to_be_16(80);
        tcp->sent_seq = rte_cpu_to_be_32(i * 100000);
        tcp->data_off = (sizeof *tcp / 4) << 4;
        tcp->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
        tcp->rx_win = rte_cpu_to_be_16(65535);
        if (a->mss) {
            m->ol_flags = (RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG
                           | RTE_MBUF_F_TX_TCP_CKSUM);
            m->tso_segsz = a->mss;
            tcp->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
        } else if (a->csum) {
            m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
            tcp->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
        } else {
            tcp->cksum = rte_ipv4_udptcp_cksum(ip, tcp);
        }
    } else {
        struct rte_udp_hdr *udp = (struct rte_udp_hdr *) l4p;

        udp->src_port = rte_cpu_to_be_16(1000 + i % a->flows);
        udp->dst_port = rte_cpu_to_be_16(2000);
        udp->dgram_len = rte_cpu_to_be_16(len - l2 - sizeof *ip);
        if (a->csum) {
            m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
            udp->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
        } else {
            udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
        }
    }
    (void) p;
    return m;
}

static void
send_frames(struct port *p, const struct send_args *a)
{
    double start = now_s(), deadline = start + timeout_s;

    for (uint32_t i = 0; i < a->count; i++) {
        uint16_t q = (a->queue >= 0 ? a->queue : (i % a->flows) % p->queues);
        struct rte_mbuf *m;

        if (a->rate) {
            double due = start + (double) i / a->rate;
            double ahead = due - now_s();

            if (ahead >= 0.001) {
                poll_rx();
                sleep_us(ahead * 1e6);
            }
            deadline = due + timeout_s;
        }
        m = build_frame(p, a, i);

        while (!rte_eth_tx_burst(p->id, q, &m, 1)) {
            poll_rx();
            if (now_s() > deadline) {
                fail("%s: cannot send (ring full)", p->name);
            }
        }
        poll_rx();
    }
}

/* Commands. */

static void
cmd_caps(struct port *p)
{
    struct rte_eth_dev_info info;
    static const struct {
        uint64_t bit;
        const char *name;
    } names[] = {
        { RTE_ETH_TX_OFFLOAD_UDP_CKSUM, "udp_cksum" },
        { RTE_ETH_TX_OFFLOAD_TCP_CKSUM, "tcp_cksum" },
        { RTE_ETH_TX_OFFLOAD_TCP_TSO, "tcp_tso" },
    };

    rte_eth_dev_info_get(p->id, &info);
    printf("%s: queues %u, tx offloads:", p->name, p->queues);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (info.tx_offload_capa & names[i].bit) {
            printf(" %s", names[i].name);
        }
    }
    if (!(info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_UDP_CKSUM
                                  | RTE_ETH_TX_OFFLOAD_TCP_CKSUM
                                  | RTE_ETH_TX_OFFLOAD_TCP_TSO))) {
        printf(" none");
    }
    printf("\n");
}

static void
cmd_expect(struct port *p, uint64_t count)
{
    double deadline = now_s() + timeout_s;
    double quiet_until;

    while (p->rx_frames < count && now_s() < deadline) {
        poll_rx();
        sleep_us(100);
    }
    /* Anything more? */
    quiet_until = now_s() + 0.2;
    while (now_s() < quiet_until) {
        poll_rx();
        sleep_us(1000);
    }
    printf("%s: %"PRIu64" frames, %"PRIu64" bytes, queues", p->name,
           p->rx_frames, p->rx_bytes);
    for (unsigned int q = 0; q < p->queues; q++) {
        printf("%c%"PRIu64, q ? '/' : ' ', p->rx_queue[q]);
    }
    if (p->rx_tcp_payload) {
        printf(", tcp payload %"PRIu64, p->rx_tcp_payload);
    }
    printf(", bad checksums %"PRIu64"\n", p->rx_bad_csum);
    p->rx_frames = p->rx_bytes = p->rx_tcp_payload = p->rx_bad_csum = 0;
    memset(p->rx_queue, 0, sizeof p->rx_queue);
}

static void
cmd_hold(struct port *p)
{
    double deadline = now_s() + 3 * timeout_s;

    for (;;) {
        struct rte_eth_link link;

        poll_rx();
        if (!rte_eth_link_get_nowait(p->id, &link) && !link.link_status) {
            printf("%s: link down\n", p->name);
            return;
        }
        if (now_s() > deadline) {
            fail("%s: link still up", p->name);
        }
        sleep_us(10000);
    }
}

static void
cmd_wait_file(const char *file)
{
    double deadline = now_s() + 3 * timeout_s;
    struct stat st;

    while (stat(file, &st)) {
        poll_rx();
        poll_links();
        if (now_s() > deadline) {
            fail("%s did not appear", file);
        }
        sleep_us(1000);
    }
}

static void
cmd_bench(struct port *tx, struct port *rx, const struct send_args *a,
          double seconds)
{
    struct rte_mbuf *tmpl[64];
    uint64_t sent = 0, received = 0;
    double start, end;

    for (uint32_t i = 0; i < 64; i++) {
        tmpl[i] = build_frame(tx, a, i);
    }
    start = now_s();
    end = start + seconds;
    for (uint64_t iter = 0; ; iter++) {
        struct rte_mbuf *burst[BURST], *in[BURST];
        uint16_t n;

        if (!(iter & 63) && now_s() >= end) {
            break;
        }
        if (!rte_pktmbuf_alloc_bulk(pool, burst, BURST)) {
            for (int i = 0; i < BURST; i++) {
                const struct rte_mbuf *t = tmpl[(sent + i) & 63];

                rte_memcpy(rte_pktmbuf_mtod(burst[i], void *),
                           rte_pktmbuf_mtod(t, void *), t->data_len);
                burst[i]->data_len = burst[i]->pkt_len = t->data_len;
            }
            n = rte_eth_tx_burst(tx->id, 0, burst, BURST);
            sent += n;
            if (n < BURST) {
                rte_pktmbuf_free_bulk(&burst[n], BURST - n);
            }
        }
        for (uint16_t q = 0; q < rx->queues; q++) {
            n = rte_eth_rx_burst(rx->id, q, in, BURST);
            received += n;
            rte_pktmbuf_free_bulk(in, n);
        }
    }
    end = now_s();
    /* What is still in flight arrives now: not counted. */
    for (int i = 0; i < 64; i++) {
        rte_pktmbuf_free(tmpl[i]);
    }
    printf("bench: %"PRIu64" sent, %"PRIu64" received in %.3f s: "
           "%.3f Mpps received\n", sent, received, end - start,
           received / (end - start) / 1e6);
}

static void
parse_send(char **argv, int argc, int *ip, struct port *p,
           struct send_args *a, bool bench)
{
    int i = *ip;

    memset(a, 0, sizeof *a);
    a->len = 64;
    a->flows = 1;
    a->queue = -1;
    a->src = p->mac;
    if (i + 1 >= argc) {
        fail("%s: DST-MAC and %s missing", bench ? "bench" : "send",
             bench ? "SECONDS" : "COUNT");
    }
    parse_mac(argv[i++], &a->dst);
    a->count = parse_num(argv[i++], 1, 10000000);
    for (; i < argc && (strchr(argv[i], '=') || !strcmp(argv[i], "csum"));
         i++) {
        const char *arg = argv[i];

        if (!strncmp(arg, "len=", 4)) {
            a->len = parse_num(arg + 4, 60, 9216);
        } else if (!strncmp(arg, "flows=", 6)) {
            a->flows = parse_num(arg + 6, 1, 60000);
        } else if (!strncmp(arg, "src=", 4)) {
            parse_mac(arg + 4, &a->src);
        } else if (!strncmp(arg, "vlan=", 5)) {
            a->vlan = parse_num(arg + 5, 1, 4094);
        } else if (!strncmp(arg, "proto=", 6)) {
            a->tcp = !strcmp(arg + 6, "tcp");
            if (!a->tcp && strcmp(arg + 6, "udp")) {
                fail("bad %s", arg);
            }
        } else if (!strcmp(arg, "csum")) {
            a->csum = true;
        } else if (!strncmp(arg, "tso=", 4)) {
            a->mss = parse_num(arg + 4, 64, 9000);
            a->tcp = true;
        } else if (!strncmp(arg, "queue=", 6)) {
            a->queue = parse_num(arg + 6, 0, p->queues - 1);
        } else if (!bench && !strncmp(arg, "rate=", 5)) {
            a->rate = parse_num(arg + 5, 1, 10000000);
        } else {
            fail("unknown send option %s", arg);
        }
    }
    *ip = i;
}

/* Set-up. */

static void
parse_port(char **argv, int argc, int *ip)
{
    int i = *ip;
    struct port *p;

    if (n_ports >= MAX_PORTS) {
        fail("too many ports");
    }
    if (i + 2 > argc) {
        fail("port NAME SOCKET [OPTION...]");
    }
    p = &ports[n_ports++];
    p->name = argv[i++];
    p->socket = argv[i++];
    p->queues = 1;
    for (; i < argc && (strchr(argv[i], '=') || !strcmp(argv[i], "server")
                        || !strcmp(argv[i], "packed")); i++) {
        const char *arg = argv[i];

        if (!strncmp(arg, "mac=", 4)) {
            parse_mac(arg + 4, &p->mac);
            p->has_mac = true;
        } else if (!strncmp(arg, "queues=", 7)) {
            p->queues = parse_num(arg + 7, 1, MAX_QUEUES);
        } else if (!strcmp(arg, "server")) {
            p->server = true;
        } else if (!strcmp(arg, "packed")) {
            p->packed = true;
        } else if (!strcmp(arg, "offload=csum")) {
            p->tx_offloads = (RTE_ETH_TX_OFFLOAD_UDP_CKSUM
                              | RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
        } else if (!strcmp(arg, "offload=tso")) {
            p->tx_offloads = (RTE_ETH_TX_OFFLOAD_UDP_CKSUM
                              | RTE_ETH_TX_OFFLOAD_TCP_CKSUM
                              | RTE_ETH_TX_OFFLOAD_TCP_TSO);
        } else {
            fail("unknown port option %s", arg);
        }
    }
    *ip = i;
}

/* Removes the sockets of the ports that listen, if they are sockets (left
 * by an earlier run, or ours at exit). */
static void
remove_server_sockets(void)
{
    for (size_t i = 0; i < n_ports; i++) {
        struct stat st;

        if (ports[i].server && !lstat(ports[i].socket, &st)
            && S_ISSOCK(st.st_mode)) {
            unlink(ports[i].socket);
        }
    }
}

/* "0@(0,1,...)": one lcore on every CPU this process may use. */
static void
lcores_arg(char *buf, size_t size)
{
    cpu_set_t cpus;
    size_t n = snprintf(buf, size, "0@(");
    bool first = true;

    if (!sched_getaffinity(0, sizeof cpus, &cpus)) {
        for (int cpu = 0; cpu < CPU_SETSIZE && n + 8 < size; cpu++) {
            if (CPU_ISSET(cpu, &cpus)) {
                n += snprintf(buf + n, size - n, "%s%d", first ? "" : ",",
                              cpu);
                first = false;
            }
        }
    }
    snprintf(buf + n, size - n, "%s)", first ? "0" : "");
}

static void
start_port(struct port *p, size_t index)
{
    struct rte_eth_conf conf = { .txmode.offloads = p->tx_offloads };
    struct rte_eth_dev_info info;
    char name[48];
    int error;

    snprintf(name, sizeof name, "net_virtio_user%u", (unsigned int) index);
    if (rte_eth_dev_get_port_by_name(name, &p->id)) {
        fail("%s: no port %s", p->name, name);
    }
    if (!p->has_mac) {
        rte_eth_macaddr_get(p->id, &p->mac);
    }
    rte_eth_dev_info_get(p->id, &info);
    conf.txmode.offloads &= info.tx_offload_capa;
    error = rte_eth_dev_configure(p->id, p->queues, p->queues, &conf);
    if (error) {
        fail("%s: cannot configure: %s", p->name, rte_strerror(-error));
    }
    for (uint16_t q = 0; q < p->queues; q++) {
        struct rte_eth_txconf txconf = info.default_txconf;

        txconf.offloads = conf.txmode.offloads;
        if (rte_eth_rx_queue_setup(p->id, q, RING_SIZE, SOCKET_ID_ANY, NULL,
                                   pool)
            || rte_eth_tx_queue_setup(p->id, q, RING_SIZE, SOCKET_ID_ANY,
                                      &txconf)) {
            fail("%s: cannot set up queue %u", p->name, q);
        }
    }
    error = rte_eth_dev_start(p->id);
    if (error) {
        fail("%s: cannot start: %s", p->name, rte_strerror(-error));
    }
}

int
main(int argc, char *argv[])
{
    char *eal_argv[32 + MAX_PORTS];
    char lcores[256], prefix[64];
    int eal_argc = 0;
    bool probe;
    int i = 1;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (i + 1 < argc && !strcmp(argv[i], "--timeout")) {
        timeout_s = parse_num(argv[i + 1], 1, 3600);
        i += 2;
    }
    while (i < argc && !strcmp(argv[i], "port")) {
        i++;
        parse_port(argv, argc, &i);
    }
    probe = i + 1 == argc && !n_ports && !strcmp(argv[i], "probe");
    if (!n_ports && !probe) {
        fail("usage: test-virtio-user [--timeout S] port NAME SOCKET "
             "[OPTION...]... COMMAND...");
    }

    remove_server_sockets();
    lcores_arg(lcores, sizeof lcores);
    /* One runtime directory for all: --no-shconf puts nothing in it. */
    snprintf(prefix, sizeof prefix, "test-virtio-user");
    eal_argv[eal_argc++] = argv[0];
    eal_argv[eal_argc++] = "--no-huge";
    eal_argv[eal_argc++] = "-m";
    eal_argv[eal_argc++] = "256";
    eal_argv[eal_argc++] = "--no-pci";
    eal_argv[eal_argc++] = "--no-shconf";
    eal_argv[eal_argc++] = "--no-telemetry";
    eal_argv[eal_argc++] = "--file-prefix";
    eal_argv[eal_argc++] = prefix;
    eal_argv[eal_argc++] = "--lcores";
    eal_argv[eal_argc++] = lcores;
    eal_argv[eal_argc++] = "--log-level";
    eal_argv[eal_argc++] = "*:error";
    for (size_t k = 0; k < n_ports; k++) {
        struct port *p = &ports[k];
        char mac[RTE_ETHER_ADDR_FMT_SIZE] = "";
        char *vdev;

        if (p->has_mac) {
            rte_ether_format_addr(mac, sizeof mac, &p->mac);
        }
        /* Queues beyond the first pair are enabled through the control
         * queue. */
        if (asprintf(&vdev, "net_virtio_user%zu,path=%s,queues=%u%s%s%s%s%s",
                     k, p->socket, p->queues, p->queues > 1 ? ",cq=1" : "",
                     p->server ? ",server=1" : "",
                     p->packed ? ",packed_vq=1" : "",
                     p->has_mac ? ",mac=" : "", mac) < 0) {
            fail("out of memory");
        }
        eal_argv[eal_argc++] = "--vdev";
        eal_argv[eal_argc++] = vdev;
    }
    if (rte_eal_init(eal_argc, eal_argv) < 0) {
        fprintf(stderr, "test-virtio-user: DPDK cannot run here: %s\n",
                rte_strerror(rte_errno));
        return 77;
    }
    if (probe) {
        rte_eal_cleanup();
        return 0;
    }
    pool = rte_pktmbuf_pool_create("tvu", N_MBUFS, 256, 0,
                                   RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    big_pool = rte_pktmbuf_pool_create("tvu_big", N_BIG_MBUFS, 32, 0,
                                       BIG_SIZE, SOCKET_ID_ANY);
    if (!pool || !big_pool) {
        fail("cannot create the mbuf pool: %s", rte_strerror(rte_errno));
    }
    for (size_t k = 0; k < n_ports; k++) {
        start_port(&ports[k], k);
    }

    while (i < argc) {
        const char *cmd = argv[i++];

        if (!strcmp(cmd, "wait-file") && i < argc) {
            cmd_wait_file(argv[i++]);
        } else if (!strcmp(cmd, "caps") && i < argc) {
            cmd_caps(find_port(argv[i++]));
        } else if (!strcmp(cmd, "send") && i < argc) {
            struct port *p = find_port(argv[i++]);
            struct send_args a;

            parse_send(argv, argc, &i, p, &a, false);
            send_frames(p, &a);
        } else if (!strcmp(cmd, "expect") && i + 1 < argc) {
            struct port *p = find_port(argv[i++]);

            cmd_expect(p, parse_num(argv[i++], 0, UINT32_MAX));
        } else if (!strcmp(cmd, "idle") && i < argc) {
            sleep_us(parse_num(argv[i++], 0, 3600) * 1000000);
        } else if (!strcmp(cmd, "hold") && i < argc) {
            cmd_hold(find_port(argv[i++]));
        } else if (!strcmp(cmd, "bench") && i + 2 < argc) {
            struct port *tx = find_port(argv[i++]);
            struct port *rx = find_port(argv[i++]);
            struct send_args a;

            parse_send(argv, argc, &i, tx, &a, true);
            cmd_bench(tx, rx, &a, a.count);
        } else {
            fail("bad command %s", cmd);
        }
    }
    /* What was sent last may still be in the rings: give the host side a
     * moment to take it before the ports go away.  Then exit without
     * closing them (DPDK 22.11's virtio_user may crash tearing down a
     * listening port while its interrupt thread reconnects); the
     * connections close with the process. */
    for (double until = now_s() + 0.3; now_s() < until; ) {
        poll_rx();
        sleep_us(1000);
    }
    fflush(stdout);
    remove_server_sockets();
    _exit(0);
}
