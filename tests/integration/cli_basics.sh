#!/bin/sh
# The CLI skeleton: help, version, exit codes, plugins list, config list/get, and the documented refusals.
. "$top_srcdir/tests/integration/lib.sh"

expect_exit 0 "$MLFLOWD" --help
case "$out" in *"plugins list"*"dags test"*) ;; *) fail "--help does not list the commands: $out" ;; esac
expect_exit 2 "$MLFLOWD"
expect_exit 0 "$MLFLOWD" version
case "$out" in "mlflowd "*"(plugin SDK ABI 1.0)") ;; *) fail "version: $out" ;; esac
expect_exit 0 "$MLFLOWD" version -o json
json_check 'd["abi"] == "1.0"'

# Unknown commands and options are usage errors with a suggestion.
expect_exit 2 "$MLFLOWD" plugin list
case "$err" in *"did you mean 'plugins'"*) ;; *) fail "no suggestion for 'plugin': $err" ;; esac
expect_exit 2 "$MLFLOWD" plugins lst
case "$err" in *"did you mean 'list'"*) ;; *) fail "no suggestion for 'lst': $err" ;; esac
expect_exit 2 "$MLFLOWD" plugins list --bogus
expect_exit 2 "$MLFLOWD" plugins list -o yaml
expect_exit 0 "$MLFLOWD" plugins list --help
case "$out" in "usage: mlflowd plugins list"*) ;; *) fail "plugins list --help: $out" ;; esac

# The built-in plugins load with no configuration at all (uninstalled: from the build tree).
expect_exit 0 "$MLFLOWD" plugins list -o json
json_check 'sorted(p["name"] for p in d) == ["empty", "shell"]'
json_check '[o for p in d for o in p["operators"] if o["name"] == "shell"][0]["params"][0]["name"] == "command"'
json_check 'all(p["abi"] == "1.0" for p in d)'
expect_exit 0 "$MLFLOWD" plugins list
case "$out" in *"operator shell"*"command"*"required templated"*) ;; *) fail "plugins list table: $out" ;; esac

# A plugin that is missing is named with the paths searched; the others still list; exit 1.
MLFLOWD__PLUGINS__LOAD="shell,nosuch" expect_exit 1 "$MLFLOWD" plugins list -o json
json_check '[p["name"] for p in d] == ["shell"]'
case "$err" in *"plugin 'nosuch' not found; searched:"*) ;; *) fail "missing plugin message: $err" ;; esac

# Commands that arrive with later work say so instead of pretending.
expect_exit 1 "$MLFLOWD" worker --connect tcp://127.0.0.1:5555
case "$err" in *"not supported yet"*) ;; *) fail "unsupported command message: $err" ;; esac

# A DAG that does not exist (or does not load) is bad input: exit 2.
expect_exit 2 "$MLFLOWD" --dags-folder "$tmp" dags test some_dag
case "$err" in *"DAG 'some_dag' does not load"*) ;; *) fail "dags test of a missing DAG: $err" ;; esac
echo "cli basics ok"
