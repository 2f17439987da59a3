#!/bin/sh
# A raw ZeroMQ peer sends 10,000 malformed messages while a DAG runs: the scheduler drops and logs them
# (rate-limited), does not crash or stall, and the run completes. Then 60 large frames (8 MB TASK and
# RESULT bodies, 1 MiB READY bodies of msgpack nils) from a peer that never registered: the command,
# direction and sender are checked before anything is decoded, and READY's value budget refuses the rest,
# so the scheduler's peak RSS stays under 160 MB (one such TASK frame used to cost 585 MB). The peers get in
# because this scheduler runs with --insecure: CURVE (the default) keeps them out entirely.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/zmq_lib.sh"

flood="$top_builddir/tests/integration/zmq_flood"
[ -x "$flood" ] || fail "$flood is not built"
marks="$tmp/marks"
{
    echo "dag_id: steady"
    echo "schedule: null"
    echo "tasks:"
    i=0
    while [ $i -lt 40 ]; do
        echo "  s$i: {operator: shell, command: 'sleep 0.1; echo s$i >> $marks'}"
        i=$((i + 1))
    done
} >"$tmp/dags/steady.yaml"

expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger steady --run-id r1
start_scheduler --insecure
start_worker w1 --concurrency 2 --insecure
i=0
until [ -s "$marks" ]; do
    i=$((i + 1)); [ $i -le 100 ] || { tail -20 "$slog"; fail "the run did not start"; }
    sleep 0.1
done
before=$(wc -l <"$marks")
"$flood" "$endpoint" 10000 || fail "the flooder failed"
during=$(wc -l <"$marks")
kill -0 "$sched" 2>/dev/null || { tail -20 "$slog"; fail "the scheduler died during the flood"; }
wait_run steady r1 success 60
[ "$during" -gt "$before" ] || [ "$(wc -l <"$marks")" -eq 40 ] || fail "no task finished during the flood"
grep -q "dropped a malformed message from unregistered peer" "$slog" || fail "the drops were not logged"
[ "$(grep -c 'dropped a malformed message' "$slog")" -le 200 ] || fail "the drop log is not rate-limited"
grep -q "worker w1 .* is gone" "$slog" && fail "the flood cost the real worker its registration"
hwm() { awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$sched/status"; }
before_mb=$(hwm)
"$flood" "$endpoint" 60 big || fail "the big-frame flooder failed"
sleep 1
kill -0 "$sched" 2>/dev/null || { tail -20 "$slog"; fail "the scheduler died during the big-frame flood"; }
after_mb=$(hwm)
echo "scheduler peak RSS: $before_mb MB before the big frames, $after_mb MB after"
[ "$after_mb" -lt 160 ] || fail "the scheduler's peak RSS reached $after_mb MB during the big-frame flood"
kill -TERM "$sched"
wait "$sched" || fail "the scheduler did not stop cleanly"
echo "flood ok"
