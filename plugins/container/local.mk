if BUILD_PLUGIN_CONTAINER
plugin_LTLIBRARIES += plugins/container.la
endif
plugins_container_la_SOURCES = plugins/container/container.c \
	plugins/container/container_engine.c plugins/container/container_engine.h \
	plugins/container/container_parse.c plugins/container/container_parse.h \
	plugins/container/container_spec.c plugins/container/container_spec.h \
	plugins/container/container_orphans.c plugins/container/container_orphans.h \
	plugins/container/container_try.c plugins/container/container_try.h
plugins_container_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
plugins_container_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_container_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_container_la_LIBADD = $(CURL_LIBS) $(JANSSON_LIBS) -lm
EXTRA_DIST += doc/operators/container.md
EXTRA_DIST += examples/sweep/report_engine.sh

# the readers of engine answers (container_parse.c): their saved inputs in tests/fuzz/corpus/container_parse
# replayed on every `make check` (tests/fuzz/replay.c), and a libFuzzer target with --enable-fuzzing
if BUILD_PLUGIN_CONTAINER
check_PROGRAMS += tests/fuzz/replay_container_parse
TESTS += tests/fuzz/replay_container_parse
if ENABLE_FUZZING
noinst_PROGRAMS += tests/fuzz/fuzz_container_parse
endif
endif
CONTAINER_PARSE_SOURCES = plugins/container/container_parse.c plugins/container/container_parse.h \
	plugins/container/container_engine.h
tests_fuzz_replay_container_parse_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_container_parse.c $(CONTAINER_PARSE_SOURCES)
tests_fuzz_replay_container_parse_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_NAME='"container_parse"'
tests_fuzz_replay_container_parse_LDADD = libmlfcore.la $(JANSSON_LIBS)
tests_fuzz_fuzz_container_parse_SOURCES = tests/fuzz/fuzz_container_parse.c $(CONTAINER_PARSE_SOURCES)
tests_fuzz_fuzz_container_parse_CPPFLAGS = $(CORE_CPPFLAGS)
tests_fuzz_fuzz_container_parse_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_container_parse_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_container_parse_LDADD = $(JANSSON_LIBS)
