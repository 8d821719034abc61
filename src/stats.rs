//! Statistics of paired comparisons and of claims, as in `scipy.stats` (checked against
//! scipy 1.17.1, numpy 2.4.6 and statsmodels 0.15.0 by
//! `scripts/golden_compare.py` → `tests/fixtures/compare/golden.json`, and
//! the one-sided Wilcoxon test, the equivalence test and the binomial test
//! by `scripts/golden_claims.py` → `tests/fixtures/claims/golden.json`).
//!
//! **One-sided Wilcoxon** ([`wilcoxon_one_sided`]): as
//! `scipy.stats.wilcoxon(d, alternative="greater" | "less")`, same branches
//! as the two-sided test: P(T⁺ ≥ t) or P(T⁺ ≤ t) under the exact or the
//! permutation distribution, Φ(−z) or Φ(z) under the normal approximation.
//!
//! **Exact binomial test** ([`binom_test_half`], the exact McNemar test on
//! discordant pairs): as `scipy.stats.binomtest(k, n, 0.5)`, two-sided.
//!
//! **Wilcoxon signed-rank test** ([`wilcoxon`]), two-sided, exactly as
//! `scipy.stats.wilcoxon(d)` with its defaults (`zero_method="wilcox"`,
//! `correction=False`, `method="auto"`; Wilcoxon 1945). Zero differences are
//! dropped; the n remaining |d_i| get average ranks r_i (ties share the mean
//! of their ranks; ±∞ ranks as the largest magnitude), and
//! T⁺ = Σ_{d_i > 0} r_i. scipy 1.17's "auto" rule, with N the number of
//! differences *before* zeros are dropped:
//!
//! - N > 50: normal approximation;
//! - N ≤ 50 with no ties and no zeros: the exact null distribution of T⁺
//!   (each rank positive or negative with probability ½; counts by dynamic
//!   programming over the rank sums), p = 2·min(P(T⁺ ≤ t), P(T⁺ ≥ t)),
//!   capped at 1;
//! - N ≤ 13 with ties or zeros: the exact sign-flip permutation test
//!   (`scipy.stats.permutation_test`, permutation_type="samples", all 2^N
//!   sign patterns since 2^13 < 9999 resamples), same two-sided rule;
//! - otherwise: normal approximation with tie correction, no continuity
//!   correction: z = (T⁺ − n(n+1)/4) / σ,
//!   σ² = [n(n+1)(2n+1) − Σ_g (t_g³ − t_g)/2] / 24 over the tie groups g of
//!   sizes t_g, and p = 2·Φ(−|z|) = erfc(|z|/√2) (Φ via `libm::erfc`, as
//!   scipy's `ndtr` via Cephes).
//!
//! No difference left (every pair a tie) gives p = NaN under the normal
//! approximation, as in scipy.
//!
//! **Holm's step-down adjustment** ([`holm`]; Holm 1979), as statsmodels'
//! `multipletests(method="holm")`: with p sorted ascending,
//! p̃_(i) = min(1, max_{j ≤ i} (m − j + 1)·p_(j)). NaN p-values are left
//! out of m and stay NaN.
//!
//! **Medians and quantiles** come from polars: the median is
//! `quantile(0.5, Midpoint)`, which is `numpy.median` (the mean of the two
//! middle values for even n); quantiles of the bootstrap use
//! `QuantileMethod::Linear`, numpy's default (Hyndman & Fan type 7).
//!
//! **Bootstrap interval** of the median paired difference
//! ([`bootstrap_median_ci`]; Efron & Tibshirani 1993, §13.3, percentile
//! interval): B = 10,000 resamples of the n pairs with replacement; the
//! interval is the 2.5 % and 97.5 % quantiles of the B resampled medians.
//! Draws come from PCG64 MCG (see [`crate::rng`]) seeded with
//! `splitmix64(BOOTSTRAP_SEED ^ fnv1a64(key))`, where `key` names the
//! comparison, and indices from `rand`'s `random_range` (pinned by
//! Cargo.lock): the same data give the same interval on every machine.

