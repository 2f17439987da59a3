# lib.sh -- helpers for integration tests (sourced). Each test runs real mlflowd processes.
set -eu
: "${top_srcdir:?run through make check}" "${top_builddir:?}" "${MLFLOWD:?}"

tmp=$(mktemp -d /tmp/mlf-it-XXXXXX)
chmod 755 "$tmp"
cleanup() { chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
export MLFLOWD_HOME="$tmp/home"
unset MLFLOWD_CONFIG MLFLOWD_DAGS_FOLDER || true

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_exit CODE CMD... : runs CMD, stores stdout/stderr in $out/$err, checks the exit code.
expect_exit() {
    want=$1; shift
    set +e
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    set -e
    out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
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
