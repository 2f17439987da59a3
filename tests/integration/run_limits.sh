#!/bin/sh
# A running scheduler catching up on daily runs: max_active_runs (never more runs of a DAG at once; and as many
# as that do run together), and wait_for_downstream (a task of one run starts only after the same task and its
# direct downstreams succeeded in the previous run, although the runs are otherwise free to overlap).
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
# a task that records its start and end, and waits (up to 5 s) until a second one of its kind is running
cat >"$tmp/pair.sh" <<'SH'
echo "start $2" >> "$1"
i=0
while [ $(( $(grep -c start "$1") - $(grep -c end "$1") )) -lt 2 ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
sleep 0.1
echo "end $2" >> "$1"
SH
cat >"$tmp/dags/mar.yaml" <<YAML
dag_id: mar
schedule: "@daily"
start_date: 2024-01-01
end_date: 2024-01-06
catchup: true
max_active_runs: 2
tasks:
  t: {operator: shell, command: "sh $tmp/pair.sh $tmp/mar.marks {{ ds }}"}
YAML
cat >"$tmp/dags/wfd.yaml" <<YAML
dag_id: wfd
schedule: "@daily"
start_date: 2024-01-01
end_date: 2024-01-04
catchup: true
max_active_runs: 4
tasks:
  a: {operator: shell, wait_for_downstream: true, command: "echo a-start {{ ds }} \$(date +%s%N) >> $tmp/wfd.marks"}
  b: {operator: shell, upstream: a, command: "sleep 0.3; echo b-end {{ ds }} \$(date +%s%N) >> $tmp/wfd.marks"}
  c: {operator: shell, command: "echo c-start {{ ds }} \$(date +%s%N) >> $tmp/wfd.marks; sleep 0.5"}
YAML
expect_exit 0 "$MLFLOWD" db init
"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
# done_runs DAG: how many of DAG's runs succeeded
done_runs() {
    "$MLFLOWD" dags list-runs "$1" -o json 2>/dev/null | python3 -c 'import json,sys; print(sum(r["state"] == "success" for r in json.load(sys.stdin)))' 2>/dev/null || echo 0
}
all_done() {
    kill -0 "$sched" 2>/dev/null || { tail -30 "$tmp/sched.log"; fail "the scheduler stopped"; }
    [ "$(done_runs mar)" -ge 6 ] && [ "$(done_runs wfd)" -ge 4 ]
}
wait_until 60 "the catch-up runs did not all finish" all_done
stop_pid "$sched" "the scheduler"

# max_active_runs 2: two runs' tasks overlapped, never three
expect_exit 0 "$MLFLOWD" dags list-runs mar -o json
json_check 'len(d) == 6 and all(r["state"] == "success" for r in d)'
max=$(awk '/start/ {n++; if (n > m) m = n} /end/ {n--} END {print m}' "$tmp/mar.marks")
[ "$max" -eq 2 ] || fail "max_active_runs 2, but $max runs ran at once: $(cat "$tmp/mar.marks")"

# wait_for_downstream: a of day N+1 started after b of day N ended; c (no such wait) ran in overlapping runs
python3 - "$tmp/wfd.marks" <<'PY' || fail "wait_for_downstream: $(cat "$tmp/wfd.marks")"
import sys
at = {}
for line in open(sys.argv[1]):
    what, ds, t = line.split()
    at[(what, ds)] = int(t)
days = sorted(ds for what, ds in at if what == "a-start")
assert days == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"], days
for prev, day in zip(days, days[1:]):
    assert at[("a-start", day)] >= at[("b-end", prev)], "a of %s started before b of %s ended" % (day, prev)
# the runs did overlap: c of the last day started before b of the first day ended
assert at[("c-start", days[-1])] < at[("b-end", days[0])] + 500 * 10**6, "the runs never overlapped"
PY
echo "run limits ok"
