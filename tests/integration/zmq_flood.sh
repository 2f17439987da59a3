#!/bin/sh
# A raw ZeroMQ peer sends 60,000 malformed messages while a DAG runs: the scheduler drops and logs them
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
# Enough 0.1 s tasks (two at a time) to outlast the flood: ~4 s normally; the flooder and the daemon are both
# slower under the sanitizers, so the run is made longer with them.
ntasks=$(scaled 80)
{
    echo "dag_id: steady"
    echo "schedule: null"
    echo "tasks:"
    i=0
    while [ $i -lt "$ntasks" ]; do
        echo "  s$i: {operator: shell, command: 'sleep 0.1; echo s$i \$(date +%s%N) >> $marks'}"
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
flood_start=$(date +%s%N)
"$flood" "$endpoint" 60000 || fail "the flooder failed"
flood_end=$(date +%s%N)
kill -0 "$sched" 2>/dev/null || { tail -20 "$slog"; fail "the scheduler died during the flood"; }
wait_run steady r1 success 60
# The scheduler never stalls: tasks kept finishing at their usual pace from the flood's start (the scheduler
# works through the queued messages after the flooder is done) to the run's end. Each task takes 0.1 s and two
# run at a time, so completions come every ~50-150 ms (a few times that under the sanitizers); no gap between
# consecutive completions may exceed the bound. The run must outlast the flood, or the flood tested nothing.
python3 - "$marks" "$flood_start" "$flood_end" "$(scaled 1500)" <<'PY' || fail "the scheduler stalled during the flood"
import sys
marks, start, end, bound_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
times = sorted(int(line.split()[1]) for line in open(marks))
if times[-1] <= end:
    sys.exit("the run finished %d ms before the flood ended: nothing was tested" % ((end - times[-1]) // 10**6))
# the completion just before the flood and every one after its start
around = [t for t in times if t <= start][-1:] + [t for t in times if start < t]
gaps = [(b - a) // 10**6 for a, b in zip(around, around[1:])]
print("flood lasted %d ms; %d tasks finished during it; largest gap between completions from then on: %d ms"
      % ((end - start) // 10**6, len([t for t in times if start < t <= end]), max(gaps)))
if max(gaps) > bound_ms:
    sys.exit("a gap of %d ms between task completions during the flood (bound %d ms)" % (max(gaps), bound_ms))
PY
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
[ "$after_mb" -lt "$(scaled 160)" ] || fail "the scheduler's peak RSS reached $after_mb MB during the big-frame flood"
stop_all
echo "flood ok"
