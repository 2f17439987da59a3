#!/bin/sh
# The slurm executor against a real single-node Slurm cluster (slurm_lib.sh: munged, slurmctld and slurmd
# started here as root): a DAG whose tries are Slurm jobs running `mlflowd task-exec`. Success with XCom and
# log, failure with a retry, a mapped task of 20 instances, an execution_timeout that cancels the job, a
# job pending in a down partition (its Slurm reason in the try's state) cleared by `tasks clear`, a
# running try cleared, and a scheduler SIGKILLed while jobs run whose restart adopts them instead of
# submitting them again. Skipped (exit 77, reason logged) only where the Slurm daemons cannot start.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/slurm_lib.sh"
require_plugins slurm

sched=""
slurm_cleanup() {
    st=$?
    if [ "$st" -ne 0 ] && [ "$st" -ne 77 ]; then
        for f in "$tmp"/sched*.log; do [ -e "$f" ] && { echo "--- $f"; tail -40 "$f"; }; done
        squeue -h -t all -o '%i %j %T %r' 2>/dev/null | tail -40
    fi
    [ -z "$sched" ] || { kill -TERM "$sched" 2>/dev/null || true; slurm_wait_pid "$sched" 20 || kill -KILL "$sched" 2>/dev/null || true; }
    slurm_stop
    cleanup "$st"
}
trap slurm_cleanup EXIT

slurm_start 8
mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
export MLFLOWD__EXECUTOR=slurm
export MLFLOWD__EXECUTORS__SLURM__POLL_INTERVAL=200ms
export MLFLOWD__EXECUTORS__SLURM__SPOOL_DIR="$tmp/spool"
m="$tmp/marks"

# start_sched LOG: the scheduler with the slurm executor; its pid in $sched.
start_sched() {
    "$MLFLOWD" scheduler >>"$1" 2>&1 &
    sched=$!
    wait_until 20 "the scheduler did not start (log: $(tail -5 "$1"))" grep -q "submitting tries as Slurm jobs" "$1"
}
stop_sched() {
    stop_pid "$sched" "the scheduler"
    sched=""
}
run_state() { [ "$("$MLFLOWD" dags state "$1" "$2" 2>/dev/null)" = "$3" ]; }
ti_state() { [ "$("$MLFLOWD" tasks state "$1" "$2" "$3" 2>/dev/null)" = "$4" ]; }

cat >"$tmp/dags/sl.yaml" <<YAML
dag_id: sl
schedule: null
tasks:
  hello:
    operator: shell
    command: "echo hello-from-\$SLURM_JOB_ID; echo ran-hello >> $m"
    executor_config: {slurm: {cpus: 1, memory: 64M, time_limit: "7", extra_flags: ["--nice=5"]}}
  flaky:
    operator: shell
    retries: 1
    retry_delay: 0s
    command: "echo try >> $m.flaky; [ \$(wc -l < $m.flaky) -ge 2 ] || exit 3"
  each:
    operator: shell
    expand: {command: [$(i=0; while [ $i -lt 20 ]; do printf '"echo each-%d >> %s.each"' $i "$m"; i=$((i + 1)); [ $i -lt 20 ] && printf ', '; done)]}
YAML
cat >"$tmp/dags/to.yaml" <<YAML
dag_id: to
schedule: null
tasks:
  slow: {operator: shell, execution_timeout: 2s, command: "echo to-started >> $m.to; sleep 60 && echo to-ended >> $m.to"}
  nowhere: {operator: shell, queue: nosuchpartition, command: "true"}
  badflag: {operator: shell, command: "true", executor_config: {slurm: {extra_flags: ["--uid=0"]}}}
  victim: {operator: shell, retries: 1, retry_delay: 0s, command: "if [ -e $m.v1 ]; then echo v-second >> $m.v; else touch $m.v1; echo v-first >> $m.v; sleep 60; fi"}
YAML
cat >"$tmp/dags/cl.yaml" <<YAML
dag_id: cl
schedule: null
tasks:
  long: {operator: shell, command: "if [ -e $m.cl1 ]; then echo second >> $m.cl; else touch $m.cl1; echo first >> $m.cl; sleep 60 && echo first-ended >> $m.cl; fi"}
YAML
cat >"$tmp/dags/pd.yaml" <<YAML
dag_id: pd
schedule: null
tasks:
  parked: {operator: shell, queue: down, command: "echo parked-ran >> $m.pd"}
YAML
# a bad executor_config is a load error with "did you mean"; an extra flag off the allow-list fails the try
cat >"$tmp/dags/bad.yaml" <<YAML
dag_id: bad
schedule: null
tasks:
  t: {operator: shell, command: "true", executor_config: {slurm: {partiton: debug}}}
  u: {operator: shell, command: "true", executor_config: {slurmm: {}}}
