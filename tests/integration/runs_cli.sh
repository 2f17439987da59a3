#!/bin/sh
# dags backfill, tasks clear (picked up by a running scheduler), tasks run, tasks test (records nothing),
# tasks render, dags pause/unpause, and scheduled runs created by the daemon with catchup.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/dags/daily.yaml" <<YAML
dag_id: daily
schedule: "@daily"
start_date: 2024-01-01
params: {label: hello}
tasks:
  a: {operator: shell, command: "echo a-{{ ds }} >> $tmp/marks; echo {{ params.label }}-{{ ds_nodash }}"}
  b: {operator: shell, upstream: a, command: "echo b-{{ ds }} >> $tmp/marks; echo '{{ xcom.a }}'"}
YAML

expect_exit 0 "$MLFLOWD" dags backfill daily -s 2024-01-01 -e 2024-01-03
case "$out" in *"3 run(s) created, 3 succeeded, 0 failed"*) ;; *) fail "backfill summary: $out" ;; esac
expect_exit 0 "$MLFLOWD" dags list-runs daily -o json
json_check '[r["run_id"] for r in d] == ["backfill__2024-01-03T00:00:00+00:00", "backfill__2024-01-02T00:00:00+00:00", "backfill__2024-01-01T00:00:00+00:00"]'
json_check 'all(r["state"] == "success" and r["run_type"] == "backfill" for r in d)'
[ "$(grep -c '^a-2024-01-02$' "$tmp/marks")" -eq 1 ] || fail "a ran $(grep -c '^a-2024-01-02$' "$tmp/marks") times for 01-02"
# existing runs are kept; an end before the start is bad input
expect_exit 0 "$MLFLOWD" dags backfill daily -s 2024-01-01 -e 2024-01-01
case "$out" in *"0 run(s) created"*"already existed"*) ;; *) fail "second backfill: $out" ;; esac
expect_exit 2 "$MLFLOWD" dags backfill daily -s 2024-01-05 -e 2024-01-01
expect_exit 2 "$MLFLOWD" dags backfill daily -s 2024-01-05
case "$err" in *"needs -s START and -e END"*) ;; *) fail "backfill without -e: $err" ;; esac
expect_exit 2 "$MLFLOWD" dags backfill daily -s 2024-13-01 -e 2024-01-01
case "$err" in *"bad date '2024-13-01'"*) ;; *) fail "backfill bad date: $err" ;; esac
expect_exit 2 "$MLFLOWD" tasks clear daily -t '(unclosed'
case "$err" in *"bad --task-regex"*) ;; *) fail "clear with a bad regex: $err" ;; esac
expect_exit 2 "$MLFLOWD" standalone --workers 0
case "$err" in *"--workers: expected a whole number from 1 to 256"*) ;; *) fail "standalone --workers 0: $err" ;; esac
expect_exit 2 "$MLFLOWD" dags show dayly
case "$err" in *"DAG 'dayly' does not load (did you mean 'daily'?)"*) ;; *) fail "misspelt DAG: $err" ;; esac

# rendering a task as it would run on a date
expect_exit 0 "$MLFLOWD" tasks render daily a 2024-02-29 -o json
json_check 'd["command"] == "echo a-2024-02-29 >> '"$tmp"'/marks; echo hello-20240229"'

# tasks test: runs in the foreground, records nothing in the home's store
expect_exit 0 "$MLFLOWD" tasks test daily a 2024-03-01
case "$out" in *"Marking task as SUCCESS"*"finished: success"*) ;; *) fail "tasks test: $out" ;; esac
expect_exit 0 "$MLFLOWD" dags list-runs daily -o json
json_check 'len(d) == 3'

# clear b (and downstream) of one run; a scheduler started afterwards runs b again, and only b
run=backfill__2024-01-02T00:00:00+00:00
expect_exit 0 "$MLFLOWD" tasks clear daily -t '^b$' -s 2024-01-02 -e 2024-01-02 -y
case "$out" in *"Cleared 1 task instance"*) ;; *) fail "clear: $out" ;; esac
expect_exit 0 "$MLFLOWD" dags state daily "$run"
[ "$out" = queued ] || fail "a cleared run is queued again, got $out"
# paused: nothing runs, not even the cleared run (Airflow). The evidence that the scheduler had its chance:
# a run of another DAG, queued at the same time, completes meanwhile.
expect_exit 0 "$MLFLOWD" dags pause daily
printf 'dag_id: probe\nschedule: null\ntasks: {p: {operator: empty}}\n' >"$tmp/dags/probe.yaml"
expect_exit 0 "$MLFLOWD" dags trigger probe --run-id p1
"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
i=0
until [ "$("$MLFLOWD" dags state probe p1 2>/dev/null)" = success ]; do
    i=$((i + 1)); [ $i -le 150 ] || { kill $sched; cat "$tmp/sched.log"; fail "the probe run did not finish"; }
    sleep 0.1
done
expect_exit 0 "$MLFLOWD" dags state daily "$run"
[ "$out" = queued ] || { kill $sched; fail "a paused DAG's cleared run must wait, got $out"; }
# unpaused (picked up by the running daemon): the cleared run finishes, running b only; catchup is false
# (Airflow 3's default), so the daemon also creates exactly one scheduled run: the latest interval
expect_exit 0 "$MLFLOWD" dags unpause daily
i=0
until [ "$("$MLFLOWD" dags state daily "$run" 2>/dev/null)" = success ]; do
    i=$((i + 1)); [ $i -le 150 ] || { kill $sched; cat "$tmp/sched.log"; fail "the cleared run did not finish"; }
    sleep 0.1
done
[ "$(grep -c '^b-2024-01-02$' "$tmp/marks")" -eq 2 ] || fail "b should have run twice for 01-02"
[ "$(grep -c '^a-2024-01-02$' "$tmp/marks")" -eq 1 ] || fail "a must not run again"
expect_exit 0 "$MLFLOWD" tasks state daily b "$run"
[ "$out" = success ] || fail "b: $out"
i=0
until "$MLFLOWD" dags list-runs daily -o json 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if any(r["run_type"] == "scheduled" and r["state"] == "success" for r in json.load(sys.stdin)) else 1)'; do
    i=$((i + 1)); [ $i -le 150 ] || { kill $sched; cat "$tmp/sched.log"; fail "no scheduled run after unpause"; }
    sleep 0.1
done
kill -TERM $sched
wait $sched || fail "scheduler exit status"
expect_exit 0 "$MLFLOWD" dags list-runs daily -o json
json_check 'len([r for r in d if r["run_type"] == "scheduled"]) == 1'

# tasks run: one TI of an existing run, recorded
expect_exit 0 "$MLFLOWD" tasks run daily a backfill__2024-01-03T00:00:00+00:00
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run daily backfill__2024-01-03T00:00:00+00:00 -o json
json_check '{t["task_id"]: t["try_number"] for t in d} == {"a": 2, "b": 1}'
expect_exit 2 "$MLFLOWD" tasks run daily nosuch backfill__2024-01-03T00:00:00+00:00
expect_exit 0 "$MLFLOWD" db check
echo "runs cli ok"
