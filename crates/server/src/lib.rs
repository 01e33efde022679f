//! Footprint's HTTP server: a JSON API under `/api/v1` (described by the OpenAPI document it
//! serves at `/api/v1/openapi.json`, built from the same route table as the router), and a
//! server-rendered dashboard. Reads come from the results computed once from a dataset
//! ([`results`]) and from the register ([`store`]); writes to the register (opening and closing
//! interventions, the case lifecycle in [`write`](mod@write)) need a bearer token with write permission,
//! keep to its scope and are audited under the token's name.
//!
//! Disclosure: only the engine's published (disclosure-controlled) values are loaded; nothing
//! here can serve an unsuppressed count.

pub mod api;
pub mod auth;
pub mod capacity;
pub mod evaluation;
pub mod feed;
pub mod forms;
pub mod map;
pub mod openapi;
pub mod pages;
pub mod programme;
pub mod results;
pub mod returns;
pub mod svg;
pub mod write;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Results(String),
    #[error("{0}")]
    Engine(#[from] engine::Error),
    #[error("{0}")]
    Regime(#[from] regime::Error),
    #[error("{0}")]
    Store(#[from] store::Error),
}

/// How the server is deployed.
#[derive(Debug, Clone)]
pub struct Options {
    /// The address users reach the server at (`https://footprint.example.nhs.uk`). When it
    /// is https, the session cookie is `Secure` with the `__Host-` prefix; when set, a
    /// state-changing request's `Origin` must be it.
    pub public_url: Option<String>,
    /// Whether `public_url` is https.
    pub https: bool,
    /// A header a trusted reverse proxy sets to the client's address (`X-Forwarded-For`):
    /// its last address is the client for failed-authentication limiting. Unset, the
    /// connection's address is used and the header is ignored.
    pub client_header: Option<String>,
    /// Failed authentications allowed per client address a minute before they are answered
    /// 429 ([`auth::MAX_FAILURES`] unless set). Raise it when many users share one address.
    pub auth_failures: u32,
}

impl Default for Options {
    fn default() -> Options {
        Options::new(None, None)
    }
}

impl Options {
    pub fn new(public_url: Option<String>, client_header: Option<String>) -> Options {
        let https = public_url
            .as_deref()
            .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"));
        Options {
            public_url: public_url.map(|u| u.trim_end_matches('/').to_string()),
            https,
            client_header: client_header.map(|h| h.to_ascii_lowercase()),
            auth_failures: auth::MAX_FAILURES,
        }
    }

    /// With another limit on failed authentications per address a minute (at least 1).
    pub fn auth_failures(mut self, n: u32) -> Options {
        self.auth_failures = n.max(1);
        self
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct State {
    /// Shared: the results never change while serving, and a test suite loads them once.
    pub results: Arc<results::Results>,
    pub db: store::Store,
    pub options: Options,
    pub limiter: auth::Limiter,
    pub sessions: auth::Sessions,
    /// The England map, drawn once.
    pub map: map::Map,
    /// System pages' public parts, drawn on first request (the results never change while
    /// serving).
    pub pages: std::sync::Mutex<std::collections::HashMap<String, Arc<String>>>,
    /// The OpenAPI document, built on first request (the results never change while serving).
    pub openapi: std::sync::OnceLock<axum::body::Bytes>,
    /// Packs disagreeing about an organisation (`inconsistent_assessments`), from the
    /// published assessments, found once.
    pub assessment_conflicts: Vec<store::Conflict>,
}

pub type Shared = Arc<State>;

impl State {
    /// The client's address: the connection's, or the last address in the trusted proxy's
    /// header when one is configured.
    pub fn client(&self, req: &axum::extract::Request) -> Option<std::net::IpAddr> {
        if let Some(h) = &self.options.client_header {
            let from_proxy = req
                .headers()
                .get(h.as_str())
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse().ok());
            if from_proxy.is_some() {
                return from_proxy;
            }
        }
        req.extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
    }

    /// The key failed authentications are counted under ([`client_key`]).
    pub fn limiter_key(&self, client: Option<std::net::IpAddr>) -> Option<std::net::IpAddr> {
        client_key(client)
    }
}

/// The largest request body accepted (an intervention is a few hundred bytes).
pub const BODY_LIMIT: usize = 64 * 1024;

/// An API error: one shape everywhere, `{"code", "message", "hint"}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            hint: None,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> ApiError {
        self.hint = Some(hint.into());
        self
    }
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!("internal error: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server could not answer; see its log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, axum::Json(&self)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

impl From<store::Error> for ApiError {
    fn from(e: store::Error) -> ApiError {
        match e {
            store::Error::Refused(m) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refused", m),
            store::Error::NotFound(m) => ApiError::not_found(m),
            e => ApiError::internal(e),
        }
    }
}

/// The key failed authentications are counted under: an IPv4 address, or an IPv6 address's
/// /64 (one subscriber's allocation, so rotating addresses within it does not reset the
/// count).
pub fn client_key(client: Option<std::net::IpAddr>) -> Option<std::net::IpAddr> {
    use std::net::IpAddr;
    client.map(|ip| match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    })
}

/// Errors axum produces itself (no route, wrong method, body too large, …) get the same
/// shape as ours: any error response that is not already JSON or HTML is rewritten.
async fn uniform_errors(r: Response) -> Response {
    let status = r.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return r;
    }
    let ct = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if ct.starts_with("application/json") || ct.starts_with("text/html") {
        return r;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route; see /api/v1/openapi.json".to_string()),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not take that method".to_string(),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("too_large", format!("the body is over {BODY_LIMIT} bytes")),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "send Content-Type: application/json".to_string(),
        ),
        s if s.is_server_error() => ("internal", "the server could not answer; see its log".to_string()),
        _ => ("bad_request", "the request was not understood".to_string()),
    };
    ApiError::new(status, code, message).into_response()
}

