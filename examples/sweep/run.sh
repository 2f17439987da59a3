#!/bin/sh
# The sweep example in one command: creates the sweep_db connection and the sweep_dir variable, runs the sweep
# DAG once with `mlflowd dags test` (printing its wall time), then shows the trials and the chosen model, and
# the report a container wrote when a container engine is there (report_engine.sh says which, or why not).
#
#   examples/sweep/run.sh
#
# Environment: SWEEP_WORK (this folder's work/) holds the SQLite database, the mlflowd home and the run's JSON;
# SWEEP_DATE (today) is the run's logical date; SWEEP_ENGINE picks the report's container engine (a socket
# path, or none); MLFLOWD as for any example. Exit code 0 when the run succeeded.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${SWEEP_WORK:-$here/work}
mkdir -p "$work"
work=$(cd "$work" && pwd)
. "$here/../run_lib.sh"
date=${SWEEP_DATE:-$(date -u +%Y-%m-%d)}

echo "== connection and variable"
"$MLFLOWD" connections delete sweep_db >/dev/null 2>&1 || true
"$MLFLOWD" connections add sweep_db --conn-type sqlite --conn-host "$work/sweep.db"
"$MLFLOWD" variables set sweep_dir "$here" >/dev/null

echo "== container engine for the report step"
. "$here/report_engine.sh"
trap report_engine_stop EXIT
report_engine_find
"$MLFLOWD" variables set sweep_report "$report_task" >/dev/null

echo "== run (JSON and log in $work/runs, task logs in $MLFLOWD_HOME/logs)"
failed=0
dag_test sweep "$date" || failed=1

echo "== results"
python3 - "$work/sweep.db" "$work/runs/sweep.$date.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
run_id = json.load(open(sys.argv[2]))["run_id"]
print("%-4s %-13s %7s %10s %10s" % ("map", "features", "l2", "train RMSE", "val RMSE"))
for row in db.execute("SELECT map_index, features, l2, train_rmse, val_rmse FROM trials WHERE run_id = ? "
                      "ORDER BY val_rmse", (run_id,)):
    print("%-4d %-13s %7g %10.3f %10.3f" % row)
best = db.execute("SELECT features, l2, val_rmse, test_rmse, baseline_rmse FROM best_models WHERE run_id = ?",
                  (run_id,)).fetchone()
if best:
    print("chosen: %s with l2=%g (validation RMSE %.3f); on the test split: RMSE %.3f, predicting the mean: %.3f"
          % best)
PY
if [ -f "$work/reports/sweep-$date.txt" ] && [ "$report_task" = report ]; then
    echo "== report (written by the report container to $work/reports/sweep-$date.txt)"
    cat "$work/reports/sweep-$date.txt"
fi
report_engine_stop
exit $failed
