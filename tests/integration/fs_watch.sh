#!/bin/sh
# The fs_watch event source (plugins/fs_watch, doc/assets.md) under a running scheduler: a DAG file declares
# a folder's asset with `watch: {source: fs_watch}`; a file dropped into the folder (written elsewhere, then
# moved in) triggers the consumer DAG, which sees the file's path in triggering_asset_events; a hidden file
# or one the pattern does not match triggers nothing; a misspelt source is a load error with "did you mean".
. "$top_srcdir/tests/integration/lib.sh"
require_plugins fs_watch

mkdir -p "$tmp/dags" "$tmp/incoming" "$tmp/staging"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/dags/ingest.yaml" <<EOF2
dag_id: ingest
schedule: {assets: ["file://$tmp/incoming"]}
assets:
  "file://$tmp/incoming":
    watch: {source: fs_watch, config: {path: "$tmp/incoming", pattern: "*.csv"}}
tasks:
  load:
    operator: shell
    command: "echo '{{ triggering_asset_events | tojson }}' >> $tmp/loaded"
EOF2
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags list-import-errors
case "$out" in *"No import errors"*) ;; *) fail "import errors: $out" ;; esac
expect_exit 0 "$MLFLOWD" plugins list -o json
json_check 'any(e["name"] == "fs_watch" for p in d for e in p.get("event_sources", []))'

"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
trap 'rc=$?; kill $sched 2>/dev/null; cleanup $rc' EXIT
wait_until 10 "the watch did not start: $(cat "$tmp/sched.log")" grep -q "event source fs_watch started" "$tmp/sched.log"

runs() { "$MLFLOWD" dags list-runs ingest -o json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
loaded() { if [ -f "$tmp/loaded" ]; then wc -l <"$tmp/loaded"; else echo 0; fi; }
loaded_ge() { [ "$(loaded)" -ge "$1" ]; }

# ignored: a hidden file and a name the pattern does not match
echo x >"$tmp/incoming/.partial.csv"
echo x >"$tmp/incoming/notes.txt"
# a file published by rename
printf 'a,b\n1,2\n' >"$tmp/staging/day1.csv"
mv "$tmp/staging/day1.csv" "$tmp/incoming/day1.csv"
wait_until 10 "the dropped file did not trigger a run: $(tail -5 "$tmp/sched.log")" loaded_ge 1
grep -q "\"path\": *\"$tmp/incoming/day1.csv\"" "$tmp/loaded" || fail "the run does not see the file: $(cat "$tmp/loaded")"
grep -q '"size": *8' "$tmp/loaded" || fail "the file's size is missing: $(cat "$tmp/loaded")"
grep -q "notes.txt\|partial" "$tmp/loaded" && fail "an ignored file was an event: $(cat "$tmp/loaded")"
# latency by the daemon's own clock: the event recorded -> the consumer's run created
t0=$(log_ms "$tmp/sched.log" "asset file://.* updated .* by event source fs_watch")
t1=$(log_ms "$tmp/sched.log" "created DAG run ingest/asset_triggered__")
echo "file event -> run created: $((t1 - t0)) ms"
[ $((t1 - t0)) -lt "$(scaled 1000)" ] || fail "the run was created $((t1 - t0)) ms after the event"

# a second file written in place (closed after writing): a second run
printf 'c,d\n' >"$tmp/incoming/day2.csv"
wait_until 10 "the second file did not trigger a run" loaded_ge 2
tail -1 "$tmp/loaded" | grep -q day2.csv || fail "the second run does not see day2.csv: $(tail -1 "$tmp/loaded")"
sleep 1.2 # no run for the ignored files, nor a second one for a file
[ "$(runs)" = 2 ] || fail "two files made $(runs) runs"
expect_exit 0 "$MLFLOWD" assets events "file://$tmp/incoming" -o json
json_check 'len(d) == 2 and all(e["source"] == "watch:fs_watch" for e in d)'
stop_pid "$sched" "the scheduler"
trap cleanup EXIT

# a misspelt source is a load error at the declaration
cat >"$tmp/dags/typo.yaml" <<EOF2
dag_id: typo
assets:
  "file://$tmp/other": {watch: {source: fs_wach, config: {path: "$tmp"}}}
tasks:
  t: {operator: empty}
EOF2
expect_exit 0 "$MLFLOWD" dags list-import-errors
case "$out" in *"typo.yaml:3:3: assets: 'file://$tmp/other': watch: no event source named 'fs_wach' is loaded (did you mean 'fs_watch'?)"*) ;;
    *) fail "no load error for the misspelt source: $out" ;; esac
echo "fs_watch ok"
