//! Patents: families, filings, the deadline rules, the docket computed from them (with an
//! iCalendar feed), and patent costs.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
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
use crate::db::patents::{self as repo, CostRow, FamilyRow, FilingRow, MarkRow, RuleRow};
use crate::db::{idea_records, ideas, organisations, people, AnyConnection};
use crate::domain::money::Money;
use crate::domain::patents::{self as rules, FilingKind, FilingStatus, Rule};
use crate::domain::Role;
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_families)
        .service(create_family)
        .service(get_family)
        .service(update_family)
        .service(list_filings)
        .service(create_filing)
        .service(get_filing)
        .service(update_filing)
        .service(list_rules)
        .service(create_rule)
        .service(update_rule)
        .service(list_deadlines)
        .service(deadlines_ics)
        .service(mark_deadline)
        .service(list_costs)
        .service(create_cost)
        .service(cost_totals);
}

fn bad_row(what: &str, id: i64, value: &str) -> ApiError {
    ApiError::Internal(format!("{what} {id} has unknown value '{value}'"))
}

// ---------------------------------------------------------------- families

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FamilyStatus {
    Active,
    Abandoned,
    Expired,
}

impl FamilyStatus {
    fn as_str(self) -> &'static str {
        match self {
            FamilyStatus::Active => "active",
            FamilyStatus::Abandoned => "abandoned",
            FamilyStatus::Expired => "expired",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Abandoned, Self::Expired]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A warning on a family or idea.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PatentWarning {
    /// `public_disclosure_before_priority` or `deadline_without_decision`.
    pub code: String,
    pub message: String,
}

/// A patent family: the filings protecting one invention.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Family {
    pub id: i64,
    pub idea_id: i64,
    pub title: String,
    pub internal_ref: Option<String>,
    pub status: FamilyStatus,
    pub responsible_id: Option<i64>,
    /// The patent agent (an organisation).
    pub agent_id: Option<i64>,
    /// The earliest priority date over the family's living filings.
    pub earliest_priority: Option<NaiveDate>,
    pub warnings: Vec<PatentWarning>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFamily {
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub idea_id: i64,
    #[validate(
        length(min = 1, max = 300, message = "must be 1 to 300 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300, pattern = "\\S")]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    #[schema(max_length = 100)]
    pub internal_ref: Option<String>,
    /// Default `active`.
    #[serde(default)]
    pub status: Option<FamilyStatus>,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub responsible_id: Option<i64>,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub agent_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 300, pattern = "\\S")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub internal_ref: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = FamilyStatus)]
    pub status: Option<Option<FamilyStatus>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub responsible_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub agent_id: Option<Option<i64>>,
}

fn facts(r: &FilingRow) -> Result<rules::Filing, ApiError> {
    Ok(rules::Filing {
        id: r.id,
        kind: FilingKind::parse(&r.kind).ok_or_else(|| bad_row("filing", r.id, &r.kind))?,
        jurisdiction: r.jurisdiction.clone(),
        status: FilingStatus::parse(&r.status).ok_or_else(|| bad_row("filing", r.id, &r.status))?,
        parent_id: r.parent_id,
        filing_date: r.filing_date,
        priority_dates: parse_dates(&r.priority_dates),
        publication_date: r.publication_date,
        grant_date: r.grant_date,
    })
}

