//! HTTP layer: one module per resource (DTOs, handlers, routes). Handlers parse, validate and
//! authorise; the rules live in `domain`, the queries in `db`.

pub mod api_keys;
pub mod audit;
pub mod contracts;
pub mod deals;
pub mod events;
pub mod exports;
pub mod extract;
pub mod funding;
pub mod health;
pub mod idea_records;
pub mod ideas;
pub mod imports;
pub mod integrations;
pub mod kpis;
pub mod organisations;
pub mod patents;
pub mod people;
pub mod reports;
pub mod webhooks;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{sha256_hex, Caller};
use crate::db::{self, idempotency, AnyConnection, Db};
use crate::error::ApiError;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    /// API keys already looked up (see [`crate::auth::KeyCache`]).
    pub keys: std::sync::Arc<crate::auth::KeyCache>,
    /// Single-record responses kept while the database is unchanged (SQLite only).
    pub reads: Option<std::sync::Arc<crate::read_cache::ReadCache>>,
}

/// Registers every `/api/v1` resource.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(organisations::configure)
        .configure(people::configure)
        .configure(ideas::configure)
        .configure(idea_records::configure)
        .configure(imports::configure)
        .configure(patents::configure)
        .configure(deals::configure)
        .configure(funding::configure)
        .configure(integrations::configure)
        .configure(events::configure)
        .configure(webhooks::configure)
        .configure(exports::configure)
        .configure(kpis::configure)
        .configure(contracts::configure)
        .configure(reports::configure)
        .configure(audit::configure)
        .configure(api_keys::configure);
}

/// Writes one audit record in the caller's transaction.
pub fn audit<B: Serialize, A: Serialize>(
    conn: &mut AnyConnection,
    caller: &Caller,
    action: &str,
    entity: &str,
    entity_id: i64,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<(), ApiError> {
    let before = before
        .map(serde_json::to_value)
        .transpose()
        .map_err(ApiError::internal)?;
    let after = after
        .map(serde_json::to_value)
        .transpose()
        .map_err(ApiError::internal)?;
    events::from_audit(
        caller,
        action,
        entity,
        entity_id,
        before.as_ref(),
        after.as_ref(),
    );
    let before = before.map(|v| v.to_string());
    let after = after.map(|v| v.to_string());
    db::audit::insert(
        conn,
        &db::audit::NewAuditRow {
            at: db::now(),
            actor: caller.name.clone(),
            actor_key_id: Some(caller.key_id),
            action: action.to_string(),
            entity: entity.to_string(),
            entity_id,
            before_json: before,
            after_json: after,
            request_id: caller.request_id.clone(),
        },
    )?;
    Ok(())
}

/// A JSON response with the resource's ETag.
pub fn with_etag<T: Serialize>(status: StatusCode, version: i64, body: &T) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::ETAG, crate::domain::etag(version)))
        .json(body)
}

/// What a create handler produced, before it is sent.
pub struct Created {
    pub body: serde_json::Value,
    pub location: String,
    pub version: i64,
}

enum CreateOutcome {
    Fresh(Created),
    Replay(idempotency::IdempotencyRow),
}

const IDEMPOTENCY_RACE: &str = "idempotency-race";

/// The `Idempotency-Key` header, stored as a hash so that keys of any length and bytes work.
fn idempotency_key(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get("Idempotency-Key")?;
    let bytes = value.as_bytes().trim_ascii();
    (!bytes.is_empty()).then(|| sha256_hex(bytes))
}

fn replay(row: &idempotency::IdempotencyRow, fingerprint: &str) -> Result<HttpResponse, ApiError> {
    if row.request_hash != fingerprint {
        return Err(ApiError::Unprocessable {
            slug: "idempotency-key-reused",
            detail: "this Idempotency-Key was already used for a different request; use a new key"
                .into(),
        });
    }
    let status = StatusCode::from_u16(row.status as u16).map_err(ApiError::internal)?;
    let mut res = HttpResponse::build(status);
    res.insert_header((header::CONTENT_TYPE, "application/json"));
    res.insert_header(("Idempotent-Replayed", "true"));
    if let Some(location) = &row.location {
        res.insert_header((header::LOCATION, location.as_str()));
    }
    if let Some(etag) = &row.etag {
        res.insert_header((header::ETAG, etag.as_str()));
    }
    Ok(res.body(row.response_body.clone()))
}

/// Runs a create in one transaction with its audit record, honouring `Idempotency-Key`: a retry
/// with the same key and body returns the stored response and creates nothing; the same key with
/// another body is a 422. Concurrent retries (even on other instances) create one record.
pub async fn create_idempotent<F>(
    db: &Db,
    caller: &Caller,
    req: &HttpRequest,
    raw: &[u8],
    create: F,
) -> Result<HttpResponse, ApiError>
where
    F: FnOnce(&mut AnyConnection) -> Result<Created, ApiError> + Send + 'static,
{
    let key = idempotency_key(req);
    let mut fingerprint_input = format!("{} {}\n", req.method(), req.path()).into_bytes();
    fingerprint_input.extend_from_slice(raw);
    let fingerprint = sha256_hex(&fingerprint_input);
    let key_id = caller.key_id;
    let method = req.method().to_string();
    let path = req.path().to_string();
    let (k, fp) = (key.clone(), fingerprint.clone());
    let outcome = db
        .write(move |conn| {
            if let Some(key) = &k {
                if let Some(row) = idempotency::find(conn, key_id, key)? {
                    return Ok(CreateOutcome::Replay(row));
                }
            }
            let created = create(conn)?;
            if let Some(key) = k {
                let row = idempotency::NewIdempotencyRow {
                    api_key_id: key_id,
                    idem_key: key,
                    method,
                    path,
                    request_hash: fp,
                    status: 201,
                    response_body: created.body.to_string(),
                    location: Some(created.location.clone()),
                    etag: Some(crate::domain::etag(created.version)),
                    created_at: db::now(),
                };
                idempotency::insert(conn, &row).map_err(|e| match e {
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    ) => ApiError::Conflict {
                        slug: IDEMPOTENCY_RACE,
                        detail: String::new(),
                        allowed: None,
                    },
                    other => other.into(),
                })?;
            }
            Ok(CreateOutcome::Fresh(created))
        })
        .await;
    match outcome {
        Ok(CreateOutcome::Fresh(created)) => Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, created.location))
            .insert_header((header::ETAG, crate::domain::etag(created.version)))
            .json(created.body)),
        Ok(CreateOutcome::Replay(row)) => replay(&row, &fingerprint),
        Err(ApiError::Conflict {
            slug: IDEMPOTENCY_RACE,
            ..
        }) => {
            // Another request with the same key committed first: answer as it did.
            let key = key.unwrap_or_default();
            let row = db
                .read(move |conn| Ok(idempotency::find(conn, key_id, &key)?))
                .await?
                .ok_or_else(|| ApiError::internal("idempotency record vanished"))?;
            replay(&row, &fingerprint)
        }
        Err(e) => Err(e),
    }
}
