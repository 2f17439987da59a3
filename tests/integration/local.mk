# Integration tests: real mlflowd processes (and, later, workers on loopback).
TESTS += tests/integration/cli_basics.sh tests/integration/hello_plugin.sh tests/integration/scheduler_restart.sh \
	tests/integration/scheduler_semantics.sh tests/integration/runs_cli.sh \
	tests/integration/callbacks.sh tests/integration/store_cli.sh
EXTRA_DIST += tests/integration/lib.sh tests/integration/cli_basics.sh tests/integration/hello_plugin.sh \
	tests/integration/scheduler_restart.sh \
	tests/integration/scheduler_semantics.sh tests/integration/runs_cli.sh \
	tests/integration/callbacks.sh tests/integration/store_cli.sh
