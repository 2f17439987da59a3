# Integration tests: real mlflowd processes (and, later, workers on loopback).
TESTS += tests/integration/cli_basics.sh tests/integration/hello_plugin.sh tests/integration/scheduler_restart.sh
EXTRA_DIST += tests/integration/lib.sh tests/integration/cli_basics.sh tests/integration/hello_plugin.sh \
	tests/integration/scheduler_restart.sh
