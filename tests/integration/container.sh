#!/bin/sh
# The container operator against a real engine: Podman's Docker-compatible API service (`podman system
# service`) on a socket in this test's temporary folder, with its own storage there, and an image imported
# from a tarball holding a static busybox (no registry is reachable). One DAG run has containers that
# succeed and push an XCom a downstream container reads, fail with a code, skip (99), run past their
# execution_timeout (the container must be gone afterwards), read a connection's password from env (it must
# not appear in the log), mount a folder of the allow-list and are refused one outside it. Orphans left by
# dead tries are swept, by a scheduler that starts and by the tries; a container owned by another host is
# left alone. The service is stopped by its PID.
#
# Needs root (rootless Podman needs subordinate ids this test does not set up), podman, runc and
# busybox-static (scripts/bootstrap.sh installs them); without them it says why and is skipped.
. "$top_srcdir/tests/integration/lib.sh"

require_plugins container
[ "$(id -u)" -eq 0 ] || skip "not root: this test runs rootful podman (rootless needs subuid/subgid ranges)"
command -v podman >/dev/null || skip "podman is not installed (apt-get install podman runc busybox-static)"
command -v runc >/dev/null || skip "runc is not installed (apt-get install runc)"
busybox=
for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && busybox=$b && break; done
[ -n "$busybox" ] || skip "busybox is not installed (apt-get install busybox-static)"
if command -v readelf >/dev/null && readelf -l "$busybox" | grep -q INTERP; then
    skip "$busybox is dynamically linked: the image needs busybox-static"
fi
command -v timeout >/dev/null || skip "timeout (coreutils) is missing"
command -v pgrep >/dev/null || skip "pgrep (procps) is missing"

# ---- a private podman: configuration, storage and socket under $tmp
pm="$tmp/podman"
mkdir -p "$pm"
# runc: crun refuses hybrid cgroup hierarchies; default_ulimits empty: setting RLIMIT_NPROC is not permitted
# in every environment; k8s-file logs: the logs endpoint must work without journald.
cat >"$pm/containers.conf" <<'EOF'
[containers]
default_ulimits = []
log_driver = "k8s-file"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$pm/containers.conf"
podman_opts() { echo --root "$pm/root" --runroot "$pm/run" --storage-driver vfs --tmpdir "$pm/tmp"; }
# shellcheck disable=SC2046 # the options hold no spaces ($tmp is mktemp's)
pod() { timeout 60 podman $(podman_opts) "$@"; }
service_pid=
stop_podman() {
    if [ -n "$service_pid" ]; then
        pod rm -af -t 0 >/dev/null 2>&1 || true
        kill "$service_pid" 2>/dev/null || true
        i=0
        while kill -0 "$service_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$service_pid" 2>/dev/null || true
        wait "$service_pid" 2>/dev/null || true
        service_pid=
        # conmon runs `podman container cleanup` when a container ends: wait for those to finish writing
        # into $pm before it is removed
        i=0
        while pgrep -f -- "$pm/root" >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    fi
}
trap 'st=$?; stop_podman; cleanup $st' EXIT
mkdir -p "$pm/tmp" "$pm/rootfs/bin"
cp "$busybox" "$pm/rootfs/bin/busybox"
for a in sh echo cat sleep true md5sum ls; do ln -s busybox "$pm/rootfs/bin/$a"; done
tar -C "$pm/rootfs" -cf "$pm/image.tar" .
image=localhost/mlflowd-test:busybox
pod import "$pm/image.tar" "$image" >"$pm/import.log" 2>&1 || fail "podman import failed: $(cat "$pm/import.log")"

sock="$pm/api.sock"
# started directly (not through a function, which would run in a subshell) so that $! is podman's own PID
# shellcheck disable=SC2046
podman $(podman_opts) system service --time=0 "unix://$sock" >"$pm/service.log" 2>&1 &
service_pid=$!
i=0
while [ ! -S "$sock" ]; do
    kill -0 "$service_pid" 2>/dev/null || fail "podman system service exited: $(cat "$pm/service.log")"
    [ $i -lt 200 ] || fail "podman system service made no socket in 20 s: $(cat "$pm/service.log")"
    sleep 0.1; i=$((i + 1))
