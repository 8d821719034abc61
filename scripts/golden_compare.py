#!/usr/bin/env python3
"""Golden cases for `valley compare` (src/stats.rs, src/compare.rs).

Computes, with scipy and numpy (and statsmodels for Holm, when installed):

- `wilcoxon`: p-values of `scipy.stats.wilcoxon(d)` with default arguments
  (zero_method="wilcox", correction=False, method="auto") on small and large
  samples, with ties, zeros and +-inf, so that every branch of scipy's "auto"
  rule is exercised: exact distribution, exact sign-flip permutation test
  (n <= 13 with ties or zeros) and normal approximation with tie correction;
- `pairs`: whole compare rows from candidate/baseline values and divergence
  flags under valley's documented rules (a diverged run's metric is the worst
  value, +inf when lower is better; both diverged is a tie): medians
  (`np.median`), the median paired difference, win rate and p-value;
- `holm`: Holm step-down adjusted p-values (statsmodels
  `multipletests(method="holm")`, and the formula by hand as a cross-check);
- `bootstrap`: the percentile bootstrap interval of the median of an odd
  number of distinct values, from the exact bootstrap distribution of the
  resampled median: P(median* <= x_(k)) = P(Binomial(n, k/n) >= (n+1)/2).
  With 10,000 resamples the 2.5 % and 97.5 % sample quantiles fall on one
  data point with overwhelming probability; each case records how many
  Monte-Carlo standard deviations separate the cut from the neighbouring
  data points (only cases with a margin of at least 5 are kept).

Writes tests/fixtures/compare/golden.json. Every float is written as a
string, Python's shortest round-trip repr ("0.1", "inf", "-inf", "nan"), so
that it is read back bit for bit.

Usage (in a virtualenv made from scripts/requirements-golden.txt):

    python3 scripts/golden_compare.py
"""

import json
import math
import os
import platform
import sys

import numpy as np
import scipy
from scipy import stats

try:
    import statsmodels
    from statsmodels.stats.multitest import multipletests
except ImportError:  # the hand formula below is then the only reference
    statsmodels = None

OUT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)),
    "..",
    "tests",
    "fixtures",
    "compare",
    "golden.json",
)

RESAMPLES = 10_000


def num(x):
    # Every float as its shortest round-trip text (repr): Rust's str::parse
    # reads it back exactly, where serde_json's default number parser may be
    # one ulp off.
    return repr(float(x))


def nums(xs):
    return [num(x) for x in xs]


def wilcoxon_p(d):
    d = np.asarray(d, dtype=np.float64)
    if d.size == 0:
        return float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(stats.wilcoxon(d).pvalue)


def scipy_branch(d):
    """Which branch of scipy 1.17's method="auto" applies (for the record)."""
    d = np.asarray(d, dtype=np.float64)
    nz = d[d != 0]
    ties = len(np.unique(np.abs(nz))) < len(nz)
    if d.size > 50:
        return "asymptotic"
    if not ties and not (d == 0).any():
        return "exact"
    if d.size <= 13:
        return "permutation"
    return "asymptotic"


rng = np.random.default_rng(20261129)
wilcoxon_cases = []


def wcase(name, d):
    d = [float(x) for x in d]
    wilcoxon_cases.append(
        {
            "name": name,
            "d": nums(d),
            "branch": scipy_branch(d),
            "p_value": num(wilcoxon_p(d)),
        }
    )
    return wilcoxon_cases[-1]


# Exact distribution: distinct non-zero values, n <= 50.
wcase("n1", [0.3])
wcase("n2_opposite", [0.3, -0.7])
for n, shift in [(5, 0.3), (8, 0.0), (12, 0.5), (20, 0.2), (30, -0.3), (50, 0.1)]:
    wcase(f"exact_n{n}", rng.normal(shift, 1.0, n))
wcase("exact_n16_all_positive", rng.uniform(0.1, 2.0, 16))
wcase("exact_n50_all_negative", -rng.uniform(0.1, 2.0, 50))
wcase("exact_n10_one_inf", list(rng.normal(0.2, 1.0, 9)) + [math.inf])
# Normal approximation without ties: n > 50.
wcase("asymptotic_n51", rng.normal(0.2, 1.0, 51))
wcase("asymptotic_n300", rng.normal(0.05, 1.0, 300))
# Ties or zeros with n <= 13: exact sign-flip permutation test.
wcase("permutation_ties_n9", np.round(rng.normal(0.3, 1.0, 9), 0))
wcase("permutation_zeros_n7", [0.0, 0.0, 1.5, -0.5, 2.5, 3.0, -1.0])
wcase("permutation_ties_zeros_n13", np.round(rng.normal(0.5, 1.0, 13), 0))
wcase("permutation_all_zero_n5", [0.0] * 5)
wcase("permutation_two_inf_n10", list(rng.normal(-0.1, 1.0, 8)) + [math.inf, -math.inf])
# Ties or zeros with 13 < n <= 50: normal approximation with tie correction.
wcase("asymptotic_ties_n14", np.round(rng.normal(0.4, 1.0, 14), 0))
wcase("asymptotic_ties_n40", np.round(rng.normal(0.3, 2.0, 40), 0))
wcase("asymptotic_zeros_n20", [0.0] * 4 + list(rng.normal(0.6, 1.0, 16)))
wcase(
    "asymptotic_inf_n16",
    list(rng.normal(0.3, 1.0, 12)) + [math.inf, math.inf, math.inf, -math.inf],
)
wcase("asymptotic_all_zero_n20", [0.0] * 20)
wcase("asymptotic_ties_n200", np.round(rng.normal(0.1, 1.0, 200), 1))
wcase("asymptotic_tail_n60", np.round(rng.uniform(0.5, 3.0, 60), 0))


