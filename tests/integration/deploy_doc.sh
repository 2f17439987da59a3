#!/bin/sh
# doc/deploy.md's commands, run as written: every fenced block marked `<!-- deploy-test: TAG -->` is
# extracted and run on "machines" made of network namespaces -- a scheduler host and two worker hosts joined
# by veth pairs -- each with a folder of its own standing for its root file system. Within a block,
# /var/lib/mlflowd and /etc/mlflowd mean that host's folders, `sudo [-u mlflowd]` is dropped,
# `$(hostname -s)` is the host's name, scheduler.example its way to the scheduler, and `systemctl` runs the
# units of dist/systemd/ (their Environment=, EnvironmentFile= and ExecStart= lines) as background processes.
# /var/backups is the host's too, and `install -o mlflowd` drops the owner; `sudoedit FILE` writes the settings
# the test prepared. Checked: keys, authorized keys, a worker refused until its key is added and the scheduler
# reloaded (SIGHUP), one DAG run whose tasks run on both worker hosts, `workers list`, the one-machine setup
# over ipc://, the one-machine setup of section 2 (`dags list`, the status line) and section 4's online backup
# and restore (the restored store has the runs of backup time, the scheduler starts on it).
# Every fenced block of the page must be marked: `deploy-test: TAG` (run here; every such TAG must be run),
# `deploy-covered: WHERE` (run by another test: section 1's packages by scripts/check-debs.sh, which unpacks
# the same .debs with dpkg -x instead of installing them) or `deploy-untested: WHY` (not run, listed in this
# test's output; none today). An unmarked block fails the test. `systemctl edit` writes the drop-in its
# block's comment describes (through $SYSTEMD_EDITOR, as systemctl does) and, where systemd-analyze exists,
# the unit with that drop-in passes `systemd-analyze verify`; no real systemd applies it.
# Needs root and iproute2; skips (77) otherwise.
. "$top_srcdir/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v ip >/dev/null 2>&1 || skip "no 'ip' command (iproute2)"

doc="$top_srcdir/doc/deploy.md"
hosts="$tmp/hosts"
bin="$tmp/bin"
mkdir -p "$bin" "$tmp/dags"
ln -s "$MLFLOWD" "$bin/mlflowd"
export MLFLOWD__ZMQ__HEARTBEAT=250ms
export MLFLOWD_DAGS_FOLDER="$tmp/dags"
unset MLFLOWD_HOME

# block TAG: the body of the fenced block marked TAG in doc/deploy.md (fails when there is none)
block() {
    awk -v tag="<!-- deploy-test: $1 -->" '
        $0 == tag { want = 1; next }
        want && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "$doc" >"$tmp/block"
    [ -s "$tmp/block" ] || fail "doc/deploy.md has no block marked deploy-test: $1"
    echo "$1" >>"$tmp/run-tags"
    cat "$tmp/block"
}

# every fenced block is marked (a new command without a test fails here); the untested ones are listed
awk '/^```/ { if (!inside && prev !~ /^<!-- deploy-(test|covered|untested): .+ -->$/) print FILENAME ":" NR ": " $0
              inside = !inside }
     /./ { prev = $0 }' "$doc" >"$tmp/unmarked"
[ ! -s "$tmp/unmarked" ] || fail "fenced blocks of doc/deploy.md neither run by this test nor marked as covered elsewhere:
$(cat "$tmp/unmarked")"
sed -n 's/^<!-- deploy-untested: \(.*\) -->$/deploy_doc: not run: \1/p' "$doc"
: >"$tmp/run-tags"

# sudoedit FILE, for the blocks: FILE becomes $SETTINGS (the settings the test wants)
printf '#!/bin/sh\ncp "$SETTINGS" "$1"\n' >"$bin/sudoedit"
chmod +x "$bin/sudoedit"
# the editor of `systemctl edit`: writes the drop-in the test prepared ($tmp/dropin)
printf '#!/bin/sh\ncp "%s" "$1"\n' "$tmp/dropin" >"$bin/editor"
chmod +x "$bin/editor"