use crate::rng::{fnv1a64, splitmix64};
use polars::prelude::*;
use rand::RngExt;
use rand_pcg::Pcg64Mcg;

/// Largest N for which scipy's "auto" uses an exact method.
pub const EXACT_MAX_N: usize = 50;
/// Largest N for which scipy's "auto" runs the exhaustive permutation test
/// when there are ties or zeros.
pub const PERMUTATION_MAX_N: usize = 13;
/// Bootstrap resamples.
pub const RESAMPLES: usize = 10_000;
/// Base seed of every bootstrap (the bytes of "valley-b").
pub const BOOTSTRAP_SEED: u64 = 0x7661_6c6c_6579_2d62;

/// Which null distribution gave the p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Exact,
    Permutation,
    Asymptotic,
}

/// The outcome of a two-sided Wilcoxon signed-rank test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Wilcoxon {
    /// Sum of the ranks of the positive differences.
    pub r_plus: f64,
    /// Sum of the ranks of the negative differences.
    pub r_minus: f64,
    /// Number of non-zero differences.
    pub n: usize,
    pub p_value: f64,
    /// `None` for an empty sample or one with a NaN.
    pub method: Option<Method>,
}

/// Average ranks (1-based) of `|d_i|` over the non-zero, non-NaN
/// differences, in the order of `d` (zeros get rank 0), and the sizes of
/// the tie groups.
fn signed_ranks(d: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..d.len()).filter(|&i| d[i] != 0.0).collect();
    idx.sort_by(|&a, &b| d[a].abs().total_cmp(&d[b].abs()));
    let mut ranks = vec![0.0; d.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && d[idx[j + 1]].abs() == d[idx[i]].abs() {
            j += 1;
        }
        // Ranks i+1 ..= j+1 share their mean.
        let r = (i + j + 2) as f64 / 2.0;
        for &k in &idx[i..=j] {
            ranks[k] = r;
        }
        ties.push(j - i + 1);
        i = j + 1;
    }
    (ranks, ties)
}

/// Two-sided p-value 2·Φ(−|z|).
pub fn normal_two_sided(z: f64) -> f64 {
    libm::erfc(z.abs() * std::f64::consts::FRAC_1_SQRT_2)
}

/// Number of the 2^n sign patterns of ranks 1..n whose positive ranks sum
/// to s, for s = 0 ..= n(n+1)/2.
fn signed_rank_counts(n: usize) -> Vec<u64> {
    let mut c = vec![1u64];
    for k in 1..=n {
        let mut next = vec![0u64; c.len() + k];
        for (s, &v) in c.iter().enumerate() {
            next[s] += v;
            next[s + k] += v;
        }
        c = next;
    }
    c
}

/// `scipy.stats.wilcoxon(d)` with default arguments (see the module header).
pub fn wilcoxon(d: &[f64]) -> Wilcoxon {
    let (mut out, tails) = wilcoxon_tails(d);
    if let Some((le, ge)) = tails {
        out.p_value = match out.method {
            Some(Method::Asymptotic) => {
                let z = asymptotic_z(d);
                normal_two_sided(z)
            }
            _ => (2.0 * le.min(ge)).min(1.0),
        };
    }
    out
}

/// The alternative of a one-sided test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// The differences tend to be positive (large T⁺).
    Greater,
    /// The differences tend to be negative (small T⁺).
    Less,
}

/// `scipy.stats.wilcoxon(d, alternative=...)`: the one-sided p-value under
/// the same "auto" rule as [`wilcoxon`]: P(T⁺ ≥ t) for `Greater`,
/// P(T⁺ ≤ t) for `Less` (exact or permutation), or Φ(∓z) under the normal
/// approximation. NaN for an empty sample or one with a NaN.
pub fn wilcoxon_one_sided(d: &[f64], alternative: Alternative) -> f64 {
    let (out, tails) = wilcoxon_tails(d);
    let Some((le, ge)) = tails else {
        return f64::NAN;
    };
    match (out.method, alternative) {
        (Some(Method::Asymptotic), a) => {
            let z = asymptotic_z(d);
            let z = if a == Alternative::Greater { z } else { -z };
            // Φ(−z) = erfc(z/√2)/2.
            0.5 * libm::erfc(z * std::f64::consts::FRAC_1_SQRT_2)
        }
        (_, Alternative::Greater) => ge.min(1.0),
        (_, Alternative::Less) => le.min(1.0),
    }
}

