#!/usr/bin/env python3
"""crypto_ml_train / shard_stats (mapped: one task instance per shard of coins): the sufficient statistics of
the shard's samples, split in time. Nothing after `ds` is read. Of each coin's closes up to `ds`, the samples
whose target is among the last `holdout_fraction` of them are held out to compare models, and the earlier
ones train: training data ends before held-out data begins, so no model is judged on days it has seen.

    context: op_kwargs.coins (space-separated), params.window, params.holdout_fraction, ds    argv: --db FILE
    XCom return_value: {"coins": n, "train": stats, "holdout": stats}  (features.new_stats() shapes, summed
    over the shard's coins)
"""
import argparse
import sqlite3

import features


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    args = ap.parse_args()
    ctx = features.ctx_from_stdin()
    coins = ctx["op_kwargs"]["coins"].split()
    win = int(ctx["params"]["window"])
    fraction = float(ctx["params"]["holdout_fraction"])
    ds = ctx["ds"]
    train = features.new_stats(win)
    holdout = features.new_stats(win)
    db = sqlite3.connect(args.db, timeout=30)
    for coin in coins:
        closes = [r[0] for r in db.execute("SELECT close FROM prices WHERE coin = ? AND day <= ? ORDER BY day",
                                           (coin, ds))]
        first_holdout = len(closes) - int(len(closes) * fraction)  # the index of the first held-out target
        n_train, n_holdout = train["n"], holdout["n"]
        features.add_window_samples(train, closes, win, 0, first_holdout - 1)
        features.add_window_samples(holdout, closes, win, first_holdout, len(closes) - 1)
        print("%s: %d closes up to %s, %d training and %d held-out samples" % (
            coin, len(closes), ds, train["n"] - n_train, holdout["n"] - n_holdout))
    db.close()
    features.xcom_push({"coins": len(coins), "train": train, "holdout": holdout})


if __name__ == "__main__":
    main()
