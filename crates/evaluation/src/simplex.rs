//! Exact least squares on the probability simplex: `min ‖A w − b‖²` subject to `w ≥ 0`,
//! `Σ w = 1` — the synthetic-control weight problem (a convex quadratic programme).
//!
//! A primal active-set method: the working set holds the weights fixed at zero; on the free
//! weights the problem with only the sum constraint is solved exactly (the step is the
//! minimum-norm least-squares solution in an orthonormal basis of the sum-zero directions, so a
//! singular Hessian — more donors than fitted rows, duplicated donors — needs no regularising);
//! a step that would make a weight negative stops at it and fixes it at zero; at a stationary
//! point the Lagrange multipliers of the fixed weights decide whether one is released. The
//! answer satisfies the KKT conditions to rounding error, and whether the weights are identified
//! is decided from the rank of the problem on the optimal face.

use crate::linalg::{Mat, RANK_TOL, dot, sum_zero_basis, svd};

/// The solution.
#[derive(Debug, Clone)]
pub struct Solution {
    pub w: Vec<f64>,
    /// `‖A w − b‖²`.
    pub loss: f64,
    /// Whether no other weights reach the same loss.
    pub unique: bool,
    /// Iterations of the active-set loop.
    pub iterations: usize,
}

fn residual(a: &Mat, w: &[f64], b: &[f64]) -> Vec<f64> {
    a.mul_vec(w).iter().zip(b).map(|(p, q)| p - q).collect()
}

/// The columns `idx` of `a`.
fn columns(a: &Mat, idx: &[usize]) -> Mat {
    let mut m = Mat::zeros(a.rows, idx.len());
    for (k, &j) in idx.iter().enumerate() {
        m.col_mut(k).copy_from_slice(a.col(j));
    }
    m
}

/// `a_F · N`, the free columns in the sum-zero basis.
fn reduced(a: &Mat, free: &[usize]) -> (Mat, Mat) {
    let n = sum_zero_basis(free.len());
    let af = columns(a, free);
    let mut m = Mat::zeros(a.rows, n.cols);
    for c in 0..n.cols {
        let col = af.mul_vec(n.col(c));
        m.col_mut(c).copy_from_slice(&col);
    }
    (m, n)
}

/// Solves the problem for `A` (rows × donors) and `b`.
pub fn solve(a: &Mat, b: &[f64]) -> Solution {
    let n = a.cols;
    assert!(n > 0, "at least one donor");
    let scale = a
        .data
        .iter()
        .chain(b)
        .fold(0.0f64, |m, x| m.max(x.abs()))
        .max(1e-300);
    // Start at the best single donor.
    let start = (0..n)
        .map(|j| {
            let r: f64 = a.col(j).iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
            (j, r)
        })
        .min_by(|x, y| x.1.total_cmp(&y.1))
        .map_or(0, |x| x.0);
    let mut w = vec![0.0; n];
    w[start] = 1.0;
    let mut free = vec![start];
    let mut iterations = 0;
    let max_iterations = 50 * n + 200;
    // Whether w is the minimiser on the current face (a full step was just taken).
    let mut at_minimum = false;
    loop {
        iterations += 1;
        // The exact minimiser over the free weights with the sum fixed, as a step from w.
        let (m, basis) = reduced(a, &free);
        let r = residual(a, &w, b);
        let neg_r: Vec<f64> = r.iter().map(|x| -x).collect();
        let step: Vec<f64> = if m.cols == 0 || at_minimum {
            vec![0.0; free.len()]
        } else {
            let z = svd(&m).solve(&neg_r, RANK_TOL);
            basis.mul_vec(&z)
        };
        at_minimum = false;
        let p_norm = step.iter().fold(0.0f64, |x, y| x.max(y.abs()));
        if p_norm <= 1e-14 || iterations > max_iterations {
            // Stationary on the face: the multipliers of the weights held at zero.
            let g = a.tmul_vec(&r);
            let nu = free.iter().map(|&j| g[j]).sum::<f64>() / free.len() as f64;
            let tol = 1e-12 * scale * scale * (a.rows.max(1) as f64);
            let entering = (0..n)
                .filter(|j| !free.contains(j))
                .map(|j| (j, g[j] - nu))
                .filter(|&(_, mu)| mu < -tol)
                .min_by(|x, y| x.1.total_cmp(&y.1));
            match entering {
                Some((j, _)) if iterations <= max_iterations => {
                    free.push(j);
                    free.sort_unstable();
                    continue;
                }
                _ => {
                    let r = residual(a, &w, b);
                    let loss = dot(&r, &r);
                    let degenerate: Vec<usize> = (0..n)
                        .filter(|j| !free.contains(j))
                        .filter(|&j| (g[j] - nu).abs() <= tol.max(1e-9 * g[j].abs().max(nu.abs())))
                        .collect();
                    let unique = identified(a, &free, &degenerate);
                    return Solution {
                        w,
                        loss,
                        unique,
                        iterations,
                    };
                }
            }
        }
        // Step towards the face's minimiser, stopping at the first weight that reaches zero.
        let mut alpha = 1.0;
        let mut blocking = None;
        for (k, &j) in free.iter().enumerate() {
            if step[k] < 0.0 {
                let ratio = w[j] / -step[k];
                if ratio < alpha {
                    alpha = ratio;
                    blocking = Some(j);
                }
            }
        }
        for (k, &j) in free.iter().enumerate() {
            w[j] += alpha * step[k];
        }
        match blocking {
            Some(j) => {
                w[j] = 0.0;
                free.retain(|&x| x != j);
            }
            None => at_minimum = true,
        }
        // Rounding can leave a free weight a hair below zero: fix it at zero too.
        let stray: Vec<usize> = free.iter().copied().filter(|&j| w[j] <= 0.0).collect();
        for j in stray {
            if free.len() > 1 {
                w[j] = 0.0;
                free.retain(|&x| x != j);
                at_minimum = false;
            }
        }
        let total: f64 = w.iter().sum();
        for x in &mut w {
            *x /= total;
        }
    }
}

