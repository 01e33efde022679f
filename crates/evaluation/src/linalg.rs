//! Small dense linear algebra for the estimators: a singular value decomposition by one-sided
//! Jacobi rotations (accurate to working precision on the small, possibly rank-deficient
//! matrices here: tens of periods by tens or hundreds of units), minimum-norm least squares
//! and the pseudo-inverse of a Gram matrix.
//!
//! Written here rather than taken from a crate: the problems are tiny, the estimators need the
//! rank decisions explicitly (to say when weights are not identified), and a general linear
//! algebra crate would add more to the build than these hundred lines.

/// A dense matrix, column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Mat {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Mat {
    pub fn zeros(rows: usize, cols: usize) -> Mat {
        Mat {
            rows,
            cols,
            data: vec![0.0; rows * cols],
        }
    }

    /// From columns of equal length.
    pub fn from_cols(cols: &[Vec<f64>], rows: usize) -> Mat {
        let mut m = Mat::zeros(rows, cols.len());
        for (j, c) in cols.iter().enumerate() {
            m.col_mut(j).copy_from_slice(&c[..rows]);
        }
        m
    }

    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.data[j * self.rows + i]
    }

    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[j * self.rows + i] = v;
    }

    pub fn col(&self, j: usize) -> &[f64] {
        &self.data[j * self.rows..(j + 1) * self.rows]
    }

    pub fn col_mut(&mut self, j: usize) -> &mut [f64] {
        &mut self.data[j * self.rows..(j + 1) * self.rows]
    }

    /// `self · x`.
    pub fn mul_vec(&self, x: &[f64]) -> Vec<f64> {
        let mut y = vec![0.0; self.rows];
        for (j, &xj) in x.iter().enumerate().take(self.cols) {
            if xj != 0.0 {
                for (yi, a) in y.iter_mut().zip(self.col(j)) {
                    *yi += a * xj;
                }
            }
        }
        y
    }

    /// `selfᵀ · y`.
    pub fn tmul_vec(&self, y: &[f64]) -> Vec<f64> {
        (0..self.cols).map(|j| dot(self.col(j), y)).collect()
    }
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `A = U Σ Vᵀ` with `U` m×n (orthonormal where σ > 0), `Σ` n, `V` n×n.
#[derive(Debug, Clone)]
pub struct Svd {
    pub u: Mat,
    pub s: Vec<f64>,
    pub v: Mat,
}

