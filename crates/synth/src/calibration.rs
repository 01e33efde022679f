//! The national figures the synthetic England is calibrated to (from
//! `docs/calibration.md`), and the report that sets a generated dataset beside them.

use crate::params::Kind;
use std::fmt;

/// National events a year the generator aims at, at scale 1, for the activity people
/// generate on their own. These are aims, not the targets below: emergency admissions aim
/// below the SitRep's 7.57 million because readmissions, which follow from discharges, add
/// the rest; the others aim a little above their targets because people who die in hospital
/// have no activity afterwards (measured at scale 0.1: 3% of outpatient appointments).
pub fn annual_target(kind: Kind) -> f64 {
    match kind {
        Kind::Emergency => 6_150_000.0,
        Kind::Elective => 8_900_000.0,
        Kind::Maternity => 620_000.0,
        Kind::Transfer => 120_000.0,
        // All attendances (31.9m) less those admitted (75% of emergency admissions).
        Kind::AeOnly => 26_900_000.0,
        Kind::Outpatient => 134_000_000.0,
    }
}

/// A calibration target: the published figure and the range a generated figure must fall in.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub id: &'static str,
    pub what: &'static str,
    pub value: f64,
    pub low: f64,
    pub high: f64,
    /// Whether the figure is a count that grows with `--scale` (compared after dividing by it).
    pub scaled: bool,
    pub source: &'static str,
}

pub const TARGETS: [Target; 22] = [
    Target {
        id: "registered",
        what: "registered patients (last month)",
        value: 63_919_527.0,
        low: 62_000_000.0,
        high: 65_800_000.0,
        scaled: true,
        source: "NHS Digital, 1 Oct 2025 [S]",
    },
    Target {
        id: "practices",
        what: "GP practices with patients",
        value: 6_527.0,
        low: 6_277.0,
        high: 6_740.0,
        scaled: false,
        source: "NHS Digital 2020-2024 [S]; the skeleton's 6,527 (Jan 2022)",
    },
    Target {
        id: "ae_attendances",
        what: "A&E attendances a year, all types",
        value: 31_900_000.0,
        low: 30_300_000.0,
        high: 33_500_000.0,
        scaled: true,
        source: "A&E SitRep Jun24-May25 [V]",
    },
    Target {
        id: "ae_type1_share",
        what: "type-1 share of attendances, %",
        value: 61.0,
        low: 58.0,
        high: 64.0,
        scaled: false,
        source: "A&E SitRep [V]",
    },
    Target {
        id: "ae_4h",
        what: "4-hour performance, all types, %",
        value: 74.1,
        low: 72.0,
        high: 76.0,
        scaled: false,
        source: "A&E SitRep [V]",
    },
    Target {
        id: "ae_4h_type1",
        what: "4-hour performance, type 1, %",
        value: 59.6,
        low: 56.0,
        high: 63.0,
        scaled: false,
        source: "A&E SitRep [V]",
    },
    Target {
        id: "ae_4h_trust_p10",
        what: "4-hour, type-1 trusts, 10th centile, %",
        value: 61.6,
        low: 57.0,
        high: 66.0,
        scaled: false,
        source: "A&E SitRep [V]",
    },
    Target {
        id: "ae_4h_trust_median",
        what: "4-hour, type-1 trusts, median, %",
        value: 71.0,
        low: 68.0,
        high: 74.0,
        scaled: false,
        source: "A&E SitRep [V]",
    },
    Target {
        id: "ae_4h_trust_p90",
        what: "4-hour, type-1 trusts, 90th centile, %",
        value: 80.0,
        low: 76.0,
        high: 84.0,
        scaled: false,
        source: "A&E SitRep [V]",
    },
    Target {
        id: "ae_12h_dta",
        what: "12-hour waits from decision to admit a year",
        value: 611_000.0,
        low: 450_000.0,
        high: 780_000.0,
        scaled: true,
        source: "A&E SitRep [V]",
    },
    Target {
        id: "emergency_admissions",
        what: "emergency admissions a year",
        value: 7_570_000.0,
        low: 7_200_000.0,
        high: 7_950_000.0,
        scaled: true,
        source: "A&E SitRep [V]",
    },
    Target {
        id: "admissions",
        what: "hospital spells a year, all methods",
        value: 17_600_000.0,
        low: 15_500_000.0,
        high: 18_500_000.0,
        scaled: true,
        source: "HES 2023/24 episodes 17.6m [S]; spells are fewer",
    },
    Target {
        id: "elective_admissions",
        what: "elective admissions a year",
        value: 9_000_000.0,
        low: 8_000_000.0,
        high: 10_000_000.0,
        scaled: true,
        source: "[M] ~9-10m",
    },
    Target {
        id: "day_case_share",
        what: "day cases among elective admissions, %",
        value: 80.0,
        low: 75.0,
        high: 85.0,
        scaled: false,
        source: "[M] ~80%",
    },
    Target {
        id: "outpatient_appointments",
        what: "outpatient appointments a year",
        value: 130_000_000.0,
        low: 125_000_000.0,
        high: 135_000_000.0,
        scaled: true,
        source: "HES via PQ [S]",
    },
    Target {
        id: "outpatient_attended",
        what: "appointments attended, %",
        value: 80.0,
        low: 78.0,
        high: 82.0,
        scaled: false,
        source: "HES via PQ [S]",
    },
    Target {
        id: "rtt_waiting",
        what: "RTT waiting list (last month)",
        value: 7_500_000.0,
        low: 7_200_000.0,
        high: 7_800_000.0,
        scaled: true,
        source: "NHS England RTT 2024-25 [S]",
    },
    Target {
        id: "rtt_18w",
        what: "RTT within 18 weeks, %",
        value: 59.5,
        low: 57.0,
        high: 62.0,
        scaled: false,
        source: "[M] ~59-60%",
    },
    Target {
        id: "los_emergency",
        what: "mean length of stay, emergency, days",
        value: 7.5,
        low: 6.5,
        high: 8.5,
        scaled: false,
        source: "[M] ~7-8 days",
    },
    Target {
        id: "readmissions_30d",
        what: "30-day emergency readmissions, %",
        value: 14.5,
        low: 13.5,
        high: 15.5,
        scaled: false,
        source: "NHS Outcomes Framework 3b [M]",
    },
    Target {
        id: "bed_occupancy",
        what: "G&A bed occupancy, %",
        value: 92.0,
        low: 90.0,
        high: 95.0,
        scaled: false,
        source: "KH03 / UEC SitRep [M]",
    },
    Target {
        id: "allocations",
        what: "ICB allocations 2024/25, £",
        value: 127.2e9,
        low: 124.0e9,
        high: 130.5e9,
        scaled: true,
        source: "House of Commons Library CBP-10031 [S]",
    },
];

