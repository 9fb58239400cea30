#!/bin/sh
# bench-flow-setup.sh: CPU per new flow in the real ovs-vswitchd,
# hw-offload=false vs true.
#
# A second measurement beside bench-offload's (which it does not replace):
# bench-offload runs dpif-netdev alone, with an upcall callback standing for
# OVS's slow path, so its hw-offload=false baseline has no ofproto
# translation and understates what flow setup costs in ovs-vswitchd.  Here
# the whole of ovs-vswitchd sets flows up: OVS's upcall handling and
# ofproto-dpif translation of an OpenFlow table installed with ovs-ofctl,
# the datapath flow install, revalidators, and with hw-offload=true the
# offload thread and the eSwitch rule inserts.
#
# Two virtio-net functions with vhost-user host sides on one bridge; the
# OpenFlow table has one rule, "in_port=2,udp,actions=move:NXM_OF_UDP_SRC[]
# ->NXM_NX_REG0[0..15],output:3": its action reads the UDP source port, so each
# new source port is a new megaflow (and, with hw-offload=true, a new device
# rule).  The injector is an external process (test-virtio-user, DPDK's
# virtio_user on the vhost-user sockets): N frames of N source ports, at R
# frames/s, all received on the other function.  CPU: every thread of
# ovs-vswitchd (from /proc/PID/task/*/schedstat, in ns), from just before
# the first frame until every flow is in the datapath (and, hw, offloaded),
# divided by the flows created, with the threads' share (names without
# their digits).  The modes alternate, RUNS pairs, each run in a fresh
# ovs-vswitchd (OVS's flow API cannot be switched off once on); the last
# line gives the medians and ranges over the pairs and the pair-by-pair
# ratio, which the machine's other work disturbs least.
#
# usage: bench-flow-setup.sh --ovs-dir=DIR --builddir=DIR [--quick]
#   --quick: 2000 flows, 2 pairs (default: 4000 flows, 4 pairs)
# Environment: BENCH_FLOWS, BENCH_RUNS, BENCH_RATE (default 10000 flows/s)
# override those.
set -e
bench=bench-flow-setup
. "$(dirname "$0")/bench-lib.sh"
bench_args "$@"
bench_need_dpdk "the injector and ovs-vswitchd"

# Well below 10000 flows: OVS's upcall handler installs no more datapath
# flows than its flow limit, which starts at 10000 and shrinks when the
# revalidators' dumps are slow (ofproto-dpif-upcall.c), as on a busy
# machine.
flows=4000 runs=4
if [ "$secs" = 1 ]; then
    flows=2000 runs=2
fi
flows=${BENCH_FLOWS:-$flows}
runs=${BENCH_RUNS:-$runs}
rate=${BENCH_RATE:-10000}
mac1=02:00:00:00:00:01 mac2=02:00:00:00:00:02

dir=
cleanup () {
    [ -n "$dir" ] || return 0
    if test -f "$dir/guest.pid"; then
        kill "$(cat "$dir/guest.pid")" 2>/dev/null || true
    fi
    for p in ovs-vswitchd ovsdb-server; do
        if test -f "$dir/$p.pid"; then
            kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
        fi
    done
    sleep 0.5
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"
    dir=
}
results=
trap 'cleanup; rm -f "$results"' EXIT
trap 'exit 1' INT TERM

# snapshot FILE: "tid comm ns" of every thread of ovs-vswitchd.
snapshot () {
    for t in /proc/"$pid"/task/*; do
        printf '%s %s %s\n' "${t##*/}" "$(cat "$t/comm" 2>/dev/null)" \
            "$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null)"
    done > "$1"
}

# dp_flows: datapath flows; offloaded: flows OVS's offload thread put in
# the device.
dp_flows () {
    ovs-appctl --timeout=20 dpctl/show | sed -n 's/^ *flows: *\([0-9]*\).*/\1/p'
}
offloaded () {
    n=$(ovs-appctl --timeout=20 dpctl/offload-stats-show 2>/dev/null \
        | sed -n 's/^ *Total *Inserted offloads: *\([0-9]*\).*/\1/p')
    echo "${n:-0}"
}

