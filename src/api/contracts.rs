//! `/api/v1/result-contracts`: the indicators and targets management agrees with the unit for
//! a period, and the scorecard of actuals computed from the data.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::extract::{
    check_version, double_option, if_match, patch_optional, patch_required, ApiJson,
    IdempotencyKeyHeader, IfMatchHeader,
};
use super::kpis::{find_kpi, values, KpiUnit, KpiValue};
use super::{audit, create_idempotent, with_etag, AppState, Created};
use crate::auth::Caller;
use crate::db::contracts::{self as repo, ContractData, ContractRow, NewTarget};
use crate::db::kpis::Scope;
use crate::db::{organisations, AnyConnection};
use crate::error::{ApiError, FieldError};

const ENTITY: &str = "result_contract";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_contracts)
        .service(create_contract)
        .service(get_contract)
        .service(update_contract)
        .service(get_scorecard);
}

crate::domain::text_enum! {
    /// Where a result contract stands.
    ContractStatus {
        Draft = "draft",
        Agreed = "agreed",
        Closed = "closed",
    }
}

crate::domain::text_enum! {
    /// Whether a target is a floor or a ceiling.
    Direction {
        AtLeast = "at_least",
        AtMost = "at_most",
    }
}

/// One indicator with its target.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// A key of `GET /kpis`.
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    #[schema(min_length = 1, max_length = 100, example = "inventions_received")]
    pub kpi_key: String,
    /// In the KPI's unit (money in minor units, percent 0–100).
    #[validate(range(min = 0.0, max = 1e15, message = "must be 0 to 1e15"))]
    #[schema(minimum = 0, maximum = 1e15)]
    pub target: f64,
    pub direction: Direction,
    /// The projected value beyond which the target is flagged `at_risk` during the period
    /// (default: the target itself).
    #[serde(default)]
    #[validate(range(min = 0.0, max = 1e15, message = "must be 0 to 1e15"))]
    #[schema(minimum = 0, maximum = 1e15)]
    pub at_risk_threshold: Option<f64>,
}

/// A result contract.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResultContract {
    pub id: i64,
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: ContractStatus,
    /// The organisation the contract is for; absent for the whole unit.
    pub organisation_id: Option<i64>,
    pub notes: Option<String>,
    pub targets: Vec<Target>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn contract_of(
    conn: &mut AnyConnection,
    r: ContractRow,
) -> Result<ResultContract, ApiError> {
    let targets = repo::targets(conn, r.id)?
        .into_iter()
        .map(|t| Target {
            direction: Direction::parse(&t.direction).unwrap_or(Direction::AtLeast),
            kpi_key: t.kpi_key,
            target: t.target_value,
            at_risk_threshold: t.at_risk_threshold,
        })
        .collect();
    Ok(ResultContract {
        status: ContractStatus::parse(&r.status)
            .ok_or_else(|| ApiError::Internal(format!("contract {} has unknown status", r.id)))?,
        id: r.id,
        title: r.title,
        period_start: r.period_start,
        period_end: r.period_end,
        organisation_id: r.organisation_id,
        notes: r.notes,
        targets,
        version: r.version,
        created_at: r.created_at.and_utc(),
        updated_at: r.updated_at.and_utc(),
    })
}

/// The fields of a result contract a client sets.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResultContract {
    #[validate(
        length(min = 1, max = 300, message = "must be 1 to 300 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = "\\S",
        example = "Result contract 2026"
    )]
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Default `draft`.
    #[serde(default)]
    pub status: Option<ContractStatus>,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub organisation_id: Option<i64>,
    #[serde(default)]
    #[validate(length(max = 10000, message = "must be at most 10000 characters"))]
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
    #[serde(default)]
    #[validate(length(max = 100, message = "at most 100 targets"), nested)]
    #[schema(max_items = 100)]
    pub targets: Vec<Target>,
}

