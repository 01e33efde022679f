//! The need model on a small synthetic England: it recovers the generator's true cost
//! drivers, and capitated budgets add up to the national total when every practice is covered.

use budgets::capitation::{self, Population};
use budgets::need::{self, Persons};

struct Fixture {
    _dir: tempfile::TempDir,
    truth: synth::Truth,
    ds: dataset::Dataset,
    engine: engine::Engine,
}

fn fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        let config = synth::Config {
            scale: 0.01,
            seed: 11,
            ..synth::Config::default()
        };
        synth::generate(dir.path(), &config, None, None).expect("generates");
        let truth = synth::Truth::read(dir.path()).expect("truth");
        let ds = dataset::load(dir.path(), &dataset::Options::default())
            .expect("valid")
            .dataset;
        let engine = engine::Engine::new(&ds).expect("engine");
        Fixture {
            _dir: dir,
            truth,
            ds,
            engine,
        }
    })
}

fn start() -> model::Month {
    model::Month::new(2024, 4).expect("month")
}

#[test]
fn the_fit_recovers_the_true_cost_drivers() {
    let f = fixture();
    let persons = Persons::read(&f.engine, start(), false).expect("persons");
    assert!(persons.len() > 400_000, "{}", persons.len());
    let m = need::fit(&persons).expect("fits");
    let truth = &f.truth.cost_model;
    // Conditions: each log rate ratio within 0.08 of the truth (the generator adds readmissions
    // and practice effects the model does not see).
    for (c, b) in &truth.conditions {
        let got = m.conditions[c];
        assert!((got - b).abs() < 0.08, "{c}: fitted {got}, true {b}");
    }
    assert!(
        (m.deprivation - truth.deprivation).abs() < 0.1,
        "deprivation {} vs {}",
        m.deprivation,
        truth.deprivation
    );
    // No multimorbidity effect beyond the conditions' own was planted.
    for (k, v) in &m.condition_count {
        assert!(v.abs() < 0.1, "{k} conditions: {v}");
    }
    // The age gradient: 80-84 against 40-44, women, within 0.15 on the log scale.
    let gap = |a: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>| {
        a["female"]["80-84"] - a["female"]["40-44"]
    };
    assert!(
        (gap(&m.age_sex) - gap(&truth.age_sex)).abs() < 0.15,
        "{} vs {}",
        gap(&m.age_sex),
        gap(&truth.age_sex)
    );
    // The fit report: calibrated in total (cells are intercepts), by decile and by age.
    let mu = need::score(&m, &persons);
    let (obs, pred): (f64, f64) = (persons.cost.iter().sum(), mu.iter().sum());
    assert!((obs / pred - 1.0).abs() < 1e-6, "{obs} vs {pred}");
    assert_eq!(m.fit.deciles.len(), 10);
    assert!(
        m.fit
            .deciles
            .windows(2)
            .all(|w| w[0].mean_predicted <= w[1].mean_predicted)
    );
    for d in &m.fit.deciles {
        assert!((d.mean_observed / d.mean_predicted - 1.0).abs() < 0.1, "{d:?}");
    }
    for (band, ratio) in &m.fit.calibration_by_age {
        assert!((ratio - 1.0).abs() < 1e-6, "{band}: {ratio}");
    }
    assert!(
        m.fit.r_squared > 0.05 && m.fit.r_squared < 0.9,
        "{}",
        m.fit.r_squared
    );
    assert!(m.dispersion > 1.0);
}

#[test]
fn budgets_for_every_practice_add_up_to_the_national_total() {
    let f = fixture();
    let persons = Persons::read(&f.engine, start(), false).expect("persons");
    let m = need::fit(&persons).expect("fits");
    let mu = need::score(&m, &persons);
    let need = need::by_practice(&persons, &mu);
    let inputs = capitation::inputs(&f.engine, &f.ds, start()).expect("inputs");
    let scope = ["acute", "community", "mental_health", "primary_care"];
    let national: f64 = inputs
        .spend
        .iter()
        .filter(|((_, s), _)| scope.contains(&s.as_str()))
        .map(|(_, v)| v)
        .sum();
    assert!(national > 0.0);
    let all = Population {
        name: "England".into(),
        model: None,
        practices: need.iter().map(|n| n.practice_code.clone()).collect(),
        systems: Vec::new(),
        scope: scope.iter().map(|s| s.to_string()).collect(),
        unavoidable_cost_factor: 1.0,
        max_increase: 0.035,
        max_decrease: 0.01,
    };
    let b = capitation::budget(&all, &persons, &need, &inputs).expect("budget");
    assert!(
        (b.target / national - 1.0).abs() < 1e-9,
        "{} vs {national}",
        b.target
    );
    assert!((b.need_index - 1.0).abs() < 1e-9);
    assert!(
        (b.current / national - 1.0).abs() < 1e-6,
        "{} vs {national}",
        b.current
    );
    // Split England into its systems: the parts add up to the whole.
    let systems: std::collections::BTreeSet<String> = f.ds.systems.iter().map(|s| s.code.clone()).collect();
    let mut sum = 0.0;
    for s in &systems {
        let pop = Population {
            systems: vec![s.clone()],
            practices: Vec::new(),
            ..all.clone()
        };
        let b = capitation::budget(&pop, &persons, &need, &inputs).expect("budget");
        sum += b.target;
        // Pace of change moves towards the target and never past it.
        let (lo, hi) = (b.current.min(b.target), b.current.max(b.target));
        assert!(b.next_year >= lo - 1e-6 && b.next_year <= hi + 1e-6);
    }
    assert!((sum / national - 1.0).abs() < 1e-9, "{sum} vs {national}");
}

