//! `/api/v1/webhooks` (admin): subscriptions to the change feed, pushed to a URL, signed, with
//! a delivery log. See [`crate::delivery`] for how deliveries are sent and signed.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::events::Event;
use super::extract::{
    check_version, double_option, if_match, paging, patch_required, ApiJson, IdempotencyKeyHeader,
    IfMatchHeader, Page,
};
use super::{audit, create_idempotent, with_etag, AppState, Created};
use crate::auth::Caller;
use crate::db::webhooks::{self as repo, WebhookData, WebhookRow};
use crate::error::ApiError;

const ENTITY: &str = "webhook";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_webhooks)
        .service(create_webhook)
        .service(get_webhook)
        .service(update_webhook)
        .service(delete_webhook)
        .service(list_deliveries)
        .service(retry_delivery);
}

/// A subscription. The secret is shown once, when it is created (or rotated).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub description: Option<String>,
    /// Event types sent: exact types, `entity.*`, or `*` for all.
    pub event_types: Vec<String>,
    /// The last four characters of the secret, to tell secrets apart.
    pub secret_hint: String,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookRow> for Webhook {
    fn from(r: WebhookRow) -> Self {
        let hint: String = {
            let chars: Vec<char> = r.secret.chars().collect();
            chars[chars.len().saturating_sub(4)..].iter().collect()
        };
        Webhook {
            id: r.id,
            url: r.url,
            description: r.description,
            event_types: r.event_types.split(',').map(str::to_string).collect(),
            secret_hint: format!("…{hint}"),
            active: r.active,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

/// A subscription as created: with its secret, shown this once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: Webhook,
    /// The signing secret. Store it now: it is not shown again.
    pub secret: String,
}

/// A new subscription.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// `http://` or `https://` URL that receives a POST per event.
    #[validate(length(min = 1, max = 2000, message = "must be 1 to 2000 characters"))]
    #[schema(
        min_length = 1,
        max_length = 2000,
        example = "https://grants.example.org/hooks/innofolio"
    )]
    pub url: String,
    #[serde(default)]
    #[validate(length(max = 500, message = "must be at most 500 characters"))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Default `["*"]` (every event).
    #[serde(default)]
    #[validate(length(max = 50, message = "at most 50 event types"))]
    #[schema(max_items = 50)]
    pub event_types: Option<Vec<String>>,
    /// Signing secret, 16–200 characters; generated when left out.
    #[serde(default)]
    #[validate(length(min = 16, max = 200, message = "must be 16 to 200 characters"))]
    #[schema(min_length = 16, max_length = 200)]
    pub secret: Option<String>,
    /// Default `true`.
    #[serde(default)]
    pub active: Option<bool>,
}

fn check_url(url: &str) -> Result<(), ApiError> {
    match url::Url::parse(url) {
        Ok(u) if (u.scheme() == "http" || u.scheme() == "https") && u.host().is_some() => Ok(()),
        _ => Err(ApiError::field(
            "url",
            "url",
            "must be an absolute http:// or https:// URL",
        )),
    }
}

fn check_types(types: &[String]) -> Result<String, ApiError> {
    if types.is_empty() {
        return Err(ApiError::field(
            "event_types",
            "required",
            "name at least one event type, or \"*\"",
        ));
    }
    for (i, t) in types.iter().enumerate() {
        let ok = !t.is_empty()
            && t.len() <= 100
            && t.chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.' || c == '*');
        if !ok {
            return Err(ApiError::field(
                &format!("event_types[{i}]"),
                "pattern",
                "event types are lower-case words with '.' and '_' (e.g. idea.created, idea.*, *)",
            ));
        }
    }
    Ok(types.join(","))
}

