#!/bin/sh
# Task hosts under a real scheduler: shell tries run as children of long-lived `mlflowd task-host` processes;
# a host SIGKILLed in the middle of a try fails that try with a clear message, its retry runs on a fresh host,
# every other task runs once, and no host outlives the scheduler.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags" "$tmp/marks"
m="$tmp/marks"
cat >"$tmp/dags/hosts.yaml" <<YAML
dag_id: hosts
schedule: null
default_args: {retries: 1, retry_delay: 0s}
tasks:
  q1: {operator: shell, command: "echo \$PPID >> $m/quick"}
  q2: {operator: shell, command: "echo \$PPID >> $m/quick"}
  q3: {operator: shell, command: "echo \$PPID >> $m/quick"}
  q4: {operator: shell, command: "echo \$PPID >> $m/quick"}
  victim:
    operator: shell
    command: "echo \$PPID > $m/victim.\$MLFLOWD_CTX_TRY_NUMBER; if [ \$MLFLOWD_CTX_TRY_NUMBER = 1 ]; then sleep 30; fi"
  after: {operator: shell, upstream: victim, command: "echo \$PPID >> $m/quick"}
YAML
export MLFLOWD_DAGS_FOLDER="$tmp/dags" MLFLOWD__PARALLELISM=2

is_host() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q ' task-host'; }

expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger hosts --run-id r1
"$MLFLOWD" scheduler >"$tmp/scheduler.log" 2>&1 &
sched=$!
i=0
until [ -s "$m/victim.1" ]; do
    i=$((i + 1)); [ $i -le 150 ] || { cat "$tmp/scheduler.log"; fail "the victim's first try did not start"; }
    sleep 0.1
done
host=$(cat "$m/victim.1")
is_host "$host" || fail "the victim's shell was started by $host, not by a task host"
[ "$(awk '{print $4}' "/proc/$host/stat")" = "$sched" ] || fail "task host $host is not the scheduler's child"
kill -9 "$host"

i=0
until [ "$("$MLFLOWD" dags state hosts r1 2>/dev/null)" = success ]; do
    i=$((i + 1)); [ $i -le 200 ] || { cat "$tmp/scheduler.log"; fail "the run did not finish after the host was killed"; }
    sleep 0.1
done
# hosts are alive and idle until the scheduler stops; then none is left
hosts=$(sort -u "$m/quick" "$m/victim.2")
for h in $hosts; do is_host "$h" || fail "a try ran under $h, which is not a live task host"; done
kill -TERM "$sched"
wait "$sched" || fail "the scheduler did not stop cleanly on SIGTERM"
for h in $hosts; do
    [ -d "/proc/$h" ] && ! grep -q '^State:.*Z' "/proc/$h/status" && fail "task host $h outlived the scheduler"
done

[ "$(cat "$m/victim.2")" != "$host" ] || fail "the retry ran on the killed host"
[ "$(wc -l <"$m/quick")" -eq 5 ] || fail "the quick tasks ran $(wc -l <"$m/quick") times, expected 5"
grep -q "hosts/r1/victim try 1 failed (the task host was killed by signal 9 (Killed)); retrying" "$tmp/scheduler.log" \
    || { cat "$tmp/scheduler.log"; fail "the killed try's message is not the host's death"; }
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run hosts r1 -o json
json_check '{t["task_id"]: (t["state"], t["try_number"]) for t in d} == {"q1": ("success", 1), "q2": ("success", 1), "q3": ("success", 1), "q4": ("success", 1), "victim": ("success", 2), "after": ("success", 1)}'
expect_exit 0 "$MLFLOWD" db check
echo "task hosts ok"
