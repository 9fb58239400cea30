#!/bin/sh
# bench-vhost.sh: virtio_user -> eSwitch (an offloaded rule) -> virtio_user,
# against the same traffic through OVS's own dpdkvhostuserclient ports
# switched by an OVS PMD thread, in the same ovs-vswitchd (ours, with
# OVS's DPDK initialised: --no-huge, no devices).
#
# The guests are one test-virtio-user process (DPDK virtio_user ports) on
# CPU 0 that sends 64-byte and 1500-byte UDP frames from port a as fast as
# it can and receives them on port b; the switch's data-path thread (the
# eSwitch's forwarding thread, or OVS's PMD thread) runs on CPU 1.  For each
# size: frames received per second, and the data-path thread's CPU time
# per frame (from /proc).  Then the data-path thread's CPU use while the
# guests are attached but idle.
#
# usage: bench-vhost.sh --ovs-dir=DIR --builddir=DIR [--quick]
#   --quick: 1 s per measurement instead of 3.
set -e
bench=bench-vhost
. "$(dirname "$0")/bench-lib.sh"
bench_args "$@"
bench_need_dpdk "the guests and the switch"
dir=$(mktemp -d /tmp/bench-vhost.XXXXXX)
OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
export OVS_RUNDIR OVS_LOGDIR OVS_DBDIR OVS_SYSCONFDIR

cleanup () {
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
}
trap cleanup EXIT INT TERM

