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
        let id: i64 = sqlx::query(&self.sql(
            "INSERT INTO tokens (name, role, scope, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
        ))
        .bind(name.to_string())
        .bind(role.to_string())
        .bind(scope.map(str::to_string))
        .bind(hash(&secret))
        .bind(created_at.clone())
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
        };
        // The audit row records the token, never its secret or hash.
        let after = serde_json::to_string(&token).ok();
        self.commit(c, Some(id), None, after).await?;
        Ok((token, secret))
    }

    /// The live (unrevoked) token with this secret.
    pub async fn token(&self, secret: &str) -> Result<Option<Token>> {
        let row = sqlx::query(&self.sql(
            "SELECT id, name, role, scope, created_at, revoked_at FROM tokens WHERE hash = ? AND revoked_at IS NULL",
        ))
        .bind(hash(secret))
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| token_row(&r)).transpose()
    }

    pub async fn tokens(&self) -> Result<Vec<Token>> {
        let rows =
            sqlx::query("SELECT id, name, role, scope, created_at, revoked_at FROM tokens ORDER BY id")
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

fn token_row(r: &sqlx::any::AnyRow) -> Result<Token> {
    Ok(Token {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        role: r.try_get(2)?,
        scope: r.try_get(3)?,
        created_at: r.try_get(4)?,
        revoked_at: r.try_get(5)?,
    })
}
