# Integration tests: real mlflowd processes on loopback. One list, used for both TESTS and the tarball.
INTEGRATION_TESTS = \
	tests/integration/cli_basics.sh \
	tests/integration/hello_plugin.sh \
	tests/integration/scheduler_restart.sh \
	tests/integration/scheduler_semantics.sh \
	tests/integration/runs_cli.sh \
	tests/integration/callbacks.sh \
	tests/integration/store_cli.sh \
	tests/integration/sensors_branch.sh \
	tests/integration/connections_pipeline.sh \
	tests/integration/example_crypto_ml.sh \
	tests/integration/example_sweep.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += tests/integration/lib.sh tests/lsan.supp $(INTEGRATION_TESTS)
