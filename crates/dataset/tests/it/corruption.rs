//! Random byte corruption of a valid CSV never panics and never half-loads: the dataset
//! is either refused, or loaded with every record of the corrupted file.

use crate::support::valid_copy;
use proptest::prelude::*;

const FILES: [&str; 6] = [
    "organisations.csv",
    "admissions.csv",
    "ae_attendances.csv",
    "finance.csv",
    "population.csv",
    "lsoa.csv",
];

#[derive(Debug, Clone)]
enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Flip(i, b)),
        (any::<usize>(), prop::sample::select(b",\n\r\"*- \xff0a".to_vec()))
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

/// Records in a CSV file as the contract reads them: the header excluded, blank lines
/// skipped, lines ending at `\n` (a `\r` before it is trimmed; a lone `\r` is not a line end).
fn records(bytes: &[u8]) -> u64 {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(bytes);
    let mut n = 0u64;
    let mut rec = csv::ByteRecord::new();
    let mut first = true;
    while let Ok(true) = r.read_byte_record(&mut rec) {
        if first {
            first = false;
            continue;
        }
        if !(rec.len() == 1 && rec[0].is_empty()) {
            n += 1;
        }
    }
    n
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn corruption_never_panics_or_half_loads(file in 0..FILES.len(), edits in prop::collection::vec(edit(), 1..6)) {
        let dir = valid_copy();
        let path = dir.path().join(FILES[file]);
        let mut bytes = std::fs::read(&path).unwrap();
        for e in &edits {
            let len = bytes.len().max(1);
            match *e {
                Edit::Flip(i, b) => { if !bytes.is_empty() { let i = i % len; bytes[i] ^= b | 1; } }
                Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
                Edit::Delete(i) => { if !bytes.is_empty() { bytes.remove(i % len); } }
            }
        }
        std::fs::write(&path, &bytes).unwrap();
        match dataset::load(dir.path(), &dataset::Options::default()) {
            Err(report) => prop_assert!(report.error_count > 0 && !report.errors.is_empty()),
            Ok(loaded) => {
                let table = FILES[file].trim_end_matches(".csv");
                prop_assert_eq!(loaded.dataset.tables[table].tally.rows, records(&bytes));
            }
        }
    }
}
