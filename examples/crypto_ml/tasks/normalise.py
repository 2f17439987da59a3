#!/usr/bin/env python3
"""crypto_ml_daily / normalise: turns the day's closes (the fetch task's rows) into one model input per coin:
the window of the coin's last `window` closes, today's included, z-scored as training z-scores them
(features.zscore). A coin with a shorter history (a new listing) is left out and named in the log.

    context: xcom.fetch = [{"coin", "close"}, ...], op_kwargs.window, ds          argv: --db FILE
    XCom return_value: [{"coin", "z": [window numbers, oldest first], "mean", "std"}, ...]  (one per coin;
    the predict task maps over this list)
"""
import argparse
import sqlite3

import features


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    args = ap.parse_args()
    ctx = features.ctx_from_stdin()
    win = int(ctx["op_kwargs"]["window"])
    today = ctx["xcom"]["fetch"] or []
    db = sqlite3.connect(args.db, timeout=30)
    series, short = [], []
    for row in today:
        past = db.execute("SELECT close FROM prices WHERE coin = ? AND day < ? ORDER BY day DESC LIMIT ?",
                          (row["coin"], ctx["ds"], win - 1)).fetchall()
        window = [r[0] for r in reversed(past)] + [row["close"]]
        if len(window) < win:
            short.append(row["coin"])
            continue
        z, mean, std = features.zscore(window)
        series.append({"coin": row["coin"], "z": z, "mean": mean, "std": std})
    db.close()
    print("%s: %d coin(s) normalised over windows of %d closes" % (ctx["ds"], len(series), win))
    if short:
        print("left out (less than %d closes of history): %s" % (win, " ".join(short)))
    features.xcom_push(series)


if __name__ == "__main__":
    main()
