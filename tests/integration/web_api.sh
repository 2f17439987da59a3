#!/bin/sh
# The REST API against a running webserver and a real store: every route, authentication and roles,
# CSRF, bad input (unknown DAG, bad JSON, bad pages, oversized body: 4xx problem+json, never a crash),
# state changes seen by the CLI, and the OpenAPI document checked against the real routes.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/web_lib.sh"
trap 'rc=$?; web_stop; cleanup $rc' EXIT

web_dags
expect_exit 0 "$MLFLOWD" users create ada --role admin --password 'ada-secret-1'
expect_exit 0 "$MLFLOWD" users create opal --role op --password 'opal-secret-1'
expect_exit 0 "$MLFLOWD" users create vic --role viewer
case "$out" in *"password: "*) ;; *) fail "users create without --password prints the generated one: $out" ;; esac
expect_exit 2 "$MLFLOWD" users create ada --role admin --password 'x-secret-1'
expect_exit 2 "$MLFLOWD" users create 'bad name' --password 'x-secret-1'
expect_exit 2 "$MLFLOWD" users create eve --role boss --password 'x-secret-1'
expect_exit 2 "$MLFLOWD" users create eve --password short
expect_exit 0 "$MLFLOWD" users list -o json
json_check 'sorted(u["username"] for u in d) == ["ada", "opal", "vic"] and not any(u["has_token"] for u in d)'
ADMIN=$("$MLFLOWD" users token ada 2>/dev/null)
OP=$("$MLFLOWD" users token opal 2>/dev/null)
VIEWER=$("$MLFLOWD" users token vic 2>/dev/null)
expect_exit 0 "$MLFLOWD" db check

web_start
A="Authorization: Bearer $ADMIN"
O="Authorization: Bearer $OP"
V="Authorization: Bearer $VIEWER"
J="Content-Type: application/json"

# --- health is the one anonymous data route; everything else needs credentials
http GET /health
expect_status 200
json_check 'd["metadatabase"]["status"] == "healthy" and d["scheduler"]["status"] == "unhealthy"'
for path in /api/v1/dags /api/v1/version /api/v1/dags/etl/dagRuns /api/v1/variables /api/v1/openapi.json; do
    http GET "$path"
    expect_status 401
done
http GET /api/v1/dags -H "Authorization: Bearer ada.0000000000000000000000000000000000000000000000000000000000000000"
expect_status 401
http GET /api/v1/dags -H "Authorization: Basic YWRhOmFkYS1zZWNyZXQtMQ=="
expect_status 401
http GET /api/v1/dags -H "Authorization: Bearer nobody.$(printf '%064d' 0)"
expect_status 401

