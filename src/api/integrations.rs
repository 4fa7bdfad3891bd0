//! `/api/v1/integrations/{system}/…`: create-or-update by an external system's own reference.
//!
//! A grant system (or an intake form) PUTs its record under its own reference with the time it
//! last changed it in the source (`source_updated_at`). Retries of the same version change
//! nothing; an older version than the one stored is refused with 409 and changes nothing; a
//! newer one replaces the client fields. The mapping (system, resource, reference) → our id is
//! unique in the database, so concurrent first PUTs create one record.

use actix_web::http::{header, StatusCode};
use actix_web::{put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::ApiJson;
use super::funding::{
    application_of, change_application, check_application, insert_application, FundingApplication,
    NewFundingApplication, APPLICATION,
};
use super::ideas::{self, Idea, NewIdea};
use super::AppState;
use crate::auth::{sha256_hex, Caller};
use crate::db::funding as repo;
use crate::db::AnyConnection;
use crate::domain::Role;
use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(put_funding_application).service(put_idea);
}

/// A funding application as a grant system pushes it.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundingUpsert {
    /// When the source system last changed this record (RFC 3339). An update older than the
    /// stored one is refused.
    pub source_updated_at: DateTime<Utc>,
    pub data: NewFundingApplication,
}

/// An idea as an intake form pushes it.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdeaUpsert {
    /// When the source system last changed this record (RFC 3339).
    pub source_updated_at: DateTime<Utc>,
    pub data: NewIdea,
}

/// `system` and `external_ref` as given in the path, checked.
fn check_path(system: &str, external_ref: &str) -> Result<(), ApiError> {
    let ok_system = !system.is_empty()
        && system.len() <= 50
        && system
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !ok_system {
        return Err(ApiError::field(
            "path.system",
            "pattern",
            "must be 1 to 50 lower-case letters, digits, '-' or '_'",
        ));
    }
    if external_ref.trim().is_empty()
        || external_ref.chars().count() > 200
        || external_ref.chars().any(char::is_control)
    {
        return Err(ApiError::field(
            "path.external_ref",
            "pattern",
            "must be 1 to 200 characters without control characters",
        ));
    }
    Ok(())
}

/// What an upsert did.
enum Outcome<T> {
    Created(T),
    Updated(T),
    Unchanged(T),
}

/// Retries an upsert transaction that lost a race (another first PUT of the same reference, or
/// a concurrent change), so the caller sees the final answer, never the race.
async fn with_retries<T, F>(state: &AppState, f: F) -> Result<Outcome<T>, ApiError>
where
    F: Fn(&mut AnyConnection) -> Result<Outcome<T>, ApiError> + Send + Sync + Clone + 'static,
    T: Send + 'static,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let f = f.clone();
        match state.db.write(move |conn| f(conn)).await {
            Err(ApiError::Conflict { slug: RACE, .. }) | Err(ApiError::PreconditionFailed(_))
                if attempt < 5 =>
            {
                continue
            }
            Err(ApiError::Conflict { slug: RACE, .. }) | Err(ApiError::PreconditionFailed(_)) => {
                return Err(ApiError::Unavailable(
                    "too many concurrent changes of this record; retry".into(),
                ))
            }
            other => return other,
        }
    }
}

const RACE: &str = "integration-race";

fn race() -> ApiError {
    ApiError::Conflict {
        slug: RACE,
        detail: String::new(),
        allowed: None,
    }
}

fn unique_race(e: diesel::result::Error) -> ApiError {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ) => race(),
        other => other.into(),
    }
}

