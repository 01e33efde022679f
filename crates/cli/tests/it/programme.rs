//! `footprint fund`, `footprint vanguards` and `footprint programme` end to end.

use super::footprint;
use serde_json::Value;

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn json(args: &[&str]) -> Value {
    let out = footprint().args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn fund_select_answers_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    // Budget 10. Best without quotas: B + C + D (value 20, cost 9). With at most one mcp and at
    // least one uec: D, then one mcp and maybe E in the 7 left: C + D + E (17) beats A + D (15).
    let bids = write(
        dir.path(),
        "bids.csv",
        "id,model,region_code,cost,value,quintile\nA,mcp,Y56,6,10,1\nB,mcp,Y56,2,6,2\nC,mcp,Y58,4,9,1\nD,uec,Y58,3,5,5\nE,pacs,Y58,2,3,5\n",
    );
    let rules = write(
        dir.path(),
        "rules.toml",
        "budget = 10\n[[quota]]\nfield = \"model\"\nvalue = \"mcp\"\nmax = 1\n[[quota]]\nfield = \"model\"\nvalue = \"uec\"\nmin = 1\nmax = 3\n",
    );
    let v = json(&[
        "fund",
        "select",
        "--bids",
        bids.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(v["feasible"], true);
    assert_eq!(v["selected"], serde_json::json!(["C", "D", "E"]));
    assert_eq!(v["total_cost"], 9.0);
    assert_eq!(v["total_value"], 17.0);
    assert_eq!(v["proven_optimal"], true);
    // A quota on another column of the CSV: both quintile-1 bids, A + C (19, all the budget).
    let rules = write(
        dir.path(),
        "q.toml",
        "budget = 10\n[[quota]]\nfield = \"quintile\"\nvalue = 1\nmin = 2\n",
    );
    let v = json(&[
        "fund",
        "select",
        "--bids",
        bids.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(v["selected"], serde_json::json!(["A", "C"]));
    assert_eq!(v["total_value"], 19.0);
    // No selection meets the rules: exit 0, feasible false, a reason.
    let rules = write(
        dir.path(),
        "none.toml",
        "budget = 1\n[[quota]]\nfield = \"model\"\nvalue = \"uec\"\nmin = 1\n",
    );
    let v = json(&[
        "fund",
        "select",
        "--bids",
        bids.to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(v["feasible"], false);
    assert_eq!(v["selected"], serde_json::json!([]));
    assert!(v["reason"].as_str().unwrap().contains("over the budget"));
}

#[test]
fn fund_select_refuses_bad_input_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "bids.csv",
        "id,model,region_code,cost,value\n1,mcp,Y56,5,1\n",
    );
    let neg = write(
        dir.path(),
        "neg.csv",
        "id,model,region_code,cost,value\n1,mcp,Y56,5,1\n2,mcp,Y56,-5,1\n",
    );
    let rules = write(dir.path(), "rules.toml", "budget = 10\n");
    let colour = write(
        dir.path(),
        "colour.toml",
        "budget = 10\n[[quota]]\nfield = \"colour\"\nvalue = \"red\"\n",
    );
    let minmax = write(
        dir.path(),
        "minmax.toml",
        "budget = 10\n[[quota]]\nfield = \"model\"\nvalue = \"mcp\"\nmin = 4\nmax = 1\n",
    );
    for (bids, rules, expect) in [
        (
            &neg,
            &rules,
            format!("{}:3:4: -5: cost must be at least 0", neg.display()),
        ),
        (
            &good,
            &colour,
            format!(
                "{}:3:9: colour: a quota's field must be a column of the bids",
                colour.display()
            ),
        ),
        (
            &good,
            &minmax,
            format!(
                "{}:5:7: 4: a quota's min must not exceed its max (1)",
                minmax.display()
            ),
        ),
    ] {
        let out = footprint()
            .args([
                "fund",
                "select",
                "--bids",
                bids.to_str().unwrap(),
                "--rules",
                rules.to_str().unwrap(),
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&expect), "{err}\nexpected {expect}");
    }
}

#[test]
fn vanguards_score_ranks_by_mean_z() {
    let dir = tempfile::tempdir().unwrap();
    let apps = write(
        dir.path(),
        "apps.csv",
        "id,applicant_org_code,name\n1,A,one\n2,B,two\n3,C,three\n",
    );
    // R: 2, 4 (mean 3, sd 1): z -1, +1. S: 9, 9 (sd 0): z 0, 0. A on its own bid: not counted.
    // B declares a conflict on 1: not counted.
    let reviews = write(
        dir.path(),
        "reviews.csv",
        "reviewer_org_code,application_id,score,conflict\nR,1,2,false\nR,2,4,false\nS,1,9,false\nS,2,9,false\nA,1,10,false\nB,1,1,true\n",
    );
    let v = json(&[
        "vanguards",
        "score",
        "--applications",
        apps.to_str().unwrap(),
        "--reviews",
        reviews.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let r = v["ranking"].as_array().unwrap();
    assert_eq!(r[0]["id"], "2");
    assert_eq!(r[0]["score"], 0.5);
    assert_eq!(r[0]["reviews_used"], 2);
    assert_eq!(r[1]["id"], "1");
    assert_eq!(r[1]["score"], -0.5);
    assert_eq!(r[2]["id"], "3");
    assert_eq!(r[2]["score"], Value::Null);
    assert_eq!(r[2]["reviews_used"], 0);
    assert_eq!(v["excluded"].as_array().unwrap().len(), 2);
    let bad = write(
        dir.path(),
        "bad.csv",
        "reviewer_org_code,application_id,score,conflict\nR,9,2,false\n",
    );
    let out = footprint()
        .args([
            "vanguards",
            "score",
            "--applications",
            apps.to_str().unwrap(),
            "--reviews",
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("{}:2:2: 9: no application has this id", bad.display()))
    );
}

#[test]
fn a_programme_round_on_synthetic_england() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synthetic");
    footprint()
        .args(["-q", "synth", "--out"])
        .arg(&data)
        .args(["--scale", "0.003", "--seed", "4"])
        .assert()
        .success();
    let db = format!("sqlite://{}", dir.path().join("p.db").display());
    let s = json(&[
        "-q",
        "programme",
        "--database",
        &db,
        "scenario",
        data.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(s["applications"], 40);
    assert_eq!(s["refused"].as_array().unwrap().len(), 2);
    assert!(s["selected"].as_array().unwrap().len() >= 10);
    assert!(s["care_models"].as_u64().unwrap() >= 2);
    assert_eq!(s["slipping"].as_array().unwrap().len(), 1);
    let p = json(&["-q", "programme", "--database", &db, "show", "--format", "json"]);
    let refused: Vec<&Value> = p["applications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == "refused")
        .collect();
    assert_eq!(refused.len(), 2);
    for a in refused {
        assert_eq!(a["refusals"][0]["rule"], "deficit_support");
        assert!(
            a["refusals"][0]["reason"]
                .as_str()
                .unwrap()
                .contains("in deficit")
        );
    }
    assert!(
        p["ranking"]["excluded"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["reason"] == "self-review")
    );
    assert!(
        p["flexibilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "conflict_of_interest")
    );
    let sel = &p["selection"]["result"];
    assert_eq!(sel["feasible"], true);
    assert!(sel["total_cost"].as_f64().unwrap() <= sel["budget"].as_f64().unwrap());
    // Coverage: England's share of contract spend on new terms is positive (the vanguards).
    let c = json(&[
        "-q",
        "programme",
        "--database",
        &db,
        "coverage",
        data.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let england: Vec<&Value> = c
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "england")
        .collect();
    assert!(
        england
            .iter()
            .any(|r| r["spend_share"].as_f64().unwrap_or(0.0) > 0.0)
    );
    assert!(
        england
            .iter()
            .all(|r| r["population_share"].as_f64().unwrap_or(0.0) <= 1.0)
    );
}
