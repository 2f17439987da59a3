#!/usr/bin/env python3
"""sweep / train (mapped: one task instance per feature group and penalty, the cross product of the two
expand lists): fits a ridge model on the training split and scores it on the validation split. The test
split is not read: it is kept for the one model select_best picks.

    argv: FEATURE_GROUP     context: op_kwargs.l2, map_index     environment: SWEEP_DB
    XCom return_value: {"map_index", "features", "l2", "n_features", "train_rmse", "val_rmse", "model"}
"""
import os
import sqlite3
import sys

import ridge


def main():
    ctx = ridge.ctx_from_stdin()
    group, l2 = sys.argv[1], float(ctx["op_kwargs"]["l2"])
    if group not in ridge.FEATURE_GROUPS:
        print("unknown feature group %r (known: %s)" % (group, ", ".join(ridge.FEATURE_GROUPS)))
        sys.exit(1)
    db = sqlite3.connect(os.environ["SWEEP_DB"], timeout=30)
    train, y_train = ridge.load_split(db, "train")
    val, y_val = ridge.load_split(db, "val")
    db.close()
    model = ridge.fit(train, y_train, ridge.FEATURE_GROUPS[group], l2)
    result = {"map_index": ctx["map_index"], "features": group, "l2": l2, "n_features": len(model["columns"]),
              "train_rmse": ridge.rmse(model, train, y_train), "val_rmse": ridge.rmse(model, val, y_val),
              "model": model}
    print("%-12s l2=%-6g %d columns: train RMSE %.3f, validation RMSE %.3f" % (
        group, l2, result["n_features"], result["train_rmse"], result["val_rmse"]))
    ridge.xcom_push(result)


if __name__ == "__main__":
    main()
