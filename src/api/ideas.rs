//! `/api/v1/ideas`: ideas and inventions from intake until they leave the portfolio, with their
//! inventors, owners, screening checklists, rights decision and history.

use std::collections::HashSet;

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::{Validate, ValidationError};

use super::extract::{
    check_query_text, check_version, double_option, if_match, paging, patch_optional,
    patch_required, text_filter, ApiJson, DecimalText, FteInput, IdempotencyKeyHeader,
    IfMatchHeader, Page, PercentInput,
};
use super::{audit, create_idempotent, with_etag, AppState, Created};
use crate::auth::Caller;
use crate::db::idea_records::DisclosureRow;
use crate::db::ideas::{
    self as repo, EventRow, IdeaData, IdeaFilter, IdeaRow, IdeaSort, OutcomeFilter,
};
use crate::db::{organisations, people, AnyConnection};
use crate::domain::checklist::{self, Answer, CHECKLIST_STAGES};
use crate::domain::dates::rights_deadline;
use crate::domain::funnel::{
    check_move, IdeaKind, InnovationType, MoveContext, MoveError, MoveRequest, Outcome, Position,
    RightsDecision, Stage, Target,
};
use crate::domain::money::{format_fte, parse_fte, Money};
use crate::domain::shares::{format_percent, parse_percent, HUNDRED_PERCENT};
use crate::domain::Role;
use crate::error::{ApiError, FieldError};

const ENTITY: &str = "idea";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_ideas)
        .service(create_idea)
        .service(get_idea)
        .service(update_idea)
        .service(delete_idea)
        .service(list_idea_history)
        .service(create_transition)
        .service(decide_rights)
        .service(create_rights_extension)
        .service(list_rights_decisions)
        .service(get_inventors)
        .service(put_inventors)
        .service(get_owners)
        .service(put_owners)
        .service(get_checklists)
        .service(put_checklist);
}

/// Today's date (UTC), the reference for deadlines.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

// ---------------------------------------------------------------- representations

/// Where an invention stands with its rights decision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RightsStatus {
    /// `received_on` + 2 calendar months (clamped to the month's end).
    pub statutory_deadline: NaiveDate,
    /// The deadline in force: the statutory one or the latest agreed extension.
    pub deadline: NaiveDate,
    pub extended: bool,
    pub decision: Option<RightsDecision>,
    pub decided_on: Option<NaiveDate>,
    /// `decided`, `open` or `overdue`.
    pub status: String,
    /// Days from today to the deadline (negative when overdue); absent once decided.
    pub days_left: Option<i64>,
}

/// An idea or invention.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Idea {
    pub id: i64,
    pub title: String,
    /// Left out for `integration` keys when the idea is confidential.
    pub description: Option<String>,
    /// The problem or clinical need. Left out for `integration` keys when confidential.
    pub need: Option<String>,
    pub kind: IdeaKind,
    pub innovation_type: InnovationType,
    pub received_on: NaiveDate,
    pub source_organisation_id: Option<i64>,
    pub project_manager_id: Option<i64>,
    pub tags: Vec<String>,
    pub confidential: bool,
    pub stage: Stage,
    /// Null while the idea is in the active portfolio.
    pub outcome: Option<Outcome>,
    /// Who a passed-on idea was passed on to.
    pub recipient_organisation_id: Option<i64>,
    /// Inventions only.
    pub rights: Option<RightsStatus>,
    /// Expected results recorded when the idea left the portfolio.
    pub expected_results: Option<String>,
    pub expected_yearly_savings: Option<Money>,
    /// Expected full-time equivalents freed per year, as a decimal string.
    pub expected_fte: Option<String>,
    /// Things staff should act on, e.g. a public disclosure before any patent filing.
    pub warnings: Vec<IdeaWarning>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A warning on an idea.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IdeaWarning {
    /// Stable code, e.g. `public_disclosure_before_filing`.
    pub code: String,
    pub message: String,
}

/// Warnings that follow from an invention's public disclosures (earliest first) and the
/// earliest priority date of its patent filings (`None`: no filing yet). A disclosure before the
/// earliest priority — or any disclosure while nothing is filed — may have destroyed novelty.
pub fn disclosure_warnings(
    kind: IdeaKind,
    disclosures: &[DisclosureRow],
    earliest_priority: Option<NaiveDate>,
) -> Vec<IdeaWarning> {
    if !kind.is_invention() {
        return Vec::new();
    }
    match (disclosures.first(), earliest_priority) {
        (Some(d), None) => vec![IdeaWarning {
            code: "public_disclosure_before_filing".into(),
            message: format!(
                "disclosed publicly on {} ({} at {}) and no patent application is recorded: novelty may be lost",
                d.disclosed_on, d.kind, d.venue
            ),
        }],
        (Some(d), Some(p)) if d.disclosed_on < p => vec![IdeaWarning {
            code: "public_disclosure_before_priority".into(),
            message: format!(
                "disclosed publicly on {} ({} at {}), before the earliest priority date {p}: novelty may be lost",
                d.disclosed_on, d.kind, d.venue
            ),
        }],
        _ => Vec::new(),
    }
}

