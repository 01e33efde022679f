use std::fmt;

/// How bad a data-quality problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The dataset is refused.
    Error,
    /// The dataset is accepted, and the problem is reported beside it.
    Warning,
}

/// Where in a dataset a problem sits.
///
/// `line` is the line of a CSV file counting the header as line 1, or for Parquet the row
/// number counting the first data row as 1.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub file: String,
    pub line: Option<u64>,
    pub column: Option<String>,
}

impl Location {
    pub fn file(file: impl Into<String>) -> Self {
        Location {
            file: file.into(),
            line: None,
            column: None,
        }
    }

    pub fn line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }

    pub fn column(mut self, column: impl Into<String>) -> Self {
        self.column = Some(column.into());
        self
    }
}

/// One data-quality problem, printed as `file:line:column: value: rule`.
///
/// Parts that do not apply are left out: a missing file prints as `file: rule`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    pub location: Location,
    /// The offending value exactly as read (shown quoted and escaped), if there is one.
    pub value: Option<String>,
    /// The rule that was broken, lowercase, no trailing period.
    pub rule: String,
    pub severity: Severity,
}

/// Values longer than this are shortened when printed.
const MAX_SHOWN_VALUE: usize = 60;

impl Diagnostic {
    pub fn error(location: Location, value: Option<String>, rule: impl Into<String>) -> Self {
        Diagnostic {
            location,
            value,
            rule: rule.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(location: Location, value: Option<String>, rule: impl Into<String>) -> Self {
        Diagnostic {
            location,
            value,
            rule: rule.into(),
            severity: Severity::Warning,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let loc = &self.location;
        f.write_str(&loc.file)?;
        if let Some(line) = loc.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = &loc.column {
            if loc.line.is_none() {
                f.write_str(":")?;
            }
            write!(f, ":{column}")?;
        }
        if let Some(value) = &self.value {
            f.write_str(": ")?;
            write_value(f, value)?;
        }
        write!(f, ": {}", self.rule)
    }
}

/// Writes a value quoted, escaping control characters and cutting it short if long.
fn write_value(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    let mut shown: String = value.chars().take(MAX_SHOWN_VALUE).collect();
    let cut = shown.len() < value.len();
    if cut {
        shown.push('…');
    }
    write!(f, "{shown:?}")?;
    if cut {
        write!(f, " ({} bytes)", value.len())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