YAML
expect_exit 0 "$MLFLOWD" dags list-import-errors
echo "$out" | grep -q "executor_config.slurm: unknown key 'partiton' (did you mean 'partition'?)" || fail "no load error for a misspelt key: $out"
echo "$out" | grep -q "executor_config: no executor plugin named 'slurmm' is loaded (did you mean 'slurm'?)" || fail "no load error for a misspelt executor: $out"
rm "$tmp/dags/bad.yaml"
expect_exit 0 "$MLFLOWD" db init
for d in sl to cl pd; do expect_exit 0 "$MLFLOWD" dags trigger $d --run-id r1; done
start_sched "$tmp/sched.log"

# jobid DAG TASK [TRY]: the Slurm job id of a try, from the line the executor wrote into its log
jobid() {
    "$MLFLOWD" tasks logs "$1" r1 "$2" --try "${3:-1}" 2>/dev/null | sed -n 's/^slurm: submitted as job \([0-9]*\).*/\1/p' | head -1
}
job_state() { squeue -h -t all -j "$1" -o %T 2>/dev/null; }
has_job_state() { [ -n "$1" ] && [ "$(job_state "$1")" = "$2" ]; }

# a running try cleared: its job is cancelled, the task runs again
wait_until 60 "cl.long did not start" grep -q '^first$' "$m.cl"
j1=$(jobid cl long)
[ -n "$j1" ] && [ "$(job_state "$j1")" = RUNNING ] || fail "cl.long's job '$j1' is not RUNNING: $(job_state "$j1")"
# the parked try pends in the down partition; Slurm's reason reaches its log
wait_until 30 "pd.parked's pending reason did not reach its log" sh -c "'$MLFLOWD' tasks logs pd r1 parked 2>/dev/null | grep -q 'pending (reason: PartitionDown)'"
# ... and `tasks state` (the executor's note beside the running try)
parked_note() { "$MLFLOWD" tasks state pd parked r1 -o json 2>/dev/null | grep -q 'Slurm job [0-9]* pending: PartitionDown'; }
wait_until 30 "tasks state does not show pd.parked's pending reason: $("$MLFLOWD" tasks state pd parked r1 -o json 2>&1)" parked_note
expect_exit 0 "$MLFLOWD" tasks clear cl -t '^long$' -y
wait_until 60 "the cleared try's job $j1 was not cancelled" has_job_state "$j1" CANCELLED
wait_until 60 "cl.long did not run again" grep -q '^second$' "$m.cl"
wait_until 30 "cl.long did not succeed" ti_state cl long r1 success
! grep -q first-ended "$m.cl" || fail "the cleared try ran to its end"
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run cl r1 -o json
json_check '[(t["state"], t["try_number"]) for t in d if t["task_id"] == "long"] == [("success", 2)]'
# a pending try cleared: its job leaves Slurm's queue (cancelled) and a new one is submitted
p1=$(jobid pd parked)
[ -n "$p1" ] && [ "$(job_state "$p1")" = PENDING ] || fail "pd.parked's job '$p1' is not PENDING"
expect_exit 0 "$MLFLOWD" tasks clear pd -t '^parked$' -y
wait_until 60 "the cleared pending job $p1 was not cancelled" has_job_state "$p1" CANCELLED
[ ! -e "$m.pd" ] || fail "the parked task ran"
echo "slurm: clear of a running and of a pending try ok"

# a job cancelled behind mlflowd's back (an administrator's scancel): the try fails with the Slurm state and
# the task's retry runs
wait_until 60 "to.victim did not start" grep -q '^v-first$' "$m.v"
vj=$(jobid to victim)
[ -n "$vj" ] || fail "no job id for to.victim"
scancel "$vj"
wait_until 60 "to.victim's retry did not run" grep -q '^v-second$' "$m.v"
expect_exit 0 "$MLFLOWD" tasks logs to r1 victim --try 1
echo "$out" | grep -q "Slurm job $vj ended CANCELLED (reason: .*) on .* before the try finished" || fail "no Slurm state in the cancelled try's result: $out"
echo "slurm: a job cancelled outside mlflowd fails its try, which is retried ok"

# execution_timeout: the executor cancels the job and fails the try; sbatch refusing a job fails its try
wait_until 60 "to/r1 did not fail" run_state to r1 failed
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run to r1 -o json
json_check '{t["task_id"]: (t["state"], t["try_number"]) for t in d} == {"slow": ("failed", 1), "nowhere": ("failed", 1), "badflag": ("failed", 1), "victim": ("success", 2)}'
expect_exit 0 "$MLFLOWD" tasks state to badflag r1 -o json
echo "$out" | grep -q "extra_flags: '--uid=0' is not allowed" || fail "no refusal of an extra flag: $out"
expect_exit 0 "$MLFLOWD" tasks logs to r1 slow
echo "$out" | grep -q 'execution_timeout of 2s exceeded (Slurm job [0-9]* CANCELLED)' || fail "no timeout message: $out"
t1=$(jobid to slow)
has_job_state "$t1" CANCELLED || fail "the timed-out job $t1 is $(job_state "$t1"), not CANCELLED"
grep -q to-started "$m.to" && ! grep -q to-ended "$m.to" || fail "the timed-out try did not start, or ran to its end"
expect_exit 0 "$MLFLOWD" tasks logs to r1 nowhere
echo "$out" | grep -q 'sbatch refused the job' || fail "no sbatch refusal in the log: $out"
echo "slurm: execution_timeout and refused submission ok"

