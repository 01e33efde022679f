//! `rules.toml`: the documented rules that bridge the gaps in the raw reference files.

use crate::{Error, Result};
use model::OrgKind;
use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub version: u32,
    pub trust_kinds: TrustKinds,
    pub exclude_icb_codes: Vec<String>,
    #[serde(default)]
    pub successors: Vec<Successor>,
    pub attested: Attested,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustKinds {
    pub default: String,
    pub rules: Vec<KindRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRule {
    pub contains: String,
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Successor {
    pub code: String,
    pub successor: String,
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attested {
    pub gp_map: String,
    pub local_authorities: String,
}

impl Rules {
    pub fn read(path: &Path) -> Result<Rules> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?;
        Rules::parse(&text).map_err(|message| Error::Rules {
            path: path.into(),
            message,
        })
    }

    pub fn parse(text: &str) -> std::result::Result<Rules, String> {
        let rules: Rules = toml::from_str(text).map_err(|e| e.to_string())?;
        if rules.version != 1 {
            return Err(format!("version {} is not supported; expected 1", rules.version));
        }
        let kind = |k: &str| -> std::result::Result<OrgKind, String> {
            match k.parse::<OrgKind>() {
                Ok(kind) if kind.is_trust() => Ok(kind),
                _ => Err(format!("trust_kinds: {k:?} is not a kind of trust")),
            }
        };
        kind(&rules.trust_kinds.default)?;
        for r in &rules.trust_kinds.rules {
            kind(&r.kind)?;
            if r.contains.trim().is_empty() {
                return Err("trust_kinds: a rule has an empty `contains`".into());
            }
        }
        for d in [&rules.attested.gp_map, &rules.attested.local_authorities] {
            model::parse_date(d).map_err(|_| format!("attested: {d:?} is not a date (YYYY-MM-DD)"))?;
        }
        Ok(rules)
    }

    /// The kind of a trust without type-1 attendances, from its name.
    pub fn trust_kind(&self, name: &str) -> OrgKind {
        let upper = name.to_uppercase();
        let kind = self
            .trust_kinds
            .rules
            .iter()
            .find(|r| upper.contains(&r.contains.to_uppercase()))
            .map_or(&self.trust_kinds.default, |r| &r.kind);
        kind.parse().unwrap_or(OrgKind::MentalHealthTrust)
    }
}
