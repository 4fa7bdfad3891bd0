//! `/api/v1/funding-applications` (external funding: grants, foundations, EU programmes, the
//! internal proof-of-concept pool) and `/api/v1/collaboration-requests` (companies asking for a
//! development collaboration with a clinical department).

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::extract::{
    check_version, double_option, if_match, paging, patch_optional, patch_required, ApiJson,
    IdempotencyKeyHeader, IfMatchHeader, Page,
};
use super::ideas::today;
use super::{audit, create_idempotent, with_etag, AppState, Created};
use crate::auth::Caller;
use crate::db::funding::{
    self as repo, ApplicationData, ApplicationRow, CollaborationData, CollaborationRow,
};
use crate::db::{deals, ideas, organisations, AnyConnection};
use crate::domain::money::Money;
use crate::error::{ApiError, FieldError};

pub const APPLICATION: &str = "funding_application";
const COLLABORATION: &str = "collaboration_request";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_applications)
        .service(create_application)
        .service(get_application)
        .service(update_application)
        .service(list_payments)
        .service(create_payment)
        .service(list_collaborations)
        .service(create_collaboration)
        .service(get_collaboration)
        .service(update_collaboration);
}

crate::domain::text_enum! {
    /// The kind of funding programme.
    ProgrammeKind {
        NationalFund = "national_fund",
        RegionalFund = "regional_fund",
        PrivateFoundation = "private_foundation",
        EuProgramme = "eu_programme",
        ProofOfConcept = "proof_of_concept",
        Industry = "industry",
        Other = "other",
    }
}

crate::domain::text_enum! {
    /// Where a funding application stands.
    FundingStatus {
        Draft = "draft",
        Submitted = "submitted",
        Awarded = "awarded",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
    }
}

impl FundingStatus {
    /// The statuses an application may move to from this one.
    pub fn next(self) -> &'static [FundingStatus] {
        use FundingStatus::*;
        match self {
            Draft => &[Submitted, Withdrawn],
            Submitted => &[Awarded, Rejected, Withdrawn, Draft],
            Awarded => &[Withdrawn],
            Rejected | Withdrawn => &[],
        }
    }
}

/// Where a reference from an external system points.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExternalRef {
    pub system: String,
    pub external_ref: String,
    /// The source system's own time of the version last accepted.
    pub source_updated_at: DateTime<Utc>,
}

impl From<repo::RefRow> for ExternalRef {
    fn from(r: repo::RefRow) -> Self {
        ExternalRef {
            system: r.system,
            external_ref: r.external_ref,
            source_updated_at: r.source_updated_at.and_utc(),
        }
    }
}

/// An application for external (or internal proof-of-concept) funding.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FundingApplication {
    pub id: i64,
    pub title: String,
    /// The funder (an organisation, usually of kind `funder`).
    pub funder_id: i64,
    pub funder_name: String,
    /// The programme's name, e.g. "Innobooster" or "Horizon Europe EIC Pathfinder".
    pub programme: String,
    pub programme_kind: ProgrammeKind,
    /// The idea the funding is for; absent for funding of the unit itself.
    pub idea_id: Option<i64>,
    pub status: FundingStatus,
    pub amount_applied: Money,
    /// What the unit or partners contribute themselves.
    pub own_cofinancing: Option<Money>,
    /// The funder's share of the budget in basis points (7500 = 75 %).
    pub grant_rate_bp: Option<i64>,
    pub amount_awarded: Option<Money>,
    /// Sum of the payments received so far.
    pub amount_received: Money,
    pub submitted_on: Option<NaiveDate>,
    /// The day of the funder's decision (awarded or rejected).
    pub decided_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    pub project_start: Option<NaiveDate>,
    pub project_end: Option<NaiveDate>,
    /// The funder's own reference (case number).
    pub funder_reference: Option<String>,
    pub notes: Option<String>,
    /// References that external systems (grant systems) use for this application.
    pub external_refs: Vec<ExternalRef>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Reads an application with its funder's name, payments total and external references.
pub fn application_of(
    conn: &mut AnyConnection,
    row: ApplicationRow,
) -> Result<FundingApplication, ApiError> {
    let funder_name = organisations::find(conn, row.funder_id)?
        .map(|o| o.name)
        .unwrap_or_default();
    let received: i64 = repo::payments_of(conn, &[row.id])?
        .iter()
        .map(|p| p.amount_minor)
        .sum();
    let refs = repo::refs_of(conn, APPLICATION, row.id)?;
    build_application(row, funder_name, received, refs)
}

