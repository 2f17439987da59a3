# The python operator links jansson itself (pkg-config) to decode the JSON of MLFLOWD_XCOM lines: the SDK
# encodes JSON (mlf_value_to_json) but has no decoder.
if BUILD_PLUGIN_PYTHON
plugin_LTLIBRARIES += plugins/python.la
endif
plugins_python_la_SOURCES = plugins/python/python.c plugins/python/xcom_lines.c plugins/python/xcom_lines.h
plugins_python_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) $(JANSSON_CFLAGS)
plugins_python_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_python_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_python_la_LIBADD = $(JANSSON_LIBS)
EXTRA_DIST += doc/operators/python.md
