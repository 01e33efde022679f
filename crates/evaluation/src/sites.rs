//! Sites: the care-model entities evaluated, with their units, start and outcomes. Declared in a
//! sites file (TOML, `docs/evaluation.md`), or taken from a synthetic England's `truth.toml`, or
//! from the dataset's contracts (a system whose commissioners pay an acute trust by capitation or
//! alliance, from the first financial year they do).

use crate::{Error, Result};
use arrow::array::{Array, AsArray};
use model::{Month, OrgKind};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A site.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// The care model (`primary_and_acute_care_system`, `multispecialty_community_provider`,
    /// `urgent_and_emergency_care_network`, …).
    pub model: String,
    /// A whole system (its practices are the site's), or
    #[serde(default)]
    pub system: Option<String>,
    /// a list of practices.
    #[serde(default)]
    pub practices: Vec<String>,
    /// The first month of the new model (`YYYY-MM`).
    pub start: String,
    /// Outcomes (catalogue indicator ids); the run's defaults when empty.
    #[serde(default)]
    pub outcomes: Vec<String>,
    /// The budget terms file or contract form, for the library.
    #[serde(default)]
    pub terms: Option<String>,
    #[serde(default)]
    pub notes: String,
    /// Where the site came from: `sites file`, `truth.toml`, `contracts`.
    #[serde(default)]
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SitesFile {
    format: u32,
    #[serde(default)]
    site: Vec<Site>,
}

/// The organisation structure the sites need: practices → commissioner → system.
#[derive(Debug, Clone, Default)]
pub struct Structure {
    pub practice_commissioner: BTreeMap<String, String>,
    pub commissioner_system: BTreeMap<String, String>,
    pub system_names: BTreeMap<String, String>,
    pub org_names: BTreeMap<String, String>,
}

impl Structure {
    pub fn of(ds: &dataset::Dataset) -> Structure {
        let mut s = Structure::default();
        for o in &ds.organisations {
            s.org_names.insert(o.code.clone(), o.name.clone());
            match o.kind {
                OrgKind::GpPractice => {
                    if let Some(p) = &o.parent {
                        s.practice_commissioner.insert(o.code.clone(), p.clone());
                    }
                }
                OrgKind::Commissioner => {
                    if let Some(sys) = &o.system {
                        s.commissioner_system.insert(o.code.clone(), sys.clone());
                    }
                }
                _ => {}
            }
        }
        for sys in &ds.systems {
            s.system_names.insert(sys.code.clone(), sys.name.clone());
        }
        s
    }

    pub fn practice_system(&self, practice: &str) -> Option<&String> {
        self.practice_commissioner
            .get(practice)
            .and_then(|c| self.commissioner_system.get(c))
    }

    /// The practices of a system.
    pub fn system_practices(&self, system: &str) -> Vec<String> {
        self.practice_commissioner
            .keys()
            .filter(|p| self.practice_system(p).is_some_and(|s| s == system))
            .cloned()
            .collect()
    }
}

impl Site {
    pub fn start_month(&self) -> Result<Month> {
        self.start.parse().map_err(|_| {
            Error::Refused(format!(
                "site {}: start `{}` is not a month (YYYY-MM)",
                self.id, self.start
            ))
        })
    }

    /// The site's practices (a system's, or its own list).
    pub fn units(&self, st: &Structure) -> Vec<String> {
        match &self.system {
            Some(s) => st.system_practices(s),
            None => self.practices.clone(),
        }
    }

    fn check(&self, st: &Structure, file: &str) -> Result<()> {
        let at = |m: String| Error::Refused(format!("{file}: site {}: {m}", self.id));
        self.start_month()
            .map_err(|_| at(format!("start `{}` is not a month (YYYY-MM)", self.start)))?;
        match (&self.system, self.practices.is_empty()) {
            (Some(_), false) => return Err(at("give `system` or `practices`, not both".into())),
            (None, true) => return Err(at("give `system` or `practices`".into())),
            (Some(s), true) => {
                if !st.system_names.contains_key(s) {
                    return Err(at(format!("system `{s}` is not in the dataset")));
                }
            }
            (None, false) => {
                if let Some(p) = self
                    .practices
                    .iter()
                    .find(|p| !st.practice_commissioner.contains_key(*p))
                {
                    return Err(at(format!("practice `{p}` is not a practice in the dataset")));
                }
            }
        }
        Ok(())
    }
}

/// Reads a sites file and checks every site against the dataset's organisations.
pub fn read(path: &Path, st: &Structure) -> Result<Vec<Site>> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| Error::Refused(format!("{name}: {e}")))?;
    let file: SitesFile = toml::from_str(&text).map_err(|e| {
        let (line, col) = e
            .span()
            .map(|s| {
                let before = &text[..s.start.min(text.len())];
                (
                    before.matches('\n').count() + 1,
                    before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1,
                )
            })
            .unwrap_or((0, 0));
        Error::Refused(format!("{name}:{line}:{col}: {}", e.message()))
    })?;
    if file.format != 1 {
        return Err(Error::Refused(format!("{name}: format {} is not 1", file.format)));
    }
    let mut seen = BTreeSet::new();
    let mut sites = file.site;
    for s in &mut sites {
        if !seen.insert(s.id.clone()) {
            return Err(Error::Refused(format!("{name}: site {} appears twice", s.id)));
        }
        s.check(st, &name)?;
        if s.source.is_empty() {
            s.source = "sites file".into();
        }
        if s.name.is_empty() {
            s.name = s.id.clone();
        }
    }
    Ok(sites)
}

