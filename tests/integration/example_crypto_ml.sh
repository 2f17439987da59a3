#!/bin/sh
# The crypto_ml example end to end at a reduced size (20 coins x 300 days): run.sh builds the forecast plugin
# from this tree's SDK headers, generates the data, starts the stand-in exchange and runs the weekly training
# and two daily runs with `dags test -o json`. Checks every task instance's state, the models table (deployed
# only when better on held-out data), the forecasts and trades in SQLite against the orders the exchange got;
# then a second run.sh (the model retrained on the same data is kept, the exchange places no order twice), a
# day without orders (the branch skips trading), the training started by the 7th update of the `prices` asset
# under a running scheduler, and the forecast operator on known inputs and bad ones.
. "$top_srcdir/tests/integration/lib.sh"

require_plugins sqlite python http branch

work="$tmp/work"
export CRYPTO_ML_WORK="$work" CRYPTO_ML_COINS=20 CRYPTO_ML_DAYS=300 SDK_CFLAGS="-I$top_srcdir/sdk" SDK_LIBS=
export CFLAGS="-O2 -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2"

# check.py PHASE ARGS...: the checks of one phase on the runs' JSON files, the database and the exchange's
# orders; exits non-zero with what differs.
cat >"$tmp/check.py" <<'PY'
import json, sqlite3, sys

phase, work, args = sys.argv[1], sys.argv[2], sys.argv[3:]
db = sqlite3.connect(work + "/data/crypto.db")
PREV, LAST = "2010-10-26", "2010-10-27"  # 2010-01-01 + 298 and + 299 days


def q(sql, *params):
    return db.execute(sql, params).fetchall()