fn build_application(
    row: ApplicationRow,
    funder_name: String,
    received: i64,
    refs: Vec<repo::RefRow>,
) -> Result<FundingApplication, ApiError> {
    let corrupt = |what: &str| {
        ApiError::Internal(format!("funding application {} has unknown {what}", row.id))
    };
    let money = |amount_minor: i64| Money {
        amount_minor,
        currency: row.currency.clone(),
    };
    Ok(FundingApplication {
        id: row.id,
        title: row.title.clone(),
        funder_id: row.funder_id,
        funder_name,
        programme: row.programme.clone(),
        programme_kind: ProgrammeKind::parse(&row.programme_kind)
            .ok_or_else(|| corrupt("programme kind"))?,
        idea_id: row.idea_id,
        status: FundingStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
        amount_applied: money(row.amount_applied_minor),
        own_cofinancing: row.own_cofinancing_minor.map(money),
        grant_rate_bp: row.grant_rate_bp,
        amount_awarded: row.amount_awarded_minor.map(money),
        amount_received: money(received),
        submitted_on: row.submitted_on,
        decided_on: row.decided_on,
        withdrawn_on: row.withdrawn_on,
        project_start: row.project_start,
        project_end: row.project_end,
        funder_reference: row.funder_reference.clone(),
        notes: row.notes.clone(),
        external_refs: refs.into_iter().map(ExternalRef::from).collect(),
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

/// The fields of a funding application a client sets.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFundingApplication {
    #[validate(
        length(min = 1, max = 300, message = "must be 1 to 300 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = "\\S",
        example = "Smart infusion pump, clinical validation"
    )]
    pub title: String,
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub funder_id: i64,
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "\\S",
        example = "Innobooster"
    )]
    pub programme: String,
    pub programme_kind: ProgrammeKind,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub idea_id: Option<i64>,
    /// Default `draft`.
    #[serde(default)]
    pub status: Option<FundingStatus>,
    #[validate(nested)]
    pub amount_applied: Money,
    #[serde(default)]
    #[validate(nested)]
    pub own_cofinancing: Option<Money>,
    #[serde(default)]
    #[validate(range(min = 0, max = 10000, message = "must be 0 to 10000 basis points"))]
    #[schema(minimum = 0, maximum = 10000, example = 7500)]
    pub grant_rate_bp: Option<i64>,
    #[serde(default)]
    #[validate(nested)]
    pub amount_awarded: Option<Money>,
    #[serde(default)]
    pub submitted_on: Option<NaiveDate>,
    #[serde(default)]
    pub decided_on: Option<NaiveDate>,
    #[serde(default)]
    pub withdrawn_on: Option<NaiveDate>,
    #[serde(default)]
    pub project_start: Option<NaiveDate>,
    #[serde(default)]
    pub project_end: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[schema(max_length = 200)]
    pub funder_reference: Option<String>,
    #[serde(default)]
    #[validate(length(max = 10000, message = "must be at most 10000 characters"))]
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
}

impl NewFundingApplication {
    fn of(a: &FundingApplication) -> NewFundingApplication {
        NewFundingApplication {
            title: a.title.clone(),
            funder_id: a.funder_id,
            programme: a.programme.clone(),
            programme_kind: a.programme_kind,
            idea_id: a.idea_id,
            status: Some(a.status),
            amount_applied: a.amount_applied.clone(),
            own_cofinancing: a.own_cofinancing.clone(),
            grant_rate_bp: a.grant_rate_bp,
            amount_awarded: a.amount_awarded.clone(),
            submitted_on: a.submitted_on,
            decided_on: a.decided_on,
            withdrawn_on: a.withdrawn_on,
            project_start: a.project_start,
            project_end: a.project_end,
            funder_reference: a.funder_reference.clone(),
            notes: a.notes.clone(),
        }
    }
}

