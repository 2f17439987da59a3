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

# --- 2. a mapped task over a failed source: upstream_failed even with trigger_rule all_done; the run fails
cat >"$tmp/dags/map_src_failed.yaml" <<'YAML'
dag_id: map_src_failed
tasks:
  src: {operator: shell, command: "exit 3"}
  each: {operator: shell, trigger_rule: all_done, expand: {command: "{{ xcom.src }}"}}
YAML
expect_exit 1 "$MLFLOWD" dags test map_src_failed 2024-01-01 -o json
expect_states "each=upstream_failed src=failed" "mapped over a failed source"
json_check 'd["state"] == "failed"'

# ... over a skipped source: skipped even with all_done; the run succeeds (its leaves were skipped)
cat >"$tmp/dags/map_src_skipped.yaml" <<'YAML'
dag_id: map_src_skipped
tasks:
  decide: {operator: branch, follow: other}
  other: {operator: empty, upstream: decide}
  src: {operator: shell, upstream: decide, command: "echo 'echo x'"}
  each: {operator: shell, trigger_rule: all_done, expand: {command: "{{ xcom.src }}"}}
YAML
expect_exit 0 "$MLFLOWD" dags test map_src_skipped 2024-01-01 -o json
expect_states "decide=success each=skipped other=success src=skipped" "mapped over a skipped source"
json_check 'd["state"] == "success"'

# --- 3. mapping over a mapped upstream whose instance 1 failed: two instances, fed the two pushed values
cat >"$tmp/dags/map_over_mapped.yaml" <<'YAML'
dag_id: map_over_mapped
tasks:
  gen: {operator: shell, expand: {command: ["echo 'echo first'", "exit 1", "echo 'echo third'"]}}
  each: {operator: shell, trigger_rule: all_done, expand: {command: "{{ xcom.gen }}"}}
YAML
expect_exit 0 "$MLFLOWD" dags test map_over_mapped 2024-01-01 -o json
expect_states "each[0]=success each[1]=success gen[0]=success gen[1]=failed gen[2]=success" "mapped over mapped"
run_id=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
expect_exit 0 "$MLFLOWD" tasks logs map_over_mapped "$run_id" each --map-index 1
case "$out" in *third*) ;; *) fail "each[1] did not run the third instance's command: $out" ;; esac

# --- dagrun_timeout: the run fails once it lasted longer; its running try is killed (the command would take
# 60 s) and its unfinished task instances are skipped, as Airflow's scheduler does
cat >"$tmp/dags/timed_out.yaml" <<'YAML'
dag_id: timed_out
dagrun_timeout: 2s
tasks:
  quick: {operator: shell, command: "echo done"}
  slow: {operator: shell, upstream: quick, command: "sleep 60"}
  after: {operator: shell, upstream: slow, command: "echo never"}
YAML
t0=$(date +%s)
expect_exit 1 "$MLFLOWD" dags test timed_out 2024-01-01 -o json
t1=$(date +%s)
expect_states "after=skipped quick=success slow=skipped" "dagrun_timeout"
json_check 'd["state"] == "failed"'
[ $((t1 - t0)) -lt 30 ] || fail "the timed-out run took $((t1 - t0)) s: its running try was not killed"

# --- DAG keys: each documented one has its effect, or is refused at load with what to use instead
cat >"$tmp/dags/documented.yaml" <<'YAML'
dag_id: documented
description: A DAG with docs
doc_md: "# Documented"
default_args: {owner: data-team}
tasks:
  a: {operator: empty, doc: "the first task"}
  b: {operator: empty, upstream: a, owner: alice}
YAML
expect_exit 0 "$MLFLOWD" dags show documented
for want in "doc_md: # Documented" "description: A DAG with docs" "(owner: data-team)" "(owner: alice)" "doc: the first task"; do
    case "$out" in *"$want"*) ;; *) fail "dags show does not show '$want': $out" ;; esac
done
expect_exit 0 "$MLFLOWD" tasks list documented -o json
json_check '{t["task_id"]: (t["owner"], t["doc"]) for t in d} == {"a": ("data-team", "the first task"), "b": ("alice", None)}'

