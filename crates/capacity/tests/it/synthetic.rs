//! The planner on a small synthetic England: the baseline agrees with the generator's own bed
//! counts, a plan that closes a tenth of a system's G&A beds while demand grows does not add
//! up (with the occupancy it implies and the trust that falls short), and a plan that gives
//! every pool its projected requirement does.

use std::collections::BTreeSet;

use capacity::assumptions::Assumptions;
use capacity::baseline::{self, Baseline};
use capacity::plan::{self, Plan};
use capacity::project::{self, Projection, Request};

struct Fixture {
    _dir: tempfile::TempDir,
    baseline: Baseline,
    orgs: BTreeSet<String>,
    systems: BTreeSet<String>,
}

fn fixture() -> &'static Fixture {
    static F: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        let config = synth::Config {
            scale: 0.01,
            seed: 23,
            ..synth::Config::default()
        };
        synth::generate(dir.path(), &config, None, None).expect("generates");
        let ds = dataset::load(dir.path(), &dataset::Options::default())
            .expect("valid")
            .dataset;
        let engine = engine::Engine::new(&ds).expect("engine");
        let year = baseline::baseline_year(ds.manifest.from, ds.manifest.to);
        let baseline = baseline::read(&engine, &ds, year).expect("baseline");
        Fixture {
            _dir: dir,
            baseline,
            orgs: ds.organisations.iter().map(|o| o.code.clone()).collect(),
            systems: ds.systems.iter().map(|s| s.code.clone()).collect(),
        }
    })
}

fn projection(f: &Fixture, a: &Assumptions) -> Projection {
    project::project(&Request {
        baseline: &f.baseline,
        assumptions: a,
        care_models: &[],
        year: f.baseline.year + 2,
        runs: 200,
        seed: 9,
    })
}

#[test]
fn the_baseline_agrees_with_the_generators_bed_counts() {
    // The generator writes each acute trust's occupied beds from its spells' nights; the
    // baseline reads nights from the spells. They must tell the same story.
    let f = fixture();
    let mut checked = 0;
    for p in &f.baseline.providers {
        let Some(occupied) = p.beds_occupied else { continue };
        if occupied < 20.0 {
            continue;
        }
        let nights: f64 = p.pools.iter().map(|x| x.nights()).sum();
        let ratio = nights / f.baseline.days / occupied;
        assert!((ratio - 1.0).abs() < 0.05, "{}: {ratio}", p.code);
        checked += 1;
    }
    assert!(checked >= 20, "{checked}");
    // Every spell falls in one pool; maternity and paediatric pools are not empty.
    let sum = |k: capacity::assumptions::Pool| -> f64 {
        f.baseline
            .providers
            .iter()
            .map(|p| p.pools[k.index()].admissions())
            .sum()
    };
    use capacity::assumptions::Pool;
    assert!(
        sum(Pool::Maternity) > 0.0
            && sum(Pool::Paediatric) > 0.0
            && sum(Pool::GaNonElective) > sum(Pool::GaElective) * 0.5
    );
}

