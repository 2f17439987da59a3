#!/bin/sh
# prev_ds / next_ds (and _nodash) as Airflow 2 renders them: for a run on the schedule (scheduled or
# backfilled) the schedule's time before and after the run's logical date -- a calendar month for @monthly,
# not this run's interval length --; for a run triggered by hand, its own date.
. "$top_srcdir/tests/integration/lib.sh"

mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
for s in daily weekly monthly; do
    cat >"$tmp/dags/$s.yaml" <<YAML
dag_id: $s
schedule: "@$s"
start_date: 2023-12-01
tasks:
  t: {operator: shell, command: "echo {{ dag_id }} {{ ds }} {{ prev_ds }} {{ next_ds }} {{ prev_ds_nodash }} {{ next_ds_nodash }} >> $tmp/marks"}
YAML
done
expect_exit 0 "$MLFLOWD" dags backfill daily -s 2024-02-28 -e 2024-03-01
expect_exit 0 "$MLFLOWD" dags backfill weekly -s 2024-01-07 -e 2024-01-14
expect_exit 0 "$MLFLOWD" dags backfill monthly -s 2024-02-01 -e 2024-03-01
sort "$tmp/marks" >"$tmp/got"
cat >"$tmp/want" <<'TXT'
daily 2024-02-28 2024-02-27 2024-02-29 20240227 20240229
daily 2024-02-29 2024-02-28 2024-03-01 20240228 20240301
daily 2024-03-01 2024-02-29 2024-03-02 20240229 20240302
monthly 2024-02-01 2024-01-01 2024-03-01 20240101 20240301
monthly 2024-03-01 2024-02-01 2024-04-01 20240201 20240401
weekly 2024-01-07 2023-12-31 2024-01-14 20231231 20240114
weekly 2024-01-14 2024-01-07 2024-01-21 20240107 20240121
TXT
diff -u "$tmp/want" "$tmp/got" || fail "prev_ds/next_ds of scheduled runs (want, got above)"

# triggered by hand: no schedule behind the run, so both are its own date
: >"$tmp/marks"
expect_exit 0 "$MLFLOWD" dags test monthly 2024-02-01
expect_exit 0 "$MLFLOWD" dags test daily 2024-02-10
sort "$tmp/marks" >"$tmp/got"
printf '%s\n' "daily 2024-02-10 2024-02-10 2024-02-10 20240210 20240210" \
    "monthly 2024-02-01 2024-02-01 2024-02-01 20240201 20240201" >"$tmp/want"
diff -u "$tmp/want" "$tmp/got" || fail "prev_ds/next_ds of manual runs (want, got above)"
# tasks render shows what such a run would render
expect_exit 0 "$MLFLOWD" tasks render monthly t 2024-02-01 -o json
json_check 'd["command"].startswith("echo monthly 2024-02-01 2024-02-01 2024-02-01 20240201 20240201 ")'
echo "prev/next ds ok"
