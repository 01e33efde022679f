//! A differencing attacker: given everything a caller could read of a published indicator
//! table, it tries to recover a hidden small count.
//!
//! It knows what any reader knows: the catalogue (which indicators count the same thing),
//! the reference tables (which units each entity counts: `maps::entity_map`), the published
//! rows, and the disclosure rules. Every published count is a variable bounded by what was
//! published: exact for England, or for a count that is not rounded; within ±2.5 when every
//! sub-national value of that count is a multiple of 5; a hidden count is at least 0. It then
//! writes down every linear relation the table obeys —
//!
//! - an entity is the sum of the entities of any other level of its path whose units
//!   partition its own (the unit level filling what that level leaves out), and England the
//!   sum of every level of a path that does not reach it;
//! - a period is the sum of the periods of any other grain that partition its months;
//! - two overlapping periods of one grain and length differ by the periods of another grain
//!   that partition what one has and the other has not (consecutive rolling windows);
//! - indicators that share a numerator or denominator definition publish one count —
//!
//! and tightens every variable's bounds from every relation until nothing moves (interval
//! constraint propagation, the audit statistical offices run on tables with secondary
//! suppression). A hidden count whose bounds admit exactly one whole number in 1–7 is
//! recovered.
//!
//! This is independent of `disclosure`: it derives its relations from unit sets, not from
//! the protection's nesting, and solves them rather than counting hidden cells.

use crate::Disclosure;
use crate::catalogue::{Catalogue, Grain, Indicator, Level, Measure};
use arrow::array::{AsArray, RecordBatch};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One row as a caller reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Published {
    pub indicator: String,
    pub level: String,
    pub code: String,
    pub grain: String,
    pub period: String,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub suppressed: bool,
}

/// A hidden count the attacker pinned down.
#[derive(Debug, Clone, PartialEq)]
pub struct Recovered {
    /// The count: the indicator and column it was hidden in.
    pub indicator: String,
    pub column: &'static str,
    pub level: String,
    pub code: String,
    pub grain: String,
    pub period: String,
    /// The whole number the bounds admit.
    pub count: i64,
    pub lower: f64,
    pub upper: f64,
}

/// What the attack found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub variables: usize,
    pub hidden: usize,
    pub relations: usize,
    pub recovered: Vec<Recovered>,
}

/// Reads a published table (the engine's `published_schema`) into rows.
pub fn rows_of(batches: &[RecordBatch]) -> Vec<Published> {
    let mut out = Vec::new();
    for b in batches {
        let s = |c: usize| b.column(c).as_string::<i32>();
        let f = |c: usize, i: usize| {
            let a = b.column(c).as_primitive::<arrow::datatypes::Float64Type>();
            (!arrow::array::Array::is_null(a, i)).then(|| a.value(i))
        };
        let sup = b
            .column_by_name("suppressed")
            .and_then(|c| c.as_boolean_opt().cloned());
        for i in 0..b.num_rows() {
            out.push(Published {
                indicator: s(0).value(i).into(),
                level: s(3).value(i).into(),
                code: s(2).value(i).into(),
                grain: s(4).value(i).into(),
                period: s(5).value(i).into(),
                numerator: f(6, i),
                denominator: f(7, i),
                suppressed: sup.as_ref().is_some_and(|a| a.value(i)),
            });
        }
    }
    out
}

type Var = (usize, String, String, String, String); // (count, level, code, grain, period)
/// (level, entity code) or (grain, period).
type Pair = (String, String);
/// A period and its first and last month.
type Ranged = (Pair, (i32, i32));

fn measure_key(ind: &Indicator, m: &Measure) -> String {
    let derived = ind
        .derived
        .iter()
        .find(|d| d.name == m.table)
        .map(|d| d.sql.as_str())
        .unwrap_or("");
    format!(
        "{}\u{1}{derived}\u{1}{}\u{1}{}\u{1}{}",
        m.table,
        m.when,
        m.filter.as_deref().unwrap_or(""),
        m.value
    )
}

fn month_range(grain: &str, label: &str) -> Option<(i32, i32)> {
    let index = |m: model::Month| m.year() * 12 + m.month() as i32 - 1;
    match label.split_once(" to ") {
        Some((a, b)) if grain == Grain::Rolling12Months.as_str() => {
            Some((index(a.parse().ok()?), index(b.parse().ok()?)))
        }
        _ => {
            let p: model::Period = label.parse().ok()?;
            Some((index(p.first_month()), index(p.last_month())))
        }
    }
}