refused() { # KEY-LINE EXPECTED-MESSAGE-PART
    rm -f "$tmp/dags/refused.yaml"
    printf 'dag_id: refused\ntasks:\n  a: {operator: empty, %s}\n' "$1" >"$tmp/dags/refused.yaml"
    expect_exit 0 "$MLFLOWD" dags list-import-errors
    case "$out$err" in *"$2"*) ;; *) fail "'$1' was not refused with '$2': $out $err" ;; esac
}
refused "email: [ops@example.com]" "email is not supported yet; mail through the email notifier"
refused "email_on_failure: true" "email_on_failure is not supported yet"
refused "email_on_retry: false" "email_on_retry is not supported yet"
refused "sla: 1h" "Airflow 3 replaced SLAs by deadline alerts"

# --- task groups (Airflow's TaskGroup): ids prefixed by the group, a group upstream of a task means its
# leaves, a group downstream of a task its roots; shown by tasks list --tree and dags show
cat >"$tmp/dags/grouped.yaml" <<'YAML'
dag_id: grouped
tasks:
  start: {operator: shell, command: "echo start"}
  load: {operator: shell, upstream: extract, command: "echo load {{ xcom['extract.clean'] }}"}
groups:
  extract:
    upstream: start
    tooltip: pull the sources
    tasks:
      fetch: {operator: shell, command: "echo fetched"}
      clean: {operator: shell, upstream: fetch, command: "echo cleaned"}
    groups:
      side: {prefix_group_id: false, tasks: {audit: {operator: empty, upstream: fetch}}}
YAML
expect_exit 0 "$MLFLOWD" dags test grouped 2024-01-01 -o json
expect_states "audit=success extract.clean=success extract.fetch=success load=success start=success" "task groups"
expect_exit 0 "$MLFLOWD" tasks list grouped -o json
json_check '{t["task_id"]: (sorted(t["upstream"]), t["task_group"]) for t in d} == {"start": ([], None), "extract.fetch": (["start"], "extract"), "extract.clean": (["extract.fetch"], "extract"), "audit": (["extract.fetch"], "extract.side"), "load": (["audit", "extract.clean"], None)}'
expect_exit 0 "$MLFLOWD" tasks list grouped --tree
case "$out" in *"<Task(empty): audit> (group: extract.side)"*) ;; *) fail "tasks list --tree does not show the group: $out" ;; esac
expect_exit 0 "$MLFLOWD" dags show grouped
case "$out" in *"group extract: pull the sources"*"group extract.side (in extract)"*) ;; *) fail "dags show does not show the groups: $out" ;; esac
expect_exit 0 "$MLFLOWD" dags show grouped --format dot
case "$out" in *'subgraph "cluster_extract" {'*'subgraph "cluster_extract.side" {'*'"audit"'*) ;; *) fail "dags show --format dot has no nested clusters: $out" ;; esac

# --- setup and teardown (Airflow 2.7+): the teardown runs although the work failed and does not decide the
# run; the task before it (an effective leaf) does
cat >"$tmp/dags/st_fail.yaml" <<'YAML'
dag_id: st_fail
tasks:
  create: {operator: shell, command: "echo create", setup: true, teardowns: [delete]}
  work: {operator: shell, command: "exit 1", upstream: create}
  after: {operator: shell, command: "echo after", upstream: work}
  delete: {operator: shell, command: "echo delete", upstream: after}
YAML
expect_exit 1 "$MLFLOWD" dags test st_fail 2024-01-01 -o json
expect_states "after=upstream_failed create=success delete=success work=failed" "teardown after failed work"
json_check 'd["state"] == "failed"'
# ... a failed teardown does not fail the run, unless on_failure_fail_dagrun
for fail_run in false true; do
    cat >"$tmp/dags/st_td.yaml" <<YAML
dag_id: st_td
tasks:
  create: {operator: shell, command: "echo create", setup: true}
  work: {operator: shell, command: "echo work", upstream: create}
  delete: {operator: shell, command: "exit 2", teardown: true, on_failure_fail_dagrun: $fail_run, upstream: [create, work]}
