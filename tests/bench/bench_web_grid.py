#!/usr/bin/env python3
"""bench_web_grid.py MLFLOWD -- the API's latency for the grid of a 1,000-task x 25-run DAG while the
scheduler runs a 10,000-task DAG: p50/p99 of GET /api/v1/dags/big/grid from 2 clients, idle and loaded.
Run by hand (make bench-web), never by make check: it prints figures and asserts nothing about them."""
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

mlflowd = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "mlflowd")
tmp = tempfile.mkdtemp(prefix="mlf-bench-web-")
env = dict(os.environ, MLFLOWD_HOME=tmp + "/home", MLFLOWD_DAGS_FOLDER=tmp + "/dags", MLFLOWD__EXECUTOR="local",
           MLFLOWD__PARALLELISM="32")
os.makedirs(tmp + "/dags")
with open(tmp + "/dags/big.yaml", "w") as f:
    f.write("dag_id: big\nschedule: null\ntasks:\n")
    for layer in range(10):
        for i in range(100):
            up = ", upstream: t%d_%d" % (layer - 1, (i * 7) % 100) if layer else ""
            f.write("  t%d_%d: {operator: empty%s}\n" % (layer, i, up))
with open(tmp + "/dags/load.yaml", "w") as f:
    f.write("dag_id: load\nschedule: null\nmax_active_tasks: 32\ntasks:\n")
    for i in range(10000):
        f.write("  w%d: {operator: shell, command: 'true'}\n" % i)


def run(*args):
    return subprocess.run([mlflowd, *args], env=env, check=True, capture_output=True, text=True).stdout


run("users", "create", "bench", "--role", "op", "--password", "bench-secret")
token = run("users", "token", "bench").strip()
web = subprocess.Popen([mlflowd, "webserver", "--listen", "127.0.0.1:0"], env=env, stderr=subprocess.PIPE, text=True)
line = web.stderr.readline()
while "listening on" not in line:
    line = web.stderr.readline()
port = int(line.split("http://127.0.0.1:")[1].split("/")[0])
H = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}


def call(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=H)
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200, (r.status, data[:300])
    return data


c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for i in range(1, 26):
    call(c, "POST", "/api/v1/dags/big/dagRuns", {"dag_run_id": "r%d" % i, "logical_date": "2024-01-%02dT00:00:00Z" % i})
    call(c, "PATCH", "/api/v1/dags/big/dagRuns/r%d" % i, {"state": "failed" if i % 5 == 0 else "success"})


def measure(seconds, clients=2):
    lat, stop = [], time.time() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.time() < stop:
            t0 = time.perf_counter()
            call(conn, "GET", "/api/v1/dags/big/grid?limit=25")
            lat.append(time.perf_counter() - t0)
    ts = [threading.Thread(target=client) for _ in range(clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    lat.sort()
    return len(lat), statistics.median(lat) * 1000, lat[int(len(lat) * 0.99) - 1] * 1000


n, p50, p99 = measure(10)
print("idle:   %d grid requests in 10 s, p50 %.1f ms, p99 %.1f ms" % (n, p50, p99))
sched = subprocess.Popen([mlflowd, "scheduler"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
run("dags", "trigger", "load", "--run-id", "load1")
t0 = time.time()
time.sleep(2)
n, p50, p99 = measure(20)
print("loaded: %d grid requests in 20 s while the scheduler ran the 10,000-task DAG, p50 %.1f ms, p99 %.1f ms"
      % (n, p50, p99))
while run("dags", "state", "load", "load1").strip() not in ("success", "failed") and time.time() - t0 < 900:
    time.sleep(2)
done = time.time() - t0
tis = json.loads(run("tasks", "states-for-dag-run", "load", "load1", "-o", "json"))
print("the scheduler finished %d of 10000 tasks (%s) in %.0f s" % (
    sum(1 for t in tis if t["state"] == "success"), run("dags", "state", "load", "load1").strip(), done))
sched.terminate()
sched.wait(60)
web.terminate()
web.wait(30)
shutil.rmtree(tmp, ignore_errors=True)
