//! The statistics behind the figures: quantiles across seeds, per-step bands
//! and empirical CDFs.
//!
//! Quantiles use linear interpolation between order statistics, numpy's
//! default (`method = "linear"`, Hyndman & Fan 1996 type 7): for the sorted
//! sample x_(0) <= ... <= x_(n-1) and h = (n - 1)·q,
//! Q(q) = x_(floor h) + (h - floor h)·(x_(floor h + 1) - x_(floor h)).
//! The ECDF is F(x) = #{i : x_i <= x} / n where n counts every run, failed
//! (non-finite) ones included, so a curve with failures tops out below 1 as in
//! COCO's runtime-distribution plots (Hansen et al., "COCO: a platform for
//! comparing continuous optimizers in a black-box setting", 2021).

use std::collections::BTreeMap;

/// Quantile `q` in [0, 1] of an already sorted, non-empty, finite sample
/// (numpy `method = "linear"`).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of an empty sample");
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Quantiles of the finite values of `values` (non-finite ones are skipped);
/// `None` when no value is finite.
pub fn quantiles(values: &[f64], qs: &[f64]) -> Option<Vec<f64>> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(qs.iter().map(|&q| quantile_sorted(&v, q)).collect())
}

/// Median and 10–90 % band of one step across seeds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandPoint {
    pub x: f64,
    pub lo: f64,
    pub median: f64,
    pub hi: f64,
    /// How many seeds had a finite value at this step.
    pub count: usize,
}

