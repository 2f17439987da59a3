if BUILD_PLUGIN_DATETIME_SENSOR
plugin_LTLIBRARIES += plugins/datetime_sensor.la
endif
plugins_datetime_sensor_la_SOURCES = plugins/datetime_sensor/datetime_sensor.c plugins/common/wait_until.h
plugins_datetime_sensor_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_datetime_sensor_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_datetime_sensor_la_LDFLAGS = $(PLUGIN_LDFLAGS)
