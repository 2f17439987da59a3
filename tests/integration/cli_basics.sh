#!/bin/sh
# The CLI skeleton: help, version, exit codes, plugins list, config list/get, and the documented refusals.
. "$top_srcdir/tests/integration/lib.sh"

expect_exit 0 "$MLFLOWD" --help
case "$out" in *"plugins list"*"dags test"*) ;; *) fail "--help does not list the commands: $out" ;; esac
expect_exit 2 "$MLFLOWD"
expect_exit 0 "$MLFLOWD" version
case "$out" in "mlflowd "*"(plugin SDK ABI 1.3)") ;; *) fail "version: $out" ;; esac
expect_exit 0 "$MLFLOWD" version -o json
json_check 'd["abi"] == "1.3"'

# Unknown commands and options are usage errors with a suggestion.
expect_exit 2 "$MLFLOWD" plugin list
case "$err" in *"did you mean 'plugins'"*) ;; *) fail "no suggestion for 'plugin': $err" ;; esac
expect_exit 2 "$MLFLOWD" plugins lst
case "$err" in *"did you mean 'list'"*) ;; *) fail "no suggestion for 'lst': $err" ;; esac
expect_exit 2 "$MLFLOWD" plugins list --bogus
expect_exit 2 "$MLFLOWD" plugins list -o xml
expect_exit 0 "$MLFLOWD" plugins list --help
case "$out" in "usage: mlflowd plugins list"*) ;; *) fail "plugins list --help: $out" ;; esac

# The built-in plugins load with no configuration at all (uninstalled: from the build tree).
expect_exit 0 "$MLFLOWD" plugins list -o json
# the built-in plugins configure built (http and notifiers need libcurl)
json_check 'sorted(p["name"] for p in d) == sorted("'"$MLF_BUILT_PLUGINS"'".split())'
json_check '[o["name"] for p in d if p["name"] == "sqlite" for o in p["operators"]] in ([], ["sql", "sql_sensor"])'
json_check '[o for p in d for o in p["operators"] if o["name"] == "shell"][0]["params"][0]["name"] == "command"'
json_check 'all(p["abi"] == "1.3" for p in d)'
expect_exit 0 "$MLFLOWD" plugins list
case "$out" in *"operator shell"*"command"*"required templated"*) ;; *) fail "plugins list table: $out" ;; esac

# A plugin that is missing is named with the paths searched; the others still list; exit 1.
MLFLOWD__PLUGINS__LOAD="shell,nosuch" expect_exit 1 "$MLFLOWD" plugins list -o json
json_check '[p["name"] for p in d] == ["shell"]'
case "$err" in *"plugin 'nosuch' not found; searched:"*) ;; *) fail "missing plugin message: $err" ;; esac

# An executor this build does not have is refused by name, with the ones it has.
mkdir -p "$tmp/dags"
printf 'dag_id: one\ntasks: {a: {operator: empty}}\n' >"$tmp/dags/one.yaml"
MLFLOWD__EXECUTOR=kubernetes expect_exit 1 "$MLFLOWD" --dags-folder "$tmp/dags" scheduler
# (slurm: when configure built it)
case " ${MLF_BUILT_PLUGINS:-} " in *" slurm "*) loaded="local, sequential, slurm, zmq" ;; *) loaded="local, sequential, zmq" ;; esac
case "$err" in *"executor 'kubernetes' is not loaded; loaded executors: $loaded"*) ;; *) fail "unknown executor: $err" ;; esac
MLFLOWD__EXECUTOR=lokal expect_exit 1 "$MLFLOWD" --dags-folder "$tmp/dags" scheduler
case "$err" in *"executor 'lokal' is not loaded (did you mean 'local'?)"*) ;; *) fail "misspelt executor: $err" ;; esac
# Executor settings are checked against the table the executor plugin declares.
MLFLOWD__EXECUTORS__LOCAL__PARALELISM=4 expect_exit 1 "$MLFLOWD" --dags-folder "$tmp/dags" scheduler
case "$err" in *"MLFLOWD__EXECUTORS__LOCAL__PARALELISM: executors.local.paralelism: executor 'local' has no setting 'paralelism' (did you mean 'parallelism'?)"*) ;; *) fail "misspelt executor setting: $err" ;; esac
MLFLOWD__EXECUTORS__LOCAL__KILL_GRACE=soon expect_exit 1 "$MLFLOWD" --dags-folder "$tmp/dags" scheduler
case "$err" in *"executors.local.kill_grace: "*) ;; *) fail "bad executor setting: $err" ;; esac
printf 'executors:\n  locl:\n    parallelism: 2\n' >"$tmp/exec.yaml"
MLFLOWD_CONFIG="$tmp/exec.yaml" expect_exit 1 "$MLFLOWD" --dags-folder "$tmp/dags" scheduler
case "$err" in *"exec.yaml:3:18: executors.locl.parallelism: no executor named 'locl' is loaded (did you mean 'local'?)"*) ;; *) fail "unknown executor section: $err" ;; esac

