//! The reference tables (regions, systems, organisations, LSOAs) as typed rows and lookup
//! maps, and the organisation rules that need the whole table at once.

use crate::chunk::Chunk;
use crate::report::Report;
use arrow::array::{Array, AsArray};
use arrow::datatypes::{Date32Type, Int64Type};
use model::{Diagnostic, Location, OrgKind};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct System {
    pub code: String,
    pub name: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub code: String,
    pub name: String,
    pub kind: OrgKind,
    pub system: Option<String>,
    pub parent: Option<String>,
    pub pcn: Option<String>,
    /// Days since 1970-01-01.
    pub opened: i32,
    pub closed: Option<i32>,
    pub successor: Option<String>,
    /// The organisation's own region (independent providers), or its system's region.
    pub region: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lsoa {
    pub code: String,
    pub commissioner: String,
    pub local_authority: String,
    /// IMD 2019 rank, 1 = most deprived of 32,844.
    pub imd_rank: i64,
}

impl Lsoa {
    /// The national IMD decile, 1 = most deprived tenth.
    pub fn imd_decile(&self) -> u8 {
        (((self.imd_rank - 1).max(0) * 10 / 32_844) + 1).min(10) as u8
    }
}

/// Lookup maps built from the reference tables as they load.
#[derive(Debug, Default)]
pub(crate) struct Refs {
    pub(crate) regions: HashSet<String>,
    /// System code → its region.
    pub(crate) systems: HashMap<String, String>,
    /// Organisation code → its kind, or `None` if the kind itself was invalid (already
    /// reported, so references to it are not reported again).
    pub(crate) orgs: HashMap<String, Option<OrgKind>>,
    pub(crate) lsoas: HashSet<String>,
}

fn text(chunk: &Chunk, col: usize, row: usize) -> Option<String> {
    let a = chunk.data.column(col).as_string::<i32>();
    (a.is_valid(row) && !a.value(row).is_empty()).then(|| a.value(row).to_string())
}

pub(crate) fn regions(chunks: &[Chunk]) -> Vec<Region> {
    let mut out = Vec::new();
    for c in chunks {
        for row in 0..c.data.num_rows() {
            if let (Some(code), Some(name)) = (text(c, 0, row), text(c, 1, row)) {
                out.push(Region { code, name });
            }
        }
    }
    out
}

pub(crate) fn systems(chunks: &[Chunk]) -> Vec<System> {
    let mut out = Vec::new();
    for c in chunks {
        for row in 0..c.data.num_rows() {
            if let (Some(code), Some(name), Some(region)) =
                (text(c, 0, row), text(c, 1, row), text(c, 2, row))
            {
                out.push(System { code, name, region });
            }
        }
    }
    out
}

pub(crate) fn lsoas(chunks: &[Chunk]) -> Vec<Lsoa> {
    let mut out = Vec::new();
    for c in chunks {
        let rank = c.data.column(3).as_primitive::<Int64Type>();
        for row in 0..c.data.num_rows() {
            if let (Some(code), Some(commissioner), Some(local_authority), true) = (
                text(c, 0, row),
                text(c, 1, row),
                text(c, 2, row),
                rank.is_valid(row),
            ) {
                out.push(Lsoa {
                    code,
                    commissioner,
                    local_authority,
                    imd_rank: rank.value(row),
                });
            }
        }
    }
    out
}

/// Every organisation code with its kind (`None` where the kind is invalid), so that one bad
/// row does not make every reference to it an error too.
pub(crate) fn org_kinds(chunks: &[Chunk]) -> HashMap<String, Option<OrgKind>> {
    let mut out = HashMap::new();
    for c in chunks {
        for row in 0..c.data.num_rows() {
            if let Some(code) = text(c, 0, row) {
                out.insert(code, text(c, 2, row).and_then(|k| k.parse().ok()));
            }
        }
    }
    out
}

/// Typed organisations, and the line each came from (for the rules below).
pub(crate) fn organisations(chunks: &[Chunk]) -> Vec<(Organisation, usize, u64)> {
    let mut out = Vec::new();
    for c in chunks {
        let opened = c.data.column(6).as_primitive::<Date32Type>();
        let closed = c.data.column(7).as_primitive::<Date32Type>();
        for row in 0..c.data.num_rows() {
            let (Some(code), Some(name), Some(kind)) = (text(c, 0, row), text(c, 1, row), text(c, 2, row))
            else {
                continue;
            };
            let (Ok(kind), true) = (kind.parse::<OrgKind>(), opened.is_valid(row)) else {
                continue;
            };
            out.push((
                Organisation {
                    code,
                    name,
                    kind,
                    system: text(c, 3, row),
                    parent: text(c, 4, row),
                    pcn: text(c, 5, row),
                    opened: opened.value(row),
                    closed: closed.is_valid(row).then(|| closed.value(row)),
                    successor: text(c, 8, row),
                    region: text(c, 9, row),
                },
                c.file,
                c.lines.line(row),
            ));
        }
    }
    out
}

/// The rules of `organisations.csv` that relate rows to each other or depend on `kind`.
pub(crate) fn check_organisations(
    orgs: &mut [(Organisation, usize, u64)],
    names: &[String],
    refs: &Refs,
    report: &mut Report,
) {
    for (org, file, line) in orgs.iter_mut() {
        let loc = |column: &str| Location::file(&names[*file]).line(*line).column(column);
        // Closed organisations may predate today's systems (imports of old publications add
        // them); a commissioner with neither system nor region commissions nationally (NHS
        // England's direct commissioning, `X24`).
        let national = org.kind == OrgKind::Commissioner && org.region.is_none();
        if org.system.is_none() && !org.kind.may_lack_system() && org.closed.is_none() && !national {
            report.push(Diagnostic::error(
                loc("system_code"),
                Some(String::new()),
                format!("missing system_code; only independent providers, third-sector bodies, closed organisations and national commissioners (no region_code) may have none, and this is {}", org.kind),
            ));
        }
        if org.kind == OrgKind::GpPractice && org.parent.is_none() {
            report.push(Diagnostic::error(
                loc("parent_code"),
                Some(String::new()),
                "missing parent_code; a practice's parent is its commissioner",
            ));
        }
        if let Some(parent) = &org.parent {
            match refs.orgs.get(parent) {
                None => report.push(Diagnostic::error(
                    loc("parent_code"),
                    Some(parent.clone()),
                    "unknown organisation; not in organisations.csv",
                )),
                Some(Some(k)) if org.kind == OrgKind::GpPractice && *k != OrgKind::Commissioner => report
                    .push(Diagnostic::error(
                        loc("parent_code"),
                        Some(parent.clone()),
                        format!("a practice's parent must be a commissioner; this is {k}"),
                    )),
                _ if *parent == org.code => report.push(Diagnostic::error(
                    loc("parent_code"),
                    Some(parent.clone()),
                    "an organisation cannot be its own parent",
                )),
                _ => {}
            }
        }
        if let Some(pcn) = &org.pcn
            && let Some(rule) = refs.problem(crate::schema::Ref::Org(&[OrgKind::Pcn]), pcn)
        {
            report.push(Diagnostic::error(loc("pcn_code"), Some(pcn.clone()), rule));
        }
        if let Some(successor) = &org.successor {
            if !refs.orgs.contains_key(successor) {
                report.push(Diagnostic::error(
                    loc("successor_code"),
                    Some(successor.clone()),
                    "unknown organisation; not in organisations.csv",
                ));
            } else if *successor == org.code {
                report.push(Diagnostic::error(
                    loc("successor_code"),
                    Some(successor.clone()),
                    "an organisation cannot succeed itself",
                ));
            }
        }
        let system_region = org.system.as_ref().and_then(|s| refs.systems.get(s));
        match (&org.region, system_region) {
            (Some(own), Some(sys)) if own != sys => report.push(Diagnostic::error(
                loc("region_code"),
                Some(own.clone()),
                format!(
                    "disagrees with the region of system {} ({sys})",
                    org.system.as_deref().unwrap_or_default()
                ),
            )),
            (None, Some(sys)) => org.region = Some(sys.clone()),
            _ => {}
        }
    }
}
