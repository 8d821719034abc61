//! The few vector operations the crate needs on plain slices, in one place.

/// Σ aᵢbᵢ.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// Euclidean norm ‖v‖.
pub fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// Euclidean distance ‖a − b‖.
pub fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q) * (p - q))
        .sum::<f64>()
        .sqrt()
}

/// Whether every element is finite. Branch-free (0·x is ±0 for a finite x
/// and NaN for ±∞ or NaN, and NaN survives the sums), in four independent
/// lanes, so the check vectorises; it runs on the gradient every step.
pub fn all_finite(v: &[f64]) -> bool {
    let mut lanes = [0.0f64; 4];
    let chunks = v.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for (lane, &x) in lanes.iter_mut().zip(c) {
            *lane += x * 0.0;
        }
    }
    let tail: f64 = rest.iter().map(|&x| x * 0.0).sum();
    lanes.iter().sum::<f64>() + tail == 0.0
}

#[cfg(test)]
mod tests {
    use super::all_finite;

    #[test]
    fn all_finite_finds_any_non_finite_element_at_any_position() {
        for n in 0..11 {
            let v: Vec<f64> = (0..n).map(|i| i as f64 * 1e300 - 3.0).collect();
            assert!(all_finite(&v), "n = {n}");
            for k in 0..n {
                for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                    let mut w = v.clone();
                    w[k] = bad;
                    assert!(!all_finite(&w), "n = {n}, k = {k}, {bad}");
                }
            }
        }
        assert!(all_finite(&[f64::MAX, -f64::MAX, f64::MIN_POSITIVE, -0.0]));
    }
}
