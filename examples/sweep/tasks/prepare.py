#!/usr/bin/env python3
"""sweep / prepare: loads the raw data into the samples table. Here the "raw data" is generated: house prices
(in thousands) from size, rooms, age and distance to the centre, with two non-linear effects (size squared,
age times distance), three columns of pure noise, and noise on the price. The same params.seed and
params.samples always give the same rows; the split column is left to the split task.

    context: params.samples, params.seed          environment: SWEEP_DB (the SQLite file)
    XCom return_value: {"samples": n}
"""
import os
import random
import sqlite3

import ridge


def house(rng):
    sqft = rng.uniform(400, 4000)
    rooms = max(1, round(sqft / 450 + rng.gauss(0, 0.8)))
    age = rng.uniform(0, 100)
    dist = rng.uniform(0.5, 40)
    price = (40 + 0.15 * sqft + 12 * rooms - 0.9 * age - 3.5 * dist + 0.00002 * sqft * sqft + 0.04 * age * dist
             + rng.gauss(0, 20))
    return (sqft, rooms, age, dist, rng.gauss(0, 1), rng.gauss(0, 1), rng.gauss(0, 1), price)


def main():
    ctx = ridge.ctx_from_stdin()
    n, seed = int(ctx["params"]["samples"]), int(ctx["params"]["seed"])
    rng = random.Random(seed)
    db = sqlite3.connect(os.environ["SWEEP_DB"], timeout=30)
    with db:
        db.execute("DELETE FROM samples")
        db.executemany("INSERT INTO samples(id, %s, price) VALUES (?, %s)" % (", ".join(ridge.RAW),
                                                                                ", ".join("?" * (len(ridge.RAW) + 1))),
                       ((i,) + house(rng) for i in range(1, n + 1)))
    db.close()
    print("%d samples (seed %d)" % (n, seed))
    ridge.xcom_push({"samples": n})


if __name__ == "__main__":
    main()
