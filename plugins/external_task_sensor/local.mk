if BUILD_PLUGIN_EXTERNAL_TASK_SENSOR
plugin_LTLIBRARIES += plugins/external_task_sensor.la
endif
plugins_external_task_sensor_la_SOURCES = plugins/external_task_sensor/external_task_sensor.c plugins/common/wait_until.h
plugins_external_task_sensor_la_CPPFLAGS = $(PLUGIN_CPPFLAGS)
plugins_external_task_sensor_la_CFLAGS = $(PLUGIN_CFLAGS)
plugins_external_task_sensor_la_LDFLAGS = $(PLUGIN_LDFLAGS)
