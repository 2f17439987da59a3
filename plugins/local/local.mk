if BUILD_PLUGIN_LOCAL
plugin_LTLIBRARIES += plugins/local.la
endif
plugins_local_la_SOURCES = plugins/local/local.c
plugins_local_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_local_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_local_la_LDFLAGS = $(PLUGIN_LDFLAGS)
