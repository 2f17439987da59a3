"""Feature code shared by training (shard_stats.py) and serving (normalise.py), so that the model is served
exactly the inputs it was trained on.

A model input is a window of `win` consecutive closes of one coin, z-scored with the window's own mean and
standard deviation: every coin, whatever its price level and volatility, then speaks the same units and one
model serves them all. The target is the next close in the same units, clipped to +-TARGET_CLIP so that a
rare jump cannot dominate the squared error.

The model is linear: z_next = bias + sum(weights[i] * z[i]). Fitting needs only the sufficient statistics
X'X, X'y, y'y and n of the samples (X with a trailing 1 for the bias), which add up across coins: that is
what lets training map over shards of coins and reduce once.
"""
import json
import math
import sys

TARGET_CLIP = 10.0


def ctx_from_stdin():
    """The task context the python operator writes on standard input."""
    return json.load(sys.stdin)


def xcom_push(value, key=None):
    """Pushes an XCom: the return_value, or `key` (see doc/operators/python.md)."""
    if key is None:
        print("MLFLOWD_XCOM " + json.dumps(value))
    else:
        print("MLFLOWD_XCOM " + json.dumps({"key": key, "value": value}))


def zscore(window):
    """(z, mean, std) of a window of closes. A flat window has std 0: its z are all 0 (std is then 1 so that
    de-normalising gives the mean back)."""
    n = len(window)
    mean = sum(window) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in window) / n)
    if std <= 1e-12 * max(abs(mean), 1.0):
        return [0.0] * n, mean, 1.0
    return [(v - mean) / std for v in window], mean, std


def new_stats(win):
    """Empty sufficient statistics for windows of `win` closes."""
    d = win + 1
    return {"n": 0, "xtx": [0.0] * (d * (d + 1) // 2), "xty": [0.0] * d, "yty": 0.0}


def add_sample(stats, z, y):
    """Adds one sample (input z, target y) to `stats`; xtx is the upper triangle, row by row."""
    x = z + [1.0]
    d = len(x)
    xtx, xty = stats["xtx"], stats["xty"]
    k = 0
    for i in range(d):
        xi = x[i]
        for j in range(i, d):
            xtx[k] += xi * x[j]
            k += 1
        xty[i] += xi * y
    stats["yty"] += y * y
    stats["n"] += 1


def add_window_samples(stats, closes, win, first_target, last_target):
    """Adds every sample whose target index t+1 lies in [first_target, last_target] of `closes`."""
    for t in range(max(win - 1, first_target - 1), min(last_target, len(closes) - 1)):
        z, mean, std = zscore(closes[t - win + 1:t + 1])
        y = (closes[t + 1] - mean) / std
        add_sample(stats, z, max(-TARGET_CLIP, min(TARGET_CLIP, y)))


def merge_stats(parts, win):
    """The sum of several sufficient statistics of the same window size."""
    total = new_stats(win)
    for p in parts:
        total["n"] += p["n"]
        total["yty"] += p["yty"]
        for i, v in enumerate(p["xtx"]):
            total["xtx"][i] += v
        for i, v in enumerate(p["xty"]):
            total["xty"][i] += v
    return total


def full_matrix(stats):
    """X'X as a full symmetric matrix (list of rows)."""
    d = len(stats["xty"])
    m = [[0.0] * d for _ in range(d)]
    k = 0
    for i in range(d):
        for j in range(i, d):
            m[i][j] = m[j][i] = stats["xtx"][k]
            k += 1
    return m


def solve(a, b):
    """x with a x = b, by Gaussian elimination with partial pivoting (a is small and well conditioned by
    the ridge term). Raises ValueError for a singular system."""
    d = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(d):
        p = max(range(c, d), key=lambda r: abs(m[r][c]))
        if abs(m[p][c]) < 1e-12:
            raise ValueError("singular system")
        m[c], m[p] = m[p], m[c]
        for r in range(d):
            if r != c and m[r][c] != 0.0:
                f = m[r][c] / m[c][c]
                for k in range(c, d + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][d] / m[i][i] for i in range(d)]


def fit_ridge(stats, l2):
    """(weights, bias) minimising squared error + l2 * |weights|^2 (the bias is not penalised)."""
    a = full_matrix(stats)
    for i in range(len(a) - 1):
        a[i][i] += l2
    w = solve(a, stats["xty"])
    return w[:-1], w[-1]


def mse(stats, weights, bias):
    """Mean squared error of the linear model on the samples summarised by `stats` (None when empty)."""
    if stats["n"] == 0:
        return None
    w = list(weights) + [bias]
    a = full_matrix(stats)
    quad = sum(w[i] * a[i][j] * w[j] for i in range(len(w)) for j in range(len(w)))
    lin = sum(w[i] * stats["xty"][i] for i in range(len(w)))
    return max(0.0, (stats["yty"] - 2.0 * lin + quad) / stats["n"])


def persistence(win):
    """The baseline model "tomorrow's close equals today's": weight 1 on the last close."""
    return [0.0] * (win - 1) + [1.0], 0.0
