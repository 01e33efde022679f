//! The real England the synthetic data is laid on: regions, systems, organisations and LSOAs
//! (read back through the validating loader), and each provider's real monthly A&E SitRep.

use crate::Error;
use model::{Month, OrgKind};
use std::collections::HashMap;
use std::path::Path;

/// A geographic system (ICB).
#[derive(Debug, Clone)]
pub struct SystemInfo {
    pub code: String,
    pub region: usize,
}

/// A sub-ICB commissioner and the LSOAs it covers, in code order (which keeps neighbours
/// close: LSOA codes run through each local authority).
#[derive(Debug, Clone)]
pub struct Commissioner {
    pub code: String,
    pub system: usize,
    pub lsoas: Vec<u32>,
}

/// A GP practice open during the window.
#[derive(Debug, Clone)]
pub struct PracticeRef {
    pub code: String,
    pub commissioner: usize,
}

/// One month of a provider's real SitRep.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealMonth {
    pub attendances_type1: f64,
    pub attendances_other: f64,
    pub over_4h_type1: f64,
    pub over_4h_other: f64,
    pub emergency_admissions: f64,
    pub over_12h_dta: f64,
}

/// A provider that can receive activity.
#[derive(Debug, Clone)]
pub struct Provider {
    pub code: String,
    pub kind: OrgKind,
    pub system: Option<usize>,
    pub region: usize,
    /// The real SitRep, by month (empty when the provider does not report).
    pub real: Vec<(Month, RealMonth)>,
}

impl Provider {
    fn total(&self) -> RealMonth {
        let mut t = RealMonth::default();
        for (_, m) in &self.real {
            t.attendances_type1 += m.attendances_type1;
            t.attendances_other += m.attendances_other;
            t.over_4h_type1 += m.over_4h_type1;
            t.over_4h_other += m.over_4h_other;
            t.emergency_admissions += m.emergency_admissions;
            t.over_12h_dta += m.over_12h_dta;
        }
        t
    }

    /// Real type-1 attendances per month, averaged over the months reported.
    pub fn type1_volume(&self) -> f64 {
        self.total().attendances_type1 / self.real.len().max(1) as f64
    }

    /// Real attendances at other department types per month.
    pub fn other_volume(&self) -> f64 {
        self.total().attendances_other / self.real.len().max(1) as f64
    }

    /// 12-hour waits from decision to admit per emergency admission.
    pub fn over_12h_share(&self) -> f64 {
        let t = self.total();
        if t.emergency_admissions > 0.0 {
            (t.over_12h_dta / t.emergency_admissions).clamp(0.0, 0.5)
        } else {
            0.0
        }
    }
}

/// Everything the generator needs from the real England.
#[derive(Debug)]
pub struct Skeleton {
    pub dataset: dataset::Dataset,
    pub systems: Vec<SystemInfo>,
    pub regions: Vec<String>,
    pub commissioners: Vec<Commissioner>,
    pub practices: Vec<PracticeRef>,
    pub providers: Vec<Provider>,
    /// Deprivation of each LSOA (0 = least deprived in England, 1 = most), in `dataset.lsoas` order.
    pub deprivation: Vec<f32>,
    /// Trusts of each kind that are not providers of hospital activity (mental health,
    /// community, ambulance), with their system.
    pub other_trusts: Vec<(String, OrgKind, usize)>,
}

/// The reference tables copied into every synthetic dataset.
pub const REFERENCE_FILES: [&str; 4] = ["regions.csv", "systems.csv", "organisations.csv", "lsoa.csv"];

/// Writes the reference tables and `manifest` to `dir` and reads them back through the loader.
pub fn load(dir: &Path, manifest: &str, from: Month, to: Month) -> Result<Skeleton, Error> {
    for name in REFERENCE_FILES {
        let bytes = reference::embedded::file(name)
            .ok_or_else(|| Error::Reference(format!("{name} is not embedded")))?;
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|source| Error::Io { path, source })?;
    }
    let path = dir.join("manifest.toml");
    std::fs::write(&path, manifest).map_err(|source| Error::Io { path, source })?;
    let loaded = dataset::load(dir, &dataset::Options::default()).map_err(|report| {
        let first: Vec<String> = report.errors.iter().take(5).map(|d| d.to_string()).collect();
        Error::Reference(format!(
            "the embedded England did not load:\n{}",
            first.join("\n")
        ))
    })?;
    build(loaded.dataset, from, to)
}

