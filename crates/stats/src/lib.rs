//! The statistics the NHS uses for early warning and comparison, matched to the NHS's own
//! reference implementations:
//!
//! - [`spc`]: XmR charts to the "Making Data Count" rules, as NHSRplotthedots computes them;
//! - [`funnel`]: funnel plots with Spiegelhalter's over-dispersion adjustment, as FunnelPlotR;
//! - [`proportion`], [`rate`], [`standardise`]: the Fingertips methods of
//!   PHEindicatormethods (Wilson, exact/Byars, DSR with Dobson intervals, ISR);
//! - [`disclosure`]: the small-number suppression and rounding that everything published
//!   below national level passes through.
//!
//! Every function is pure and deterministic: no IO, no threads, no global state.
//!
//! ```
//! use stats::proportion::wilson;
//!
//! let p = wilson(7.0, 10.0, 0.95).unwrap();
//! assert_eq!(p.value, 0.7);
//! assert!((p.lower - 0.396_778_147_461_145).abs() < 1e-12);
//! assert!((p.upper - 0.892_208_732_593_699).abs() < 1e-12);
//! ```

pub mod disclosure;
pub mod dist;
pub mod funnel;
pub mod proportion;
pub mod rate;
pub mod spc;
pub mod standardise;

/// A request the methods cannot answer: the input breaks one of the method's rules.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// No values to work on.
    #[error("{field} is empty")]
    Empty { field: &'static str },
    /// Arrays that must line up have different lengths.
    #[error("{field} has {got} values but {expected_field} has {expected}")]
    Length {
        field: &'static str,
        got: usize,
        expected_field: &'static str,
        expected: usize,
    },
    /// A value outside what the method allows (negative count, zero denominator, NaN, …).
    #[error("{field}[{index}] is {value}: {rule}")]
    Value {
        field: &'static str,
        index: usize,
        value: f64,
        rule: &'static str,
    },
    /// A scalar option outside its range.
    #[error("{field} is {value}: {rule}")]
    Option {
        field: &'static str,
        value: String,
        rule: &'static str,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Checks that `confidence` lies strictly between 0 and 1.
pub(crate) fn check_confidence(confidence: f64) -> Result<()> {
    if confidence > 0.0 && confidence < 1.0 {
        Ok(())
    } else {
        Err(Error::Option {
            field: "confidence",
            value: confidence.to_string(),
            rule: "must lie strictly between 0 and 1",
        })
    }
}

/// Checks that every value of `field` is finite and not negative.
pub(crate) fn check_counts(field: &'static str, values: &[f64]) -> Result<()> {
    for (index, &value) in values.iter().enumerate() {
        if !value.is_finite() || value < 0.0 {
            return Err(Error::Value {
                field,
                index,
                value,
                rule: "must be a finite number, not negative",
            });
        }
    }
    Ok(())
}

/// Checks that every value of `field` is greater than zero.
pub(crate) fn check_positive(field: &'static str, values: &[f64]) -> Result<()> {
    for (index, &value) in values.iter().enumerate() {
        if value.is_nan() || value <= 0.0 {
            return Err(Error::Value {
                field,
                index,
                value,
                rule: "a denominator must be greater than 0",
            });
        }
    }
    Ok(())
}

/// Checks that two arrays line up.
pub(crate) fn check_length(
    field: &'static str,
    got: usize,
    expected_field: &'static str,
    expected: usize,
) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(Error::Length {
            field,
            got,
            expected_field,
            expected,
        })
    }
}
