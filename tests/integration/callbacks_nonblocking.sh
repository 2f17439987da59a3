#!/bin/sh
# Callbacks never delay the scheduler: a task's on_success_callback posts to a webhook that accepts the
# connection and never answers (the notifier waits for its 8 s timeout), yet the downstream task starts right
# after the first one ends, long before the callback gives up. The callback still running when the run ends is
# named in the log, not silently left behind.
. "$top_srcdir/tests/integration/lib.sh"
require_plugins shell notifiers

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
# a server that accepts connections, records when, and never answers
python3 - "$tmp/port" "$tmp/accepted" <<'PY' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(60)
held = []
try:
    while True:
        c, _ = s.accept()
        held.append(c)
        with open(sys.argv[2], "a") as f:
            f.write("%d\n" % time.time_ns())
except socket.timeout:
    pass
PY
server=$!
wait_until 10 "the silent server did not start" test -s "$tmp/port"
port=$(cat "$tmp/port")
cat >"$tmp/dags/cbwait.yaml" <<YAML
dag_id: cbwait
tasks:
  first:
    operator: shell
    command: "echo \$(date +%s%N) > $tmp/first.end"
    on_success_callback: {notifier: webhook, url: "http://127.0.0.1:$port/hook", timeout: 8s}
  second: {operator: shell, upstream: first, command: "echo \$(date +%s%N) > $tmp/second.start"}
YAML
expect_exit 0 "$MLFLOWD" dags test cbwait 2024-01-01 -o json
json_check 'all(t["state"] == "success" for t in d["task_instances"])'
kill "$server" 2>/dev/null || true
wait "$server" 2>/dev/null || true
[ -s "$tmp/accepted" ] || fail "the callback never reached the webhook: $err"
gap=$(( ($(cat "$tmp/second.start") - $(cat "$tmp/first.end")) / 1000000 ))
echo "second started $gap ms after first ended; the callback hung for 8 s"
[ "$gap" -le "$(scaled 1500)" ] || fail "second started $gap ms after first ended: the callback delayed the scheduler"
# the callback that timed out is reported, not silently dropped
case "$err" in *"a notifier process (pid "*") is still running after 5 s"*) ;;
    *) fail "the hung callback is not in the log: $err" ;; esac
echo "callbacks nonblocking ok"