done
# one container straight through podman first: if the runtime cannot start containers here, say so plainly
pod run --rm --network none "$image" true >"$pm/probe.log" 2>&1 ||
    fail "podman cannot run a container in this environment: $(cat "$pm/probe.log")"

# ---- orphans: containers whose owner process is gone
self_host=$(hostname)
boot=$(cat /proc/sys/kernel/random/boot_id)
pidns=$(readlink /proc/self/ns/pid)
sh -c 'exit 0' & dead=$!; wait $dead
orphan() { # NAME DAG: a running container owned by the dead process
    pod run -d --network none --name "$1" --label org.mlflowd.owner="$self_host $boot $pidns $dead 1" \
        --label org.mlflowd.dag="$2" --label org.mlflowd.task=t "$image" sleep 300 >/dev/null
}
mkdir -p "$tmp/dags"
export MLFLOWD_DAGS_FOLDER="$tmp/dags"

# a scheduler that starts sweeps the default engine ($DOCKER_HOST here) for orphans of its previous life
orphan orphan_at_start before_restart
DOCKER_HOST="unix://$sock" "$MLFLOWD" scheduler >"$tmp/scheduler.log" 2>&1 &
sched=$!
i=0
until grep -q "Removed orphaned container .* of before_restart.t" "$tmp/scheduler.log"; do
    kill -0 $sched 2>/dev/null || fail "the scheduler exited: $(cat "$tmp/scheduler.log")"
    [ $i -lt 150 ] || { kill $sched; fail "the scheduler did not sweep the orphan in 15 s: $(cat "$tmp/scheduler.log")"; }
    sleep 0.1; i=$((i + 1))
done
kill $sched
wait $sched || true
[ -z "$(pod ps -a --filter name=orphan_at_start --format '{{.Names}}')" ] || fail "the scheduler's sweep left the orphan"

# an orphan for the tries to sweep, and a foreign container (owned from another host) nobody may touch
orphan orphan gone
pod run -d --network none --name foreign --label org.mlflowd.owner="other-host.invalid $boot $pidns $dead 1" \
    "$image" sleep 300 >/dev/null

# ---- the DAG
mkdir -p "$tmp/share" "$tmp/private"
expect_exit 0 "$MLFLOWD" connections add engine --conn-type docker --conn-host "$sock" \
    --conn-password 'c0ntainer-s3cret-pw' --conn-extra "{\"allowed_mounts\": [\"$tmp/share\"]}"
# the slow container must have started and printed before its timeout: sanitized processes start slower
slow_timeout=4s
if sanitized; then slow_timeout=10s; fi
cat >"$tmp/dags/ctr.yaml" <<YAML
dag_id: ctr
default_args: {operator: container, conn_id: engine, image: "$image", pull: never, network_mode: none}
tasks:
  ok: {command: "echo hello from the container; echo to stderr >&2; echo result-42"}
  consume: {upstream: ok, command: ["sh", "-c", "echo got={{ xcom.ok }}"]}
  fail: {command: "echo boom; exit 3"}
  skip: {command: "echo nothing to do; exit 99"}
  secret: {env: {DB_PASSWORD: "{{ conn.engine.password }}"}, command: 'echo "pw=\$DB_PASSWORD"; printf %s "\$DB_PASSWORD" | md5sum'}
  slow: {command: "echo started; sleep 120", execution_timeout: $slow_timeout, labels: {purpose: slow}}
  mount: {mounts: ["$tmp/share:/share"], command: "echo written > /share/out.txt; echo done"}
  refused: {mounts: ["$tmp/private:/private:ro"], command: "true"}
YAML
grep -q default_args "$tmp/dags/ctr.yaml"
started=$(date +%s)
expect_exit 1 timeout 120 "$MLFLOWD" dags test ctr 2024-06-01 -o json
json_check '{t["task_id"]: t["state"] for t in d["task_instances"]} == {"ok": "success", "consume": "success", "fail": "failed", "skip": "skipped", "secret": "success", "slow": "failed", "mount": "success", "refused": "failed"}'
run=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')
echo "run took $(( $(date +%s) - started )) s"

