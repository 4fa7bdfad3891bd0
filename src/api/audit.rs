//! `/api/v1/audit`: the audit log (admin only).

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{check_query_text, paging, text_filter, Page};
use super::AppState;
use crate::auth::Caller;
use crate::db::audit::{self as repo, AuditFilter, AuditRow};
use crate::domain::Role;
use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit_entries);
}

/// One recorded mutation.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Name of the API key that made the change.
    pub actor: String,
    pub actor_key_id: Option<i64>,
    /// `create`, `update`, `delete`, or a domain action such as `transition`.
    pub action: String,
    pub entity: String,
    pub entity_id: i64,
    /// The entity before the change (absent for creates).
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    /// The entity after the change (absent for deletes).
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// The `X-Request-Id` of the request that made the change.
    pub request_id: Option<String>,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        AuditEntry {
            id: r.id,
            at: r.at.and_utc(),
            actor: r.actor,
            actor_key_id: r.actor_key_id,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            before: parse(r.before_json),
            after: parse(r.after_json),
            request_id: r.request_id,
        }
    }
}

/// Filters and paging for the audit log (newest first).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entity type, e.g. `organisation`.
    #[param(max_length = 200, pattern = "^[^\\x00]*$")]
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    /// API key name.
    #[param(max_length = 200, pattern = "^[^\\x00]*$")]
    pub actor: Option<String>,
    #[param(max_length = 200, pattern = "^[^\\x00]*$")]
    pub action: Option<String>,
    /// Changes at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Changes before this time.
    pub to: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// List audit entries (admin only).
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses((status = 200, description = "A page of audit entries, newest first", body = Page<AuditEntry>))
)]
#[get("/audit")]
pub async fn list_audit_entries(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    for (name, v) in [
        ("entity", &q.entity),
        ("actor", &q.actor),
        ("action", &q.action),
    ] {
        check_query_text(name, v, 200)?;
    }
    let filter = AuditFilter {
        entity: text_filter(q.entity),
        entity_id: q.entity_id,
        actor: text_filter(q.actor),
        action: text_filter(q.action),
        from: q.from.map(|t| t.naive_utc()),
        to: q.to.map(|t| t.naive_utc()),
    };
    let (rows, total) = state
        .db
        .read(move |c| Ok(repo::list(c, &filter, limit, offset)?))
        .await?;
    let items = rows.into_iter().map(AuditEntry::from).collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        total,
        limit,
        offset,
    }))
}
