//! Drawing one registered person: neighbourhood, age, sex, registration and long-term
//! conditions, and from them their relative use of hospital care.

use crate::params::{self, CONDITIONS};
use crate::rng::{Rng, pick};
use crate::world::{Practice, World};
use rand::Rng as _;

/// One registered person.
#[derive(Debug, Clone)]
pub struct Person {
    pub lsoa: u32,
    pub deprivation: f64,
    pub band: usize,
    pub age: i32,
    pub male: bool,
    pub birth_year: i32,
    pub registered_from: i32,
    pub registered_to: Option<i32>,
    /// Bit `c` set when the person has condition `c` of `CONDITIONS`.
    pub conditions: u16,
    /// Relative use of hospital care from deprivation and conditions.
    pub risk: f64,
}

impl Person {
    pub fn condition_count(&self) -> u32 {
        self.conditions.count_ones()
    }

    /// The half-open range of month indices in which the person is registered, as indices
    /// into a practice's cumulative weights (which carry a leading zero).
    pub fn months(&self, world: &World<'_>) -> (usize, usize) {
        let n = world.months.len();
        let from = world.month_index(self.registered_from).unwrap_or(0);
        let to = match self.registered_to {
            Some(day) => world
                .month_index(day)
                .map_or(if day < world.config.from.first_day() { 0 } else { n }, |i| i + 1),
            None => n,
        };
        (from.min(to), to)
    }
}

/// Draws the person at position `index` of a practice's pool: the first `list` are registered
/// when the window opens (some of them leave during it), the rest join during it.
pub fn draw(world: &World<'_>, practice: &Practice, index: u32, rng: &mut Rng) -> Person {
    let sk = world.sk;
    let start = world.config.from.first_day();
    let end = world.config.to.last_day();
    let lsoas = &sk.commissioners[practice.commissioner].lsoas;
    let lsoa = lsoas[(practice.lsoa_start + rng.random_range(0..practice.lsoa_len.max(1))) % lsoas.len()];
    let deprivation = sk.deprivation[lsoa as usize] as f64;
    let decile = ((deprivation * 10.0) as usize).min(9);
    let band = pick(rng, &world.age_cumulative[decile]);
    let age = if band == 18 {
        90 + rng.random_range(0..12)
    } else {
        band as i32 * 5 + rng.random_range(0..5)
    };
    let male = rng.random::<f64>() < params::MALE_SHARE[band];
    let birth_year = world.config.from.year() - age;
    let birth_day =
        model::Month::new(birth_year, 1).map_or(start, |m| m.first_day()) + rng.random_range(0..365);

    let window = end - start + 1;
    let (registered_from, leaves) = if index < practice.list {
        let back = rng.random_range(0..(25 * 365)).min((start - birth_day).max(0));
        (start - back, index < practice.joiners)
    } else {
        (start + rng.random_range(0..window), false)
    };
    // Nobody is registered before they are born, nor leaves before joining.
    let registered_from = registered_from.max(birth_day);
    let registered_to = leaves.then(|| {
        let earliest = registered_from.max(start);
        earliest + rng.random_range(0..=(end - earliest).max(0))
    });

    let mut conditions = 0u16;
    let mut log_risk = params::DEPRIVATION_LOG_RATE_RATIO * deprivation;
    for (c, condition) in CONDITIONS.iter().enumerate() {
        if age >= condition.min_age && rng.random::<f64>() < world.prevalence[c][band][decile] {
            conditions |= 1 << c;
            log_risk += condition.log_rate_ratio;
        }
    }
    Person {
        lsoa,

        deprivation,
        band,
        age,
        male,
        birth_year,
        registered_from,
        registered_to,
        conditions,
        risk: log_risk.exp(),
    }
}
