#!/bin/sh
# `mlflowd standalone` also starts the webserver: it prints the URL and, on the first start only, the
# generated admin password (kept 0600 in the home); the scheduler's heartbeat reaches /health; stopping
# standalone stops the webserver.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/web_lib.sh"
sa_pid=
trap 'rc=$?; [ -n "$sa_pid" ] && kill "$sa_pid" 2>/dev/null; wait 2>/dev/null; cleanup $rc' EXIT
web_dags
export MLFLOWD__API__LISTEN=127.0.0.1:0

# start_standalone: runs it in the background, waits for its web UI line; sets $url and $sa_pid.
start_standalone() {
    : >"$tmp/sa.err"
    "$MLFLOWD" standalone --workers 1 >"$tmp/sa.out" 2>"$tmp/sa.err" &
    sa_pid=$!
    url=
    for _ in $(seq 1 100); do
        url=$(sed -n 's|.*web UI: *\(http://[0-9.:]*\)/.*|\1|p' "$tmp/sa.err")
        [ -n "$url" ] && break
        kill -0 "$sa_pid" 2>/dev/null || fail "standalone exited: $(cat "$tmp/sa.err")"
        sleep 0.1
    done
    [ -n "$url" ] || fail "standalone printed no URL: $(cat "$tmp/sa.err")"
}

stop_standalone() {
    kill -INT "$sa_pid"
    wait "$sa_pid" || fail "standalone exited $?: $(cat "$tmp/sa.err")"
    sa_pid=
}

start_standalone
pw=$(sed -n 's/.*log in: *user admin, password \([A-Za-z0-9]*\) .*/\1/p' "$tmp/sa.err")
[ -n "$pw" ] || fail "no admin password printed on the first start: $(cat "$tmp/sa.err")"
[ "$(cat "$MLFLOWD_HOME/standalone_admin_password")" = "$pw" ] || fail "the password file differs"
[ "$(stat -c %a "$MLFLOWD_HOME/standalone_admin_password")" = 600 ] || fail "the password file is not 0600"
http POST /api/v1/auth/login -H "Content-Type: application/json" -d "{\"username\": \"admin\", \"password\": \"$pw\"}"
expect_status 200
json_check 'd["role"] == "admin"'
# the scheduler's heartbeat makes it healthy (written at its first turn)
ok=0
for _ in $(seq 1 50); do
    http GET /health
    if printf '%s' "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["scheduler"]["status"] == "healthy" and d["scheduler"]["heartbeat_age_seconds"] < 30 else 1)'; then
        ok=1
        break
    fi
    sleep 0.2
done
[ $ok = 1 ] || fail "the scheduler never became healthy: $out"
web_child=$(pgrep -P "$sa_pid" -f 'mlflowd webserver' || true)
[ -n "$web_child" ] || fail "no webserver child of standalone"
stop_standalone
kill -0 "$web_child" 2>/dev/null && fail "the webserver outlived standalone"
# the heartbeat ages: the scheduler is unhealthy once it is gone (checked through a new webserver)
web_start
http GET /health
json_check 'd["scheduler"]["latest_scheduler_heartbeat"] is not None and d["metadatabase"]["status"] == "healthy"'
web_stop check

# the second start prints where the password is, not the password
start_standalone
case "$(cat "$tmp/sa.err")" in
*"$pw"*) fail "the password was printed again: $(cat "$tmp/sa.err")" ;;
*"password in $MLFLOWD_HOME/standalone_admin_password"*) ;;
*) fail "the second start does not say where the password is: $(cat "$tmp/sa.err")" ;;
esac
stop_standalone
