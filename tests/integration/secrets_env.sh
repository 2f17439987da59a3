#!/bin/sh
# Secrets stay secret (issue 15, defect 6): a task does not inherit the daemon's connection URIs
# (MLFLOWD_CONN_*) nor its configuration overrides (MLFLOWD__*), so `env` in a shell task shows no
# password; `tasks render` masks the passwords it renders.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
cat >"$tmp/dags/leak.yaml" <<YAML
dag_id: leak
schedule: null
tasks:
  envdump: {operator: shell, command: "env > $tmp/env.txt"}
  render_me: {operator: shell, command: "echo {{ conn.warehouse.password }} and {{ var.api_token }}"}
YAML
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" variables set api_token tok-0123456789
export MLFLOWD_CONN_WAREHOUSE='postgres://etl:s3cr3t-pw@db:5432/analytics'
export MLFLOWD__PARALLELISM=7
expect_exit 0 "$MLFLOWD" dags trigger leak --run-id r1
"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
i=0
until [ -s "$tmp/env.txt" ] && [ "$("$MLFLOWD" tasks state leak envdump r1 2>/dev/null)" = success ]; do
    i=$((i + 1)); [ $i -le 300 ] || { cat "$tmp/sched.log"; fail "the task did not run"; }
    sleep 0.1
done
stop_pid "$sched" "the scheduler"
grep -q "MLFLOWD_CTX_TASK_ID=envdump" "$tmp/env.txt" || fail "the task's own context is missing: $(cat "$tmp/env.txt")"
grep -q "s3cr3t-pw" "$tmp/env.txt" && fail "the connection password reached the task's environment"
grep -q "^MLFLOWD_CONN_" "$tmp/env.txt" && fail "MLFLOWD_CONN_* reached the task's environment"
grep -q "^MLFLOWD__" "$tmp/env.txt" && fail "MLFLOWD__* reached the task's environment"
expect_exit 0 "$MLFLOWD" connections add warehouse --conn-uri 'postgres://etl:s3cr3t-pw@db:5432/analytics'
expect_exit 0 "$MLFLOWD" tasks render leak render_me
case "$out" in *s3cr3t-pw* | *tok-0123456789*) fail "tasks render printed a secret: $out" ;; esac
case "$out" in *"*** and ***"*) ;; *) fail "tasks render did not mask: $out" ;; esac
echo "secrets env ok"
