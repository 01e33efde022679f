//! Who is asking: a bearer token (`Authorization: Bearer fp_…`) or the dashboard's cookie
//! holding one, or nobody. Unauthenticated callers see published aggregates only; tokens see
//! the register's detail (cases, interventions, conflicts, diagnoses) within their scope.
//! Failed authentication is rate-limited per client address. Secrets are never logged.

use crate::{ApiError, Shared};
use axum::http::{HeaderMap, StatusCode, header};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per client address in [`WINDOW`].
pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(60);
pub const COOKIE: &str = "fp_token";

/// Failed authentications by client address.
#[derive(Debug, Default)]
pub struct Limiter(Mutex<HashMap<Option<IpAddr>, (u32, Instant)>>);

impl Limiter {
    fn blocked(&self, who: Option<IpAddr>) -> bool {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&who)
            .is_some_and(|(n, since)| *n >= MAX_FAILURES && since.elapsed() < WINDOW)
    }
    fn fail(&self, who: Option<IpAddr>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let e = map.entry(who).or_insert((0, Instant::now()));
        if e.1.elapsed() >= WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
        if map.len() > 100_000 {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
        }
    }
}

/// The caller.
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    Token(store::Token),
}

impl Principal {
    pub fn name(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".into(),
            Principal::Token(t) => format!("token:{} ({})", t.name, t.id),
        }
    }

    pub fn is_authenticated(&self) -> bool {
        matches!(self, Principal::Token(_))
    }

    /// Whether the caller may see the detail of a system.
    pub fn sees_system(&self, state: &crate::State, system: &str) -> bool {
        let Principal::Token(t) = self else { return false };
        let scope = t.scope.as_deref().unwrap_or("");
        match t.role.as_str() {
            "national" => true,
            "regional" => state
                .results
                .system(system)
                .is_some_and(|s| s.region_code == scope),
            "system" => system == scope,
            _ => false,
        }
    }

    /// Whether the caller may see the detail of an organisation.
    pub fn sees_org(&self, state: &crate::State, org: &str) -> bool {
        let Principal::Token(t) = self else { return false };
        let scope = t.scope.as_deref().unwrap_or("");
        let o = state.results.organisation(org);
        match t.role.as_str() {
            "national" => true,
            "regional" => o.and_then(|o| o.region_code.as_deref()) == Some(scope),
            "system" => o.and_then(|o| o.system_code.as_deref()) == Some(scope),
            "organisation" => org == scope,
            _ => false,
        }
    }

    pub fn can_write(&self) -> bool {
        matches!(self, Principal::Token(t) if t.can_write())
    }

    /// 401 for nobody, for routes that need a token.
    pub fn require(&self) -> Result<&store::Token, ApiError> {
        match self {
            Principal::Token(t) => Ok(t),
            Principal::Anonymous => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "this needs an access token",
            )
            .hint("send Authorization: Bearer <token>; `footprint tokens create` makes one")),
        }
    }
}

fn secret(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().unwrap_or("");
        return Some(v.strip_prefix("Bearer ").unwrap_or(v).trim().to_string());
    }
    let cookies = headers.get_all(header::COOKIE);
    for c in cookies.iter().filter_map(|v| v.to_str().ok()) {
        for part in c.split(';') {
            if let Some(v) = part.trim().strip_prefix(&format!("{COOKIE}=")) {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// Identifies the caller. A token that is presented but not live is an error (401), never
/// silently anonymous; too many of those from one address in a minute get 429.
pub async fn principal(
    state: &Shared,
    headers: &HeaderMap,
    client: Option<IpAddr>,
) -> Result<Principal, ApiError> {
    let Some(secret) = secret(headers) else {
        return Ok(Principal::Anonymous);
    };
    if state.limiter.blocked(client) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failures",
            format!("more than {MAX_FAILURES} failed authentications from this address in a minute"),
        )
        .hint("wait a minute, and check the token"));
    }
    // Only well-formed secrets reach the database.
    let well_formed =
        secret.len() == 67 && secret.starts_with("fp_") && secret[3..].bytes().all(|b| b.is_ascii_hexdigit());
    let token = if well_formed {
        state.db.token(&secret).await.map_err(ApiError::internal)?
    } else {
        None
    };
    match token {
        Some(t) => Ok(Principal::Token(t)),
        None => {
            state.limiter.fail(client);
            tracing::warn!(client = ?client, "failed authentication");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is not valid",
            )
            .hint("tokens look like fp_ and 64 hex digits; it may have been revoked"))
        }
    }
}

/// The caller as an extractor.
#[derive(Debug)]
pub struct Caller(pub Principal);

impl axum::extract::FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    /// The caller [`authenticate`] identified (it runs on every route); nobody if it did not.
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &Shared,
    ) -> Result<Caller, ApiError> {
        Ok(Caller(
            parts
                .extensions
                .get::<Principal>()
                .cloned()
                .unwrap_or(Principal::Anonymous),
        ))
    }
}

/// Authenticates every request that presents a credential, on every route (public ones
/// too): a bad token is refused wherever it is sent. The caller is left in the request's
/// extensions for the handlers.
pub async fn authenticate(
    axum::extract::State(state): axum::extract::State<Shared>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let client = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    match principal(&state, req.headers(), client).await {
        Ok(p) => {
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}
