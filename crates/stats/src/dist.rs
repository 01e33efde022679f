//! The distribution functions the methods need, to the precision of R's own: the normal
//! quantile (Wichura's AS 241, as R's `qnorm`), the regularised incomplete gamma function and
//! its inverse (R's `pgamma`/`qgamma`, hence `qchisq`).
//!
//! Written here rather than taken from a crate because the reference vectors are matched to
//! 1e-9 relative and the inverse must be refined to full double precision; `libm` supplies
//! `lgamma`.

/// The standard normal quantile: `x` with `P(Z <= x) = p`, for `0 < p < 1`.
///
/// Wichura (1988), Algorithm AS 241 (PPND16), accurate to about 1 part in 10^16, which is
/// what R's `qnorm` uses.
// The coefficients are written as Wichura published them, a digit or two past f64.
#[allow(clippy::excessive_precision)]
pub fn qnorm(p: f64) -> f64 {
    if p.is_nan() || p <= 0.0 || p >= 1.0 {
        return match p {
            0.0 => f64::NEG_INFINITY,
            1.0 => f64::INFINITY,
            _ => f64::NAN,
        };
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180625 - q * q;
        return q
            * (((((((r * 2509.0809287301227 + 33430.575583588128) * r + 67265.7709270087) * r
                + 45921.95393154987)
                * r
                + 13731.693765509461)
                * r
                + 1971.5909503065513)
                * r
                + 133.14166789178438)
                * r
                + 3.3871328727963665)
            / (((((((r * 5226.495278852545 + 28729.085735721943) * r + 39307.89580009271) * r
                + 21213.794301586597)
                * r
                + 5394.196021424751)
                * r
                + 687.1870074920579)
                * r
                + 42.31333070160091)
                * r
                + 1.0);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let r = (-r.ln()).sqrt();
    let val = if r <= 5.0 {
        let r = r - 1.6;
        (((((((r * 7.745450142783414e-4 + 0.022723844989269184) * r + 0.2417807251774506) * r
            + 1.2704582524523684)
            * r
            + 3.6478483247632045)
            * r
            + 5.769497221460691)
            * r
            + 4.630337846156546)
            * r
            + 1.4234371107496835)
            / (((((((r * 1.0507500716444169e-9 + 5.475938084995345e-4) * r + 0.015198666563616457) * r
                + 0.14810397642748008)
                * r
                + 0.6897673349851)
                * r
                + 1.6763848301838038)
                * r
                + 2.053191626637759)
                * r
                + 1.0)
    } else {
        let r = r - 5.0;
        (((((((r * 2.0103343992922881e-7 + 2.7115555687434876e-5) * r + 0.0012426609473880784) * r
            + 0.026532189526576124)
            * r
            + 0.2965605718285049)
            * r
            + 1.7848265399172913)
            * r
            + 5.463784911164114)
            * r
            + 6.657904643501103)
            / (((((((r * 2.0442631033899397e-15 + 1.421511758316446e-7) * r + 1.8463183175100548e-5) * r
                + 7.868691311456133e-4)
                * r
                + 0.014875361290850615)
                * r
                + 0.1369298809227358)
                * r
                + 0.599832206555888)
                * r
                + 1.0)
    };
    if q < 0.0 { -val } else { val }
}

/// The z value of a two-sided interval at `confidence` (0.95 → 1.959964…).
pub fn z_for(confidence: f64) -> f64 {
    qnorm(confidence + (1.0 - confidence) / 2.0)
}

/// The regularised lower incomplete gamma function P(a, x), and its complement Q(a, x).
///
/// Series for `x < a + 1`, Lentz's continued fraction otherwise, each to full precision.
pub fn gamma_pq(a: f64, x: f64) -> (f64, f64) {
    if x <= 0.0 {
        return (0.0, 1.0);
    }
    if x.is_infinite() {
        return (1.0, 0.0);
    }
    let log_prefix = a * x.ln() - x - libm::lgamma(a);
    if x < a + 1.0 {
        let mut ap = a;
        let mut del = 1.0 / a;
        let mut sum = del;
        for _ in 0..10000 {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-17 {
                break;
            }
        }
        let p = sum * log_prefix.exp();
        (p, 1.0 - p)
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..10000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-17 {
                break;
            }
        }
        let q = (log_prefix.exp()) * h;
        (1.0 - q, q)
    }
}

/// The gamma quantile: `x` with `P(a, x) = p` (`lower`), or `Q(a, x) = p` (not `lower`),
/// for shape `a > 0` and unit scale.
pub fn qgamma(p: f64, a: f64, lower: bool) -> f64 {
    if a.is_nan() || a <= 0.0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let (p_low, p_up) = if lower { (p, 1.0 - p) } else { (1.0 - p, p) };
    if p_low == 0.0 {
        return 0.0;
    }
    if p_up == 0.0 {
        return f64::INFINITY;
    }
    // Wilson–Hilferty start, then safeguarded Newton steps on whichever tail is smaller.
    let z = qnorm(p_low);
    let c = 1.0 / (9.0 * a);
    let mut x = a * (1.0 - c + z * c.sqrt()).powi(3);
    if x.is_nan() || x <= 0.0 || !x.is_finite() {
        x = (p_low * libm::tgamma(a + 1.0)).powf(1.0 / a).max(1e-300);
    }
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    let use_lower = p_low <= p_up;
    for _ in 0..200 {
        let (pl, pu) = gamma_pq(a, x);
        let f = if use_lower { pl - p_low } else { p_up - pu };
        if f > 0.0 {
            hi = hi.min(x);
        } else {
            lo = lo.max(x);
        }
        let density = ((a - 1.0) * x.ln() - x - libm::lgamma(a)).exp();
        let mut next = if density > 0.0 { x - f / density } else { f64::NAN };
        if !(next > lo && next < hi && next.is_finite()) {
            next = if hi.is_finite() { (lo + hi) / 2.0 } else { x * 2.0 };
        }
        if (next - x).abs() <= x.abs() * 4.0 * f64::EPSILON {
            return next;
        }
        x = next;
    }
    x
}

/// The chi-square quantile with `df` degrees of freedom, as R's `qchisq(p, df, lower.tail)`.
pub fn qchisq(p: f64, df: f64, lower: bool) -> f64 {
    2.0 * qgamma(p, df / 2.0, lower)
}

#[cfg(test)]
mod tests;
