#!/bin/sh
# Airflow habits in a DAG file get a load error that names the mlflowd spelling, and Airflow's
# {{ var.value.X }} / {{ var.json.X }} are accepted (issue: "the newcomer path").
. "$top_srcdir/tests/integration/lib.sh"
mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/dags/habits.yaml" <<'DAG'
dag_id: habits
tasks:
  a:
    operator: bash
    command: echo a
  b:
    operator: shell
    bash_command: echo b
  c:
    operator: python
    python_callable: main
  d:
    operator: shell
    command: "echo {{ execution_date }}"
  e:
    operator: shell
    command: "echo {{ ti.xcom_pull(task_ids='d') }}"
DAG
expect_exit 0 "$MLFLOWD" dags list-import-errors
for want in \
    "habits.yaml:4:15: task 'a': unknown operator 'bash': that is Airflow's name; mlflowd's is 'shell'" \
    "habits.yaml:8:5: task 'b': unknown key 'bash_command' for operator 'shell': that is Airflow's name; mlflowd's is 'command'" \
    "habits.yaml:11:5: task 'c': unknown key 'python_callable' for operator 'python': that is Airflow's name; mlflowd's is 'script'" \
    "task 'd': command: template uses Airflow's 'execution_date'; mlflowd's is 'logical_date'" \
    "task 'e': command: template calls Airflow's xcom_pull(); mlflowd's is xcom.TASK"; do
    case "$out" in *"$want"*) ;; *) fail "no hint '$want' in: $out" ;; esac
done
# the same errors stop `dags test`, with the file's errors shown
expect_exit 2 "$MLFLOWD" dags test habits
case "$err" in *"mlflowd's is 'shell'"*) ;; *) fail "dags test does not show the hint: $err" ;; esac

# Airflow's var.value.X and var.json.X are accepted
cat >"$tmp/dags/vars.yaml" <<'DAG'
dag_id: vars
schedule: null
tasks:
  show:
    operator: shell
    command: "echo who={{ var.value.who }} n={{ var.json.cfg.n }} plain={{ var.who }}"
DAG
expect_exit 0 "$MLFLOWD" variables set who world
expect_exit 0 "$MLFLOWD" variables set cfg '{"n": 7}'
expect_exit 0 "$MLFLOWD" dags test vars 2024-01-01 --show-logs
case "$err" in *"who=world n=7 plain=world"*) ;; *) fail "var.value / var.json: $err" ;; esac
echo "habits ok"
