#!/bin/sh
# Connections reach operators through real runs: a sqlite connection from the store and one from
# MLFLOWD_CONN_<ID>, parameters bound into SQL from templates, rows back as XCom; a password read by a
# template is masked in the task's log; a missing connection fails the task with a clear message.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
require_plugins sqlite
expect_exit 0 "$MLFLOWD" connections add db --conn-uri "sqlite://$(printf %s "$tmp/a.db" | sed 's|/|%2F|g')" 
expect_exit 0 "$MLFLOWD" connections add secretive --conn-type http --conn-host example.invalid --conn-password 'hunter2-s3cret'
export MLFLOWD_CONN_ENVDB="sqlite://$(printf %s "$tmp/b.db" | sed 's|/|%2F|g')"
cat >"$tmp/dags/conns.yaml" <<'YAML'
dag_id: conns
tasks:
  write: {operator: sql, conn_id: db, sql: "CREATE TABLE t (d TEXT, n INT); INSERT INTO t VALUES (?, ?)", parameters: ["{{ ds }}", 7]}
  read: {operator: sql, conn_id: db, upstream: write, sql: "SELECT d, n FROM t"}
  env_write: {operator: sql, conn_id: envdb, sql: "CREATE TABLE e (x INT); INSERT INTO e VALUES (1)"}
  show: {operator: shell, upstream: read, command: "echo 'rows={{ xcom.read }} pw={{ conn.secretive.password }}'"}
  missing: {operator: sql, conn_id: nosuch, sql: "SELECT 1"}
YAML
expect_exit 1 "$MLFLOWD" dags test conns 2024-06-01 -o json
json_check '{t["task_id"]: t["state"] for t in d["task_instances"]} == {"write": "success", "read": "success", "env_write": "success", "show": "success", "missing": "failed"}'
run=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
expect_exit 0 "$MLFLOWD" tasks logs conns "$run" show
case "$out" in *'rows=[{"d":"2024-06-01","n":7}] pw=***'*) ;; *) fail "show log: $out" ;; esac
case "$out" in *hunter2*) fail "the password leaked into the log: $out" ;; esac
expect_exit 0 "$MLFLOWD" tasks logs conns "$run" missing
case "$out" in *"connection 'nosuch' is not defined"*) ;; *) fail "missing connection message: $out" ;; esac
[ -s "$tmp/b.db" ] || fail "the MLFLOWD_CONN_ENVDB connection was not used"
echo "connections pipeline ok"
