#!/bin/sh
# A full disk does not stop the scheduler (issue 15, defect 9). The state store lives on a small tmpfs; 30
# tasks run while the test fills it, then finish: their results cannot be committed (ENOSPC), and the
# scheduler must keep them (not drop them, not exit, not kill anything), log the error, start no new task,
# and commit everything once space is freed: the run then completes, no task ran twice, db check is clean.
. "$top_srcdir/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || skip "mounting a small tmpfs needs root"
mnt="$MLFLOWD_HOME/state"
mkdir -p "$mnt"
mount -t tmpfs -o size=1m,mode=0700 mlf-enospc "$mnt" 2>"$tmp/mount.err" \
    || skip "mount -t tmpfs is not permitted here: $(cat "$tmp/mount.err")"
sched=
finish() {
    st=$?
    [ -z "$sched" ] || kill -KILL "$sched" 2>/dev/null || true
    [ -z "$sched" ] || wait "$sched" 2>/dev/null || true
    umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    cleanup "$st"
}
trap finish EXIT

n=30
line=$(python3 -c 'print("x" * 3900)')
mkdir -p "$tmp/dags"
{
    echo "dag_id: fill"
    echo "schedule: null"
    echo "max_active_tasks: 64"
    echo "tasks:"
    i=1
    while [ $i -le $n ]; do
        # each waits for the test's signal, then prints a line of 3,900 bytes (pushed as its XCom)
        echo "  big$i: {operator: shell, command: \"echo start big$i >> $tmp/ledger; until [ -e $tmp/release ]; do sleep 0.05; done; echo end big$i >> $tmp/ledger; echo $line\"}"
        i=$((i + 1))
    done
    printf '  final: {operator: shell, command: "echo start final >> %s/ledger", upstream: [' "$tmp"
    i=1
    while [ $i -le $n ]; do printf 'big%s%s' $i "$([ $i -lt $n ] && echo ', ')"; i=$((i + 1)); done
    echo ']}'
} >"$tmp/dags/fill.yaml"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger fill --run-id r1
MLFLOWD__PARALLELISM=64 "$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
count() { grep -c "$1" "$tmp/ledger" 2>/dev/null || true; }
started() { c=$(count "^start big"); [ "${c:-0}" -eq $n ]; }
wait_until 60 "all $n tasks did not start" started

# fill the store's file system, then let the tasks finish: their results need pages the disk has not got
dd if=/dev/zero of="$mnt/filler" bs=4k >/dev/null 2>&1 || true
[ "$(df --output=avail "$mnt" | tail -1)" -eq 0 ] || fail "the tmpfs is not full: $(df "$mnt")"
touch "$tmp/release"
ended() { c=$(count "^end big"); [ "${c:-0}" -eq $n ]; }
wait_until 60 "the $n tasks did not finish" ended
failing() { grep -q "the state store cannot commit: No space left on device" "$tmp/sched.log"; }
wait_until 30 "the scheduler did not log the full disk" failing
sleep 2 # the scheduler keeps retrying meanwhile
kill -0 "$sched" 2>/dev/null || { cat "$tmp/sched.log"; fail "the scheduler exited on a full disk"; }
grep -q "^start final" "$tmp/ledger" && fail "a new task started while the store could not commit"

# free the space: the kept results are committed, the run goes on and completes
rm -f "$mnt/filler"
run_done() { [ "$("$MLFLOWD" dags list-runs fill -o json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["state"])' 2>/dev/null)" = success ]; }
wait_until 60 "the run did not complete after space was freed" run_done
grep -q "the state store commits again after" "$tmp/sched.log" || fail "no recovery logged: $(tail -5 "$tmp/sched.log")"
stop_pid "$sched" "the scheduler"
sched=
# every task ran exactly once: the results that arrived during the outage were kept, not retried
for t in $(seq 1 $n) final; do
    name=$t; [ "$t" = final ] || name=big$t
    c=$(grep -c "^start $name\$" "$tmp/ledger")
    [ "$c" -eq 1 ] || fail "$name started $c times"
done
expect_exit 0 "$MLFLOWD" tasks xcom fill r1 big7
case "$out" in *xxxxxxxxxx*) ;; *) fail "the XCom of a task that ended during the outage is missing: $out" ;; esac
expect_exit 0 "$MLFLOWD" db check
echo "store enospc ok: $(grep -c 'the state store cannot' "$tmp/sched.log") failed attempt(s) logged"