def expect(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def expect_run(path, state, want):
    """The run in the dags test JSON at `path` ended in `state` with exactly the task instances `want`:
    {task_id or (task_id, map_index): (state, try_number)}."""
    d = json.load(open(path))
    got = {(t["task_id"], t["map_index"]): (t["state"], t["try_number"]) for t in d["task_instances"]}
    want = {k if isinstance(k, tuple) else (k, -1): v for k, v in want.items()}
    expect(d["state"] == state and got == want, "%s: run %s, task instances differ:\n  expected %s\n  got      %s"
           % (path, d["state"], sorted(want.items()), sorted(got.items())))


def mapped(task, n, state=("success", 1)):
    return {(task, i): state for i in range(n)}


OK, SKIPPED = ("success", 1), ("skipped", 0)


def expect_daily(path, traded):
    want = dict.fromkeys(["wait_prices", "fetch", "load_model", "normalise", "decide", "route", "store", "report"], OK)
    want.update(dict.fromkeys(["exchange_up", "trade", "record_trades"], OK if traded else SKIPPED))
    want.update(mapped("predict", 20))
    expect_run(path, "success", want)


def expect_train(path, deployed):
    want = dict.fromkeys(["plan_shards", "load_model", "fit", "register", "choose", "summary"], OK)
    want.update({"deploy": OK if deployed else SKIPPED, "keep_current": SKIPPED if deployed else OK})
    want.update(mapped("shard_stats", 8))
    expect_run(path, "success", want)


def orders_sent():
    return sorted((o["order_id"], o["coin"], o["side"]) for o in map(json.loads, open(work + "/orders.jsonl")))


if phase == "first":
    expect(q("SELECT count(*), count(DISTINCT coin) FROM prices") == [(6000, 20)], "prices")
    expect(q("SELECT count(*) FROM models") == [(1,)], "models: %s" % q("SELECT * FROM models"))
    better, deployed, sane = q("SELECT holdout_mse < baseline_mse, deployed, train_samples > 0 AND holdout_samples > 0 "
                               "AND previous_version IS NULL FROM models")[0]
    expect(deployed == better and sane, "model v1 deployed %d though better %d: %s" % (deployed, better, q("SELECT * FROM models")))
    expect_train("%s/runs/crypto_ml_train.%s.json" % (work, PREV), deployed)
    for ds in (PREV, LAST):
        expect(q("SELECT count(*), min(model_version), max(model_version) FROM predictions WHERE ds = ?", ds)
               == [(20, deployed, deployed)], "forecasts of %s: %s" % (ds, q("SELECT * FROM predictions WHERE ds = ?", ds)))
        expect(q("SELECT count(*) FROM predictions WHERE ds = ? AND json_array_length(predicted) = 3 AND "
                 "abs(change - (json_extract(predicted, '$[0]') / last_close - 1)) < 1e-9", ds) == [(20,)],
               "forecast rows of %s" % ds)
        orders = q("SELECT min(10, count(*)) FROM predictions WHERE ds = ? AND abs(change) >= 0.01", ds)[0][0]
        expect(q("SELECT count(*) FROM trades WHERE ds = ?", ds) == [(orders,)],
               "trades of %s: %s, %d orders expected" % (ds, q("SELECT * FROM trades WHERE ds = ?", ds), orders))
        expect_daily("%s/runs/crypto_ml_daily.%s.json" % (work, ds), orders > 0)
    expect(q("SELECT count(*) FROM predictions WHERE ds = ? AND actual > 0", PREV) == [(20,)],
           "yesterday's forecasts were not checked against today's closes")
    expect(q("SELECT count(*) FROM trades")[0][0] > 0, "no trade at all: the example shows no trading")
    expect(orders_sent() == sorted(q("SELECT order_id, coin, side FROM trades")),
           "the exchange got %s, trades has %s" % (orders_sent(), q("SELECT * FROM trades")))
elif phase == "second":  # args: the trade count after the first run.sh
    expect(q("SELECT version, deployed, previous_version, holdout_mse = previous_mse FROM models WHERE version = 2")
           == [(2, 0, 1, 1)], "model v2: %s" % q("SELECT * FROM models"))
    expect(q("SELECT deployed FROM models WHERE version = 1") == [(q("SELECT holdout_mse < baseline_mse FROM models "
                                                                    "WHERE version = 1")[0][0],)], "v1's deployment changed")
    expect_train("%s/runs/crypto_ml_train.%s.json" % (work, PREV), False)
    expect(q("SELECT count(*) FROM trades") == [(int(args[0]),)] and len(orders_sent()) == int(args[0]),
           "orders were placed twice: %s" % orders_sent())
elif phase == "quiet":  # args: the JSON of a daily run with a threshold no forecast reaches
    expect_daily(args[0], False)
elif phase == "cases":  # args: the JSON of the forecast_cases run, the file its collect task wrote
    failed = ("failed", 1)  # retries: 2, but a bad input is not retried
    expect_run(args[0], "failed", dict(
        {k: OK for k in ["trend", "model_text", "model_list", "collect"]},
        **{k: failed for k in ["short_window", "not_finite", "zero_std", "no_coin", "horizon_zero", "window_mismatch",
                               "bad_separator", "unclosed", "too_many", "not_a_model"]}))
    trend, text, lst = json.load(open(args[1]))
    # a line through (i, i) gives 4 then 5, times std 2 plus mean 10; the last close is 10 + 2 * 3
    expect(trend == {"coin": "t", "last": 16.0, "predicted": [18.0, 20.0], "change": 0.125, "model_version": 0},
           "trend: %s" % trend)
    # 1 + 0.5 * 1 + 0.25 * 2 = 2, then the window [2, 2] gives 1 + 0.5 * 2 + 0.25 * 2 = 2.5
    expect(text == {"coin": "m", "last": 2.0, "predicted": [2.0, 2.5], "change": 0.0, "model_version": 3},
           "weights as text: %s" % text)
    expect(lst == {"coin": "l", "last": 2.0, "predicted": [2.0], "change": 0.0, "model_version": 4},
           "weights as a list: %s" % lst)
PY
check() { phase=$1; shift; python3 "$tmp/check.py" "$phase" "$work" "$@" || fail "$phase checks"; }

# --- first run.sh: the model is trained and deployed if it beats "tomorrow equals today", orders are placed
expect_exit 0 sh "$top_srcdir/examples/crypto_ml/run.sh"
case "$out" in *"crypto_ml_daily 2010-10-27: success in "*" s wall, 31 task instances"*) ;; *) fail "run.sh summary: $out" ;; esac
[ -f "$work/plugins/forecast.so" ] || fail "the plugin was not built into the work folder"
check first
trades=$(wc -l <"$work/orders.jsonl")

# --- second run.sh: the same data gives the same model, which is versioned but not deployed; the days'
#     orders are not placed again (the exchange answers a known request id with its first answer)
expect_exit 0 sh "$top_srcdir/examples/crypto_ml/run.sh"
case "$out" in *"already generated"*) ;; *) fail "the data was generated again: $out" ;; esac
check second "$trades"

# --- a threshold no forecast reaches (the variable overrides params.trade_threshold): the branch skips the
#     exchange check, the order and its recording; the report still runs
export MLFLOWD_HOME="$work/home" MLFLOWD_DAGS_FOLDER="$top_srcdir/examples/crypto_ml/dags"
export MLFLOWD__PLUGINS__PATH="$work/plugins,{plugindir}"
expect_exit 0 "$MLFLOWD" variables set crypto_ml_trade_threshold 1
expect_exit 0 "$MLFLOWD" dags test crypto_ml_daily 2010-10-27 -o json
printf '%s' "$out" >"$tmp/quiet.json"
check quiet "$tmp/quiet.json"

