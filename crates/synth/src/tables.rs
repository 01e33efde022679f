//! The aggregate tables, written after the person-level ones from their totals: the A&E
//! SitRep, beds, RTT, workforce, finance, allocations, spend, contracts, CQC ratings and the
//! patient survey.

use crate::finance::{Finance, SETTINGS};
use crate::generate::Totals;
use crate::rng::{self, Stream, normal, pick};
use crate::world::World;
use crate::{Error, Names, columns};
use model::OrgKind;
use rand::Rng as _;
use std::path::Path;

struct Csv {
    path: std::path::PathBuf,
    writer: csv::Writer<std::io::BufWriter<std::fs::File>>,
    rows: u64,
}

impl Csv {
    fn create(out: &Path, name: &str, header: &[&str]) -> Result<Csv, Error> {
        let path = out.join(format!("{name}.csv"));
        let file = std::fs::File::create(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        let mut csv = Csv {
            writer: csv::Writer::from_writer(std::io::BufWriter::new(file)),
            path,
            rows: 0,
        };
        csv.line(header.iter().map(|s| s.to_string()))?;
        csv.rows = 0;
        Ok(csv)
    }

    fn line(&mut self, cells: impl IntoIterator<Item = String>) -> Result<(), Error> {
        self.rows += 1;
        self.writer
            .write_record(cells.into_iter().collect::<Vec<_>>())
            .map_err(|e| self.error(e))
    }

    fn error(&self, e: csv::Error) -> Error {
        Error::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e),
        }
    }

    fn finish(mut self) -> Result<u64, Error> {
        self.writer.flush().map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(self.rows)
    }
}

fn money(v: f64) -> String {
    format!("{v:.0}")
}

fn opt(v: Option<f64>) -> String {
    v.map(money).unwrap_or_default()
}

