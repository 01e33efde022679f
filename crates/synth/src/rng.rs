//! Deterministic random streams. Every practice, every table and every planted signal draws
//! from its own stream, derived from the seed and fixed labels, so what one practice gets never
//! depends on which thread made it or on what was generated before it.

use rand::SeedableRng;

/// The generator. PCG-64 (MCG variant) is fast, small and specified, so streams are the same
/// on every platform and in every version of `rand_pcg`.
pub type Rng = rand_pcg::Pcg64Mcg;

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Labels of the independent streams.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Lists = 1,
    Practice = 2,
    Calibration = 3,
    Signals = 4,
    Providers = 5,
    Finance = 6,
    Tables = 7,
    Survey = 8,
}

/// The stream for `label` and `index` (a practice's position, or 0).
pub fn stream(seed: u64, label: Stream, index: u64) -> Rng {
    let h = splitmix(splitmix(seed ^ splitmix(label as u64)) ^ index);
    let lo = splitmix(h ^ 0x5851_F42D_4C95_7F2D);
    Rng::from_seed({
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&h.to_le_bytes());
        bytes[8..].copy_from_slice(&lo.to_le_bytes());
        bytes
    })
}

/// A Poisson draw by inversion: activity rates per person are small, and building a
/// `rand_distr::Poisson` for every person would cost more than the draw. Large means fall
/// back to `rand_distr`.
pub fn poisson(rng: &mut Rng, mean: f64) -> u32 {
    use rand::Rng as _;
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        use rand_distr::Distribution;
        return rand_distr::Poisson::new(mean).map_or(0, |d| d.sample(rng) as u32);
    }
    let u: f64 = rng.random();
    let mut p = (-mean).exp();
    let mut cum = p;
    let mut k = 0u32;
    while u > cum && k < 1000 {
        k += 1;
        p *= mean / k as f64;
        cum += p;
    }
    k
}

/// A standard normal draw.
pub fn normal(rng: &mut Rng) -> f64 {
    use rand_distr::{Distribution, StandardNormal};
    StandardNormal.sample(rng)
}

/// A pick from cumulative weights (the last is the total).
pub fn pick(rng: &mut Rng, cumulative: &[f64]) -> usize {
    use rand::Rng as _;
    let total = cumulative.last().copied().unwrap_or(0.0);
    let u = rng.random::<f64>() * total;
    cumulative
        .partition_point(|&c| c <= u)
        .min(cumulative.len().saturating_sub(1))
}

/// Running sums of weights.
pub fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    weights
        .into_iter()
        .map(|w| {
            total += w.max(0.0);
            total
        })
        .collect()
}
