//! Queries on funding applications, their payments, collaboration requests and the references
//! external systems use for our records.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    collaboration_requests, funding_applications, funding_payments, integration_refs,
};
use super::{AnyConnection, MultiBackend};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = funding_applications)]
pub struct ApplicationRow {
    pub id: i64,
    pub title: String,
    pub funder_id: i64,
    pub programme: String,
    pub programme_kind: String,
    pub idea_id: Option<i64>,
    pub currency: String,
    pub amount_applied_minor: i64,
    pub own_cofinancing_minor: Option<i64>,
    pub grant_rate_bp: Option<i64>,
    pub amount_awarded_minor: Option<i64>,
    pub status: String,
    pub submitted_on: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    pub project_start: Option<NaiveDate>,
    pub project_end: Option<NaiveDate>,
    pub funder_reference: Option<String>,
    pub notes: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Insertable, AsChangeset)]
#[diesel(table_name = funding_applications, treat_none_as_null = true)]
pub struct ApplicationData {
    pub title: String,
    pub funder_id: i64,
    pub programme: String,
    pub programme_kind: String,
    pub idea_id: Option<i64>,
    pub currency: String,
    pub amount_applied_minor: i64,
    pub own_cofinancing_minor: Option<i64>,
    pub grant_rate_bp: Option<i64>,
    pub amount_awarded_minor: Option<i64>,
    pub status: String,
    pub submitted_on: Option<NaiveDate>,
    pub decided_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    pub project_start: Option<NaiveDate>,
    pub project_end: Option<NaiveDate>,
    pub funder_reference: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct ApplicationFilter {
    pub status: Option<String>,
    pub programme_kind: Option<String>,
    pub funder_id: Option<i64>,
    pub idea_id: Option<i64>,
    /// Submitted on or after.
    pub submitted_from: Option<NaiveDate>,
    pub submitted_to: Option<NaiveDate>,
}

pub fn insert_application(
    conn: &mut AnyConnection,
    data: &ApplicationData,
    at: NaiveDateTime,
) -> QueryResult<ApplicationRow> {
    diesel::insert_into(funding_applications::table)
        .values((
            data,
            funding_applications::version.eq(1),
            funding_applications::created_at.eq(at),
            funding_applications::updated_at.eq(at),
        ))
        .returning(funding_applications::all_columns)
        .get_result(conn)
}

pub fn find_application(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<ApplicationRow>> {
    funding_applications::table
        .find(id)
        .select(ApplicationRow::as_select())
        .get_result(conn)
        .optional()
}

/// Writes `data` if the row is still at `version`; `None` when it changed meanwhile.
pub fn update_application(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    data: &ApplicationData,
    at: NaiveDateTime,
) -> QueryResult<Option<ApplicationRow>> {
    diesel::update(
        funding_applications::table
            .filter(funding_applications::id.eq(id))
            .filter(funding_applications::version.eq(version)),
    )
    .set((
        data,
        funding_applications::version.eq(version + 1),
        funding_applications::updated_at.eq(at),
    ))
    .returning(funding_applications::all_columns)
    .get_result(conn)
    .optional()
}

fn filtered_applications(
    f: &ApplicationFilter,
) -> funding_applications::BoxedQuery<'static, MultiBackend> {
    use funding_applications::dsl as a;
    let mut q = funding_applications::table.into_boxed();
    if let Some(v) = &f.status {
        q = q.filter(a::status.eq(v.clone()));
    }
    if let Some(v) = &f.programme_kind {
        q = q.filter(a::programme_kind.eq(v.clone()));
    }
    if let Some(v) = f.funder_id {
        q = q.filter(a::funder_id.eq(v));
    }
    if let Some(v) = f.idea_id {
        q = q.filter(a::idea_id.eq(v));
    }
    if let Some(v) = f.submitted_from {
        q = q.filter(a::submitted_on.ge(v));
    }
    if let Some(v) = f.submitted_to {
        q = q.filter(a::submitted_on.le(v));
    }
    q
}

/// A page of applications, newest first, and the total.
pub fn list_applications(
    conn: &mut AnyConnection,
    f: &ApplicationFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<ApplicationRow>, i64)> {
    use funding_applications::dsl as a;
    let total = filtered_applications(f).count().get_result(conn)?;
    let rows = filtered_applications(f)
        .order((a::created_at.desc(), a::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(ApplicationRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = funding_payments)]
pub struct PaymentRow {
    pub id: i64,
    pub application_id: i64,
    pub received_on: NaiveDate,
    pub amount_minor: i64,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_payment(
    conn: &mut AnyConnection,
    application_id: i64,
    received_on: NaiveDate,
    amount_minor: i64,
    note: Option<String>,
    at: NaiveDateTime,
) -> QueryResult<PaymentRow> {
    diesel::insert_into(funding_payments::table)
        .values((
            funding_payments::application_id.eq(application_id),
            funding_payments::received_on.eq(received_on),
            funding_payments::amount_minor.eq(amount_minor),
            funding_payments::note.eq(note),
            funding_payments::created_at.eq(at),
        ))
        .returning(funding_payments::all_columns)
        .get_result(conn)
}

pub fn payments_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<PaymentRow>> {
    funding_payments::table
        .filter(funding_payments::application_id.eq_any(ids.to_vec()))
        .order((funding_payments::received_on, funding_payments::id))
        .select(PaymentRow::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = collaboration_requests)]
pub struct CollaborationRow {
    pub id: i64,
    pub company_id: i64,
    pub department_id: Option<i64>,
    pub received_on: NaiveDate,
    pub topic: String,
    pub description: Option<String>,
    pub status: String,
    pub agreement_id: Option<i64>,
    pub closed_on: Option<NaiveDate>,
    pub notes: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = collaboration_requests, treat_none_as_null = true)]
pub struct CollaborationData {
    pub company_id: i64,
    pub department_id: Option<i64>,
    pub received_on: NaiveDate,
    pub topic: String,
    pub description: Option<String>,
    pub status: String,
    pub agreement_id: Option<i64>,
    pub closed_on: Option<NaiveDate>,
    pub notes: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct CollaborationFilter {
    pub status: Option<String>,
    pub company_id: Option<i64>,
    pub department_id: Option<i64>,
    pub received_from: Option<NaiveDate>,
    pub received_to: Option<NaiveDate>,
}

pub fn insert_collaboration(
    conn: &mut AnyConnection,
    data: &CollaborationData,
    at: NaiveDateTime,
) -> QueryResult<CollaborationRow> {
    diesel::insert_into(collaboration_requests::table)
        .values((
            data,
            collaboration_requests::version.eq(1),
            collaboration_requests::created_at.eq(at),
            collaboration_requests::updated_at.eq(at),
        ))
        .returning(collaboration_requests::all_columns)
        .get_result(conn)
}

pub fn find_collaboration(
    conn: &mut AnyConnection,
    id: i64,
) -> QueryResult<Option<CollaborationRow>> {
    collaboration_requests::table
        .find(id)
        .select(CollaborationRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn update_collaboration(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    data: &CollaborationData,
    at: NaiveDateTime,
) -> QueryResult<Option<CollaborationRow>> {
    diesel::update(
        collaboration_requests::table
            .filter(collaboration_requests::id.eq(id))
            .filter(collaboration_requests::version.eq(version)),
    )
    .set((
        data,
        collaboration_requests::version.eq(version + 1),
        collaboration_requests::updated_at.eq(at),
    ))
    .returning(collaboration_requests::all_columns)
    .get_result(conn)
    .optional()
}

pub fn list_collaborations(
    conn: &mut AnyConnection,
    f: &CollaborationFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<CollaborationRow>, i64)> {
    use collaboration_requests::dsl as c;
    let filtered = || {
        let mut q = collaboration_requests::table.into_boxed::<MultiBackend>();
        if let Some(v) = &f.status {
            q = q.filter(c::status.eq(v.clone()));
        }
        if let Some(v) = f.company_id {
            q = q.filter(c::company_id.eq(v));
        }
        if let Some(v) = f.department_id {
            q = q.filter(c::department_id.eq(v));
        }
        if let Some(v) = f.received_from {
            q = q.filter(c::received_on.ge(v));
        }
        if let Some(v) = f.received_to {
            q = q.filter(c::received_on.le(v));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order((c::received_on.desc(), c::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(CollaborationRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// How many funding applications and collaboration requests point at an organisation.
pub fn organisation_references(conn: &mut AnyConnection, id: i64) -> QueryResult<(i64, i64)> {
    let funding: i64 = funding_applications::table
        .filter(funding_applications::funder_id.eq(id))
        .count()
        .get_result(conn)?;
    let collaborations: i64 = collaboration_requests::table
        .filter(
            collaboration_requests::company_id
                .eq(id)
                .or(collaboration_requests::department_id.eq(id)),
        )
        .count()
        .get_result(conn)?;
    Ok((funding, collaborations))
}

/// How many funding applications point at an idea.
pub fn idea_references(conn: &mut AnyConnection, idea_id: i64) -> QueryResult<i64> {
    funding_applications::table
        .filter(funding_applications::idea_id.eq(idea_id))
        .count()
        .get_result(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = integration_refs)]
pub struct RefRow {
    pub id: i64,
    pub system: String,
    pub resource: String,
    pub external_ref: String,
    pub entity_id: i64,
    pub source_updated_at: NaiveDateTime,
    pub payload_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn find_ref(
    conn: &mut AnyConnection,
    system: &str,
    resource: &str,
    external_ref: &str,
) -> QueryResult<Option<RefRow>> {
    integration_refs::table
        .filter(integration_refs::system.eq(system))
        .filter(integration_refs::resource.eq(resource))
        .filter(integration_refs::external_ref.eq(external_ref))
        .select(RefRow::as_select())
        .get_result(conn)
        .optional()
}

/// The references external systems hold for one record.
pub fn refs_of(conn: &mut AnyConnection, resource: &str, id: i64) -> QueryResult<Vec<RefRow>> {
    integration_refs::table
        .filter(integration_refs::resource.eq(resource))
        .filter(integration_refs::entity_id.eq(id))
        .order(integration_refs::id)
        .select(RefRow::as_select())
        .load(conn)
}

/// Which record of which external system a reference names.
pub struct RefKey<'a> {
    pub system: &'a str,
    pub resource: &'a str,
    pub external_ref: &'a str,
}

pub fn insert_ref(
    conn: &mut AnyConnection,
    key: &RefKey,
    entity_id: i64,
    source_updated_at: NaiveDateTime,
    payload_hash: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(integration_refs::table)
        .values((
            integration_refs::system.eq(key.system),
            integration_refs::resource.eq(key.resource),
            integration_refs::external_ref.eq(key.external_ref),
            integration_refs::entity_id.eq(entity_id),
            integration_refs::source_updated_at.eq(source_updated_at),
            integration_refs::payload_hash.eq(payload_hash),
            integration_refs::created_at.eq(at),
            integration_refs::updated_at.eq(at),
        ))
        .execute(conn)
}

/// Moves a reference forward to a newer source version, if it is still at `seen`.
pub fn advance_ref(
    conn: &mut AnyConnection,
    id: i64,
    seen: NaiveDateTime,
    source_updated_at: NaiveDateTime,
    payload_hash: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        integration_refs::table
            .filter(integration_refs::id.eq(id))
            .filter(integration_refs::source_updated_at.eq(seen)),
    )
    .set((
        integration_refs::source_updated_at.eq(source_updated_at),
        integration_refs::payload_hash.eq(payload_hash),
        integration_refs::updated_at.eq(at),
    ))
    .execute(conn)
}
