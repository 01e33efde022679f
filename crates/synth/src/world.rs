//! Everything decided before a single person is drawn: list sizes, practices' neighbourhoods
//! and random effects, which providers serve which systems, each provider's monthly chance of
//! seeing a patient within four hours, the planted signals, and the national rate of each
//! kind of activity (scaled so the expected national totals meet their targets).

use crate::params::{self, AGE_BANDS, CONDITIONS, KINDS, Kind};
use crate::rng::{self, Rng, Stream, cumulative, normal, pick};
use crate::signals::Signals;
use crate::skeleton::{Provider, Skeleton};
use crate::{Config, calibration};
use model::{Month, OrgKind};
use rand::Rng as _;

/// The registered population of England the calibration targets refer to (1 Oct 2025).
pub const ENGLAND_REGISTERED: f64 = 63_919_527.0;

/// Registrations that start (and as many that end) in the window, per year, as a share of the list.
pub const TURNOVER: f64 = 0.04;

/// A practice as the generator sees it.
#[derive(Debug, Clone)]
pub struct Practice {
    /// Patients on the list at the start of the window.
    pub list: u32,
    /// Patients who join during the window (as many on the list leave).
    pub joiners: u32,
    /// The first patient id of the practice (ids run on through its joiners).
    pub first_id: i64,
    /// Its neighbourhood: a run of its commissioner's LSOAs.
    pub lsoa_start: usize,
    pub lsoa_len: usize,
    /// Mean-one random effect on the use of hospitals.
    pub effect: f64,
    /// Cumulative monthly weight of each kind of activity (season, growth and planted
    /// signals), by kind, with a leading zero.
    pub weights: [Vec<f64>; 6],
    pub commissioner: usize,
    pub system: usize,
    pub region: usize,
    pub challenged: bool,
}

impl Practice {
    pub fn pool(&self) -> u32 {
        self.list + self.joiners
    }
}

/// Which providers a system's patients use for each kind of care.
#[derive(Debug, Clone, Default)]
pub struct Choice {
    pub providers: Vec<usize>,
    pub cumulative: Vec<f64>,
}

impl Choice {
    fn new(weights: Vec<(usize, f64)>) -> Choice {
        let weights: Vec<_> = weights.into_iter().filter(|(_, w)| *w > 0.0).collect();
        Choice {
            cumulative: cumulative(weights.iter().map(|(_, w)| *w)),
            providers: weights.into_iter().map(|(p, _)| p).collect(),
        }
    }

    fn is_empty(&self) -> bool {
        self.providers.is_empty()
    }

    pub fn pick(&self, rng: &mut Rng) -> usize {
        self.providers[pick(rng, &self.cumulative)]
    }
}

/// The kinds of provider choice.
#[derive(Debug, Clone, Copy)]
pub enum Route {
    /// Type-1 A&E and emergency, maternity and transfer admissions.
    Type1 = 0,
    /// Type 2 and 3 A&E (urgent treatment centres, minor injury units, eye casualty).
    OtherAe = 1,
    Elective = 2,
    Outpatient = 3,
}

/// Share of activity that crosses to another system of the region.
pub const CROSS_BOUNDARY: f64 = 0.07;

/// The generator's whole view of England before drawing people.
#[derive(Debug)]
pub struct World<'a> {
    pub sk: &'a Skeleton,
    pub config: Config,
    pub months: Vec<Month>,
    pub practices: Vec<Practice>,
    /// National rate of each kind per person-month at relative risk 1.
    pub rate: [f64; 6],
    /// Cumulative age-band weights by deprivation decile (0 = least deprived).
    pub age_cumulative: Vec<Vec<f64>>,
    /// Prevalence of each condition by band and decile.
    pub prevalence: Vec<[[f64; 10]; 19]>,
    /// Provider choice by system, then by region, per route.
    pub system_choice: Vec<[Choice; 4]>,
    pub region_choice: Vec<[Choice; 4]>,
    /// Chance of leaving A&E within four hours, by provider and month index: [type 1, other].
    pub within_4h: Vec<Vec<[f64; 2]>>,
    /// 12-hour waits from decision to admit per A&E admission, by provider.
    pub over_12h: Vec<f64>,
    /// Does each provider run a type-1 A&E (and so take emergency admissions).
    pub emergency_department: Vec<bool>,
    /// Multiplier of the chance of an emergency readmission, by provider.
    pub readmission: Vec<f64>,
    /// Share of older patients whose discharge is delayed, by provider.
    pub delay: Vec<f64>,
    pub signals: Signals,
    pub commissioner_effect: Vec<f64>,
    /// Is each system challenged.
    pub challenged: Vec<bool>,
}

