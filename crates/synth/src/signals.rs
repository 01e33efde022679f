//! The signals planted in the data, chosen from the seed, and what they do to each practice's
//! and provider's rates. `truth.rs` writes them out.

use crate::Config;
use crate::params::Kind;
use crate::rng::{self, Stream};
use crate::skeleton::Skeleton;
use model::{Month, OrgKind};
use rand::seq::SliceRandom;

/// A vanguard area: a whole system or a list of practices.
#[derive(Debug, Clone)]
pub struct Vanguard {
    pub system: Option<usize>,
    pub practices: Vec<usize>,
    pub model: &'static str,
    pub start: Month,
    pub relative_effect: f64,
}

/// A planted cross-sectional outlier.
#[derive(Debug, Clone)]
pub struct Outlier {
    pub index: usize,
    pub factor: f64,
}

/// Every planted signal.
#[derive(Debug, Clone, Default)]
pub struct Signals {
    /// Challenged systems (indices into `Skeleton::systems`).
    pub challenged: Vec<usize>,
    pub vanguards: Vec<Vanguard>,
    /// Step changes in a provider's four-hour performance: provider, first month, relative change.
    pub step_4h: Vec<(usize, Month, f64)>,
    /// Step changes in a commissioner's emergency admissions.
    pub step_emergency: Vec<(usize, Month, f64)>,
    /// Commissioners with high or low emergency admissions.
    pub outlier_emergency: Vec<Outlier>,
    /// Providers with high or low 30-day readmissions.
    pub outlier_readmission: Vec<Outlier>,
    /// Is each practice in a vanguard (index into `vanguards`).
    pub practice_vanguard: Vec<Option<usize>>,
}

const VANGUARD_MODELS: [(&str, f64); 2] = [
    ("primary_and_acute_care_system", -0.12),
    ("urgent_and_emergency_care_network", -0.10),
];
const MCP: (&str, f64) = ("multispecialty_community_provider", -0.15);
const STEPS_4H: [f64; 4] = [-0.15, -0.12, -0.10, 0.10];

