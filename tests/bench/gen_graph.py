#!/usr/bin/python3
"""Writes one benchmark graph of N tasks as a Makefile, a build.ninja and mlflowd DAG files.

    gen_graph.py --shape {wide,chain,fan,layered} --n N --out DIR [--layers L] [--seed S]

Every shape has exactly N tasks, t0 .. t{N-1}:
  wide     N independent tasks
  chain    t_i depends on t_{i-1}
  fan      t0 -> t1..t{N-2} -> t{N-1}    (1 -> N-2 -> 1)
  layered  L layers (default 10) of width N/L; every task of layer l > 0 depends on 2 distinct tasks of
           layer l-1 drawn with random.Random(seed) (seed 42)

Files written into DIR:
  Makefile          phony targets, recipe `true`        run: make -r -jK -f Makefile
  build.ninja       one edge per task, command `true`   run: ninja -jK (outputs are never created, so
                    every run executes all N edges)
  dags/shell.yaml   DAG bench_shell: shell tasks running `true` (one process per task, as make and ninja)
  dags/empty.yaml   DAG bench_empty: `empty` tasks (no task body: the orchestrator's own cost)
"""
import argparse
import os
import random


def build_graph(shape, n, layers=10, seed=42):
    if n < 1:
        raise SystemExit("n must be >= 1")
    deps = [[] for _ in range(n)]
    if shape == "chain":
        for i in range(1, n):
            deps[i] = [i - 1]
    elif shape == "fan":
        if n < 3:
            raise SystemExit("fan needs n >= 3")
        for i in range(1, n - 1):
            deps[i] = [0]
        deps[n - 1] = list(range(1, n - 1))
    elif shape == "layered":
        if n % layers:
            raise SystemExit("layered needs n divisible by --layers")
        width = n // layers
        if width < 2:
            raise SystemExit("layered needs a width of at least 2")
        rng = random.Random(seed)
        for l in range(1, layers):
            for j in range(width):
                a, b = rng.sample(range(width), 2)
                base = (l - 1) * width
                deps[l * width + j] = sorted([base + a, base + b])
    elif shape != "wide":
        raise SystemExit("unknown shape " + shape)
    has_child = [False] * n
    for d in deps:
        for p in d:
            has_child[p] = True
    return deps, [i for i in range(n) if not has_child[i]]


def write_make(deps, sinks, path):
    out = [".SUFFIXES:\n", ".PHONY: all " + " ".join("t%d" % i for i in range(len(deps))) + "\n",
           "all: " + " ".join("t%d" % i for i in sinks) + "\n"]
    for i, d in enumerate(deps):
        out.append("t%d:%s\n\ttrue\n" % (i, "".join(" t%d" % p for p in d)))
    with open(path, "w") as f:
        f.write("".join(out))


def write_ninja(deps, sinks, path):
    out = ["rule t\n  command = true\n  description = $out\n"]
    for i, d in enumerate(deps):
        out.append("build o/t%d: t%s\n" % (i, "".join(" o/t%d" % p for p in d)))
    out.append("build all: phony " + " ".join("o/t%d" % i for i in sinks) + "\n")
    out.append("default all\n")
    with open(path, "w") as f:
        f.write("".join(out))


def write_dag(deps, kind, path):
    body = "    operator: shell\n    command: \"true\"\n" if kind == "shell" else "    operator: empty\n"
    # limits high enough that parallelism alone decides how many tries run at once
    out = ["dag_id: bench_%s\n" % kind, "schedule: null\n", "start_date: 2024-01-01\n",
           "max_active_tasks: %d\n" % max(len(deps), 16), "tasks:\n"]
    for i, d in enumerate(deps):
        out.append("  t%d:\n" % i)
        out.append(body)
        if d:
            out.append("    upstream: [%s]\n" % ", ".join("t%d" % p for p in d))
    with open(path, "w") as f:
        f.write("".join(out))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", required=True, choices=["wide", "chain", "fan", "layered"])
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=10)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    deps, sinks = build_graph(a.shape, a.n, a.layers, a.seed)
    os.makedirs(os.path.join(a.out, "dags"), exist_ok=True)
    write_make(deps, sinks, os.path.join(a.out, "Makefile"))
    write_ninja(deps, sinks, os.path.join(a.out, "build.ninja"))
    for kind in ("shell", "empty"):
        write_dag(deps, kind, os.path.join(a.out, "dags", kind + ".yaml"))


if __name__ == "__main__":
    main()
