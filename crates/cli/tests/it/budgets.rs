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