/// One-sided Jacobi (Hestenes): rotates pairs of columns until every pair is orthogonal.
pub fn svd(a: &Mat) -> Svd {
    let (m, n) = (a.rows, a.cols);
    let mut u = a.clone();
    let mut v = Mat::zeros(n, n);
    for j in 0..n {
        v.set(j, j, 1.0);
    }
    for _sweep in 0..80 {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let (alpha, beta, gamma) = {
                    let (cp, cq) = (u.col(p), u.col(q));
                    (dot(cp, cp), dot(cq, cq), dot(cp, cq))
                };
                if gamma == 0.0 || gamma.abs() <= 1e-15 * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let t = if zeta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                for i in 0..m {
                    let (x, y) = (u.at(i, p), u.at(i, q));
                    u.set(i, p, c * x - s * y);
                    u.set(i, q, s * x + c * y);
                }
                for i in 0..n {
                    let (x, y) = (v.at(i, p), v.at(i, q));
                    v.set(i, p, c * x - s * y);
                    v.set(i, q, s * x + c * y);
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let mut s = vec![0.0; n];
    for (j, sj) in s.iter_mut().enumerate() {
        let norm = dot(u.col(j), u.col(j)).sqrt();
        *sj = norm;
        if norm > 0.0 {
            for x in u.col_mut(j) {
                *x /= norm;
            }
        }
    }
    Svd { u, s, v }
}

impl Svd {
    /// Singular values treated as zero: at or below `rel` times the largest (and exact zeros).
    pub fn cutoff(&self, rel: f64) -> f64 {
        let max = self.s.iter().copied().fold(0.0, f64::max);
        max * rel
    }

    pub fn rank(&self, rel: f64) -> usize {
        let c = self.cutoff(rel);
        self.s.iter().filter(|&&s| s > c && s > 0.0).count()
    }

    /// The minimum-norm least-squares solution of `A x = b`.
    pub fn solve(&self, b: &[f64], rel: f64) -> Vec<f64> {
        let c = self.cutoff(rel);
        let n = self.s.len();
        let mut x = vec![0.0; n];
        for j in 0..n {
            if self.s[j] > c && self.s[j] > 0.0 {
                let coef = dot(self.u.col(j), b) / self.s[j];
                for (xi, vij) in x.iter_mut().zip(self.v.col(j)) {
                    *xi += coef * vij;
                }
            }
        }
        x
    }

    /// `(AᵀA)⁺`, n×n.
    pub fn gram_pinv(&self, rel: f64) -> Mat {
        let c = self.cutoff(rel);
        let n = self.s.len();
        let mut g = Mat::zeros(n, n);
        for k in 0..n {
            if self.s[k] > c && self.s[k] > 0.0 {
                let w = 1.0 / (self.s[k] * self.s[k]);
                let vk = self.v.col(k).to_vec();
                for j in 0..n {
                    for i in 0..n {
                        let x = g.at(i, j) + w * vk[i] * vk[j];
                        g.set(i, j, x);
                    }
                }
            }
        }
        g
    }
}

/// Relative threshold below which a singular value counts as zero.
pub const RANK_TOL: f64 = 1e-10;

/// An orthonormal basis (k × (k−1), columns) of the vectors in `R^k` whose entries sum to 0:
/// columns 2..k of the Householder reflection that maps `e₁` to `1/√k`.
pub fn sum_zero_basis(k: usize) -> Mat {
    let mut n = Mat::zeros(k, k.saturating_sub(1));
    if k < 2 {
        return n;
    }
    let s = 1.0 / (k as f64).sqrt();
    let mut u = vec![s; k];
    u[0] -= 1.0;
    let uu = dot(&u, &u);
    for j in 1..k {
        for i in 0..k {
            let delta = if i == j { 1.0 } else { 0.0 };
            n.set(i, j - 1, delta - 2.0 * u[i] * u[j] / uu);
        }
    }
    n
}

/// Ordinary least squares: coefficients and `(XᵀX)⁺`, with the rank.
pub fn ols(x: &Mat, y: &[f64]) -> (Vec<f64>, Mat, usize) {
    let d = svd(x);
    (d.solve(y, RANK_TOL), d.gram_pinv(RANK_TOL), d.rank(RANK_TOL))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn svd_reconstructs_and_solves() {
        let a = Mat::from_cols(
            &[
                vec![1.0, 2.0, 3.0, 4.0],
                vec![2.0, 0.5, -1.0, 3.0],
                vec![3.0, 2.5, 2.0, 7.0],
            ],
            4,
        );
        let d = svd(&a);
        // The third column is the sum of the first two.
        assert_eq!(d.rank(RANK_TOL), 2);
        for i in 0..4 {
            for j in 0..3 {
                let r: f64 = (0..3).map(|k| d.u.at(i, k) * d.s[k] * d.v.at(j, k)).sum();
                assert!((r - a.at(i, j)).abs() < 1e-12);
            }
        }
        let b = vec![1.0, 0.0, 2.0, 1.0];
        let x = d.solve(&b, RANK_TOL);
        // Normal equations hold, and x has no component along the null vector (1, 1, −1).
        let r: Vec<f64> = a.mul_vec(&x).iter().zip(&b).map(|(p, q)| p - q).collect();
        for g in a.tmul_vec(&r) {
            assert!(g.abs() < 1e-12);
        }
        assert!((x[0] + x[1] - x[2]).abs() < 1e-12);
    }

    #[test]
    fn sum_zero_basis_is_orthonormal() {
        for k in 2..6 {
            let n = sum_zero_basis(k);
            for a in 0..k - 1 {
                assert!(n.col(a).iter().sum::<f64>().abs() < 1e-14);
                for b in 0..k - 1 {
                    let want = if a == b { 1.0 } else { 0.0 };
                    assert!((dot(n.col(a), n.col(b)) - want).abs() < 1e-14);
                }
            }
        }
    }
}
