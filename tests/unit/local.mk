# Unit tests: one Check program per core module, tests/unit/test_<module>.c
check_PROGRAMS += tests/unit/test_strutil
tests_unit_test_strutil_SOURCES = tests/unit/test_strutil.c
tests_unit_test_strutil_CPPFLAGS = $(UNIT_CPPFLAGS)
tests_unit_test_strutil_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test_strutil

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
