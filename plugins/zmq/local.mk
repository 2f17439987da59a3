# The zmq executor: the plugin carries the protocol code it shares with `mlflowd worker` (proto, CURVE and
# ZAP, task spec/result) and the libc-only helpers that code uses; each compiles against the SDK only.
if BUILD_PLUGIN_ZMQ
plugin_LTLIBRARIES += plugins/zmq.la
endif
plugins_zmq_la_SOURCES = plugins/zmq/zmq_executor.c core/exec/proto.c core/exec/proto.h core/exec/zmq_auth.c \
	core/exec/zmq_auth.h core/exec/task_spec.c core/exec/task_spec.h core/base/strutil.c core/base/strutil.h \
	core/base/fsutil.c core/base/fsutil.h core/time/duration.c core/time/duration.h
plugins_zmq_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) -D_GNU_SOURCE -I$(top_srcdir)/core $(ZMQ_CFLAGS)
plugins_zmq_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_zmq_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_zmq_la_LIBADD = $(ZMQ_LIBS)
