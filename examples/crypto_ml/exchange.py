#!/usr/bin/env python3
"""A stand-in for a crypto exchange's order API, for the crypto_ml example: a tiny HTTP server on
127.0.0.1 that accepts orders and appends them to a JSON-lines file.

    exchange.py --port-file FILE --orders FILE [--port N]      (port 0, the default: any free port)

    POST /orders  {"ds": "...", "orders": [{"coin", "side", "qty", "price", ...}, ...]}
        -> 200 {"accepted": n, "fills": [{"order_id", "coin", "side", "qty", "price"}, ...]}
        -> 400 {"error": "..."} for a body that is not such an object
        An X-Request-Id header makes the request idempotent, as payment APIs do: a request id seen before
        (kept in the orders file, so across restarts) gets the first answer again and places nothing.
    GET /health   -> 200 {"status": "ok", "orders": n}

The port it listens on is written to --port-file once it accepts connections. It runs until killed.
"""
import argparse
import http.server
import json
import os
import threading


class Exchange(http.server.ThreadingHTTPServer):
    def __init__(self, addr, orders_path):
        super().__init__(addr, Handler)
        self.orders_path = orders_path
        self.lock = threading.Lock()
        self.count = 0  # order ids go on from the orders already in the file
        self.answers = {}  # request id -> the fills it got
        if os.path.exists(orders_path):
            with open(orders_path) as f:
                for line in f:
                    fill = json.loads(line)
                    self.count += 1
                    if fill.get("request_id"):
                        self.answers.setdefault(fill.pop("request_id"), []).append(fill)


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/health":
            self.reply(200, {"status": "ok", "orders": self.server.count})
        else:
            self.reply(404, {"error": "no such resource: %s" % self.path})

    def do_POST(self):
        if self.path != "/orders":
            self.reply(404, {"error": "no such resource: %s" % self.path})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if not 0 < length <= 1 << 20:
                raise ValueError("a body of 1 byte to 1 MiB is required")
            req = json.loads(self.rfile.read(length))
            orders = req["orders"]
            if not isinstance(orders, list) or not all(
                    isinstance(o, dict) and isinstance(o.get("coin"), str) and o.get("side") in ("buy", "sell")
                    and isinstance(o.get("qty"), (int, float)) and isinstance(o.get("price"), (int, float))
                    for o in orders):
                raise ValueError("orders must be a list of {coin, side: buy|sell, qty, price}")
        except (ValueError, KeyError, TypeError) as e:
            self.reply(400, {"error": str(e)})
            return
        request_id = self.headers.get("X-Request-Id", "")
        with self.server.lock:
            fills = self.server.answers.get(request_id) if request_id else None
            if fills is None:
                fills = []
                with open(self.server.orders_path, "a") as log:
                    for o in orders:
                        self.server.count += 1
                        fill = {"order_id": "%s-%06d" % (req.get("ds", "order"), self.server.count),
                                "coin": o["coin"], "side": o["side"], "qty": o["qty"], "price": o["price"]}
                        log.write(json.dumps(dict(fill, request_id=request_id)) + "\n")
                        fills.append(fill)
                if request_id:
                    self.server.answers[request_id] = fills
        self.reply(200, {"accepted": len(fills), "fills": fills})

    def log_message(self, fmt, *args):
        pass  # quiet: the orders file is the record


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--orders", required=True)
    args = ap.parse_args()
    server = Exchange(("127.0.0.1", args.port), args.orders)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
