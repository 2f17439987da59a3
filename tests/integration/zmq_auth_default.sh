#!/bin/sh
# Authenticated by default, loopback included (issue 15, defect 1): a default scheduler creates CurveZMQ
# keys in the home (secrets 0600) and refuses a worker without the handshake, while a worker of the same
# home finds the keys by itself and runs the DAG; SIGHUP reloads the allow-list and drops a worker whose key
# left it; `mlflowd standalone` refuses an unauthenticated worker on its loopback endpoint too.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/zmq_lib.sh"

cat >"$tmp/dags/auth.yaml" <<YAML
dag_id: auth
schedule: null
tasks:
  hello: {operator: shell, command: "echo authenticated"}
YAML
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger auth --run-id r1
start_scheduler
wait_log "$slog" "CurveZMQ, 1 authorized key" 5
for f in scheduler.key worker.key authorized_keys; do
    [ "$(stat -c %a "$MLFLOWD_HOME/keys/$f")" = 600 ] || fail "$f is not mode 600"
done
[ "$(stat -c %a "$MLFLOWD_HOME/keys")" = 700 ] || fail "the keys folder is not mode 700"

# a rogue worker without the handshake (a local user who can reach the port) never registers
start_worker rogue --insecure
sleep 1.5
grep -q "worker rogue" "$slog" && fail "an unauthenticated worker registered on loopback"
[ "$("$MLFLOWD" tasks state auth hello r1 2>/dev/null)" = success ] && fail "the rogue worker ran a task"

# a worker of this home: no key options needed
start_worker good
wait_log "$slog" "worker good" 10
wait_run auth r1 success 30

# SIGHUP: the allow-list now lists another key only: the good worker loses its registration
expect_exit 0 "$MLFLOWD" keys generate "$tmp/other.key"
cp "$tmp/other.key.pub" "$MLFLOWD_HOME/keys/authorized_keys"
kill -HUP "$sched"
wait_log "$slog" "reloaded $MLFLOWD_HOME/keys/authorized_keys: 1 authorized key(s), 1 worker(s) dropped" 10
grep -q "worker good .* is gone: lost its authorization" "$slog" || fail "the good worker was not dropped"
kill -0 "$sched" || fail "SIGHUP stopped the scheduler"
stop_all

# standalone: its loopback endpoint refuses an unauthenticated worker as well
# a fresh worker key and allow-list are created on the next start
rm -f "$MLFLOWD_HOME/keys/worker.key" "$MLFLOWD_HOME/keys/worker.key.pub" "$MLFLOWD_HOME/keys/authorized_keys"
"$MLFLOWD" standalone --workers 1 --port 0 >"$tmp/standalone.log" 2>&1 &
spid=$!
pids="$pids $spid"
i=0
until grep -q "worker local-1 .* ready" "$tmp/standalone.log"; do
    i=$((i + 1)); [ $i -le 100 ] || { cat "$tmp/standalone.log"; fail "standalone's worker did not register"; }
    sleep 0.1
done
endpoint=$(sed -n 's/.* processes on \(tcp:[^ ]*\) .*/\1/p' "$tmp/standalone.log" | head -1)
start_worker rogue2 --insecure
sleep 1.5
grep -q "worker rogue2" "$tmp/standalone.log" && fail "standalone accepted an unauthenticated worker"
kill -INT "$spid"
wait "$spid" || fail "standalone did not stop cleanly"
forget_pid "$spid"
stop_all
echo "auth default ok"
