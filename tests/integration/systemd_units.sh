#!/bin/sh
# The systemd units (dist/systemd/) pass `systemd-analyze verify`, and the scheduler speaks the sd_notify
# protocol to a socket this test provides: READY=1 once it schedules, WATCHDOG=1 within WATCHDOG_USEC,
# STOPPING=1 on SIGTERM; its task processes do not inherit NOTIFY_SOCKET.
. "$top_srcdir/tests/integration/lib.sh"

# ---- the units, with ExecStart pointing at this build
mkdir -p "$tmp/units"
for f in "$top_srcdir"/dist/systemd/*.service.in; do
    sed "s|@bindir@|$top_builddir|g" "$f" >"$tmp/units/$(basename "$f" .in)"
done
cp "$top_srcdir/dist/systemd/mlflowd-clean.timer" "$tmp/units/"
if command -v systemd-analyze >/dev/null; then
    # "Unit is bound to inactive unit" and similar notes about this machine's state are not errors
    ( cd "$tmp/units" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./mlflowd-scheduler.service \
        ./mlflowd-worker@gpu1.service ./mlflowd-clean.service ./mlflowd-clean.timer ./mlflowd-webserver.service ) >"$tmp/verify.log" 2>&1 || true
    if grep -v -E "Failed to (create|load) .*(slice|\.mount|dbus)|No such file or directory.*(dbus|journal)|cannot be found in the system|bound to inactive" "$tmp/verify.log" \
        | grep -q .; then
        fail "systemd-analyze verify: $(cat "$tmp/verify.log")"
    fi
    # a broken unit is caught (the check can fail)
    sed 's/^Type=notify/Type=notifyy/' "$tmp/units/mlflowd-scheduler.service" >"$tmp/units/broken.service"
    ( cd "$tmp/units" && systemd-analyze verify --man=no ./broken.service ) >"$tmp/broken.log" 2>&1 || true
    grep -q "notifyy" "$tmp/broken.log" || fail "systemd-analyze does not catch a bad unit: $(cat "$tmp/broken.log")"
else
    echo "note: no systemd-analyze here; the units' syntax is not verified"
fi
grep -q '^Type=notify$' "$tmp/units/mlflowd-scheduler.service" || fail "the scheduler unit is not Type=notify"
grep -q '^Type=notify$' "$tmp/units/mlflowd-worker@.service" || fail "the worker unit is not Type=notify (worker_sdnotify.sh tests its protocol)"
for k in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/mlflowd PrivateTmp=yes User=mlflowd; do
    grep -q "^$k$" "$tmp/units/mlflowd-scheduler.service" || fail "scheduler unit lacks $k"
    grep -q "^$k$" "$tmp/units/mlflowd-worker@.service" || fail "worker unit lacks $k"
    grep -q "^$k$" "$tmp/units/mlflowd-webserver.service" || fail "webserver unit lacks $k"
done

# ---- the notify protocol, against a socket of ours (a path, then an abstract name)
mkdir -p "$tmp/dags"
cat >"$tmp/dags/env.yaml" <<'DAG'
dag_id: env
schedule: "@once"
start_date: 2024-01-01
tasks:
  show:
    operator: shell
    command: "echo notify-socket=${NOTIFY_SOCKET:-unset}"
DAG
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
expect_exit 0 "$MLFLOWD" dags unpause env
for kind in path abstract; do
    if [ $kind = path ]; then sock="$tmp/notify.sock"; else sock="@mlflowd-test-$$"; fi
    python3 - "$sock" "$tmp/notify-$kind.log" <<'PY' &
import socket, sys, time
name, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + name[1:] if name.startswith("@") else name)
s.settimeout(60)
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
    i=0
    until [ -s "$tmp/notify-$kind.log" ]; do i=$((i + 1)); [ $i -le 100 ] || fail "the test's socket did not bind"; sleep 0.1; done
    NOTIFY_SOCKET="$sock" WATCHDOG_USEC=1000000 "$MLFLOWD" scheduler >"$tmp/sched-$kind.log" 2>&1 &
    pid=$!
    i=0
    until [ "$(grep -c '^WATCHDOG=1$' "$tmp/notify-$kind.log")" -ge 3 ]; do
        i=$((i + 1)); [ $i -le "$(scaled 200)" ] || { kill $pid; fail "$kind: no READY/WATCHDOG: $(cat "$tmp/notify-$kind.log")"; }
        sleep 0.1
    done
    grep -q '^READY=1|STATUS=scheduling 1 DAG(s)' "$tmp/notify-$kind.log" || fail "$kind: no READY=1: $(cat "$tmp/notify-$kind.log")"
    stop_pid $pid "the scheduler"
    wait $listener || true
    grep -q '^STOPPING=1' "$tmp/notify-$kind.log" || fail "$kind: no STOPPING=1: $(cat "$tmp/notify-$kind.log")"
    # READY comes before any WATCHDOG, STOPPING last
    [ "$(sed -n 2p "$tmp/notify-$kind.log" | cut -c1-13)" = "STATUS=starti" ] && [ "$(sed -n 3p "$tmp/notify-$kind.log" | cut -c1-7)" = "READY=1" ] \
        || fail "$kind: unexpected order: $(cat "$tmp/notify-$kind.log")"
    [ "$(tail -1 "$tmp/notify-$kind.log" | cut -c1-10)" = "STOPPING=1" ] || fail "$kind: STOPPING=1 is not last"
done
# the @once run ran under the first scheduler: its task saw no NOTIFY_SOCKET
run=$("$MLFLOWD" dags list-runs env -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["run_id"])')
expect_exit 0 "$MLFLOWD" tasks logs env "$run" show
case "$out" in *"notify-socket=unset"*) ;; *) fail "a task inherited NOTIFY_SOCKET: $out" ;; esac
# without NOTIFY_SOCKET nothing is sent and nothing breaks: every other scheduler test runs so
echo "systemd units ok"
