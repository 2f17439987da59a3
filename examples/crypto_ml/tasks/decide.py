#!/usr/bin/env python3
"""crypto_ml_daily / decide: the trading rule. A coin whose forecast change for tomorrow is at least
`threshold` in size gets an order (buy when up, sell when down) worth params.order_notional, strongest
signals first, at most params.max_orders. The branch that follows runs op_kwargs.always, plus
op_kwargs.on_orders when there is an order: the task ids stay in the DAG file.

    context: xcom.predict = [{"coin", "last", "predicted", "change", "model_version"}, ...],
             op_kwargs.threshold, op_kwargs.always, op_kwargs.on_orders, params.order_notional, params.max_orders
    XComs: return_value {"coins", "signals", "max_abs_change"}; "orders" [{"coin", "side", "qty", "price",
    "change"}, ...]; "follow", the task ids for the branch operator
"""
import features


def main():
    ctx = features.ctx_from_stdin()
    params, kw = ctx["params"], ctx["op_kwargs"]
    threshold = float(kw["threshold"])
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
    features.xcom_push(list(kw["always"]) + (list(kw["on_orders"]) if orders else []), key="follow")
    features.xcom_push({"coins": len(forecasts), "signals": len(signals),
                        "max_abs_change": max((abs(f["change"]) for f in forecasts), default=0.0)})


if __name__ == "__main__":
    main()