/// z = (T⁺ − n(n+1)/4)/σ of the normal approximation (module header); NaN
/// when no difference is left.
fn asymptotic_z(d: &[f64]) -> f64 {
    let (ranks, ties) = signed_ranks(d);
    let r_plus: f64 = d
        .iter()
        .zip(&ranks)
        .filter(|(x, _)| **x > 0.0)
        .map(|(_, r)| r)
        .sum();
    let m = d.iter().filter(|x| **x != 0.0).count() as f64;
    let tie_correct: f64 = ties.iter().map(|&t| (t * t * t - t) as f64).sum();
    let mean = m * (m + 1.0) * 0.25;
    let se = ((m * (m + 1.0) * (2.0 * m + 1.0) - tie_correct / 2.0) / 24.0).sqrt();
    (r_plus - mean) / se
}

/// The rank sums and method of [`wilcoxon`], and for the exact and
/// permutation methods the tail probabilities (P(T⁺ ≤ t), P(T⁺ ≥ t));
/// `None` for an empty sample or one with a NaN. Under the normal
/// approximation the tails are placeholders (see [`asymptotic_z`]).
fn wilcoxon_tails(d: &[f64]) -> (Wilcoxon, Option<(f64, f64)>) {
    let (ranks, ties) = signed_ranks(d);
    let r_plus: f64 = d
        .iter()
        .zip(&ranks)
        .filter(|(x, _)| **x > 0.0)
        .map(|(_, r)| r)
        .sum();
    let r_minus: f64 = d
        .iter()
        .zip(&ranks)
        .filter(|(x, _)| **x < 0.0)
        .map(|(_, r)| r)
        .sum();
    let n = d.iter().filter(|x| **x != 0.0).count();
    let mut out = Wilcoxon {
        r_plus,
        r_minus,
        n,
        p_value: f64::NAN,
        method: None,
    };
    if d.is_empty() || d.iter().any(|x| x.is_nan()) {
        return (out, None);
    }
    let has_ties = ties.iter().any(|&t| t > 1);
    let has_zeros = n < d.len();
    let method = if d.len() > EXACT_MAX_N {
        Method::Asymptotic
    } else if !has_ties && !has_zeros {
        Method::Exact
    } else if d.len() <= PERMUTATION_MAX_N {
        Method::Permutation
    } else {
        Method::Asymptotic
    };
    out.method = Some(method);
    let tails = match method {
        Method::Exact => {
            let counts = signed_rank_counts(n);
            let t = r_plus.round() as usize;
            let total = 2f64.powi(n as i32);
            let le: u64 = counts[..=t].iter().sum();
            let ge: u64 = counts[t..].iter().sum();
            (le as f64 / total, ge as f64 / total)
        }
        Method::Permutation => {
            // Doubled ranks are integers; every sign pattern of the non-zero
            // differences (zeros flip to themselves and scale every count
            // alike).
            let r2: Vec<u64> = d
                .iter()
                .zip(&ranks)
                .filter(|(x, _)| **x != 0.0)
                .map(|(_, r)| (2.0 * r).round() as u64)
                .collect();
            let observed = (2.0 * r_plus).round() as u64;
            let (mut le, mut ge) = (0u64, 0u64);
            for mask in 0u32..(1u32 << r2.len()) {
                let s: u64 = r2
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask >> i & 1 == 1)
                    .map(|(_, r)| r)
                    .sum();
                le += u64::from(s <= observed);
                ge += u64::from(s >= observed);
            }
            let total = (1u64 << r2.len()) as f64;
            (le as f64 / total, ge as f64 / total)
        }
        Method::Asymptotic => (f64::NAN, f64::NAN),
    };
    (out, Some(tails))
}