# --- reads
http GET /api/v1/version -H "$V"
expect_status 200
json_check 'd["version"]'
http GET /api/v1/dags -H "$V"
expect_status 200
json_check 'd["total_entries"] == 2 and [x["dag_id"] for x in d["dags"]] == ["etl", "ok"]'
json_check 'd["dags"][0]["tags"] == [{"name": "demo"}] and d["dags"][0]["schedule_interval"] == "@daily"'
http GET '/api/v1/dags?limit=1&offset=1&include_recent_runs=true' -H "$V"
expect_status 200
json_check 'd["total_entries"] == 2 and [x["dag_id"] for x in d["dags"]] == ["ok"] and d["dags"][0]["recent_dag_runs"][0]["state"] == "success"'
http GET '/api/v1/dags?dag_id_pattern=et' -H "$V"
json_check '[x["dag_id"] for x in d["dags"]] == ["etl"]'
http GET /api/v1/dags/etl -H "$V"
expect_status 200
json_check 'd["dag_id"] == "etl" and d["is_paused"] is False and d["task_count"] == 3'
http GET /api/v1/dags/etl/tasks -H "$V"
expect_status 200
json_check '[t["task_id"] for t in d["tasks"]] == ["extract", "transform", "load"] and d["tasks"][0]["downstream_task_ids"] == ["transform"]'
http GET /api/v1/dags/etl/dagRuns -H "$V"
expect_status 200
json_check 'd["total_entries"] == 1 and d["dag_runs"][0]["state"] == "failed" and d["dag_runs"][0]["conf"] == {}'
RUN=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["dag_runs"][0]["dag_run_id"])')
ERUN=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$RUN")
http GET "/api/v1/dags/etl/dagRuns?state=success" -H "$V"
json_check 'd["total_entries"] == 0'
http GET "/api/v1/dags/etl/dagRuns?state=failed&state=success&execution_date_gte=2024-01-01T00:00:00Z&execution_date_lte=2024-01-01" -H "$V"
json_check 'd["total_entries"] == 1'
http GET "/api/v1/dags/etl/dagRuns?execution_date_gte=2024-01-02" -H "$V"
json_check 'd["total_entries"] == 0'
http GET "/api/v1/dags/etl/dagRuns/$ERUN" -H "$V"
expect_status 200
json_check 'd["dag_id"] == "etl" and d["run_type"] == "manual" and d["logical_date"].startswith("2024-01-01T00:00:00")'
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances" -H "$V"
expect_status 200
json_check '{t["task_id"]: t["state"] for t in d["task_instances"]} == {"extract": "success", "transform": "failed", "load": "upstream_failed"}'
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances?state=failed" -H "$V"
json_check '[t["task_id"] for t in d["task_instances"]] == ["transform"]'
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform" -H "$V"
expect_status 200
json_check 'd["state"] == "failed" and d["try_number"] == 1 and d["operator"] == "shell" and d["duration"] > 0'
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform/-1" -H "$V"
expect_status 200
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform/logs/1" -H "$V"
expect_status 200
json_check '"transform-says-hello" in d["content"] and d["eof"] is True and d["offset"] == d["size"] > 0'
size=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform/logs/1?offset=$((size - 10))" -H "$V"
json_check 'len(d["content"]) == 10 and d["offset"] == d["size"]'
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform/logs/1?token=$size" -H "$V"
json_check 'd["content"] == ""'
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/extract/logs/1" -H "$V" -H "Accept: text/plain"
expect_status 200
case "$out" in *extract-line-2*) ;; *) fail "text/plain log: $out" ;; esac
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform/logs/2" -H "$V"
expect_status 404
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform/xcomEntries" -H "$V"
expect_status 200
json_check 'd["total_entries"] == 0'
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform/xcomEntries/return_value" -H "$V"
expect_status 404
http GET /api/v1/dags/etl/grid -H "$V"
expect_status 200
json_check '[t["task_id"] for t in d["tasks"]] == ["extract", "transform", "load"] and d["states"] == [["success", "failed", "upstream_failed"]]'
http GET /api/v1/importErrors -H "$V"
expect_status 200
json_check 'd["total_entries"] == 0'
http GET /api/v1/pools -H "$V"
expect_status 200
json_check '"default_pool" in [x["name"] for x in d["pools"]]'
http GET /api/v1/pools/default_pool -H "$V"
expect_status 200
http GET /api/v1/plugins -H "$V"
expect_status 200
json_check 'd["total_entries"] >= 1 and any("shell" in p["registered"] for p in d["plugins"])'

# --- variables and connections: secrets never leave
expect_exit 0 "$MLFLOWD" variables set plain_var hello
expect_exit 0 "$MLFLOWD" variables set api_password s3cret-value
expect_exit 0 "$MLFLOWD" connections add db --conn-uri 'postgres://u:conn-pass-42@db.example:5432/x?api_key=extra-secret-7'
http GET /api/v1/variables -H "$V"
expect_status 200
json_check '{v["key"]: v["value"] for v in d["variables"]} == {"plain_var": "hello", "api_password": "***"}'
http GET /api/v1/variables/api_password -H "$V"
json_check 'd["value"] == "***"'
http GET /api/v1/variables/api_password -H "$A"
json_check 'd["value"] == "s3cret-value"'
http GET /api/v1/variables/nope -H "$V"
expect_status 404
http GET /api/v1/connections -H "$V"
expect_status 200
case "$out" in *conn-pass-42* | *extra-secret-7* | *password*) fail "a connection secret left the server: $out" ;; esac
json_check 'd["connections"][0]["host"] == "db.example" and d["connections"][0]["port"] == 5432'
http GET /api/v1/connections/db -H "$V"
expect_status 200
case "$out" in *conn-pass-42* | *extra-secret-7*) fail "a connection secret left the server: $out" ;; esac

