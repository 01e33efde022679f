//! `docs/data-contract.md` describes the format as implemented: every table and column.

#[test]
fn every_table_and_column_is_documented() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/data-contract.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let mut missing = Vec::new();
    for t in dataset::schema::TABLES {
        if !doc.contains(&format!("### {} ", t.name)) && !doc.contains(&format!("### {}\n", t.name)) {
            missing.push(t.name.to_string());
        }
        for c in t.columns {
            if !doc.contains(&format!("`{}`", c.name)) {
                missing.push(format!("{}.{}", t.name, c.name));
            }
        }
    }
    assert!(missing.is_empty(), "not in docs/data-contract.md: {missing:?}");
}