#[test]
fn a_population_file_with_a_wrong_setting_is_refused() {
    let err = Population::parse(
        "name = \"X\"\npractices = [\"A1\"]\nscope = [\"acute\", \"hospice\"]\n",
        "pop.toml",
    )
    .unwrap_err();
    assert!(
        err.contains("scope: \"hospice\": not a setting of the spend table"),
        "{err}"
    );
}

/// Two practices with the same list size and different need get different targets, in the
/// direction and the ratio the fitted model gives. Without need weighting (persons ×
/// national spend a head) the two targets would be equal, and this test would fail.
#[test]
fn equal_lists_with_different_need_get_targets_in_the_models_ratio() {
    let f = fixture();
    let persons = Persons::read(&f.engine, start(), false).expect("persons");
    let m = need::fit(&persons).expect("fits");
    let band = |b: &str| need::BANDS.iter().position(|x| *x == b).expect("band") as u8;
    // 400 women each: one list of 80–84-year-olds in a deprived area with two conditions,
    // one of 25–29-year-olds in a less deprived area with none.
    let n = 400;
    let conditions: Vec<String> = m.conditions.keys().take(2).cloned().collect();
    let mut p = Persons {
        year: persons.year.clone(),
        conditions: conditions.clone(),
        practices: vec!["OLDER".into(), "YOUNGER".into()],
        ..Persons::default()
    };
    for i in 0..2 * n {
        let older = i < n;
        p.practice.push(if older { 0 } else { 1 });
        p.cell.push(if older { band("80-84") } else { band("25-29") });
        p.deprivation.push(if older { 0.8 } else { 0.2 });
        p.mask.push(if older { 0b11 } else { 0 });
        p.cost.push(0.0);
        p.ids.push(i.to_string());
    }
    let mu = need::score(&m, &p);
    let need = need::by_practice(&p, &mu);
    // The model's expected cost a head, by hand from its coefficients.
    let older = (m.age_sex["female"]["80-84"]
        + m.deprivation * f64::from(0.8f32)
        + m.conditions[&conditions[0]]
        + m.conditions[&conditions[1]]
        + m.condition_count["2"])
        .exp();
    let younger = (m.age_sex["female"]["25-29"] + m.deprivation * f64::from(0.2f32)).exp();
    let model_ratio = older / younger;
    assert!(
        model_ratio > 2.0,
        "the model should see the older list as needier: {model_ratio}"
    );

    let mut inputs = capitation::Inputs::default();
    for code in ["OLDER", "YOUNGER"] {
        inputs
            .practice_parent
            .insert(code.into(), ("C1".into(), "S1".into()));
    }
    inputs.spend.insert(("C1".into(), "acute".into()), 1_000_000.0);
    let budget = |code: &str| {
        let pop = Population {
            name: code.into(),
            model: Some("mcp".into()),
            practices: vec![code.into()],
            systems: Vec::new(),
            scope: vec!["acute".into()],
            unavoidable_cost_factor: 1.0,
            max_increase: 0.035,
            max_decrease: 0.01,
        };
        capitation::budget(&pop, &p, &need, &inputs).expect("budget")
    };
    let (a, b) = (budget("OLDER"), budget("YOUNGER"));
    assert_eq!(a.persons, b.persons);
    // Equal lists, so equal current spend (apportioned by persons) but not equal targets.
    assert!((a.current - b.current).abs() < 1e-6);
    assert!(a.target > b.target);
    assert!(
        (a.target / b.target / model_ratio - 1.0).abs() < 1e-9,
        "target ratio {} against the model's {model_ratio}",
        a.target / b.target
    );
    assert!((a.need_index / b.need_index / model_ratio - 1.0).abs() < 1e-9);
    // The two targets share the £1m between them in the model's proportions.
    assert!((a.target + b.target - 1_000_000.0).abs() < 1e-6);
    assert!((a.target - 1_000_000.0 * model_ratio / (1.0 + model_ratio)).abs() < 1e-6);
    // The needier list is under its target and the other over it.
    assert!(a.distance_from_target < 0.0 && b.distance_from_target > 0.0);
}
