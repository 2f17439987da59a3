#!/bin/sh
# The scheduler is SIGKILLed while a worker runs a task, then restarted on the same endpoint: the worker keeps
# the task running, reconnects, reports it; the restarted scheduler finds the task's lease in the store and
# takes the try back instead of failing it as a zombie. The run completes; nothing that succeeded before the
# kill runs again, and the task in flight is not run twice.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/zmq_lib.sh"

marks="$tmp/marks"
cat >"$tmp/dags/zr.yaml" <<YAML
dag_id: zr
default_args: {retries: 2, retry_delay: 0s}
tasks:
  first: {operator: shell, command: "echo first >> $marks"}
  slow:  {operator: shell, upstream: first, command: "echo slow-start >> $marks; sleep 4; echo slow-end >> $marks"}
  last:  {operator: shell, upstream: slow, command: "echo last >> $marks"}
YAML
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger zr --run-id r1
start_scheduler
start_worker w1 --concurrency 2
wait_log "$marks" slow-start 30
kill -9 "$sched"
wait "$sched" 2>/dev/null || true
forget_pid "$sched"
sleep 0.5
# the same endpoint: the worker reconnects to it
MLFLOWD__EXECUTOR=zmq MLFLOWD__ZMQ__BIND=$endpoint "$MLFLOWD" scheduler >>"$slog.2" 2>&1 &
sched=$!
pids="$pids $sched"
wait_log "$slog.2" "still leased to a worker" 20
wait_run zr r1 success 60
[ "$(grep -c '^first$' "$marks")" -eq 1 ] || fail "first ran $(grep -c '^first$' "$marks") times"
[ "$(grep -c '^slow-start$' "$marks")" -eq 1 ] || fail "slow started $(grep -c '^slow-start$' "$marks") times: the try was not taken back"
[ "$(grep -c '^slow-end$' "$marks")" -eq 1 ] || fail "slow finished $(grep -c '^slow-end$' "$marks") times"
[ "$(grep -c '^last$' "$marks")" -eq 1 ] || fail "last ran $(grep -c '^last$' "$marks") times"
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run zr r1 -o json
json_check '{t["task_id"]: (t["state"], t["try_number"]) for t in d} == {"first": ("success", 1), "slow": ("success", 1), "last": ("success", 1)}'
stop_all
expect_exit 0 "$MLFLOWD" db check
echo "zmq restart ok"
