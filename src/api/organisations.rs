//! `/api/v1/organisations`: own departments and hospitals, and external partners.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::extract::{
    check_query_text, check_version, double_option, if_match, paging, patch_optional,
    patch_required, text_filter, ApiJson, IdempotencyKeyHeader, IfMatchHeader, Page,
};
use super::{audit, create_idempotent, with_etag, AppState, Created};
use crate::auth::Caller;
use crate::db::organisations::{self as repo, OrganisationData, OrganisationRow, OrganisationSort};
use crate::db::AnyConnection;
use crate::domain::{OrganisationKind, Role};
use crate::error::{ApiError, FieldError};

const ENTITY: &str = "organisation";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_organisations)
        .service(create_organisation)
        .service(get_organisation)
        .service(update_organisation)
        .service(delete_organisation);
}

/// An organisation: a department or hospital of our own, or an external partner.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    pub kind: OrganisationKind,
    /// The organisation this one belongs to (a department's hospital).
    pub parent_id: Option<i64>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    pub notes: Option<String>,
    /// Increases with every change; the ETag is this number in quotes.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<OrganisationRow> for Organisation {
    type Error = ApiError;

    fn try_from(row: OrganisationRow) -> Result<Self, ApiError> {
        let kind = OrganisationKind::parse(&row.kind).ok_or_else(|| {
            ApiError::Internal(format!(
                "organisation {} has unknown kind {}",
                row.id, row.kind
            ))
        })?;
        Ok(Organisation {
            id: row.id,
            name: row.name,
            kind,
            parent_id: row.parent_id,
            country: row.country,
            notes: row.notes,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }
}

/// The fields of an organisation a client sets.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "\\S",
        example = "Department of Cardiology"
    )]
    pub name: String,
    pub kind: OrganisationKind,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub parent_id: Option<i64>,
    #[serde(default)]
    #[validate(custom(function = "crate::domain::text::country_code"))]
    #[schema(pattern = "^[A-Z]{2}$", example = "DK")]
    pub country: Option<String>,
    #[serde(default)]
    #[validate(length(max = 10000, message = "must be at most 10000 characters"))]
    #[schema(max_length = 10000)]
    pub notes: Option<String>,
}

impl From<&NewOrganisation> for OrganisationData {
    fn from(n: &NewOrganisation) -> Self {
        OrganisationData {
            name: n.name.trim().to_string(),
            kind: n.kind.as_str().to_string(),
            parent_id: n.parent_id,
            country: n.country.clone(),
            notes: n.notes.clone(),
        }
    }
}

/// Merge patch: fields left out stay as they are; `null` clears an optional field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = OrganisationKind)]
    pub kind: Option<Option<OrganisationKind>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub parent_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, pattern = "^[A-Z]{2}$")]
    pub country: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 10000)]
    pub notes: Option<Option<String>>,
}