/// The earliest priority date over an idea's living filings.
fn idea_priority(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, NaiveDate>, ApiError> {
    let mut out: std::collections::HashMap<i64, NaiveDate> = std::collections::HashMap::new();
    for (row, idea) in crate::db::patents::filings_of_ideas(conn, ids)? {
        let Some(status) = crate::domain::patents::FilingStatus::parse(&row.status) else {
            continue;
        };
        if status.is_dead() {
            continue;
        }
        let date = row
            .priority_dates
            .split(',')
            .filter_map(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok())
            .chain(row.filing_date)
            .min();
        if let Some(d) = date {
            out.entry(idea)
                .and_modify(|e| *e = (*e).min(d))
                .or_insert(d);
        }
    }
    Ok(out)
}

fn corrupt(what: &str, id: i64, value: &str) -> ApiError {
    ApiError::Internal(format!("idea {id} has unknown {what} '{value}'"))
}

impl Idea {
    pub fn build(
        row: IdeaRow,
        tags: Vec<String>,
        disclosures: &[DisclosureRow],
        earliest_priority: Option<NaiveDate>,
        today: NaiveDate,
        role: Role,
    ) -> Result<Idea, ApiError> {
        let kind = IdeaKind::parse(&row.kind).ok_or_else(|| corrupt("kind", row.id, &row.kind))?;
        let innovation_type = InnovationType::parse(&row.innovation_type)
            .ok_or_else(|| corrupt("innovation type", row.id, &row.innovation_type))?;
        let stage = Stage::parse(&row.stage).ok_or_else(|| corrupt("stage", row.id, &row.stage))?;
        let outcome = match &row.outcome {
            Some(o) => Some(Outcome::parse(o).ok_or_else(|| corrupt("outcome", row.id, o))?),
            None => None,
        };
        let decision = match &row.rights_decision {
            Some(d) => Some(
                RightsDecision::parse(d).ok_or_else(|| corrupt("rights decision", row.id, d))?,
            ),
            None => None,
        };
        let rights = match (kind.is_invention(), row.rights_deadline) {
            (true, Some(deadline)) => {
                let statutory = rights_deadline(row.received_on);
                let days = (deadline - today).num_days();
                let (status, days_left) = match decision {
                    Some(_) => ("decided", None),
                    None if days < 0 => ("overdue", Some(days)),
                    None => ("open", Some(days)),
                };
                Some(RightsStatus {
                    statutory_deadline: statutory,
                    deadline,
                    extended: deadline != statutory,
                    decision,
                    decided_on: row.rights_decided_on,
                    status: status.to_string(),
                    days_left,
                })
            }
            _ => None,
        };
        let redact = row.confidential && role == Role::Integration;
        Ok(Idea {
            id: row.id,
            title: row.title,
            description: if redact { None } else { row.description },
            need: if redact { None } else { row.need },
            kind,
            innovation_type,
            received_on: row.received_on,
            source_organisation_id: row.source_organisation_id,
            project_manager_id: row.project_manager_id,
            tags,
            confidential: row.confidential,
            stage,
            outcome,
            recipient_organisation_id: row.recipient_organisation_id,
            rights,
            expected_results: row.expected_results,
            expected_yearly_savings: match (
                row.expected_savings_minor,
                row.expected_savings_currency,
            ) {
                (Some(amount_minor), Some(currency)) => Some(Money {
                    amount_minor,
                    currency,
                }),
                _ => None,
            },
            expected_fte: row.expected_fte_centi.map(format_fte),
            warnings: disclosure_warnings(kind, disclosures, earliest_priority),
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

pub(crate) fn load(conn: &mut AnyConnection, id: i64) -> Result<IdeaRow, ApiError> {
    repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))
}

pub(crate) fn idea_of(
    conn: &mut AnyConnection,
    row: IdeaRow,
    role: Role,
) -> Result<Idea, ApiError> {
    let tags = repo::tags_of(conn, &[row.id])?
        .remove(&row.id)
        .unwrap_or_default();
    let disclosures = crate::db::idea_records::disclosures_of(conn, &[row.id])?;
    let priority = idea_priority(conn, &[row.id])?.remove(&row.id);
    Idea::build(row, tags, &disclosures, priority, today(), role)
}

// ---------------------------------------------------------------- create and update

fn tags_rule(tags: &[String]) -> Result<(), ValidationError> {
    if tags
        .iter()
        .any(|t| t.trim().is_empty() || t.chars().count() > 50)
    {
        let mut e = ValidationError::new("tag");
        e.message = Some("each tag must be 1 to 50 characters".into());
        return Err(e);
    }
    Ok(())
}

fn normalise_tags(tags: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    tags.iter()
        .map(|t| t.trim().to_string())
        .filter(|t| seen.insert(t.clone()))
        .collect()
}

/// The fields of an idea a client sets when registering it.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIdea {
    #[validate(
        length(min = 1, max = 300, message = "must be 1 to 300 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = "\\S",
        example = "Pressure-sensing wound dressing"
    )]
    pub title: String,
    #[serde(default)]
    #[validate(length(max = 20000, message = "must be at most 20000 characters"))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// The problem or clinical need.
    #[serde(default)]
    #[validate(length(max = 20000, message = "must be at most 20000 characters"))]
    #[schema(max_length = 20000)]
    pub need: Option<String>,
    pub kind: IdeaKind,
    /// Default `product`.
    #[serde(default)]
    pub innovation_type: Option<InnovationType>,
    /// The day the idea or disclosure was received (not in the future).
    pub received_on: NaiveDate,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub source_organisation_id: Option<i64>,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub project_manager_id: Option<i64>,
    #[serde(default)]
    #[validate(
        length(max = 20, message = "at most 20 tags"),
        custom(function = "tags_rule")
    )]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub confidential: bool,
}

/// Merge patch of an idea. Stage and outcome change only through transitions.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdeaPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 300, pattern = "\\S")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20000)]
    pub need: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = IdeaKind)]
    pub kind: Option<Option<IdeaKind>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = InnovationType)]
    pub innovation_type: Option<Option<InnovationType>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = NaiveDate)]
    pub received_on: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub source_organisation_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub project_manager_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<String>, max_items = 20)]
    pub tags: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = bool)]
    pub confidential: Option<Option<bool>>,
}

pub(crate) fn check_received_on(date: NaiveDate) -> Result<(), ApiError> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    if date > today() || date < earliest {
        return Err(ApiError::field(
            "received_on",
            "range",
            "must be between 1900-01-01 and today",
        ));
    }
    Ok(())
}