# --- roles
http GET /api/v1/users -H "$V"
expect_status 403
http GET /api/v1/users -H "$A"
expect_status 200
json_check 'd["total_entries"] == 3'
http PATCH /api/v1/dags/etl -H "$V" -H "$J" -d '{"is_paused": true}'
expect_status 403

# --- state changes, seen by the CLI
http PATCH /api/v1/dags/etl -H "$O" -H "$J" -d '{"is_paused": true}'
expect_status 200
json_check 'd["is_paused"] is True'
expect_exit 0 "$MLFLOWD" dags list -o json
json_check '[x for x in d if x["dag_id"] == "etl"][0]["is_paused"] is True'
http PATCH '/api/v1/dags/etl?update_mask=is_paused' -H "$O" -H "$J" -d '{"is_paused": false}'
expect_status 200
json_check 'd["is_paused"] is False'
http POST /api/v1/dags/etl/dagRuns -H "$O" -H "$J" -d '{"dag_run_id": "from_api", "logical_date": "2024-02-01T00:00:00Z", "conf": {"rows": 5, "who": "api"}}'
expect_status 200
json_check 'd["dag_run_id"] == "from_api" and d["state"] == "queued" and d["conf"] == {"rows": 5, "who": "api"}'
expect_exit 0 "$MLFLOWD" dags state etl from_api
[ "$out" = queued ] || fail "the triggered run is '$out' for the CLI"
http POST /api/v1/dags/etl/dagRuns -H "$O" -H "$J" -d '{"dag_run_id": "from_api"}'
expect_status 409
http PATCH /api/v1/dags/etl/dagRuns/from_api -H "$O" -H "$J" -d '{"state": "failed"}'
expect_status 200
json_check 'd["state"] == "failed" and d["end_date"]'
http PATCH "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/load" -H "$O" -H "$J" -d '{"new_state": "success"}'
expect_status 200
json_check 'd["state"] == "success"'
expect_exit 0 "$MLFLOWD" tasks state etl load "$RUN"
[ "$out" = success ] || fail "load marked success is '$out' for the CLI"
http POST /api/v1/dags/etl/clearTaskInstances -H "$O" -H "$J" -d "{\"dag_run_id\": \"$RUN\", \"task_ids\": [\"transform\"], \"include_downstream\": true}"
expect_status 200
json_check 'd["cleared"] == 2'
# no_cache (mlflowd's, doc/caching.md) is accepted: the next try ignores cached results
http POST /api/v1/dags/etl/clearTaskInstances -H "$O" -H "$J" -d "{\"dag_run_id\": \"$RUN\", \"task_ids\": [\"transform\"], \"no_cache\": true}"
expect_status 200
json_check 'd["cleared"] == 1'
expect_exit 0 "$MLFLOWD" tasks states-for-dag-run etl "$RUN" -o json
json_check '{t["task_id"]: t["state"] for t in d} == {"extract": "success", "transform": "none", "load": "none"}'
expect_exit 0 "$MLFLOWD" dags state etl "$RUN"
[ "$out" = queued ] || fail "a cleared run is queued again, not '$out'"
http POST "/api/v1/dags/etl/dagRuns/$ERUN/clear" -H "$O" -H "$J" -d '{}'
expect_status 200
json_check 'd["cleared"] == 3'

