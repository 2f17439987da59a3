#!/bin/sh
# The sweep example end to end: run.sh runs the sweep DAG with `dags test -o json`. Checks every task
# instance's state (16 mapped trials: expand with two keys makes their cross product, in row-major order),
# the split, the trials recorded in SQLite, and the chosen model: the best on validation, the feature group the
# data was generated from, and far better on the test split than predicting the mean. A second run is recorded
# beside the first with the same choice (the data and split are deterministic). Where a container engine is
# there (CI: Podman as root), the report step runs in a container and its file is checked.
. "$top_srcdir/tests/integration/lib.sh"

require_plugins sqlite python

work="$tmp/work"
export SWEEP_WORK="$work" SWEEP_DATE=2024-03-01
db="$work/sweep.db"
sql() { python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join(str(c) for c in row))' "$db" "$1"; }

expect_exit 0 sh "$top_srcdir/examples/sweep/run.sh"
case "$out" in *"sweep 2024-03-01: success in "*" s wall, 25 task instances (1 skipped, 24 success)"*) ;; *) fail "run.sh summary: $out" ;; esac
# the report step runs in a container when run.sh found an engine (report_engine.sh), else it is skipped
case "$out" in
*"the report runs in a container on"*) report=report skipped=report_skipped ;;
*) report=report_skipped skipped=report ;;
esac
run_out=$out
out=$(cat "$work/runs/sweep.2024-03-01.json")
json_check 'd["state"] == "success" and all((t["state"], t["try_number"]) == (("skipped", 0) if t["task_id"] == "'$skipped'" else ("success", 1)) for t in d["task_instances"])'
json_check 'sorted((t["task_id"], t["map_index"]) for t in d["task_instances"]) == sorted([("schema", -1), ("prepare", -1), ("split", -1), ("record_trials", -1), ("select_best", -1), ("record_best", -1), ("report_where", -1), ("report", -1), ("report_skipped", -1)] + [("train", i) for i in range(16)])'
if [ "$report" = report ]; then
    grep -q "^chosen: interactions with l2=0.0 (validation RMSE" "$work/reports/sweep-2024-03-01.txt" ||
        fail "the report container's file: $(cat "$work/reports/sweep-2024-03-01.txt" 2>&1)"
    case "$run_out" in *"== report (written by the report container"*"trials: 16 (feature groups x ridge penalties)"*) ;;
    *) fail "run.sh did not show the report: $run_out" ;; esac
else
    echo "the report step was skipped: $(printf '%s\n' "$run_out" | sed -n '/container engine for the report/,/^==/p' | sed -n 2p)"
fi
run_id=$(printf '%s' "$out" | python3 -c 'import json, sys; print(json.load(sys.stdin)["run_id"])')

# the split: every sample in one of three parts, about 60/20/20
sql "SELECT split, count(*) FROM samples GROUP BY split ORDER BY split" >"$tmp/split"
python3 - "$tmp/split" <<'PY' || fail "split: $(cat "$tmp/split")"
import sys
n = dict((s, int(c)) for s, c in (line.strip().split("|") for line in open(sys.argv[1])))
assert set(n) == {"test", "train", "val"} and sum(n.values()) == 1500, n
assert 800 <= n["train"] <= 1000 and 220 <= n["val"] <= 380 and 220 <= n["test"] <= 380, n
PY

# the trials: map index i is feature group i // 4 with penalty i % 4 (row-major cross product)
[ "$(sql "SELECT count(*) FROM trials WHERE run_id = '$run_id'")" = 16 ] || fail "trials: $(sql 'SELECT * FROM trials')"
python3 - "$db" "$run_id" <<'PY' || fail "trials do not follow the cross product: $(sql 'SELECT map_index, features, l2 FROM trials')"
import sqlite3, sys
groups, penalties = ["size", "location", "interactions", "everything"], [0.0, 1.0, 10.0, 100.0]
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT map_index, features, l2, n_features, train_rmse, val_rmse FROM trials WHERE run_id = ? ORDER BY map_index",
    (sys.argv[2],)).fetchall()
want = [(i, groups[i // 4], penalties[i % 4], [2, 4, 6, 9][i // 4]) for i in range(16)]
assert [r[:4] for r in rows] == want, rows
assert all(r[4] > 0 and r[5] > 0 for r in rows), rows
PY

# the chosen model: the trial with the lowest validation RMSE, from the true feature group, scored on test
best=$(sql "SELECT b.features, b.l2, b.val_rmse = (SELECT min(val_rmse) FROM trials t WHERE t.run_id = b.run_id),
            b.trials, b.test_rmse < b.baseline_rmse / 5, json_array_length(b.model, '\$.weights')
            FROM best_models b WHERE run_id = '$run_id'")
[ "$best" = "interactions|0.0|1|16|1|6" ] || fail "best model: $best ($(sql 'SELECT features, l2, val_rmse, test_rmse, baseline_rmse FROM best_models'))"
case "$out" in *'"task_id": "record_best"'*) ;; *) fail "no record_best in the run" ;; esac

# a second run (another logical date) is recorded beside the first and makes the same choice
export SWEEP_DATE=2024-03-02
expect_exit 0 sh "$top_srcdir/examples/sweep/run.sh"
[ "$(sql "SELECT count(*), count(DISTINCT run_id), count(DISTINCT features || l2 || round(test_rmse, 9)) FROM best_models")" = "2|2|1" ] \
    || fail "second run: $(sql 'SELECT * FROM best_models')"
[ "$(sql 'SELECT count(*) FROM trials')" = 32 ] || fail "trials after two runs: $(sql 'SELECT count(*) FROM trials')"
echo "sweep example ok"