#[test]
fn closing_a_tenth_of_ga_beds_does_not_add_up_and_a_sized_plan_does() {
    let f = fixture();
    let a = Assumptions::default_set();
    let proj = projection(f, &a);
    let none = plan::check(&f.baseline, &a, &proj, None, 9);
    // The system with the most G&A bed days.
    let sys = none
        .systems
        .iter()
        .max_by(|x, y| {
            let ga = |s: &plan::SystemReport| {
                s.unit
                    .beds
                    .iter()
                    .find(|b| b.group == "ga")
                    .map_or(0.0, |b| b.baseline_bed_days)
            };
            ga(x).total_cmp(&ga(y))
        })
        .expect("systems");
    let fy = model::Period::Year(f.baseline.year + 2).to_string();
    // Close 10% of every member trust's G&A beds.
    let mut cut = String::from("period,org_code,measure,category,value\n");
    let mut cut_trusts = Vec::new();
    for p in &sys.providers {
        if let Some(ga) = p.beds.iter().find(|b| b.group == "ga")
            && let Some(current) = ga.current_beds
            && current >= 5.0
        {
            cut.push_str(&format!("{fy},{},beds,ga,{:.1}\n", p.code, current * 0.9));
            cut_trusts.push(p.code.clone());
        }
    }
    assert!(!cut_trusts.is_empty());
    let cut = Plan::parse(cut.as_bytes(), "cut.csv", &f.orgs, &f.systems).expect("plan");
    let r = plan::check(&f.baseline, &a, &proj, Some(&cut), 9);
    let s = r
        .systems
        .iter()
        .find(|s| s.unit.code == sys.unit.code)
        .expect("system");
    assert!(s.has_plan);
    assert!(!s.unit.adds_up, "{:?}", s.unit.reasons);
    // Demand grows, so every trust that lost a tenth of its G&A beds runs above 95%.
    let growth = s.unit.beds.iter().find(|b| b.group == "ga").expect("ga");
    assert!(
        growth.projected_bed_days > growth.baseline_bed_days * 0.99,
        "{growth:?}"
    );
    let shortest = s
        .providers
        .iter()
        .filter_map(|p| {
            p.beds
                .iter()
                .find(|b| b.group == "ga" && b.beds_from_plan)
                .map(|b| (p, b))
        })
        .max_by(|x, y| {
            x.1.implied_occupancy
                .unwrap_or(0.0)
                .total_cmp(&y.1.implied_occupancy.unwrap_or(0.0))
        })
        .expect("a planned trust");
    let occ = shortest.1.implied_occupancy.expect("occupancy");
    assert!(occ > 0.95, "{occ}");
    assert!(s.short.contains(&shortest.0.code), "{:?}", s.short);
    assert!(
        s.unit
            .reasons
            .iter()
            .any(|x| x.starts_with(&format!("{}: ga", shortest.0.code))
                && x.contains(&format!("{:.1}%", occ * 100.0))),
        "{:?}",
        s.unit.reasons
    );
    // A plan that gives every pool at every trust one bed above its p90 requirement adds up.
    let mut sized = String::from("period,org_code,measure,category,value\n");
    for p in &sys.providers {
        for b in p.beds.iter().filter(|b| b.group != "all") {
            sized.push_str(&format!(
                "{fy},{},beds,{},{}\n",
                p.code,
                b.group,
                b.required_beds.p90.ceil() + 1.0
            ));
        }
    }
    let sized = Plan::parse(sized.as_bytes(), "sized.csv", &f.orgs, &f.systems).expect("plan");
    let r = plan::check(&f.baseline, &a, &proj, Some(&sized), 9);
    let s = r
        .systems
        .iter()
        .find(|s| s.unit.code == sys.unit.code)
        .expect("system");
    assert!(s.unit.adds_up, "{:?}", s.unit.reasons);
    assert!(s.short.is_empty());
    // England's roll-up counts it, and every region's systems add up to England's.
    assert!(!r.england.systems_not_adding_up.contains(&s.unit.code));
    assert_eq!(
        r.regions.iter().map(|x| x.systems).sum::<usize>(),
        r.england.systems
    );
}

#[test]
fn the_published_baseline_projects_within_a_few_percent_of_the_spells_themselves() {
    let f = fixture();
    let a = Assumptions::default_set();
    let published = f
        .baseline
        .published(&a.bands(), &stats::disclosure::Policy::default());
    let raw = capacity::assess(&f.baseline, &a, &[], None, None, 200, 9).expect("raw");
    let shown = capacity::assess(&published, &a, &[], None, None, 200, 9).expect("published");
    let mut compared = 0;
    for (r, s) in raw.systems.iter().zip(&shown.systems) {
        assert_eq!(r.unit.code, s.unit.code);
        for (rb, sb) in r.unit.beds.iter().zip(&s.unit.beds) {
            assert_eq!(rb.group, sb.group);
            // Pools big enough for rounding and stand-ins to be small beside them.
            if rb.projected_bed_days >= 20_000.0 {
                let rel = (sb.projected_bed_days - rb.projected_bed_days).abs() / rb.projected_bed_days;
                assert!(rel < 0.03, "{} {}: {rel}", r.unit.code, rb.group);
                compared += 1;
            }
        }
    }
    assert!(compared >= 10, "{compared}");
    // England's required beds (the sum of every pool at every trust) within 2%.
    let rel = (shown.england.required_beds.mean - raw.england.required_beds.mean).abs()
        / raw.england.required_beds.mean;
    assert!(rel < 0.02, "{rel}");
}

#[test]
fn catchments_cover_the_registered_population_whose_patients_were_admitted() {
    let f = fixture();
    let b = &f.baseline;
    assert!(!b.lists.is_empty() && !b.flows.is_empty());
    let with_spells: BTreeSet<&str> = b.flows.iter().map(|x| x.0.as_str()).collect();
    let listed: f64 = b
        .lists
        .iter()
        .filter(|(k, _)| with_spells.contains(k.as_str()))
        .map(|(_, v)| v.iter().sum::<f64>())
        .sum();
    let served: f64 = b
        .providers
        .iter()
        .map(|p| p.catchment_by_age.iter().sum::<f64>())
        .sum();
    // Every practice with a spell is shared out whole (flows name only the baseline's providers).
    assert!((served - listed).abs() < 1e-6 * listed, "{served} {listed}");
    for p in b
        .providers
        .iter()
        .filter(|p| p.kind == model::OrgKind::AcuteTrust)
    {
        assert!(p.catchment_by_age.iter().sum::<f64>() > 0.0, "{}", p.code);
    }
    // The published baseline's catchments (flows under the disclosure rule) stay within 2%.
    let published = b.published(
        &Assumptions::default_set().bands(),
        &stats::disclosure::Policy::default(),
    );
    let shown: f64 = published
        .providers
        .iter()
        .map(|p| p.catchment_by_age.iter().sum::<f64>())
        .sum();
    assert!((shown - served).abs() < 0.02 * served, "{shown} {served}");
}
