# zmq_lib.sh -- helpers for the zmq executor's integration tests (sourced after lib.sh): a scheduler with
# executor zmq on a free loopback port, workers, and waiting for states. Every process started here is
# stopped by the EXIT trap.
mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
# short heartbeats keep the tests fast; liveness stays 3 (the default)
export MLFLOWD__ZMQ__HEARTBEAT=${MLFLOWD__ZMQ__HEARTBEAT:-250ms}
pids=""
# zmq_cleanup: the EXIT trap. Whatever is still running gets SIGTERM (so that LeakSanitizer runs and its
# report reaches the logs that cleanup scans), SIGKILL after 10 s. Exit statuses are checked by stop_all,
# which a test calls when it ends well; here the test has failed already or stop_all stopped everything.
zmq_cleanup() {
    st=$?
    for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
    i=0
    for p in $pids; do
        while kill -0 "$p" 2>/dev/null && [ "$(ps -o stat= -p "$p" 2>/dev/null | cut -c1)" != Z ] && [ $i -lt 100 ]; do
            i=$((i + 1)); sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    cleanup "$st"
}
trap zmq_cleanup EXIT

# forget_pid PID: a process the test killed on purpose (its exit status is the test's business).
forget_pid() {
    rest=""
    for p in $pids; do [ "$p" = "$1" ] || rest="$rest $p"; done
    pids=$rest
}

# stop_all: stops every process started here, the workers first and the scheduler ($sched) last, each with
# SIGTERM, and fails unless each exits 0: a worker or scheduler that crashes on the way out, or whose
# sanitizer finds a leak or undefined behaviour, fails the test.
stop_all() {
    for p in $pids; do
        [ "$p" = "${sched:-}" ] && continue
        what=$(ps -o args= -p "$p" 2>/dev/null || echo "process $p")
        stop_pid "$p" "$what"
    done
    [ -z "${sched:-}" ] || ! echo " $pids " | grep -q " $sched " || stop_pid "$sched" "the scheduler"
    pids=""
}

# start_scheduler [ARGS...]: starts `mlflowd scheduler` on a free port (tries others when one is taken) of
# $zmq_host (127.0.0.1 unless set); sets $sched (pid), $endpoint and $slog. Any failure to start but a taken
# port fails the test (the zmq executor is part of every build).
start_scheduler() {
    slog="$tmp/scheduler.log"
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$(( 20000 + ($$ * 7 + attempt * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/') ) % 40000 ))
        endpoint="tcp://${zmq_host:-127.0.0.1}:$port"
        : >"$slog"
        # only the scheduler uses the zmq executor (`dags trigger` and the like build no executor of their own)
        MLFLOWD__EXECUTOR=zmq MLFLOWD__ZMQ__BIND=$endpoint "$MLFLOWD" scheduler "$@" >>"$slog" 2>&1 &
        sched=$!
        i=0
        while :; do
            if grep -q "listening for workers on" "$slog"; then pids="$pids $sched"; return 0; fi
            if ! kill -0 "$sched" 2>/dev/null; then break; fi
            i=$((i + 1)); [ $i -le 100 ] || { cat "$slog"; fail "the scheduler did not start"; }
            sleep 0.1
        done
        wait "$sched" 2>/dev/null || true
        grep -q "Address already in use" "$slog" || { cat "$slog"; fail "the scheduler failed to start"; }
    done
    fail "no free port found"
}

# start_worker NAME [ARGS...]: starts `mlflowd worker` connected to $endpoint; its pid goes to $wpid, its
# log to $tmp/NAME.log.
start_worker() {
    name=$1; shift
    "$MLFLOWD" worker --connect "$endpoint" --name "$name" "$@" >>"$tmp/$name.log" 2>&1 &
    wpid=$!
    pids="$pids $wpid"
}

# wait_log FILE TEXT SECONDS: waits until FILE contains TEXT.
wait_log() {
    i=0
    until grep -q -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1)); [ $i -le $(($3 * 10)) ] || { cat "$slog"; fail "'$2' did not appear in $1"; }
        sleep 0.1
    done
}

# wait_run DAG RUN STATE SECONDS
wait_run() {
    i=0
    until [ "$("$MLFLOWD" dags state "$1" "$2" 2>/dev/null)" = "$3" ]; do
        i=$((i + 1)); [ $i -le $(($4 * 10)) ] || { tail -50 "$slog"; fail "run $1/$2 did not reach $3"; }
        sleep 0.1
    done
}
