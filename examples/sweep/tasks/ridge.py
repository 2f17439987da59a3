"""What the sweep's tasks share: the dataset's feature groups, reading a split from SQLite, and ridge
regression on standardised features in pure Python (the models are small: a dozen columns, a thousand rows).
"""
import json
import math
import sys

# Feature groups, each a superset of the one before. A column is a raw column of the samples table or a
# product of two ("a*b").
FEATURE_GROUPS = {
    "size": ["sqft", "rooms"],
    "location": ["sqft", "rooms", "age", "dist"],
    "interactions": ["sqft", "rooms", "age", "dist", "sqft*sqft", "age*dist"],
    "everything": ["sqft", "rooms", "age", "dist", "sqft*sqft", "age*dist", "noise1", "noise2", "noise3"],
}
RAW = ["sqft", "rooms", "age", "dist", "noise1", "noise2", "noise3"]


def ctx_from_stdin():
    return json.load(sys.stdin)


def xcom_push(value, key=None):
    print("MLFLOWD_XCOM " + json.dumps(value if key is None else {"key": key, "value": value}))


def load_split(db, split):
    """(rows, prices) of one split: rows as dicts of the raw columns."""
    cur = db.execute("SELECT %s, price FROM samples WHERE split = ? ORDER BY id" % ", ".join(RAW), (split,))
    rows, ys = [], []
    for r in cur:
        rows.append(dict(zip(RAW, r[:-1])))
        ys.append(r[-1])
    return rows, ys


def column(row, name):
    a, _, b = name.partition("*")
    return row[a] * row[b] if b else row[a]


def design(rows, columns):
    return [[column(r, c) for c in columns] for r in rows]


def solve(a, b):
    """x with a x = b (Gaussian elimination, partial pivoting)."""
    d = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(d):
        p = max(range(c, d), key=lambda r: abs(m[r][c]))
        if abs(m[p][c]) < 1e-12:
            raise ValueError("singular system: add an l2 penalty")
        m[c], m[p] = m[p], m[c]
        for r in range(d):
            if r != c and m[r][c] != 0.0:
                f = m[r][c] / m[c][c]
                for k in range(c, d + 1):
                    m[r][k] -= f * m[c][k]
    return [m[i][d] / m[i][i] for i in range(d)]


def fit(rows, ys, columns, l2):
    """A ridge model {columns, means, stds, weights, bias}: columns standardised with the training rows'
    means and standard deviations, the penalty l2 * |weights|^2, the bias (the mean price) not penalised."""
    x = design(rows, columns)
    n, d = len(x), len(columns)
    means = [sum(r[j] for r in x) / n for j in range(d)]
    stds = [math.sqrt(sum((r[j] - means[j]) ** 2 for r in x) / n) or 1.0 for j in range(d)]
    z = [[(r[j] - means[j]) / stds[j] for j in range(d)] for r in x]
    bias = sum(ys) / n
    a = [[sum(r[i] * r[j] for r in z) + (l2 if i == j else 0.0) for j in range(d)] for i in range(d)]
    b = [sum(r[i] * (y - bias) for r, y in zip(z, ys)) for i in range(d)]
    return {"columns": columns, "means": means, "stds": stds, "weights": solve(a, b), "bias": bias}


def predict(model, row):
    return model["bias"] + sum(w * (column(row, c) - m) / s for c, m, s, w in
                               zip(model["columns"], model["means"], model["stds"], model["weights"]))


def rmse(model, rows, ys):
    return math.sqrt(sum((predict(model, r) - y) ** 2 for r, y in zip(rows, ys)) / len(ys))