#[derive(Deserialize)]
struct Truth {
    #[serde(default)]
    vanguard: Vec<TruthVanguard>,
}

#[derive(Deserialize)]
struct TruthVanguard {
    system_code: Option<String>,
    practice_codes: Option<Vec<String>>,
    model: String,
    start: String,
}

/// The vanguards a synthetic England planted (none without `truth.toml`). Only the sites are
/// taken, never the planted effects.
pub fn from_truth(root: &Path, st: &Structure) -> Result<Vec<Site>> {
    let path = root.join("truth.toml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(Vec::new());
    };
    let truth: Truth =
        toml::from_str(&text).map_err(|e| Error::Refused(format!("{}: {}", path.display(), e.message())))?;
    Ok(truth
        .vanguard
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let place = match (&v.system_code, &v.practice_codes) {
                (Some(s), _) => st.system_names.get(s).cloned().unwrap_or_else(|| s.clone()),
                (None, Some(p)) => {
                    let c = p.first().and_then(|p| st.practice_commissioner.get(p));
                    format!(
                        "{} practices of {}",
                        p.len(),
                        c.and_then(|c| st.org_names.get(c)).cloned().unwrap_or_default()
                    )
                }
                (None, None) => String::new(),
            };
            Site {
                id: format!("vanguard-{}", i + 1),
                name: format!("{} — {place}", v.model.replace('_', " ")),
                model: v.model,
                system: v.system_code,
                practices: if v.practice_codes.is_some() {
                    v.practice_codes.unwrap_or_default()
                } else {
                    Vec::new()
                },
                start: v.start,
                outcomes: Vec::new(),
                terms: None,
                notes: String::new(),
                source: "truth.toml".into(),
            }
        })
        .collect())
}

/// Systems paying an acute trust by capitation or alliance in the dataset's contracts, from
/// the April of the first financial year they do.
pub fn from_contracts(ds: &dataset::Dataset, st: &Structure) -> Result<Vec<Site>> {
    if !ds.tables.contains_key("contracts") {
        return Ok(Vec::new());
    }
    let batches = ds
        .scan("contracts")
        .map_err(|r| Error::Refused(format!("reading contracts: {} problems", r.error_count)))?;
    let mut first: BTreeMap<String, (Month, String)> = BTreeMap::new();
    for b in &batches {
        let col = |n: &str| -> Result<arrow::array::ArrayRef> {
            let c = b
                .schema()
                .index_of(n)
                .map(|i| b.column(i).clone())
                .map_err(|_| Error::Refused(format!("contracts has no column {n}")))?;
            arrow::compute::cast(&c, &arrow::datatypes::DataType::Utf8)
                .map_err(|e| Error::Refused(e.to_string()))
        };
        let (period, comm, basis) = (col("period")?, col("commissioner_code")?, col("payment_basis")?);
        let (period, comm, basis) = (
            period.as_string::<i32>(),
            comm.as_string::<i32>(),
            basis.as_string::<i32>(),
        );
        for i in 0..b.num_rows() {
            if basis.is_null(i) || !matches!(basis.value(i), "capitation" | "alliance") {
                continue;
            }
            let Some(sys) = st.commissioner_system.get(comm.value(i)) else {
                continue;
            };
            let start = match period.value(i).parse::<model::Period>() {
                Ok(p) => p.first_month(),
                Err(_) => continue,
            };
            let e = first
                .entry(sys.clone())
                .or_insert((start, basis.value(i).to_string()));
            if start < e.0 {
                *e = (start, basis.value(i).to_string());
            }
        }
    }
    Ok(first
        .into_iter()
        .map(|(sys, (start, basis))| Site {
            id: format!("contracts-{sys}"),
            name: format!(
                "{basis} contracts — {}",
                st.system_names.get(&sys).cloned().unwrap_or(sys.clone())
            ),
            model: format!("{basis}_contract"),
            system: Some(sys),
            practices: Vec::new(),
            start: start.to_string(),
            outcomes: Vec::new(),
            terms: Some(basis),
            notes: String::new(),
            source: "contracts".into(),
        })
        .collect())
}

/// The sites to evaluate: a sites file when given, else the dataset's `truth.toml`, else its
/// contracts.
pub fn discover(ds: &dataset::Dataset, st: &Structure, file: Option<&Path>) -> Result<Vec<Site>> {
    if let Some(f) = file {
        return read(f, st);
    }
    let truth = from_truth(&ds.root, st)?;
    if !truth.is_empty() {
        return Ok(truth);
    }
    from_contracts(ds, st)
}
