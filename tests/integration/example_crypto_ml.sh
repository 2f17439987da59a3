#!/bin/sh
# The crypto_ml example end to end at a reduced size (20 coins x 300 days): run.sh builds the forecast plugin
# from this tree's SDK headers, generates the data, starts the stand-in exchange and runs the weekly training
# and two daily runs with `dags test -o json`. Checks every task instance's state, the models table (deployed
# only when better on held-out data), the forecasts and trades in SQLite against the orders the exchange got;
# then a second run.sh (the model retrained on the same data is kept, the exchange places no order twice), a
# day without orders (the branch skips trading), and the forecast operator on known inputs and bad ones.
. "$top_srcdir/tests/integration/lib.sh"

for p in sqlite python http branch; do
    case " $MLF_BUILT_PLUGINS " in *" $p "*) ;; *) echo "plugin $p not built: skipping"; exit 77 ;; esac
done

work="$tmp/work"
export CRYPTO_ML_WORK="$work" CRYPTO_ML_COINS=20 CRYPTO_ML_DAYS=300 SDK_CFLAGS="-I$top_srcdir/sdk" SDK_LIBS=
export CFLAGS="-O2 -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2"
db="$work/data/crypto.db"
prev=2010-10-26 last=2010-10-27 # 2010-01-01 + 298 and + 299 days

# sql QUERY: prints the rows of QUERY on the example's database, one per line, columns separated by '|'
sql() { python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("|".join(str(c) for c in row))' "$db" "$1"; }
# states FILE: "task[map]=state/try ..." of the dags test JSON in FILE, sorted
states() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(" ".join(sorted("%s%s=%s/%d" % (t["task_id"], "" if t["map_index"] < 0 else "[%d]" % t["map_index"], t["state"], t["try_number"]) for t in d["task_instances"])))' "$1"; }
# mapped TASK N STATE: the states of N mapped instances, as states() prints them
mapped() { i=0; while [ $i -lt "$2" ]; do printf '%s[%d]=%s/1\n' "$1" $i "$3"; i=$((i + 1)); done; }
expect_states() {
    want=$(printf '%s\n' $2 | sort | tr '\n' ' ' | sed 's/ $//')
    got=$(states "$1")
    [ "$got" = "$want" ] || fail "states of $1 differ
expected: $want
got:      $got"
}
# daily_states FILE TRADED: the expected states of one daily run, with or without the trading branch
daily_states() {
    t=success
    [ "$2" -gt 0 ] || t=skipped
    tt=$([ $t = success ] && echo 1 || echo 0)
    expect_states "$1" "wait_prices=success/1 fetch=success/1 load_model=success/1 normalise=success/1
        $(mapped predict 20 success) decide=success/1 route=success/1 store=success/1 exchange_up=$t/$tt
        trade=$t/$tt record_trades=$t/$tt report=success/1"
}

# --- first run.sh: the model is trained and deployed if it beats "tomorrow equals today", orders are placed
expect_exit 0 sh "$top_srcdir/examples/crypto_ml/run.sh"
case "$out" in *"crypto_ml_daily $last: success in "*" s wall, 31 task instances"*) ;; *) fail "run.sh summary: $out" ;; esac
[ -f "$work/plugins/forecast.so" ] || fail "the plugin was not built into the work folder"
[ "$(sql 'SELECT count(*), count(DISTINCT coin) FROM prices')" = "6000|20" ] || fail "prices: $(sql 'SELECT count(*) FROM prices')"

deployed=$(sql 'SELECT holdout_mse < baseline_mse FROM models WHERE version = 1')
[ "$(sql 'SELECT count(*) FROM models')" = 1 ] || fail "models: $(sql 'SELECT * FROM models')"
[ "$(sql 'SELECT deployed FROM models WHERE version = 1')" = "$deployed" ] || fail "deployed although not better, or not deployed although better: $(sql 'SELECT * FROM models')"
[ "$(sql 'SELECT train_samples > 0 AND holdout_samples > 0 AND previous_version IS NULL FROM models')" = 1 ] || fail "model v1: $(sql 'SELECT * FROM models')"
if [ "$deployed" = 1 ]; then d=success/1 k=skipped/0; else d=skipped/0 k=success/1; fi
expect_states "$work/runs/crypto_ml_train.$prev.json" "plan_shards=success/1 $(mapped shard_stats 8 success)
    load_model=success/1 fit=success/1 register=success/1 choose=success/1 deploy=$d keep_current=$k summary=success/1"

for ds in $prev $last; do
    [ "$(sql "SELECT count(*), min(model_version), max(model_version) FROM predictions WHERE ds = '$ds'")" = "20|$deployed|$deployed" ] \
        || fail "forecasts of $ds: $(sql "SELECT coin, model_version FROM predictions WHERE ds = '$ds'")"
    [ "$(sql "SELECT count(*) FROM predictions WHERE ds = '$ds' AND json_array_length(predicted) = 3 AND abs(change - (json_extract(predicted, '\$[0]') / last_close - 1)) < 1e-9")" = 20 ] \
        || fail "forecast rows of $ds: $(sql "SELECT * FROM predictions WHERE ds = '$ds' LIMIT 3")"
    orders=$(sql "SELECT min(10, count(*)) FROM predictions WHERE ds = '$ds' AND abs(change) >= 0.01")
    [ "$(sql "SELECT count(*) FROM trades WHERE ds = '$ds'")" = "$orders" ] || fail "trades of $ds: $(sql "SELECT * FROM trades WHERE ds = '$ds'")"
    daily_states "$work/runs/crypto_ml_daily.$ds.json" "$orders"
