//! The roll-up of one attribution path's unit sums to every entity and output period.
//!
//! The plan's SQL (`plan`) reduces the activity tables to sums by unit (practice, provider,
//! commissioner, organisation), base period and, for a standardised indicator, age band and
//! sex: at most a few million rows, whatever the size of the activity. This module adds
//! those sums up to each entity the unit counts for (`maps::entity_map`) and to each output
//! period the base period falls in (`maps::period_map`) over dense arrays indexed by entity,
//! base period and cell, so a rolling 12 months costs twelve additions per cell instead of
//! twelve copies of every row through a hash join and a string-keyed group-by (which was
//! most of a standardised indicator's time). The answers are the SQL roll-up's: the same
//! rows (an entity and period has a row when any of its units has a row in any of its base
//! periods), the same sums, nulls where SQL's `sum` of no values is null.

use crate::Error;
use crate::catalogue::{Grain, Level, Path};
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef};
use foldhash::HashMap;
use std::sync::Arc;

/// The two maps as the roll-up reads them, built once per engine.
#[derive(Debug, Default)]
pub struct Maps {
    /// (path, unit, level, entity code), as `maps::entity_links` lists them.
    links: Vec<(Path, String, Level, String)>,
    /// (base, grain, period), as `maps::period_map` lists them.
    periods: Vec<(String, Grain, String)>,
}

impl Maps {
    pub fn new(ds: &dataset::Dataset) -> Maps {
        let mut links = Vec::new();
        crate::maps::entity_links(ds, |path, unit, level, code| {
            links.push((path, unit.to_string(), level, code.to_string()));
        });
        let mut periods = Vec::new();
        crate::maps::period_links(ds.manifest.from, ds.manifest.to, |base, grain, period| {
            periods.push((base.to_string(), grain, period.to_string()));
        });
        Maps { links, periods }
    }
}

/// One path's fan-out: the entities at the chosen levels, the entities of each unit, the
/// base periods and the output periods at the chosen grains with their base periods.
struct Fanout {
    /// (level, entity code).
    entities: Vec<(Level, String)>,
    unit: HashMap<String, Vec<u32>>,
    base: HashMap<String, u32>,
    /// (grain, period, base periods).
    periods: Vec<(Grain, String, Vec<u32>)>,
}

impl Fanout {
    fn new(maps: &Maps, path: Path, levels: &[Level], grains: &[Grain]) -> Fanout {
        let mut entity: HashMap<(Level, &str), u32> = HashMap::default();
        let mut entities = Vec::new();
        let mut unit: HashMap<String, Vec<u32>> = HashMap::default();
        for (p, u, level, code) in &maps.links {
            if *p != path || !levels.contains(level) {
                continue;
            }
            let e = *entity.entry((*level, code.as_str())).or_insert_with(|| {
                entities.push((*level, code.clone()));
                (entities.len() - 1) as u32
            });
            let of = unit.entry(u.clone()).or_default();
            if !of.contains(&e) {
                of.push(e);
            }
        }
        let mut base: HashMap<String, u32> = HashMap::default();
        let mut period: HashMap<(Grain, &str), usize> = HashMap::default();
        let mut periods: Vec<(Grain, String, Vec<u32>)> = Vec::new();
        for (b, grain, p) in &maps.periods {
            if !grains.contains(grain) {
                continue;
            }
            let next = base.len() as u32;
            let b = *base.entry(b.clone()).or_insert(next);
            let i = *period.entry((*grain, p.as_str())).or_insert_with(|| {
                periods.push((*grain, p.clone(), Vec::new()));
                periods.len() - 1
            });
            if !periods[i].2.contains(&b) {
                periods[i].2.push(b);
            }
        }
        Fanout {
            entities,
            unit,
            base,
            periods,
        }
    }
}

/// A text column as the plan produced it (plain or view strings), read in place.
enum Texts {
    Plain(StringArray),
    View(arrow::array::StringViewArray),
}

impl Texts {
    fn is_null(&self, i: usize) -> bool {
        match self {
            Texts::Plain(a) => a.is_null(i),
            Texts::View(a) => a.is_null(i),
        }
    }

    fn value(&self, i: usize) -> &str {
        match self {
            Texts::Plain(a) => a.value(i),
            Texts::View(a) => a.value(i),
        }
    }
}