/// Checks an application as a whole (field paths prefixed with `prefix`) against the database
/// and, for a change, the status it moves from; returns what is stored.
pub fn check_application(
    conn: &mut AnyConnection,
    input: &NewFundingApplication,
    from: Option<FundingStatus>,
    prefix: &str,
) -> Result<ApplicationData, ApiError> {
    if let Err(e) = input.validate() {
        let ApiError::Validation(errors) = ApiError::from(e) else {
            return Err(ApiError::BadRequest("invalid input".into()));
        };
        return Err(ApiError::Validation(
            errors
                .into_iter()
                .map(|mut f| {
                    f.field = format!("{prefix}{}", f.field);
                    f
                })
                .collect(),
        ));
    }
    let status = input.status.unwrap_or(FundingStatus::Draft);
    if let Some(from) = from {
        if from != status && !from.next().contains(&status) {
            return Err(ApiError::Conflict {
                slug: "transition-not-allowed",
                detail: format!(
                    "a funding application cannot go from {} to {}",
                    from.as_str(),
                    status.as_str()
                ),
                allowed: Some(from.next().iter().map(|s| s.as_str().to_string()).collect()),
            });
        }
    }
    let mut errors = Vec::new();
    let mut err = |field: &str, code: &str, message: String| {
        errors.push(FieldError::new(format!("{prefix}{field}"), code, message));
    };
    let currency = input.amount_applied.currency.clone();
    if input.amount_applied.amount_minor < 0 {
        err(
            "amount_applied.amount_minor",
            "range",
            "must not be negative".into(),
        );
    }
    for (field, m) in [
        ("own_cofinancing", &input.own_cofinancing),
        ("amount_awarded", &input.amount_awarded),
    ] {
        if let Some(m) = m {
            if m.currency != currency {
                err(
                    &format!("{field}.currency"),
                    "currency_mismatch",
                    format!("must be {currency}, the currency of amount_applied"),
                );
            }
            if m.amount_minor < 0 {
                err(
                    &format!("{field}.amount_minor"),
                    "range",
                    "must not be negative".into(),
                );
            }
        }
    }
    use FundingStatus::*;
    if matches!(status, Submitted | Awarded | Rejected) && input.submitted_on.is_none() {
        err(
            "submitted_on",
            "required",
            format!(
                "a {} application needs the day it was submitted",
                status.as_str()
            ),
        );
    }
    if matches!(status, Awarded | Rejected) && input.decided_on.is_none() {
        err(
            "decided_on",
            "required",
            format!(
                "an {} application needs the day of the decision",
                status.as_str()
            ),
        );
    }
    if status == Awarded && input.amount_awarded.is_none() {
        err(
            "amount_awarded",
            "required",
            "an award needs the amount awarded".into(),
        );
    }
    if input.amount_awarded.is_some() && !matches!(status, Awarded | Withdrawn) {
        err(
            "amount_awarded",
            "not_awarded",
            format!("a {} application has no amount awarded", status.as_str()),
        );
    }
    if status == Withdrawn && input.withdrawn_on.is_none() {
        err(
            "withdrawn_on",
            "required",
            "a withdrawal needs its day".into(),
        );
    }
    if let (Some(s), Some(d)) = (input.submitted_on, input.decided_on) {
        if d < s {
            err(
                "decided_on",
                "before_submission",
                "must not be before submitted_on".into(),
            );
        }
    }
    if let (Some(s), Some(e)) = (input.project_start, input.project_end) {
        if e < s {
            err(
                "project_end",
                "before_start",
                "must not be before project_start".into(),
            );
        }
    }
    if !organisations::exists(conn, input.funder_id)? {
        err(
            "funder_id",
            "not_found",
            format!("organisation {} does not exist", input.funder_id),
        );
    }
    if let Some(idea) = input.idea_id {
        if ideas::find(conn, idea)?.is_none() {
            err(
                "idea_id",
                "not_found",
                format!("idea {idea} does not exist"),
            );
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(ApplicationData {
        title: input.title.trim().to_string(),
        funder_id: input.funder_id,
        programme: input.programme.trim().to_string(),
        programme_kind: input.programme_kind.as_str().to_string(),
        idea_id: input.idea_id,
        currency,
        amount_applied_minor: input.amount_applied.amount_minor,
        own_cofinancing_minor: input.own_cofinancing.as_ref().map(|m| m.amount_minor),
        grant_rate_bp: input.grant_rate_bp,
        amount_awarded_minor: input.amount_awarded.as_ref().map(|m| m.amount_minor),
        status: status.as_str().to_string(),
        submitted_on: input.submitted_on,
        decided_on: input.decided_on,
        withdrawn_on: input.withdrawn_on,
        project_start: input.project_start,
        project_end: input.project_end,
        funder_reference: input.funder_reference.clone(),
        notes: input.notes.clone(),
    })
}

/// Inserts an application with its audit record (and so its event).
pub fn insert_application(
    conn: &mut AnyConnection,
    caller: &Caller,
    data: &ApplicationData,
) -> Result<FundingApplication, ApiError> {
    let row = repo::insert_application(conn, data, crate::db::now())?;
    let created = application_of(conn, row)?;
    audit(
        conn,
        caller,
        "create",
        APPLICATION,
        created.id,
        None::<&()>,
        Some(&created),
    )?;
    Ok(created)
}

/// Writes a change to an application if it is still at `before.version`, with its audit record.
pub fn change_application(
    conn: &mut AnyConnection,
    caller: &Caller,
    before: &FundingApplication,
    data: &ApplicationData,
) -> Result<FundingApplication, ApiError> {
    let row = repo::update_application(conn, before.id, before.version, data, crate::db::now())?
        .ok_or_else(|| {
            ApiError::PreconditionFailed("the funding application changed meanwhile".into())
        })?;
    let after = application_of(conn, row)?;
    let action = if before.status == after.status {
        "update"
    } else {
        "transition"
    };
    audit(
        conn,
        caller,
        action,
        APPLICATION,
        after.id,
        Some(before),
        Some(&after),
    )?;
    Ok(after)
}

/// Merge patch of a funding application.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundingApplicationPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 300, pattern = "\\S")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = i64, minimum = 1)]
    pub funder_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = "\\S")]
    pub programme: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = ProgrammeKind)]
    pub programme_kind: Option<Option<ProgrammeKind>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub idea_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = FundingStatus)]
    pub status: Option<Option<FundingStatus>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Money)]
    pub amount_applied: Option<Option<Money>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Money>)]
    pub own_cofinancing: Option<Option<Money>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 10000)]
    pub grant_rate_bp: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Money>)]
    pub amount_awarded: Option<Option<Money>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub submitted_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub decided_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub withdrawn_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub project_start: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub project_end: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub funder_reference: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub notes: Option<Option<String>>,
}

