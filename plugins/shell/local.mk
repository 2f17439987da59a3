if BUILD_PLUGIN_SHELL
plugin_LTLIBRARIES += plugins/shell.la
endif
plugins_shell_la_SOURCES = plugins/shell/shell.c
plugins_shell_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_shell_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_shell_la_LDFLAGS = $(PLUGIN_LDFLAGS)
