#!/bin/sh
# The web UI in a real headless Chromium (Debian's chromium, driven over the DevTools protocol by
# tests/browser/ui_test.py): login, DAG list with the import errors banner, pause toggle (checked in the
# store), grid (the failed task red), graph, Gantt, a try's log, trigger with conf, mark success, clear,
# and a 1,000-task x 25-run DAG. Screenshots stay in tests/integration/web_browser.screenshots/.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/web_lib.sh"
trap 'rc=$?; web_stop; cleanup $rc' EXIT

py=/usr/bin/python3 # Debian's, which has python3-websocket
command -v chromium >/dev/null || { echo "SKIP: chromium is not installed (scripts/bootstrap.sh deps)"; exit 77; }
"$py" -c 'import websocket' 2>/dev/null || { echo "SKIP: python3-websocket is not installed"; exit 77; }

web_dags
printf 'dag_id: broken\ntasks: [this is not a task map\n' >"$tmp/dags/broken.yaml"
# a mapped task of three instances, the middle one failing
cat >"$tmp/dags/fan.yaml" <<'YAML'
dag_id: fan
schedule: null
tasks:
  pick: {operator: shell, expand: {command: ["echo a", "exit 3", "echo c"]}}
  after: {operator: shell, upstream: pick, command: "echo after", trigger_rule: all_done}
YAML
"$MLFLOWD" dags test fan >/dev/null 2>&1 || fail "the fan DAG's run (its leaf succeeds) should succeed"
# a DAG of 1,000 tasks in 10 layers of 100 (each task waits for one of the layer before)
"$py" - "$tmp/dags/big.yaml" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("dag_id: big\nschedule: null\ntasks:\n")
    for layer in range(10):
        for i in range(100):
            up = ", upstream: t%d_%d" % (layer - 1, (i * 7) % 100) if layer else ""
            f.write("  t%d_%d: {operator: empty%s}\n" % (layer, i, up))
PY
expect_exit 0 "$MLFLOWD" users create ada --role admin --password 'ada-secret-1'
TOKEN=$("$MLFLOWD" users token ada 2>/dev/null)
web_start
RUN=$("$MLFLOWD" dags list-runs etl -o json | "$py" -c 'import json,sys; print(json.load(sys.stdin)[0]["run_id"])')

# 25 runs of the big DAG, through the API: each creates 1,000 task instances; most are marked success,
# every fifth failed
start=$(date +%s)
for i in $(seq 1 25); do
    day=$(printf '2024-01-%02d' "$i")
    http POST /api/v1/dags/big/dagRuns -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
        -d "{\"dag_run_id\": \"r$i\", \"logical_date\": \"${day}T00:00:00Z\"}"
    expect_status 200
    state=success
    [ $((i % 5)) -eq 0 ] && state=failed
    http PATCH "/api/v1/dags/big/dagRuns/r$i" -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \
        -d "{\"state\": \"$state\"}"
    expect_status 200
done
echo "25 runs x 1000 task instances created and marked through the API in $(($(date +%s) - start)) s"
t0=$(date +%s%N)
http GET '/api/v1/dags/big/grid?limit=25' -H "Authorization: Bearer $TOKEN"
expect_status 200
echo "grid of 1000 x 25 answered in $((($(date +%s%N) - t0) / 1000000)) ms, $(wc -c <"$tmp/body") bytes"

shots="$top_builddir/tests/integration/web_browser.screenshots"
rm -rf "$shots"
URL=$url MLFLOWD=$MLFLOWD SHOTS=$shots RUN=$RUN BIG=big timeout 240 "$py" "$top_srcdir/tests/browser/ui_test.py" ||
    fail "the UI test failed (screenshots so far in $shots)"
for f in login dags grid graph gantt log panel grid-mapped grid-1000x25; do
    [ -s "$shots/$f.png" ] || fail "no screenshot $f.png"
done
kill -0 "$web_pid" || fail "the webserver died"
web_stop check
