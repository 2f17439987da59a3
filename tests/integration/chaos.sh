#!/bin/sh
# Kill -9 soak (issue 15): a 300-task layered DAG of shell tasks that append start/end lines to a ledger,
# a scheduler with the zmq executor and two workers, then ~25 SIGKILLs at random moments, of the scheduler
# and of the workers, each restarted. Asserts: the run succeeds; no task whose try ended is started again
# unless the worker that ran that try was SIGKILLed after it ended (its RESULT could not reach the
# scheduler: a legitimate retry); no two tries of one TI overlap in time; `mlflowd db check` is clean.
# CHAOS_KILLS (25), CHAOS_LAYERS (10) x CHAOS_WIDTH (30), CHAOS_SECONDS (150: no kill after) and CHAOS_SEED
# tune it; `make soak` runs a longer one.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/zmq_lib.sh"

kills=${CHAOS_KILLS:-25}
layers=${CHAOS_LAYERS:-10}
width=${CHAOS_WIDTH:-30}
seed=${CHAOS_SEED:-$$}
ledger="$tmp/ledger"
killog="$tmp/kills"
: >"$ledger"
: >"$killog"
echo "chaos: $kills kills, $layers x $width tasks, seed $seed"

# the DAG: layer L task i depends on tasks i and i+1 of layer L-1; each sleeps 0.3-1.2 s
python3 - "$layers" "$width" "$ledger" >"$tmp/dags/chaos.yaml" <<'PY'
import sys
layers, width, ledger = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
print("dag_id: chaos\nschedule: null\ndefault_args: {retries: 50, retry_delay: 0s}\ntasks:")
for l in range(layers):
    for i in range(width):
        t = "l%d_t%d" % (l, i)
        up = "" if l == 0 else ", upstream: [l%d_t%d, l%d_t%d]" % (l - 1, i, l - 1, (i + 1) % width)
        nap = 0.3 + ((l * 7 + i * 13) % 10) / 10.0
        cmd = ('echo start %s $MLFLOWD_CTX_TRY_NUMBER $CHAOS_WORKER $(date +%%s%%N) >> %s; sleep %.1f; '
               'echo end %s $MLFLOWD_CTX_TRY_NUMBER $CHAOS_WORKER $(date +%%s%%N) >> %s') % (t, ledger, nap, t, ledger)
        print("  %s: {operator: shell, command: '%s'%s}" % (t, cmd, up))
PY
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger chaos --run-id r1

gen=0
# run_worker NAME: (re)starts worker NAME; its tasks carry CHAOS_WORKER=NAME.GENERATION
run_worker() {
    gen=$((gen + 1))
    CHAOS_WORKER="$1.$gen" "$MLFLOWD" worker --connect "$endpoint" --name "$1" --concurrency 4 >>"$tmp/$1.log" 2>&1 &
    eval "pid_$1=$!"
    eval "gen_$1=$1.$gen"
}
start_scheduler
fixed_endpoint=$endpoint
run_worker w1
run_worker w2
# rnd N: a pseudo-random 0..N-1 in $r (no subshell: the seed must advance)
rnd() { seed=$(( (seed * 1103515245 + 12345) % 2147483648 )); r=$(( (seed / 65536) % $1 )); }
now_ns() { date +%s%N; }

k=0
deadline=$(( $(date +%s) + ${CHAOS_SECONDS:-150} ))   # the kills stop then, whatever their count
while [ $k -lt "$kills" ]; do
    [ "$("$MLFLOWD" dags state chaos r1 2>/dev/null)" = running ] || [ $k -eq 0 ] || break
    rnd 18; pause=$r
    sleep "$((pause / 10)).$((pause % 10))"
    rnd 3; victim=$r
    case $victim in
    0)  kill -9 "$sched" 2>/dev/null || true
        wait "$sched" 2>/dev/null || true
        echo "$(now_ns) scheduler" >>"$killog"
        rnd 10; sleep "0.$r"
        forget_pid "$sched"
        # the same endpoint: the workers come back to it
        MLFLOWD__EXECUTOR=zmq MLFLOWD__ZMQ__BIND=$fixed_endpoint "$MLFLOWD" scheduler >>"$slog" 2>&1 &
        sched=$!
        pids="$pids $sched" ;;
    *)  w=w$victim
        eval "p=\$pid_$w; g=\$gen_$w"
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
        forget_pid "$p"
        echo "$(now_ns) $g" >>"$killog"
        rnd 10; sleep "0.$r"
        run_worker "$w"
        eval "pids=\"\$pids \$pid_$w\"" ;;
    esac
    k=$((k + 1))
    [ "$(date +%s)" -lt "$deadline" ] || break
done
echo "chaos: $k kills done ($(grep -c scheduler "$killog" || true) of the scheduler)"
wait_run chaos r1 success "$(scaled 150)"

python3 - "$ledger" "$killog" <<'PY' || { tail -30 "$slog"; fail "the ledger shows a re-run or an overlap"; }
import sys, collections
ledger, killog = sys.argv[1], sys.argv[2]
killed = collections.defaultdict(list)  # worker generation -> kill times
for line in open(killog):
    t, who = line.split()
    killed[who].append(int(t))
tries = collections.defaultdict(dict)     # task -> try -> {start, end, worker}
for line in open(ledger):
    w = line.split()
    if len(w) != 5:
        continue
    ev, task, tr, worker, t = w[0], w[1], int(w[2]), w[3], int(w[4])
    tries[task].setdefault(tr, {"worker": worker})[ev] = t
problems, reruns_legit = [], 0
for task, ts in tries.items():
    order = sorted(ts)
    for a, b in zip(order, order[1:]):
        ta, tb = ts[a], ts[b]
        if "start" not in tb:
            continue
        if "end" in ta and ta["end"] > tb["start"]:
            problems.append("%s: try %d ended after try %d started (overlap)" % (task, a, b))
        if "end" in ta:  # try a finished its work; a new try is legit only if a's worker died in between
            if any(ta["end"] < k < tb["start"] for k in killed.get(ta["worker"], [])):
                reruns_legit += 1
            else:
                problems.append("%s: try %d ended on %s, never killed after, yet try %d started" %
                                (task, a, ta["worker"], b))
starts = sum(1 for ts in tries.values() for x in ts.values() if "start" in x)
print("chaos: %d tasks, %d tries started, %d re-runs after their worker was killed, %d problems"
      % (len(tries), starts, reruns_legit, len(problems)))
for p in problems[:20]:
    print("  " + p)
sys.exit(1 if problems else 0)
PY
[ "$(grep -c '^end' "$ledger")" -ge $((layers * width)) ] || fail "not every task ended"
stop_all
expect_exit 0 "$MLFLOWD" db check
echo "chaos ok"