# systemctl, for the blocks: enable --now | start | stop | reload | status of dist/systemd/'s units, on the
# host whose root is $R (processes in the caller's network namespace, logs in $R/log, pids in $R/run)
cat >"$bin/systemctl" <<'SH'
#!/bin/sh
set -eu
verb=$1; shift
if [ "$verb" = enable ]; then [ "$1" = --now ] || exit 0; shift; verb=start; fi
unit=${1%.service}
case "$unit" in *@*) inst=${unit#*@}; file="$UNITS/${unit%@*}@.service.in" ;; *) inst=; file="$UNITS/$unit.service.in" ;; esac
[ -f "$file" ] || { echo "systemctl: no unit $unit" >&2; exit 5; }
mkdir -p "$R/run" "$R/log"
pidf="$R/run/$unit.pid"
inroot() { sed "s|/var/lib/mlflowd|$R/var/lib/mlflowd|g; s|/etc/mlflowd|$R/etc/mlflowd|g; s|%i|$inst|g"; }
case $verb in
start)
    {
        echo "set -a"
        sed -n 's/^Environment=\([A-Za-z_]*\)=\(.*\)/\1="\2"/p' "$file" | inroot
        sed -n 's/^EnvironmentFile=-\{0,1\}\(.*\)/[ ! -f "\1" ] || . "\1"/p' "$file" | inroot
        echo "set +a"
        sed -n 's|^ExecStart=@bindir@/mlflowd|exec mlflowd|p' "$file" | inroot
    } >"$R/run/$unit.sh"
    if grep -q '^Type=notify$' "$file"; then
        # as systemd does for Type=notify: a socket for the unit's messages, and start returns on READY=1
        sock="$R/run/$unit.notify"; rm -f "$sock" "$R/run/$unit.status"
        python3 - "$sock" "$R/run/$unit.status" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(600)
while True:
    try:
        msg = s.recv(4096).decode()
    except socket.timeout:
        break
    with open(sys.argv[2], "a") as f:
        f.write(msg.replace("\n", "|") + "\n")
    if "STOPPING=1" in msg:
        break
PY
        echo $! >"$R/run/$unit.listener.pid"
        i=0; until [ -S "$sock" ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.1; done
        NOTIFY_SOCKET="$sock" sh "$R/run/$unit.sh" >>"$R/log/$unit.log" 2>&1 &
        echo $! >"$pidf"
        i=0
        until grep -q '^READY=1' "$R/run/$unit.status" 2>/dev/null; do
            i=$((i + 1))
            if [ $i -ge 600 ] || ! kill -0 "$(cat "$pidf")" 2>/dev/null; then
                echo "Job for $unit failed (no READY=1): see $R/log/$unit.log" >&2; exit 1
            fi
            sleep 0.1
        done
    else
        sh "$R/run/$unit.sh" >>"$R/log/$unit.log" 2>&1 &
        echo $! >"$pidf"
    fi ;;
reload) kill -HUP "$(cat "$pidf")" ;;
edit) mkdir -p "$R/units/$unit.service.d"; "$SYSTEMD_EDITOR" "$R/units/$unit.service.d/override.conf" ;;
stop)
    p=$(cat "$pidf"); kill -TERM "$p" 2>/dev/null || exit 0
    i=0; while kill -0 "$p" 2>/dev/null && [ $i -lt 200 ]; do i=$((i + 1)); sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true ;;
status)
    p=$(cat "$pidf" 2>/dev/null || echo 0)
    if kill -0 "$p" 2>/dev/null; then
        echo "$unit: active (running), pid $p"
        # the unit's latest STATUS= (Type=notify), as systemctl status shows it
        [ ! -f "$R/run/$unit.status" ] || tr '|' '\n' <"$R/run/$unit.status" | sed -n 's/^STATUS=/    Status: /p' | tail -1
    else
        echo "$unit: inactive"; exit 3
    fi ;;
*) echo "systemctl: $verb is not supported here" >&2; exit 1 ;;
esac
SH
chmod +x "$bin/systemctl"

