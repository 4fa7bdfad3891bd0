//! Records kept on an idea: public disclosures, milestones (with a portfolio-wide overdue list),
//! follow-ups of ideas that left the portfolio, and realised impacts.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::extract::{
    check_version, double_option, if_match, paging, patch_optional, patch_required, ApiJson,
    FteInput, IdempotencyKeyHeader, IfMatchHeader, Page,
};
use super::ideas::today;
use super::{audit, create_idempotent, with_etag, AppState, Created};
use crate::auth::Caller;
use crate::db::idea_records::{self as repo, DisclosureRow, FollowUpRow, ImpactRow, MilestoneRow};
use crate::db::{ideas, people, AnyConnection};
use crate::domain::money::{format_fte, parse_fte, Money};
use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_disclosures)
        .service(create_disclosure)
        .service(list_idea_milestones)
        .service(create_milestone)
        .service(update_milestone)
        .service(list_milestones)
        .service(list_idea_follow_ups)
        .service(create_follow_up)
        .service(update_follow_up)
        .service(list_follow_ups)
        .service(list_impacts)
        .service(create_impact);
}

fn idea_row(conn: &mut AnyConnection, id: i64) -> Result<ideas::IdeaRow, ApiError> {
    ideas::find(conn, id)?.ok_or_else(|| ApiError::not_found("idea", id))
}

fn check_person(conn: &mut AnyConnection, field: &str, id: Option<i64>) -> Result<(), ApiError> {
    if let Some(p) = id {
        if people::find(conn, p)?.is_none() {
            return Err(ApiError::field(
                field,
                "not_found",
                format!("person {p} does not exist"),
            ));
        }
    }
    Ok(())
}

fn not_future(field: &str, date: NaiveDate) -> Result<(), ApiError> {
    if date > today() {
        return Err(ApiError::field(field, "range", "cannot be in the future"));
    }
    Ok(())
}

// ---------------------------------------------------------------- disclosures

/// How an invention was made public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisclosureKind {
    Talk,
    Poster,
    Paper,
    Abstract,
    Thesis,
    Other,
}

impl DisclosureKind {
    fn as_str(self) -> &'static str {
        match self {
            DisclosureKind::Talk => "talk",
            DisclosureKind::Poster => "poster",
            DisclosureKind::Paper => "paper",
            DisclosureKind::Abstract => "abstract",
            DisclosureKind::Thesis => "thesis",
            DisclosureKind::Other => "other",
        }
    }

    fn parse(s: &str) -> DisclosureKind {
        [
            Self::Talk,
            Self::Poster,
            Self::Paper,
            Self::Abstract,
            Self::Thesis,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .unwrap_or(Self::Other)
    }
}

/// A public disclosure (talk, poster, paper, thesis…) of an invention.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Disclosure {
    pub id: i64,
    pub idea_id: i64,
    pub kind: DisclosureKind,
    pub disclosed_on: NaiveDate,
    /// Where: conference, journal, university.
    pub venue: String,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<DisclosureRow> for Disclosure {
    fn from(r: DisclosureRow) -> Self {
        Disclosure {
            id: r.id,
            idea_id: r.idea_id,
            kind: DisclosureKind::parse(&r.kind),
            disclosed_on: r.disclosed_on,
            venue: r.venue,
            note: r.note,
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDisclosure {
    pub kind: DisclosureKind,
    /// Not in the future.
    pub disclosed_on: NaiveDate,
    #[validate(
        length(min = 1, max = 300, message = "must be 1 to 300 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = "\\S",
        example = "ESC Congress 2026, Munich"
    )]
    pub venue: String,
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Public disclosures of an idea, earliest first.
#[utoipa::path(
    tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 200, description = "Disclosures", body = Vec<Disclosure>))
)]
#[get("/ideas/{id}/disclosures")]
pub async fn list_disclosures(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let rows = state
        .db
        .read(move |c| {
            idea_row(c, id)?;
            Ok(repo::disclosures_of(c, &[id])?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(Disclosure::from).collect::<Vec<_>>()))
}

/// Record a public disclosure. An invention disclosed before its patent priority date loses
/// novelty in most jurisdictions: the idea then carries a warning.
#[utoipa::path(
    tag = "ideas",
    request_body = NewDisclosure,
    params(("id" = i64, Path, description = "Idea id"), IdempotencyKeyHeader),
    responses((status = 201, description = "Recorded", body = Disclosure, headers(("Location" = String))))
)]
#[post("/ideas/{id}/disclosures")]
pub async fn create_disclosure(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<NewDisclosure>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.value;
    input.validate()?;
    not_future("disclosed_on", input.disclosed_on)?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        idea_row(conn, id)?;
        let row = repo::insert_disclosure(
            conn,
            &repo::NewDisclosure {
                idea_id: id,
                kind: input.kind.as_str().to_string(),
                disclosed_on: input.disclosed_on,
                venue: input.venue.trim().to_string(),
                note: input.note.clone(),
                created_at: crate::db::now(),
            },
        )?;
        let d = Disclosure::from(row);
        audit(
            conn,
            &actor,
            "create",
            "disclosure",
            d.id,
            None::<&()>,
            Some(&d),
        )?;
        Ok(Created {
            location: format!("/api/v1/ideas/{id}/disclosures"),
            version: 1,
            body: serde_json::to_value(&d).map_err(ApiError::internal)?,
        })
    })
    .await
}