/// Per-step median and 10 % / 90 % quantiles of several curves
/// `(step, value)`, aligned on the step. Non-finite values are skipped; steps
/// where no curve has a finite value are left out. Sorted by step.
pub fn band<'a>(curves: impl IntoIterator<Item = &'a [(f64, f64)]>) -> Vec<BandPoint> {
    let mut by_step: BTreeMap<u64, (f64, Vec<f64>)> = BTreeMap::new();
    for curve in curves {
        for &(x, y) in curve {
            if x.is_finite() && y.is_finite() {
                by_step
                    .entry(x.to_bits())
                    .or_insert_with(|| (x, Vec::new()))
                    .1
                    .push(y);
            }
        }
    }
    let mut out: Vec<BandPoint> = by_step
        .into_values()
        .filter_map(|(x, ys)| {
            let q = quantiles(&ys, &[0.1, 0.5, 0.9])?;
            Some(BandPoint {
                x,
                lo: q[0],
                median: q[1],
                hi: q[2],
                count: ys.len(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.x.total_cmp(&b.x));
    out
}

/// The points (x_i, F(x_i)) of the empirical CDF of `values`, sorted by x.
/// Non-finite values count in n but get no point (see the module header).
pub fn ecdf(values: &[f64]) -> Vec<(f64, f64)> {
    let n = values.len() as f64;
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        // F is right-continuous: tied values all get the count up to the last tie.
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[i] {
            j += 1;
        }
        for _ in i..=j {
            out.push((v[i], (j + 1) as f64 / n));
        }
        i = j + 1;
    }
    out
}

/// The staircase through ECDF points, for drawing: flat from each point to the
/// next x, starting at height 0.
pub fn ecdf_staircase(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * points.len() + 1);
    let mut level = 0.0;
    for &(x, y) in points {
        if y != level {
            out.push((x, level));
            out.push((x, y));
            level = y;
        }
    }
    out
}

/// Smallest and largest finite (and, with `positive`, > 0) value.
pub fn finite_range(values: impl IntoIterator<Item = f64>, positive: bool) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite() && (!positive || *v > 0.0))
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Whether positive values spanning `lo..=hi` cover at least a decade, so that
/// a log axis reads better.
pub fn spans_decades(lo: f64, hi: f64) -> bool {
    lo > 0.0 && hi / lo >= 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn fixture() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/plots/stats.json"
        );
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn floats(v: &Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }

    #[test]
    fn quantiles_match_numpy_linear() {
        let f = fixture();
        let qs = floats(&f["q"]);
        for case in f["quantiles"].as_array().unwrap() {
            let sample = floats(&case["sample"]);
            let got = quantiles(&sample, &qs).unwrap();
            for (g, want) in got.iter().zip(floats(&case["values"])) {
                assert!(
                    (g - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "{sample:?}: {got:?} vs numpy {want}"
                );
            }
        }
    }

    #[test]
    fn quantiles_by_hand() {
        // n = 4, q = 0.9: h = 2.7, 2.5 + 0.7·(4 - 2.5) = 3.55; median 2.0.
        let q = quantiles(&[0.5, 4.0, 1.5, 2.5, f64::NAN], &[0.5, 0.9]).unwrap();
        assert!((q[0] - 2.0).abs() < 1e-15);
        assert!((q[1] - 3.55).abs() < 1e-12);
        assert_eq!(quantiles(&[f64::INFINITY, f64::NAN], &[0.5]), None);
    }

    #[test]
    fn ecdf_matches_numpy_and_counts_failures() {
        let f = fixture();
        for case in f["ecdf"].as_array().unwrap() {
            let sample: Vec<f64> = case["sample"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().parse().unwrap())
                .collect();
            let got = ecdf(&sample);
            let (xs, ys) = (floats(&case["x"]), floats(&case["y"]));
            assert_eq!(got.len(), xs.len());
            for ((gx, gy), (x, y)) in got.iter().zip(xs.iter().zip(&ys)) {
                assert_eq!(gx, x);
                assert!((gy - y).abs() < 1e-15, "{got:?} vs {ys:?}");
            }
            // Two of the six runs failed: the curve ends at 4/6.
            assert!((got.last().unwrap().1 - 4.0 / 6.0).abs() < 1e-15);
        }
    }

    #[test]
    fn staircase_rises_at_each_distinct_value() {
        let s = ecdf_staircase(&[(1.0, 0.5), (1.0, 0.5), (3.0, 1.0)]);
        assert_eq!(s, vec![(1.0, 0.0), (1.0, 0.5), (3.0, 0.5), (3.0, 1.0)]);
    }

    #[test]
    fn band_aligns_steps_and_skips_non_finite() {
        // Three seeds; at step 0 the values are {1, 2, 3}: median 2, q10 =
        // 1 + 0.2·1 = 1.2, q90 = 2.8. At step 10 one seed is NaN: {4, 8} gives
        // median 6, q10 4.4, q90 7.6. Step 20 only exists in one curve.
        let a = [(0.0, 1.0), (10.0, 4.0), (20.0, 5.0)];
        let b = [(0.0, 3.0), (10.0, f64::NAN)];
        let c = [(0.0, 2.0), (10.0, 8.0)];
        let got = band([&a[..], &b[..], &c[..]]);
        assert_eq!(got.len(), 3);
        let close = |x: f64, y: f64| approx::abs_diff_eq!(x, y, epsilon = 1e-12);
        assert!(close(got[0].lo, 1.2) && close(got[0].median, 2.0) && close(got[0].hi, 2.8));
        assert_eq!(got[0].count, 3);
        assert!(close(got[1].lo, 4.4) && close(got[1].median, 6.0) && close(got[1].hi, 7.6));
        assert_eq!(got[1].count, 2);
        assert_eq!((got[2].x, got[2].median, got[2].count), (20.0, 5.0, 1));
    }

    #[test]
    fn ranges_and_decades() {
        assert_eq!(
            finite_range([0.0, -1.0, 5.0, f64::NAN], true),
            Some((5.0, 5.0))
        );
        assert_eq!(finite_range([0.0, -1.0, 5.0], false), Some((-1.0, 5.0)));
        assert!(spans_decades(0.05, 0.5) && !spans_decades(0.05, 0.4));
    }
}
