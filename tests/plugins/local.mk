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