// ---------------------------------------------------------------- milestones

/// A milestone of an idea's action plan.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Milestone {
    pub id: i64,
    pub idea_id: i64,
    pub title: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub owner_id: Option<i64>,
    /// Not done and past its due date.
    pub overdue: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Milestone {
    fn from_row(r: MilestoneRow, today: NaiveDate) -> Milestone {
        Milestone {
            overdue: r.done_on.is_none() && r.due_on < today,
            id: r.id,
            idea_id: r.idea_id,
            title: r.title,
            due_on: r.due_on,
            done_on: r.done_on,
            owner_id: r.owner_id,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMilestone {
    #[validate(
        length(min = 1, max = 300, message = "must be 1 to 300 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = "\\S",
        example = "Prototype validated in the ward"
    )]
    pub title: String,
    pub due_on: NaiveDate,
    #[serde(default)]
    pub done_on: Option<NaiveDate>,
    /// The person responsible.
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub owner_id: Option<i64>,
}

impl From<&NewMilestone> for repo::MilestoneData {
    fn from(m: &NewMilestone) -> Self {
        repo::MilestoneData {
            title: m.title.trim().to_string(),
            due_on: m.due_on,
            done_on: m.done_on,
            owner_id: m.owner_id,
        }
    }
}

/// Merge patch of a milestone: set `done_on` when it is reached.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestonePatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 300, pattern = "\\S")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = NaiveDate)]
    pub due_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub done_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub owner_id: Option<Option<i64>>,
}

/// The milestones of an idea, by due date.
#[utoipa::path(
    tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 200, description = "Milestones", body = Vec<Milestone>))
)]
#[get("/ideas/{id}/milestones")]
pub async fn list_idea_milestones(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let rows = state
        .db
        .read(move |c| {
            idea_row(c, id)?;
            Ok(repo::milestones_of(c, id)?)
        })
        .await?;
    let today = today();
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|r| Milestone::from_row(r, today))
            .collect::<Vec<_>>(),
    ))
}

