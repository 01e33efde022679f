//! Disclosure control of the published indicator table, holding under every linear relation
//! the table publishes (`docs/disclosure.md`).
//!
//! A published sub-national count is a sum of other published counts in many ways: a system
//! is the sum of its providers, a financial year the sum of its quarters or its months, a
//! rolling window the previous window plus one month less another, and indicators that count
//! the same thing publish the same count. Primary suppression (1–7) alone lets a caller
//! subtract. So the published table gets, in order:
//!
//! 1. **primary suppression** of every sub-national row whose controlled count is 1–7
//!    (`suppressed`);
//! 2. **secondary suppression**: every relation (a total and the parts that add up to it, or
//!    two overlapping periods and the parts of their difference) that has exactly one hidden
//!    row gets a second, the smallest other sub-national row (non-zero before zero), repeated
//!    until no relation has exactly one. Indicators that share a numerator or a denominator
//!    definition are suppressed together, so the same count is hidden everywhere or nowhere;
//! 3. **rounding** of every published sub-national controlled count to the nearest 5, and the
//!    value and its limits computed again from the rounded counts, so that nothing published
//!    carries more than the rounded counts do.
//!
//! England is exempt (national figures are published as they are).

use crate::catalogue::{Ci, Grain, Indicator, Level, Measure, Path, Standardisation};
use crate::{Disclosure, Error};
use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, RecordBatch};
use arrow::datatypes::Float64Type;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The rounding base of published sub-national counts.
pub const ROUND_TO: f64 = 5.0;

/// Rounds a sub-national count to the nearest multiple of [`ROUND_TO`].
pub fn round_count(x: f64) -> f64 {
    (x / ROUND_TO).round() * ROUND_TO
}

