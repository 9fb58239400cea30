#!/bin/sh
# bench-tunnel.sh: VM to VM across two hosts over VXLAN.  Two ovs-vswitchd
# (hosts A and B, each with its own eSwitch; their uplinks cabled by a
# wire, other_config:eswitch-uplink-wire), each with br-phy (uplink p0,
# local IP, route, ARP entry) and br-int (a VXLAN port towards the other
# host), hw-offload=true and PMD threads (representors polled by PMD
# threads: eswitch-pmd=true).  The guests are one test-virtio-user process
# (DPDK virtio_user ports) on CPU 0: port a on host A sends 64-byte and
# 1400-byte UDP frames (VXLAN adds 50 bytes: a 1500-byte underlay carries
# guest frames up to 1450) as fast as it can, port b on host B receives
# them.
# The same run measures, side by side:
#
#   eSwitch path: the guests on virtio-net functions of the eSwitches
#       (vhost-user host sides); VXLAN encap on A and decap on B are the
#       device's when OVS's tunnel flows are offloaded, else the frames
#       take OVS's software tunnel path through the representors (PMD);
#   OVS path: the guests on OVS's own dpdkvhostuserclient ports, OVS's
#       software tunnel path with PMD threads (the uplinks are still the
#       eSwitches', which only carry the underlay).
#
# For each: frames received per second, and the CPU time of both daemons
# (every thread: PMD, eSwitch forwarding, offload) per received frame;
# then how many of the tunnelled datapath flows on the two hosts are
# offloaded: on the eSwitch path all of them (A's encap, B's decap and its
# tunnel port's flow), so that only each flow's first frame goes through
# OVS; on the OVS path only B's decap on the uplink, one flow that both
# paths share (it matches the UDP port, not the VNI), whose frames then
# miss in the device and go to OVS still encapsulated (the other two
# flows have a dpdkvhostuser port at one end).  Should none be offloaded, the
# eSwitch path is OVS's software path too, and the output says so.
#
# usage: bench-tunnel.sh --ovs-dir=DIR --builddir=DIR [--quick]
#   --quick: 1 s per measurement instead of 3.
set -e
bench=bench-tunnel
. "$(dirname "$0")/bench-lib.sh"
bench_args "$@"
bench_need_dpdk "the guests and the switches"
dir=$(mktemp -d /tmp/bench-tunnel.XXXXXX)

