# Unit tests: one Check program per core module, tests/unit/test_<module>.c
check_PROGRAMS += tests/unit/test_strutil
tests_unit_test_strutil_SOURCES = tests/unit/test_strutil.c
tests_unit_test_strutil_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_strutil_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_strutil

check_PROGRAMS += tests/unit/test_plugin_loader
tests_unit_test_plugin_loader_SOURCES = tests/unit/test_plugin_loader.c
tests_unit_test_plugin_loader_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_plugin_loader_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_plugin_loader

check_PROGRAMS += tests/unit/test_task_ctx
tests_unit_test_task_ctx_SOURCES = tests/unit/test_task_ctx.c
tests_unit_test_task_ctx_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_task_ctx_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_task_ctx

check_PROGRAMS += tests/unit/test_dag
tests_unit_test_dag_SOURCES = tests/unit/test_dag.c
tests_unit_test_dag_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_dag_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_dag

check_PROGRAMS += tests/unit/test_dag_parser
tests_unit_test_dag_parser_SOURCES = tests/unit/test_dag_parser.c
tests_unit_test_dag_parser_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_dag_parser_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_dag_parser
check_PROGRAMS += tests/unit/test_duration
tests_unit_test_duration_SOURCES = tests/unit/test_duration.c
tests_unit_test_duration_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_duration_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_duration

check_PROGRAMS += tests/unit/test_value tests/unit/test_value_codec
tests_unit_test_value_SOURCES = tests/unit/test_value.c
tests_unit_test_value_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_value_LDADD = $(UNIT_LDADD)
tests_unit_test_value_codec_SOURCES = tests/unit/test_value_codec.c
tests_unit_test_value_codec_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_value_codec_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_value tests/unit/test_value_codec

check_PROGRAMS += tests/unit/test_suggest
tests_unit_test_suggest_SOURCES = tests/unit/test_suggest.c
tests_unit_test_suggest_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_suggest_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_suggest

check_PROGRAMS += tests/unit/test_yaml_doc
tests_unit_test_yaml_doc_SOURCES = tests/unit/test_yaml_doc.c
tests_unit_test_yaml_doc_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_yaml_doc_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_yaml_doc

check_PROGRAMS += tests/unit/test_config
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_config

check_PROGRAMS += tests/unit/test_template
tests_unit_test_template_SOURCES = tests/unit/test_template.c
tests_unit_test_template_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_template_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_template

check_PROGRAMS += tests/unit/test_tz
tests_unit_test_tz_SOURCES = tests/unit/test_tz.c
tests_unit_test_tz_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_tz_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_tz

check_PROGRAMS += tests/unit/test_timefmt
tests_unit_test_timefmt_SOURCES = tests/unit/test_timefmt.c
tests_unit_test_timefmt_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_timefmt_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_timefmt

check_PROGRAMS += tests/unit/test_cron
tests_unit_test_cron_SOURCES = tests/unit/test_cron.c
tests_unit_test_cron_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_cron_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_cron

check_PROGRAMS += tests/unit/test_schedule
tests_unit_test_schedule_SOURCES = tests/unit/test_schedule.c
tests_unit_test_schedule_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_schedule_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_schedule
check_PROGRAMS += tests/unit/test_state
tests_unit_test_state_SOURCES = tests/unit/test_state.c
tests_unit_test_state_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_state_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_state

check_PROGRAMS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_store_LDADD = $(UNIT_LDADD) $(LMDB_LIBS)
TESTS += tests/unit/test_store

check_PROGRAMS += tests/unit/test_store_crash
tests_unit_test_store_crash_SOURCES = tests/unit/test_store_crash.c
tests_unit_test_store_crash_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_store_crash_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_store_crash

check_PROGRAMS += tests/unit/test_trigger_rule
tests_unit_test_trigger_rule_SOURCES = tests/unit/test_trigger_rule.c
tests_unit_test_trigger_rule_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_trigger_rule_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_trigger_rule
EXTRA_DIST += tests/unit/gen_trigger_table.py

check_PROGRAMS += tests/unit/test_task_spec
tests_unit_test_task_spec_SOURCES = tests/unit/test_task_spec.c
tests_unit_test_task_spec_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_task_spec_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_task_spec

check_PROGRAMS += tests/unit/test_task_runner
tests_unit_test_task_runner_SOURCES = tests/unit/test_task_runner.c
tests_unit_test_task_runner_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_task_runner_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_task_runner

check_PROGRAMS += tests/unit/test_executor_local
tests_unit_test_executor_local_SOURCES = tests/unit/test_executor_local.c
tests_unit_test_executor_local_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_executor_local_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_executor_local