fn check_idea_references(conn: &mut AnyConnection, input: &NewIdea) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Some(org) = input.source_organisation_id {
        if !organisations::exists(conn, org)? {
            errors.push(FieldError::new(
                "source_organisation_id",
                "not_found",
                format!("organisation {org} does not exist"),
            ));
        }
    }
    if let Some(p) = input.project_manager_id {
        if people::find(conn, p)?.is_none() {
            errors.push(FieldError::new(
                "project_manager_id",
                "not_found",
                format!("person {p} does not exist"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Writes a new idea with its tags and its `created` event (dated the day it was received).
fn insert_idea(
    conn: &mut AnyConnection,
    caller: &Caller,
    input: &NewIdea,
) -> Result<IdeaRow, ApiError> {
    let (stage, outcome): (Stage, Option<Outcome>) = (Stage::PreScreening, None);
    let data = IdeaData {
        title: input.title.trim().to_string(),
        description: input.description.clone(),
        need: input.need.clone(),
        kind: input.kind.as_str().to_string(),
        innovation_type: input
            .innovation_type
            .unwrap_or(InnovationType::Product)
            .as_str()
            .to_string(),
        received_on: input.received_on,
        source_organisation_id: input.source_organisation_id,
        project_manager_id: input.project_manager_id,
        confidential: input.confidential,
        stage: stage.as_str().to_string(),
        outcome: outcome.map(|o| o.as_str().to_string()),
        recipient_organisation_id: None,
        rights_decision: None,
        rights_decided_on: None,
        rights_deadline: input
            .kind
            .is_invention()
            .then(|| rights_deadline(input.received_on)),
        expected_results: None,
        expected_savings_minor: None,
        expected_savings_currency: None,
        expected_fte_centi: None,
    };
    let now = crate::db::now();
    let row = repo::insert(conn, &data, now)?;
    repo::add_tags(conn, row.id, &normalise_tags(&input.tags))?;
    repo::insert_event(
        conn,
        &repo::NewEvent {
            idea_id: row.id,
            at: now,
            occurred_on: input.received_on,
            actor: caller.name.clone(),
            event: "created".into(),
            to_stage: Some(stage.as_str().into()),
            to_outcome: outcome.map(|o| o.as_str().into()),
            ..Default::default()
        },
    )?;
    Ok(row)
}

/// Filters, search, sort and paging for the idea list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdeaQuery {
    #[param(inline)]
    pub stage: Option<Stage>,
    /// Only ideas that left with this outcome.
    #[param(inline)]
    pub outcome: Option<Outcome>,
    /// `true`: only ideas in the active portfolio; `false`: only ideas that left it.
    pub active: Option<bool>,
    #[param(inline)]
    pub kind: Option<IdeaKind>,
    #[param(inline)]
    pub innovation_type: Option<InnovationType>,
    /// Source organisation.
    pub organisation_id: Option<i64>,
    pub project_manager_id: Option<i64>,
    #[param(max_length = 50, pattern = "^[^\\x00]*$")]
    pub tag: Option<String>,
    /// Received on or after this date.
    pub received_from: Option<NaiveDate>,
    /// Received on or before this date.
    pub received_to: Option<NaiveDate>,
    /// Full-text search over title, description and need; any word matches (prefixes too),
    /// best matches first. Use it to find similar earlier ideas before accepting a new one.
    #[param(max_length = 200, pattern = "^[^\\x00]*$")]
    pub q: Option<String>,
    /// Sort order (`-` descending); default `-received_on`, or relevance with `q`.
    #[param(inline)]
    pub sort: Option<IdeaSortParam>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum IdeaSortParam {
    #[serde(rename = "received_on")]
    ReceivedOn,
    #[serde(rename = "-received_on")]
    ReceivedOnDesc,
    #[serde(rename = "title")]
    Title,
    #[serde(rename = "-title")]
    TitleDesc,
    #[serde(rename = "id")]
    Id,
    #[serde(rename = "-id")]
    IdDesc,
}

/// One page of the idea list for `q`, as `role` may see it (also used by the CSV export).
pub(crate) fn ideas_page(
    conn: &mut AnyConnection,
    q: &IdeaQuery,
    role: Role,
    limit: i64,
    offset: i64,
) -> Result<Page<Idea>, ApiError> {
    // Filters combine with AND: an outcome with active=true matches nothing.
    let outcome = match (q.outcome, q.active) {
        (Some(_), Some(true)) => OutcomeFilter::Nothing,
        (Some(o), _) => OutcomeFilter::Is(o.as_str().to_string()),
        (None, Some(true)) => OutcomeFilter::Active,
        (None, Some(false)) => OutcomeFilter::Left,
        (None, None) => OutcomeFilter::Any,
    };
    let mut filter = IdeaFilter {
        stage: q.stage.map(|s| s.as_str().to_string()),
        outcome,
        kind: q.kind.map(|k| k.as_str().to_string()),
        innovation_type: q.innovation_type.map(|t| t.as_str().to_string()),
        organisation_id: q.organisation_id,
        project_manager_id: q.project_manager_id,
        tag: text_filter(q.tag.clone()),
        received_from: q.received_from,
        received_to: q.received_to,
        ids: None,
    };
    let text = text_filter(q.q.clone());
    let sort = q.sort;
    let (rows, total) = match text {
        Some(text) if sort.is_none() => {
            // Rank by relevance: the search gives the order, the filters narrow it.
            let ranked = repo::search_ids(conn, &text, 10_000)?;
            filter.ids = Some(ranked.clone());
            let mut rows = repo::all_matching(conn, &filter)?;
            let position: std::collections::HashMap<i64, usize> =
                ranked.iter().enumerate().map(|(i, id)| (*id, i)).collect();
            rows.sort_by_key(|r| position.get(&r.id).copied().unwrap_or(usize::MAX));
            let page = Page::of(rows, limit, offset);
            (page.items, page.total)
        }
        text => {
            if let Some(text) = text {
                filter.ids = Some(repo::search_ids(conn, &text, 10_000)?);
            }
            let order = match sort.unwrap_or(IdeaSortParam::ReceivedOnDesc) {
                IdeaSortParam::ReceivedOn => IdeaSort::ReceivedOn,
                IdeaSortParam::ReceivedOnDesc => IdeaSort::ReceivedOnDesc,
                IdeaSortParam::Title => IdeaSort::Title,
                IdeaSortParam::TitleDesc => IdeaSort::TitleDesc,
                IdeaSortParam::Id => IdeaSort::Id,
                IdeaSortParam::IdDesc => IdeaSort::IdDesc,
            };
            repo::list(conn, &filter, order, limit, offset)?
        }
    };
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tags = repo::tags_of(conn, &ids)?;
    let disclosures = crate::db::idea_records::disclosures_of(conn, &ids)?;
    let priorities = idea_priority(conn, &ids)?;
    let today = today();
    let items = rows
        .into_iter()
        .map(|r| {
            let t = tags.remove(&r.id).unwrap_or_default();
            let d: Vec<DisclosureRow> = disclosures
                .iter()
                .filter(|d| d.idea_id == r.id)
                .cloned()
                .collect();
            let p = priorities.get(&r.id).copied();
            Idea::build(r, t, &d, p, today, role)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        items,
        total,
        limit,
        offset,
    })
}

/// List and search ideas.
#[utoipa::path(
    tag = "ideas",
    params(IdeaQuery),
    responses((status = 200, description = "A page of ideas", body = Page<Idea>))
)]
#[get("/ideas")]
pub async fn list_ideas(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<IdeaQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    check_query_text("q", &q.q, 200)?;
    check_query_text("tag", &q.tag, 50)?;
    let role = caller.role;
    let page = state
        .db
        .read(move |conn| ideas_page(conn, &q, role, limit, offset))
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Register a new idea or invention; it starts in `pre_screening`.
#[utoipa::path(
    tag = "ideas",
    request_body = NewIdea,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = Idea, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/ideas")]
pub async fn create_idea(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewIdea>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.value;
    input.validate()?;
    check_received_on(input.received_on)?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let idea = create_idea_in(conn, &actor, &input)?;
        Ok(Created {
            location: format!("/api/v1/ideas/{}", idea.id),
            version: idea.version,
            body: serde_json::to_value(&idea).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Get one idea.
#[utoipa::path(
    tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 200, description = "The idea", body = Idea, headers(("ETag" = String))))
)]
#[get("/ideas/{id}")]
pub async fn get_idea(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let role = caller.role;
    let idea = state
        .db
        .read(move |c| {
            let row = load(c, id)?;
            idea_of(c, row, role)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, idea.version, &idea))
}

/// Change an idea's fields (merge patch; `If-Match` required). Stage and outcome change only
/// through transitions.
#[utoipa::path(
    tag = "ideas",
    request_body(content = IdeaPatch, content_type = "application/merge-patch+json"),
    params(("id" = i64, Path, description = "Idea id"), IfMatchHeader),
    responses((status = 200, description = "The changed idea", body = Idea, headers(("ETag" = String))))
)]
#[patch("/ideas/{id}")]
pub async fn update_idea(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<IdeaPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let idea = state
        .db
        .write(move |conn| {
            let row = load(conn, id)?;
            let before = idea_of(conn, row.clone(), caller.role)?;
            let mut next = NewIdea {
                title: before.title.clone(),
                description: before.description.clone(),
                need: before.need.clone(),
                kind: before.kind,
                innovation_type: Some(before.innovation_type),
                received_on: before.received_on,
                source_organisation_id: before.source_organisation_id,
                project_manager_id: before.project_manager_id,
                tags: before.tags.clone(),
                confidential: before.confidential,
            };
            let mut errors = Vec::new();
            patch_required(&mut next.title, patch.title, "title", &mut errors);
            patch_optional(&mut next.description, patch.description);
            patch_optional(&mut next.need, patch.need);
            patch_required(&mut next.kind, patch.kind, "kind", &mut errors);
            let mut itype = before.innovation_type;
            patch_required(
                &mut itype,
                patch.innovation_type,
                "innovation_type",
                &mut errors,
            );
            next.innovation_type = Some(itype);
            patch_required(
                &mut next.received_on,
                patch.received_on,
                "received_on",
                &mut errors,
            );
            patch_optional(
                &mut next.source_organisation_id,
                patch.source_organisation_id,
            );
            patch_optional(&mut next.project_manager_id, patch.project_manager_id);
            patch_required(&mut next.tags, patch.tags, "tags", &mut errors);
            patch_required(
                &mut next.confidential,
                patch.confidential,
                "confidential",
                &mut errors,
            );
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            save_idea(conn, &caller, row, &before, &next, Some(&expected))
        })
        .await?;
    Ok(with_etag(StatusCode::OK, idea.version, &idea))
}

/// Registers an idea (references checked here) with its audit record.
pub(crate) fn create_idea_in(
    conn: &mut AnyConnection,
    caller: &Caller,
    input: &NewIdea,
) -> Result<Idea, ApiError> {
    check_idea_references(conn, input)?;
    let row = insert_idea(conn, caller, input)?;
    // A new idea has no disclosures and no filings yet. Its tags are read back in the
    // database's order (its collation), as every later read gives them — unless there is at
    // most one.
    let given = normalise_tags(&input.tags);
    let tags = if given.len() <= 1 {
        given
    } else {
        repo::tags_of(conn, &[row.id])?
            .remove(&row.id)
            .unwrap_or_default()
    };
    let idea = Idea::build(row, tags, &[], None, today(), caller.role)?;
    audit(
        conn,
        caller,
        "create",
        ENTITY,
        idea.id,
        None::<&()>,
        Some(&idea),
    )?;
    Ok(idea)
}

/// Writes a whole set of client fields over an idea (checked here), with its audit record;
/// `expected` is the `If-Match` to honour, if any.
pub(crate) fn save_idea(
    conn: &mut AnyConnection,
    caller: &Caller,
    row: IdeaRow,
    before: &Idea,
    next: &NewIdea,
    expected: Option<&str>,
) -> Result<Idea, ApiError> {
    let id = row.id;
    next.validate()?;
    check_received_on(next.received_on)?;
    if let Some(expected) = expected {
        check_version(expected, row.version)?;
    }
    check_idea_references(conn, next)?;
    let mut data = IdeaData::from(&row);
    data.title = next.title.trim().to_string();
    data.description = next.description.clone();
    data.need = next.need.clone();
    data.kind = next.kind.as_str().to_string();
    data.innovation_type = next
        .innovation_type
        .unwrap_or(before.innovation_type)
        .as_str()
        .to_string();
    data.received_on = next.received_on;
    data.source_organisation_id = next.source_organisation_id;
    data.project_manager_id = next.project_manager_id;
    data.confidential = next.confidential;
    // The statutory deadline follows the receipt date and kind unless an extension was agreed.
    let extended = !repo::extensions(conn, id)?.is_empty();
    if !next.kind.is_invention() {
        data.rights_deadline = None;
    } else if !extended || row.rights_deadline.is_none() {
        data.rights_deadline = Some(rights_deadline(next.received_on));
    }
    let updated = repo::update(conn, id, row.version, &data, crate::db::now())?
        .ok_or_else(|| ApiError::PreconditionFailed("the idea changed meanwhile".into()))?;
    repo::set_tags(conn, id, &normalise_tags(&next.tags))?;
    let after = idea_of(conn, updated, caller.role)?;
    audit(
        conn,
        caller,
        "update",
        ENTITY,
        id,
        Some(&before),
        Some(&after),
    )?;
    Ok(after)
}

/// Delete an idea registered by mistake, with everything recorded on it (`If-Match` required).
#[utoipa::path(
    tag = "ideas",
    params(("id" = i64, Path, description = "Idea id"), IfMatchHeader),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/ideas/{id}")]
pub async fn delete_idea(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    state
        .db
        .write(move |conn| {
            let row = load(conn, id)?;
            check_version(&expected, row.version)?;
            let before = idea_of(conn, row.clone(), caller.role)?;
            let funding = crate::db::funding::idea_references(conn, id)?;
            if funding > 0 {
                return Err(ApiError::Conflict {
                    slug: "still-referenced",
                    detail: format!(
                        "idea {id} is still referenced by {funding} funding applications"
                    ),
                    allowed: None,
                });
            }
            if repo::delete(conn, id, row.version)? == 0 {
                return Err(ApiError::PreconditionFailed(
                    "the idea changed meanwhile".into(),
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

// ---------------------------------------------------------------- transitions and history

/// Where a transition goes: a stage, or an outcome that takes the idea out of the portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransitionTarget {
    PreScreening,
    Evaluation,
    Validation,
    Development,
    Commercialisation,
    Closed,
    PassedOnInternal,
    PassedOnExternal,
    Commercialised,
    Implemented,
    RightsReturned,
}

impl TransitionTarget {
    fn target(self) -> Target {
        let name = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        Target::parse(&name).unwrap_or(Target::Stage(Stage::PreScreening))
    }
}

/// A move of an idea through the funnel.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTransition {
    pub to: TransitionTarget,
    /// Why; required when closing.
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
    #[serde(default)]
    #[validate(length(max = 5000, message = "must be at most 5000 characters"))]
    #[schema(max_length = 5000)]
    pub comment: Option<String>,
    /// Moves forward out of a stage whose checklist is incomplete; recorded with the event.
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub override_reason: Option<String>,
    /// Required for `passed_on_internal` and `passed_on_external`.
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub recipient_organisation_id: Option<i64>,
    /// The day it happened (default today; not before the idea was received, not in the future).
    #[serde(default)]
    pub on: Option<NaiveDate>,
    /// Expected results, recorded when the idea leaves the portfolio.
    #[serde(default)]
    #[validate(length(max = 5000, message = "must be at most 5000 characters"))]
    #[schema(max_length = 5000)]
    pub expected_results: Option<String>,
    #[serde(default)]
    #[validate(nested)]
    pub expected_yearly_savings: Option<Money>,
    /// Expected full-time equivalents freed per year (decimal, at most 2 places).
    #[serde(default)]
    pub expected_fte: Option<FteInput>,
}

/// One entry of an idea's history. Events are never changed or deleted.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IdeaEvent {
    pub id: i64,
    /// `created`, `transition`, `rights_decision`, `rights_extension` or `imported`.
    pub event: String,
    /// When it happened (business date).
    pub occurred_on: NaiveDate,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Name of the API key that recorded it.
    pub actor: String,
    /// Stage or outcome before (transitions).
    pub from: Option<String>,
    /// Stage or outcome after (transitions, creation).
    pub to: Option<String>,
    pub reason: Option<String>,
    pub comment: Option<String>,
    pub override_reason: Option<String>,
    pub recipient_organisation_id: Option<i64>,
}

impl From<EventRow> for IdeaEvent {
    fn from(e: EventRow) -> Self {
        IdeaEvent {
            id: e.id,
            event: e.event,
            occurred_on: e.occurred_on,
            recorded_at: e.at.and_utc(),
            actor: e.actor,
            from: e.from_outcome.or(e.from_stage),
            to: e.to_outcome.or(e.to_stage),
            reason: e.reason,
            comment: e.comment,
            override_reason: e.override_reason,
            recipient_organisation_id: e.recipient_organisation_id,
        }
    }
}

/// A transition recorded: the event and the idea after it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TransitionResult {
    pub event: IdeaEvent,
    pub idea: Idea,
}

fn move_error(e: MoveError, from: Position) -> ApiError {
    match e {
        MoveError::NotAllowed { allowed } => ApiError::Conflict {
            slug: "transition-not-allowed",
            detail: format!(
                "this move is not allowed from {}; allowed: {}",
                from.outcome.map(|o| o.as_str()).unwrap_or(from.stage.as_str()),
                allowed.join(", ")
            ),
            allowed: Some(allowed.into_iter().map(str::to_string).collect()),
        },
        MoveError::Missing { field, message } => ApiError::field(field, "required", message),
        MoveError::RightsNotTakenOver => ApiError::Conflict {
            slug: "rights-not-taken-over",
            detail: "an invention can enter validation only after the institution has taken over the rights \
                     (POST /ideas/{id}/rights-decision with decision take_over)"
                .into(),
            allowed: None,
        },
        MoveError::ChecklistIncomplete { stage } => ApiError::Conflict {
            slug: "checklist-incomplete",
            detail: format!(
                "the {} checklist is not complete; answer every criterion or give an override_reason",
                stage.as_str()
            ),
            allowed: None,
        },
    }
}

/// Move an idea through the funnel (or out of it, or back in). `If-Match` is optional here:
/// when sent, the move happens only if the idea is unchanged.
#[utoipa::path(
    tag = "ideas",
    request_body = NewTransition,
    params(("id" = i64, Path, description = "Idea id"), IdempotencyKeyHeader,
        ("If-Match" = Option<String>, Header, description = "Optional: the ETag last read")),
    responses((status = 201, description = "Recorded", body = TransitionResult, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/ideas/{id}/transitions")]
pub async fn create_transition(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<NewTransition>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.value;
    input.validate()?;
    let expected = optional_if_match(&req)?;
    let fte = match &input.expected_fte {
        Some(t) => Some(parse_fte(&t.0 .0).ok_or_else(|| {
            ApiError::field(
                "expected_fte",
                "decimal",
                "must be a decimal with at most 2 places, e.g. 1.5",
            )
        })?),
        None => None,
    };
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let row = load(conn, id)?;
        if let Some(tag) = &expected {
            check_version(tag, row.version)?;
        }
        let before = idea_of(conn, row.clone(), actor.role)?;
        let on = input.on.unwrap_or_else(today);
        if on > today() || on < row.received_on {
            return Err(ApiError::field(
                "on",
                "range",
                "must lie between the day the idea was received and today",
            ));
        }
        if let Some(org) = input.recipient_organisation_id {
            if !organisations::exists(conn, org)? {
                return Err(ApiError::field(
                    "recipient_organisation_id",
                    "not_found",
                    format!("organisation {org} does not exist"),
                ));
            }
        }
        let from = Position {
            stage: before.stage,
            outcome: before.outcome,
        };
        let to = input.to.target();
        let answered: Vec<String> = repo::answers(conn, id)?
            .into_iter()
            .filter(|a| a.stage == before.stage.as_str())
            .map(|a| a.criterion)
            .collect();
        let ctx = MoveContext {
            kind: Some(before.kind),
            rights_decision: before.rights.as_ref().and_then(|r| r.decision),
            checklist_complete: checklist::is_complete(
                before.stage,
                before.kind,
                answered.iter().map(String::as_str),
            ),
        };
        let request = MoveRequest {
            reason: input.reason.clone(),
            override_reason: input.override_reason.clone(),
            recipient_organisation_id: input.recipient_organisation_id,
        };
        check_move(from, to, &ctx, &request).map_err(|e| move_error(e, from))?;
        let forward = from.outcome.is_none() && matches!(to, Target::Stage(s) if s > from.stage);
        let mut data = IdeaData::from(&row);
        match to {
            Target::Stage(s) => {
                data.stage = s.as_str().to_string();
                data.outcome = None;
                data.recipient_organisation_id = None;
            }
            Target::Outcome(o) => {
                data.outcome = Some(o.as_str().to_string());
                data.recipient_organisation_id = if o.is_passed_on() {
                    input.recipient_organisation_id
                } else {
                    None
                };
                if input.expected_results.is_some() {
                    data.expected_results = input.expected_results.clone();
                }
                if let Some(m) = &input.expected_yearly_savings {
                    data.expected_savings_minor = Some(m.amount_minor);
                    data.expected_savings_currency = Some(m.currency.clone());
                }
                if fte.is_some() {
                    data.expected_fte_centi = fte;
                }
            }
        }
        let updated = repo::update(conn, id, row.version, &data, crate::db::now())?
            .ok_or_else(|| ApiError::PreconditionFailed("the idea changed meanwhile".into()))?;
        let event = repo::insert_event(
            conn,
            &repo::NewEvent {
                idea_id: id,
                at: crate::db::now(),
                occurred_on: on,
                actor: actor.name.clone(),
                event: "transition".into(),
                from_stage: Some(from.stage.as_str().into()),
                from_outcome: from.outcome.map(|o| o.as_str().into()),
                to_stage: Some(data.stage.clone()),
                to_outcome: data.outcome.clone(),
                reason: input.reason.clone(),
                comment: input.comment.clone(),
                override_reason: if forward && !ctx.checklist_complete {
                    input.override_reason.clone()
                } else {
                    None
                },
                recipient_organisation_id: data.recipient_organisation_id,
            },
        )?;
        let after = idea_of(conn, updated, actor.role)?;
        audit(
            conn,
            &actor,
            "transition",
            ENTITY,
            id,
            Some(&before),
            Some(&after),
        )?;
        let result = TransitionResult {
            event: IdeaEvent::from(event),
            idea: after,
        };
        Ok(Created {
            location: format!("/api/v1/ideas/{id}/history"),
            version: result.idea.version,
            body: serde_json::to_value(&result).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// An optional `If-Match` (an empty one counts as absent).
fn optional_if_match(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    match req.headers().get(header::IF_MATCH) {
        Some(v) if !v.as_bytes().trim_ascii().is_empty() => if_match(req).map(Some),
        _ => Ok(None),
    }
}

/// The history of an idea, in the order things happened.
#[utoipa::path(
    tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 200, description = "Every event, oldest first", body = Vec<IdeaEvent>))
)]
#[get("/ideas/{id}/history")]
pub async fn list_idea_history(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let events = state
        .db
        .read(move |c| {
            load(c, id)?;
            Ok(repo::events(c, id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(events.into_iter().map(IdeaEvent::from).collect::<Vec<_>>()))
}

// ---------------------------------------------------------------- rights decision

/// The institution's decision to take over or release an invention's rights.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRightsDecision {
    pub decision: RightsDecision,
    /// Default today; not before the disclosure was received, not in the future.
    #[serde(default)]
    pub decided_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

fn require_invention(row: &IdeaRow) -> Result<(), ApiError> {
    if IdeaKind::parse(&row.kind).is_some_and(IdeaKind::is_invention) {
        Ok(())
    } else {
        Err(ApiError::Conflict {
            slug: "not-an-invention",
            detail: "rights decisions concern inventions; this idea is an idea/problem".into(),
            allowed: None,
        })
    }
}

/// Record the rights decision on an invention (take over or release).
#[utoipa::path(
    tag = "ideas",
    request_body = NewRightsDecision,
    params(("id" = i64, Path, description = "Idea id"),
        ("If-Match" = Option<String>, Header, description = "Optional: the ETag last read")),
    responses((status = 200, description = "The idea with its decision", body = Idea, headers(("ETag" = String))))
)]
#[post("/ideas/{id}/rights-decision")]
pub async fn decide_rights(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<NewRightsDecision>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.into_inner();
    input.validate()?;
    let expected = optional_if_match(&req)?;
    let idea = state
        .db
        .write(move |conn| {
            let row = load(conn, id)?;
            if let Some(tag) = &expected {
                check_version(tag, row.version)?;
            }
            require_invention(&row)?;
            let on = input.decided_on.unwrap_or_else(today);
            if on > today() || on < row.received_on {
                return Err(ApiError::field(
                    "decided_on",
                    "range",
                    "must lie between the day the disclosure was received and today",
                ));
            }
            let before = idea_of(conn, row.clone(), caller.role)?;
            let mut data = IdeaData::from(&row);
            data.rights_decision = Some(input.decision.as_str().to_string());
            data.rights_decided_on = Some(on);
            let updated = repo::update(conn, id, row.version, &data, crate::db::now())?
                .ok_or_else(|| ApiError::PreconditionFailed("the idea changed meanwhile".into()))?;
            repo::insert_event(
                conn,
                &repo::NewEvent {
                    idea_id: id,
                    at: crate::db::now(),
                    occurred_on: on,
                    actor: caller.name.clone(),
                    event: "rights_decision".into(),
                    to_outcome: None,
                    reason: Some(input.decision.as_str().to_string()),
                    comment: input.note.clone(),
                    ..Default::default()
                },
            )?;
            let after = idea_of(conn, updated, caller.role)?;
            audit(
                conn,
                &caller,
                "rights_decision",
                ENTITY,
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, idea.version, &idea))
}

/// An extension of the rights-decision deadline agreed in writing with the inventor.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRightsExtension {
    /// The new deadline; later than the one in force.
    pub new_deadline: NaiveDate,
    /// When it was agreed (default today).
    #[serde(default)]
    pub agreed_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// A recorded extension.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RightsExtension {
    pub id: i64,
    pub idea_id: i64,
    pub previous_deadline: NaiveDate,
    pub new_deadline: NaiveDate,
    pub agreed_on: NaiveDate,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Record an extension of an invention's rights-decision deadline.
#[utoipa::path(
    tag = "ideas",
    request_body = NewRightsExtension,
    params(("id" = i64, Path, description = "Idea id"), IdempotencyKeyHeader),
    responses((status = 201, description = "Recorded", body = RightsExtension, headers(("Location" = String))))
)]
#[post("/ideas/{id}/rights-extensions")]
pub async fn create_rights_extension(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<NewRightsExtension>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.value;
    input.validate()?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let row = load(conn, id)?;
        require_invention(&row)?;
        if row.rights_decision.is_some() {
            return Err(ApiError::Conflict {
                slug: "rights-decided",
                detail: "the rights have already been decided".into(),
                allowed: None,
            });
        }
        let current = row
            .rights_deadline
            .unwrap_or_else(|| rights_deadline(row.received_on));
        if input.new_deadline <= current {
            return Err(ApiError::field(
                "new_deadline",
                "range",
                format!("must be after the deadline in force, {current}"),
            ));
        }
        let agreed = input.agreed_on.unwrap_or_else(today);
        if agreed > today() || agreed < row.received_on {
            return Err(ApiError::field(
                "agreed_on",
                "range",
                "must lie between the day the disclosure was received and today",
            ));
        }
        let before = idea_of(conn, row.clone(), actor.role)?;
        let now = crate::db::now();
        let ext = repo::insert_extension(
            conn,
            id,
            current,
            input.new_deadline,
            agreed,
            input.note.clone(),
            now,
        )?;
        let mut data = IdeaData::from(&row);
        data.rights_deadline = Some(input.new_deadline);
        let updated = repo::update(conn, id, row.version, &data, now)?
            .ok_or_else(|| ApiError::PreconditionFailed("the idea changed meanwhile".into()))?;
        repo::insert_event(
            conn,
            &repo::NewEvent {
                idea_id: id,
                at: now,
                occurred_on: agreed,
                actor: actor.name.clone(),
                event: "rights_extension".into(),
                reason: Some(format!(
                    "deadline {current} extended to {}",
                    input.new_deadline
                )),
                comment: input.note.clone(),
                ..Default::default()
            },
        )?;
        let after = idea_of(conn, updated, actor.role)?;
        audit(
            conn,
            &actor,
            "rights_extension",
            ENTITY,
            id,
            Some(&before),
            Some(&after),
        )?;
        let out = RightsExtension {
            id: ext.id,
            idea_id: id,
            previous_deadline: ext.previous_deadline,
            new_deadline: ext.new_deadline,
            agreed_on: ext.agreed_on,
            note: ext.note,
            created_at: ext.created_at.and_utc(),
        };
        Ok(Created {
            location: format!("/api/v1/ideas/{id}"),
            version: after.version,
            body: serde_json::to_value(&out).map_err(ApiError::internal)?,
        })
    })
    .await
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RightsListStatus {
    Open,
    Overdue,
}

/// Filters for the rights-decision list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RightsQuery {
    /// `open` (default): every undecided invention; `overdue`: those past their deadline.
    #[param(inline)]
    pub status: Option<RightsListStatus>,
    /// Only decisions due within this many days from today (overdue ones included).
    #[param(minimum = 0, maximum = 3650)]
    pub due_within_days: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// An open rights decision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OpenRightsDecision {
    pub idea_id: i64,
    pub title: String,
    pub kind: IdeaKind,
    pub stage: Stage,
    pub received_on: NaiveDate,
    pub statutory_deadline: NaiveDate,
    pub deadline: NaiveDate,
    pub extended: bool,
    /// Negative when overdue.
    pub days_left: i64,
    pub overdue: bool,
}

/// Inventions awaiting a rights decision, oldest deadline first.
#[utoipa::path(
    tag = "ideas",
    params(RightsQuery),
    responses((status = 200, description = "Open decisions", body = Page<OpenRightsDecision>))
)]
#[get("/rights-decisions")]
pub async fn list_rights_decisions(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<RightsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    if let Some(d) = q.due_within_days {
        if !(0..=3650).contains(&d) {
            return Err(ApiError::field(
                "due_within_days",
                "range",
                "must be between 0 and 3650",
            ));
        }
    }
    let today = today();
    let due_by = q
        .due_within_days
        .map(|d| today + chrono::TimeDelta::days(d));
    let overdue_before = matches!(q.status, Some(RightsListStatus::Overdue)).then_some(today);
    let rows = state
        .db
        .read(move |c| Ok(repo::open_rights_decisions(c, due_by, overdue_before)?))
        .await?;
    Ok(
        HttpResponse::Ok().json(Page::of(rows, limit, offset).try_map(
            |r| -> Result<_, ApiError> {
                let deadline = r
                    .rights_deadline
                    .unwrap_or_else(|| rights_deadline(r.received_on));
                let statutory = rights_deadline(r.received_on);
                let days_left = (deadline - today).num_days();
                Ok(OpenRightsDecision {
                    idea_id: r.id,
                    kind: IdeaKind::parse(&r.kind).ok_or_else(|| corrupt("kind", r.id, &r.kind))?,
                    stage: Stage::parse(&r.stage)
                        .ok_or_else(|| corrupt("stage", r.id, &r.stage))?,
                    title: r.title,
                    received_on: r.received_on,
                    statutory_deadline: statutory,
                    deadline,
                    extended: deadline != statutory,
                    days_left,
                    overdue: days_left < 0,
                })
            },
        )?),
    )
}

