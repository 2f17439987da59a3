# Benchmark programs (built by `make bench`, never run by make check: no timing assertions in tests).
EXTRA_PROGRAMS = tests/bench/bench_dagbag
tests_bench_bench_dagbag_SOURCES = tests/bench/bench_dagbag.c
tests_bench_bench_dagbag_CPPFLAGS = $(CORE_CPPFLAGS)
tests_bench_bench_dagbag_LDADD = libmlfcore.la
CLEANFILES += $(EXTRA_PROGRAMS)
bench: $(EXTRA_PROGRAMS) $(plugin_LTLIBRARIES)
	./tests/bench/bench_dagbag
.PHONY: bench
