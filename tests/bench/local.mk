# Benchmark programs (built by `make bench`, never run by make check: no timing assertions in tests).
EXTRA_PROGRAMS = tests/bench/bench_dagbag tests/bench/bench_scheduler
tests_bench_bench_dagbag_SOURCES = tests/bench/bench_dagbag.c
tests_bench_bench_dagbag_CPPFLAGS = $(CORE_CPPFLAGS)
tests_bench_bench_dagbag_LDADD = libmlfcore.la
# runs DAG runs through the real scheduler; its task processes are $(top_builddir)/mlflowd task-exec
tests_bench_bench_scheduler_SOURCES = tests/bench/bench_scheduler.c
tests_bench_bench_scheduler_CPPFLAGS = $(CORE_CPPFLAGS)
tests_bench_bench_scheduler_LDADD = libmlfcore.la
CLEANFILES += $(EXTRA_PROGRAMS)
bench: $(EXTRA_PROGRAMS) $(plugin_LTLIBRARIES) mlflowd$(EXEEXT)
	./tests/bench/bench_dagbag
	./tests/bench/bench_scheduler
	@echo "mlflowd against make -j2 and ninja -j2 (10,000 tasks per shape, several minutes):"
	@echo "  $(abs_top_srcdir)/tests/bench/vs_make.sh    (from this directory; see its header for options)"
.PHONY: bench
EXTRA_DIST += tests/bench/vs_make.sh tests/bench/gen_graph.py
# the API's grid latency while the scheduler runs 10,000 tasks (doc/webserver.md)
EXTRA_DIST += tests/bench/bench_web_grid.py
bench-web: mlflowd$(EXEEXT) $(plugin_LTLIBRARIES)
	/usr/bin/python3 $(srcdir)/tests/bench/bench_web_grid.py ./mlflowd
.PHONY: bench-web
EXTRA_DIST += tests/bench/vs_slurm.sh
