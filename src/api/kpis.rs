//! `/api/v1/kpis` (the catalogue), `/api/v1/kpis/values` (every KPI for any period) and
//! `/api/v1/reports/funnel` (intake by kind × where the ideas are now).

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::AppState;
use crate::auth::Caller;
use crate::db::kpis::{self as repo, Figure, Scope, STAGES};
use crate::db::{organisations, AnyConnection};
use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_kpis)
        .service(kpi_values)
        .service(funnel_report);
}

crate::domain::text_enum! {
    /// What a KPI's value counts.
    KpiUnit {
        Count = "count",
        Percent = "percent",
        Days = "days",
        Money = "money",
        Fte = "fte",
    }
}

/// A KPI's definition.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Kpi {
    pub key: String,
    pub name: String,
    /// The exact counting rule.
    pub definition: String,
    pub unit: KpiUnit,
    /// Whether the value grows through the period (counts and sums: a half-year shows about
    /// half) rather than being a rate or median.
    pub additive: bool,
    /// The standard the KPI aligns with, where one exists.
    pub standard: Option<String>,
}

const AUTM: &str = "AUTM Licensing Activity Survey";
const ASTP: &str = "ASTP Annual Survey";
const DK: &str = "Danish Ministry of Higher Education and Science: commercialisation statistics";

/// (key, name, unit, additive, standard, definition)
type Def = (
    &'static str,
    &'static str,
    KpiUnit,
    bool,
    Option<&'static str>,
    &'static str,
);