impl Signals {
    /// Chooses what to plant. A window shorter than a year plants nothing that needs a
    /// before and an after.
    pub fn plant(sk: &Skeleton, config: &Config, months: &[Month]) -> Signals {
        let mut rng = rng::stream(config.seed, Stream::Signals, 0);
        let n = months.len() as i32;
        let middle = config.from.plus(n / 2);
        let mut s = Signals {
            practice_vanguard: vec![None; sk.practices.len()],
            ..Default::default()
        };

        // Systems with at least two acute trusts that run a type-1 A&E.
        let type1 = |p: &crate::skeleton::Provider| p.kind == OrgKind::AcuteTrust && p.type1_volume() > 0.0;
        let mut systems: Vec<usize> = (0..sk.systems.len())
            .filter(|&sys| {
                sk.providers
                    .iter()
                    .filter(|p| p.system == Some(sys) && type1(p))
                    .count()
                    >= 2
            })
            .collect();
        systems.shuffle(&mut rng);
        let mut systems = systems.into_iter();
        s.challenged = systems.by_ref().take(4).collect();
        s.challenged.sort_unstable();
        if n < 12 {
            return s;
        }
        for (model, effect) in VANGUARD_MODELS {
            if let Some(system) = systems.next() {
                s.vanguards.push(Vanguard {
                    system: Some(system),
                    practices: (0..sk.practices.len())
                        .filter(|&p| sk.commissioners[sk.practices[p].commissioner].system == system)
                        .collect(),
                    model,
                    start: middle,
                    relative_effect: effect,
                });
            }
        }
        let used_systems: Vec<usize> = s
            .challenged
            .iter()
            .copied()
            .chain(s.vanguards.iter().filter_map(|v| v.system))
            .collect();
        let mut commissioners: Vec<usize> = (0..sk.commissioners.len())
            .filter(|&c| !used_systems.contains(&sk.commissioners[c].system))
            .filter(|&c| sk.practices.iter().filter(|p| p.commissioner == c).count() >= 20)
            .collect();
        commissioners.shuffle(&mut rng);
        let mut commissioners = commissioners.into_iter();
        if let Some(c) = commissioners.next() {
            let practices: Vec<usize> = (0..sk.practices.len())
                .filter(|&p| sk.practices[p].commissioner == c)
                .take(15)
                .collect();
            s.vanguards.push(Vanguard {
                system: None,
                practices,
                model: MCP.0,
                start: middle,
                relative_effect: MCP.1,
            });
        }
        for (v, vanguard) in s.vanguards.iter().enumerate() {
            for &p in &vanguard.practices {
                s.practice_vanguard[p] = Some(v);
            }
        }
        for factor in [1.7, 1.7, 0.55, 0.55] {
            if let Some(index) = commissioners.next() {
                s.outlier_emergency.push(Outlier { index, factor });
            }
        }
        for relative in [0.25, 0.2] {
            if let Some(c) = commissioners.next() {
                s.step_emergency.push((c, middle.plus(2), relative));
            }
        }

        // Large acute trusts outside the challenged and vanguard systems.
        let mut trusts: Vec<usize> = (0..sk.providers.len())
            .filter(|&p| type1(&sk.providers[p]))
            .filter(|&p| {
                sk.providers[p]
                    .system
                    .is_some_and(|sys| !used_systems.contains(&sys))
            })
            .collect();
        let mut volumes: Vec<f64> = trusts.iter().map(|&p| sk.providers[p].type1_volume()).collect();
        volumes.sort_by(f64::total_cmp);
        let median = volumes.get(volumes.len() / 2).copied().unwrap_or(0.0);
        trusts.retain(|&p| sk.providers[p].type1_volume() >= median);
        trusts.shuffle(&mut rng);
        let mut trusts = trusts.into_iter();
        for relative in STEPS_4H {
            // An improvement goes to a trust with room to improve and only type-1 attendances
            // (other types are mostly seen within four hours already and cannot rise by as much).
            let found = trusts
                .by_ref()
                .find(|&p| relative < 0.0 || (real_4h(sk, p) < 0.8 && sk.providers[p].other_volume() == 0.0));
            if let Some(p) = found {
                s.step_4h.push((p, middle, relative));
            }
        }
        for factor in [1.7, 1.7, 0.5, 0.5] {
            if let Some(index) = trusts.next() {
                s.outlier_readmission.push(Outlier { index, factor });
            }
        }
        s
    }

    /// Multiplier of a kind's rate for a practice in a month.
    pub fn factor(&self, kind: Kind, practice: usize, sk: &Skeleton, month: Month) -> f64 {
        if kind != Kind::Emergency {
            return 1.0;
        }
        let commissioner = sk.practices[practice].commissioner;
        let mut f = 1.0;
        if let Some(v) = self.practice_vanguard[practice] {
            let v = &self.vanguards[v];
            if month >= v.start {
                f *= 1.0 + v.relative_effect;
            }
        }
        for &(c, start, relative) in &self.step_emergency {
            if c == commissioner && month >= start {
                f *= 1.0 + relative;
            }
        }
        for o in &self.outlier_emergency {
            if o.index == commissioner {
                f *= o.factor;
            }
        }
        f
    }

    pub fn step_4h(&self, provider: usize) -> Option<(Month, f64)> {
        self.step_4h.iter().find(|s| s.0 == provider).map(|s| (s.1, s.2))
    }

    pub fn readmission_factor(&self, provider: usize) -> f64 {
        self.outlier_readmission
            .iter()
            .find(|o| o.index == provider)
            .map_or(1.0, |o| o.factor)
    }
}

/// A provider's real four-hour share over all months and types.
fn real_4h(sk: &Skeleton, p: usize) -> f64 {
    let (mut all, mut over) = (0.0, 0.0);
    for (_, m) in &sk.providers[p].real {
        all += m.attendances_type1 + m.attendances_other;
        over += m.over_4h_type1 + m.over_4h_other;
    }
    if all > 0.0 { 1.0 - over / all } else { 1.0 }
}
