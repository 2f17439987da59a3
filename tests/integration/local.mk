# Integration tests: real mlflowd processes on loopback.
