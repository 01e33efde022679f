//! Money: commissioners' allocations and spend by setting, and every trust's quarterly
//! accounts, drawn so the Single Oversight Framework's finance metrics land where the plan
//! says — ordinary trusts between the thresholds, challenged systems' trusts and a few
//! planted trusts beyond the worst one.

use crate::Names;
use crate::generate::Totals;
use crate::rng::{self, Stream, normal};
use crate::world::World;
use model::{Month, OrgKind, Period};
use rand::Rng as _;

/// Allocation per registered patient in 2024/25 (£127.2bn over 63.9m), growing 4.4% a year.
pub const PER_HEAD_2024: f64 = 1_990.0;
pub const ALLOCATION_GROWTH: f64 = 0.044;
/// Share of allocations spent in each setting.
pub const SETTINGS: [(&str, f64); 7] = [
    ("acute", 0.46),
    ("community", 0.10),
    ("mental_health", 0.12),
    ("primary_care", 0.10),
    ("prescribing", 0.09),
    ("social_care", 0.04),
    ("other", 0.09),
];

/// One row of the `finance` table.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub period: String,
    pub org: String,
    pub income: f64,
    pub expenditure: f64,
    pub current_assets: Option<f64>,
    pub current_liabilities: Option<f64>,
    pub inventories: Option<f64>,
    pub capital_service: Option<f64>,
    pub agency_spend: Option<f64>,
    pub agency_cap: Option<f64>,
    pub plan_surplus: f64,
    pub actual_surplus: f64,
    pub control_total: Option<f64>,
    pub cash: Option<f64>,
    pub control_total_agreed: Option<bool>,
    /// Days in the period (not a column).
    pub days: i32,
}

/// The Single Oversight Framework's finance metrics of one period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    /// (surplus + capital service) / capital service, times.
    pub capital_service_capacity: Option<f64>,
    /// (current assets − inventories − current liabilities) / daily expenditure, days.
    pub liquidity_days: Option<f64>,
    /// Surplus as a percentage of income.
    pub ie_margin: Option<f64>,
    /// (Surplus − planned surplus) as a percentage of income: percentage points of margin.
    pub distance_from_plan: Option<f64>,
    /// Agency spend above the cap, as a percentage of the cap.
    pub agency_vs_cap: Option<f64>,
}

/// The metrics of a period's accounts (these are the definitions the indicator catalogue uses).
pub fn metrics(r: &Row) -> Metrics {
    let ratio = |a: f64, b: f64| (b != 0.0).then_some(a / b);
    Metrics {
        capital_service_capacity: r.capital_service.and_then(|cs| ratio(r.actual_surplus + cs, cs)),
        liquidity_days: match (r.current_assets, r.inventories, r.current_liabilities) {
            (Some(a), Some(i), Some(l)) => ratio(a - i - l, r.expenditure / r.days as f64),
            _ => None,
        },
        ie_margin: ratio(100.0 * r.actual_surplus, r.income),
        distance_from_plan: ratio(100.0 * (r.actual_surplus - r.plan_surplus), r.income),
        agency_vs_cap: match (r.agency_spend, r.agency_cap) {
            (Some(s), Some(c)) => ratio(100.0 * (s - c), c),
            _ => None,
        },
    }
}

/// The worst band of each metric (the threshold of a score of 4).
pub fn breaches(m: &Metrics) -> Vec<(&'static str, f64)> {
    let mut out = Vec::new();
    let mut check = |name, value: Option<f64>, breach: fn(f64) -> bool| {
        if let Some(v) = value
            && breach(v)
        {
            out.push((name, v));
        }
    };
    check("capital_service_capacity", m.capital_service_capacity, |v| {
        v < 1.25
    });
    check("liquidity_days", m.liquidity_days, |v| v < -14.0);
    check("ie_margin", m.ie_margin, |v| v <= -1.0);
    check("distance_from_plan", m.distance_from_plan, |v| v <= -2.0);
    check("agency_vs_cap", m.agency_vs_cap, |v| v > 50.0);
    out
}

