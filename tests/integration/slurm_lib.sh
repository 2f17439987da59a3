# slurm_lib.sh -- a private single-node Slurm cluster for integration tests (sourced after lib.sh): munged with
# a generated key, slurmctld and slurmd as root with a generated slurm.conf, state and spool under $tmp, on
# free ports, reached by the clients through SLURM_CONF. Every daemon is stopped by its PID (slurm_stop, also
# run by the EXIT trap) with a bounded wait; nothing outside $tmp is touched.
#
# slurm_start skips the test (exit 77, with the reason) only where the daemons cannot run: not root, the
# packages missing, or a daemon that exits at start (its log is printed).

slurm_pids=""   # munged slurmctld slurmd, in start order
slurm_dir="$tmp/slurm"

# slurm_free_port: a TCP port nobody listens on (random in 20000-59999).
slurm_free_port() {
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        p=$(( 20000 + ($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000) ))
        ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
    done
    return 1
}

# slurm_wait_pid PID SECONDS: waits for PID to end (it is our child); 1 when it still runs after SECONDS.
slurm_wait_pid() {
    i=0
    while kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]; do
        i=$((i + 1)); [ $i -le $(($2 * 10)) ] || return 1
        sleep 0.1
    done
    wait "$1" 2>/dev/null || true
}

# slurm_stop: cancels every job of the private cluster and waits (10 s at most) until none runs, then stops
# slurmd, slurmctld and munged (that order) by PID: SIGTERM, SIGKILL after 15 s.
slurm_stop() {
    [ -n "$slurm_pids" ] || return 0
    scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
    i=0
    while [ $i -lt 100 ] && [ -n "$(squeue -h -t running,completing,suspended -o %i 2>/dev/null)" ]; do
        i=$((i + 1)); sleep 0.1
    done
    for p in $(echo "$slurm_pids" | awk '{for (i = NF; i > 0; i--) print $i}'); do
        kill -TERM "$p" 2>/dev/null || true
        slurm_wait_pid "$p" 15 || { kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; }
    done
    slurm_pids=""
}

# slurm_start [OVERSUBSCRIBE]: starts the cluster; its one node has this machine's CPUs and memory, each
# core shared by up to OVERSUBSCRIBE jobs (default 8). Partitions: `debug` (default, up) and `down` (State=DOWN:
# jobs submitted there pend with reason PartitionDown). Sets SLURM_CONF, $slurm_node.
slurm_start() {
    over=${1:-8}
    [ "$(id -u)" -eq 0 ] || skip "the private Slurm cluster runs as root (SlurmUser=root), and this test is not root"
    for b in munged mungekey slurmctld slurmd sbatch squeue scancel; do
        command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] ||
            skip "$b is not installed (packages slurm-wlm and munge; scripts/bootstrap.sh installs them)"
    done
    PATH=$PATH:/usr/sbin
    mkdir -p "$slurm_dir/munge" "$slurm_dir/state" "$slurm_dir/spool" "$slurm_dir/log"
    chmod 700 "$slurm_dir/munge"
    mungekey --create --force --keyfile="$slurm_dir/munge/munge.key" >/dev/null 2>&1 ||
        fail "mungekey could not create a key"
    chmod 600 "$slurm_dir/munge/munge.key"
    munged -F --force --socket="$slurm_dir/munge/sock" --key-file="$slurm_dir/munge/munge.key" \
        --pid-file="$slurm_dir/munge/pid" --seed-file="$slurm_dir/munge/seed" \
        >"$slurm_dir/log/munged.log" 2>&1 &
    slurm_pids="$!"
    i=0
    until [ -S "$slurm_dir/munge/sock" ]; do
        kill -0 "${slurm_pids%% *}" 2>/dev/null || { cat "$slurm_dir/log/munged.log"; skip "munged cannot start here (log above)"; }
        i=$((i + 1)); [ $i -le 100 ] || fail "munged did not create its socket in 10 s"
        sleep 0.1
    done
    slurm_node=$(hostname -s)
    cpus=$(nproc)
    mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
    mem=$(( ${mem:-2048} * 8 / 10 ))
    ctld_port=$(slurm_free_port) && d_port=$(slurm_free_port) || fail "no free port for slurmctld/slurmd"
    export SLURM_CONF="$slurm_dir/slurm.conf"
    cat >"$SLURM_CONF" <<EOF
ClusterName=mlftest
SlurmctldHost=$slurm_node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$slurm_dir/munge/sock
StateSaveLocation=$slurm_dir/state
SlurmdSpoolDir=$slurm_dir/spool
SlurmctldPidFile=$slurm_dir/slurmctld.pid
SlurmdPidFile=$slurm_dir/slurmd.pid
SlurmctldLogFile=$slurm_dir/log/slurmctld.log
SlurmdLogFile=$slurm_dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=300
KillWait=2
MaxJobCount=100000
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=$slurm_node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:$over
PartitionName=down Nodes=ALL Default=NO MaxTime=INFINITE State=DOWN
EOF
    slurmctld -D -i -f "$SLURM_CONF" >"$slurm_dir/log/slurmctld.out" 2>&1 &
    slurm_pids="$slurm_pids $!"
    slurmd -D -N "$slurm_node" -f "$SLURM_CONF" >"$slurm_dir/log/slurmd.out" 2>&1 &
    slurm_pids="$slurm_pids $!"
    i=0
    until sinfo -h -n "$slurm_node" -o '%T' -p debug 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; do
        for p in $slurm_pids; do
            kill -0 "$p" 2>/dev/null && continue
            tail -20 "$slurm_dir/log/"*.out "$slurm_dir/log/"*.log 2>/dev/null
            slurm_stop
            skip "a Slurm daemon (pid $p) exited at start here (logs above)"
        done
        i=$((i + 1)); [ $i -le $(scaled 300) ] || { tail -20 "$slurm_dir/log/"*; fail "the Slurm node did not become idle in 30 s"; }
        sleep 0.1
    done
    echo "slurm: private cluster up (SLURM_CONF=$SLURM_CONF, node $slurm_node, $cpus CPUs x $over jobs)"
}