# --- bad input: 4xx problem+json, never a crash
http GET /api/v1/dags/nope -H "$V"
expect_status 404
http GET /api/v1/dags/nope/dagRuns -H "$V"
expect_status 404
http GET /api/v1/dags/etl/dagRuns/nope -H "$V"
expect_status 404
http GET /api/v1/dags/etl/dagRuns/nope/taskInstances -H "$V"
expect_status 404
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/nope" -H "$V"
expect_status 404
http GET /api/v1/nothing-here -H "$V"
expect_status 404
http DELETE /api/v1/dags/etl -H "$A"
expect_status 405
grep -qi '^Allow: GET, PATCH' "$tmp/headers" || fail "405 without Allow: $(cat "$tmp/headers")"
for q in 'limit=0' 'limit=1001' 'limit=abc' 'limit=-1' 'offset=-5' 'offset=1e3' 'limit=99999999999999999999'; do
    http GET "/api/v1/dags?$q" -H "$V"
    expect_status 400
done
http GET '/api/v1/dags/etl/dagRuns?state=bogus' -H "$V"
expect_status 400
http GET '/api/v1/dags/etl/dagRuns?execution_date_gte=yesterday' -H "$V"
expect_status 400
http GET '/api/v1/dags/etl/dagRuns?order_by=state' -H "$V"
expect_status 400
http GET '/api/v1/dags?paused=maybe' -H "$V"
expect_status 400
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform/logs/zero" -H "$V"
expect_status 400
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform/logs/1?offset=x" -H "$V"
expect_status 400
http GET "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/transform/abc" -H "$V"
expect_status 400
http PATCH /api/v1/dags/etl -H "$O" -H "$J" -d '{"is_paused": tru'
expect_status 400
json_check '"not valid JSON" in d["detail"]'
http PATCH /api/v1/dags/etl -H "$O" -H "$J" -d '[true]'
expect_status 400
http PATCH /api/v1/dags/etl -H "$O" -H "$J" -d '{"is_paused": "yes"}'
expect_status 400
http PATCH /api/v1/dags/etl -H "$O" -H "$J" -d '{"is_paused": true, "owner": "x"}'
expect_status 400
json_check '"unknown field" in d["detail"]'
http PATCH /api/v1/dags/etl -H "$O" -H "$J" -d "$(python3 -c 'print("[" * 5000 + "]" * 5000)')"
expect_status 400
http PATCH /api/v1/dags/etl -H "$O" -d '{"is_paused": true}' -H "Content-Type: text/plain"
expect_status 415
http POST /api/v1/dags/etl/dagRuns -H "$O" -H "$J" -d '{"conf": [1, 2]}'
expect_status 400
http POST /api/v1/dags/etl/dagRuns -H "$O" -H "$J" -d '{"logical_date": "2024-13-45"}'
expect_status 400
http POST /api/v1/dags/etl/dagRuns -H "$O" -H "$J" -d '{"dag_run_id": "a/b"}'
expect_status 400
http POST /api/v1/dags/etl/clearTaskInstances -H "$O" -H "$J" -d '{"task_ids": ["nope"]}'
expect_status 400
http PATCH /api/v1/dags/etl/dagRuns/from_api -H "$O" -H "$J" -d '{"state": "running"}'
expect_status 400
http PATCH "/api/v1/dags/etl/dagRuns/$ERUN/taskInstances/load" -H "$O" -H "$J" -d '{"new_state": "skipped"}'
expect_status 400
python3 -c 'import sys; sys.stdout.write("{\"conf\": \"" + "x" * (2 * 1024 * 1024) + "\"}")' >"$tmp/big.json"
http POST /api/v1/dags/etl/dagRuns -H "$O" -H "$J" --data-binary "@$tmp/big.json"
expect_status 413
http POST /api/v1/dags/etl/dagRuns -H "$O" -H "$J" -H "Transfer-Encoding: chunked" --data-binary "@$tmp/big.json"
expect_status 413
http POST /api/v1/auth/login -H "$J" -d '{"username": "ada"}'
expect_status 400
http POST /api/v1/auth/login -H "$J" -d '{"username": "ada", "password": "wrong-one"}'
expect_status 401
http POST /api/v1/auth/login -H "$J" -d '{"username": "../../x", "password": "wrong-one"}'
expect_status 401

