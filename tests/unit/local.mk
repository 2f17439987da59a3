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

check_PROGRAMS += tests/unit/test_op_branch tests/unit/test_op_sensors
tests_unit_test_op_branch_SOURCES = tests/unit/test_op_branch.c
tests_unit_test_op_branch_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_op_branch_LDADD = $(UNIT_LDADD)
tests_unit_test_op_sensors_SOURCES = tests/unit/test_op_sensors.c
tests_unit_test_op_sensors_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_op_sensors_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_op_branch tests/unit/test_op_sensors
