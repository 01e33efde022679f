//! `footprint budgets settle` through the command line: the JSON contract and its errors.

use crate::footprint;

fn write(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn settle_prints_parties_and_steps_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let terms = write(
        dir.path(),
        "t.toml",
        "kind = \"gain_loss_share\"\ntarget = 1000000\ndead_band = 0.01\ndead_band_mode = \"excess\"\n\
         [[party]]\nname = \"Trust\"\ngain_share = 0.5\nloss_share = 0.5\nloss_cap = 5000\n\
         [[party]]\nname = \"CCG\"\nremainder = true\n",
    );
    let out = footprint()
        .args(["-q", "budgets", "settle"])
        .arg(&terms)
        .args(["--actual", "1030000", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // £30,000 over, £10,000 inside the band: £20,000 shared; the trust's half capped at £5,000.
    assert_eq!(v["parties"][0]["party"], "Trust");
    assert_eq!(v["parties"][0]["transfer"], -5000.0);
    assert_eq!(v["parties"][0]["target"], 1_000_000.0);
    assert_eq!(v["parties"][0]["outturn"], 1_030_000.0);
    assert_eq!(v["parties"][1]["transfer"], -15000.0);
    assert!(v["steps"].as_array().unwrap().len() >= 4);

    // Per-party outturns from a CSV; a bad number names the file, line and column.
    let csv = write(dir.path(), "o.csv", "party,outturn\nTrust,600000\nCCG,400000\n");
    let out = footprint()
        .args(["-q", "budgets", "settle"])
        .arg(&terms)
        .arg("--outturn")
        .arg(&csv)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["outturn"], 1_000_000.0);
    assert_eq!(v["parties"][0]["outturn"], 600_000.0);
    assert_eq!(v["parties"][0]["transfer"], 0.0);
    let bad = write(dir.path(), "bad.csv", "party,outturn\nTrust,lots\n");
    footprint()
        .args(["-q", "budgets", "settle"])
        .arg(&terms)
        .arg("--outturn")
        .arg(&bad)
        .assert()
        .failure()
        .stderr(predicates::str::contains(
            "bad.csv:2:outturn: \"lots\": not a number",
        ));
}

/// Every file in `examples/` runs unchanged through the command line against the demo's
/// dataset (synthetic England at the demo's scale and seed): each terms file validates,
/// settles and simulates; each population gets a capitated budget from a need model fitted on
/// the demo; the outturn example settles the alliance it was written for.
#[test]
fn every_example_runs_unchanged_against_the_demo_dataset() {
    let examples = crate::root().join("examples");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synthetic");
    // `footprint demo` generates exactly this: its scale and the default seed.
    footprint()
        .args(["-q", "synth", "--out"])
        .arg(&data)
        .args(["--scale", "0.01"])
        .assert()
        .success();
    let truth = std::fs::read_to_string(data.join("truth.toml")).unwrap();
    let files = |sub: &str| -> Vec<std::path::PathBuf> {
        let mut v: Vec<_> = std::fs::read_dir(examples.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    };
    let mut ran = 0;
    for terms in files("terms") {
        footprint()
            .args(["-q", "budgets", "validate"])
            .arg(&terms)
            .assert()
            .success();
        let text = std::fs::read_to_string(&terms).unwrap();
        let mut settle = footprint();
        settle.args(["-q", "budgets", "settle"]).arg(&terms);
        // An alliance settles on each member's outturn, activity and quality: its own example.
        let name = terms.file_stem().unwrap().to_string_lossy().to_string();
        let outturn = examples.join("outturns").join(format!("{name}.csv"));
        if outturn.is_file() {
            settle.arg("--outturn").arg(&outturn);
        } else {
            assert!(
                !text.contains("alliance_budget"),
                "{name} needs an outturn example"
            );
            settle.args(["--actual", "1000000"]);
        }
        let out = settle.args(["--format", "json"]).output().unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!v["parties"].as_array().unwrap().is_empty(), "{name}");
        footprint()
            .args(["-q", "budgets", "simulate"])
            .arg(&terms)
            .args(["--years", "500"])
            .assert()
            .success();
        ran += 1;
    }
    assert_eq!(files("outturns").len(), 1);
    let model = dir.path().join("model");
    footprint()
        .args(["-q", "budgets", "fit"])
        .arg(&data)
        .arg("--out")
        .arg(&model)
        .assert()
        .success();
    for pop in files("populations") {
        let text = std::fs::read_to_string(&pop).unwrap();
        // The MCP example lists the demo's planted MCP vanguard practices.
        if text.contains("model = \"mcp\"") {
            for code in text.split('"').filter(|c| c.len() == 6 && c.starts_with('J')) {
                assert!(
                    truth.contains(&format!("\"{code}\"")),
                    "{code} is not in the demo's MCP"
                );
            }
        }
        let out = footprint()
            .args(["-q", "budgets", "capitation"])
            .arg(&data)
            .arg("--model")
            .arg(model.join("model.toml"))
            .arg(&pop)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            pop.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let b = &v[0];
        assert!(b["persons"].as_u64().unwrap() > 1000, "{}: {b}", pop.display());
        assert!(b["target"].as_f64().unwrap() > 0.0, "{}", pop.display());
        ran += 1;
    }
    assert_eq!(ran, 7, "five terms files and two populations");
}
