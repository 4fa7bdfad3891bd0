//! `/api/v1/people`: inventors, idea holders and staff. Contact data (e-mail, phone) is personal
//! data: only `admin` and `staff` see it.

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
use crate::db::people::{self as repo, PersonData, PersonRow, PersonSort};
use crate::db::{organisations, AnyConnection};
use crate::domain::Role;
use crate::error::{ApiError, FieldError};

const ENTITY: &str = "person";

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_people)
        .service(create_person)
        .service(get_person)
        .service(update_person)
        .service(delete_person);
}

/// A person: inventor, idea holder or staff member.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Person {
    pub id: i64,
    pub name: String,
    /// Personal data: absent when empty or when the caller's role may not see contact data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Personal data: absent when empty or when the caller's role may not see contact data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub profession: Option<String>,
    /// Employing department, hospital or other organisation.
    pub organisation_id: Option<i64>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Person {
    /// The person as `role` may see them.
    pub fn for_role(row: PersonRow, role: Role) -> Person {
        let full = Person::from(row);
        if role.sees_personal_data() {
            full
        } else {
            Person {
                email: None,
                phone: None,
                ..full
            }
        }
    }
}

impl From<PersonRow> for Person {
    fn from(row: PersonRow) -> Self {
        Person {
            id: row.id,
            name: row.name,
            email: row.email,
            phone: row.phone,
            profession: row.profession,
            organisation_id: row.organisation_id,
            version: row.version,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// The fields of a person a client sets.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    #[validate(
        length(min = 1, max = 200, message = "must be 1 to 200 characters"),
        custom(function = "crate::domain::text::not_blank")
    )]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "\\S",
        example = "Karen Jensen"
    )]
    pub name: String,
    #[serde(default)]
    #[validate(
        length(max = 254, message = "must be at most 254 characters"),
        custom(function = "crate::domain::text::email")
    )]
    #[schema(
        max_length = 254,
        pattern = "^[^@\\s]+@[^@\\s.][^@\\s]*\\.[^@\\s]*[^@\\s.]$",
        example = "karen.jensen@region.dk"
    )]
    pub email: Option<String>,
    #[serde(default)]
    #[validate(
        length(max = 40, message = "must be at most 40 characters"),
        custom(function = "crate::domain::text::phone")
    )]
    #[schema(
        max_length = 40,
        pattern = "^[ +().-]*([0-9][ +().-]*){3,}$",
        example = "+45 12 34 56 78"
    )]
    pub phone: Option<String>,
    #[serde(default)]
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[schema(max_length = 200, example = "Cardiologist")]
    pub profession: Option<String>,
    #[serde(default)]
    #[validate(range(min = 1, message = "must be a positive id"))]
    #[schema(minimum = 1)]
    pub organisation_id: Option<i64>,
}

impl From<&NewPerson> for PersonData {
    fn from(n: &NewPerson) -> Self {
        PersonData {
            name: n.name.trim().to_string(),
            email: n.email.clone(),
            phone: n.phone.clone(),
            profession: n.profession.clone(),
            organisation_id: n.organisation_id,
        }
    }
}

/// Merge patch: fields left out stay as they are; `null` clears an optional field.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonPatch {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = "\\S")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 254, pattern = "^[^@\\s]+@[^@\\s.][^@\\s]*\\.[^@\\s]*[^@\\s.]$")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 40, pattern = "^[ +().-]*([0-9][ +().-]*){3,}$")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub profession: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub organisation_id: Option<Option<i64>>,
}

