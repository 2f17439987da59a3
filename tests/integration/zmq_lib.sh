# zmq_lib.sh -- helpers for the zmq executor's integration tests (sourced after lib.sh): a scheduler with
# executor zmq on a free loopback port, workers, and waiting for states. Every process started here is
# stopped by the EXIT trap.
mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
# short heartbeats keep the tests fast; liveness stays 3 (the default)
export MLFLOWD__ZMQ__HEARTBEAT=${MLFLOWD__ZMQ__HEARTBEAT:-250ms}
pids=""
zmq_cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    cleanup
}
trap zmq_cleanup EXIT

# skip_unless_wired TEXT: skips the test (exit 77) when TEXT (a scheduler's output) says the zmq executor
# is not available in this build yet.
skip_unless_wired() {
    case "$1" in *"executor 'zmq' is not supported"*)
        echo "SKIP: this build's scheduler does not use the zmq executor yet (see the zmq branch's wiring notes)"
        exit 77 ;;
    esac
}

# start_scheduler [ARGS...]: starts `mlflowd scheduler` on a free port (tries others when one is taken) of
# $zmq_host (127.0.0.1 unless set); sets $sched (pid), $endpoint and $slog. Skips the test (exit 77) while the scheduler cannot use the zmq
# executor yet.
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
        skip_unless_wired "$(cat "$slog")"
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