# on HOST NS TAG: runs block TAG as a shell script on host HOST (root $hosts/HOST) in namespace NS ("" for
# this one), from the folder $hosts/HOST/cwd
on() {
    h=$1 ns=$2; body=$(block "$3")
    script=$(printf '%s\n' "$body" | sed 's/sudo -u mlflowd //g; s/sudo //g; s|/var/lib/mlflowd|$R/var/lib/mlflowd|g;
        s|/etc/mlflowd|$R/etc/mlflowd|g; s|/var/backups|$R/var/backups|g; s/ -o mlflowd / /g; s/\$(hostname -s)/$NAME/g')
    echo "== $h: $3" >>"$tmp/blocks.log"
    set +e
    (cd "$hosts/$h/cwd" && ${ns:+ip netns exec "$ns"} env PATH="$bin:$PATH" R="$hosts/$h" NAME="$h" SETTINGS="$tmp/settings-$h" SYSTEMD_EDITOR="$bin/editor" \
        UNITS="$top_srcdir/dist/systemd" sh -eu -c "$script") >>"$tmp/blocks.log" 2>&1
    st=$?
    set -e
    [ $st -eq 0 ] || fail "block $3 on $h exited $st: $(tail -20 "$tmp/blocks.log")"
}
# config HOST TAG [SCHED_IP]: the YAML block TAG as HOST's /etc/mlflowd/mlflowd.yaml
config() {
    block "$2" | sed "s|/var/lib/mlflowd|$hosts/$1/var/lib/mlflowd|g; s|scheduler.example|${3:-}|g" \
        >"$hosts/$1/etc/mlflowd/mlflowd.yaml"
}
# the packaged layout: /var/lib/mlflowd (the unit's StateDirectory), /etc/mlflowd
for h in sched w1 w2 solo one; do mkdir -p "$hosts/$h/var/lib/mlflowd" "$hosts/$h/etc/mlflowd" "$hosts/$h/cwd"; done

stop_units() {
    for f in "$hosts"/*/run/*.pid; do [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null || true; done
    for f in "$hosts"/*/run/*.pid; do
        [ -f "$f" ] || continue
        i=0; while kill -0 "$(cat "$f")" 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
        kill -KILL "$(cat "$f")" 2>/dev/null || true
    done
}
ns_s="mlf-s-$$" ns_1="mlf-a-$$" ns_2="mlf-b-$$"
net_cleanup() {
    stop_units
    for n in "$ns_s" "$ns_1" "$ns_2"; do ip netns del "$n" 2>/dev/null || true; done
}
# on failure, the hosts' logs say why (they are removed with $tmp)
trap 'st=$?; net_cleanup; [ $st -eq 0 ] || tail -n 5 "$hosts"/*/log/*.log >&2 2>/dev/null || true; cleanup $st' EXIT
trap 'exit 1' HUP INT TERM

# ---- the machines: the scheduler host joined to each worker host by a veth pair (a /30 each)
for n in "$ns_s" "$ns_1" "$ns_2"; do
    ip netns add "$n" 2>"$tmp/err" || skip "'ip netns add' failed: $(cat "$tmp/err")"
    ip -n "$n" link set lo up
done
sub=""
for try in 0 1 2 3 4 5 6 7; do
    s=$(( ($$ + try * 41) % 250 + 1 ))
    if [ -z "$(ip -o addr show to "10.233.$s.0/29")" ]; then sub=$s; break; fi
done
[ -n "$sub" ] || skip "no free 10.233.x.0/29 subnet"
i=0
for n in "$ns_1" "$ns_2"; do
    ip -n "$ns_s" link add "vs$i" type veth peer name "vw$i" netns "$n" 2>"$tmp/err" || skip "cannot make a veth pair: $(cat "$tmp/err")"
    ip -n "$ns_s" addr add "10.233.$sub.$((i * 4 + 1))/30" dev "vs$i"
    ip -n "$n" addr add "10.233.$sub.$((i * 4 + 2))/30" dev "vw$i"
    ip -n "$ns_s" link set "vs$i" up
    ip -n "$n" link set "vw$i" up
    i=$((i + 1))
done
sched_ip_1="10.233.$sub.1" sched_ip_2="10.233.$sub.5"

# ---- section 3: keys on every host, the scheduler's settings, the workers' settings
on sched "$ns_s" sched
on w1 "$ns_1" worker
on w2 "$ns_2" worker
# the copying the guide leaves to the reader (scp...): w1's key is authorized now, w2's only later
cp "$hosts/w1/var/lib/mlflowd/keys/worker.key.pub" "$hosts/sched/var/lib/mlflowd/keys/authorized_keys"
for w in w1 w2; do cp "$hosts/sched/var/lib/mlflowd/keys/scheduler.key.pub" "$hosts/$w/var/lib/mlflowd/keys/"; done
config sched sched-config
config w1 worker-config "$sched_ip_1"
config w2 worker-config "$sched_ip_2"
grep -q "bind: tcp://$sched_ip_1:5555" "$hosts/w1/etc/mlflowd/mlflowd.yaml" || fail "w1's settings: $(cat "$hosts/w1/etc/mlflowd/mlflowd.yaml")"

sched_cli() { MLFLOWD_HOME="$hosts/sched/var/lib/mlflowd" MLFLOWD_CONFIG="$hosts/sched/etc/mlflowd/mlflowd.yaml" "$MLFLOWD" "$@"; }
marks="$tmp/marks"
{
    echo "dag_id: spread"; echo "schedule: null"; echo "tasks:"
    for t in 1 2 3 4 5 6 7 8; do echo "  t$t: {operator: shell, command: \"sleep 0.5; echo \$(readlink /proc/self/ns/net) >> $marks\"}"; done
} >"$tmp/dags/spread.yaml"

on sched "$ns_s" sched-start
wait_until 20 "the scheduler listens on tcp://0.0.0.0:5555" \
    grep -q "listening for workers on tcp://0.0.0.0:5555" "$hosts/sched/log/mlflowd-scheduler.log"
on w1 "$ns_1" worker-start
on w2 "$ns_2" worker-start
grep -q "Status: serving the scheduler at tcp://$sched_ip_1:5555\|Status: waiting for the scheduler at tcp://$sched_ip_1:5555" "$tmp/blocks.log" ||
    fail "systemctl status of w1 shows no worker status: $(tail -20 "$tmp/blocks.log")"
listed() { # listed NAME...: exactly these workers are registered (idle or running)
    sched_cli workers list -o json >"$tmp/w.json" 2>/dev/null &&
        python3 -c "import json,sys; d=json.load(open('$tmp/w.json')); sys.exit(0 if sorted(w['name'] for w in d if w['state'] in ('idle','running')) == sys.argv[1:] else 1)" "$@"
}
wait_until 20 "w1 registered: $(cat "$tmp/w.json" 2>/dev/null)" listed w1
# w2's key is not in authorized_keys yet: refused, and it says so
wait_until 20 "w2 said it was refused: $(cat "$hosts/w2/log/mlflowd-worker@w2.log")" \
    grep -qi "refused\|denied\|not authorized\|authentication" "$hosts/w2/log/mlflowd-worker@w2.log"
listed w1 || fail "w2 registered without an authorized key: $(cat "$tmp/w.json")"

# adding a worker later: its key appended, the scheduler reloaded
cp "$hosts/w2/var/lib/mlflowd/keys/worker.key.pub" "$hosts/sched/cwd/worker.key.pub"
on sched "$ns_s" sched-add-worker
wait_until 30 "w2 registered after the reload: $(cat "$tmp/w.json" 2>/dev/null)" listed w1 w2
on sched "$ns_s" sched-check
grep -q "^w1 *| idle" "$tmp/blocks.log" || fail "workers list (sched-check) does not show w1: $(tail -20 "$tmp/blocks.log")"

# one run across both worker hosts
expect_exit 0 sched_cli dags trigger spread --run-id r1
i=0
until [ "$(sched_cli dags state spread r1 2>/dev/null)" = success ]; do
    i=$((i + 1)); [ $i -le "$(scaled 300)" ] || fail "the run did not succeed: $(tail -20 "$hosts/sched/log/mlflowd-scheduler.log")"
    sleep 0.1
done
n1=$(ip netns exec "$ns_1" readlink /proc/self/ns/net) n2=$(ip netns exec "$ns_2" readlink /proc/self/ns/net)
[ "$(wc -l <"$marks")" -eq 8 ] || fail "8 tasks, $(wc -l <"$marks") marks"
grep -qxF "$n1" "$marks" || fail "no task ran on worker host w1 ($n1): $(cat "$marks")"
grep -qxF "$n2" "$marks" || fail "no task ran on worker host w2 ($n2): $(cat "$marks")"
[ "$(grep -vxF -e "$n1" -e "$n2" "$marks" | wc -l)" -eq 0 ] || fail "a task ran outside the worker hosts: $(cat "$marks")"
stop_units

# ---- section 2: one machine, the scheduler and a worker over ipc://
config solo solo-config
on solo "" solo-start
solo_cli() { MLFLOWD_HOME="$hosts/solo/var/lib/mlflowd" MLFLOWD_CONFIG="$hosts/solo/etc/mlflowd/mlflowd.yaml" "$MLFLOWD" "$@"; }
wait_until 20 "the solo worker registered over ipc://: $(cat "$hosts/solo/log/"*.log)" \
    sh -c "MLFLOWD_HOME='$hosts/solo/var/lib/mlflowd' MLFLOWD_CONFIG='$hosts/solo/etc/mlflowd/mlflowd.yaml' '$MLFLOWD' workers list --state idle -o plain | grep -q '^local '"
[ -S "$hosts/solo/var/lib/mlflowd/sched.ipc" ] || fail "no ipc socket at /var/lib/mlflowd/sched.ipc"
: >"$marks"
expect_exit 0 solo_cli dags trigger spread --run-id r1
i=0
until [ "$(solo_cli dags state spread r1 2>/dev/null)" = success ]; do
    i=$((i + 1)); [ $i -le "$(scaled 300)" ] || fail "the one-machine run did not succeed: $(tail -20 "$hosts/solo/log/mlflowd-scheduler.log")"
    sleep 0.1
done
[ "$(wc -l <"$marks")" -eq 8 ] || fail "8 tasks on one machine, $(wc -l <"$marks") marks"
stop_units

# ---- section 2's first block: one machine, executor local, the settings written with sudoedit
printf 'dags_folder: %s\nexecutor: local\n' "$tmp/dags" >"$tmp/settings-one"
printf 'dag_id: quick\nschedule: null\ntasks:\n  t: {operator: shell, command: "true"}\n' >"$tmp/dags/quick.yaml"
unset MLFLOWD_DAGS_FOLDER
on one "" one
grep -qx 'dags_folder: .*' "$hosts/one/etc/mlflowd/mlflowd.yaml" || fail "sudoedit wrote no settings"
grep -q '^quick ' "$tmp/blocks.log" || fail "dags list (block one) does not list quick: $(tail -20 "$tmp/blocks.log")"
grep -q "Status: scheduling 2 DAG(s) from $tmp/dags" "$tmp/blocks.log" ||
    fail "systemctl status (block one) shows no scheduling line: $(tail -20 "$tmp/blocks.log")"
one_cli() { MLFLOWD_HOME="$hosts/one/var/lib/mlflowd" MLFLOWD_CONFIG="$hosts/one/etc/mlflowd/mlflowd.yaml" "$MLFLOWD" "$@"; }
run_done() { # run_done DAG RUN: waits for the run's success
    i=0
    until [ "$(one_cli dags state "$1" "$2" 2>/dev/null)" = success ]; do
        i=$((i + 1)); [ $i -le "$(scaled 300)" ] || fail "run $1 $2 did not succeed: $(tail -20 "$hosts/one/log/mlflowd-scheduler.log")"
        sleep 0.1
    done
}
expect_exit 0 one_cli dags trigger quick --run-id before
run_done quick before

# ---- section 4: backup online, stop, restore, start
on one "" backup
ls "$hosts/one/var/backups/mlflowd/"state-*.mdb >/dev/null 2>&1 || fail "no dated backup file in /var/backups/mlflowd"
ls -d "$hosts/one/var/lib/mlflowd/"state.before-restore-* >/dev/null 2>&1 ||
    fail "db restore kept no state.before-restore-*: $(ls "$hosts/one/var/lib/mlflowd")"
[ "$(one_cli dags state quick before)" = success ] || fail "the restored store lost run 'before'"
expect_exit 0 one_cli dags trigger quick --run-id after
run_done quick after
stop_units

# ---- section 2's drop-in: the text its comment gives ("[Service] ReadWritePaths=..."), through systemctl edit
block dropin | sed -n 's/.*# \[Service\] \(.*\)/[Service]\n\1/p' >"$tmp/dropin"
grep -q '^ReadWritePaths=/' "$tmp/dropin" || fail "the drop-in block names no ReadWritePaths=: $(cat "$tmp/block")"
on one "" dropin
cmp -s "$tmp/dropin" "$hosts/one/units/mlflowd-scheduler.service.d/override.conf" || fail "systemctl edit wrote no drop-in"
if command -v systemd-analyze >/dev/null; then
    u="$tmp/units-one"; mkdir -p "$u"
    sed "s|@bindir@|$top_builddir|g" "$top_srcdir/dist/systemd/mlflowd-scheduler.service.in" >"$u/mlflowd-scheduler.service"
    cp -R "$hosts/one/units/mlflowd-scheduler.service.d" "$u/"
    ( cd "$u" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./mlflowd-scheduler.service ) >"$tmp/verify.log" 2>&1 || true
    ! grep -q override.conf "$tmp/verify.log" || fail "systemd-analyze verify of the drop-in: $(cat "$tmp/verify.log")"
    # the check can fail: a misspelt key in the drop-in is reported
    sed -i 's/^ReadWritePaths=/ReadWritePathz=/' "$u/mlflowd-scheduler.service.d/override.conf"
    ( cd "$u" && systemd-analyze verify --man=no ./mlflowd-scheduler.service ) >"$tmp/verify.log" 2>&1 || true
    grep -q "override.conf.*ReadWritePathz" "$tmp/verify.log" || fail "systemd-analyze does not read the drop-in: $(cat "$tmp/verify.log")"
else
    echo "deploy_doc: no systemd-analyze here; the drop-in is written but not verified"
fi

# every block marked deploy-test ran
for t in $(sed -n 's/^<!-- deploy-test: \(.*\) -->$/\1/p' "$doc"); do
    grep -qxF "$t" "$tmp/run-tags" || fail "the block marked deploy-test: $t is not run by this test"
done
echo "deploy_doc: every marked block of doc/deploy.md ran"
