//! One block of practices: every person, their conditions and, month by month, their
//! hospital spells, A&E attendances and outpatient appointments, with readmissions following
//! from their own discharges; plus what the aggregate tables need (counts by provider and
//! month, costs by provider and commissioner).

use crate::columns::{self, Admissions, Attendances, Conditions, Outpatients, Patients, Population};
use crate::params::{self, CONDITIONS, KINDS, Kind, cost};
use crate::people::{self, Person};
use crate::rng::{self, Rng, Stream, cumulative, normal, pick, poisson};
use crate::world::{Route, World};
use arrow::array::RecordBatch;
use rand::Rng as _;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::LazyLock;

/// Totals by provider and month (index `provider * months + month`).
#[derive(Debug, Clone, Copy, Default)]
pub struct AeCounts {
    pub type1: u64,
    pub other: u64,
    pub over_4h_type1: u64,
    pub over_4h_other: u64,
    pub emergency_admissions: u64,
    pub over_12h_dta: u64,
}

/// What the aggregate tables need from the person-level data.
#[derive(Debug, Clone)]
pub struct Totals {
    pub months: usize,
    pub commissioners: usize,
    pub years: usize,
    /// By provider and month.
    pub ae: Vec<AeCounts>,
    /// Occupied bed-days by provider and month.
    pub bed_days: Vec<f64>,
    /// Cost of activity by provider, commissioner and financial year.
    pub cost: Vec<f64>,
    /// Elective spells by provider and commissioner.
    pub elective: Vec<u64>,
    /// Registered patients by commissioner and month (on the first of the month).
    pub registered: Vec<u64>,
    /// Their need: the sum of each person's expected relative cost (`need`).
    pub need: Vec<f64>,
}

impl Totals {
    pub fn new(providers: usize, months: usize, commissioners: usize, years: usize) -> Totals {
        Totals {
            months,
            commissioners,
            years,
            ae: vec![AeCounts::default(); providers * months],
            bed_days: vec![0.0; providers * months],
            cost: vec![0.0; providers * commissioners * years],
            elective: vec![0; providers * commissioners],
            registered: vec![0; commissioners * months],
            need: vec![0.0; commissioners * months],
        }
    }

    pub fn add(&mut self, other: &Totals) {
        for (a, b) in self.ae.iter_mut().zip(&other.ae) {
            a.type1 += b.type1;
            a.other += b.other;
            a.over_4h_type1 += b.over_4h_type1;
            a.over_4h_other += b.over_4h_other;
            a.emergency_admissions += b.emergency_admissions;
            a.over_12h_dta += b.over_12h_dta;
        }
        for (a, b) in self.bed_days.iter_mut().zip(&other.bed_days) {
            *a += b;
        }
        for (a, b) in self.cost.iter_mut().zip(&other.cost) {
            *a += b;
        }
        for (a, b) in self.elective.iter_mut().zip(&other.elective) {
            *a += b;
        }
        for (a, b) in self.registered.iter_mut().zip(&other.registered) {
            *a += b;
        }
        for (a, b) in self.need.iter_mut().zip(&other.need) {
            *a += b;
        }
    }
}

/// A generated block: one Arrow batch per table (activity identifiers numbered from 0, to be
/// renumbered in output order) and its totals.
#[derive(Debug)]
pub struct Block {
    pub patients: RecordBatch,
    pub conditions: RecordBatch,
    pub admissions: RecordBatch,
    pub ae_attendances: RecordBatch,
    pub outpatients: RecordBatch,
    pub population: RecordBatch,
    pub totals: Totals,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Emergency,
    Elective,
    Maternity,
    Transfer,
    AeOnly,
    Outpatient,
    /// An emergency readmission at the provider that discharged the person.
    Readmission(u32),
}

fn event_of(kind: Kind) -> Event {
    match kind {
        Kind::Emergency => Event::Emergency,
        Kind::Elective => Event::Elective,
        Kind::Maternity => Event::Maternity,
        Kind::Transfer => Event::Transfer,
        Kind::AeOnly => Event::AeOnly,
        Kind::Outpatient => Event::Outpatient,
    }
}

