#!/bin/sh
# Settings that used to do nothing (issue: "the newcomer path"): logging.level is applied, and
# scheduler.dag_dir_list_interval rescans the DAG folder for what inotify cannot see (here a DAG file that
# is a symbolic link to a file elsewhere, as examples/standalone.sh makes them; NFS is the other case).
. "$top_srcdir/tests/integration/lib.sh"
mkdir -p "$tmp/dags" "$tmp/elsewhere" "$MLFLOWD_HOME"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/elsewhere/linked.yaml" <<'DAG'
dag_id: linked
schedule: null
tasks:
  one:
    operator: empty
DAG
ln -s "$tmp/elsewhere/linked.yaml" "$tmp/dags/linked.yaml"

# ---- logging.level
expect_exit 0 "$MLFLOWD" dags test linked 2024-01-01
case "$err" in *" INFO scheduler: created DAG run"*) ;; *) fail "no INFO line by default: $err" ;; esac
printf 'logging:\n  level: warning\n' >"$MLFLOWD_HOME/mlflowd.yaml"
expect_exit 0 "$MLFLOWD" dags test linked 2024-01-02
case "$err" in *" INFO "*) fail "logging.level warning still prints INFO: $err" ;; esac
MLFLOWD__LOGGING__LEVEL=debug expect_exit 0 "$MLFLOWD" dags test linked 2024-01-03
case "$err" in *" INFO scheduler: created DAG run"*) ;; *) fail "MLFLOWD__LOGGING__LEVEL=debug: $err" ;; esac

# ---- scheduler.dag_dir_list_interval
printf 'scheduler:\n  dag_dir_list_interval: 1s\n' >"$MLFLOWD_HOME/mlflowd.yaml"
"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
pid=$!
trap 'st=$?; kill $pid 2>/dev/null || true; cleanup $st' EXIT
i=0
until grep -q "scheduler running" "$tmp/sched.log"; do
    i=$((i + 1)); [ $i -le 300 ] || fail "the scheduler did not start: $(cat "$tmp/sched.log")"
    sleep 0.1
done
sleep 1.2 # a change inside the same second would keep the file's mtime
cat >>"$tmp/elsewhere/linked.yaml" <<'DAG'
  two:
    operator: empty
    upstream: [one]
DAG
i=0
until grep -q "DAGs reloaded" "$tmp/sched.log"; do
    i=$((i + 1)); [ $i -le 150 ] || fail "the changed DAG file was not picked up: $(cat "$tmp/sched.log")"
    sleep 0.1
done
stop_pid $pid "the scheduler"
echo "settings ok"
