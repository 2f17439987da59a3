# Misbehaving and helper plugins used by the loader tests (never installed).
check_LTLIBRARIES += tests/plugins/good.la tests/plugins/no_entry.la tests/plugins/bad_abi.la \
	tests/plugins/init_fail.la tests/plugins/dup_shell.la tests/plugins/bad_param.la
tests_plugins_good_la_SOURCES = tests/plugins/good.c
tests_plugins_good_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_good_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_good_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_no_entry_la_SOURCES = tests/plugins/no_entry.c
tests_plugins_no_entry_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_no_entry_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -rpath $(abs_builddir)/tests/plugins
tests_plugins_bad_abi_la_SOURCES = tests/plugins/bad_abi.c
tests_plugins_bad_abi_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_bad_abi_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_bad_abi_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_init_fail_la_SOURCES = tests/plugins/init_fail.c
tests_plugins_init_fail_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_init_fail_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_init_fail_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_dup_shell_la_SOURCES = tests/plugins/dup_shell.c
tests_plugins_dup_shell_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_dup_shell_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_dup_shell_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_bad_param_la_SOURCES = tests/plugins/bad_param.c
tests_plugins_bad_param_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_bad_param_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_bad_param_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
# Misbehaving and helper plugins used by the task runner and local executor tests.
check_LTLIBRARIES += tests/plugins/crash.la tests/plugins/hang.la tests/plugins/runner_ops.la
tests_plugins_crash_la_SOURCES = tests/plugins/crash.c
tests_plugins_crash_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_crash_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_crash_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_hang_la_SOURCES = tests/plugins/hang.c
tests_plugins_hang_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_hang_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_hang_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_runner_ops_la_SOURCES = tests/plugins/runner_ops.c
tests_plugins_runner_ops_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_runner_ops_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_runner_ops_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
# ABI 1.2 loader rules: the minor-version rule and parameter tables with a stride (test_plugin_loader).
check_LTLIBRARIES += tests/plugins/newer_minor.la tests/plugins/future_layout.la
tests_plugins_newer_minor_la_SOURCES = tests/plugins/newer_minor.c
tests_plugins_newer_minor_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_newer_minor_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_newer_minor_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_future_layout_la_SOURCES = tests/plugins/future_layout.c
tests_plugins_future_layout_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_future_layout_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_future_layout_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
# Operators for the task-host tests (tests/unit/test_host_pool.c).
check_LTLIBRARIES += tests/plugins/host_ops.la
tests_plugins_host_ops_la_SOURCES = tests/plugins/host_ops.c
tests_plugins_host_ops_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
tests_plugins_host_ops_la_CFLAGS = $(PLUGIN_CFLAGS)
tests_plugins_host_ops_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
