#!/bin/sh
# A third party can write an executor: tests/integration/batch_executor/batch.c is built out of tree against
# the *installed* SDK (headers + mlflowd-plugin.pc from `make install` into a temporary root), named by
# `executor: batch`, configured under executors.batch.*, and runs a DAG: tries go through its task-process
# pool, results come back stamped by it, and a try on a queue it refuses fails with its reason, never retried.
# Bad settings for it fail the start with the reason.
. "$top_srcdir/tests/integration/lib.sh"

make -C "$top_builddir" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "make install"; }
pc=$(find "$tmp/root" -name mlflowd-plugin.pc | head -1)
[ -n "$pc" ] || fail "mlflowd-plugin.pc was not installed"
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
[ -f "$(dirname "$pc")/../../include/mlflowd/executor.h" ] || fail "executor.h not installed"
plugindir="$tmp/root$(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=plugindir mlflowd-plugin)"
[ -f "$plugindir/local.so" ] || fail "the local executor plugin is not installed in $plugindir"

mkdir -p "$tmp/batch"
cp "$top_srcdir/tests/integration/batch_executor/batch.c" "$tmp/batch/"
chmod -R u+w,go-w "$tmp/batch"
# shellcheck disable=SC2046
${CC:-cc} -O2 -Wall -Wextra -Werror -shared -fPIC $(pkg-config --cflags mlflowd-plugin) "$tmp/batch/batch.c" \
    -o "$tmp/batch/batch.so" $(pkg-config --libs mlflowd-plugin) 2>"$tmp/build.log" || { cat "$tmp/build.log"; fail "out-of-tree build"; }
export MLFLOWD__PLUGINS__PATH="$tmp/batch,$plugindir"

# listed as an executor with its settings
expect_exit 0 "$MLFLOWD" plugins list -o json
json_check '[p for p in d if p["name"] == "batch"][0]["executors"][0]["name"] == "batch"'
json_check '[x["name"] for x in [p for p in d if p["name"] == "batch"][0]["executors"][0]["params"]] == ["label", "slots", "refuse"]'
# (slurm: when configure built it)
case " ${MLF_BUILT_PLUGINS:-} " in *" slurm "*) slurm='"slurm", ' ;; *) slurm="" ;; esac
json_check "sorted(x[\"name\"] for p in d for x in p[\"executors\"]) == [\"batch\", \"local\", \"sequential\", $slurm\"zmq\"]"

mkdir -p "$tmp/dags"
marks="$tmp/marks"
cat >"$tmp/dags/oot.yaml" <<YAML
dag_id: oot
schedule: null
default_args: {retries: 2, retry_delay: 0s}
tasks:
  a: {operator: shell, command: "echo a >> $marks"}
  b: {operator: shell, upstream: a, command: "echo b >> $marks"}
  c: {operator: shell, command: "echo c >> $marks", queue: anywhere}
  d: {operator: shell, command: "echo d >> $marks", queue: gpu, upstream: a}
YAML
export MLFLOWD_DAGS_FOLDER="$tmp/dags" MLFLOWD__EXECUTOR=batch

# a required setting missing, a misspelt one, a bad value: the start fails with the reason
expect_exit 1 "$MLFLOWD" scheduler
case "$err" in *"executor 'batch' requires executors.batch.label"*) ;; *) fail "missing label: $err" ;; esac
export MLFLOWD__EXECUTORS__BATCH__LABEL=oot MLFLOWD__EXECUTORS__BATCH__REFUSE=gpu
MLFLOWD__EXECUTORS__BATCH__SLOT=3 expect_exit 1 "$MLFLOWD" scheduler
case "$err" in *"executors.batch.slot: executor 'batch' has no setting 'slot' (did you mean 'slots'?)"*) ;; *) fail "misspelt: $err" ;; esac
MLFLOWD__EXECUTORS__BATCH__SLOTS=many expect_exit 1 "$MLFLOWD" scheduler
case "$err" in *"executors.batch.slots: expected an integer"*) ;; *) fail "bad value: $err" ;; esac
MLFLOWD__EXECUTORS__BATCH__SLOTS=100 expect_exit 1 "$MLFLOWD" scheduler
case "$err" in *"executors.batch.slots must be 1..64, got 100"*) ;; *) fail "refused by open: $err" ;; esac

expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" dags trigger oot --run-id r1
"$MLFLOWD" scheduler >"$tmp/scheduler.log" 2>&1 &
sched=$!
i=0
until [ "$("$MLFLOWD" dags state oot r1 2>/dev/null)" = failed ]; do
    i=$((i + 1)); [ $i -le 200 ] || { kill "$sched"; cat "$tmp/scheduler.log"; fail "the run did not finish"; }
    sleep 0.1
done
kill -TERM "$sched"
wait "$sched" || { cat "$tmp/scheduler.log"; fail "the scheduler did not stop cleanly"; }

expect_exit 0 "$MLFLOWD" tasks states-for-dag-run oot r1 -o json
json_check '{t["task_id"]: (t["state"], t["try_number"]) for t in d} == {"a": ("success", 1), "b": ("success", 1), "c": ("success", 1), "d": ("failed", 0)}'
expect_exit 0 "$MLFLOWD" tasks state oot d r1
case "$err" in *"the batch executor 'oot' never serves queue 'gpu'"*) ;; *) fail "refusal reason: $err" ;; esac
[ "$(sort "$marks" | tr '\n' ' ')" = "a b c " ] || fail "marks: $(cat "$marks")"
for t in a b c; do
    grep -q "batch: 'oot' took oot.$t try 1" "$tmp/scheduler.log" || { cat "$tmp/scheduler.log"; fail "$t did not go through the batch executor"; }
done
grep -q "batch: executor 'oot' closing: 3 submitted, 3 reported" "$tmp/scheduler.log" || { cat "$tmp/scheduler.log"; fail "close report"; }
echo "executor plugin: built out of tree against the installed SDK, configured, ran a DAG"
