//! Building the England reference model from the raw files shipped in `data/england/raw`.

mod import;

use model::OrgKind;
use reference::{Contract, Rules, build};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn england() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/england")
}

fn contract() -> &'static Contract {
    static C: OnceLock<Contract> = OnceLock::new();
    C.get_or_init(|| {
        let rules = Rules::read(&england().join("rules.toml")).unwrap();
        build(&england().join("raw"), &rules).unwrap()
    })
}

fn table(name: &str) -> &'static reference::OutTable {
    contract().tables.iter().find(|t| t.name == name).unwrap()
}

fn count_kind(kind: OrgKind) -> usize {
    table("organisations")
        .rows
        .iter()
        .filter(|r| r[2] == kind.as_str())
        .count()
}

#[test]
fn the_skeleton_has_the_published_counts() {
    assert_eq!(table("regions").rows.len(), 7);
    assert_eq!(table("systems").rows.len(), 42);
    assert_eq!(count_kind(OrgKind::Commissioner), 106);
    assert_eq!(count_kind(OrgKind::GpPractice), 6_527);
    assert_eq!(count_kind(OrgKind::Pcn), 1_255);
    assert_eq!(table("lsoa").rows.len(), 32_844);
}

#[test]
fn trusts_are_typed_by_activity_then_name() {
    let b = &contract().bridged;
    // 202 open English trusts in the 2025 etr plus the 5 that closed during 2024/25.
    let trusts: usize = OrgKind::TRUSTS.iter().map(|k| count_kind(*k)).sum();
    assert_eq!(trusts, 207);
    assert_eq!(
        b.excluded_trusts,
        ["RQF", "RT4", "RYT"],
        "the three Welsh (Q99) trusts"
    );
    assert_eq!(count_kind(OrgKind::AmbulanceTrust), 10);
    assert_eq!(
        b.trust_kinds[&OrgKind::AcuteTrust],
        (135, 13),
        "122 with type-1 A&E plus 13 specialists"
    );
    let kind_of = |code: &str| {
        table("organisations")
            .rows
            .iter()
            .find(|r| r[0] == code)
            .map(|r| r[2].clone())
    };
    assert_eq!(
        kind_of("RP4").as_deref(),
        Some("acute_trust"),
        "Great Ormond Street, no type-1 A&E"
    );
    assert_eq!(
        kind_of("R1F").as_deref(),
        Some("acute_trust"),
        "Isle of Wight: type-1 activity decides"
    );
    assert_eq!(kind_of("RY6").as_deref(), Some("community_trust"));
    assert_eq!(kind_of("RXV").as_deref(), Some("mental_health_trust"));
}

#[test]
fn the_gaps_are_bridged_by_rule() {
    let b = &contract().bridged;
    let remapped: Vec<&str> = b.remapped_sub_icb.iter().map(|(_, ods)| ods.as_str()).collect();
    assert_eq!(remapped.len(), 6);
    for ods in ["06H", "01Y", "15E", "15M", "78H", "D2P2L"] {
        assert!(remapped.contains(&ods), "{ods}");
    }
    assert_eq!(b.independent_providers, 47);
    assert_eq!(
        b.practice_sites.len(),
        5,
        "SitRep sites that are GP practices stay practices"
    );
    assert_eq!(b.successors, 5);
    let rap = table("organisations")
        .rows
        .iter()
        .find(|r| r[0] == "RAP")
        .unwrap();
    assert_eq!((rap[7].as_str(), rap[8].as_str()), ("2024-12-31", "RAL"));
    let nl7 = table("organisations")
        .rows
        .iter()
        .find(|r| r[0] == "NL7")
        .unwrap();
    assert_eq!(
        (nl7[2].as_str(), nl7[3].as_str(), nl7[9].as_str()),
        ("independent_provider", "", "Y60")
    );
}

#[test]
fn sitrep_totals_match_the_published_figures() {
    // Jun 2024 – May 2025: 27.40m attendances, 74.0% within 4 hours (59.4% type 1).
    // calibration.md says 31.9m: its sum kept the national rows of July and September
    // 2024, which those two files spell `Total` rather than `TOTAL` (2.32m + 2.21m).
    let rows = &table("ae_monthly").rows;
    let year: Vec<_> = rows.iter().filter(|r| r[0].as_str() < "2025-06").collect();
    let n = |r: &Vec<String>, i: usize| r[i].parse::<f64>().unwrap();
    let attendances: f64 = year.iter().map(|r| n(r, 2) + n(r, 3)).sum();
    let over: f64 = year.iter().map(|r| n(r, 4) + n(r, 5)).sum();
    let within: f64 = (1.0 - over / attendances) * 100.0;
    assert_eq!(attendances, 27_402_344.0);
    assert!((within - 74.03).abs() < 0.01, "{within}");
    let type1: f64 = year.iter().map(|r| n(r, 2)).sum();
    let within1 = (1.0 - year.iter().map(|r| n(r, 4)).sum::<f64>() / type1) * 100.0;
    assert!((within1 - 59.41).abs() < 0.01, "{within1}");
}

#[test]
fn the_checked_in_contract_is_what_the_rules_build() {
    let dir = england().join("contract");
    assert_eq!(
        std::fs::read_to_string(dir.join("manifest.toml")).unwrap(),
        contract().manifest
    );
    for t in &contract().tables {
        let on_disk = std::fs::read(dir.join(format!("{}.csv", t.name))).unwrap();
        assert!(
            on_disk == t.to_csv(),
            "{}.csv is stale: run `footprint reference`",
            t.name
        );
    }
}

#[test]
fn the_output_is_deterministic() {
    let rules = Rules::read(&england().join("rules.toml")).unwrap();
    let again = build(&england().join("raw"), &rules).unwrap();
    assert_eq!(again.tables, contract().tables);
}

#[test]
fn bad_rules_are_refused_precisely() {
    let text = std::fs::read_to_string(england().join("rules.toml")).unwrap();
    let bad = text.replace("kind = \"ambulance_trust\"", "kind = \"ambulance\"");
    assert_eq!(
        Rules::parse(&bad).unwrap_err(),
        "trust_kinds: \"ambulance\" is not a kind of trust"
    );
    let unknown = text.replace("version = 1", "version = 1\nsurprise = true");
    assert!(
        Rules::parse(&unknown)
            .unwrap_err()
            .contains("unknown field `surprise`")
    );
}
