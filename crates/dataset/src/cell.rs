//! Turning one cell of text into a typed Arrow value.

use crate::schema::{ColType, ColumnSpec, Presence};
use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use std::sync::Arc;

/// Builds one canonical column from text cells.
#[derive(Debug)]
pub(crate) enum Builder {
    Str(StringBuilder),
    Date(Date32Builder),
    Ts(TimestampMillisecondBuilder),
    Bool(BooleanBuilder),
    Int(Int64Builder),
    Float(Float64Builder),
}

impl Builder {
    pub(crate) fn new(ty: ColType, capacity: usize) -> Builder {
        match ty {
            ColType::Code(_)
            | ColType::Id
            | ColType::Text
            | ColType::Enum(_)
            | ColType::Period(_)
            | ColType::Icd10 => Builder::Str(StringBuilder::with_capacity(capacity, capacity * 8)),
            ColType::Date => Builder::Date(Date32Builder::with_capacity(capacity)),
            ColType::Timestamp => Builder::Ts(TimestampMillisecondBuilder::with_capacity(capacity)),
            ColType::Bool => Builder::Bool(BooleanBuilder::with_capacity(capacity)),
            ColType::Int { .. } => Builder::Int(Int64Builder::with_capacity(capacity)),
            ColType::NonNeg | ColType::Amount => Builder::Float(Float64Builder::with_capacity(capacity)),
        }
    }

    pub(crate) fn push_null(&mut self) {
        match self {
            Builder::Str(b) => b.append_null(),
            Builder::Date(b) => b.append_null(),
            Builder::Ts(b) => b.append_null(),
            Builder::Bool(b) => b.append_null(),
            Builder::Int(b) => b.append_null(),
            Builder::Float(b) => b.append_null(),
        }
    }

    /// Appends the value of `text` (already trimmed), or a null and the broken rule.
    pub(crate) fn push_text(&mut self, text: &str, col: &ColumnSpec) -> Result<(), String> {
        let suppressed = col.ty.is_numeric() && text == "*";
        if text.is_empty() || suppressed {
            self.push_null();
            return if col.presence == Presence::Required {
                Err(if suppressed {
                    "suppressed value (*) where a value is required".into()
                } else {
                    "missing value; this column is required".into()
                })
            } else {
                Ok(())
            };
        }
        let parsed = match self {
            Builder::Str(b) => {
                b.append_value(text);
                return Ok(());
            }
            Builder::Date(b) => model::parse_date(text).map(|d| b.append_value(d)).is_ok(),
            Builder::Ts(b) => parse_timestamp(text).map(|t| b.append_value(t * 1_000)).is_some(),
            Builder::Bool(b) => match text {
                "true" => {
                    b.append_value(true);
                    true
                }
                "false" => {
                    b.append_value(false);
                    true
                }
                _ => false,
            },
            Builder::Int(b) => match parse_int(text) {
                Some(v) => {
                    b.append_value(v);
                    true
                }
                None => false,
            },
            Builder::Float(b) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() && !text.starts_with(['+', '.']) && !text.ends_with('.') => {
                    b.append_value(v);
                    true
                }
                _ => false,
            },
        };
        if parsed {
            Ok(())
        } else {
            self.push_null();
            Err(format!("not {}", col.ty.describe()))
        }
    }

    pub(crate) fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::Date(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish()),
            Builder::Bool(b) => Arc::new(b.finish()),
            Builder::Int(b) => Arc::new(b.finish()),
            Builder::Float(b) => Arc::new(b.finish()),
        }
    }
}

/// A whole number written plainly: optional minus sign, digits only.
fn parse_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `YYYY-MM-DDTHH:MM:SS` (local time) as seconds since 1970-01-01T00:00:00.
pub(crate) fn parse_timestamp(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 19 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let day = model::parse_date(&text[..10]).ok()?;
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = &text[r];
        s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
    };
    let (h, m, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(i64::from(day) * 86_400 + h * 3_600 + m * 60 + s)
}

/// Formats seconds since 1970-01-01 as `YYYY-MM-DDTHH:MM:SS`.
pub fn format_timestamp(secs: i64) -> String {
    let day = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}",
        model::format_date(day as i32),
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests;
