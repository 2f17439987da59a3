"""Pushes an XCom larger than the test's xcom size limit (tests/unit/test_op_python.c)."""
print("MLFLOWD_XCOM " + '"' + "x" * 4096 + '"')
