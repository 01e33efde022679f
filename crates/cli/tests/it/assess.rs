//! `footprint assess` through the command line: the JSON contract, the league table, the
//! refusal of published figures, and `assess diff`.

use crate::footprint;

const HEAD: &str = "indicator_id,entity_kind,entity_code,level,grain,period,numerator,denominator,value,lower_95,upper_95,lower_998,upper_998,org_kind\n";

/// A copy of the tiny valid dataset (loading it for use writes a receipt into it, which must
/// not land in the shared fixture).
fn valid_copy(dir: &std::path::Path) -> std::path::PathBuf {
    let to = dir.join("dataset");
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(crate::fixture("valid")).unwrap() {
        let e = e.unwrap();
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    to
}

/// `footprint -q assess` with `packs` in order over `table`, writing to `out`.
fn assess(
    packs: &[&str],
    table: &std::path::Path,
    dataset: Option<&std::path::Path>,
    out: &std::path::Path,
) -> assert_cmd::Command {
    let mut cmd = footprint();
    cmd.args(["-q", "assess"]);
    for p in packs {
        cmd.args(["--pack", p]);
    }
    cmd.arg("--indicators").arg(table);
    if let Some(d) = dataset {
        cmd.arg("--dataset").arg(d);
    }
    cmd.arg("--out").arg(out);
    cmd
}

fn trust(code: &str, period: &str, [csc, liq, margin, dist, agency]: [f64; 5]) -> String {
    [
        ("capital_service_capacity", csc),
        ("liquidity_days", liq),
        ("ie_margin", margin),
        ("distance_from_plan", dist),
        ("agency_vs_cap", agency),
        ("control_total_agreed", 100.0),
    ]
    .iter()
    .map(|(i, v)| {
        format!("{i},organisation,{code},organisation,financial_year,{period},,,{v},,,,,acute_trust\n")
    })
    .collect()
}

#[test]
fn assess_writes_the_json_contract_and_diff_explains_moves() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.csv");
    let new = dir.path().join("new.csv");
    std::fs::write(
        &old,
        format!(
            "{HEAD}{}{}",
            trust("RAA", "2023/24", [3.0, 5.0, 2.0, 0.5, -1.0]),
            trust("RBB", "2023/24", [2.0, -1.0, 0.5, 0.5, 10.0])
        ),
    )
    .unwrap();
    // RAA's agency spend goes 60% over the cap: a 4, so the theme is capped at 3.
    std::fs::write(
        &new,
        format!(
            "{HEAD}{}{}",
            trust("RAA", "2024/25", [3.0, 5.0, 2.0, 0.5, 60.0]),
            trust("RBB", "2024/25", [2.0, -1.0, 0.5, 0.5, 10.0])
        ),
    )
    .unwrap();
    for (input, out) in [(&old, "a-old"), (&new, "a-new")] {
        footprint()
            .args(["-q", "assess", "--pack", "sof-2016", "--indicators"])
            .arg(input)
            .arg("--out")
            .arg(dir.path().join(out))
            .assert()
            .success();
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a-new/assessments.json")).unwrap())
            .unwrap();
    let raa = json
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["entity_code"] == "RAA")
        .unwrap();
    assert_eq!(raa["pack"], "sof-2016");
    assert_eq!(raa["period"], "2024/25");
    assert_eq!(raa["entity_kind"], "organisation");
    assert_eq!(raa["domains"]["finance"]["score"], 3.0);
    let agency = raa["domains"]["finance"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["indicator"] == "agency_vs_cap")
        .unwrap();
    assert_eq!(agency["score"], 4.0);
    assert_eq!(agency["rule"], "60 fails ≤ 50 → 4");
    assert_eq!(raa["segment"], 3);
    assert!(
        raa["overrides"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == "finance-4-caps" && o["applied"] == true)
    );
    assert!(raa["explanation"].as_str().unwrap().contains("segment: 3"));
    let league = std::fs::read_to_string(dir.path().join("a-new/league_sof-2016.csv")).unwrap();
    assert!(
        league.starts_with(
            "position,entity_code,org_kind,outcome,overall_score,overrides\n1,RBB,acute_trust,segment 2,"
        ),
        "{league}"
    );
    assert!(dir.path().join("a-new/assessments.parquet").is_file());
    let csv = std::fs::read_to_string(dir.path().join("a-new/assessments.csv")).unwrap();
    assert!(csv.lines().count() == 3, "{csv}");

    let out = footprint()
        .args(["-q", "assess", "diff"])
        .arg(dir.path().join("a-old"))
        .arg(dir.path().join("a-new"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("organisation RAA (sof-2016): segment 1 (2023/24) → segment 3 (2024/25)"),
        "{text}"
    );
    assert!(
        text.contains("agency_vs_cap: -1 ≤ 0 → 1 → 60 fails ≤ 50 → 4"),
        "{text}"
    );
    assert!(text.contains("now applies: finance-4-caps"), "{text}");
    assert!(!text.contains("RBB"), "{text}");
}

#[test]
fn assess_refuses_published_figures_and_unknown_kinds() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("indicators.csv"), HEAD).unwrap();
    footprint()
        .args(["-q", "assess", "--pack", "sof-2016", "--out", "x", "--indicators"])
        .arg(dir.path())
        .assert()
        .failure()
        .stderr(predicates::str::contains("assessment reads unsuppressed values"));
    let file = dir.path().join("no-kinds.csv");
    std::fs::write(&file, "indicator_id,entity_kind,entity_code,level,grain,period,value\nie_margin,organisation,RAA,organisation,financial_year,2024/25,1\n").unwrap();
    footprint()
        .args(["-q", "assess", "--pack", "sof-2016", "--out"])
        .arg(dir.path().join("o"))
        .arg("--indicators")
        .arg(&file)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "give --dataset DIR or an org_kind column",
        ));
    footprint()
        .args(["-q", "packs", "validate"])
        .arg(&file)
        .assert()
        .failure();
}

