"""Pushes an XCom, then fails with exit code 3 (tests/unit/test_op_python.c)."""
import sys

print("MLFLOWD_XCOM 1")
print("something went wrong", file=sys.stderr)
sys.exit(3)
