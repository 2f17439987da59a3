#!/bin/sh
# vs_slurm.sh -- the slurm executor next to the local executor on the same DAGs, on a private single-node
# Slurm cluster started here (tests/integration/slurm_lib.sh; run as root).
#
#   tests/bench/vs_slurm.sh [-n N] [-s SLOTS] [EXECUTOR...]
#
# For each EXECUTOR (default: local slurm), with a fresh home and a scheduler of its own:
#  - latency: one run of a mapped task of SLOTS one-second tries, all ready at once and fewer than the slots:
#    each try's submit-to-start latency is the moment its command started (its own `date`) minus the
#    moment the scheduler started the run (the run's start_date), i.e. dispatch + executor + start-up;
#  - throughput: one run of a mapped task of N (default 1000) one-second tries: the run's wall time
#    (start_date to end_date) and N / that time.
# Both executors get SLOTS (default 16) tries at once: local with parallelism SLOTS, Slurm with a node of
# this machine's CPUs, each core shared by SLOTS / CPUs jobs; the slurm executor submits up to 1,000 jobs
# (max_submitted) and polls every 500 ms. A benchmark, not a test: no thresholds.
#
# mlflowd is $MLFLOWD, else ./mlflowd (run it from the build directory).
set -eu
N=1000 SLOTS=16
while getopts "n:s:" o; do
    case $o in
    n) N=$OPTARG ;;
    s) SLOTS=$OPTARG ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
EXECUTORS=${*:-local slurm}
here=$(cd "$(dirname "$0")" && pwd)
MLFLOWD=${MLFLOWD:-./mlflowd}
case $MLFLOWD in /*) ;; *) MLFLOWD=$(pwd)/$MLFLOWD ;; esac
[ -x "$MLFLOWD" ] || { echo "vs_slurm: $MLFLOWD is missing: build mlflowd first, or set MLFLOWD" >&2; exit 2; }

tmp=$(mktemp -d /tmp/mlf-vs-slurm-XXXXXX)
chmod 755 "$tmp"
fail() { echo "vs_slurm: $*" >&2; exit 1; }
skip() { echo "vs_slurm: cannot run: $*" >&2; exit 2; }
scaled() { echo "$1"; }
. "$here/../integration/slurm_lib.sh"
sched=""
finish() {
    [ -z "$sched" ] || { kill -TERM "$sched" 2>/dev/null; slurm_wait_pid "$sched" 30 || kill -KILL "$sched"; }
    slurm_stop
    rm -rf "$tmp"
}
trap finish EXIT
cpus=$(nproc)
slurm_start $(( (SLOTS + cpus - 1) / cpus ))

# dag FILE ID COUNT: a DAG of one mapped task of COUNT one-second tries, each noting when it started
dag() {
    {
        echo "dag_id: $2"
        echo "schedule: null"
        echo "tasks:"
        echo "  t:"
        echo "    operator: shell"
        printf '    expand: {command: ['
        i=0
        while [ $i -lt "$3" ]; do
            [ $i -eq 0 ] || printf ', '
            printf '"date +%%s.%%N >> %s/starts.%s; sleep 1"' "$tmp" "$2"
            i=$((i + 1))
        done
        echo ']}'
    } >"$1"
}

for ex in $EXECUTORS; do
    export MLFLOWD_HOME="$tmp/home.$ex" MLFLOWD_DAGS_FOLDER="$tmp/dags.$ex"
    mkdir -p "$MLFLOWD_DAGS_FOLDER"
    dag "$MLFLOWD_DAGS_FOLDER/lat.yaml" lat_$ex "$SLOTS"
    dag "$MLFLOWD_DAGS_FOLDER/thr.yaml" thr_$ex "$N"
    "$MLFLOWD" db init >/dev/null
    MLFLOWD__EXECUTOR=$ex MLFLOWD__PARALLELISM=$SLOTS MLFLOWD__EXECUTORS__SLURM__POLL_INTERVAL=500ms \
        MLFLOWD__EXECUTORS__SLURM__SPOOL_DIR="$tmp/spool" "$MLFLOWD" scheduler >"$tmp/sched.$ex.log" 2>&1 &
    sched=$!
    sleep 2
    for kind in lat thr; do
        "$MLFLOWD" dags trigger ${kind}_$ex --run-id r1 >/dev/null 2>&1
        i=0
        until [ "$("$MLFLOWD" dags state ${kind}_$ex r1 2>/dev/null)" = success ]; do
            i=$((i + 1)); [ $i -le 36000 ] || fail "$ex: run ${kind}_$ex did not succeed in an hour"
            st=$("$MLFLOWD" dags state ${kind}_$ex r1 2>/dev/null || true)
            [ "$st" != failed ] || fail "$ex: run ${kind}_$ex failed (log: $tmp/sched.$ex.log)"
            sleep 0.2
        done
        "$MLFLOWD" dags list-runs ${kind}_$ex -o json >"$tmp/run.json"
        python3 - "$tmp/run.json" "$tmp/starts.${kind}_$ex" "$ex" "$kind" "$N" <<'PY'
import datetime, json, statistics, sys
runs = json.load(open(sys.argv[1]))
r = runs[0]
def ts(v):
    if isinstance(v, (int, float)):
        return v / 1e6 if v > 1e12 else v
    return datetime.datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp()
start, end = ts(r["start_date"]), ts(r["end_date"])
starts = sorted(float(l) for l in open(sys.argv[2]) if l.strip())
ex, kind, n = sys.argv[3], sys.argv[4], int(sys.argv[5])
if kind == "lat":
    lat = [s - start for s in starts]
    print("%-6s latency   %d tries: submit-to-start median %.3f s, min %.3f s, max %.3f s" % (
        ex, len(lat), statistics.median(lat), lat[0], lat[-1]))
else:
    wall = end - start
    print("%-6s throughput %d one-second tries: run wall %.1f s, %.2f tries/s (first start +%.3f s, last start +%.1f s)" % (
        ex, len(starts), wall, len(starts) / wall, starts[0] - start, starts[-1] - start))
PY
    done
    kill -TERM "$sched"
    slurm_wait_pid "$sched" 60 || kill -KILL "$sched"
    sched=""
done
