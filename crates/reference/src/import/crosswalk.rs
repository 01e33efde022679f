//! Codes that changed over time. A practice-level file (the payments file of a year, or a
//! registered-list file) names every practice's commissioner that year; a commissioner code
//! the dataset does not have is mapped to the dataset's commissioners through its practices,
//! weighted by their registered patients, and written to `code_crosswalk.csv` so later
//! imports (an RTT workbook of that year) resolve the same code the same way.
//!
//! Rules (documented in `docs/data-sources.md`):
//! - an old commissioner code becomes a closed commissioner whose successor is the
//!   commissioner that received the largest share of its registered patients, in that
//!   commissioner's system; it closed at the latest on 30 June 2022, when CCGs were
//!   abolished, and opened at the earliest on 1 April 2013, when they were created;
//! - a practice the dataset does not have becomes a practice under the commissioner the file
//!   names, closed on the file's close date if it gives one, otherwise open;
//! - a commissioner none of whose practices the dataset knows keeps its rows, is added with
//!   no successor and no system, and the import says so.

use super::{NewOrg, Resolution, Target};
use model::OrgKind;
use std::collections::BTreeMap;

/// CCGs were created on 1 April 2013 and abolished on 30 June 2022 (Health and Care Act 2022).
pub const CCG_OPENED: &str = "2013-04-01";
pub const CCG_CLOSED: &str = "2022-06-30";

/// The crosswalk table's header.
pub const HEADER: [&str; 5] = ["old_code", "new_code", "share", "registered_patients", "basis"];

/// One practice of a practice-level file.
#[derive(Debug, Clone)]
pub struct PracticeRow {
    pub practice: String,
    pub name: String,
    pub commissioner: String,
    pub commissioner_name: String,
    pub registered: f64,
    pub opened: Option<String>,
    pub closed: Option<String>,
}

/// The shares of an old code over the dataset's commissioners, largest first.
pub type Shares = Vec<(String, f64, f64)>;

/// Resolves one practice-level file's codes (see [`from_practices`]) and merges its crosswalk
/// rows into `walk`, replacing any earlier rows for the same old codes.
pub fn merge_file(
    target: &mut Target,
    walk: &mut Vec<Vec<String>>,
    rows: &[PracticeRow],
    file: &std::path::Path,
    period: &str,
) -> Vec<Resolution> {
    let basis = format!(
        "registered patients of each practice in {} ({period})",
        file.file_name().and_then(|n| n.to_str()).unwrap_or_default()
    );
    let (table, resolved) = from_practices(target, rows, &basis);
    let new_old: std::collections::BTreeSet<&String> = table.iter().map(|t| &t[0]).collect();
    walk.retain(|w| !new_old.contains(&w[0]));
    walk.extend(table);
    resolved
}

/// Stages the merged crosswalk (if any) as `code_crosswalk.csv`, sorted.
pub fn stage(target: &mut Target, mut walk: Vec<Vec<String>>, imported: &mut super::Imported) {
    if walk.is_empty() {
        return;
    }
    walk.sort();
    target.stage("code_crosswalk", &HEADER, &walk);
    imported.tables.push(("code_crosswalk".into(), walk.len()));
}

/// Maps every commissioner of `rows` the dataset does not know and adds it (and practices the
/// dataset does not know) to the target; returns the crosswalk rows and the resolutions.
pub fn from_practices(
    target: &mut Target,
    rows: &[PracticeRow],
    basis: &str,
) -> (Vec<Vec<String>>, Vec<Resolution>) {
    let mut weights: BTreeMap<&str, BTreeMap<String, f64>> = BTreeMap::new();
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for r in rows {
        if target.knows(&r.commissioner) {
            continue;
        }
        names.entry(&r.commissioner).or_insert(&r.commissioner_name);
        let slot = weights.entry(&r.commissioner).or_default();
        let now = target
            .orgs
            .get(&r.practice)
            .filter(|o| o.kind == OrgKind::GpPractice && !o.closed)
            .and_then(|o| o.parent.clone());
        if let Some(parent) = now {
            *slot.entry(parent).or_default() += r.registered;
        }
    }
    let mut table = Vec::new();
    let mut resolved = Vec::new();
    for (code, by) in &weights {
        let total: f64 = by.values().sum();
        let mut shares: Shares = by.iter().map(|(c, w)| (c.clone(), w / total, *w)).collect();
        shares.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (new, share, w) in &shares {
            table.push(vec![
                code.to_string(),
                new.clone(),
                format!("{share:.6}"),
                super::fmt_num(*w),
                basis.to_string(),
            ]);
        }
        resolved.push(add_commissioner(
            target,
            code,
            names.get(code).copied().unwrap_or(code),
            &shares,
            basis,
        ));
    }
    for r in rows {
        if target.knows(&r.practice) {
            continue;
        }
        target.add(NewOrg {
            code: r.practice.clone(),
            name: if r.name.is_empty() {
                format!("Practice {}", r.practice)
            } else {
                r.name.clone()
            },
            kind: Some(OrgKind::GpPractice),
            system: target.orgs.get(&r.commissioner).and_then(|o| o.system.clone()),
            parent: Some(r.commissioner.clone()),
            opened: r.opened.clone().unwrap_or_else(|| CCG_OPENED.to_string()),
            closed: r.closed.clone(),
            successor: None,
        });
        resolved.push(Resolution {
            code: r.practice.clone(),
            how: format!(
                "practice not in the dataset: added under {}{}",
                r.commissioner,
                r.closed
                    .as_ref()
                    .map_or(String::new(), |c| format!(", closed {c}"))
            ),
        });
    }
    (table, resolved)
}

