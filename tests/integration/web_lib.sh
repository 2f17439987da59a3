# web_lib.sh -- helpers for the webserver tests (sourced after lib.sh): a DAG folder with real runs, a
# webserver on a free loopback port, and an HTTP client that keeps status, headers and body apart.

# web_dags: a DAG whose middle task fails (extract -> transform (exit 1) -> load) and one that succeeds,
# each run once with `dags test`, so the store holds real runs, TIs and logs.
web_dags() {
    mkdir -p "$tmp/dags"
    export MLFLOWD_DAGS_FOLDER="$tmp/dags"
    cat >"$tmp/dags/etl.yaml" <<'YAML'
dag_id: etl
description: extract, transform (fails), load
schedule: "@daily"
start_date: 2024-01-01
tags: [demo]
tasks:
  extract: {operator: shell, command: "echo extracting rows; echo extract-line-2"}
  transform: {operator: shell, upstream: extract, command: "echo transform-says-hello; exit 1"}
  load: {operator: shell, upstream: transform, command: "echo load"}
YAML
    cat >"$tmp/dags/ok.yaml" <<'YAML'
dag_id: ok
schedule: null
tasks:
  one: {operator: shell, command: "echo one"}
  two: {operator: shell, upstream: one, command: "echo two"}
YAML
    "$MLFLOWD" dags test etl 2024-01-01 >/dev/null 2>&1 && fail "the etl DAG should fail"
    "$MLFLOWD" dags test ok 2024-01-01 >/dev/null 2>&1 || fail "the ok DAG should succeed"
}

# web_start [ARGS...]: starts `mlflowd webserver` on a free port; sets $url and $web_pid.
web_start() {
    : >"$tmp/web.log" # before the background start: the loop below may read it before the child opens it
    "$MLFLOWD" webserver --listen 127.0.0.1:0 "$@" >"$tmp/web.log" 2>&1 &
    web_pid=$!
    i=0
    url=
    while [ $i -lt 100 ]; do
        url=$(sed -n 's|.*webserver listening on \(https\{0,1\}://[0-9.:]*\)/.*|\1|p' "$tmp/web.log")
        [ -n "$url" ] && break
        kill -0 "$web_pid" 2>/dev/null || fail "the webserver exited: $(cat "$tmp/web.log")"
        sleep 0.1
        i=$((i + 1))
    done
    [ -n "$url" ] || fail "the webserver did not start: $(cat "$tmp/web.log")"
}

# web_stop [check]: stops the webserver; with "check", fails unless it exited 0 (a sanitizer report on the
# way out, for one, makes the exit status non-zero).
web_stop() {
    [ -n "${web_pid:-}" ] || return 0
    kill "$web_pid" 2>/dev/null || true
    set +e
    wait "$web_pid" 2>/dev/null
    web_rc=$?
    set -e
    web_pid=
    [ "${1:-}" != check ] || [ "$web_rc" -eq 0 ] || fail "the webserver exited $web_rc: $(tail -50 "$tmp/web.log")"
}

# http METHOD PATH [curl args...]: sets $status, $out (body) and $ctype; never fails by itself.
http() {
    m=$1; p=$2; shift 2
    set +e
    status=$(curl -sS -m 20 -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' -X "$m" "$@" "$url$p")
    set -e
    out=$(cat "$tmp/body")
    ctype=$(sed -n 's/^[Cc]ontent-[Tt]ype: *\([^;\r]*\).*/\1/p' "$tmp/headers" | tail -1)
}

# expect_status CODE: the last http answer had CODE (and, for errors, a problem+json body with it).
expect_status() {
    [ "$status" = "$1" ] || fail "$m $p: HTTP $status, expected $1: $out"
    case "$1" in
    4* | 5*)
        [ "$ctype" = "application/problem+json" ] || fail "$m $p: error answered as '$ctype', not problem+json"
        json_check "d['status'] == $1 and isinstance(d['detail'], str) and d['detail']"
        ;;
    esac
}
