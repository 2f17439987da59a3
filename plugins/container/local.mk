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
