# lib.sh -- helpers for integration tests (sourced). Each test runs real mlflowd processes.
set -eu
: "${top_srcdir:?run through make check}" "${top_builddir:?}" "${MLFLOWD:?}"

tmp=$(mktemp -d /tmp/mlf-it-XXXXXX)
chmod 755 "$tmp"
# A sanitizer report in the output of any process of ours (daemon, worker, task, notifier, CLI): the
# sanitizer build's processes may print one and still exit 0 (a task process that wrote its result, then
# leaked), so every test looks for them in everything it kept.
san_pattern='ERROR: (Address|Leak)Sanitizer|: runtime error: '
# san_scan PATH...: prints the files under PATH that hold a sanitizer report, with the report's first lines.
san_scan() {
    grep -r -l -I -E "$san_pattern" "$@" 2>/dev/null | while IFS= read -r f; do
        echo "sanitizer report in $f:"; grep -E -A12 "$san_pattern" "$f" | head -40
    done
}
# cleanup: the EXIT trap (tests that set their own call it last). A sanitizer report anywhere under $tmp
# fails the test, whatever its status was.
cleanup() { # [STATUS]: the test's exit status when called from another EXIT trap
    status=${1:-$?}
    reports=$(san_scan "$tmp")
    chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"
    if [ -n "$reports" ]; then printf 'FAIL: %s\n' "$reports" >&2; exit 1; fi
    exit "$status"
}
trap cleanup EXIT
export MLFLOWD_HOME="$tmp/home"
unset MLFLOWD_CONFIG MLFLOWD_DAGS_FOLDER || true

fail() { echo "FAIL: $*" >&2; exit 1; }

# skip REASON: this test cannot run here (exit 77); bootstrap names it, and CI fails unless it expects it.
skip() { echo "SKIP: $*"; exit 77; }

# require_plugins NAME...: skips the test unless configure built every plugin NAME (MLF_BUILT_PLUGINS). Only
# this decides "not built": a plugin that was built but fails to load or list is a failure, not a skip.
require_plugins() {
    for p in "$@"; do
        case " ${MLF_BUILT_PLUGINS:-} " in *" $p "*) ;; *) skip "plugin $p not built (configure: $MLF_BUILT_PLUGINS)" ;; esac
    done
}

# sanitized: true in the AddressSanitizer + UndefinedBehaviorSanitizer build (configure --enable-sanitizers),
# where every process runs about 2-4 times slower.
sanitized() { [ "${MLF_SANITIZERS:-no}" = yes ]; }
# scaled N: N, times 4 in the sanitizer build: for bounds on how long something may take (never for how long
# something must take).
scaled() { if sanitized; then echo $(($1 * 4)); else echo "$1"; fi; }

# wait_until SECONDS WHAT CMD...: runs CMD every 0.1 s until it succeeds; fails after SECONDS (times 4 under the
# sanitizers) of wall-clock time, however long CMD itself takes, saying WHAT did not happen.
wait_until() {
    secs=$(scaled "$1"); what=$2; shift 2
    deadline=$(($(date +%s) + secs))
    until "$@"; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "$what (waited $secs s)"
        sleep 0.1
    done
}

# log_ms FILE REGEX: the time (ms since the epoch) a daemon logged on the first line of FILE matching REGEX
# (its lines start with 2026-12-07T19:55:14.123Z): to time what the daemon did by its own clock rather than by
# how soon a test's polling noticed it.
log_ms() {
    python3 - "$1" "$2" <<'PY'
import datetime, re, sys
for line in open(sys.argv[1], errors="replace"):
    if re.search(sys.argv[2], line):
        t = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
        print(int(t.timestamp() * 1000))
        sys.exit(0)
sys.exit("no line matches %r in %s" % (sys.argv[2], sys.argv[1]))
PY
}

# stop_pid PID WHAT: stops PID with SIGTERM (so that LeakSanitizer and the exit handlers run) and fails unless
# it exits 0 within 20 s (killed with SIGKILL then).
stop_pid() {
    kill -TERM "$1" 2>/dev/null || true
    i=0
    while kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; do
        i=$((i + 1)); [ $i -le 200 ] || { kill -KILL "$1" 2>/dev/null; wait "$1" 2>/dev/null; fail "$2 did not stop within 20 s of SIGTERM"; }
        sleep 0.1
    done
    set +e; wait "$1"; st=$?; set -e
    [ "$st" -eq 0 ] || fail "$2 exited $st after SIGTERM (a sanitizer report or a crash: see its log)"
}

# expect_exit CODE CMD... : runs CMD, stores stdout/stderr in $out/$err, checks the exit code.
expect_exit() {
    want=$1; shift
    set +e
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    set -e
    out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
    reports=$(san_scan "$tmp/out" "$tmp/err")
    [ -z "$reports" ] || fail "'$*': $reports"
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want
stdout: $out
stderr: $err"
}

# json_check PYTHON-EXPR: evaluates EXPR with `d` bound to the JSON in $out; fails unless it is true.
json_check() {
    printf '%s' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)" \
        || fail "JSON check failed: $1
JSON: $out"
}