/// One generated figure beside its target.
#[derive(Debug, Clone)]
pub struct Figure {
    pub target: Target,
    /// As generated (a count at the dataset's own scale).
    pub generated: Option<f64>,
    /// As England (a count divided by the scale).
    pub england: Option<f64>,
}

impl Figure {
    pub fn inside(&self) -> bool {
        self.england
            .is_some_and(|v| v >= self.target.low && v <= self.target.high)
    }
}

/// The calibration report of a dataset.
#[derive(Debug, Clone)]
pub struct Report {
    pub scale: f64,
    pub figures: Vec<Figure>,
}

impl Report {
    pub fn outside(&self) -> Vec<&Figure> {
        self.figures.iter().filter(|f| !f.inside()).collect()
    }

    pub fn figure(&self, id: &str) -> Option<&Figure> {
        self.figures.iter().find(|f| f.target.id == id)
    }
}

fn number(v: f64) -> String {
    if v.abs() >= 1e9 {
        format!("{:.2}bn", v / 1e9)
    } else if v.abs() >= 1e6 {
        format!("{:.2}m", v / 1e6)
    } else if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.1}")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "calibration at scale {} (counts shown as generated and as England, ÷ scale)",
            self.scale
        )?;
        writeln!(
            f,
            "{:<46} {:>11} {:>11} {:>11} {:>21}  source",
            "figure", "generated", "england", "target", "range"
        )?;
        for fig in &self.figures {
            let t = &fig.target;
            let show = |v: Option<f64>| v.map_or("-".to_string(), number);
            writeln!(
                f,
                "{:<46} {:>11} {:>11} {:>11} {:>21}  {}{}",
                t.what,
                show(fig.generated),
                show(fig.england),
                number(t.value),
                format!("{} – {}", number(t.low), number(t.high)),
                t.source,
                if fig.inside() { "" } else { "   << OUTSIDE" },
            )?;
        }
        let outside = self.outside().len();
        if outside == 0 {
            writeln!(f, "every figure is inside its range")
        } else {
            writeln!(f, "{outside} figure(s) outside their range")
        }
    }
}
