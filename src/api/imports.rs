//! `/api/v1/imports/ideas`: the legacy register, as CSV or JSON, all or nothing.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
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

/// A cell of a legacy row: text, a number, or null.
pub struct LegacyCell;

impl utoipa::PartialSchema for LegacyCell {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    }
}

impl ToSchema for LegacyCell {}

/// A list cell (inventors, tags): text separated by `;`, or an array of texts.
pub struct LegacyList;

impl utoipa::PartialSchema for LegacyList {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String))
            .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    }
}

impl ToSchema for LegacyList {}

/// One row of the legacy register (documentation of the JSON form; only the first three
/// columns are required, other keys are refused).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct LegacyIdeaRow {
    /// Required.
    title: LegacyCell,
    /// Required: `idea_problem`, `clinical_invention`, `research_invention` (also `idea`, `clinical`, `research`).
    kind: LegacyCell,
    /// Required: `YYYY-MM-DD` or `DD-MM-YYYY`; the real date, kept as it is.
    received_on: LegacyCell,
    #[schema(required = false)]
    description: LegacyCell,
    #[schema(required = false)]
    need: LegacyCell,
    /// `product` or `service`.
    #[schema(required = false)]
    innovation_type: LegacyCell,
    /// `Name: 60; Name: 40`, or names alone for equal shares. People are matched by name or created.
    #[schema(required = false)]
    inventors: LegacyList,
    /// The institution owning the rights (100 %); matched by name or created.
    #[schema(required = false)]
    owner_institution: LegacyCell,
    /// The inventors' employing department: the idea's source organisation.
    #[schema(required = false)]
    employer: LegacyCell,
    /// Kept as the tag `legacy patent: …` until patents are registered.
    #[schema(required = false)]
    patent_status: LegacyCell,
    /// Kept as the tag `legacy commercial: …`.
    #[schema(required = false)]
    commercial_status: LegacyCell,
    /// An outcome (`closed`, `commercialised`, …; also `licence`, `spin-out`, `rejected`), or empty while active.
    #[schema(required = false)]
    outcome: LegacyCell,
    /// The stage (default `pre_screening`; `commercialisation` for commercialised rows).
    #[schema(required = false)]
    stage: LegacyCell,
    /// Tags separated by `;`, or an array.
    #[schema(required = false)]
    tags: LegacyList,
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