/// Share of emergency admissions that come through A&E (5.67m of 7.57m in the SitRep year).
const VIA_AE: f64 = 0.75;
/// Share of attendances not admitted that are type 1, type 2 (the rest are type 3): with
/// every A&E admission at a type-1 department this gives type 1 ≈ 61% of all attendances.
const TYPE1_NOT_ADMITTED: f64 = 0.53;
const TYPE2_NOT_ADMITTED: f64 = 0.012;
/// Relative arrivals by hour of day.
const HOURS: [f64; 24] = [
    2.2, 1.8, 1.5, 1.2, 1.0, 1.0, 1.4, 2.4, 4.0, 5.6, 6.4, 6.5, 6.3, 6.1, 5.9, 5.7, 5.6, 5.6, 5.5, 5.2, 4.6,
    3.9, 3.3, 2.8,
];
static HOURS_CUMULATIVE: LazyLock<Vec<f64>> = LazyLock::new(|| cumulative(HOURS));
static DIAGNOSES: LazyLock<[Vec<f64>; 3]> = LazyLock::new(|| {
    [
        cumulative(params::EMERGENCY_DIAGNOSES.iter().map(|d| d.1)),
        cumulative(params::ELECTIVE_DIAGNOSES.iter().map(|d| d.1)),
        cumulative(params::MATERNITY_DIAGNOSES.iter().map(|d| d.1)),
    ]
});

/// Generates the practices `range` of the world.
pub fn block(world: &World<'_>, names: &crate::Names, range: std::ops::Range<usize>) -> Block {
    let providers = world.sk.providers.len();
    let months = world.months.len();
    let mut g = Gen {
        world,
        totals: Totals::new(providers, months, world.sk.commissioners.len(), names.years.len()),
        patients: Patients::default(),
        conditions: Conditions::default(),
        admissions: Admissions::default(),
        ae: Attendances::default(),
        outpatients: Outpatients::default(),
        population: Population::default(),
        heap: BinaryHeap::new(),
    };
    for p in range {
        g.practice(p);
    }
    Block {
        patients: g.patients.batch(&names.practices, &names.lsoas),
        conditions: g.conditions.batch(),
        admissions: g.admissions.batch(0, &names.providers, &names.commissioners),
        ae_attendances: g.ae.batch(0, &names.providers),
        outpatients: g.outpatients.batch(0, &names.providers, &names.commissioners),
        population: g.population.batch(&names.months, &names.practices, &names.bands),
        totals: g.totals,
    }
}

struct Gen<'w, 'a> {
    world: &'w World<'a>,
    totals: Totals,
    patients: Patients,
    conditions: Conditions,
    admissions: Admissions,
    ae: Attendances,
    outpatients: Outpatients,
    population: Population,
    heap: BinaryHeap<Reverse<(i32, Event)>>,
}

impl Gen<'_, '_> {
    fn practice(&mut self, index: usize) {
        let world = self.world;
        let practice = &world.practices[index];
        let mut rng = rng::stream(world.config.seed, Stream::Practice, index as u64);
        let months = world.months.len();
        let mut counts = vec![0i64; months * 19 * 2];
        for i in 0..practice.pool() {
            let mut person = people::draw(world, practice, i, &mut rng);
            let id = practice.first_id + i as i64;
            self.person(index, id, &mut person, &mut rng);
            self.record(index, id, &person, &mut counts, &mut rng);
        }
        for m in 0..months {
            for band in 0..19 {
                for sex in 0..2 {
                    let n = counts[(m * 19 + band) * 2 + sex];
                    if n > 0 {
                        self.population.period.push(m as u32);
                        self.population.practice.push(index as u32);
                        self.population.band.push(band as u32);
                        self.population.sex.push(if sex == 1 { "M" } else { "F" });
                        self.population.persons.push(n);
                    }
                }
            }
        }
    }

