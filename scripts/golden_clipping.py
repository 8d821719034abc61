#!/usr/bin/env python3
"""Golden cases for gradient clipping from torch.nn.utils (float64, CPU).

Writes tests/fixtures/clipping/golden.json for valley's clipping stage
(issue 12): every case runs the real torch function on one float64 parameter
whose .grad is the input vector, and records what torch leaves in .grad.

- clip_grad_norm_(params, max_norm, norm_type=2.0) with its defaults
  (error_if_nonfinite=False, foreach=None): total_norm = the 2-norm of all
  gradients together; clip_coef = max_norm / (total_norm + 1e-6), clamped to at
  most 1.0 and multiplied into every gradient, whatever its value (so a
  gradient whose norm equals max_norm is still scaled by
  max_norm / (max_norm + 1e-6)). Returns total_norm (before clipping).
- clip_grad_value_(params, clip_value): clamps each coordinate to
  [-clip_value, clip_value] (clamp_min then clamp_max; nan stays nan).

Gradients: d = 1, 3, 10 and 1000; norms below, equal to and above the
threshold; a zero gradient; huge (the sum of squares overflows or nearly does)
and tiny (subnormal squares) values; inf and nan entries; several tensors
clipped together (their norm is global).

Run inside the golden environment (docs/goldens.md):
    python3 scripts/golden_clipping.py
"""

import os

import numpy as np
import torch

from golden_env import dump, enc, versions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "clipping", "golden.json")


def grads_of(params):
    return [[enc(v) for v in p.grad.tolist()] for p in params]


def tensors(parts):
    params = []
    for part in parts:
        p = torch.zeros(len(part), dtype=torch.float64, requires_grad=True)
        p.grad = torch.tensor(part, dtype=torch.float64)
        params.append(p)
    return params


def norm_case(name, parts, max_norm):
    params = tensors(parts)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=2.0)
    total = float(total)
    coef = min(max_norm / (total + 1e-6), 1.0) if total == total else float("nan")
    return {
        "name": name,
        "max_norm": max_norm,
        "grad": [[enc(v) for v in part] for part in parts],
        "total_norm": enc(total),
        "clip_coef": enc(coef),
        "clipped_grad": grads_of(params),
    }


def value_case(name, parts, clip_value):
    params = tensors(parts)
    torch.nn.utils.clip_grad_value_(params, clip_value)
    return {
        "name": name,
        "clip_value": clip_value,
        "grad": [[enc(v) for v in part] for part in parts],
        "clipped_grad": grads_of(params),
    }


