#!/bin/sh
# The commands people reach for (issue: "the newcomer path"): tasks xcom, connections test, dags delete,
# dags next-execution, -o json|yaml|table|plain, per-option help, tasks clear asking first, completion.
. "$top_srcdir/tests/integration/lib.sh"
mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/dags/cmds.yaml" <<'DAG'
dag_id: cmds
schedule: "@daily"
start_date: 2024-01-01
catchup: false
tasks:
  produce:
    operator: shell
    command: "echo forty-two"
  consume:
    operator: shell
    upstream: [produce]
    command: "echo got {{ xcom.produce }}"
DAG
cp "$top_srcdir/examples/dags/example_manual.yaml" "$tmp/dags/"
expect_exit 0 "$MLFLOWD" dags test cmds 2024-02-01 -o json
run=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')

# ---- tasks xcom
expect_exit 0 "$MLFLOWD" tasks xcom cmds "$run" produce -o json
json_check 'd == [{"task_id": "produce", "map_index": -1, "key": "return_value", "value": "forty-two"}]'
expect_exit 0 "$MLFLOWD" tasks xcom cmds "$run" produce
case "$out" in *"produce"*"return_value"*'"forty-two"'*) ;; *) fail "tasks xcom table: $out" ;; esac
expect_exit 0 "$MLFLOWD" tasks xcom cmds "$run" consume --key return_value
[ "$out" = "got forty-two" ] || fail "tasks xcom --key: $out"
expect_exit 1 "$MLFLOWD" tasks xcom cmds "$run" consume --key nope
expect_exit 2 "$MLFLOWD" tasks xcom cmds no_run consume

# ---- -o yaml / plain / table, and text-only commands refuse -o json
expect_exit 0 "$MLFLOWD" tasks xcom cmds "$run" produce -o yaml
printf '%s\n' "$out" | grep -qx -- "- task_id: produce" || fail "yaml: $out"
printf '%s\n' "$out" | grep -qx -- "  value: forty-two" || fail "yaml scalar: $out"
expect_exit 0 "$MLFLOWD" config get plugins.path -o yaml
printf '%s\n' "$out" | grep -qx -- "- $MLFLOWD_HOME/plugins" || fail "yaml list: $out"
expect_exit 0 "$MLFLOWD" config list -o yaml
printf '%s\n' "$out" | grep -A2 -x -- "- key: plugins.path" | grep -qx -- "    - $MLFLOWD_HOME/plugins" || fail "yaml nesting: $out"
if python3 -c 'import yaml' 2>/dev/null; then
    expect_exit 0 "$MLFLOWD" tasks xcom cmds "$run" produce -o yaml
    printf '%s' "$out" | python3 -c 'import yaml,sys; d=yaml.safe_load(sys.stdin); sys.exit(0 if d[0]["value"] == "forty-two" and d[0]["map_index"] == -1 else 1)' \
        || fail "yaml does not load back: $out"
    expect_exit 0 "$MLFLOWD" config list -o yaml
    printf '%s' "$out" | python3 -c 'import yaml,sys; d=yaml.safe_load(sys.stdin); sys.exit(0 if any(k["key"] == "dags_folder" for k in d) else 1)' \
        || fail "config list yaml: $out"
fi
expect_exit 0 "$MLFLOWD" dags list -o plain
case "$out" in *"cmds "*) ;; *) fail "-o plain: $out" ;; esac
expect_exit 0 "$MLFLOWD" dags state cmds "$run" -o json
json_check 'd["state"] == "success"'
expect_exit 0 "$MLFLOWD" tasks state cmds consume "$run" -o yaml
printf '%s\n' "$out" | grep -qx "state: success" || fail "tasks state yaml: $out"
expect_exit 2 "$MLFLOWD" dags show cmds -o json
case "$err" in *"prints text only"*) ;; *) fail "-o json on a text command: $err" ;; esac
expect_exit 2 "$MLFLOWD" dags list -o xml

# ---- per-option help
expect_exit 0 "$MLFLOWD" dags trigger --help
case "$out" in *"Options:"*"-c, --conf JSON"*"dag_run.conf"*"-r, --run-id ID"*) ;; *) fail "per-option help: $out" ;; esac

