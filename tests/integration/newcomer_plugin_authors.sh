#!/bin/sh
# Plugin authors (issue: "the newcomer path"): the sensor example of doc/sdk.md builds against the source
# tree's sdk/ and runs in a DAG, loaded from a folder *added* to the plugin path (the built-in plugins stay);
# mlf_ctx_ds() formats dates as templates' ds; mlf_ctx_xcom_pull reads any task that ran before, not only
# direct upstreams.
. "$top_srcdir/tests/integration/lib.sh"
CC=${CC:-cc}
mkdir -p "$tmp/src" "$tmp/myplugins" "$tmp/dags" "$tmp/in"
chmod 755 "$tmp/myplugins"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"

# ---- the sensor of doc/sdk.md, exactly as printed there
sed -n '/^## Writing a sensor/,/^## /p' "$top_srcdir/doc/sdk.md" | sed -n '/^```c$/,/^```$/p' | sed '1d;$d' >"$tmp/src/done_sensor.c"
grep -q MLF_PLUGIN "$tmp/src/done_sensor.c" || fail "no sensor example found in doc/sdk.md"
$CC -shared -fPIC -Wall -Wextra -Werror -I"$top_srcdir/sdk" "$tmp/src/done_sensor.c" -o "$tmp/myplugins/done_sensor.so" \
    || fail "the doc/sdk.md sensor does not build against sdk/"
chmod 755 "$tmp/myplugins/done_sensor.so"
export MLFLOWD__PLUGINS__PATH="$tmp/myplugins,{plugindir}" # added, as the hello-plugin README says
expect_exit 0 "$MLFLOWD" plugins list -o json
json_check '{"done_sensor", "shell", "python"} <= {p["name"] for p in d}'

cat >"$tmp/dags/marker.yaml" <<DAG
dag_id: marker
schedule: null
tasks:
  wait:
    operator: done_sensor
    folder: "$tmp/in"
    poke_interval: 1s
    timeout: 60s
  after:
    operator: shell
    upstream: [wait]
    command: "echo day {{ ds }} is complete"
DAG
"$MLFLOWD" dags test marker 2024-02-29 -o json >"$tmp/test.out" 2>"$tmp/test.err" &
pid=$!
sleep 1.5
kill -0 $pid 2>/dev/null || fail "the sensor did not wait: $(cat "$tmp/test.out" "$tmp/test.err")"
touch "$tmp/in/2024-02-29.done"
i=0
while kill -0 $pid 2>/dev/null; do
    i=$((i + 1)); [ $i -le 300 ] || { kill $pid; fail "the sensor did not see its file"; }
    sleep 0.1
done
wait $pid || fail "dags test failed: $(cat "$tmp/test.out" "$tmp/test.err")"
out=$(cat "$tmp/test.out")
json_check 'd["state"] == "success"'

# ---- mlf_format_ds on the edges of the calendar
cat >"$tmp/src/ds.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <mlflowd/mlflowd.h>
int main(void)
{
    static const struct { mlf_time_us t; const char *want; } cases[] = {
        {0, "1970-01-01"}, {-1, "1969-12-31"}, {951782400000000LL, "2000-02-29"},
        {1709164800000000LL + 86399999999LL, "2024-02-29"}, {253402214400000000LL, "9999-12-31"},
        {-62135596800000000LL, "0001-01-01"}};
    int bad = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[11];
        if (strcmp(mlf_format_ds(cases[i].t, out), cases[i].want) != 0) {
            printf("%lld: %s, want %s\n", (long long)cases[i].t, out, cases[i].want);
            bad = 1;
        }
    }
    return bad;
}
C
$CC -Wall -Wextra -Werror -I"$top_srcdir/sdk" -DMLF_HOST_INTERNAL "$tmp/src/ds.c" -o "$tmp/ds" -Wl,--unresolved-symbols=ignore-all \
    || fail "mlf_format_ds does not build"
"$tmp/ds" || fail "mlf_format_ds"

# ---- mlf_ctx_xcom_pull of a task two steps up (python's xcom_pull uses it)
cat >"$tmp/src/show.py" <<'PY'
import json, sys
ctx = json.load(sys.stdin)
print("pulled", ctx["xcom"]["first"], ctx["xcom"]["second"])
PY
cat >"$tmp/dags/pull.yaml" <<DAG
dag_id: pull
schedule: null
tasks:
  first:
    operator: shell
    command: "echo one"
  second:
    operator: shell
    upstream: [first]
    command: "echo two"
  third:
    operator: python
    upstream: [second]
    script: "$tmp/src/show.py"
    xcom_pull: [first, second]
DAG
expect_exit 0 "$MLFLOWD" dags test pull 2024-01-01 --show-logs
case "$err" in *"pulled one two"*) ;; *) fail "xcom_pull of an ancestor: $err" ;; esac
echo "plugin authors ok"
