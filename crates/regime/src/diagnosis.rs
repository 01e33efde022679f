//! Which members and which metrics drive a system's gaps: the combined surplus or deficit
//! split into each member's surplus, and each performance indicator's gap against England
//! split into each member's weighted gap, at the level the system's value is built from.
//!
//! A system's value on an indicator is the sum of its members' numerators over the sum of
//! their denominators, where the members are the entities of one level of one attribution
//! path (providers for `rtt_18w` and `ae_4h`, commissioners of the registered population for
//! `readmissions_30d` and `emergency_admissions_isr`), as the engine's entity map counts
//! them ([`engine::members`]). So with `w = d / Σd` and `worse(x)` the signed distance from
//! England (positive is worse), `Σ w × worse(v) = worse(system)`: the contributions add up
//! to the gap. Other organisations with the system's code (a commissioner's own `rtt_18w`,
//! a provider's readmissions) are another path's rows and are never mixed in.
//!
//! On the published table counts are rounded to 5, so the members' pooled value differs from
//! the system's published value by a little; that difference (`adjustment`) is shared across
//! the members by weight, and the contributions still add up exactly to the published gap.
//! Members whose rows are suppressed are named, and their joint part is `unexplained`.

use engine::catalogue::{Level, Path};
use std::collections::{BTreeMap, BTreeSet};

/// For each attribution path, level and system: the entities the system's value is built from.
pub type Members = BTreeMap<(Path, Level, String), BTreeSet<String>>;

/// One member's part in a system's gap, with the arithmetic.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Contribution {
    pub org_code: String,
    pub value: f64,
    /// Percentage points of the system's gap (finance) or of the indicator's gap.
    pub points: f64,
    pub arithmetic: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Gap {
    pub indicator: String,
    /// The level the members are taken from (`provider`, `commissioner`, `practice`,
    /// `organisation`): the one the system's value is built from.
    #[serde(default)]
    pub level: Option<String>,
    pub system_value: f64,
    /// England's value (finance: 0, break-even).
    pub benchmark: f64,
    /// System less benchmark, in the indicator's unit; signed so that positive is worse.
    pub gap: f64,
    /// Members, largest contribution to the gap first.
    pub members: Vec<Contribution>,
    /// The system's value less the members' pooled value (rounding of published counts),
    /// shared across the members by weight. Zero on unrounded figures.
    #[serde(default)]
    pub adjustment: f64,
    /// Members whose figures are suppressed in the published table.
    #[serde(default)]
    pub suppressed: Vec<String>,
    /// The gap the members' contributions do not account for: the suppressed members' joint
    /// part (zero when none is suppressed).
    pub unexplained: f64,
}

/// Which members and which metrics drive a system's combined deficit and performance gap.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Diagnosis {
    pub system_code: String,
    pub period: String,
    pub finance: Option<Gap>,
    pub performance: Vec<Gap>,
}

/// One performance metric of the system pack and where its system value comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub indicator: String,
    pub higher_better: bool,
    /// The attribution path that feeds the system level and the organisation level on it
    /// the members are read at (the one nearest the system the indicator publishes); `None`
    /// when the indicator publishes no organisation level on that path.
    pub members_at: Option<(Path, Level)>,
}

impl Metric {
    /// The metric `indicator` as its definition builds it (`None` in place of a definition:
    /// the indicator is not in the catalogue, and has no members).
    pub fn of(indicator: &str, higher_better: bool, definition: Option<&engine::Indicator>) -> Metric {
        let members_at = definition.and_then(|ind| {
            let a = ind
                .attribution
                .iter()
                .find(|a| a.levels.contains(&Level::System))?;
            a.path
                .levels()
                .iter()
                .rev()
                .copied()
                .filter(|l| l.entity_kind() == "organisation")
                .find(|l| a.levels.contains(l))
                .map(|l| (a.path, l))
        });
        Metric {
            indicator: indicator.to_string(),
            higher_better,
            members_at,
        }
    }
}

const FY: &str = "financial_year";