/// Add a milestone to an idea.
#[utoipa::path(
    tag = "ideas",
    request_body = NewMilestone,
    params(("id" = i64, Path, description = "Idea id"), IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = Milestone, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/ideas/{id}/milestones")]
pub async fn create_milestone(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<NewMilestone>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.value;
    input.validate()?;
    if let Some(done) = input.done_on {
        not_future("done_on", done)?;
    }
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        idea_row(conn, id)?;
        check_person(conn, "owner_id", input.owner_id)?;
        let row = repo::insert_milestone(conn, id, &(&input).into(), crate::db::now())?;
        let m = Milestone::from_row(row, today());
        audit(
            conn,
            &actor,
            "create",
            "milestone",
            m.id,
            None::<&()>,
            Some(&m),
        )?;
        Ok(Created {
            location: format!("/api/v1/milestones/{}", m.id),
            version: m.version,
            body: serde_json::to_value(&m).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Change a milestone (merge patch; `If-Match` required).
#[utoipa::path(
    tag = "ideas",
    request_body(content = MilestonePatch, content_type = "application/merge-patch+json"),
    params(("id" = i64, Path, description = "Milestone id"), IfMatchHeader),
    responses((status = 200, description = "The changed milestone", body = Milestone, headers(("ETag" = String))))
)]
#[patch("/milestones/{id}")]
pub async fn update_milestone(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<MilestonePatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let m = state
        .db
        .write(move |conn| {
            let row = repo::find_milestone(conn, id)?
                .ok_or_else(|| ApiError::not_found("milestone", id))?;
            let before = Milestone::from_row(row.clone(), today());
            let mut next = NewMilestone {
                title: row.title.clone(),
                due_on: row.due_on,
                done_on: row.done_on,
                owner_id: row.owner_id,
            };
            let mut errors = Vec::new();
            patch_required(&mut next.title, patch.title, "title", &mut errors);
            patch_required(&mut next.due_on, patch.due_on, "due_on", &mut errors);
            patch_optional(&mut next.done_on, patch.done_on);
            patch_optional(&mut next.owner_id, patch.owner_id);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            next.validate()?;
            if let Some(done) = next.done_on {
                not_future("done_on", done)?;
            }
            check_version(&expected, row.version)?;
            check_person(conn, "owner_id", next.owner_id)?;
            let updated =
                repo::update_milestone(conn, id, row.version, &(&next).into(), crate::db::now())?
                    .ok_or_else(|| {
                    ApiError::PreconditionFailed("the milestone changed meanwhile".into())
                })?;
            let after = Milestone::from_row(updated, today());
            audit(
                conn,
                &caller,
                "update",
                "milestone",
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, m.version, &m))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DueStatus {
    /// Not done yet.
    Open,
    /// Not done and past the due date.
    Overdue,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DueQuery {
    /// `overdue` (default) or `open`.
    #[param(inline)]
    pub status: Option<DueStatus>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// A milestone with its idea's title, for the portfolio-wide list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MilestoneItem {
    #[serde(flatten)]
    pub milestone: Milestone,
    pub idea_title: String,
}

/// Milestones across the active portfolio that are overdue (or open), earliest first.
#[utoipa::path(
    tag = "ideas",
    params(DueQuery),
    responses((status = 200, description = "Milestones", body = Page<MilestoneItem>))
)]
#[get("/milestones")]
pub async fn list_milestones(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<DueQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let today = today();
    let before = match q.status.unwrap_or(DueStatus::Overdue) {
        DueStatus::Overdue => Some(today),
        DueStatus::Open => None,
    };
    let rows = state
        .db
        .read(move |c| Ok(repo::open_milestones(c, before)?))
        .await?;
    Ok(
        HttpResponse::Ok().json(Page::of(rows, limit, offset).map(|(r, idea_title)| {
            MilestoneItem {
                milestone: Milestone::from_row(r, today),
                idea_title,
            }
        })),
    )
}

// ---------------------------------------------------------------- follow-ups

/// A dated follow-up of an idea that left the portfolio (e.g. passed on to another body).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FollowUp {
    pub id: i64,
    pub idea_id: i64,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    /// What to check.
    pub note: Option<String>,
    /// What the follow-up found.
    pub result: Option<String>,
    pub overdue: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl FollowUp {
    fn from_row(r: FollowUpRow, today: NaiveDate) -> FollowUp {
        FollowUp {
            overdue: r.done_on.is_none() && r.due_on < today,
            id: r.id,
            idea_id: r.idea_id,
            due_on: r.due_on,
            done_on: r.done_on,
            note: r.note,
            result: r.result,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFollowUp {
    pub due_on: NaiveDate,
    #[serde(default)]
    pub done_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    #[serde(default)]
    #[validate(length(max = 5000, message = "must be at most 5000 characters"))]
    #[schema(max_length = 5000)]
    pub result: Option<String>,
}

impl From<&NewFollowUp> for repo::FollowUpData {
    fn from(f: &NewFollowUp) -> Self {
        repo::FollowUpData {
            due_on: f.due_on,
            done_on: f.done_on,
            note: f.note.clone(),
            result: f.result.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = NaiveDate)]
    pub due_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub done_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub note: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 5000)]
    pub result: Option<Option<String>>,
}

/// The follow-ups of an idea.
#[utoipa::path(
    tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 200, description = "Follow-ups", body = Vec<FollowUp>))
)]
#[get("/ideas/{id}/follow-ups")]
pub async fn list_idea_follow_ups(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let rows = state
        .db
        .read(move |c| {
            idea_row(c, id)?;
            Ok(repo::follow_ups_of(c, id)?)
        })
        .await?;
    let today = today();
    Ok(HttpResponse::Ok().json(
        rows.into_iter()
            .map(|r| FollowUp::from_row(r, today))
            .collect::<Vec<_>>(),
    ))
}