# --- sessions: cookie flags, CSRF on changes, logout
http POST /api/v1/auth/login -H "$J" -d '{"username": "opal", "password": "opal-secret-1"}'
expect_status 200
csrf=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrf_token"])')
cookie=$(sed -n 's/^[Ss]et-[Cc]ookie: *\(mlflowd_session=[0-9a-f]*\);.*/\1/p' "$tmp/headers")
grep -i '^Set-Cookie:' "$tmp/headers" | grep -q 'HttpOnly; SameSite=Strict' || fail "session cookie flags: $(cat "$tmp/headers")"
[ -n "$cookie" ] || fail "no session cookie: $(cat "$tmp/headers")"
http GET /api/v1/auth/session -H "Cookie: $cookie"
expect_status 200
json_check "d['username'] == 'opal' and d['role'] == 'op' and d['csrf_token'] == '$csrf'"
http PATCH /api/v1/dags/ok -H "Cookie: $cookie" -H "$J" -d '{"is_paused": true}'
expect_status 403
json_check '"CSRF" in d["detail"]'
http PATCH /api/v1/dags/ok -H "Cookie: $cookie" -H "X-CSRF-Token: $(printf '%064d' 0)" -H "$J" -d '{"is_paused": true}'
expect_status 403
http PATCH /api/v1/dags/ok -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf" -H "$J" -d '{"is_paused": true}'
expect_status 200
http POST /api/v1/auth/logout -H "Cookie: $cookie" -H "X-CSRF-Token: $csrf"
expect_status 200
http GET /api/v1/dags -H "Cookie: $cookie"
expect_status 401
# a deleted user's token stops working at once
expect_exit 0 "$MLFLOWD" users delete vic
http GET /api/v1/dags -H "$V"
expect_status 401
expect_exit 2 "$MLFLOWD" users delete vic

# --- the UI's files are compiled in
http GET /
expect_status 200
[ "$ctype" = text/html ] || fail "/ is $ctype"
grep -qi '^Content-Security-Policy:' "$tmp/headers" || fail "no CSP header"
http GET /static/app.js
expect_status 200
http GET /static/nope.js
expect_status 404
http GET /static/openapi.json
expect_status 404

# --- writes to variables, connections and pools: admin only, the CLI's store functions, secrets never answered
http POST /api/v1/variables -H "$O" -H "$J" -d '{"key":"from_api","value":"v1"}'
expect_status 403
http DELETE /api/v1/pools/default_pool -H "$O"
expect_status 403
http POST /api/v1/variables -H "$J" -d '{"key":"from_api","value":"v1"}'
expect_status 401
http POST /api/v1/variables -H "$A" -H "$J" -d '{"key":"from_api","value":"v1","description":"set by the API"}'
expect_status 200
json_check 'd == {"key": "from_api", "value": "v1", "description": "set by the API"}'
expect_exit 0 "$MLFLOWD" variables get from_api
[ "$out" = v1 ] || fail "the CLI reads '$out', not the API's value"
http PATCH /api/v1/variables/from_api -H "$A" -H "$J" -d '{"value":"v2"}'
expect_status 200
json_check 'd["value"] == "v2" and d["description"] == "set by the API"'
expect_exit 0 "$MLFLOWD" variables get from_api
[ "$out" = v2 ] || fail "PATCH did not reach the store: '$out'"
http PATCH /api/v1/variables/nope -H "$A" -H "$J" -d '{"value":"x"}'
expect_status 404
http PATCH /api/v1/variables/from_api -H "$A" -H "$J" -d '{"key":"other","value":"x"}'
expect_status 400
http PATCH '/api/v1/variables/from_api?update_mask=owner' -H "$A" -H "$J" -d '{"value":"x"}'
expect_status 400
http POST /api/v1/variables -H "$A" -H "$J" -d '{"key":"from_api"}'
expect_status 400
http POST /api/v1/variables -H "$A" -H "$J" -d '{"key":"","value":"x"}'
expect_status 400
http POST /api/v1/variables -H "$A" -H "$J" -d '{"key":"k","value":7}'
expect_status 400
http POST /api/v1/variables -H "$A" -H "$J" -d '{"key":"k","value":"x","colour":"red"}'
expect_status 400
http POST /api/v1/variables -H "$A" -H "$J" -d '{"key":"k",'
expect_status 400
http POST /api/v1/variables -H "$A" -H "$J" -d '{"key":"api_token","value":"tok-secret-99"}'
expect_status 200
http GET /api/v1/variables -H "$V"
case "$out" in *tok-secret-99*) fail "a sensitive variable's value was listed: $out" ;; esac
http DELETE /api/v1/variables/from_api -H "$A"
expect_status 204
expect_exit 1 "$MLFLOWD" variables get from_api
http DELETE /api/v1/variables/from_api -H "$A"
expect_status 404