fn check_contract(conn: &mut AnyConnection, c: &NewResultContract) -> Result<(), ApiError> {
    c.validate()?;
    let mut errors = Vec::new();
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = NaiveDate::from_ymd_opt(2999, 12, 31).unwrap_or(NaiveDate::MAX);
    for (field, d) in [
        ("period_start", c.period_start),
        ("period_end", c.period_end),
    ] {
        if d < earliest || d > latest {
            errors.push(FieldError::new(
                field,
                "range",
                "must be between 1900-01-01 and 2999-12-31",
            ));
        }
    }
    if c.period_end < c.period_start {
        errors.push(FieldError::new(
            "period_end",
            "before_start",
            "must not be before period_start",
        ));
    }
    if let Some(o) = c.organisation_id {
        if !organisations::exists(conn, o)? {
            errors.push(FieldError::new(
                "organisation_id",
                "not_found",
                format!("organisation {o} does not exist"),
            ));
        }
    }
    for (i, t) in c.targets.iter().enumerate() {
        match find_kpi(&t.kpi_key) {
            None => errors.push(FieldError::new(
                format!("targets[{i}].kpi_key"),
                "unknown_kpi",
                format!("'{}' is not a KPI of GET /kpis", t.kpi_key),
            )),
            Some(k) if k.unit == KpiUnit::Percent && t.target > 100.0 => {
                errors.push(FieldError::new(
                    format!("targets[{i}].target"),
                    "range",
                    "a percentage target is at most 100",
                ))
            }
            Some(_) => {}
        }
        if c.targets[..i].iter().any(|o| o.kpi_key == t.kpi_key) {
            errors.push(FieldError::new(
                format!("targets[{i}].kpi_key"),
                "duplicate",
                "each KPI has one target per contract",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn save_targets(conn: &mut AnyConnection, id: i64, targets: &[Target]) -> Result<(), ApiError> {
    let rows: Vec<NewTarget> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| NewTarget {
            contract_id: id,
            position: i as i64,
            kpi_key: t.kpi_key.clone(),
            target_value: t.target,
            direction: t.direction.as_str().to_string(),
            at_risk_threshold: t.at_risk_threshold,
        })
        .collect();
    repo::set_targets(conn, id, &rows)?;
    Ok(())
}

fn data_of(c: &NewResultContract) -> ContractData {
    ContractData {
        title: c.title.trim().to_string(),
        period_start: c.period_start,
        period_end: c.period_end,
        status: c
            .status
            .unwrap_or(ContractStatus::Draft)
            .as_str()
            .to_string(),
        organisation_id: c.organisation_id,
        notes: c.notes.clone(),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContractQuery {
    #[param(inline)]
    pub status: Option<ContractStatus>,
}

/// List result contracts, newest period first.
#[utoipa::path(
    tag = "kpis",
    params(ContractQuery),
    responses((status = 200, description = "Contracts", body = Vec<ResultContract>))
)]
#[get("/result-contracts")]
pub async fn list_contracts(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<ContractQuery>,
) -> Result<HttpResponse, ApiError> {
    let status = query.into_inner().status;
    let items = state
        .db
        .read(move |conn| {
            repo::list(conn, status.map(|s| s.as_str()))?
                .into_iter()
                .map(|r| contract_of(conn, r))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(HttpResponse::Ok().json(items))
}

/// Draft a result contract with its targets.
#[utoipa::path(
    tag = "kpis",
    request_body = NewResultContract,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = ResultContract,
        headers(("Location" = String), ("ETag" = String))))
)]
#[post("/result-contracts")]
pub async fn create_contract(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewResultContract>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.value;
    input.validate()?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        check_contract(conn, &input)?;
        let row = repo::insert(conn, &data_of(&input), crate::db::now())?;
        save_targets(conn, row.id, &input.targets)?;
        let c = contract_of(conn, row)?;
        audit(conn, &actor, "create", ENTITY, c.id, None::<&()>, Some(&c))?;
        Ok(Created {
            location: format!("/api/v1/result-contracts/{}", c.id),
            version: c.version,
            body: serde_json::to_value(&c).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Get one result contract.
#[utoipa::path(
    tag = "kpis",
    params(("id" = i64, Path, description = "Contract id")),
    responses((status = 200, description = "The contract", body = ResultContract, headers(("ETag" = String))))
)]
#[get("/result-contracts/{id}")]
pub async fn get_contract(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let c = state
        .db
        .read(move |conn| {
            let row = repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?;
            contract_of(conn, row)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, c.version, &c))
}

/// Merge patch of a result contract; `targets` replaces the list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 300, pattern = "\\S")]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = NaiveDate)]
    pub period_start: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = NaiveDate)]
    pub period_end: Option<Option<NaiveDate>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = ContractStatus)]
    pub status: Option<Option<ContractStatus>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub organisation_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub notes: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Vec<Target>, max_items = 100)]
    pub targets: Option<Option<Vec<Target>>>,
}

