//! Nelder–Mead simplex minimisation for the outer choice of V (a few dimensions; the objective
//! is piecewise smooth, so a derivative-free method is the usual choice, as in Synth and
//! pysyncon).

/// Minimises `f` from `x0`; stops when the simplex's values agree to `ftol` (relative) and its
/// points to `ftol` (relative to the scale of `x0`), or after `max_evals` evaluations.
pub fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], ftol: f64, max_evals: usize) -> (Vec<f64>, f64) {
    let n = x0.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    let mut evals = 0;
    let eval = |x: &[f64], evals: &mut usize| -> f64 {
        *evals += 1;
        let v = f(x);
        if v.is_finite() { v } else { f64::INFINITY }
    };
    simplex.push((x0.to_vec(), eval(x0, &mut evals)));
    for i in 0..n {
        let mut x = x0.to_vec();
        x[i] = if x[i] != 0.0 { x[i] * 1.05 } else { 0.00025 };
        let v = eval(&x, &mut evals);
        simplex.push((x, v));
    }
    let scale = x0.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    while evals < max_evals {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let best = simplex[0].1;
        let worst = simplex[n].1;
        let spread = simplex[1..]
            .iter()
            .flat_map(|(x, _)| x.iter().zip(&simplex[0].0).map(|(a, b)| (a - b).abs()))
            .fold(0.0f64, f64::max);
        if (worst - best).abs() <= ftol * (1.0 + best.abs()) && spread <= ftol.sqrt() * scale {
            break;
        }
        let centroid: Vec<f64> = (0..n)
            .map(|j| simplex[..n].iter().map(|(x, _)| x[j]).sum::<f64>() / n as f64)
            .collect();
        let along = |t: f64| -> Vec<f64> {
            centroid
                .iter()
                .zip(&simplex[n].0)
                .map(|(c, w)| c + t * (c - w))
                .collect()
        };
        let xr = along(1.0);
        let fr = eval(&xr, &mut evals);
        if fr < simplex[0].1 {
            let xe = along(2.0);
            let fe = eval(&xe, &mut evals);
            simplex[n] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (xr, fr);
        } else {
            let (xc, fc) = if fr < worst {
                let x = along(0.5);
                let v = eval(&x, &mut evals);
                (x, v)
            } else {
                let x = along(-0.5);
                let v = eval(&x, &mut evals);
                (x, v)
            };
            if fc < fr.min(worst) {
                simplex[n] = (xc, fc);
            } else {
                let x0 = simplex[0].0.clone();
                for s in simplex.iter_mut().skip(1) {
                    let x: Vec<f64> = s.0.iter().zip(&x0).map(|(a, b)| b + 0.5 * (a - b)).collect();
                    let v = eval(&x, &mut evals);
                    *s = (x, v);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, v) = simplex.swap_remove(0);
    (x, v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_rosenbrock_minimum() {
        let f = |x: &[f64]| (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2);
        let (x, v) = super::nelder_mead(&f, &[-1.2, 1.0], 1e-14, 20000);
        assert!(v < 1e-10, "{v}");
        assert!((x[0] - 1.0).abs() < 1e-4 && (x[1] - 1.0).abs() < 1e-4);
    }
}
