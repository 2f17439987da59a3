#!/bin/sh
# The scheduler's Prometheus /metrics (scheduler.metrics_listen): scraped while it runs real DAG runs and
# parsed strictly with Debian's python3-prometheus-client; values match the store.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/web_lib.sh"
sched_pid=
trap 'rc=$?; [ -n "$sched_pid" ] && kill "$sched_pid" 2>/dev/null; wait 2>/dev/null; cleanup $rc' EXIT
py=/usr/bin/python3
"$py" -c 'import prometheus_client' 2>/dev/null || { echo "SKIP: python3-prometheus-client is not installed"; exit 77; }

web_dags # etl failed once, ok succeeded once (3 + 2 task instances, 2 runs)
: >"$tmp/sched.log" # before the background start: the loop below may read it first
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
# and one that fails: extract succeeds, transform fails (no retries), load never runs
expect_exit 0 "$MLFLOWD" dags trigger etl --run-id scraped-etl
for _ in $(seq 1 100); do
    [ "$("$MLFLOWD" dags state etl scraped-etl 2>/dev/null)" = failed ] && break
    sleep 0.2
done
[ "$("$MLFLOWD" dags state etl scraped-etl)" = failed ] || fail "the triggered etl run did not fail"
# every run this scheduler made (the triggered ones, and etl's latest scheduled run) has ended
for _ in $(seq 1 100); do
    "$MLFLOWD" dags list-runs etl -o json >"$tmp/runs-etl.json"
    "$MLFLOWD" dags list-runs ok -o json >"$tmp/runs-ok.json"
    cat "$tmp/runs-etl.json" "$tmp/runs-ok.json" | grep -q '"state": "\(running\|queued\)"' || break
    sleep 0.2
done
curl -sS -m 10 -D "$tmp/mh" -o "$tmp/metrics" "$murl" || fail "scrape failed"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/mh" || fail "content type: $(cat "$tmp/mh")"
"$py" - "$tmp/metrics" "$MLFLOWD" <<'PY' || fail "metrics check failed: $(cat "$tmp/metrics")"
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
# tries: counted by the loop, compared with the store's task instances of the runs this scheduler ran (the
# runs of 2024-01-01 ran earlier, in `dags test`)
import json, subprocess
cli = lambda *a: json.loads(subprocess.run([sys.argv[2], *a, "-o", "json"], check=True, capture_output=True).stdout)
tis, alltis, runstates = [], [], {}
for dag in ("etl", "ok"):
    for run in cli("dags", "list-runs", dag):
        assert run["state"] in ("success", "failed"), run
        runstates[run["state"]] = runstates.get(run["state"], 0) + 1
        rt = [dict(t, dag_id=dag) for t in cli("tasks", "states-for-dag-run", dag, run["run_id"])]
        alltis += rt
        if run["run_id"] != "manual__2024-01-01T00:00:00+00:00":
            tis += rt
# the gauges of task instances and runs by state: what the store holds
ti = {dict(k)["state"]: v for k, v in samples("mlflowd_task_instances").items()}
want_ti = {}
for t in alltis:
    want_ti[t["state"]] = want_ti.get(t["state"], 0) + 1
assert {k: v for k, v in ti.items() if v} == want_ti and want_ti["failed"] >= 2, (ti, want_ti)
runs = {dict(k)["state"]: v for k, v in samples("mlflowd_dag_runs").items()}
assert {k: v for k, v in runs.items() if v} == runstates and runstates["failed"] >= 2, (runs, runstates)
tried = [t for t in tis if t["try_number"] > 0]
assert len(tried) >= 4, tis  # ok: one, two; etl: extract, transform (load is upstream_failed: never tried)
# (the parser names a counter's family without its _total: look samples up by their own name)
val = lambda n: [x.value for f in fams.values() for x in f.samples if x.name == n][0]
assert val("mlflowd_task_tries_started_total") == sum(t["try_number"] for t in tried), (val("mlflowd_task_tries_started_total"), tis)
assert val("mlflowd_task_tries_finished_total") == val("mlflowd_task_tries_started_total")
assert val("mlflowd_task_tries_failed_total") == sum(t["state"] == "failed" for t in tried) >= 1, tis
assert val("mlflowd_zombie_tries_total") == 0
assert val("mlflowd_task_duration_dropped_total") == 0
dur = fams["mlflowd_task_duration_seconds"]
counts = {(s.labels["dag_id"], s.labels["task_id"]): s.value for s in dur.samples if s.name.endswith("_count")}
want = {}
for t in tried:
    want[(t["dag_id"], t["task_id"])] = want.get((t["dag_id"], t["task_id"]), 0) + t["try_number"]
assert counts == want, (counts, want)
sums = {(s.labels["dag_id"], s.labels["task_id"]): s.value for s in dur.samples if s.name.endswith("_sum")}
assert all(0 < v < 30 for v in sums.values()), sums
parse = [s.value for s in fams["mlflowd_dag_file_parse_duration_seconds"].samples if s.name.endswith("_count")][0]
assert parse >= 2, parse  # etl.yaml and ok.yaml, parsed at start
assert val("mlflowd_dag_import_errors") == 0
print("metrics ok:", len(fams), "families")
PY
curl -s -o /dev/null -w '%{http_code}' "${murl%/metrics}/other" | grep -q 404 || fail "a path other than /metrics is not 404"
kill "$sched_pid"
wait "$sched_pid" || true
sched_pid=