// ---------------------------------------------------------------- inventors and owners

/// One inventor or idea holder and their share.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventorInput {
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub person_id: i64,
    pub share: PercentInput,
}

/// The whole list of inventors; shares sum to exactly 100 (or the list is empty).
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InventorsInput {
    #[validate(length(max = 50, message = "at most 50 inventors"), nested)]
    #[schema(max_items = 50)]
    pub inventors: Vec<InventorInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Inventor {
    pub person_id: i64,
    pub name: String,
    /// Percent as an exact decimal string.
    pub share: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Inventors {
    pub idea_id: i64,
    pub inventors: Vec<Inventor>,
}

/// Parses shares and checks that they are exact, unique and sum to 100.
fn check_shares(
    items: &[(i64, &DecimalText)],
    list: &str,
    id_field: &str,
) -> Result<Vec<(i64, i64)>, ApiError> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, (id, share)) in items.iter().enumerate() {
        match parse_percent(&share.0) {
            Some(units) if units <= HUNDRED_PERCENT => out.push((*id, units)),
            _ => errors.push(FieldError::new(
                format!("{list}[{i}].share"),
                "decimal",
                "must be a percentage from 0 to 100 with at most 4 decimals",
            )),
        }
        if !seen.insert(*id) {
            errors.push(FieldError::new(
                format!("{list}[{i}].{id_field}"),
                "duplicate",
                "appears more than once",
            ));
        }
    }
    if errors.is_empty() && !out.is_empty() {
        let sum: i64 = out.iter().map(|(_, u)| u).sum();
        if sum != HUNDRED_PERCENT {
            errors.push(FieldError::new(
                list,
                "sum",
                format!(
                    "shares must sum to exactly 100; they sum to {}",
                    format_percent(sum)
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn inventors_of(conn: &mut AnyConnection, id: i64) -> Result<Inventors, ApiError> {
    let inventors = repo::inventors(conn, id)?
        .into_iter()
        .map(|(person_id, name, units)| Inventor {
            person_id,
            name,
            share: format_percent(units),
        })
        .collect();
    Ok(Inventors {
        idea_id: id,
        inventors,
    })
}

/// The inventors / idea holders of an idea with their shares.
#[utoipa::path(
    tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 200, description = "Inventors", body = Inventors, headers(("ETag" = String))))
)]
#[get("/ideas/{id}/inventors")]
pub async fn get_inventors(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (list, version) = state
        .db
        .read(move |c| {
            let row = load(c, id)?;
            Ok((inventors_of(c, id)?, row.version))
        })
        .await?;
    Ok(with_etag(StatusCode::OK, version, &list))
}

/// Replace the inventors of an idea (`If-Match` with the idea's ETag).
#[utoipa::path(
    tag = "ideas",
    request_body = InventorsInput,
    params(("id" = i64, Path, description = "Idea id"), IfMatchHeader),
    responses((status = 200, description = "The new list", body = Inventors, headers(("ETag" = String))))
)]
#[put("/ideas/{id}/inventors")]
pub async fn put_inventors(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<InventorsInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let input = body.into_inner();
    input.validate()?;
    let items: Vec<(i64, &DecimalText)> = input
        .inventors
        .iter()
        .map(|i| (i.person_id, &i.share.0))
        .collect();
    let shares = check_shares(&items, "inventors", "person_id")?;
    let (list, version) = state
        .db
        .write(move |conn| {
            let row = load(conn, id)?;
            check_version(&expected, row.version)?;
            let mut errors = Vec::new();
            for (i, (person, _)) in shares.iter().enumerate() {
                if people::find(conn, *person)?.is_none() {
                    errors.push(FieldError::new(
                        format!("inventors[{i}].person_id"),
                        "not_found",
                        format!("person {person} does not exist"),
                    ));
                }
            }
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let before = inventors_of(conn, id)?;
            repo::replace_inventors(conn, id, &shares)?;
            let touched = repo::touch(conn, id, row.version, crate::db::now())?
                .ok_or_else(|| ApiError::PreconditionFailed("the idea changed meanwhile".into()))?;
            let after = inventors_of(conn, id)?;
            audit(
                conn,
                &caller,
                "set_inventors",
                ENTITY,
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok((after, touched.version))
        })
        .await?;
    Ok(with_etag(StatusCode::OK, version, &list))
}

/// One owning institution and its share.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnerInput {
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub organisation_id: i64,
    pub share: PercentInput,
    /// Reference of the co-ownership agreement.
    #[serde(default)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[schema(max_length = 200)]
    pub agreement_ref: Option<String>,
}

