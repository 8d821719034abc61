#!/usr/bin/env python3
"""Golden values for expression landscapes and the standard test functions, from sympy.

Writes tests/fixtures/landscapes/expressions.json, read by
src/landscape/expression/tests.rs and src/landscape/functions/tests.rs.

Every function is written here a second time, in sympy, independently of
valley's parser (the valley string is carried along only so that the Rust
test knows what to compile). sympy differentiates symbolically; value,
gradient and Hessian are evaluated with mpmath at 40 digits, and the Hessian's
eigenvalues are mpmath's (eigsy) before rounding to doubles.

- `expressions`: valley strings with their sympy twins at seeded random points.
- `functions`: the test functions of the Virtual Library of Simulation
  Experiments (Surjanovic & Bingham, sfu.ca/~ssurjano) at random points in
  their domains, and their minima refined with mpmath's Newton method
  (findroot on the gradient) from the published (rounded) minimisers.

Run inside the golden environment (docs/goldens.md):
    python3 scripts/golden_expressions.py
"""
import os

import mpmath
import numpy as np
import sympy as sp

from golden_env import dump, versions

mpmath.mp.dps = 40
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "landscapes", "expressions.json")


def xs(d):
    return sp.symbols(f"x0:{d}", real=True)


def smooth(d):
    """Derivatives of abs, max and min off their kinks: the delta terms are
    zero there and the steps are ordinary indicators."""
    d = d.replace(sp.DiracDelta, lambda *a: sp.S(0))
    return d.replace(sp.Heaviside, lambda a, *r: sp.Piecewise((1, a > 0), (0, True)))


def evaluate(expr, syms, point):
    subs = {s: mpmath.mpf(float(v)) for s, v in zip(syms, point)}
    f = sp.lambdify(syms, expr, "mpmath")
    grad = [sp.lambdify(syms, smooth(sp.diff(expr, s)), "mpmath") for s in syms]
    hess = [[sp.lambdify(syms, smooth(sp.diff(expr, a, b)), "mpmath") for b in syms] for a in syms]
    args = [subs[s] for s in syms]
    value = f(*args)
    g = [gi(*args) for gi in grad]
    h = mpmath.matrix([[hij(*args) for hij in row] for row in hess])
    eig = sorted(mpmath.eigsy(h, eigvals_only=True)) if len(syms) > 1 else [h[0, 0]]
    return {
        "x": [float(v) for v in point],
        "value": float(value),
        "gradient": [float(v) for v in g],
        "eigenvalues": [float(v) for v in eig],
    }


def points(rng, d, lo, hi, n=5):
    return rng.uniform(lo, hi, size=(n, d)).tolist()


def expressions(rng):
    out = []

    def case(name, f, d, build, lo, hi, params=None):
        s = xs(d)
        expr = build(s)
        out.append(
            {
                "name": name,
                "f": f,
                "dim": d,
                "params": params or {},
                "points": [evaluate(expr, s, p) for p in points(rng, d, lo, hi)],
            }
        )

    case(
        "rosenbrock_sum",
        "sum(i, 0, d-1, 100*(x[i+1] - x[i]^2)^2 + (1 - x[i])^2)",
        3,
        lambda x: sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(2)),
        -2,
        2,
    )
    case(
        "exp_log_tanh_sqrt",
        "exp(-x0^2/2) * log(1 + x1^2) + tanh(x0*x1) - sqrt(1 + x0^2 + x1^2)",
        2,
        lambda x: sp.exp(-x[0] ** 2 / 2) * sp.log(1 + x[1] ** 2)
        + sp.tanh(x[0] * x[1])
        - sp.sqrt(1 + x[0] ** 2 + x[1] ** 2),
        -2,
        2,
    )
    # Random points are almost surely off the kinks of abs, max and min.
    case(
        "abs_max_min",
        "abs(x0 - 0.3) * x1^2 + max(x0*x1, sin(x1)) + min(cos(x0), x1^3)/3",
        2,
        lambda x: sp.Abs(x[0] - sp.Rational(3, 10)) * x[1] ** 2
        + sp.Max(x[0] * x[1], sp.sin(x[1]))
        + sp.Min(sp.cos(x[0]), x[1] ** 3) / 3,
        -2,
        2,
    )
    case(
        "powers",
        "x0^x1 + 2^x0 + x1^(-1.5) + x0**0.5 + x0^-2",
        2,
        lambda x: x[0] ** x[1] + 2 ** x[0] + x[1] ** sp.Rational(-3, 2) + sp.sqrt(x[0]) + x[0] ** -2,
        0.5,
        2.5,
    )
    case(
        "tan_div_prod",
        "tan(x0/3) / (2 + cos(x1)) - x2 / (1 + x0^2) + prod(i, 0, d, 1 + x[i]^2/10)",
        3,
        lambda x: sp.tan(x[0] / 3) / (2 + sp.cos(x[1]))
        - x[2] / (1 + x[0] ** 2)
        + sp.prod([1 + x[i] ** 2 / 10 for i in range(3)]),
        -2,
        2,
    )
    case(
        "params",
        "a * sum(i, 0, d, (x[i] - b)^2) + c*x0*x3",
        4,
        lambda x: sp.Rational(5, 2) * sum((x[i] - sp.Rational(-3, 4)) ** 2 for i in range(4))
        + sp.Rational(1, 8) * x[0] * x[3],
        -3,
        3,
        params={"a": 2.5, "b": -0.75, "c": 0.125},
    )
    case(
        "nested_sums",
        "sum(i, 0, d, sum(j, 0, d, exp(-(x[i] - x[j])^2) * (i + 1) * (j + 1) / 10)) + x1^4",
        3,
        lambda x: sum(
            sp.exp(-((x[i] - x[j]) ** 2)) * sp.Rational((i + 1) * (j + 1), 10)
            for i in range(3)
            for j in range(3)
        )
        + x[1] ** 4,
        -1.5,
        1.5,
    )
    case(
        "precedence",
        "-x0^2 + 2^3^0.5 * x1 - -x1 * e + pi/x1",
        2,
        lambda x: -(x[0] ** 2) + 2 ** (3 ** sp.Rational(1, 2)) * x[1] + x[1] * sp.E + sp.pi / x[1],
        0.5,
        2,
    )
    return out


