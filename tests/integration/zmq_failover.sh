#!/bin/sh
# Two workers run a 500-task DAG; one is SIGKILLed mid-run. Its in-flight tries fail as zombies within about
# three heartbeat intervals and are retried on the other worker; the run succeeds; no task ever runs twice
# at the same time (each try checks that no earlier try of its task is still alive).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/zmq_lib.sh"

marks="$tmp/marks"
locks="$tmp/locks"
mkdir -p "$locks"
{
    echo "dag_id: big"
    echo "schedule: null"
    echo "max_active_tasks: 64"
    echo "default_args: {retries: 2, retry_delay: 0s}"
    echo "tasks:"
    i=0
    while [ $i -lt 500 ]; do
        t=$(printf 't%03d' $i)
        # shellcheck disable=SC2016
        # an earlier try still alive is a process whose command line is this very script (a zombie's is empty)
        echo "  $t: {operator: shell, command: 'f=$locks/$t; p=\$(cat \$f 2>/dev/null); if [ -n \"\$p\" ] && grep -q \"done $t \" /proc/\$p/cmdline 2>/dev/null; then echo DOUBLE $t >> $marks; fi; echo \$\$ > \$f; sleep 0.1; echo done $t >> $marks'}"
        i=$((i + 1))
    done
} >"$tmp/dags/big.yaml"
export MLFLOWD__PARALLELISM=64

expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger big --run-id r1
start_scheduler
start_worker wa --concurrency 8
wa=$wpid
start_worker wb --concurrency 8
wb=$wpid
wait_log "$slog" "worker wa" 10
wait_log "$slog" "worker wb" 10

# kill wb once a fair share of the run is done, while it holds tries
i=0
until [ "$(grep -c '^done' "$marks" 2>/dev/null || echo 0)" -ge 100 ]; do
    i=$((i + 1)); [ $i -le 600 ] || { tail -30 "$slog"; fail "the run does not progress"; }
    sleep 0.1
done
kill -9 "$wb"
killed_at=$(date +%s%N)
wait "$wb" 2>/dev/null || true
forget_pid "$wb"
wait_log "$slog" "worker wb .* is gone" "$(scaled 10)"
gone_at=$(log_ms "$slog" "worker wb .* is gone")
# detection: liveness 3 x 250 ms, timed by the scheduler's own log line (not by this test's polling), with
# room for a loaded machine (x4 under the sanitizers)
ms=$((gone_at - killed_at / 1000000))
[ $ms -le "$(scaled 1500)" ] || fail "wb's loss took $ms ms"
grep "worker wb .* is gone" "$slog" | grep -q "tr[iy]e*s* failed" || fail "no zombie count in the log"

wait_run big r1 success 120
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run big r1 -o json
json_check 'len(d) == 500 and all(t["state"] == "success" for t in d)'
json_check 'any(t["try_number"] == 2 for t in d)'   # wb's tries were retried
grep -q DOUBLE "$marks" && fail "a task ran twice at the same time: $(grep DOUBLE "$marks" | head -3)"
[ "$(grep '^done' "$marks" | sort -u | wc -l)" -eq 500 ] || fail "not every task completed"
# the retried tries ran on the surviving worker: their logs came back over the wire
expect_exit 0 "$MLFLOWD" tasks logs big r1 t000
expect_exit 0 "$MLFLOWD" db check
stop_all
echo "failover ok"
