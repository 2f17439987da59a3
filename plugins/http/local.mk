if BUILD_PLUGIN_HTTP
plugin_LTLIBRARIES += plugins/http.la
endif
plugins_http_la_SOURCES = plugins/http/http.c plugins/http/http_client.c plugins/http/http_client.h \
	plugins/http/http_conn.c plugins/http/http_conn.h plugins/http/http_json.c plugins/http/http_json.h \
	plugins/http/http_task.c plugins/http/http_task.h
plugins_http_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
plugins_http_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_http_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_http_la_LIBADD = $(CURL_LIBS) $(JANSSON_LIBS)
EXTRA_DIST += doc/operators/http.md