/// The whole list of owners; shares sum to exactly 100. An empty list means the unit's own
/// institution owns 100 %.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OwnersInput {
    #[validate(length(max = 20, message = "at most 20 owners"), nested)]
    #[schema(max_items = 20)]
    pub owners: Vec<OwnerInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Owner {
    pub organisation_id: i64,
    pub name: String,
    pub share: String,
    pub agreement_ref: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Owners {
    pub idea_id: i64,
    /// True when no co-ownership is recorded: the unit's own institution owns 100 %.
    pub own_institution_only: bool,
    pub owners: Vec<Owner>,
}

fn owners_of(conn: &mut AnyConnection, id: i64) -> Result<Owners, ApiError> {
    let owners: Vec<Owner> = repo::owners(conn, id)?
        .into_iter()
        .map(|(organisation_id, name, units, agreement_ref)| Owner {
            organisation_id,
            name,
            share: format_percent(units),
            agreement_ref,
        })
        .collect();
    Ok(Owners {
        idea_id: id,
        own_institution_only: owners.is_empty(),
        owners,
    })
}

/// The owners of an idea's rights.
#[utoipa::path(
    tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 200, description = "Owners", body = Owners, headers(("ETag" = String))))
)]
#[get("/ideas/{id}/owners")]
pub async fn get_owners(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (list, version) = state
        .db
        .read(move |c| {
            let row = load(c, id)?;
            Ok((owners_of(c, id)?, row.version))
        })
        .await?;
    Ok(with_etag(StatusCode::OK, version, &list))
}