impl FundingApplicationPatch {
    fn apply(self, current: &FundingApplication) -> Result<NewFundingApplication, ApiError> {
        let mut next = NewFundingApplication::of(current);
        let mut errors = Vec::new();
        patch_required(&mut next.title, self.title, "title", &mut errors);
        patch_required(
            &mut next.funder_id,
            self.funder_id,
            "funder_id",
            &mut errors,
        );
        patch_required(
            &mut next.programme,
            self.programme,
            "programme",
            &mut errors,
        );
        patch_required(
            &mut next.programme_kind,
            self.programme_kind,
            "programme_kind",
            &mut errors,
        );
        patch_optional(&mut next.idea_id, self.idea_id);
        let mut status = current.status;
        patch_required(&mut status, self.status, "status", &mut errors);
        next.status = Some(status);
        patch_required(
            &mut next.amount_applied,
            self.amount_applied,
            "amount_applied",
            &mut errors,
        );
        patch_optional(&mut next.own_cofinancing, self.own_cofinancing);
        patch_optional(&mut next.grant_rate_bp, self.grant_rate_bp);
        patch_optional(&mut next.amount_awarded, self.amount_awarded);
        patch_optional(&mut next.submitted_on, self.submitted_on);
        patch_optional(&mut next.decided_on, self.decided_on);
        patch_optional(&mut next.withdrawn_on, self.withdrawn_on);
        patch_optional(&mut next.project_start, self.project_start);
        patch_optional(&mut next.project_end, self.project_end);
        patch_optional(&mut next.funder_reference, self.funder_reference);
        patch_optional(&mut next.notes, self.notes);
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// Filters and paging for funding applications (also used by the CSV export).
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FundingQuery {
    #[param(inline)]
    pub status: Option<FundingStatus>,
    #[param(inline)]
    pub programme_kind: Option<ProgrammeKind>,
    pub funder_id: Option<i64>,
    pub idea_id: Option<i64>,
    /// Submitted on or after this day.
    pub submitted_from: Option<NaiveDate>,
    /// Submitted on or before this day.
    pub submitted_to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl FundingQuery {
    fn filter(&self) -> repo::ApplicationFilter {
        repo::ApplicationFilter {
            status: self.status.map(|s| s.as_str().to_string()),
            programme_kind: self.programme_kind.map(|s| s.as_str().to_string()),
            funder_id: self.funder_id,
            idea_id: self.idea_id,
            submitted_from: self.submitted_from,
            submitted_to: self.submitted_to,
        }
    }
}

/// One page of funding applications, newest first.
pub fn application_page(
    conn: &mut AnyConnection,
    q: &FundingQuery,
    limit: i64,
    offset: i64,
) -> Result<Page<FundingApplication>, ApiError> {
    let (rows, total) = repo::list_applications(conn, &q.filter(), limit, offset)?;
    let items = rows
        .into_iter()
        .map(|r| application_of(conn, r))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

/// List funding applications.
#[utoipa::path(
    tag = "funding",
    params(FundingQuery),
    responses((status = 200, description = "A page of funding applications", body = Page<FundingApplication>))
)]
#[get("/funding-applications")]
pub async fn list_applications(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<FundingQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let page = state
        .db
        .read(move |conn| application_page(conn, &q, limit, offset))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Record a funding application.
#[utoipa::path(
    tag = "funding",
    request_body = NewFundingApplication,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = FundingApplication,
        headers(("Location" = String), ("ETag" = String))))
)]
#[post("/funding-applications")]
pub async fn create_application(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewFundingApplication>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.value;
    input.validate()?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let data = check_application(conn, &input, None, "")?;
        let created = insert_application(conn, &actor, &data)?;
        Ok(Created {
            location: format!("/api/v1/funding-applications/{}", created.id),
            version: created.version,
            body: serde_json::to_value(&created).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Get one funding application.
#[utoipa::path(
    tag = "funding",
    params(("id" = i64, Path, description = "Funding application id")),
    responses((status = 200, description = "The application", body = FundingApplication, headers(("ETag" = String))))
)]
#[get("/funding-applications/{id}")]
pub async fn get_application(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let a = state
        .db
        .read(move |conn| {
            let row = repo::find_application(conn, id)?
                .ok_or_else(|| ApiError::not_found(APPLICATION, id))?;
            application_of(conn, row)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, a.version, &a))
}

/// Change a funding application (JSON merge patch; `If-Match` required). Status moves:
/// draft → submitted/withdrawn; submitted → awarded/rejected/withdrawn/draft; awarded →
/// withdrawn (a declined grant).
#[utoipa::path(
    tag = "funding",
    request_body(content = FundingApplicationPatch, content_type = "application/merge-patch+json"),
    params(("id" = i64, Path, description = "Funding application id"), IfMatchHeader),
    responses((status = 200, description = "The changed application", body = FundingApplication, headers(("ETag" = String))))
)]
#[patch("/funding-applications/{id}")]
pub async fn update_application(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<FundingApplicationPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let a = state
        .db
        .write(move |conn| {
            let row = repo::find_application(conn, id)?
                .ok_or_else(|| ApiError::not_found(APPLICATION, id))?;
            let before = application_of(conn, row)?;
            let next = patch.apply(&before)?;
            next.validate()?;
            check_version(&expected, before.version)?;
            let data = check_application(conn, &next, Some(before.status), "")?;
            change_application(conn, &caller, &before, &data)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, a.version, &a))
}

