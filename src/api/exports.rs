//! `/api/v1/exports/*.csv`: the list endpoints as CSV files for spreadsheets.
//!
//! Each export takes the same filters as its list endpoint (paging parameters are ignored:
//! the file holds every match), writes UTF-8 with a byte-order mark (so spreadsheet programs
//! read æ, ø and å correctly), a header row of stable column names, and one row per record.
//! Money is given twice: as a decimal in major units (`amount`) and exactly in minor units
//! (`amount_minor`), with the currency in its own column. `delimiter=semicolon` suits
//! spreadsheets set up for a decimal comma.

use actix_web::http::header;
use actix_web::{get, web, HttpResponse};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::deals::{agreement_of, income_of, AgreementQuery, IncomeQuery};
use super::funding::{application_page, FundingQuery};
use super::ideas::{ideas_page, IdeaQuery};
use super::patents::Filing;
use super::AppState;
use crate::auth::Caller;
use crate::domain::patents::FilingStatus;
use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export_ideas)
        .service(export_filings)
        .service(export_agreements)
        .service(export_income)
        .service(export_funding);
}

#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delimiter {
    Comma,
    Semicolon,
}

/// How the file is written.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CsvOptions {
    /// Field separator (default `comma`).
    #[param(inline)]
    pub delimiter: Option<Delimiter>,
}

/// A column: its name and where its value is in the record's JSON (a JSON pointer). A name
/// ending in `amount` of a Money object gives the decimal; `…_minor` the minor units.
type Column = (&'static str, &'static str);

const IDEA_COLUMNS: &[Column] = &[
    ("id", "/id"),
    ("title", "/title"),
    ("kind", "/kind"),
    ("innovation_type", "/innovation_type"),
    ("received_on", "/received_on"),
    ("stage", "/stage"),
    ("outcome", "/outcome"),
    ("source_organisation_id", "/source_organisation_id"),
    ("project_manager_id", "/project_manager_id"),
    ("recipient_organisation_id", "/recipient_organisation_id"),
    ("confidential", "/confidential"),
    ("tags", "/tags"),
    ("rights_deadline", "/rights/deadline"),
    ("rights_decision", "/rights/decision"),
    ("rights_decided_on", "/rights/decided_on"),
    ("expected_yearly_savings", "/expected_yearly_savings"),
    (
        "expected_yearly_savings_minor",
        "/expected_yearly_savings/amount_minor",
    ),
    (
        "expected_yearly_savings_currency",
        "/expected_yearly_savings/currency",
    ),
    ("expected_fte", "/expected_fte"),
    ("description", "/description"),
    ("need", "/need"),
    ("created_at", "/created_at"),
    ("updated_at", "/updated_at"),
];

const FILING_COLUMNS: &[Column] = &[
    ("id", "/id"),
    ("family_id", "/family_id"),
    ("kind", "/kind"),
    ("jurisdiction", "/jurisdiction"),
    ("parent_id", "/parent_id"),
    ("application_number", "/application_number"),
    ("filing_date", "/filing_date"),
    ("priority_dates", "/priority_dates"),
    ("publication_number", "/publication_number"),
    ("publication_date", "/publication_date"),
    ("grant_number", "/grant_number"),
    ("grant_date", "/grant_date"),
    ("status", "/status"),
    ("created_at", "/created_at"),
    ("updated_at", "/updated_at"),
];

const AGREEMENT_COLUMNS: &[Column] = &[
    ("id", "/id"),
    ("kind", "/kind"),
    ("title", "/title"),
    ("counterparty_id", "/counterparty_id"),
    ("idea_ids", "/idea_ids"),
    ("family_ids", "/family_ids"),
    ("status", "/status"),
    ("signed_on", "/signed_on"),
    ("effective_on", "/effective_on"),
    ("expires_on", "/expires_on"),
    ("ended_on", "/ended_on"),
    ("end_reason", "/end_reason"),
    ("territory", "/territory"),
    ("field_of_use", "/field_of_use"),
    ("upfront_fee", "/terms/upfront_fee"),
    ("upfront_fee_minor", "/terms/upfront_fee/amount_minor"),
    ("upfront_fee_currency", "/terms/upfront_fee/currency"),
    ("royalty_rate_bp", "/terms/royalty_rate_bp"),
    ("annual_minimum", "/terms/annual_minimum"),
    ("annual_minimum_minor", "/terms/annual_minimum/amount_minor"),
    ("sublicence_share_bp", "/terms/sublicence_share_bp"),
    ("created_at", "/created_at"),
];

const INCOME_COLUMNS: &[Column] = &[
    ("id", "/id"),
    ("received_on", "/received_on"),
    ("kind", "/kind"),
    ("idea_id", "/idea_id"),
    ("agreement_id", "/agreement_id"),
    ("amount", "/amount"),
    ("amount_minor", "/amount/amount_minor"),
    ("currency", "/amount/currency"),
    ("note", "/note"),
    ("created_at", "/created_at"),
];