/// The content security policy of every answer: nothing loads from elsewhere, no script runs,
/// forms post only here, no page may be framed. Pages carry their style inline and their
/// charts as inline SVG.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Security headers on every answer. Answers differ by caller (a token or a signed-in cookie
/// sees more), so none may be kept by a shared cache.
async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "private, no-store"),
        (header::VARY, "Cookie, Authorization"),
    ] {
        h.insert(name, HeaderValue::from_static(value));
    }
    r
}

/// Requests served at once; more wait for a place (and time out if none comes).
pub const MAX_CONCURRENT: usize = 512;
/// The longest a request may take, waiting included.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Answers 503 to a request that has not been answered within [`REQUEST_TIMEOUT`].
async fn deadline(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
        )
        .hint("try again, or ask for less (limit, grain, period)")
        .into_response(),
    }
}

/// The whole application: API, dashboard, and the uniform error shape.
pub fn router(state: Shared) -> Router {
    Router::new()
        .merge(openapi::api_router())
        .merge(pages::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(MAX_CONCURRENT))
        .layer(axum::middleware::from_fn(deadline))
        .layer(axum::middleware::map_response(uniform_errors))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// Loads the served state from a results folder and a database.
pub async fn state(results_dir: &std::path::Path, db: store::Store) -> Result<Shared, Error> {
    state_with(results_dir, db, Options::default()).await
}

/// [`state`] for a deployment.
pub async fn state_with(
    results_dir: &std::path::Path,
    db: store::Store,
    options: Options,
) -> Result<Shared, Error> {
    let dir = results_dir.to_path_buf();
    let results = tokio::task::spawn_blocking(move || results::Results::load(&dir))
        .await
        .map_err(|e| Error::Results(e.to_string()))??;
    Ok(state_from(Arc::new(results), db, options))
}

/// [`state_with`] on results already loaded ([`results::Results::load`]).
pub fn state_from(results: Arc<results::Results>, db: store::Store, options: Options) -> Shared {
    let map = map::Map::draw(&results);
    let assessment_conflicts = regime::inconsistent_assessments(&results.assessments, |o| {
        results.organisation(o).and_then(|x| x.system_code.clone())
    });
    Arc::new(State {
        assessment_conflicts,
        results,
        db,
        options,
        limiter: auth::Limiter::default(),
        sessions: auth::Sessions::default(),
        map,
        pages: Default::default(),
        openapi: Default::default(),
    })
}

/// Serves until interrupted (Ctrl-C).
pub async fn serve(
    state: Shared,
    addr: std::net::SocketAddr,
    on_ready: impl FnOnce(std::net::SocketAddr),
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    on_ready(listener.local_addr()?);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