def main():
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(20261129)
    g10 = rng.standard_normal(10).tolist()
    g1000 = rng.standard_normal(1000).tolist()
    n10 = float(np.sqrt(np.sum(np.square(g10))))
    n1000 = float(np.sqrt(np.sum(np.square(g1000))))
    inf, nan = float("inf"), float("nan")

    norm = [
        norm_case("d1_below", [[3.0]], 5.0),
        norm_case("d1_equal", [[3.0]], 3.0),
        norm_case("d1_above", [[3.0]], 1.0),
        norm_case("d1_negative_above", [[-3.0]], 1.0),
        norm_case("d3_below", [[3.0, 4.0, 12.0]], 20.0),
        norm_case("d3_equal", [[3.0, 4.0, 12.0]], 13.0),
        # Within 1e-6 above the norm: torch still scales (coef < 1).
        norm_case("d3_just_above_norm", [[3.0, 4.0, 12.0]], 13.0 + 5e-7),
        norm_case("d3_above", [[3.0, 4.0, 12.0]], 1.0),
        norm_case("d10_below", [g10], 2.0 * n10),
        norm_case("d10_above", [g10], 0.5),
        norm_case("d1000_below", [g1000], 100.0),
        norm_case("d1000_above", [g1000], 1.0),
        norm_case("d1000_tiny_max_norm", [g1000], 1e-8),
        norm_case("zero_grad_d3", [[0.0, 0.0, 0.0]], 1.0),
        norm_case("zero_max_norm", [[3.0, 4.0, 12.0]], 0.0),
        norm_case("huge_1e150_d3", [[1e150, -2e150, 3e150]], 1.0),
        # squares overflow to inf: torch's norm returns what it returns (recorded).
        norm_case("huge_1e200_d3", [[1e200, -2e200, 3e200]], 1.0),
        norm_case("max_double_d2", [[1.7976931348623157e308, 1.0]], 1.0),
        norm_case("tiny_1e-160_d3", [[1e-160, -2e-160, 3e-160]], 1.0),
        norm_case("tiny_1e-200_d3", [[1e-200, -2e-200, 3e-200]], 1.0),
        norm_case("subnormal_d2", [[5e-324, -1e-310]], 1.0),
        norm_case("inf_entry_d3", [[1.0, inf, 2.0]], 1.0),
        norm_case("neg_inf_entry_d3", [[1.0, -inf, 2.0]], 1.0),
        norm_case("nan_entry_d3", [[1.0, nan, 2.0]], 1.0),
        norm_case("nan_entry_below_d3", [[1e-3, nan, 1e-3]], 1.0),
        norm_case("two_tensors_global_norm", [[3.0], [4.0, 12.0]], 6.5),
        norm_case("mixed_scales_d4", [[1e-8, 1.0, 1e8, -1e-8]], 10.0),
    ]
    value = [
        value_case("d1_inside", [[0.3]], 0.5),
        value_case("d1_equal", [[0.5]], 0.5),
        value_case("d1_above", [[0.7]], 0.5),
        value_case("d1_below_negative", [[-0.7]], 0.5),
        value_case("d3_mixed", [[-2.0, 0.25, 3.0]], 1.0),
        value_case("d10", [g10], 0.5),
        value_case("d1000", [g1000], 1.0),
        value_case("zero_grad_d3", [[0.0, -0.0, 0.0]], 1.0),
        value_case("signed_zero_clip", [[-0.0, 0.0, 1.0]], 0.0),
        value_case("huge_and_tiny", [[1e300, -1e300, 1e-300, -5e-324]], 1e-100),
        value_case("inf_entries", [[inf, -inf, 0.5]], 1.0),
        value_case("nan_entry", [[nan, 2.0, -2.0]], 1.0),
        value_case("two_tensors", [[3.0], [-4.0, 0.5]], 1.0),
    ]
    out = {
        "generator": "scripts/golden_clipping.py",
        "versions": versions("torch", "numpy"),
        "notes": [
            "Every float is a JSON number or one of the strings \"inf\", \"-inf\", \"nan\".",
            "grad and clipped_grad are lists of tensors (lists of float64); one tensor "
            "unless the case name says otherwise. Clipping treats all tensors together.",
            "clip_grad_norm_(params, max_norm, norm_type=2.0, error_if_nonfinite=False, "
            "foreach=None) on CPU float64: total_norm = ||g||_2 over all tensors "
            "(torch._foreach_norm per tensor, then linalg.vector_norm of the stacked norms); "
            "clip_coef = max_norm / (total_norm + 1e-6); clip_coef_clamped = "
            "clamp(clip_coef, max=1.0); every grad is multiplied by clip_coef_clamped "
            "(also when it is 1.0, also when total_norm is not finite: inf gives coef 0, "
            "nan gives coef nan). The returned total_norm is before clipping.",
            "clip_coef in a case is recomputed here in Python as min(max_norm / "
            "(total_norm + 1e-6), 1.0) from torch's total_norm (nan when total_norm is nan).",
            "A norm equal to max_norm is still scaled, by max_norm / (max_norm + 1e-6).",
            "torch's norm kernel may sum in another order than a sequential loop: compare "
            "total_norm and clipped_grad with a relative tolerance (1e-14 is ample).",
            "clip_grad_value_(params, clip_value, foreach=None): clamp_min(-c) then "
            "clamp_max(c) per element; nan stays nan, +-inf become +-c.",
        ],
        "clip_grad_norm": norm,
        "clip_grad_value": value,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    dump(out, OUT)
    for c in norm:
        print(f"norm  {c['name']:28s} total_norm {c['total_norm']!s:>24} coef {c['clip_coef']}")
    print(f"wrote {len(norm)} + {len(value)} cases to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