/// The equivalence test of `equivalence` claims on relative errors `e`
/// with tolerance `tol` (two one-sided Wilcoxon tests, Schuirmann 1987):
/// (p_within, p_outside) with
/// p_within = max(W⁺(e + tol), W⁻(e − tol)) (small: the errors lie within
/// ±tol) and p_outside = min(1, 2·min(W⁺(e − tol), W⁻(e + tol))) (small:
/// they lie beyond +tol or below −tol; doubled for the two directions),
/// where W⁺ and W⁻ are [`wilcoxon_one_sided`] with `Greater` and `Less`.
pub fn tost(e: &[f64], tol: f64) -> (f64, f64) {
    let up: Vec<f64> = e.iter().map(|x| x + tol).collect();
    let down: Vec<f64> = e.iter().map(|x| x - tol).collect();
    let within = wilcoxon_one_sided(&up, Alternative::Greater)
        .max(wilcoxon_one_sided(&down, Alternative::Less));
    let outside = (2.0
        * wilcoxon_one_sided(&down, Alternative::Greater)
            .min(wilcoxon_one_sided(&up, Alternative::Less)))
    .min(1.0);
    (within, outside)
}

/// `scipy.stats.binomtest(k, n, 0.5).pvalue` (two-sided): the probability,
/// under Binomial(n, ½), of the outcomes no more likely than k. The
/// distribution is symmetric, so this is min(1, 2·P(X ≤ min(k, n − k))),
/// and 1 when k = n/2. NaN for n = 0 (no discordant pair) or k > n.
pub fn binom_test_half(k: u64, n: u64) -> f64 {
    if n == 0 || k > n {
        return f64::NAN;
    }
    let lo = k.min(n - k);
    if 2 * lo == n {
        return 1.0;
    }
    // P(X = i) = C(n, i)/2^n in logs: ln C(n, i) = lnΓ(n+1) − lnΓ(i+1) − lnΓ(n−i+1).
    let ln_half_n = n as f64 * std::f64::consts::LN_2;
    let ln_n1 = libm::lgamma(n as f64 + 1.0);
    let tail: f64 = (0..=lo)
        .map(|i| {
            (ln_n1 - libm::lgamma(i as f64 + 1.0) - libm::lgamma((n - i) as f64 + 1.0) - ln_half_n)
                .exp()
        })
        .sum();
    (2.0 * tail).min(1.0)
}

/// Holm step-down adjusted p-values, in the order of `p` (see the module
/// header). NaN stays NaN and does not count in m.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let m = order.len();
    let mut out = vec![f64::NAN; p.len()];
    let mut running = 0.0f64;
    for (i, &j) in order.iter().enumerate() {
        running = running.max(((m - i) as f64 * p[j]).min(1.0));
        out[j] = running;
    }
    out
}

fn chunked(values: &[f64]) -> Float64Chunked {
    Float64Chunked::from_slice(PlSmallStr::EMPTY, values)
}

/// `numpy.median` of `values` (polars' midpoint quantile); NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    chunked(values)
        .quantile(0.5, QuantileMethod::Midpoint)
        .ok()
        .flatten()
        .unwrap_or(f64::NAN)
}

/// Quantiles of `values` with numpy's default linear interpolation
/// (polars' `QuantileMethod::Linear`); NaN when empty.
pub fn quantiles(values: &[f64], qs: &[f64]) -> Vec<f64> {
    let ca = chunked(values);
    qs.iter()
        .map(|&q| {
            ca.quantile(q, QuantileMethod::Linear)
                .ok()
                .flatten()
                .unwrap_or(f64::NAN)
        })
        .collect()
}

/// The generator of the bootstrap named `key`.
pub fn bootstrap_rng(key: &str) -> Pcg64Mcg {
    let a = splitmix64(BOOTSTRAP_SEED ^ fnv1a64(key.as_bytes()));
    let b = splitmix64(a);
    Pcg64Mcg::new((u128::from(a) << 64 | u128::from(b)) | 1)
}