const FUNDING_COLUMNS: &[Column] = &[
    ("id", "/id"),
    ("title", "/title"),
    ("funder_id", "/funder_id"),
    ("funder_name", "/funder_name"),
    ("programme", "/programme"),
    ("programme_kind", "/programme_kind"),
    ("idea_id", "/idea_id"),
    ("status", "/status"),
    ("currency", "/amount_applied/currency"),
    ("amount_applied", "/amount_applied"),
    ("amount_applied_minor", "/amount_applied/amount_minor"),
    ("own_cofinancing", "/own_cofinancing"),
    ("own_cofinancing_minor", "/own_cofinancing/amount_minor"),
    ("grant_rate_bp", "/grant_rate_bp"),
    ("amount_awarded", "/amount_awarded"),
    ("amount_awarded_minor", "/amount_awarded/amount_minor"),
    ("amount_received", "/amount_received"),
    ("amount_received_minor", "/amount_received/amount_minor"),
    ("submitted_on", "/submitted_on"),
    ("decided_on", "/decided_on"),
    ("withdrawn_on", "/withdrawn_on"),
    ("project_start", "/project_start"),
    ("project_end", "/project_end"),
    ("funder_reference", "/funder_reference"),
    ("created_at", "/created_at"),
];

/// Minor units as a decimal in major units with two decimals (`-1234.50`).
fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The text of one cell.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| cell(Some(i)))
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::Object(o)) => match o.get("amount_minor").and_then(Value::as_i64) {
            Some(minor) => decimal(minor),
            None => Value::Object(o.clone()).to_string(),
        },
    }
}

/// Writes records as CSV with a BOM and a header row.
fn write_csv(
    records: &[Value],
    columns: &[Column],
    delimiter: Option<Delimiter>,
) -> Result<Vec<u8>, ApiError> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(match delimiter.unwrap_or(Delimiter::Comma) {
                Delimiter::Comma => b',',
                Delimiter::Semicolon => b';',
            })
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(columns.iter().map(|(name, _)| *name))
            .map_err(ApiError::internal)?;
        for r in records {
            w.write_record(columns.iter().map(|(_, ptr)| cell(r.pointer(ptr))))
                .map_err(ApiError::internal)?;
        }
        w.flush().map_err(ApiError::internal)?;
    }
    Ok(out)
}

fn csv_response(name: &str, body: Vec<u8>) -> HttpResponse {
    let today = chrono::Utc::now().date_naive();
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}-{today}.csv\""),
        ))
        .body(body)
}

fn to_values<T: serde::Serialize>(items: Vec<T>) -> Result<Vec<Value>, ApiError> {
    items
        .into_iter()
        .map(|i| serde_json::to_value(i).map_err(ApiError::internal))
        .collect()
}

/// Ideas as CSV, with the filters of `GET /ideas` (paging ignored).
#[utoipa::path(
    tag = "exports",
    params(IdeaQuery, CsvOptions),
    responses((status = 200, description = "CSV file", content_type = "text/csv", body = String))
)]
#[get("/exports/ideas.csv")]
pub async fn export_ideas(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<IdeaQuery>,
    options: web::Query<CsvOptions>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    super::extract::paging(q.limit, q.offset)?;
    super::extract::check_query_text("q", &q.q, 200)?;
    super::extract::check_query_text("tag", &q.tag, 50)?;
    let role = caller.role;
    let records = state
        .db
        .read(move |conn| {
            let mut all = Vec::new();
            let mut offset = 0;
            loop {
                let page = ideas_page(conn, &q, role, 500, offset)?;
                let n = page.items.len() as i64;
                all.extend(to_values(page.items)?);
                offset += n;
                if n == 0 || offset >= page.total {
                    break;
                }
            }
            Ok(all)
        })
        .await?;
    let body = write_csv(&records, IDEA_COLUMNS, options.delimiter)?;
    Ok(csv_response("ideas", body))
}

/// Filters of the filing export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilingExportQuery {
    /// Only filings of this family.
    pub family_id: Option<i64>,
    /// Only filings of this family's idea.
    pub idea_id: Option<i64>,
    #[param(inline)]
    pub status: Option<FilingStatus>,
    /// Only filings in this jurisdiction (`EP`, `DK`, `WO`, …).
    #[param(max_length = 10, pattern = "^[^\\x00]*$")]
    pub jurisdiction: Option<String>,
}

