//! The catalogue: the fixed default ids, and precise errors for bad definitions.

use engine::Catalogue;
use std::path::PathBuf;

#[test]
fn the_default_catalogue_has_the_fixed_indicator_ids() {
    let c = Catalogue::default_catalogue().expect("valid");
    let mut ids: Vec<&str> = c.indicators.iter().map(|i| i.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "ae_12h",
            "ae_4h",
            "ae_4h_type1",
            "agency_share",
            "agency_vs_cap",
            "bed_occupancy",
            "capital_service_capacity",
            "care_coordination",
            "commissioner_margin",
            "control_total_agreed",
            "control_total_delivery",
            "cqc_rating",
            "cqc_rating_mix",
            "cross_boundary_flow",
            "delayed_discharge_days",
            "distance_from_plan",
            "emergency_admissions_isr",
            "emergency_admissions_rate",
            "ie_margin",
            "liquidity_days",
            "new_terms_population_share",
            "new_terms_spend_share",
            "readmissions_30d",
            "rtt_18w",
            "rtt_52w",
            "system_surplus_share",
            "workforce_vacancy_rate",
        ]
    );
    // The built-in copy is the folder in the repository.
    let dir = Catalogue::read_dir(&crate::root().join("catalogue/indicators")).expect("valid folder");
    assert_eq!(dir.indicators.len(), c.indicators.len());
}

const GOOD: &str = r#"
format = 1
id = "mine"
title = "Mine"
description = "A test indicator."
domain = "test"
unit = "percent"
direction = "higher"
grains = ["month"]
multiplier = 100.0
ci = "wilson"

[numerator]
table = "ae_monthly"
when = "period"
value = "sum(attendances_type1)"

[denominator]
table = "ae_monthly"
when = "period"
value = "sum(attendances_type1 + attendances_other)"

[[attribution]]
path = "provider"
levels = ["provider", "england"]
"#;

fn problems(text: &str) -> Vec<String> {
    Catalogue::from_texts([(PathBuf::from("catalogue/mine.toml"), text.to_string())])
        .expect_err("refused")
        .into_iter()
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn a_good_definition_loads() {
    let c = Catalogue::from_texts([(PathBuf::from("catalogue/mine.toml"), GOOD.to_string())]).expect("valid");
    assert_eq!(c.indicators[0].id, "mine");
}

#[test]
fn bad_definitions_name_the_file_the_place_and_the_rule() {
    assert_eq!(
        problems(&GOOD.replace("direction = \"higher\"", "direction = \"up\"")),
        [
            "catalogue/mine.toml: line 8, column 13: unknown variant `up`, expected one of `higher`, `lower`, `none`"
        ]
    );
    assert_eq!(
        problems(&GOOD.replace("domain = \"test\"", "domain = \"test\"\ncolour = \"red\"")),
        [
            "catalogue/mine.toml: line 7, column 1: unknown field `colour`, expected one of `format`, `id`, `title`, `description`, `domain`, `unit`, `direction`, `grains`, `multiplier`, `ci`, `standardisation`, `target`, `derived`, `numerator`, `denominator`, `attribution`"
        ]
    );
    assert_eq!(
        problems(&GOOD.replace("id = \"mine\"", "id = \"yours\"")),
        ["catalogue/mine.toml: id: \"yours\": must match the file name (mine.toml)"]
    );
    assert_eq!(
        problems(&GOOD.replace("levels = [\"provider\", \"england\"]", "levels = [\"practice\"]")),
        [
            "catalogue/mine.toml: attribution: path \"provider\" cannot reach level \"practice\" (it reaches provider, system, region, england)"
        ]
    );
    assert_eq!(
        problems(&GOOD.replace(
            "table = \"ae_monthly\"\nwhen = \"period\"\nvalue = \"sum(attendances_type1)\"",
            "table = \"ae_weekly\"\nwhen = \"period\"\nvalue = \"sum(attendances_type1)\""
        )),
        [
            "catalogue/mine.toml: numerator.table: \"ae_weekly\": not a table of the data contract nor a [[derived]] table"
        ]
    );
    assert_eq!(
        problems(&GOOD.replace("unit = \"percent\"", "unit = \"days\"")),
        ["catalogue/mine.toml: ci: \"wilson\" is for proportions, whose unit is \"percent\""]
    );
    assert_eq!(
        problems(&GOOD.replace("format = 1", "format = 2")),
        ["catalogue/mine.toml: format: 2: this build reads catalogue format 1"]
    );
    assert_eq!(
        problems(&GOOD.replace("grains = [\"month\"]", "grains = []")).len(),
        1
    );
    // Two paths feeding one level would count it twice.
    let twice = format!("{GOOD}\n[[attribution]]\npath = \"organisation\"\nlevels = [\"england\"]\n");
    assert_eq!(
        problems(&twice),
        ["catalogue/mine.toml: attribution: level \"england\" is fed by more than one path"]
    );
}

#[test]
fn the_same_id_twice_is_refused() {
    let files = [
        (PathBuf::from("a/mine.toml"), GOOD.to_string()),
        (PathBuf::from("b/mine.toml"), GOOD.to_string()),
    ];
    let p = Catalogue::from_texts(files).expect_err("refused");
    assert_eq!(p.len(), 1);
    assert_eq!(
        p[0].to_string(),
        "b/mine.toml: id: \"mine\": defined twice in the catalogue"
    );
}
