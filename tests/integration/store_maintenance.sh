#!/bin/sh
# Store maintenance (issue: "a service that runs unattended"): db clean --older-than / --dry-run / retention.*,
# db backup taken while a busy scheduler writes (each backup restores into a store that passes db check),
# db restore refused while the store is in use and accepted once the scheduler stopped.
. "$top_srcdir/tests/integration/lib.sh"
mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
cat >"$tmp/dags/daily.yaml" <<'DAG'
dag_id: daily
schedule: null
tasks:
  a:
    operator: shell
    command: "echo a-{{ ds }}"
  b:
    operator: shell
    upstream: [a]
    command: "echo b-{{ ds }}"
DAG
runs_of() { "$MLFLOWD" dags list-runs "$1" -o json | python3 -c 'import json,sys; print(" ".join(sorted(r["logical_date"][:10] for r in json.load(sys.stdin))))'; }

# ---- db clean
expect_exit 2 "$MLFLOWD" db clean
case "$err" in *"give --older-than AGE"*) ;; *) fail "db clean without an age: $err" ;; esac
expect_exit 0 "$MLFLOWD" dags test daily 2024-01-01
expect_exit 0 "$MLFLOWD" dags test daily 2024-01-02
sleep 5.2 # the runs above end more than 5 s before the clean, the one below less
expect_exit 0 "$MLFLOWD" dags test daily 2024-01-03
logs="$MLFLOWD_HOME/logs/daily"
[ "$(ls "$logs" | wc -l)" -eq 3 ] || fail "expected 3 run log folders: $(ls "$logs")"
expect_exit 0 "$MLFLOWD" db clean --older-than 5s --dry-run -o json
json_check 'd == {"dry_run": True, "runs": 2, "task_instances": 4, "xcoms": 4, "log_files": 4, "log_bytes": d["log_bytes"], "workers": 0} and d["log_bytes"] > 0'
[ "$(runs_of daily)" = "2024-01-01 2024-01-02 2024-01-03" ] || fail "--dry-run deleted runs: $(runs_of daily)"
echo n >"$tmp/no"
expect_exit 1 "$MLFLOWD" db clean --older-than 5s <"$tmp/no"
[ "$(runs_of daily)" = "2024-01-01 2024-01-02 2024-01-03" ] || fail "an unconfirmed clean deleted runs"
expect_exit 0 "$MLFLOWD" db clean --older-than 5s -y
case "$out" in "Deleted 2 run(s) (4 task instance(s), 4 XCom(s)) and 4 log file(s)"*) ;; *) fail "db clean: $out" ;; esac
[ "$(runs_of daily)" = "2024-01-03" ] || fail "db clean kept the wrong runs: $(runs_of daily)"
[ "$(ls "$logs" | wc -l)" -eq 1 ] || fail "the deleted runs' logs stayed: $(ls "$logs")"
expect_exit 0 "$MLFLOWD" db check

# retention.logs: an old log file goes, its (recent) run stays
old_log=$(find "$logs" -name '1.log' | head -1)
touch -d '3 hours ago' "$old_log"
printf 'retention:\n  logs: 2h\n' >"$MLFLOWD_HOME/mlflowd.yaml"
expect_exit 0 "$MLFLOWD" db clean -y -o json
json_check 'd["runs"] == 0 and d["log_files"] == 1'
[ ! -e "$old_log" ] || fail "retention.logs kept $old_log"
[ "$(runs_of daily)" = "2024-01-03" ] || fail "retention.logs deleted a run"
rm "$MLFLOWD_HOME/mlflowd.yaml"

# ---- db backup under load: a scheduler catching up on a run every minute of the last week
cat >"$tmp/dags/busy.yaml" <<'DAG'
dag_id: busy
schedule: "* * * * *"
start_date: "{{ START }}"
catchup: true
max_active_runs: 8
tasks:
  one: {operator: empty}
  two: {operator: empty, upstream: [one]}
  three: {operator: empty, upstream: [two]}
DAG
start=$(python3 -c 'import datetime; print((datetime.datetime.utcnow() - datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:00:00Z"))')
sed -i "s/{{ START }}/$start/" "$tmp/dags/busy.yaml"
expect_exit 0 "$MLFLOWD" dags unpause busy
MLFLOWD__PARALLELISM=16 "$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
pid=$!
trap 'st=$?; kill $pid 2>/dev/null || true; cleanup $st' EXIT
count_busy() { "$MLFLOWD" dags list-runs busy -o json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
i=0
until [ "$(count_busy)" -ge 6 ]; do
    i=$((i + 1)); [ $i -le "$(scaled 600)" ] || fail "the scheduler does not create runs: $(tail -5 "$tmp/sched.log")"
    kill -0 $pid || fail "the scheduler stopped: $(tail -5 "$tmp/sched.log")"
    sleep 0.1
done
for n in 1 2 3; do
    expect_exit 0 "$MLFLOWD" db backup "$tmp/backup$n.mdb"
    kill -0 $pid || fail "the scheduler stopped during backup $n"
    [ -s "$tmp/backup$n.mdb" ] && [ ! -e "$tmp/backup$n.mdb.partial" ] || fail "backup $n: $(ls -l "$tmp")"
    MLFLOWD_HOME="$tmp/restored$n" expect_exit 0 "$MLFLOWD" db restore "$tmp/backup$n.mdb" -y
    MLFLOWD_HOME="$tmp/restored$n" expect_exit 0 "$MLFLOWD" db check
    got=$(MLFLOWD_HOME="$tmp/restored$n" count_busy)
    [ "$got" -ge 6 ] || fail "backup $n holds $got busy runs"
    sleep 0.3
done
size=$(stat -c %s "$tmp/backup3.mdb"); live=$(stat -c %s "$MLFLOWD_HOME/state/data.mdb")
echo "backup: $size bytes compacted, live data.mdb $live bytes"
# the scheduler went on writing after backup 1 (the backups did not stop it)
first=$(MLFLOWD_HOME="$tmp/restored1" count_busy)
i=0
until [ "$(count_busy)" -gt "$first" ]; do
    i=$((i + 1)); [ $i -le "$(scaled 600)" ] || fail "the scheduler made no progress after the backups"
    sleep 0.1
done

# ---- restore is refused while the scheduler has the store open, accepted after it stopped
expect_exit 1 "$MLFLOWD" db restore "$tmp/backup1.mdb" -y
case "$err" in *"in use by process $pid"*) ;; *) fail "restore under a running scheduler: $err" ;; esac
stop_pid $pid "the scheduler"
before=$(count_busy)
expect_exit 0 "$MLFLOWD" db restore "$tmp/backup1.mdb" -y
expect_exit 0 "$MLFLOWD" db check
[ "$(count_busy)" -eq "$(MLFLOWD_HOME="$tmp/restored1" count_busy)" ] && [ "$(count_busy)" -lt "$before" ] \
    || fail "the restored store is not backup 1"
ls -d "$MLFLOWD_HOME"/state.before-restore-* >/dev/null || fail "the replaced store was not kept"
printf 'not a store' >"$tmp/junk.mdb"
expect_exit 2 "$MLFLOWD" db restore "$tmp/junk.mdb" -y
expect_exit 0 "$MLFLOWD" db check
echo "store maintenance ok"
