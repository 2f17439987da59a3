# The slurm executor: each try a Slurm batch job running `mlflowd task-exec` (doc/executors/slurm.md). It
# carries the task spec/result frame code it shares with task-exec and the libc-only helpers that code uses;
# each compiles against the SDK only.
if BUILD_PLUGIN_SLURM
plugin_LTLIBRARIES += plugins/slurm.la
endif
plugins_slurm_la_SOURCES = plugins/slurm/slurm_executor.c plugins/slurm/slurm_cmd.c plugins/slurm/slurm_cmd.h \
	plugins/slurm/slurm_text.c plugins/slurm/slurm_text.h plugins/slurm/slurm_argv.c \
	plugins/slurm/slurm_argv.h core/exec/task_spec.c core/exec/task_spec.h \
	core/base/fsutil.c core/base/fsutil.h core/base/ids.c core/base/ids.h
plugins_slurm_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -D_GNU_SOURCE -I$(top_srcdir)/core
plugins_slurm_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_slurm_la_LDFLAGS = $(PLUGIN_LDFLAGS)
EXTRA_DIST += doc/executors/slurm.md
