if BUILD_PLUGIN_BRANCH
plugin_LTLIBRARIES += plugins/branch.la
endif
plugins_branch_la_SOURCES = plugins/branch/branch.c
plugins_branch_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_branch_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_branch_la_LDFLAGS = $(PLUGIN_LDFLAGS)