cleanup () {
    if test -f "$dir/guest.pid"; then
        kill "$(cat "$dir/guest.pid")" 2>/dev/null || true
    fi
    for h in A B; do
        for p in ovs-vswitchd ovsdb-server; do
            if test -f "$dir/$h/$p.pid"; then
                kill "$(cat "$dir/$h/$p.pid")" 2>/dev/null || true
            fi
        done
    done
    sleep 0.5
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# as HOST COMMAND...: COMMAND against HOST's daemons.
as () {
    h=$1
    shift
    (OVS_RUNDIR=$dir/$h OVS_LOGDIR=$dir/$h OVS_DBDIR=$dir/$h OVS_SYSCONFDIR=$dir/$h
     export OVS_RUNDIR OVS_LOGDIR OVS_DBDIR OVS_SYSCONFDIR
     "$@")
}

# CPU time (clock ticks) of both daemons, every thread.
ticks () {
    for h in A B; do
        awk '{print $14 + $15}' /proc/"$(cat "$dir/$h/ovs-vswitchd.pid")"/stat
    done | awk '{s += $1} END {print s}'
}
hz=$(getconf CLK_TCK)

# Host N (A=1, B=2): its daemons, bridges, underlay and tunnel port.
start_host () {
    h=$1 n=$2 peer=$((3 - $2)) mode=$3
    mkdir "$dir/$h"
    as "$h" ovsdb-tool create "$dir/$h/conf.db" "$ovs_dir/vswitchd/vswitch.ovsschema"
    as "$h" ovsdb-server --detach --no-chdir --pidfile --log-file 2>/dev/null \
        --remote=punix:"$dir/$h/db.sock" "$dir/$h/conf.db"
    as "$h" ovs-vsctl --no-wait init -- set Open_vSwitch . \
        other_config:eswitch-host-io=capture other_config:hw-offload=true \
        other_config:eswitch-pmd=true \
        other_config:eswitch-uplink-wire="$mode:$dir/wire.sock" \
        other_config:dpdk-init=true \
        "other_config:dpdk-extra=--no-huge --legacy-mem -m 1024 --no-pci --no-shconf --no-telemetry --file-prefix=bench-tunnel-$h" \
        other_config:per-port-memory=true other_config:pmd-cpu-mask=0x2
    as "$h" ovs-vswitchd --enable-dummy --disable-system --disable-system-route \
        --eswitch-state-dir="$dir/$h/state" --detach --no-chdir --pidfile \
        --log-file >/dev/null 2>&1
    # The dummy datapath: dpif-netdev whose bridges' internal ports are
    # not kernel devices, so that the two hosts' br-phy do not collide.
    as "$h" ovs-eswitchctl hotplug virtio --vhost-user vm.sock \
        --mac 02:00:00:00:0$n:01 >/dev/null
    as "$h" ovs-vsctl \
        -- add-br br-phy -- set bridge br-phy datapath_type=dummy \
               other-config:hwaddr=aa:55:aa:55:00:0$n \
        -- add-port br-phy p0 -- set interface p0 type=esw-uplink ofport_request=1 \
        -- add-br br-int -- set bridge br-int datapath_type=dummy fail-mode=secure \
        -- add-port br-int pf0sf1000 -- set interface pf0sf1000 type=esw-virtio ofport_request=1 \
        -- add-port br-int vhu0 -- set interface vhu0 type=dpdkvhostuserclient \
               options:vhost-server-path="$dir/$h/ovs.sock" ofport_request=2 \
        -- add-port br-int vxlan0 -- set interface vxlan0 type=vxlan \
               options:remote_ip=172.31.0.$peer options:key=flow ofport_request=10
    as "$h" ovs-appctl netdev-dummy/ip4addr br-phy 172.31.0.$n/24 >/dev/null
    as "$h" ovs-appctl ovs/route/add 172.31.0.0/24 br-phy >/dev/null
    as "$h" ovs-appctl tnl/arp/set br-phy 172.31.0.$peer aa:55:aa:55:00:0$peer >/dev/null
}
start_host A 1 punix
start_host B 2 unix
wait_for "as A ovs-appctl eswitch/show | grep -q 'wire: listens, connected'"

# The overlay, by OpenFlow: the eSwitch guests with VNI 100, OVS's with
# VNI 200.
as A ovs-ofctl add-flow br-int "in_port=1,actions=set_field:100->tun_id,output:10"
as A ovs-ofctl add-flow br-int "in_port=2,actions=set_field:200->tun_id,output:10"
as B ovs-ofctl add-flow br-int "in_port=10,tun_id=100,actions=output:1"
as B ovs-ofctl add-flow br-int "in_port=10,tun_id=200,actions=output:2"

# run_guest NAME ARGS...: the guests, on CPU 0, until they are done.
run_guest () {
    name=$1
    shift
    taskset -c 0 test-virtio-user "$@" > "$dir/$name.out" 2> "$dir/$name.err" &
    echo $! > "$dir/guest.pid"
}

# measure LABEL PORT-ARGS DST-MAC: one line per frame size, into
# $dir/LABEL-LEN.
measure () {
    label=$1 ports=$2 dst=$3
    for len in 64 1400; do
        # shellcheck disable=SC2086
        run_guest bench $ports idle 1 send a "$dst" 10 expect b 10 idle 1 \
            bench a b "$dst" "$secs" len=$len
        wait_for "grep -qs '^b: ' '$dir/bench.out'"
        sleep 1.2                   # The idle second: offload is done.
        t0=$(ticks)
        wait "$(cat "$dir/guest.pid")"
        t1=$(ticks)
        rx=$(sed -n 's/^bench: [0-9]* sent, \([0-9]*\) received.*/\1/p' "$dir/bench.out")
        mpps=$(sed -n 's/.*: \([0-9.]*\) Mpps received/\1/p' "$dir/bench.out")
        [ -n "$rx" ] && [ "$rx" -gt 0 ] || {
            echo "bench-tunnel: $label, $len bytes: nothing received" >&2
            cat "$dir/bench.out" "$dir/bench.err" >&2
            exit 1
        }
        printf "%7.3f Mpps, %6.0f ns CPU per frame (both hosts, %3.0f%% of a CPU)" \
            "$mpps" \
            "$(echo "($t1 - $t0) * 1000000000 / $hz / $rx" | bc -l)" \
            "$(echo "($t1 - $t0) * 100 / $hz / $secs" | bc -l)" > "$dir/$label-$len"
    done
}

# share LABEL VNI: "offloaded/all" tunnelled datapath flows of VNI on the
# two hosts (encap on A: tnl_push with the VNI; decap on B: the uplink's
# tnl_pop and the tunnel port's flow of that tun_id).
share () {
    vni=$(printf '0x%x' "$1")
    n_off=0 n_all=0
    for h in A B; do
        for t in offloaded all; do
            n=$(as "$h" ovs-appctl dpctl/dump-flows type=$t \
                | grep -cE "vni=$vni\)|tun_id=$vni,|tnl_pop" || true)
            if [ $t = offloaded ]; then
                n_off=$((n_off + n))
            else
                n_all=$((n_all + n))
            fi
        done
    done
    echo "$n_off/$n_all"
}

echo "VM -> VXLAN -> VM across two hosts: guests on CPU 0, both hosts' PMD threads on CPU 1 ($secs s each)"
echo "(load average $(cut -d' ' -f1 /proc/loadavg) at the start: other work on the machine lowers the numbers)"

measure esw "port a $dir/A/vm.sock mac=02:00:00:00:01:01 port b $dir/B/vm.sock mac=02:00:00:00:02:01" \
    02:00:00:00:02:01
esw_share=$(share 100)
measure ovs "port a $dir/A/ovs.sock server mac=02:00:00:00:01:02 port b $dir/B/ovs.sock server mac=02:00:00:00:02:02" \
    02:00:00:00:02:02
ovs_share=$(share 200)

for len in 64 1400; do
    printf "  %4d B  eSwitch path: %s\n" "$len" "$(cat "$dir/esw-$len")"
    printf "          OVS path:     %s\n" "$(cat "$dir/ovs-$len")"
done
echo "  tunnelled datapath flows offloaded (both hosts): eSwitch path $esw_share, OVS path $ovs_share"
case $esw_share in
    0/*) echo "  (no tunnelled flow is in the eSwitch: its path is OVS's software tunnel path too," \
              "through the representors; reasons: ovs-appctl eswitch/dump-flows)" ;;
esac
