if BUILD_PLUGIN_FS_WATCH
plugin_LTLIBRARIES += plugins/fs_watch.la
endif
plugins_fs_watch_la_SOURCES = plugins/fs_watch/fs_watch.c
plugins_fs_watch_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_fs_watch_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_fs_watch_la_LDFLAGS = $(PLUGIN_LDFLAGS)
