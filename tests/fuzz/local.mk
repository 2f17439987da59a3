# Every saved fuzz input replayed through its target's entry point on each `make check` (tests/fuzz/replay.c,
# any compiler; under ASan+UBSan in the sanitizer build).
FUZZ_REPLAYS = tests/fuzz/replay_value_unpack tests/fuzz/replay_value_json tests/fuzz/replay_template \
	tests/fuzz/replay_dag_parser tests/fuzz/replay_proto
check_PROGRAMS += $(FUZZ_REPLAYS)
TESTS += $(FUZZ_REPLAYS)
EXTRA_DIST += tests/fuzz/replay.c
FUZZ_REPLAY_CPPFLAGS = $(CORE_CPPFLAGS) -DTEST_SRCDIR='"$(abs_top_srcdir)"'
tests_fuzz_replay_value_unpack_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_value_unpack.c
tests_fuzz_replay_value_unpack_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_NAME='"value_unpack"'
tests_fuzz_replay_value_unpack_LDADD = libmlfcore.la
tests_fuzz_replay_value_json_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_value_json.c
tests_fuzz_replay_value_json_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_NAME='"value_json"'
tests_fuzz_replay_value_json_LDADD = libmlfcore.la
tests_fuzz_replay_template_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_template.c
tests_fuzz_replay_template_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_NAME='"template"'
tests_fuzz_replay_template_LDADD = libmlfcore.la
tests_fuzz_replay_dag_parser_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_dag_parser.c
tests_fuzz_replay_dag_parser_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_NAME='"dag_parser"'
tests_fuzz_replay_dag_parser_LDADD = libmlfcore.la
tests_fuzz_replay_proto_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_proto.c
tests_fuzz_replay_proto_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_NAME='"proto"'
tests_fuzz_replay_proto_LDADD = libmlfcore.la
# the webserver's query, cookie and JSON body parsers
FUZZ_REPLAYS += tests/fuzz/replay_web_parse
tests_fuzz_replay_web_parse_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_web_parse.c
tests_fuzz_replay_web_parse_CPPFLAGS = $(FUZZ_REPLAY_CPPFLAGS) -DFUZZ_NAME='"web_parse"'
tests_fuzz_replay_web_parse_LDADD = libmlfcore.la
