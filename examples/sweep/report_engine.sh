# report_engine.sh -- finds a container engine for the sweep's report step, or says why there is none
# (sourced by run.sh, with $here, $work and $MLFLOWD set). On success it sets report_task=report and creates
# the sweep_engine connection (the engine's socket, with $work/reports as the one folder tasks may mount);
# otherwise report_task=report_skipped and the report step is skipped, so the sweep runs the same on a
# machine without any container engine.
#
# Which engine, in order:
#   SWEEP_ENGINE=none            no report container;
#   SWEEP_ENGINE=/path/to.sock   that engine (Docker or `podman system service`), image loaded already or
#                                importable with the docker/podman command;
#   a running Docker             /var/run/docker.sock (and the docker command to import the image);
#   Podman, as root              a private `podman system service` on $work/podman/api.sock with its storage
#                                under $work/podman, stopped by report_engine_stop (run.sh's exit trap).
# The image, localhost/mlflowd-sweep-report:busybox, is imported from a static busybox (busybox-static): no
# registry is needed.

report_task=report_skipped
report_image=localhost/mlflowd-sweep-report:busybox
report_service=
report_cli=

report_engine_stop() {
    [ -n "$report_service" ] || return 0
    $report_cli rm -af -t 0 >/dev/null 2>&1 || true
    kill "$report_service" 2>/dev/null || true
    wait "$report_service" 2>/dev/null || true
    report_service=
    # conmon runs `podman container cleanup` when a container ends: let those finish with $work/podman
    i=0
    while command -v pgrep >/dev/null && pgrep -f -- "$work/podman/root" >/dev/null && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
}

# report_image_load: imports the image unless the engine has it; returns non-zero (with the reason) if it cannot.
report_image_load() {
    $report_cli image inspect "$report_image" >/dev/null 2>&1 && return 0
    bb=
    for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && bb=$b && break; done
    if [ -z "$bb" ] || { command -v readelf >/dev/null && readelf -l "$bb" | grep -q INTERP; }; then
        echo "   no static busybox to build the report image from (apt-get install busybox-static)"
        return 1
    fi
    rm -rf "$work/report-image"
    mkdir -p "$work/report-image/bin"
    cp "$bb" "$work/report-image/bin/busybox"
    for a in sh echo cat printf date; do ln -s busybox "$work/report-image/bin/$a"; done
    tar -C "$work/report-image" -cf "$work/report-image.tar" .
    $report_cli import "$work/report-image.tar" "$report_image" >/dev/null 2>"$work/report-image.err" || {
        echo "   importing the report image failed: $(cat "$work/report-image.err")"; return 1; }
}

report_engine_find() {
    sock=
    case "${SWEEP_ENGINE:-}" in
    none) echo "   SWEEP_ENGINE=none: the report step is skipped"; return 0 ;;
    ?*)
        sock=${SWEEP_ENGINE#unix://}
        if command -v docker >/dev/null; then report_cli="docker -H unix://$sock"
        elif command -v podman >/dev/null; then report_cli="podman --url unix://$sock"; fi
        ;;
    *)
        if [ -S /var/run/docker.sock ] && command -v docker >/dev/null && docker version >/dev/null 2>&1; then
            sock=/var/run/docker.sock report_cli=docker
        elif command -v podman >/dev/null && [ "$(id -u)" -eq 0 ] && command -v runc >/dev/null; then
            pm="$work/podman"
            mkdir -p "$pm/tmp"
            # runc and no default ulimits: what this project's CI machines need (crun refuses hybrid cgroups,
            # RLIMIT_NPROC may not be set); k8s-file logs: the logs endpoint without journald
            printf '[containers]\ndefault_ulimits = []\nlog_driver = "k8s-file"\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' >"$pm/containers.conf"
            export CONTAINERS_CONF="$pm/containers.conf"
            report_cli="podman --root $pm/root --runroot $pm/run --storage-driver vfs --tmpdir $pm/tmp"
            sock="$pm/api.sock"
            rm -f "$sock"
            $report_cli system service --time=0 "unix://$sock" >"$pm/service.log" 2>&1 &
            report_service=$!
            i=0
            while [ ! -S "$sock" ] && [ $i -lt 100 ] && kill -0 "$report_service" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
            if [ ! -S "$sock" ]; then
                echo "   podman system service did not start: $(cat "$pm/service.log")"
                report_engine_stop
                return 0
            fi
        else
            echo "   no container engine (a running Docker, or Podman as root): the report step is skipped"
            return 0
        fi
        ;;
    esac
    if [ -z "$report_cli" ]; then
        echo "   no docker or podman command to load the report image into $sock: the report step is skipped"
        return 0
    fi
    report_image_load || { echo "   the report step is skipped"; report_engine_stop; return 0; }
    mkdir -p "$work/reports"
    "$MLFLOWD" connections delete sweep_engine >/dev/null 2>&1 || true
    "$MLFLOWD" connections add sweep_engine --conn-type docker --conn-host "$sock" \
        --conn-extra "{\"allowed_mounts\": [\"$work/reports\"]}" >/dev/null
    "$MLFLOWD" variables set sweep_report_image "$report_image" >/dev/null
    "$MLFLOWD" variables set sweep_reports_dir "$work/reports" >/dev/null
    report_task=report
    echo "   the report runs in a container on unix://$sock"
}
