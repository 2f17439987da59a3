#!/usr/bin/env python3
"""Writes a deterministic synthetic market: daily close prices of COINS coins over DAYS days into a SQLite
database, together with the empty tables the two DAGs fill (the "warehouse" schema).

Each coin follows a geometric random walk whose daily log return has momentum (an AR(1) process):

    r[t] = mu + phi * r[t-1] + sigma * eps[t],   close[t] = close[t-1] * exp(r[t])

with mu, phi, sigma and the first close drawn per coin. The momentum is what a model can learn: a good
forecast beats "tomorrow equals today" by a few percent of squared error, as on real markets, no more.
Everything comes from one random.Random(seed), so the same arguments always give the same file.

    generate_data.py --db data/crypto.db [--coins 100] [--days 5600] [--seed 42] [--start 2010-01-01]

An existing database written with the same arguments is kept as it is (the generator runs once); with
other arguments it is replaced.
"""
import argparse
import datetime
import math
import os
import random
import sqlite3
import sys

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- the market feed: one close per coin and day
CREATE TABLE prices(coin TEXT NOT NULL, day TEXT NOT NULL, close REAL NOT NULL, PRIMARY KEY (coin, day))
    WITHOUT ROWID;
CREATE INDEX prices_by_day ON prices(day, coin);
-- every trained model gets a version; exactly one (or none before the first training) is deployed
CREATE TABLE models(
    version INTEGER PRIMARY KEY,
    trained_for TEXT NOT NULL,          -- the logical date of the training run
    run_id TEXT NOT NULL,
    win INTEGER NOT NULL,               -- closes per input window
    weights TEXT NOT NULL,              -- JSON list of win numbers
    bias REAL NOT NULL,
    l2 REAL NOT NULL,
    train_samples INTEGER NOT NULL,
    holdout_samples INTEGER NOT NULL,
    holdout_mse REAL NOT NULL,          -- this model on the held-out split of its training run
    previous_version INTEGER,           -- the model deployed when it was trained (NULL: none)
    previous_mse REAL,                  -- that model on the same held-out split
    baseline_mse REAL NOT NULL,         -- "tomorrow equals today" on the same held-out split
    deployed INTEGER NOT NULL DEFAULT 0,
    deployed_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')));
-- one row per coin and day: the forecast of the next closes, and the close that came true
CREATE TABLE predictions(
    ds TEXT NOT NULL,
    coin TEXT NOT NULL,
    last_close REAL NOT NULL,
    predicted TEXT NOT NULL,            -- JSON list: the closes of the next `horizon` days
    change REAL NOT NULL,               -- predicted[0] / last_close - 1
    model_version INTEGER NOT NULL,     -- 0: no model deployed, a trend line was used
    actual REAL,                        -- the next day's close, filled in by the next day's run
    PRIMARY KEY (ds, coin));
-- orders sent to the exchange and what it answered
CREATE TABLE trades(
    order_id TEXT PRIMARY KEY,
    ds TEXT NOT NULL,
    coin TEXT NOT NULL,
    side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    qty REAL NOT NULL,
    price REAL NOT NULL);
"""


def simulate(rng, days):
    """One coin's closes: an AR(1) log-return walk with parameters drawn from rng."""
    sigma = rng.uniform(0.015, 0.05)
    phi = rng.uniform(0.05, 0.35)
    mu = rng.gauss(0.0, 0.0003)
    close = math.exp(rng.uniform(math.log(0.05), math.log(5000.0)))
    r = 0.0
    closes = []
    for _ in range(days):
        r = mu + phi * r + sigma * rng.gauss(0.0, 1.0)
        close *= math.exp(r)
        closes.append(close)
    return closes


def wanted_meta(args):
    start = datetime.date.fromisoformat(args.start)
    last = start + datetime.timedelta(days=args.days - 1)
    return {"coins": str(args.coins), "days": str(args.days), "seed": str(args.seed),
            "first_day": start.isoformat(), "last_day": last.isoformat(), "generator": "1"}


def existing_meta(path):
    if not os.path.exists(path):
        return None
    try:
        db = sqlite3.connect(path)
        try:
            return dict(db.execute("SELECT key, value FROM meta"))
        finally:
            db.close()
    except sqlite3.Error:
        return None


def generate(args, meta):
    tmp = args.db + ".tmp"
    if os.path.exists(tmp):
        os.remove(tmp)
    db = sqlite3.connect(tmp)
    db.execute("PRAGMA synchronous=OFF")  # a crash leaves only the .tmp file, replaced next time
    db.executescript(SCHEMA)
    rng = random.Random(args.seed)
    start = datetime.date.fromisoformat(args.start)
    days = [(start + datetime.timedelta(days=i)).isoformat() for i in range(args.days)]
    for c in range(args.coins):
        coin = "c%03d" % (c + 1)
        db.executemany("INSERT INTO prices VALUES (?, ?, ?)",
                       ((coin, day, close) for day, close in zip(days, simulate(rng, args.days))))
    db.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
    db.commit()
    db.execute("PRAGMA journal_mode=WAL")  # readers (mapped tasks) never wait for the one writer
    db.close()
    os.replace(tmp, args.db)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", required=True, help="the SQLite file to write")
    p.add_argument("--coins", type=int, default=100)
    p.add_argument("--days", type=int, default=5600)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--start", default="2010-01-01", help="the first day (YYYY-MM-DD)")
    args = p.parse_args()
    if not 1 <= args.coins <= 999 or args.days < 30:
        p.error("--coins must be 1..999 and --days at least 30")
    meta = wanted_meta(args)
    if existing_meta(args.db) == meta:
        print("%s: already generated (%s coins x %s days, up to %s)" % (args.db, meta["coins"], meta["days"],
                                                                       meta["last_day"]))
        return 0
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(args.db + suffix):
            os.remove(args.db + suffix)
    generate(args, meta)
    print("%s: %d coins x %d days = %d closes, %s .. %s" % (args.db, args.coins, args.days, args.coins * args.days,
                                                            meta["first_day"], meta["last_day"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
