//! Statistical disclosure control: what may be published of counts derived from
//! patient-level data (NHS Digital's HES/ECDS method since 2018, as OpenSAFELY applies it).
//!
//! Below national level, by default:
//!
//! - a count of 0 stays 0, a count of 1–7 is suppressed, any other count is rounded to the
//!   nearest 5;
//! - totals are computed from the unrounded values and then rounded on their own, and a
//!   total that would let a suppressed cell be recovered by subtraction triggers the
//!   suppression of the next-smallest cell of that row or column (secondary suppression);
//! - percentages and crude rates are computed from the unrounded numerator and denominator
//!   and suppressed when either is 1–7; means, medians and other summaries of people are
//!   suppressed when based on 1–7 people;
//! - standardised rates and ratios, confidence intervals, model outputs and counts that are
//!   not of people (providers, beds, WTE, money) are exempt: they need no call here.
//!
//! National figures are shown as they are. [`Rounding::Midpoint6`] is the alternative for
//! small-number series: `0 → 0`, otherwise `ceil(x/6)·6 − 3`, with nothing suppressed.
//! All thresholds are fields of [`Policy`], whose [`Default`] is the rule above.

/// Where a figure is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// England as a whole: exempt.
    National,
    /// A region, system, commissioner, provider or anything smaller.
    Subnational,
}

/// How publishable counts are rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Suppress small counts, round the rest to the nearest multiple of `Policy::base`.
    Nearest,
    /// "Midpoint 6": `0 → 0`, otherwise `ceil(x/6)·6 − 3`; nothing suppressed.
    Midpoint6,
}

impl Rounding {
    /// The label published beside figures rounded this way.
    pub fn label(self, policy: &Policy) -> String {
        match self {
            Rounding::Nearest => format!(
                "counts of {}-{} suppressed, others rounded to the nearest {}",
                policy.suppress_from, policy.suppress_to, policy.base
            ),
            Rounding::Midpoint6 => "counts rounded to midpoint 6".into(),
        }
    }
}

/// The disclosure-control rules in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The smallest count that is suppressed (1).
    pub suppress_from: u64,
    /// The largest count that is suppressed (7).
    pub suppress_to: u64,
    /// Publishable counts are rounded to a multiple of this (5).
    pub base: u64,
    pub rounding: Rounding,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            suppress_from: 1,
            suppress_to: 7,
            base: 5,
            rounding: Rounding::Nearest,
        }
    }
}

/// A published figure: a value or a suppression mark (`*` in CSV, `null` with
/// `"suppressed": true` in JSON).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<T> {
    Value(T),
    Suppressed,
}

impl<T: std::fmt::Display> Cell<T> {
    /// The CSV spelling: the value, or `*`.
    pub fn csv(&self) -> String {
        match self {
            Cell::Value(v) => v.to_string(),
            Cell::Suppressed => "*".into(),
        }
    }
}

impl<T: Copy> Cell<T> {
    /// The value, if published.
    pub fn value(&self) -> Option<T> {
        match self {
            Cell::Value(v) => Some(*v),
            Cell::Suppressed => None,
        }
    }

    pub fn is_suppressed(&self) -> bool {
        matches!(self, Cell::Suppressed)
    }
}

impl Policy {
    /// Whether `n` is a small count that must not be shown.
    pub fn is_small(&self, n: u64) -> bool {
        (self.suppress_from..=self.suppress_to).contains(&n)
    }

    fn small_applies(&self, n: u64, level: Level) -> bool {
        level == Level::Subnational && self.rounding == Rounding::Nearest && self.is_small(n)
    }

    /// Rounds a publishable count.
    fn round(&self, n: u64) -> u64 {
        match self.rounding {
            Rounding::Nearest if self.base > 1 => (n + self.base / 2) / self.base * self.base,
            Rounding::Nearest => n,
            Rounding::Midpoint6 if n == 0 => 0,
            Rounding::Midpoint6 => n.div_ceil(6) * 6 - 3,
        }
    }

    /// A count of people or events.
    pub fn count(&self, n: u64, level: Level) -> Cell<u64> {
        match level {
            Level::National => Cell::Value(n),
            Level::Subnational if self.small_applies(n, level) => Cell::Suppressed,
            Level::Subnational => Cell::Value(self.round(n)),
        }
    }