# config list/get: every key with its value and where it came from (default < file < env < flag), and each
# source's origin (the file's line:col, the variable, the flag).
mkdir -p "$MLFLOWD_HOME"
printf 'parallelism: 9\nzmq:\n  heartbeat: 2s\n  liveness: 4\n' >"$MLFLOWD_HOME/mlflowd.yaml"
MLFLOWD__ZMQ__LIVENESS=5 expect_exit 0 "$MLFLOWD" --dags-folder "$tmp/dags" config list -o json
json_check '{e["key"]: (e["value"], e["source"], e["origin"]) for e in d}["parallelism"] == (9, "file", "'"$MLFLOWD_HOME"'/mlflowd.yaml:1:14")'
json_check '{e["key"]: (e["value"], e["source"]) for e in d}["zmq.heartbeat"] == ("2s", "file")'
json_check '{e["key"]: (e["value"], e["source"], e["origin"]) for e in d}["zmq.liveness"] == (5, "env", "MLFLOWD__ZMQ__LIVENESS")'
json_check '{e["key"]: (e["value"], e["source"], e["origin"]) for e in d}["dags_folder"] == ("'"$tmp"'/dags", "cli", "--dags-folder")'
json_check '{e["key"]: (e["value"], e["source"]) for e in d}["executor"] == ("local", "default")'
json_check '{e["key"]: (e["source"], e["origin"]) for e in d}["home"] == ("env", "MLFLOWD_HOME")'
expect_exit 0 "$MLFLOWD" config list
case "$out" in "# configuration file: $MLFLOWD_HOME/mlflowd.yaml"*"parallelism"*"= 9"*) ;; *) fail "config list: $out" ;; esac
expect_exit 0 "$MLFLOWD" config get parallelism
[ "$out" = 9 ] || fail "config get parallelism from the file: $out"
MLFLOWD__PARALLELISM=7 expect_exit 0 "$MLFLOWD" config get parallelism
[ "$out" = 7 ] || fail "the environment does not override the file: $out"
expect_exit 2 "$MLFLOWD" config get nosuch
case "$err" in *"unknown configuration key 'nosuch'"*) ;; *) fail "config get of an unknown key: $err" ;; esac
rm "$MLFLOWD_HOME/mlflowd.yaml"
expect_exit 0 "$MLFLOWD" config get parallelism
[ "$out" = 32 ] || fail "the default parallelism: $out"

# dags list and tasks list read the DAG folder
printf 'dag_id: two\nschedule: "@daily"\nstart_date: 2024-01-01\ntasks: {x: {operator: empty}, y: {operator: empty, upstream: x}}\n' \
    >"$tmp/dags/two.yaml"
expect_exit 0 "$MLFLOWD" --dags-folder "$tmp/dags" dags list -o json
json_check 'sorted((x["dag_id"], x["tasks"], x["is_paused"]) for x in d) == [("one", 1, False), ("two", 2, False)]'
json_check '[x["fileloc"] for x in d if x["dag_id"] == "two"] == ["'"$tmp"'/dags/two.yaml"]'
expect_exit 0 "$MLFLOWD" --dags-folder "$tmp/dags" dags list
case "$out" in "dag_id"*"one "*"two "*"@daily"*) ;; *) fail "dags list table: $out" ;; esac
expect_exit 0 "$MLFLOWD" --dags-folder "$tmp/dags" tasks list two
[ "$out" = "x
y" ] || fail "tasks list: $out"
expect_exit 0 "$MLFLOWD" --dags-folder "$tmp/dags" tasks list two -o json
json_check '[(t["task_id"], t["upstream"]) for t in d] == [("x", []), ("y", ["x"])]'
expect_exit 2 "$MLFLOWD" --dags-folder "$tmp/dags" tasks list three

# A DAG that does not exist (or does not load) is bad input: exit 2.
expect_exit 2 "$MLFLOWD" --dags-folder "$tmp" dags test some_dag
case "$err" in *"DAG 'some_dag' does not load"*) ;; *) fail "dags test of a missing DAG: $err" ;; esac
# doc/cli.md is generated from this help: it must be current
sh "$top_srcdir/scripts/gen-cli-doc.sh" "$MLFLOWD" >"$tmp/cli.md"
diff -u "$top_srcdir/doc/cli.md" "$tmp/cli.md" >"$tmp/cli.diff" || fail "doc/cli.md is stale: run scripts/gen-cli-doc.sh build/mlflowd > doc/cli.md
$(head -20 "$tmp/cli.diff")"
echo "cli basics ok"
