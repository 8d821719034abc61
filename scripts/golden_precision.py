#!/usr/bin/env python3
"""Golden cases for low precision, loss scaling and parameter groups (issue 14).

Writes tests/fixtures/precision/golden.json with five sections:

- rounding: the rounding used everywhere here, with edge cases. round_to(dt, v)
  for a float64 v is RNE to float32 and then RNE to dt (bf16 via ml_dtypes, f16
  via numpy): what ml_dtypes' astype(bfloat16) from float64 and torch's
  .to(torch.bfloat16 / torch.float16) do (checked below). For f32 it is one
  RNE. The edge cases show where this differs from one correctly rounded step.
- trajectories: SGD (PyTorch momentum form) on f(x) = sum(h_i x_i^2)/2 with the
  master x stored in param_dtype. One step t (lr_t from the case's lr list):
      xe  = x                        (or round_to(compute_dtype, x))
      g   = h * xe                   (float64)
      [grad_dtype: g = float64(round_to(grad_dtype, g * loss_scale)) / loss_scale;
       any non-finite g: the step is skipped, x and buf unchanged]
      buf = g on the first step that is not skipped, else momentum * buf + g
      x   = round_to(param_dtype, x - lr_t * buf)
  all in float64 with one rounding per operation (no fused multiply-add); the
  momentum buffer stays float64. x0 is stored as round_to(param_dtype, x0).
  Every trajectory is computed twice, with the roundings done by numpy and
  ml_dtypes and then by torch's casts, and the two must be identical.
- stochastic_rounding: bf16 neighbours of a few values and the probability of
  rounding to the upper one, for both common definitions.
- grad_scaler: the real torch.amp.GradScaler("cpu") fed fixed raw gradients
  (fp16 gradient = round_to(f16, scale * g)), and driving SGD on f = a x^2/2.
- lambda_lr: torch.optim.lr_scheduler.LambdaLR with one lambda per parameter
  group and torch.optim.SGD(momentum=0.9), float64.

Run inside the golden environment (docs/goldens.md):
    python3 scripts/golden_precision.py
"""

import os
from fractions import Fraction

import ml_dtypes
import numpy as np
import torch

from golden_env import dump, enc, versions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "precision", "golden.json")
STEPS = 200
DTYPES = {
    "bf16": ml_dtypes.bfloat16,
    "f16": np.float16,
    "f32": np.float32,
    "f64": np.float64,
}


def round_to(dt, v):
    """float64 array -> the float64 values of its dt rounding (via float32)."""
    v = np.asarray(v, dtype=np.float64)
    if dt == "f64":
        return v.copy()
    with np.errstate(over="ignore"):
        return v.astype(np.float32).astype(DTYPES[dt]).astype(np.float64)


def round_once(dt, v):
    """One correctly rounded RNE step float64 -> dt, by exact rational arithmetic
    over the neighbours of the via-float32 result (which is at most 1 ulp off)."""
    v = float(v)
    t = DTYPES[dt]
    with np.errstate(over="ignore"):
        c = np.array([v]).astype(np.float32).astype(t)
        if not np.isfinite(v):
            return float(c[0])
        big = np.array([np.inf], dtype=t)
        cands = [c, np.nextafter(c, big), np.nextafter(c, -big)]
    top = np.array([ml_dtypes.finfo(t).max if dt == "bf16" else np.finfo(t).max], dtype=t)
    ulp = float(top[0]) - float(np.nextafter(top, -big)[0])
    threshold = Fraction(float(top[0])) + Fraction(ulp) / 2
    if abs(Fraction(v)) >= threshold:
        return float("inf") if v > 0 else float("-inf")
    best = None
    for a in cands:
        f = float(a[0])
        if not np.isfinite(f):
            continue
        d = abs(Fraction(v) - Fraction(f))
        even = int(a.view(np.uint16)[0]) % 2 == 0
        key = (d, not even)
        if best is None or key < best[0]:
            best = (key, f)
    return best[1]


