#!/bin/sh
# Mapped tasks in `tasks state` / `tasks logs` without --map-index list the indexes; numbers are validated;
# `dags test --show-logs` prints the tries' logs inline and `dags test --conf` reaches dag_run.conf; a
# render failure is written into the try's log (issue: "the newcomer path").
. "$top_srcdir/tests/integration/lib.sh"
mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/dags/mapped.yaml" <<'DAG'
dag_id: mapped
schedule: null
tasks:
  each:
    operator: shell
    expand: {command: ["echo item-a", "echo item-b", "echo item-c"]}
  conf:
    operator: shell
    command: "echo conf-is-{{ dag_run.conf.colour }}"
DAG
expect_exit 0 "$MLFLOWD" dags test mapped 2024-01-01 --show-logs --conf '{"colour": "blue"}' -o json
json_check 'd["state"] == "success" and sorted(t["map_index"] for t in d["task_instances"] if t["task_id"] == "each") == [0, 1, 2]'
for want in "---- each[0] try 1 ----" "item-a" "---- each[2] try 1 ----" "item-c" "---- conf try 1 ----" "conf-is-blue"; do
    case "$err" in *"$want"*) ;; *) fail "--show-logs: no '$want' in: $err" ;; esac
done
run=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')

expect_exit 2 "$MLFLOWD" tasks state mapped each "$run"
case "$err" in *"task each of mapped/$run is mapped into 3 task instance(s): give --map-index N (indexes: 0 1 2)"*) ;;
    *) fail "tasks state of a mapped task: $err" ;; esac
expect_exit 2 "$MLFLOWD" tasks logs mapped "$run" each
case "$err" in *"is mapped into 3 task instance(s)"*"(indexes: 0 1 2)"*) ;; *) fail "tasks logs of a mapped task: $err" ;; esac
expect_exit 0 "$MLFLOWD" tasks state mapped each "$run" --map-index 1
[ "$out" = success ] || fail "tasks state --map-index 1: $out"
expect_exit 0 "$MLFLOWD" tasks logs mapped "$run" each --map-index 1
case "$out" in *item-b*) ;; *) fail "tasks logs --map-index 1: $out" ;; esac

# numbers are validated, not read with atoi
expect_exit 2 "$MLFLOWD" tasks logs mapped "$run" each --map-index 1x
case "$err" in *"--map-index: expected a whole number from 0 to"*"got '1x'"*) ;; *) fail "--map-index 1x: $err" ;; esac
expect_exit 2 "$MLFLOWD" tasks logs mapped "$run" conf --try zero
case "$err" in *"--try: expected a whole number from 1 to"*) ;; *) fail "--try zero: $err" ;; esac
expect_exit 2 "$MLFLOWD" tasks state mapped each "$run" --map-index -3
expect_exit 2 "$MLFLOWD" dags test mapped --conf '[1]'
case "$err" in *"--conf must be a JSON object"*) ;; *) fail "--conf [1]: $err" ;; esac

# a try whose parameters do not render has a log that says why
cat >"$tmp/dags/render.yaml" <<'DAG'
dag_id: render
schedule: null
tasks:
  a:
    operator: shell
    command: "echo plain-text"
  b:
    operator: shell
    upstream: [a]
    command: "echo {{ xcom.a.field }}"
DAG
expect_exit 1 "$MLFLOWD" dags test render 2024-01-01 -o json
run=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
expect_exit 0 "$MLFLOWD" tasks logs render "$run" b
case "$out" in *"parameters did not render"*"has no key 'field'"*) ;; *) fail "render failure not in the try's log: $out" ;; esac
echo "mapped ok"
