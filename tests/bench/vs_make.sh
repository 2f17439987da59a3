#!/bin/bash
# vs_make.sh -- mlflowd side by side with make -j2 and ninja -j2 on the same generated graphs, in one run.
#
#   tests/bench/vs_make.sh [-n N] [-r RUNS] [-j PAR] [-k KINDS] [SHAPE...]
#
# For each SHAPE (default: wide chain fan layered) it generates one graph of N tasks (default 10000;
# gen_graph.py: the same graph as a Makefile with phony targets and recipe `true`, a build.ninja, and
# mlflowd DAGs of shell `true` tasks and of `empty` tasks), then runs, RUNS times (default 1) and
# alternating, `make -r -j PAR`, `ninja -j PAR` and `mlflowd dags test` of each DAG kind in KINDS (default
# "shell empty") with parallelism PAR (default 2) and a fresh home each time. It prints one line per tool:
# shape, N, tool, median / min / max wall seconds and the median's ratio to make's. No thresholds: a
# benchmark, not a test; it exits 1 only when a tool fails.
#
# mlflowd is $MLFLOWD, else ./mlflowd (run it from the build directory: `make bench` does). Needs make,
# ninja (Debian: ninja-build) and python3. Absolute times vary between machines and runs; compare the
# ratios of one run. Everything (graphs, mlflowd's home, state store and logs) lives under $TMPDIR, else /tmp.
set -u
here=$(cd "$(dirname "$0")" && pwd)
N=10000 RUNS=1 PAR=2 KINDS="shell empty"
while getopts "n:r:j:k:" o; do
    case $o in
    n) N=$OPTARG ;;
    r) RUNS=$OPTARG ;;
    j) PAR=$OPTARG ;;
    k) KINDS=$OPTARG ;;
    *) sed -n '2,16p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
SHAPES=${*:-wide chain fan layered}
BIN=${MLFLOWD:-./mlflowd}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
for tool in make ninja python3; do
    command -v $tool >/dev/null || { echo "vs_make: $tool is missing" >&2; exit 2; }
done
[ -x "$BIN" ] || { echo "vs_make: $BIN is missing: build mlflowd first, or set MLFLOWD" >&2; exit 2; }

W=$(mktemp -d "${TMPDIR:-/tmp}/mlf-vs-make-XXXXXX")
trap 'rm -rf "$W"' EXIT
failed=0

# wall seconds of "$@" (output discarded), appended to file $1
timed() {
    local out=$1 s e rc
    shift
    s=$(date +%s.%N)
    "$@" >/dev/null 2>"$W/last.err"
    rc=$?
    e=$(date +%s.%N)
    echo "$s $e" | awk '{printf "%.3f\n", $2 - $1}' >>"$out"
    return $rc
}
# median min max of the numbers in file $1
stats() { sort -n "$1" | awk '{a[NR] = $1} END {printf "%.2f %.2f %.2f", a[int((NR + 1) / 2)], a[1], a[NR]}'; }

printf "%-8s %6s %-13s %8s %8s %8s %8s\n" shape n tool median min max "x make"
for shape in $SHAPES; do
    g=$W/$shape
    python3 "$here/gen_graph.py" --shape "$shape" --n "$N" --out "$g" || exit 2
    tools="make ninja"
    for kind in $KINDS; do tools="$tools mlflowd_$kind"; done
    for r in $(seq 1 "$RUNS"); do
        (cd "$g" && timed "$g/make.t" make -r -j "$PAR" -s -f Makefile) || { failed=1; cat "$W/last.err" >&2; }
        (cd "$g" && rm -rf o .ninja_log .ninja_deps && timed "$g/ninja.t" ninja -j "$PAR") ||
            { failed=1; cat "$W/last.err" >&2; }
        for kind in $KINDS; do
            rm -rf "$g/home" && mkdir -p "$g/home/d" && cp "$g/dags/$kind.yaml" "$g/home/d/"
            # only this DAG, only these settings: never the caller's MLFLOWD_* / MLFLOWD__* variables
            if ! env $(env | sed -n 's/^\(MLFLOWD[A-Z_]*\)=.*/-u \1/p') MLFLOWD_HOME="$g/home" \
                MLFLOWD_DAGS_FOLDER="$g/home/d" MLFLOWD__PARALLELISM="$PAR" MLFLOWD__EXECUTOR=local \
                MLFLOWD__CORE__DEFAULT_POOL_SLOTS=$((N + 16)) \
                bash -c "$(declare -f timed); W='$W'; timed '$g/mlflowd_$kind.t' '$BIN' dags test bench_$kind 2024-01-01"; then
                failed=1
                echo "vs_make: mlflowd dags test bench_$kind ($shape) failed:" >&2
                tail -5 "$W/last.err" >&2
            fi
        done
    done
    read -r mk _ <<<"$(stats "$g/make.t")"
    for tool in $tools; do
        read -r med lo hi <<<"$(stats "$g/$tool.t")"
        printf "%-8s %6s %-13s %8s %8s %8s %7.2fx\n" "$shape" "$N" "$tool" "$med" "$lo" "$hi" \
            "$(awk -v a="$med" -v b="$mk" 'BEGIN {print (b > 0 ? a / b : 0)}')"
    done
done
exit $failed
