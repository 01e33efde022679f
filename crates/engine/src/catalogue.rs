//! The indicator catalogue: one TOML file per indicator, validated with precise errors.
//! The format is documented in `docs/indicators.md`; the default catalogue is
//! `catalogue/indicators/*.toml`, built into the binary.

use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The catalogue format this build reads.
pub const FORMAT: u32 = 1;

/// The unit a value is published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A proportion × 100.
    Percent,
    /// A rate per 1,000 persons a year.
    Per1000,
    /// An indirectly standardised ratio × 100 (100 = as expected).
    Ratio100,
    Days,
    Times,
    PercentagePoints,
    Count,
    /// A mean score (e.g. survey answers 1–5).
    Score,
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Higher,
    Lower,
    None,
}

/// A period grain of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grain {
    Month,
    Quarter,
    FinancialYear,
    #[serde(rename = "rolling_12_months")]
    Rolling12Months,
}

impl Grain {
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::FinancialYear => "financial_year",
            Grain::Rolling12Months => "rolling_12_months",
        }
    }
}

/// How the confidence interval is computed (the stats crate's methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ci {
    None,
    /// Wilson score interval for a proportion (PHEindicatormethods `phe_proportion`).
    Wilson,
    /// Exact below 10 events, Byars from 10, for a rate (`phe_rate`).
    Byars,
    /// Byars on the observed count over the expected, for an indirectly standardised ratio.
    Isr,
    /// Dobson's method with Byars limits, for a directly standardised rate (`phe_dsr`).
    Dobson,
}

/// Standardisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standardisation {
    None,
    /// Observed / expected, expected from national rates by age band and sex.
    IndirectAgeSex,
    /// Directly standardised to the European Standard Population 2013 (persons).
    #[serde(rename = "direct_esp2013")]
    DirectEsp2013,
}

/// How a row is attributed to the entities it counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// The row's `provider_code`.
    Provider,
    /// The patient's registered practice (`practice_code`, or `patient_id` through `patients`).
    Registered,
    /// The row's `commissioner_code`.
    Commissioner,
    /// The row's `org_code`.
    Organisation,
}

impl Path {
    pub fn as_str(self) -> &'static str {
        match self {
            Path::Provider => "provider",
            Path::Registered => "registered",
            Path::Commissioner => "commissioner",
            Path::Organisation => "organisation",
        }
    }

    /// The levels a path can reach.
    pub fn levels(self) -> &'static [Level] {
        match self {
            Path::Provider => &[Level::Provider, Level::System, Level::Region, Level::England],
            Path::Registered => &[
                Level::Practice,
                Level::Commissioner,
                Level::System,
                Level::Region,
                Level::England,
            ],
            Path::Commissioner => &[Level::Commissioner, Level::System, Level::Region, Level::England],
            Path::Organisation => &[Level::Organisation, Level::System, Level::Region, Level::England],
        }
    }
}

/// An entity level an attribution path reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Provider,
    Practice,
    Commissioner,
    Organisation,
    System,
    Region,
    England,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Provider => "provider",
            Level::Practice => "practice",
            Level::Commissioner => "commissioner",
            Level::Organisation => "organisation",
            Level::System => "system",
            Level::Region => "region",
            Level::England => "england",
        }
    }

    /// The `entity_kind` of the output.
    pub fn entity_kind(self) -> &'static str {
        match self {
            Level::Provider | Level::Practice | Level::Commissioner | Level::Organisation => "organisation",
            Level::System => "system",
            Level::Region => "region",
            Level::England => "england",
        }
    }
}

/// One side of the fraction: rows of a table, filtered, aggregated by unit and period.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measure {
    /// A table of the data contract, or a `[[derived]]` table of this indicator.
    pub table: String,
    /// The column that places a row in time: a date, a timestamp or a period.
    pub when: String,
    /// A SQL condition on the table's columns.
    #[serde(default)]
    pub filter: Option<String>,
    /// A SQL aggregate over the table's columns (`count(*)`, `sum(persons)`).
    pub value: String,
    /// What a unit with a denominator but no numerator rows means: `zero` (no events, the
    /// default) or `missing` (no return: money, snapshots).
    #[serde(default)]
    pub absent: Absent,
}

/// See `Measure::absent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Absent {
    #[default]
    Zero,
    Missing,
}

/// A table defined by SQL over the contract's tables.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Derived {
    pub name: String,
    pub sql: String,
}

/// One attribution path and the levels it feeds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attribution {
    pub path: Path,
    pub levels: Vec<Level>,
}

