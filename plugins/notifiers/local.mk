if BUILD_PLUGIN_NOTIFIERS
plugin_LTLIBRARIES += plugins/notifiers.la
endif
# the webhook shares the http plugin's libcurl client (compiled in again: plugins never see each other)
plugins_notifiers_la_SOURCES = plugins/notifiers/notifiers.c plugins/notifiers/notifiers.h \
	plugins/notifiers/webhook.c plugins/notifiers/email.c plugins/http/http_client.c plugins/http/http_client.h
plugins_notifiers_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -I$(top_srcdir)/plugins/http $(CURL_CFLAGS)
plugins_notifiers_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_notifiers_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_notifiers_la_LIBADD = $(CURL_LIBS)
EXTRA_DIST += doc/notifiers.md