/// Change a result contract (`If-Match` required). Status moves draft → agreed → closed (and
/// agreed → draft to renegotiate); the period, scope and targets change only in `draft`.
#[utoipa::path(
    tag = "kpis",
    request_body(content = ContractPatch, content_type = "application/merge-patch+json"),
    params(("id" = i64, Path, description = "Contract id"), IfMatchHeader),
    responses((status = 200, description = "The changed contract", body = ResultContract, headers(("ETag" = String))))
)]
#[patch("/result-contracts/{id}")]
pub async fn update_contract(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<ContractPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let c = state
        .db
        .write(move |conn| {
            let row = repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?;
            let before = contract_of(conn, row)?;
            let mut next = NewResultContract {
                title: before.title.clone(),
                period_start: before.period_start,
                period_end: before.period_end,
                status: Some(before.status),
                organisation_id: before.organisation_id,
                notes: before.notes.clone(),
                targets: before.targets.clone(),
            };
            let mut errors = Vec::new();
            patch_required(&mut next.title, patch.title, "title", &mut errors);
            patch_required(&mut next.period_start, patch.period_start, "period_start", &mut errors);
            patch_required(&mut next.period_end, patch.period_end, "period_end", &mut errors);
            let mut status = before.status;
            patch_required(&mut status, patch.status, "status", &mut errors);
            next.status = Some(status);
            patch_optional(&mut next.organisation_id, patch.organisation_id);
            patch_optional(&mut next.notes, patch.notes);
            patch_required(&mut next.targets, patch.targets, "targets", &mut errors);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            check_contract(conn, &next)?;
            check_version(&expected, before.version)?;
            use ContractStatus::*;
            let allowed: &[ContractStatus] = match before.status {
                Draft => &[Agreed],
                Agreed => &[Closed, Draft],
                Closed => &[],
            };
            if status != before.status && !allowed.contains(&status) {
                return Err(ApiError::Conflict {
                    slug: "transition-not-allowed",
                    detail: format!(
                        "a result contract cannot go from {} to {}",
                        before.status.as_str(),
                        status.as_str()
                    ),
                    allowed: Some(allowed.iter().map(|s| s.as_str().to_string()).collect()),
                });
            }
            let terms_changed = next.period_start != before.period_start
                || next.period_end != before.period_end
                || next.organisation_id != before.organisation_id
                || serde_json::to_value(&next.targets).ok()
                    != serde_json::to_value(&before.targets).ok();
            if terms_changed && before.status != Draft {
                return Err(ApiError::Conflict {
                    slug: "contract-not-draft",
                    detail: format!(
                        "the period, scope and targets of an {} contract are fixed; move it back to draft first",
                        before.status.as_str()
                    ),
                    allowed: None,
                });
            }
            let row = repo::update(conn, id, before.version, &data_of(&next), crate::db::now())?
                .ok_or_else(|| ApiError::PreconditionFailed("the contract changed meanwhile".into()))?;
            save_targets(conn, id, &next.targets)?;
            let after = contract_of(conn, row)?;
            audit(conn, &caller, "update", ENTITY, id, Some(&before), Some(&after))?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, c.version, &c))
}

crate::domain::text_enum! {
    /// How a target stands.
    TargetStatus {
        Met = "met",
        OnTrack = "on_track",
        AtRisk = "at_risk",
        Missed = "missed",
    }
}

/// One line of a scorecard.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScorecardLine {
    pub kpi_key: String,
    pub name: String,
    pub unit: KpiUnit,
    pub direction: Direction,
    pub target: f64,
    pub at_risk_threshold: Option<f64>,
    /// The KPI computed from the data for the contract's period (to date).
    pub actual: KpiValue,
    /// For counts and sums during the period: the actual extrapolated to the period's end.
    pub projected: Option<f64>,
    /// 100 × actual / target (at_least) or 100 × target / actual (at_most), one decimal.
    pub attainment_percent: Option<f64>,
    pub status: TargetStatus,
    /// The same KPI for the period of the same length just before.
    pub previous: KpiValue,
}

/// A result contract's scorecard.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Scorecard {
    pub contract_id: i64,
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// The day the actuals were computed for (today, or the period's end once it is over).
    pub as_of: NaiveDate,
    /// Share of the period elapsed, 0–1.
    pub elapsed: f64,
    pub previous_start: NaiveDate,
    pub previous_end: NaiveDate,
    pub lines: Vec<ScorecardLine>,
}

