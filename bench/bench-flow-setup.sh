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
# divided by the flows created.  The modes alternate, RUNS pairs, each run
# in a fresh ovs-vswitchd (OVS's flow API cannot be switched off once on).
#
# usage: bench-flow-setup.sh --ovs-dir=DIR --builddir=DIR [--quick]
#   --quick: 5000 flows, 2 pairs (default: 20000 flows, 3 pairs)
# Environment: BENCH_FLOWS, BENCH_RUNS, BENCH_RATE (default 10000 flows/s)
# override those.
set -e
bench=bench-flow-setup
. "$(dirname "$0")/bench-lib.sh"
bench_args "$@"
bench_need_dpdk "the injector and ovs-vswitchd"

flows=20000 runs=3
if [ "$secs" = 1 ]; then
    flows=5000 runs=2
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
    rm -rf "$dir"
    dir=
}
trap cleanup EXIT INT TERM

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
    ovs-appctl dpctl/show | sed -n 's/^ *flows: *\([0-9]*\).*/\1/p'
}
offloaded () {
    n=$(ovs-appctl dpctl/offload-stats-show 2>/dev/null \
        | sed -n 's/^ *Total *Inserted offloads: *\([0-9]*\).*/\1/p')
    echo "${n:-0}"
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
    ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev \
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
        perf record -F 4999 -g -p "$pid" -o "$BENCH_PERF-$hw.data" >/dev/null 2>&1 &
        perf_pid=$!
        sleep 0.5
    fi
    touch "$dir/go"
    wait_for "grep -qs '^b: ' '$dir/guest.out'"
    wait_for "test \$((\$(dp_flows) - flows0)) -ge $flows"
    if [ "$hw" = true ]; then
        wait_for "test \$((\$(offloaded) - ofl0)) -ge $flows"
    fi
    snapshot "$dir/cpu1"
    if [ -n "${BENCH_PERF:-}" ]; then
        kill -INT "$perf_pid"
        wait "$perf_pid" || true
    fi
    created=$(($(dp_flows) - flows0))
    n_ofl=$(($(offloaded) - ofl0))
    received=$(sed -n 's/^b: \([0-9]*\) frames.*/\1/p' "$dir/guest.out")
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
i=0
while [ $i -lt "$runs" ]; do
    run_mode false
    run_mode true
    i=$((i + 1))
done
awk '{
        printf "  hw-offload=%-5s  %6.2f us CPU per new flow  (%d flows created, %d offloaded, %s frames received;", $1, $2, $3, $4, $5
        for (i = 6; i <= NF; i++) printf " %s", $i
        print " us per flow)"
     }' "$results"
awk '
    { v[$1, ++n[$1]] = $2 }
    END {
        for (m = 0; m < 2; m++) {
            k = m ? "true" : "false"
            # Median of the runs of mode k (insertion sort).
            for (i = 1; i <= n[k]; i++) a[i] = v[k, i]
            for (i = 2; i <= n[k]; i++)
                for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
                    t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
                }
            med[k] = n[k] % 2 ? a[(n[k] + 1) / 2] : (a[n[k] / 2] + a[n[k] / 2 + 1]) / 2
            lo[k] = a[1]; hi[k] = a[n[k]]
        }
        printf "real ovs-vswitchd, CPU per new flow (us), median [range]: hw-offload=false %.2f [%.2f-%.2f], true %.2f [%.2f-%.2f]  (offload adds %+.1f%%)\n", med["false"], lo["false"], hi["false"], med["true"], lo["true"], hi["true"], (med["true"] / med["false"] - 1) * 100
    }' "$results"
rm -f "$results"
