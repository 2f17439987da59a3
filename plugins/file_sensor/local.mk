if BUILD_PLUGIN_FILE_SENSOR
plugin_LTLIBRARIES += plugins/file_sensor.la
endif
plugins_file_sensor_la_SOURCES = plugins/file_sensor/file_sensor.c
plugins_file_sensor_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_file_sensor_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_file_sensor_la_LDFLAGS = $(PLUGIN_LDFLAGS)