# CPU time (clock ticks) of the thread of ovs-vswitchd named $1.
vswitchd_pid () { cat "$dir/ovs-vswitchd.pid"; }
thread_id () {
    for i in 1 2 3 4 5 6 7 8 9 10; do
        t=$(grep -ls "^$1" /proc/"$(vswitchd_pid)"/task/*/comm | head -1 | cut -d/ -f5)
        [ -n "$t" ] && { echo "$t"; return; }
        sleep 0.2
    done
    echo "bench-vhost: no thread $1 in ovs-vswitchd" >&2
    exit 1
}
ticks () { awk '{print $14 + $15}' /proc/"$(vswitchd_pid)"/task/"$1"/stat; }
hz=$(getconf CLK_TCK)

ovsdb-tool create "$dir/conf.db" "$ovs_dir/vswitchd/vswitch.ovsschema"
ovsdb-server --detach --no-chdir --pidfile --log-file 2>/dev/null \
    --remote=punix:"$dir/db.sock" "$dir/conf.db"
ovs-vsctl --no-wait init -- set Open_vSwitch . \
    other_config:eswitch-host-io=capture other_config:hw-offload=true \
    other_config:dpdk-init=true \
    "other_config:dpdk-extra=--no-huge --legacy-mem -m 1024 --no-pci --no-shconf --no-telemetry" \
    other_config:per-port-memory=true other_config:pmd-cpu-mask=0x2
ovs-vswitchd --disable-system --disable-system-route --eswitch-state-dir="$dir/state" \
    --detach --no-chdir --pidfile --log-file >/dev/null 2>&1

# run_guest NAME ARGS...: the guests, on CPU 0, until they are done.
run_guest () {
    name=$1
    shift
    taskset -c 0 test-virtio-user "$@" > "$dir/$name.out" 2> "$dir/$name.err" &
    echo $! > "$dir/guest.pid"
}

# measure LABEL THREAD-NAME PORT-ARGS DST-MAC: one line per frame size.
measure () {
    label=$1 thread=$2 ports=$3 dst=$4
    for len in 64 1500; do
        # shellcheck disable=SC2086
        run_guest bench $ports idle 1 send a "$dst" 10 expect b 10 idle 1 \
            bench a b "$dst" "$secs" len=$len
        wait_for "grep -qs '^b: ' '$dir/bench.out'"
        tid=$(thread_id "$thread")
        taskset -p -c 1 "$tid" >/dev/null
        sleep 1.2                   # The idle second: offload is done.
        t0=$(ticks "$tid")
        wait "$(cat "$dir/guest.pid")"
        t1=$(ticks "$tid")
        rx=$(sed -n 's/^bench: [0-9]* sent, \([0-9]*\) received.*/\1/p' "$dir/bench.out")
        mpps=$(sed -n 's/.*: \([0-9.]*\) Mpps received/\1/p' "$dir/bench.out")
        [ -n "$rx" ] && [ "$rx" -gt 0 ] || {
            echo "bench-vhost: $label, $len bytes: nothing received" >&2
            cat "$dir/bench.out" "$dir/bench.err" >&2
            exit 1
        }
        printf "  %-30s %5d B: %7.3f Mpps, data-path thread %5.1f%% CPU, %6.0f ns CPU per frame\n" \
            "$label" "$len" "$mpps" \
            "$(echo "($t1 - $t0) * 100 / $hz / $secs" | bc -l)" \
            "$(echo "($t1 - $t0) * 1000000000 / $hz / $rx" | bc -l)"
    done
    # Idle: the guests stay attached and send nothing.
    # shellcheck disable=SC2086
    run_guest idle $ports idle 1 send a "$dst" 1 expect b 1 idle 3
    wait_for "grep -qs '^b: ' '$dir/idle.out'"
    sleep 0.5
    tid=$(thread_id "$thread")
    t0=$(ticks "$tid")
    sleep 2
    t1=$(ticks "$tid")
    wait "$(cat "$dir/guest.pid")"
    printf "  %-30s  idle: data-path thread %5.1f%% CPU\n" "$label" \
        "$(echo "($t1 - $t0) * 100 / $hz / 2" | bc -l)"
}

echo "virtio_user -> switch -> virtio_user, guests on CPU 0, switch on CPU 1 ($secs s each)"
echo "(load average $(cut -d' ' -f1 /proc/loadavg) at the start: other work on the machine lowers the numbers)"

# 1. The eSwitch: two virtio-net functions with vhost-user host sides
# (server mode), a rule from one to the other offloaded from OVS.
ovs-eswitchctl hotplug virtio --vhost-user vm1.sock --mac 02:00:00:00:00:01 >/dev/null
ovs-eswitchctl hotplug virtio --vhost-user vm2.sock --mac 02:00:00:00:00:02 >/dev/null
ovs-vsctl add-br br0 -- set bridge br0 datapath_type=netdev \
    -- add-port br0 p0 -- set interface p0 type=esw-uplink ofport_request=1 \
    -- add-port br0 pf0sf1000 -- set interface pf0sf1000 type=esw-virtio ofport_request=2 \
    -- add-port br0 pf0sf1001 -- set interface pf0sf1001 type=esw-virtio ofport_request=3
ovs-ofctl add-flow br0 in_port=2,actions=3
measure "eSwitch (offloaded rule)" esw0-fwd \
    "port a $dir/vm1.sock mac=02:00:00:00:00:01 port b $dir/vm2.sock mac=02:00:00:00:00:02" \
    02:00:00:00:00:02
flows=$(ovs-appctl dpctl/dump-flows type=offloaded | grep -c 'in_port(2)' || true)
[ "$flows" -ge 1 ] || { echo "bench-vhost: the eSwitch flow was not offloaded" >&2; exit 1; }

# 2. OVS: two dpdkvhostuserclient ports (OVS connects to the guests'
# sockets), a PMD thread on CPU 1.
ovs-vsctl add-br br1 -- set bridge br1 datapath_type=netdev \
    -- add-port br1 vhu0 -- set interface vhu0 type=dpdkvhostuserclient \
           options:vhost-server-path="$dir/ovs0.sock" ofport_request=1 \
    -- add-port br1 vhu1 -- set interface vhu1 type=dpdkvhostuserclient \
           options:vhost-server-path="$dir/ovs1.sock" ofport_request=2
ovs-ofctl del-flows br1
ovs-ofctl add-flow br1 in_port=1,actions=2
measure "OVS dpdkvhostuserclient + PMD" pmd-c01 \
    "port a $dir/ovs0.sock server mac=02:00:00:00:00:11 port b $dir/ovs1.sock server mac=02:00:00:00:00:12" \
    02:00:00:00:00:12
