#!/bin/sh
# The DAG folder under a running scheduler: a new file is loaded and its DAG runs; an edited task runs its new
# command; a file that stops parsing is an import error and the scheduler goes on; a deleted file's DAG is
# gone. Each step waits for the scheduler's own "DAG folder changed" log line.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
printf 'dag_id: one\nschedule: null\ntasks:\n  t: {operator: shell, command: "echo one-v1 >> %s/marks"}\n' "$tmp" >"$tmp/dags/one.yaml"
expect_exit 0 "$MLFLOWD" db init
"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
wait_until 10 "the scheduler did not start" grep -q "scheduler running" "$tmp/sched.log"

reloads() { grep -c "DAG folder changed" "$tmp/sched.log" || true; }
# wait_reload N: waits for the scheduler's Nth reload
wait_reload() { wait_until 20 "reload $1 did not happen: $(tail -5 "$tmp/sched.log")" sh -c "[ \$(grep -c 'DAG folder changed' '$tmp/sched.log') -ge $1 ]"; }
succeeded() { [ "$("$MLFLOWD" dags state "$1" "$2" 2>/dev/null)" = success ]; }

# a new DAG file: loaded without a restart, and its run goes through
printf 'dag_id: two\nschedule: null\ntasks:\n  t: {operator: shell, command: "echo two >> %s/marks"}\n' "$tmp" >"$tmp/dags/two.yaml.tmp"
mv "$tmp/dags/two.yaml.tmp" "$tmp/dags/two.yaml"
wait_reload 1
expect_exit 0 "$MLFLOWD" dags trigger two --run-id r1
wait_until 30 "the new DAG's run did not succeed" succeeded two r1
grep -qx two "$tmp/marks" || fail "the new DAG's task did not run"

# an edited DAG: the next run runs the new command
n=$(reloads)
printf 'dag_id: one\nschedule: null\ntasks:\n  t: {operator: shell, command: "echo one-v2 >> %s/marks"}\n' "$tmp" >"$tmp/dags/one.yaml.tmp"
mv "$tmp/dags/one.yaml.tmp" "$tmp/dags/one.yaml"
wait_reload $((n + 1))
expect_exit 0 "$MLFLOWD" dags trigger one --run-id r1
wait_until 30 "the edited DAG's run did not succeed" succeeded one r1
grep -qx one-v2 "$tmp/marks" || fail "the edited command did not run: $(cat "$tmp/marks")"
grep -qx one-v1 "$tmp/marks" && fail "the old command ran"

# a broken edit: an import error; the scheduler reloads and keeps running
n=$(reloads)
printf 'dag_id: one\ntasks: [not, a, map\n' >"$tmp/dags/one.yaml"
wait_reload $((n + 1))
expect_exit 0 "$MLFLOWD" dags list-import-errors -o json
json_check 'any(e["filename"].endswith("one.yaml") for e in d)'
kill -0 "$sched" || fail "the scheduler died on a broken DAG file"

# a deleted DAG file: the scheduler reloads, and the DAG is gone from it
n=$(reloads)
rm "$tmp/dags/two.yaml"
wait_reload $((n + 1))
expect_exit 2 "$MLFLOWD" dags trigger two --run-id r2
stop_pid "$sched" "the scheduler"
echo "dag reload ok"
