#!/bin/sh
# bench-idle.sh: what an idle ovs-vswitchd costs.  Our ovs-vswitchd with
# six eSwitch ports (the uplink and five VFs, in-memory host sides) on a
# userspace bridge (datapath_type=dummy: dpif-netdev, without the tap device
# a netdev bridge would create) and hw-offload=true; one flow is offloaded and expires,
# so that OVS's offload thread exists; then nothing happens for S seconds
# (default 10).  Reports the CPU the daemon used (all its threads), in % of
# one core, and how often the offload thread woke up, side by side:
#   - "3.1 polls": OVS 3.1's offload thread, which polls its queue and
#     sleeps 1 to 64 ms when it is empty (OVS_EXT_OFFLOAD_POLL=1, the peer);
#   - "wakes on enqueue": as ovs-ext runs it (vswitchd-plugin/ovs-patches/
#     0001): the offload thread sleeps until a request arrives.
#
# usage: bench-idle.sh --ovs-dir=DIR --builddir=DIR [--seconds=S] [--quick]
#   --quick: S = 3.
set -e
seconds=10
for arg; do
    case $arg in
        --ovs-dir=*) ovs_dir=${arg#*=} ;;
        --builddir=*) builddir=${arg#*=} ;;
        --seconds=*) seconds=${arg#*=} ;;
        --quick) seconds=3 ;;
        *) echo "usage: $0 --ovs-dir=DIR --builddir=DIR [--seconds=S] [--quick]" >&2
           exit 1 ;;
    esac
done
: "${ovs_dir:?--ovs-dir is required}" "${builddir:?--builddir is required}"

PATH=$builddir/vswitchd-plugin:$ovs_dir/utilities:$ovs_dir/ovsdb:$PATH
export PATH
dir=$(mktemp -d /tmp/bench-idle.XXXXXX)
OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
export OVS_RUNDIR OVS_LOGDIR OVS_DBDIR OVS_SYSCONFDIR

stop () {
    if test -f "$dir/$1.pid"; then
        pid=$(cat "$dir/$1.pid")
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
        rm -f "$dir/$1.pid"
    fi
}
cleanup () {
    stop ovs-vswitchd
    stop ovsdb-server
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

hz=$(getconf CLK_TCK)
# cpu_ticks PID: user + system time of all of PID's threads, in ticks.
cpu_ticks () { awk '{print $14 + $15}' "/proc/$1/stat"; }
# offload_wakeups PID: voluntary context switches of OVS's offload thread.
offload_wakeups () {
    for t in /proc/"$1"/task/*; do
        if grep -q '^hw_offload' "$t/comm"; then
            awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status"
            return
        fi
    done
    echo 0
}
PKT="in_port(1),eth(src=02:65:00:02:00:00,dst=02:65:00:02:00:01),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)"

ovsdb-tool create "$dir/conf.db" "$ovs_dir/vswitchd/vswitch.ovsschema"
ovsdb-server --detach --no-chdir --pidfile --log-file 2>/dev/null \
    --remote=punix:"$dir/db.sock" "$dir/conf.db"

# measure MODE: prints "CPU-PERCENT WAKEUPS" for an idle daemon.
measure () {
    ovs-vsctl --no-wait -- --if-exists del-br br0 -- init -- \
        set Open_vSwitch . other_config:hw-offload=true \
        other_config:eswitch-host-io=capture other_config:eswitch-vfs=5 \
        other_config:max-idle=500
    if test "$1" = poll; then
        OVS_EXT_OFFLOAD_POLL=1 ovs-vswitchd --enable-dummy --disable-system \
            --disable-system-route --detach --no-chdir --pidfile --log-file \
            >/dev/null 2>&1
    else
        ovs-vswitchd --enable-dummy --disable-system --disable-system-route \
            --detach --no-chdir --pidfile --log-file >/dev/null 2>&1
    fi
    pid=$(cat "$dir/ovs-vswitchd.pid")
    ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy \
        fail_mode=secure \
        -- add-port br0 p0 -- set interface p0 type=esw-uplink \
        -- add-port br0 pf0vf0 -- set interface pf0vf0 type=esw-vf \
        -- add-port br0 pf0vf1 -- set interface pf0vf1 type=esw-vf \
        -- add-port br0 pf0vf2 -- set interface pf0vf2 type=esw-vf \
        -- add-port br0 pf0vf3 -- set interface pf0vf3 type=esw-vf \
        -- add-port br0 pf0vf4 -- set interface pf0vf4 type=esw-vf
    ovs-ofctl add-flow br0 in_port=pf0vf0,actions=output:pf0vf1
    ovs-appctl eswitch/inject pf0vf0 "$PKT"
    i=0
    until ovs-appctl eswitch/dump-flows | grep -q offloaded:yes; do
        i=$((i + 1))
        if [ $i -gt 100 ]; then
            echo "bench-idle: the flow was not offloaded" >&2
            exit 1
        fi
        sleep 0.1
    done
    # The flow expires (max-idle 500 ms), its rule leaves the device.
    while [ -n "$(ovs-appctl dpctl/dump-flows)" ]; do sleep 0.1; done
    sleep 1
    cpu0=$(cpu_ticks "$pid") w0=$(offload_wakeups "$pid")
    sleep "$seconds"
    cpu1=$(cpu_ticks "$pid") w1=$(offload_wakeups "$pid")
    stop ovs-vswitchd
    echo "$(echo "($cpu1 - $cpu0) * 100 / $hz / $seconds" | bc -l) $((w1 - w0))"
}

poll=$(measure poll)
wake=$(measure wake)
echo "idle ovs-vswitchd: 6 eSwitch ports, hw-offload=true, ${seconds} s without traffic"
printf "%-44s %16s %16s\n" "" "3.1 polls" "wakes on enqueue"
printf "%-44s %16.2f %16.2f\n" "CPU, all threads (% of a core)" \
    "${poll% *}" "${wake% *}"
printf "%-44s %16d %16d\n" "offload thread wake-ups" "${poll#* }" \
    "${wake#* }"
