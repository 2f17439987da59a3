#!/bin/sh
# external_task_sensor through the real scheduler: task processes read another DAG's state from the store
# (read-only) while `dags test` runs. A sensor on a task that succeeded succeeds (same date, and a day
# later through execution_delta); one on a failed task with failed_states fails without retry, naming it;
# one on a run that does not exist waits until its timeout and, with soft_fail, ends skipped.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
states() { printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted("%s=%s/%d" % (t["task_id"], t["state"], t["try_number"]) for t in d["task_instances"])))'; }
expect_states() { got=$(states); [ "$got" = "$1" ] || fail "states differ
expected: $1
got:      $got"; }
run_id() { printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])'; }

cat >"$tmp/dags/upstream_dag.yaml" <<'YAML'
dag_id: upstream_dag
tasks:
  ok: {operator: shell, command: "true"}
  bad: {operator: shell, command: "exit 3"}
YAML
expect_exit 1 "$MLFLOWD" dags test upstream_dag 2024-01-01 -o json
expect_states "bad=failed/1 ok=success/1"

cat >"$tmp/dags/waits_ok.yaml" <<'YAML'
dag_id: waits_ok
tasks:
  wait: {operator: external_task_sensor, external_dag_id: upstream_dag, external_task_id: ok,
         mode: reschedule, poke_interval: 200ms, timeout: 10s}
  after: {operator: empty, upstream: wait}
YAML
expect_exit 0 "$MLFLOWD" dags test waits_ok 2024-01-01 -o json
expect_states "after=success/1 wait=success/1"

cat >"$tmp/dags/waits_yesterday.yaml" <<'YAML'
dag_id: waits_yesterday
tasks:
  wait: {operator: external_task_sensor, external_dag_id: "{{ 'upstream' }}_dag", external_task_id: ok,
         execution_delta: 1d, mode: reschedule, poke_interval: 200ms, timeout: 10s}
YAML
expect_exit 0 "$MLFLOWD" dags test waits_yesterday 2024-01-02 -o json
expect_states "wait=success/1"

cat >"$tmp/dags/waits_failed.yaml" <<'YAML'
dag_id: waits_failed
tasks:
  wait: {operator: external_task_sensor, external_dag_id: upstream_dag, external_task_id: bad,
         failed_states: [failed, upstream_failed], mode: reschedule, poke_interval: 200ms, timeout: 10s,
         retries: 2}
  whole_run: {operator: external_task_sensor, external_dag_id: upstream_dag, failed_states: [failed],
              mode: reschedule, poke_interval: 200ms, timeout: 10s}
  after: {operator: empty, upstream: wait}
YAML
expect_exit 1 "$MLFLOWD" dags test waits_failed 2024-01-01 -o json
expect_states "after=upstream_failed/0 wait=failed/1 whole_run=failed/1"
rid=$(run_id)
expect_exit 0 "$MLFLOWD" tasks logs waits_failed "$rid" wait
case "$out" in *"the external task upstream_dag.bad (logical date 2024-01-01T00:00:00Z) is failed (in failed_states)"*) ;;
    *) fail "the failure does not name the external task and its state: $out" ;; esac

cat >"$tmp/dags/waits_missing.yaml" <<'YAML'
dag_id: waits_missing
tasks:
  wait: {operator: external_task_sensor, external_dag_id: upstream_dag, external_task_id: ok,
         execution_delta: 1d, mode: reschedule, poke_interval: 200ms, timeout: 1s, soft_fail: true}
  after: {operator: empty, upstream: wait}
YAML
expect_exit 0 "$MLFLOWD" dags test waits_missing 2024-01-01 -o json
expect_states "after=skipped/0 wait=skipped/1"
echo "external_task_sensor ok"