/// A column as text (whatever string type the plan produced).
fn text(b: &RecordBatch, name: &str) -> Result<Texts, Error> {
    let column = b
        .column_by_name(name)
        .ok_or_else(|| Error::Runtime(format!("roll-up input without column {name}")))?;
    Ok(match column.data_type() {
        DataType::Utf8 => Texts::Plain(column.as_string::<i32>().clone()),
        DataType::Utf8View => Texts::View(column.as_string_view().clone()),
        _ => {
            let cast =
                arrow::compute::cast(column, &DataType::Utf8).map_err(|e| Error::Runtime(e.to_string()))?;
            Texts::Plain(cast.as_string::<i32>().clone())
        }
    })
}

/// A column as 64-bit floats.
fn float(b: &RecordBatch, name: &str) -> Result<Float64Array, Error> {
    let column = b
        .column_by_name(name)
        .ok_or_else(|| Error::Runtime(format!("roll-up input without column {name}")))?;
    let cast = arrow::compute::cast(column, &DataType::Float64).map_err(|e| Error::Runtime(e.to_string()))?;
    Ok(cast.as_primitive::<Float64Type>().clone())
}

/// A compensated (Neumaier) sum: the sum of decimals (money, whole-time equivalents) comes out
/// the same whatever order the rows arrive in, so equal totals compare equal (an SPC run
/// of equal months is not a trend because of a last-bit difference).
#[derive(Debug, Clone, Copy, Default)]
struct Sum {
    s: f64,
    c: f64,
}

impl Sum {
    fn add(&mut self, x: f64) {
        let t = self.s + x;
        if self.s.abs() >= x.abs() {
            self.c += (self.s - t) + x;
        } else {
            self.c += (x - t) + self.s;
        }
        self.s = t;
    }

    fn merge(&mut self, other: Sum) {
        self.add(other.s);
        self.add(other.c);
    }

    fn value(self) -> f64 {
        self.s + self.c
    }
}

fn get(a: &Float64Array, i: usize) -> Option<f64> {
    (!a.is_null(i)).then(|| a.value(i))
}

/// The rows of a roll-up's output, gathered column by column.
#[derive(Default)]
struct Out {
    kind: Vec<&'static str>,
    code: Vec<String>,
    level: Vec<&'static str>,
    grain: Vec<&'static str>,
    period: Vec<String>,
    numbers: Vec<Vec<Option<f64>>>,
}

impl Out {
    fn new(numbers: usize) -> Out {
        Out {
            numbers: vec![Vec::new(); numbers],
            ..Out::default()
        }
    }

    fn push(&mut self, f: &Fanout, e: usize, p: usize, numbers: &[Option<f64>]) {
        let (level, code) = &f.entities[e];
        let (grain, period, _) = &f.periods[p];
        self.kind.push(level.entity_kind());
        self.code.push(code.clone());
        self.level.push(level.as_str());
        self.grain.push(grain.as_str());
        self.period.push(period.clone());
        for (column, x) in self.numbers.iter_mut().zip(numbers) {
            column.push(*x);
        }
    }

    fn batch(self, names: &[&str]) -> Result<RecordBatch, Error> {
        let mut fields: Vec<Field> = ["entity_kind", "entity_code", "level", "grain", "period"]
            .iter()
            .map(|n| Field::new(*n, DataType::Utf8, false))
            .collect();
        fields.extend(names.iter().map(|n| Field::new(*n, DataType::Float64, true)));
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(self.kind)),
            Arc::new(StringArray::from_iter_values(self.code)),
            Arc::new(StringArray::from_iter_values(self.level)),
            Arc::new(StringArray::from_iter_values(self.grain)),
            Arc::new(StringArray::from_iter_values(self.period)),
        ];
        columns.extend(
            self.numbers
                .into_iter()
                .map(|c| Arc::new(Float64Array::from(c)) as ArrayRef),
        );
        RecordBatch::try_new(schema, columns).map_err(|e| Error::Runtime(e.to_string()))
    }
}