/// Replace the co-owners of an idea (`If-Match` with the idea's ETag).
#[utoipa::path(
    tag = "ideas",
    request_body = OwnersInput,
    params(("id" = i64, Path, description = "Idea id"), IfMatchHeader),
    responses((status = 200, description = "The new list", body = Owners, headers(("ETag" = String))))
)]
#[put("/ideas/{id}/owners")]
pub async fn put_owners(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<OwnersInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let input = body.into_inner();
    input.validate()?;
    let items: Vec<(i64, &DecimalText)> = input
        .owners
        .iter()
        .map(|o| (o.organisation_id, &o.share.0))
        .collect();
    let shares = check_shares(&items, "owners", "organisation_id")?;
    let list: Vec<(i64, i64, Option<String>)> = shares
        .iter()
        .zip(input.owners.iter())
        .map(|((org, units), o)| (*org, *units, o.agreement_ref.clone()))
        .collect();
    let (owners, version) = state
        .db
        .write(move |conn| {
            let row = load(conn, id)?;
            check_version(&expected, row.version)?;
            let mut errors = Vec::new();
            for (i, (org, _, _)) in list.iter().enumerate() {
                if !organisations::exists(conn, *org)? {
                    errors.push(FieldError::new(
                        format!("owners[{i}].organisation_id"),
                        "not_found",
                        format!("organisation {org} does not exist"),
                    ));
                }
            }
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            let before = owners_of(conn, id)?;
            repo::replace_owners(conn, id, &list)?;
            let touched = repo::touch(conn, id, row.version, crate::db::now())?
                .ok_or_else(|| ApiError::PreconditionFailed("the idea changed meanwhile".into()))?;
            let after = owners_of(conn, id)?;
            audit(
                conn,
                &caller,
                "set_owners",
                ENTITY,
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok((after, touched.version))
        })
        .await?;
    Ok(with_etag(StatusCode::OK, version, &owners))
}

// ---------------------------------------------------------------- checklists

/// One criterion with its answer, if any.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ChecklistItem {
    pub criterion: String,
    pub question: String,
    pub answer: Option<Answer>,
    pub note: Option<String>,
    pub assessor_id: Option<i64>,
    pub assessed_on: Option<NaiveDate>,
}

