#!/bin/sh
# Cached results on the sweep example (doc/caching.md): its 16 trials carry `cache: auto`. A rerun with one
# ridge penalty changed (100 -> 50, through the run's conf) runs only the 4 trials of that penalty; the other
# 12 are cache hits ("cached from RUN", their XComs copied, so the trials recorded for the run are complete);
# an unchanged rerun runs none; `tasks clear --no-cache` makes a running scheduler run all 16 again; and
# `cache list | purge` show and drop the entries. Counts come from the task instances' state notes and try
# logs; the wall times of the runs are printed (the figures in doc/caching.md).
. "$top_srcdir/tests/integration/lib.sh"

require_plugins sqlite python

work="$tmp/work"
export SWEEP_WORK="$work" SWEEP_DATE=2024-04-01 SWEEP_ENGINE=none
expect_exit 0 sh "$top_srcdir/examples/sweep/run.sh"
case "$out" in *"sweep 2024-04-01: success in "*) ;; *) fail "first run: $out" ;; esac
t1=$(printf '%s\n' "$out" | sed -n 's/^sweep 2024-04-01: success in \([0-9.]*\) s wall.*/\1/p')
export MLFLOWD_HOME="$work/home" MLFLOWD_DAGS_FOLDER="$top_srcdir/examples/sweep/dags"
db="$work/sweep.db"
sql() { python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join(str(c) for c in row))' "$db" "$1"; }

# notes RUN_ID: one line per trial, "MAP_INDEX STATE NOTE" (the state note `tasks state` shows)
notes() {
    for i in $(seq 0 15); do
        "$MLFLOWD" tasks state sweep train "$1" --map-index "$i" -o json |
            python3 -c 'import json, sys; d = json.load(sys.stdin); print(sys.argv[1], d["state"], d["message"] or "-")' "$i"
    done
}
# timed_test DATE [ARGS...]: `dags test sweep DATE ARGS -o json` into $out, its wall time in $secs
timed_test() {
    date=$1; shift
    start=$(date +%s%N)
    expect_exit 0 "$MLFLOWD" dags test sweep "$date" "$@" -o json
    secs=$(python3 -c "print('%.2f' % (($(date +%s%N) - $start) / 1e9))")
    json_check 'd["state"] == "success" and sum(t["task_id"] == "train" and t["state"] == "success" for t in d["task_instances"]) == 16'
}
run1="manual__2024-04-01T00:00:00+00:00"
notes "$run1" >"$tmp/notes1"
[ "$(grep -c ' success -$' "$tmp/notes1")" = 16 ] || fail "first run: every trial runs: $(cat "$tmp/notes1")"

# one penalty changed: the 4 trials with it run, the 12 others are cache hits from the first run
timed_test 2024-04-02 --conf '{"penalties": [{"l2": 0.0}, {"l2": 1.0}, {"l2": 10.0}, {"l2": 50.0}]}'
t2=$secs
run2="manual__2024-04-02T00:00:00+00:00"
notes "$run2" >"$tmp/notes2"
hits=$(grep -c " success cached from $run1\$" "$tmp/notes2" || true)
ran=$(grep -c ' success -$' "$tmp/notes2" || true)
[ "$hits" = 12 ] && [ "$ran" = 4 ] || fail "changed penalty: $hits hits, $ran ran: $(cat "$tmp/notes2")"
for i in 3 7 11 15; do # the trials of the 4th penalty (map index i % 4 == 3) are the ones that ran
    grep -q "^$i success -\$" "$tmp/notes2" || fail "trial $i should have run: $(cat "$tmp/notes2")"
    grep -q "train RMSE" "$MLFLOWD_HOME/logs/sweep/$run2/train/$i.1.log" || fail "trial $i's log: no fit"
done
for i in 0 5 10 14; do # a hit's try log says where its result came from, and nothing ran
    grep -q "^cached from $run1" "$MLFLOWD_HOME/logs/sweep/$run2/train/$i.1.log" || fail "trial $i's log"
    if grep -q "train RMSE" "$MLFLOWD_HOME/logs/sweep/$run2/train/$i.1.log"; then fail "trial $i ran"; fi
done
# the copied XComs make the run's record whole: 16 trials, the new penalty among them, the same choice
[ "$(sql "SELECT count(*), sum(l2 = 50.0), sum(l2 = 100.0) FROM trials WHERE run_id = '$run2'")" = "16|4|0" ] ||
    fail "trials of the second run: $(sql "SELECT map_index, l2 FROM trials WHERE run_id = '$run2'")"
[ "$(sql "SELECT features, l2 FROM best_models WHERE run_id = '$run2'")" = "interactions|0.0" ] ||
    fail "best model of the second run: $(sql 'SELECT * FROM best_models')"

# unchanged: every trial is a hit
timed_test 2024-04-03
t3=$secs
run3="manual__2024-04-03T00:00:00+00:00"
notes "$run3" >"$tmp/notes3"
[ "$(grep -c " success cached from $run1\$" "$tmp/notes3")" = 16 ] || fail "unchanged rerun: $(cat "$tmp/notes3")"

# tasks clear --no-cache: a running scheduler runs every trial of run 3 again (try 2), and records them
expect_exit 0 "$MLFLOWD" tasks clear sweep -t '^train$' -s 2024-04-03 -e 2024-04-03 --no-cache -y
case "$out" in *"Cleared 16 task instance"*) ;; *) fail "clear: $out" ;; esac
"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
run3_done() { [ "$("$MLFLOWD" dags state sweep "$run3" 2>/dev/null)" = success ]; }
wait_until 60 "run 3 did not finish after the clear" run3_done
kill -TERM $sched
wait $sched || fail "scheduler exit status: $(cat "$tmp/sched.log")"
notes "$run3" >"$tmp/notes3b"
[ "$(grep -c ' success -$' "$tmp/notes3b")" = 16 ] || fail "after clear --no-cache: $(cat "$tmp/notes3b")"
for i in $(seq 0 15); do
    grep -q "train RMSE" "$MLFLOWD_HOME/logs/sweep/$run3/train/$i.2.log" || fail "trial $i did not run again"
done
grep -q 'cleared with --no-cache' "$tmp/sched.log" || fail "no --no-cache line in the scheduler's log"

# cache list / purge: 16 + 4 entries of train (the reruns replaced theirs), purged by task
expect_exit 0 "$MLFLOWD" cache list sweep -o json
json_check 'len([e for e in d if e["task_id"] == "train"]) == 20 and all(e["live"] and e["expires_at"] is None and len(e["key"]) == 64 for e in d)'
json_check 'sorted(e["map_index"] for e in d if e["run_id"] == "'"$run2"'") == [3, 7, 11, 15]'
expect_exit 0 "$MLFLOWD" cache list
case "$out" in *"train[3]"*"$run2"*) ;; *) fail "cache list table: $out" ;; esac
expect_exit 0 "$MLFLOWD" cache purge sweep --task train -o json
json_check 'd["purged"] == 20'
expect_exit 0 "$MLFLOWD" cache list sweep -o json
json_check 'd == []'
expect_exit 2 "$MLFLOWD" cache purge --task train
expect_exit 0 "$MLFLOWD" db check
echo "sweep: first run ${t1} s (16 trials run); one penalty changed ${t2} s (4 run, 12 cached); unchanged ${t3} s (16 cached)"