/// Adds an old commissioner code with its successor (the largest share) and says how.
fn add_commissioner(target: &mut Target, code: &str, name: &str, shares: &Shares, basis: &str) -> Resolution {
    let national = is_national(code, name);
    let successor = shares.first().map(|s| s.0.clone());
    let system = successor
        .as_ref()
        .and_then(|s| target.orgs.get(s))
        .and_then(|o| o.system.clone());
    target.add(NewOrg {
        code: code.to_string(),
        name: name.to_string(),
        kind: Some(OrgKind::Commissioner),
        system: system.clone(),
        parent: None,
        opened: CCG_OPENED.to_string(),
        closed: (!national).then(|| CCG_CLOSED.to_string()),
        successor: if national { None } else { successor.clone() },
    });
    let how = if national {
        "national commissioner (NHS England's direct commissioning): added with no system".to_string()
    } else if let Some(s) = successor {
        let top = shares.first().map_or(0.0, |s| s.1);
        let rest = shares
            .iter()
            .skip(1)
            .map(|(c, sh, _)| format!("{c} {sh:.3}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "closed commissioner; successor {s} in {} (share {top:.3} of its registered patients{}; {basis})",
            system.as_deref().unwrap_or("no system"),
            if rest.is_empty() {
                String::new()
            } else {
                format!("; also {rest}")
            }
        )
    } else {
        format!("closed commissioner with no successor: none of its practices is in the dataset ({basis})")
    };
    Resolution {
        code: code.to_string(),
        how,
    }
}

/// NHS England's own commissioning codes (`X24`, direct commissioning hubs) carry no system.
pub fn is_national(code: &str, name: &str) -> bool {
    code.starts_with('X') && code.len() == 3 || name.trim().eq_ignore_ascii_case("NHS ENGLAND")
}

/// Resolves a commissioner code from a commissioner-level publication (no practices): from
/// the dataset's `code_crosswalk.csv` if an earlier import mapped it, else added with no
/// successor, and the resolution says to import that year's practice-level file first.
pub fn resolve_commissioner(
    target: &mut Target,
    crosswalk: &[Vec<String>],
    code: &str,
    name: &str,
) -> Resolution {
    let mut shares: Shares = crosswalk
        .iter()
        .filter(|r| r.first().map(String::as_str) == Some(code))
        .filter_map(|r| {
            Some((
                r.get(1)?.clone(),
                r.get(2)?.parse().ok()?,
                r.get(3)?.parse().unwrap_or(0.0),
            ))
        })
        .filter(|(new, _, _): &(String, f64, f64)| target.knows(new))
        .collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let basis = crosswalk
        .iter()
        .find(|r| r.first().map(String::as_str) == Some(code))
        .and_then(|r| r.get(4).cloned())
        .unwrap_or_default();
    let mut r = add_commissioner(target, code, name, &shares, &basis);
    if shares.is_empty() && !is_national(code, name) {
        r.how = "closed commissioner with no successor: no practice-level file in the dataset names it (import gp-payments or gp-lists for its year first to map it to today's commissioners)".into();
    }
    r
}

/// An organisation other than a commissioner or practice that a publication names and the
/// dataset lacks: a trust (kind from its name, by the skeleton's rules) closed at the end of
/// the last month the publication names it, or an independent provider if its name is not an
/// NHS body's.
pub fn resolve_other(target: &mut Target, code: &str, name: &str, first: &str, last_day: &str) -> Resolution {
    let upper = name.to_uppercase();
    let nhs = upper.contains("NHS") || upper.contains("CCG");
    let kind = if nhs {
        super::trust_kind(name)
    } else {
        OrgKind::IndependentProvider
    };
    let closed = (kind != OrgKind::IndependentProvider).then(|| last_day.to_string());
    target.add(NewOrg {
        code: code.to_string(),
        name: name.to_string(),
        kind: Some(kind),
        system: None,
        parent: None,
        opened: first.to_string(),
        closed: closed.clone(),
        successor: None,
    });
    Resolution {
        code: code.to_string(),
        how: match closed {
            Some(c) => format!(
                "{kind} not in the dataset's reference list (closed or merged since): added with no system, closed {c} (the last day this publication covers; the real date is not in it)"
            ),
            None => "independent provider not in the dataset: added with no system".to_string(),
        },
    }
}