/// The 95 % percentile-bootstrap interval of the median of `d` over
/// `resamples` resamples (see the module header); NaN when `d` is empty.
pub fn bootstrap_median_ci(d: &[f64], resamples: usize, key: &str) -> (f64, f64) {
    if d.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = bootstrap_rng(key);
    let mut sample = vec![0.0; d.len()];
    let medians: Vec<f64> = (0..resamples)
        .map(|_| {
            for s in sample.iter_mut() {
                *s = d[rng.random_range(0..d.len())];
            }
            median(&sample)
        })
        .collect();
    let q = quantiles(&medians, &[0.025, 0.975]);
    (q[0], q[1])
}

/// Percentile bootstrap interval of the mean of `d`, drawn exactly as
/// [`bootstrap_median_ci`] (same seeding, same quantiles).
pub fn bootstrap_mean_ci(d: &[f64], resamples: usize, key: &str) -> (f64, f64) {
    if d.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = bootstrap_rng(key);
    let means: Vec<f64> = (0..resamples)
        .map(|_| {
            let sum: f64 = (0..d.len()).map(|_| d[rng.random_range(0..d.len())]).sum();
            sum / d.len() as f64
        })
        .collect();
    let q = quantiles(&means, &[0.025, 0.975]);
    (q[0], q[1])
}

/// Golden values of `scripts/golden_compare.py` (scipy, numpy, statsmodels).
#[cfg(test)]
pub(crate) mod golden {
    use serde_json::Value;

    pub fn fixture() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/compare/golden.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// A float written as its shortest round-trip text (or a plain number).
    pub fn num(v: &Value) -> f64 {
        match v {
            Value::String(s) => s.parse().unwrap(),
            v => v.as_f64().unwrap(),
        }
    }

    pub fn nums(v: &Value) -> Vec<f64> {
        v.as_array().unwrap().iter().map(num).collect()
    }

    /// Equal to 1e-9 relative, NaN equal to NaN.
    pub fn close(got: f64, want: f64) -> bool {
        (got.is_nan() && want.is_nan()) || got == want || (got - want).abs() <= 1e-9 * want.abs()
    }
}

#[cfg(test)]
mod tests {
    use super::golden::{close, fixture, num, nums};
    use super::*;

    #[test]
    fn wilcoxon_matches_scipy() {
        let f = fixture();
        let cases = f["wilcoxon"].as_array().unwrap();
        assert!(cases.len() >= 20);
        for case in cases {
            let d = nums(&case["d"]);
            let want = num(&case["p_value"]);
            let got = wilcoxon(&d);
            assert!(
                close(got.p_value, want),
                "{}: p = {} vs scipy {want}",
                case["name"],
                got.p_value
            );
            let branch = match got.method {
                Some(Method::Exact) => "exact",
                Some(Method::Permutation) => "permutation",
                Some(Method::Asymptotic) => "asymptotic",
                None => "none",
            };
            assert_eq!(branch, case["branch"].as_str().unwrap(), "{}", case["name"]);
        }
    }

    fn claims_fixture() -> serde_json::Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/claims/golden.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn binom_test_matches_scipy_binomtest() {
        let f = claims_fixture();
        let cases = f["binomtest"].as_array().unwrap();
        assert!(cases.len() >= 10);
        for case in cases {
            let (k, n) = (case["k"].as_u64().unwrap(), case["n"].as_u64().unwrap());
            let want = num(&case["p_value"]);
            let got = binom_test_half(k, n);
            assert!(close(got, want), "k = {k}, n = {n}: {got} vs scipy {want}");
        }
        assert!(binom_test_half(0, 0).is_nan());
    }

    #[test]
    fn one_sided_wilcoxon_matches_scipy() {
        let f = claims_fixture();
        for case in f["wilcoxon_one_sided"].as_array().unwrap() {
            let d = nums(&case["d"]);
            for (alt, key) in [
                (Alternative::Greater, "greater"),
                (Alternative::Less, "less"),
            ] {
                let got = wilcoxon_one_sided(&d, alt);
                let want = num(&case[key]);
                assert!(
                    close(got, want),
                    "{} {key}: {got} vs scipy {want}",
                    case["name"]
                );
            }
        }
    }