# stable_flows: true once the datapath's flow count stopped growing (or
# reached the frames received), comparing with the previous call's.
stable_flows () {
    cur=$(($(dp_flows) - flows0))
    if [ "$cur" -ge "$received" ] || [ "$cur" = "$prev" ]; then
        return 0
    fi
    prev=$cur
    sleep 0.2
    return 1
}

# run_mode HW: one run; appends "HW CPU-US-PER-FLOW BREAKDOWN" to $results.
run_mode () {
    hw=$1
    dir=$(mktemp -d /tmp/bench-flow-setup.XXXXXX)
    OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
    export OVS_RUNDIR OVS_LOGDIR OVS_DBDIR OVS_SYSCONFDIR
    ovsdb-tool create "$dir/conf.db" "$ovs_dir/vswitchd/vswitch.ovsschema"
    ovsdb-server --detach --no-chdir --pidfile --log-file 2>/dev/null \
        --remote=punix:"$dir/db.sock" "$dir/conf.db"
    ovs-vsctl --no-wait init -- set Open_vSwitch . \
        other_config:eswitch-host-io=capture other_config:hw-offload="$hw" \
        other_config:eswitch-max-rules=$((flows + 100))
    ovs-vswitchd --disable-system --disable-system-route \
        --eswitch-state-dir="$dir/state" \
        --detach --no-chdir --pidfile --log-file >/dev/null 2>&1
    pid=$(cat "$dir/ovs-vswitchd.pid")
    ovs-eswitchctl hotplug virtio --vhost-user vm1.sock --mac $mac1 >/dev/null
    ovs-eswitchctl hotplug virtio --vhost-user vm2.sock --mac $mac2 >/dev/null
    ovs-vsctl --timeout=20 add-br br0 -- set bridge br0 datapath_type=netdev \
        -- add-port br0 p0 -- set interface p0 type=esw-uplink ofport_request=1 \
        -- add-port br0 pf0sf1000 -- set interface pf0sf1000 type=esw-virtio ofport_request=2 \
        -- add-port br0 pf0sf1001 -- set interface pf0sf1001 type=esw-virtio ofport_request=3
    ovs-ofctl del-flows br0
    ovs-ofctl add-flow br0 'in_port=2,udp,actions=move:NXM_OF_UDP_SRC[]->NXM_NX_REG0[0..15],output:3'

    # A first TCP frame (no OpenFlow rule: a drop megaflow, offloaded too)
    # starts OVS's threads (handlers, revalidators, the offload thread);
    # then the measured frames once "go" exists.
    test-virtio-user port a "$dir/vm1.sock" mac=$mac1 \
        port b "$dir/vm2.sock" mac=$mac2 idle 1 \
        send a $mac2 1 proto=tcp wait-file "$dir/go" \
        send a $mac2 "$flows" flows="$flows" rate="$rate" \
        expect b "$flows" idle 60 > "$dir/guest.out" 2> "$dir/guest.err" &
    echo $! > "$dir/guest.pid"
    wait_for "test \"\$(dp_flows)\" -ge 1"
    if [ "$hw" = true ]; then
        wait_for "test \"\$(offloaded)\" -ge 1"
    fi
    sleep 1
    flows0=$(dp_flows)
    ofl0=$(offloaded)
    snapshot "$dir/cpu0"
    if [ -n "${BENCH_PERF:-}" ]; then
        perf record -F 2999 ${BENCH_PERF_OPTS:--g} -p "$pid" -o "$BENCH_PERF-$hw.data" >/dev/null 2>&1 &
        perf_pid=$!
        sleep 0.5
    fi
    touch "$dir/go"
    # Each frame received went through OVS's slow path, which installed
    # its flow (a frame lost on the way, rarely, made no flow; one past
    # OVS's flow limit, none either: the run says so).
    wait_for "grep -qs '^b: ' '$dir/guest.out'"
    received=$(sed -n 's/^b: \([0-9]*\) frames.*/\1/p' "$dir/guest.out")
    prev=-1
    wait_for "stable_flows"
    if [ "$hw" = true ]; then
        wait_for "test \$((\$(offloaded) - ofl0)) -ge \$((\$(dp_flows) - flows0))"
    fi
    snapshot "$dir/cpu1"
    if [ -n "${BENCH_PERF:-}" ]; then
        kill -INT "$perf_pid"
        wait "$perf_pid" || true
    fi
    created=$(($(dp_flows) - flows0))
    n_ofl=$(($(offloaded) - ofl0))
    # Per thread group (the name without its trailing digits).
    awk -v n="$created" -v hw="$hw" -v ofl="$n_ofl" -v rx="$received" '
        FNR == NR { t0[$1] = $3; next }
        { g = $2; sub(/[0-9]+$/, "", g); d = ($3 - t0[$1]) / 1000;
          cpu[g] += d; total += d }
        END {
            line = sprintf("%s %.2f %d %d %s", hw, total / n, n, ofl, rx);
            for (g in cpu) if (cpu[g] / n >= 0.05)
                line = line sprintf(" %s=%.2f", g, cpu[g] / n);
            print line
        }' "$dir/cpu0" "$dir/cpu1" >> "$results"
    cleanup
}