fn build(dataset: dataset::Dataset, from: Month, to: Month) -> Result<Skeleton, Error> {
    let regions: Vec<String> = dataset.regions.iter().map(|r| r.code.clone()).collect();
    let region_index: HashMap<&str, usize> =
        regions.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let mut systems = Vec::new();
    for s in &dataset.systems {
        let region = *region_index
            .get(s.region.as_str())
            .ok_or_else(|| Error::Reference(format!("system {} has unknown region", s.code)))?;
        systems.push(SystemInfo {
            code: s.code.clone(),
            region,
        });
    }
    let system_index: HashMap<&str, usize> = systems
        .iter()
        .enumerate()
        .map(|(i, s)| (s.code.as_str(), i))
        .collect();

    let open = |o: &dataset::Organisation| {
        o.opened <= to.last_day() && o.closed.is_none_or(|c| c >= from.first_day())
    };
    let mut commissioners = Vec::new();
    let mut commissioner_index = HashMap::new();
    for o in dataset
        .organisations
        .iter()
        .filter(|o| o.kind == OrgKind::Commissioner)
    {
        let Some(system) = o.system.as_deref().and_then(|s| system_index.get(s)) else {
            continue;
        };
        commissioner_index.insert(o.code.clone(), commissioners.len());
        commissioners.push(Commissioner {
            code: o.code.clone(),
            system: *system,
            lsoas: Vec::new(),
        });
    }
    let mut deprivation = Vec::with_capacity(dataset.lsoas.len());
    let n = dataset.lsoas.len().max(2) as f64;
    for (i, l) in dataset.lsoas.iter().enumerate() {
        deprivation.push((1.0 - (l.imd_rank as f64 - 1.0) / (n - 1.0)).clamp(0.0, 1.0) as f32);
        if let Some(&c) = commissioner_index.get(&l.commissioner) {
            commissioners[c].lsoas.push(i as u32);
        }
    }
    for c in &mut commissioners {
        c.lsoas.sort_by(|a, b| {
            dataset.lsoas[*a as usize]
                .code
                .cmp(&dataset.lsoas[*b as usize].code)
        });
    }
    // A commissioner without LSOAs (none in the real data) borrows its system's.
    for i in 0..commissioners.len() {
        if commissioners[i].lsoas.is_empty() {
            let system = commissioners[i].system;
            let borrowed: Vec<u32> = commissioners
                .iter()
                .filter(|c| c.system == system)
                .flat_map(|c| c.lsoas.iter().copied())
                .collect();
            commissioners[i].lsoas = borrowed;
        }
    }
    let mut practices = Vec::new();
    for o in dataset
        .organisations
        .iter()
        .filter(|o| o.kind == OrgKind::GpPractice && open(o))
    {
        if let Some(&c) = o.parent.as_deref().and_then(|p| commissioner_index.get(p))
            && !commissioners[c].lsoas.is_empty()
        {
            practices.push(PracticeRef {
                code: o.code.clone(),
                commissioner: c,
            });
        }
    }
    if practices.is_empty() {
        return Err(Error::Reference("no open GP practice in the window".into()));
    }

    let real = read_sitrep()?;
    let mut providers = Vec::new();
    let mut other_trusts = Vec::new();
    for o in dataset.organisations.iter().filter(|o| open(o)) {
        let system = o.system.as_deref().and_then(|s| system_index.get(s)).copied();
        let region = match (system, o.region.as_deref()) {
            (Some(s), _) => systems[s].region,
            (None, Some(r)) => match region_index.get(r) {
                Some(&r) => r,
                None => continue,
            },
            (None, None) => continue,
        };
        let months = real.get(&o.code).cloned().unwrap_or_default();
        let hospital = matches!(o.kind, OrgKind::AcuteTrust | OrgKind::IndependentProvider);
        if hospital || !months.is_empty() {
            providers.push(Provider {
                code: o.code.clone(),
                kind: o.kind,
                system,
                region,
                real: months,
            });
        } else if o.kind.is_trust()
            && let Some(s) = system
        {
            other_trusts.push((o.code.clone(), o.kind, s));
        }
    }
    Ok(Skeleton {
        dataset,
        systems,
        regions,
        commissioners,
        practices,
        providers,
        deprivation,
        other_trusts,
    })
}

/// Reads the embedded real SitRep (`ae_monthly.csv`) by provider.
fn read_sitrep() -> Result<HashMap<String, Vec<(Month, RealMonth)>>, Error> {
    let bytes = reference::embedded::file("ae_monthly.csv")
        .ok_or_else(|| Error::Reference("ae_monthly.csv is not embedded".into()))?;
    let mut reader = csv::Reader::from_reader(bytes);
    let bad = |e: &dyn std::fmt::Display| Error::Reference(format!("embedded ae_monthly.csv: {e}"));
    let headers = reader.headers().map_err(|e| bad(&e))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(&format!("no column {name}")))
    };
    let cols = [
        col("period")?,
        col("provider_code")?,
        col("attendances_type1")?,
        col("attendances_other")?,
        col("over_4h_type1")?,
        col("over_4h_other")?,
        col("emergency_admissions")?,
        col("over_12h_dta")?,
    ];
    let mut out: HashMap<String, Vec<(Month, RealMonth)>> = HashMap::new();
    for record in reader.records() {
        let r = record.map_err(|e| bad(&e))?;
        let month: Month = r[cols[0]]
            .parse()
            .map_err(|_| bad(&format!("bad period {}", &r[cols[0]])))?;
        let num = |i: usize| r[cols[i]].parse::<f64>().unwrap_or(0.0);
        let m = RealMonth {
            attendances_type1: num(2),
            attendances_other: num(3),
            over_4h_type1: num(4),
            over_4h_other: num(5),
            emergency_admissions: num(6),
            over_12h_dta: num(7),
        };
        out.entry(r[cols[1]].to_string()).or_default().push((month, m));
    }
    for months in out.values_mut() {
        months.sort_by_key(|(m, _)| *m);
    }
    Ok(out)
}
