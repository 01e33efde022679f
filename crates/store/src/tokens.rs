//! API access tokens. A token is `fp_` and 64 hex digits of a 256-bit random secret; the
//! register keeps only its SHA-256 (a secret this long needs no slow key-derivation function:
//! it cannot be guessed, only stolen, and the hash is useless to a thief of the database).

use crate::{Error, Result, Store, now};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Roles, from widest to narrowest. National and regional roles may write (open
/// interventions); system and organisation roles read the detail of their scope only.
pub const ROLES: [(&str, &str); 4] = [
    ("national", "every entity, read and write"),
    (
        "regional",
        "one region (scope: region code), read and write within it",
    ),
    ("system", "one system (scope: system code), read only"),
    (
        "organisation",
        "one organisation (scope: organisation code), read only",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub scope: Option<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// After this instant (same format as `created_at`) the token is refused.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// When it last authenticated a request (to the minute).
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// The regulators a writing token may open interventions as (any when empty).
    #[serde(default)]
    pub regulators: Vec<String>,
}

/// Options of a new token beyond its name, role and scope.
#[derive(Debug, Clone, Default)]
pub struct TokenLimits {
    /// Lifetime from now.
    pub expires_in: Option<std::time::Duration>,
    /// Regulators a writing token may act as (any when empty).
    pub regulators: Vec<String>,
}

/// Parses a lifetime such as `90d`, `12h`, `30m` or `2w`.
pub fn parse_lifetime(s: &str) -> std::result::Result<std::time::Duration, String> {
    let s = s.trim();
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?}: a whole number and a unit, e.g. 90d (units: m, h, d, w)"))?;
    let secs = match unit {
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("{s:?}: the unit is m, h, d or w (e.g. 90d)")),
    };
    if n == 0 || n > 5 * 366 {
        return Err(format!("{s:?}: between 1 and 1830 of its unit"));
    }
    Ok(std::time::Duration::from_secs(n * secs))
}

/// `now()` shifted by `d`.
fn later(d: std::time::Duration) -> String {
    crate::stamp(std::time::SystemTime::now() + d)
}

impl Token {
    /// Whether the token may open an intervention as `regulator`.
    pub fn may_act_as(&self, regulator: &str) -> bool {
        self.regulators.is_empty() || self.regulators.iter().any(|r| r == regulator)
    }
}

impl Token {
    /// Whether the role may change the register.
    pub fn can_write(&self) -> bool {
        matches!(self.role.as_str(), "national" | "regional")
    }
}

