#!/bin/sh
# bench-restart.sh: what the eSwitch's offloaded traffic sees when its
# control plane restarts, side by side (issue 20):
#   - "ovs-vswitchd restart": ovs-appctl exit, then ovs-vswitchd started
#     again with the same command line, with ovs-ctl's flow-restore-wait
#     sequence (the device, in ovs-eswitchd, keeps forwarding);
#   - "device restart": kill -9 of ovs-eswitchd, then started again with the
#     same command line (a device reset that ovs-vswitchd survives: the
#     remote driver re-creates the device and its rules).
#   - "live update": ovs-eswitchctl update --start, the running ovs-eswitchd
#     handing its devices, host sides, rings and client connections to a
#     new one (the same binary): ovs-vswitchd keeps its connection.
# The traffic: tests/wire-sender.py on the far end of the uplink's wire
# sends a frame to 10.0.0.2 every millisecond, which an offloaded flow
# (ip,nw_dst=10.0.0.2 -> pf0vf0) forwards; before the device restart, R
# more flows are offloaded (one frame each, injected) so that the device
# has rules to re-program.  For each scenario, one line per figure:
#   - frames lost on the offloaded flow (sent minus received at pf0vf0),
#     and the forwarding gap they make (ms, at the sender's rate);
#   - ovs-vswitchd restart: the time from "ovs-appctl exit" until a new
#     flow (to 10.0.0.3) is offloaded again;
#   - device restart: the time from the kill until the driver says the
#     device is back with every rule, and the driver's own re-programming
#     time.
#   - live update: the time "ovs-eswitchctl update --start" takes (every
#     rule in the new daemon when it returns), and the forwarding pause
#     the daemon measured (old process stopped to new one resumed).
# A scenario is one function that sets its figures (see "scenarios"
# below): another one (e.g. a live update of ovs-eswitchd) is a function
# and a column more.
#
# usage: bench-restart.sh --ovs-dir=DIR --builddir=DIR [--quick]
#   --quick: R = 50 instead of 500.
set -e
bench=bench-restart
. "$(dirname "$0")/bench-lib.sh"
bench_args "$@"
n_rules=500
if [ "$secs" = 1 ]; then
    n_rules=50
fi
srcdir=$(cd "$(dirname "$0")/.." && pwd)
PATH=$builddir/datapath/remote:$PATH
dir=$(mktemp -d /tmp/bench-restart.XXXXXX)
OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir
OVS_ESWITCHD_SOCKET=$dir/ovs-eswitchd.sock OVS_EXT_ESW_DRIVER=remote
export OVS_RUNDIR OVS_LOGDIR OVS_DBDIR OVS_SYSCONFDIR OVS_ESWITCHD_SOCKET \
    OVS_EXT_ESW_DRIVER

stop () {
    if test -f "$dir/$1.pid"; then
        pid=$(cat "$dir/$1.pid")
        kill "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
        rm -f "$dir/$1.pid"
    fi
}
cleanup () {
    [ -z "$sender" ] || kill "$sender" 2>/dev/null || true
    stop ovs-vswitchd
    stop ovs-eswitchd
    stop ovsdb-server
    rm -rf "$dir"
}
sender=
trap cleanup EXIT INT TERM