/// Groups indicators that must be suppressed together: those that share a numerator or a
/// denominator definition (same table, time column, filter and aggregate), transitively.
/// Returns groups of indices into `inds`, each in catalogue order.
pub fn families(inds: &[&Indicator]) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..inds.len()).collect();
    fn find(p: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while p[r] != r {
            r = p[r];
        }
        let mut j = i;
        while p[j] != r {
            let n = p[j];
            p[j] = r;
            j = n;
        }
        r
    }
    let measure_key = |ind: &Indicator, m: &Measure| {
        let derived = ind
            .derived
            .iter()
            .find(|d| d.name == m.table)
            .map(|d| d.sql.clone())
            .unwrap_or_default();
        (
            m.table.clone(),
            derived,
            m.when.clone(),
            m.filter.clone().unwrap_or_default(),
            m.value.clone(),
        )
    };
    let mut seen: HashMap<_, usize> = HashMap::new();
    for (i, ind) in inds.iter().enumerate() {
        if Disclosure::of(ind) == Disclosure::None {
            continue;
        }
        for m in std::iter::once(&ind.numerator).chain(ind.denominator.as_ref()) {
            let k = measure_key(ind, m);
            if let Some(&j) = seen.get(&k) {
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            } else {
                seen.insert(k, i);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..inds.len() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    groups.into_values().collect()
}

/// How the entities of each path nest: for an entity and a finer level of the same path, the
/// entities of the finer level that partition its units, with the units none of them counts
/// (from `maps::entity_links`). Worked out once per run, on texts; relations look it up.
#[derive(Debug, Default)]
pub struct Nesting {
    /// (path, level, finer level) → entity code → its split.
    splits: HashMap<(Path, Level, Level), HashMap<String, Split>>,
}

/// The finer entities whose units all lie within an entity's (sorted), and the entity's units
/// none of them counts. Kept only when every finer entity that counts one of its units lies
/// wholly within it, and there is at least one.
#[derive(Debug)]
struct Split {
    children: Vec<String>,
    orphans: Vec<String>,
}

impl Nesting {
    pub fn new(ds: &dataset::Dataset) -> Nesting {
        // Codes as numbers while working it out (tens of thousands of units and entities,
        // each looked up at every level of its path), as texts in the result.
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut texts: Vec<String> = Vec::new();
        let mut units: HashMap<(Path, Level, u32), Vec<u32>> = HashMap::new();
        let mut entity: HashMap<(Path, u32, Level), u32> = HashMap::new();
        crate::maps::entity_links(ds, |path, unit, level, code| {
            let mut id = |s: &str| match ids.get(s) {
                Some(&i) => i,
                None => {
                    let i = texts.len() as u32;
                    texts.push(s.to_string());
                    ids.insert(s.to_string(), i);
                    i
                }
            };
            let (u, c) = (id(unit), id(code));
            units.entry((path, level, c)).or_default().push(u);
            entity.insert((path, u, level), c);
        });
        // Each entity's units in the order of their codes (the orphans' order), without
        // repeats; and by number, for subset tests.
        for within in units.values_mut() {
            within.sort_unstable();
            within.dedup();
        }
        let by_text = |v: &mut Vec<u32>| v.sort_by(|&a, &b| texts[a as usize].cmp(&texts[b as usize]));
        let mut splits: HashMap<(Path, Level, Level), HashMap<String, Split>> = HashMap::new();
        for (&(path, up, code), within) in &units {
            for &lo in path.levels().iter().filter(|&&lo| lo != up) {
                let mut children: Vec<u32> = Vec::new();
                let mut orphans: Vec<u32> = Vec::new();
                for &u in within {
                    match entity.get(&(path, u, lo)) {
                        Some(&c) => children.push(c),
                        None => orphans.push(u),
                    }
                }
                children.sort_unstable();
                children.dedup();
                let nested = children.iter().all(|&c| {
                    units
                        .get(&(path, lo, c))
                        .is_some_and(|cu| cu.iter().all(|x| within.binary_search(x).is_ok()))
                });
                if nested && !children.is_empty() {
                    by_text(&mut children);
                    by_text(&mut orphans);
                    let text = |v: Vec<u32>| v.into_iter().map(|i| texts[i as usize].clone()).collect();
                    splits.entry((path, up, lo)).or_default().insert(
                        texts[code as usize].clone(),
                        Split {
                            children: text(children),
                            orphans: text(orphans),
                        },
                    );
                }
            }
        }
        Nesting { splits }
    }
}

/// Relations, each a list of places (indices into the sorted keys), stored end to end.
#[derive(Debug, Default)]
struct Relations {
    cells: Vec<u32>,
    /// Where each relation's places end in `cells`.
    ends: Vec<usize>,
}

impl Relations {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn get(&self, r: usize) -> &[u32] {
        let start = if r == 0 { 0 } else { self.ends[r - 1] };
        &self.cells[start..self.ends[r]]
    }
}

/// A row's place: (level, entity code, grain, period), as ids of [`Names`].
type Key = [u32; 4];

/// The texts of a family's places, each column numbered in sorted order, so that places
/// compare as their texts do and the outcome does not depend on the order rows came in.
struct Names<'a> {
    /// Per column (level, code, grain, period): text → id, and id → text.
    ids: [foldhash::HashMap<&'a str, u32>; 4],
    texts: [Vec<&'a str>; 4],
}

impl<'a> Names<'a> {
    fn new(columns: &[[&'a arrow::array::StringArray; 4]]) -> Names<'a> {
        let mut texts: [Vec<&'a str>; 4] = Default::default();
        for (c, out) in texts.iter_mut().enumerate() {
            let mut seen: foldhash::HashSet<&'a str> = foldhash::HashSet::default();
            for cols in columns {
                seen.extend(cols[c].iter().flatten());
            }
            *out = seen.into_iter().collect();
            out.sort_unstable();
        }
        let ids = std::array::from_fn(|c| texts[c].iter().enumerate().map(|(i, t)| (*t, i as u32)).collect());
        Names { ids, texts }
    }

    fn id(&self, column: usize, text: &str) -> Option<u32> {
        self.ids[column].get(text).copied()
    }

    fn text(&self, column: usize, id: u32) -> &'a str {
        self.texts[column][id as usize]
    }

    /// The key of row `r` of a batch's columns.
    fn key(&self, cols: &[&arrow::array::StringArray; 4], r: usize) -> Key {
        std::array::from_fn(|c| self.ids[c][cols[c].value(r)])
    }
}

const LEVEL: usize = 0;
const CODE: usize = 1;
const GRAIN: usize = 2;
const PERIOD: usize = 3;

/// A period's first and last month, as month numbers.
fn months_of(grain: &str, label: &str) -> Option<(i32, i32)> {
    let index = |m: model::Month| m.year() * 12 + m.month() as i32 - 1;
    if grain == Grain::Rolling12Months.as_str() {
        let (a, b) = label.split_once(" to ")?;
        let (a, b) = (a.parse::<model::Month>().ok()?, b.parse::<model::Month>().ok()?);
        return Some((index(a), index(b)));
    }
    let p = label.parse::<model::Period>().ok()?;
    Some((index(p.first_month()), index(p.last_month())))
}

/// Every relation among a family's rows, as sets of row places that add up (with signs the
/// suppression does not need): parent and children along every path, periods and the
/// periods of another grain that partition them, and overlapping periods of one grain with
/// the parts of their difference.
fn relations(keys: &[Key], names: &Names<'_>, paths: &[(Path, Vec<Level>)], nesting: &Nesting) -> Relations {
    // Periods present, and the entities present.
    let mut periods: BTreeSet<(u32, u32)> = BTreeSet::new();
    let mut entities: BTreeSet<(u32, u32)> = BTreeSet::new();
    for k in keys {
        periods.insert((k[GRAIN], k[PERIOD]));
        entities.insert((k[LEVEL], k[CODE]));
    }
    // Each row's index in a dense entity × period table (ABSENT where there is no row): the
    // relations below look up millions of places, and an array index costs a fraction of
    // hashing a key.
    let period_no: foldhash::HashMap<(u32, u32), u32> =
        periods.iter().zip(0..).map(|(&p, i)| (p, i)).collect();
    let entity_no: foldhash::HashMap<(u32, u32), u32> =
        entities.iter().zip(0..).map(|(&e, i)| (e, i)).collect();
    let n_periods = periods.len();
    let mut cell = vec![ABSENT; entities.len() * n_periods];
    for (i, k) in keys.iter().enumerate() {
        let e = entity_no[&(k[LEVEL], k[CODE])] as usize;
        let p = period_no[&(k[GRAIN], k[PERIOD])] as usize;
        cell[e * n_periods + p] = i as u32;
    }
    let mut out = Relations::default();
    // The rows of one relation, given as (entity, period) numbers: those of its places that
    // exist (an absent row is a known 0), kept when at least two do.
    fn push(out: &mut Relations, cell: &[u32], n_periods: usize, places: impl Iterator<Item = (u32, u32)>) {
        let start = out.cells.len();
        out.cells.extend(
            places
                .map(|(e, p)| cell[e as usize * n_periods + p as usize])
                .filter(|&i| i != ABSENT),
        );
        if out.cells.len() - start >= 2 {
            out.ends.push(out.cells.len());
        } else {
            out.cells.truncate(start);
        }
    }
    // A relation between entities, in every period. An entity without a row in the family
    // (no number) adds nothing.
    let instantiate = |out: &mut Relations, places: &[(u32, u32)]| {
        let numbers: Vec<u32> = places.iter().filter_map(|e| entity_no.get(e).copied()).collect();
        for p in 0..n_periods as u32 {
            push(out, &cell, n_periods, numbers.iter().map(|&e| (e, p)));
        }
    };
    let level_id = |l: Level| names.id(LEVEL, l.as_str());

    // Levels: each entity and the entities of a finer level that partition its units (with
    // the unit level filling units the finer level leaves out).
    let england = level_id(Level::England).zip(names.id(CODE, crate::ENGLAND));
    let has_england = england.is_some_and(|e| entities.contains(&e));
    for (path, levels) in paths {
        let unit_level = path.levels()[0];
        for &up in levels {
            let Some(up_id) = level_id(up) else { continue };
            for &(l, code_id) in entities.iter().filter(|e| e.0 == up_id) {
                let code = names.text(CODE, code_id);
                for &lo in levels.iter().filter(|&&lo| lo != up) {
                    let Some(split) = nesting.splits.get(&(*path, up, lo)).and_then(|s| s.get(code)) else {
                        continue;
                    };
                    if !split.orphans.is_empty() && (lo == unit_level || !levels.contains(&unit_level)) {
                        continue;
                    }
                    // Places without a row in the family (no id) add nothing.
                    let mut places: Vec<(u32, u32)> = vec![(l, code_id)];
                    if let Some(lo_id) = level_id(lo) {
                        places.extend(
                            split
                                .children
                                .iter()
                                .filter_map(|c| Some((lo_id, names.id(CODE, c)?))),
                        );
                    }
                    if let Some(unit_id) = level_id(unit_level) {
                        places.extend(
                            split
                                .orphans
                                .iter()
                                .filter_map(|u| Some((unit_id, names.id(CODE, u)?))),
                        );
                    }
                    instantiate(&mut out, &places);
                }
            }
        }
        // England is the sum of every level of a path that does not reach it, too, when the
        // path covers the same rows: not known here, so assumed.
        if let (true, Some(england)) = (has_england && !levels.contains(&Level::England), england) {
            for &lo in levels {
                let Some(lo_id) = level_id(lo) else { continue };
                let mut places = vec![england];
                places.extend(entities.iter().filter(|e| e.0 == lo_id).copied());
                instantiate(&mut out, &places);
            }
        }
    }

    // Periods, per entity.
    #[allow(clippy::type_complexity)]
    let ranges: Vec<((u32, u32), (i32, i32))> = periods
        .iter()
        .filter_map(|&(g, p)| months_of(names.text(GRAIN, g), names.text(PERIOD, p)).map(|r| ((g, p), r)))
        .collect();
    let grains: BTreeSet<u32> = ranges.iter().map(|(k, _)| k.0).collect();
    // The periods of grain `g` that exactly cover months `a..=b`, if they do.
    let cover = |g: u32, a: i32, b: i32| -> Option<Vec<(u32, u32)>> {
        let parts: Vec<_> = ranges
            .iter()
            .filter(|(k, r)| k.0 == g && r.0 >= a && r.1 <= b)
            .collect();
        let len: i32 = parts.iter().map(|(_, r)| r.1 - r.0 + 1).sum();
        (!parts.is_empty() && len == b - a + 1).then(|| parts.iter().map(|(k, _)| *k).collect())
    };
    let mut templates: Vec<Vec<(u32, u32)>> = Vec::new();
    for &((g, p), (a, b)) in &ranges {
        for &h in grains.iter().filter(|&&h| h != g) {
            if let Some(parts) = cover(h, a, b) {
                let mut t = vec![(g, p)];
                t.extend(parts);
                templates.push(t);
            }
        }
        // Overlapping periods of the same grain and length: the later less the earlier is
        // what one has and the other has not.
        for &((g2, p2), (a2, b2)) in &ranges {
            if g2 != g || a2 >= a || b2 < a || b2 - a2 != b - a {
                continue;
            }
            for &h in grains.iter().filter(|&&h| h != g) {
                if let (Some(added), Some(removed)) = (cover(h, b2 + 1, b), cover(h, a2, a - 1)) {
                    let mut t = vec![(g, p), (g2, p2)];
                    t.extend(added);
                    t.extend(removed);
                    templates.push(t);
                }
            }
        }
    }
    // Template periods are periods present (they come from `ranges`), so each has a number.
    let templates: Vec<Vec<u32>> = templates
        .iter()
        .map(|t| t.iter().map(|p| period_no[p]).collect())
        .collect();
    for e in 0..entities.len() as u32 {
        for t in &templates {
            push(&mut out, &cell, n_periods, t.iter().map(|&p| (e, p)));
        }
    }
    out
}

/// No row at this place of the dense table in [`relations`].
const ABSENT: u32 = u32::MAX;

/// Secondary suppression: until no relation has exactly one hidden place, hides the
/// smallest other sub-national place of each that does. `rank` orders places by how little
/// hiding them costs. Returns how many places it hid.
fn complement(hidden: &mut [bool], exempt: &[bool], rank: &[usize], relations: &Relations) -> usize {
    // The relations of each place, end to end as `relations` stores places.
    let mut count = vec![0usize; hidden.len() + 1];
    for &c in &relations.cells {
        count[c as usize + 1] += 1;
    }
    for i in 1..count.len() {
        count[i] += count[i - 1];
    }
    let mut of = vec![0u32; relations.cells.len()];
    let mut next = count.clone();
    for r in 0..relations.len() {
        for &c in relations.get(r) {
            of[next[c as usize]] = r as u32;
            next[c as usize] += 1;
        }
    }
    let mut queue: std::collections::VecDeque<usize> = (0..relations.len()).collect();
    let mut queued = vec![true; relations.len()];
    let mut added = 0;
    while let Some(r) = queue.pop_front() {
        queued[r] = false;
        let cells = relations.get(r);
        if cells.iter().filter(|&&c| hidden[c as usize]).count() != 1 {
            continue;
        }
        let Some(&pick) = cells
            .iter()
            .filter(|&&c| !hidden[c as usize] && !exempt[c as usize])
            .min_by_key(|&&c| rank[c as usize])
        else {
            continue;
        };
        let pick = pick as usize;
        hidden[pick] = true;
        added += 1;
        for &r2 in &of[count[pick]..count[pick + 1]] {
            let r2 = r2 as usize;
            if !queued[r2] {
                queued[r2] = true;
                queue.push_back(r2);
            }
        }
    }
    added
}

fn f64s(b: &RecordBatch, i: usize) -> &Float64Array {
    b.column(i).as_primitive::<Float64Type>()
}

/// The published rows of a family of indicators (`rows[i]`: the unsuppressed batches of
/// `inds[i]`), in the same order, with `suppressed` appended.
pub fn protect(
    inds: &[&Indicator],
    rows: &[Vec<RecordBatch>],
    nesting: &Nesting,
) -> Result<Vec<Vec<RecordBatch>>, Error> {
    // Places, sorted, so that the outcome does not depend on the order rows were computed in.
    let columns: Vec<[&arrow::array::StringArray; 4]> = rows
        .iter()
        .flatten()
        .map(|b| [3, 2, 4, 5].map(|i| b.column(i).as_string::<i32>()))
        .collect();
    let started = std::time::Instant::now();
    let names = Names::new(&columns);
    // (key, exempt, size, primary) of every row, then one entry per place.
    let mut all: Vec<(Key, bool, f64, bool)> = Vec::new();
    let england = names.id(LEVEL, Level::England.as_str());
    for (ind, batches) in inds.iter().zip(rows) {
        let rule = Disclosure::of(ind);
        for b in batches {
            let hidden = crate::suppressed(b, rule);
            let cols = [3, 2, 4, 5].map(|i| b.column(i).as_string::<i32>());
            let num = f64s(b, 6);
            for r in 0..b.num_rows() {
                let key = names.key(&cols, r);
                let size = if num.is_null(r) {
                    f64::INFINITY
                } else {
                    num.value(r).abs()
                };
                all.push((key, Some(key[LEVEL]) == england, size, hidden.value(r)));
            }
        }
    }
    all.sort_unstable_by_key(|p| p.0);
    let mut keys: Vec<Key> = Vec::new();
    let mut exempt: Vec<bool> = Vec::new();
    let mut sizes: Vec<f64> = Vec::new();
    let mut hidden: Vec<bool> = Vec::new();
    for (key, england, size, primary) in all {
        if keys.last() == Some(&key) {
            let last = sizes.len() - 1;
            sizes[last] = sizes[last].min(size);
            hidden[last] |= primary;
        } else {
            keys.push(key);
            exempt.push(england);
            sizes.push(size);
            hidden.push(primary);
        }
    }
    let primary = hidden.iter().filter(|&&h| h).count();
    // Cheapest first: non-zero counts before zeros, then the smallest, then the place.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| {
        (sizes[a] == 0.0)
            .cmp(&(sizes[b] == 0.0))
            .then(sizes[a].total_cmp(&sizes[b]))
            .then(a.cmp(&b))
    });
    let mut rank = vec![0; keys.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r;
    }
    let mut paths: Vec<(Path, Vec<Level>)> = Vec::new();
    for ind in inds {
        for a in &ind.attribution {
            if !paths.iter().any(|(p, l)| *p == a.path && *l == a.levels) {
                paths.push((a.path, a.levels.clone()));
            }
        }
    }
    let controlled = inds.iter().any(|i| Disclosure::of(i) != Disclosure::None);
    if controlled {
        let ranked = started.elapsed().as_secs_f64();
        let relations = relations(&keys, &names, &paths, nesting);
        let related = started.elapsed().as_secs_f64();
        let added = complement(&mut hidden, &exempt, &rank, &relations);
        tracing::debug!(
            ranked,
            related,
            complemented = started.elapsed().as_secs_f64(),
            indicators = ?inds.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            primary,
            secondary = added,
            relations = relations.len(),
            "disclosure control"
        );
    }
    let index: foldhash::HashMap<Key, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut out = Vec::with_capacity(inds.len());
    for (ind, batches) in inds.iter().zip(rows) {
        let mut published = Vec::with_capacity(batches.len());
        for b in batches {
            let cols = [3, 2, 4, 5].map(|i| b.column(i).as_string::<i32>());
            let mask: BooleanArray = (0..b.num_rows())
                .map(|r| Some(index.get(&names.key(&cols, r)).is_some_and(|&i| hidden[i])))
                .collect();
            published.push(publish(ind, b, &mask)?);
        }
        out.push(published);
    }
    tracing::debug!(seconds = started.elapsed().as_secs_f64(), "published");
    Ok(out)
}

/// One batch published: controlled sub-national counts rounded, the value and limits
/// computed again from them, hidden rows' numbers null, and `suppressed` appended.
fn publish(ind: &Indicator, b: &RecordBatch, hidden: &BooleanArray) -> Result<RecordBatch, Error> {
    let rule = Disclosure::of(ind);
    let level = b.column(3).as_string::<i32>();
    let (num, den) = (f64s(b, 6), f64s(b, 7));
    let n = b.num_rows();
    let mut cols: Vec<Vec<Option<f64>>> = (6..13).map(|c| f64s(b, c).iter().collect()).collect();
    let dsr = ind.standardisation == Standardisation::DirectEsp2013;
    #[allow(clippy::needless_range_loop)]
    for r in 0..n {
        if rule == Disclosure::None || level.value(r) == Level::England.as_str() {
            continue;
        }
        let get = |a: &Float64Array| (!a.is_null(r)).then(|| a.value(r));
        let x = get(num).map(round_count);
        let d = match rule {
            Disclosure::Both => get(den).map(round_count),
            _ => get(den),
        };
        cols[0][r] = x;
        cols[1][r] = d;
        if dsr {
            // A directly standardised rate is a weighted sum of age bands' rates: it
            // cannot be computed again from the total, and the method exempts it.
            continue;
        }
        let [value, l95, u95, l998, u998] = recompute(ind, x, d);
        cols[2][r] = value;
        cols[3][r] = l95;
        cols[4][r] = u95;
        cols[5][r] = l998;
        cols[6][r] = u998;
    }
    let mut columns: Vec<ArrayRef> = b.columns()[..6].to_vec();
    for c in cols {
        let a: ArrayRef = Arc::new(Float64Array::from(c));
        columns.push(arrow::compute::nullif(&a, hidden).map_err(|e| Error::Runtime(e.to_string()))?);
    }
    columns.push(Arc::new(hidden.clone()));
    RecordBatch::try_new(crate::published_schema(), columns).map_err(|e| Error::Runtime(e.to_string()))
}

/// The value and the 95% and 99.8% limits of a numerator and denominator, as the plan
/// computes them (`plan::publish`).
fn recompute(ind: &Indicator, x: Option<f64>, d: Option<f64>) -> [Option<f64>; 5] {
    let mult = ind.multiplier;
    let has_den = ind.denominator.is_some();
    let Some(x) = x else { return [None; 5] };
    let value = if has_den {
        d.filter(|d| *d > 0.0).map(|d| x / d * mult)
    } else {
        Some(x * mult)
    };
    let limits = |conf: f64| -> (Option<f64>, Option<f64>) {
        match ind.ci {
            Ci::None | Ci::Dobson => (None, None),
            Ci::Wilson => match d.filter(|d| *d > 0.0) {
                Some(d) => match stats::proportion::wilson(x, d, conf) {
                    Ok(p) => (Some(p.lower * mult), Some(p.upper * mult)),
                    Err(_) => (None, None),
                },
                None => (None, None),
            },
            Ci::Byars | Ci::Isr => {
                if x < 0.0 {
                    return (None, None);
                }
                let (lo, hi, _) = stats::rate::poisson_limits(x, conf);
                if has_den {
                    match d.filter(|d| *d > 0.0) {
                        Some(d) => (Some(lo / d * mult), Some(hi / d * mult)),
                        None => (None, None),
                    }
                } else {
                    (Some(lo * mult), Some(hi * mult))
                }
            }
        }
    };
    let (l95, u95) = limits(0.95);
    let (l998, u998) = limits(0.998);
    [value, l95, u95, l998, u998]
}
