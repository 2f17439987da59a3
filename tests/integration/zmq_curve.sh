#!/bin/sh
# CurveZMQ: an unlisted worker key is refused (both sides say so), a listed one runs the DAG; a
# non-loopback bind without keys is refused unless --insecure; `mlflowd keys generate` writes a usable pair.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/zmq_lib.sh"

cat >"$tmp/dags/sec.yaml" <<YAML
dag_id: sec
schedule: null
tasks:
  hello: {operator: shell, command: "echo secured"}
YAML
keys="$tmp/keys"
mkdir -p "$keys"
expect_exit 0 "$MLFLOWD" keys generate "$keys/scheduler.key"
sched_pub=$out
[ "$(stat -c %a "$keys/scheduler.key")" = 600 ] || fail "the secret key is not mode 600"
grep -qF -- "$sched_pub" "$keys/scheduler.key.pub" || fail "the public key file does not hold the printed key"
expect_exit 2 "$MLFLOWD" keys generate "$keys/scheduler.key"       # never overwritten by accident
expect_exit 0 "$MLFLOWD" keys generate "$keys/good.key"
expect_exit 0 "$MLFLOWD" keys generate "$keys/bad.key"
cat "$keys/good.key.pub" >"$keys/authorized_keys"

expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger sec --run-id r1

# without CurveZMQ only an explicit --insecure is accepted, loopback included; a worker without key
# options uses the home's keys, and without them it refuses to connect
set +e
MLFLOWD__EXECUTOR=zmq MLFLOWD__ZMQ__BIND=tcp://127.0.0.1:0 MLFLOWD__ZMQ__CURVE__ENABLED=false "$MLFLOWD" scheduler \
    >"$tmp/out" 2>"$tmp/err"
got=$?
set -e
err=$(cat "$tmp/err")
[ "$got" -eq 1 ] || fail "the scheduler exited $got with CURVE off and no --insecure: $err"
case "$err" in *"refusing to accept unauthenticated workers"*"--insecure"*) ;;
    *) fail "no refusal for CURVE off: $err" ;; esac
expect_exit 2 "$MLFLOWD" worker --connect tcp://192.0.2.1:5555
case "$err" in *"no CurveZMQ keys"*"--insecure"*) ;; *) fail "the worker accepted to go without keys: $err" ;; esac

export MLFLOWD__ZMQ__CURVE__ENABLED=true
export MLFLOWD__ZMQ__CURVE__SECRET_KEY_FILE="$keys/scheduler.key"
export MLFLOWD__ZMQ__CURVE__AUTHORIZED_KEYS="$keys/authorized_keys"
start_scheduler
wait_log "$slog" "CurveZMQ, 1 authorized key" 5

# the unlisted key: refused by the ZAP handler, never registered, and the worker says why
start_worker bad --server-key "$keys/scheduler.key.pub" --secret-key "$keys/bad.key"
wait_log "$slog" "is not in the authorized keys" 10
wait_log "$tmp/bad.log" "refused this worker's CURVE key" 10
[ "$("$MLFLOWD" tasks state sec hello r1 2>/dev/null)" = success ] && fail "the unlisted worker ran a task"

# a worker without CURVE at all gets nowhere either
start_worker plain --insecure

# the listed key works. It starts after the other two: once it has registered, they had at least as long
# to register as it needed, and did not (the evidence is its registration, not a sleep).
start_worker good --server-key "$keys/scheduler.key.pub" --secret-key "$keys/good.key"
wait_log "$slog" "worker good" 10
grep -q "worker bad" "$slog" && fail "the unlisted worker registered"
grep -q "worker plain" "$slog" && fail "a worker without CURVE registered"
wait_run sec r1 success 30
expect_exit 0 "$MLFLOWD" tasks logs sec r1 hello
case "$out" in *secured*) ;; *) fail "the log did not come back: $out" ;; esac
# a secret key others can read is refused
chmod 644 "$keys/good.key"
expect_exit 2 "$MLFLOWD" worker --connect "$endpoint" --server-key "$keys/scheduler.key.pub" --secret-key "$keys/good.key"
case "$err" in *"too open"*) ;; *) fail "a world-readable secret key was accepted: $err" ;; esac
stop_all
echo "curve ok"