const CATALOGUE: &[Def] = &[
    ("ideas_received", "Ideas and disclosures received", KpiUnit::Count, true, Some(DK), "Ideas of every kind whose received_on lies in the period."),
    ("ideas_received_idea_problem", "Ideas/needs received", KpiUnit::Count, true, None, "Ideas of kind idea_problem received in the period."),
    ("ideas_received_clinical_invention", "Clinical inventions received", KpiUnit::Count, true, None, "Ideas of kind clinical_invention received in the period."),
    ("ideas_received_research_invention", "Research inventions received", KpiUnit::Count, true, Some(DK), "Ideas of kind research_invention received in the period."),
    ("inventions_received", "Invention disclosures received", KpiUnit::Count, true, Some(AUTM), "Clinical plus research inventions received in the period (AUTM: invention disclosures received)."),
    ("rights_decisions_on_time_share", "Rights decisions on time", KpiUnit::Percent, false, None, "Of the inventions whose rights-decision deadline (extended where agreed) lies in the period and has passed or been met: the share decided on or before the deadline. 100 × on time / due."),
    ("median_days_to_rights_decision", "Median days to rights decision", KpiUnit::Days, false, None, "Median of rights_decided_on − received_on (days) over the inventions decided in the period."),
    ("pre_screening_rejection_share", "Rejected in pre-screening", KpiUnit::Percent, false, None, "Of the ideas that left pre-screening in the period: the share closed there. 100 × closed / left."),
    ("passed_on_internal", "Passed on internally", KpiUnit::Count, true, None, "Ideas whose outcome became passed_on_internal in the period."),
    ("passed_on_external", "Passed on externally", KpiUnit::Count, true, None, "Ideas whose outcome became passed_on_external in the period."),
    ("ideas_closed", "Ideas closed", KpiUnit::Count, true, None, "Ideas whose outcome became closed in the period."),
    ("rights_returned", "Rights returned to inventors", KpiUnit::Count, true, None, "Inventions whose outcome became rights_returned in the period."),
    ("active_portfolio", "Active portfolio at period end", KpiUnit::Count, false, None, "Ideas received by the period's last day whose last funnel event by that day left them in a stage without an outcome."),
    ("priority_applications", "Priority patent applications", KpiUnit::Count, true, Some(DK), "Filings of kind priority or provisional with a filing date in the period."),
    ("pct_applications", "PCT applications", KpiUnit::Count, true, None, "Filings of kind pct with a filing date in the period."),
    ("national_phase_entries", "National/regional phase entries", KpiUnit::Count, true, None, "Filings of kind national_phase, plus regional filings with a parent (entry from a PCT), filed in the period."),
    ("patents_granted", "Patents granted", KpiUnit::Count, true, Some(AUTM), "Filings with a grant date in the period (AUTM: U.S./foreign patents issued)."),
    ("agreements_signed", "Agreements signed", KpiUnit::Count, true, Some(ASTP), "Agreements of every kind signed in the period."),
    ("agreements_signed_licence", "Licences signed", KpiUnit::Count, true, Some(AUTM), "Exclusive and non-exclusive licences signed in the period (AUTM: licenses executed)."),
    ("agreements_signed_option", "Options signed", KpiUnit::Count, true, Some(AUTM), "Option agreements signed in the period (AUTM: options executed)."),
    ("agreements_signed_assignment", "Assignments (sales) signed", KpiUnit::Count, true, Some(DK), "Assignments of rights signed in the period."),
    ("agreements_signed_spin_out", "Spin-outs", KpiUnit::Count, true, Some(AUTM), "Spin-out agreements signed in the period (AUTM: start-ups formed)."),
    ("agreements_signed_collaboration", "Collaboration agreements signed", KpiUnit::Count, true, None, "Collaboration agreements signed in the period."),
    ("licence_income", "Licence income", KpiUnit::Money, true, Some(AUTM), "Income received in the period in the report currency, excluding patent-cost reimbursements (AUTM: license income)."),
    ("total_income", "Total income", KpiUnit::Money, true, None, "All income received in the period in the report currency, reimbursements included."),
    ("patent_costs", "Patent costs", KpiUnit::Money, true, Some(AUTM), "Patent costs incurred in the period in the report currency (AUTM: legal fees expended)."),
    ("net_ip_result", "Net IP result", KpiUnit::Money, true, None, "total_income − patent_costs for the period."),
    ("royalties_distributed", "Royalties distributed to inventors", KpiUnit::Money, true, None, "Inventor payout lines of distributions made in the period (reversals count negative)."),
    ("funding_applied", "External funding applied for", KpiUnit::Money, true, None, "amount_applied of funding applications submitted in the period."),
    ("funding_awarded", "External funding awarded", KpiUnit::Money, true, Some(DK), "amount_awarded of applications awarded (decided_on) in the period."),
    ("proof_of_concept_projects", "Proof-of-concept projects", KpiUnit::Count, true, Some(ASTP), "Applications of programme kind proof_of_concept awarded in the period."),
    ("collaboration_requests_received", "Collaboration requests received", KpiUnit::Count, true, None, "Industry collaboration requests received in the period."),
    ("collaboration_requests_converted", "Collaboration requests converted", KpiUnit::Count, true, Some(DK), "Collaboration requests that reached agreement_signed (closed_on) in the period."),
    ("commercialised_solutions", "Commercialised solutions", KpiUnit::Count, true, None, "Ideas whose outcome became commercialised in the period."),
    ("implemented_solutions", "Implemented solutions", KpiUnit::Count, true, None, "Ideas whose outcome became implemented (in-house) in the period."),
    ("documented_yearly_savings", "Documented yearly savings", KpiUnit::Money, true, None, "Sum of yearly savings of impacts recorded in the period (report currency)."),
    ("documented_fte", "Documented FTE freed", KpiUnit::Fte, true, None, "Sum of full-time equivalents freed per year of impacts recorded in the period."),
    ("conversion_from_pre_screening", "Conversion pre-screening → evaluation", KpiUnit::Percent, false, None, "Of the ideas that left pre-screening in the period: the share that moved on to evaluation."),
    ("conversion_from_evaluation", "Conversion evaluation → validation", KpiUnit::Percent, false, None, "Of the ideas that left evaluation in the period: the share that moved on to validation."),
    ("conversion_from_validation", "Conversion validation → development", KpiUnit::Percent, false, None, "Of the ideas that left validation in the period: the share that moved on to development."),
    ("conversion_from_development", "Conversion development → commercialisation", KpiUnit::Percent, false, None, "Of the ideas that left development in the period: the share that moved on to commercialisation."),
    ("median_days_in_pre_screening", "Median days in pre-screening", KpiUnit::Days, false, None, "Median days from entering pre-screening to leaving it, over the ideas that left it in the period."),
    ("median_days_in_evaluation", "Median days in evaluation", KpiUnit::Days, false, None, "Median days from entering evaluation to leaving it, over the ideas that left it in the period."),
    ("median_days_in_validation", "Median days in validation", KpiUnit::Days, false, None, "Median days from entering validation to leaving it, over the ideas that left it in the period."),
    ("median_days_in_development", "Median days in development", KpiUnit::Days, false, None, "Median days from entering development to leaving it, over the ideas that left it in the period."),
];

/// Every KPI's definition.
pub fn catalogue() -> Vec<Kpi> {
    CATALOGUE
        .iter()
        .map(|(key, name, unit, additive, standard, definition)| Kpi {
            key: key.to_string(),
            name: name.to_string(),
            definition: definition.to_string(),
            unit: *unit,
            additive: *additive,
            standard: standard.map(str::to_string),
        })
        .collect()
}

pub fn find_kpi(key: &str) -> Option<Kpi> {
    catalogue().into_iter().find(|k| k.key == key)
}

/// The KPI catalogue.
#[utoipa::path(
    tag = "kpis",
    responses((status = 200, description = "Every KPI with its counting rule", body = Vec<Kpi>))
)]
#[get("/kpis")]
pub async fn list_kpis(_caller: Caller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(catalogue()))
}

