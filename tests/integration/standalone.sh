#!/bin/sh
# `mlflowd standalone`: one command starts the scheduler, the zmq executor on a loopback port and local
# workers; the scheduled run of a DAG completes through the workers; Ctrl-C (SIGINT) stops everything, with
# no worker left behind.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
cat >"$tmp/dags/hourly.yaml" <<YAML
dag_id: hourly
schedule: "@hourly"
start_date: 2024-01-01
tasks:
  a: {operator: shell, command: "echo from \$MLFLOWD_CTX_TASK_ID > $tmp/ran"}
  b: {operator: empty, upstream: a}
YAML
"$MLFLOWD" standalone --dags-folder "$tmp/dags" --workers 2 --port 0 >"$tmp/standalone.log" 2>&1 &
pid=$!
i=0
until "$MLFLOWD" --dags-folder "$tmp/dags" dags list-runs hourly -o json 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if any(r["state"] == "success" for r in json.load(sys.stdin)) else 1)'; do
    i=$((i + 1)); [ $i -le 300 ] || { kill $pid; cat "$tmp/standalone.log"; fail "no successful run"; }
    sleep 0.1
done
grep -q 'workers:     2 local `mlflowd worker` processes on tcp://127.0.0.1:' "$tmp/standalone.log" || fail "banner: $(cat "$tmp/standalone.log")"
[ "$(cat "$tmp/ran")" = "from a" ] || fail "the task did not run"
endpoint=$(sed -n 's/.* processes on \(tcp:[^ ]*\) .*/\1/p' "$tmp/standalone.log" | head -1)
[ -n "$endpoint" ] || fail "no endpoint in the banner"
[ "$(pgrep -f -c -- "--connect $endpoint " || true)" -eq 2 ] || fail "expected 2 workers on $endpoint"
kill -INT $pid
wait $pid || fail "standalone did not exit 0 after SIGINT: $(tail -5 "$tmp/standalone.log")"
[ "$(pgrep -f -c -- "--connect $endpoint " || true)" -eq 0 ] || fail "workers left running on $endpoint"
echo "standalone ok"
