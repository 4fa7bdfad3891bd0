//! `/api/v1/events`: the change feed. Every domain event, in one gap-free order that survives
//! restarts and is shared by all instances, so a client can sync by polling with a cursor.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::AppState;
use crate::auth::Caller;
use crate::db::events::{self as repo, EventRow, NewEvent};
use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_events);
}

/// Fields of a changed record that an event carries (ids, states, amounts; never personal
/// data). Fetch `href` for the whole record.
const SUMMARY_FIELDS: &[&str] = &[
    "title",
    "kind",
    "status",
    "stage",
    "outcome",
    "idea_id",
    "idea_ids",
    "family_id",
    "agreement_id",
    "application_id",
    "company_id",
    "funder_id",
    "organisation_id",
    "programme_kind",
    "office",
    "filing_type",
    "application_number",
    "decision",
    "received_on",
    "signed_on",
    "ended_on",
    "submitted_on",
    "decided_on",
    "amount",
    "amount_applied",
    "amount_awarded",
    "income_type",
    "version",
];

/// The event type of an audited change, or `None` for changes that are not domain events
/// (people's personal data, API keys, configuration, webhooks).
pub fn event_type(entity: &str, action: &str, after: Option<&Value>) -> Option<String> {
    let domain = [
        "idea",
        "disclosure",
        "milestone",
        "follow_up",
        "impact",
        "organisation",
        "patent_family",
        "patent_filing",
        "patent_cost",
        "agreement",
        "obligation",
        "income",
        "royalty_statement",
        "funding_application",
        "funding_payment",
        "collaboration_request",
    ];
    if !domain.contains(&entity) {
        return None;
    }
    let status = after.and_then(|a| a.get("status")).and_then(Value::as_str);
    let what = match (entity, action) {
        ("idea", "transition") => "stage_changed",
        ("idea", "rights_decision") => "rights_decided",
        ("idea", "rights_extension") => "rights_deadline_extended",
        ("idea", "set_inventors") => "inventors_changed",
        ("idea", "set_owners") => "owners_changed",
        ("idea", "checklist") => "checklist_changed",
        ("agreement", "transition") => match status {
            Some("active") => "signed",
            Some("terminated") => "terminated",
            Some("expired") => "expired",
            _ => "changed",
        },
        ("income", "create") => "received",
        ("income", "distribute") => "distributed",
        ("royalty_statement", "payment") => "paid",
        ("funding_payment", "create") => "received",
        (_, "create") => "created",
        (_, "update") => "updated",
        (_, "delete") => "deleted",
        (_, "transition") => "status_changed",
        (_, other) => other,
    };
    Some(format!("{entity}.{what}"))
}

