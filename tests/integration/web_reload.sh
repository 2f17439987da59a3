#!/bin/sh
# The webserver reloads the DAG folder while it runs (inotify, as the scheduler): a DAG file added, changed,
# broken and removed shows in the API's answers within seconds, with no restart.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/web_lib.sh"
trap 'rc=$?; web_stop; cleanup $rc' EXIT

web_dags
expect_exit 0 "$MLFLOWD" users create ada --role admin --password 'ada-secret-1'
A="Authorization: Bearer $("$MLFLOWD" users token ada 2>/dev/null)"
web_start

# until_json PATH CHECK: polls GET PATH (bounded: 10 s) until the JSON answer passes the Python CHECK on d
until_json() {
    i=0
    while [ $i -lt 50 ]; do
        http GET "$1" -H "$A"
        if [ "$status" = 200 ] && printf '%s' "$out" | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($2) else 1)" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
        i=$((i + 1))
    done
    fail "GET $1 never satisfied: $2 (last: HTTP $status $out; log: $(cat "$tmp/web.log"))"
}

http GET /api/v1/dags -H "$A"
expect_status 200
json_check 'sorted(x["dag_id"] for x in d["dags"]) == ["etl", "ok"]'

# added
cat >"$tmp/dags/fresh.yaml" <<'YAML'
dag_id: fresh
description: first version
schedule: null
tasks:
  a: {operator: shell, command: "echo a"}
YAML
until_json /api/v1/dags 'sorted(x["dag_id"] for x in d["dags"]) == ["etl", "fresh", "ok"]'
http GET /api/v1/dags/fresh/tasks -H "$A"
expect_status 200
json_check '[t["task_id"] for t in d["tasks"]] == ["a"]'

# changed: a new description and a second task
cat >"$tmp/dags/fresh.yaml" <<'YAML'
dag_id: fresh
description: second version
schedule: null
tasks:
  a: {operator: shell, command: "echo a"}
  b: {operator: shell, upstream: a, command: "echo b"}
YAML
until_json /api/v1/dags/fresh 'd["description"] == "second version"'
http GET /api/v1/dags/fresh/tasks -H "$A"
json_check '[t["task_id"] for t in d["tasks"]] == ["a", "b"]'

# broken: an import error, the DAG gone from the list
printf 'dag_id: fresh\ntasks: [unclosed\n' >"$tmp/dags/fresh.yaml"
until_json /api/v1/importErrors 'd["total_entries"] == 1 and d["import_errors"][0]["filename"].endswith("fresh.yaml")'
http GET /api/v1/dags/fresh -H "$A"
expect_status 404

# removed: etl's file goes, its DAG with it; the broken file goes, its import error with it
rm "$tmp/dags/etl.yaml" "$tmp/dags/fresh.yaml"
until_json /api/v1/importErrors 'd["total_entries"] == 0'
until_json /api/v1/dags '[x["dag_id"] for x in d["dags"]] == ["ok"]'
http GET /api/v1/dags/etl -H "$A"
expect_status 404
grep -q 'DAG folder changed' "$tmp/web.log" || fail "no reload in the log: $(cat "$tmp/web.log")"
kill -0 "$web_pid" || fail "the webserver died"
web_stop check