class Counter:
    """Counts roundings where round_to (via f32) differs from round_once."""

    def __init__(self):
        self.n = 0
        self.differ = 0

    def __call__(self, dt, v):
        r = round_to(dt, v)
        if dt in ("bf16", "f16"):
            for a, b in zip(np.atleast_1d(v), np.atleast_1d(r)):
                self.n += 1
                once = round_once(dt, a)
                if not (once == b or (np.isnan(once) and np.isnan(b))):
                    self.differ += 1
        return r


TORCH_DTYPES = {"bf16": torch.bfloat16, "f16": torch.float16, "f32": torch.float32}


def round_torch(dt, v):
    """round_to done by torch's casts instead of numpy/ml_dtypes (a cross-check)."""
    t = torch.tensor(np.asarray(v, dtype=np.float64))
    if dt == "f64":
        return t.numpy().copy()
    return t.to(TORCH_DTYPES[dt]).double().numpy()


def rounding_section():
    vals = [
        ("bf16", 1 + 2**-8 + 2**-30, "just above a tie; the excess is below float32's ulp"),
        ("bf16", 1 + 2**-8 + 2**-22, "just above a tie; float32 keeps the excess"),
        ("bf16", 1 + 2**-8, "exact tie, rounds to even (1.0)"),
        ("bf16", 1 + 3 * 2**-8, "exact tie, rounds to even (1 + 2^-6)"),
        ("bf16", 1 - 2**-10, "below 1: spacing 2^-8"),
        ("bf16", 0.999, "1 - 0.001: stays 1.0"),
        ("bf16", 0.1, ""),
        ("bf16", -1 / 3, ""),
        ("bf16", 3.3895313892515355e38, "bf16 max"),
        ("bf16", 3.3928e38, "above bf16 max, below the overflow threshold: max"),
        ("bf16", 3.3961775292304957e38, "the overflow threshold (a tie): inf"),
        ("bf16", 3.4e38, "above the overflow threshold: inf"),
        ("bf16", 1e-40, "subnormal"),
        ("bf16", 1e-46, "underflows to 0"),
        ("f16", 1 + 2**-11 + 2**-40, "just above a tie; the excess is below float32's ulp"),
        ("f16", 1 + 2**-11 + 2**-20, "just above a tie; float32 keeps the excess"),
        ("f16", 1 + 2**-11, "exact tie, rounds to even (1.0)"),
        ("f16", 0.999, "1 - 0.001"),
        ("f16", 0.1, ""),
        ("f16", 65504.0, "f16 max"),
        ("f16", 65519.99, "below the overflow threshold 65520"),
        ("f16", 65519.999999999, "below 65520, but float32 rounds it to 65520: inf via float32"),
        ("f16", 65520.0, "overflow threshold (tie, rounds to inf)"),
        ("f16", 1e5, "overflow: inf"),
        ("f16", 1e-7, "subnormal (spacing 2^-24)"),
        ("f16", 2.0**-25, "half the smallest subnormal: tie, rounds to 0"),
        ("f16", 2.0**-25 + 2.0**-60, "just above: smallest subnormal, once; 0 via float32"),
    ]
    cases = []
    for dt, v, note in vals:
        t = torch.tensor([v], dtype=torch.float64)
        via = float(round_to(dt, [v])[0])
        torch_dt = torch.bfloat16 if dt == "bf16" else torch.float16
        via_torch = float(t.to(torch_dt).double()[0])
        assert via_torch == via, (dt, v, via, via_torch)
        cases.append(
            {
                "dtype": dt,
                "value": v,
                "via_f32": enc(via),
                "correctly_rounded": enc(round_once(dt, v)),
                "note": note,
            }
        )
    return {
        "definition": "round_to(dt, v) = RNE_dt(RNE_f32(v)) for v float64 and dt in "
        "{bf16, f16}; RNE_f32(v) for f32. This is ml_dtypes' float64 -> bfloat16 cast "
        "and torch's .to(torch.bfloat16) and .to(torch.float16) from float64 (asserted "
        "for every edge case below). numpy's float64 -> float16 cast rounds once "
        "(correctly_rounded), as does nothing else here. In Rust with the half crate: "
        "bf16::from_f32(v as f32) and f16::from_f32(v as f32). half 2.7's "
        "bf16::from_f64 ignores the low 32 bits of the f64 mantissa, and its "
        "f16::from_f64 goes through f32 only where the CPU has F16C: do not use them.",
        "edge_cases": cases,
    }