now_ms () { echo $(($(date +%s%N) / 1000000)); }
start_eswitchd () {
    ovs-eswitchd --socket="$dir/ovs-eswitchd.sock" \
        --pidfile="$dir/ovs-eswitchd.pid" --log-file="$dir/ovs-eswitchd.log" \
        --detach
}
start_vswitchd () {
    ovs-vswitchd --enable-dummy --disable-system --disable-system-route \
        --detach --no-chdir --pidfile --log-file >/dev/null 2>&1
}
# Whether process $1 is gone (a zombie is: its parent, whoever adopted
# the daemon, may take its time to reap it).
gone () {
    ! kill -0 "$1" 2>/dev/null \
        || [ "$(sed 's/^[0-9]* ([^)]*) \(.\).*/\1/' /proc/"$1"/stat 2>/dev/null)" = Z ]
}
# What pf0vf0's function received (its host side, in-memory, keeps 1024
# frames: the rest count as its host-tx drops), once it no longer moves.
rx_count () {
    ovs-appctl eswitch/stats esw0 --json | python3 -c '
import json, sys
vf = json.load(sys.stdin)["esw0"]["pf0vf0"]
print(vf["tx_packets"] + vf["drops"].get("host-tx", 0))'
}
settled_rx () {
    prev=-1
    while :; do
        cur=$(rx_count)
        [ "$cur" != "$prev" ] || break
        prev=$cur
        sleep 0.2
    done
    echo "$cur"
}
# window_begin / window_end: the frames the sender sent between the two
# (paused meanwhile, so that no frame is in flight) and the frames pf0vf0
# received: sets 'lost', 'gap' (ms) for the window.
sent_count () { sed 's/^sent \([0-9]*\) .*/\1/' "$dir/sent"; }
window_begin () {
    rm -f "$dir/sent"
    kill -HUP "$sender"
    wait_for "test -e '$dir/sent'"
    sent0=$(sent_count) rx0=$(settled_rx) t_begin=$(now_ms)
    kill -USR2 "$sender"
}
window_end () {
    t_end=$(now_ms)
    rm -f "$dir/sent"
    kill -HUP "$sender"
    wait_for "test -e '$dir/sent'"
    sent1=$(sent_count) rx1=$(settled_rx)
    sent=$((sent1 - sent0))
    lost=$((sent - (rx1 - rx0)))
    gap=$(echo "$lost * ($t_end - $t_begin) / $sent" | bc)
    kill -USR2 "$sender"
}
offloaded () {
    ovs-appctl eswitch/dump-flows | grep -c "$1.*offloaded:yes" || true
}
# poll_until CONDITION: as wait_for, every 10 ms (for timings), 30 s at most.
poll_until () {
    wait_for "$1" 0.01 3000
}

ovsdb-tool create "$dir/conf.db" "$ovs_dir/vswitchd/vswitch.ovsschema"
ovsdb-server --detach --no-chdir --pidfile --log-file 2>/dev/null \
    --remote=punix:"$dir/db.sock" "$dir/conf.db"
python3 "$srcdir/tests/wire-sender.py" "$dir/wire.sock" "$dir/sent" &
sender=$!
wait_for "test -S '$dir/wire.sock'"
start_eswitchd
ovs-vsctl --no-wait init -- set Open_vSwitch . \
    other_config:hw-offload=true other_config:eswitch-host-io=capture \
    other_config:max-idle=600000 \
    "other_config:eswitch-uplink-wire=unix:$dir/wire.sock"
start_vswitchd
ovs-vsctl add-br br0 -- set bridge br0 datapath_type=dummy fail_mode=secure \
    -- add-port br0 p0 -- set interface p0 type=esw-uplink ofport_request=1 \
    -- add-port br0 pf0vf0 -- set interface pf0vf0 type=esw-vf ofport_request=2 \
    -- add-port br0 pf0vf1 -- set interface pf0vf1 type=esw-vf ofport_request=3
{
    echo "ip,nw_dst=10.0.0.2,actions=output:pf0vf0"
    echo "ip,nw_dst=10.0.0.3,actions=output:pf0vf1"
    i=0
    while [ $i -lt $n_rules ]; do
        echo "ip,nw_dst=10.1.$((i / 250)).$((i % 250 + 1)),actions=output:pf0vf1"
        i=$((i + 1))
    done
} > "$dir/flows"
ovs-ofctl add-flows br0 "$dir/flows"
wait_for "ovs-appctl eswitch/show | grep -q 'wire: connects, connected'"
kill -USR2 "$sender"
wait_for "[ \$(offloaded 10.0.0.2) = 1 ]"