/// One path's rows of a reduction made for several paths at once: its unit column (`unit_0`,
/// `unit_1`, …) as `unit`, with `base`, `numerator` and `denominator`. The rows of units
/// that differ only in the other paths' units are summed by the roll-up.
pub fn one_path(rows: &[RecordBatch], unit: &str) -> Result<Vec<RecordBatch>, arrow::error::ArrowError> {
    rows.iter()
        .map(|b| {
            let schema = b.schema();
            let mut fields = Vec::with_capacity(4);
            let mut columns = Vec::with_capacity(4);
            for (name, as_name) in [
                (unit, "unit"),
                ("base", "base"),
                ("numerator", "numerator"),
                ("denominator", "denominator"),
            ] {
                let i = schema.index_of(name)?;
                fields.push(schema.field(i).clone().with_name(as_name));
                columns.push(b.column(i).clone());
            }
            RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        })
        .collect()
}

/// Sums `unit, base, numerator, denominator` rows (each of the two null where the row
/// counts only the other) to entities and output periods: `entity_kind, entity_code, level,
/// grain, period, numerator, denominator`, each null where no row carried it.
pub fn plain(
    maps: &Maps,
    path: Path,
    levels: &[Level],
    grains: &[Grain],
    rows: &[RecordBatch],
) -> Result<RecordBatch, Error> {
    let f = Fanout::new(maps, path, levels, grains);
    let (ne, nb) = (f.entities.len(), f.base.len());
    // Per entity and base period: sums and how many values each sum has.
    let mut num = vec![Sum::default(); ne * nb];
    let mut den = vec![Sum::default(); ne * nb];
    let mut nums = vec![0u32; ne * nb];
    let mut dens = vec![0u32; ne * nb];
    let mut present = vec![false; ne * nb];
    for batch in rows {
        let (unit, base) = (text(batch, "unit")?, text(batch, "base")?);
        let (n, d) = (float(batch, "numerator")?, float(batch, "denominator")?);
        for i in 0..batch.num_rows() {
            if unit.is_null(i) || base.is_null(i) {
                continue;
            }
            let (Some(es), Some(&b)) = (f.unit.get(unit.value(i)), f.base.get(base.value(i))) else {
                continue;
            };
            let (n, d) = (get(&n, i), get(&d, i));
            for &e in es {
                let at = e as usize * nb + b as usize;
                present[at] = true;
                if let Some(n) = n {
                    num[at].add(n);
                    nums[at] += 1;
                }
                if let Some(d) = d {
                    den[at].add(d);
                    dens[at] += 1;
                }
            }
        }
    }
    let mut out = Out::new(2);
    for e in 0..ne {
        for (p, (_, _, bases)) in f.periods.iter().enumerate() {
            let (mut any, mut n, mut d, mut ns, mut ds) = (false, Sum::default(), Sum::default(), 0, 0);
            for &b in bases {
                let at = e * nb + b as usize;
                if present[at] {
                    any = true;
                    n.merge(num[at]);
                    d.merge(den[at]);
                    ns += nums[at];
                    ds += dens[at];
                }
            }
            if any {
                out.push(
                    &f,
                    e,
                    p,
                    &[(ns > 0).then(|| n.value()), (ds > 0).then(|| d.value())],
                );
            }
        }
    }
    out.batch(&["numerator", "denominator"])
}

/// Age–sex cells (`unit, base, band, sex, o, n`) summed to entity, base period and cell:
/// observed events and population with nulls as 0, and whether any row was there. Both are
/// counts, so plain sums are exact (below 2^53).
struct Cells {
    f: Fanout,
    bands: Vec<String>,
    sexes: usize,
    /// Per entity, base period and cell (band × sexes + sex).
    o: Vec<f64>,
    n: Vec<f64>,
    present: Vec<bool>,
    /// Per base period and cell, over every unit (mapped or not): observed events, population.
    national: Vec<(f64, f64)>,
}