http POST /api/v1/connections -H "$A" -H "$J" -d '{"connection_id":"api_db","conn_type":"postgres","host":"h.example","port":5433,"login":"u","password":"api-pass-77","extra":"{\"sslmode\":\"require\",\"secret\":\"xs-88\"}"}'
expect_status 200
case "$out" in *api-pass-77* | *xs-88*) fail "the POST answer holds a secret: $out" ;; esac
json_check 'd["connection_id"] == "api_db" and d["host"] == "h.example" and d["port"] == 5433 and "password" not in d and d["extra"]["sslmode"] == "require"'
expect_exit 0 "$MLFLOWD" connections get api_db -o json
json_check 'd[0]["host"] == "h.example" if isinstance(d, list) else d["host"] == "h.example"'
# the password really is in the store: a task reads it through {{ conn.api_db.password }}
# (a DAG folder of its own, so the webserver's DAGs stay as they are)
mkdir -p "$tmp/pwdags"
cat >"$tmp/pwdags/pw.yaml" <<YAML
dag_id: pw
schedule: null
tasks:
  read: {operator: shell, command: "printf '%s:%s' '{{ conn.api_db.password }}' '{{ conn.api_db.host }}' >$tmp/pw.out"}
YAML
pw_seen() {
    rm -f "$tmp/pw.out"
    MLFLOWD_DAGS_FOLDER="$tmp/pwdags" "$MLFLOWD" dags test pw "$1" >/dev/null 2>&1 || fail "the pw DAG failed"
    cat "$tmp/pw.out"
}
[ "$(pw_seen 2024-01-01)" = "api-pass-77:h.example" ] || fail "the API's password did not reach the store: $(cat "$tmp/pw.out")"
http POST /api/v1/connections -H "$A" -H "$J" -d '{"connection_id":"api_db","conn_type":"postgres"}'
expect_status 409
http POST /api/v1/connections -H "$A" -H "$J" -d '{"connection_id":"bad id","conn_type":"postgres"}'
expect_status 400
http POST /api/v1/connections -H "$A" -H "$J" -d '{"connection_id":"c2"}'
expect_status 400
http POST /api/v1/connections -H "$A" -H "$J" -d '{"connection_id":"c2","conn_type":"http","port":"eighty"}'
expect_status 400
http POST /api/v1/connections -H "$A" -H "$J" -d '{"connection_id":"c2","conn_type":"http","extra":"{nope"}'
expect_status 400
http PATCH /api/v1/connections/api_db -H "$A" -H "$J" -d '{"host":"h2.example"}'
expect_status 200
json_check 'd["host"] == "h2.example" and d["port"] == 5433 and d["login"] == "u"'
[ "$(pw_seen 2024-01-02)" = "api-pass-77:h2.example" ] || fail "PATCH lost the password: $(cat "$tmp/pw.out")"
http PATCH /api/v1/connections/nope -H "$A" -H "$J" -d '{"host":"x"}'
expect_status 404
http DELETE /api/v1/connections/api_db -H "$A"
expect_status 204
http GET /api/v1/connections/api_db -H "$A"
expect_status 404

