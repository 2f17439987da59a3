#!/bin/sh
# Run semantics through `mlflowd dags test` (real scheduler, real task processes): retries, execution_timeout,
# trigger rules with Airflow's skip and upstream_failed propagation, run state from leaves, max_active_tasks,
# XCom between tasks, dynamic task mapping, and the doc/architecture.md §7 JSON shape and exit codes.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
# states: prints "task=state/try" for every TI of the JSON in $out, sorted
states() { printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted("%s%s=%s/%d" % (t["task_id"], "" if t["map_index"] < 0 else "[%d]" % t["map_index"], t["state"], t["try_number"]) for t in d["task_instances"])))'; }
expect_states() {
    got=$(states)
    [ "$got" = "$1" ] || fail "states differ
expected: $1
got:      $got"
}

# --- retries: fails twice, succeeds on the third try; a task that always fails exhausts its retries
cat >"$tmp/dags/retries.yaml" <<YAML
dag_id: retries
default_args: {retries: 2, retry_delay: 0s}
tasks:
  flaky:
    operator: shell
    command: "n=\$(cat $tmp/flaky 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n > $tmp/flaky; [ \$n -ge 3 ]"
  broken: {operator: shell, command: "exit 3", retries: 1}
  after_flaky: {operator: empty, upstream: flaky}
  after_broken: {operator: empty, upstream: broken}
  cleanup: {operator: empty, upstream: [flaky, broken], trigger_rule: all_done}
  alarm: {operator: empty, upstream: [flaky, broken], trigger_rule: one_failed}
  guard: {operator: empty, upstream: [flaky, broken], trigger_rule: none_failed}
YAML
expect_exit 1 "$MLFLOWD" dags test retries 2024-01-01 -o json
json_check 'd["dag_id"] == "retries" and d["state"] == "failed" and d["run_id"].startswith("manual__2024-01-01")'
json_check 'set(d["task_instances"][0]) == {"task_id", "map_index", "state", "try_number", "start_date", "end_date"}'
expect_states "after_broken=upstream_failed/0 after_flaky=success/1 alarm=success/1 broken=failed/2 cleanup=success/1 flaky=success/3 guard=upstream_failed/0"
run_id=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
expect_exit 0 "$MLFLOWD" tasks state retries broken "$run_id"
[ "$out" = failed ] || fail "tasks state: $out"
expect_exit 0 "$MLFLOWD" tasks logs retries "$run_id" broken --try 1
case "$out" in *"return code 3"*) ;; *) fail "log of try 1: $out" ;; esac
expect_exit 0 "$MLFLOWD" dags state retries "$run_id"
[ "$out" = failed ] || fail "dags state: $out"

# --- skips propagate through all_success; none_failed_min_one_success and all_skipped decide as Airflow
cat >"$tmp/dags/skips.yaml" <<'YAML'
dag_id: skips
tasks:
  ok: {operator: shell, command: "true"}
  skipper: {operator: shell, command: "exit 99"}
  strict: {operator: empty, upstream: [ok, skipper]}
  relaxed: {operator: empty, upstream: [ok, skipper], trigger_rule: none_failed_min_one_success}
  only_skips: {operator: empty, upstream: [skipper], trigger_rule: all_skipped}
  downstream_of_strict: {operator: empty, upstream: strict}
YAML
expect_exit 0 "$MLFLOWD" dags test skips 2024-01-01 -o json
expect_states "downstream_of_strict=skipped/0 ok=success/1 only_skips=success/1 relaxed=success/1 skipper=skipped/1 strict=skipped/0"
json_check 'd["state"] == "success"'

# --- execution_timeout kills the try (and its whole process group) and counts as a failure
cat >"$tmp/dags/timeout.yaml" <<YAML
dag_id: timeout
tasks:
  slow: {operator: shell, command: "sleep 30 & sleep 30; echo never > $tmp/never", execution_timeout: 1s}
YAML
start=$(date +%s)
expect_exit 1 "$MLFLOWD" dags test timeout 2024-01-01 -o json
[ $(($(date +%s) - start)) -lt 20 ] || fail "the timeout did not stop the task in time"
expect_states "slow=failed/1"
[ ! -e "$tmp/never" ] || fail "the timed-out command went on"
run_id=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
expect_exit 0 "$MLFLOWD" tasks state timeout slow "$run_id"
case "$err" in *execution_timeout*) ;; *) fail "no timeout message: $err" ;; esac

