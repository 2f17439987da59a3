#!/usr/bin/env python3
"""crypto_ml_daily / decide: the trading rule. A coin whose forecast change for tomorrow is at least
params.trade_threshold in size gets an order (buy when up, sell when down) worth params.order_notional,
strongest signals first, at most params.max_orders.

    context: xcom.predict = [{"coin", "last", "predicted", "change", "model_version"}, ...], params
    XComs: return_value {"coins", "signals", "max_abs_change"}; "orders" [{"coin", "side", "qty", "price",
    "change"}]; "follow": the tasks to run next, ["store", "trade"] or just ["store"] (for a branch operator)
"""
import features


def main():
    ctx = features.ctx_from_stdin()
    params = ctx["params"]
    threshold = float(params["trade_threshold"])
    forecasts = [f for f in (ctx["xcom"]["predict"] or []) if f]
    signals = sorted((f for f in forecasts if abs(f["change"]) >= threshold), key=lambda f: -abs(f["change"]))
    orders = [{"coin": f["coin"], "side": "buy" if f["change"] > 0 else "sell",
               "qty": float(params["order_notional"]) / f["last"], "price": f["last"], "change": f["change"]}
              for f in signals[:int(params["max_orders"])] if f["last"] > 0]
    for o in orders:
        print("%-6s %-4s %12.6g @ %-12.6g forecast %+.2f%%" % (o["coin"], o["side"], o["qty"], o["price"],
                                                               o["change"] * 100))
    print("%s: %d forecast(s), %d at or beyond +-%.2f%%, %d order(s)" % (ctx["ds"], len(forecasts), len(signals),
                                                                      threshold * 100, len(orders)))
    features.xcom_push(orders, key="orders")
    features.xcom_push(["store", "trade"] if orders else ["store"], key="follow")
    features.xcom_push({"coins": len(forecasts), "signals": len(signals),
                        "max_abs_change": max((abs(f["change"]) for f in forecasts), default=0.0)})


if __name__ == "__main__":
    main()