/// Decides what a PUT of `source_updated_at` means for the stored reference: `Ok(None)` to
/// create, `Ok(Some(ref))` to update, or the answer for a retry / stale update.
fn compare(
    stored: &repo::RefRow,
    incoming: chrono::NaiveDateTime,
    hash: &str,
) -> Result<bool, ApiError> {
    if incoming < stored.source_updated_at {
        return Err(ApiError::Conflict {
            slug: "stale-update",
            detail: format!(
                "the stored version is from {} (source time); this update is from {} and older, \
                 so it was not applied",
                stored.source_updated_at.and_utc().to_rfc3339(),
                incoming.and_utc().to_rfc3339()
            ),
            allowed: None,
        });
    }
    if incoming == stored.source_updated_at {
        if stored.payload_hash == hash {
            return Ok(false);
        }
        return Err(ApiError::Conflict {
            slug: "same-version-different-data",
            detail: "this source_updated_at was already stored with other data; send the newer \
                     source time with a change"
                .into(),
            allowed: None,
        });
    }
    Ok(true)
}

fn respond<T: Serialize>(
    outcome: Outcome<T>,
    location: impl Fn(&T) -> String,
    version: impl Fn(&T) -> i64,
) -> HttpResponse {
    let (status, body, replayed) = match outcome {
        Outcome::Created(b) => (StatusCode::CREATED, b, false),
        Outcome::Updated(b) => (StatusCode::OK, b, false),
        Outcome::Unchanged(b) => (StatusCode::OK, b, true),
    };
    let mut res = HttpResponse::build(status);
    res.insert_header((header::ETAG, crate::domain::etag(version(&body))));
    res.insert_header((header::CONTENT_LOCATION, location(&body)));
    if status == StatusCode::CREATED {
        res.insert_header((header::LOCATION, location(&body)));
    }
    if replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    res.json(body)
}

/// Create or update a funding application by the grant system's own reference. 201 when it
/// was created, 200 when updated or when this exact version was already stored; 409 when the
/// stored version is newer (nothing changes). Validation errors name the field path
/// (`data.amount_applied.currency`).
#[utoipa::path(
    tag = "integration",
    request_body = FundingUpsert,
    params(
        ("system" = String, Path, description = "The source system's name, e.g. `region-grants`", pattern = "^[a-z0-9_-]{1,50}$"),
        ("external_ref" = String, Path, description = "The source system's own reference")
    ),
    responses(
        (status = 200, description = "Updated, or already up to date", body = FundingApplication, headers(("ETag" = String))),
        (status = 201, description = "Created", body = FundingApplication, headers(("Location" = String), ("ETag" = String)))
    )
)]
#[put("/integrations/{system}/funding-applications/{external_ref}")]
pub async fn put_funding_application(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: ApiJson<FundingUpsert>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Integration])?;
    let (system, external_ref) = path.into_inner();
    check_path(&system, &external_ref)?;
    let hash = sha256_hex(
        serde_json::to_string(&body.value.data)
            .map_err(ApiError::internal)?
            .as_bytes(),
    );
    let input = std::sync::Arc::new(body.into_inner());
    let incoming = truncate(input.source_updated_at);
    let outcome = with_retries(&state, move |conn| {
        let at = crate::db::now();
        match repo::find_ref(conn, &system, APPLICATION, &external_ref)? {
            None => {
                let data = check_application(conn, &input.data, None, "data.")?;
                let created = insert_application(conn, &caller, &data)?;
                repo::insert_ref(
                    conn,
                    &repo::RefKey {
                        system: &system,
                        resource: APPLICATION,
                        external_ref: &external_ref,
                    },
                    created.id,
                    incoming,
                    &hash,
                    at,
                )
                .map_err(unique_race)?;
                let created = reload_application(conn, created.id)?;
                Ok(Outcome::Created(created))
            }
            Some(stored) => {
                let changed = compare(&stored, incoming, &hash)?;
                let row = repo::find_application(conn, stored.entity_id)?
                    .ok_or_else(|| ApiError::not_found(APPLICATION, stored.entity_id))?;
                let before = application_of(conn, row)?;
                if !changed {
                    return Ok(Outcome::Unchanged(before));
                }
                if repo::advance_ref(
                    conn,
                    stored.id,
                    stored.source_updated_at,
                    incoming,
                    &hash,
                    at,
                )? == 0
                {
                    return Err(race());
                }
                let data = check_application(conn, &input.data, Some(before.status), "data.")?;
                let after = change_application(conn, &caller, &before, &data)?;
                Ok(Outcome::Updated(after))
            }
        }
    })
    .await?;
    Ok(respond(
        outcome,
        |a: &FundingApplication| format!("/api/v1/funding-applications/{}", a.id),
        |a| a.version,
    ))
}

