//! Who is asking: a bearer token (`Authorization: Bearer fp_…`), a dashboard session (a
//! random id in a cookie, kept on the server with the token it was opened with and a CSRF
//! token), or nobody. Unauthenticated callers see published aggregates only; tokens see the
//! register's detail (cases, interventions, conflicts, diagnoses) within their scope.
//! Failed authentication is rate-limited per client address. Secrets are never logged, and a
//! token's secret never travels in a cookie.

use crate::{ApiError, Shared};
use axum::http::{HeaderMap, StatusCode, header};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per client address in [`WINDOW`], unless the server's options say
/// otherwise.
pub const MAX_FAILURES: u32 = 10;
pub const WINDOW: Duration = Duration::from_secs(60);
/// The session cookie over plain HTTP (a server on loopback or behind a proxy that says
/// nothing), and over HTTPS (`--public-url https://…`), where the `__Host-` prefix binds it
/// to this host, `Secure` and `Path=/`.
pub const COOKIE: &str = "fp_session";
pub const COOKIE_HTTPS: &str = "__Host-fp_session";
/// The cookie the dashboard set before sessions (it held the token itself): cleared on sight.
pub const OLD_COOKIE: &str = "fp_token";
/// How long a dashboard session lives, and how many the server keeps at once (the least
/// recently used go first).
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 3600);
pub const MAX_SESSIONS: usize = 10_000;

/// A signed-in dashboard session.
#[derive(Debug, Clone)]
struct Session {
    secret: String,
    csrf: String,
    expires: Instant,
    used: Instant,
}

/// Dashboard sessions, in memory: a restart signs everyone out.
#[derive(Debug, Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

