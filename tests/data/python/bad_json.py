"""Writes an XCom line that is not JSON, then a good one (tests/unit/test_op_python.c)."""
print("working")
print('MLFLOWD_XCOM {"key": oops}')
print("MLFLOWD_XCOM 5")
