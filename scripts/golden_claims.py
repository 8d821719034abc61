#!/usr/bin/env python3
"""Golden cases for the tests of `[[claim]]` tables (src/stats.rs, src/claims.rs).

Computes with scipy:

- `binomtest`: the two-sided p-value of `scipy.stats.binomtest(k, n, 0.5)`,
  the exact McNemar test on k of n discordant pairs (test = "mcnemar");
- `wilcoxon_one_sided`: `scipy.stats.wilcoxon(d, alternative=...)` for
  "greater" and "less", with default arguments otherwise, on samples that
  exercise every branch of scipy's method="auto" (exact distribution,
  sign-flip permutation test with ties or zeros, normal approximation);
- `tost`: the equivalence p-values of test = "equivalence" on relative
  errors e with tolerance tol: p_within = max(W(e + tol, "greater"),
  W(e - tol, "less")) and p_outside = min(1, 2·min(W(e - tol, "greater"),
  W(e + tol, "less"))), W being the one-sided Wilcoxon p-value.

Writes tests/fixtures/claims/golden.json; every float as its shortest
round-trip text, as scripts/golden_compare.py does.

Usage (in a virtualenv made from scripts/requirements-golden.txt):

    python3 scripts/golden_claims.py
"""

import json
import math
import os
import platform

import numpy as np
import scipy
from scipy import stats

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "tests",
    "fixtures",
    "claims",
    "golden.json",
)


def num(x):
    return repr(float(x))


def nums(xs):
    return [num(x) for x in xs]


def w(d, alternative):
    d = np.asarray(d, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(stats.wilcoxon(d, alternative=alternative).pvalue)


rng = np.random.default_rng(20261130)

binom = []
for k, n in [(0, 1), (0, 10), (1, 10), (3, 10), (5, 10), (7, 10), (10, 10),
             (2, 25), (12, 25), (0, 40), (17, 64), (30, 61), (100, 250), (0, 300)]:
    binom.append({"k": k, "n": n, "p_value": num(stats.binomtest(k, n, 0.5).pvalue)})

one_sided = []


def case(name, d):
    d = [float(x) for x in d]
    one_sided.append(
        {"name": name, "d": nums(d), "greater": num(w(d, "greater")), "less": num(w(d, "less"))}
    )


case("exact_n6", rng.normal(0.4, 1.0, 6))
case("exact_n16_positive", rng.uniform(0.1, 2.0, 16))
case("exact_n30", rng.normal(-0.2, 1.0, 30))
case("exact_n50", rng.normal(0.1, 1.0, 50))
case("permutation_ties_n9", np.round(rng.normal(0.5, 1.0, 9), 0))
case("permutation_zeros_n7", [0.0, 0.0, 1.5, -0.5, 2.5, 3.0, -1.0])
case("asymptotic_n64", rng.normal(0.15, 1.0, 64))
case("asymptotic_ties_n32", np.round(rng.normal(0.3, 1.0, 32), 0))

tost = []
for name, e, tol in [
    ("within_n16", rng.normal(0.0, 0.02, 16), 0.05),
    ("outside_high_n16", rng.normal(0.12, 0.02, 16), 0.05),
    ("outside_low_n12", rng.normal(-0.2, 0.03, 12), 0.1),
    ("straddling_n10", rng.normal(0.05, 0.05, 10), 0.05),
]:
    e = [float(x) for x in e]
    up = [x + tol for x in e]
    down = [x - tol for x in e]
    tost.append(
        {
            "name": name,
            "e": nums(e),
            "tolerance": num(tol),
            "p_within": num(max(w(up, "greater"), w(down, "less"))),
            "p_outside": num(min(1.0, 2.0 * min(w(down, "greater"), w(up, "less")))),
        }
    )

doc = {
    "versions": {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    },
    "binomtest": binom,
    "wilcoxon_one_sided": one_sided,
    "tost": tost,
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
print(f"wrote {os.path.normpath(OUT)}")
