#!/bin/sh
# Retry delays: retry_exponential_backoff doubles retry_delay with each try (retry_delay * 2^(try-1)),
# max_retry_delay caps the doubling, and without it the delay stops at 24 h. Each delay is measured from the scheduler's log line of the failed try to
# the next try's own start (recorded by the task), so it is never shorter than the delay; its upper bound leaves
# room for starting a process on a loaded machine (x4 under the sanitizers).
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/dags/bo.yaml" <<YAML
dag_id: bo
tasks:
  exp: {operator: shell, command: "echo \$(date +%s%N) >> $tmp/exp.starts; exit 1", retries: 3, retry_delay: 300ms,
        retry_exponential_backoff: true}
  capped: {operator: shell, command: "echo \$(date +%s%N) >> $tmp/capped.starts; exit 1", retries: 3,
           retry_delay: 300ms, retry_exponential_backoff: true, max_retry_delay: 400ms}
  flat: {operator: shell, command: "echo \$(date +%s%N) >> $tmp/flat.starts; exit 1", retries: 2, retry_delay: 300ms}
YAML
expect_exit 1 "$MLFLOWD" dags test bo 2024-01-01 -o json
printf '%s\n' "$err" >"$tmp/sched.log"
json_check '{t["task_id"]: (t["state"], t["try_number"]) for t in d["task_instances"]} == {"exp": ("failed", 4), "capped": ("failed", 4), "flat": ("failed", 3)}'

# check TASK DELAY_MS...: the delay before each retry of TASK is at least DELAY_MS and at most DELAY_MS plus
# the slack
slack=$(scaled 500)
check() {
    task=$1; shift
    try=1
    for want in "$@"; do
        failed=$(log_ms "$tmp/sched.log" "/$task try $try failed")
        started=$(sed -n "$((try + 1))p" "$tmp/$task.starts")
        [ -n "$started" ] || fail "$task: no try $((try + 1)) started"
        got=$((started / 1000000 - failed))
        echo "$task: retry $try after $got ms (retry delay $want ms)"
        # the log line is written after the try's end is known; its ms are truncated: 1 ms of tolerance
        [ "$got" -ge $((want - 1)) ] || fail "$task: try $((try + 1)) started $got ms after try $try failed, before its delay of $want ms"
        [ "$got" -le $((want + slack)) ] || fail "$task: try $((try + 1)) started $got ms after try $try failed: its delay is $want ms"
        try=$((try + 1))
    done
}
check exp 300 600 1200
check capped 300 400 400
check flat 300 300

# The doubling stops at 24 h when max_retry_delay is not set (Airflow's cap): a first retry due in 30 h is due
# in 1 day. The scheduler's log says when the retry is due.
cat >"$tmp/dags/long.yaml" <<YAML
dag_id: long
tasks:
  t: {operator: shell, command: "exit 1", retries: 2, retry_delay: 30h, retry_exponential_backoff: true}
  u: {operator: shell, command: "exit 1", retries: 2, retry_delay: 5h, retry_exponential_backoff: true,
      max_retry_delay: 2h}
YAML
expect_exit 0 "$MLFLOWD" dags trigger long --run-id r1
"$MLFLOWD" scheduler >"$tmp/long.log" 2>&1 &
sched=$!
wait_until 20 "the long retries were not scheduled: $(cat "$tmp/long.log")" \
    sh -c "grep -q '/t try 1 failed .*; retrying in' '$tmp/long.log' && grep -q '/u try 1 failed .*; retrying in' '$tmp/long.log'"
stop_pid "$sched" "the scheduler"
grep -q "long/r1/t try 1 failed (command exited with code 1); retrying in 1d$" "$tmp/long.log" \
    || fail "a 30 h retry delay is not capped at 24 h: $(grep 'try 1 failed' "$tmp/long.log")"
grep -q "long/r1/u try 1 failed (command exited with code 1); retrying in 2h$" "$tmp/long.log" \
    || fail "max_retry_delay 2h does not cap a 5 h delay: $(grep 'try 1 failed' "$tmp/long.log")"
expect_exit 0 "$MLFLOWD" tasks state long t r1
[ "$out" = up_for_retry ] || fail "t should wait for its retry: $out"
echo "retry backoff ok"
