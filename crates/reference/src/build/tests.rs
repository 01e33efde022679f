use super::*;

#[test]
fn sitrep_periods() {
    assert_eq!(
        crate::sitrep::month("MSitAE-JUNE-2024").map(|m| m.to_string()),
        Some("2024-06".into())
    );
    assert_eq!(
        crate::sitrep::month("MSitAE-SEPTEMBER-2024").map(|m| m.to_string()),
        Some("2024-09".into())
    );
    assert_eq!(crate::sitrep::month("Period"), None);
}

#[test]
fn ods_dates() {
    assert_eq!(ods_date("20171001").as_deref(), Some("2017-10-01"));
    assert_eq!(ods_date(""), None);
}

#[test]
fn majority_breaks_ties_by_smallest() {
    let v: Vec<String> = ["b", "a", "b", "a", "c"].iter().map(|s| s.to_string()).collect();
    assert_eq!(majority(&v).as_deref(), Some("a"));
}