fn check_secret(secret: &str) -> Result<(), ApiError> {
    if secret.chars().any(char::is_control) {
        return Err(ApiError::field(
            "secret",
            "pattern",
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn new_secret() -> Result<String, ApiError> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(format!(
        "whsec_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// List webhook subscriptions.
#[utoipa::path(
    tag = "integration",
    responses((status = 200, description = "The subscriptions", body = Vec<Webhook>))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[])?;
    let rows = state.db.read(|c| Ok(repo::list(c)?)).await?;
    let items: Vec<Webhook> = rows.into_iter().map(Webhook::from).collect();
    Ok(HttpResponse::Ok().json(items))
}

/// Subscribe a URL to events. The response carries the signing secret, this once.
#[utoipa::path(
    tag = "integration",
    request_body = NewWebhook,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = WebhookWithSecret,
        headers(("Location" = String), ("ETag" = String))))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewWebhook>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[])?;
    let input = body.value;
    input.validate()?;
    check_url(&input.url)?;
    let types = check_types(input.event_types.as_deref().unwrap_or(&["*".to_string()]))?;
    let secret = match &input.secret {
        Some(s) => {
            check_secret(s)?;
            s.clone()
        }
        None => new_secret()?,
    };
    let data = WebhookData {
        url: input.url.clone(),
        description: input.description.clone(),
        event_types: types,
        secret,
        active: input.active.unwrap_or(true),
    };
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let row = repo::insert(conn, &data, crate::db::now())?;
        let secret = row.secret.clone();
        let hook = Webhook::from(row);
        audit(
            conn,
            &actor,
            "create",
            ENTITY,
            hook.id,
            None::<&()>,
            Some(&hook),
        )?;
        Ok(Created {
            location: format!("/api/v1/webhooks/{}", hook.id),
            version: hook.version,
            body: serde_json::to_value(WebhookWithSecret {
                webhook: hook,
                secret,
            })
            .map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Get one subscription.
#[utoipa::path(
    tag = "integration",
    params(("id" = i64, Path, description = "Webhook id")),
    responses((status = 200, description = "The subscription", body = Webhook, headers(("ETag" = String))))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[])?;
    let id = path.into_inner();
    let row = state.db.read(move |c| Ok(repo::find(c, id)?)).await?;
    let hook = Webhook::from(row.ok_or_else(|| ApiError::not_found(ENTITY, id))?);
    Ok(with_etag(StatusCode::OK, hook.version, &hook))
}

/// Merge patch of a subscription; sending `secret` rotates it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 2000)]
    pub url: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<String>, max_items = 50)]
    pub event_types: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 16, max_length = 200)]
    pub secret: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = bool)]
    pub active: Option<Option<bool>>,
}

/// Change a subscription (`If-Match` required). Turning it off (`active: false`) stops new
/// deliveries; pending ones are still sent.
#[utoipa::path(
    tag = "integration",
    request_body(content = WebhookPatch, content_type = "application/merge-patch+json"),
    params(("id" = i64, Path, description = "Webhook id"), IfMatchHeader),
    responses((status = 200, description = "The changed subscription", body = Webhook, headers(("ETag" = String))))
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<WebhookPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[])?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let hook = state
        .db
        .write(move |conn| {
            let row = repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?;
            let before = Webhook::from(row.clone());
            let mut next = NewWebhook {
                url: row.url.clone(),
                description: row.description.clone(),
                event_types: Some(before.event_types.clone()),
                secret: Some(row.secret.clone()),
                active: Some(row.active),
            };
            let mut errors = Vec::new();
            patch_required(&mut next.url, patch.url, "url", &mut errors);
            if let Some(d) = patch.description {
                next.description = d;
            }
            let mut types = before.event_types.clone();
            patch_required(&mut types, patch.event_types, "event_types", &mut errors);
            next.event_types = Some(types.clone());
            let mut secret = row.secret.clone();
            patch_required(&mut secret, patch.secret, "secret", &mut errors);
            next.secret = Some(secret.clone());
            let mut active = row.active;
            patch_required(&mut active, patch.active, "active", &mut errors);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            next.validate()?;
            check_url(&next.url)?;
            check_secret(&secret)?;
            let event_types = check_types(&types)?;
            check_version(&expected, row.version)?;
            let data = WebhookData {
                url: next.url,
                description: next.description,
                event_types,
                secret,
                active,
            };
            let updated = repo::update(conn, id, row.version, &data, crate::db::now())?
                .ok_or_else(|| {
                    ApiError::PreconditionFailed("the webhook changed meanwhile".into())
                })?;
            let after = Webhook::from(updated);
            audit(
                conn,
                &caller,
                "update",
                ENTITY,
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, hook.version, &hook))
}

