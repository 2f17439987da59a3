# Unit tests: one Check program per core module, tests/unit/test_<module>.c
check_PROGRAMS += tests/unit/test_strutil
tests_unit_test_strutil_SOURCES = tests/unit/test_strutil.c
tests_unit_test_strutil_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_strutil_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_strutil

check_PROGRAMS += tests/unit/test_value tests/unit/test_value_codec
tests_unit_test_value_SOURCES = tests/unit/test_value.c
tests_unit_test_value_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_value_LDADD = $(UNIT_LDADD)
tests_unit_test_value_codec_SOURCES = tests/unit/test_value_codec.c
tests_unit_test_value_codec_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_value_codec_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_value tests/unit/test_value_codec

check_PROGRAMS += tests/unit/test_template
tests_unit_test_template_SOURCES = tests/unit/test_template.c
tests_unit_test_template_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_template_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_template