/// Decomposes a system's gaps for `period` (financial year): the combined surplus or deficit
/// (share of allocation) into each member organisation's surplus over the system's
/// allocation; each metric's gap against England into each member's weighted gap.
pub fn diagnose(
    table: &policy::table::Table,
    members: &Members,
    system: &str,
    period: &str,
    metrics: &[Metric],
) -> Diagnosis {
    let of = |path: Path, level: Level| -> Vec<&String> {
        members
            .get(&(path, level, system.to_string()))
            .into_iter()
            .flatten()
            .collect()
    };
    let finance = table.get("system_surplus_share", "system", system, FY, period).and_then(|v| {
        let (share, allocation) = (v.value?, v.denominator?);
        let mut parts = Vec::new();
        for org in of(Path::Organisation, Level::Organisation) {
            for ind in ["ie_margin", "commissioner_margin"] {
                if let Some(surplus) = table.get(ind, "organisation", org, FY, period).and_then(|x| x.numerator) {
                    let points = 100.0 * surplus / allocation;
                    parts.push(Contribution {
                        org_code: org.clone(),
                        value: surplus,
                        // Positive is worse: a deficit widens the gap.
                        points: -points,
                        arithmetic: format!("surplus £{surplus:.0} / allocation £{allocation:.0} × 100 = {points:.3} points"),
                    });
                }
            }
        }
        parts.sort_by(|a, b| b.points.total_cmp(&a.points));
        let explained: f64 = parts.iter().map(|p| p.points).sum();
        Some(Gap {
            indicator: "system_surplus_share".into(),
            level: Some(Level::Organisation.as_str().into()),
            system_value: share,
            benchmark: 0.0,
            gap: -share,
            unexplained: -share - explained,
            adjustment: 0.0,
            suppressed: Vec::new(),
            members: parts,
        })
    });
    let mut performance = Vec::new();
    for m in metrics {
        let ind = &m.indicator;
        let (Some(row), Some(eng)) = (
            table.get(ind, "system", system, FY, period),
            table
                .get(ind, "england", policy::assess::ENGLAND, FY, period)
                .and_then(|v| v.value),
        ) else {
            continue;
        };
        let Some(sys) = row.value else { continue };
        let higher_better = m.higher_better;
        let worse = |x: f64| if higher_better { eng - x } else { x - eng };
        let mut rows: Vec<(&String, f64, f64)> = Vec::new();
        let mut suppressed = Vec::new();
        if let Some((path, level)) = m.members_at {
            for org in of(path, level) {
                let Some(v) = table.get(ind, "organisation", org, FY, period) else {
                    continue;
                };
                match (v.value, v.denominator) {
                    (Some(x), Some(d)) if d > 0.0 => rows.push((org, x, d)),
                    // No one to count: no part in the gap.
                    (_, Some(d)) if d <= 0.0 => {}
                    _ => suppressed.push(org.clone()),
                }
            }
        }
        let total: f64 = rows.iter().map(|r| r.2).sum();
        // With every member published, weights are shares of the members' denominators and
        // the rounding difference is shared by weight; with some suppressed, shares of the
        // system's denominator, and the rest of the gap is theirs.
        let (scale, adjustment) = if suppressed.is_empty() && total > 0.0 {
            let pooled = rows.iter().map(|r| r.1 * r.2).sum::<f64>() / total;
            let diff = worse(sys) - worse(pooled);
            // Below floating-point noise the figures are unrounded: nothing to share.
            (
                total,
                if diff.abs() <= 1e-9 * (1.0 + sys.abs()) {
                    0.0
                } else {
                    diff
                },
            )
        } else {
            (row.denominator.filter(|d| *d > 0.0).unwrap_or(total), 0.0)
        };
        let mut parts: Vec<Contribution> = rows
            .iter()
            .filter(|_| scale > 0.0)
            .map(|(org, v, d)| {
                let w = d / scale;
                let points = w * (worse(*v) + adjustment);
                let arithmetic = if adjustment == 0.0 {
                    format!("weight {w:.4} × ({v:.3} against England {eng:.3}) = {points:.3}")
                } else {
                    format!(
                        "weight {w:.4} × ({v:.3} against England {eng:.3}, {adjustment:+.4} rounding) = {points:.3}"
                    )
                };
                Contribution {
                    org_code: (*org).clone(),
                    value: *v,
                    points,
                    arithmetic,
                }
            })
            .collect();
        parts.sort_by(|a, b| b.points.total_cmp(&a.points));
        let explained: f64 = parts.iter().map(|p| p.points).sum();
        performance.push(Gap {
            indicator: ind.clone(),
            level: m.members_at.map(|(_, l)| l.as_str().to_string()),
            system_value: sys,
            benchmark: eng,
            gap: worse(sys),
            unexplained: worse(sys) - explained,
            adjustment,
            suppressed,
            members: parts,
        });
    }
    performance.sort_by(|a, b| {
        (b.gap / b.benchmark.abs().max(1e-9)).total_cmp(&(a.gap / a.benchmark.abs().max(1e-9)))
    });
    Diagnosis {
        system_code: system.to_string(),
        period: period.to_string(),
        finance,
        performance,
    }
}

/// A diagnosis in words, for case files.
pub fn diagnosis_text(d: &Diagnosis) -> String {
    let mut md = format!("\n## Diagnosis ({})\n\n", d.period);
    if let Some(f) = &d.finance {
        md.push_str(&format!(
            "Combined surplus {:.3}% of allocation: a gap of {:.3} points to break-even.\n\n| member | surplus | points of the gap | arithmetic |\n| --- | --- | --- | --- |\n",
            f.system_value, f.gap
        ));
        for m in &f.members {
            md.push_str(&format!(
                "| {} | £{:.0} | {:.3} | {} |\n",
                m.org_code, m.value, m.points, m.arithmetic
            ));
        }
        md.push_str(&format!(
            "\nNot accounted for by members: {:.3} points.\n",
            f.unexplained
        ));
    }
    for g in &d.performance {
        let level = g
            .level
            .as_deref()
            .map(|l| format!(" Members at {l} level, the level the system's value is built from."))
            .unwrap_or_default();
        md.push_str(&format!(
            "\n{}: system {:.3} against England {:.3}, {:.3} worse.{level}\n\n| member | value | share of the gap | arithmetic |\n| --- | --- | --- | --- |\n",
            g.indicator, g.system_value, g.benchmark, g.gap
        ));
        for m in &g.members {
            md.push_str(&format!(
                "| {} | {:.3} | {:.3} | {} |\n",
                m.org_code, m.value, m.points, m.arithmetic
            ));
        }
        if g.adjustment != 0.0 {
            md.push_str(&format!(
                "\nPublished counts are rounded to 5: the system's value differs from its members' pooled value by {:+.4}, shared across the members by weight.\n",
                g.adjustment
            ));
        }
        if !g.suppressed.is_empty() {
            md.push_str(&format!(
                "\nSuppressed members ({}): {:.3} of the gap between them.\n",
                g.suppressed.join(", "),
                g.unexplained
            ));
        }
    }
    md
}
