use super::*;

#[test]
fn org_kinds_match_the_model() {
    let model: Vec<_> = OrgKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(ORG_KINDS.to_vec(), model);
}

#[test]
fn keys_and_rules_name_real_columns() {
    for t in TABLES {
        for k in t.key {
            assert!(t.column(k).is_some(), "{}: key {k}", t.name);
        }
        for r in t.rules {
            let names: Vec<&str> = match *r {
                RowRule::NotBefore { later, earlier } => vec![later, earlier],
                RowRule::AtMost { small, big } | RowRule::FlagAbove { small, big, .. } => vec![small, big],
                RowRule::OnlyWhen { value, flag } => vec![value, flag],
                RowRule::OnlyWith { value, other } => vec![value, other],
            };
            for n in names {
                assert!(t.column(n).is_some(), "{}: rule column {n}", t.name);
            }
        }
    }
}

#[test]
fn the_contracts_optional_columns_are_optional() {
    // DATA-CONTRACT.md: these may be absent or empty, and no others.
    let mut optional: Vec<String> = TABLES
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.presence == Presence::Optional)
                .map(|c| c.name.to_string())
        })
        .collect();
    optional.sort();
    optional.dedup();
    assert_eq!(
        optional,
        [
            "closed",
            "decision_to_admit",
            "pcn_code",
            "region_code",
            "registered_to",
            "successor_code"
        ]
    );
}