# --- assets (doc/assets.md): each daily run's wait_prices updated the `prices` asset (5 runs so far);
#     crypto_ml_train, scheduled on 7 updates, is started by a running scheduler at the 7th and not before
expect_exit 0 "$MLFLOWD" assets list -o json
json_check '[(a["uri"], a["producers"], a["consumers"], a["events"]) for a in d] == [("prices", "crypto_ml_daily.wait_prices", "crypto_ml_train x7", 5)]'
expect_exit 0 "$MLFLOWD" dags pause crypto_ml_daily # a daemon would start today's run, whose closes never come
"$MLFLOWD" scheduler >"$tmp/sched.log" 2>&1 &
sched=$!
trap 'kill $sched 2>/dev/null; cleanup' EXIT
wait_until 10 "the scheduler did not start" grep -q "scheduler running" "$tmp/sched.log"
train_runs() { "$MLFLOWD" dags list-runs crypto_ml_train -o json | python3 -c 'import json,sys; print(",".join(r["state"] for r in json.load(sys.stdin) if r["run_type"] == "asset_triggered"))'; }
expect_exit 0 "$MLFLOWD" assets create-event prices --extra '{"day": "2010-10-28"}'
sleep 1.2 # more than two periods of the scheduler's look at events from other processes
[ -z "$(train_runs)" ] || fail "crypto_ml_train ran after 6 updates of prices: $(train_runs)"
expect_exit 0 "$MLFLOWD" assets create-event prices --extra '{"day": "2010-10-29"}'
train_ok() { [ "$(train_runs)" = success ]; }
wait_until 60 "crypto_ml_train did not run after the 7th update: $(tail -5 "$tmp/sched.log")" train_ok
stop_pid "$sched" "the scheduler"
trap cleanup EXIT

# --- the forecast operator on known inputs (a trend line, a model with weights as JSON text and as a list)
#     and on inputs it refuses
mkdir -p "$tmp/dags"
cat >"$tmp/dags/cases.yaml" <<YAML
dag_id: forecast_cases
default_args: {retries: 2, retry_delay: 0s}
tasks:
  trend: {operator: linreg_forecast, series: {coin: t, z: [0, 1, 2, 3], mean: 10, std: 2}, horizon: 2}
  model_text:
    operator: linreg_forecast
    series: {coin: m, z: [1, 2], mean: 0, std: 1}
    model: {version: 3, window: 2, weights: " [0.5, 0.25] ", bias: 1}
    horizon: 2
  model_list:
    operator: linreg_forecast
    series: {coin: l, z: [1, 2], mean: 0, std: 1}
    model: {version: 4, window: 2, weights: [0.5, 0.25], bias: 1}
  collect:
    operator: shell
    upstream: [trend, model_text, model_list]
    command: "printf '%s' '{{ [xcom.trend, xcom.model_text, xcom.model_list] | tojson }}' > $tmp/forecasts.json"
  short_window: {operator: linreg_forecast, series: {coin: x, z: [1], mean: 0, std: 1}}
  not_finite: {operator: linreg_forecast, series: {coin: x, z: [1, .nan], mean: 0, std: 1}}
  zero_std: {operator: linreg_forecast, series: {coin: x, z: [1, 2], mean: 0, std: 0}}
  no_coin: {operator: linreg_forecast, series: {z: [1, 2], mean: 0, std: 1}}
  horizon_zero: {operator: linreg_forecast, series: {coin: x, z: [1, 2], mean: 0, std: 1}, horizon: 0}
  window_mismatch: {operator: linreg_forecast, series: {coin: x, z: [1, 2], mean: 0, std: 1}, model: {version: 1, window: 3, weights: [1, 1, 1]}}
  bad_separator: {operator: linreg_forecast, series: {coin: x, z: [1, 2], mean: 0, std: 1}, model: {version: 1, window: 2, weights: "0.5; 0.25"}}
  unclosed: {operator: linreg_forecast, series: {coin: x, z: [1, 2], mean: 0, std: 1}, model: {version: 1, window: 2, weights: "[0.5, 0.25"}}
  too_many: {operator: linreg_forecast, series: {coin: x, z: [1, 2], mean: 0, std: 1}, model: {version: 1, window: 2, weights: "0.5 0.25 1"}}
  not_a_model: {operator: linreg_forecast, series: {coin: x, z: [1, 2], mean: 0, std: 1}, model: [1, 2]}
YAML
MLFLOWD_DAGS_FOLDER="$tmp/dags" expect_exit 1 "$MLFLOWD" dags test forecast_cases 2024-01-01 -o json
printf '%s' "$out" >"$tmp/cases.json"
check cases "$tmp/cases.json" "$tmp/forecasts.json"
run_id=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_id"])' "$tmp/cases.json")
MLFLOWD_DAGS_FOLDER="$tmp/dags" expect_exit 0 "$MLFLOWD" tasks logs forecast_cases "$run_id" window_mismatch
case "$out" in *"model v1 takes windows of 3 closes, the series has 2"*) ;; *) fail "window_mismatch log: $out" ;; esac
echo "crypto_ml example ok"
