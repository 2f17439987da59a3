if BUILD_PLUGIN_TIME_DELTA_SENSOR
plugin_LTLIBRARIES += plugins/time_delta_sensor.la
endif
plugins_time_delta_sensor_la_SOURCES = plugins/time_delta_sensor/time_delta_sensor.c plugins/common/wait_until.h
plugins_time_delta_sensor_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_time_delta_sensor_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_time_delta_sensor_la_LDFLAGS = $(PLUGIN_LDFLAGS)