/// One KPI's value for a period, with the counts it came from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct KpiValue {
    pub key: String,
    pub name: String,
    pub unit: KpiUnit,
    /// Counts, days, percent (one decimal), FTE (two decimals), or money in minor units of
    /// `currency`. Null when there is nothing to compute it from (a share of zero cases).
    pub value: Option<f64>,
    pub currency: Option<String>,
    /// What the value was computed from: `count`; or `numerator` and `denominator`; or
    /// `amount_minor` and `count` of records summed.
    #[schema(value_type = Object)]
    pub basis: serde_json::Value,
}

fn round(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// A figure as the API shows it.
pub fn value_of(kpi: &Kpi, figure: &Figure, currency: &str) -> KpiValue {
    use serde_json::json;
    let (value, basis) = match figure {
        Figure::Count(n) => (Some(*n as f64), json!({ "count": n })),
        Figure::Share {
            numerator,
            denominator,
        } => (
            (*denominator > 0).then(|| round(100.0 * *numerator as f64 / *denominator as f64, 1)),
            json!({ "numerator": numerator, "denominator": denominator }),
        ),
        Figure::Median { median, count } => (*median, json!({ "count": count })),
        Figure::Money { minor, count } => (
            Some(*minor as f64),
            json!({ "amount_minor": minor, "count": count }),
        ),
        Figure::Fte { centi, count } => (
            Some(*centi as f64 / 100.0),
            json!({ "fte_centi": centi, "count": count }),
        ),
    };
    KpiValue {
        key: kpi.key.clone(),
        name: kpi.name.clone(),
        unit: kpi.unit,
        value,
        currency: (kpi.unit == KpiUnit::Money).then(|| currency.to_string()),
        basis,
    }
}

/// All KPI values for a scope, in catalogue order.
pub fn values(
    conn: &mut AnyConnection,
    scope: &Scope,
    wanted: Option<&[String]>,
) -> Result<Vec<KpiValue>, ApiError> {
    let figures = repo::compute(conn, scope, wanted)?;
    Ok(catalogue()
        .iter()
        .filter_map(|k| figures.get(&k.key).map(|f| value_of(k, f, &scope.currency)))
        .collect())
}

/// All KPI values for a scope, computed on two connections at once: the funnel-history
/// medians (the most expensive group) beside everything else.
pub async fn values_in_parallel(
    db: &crate::db::Db,
    scope: Scope,
) -> Result<Vec<KpiValue>, ApiError> {
    let (slow, rest): (Vec<String>, Vec<String>) = catalogue()
        .into_iter()
        .map(|k| k.key)
        .partition(|k| k.starts_with("median_days_in_"));
    let s1 = scope.clone();
    let s2 = scope.clone();
    let (a, b) = futures_util::future::join(
        db.read(move |conn| Ok(repo::compute(conn, &s1, Some(&slow))?)),
        db.read(move |conn| Ok(repo::compute(conn, &s2, Some(&rest))?)),
    )
    .await;
    let mut figures = a?;
    figures.extend(b?);
    Ok(catalogue()
        .iter()
        .filter_map(|k| figures.get(&k.key).map(|f| value_of(k, f, &scope.currency)))
        .collect())
}

/// Period and scope of a KPI query.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day of the period.
    pub from: NaiveDate,
    /// Last day of the period (inclusive).
    pub to: NaiveDate,
    /// Only ideas from this organisation and its sub-organisations (and the filings,
    /// agreements, income and funding of those ideas).
    pub organisation_id: Option<i64>,
    /// Currency of money KPIs (default DKK).
    #[param(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

/// Checks a period query and resolves the organisation to its subtree.
pub fn scope_of(conn: &mut AnyConnection, q: &PeriodQuery) -> Result<Scope, ApiError> {
    // An organisation that does not exist has no ideas: its values are zeros, like any filter
    // that matches nothing.
    let organisations = match q.organisation_id {
        None => None,
        Some(id) => Some(subtree(conn, id)?),
    };
    Ok(Scope {
        from: q.from,
        to: q.to,
        organisations,
        currency: q.currency.clone().unwrap_or_else(|| "DKK".into()),
    })
}

/// Checks what a period query can get wrong without the database.
pub fn check_period(q: &PeriodQuery) -> Result<(), ApiError> {
    // A period that ends before it starts holds nothing: its counts are zeros (a read never
    // refuses a combination of valid filters).
    if let Some(c) = &q.currency {
        crate::domain::money::currency_code(c).map_err(|_| {
            ApiError::field("currency", "currency", "must be three capital letters")
        })?;
    }
    Ok(())
}

/// An organisation and everything below it.
pub(crate) fn subtree(conn: &mut AnyConnection, root: i64) -> Result<Vec<i64>, ApiError> {
    let all = organisations::all_parents(conn)?;
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        for (id, p) in &all {
            if *p == Some(parent) && !out.contains(id) {
                out.push(*id);
            }
        }
        i += 1;
    }
    Ok(out)
}