impl PersonPatch {
    fn apply(self, current: &Person) -> Result<NewPerson, ApiError> {
        let mut next = NewPerson {
            name: current.name.clone(),
            email: current.email.clone(),
            phone: current.phone.clone(),
            profession: current.profession.clone(),
            organisation_id: current.organisation_id,
        };
        let mut errors = Vec::new();
        patch_required(&mut next.name, self.name, "name", &mut errors);
        patch_optional(&mut next.email, self.email);
        patch_optional(&mut next.phone, self.phone);
        patch_optional(&mut next.profession, self.profession);
        patch_optional(&mut next.organisation_id, self.organisation_id);
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum PersonSortParam {
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

/// Filters, sort and paging for the people list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PersonQuery {
    /// Only people employed by this organisation.
    pub organisation_id: Option<i64>,
    /// Case-insensitive text that the name contains.
    #[param(max_length = 200, pattern = "^[^\\x00]*$")]
    pub q: Option<String>,
    /// Exact e-mail address (case-insensitive); only for roles that see contact data.
    #[param(max_length = 200, pattern = "^[^\\x00]*$")]
    pub email: Option<String>,
    /// Sort order; `-` means descending. Default `name`.
    #[param(inline)]
    pub sort: Option<PersonSortParam>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

fn check_references(conn: &mut AnyConnection, input: &NewPerson) -> Result<(), ApiError> {
    if let Some(org) = input.organisation_id {
        if !organisations::exists(conn, org)? {
            return Err(ApiError::Validation(vec![FieldError::new(
                "organisation_id",
                "not_found",
                format!("organisation {org} does not exist"),
            )]));
        }
    }
    Ok(())
}

/// List people.
#[utoipa::path(
    tag = "people",
    params(PersonQuery),
    responses((status = 200, description = "A page of people", body = Page<Person>))
)]
#[get("/people")]
pub async fn list_people(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PersonQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, offset) = paging(q.limit, q.offset)?;
    check_query_text("q", &q.q, 200)?;
    check_query_text("email", &q.email, 200)?;
    if q.email.is_some() && !caller.role.sees_personal_data() {
        return Err(ApiError::Forbidden(
            "filtering by e-mail needs a role that sees contact data".into(),
        ));
    }
    let filter = repo::PersonFilter {
        organisation_id: q.organisation_id,
        q: text_filter(q.q),
        email: text_filter(q.email),
    };
    let sort = match q.sort.unwrap_or(PersonSortParam::Name) {
        PersonSortParam::Name => PersonSort::Name,
        PersonSortParam::NameDesc => PersonSort::NameDesc,
        PersonSortParam::CreatedAt => PersonSort::CreatedAt,
        PersonSortParam::CreatedAtDesc => PersonSort::CreatedAtDesc,
        PersonSortParam::Id => PersonSort::Id,
        PersonSortParam::IdDesc => PersonSort::IdDesc,
    };
    let (rows, total) = state
        .db
        .read(move |c| Ok(repo::list(c, &filter, sort, limit, offset)?))
        .await?;
    let items = rows
        .into_iter()
        .map(|r| Person::for_role(r, caller.role))
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// Create a person.
#[utoipa::path(
    tag = "people",
    request_body = NewPerson,
    params(IdempotencyKeyHeader),
    responses((status = 201, description = "Created", body = Person,
        headers(("Location" = String), ("ETag" = String))))
)]
#[post("/people")]
pub async fn create_person(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    body: ApiJson<NewPerson>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let input = body.value;
    input.validate()?;
    let actor = caller.clone();
    create_idempotent(&state.db, &caller, &req, &body.raw, move |conn| {
        check_references(conn, &input)?;
        let person = Person::from(repo::insert(
            conn,
            &PersonData::from(&input),
            crate::db::now(),
        )?);
        audit(
            conn,
            &actor,
            "create",
            ENTITY,
            person.id,
            None::<&()>,
            Some(&person),
        )?;
        Ok(Created {
            location: format!("/api/v1/people/{}", person.id),
            version: person.version,
            body: serde_json::to_value(&person).map_err(ApiError::internal)?,
        })
    })
    .await
}

/// Get one person.
#[utoipa::path(
    tag = "people",
    params(("id" = i64, Path, description = "Person id")),
    responses((status = 200, description = "The person", body = Person, headers(("ETag" = String))))
)]
#[get("/people/{id}")]
pub async fn get_person(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let row = state.db.read(move |c| Ok(repo::find(c, id)?)).await?;
    let person = Person::for_role(
        row.ok_or_else(|| ApiError::not_found(ENTITY, id))?,
        caller.role,
    );
    Ok(with_etag(StatusCode::OK, person.version, &person))
}

/// Change a person (JSON merge patch; `If-Match` required).
#[utoipa::path(
    tag = "people",
    request_body(content = PersonPatch, content_type = "application/merge-patch+json"),
    params(
        ("id" = i64, Path, description = "Person id"),
        IfMatchHeader
    ),
    responses((status = 200, description = "The changed person", body = Person, headers(("ETag" = String))))
)]
#[patch("/people/{id}")]
pub async fn update_person(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<i64>,
    body: ApiJson<PersonPatch>,
) -> Result<HttpResponse, ApiError> {
    caller.require_writer()?;
    let id = path.into_inner();
    let expected = if_match(&req)?;
    let patch = body.into_inner();
    let person = state
        .db
        .write(move |conn| {
            let before =
                Person::from(repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?);
            let next = patch.apply(&before)?;
            next.validate()?;
            check_version(&expected, before.version)?;
            check_references(conn, &next)?;
            let row = repo::update(
                conn,
                id,
                before.version,
                &PersonData::from(&next),
                crate::db::now(),
            )?
            .ok_or_else(|| ApiError::PreconditionFailed("the person changed meanwhile".into()))?;
            let after = Person::from(row);
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
    Ok(with_etag(StatusCode::OK, person.version, &person))
}

/// Delete a person (`If-Match` required; 409 while records refer to them).
#[utoipa::path(
    tag = "people",
    params(
        ("id" = i64, Path, description = "Person id"),
        IfMatchHeader
    ),
    responses((status = 204, description = "Deleted"))
)]
#[delete("/people/{id}")]
pub async fn delete_person(
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
            let before =
                Person::from(repo::find(conn, id)?.ok_or_else(|| ApiError::not_found(ENTITY, id))?);
            check_version(&expected, before.version)?;
            let refs = crate::db::ideas::person_references(conn, id)?;
            if refs > 0 {
                return Err(ApiError::Conflict {
                    slug: "still-referenced",
                    detail: format!("person {id} is still named on {refs} idea record(s) (inventor, project manager or assessor)"),
                    allowed: None,
                });
            }
            if repo::delete(conn, id, before.version)? == 0 {
                return Err(ApiError::PreconditionFailed(
                    "the person changed meanwhile".into(),
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