def trajectory(name, h, x0, lrs, schedule, momentum, param_dtype, rnd,
               compute_dtype=None, grad_dtype=None, loss_scale=None):
    """One SGD run; rnd(dt, v) is the rounding (round_to, a Counter or round_torch)."""
    h = np.array(h, dtype=np.float64)
    x = rnd(param_dtype, x0)
    x_stored0 = x.copy()
    buf = None
    xs, skipped, underflow = [], [], []
    for lr in lrs:
        xe = x if compute_dtype is None else rnd(compute_dtype, x)
        g = h * xe
        if grad_dtype is not None:
            g = rnd(grad_dtype, g * loss_scale) / loss_scale
        if not np.all(np.isfinite(g)):
            skipped.append(True)
            underflow.append(0.0)
            xs.append([enc(v) for v in x])
            continue
        buf = g.copy() if buf is None else momentum * buf + g
        step = lr * buf
        x_new = rnd(param_dtype, x - step)
        underflow.append(int(np.sum((x_new == x) & (step != 0))) / len(x))
        skipped.append(False)
        x = x_new
        xs.append([enc(v) for v in x])
    stalled = None
    for t in range(len(lrs) - 1, -1, -1):
        if underflow[t] == 1.0 and not skipped[t]:
            stalled = t
        else:
            break
    return {
        "name": name,
        "h": h.tolist(),
        "x0": list(x0),
        "x0_stored": x_stored0.tolist(),
        "momentum": momentum,
        "param_dtype": param_dtype,
        "compute_dtype": compute_dtype,
        "grad_dtype": grad_dtype,
        "loss_scale": loss_scale,
        "schedule": schedule,
        "lr": list(lrs),
        "x": xs,
        "skipped": skipped,
        "update_underflow": underflow,
        "stalled_at": stalled,
    }


