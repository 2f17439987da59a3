# run_lib.sh -- what the examples' run.sh scripts share (sourced, with $here set to the example's folder and
# $work to its work folder): finding mlflowd and the SDK, and one timed `mlflowd dags test` run.

top=$(cd "$here/../.." && pwd)

# MLFLOWD: as given, else the source tree's build (README.md: build/), else the one on PATH.
if [ -z "${MLFLOWD:-}" ]; then
    if [ -x "$top/build/mlflowd" ]; then
        MLFLOWD=$top/build/mlflowd
    elif command -v mlflowd >/dev/null 2>&1; then
        MLFLOWD=$(command -v mlflowd)
    else
        echo "$0: mlflowd not found: build it (README.md) or set MLFLOWD=/path/to/mlflowd" >&2
        exit 2
    fi
fi

# SDK_CFLAGS / SDK_LIBS for plugins: as given, else the source tree's headers, else pkg-config (the Makefile's
# default).
if [ -z "${SDK_CFLAGS+set}" ] && [ -f "$top/sdk/mlflowd/mlflowd.h" ]; then
    SDK_CFLAGS="-I$top/sdk"
    SDK_LIBS=
fi

# Everything below the example's own home, DAG folder and configuration (a user's MLFLOWD_CONFIG would leak in).
unset MLFLOWD_CONFIG || true
umask 022 # plugin files and folders writable by others are refused
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the example's folder (it may be read-only)
export MLFLOWD_HOME="$work/home" MLFLOWD_DAGS_FOLDER="$here/dags"

# dag_test DAG DATE: one DAG run with `mlflowd dags test DAG DATE -o json`. Its JSON goes to
# $work/runs/DAG.DATE.json and the scheduler's log beside it; prints one line: the run's state, its wall time
# and its task instances by state. Returns the exit code of `dags test`.
dag_test() {
    mkdir -p "$work/runs"
    _json="$work/runs/$1.$2.json"
    _start=$(date +%s%N)
    _rc=0
    "$MLFLOWD" dags test "$1" "$2" -o json >"$_json" 2>"$work/runs/$1.$2.log" || _rc=$?
    _end=$(date +%s%N)
    python3 - "$_json" "$1" "$2" "$_start" "$_end" <<'PY' || { echo "$1 $2: no result (exit code $_rc):" >&2; cat "$work/runs/$1.$2.log" >&2; }
import collections, json, sys
path, dag, date, start, end = sys.argv[1:]
run = json.load(open(path))
states = collections.Counter(ti["state"] for ti in run["task_instances"])
print("%s %s: %s in %.2f s wall, %d task instances (%s)" % (
    dag, date, run["state"], (int(end) - int(start)) / 1e9, len(run["task_instances"]),
    ", ".join("%d %s" % (n, s) for s, n in sorted(states.items()))))
PY
    return $_rc
}