impl Cells {
    fn new(f: Fanout, cells: &[RecordBatch]) -> Result<Cells, Error> {
        let mut bands: HashMap<String, u32> = HashMap::default();
        let mut sexes: HashMap<String, u32> = HashMap::default();
        let mut read = Vec::with_capacity(cells.len());
        let intern = |map: &mut HashMap<String, u32>, s: &str| -> u32 {
            if let Some(&i) = map.get(s) {
                return i;
            }
            let i = map.len() as u32;
            map.insert(s.to_string(), i);
            i
        };
        for batch in cells {
            let (band, sex) = (text(batch, "band")?, text(batch, "sex")?);
            let ids: Vec<Option<(u32, u32)>> = (0..batch.num_rows())
                .map(|i| {
                    (!band.is_null(i) && !sex.is_null(i)).then(|| {
                        (
                            intern(&mut bands, band.value(i)),
                            intern(&mut sexes, sex.value(i)),
                        )
                    })
                })
                .collect();
            read.push(ids);
        }
        // Cells in the order of their texts, whatever order the rows came in, so that sums
        // over cells are always taken in the same order.
        let order = |map: &HashMap<String, u32>| -> (Vec<String>, Vec<u32>) {
            let mut texts: Vec<(&String, u32)> = map.iter().map(|(t, &i)| (t, i)).collect();
            texts.sort_unstable();
            let mut rank = vec![0u32; texts.len()];
            for (r, (_, i)) in texts.iter().enumerate() {
                rank[*i as usize] = r as u32;
            }
            (texts.into_iter().map(|(t, _)| t.clone()).collect(), rank)
        };
        let (bands_in_order, band_rank) = order(&bands);
        let (_, sex_rank) = order(&sexes);
        let (ne, nb, ns) = (f.entities.len(), f.base.len(), sexes.len().max(1));
        let nk = bands.len() * ns;
        let mut o = vec![0.0; ne * nb * nk];
        let mut n = vec![0.0; ne * nb * nk];
        let mut present = vec![false; ne * nb * nk];
        let mut national = vec![(0.0, 0.0); nb * nk];
        for (batch, ids) in cells.iter().zip(&read) {
            let (unit, base) = (text(batch, "unit")?, text(batch, "base")?);
            let (bo, bn) = (float(batch, "o")?, float(batch, "n")?);
            for (i, id) in ids.iter().enumerate() {
                let (Some((band, sex)), false) = (id, base.is_null(i)) else {
                    continue;
                };
                let Some(&b) = f.base.get(base.value(i)) else {
                    continue;
                };
                let k = band_rank[*band as usize] as usize * ns + sex_rank[*sex as usize] as usize;
                let (x, y) = (get(&bo, i).unwrap_or(0.0), get(&bn, i).unwrap_or(0.0));
                let r = &mut national[b as usize * nk + k];
                r.0 += x;
                r.1 += y;
                if unit.is_null(i) {
                    continue;
                }
                for &e in f.unit.get(unit.value(i)).into_iter().flatten() {
                    let at = (e as usize * nb + b as usize) * nk + k;
                    present[at] = true;
                    o[at] += x;
                    n[at] += y;
                }
            }
        }
        Ok(Cells {
            f,
            bands: bands_in_order,
            sexes: ns,
            o,
            n,
            present,
            national,
        })
    }

    fn cells(&self) -> usize {
        self.bands.len() * self.sexes
    }

    /// For entity `e` and output period `p`, each cell's (present, o, n) summed over the
    /// period's base periods, into `into`.
    fn period(&self, e: usize, p: usize, into: &mut [(bool, f64, f64)]) {
        let (nb, nk) = (self.f.base.len(), self.cells());
        into.fill((false, 0.0, 0.0));
        for &b in &self.f.periods[p].2 {
            let at = (e * nb + b as usize) * nk;
            for (k, slot) in into.iter_mut().enumerate() {
                if self.present[at + k] {
                    slot.0 = true;
                    slot.1 += self.o[at + k];
                    slot.2 += self.n[at + k];
                }
            }
        }
    }
}

/// Indirect age–sex standardisation of the cells: per entity and output period, observed
/// events (`numerator`) and the events expected at the national rate of each age band and
/// sex in the same period (`denominator`), over the cells whose national population is
/// positive.
pub fn indirect(
    maps: &Maps,
    path: Path,
    levels: &[Level],
    grains: &[Grain],
    cells: &[RecordBatch],
) -> Result<RecordBatch, Error> {
    let c = Cells::new(Fanout::new(maps, path, levels, grains), cells)?;
    let nk = c.cells();
    // The national rate of each cell in each output period.
    let reference: Vec<Vec<(f64, f64)>> =
        c.f.periods
            .iter()
            .map(|(_, _, bases)| {
                let mut r = vec![(0.0, 0.0); nk];
                for &b in bases {
                    for (k, slot) in r.iter_mut().enumerate() {
                        let (o, n) = c.national[b as usize * nk + k];
                        slot.0 += o;
                        slot.1 += n;
                    }
                }
                r
            })
            .collect();
    let mut out = Out::new(2);
    let mut sums = vec![(false, 0.0, 0.0); nk];
    for e in 0..c.f.entities.len() {
        for (p, r) in reference.iter().enumerate() {
            c.period(e, p, &mut sums);
            let (mut any, mut observed, mut expected) = (false, 0.0, Sum::default());
            for (&(present, o, n), &(ro, rn)) in sums.iter().zip(r) {
                if present && rn > 0.0 {
                    any = true;
                    observed += o;
                    expected.add(n * ro / rn);
                }
            }
            if any {
                out.push(&c.f, e, p, &[Some(observed), Some(expected.value())]);
            }
        }
    }
    out.batch(&["numerator", "denominator"])
}

