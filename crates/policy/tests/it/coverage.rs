//! A dataset may hold only some tables or part of a year: a pack assesses what the table
//! allows and names every part it left out, and why.

use crate::{row, shipped, table};
use policy::assess::{Context, assess_available};

#[test]
fn a_table_without_the_packs_grain_is_not_assessed_and_says_why() {
    // Months only (as the real A&E SitRep dataset, June 2024 to June 2025).
    let mut r = row("ae_4h", "RAL", 72.0);
    r.grain = "month";
    r.period = "2025-03";
    let t = table(&[r]);
    let run = assess_available(&shipped("sof-2016"), &t, &Context::default(), None).unwrap();
    assert!(run.assessments.is_empty());
    let why = run.coverage.not_assessed.as_deref().unwrap();
    assert!(why.contains("financial year"), "{why}");
    assert_eq!(run.coverage.period, None);
    assert!(
        run.coverage
            .summary()
            .starts_with("pack sof-2016: not assessed: ")
    );
    // The strict entry point still refuses, for callers that need a whole assessment.
    assert!(policy::assess::assess(&shipped("sof-2016"), &t, &Context::default(), None).is_err());
}

#[test]
fn missing_metrics_domains_and_member_triggers_are_named() {
    // Only A&E for two trusts: every other sof-2016 metric, and whole domains, are left out.
    let t = table(&[row("ae_4h", "RAL", 72.0), row("ae_4h", "RRK", 80.0)]);
    let sof = shipped("sof-2016");
    let run = assess_available(&sof, &t, &Context::default(), None).unwrap();
    assert_eq!(run.coverage.assessed, 2);
    assert_eq!(run.coverage.period.as_deref(), Some("2024/25"));
    let left = &run.coverage.left_out;
    let metrics: Vec<&str> = left
        .iter()
        .filter(|l| l.part == "metric")
        .map(|l| l.needs.as_str())
        .collect();
    let all: Vec<String> = sof
        .domain
        .iter()
        .flat_map(|d| d.metric.iter().map(|m| m.indicator.clone()))
        .collect();
    assert_eq!(
        metrics.len(),
        all.len() - 1,
        "every metric but ae_4h: {metrics:?}"
    );
    assert!(!metrics.contains(&"ae_4h"));
    let finance = left.iter().find(|l| l.part == "domain" && l.within == "finance");
    assert!(finance.is_some(), "{left:?}");
    assert!(
        left.iter()
            .any(|l| l.part == "metric" && l.reason.contains("no organisation has a"))
    );
    // A system pack whose members' pack assessed no one cannot count members in segment 4.
    let mut s = row("system_surplus_share", "QMJ", -1.0);
    s.kind = "system";
    let t = table(&[s]);
    let run = assess_available(&shipped("system-2015"), &t, &Context::default(), None).unwrap();
    let members = run
        .coverage
        .left_out
        .iter()
        .find(|l| l.part == "trigger" && l.needs == "sof-2016")
        .expect("the member trigger is named");
    assert!(
        members
            .reason
            .contains("members in segment [4] cannot be counted"),
        "{}",
        members.reason
    );
    assert_eq!(members.within, "challenged");
}