logs() { expect_exit 0 "$MLFLOWD" tasks logs ctr "$run" "$1"; }
has() { case "$out" in *"$1"*) ;; *) fail "$2 log lacks '$1': $out" ;; esac; }
logs ok
has "INFO - hello from the container" ok
has "INFO - to stderr" ok
has "Container exited with code 0" ok
logs consume
has "INFO - got=result-42" consume
logs fail
has "container exited with code 3; last lines: boom" fail
logs skip
has "Marking task as SKIPPED (container exited with code 99: skipping)" skip
logs secret
has "pw=***" secret
case "$out" in *c0ntainer-s3cret-pw*) fail "the connection password leaked into the log: $out" ;; esac
want=$(printf %s 'c0ntainer-s3cret-pw' | md5sum | cut -d' ' -f1)
has "$want" "secret (the container did not get the password)"
logs slow
has "INFO - started" slow
has "Stopping container" slow
has "the container was stopped: the try was cancelled" slow
logs mount
[ "$(cat "$tmp/share/out.txt" 2>/dev/null)" = written ] || fail "the mounted folder did not get the container's file"
logs refused
has "is not under an allowed folder (allowed_mounts: $tmp/share)" refused
has "FAILED, without retry" refused

# every container of the run is gone (auto_remove), the slow one included; the orphan was swept, the
# foreign container stays
left=$(pod ps -a --filter label=org.mlflowd.dag=ctr --format '{{.Names}} {{.Status}}')
[ -z "$left" ] || fail "containers of the run are left: $left"
names=$(pod ps -a --format '{{.Names}}' | sort | tr '\n' ' ')
[ "$names" = "foreign " ] || fail "after the run the engine holds '$names', expected only the foreign container"
swept=$(cat "$MLFLOWD_HOME"/logs/ctr/*/*/*.log | grep -c "Removed orphaned container .* of gone.t try ? (run ?)" || true)
[ "$swept" -ge 1 ] || fail "no try reported sweeping the orphan"

# ---- `tasks clear` of a running container task under a scheduler: the container is stopped and removed, the
# task runs again (try 2), whose execution_timeout removes its container too
mkdir -p "$tmp/dags2"
cat >"$tmp/dags2/ctr_clear.yaml" <<YAML
dag_id: ctr_clear
tasks:
  long: {operator: container, conn_id: engine, image: "$image", pull: never, network_mode: none,
         command: "echo up; sleep 300", execution_timeout: 8s}
YAML
export MLFLOWD_DAGS_FOLDER="$tmp/dags2"
expect_exit 0 "$MLFLOWD" dags trigger ctr_clear --run-id r1
"$MLFLOWD" scheduler >"$tmp/sched2.log" 2>&1 &
sched=$!
# container_of TRY: the id of try TRY's running container, empty when there is none
container_of() { pod ps --filter label=org.mlflowd.dag=ctr_clear --filter "label=org.mlflowd.try=$1" --filter status=running --format '{{.ID}}'; }
i=0
until first=$(container_of 1) && [ -n "$first" ]; do
    i=$((i + 1)); [ $i -le 300 ] || { kill $sched; fail "try 1's container did not start: $(tail "$tmp/sched2.log")"; }
    sleep 0.1
done
expect_exit 0 "$MLFLOWD" tasks clear ctr_clear -t '^long$' -y
i=0
until [ -z "$(pod ps -a --filter "id=$first" --format '{{.ID}}')" ]; do
    i=$((i + 1)); [ $i -le 200 ] || { kill $sched; fail "the cleared try's container $first is still there"; }
    sleep 0.1
done
i=0
until [ "$("$MLFLOWD" dags state ctr_clear r1 2>/dev/null)" = failed ]; do
    i=$((i + 1)); [ $i -le 300 ] || { kill $sched; fail "try 2 did not time out: $(tail "$tmp/sched2.log")"; }
    sleep 0.1
done
kill -TERM $sched
wait $sched || fail "scheduler exit status: $(tail "$tmp/sched2.log")"
expect_exit 0 "$MLFLOWD" tasks logs ctr_clear r1 long --try 2
has "INFO - up" "ctr_clear try 2"
has "the container was stopped: the try was cancelled" "ctr_clear try 2"
[ -z "$(pod ps -a --filter label=org.mlflowd.dag=ctr_clear --format '{{.ID}}')" ] ||
    fail "containers of ctr_clear are left: $(pod ps -a --filter label=org.mlflowd.dag=ctr_clear)"

pid=$service_pid
stop_podman
! kill -0 "$pid" 2>/dev/null || fail "podman system service (PID $pid) is still running"
echo "container operator ok"