impl<'a> World<'a> {
    pub fn new(sk: &'a Skeleton, config: Config) -> World<'a> {
        let months: Vec<Month> = {
            let mut m = config.from;
            let mut v = Vec::new();
            while m <= config.to {
                v.push(m);
                m = m.succ();
            }
            v
        };
        let signals = Signals::plant(sk, &config, &months);
        let mut challenged = vec![false; sk.systems.len()];
        for c in &signals.challenged {
            challenged[*c] = true;
        }

        let mut rng = rng::stream(config.seed, Stream::Lists, 0);
        // Log-normal list sizes (median 9,000, 5–95% about 3,100–26,000), scaled to England.
        let raw: Vec<f64> = sk
            .practices
            .iter()
            .map(|_| (9_000f64.ln() + 0.65 * normal(&mut rng)).exp())
            .collect();
        let total: f64 = raw.iter().sum();
        let target = ENGLAND_REGISTERED * config.scale;
        let years = months.len() as f64 / 12.0;
        let commissioner_effect: Vec<f64> = sk
            .commissioners
            .iter()
            .map(|_| (0.07 * normal(&mut rng) - 0.5 * 0.07 * 0.07).exp())
            .collect();
        let mut practices = Vec::with_capacity(sk.practices.len());
        let mut next_id = 1i64;
        let mut carry = 0.0;
        for (i, p) in sk.practices.iter().enumerate() {
            // Round so the national total is exact: carry the remainders along.
            let exact = raw[i] / total * target + carry;
            let list = exact.round().max(0.0);
            carry = exact - list;
            let list = list as u32;
            let joiners = (list as f64 * TURNOVER * years).round() as u32;
            let commissioner = &sk.commissioners[p.commissioner];
            let len = commissioner.lsoas.len();
            let lsoa_len = len.min(40);
            let lsoa_start = rng.random_range(0..len);
            let effect = (0.12 * normal(&mut rng) - 0.5 * 0.12 * 0.12).exp();
            let system = commissioner.system;
            practices.push(Practice {
                list,
                joiners,
                first_id: next_id,
                lsoa_start,
                lsoa_len,
                effect: effect * commissioner_effect[p.commissioner],
                weights: Default::default(),
                commissioner: p.commissioner,
                system,
                region: sk.systems[system].region,
                challenged: challenged[system],
            });
            next_id += (list + joiners) as i64;
        }
        for (i, p) in practices.iter_mut().enumerate() {
            for kind in KINDS {
                p.weights[kind as usize] = cumulative(
                    std::iter::once(0.0).chain(
                        months
                            .iter()
                            .map(|&m| month_weight(kind, m, &months) * signals.factor(kind, i, sk, m)),
                    ),
                );
            }
        }

        let age_cumulative = (0..10)
            .map(|decile| {
                let dep = (decile as f64 + 0.5) / 10.0;
                cumulative((0..AGE_BANDS.len()).map(|b| {
                    params::PYRAMID[b]
                        * (params::YOUTH_TILT * (dep - 0.5) * (30.0 - params::band_mid(b)) / 30.0).exp()
                }))
            })
            .collect();
        let prevalence = CONDITIONS
            .iter()
            .map(|c| {
                let mut table = [[0.0; 10]; 19];
                for (b, row) in table.iter_mut().enumerate() {
                    for (d, cell) in row.iter_mut().enumerate() {
                        let age = params::band_mid(b);
                        if (age as i32) + 2 < c.min_age {
                            continue;
                        }
                        let dep = (d as f64 + 0.5) / 10.0;
                        let logit = c.intercept + c.age_slope * (age - 50.0) / 10.0 + c.deprivation * dep;
                        *cell = 1.0 / (1.0 + (-logit).exp());
                    }
                }
                table
            })
            .collect();

        let mut prng = rng::stream(config.seed, Stream::Providers, 0);
        let (system_choice, region_choice) = choices(sk);
        let within_4h: Vec<Vec<[f64; 2]>> = sk
            .providers
            .iter()
            .enumerate()
            .map(|(i, p)| four_hour(p, &months, signals.step_4h(i)))
            .collect();
        let over_12h = sk.providers.iter().map(Provider::over_12h_share).collect();
        let mut readmission = Vec::new();
        let mut delay = Vec::new();
        for (i, p) in sk.providers.iter().enumerate() {
            let hard = p.system.is_some_and(|s| challenged[s]);
            readmission.push((0.1 * normal(&mut prng)).exp() * signals.readmission_factor(i));
            delay.push(if hard { 0.3 } else { 0.17 } * (0.2 * normal(&mut prng)).exp());
        }
        // Challenged systems: their trusts see fewer patients within four hours.
        let within_4h = within_4h
            .into_iter()
            .zip(&sk.providers)
            .map(|(series, p): (Vec<[f64; 2]>, &Provider)| {
                let hard = p.system.is_some_and(|s| challenged[s]) && p.kind == OrgKind::AcuteTrust;
                if hard {
                    series.into_iter().map(|[a, b]| [a * 0.93, b * 0.98]).collect()
                } else {
                    series
                }
            })
            .collect();

        let mut world = World {
            sk,
            config,
            months,
            practices,
            rate: [0.0; 6],
            age_cumulative,
            prevalence,
            system_choice,
            region_choice,
            within_4h,
            over_12h,
            emergency_department: sk.providers.iter().map(|p| p.type1_volume() > 0.0).collect(),
            readmission,
            delay,
            signals,
            commissioner_effect,
            challenged,
        };
        world.rate = world.calibrate();
        world
    }

    /// The choice table for a route, for a practice's patients.
    pub fn choice(&self, practice: &Practice, route: Route, rng: &mut Rng) -> usize {
        let system = &self.system_choice[practice.system][route as usize];
        let region = &self.region_choice[practice.region][route as usize];
        if system.is_empty() || rng.random::<f64>() < CROSS_BOUNDARY {
            if region.is_empty() {
                return self
                    .region_choice
                    .iter()
                    .find(|r| !r[route as usize].is_empty())
                    .map_or(0, |r| r[route as usize].pick(rng));
            }
            return region.pick(rng);
        }
        system.pick(rng)
    }

    /// Index of the month of a day, if inside the window.
    pub fn month_index(&self, day: i32) -> Option<usize> {
        let m = Month::of_day(day);
        let i = self.config.from.months_until(m);
        (i >= 0 && (i as usize) < self.months.len()).then_some(i as usize)
    }

    /// Sets each kind's national rate so the expected total over the window's last 12 months
    /// equals its calibration target, from a sample of people drawn exactly as the real ones
    /// are (same pyramid, conditions and registration), on a stream of its own.
    fn calibrate(&self) -> [f64; 6] {
        let mut rng = rng::stream(self.config.seed, Stream::Calibration, 0);
        let list_cumulative = cumulative(self.practices.iter().map(|p| p.list.max(1) as f64));
        let n = self.months.len();
        let last12 = n.saturating_sub(12);
        let mut sums = [0.0f64; 6];
        let samples = 60_000;
        let mut pool_per_list = 0.0;
        for _ in 0..samples {
            let pi = pick(&mut rng, &list_cumulative);
            let practice = &self.practices[pi];
            let index = rng.random_range(0..practice.pool().max(1));
            let person = crate::people::draw(self, practice, index, &mut rng);
            let risk = person.risk * practice.effect;
            let (a, b) = person.months(self);
            let (a, b) = (a.max(last12), b.max(last12));
            for kind in KINDS {
                let w = &practice.weights[kind as usize];
                sums[kind as usize] +=
                    params::age_profile(kind, person.band, person.male) * risk * (w[b] - w[a]);
            }
            pool_per_list += practice.pool() as f64 / practice.list.max(1) as f64;
        }
        let pool_per_list = pool_per_list / samples as f64;
        let mut rate = [0.0; 6];
        for kind in KINDS {
            let target = calibration::annual_target(kind);
            let mean = sums[kind as usize] / samples as f64;
            rate[kind as usize] = if mean > 0.0 {
                target / (ENGLAND_REGISTERED * pool_per_list * mean)
            } else {
                0.0
            };
        }
        rate
    }
}

/// Season and growth of a kind in a month (growth centred on the last 12 months).
fn month_weight(kind: Kind, m: Month, months: &[Month]) -> f64 {
    let centre = months.len() as f64 - 6.5;
    let at = months.iter().position(|x| *x == m).unwrap_or(0) as f64;
    params::season(kind, m.month()) * (1.0 + params::yearly_growth(kind)).powf((at - centre) / 12.0)
}

/// Provider choice tables: type-1 A&E and emergency care weighted by the real type-1 volume;
/// other A&E by the real other volume; elective care at acute trusts by size, with a share
/// at independent providers of the region; outpatients at acute trusts.
fn choices(sk: &Skeleton) -> (Vec<[Choice; 4]>, Vec<[Choice; 4]>) {
    let weights = |p: &Provider| -> [f64; 4] {
        let t1 = p.type1_volume();
        let other = p.other_volume();
        let acute = p.kind == OrgKind::AcuteTrust;
        let size = if t1 > 0.0 {
            t1
        } else if acute {
            4_000.0
        } else {
            0.0
        };
        let independent = p.kind == OrgKind::IndependentProvider;
        [
            t1,
            other,
            if independent { 1_500.0 } else { size },
            if acute { size } else { 0.0 },
        ]
    };
    // A provider without a system (an independent provider) serves every system of its
    // region, so each system's table gets its share.
    let systems_in_region = |r: usize| sk.systems.iter().filter(|s| s.region == r).count().max(1) as f64;
    let table = |filter: &dyn Fn(&Provider) -> Option<f64>| -> [Choice; 4] {
        std::array::from_fn(|route| {
            Choice::new(
                sk.providers
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| filter(p).map(|share| (i, weights(p)[route] * share)))
                    .collect(),
            )
        })
    };
    let systems = (0..sk.systems.len())
        .map(|s| {
            let region = sk.systems[s].region;
            table(&|p: &Provider| {
                if p.system == Some(s) {
                    Some(1.0)
                } else if p.system.is_none() && p.region == region {
                    Some(1.0 / systems_in_region(region))
                } else {
                    None
                }
            })
        })
        .collect();
    let regions = (0..sk.regions.len())
        .map(|r| table(&|p: &Provider| (p.region == r).then_some(1.0)))
        .collect();
    (systems, regions)
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(0.005, 0.995);
    (p / (1.0 - p)).ln()
}

