#!/bin/sh
# Restart safety: SIGKILL the scheduler in the middle of a run and start it again. The run completes; a task
# that succeeded before the kill never runs again; the try that was running when it died (its process died
# with the scheduler) fails as a zombie and is retried; the store passes `db check` throughout.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
marks="$tmp/marks"
cat >"$tmp/dags/restart.yaml" <<YAML
dag_id: restart
schedule: null
default_args: {retries: 1, retry_delay: 0s}
tasks:
  first:  {operator: shell, command: "echo first >> $marks"}
  slow:   {operator: shell, upstream: first, command: "echo \$\$ > $tmp/slow.pid; echo slow-start >> $marks; [ \$MLFLOWD_CTX_TRY_NUMBER -gt 1 ] || sleep 30; echo slow-end >> $marks"}
  last:   {operator: shell, upstream: slow, command: "echo last >> $marks"}
YAML
export MLFLOWD_DAGS_FOLDER="$tmp/dags"

start_scheduler() {
    "$MLFLOWD" scheduler >>"$tmp/scheduler.log" 2>&1 &
    sched=$!
}
state_of() { "$MLFLOWD" tasks state restart "$1" "$run" 2>/dev/null || echo unknown; }
wait_for() { # TASK STATE SECONDS
    i=0
    while [ "$(state_of "$1")" != "$2" ]; do
        i=$((i + 1)); [ $i -le $(($3 * 10)) ] || { cat "$tmp/scheduler.log"; fail "$1 did not reach $2"; }
        sleep 0.1
    done
}

expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger restart --run-id r1
run=r1
start_scheduler
wait_for first success 15
wait_for slow running 15
sleep 0.5
kill -9 "$sched"
wait "$sched" 2>/dev/null || true
# the running try's process group died with the scheduler: its shell (sleeping 30 s) is gone, not merely quiet
slow_pid=$(cat "$tmp/slow.pid")
i=0
while kill -0 "$slow_pid" 2>/dev/null && [ "$(ps -o stat= -p "$slow_pid" | cut -c1)" != Z ]; do
    i=$((i + 1)); [ $i -le 100 ] || fail "the slow task (pid $slow_pid) kept running after the scheduler was killed"
    sleep 0.1
done
grep -q slow-end "$marks" && fail "the slow task finished after the scheduler was killed"
expect_exit 0 "$MLFLOWD" db check

start_scheduler
i=0
until [ "$("$MLFLOWD" dags state restart r1 2>/dev/null)" = success ]; do
    i=$((i + 1)); [ $i -le 200 ] || { cat "$tmp/scheduler.log"; fail "the run did not finish after the restart"; }
    sleep 0.1
done
kill -TERM "$sched"
wait "$sched" || fail "the scheduler did not stop cleanly on SIGTERM"

[ "$(grep -c '^first$' "$marks")" -eq 1 ] || fail "first ran $(grep -c '^first$' "$marks") times"
[ "$(grep -c '^slow-start$' "$marks")" -eq 2 ] || fail "slow started $(grep -c '^slow-start$' "$marks") times, expected 2"
[ "$(grep -c '^slow-end$' "$marks")" -eq 1 ] || fail "slow finished $(grep -c '^slow-end$' "$marks") times"
[ "$(grep -c '^last$' "$marks")" -eq 1 ] || fail "last ran $(grep -c '^last$' "$marks") times"
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run restart r1 -o json
json_check '{t["task_id"]: (t["state"], t["try_number"]) for t in d} == {"first": ("success", 1), "slow": ("success", 2), "last": ("success", 1)}'
grep -q 'zombie' "$tmp/scheduler.log" || fail "the zombie was not reported"
expect_exit 0 "$MLFLOWD" db check
echo "restart ok"