/// The SHA-256 of a secret, as hex.
pub fn hash(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Creates a token and returns it with its secret, which is shown only here. The scope
    /// (region, system or organisation code) must exist in the register's organisations or
    /// systems when the role needs one.
    pub async fn create_token(
        &self,
        name: &str,
        role: &str,
        scope: Option<&str>,
        actor: &str,
    ) -> Result<(Token, String)> {
        self.create_token_with(name, role, scope, &TokenLimits::default(), actor)
            .await
    }

    /// [`Store::create_token`] with an expiry and the regulators it may act as.
    pub async fn create_token_with(
        &self,
        name: &str,
        role: &str,
        scope: Option<&str>,
        limits: &TokenLimits,
        actor: &str,
    ) -> Result<(Token, String)> {
        for r in &limits.regulators {
            let known = sqlx::query(&self.sql("SELECT id FROM regulators WHERE id = ?"))
                .bind(r.clone())
                .fetch_optional(self.pool())
                .await?;
            if known.is_none() || r.contains(',') {
                return Err(Error::Refused(format!(
                    "regulator {r:?}: not in the register (`footprint regime regulators` lists them)"
                )));
            }
        }
        if !limits.regulators.is_empty() && !matches!(role, "national" | "regional") {
            return Err(Error::Refused(format!(
                "--regulator limits what a token writes; a {role} token cannot write"
            )));
        }
        if name.trim().is_empty() {
            return Err(Error::Refused("a token needs a name (--name)".into()));
        }
        if !ROLES.iter().any(|r| r.0 == role) {
            return Err(Error::Refused(format!(
                "role {role:?}: one of {}",
                ROLES.map(|r| r.0).join(", ")
            )));
        }
        match (role, scope) {
            ("national", Some(s)) => {
                return Err(Error::Refused(format!(
                    "scope {s:?}: a national token sees everything; give no scope"
                )));
            }
            ("national", None) => {}
            (_, None) => {
                return Err(Error::Refused(format!(
                    "a {role} token needs a scope (the {}'s code)",
                    if role == "regional" { "region" } else { role }
                )));
            }
            (_, Some(s)) if s.trim().is_empty() => {
                return Err(Error::Refused("scope: empty".into()));
            }
            _ => {}
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Refused(format!("no randomness from the operating system: {e}")))?;
        let secret = format!(
            "fp_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let mut c = self.change(actor, "create_token", "token").await?;
        let created_at = now();
        let expires_at = limits.expires_in.map(later);
        let regulators = (!limits.regulators.is_empty()).then(|| limits.regulators.join(","));
        let id: i64 = sqlx::query(&self.sql(
            "INSERT INTO tokens (name, role, scope, hash, created_at, expires_at, regulators) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(name.to_string())
        .bind(role.to_string())
        .bind(scope.map(str::to_string))
        .bind(hash(&secret))
        .bind(created_at.clone())
        .bind(expires_at.clone())
        .bind(regulators)
        .fetch_one(&mut *c.tx)
        .await?
        .try_get(0)?;
        let token = Token {
            id,
            name: name.to_string(),
            role: role.to_string(),
            scope: scope.map(str::to_string),
            created_at,
            revoked_at: None,
            expires_at,
            last_used_at: None,
            regulators: limits.regulators.clone(),
        };
        // The audit row records the token, never its secret or hash.
        let after = serde_json::to_string(&token).ok();
        self.commit(c, Some(id), None, after).await?;
        Ok((token, secret))
    }

    /// The live (unrevoked, unexpired) token with this secret.
    pub async fn token(&self, secret: &str) -> Result<Option<Token>> {
        let row = sqlx::query(&self.sql(&format!(
            "SELECT {COLUMNS} FROM tokens WHERE hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)"
        )))
        .bind(hash(secret))
        .bind(now())
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| token_row(&r)).transpose()
    }

    /// Records that a token was used, at most once a minute (timestamps are compared to the
    /// minute, so a busy token costs one write a minute, not one a request).
    pub async fn touch_token(&self, id: i64) -> Result<()> {
        let stamp = now();
        let minute = &stamp[..16];
        sqlx::query(&self.sql(
            "UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR substr(last_used_at, 1, 16) < ?)",
        ))
        .bind(stamp.clone())
        .bind(id)
        .bind(minute.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn tokens(&self) -> Result<Vec<Token>> {
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM tokens ORDER BY id"))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(token_row).collect()
    }

    pub async fn revoke_token(&self, id: i64, actor: &str) -> Result<()> {
        let mut c = self.change(actor, "revoke_token", "token").await?;
        let n =
            sqlx::query(&self.sql("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL"))
                .bind(now())
                .bind(id)
                .execute(&mut *c.tx)
                .await?
                .rows_affected();
        if n == 0 {
            return Err(Error::NotFound(format!("token {id}: no such live token")));
        }
        self.commit(c, Some(id), None, Some("{\"revoked\":true}".into()))
            .await
    }
}

const COLUMNS: &str = "id, name, role, scope, created_at, revoked_at, expires_at, last_used_at, regulators";

fn token_row(r: &sqlx::any::AnyRow) -> Result<Token> {
    let regulators: Option<String> = r.try_get(8)?;
    Ok(Token {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        role: r.try_get(2)?,
        scope: r.try_get(3)?,
        created_at: r.try_get(4)?,
        revoked_at: r.try_get(5)?,
        expires_at: r.try_get(6)?,
        last_used_at: r.try_get(7)?,
        regulators: regulators
            .map(|s| {
                s.split(',')
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    })
}