/// A payment received from a funder.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FundingPayment {
    pub id: i64,
    pub application_id: i64,
    pub received_on: NaiveDate,
    pub amount: Money,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A payment to record; its currency must be the application's. A negative amount records a
/// repayment to the funder.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFundingPayment {
    pub received_on: NaiveDate,
    #[validate(nested)]
    pub amount: Money,
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Payments received for a funding application, oldest first.
#[utoipa::path(
    tag = "funding",
    params(("id" = i64, Path, description = "Funding application id")),
    responses((status = 200, description = "The payments", body = Vec<FundingPayment>))
)]
#[get("/funding-applications/{id}/payments")]
pub async fn list_payments(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let items = state
        .db
        .read(move |conn| {
            let app = repo::find_application(conn, id)?
                .ok_or_else(|| ApiError::not_found(APPLICATION, id))?;
            Ok(repo::payments_of(conn, &[id])?
                .into_iter()
                .map(|p| FundingPayment {
                    id: p.id,
                    application_id: p.application_id,
                    received_on: p.received_on,
                    amount: Money {
                        amount_minor: p.amount_minor,
                        currency: app.currency.clone(),
                    },
                    note: p.note,
                    created_at: p.created_at.and_utc(),
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(items))
}

/// Record a payment received on an awarded application.
#[utoipa::path(
    tag = "funding",
    request_body = NewFundingPayment,
    params(("id" = i64, Path, description = "Funding application id"), IdempotencyKeyHeader),
    responses((status = 201, description = "Recorded", body = FundingPayment, headers(("Location" = String))))
)]
#[post("/funding-applications/{id}/payments")]
pub async fn create_payment(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<NewFundingPayment>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.value;
    input.validate()?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let app = repo::find_application(conn, id)?
            .ok_or_else(|| ApiError::not_found(APPLICATION, id))?;
        if input.amount.currency != app.currency {
            return Err(ApiError::field(
                "amount.currency",
                "currency_mismatch",
                format!("must be {}, the application's currency", app.currency),
            ));
        }
        if input.amount.amount_minor == 0 {
            return Err(ApiError::field(
                "amount.amount_minor",
                "range",
                "must not be 0",
            ));
        }
        if app.status != FundingStatus::Awarded.as_str() {
            return Err(ApiError::Conflict {
                slug: "not-awarded",
                detail: format!(
                    "payments are recorded on awarded applications; this one is {}",
                    app.status
                ),
                allowed: None,
            });
        }
        let p = repo::insert_payment(
            conn,
            id,
            input.received_on,
            input.amount.amount_minor,
            input.note.clone(),
            crate::db::now(),
        )?;
        let payment = FundingPayment {
            id: p.id,
            application_id: id,
            received_on: p.received_on,
            amount: input.amount.clone(),
            note: p.note,
            created_at: p.created_at.and_utc(),
        };
        audit(
            conn,
            &actor,
            "create",
            "funding_payment",
            p.id,
            None::<&()>,
            Some(&payment),
        )?;
        Ok(Created {
            location: format!("/api/v1/funding-applications/{id}/payments"),
            version: 1,
            body: serde_json::to_value(&payment).map_err(ApiError::internal)?,
        })
    })
    .await
}

