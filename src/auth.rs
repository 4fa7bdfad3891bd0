//! API-key authentication and role checks.
//!
//! Keys look like `ifo_<40 hex>`; only their SHA-256 hash is stored (keys are random and long,
//! so a fast hash is as safe as a slow one and costs nothing per request). The middleware in
//! [`crate::app`] authenticates every `/api/` request before any body is read and puts the
//! [`Caller`] into the request; handlers take it as an extractor and check the role.

use std::future::{ready, Ready};

use actix_web::{dev::Payload, FromRequest, HttpMessage, HttpRequest};
use sha2::{Digest, Sha256};

use crate::db::{api_keys, AnyConnection};
use crate::domain::Role;
use crate::error::ApiError;

/// Who is calling: the API key's id, name and role, and the request id for the audit log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: i64,
    pub name: String,
    pub role: Role,
    pub request_id: Option<String>,
}

impl Caller {
    /// 403 unless the caller's role is one of `roles` (admin is always allowed).
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if self.role == Role::Admin || roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "the role '{}' may not do this; allowed: {}",
                self.role.as_str(),
                std::iter::once("admin")
                    .chain(roles.iter().map(|r| r.as_str()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }

    /// Write access to portfolio data.
    pub fn require_writer(&self) -> Result<(), ApiError> {
        self.require(&[Role::Staff])
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.extensions()
                .get::<Caller>()
                .cloned()
                .ok_or_else(|| ApiError::Unauthorized("an API key is required".into())),
        )
    }
}

/// Hex SHA-256 of a string.
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A new random key (`ifo_` + 40 hex digits).
pub fn generate_key() -> Result<String, ApiError> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("ifo_{hex}"))
}

/// The `Authorization: Bearer KEY` value of a request, if well-formed.
pub fn bearer_token(req: &HttpRequest) -> Result<&str, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthorized("send an API key as 'Authorization: Bearer KEY'".into())
        })?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not readable".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::Unauthorized("expected 'Authorization: Bearer KEY'".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized(
            "expected 'Authorization: Bearer KEY'".into(),
        ));
    }
    Ok(token.trim())
}

/// Looks the key up by hash and checks that it is neither revoked nor expired.
pub fn authenticate(
    conn: &mut AnyConnection,
    token: &str,
    request_id: Option<String>,
) -> Result<Caller, ApiError> {
    lookup(conn, token, request_id).map(|(caller, _)| caller)
}

fn lookup(
    conn: &mut AnyConnection,
    token: &str,
    request_id: Option<String>,
) -> Result<(Caller, Option<chrono::NaiveDateTime>), ApiError> {
    let invalid = || ApiError::Unauthorized("the API key is not valid".into());
    let row = api_keys::find_by_hash(conn, &sha256_hex(token.as_bytes()))?.ok_or_else(invalid)?;
    if row.revoked_at.is_some() {
        return Err(ApiError::Unauthorized(
            "the API key has been revoked".into(),
        ));
    }
    if row.expires_at.is_some_and(|exp| exp <= crate::db::now()) {
        return Err(ApiError::Unauthorized("the API key has expired".into()));
    }
    let role = Role::parse(&row.role).ok_or_else(|| {
        ApiError::Internal(format!("api key {} has unknown role {}", row.id, row.role))
    })?;
    Ok((
        Caller {
            key_id: row.id,
            name: row.name,
            role,
            request_id,
        },
        row.expires_at,
    ))
}

/// Keys already looked up, by the SHA-256 of the key, so that a request costs no database
/// round trip for authentication. An entry is trusted for `ttl` (`INNOFOLIO_KEY_CACHE_SECONDS`,
/// default 5; 0 turns the cache off): a key revoked through this instance stops working at
/// once (the entry is dropped), one revoked through another instance within `ttl`. Expiry is
/// checked on every request. Failed lookups are never cached.
pub struct KeyCache {
    ttl: std::time::Duration,
    entries: std::sync::RwLock<std::collections::HashMap<[u8; 32], CachedKey>>,
}

