#!/bin/sh
# Callbacks: on_retry_callback, on_failure_callback and on_success_callback of tasks and DAGs call notifier
# plugins (here the test plugin's "record", which appends each event as JSON to a file), with their
# configuration validated when the DAG loads.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
export MLFLOWD__PLUGINS__PATH="$top_builddir/plugins,$top_builddir/tests/plugins"
export MLFLOWD__PLUGINS__LOAD="shell,empty,good"
ev="$tmp/events"
cat >"$tmp/dags/cb.yaml" <<YAML
dag_id: cb
on_failure_callback: {notifier: record, path: $ev}
tasks:
  ok: {operator: shell, command: "true", on_success_callback: {notifier: record, path: $ev}}
  bad:
    operator: shell
    command: "echo broken; exit 1"
    retries: 1
    retry_delay: 0s
    on_retry_callback: {notifier: record, path: $ev}
    on_failure_callback: {notifier: record, path: $ev}
YAML
expect_exit 1 "$MLFLOWD" dags test cb 2024-01-01
case "$err" in *"a notifier process"*) fail "a notifier process failed or hung: $err" ;; esac
# callbacks run in their own processes: wait for the four events (bounded), then check them
i=0
until [ "$(wc -l <"$ev" 2>/dev/null || echo 0)" -ge 4 ]; do
    i=$((i + 1)); [ $i -le "$(scaled 50)" ] || fail "only $(wc -l <"$ev" 2>/dev/null) callback events: $(cat "$ev" 2>/dev/null)"
    sleep 0.1
done
python3 - "$ev" <<'PY' || fail "callback events: $(cat "$ev" 2>/dev/null)"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1])]
got = sorted((e["callback"], e.get("task_id", "-"), e["state"]) for e in events)
want = sorted([("on_success_callback", "ok", "success"), ("on_retry_callback", "bad", "up_for_retry"),
               ("on_failure_callback", "bad", "failed"), ("on_failure_callback", "-", "failed")])
assert got == want, got
bad = [e for e in events if e.get("task_id") == "bad" and e["callback"] == "on_failure_callback"][0]
assert bad["try_number"] == 2 and bad["message"] == "command exited with code 1", bad
PY

# bad callback configuration is a load error with the position
cat >"$tmp/dags/cb.yaml" <<YAML
dag_id: cb
tasks:
  a: {operator: empty, on_failure_callback: {notifier: recrd, path: x}}
  b: {operator: empty, on_failure_callback: {notifier: record, pth: x}}
YAML
expect_exit 0 "$MLFLOWD" dags list-import-errors -o json
json_check 'any("no notifier plugin named \x27recrd\x27 is loaded (did you mean \x27record\x27?)" in e["message"] and e["line"] == 3 for e in d)'
json_check 'any("unknown key \x27pth\x27 for notifier \x27record\x27 (did you mean \x27path\x27?)" in e["message"] for e in d)'
json_check 'any("notifier \x27record\x27 requires \x27path\x27" in e["message"] for e in d)'
echo "callbacks ok"
