#!/bin/sh
# One id rule (issue 15, defect 5): a run id that would climb out of the log tree is refused where it
# enters (`dags trigger --run-id ../../../../tmp/x` wrote a log outside the home), and '.' / '..' are not
# dag or task ids.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
cat >"$tmp/dags/ok.yaml" <<YAML
dag_id: ok
schedule: null
tasks:
  t: {operator: shell, command: "echo hi"}
YAML
cat >"$tmp/dags/dots.yaml" <<YAML
dag_id: dots
schedule: null
tasks:
  "..": {operator: shell, command: "echo escaped"}
YAML
cat >"$tmp/dags/dot.yaml" <<YAML
dag_id: "."
schedule: null
tasks:
  t: {operator: shell, command: "echo escaped"}
YAML
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
expect_exit 0 "$MLFLOWD" db init
expect_exit 2 "$MLFLOWD" dags trigger ok --run-id ../../../../tmp/mlf-escape
case "$err" in *"run_id '../../../../tmp/mlf-escape' may hold only"*) ;; *) fail "no refusal: $err" ;; esac
expect_exit 2 "$MLFLOWD" dags trigger ok --run-id ..
expect_exit 2 "$MLFLOWD" dags trigger ok --run-id 'a/b'
expect_exit 0 "$MLFLOWD" dags trigger ok --run-id manual__2024-01-01T00:00:00+00:00
set +e
"$MLFLOWD" dags list-import-errors >"$tmp/list.out" 2>&1
set -e
grep -q "task id '..' must be" "$tmp/list.out" || fail "a task id '..' was accepted: $(cat "$tmp/list.out")"
grep -q "dag_id '.' must be" "$tmp/list.out" || fail "a dag_id '.' was accepted: $(cat "$tmp/list.out")"
echo "ids ok"
