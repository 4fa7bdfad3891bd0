//! Deals and money: agreements (with their effect on the funnel), income, distribution
//! policies, and the exact distribution of income to inventors, departments and the institution.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::extract::{paging, ApiJson, IdempotencyKeyHeader, Page};
use super::ideas::today;
use super::{audit, create_idempotent, with_etag, AppState, Created};
use crate::auth::Caller;
use crate::db::deals::{
    self as repo, AgreementRow, DistributionRow, IncomeRow, LineRow, PolicyRow,
};
use crate::db::{ideas, organisations, patents, AnyConnection};
use crate::domain::money::Money;
use crate::domain::royalties::split_largest_remainder;
use crate::domain::shares::HUNDRED_PERCENT;
use crate::domain::Role;
use crate::error::{ApiError, FieldError};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_agreements)
        .service(create_agreement)
        .service(get_agreement)
        .service(create_agreement_transition)
        .service(list_income)
        .service(create_income)
        .service(list_policies)
        .service(create_policy)
        .service(list_distributions)
        .service(create_distribution)
        .service(get_distribution)
        .service(reverse_distribution)
        .service(distribution_report)
        .service(create_statement)
        .service(list_statements)
        .service(pay_statement)
        .service(compliance)
        .service(create_obligation)
        .service(update_obligation)
        .service(list_obligations);
}

crate::domain::text_enum! {
    /// Kinds of agreement.
    AgreementKind {
        LicenceExclusive = "licence_exclusive",
        LicenceNonExclusive = "licence_non_exclusive",
        Option = "option",
        Assignment = "assignment",
        RightOfUse = "right_of_use",
        Collaboration = "collaboration",
        SpinOut = "spin_out",
    }
}

impl AgreementKind {
    /// Signing these commercialises the ideas they cover.
    fn commercialises(self) -> bool {
        matches!(
            self,
            Self::LicenceExclusive | Self::LicenceNonExclusive | Self::Assignment | Self::SpinOut
        )
    }
}

crate::domain::text_enum! {
    /// Where an agreement stands.
    AgreementStatus {
        Negotiating = "negotiating",
        Active = "active",
        Terminated = "terminated",
        Expired = "expired",
    }
}

crate::domain::text_enum! {
    /// How often a licensee reports.
    Reporting {
        Quarterly = "quarterly",
        HalfYearly = "half_yearly",
        Yearly = "yearly",
    }
}

crate::domain::text_enum! {
    /// Types of income, so each standard's definition can be reported (AUTM licence income
    /// excludes patent-cost reimbursements).
    IncomeKind {
        Upfront = "upfront",
        Option = "option",
        AnnualMinimum = "annual_minimum",
        RunningRoyalty = "running_royalty",
        Milestone = "milestone",
        Sublicence = "sublicence",
        Termination = "termination",
        Equity = "equity",
        PatentCostReimbursement = "patent_cost_reimbursement",
        Other = "other",
    }
}

/// A royalty tier on yearly net sales.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoyaltyTier {
    /// From this yearly net sales amount (cumulative) on…
    #[validate(nested)]
    pub from_yearly_net_sales: Money,
    /// …the rate is this many basis points (250 = 2.5 %).
    #[validate(range(max = 10000, message = "at most 10000 basis points"))]
    #[schema(maximum = 10000)]
    pub rate_bp: u32,
}

/// A milestone payment.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestonePayment {
    #[validate(length(min = 1, max = 300, message = "must be 1 to 300 characters"))]
    #[schema(min_length = 1, max_length = 300)]
    pub event: String,
    #[validate(nested)]
    pub amount: Money,
    #[serde(default)]
    pub due_on: Option<NaiveDate>,
    #[serde(default)]
    pub achieved_on: Option<NaiveDate>,
}

/// The financial terms of an agreement. Money is minor units with a currency.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    #[serde(default)]
    #[validate(nested)]
    pub upfront_fee: Option<Money>,
    /// Running royalty in basis points of net sales, below the first tier.
    #[serde(default)]
    #[validate(range(max = 10000, message = "at most 10000 basis points"))]
    #[schema(maximum = 10000)]
    pub royalty_rate_bp: Option<u32>,
    #[serde(default)]
    #[validate(length(max = 10, message = "at most 10 tiers"), nested)]
    #[schema(max_items = 10)]
    pub tiers: Vec<RoyaltyTier>,
    #[serde(default)]
    #[validate(nested)]
    pub annual_minimum: Option<Money>,
    #[serde(default)]
    #[validate(length(max = 50, message = "at most 50 milestones"), nested)]
    #[schema(max_items = 50)]
    pub milestones: Vec<MilestonePayment>,
    /// Share of sublicence income, in basis points.
    #[serde(default)]
    #[validate(range(max = 10000, message = "at most 10000 basis points"))]
    #[schema(maximum = 10000)]
    pub sublicence_share_bp: Option<u32>,
    /// A reduced price for the institution on the first products (text and quantity).
    #[serde(default)]
    #[validate(length(max = 1000, message = "must be at most 1000 characters"))]
    #[schema(max_length = 1000)]
    pub reduced_price: Option<String>,
    #[serde(default)]
    pub reporting: Option<Reporting>,
    /// Payment due this many days after the end of a reporting period.
    #[serde(default)]
    #[validate(range(max = 365, message = "at most 365 days"))]
    #[schema(maximum = 365)]
    pub payment_days: Option<u32>,
}