/// The non-personal summary of a record that an event carries.
pub fn summary(record: Option<&Value>) -> Value {
    let mut out = Map::new();
    if let Some(Value::Object(fields)) = record {
        for key in SUMMARY_FIELDS {
            if let Some(v) = fields.get(*key) {
                out.insert((*key).to_string(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// Stages the domain event of an audited change, if it is one.
pub fn from_audit(
    caller: &Caller,
    action: &str,
    entity: &str,
    entity_id: i64,
    before: Option<&Value>,
    after: Option<&Value>,
) {
    if let Some(event_type) = event_type(entity, action, after) {
        let mut data = summary(after.or(before));
        if let (Some(Value::Object(b)), Value::Object(d)) = (before, &mut data) {
            for key in ["stage", "outcome", "status"] {
                if let Some(v) = b.get(key) {
                    if after.and_then(|a| a.get(key)) != Some(v) {
                        d.insert(format!("previous_{key}"), v.clone());
                    }
                }
            }
        }
        repo::stage(NewEvent {
            event_type,
            entity: entity.to_string(),
            entity_id,
            data,
            request_id: caller.request_id.clone(),
        });
    }
}

/// Stages an event that no audit record of its own describes (an idea moved by an agreement).
pub fn emit(caller: &Caller, event_type: &str, entity: &str, entity_id: i64, data: Value) {
    repo::stage(NewEvent {
        event_type: event_type.to_string(),
        entity: entity.to_string(),
        entity_id,
        data,
        request_id: caller.request_id.clone(),
    });
}

/// Where the record an event is about can be read.
pub fn href(entity: &str, id: i64) -> Option<String> {
    let path = match entity {
        "idea" => "ideas",
        "organisation" => "organisations",
        "patent_family" => "patent-families",
        "patent_filing" => "patent-filings",
        "agreement" => "agreements",
        "funding_application" => "funding-applications",
        "collaboration_request" => "collaboration-requests",
        _ => return None,
    };
    Some(format!("/api/v1/{path}/{id}"))
}

/// One change, as the feed and webhooks deliver it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Position in the feed: 1, 2, 3, … without gaps, in commit order. Use it as the cursor.
    pub seq: i64,
    /// `entity.what`, e.g. `idea.created`, `idea.stage_changed`, `idea.rights_decided`,
    /// `patent_filing.updated`, `agreement.signed`, `agreement.terminated`, `income.received`,
    /// `funding_application.updated`.
    #[serde(rename = "type")]
    pub event_type: String,
    pub entity: String,
    pub entity_id: i64,
    /// Where the whole record can be read, when it has an address of its own.
    pub href: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// A summary of the record after the change (ids, states, amounts; no personal data);
    /// `previous_stage` / `previous_status` / `previous_outcome` when those changed.
    #[schema(value_type = Object)]
    pub data: Value,
    /// The request that made the change (`X-Request-Id`).
    pub request_id: Option<String>,
}

impl TryFrom<EventRow> for Event {
    type Error = ApiError;

    fn try_from(r: EventRow) -> Result<Event, ApiError> {
        Ok(Event {
            href: href(&r.entity, r.entity_id),
            seq: r.seq,
            event_type: r.event_type,
            entity: r.entity,
            entity_id: r.entity_id,
            occurred_at: r.occurred_at.and_utc(),
            data: serde_json::from_str(&r.data_json).map_err(ApiError::internal)?,
            request_id: r.request_id,
        })
    }
}

/// A batch of the feed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EventBatch {
    pub items: Vec<Event>,
    /// Pass as `after` for the next batch (the last `seq` returned, or the `after` sent).
    pub next_cursor: i64,
    /// More events are already waiting after `next_cursor`.
    pub has_more: bool,
    /// The newest event's `seq` at the time of reading.
    pub last_seq: i64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Return events after this cursor (`seq`); 0 (default) starts at the beginning.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many events, 1–1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
    /// Only events of these types, comma-separated (e.g. `idea.created,agreement.signed`).
    #[param(max_length = 1000, pattern = "^[^\\x00]*$")]
    #[serde(rename = "type")]
    pub types: Option<String>,
}

/// Read the change feed from a cursor, oldest first. Poll with the returned `next_cursor`;
/// every change appears exactly once, in commit order, across restarts and instances.
#[utoipa::path(
    tag = "integration",
    params(EventQuery),
    responses((status = 200, description = "Events after the cursor", body = EventBatch))
)]
#[get("/events")]
pub async fn list_events(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let after = q.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::field("after", "range", "must be 0 or more"));
    }
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::field("limit", "range", "must be 1 to 1000"));
    }
    super::extract::check_query_text("type", &q.types, 1000)?;
    let types: Vec<String> = q
        .types
        .unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let (rows, last_seq) = state
        .db
        .read(move |conn| {
            let rows = repo::after(conn, after, &types, limit + 1)?;
            Ok((rows, repo::last_seq(conn)?))
        })
        .await?;
    let has_more = rows.len() as i64 > limit;
    let items = rows
        .into_iter()
        .take(limit as usize)
        .map(Event::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = items.last().map_or(after, |e| e.seq);
    Ok(HttpResponse::Ok().json(EventBatch {
        items,
        next_cursor,
        has_more,
        last_seq,
    }))
}
