#!/bin/sh
# Assets under a running scheduler (doc/assets.md): a producer DAG's task updates an asset (with an extra
# pushed as the XCom asset_extra) and the consumer DAG runs once, within a second of the producer's task
# ending, seeing the event in {{ triggering_asset_events }}; events recorded with `assets create-event`
# while the consumer is paused collapse into one run when it is unpaused; an unknown asset is refused with
# "did you mean"; `assets graph` shows the lineage.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/produce.py" <<'PY'
print('MLFLOWD_XCOM {"key": "asset_extra", "value": {"rows": 42}}')
PY
cat >"$tmp/dags/producer.yaml" <<EOF2
dag_id: producer
schedule: null
tasks:
  build_features:
    operator: python
    script: $tmp/produce.py
    outlets: [s3://lake/features]
EOF2
cat >"$tmp/dags/consumer.yaml" <<EOF2
dag_id: consumer
schedule: {assets: [s3://lake/features]}
tasks:
  train:
    operator: shell
    command: "echo '{{ run_id }} {{ triggering_asset_events }}' >> $tmp/consumed"
EOF2
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags list-import-errors
"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
trap 'kill $sched 2>/dev/null; cleanup' EXIT
wait_until 10 "the scheduler did not start" grep -q "scheduler running" "$tmp/sched.log"

asset_runs() { "$MLFLOWD" dags list-runs consumer -o json | python3 -c 'import json,sys; print(sum(r["run_type"] == "asset_triggered" for r in json.load(sys.stdin)))'; }
asset_runs_ok() { [ "$(asset_runs)" -ge "$1" ] && [ "$(wc -l <"$tmp/consumed" 2>/dev/null || echo 0)" -ge "$1" ]; }

# 1. producer -> consumer
expect_exit 0 "$MLFLOWD" dags trigger producer --run-id p1
wait_until 30 "the producer did not succeed" sh -c "[ \"\$('$MLFLOWD' dags state producer p1)\" = success ]"
wait_until 10 "the consumer did not run: $(tail -5 "$tmp/sched.log")" asset_runs_ok 1
# latency: the producer task's end (its TI record) to the consumer run's start (its run record)
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run producer p1 -o json
end=$(python3 -c 'import json,sys,datetime; d=json.loads(sys.argv[1]); print(int(datetime.datetime.fromisoformat(d[0]["end_date"]).timestamp()*1000))' "$out")
expect_exit 0 "$MLFLOWD" dags list-runs consumer -o json
start=$(python3 -c 'import json,sys,datetime; d=json.loads(sys.argv[1]); print(int(datetime.datetime.fromisoformat(d[0]["start_date"]).timestamp()*1000))' "$out")
latency=$((start - end))
echo "producer task end -> consumer run start: ${latency} ms"
[ "$latency" -ge 0 ] && [ "$latency" -lt "$(scaled 1000)" ] || fail "the consumer started ${latency} ms after the producer's task ended"
grep -q '"dag_id":"producer"' "$tmp/consumed" || fail "triggering_asset_events does not name the producer: $(cat "$tmp/consumed")"
grep -q '"extra":{"rows":42}' "$tmp/consumed" || fail "the extra pushed by the task is missing: $(cat "$tmp/consumed")"
# one event, one run: after more than two inbox periods there is still exactly one
sleep 1.2
[ "$(asset_runs)" = 1 ] || fail "the consumer ran $(asset_runs) times for one event"
expect_exit 0 "$MLFLOWD" assets events s3://lake/features -o json
json_check 'len(d) == 1 and d[0]["run_id"] == "p1" and d[0]["task_id"] == "build_features" and d[0]["extra"] == {"rows": 42}'

# 2. a burst while paused: one run for three events, which it sees all
expect_exit 0 "$MLFLOWD" dags pause consumer
for i in 1 2 3; do expect_exit 0 "$MLFLOWD" assets create-event s3://lake/features --extra "{\"batch\": $i}"; done
sleep 1.2 # more than two inbox periods: a paused consumer does not run
[ "$(asset_runs)" = 1 ] || fail "a paused consumer ran"
expect_exit 0 "$MLFLOWD" dags unpause consumer
wait_until 10 "the unpaused consumer did not run" asset_runs_ok 2
sleep 1.2
[ "$(asset_runs)" = 2 ] || fail "three events made $(asset_runs) runs, not one more"
tail -1 "$tmp/consumed" | grep -q '"batch":1.*"batch":2.*"batch":3' || fail "the run does not see the three events: $(tail -1 "$tmp/consumed")"

# 3. refusals and the lineage graph
expect_exit 2 "$MLFLOWD" assets create-event s3://lake/featurez
printf "%s" "$err" | grep -q "did you mean 's3://lake/features'" || fail "no suggestion: $err"
expect_exit 2 "$MLFLOWD" assets create-event 'not a uri'
expect_exit 0 "$MLFLOWD" assets graph
printf "%s" "$out" | grep -q '"dag:producer" -> "asset:s3://lake/features"' || fail "graph: no producer edge: $out"
printf "%s" "$out" | grep -q '"asset:s3://lake/features" -> "dag:consumer"' || fail "graph: no consumer edge: $out"
expect_exit 0 "$MLFLOWD" assets list -o json
json_check 'd[0]["uri"] == "s3://lake/features" and d[0]["events"] == 4 and d[0]["producers"] == "producer.build_features"'

stop_pid "$sched" "the scheduler"
trap cleanup EXIT
echo "assets ok (latency ${latency} ms)"