# --- max_active_tasks: never more than 2 of this DAG's tasks at once (recorded by the tasks themselves). Each
# task waits (up to 5 s) for a second one to be running before it ends, so that two do overlap however slowly
# the machine starts processes; a limit that let only one run would show as max 1.
cat >"$tmp/pair.sh" <<'SH'
echo start >> "$1"
i=0
while [ $(( $(grep -c start "$1") - $(grep -c end "$1") )) -lt 2 ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
sleep 0.1
echo end >> "$1"
SH
cat >"$tmp/dags/limited.yaml" <<YAML
dag_id: limited
max_active_tasks: 2
tasks:
$(for i in 1 2 3 4 5 6; do printf '  t%d: {operator: shell, command: "sh %s/pair.sh %s/conc"}\n' $i "$tmp" "$tmp"; done)
YAML
expect_exit 0 "$MLFLOWD" dags test limited 2024-01-01
max=$(awk '/start/ {n++; if (n > m) m = n} /end/ {n--} END {print m}' "$tmp/conc")
[ "$max" -eq 2 ] || fail "max_active_tasks 2, but $max ran at once"

# --- pools: never more tasks in a pool than its slots (recorded by the tasks themselves); pool_slots counts
expect_exit 0 "$MLFLOWD" pools set two 2 "two slots"
cat >"$tmp/dags/pooled.yaml" <<YAML
dag_id: pooled
tasks:
$(for i in 1 2 3 4 5; do printf '  p%d: {operator: shell, pool: two, command: "echo start >> %s/pool; sleep 0.3; echo end >> %s/pool"}\n' $i "$tmp" "$tmp"; done)
  big: {operator: shell, pool: two, pool_slots: 2, command: "echo start >> $tmp/pool; echo start >> $tmp/pool; sleep 0.3; echo end >> $tmp/pool; echo end >> $tmp/pool"}
  nopool: {operator: shell, pool: nosuch, command: "true"}
YAML
expect_exit 1 "$MLFLOWD" dags test pooled 2024-01-01 -o json
json_check '{t["task_id"]: t["state"] for t in d["task_instances"]}["nopool"] == "failed"'
json_check 'all(t["state"] == "success" for t in d["task_instances"] if t["task_id"] != "nopool")'
max=$(awk '/start/ {n++; if (n > m) m = n} /end/ {n--} END {print m}' "$tmp/pool")
[ "$max" -eq 2 ] || fail "pool of 2 slots, but $max slots were used at once"
run_id=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
expect_exit 0 "$MLFLOWD" tasks state pooled nopool "$run_id"
case "$err" in *"pool 'nosuch' does not exist"*) ;; *) fail "missing pool message: $err" ;; esac

# --- mapping over an upstream's XCom list (a python task pushes it)
cat >"$tmp/gen.py" <<'PY'
import json
print("MLFLOWD_XCOM " + json.dumps(["echo x", "echo y"]))
PY
cat >"$tmp/dags/xmap.yaml" <<YAML
dag_id: xmap
tasks:
  gen: {operator: python, script: $tmp/gen.py}
  each: {operator: shell, upstream: gen, expand: {command: "{{ xcom.gen }}"}}
YAML
expect_exit 0 "$MLFLOWD" dags test xmap 2024-01-01 -o json
expect_states "each[0]=success/1 each[1]=success/1 gen=success/1"

# --- XCom: the last line of one task's output feeds a template of the next; mapping over params
cat >"$tmp/dags/xcom.yaml" <<YAML
dag_id: xcom_map
params: {items: [a, b, c]}
tasks:
  produce: {operator: shell, command: "echo ignored; echo forty-two"}
  consume: {operator: shell, upstream: produce, command: "test '{{ xcom.produce }}' = forty-two && echo got-it"}
  fan: {operator: shell, upstream: consume, expand: {command: "{{ params['items'] | map('upper') | list }}"}}
  join: {operator: shell, upstream: fan, command: "echo joined"}
YAML
cat >"$tmp/dags/xcom.yaml" <<YAML
dag_id: xcom_map
params: {items: ["echo a", "echo b", "echo c"]}
tasks:
  produce: {operator: shell, command: "echo ignored; echo forty-two"}
  consume: {operator: shell, upstream: produce, command: "test '{{ xcom.produce }}' = forty-two && echo got-it"}
  fan: {operator: shell, upstream: consume, expand: {command: "{{ params.items }}"}}
  join: {operator: shell, upstream: fan, command: "echo {{ xcom.fan | length }} results"}