    /// Writes the person's patient and condition rows and counts them in the population.
    fn record(&mut self, practice: usize, id: i64, person: &Person, counts: &mut [i64], rng: &mut Rng) {
        let world = self.world;
        let start = world.config.from.first_day();
        self.patients.patient_id.push(id);
        self.patients.practice.push(practice as u32);
        self.patients.birth_year.push(person.birth_year as i64);
        self.patients.sex.push(if person.male { "M" } else { "F" });
        self.patients.lsoa.push(person.lsoa);
        self.patients.registered_from.push(person.registered_from);
        self.patients.registered_to.push(person.registered_to);
        for (c, condition) in CONDITIONS.iter().enumerate() {
            if person.conditions & (1 << c) != 0 {
                let years = (person.age - condition.min_age).clamp(1, 25);
                self.conditions.patient_id.push(id);
                self.conditions.condition.push(condition.name);
                self.conditions
                    .diagnosed_on
                    .push(start - rng.random_range(1..=years * 365));
            }
        }
        let commissioner = world.practices[practice].commissioner;
        let need = need(world, person);
        for (m, month) in world.months.iter().enumerate() {
            let day = month.first_day();
            if person.registered_from <= day && person.registered_to.is_none_or(|t| t >= day) {
                let band = params::band_of_age(month.year() - person.birth_year);
                counts[(m * 19 + band) * 2 + person.male as usize] += 1;
                self.totals.registered[commissioner * self.totals.months + m] += 1;
                self.totals.need[commissioner * self.totals.months + m] += need;
            }
        }
    }

    /// Draws the person's activity and walks it in date order.
    fn person(&mut self, practice_index: usize, id: i64, person: &mut Person, rng: &mut Rng) {
        let world = self.world;
        let practice = &world.practices[practice_index];
        let (a, b) = person.months(world);
        if a >= b {
            return;
        }
        let last = world.config.to.last_day();
        for kind in KINDS {
            let w = &practice.weights[kind as usize];
            let span = w[b] - w[a];
            let mean = world.rate[kind as usize]
                * params::age_profile(kind, person.band, person.male)
                * person.risk
                * practice.effect
                * span;
            for _ in 0..poisson(rng, mean) {
                let u = w[a] + rng.random::<f64>() * span;
                let m = (w.partition_point(|&c| c <= u).max(1) - 1).clamp(a, b - 1);
                let month = world.months[m];
                let day = month.first_day() + rng.random_range(0..=(month.last_day() - month.first_day()));
                let day = day
                    .max(person.registered_from)
                    .min(person.registered_to.unwrap_or(last));
                self.heap.push(Reverse((day, event_of(kind))));
            }
        }
        let commissioner = practice.commissioner as u32;
        let mut busy_until = i32::MIN;
        while let Some(Reverse((mut day, event))) = self.heap.pop() {
            let spell = !matches!(event, Event::AeOnly | Event::Outpatient);
            if spell && day <= busy_until {
                day = busy_until + 1;
            }
            if day > last || person.registered_to.is_some_and(|t| day > t) {
                continue;
            }
            match event {
                Event::AeOnly => {
                    let u: f64 = rng.random();
                    let (route, dept) = if u < TYPE1_NOT_ADMITTED {
                        (Route::Type1, "1")
                    } else if u < TYPE1_NOT_ADMITTED + TYPE2_NOT_ADMITTED {
                        (Route::OtherAe, "2")
                    } else {
                        (Route::OtherAe, "3")
                    };
                    let provider = world.choice(practice, route, rng);
                    self.attendance(id, provider, day, dept, false, rng);
                }
                Event::Outpatient => {
                    let provider = world.choice(practice, Route::Outpatient, rng);
                    let first = rng.random::<f64>() < stay::FIRST;
                    let attended = rng.random::<f64>() >= stay::did_not_attend(person.deprivation);
                    self.outpatients.patient_id.push(id);
                    self.outpatients.provider.push(provider as u32);
                    self.outpatients.commissioner.push(commissioner);
                    self.outpatients.date.push(day);
                    self.outpatients.attended.push(attended);
                    self.outpatients.first.push(first);
                    let c = match (attended, first) {
                        (false, _) => 0.0,
                        (true, true) => cost::OUTPATIENT_FIRST,
                        (true, false) => cost::OUTPATIENT_FOLLOW_UP,
                    };
                    self.outpatients.cost.push(c);
                    self.add_cost(provider, commissioner as usize, day, c);
                }
                _ => {
                    let (discharge, died) = self.spell(practice_index, id, person, event, day, rng);
                    busy_until = discharge;
                    if died {
                        self.heap.clear();
                        return;
                    }
                }
            }
        }
    }

