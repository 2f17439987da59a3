#!/bin/sh
# `tasks clear` of a run the scheduler is running right now: the scheduler notices (the clear queues the run
# again in the store), reloads the run, reruns the cleared task, and keeps the run's other try running: it is
# neither killed nor started twice.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
m="$tmp/marks"
cat >"$tmp/dags/ca.yaml" <<YAML
dag_id: ca
tasks:
  fast: {operator: shell, command: "echo fast >> $m"}
  after_fast: {operator: shell, upstream: fast, command: "echo after_fast >> $m"}
  slow: {operator: shell, command: "echo slow-start >> $m; sleep 5; echo slow-end >> $m"}
YAML
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger ca --run-id r1
"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
i=0
until [ "$("$MLFLOWD" tasks state ca after_fast r1 2>/dev/null)" = success ]; do
    i=$((i + 1)); [ $i -le 100 ] || { kill $sched; cat "$tmp/sched.log"; fail "after_fast did not succeed"; }
    sleep 0.1
done
[ "$("$MLFLOWD" tasks state ca slow r1 2>/dev/null)" = running ] || { kill $sched; fail "slow should still run"; }
expect_exit 0 "$MLFLOWD" tasks clear ca -t '^after_fast$' -y
i=0
until [ "$(grep -c '^after_fast$' "$m")" -eq 2 ]; do
    i=$((i + 1)); [ $i -le 100 ] || { kill $sched; cat "$tmp/sched.log"; fail "the cleared task did not run again"; }
    sleep 0.1
done
i=0
until [ "$("$MLFLOWD" dags state ca r1 2>/dev/null)" = success ]; do
    i=$((i + 1)); [ $i -le 150 ] || { kill $sched; cat "$tmp/sched.log"; fail "the run did not finish"; }
    sleep 0.1
done
kill -TERM $sched
wait $sched || fail "scheduler exit status"
grep -q 'was cleared: reloading it' "$tmp/sched.log" || fail "no reload in the log"
[ "$(grep -c '^slow-start$' "$m")" -eq 1 ] || fail "slow started $(grep -c '^slow-start$' "$m") times"
[ "$(grep -c '^slow-end$' "$m")" -eq 1 ] || fail "slow was killed or ran twice"
[ "$(grep -c '^fast$' "$m")" -eq 1 ] || fail "fast ran again"
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run ca r1 -o json
json_check '{t["task_id"]: (t["state"], t["try_number"]) for t in d} == {"fast": ("success", 1), "after_fast": ("success", 2), "slow": ("success", 1)}'
expect_exit 0 "$MLFLOWD" db check
echo "clear of an active run ok"