YAML
    if [ $fail_run = false ]; then want=0 state=success; else want=1 state=failed; fi
    expect_exit $want "$MLFLOWD" dags test st_td 2024-01-01 -o json
    expect_states "create=success delete=failed work=success" "failed teardown (on_failure_fail_dagrun: $fail_run)"
    json_check 'd["state"] == "'$state'"'
done
# ... a failed setup: the work is upstream_failed, and so is the teardown (all_done_setup_success: no setup
# succeeded); a task further on with trigger_rule all_done is upstream_failed too (Airflow's setup constraint)
cat >"$tmp/dags/st_setup_failed.yaml" <<'YAML'
dag_id: st_setup_failed
tasks:
  create: {operator: shell, command: "exit 1", setup: true}
  work: {operator: shell, command: "echo work", upstream: create}
  report: {operator: shell, command: "echo report", trigger_rule: all_done, upstream: work}
  delete: {operator: shell, command: "echo delete", teardown: true, upstream: [create, report]}
YAML
expect_exit 1 "$MLFLOWD" dags test st_setup_failed 2024-01-01 -o json
expect_states "create=failed delete=upstream_failed report=upstream_failed work=upstream_failed" "failed setup"
# ... with the setup succeeding, the all_done task runs after the failed work; it is the effective leaf
# (the teardown after it does not count), so the run succeeds, as in Airflow
sed -i 's/command: "exit 1", setup/command: "echo ok", setup/; s/command: "echo work"/command: "exit 1"/' "$tmp/dags/st_setup_failed.yaml"
expect_exit 0 "$MLFLOWD" dags test st_setup_failed 2024-01-02 -o json
expect_states "create=success delete=success report=success work=failed" "setup succeeded, work failed"
json_check 'd["state"] == "success"'
# ... a skipped setup skips its teardown
cat >"$tmp/dags/st_skipped.yaml" <<'YAML'
dag_id: st_skipped
tasks:
  decide: {operator: branch, follow: other}
  other: {operator: empty, upstream: decide}
  create: {operator: shell, command: "echo create", setup: true, upstream: decide, teardowns: delete}
  work: {operator: shell, command: "echo work", upstream: create}
  delete: {operator: shell, command: "echo delete", upstream: work}
YAML
expect_exit 0 "$MLFLOWD" dags test st_skipped 2024-01-01 -o json
expect_states "create=skipped decide=success delete=skipped other=success work=skipped" "skipped setup"
# ... clearing the work clears its setup and teardown, as Airflow's DAG.clear
expect_exit 0 "$MLFLOWD" tasks clear st_fail -t '^work$' -y
case "$out" in *"Cleared 3 task instance(s)"*) ;; *) fail "clearing work did not clear its setup and teardown: $out" ;; esac
expect_exit 0 "$MLFLOWD" tasks clear st_fail -t '^after$' -y
case "$out" in *"Cleared 3 task instance(s)"*) ;; *) fail "clearing after did not clear the setup and teardown around it: $out" ;; esac
# ... and the rules Airflow enforces at load
refused "setup: true, teardown: true" "cannot be both a setup and a teardown"
refused "on_failure_fail_dagrun: true" "on_failure_fail_dagrun is for teardown tasks"
refused "teardown: true, trigger_rule: all_done" "Trigger rule not configurable for teardown tasks."
printf 'dag_id: refused\ntasks:\n  s: {operator: empty, setup: true}\n  a: {operator: empty, upstream: s, trigger_rule: all_done}\n' >"$tmp/dags/refused.yaml"
expect_exit 0 "$MLFLOWD" dags list-import-errors
case "$out" in *"Setup tasks must be followed with trigger rule ALL_SUCCESS."*) ;; *) fail "all_done after a setup was not refused: $out" ;; esac
rm -f "$tmp/dags/refused.yaml"

# --- templates: Airflow's date filters, ts_nodash_with_tz, task_instance_key_str and prev_*_success
cat >"$tmp/dags/tpl.yaml" <<'YAML'
dag_id: tpl
schedule: "@daily"
start_date: 2024-01-01
tasks:
  show: {operator: shell, command: "echo A={{ data_interval_end | ds }} B={{ ts | ts_nodash }} C={{ ts | ts_nodash_with_tz }} D={{ ts_nodash_with_tz }} E={{ task_instance_key_str }} F={{ prev_data_interval_end_success }} G={{ logical_date | ds_nodash }} H={{ ds | ts }} I={{ dag_run.run_type }}"}
