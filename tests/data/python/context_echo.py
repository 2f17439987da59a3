"""Reads the task context from stdin and pushes it back as XComs (tests/unit/test_op_python.c)."""
import json
import os
import sys

ctx = json.load(sys.stdin)
print("hello from", ctx["task_id"])
print("MLFLOWD_XCOM " + json.dumps({"key": "context", "value": ctx}))
print("progress: done", file=sys.stderr)
print("MLFLOWD_XCOM " + json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd(),
                                    "greeting": os.environ.get("GREETING"),
                                    "task_env": os.environ.get("MLFLOWD_CTX_TASK_ID")}))
print("the last line is not an XCom")