    /// One hospital spell; returns the discharge date and whether the patient died.
    fn spell(
        &mut self,
        practice_index: usize,
        id: i64,
        person: &mut Person,
        event: Event,
        day: i32,
        rng: &mut Rng,
    ) -> (i32, bool) {
        let world = self.world;
        let practice = &world.practices[practice_index];
        let old = person.band >= 15;
        let (method, provider) = match event {
            Event::Elective => ("elective", world.choice(practice, Route::Elective, rng)),
            Event::Maternity => ("maternity", world.choice(practice, Route::Type1, rng)),
            Event::Transfer => ("transfer", world.choice(practice, Route::Type1, rng)),
            // Most readmissions return to the hospital that discharged the patient, if it takes emergencies.
            Event::Readmission(p) if world.emergency_department[p as usize] && rng.random::<f64>() < 0.8 => {
                ("emergency", p as usize)
            }
            _ => ("emergency", world.choice(practice, Route::Type1, rng)),
        };
        let lognormal = |rng: &mut Rng, (mu, sigma): (f64, f64)| (mu + sigma * normal(rng)).exp();
        let (los, base, per_night, diagnoses) = match method {
            "elective" => {
                let los = if rng.random::<f64>() < stay::DAY_CASE {
                    0
                } else {
                    1 + lognormal(rng, stay::ELECTIVE) as i32
                };
                let base = if los == 0 {
                    cost::ELECTIVE_DAY_CASE
                } else {
                    cost::ELECTIVE_BASE
                };
                (los, base, cost::ELECTIVE_PER_NIGHT, 1)
            }
            "maternity" => {
                let los = if rng.random::<f64>() < stay::MATERNITY_SAME_DAY {
                    0
                } else {
                    1 + lognormal(rng, stay::MATERNITY) as i32
                };
                (los, cost::MATERNITY_BASE, cost::MATERNITY_PER_NIGHT, 2)
            }
            _ => {
                let los = if rng.random::<f64>() < stay::EMERGENCY_SAME_DAY {
                    0
                } else {
                    1 + lognormal(rng, stay::emergency(old)) as i32
                };
                let base = if method == "transfer" {
                    cost::TRANSFER_BASE
                } else {
                    cost::EMERGENCY_BASE
                };
                (los, base, cost::EMERGENCY_PER_NIGHT, 0)
            }
        };
        let los = los.min(365);
        let discharge = day + los;
        let emergency = method == "emergency" || method == "transfer";
        let death = if emergency {
            [
                0.002, 0.002, 0.002, 0.002, 0.002, 0.002, 0.002, 0.002, 0.002, 0.01, 0.01, 0.01, 0.01, 0.025,
                0.025, 0.045, 0.045, 0.085, 0.085,
            ][person.band]
        } else {
            0.0005
        };
        let u: f64 = rng.random();
        let destination = if u < death {
            "died"
        } else if old && u < death + 0.06 {
            "care_home"
        } else if u < death + 0.09 {
            "other_hospital"
        } else if u < death + 0.11 {
            "other"
        } else {
            "usual_residence"
        };
        let delayed =
            if emergency && person.band >= 13 && los >= 3 && rng.random::<f64>() < world.delay[provider] {
                (1 + (-(rng.random::<f64>().max(1e-12)).ln() * 5.0) as i32).min(los - 1)
            } else {
                0
            };
        let table = &DIAGNOSES[diagnoses];
        let diagnosis = match diagnoses {
            1 => params::ELECTIVE_DIAGNOSES[pick(rng, table)].0,
            2 => params::MATERNITY_DIAGNOSES[pick(rng, table)].0,
            _ => params::EMERGENCY_DIAGNOSES[pick(rng, table)].0,
        };
        let c = ((base + per_night * los as f64) * (stay::COST_SIGMA * normal(rng)).exp() * 100.0).round()
            / 100.0;
        let commissioner = practice.commissioner;
        self.admissions.patient_id.push(id);
        self.admissions.provider.push(provider as u32);
        self.admissions.commissioner.push(commissioner as u32);
        self.admissions.admission_date.push(day);
        self.admissions.discharge_date.push(discharge);
        self.admissions.method.push(method);
        self.admissions.diagnosis.push(diagnosis);
        self.admissions.destination.push(destination);
        self.admissions.delayed_days.push(delayed as i64);
        self.admissions.cost.push(c);
        self.add_cost(provider, commissioner, day, c);
        self.beds(provider, day, discharge);
        if let Some(m) = world.month_index(day) {
            let months = self.totals.months;
            if method == "emergency" {
                self.totals.ae[provider * months + m].emergency_admissions += 1;
            }
        }
        if method == "elective" {
            self.totals.elective[provider * self.totals.commissioners + commissioner] += 1;
        }
        if method == "emergency" && rng.random::<f64>() < VIA_AE {
            self.attendance(id, provider, day, "1", true, rng);
        }
        if destination == "died" {
            person.registered_to = Some(discharge);
            return (discharge, true);
        }
        if method != "maternity" {
            let age = match person.band {
                0..13 => 0.08,
                13..16 => 0.104,
                _ => 0.128,
            };
            let mut p = age * (1.0 + 0.07 * person.condition_count() as f64) * world.readmission[provider];
            // The planted change in emergency admissions (a vanguard's effect, a commissioner's
            // step or outlier) reaches the readmissions that follow elective and other
            // non-emergency care too, so every emergency admission of the practice changes by
            // it, as truth.toml says; readmissions after emergency spells follow it already,
            // through their index spells.
            if method != "emergency" {
                p *= world.signals.factor(
                    Kind::Emergency,
                    practice_index,
                    world.sk,
                    model::Month::of_day(discharge),
                );
            }
            if rng.random::<f64>() < p {
                let gap = 1 + ((-(rng.random::<f64>().max(1e-12)).ln() * 9.0) as i32).min(29);
                self.heap
                    .push(Reverse((discharge + gap, Event::Readmission(provider as u32))));
            }
        }
        (discharge, false)
    }