# ---- dags next-execution
expect_exit 0 "$MLFLOWD" dags next-execution cmds -n 3
[ "$(printf '%s\n' "$out" | grep -c 'T00:00:00')" -eq 3 ] || fail "next-execution -n 3: $out"
expect_exit 0 "$MLFLOWD" dags next-execution example_manual
[ "$out" = None ] || fail "next-execution of a manual DAG: $out"
expect_exit 2 "$MLFLOWD" dags next-execution cmds -n lots

# ---- tasks clear asks first
echo n >"$tmp/no"; echo y >"$tmp/yes"
expect_exit 1 "$MLFLOWD" tasks clear cmds -t '^consume$' <"$tmp/no"
case "$err" in *"You are about to clear 1 task instance(s)"*"$run consume (success)"*"nothing cleared"*) ;;
    *) fail "tasks clear without -y: $err" ;; esac
expect_exit 0 "$MLFLOWD" tasks state cmds consume "$run"
[ "$out" = success ] || fail "a refused clear cleared: $out"
expect_exit 0 "$MLFLOWD" tasks clear cmds -t '^consume$' -o json <"$tmp/yes"
json_check 'd["cleared"] == 1'
expect_exit 0 "$MLFLOWD" tasks state cmds consume "$run"
[ "$out" = none ] || fail "clear did not clear: $out"

# ---- connections test
sqlite_db="$tmp/test.db"
python3 -c "import sqlite3; sqlite3.connect('$sqlite_db').close()"
expect_exit 0 "$MLFLOWD" connections add good_db --conn-type sqlite --conn-host "$sqlite_db"
expect_exit 0 "$MLFLOWD" connections test good_db -o json
json_check 'd["status"] == "success" and d["hook"] == "sqlite"'
expect_exit 0 "$MLFLOWD" connections add dead_http --conn-uri "http://127.0.0.1:9"
expect_exit 1 "$MLFLOWD" connections test dead_http
case "$out" in *"Connection dead_http (http): failed:"*) ;; *) fail "connections test of a dead port: $out" ;; esac
expect_exit 2 "$MLFLOWD" connections test no_such_conn

# ---- dags delete
expect_exit 1 "$MLFLOWD" dags delete cmds <"$tmp/no"
expect_exit 0 "$MLFLOWD" dags list-runs cmds -o json
json_check 'len(d) == 1'
expect_exit 0 "$MLFLOWD" dags delete cmds -y
expect_exit 0 "$MLFLOWD" dags list-runs cmds -o json
json_check 'd == []'
expect_exit 2 "$MLFLOWD" dags delete cmds -y
expect_exit 0 "$MLFLOWD" db check

# ---- completion, generated from the command table
expect_exit 0 "$MLFLOWD" completion bash
printf '%s\n' "$out" >"$tmp/mlflowd.bash"
bash -n "$tmp/mlflowd.bash" || fail "the bash completion does not parse"
got=$(bash -c '. "$1"; COMP_WORDS=(mlflowd dags tr); COMP_CWORD=2; _mlflowd; echo "${COMPREPLY[*]}"' _ "$tmp/mlflowd.bash")
[ "$got" = trigger ] || fail "bash completion of 'dags tr': $got"
got=$(bash -c '. "$1"; COMP_WORDS=(mlflowd dags trigger x --ru); COMP_CWORD=4; _mlflowd; echo "${COMPREPLY[*]}"' _ "$tmp/mlflowd.bash")
[ "$got" = --run-id ] || fail "bash completion of 'dags trigger x --ru': $got"
got=$(bash -c '. "$1"; COMP_WORDS=(mlflowd -o y); COMP_CWORD=2; _mlflowd; echo "${COMPREPLY[*]}"' _ "$tmp/mlflowd.bash")
[ "$got" = yaml ] || fail "bash completion of '-o y': $got"
expect_exit 0 "$MLFLOWD" completion zsh
case "$out" in "#compdef mlflowd"*"'trigger:start a manual DAG run'"*) ;; *) fail "zsh completion: $out" ;; esac
if command -v zsh >/dev/null; then
    printf '%s\n' "$out" >"$tmp/_mlflowd"
    zsh -n "$tmp/_mlflowd" || fail "the zsh completion does not parse"
fi
expect_exit 2 "$MLFLOWD" completion fish
echo "commands ok"