def vlse(rng):
    """The test functions as VLSE defines them: (kind, dim, domain, sympy
    builder, published minimisers)."""
    pi = sp.pi
    cases = [
        (
            "rosenbrock",
            4,
            (-2.048, 2.048),
            lambda x: sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (x[i] - 1) ** 2 for i in range(len(x) - 1)),
            [[1, 1, 1, 1]],
        ),
        (
            "himmelblau",
            2,
            (-5, 5),
            lambda x: (x[0] ** 2 + x[1] - 11) ** 2 + (x[0] + x[1] ** 2 - 7) ** 2,
            [[3, 2], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]],
        ),
        (
            "beale",
            2,
            (-4.5, 4.5),
            lambda x: (sp.Rational(3, 2) - x[0] + x[0] * x[1]) ** 2
            + (sp.Rational(9, 4) - x[0] + x[0] * x[1] ** 2) ** 2
            + (sp.Rational(21, 8) - x[0] + x[0] * x[1] ** 3) ** 2,
            [[3, 0.5]],
        ),
        (
            "booth",
            2,
            (-10, 10),
            lambda x: (x[0] + 2 * x[1] - 7) ** 2 + (2 * x[0] + x[1] - 5) ** 2,
            [[1, 3]],
        ),
        (
            "ackley",
            3,
            (-32.768, 32.768),
            lambda x: -20 * sp.exp(-sp.Rational(1, 5) * sp.sqrt(sum(v ** 2 for v in x) / len(x)))
            - sp.exp(sum(sp.cos(2 * pi * v) for v in x) / len(x))
            + 20
            + sp.E,
            [],
        ),
        (
            "styblinski_tang",
            3,
            (-5, 5),
            lambda x: sum(v ** 4 - 16 * v ** 2 + 5 * v for v in x) / 2,
            [[-2.903534] * 3],
        ),
        (
            "six_hump_camel",
            2,
            (-2, 2),
            lambda x: (4 - sp.Rational(21, 10) * x[0] ** 2 + x[0] ** 4 / 3) * x[0] ** 2
            + x[0] * x[1]
            + (-4 + 4 * x[1] ** 2) * x[1] ** 2,
            [[0.0898, -0.7126], [-0.0898, 0.7126]],
        ),
        (
            "goldstein_price",
            2,
            (-2, 2),
            lambda x: (
                1
                + (x[0] + x[1] + 1) ** 2
                * (19 - 14 * x[0] + 3 * x[0] ** 2 - 14 * x[1] + 6 * x[0] * x[1] + 3 * x[1] ** 2)
            )
            * (
                30
                + (2 * x[0] - 3 * x[1]) ** 2
                * (18 - 32 * x[0] + 12 * x[0] ** 2 + 48 * x[1] - 36 * x[0] * x[1] + 27 * x[1] ** 2)
            ),
            [[0, -1]],
        ),
        (
            "levy",
            3,
            (-10, 10),
            lambda x: levy(x),
            [[1, 1, 1]],
        ),
        (
            "griewank",
            3,
            (-600, 600),
            lambda x: sum(v ** 2 for v in x) / 4000
            - sp.prod([sp.cos(x[i] / sp.sqrt(i + 1)) for i in range(len(x))])
            + 1,
            [[0, 0, 0]],
        ),
    ]
    out = []
    for kind, d, (lo, hi), build, published in cases:
        s = xs(d)
        expr = build(s)
        pts = [evaluate(expr, s, p) for p in points(rng, d, lo, hi)]
        grad = [sp.diff(expr, v) for v in s]
        minima = []
        for p in published:
            g = sp.lambdify(s, grad, "mpmath")
            root = mpmath.findroot(lambda *a: g(*a), [mpmath.mpf(v) for v in p])
            root = [root[i] for i in range(d)] if d > 1 else [root]
            minima.append(
                {
                    "published": p,
                    "x": [float(v) for v in root],
                    "value": float(sp.lambdify(s, expr, "mpmath")(*root)),
                }
            )
        out.append({"kind": kind, "dim": d, "points": pts, "minima": minima})
    return out


def levy(x):
    w = [1 + (v - 1) / 4 for v in x]
    d = len(x)
    head = sp.sin(sp.pi * w[0]) ** 2
    mid = sum((w[i] - 1) ** 2 * (1 + 10 * sp.sin(sp.pi * w[i] + 1) ** 2) for i in range(d - 1))
    tail = (w[-1] - 1) ** 2 * (1 + sp.sin(2 * sp.pi * w[-1]) ** 2)
    return head + mid + tail


def main():
    rng = np.random.default_rng(20261208)
    fixture = {
        "versions": versions("sympy", "mpmath", "numpy"),
        "expressions": expressions(rng),
        "functions": vlse(rng),
    }
    dump(fixture, OUT, indent=1)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
