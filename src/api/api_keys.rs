//! `/api/v1/api-keys`: key management (admin only). A key is shown once, when created; only its
//! hash is stored. Keys are not edited: they are revoked and replaced.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::extract::ApiJson;
use super::{audit, AppState};
use crate::auth::{create_key, Caller};
use crate::db::api_keys::{self as repo, ApiKeyRow};
use crate::domain::Role;
use crate::error::ApiError;

const ENTITY: &str = "api_key";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_api_keys)
        .service(create_api_key)
        .service(revoke_api_key);
}

/// An API key as listed: never the key itself.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = ApiError;
    fn try_from(r: ApiKeyRow) -> Result<Self, ApiError> {
        let role = Role::parse(&r.role).ok_or_else(|| {
            ApiError::Internal(format!("api key {} has unknown role {}", r.id, r.role))
        })?;
        Ok(ApiKey {
            id: r.id,
            name: r.name,
            role,
            prefix: r.prefix,
            created_at: r.created_at.and_utc(),
            expires_at: r.expires_at.map(|t| t.and_utc()),
            revoked_at: r.revoked_at.map(|t| t.and_utc()),
        })
    }
}

/// A new key's name, role and optional expiry.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "\\S",
        example = "grant-system"
    )]
    pub name: String,
    pub role: Role,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key just created: `key` is shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKey,
    /// The secret to send as `Authorization: Bearer KEY`. Not retrievable later.
    pub key: String,
}

/// List API keys (admin only).
#[utoipa::path(tag = "api-keys", responses((status = 200, description = "All keys", body = Vec<ApiKey>)))]
#[get("/api-keys")]
pub async fn list_api_keys(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let rows = state.db.read(|c| Ok(repo::list(c)?)).await?;
    let keys = rows
        .into_iter()
        .map(ApiKey::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(keys))
}

/// Create an API key (admin only). The response holds the key; it is not stored.
#[utoipa::path(
    tag = "api-keys",
    request_body = NewApiKey,
    responses((status = 201, description = "Created; the key is in the body", body = CreatedApiKey))
)]
#[post("/api-keys")]
pub async fn create_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<NewApiKey>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let input = body.into_inner();
    input.validate()?;
    if input.expires_at.is_some_and(|t| t <= Utc::now()) {
        return Err(ApiError::field(
            "expires_at",
            "past",
            "must be in the future",
        ));
    }
    let created = state
        .db
        .write(move |conn| {
            let (row, key) = create_key(
                conn,
                input.name.trim(),
                input.role,
                input.expires_at.map(|t| t.naive_utc()),
            )?;
            let api_key = ApiKey::try_from(row)?;
            audit(
                conn,
                &caller,
                "create",
                ENTITY,
                api_key.id,
                None::<&()>,
                Some(&api_key),
            )?;
            Ok(CreatedApiKey { api_key, key })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "Location",
            format!("/api/v1/api-keys/{}", created.api_key.id),
        ))
        .json(created))
}

/// Revoke an API key (admin only); it stops working at once. Revoking twice is harmless; a key
/// cannot revoke itself (409), so an admin cannot lock themselves out by mistake.
#[utoipa::path(
    tag = "api-keys",
    params(("id" = i64, Path, description = "API key id")),
    responses((status = 204, description = "Revoked"))
)]
#[delete("/api-keys/{id}")]
pub async fn revoke_api_key(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = path.into_inner();
    if id == caller.key_id {
        return Err(ApiError::Conflict {
            slug: "own-key",
            detail: "a key cannot revoke itself; revoke it with another admin key".into(),
            allowed: None,
        });
    }
    state
        .db
        .write(move |conn| {
            let before = ApiKey::try_from(
                repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?,
            )?;
            if repo::revoke(conn, id, crate::db::now())? > 0 {
                let after = ApiKey::try_from(
                    repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?,
                )?;
                audit(
                    conn,
                    &caller,
                    "revoke",
                    ENTITY,
                    id,
                    Some(&before),
                    Some(&after),
                )?;
            }
            Ok(())
        })
        .await?;
    state.keys.forget(id);
    Ok(HttpResponse::NoContent().finish())
}