impl OrganisationPatch {
    /// The organisation as it would be after the patch, or the fields that cannot be null.
    fn apply(self, current: &Organisation) -> Result<NewOrganisation, ApiError> {
        let mut next = NewOrganisation {
            name: current.name.clone(),
            kind: current.kind,
            parent_id: current.parent_id,
            country: current.country.clone(),
            notes: current.notes.clone(),
        };
        let mut errors = Vec::new();
        patch_required(&mut next.name, self.name, "name", &mut errors);
        patch_required(&mut next.kind, self.kind, "kind", &mut errors);
        patch_optional(&mut next.parent_id, self.parent_id);
        patch_optional(&mut next.country, self.country);
        patch_optional(&mut next.notes, self.notes);
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum OrganisationSortParam {
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    #[serde(rename = "id")]
    Id,
    #[serde(rename = "-id")]
    IdDesc,
}

/// Filters, sort and paging for the organisation list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganisationQuery {
    /// Only organisations of this kind.
    #[param(inline)]
    pub kind: Option<OrganisationKind>,
    /// Only direct children of this organisation.
    pub parent_id: Option<i64>,
    /// Only organisations in this country (ISO 3166-1 alpha-2).
    #[param(pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
    /// Case-insensitive text that the name contains.
    #[param(max_length = 200, pattern = "^[^\\x00]*$")]
    pub q: Option<String>,
    /// Sort order; `-` means descending. Default `name`.
    #[param(inline)]
    pub sort: Option<OrganisationSortParam>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Checks what validation of the fields alone cannot: the parent exists and is no descendant.
fn check_references(
    conn: &mut AnyConnection,
    id: Option<i64>,
    input: &NewOrganisation,
) -> Result<(), ApiError> {
    let Some(parent) = input.parent_id else {
        return Ok(());
    };
    if Some(parent) == id {
        return Err(ApiError::field(
            "parent_id",
            "cycle",
            "an organisation cannot be its own parent",
        ));
    }
    if !repo::exists(conn, parent)? {
        return Err(ApiError::Validation(vec![FieldError::new(
            "parent_id",
            "not_found",
            format!("organisation {parent} does not exist"),
        )]));
    }
    if let Some(id) = id {
        if repo::ancestors(conn, parent, 1000)?.contains(&id) {
            return Err(ApiError::field(
                "parent_id",
                "cycle",
                "the parent is a descendant of this organisation",
            ));
        }
    }
    Ok(())
}

/// List organisations.
#[utoipa::path(
    tag = "organisations",
    params(OrganisationQuery),
    responses((status = 200, description = "A page of organisations", body = Page<Organisation>))
)]
#[get("/organisations")]
pub async fn list_organisations(
    state: web::Data<AppState>,
    _caller: Caller,
    query: web::Query<OrganisationQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    check_query_text("q", &q.q, 200)?;
    if let Some(c) = &q.country {
        crate::domain::text::country_code(c).map_err(|e| {
            ApiError::field(
                "country",
                "country",
                e.message.map(|m| m.to_string()).unwrap_or_default(),
            )
        })?;
    }
    let filter = repo::OrganisationFilter {
        kind: q.kind.map(|k| k.as_str().to_string()),
        parent_id: q.parent_id,
        country: text_filter(q.country),
        q: text_filter(q.q),
    };
    let sort = match q.sort.unwrap_or(OrganisationSortParam::Name) {
        OrganisationSortParam::Name => OrganisationSort::Name,
        OrganisationSortParam::NameDesc => OrganisationSort::NameDesc,
        OrganisationSortParam::CreatedAt => OrganisationSort::CreatedAt,
        OrganisationSortParam::CreatedAtDesc => OrganisationSort::CreatedAtDesc,
        OrganisationSortParam::Id => OrganisationSort::Id,
        OrganisationSortParam::IdDesc => OrganisationSort::IdDesc,
    };
    let (rows, total) = state
        .db
        .read(move |c| Ok(repo::list(c, &filter, sort, limit, offset)?))
        .await?;
    let items = rows
        .into_iter()
        .map(Organisation::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// Create an organisation.
#[utoipa::path(
    tag = "organisations",
    request_body = NewOrganisation,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = Organisation,
        headers(("Location" = String), ("ETag" = String))))
)]
#[post("/organisations")]
pub async fn create_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewOrganisation>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.value;
    input.validate()?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        check_references(conn, None, &input)?;
        let row = repo::insert(conn, &OrganisationData::from(&input), crate::db::now())?;
        let org = Organisation::try_from(row)?;
        audit(
            conn,
            &actor,
            "create",
            ENTITY,
            org.id,
            None::<&()>,
            Some(&org),
        )?;
        Ok(Created {
            location: format!("/api/v1/organisations/{}", org.id),
            version: org.version,
            body: serde_json::to_value(&org).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Get one organisation.
#[utoipa::path(
    tag = "organisations",
    params(("id" = i64, Path, description = "Organisation id")),
    responses((status = 200, description = "The organisation", body = Organisation, headers(("ETag" = String))))
)]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    state: web::Data<AppState>,
    _caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = state.db.read(move |c| Ok(repo::find(c, id)?)).await?;
    let org = Organisation::try_from(row.ok_or_else(|| ApiError::not_found(ENTITY, id))?)?;
    Ok(with_etag(StatusCode::OK, org.version, &org))
}

/// Change an organisation (JSON merge patch; `If-Match` required).
#[utoipa::path(
    tag = "organisations",
    request_body(content = OrganisationPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = i64, Path, description = "Organisation id"),
        IfMatchHeader
    ),
    responses((status = 200, description = "The changed organisation", body = Organisation, headers(("ETag" = String))))
)]
#[patch("/organisations/{id}")]
pub async fn update_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<OrganisationPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let org = state
        .db
        .write(move |conn| {
            let before = Organisation::try_from(
                repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?,
            )?;
            let next = patch.apply(&before)?;
            next.validate()?;
            check_version(&expected, before.version)?;
            check_references(conn, Some(id), &next)?;
            let row = repo::update(
                conn,
                id,
                before.version,
                &OrganisationData::from(&next),
                crate::db::now(),
            )?
            .ok_or_else(|| {
                ApiError::PreconditionFailed("the organisation changed meanwhile".into())
            })?;
            let after = Organisation::try_from(row)?;
            audit(
                conn,
                &caller,
                "update",
                ENTITY,
                id,
                Some(&before),
                Some(&after),
            )?;
            Ok(after)
        })
        .await?;
    Ok(with_etag(StatusCode::OK, org.version, &org))
}

/// Delete an organisation (`If-Match` required; 409 while people or organisations refer to it).
#[utoipa::path(
    tag = "organisations",
    params(
        ("id" = i64, Path, description = "Organisation id"),
        IfMatchHeader
    ),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/organisations/{id}")]
pub async fn delete_organisation(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[Role::Staff])?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    state
        .db
        .write(move |conn| {
            let before = Organisation::try_from(
                repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?,
            )?;
            check_version(&expected, before.version)?;
            let refs = repo::references(conn, id)?;
            if !refs.is_empty() {
                let what: Vec<String> = refs.iter().map(|(w, n)| format!("{n} {w}")).collect();
                return Err(ApiError::Conflict {
                    slug: "still-referenced",
                    detail: format!(
                        "organisation {id} is still referenced by {}",
                        what.join(" and ")
                    ),
                    allowed: None,
                });
            }
            if repo::delete(conn, id, before.version)? == 0 {
                return Err(ApiError::PreconditionFailed(
                    "the organisation changed meanwhile".into(),
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
