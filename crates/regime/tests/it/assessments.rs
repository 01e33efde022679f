//! Two packs disagreeing about one organisation are a conflict of their own kind.

use std::collections::BTreeMap;

fn assessment(pack: &str, code: &str, segment: Option<u32>) -> policy::assess::Assessment {
    policy::assess::Assessment {
        entity_kind: "organisation".into(),
        entity_code: code.into(),
        org_kind: Some("acute_trust".into()),
        pack: pack.into(),
        period: "2024/25".into(),
        domains: BTreeMap::new(),
        overall_score: None,
        rating: None,
        segment,
        category: None,
        overrides: Vec::new(),
        signals: Vec::new(),
        reporting: None,
        explanation: String::new(),
    }
}

#[test]
fn sof_segment_one_while_nof_segment_four_is_inconsistent() {
    let mut a = BTreeMap::new();
    a.insert(
        "sof-2016".to_string(),
        vec![
            assessment("sof-2016", "RAA", Some(1)),
            assessment("sof-2016", "RBB", Some(2)),
            assessment("sof-2016", "RCC", Some(3)),
            assessment("sof-2016", "RDD", Some(4)),
        ],
    );
    a.insert(
        "nof-2025".to_string(),
        vec![
            assessment("nof-2025", "RAA", Some(4)),
            assessment("nof-2025", "RBB", Some(3)),
            assessment("nof-2025", "RCC", Some(5)),
            assessment("nof-2025", "RDD", Some(2)),
        ],
    );
    let c = regime::inconsistent_assessments(&a, |o| (o != "RDD").then(|| "QAA".to_string()));
    let ids: Vec<&str> = c.iter().map(|c| c.id.as_str()).collect();
    // RBB (2 against 3) and RCC (3 against 5) are not a whole side apart.
    assert_eq!(
        ids,
        [
            "inconsistent_assessments:RAA:nof-2025:sof-2016",
            "inconsistent_assessments:RDD:nof-2025:sof-2016"
        ]
    );
    assert_eq!(
        c[0].explanation,
        "sof-2016 places RAA in segment 1 for 2024/25 (at most targeted support) while nof-2025 places it in segment 4 for 2024/25 (mandated or intensive support): the frameworks disagree on whether RAA needs intervention, so regulators acting on one would contradict the other; agree one view before acting"
    );
    assert!(c[1].explanation.starts_with("nof-2025 places RDD in segment 2"));
    assert_eq!(c[0].system_code.as_deref(), Some("QAA"));
    assert_eq!(c[1].system_code, None);
}
