//! `/api/v1/imports/ideas`: the legacy register, as CSV or JSON, all or nothing.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::read_body;
use super::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::import::{self, ImportSummary};

/// Largest import file, in bytes.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(import_ideas);
}

/// One row of the legacy register (every value is text; only the first three are required).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LegacyIdeaRow {
    #[schema(example = "Pressure-sensing wound dressing")]
    pub title: String,
    /// `idea_problem`, `clinical_invention`, `research_invention` (also `idea`, `clinical`, `research`).
    #[schema(example = "clinical_invention")]
    pub kind: String,
    /// `YYYY-MM-DD` or `DD-MM-YYYY`; the real date, kept as it is.
    #[schema(example = "2019-03-14")]
    pub received_on: String,
    pub description: Option<String>,
    pub need: Option<String>,
    /// `product` or `service`.
    pub innovation_type: Option<String>,
    /// `Name: 60; Name: 40`, or names alone for equal shares. People are matched by name or created.
    #[schema(example = "Anna Jensen: 60; Bo Holm: 40")]
    pub inventors: Option<String>,
    /// The institution owning the rights (100 %); matched by name or created.
    pub owner_institution: Option<String>,
    /// The inventors' employing department: the idea's source organisation.
    pub employer: Option<String>,
    /// Kept as the tag `legacy patent: …` until patents are registered.
    pub patent_status: Option<String>,
    /// Kept as the tag `legacy commercial: …`.
    pub commercial_status: Option<String>,
    /// An outcome (`closed`, `commercialised`, …; also `licence`, `spin-out`, `rejected`), or empty while active.
    pub outcome: Option<String>,
    /// The stage (default `pre_screening`; `commercialisation` for commercialised rows).
    pub stage: Option<String>,
    /// Tags separated by `;`.
    pub tags: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Check every row and report what would be created, writing nothing.
    pub dry_run: Option<bool>,
}

/// Import ideas from the legacy register. CSV (`text/csv`, header row, `,` or `;`) or JSON
/// (an array of rows). Every row is checked first; one bad row imports nothing, and the
/// problem lists each error with its line and column. `dry_run=true` only checks.
#[utoipa::path(
    tag = "ideas",
    params(ImportQuery),
    request_body(content(
        (String = "text/csv", example = "title,kind,received_on,inventors\nWound sensor,clinical_invention,2019-03-14,Anna Jensen: 60; Bo Holm: 40\n"),
        (Vec<LegacyIdeaRow> = "application/json")
    )),
    responses(
        (status = 201, description = "Imported", body = ImportSummary),
        (status = 200, description = "Dry run: everything checked, nothing written", body = ImportSummary)
    )
)]
#[post("/imports/ideas")]
pub async fn import_ideas(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    query: web::Query<ImportQuery>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let json = match content_type.as_str() {
        "application/json" => true,
        "text/csv" | "application/csv" => false,
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "send the register as text/csv or application/json".into(),
            ))
        }
    };
    let body = read_body(&mut payload, MAX_IMPORT_BYTES).await?;
    if std::str::from_utf8(&body).is_err() {
        return Err(ApiError::BadRequest("the file must be UTF-8".into()));
    }
    let dry_run = query.dry_run.unwrap_or(false);
    let db = state.db.clone();
    let summary = web::block(move || import::import(&db, &caller, &body, json, dry_run)).await??;
    Ok(if dry_run {
        HttpResponse::Ok().json(summary)
    } else {
        HttpResponse::Created().json(summary)
    })
}
