//! The generated dataset passes every rule of the data contract, and its national figures sit
//! inside their calibration ranges.

use crate::data::{SCALE, fixture};

#[test]
fn loads_through_the_validating_loader_with_no_problems() {
    let f = fixture();
    let loaded = dataset::load(&f.path, &dataset::Options::default()).unwrap_or_else(|report| {
        panic!(
            "refused: {:?}",
            report
                .errors
                .iter()
                .take(5)
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
        )
    });
    assert_eq!(loaded.report.error_count, 0);
    assert_eq!(loaded.report.warning_count, 0, "{:?}", loaded.report.warnings);
    // Plans are a system's own input, not something the generator draws: synthetic England
    // has none, so its heads-and-beds view checks each system's current capacity. The tables
    // only the importers of real publications write are not drawn either.
    const NOT_DRAWN: [&str; 6] = [
        "plans",
        "rtt_specialty",
        "gp_payments",
        "list_sizes",
        "code_crosswalk",
        "external_indicators",
    ];
    for table in dataset::schema::TABLES
        .iter()
        .filter(|t| !NOT_DRAWN.contains(&t.name))
    {
        assert!(
            loaded.dataset.tables.contains_key(table.name),
            "{} is missing",
            table.name
        );
    }
    assert!(loaded.dataset.manifest.is_synthetic());
}

#[test]
fn calibration_report_is_inside_every_range() {
    let f = fixture();
    let report = synth::report(&f.path).expect("report");
    assert_eq!(report.scale, SCALE);
    let outside: Vec<String> = report
        .outside()
        .iter()
        .map(|fig| {
            format!(
                "{}: {:?} not in {}–{}",
                fig.target.id, fig.england, fig.target.low, fig.target.high
            )
        })
        .collect();
    assert!(outside.is_empty(), "{outside:#?}");
    assert_eq!(report.figures.len(), synth::calibration::TARGETS.len());
    // A count is compared after dividing by the scale.
    let registered = report.figure("registered").expect("registered");
    assert_eq!(registered.england, registered.generated.map(|g| g / SCALE));
}
