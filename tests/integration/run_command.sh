#!/bin/sh
# The README's run command (examples/standalone.sh, without the package installation and build that
# scripts/bootstrap.sh does first): standalone on every example DAG; the crypto_ml daily and training runs
# complete on the zmq workers; a signal stops mlflowd, its workers and the stand-in exchange.
. "$top_srcdir/tests/integration/lib.sh"

require_plugins sqlite python http branch
export EXAMPLES_COINS=20 EXAMPLES_DAYS=300
# the script builds the example plugin with the source tree's SDK; in a distcheck tree it lives in $top_srcdir
MLFLOWD="$MLFLOWD" sh "$top_srcdir/examples/standalone.sh" --workers 2 --port 0 >"$tmp/run.log" 2>&1 &
pid=$!
export MLFLOWD_DAGS_FOLDER="$MLFLOWD_HOME/examples/dags"
for dag in crypto_ml_daily crypto_ml_train example_etl; do
    i=0
    until "$MLFLOWD" dags list-runs $dag -o json 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if any(r["state"] == "success" for r in json.load(sys.stdin)) else 1)'; do
        i=$((i + 1)); [ $i -le 600 ] || { kill -TERM $pid; tail -30 "$tmp/run.log"; fail "$dag did not succeed"; }
        kill -0 $pid 2>/dev/null || { tail -30 "$tmp/run.log"; fail "the run command stopped"; }
        sleep 0.1
    done
done
kill -TERM $pid # (a background shell ignores SIGINT; the script forwards TERM to mlflowd as SIGINT)
wait $pid || fail "the run command did not exit 0 after SIGTERM: $(tail -5 "$tmp/run.log")"
sleep 0.3
! pgrep -f "$MLFLOWD_HOME/examples/orders.jsonl" >/dev/null || fail "the exchange is still running"
echo "run command ok"
