#!/usr/bin/env python3
"""sweep / select_best: the trial with the lowest validation RMSE wins (ties: fewer columns, then the larger
penalty, the simpler model). It is scored once on the test split, next to the baseline that predicts the
training mean; that test score is the number to report, not the validation one it was chosen on.

    context: xcom.train = [trial, ...]          environment: SWEEP_DB
    XCom return_value: {"features", "l2", "val_rmse", "test_rmse", "baseline_rmse", "trials", "model"}
"""
import os
import sqlite3
import sys

import ridge


def main():
    ctx = ridge.ctx_from_stdin()
    trials = [t for t in (ctx["xcom"]["train"] or []) if t]
    if not trials:
        print("no trial finished")
        sys.exit(1)
    best = min(trials, key=lambda t: (t["val_rmse"], t["n_features"], -t["l2"]))
    db = sqlite3.connect(os.environ["SWEEP_DB"], timeout=30)
    _, y_train = ridge.load_split(db, "train")
    test, y_test = ridge.load_split(db, "test")
    db.close()
    mean = sum(y_train) / len(y_train)
    baseline = (sum((y - mean) ** 2 for y in y_test) / len(y_test)) ** 0.5
    test_rmse = ridge.rmse(best["model"], test, y_test)
    print("best of %d trials: %s, l2=%g (validation RMSE %.3f); test RMSE %.3f, the mean price's %.3f" % (
        len(trials), best["features"], best["l2"], best["val_rmse"], test_rmse, baseline))
    ridge.xcom_push({"features": best["features"], "l2": best["l2"], "val_rmse": best["val_rmse"],
                     "test_rmse": test_rmse, "baseline_rmse": baseline, "trials": len(trials),
                     "model": best["model"]})


if __name__ == "__main__":
    main()