    fn add_cost(&mut self, provider: usize, commissioner: usize, day: i32, amount: f64) {
        let fy = model::Month::of_day(day).financial_year() - self.world.config.from.financial_year();
        if fy >= 0 && (fy as usize) < self.totals.years {
            let t = &mut self.totals;
            t.cost[(provider * t.commissioners + commissioner) * t.years + fy as usize] += amount;
        }
    }

    /// Counts the nights of a stay in the months they fall in.
    fn beds(&mut self, provider: usize, admission: i32, discharge: i32) {
        let mut day = admission;
        while day < discharge {
            let Some(m) = self.world.month_index(day) else {
                if day < self.world.config.from.first_day() {
                    day = self.world.config.from.first_day();
                    continue;
                }
                break;
            };
            let end = (self.world.months[m].last_day() + 1).min(discharge);
            self.totals.bed_days[provider * self.totals.months + m] += (end - day) as f64;
            day = end;
        }
    }

    fn attendance(
        &mut self,
        id: i64,
        provider: usize,
        day: i32,
        dept: &'static str,
        admitted: bool,
        rng: &mut Rng,
    ) {
        let world = self.world;
        let Some(m) = world.month_index(day) else { return };
        let hour = pick(rng, &HOURS_CUMULATIVE) as i64;
        let arrival = day as i64 * 86_400 + hour * 3_600 + rng.random_range(0..3_600);
        let type1 = dept == "1";
        let p = world.within_4h[provider][m][if type1 { 0 } else { 1 }];
        let within = rng.random::<f64>() < p;
        let minutes = |rng: &mut Rng, mean: f64| -(rng.random::<f64>().max(1e-12)).ln() * mean;
        let (departure, dta, twelve) = if admitted {
            let q = if p < 1.0 {
                (world.over_12h[provider] / (1.0 - p)).min(1.0)
            } else {
                0.0
            };
            if !within && rng.random::<f64>() < q {
                let dta = arrival + rng.random_range(3_600..14_400);
                (
                    dta + 43_260 + (minutes(rng, 200.0) * 60.0) as i64,
                    Some(dta),
                    true,
                )
            } else {
                let length = duration(rng, within);
                let dta = arrival + (length as f64 * rng.random_range(0.4..0.9)) as i64;
                (arrival + length, Some(dta), false)
            }
        } else {
            (arrival + duration(rng, within), None, false)
        };
        self.ae.patient_id.push(id);
        self.ae.provider.push(provider as u32);
        self.ae.department_type.push(dept);
        self.ae.arrival.push(arrival);
        self.ae.departure.push(departure);
        self.ae.admitted.push(admitted);
        self.ae.decision_to_admit.push(dta);
        let c = &mut self.totals.ae[provider * self.totals.months + m];
        let over = departure - arrival > 4 * 3_600;
        if type1 {
            c.type1 += 1;
            c.over_4h_type1 += over as u64;
        } else {
            c.other += 1;
            c.over_4h_other += over as u64;
        }
        c.over_12h_dta += twelve as u64;
    }
}

