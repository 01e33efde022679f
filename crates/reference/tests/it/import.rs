//! The importers on the real publications shipped in `data/real` (OGL), in their published
//! layouts: the publication's totals equal the dataset's after import, every file; damaged
//! files are refused and leave the dataset byte for byte unchanged.
//!
//! The expected totals were computed independently with Python (csv, xlrd and openpyxl
//! reading the same files; the RTT totals from each workbook's National sheet, which the
//! importer does not read).

use reference::import::{self, mapping::Mappings};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn real(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data/real")
        .join(sub)
}

/// The England skeleton with its window widened back to April 2014.
fn skeleton() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in reference::embedded::FILES {
        let mut text = String::from_utf8(bytes.to_vec()).unwrap();
        if *name == "manifest.toml" {
            text = text.replace("from = \"2024-06\"", "from = \"2014-04\"");
        }
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn read(dir: &Path, table: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(dir.join(format!("{table}.csv"))).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn sum(
    rows: &[BTreeMap<String, String>],
    col: &str,
    keep: impl Fn(&BTreeMap<String, String>) -> bool,
) -> f64 {
    rows.iter()
        .filter(|r| keep(r))
        .filter_map(|r| r[col].parse::<f64>().ok())
        .sum()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(1.0)
}

/// Every file of the dataset folder and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

fn every_total_equal(done: &import::Imported) {
    assert!(!done.totals.is_empty());
    for (what, published, imported) in &done.totals {
        assert!(
            close(*published, *imported),
            "{what}: published {published}, imported {imported}"
        );
    }
}

#[test]
fn rtt_commissioner_workbooks_keep_the_national_totals() {
    let d = skeleton();
    let payments = [real("gp_payments/gp-payments-14-15.csv")];
    import::payments::import(&payments, d.path(), None, &Mappings::builtin()).unwrap();
    let files: Vec<PathBuf> = std::fs::read_dir(real("rtt"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let done = import::rtt::import(&files, d.path()).unwrap();
    every_total_equal(&done);
    let rtt = read(d.path(), "rtt");
    // From each workbook's National sheet (total row, IP999): waiting, within 18, 52 plus.
    for (month, waiting, within, over52) in [
        ("2015-03", 3_006_877.0, 2_800_845.0, 475.0),
        ("2015-04", 3_022_512.0, 2_821_088.0, 413.0),
    ] {
        let m = |r: &BTreeMap<String, String>| r["period"] == month;
        assert_eq!(sum(&rtt, "waiting", m), waiting, "{month}");
        assert_eq!(sum(&rtt, "within_18_weeks", m), within, "{month}");
        assert_eq!(sum(&rtt, "over_52_weeks", m), over52, "{month}");
    }
    // Commissioner level: no provider; 211 CCGs and NHS England in April, 212 in March.
    assert!(rtt.iter().all(|r| r["provider_code"].is_empty()));
    assert_eq!(rtt.iter().filter(|r| r["period"] == "2015-04").count(), 210);
    assert_eq!(rtt.iter().filter(|r| r["period"] == "2015-03").count(), 212);
    // Eastern Cheshire CCG, March 2015, general surgery incomplete: the workbook's row 15.
    let spec = read(d.path(), "rtt_specialty");
    let row = spec
        .iter()
        .find(|r| {
            r["period"] == "2015-03"
                && r["commissioner_code"] == "01C"
                && r["pathway"] == "incomplete"
                && r["treatment_function"] == "100"
        })
        .unwrap();
    assert_eq!(row["treatment_function_name"], "General Surgery");
    // Completed pathways are kept by type, adding up to the workbooks' totals.
    let admitted = sum(&spec, "pathways", |r| r["pathway"] == "admitted");
    let non_admitted = sum(&spec, "pathways", |r| r["pathway"] == "non_admitted");
    assert!(admitted > 290_000.0 && admitted < 293_000.0, "{admitted}");
    assert!(
        non_admitted > 840_000.0 && non_admitted < 848_000.0,
        "{non_admitted}"
    );
    // 2015's CCG codes were resolved by the 2014/15 payments file; X24 is national.
    let x24 = done.resolved.iter().find(|r| r.code == "X24").unwrap();
    assert!(x24.how.contains("national"), "{}", x24.how);
    let orgs = read(d.path(), "organisations");
    let c01 = orgs.iter().find(|o| o["org_code"] == "01C").unwrap();
    assert_eq!(c01["closed"], "2022-06-30");
    assert!(!c01["successor_code"].is_empty());
    assert!(!c01["system_code"].is_empty());
}

#[test]
fn rtt_full_csv_in_the_published_layout() {
    let d = skeleton();
    // Two providers of the skeleton, one commissioner; bands 0-1, 17-18, 18-19, 52-53, 104+.
    let mut header = vec![
        "Period",
        "Provider Parent Org Code",
        "Provider Parent Name",
        "Provider Org Code",
        "Provider Org Name",
        "Commissioner Parent Org Code",
        "Commissioner Parent Name",
        "Commissioner Org Code",
        "Commissioner Org Name",
        "RTT Part Type",
        "RTT Part Description",
        "Treatment Function Code",
        "Treatment Function Name",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    for lo in 0..104 {
        header.push(format!("Gt {lo:02} To {:02} Weeks SUM 1", lo + 1));
    }
    header.push("Gt 104 Weeks SUM 1".into());
    header.extend(["Total", "Patients with unknown clock start date", "Total All"].map(String::from));
    let row = |prov: &str, part: &str, tf: &str, bands: &[(usize, u32)]| {
        let mut cells = vec![
            "RTT-April-2025".to_string(),
            "Y56".into(),
            "LONDON".into(),
            prov.into(),
            "A TRUST".into(),
            "QMJ".into(),
            "ICB".into(),
            "93C".into(),
            "NHS NORTH CENTRAL LONDON ICB - 93C".into(),
            part.into(),
            "x".into(),
            tf.into(),
            "General Surgery".into(),
        ];
        let mut b = vec![String::new(); 105];
        let mut total = 0;
        for (i, v) in bands {
            b[*i] = v.to_string();
            total += v;
        }
        cells.extend(b);
        cells.extend([total.to_string(), String::new(), total.to_string()]);
        cells.join(",")
    };
    let lines = [
        header.join(","),
        row(
            "RAL",
            "Part_2",
            "C_100",
            &[(0, 10), (17, 5), (18, 3), (52, 2), (104, 1)],
        ),
        row(
            "RAL",
            "Part_2",
            "C_999",
            &[(0, 10), (17, 5), (18, 3), (52, 2), (104, 1)],
        ),
        row("RAP", "Part_2", "C_100", &[(0, 7)]),
        row("RAP", "Part_2", "C_999", &[(0, 7)]),
        row("RAL", "Part_1A", "C_100", &[(0, 4), (20, 1)]),
    ];
    let f = d.path().join("full.csv");
    std::fs::write(&f, lines.join("\n")).unwrap();
    let done = import::rtt::import(&[f], d.path()).unwrap();
    every_total_equal(&done);
    let rtt = read(d.path(), "rtt");
    let ral = rtt.iter().find(|r| r["provider_code"] == "RAL").unwrap();
    // Within 18 weeks: bands up to 17-18 (10 + 5); over 52: from 52-53 (2 + 1).
    assert_eq!(
        (
            ral["waiting"].as_str(),
            ral["within_18_weeks"].as_str(),
            ral["over_52_weeks"].as_str()
        ),
        ("21", "15", "3")
    );
    assert_eq!(ral["commissioner_code"], "93C");
    let spec = read(d.path(), "rtt_specialty");
    assert_eq!(spec.len(), 3, "the C_999 totals are not detail");
    let adm = spec.iter().find(|r| r["pathway"] == "admitted").unwrap();
    assert_eq!(
        (adm["pathways"].as_str(), adm["within_18_weeks"].as_str()),
        ("5", "4")
    );
}

#[test]
fn gp_payments_both_layouts_keep_their_totals_and_build_the_crosswalk() {
    let d = skeleton();
    let files = [
        real("gp_payments/gp-payments-14-15.csv"),
        real("gp_payments/gp-payments-22-23.csv"),
    ];
    let done = import::payments::import(&files, d.path(), None, &Mappings::builtin()).unwrap();
    every_total_equal(&done);
    let rows = read(d.path(), "gp_payments");
    for (year, n, registered, weighted, total) in [
        ("2014/15", 7959, 56_633_982.0, 56_625_866.0, 7_990_324_226.0),
        ("2022/23", 6669, 62_134_644.75, 62_130_227.86, 10_230_094_803.7),
    ] {
        let y = |r: &BTreeMap<String, String>| r["period"] == year;
        assert_eq!(rows.iter().filter(|r| y(r)).count(), n);
        assert!(close(sum(&rows, "registered_patients", y), registered), "{year}");
        assert!(close(sum(&rows, "weighted_patients", y), weighted), "{year}");
        assert!(close(sum(&rows, "total_payments", y), total), "{year}");
    }
    // 2022/23's commissioner is the sub-ICB location, not the PCN its "CCG NAME" names.
    let densham = rows
        .iter()
        .find(|r| r["period"] == "2022/23" && r["practice_code"] == "A81001")
        .unwrap();
    assert_eq!(densham["commissioner_code"], "16C");
    // Every old code's shares add up to one.
    let walk = read(d.path(), "code_crosswalk");
    let mut shares: BTreeMap<&str, f64> = BTreeMap::new();
    for w in &walk {
        *shares.entry(w["old_code"].as_str()).or_default() += w["share"].parse::<f64>().unwrap();
    }
    assert!(shares.len() > 100);
    for (code, s) in shares {
        assert!((s - 1.0).abs() < 1e-4, "{code}: {s}");
    }
}

#[test]
fn gp_lists_workforce_and_fingertips_keep_their_totals() {
    let d = skeleton();
    let lists: Vec<PathBuf> = [
        "gp-reg-pat-prac-all-2021-01.csv",
        "gp-reg-pat-prac-quin-age-2017-09-subset.csv",
        "gp-reg-pat-prac-quin-age-2017-10-subset.csv",
    ]
    .map(|f| real("gp_lists").join(f))
    .to_vec();
    every_total_equal(&import::lists::import(&lists, d.path()).unwrap());
    let pop = read(d.path(), "population");
    assert_eq!(sum(&pop, "persons", |r| r["period"] == "2017-09"), 28_281.0);
    assert_eq!(sum(&pop, "persons", |r| r["period"] == "2017-10"), 28_276.0);
    assert!(pop.iter().all(|r| r["sex"] == "F" || r["sex"] == "M"));
    let sizes = read(d.path(), "list_sizes");
    assert_eq!(sum(&sizes, "registered_patients", |_| true), 60_606_345.0);

    let wf = [real(
        "workforce/hchs-staff-by-staff-group-nationality-and-organisation-september-2017-and-june-2018_ah2324.xlsx",
    )];
    every_total_equal(&import::workforce::import(&wf, d.path(), &Mappings::builtin()).unwrap());
    let w = read(d.path(), "workforce");
    assert!((sum(&w, "wte_in_post", |r| r["period"] == "2017-09") - 1_052_963.089).abs() < 0.01);
    assert!((sum(&w, "wte_in_post", |r| r["period"] == "2018-06") - 1_061_617.059).abs() < 0.01);

    let ft: Vec<PathBuf> = std::fs::read_dir(real("fingertips"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    every_total_equal(&import::fingertips::import(&ft, d.path()).unwrap());
    let ext = read(d.path(), "external_indicators");
    assert_eq!(ext.len(), 224 + 7610 + 6547 + 464);
    assert_eq!(sum(&ext, "count", |r| r["indicator_id"] == "247"), 11_012_446.0);
    assert_eq!(
        sum(&ext, "denominator", |r| r["indicator_id"] == "93930"),
        39_676_213.0
    );
}

#[test]
fn headcount_tables_are_refused_as_not_fte() {
    let d = skeleton();
    let before = snapshot(d.path());
    let f = real("workforce/EU_and_UK_nationals_by_staff_group_and_organisation__September_2016.xlsx");
    let e = import::workforce::import(&[f], d.path(), &Mappings::builtin())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not FTE"), "{e}");
    assert_eq!(snapshot(d.path()), before);
}

#[test]
fn damaged_files_are_refused_and_the_dataset_is_unchanged() {
    let d = skeleton();
    import::payments::import(
        &[real("gp_payments/gp-payments-14-15.csv")],
        d.path(),
        None,
        &Mappings::builtin(),
    )
    .unwrap();
    let before = snapshot(d.path());
    let work = tempfile::tempdir().unwrap();

    // A payments file without its weighted-patients column: refused, naming it.
    let text = std::fs::read_to_string(real("gp_payments/gp-payments-22-23.csv")).unwrap();
    let damaged = work.path().join("gp-payments-22-23.csv");
    std::fs::write(
        &damaged,
        text.replacen("Number of Weighted Patients (Last Known Figure)", "Weighted", 1),
    )
    .unwrap();
    let e = import::payments::import(
        std::slice::from_ref(&damaged),
        d.path(),
        None,
        &Mappings::builtin(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("weighted_patients"), "{e}");
    assert_eq!(snapshot(d.path()), before);

    // A count that is not a number: file:line:column: value: rule.
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let cells: Vec<&str> = lines[3].split(',').collect();
    let bad = lines[3].replacen(&format!(",{},", cells[17]), ",lots,", 1);
    lines[3] = bad;
    std::fs::write(&damaged, lines.join("\n")).unwrap();
    let e = import::payments::import(&[damaged], d.path(), None, &Mappings::builtin())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(
            "gp-payments-22-23.csv:4:Number of Registered Patients (Last Known Figure): lots: not a number"
        ),
        "{e}"
    );
    assert_eq!(snapshot(d.path()), before);

    // A truncated workbook: refused; and an RTT import whose second file is bad writes nothing.
    let bytes = std::fs::read(real("rtt/Incomplete-Commissioner-Apr15-revised-XLS-2101K.xls")).unwrap();
    let cut = work.path().join("Incomplete-Commissioner-Apr15.xls");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let good = real("rtt/Incomplete-Commissioner-Mar15-revised-XLS-2357K.xls");
    assert!(import::rtt::import(&[good.clone(), cut], d.path()).is_err());
    assert_eq!(snapshot(d.path()), before);

    // A month outside the dataset's window: refused, naming the window.
    let narrow = skeleton();
    let nb = snapshot(narrow.path());
    std::fs::write(
        narrow.path().join("manifest.toml"),
        String::from_utf8(nb["manifest.toml"].clone())
            .unwrap()
            .replace("2014-04", "2024-06"),
    )
    .unwrap();
    let nb = snapshot(narrow.path());
    let e = import::rtt::import(&[good], narrow.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("outside the dataset's window"), "{e}");
    assert_eq!(snapshot(narrow.path()), nb);
}

#[test]
fn a_spreadsheet_cell_error_names_the_sheet_and_cell() {
    let d = skeleton();
    let work = tempfile::tempdir().unwrap();
    // A workforce CSV in the long layout with a bad FTE on its third line.
    let f = work.path().join("workforce.csv");
    std::fs::write(&f, "Month,Organisation code,Organisation name,Staff group,FTE\n2024-SEP,RAL,Royal Free,HCHS doctors,10\n2024-SEP,RAL,Royal Free,Midwives,-3\n").unwrap();
    let e = import::workforce::import(&[f], d.path(), &Mappings::builtin())
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("workforce.csv:3:FTE: -3: cannot be negative"), "{e}");
    let g = work.path().join("groups.csv");
    std::fs::write(
        &g,
        "Month,Organisation code,Organisation name,Staff group,FTE\n2024-SEP,RAL,Royal Free,Astronauts,1\n",
    )
    .unwrap();
    let e = import::workforce::import(&[g], d.path(), &Mappings::builtin())
        .unwrap_err()
        .to_string();
    assert!(e.contains("Astronauts") && e.contains("staff_groups"), "{e}");
    assert_eq!(import::sheet::column_letters(0), "A");
    assert_eq!(import::sheet::column_letters(27), "AB");
}

#[test]
fn years_come_from_the_payments_file_names() {
    use import::payments::year_from_name;
    assert_eq!(
        year_from_name(Path::new("gp-payments-14-15.csv")).as_deref(),
        Some("2014/15")
    );
    assert_eq!(
        year_from_name(Path::new("nhspaymentsgp-2022-23.csv")).as_deref(),
        Some("2022/23")
    );
    assert_eq!(year_from_name(Path::new("payments.csv")), None);
    assert_eq!(year_from_name(Path::new("gp-payments-14-16.csv")), None);
}

#[test]
fn the_built_in_mappings_parse() {
    let m = Mappings::parse(import::mapping::DEFAULT, Path::new("mappings.toml")).unwrap();
    assert!(m.workforce.staff_groups.values().any(|g| g == "medical"));
    let bad = import::mapping::DEFAULT.replace("format = 1", "format = 2");
    assert!(
        Mappings::parse(&bad, Path::new("m.toml"))
            .unwrap_err()
            .to_string()
            .contains("format 2")
    );
}