def trajectories_section():
    count = Counter()
    cases = []
    const = lambda lr: ([lr] * STEPS, {"kind": "constant", "lr": lr})  # noqa: E731
    step = ([0.01 * 0.5 ** (t // 50) for t in range(STEPS)],
            {"kind": "step", "lr": 0.01, "step_size": 50, "gamma": 0.5})
    # The case: f = x^2/2, x0 = 1, lr = 0.001.
    for dt in ("bf16", "f16", "f32", "f64"):
        lrs, sch = const(0.001)
        cases.append(trajectory(f"issue_x2_lr0.001/{dt}", [1.0], [1.0], lrs, sch, 0.0, dt, count))
    h = [8.0, 1.0, 0.1, 0.01]
    x0 = [1.0, -0.3, 0.1, 2.0]
    schedules = [("const0.1", *const(0.1)), ("const0.01", *const(0.01)),
                 ("const0.001", *const(0.001)), ("step0.01", *step)]
    for sname, lrs, sch in schedules:
        for mu in (0.0, 0.9):
            for dt in ("bf16", "f16", "f32", "f64"):
                cases.append(trajectory(f"quad4/{sname}/mu{mu}/{dt}", h, x0, lrs, sch, mu, dt, count))
    # Mixed precision: f32 master, gradient evaluated at the bf16/f16 copy.
    for sname, lrs, sch in (("const0.01", *const(0.01)), ("step0.01", *step)):
        for cdt in ("bf16", "f16"):
            cases.append(trajectory(f"quad4/{sname}/mu0.9/f32_compute_{cdt}", h, x0, lrs, sch,
                                    0.9, "f32", count, compute_dtype=cdt))
    # fp16 gradients with a static loss scale: tiny gradients go subnormal at
    # scale 1 and stay normal at 1024; at 16384 the first gradient overflows
    # and, the landscape being deterministic, every step is skipped.
    hg = [8.0, 1.0, 1e-4, 1e-7]
    for scale in (1.0, 1024.0, 16384.0):
        cases.append(trajectory(f"quad4g/step0.01/mu0.9/f32_grad_f16_scale{scale:g}", hg, x0,
                                step[0], step[1], 0.9, "f32", count,
                                grad_dtype="f16", loss_scale=scale))
    # The same trajectories with every rounding done by torch: identical.
    for c in cases:
        again = trajectory(c["name"], c["h"], c["x0"], c["lr"], c["schedule"], c["momentum"],
                           c["param_dtype"], round_torch, c["compute_dtype"], c["grad_dtype"],
                           c["loss_scale"])
        assert again == c, c["name"]
    return cases, count


def stochastic_rounding_section():
    vals = [1 + 2**-9, 1 + 3 * 2**-9, 0.999, 0.1, 1 / 3, -0.7, 1e-3, 3.14159, 1.0,
            1 + 2**-8 + 2**-20, -(1 + 2**-9), 5e-39]
    cases = []
    b = ml_dtypes.bfloat16
    for v in vals:
        f = np.float32(v)
        # Bracketing bf16 neighbours of v (exact, by truncation of the f32 pattern
        # toward zero and its successor in magnitude).
        bits = np.array([f], dtype=np.float32).view(np.uint32)[0]
        tz = np.array([bits & 0xFFFF0000], dtype=np.uint32).view(np.float32)[0]
        away = np.array([(bits & 0xFFFF0000) + 0x10000], dtype=np.uint32).view(np.float32)[0]
        low16 = int(bits & 0xFFFF)
        lower, upper = sorted([float(tz), float(away)])
        assert lower <= v <= upper, v
        if float(f) == float(tz):
            lower = upper = float(tz)
        assert float(np.array([lower]).astype(b)[0]) == lower
        assert float(np.array([upper]).astype(b)[0]) == upper
        if lower == upper:
            p_exact = 0.0
            p_bits = 0.0
        else:
            p_exact = float((Fraction(v) - Fraction(lower)) / (Fraction(upper) - Fraction(lower)))
            p_away = low16 / 65536
            p_bits = p_away if v > 0 else 1.0 - p_away
        cases.append(
            {
                "value": v,
                "value_f32": float(f),
                "lower": lower,
                "upper": upper,
                "p_upper_exact": p_exact,
                "p_upper_bits16": p_bits,
            }
        )
    return {
        "definitions": {
            "exact": "SR(v) = upper with probability (v - lower) / (upper - lower), "
            "else lower, where lower <= v <= upper are the adjacent bf16 values of the "
            "float64 v; E[SR(v)] = v.",
            "bits16": "the common hardware form: take the float32 bit pattern of "
            "RNE_f32(v), add 16 uniform random bits to its low half (to the magnitude, "
            "sign apart) and truncate the low 16 bits. P(away from zero) = "
            "(low 16 bits) / 65536; p_upper_bits16 is that probability for v > 0 and "
            "its complement for v < 0. It equals p_upper_exact up to the float32 "
            "rounding of v and the 2^-16 granularity.",
        },
        "test_hint": "with N draws, k uppers: |k/N - p| <= 5 sqrt(p(1-p)/N) fails a "
        "correct implementation with probability < 1e-6 per value.",
        "cases": cases,
        "expectation": "On f = x^2/2, x0 = 1, lr = 0.001, SR in bf16, momentum 0: "
        "x_{t+1} = SR(x_t - lr x_t) and E[SR(v)] = v, so E[x_t] = (1 - lr)^t: the f64 "
        "trajectory issue_x2_lr0.001/f64 of the trajectories section.",
    }


class ReplaySGD(torch.optim.Optimizer):
    """SGD whose update runs in Python floats: buf = g (first step) or
    momentum * buf + g, x = x - lr * buf, one rounding per operation (torch's
    add_(alpha=) may fuse). GradScaler decides whether step() runs."""

    def __init__(self, params, lr, momentum):
        super().__init__(params, {"lr": lr, "momentum": momentum})
        self.ran = 0

    @torch.no_grad()
    def step(self, closure=None):
        self.ran += 1
        for group in self.param_groups:
            lr, mu = group["lr"], group["momentum"]
            for p in group["params"]:
                g = p.grad.tolist()
                st = self.state[p]
                if "buf" not in st:
                    st["buf"] = list(g)
                else:
                    st["buf"] = [mu * b + gi for b, gi in zip(st["buf"], g)]
                p.copy_(torch.tensor([xi - lr * bi for xi, bi in zip(p.tolist(), st["buf"])],
                                     dtype=torch.float64))


def f16(v):
    return float(round_to("f16", [v])[0])


def scaler_fixed(growth_interval, grads):
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = ReplaySGD([p], lr=0.0, momentum=0.0)
    scaler = torch.amp.GradScaler("cpu", growth_interval=growth_interval)
    rows = []
    for g in grads:
        before = scaler.get_scale()
        g16 = f16(before * g)
        scaler.scale(torch.ones(1))  # as scaler.scale(loss).backward(): creates the scale
        p.grad = torch.tensor([g16], dtype=torch.float64)
        ran = opt.ran
        scaler.step(opt)
        scaler.update()
        rows.append({"grad": enc(g), "grad_f16_scaled": enc(g16), "scale_before": before,
                     "skipped": opt.ran == ran, "scale_after": scaler.get_scale()})
    return {
        "init_scale": 2.0**16, "growth_factor": 2.0, "backoff_factor": 0.5,
        "growth_interval": growth_interval, "steps": rows,
    }


def scaler_landscape(a, x0, lr, momentum, growth_interval, steps):
    p = torch.tensor([x0], dtype=torch.float64, requires_grad=True)
    opt = ReplaySGD([p], lr=lr, momentum=momentum)
    scaler = torch.amp.GradScaler("cpu", growth_interval=growth_interval)
    rows = []
    for _ in range(steps):
        x = float(p.detach()[0])
        before = scaler.get_scale()
        g16 = f16(before * (a * x))
        scaler.scale(torch.ones(1))
        p.grad = torch.tensor([g16], dtype=torch.float64)
        ran = opt.ran
        scaler.step(opt)
        scaler.update()
        rows.append({"scale_before": before, "grad_f16_scaled": enc(g16),
                     "skipped": opt.ran == ran, "scale_after": scaler.get_scale(),
                     "x": float(p.detach()[0])})
    return {
        "a": a, "x0": x0, "lr": lr, "momentum": momentum, "init_scale": 2.0**16,
        "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": growth_interval,
        "steps": rows,
    }


def grad_scaler_section():
    inf, nan = float("inf"), float("nan")
    # Raw (unscaled) gradients; the fp16 gradient is round_to(f16, scale * g).
    grads = [0.5, 2.0, 1.0, 0.25, 1e-3, 3.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.5,
             inf, 0.1, 0.1, 0.1, nan, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 1e-9, -4.0,
             -0.2, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05]
    fixed = [scaler_fixed(gi, grads) for gi in (2000, 3)]
    runs = [
        scaler_landscape(4.0, 2.0, 0.05, 0.0, 2000, STEPS),
        scaler_landscape(4.0, 2.0, 0.05, 0.0, 3, STEPS),
        scaler_landscape(4.0, 2.0, 0.05, 0.9, 3, STEPS),
    ]
    return {
        "notes": [
            "torch.amp.GradScaler('cpu', init_scale=2**16, growth_factor=2.0, "
            "backoff_factor=0.5, growth_interval as given) drives each step: p.grad = "
            "grad_f16_scaled (float64 holding the fp16 value), scaler.step(opt), "
            "scaler.update(). scale_before is scaler.get_scale() before the step, "
            "scale_after after update().",
            "grad_f16_scaled = round_to(f16, scale_before * g) (via float32, see "
            "rounding); overflow gives inf and the step is skipped (found_inf): the "
            "scale is multiplied by backoff_factor and the growth tracker reset; after "
            "growth_interval consecutive finite steps the scale is multiplied by "
            "growth_factor.",
            "fixed: the raw gradients g are given (inf and nan among them).",
            "landscape: SGD on f = a x^2/2, g = a * x, float64 master x; unscale is the "
            "multiplication by 1/scale (exact, the scale being a power of two); update "
            "buf = g (first step that runs) or momentum * buf + g, x = x - lr * buf, one "
            "rounding per operation. x is x after the step (unchanged if skipped).",
        ],
        "fixed": fixed,
        "landscape": runs,
    }


def lambda_lr_section():
    h = [4.0, 2.0, 1.0, 0.5, 0.25, 0.125, 3.0, 0.7]
    x0 = [1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 1.5, -0.25]
    groups = [(0, 2), (2, 4), (4, 6), (6, 8)]
    base_lr = 0.1
    lambdas = [lambda t: 0.95**t, lambda t: 1.0 / (1.0 + t / 10.0), lambda t: 0.1,
               lambda t: 0.0]
    params = [torch.tensor(x0[a:b], dtype=torch.float64, requires_grad=True) for a, b in groups]
    hs = [torch.tensor(h[a:b], dtype=torch.float64) for a, b in groups]
    opt = torch.optim.SGD([{"params": [p]} for p in params], lr=base_lr, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambdas)
    lrs, xs = [], []
    for _ in range(50):
        lrs.append([g["lr"] for g in opt.param_groups])
        for p, hh in zip(params, hs):
            p.grad = hh * p.detach()
        opt.step()
        sched.step()
        xs.append([v for p in params for v in p.detach().tolist()])
    return {
        "notes": [
            "torch.optim.SGD(param groups, lr=0.1, momentum=0.9) in float64 on "
            "f = sum(h_i x_i^2)/2, with LambdaLR(opt, [l0, l1, l2, l3]): l0(t) = 0.95**t, "
            "l1(t) = 1/(1 + t/10), l2(t) = 0.1, l3(t) = 0 (a group that never moves).",
            "groups are half-open coordinate ranges; lr[t][k] is group k's lr read from "
            "param_groups before the (t+1)-th optimizer.step(); x[t] is x after it.",
            "torch's p.add_(buf, alpha=-lr) may fuse the multiply-add: compare x with a "
            "relative tolerance (1e-12 is ample on this stable quadratic), lr exactly or "
            "to 1e-15.",
        ],
        "h": h,
        "x0": x0,
        "base_lr": base_lr,
        "momentum": 0.9,
        "groups": [list(g) for g in groups],
        "lambdas": ["0.95**t", "1/(1+t/10)", "0.1", "0"],
        "lr": lrs,
        "x": xs,
    }


def main():
    torch.set_default_dtype(torch.float64)
    rounding = rounding_section()
    trajectories, count = trajectories_section()
    out = {
        "generator": "scripts/golden_precision.py",
        "versions": versions("numpy", "ml_dtypes", "torch"),
        "notes": [
            "Every float is a JSON number or one of the strings \"inf\", \"-inf\", \"nan\".",
            "Steps are 0-based: lr[t] is the lr of update t and x[t] is x after it.",
            "trajectories: see the script's docstring for the exact step; x holds the "
            "float64 values of the stored numbers (exact). update_underflow[t] = the "
            "fraction of coordinates with x[t] == x[t-1] although lr * buf != 0 (0.0 on "
            "a skipped step); stalled_at = the first step from which every step has "
            "update_underflow == 1, else null.",
            f"Of the {count.n} bf16/f16 roundings in the trajectories, {count.differ} "
            "differ between round_to (via float32) and one correctly rounded step, so a "
            "replay matches bit for bit with either when this count is 0.",
        ],
        "rounding": rounding,
        "trajectories": trajectories,
        "stochastic_rounding": stochastic_rounding_section(),
        "grad_scaler": grad_scaler_section(),
        "lambda_lr": lambda_lr_section(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    dump(out, OUT)
    for c in trajectories:
        print(f"{c['name']:44s} x[-1] = {c['x'][-1]}  stalled_at {c['stalled_at']}  "
              f"skipped {sum(c['skipped'])}")
    print(f"double-rounding differences: {count.differ} of {count.n}")
    print(f"wrote {len(trajectories)} trajectories to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