    /// A percentage or crude rate `value`, computed from the unrounded `numerator` and
    /// `denominator`: suppressed when either is a small count.
    pub fn ratio(&self, numerator: u64, denominator: u64, value: f64, level: Level) -> Cell<f64> {
        if self.small_applies(numerator, level) || self.small_applies(denominator, level) {
            Cell::Suppressed
        } else {
            Cell::Value(value)
        }
    }

    /// A mean, median or other simple summary `value` of `people` people.
    pub fn summary(&self, people: u64, value: f64, level: Level) -> Cell<f64> {
        if self.small_applies(people, level) {
            Cell::Suppressed
        } else {
            Cell::Value(value)
        }
    }

    /// A two-way table of counts with its row, column and grand totals, with primary and
    /// secondary suppression. `cells` is row-major; every row must have the same length.
    pub fn table(&self, cells: &[Vec<u64>], level: Level) -> Table {
        let rows = cells.len();
        let cols = cells.first().map_or(0, Vec::len);
        let row_totals: Vec<u64> = cells.iter().map(|r| r.iter().sum()).collect();
        let col_totals: Vec<u64> = (0..cols)
            .map(|c| cells.iter().map(|r| r.get(c).copied().unwrap_or(0)).sum())
            .collect();
        let grand: u64 = row_totals.iter().sum();

        let mut hidden: Vec<Vec<bool>> = cells
            .iter()
            .map(|r| r.iter().map(|&n| self.small_applies(n, level)).collect())
            .collect();
        let mut row_hidden: Vec<bool> = row_totals.iter().map(|&n| self.small_applies(n, level)).collect();
        let mut col_hidden: Vec<bool> = col_totals.iter().map(|&n| self.small_applies(n, level)).collect();
        let mut grand_hidden = self.small_applies(grand, level);

        if level == Level::Subnational && self.rounding == Rounding::Nearest {
            // Each published total with its parts: hide a second part wherever exactly one
            // is hidden, until nothing changes.
            loop {
                let mut changed = false;
                for r in 0..rows {
                    let line = cells[r].iter().copied().zip(hidden[r].iter_mut()).collect();
                    changed |= protect(&mut row_hidden[r], line);
                }
                for c in 0..cols {
                    let line = cells
                        .iter()
                        .zip(hidden.iter_mut())
                        .map(|(row, h)| (row[c], &mut h[c]))
                        .collect();
                    changed |= protect(&mut col_hidden[c], line);
                }
                changed |= protect(
                    &mut grand_hidden,
                    row_totals.iter().copied().zip(row_hidden.iter_mut()).collect(),
                );
                changed |= protect(
                    &mut grand_hidden,
                    col_totals.iter().copied().zip(col_hidden.iter_mut()).collect(),
                );
                if !changed {
                    break;
                }
            }
        }

        let publish = |n: u64, hide: bool| {
            if hide {
                Cell::Suppressed
            } else {
                match level {
                    Level::National => Cell::Value(n),
                    Level::Subnational => Cell::Value(self.round(n)),
                }
            }
        };
        Table {
            cells: cells
                .iter()
                .zip(&hidden)
                .map(|(r, h)| r.iter().zip(h).map(|(&n, &x)| publish(n, x)).collect())
                .collect(),
            row_totals: row_totals
                .iter()
                .zip(&row_hidden)
                .map(|(&n, &x)| publish(n, x))
                .collect(),
            col_totals: col_totals
                .iter()
                .zip(&col_hidden)
                .map(|(&n, &x)| publish(n, x))
                .collect(),
            grand_total: publish(grand, grand_hidden),
        }
    }
}

/// Secondary suppression along one line whose total is published: if exactly one part is
/// hidden, hides the smallest other part (non-zero first, then zero; ties by position), or
/// the total itself when there is no other part. Returns whether anything changed.
fn protect(total_hidden: &mut bool, mut line: Vec<(u64, &mut bool)>) -> bool {
    if *total_hidden || line.iter().filter(|(_, h)| **h).count() != 1 {
        return false;
    }
    let pick = line
        .iter()
        .enumerate()
        .filter(|(_, (_, h))| !**h)
        .min_by_key(|(i, (n, _))| (*n == 0, *n, *i))
        .map(|(i, _)| i);
    match pick {
        Some(i) => {
            *line[i].1 = true;
            true
        }
        None => {
            *total_hidden = true;
            true
        }
    }
}

/// A published table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub cells: Vec<Vec<Cell<u64>>>,
    pub row_totals: Vec<Cell<u64>>,
    pub col_totals: Vec<Cell<u64>>,
    pub grand_total: Cell<u64>,
}

#[cfg(test)]
mod tests;