results=$(mktemp /tmp/bench-flow-setup-results.XXXXXX)
echo "ovs-vswitchd (OpenFlow via ofproto-dpif, dpif-netdev, eSwitch sim), $flows new flows at $rate flows/s"
echo "from test-virtio-user on vhost-user; CPU of every ovs-vswitchd thread per new flow, $runs runs each, alternating"
echo "(load average $(cut -d' ' -f1 /proc/loadavg) at the start: other work on the machine adds noise)"
pair=0
while [ $pair -lt "$runs" ]; do
    run_mode false
    run_mode true
    pair=$((pair + 1))
done
# A run in which OVS installed fewer flows than frames went through its
# slow path (its flow limit, lowered when revalidation is slow on a busy
# machine) is shown but left out of the summary, with its pair.
awk '{
        printf "  hw-offload=%-5s  %6.2f us CPU per new flow  (%d flows created, %d offloaded, %s frames received;", $1, $2, $3, $4, $5
        for (i = 6; i <= NF; i++) printf " %s", $i
        printf " us per flow)%s\n", ($3 < $5 * 0.99 ? "  [left out: OVS installed fewer flows]" : "")
     }' "$results"
awk '
    { ok[NR] = $3 >= $5 * 0.99; mode[NR] = $1; cpu[NR] = $2 }
    END {
        for (r = 1; r < NR; r += 2) {
            if (!ok[r] || !ok[r + 1]) continue
            v["false", ++n["false"]] = cpu[r]
            v["true", ++n["true"]] = cpu[r + 1]
            ratio[++np] = cpu[r + 1] / cpu[r] - 1
        }
        if (!np) { print "no valid pair of runs"; exit 1 }
        for (i = 1; i <= np; i++) v["ratio", i] = ratio[i]
        n["ratio"] = np
        for (m = 0; m < 3; m++) {
            k = m == 2 ? "ratio" : m ? "true" : "false"
            # Median of the runs of mode k (insertion sort).
            for (i = 1; i <= n[k]; i++) a[i] = v[k, i]
            for (i = 2; i <= n[k]; i++)
                for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
                    t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
                }
            med[k] = n[k] % 2 ? a[(n[k] + 1) / 2] : (a[n[k] / 2] + a[n[k] / 2 + 1]) / 2
            lo[k] = a[1]; hi[k] = a[n[k]]
        }
        printf "real ovs-vswitchd, CPU per new flow (us), median [range] of %d pairs: hw-offload=false %.2f [%.2f-%.2f], true %.2f [%.2f-%.2f]  (offload adds %+.1f%%; pair by pair: median %+.1f%% [%+.1f%%..%+.1f%%])\n", np, med["false"], lo["false"], hi["false"], med["true"], lo["true"], hi["true"], (med["true"] / med["false"] - 1) * 100, med["ratio"] * 100, lo["ratio"] * 100, hi["ratio"] * 100
    }' "$results"
