# The sqlite hook, the sql operator and sql_sensor; links libsqlite3 (pkg-config sqlite3).
if BUILD_PLUGIN_SQLITE
plugin_LTLIBRARIES += plugins/sqlite.la
endif
plugins_sqlite_la_SOURCES = plugins/sqlite/sqlite.c plugins/sqlite/sqlite_run.c plugins/sqlite/sqlite_run.h
plugins_sqlite_la_CPPFLAGS = $(PLUGIN_CPPFLAGS) $(SQLITE_CFLAGS)
plugins_sqlite_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_sqlite_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_sqlite_la_LIBADD = $(SQLITE_LIBS)
EXTRA_DIST += doc/operators/sqlite.md