/// 32 random bytes as hex.
pub fn random_hex() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Sessions {
    /// Opens a session for a token's secret: (session id, CSRF token).
    pub fn open(&self, secret: &str) -> Option<(String, String)> {
        let (id, csrf) = (random_hex()?, random_hex()?);
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| s.expires > now);
        }
        while map.len() >= MAX_SESSIONS {
            let Some(oldest) = map.iter().min_by_key(|(_, s)| s.used).map(|(k, _)| k.clone()) else {
                break;
            };
            map.remove(&oldest);
        }
        map.insert(
            id.clone(),
            Session {
                secret: secret.to_string(),
                csrf: csrf.clone(),
                expires: now + SESSION_LIFETIME,
                used: now,
            },
        );
        Some((id, csrf))
    }

    /// The live session's (token secret, CSRF token).
    fn get(&self, id: &str) -> Option<(String, String)> {
        let now = Instant::now();
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(id) {
            Some(s) if s.expires > now => {
                s.used = now;
                Some((s.secret.clone(), s.csrf.clone()))
            }
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    pub fn close(&self, id: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Compares two secrets in time that does not depend on where they first differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cookie's name for this server.
pub fn cookie_name(state: &crate::State) -> &'static str {
    if state.options.https { COOKIE_HTTPS } else { COOKIE }
}

/// A `Set-Cookie` value carrying a session id (or clearing it, with `None`).
pub fn session_cookie(state: &crate::State, id: Option<&str>) -> String {
    let secure = if state.options.https { "; Secure" } else { "" };
    match id {
        Some(id) => format!(
            "{}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
            cookie_name(state),
            SESSION_LIFETIME.as_secs()
        ),
        None => format!(
            "{}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}",
            cookie_name(state)
        ),
    }
}

/// How many client addresses the limiter remembers at most.
pub const MAX_TRACKED: usize = 100_000;

/// Failed authentications by client address (IPv6 by /64), bounded in memory: at the bound,
/// finished windows go first, then the least recently failing addresses.
#[derive(Debug, Default)]
pub struct Limiter(Mutex<HashMap<Option<IpAddr>, (u32, Instant)>>);

impl Limiter {
    /// Whether `who` has failed `max` times in the current window.
    pub fn blocked(&self, who: Option<IpAddr>, max: u32) -> bool {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&who)
            .is_some_and(|(n, since)| *n >= max && since.elapsed() < WINDOW)
    }
    pub fn fail(&self, who: Option<IpAddr>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !map.contains_key(&who) && map.len() >= MAX_TRACKED {
            map.retain(|_, (_, since)| since.elapsed() < WINDOW);
            if map.len() >= MAX_TRACKED {
                // Drop the oldest tenth at once, so that the scan is not paid on every failure.
                let mut ages: Vec<Instant> = map.values().map(|v| v.1).collect();
                ages.sort_unstable();
                let cut = ages[ages.len() / 10];
                map.retain(|_, (_, since)| *since > cut);
            }
        }
        let e = map.entry(who).or_insert((0, Instant::now()));
        if e.1.elapsed() >= WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The caller.
#[derive(Debug, Clone)]
pub enum Principal {
    Anonymous,
    /// `Authorization: Bearer`.
    Token(store::Token),
    /// A dashboard session opened with a token.
    Session {
        token: store::Token,
        id: String,
        csrf: String,
    },
}

impl Principal {
    /// The token the caller acts with.
    pub fn token(&self) -> Option<&store::Token> {
        match self {
            Principal::Anonymous => None,
            Principal::Token(t) | Principal::Session { token: t, .. } => Some(t),
        }
    }

    /// The session's CSRF token, which every state-changing dashboard form carries.
    pub fn csrf(&self) -> Option<&str> {
        match self {
            Principal::Session { csrf, .. } => Some(csrf),
            _ => None,
        }
    }

    pub fn name(&self) -> String {
        match self.token() {
            None => "anonymous".into(),
            Some(t) => format!("token:{} ({})", t.name, t.id),
        }
    }

    pub fn is_authenticated(&self) -> bool {
        self.token().is_some()
    }

    /// Whether the caller may see the detail of a system.
    pub fn sees_system(&self, state: &crate::State, system: &str) -> bool {
        let Some(t) = self.token() else { return false };
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
        let Some(t) = self.token() else { return false };
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
        self.token().is_some_and(store::Token::can_write)
    }

    /// For API writes: a bearer token only. A dashboard session's cookie travels with any
    /// request the browser makes, so it never authorises an API write.
    pub fn require_bearer(&self) -> Result<&store::Token, ApiError> {
        match self {
            Principal::Token(t) => Ok(t),
            Principal::Session { .. } => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "API writes need Authorization: Bearer, not a dashboard session",
            )
            .hint("send Authorization: Bearer <token>")),
            Principal::Anonymous => self.require(),
        }
    }

    /// 401 for nobody, for routes that need a token.
    pub fn require(&self) -> Result<&store::Token, ApiError> {
        match self {
            Principal::Token(t) | Principal::Session { token: t, .. } => Ok(t),
            Principal::Anonymous => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "this needs an access token",
            )
            .hint("send Authorization: Bearer <token>; `footprint tokens create` makes one")),
        }
    }
}

/// What the request presents: `Authorization` (only the Bearer scheme is read; any other
/// scheme is a bad credential, never ignored), else the session cookie.
enum Presented {
    Nothing,
    Bearer(String),
    BadScheme,
    Cookie(String),
    OldCookie,
}

fn presented(headers: &HeaderMap, cookie: &str) -> Presented {
    if let Some(v) = headers.get(header::AUTHORIZATION) {
        let v = v.to_str().unwrap_or("").trim();
        return match v.split_once(' ') {
            Some((scheme, secret)) if scheme.eq_ignore_ascii_case("bearer") => {
                Presented::Bearer(secret.trim().to_string())
            }
            _ => Presented::BadScheme,
        };
    }
    let mut old = false;
    for c in headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for part in c.split(';') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix(cookie).and_then(|v| v.strip_prefix('=')) {
                return Presented::Cookie(v.to_string());
            }
            old |= part.starts_with(OLD_COOKIE) && part[OLD_COOKIE.len()..].starts_with('=');
        }
    }
    if old {
        Presented::OldCookie
    } else {
        Presented::Nothing
    }
}

