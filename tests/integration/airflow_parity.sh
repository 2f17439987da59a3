#!/bin/sh
# Semantics checked against Apache Airflow's behaviour (its skipmixin, MappedTaskUpstreamDep and XCom
# counting): branching skips only what no followed task leads to; a mapped task whose expansion source
# failed or was skipped becomes upstream_failed or skipped whatever its trigger rule; mapping over a mapped
# upstream makes one instance per upstream instance that pushed an XCom.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
states() { printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted("%s%s=%s" % (t["task_id"], "" if t["map_index"] < 0 else "[%d]" % t["map_index"], t["state"]) for t in d["task_instances"])))'; }
expect_states() { got=$(states); [ "$got" = "$1" ] || fail "$2: states differ
expected: $1
got:      $got"; }

# --- 1. skip_all_except: join is downstream of the followed task a, so it is not skipped although it is
# also a direct downstream of the branch; deep (downstream of a through c) likewise; b is skipped.
cat >"$tmp/dags/branch_join.yaml" <<'YAML'
dag_id: branch_join
tasks:
  decide: {operator: branch, follow: a}
  a: {operator: empty, upstream: decide}
  b: {operator: empty, upstream: decide}
  c: {operator: empty, upstream: a}
  deep: {operator: empty, upstream: [decide, c]}
  join: {operator: empty, upstream: [decide, a]}
YAML
expect_exit 0 "$MLFLOWD" dags test branch_join 2024-01-01 -o json
expect_states "a=success b=skipped c=success decide=success deep=success join=success" "branch into a join"

echo "airflow parity ok"
