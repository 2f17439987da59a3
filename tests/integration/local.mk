# Integration tests: real mlflowd processes (and, later, workers on loopback).
TESTS += tests/integration/cli_basics.sh tests/integration/hello_plugin.sh tests/integration/scheduler_restart.sh
EXTRA_DIST += tests/integration/lib.sh tests/integration/cli_basics.sh tests/integration/hello_plugin.sh \
	tests/integration/scheduler_restart.sh

# the zmq executor and `mlflowd worker` over loopback (doc/protocol.md); they skip (77) while the scheduler
# is not wired to the zmq executor
TESTS += tests/integration/zmq_failover.sh tests/integration/zmq_queues.sh tests/integration/zmq_curve.sh \
	tests/integration/zmq_flood.sh
EXTRA_DIST += tests/integration/zmq_lib.sh tests/integration/zmq_failover.sh tests/integration/zmq_queues.sh \
	tests/integration/zmq_curve.sh tests/integration/zmq_flood.sh
check_PROGRAMS += tests/integration/zmq_flood
tests_integration_zmq_flood_SOURCES = tests/integration/zmq_flood.c
tests_integration_zmq_flood_CFLAGS = $(AM_CFLAGS) $(ZMQ_CFLAGS)
tests_integration_zmq_flood_LDADD = $(ZMQ_LIBS)
