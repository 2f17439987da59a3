#!/bin/sh
# One owner per DAG run (issue 15, defect 2): `dags backfill` beside a live daemon refuses and says why
# (it used to run every task twice, or the two processes fought over the runs' states); a daemon started
# while a backfill runs leaves the backfill's runs alone (no task starts twice); and the runs of a backfill
# that was SIGKILLed are taken over by the daemon and finish.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
ledger="$tmp/ledger"
cat >"$tmp/dags/bf.yaml" <<YAML
dag_id: bf
schedule: "@daily"
start_date: 2099-01-01   # the daemon schedules nothing by itself
catchup: false
default_args: {retries: 1, retry_delay: 0s}
tasks:
  a: {operator: shell, command: "echo start \$MLFLOWD_CTX_TASK_ID \$MLFLOWD_CTX_RUN_ID >> $ledger; sleep 1.5; echo end \$MLFLOWD_CTX_TASK_ID \$MLFLOWD_CTX_RUN_ID >> $ledger"}
  b: {operator: shell, upstream: a, command: "echo start \$MLFLOWD_CTX_TASK_ID \$MLFLOWD_CTX_RUN_ID >> $ledger; sleep 1; echo end \$MLFLOWD_CTX_TASK_ID \$MLFLOWD_CTX_RUN_ID >> $ledger"}
YAML
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
expect_exit 0 "$MLFLOWD" db init

# 1. beside a live daemon: refused, with the reason
"$MLFLOWD" scheduler >"$tmp/sched1.log" 2>&1 &
sched=$!
i=0
until grep -q "scheduler running" "$tmp/sched1.log"; do
    i=$((i + 1)); [ $i -le 100 ] || { cat "$tmp/sched1.log"; fail "the daemon did not start"; }
    sleep 0.1
done
expect_exit 1 "$MLFLOWD" dags backfill bf -s 2024-01-01 -e 2024-01-02
case "$err" in *"a scheduler daemon is running on this home"*) ;; *) fail "no reason given: $err" ;; esac
[ ! -s "$ledger" ] || fail "the refused backfill ran tasks"
stop_pid "$sched" "the daemon"

# 2. a daemon started while a backfill runs leaves the backfill's runs alone
"$MLFLOWD" dags backfill bf -s 2024-01-01 -e 2024-01-02 >"$tmp/bf.log" 2>&1 &
bf=$!
i=0
until [ -s "$ledger" ]; do
    i=$((i + 1)); [ $i -le 100 ] || { cat "$tmp/bf.log"; fail "the backfill did not start"; }
    sleep 0.1
done
"$MLFLOWD" scheduler >"$tmp/sched2.log" 2>&1 &
sched=$!
wait "$bf" || { cat "$tmp/bf.log"; fail "the backfill failed beside the daemon"; }
sleep 2.5   # the daemon looks for runs to pick up every 2 s: it had its chance
for run in $(awk '{print $3}' "$ledger" | sort -u); do
    for t in a b; do
        n=$(grep -c "^start $t $run\$" "$ledger")
        [ "$n" -eq 1 ] || { cat "$ledger" "$tmp/sched2.log"; fail "$t of $run started $n times"; }
    done
done
[ "$(grep -c '^start' "$ledger")" -eq 4 ] || { cat "$ledger"; fail "expected 4 task starts"; }
grep -q "picked up DAG run bf" "$tmp/sched2.log" && { cat "$tmp/sched2.log"; fail "the daemon picked up the backfill's runs"; }
stop_pid "$sched" "the daemon"

# 3. a backfill SIGKILLed mid-run: its runs are taken over by the next daemon and finish
: >"$ledger"
"$MLFLOWD" dags backfill bf -s 2024-02-01 -e 2024-02-01 --reset-dagruns >"$tmp/bf2.log" 2>&1 &
bf=$!
i=0
until grep -q "^start a" "$ledger" 2>/dev/null; do
    i=$((i + 1)); [ $i -le 100 ] || { cat "$tmp/bf2.log"; fail "the second backfill did not start"; }
    sleep 0.1
done
kill -9 "$bf"
wait "$bf" 2>/dev/null || true
"$MLFLOWD" scheduler >"$tmp/sched3.log" 2>&1 &
sched=$!
i=0
until [ "$("$MLFLOWD" dags state bf backfill__2024-02-01T00:00:00+00:00 2>/dev/null)" = success ]; do
    i=$((i + 1)); [ $i -le 300 ] || { cat "$tmp/sched3.log"; "$MLFLOWD" dags list-runs bf; fail "the orphaned run was not taken over"; }
    sleep 0.1
done
grep -q "taking DAG run bf/.* over from its owner" "$tmp/sched3.log" || fail "the takeover was not logged"
stop_pid "$sched" "the daemon"
expect_exit 0 "$MLFLOWD" db check
echo "run owner ok"