# the python operator plugin; its stdout scanner is compiled in to be tested directly
if BUILD_PLUGIN_PYTHON
check_PROGRAMS += tests/unit/test_op_python
TESTS += tests/unit/test_op_python
endif
tests_unit_test_op_python_SOURCES = tests/unit/test_op_python.c plugins/python/xcom_lines.c
tests_unit_test_op_python_CPPFLAGS = $(UNIT_CPPFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_op_python_LDADD = $(UNIT_LDADD) $(JANSSON_LIBS)

# the sqlite plugin (sqlite hook, sql operator, sql_sensor); the test reads the database with libsqlite3 too
if BUILD_PLUGIN_SQLITE
check_PROGRAMS += tests/unit/test_op_sql
TESTS += tests/unit/test_op_sql
endif
tests_unit_test_op_sql_SOURCES = tests/unit/test_op_sql.c
tests_unit_test_op_sql_CPPFLAGS = $(UNIT_CPPFLAGS) $(SQLITE_CFLAGS)
tests_unit_test_op_sql_LDADD = $(UNIT_LDADD) $(SQLITE_LIBS)
check_PROGRAMS += tests/unit/test_conn_uri
tests_unit_test_conn_uri_SOURCES = tests/unit/test_conn_uri.c
tests_unit_test_conn_uri_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_conn_uri_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_conn_uri
check_PROGRAMS += tests/unit/test_op_branch tests/unit/test_op_sensors
tests_unit_test_op_branch_SOURCES = tests/unit/test_op_branch.c
tests_unit_test_op_branch_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_op_branch_LDADD = $(UNIT_LDADD)
tests_unit_test_op_sensors_SOURCES = tests/unit/test_op_sensors.c
tests_unit_test_op_sensors_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_op_sensors_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_op_branch tests/unit/test_op_sensors
# the http and notifiers plugins, against an HTTP server (libmicrohttpd) and an SMTP sink inside the tests
if BUILD_PLUGIN_HTTP
if HAVE_MHD
check_PROGRAMS += tests/unit/test_op_http
tests_unit_test_op_http_SOURCES = tests/unit/test_op_http.c tests/unit/http_test_server.c \
	tests/unit/http_test_server.h
tests_unit_test_op_http_CPPFLAGS = $(UNIT_CPPFLAGS) $(MHD_CFLAGS)
tests_unit_test_op_http_LDADD = $(UNIT_LDADD) $(MHD_LIBS) -lpthread
TESTS += tests/unit/test_op_http
endif
endif

if BUILD_PLUGIN_NOTIFIERS
if HAVE_MHD
check_PROGRAMS += tests/unit/test_notifiers
tests_unit_test_notifiers_SOURCES = tests/unit/test_notifiers.c tests/unit/http_test_server.c \
	tests/unit/http_test_server.h
tests_unit_test_notifiers_CPPFLAGS = $(UNIT_CPPFLAGS) $(MHD_CFLAGS)
tests_unit_test_notifiers_LDADD = $(UNIT_LDADD) $(MHD_LIBS) -lpthread
TESTS += tests/unit/test_notifiers
endif
endif
check_PROGRAMS += tests/unit/test_proto
tests_unit_test_proto_SOURCES = tests/unit/test_proto.c
tests_unit_test_proto_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_proto_LDADD = $(UNIT_LDADD) $(ZMQ_LIBS)
TESTS += tests/unit/test_proto

check_PROGRAMS += tests/unit/test_zmq_auth
tests_unit_test_zmq_auth_SOURCES = tests/unit/test_zmq_auth.c
tests_unit_test_zmq_auth_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_zmq_auth_LDADD = $(UNIT_LDADD) $(ZMQ_LIBS)
TESTS += tests/unit/test_zmq_auth

check_PROGRAMS += tests/unit/test_executor_zmq
tests_unit_test_executor_zmq_SOURCES = tests/unit/test_executor_zmq.c
tests_unit_test_executor_zmq_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_executor_zmq_LDADD = $(UNIT_LDADD) $(ZMQ_LIBS)
TESTS += tests/unit/test_executor_zmq

# the external_task_sensor plugin (with a fake state store behind the context)
if BUILD_PLUGIN_EXTERNAL_TASK_SENSOR
check_PROGRAMS += tests/unit/test_op_external_sensor
tests_unit_test_op_external_sensor_SOURCES = tests/unit/test_op_external_sensor.c
tests_unit_test_op_external_sensor_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_op_external_sensor_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_op_external_sensor
endif

# the scheduler loop against a fake executor (tests/unit/fake_executor.[ch])
check_PROGRAMS += tests/unit/test_scheduler
tests_unit_test_scheduler_SOURCES = tests/unit/test_scheduler.c tests/unit/fake_executor.c tests/unit/fake_executor.h
tests_unit_test_scheduler_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_scheduler_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_scheduler

# task hosts and their pool
check_PROGRAMS += tests/unit/test_host_pool
tests_unit_test_host_pool_SOURCES = tests/unit/test_host_pool.c
tests_unit_test_host_pool_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_host_pool_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_host_pool

# the trigger-rule table above is generated by its oracle: it must be current
TESTS += tests/unit/trigger_table.sh
EXTRA_DIST += tests/unit/trigger_table.sh

# issue 15: notifier hand-over, bounded TI messages, masking
check_PROGRAMS += tests/unit/test_security
tests_unit_test_security_SOURCES = tests/unit/test_security.c
tests_unit_test_security_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_security_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_security
# executor plugins: choosing, settings checked against their tables, opening, host functions
check_PROGRAMS += tests/unit/test_executors
tests_unit_test_executors_SOURCES = tests/unit/test_executors.c
tests_unit_test_executors_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_executors_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_executors
# helpers shared by the unit test programs (temporary folders, whole files, sanitizer-scaled bounds)
check_LTLIBRARIES += tests/unit/libtestutil.la
tests_unit_libtestutil_la_SOURCES = tests/unit/testutil.c tests/unit/testutil.h
tests_unit_libtestutil_la_CPPFLAGS = $(UNIT_CPPFLAGS)

# unit tests for modules that had none: DAG bag, notifier processes, plugin registry, CLI, worker
check_PROGRAMS += tests/unit/test_dagbag
tests_unit_test_dagbag_SOURCES = tests/unit/test_dagbag.c
tests_unit_test_dagbag_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_dagbag_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_dagbag
check_PROGRAMS += tests/unit/test_notify
tests_unit_test_notify_SOURCES = tests/unit/test_notify.c
tests_unit_test_notify_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_notify_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_notify
check_PROGRAMS += tests/unit/test_cli
tests_unit_test_cli_SOURCES = tests/unit/test_cli.c
tests_unit_test_cli_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_cli_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_cli
check_PROGRAMS += tests/unit/test_registry
tests_unit_test_registry_SOURCES = tests/unit/test_registry.c
tests_unit_test_registry_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_registry_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_registry
check_PROGRAMS += tests/unit/test_worker
tests_unit_test_worker_SOURCES = tests/unit/test_worker.c
tests_unit_test_worker_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_worker_LDADD = $(UNIT_LDADD) $(ZMQ_LIBS)
TESTS += tests/unit/test_worker
if BUILD_PLUGIN_CONTAINER
check_PROGRAMS += tests/unit/test_op_container
tests_unit_test_op_container_SOURCES = tests/unit/test_op_container.c
tests_unit_test_op_container_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_op_container_LDADD = $(UNIT_LDADD) -lpthread
TESTS += tests/unit/test_op_container
endif
# the slurm executor's reading of Slurm's text (issue 13)
if BUILD_PLUGIN_SLURM
check_PROGRAMS += tests/unit/test_slurm_text
tests_unit_test_slurm_text_SOURCES = tests/unit/test_slurm_text.c plugins/slurm/slurm_text.c
tests_unit_test_slurm_text_CPPFLAGS = $(UNIT_CPPFLAGS) -I$(top_srcdir)/plugins
tests_unit_test_slurm_text_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_slurm_text
endif
# mkdir_parents (deepest folder first)
check_PROGRAMS += tests/unit/test_fsutil
tests_unit_test_fsutil_SOURCES = tests/unit/test_fsutil.c tests/unit/testutil.c
tests_unit_test_fsutil_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_fsutil_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_fsutil

# task groups (issue 11)
check_PROGRAMS += tests/unit/test_dag_groups
tests_unit_test_dag_groups_SOURCES = tests/unit/test_dag_groups.c
tests_unit_test_dag_groups_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_dag_groups_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_dag_groups
check_PROGRAMS += tests/unit/test_template_logic
tests_unit_test_template_logic_SOURCES = tests/unit/test_template_logic.c
tests_unit_test_template_logic_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_template_logic_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_template_logic
check_PROGRAMS += tests/unit/test_dag_keys
tests_unit_test_dag_keys_SOURCES = tests/unit/test_dag_keys.c
tests_unit_test_dag_keys_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_dag_keys_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_dag_keys

# cached results (doc/caching.md): keys, the cache table, the scheduler's hits (tests/unit/fake_executor.[ch])
check_PROGRAMS += tests/unit/test_cache
tests_unit_test_cache_SOURCES = tests/unit/test_cache.c tests/unit/fake_executor.c tests/unit/fake_executor.h
tests_unit_test_cache_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_cache_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_cache

# assets (doc/assets.md): URIs, DAG keys, the cross-DAG check, asset-triggered runs
check_PROGRAMS += tests/unit/test_assets
tests_unit_test_assets_SOURCES = tests/unit/test_assets.c tests/unit/fake_executor.c tests/unit/fake_executor.h
tests_unit_test_assets_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_assets_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_assets

# secrets at rest (issue 15)
check_PROGRAMS += tests/unit/test_store_secrets
tests_unit_test_store_secrets_SOURCES = tests/unit/test_store_secrets.c
tests_unit_test_store_secrets_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_store_secrets_LDADD = tests/unit/libtestutil.la $(UNIT_LDADD)
TESTS += tests/unit/test_store_secrets
