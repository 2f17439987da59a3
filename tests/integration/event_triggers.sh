#!/bin/sh
# Event triggers over HTTP (doc/assets.md, doc/api.md) under a running scheduler and webserver: a DAG run
# triggered with conf and an Idempotency-Key, sent twice, makes one run (the second answer names the same
# run); an asset event POSTed twice with one key records one event and its consumer runs once; a key reused
# for another request is a 409; an unknown asset a 404 with "did you mean"; a viewer may not post events.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/web_lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/dags/job.yaml" <<EOF2
dag_id: job
schedule: null
tasks:
  t: {operator: shell, command: "echo 'conf {{ dag_run.conf }}' >> $tmp/job.out"}
EOF2
cat >"$tmp/dags/on_feed.yaml" <<EOF2
dag_id: on_feed
schedule: {assets: [s3://vendor/feed]}
assets: {s3://vendor/feed: {external: true}}
tasks:
  t: {operator: shell, command: "echo '{{ triggering_asset_events }}' >> $tmp/feed.out"}
EOF2
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" users create ops --role op --password 'ops-secret-1'
expect_exit 0 "$MLFLOWD" users create eve --role viewer --password 'eve-secret-1'
O="Authorization: Bearer $("$MLFLOWD" users token ops 2>/dev/null)"
V="Authorization: Bearer $("$MLFLOWD" users token eve 2>/dev/null)"
J="Content-Type: application/json"
"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
trap 'rc=$?; web_stop; kill $sched 2>/dev/null; cleanup $rc' EXIT
wait_until 10 "the scheduler did not start" grep -q "scheduler running" "$tmp/sched.log"
: >"$tmp/web.log" # web_start reads it at once; the background webserver may not have created it yet
web_start

runs_of() { "$MLFLOWD" dags list-runs "$1" -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# 1. trigger with conf, twice with one key: one run
http POST /api/v1/dags/job/dagRuns -H "$O" -H "$J" -H "Idempotency-Key: order-17" -d '{"conf": {"order": 17}}'
expect_status 200
first=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dag_run_id"])')
http POST /api/v1/dags/job/dagRuns -H "$O" -H "$J" -H "Idempotency-Key: order-17" -d '{"conf": {"order": 17}}'
expect_status 200
json_check "d['dag_run_id'] == '$first'"
job_done() { [ "$(lines "$tmp/job.out")" -ge 1 ]; }
wait_until 20 "the triggered run did not run: $(tail -5 "$tmp/sched.log")" job_done
grep -q '"order":17' "$tmp/job.out" || fail "conf did not reach the task: $(cat "$tmp/job.out")"
[ "$(runs_of job)" = 1 ] || fail "one key made $(runs_of job) runs"
# without a key, a second trigger is a second run (the key is what deduplicates)
http POST /api/v1/dags/job/dagRuns -H "$O" -H "$J" -d '{"conf": {"order": 18}}'
expect_status 200
[ "$(runs_of job)" = 2 ] || fail "a keyless trigger did not make a run"
# the same key for another request
http POST /api/v1/dags/on_feed/dagRuns -H "$O" -H "$J" -H "Idempotency-Key: order-17" -d '{}'
expect_status 409

# 2. an asset event, twice with one key: one event, one consumer run
http POST /api/v1/assets/events -H "$O" -H "$J" -H "Idempotency-Key: feed-2024-05-01" -d '{"asset_uri": "s3://vendor/feed", "extra": {"file": "2024-05-01.csv"}}'
expect_status 201
json_check 'd == {"asset_uri": "s3://vendor/feed", "seq": 1, "replayed": False}'
http POST /api/v1/assets/events -H "$O" -H "$J" -H "Idempotency-Key: feed-2024-05-01" -d '{"asset_uri": "s3://vendor/feed", "extra": {"file": "2024-05-01.csv"}}'
expect_status 200
json_check 'd == {"asset_uri": "s3://vendor/feed", "seq": 1, "replayed": True}'
feed_done() { [ "$(lines "$tmp/feed.out")" -ge 1 ]; }
wait_until 10 "the consumer did not run" feed_done
sleep 1.2 # two periods of the scheduler's inbox: a second event would have made a second run by now
[ "$(runs_of on_feed)" = 1 ] || fail "one keyed event made $(runs_of on_feed) runs"
grep -q '"file":"2024-05-01.csv"' "$tmp/feed.out" || fail "the extra did not reach the consumer: $(cat "$tmp/feed.out")"
expect_exit 0 "$MLFLOWD" assets events s3://vendor/feed -o json
json_check 'len(d) == 1 and d[0]["source"] == "api"'

# 3. refusals
http POST /api/v1/assets/events -H "$O" -H "$J" -d '{"asset_uri": "s3://vendor/fede"}'
expect_status 404
printf '%s' "$out" | grep -q "did you mean 's3://vendor/feed'" || fail "no suggestion: $out"
http POST /api/v1/assets/events -H "$O" -H "$J" -d '{"asset_uri": "not a uri"}'
expect_status 400
http POST /api/v1/assets/events -H "$O" -H "$J" -d '{"asset_uri": "s3://vendor/feed", "extra": [1]}'
expect_status 400
http POST /api/v1/assets/events -H "$V" -H "$J" -d '{"asset_uri": "s3://vendor/feed"}'
expect_status 403
http POST /api/v1/assets/events -H "$J" -d '{"asset_uri": "s3://vendor/feed"}'
expect_status 401
[ "$(runs_of on_feed)" = 1 ] || fail "a refused request made a run"

web_stop check
stop_pid "$sched" "the scheduler"
trap cleanup EXIT
echo "event triggers ok"