/// Plan a follow-up of an idea that has left the portfolio (409 while it is still active).
#[utoipa::path(
    tag = "ideas",
    request_body = NewFollowUp,
    params(("id" = i64, Path, description = "Idea id"), IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = FollowUp, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/ideas/{id}/follow-ups")]
pub async fn create_follow_up(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<NewFollowUp>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.value;
    input.validate()?;
    if let Some(done) = input.done_on {
        not_future("done_on", done)?;
    }
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let idea = idea_row(conn, id)?;
        if idea.outcome.is_none() {
            return Err(ApiError::Conflict {
                slug: "idea-still-active",
                detail: "follow-ups are for ideas that have left the portfolio; this one is still active".into(),
                allowed: None,
            });
        }
        let row = repo::insert_follow_up(conn, id, &(&input).into(), crate::db::now())?;
        let f = FollowUp::from_row(row, today());
        audit(conn, &actor, "create", "follow_up", f.id, None::<&()>, Some(&f))?;
        Ok(Created {
            location: format!("/api/v1/follow-ups/{}", f.id),
            version: f.version,
            body: serde_json::to_value(&f).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Change a follow-up, e.g. record its result (merge patch; `If-Match` required).
#[utoipa::path(
    tag = "ideas",
    request_body(content = FollowUpPatch, content_type = "application/merge-patch+json"),
    params(("id" = i64, Path, description = "Follow-up id"), IfMatchHeader),
    responses((status = 200, description = "The changed follow-up", body = FollowUp, headers(("ETag" = String))))
)]
#[patch("/follow-ups/{id}")]
pub async fn update_follow_up(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<FollowUpPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let f = state
        .db
        .write(move |conn| {
            let row = repo::find_follow_up(conn, id)?
                .ok_or_else(|| ApiError::not_found("follow-up", id))?;
            let before = FollowUp::from_row(row.clone(), today());
            let mut next = NewFollowUp {
                due_on: row.due_on,
                done_on: row.done_on,
                note: row.note.clone(),
                result: row.result.clone(),
            };
            let mut errors = Vec::new();
            patch_required(&mut next.due_on, patch.due_on, "due_on", &mut errors);
            patch_optional(&mut next.done_on, patch.done_on);
            patch_optional(&mut next.note, patch.note);
            patch_optional(&mut next.result, patch.result);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            next.validate()?;
            if let Some(done) = next.done_on {
                not_future("done_on", done)?;
            }
            check_version(&expected, row.version)?;
            let updated =
                repo::update_follow_up(conn, id, row.version, &(&next).into(), crate::db::now())?
                    .ok_or_else(|| {
                    ApiError::PreconditionFailed("the follow-up changed meanwhile".into())
                })?;
            let after = FollowUp::from_row(updated, today());
            audit(
                conn,
                &caller,
                "update",
                "follow_up",
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, f.version, &f))
}

/// A follow-up with its idea's title, for the portfolio-wide list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FollowUpItem {
    #[serde(flatten)]
    pub follow_up: FollowUp,
    pub idea_title: String,
}

/// Follow-ups across the portfolio that are overdue (or open), earliest first.
#[utoipa::path(
    tag = "ideas",
    params(DueQuery),
    responses((status = 200, description = "Follow-ups", body = Page<FollowUpItem>))
)]
#[get("/follow-ups")]
pub async fn list_follow_ups(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<DueQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let today = today();
    let before = match q.status.unwrap_or(DueStatus::Overdue) {
        DueStatus::Overdue => Some(today),
        DueStatus::Open => None,
    };
    let rows = state
        .db
        .read(move |c| Ok(repo::open_follow_ups(c, before)?))
        .await?;
    Ok(HttpResponse::Ok().json(
        Page::of(rows, limit, offset).map(|(r, idea_title)| FollowUpItem {
            follow_up: FollowUp::from_row(r, today),
            idea_title,
        }),
    ))
}