# scenario_vswitchd: ovs-vswitchd restarts as ovs-ctl restarts it.
scenario_vswitchd () {
    window_begin
    t0=$(now_ms)
    pid=$(cat "$dir/ovs-vswitchd.pid")
    ovs-vsctl set Open_vSwitch . other_config:flow-restore-wait=true
    ovs-appctl exit
    poll_until 'gone "$pid"'
    start_vswitchd
    wait_for "ovs-ofctl show br0 >/dev/null 2>&1"
    ovs-ofctl add-flows br0 "$dir/flows"
    ovs-vsctl remove Open_vSwitch . other_config flow-restore-wait
    # A new flow: frames to 10.0.0.3 until it is offloaded.
    poll_until 'kill -USR1 "$sender"; [ "$(offloaded 10.0.0.3)" = 1 ]'
    newflow_vswitchd=$(($(now_ms) - t0))
    # The rule of the 10.0.0.2 flow, which OVS did not re-create, goes
    # 10 s later (its frames go through OVS meanwhile) and comes back.
    poll_until "grep -q 'reconciliation with the rules' '$dir/ovs-vswitchd.log'"
    wait_for "[ \$(offloaded 10.0.0.2) = 1 ]"
    window_end
    lost_vswitchd=$lost gap_vswitchd=$gap rules_vswitchd=- own_vswitchd=-
    pause_vswitchd=-
}

# scenario_device: ovs-eswitchd is killed and started again.
scenario_device () {
    # Rules to re-program: a frame from pf0vf0 to each of the other flows.
    i=0
    while [ $i -lt $n_rules ]; do
        ovs-appctl eswitch/inject pf0vf0 "in_port(1),eth(src=02:65:00:02:00:00,dst=02:65:00:02:00:01),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.1.$((i / 250)).$((i % 250 + 1)),proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)" >/dev/null
        i=$((i + 1))
    done
    wait_for "[ \$(offloaded 10.1.) = $n_rules ]"
    n_back=$(grep -c 'ovs-eswitchd back' "$dir/ovs-vswitchd.log" || true)
    window_begin
    t0=$(now_ms)
    pid=$(cat "$dir/ovs-eswitchd.pid")
    kill -9 "$pid"
    poll_until 'gone "$pid"'
    start_eswitchd
    poll_until '[ "$(grep -c "ovs-eswitchd back" "$dir/ovs-vswitchd.log")" -gt "$n_back" ]'
    rules_device=$(($(now_ms) - t0))
    own_device=$(grep 'ovs-eswitchd back' "$dir/ovs-vswitchd.log" | tail -1 \
                 | sed 's/.* re-programmed in \([0-9]*\) ms.*/\1/')
    wait_for "ovs-appctl eswitch/show | grep -q 'wire: connects, connected'"
    window_end
    lost_device=$lost gap_device=$gap newflow_device=- pause_device=-
}

# scenario_update: a live update of ovs-eswitchd, after the device
# restart (the same rules in the device).
scenario_update () {
    window_begin
    t0=$(now_ms)
    ovs-eswitchctl update --start > /dev/null
    rules_update=$(($(now_ms) - t0))
    pause_update=$(ovs-eswitchctl update --status \
                   | sed -n 's/.*paused: \([0-9.]*\) ms/\1/p')
    window_end
    lost_update=$lost gap_update=$gap newflow_update=- own_update=-
}

scenarios="vswitchd device update"
label_vswitchd="ovs-vswitchd restart"
label_device="device restart"
label_update="live update"
for s in $scenarios; do
    "scenario_$s"
done

echo "offloaded flow at 1 frame/ms through a wire uplink; $n_rules more rules in the device"
row () {
    printf "%-50s" "$1"
    for s in $scenarios; do
        eval "printf ' %22s' \"\${$2_$s}\""
    done
    printf '\n'
}
row "" label
row "frames lost on the offloaded flow" lost
row "forwarding gap (ms)" gap
row "new flow offloaded after (ms)" newflow
row "all rules re-programmed after (ms)" rules
row "  of which the driver re-programming (ms)" own
row "forwarding paused, as ovs-eswitchd measured (ms)" pause