crate::domain::text_enum! {
    /// Where a collaboration request stands.
    CollaborationStatus {
        New = "new",
        InDialogue = "in_dialogue",
        AgreementSigned = "agreement_signed",
        Declined = "declined",
    }
}

impl CollaborationStatus {
    fn next(self) -> &'static [CollaborationStatus] {
        use CollaborationStatus::*;
        match self {
            New => &[InDialogue, AgreementSigned, Declined],
            InDialogue => &[AgreementSigned, Declined, New],
            Declined => &[InDialogue],
            AgreementSigned => &[],
        }
    }
}

/// A company's request for a development collaboration with a clinical department.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CollaborationRequest {
    pub id: i64,
    pub company_id: i64,
    pub company_name: String,
    /// The clinical department matched with the company.
    pub department_id: Option<i64>,
    pub received_on: NaiveDate,
    pub topic: String,
    pub description: Option<String>,
    pub status: CollaborationStatus,
    /// The agreement the request led to (required once `agreement_signed`).
    pub agreement_id: Option<i64>,
    /// The day it was signed or declined.
    pub closed_on: Option<NaiveDate>,
    pub notes: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn collaboration_of(
    conn: &mut AnyConnection,
    r: CollaborationRow,
) -> Result<CollaborationRequest, ApiError> {
    let company_name = organisations::find(conn, r.company_id)?
        .map(|o| o.name)
        .unwrap_or_default();
    Ok(CollaborationRequest {
        status: CollaborationStatus::parse(&r.status).ok_or_else(|| {
            ApiError::Internal(format!("collaboration request {} has unknown status", r.id))
        })?,
        id: r.id,
        company_id: r.company_id,
        company_name,
        department_id: r.department_id,
        received_on: r.received_on,
        topic: r.topic,
        description: r.description,
        agreement_id: r.agreement_id,
        closed_on: r.closed_on,
        notes: r.notes,
        version: r.version,
        created_at: r.created_at.and_utc(),
        updated_at: r.updated_at.and_utc(),
    })
}

