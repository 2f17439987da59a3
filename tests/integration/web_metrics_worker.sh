#!/bin/sh
# A worker's Prometheus /metrics (worker.metrics_listen): after it ran a run of a DAG with one failing task,
# the scrape parses strictly (Debian's python3-prometheus-client) and its tries, heartbeats, result round
# trips and slots match what ran.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/zmq_lib.sh"
py=/usr/bin/python3
"$py" -c 'import prometheus_client' 2>/dev/null || skip "python3-prometheus-client is not installed"

cat >"$tmp/dags/wm.yaml" <<'YAML'
dag_id: wm
schedule: null
tasks:
  a: {operator: shell, command: "echo a"}
  b: {operator: shell, command: "echo b"}
  bad: {operator: shell, upstream: [a, b], command: "exit 3"}
YAML
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger wm --run-id r1
start_scheduler
MLFLOWD__WORKER__METRICS_LISTEN=127.0.0.1:0 start_worker w1 --concurrency 3
wait_log "$tmp/w1.log" "worker metrics on" 10
murl=$(sed -n 's|.*worker metrics on \(http://[0-9.:]*/metrics\).*|\1|p' "$tmp/w1.log")
wait_run wm r1 failed 30
sleep 1 # a few heartbeats both ways (250 ms), and the last ACK
curl -sS -m 10 -o "$tmp/metrics" "$murl" || fail "scrape failed"
"$py" - "$tmp/metrics" <<'PY' || fail "worker metrics check failed: $(cat "$tmp/metrics")"
import re, sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
fams = {f.name: f for f in text_string_to_metric_families(text)}  # raises on a malformed line
for name, f in fams.items():
    assert re.fullmatch(r"mlflowd_worker_[a-z0-9_]+", name) and f.documentation, name
for line in text.splitlines():
    if line.startswith("# TYPE"):
        _, _, name, typ = line.split()
        assert typ != "counter" or name.endswith("_total"), line
val = lambda n: [s.value for f in fams.values() for s in f.samples if s.name == n][0]
assert val("mlflowd_worker_tries_total") == 3, text          # a, b, bad: no retries
assert val("mlflowd_worker_tries_failed_total") == 1, text   # bad
assert val("mlflowd_worker_heartbeats_sent_total") >= 1 and val("mlflowd_worker_heartbeats_received_total") >= 1
rtt = fams["mlflowd_worker_result_rtt_seconds"].samples
count = [s.value for s in rtt if s.name.endswith("_count")][0]
assert count == 3, text                                    # each result acknowledged once
assert 0 < [s.value for s in rtt if s.name.endswith("_sum")][0] < 10
slots = {s.labels["kind"]: s.value for s in fams["mlflowd_worker_slots"].samples}
assert slots == {"used": 0, "free": 3}, slots              # all acknowledged: nothing held
print("worker metrics ok")
PY
stop_all