# Whole compare rows under valley's rules.
def pair_row(name, cand, base, cand_div, base_div, higher_is_better=False):
    worst = -math.inf if higher_is_better else math.inf
    c = np.array([worst if dv else v for v, dv in zip(cand, cand_div)], dtype=np.float64)
    b = np.array([worst if dv else v for v, dv in zip(base, base_div)], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        d = np.where(np.array(cand_div) & np.array(base_div), 0.0, c - b)
    better = d > 0 if higher_is_better else d < 0
    return {
        "name": name,
        "higher_is_better": higher_is_better,
        "candidate": nums(cand),
        "baseline": nums(base),
        "candidate_diverged": [bool(x) for x in cand_div],
        "baseline_diverged": [bool(x) for x in base_div],
        "median_candidate": num(np.median(c)),
        "median_baseline": num(np.median(b)),
        "median_diff": num(np.median(d)),
        "win_rate": num(np.mean(better)),
        "p_value": num(wilcoxon_p(d)),
    }


pairs = []
n = 16
base = rng.lognormal(-3.0, 1.0, n)
pairs.append(
    pair_row("lower_better_n16", base * rng.uniform(0.5, 1.1, n), base, [False] * n, [False] * n)
)
n = 15
base = rng.normal(1.0, 0.2, n)
cand = base + rng.normal(0.05, 0.1, n)
cdiv = [False] * n
bdiv = [False] * n
cdiv[2] = cdiv[7] = True  # two candidate losses
bdiv[7] = bdiv[11] = True  # pair 7: both diverged, a tie
pairs.append(pair_row("diverged_n15", cand, base, cdiv, bdiv))
n = 24
base = rng.uniform(0.0, 1.0, n)
cand = base + np.round(rng.normal(0.1, 0.2, n), 1)
pairs.append(pair_row("higher_better_ties_n24", cand, base, [False] * n, [False] * n, True))
n = 6
base = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
pairs.append(pair_row("equal_n6", base, base, [False] * n, [False] * n))


# Holm.
def holm_by_hand(p):
    p = np.asarray(p, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adj = np.empty(m)
    running = 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        adj[j] = running
    return adj


holm = []
for p in [
    [0.01, 0.04, 0.03, 0.005],
    [0.2, 0.001, 0.5, 0.03, 0.03, 0.9],
    [0.04],
    [1.0, 0.6, 0.3],
    list(rng.uniform(0, 0.1, 12)),
]:
    by_hand = holm_by_hand(p)
    if statsmodels is not None:
        sm = multipletests(p, method="holm")[1]
        assert np.allclose(sm, by_hand, rtol=1e-15, atol=0), (sm, by_hand)
        ref = sm
    else:
        ref = by_hand
    holm.append({"p": nums(p), "adjusted": nums(ref)})


# Exact bootstrap distribution of the median of an odd sample.
def bootstrap_case(x):
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = len(x)
    assert n % 2 == 1 and len(np.unique(x)) == n
    half = (n + 1) // 2
    # cdf[k-1] = P(median* <= x_(k)), k = 1..n
    cdf = np.array([stats.binom.sf(half - 1, n, k / n) for k in range(1, n + 1)])
    out = {}
    for key, q in [("ci_low", 0.025), ("ci_high", 0.975)]:
        h = (RESAMPLES - 1) * q  # numpy "linear": order statistics floor(h), floor(h)+1
        lo_rank, hi_rank = math.floor(h) + 1, math.floor(h) + 2  # 1-based ranks needed
        # the value is x_(k) when #(median* <= x_(k-1)) < lo_rank and
        # #(median* <= x_(k)) >= hi_rank
        k = int(np.searchsorted(cdf, hi_rank / RESAMPLES))
        sd = math.sqrt(RESAMPLES * q * (1 - q))
        below = (lo_rank - RESAMPLES * (cdf[k - 1] if k > 0 else 0.0)) / sd
        above = (RESAMPLES * cdf[k] - hi_rank) / sd
        out[key] = num(x[k])
        out[key + "_margin_sd"] = float(min(below, above))
    return out


bootstrap = []
tried = 0
while len(bootstrap) < 4 and tried < 200:
    tried += 1
    n = int(rng.choice([9, 11, 15, 21]))
    d = rng.normal(0.1, 1.0, n)
    case = bootstrap_case(d)
    if min(case["ci_low_margin_sd"], case["ci_high_margin_sd"]) >= 5.0:
        bootstrap.append({"d": nums(d), "resamples": RESAMPLES, **case})
assert len(bootstrap) == 4, "not enough well-separated bootstrap cases"

versions = {
    "python": platform.python_version(),
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "statsmodels": statsmodels.__version__ if statsmodels is not None else None,
}
doc = {
    "generated_by": "scripts/golden_compare.py",
    "versions": versions,
    "wilcoxon": wilcoxon_cases,
    "pairs": pairs,
    "holm": holm,
    "bootstrap": bootstrap,
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
print(
    f"{len(wilcoxon_cases)} wilcoxon, {len(pairs)} pair, {len(holm)} holm, "
    f"{len(bootstrap)} bootstrap cases -> {os.path.relpath(OUT)}",
    file=sys.stderr,
)
for c in wilcoxon_cases:
    print(f"  {c['name']:32s} {c['branch']:12s} p = {c['p_value']}", file=sys.stderr)