    #[test]
    fn tost_p_values_match_scipy() {
        let f = claims_fixture();
        for case in f["tost"].as_array().unwrap() {
            let e = nums(&case["e"]);
            let tol = num(&case["tolerance"]);
            let (within, outside) = tost(&e, tol);
            assert!(close(within, num(&case["p_within"])), "{}", case["name"]);
            assert!(close(outside, num(&case["p_outside"])), "{}", case["name"]);
        }
    }

    #[test]
    fn holm_matches_statsmodels() {
        for case in fixture()["holm"].as_array().unwrap() {
            let got = holm(&nums(&case["p"]));
            for (g, w) in got.iter().zip(nums(&case["adjusted"])) {
                assert!(close(*g, w), "{got:?} vs {w}");
            }
        }
    }

    #[test]
    fn median_is_numpy_median() {
        for case in fixture()["pairs"].as_array().unwrap() {
            let c = nums(&case["candidate"]);
            let b = nums(&case["baseline"]);
            let dc: Vec<bool> = case["candidate_diverged"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_bool().unwrap())
                .collect();
            if dc.iter().any(|&x| x) {
                continue; // diverged values are substituted: see compare.rs
            }
            assert_eq!(
                median(&c),
                num(&case["median_candidate"]),
                "{}",
                case["name"]
            );
            assert_eq!(
                median(&b),
                num(&case["median_baseline"]),
                "{}",
                case["name"]
            );
        }
        assert_eq!(median(&[1.0, f64::INFINITY]), f64::INFINITY);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn bootstrap_interval_matches_the_exact_bootstrap_distribution() {
        // The golden script computes the exact distribution of the resampled
        // median (binomial order statistics) and keeps cases where the 2.5 %
        // and 97.5 % quantiles of 10,000 resamples fall on one data point
        // with a margin of at least 5 Monte-Carlo standard deviations.
        let cases = fixture()["bootstrap"].as_array().unwrap().clone();
        assert_eq!(cases.len(), 4);
        for (i, case) in cases.iter().enumerate() {
            let d = nums(&case["d"]);
            let (lo, hi) = bootstrap_median_ci(&d, RESAMPLES, &format!("golden{i}"));
            assert_eq!(lo, num(&case["ci_low"]), "case {i}");
            assert_eq!(hi, num(&case["ci_high"]), "case {i}");
        }
    }

    #[test]
    fn exact_distribution_by_hand() {
        // n = 3: sums of subsets of {1, 2, 3}: 0,1,2,3,3,4,5,6.
        assert_eq!(signed_rank_counts(3), vec![1, 1, 1, 2, 1, 1, 1]);
        // All positive, n = 4: T+ = 10, p = 2/16.
        let w = wilcoxon(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!((w.method, w.p_value), (Some(Method::Exact), 0.125));
    }

    #[test]
    fn ranks_average_ties_and_put_infinity_last() {
        let (r, t) = signed_ranks(&[f64::INFINITY, -1.0, 0.0, 1.0, -f64::INFINITY, 0.5]);
        assert_eq!(r, vec![4.5, 2.5, 0.0, 2.5, 4.5, 1.0]);
        assert_eq!(t, vec![1, 2, 2]);
    }

    #[test]
    fn holm_by_hand() {
        // Sorted 0.01, 0.02, 0.04 with m = 3: 0.03, max(0.03, 0.04), max(.., 0.04).
        let got = holm(&[0.04, 0.01, f64::NAN, 0.02]);
        assert_eq!(got[1], 0.03);
        assert_eq!(got[3], 0.04);
        assert_eq!(got[0], 0.04);
        assert!(got[2].is_nan());
    }

    #[test]
    fn bootstrap_is_deterministic() {
        let d: Vec<f64> = (0..16).map(|i| (i as f64 * 0.37).sin()).collect();
        assert_eq!(
            bootstrap_median_ci(&d, 2000, "a"),
            bootstrap_median_ci(&d, 2000, "a")
        );
    }
}