/// Direct standardisation to the European Standard Population 2013: per entity and output
/// period, the events and population (both sexes) and the rate `Σ o_b / n_b × w_b / Σ w` over
/// age bands with its variance `Σ o_b (w_b / n_b)² / (Σ w)²` (Dobson). Bands without
/// population add nothing to the sums; bands outside the ESP's are left out.
pub fn direct(
    maps: &Maps,
    path: Path,
    levels: &[Level],
    grains: &[Grain],
    cells: &[RecordBatch],
) -> Result<RecordBatch, Error> {
    let c = Cells::new(Fanout::new(maps, path, levels, grains), cells)?;
    let total: f64 = stats::standardise::ESP2013.iter().sum();
    let weight: Vec<Option<f64>> = c
        .bands
        .iter()
        .map(|b| {
            stats::standardise::ESP2013_BANDS
                .iter()
                .position(|x| x == b)
                .map(|i| stats::standardise::ESP2013[i])
        })
        .collect();
    let mut out = Out::new(4);
    let mut sums = vec![(false, 0.0, 0.0); c.cells()];
    for e in 0..c.f.entities.len() {
        for p in 0..c.f.periods.len() {
            c.period(e, p, &mut sums);
            let (mut any, mut observed, mut people) = (false, 0.0, 0.0);
            let (mut rate, mut var) = (Sum::default(), Sum::default());
            for (band, w) in weight.iter().enumerate() {
                let Some(w) = *w else { continue };
                let mut present = false;
                let (mut o, mut n) = (0.0, 0.0);
                for &(here, x, y) in &sums[band * c.sexes..(band + 1) * c.sexes] {
                    present |= here;
                    o += x;
                    n += y;
                }
                if !present {
                    continue;
                }
                any = true;
                observed += o;
                people += n;
                if n > 0.0 {
                    rate.add(o * w / n);
                    var.add(o * (w / n) * (w / n));
                }
            }
            if any {
                out.push(
                    &c.f,
                    e,
                    p,
                    &[
                        Some(observed),
                        Some(people),
                        Some(rate.value() / total),
                        Some(var.value() / (total * total)),
                    ],
                );
            }
        }
    }
    out.batch(&["numerator", "denominator", "dsr_rate", "dsr_var"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sums_do_not_depend_on_order() {
        let xs = [17.0, 0.6, 6.9, 0.2, 3.1, 0.1, 12.3, 0.7, 0.3, 2.2];
        let sum = |order: &[usize]| {
            let mut s = Sum::default();
            order.iter().for_each(|&i| s.add(xs[i]));
            s.value()
        };
        let naive = |order: &[usize]| order.iter().map(|&i| xs[i]).fold(0.0, |a, b| a + b);
        let forward: Vec<usize> = (0..xs.len()).collect();
        let backward: Vec<usize> = forward.iter().rev().copied().collect();
        let mixed = [5, 9, 3, 4, 6, 7, 2, 8, 1, 0];
        // Naive sums of these decimals differ by order; compensated ones do not.
        assert_ne!(naive(&forward), naive(&backward));
        assert_eq!(sum(&forward), sum(&backward));
        assert_eq!(sum(&forward), sum(&mixed));
        assert_eq!(sum(&forward), 43.4);
        // Merging partial sums is the same as adding every term.
        let (mut a, mut b) = (Sum::default(), Sum::default());
        xs[..3].iter().for_each(|&x| a.add(x));
        xs[3..].iter().for_each(|&x| b.add(x));
        a.merge(b);
        assert_eq!(a.value(), 43.4);
    }
}