/// A person's expected monthly cost of care (before practice effects, season and readmissions):
/// each kind's rate by age and sex times the mean cost of an event of that kind, times their
/// risk from deprivation and conditions.
pub fn need(world: &World<'_>, person: &Person) -> f64 {
    KINDS
        .iter()
        .map(|&k| {
            world.rate[k as usize]
                * params::age_profile(k, person.band, person.male)
                * stay::mean_cost(k, person.band >= 15)
        })
        .sum::<f64>()
        * person.risk
}

/// Seconds in A&E: within four hours, or beyond.
fn duration(rng: &mut Rng, within: bool) -> i64 {
    if within {
        (600.0 + 13_800.0 * rng.random::<f64>().powf(0.8)) as i64
    } else {
        14_460 + (-(rng.random::<f64>().max(1e-12)).ln() * 150.0 * 60.0) as i64
    }
}

/// Identifiers renumbered from `first` (block batches number their rows from 0).
pub fn renumber(batch: &RecordBatch, first: i64) -> RecordBatch {
    let mut columns = batch.columns().to_vec();
    columns[0] = columns::ids(first, batch.num_rows());
    RecordBatch::try_new(batch.schema(), columns).unwrap_or_else(|e| unreachable!("same schema: {e}"))
}

/// Lengths of stay, attendance and their costs: the draws above and the expected values the
/// cost model in `truth.toml` is built from, kept side by side so they cannot drift apart.
pub mod stay {
    use crate::params::{Kind, cost};

    pub const EMERGENCY_SAME_DAY: f64 = 0.27;
    /// (mu, sigma) of the log-normal nights after the first, for an emergency stay.
    pub fn emergency(old: bool) -> (f64, f64) {
        (1.6 + if old { 0.35 } else { 0.0 }, 1.0)
    }
    pub const DAY_CASE: f64 = 0.78;
    pub const ELECTIVE: (f64, f64) = (0.85, 0.8);
    pub const MATERNITY_SAME_DAY: f64 = 0.25;
    pub const MATERNITY: (f64, f64) = (0.1, 0.7);
    /// Log-normal noise on each spell's cost.
    pub const COST_SIGMA: f64 = 0.15;
    pub const FIRST: f64 = 0.32;

    pub fn did_not_attend(deprivation: f64) -> f64 {
        0.12 + 0.14 * deprivation
    }

    /// Expected nights of a stay that is not same-day: 1 + E[floor(lognormal)] ≈ 0.5 + its mean.
    fn nights((mu, sigma): (f64, f64)) -> f64 {
        0.5 + (mu + sigma * sigma / 2.0).exp()
    }

    /// Expected cost of one event of a kind (outpatients at average deprivation).
    pub fn mean_cost(kind: Kind, old: bool) -> f64 {
        let noise = (COST_SIGMA * COST_SIGMA / 2.0).exp();
        let stay = |same_day: f64, base: f64, per_night: f64, los: (f64, f64)| {
            base + per_night * (1.0 - same_day) * nights(los)
        };
        match kind {
            Kind::Emergency => {
                noise
                    * stay(
                        EMERGENCY_SAME_DAY,
                        cost::EMERGENCY_BASE,
                        cost::EMERGENCY_PER_NIGHT,
                        emergency(old),
                    )
            }
            Kind::Transfer => {
                noise
                    * stay(
                        EMERGENCY_SAME_DAY,
                        cost::TRANSFER_BASE,
                        cost::EMERGENCY_PER_NIGHT,
                        emergency(old),
                    )
            }
            Kind::Maternity => {
                noise
                    * stay(
                        MATERNITY_SAME_DAY,
                        cost::MATERNITY_BASE,
                        cost::MATERNITY_PER_NIGHT,
                        MATERNITY,
                    )
            }
            Kind::Elective => {
                noise
                    * (DAY_CASE * cost::ELECTIVE_DAY_CASE
                        + (1.0 - DAY_CASE)
                            * (cost::ELECTIVE_BASE + cost::ELECTIVE_PER_NIGHT * nights(ELECTIVE)))
            }
            Kind::AeOnly => 0.0,
            Kind::Outpatient => {
                (1.0 - did_not_attend(0.5))
                    * (FIRST * cost::OUTPATIENT_FIRST + (1.0 - FIRST) * cost::OUTPATIENT_FOLLOW_UP)
            }
        }
    }
}