fn reload_application(conn: &mut AnyConnection, id: i64) -> Result<FundingApplication, ApiError> {
    let row =
        repo::find_application(conn, id)?.ok_or_else(|| ApiError::not_found(APPLICATION, id))?;
    application_of(conn, row)
}

/// Source times are kept to the microsecond, as all timestamps are.
fn truncate(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    use chrono::{DurationRound, TimeDelta};
    let t = t.naive_utc();
    t.duration_trunc(TimeDelta::microseconds(1)).unwrap_or(t)
}

/// Create or update an idea pushed from an intake form, by the form system's own reference.
/// Same rules as for funding applications; stage and outcome stay with the unit (transitions).
#[utoipa::path(
    tag = "integration",
    request_body = IdeaUpsert,
    params(
        ("system" = String, Path, description = "The source system's name, e.g. `intake-form`", pattern = "^[a-z0-9_-]{1,50}$"),
        ("external_ref" = String, Path, description = "The source system's own reference")
    ),
    responses(
        (status = 200, description = "Updated, or already up to date", body = Idea, headers(("ETag" = String))),
        (status = 201, description = "Created", body = Idea, headers(("Location" = String), ("ETag" = String)))
    )
)]
#[put("/integrations/{system}/ideas/{external_ref}")]
pub async fn put_idea(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(String, String)>,
    body: ApiJson<IdeaUpsert>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Integration])?;
    let (system, external_ref) = path.into_inner();
    check_path(&system, &external_ref)?;
    let hash = sha256_hex(
        serde_json::to_string(&body.value.data)
            .map_err(ApiError::internal)?
            .as_bytes(),
    );
    let input = std::sync::Arc::new(body.into_inner());
    if let Err(e) = validator::Validate::validate(&input.data) {
        return Err(prefixed(e.into(), "data."));
    }
    ideas::check_received_on(input.data.received_on).map_err(|e| prefixed(e, "data."))?;
    let incoming = truncate(input.source_updated_at);
    let outcome = with_retries(&state, move |conn| {
        let at = crate::db::now();
        match repo::find_ref(conn, &system, "idea", &external_ref)? {
            None => {
                let created = ideas::create_idea_in(conn, &caller, &input.data)
                    .map_err(|e| prefixed(e, "data."))?;
                repo::insert_ref(
                    conn,
                    &repo::RefKey {
                        system: &system,
                        resource: "idea",
                        external_ref: &external_ref,
                    },
                    created.id,
                    incoming,
                    &hash,
                    at,
                )
                .map_err(unique_race)?;
                Ok(Outcome::Created(created))
            }
            Some(stored) => {
                let changed = compare(&stored, incoming, &hash)?;
                let row = ideas::load(conn, stored.entity_id)?;
                let before = ideas::idea_of(conn, row.clone(), caller.role)?;
                if !changed {
                    return Ok(Outcome::Unchanged(before));
                }
                if repo::advance_ref(
                    conn,
                    stored.id,
                    stored.source_updated_at,
                    incoming,
                    &hash,
                    at,
                )? == 0
                {
                    return Err(race());
                }
                let after = ideas::save_idea(conn, &caller, row, &before, &input.data, None)
                    .map_err(|e| prefixed(e, "data."))?;
                Ok(Outcome::Updated(after))
            }
        }
    })
    .await?;
    Ok(respond(
        outcome,
        |i: &Idea| format!("/api/v1/ideas/{}", i.id),
        |i| i.version,
    ))
}

/// Puts `prefix` before the field paths of a validation error.
fn prefixed(e: ApiError, prefix: &str) -> ApiError {
    match e {
        ApiError::Validation(errors) => ApiError::Validation(
            errors
                .into_iter()
                .map(|mut f| {
                    f.field = format!("{prefix}{}", f.field);
                    f
                })
                .collect(),
        ),
        other => other,
    }
}