/// Identifies the caller. A bearer token that is presented but not live is an error (401),
/// never silently anonymous; too many of those from one address in a minute get 429 (a
/// valid token is never refused for them). A session cookie that is stale, unknown or whose
/// token was revoked makes the caller anonymous, and `clear` says to clear the cookie.
pub async fn principal(
    state: &Shared,
    headers: &HeaderMap,
    client: Option<IpAddr>,
) -> Result<(Principal, bool), ApiError> {
    let secret = match presented(headers, cookie_name(state)) {
        Presented::Nothing => return Ok((Principal::Anonymous, false)),
        Presented::OldCookie => return Ok((Principal::Anonymous, true)),
        Presented::Cookie(id) => {
            let live = match state.sessions.get(&id) {
                Some((secret, csrf)) => {
                    state
                        .db
                        .token(&secret)
                        .await
                        .map_err(ApiError::internal)?
                        .map(|token| Principal::Session {
                            token,
                            id: id.clone(),
                            csrf,
                        })
                }
                None => None,
            };
            return Ok(match live {
                Some(p) => (p, false),
                None => {
                    state.sessions.close(&id);
                    (Principal::Anonymous, true)
                }
            });
        }
        Presented::BadScheme => None,
        Presented::Bearer(s) => Some(s),
    };
    let key = state.limiter_key(client);
    // Only well-formed secrets reach the database.
    let token = match secret {
        Some(secret)
            if secret.len() == 67
                && secret.starts_with("fp_")
                && secret[3..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            state.db.token(&secret).await.map_err(ApiError::internal)?
        }
        _ => None,
    };
    match token {
        Some(t) => {
            // One write a minute per token, not one a request: the row just read says when.
            let minute = &store::now()[..16];
            if t.last_used_at
                .as_deref()
                .is_none_or(|u| u.get(..16).is_none_or(|u| u < minute))
            {
                state.db.touch_token(t.id).await.map_err(ApiError::internal)?;
            }
            Ok((Principal::Token(t), false))
        }
        None if state.limiter.blocked(key, state.options.auth_failures) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_failures",
            format!(
                "more than {} failed authentications from this address in a minute",
                state.options.auth_failures
            ),
        )
        .hint("wait a minute, and check the token")),
        None => {
            state.limiter.fail(key);
            tracing::warn!(client = ?key, "failed authentication");
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "the access token is not valid",
            )
            .hint("send Authorization: Bearer fp_ and 64 hex digits; the token may have expired or been revoked"))
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
    let client = state.client(&req);
    if let Err(e) = same_origin(&state, &req) {
        return e.into_response();
    }
    match principal(&state, req.headers(), client).await {
        Ok((p, clear)) => {
            req.extensions_mut().insert(p);
            let mut r = next.run(req).await;
            if clear && let Ok(v) = axum::http::HeaderValue::from_str(&session_cookie(&state, None)) {
                r.headers_mut().append(header::SET_COOKIE, v);
                if let Ok(v) = axum::http::HeaderValue::from_str(&format!(
                    "{OLD_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"
                )) {
                    r.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            r
        }
        Err(e) => e.into_response(),
    }
}

/// A request that changes something (any method but GET, HEAD and OPTIONS) must come from
/// this site: `Sec-Fetch-Site`, when the browser sends it, is `same-origin` or `none`, and
/// `Origin`, when sent, is this server's.
fn same_origin(state: &crate::State, req: &axum::extract::Request) -> Result<(), ApiError> {
    use axum::http::Method;
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    let refuse = |why: String| {
        Err(ApiError::new(StatusCode::FORBIDDEN, "cross_site", why)
            .hint("changes are accepted from this server's own pages, or from a client that sends no Origin"))
    };
    let h = req.headers();
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(site) = site
        && !matches!(site, "same-origin" | "none")
    {
        return refuse(format!("a {site} request may not change anything here"));
    }
    // Under `Referrer-Policy: no-referrer` a browser sends `Origin: null` with its own form
    // posts; its `Sec-Fetch-Site: same-origin` is then the word that counts.
    let origin = h
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| !(*o == "null" && site == Some("same-origin")));
    if let Some(origin) = origin {
        let ok = match &state.options.public_url {
            Some(u) => origin.eq_ignore_ascii_case(u.trim_end_matches('/')),
            None => {
                let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
                origin
                    .split_once("://")
                    .is_some_and(|(_, rest)| !host.is_empty() && rest.eq_ignore_ascii_case(host))
            }
        };
        if !ok {
            return refuse(format!(
                "origin {:?} is not this server",
                origin.chars().take(100).collect::<String>()
            ));
        }
    }
    Ok(())
}
