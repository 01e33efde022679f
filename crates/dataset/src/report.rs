//! Collecting diagnostics: every one is counted, the first few of each severity are kept.

use model::{Diagnostic, Severity};

/// How many diagnostics of each severity are kept for printing.
pub const DEFAULT_SHOWN: usize = 50;

/// Diagnostics found while loading a dataset.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The first errors, in the order found.
    pub errors: Vec<Diagnostic>,
    pub error_count: u64,
    /// The first warnings, in the order found.
    pub warnings: Vec<Diagnostic>,
    pub warning_count: u64,
    /// Plain notes (unknown files, absent optional tables).
    pub notes: Vec<String>,
    limit: usize,
}

impl Report {
    pub fn new(limit: usize) -> Self {
        Report {
            limit,
            ..Report::default()
        }
    }

    pub fn push(&mut self, d: Diagnostic) {
        let (list, count) = match d.severity {
            Severity::Error => (&mut self.errors, &mut self.error_count),
            Severity::Warning => (&mut self.warnings, &mut self.warning_count),
        };
        *count += 1;
        if list.len() < self.limit {
            list.push(d);
        }
    }

    pub fn has_errors(&self) -> bool {
        self.error_count > 0
    }

    /// Folds another report (from a table validated on another thread) into this one.
    pub fn absorb(&mut self, other: Report) {
        self.error_count += other.error_count;
        self.warning_count += other.warning_count;
        for (mine, theirs) in [
            (&mut self.errors, other.errors),
            (&mut self.warnings, other.warnings),
        ] {
            let room = self.limit.saturating_sub(mine.len());
            mine.extend(theirs.into_iter().take(room));
        }
        self.notes.extend(other.notes);
    }

    /// The errors not shown because of the limit.
    pub fn errors_not_shown(&self) -> u64 {
        self.error_count - self.errors.len() as u64
    }

    pub fn warnings_not_shown(&self) -> u64 {
        self.warning_count - self.warnings.len() as u64
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }
}