http POST /api/v1/pools -H "$A" -H "$J" -d '{"name":"api_pool","slots":3,"description":"from the API"}'
expect_status 200
json_check 'd == {"name": "api_pool", "slots": 3, "description": "from the API"}'
expect_exit 0 "$MLFLOWD" pools list -o json
json_check 'any(p["pool"] == "api_pool" and p["slots"] == 3 for p in d)'
http PATCH /api/v1/pools/api_pool -H "$A" -H "$J" -d '{"slots":5}'
expect_status 200
json_check 'd["slots"] == 5 and d["description"] == "from the API"'
http PATCH /api/v1/pools/api_pool -H "$A" -H "$J" -d '{"slots":-2}'
expect_status 400
http PATCH /api/v1/pools/api_pool -H "$A" -H "$J" -d '{"slots":"many"}'
expect_status 400
http PATCH /api/v1/pools/nope -H "$A" -H "$J" -d '{"slots":1}'
expect_status 404
http DELETE /api/v1/pools/api_pool -H "$A"
expect_status 204
http DELETE /api/v1/pools/api_pool -H "$A"
expect_status 404

# --- the OpenAPI document lists exactly the routes the server has
http GET /api/v1/openapi.json -H "$A"
expect_status 200
printf '%s' "$out" >"$tmp/openapi.json"
"$MLFLOWD" webserver --routes >"$tmp/routes" || fail "webserver --routes"
python3 - "$tmp/openapi.json" "$tmp/routes" <<'PY' || fail "openapi.json and the routes differ"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["openapi"].startswith("3."), doc["openapi"]
spec = {(m.upper(), "/api/v1" + path) for path, ops in doc["paths"].items() for m in ops}
routes = {tuple(l.split()[:2]) for l in open(sys.argv[2]) if l.split()[1].startswith("/api/v1")}
missing, extra = routes - spec, spec - routes
for r in sorted(missing): print("route not in openapi.json:", *r)
for r in sorted(extra): print("openapi.json path with no route:", *r)
roles = {tuple(l.split()[:2]): l.split()[2] for l in open(sys.argv[2])}
for path, ops in doc["paths"].items():
    for m, o in ops.items():
        want = roles.get((m.upper(), "/api/v1" + path))
        got = "anonymous" if o.get("security") == [] else o.get("x-mlflowd-role")
        if want and want != got: print("role differs:", m, path, want, got); missing = True
sys.exit(1 if missing or extra else 0)
PY
# every documented route answers something other than "no such route" for an admin
python3 - "$tmp/openapi.json" "$url" "$ADMIN" <<'PY' || fail "a documented route is not served"
import json, sys, urllib.request, urllib.error
doc, url, tok = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
bad = 0
for path, ops in doc["paths"].items():
    if "get" not in ops: continue
    p = path.replace("{dag_id}", "etl").replace("{dag_run_id}", "from_api").replace("{task_id}", "load")
    for k, v in {"{map_index}": "0", "{task_try_number}": "1", "{xcom_key}": "k", "{variable_key}": "plain_var",
                 "{connection_id}": "db", "{pool_name}": "default_pool"}.items(): p = p.replace(k, v)
    req = urllib.request.Request(url + "/api/v1" + p, headers={"Authorization": "Bearer " + tok})
    try:
        code = urllib.request.urlopen(req, timeout=20).status; body = {}
    except urllib.error.HTTPError as e:
        code, body = e.code, json.loads(e.read() or b"{}")
    if code in (405, 500) or (code == 404 and "no such resource" in body.get("detail", "")):
        print("GET", p, code, body); bad = 1
sys.exit(bad)
PY
kill -0 "$web_pid" || fail "the webserver died"
web_stop check
grep -q "webserver stopped" "$tmp/web.log" || fail "no clean stop: $(cat "$tmp/web.log")"
