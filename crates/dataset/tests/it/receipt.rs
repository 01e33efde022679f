//! Validation receipts: trusted only while every file is exactly as validated.

use crate::support::valid_copy;
use std::path::Path;

fn load(dir: &Path, trust: bool) -> Result<dataset::Loaded, dataset::Report> {
    let options = dataset::Options {
        trust_receipt: trust,
        ..Default::default()
    };
    dataset::load(dir, &options)
}

#[test]
fn an_unchanged_dataset_is_not_read_again_and_a_changed_one_is() {
    let dir = valid_copy();
    // Without a receipt, trusting changes nothing.
    let full = load(dir.path(), true).unwrap();
    assert!(!full.from_receipt);
    let path = dataset::receipt::write(&full).unwrap();
    assert_eq!(path, dir.path().join(dataset::receipt::RECEIPT));

    let quick = load(dir.path(), true).unwrap();
    assert!(quick.from_receipt);
    assert!(quick.report.notes.iter().any(|n| n.contains("validated before")));
    for (name, t) in &full.dataset.tables {
        let q = &quick.dataset.tables[name];
        assert_eq!(q.tally.rows, t.tally.rows, "{name}");
        assert_eq!(q.tally.periods, t.tally.periods, "{name}");
        assert_eq!(q.tally.days, t.tally.days, "{name}");
    }
    assert_eq!(
        quick.dataset.organisations.len(),
        full.dataset.organisations.len()
    );
    // Not asked to trust: a full validation.
    assert!(!load(dir.path(), false).unwrap().from_receipt);

    // Break an activity table: the receipt no longer matches, and the error is found.
    let beds = dir.path().join("beds.csv");
    let mut text = std::fs::read_to_string(&beds).unwrap();
    text.push_str("2024-05,RAL,ten,9\n");
    std::fs::write(&beds, text).unwrap();
    let report = load(dir.path(), true).unwrap_err();
    assert!(
        report.errors.iter().any(|e| e.to_string().contains("\"ten\"")),
        "{:?}",
        report.errors
    );
}

#[test]
fn a_receipt_for_other_files_or_a_garbled_one_is_ignored() {
    let dir = valid_copy();
    let full = load(dir.path(), false).unwrap();
    dataset::receipt::write(&full).unwrap();
    // Same bytes, new modification time: validated again.
    let survey = dir.path().join("survey.csv");
    let text = std::fs::read(&survey).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&survey, text).unwrap();
    assert!(!load(dir.path(), true).unwrap().from_receipt);

    std::fs::write(dir.path().join(dataset::receipt::RECEIPT), "footprint = [").unwrap();
    assert!(!load(dir.path(), true).unwrap().from_receipt);
}
