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