/// The period of the same length just before `[from, to]`: whole months shift by months.
pub fn previous_period(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    use chrono::Datelike;
    let next_day = to.succ_opt().unwrap_or(to);
    if from.day() == 1 && next_day.day() == 1 {
        let months =
            (next_day.year() - from.year()) * 12 + next_day.month() as i32 - from.month() as i32;
        if let Some(start) = from.checked_sub_months(Months::new(months.max(1) as u32)) {
            return (start, from.pred_opt().unwrap_or(from));
        }
    }
    let len = (to - from).num_days() + 1;
    (
        from - chrono::TimeDelta::days(len),
        from.pred_opt().unwrap_or(from),
    )
}

fn meets(direction: Direction, value: f64, goal: f64) -> bool {
    match direction {
        Direction::AtLeast => value >= goal,
        Direction::AtMost => value <= goal,
    }
}

/// The status of a target: after the period met/missed; during it `met` once an additive
/// floor is reached, else `on_track` while the projection meets the at-risk threshold (the
/// target by default), else `at_risk`.
pub fn judge(
    t: &Target,
    additive: bool,
    actual: Option<f64>,
    elapsed: f64,
) -> (TargetStatus, Option<f64>) {
    let over = elapsed >= 1.0;
    let Some(actual) = actual else {
        return (
            if over {
                TargetStatus::Missed
            } else {
                TargetStatus::OnTrack
            },
            None,
        );
    };
    let projected = if additive && !over && elapsed > 0.0 {
        Some(actual / elapsed)
    } else {
        None
    };
    if over {
        let s = if meets(t.direction, actual, t.target) {
            TargetStatus::Met
        } else {
            TargetStatus::Missed
        };
        return (s, projected);
    }
    if additive && t.direction == Direction::AtLeast && actual >= t.target {
        return (TargetStatus::Met, projected);
    }
    let expected = projected.unwrap_or(actual);
    let threshold = t.at_risk_threshold.unwrap_or(t.target);
    let s = if meets(t.direction, expected, threshold) {
        TargetStatus::OnTrack
    } else {
        TargetStatus::AtRisk
    };
    (s, projected)
}

/// The scopes of a contract's period and of the period before it, and the KPIs it targets.
fn scopes(
    conn: &mut AnyConnection,
    c: &ResultContract,
) -> Result<(Scope, Scope, Vec<String>), ApiError> {
    let organisations = match c.organisation_id {
        Some(o) => Some(super::kpis::subtree(conn, o)?),
        None => None,
    };
    let (ps, pe) = previous_period(c.period_start, c.period_end);
    let scope = |from, to| Scope {
        from,
        to,
        organisations: organisations.clone(),
        currency: "DKK".into(),
    };
    let keys = c.targets.iter().map(|t| t.kpi_key.clone()).collect();
    Ok((scope(c.period_start, c.period_end), scope(ps, pe), keys))
}

/// The scorecard, computed on one connection (for the annual report).
pub fn scorecard_of(
    conn: &mut AnyConnection,
    c: &ResultContract,
    today: NaiveDate,
) -> Result<Scorecard, ApiError> {
    let (now, before, keys) = scopes(conn, c)?;
    let current = values(conn, &now, Some(&keys))?;
    let previous = values(conn, &before, Some(&keys))?;
    Ok(assemble(c, today, &before, &current, &previous))
}

/// The scorecard, with the two periods computed on two connections at once.
pub async fn scorecard_in_parallel(
    db: &crate::db::Db,
    c: ResultContract,
    today: NaiveDate,
) -> Result<Scorecard, ApiError> {
    let contract = c.clone();
    let (now, before, keys) = db.read(move |conn| scopes(conn, &contract)).await?;
    let (k1, k2) = (keys.clone(), keys);
    let b2 = before.clone();
    let (current, previous) = futures_util::future::join(
        db.read(move |conn| values(conn, &now, Some(&k1))),
        db.read(move |conn| values(conn, &b2, Some(&k2))),
    )
    .await;
    Ok(assemble(&c, today, &before, &current?, &previous?))
}

