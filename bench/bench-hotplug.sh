#!/bin/sh
# bench-hotplug.sh: device management at scale.  Hotplugs N virtio-net
# functions with ovs-eswitchctl, adds their representors to one bridge,
# and reports the time to hotplug, the time to add the ports, ovs-vswitchd's
# resident memory, "ovs-vsctl show" and "ovs-eswitchctl list" latency, and
# the time ovs-vswitchd takes to restore everything after a restart.  Each
# phase is also timed per slice of N/5 so that a cost that grows with the
# number of functions (worse than linear) shows up as growing slices.
#
# usage: bench-hotplug.sh --ovs-dir=DIR --builddir=DIR [-n N] [--quick]
#   default N = 1000 (about a minute on 2 cores); --quick: N = 200.
set -e
n=1000
for arg; do
    case $arg in
        --ovs-dir=*) ovs_dir=${arg#*=} ;;
        --builddir=*) builddir=${arg#*=} ;;
        --quick) n=200 ;;
        -n*) n=${arg#-n} ;;
        [0-9]*) n=$arg ;;
        *) echo "usage: $0 --ovs-dir=DIR --builddir=DIR [-nN] [--quick]" >&2
           exit 1 ;;
    esac
done
: "${ovs_dir:?--ovs-dir is required}" "${builddir:?--builddir is required}"

PATH=$builddir/vswitchd-plugin:$builddir/utilities:$ovs_dir/utilities:$ovs_dir/ovsdb:$PATH
export PATH
dir=$(mktemp -d /tmp/bench-hotplug.XXXXXX)
OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
export OVS_RUNDIR OVS_LOGDIR OVS_DBDIR OVS_SYSCONFDIR

cleanup () {
    for p in ovs-vswitchd ovsdb-server; do
        if test -f "$dir/$p.pid"; then
            kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
        fi
    done
    sleep 0.5
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

now () { date +%s.%N; }
elapsed () { echo "$2 - $1" | bc; }
rss () { awk '/^VmRSS/ {print $2 / 1024 " MB"}' /proc/"$(cat "$dir/ovs-vswitchd.pid")"/status; }
start_vswitchd () {
    ovs-vswitchd --enable-dummy --disable-system --disable-system-route \
        --eswitch-state-dir="$dir/state" --detach --no-chdir --pidfile \
        --log-file "$@" >/dev/null 2>&1
}

ovsdb-tool create "$dir/conf.db" "$ovs_dir/vswitchd/vswitch.ovsschema"
ovsdb-server --detach --no-chdir --pidfile --log-file 2>/dev/null \
    --remote=punix:"$dir/db.sock" "$dir/conf.db"
ovs-vsctl --no-wait init -- \
    set Open_vSwitch . other_config:eswitch-host-io=capture
start_vswitchd
ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy fail_mode=secure \
    -- add-port br0 p0 -- set interface p0 type=esw-uplink
echo "functions: $n virtio-net devices, host sides in memory (capture)"
echo "ovs-vswitchd RSS at start:     $(rss)"

slice=$((n / 5))
[ $slice -gt 0 ] || slice=1
echo "hotplug (one ovs-eswitchctl hotplug per function):"
t0=$(now); ts=$t0; i=0
while [ $i -lt $n ]; do
    ovs-eswitchctl hotplug virtio > /dev/null
    i=$((i + 1))
    if [ $((i % slice)) -eq 0 ]; then
        t=$(now)
        printf "  functions %5d..%5d: %6.2f s\n" $((i - slice + 1)) $i \
            "$(elapsed "$ts" "$t")"
        ts=$t
    fi
done
t_hotplug=$(elapsed "$t0" "$(now)")
printf "  total: %.2f s (%.1f ms per function)\n" "$t_hotplug" \
    "$(echo "$t_hotplug * 1000 / $n" | bc -l)"
echo "ovs-vswitchd RSS, functions:   $(rss)"

# add_ports BRIDGE PREFIX FIRST TYPE: adds N ports PREFIX<FIRST>... of TYPE
# to BRIDGE, one ovs-vsctl transaction per slice, and prints the time of
# each slice on one line.
add_ports () {
    i=0
    while [ $i -lt $n ]; do
        args=""
        j=0
        while [ $j -lt $slice ] && [ $i -lt $n ]; do
            name=$2$(($3 + i))
            args="$args -- add-port $1 $name -- set interface $name type=$4"
            i=$((i + 1)); j=$((j + 1))
        done
        ts=$(now)
        # shellcheck disable=SC2086
        ovs-vsctl --timeout=600 $args
        printf "%.2f\n" "$(elapsed "$ts" "$(now)")"
    done
}
t0=$(now)
esw_slices=$(add_ports br0 pf0sf 1000 esw-virtio)
t_ports=$(elapsed "$t0" "$(now)")
echo "ovs-vswitchd RSS, ports:       $(rss)"

lat () {
    t0=$(now)
    for k in 1 2 3 4 5; do "$@" > /dev/null; done
    echo "$(elapsed "$t0" "$(now)") * 1000 / 5" | bc -l
}
printf "ovs-vsctl show latency:       %7.1f ms (%d lines)\n" \
    "$(lat ovs-vsctl show)" "$(ovs-vsctl show | wc -l)"
printf "ovs-eswitchctl list latency:  %7.1f ms\n" "$(lat ovs-eswitchctl list)"
errors=$(ovs-vsctl --bare --columns=error find interface 'error!=[]' | grep -c . || true)
echo "interfaces with an error:      $errors"

# Restart: every function and port comes back from the recovery state.
ovs-appctl -t ovs-vswitchd exit
while test -e "$dir/ovs-vswitchd.pid"; do sleep 0.1; done
t0=$(now)
start_vswitchd
until [ "$(ovs-eswitchctl list 2>/dev/null | grep -c hotplug)" -eq "$n" ]; do
    sleep 0.1
done
ovs-vsctl --timeout=600 set Open_vSwitch . other_config:bench=1
printf "restart until %d functions restored and ports reattached: %.2f s\n" \
    "$n" "$(elapsed "$t0" "$(now)")"
errors=$(ovs-vsctl --bare --columns=error find interface 'error!=[]' | grep -c . || true)
echo "interfaces with an error after restart: $errors"
echo "ovs-vswitchd RSS after restart: $(rss)"

# The peer: the same add-port slices with OVS's own dummy ports, on a
# fresh bridge of the same daemon once the eSwitch ports are gone, so
# that a cost growing with the number of ports shows whose it is.
ovs-vsctl --timeout=600 del-br br0
ovs-vsctl add-br br1 -- set bridge br1 datapath_type=dummy fail_mode=secure
t0=$(now)
dummy_slices=$(add_ports br1 dummy 0 dummy)
t_dummy=$(elapsed "$t0" "$(now)")
echo "add-port, one ovs-vsctl transaction per slice of $slice ports (time per transaction):"
printf "  %-13s %12s %18s\n" ports esw-virtio "dummy (stock OVS)"
printf "%s\n" "$esw_slices" > "$dir/slices.esw"
printf "%s\n" "$dummy_slices" > "$dir/slices.dummy"
k=0
paste "$dir/slices.esw" "$dir/slices.dummy" | while read -r esw dummy; do
    printf "  %5d..%5d %10s s %16s s\n" $((k * slice + 1)) $(((k + 1) * slice)) "$esw" "$dummy"
    k=$((k + 1))
done
printf "  total       %10.2f s %16.2f s\n" "$t_ports" "$t_dummy"