/// Whether the optimum is unique: no direction `d ≠ 0` with `A d = 0`, `Σ d = 0` among the
/// free weights and those fixed at zero with a zero multiplier (which could enter without
/// changing the loss).
fn identified(a: &Mat, free: &[usize], degenerate: &[usize]) -> bool {
    let mut support: Vec<usize> = free.iter().chain(degenerate).copied().collect();
    support.sort_unstable();
    if support.len() < 2 {
        return true;
    }
    let (m, _) = reduced(a, &support);
    // Relative to the scale of the data, not of this sub-matrix.
    let d = svd(&m);
    let scale = a.data.iter().fold(0.0f64, |x, y| x.max(y.abs())).max(1e-300);
    let cut = 1e-9 * scale;
    d.s.iter().all(|&s| s > cut)
}

/// Among the optimal weights (those giving the fitted vector `f = A w*`), the ones of least
/// Euclidean norm on the optimal face, when they are non-negative (for duplicated donors they
/// split the weight equally); otherwise `w*` itself.
pub fn least_norm_optimal(a: &Mat, w: &[f64], support: &[usize]) -> Vec<f64> {
    let f = a.mul_vec(w);
    let k = support.len();
    let mut m = Mat::zeros(a.rows + 1, k);
    for (c, &j) in support.iter().enumerate() {
        let col = m.col_mut(c);
        col[..a.rows].copy_from_slice(a.col(j));
        col[a.rows] = 1.0;
    }
    let mut rhs = f.clone();
    rhs.push(1.0);
    let x = svd(&m).solve(&rhs, 1e-12);
    if x.iter().any(|&v| v < -1e-12) {
        return w.to_vec();
    }
    let mut out = vec![0.0; w.len()];
    for (c, &j) in support.iter().enumerate() {
        out[j] = x[c].max(0.0);
    }
    let total: f64 = out.iter().sum();
    out.iter_mut().for_each(|v| *v /= total);
    // Keep it only if it reaches the same fit.
    let r0 = residual(a, w, &f);
    let r1 = residual(a, &out, &f);
    if dot(&r1, &r1) <= dot(&r0, &r0) + 1e-18 * (1.0 + dot(&f, &f)) {
        out
    } else {
        w.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(a: &Mat, b: &[f64]) -> f64 {
        // Fine grid over the simplex for three donors.
        let mut best = f64::INFINITY;
        let n = 400;
        for i in 0..=n {
            for j in 0..=n - i {
                let w = [
                    i as f64 / n as f64,
                    j as f64 / n as f64,
                    (n - i - j) as f64 / n as f64,
                ];
                let r = residual(a, &w, b);
                best = best.min(dot(&r, &r));
            }
        }
        best
    }

    #[test]
    fn matches_a_grid_and_kkt() {
        let a = Mat::from_cols(
            &[vec![1.0, 0.0, 2.0], vec![0.0, 1.0, 1.0], vec![2.0, 2.0, 0.0]],
            3,
        );
        for b in [
            [0.5, 0.5, 1.0],
            [3.0, 3.0, 3.0],
            [0.9, 0.2, 1.1],
            [-1.0, 0.0, 0.0],
        ] {
            let s = solve(&a, &b);
            assert!((s.w.iter().sum::<f64>() - 1.0).abs() < 1e-14);
            assert!(s.w.iter().all(|&x| x >= 0.0));
            assert!(s.loss <= brute(&a, &b) + 1e-12, "{b:?}: {} > grid", s.loss);
        }
    }

    #[test]
    fn duplicated_donors_are_not_identified() {
        let a = Mat::from_cols(&[vec![1.0, 2.0], vec![1.0, 2.0], vec![3.0, 1.0]], 2);
        let s = solve(&a, &[2.0, 1.5]);
        assert!(!s.unique);
        let split = least_norm_optimal(&a, &s.w, &[0, 1, 2]);
        assert!((split[0] - split[1]).abs() < 1e-12);
        assert!((split[0] + split[1] - 0.5).abs() < 1e-12);
    }
}
