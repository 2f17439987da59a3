#!/bin/sh
# The scheduler's event socket (events.listen, doc/assets.md) under a running scheduler: an authorized
# CurveZMQ client (the home's worker key) sends an asset event and its consumer DAG runs; the same
# idempotency key twice makes one run; a trigger with conf makes a run with that conf; a client whose key is
# not in authorized_keys gets no answer, the refusal is logged and nothing runs; a malformed request gets an
# error reply and the daemon lives on.
. "$top_srcdir/tests/integration/lib.sh"

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
EP="ipc://$tmp/events.sock"
expect_exit 0 "$MLFLOWD" db init
MLFLOWD__EVENTS__LISTEN="$EP" "$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
trap 'rc=$?; kill $sched 2>/dev/null; cleanup $rc' EXIT
wait_until 10 "the scheduler did not start: $(tail -5 "$tmp/sched.log")" grep -q "scheduler running" "$tmp/sched.log"
grep -q "event socket on $EP (CurveZMQ" "$tmp/sched.log" || fail "no CurveZMQ event socket: $(cat "$tmp/sched.log")"

runs_of() { "$MLFLOWD" dags list-runs "$1" -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
send() { "$MLFLOWD" events send --endpoint "$EP" --timeout "$(scaled 5)" "$@"; }

# 1. an asset event, twice with one key: one event, one consumer run
out=$(send asset s3://vendor/feed --extra '{"file": "a.csv"}' --key feed-a) || fail "asset event refused: $out"
json_check 'd["ok"] is True and d["seq"] == 1 and d["replayed"] is False'
out=$(send asset s3://vendor/feed --extra '{"file": "a.csv"}' --key feed-a) || fail "replay refused: $out"
json_check 'd["ok"] is True and d["seq"] == 1 and d["replayed"] is True'
feed_done() { [ "$(lines "$tmp/feed.out")" -ge 1 ]; }
wait_until 10 "the consumer did not run: $(tail -5 "$tmp/sched.log")" feed_done
grep -q '"file":"a.csv"' "$tmp/feed.out" || fail "the extra did not reach the consumer: $(cat "$tmp/feed.out")"
sleep 1
[ "$(runs_of on_feed)" = 1 ] || fail "one keyed event made $(runs_of on_feed) runs"

# 2. a trigger with conf, twice with one key: one run, with that conf
out=$(send trigger job --conf '{"order": 17}' --key order-17) || fail "trigger refused: $out"
json_check 'd["ok"] is True and d["dag_id"] == "job" and d["replayed"] is False'
first=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
out=$(send trigger job --conf '{"order": 17}' --key order-17) || fail "trigger replay refused: $out"
json_check "d['ok'] is True and d['run_id'] == '$first' and d['replayed'] is True"
job_done() { [ "$(lines "$tmp/job.out")" -ge 1 ]; }
wait_until 20 "the triggered run did not run: $(tail -5 "$tmp/sched.log")" job_done
grep -q '"order":17' "$tmp/job.out" || fail "conf did not reach the task: $(cat "$tmp/job.out")"
[ "$(runs_of job)" = 1 ] || fail "one key made $(runs_of job) runs"

# 3. refusals: an unknown asset, an unknown DAG (error replies, exit 1)
out=$(send asset s3://vendor/fede) && fail "an unknown asset was accepted: $out"
json_check 'd["ok"] is False and "did you mean" in d["error"]'
out=$(send trigger nope) && fail "an unknown DAG was accepted: $out"
json_check 'd["ok"] is False'
out=$(send asset s3://vendor/feed --key "$(printf 'a\tb')") && fail "a control character in a key was accepted: $out"
json_check 'd["ok"] is False and "idempotency_key" in d["error"]'
out=$(send trigger on_feed --key order-17) && fail "a key reused for another request was accepted: $out"
json_check 'd["ok"] is False and "another request" in d["error"]'

# 4. a client key that is not in authorized_keys: no answer, refusal logged, nothing recorded
expect_exit 0 "$MLFLOWD" keys generate "$tmp/evil.key"
expect_exit 1 "$MLFLOWD" events send --endpoint "$EP" --timeout 2 --secret-key "$tmp/evil.key" trigger job
evil=$(sed -n '/^[^#]/{p;q}' "$tmp/evil.key.pub")
wait_until 5 "the refusal was not logged" grep -qF "public key $evil is not in the authorized keys" "$tmp/sched.log"
[ "$(runs_of job)" = 1 ] || fail "an unauthorized client made a run"

# 5. malformed requests: an error reply, the daemon lives on
printf '\301\301' >"$tmp/bad.bin"
out=$("$MLFLOWD" events send --endpoint "$EP" --timeout "$(scaled 5)" --raw "$tmp/bad.bin" trigger job) &&
    fail "a malformed request was accepted: $out"
json_check 'd["ok"] is False and "msgpack map" in d["error"]'
printf '\222\001\002' >"$tmp/arr.bin" # [1, 2]: valid msgpack, not a map
out=$("$MLFLOWD" events send --endpoint "$EP" --timeout "$(scaled 5)" --raw "$tmp/arr.bin" trigger job) &&
    fail "an array was accepted: $out"
json_check 'd["ok"] is False'
grep -q "event socket: a malformed request" "$tmp/sched.log" || fail "the malformed request was not logged"
kill -0 "$sched" || fail "the scheduler died"
out=$(send asset s3://vendor/feed --key feed-b) || fail "the socket stopped answering: $out"
json_check 'd["ok"] is True and d["seq"] == 2'

stop_pid "$sched" "the scheduler"
trap cleanup EXIT