// ---------------------------------------------------------------- impacts

/// A realised effect of an idea, with its evidence (used by management reports).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Impact {
    pub id: i64,
    pub idea_id: i64,
    pub recorded_on: NaiveDate,
    /// Documented savings per year.
    pub yearly_savings: Option<Money>,
    /// Full-time equivalents freed per year.
    pub fte: Option<String>,
    pub adverse_events_avoided: Option<i64>,
    pub evidence: String,
    pub created_at: DateTime<Utc>,
}

impl From<ImpactRow> for Impact {
    fn from(r: ImpactRow) -> Self {
        Impact {
            id: r.id,
            idea_id: r.idea_id,
            recorded_on: r.recorded_on,
            yearly_savings: match (r.savings_minor, r.savings_currency) {
                (Some(amount_minor), Some(currency)) => Some(Money {
                    amount_minor,
                    currency,
                }),
                _ => None,
            },
            fte: r.fte_centi.map(format_fte),
            adverse_events_avoided: r.adverse_events_avoided,
            evidence: r.evidence,
            created_at: r.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewImpact {
    /// Default today; not in the future.
    #[serde(default)]
    pub recorded_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(nested)]
    pub yearly_savings: Option<Money>,
    /// Decimal with at most 2 places.
    #[serde(default)]
    pub fte: Option<FteInput>,
    #[serde(default)]
    #[validate(range(min = 0, max = 1000000, message = "must be between 0 and 1000000"))]
    #[schema(minimum = 0, maximum = 1000000)]
    pub adverse_events_avoided: Option<i64>,
    /// What documents the effect (report, audit, measurement).
    #[validate(
        length(min = 1, max = 5000, message = "must be 1 to 5000 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(min_length = 1, max_length = 5000, pattern = "\\S")]
    pub evidence: String,
}

/// Realised impacts of an idea.
#[utoipa::path(
    tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 200, description = "Impacts", body = Vec<Impact>))
)]
#[get("/ideas/{id}/impacts")]
pub async fn list_impacts(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let rows = state
        .db
        .read(move |c| {
            idea_row(c, id)?;
            Ok(repo::impacts_of(c, id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(Impact::from).collect::<Vec<_>>()))
}

/// Record a realised impact (savings, FTE freed, adverse events avoided) with its evidence.
#[utoipa::path(
    tag = "ideas",
    request_body = NewImpact,
    params(("id" = i64, Path, description = "Idea id"), IdempotencyKeyHeader),
    responses((status = 201, description = "Recorded", body = Impact, headers(("Location" = String))))
)]
#[post("/ideas/{id}/impacts")]
pub async fn create_impact(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<NewImpact>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.value;
    input.validate()?;
    let recorded_on = input.recorded_on.unwrap_or_else(today);
    not_future("recorded_on", recorded_on)?;
    let fte = match &input.fte {
        Some(t) => Some(parse_fte(&t.0 .0).ok_or_else(|| {
            ApiError::field(
                "fte",
                "decimal",
                "must be a decimal with at most 2 places, e.g. 0.5",
            )
        })?),
        None => None,
    };
    if input.yearly_savings.is_none() && fte.is_none() && input.adverse_events_avoided.is_none() {
        return Err(ApiError::field(
            "yearly_savings",
            "required",
            "give at least one of yearly_savings, fte, adverse_events_avoided",
        ));
    }
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        idea_row(conn, id)?;
        let row = repo::insert_impact(
            conn,
            &repo::NewImpact {
                idea_id: id,
                recorded_on,
                savings_minor: input.yearly_savings.as_ref().map(|m| m.amount_minor),
                savings_currency: input.yearly_savings.as_ref().map(|m| m.currency.clone()),
                fte_centi: fte,
                adverse_events_avoided: input.adverse_events_avoided,
                evidence: input.evidence.trim().to_string(),
                created_at: crate::db::now(),
            },
        )?;
        let i = Impact::from(row);
        audit(
            conn,
            &actor,
            "create",
            "impact",
            i.id,
            None::<&()>,
            Some(&i),
        )?;
        Ok(Created {
            location: format!("/api/v1/ideas/{id}/impacts"),
            version: 1,
            body: serde_json::to_value(&i).map_err(ApiError::internal)?,
        })
    })
    .await
}