pub fn write(
    out: &Path,
    world: &World<'_>,
    names: &Names,
    totals: &Totals,
    finance: &Finance,
) -> Result<Vec<(&'static str, u64)>, Error> {
    let sk = world.sk;
    let months = world.months.len();
    let nc = sk.commissioners.len();
    let mut counts = Vec::new();

    // A&E SitRep, from the attendances.
    let mut csv = Csv::create(
        out,
        "ae_monthly",
        &[
            "period",
            "provider_code",
            "attendances_type1",
            "attendances_other",
            "over_4h_type1",
            "over_4h_other",
            "emergency_admissions",
            "over_12h_dta",
        ],
    )?;
    for m in 0..months {
        for (p, code) in names.providers.iter().enumerate() {
            let c = totals.ae[p * months + m];
            if c.type1 + c.other + c.emergency_admissions > 0 {
                csv.line([
                    names.months[m].clone(),
                    code.clone(),
                    c.type1.to_string(),
                    c.other.to_string(),
                    c.over_4h_type1.to_string(),
                    c.over_4h_other.to_string(),
                    c.emergency_admissions.to_string(),
                    c.over_12h_dta.to_string(),
                ])?;
            }
        }
    }
    counts.push(("ae_monthly", csv.finish()?));

    // Beds: occupied from the spells' nights; available from each trust's target occupancy.
    let mut rng = rng::stream(world.config.seed, Stream::Tables, 0);
    let mut csv = Csv::create(
        out,
        "beds",
        &["period", "provider_code", "beds_available", "beds_occupied"],
    )?;
    let occupancy: Vec<f64> = sk
        .providers
        .iter()
        .map(|p| {
            let hard = p.system.is_some_and(|s| world.challenged[s]);
            if hard {
                0.965
            } else {
                (0.92 + 0.022 * normal(&mut rng)).clamp(0.84, 0.98)
            }
        })
        .collect();
    for m in 0..months {
        let month = world.months[m];
        let days = (month.last_day() - month.first_day() + 1) as f64;
        let winter = 0.015 * (2.0 * std::f64::consts::PI * (month.month() as f64 - 1.0) / 12.0).cos();
        for (p, code) in names.providers.iter().enumerate() {
            let occupied = totals.bed_days[p * months + m] / days;
            if sk.providers[p].kind != OrgKind::AcuteTrust || occupied < 0.5 {
                continue;
            }
            let available = occupied / (occupancy[p] + winter).min(0.995);
            csv.line([
                names.months[m].clone(),
                code.clone(),
                format!("{available:.1}"),
                format!("{occupied:.1}"),
            ])?;
        }
    }
    counts.push(("beds", csv.finish()?));

    // RTT: the national waiting list shared by elective flows; each trust's 18-week share.
    let national = 7_550_000.0 * world.config.scale;
    let total_elective: u64 = totals.elective.iter().sum();
    let mut csv = Csv::create(
        out,
        "rtt",
        &[
            "period",
            "provider_code",
            "commissioner_code",
            "waiting",
            "within_18_weeks",
            "over_52_weeks",
        ],
    )?;
    let within: Vec<f64> = sk
        .providers
        .iter()
        .map(|p| {
            let hard = p.system.is_some_and(|s| world.challenged[s]);
            (0.595 + 0.055 * normal(&mut rng) - if hard { 0.08 } else { 0.0 }).clamp(0.35, 0.85)
        })
        .collect();
    for m in 0..months {
        let trend = 1.0 + 0.004 * (m as f64 - months as f64 + 1.0);
        for (p, code) in names.providers.iter().enumerate() {
            for c in 0..nc {
                let flow = totals.elective[p * nc + c];
                if flow == 0 || total_elective == 0 {
                    continue;
                }
                let waiting = (national * trend * flow as f64 / total_elective as f64).round();
                if waiting < 1.0 {
                    continue;
                }
                let share = (within[p] + 0.01 * normal(&mut rng)).clamp(0.2, 0.95);
                let over52 = (0.035 + (0.595 - within[p]) * 0.25).clamp(0.002, 0.2);
                csv.line([
                    names.months[m].clone(),
                    code.clone(),
                    names.commissioners[c].clone(),
                    format!("{waiting:.0}"),
                    format!("{:.0}", (waiting * share).round()),
                    format!("{:.0}", (waiting * over52).round()),
                ])?;
            }
        }
    }
    counts.push(("rtt", csv.finish()?));

    // Workforce: WTE from income (£62k a WTE), split by staff group.
    const GROUPS: [(&str, f64, f64); 4] = [
        ("nursing", 0.32, 1.3),
        ("medical", 0.13, 0.9),
        ("other_clinical", 0.25, 1.0),
        ("non_clinical", 0.30, 0.6),
    ];
    let mut csv = Csv::create(
        out,
        "workforce",
        &[
            "period",
            "org_code",
            "staff_group",
            "wte_in_post",
            "wte_vacant",
            "wte_agency",
        ],
    )?;
    for (i, (code, _kind, system, income)) in finance.trusts.iter().enumerate() {
        let mut r = rng::stream(world.config.seed, Stream::Tables, 1 + i as u64);
        let hard = system.is_some_and(|s| world.challenged[s]);
        let vacancy = (0.075 + 0.02 * normal(&mut r) + if hard { 0.04 } else { 0.0 }).clamp(0.02, 0.25);
        let agency = (0.035 + 0.012 * normal(&mut r) + if hard { 0.03 } else { 0.0 }).clamp(0.005, 0.15);
        let wte = income / 62_000.0;
        for m in 0..months {
            for (group, share, vacancy_factor) in GROUPS {
                let in_post = wte * share * (1.0 + 0.004 * m as f64 + 0.005 * normal(&mut r));
                let v = (vacancy * vacancy_factor).min(0.4);
                csv.line([
                    names.months[m].clone(),
                    code.clone(),
                    group.to_string(),
                    format!("{in_post:.1}"),
                    format!("{:.1}", in_post * v / (1.0 - v)),
                    format!("{:.1}", in_post * agency),
                ])?;
            }
        }
    }
    counts.push(("workforce", csv.finish()?));

    let mut csv = Csv::create(
        out,
        "finance",
        &[
            "period",
            "org_code",
            "income",
            "expenditure",
            "current_assets",
            "current_liabilities",
            "inventories",
            "capital_service",
            "agency_spend",
            "agency_cap",
            "plan_surplus",
            "actual_surplus",
            "control_total",
            "cash",
            "control_total_agreed",
        ],
    )?;
    for r in &finance.rows {
        csv.line([
            r.period.clone(),
            r.org.clone(),
            money(r.income),
            money(r.expenditure),
            opt(r.current_assets),
            opt(r.current_liabilities),
            opt(r.inventories),
            opt(r.capital_service),
            opt(r.agency_spend),
            opt(r.agency_cap),
            money(r.plan_surplus),
            money(r.actual_surplus),
            opt(r.control_total),
            opt(r.cash),
            r.control_total_agreed.map(|b| b.to_string()).unwrap_or_default(),
        ])?;
    }
    counts.push(("finance", csv.finish()?));

    let mut csv = Csv::create(out, "allocations", &["period", "commissioner_code", "allocation"])?;
    for (year, c, allocation) in &finance.allocations {
        csv.line([year.clone(), names.commissioners[*c].clone(), money(*allocation)])?;
    }
    counts.push(("allocations", csv.finish()?));

    let mut csv = Csv::create(out, "spend", &["period", "commissioner_code", "setting", "spend"])?;
    for (m, c, setting, spend) in &finance.spend {
        csv.line([
            names.months[*m].clone(),
            names.commissioners[*c].clone(),
            setting.to_string(),
            money(*spend),
        ])?;
    }
    counts.push(("spend", csv.finish()?));

    // Contracts: what each commissioner paid each provider for its patients' activity
    // (annualised for a part year), and block contracts with the system's community and
    // mental health trusts worth the commissioner's spend in those settings. Vanguard systems
    // pay their acute trusts by capitation or through an alliance.
    let mut csv = Csv::create(
        out,
        "contracts",
        &[
            "period",
            "commissioner_code",
            "provider_code",
            "value",
            "payment_basis",
        ],
    )?;
    let first_year = world.config.from.financial_year();
    for (y, label) in names.years.iter().enumerate() {
        let year = first_year + y as i32;
        let in_year = world
            .months
            .iter()
            .filter(|m| m.financial_year() == year)
            .count()
            .max(1) as f64;
        for c in 0..nc {
            let system = sk.commissioners[c].system;
            let vanguard = world.signals.vanguards.iter().find(|v| v.system == Some(system));
            for (p, code) in names.providers.iter().enumerate() {
                let value = totals.cost[(p * nc + c) * totals.years + y] * 12.0 / in_year;
                if value < 1.0 {
                    continue;
                }
                let basis = match (sk.providers[p].kind, vanguard) {
                    (OrgKind::AcuteTrust, Some(v))
                        if year >= v.start.financial_year() && sk.providers[p].system == Some(system) =>
                    {
                        if v.model.contains("urgent") {
                            "alliance"
                        } else {
                            "capitation"
                        }
                    }
                    (OrgKind::AcuteTrust | OrgKind::IndependentProvider, _) => "tariff",
                    _ => "block",
                };
                csv.line([
                    label.clone(),
                    names.commissioners[c].clone(),
                    code.clone(),
                    money(value.round()),
                    basis.to_string(),
                ])?;
            }
            let allocation = finance
                .allocations
                .iter()
                .find(|a| &a.0 == label && a.1 == c)
                .map_or(0.0, |a| a.2);
            for (kind, setting) in [
                (OrgKind::CommunityTrust, "community"),
                (OrgKind::MentalHealthTrust, "mental_health"),
            ] {
                let share = SETTINGS.iter().find(|s| s.0 == setting).map_or(0.0, |s| s.1);
                let trusts: Vec<&String> = finance
                    .trusts
                    .iter()
                    .filter(|t| t.1 == kind && t.2 == Some(system))
                    .map(|t| &t.0)
                    .collect();
                for code in &trusts {
                    let value = (allocation * share / trusts.len() as f64).round();
                    if value >= 1.0 {
                        csv.line([
                            label.clone(),
                            names.commissioners[c].clone(),
                            (*code).clone(),
                            money(value),
                            "block".into(),
                        ])?;
                    }
                }
            }
        }
    }
    counts.push(("contracts", csv.finish()?));

    // CQC ratings: trusts (worse in challenged systems) and practices.
    const DOMAINS: usize = 5;
    let ratings = ["outstanding", "good", "requires_improvement", "inadequate"];
    let mut csv = Csv::create(
        out,
        "cqc_ratings",
        &[
            "org_code",
            "rated_on",
            "overall",
            "safe",
            "effective",
            "caring",
            "responsive",
            "well_led",
        ],
    )?;
    let start = world.config.from.first_day();
    let mut rated: Vec<(String, bool, bool)> = finance
        .trusts
        .iter()
        .map(|t| (t.0.clone(), true, t.2.is_some_and(|s| world.challenged[s])))
        .collect();
    rated.extend(
        names
            .practices
            .iter()
            .zip(&world.practices)
            .map(|(c, p)| (c.clone(), false, p.challenged)),
    );
    for (code, trust, hard) in rated {
        let weights: [f64; 4] = match (trust, hard) {
            (true, true) => [0.0, 0.25, 0.55, 0.2],
            (true, false) => [0.1, 0.6, 0.26, 0.04],
            (false, _) => [0.05, 0.87, 0.06, 0.02],
        };
        let cumulative = rng::cumulative(weights);
        let overall = pick(&mut rng, &cumulative);
        let mut line = vec![
            code,
            model::format_date(start - rng.random_range(30..6 * 365)),
            ratings[overall].to_string(),
        ];
        for _ in 0..DOMAINS {
            let shift: i32 = pick(&mut rng, &[0.2, 0.85, 1.0]) as i32 - 1;
            line.push(ratings[(overall as i32 + shift).clamp(0, 3) as usize].to_string());
        }
        csv.line(line)?;
    }
    counts.push(("cqc_ratings", csv.finish()?));

    counts.push(("survey", survey(out, world, names)?));
    Ok(counts)
}