/// Patent filings as CSV, oldest first.
#[utoipa::path(
    tag = "exports",
    params(FilingExportQuery, CsvOptions),
    responses((status = 200, description = "CSV file", content_type = "text/csv", body = String))
)]
#[get("/exports/filings.csv")]
pub async fn export_filings(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<FilingExportQuery>,
    options: web::Query<CsvOptions>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    super::extract::check_query_text("jurisdiction", &q.jurisdiction, 10)?;
    let rows = state
        .db
        .read(|conn| Ok(crate::db::patents::all_filings(conn)?))
        .await?;
    let mut filings = Vec::new();
    for (row, idea_id, _) in rows {
        if q.family_id.is_some_and(|f| f != row.family_id)
            || q.idea_id.is_some_and(|i| i != idea_id)
        {
            continue;
        }
        let f = Filing::try_from(row)?;
        if q.status.is_some_and(|s| s != f.status)
            || q.jurisdiction
                .as_deref()
                .is_some_and(|j| !j.eq_ignore_ascii_case(&f.jurisdiction))
        {
            continue;
        }
        filings.push(f);
    }
    let body = write_csv(&to_values(filings)?, FILING_COLUMNS, options.delimiter)?;
    Ok(csv_response("filings", body))
}

/// Agreements as CSV, with the filters of `GET /agreements` (paging ignored).
#[utoipa::path(
    tag = "exports",
    params(AgreementQuery, CsvOptions),
    responses((status = 200, description = "CSV file", content_type = "text/csv", body = String))
)]
#[get("/exports/agreements.csv")]
pub async fn export_agreements(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<AgreementQuery>,
    options: web::Query<CsvOptions>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    // Paging parameters are checked like the list's, then ignored: the file holds every match.
    super::extract::paging(q.limit, q.offset)?;
    let records = state
        .db
        .read(move |c| {
            let rows = crate::db::deals::list_agreements(
                c,
                q.status.map(|s| s.as_str().to_string()),
                q.idea_id,
            )?;
            let items = rows
                .into_iter()
                .map(|r| agreement_of(c, r))
                .collect::<Result<Vec<_>, _>>()?;
            to_values(items)
        })
        .await?;
    let body = write_csv(&records, AGREEMENT_COLUMNS, options.delimiter)?;
    Ok(csv_response("agreements", body))
}

/// Income as CSV, with the filters of `GET /income` (paging ignored).
#[utoipa::path(
    tag = "exports",
    params(IncomeQuery, CsvOptions),
    responses((status = 200, description = "CSV file", content_type = "text/csv", body = String))
)]
#[get("/exports/income.csv")]
pub async fn export_income(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<IncomeQuery>,
    options: web::Query<CsvOptions>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    super::extract::paging(q.limit, q.offset)?;
    let mut rows = state
        .db
        .read(move |c| {
            Ok(crate::db::deals::list_income(
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
    let items: Vec<_> = rows.into_iter().map(income_of).collect();
    let body = write_csv(&to_values(items)?, INCOME_COLUMNS, options.delimiter)?;
    Ok(csv_response("income", body))
}

/// Funding applications as CSV, with the filters of `GET /funding-applications` (paging
/// ignored).
#[utoipa::path(
    tag = "exports",
    params(FundingQuery, CsvOptions),
    responses((status = 200, description = "CSV file", content_type = "text/csv", body = String))
)]
#[get("/exports/funding-applications.csv")]
pub async fn export_funding(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<FundingQuery>,
    options: web::Query<CsvOptions>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    // Paging parameters are checked like the list's, then ignored: the file holds every match.
    super::extract::paging(q.limit, q.offset)?;
    let records = state
        .db
        .read(move |conn| {
            let mut all = Vec::new();
            let mut offset = 0;
            loop {
                let page = application_page(conn, &q, 500, offset)?;
                let n = page.items.len() as i64;
                all.extend(to_values(page.items)?);
                offset += n;
                if n == 0 || offset >= page.total {
                    break;
                }
            }
            Ok(all)
        })
        .await?;
    let body = write_csv(&records, FUNDING_COLUMNS, options.delimiter)?;
    Ok(csv_response("funding-applications", body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_money() {
        assert_eq!(decimal(123450), "1234.50");
        assert_eq!(decimal(-5), "-0.05");
        let v =
            serde_json::json!({"a": {"amount_minor": 1000, "currency": "DKK"}, "t": ["x", "y"]});
        assert_eq!(cell(v.pointer("/a")), "10.00");
        assert_eq!(cell(v.pointer("/a/currency")), "DKK");
        assert_eq!(cell(v.pointer("/t")), "x; y");
        assert_eq!(cell(v.pointer("/missing")), "");
    }

    #[test]
    fn bom_header_and_danish_letters() {
        let rows = vec![serde_json::json!({"id": 1, "title": "Sår, ø og æ"})];
        let out = write_csv(&rows, &[("id", "/id"), ("title", "/title")], None).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text, "\u{feff}id,title\r\n1,\"Sår, ø og æ\"\r\n");
    }
}