/// The checklist of one stage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Checklist {
    pub stage: Stage,
    /// Every applicable criterion is answered.
    pub complete: bool,
    pub items: Vec<ChecklistItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Checklists {
    pub idea_id: i64,
    pub checklists: Vec<Checklist>,
}

fn checklists_of(conn: &mut AnyConnection, row: &IdeaRow) -> Result<Checklists, ApiError> {
    let kind = IdeaKind::parse(&row.kind).ok_or_else(|| corrupt("kind", row.id, &row.kind))?;
    let answers = repo::answers(conn, row.id)?;
    let checklists = CHECKLIST_STAGES
        .iter()
        .map(|stage| {
            let items: Vec<ChecklistItem> = checklist::applicable(*stage, kind)
                .map(|c| {
                    let a = answers
                        .iter()
                        .find(|a| a.stage == stage.as_str() && a.criterion == c.key);
                    ChecklistItem {
                        criterion: c.key.to_string(),
                        question: c.question.to_string(),
                        answer: a.and_then(|a| Answer::parse(&a.answer)),
                        note: a.and_then(|a| a.note.clone()),
                        assessor_id: a.and_then(|a| a.assessor_id),
                        assessed_on: a.map(|a| a.assessed_on),
                    }
                })
                .collect();
            Checklist {
                stage: *stage,
                complete: items.iter().all(|i| i.answer.is_some()),
                items,
            }
        })
        .collect();
    Ok(Checklists {
        idea_id: row.id,
        checklists,
    })
}

