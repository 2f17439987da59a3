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