/// An agreement with a counterparty about ideas.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Agreement {
    pub id: i64,
    pub kind: AgreementKind,
    pub title: String,
    pub counterparty_id: i64,
    pub idea_ids: Vec<i64>,
    /// The patent families it covers.
    pub family_ids: Vec<i64>,
    pub status: AgreementStatus,
    pub signed_on: Option<NaiveDate>,
    pub effective_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub territory: Option<String>,
    pub field_of_use: Option<String>,
    pub terms: Terms,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn agreement_of(
    conn: &mut AnyConnection,
    r: AgreementRow,
) -> Result<Agreement, ApiError> {
    let idea_ids = repo::ideas_of(conn, r.id)?;
    let family_ids = repo::families_of(conn, r.id)?;
    let corrupt = |w: &str| ApiError::Internal(format!("agreement {} has an unknown {w}", r.id));
    Ok(Agreement {
        kind: AgreementKind::parse(&r.kind).ok_or_else(|| corrupt("kind"))?,
        status: AgreementStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
        terms: serde_json::from_str(&r.terms).map_err(|_| corrupt("terms"))?,
        id: r.id,
        title: r.title,
        counterparty_id: r.counterparty_id,
        idea_ids,
        family_ids,
        signed_on: r.signed_on,
        effective_on: r.effective_on,
        expires_on: r.expires_on,
        ended_on: r.ended_on,
        end_reason: r.end_reason,
        territory: r.territory,
        field_of_use: r.field_of_use,
        version: r.version,
        created_at: r.created_at.and_utc(),
        updated_at: r.updated_at.and_utc(),
    })
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgreement {
    pub kind: AgreementKind,
    #[validate(
        length(min = 1, max = 300, message = "must be 1 to 300 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(min_length = 1, max_length = 300, pattern = "\\S")]
    pub title: String,
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub counterparty_id: i64,
    /// The ideas it covers.
    #[validate(length(max = 100, message = "at most 100 ideas"))]
    #[schema(max_items = 100)]
    pub idea_ids: Vec<i64>,
    /// The patent families it covers.
    #[serde(default)]
    #[validate(length(max = 100, message = "at most 100 families"))]
    #[schema(max_items = 100)]
    pub family_ids: Vec<i64>,
    #[serde(default)]
    pub expires_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(length(max = 300, message = "must be at most 300 characters"))]
    #[schema(max_length = 300)]
    pub territory: Option<String>,
    #[serde(default)]
    #[validate(length(max = 300, message = "must be at most 300 characters"))]
    #[schema(max_length = 300)]
    pub field_of_use: Option<String>,
    #[serde(default)]
    #[validate(nested)]
    pub terms: Terms,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgreementQuery {
    #[param(inline)]
    pub status: Option<AgreementStatus>,
    pub idea_id: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// List agreements.
#[utoipa::path(tag = "deals", params(AgreementQuery), responses((status = 200, description = "Agreements", body = Page<Agreement>)))]
#[get("/agreements")]
pub async fn list_agreements(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<AgreementQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let page = state
        .db
        .read(move |c| {
            let rows =
                repo::list_agreements(c, q.status.map(|s| s.as_str().to_string()), q.idea_id)?;
            Page::of(rows, limit, offset).try_map(|r| agreement_of(c, r))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Register an agreement (it starts as `negotiating`).
#[utoipa::path(
    tag = "deals",
    request_body = NewAgreement,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = Agreement, headers(("Location" = String), ("ETag" = String))))
)]
#[post("/agreements")]
pub async fn create_agreement(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewAgreement>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.value;
    input.validate()?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let mut errors = Vec::new();
        if !organisations::exists(conn, input.counterparty_id)? {
            errors.push(FieldError::new(
                "counterparty_id",
                "not_found",
                "no such organisation",
            ));
        }
        let mut ids = input.idea_ids.clone();
        ids.sort();
        ids.dedup();
        for (i, id) in ids.iter().enumerate() {
            if ideas::find(conn, *id)?.is_none() {
                errors.push(FieldError::new(
                    format!("idea_ids[{i}]"),
                    "not_found",
                    format!("idea {id} does not exist"),
                ));
            }
        }
        let mut families = input.family_ids.clone();
        families.sort();
        families.dedup();
        for (i, id) in families.iter().enumerate() {
            if patents::find_family(conn, *id)?.is_none() {
                errors.push(FieldError::new(
                    format!("family_ids[{i}]"),
                    "not_found",
                    format!("patent family {id} does not exist"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let row = repo::insert_agreement(
            conn,
            &repo::AgreementData {
                kind: input.kind.as_str().to_string(),
                title: input.title.trim().to_string(),
                counterparty_id: input.counterparty_id,
                status: AgreementStatus::Negotiating.as_str().to_string(),
                signed_on: None,
                effective_on: None,
                expires_on: input.expires_on,
                ended_on: None,
                end_reason: None,
                territory: input.territory.clone(),
                field_of_use: input.field_of_use.clone(),
                terms: serde_json::to_string(&input.terms).map_err(ApiError::internal)?,
            },
            crate::db::now(),
        )?;
        repo::set_ideas(conn, row.id, &ids)?;
        repo::set_families(conn, row.id, &families)?;
        let a = agreement_of(conn, row)?;
        audit(
            conn,
            &actor,
            "create",
            "agreement",
            a.id,
            None::<&()>,
            Some(&a),
        )?;
        Ok(Created {
            location: format!("/api/v1/agreements/{}", a.id),
            version: a.version,
            body: serde_json::to_value(&a).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Get one agreement.
#[utoipa::path(
    tag = "deals",
    params(("id" = i64, Path, description = "Agreement id")),
    responses((status = 200, description = "The agreement", body = Agreement, headers(("ETag" = String))))
)]
#[get("/agreements/{id}")]
pub async fn get_agreement(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let a = state
        .db
        .read(move |c| {
            let r =
                repo::find_agreement(c, id)?.ok_or_else(|| ApiError::not_found("agreement", id))?;
            agreement_of(c, r)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, a.version, &a))
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementTransition {
    /// `active` (signed), `terminated` or `expired`.
    pub to: AgreementStatus,
    /// The date it happened (signing date for `active`); default today, not in the future.
    #[serde(default)]
    pub on: Option<NaiveDate>,
    /// Required for `terminated`.
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub reason: Option<String>,
}

/// Moves an idea's outcome for an agreement and records the event.
fn move_idea(
    conn: &mut AnyConnection,
    caller: &Caller,
    idea_id: i64,
    outcome: Option<&str>,
    on: NaiveDate,
    reason: String,
) -> Result<(), ApiError> {
    let Some(row) = ideas::find(conn, idea_id)? else {
        return Ok(());
    };
    let mut data = ideas::IdeaData::from(&row);
    data.outcome = outcome.map(str::to_string);
    data.recipient_organisation_id = None;
    let now = crate::db::now();
    ideas::update(conn, idea_id, row.version, &data, now)?
        .ok_or_else(|| ApiError::PreconditionFailed("an idea changed meanwhile; retry".into()))?;
    ideas::insert_event(
        conn,
        &ideas::NewEvent {
            idea_id,
            at: now,
            occurred_on: on.max(row.received_on),
            actor: caller.name.clone(),
            event: "transition".into(),
            from_stage: Some(row.stage.clone()),
            from_outcome: row.outcome.clone(),
            to_stage: Some(row.stage.clone()),
            to_outcome: outcome.map(str::to_string),
            reason: Some(reason),
            ..Default::default()
        },
    )?;
    super::events::emit(
        caller,
        "idea.stage_changed",
        "idea",
        idea_id,
        serde_json::json!({
            "stage": row.stage,
            "outcome": outcome,
            "previous_outcome": row.outcome,
            "version": row.version + 1,
        }),
    );
    Ok(())
}

/// Sign, terminate or let an agreement expire. Signing a licence, assignment or spin-out
/// commercialises the ideas it covers; when the last active agreement on a commercialised idea
/// ends, the idea returns to the active portfolio ("a new company must be found").
#[utoipa::path(
    tag = "deals",
    request_body = AgreementTransition,
    params(("id" = i64, Path, description = "Agreement id")),
    responses((status = 200, description = "The agreement", body = Agreement, headers(("ETag" = String))))
)]
#[post("/agreements/{id}/transitions")]
pub async fn create_agreement_transition(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: ApiJson<AgreementTransition>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.into_inner();
    input.validate()?;
    let on = input.on.unwrap_or_else(today);
    if on > today() {
        return Err(ApiError::field("on", "range", "cannot be in the future"));
    }
    let a = state
        .db
        .write(move |conn| {
            let row = repo::find_agreement(conn, id)?
                .ok_or_else(|| ApiError::not_found("agreement", id))?;
            let before = agreement_of(conn, row.clone())?;
            use AgreementStatus::*;
            let allowed: &[AgreementStatus] = match before.status {
                Negotiating => &[Active, Terminated],
                Active => &[Terminated, Expired],
                Terminated | Expired => &[],
            };
            if !allowed.contains(&input.to) {
                return Err(ApiError::Conflict {
                    slug: "transition-not-allowed",
                    detail: format!(
                        "an agreement cannot go from {} to {}",
                        before.status.as_str(),
                        input.to.as_str()
                    ),
                    allowed: Some(allowed.iter().map(|s| s.as_str().to_string()).collect()),
                });
            }
            if input.to == Terminated && input.reason.as_deref().is_none_or(|r| r.trim().is_empty())
            {
                return Err(ApiError::field(
                    "reason",
                    "required",
                    "terminating an agreement requires a reason",
                ));
            }
            let mut data = repo::AgreementData::from(&row);
            data.status = input.to.as_str().to_string();
            match input.to {
                Active => {
                    data.signed_on = Some(on);
                    data.effective_on = data.effective_on.or(Some(on));
                }
                _ => {
                    data.ended_on = Some(on);
                    data.end_reason = input.reason.clone();
                }
            }
            let updated = repo::update_agreement(conn, id, row.version, &data, crate::db::now())?
                .ok_or_else(|| {
                ApiError::PreconditionFailed("the agreement changed meanwhile".into())
            })?;
            for idea_id in &before.idea_ids {
                let Some(idea) = ideas::find(conn, *idea_id)? else {
                    continue;
                };
                if input.to == Active && before.kind.commercialises() && idea.outcome.is_none() {
                    move_idea(
                        conn,
                        &caller,
                        *idea_id,
                        Some("commercialised"),
                        on,
                        format!("agreement {id} signed: {}", before.title),
                    )?;
                } else if input.to != Active
                    && before.status == Active
                    && idea.outcome.as_deref() == Some("commercialised")
                    && repo::active_agreements_on(conn, *idea_id, id)? == 0
                {
                    let why = format!(
                        "agreement {id} {}: {}; a new partner must be found",
                        input.to.as_str(),
                        input.reason.clone().unwrap_or_default()
                    );
                    move_idea(conn, &caller, *idea_id, None, on, why)?;
                }
            }
            let after = agreement_of(conn, updated)?;
            audit(
                conn,
                &caller,
                "transition",
                "agreement",
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, a.version, &a))
}

// ---------------------------------------------------------------- income

/// An amount received.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Income {
    pub id: i64,
    pub agreement_id: Option<i64>,
    pub idea_id: i64,
    pub kind: IncomeKind,
    pub received_on: NaiveDate,
    pub amount: Money,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub(crate) fn income_of(r: IncomeRow) -> Income {
    Income {
        kind: IncomeKind::parse(&r.kind).unwrap_or(IncomeKind::Other),
        id: r.id,
        agreement_id: r.agreement_id,
        idea_id: r.idea_id,
        received_on: r.received_on,
        amount: Money {
            amount_minor: r.amount_minor,
            currency: r.currency,
        },
        note: r.note,
        created_at: r.created_at.and_utc(),
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncome {
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub agreement_id: Option<i64>,
    /// The idea the income is for; may be left out when the agreement covers exactly one.
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub idea_id: Option<i64>,
    pub kind: IncomeKind,
    pub received_on: NaiveDate,
    /// Positive; mistakes are corrected by reversing distributions, not by negative income.
    #[validate(nested)]
    pub amount: Money,
    #[serde(default)]
    #[validate(length(max = 2000, message = "must be at most 2000 characters"))]
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

/// Record income received.
#[utoipa::path(
    tag = "deals",
    request_body = NewIncome,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Recorded", body = Income, headers(("Location" = String))))
)]
#[post("/income")]
pub async fn create_income(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewIncome>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.value;
    input.validate()?;
    if input.amount.amount_minor <= 0 {
        return Err(ApiError::field(
            "amount.amount_minor",
            "range",
            "must be positive",
        ));
    }
    if input.received_on > today() {
        return Err(ApiError::field(
            "received_on",
            "range",
            "cannot be in the future",
        ));
    }
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        let covered = match input.agreement_id {
            Some(a) => {
                repo::find_agreement(conn, a)?.ok_or_else(|| {
                    ApiError::field(
                        "agreement_id",
                        "not_found",
                        format!("agreement {a} does not exist"),
                    )
                })?;
                repo::ideas_of(conn, a)?
            }
            None => Vec::new(),
        };
        let idea_id = match (input.idea_id, covered.as_slice()) {
            (Some(i), _) => i,
            (None, [only]) => *only,
            _ => {
                return Err(ApiError::field(
                    "idea_id",
                    "required",
                    "name the idea the income is for",
                ))
            }
        };
        if ideas::find(conn, idea_id)?.is_none() {
            return Err(ApiError::field(
                "idea_id",
                "not_found",
                format!("idea {idea_id} does not exist"),
            ));
        }
        if input.agreement_id.is_some() && !covered.contains(&idea_id) {
            return Err(ApiError::field(
                "idea_id",
                "not_covered",
                "the agreement does not cover this idea",
            ));
        }
        let row = repo::insert_income(
            conn,
            &repo::NewIncome {
                agreement_id: input.agreement_id,
                idea_id,
                kind: input.kind.as_str().to_string(),
                received_on: input.received_on,
                amount_minor: input.amount.amount_minor,
                currency: input.amount.currency.clone(),
                note: input.note.clone(),
                created_at: crate::db::now(),
            },
        )?;
        let inc = income_of(row);
        audit(
            conn,
            &actor,
            "create",
            "income",
            inc.id,
            None::<&()>,
            Some(&inc),
        )?;
        Ok(Created {
            location: format!("/api/v1/income?idea_id={idea_id}"),
            version: 1,
            body: serde_json::to_value(&inc).map_err(ApiError::internal)?,
        })
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncomeQuery {
    pub idea_id: Option<i64>,
    pub agreement_id: Option<i64>,
    #[param(inline)]
    pub kind: Option<IncomeKind>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Income received, by date.
#[utoipa::path(tag = "deals", params(IncomeQuery), responses((status = 200, description = "Income", body = Page<Income>)))]
#[get("/income")]
pub async fn list_income(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<IncomeQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let mut rows = state
        .db
        .read(move |c| {
            Ok(repo::list_income(
                c,
                q.idea_id,
                q.agreement_id,
                q.from,
                q.to,
            )?)
        })
        .await?;
    if let Some(k) = q.kind {
        rows.retain(|r| r.kind == k.as_str());
    }
    Ok(HttpResponse::Ok().json(Page::of(rows, limit, offset).map(income_of)))
}

// ---------------------------------------------------------------- policies

crate::domain::text_enum! {
    /// What is distributed: the gross amount, or the amount net of the idea's patent costs.
    Basis {
        Gross = "gross",
        NetOfPatentCosts = "net_of_patent_costs",
    }
}

/// A distribution policy: how income is split.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Policy {
    pub id: i64,
    pub name: String,
    pub basis: Basis,
    /// Relative weights of the three parts (1, 1, 1 = one third each).
    pub inventors_weight: i64,
    pub department_weight: i64,
    pub institution_weight: i64,
    /// The organisation recorded as the institution on payout lines.
    pub institution_id: Option<i64>,
    pub is_default: bool,
}

fn policy_of(r: PolicyRow) -> Policy {
    Policy {
        basis: Basis::parse(&r.basis).unwrap_or(Basis::Gross),
        id: r.id,
        name: r.name,
        inventors_weight: r.inventors_weight,
        department_weight: r.department_weight,
        institution_weight: r.institution_weight,
        institution_id: r.institution_id,
        is_default: r.is_default,
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPolicy {
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub basis: Basis,
    #[validate(range(min = 0, max = 1000, message = "must be 0 to 1000"))]
    #[schema(minimum = 0, maximum = 1000)]
    pub inventors_weight: i64,
    #[validate(range(min = 0, max = 1000, message = "must be 0 to 1000"))]
    #[schema(minimum = 0, maximum = 1000)]
    pub department_weight: i64,
    #[validate(range(min = 0, max = 1000, message = "must be 0 to 1000"))]
    #[schema(minimum = 0, maximum = 1000)]
    pub institution_weight: i64,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub institution_id: Option<i64>,
    #[serde(default)]
    pub is_default: bool,
}

/// Distribution policies (the default: one third each of gross income).
#[utoipa::path(tag = "deals", responses((status = 200, description = "Policies", body = Vec<Policy>)))]
#[get("/distribution-policies")]
pub async fn list_policies(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let rows = state.db.read(|c| Ok(repo::policies(c)?)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(policy_of).collect::<Vec<_>>()))
}

/// Add a distribution policy (admin).
#[utoipa::path(tag = "deals", request_body = NewPolicy, responses((status = 201, description = "Created", body = Policy)))]
#[post("/distribution-policies")]
pub async fn create_policy(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<NewPolicy>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Admin])?;
    let input = body.into_inner();
    input.validate()?;
    if input.inventors_weight + input.department_weight + input.institution_weight == 0 {
        return Err(ApiError::field(
            "inventors_weight",
            "range",
            "at least one weight must be positive",
        ));
    }
    let p = state
        .db
        .write(move |conn| {
            if let Some(o) = input.institution_id {
                if !organisations::exists(conn, o)? {
                    return Err(ApiError::field(
                        "institution_id",
                        "not_found",
                        format!("organisation {o} does not exist"),
                    ));
                }
            }
            let row = repo::insert_policy(
                conn,
                &repo::NewPolicy {
                    name: input.name.trim().to_string(),
                    basis: input.basis.as_str().to_string(),
                    inventors_weight: input.inventors_weight,
                    department_weight: input.department_weight,
                    institution_weight: input.institution_weight,
                    institution_id: input.institution_id,
                    is_default: input.is_default,
                    created_at: crate::db::now(),
                },
            )?;
            let p = policy_of(row);
            audit(
                conn,
                &caller,
                "create",
                "distribution_policy",
                p.id,
                None::<&()>,
                Some(&p),
            )?;
            Ok(p)
        })
        .await?;
    Ok(HttpResponse::Created().json(p))
}

// ---------------------------------------------------------------- distributions

/// One payout.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PayoutLine {
    /// `inventor`, `department` or `institution`.
    pub recipient_kind: String,
    pub person_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub amount: Money,
    /// How the line was computed.
    pub basis: String,
}

/// A distribution of one income item (or the counter-entry reversing one).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Distribution {
    pub id: i64,
    pub income_id: i64,
    pub policy_id: i64,
    /// Set on a counter-entry: the distribution it reverses.
    pub reverses_id: Option<i64>,
    /// True once a counter-entry has reversed this distribution.
    pub reversed: bool,
    pub gross: Money,
    pub costs_deducted: Money,
    pub distributable: Money,
    pub lines: Vec<PayoutLine>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

fn distribution_of(conn: &mut AnyConnection, d: DistributionRow) -> Result<Distribution, ApiError> {
    let lines = repo::lines_of(conn, d.id)?
        .into_iter()
        .map(line_of)
        .collect();
    let money = |amount_minor| Money {
        amount_minor,
        currency: d.currency.clone(),
    };
    Ok(Distribution {
        reversed: d.reverses_id.is_none() && d.live_income_id.is_none(),
        gross: money(d.gross_minor),
        costs_deducted: money(d.costs_deducted_minor),
        distributable: money(d.distributable_minor),
        id: d.id,
        income_id: d.income_id,
        policy_id: d.policy_id,
        reverses_id: d.reverses_id,
        lines,
        actor: d.actor,
        created_at: d.created_at.and_utc(),
    })
}

fn line_of(l: LineRow) -> PayoutLine {
    PayoutLine {
        recipient_kind: l.recipient_kind,
        person_id: l.person_id,
        organisation_id: l.organisation_id,
        amount: Money {
            amount_minor: l.amount_minor,
            currency: l.currency,
        },
        basis: l.basis,
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDistribution {
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub income_id: i64,
    /// Default: the default policy.
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub policy_id: Option<i64>,
}

/// One planned payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLine {
    pub recipient_kind: &'static str,
    pub person_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub amount_minor: i64,
    pub basis: String,
}

/// The payout lines of a distribution: inventors (by their shares), their departments (by the
/// shares of their inventors) and the institution, split by the largest remainder method.
/// `inventors` are (person, share units, department).
pub fn payout_plan(
    distributable: i64,
    policy: &Policy,
    inventors: &[(i64, i64, Option<i64>)],
) -> Vec<PlannedLine> {
    // Recipients in a fixed order: inventors as listed, departments by first appearance, the
    // institution last. Weights share one denominator so every line is within 1 minor unit.
    let line = |kind: &'static str, person_id, organisation_id, basis: String| PlannedLine {
        recipient_kind: kind,
        person_id,
        organisation_id,
        amount_minor: 0,
        basis,
    };
    let mut plan: Vec<(PlannedLine, i64)> = Vec::new();
    let mut departments: Vec<(i64, i64)> = Vec::new();
    let mut no_department = 0i64;
    for (person, share, dept) in inventors {
        let basis = format!(
            "{} % of the inventors' part",
            crate::domain::shares::format_percent(*share)
        );
        plan.push((
            line("inventor", Some(*person), None, basis),
            policy.inventors_weight * share,
        ));
        match dept {
            Some(d) => match departments.iter_mut().find(|(id, _)| id == d) {
                Some(entry) => entry.1 += share,
                None => departments.push((*d, *share)),
            },
            None => no_department += share,
        }
    }
    for (d, share) in &departments {
        let basis = format!(
            "department part for {} % of the inventors",
            crate::domain::shares::format_percent(*share)
        );
        plan.push((
            line("department", None, Some(*d), basis),
            policy.department_weight * share,
        ));
    }
    let basis = if no_department > 0 {
        "institution part, with the department part of inventors without a department".to_string()
    } else {
        "institution part".to_string()
    };
    plan.push((
        line("institution", None, policy.institution_id, basis),
        policy.institution_weight * HUNDRED_PERCENT + policy.department_weight * no_department,
    ));
    let weights: Vec<i64> = plan.iter().map(|(_, w)| *w).collect();
    let amounts = split_largest_remainder(distributable, &weights);
    plan.into_iter()
        .zip(amounts)
        .filter(|((_, w), _)| *w > 0)
        .map(|((l, _), amount_minor)| PlannedLine { amount_minor, ..l })
        .collect()
}

/// Distribute an income item by a policy. An item is distributed once: asking again returns
/// the existing distribution (200) and changes nothing.
#[utoipa::path(
    tag = "deals",
    request_body = NewDistribution,
    responses(
        (status = 201, description = "Distributed", body = Distribution, headers(("Location" = String))),
        (status = 200, description = "Already distributed: the existing distribution", body = Distribution)
    )
)]
#[post("/distributions")]
pub async fn create_distribution(
    state: web::Data<AppState>,
    caller: Caller,
    body: ApiJson<NewDistribution>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.into_inner();
    input.validate()?;
    let (dist, fresh) = state
        .db
        .write(move |conn| {
            let inc = repo::find_income(conn, input.income_id)?.ok_or_else(|| {
                ApiError::field(
                    "income_id",
                    "not_found",
                    format!("income {} does not exist", input.income_id),
                )
            })?;
            if let Some(existing) = repo::live_distribution(conn, inc.id)? {
                return Ok((distribution_of(conn, existing)?, false));
            }
            let policy = policy_of(repo::find_policy(conn, input.policy_id)?.ok_or_else(|| {
                ApiError::field("policy_id", "not_found", "no such distribution policy")
            })?);
            let inventors: Vec<(i64, i64, Option<i64>)> = ideas::inventors(conn, inc.idea_id)?
                .into_iter()
                .map(|(person, _, share)| {
                    let dept = crate::db::people::find(conn, person)
                        .ok()
                        .flatten()
                        .and_then(|p| p.organisation_id);
                    (person, share, dept)
                })
                .collect();
            if inventors.is_empty() && policy.inventors_weight > 0 {
                return Err(ApiError::Conflict {
                    slug: "no-inventors",
                    detail: format!(
                        "idea {} has no inventors recorded; set them before distributing",
                        inc.idea_id
                    ),
                    allowed: None,
                });
            }
            let deducted = if policy.basis == Basis::NetOfPatentCosts {
                let costs: i64 = patents::costs(conn, Some(inc.idea_id), None, None, None)?
                    .iter()
                    .filter(|(c, _)| c.currency == inc.currency)
                    .map(|(c, _)| c.amount_minor)
                    .sum();
                let already = repo::costs_deducted(conn, inc.idea_id, &inc.currency)?;
                (costs - already).clamp(0, inc.amount_minor)
            } else {
                0
            };
            let distributable = inc.amount_minor - deducted;
            let row = repo::insert_distribution(
                conn,
                &repo::NewDistribution {
                    income_id: inc.id,
                    live_income_id: Some(inc.id),
                    policy_id: policy.id,
                    reverses_id: None,
                    gross_minor: inc.amount_minor,
                    costs_deducted_minor: deducted,
                    distributable_minor: distributable,
                    currency: inc.currency.clone(),
                    actor: caller.name.clone(),
                    created_at: crate::db::now(),
                },
            )?;
            let lines: Vec<repo::NewLine> = payout_plan(distributable, &policy, &inventors)
                .into_iter()
                .map(|l| repo::NewLine {
                    distribution_id: row.id,
                    recipient_kind: l.recipient_kind.to_string(),
                    person_id: l.person_id,
                    organisation_id: l.organisation_id,
                    amount_minor: l.amount_minor,
                    currency: inc.currency.clone(),
                    basis: l.basis,
                })
                .collect();
            repo::insert_lines(conn, &lines)?;
            let d = distribution_of(conn, row)?;
            audit(
                conn,
                &caller,
                "distribute",
                "income",
                inc.id,
                None::<&()>,
                Some(&d),
            )?;
            Ok((d, true))
        })
        .await?;
    if fresh {
        Ok(HttpResponse::Created()
            .insert_header(("Location", format!("/api/v1/distributions/{}", dist.id)))
            .json(dist))
    } else {
        Ok(HttpResponse::Ok().json(dist))
    }
}

/// Get one distribution with its payout lines.
#[utoipa::path(
    tag = "deals",
    params(("id" = i64, Path, description = "Distribution id")),
    responses((status = 200, description = "The distribution", body = Distribution))
)]
#[get("/distributions/{id}")]
pub async fn get_distribution(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let d = state
        .db
        .read(move |c| {
            let r = repo::find_distribution(c, id)?
                .ok_or_else(|| ApiError::not_found("distribution", id))?;
            distribution_of(c, r)
        })
        .await?;
    Ok(HttpResponse::Ok().json(d))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DistributionQuery {
    pub income_id: Option<i64>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Distributions and counter-entries, oldest first.
#[utoipa::path(tag = "deals", params(DistributionQuery), responses((status = 200, description = "Distributions", body = Page<Distribution>)))]
#[get("/distributions")]
pub async fn list_distributions(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<DistributionQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    let page = state
        .db
        .read(move |c| {
            let rows = repo::list_distributions(c, q.income_id)?;
            Page::of(rows, limit, offset).try_map(|r| distribution_of(c, r))
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reversal {
    #[validate(
        length(min = 1, max = 2000, message = "must be 1 to 2000 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub reason: String,
}

/// Reverse a distribution with a counter-entry (every line negated). The original stays as it
/// was; the income item can then be distributed again.
#[utoipa::path(
    tag = "deals",
    request_body = Reversal,
    params(("id" = i64, Path, description = "Distribution id")),
    responses((status = 201, description = "The counter-entry", body = Distribution))
)]
#[post("/distributions/{id}/reversal")]
pub async fn reverse_distribution(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: ApiJson<Reversal>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.into_inner();
    input.validate()?;
    let d = state
        .db
        .write(move |conn| {
            let orig = repo::find_distribution(conn, id)?.ok_or_else(|| ApiError::not_found("distribution", id))?;
            if orig.reverses_id.is_some() || orig.live_income_id.is_none() {
                return Err(ApiError::Conflict {
                    slug: "not-reversible",
                    detail: "only a live distribution can be reversed (this one is a counter-entry or already reversed)".into(),
                    allowed: None,
                });
            }
            repo::retire(conn, id)?;
            let row = repo::insert_distribution(
                conn,
                &repo::NewDistribution {
                    income_id: orig.income_id,
                    live_income_id: None,
                    policy_id: orig.policy_id,
                    reverses_id: Some(id),
                    gross_minor: -orig.gross_minor,
                    costs_deducted_minor: -orig.costs_deducted_minor,
                    distributable_minor: -orig.distributable_minor,
                    currency: orig.currency.clone(),
                    actor: caller.name.clone(),
                    created_at: crate::db::now(),
                },
            )?;
            let lines: Vec<repo::NewLine> = repo::lines_of(conn, id)?
                .into_iter()
                .map(|l| repo::NewLine {
                    distribution_id: row.id,
                    recipient_kind: l.recipient_kind,
                    person_id: l.person_id,
                    organisation_id: l.organisation_id,
                    amount_minor: -l.amount_minor,
                    currency: l.currency,
                    basis: format!("reversal: {}", input.reason.trim()),
                })
                .collect();
            repo::insert_lines(conn, &lines)?;
            let d = distribution_of(conn, row)?;
            audit(conn, &caller, "reverse", "distribution", id, None::<&()>, Some(&d))?;
            Ok(d)
        })
        .await?;
    Ok(HttpResponse::Created().json(d))
}

crate::domain::text_enum! {
    /// How to group the distribution report.
    ReportGrouping {
        Inventor = "inventor",
        Department = "department",
        Year = "year",
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `inventor`, `department` or `year` (default `inventor`).
    #[param(inline)]
    pub by: Option<ReportGrouping>,
}

/// A total paid out (counter-entries included), per key and currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PayoutTotal {
    /// Person id, organisation id, or year.
    pub key: i64,
    /// The inventor's name (inventor grouping).
    pub name: Option<String>,
    pub currency: String,
    pub amount_minor: i64,
}

/// Royalties distributed per inventor, department or year (by distribution date).
#[utoipa::path(tag = "deals", params(ReportQuery), responses((status = 200, description = "Totals", body = Vec<PayoutTotal>)))]
#[get("/reports/distributions")]
pub async fn distribution_report(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let by = query.into_inner().by.unwrap_or(ReportGrouping::Inventor);
    let rows = state.db.read(|c| Ok(repo::all_lines(c)?)).await?;
    let mut totals: BTreeMap<(i64, String), (i64, Option<String>)> = BTreeMap::new();
    for (line, at, name) in rows {
        let key = match by {
            ReportGrouping::Inventor if line.recipient_kind == "inventor" => line.person_id,
            ReportGrouping::Department if line.recipient_kind == "department" => {
                line.organisation_id
            }
            ReportGrouping::Year => Some(i64::from(chrono::Datelike::year(&at))),
            _ => None,
        };
        let Some(key) = key else { continue };
        let e = totals.entry((key, line.currency)).or_insert((0, None));
        e.0 += line.amount_minor;
        if by == ReportGrouping::Inventor {
            e.1 = name;
        }
    }
    let out: Vec<PayoutTotal> = totals
        .into_iter()
        .map(|((key, currency), (amount_minor, name))| PayoutTotal {
            key,
            name,
            currency,
            amount_minor,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}

// ---------------------------------------------------------------- royalty statements

/// A licensee's royalty statement for one reporting period, with what it makes due.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Statement {
    pub id: i64,
    pub agreement_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub net_sales: Money,
    /// Running royalty computed from the terms (tiers on the year's cumulative net sales).
    pub royalty: Money,
    /// In the last period of a year: what lifts the year's royalties to the annual minimum.
    pub minimum_true_up: Money,
    /// royalty + minimum_true_up.
    pub due: Money,
    pub invoiced: Option<Money>,
    pub received: Money,
    /// due − received.
    pub balance: Money,
    pub last_received_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

fn statement_of(r: repo::StatementRow) -> Statement {
    let m = |amount_minor| Money {
        amount_minor,
        currency: r.currency.clone(),
    };
    Statement {
        net_sales: m(r.net_sales_minor),
        royalty: m(r.royalty_minor),
        minimum_true_up: m(r.true_up_minor),
        due: m(r.due_minor),
        invoiced: r.invoiced_minor.map(m),
        received: m(r.received_minor),
        balance: m(r.due_minor - r.received_minor),
        id: r.id,
        agreement_id: r.agreement_id,
        period_start: r.period_start,
        period_end: r.period_end,
        last_received_on: r.last_received_on,
        created_at: r.created_at.and_utc(),
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStatement {
    pub period_start: NaiveDate,
    /// In the same calendar year as `period_start`.
    pub period_end: NaiveDate,
    #[validate(nested)]
    pub net_sales: Money,
    #[serde(default)]
    #[validate(nested)]
    pub invoiced: Option<Money>,
}

/// Record a royalty statement; the royalty, any annual-minimum true-up and the amount due are
/// computed from the agreement's terms.
#[utoipa::path(
    tag = "deals",
    request_body = NewStatement,
    params(("id" = i64, Path, description = "Agreement id")),
    responses((status = 201, description = "Recorded", body = Statement))
)]
#[post("/agreements/{id}/statements")]
pub async fn create_statement(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: ApiJson<NewStatement>,
) -> Result<HttpResponse, ApiError> {
    use chrono::Datelike;
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.into_inner();
    input.validate()?;
    if input.period_end < input.period_start || input.period_end.year() != input.period_start.year()
    {
        return Err(ApiError::field(
            "period_end",
            "range",
            "must be on or after period_start, in the same calendar year",
        ));
    }
    if input.period_start > today() {
        return Err(ApiError::field(
            "period_start",
            "range",
            "cannot be in the future",
        ));
    }
    if input.net_sales.amount_minor < 0 {
        return Err(ApiError::field(
            "net_sales.amount_minor",
            "range",
            "cannot be negative",
        ));
    }
    if input
        .invoiced
        .as_ref()
        .is_some_and(|i| i.currency != input.net_sales.currency)
    {
        return Err(ApiError::field(
            "invoiced.currency",
            "currency",
            "must be the currency of the net sales",
        ));
    }
    let st = state
        .db
        .write(move |conn| {
            let row = repo::find_agreement(conn, id)?
                .ok_or_else(|| ApiError::not_found("agreement", id))?;
            let a = agreement_of(conn, row)?;
            if a.status == AgreementStatus::Negotiating {
                return Err(ApiError::Conflict {
                    slug: "agreement-not-signed",
                    detail: "statements are recorded on signed agreements".into(),
                    allowed: None,
                });
            }
            let currency = input.net_sales.currency.clone();
            let tiers: Vec<crate::domain::royalties::Tier> = a
                .terms
                .tiers
                .iter()
                .filter(|t| t.from_yearly_net_sales.currency == currency)
                .map(|t| crate::domain::royalties::Tier {
                    from_minor: t.from_yearly_net_sales.amount_minor,
                    rate_bp: t.rate_bp,
                })
                .collect();
            let year = input.period_start.year();
            let earlier: Vec<repo::StatementRow> = repo::statements_of(conn, id)?
                .into_iter()
                .filter(|s| {
                    s.period_start.year() == year
                        && s.period_start < input.period_start
                        && s.currency == currency
                })
                .collect();
            let ytd_sales: i64 = earlier.iter().map(|s| s.net_sales_minor).sum();
            let ytd_royalty: i64 = earlier
                .iter()
                .map(|s| s.royalty_minor + s.true_up_minor)
                .sum();
            let royalty = crate::domain::royalties::royalty_due(
                input.net_sales.amount_minor,
                ytd_sales,
                a.terms.royalty_rate_bp.unwrap_or(0),
                &tiers,
            );
            let last_of_year = input.period_end.month() == 12 && input.period_end.day() == 31;
            let true_up = match (&a.terms.annual_minimum, last_of_year) {
                (Some(min), true) if min.currency == currency => {
                    crate::domain::royalties::minimum_true_up(
                        ytd_royalty + royalty,
                        min.amount_minor,
                    )
                }
                _ => 0,
            };
            let row = repo::insert_statement(
                conn,
                &repo::NewStatement {
                    agreement_id: id,
                    period_start: input.period_start,
                    period_end: input.period_end,
                    currency,
                    net_sales_minor: input.net_sales.amount_minor,
                    royalty_minor: royalty,
                    true_up_minor: true_up,
                    due_minor: royalty + true_up,
                    invoiced_minor: input.invoiced.as_ref().map(|i| i.amount_minor),
                    received_minor: 0,
                    created_at: crate::db::now(),
                },
            )?;
            let s = statement_of(row);
            audit(
                conn,
                &caller,
                "create",
                "royalty_statement",
                s.id,
                None::<&()>,
                Some(&s),
            )?;
            Ok(s)
        })
        .await?;
    Ok(HttpResponse::Created().json(st))
}

/// The royalty statements of an agreement, by period.
#[utoipa::path(
    tag = "deals",
    params(("id" = i64, Path, description = "Agreement id")),
    responses((status = 200, description = "Statements", body = Vec<Statement>))
)]
#[get("/agreements/{id}/statements")]
pub async fn list_statements(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let rows = state
        .db
        .read(move |c| {
            repo::find_agreement(c, id)?.ok_or_else(|| ApiError::not_found("agreement", id))?;
            Ok(repo::statements_of(c, id)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(statement_of).collect::<Vec<_>>()))
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementPayment {
    #[validate(nested)]
    pub amount: Money,
    pub received_on: NaiveDate,
}

/// Record a payment against a statement; it is also recorded as income (running royalty) on
/// the agreement's first idea.
#[utoipa::path(
    tag = "deals",
    request_body = StatementPayment,
    params(("id" = i64, Path, description = "Statement id")),
    responses((status = 200, description = "The statement", body = Statement))
)]
#[post("/statements/{id}/payments")]
pub async fn pay_statement(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: ApiJson<StatementPayment>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.into_inner();
    input.validate()?;
    if input.amount.amount_minor <= 0 {
        return Err(ApiError::field(
            "amount.amount_minor",
            "range",
            "must be positive",
        ));
    }
    if input.received_on > today() {
        return Err(ApiError::field(
            "received_on",
            "range",
            "cannot be in the future",
        ));
    }
    let st = state
        .db
        .write(move |conn| {
            let s = repo::find_statement(conn, id)?
                .ok_or_else(|| ApiError::not_found("statement", id))?;
            if s.currency != input.amount.currency {
                return Err(ApiError::field(
                    "amount.currency",
                    "currency",
                    "must be the statement's currency",
                ));
            }
            let idea = repo::ideas_of(conn, s.agreement_id)?
                .first()
                .copied()
                .ok_or_else(|| ApiError::Conflict {
                    slug: "agreement-without-ideas",
                    detail: "the agreement covers no idea to book the income on".into(),
                    allowed: None,
                })?;
            repo::add_payment(conn, id, input.amount.amount_minor, input.received_on)?;
            let inc = repo::insert_income(
                conn,
                &repo::NewIncome {
                    agreement_id: Some(s.agreement_id),
                    idea_id: idea,
                    kind: IncomeKind::RunningRoyalty.as_str().to_string(),
                    received_on: input.received_on,
                    amount_minor: input.amount.amount_minor,
                    currency: s.currency.clone(),
                    note: Some(format!(
                        "payment on statement {id} ({} to {})",
                        s.period_start, s.period_end
                    )),
                    created_at: crate::db::now(),
                },
            )?;
            let after = statement_of(
                repo::find_statement(conn, id)?
                    .ok_or_else(|| ApiError::not_found("statement", id))?,
            );
            audit(
                conn,
                &caller,
                "payment",
                "royalty_statement",
                id,
                None::<&()>,
                Some(&after),
            )?;
            audit(
                conn,
                &caller,
                "create",
                "income",
                inc.id,
                None::<&()>,
                Some(&income_of(inc)),
            )?;
            Ok(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(st))
}

// ---------------------------------------------------------------- compliance

/// Something a licensee owes or has not done.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ComplianceItem {
    pub counterparty_id: i64,
    pub counterparty: String,
    pub agreement_id: i64,
    /// `statement_missing`, `payment_overdue`, `below_minimum`, `milestone_overdue` or
    /// `obligation_overdue`.
    pub issue: String,
    pub due_on: NaiveDate,
    /// What is at stake: the unpaid balance, the milestone amount, or for a missing statement
    /// the annual minimum's share of the period (zero without a minimum).
    pub amount_at_stake: Money,
    pub detail: String,
}

/// The end dates of reporting periods from `start` to `end`.
pub fn period_ends(reporting: Reporting, start: NaiveDate, end: NaiveDate) -> Vec<NaiveDate> {
    use chrono::Datelike;
    let months: &[u32] = match reporting {
        Reporting::Quarterly => &[3, 6, 9, 12],
        Reporting::HalfYearly => &[6, 12],
        Reporting::Yearly => &[12],
    };
    let mut out = Vec::new();
    for year in start.year()..=end.year() {
        for m in months {
            let first = NaiveDate::from_ymd_opt(year, *m, 1);
            if let Some(d) = first.map(crate::domain::dates::end_of_month) {
                if d >= start && d <= end {
                    out.push(d);
                }
            }
        }
    }
    out
}

/// Per licensee: statements due but missing, payments overdue, milestones and obligations
/// overdue — with the
/// amount at stake, largest first.
#[utoipa::path(tag = "deals", responses((status = 200, description = "What licensees owe", body = Vec<ComplianceItem>)))]
#[get("/compliance")]
pub async fn compliance(
    state: web::Data<AppState>,
    _caller: Caller,
) -> Result<HttpResponse, ApiError> {
    let today = today();
    let mut items = state
        .db
        .read(move |conn| {
            let mut out = Vec::new();
            for row in repo::list_agreements(conn, None, None)? {
                let a = agreement_of(conn, row)?;
                let Some(signed) = a.signed_on else { continue };
                let counterparty = organisations::find(conn, a.counterparty_id)?
                    .map(|o| o.name)
                    .unwrap_or_default();
                let days = i64::from(a.terms.payment_days.unwrap_or(30));
                let statements = repo::statements_of(conn, a.id)?;
                let currency = a
                    .terms
                    .annual_minimum
                    .as_ref()
                    .map(|m| m.currency.clone())
                    .or_else(|| statements.first().map(|s| s.currency.clone()))
                    .unwrap_or_else(|| "DKK".into());
                let item = |issue: &str,
                            due_on: NaiveDate,
                            amount_minor: i64,
                            currency: String,
                            detail: String| ComplianceItem {
                    counterparty_id: a.counterparty_id,
                    counterparty: counterparty.clone(),
                    agreement_id: a.id,
                    issue: issue.into(),
                    due_on,
                    amount_at_stake: Money {
                        amount_minor,
                        currency,
                    },
                    detail,
                };
                if let Some(reporting) = a.terms.reporting {
                    let start = a.effective_on.unwrap_or(signed);
                    let end = a.ended_on.unwrap_or(today).min(today);
                    let per_year = match reporting {
                        Reporting::Quarterly => 4,
                        Reporting::HalfYearly => 2,
                        Reporting::Yearly => 1,
                    };
                    let share = a
                        .terms
                        .annual_minimum
                        .as_ref()
                        .map(|m| m.amount_minor / per_year)
                        .unwrap_or(0);
                    for period_end in period_ends(reporting, start, end) {
                        let due = period_end + chrono::TimeDelta::days(days);
                        if due < today && !statements.iter().any(|s| s.period_end == period_end) {
                            out.push(item(
                                "statement_missing",
                                due,
                                share,
                                currency.clone(),
                                format!("no royalty statement for the period ending {period_end}"),
                            ));
                        }
                    }
                }
                for s in &statements {
                    let due = s.period_end + chrono::TimeDelta::days(days);
                    let balance = s.due_minor - s.received_minor;
                    if balance > 0 && due < today {
                        out.push(item(
                            "payment_overdue",
                            due,
                            balance,
                            s.currency.clone(),
                            format!(
                                "statement {} ({} to {}) is unpaid",
                                s.id, s.period_start, s.period_end
                            ),
                        ));
                    }
                }
                if let Some(min) = &a.terms.annual_minimum {
                    // Completed years since signing whose statements add up to less than the minimum.
                    use chrono::Datelike;
                    let last_year = a.ended_on.unwrap_or(today).min(today).year() - 1;
                    for year in signed.year()..=last_year {
                        let due_in_year: i64 = statements
                            .iter()
                            .filter(|s| s.period_start.year() == year && s.currency == min.currency)
                            .map(|s| s.due_minor)
                            .sum();
                        if due_in_year < min.amount_minor {
                            let end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today);
                            out.push(item(
                                "below_minimum",
                                end + chrono::TimeDelta::days(days),
                                min.amount_minor - due_in_year,
                                min.currency.clone(),
                                format!("royalties due for {year} are below the annual minimum"),
                            ));
                        }
                    }
                }
                for o in repo::obligations_list(conn, Some(a.id), true)? {
                    if o.due_on < today {
                        out.push(item(
                            "obligation_overdue",
                            o.due_on,
                            0,
                            currency.clone(),
                            format!("obligation not met: {}", o.description),
                        ));
                    }
                }
                for m in &a.terms.milestones {
                    if let (Some(due), None) = (m.due_on, m.achieved_on) {
                        if due < today {
                            out.push(item(
                                "milestone_overdue",
                                due,
                                m.amount.amount_minor,
                                m.amount.currency.clone(),
                                format!("milestone '{}' not reached", m.event),
                            ));
                        }
                    }
                }
            }
            Ok(out)
        })
        .await?;
    items.sort_by(|a, b| {
        b.amount_at_stake
            .amount_minor
            .cmp(&a.amount_at_stake.amount_minor)
            .then(a.due_on.cmp(&b.due_on))
    });
    Ok(HttpResponse::Ok().json(items))
}

// ---------------------------------------------------------------- obligations

/// A licensee's diligence obligation (e.g. bring the product to market by a date).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Obligation {
    pub id: i64,
    pub agreement_id: i64,
    pub description: String,
    pub due_on: NaiveDate,
    pub met_on: Option<NaiveDate>,
    /// `met`, `open` or `overdue`.
    pub status: String,
    pub version: i64,
}

fn obligation_of(r: repo::ObligationRow, today: NaiveDate) -> Obligation {
    let status = match r.met_on {
        Some(_) => "met",
        None if r.due_on < today => "overdue",
        None => "open",
    };
    Obligation {
        id: r.id,
        agreement_id: r.agreement_id,
        description: r.description,
        due_on: r.due_on,
        met_on: r.met_on,
        status: status.into(),
        version: r.version,
    }
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewObligation {
    #[validate(
        length(min = 1, max = 2000, message = "must be 1 to 2000 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(min_length = 1, max_length = 2000, pattern = "\\S")]
    pub description: String,
    pub due_on: NaiveDate,
    #[serde(default)]
    pub met_on: Option<NaiveDate>,
}

/// Add a diligence obligation to an agreement.
#[utoipa::path(
    tag = "deals",
    request_body = NewObligation,
    params(("id" = i64, Path, description = "Agreement id")),
    responses((status = 201, description = "Created", body = Obligation, headers(("ETag" = String))))
)]
#[post("/agreements/{id}/obligations")]
pub async fn create_obligation(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
    body: ApiJson<NewObligation>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let input = body.into_inner();
    input.validate()?;
    if input.met_on.is_some_and(|d| d > today()) {
        return Err(ApiError::field(
            "met_on",
            "range",
            "cannot be in the future",
        ));
    }
    let o = state
        .db
        .write(move |conn| {
            repo::find_agreement(conn, id)?.ok_or_else(|| ApiError::not_found("agreement", id))?;
            let row = repo::insert_obligation(
                conn,
                id,
                input.description.trim(),
                input.due_on,
                input.met_on,
                crate::db::now(),
            )?;
            let o = obligation_of(row, today());
            audit(
                conn,
                &caller,
                "create",
                "obligation",
                o.id,
                None::<&()>,
                Some(&o),
            )?;
            Ok(o)
        })
        .await?;
    Ok(with_etag(StatusCode::CREATED, o.version, &o))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObligationMet {
    /// The date it was met, or null to reopen.
    pub met_on: Option<NaiveDate>,
}

/// Record that an obligation was met (`If-Match` required).
#[utoipa::path(
    tag = "deals",
    request_body = ObligationMet,
    params(("id" = i64, Path, description = "Obligation id"), super::extract::IfMatchHeader),
    responses((status = 200, description = "The obligation", body = Obligation, headers(("ETag" = String))))
)]
#[patch("/obligations/{id}")]
pub async fn update_obligation(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<ObligationMet>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = super::extract::if_match(&req)?;
    let input = body.into_inner();
    if input.met_on.is_some_and(|d| d > today()) {
        return Err(ApiError::field(
            "met_on",
            "range",
            "cannot be in the future",
        ));
    }
    let o = state
        .db
        .write(move |conn| {
            let row = repo::find_obligation(conn, id)?
                .ok_or_else(|| ApiError::not_found("obligation", id))?;
            super::extract::check_version(&expected, row.version)?;
            let before = obligation_of(row.clone(), today());
            let updated =
                repo::set_obligation_met(conn, id, row.version, input.met_on, crate::db::now())?
                    .ok_or_else(|| {
                        ApiError::PreconditionFailed("the obligation changed meanwhile".into())
                    })?;
            let after = obligation_of(updated, today());
            audit(
                conn,
                &caller,
                "update",
                "obligation",
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, o.version, &o))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ObligationQuery {
    pub agreement_id: Option<i64>,
    /// `overdue` lists only obligations past due and not met.
    #[param(inline)]
    pub status: Option<ObligationFilter>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObligationFilter {
    Open,
    Overdue,
}

/// Obligations by due date; `status=overdue` is the overdue list across all agreements.
#[utoipa::path(tag = "deals", params(ObligationQuery), responses((status = 200, description = "Obligations", body = Vec<Obligation>)))]
#[get("/obligations")]
pub async fn list_obligations(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<ObligationQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let today = today();
    let rows = state
        .db
        .read(move |c| {
            Ok(repo::obligations_list(
                c,
                q.agreement_id,
                q.status.is_some(),
            )?)
        })
        .await?;
    let mut out: Vec<Obligation> = rows.into_iter().map(|r| obligation_of(r, today)).collect();
    if matches!(q.status, Some(ObligationFilter::Overdue)) {
        out.retain(|o| o.status == "overdue");
    }
    Ok(HttpResponse::Ok().json(out))
}
