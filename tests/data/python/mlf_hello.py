"""A module run with `python -m mlf_hello` (tests/unit/test_op_python.c)."""
import json

print("MLFLOWD_XCOM " + json.dumps({"key": "module", "value": __name__}))