/// All the money tables.
#[derive(Debug, Default)]
pub struct Finance {
    /// (financial year label, commissioner index, allocation).
    pub allocations: Vec<(String, usize, f64)>,
    /// (month index, commissioner index, setting, spend).
    pub spend: Vec<(usize, usize, &'static str, f64)>,
    pub rows: Vec<Row>,
    /// (org code, metric, value, period) for every breach of a worst threshold.
    pub breaches: Vec<(String, &'static str, f64, String)>,
    /// Trusts' annual income (code, kind, system, income), for the workforce table.
    pub trusts: Vec<(String, OrgKind, Option<usize>, f64)>,
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    margin: f64,
    liquidity: f64,
    distance: f64,
    agency_over_cap: f64,
    capital_service: f64,
    agreed: bool,
}

pub fn generate(world: &World<'_>, names: &Names, totals: &Totals) -> Finance {
    let sk = world.sk;
    let months = world.months.len();
    let mut f = Finance::default();
    let mut rng = rng::stream(world.config.seed, Stream::Finance, 0);

    // Allocations: per head, partly weighted by need.
    let reg = |c: usize, m: usize| totals.registered[c * months + m] as f64;
    let need = |c: usize, m: usize| totals.need[c * months + m];
    let national_need: f64 = (0..sk.commissioners.len())
        .flat_map(|c| (0..months).map(move |m| (c, m)))
        .map(|(c, m)| need(c, m))
        .sum::<f64>()
        / (0..sk.commissioners.len())
            .flat_map(|c| (0..months).map(move |m| (c, m)))
            .map(|(c, m)| reg(c, m))
            .sum::<f64>()
            .max(1.0);
    let first_year = world.config.from.financial_year();
    let mut monthly_allocation = vec![0.0; sk.commissioners.len() * months];
    for (y, label) in names.years.iter().enumerate() {
        let year = first_year + y as i32;
        let in_year: Vec<usize> = (0..months)
            .filter(|&m| world.months[m].financial_year() == year)
            .collect();
        let per_head = PER_HEAD_2024 * (1.0 + ALLOCATION_GROWTH).powi(year - 2024);
        for c in 0..sk.commissioners.len() {
            let r: f64 = in_year.iter().map(|&m| reg(c, m)).sum::<f64>() / in_year.len().max(1) as f64;
            let n: f64 = in_year.iter().map(|&m| need(c, m)).sum::<f64>() / in_year.len().max(1) as f64;
            let index = if r > 0.0 && national_need > 0.0 {
                n / r / national_need
            } else {
                1.0
            };
            let allocation = (per_head * r * (0.4 + 0.6 * index)).round();
            f.allocations.push((label.clone(), c, allocation));
            for &m in &in_year {
                monthly_allocation[c * months + m] = allocation / 12.0;
            }
        }
    }
    // Spend by setting, monthly; challenged systems overspend.
    let mut monthly_spend = vec![0.0; sk.commissioners.len() * months];
    for c in 0..sk.commissioners.len() {
        let over = if world.challenged[sk.commissioners[c].system] {
            1.03
        } else {
            1.0
        };
        for m in 0..months {
            for (setting, share) in SETTINGS {
                let spend =
                    (monthly_allocation[c * months + m] * share * over * (1.0 + 0.015 * normal(&mut rng)))
                        .max(0.0)
                        .round();
                monthly_spend[c * months + m] += spend;
                f.spend.push((m, c, setting, spend));
            }
        }
    }

    // Quarters wholly inside the window.
    let quarters: Vec<(Period, Vec<usize>)> = quarters(&world.months);
    for c in 0..sk.commissioners.len() {
        for (q, ms) in &quarters {
            let income: f64 = ms
                .iter()
                .map(|&m| monthly_allocation[c * months + m])
                .sum::<f64>()
                .round();
            let expenditure: f64 = ms.iter().map(|&m| monthly_spend[c * months + m]).sum();
            f.rows.push(Row {
                period: q.to_string(),
                org: sk.commissioners[c].code.clone(),
                income,
                expenditure,
                plan_surplus: 0.0,
                actual_surplus: income - expenditure,
                control_total: Some(0.0),
                control_total_agreed: Some(true),
                days: days(ms, &world.months),
                ..Default::default()
            });
        }
    }

    // Trusts: income from the activity they were paid for, or per head for trusts without it.
    let mut system_registered = vec![0.0; sk.systems.len()];
    for (c, commissioner) in sk.commissioners.iter().enumerate() {
        system_registered[commissioner.system] += (0..months).map(|m| reg(c, m)).sum::<f64>() / months as f64;
    }
    let mut trusts: Vec<(String, OrgKind, Option<usize>, f64, bool)> = Vec::new();
    for (p, provider) in sk.providers.iter().enumerate() {
        if !provider.kind.is_trust() {
            continue;
        }
        let cost: f64 = (0..sk.commissioners.len() * totals.years)
            .map(|i| totals.cost[p * sk.commissioners.len() * totals.years + i])
            .sum();
        let annual = cost / months as f64 * 12.0 / 0.8;
        trusts.push((
            provider.code.clone(),
            provider.kind,
            provider.system,
            annual,
            provider.kind == OrgKind::AcuteTrust,
        ));
    }
    for (code, kind, system) in &sk.other_trusts {
        trusts.push((code.clone(), *kind, Some(*system), 0.0, false));
    }
    let per_head = |kind: OrgKind| match kind {
        OrgKind::MentalHealthTrust => 230.0,
        OrgKind::CommunityTrust => 150.0,
        OrgKind::AmbulanceTrust => 75.0,
        _ => 60.0,
    };
    let same_kind_in_system =
        |kind: OrgKind, system: Option<usize>, list: &[(String, OrgKind, Option<usize>, f64, bool)]| {
            list.iter()
                .filter(|t| t.1 == kind && t.2 == system)
                .count()
                .max(1) as f64
        };
    let snapshot = trusts.clone();
    for t in &mut trusts {
        if t.3 <= 0.0 {
            let people = t.2.map_or(0.0, |s| system_registered[s]);
            t.3 = people * per_head(t.1) / same_kind_in_system(t.1, t.2, &snapshot);
        }
    }

    // Each trust's plan; then planted breaches at one ordinary acute trust per metric.
    let mut plans: Vec<Plan> = trusts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut r = rng::stream(world.config.seed, Stream::Finance, 1 + i as u64);
            let challenged = t.2.is_some_and(|s| world.challenged[s]);
            if challenged && t.4 {
                Plan {
                    margin: r.random_range(-4.5..-1.5),
                    liquidity: r.random_range(-32.0..-15.0),
                    distance: r.random_range(-4.0..-2.1),
                    agency_over_cap: r.random_range(55.0..110.0),
                    capital_service: r.random_range(0.012..0.03),
                    agreed: false,
                }
            } else {
                Plan {
                    margin: (0.2 + 1.1 * normal(&mut r)).clamp(-0.9, 3.5),
                    liquidity: (-2.0 + 6.0 * normal(&mut r)).clamp(-13.0, 25.0),
                    distance: (-0.2 + 0.6 * normal(&mut r)).clamp(-1.9, 1.5),
                    agency_over_cap: (5.0 + 18.0 * normal(&mut r)).clamp(-40.0, 45.0),
                    capital_service: r.random_range(0.012..0.03),
                    agreed: r.random::<f64>() < 0.9,
                }
            }
        })
        .collect();
    let mut ordinary: Vec<usize> = (0..trusts.len())
        .filter(|&i| trusts[i].4 && trusts[i].3 > 0.0 && !trusts[i].2.is_some_and(|s| world.challenged[s]))
        .collect();
    {
        use rand::seq::SliceRandom;
        ordinary.shuffle(&mut rng);
    }
    let mut ordinary = ordinary.into_iter();
    if let Some(i) = ordinary.next() {
        plans[i].margin = -2.5;
    }
    if let Some(i) = ordinary.next() {
        plans[i].liquidity = -21.0;
    }
    if let Some(i) = ordinary.next() {
        plans[i].distance = -2.8;
    }
    if let Some(i) = ordinary.next() {
        plans[i].agency_over_cap = 80.0;
    }
    if let Some(i) = ordinary.next() {
        // Capital service capacity of 0.8x: a small deficit against a large debt service.
        plans[i].capital_service = 0.02;
        plans[i].margin = -0.4;
    }

