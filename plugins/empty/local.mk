if BUILD_PLUGIN_EMPTY
plugin_LTLIBRARIES += plugins/empty.la
endif
plugins_empty_la_SOURCES = plugins/empty/empty.c
plugins_empty_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_empty_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_empty_la_LDFLAGS = $(PLUGIN_LDFLAGS)