fn expit(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A provider's monthly chance of a four-hour visit, by department type, shaped by its real
/// SitRep: a month inside the real 13 takes the real share; a month outside takes the same
/// calendar month of a real year, moved along the provider's own yearly trend (fitted on the
/// logit scale, limited to ±0.3 a year). A planted step replaces the series by its level
/// before the step and that level times `1 + relative_change` after.
fn four_hour(p: &Provider, months: &[Month], step: Option<(Month, f64)>) -> Vec<[f64; 2]> {
    const NATIONAL: [f64; 2] = [0.596, 0.93];
    let share = |over: f64, all: f64, fallback: f64| if all >= 1.0 { 1.0 - over / all } else { fallback };
    let real: Vec<(Month, [f64; 2])> = p
        .real
        .iter()
        .map(|(m, r)| {
            (
                *m,
                [
                    share(r.over_4h_type1, r.attendances_type1, f64::NAN),
                    share(r.over_4h_other, r.attendances_other, f64::NAN),
                ],
            )
        })
        .collect();
    let mut level = [0.0; 2];
    let mut slope = [0.0; 2];
    for t in 0..2 {
        let points: Vec<(f64, f64)> = real
            .iter()
            .filter(|(_, s)| s[t].is_finite())
            .map(|(m, s)| {
                (
                    m.months_until(Month::new(2025, 1).unwrap_or(*m)) as f64,
                    logit(s[t]),
                )
            })
            .collect();
        if points.is_empty() {
            level[t] = logit(NATIONAL[t]);
            continue;
        }
        let n = points.len() as f64;
        let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
        let my = points.iter().map(|p| p.1).sum::<f64>() / n;
        let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        level[t] = my;
        // x runs backwards in time (months until Jan 2025), so the trend per year is -12 × slope.
        slope[t] = if sxx > 0.0 {
            (-12.0 * sxy / sxx).clamp(-0.3, 0.3)
        } else {
            0.0
        };
    }
    let mut series: Vec<[f64; 2]> = months
        .iter()
        .map(|&m| {
            std::array::from_fn(|t| {
                if let Some(v) = real
                    .iter()
                    .find(|(rm, s)| *rm == m && s[t].is_finite())
                    .map(|(_, s)| s[t])
                {
                    return v;
                }
                // The nearest real year holding this calendar month, moved along the trend.
                let mut best: Option<(i32, f64)> = None;
                for (rm, s) in &real {
                    if rm.month() == m.month() && s[t].is_finite() {
                        let years = (m.year() - rm.year()) as f64;
                        let v = expit(logit(s[t]) + slope[t] * years);
                        let distance = (m.year() - rm.year()).abs();
                        if best.is_none_or(|(d, _)| distance < d) {
                            best = Some((distance, v));
                        }
                    }
                }
                best.map_or(expit(level[t]), |(_, v)| v)
            })
        })
        .collect();
    if let Some((month, relative)) = step {
        let mean: [f64; 2] =
            std::array::from_fn(|t| series.iter().map(|s| s[t]).sum::<f64>() / series.len().max(1) as f64);
        for (s, &m) in series.iter_mut().zip(months) {
            let factor = if m >= month { 1.0 + relative } else { 1.0 };
            *s = std::array::from_fn(|t| (mean[t] * factor).min(0.995));
        }
    }
    series
}
