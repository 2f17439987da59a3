#!/bin/sh
# The crypto_ml example in one command: builds the forecast plugin, generates the market data (once), starts
# the stand-in exchange, sets up the connections and the variable the DAGs use, then runs the
# training and two days of the daily pipeline with `mlflowd dags test`, printing each run's wall time.
#
#   examples/crypto_ml/run.sh
#
# Environment: CRYPTO_ML_COINS (100) and CRYPTO_ML_DAYS (5600) size the data, CRYPTO_ML_START (2010-01-01) is
# its first day; CRYPTO_ML_WORK (this folder's work/) holds the data, the mlflowd home, the plugin and each
# run's JSON; MLFLOWD, SDK_CFLAGS, SDK_LIBS, CC and CFLAGS as usual. Exit code 0 when every run succeeded.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${CRYPTO_ML_WORK:-$here/work}
coins=${CRYPTO_ML_COINS:-100}
days=${CRYPTO_ML_DAYS:-5600}
start=${CRYPTO_ML_START:-2010-01-01}
mkdir -p "$work/data" "$work/plugins"
work=$(cd "$work" && pwd)
. "$here/../run_lib.sh"

echo "== forecast plugin"
make -s -f "$here/plugin/Makefile" O="$work/plugins" ${SDK_CFLAGS+"SDK_CFLAGS=$SDK_CFLAGS"} \
    ${SDK_LIBS+"SDK_LIBS=$SDK_LIBS"}
chmod -R go-w "$work/plugins"
export MLFLOWD__PLUGINS__PATH="$work/plugins,{plugindir}"

echo "== market data"
db="$work/data/crypto.db"
python3 "$here/generate_data.py" --db "$db" --coins "$coins" --days "$days" --start "$start"
# the last day of data and the day before
set -- $(python3 -c 'import datetime, sqlite3, sys
last = sqlite3.connect(sys.argv[1]).execute("SELECT value FROM meta WHERE key = ?", ("last_day",)).fetchone()[0]
print(last, datetime.date.fromisoformat(last) - datetime.timedelta(days=1))' "$db")
last=$1 prev=$2

echo "== exchange"
export no_proxy="127.0.0.1${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1${NO_PROXY:+,$NO_PROXY}"
rm -f "$work/exchange.port"
python3 "$here/exchange.py" --port-file "$work/exchange.port" --orders "$work/orders.jsonl" &
exchange=$!
trap 'kill $exchange 2>/dev/null || true' EXIT
i=0
while [ ! -s "$work/exchange.port" ]; do
    i=$((i + 1))
    [ $i -le 100 ] && kill -0 $exchange 2>/dev/null || { echo "$0: the exchange did not start" >&2; exit 1; }
    sleep 0.1
done
port=$(cat "$work/exchange.port")
echo "listening on 127.0.0.1:$port, orders in $work/orders.jsonl"

echo "== connections and variables"
for c in crypto_db exchange; do
    "$MLFLOWD" connections delete $c >/dev/null 2>&1 || true
done
"$MLFLOWD" connections add crypto_db --conn-type sqlite --conn-host "$db"
"$MLFLOWD" connections add exchange --conn-uri "http://127.0.0.1:$port"
"$MLFLOWD" variables set crypto_ml_dir "$here" >/dev/null
echo "to use this setup by hand: export MLFLOWD_HOME='$MLFLOWD_HOME' MLFLOWD_DAGS_FOLDER='$MLFLOWD_DAGS_FOLDER' \\
    MLFLOWD__PLUGINS__PATH='$MLFLOWD__PLUGINS__PATH'"

echo "== runs (JSON and logs in $work/runs, task logs in $MLFLOWD_HOME/logs)"
failed=0
dag_test crypto_ml_train "$prev" || failed=1
dag_test crypto_ml_daily "$prev" || failed=1
dag_test crypto_ml_daily "$last" || failed=1

echo "== results"
python3 - "$db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for v, trained_for, mse, prev, base, dep in db.execute(
        "SELECT version, trained_for, holdout_mse, previous_mse, baseline_mse, deployed FROM models ORDER BY version"):
    print("model v%d (trained for %s): held-out MSE %.5f, the deployed model's %s, tomorrow = today %.5f%s" % (
        v, trained_for, mse, "%.5f" % prev if prev is not None else "-", base, "  <- deployed" if dep else ""))
for ds, n, version, trades in db.execute(
        "SELECT ds, count(*), max(model_version), (SELECT count(*) FROM trades t WHERE t.ds = p.ds) "
        "FROM predictions p GROUP BY ds ORDER BY ds DESC LIMIT 2"):
    print("%s: %d forecasts (model v%d), %d order(s) filled" % (ds, n, version, trades))
PY
exit $failed