/// A table with months only (as the real A&E SitRep dataset) assesses no one, says so on the
/// command line and in `coverage.json`, and does not fail; a partial table names what it left out.
#[test]
fn assess_says_what_a_partial_table_left_out_instead_of_failing() {
    let dir = tempfile::tempdir().unwrap();
    let months = dir.path().join("months.csv");
    std::fs::write(
        &months,
        format!("{HEAD}ae_4h,organisation,RAL,organisation,month,2025-03,,,72.5,,,,,acute_trust\n"),
    )
    .unwrap();
    let out = assess(
        &["sof-2016", "system-2015"],
        &months,
        Some(&valid_copy(dir.path())),
        &dir.path().join("a"),
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note: pack sof-2016: not assessed: no indicator has a financial year value"),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: pack system-2015: not assessed"),
        "{stderr}"
    );
    let coverage: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a/coverage.json")).unwrap()).unwrap();
    assert_eq!(coverage[0]["pack"], "sof-2016");
    assert_eq!(coverage[0]["assessed"], 0);

    // A whole year of finance but no performance: assessed, with the metrics left out named.
    let part = dir.path().join("part.csv");
    std::fs::write(
        &part,
        format!("{HEAD}{}", trust("RAA", "2024/25", [3.0, 5.0, 2.0, 0.5, -1.0])),
    )
    .unwrap();
    let out = assess(&["sof-2016"], &part, None, &dir.path().join("b"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pack sof-2016: 1 assessed for 2024/25; left out metric operational (ae_4h)"),
        "{stderr}"
    );
    assert!(stderr.contains("left out domain operational"), "{stderr}");
}

/// A system pack counts members' segments from an earlier pack of the same run and needs each
/// organisation's system: run alone, or without a dataset, it would silently count no members.
#[test]
fn a_system_pack_without_its_members_pack_or_a_dataset_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.csv");
    std::fs::write(
        &t,
        format!("{HEAD}{}", trust("RAA", "2024/25", [3.0, 5.0, 2.0, 0.5, -1.0])),
    )
    .unwrap();
    assess(
        &["system-2015"],
        &t,
        Some(&valid_copy(dir.path())),
        &dir.path().join("a"),
    )
    .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "pack system-2015 counts its members' segments from pack sof-2016, which is not in this run: give --pack sof-2016 before --pack system-2015",
        ));
    assess(&["sof-2016", "system-2015"], &t, None, &dir.path().join("b"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("give --dataset DIR"));
    assert!(
        !dir.path().join("a").exists() && !dir.path().join("b").exists(),
        "nothing written"
    );
}