fn parse_dates(text: &str) -> Vec<NaiveDate> {
    text.split(',')
        .filter_map(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
        .collect()
}

/// Earliest priority over living filings.
pub fn earliest_priority(filings: &[rules::Filing]) -> Option<NaiveDate> {
    filings
        .iter()
        .filter(|f| !f.status.is_dead())
        .filter_map(|f| f.earliest_priority())
        .min()
}

/// Warnings for a set of filings (one family, or all of an idea's) and the idea's disclosures.
pub fn patent_warnings(
    filings: &[rules::Filing],
    disclosures: &[idea_records::DisclosureRow],
    active_rules: &[Rule],
    marks: &[MarkRow],
    today: NaiveDate,
) -> Vec<PatentWarning> {
    let mut out = Vec::new();
    if let Some(priority) = earliest_priority(filings) {
        if let Some(d) = disclosures.iter().find(|d| d.disclosed_on < priority) {
            out.push(PatentWarning {
                code: "public_disclosure_before_priority".into(),
                message: format!(
                    "disclosed publicly on {} ({} at {}), before the earliest priority date {priority}: novelty may be lost",
                    d.disclosed_on, d.kind, d.venue
                ),
            });
        }
    }
    let horizon = today + TimeDelta::days(60);
    for f in filings {
        for d in rules::deadlines(f, filings, active_rules, today, horizon) {
            let decided = d.satisfied
                || marks.iter().any(|m| {
                    m.filing_id == d.filing_id && m.rule_key == d.rule_key && m.due_on == d.due_on
                });
            let watched = d.rule_key.contains("phase")
                || d.rule_key.contains("renewal")
                || d.rule_key.contains("annual");
            if watched && !decided {
                out.push(PatentWarning {
                    code: "deadline_without_decision".into(),
                    message: format!(
                        "{} due {} ({} days) and no decision is recorded",
                        d.label,
                        d.due_on,
                        (d.due_on - today).num_days()
                    ),
                });
            }
        }
    }
    out
}

fn active_rules(conn: &mut AnyConnection) -> Result<Vec<Rule>, ApiError> {
    repo::rules(conn)?
        .into_iter()
        .filter(|r| r.active)
        .map(|r| {
            serde_json::from_str::<Rule>(&r.definition)
                .map_err(|e| ApiError::internal(format!("rule {}: {e}", r.id)))
        })
        .collect()
}

/// What the warnings of any family depend on besides its own filings: loaded once a request.
struct WarningContext {
    rules: Vec<Rule>,
    marks: Vec<MarkRow>,
}

impl WarningContext {
    fn load(conn: &mut AnyConnection) -> Result<WarningContext, ApiError> {
        Ok(WarningContext {
            rules: active_rules(conn)?,
            marks: repo::marks(conn)?,
        })
    }
}

fn family_of(conn: &mut AnyConnection, row: FamilyRow) -> Result<Family, ApiError> {
    let ctx = WarningContext::load(conn)?;
    family_with(conn, row, &ctx)
}

fn family_with(
    conn: &mut AnyConnection,
    row: FamilyRow,
    ctx: &WarningContext,
) -> Result<Family, ApiError> {
    let filings = repo::filings_of(conn, row.id)?
        .iter()
        .map(facts)
        .collect::<Result<Vec<_>, _>>()?;
    let disclosures = idea_records::disclosures_of(conn, &[row.idea_id])?;
    let warnings = patent_warnings(&filings, &disclosures, &ctx.rules, &ctx.marks, today());
    Ok(Family {
        id: row.id,
        idea_id: row.idea_id,
        status: FamilyStatus::parse(&row.status)
            .ok_or_else(|| bad_row("family", row.id, &row.status))?,
        title: row.title,
        internal_ref: row.internal_ref,
        responsible_id: row.responsible_id,
        agent_id: row.agent_id,
        earliest_priority: earliest_priority(&filings),
        warnings,
        version: row.version,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn check_family_refs(conn: &mut AnyConnection, f: &NewFamily) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if ideas::find(conn, f.idea_id)?.is_none() {
        errors.push(FieldError::new(
            "idea_id",
            "not_found",
            format!("idea {} does not exist", f.idea_id),
        ));
    }
    if let Some(p) = f.responsible_id {
        if people::find(conn, p)?.is_none() {
            errors.push(FieldError::new(
                "responsible_id",
                "not_found",
                format!("person {p} does not exist"),
            ));
        }
    }
    if let Some(o) = f.agent_id {
        if !organisations::exists(conn, o)? {
            errors.push(FieldError::new(
                "agent_id",
                "not_found",
                format!("organisation {o} does not exist"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn family_data(f: &NewFamily) -> repo::FamilyData {
    repo::FamilyData {
        idea_id: f.idea_id,
        title: f.title.trim().to_string(),
        internal_ref: f.internal_ref.clone(),
        status: f
            .status
            .unwrap_or(FamilyStatus::Active)
            .as_str()
            .to_string(),
        responsible_id: f.responsible_id,
        agent_id: f.agent_id,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FamilyQuery {
    /// Only the families of this idea.
    pub idea_id: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// List patent families.
#[utoipa::path(tag = "patents", params(FamilyQuery), responses((status = 200, description = "Families", body = Page<Family>)))]
#[get("/patent-families")]
pub async fn list_families(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<FamilyQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let page = state
        .db
        .read(move |c| {
            let (rows, total) = repo::list_families(c, q.idea_id, limit, offset)?;
            let ctx = WarningContext::load(c)?;
            let items = rows
                .into_iter()
                .map(|r| family_with(c, r, &ctx))
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

/// Create a patent family for an idea.
#[utoipa::path(
    tag = "patents",
    request_body = NewFamily,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = Family, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/patent-families")]
pub async fn create_family(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewFamily>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.value;
    input.validate()?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        check_family_refs(conn, &input)?;
        let row = repo::insert_family(conn, &family_data(&input), crate::db::now())?;
        let fam = family_of(conn, row)?;
        audit(
            conn,
            &actor,
            "create",
            "patent_family",
            fam.id,
            None::<&()>,
            Some(&fam),
        )?;
        Ok(Created {
            location: format!("/api/v1/patent-families/{}", fam.id),
            version: fam.version,
            body: serde_json::to_value(&fam).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Get one patent family, with its warnings.
#[utoipa::path(
    tag = "patents",
    params(("id" = i64, Path, description = "Family id")),
    responses((status = 200, description = "The family", body = Family, headers(("ETag" = String))))
)]
#[get("/patent-families/{id}")]
pub async fn get_family(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let fam = state
        .db
        .read(move |c| {
            let row = repo::find_family(c, id)?
                .ok_or_else(|| ApiError::not_found("patent family", id))?;
            family_of(c, row)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, fam.version, &fam))
}

/// Change a patent family (merge patch; `If-Match` required).
#[utoipa::path(
    tag = "patents",
    request_body(content = FamilyPatch, content_type = "application/merge-patch+json"),
    params(("id" = i64, Path, description = "Family id"), IfMatchHeader),
    responses((status = 200, description = "The changed family", body = Family, headers(("ETag" = String))))
)]
#[patch("/patent-families/{id}")]
pub async fn update_family(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<FamilyPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let fam = state
        .db
        .write(move |conn| {
            let row = repo::find_family(conn, id)?
                .ok_or_else(|| ApiError::not_found("patent family", id))?;
            let before = family_of(conn, row.clone())?;
            let mut next = NewFamily {
                idea_id: row.idea_id,
                title: row.title.clone(),
                internal_ref: row.internal_ref.clone(),
                status: Some(before.status),
                responsible_id: row.responsible_id,
                agent_id: row.agent_id,
            };
            let mut errors = Vec::new();
            patch_required(&mut next.title, patch.title, "title", &mut errors);
            patch_optional(&mut next.internal_ref, patch.internal_ref);
            let mut status = before.status;
            patch_required(&mut status, patch.status, "status", &mut errors);
            next.status = Some(status);
            patch_optional(&mut next.responsible_id, patch.responsible_id);
            patch_optional(&mut next.agent_id, patch.agent_id);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            next.validate()?;
            check_version(&expected, row.version)?;
            check_family_refs(conn, &next)?;
            let updated =
                repo::update_family(conn, id, row.version, &family_data(&next), crate::db::now())?
                    .ok_or_else(|| {
                        ApiError::PreconditionFailed("the family changed meanwhile".into())
                    })?;
            let after = family_of(conn, updated)?;
            audit(
                conn,
                &caller,
                "update",
                "patent_family",
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, fam.version, &fam))
}

// ---------------------------------------------------------------- filings

/// A filing in a patent family.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Filing {
    pub id: i64,
    pub family_id: i64,
    pub kind: FilingKind,
    /// ISO 3166-1 alpha-2, or `EP` / `WO`.
    pub jurisdiction: String,
    pub parent_id: Option<i64>,
    pub application_number: Option<String>,
    pub filing_date: Option<NaiveDate>,
    pub priority_dates: Vec<NaiveDate>,
    pub publication_number: Option<String>,
    pub publication_date: Option<NaiveDate>,
    pub grant_number: Option<String>,
    pub grant_date: Option<NaiveDate>,
    pub status: FilingStatus,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<FilingRow> for Filing {
    type Error = ApiError;
    fn try_from(r: FilingRow) -> Result<Self, ApiError> {
        Ok(Filing {
            kind: FilingKind::parse(&r.kind).ok_or_else(|| bad_row("filing", r.id, &r.kind))?,
            status: FilingStatus::parse(&r.status)
                .ok_or_else(|| bad_row("filing", r.id, &r.status))?,
            priority_dates: parse_dates(&r.priority_dates),
            id: r.id,
            family_id: r.family_id,
            jurisdiction: r.jurisdiction,
            parent_id: r.parent_id,
            application_number: r.application_number,
            filing_date: r.filing_date,
            publication_number: r.publication_number,
            publication_date: r.publication_date,
            grant_number: r.grant_number,
            grant_date: r.grant_date,
            version: r.version,
            created_at: r.created_at.and_utc(),
            updated_at: r.updated_at.and_utc(),
        })
    }
}

fn jurisdiction_rule(j: &str) -> Result<(), validator::ValidationError> {
    if j.len() == 2 && j.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        let mut e = validator::ValidationError::new("jurisdiction");
        e.message = Some("must be an ISO 3166-1 alpha-2 code, EP or WO, in upper case".into());
        Err(e)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFiling {
    pub kind: FilingKind,
    #[validate(custom(function = "jurisdiction_rule"))]
    #[schema(pattern = "^[A-Z]{2}$", example = "EP")]
    pub jurisdiction: String,
    /// The filing this one derives from (a PCT for a national phase, an EP for a validation).
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub parent_id: Option<i64>,
    #[serde(default)]
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    #[schema(max_length = 100)]
    pub application_number: Option<String>,
    #[serde(default)]
    pub filing_date: Option<NaiveDate>,
    /// Priority dates claimed.
    #[serde(default)]
    #[validate(length(max = 20, message = "at most 20 priority dates"))]
    #[schema(max_items = 20)]
    pub priority_dates: Vec<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    #[schema(max_length = 100)]
    pub publication_number: Option<String>,
    #[serde(default)]
    pub publication_date: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 100, message = "must be at most 100 characters"))]
    #[schema(max_length = 100)]
    pub grant_number: Option<String>,
    #[serde(default)]
    pub grant_date: Option<NaiveDate>,
    /// Default `filed` when a filing date is given, else `draft`.
    #[serde(default)]
    pub status: Option<FilingStatus>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilingPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub application_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub filing_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<NaiveDate>, max_items = 20)]
    pub priority_dates: Option<Option<Vec<NaiveDate>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub publication_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub publication_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub grant_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub grant_date: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = FilingStatus)]
    pub status: Option<Option<FilingStatus>>,
}

fn check_filing(
    conn: &mut AnyConnection,
    family: i64,
    own: Option<i64>,
    f: &NewFiling,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Some(p) = f.parent_id {
        match repo::find_filing(conn, p)? {
            Some(parent) if parent.family_id == family && Some(p) != own => {}
            _ => errors.push(FieldError::new(
                "parent_id",
                "not_found",
                format!("filing {p} is not another filing of this family"),
            )),
        }
    }
    if matches!(
        f.status,
        Some(FilingStatus::Filed | FilingStatus::Published | FilingStatus::Granted)
    ) && f.filing_date.is_none()
    {
        errors.push(FieldError::new(
            "filing_date",
            "required",
            "a filed application needs its filing date",
        ));
    }
    if f.grant_date.is_some() && f.grant_number.is_none() {
        errors.push(FieldError::new(
            "grant_number",
            "required",
            "a grant needs its number",
        ));
    }
    if let (Some(fd), Some(min)) = (f.filing_date, f.priority_dates.iter().min()) {
        if *min > fd {
            errors.push(FieldError::new(
                "priority_dates",
                "range",
                "a priority date cannot be after the filing date",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn filing_data(family: i64, f: &NewFiling) -> repo::FilingData {
    let status = f.status.unwrap_or(if f.filing_date.is_some() {
        FilingStatus::Filed
    } else {
        FilingStatus::Draft
    });
    let mut dates: Vec<NaiveDate> = f.priority_dates.clone();
    dates.sort();
    dates.dedup();
    repo::FilingData {
        family_id: family,
        kind: f.kind.as_str().to_string(),
        jurisdiction: f.jurisdiction.clone(),
        parent_id: f.parent_id,
        application_number: f.application_number.clone(),
        filing_date: f.filing_date,
        priority_dates: dates
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(","),
        publication_number: f.publication_number.clone(),
        publication_date: f.publication_date,
        grant_number: f.grant_number.clone(),
        grant_date: f.grant_date,
        status: status.as_str().to_string(),
    }
}

/// The filings of a family.
#[utoipa::path(
    tag = "patents",
    params(("id" = i64, Path, description = "Family id")),
    responses((status = 200, description = "Filings", body = Vec<Filing>))
)]
#[get("/patent-families/{id}/filings")]
pub async fn list_filings(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let rows = state
        .db
        .read(move |c| {
            repo::find_family(c, id)?.ok_or_else(|| ApiError::not_found("patent family", id))?;
            Ok(repo::filings_of(c, id)?)
        })
        .await?;
    let out = rows
        .into_iter()
        .map(Filing::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(out))
}

/// Add a filing to a family.
#[utoipa::path(
    tag = "patents",
    request_body = NewFiling,
    params(("id" = i64, Path, description = "Family id"), IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = Filing, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/patent-families/{id}/filings")]
pub async fn create_filing(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<NewFiling>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let family = path.into_inner();
    let input = body.value;
    input.validate()?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        repo::find_family(conn, family)?
            .ok_or_else(|| ApiError::not_found("patent family", family))?;
        check_filing(conn, family, None, &input)?;
        let row = repo::insert_filing(conn, &filing_data(family, &input), crate::db::now())?;
        let f = Filing::try_from(row)?;
        audit(
            conn,
            &actor,
            "create",
            "patent_filing",
            f.id,
            None::<&()>,
            Some(&f),
        )?;
        Ok(Created {
            location: format!("/api/v1/patent-filings/{}", f.id),
            version: f.version,
            body: serde_json::to_value(&f).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Get one filing.
#[utoipa::path(
    tag = "patents",
    params(("id" = i64, Path, description = "Filing id")),
    responses((status = 200, description = "The filing", body = Filing, headers(("ETag" = String))))
)]
#[get("/patent-filings/{id}")]
pub async fn get_filing(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = state
        .db
        .read(move |c| Ok(repo::find_filing(c, id)?))
        .await?;
    let f = Filing::try_from(row.ok_or_else(|| ApiError::not_found("patent filing", id))?)?;
    Ok(with_etag(StatusCode::OK, f.version, &f))
}

/// Change a filing: publication, grant, status (withdrawn, lapsed…). Merge patch, `If-Match`.
#[utoipa::path(
    tag = "patents",
    request_body(content = FilingPatch, content_type = "application/merge-patch+json"),
    params(("id" = i64, Path, description = "Filing id"), IfMatchHeader),
    responses((status = 200, description = "The changed filing", body = Filing, headers(("ETag" = String))))
)]
#[patch("/patent-filings/{id}")]
pub async fn update_filing(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<FilingPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let f = state
        .db
        .write(move |conn| {
            let row = repo::find_filing(conn, id)?
                .ok_or_else(|| ApiError::not_found("patent filing", id))?;
            let before = Filing::try_from(row.clone())?;
            let mut next = NewFiling {
                kind: before.kind,
                jurisdiction: before.jurisdiction.clone(),
                parent_id: before.parent_id,
                application_number: before.application_number.clone(),
                filing_date: before.filing_date,
                priority_dates: before.priority_dates.clone(),
                publication_number: before.publication_number.clone(),
                publication_date: before.publication_date,
                grant_number: before.grant_number.clone(),
                grant_date: before.grant_date,
                status: Some(before.status),
            };
            let mut errors = Vec::new();
            patch_optional(&mut next.application_number, patch.application_number);
            patch_optional(&mut next.filing_date, patch.filing_date);
            patch_required(
                &mut next.priority_dates,
                patch.priority_dates,
                "priority_dates",
                &mut errors,
            );
            patch_optional(&mut next.publication_number, patch.publication_number);
            patch_optional(&mut next.publication_date, patch.publication_date);
            patch_optional(&mut next.grant_number, patch.grant_number);
            patch_optional(&mut next.grant_date, patch.grant_date);
            let mut status = before.status;
            patch_required(&mut status, patch.status, "status", &mut errors);
            next.status = Some(status);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            next.validate()?;
            check_version(&expected, row.version)?;
            check_filing(conn, row.family_id, Some(id), &next)?;
            let updated = repo::update_filing(
                conn,
                id,
                row.version,
                &filing_data(row.family_id, &next),
                crate::db::now(),
            )?
            .ok_or_else(|| ApiError::PreconditionFailed("the filing changed meanwhile".into()))?;
            let after = Filing::try_from(updated)?;
            audit(
                conn,
                &caller,
                "update",
                "patent_filing",
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, f.version, &f))
}

// ---------------------------------------------------------------- rules

/// A deadline rule as stored, with whether it is in force.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeadlineRule {
    pub id: i64,
    pub active: bool,
    pub rule: Rule,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<RuleRow> for DeadlineRule {
    type Error = ApiError;
    fn try_from(r: RuleRow) -> Result<Self, ApiError> {
        Ok(DeadlineRule {
            rule: serde_json::from_str(&r.definition)
                .map_err(|e| ApiError::internal(format!("rule {}: {e}", r.id)))?,
            id: r.id,
            active: r.active,
            version: r.version,
            updated_at: r.updated_at.and_utc(),
        })
    }
}

/// A rule to add or replace (admin).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub rule: Rule,
    /// Default true.
    #[serde(default)]
    pub active: Option<bool>,
}

fn check_rule(r: &Rule) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if r.key.is_empty()
        || r.key.len() > 60
        || !r
            .key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        errors.push(FieldError::new(
            "rule.key",
            "invalid",
            "1 to 60 characters of a-z, 0-9 and _",
        ));
    }
    if r.name.trim().is_empty() || r.name.chars().count() > 200 {
        errors.push(FieldError::new(
            "rule.name",
            "length",
            "must be 1 to 200 characters",
        ));
    }
    if !(-1200..=1200).contains(&r.offset) {
        errors.push(FieldError::new(
            "rule.offset",
            "range",
            "must be between -1200 and 1200",
        ));
    }
    if r.recur_years > 100 || r.first_year > 100 {
        errors.push(FieldError::new("rule.recur_years", "range", "at most 100"));
    }
    if r.legal_source.chars().count() > 500 {
        errors.push(FieldError::new(
            "rule.legal_source",
            "length",
            "must be at most 500 characters",
        ));
    }
    for (i, j) in r
        .jurisdictions
        .iter()
        .chain(r.satisfied_by_jurisdictions.iter())
        .enumerate()
    {
        if jurisdiction_rule(j).is_err() {
            errors.push(FieldError::new(
                format!("rule.jurisdictions[{i}]"),
                "jurisdiction",
                "two upper-case letters",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// The deadline rules (seeded with the default set; see docs/DOMAIN.md for their sources).
#[utoipa::path(tag = "patents", responses((status = 200, description = "Rules", body = Vec<DeadlineRule>)))]
#[get("/deadline-rules")]
pub async fn list_rules(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let rows = state.db.read(|c| Ok(repo::rules(c)?)).await?;
    let out = rows
        .into_iter()
        .map(DeadlineRule::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(out))
}

/// Add a deadline rule (admin).
#[utoipa::path(
    tag = "patents",
    request_body = RuleInput,
    responses((status = 201, description = "Created", body = DeadlineRule, headers(("ETag" = String))))
)]
#[post("/deadline-rules")]
pub async fn create_rule(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<RuleInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let input = body.into_inner();
    check_rule(&input.rule)?;
    let rule = state
        .db
        .write(move |conn| {
            let row = repo::insert_rule(conn, &input.rule, crate::db::now())?;
            let r = DeadlineRule::try_from(row)?;
            audit(
                conn,
                &caller,
                "create",
                "deadline_rule",
                r.id,
                None::<&()>,
                Some(&r),
            )?;
            Ok(r)
        })
        .await?;
    Ok(with_etag(StatusCode::CREATED, rule.version, &rule))
}

/// Replace a deadline rule, or retire it with `active: false` (admin; `If-Match` required).
#[utoipa::path(
    tag = "patents",
    request_body = RuleInput,
    params(("id" = i64, Path, description = "Rule id"), IfMatchHeader),
    responses((status = 200, description = "The rule", body = DeadlineRule, headers(("ETag" = String))))
)]
#[put("/deadline-rules/{id}")]
pub async fn update_rule(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<RuleInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let input = body.into_inner();
    check_rule(&input.rule)?;
    let rule = state
        .db
        .write(move |conn| {
            let row = repo::find_rule(conn, id)?
                .ok_or_else(|| ApiError::not_found("deadline rule", id))?;
            check_version(&expected, row.version)?;
            let before = DeadlineRule::try_from(row.clone())?;
            let updated = repo::update_rule(
                conn,
                id,
                row.version,
                &input.rule,
                input.active.unwrap_or(true),
                crate::db::now(),
            )?
            .ok_or_else(|| ApiError::PreconditionFailed("the rule changed meanwhile".into()))?;
            let after = DeadlineRule::try_from(updated)?;
            audit(
                conn,
                &caller,
                "update",
                "deadline_rule",
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, rule.version, &rule))
}

// ---------------------------------------------------------------- docket

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// Not met and not due yet.
    Open,
    /// Past due and neither met nor marked.
    Overdue,
    /// Met by the filings, or marked done.
    Done,
    /// Marked as deliberately not met (e.g. a country not entered).
    Waived,
}

/// One deadline on the docket.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DocketItem {
    /// Stable id: `{filing_id}-{rule_key}-{due_on}`.
    pub id: String,
    pub due_on: NaiveDate,
    /// Negative when past.
    pub days_left: i64,
    pub status: DeadlineStatus,
    pub label: String,
    pub rule_key: String,
    pub idea_id: i64,
    pub family_id: i64,
    pub family_title: String,
    pub filing_id: i64,
    pub jurisdiction: String,
    pub application_number: Option<String>,
    /// Met by the filings themselves (e.g. the national phase was entered), mark or not.
    pub met_by_filings: bool,
    /// The note of a done/waived mark.
    pub note: Option<String>,
}

/// Computes the docket between `from` and `to` (inclusive), by due date.
pub fn docket(
    conn: &mut AnyConnection,
    from: NaiveDate,
    to: NaiveDate,
    today: NaiveDate,
) -> Result<Vec<DocketItem>, ApiError> {
    let rules = active_rules(conn)?;
    let rows = repo::all_filings(conn)?;
    let marks: HashMap<(i64, String, NaiveDate), MarkRow> = repo::marks(conn)?
        .into_iter()
        .map(|m| ((m.filing_id, m.rule_key.clone(), m.due_on), m))
        .collect();
    let mut by_family: HashMap<i64, Vec<rules::Filing>> = HashMap::new();
    for (r, _, _) in &rows {
        by_family.entry(r.family_id).or_default().push(facts(r)?);
    }
    let mut out = Vec::new();
    for (r, idea_id, family_title) in &rows {
        let family = &by_family[&r.family_id];
        let Some(f) = family.iter().find(|f| f.id == r.id) else {
            continue;
        };
        for d in rules::deadlines(f, family, &rules, from, to) {
            let mark = marks.get(&(d.filing_id, d.rule_key.clone(), d.due_on));
            let status = match (d.satisfied, mark.map(|m| m.status.as_str())) {
                (true, _) | (_, Some("done")) => DeadlineStatus::Done,
                (_, Some(_)) => DeadlineStatus::Waived,
                _ if d.due_on < today => DeadlineStatus::Overdue,
                _ => DeadlineStatus::Open,
            };
            out.push(DocketItem {
                id: format!("{}-{}-{}", d.filing_id, d.rule_key, d.due_on),
                days_left: (d.due_on - today).num_days(),
                status,
                label: d.label,
                rule_key: d.rule_key,
                due_on: d.due_on,
                idea_id: *idea_id,
                family_id: r.family_id,
                family_title: family_title.clone(),
                filing_id: r.id,
                jurisdiction: r.jurisdiction.clone(),
                application_number: r.application_number.clone(),
                met_by_filings: d.satisfied,
                note: mark.and_then(|m| m.note.clone()),
            });
        }
    }
    out.sort_by(|a, b| {
        (a.due_on, a.filing_id, &a.rule_key).cmp(&(b.due_on, b.filing_id, &b.rule_key))
    });
    Ok(out)
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocketFilter {
    Open,
    Overdue,
    Done,
    Waived,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocketQuery {
    /// First due date (default: 90 days ago).
    pub from: Option<NaiveDate>,
    /// Last due date (default: a year from today; at most 50 years after `from`).
    pub to: Option<NaiveDate>,
    #[param(inline)]
    pub status: Option<DocketFilter>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// The docket window: defaults, and a window is cut at 50 years (an inverted one is empty).
fn window(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    today: NaiveDate,
) -> (NaiveDate, NaiveDate) {
    let from = from.unwrap_or(today - TimeDelta::days(90));
    let to = to.unwrap_or(today + TimeDelta::days(365));
    let cap = rules::shift(from, 50, rules::OffsetUnit::Years);
    (from, to.min(cap))
}

/// The patent deadline docket across the portfolio, by due date.
#[utoipa::path(tag = "patents", params(DocketQuery), responses((status = 200, description = "Deadlines", body = Page<DocketItem>)))]
#[get("/patent-deadlines")]
pub async fn list_deadlines(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<DocketQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let today = today();
    let (from, to) = window(q.from, q.to, today);
    let mut items = if to < from {
        Vec::new()
    } else {
        state.db.read(move |c| docket(c, from, to, today)).await?
    };
    if let Some(f) = q.status {
        let want = match f {
            DocketFilter::Open => DeadlineStatus::Open,
            DocketFilter::Overdue => DeadlineStatus::Overdue,
            DocketFilter::Done => DeadlineStatus::Done,
            DocketFilter::Waived => DeadlineStatus::Waived,
        };
        items.retain(|i| i.status == want);
    }
    Ok(HttpResponse::Ok().json(Page::of(items, limit, offset)))
}

fn ics_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// Open and overdue deadlines as an iCalendar feed (all-day events) for staff calendars.
#[utoipa::path(
    tag = "patents",
    responses((status = 200, description = "iCalendar", body = String, content_type = "text/calendar"))
)]
#[get("/patent-deadlines.ics")]
pub async fn deadlines_ics(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let today = today();
    let items = state
        .db
        .read(move |c| {
            docket(
                c,
                today - TimeDelta::days(365),
                today + TimeDelta::days(3 * 366),
                today,
            )
        })
        .await?;
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Innofolio//Patent deadlines//EN\r\nCALSCALE:GREGORIAN\r\nX-WR-CALNAME:Patent deadlines\r\n");
    for i in items
        .iter()
        .filter(|i| matches!(i.status, DeadlineStatus::Open | DeadlineStatus::Overdue))
    {
        let end = i.due_on + TimeDelta::days(1);
        out.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{}@innofolio\r\nDTSTAMP:{stamp}\r\nDTSTART;VALUE=DATE:{}\r\nDTEND;VALUE=DATE:{}\r\nSUMMARY:{}\r\nDESCRIPTION:{}\r\nEND:VEVENT\r\n",
            i.id,
            i.due_on.format("%Y%m%d"),
            end.format("%Y%m%d"),
            ics_escape(&format!("{} – {} {}", i.label, i.jurisdiction, i.family_title)),
            ics_escape(&format!(
                "Idea {}, family {}, filing {} ({}); status {:?}",
                i.idea_id,
                i.family_id,
                i.filing_id,
                i.application_number.as_deref().unwrap_or("no application number"),
                i.status
            )),
        ));
    }
    out.push_str("END:VCALENDAR\r\n");
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .body(out))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MarkStatus {
    Done,
    Waived,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeadlineMark {
    pub status: MarkStatus,
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Splits `{filing_id}-{rule_key}-{YYYY-MM-DD}`.
fn parse_deadline_id(id: &str) -> Option<(i64, String, NaiveDate)> {
    let date_at = id.len().checked_sub(10)?;
    let (head, date) = (id.get(..date_at)?, id.get(date_at..)?);
    let (filing, rule_key) = head.strip_suffix('-')?.split_once('-')?;
    Some((
        filing.parse().ok()?,
        rule_key.to_string(),
        NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?,
    ))
}

/// Mark a deadline done or waived, with a note (audited). The id is the docket item's id.
#[utoipa::path(
    tag = "patents",
    request_body = DeadlineMark,
    params(("id" = String, Path, description = "Docket item id: {filing_id}-{rule_key}-{due_on}")),
    responses((status = 200, description = "The deadline as it now stands", body = DocketItem))
)]
#[put("/patent-deadlines/{id}")]
pub async fn mark_deadline(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<String>,
    body: ApiJson<DeadlineMark>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.into_inner();
    input.validate()?;
    let parsed = parse_deadline_id(&id);
    let (filing_id, rule_key, due_on) =
        parsed.ok_or_else(|| ApiError::NotFound(format!("no deadline {id}")))?;
    let today = today();
    let item = state
        .db
        .write(move |conn| {
            let mut item = docket(conn, due_on, due_on, today)?
                .into_iter()
                .find(|i| i.filing_id == filing_id && i.rule_key == rule_key && i.due_on == due_on)
                .ok_or_else(|| ApiError::NotFound(format!("no deadline {filing_id}-{rule_key}-{due_on}")))?;
            let status = match input.status {
                MarkStatus::Done => "done",
                MarkStatus::Waived => "waived",
            };
            let mark = repo::set_mark(
                conn,
                &repo::NewMark {
                    filing_id,
                    rule_key: rule_key.clone(),
                    due_on,
                    status: status.into(),
                    note: input.note.clone(),
                    actor: caller.name.clone(),
                    marked_at: crate::db::now(),
                },
            )?;
            audit(conn, &caller, "mark_deadline", "patent_filing", filing_id, None::<&()>, Some(&serde_json::json!({
                "rule_key": mark.rule_key, "due_on": mark.due_on, "status": mark.status, "note": mark.note
            })))?;
            item.status = match (item.met_by_filings, input.status) {
                (true, _) | (false, MarkStatus::Done) => DeadlineStatus::Done,
                (false, MarkStatus::Waived) => DeadlineStatus::Waived,
            };
            item.note = mark.note;
            Ok(item)
        })
        .await?;
    Ok(HttpResponse::Ok().json(item))
}

// ---------------------------------------------------------------- costs

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CostCategory {
    Filing,
    Prosecution,
    Renewal,
    Agent,
    Translation,
    Validation,
    Other,
}

impl CostCategory {
    const ALL: [CostCategory; 7] = [
        Self::Filing,
        Self::Prosecution,
        Self::Renewal,
        Self::Agent,
        Self::Translation,
        Self::Validation,
        Self::Other,
    ];
    fn as_str(self) -> &'static str {
        match self {
            Self::Filing => "filing",
            Self::Prosecution => "prosecution",
            Self::Renewal => "renewal",
            Self::Agent => "agent",
            Self::Translation => "translation",
            Self::Validation => "validation",
            Self::Other => "other",
        }
    }
    fn parse(s: &str) -> CostCategory {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .unwrap_or(Self::Other)
    }
}

/// A patent cost.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PatentCost {
    pub id: i64,
    pub idea_id: i64,
    pub family_id: i64,
    pub filing_id: Option<i64>,
    pub incurred_on: NaiveDate,
    pub amount: Money,
    pub category: CostCategory,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn cost_of(r: CostRow, idea_id: i64) -> PatentCost {
    PatentCost {
        id: r.id,
        idea_id,
        family_id: r.family_id,
        filing_id: r.filing_id,
        incurred_on: r.incurred_on,
        amount: Money {
            amount_minor: r.amount_minor,
            currency: r.currency,
        },
        category: CostCategory::parse(&r.category),
        note: r.note,
        created_at: r.created_at.and_utc(),
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCost {
    /// The family the cost belongs to (or give `filing_id`).
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub family_id: Option<i64>,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub filing_id: Option<i64>,
    pub incurred_on: NaiveDate,
    #[validate(nested)]
    pub amount: Money,
    pub category: CostCategory,
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Record a patent cost against a family or one of its filings.
#[utoipa::path(
    tag = "patents",
    request_body = NewCost,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Recorded", body = PatentCost, headers(("Location" = String))))
)]
#[post("/patent-costs")]
pub async fn create_cost(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewCost>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.value;
    input.validate()?;
    if input.family_id.is_none() && input.filing_id.is_none() {
        return Err(ApiError::field(
            "family_id",
            "required",
            "give family_id or filing_id",
        ));
    }
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let family_id = match (input.family_id, input.filing_id) {
            (_, Some(fid)) => {
                let filing = repo::find_filing(conn, fid)?.ok_or_else(|| {
                    ApiError::field(
                        "filing_id",
                        "not_found",
                        format!("filing {fid} does not exist"),
                    )
                })?;
                if input.family_id.is_some_and(|f| f != filing.family_id) {
                    return Err(ApiError::field(
                        "family_id",
                        "mismatch",
                        "the filing belongs to another family",
                    ));
                }
                filing.family_id
            }
            (Some(f), None) => f,
            (None, None) => {
                return Err(ApiError::field(
                    "family_id",
                    "required",
                    "give family_id or filing_id",
                ))
            }
        };
        let family = repo::find_family(conn, family_id)?.ok_or_else(|| {
            ApiError::field(
                "family_id",
                "not_found",
                format!("patent family {family_id} does not exist"),
            )
        })?;
        let row = repo::insert_cost(
            conn,
            &repo::NewCost {
                family_id,
                filing_id: input.filing_id,
                incurred_on: input.incurred_on,
                amount_minor: input.amount.amount_minor,
                currency: input.amount.currency.clone(),
                category: input.category.as_str().to_string(),
                note: input.note.clone(),
                created_at: crate::db::now(),
            },
        )?;
        let cost = cost_of(row, family.idea_id);
        audit(
            conn,
            &actor,
            "create",
            "patent_cost",
            cost.id,
            None::<&()>,
            Some(&cost),
        )?;
        Ok(Created {
            location: format!("/api/v1/patent-costs?family_id={family_id}"),
            version: 1,
            body: serde_json::to_value(&cost).map_err(ApiError::internal)?,
        })
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CostQuery {
    pub idea_id: Option<i64>,
    pub family_id: Option<i64>,
    /// Incurred on or after.
    pub from: Option<NaiveDate>,
    /// Incurred on or before.
    pub to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Patent costs, by date.
#[utoipa::path(tag = "patents", params(CostQuery), responses((status = 200, description = "Costs", body = Page<PatentCost>)))]
#[get("/patent-costs")]
pub async fn list_costs(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<CostQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let rows = state
        .db
        .read(move |c| Ok(repo::costs(c, q.idea_id, q.family_id, q.from, q.to)?))
        .await?;
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, offset).map(|(r, idea)| cost_of(r, idea))))
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CostGrouping {
    Idea,
    Family,
    Year,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TotalsQuery {
    /// Group by `idea`, `family` or `year` (default `year`).
    #[param(inline)]
    pub by: Option<CostGrouping>,
    pub idea_id: Option<i64>,
    pub family_id: Option<i64>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// A total of patent costs in one currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CostTotal {
    /// The idea id, family id or year.
    pub key: i64,
    pub currency: String,
    pub amount_minor: i64,
    pub count: i64,
}

/// Patent cost totals per idea, family or year (per currency; never converted).
#[utoipa::path(tag = "patents", params(TotalsQuery), responses((status = 200, description = "Totals", body = Vec<CostTotal>)))]
#[get("/patent-costs/totals")]
pub async fn cost_totals(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<TotalsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let by = q.by.unwrap_or(CostGrouping::Year);
    let rows = state
        .db
        .read(move |c| Ok(repo::costs(c, q.idea_id, q.family_id, q.from, q.to)?))
        .await?;
    let mut totals: std::collections::BTreeMap<(i64, String), (i64, i64)> = Default::default();
    for (r, idea) in rows {
        let key = match by {
            CostGrouping::Idea => idea,
            CostGrouping::Family => r.family_id,
            CostGrouping::Year => i64::from(chrono::Datelike::year(&r.incurred_on)),
        };
        let e = totals.entry((key, r.currency)).or_default();
        e.0 =
            e.0.checked_add(r.amount_minor)
                .ok_or_else(|| ApiError::internal("cost total overflows"))?;
        e.1 += 1;
    }
    let out: Vec<CostTotal> = totals
        .into_iter()
        .map(|((key, currency), (amount_minor, count))| CostTotal {
            key,
            currency,
            amount_minor,
            count,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