YAML
expect_exit 0 "$MLFLOWD" dags test xcom_map 2024-01-01 -o json
expect_states "consume=success/1 fan[0]=success/1 fan[1]=success/1 fan[2]=success/1 join=success/1 produce=success/1"
run_id=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
expect_exit 0 "$MLFLOWD" tasks logs xcom_map "$run_id" join
case "$out" in *"3 results"*) ;; *) fail "join did not see the mapped XComs: $out" ;; esac

# --- an empty expand list skips the mapped task (Airflow), and its all_success downstream with it
cat >"$tmp/dags/empty_map.yaml" <<'YAML'
dag_id: empty_map
params: {items: []}
tasks:
  fan: {operator: shell, expand: {command: "{{ params.items }}"}}
  after: {operator: empty, upstream: fan}
YAML
expect_exit 0 "$MLFLOWD" dags test empty_map 2024-01-01 -o json
expect_states "after=skipped/0 fan=skipped/0"

# --- priority_weight: with one slot, ready tasks start by effective priority (weight_rule downstream:
#     the task's weight plus every descendant's), highest first
cat >"$tmp/dags/prio.yaml" <<YAML
dag_id: prio
tasks:
  low: {operator: shell, command: "echo low >> $tmp/order", priority_weight: 1}
  high: {operator: shell, command: "echo high >> $tmp/order", priority_weight: 10}
  middle: {operator: shell, command: "echo middle >> $tmp/order", priority_weight: 3}
  chain_head: {operator: shell, command: "echo chain_head >> $tmp/order", priority_weight: 1}
  chain_tail: {operator: empty, upstream: chain_head, priority_weight: 5, weight_rule: absolute}
YAML
MLFLOWD__PARALLELISM=1 expect_exit 0 "$MLFLOWD" dags test prio 2024-01-01
[ "$(tr '\n' ' ' <"$tmp/order")" = "high chain_head middle low " ] || fail "priority order: $(tr '\n' ' ' <"$tmp/order")"

# --- depends_on_past: the second run's task waits for the first run's; when that failed, the second run
#     can never proceed and fails as deadlocked (as Airflow)
cat >"$tmp/dags/past.yaml" <<YAML
dag_id: past
schedule: "@daily"
start_date: 2024-01-01
tasks:
  step: {operator: shell, depends_on_past: true, command: "test {{ ds }} != 2024-01-01 || test -e $tmp/past_ok"}
YAML
expect_exit 1 "$MLFLOWD" dags backfill past -s 2024-01-01 -e 2024-01-02
expect_exit 0 "$MLFLOWD" dags list-runs past -o json
json_check '[r["state"] for r in d] == ["failed", "failed"]'
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run past backfill__2024-01-02T00:00:00+00:00 -o json
json_check '[(t["task_id"], t["state"]) for t in d] == [("step", "none")]'
touch "$tmp/past_ok"
expect_exit 0 "$MLFLOWD" dags backfill past -s 2024-01-01 -e 2024-01-02 --reset-dagruns
expect_exit 0 "$MLFLOWD" dags list-runs past -o json
json_check '[r["state"] for r in d] == ["success", "success"]'

# --- a trigger's conf reaches templates as dag_run.conf and overrides params
cat >"$tmp/dags/conf.yaml" <<YAML
dag_id: conf
params: {who: nobody}
tasks:
  greet: {operator: shell, command: "echo {{ dag_run.conf.who }}/{{ params.who }} > $tmp/greeting"}
YAML
expect_exit 0 "$MLFLOWD" dags trigger conf --conf '{"who": "alice"}' --run-id r1
expect_exit 2 "$MLFLOWD" dags trigger conf --conf '[1, 2]'
expect_exit 0 "$MLFLOWD" tasks run conf greet r1
[ "$(cat "$tmp/greeting")" = alice/alice ] || fail "conf: $(cat "$tmp/greeting")"

# --- listing runs, and a DAG that does not load
expect_exit 0 "$MLFLOWD" dags list-runs retries -o json
json_check 'len(d) == 1 and d[0]["state"] == "failed" and d[0]["run_type"] == "manual"'
printf 'dag_id: bad\ntasks: {a: {operator: nosuch}}\n' >"$tmp/dags/bad.yaml"
expect_exit 2 "$MLFLOWD" dags test bad
case "$err" in *"bad.yaml:2:"*"unknown operator 'nosuch'"*) ;; *) fail "load errors not printed: $err" ;; esac
expect_exit 0 "$MLFLOWD" db check
echo "semantics ok"