YAML
expect_exit 0 "$MLFLOWD" tasks render tpl show 2024-01-02
case "$out" in *"A=2024-01-02 B=20240102T000000 C=20240102T000000+0000 D=20240102T000000+0000 E=tpl__show__20240102 F=None G=20240102 H=2024-01-02T00:00:00+00:00 I=manual"*) ;;
*) fail "templates render differently from Airflow: $out" ;; esac
expect_exit 0 "$MLFLOWD" dags test tpl 2024-01-01 -o json
json_check 'd["state"] == "success"'
expect_exit 0 "$MLFLOWD" tasks render tpl show 2024-01-02
case "$out" in *"F=2024-01-01T00:00:00+00:00 "*) ;; *) fail "prev_data_interval_end_success is not the last successful run's: $out" ;; esac
printf 'dag_id: tpl_bad\ntasks:\n  a: {operator: shell, command: "echo {{ run_id | ds }}"}\n' >"$tmp/dags/tpl_bad.yaml"
expect_exit 1 "$MLFLOWD" tasks render tpl_bad a 2024-01-02
case "$err" in *"filter 'ds' needs a date or timestamp"*) ;; *) fail "ds on a non-date was not refused clearly: $err" ;; esac
rm -f "$tmp/dags/tpl_bad.yaml"

# --- dags test without a date: now, and a schedule: null DAG runs as a manual run
printf 'dag_id: nosched\nschedule: null\ntasks:\n  a: {operator: shell, command: "echo {{ dag_run.run_type }}"}\n' >"$tmp/dags/nosched.yaml"
today=$(date -u +%Y-%m-%d)
expect_exit 0 "$MLFLOWD" dags test nosched -o json
json_check 'd["state"] == "success" and d["run_id"].startswith("manual__'"$today"'")'

# --- params as Airflow's Param: type, enum, range and default checked at load and at trigger
cat >"$tmp/dags/prm.yaml" <<'YAML'
dag_id: prm
schedule: null
params:
  window: {type: integer, default: 30, minimum: 1, maximum: 365}
  mode: {type: string, enum: [fast, full], default: fast}
  plain: {a: 1}
tasks:
  a: {operator: shell, command: "echo W={{ params.window }} M={{ params.mode }} P={{ params.plain.a }}"}
YAML
expect_exit 0 "$MLFLOWD" tasks render prm a 2024-01-01
case "$out" in *"W=30 M=fast P=1"*) ;; *) fail "a Param's default is not what templates see: $out" ;; esac
expect_exit 1 "$MLFLOWD" dags trigger prm --conf '{"window": "x"}'
case "$err" in *"param 'window': x is not of type integer"*) ;; *) fail "wrong type not refused by name and rule: $err" ;; esac
expect_exit 1 "$MLFLOWD" dags trigger prm --conf '{"window": 400}'
case "$err" in *"param 'window': 400 is above its maximum 365"*) ;; *) fail "range not checked: $err" ;; esac
expect_exit 1 "$MLFLOWD" dags trigger prm --conf '{"mode": "slow"}'
case "$err" in *"param 'mode': slow is not one of"*) ;; *) fail "enum not checked: $err" ;; esac
expect_exit 0 "$MLFLOWD" dags trigger prm --conf '{"window": 7, "mode": "full"}'
cat >"$tmp/dags/prm_bad.yaml" <<'YAML'
dag_id: prm_bad
schedule: "@daily"
start_date: 2024-01-01
params:
  window: {type: integer, default: 0, minimum: 1}
  need: {type: string}
tasks:
  a: {operator: empty}
YAML
expect_exit 0 "$MLFLOWD" dags list-import-errors
case "$out$err" in *"param 'window': 0 is below its minimum 1 (its default)"*"param 'need' has no default"*) ;;
*) fail "bad Param specs were not load errors: $out $err" ;; esac
rm -f "$tmp/dags/prm_bad.yaml"
echo "airflow parity ok"
