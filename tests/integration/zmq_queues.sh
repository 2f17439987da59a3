#!/bin/sh
# Routing: a worker listening on queue `gpu` receives only `gpu` task instances, a default-queue worker only
# the others; a task whose operator no worker has loaded stays waiting and `mlflowd tasks state` says why.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/zmq_lib.sh"

marks="$tmp/marks"
cat >"$tmp/dags/routed.yaml" <<YAML
dag_id: routed
schedule: null
tasks:
  g1: {operator: shell, queue: gpu, command: "echo g1 \$WHO >> $marks"}
  g2: {operator: shell, queue: gpu, command: "echo g2 \$WHO >> $marks"}
  c1: {operator: shell, command: "echo c1 \$WHO >> $marks"}
  c2: {operator: shell, command: "echo c2 \$WHO >> $marks"}
  nobody: {operator: file_sensor, path: /, upstream: [c1]}
YAML

expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger routed --run-id r1
start_scheduler
# the workers load only the shell plugin: nobody can run `file_sensor` (`empty` would not wait: it needs no worker); WHO tells the tasks where they ran
WHO=gpu-worker MLFLOWD__PLUGINS__LOAD=shell start_worker wgpu --queues gpu --concurrency 2
WHO=cpu-worker MLFLOWD__PLUGINS__LOAD=shell start_worker wcpu --concurrency 2

state_of() { "$MLFLOWD" tasks state routed "$1" r1 2>"$tmp/why" || echo unknown; }
for t in g1 g2 c1 c2; do
    i=0
    until [ "$(state_of $t)" = success ]; do
        i=$((i + 1)); [ $i -le 150 ] || { tail -30 "$slog"; fail "$t did not succeed"; }
        sleep 0.1
    done
done
grep -qx "g1 gpu-worker" "$marks" || fail "g1 did not run on the gpu worker: $(cat "$marks")"
grep -qx "g2 gpu-worker" "$marks" || fail "g2 did not run on the gpu worker: $(cat "$marks")"
grep -qx "c1 cpu-worker" "$marks" || fail "c1 did not run on the default worker: $(cat "$marks")"
grep -qx "c2 cpu-worker" "$marks" || fail "c2 did not run on the default worker: $(cat "$marks")"

# `nobody` waits, and says why
i=0
until grep -q "has operator 'file_sensor' loaded" "$tmp/why" 2>/dev/null; do
    state_of nobody >/dev/null
    i=$((i + 1)); [ $i -le 100 ] || { cat "$tmp/why"; tail -20 "$slog"; fail "tasks state does not say why nobody waits"; }
    sleep 0.1
done
st=$(state_of nobody)
case "$st" in scheduled | queued) ;; *) fail "nobody is $st, expected it to wait" ;; esac
grep -q "no worker listening on queue 'default' has operator 'file_sensor' loaded" "$tmp/why" || fail "why: $(cat "$tmp/why")"
[ "$("$MLFLOWD" dags state routed r1)" = running ] || fail "the run should still be waiting for 'nobody'"

# a worker that has the operator arrives: it runs
start_worker wall --concurrency 1
wait_run routed r1 success 30
stop_all
echo "queues ok"
