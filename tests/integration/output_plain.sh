#!/bin/sh
# -o table and -o plain, as Airflow's CLI prints them: every listing command draws a table with " | " between
# columns and a "=+=" rule under the header by default (-o table), and with -o plain the same header and
# cells aligned with spaces only, nothing cut -- for awk and cut.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
cat >"$tmp/dags/p.yaml" <<'YAML'
dag_id: p
schedule: null
tasks:
  push: {operator: shell, command: "echo a-value-that-is-long-enough-to-be-cut-in-a-table-cell-but-never-in-plain-output"}
YAML
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags test p 2024-01-01
expect_exit 0 "$MLFLOWD" dags list-runs p -o json
run=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["run_id"])')
expect_exit 0 "$MLFLOWD" variables set region eu-west --description "where we run"
expect_exit 0 "$MLFLOWD" connections add wh --conn-uri 'postgres://u:p@db:5432/x'
expect_exit 0 "$MLFLOWD" users create ada --password 'correct horse battery'

# check_forms HEADER-WORDS ROW-CELLS CMD...: the table form has the header words separated by " | ", a rule
# and a row starting with the ROW-CELLS (separated by ";" here); the plain form has neither separator nor
# rule, the same header words separated by blanks, and a row starting with the same cells.
check_forms() {
    head=$1 row=$2; shift 2
    expect_exit 0 "$MLFLOWD" "$@"
    want_head=$(printf '%s' "$head" | sed 's/ / *| /g')
    printf '%s\n' "$out" | sed -n 1p | grep -q "^$want_head *\$" || fail "$*: table header is not '$head' with separators: $out"
    printf '%s\n' "$out" | sed -n 2p | grep -q '^=\{1,\}\(+=\{1,\}\)*$' || fail "$*: no rule under the header: $out"
    want_row=$(printf '%s' "$row" | sed 's/;/ *| /g')
    printf '%s\n' "$out" | grep -q "^$want_row" || fail "$*: no table row '$row': $out"
    expect_exit 0 "$MLFLOWD" "$@" -o plain
    case "$out" in *" | "* | *"=+="*) fail "$* -o plain: separators or rule: $out" ;; esac
    [ "$(printf '%s\n' "$out" | sed -n 1p | tr -s ' ')" = "$head" ] || fail "$* -o plain: header: $out"
    printf '%s\n' "$out" | awk -v want="$(printf '%s' "$row" | tr ';' ' ')" '{ $1 = $1 } index($0, want) == 1 { found = 1 } END { exit !found }' ||
        fail "$* -o plain: no row starting '$row': $out"
}
check_forms "dag_id schedule tasks paused fileloc" "p;None;1" dags list
check_forms "run_id state run_type logical_date end_date" "$run;success" dags list-runs p
check_forms "task_id map_index state try start_date end_date" "push;-1;success;1" tasks states-for-dag-run p "$run"
check_forms "task_id map_index key value" "push;-1;return_value" tasks xcom p "$run" push
check_forms "key value description" "region;eu-west;where we run" variables list
check_forms "conn_id conn_type host port login schema" "wh;postgres;db;5432;u;x" connections list
check_forms "pool slots description" "default_pool;128;Default pool" pools list
check_forms "username role token created_at" "ada;viewer;no" users list
check_forms "name state host slots running queues operators last_heartbeat" "" workers list

# plain output is never cut; a table cuts a long cell with "..."
expect_exit 0 "$MLFLOWD" tasks xcom p "$run" push -o plain
case "$out" in *"never-in-plain-output"*) ;; *) fail "-o plain cut a value: $out" ;; esac
expect_exit 0 "$MLFLOWD" tasks xcom p "$run" push
case "$out" in *"never-in-plain-output"*) fail "the table did not cut a long value: $out" ;; *"..."*) ;; *) fail "no ... in: $out" ;; esac
