#!/bin/sh
# The scheduler's Prometheus /metrics (scheduler.metrics_listen): scraped while it runs real DAG runs and
# parsed strictly with Debian's python3-prometheus-client; values match the store.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/web_lib.sh"
sched_pid=
trap '[ -n "$sched_pid" ] && kill "$sched_pid" 2>/dev/null; wait 2>/dev/null; cleanup' EXIT
py=/usr/bin/python3
"$py" -c 'import prometheus_client' 2>/dev/null || { echo "SKIP: python3-prometheus-client is not installed"; exit 77; }

web_dags # etl failed once, ok succeeded once (3 + 2 task instances, 2 runs)
MLFLOWD__SCHEDULER__METRICS_LISTEN=127.0.0.1:0 MLFLOWD__EXECUTOR=local "$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched_pid=$!
murl=
for _ in $(seq 1 100); do
    murl=$(sed -n 's|.*scheduler metrics on \(http://[0-9.:]*/metrics\).*|\1|p' "$tmp/sched.log")
    [ -n "$murl" ] && break
    kill -0 "$sched_pid" 2>/dev/null || fail "the scheduler exited: $(cat "$tmp/sched.log")"
    sleep 0.1
done
[ -n "$murl" ] || fail "no metrics URL: $(cat "$tmp/sched.log")"
expect_exit 0 "$MLFLOWD" dags trigger ok --run-id scraped
# wait for the triggered run to finish, then scrape
for _ in $(seq 1 100); do
    [ "$("$MLFLOWD" dags state ok scraped 2>/dev/null)" = success ] && break
    sleep 0.2
done
[ "$("$MLFLOWD" dags state ok scraped)" = success ] || fail "the triggered run did not succeed"
curl -sS -m 10 -D "$tmp/mh" -o "$tmp/metrics" "$murl" || fail "scrape failed"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/mh" || fail "content type: $(cat "$tmp/mh")"
"$py" - "$tmp/metrics" <<'PY' || fail "metrics check failed: $(cat "$tmp/metrics")"
import re, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
fams = {f.name: f for f in text_string_to_metric_families(text)}  # raises on a malformed line
# conventions: mlflowd_ prefix, snake case, units in the name, counters end in _total, each family typed
for name, f in fams.items():
    assert re.fullmatch(r"mlflowd_[a-z0-9_]+", name), name
    assert f.type in ("gauge", "counter", "histogram"), (name, f.type)
    assert f.documentation, name
for line in text.splitlines():
    if line.startswith("# TYPE"):
        _, _, name, typ = line.split()
        assert typ != "counter" or name.endswith("_total"), line
def samples(name):
    return {tuple(sorted(s.labels.items())): s.value for s in fams[name].samples}
ti = {dict(k)["state"]: v for k, v in samples("mlflowd_task_instances").items()}
assert ti["success"] == 5, ti  # extract, ok's two, the scraped run's two
assert ti["failed"] == 1 and ti["upstream_failed"] == 1, ti
runs = {dict(k)["state"]: v for k, v in samples("mlflowd_dag_runs").items()}
assert runs["failed"] == 1 and runs["success"] >= 2, runs
loop = {s.name + str(sorted(s.labels.items())): s.value for s in fams["mlflowd_scheduler_loop_duration_seconds"].samples}
count = [s.value for s in fams["mlflowd_scheduler_loop_duration_seconds"].samples if s.name.endswith("_count")][0]
inf = [s.value for s in fams["mlflowd_scheduler_loop_duration_seconds"].samples if s.labels.get("le") == "+Inf"][0]
assert count >= 1 and inf == count, loop
buckets = [s.value for s in fams["mlflowd_scheduler_loop_duration_seconds"].samples if s.name.endswith("_bucket")]
assert buckets == sorted(buckets), buckets
assert list(samples("mlflowd_lmdb_map_size_bytes").values())[0] >= list(samples("mlflowd_lmdb_used_bytes").values())[0] > 0
slots = {dict(k)["kind"]: v for k, v in samples("mlflowd_executor_slots").items()}
assert slots["used"] + slots["free"] == 32, slots
assert "mlflowd_scheduler_heartbeat_timestamp_seconds" in fams
print("metrics ok:", len(fams), "families")
PY
curl -s -o /dev/null -w '%{http_code}' "${murl%/metrics}/other" | grep -q 404 || fail "a path other than /metrics is not 404"
kill "$sched_pid"
wait "$sched_pid" || true
sched_pid=