done
[ "$(sql "SELECT count(*) FROM predictions WHERE ds = '$prev' AND actual > 0")" = 20 ] || fail "yesterday's forecasts were not checked against today's closes"
[ "$(sql 'SELECT count(*) FROM trades')" -gt 0 ] || fail "no trade at all: the example shows no trading"
[ "$(wc -l <"$work/orders.jsonl")" -eq "$(sql 'SELECT count(*) FROM trades')" ] || fail "the exchange got $(wc -l <"$work/orders.jsonl") orders, trades has $(sql 'SELECT count(*) FROM trades')"
python3 - "$work/orders.jsonl" "$db" <<'PY' || fail "orders at the exchange differ from the trades table"
import json, sqlite3, sys
sent = sorted((o["order_id"], o["coin"], o["side"]) for o in map(json.loads, open(sys.argv[1])))
stored = sorted(sqlite3.connect(sys.argv[2]).execute("SELECT order_id, coin, side FROM trades"))
sys.exit(0 if sent == stored else 1)
PY

# --- second run.sh: the same data gives the same model, which is versioned but not deployed; the days'
#     orders are not placed again (the exchange answers a known request id with its first answer)
trades=$(sql 'SELECT count(*) FROM trades')
expect_exit 0 sh "$top_srcdir/examples/crypto_ml/run.sh"
case "$out" in *"already generated"*) ;; *) fail "the data was generated again: $out" ;; esac
[ "$(sql 'SELECT version, deployed, previous_version, holdout_mse = previous_mse FROM models WHERE version = 2')" = "2|0|1|1" ] \
    || fail "model v2: $(sql 'SELECT * FROM models')"
[ "$(sql 'SELECT deployed FROM models WHERE version = 1')" = "$deployed" ] || fail "v1 lost its deployment"
expect_states "$work/runs/crypto_ml_train.$prev.json" "plan_shards=success/1 $(mapped shard_stats 8 success)
    load_model=success/1 fit=success/1 register=success/1 choose=success/1 deploy=skipped/0 keep_current=success/1
    summary=success/1"
[ "$(sql 'SELECT count(*) FROM trades')" = "$trades" ] || fail "orders were placed twice: $(sql 'SELECT * FROM trades')"
[ "$(wc -l <"$work/orders.jsonl")" -eq "$trades" ] || fail "the exchange placed orders twice"

# --- a threshold no forecast reaches (the variable overrides params.trade_threshold): the branch skips the
#     exchange check, the order and its recording; the report still runs
export MLFLOWD_HOME="$work/home" MLFLOWD_DAGS_FOLDER="$top_srcdir/examples/crypto_ml/dags"
export MLFLOWD__PLUGINS__PATH="$work/plugins,{plugindir}"
expect_exit 0 "$MLFLOWD" variables set crypto_ml_trade_threshold 1
expect_exit 0 "$MLFLOWD" dags test crypto_ml_daily $last -o json
printf '%s' "$out" >"$tmp/quiet.json"
daily_states "$tmp/quiet.json" 0

# --- the forecast operator on known inputs: a trend line, a model with weights as JSON text and as a list;
#     and inputs it refuses without retrying (retries: 2 would otherwise give try 3)
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
expect_states "$tmp/cases.json" "trend=success/1 model_text=success/1 model_list=success/1 collect=success/1
    short_window=failed/1 not_finite=failed/1 zero_std=failed/1 no_coin=failed/1 horizon_zero=failed/1
    window_mismatch=failed/1 bad_separator=failed/1 unclosed=failed/1 too_many=failed/1 not_a_model=failed/1"
python3 - "$tmp/forecasts.json" <<'PY' || fail "forecasts: $(cat "$tmp/forecasts.json")"
import json, sys
trend, text, lst = json.load(open(sys.argv[1]))
# a line through (i, i): 4 then 5, times std 2 plus mean 10; last close 10 + 2 * 3
assert trend == {"coin": "t", "last": 16.0, "predicted": [18.0, 20.0], "change": 0.125, "model_version": 0}, trend
# 1 + 0.5 * 1 + 0.25 * 2 = 2, then the window [2, 2] gives 1 + 0.5 * 2 + 0.25 * 2 = 2.5
assert text == {"coin": "m", "last": 2.0, "predicted": [2.0, 2.5], "change": 0.0, "model_version": 3}, text
assert lst == {"coin": "l", "last": 2.0, "predicted": [2.0], "change": 0.0, "model_version": 4}, lst
PY
run_id=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run_id"])' "$tmp/cases.json")
MLFLOWD_DAGS_FOLDER="$tmp/dags" expect_exit 0 "$MLFLOWD" tasks logs forecast_cases "$run_id" window_mismatch
case "$out" in *"model v1 takes windows of 3 closes, the series has 2"*) ;; *) fail "window_mismatch log: $out" ;; esac
echo "crypto_ml example ok"
