#!/bin/sh
# A worker in its own network namespace, behind a veth pair, loses its link mid-run. The scheduler binds the
# host end of the veth with CurveZMQ; one worker runs inside the namespace, one on the host. Cutting the link
# (the host end goes down: no RST, no FIN, packets just vanish) must be noticed by heartbeats alone: the
# namespaced worker is counted gone within about three heartbeats, its in-flight tries fail as zombies and are
# retried on the host worker, the run succeeds and no task runs twice at the same time. Restoring the link,
# the namespaced worker registers again and runs a new run by itself; its late results for the zombie tries
# change nothing. Needs root and iproute2 (network namespaces, veth); skips (77) otherwise.
. "$top_srcdir/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip "no 'ip' command (iproute2)"

ns="mlf-it-$$"
veth_h="mlfh$$"            # interface names are at most 15 characters
veth_n="mlfn$$"
net_cleanup() {
    ip link del "$veth_h" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
}
. "$top_srcdir/tests/integration/zmq_lib.sh"
trap 'st=$?; net_cleanup; (exit $st); zmq_cleanup' EXIT
trap 'exit 1' HUP INT TERM   # the EXIT trap then removes the namespace

ip netns add "$ns" 2>"$tmp/err" || skip "'ip netns add' failed: $(cat "$tmp/err")"
ip link add "$veth_h" type veth peer name "$veth_n" netns "$ns" 2>"$tmp/err" \
    || skip "cannot make a veth pair: $(cat "$tmp/err")"
# a /30 of 10.231.0.0/16 that no interface here uses yet
sub=""
for try in 0 1 2 3 4 5 6 7; do
    s=$(( ($$ + try * 37) % 250 + 1 ))
    if [ -z "$(ip -o addr show to "10.231.$s.0/30")" ]; then sub=$s; break; fi
done
[ -n "$sub" ] || skip "no free 10.231.x.0/30 subnet"
host_ip="10.231.$sub.1"
ip addr add "$host_ip/30" dev "$veth_h"
ip -n "$ns" addr add "10.231.$sub.2/30" dev "$veth_n"
ip -n "$ns" link set lo up
ip link set "$veth_h" up
ip -n "$ns" link set "$veth_n" up
host_netns=$(readlink /proc/self/ns/net)
ns_netns=$(ip netns exec "$ns" readlink /proc/self/ns/net)
[ "$host_netns" != "$ns_netns" ] || fail "the namespace is the host's"

# CurveZMQ: required for a bind that is not loopback (no --insecure here)
keys="$tmp/keys"
mkdir -p "$keys"
for k in scheduler nsw hw; do expect_exit 0 "$MLFLOWD" keys generate "$keys/$k.key"; done
cat "$keys/nsw.key.pub" "$keys/hw.key.pub" >"$keys/authorized_keys"
export MLFLOWD__ZMQ__CURVE__ENABLED=true
export MLFLOWD__ZMQ__CURVE__SECRET_KEY_FILE="$keys/scheduler.key"
export MLFLOWD__ZMQ__CURVE__AUTHORIZED_KEYS="$keys/authorized_keys"

# 40 short tasks; each records the network namespace it ran in and checks that no earlier try of its task is
# still alive (as zmq_failover.sh). A try lasts 0.3 s, less than the 0.75 s it takes to count a worker gone.
marks="$tmp/marks"
locks="$tmp/locks"
mkdir -p "$locks"
{
    echo "dag_id: cut"
    echo "schedule: null"
    echo "max_active_tasks: 16"
    echo "default_args: {retries: 2, retry_delay: 0s}"
    echo "tasks:"
    i=0
    while [ $i -lt 40 ]; do
        t=$(printf 't%02d' $i)
        # shellcheck disable=SC2016
        echo "  $t: {operator: shell, command: 'f=$locks/$t; p=\$(cat \$f 2>/dev/null); if [ -n \"\$p\" ] && grep -q \"done $t \" /proc/\$p/cmdline 2>/dev/null; then echo DOUBLE $t >> $marks; fi; echo \$\$ > \$f; echo start $t \$(readlink /proc/self/ns/net) >> $marks; sleep 0.3; echo done $t >> $marks'}"
        i=$((i + 1))
    done
} >"$tmp/dags/cut.yaml"
cat >"$tmp/dags/after.yaml" <<YAML
dag_id: after
schedule: null
tasks:
  where: {operator: shell, command: "readlink /proc/self/ns/net > $tmp/after.ns"}
YAML
export MLFLOWD__PARALLELISM=16

expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger cut --run-id r1
zmq_host=$host_ip
start_scheduler
wait_log "$slog" "CurveZMQ, 2 authorized key" 5

# the namespaced worker first, so that it gets a share of the run
ip netns exec "$ns" "$MLFLOWD" worker --connect "$endpoint" --name nsw --concurrency 3 \
    --server-key "$keys/scheduler.key.pub" --secret-key "$keys/nsw.key" >>"$tmp/nsw.log" 2>&1 &
nsw=$!
pids="$pids $nsw"
wait_log "$slog" "worker nsw .* ready" 10
# the host worker reaches the same address locally (it stays local while the veth is down)
start_worker hw --concurrency 3 --server-key "$keys/scheduler.key.pub" --secret-key "$keys/hw.key"
hw=$wpid
wait_log "$slog" "worker hw .* ready" 10

# cut once the namespaced worker has done some of the run and the run is far from over
i=0
until [ "$(grep -F " $ns_netns" "$marks" 2>/dev/null | wc -l)" -ge 6 ]; do
    i=$((i + 1)); [ $i -le 300 ] || { tail -30 "$slog"; cat "$tmp/nsw.log"; fail "the namespaced worker runs nothing"; }
    sleep 0.05
done
ip link set "$veth_h" down
cut_at=$(date +%s%N)
wait_log "$slog" "worker nsw .* is gone" "$(scaled 10)"
gone_at=$(log_ms "$slog" "worker nsw .* is gone")
ms=$((gone_at - cut_at / 1000000))
# liveness 3 x 250 ms, timed by the scheduler's own log line, with room for a loaded machine (x4 under the
# sanitizers)
[ $ms -le "$(scaled 2000)" ] || fail "the cut took $ms ms to notice"
gone=$(grep "worker nsw .* is gone" "$slog")
case "$gone" in *"stopped heartbeating"*) ;; *) fail "nsw was not dropped for missed heartbeats: $gone" ;; esac
case "$gone" in *"; 0 tries failed"*) fail "nsw held no tries at the cut: $gone" ;; esac
echo "$gone" | grep -q "tr[iy]e*s* failed" || fail "no zombie count in the log: $gone"

wait_run cut r1 success 60
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run cut r1 -o json
json_check 'len(d) == 40 and all(t["state"] == "success" for t in d)'
json_check 'any(t["try_number"] == 2 for t in d)'   # nsw's tries were retried
grep -q DOUBLE "$marks" && fail "a task ran twice at the same time: $(grep DOUBLE "$marks" | head -3)"
[ "$(grep '^done' "$marks" | sort -u | wc -l)" -eq 40 ] || fail "not every task completed"
# every retried task last started on the host: the namespace was unreachable
printf '%s' "$out" | python3 -c '
import json, sys
tries, marks, host = json.load(sys.stdin), sys.argv[1], sys.argv[2]
last = {}
for line in open(marks):
    w = line.split()
    if w[0] == "start":
        last[w[1]] = w[2]
bad = [t["task_id"] for t in tries if t["try_number"] >= 2 and last.get(t["task_id"]) != host]
sys.exit("retried outside the host namespace: %s" % bad if bad else 0)
' "$marks" "$host_netns" || fail "a retry did not run on the host worker"
grep -q "the scheduler at $endpoint has been silent" "$tmp/nsw.log" || fail "nsw did not notice the lost scheduler: $(cat "$tmp/nsw.log")"

# the link comes back: nsw registers again (its back-off is at most a few seconds by now), and alone
# runs a new run
ip link set "$veth_h" up
i=0
until [ "$(grep -c "worker nsw .* ready\|worker nsw .* reconnected" "$slog")" -ge 2 ]; do
    i=$((i + 1)); [ $i -le 400 ] || { tail -20 "$slog"; cat "$tmp/nsw.log"; fail "nsw did not come back"; }
    sleep 0.1
done
stop_pid "$hw" "the host worker"
forget_pid "$hw"
wait_log "$slog" "worker hw .* is gone" 10
expect_exit 0 "$MLFLOWD" dags trigger after --run-id r2
wait_run after r2 success 30
[ "$(cat "$tmp/after.ns")" = "$ns_netns" ] || fail "the new run did not run in the namespace"
# nsw's late results for its zombie tries changed nothing
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run cut r1 -o json
json_check 'len(d) == 40 and all(t["state"] == "success" for t in d)'
expect_exit 0 "$MLFLOWD" db check
stop_all
echo "netns cut ok ($ms ms to notice)"
