//! Stored responses of POSTs made with an `Idempotency-Key`, so a retry returns the original
//! response and creates nothing, across restarts and across instances.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::idempotency_keys;
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub id: i64,
    pub api_key_id: i64,
    pub idem_key: String,
    pub method: String,
    pub path: String,
    pub request_hash: String,
    pub status: i32,
    pub response_body: String,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct NewIdempotencyRow {
    pub api_key_id: i64,
    pub idem_key: String,
    pub method: String,
    pub path: String,
    pub request_hash: String,
    pub status: i32,
    pub response_body: String,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn find(
    conn: &mut AnyConnection,
    api_key_id: i64,
    key: &str,
) -> QueryResult<Option<IdempotencyRow>> {
    idempotency_keys::table
        .filter(idempotency_keys::api_key_id.eq(api_key_id))
        .filter(idempotency_keys::idem_key.eq(key))
        .select(IdempotencyRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn insert(conn: &mut AnyConnection, row: &NewIdempotencyRow) -> QueryResult<usize> {
    diesel::insert_into(idempotency_keys::table)
        .values(row)
        .execute(conn)
}
