#!/bin/sh
# bench-update.sh: live update of the device daemon under traffic.
# ovs-vswitchd (remote driver) drives an eSwitch in ovs-eswitchd whose
# uplink is a wire to tests/wire-gap.py, which sends a numbered frame every
# millisecond; an offloaded flow sends them back out of the uplink.  The
# same traffic is measured twice, side by side: for as long without an
# update (the baseline: the sender's own jitter on this machine), then
# across "ovs-eswitchctl update --start" (UPDATES of them, one per
# second): frames lost, the longest gap between two frames received, and
# the pause the daemon measured (forwarding stopped in the old process to
# resumed in the new one).  Then the pause with R rules in the device
# (bench-update-rules: through the device API, as ovs-vswitchd's offload
# thread adds them), since restoring re-adds every rule.
#
# usage: bench-update.sh --ovs-dir=DIR --builddir=DIR [--quick]
#   --quick: 1 update, 2,000 rules (else 5 updates, 20,000 rules).
set -e
bench=bench-update
. "$(dirname "$0")/bench-lib.sh"
bench_args "$@"
if [ "$secs" = 1 ]; then
    updates=1 rules=2000
else
    updates=5 rules=20000
fi
srcdir=$(cd "$(dirname "$0")/.." && pwd)
PATH=$builddir/vswitchd-plugin:$builddir/datapath/remote:$builddir/utilities:$builddir/bench:$ovs_dir/utilities:$ovs_dir/ovsdb:$PATH
export PATH
dir=$(mktemp -d /tmp/bench-update.XXXXXX)
OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
OVS_ESWITCHD_SOCKET=$dir/ovs-eswitchd.sock OVS_EXT_ESW_DRIVER=remote
export OVS_RUNDIR OVS_LOGDIR OVS_DBDIR OVS_SYSCONFDIR OVS_ESWITCHD_SOCKET \
    OVS_EXT_ESW_DRIVER
sender=

cleanup () {
    [ -z "$sender" ] || kill "$sender" 2>/dev/null || true
    for p in ovs-vswitchd ovsdb-server ovs-eswitchd; do
        if test -f "$dir/$p.pid"; then
            kill "$(cat "$dir/$p.pid")" 2>/dev/null || true
        fi
    done
    sleep 0.5
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# run_traffic SECONDS UPDATES: a fresh sender on the uplink's wire (the
# uplink reconnects to it), SECONDS of traffic through the offloaded flow
# with UPDATES live updates spread over them; the sender's line in
# $dir/result, the pauses the daemon measured in $dir/pauses.
run_traffic () {
    rm -f "$dir/wire.sock" "$dir/result" "$dir/result.connected" \
        "$dir/pauses"
    python3 "$srcdir/tests/wire-gap.py" "$dir/wire.sock" "$dir/result" \
        < /dev/null > /dev/null 2>&1 &
    sender=$!
    wait_for "test -e '$dir/result.connected'"
    kill -USR2 "$sender"
    wait_for "ovs-appctl eswitch/dump-flows | grep -q offloaded:yes"
    step=$(echo "$1 / ($2 + 1)" | bc -l)
    k=0
    while [ $k -lt "$2" ]; do
        sleep "$step"
        ovs-eswitchctl update --start > /dev/null
        ovs-eswitchctl update --status \
            | sed -n 's/.*paused: \([0-9.]*\) ms/\1/p' >> "$dir/pauses"
        k=$((k + 1))
    done
    sleep "$step"
    kill -TERM "$sender"
    wait_for "test -e '$dir/result'"
    wait "$sender" || true
    sender=
}

ovsdb-tool create "$dir/conf.db" "$ovs_dir/vswitchd/vswitch.ovsschema"
ovsdb-server --detach --no-chdir --pidfile --log-file 2>/dev/null \
    --remote=punix:"$dir/db.sock" "$dir/conf.db"
ovs-vsctl --no-wait init -- set Open_vSwitch . \
    other_config:eswitch-host-io=capture other_config:hw-offload=true
ovs-eswitchd --socket="$OVS_ESWITCHD_SOCKET" --pidfile="$dir/ovs-eswitchd.pid" \
    --log-file="$dir/ovs-eswitchd.log" --detach
ovs-vswitchd --enable-dummy --disable-system --disable-system-route \
    --detach --no-chdir --pidfile --log-file >/dev/null 2>&1

ovs-vsctl set Open_vSwitch . \
    other_config:eswitch-uplink-wire="unix:$dir/wire.sock"
ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy \
    fail_mode=secure -- add-port br0 p0 -- set interface p0 type=esw-uplink
ovs-ofctl add-flow br0 in_port=p0,ip,nw_dst=10.0.0.2,actions=in_port

secs=$((updates * 2 + 2))
echo "live update of ovs-eswitchd: a frame per ms through an offloaded flow, $secs s each"
run_traffic "$secs" 0
echo "  no update (baseline):  $(cat "$dir/result")"
run_traffic "$secs" "$updates"
echo "  $updates live update(s):     $(cat "$dir/result")"
echo "  pause measured by the daemon (ms): $(tr '\n' ' ' < "$dir/pauses")"
ovs-vsctl del-br br0

echo "live update pause vs rules in the device (bench-update-rules):"
bench-update-rules 0
bench-update-rules "$rules"
