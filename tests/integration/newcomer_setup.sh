#!/bin/sh
# The newcomer's first steps after the README's run command (issue: "the newcomer path"):
#  - a second terminal, with only MLFLOWD_HOME set, sees the run command's DAGs and plugins (the command wrote
#    them into HOME/mlflowd.yaml) and can trigger the sweep;
#  - a copied build tree finds its built-in plugins; "unknown operator" names the folders and operators;
#  - a missing DAG folder is a warning;
#  - unset dates print as null / nothing;
#  - triggering a paused DAG says so, `tasks state` gives the reason, `dags list` shows the paused state.
. "$top_srcdir/tests/integration/lib.sh"

# ---- a copied build tree (cp -a of the build) finds its plugins
mkdir "$tmp/copy"
cp -a "$top_builddir/mlflowd" "$top_builddir/libmlfcore.la" "$top_builddir/plugins" "$tmp/copy/"
expect_exit 0 "$tmp/copy/mlflowd" plugins list -o json
json_check '"shell" in [p["name"] for p in d] and all(p["file"].startswith("'"$tmp"'/copy/plugins/") for p in d)'
expect_exit 0 "$tmp/copy/mlflowd" config get plugins.path
echo "$out" | grep -qx "$tmp/copy/plugins" || fail "the copy's plugin path is not its own: $out"

expect_exit 1 env MLFLOWD__PLUGINS__PATH="$tmp/empty" "$MLFLOWD" plugins list
echo "$err" | grep -q "no plugins found (folders searched: $tmp/empty" || fail "plugins list with no plugins: $err"

# ---- "unknown operator" names where it looked and what it found
mkdir -p "$tmp/dags"
cat >"$tmp/dags/habit.yaml" <<'DAG'
dag_id: habit
tasks:
  a:
    operator: no_such_op
DAG
expect_exit 0 "$MLFLOWD" --dags-folder "$tmp/dags" dags list-import-errors
echo "$out" | grep -q "unknown operator 'no_such_op'.*operators found: .*shell.*plugin folders searched: .*$MLFLOWD_HOME/plugins" \
    || fail "unknown operator does not name the operators and folders: $out"
rm "$tmp/dags/habit.yaml"

# ---- a missing DAG folder is a warning
expect_exit 0 "$MLFLOWD" --dags-folder "$tmp/nowhere" dags list
echo "$err" | grep -q "warning: the DAG folder $tmp/nowhere does not exist" || fail "no warning: $err"

# ---- unset dates, paused DAGs (no scheduler: the run stays queued)
cp "$top_srcdir/examples/dags/example_manual.yaml" "$tmp/dags/"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
expect_exit 0 "$MLFLOWD" dags trigger example_manual --run-id r1
echo "$out" | grep -q "a running scheduler starts it" || fail "trigger: $out"
expect_exit 0 "$MLFLOWD" dags list-runs example_manual -o json
json_check 'd[0]["start_date"] is None and d[0]["end_date"] is None and d[0]["logical_date"] is not None'
expect_exit 0 "$MLFLOWD" dags list-runs example_manual
! echo "$out" | grep -q -- "-2903" || fail "an unset date printed: $out"
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run example_manual r1 -o json
json_check 'd[0]["start_date"] is None'

expect_exit 0 "$MLFLOWD" dags list -o json
json_check 'd[0]["is_paused"] is False'
expect_exit 0 "$MLFLOWD" dags pause example_manual
expect_exit 0 "$MLFLOWD" dags list -o json
json_check 'd[0]["is_paused"] is True'
expect_exit 0 "$MLFLOWD" dags list
echo "$out" | grep -q "^example_manual .* True " || fail "dags list does not show the paused state: $out"
expect_exit 0 "$MLFLOWD" dags trigger example_manual --run-id r2
echo "$out" | grep -q "is paused: the run stays queued and will not start until .mlflowd dags unpause example_manual" \
    || fail "trigger of a paused DAG: $out"
expect_exit 0 "$MLFLOWD" tasks state example_manual greet r2
echo "$err" | grep -q "DAG example_manual is paused" || fail "tasks state gives no reason: $out / $err"
expect_exit 0 "$MLFLOWD" dags unpause example_manual
expect_exit 0 "$MLFLOWD" dags list -o json
json_check 'd[0]["is_paused"] is False'
unset MLFLOWD_DAGS_FOLDER

# ---- the run command, then a second terminal with only MLFLOWD_HOME
require_plugins sqlite python http branch   # what configure built decides; a crash of plugins list fails
export MLFLOWD_HOME="$tmp/home2"
EXAMPLES_COINS=5 EXAMPLES_DAYS=60 MLFLOWD="$MLFLOWD" sh "$top_srcdir/examples/standalone.sh" --workers 1 --port 0 \
    >"$tmp/run.log" 2>&1 &
pid=$!
trap 'st=$?; kill -TERM $pid 2>/dev/null || true; cleanup $st' EXIT
i=0
until grep -q "scheduler running" "$tmp/run.log"; do
    i=$((i + 1)); [ $i -le 600 ] || { kill -TERM $pid; fail "standalone did not start: $(tail -20 "$tmp/run.log")"; }
    kill -0 $pid 2>/dev/null || fail "the run command stopped: $(tail -20 "$tmp/run.log")"
    sleep 0.1
done
second() { env -u MLFLOWD__PLUGINS__PATH -u MLFLOWD_DAGS_FOLDER MLFLOWD_HOME="$MLFLOWD_HOME" "$MLFLOWD" "$@"; }
grep -q "^dags_folder: '$MLFLOWD_HOME/examples/dags'" "$MLFLOWD_HOME/mlflowd.yaml" || fail "no dags_folder in mlflowd.yaml"
expect_exit 0 second dags list -o json
json_check '{"sweep", "crypto_ml_daily", "example_etl"} <= {x["dag_id"] for x in d}'
expect_exit 0 second dags trigger sweep --run-id from_terminal_2
i=0
until second dags state sweep from_terminal_2 2>/dev/null | grep -qx success; do
    i=$((i + 1)); [ $i -le 1200 ] || fail "the sweep did not succeed: $(second dags state sweep from_terminal_2)"
    kill -0 $pid 2>/dev/null || fail "the run command stopped: $(tail -20 "$tmp/run.log")"
    sleep 0.1
done
kill -TERM $pid
wait $pid || fail "the run command did not exit 0 after SIGTERM: $(tail -5 "$tmp/run.log")"
echo "newcomer setup ok"
