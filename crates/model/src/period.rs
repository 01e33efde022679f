use std::fmt;
use std::str::FromStr;

/// A calendar month, stored as months since year 0 so that ranges and arithmetic are cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

impl Month {
    /// `month` is 1–12; returns `None` outside that.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        (1..=12)
            .contains(&month)
            .then(|| Month(year * 12 + month as i32 - 1))
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1–12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    pub fn succ(self) -> Month {
        Month(self.0 + 1)
    }

    pub fn plus(self, months: i32) -> Month {
        Month(self.0 + months)
    }

    /// Months from `self` to `later` (negative if `later` is earlier).
    pub fn months_until(self, later: Month) -> i32 {
        later.0 - self.0
    }

    /// The financial year (April–March) this month falls in, as its start year.
    pub fn financial_year(self) -> i32 {
        if self.month() >= 4 {
            self.year()
        } else {
            self.year() - 1
        }
    }

    /// Days since 1970-01-01 of the first day of the month (the Arrow `Date32` epoch).
    pub fn first_day(self) -> i32 {
        days_from_civil(self.year(), self.month(), 1)
    }

    /// Days since 1970-01-01 of the last day of the month.
    pub fn last_day(self) -> i32 {
        self.succ().first_day() - 1
    }

    /// The month containing a day counted from 1970-01-01.
    pub fn of_day(days: i32) -> Month {
        let (y, m, _) = civil_from_days(days);
        Month(y * 12 + m as i32 - 1)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// Why a period, month or date string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("not a period; expected YYYY-MM, FYYYYY-Qn or YYYY/YY")]
    Syntax,
    #[error("financial year end must be the year after its start (e.g. 2023/24)")]
    YearMismatch,
    #[error("not a date; expected YYYY-MM-DD")]
    Date,
}

/// The grain of a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Grain {
    Month,
    FinancialQuarter,
    FinancialYear,
}

impl Grain {
    pub fn describe(self) -> &'static str {
        match self {
            Grain::Month => "a month (YYYY-MM)",
            Grain::FinancialQuarter => "a financial quarter (FYYYYY-Qn)",
            Grain::FinancialYear => "a financial year (YYYY/YY)",
        }
    }
}

/// A reporting period as the data contract spells it: `2023-07` (month), `FY2023-Q1`
/// (April–June 2023) or `2023/24` (April 2023–March 2024).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Month(Month),
    /// Financial year start year and quarter 1–4.
    Quarter(i32, u8),
    /// Financial year start year.
    Year(i32),
}

impl Period {
    pub fn grain(self) -> Grain {
        match self {
            Period::Month(_) => Grain::Month,
            Period::Quarter(..) => Grain::FinancialQuarter,
            Period::Year(_) => Grain::FinancialYear,
        }
    }

    pub fn first_month(self) -> Month {
        match self {
            Period::Month(m) => m,
            Period::Quarter(y, q) => Month(y * 12 + 3 + 3 * (i32::from(q) - 1)),
            Period::Year(y) => Month(y * 12 + 3),
        }
    }

    pub fn last_month(self) -> Month {
        match self {
            Period::Month(m) => m,
            Period::Quarter(..) => self.first_month().plus(2),
            Period::Year(_) => self.first_month().plus(11),
        }
    }

    /// Whether any month of this period lies within `from..=to`.
    pub fn overlaps(self, from: Month, to: Month) -> bool {
        self.first_month() <= to && self.last_month() >= from
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Period::Month(m) => m.fmt(f),
            Period::Quarter(y, q) => write!(f, "FY{y:04}-Q{q}"),
            Period::Year(y) => write!(f, "{y:04}/{:02}", (y + 1).rem_euclid(100)),
        }
    }
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl FromStr for Month {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (y, m) = s.split_once('-').ok_or(PeriodError::Syntax)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(PeriodError::Syntax);
        }
        let year = digits(y).ok_or(PeriodError::Syntax)?;
        let month = digits(m).ok_or(PeriodError::Syntax)?;
        Month::new(year as i32, month).ok_or(PeriodError::Syntax)
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = s.strip_prefix("FY") {
            let (y, q) = rest.split_once("-Q").ok_or(PeriodError::Syntax)?;
            if y.len() != 4 || q.len() != 1 {
                return Err(PeriodError::Syntax);
            }
            let year = digits(y).ok_or(PeriodError::Syntax)? as i32;
            let quarter = digits(q).ok_or(PeriodError::Syntax)?;
            if !(1..=4).contains(&quarter) {
                return Err(PeriodError::Syntax);
            }
            return Ok(Period::Quarter(year, quarter as u8));
        }
        if let Some((y, e)) = s.split_once('/') {
            if y.len() != 4 || e.len() != 2 {
                return Err(PeriodError::Syntax);
            }
            let year = digits(y).ok_or(PeriodError::Syntax)? as i32;
            let end = digits(e).ok_or(PeriodError::Syntax)? as i32;
            if (year + 1).rem_euclid(100) != end {
                return Err(PeriodError::YearMismatch);
            }
            return Ok(Period::Year(year));
        }
        s.parse().map(Period::Month)
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
pub(crate) fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01, rejecting impossible dates.
pub fn parse_date(s: &str) -> Result<i32, PeriodError> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(PeriodError::Date);
    }
    let y = digits(&s[0..4]).ok_or(PeriodError::Date)? as i32;
    let m = digits(&s[5..7]).ok_or(PeriodError::Date)?;
    let d = digits(&s[8..10]).ok_or(PeriodError::Date)?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(PeriodError::Date);
    }
    Ok(days_from_civil(y, m, d))
}

/// Formats days since 1970-01-01 as `YYYY-MM-DD`.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests;