/// One indicator definition.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub format: u32,
    pub id: String,
    pub title: String,
    pub description: String,
    pub domain: String,
    pub unit: Unit,
    pub direction: Direction,
    pub grains: Vec<Grain>,
    /// value = numerator / denominator × multiplier (numerator × multiplier without a denominator).
    #[serde(default = "one")]
    pub multiplier: f64,
    pub ci: Ci,
    #[serde(default = "no_standardisation")]
    pub standardisation: Standardisation,
    /// The standard or ambition, in the published unit.
    #[serde(default)]
    pub target: Option<f64>,
    #[serde(default)]
    pub derived: Vec<Derived>,
    pub numerator: Measure,
    #[serde(default)]
    pub denominator: Option<Measure>,
    pub attribution: Vec<Attribution>,
    /// Where the definition is `[file]`, not read from the file.
    #[serde(skip)]
    pub source: PathBuf,
}

fn one() -> f64 {
    1.0
}

fn no_standardisation() -> Standardisation {
    Standardisation::None
}

/// A catalogue problem: the file, where in it, and the rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct Problem {
    pub file: PathBuf,
    pub message: String,
}

/// A loaded, validated catalogue.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub indicators: Vec<Indicator>,
}

/// The default catalogue, built into the binary.
pub const DEFAULT: &[(&str, &str)] = &include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

impl Catalogue {
    /// The catalogue shipped with Footprint.
    pub fn default_catalogue() -> Result<Catalogue, Vec<Problem>> {
        Catalogue::from_texts(DEFAULT.iter().map(|(name, text)| {
            (
                PathBuf::from(format!("catalogue/indicators/{name}")),
                text.to_string(),
            )
        }))
    }