/// Runs the attack on `rows` (everything read, from any route; duplicates agree).
pub fn attack(rows: &[Published], catalogue: &Catalogue, entity_map: &RecordBatch) -> Report {
    // Counts: one per distinct controlled measure definition.
    let mut counts: Vec<String> = Vec::new();
    let mut count_of = |k: String| -> usize {
        match counts.iter().position(|c| *c == k) {
            Some(i) => i,
            None => {
                counts.push(k);
                counts.len() - 1
            }
        }
    };
    let mut columns: HashMap<&str, Vec<(usize, &'static str)>> = HashMap::new();
    for ind in &catalogue.indicators {
        let mut cs = Vec::new();
        match Disclosure::of(ind) {
            Disclosure::None => {}
            Disclosure::Numerator => cs.push((count_of(measure_key(ind, &ind.numerator)), "numerator")),
            Disclosure::Both => {
                cs.push((count_of(measure_key(ind, &ind.numerator)), "numerator"));
                if let Some(d) = &ind.denominator {
                    cs.push((count_of(measure_key(ind, d)), "denominator"));
                }
            }
        }
        columns.insert(ind.id.as_str(), cs);
    }

    // Variables and what was published of them.
    let mut vars: BTreeMap<Var, Option<f64>> = BTreeMap::new();
    let mut hidden_in: HashMap<Var, (String, &'static str)> = HashMap::new();
    for r in rows {
        let Some(cs) = columns.get(r.indicator.as_str()) else {
            continue;
        };
        for &(c, column) in cs {
            let v = (
                c,
                r.level.clone(),
                r.code.clone(),
                r.grain.clone(),
                r.period.clone(),
            );
            let x = if column == "numerator" {
                r.numerator
            } else {
                r.denominator
            };
            let x = if r.suppressed { None } else { x };
            let e = vars.entry(v.clone()).or_insert(None);
            if x.is_some() {
                *e = x;
            } else if r.suppressed {
                hidden_in.entry(v).or_insert((r.indicator.clone(), column));
            }
        }
    }
    // A count is taken as rounded when every published sub-national value of it is a
    // multiple of 5.
    let mut rounded = vec![true; counts.len()];
    for (v, x) in &vars {
        if let Some(x) = x
            && v.1 != Level::England.as_str()
            && (x / 5.0).fract().abs() > 1e-9
        {
            rounded[v.0] = false;
        }
    }
    let keys: Vec<Var> = vars.keys().cloned().collect();
    let index: HashMap<&Var, usize> = keys.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let mut lo: Vec<f64> = Vec::with_capacity(keys.len());
    let mut hi: Vec<f64> = Vec::with_capacity(keys.len());
    for (v, x) in &vars {
        match x {
            Some(x) if v.1 == Level::England.as_str() || !rounded[v.0] => {
                lo.push(*x);
                hi.push(*x);
            }
            Some(x) => {
                lo.push((x - 2.5).max(0.0));
                hi.push(x + 2.5);
            }
            None => {
                lo.push(0.0);
                hi.push(f64::INFINITY);
            }
        }
    }

    // Unit sets of every entity, by path.
    let col = |i: usize| entity_map.column(i).as_string::<i32>();
    let (mpath, munit, mlevel, mcode) = (col(0), col(1), col(2), col(4));
    let mut units: HashMap<(String, String, String), BTreeSet<String>> = HashMap::new();
    let mut entity_of: HashMap<(&str, &str, &str), &String> = HashMap::new();
    for r in 0..entity_map.num_rows() {
        units
            .entry((
                mpath.value(r).into(),
                mlevel.value(r).into(),
                mcode.value(r).into(),
            ))
            .or_default()
            .insert(munit.value(r).into());
    }
    for ((p, l, e), us) in &units {
        for u in us {
            entity_of.insert((p.as_str(), l.as_str(), u.as_str()), e);
        }
    }

    let mut relations: Vec<Vec<(usize, f64)>> = Vec::new();
    // Per count: its variables by entity and by period.
    let mut by_count: BTreeMap<usize, BTreeSet<(String, String)>> = BTreeMap::new();
    let mut periods_of: BTreeMap<usize, BTreeSet<(String, String)>> = BTreeMap::new();
    for k in &keys {
        by_count
            .entry(k.0)
            .or_default()
            .insert((k.1.clone(), k.2.clone()));
        periods_of
            .entry(k.0)
            .or_default()
            .insert((k.3.clone(), k.4.clone()));
    }
    let paths_of_count = |c: usize| -> Vec<(String, Vec<Level>)> {
        let mut out: Vec<(String, Vec<Level>)> = Vec::new();
        for ind in &catalogue.indicators {
            if columns
                .get(ind.id.as_str())
                .is_some_and(|cs| cs.iter().any(|x| x.0 == c))
            {
                for a in &ind.attribution {
                    let p = (a.path.as_str().to_string(), a.levels.clone());
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
        out
    };
    let var = |c: usize, l: &str, e: &str, g: &str, p: &str| -> Option<usize> {
        index
            .get(&(c, l.to_string(), e.to_string(), g.to_string(), p.to_string()))
            .copied()
    };

    for (&c, entities) in &by_count {
        let periods = &periods_of[&c];
        let paths = paths_of_count(c);
        // Entities as sums of other levels.
        let mut sums: Vec<(Pair, Vec<Pair>)> = Vec::new();
        for (path, levels) in &paths {
            let set = |l: &str, e: &str| units.get(&(path.clone(), l.to_string(), e.to_string()));
            // The unit level: entities that are their own single unit.
            let singles: HashMap<&String, (String, String)> = units
                .iter()
                .filter(|((p, l, e), u)| {
                    p == path && u.len() == 1 && u.contains(e) && levels.iter().any(|x| x.as_str() == l)
                })
                .map(|((_, l, e), _)| (e, (l.clone(), e.clone())))
                .collect();
            for (l, e) in entities {
                let Some(total) = set(l, e) else { continue };
                for lower in levels.iter().filter(|x| x.as_str() != l) {
                    let mut parts: Vec<(String, String)> = Vec::new();
                    let mut covered: BTreeSet<&String> = BTreeSet::new();
                    let candidates: BTreeSet<&String> = total
                        .iter()
                        .filter_map(|u| entity_of.get(&(path.as_str(), lower.as_str(), u.as_str())))
                        .copied()
                        .collect();
                    for ee in candidates {
                        if let Some(u) = set(lower.as_str(), ee)
                            && u.is_subset(total)
                        {
                            parts.push((lower.as_str().to_string(), ee.clone()));
                            covered.extend(u.iter());
                        }
                    }
                    if parts.is_empty() {
                        continue;
                    }
                    let mut ok = true;
                    for u in total {
                        if !covered.contains(u) {
                            match singles.get(u) {
                                Some(s) if s.0 != lower.as_str() => parts.push(s.clone()),
                                _ => ok = false,
                            }
                        }
                    }
                    if ok {
                        parts.sort();
                        sums.push(((l.clone(), e.clone()), parts));
                    }
                }
            }
            if !levels.contains(&Level::England)
                && entities.contains(&(Level::England.as_str().into(), crate::ENGLAND.into()))
            {
                for lower in levels {
                    let parts: Vec<(String, String)> = entities
                        .iter()
                        .filter(|(l, _)| l == lower.as_str())
                        .cloned()
                        .collect();
                    sums.push(((Level::England.as_str().into(), crate::ENGLAND.into()), parts));
                }
            }
        }
        for ((l, e), parts) in &sums {
            for (g, p) in periods {
                let Some(t) = var(c, l, e, g, p) else { continue };
                let mut rel = vec![(t, -1.0)];
                rel.extend(
                    parts
                        .iter()
                        .filter_map(|(pl, pe)| var(c, pl, pe, g, p))
                        .map(|i| (i, 1.0)),
                );
                relations.push(rel);
            }
        }
        // Periods as sums of periods of other grains, and differences of overlapping ones.
        let ranged: Vec<Ranged> = periods
            .iter()
            .filter_map(|(g, p)| month_range(g, p).map(|r| ((g.clone(), p.clone()), r)))
            .collect();
        let partition = |g: &str, a: i32, b: i32| -> Option<Vec<(String, String)>> {
            let parts: Vec<&Ranged> = ranged
                .iter()
                .filter(|(k, r)| k.0 == g && r.0 >= a && r.1 <= b)
                .collect();
            let mut months: BTreeSet<i32> = BTreeSet::new();
            for (_, r) in &parts {
                for m in r.0..=r.1 {
                    if !months.insert(m) {
                        return None;
                    }
                }
            }
            (!parts.is_empty() && months.len() as i32 == b - a + 1)
                .then(|| parts.iter().map(|(k, _)| k.clone()).collect())
        };
        let grains: BTreeSet<&String> = ranged.iter().map(|(k, _)| &k.0).collect();
        let mut forms: Vec<Vec<((String, String), f64)>> = Vec::new();
        for ((g, p), (a, b)) in &ranged {
            for h in grains.iter().filter(|h| **h != g) {
                if let Some(parts) = partition(h, *a, *b) {
                    let mut f = vec![((g.clone(), p.clone()), -1.0)];
                    f.extend(parts.into_iter().map(|k| (k, 1.0)));
                    forms.push(f);
                }
            }
            for ((g2, p2), (a2, b2)) in &ranged {
                if g2 != g || !(a2 < a && b2 >= a && b2 - a2 == b - a) {
                    continue;
                }
                for h in grains.iter().filter(|h| **h != g) {
                    if let (Some(add), Some(rem)) = (partition(h, b2 + 1, *b), partition(h, *a2, a - 1)) {
                        // later − earlier − added + removed = 0
                        let mut f = vec![((g.clone(), p.clone()), 1.0), ((g2.clone(), p2.clone()), -1.0)];
                        f.extend(add.into_iter().map(|k| (k, -1.0)));
                        f.extend(rem.into_iter().map(|k| (k, 1.0)));
                        forms.push(f);
                    }
                }
            }
        }
        for (l, e) in entities {
            for f in &forms {
                let rel: Vec<(usize, f64)> = f
                    .iter()
                    .filter_map(|((g, p), a)| var(c, l, e, g, p).map(|i| (i, *a)))
                    .collect();
                if rel.len() >= 2 {
                    relations.push(rel);
                }
            }
        }
    }
    relations.retain(|r| r.len() >= 2 && r.iter().any(|&(i, _)| hi[i] > lo[i]));

    propagate(&mut lo, &mut hi, &relations);

    let mut report = Report {
        variables: keys.len(),
        hidden: hidden_in.len(),
        relations: relations.len(),
        recovered: Vec::new(),
    };
    for (v, (indicator, column)) in &hidden_in {
        let i = index[v];
        let (a, b) = ((lo[i] - 1e-6).ceil(), (hi[i] + 1e-6).floor());
        if a == b && (1.0..=7.0).contains(&a) {
            report.recovered.push(Recovered {
                indicator: indicator.clone(),
                column,
                level: v.1.clone(),
                code: v.2.clone(),
                grain: v.3.clone(),
                period: v.4.clone(),
                count: a as i64,
                lower: lo[i],
                upper: hi[i],
            });
        }
    }
    report.recovered.sort_by(|a, b| {
        (&a.indicator, &a.code, &a.grain, &a.period).cmp(&(&b.indicator, &b.code, &b.grain, &b.period))
    });
    report
}

/// Tightens `lo..=hi` of every variable from every relation `Σ a_i x_i = 0` until no bound
/// moves by more than a millionth (or 200 rounds).
fn propagate(lo: &mut [f64], hi: &mut [f64], relations: &[Vec<(usize, f64)>]) {
    let mut of: Vec<Vec<usize>> = vec![Vec::new(); lo.len()];
    for (r, rel) in relations.iter().enumerate() {
        for &(i, _) in rel {
            of[i].push(r);
        }
    }
    let mut queue: std::collections::VecDeque<usize> = (0..relations.len()).collect();
    let mut queued = vec![true; relations.len()];
    let mut steps = 0usize;
    let limit = relations.len().saturating_mul(200).max(1000);
    while let Some(r) = queue.pop_front() {
        queued[r] = false;
        steps += 1;
        if steps > limit {
            break;
        }
        let rel = &relations[r];
        // Bounds of Σ a_j x_j, counting infinite ends apart.
        let (mut smin, mut smax, mut inf_min, mut inf_max) = (0.0, 0.0, 0usize, 0usize);
        for &(j, a) in rel {
            let (l, h) = if a > 0.0 {
                (a * lo[j], a * hi[j])
            } else {
                (a * hi[j], a * lo[j])
            };
            if l.is_finite() {
                smin += l
            } else {
                inf_min += 1
            }
            if h.is_finite() { smax += h } else { inf_max += 1 }
        }
        for &(i, a) in rel {
            let (l, h) = if a > 0.0 {
                (a * lo[i], a * hi[i])
            } else {
                (a * hi[i], a * lo[i])
            };
            // Rest = Σ_{j≠i} a_j x_j in [rmin, rmax]; a_i x_i = −rest.
            let rmin = if l.is_finite() {
                if inf_min == 0 { smin - l } else { f64::NEG_INFINITY }
            } else if inf_min == 1 {
                smin
            } else {
                f64::NEG_INFINITY
            };
            let rmax = if h.is_finite() {
                if inf_max == 0 { smax - h } else { f64::INFINITY }
            } else if inf_max == 1 {
                smax
            } else {
                f64::INFINITY
            };
            // a x in [−rmax, −rmin]
            let (nl, nh) = if a > 0.0 {
                (-rmax / a, -rmin / a)
            } else {
                (-rmin / a, -rmax / a)
            };
            let mut moved = false;
            if nl > lo[i] + 1e-6 {
                lo[i] = nl;
                moved = true;
            }
            if nh < hi[i] - 1e-6 {
                hi[i] = nh;
                moved = true;
            }
            if moved {
                for &r2 in &of[i] {
                    if r2 != r && !queued[r2] {
                        queued[r2] = true;
                        queue.push_back(r2);
                    }
                }
            }
        }
    }
}