/// The screening checklists of an idea (pre-screening, evaluation, validation deliverables).
#[utoipa::path(
    tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 200, description = "Checklists", body = Checklists, headers(("ETag" = String))))
)]
#[get("/ideas/{id}/checklists")]
pub async fn get_checklists(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let (lists, version) = state
        .db
        .read(move |c| {
            let row = load(c, id)?;
            Ok((checklists_of(c, &row)?, row.version))
        })
        .await?;
    Ok(with_etag(StatusCode::OK, version, &lists))
}

/// One answer to a checklist criterion.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerInput {
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    #[schema(min_length = 1, max_length = 100, example = "health_related")]
    pub criterion: String,
    pub answer: Answer,
    #[serde(default)]
    #[validate(length(max = 5000, message = "must be at most 5000 characters"))]
    #[schema(max_length = 5000)]
    pub note: Option<String>,
    /// The person who assessed it.
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub assessor_id: Option<i64>,
    /// Default today.
    #[serde(default)]
    pub assessed_on: Option<NaiveDate>,
}

/// Answers to record; criteria not named keep their answers.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistInput {
    #[validate(length(min = 1, max = 20, message = "give 1 to 20 answers"), nested)]
    #[schema(min_items = 1, max_items = 20)]
    pub answers: Vec<AnswerInput>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChecklistStage {
    PreScreening,
    Evaluation,
    Validation,
}

impl ChecklistStage {
    fn stage(self) -> Stage {
        match self {
            ChecklistStage::PreScreening => Stage::PreScreening,
            ChecklistStage::Evaluation => Stage::Evaluation,
            ChecklistStage::Validation => Stage::Validation,
        }
    }
}

/// Record answers on one stage's checklist (`If-Match` with the idea's ETag).
#[utoipa::path(
    tag = "ideas",
    request_body = ChecklistInput,
    params(("id" = i64, Path, description = "Idea id"),
        ("stage" = ChecklistStage, Path, description = "pre_screening, evaluation or validation"),
        IfMatchHeader),
    responses((status = 200, description = "All checklists of the idea", body = Checklists, headers(("ETag" = String))))
)]
#[put("/ideas/{id}/checklists/{stage}")]
pub async fn put_checklist(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(i64, ChecklistStage)>,
    body: ApiJson<ChecklistInput>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let (id, stage) = path.into_inner();
    let stage = stage.stage();
    let expected = if_match(&req)?;
    let input = body.into_inner();
    input.validate()?;
    let (lists, version) = state
        .db
        .write(move |conn| {
            let row = load(conn, id)?;
            let kind =
                IdeaKind::parse(&row.kind).ok_or_else(|| corrupt("kind", row.id, &row.kind))?;
            let mut errors = Vec::new();
            let mut seen = HashSet::new();
            for (i, a) in input.answers.iter().enumerate() {
                if !checklist::applicable(stage, kind).any(|c| c.key == a.criterion) {
                    let keys: Vec<&str> =
                        checklist::applicable(stage, kind).map(|c| c.key).collect();
                    errors.push(FieldError::new(
                        format!("answers[{i}].criterion"),
                        "unknown_criterion",
                        format!(
                            "not a {} criterion for this idea; use one of {}",
                            stage.as_str(),
                            keys.join(", ")
                        ),
                    ));
                }
                if !seen.insert(a.criterion.clone()) {
                    errors.push(FieldError::new(
                        format!("answers[{i}].criterion"),
                        "duplicate",
                        "appears more than once",
                    ));
                }
                if a.assessed_on.is_some_and(|d| d > today()) {
                    errors.push(FieldError::new(
                        format!("answers[{i}].assessed_on"),
                        "range",
                        "cannot be in the future",
                    ));
                }
                if let Some(p) = a.assessor_id {
                    if people::find(conn, p)?.is_none() {
                        errors.push(FieldError::new(
                            format!("answers[{i}].assessor_id"),
                            "not_found",
                            format!("person {p} does not exist"),
                        ));
                    }
                }
            }
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            check_version(&expected, row.version)?;
            let before = checklists_of(conn, &row)?;
            let now = crate::db::now();
            for a in &input.answers {
                repo::upsert_answer(
                    conn,
                    &repo::NewAnswer {
                        idea_id: id,
                        stage: stage.as_str().to_string(),
                        criterion: a.criterion.clone(),
                        answer: a.answer.as_str().to_string(),
                        note: a.note.clone(),
                        assessor_id: a.assessor_id,
                        assessed_on: a.assessed_on.unwrap_or_else(today),
                        updated_at: now,
                    },
                )?;
            }
            let touched = repo::touch(conn, id, row.version, now)?
                .ok_or_else(|| ApiError::PreconditionFailed("the idea changed meanwhile".into()))?;
            let after = checklists_of(conn, &touched)?;
            audit(
                conn,
                &caller,
                "checklist",
                ENTITY,
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok((after, touched.version))
        })
        .await?;
    Ok(with_etag(StatusCode::OK, version, &lists))
}