/// Delete a subscription with its delivery log (`If-Match` required).
#[utoipa::path(
    tag = "integration",
    params(("id" = i64, Path, description = "Webhook id"), IfMatchHeader),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/webhooks/{id}")]
pub async fn delete_webhook(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[])?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    state
        .db
        .write(move |conn| {
            let row = repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?;
            check_version(&expected, row.version)?;
            let before = Webhook::from(row.clone());
            if repo::delete(conn, id, row.version)? == 0 {
                return Err(ApiError::PreconditionFailed(
                    "the webhook changed meanwhile".into(),
                ));
            }
            audit(
                conn,
                &caller,
                "delete",
                ENTITY,
                id,
                Some(&before),
                None::<&()>,
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// One attempt to deliver.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i64>,
    pub error: Option<String>,
}

crate::domain::text_enum! {
    /// Where a delivery stands.
    DeliveryStatus {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
    }
}

/// One event to one subscriber, with its attempts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    /// `pending` (waiting or retrying), `delivered`, or `failed` (gave up; retry by hand).
    pub status: DeliveryStatus,
    pub event: Event,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub attempt_log: Vec<DeliveryAttempt>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    #[param(inline)]
    pub status: Option<DeliveryStatus>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The delivery log of a subscription, newest first.
#[utoipa::path(
    tag = "integration",
    params(("id" = i64, Path, description = "Webhook id"), DeliveryQuery),
    responses((status = 200, description = "Deliveries", body = Page<Delivery>))
)]
#[get("/webhooks/{id}/deliveries")]
pub async fn list_deliveries(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[])?;
    let id = path.into_inner();
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let status = q.status.map(|s| s.as_str());
    let page = state
        .db
        .read(move |conn| {
            if repo::find(conn, id)?.is_none() {
                return Err(ApiError::not_found(ENTITY, id));
            }
            let (rows, total) = repo::deliveries(conn, id, status, limit, offset)?;
            let ids: Vec<i64> = rows.iter().map(|(d, _)| d.id).collect();
            let attempts = repo::attempts_of(conn, &ids)?;
            let items = rows
                .into_iter()
                .map(|(d, e)| {
                    Ok(Delivery {
                        status: DeliveryStatus::parse(&d.status).ok_or_else(|| {
                            ApiError::Internal(format!("delivery {} has unknown status", d.id))
                        })?,
                        id: d.id,
                        webhook_id: d.webhook_id,
                        event: Event::try_from(e)?,
                        attempts: d.attempts,
                        next_attempt_at: (d.status == "pending")
                            .then(|| d.next_attempt_at.and_utc()),
                        last_status_code: d.last_status_code,
                        last_error: d.last_error,
                        delivered_at: d.delivered_at.map(|t| t.and_utc()),
                        created_at: d.created_at.and_utc(),
                        attempt_log: attempts
                            .iter()
                            .filter(|a| a.delivery_id == d.id)
                            .map(|a| DeliveryAttempt {
                                attempted_at: a.attempted_at.and_utc(),
                                duration_ms: a.duration_ms,
                                status_code: a.status_code,
                                error: a.error.clone(),
                            })
                            .collect(),
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok(Page {
                items,
                total,
                limit,
                offset,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Send a delivery again now (after it failed for good, or to replay it).
#[utoipa::path(
    tag = "integration",
    params(
        ("id" = i64, Path, description = "Webhook id"),
        ("delivery_id" = i64, Path, description = "Delivery id")
    ),
    responses((status = 202, description = "Queued"))
)]
#[post("/webhooks/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry_delivery(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(i64, i64)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[])?;
    let (id, delivery_id) = path.into_inner();
    state
        .db
        .write(move |conn| {
            let d = repo::find_delivery(conn, delivery_id)?
                .filter(|d| d.webhook_id == id)
                .ok_or_else(|| ApiError::not_found("delivery", delivery_id))?;
            repo::requeue(conn, d.id, crate::db::now())?;
            audit(
                conn,
                &caller,
                "retry",
                "webhook_delivery",
                d.id,
                None::<&()>,
                Some(&serde_json::json!({ "webhook_id": id, "event_seq": d.event_seq })),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Accepted().finish())
}