    for (t, plan) in trusts.iter().zip(&plans) {
        let annual = t.3;
        for (q, ms) in &quarters {
            let d = days(ms, &world.months) as f64;
            let income = (annual * d / 365.0).round();
            let surplus = (income * plan.margin / 100.0).round();
            let expenditure = income - surplus;
            let plan_surplus = (income * (plan.margin - plan.distance) / 100.0).round();
            let daily = expenditure / d;
            let liabilities = (0.11 * annual).round();
            let inventories = (0.008 * annual).round();
            let assets = (plan.liquidity * daily).round() + liabilities + inventories;
            let agency = (income * 0.045).round();
            f.rows.push(Row {
                period: q.to_string(),
                org: t.0.clone(),
                income,
                expenditure,
                current_assets: Some(assets.max(0.0)),
                current_liabilities: Some(liabilities),
                inventories: Some(inventories),
                capital_service: Some((income * plan.capital_service).round()),
                agency_spend: Some(agency),
                agency_cap: Some((agency / (1.0 + plan.agency_over_cap / 100.0)).round()),
                plan_surplus,
                actual_surplus: surplus,
                control_total: Some(if plan.agreed {
                    plan_surplus
                } else {
                    plan_surplus + (income * 0.005).round()
                }),
                cash: Some((assets * 0.4).round()),
                control_total_agreed: Some(plan.agreed),
                days: d as i32,
            });
        }
    }
    f.trusts = trusts.iter().map(|t| (t.0.clone(), t.1, t.2, t.3)).collect();

