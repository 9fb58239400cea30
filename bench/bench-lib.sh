# bench-lib.sh: what the benchmark scripts share (sourced).
# Before sourcing, set 'bench' to the script's name ("bench-vhost").
#
# bench_args "$@": parses --ovs-dir=DIR --builddir=DIR [--quick] into
#     ovs_dir, builddir and secs (seconds per measurement: 3, or 1 with
#     --quick), puts our programs and OVS's on the PATH.
# bench_need_dpdk WHY: exits 0 with a "skipped" line unless the machine
#     has 2 CPUs (WHY says who gets them) and DPDK's virtio_user runs here.
# wait_for CONDITION [INTERVAL [TRIES]]: waits for a shell condition, checked
#     every INTERVAL seconds (0.1) at most TRIES times (200), else exits 1.

bench_args () {
    secs=3
    for arg; do
        case $arg in
            --ovs-dir=*) ovs_dir=${arg#*=} ;;
            --builddir=*) builddir=${arg#*=} ;;
            --quick) secs=1 ;;
            *) echo "usage: $0 --ovs-dir=DIR --builddir=DIR [--quick]" >&2
               exit 1 ;;
        esac
    done
    : "${ovs_dir:?--ovs-dir is required}" "${builddir:?--builddir is required}"
    PATH=$builddir/vswitchd-plugin:$builddir/utilities:$builddir/tests:$ovs_dir/utilities:$ovs_dir/ovsdb:$PATH
    export PATH
}

bench_need_dpdk () {
    if [ "$(nproc)" -lt 2 ]; then
        echo "$bench: needs 2 CPUs ($1 each get one): skipped"
        exit 0
    fi
    if ! test-virtio-user probe >/dev/null 2>&1; then
        echo "$bench: DPDK cannot run here: skipped"
        exit 0
    fi
}

wait_for () {
    i=0
    until eval "$1"; do
        i=$((i + 1))
        if [ $i -gt "${3:-200}" ]; then
            echo "$bench: timed out waiting for: $1" >&2
            exit 1
        fi
        sleep "${2:-0.1}"
    done
}