/// The fields of a collaboration request a client sets.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCollaborationRequest {
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub company_id: i64,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub department_id: Option<i64>,
    pub received_on: NaiveDate,
    #[validate(
        length(min = 1, max = 300, message = "must be 1 to 300 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = "\\S",
        example = "Sensor patch for post-operative monitoring"
    )]
    pub topic: String,
    #[serde(default)]
    #[validate(length(max = 10000, message = "must be at most 10000 characters"))]
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// Default `new`.
    #[serde(default)]
    pub status: Option<CollaborationStatus>,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub agreement_id: Option<i64>,
    /// Defaults to today when the request is signed or declined.
    #[serde(default)]
    pub closed_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 10000, message = "must be at most 10000 characters"))]
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
}

fn check_collaboration(
    conn: &mut AnyConnection,
    input: &NewCollaborationRequest,
    from: Option<CollaborationStatus>,
) -> Result<CollaborationData, ApiError> {
    input.validate()?;
    let status = input.status.unwrap_or(CollaborationStatus::New);
    if let Some(from) = from {
        if from != status && !from.next().contains(&status) {
            return Err(ApiError::Conflict {
                slug: "transition-not-allowed",
                detail: format!(
                    "a collaboration request cannot go from {} to {}",
                    from.as_str(),
                    status.as_str()
                ),
                allowed: Some(from.next().iter().map(|s| s.as_str().to_string()).collect()),
            });
        }
    }
    let mut errors = Vec::new();
    if !organisations::exists(conn, input.company_id)? {
        errors.push(FieldError::new(
            "company_id",
            "not_found",
            format!("organisation {} does not exist", input.company_id),
        ));
    }
    if let Some(d) = input.department_id {
        if !organisations::exists(conn, d)? {
            errors.push(FieldError::new(
                "department_id",
                "not_found",
                format!("organisation {d} does not exist"),
            ));
        }
    }
    match input.agreement_id {
        Some(a) if deals::find_agreement(conn, a)?.is_none() => errors.push(FieldError::new(
            "agreement_id",
            "not_found",
            format!("agreement {a} does not exist"),
        )),
        None if status == CollaborationStatus::AgreementSigned => errors.push(FieldError::new(
            "agreement_id",
            "required",
            "a signed collaboration names its agreement",
        )),
        _ => {}
    }
    let closing = matches!(
        status,
        CollaborationStatus::AgreementSigned | CollaborationStatus::Declined
    );
    let closed_on = if closing {
        Some(input.closed_on.unwrap_or_else(today))
    } else {
        None
    };
    if let Some(c) = closed_on {
        if c < input.received_on {
            errors.push(FieldError::new(
                "closed_on",
                "before_received",
                "must not be before received_on",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(CollaborationData {
        company_id: input.company_id,
        department_id: input.department_id,
        received_on: input.received_on,
        topic: input.topic.trim().to_string(),
        description: input.description.clone(),
        status: status.as_str().to_string(),
        agreement_id: input.agreement_id,
        closed_on,
        notes: input.notes.clone(),
    })
}

/// Merge patch of a collaboration request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollaborationPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = i64, minimum = 1)]
    pub company_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub department_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = NaiveDate)]
    pub received_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 300, pattern = "\\S")]
    pub topic: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = CollaborationStatus)]
    pub status: Option<Option<CollaborationStatus>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub agreement_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub closed_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub notes: Option<Option<String>>,
}

