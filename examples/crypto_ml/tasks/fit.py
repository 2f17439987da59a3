#!/usr/bin/env python3
"""crypto_ml_train / fit: adds up every coin's sufficient statistics, fits the ridge model on the training
samples and compares it on the held-out samples with the deployed model (and, when none is deployed, with
the "tomorrow equals today" baseline). The new model is deployed only if its held-out error is strictly
lower: retraining on the same data gives the same model, which is kept out. A deployed model that takes
windows of another length cannot be scored on these samples; the new model then replaces it if it beats the
baseline.

    context: xcom.shard_stats = [{"coins", "train", "holdout"}, ...], xcom.load_model = [] or [{"version",
             "window", "weights", "bias"}], params.window, params.l2, op_kwargs.on_better and
             op_kwargs.otherwise (the task ids the branch operator follows in either case)
    XComs: return_value, the candidate {"win", "weights", "bias", "l2", "train_samples", "holdout_samples",
    "holdout_mse", "previous_version", "previous_mse", "baseline_mse", "decision": "deploy" | "keep"};
    "follow": op_kwargs.on_better or op_kwargs.otherwise
"""
import json
import sys

import features


def main():
    ctx = features.ctx_from_stdin()
    win = int(ctx["params"]["window"])
    l2 = float(ctx["params"]["l2"])
    parts = [p for p in (ctx["xcom"]["shard_stats"] or []) if p]
    train = features.merge_stats((p["train"] for p in parts), win)
    holdout = features.merge_stats((p["holdout"] for p in parts), win)
    coins = sum(p["coins"] for p in parts)
    if train["n"] <= win or holdout["n"] == 0:
        print("not enough data: %d training and %d held-out samples from %d coin(s)" % (train["n"], holdout["n"],
                                                                                    coins))
        sys.exit(1)
    weights, bias = features.fit_ridge(train, l2)
    new_mse = features.mse(holdout, weights, bias)
    baseline_mse = features.mse(holdout, *features.persistence(win))
    deployed = (ctx["xcom"]["load_model"] or [None])[0]
    previous_version = previous_mse = None
    if deployed:
        previous_version = deployed["version"]
        if deployed["window"] == win:
            previous_mse = features.mse(holdout, json.loads(deployed["weights"]), deployed["bias"])
    reference = previous_mse if previous_mse is not None else baseline_mse
    decision = "deploy" if new_mse < reference else "keep"
    print("%d coins, %d training / %d held-out samples; held-out MSE: new %.6f, deployed %s, baseline %.6f -> %s"
          % (coins, train["n"], holdout["n"], new_mse,
             "%.6f (v%d)" % (previous_mse, previous_version) if previous_mse is not None else
             "none" if previous_version is None else "v%d (another window)" % previous_version,
             baseline_mse, decision))
    features.xcom_push(ctx["op_kwargs"]["on_better" if decision == "deploy" else "otherwise"], key="follow")
    features.xcom_push({"win": win, "weights": weights, "bias": bias, "l2": l2, "train_samples": train["n"],
                        "holdout_samples": holdout["n"], "holdout_mse": new_mse, "previous_version": previous_version,
                        "previous_mse": previous_mse, "baseline_mse": baseline_mse, "decision": decision})


if __name__ == "__main__":
    main()
