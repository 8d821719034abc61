"""Helpers shared by the golden scripts in scripts/.

- `versions(*modules)`: the interpreter's and each named package's version, the
  `versions` field every fixture carries (scripts/compare_goldens.py ignores it).
- `enc(x)`: a float for JSON. Finite values stay numbers (json writes repr(),
  the shortest string that reads back to the same double); inf, -inf and nan,
  which JSON has no numbers for, become the strings "inf", "-inf" and "nan".
- `dump(obj, path)`: writes strict JSON (allow_nan=False) and a final newline.

Environment: scripts/requirements-golden.txt (see docs/goldens.md).
"""

import importlib
import json
import math
import platform


def versions(*modules):
    out = {"python": platform.python_version()}
    for name in modules:
        out[name] = importlib.import_module(name).__version__
    return out


def enc(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def dump(obj, path, indent=None):
    with open(path, "w") as f:
        json.dump(obj, f, indent=indent, allow_nan=False)
        f.write("\n")