    // Every breach of a worst threshold, in the latest whole financial year (or quarter).
    let (label, wanted) = latest_period(&quarters);
    for t in &trusts {
        let rows: Vec<&Row> = f
            .rows
            .iter()
            .filter(|r| r.org == t.0 && wanted.contains(&r.period))
            .collect();
        if let Some(total) = sum(&rows, &label) {
            for (metric, value) in breaches(&metrics(&total)) {
                f.breaches.push((t.0.clone(), metric, value, label.clone()));
            }
        }
    }
    f
}

/// Whole financial quarters inside the window, with their month indices.
fn quarters(months: &[Month]) -> Vec<(Period, Vec<usize>)> {
    let mut out: Vec<(Period, Vec<usize>)> = Vec::new();
    for (i, m) in months.iter().enumerate() {
        let fy = m.financial_year();
        let q = (((m.month() + 8) % 12) / 3 + 1) as u8;
        let period = Period::Quarter(fy, q);
        match out.last_mut() {
            Some((p, ms)) if *p == period => ms.push(i),
            _ => out.push((period, vec![i])),
        }
    }
    out.retain(|(_, ms)| ms.len() == 3);
    out
}

fn days(ms: &[usize], months: &[Month]) -> i32 {
    ms.iter()
        .map(|&m| months[m].last_day() - months[m].first_day() + 1)
        .sum()
}

/// The latest financial year whose four quarters are all in the window, else the latest quarter.
fn latest_period(quarters: &[(Period, Vec<usize>)]) -> (String, Vec<String>) {
    let mut years: Vec<i32> = quarters
        .iter()
        .filter_map(|(p, _)| match p {
            Period::Quarter(y, _) => Some(*y),
            _ => None,
        })
        .collect();
    years.dedup();
    for &y in years.iter().rev() {
        let qs: Vec<String> = quarters
            .iter()
            .filter(|(p, _)| matches!(p, Period::Quarter(fy, _) if *fy == y))
            .map(|(p, _)| p.to_string())
            .collect();
        if qs.len() == 4 {
            return (Period::Year(y).to_string(), qs);
        }
    }
    let last = quarters.last().map(|(p, _)| p.to_string()).unwrap_or_default();
    (last.clone(), vec![last])
}

/// Accounts of a longer period: flows add up, balances are the last quarter's.
pub fn sum(rows: &[&Row], period: &str) -> Option<Row> {
    let last = rows.last()?;
    let add = |f: fn(&Row) -> Option<f64>| rows.iter().map(|r| f(r)).sum::<Option<f64>>();
    Some(Row {
        period: period.to_string(),
        org: last.org.clone(),
        income: rows.iter().map(|r| r.income).sum(),
        expenditure: rows.iter().map(|r| r.expenditure).sum(),
        current_assets: last.current_assets,
        current_liabilities: last.current_liabilities,
        inventories: last.inventories,
        capital_service: add(|r| r.capital_service),
        agency_spend: add(|r| r.agency_spend),
        agency_cap: add(|r| r.agency_cap),
        plan_surplus: rows.iter().map(|r| r.plan_surplus).sum(),
        actual_surplus: rows.iter().map(|r| r.actual_surplus).sum(),
        control_total: add(|r| r.control_total),
        cash: last.cash,
        control_total_agreed: last.control_total_agreed,
        days: rows.iter().map(|r| r.days).sum(),
    })
}
