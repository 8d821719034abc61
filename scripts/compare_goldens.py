#!/usr/bin/env python3
"""Compares rebuilt golden fixtures with the committed ones, numerically.

    python3 scripts/compare_goldens.py COMMITTED_FIXTURES REBUILT_FIXTURES \
        [--rel 1e-12] [--muller-brown OUTPUT RUST_SOURCE]

Walks every *.json under REBUILT_FIXTURES and compares it with the file at the
same relative path under COMMITTED_FIXTURES: same structure, same keys, same
strings and booleans, and numbers equal to a relative tolerance
|a - b| <= rel * max(|a|, |b|) (so a zero must stay exactly zero). Keys named
`versions` are skipped at any depth: they record the environment, not the
result. A file is "identical" when its bytes match, "equal" when only
versions or digits within the tolerance differ; a committed *.json with no
rebuilt counterpart is "MISSING", a rebuilt one with no committed one "NEW".

--muller-brown: the stdout of scripts/muller_brown_points.py and the Rust file
holding its constants; every printed x, y and V must appear there as a
literal, to the same tolerance.

Exit status 0 when everything matches, 1 otherwise (each difference printed).
Standard library only, so it runs with any python3.
"""

import argparse
import json
import math
import os
import re
import sys

IGNORED = {"versions"}
SHOWN = 5


def close(a, b, rel):
    if a == b:
        return True
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return abs(a - b) <= rel * max(abs(a), abs(b))


def diff(a, b, rel, path, out):
    """Appends (path, committed, rebuilt) for every mismatch."""
    if isinstance(a, bool) or isinstance(b, bool):
        if a is not b:
            out.append((path, a, b))
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if not close(a, b, rel):
            out.append((path, a, b))
    elif isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k in IGNORED:
                continue
            if k not in a or k not in b:
                out.append((f"{path}.{k}", a.get(k, "<missing>"), b.get(k, "<missing>")))
            else:
                diff(a[k], b[k], rel, f"{path}.{k}", out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append((f"{path} (length)", len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, rel, f"{path}[{i}]", out)
    elif a != b:
        out.append((path, a, b))


def short(v):
    s = json.dumps(v) if not isinstance(v, str) else v
    return s if len(s) <= 60 else s[:57] + "..."


def compare_trees(committed, rebuilt, rel):
    ok = True
    for dirpath, _, files in sorted(os.walk(rebuilt)):
        for name in sorted(files):
            if not name.endswith(".json"):
                continue
            new = os.path.join(dirpath, name)
            rel_path = os.path.relpath(new, rebuilt)
            old = os.path.join(committed, rel_path)
            if not os.path.exists(old):
                print(f"NEW        {rel_path} (not committed)")
                ok = False
                continue
            with open(old, "rb") as f:
                old_bytes = f.read()
            with open(new, "rb") as f:
                new_bytes = f.read()
            if old_bytes == new_bytes:
                print(f"identical  {rel_path}")
                continue
            out = []
            diff(json.loads(old_bytes), json.loads(new_bytes), rel, "$", out)
            if not out:
                print(f"equal      {rel_path} (versions or digits within rel {rel:g})")
                continue
            ok = False
            print(f"DIFFERS    {rel_path}: {len(out)} difference(s)")
            for p, a, b in out[:SHOWN]:
                print(f"    {p}: committed {short(a)}, rebuilt {short(b)}")
    for dirpath, _, files in sorted(os.walk(committed)):
        for name in sorted(files):
            rel_path = os.path.relpath(os.path.join(dirpath, name), committed)
            if name.endswith(".json") and not os.path.exists(os.path.join(rebuilt, rel_path)):
                print(f"MISSING    {rel_path} (committed, not rebuilt)")
                ok = False
    return ok


def compare_muller_brown(output, source, rel):
    with open(output) as f:
        printed = f.read()
    with open(source) as f:
        literals = [float(m) for m in re.findall(r"-?\d+\.\d+(?:[eE][-+]?\d+)?", f.read())]
    ok = True
    n = 0
    for label, x, y, v in re.findall(
        r"^(\w+): x = (\S+), y = (\S+), V = (\S+),", printed, flags=re.MULTILINE
    ):
        for what, s in (("x", x), ("y", y), ("V", v)):
            n += 1
            want = float(s)
            if not any(close(want, lit, rel) for lit in literals):
                print(f"DIFFERS    {os.path.basename(source)}: {label} {what} = {s} is not in the source")
                ok = False
    if n == 0:
        print(f"DIFFERS    {os.path.basename(output)}: no stationary points printed")
        return False
    if ok:
        print(f"equal      {os.path.basename(source)}: all {n} printed constants present")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("committed")
    ap.add_argument("rebuilt")
    ap.add_argument("--rel", type=float, default=1e-12)
    ap.add_argument("--muller-brown", nargs=2, metavar=("OUTPUT", "RUST_SOURCE"))
    args = ap.parse_args()
    ok = compare_trees(args.committed, args.rebuilt, args.rel)
    if args.muller_brown:
        ok = compare_muller_brown(*args.muller_brown, args.rel) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
