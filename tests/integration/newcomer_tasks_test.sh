#!/bin/sh
# `tasks test` records nothing, writes the try's log to the terminal, and reads the upstream XComs of the
# run it is given (by run id or logical date), as Airflow's does (issue: "the newcomer path").
. "$top_srcdir/tests/integration/lib.sh"
mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/dags/tt.yaml" <<'DAG'
dag_id: tt
schedule: null
tasks:
  extract:
    operator: shell
    command: "echo extracted-$RANDOM-{{ var.who }}"
  transform:
    operator: shell
    upstream: [extract]
    command: "echo transforming {{ xcom.extract }}"
DAG
expect_exit 0 "$MLFLOWD" variables set who world
expect_exit 0 "$MLFLOWD" dags trigger tt --run-id r1 --logical-date 2024-03-01
expect_exit 0 "$MLFLOWD" tasks run tt extract r1
value=$(echo "$out" | grep -o 'extracted-[0-9]*-world' | head -1)
[ -n "$value" ] || fail "extract did not run: $out"
logs="$MLFLOWD_HOME/logs"
before=$(find "$logs" -type f | sort | xargs cat | cksum)

# by run id: the upstream XCom of r1, the log on the terminal
expect_exit 0 "$MLFLOWD" tasks test tt transform r1
case "$out" in *"transforming $value"*) ;; *) fail "tasks test did not read r1's XCom ($value): $out" ;; esac
# by logical date: the same run
expect_exit 0 "$MLFLOWD" tasks test tt transform 2024-03-01
case "$out" in *"transforming $value"*) ;; *) fail "tasks test by date did not read r1's XCom: $out" ;; esac
# testing the task that already ran: a fresh try, not appended to the real one
expect_exit 0 "$MLFLOWD" tasks test tt extract r1
case "$out" in *extracted-*-world*) ;; *) fail "tasks test of extract printed no log: $out" ;; esac

# nothing recorded: the logs, the TI states and the XCom are as before
after=$(find "$logs" -type f | sort | xargs cat | cksum)
[ "$before" = "$after" ] || fail "tasks test changed the logs under $logs"
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run tt r1 -o json
json_check '[(t["task_id"], t["state"], t["try_number"]) for t in d] == [("extract", "success", 1), ("transform", "none", 0)]'

# a run that does not exist, a date without a run (runs alone, upstream XCom None)
expect_exit 2 "$MLFLOWD" tasks test tt transform no_such_run
case "$err" in *"neither a date nor a run of DAG tt"*) ;; *) fail "bad run id: $err" ;; esac
expect_exit 0 "$MLFLOWD" tasks test tt transform 2024-05-01
case "$out" in *"transforming None"*|*"transforming "*) ;; *) fail "tasks test without a run: $out" ;; esac
expect_exit 0 "$MLFLOWD" dags list-runs tt -o json
json_check 'len(d) == 1'
echo "tasks test ok"
