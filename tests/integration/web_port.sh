#!/bin/sh
# The webserver's port: 8080 stays the default (api.listen), `--port` changes it for `webserver` and
# `standalone`, and `--port 0` takes any free port, written with the URL to HOME/webserver.url -- so that two
# standalones (parallel tests, a busy machine) never collide. A taken port is a clear error.
. "$top_srcdir/tests/integration/lib.sh"

expect_exit 0 "$MLFLOWD" config get api.listen
[ "$out" = "127.0.0.1:8080" ] || fail "the default listen address changed: $out"
expect_exit 2 "$MLFLOWD" standalone --port 70000
case "$err" in *"--port"*"65535"*) ;; *) fail "standalone --port 70000: $err" ;; esac
expect_exit 2 "$MLFLOWD" webserver --port http
case "$err" in *"--port"*) ;; *) fail "webserver --port http: $err" ;; esac

mkdir -p "$tmp/dags"
cat >"$tmp/dags/d.yaml" <<'YAML'
dag_id: d
schedule: null
tasks:
  t: {operator: empty}
YAML
# two standalones at once, each on a port of its own
pids=""
for n in 1 2; do
    MLFLOWD_HOME="$tmp/home$n" "$MLFLOWD" standalone --dags-folder "$tmp/dags" --workers 1 --port 0 >"$tmp/sa$n.log" 2>&1 &
    pids="$pids $!"
done
stop_standalones() { for p in $pids; do kill -INT "$p" 2>/dev/null || true; done; for p in $pids; do wait "$p" 2>/dev/null || true; done; }
trap 'st=$?; stop_standalones; cleanup "$st"' EXIT
for n in 1 2; do
    wait_until 30 "standalone $n wrote its webserver's URL: $(cat "$tmp/sa$n.log")" test -s "$tmp/home$n/webserver.url"
done
url1=$(cat "$tmp/home1/webserver.url"); url2=$(cat "$tmp/home2/webserver.url")
case "$url1" in http://127.0.0.1:[0-9]*) ;; *) fail "webserver.url: $url1" ;; esac
[ "$url1" != "$url2" ] || fail "both webservers on $url1"
case "$url1$url2" in *:8080*) fail "--port 0 bound 8080: $url1 $url2" ;; esac
for n in 1 2; do
    url=$(cat "$tmp/home$n/webserver.url")
    wait_until 10 "standalone $n's banner shows $url" grep -q "web UI: *$url/ " "$tmp/sa$n.log"
    python3 -c "import urllib.request,sys; r=urllib.request.urlopen(sys.argv[1] + '/health', timeout=10); sys.exit(0 if r.status == 200 else 1)" "$url" ||
        fail "GET $url/health failed"
done

# a taken port: the webserver says so and exits 1
port=${url1##*:}
expect_exit 1 "$MLFLOWD" webserver --port "$port"
case "$err" in *"cannot listen on 127.0.0.1:$port"*) ;; *) fail "webserver on a taken port: $err" ;; esac

# a stopped standalone's webserver takes its URL file away
for p in $pids; do kill -INT "$p"; done
for p in $pids; do wait "$p" || fail "standalone did not exit 0 after SIGINT"; done
pids=""
[ ! -e "$tmp/home1/webserver.url" ] || fail "webserver.url outlived its webserver"
