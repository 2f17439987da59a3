#!/bin/sh
# `mlflowd worker` speaks the sd_notify protocol (its unit is Type=notify) to a socket this test provides:
# READY=1 once its loop runs, STATUS saying whether the scheduler answers (and when it stops answering),
# WATCHDOG=1 within WATCHDOG_USEC, STOPPING=1 last on SIGTERM; its task processes do not inherit NOTIFY_SOCKET.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/zmq_lib.sh"

cat >"$tmp/dags/env.yaml" <<'DAG'
dag_id: env
schedule: null
tasks:
  show: {operator: shell, command: "echo notify-socket=${NOTIFY_SOCKET:-unset}"}
DAG
expect_exit 0 "$MLFLOWD" db init
sock="$tmp/notify.sock"
log="$tmp/notify.log"
python3 - "$sock" "$log" <<'PY' &
import socket, sys
name, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(name)
s.settimeout(120)
with open(out, "w") as f:
    f.write("bound\n"); f.flush()
    while True:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            break
        f.write(msg.replace("\n", "|") + "\n"); f.flush()
        if "STOPPING=1" in msg:
            break
PY
listener=$!
wait_until 10 "the test's socket bound" test -s "$log"

start_scheduler
NOTIFY_SOCKET="$sock" WATCHDOG_USEC=1000000 start_worker w1 --concurrency 1
w1=$wpid
wait_until 15 "the worker reported serving the scheduler: $(cat "$log")" grep -q "STATUS=serving the scheduler at $endpoint\$" "$log"
[ "$(sed -n 2p "$log")" = "STATUS=starting" ] || fail "the first message is not STATUS=starting: $(cat "$log")"
sed -n 3p "$log" | grep -q "^READY=1|STATUS=" || fail "READY=1 is not the second message: $(cat "$log")"
[ "$(grep -c '^READY=1' "$log")" -eq 1 ] || fail "READY=1 sent more than once: $(cat "$log")"
wait_until 15 "three watchdog pings within WATCHDOG_USEC/2 each: $(cat "$log")" \
    sh -c "[ \$(grep -c '^WATCHDOG=1\$' '$log') -ge 3 ]"

# a try on this worker: its task process has no NOTIFY_SOCKET
expect_exit 0 "$MLFLOWD" dags trigger env --run-id r1
wait_run env r1 success 30
expect_exit 0 "$MLFLOWD" tasks logs env r1 show
case "$out" in *"notify-socket=unset"*) ;; *) fail "a task inherited NOTIFY_SOCKET: $out" ;; esac

# the scheduler goes away: the worker stays up, and says it is waiting
stop_pid "$sched" "the scheduler"; forget_pid "$sched"; sched=""
wait_until 15 "the worker reported waiting for the scheduler: $(cat "$log")" \
    grep -q "^STATUS=waiting for the scheduler at $endpoint\$" "$log"
kill -0 "$w1" || fail "the worker exited when the scheduler went away"

stop_pid "$w1" "the worker"; forget_pid "$w1"
wait "$listener" || true
[ "$(tail -1 "$log" | cut -c1-10)" = "STOPPING=1" ] || fail "STOPPING=1 is not last: $(cat "$log")"
stop_all
