//! Queries on result contracts and their targets.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{contract_targets, result_contracts};
use super::AnyConnection;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = result_contracts)]
pub struct ContractRow {
    pub id: i64,
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: String,
    pub organisation_id: Option<i64>,
    pub notes: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = result_contracts, treat_none_as_null = true)]
pub struct ContractData {
    pub title: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub status: String,
    pub organisation_id: Option<i64>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = contract_targets)]
pub struct TargetRow {
    pub id: i64,
    pub contract_id: i64,
    pub position: i64,
    pub kpi_key: String,
    pub target_value: f64,
    pub direction: String,
    pub at_risk_threshold: Option<f64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = contract_targets)]
pub struct NewTarget {
    pub contract_id: i64,
    pub position: i64,
    pub kpi_key: String,
    pub target_value: f64,
    pub direction: String,
    pub at_risk_threshold: Option<f64>,
}

pub fn insert(
    conn: &mut AnyConnection,
    data: &ContractData,
    at: NaiveDateTime,
) -> QueryResult<ContractRow> {
    diesel::insert_into(result_contracts::table)
        .values((
            data,
            result_contracts::version.eq(1),
            result_contracts::created_at.eq(at),
            result_contracts::updated_at.eq(at),
        ))
        .returning(result_contracts::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<ContractRow>> {
    result_contracts::table
        .find(id)
        .select(ContractRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn list(conn: &mut AnyConnection, status: Option<&str>) -> QueryResult<Vec<ContractRow>> {
    let mut q = result_contracts::table.into_boxed::<super::MultiBackend>();
    if let Some(s) = status {
        q = q.filter(result_contracts::status.eq(s.to_string()));
    }
    q.order((
        result_contracts::period_start.desc(),
        result_contracts::id.desc(),
    ))
    .select(ContractRow::as_select())
    .load(conn)
}

pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    data: &ContractData,
    at: NaiveDateTime,
) -> QueryResult<Option<ContractRow>> {
    diesel::update(
        result_contracts::table
            .filter(result_contracts::id.eq(id))
            .filter(result_contracts::version.eq(version)),
    )
    .set((
        data,
        result_contracts::version.eq(version + 1),
        result_contracts::updated_at.eq(at),
    ))
    .returning(result_contracts::all_columns)
    .get_result(conn)
    .optional()
}

pub fn targets(conn: &mut AnyConnection, contract: i64) -> QueryResult<Vec<TargetRow>> {
    contract_targets::table
        .filter(contract_targets::contract_id.eq(contract))
        .order(contract_targets::position)
        .select(TargetRow::as_select())
        .load(conn)
}

/// Replaces a contract's targets.
pub fn set_targets(
    conn: &mut AnyConnection,
    contract: i64,
    targets: &[NewTarget],
) -> QueryResult<()> {
    diesel::delete(contract_targets::table.filter(contract_targets::contract_id.eq(contract)))
        .execute(conn)?;
    for t in targets {
        diesel::insert_into(contract_targets::table)
            .values(t)
            .execute(conn)?;
    }
    Ok(())
}
