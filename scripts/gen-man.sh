#!/bin/sh
# gen-man.sh 1|5 MLFLOWD > PAGE -- the man pages, generated from the binary so that they cannot drift from
# it (as doc/cli.md is by gen-cli-doc.sh): mlflowd(1) from `mlflowd --help` and each command's --help,
# mlflowd.yaml(5) from the settings table (`mlflowd config list --defaults -o json`).
set -eu
section=$1
m=$2
version=$("$m" version -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
# roff text: backslashes doubled, '-' as \-, a leading . or ' escaped
esc() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

if [ "$section" = 1 ]; then
    cat <<HEAD
.TH MLFLOWD 1 "" "mlflowd $version" "User Commands"
.SH NAME
mlflowd \\- a workflow orchestrator for data and ML pipelines
.SH SYNOPSIS
.B mlflowd
.I COMMAND
.RI [ ARGS ...]
.br
.B mlflowd
.I GROUP VERB
.RI [ ARGS ...]
.SH DESCRIPTION
mlflowd runs DAGs of tasks, as Airflow does, as one C daemon: DAG files in YAML, every operator, sensor and
hook a plugin, a scheduler that keeps its state in an LMDB store, and workers reached over ZeroMQ.
Its settings are described in
.BR mlflowd.yaml (5).
.SH COMMANDS
HEAD
    "$m" --help | sed -n '/^Commands:/,/^$/p' | sed '1d;$d' | while IFS= read -r line; do
        cmd=$(printf '%s' "$line" | sed 's/^  //; s/  .*//')
        help=$(printf '%s' "$line" | sed 's/^  [^ ]*\( [^ ]*\)\{0,1\} *//')
        usage=$("$m" $cmd --help | head -1 | sed 's/^usage: //')
        printf '.SS "%s"\n' "$(printf '%s' "mlflowd $cmd" | esc)"
        printf '.nf\n%s\n.fi\n' "$(printf '%s' "$usage" | esc)"
        printf '%s\n' "$(printf '%s' "$help" | esc)"
        "$m" $cmd --help | sed -n '/^Options:/,/^$/p' | sed '1d;$d' | while IFS= read -r opt; do
            flags=$(printf '%s' "$opt" | sed 's/^  //; s/   *.*//')
            text=$(printf '%s' "$opt" | sed 's/^  [^ ].*[^ ]   *//')
            printf '.TP\n.B %s\n%s\n' "$(printf '%s' "$flags" | esc)" "$(printf '%s' "$text" | esc)"
        done
        out=$("$m" $cmd --help | sed -n 's/^Output: //p')
        [ -z "$out" ] || printf '.PP\nOutput: %s\n' "$(printf '%s' "$out" | esc)"
    done
    printf '.SH GLOBAL OPTIONS\n'
    "$m" --help | sed -n '/^Global options/,$p' | sed '1d' | grep '^  ' | while IFS= read -r opt; do
        flags=$(printf '%s' "$opt" | sed 's/^  //; s/   *.*//')
        text=$(printf '%s' "$opt" | sed 's/^  [^ ].*[^ ]   *//')
        printf '.TP\n.B %s\n%s\n' "$(printf '%s' "$flags" | esc)" "$(printf '%s' "$text" | esc)"
    done
    cat <<'TAIL'
.SH EXIT STATUS
0 success, 1 the work failed (a DAG run or a task failed, a store error), 2 bad usage or bad input.
.SH ENVIRONMENT
.TP
.B MLFLOWD_HOME
the home: state store, logs, keys, plugins and mlflowd.yaml (default ~/.mlflowd)
.TP
.B MLFLOWD_CONFIG
the configuration file (default HOME/mlflowd.yaml)
.TP
.B MLFLOWD_DAGS_FOLDER
the DAG folder (default HOME/dags)
.TP
.B MLFLOWD__SECTION__KEY
overrides setting section.key, e.g. MLFLOWD__PLUGINS__PATH
.TP
.B NOTIFY_SOCKET, WATCHDOG_USEC
set by systemd for Type=notify units: the scheduler reports READY=1, STOPPING=1 and WATCHDOG=1
.SH FILES
.TP
.I HOME/state/
the LMDB state store (mlflowd db backup, db restore, db check)
.TP
.I HOME/logs/DAG/RUN/TASK/TRY.log
task logs
.TP
.I /etc/mlflowd/mlflowd.yaml, /var/lib/mlflowd
configuration and home of the packaged systemd services (mlflowd\-scheduler, mlflowd\-worker@NAME)
.SH SEE ALSO
.BR mlflowd.yaml (5),
.BR systemctl (1)
TAIL
elif [ "$section" = 5 ]; then
    cat <<HEAD
.TH MLFLOWD.YAML 5 "" "mlflowd $version" "File Formats"
.SH NAME
mlflowd.yaml \\- mlflowd configuration
.SH DESCRIPTION
mlflowd reads its settings, lowest precedence first, from the built\\-in defaults; the file named by
\\-\\-config or MLFLOWD_CONFIG, else HOME/mlflowd.yaml (no file at all is fine); MLFLOWD__SECTION__KEY
environment variables; and \\-\\-home / \\-\\-dags\\-folder. In the file, settings nest as YAML mappings
.RI ( "zmq: {bind: ...}" )
or are written dotted
.RI ( "zmq.bind: ..." ).
Unknown keys are errors, reported with file:line:col and a suggestion.
"{home}" in a value is the home, "{plugindir}" the folder of the built\\-in plugins.
.B mlflowd config list
shows every setting with its value and where the value came from.
.SH SETTINGS
HEAD
    "$m" config list --defaults -o json | python3 -c '
import json, sys
def esc(s):
    s = s.replace("\\", "\\e").replace("-", "\\-")
    return ("\\&" + s) if s[:1] in (".", "\x27") else s
for k in json.load(sys.stdin):
    kind = k["type"] + (" (" + k["choices"].replace("|", ", ") + ")" if k["choices"] else "")
    default = "null" if k["default"] is None else k["default"]
    print(".TP\n.B %s\n%s; default %s%s.\n%s" % (esc(k["key"]), esc(kind), esc(default),
          ", may be null" if k["nullable"] and k["default"] is not None else "", esc(k["help"])))
'
    cat <<'TAIL'
.SH EXAMPLE
.nf
dags_folder: /srv/dags
plugins:
  path: [/opt/mlflowd\-plugins, "{home}/plugins", "{plugindir}"]
executor: zmq
zmq:
  bind: tcp://0.0.0.0:5555
retention:
  runs: 30d
  logs: 14d
.fi
.SH SEE ALSO
.BR mlflowd (1)
TAIL
else
    echo "usage: $0 1|5 MLFLOWD" >&2
    exit 2
fi
