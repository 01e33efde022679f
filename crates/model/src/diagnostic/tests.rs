use super::*;

#[track_caller]
fn check(d: Diagnostic, expect: &str) {
    assert_eq!(d.to_string(), expect);
}

#[test]
fn full_location() {
    check(
        Diagnostic::error(
            Location::file("organisations.csv").line(14).column("kind"),
            Some("hospital".into()),
            "unknown organisation kind",
        ),
        "organisations.csv:14:kind: \"hospital\": unknown organisation kind",
    );
}

#[test]
fn file_only() {
    check(
        Diagnostic::error(Location::file("regions.csv"), None, "required table is missing"),
        "regions.csv: required table is missing",
    );
}

#[test]
fn column_without_line() {
    check(
        Diagnostic::error(
            Location::file("beds.csv").column("beds_available"),
            None,
            "required column is missing",
        ),
        "beds.csv::beds_available: required column is missing",
    );
}

#[test]
fn long_values_are_cut() {
    let long = "x".repeat(100);
    let shown = Diagnostic::error(Location::file("a.csv").line(2), Some(long), "bad").to_string();
    assert!(shown.contains("…\" (100 bytes)"), "{shown}");
}
