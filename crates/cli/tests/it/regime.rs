//! `footprint regime` through the command line: the JSON interface other tools rely on.

use crate::footprint;

fn tiny() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/data/tiny")
}

#[test]
fn regime_sync_cases_interventions_and_conflicts_as_json() {
    let dir = tempfile::tempdir().unwrap();
    // A copy, so the dataset's receipt is written there and not into the repository.
    let data = dir.path().join("tiny");
    std::fs::create_dir_all(&data).unwrap();
    for e in std::fs::read_dir(tiny()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), data.join(e.file_name())).unwrap();
    }
    let db = format!("sqlite://{}", dir.path().join("r.db").display());
    let run = |args: &[&str]| {
        let out = footprint()
            .args(["-q", "regime", "--database", &db, "--actor", "tester"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let json = |args: &[&str]| -> serde_json::Value { serde_json::from_str(&run(args)).unwrap() };
    let synced = run(&["sync", "--dataset", data.to_str().unwrap()]);
    // The tiny dataset's systems are none of them challenged: the summary says so in its
    // counts, and the register holds no case until one is opened by hand (as #1).
    assert!(
        synced
            .trim_end()
            .ends_with(": 0 systems challenged; opened 0 cases; 0 already open; 3 reporting schedules set"),
        "{synced}"
    );
    assert_eq!(json(&["cases", "--format", "json"]), serde_json::json!([]));
    assert_eq!(
        run(&["cases", "open", "--system", "QMJ", "--reason", "by hand"]).trim(),
        "opened case #1"
    );
    run(&[
        "cases",
        "commit",
        "1",
        "--stakeholder",
        "RAL",
        "--kind",
        "trust",
        "--care-model",
        "urgent_and_emergency_care_network",
        "--description",
        "keep beds",
        "--lever",
        "RAL:acute_beds:10",
    ]);
    let opened = run(&[
        "interventions",
        "open",
        "--regulator",
        "monitor",
        "--org",
        "RAL",
        "--kind",
        "enforcement_undertaking",
        "--legal-basis",
        "s.106",
        "--start",
        "2025-04-01",
        "--deadline",
        "2025-09-30",
        "--lever",
        "RAL:acute_beds:-5",
    ]);
    assert!(opened.contains("opened intervention #1"), "{opened}");
    assert!(opened.contains("conflict (against_plan)"), "{opened}");

    let cases = json(&["cases", "--format", "json"]);
    assert_eq!(cases[0]["id"], 1);
    assert_eq!(cases[0]["system_code"], "QMJ");
    assert_eq!(cases[0]["status"], "open");
    let interventions = json(&["interventions", "--format", "json"]);
    assert_eq!(interventions[0]["id"], 1);
    assert_eq!(interventions[0]["system_code"], "QMJ");
    assert_eq!(interventions[0]["status"], "open");
    let conflicts = json(&["conflicts", "--format", "json"]);
    let kinds: Vec<&str> = conflicts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"against_plan") && kinds.contains(&"unlinked"),
        "{kinds:?}"
    );
    for c in conflicts.as_array().unwrap() {
        for field in [
            "id",
            "system_code",
            "status",
            "kind",
            "org_code",
            "intervention_ids",
            "explanation",
        ] {
            assert!(!c[field].is_null(), "{field} missing in {c}");
        }
        assert_eq!(c["org_code"], "RAL");
        assert_eq!(c["intervention_ids"][0], 1);
    }
    // Delivery tracking: RAL's system QMJ had 74.2% within four hours in April 2024 (the
    // engine's tiny fixture), against a 76% trajectory; the commitment has no date.
    run(&[
        "cases",
        "trajectory",
        "1",
        "--indicator",
        "ae_4h",
        "--grain",
        "month",
        "--period",
        "2024-04",
        "--target",
        "76",
        "--direction",
        "higher",
    ]);
    // The commitment changes before it is delivered: a date and 2 more beds.
    let changed = run(&[
        "cases",
        "change",
        "1",
        "--due",
        "2024-12-31",
        "--lever",
        "RAL:acute_beds:12",
    ]);
    assert!(changed.contains("changed commitment #1"), "{changed}");
    let case = json(&["cases", "--format", "json"])[0].clone();
    assert_eq!(case["commitments"][0]["due"], "2024-12-31");
    assert_eq!(case["plan_totals"]["acute_beds"], 12.0, "{case}");
    run(&["cases", "done", "1"]);
    let t = json(&[
        "track",
        "1",
        "--dataset",
        data.to_str().unwrap(),
        "--as-of",
        "2024-06-01",
        "--format",
        "json",
    ]);
    assert_eq!(t["milestones"][0]["status"], "delivered");
    assert_eq!(t["trajectories"][0]["status"], "off_track", "{t}");
    assert!(
        (t["trajectories"][0]["actual"].as_f64().unwrap() - 100.0 * 8_900.0 / 12_000.0).abs() < 1e-9,
        "{t}"
    );
    assert_eq!(t["on_track"], false);
    // Refusals name the problem and change nothing.
    let out = footprint()
        .args([
            "-q",
            "regime",
            "--database",
            &db,
            "cases",
            "close",
            "1",
            "--reason",
            "x",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "no exit criteria: closes");
    let bad = footprint()
        .args([
            "-q",
            "regime",
            "--database",
            &db,
            "interventions",
            "open",
            "--regulator",
            "monitor",
            "--org",
            "RXX",
            "--kind",
            "warning_notice",
            "--legal-basis",
            "x",
            "--start",
            "2025-01-01",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("organisation \"RXX\": unknown"));
    assert_eq!(
        json(&["interventions", "--format", "json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let md = run(&["cases", "export", "1"]);
    assert!(md.starts_with("# Case 1 — system QMJ"), "{md}");
    let audit = json(&["audit", "--format", "json"]);
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["actor"] == "tester" && a["action"] == "open_intervention")
    );
    // Kinds from the registry: a flexibility needs its conditions and expiry, and granted with
    // no plan to support it is a conflict of its own.
    let flexibility = |extra: &[&str]| {
        let mut args = vec![
            "interventions",
            "open",
            "--regulator",
            "monitor",
            "--org",
            "RAL",
            "--kind",
            "flexibility",
            "--legal-basis",
            "NHS Act 2006 s.116A",
            "--start",
            "2025-04-01",
        ];
        args.extend_from_slice(extra);
        footprint()
            .args(["-q", "regime", "--database", &db, "--actor", "tester"])
            .args(&args)
            .output()
            .unwrap()
    };
    let out = flexibility(&["--expiry", "2026-03-31"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("kind flexibility: must give its conditions"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = flexibility(&[
        "--expiry",
        "2026-03-31",
        "--condition",
        "tariff waived for the frail elderly pathway",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("opened intervention #2"), "{said}");
    assert!(said.contains("conflict (flexibility_without_plan): Flexibility granted under the regime (intervention 2, monitor: tariff waived for the frail elderly pathway) on RAL has no recovery plan"), "{said}");
    // A user's registry: a kind of its own; a broken one is refused with its file named.
    let mine = dir.path().join("kinds.toml");
    std::fs::write(
        &mine,
        format!("{}\n[[kind]]\nid = \"peer_review\"\ntitle = \"Peer review\"\ndescription = \"By peers from another system.\"\n", store::kinds::BUILTIN),
    )
    .unwrap();
    let peer = [
        "interventions",
        "open",
        "--regulator",
        "monitor",
        "--org",
        "RAL",
        "--kind",
        "peer_review",
        "--legal-basis",
        "x",
        "--start",
        "2025-04-01",
    ];
    let out = footprint()
        .args(["-q", "regime", "--database", &db])
        .args(peer)
        .output()
        .unwrap();
    assert!(!out.status.success(), "the built-in registry has no peer_review");
    let out = footprint()
        .args([
            "-q",
            "regime",
            "--database",
            &db,
            "--kinds",
            mine.to_str().unwrap(),
        ])
        .args(peer)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(
        &mine,
        "format = 1\nversion = \"v\"\n[[kind]]\nid = \"x\"\ntitle = \"X\"\n",
    )
    .unwrap();
    let out = footprint()
        .args([
            "-q",
            "regime",
            "--database",
            &db,
            "--kinds",
            mine.to_str().unwrap(),
        ])
        .args(peer)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kinds.toml") && err.contains("description"), "{err}");
}

/// Special measures recorded in the register place the trust in segment 4 at the next sync,
/// which makes its system challenged (system-2015's member trigger) and opens a case naming the
/// intervention. Without it the same data opens no case for that system.
#[test]
fn special_measures_in_the_register_challenge_the_trusts_system() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("tiny");
    std::fs::create_dir_all(&data).unwrap();
    for e in std::fs::read_dir(tiny()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), data.join(e.file_name())).unwrap();
    }
    let run = |db: &str, args: &[&str]| {
        let out = footprint()
            .args(["-q", "regime", "--database", db, "--actor", "tester"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let cases = |db: &str| -> Vec<serde_json::Value> {
        serde_json::from_str::<serde_json::Value>(&run(db, &["cases", "--format", "json"]))
            .unwrap()
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let sync = ["sync", "--dataset", data.to_str().unwrap()];
    // Without special measures: QMJ is not challenged.
    let before = format!("sqlite://{}", dir.path().join("before.db").display());
    run(&before, &sync);
    assert!(
        !cases(&before).iter().any(|c| c["system_code"] == "QMJ"),
        "QMJ is challenged without special measures: the test could not fail"
    );
    // With an open special-measures intervention on RAL (a QMJ trust).
    let db = format!("sqlite://{}", dir.path().join("after.db").display());
    run(&db, &sync);
    let opened = run(
        &db,
        &[
            "interventions",
            "open",
            "--regulator",
            "monitor",
            "--org",
            "RAL",
            "--kind",
            "special_measures",
            "--legal-basis",
            "Health and Social Care Act 2012 s.106",
            "--start",
            "2025-04-01",
            "--action",
            "appoint an improvement director",
        ],
    );
    assert!(opened.contains("opened intervention #1"), "{opened}");
    let synced = run(&db, &sync);
    let all = cases(&db);
    let case = all
        .iter()
        .find(|c| c["system_code"] == "QMJ")
        .unwrap_or_else(|| panic!("no case for QMJ after special measures: {synced} {all:?}"));
    let reason = case["reason"].as_str().unwrap();
    assert!(
        reason.contains("RAL: special_measures opened by monitor on 2025-04-01 (intervention 1)"),
        "{reason}"
    );
    assert!(synced.contains(&format!("QMJ #{}", case["id"])), "{synced}");
    // A second sync opens nothing new.
    let again = run(&db, &sync);
    assert!(again.contains("opened 0 cases"), "{again}");
    assert!(again.contains("0 reporting schedules set"), "{again}");
    assert_eq!(cases(&db).len(), all.len());

    // The reporting calendar: challenged, QMJ reports monthly from today; its return for this
    // month can be recorded early, once.
    let returns = |args: &[&str]| -> Vec<serde_json::Value> {
        let mut a = vec!["returns", "--format", "json"];
        a.extend_from_slice(args);
        serde_json::from_str::<serde_json::Value>(&run(&db, &a))
            .unwrap()
            .as_array()
            .cloned()
            .unwrap()
    };
    let qmj = returns(&["--entity", "QMJ"]);
    assert_eq!(qmj.len(), 1, "{qmj:?}");
    assert_eq!(qmj[0]["frequency"], "monthly");
    assert_eq!(qmj[0]["outcome"], "challenged");
    assert_eq!(qmj[0]["status"], "open");
    let period = qmj[0]["period"].as_str().unwrap().to_string();
    let ral = returns(&["--entity", "RAL"]);
    assert_eq!(ral[0]["outcome"], "segment 4", "{ral:?}");
    let done = run(
        &db,
        &[
            "returns",
            "submit",
            "--entity",
            "QMJ",
            "--pack",
            "system-2015",
            "--period",
            &period,
            "--note",
            "board pack",
        ],
    );
    assert!(done.contains(&format!("QMJ system-2015 {period}")), "{done}");
    assert_eq!(returns(&["--entity", "QMJ"])[0]["status"], "submitted");
    assert_eq!(returns(&["--status", "submitted"]).len(), 1);
    let out = footprint()
        .args([
            "-q",
            "regime",
            "--database",
            &db,
            "--actor",
            "tester",
            "returns",
            "submit",
            "--entity",
            "QMJ",
            "--pack",
            "system-2015",
            "--period",
            &period,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "a second record of the same return is refused"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("was recorded as submitted"), "{err}");
}