/// KPI values for a period.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KpiValues {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub organisation_id: Option<i64>,
    pub currency: String,
    pub values: Vec<KpiValue>,
}

/// Every KPI computed from the data for a period.
#[utoipa::path(
    tag = "kpis",
    params(PeriodQuery),
    responses((status = 200, description = "The values", body = KpiValues))
)]
#[get("/kpis/values")]
pub async fn kpi_values(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    check_period(&q)?;
    let scope = {
        let q = q.clone();
        state.db.read(move |conn| scope_of(conn, &q)).await?
    };
    let out = KpiValues {
        from: q.from,
        to: q.to,
        organisation_id: q.organisation_id,
        currency: scope.currency.clone(),
        values: values_in_parallel(&state.db, scope).await?,
    };
    Ok(HttpResponse::Ok().json(out))
}

/// Where ideas received in a period are now: the columns of the funnel report.
pub const POSITIONS: [&str; 12] = [
    "pre_screening",
    "evaluation",
    "validation",
    "development",
    "commercialisation",
    "closed",
    "passed_on_internal",
    "passed_on_external",
    "commercialised",
    "implemented",
    "rights_returned",
    "total",
];

/// One row of the funnel report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunnelRow {
    /// An idea kind, or `total`.
    pub kind: String,
    /// Counts by position: the five stages (still active), the six outcomes, and `total`.
    pub counts: BTreeMap<String, i64>,
}

/// Conversion between consecutive stages for the ideas received in the period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StageConversion {
    pub from_stage: String,
    pub to_stage: String,
    /// Ideas received in the period that ever reached `from_stage` / `to_stage`.
    pub reached_from: i64,
    pub reached_to: i64,
    /// 100 × reached_to / reached_from, one decimal; null when none reached `from_stage`.
    pub percent: Option<f64>,
}

/// The funnel report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FunnelReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Column order of `counts`.
    pub columns: Vec<String>,
    /// One row per idea kind, then the `total` row (the column sums).
    pub rows: Vec<FunnelRow>,
    pub conversion: Vec<StageConversion>,
}

pub fn funnel_of(conn: &mut AnyConnection, scope: &Scope) -> Result<FunnelReport, ApiError> {
    let cells = repo::funnel(conn, scope)?;
    let mut rows: Vec<FunnelRow> = ["idea_problem", "clinical_invention", "research_invention"]
        .iter()
        .map(|k| FunnelRow {
            kind: k.to_string(),
            counts: POSITIONS.iter().map(|p| (p.to_string(), 0)).collect(),
        })
        .collect();
    let mut total = FunnelRow {
        kind: "total".into(),
        counts: POSITIONS.iter().map(|p| (p.to_string(), 0)).collect(),
    };
    for c in cells {
        let position = c.outcome.clone().unwrap_or_else(|| c.stage.clone());
        let Some(row) = rows.iter_mut().find(|r| r.kind == c.kind) else {
            continue;
        };
        for r in [row, &mut total] {
            *r.counts.entry(position.clone()).or_insert(0) += c.count;
            *r.counts.entry("total".into()).or_insert(0) += c.count;
        }
    }
    rows.push(total);
    let reached = repo::reached(conn, scope)?;
    let conversion = STAGES
        .windows(2)
        .map(|w| {
            let a = reached.get(w[0]).copied().unwrap_or(0);
            let b = reached.get(w[1]).copied().unwrap_or(0);
            StageConversion {
                from_stage: w[0].into(),
                to_stage: w[1].into(),
                reached_from: a,
                reached_to: b,
                percent: (a > 0).then(|| round(100.0 * b as f64 / a as f64, 1)),
            }
        })
        .collect();
    Ok(FunnelReport {
        from: scope.from,
        to: scope.to,
        columns: POSITIONS.iter().map(|p| p.to_string()).collect(),
        rows,
        conversion,
    })
}

/// Ideas received in a period by kind × where they are now (still active by stage, or the
/// outcome they left with), with row and column totals and the conversion between stages:
/// the table the unit used to count by hand.
#[utoipa::path(
    tag = "kpis",
    params(PeriodQuery),
    responses((status = 200, description = "The funnel report", body = FunnelReport))
)]
#[get("/reports/funnel")]
pub async fn funnel_report(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<PeriodQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    check_period(&q)?;
    let report = state
        .db
        .read(move |conn| {
            let scope = scope_of(conn, &q)?;
            funnel_of(conn, &scope)
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