    /// Reads every `*.toml` file of a folder (in name order).
    pub fn read_dir(dir: &std::path::Path) -> Result<Catalogue, Vec<Problem>> {
        let problem = |message: String| {
            vec![Problem {
                file: dir.to_path_buf(),
                message,
            }]
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| problem(format!("cannot read the folder: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(problem("no *.toml indicator files".into()));
        }
        let mut texts = Vec::new();
        let mut problems = Vec::new();
        for f in files {
            match std::fs::read_to_string(&f) {
                Ok(t) => texts.push((f, t)),
                Err(e) => problems.push(Problem {
                    file: f,
                    message: format!("cannot read: {e}"),
                }),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Catalogue::from_texts(texts)
    }

    /// Parses and validates indicator files; every problem of every file is reported.
    pub fn from_texts(texts: impl IntoIterator<Item = (PathBuf, String)>) -> Result<Catalogue, Vec<Problem>> {
        let mut indicators = Vec::new();
        let mut problems = Vec::new();
        for (file, text) in texts {
            match toml::from_str::<Indicator>(&text) {
                Ok(mut i) => {
                    i.source = file.clone();
                    let found = validate(&i);
                    if found.is_empty() {
                        indicators.push(i);
                    } else {
                        problems.extend(found.into_iter().map(|message| Problem {
                            file: file.clone(),
                            message,
                        }));
                    }
                }
                Err(e) => problems.push(Problem {
                    file,
                    message: parse_error(&text, &e),
                }),
            }
        }
        let mut seen = BTreeSet::new();
        for i in &indicators {
            if !seen.insert(i.id.clone()) {
                problems.push(Problem {
                    file: i.source.clone(),
                    message: format!("id: \"{}\": defined twice in the catalogue", i.id),
                });
            }
        }
        if problems.is_empty() {
            Ok(Catalogue { indicators })
        } else {
            Err(problems)
        }
    }

    pub fn get(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|i| i.id == id)
    }
}

/// A TOML error as `line L, column C: message`.
fn parse_error(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {column}: {}", e.message().trim_end())
        }
        None => e.message().trim_end().to_string(),
    }
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
}

/// The rules a parsed indicator must also keep (the parser checks types and names).
fn validate(i: &Indicator) -> Vec<String> {
    let mut out = Vec::new();
    if i.format != FORMAT {
        out.push(format!(
            "format: {}: this build reads catalogue format {FORMAT}",
            i.format
        ));
    }
    if !is_identifier(&i.id) {
        out.push(format!(
            "id: \"{}\": must be lowercase letters, digits and underscores, starting with a letter",
            i.id
        ));
    }
    if let Some(stem) = i.source.file_stem().and_then(|s| s.to_str())
        && stem != i.id
    {
        out.push(format!(
            "id: \"{}\": must match the file name ({stem}.toml)",
            i.id
        ));
    }
    for (field, value) in [
        ("title", &i.title),
        ("description", &i.description),
        ("domain", &i.domain),
    ] {
        if value.trim().is_empty() {
            out.push(format!("{field}: must not be empty"));
        }
    }
    if i.grains.is_empty() {
        out.push(
            "grains: must name at least one of month, quarter, financial_year, rolling_12_months".into(),
        );
    }
    if !(i.multiplier.is_finite() && i.multiplier > 0.0) {
        out.push(format!("multiplier: {}: must be a positive number", i.multiplier));
    }
    if i.attribution.is_empty() {
        out.push("attribution: must give at least one [[attribution]] path".into());
    }
    let mut paths = BTreeSet::new();
    for a in &i.attribution {
        if !paths.insert(a.path) {
            out.push(format!(
                "attribution: path \"{}\" is given twice",
                a.path.as_str()
            ));
        }
        if a.levels.is_empty() {
            out.push(format!(
                "attribution: path \"{}\": levels must not be empty",
                a.path.as_str()
            ));
        }
        for l in &a.levels {
            if !a.path.levels().contains(l) {
                let allowed: Vec<&str> = a.path.levels().iter().map(|l| l.as_str()).collect();
                out.push(format!(
                    "attribution: path \"{}\" cannot reach level \"{}\" (it reaches {})",
                    a.path.as_str(),
                    l.as_str(),
                    allowed.join(", ")
                ));
            }
        }
    }
    // Two paths may not both feed the same level: the values would be counted twice.
    let mut levels = BTreeSet::new();
    for a in &i.attribution {
        for l in &a.levels {
            if !levels.insert(*l) {
                out.push(format!(
                    "attribution: level \"{}\" is fed by more than one path",
                    l.as_str()
                ));
            }
        }
    }
    let derived: BTreeSet<&str> = i.derived.iter().map(|d| d.name.as_str()).collect();
    for d in &i.derived {
        if !is_identifier(&d.name) {
            out.push(format!(
                "derived: name \"{}\": must be lowercase letters, digits and underscores",
                d.name
            ));
        }
        if dataset::schema::TABLES.iter().any(|t| t.name == d.name) {
            out.push(format!(
                "derived: name \"{}\": is a table of the data contract",
                d.name
            ));
        }
        if d.sql.trim().is_empty() {
            out.push(format!("derived: {}: sql must not be empty", d.name));
        }
    }
    let mut check_measure = |side: &str, m: &Measure| {
        let known =
            derived.contains(m.table.as_str()) || dataset::schema::TABLES.iter().any(|t| t.name == m.table);
        if !known {
            out.push(format!(
                "{side}.table: \"{}\": not a table of the data contract nor a [[derived]] table",
                m.table
            ));
        } else if let Some(t) = dataset::schema::TABLES.iter().find(|t| t.name == m.table)
            && !t.columns.iter().any(|c| c.name == m.when)
        {
            out.push(format!(
                "{side}.when: \"{}\": not a column of {}",
                m.when, m.table
            ));
        }
        if m.value.trim().is_empty() {
            out.push(format!("{side}.value: must not be empty"));
        }
    };
    check_measure("numerator", &i.numerator);
    if let Some(d) = &i.denominator {
        check_measure("denominator", d);
    }
    let needs_denominator =
        matches!(i.ci, Ci::Wilson | Ci::Isr) || i.standardisation != Standardisation::None;
    if needs_denominator && i.denominator.is_none() {
        out.push("denominator: required by the confidence interval or standardisation".into());
    }
    if i.ci == Ci::Wilson && i.unit != Unit::Percent {
        out.push("ci: \"wilson\" is for proportions, whose unit is \"percent\"".into());
    }
    if i.standardisation == Standardisation::IndirectAgeSex {
        if i.ci != Ci::Isr {
            out.push("ci: an indirectly standardised ratio takes ci = \"isr\"".into());
        }
        if i.attribution.iter().any(|a| a.path != Path::Registered) {
            out.push("attribution: indirect standardisation needs the registered population, so only path \"registered\"".into());
        }
    }
    if i.standardisation == Standardisation::DirectEsp2013 {
        if i.ci != Ci::Dobson {
            out.push("ci: a directly standardised rate takes ci = \"dobson\"".into());
        }
        if i.attribution.iter().any(|a| a.path != Path::Registered) {
            out.push("attribution: direct standardisation needs the registered population, so only path \"registered\"".into());
        }
    }
    if i.ci == Ci::Dobson && i.standardisation != Standardisation::DirectEsp2013 {
        out.push("ci: \"dobson\" needs standardisation = \"direct_esp2013\"".into());
    }
    if i.ci == Ci::Isr && i.standardisation != Standardisation::IndirectAgeSex {
        out.push("ci: \"isr\" needs standardisation = \"indirect_age_sex\"".into());
    }
    out
}