struct CachedKey {
    key_id: i64,
    name: String,
    role: Role,
    expires_at: Option<chrono::NaiveDateTime>,
    fetched: std::time::Instant,
}

impl KeyCache {
    pub fn from_env() -> KeyCache {
        let secs = std::env::var("INNOFOLIO_KEY_CACHE_SECONDS")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(5);
        KeyCache::new(std::time::Duration::from_secs(secs))
    }

    pub fn new(ttl: std::time::Duration) -> KeyCache {
        KeyCache {
            ttl,
            entries: std::sync::RwLock::new(std::collections::HashMap::new()),
        }
    }

    fn digest(token: &str) -> [u8; 32] {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The caller for `token` if it was looked up less than `ttl` ago; `Err` if that lookup
    /// found it has expired since.
    pub fn get(&self, token: &str, request_id: Option<String>) -> Option<Result<Caller, ApiError>> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let e = entries.get(&Self::digest(token))?;
        if e.fetched.elapsed() >= self.ttl {
            return None;
        }
        if e.expires_at.is_some_and(|exp| exp <= crate::db::now()) {
            return Some(Err(ApiError::Unauthorized(
                "the API key has expired".into(),
            )));
        }
        Some(Ok(Caller {
            key_id: e.key_id,
            name: e.name.clone(),
            role: e.role,
            request_id,
        }))
    }

    fn put(&self, token: &str, caller: &Caller, expires_at: Option<chrono::NaiveDateTime>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= 10_000 {
            entries.clear();
        }
        entries.insert(
            Self::digest(token),
            CachedKey {
                key_id: caller.key_id,
                name: caller.name.clone(),
                role: caller.role,
                expires_at,
                fetched: std::time::Instant::now(),
            },
        );
    }

    /// Drops the entry of a key (after it was revoked).
    pub fn forget(&self, key_id: i64) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, e| e.key_id != key_id);
    }

    /// Looks the key up in the database and remembers it when valid.
    pub fn authenticate(
        &self,
        conn: &mut AnyConnection,
        token: &str,
        request_id: Option<String>,
    ) -> Result<Caller, ApiError> {
        let (caller, expires_at) = lookup(conn, token, request_id)?;
        self.put(token, &caller, expires_at);
        Ok(caller)
    }
}

/// Creates a key and returns (stored row, the key itself — shown once, never stored).
pub fn create_key(
    conn: &mut AnyConnection,
    name: &str,
    role: Role,
    expires_at: Option<chrono::NaiveDateTime>,
) -> Result<(api_keys::ApiKeyRow, String), ApiError> {
    let key = generate_key()?;
    let hash = sha256_hex(key.as_bytes());
    let row = api_keys::insert(
        conn,
        &api_keys::NewApiKeyRow {
            name,
            role: role.as_str(),
            prefix: &key[..12],
            key_hash: &hash,
            created_at: crate::db::now(),
            expires_at,
        },
    )?;
    Ok((row, key))
}

/// Counts failed authentications per client address, so that keys cannot be guessed at speed:
/// after `limit` failures within a minute, requests from that address get 429 (with
/// `Retry-After`) until the minute is over, before any key is looked at.
pub struct FailedAuthLimiter {
    limit: u32,
    window: std::time::Duration,
    seen: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (std::time::Instant, u32)>>,
}