impl CollaborationPatch {
    fn apply(self, c: &CollaborationRequest) -> Result<NewCollaborationRequest, ApiError> {
        let mut next = NewCollaborationRequest {
            company_id: c.company_id,
            department_id: c.department_id,
            received_on: c.received_on,
            topic: c.topic.clone(),
            description: c.description.clone(),
            status: Some(c.status),
            agreement_id: c.agreement_id,
            closed_on: c.closed_on,
            notes: c.notes.clone(),
        };
        let mut errors = Vec::new();
        patch_required(
            &mut next.company_id,
            self.company_id,
            "company_id",
            &mut errors,
        );
        patch_optional(&mut next.department_id, self.department_id);
        patch_required(
            &mut next.received_on,
            self.received_on,
            "received_on",
            &mut errors,
        );
        patch_required(&mut next.topic, self.topic, "topic", &mut errors);
        patch_optional(&mut next.description, self.description);
        let mut status = c.status;
        patch_required(&mut status, self.status, "status", &mut errors);
        next.status = Some(status);
        patch_optional(&mut next.agreement_id, self.agreement_id);
        patch_optional(&mut next.closed_on, self.closed_on);
        patch_optional(&mut next.notes, self.notes);
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CollaborationQuery {
    #[param(inline)]
    pub status: Option<CollaborationStatus>,
    pub company_id: Option<i64>,
    pub department_id: Option<i64>,
    /// Received on or after this day.
    pub received_from: Option<NaiveDate>,
    /// Received on or before this day.
    pub received_to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// List collaboration requests, newest first.
#[utoipa::path(
    tag = "funding",
    params(CollaborationQuery),
    responses((status = 200, description = "A page of collaboration requests", body = Page<CollaborationRequest>))
)]
#[get("/collaboration-requests")]
pub async fn list_collaborations(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<CollaborationQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let filter = repo::CollaborationFilter {
        status: q.status.map(|s| s.as_str().to_string()),
        company_id: q.company_id,
        department_id: q.department_id,
        received_from: q.received_from,
        received_to: q.received_to,
    };
    let page = state
        .db
        .read(move |conn| {
            let (rows, total) = repo::list_collaborations(conn, &filter, limit, offset)?;
            let items = rows
                .into_iter()
                .map(|r| collaboration_of(conn, r))
                .collect::<Result<Vec<_>, _>>()?;
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

/// Record a collaboration request from a company.
#[utoipa::path(
    tag = "funding",
    request_body = NewCollaborationRequest,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = CollaborationRequest,
        headers(("Location" = String), ("ETag" = String))))
)]
#[post("/collaboration-requests")]
pub async fn create_collaboration(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewCollaborationRequest>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.value;
    input.validate()?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let data = check_collaboration(conn, &input, None)?;
        let row = repo::insert_collaboration(conn, &data, crate::db::now())?;
        let c = collaboration_of(conn, row)?;
        audit(
            conn,
            &actor,
            "create",
            COLLABORATION,
            c.id,
            None::<&()>,
            Some(&c),
        )?;
        Ok(Created {
            location: format!("/api/v1/collaboration-requests/{}", c.id),
            version: c.version,
            body: serde_json::to_value(&c).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Get one collaboration request.
#[utoipa::path(
    tag = "funding",
    params(("id" = i64, Path, description = "Collaboration request id")),
    responses((status = 200, description = "The request", body = CollaborationRequest, headers(("ETag" = String))))
)]
#[get("/collaboration-requests/{id}")]
pub async fn get_collaboration(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let c = state
        .db
        .read(move |conn| {
            let row = repo::find_collaboration(conn, id)?
                .ok_or_else(|| ApiError::not_found(COLLABORATION, id))?;
            collaboration_of(conn, row)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, c.version, &c))
}

/// Change a collaboration request (JSON merge patch; `If-Match` required). Status moves: new →
/// in_dialogue/agreement_signed/declined; in_dialogue → agreement_signed/declined/new;
/// declined → in_dialogue.
#[utoipa::path(
    tag = "funding",
    request_body(content = CollaborationPatch, content_type = "application/merge-patch+json"),
    params(("id" = i64, Path, description = "Collaboration request id"), IfMatchHeader),
    responses((status = 200, description = "The changed request", body = CollaborationRequest, headers(("ETag" = String))))
)]
#[patch("/collaboration-requests/{id}")]
pub async fn update_collaboration(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<CollaborationPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let c = state
        .db
        .write(move |conn| {
            let row = repo::find_collaboration(conn, id)?
                .ok_or_else(|| ApiError::not_found(COLLABORATION, id))?;
            let before = collaboration_of(conn, row)?;
            let next = patch.apply(&before)?;
            next.validate()?;
            check_version(&expected, before.version)?;
            let data = check_collaboration(conn, &next, Some(before.status))?;
            let row =
                repo::update_collaboration(conn, id, before.version, &data, crate::db::now())?
                    .ok_or_else(|| {
                        ApiError::PreconditionFailed(
                            "the collaboration request changed meanwhile".into(),
                        )
                    })?;
            let after = collaboration_of(conn, row)?;
            let action = if before.status == after.status {
                "update"
            } else {
                "transition"
            };
            audit(
                conn,
                &caller,
                action,
                COLLABORATION,
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, c.version, &c))
}
