# Integration tests: real mlflowd processes on loopback. One list, used for both TESTS and the tarball.
INTEGRATION_TESTS = \
	tests/integration/cli_basics.sh \
	tests/integration/hello_plugin.sh \
	tests/integration/scheduler_restart.sh \
	tests/integration/scheduler_semantics.sh \
	tests/integration/runs_cli.sh \
	tests/integration/clear_active.sh \
	tests/integration/callbacks.sh \
	tests/integration/store_cli.sh \
	tests/integration/sensors_branch.sh \
	tests/integration/external_sensor.sh \
	tests/integration/connections_pipeline.sh \
	tests/integration/zmq_failover.sh \
	tests/integration/zmq_queues.sh \
	tests/integration/zmq_curve.sh \
	tests/integration/zmq_flood.sh \
	tests/integration/zmq_restart.sh \
	tests/integration/zmq_netns.sh \
	tests/integration/standalone.sh \
	tests/integration/run_command.sh \
	tests/integration/example_crypto_ml.sh \
	tests/integration/example_sweep.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += tests/integration/lib.sh tests/integration/zmq_lib.sh tests/lsan.supp $(INTEGRATION_TESTS)

# a raw ZeroMQ peer that floods the scheduler with malformed frames (zmq_flood.sh)
check_PROGRAMS += tests/integration/zmq_flood
tests_integration_zmq_flood_SOURCES = tests/integration/zmq_flood.c
tests_integration_zmq_flood_CFLAGS = $(AM_CFLAGS) $(ZMQ_CFLAGS)
tests_integration_zmq_flood_LDADD = $(ZMQ_LIBS)

# the webserver: REST API (web_api.sh) and the UI in headless Chromium (web_browser.sh)
# web_browser.sh keeps its screenshots beside its log (doc/webserver/ has copies); make clean removes them
clean-local: clean-web-screenshots
clean-web-screenshots:
	rm -rf tests/integration/web_browser.screenshots
.PHONY: clean-web-screenshots
INTEGRATION_TESTS += tests/integration/web_api.sh tests/integration/web_browser.sh tests/integration/web_standalone.sh tests/integration/web_metrics.sh tests/integration/web_tls.sh
EXTRA_DIST += tests/integration/web_lib.sh tests/browser/cdp.py tests/browser/ui_test.py

# long-lived task hosts under a real scheduler (a host SIGKILLed mid-try)
INTEGRATION_TESTS += tests/integration/task_hosts.sh

# an executor plugin built out of tree against the installed SDK runs a DAG
INTEGRATION_TESTS += tests/integration/executor_plugin.sh
EXTRA_DIST += tests/integration/batch_executor/batch.c

# the newcomer path and operating mlflowd (issue 12)
OPS_INTEGRATION_TESTS = \
	tests/integration/newcomer_setup.sh \
	tests/integration/newcomer_habits.sh \
	tests/integration/newcomer_tasks_test.sh \
	tests/integration/newcomer_mapped.sh \
	tests/integration/newcomer_commands.sh \
	tests/integration/newcomer_settings.sh \
	tests/integration/newcomer_plugin_authors.sh \
	tests/integration/store_maintenance.sh \
	tests/integration/systemd_units.sh \
	tests/integration/man_pages.sh
TESTS += $(OPS_INTEGRATION_TESTS)
EXTRA_DIST += $(OPS_INTEGRATION_TESTS)

# issue 15 (security and reliability)
INTEGRATION_TESTS_SEC = \
	tests/integration/zmq_auth_default.sh \
	tests/integration/run_owner.sh \
	tests/integration/chaos.sh \
	tests/integration/secrets_env.sh \
	tests/integration/ids.sh
TESTS += $(INTEGRATION_TESTS_SEC)
EXTRA_DIST += $(INTEGRATION_TESTS_SEC)
# the scheduler's holes filled (issue "a test suite that tells the truth"): retries, run limits, templates,
# DAG-folder reload, callbacks that must not delay the loop
HONEST_TESTS = tests/integration/retry_backoff.sh tests/integration/run_limits.sh \
	tests/integration/callbacks_nonblocking.sh tests/integration/dag_reload.sh tests/integration/prev_next_ds.sh
TESTS += $(HONEST_TESTS)
EXTRA_DIST += $(HONEST_TESTS)
# the container operator against a real engine (podman system service on a private socket)
INTEGRATION_TESTS += tests/integration/container.sh
# Airflow parity (issue 11): branching, mapped dependencies, DAG keys
INTEGRATION_TESTS += tests/integration/airflow_parity.sh

# the webserver reloads its DAG folder (web2)
INTEGRATION_TESTS += tests/integration/web_reload.sh
INTEGRATION_TESTS += tests/integration/web_metrics_worker.sh

# the slurm executor against a private single-node Slurm cluster (issue 13)
SLURM_INTEGRATION_TESTS = tests/integration/slurm.sh
TESTS += $(SLURM_INTEGRATION_TESTS)
EXTRA_DIST += $(SLURM_INTEGRATION_TESTS) tests/integration/slurm_lib.sh
# cached results on the sweep example (doc/caching.md)
INTEGRATION_TESTS += tests/integration/cache_sweep.sh
# assets (doc/assets.md): producer -> consumer under a running scheduler, bursts, the CLI
INTEGRATION_TESTS += tests/integration/assets.sh
INTEGRATION_TESTS += tests/integration/event_triggers.sh
INTEGRATION_TESTS += tests/integration/fs_watch.sh
# secrets at rest: sealed connections and variables, rotate-key, the wrong key (issue 15)
INTEGRATION_TESTS += tests/integration/secrets_at_rest.sh
# a full disk under the state store: results kept and retried, nothing lost (issue 15, defect 9)
INTEGRATION_TESTS += tests/integration/store_enospc.sh
# issue 12 (operating mlflowd): workers list, plain output, worker sd_notify, standalone's port, doc/deploy.md
INTEGRATION_TESTS += tests/integration/workers_list.sh
INTEGRATION_TESTS += tests/integration/output_plain.sh
INTEGRATION_TESTS += tests/integration/worker_sdnotify.sh
INTEGRATION_TESTS += tests/integration/web_port.sh
INTEGRATION_TESTS += tests/integration/deploy_doc.sh
# issue 14, item 2: the scheduler event socket (events.listen)
INTEGRATION_TESTS += tests/integration/event_socket.sh