impl FailedAuthLimiter {
    /// `INNOFOLIO_AUTH_FAILURES_PER_MINUTE` (default 30; 0 turns the limit off).
    pub fn from_env() -> FailedAuthLimiter {
        let limit = std::env::var("INNOFOLIO_AUTH_FAILURES_PER_MINUTE")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30);
        FailedAuthLimiter::new(limit, std::time::Duration::from_secs(60))
    }

    pub fn new(limit: u32, window: std::time::Duration) -> FailedAuthLimiter {
        FailedAuthLimiter {
            limit,
            window,
            seen: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Seconds to wait when `addr` is over its limit, else `None`.
    pub fn blocked(&self, addr: std::net::IpAddr) -> Option<u64> {
        if self.limit == 0 {
            return None;
        }
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let (since, failures) = seen.get(&addr)?;
        let elapsed = since.elapsed();
        (elapsed < self.window && *failures >= self.limit)
            .then(|| (self.window - elapsed).as_secs().max(1))
    }

    /// Records a failed authentication from `addr`.
    pub fn failed(&self, addr: std::net::IpAddr) {
        if self.limit == 0 {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 10_000 {
            let window = self.window;
            seen.retain(|_, (since, _)| since.elapsed() < window);
        }
        let entry = seen.entry(addr).or_insert((std::time::Instant::now(), 0));
        if entry.0.elapsed() >= self.window {
            *entry = (std::time::Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod limiter_tests {
    use super::FailedAuthLimiter;

    #[test]
    fn blocks_after_the_limit_until_the_window_ends() {
        let l = FailedAuthLimiter::new(3, std::time::Duration::from_millis(200));
        let a: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let b: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert!(l.blocked(a).is_none());
            l.failed(a);
        }
        assert!(l.blocked(a).is_some());
        assert!(l.blocked(b).is_none(), "per address");
        std::thread::sleep(std::time::Duration::from_millis(220));
        assert!(l.blocked(a).is_none(), "the window ended");
        assert!(
            FailedAuthLimiter::new(0, std::time::Duration::from_secs(60))
                .blocked(a)
                .is_none()
        );
    }
}

/// The server-side role policy, checked for every `/api/` request before any handler runs (the
/// handlers check again): reads are open to every role; key management, the audit log and
/// webhooks are for `admin`; deadline rules and distribution policies are changed by `admin`;
/// integration upserts are for `integration`; every other change is for `staff`. `admin` may
/// do everything.
pub fn allowed(method: &actix_web::http::Method, path: &str, role: Role) -> bool {
    use actix_web::http::Method;
    if role == Role::Admin {
        return true;
    }
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || rest.starts_with('.'))
    };
    if under("/api/v1/api-keys") || under("/api/v1/audit") || under("/api/v1/webhooks") {
        return false;
    }
    let read = *method == Method::GET || *method == Method::HEAD;
    if read {
        return true;
    }
    if under("/api/v1/deadline-rules") || under("/api/v1/distribution-policies") {
        return false;
    }
    if under("/api/v1/integrations") {
        return role == Role::Integration;
    }
    role == Role::Staff
}

#[cfg(test)]
mod policy_tests {
    use super::{allowed, Role};
    use actix_web::http::Method;

    #[test]
    fn the_role_policy() {
        let g = Method::GET;
        let p = Method::POST;
        assert!(allowed(&g, "/api/v1/ideas", Role::Management));
        assert!(!allowed(&p, "/api/v1/ideas", Role::Management));
        assert!(allowed(&p, "/api/v1/ideas", Role::Staff));
        assert!(!allowed(&p, "/api/v1/ideas", Role::Integration));
        assert!(!allowed(&g, "/api/v1/audit", Role::Staff));
        assert!(!allowed(&g, "/api/v1/webhooks/3/deliveries", Role::Staff));
        assert!(allowed(&g, "/api/v1/webhooks", Role::Admin));
        assert!(!allowed(&p, "/api/v1/deadline-rules", Role::Staff));
        assert!(allowed(
            &Method::PUT,
            "/api/v1/integrations/x/ideas/1",
            Role::Integration
        ));
        assert!(!allowed(
            &Method::PUT,
            "/api/v1/integrations/x/ideas/1",
            Role::Staff
        ));
        assert!(allowed(
            &g,
            "/api/v1/auditors-that-do-not-exist",
            Role::Staff
        ));
    }
}
