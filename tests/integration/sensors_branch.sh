#!/bin/sh
# Branching and sensors through the real scheduler: a branch operator follows the task an upstream XCom
# names and the other branch is skipped; sensors in reschedule mode (slot freed between pokes, state
# up_for_reschedule, no try used up) and poke mode; a sensor timeout with soft_fail ends skipped.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
states() { printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted("%s=%s/%d" % (t["task_id"], t["state"], t["try_number"]) for t in d["task_instances"])))'; }
expect_states() { got=$(states); [ "$got" = "$1" ] || fail "states differ
expected: $1
got:      $got"; }

cat >"$tmp/dags/branchy.yaml" <<'YAML'
dag_id: branchy
tasks:
  choose: {operator: shell, command: "echo left"}
  decide: {operator: branch, upstream: choose, follow: "{{ xcom.choose }}"}
  left: {operator: shell, upstream: decide, command: "echo went left"}
  right: {operator: shell, upstream: decide, command: "echo went right"}
  after_right: {operator: empty, upstream: right}
  join: {operator: empty, upstream: [left, right], trigger_rule: none_failed_min_one_success}
YAML
expect_exit 0 "$MLFLOWD" dags test branchy 2024-01-01 -o json
expect_states "after_right=skipped/0 choose=success/1 decide=success/1 join=success/1 left=success/1 right=skipped/0"

cat >"$tmp/dags/wrong_branch.yaml" <<'YAML'
dag_id: wrong_branch
tasks:
  decide: {operator: branch, follow: nowhere}
  a: {operator: empty, upstream: decide}
YAML
expect_exit 1 "$MLFLOWD" dags test wrong_branch 2024-01-01 -o json
expect_states "a=upstream_failed/0 decide=failed/1"

cat >"$tmp/dags/sensing.yaml" <<YAML
dag_id: sensing
tasks:
  make_file: {operator: shell, command: "sleep 1.5; touch $tmp/ready"}
  wait_resched: {operator: file_sensor, path: "$tmp/ready", mode: reschedule, poke_interval: 300ms, timeout: 30s}
  wait_poke: {operator: file_sensor, path: "$tmp/ready", mode: poke, poke_interval: 200ms, timeout: 30s}
  never: {operator: file_sensor, path: "$tmp/never-*", mode: reschedule, poke_interval: 200ms, timeout: 1s, soft_fail: true}
  after_never: {operator: empty, upstream: never}
  delta: {operator: time_delta_sensor, delta: 0s}
YAML
expect_exit 0 "$MLFLOWD" dags test sensing 2024-01-01 -o json
expect_states "after_never=skipped/0 delta=success/1 make_file=success/1 never=skipped/1 wait_poke=success/1 wait_resched=success/1"
run_id=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
expect_exit 0 "$MLFLOWD" tasks logs sensing "$run_id" wait_poke
case "$out" in *"Sensor not satisfied yet"*) ;; *) fail "poke mode did not poke more than once: $out" ;; esac
echo "sensors and branching ok"