/// The patient survey: about 1.15% of each practice's list answers once a financial year;
/// care feels better co-ordinated in vanguard areas once the vanguard has started and worse
/// in challenged systems.
fn survey(out: &Path, world: &World<'_>, names: &Names) -> Result<u64, Error> {
    let mut s = columns::Survey::default();
    let first_year = world.config.from.financial_year();
    for (p, practice) in world.practices.iter().enumerate() {
        let mut rng = rng::stream(world.config.seed, Stream::Survey, p as u64);
        for (y, _) in names.years.iter().enumerate() {
            let year = first_year + y as i32;
            let months: Vec<usize> = (0..world.months.len())
                .filter(|&m| world.months[m].financial_year() == year)
                .collect();
            let Some(&last) = months.last() else { continue };
            let share = months.len() as f64 / 12.0;
            let n = crate::rng::poisson(&mut rng, practice.list as f64 * 0.0115 * share);
            let mut shift = if practice.challenged { -0.25 } else { 0.0 };
            if let Some(v) = world.signals.practice_vanguard[p]
                && world.months[last] >= world.signals.vanguards[v].start
            {
                shift += 0.35;
            }
            for _ in 0..n {
                let answer = |rng: &mut crate::rng::Rng, mean: f64| -> i64 {
                    (mean + shift + 0.9 * normal(rng)).round().clamp(1.0, 5.0) as i64
                };
                let band = crate::params::band_of_age(rng.random_range(16..90));
                s.period.push(y as u32);
                s.practice.push(p as u32);
                s.band.push((rng.random::<f64>() > 0.03).then_some(band as u32));
                s.care_coordinated.push(Some(answer(&mut rng, 3.6)));
                s.information_shared.push(Some(answer(&mut rng, 3.4)));
                let admitted = rng.random::<f64>() < 0.3;
                s.discharge_timely.push(admitted.then(|| answer(&mut rng, 3.2)));
            }
        }
    }
    let rows = s.period.len() as u64;
    if rows > 0 {
        crate::write_parquet_batch(
            &out.join("survey.parquet"),
            s.batch(&names.years, &names.practices, &names.bands),
        )?;
    }
    Ok(rows)
}
