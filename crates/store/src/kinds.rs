//! Intervention kinds as data: a versioned TOML registry (`regime/intervention-kinds.toml` is
//! the built-in one) that a user can copy and edit. Each kind says what an intervention of it
//! must record (a buddy partner, capacity support's provider and cost, a flexibility's
//! conditions and expiry) and whether it is granted only in support of a plan.

use serde::{Deserialize, Serialize};

/// The built-in registry's text.
pub const BUILTIN: &str = include_str!("../../../regime/intervention-kinds.toml");

/// What an intervention of a kind must record beyond the common fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// An organisation code: the buddy.
    Partner,
    /// Who gives the support (for example management consultants).
    Provider,
    /// In pounds.
    Cost,
    /// The terms of a flexibility.
    Conditions,
    /// When a flexibility lapses.
    Expiry,
}

impl Detail {
    pub fn as_str(self) -> &'static str {
        match self {
            Detail::Partner => "partner",
            Detail::Provider => "provider",
            Detail::Cost => "cost",
            Detail::Conditions => "conditions",
            Detail::Expiry => "expiry",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Kind {
    pub id: String,
    pub title: String,
    pub description: String,
    #[serde(default)]
    pub requires: Vec<Detail>,
    /// Granted only in support of change: open without a linked case or new care model, an
    /// intervention of this kind is a conflict (`flexibility_without_plan`).
    #[serde(default)]
    pub needs_plan: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kinds {
    pub format: u32,
    /// The registry's own version (a date or a tag), recorded with what it was used for.
    pub version: String,
    #[serde(rename = "kind")]
    pub kinds: Vec<Kind>,
}

impl Kinds {
    /// The built-in registry.
    pub fn builtin() -> Kinds {
        // Checked by the crate's tests: the built-in text is valid.
        Kinds::parse(BUILTIN, "regime/intervention-kinds.toml")
            .unwrap_or_else(|e| unreachable!("the built-in intervention kinds: {e}"))
    }

    /// Parses and validates a registry; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Kinds, String> {
        let k: Kinds = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let bad = |m: String| Err(format!("{file}: {m}"));
        if k.format != 1 {
            return bad(format!("format {}: this Footprint reads format 1", k.format));
        }
        if k.version.trim().is_empty() {
            return bad("version: must not be empty".into());
        }
        if k.kinds.is_empty() {
            return bad("no [[kind]]: a registry lists at least one kind".into());
        }
        for (n, kind) in k.kinds.iter().enumerate() {
            let at = format!("kind[{}] {:?}", n + 1, kind.id);
            let id_ok = !kind.id.is_empty()
                && kind.id.len() <= 48
                && kind
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !id_ok {
                return bad(format!(
                    "{at}: id must be lower-case letters, digits and _, at most 48"
                ));
            }
            if k.kinds[..n].iter().any(|o| o.id == kind.id) {
                return bad(format!("{at}: id given twice"));
            }
            if kind.title.trim().is_empty() || kind.description.trim().is_empty() {
                return bad(format!("{at}: needs a title and a description"));
            }
            if let Some(d) = kind
                .requires
                .iter()
                .enumerate()
                .find(|(i, d)| kind.requires[..*i].contains(d))
            {
                return bad(format!("{at}: requires {} twice", d.1.as_str()));
            }
        }
        Ok(k)
    }

    pub fn get(&self, id: &str) -> Option<&Kind> {
        self.kinds.iter().find(|k| k.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.kinds.iter().map(|k| k.id.as_str()).collect()
    }
}

impl Default for Kinds {
    fn default() -> Kinds {
        Kinds::builtin()
    }
}
