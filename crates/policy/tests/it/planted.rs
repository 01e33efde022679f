//! On a small synthetic England: the planted challenged systems land in "challenged", and the
//! planted finance breaches score 4 on their metric.

#[test]
fn planted_challenged_systems_and_finance_breaches() {
    let dir = tempfile::tempdir().unwrap();
    let config = synth::Config {
        scale: 0.01,
        seed: 7,
        ..synth::Config::default()
    };
    synth::generate(dir.path(), &config, None, None).expect("generates");
    let truth = synth::Truth::read(dir.path()).expect("truth");
    let ds = dataset::load(dir.path(), &dataset::Options::default())
        .expect("valid")
        .dataset;
    let sof = policy::load_pack("sof-2016").unwrap();
    let system = policy::load_pack("system-2015").unwrap();
    let mut wanted = sof.indicators();
    wanted.extend(system.indicators());
    let catalogue = engine::Catalogue::default_catalogue().expect("catalogue");
    let options = engine::Options {
        indicators: wanted.clone(),
        grains: vec![
            engine::catalogue::Grain::FinancialYear,
            engine::catalogue::Grain::Month,
        ],
        ..engine::Options::default()
    };
    let computed = engine::compute(&ds, &catalogue, &options, &|_| {}).expect("computes");
    let out = dir.path().join("indicators");
    std::fs::create_dir_all(&out).unwrap();
    engine::output::write(
        &out,
        "indicators_unsuppressed",
        &engine::output_schema(),
        &computed.unsuppressed,
        false,
    )
    .unwrap();
    engine::output::write(
        &out,
        "indicator_signals",
        &engine::signals::schema(),
        &computed.signals,
        false,
    )
    .unwrap();

    let table = policy::table::Table::read(&out).unwrap();
    let mut ctx = policy::assess::Context::default();
    for o in &ds.organisations {
        ctx.org_kinds.insert(o.code.clone(), o.kind.as_str().to_string());
        if let Some(s) = &o.system {
            ctx.systems.insert(o.code.clone(), s.clone());
        }
    }
    let trusts = policy::assess::assess(&sof, &table, &ctx, Some("2024/25")).unwrap();
    ctx.earlier.insert("sof-2016".into(), trusts.clone());
    let systems = policy::assess::assess(&system, &table, &ctx, Some("2024/25")).unwrap();

    let challenged: std::collections::BTreeSet<&str> = systems
        .iter()
        .filter(|a| a.category.as_deref() == Some("challenged"))
        .map(|a| a.entity_code.as_str())
        .collect();
    for c in &truth.challenged_system {
        assert!(
            challenged.contains(c.system_code.as_str()),
            "{} is not challenged: {challenged:?}",
            c.system_code
        );
    }
    assert!(
        challenged.len() <= truth.challenged_system.len() + 2,
        "too many challenged: {challenged:?}"
    );

    let mut checked = 0;
    for b in truth.finance_breach.iter().filter(|b| b.period == "2024/25") {
        let Some(a) = trusts.iter().find(|a| a.entity_code == b.org_code) else {
            continue;
        };
        let Some(m) = a.domains["finance"]
            .metrics
            .iter()
            .find(|m| m.indicator == b.metric)
        else {
            continue;
        };
        assert_eq!(m.score, Some(4.0), "{} {}: {:?}", b.org_code, b.metric, m);
        // A 4 anywhere: the finance theme is no better than 3.
        assert!(a.domains["finance"].score.unwrap() >= 3.0);
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} breaches checked");
}
