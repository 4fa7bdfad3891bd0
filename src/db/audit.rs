//! The audit log: one row per mutation, written in the mutation's own transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::audit_log;
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor: String,
    pub actor_key_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: i64,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditRow {
    pub at: NaiveDateTime,
    pub actor: String,
    pub actor_key_id: Option<i64>,
    pub action: String,
    pub entity: String,
    pub entity_id: i64,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub request_id: Option<String>,
}

pub fn insert(conn: &mut AnyConnection, row: &NewAuditRow) -> QueryResult<usize> {
    diesel::insert_into(audit_log::table)
        .values(row)
        .execute(conn)
}

/// Filters for the audit listing.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
}

fn filtered(f: &AuditFilter) -> audit_log::BoxedQuery<'static, super::MultiBackend> {
    let mut q = audit_log::table.into_boxed();
    if let Some(v) = &f.entity {
        q = q.filter(audit_log::entity.eq(v.clone()));
    }
    if let Some(v) = f.entity_id {
        q = q.filter(audit_log::entity_id.eq(v));
    }
    if let Some(v) = &f.actor {
        q = q.filter(audit_log::actor.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(audit_log::action.eq(v.clone()));
    }
    if let Some(v) = f.from {
        q = q.filter(audit_log::at.ge(v));
    }
    if let Some(v) = f.to {
        q = q.filter(audit_log::at.lt(v));
    }
    q
}

/// Newest first; `id` breaks ties so pages never overlap.
pub fn list(
    conn: &mut AnyConnection,
    f: &AuditFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<AuditRow>, i64)> {
    let total = filtered(f).count().get_result(conn)?;
    let rows = filtered(f)
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(AuditRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}
