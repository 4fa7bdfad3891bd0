//! Responses to `GET` one record, kept in memory on SQLite while the database is unchanged.
//!
//! A record's representation is read from several tables (an idea: the row, its tags, its
//! disclosures, its filings' priority date) and depends on the caller's role (personal data)
//! and today's date (deadline states). This cache keeps the finished response per (path, role,
//! date) together with SQLite's `PRAGMA data_version` at the time it was read. Before a cached
//! response is used, the version is read again on the cache's own connection: it changes when
//! any other connection — of this process, another instance or the CLI — commits a change to
//! any table, and then every entry is stale. So a cached answer is never older than the last
//! commit; it only saves the reading and serialising while nothing changes (a read-mostly
//! portfolio). `INNOFOLIO_READ_CACHE=off` turns it off; it is not used on PostgreSQL, which has
//! no such counter.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::domain::Role;

/// The resources whose single records are cached (`/api/v1/{resource}/{id}`, no query).
const RESOURCES: &[&str] = &[
    "ideas",
    "organisations",
    "people",
    "agreements",
    "patent-families",
    "patent-filings",
    "funding-applications",
    "collaboration-requests",
];

/// The most responses kept; the cache starts again empty when it is full.
const MAX_ENTRIES: usize = 20_000;

type Key = (String, Role, NaiveDate);

struct Entry {
    data_version: i64,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
}

pub struct ReadCache {
    path: String,
    validator: Mutex<Option<SqliteConnection>>,
    entries: RwLock<HashMap<Key, Entry>>,
}

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    data_version: i64,
}

impl ReadCache {
    /// A cache for the SQLite database at `path`, unless `INNOFOLIO_READ_CACHE=off`.
    pub fn for_sqlite(path: &str) -> Option<ReadCache> {
        if std::env::var("INNOFOLIO_READ_CACHE").as_deref() == Ok("off") {
            return None;
        }
        Some(ReadCache {
            path: path.to_string(),
            validator: Mutex::new(None),
            entries: RwLock::new(HashMap::new()),
        })
    }

    /// Whether a `GET` of `path` (without a query) may be answered from the cache.
    pub fn cacheable(path: &str) -> bool {
        let Some(rest) = path.strip_prefix("/api/v1/") else {
            return false;
        };
        let Some((resource, id)) = rest.split_once('/') else {
            return false;
        };
        RESOURCES.contains(&resource) && !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
    }

    /// The database's change counter as this cache's connection sees it now; `None` if it
    /// cannot be read (the cache is then bypassed).
    pub fn data_version(&self) -> Option<i64> {
        let mut guard = self.validator.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let mut conn = SqliteConnection::establish(&self.path).ok()?;
            conn.batch_execute("PRAGMA busy_timeout = 200;").ok()?;
            *guard = Some(conn);
        }
        let conn = guard.as_mut()?;
        match diesel::sql_query("PRAGMA data_version").get_result::<DataVersion>(conn) {
            Ok(v) => Some(v.data_version),
            Err(e) => {
                tracing::debug!(error = %e, "read cache: data_version unavailable");
                *guard = None;
                None
            }
        }
    }

    pub fn key(path: &str, role: Role, today: NaiveDate) -> Key {
        (path.to_string(), role, today)
    }

    /// The cached response for `key`, if it was read at `data_version`.
    pub fn get(&self, key: &Key, data_version: i64) -> Option<HttpResponse> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let e = entries
            .get(key)
            .filter(|e| e.data_version == data_version)?;
        let mut res = HttpResponse::build(StatusCode::OK);
        for (name, value) in &e.headers {
            res.insert_header((name.clone(), value.clone()));
        }
        Some(res.body(e.body.clone()))
    }

    /// Keeps a 200 response read at `data_version` (the version read *before* the record, so
    /// the response is at least that new), and gives it back to be sent.
    pub async fn keep<B>(
        &self,
        key: Key,
        data_version: i64,
        res: ServiceResponse<B>,
    ) -> Result<ServiceResponse, actix_web::Error>
    where
        B: MessageBody + 'static,
    {
        if res.status() != StatusCode::OK {
            return Ok(res.map_into_boxed_body());
        }
        let (req, res) = res.into_parts();
        let (head, body) = res.into_parts();
        let body = actix_web::body::to_bytes(body)
            .await
            .map_err(|_| actix_web::error::ErrorInternalServerError("response body"))?;
        let headers: Vec<(HeaderName, HeaderValue)> = head
            .headers()
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        {
            let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            // Entries read at an older version can never be used again.
            if entries
                .values()
                .next()
                .is_some_and(|e| e.data_version != data_version)
            {
                entries.retain(|_, e| e.data_version == data_version);
            }
            entries.insert(
                key,
                Entry {
                    data_version,
                    headers,
                    body: body.clone(),
                },
            );
        }
        let res = head.set_body(body).map_into_boxed_body();
        Ok(ServiceResponse::new(req, res))
    }
}

#[cfg(test)]
mod tests {
    use super::ReadCache;

    #[test]
    fn only_single_records_of_listed_resources() {
        assert!(ReadCache::cacheable("/api/v1/ideas/12"));
        assert!(ReadCache::cacheable("/api/v1/patent-families/3"));
        assert!(!ReadCache::cacheable("/api/v1/ideas"));
        assert!(!ReadCache::cacheable("/api/v1/ideas/12/history"));
        assert!(!ReadCache::cacheable("/api/v1/ideas/overdue"));
        assert!(!ReadCache::cacheable("/api/v1/api-keys/1"));
        assert!(!ReadCache::cacheable("/api/v1/ideas/"));
    }
}