fn assemble(
    c: &ResultContract,
    today: NaiveDate,
    before: &Scope,
    current: &[KpiValue],
    previous: &[KpiValue],
) -> Scorecard {
    let as_of = today.clamp(c.period_start, c.period_end);
    let total = (c.period_end - c.period_start).num_days() + 1;
    let elapsed = if today > c.period_end {
        1.0
    } else if today < c.period_start {
        0.0
    } else {
        ((as_of - c.period_start).num_days() + 1) as f64 / total as f64
    };
    let mut lines = Vec::new();
    for t in &c.targets {
        let (Some(kpi), Some(actual), Some(prev)) = (
            find_kpi(&t.kpi_key),
            current.iter().find(|v| v.key == t.kpi_key),
            previous.iter().find(|v| v.key == t.kpi_key),
        ) else {
            continue;
        };
        let (status, projected) = judge(t, kpi.additive, actual.value, elapsed);
        let attainment = actual.value.map(|a| {
            let ratio = match t.direction {
                Direction::AtLeast if t.target > 0.0 => a / t.target,
                Direction::AtLeast => 1.0,
                Direction::AtMost if a > 0.0 => t.target / a,
                Direction::AtMost => 1.0,
            };
            (ratio * 1000.0).round() / 10.0
        });
        lines.push(ScorecardLine {
            kpi_key: t.kpi_key.clone(),
            name: kpi.name,
            unit: kpi.unit,
            direction: t.direction,
            target: t.target,
            at_risk_threshold: t.at_risk_threshold,
            actual: actual.clone(),
            projected: projected.map(|p| (p * 10.0).round() / 10.0),
            attainment_percent: attainment,
            status,
            previous: prev.clone(),
        });
    }
    Scorecard {
        contract_id: c.id,
        title: c.title.clone(),
        period_start: c.period_start,
        period_end: c.period_end,
        as_of,
        elapsed: (elapsed * 1000.0).round() / 1000.0,
        previous_start: before.from,
        previous_end: before.to,
        lines,
    }
}

/// The scorecard: per target the actual computed from the data, attainment, status and the
/// previous period's value.
#[utoipa::path(
    tag = "kpis",
    params(("id" = i64, Path, description = "Contract id")),
    responses((status = 200, description = "The scorecard", body = Scorecard))
)]
#[get("/result-contracts/{id}/scorecard")]
pub async fn get_scorecard(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let contract = state
        .db
        .read(move |conn| {
            let row = repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?;
            contract_of(conn, row)
        })
        .await?;
    let card = scorecard_in_parallel(&state.db, contract, super::ideas::today()).await?;
    Ok(HttpResponse::Ok().json(card))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn previous_periods() {
        assert_eq!(
            previous_period(d("2026-01-01"), d("2026-12-31")),
            (d("2025-01-01"), d("2025-12-31"))
        );
        assert_eq!(
            previous_period(d("2026-04-01"), d("2026-06-30")),
            (d("2026-01-01"), d("2026-03-31"))
        );
        assert_eq!(
            previous_period(d("2026-01-10"), d("2026-01-19")),
            (d("2025-12-31"), d("2026-01-09"))
        );
    }

    #[test]
    fn statuses() {
        let t = Target {
            kpi_key: "ideas_received".into(),
            target: 100.0,
            direction: Direction::AtLeast,
            at_risk_threshold: Some(90.0),
        };
        assert_eq!(judge(&t, true, Some(120.0), 1.0).0, TargetStatus::Met);
        assert_eq!(judge(&t, true, Some(80.0), 1.0).0, TargetStatus::Missed);
        assert_eq!(judge(&t, true, Some(100.0), 0.5).0, TargetStatus::Met);
        // Half-way with 46: projected 92 ≥ threshold 90.
        assert_eq!(
            judge(&t, true, Some(46.0), 0.5),
            (TargetStatus::OnTrack, Some(92.0))
        );
        assert_eq!(judge(&t, true, Some(40.0), 0.5).0, TargetStatus::AtRisk);
        let share = Target {
            kpi_key: "pre_screening_rejection_share".into(),
            target: 30.0,
            direction: Direction::AtMost,
            at_risk_threshold: None,
        };
        assert_eq!(
            judge(&share, false, Some(35.0), 0.5).0,
            TargetStatus::AtRisk
        );
        assert_eq!(
            judge(&share, false, Some(25.0), 0.5).0,
            TargetStatus::OnTrack
        );
        assert_eq!(judge(&share, false, None, 1.0).0, TargetStatus::Missed);
    }
}
