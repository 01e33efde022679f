//! Fingertips indicators beside the computed ones, as published.

use std::path::Path;

#[test]
fn external_indicators_join_the_table_as_published() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dataset/tests/data/valid");
    let ds = dataset::load(&dir, &dataset::Options::default())
        .expect("valid")
        .dataset;
    let ext = engine::external::published(&ds).unwrap();
    let rows: Vec<String> = ext.batches.iter().flat_map(lines).collect();
    // England (its duplicate row under a parent dropped) and the practice; the CCG area (an
    // ONS code), the male-only row and the calendar-year period are left out, and counted.
    assert_eq!(
        rows,
        vec![
            "fingertips_247,england,E92000001,england,financial_year,2009/10,249463,54836561,0.45,0.45,0.46,0.44,0.47,false",
            "fingertips_247,organisation,F83004,practice,financial_year,2024/25,12,1970,0.61,0.5,0.7,,,false",
        ]
    );
    assert_eq!(ext.left_out.values().sum::<usize>(), 4, "{:?}", ext.left_out);
    assert_eq!(ext.meta.len(), 1);
    assert_eq!(ext.meta[0].title, "Dementia: QOF prevalence (all ages)");
    assert!(ext.meta[0].source.contains("Fingertips, indicator 247"));
}

fn lines(b: &arrow::array::RecordBatch) -> Vec<String> {
    use arrow::array::{Array, BooleanArray, Float64Array, StringArray};
    (0..b.num_rows())
        .map(|i| {
            b.columns()
                .iter()
                .map(|c| {
                    if c.is_null(i) {
                        String::new()
                    } else if let Some(s) = c.as_any().downcast_ref::<StringArray>() {
                        s.value(i).to_string()
                    } else if let Some(f) = c.as_any().downcast_ref::<Float64Array>() {
                        f.value(i).to_string()
                    } else if let Some(b) = c.as_any().downcast_ref::<BooleanArray>() {
                        b.value(i).to_string()
                    } else {
                        "?".into()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect()
}