wait_until 120 "run sl/r1 did not succeed ($(tail -20 "$tmp/sched.log"))" run_state sl r1 success
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run sl r1 -o json
json_check 'sorted((t["task_id"], t["map_index"], t["state"], t["try_number"]) for t in d if t["task_id"] != "each") == [("flaky", -1, "success", 2), ("hello", -1, "success", 1)]'
json_check 'sorted(t["map_index"] for t in d if t["task_id"] == "each" and t["state"] == "success") == list(range(20))'
[ "$(sort -u "$m.each" | wc -l)" -eq 20 ] || fail "the 20 mapped tries did not all run once: $(sort "$m.each" | uniq -c)"
[ "$(wc -l <"$m.each")" -eq 20 ] || fail "a mapped try ran twice"
# the task ran inside a Slurm job (its environment names the job) and the log tells the job's story
expect_exit 0 "$MLFLOWD" tasks logs sl r1 hello
echo "$out" | grep -q 'hello-from-[0-9]' || fail "the task did not run in a Slurm job: $out"
echo "$out" | grep -q 'slurm: submitted as job [0-9]' || fail "no submission line in the log: $out"
expect_exit 0 "$MLFLOWD" tasks logs sl r1 flaky --try 1
echo "$out" | grep -q 'slurm: submitted as job' || fail "no submission line in the failed try's log: $out"
# executor_config reached sbatch: the job's CPUs, memory, time limit and nice value
hj=$(jobid sl hello)
[ "$(squeue -h -t all -j "$hj" -o '%C %m %l %y')" = "1 64M 7:00 5" ] || fail "job $hj did not get the task's executor_config: $(squeue -h -t all -j "$hj" -o '%C %m %l %y')"
echo "slurm: success, retry, executor_config and 20 mapped tries ok"
stop_sched

# the scheduler SIGKILLed while jobs run: the restarted one adopts them (by the job ids in their leases), so
# no try runs twice; a job that ended while no scheduler watched is reported from its result file
cat >"$tmp/dags/rs.yaml" <<YAML
dag_id: rs
schedule: null
tasks:
  quick: {operator: shell, command: "echo quick-start >> $m.rs; sleep 1; echo quick-end >> $m.rs"}
  slow1: {operator: shell, command: "echo slow1-start >> $m.rs; sleep 6; echo slow1-end >> $m.rs"}
  slow2: {operator: shell, command: "echo slow2-start >> $m.rs; sleep 6; echo slow2-end >> $m.rs"}
  after: {operator: shell, upstream: [quick, slow1, slow2], command: "echo after >> $m.rs"}
YAML
expect_exit 0 "$MLFLOWD" dags trigger rs --run-id r1
start_sched "$tmp/sched2.log"
wait_until 60 "rs's tries did not all start" sh -c "grep -q quick-start $m.rs && grep -q slow1-start $m.rs && grep -q slow2-start $m.rs"
kill -KILL "$sched"
wait "$sched" 2>/dev/null || true
sched=""
wait_until 30 "quick did not end while the scheduler was down" grep -q quick-end "$m.rs"
start_sched "$tmp/sched3.log"
wait_until 10 "the restarted scheduler adopted nothing" grep -q "adopted try" "$tmp/sched3.log"
wait_until 90 "run rs/r1 did not succeed after the restart ($(tail -20 "$tmp/sched3.log"))" run_state rs r1 success
for t in quick slow1 slow2; do
    [ "$(grep -c "^$t-start$" "$m.rs")" -eq 1 ] || fail "$t started $(grep -c "^$t-start$" "$m.rs") times"
    [ "$(grep -c "^$t-end$" "$m.rs")" -eq 1 ] || fail "$t ended $(grep -c "^$t-end$" "$m.rs") times"
done
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run rs r1 -o json
json_check '{t["task_id"]: (t["state"], t["try_number"]) for t in d} == {"quick": ("success", 1), "slow1": ("success", 1), "slow2": ("success", 1), "after": ("success", 1)}'
stop_sched
expect_exit 0 "$MLFLOWD" db check
# finished tries leave nothing behind (the parked try, pending still, keeps its spec)
[ -z "$(ls "$tmp/spool" | grep -E '\.(result|exit)$')" ] || fail "the spool folder kept files of finished tries: $(ls "$tmp/spool")"
[ "$(ls "$tmp/spool" | grep -c '\.spec$')" -eq 1 ] || fail "the spool folder should hold the parked try's spec only: $(ls "$tmp/spool")"
echo "slurm ok"
