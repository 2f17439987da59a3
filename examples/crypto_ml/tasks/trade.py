#!/usr/bin/env python3
"""crypto_ml_daily / trade: sends the day's orders to the exchange as one JSON POST and pushes its answer.
Without orders there is nothing to send: the task is skipped (exit code 99).

    context: op_kwargs.url, op_kwargs.orders, ds
    XCom return_value: the exchange's answer {"accepted": n, "fills": [{"order_id", "coin", "side", "qty",
    "price"}, ...]}
"""
import json
import sys
import urllib.error
import urllib.request

import features


def main():
    ctx = features.ctx_from_stdin()
    orders = ctx["op_kwargs"].get("orders") or []
    if not orders:
        print("no orders for %s" % ctx["ds"])
        sys.exit(99)
    body = json.dumps({"ds": ctx["ds"], "orders": orders}).encode()
    req = urllib.request.Request(ctx["op_kwargs"]["url"], data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            answer = json.load(resp)
    except (urllib.error.URLError, OSError, ValueError) as e:
        print("POST %s: %s" % (ctx["op_kwargs"]["url"], e))
        sys.exit(1)
    print("%s: the exchange accepted %d of %d order(s)" % (ctx["ds"], answer.get("accepted", 0), len(orders)))
    features.xcom_push(answer)


if __name__ == "__main__":
    main()
