#!/bin/sh
# `mlflowd workers list`: the zmq executor's workers as the state store records them -- name, state, host,
# slots, queues, operators, last heartbeat -- in every output form; a worker killed without a word shows as
# offline with the reason (and `db clean` forgets it); heartbeats reach the store without a commit each (the LMDB transaction id, read
# from the data file, barely moves while two workers heartbeat four times a second each).
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/zmq_lib.sh"

cat >"$tmp/dags/slow.yaml" <<YAML
dag_id: slow
schedule: null
tasks:
  nap: {operator: shell, queue: gpu, command: "sleep 6"}
YAML
expect_exit 0 "$MLFLOWD" db init
expect_exit 0 "$MLFLOWD" workers list -o json
json_check 'd == []'
expect_exit 2 "$MLFLOWD" workers list --state busy
echo "$err" | grep -q "expected idle, running, offline or unknown" || fail "--state busy: $err"

start_scheduler
MLFLOWD__PLUGINS__LOAD=shell start_worker wgpu --queues gpu,default --concurrency 2
wgpu=$wpid
start_worker wcpu --concurrency 1
wcpu=$wpid

both_idle() {
    "$MLFLOWD" workers list -o json >"$tmp/w.json" 2>/dev/null &&
        python3 -c "import json,sys; d=json.load(open('$tmp/w.json')); sys.exit(0 if sorted((w['name'], w['state']) for w in d) == [('wcpu','idle'),('wgpu','idle')] else 1)"
}
wait_until 15 "both workers listed as idle: $(cat "$tmp/w.json" 2>/dev/null)" both_idle
expect_exit 0 "$MLFLOWD" workers list -o json
json_check '[w["name"] for w in d] == ["wcpu", "wgpu"]'
json_check 'all(w["host"] and w["pid"] > 0 and w["executor"] == "zmq" and w["last_heartbeat"] and w["registered_at"] for w in d)'
json_check 'd[1]["slots"] == 2 and d[1]["queues"] == ["gpu", "default"] and d[1]["operators"] == ["shell"]'
json_check 'd[0]["slots"] == 1 and d[0]["queues"] == ["default"] and "shell" in d[0]["operators"] and len(d[0]["operators"]) > 1'
json_check 'all(w["reason"] is None for w in d)'

# the text forms: a table with separators and a rule, a plain listing without, YAML
expect_exit 0 "$MLFLOWD" workers list
printf '%s\n' "$out" | head -1 | grep -q "^name *| state *| host *| slots *| running *| queues *| operators *| last_heartbeat$" ||
    fail "table header: $out"
printf '%s\n' "$out" | sed -n 2p | grep -q "^=*+=*+" || fail "table rule: $out"
printf '%s\n' "$out" | grep -q "^wgpu *| idle *| .* | 2 *| 0 *| gpu,default *| shell *| 20" || fail "table row: $out"
expect_exit 0 "$MLFLOWD" workers list -o plain
printf '%s\n' "$out" | grep -q "|" && fail "plain has table separators: $out"
printf '%s\n' "$out" | grep -q "==" && fail "plain has a rule: $out"
[ "$(printf '%s\n' "$out" | awk '$1 == "wgpu" {print $2, $4, $6, $7}')" = "idle 2 gpu,default shell" ] || fail "plain row: $out"
expect_exit 0 "$MLFLOWD" workers list -o yaml
printf '%s\n' "$out" | grep -q "^- name: wcpu$" || fail "yaml: $out"
printf '%s\n' "$out" | grep -q "^  state: idle$" || fail "yaml: $out"

# heartbeats move last_heartbeat, batched: two workers heartbeat every 250 ms, but the store commits only a
# few times in 7 s (the scheduler's own heartbeat and one flush of worker records every 5 s; whatever else an
# idle scheduler writes counts too)
txnid() { # the last committed LMDB transaction: the larger txnid of the two meta pages (64-bit layout)
    a=$(od -An -t u8 -j 144 -N 8 "$MLFLOWD_HOME/state/data.mdb" | tr -d ' ')
    b=$(od -An -t u8 -j $((4096 + 144)) -N 8 "$MLFLOWD_HOME/state/data.mdb" | tr -d ' ')
    [ "$a" -gt "$b" ] && echo "$a" || echo "$b"
}
hb() { "$MLFLOWD" workers list -o json | python3 -c "import json,sys; print([w for w in json.load(sys.stdin) if w['name'] == '$1'][0]['last_heartbeat'])"; }
t0=$(txnid); hb0=$(hb wcpu)
sleep 7
t1=$(txnid); hb1=$(hb wcpu)
[ "$hb1" \> "$hb0" ] || fail "wcpu's last heartbeat did not move in 7 s: $hb0 -> $hb1"
# (one commit per heartbeat would be ~56; measured: 4-5, 6 under the sanitizers, where a slow turn can
# split what would have been one commit)
[ $((t1 - t0)) -le 10 ] || fail "$((t1 - t0)) store commits in 7 s of heartbeats (expected at most 10: heartbeats are batched)"
echo "workers_list: $((t1 - t0)) commits in 7 s with 2 workers heartbeating every 250 ms"

# a try on the gpu worker: it shows as running, with the try counted
expect_exit 0 "$MLFLOWD" dags trigger slow --run-id r1
busy() { "$MLFLOWD" workers list --state running -o json >"$tmp/busy.json" 2>/dev/null && grep -q '"name": "wgpu"' "$tmp/busy.json"; }
wait_until 15 "wgpu listed as running" busy
out=$(cat "$tmp/busy.json")   # the listing that showed it (a second one may come after the try ended)
json_check 'len(d) == 1 and d[0]["running"] == 1'
wait_run slow r1 success 30

# a worker killed without a word: offline, with the executor's reason
kill -KILL "$wcpu"; wait "$wcpu" 2>/dev/null || true; forget_pid "$wcpu"
gone() { "$MLFLOWD" workers list --state offline -o json 2>/dev/null | grep -q '"name": "wcpu"'; }
wait_until 15 "wcpu listed as offline" gone
expect_exit 0 "$MLFLOWD" workers list --state offline -o json
json_check 'len(d) == 1 and ("stopped heartbeating" in d[0]["reason"] or "disconnected" in d[0]["reason"]) and d[0]["running"] == 0'
expect_exit 0 "$MLFLOWD" workers list --state idle -o json
json_check '[w["name"] for w in d] == ["wgpu"]'
# db clean forgets offline workers last heard before the cutoff, never registered ones
sleep 2
expect_exit 0 "$MLFLOWD" db clean --older-than 1s --dry-run -o json
json_check 'd["workers"] == 1'
expect_exit 0 "$MLFLOWD" db clean --older-than 1s -y
printf '%s\n' "$out" | grep -q "^Deleted the records of 1 offline worker(s)$" || fail "db clean: $out"
expect_exit 0 "$MLFLOWD" workers list -o json
json_check '[w["name"] for w in d] == ["wgpu"]'
expect_exit 0 "$MLFLOWD" db check
stop_all
