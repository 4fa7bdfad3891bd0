//! Queries on patent families, filings, deadline rules and marks, and patent costs.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{
    app_meta, deadline_marks, deadline_rules, ideas, patent_costs, patent_families, patent_filings,
};
use super::AnyConnection;
use crate::domain::patents::{default_rules, Rule};

// ---- families ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = patent_families)]
pub struct FamilyRow {
    pub id: i64,
    pub idea_id: i64,
    pub title: String,
    pub internal_ref: Option<String>,
    pub status: String,
    pub responsible_id: Option<i64>,
    pub agent_id: Option<i64>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = patent_families, treat_none_as_null = true)]
pub struct FamilyData {
    pub idea_id: i64,
    pub title: String,
    pub internal_ref: Option<String>,
    pub status: String,
    pub responsible_id: Option<i64>,
    pub agent_id: Option<i64>,
}

pub fn insert_family(
    conn: &mut AnyConnection,
    d: &FamilyData,
    at: NaiveDateTime,
) -> QueryResult<FamilyRow> {
    diesel::insert_into(patent_families::table)
        .values((
            d,
            patent_families::version.eq(1),
            patent_families::created_at.eq(at),
            patent_families::updated_at.eq(at),
        ))
        .returning(patent_families::all_columns)
        .get_result(conn)
}

pub fn find_family(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<FamilyRow>> {
    patent_families::table
        .find(id)
        .select(FamilyRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn update_family(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    d: &FamilyData,
    at: NaiveDateTime,
) -> QueryResult<Option<FamilyRow>> {
    diesel::update(
        patent_families::table
            .filter(patent_families::id.eq(id))
            .filter(patent_families::version.eq(version)),
    )
    .set((
        d,
        patent_families::version.eq(version + 1),
        patent_families::updated_at.eq(at),
    ))
    .returning(patent_families::all_columns)
    .get_result(conn)
    .optional()
}

/// Families, optionally of one idea, by id.
pub fn list_families(
    conn: &mut AnyConnection,
    idea: Option<i64>,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<FamilyRow>, i64)> {
    let filtered = || {
        let mut q = patent_families::table.into_boxed::<super::MultiBackend>();
        if let Some(i) = idea {
            q = q.filter(patent_families::idea_id.eq(i));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows = filtered()
        .order(patent_families::id)
        .limit(limit)
        .offset(offset)
        .select(FamilyRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

// ---- filings ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = patent_filings)]
pub struct FilingRow {
    pub id: i64,
    pub family_id: i64,
    pub kind: String,
    pub jurisdiction: String,
    pub parent_id: Option<i64>,
    pub application_number: Option<String>,
    pub filing_date: Option<NaiveDate>,
    pub priority_dates: String,
    pub publication_number: Option<String>,
    pub publication_date: Option<NaiveDate>,
    pub grant_number: Option<String>,
    pub grant_date: Option<NaiveDate>,
    pub status: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = patent_filings, treat_none_as_null = true)]
pub struct FilingData {
    pub family_id: i64,
    pub kind: String,
    pub jurisdiction: String,
    pub parent_id: Option<i64>,
    pub application_number: Option<String>,
    pub filing_date: Option<NaiveDate>,
    /// Comma-separated `YYYY-MM-DD` dates.
    pub priority_dates: String,
    pub publication_number: Option<String>,
    pub publication_date: Option<NaiveDate>,
    pub grant_number: Option<String>,
    pub grant_date: Option<NaiveDate>,
    pub status: String,
}

pub fn insert_filing(
    conn: &mut AnyConnection,
    d: &FilingData,
    at: NaiveDateTime,
) -> QueryResult<FilingRow> {
    diesel::insert_into(patent_filings::table)
        .values((
            d,
            patent_filings::version.eq(1),
            patent_filings::created_at.eq(at),
            patent_filings::updated_at.eq(at),
        ))
        .returning(patent_filings::all_columns)
        .get_result(conn)
}

pub fn find_filing(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<FilingRow>> {
    patent_filings::table
        .find(id)
        .select(FilingRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn update_filing(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    d: &FilingData,
    at: NaiveDateTime,
) -> QueryResult<Option<FilingRow>> {
    diesel::update(
        patent_filings::table
            .filter(patent_filings::id.eq(id))
            .filter(patent_filings::version.eq(version)),
    )
    .set((
        d,
        patent_filings::version.eq(version + 1),
        patent_filings::updated_at.eq(at),
    ))
    .returning(patent_filings::all_columns)
    .get_result(conn)
    .optional()
}

pub fn filings_of(conn: &mut AnyConnection, family: i64) -> QueryResult<Vec<FilingRow>> {
    patent_filings::table
        .filter(patent_filings::family_id.eq(family))
        .order(patent_filings::id)
        .select(FilingRow::as_select())
        .load(conn)
}

/// Every filing with its family's idea id and title, for the docket.
pub fn all_filings(conn: &mut AnyConnection) -> QueryResult<Vec<(FilingRow, i64, String)>> {
    patent_filings::table
        .inner_join(patent_families::table)
        .order(patent_filings::id)
        .select((
            FilingRow::as_select(),
            patent_families::idea_id,
            patent_families::title,
        ))
        .load(conn)
}

/// Filings of the families of these ideas, with their idea id.
pub fn filings_of_ideas(
    conn: &mut AnyConnection,
    ideas: &[i64],
) -> QueryResult<Vec<(FilingRow, i64)>> {
    let mut out = Vec::new();
    for chunk in ideas.chunks(500) {
        // One id gets `= ?` (a cached statement), a list `IN (…)`.
        if let [one] = chunk {
            out.extend(
                patent_filings::table
                    .inner_join(patent_families::table)
                    .filter(patent_families::idea_id.eq(*one))
                    .order(patent_filings::id)
                    .select((FilingRow::as_select(), patent_families::idea_id))
                    .load(conn)?,
            );
        } else {
            out.extend(
                patent_filings::table
                    .inner_join(patent_families::table)
                    .filter(patent_families::idea_id.eq_any(chunk))
                    .order(patent_filings::id)
                    .select((FilingRow::as_select(), patent_families::idea_id))
                    .load(conn)?,
            );
        }
    }
    Ok(out)
}

// ---- rules ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deadline_rules)]
pub struct RuleRow {
    pub id: i64,
    pub rule_key: String,
    pub definition: String,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

const SEEDED: &str = "deadline_rules_seeded";

/// Writes the default rules once per database (an admin may change or retire them later).
pub fn seed_rules(conn: &mut AnyConnection, at: NaiveDateTime) -> QueryResult<usize> {
    let done: Option<String> = app_meta::table
        .find(SEEDED)
        .select(app_meta::meta_value)
        .get_result(conn)
        .optional()?;
    if done.is_some() {
        return Ok(0);
    }
    let rules = default_rules();
    for r in &rules {
        insert_rule(conn, r, at)?;
    }
    diesel::insert_into(app_meta::table)
        .values((app_meta::meta_key.eq(SEEDED), app_meta::meta_value.eq("1")))
        .execute(conn)?;
    Ok(rules.len())
}

pub fn insert_rule(conn: &mut AnyConnection, r: &Rule, at: NaiveDateTime) -> QueryResult<RuleRow> {
    let definition = serde_json::to_string(r).unwrap_or_default();
    diesel::insert_into(deadline_rules::table)
        .values((
            deadline_rules::rule_key.eq(&r.key),
            deadline_rules::definition.eq(definition),
            deadline_rules::active.eq(true),
            deadline_rules::version.eq(1),
            deadline_rules::created_at.eq(at),
            deadline_rules::updated_at.eq(at),
        ))
        .returning(deadline_rules::all_columns)
        .get_result(conn)
}

pub fn update_rule(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    r: &Rule,
    active: bool,
    at: NaiveDateTime,
) -> QueryResult<Option<RuleRow>> {
    let definition = serde_json::to_string(r).unwrap_or_default();
    diesel::update(
        deadline_rules::table
            .filter(deadline_rules::id.eq(id))
            .filter(deadline_rules::version.eq(version)),
    )
    .set((
        deadline_rules::rule_key.eq(&r.key),
        deadline_rules::definition.eq(definition),
        deadline_rules::active.eq(active),
        deadline_rules::version.eq(version + 1),
        deadline_rules::updated_at.eq(at),
    ))
    .returning(deadline_rules::all_columns)
    .get_result(conn)
    .optional()
}

pub fn rules(conn: &mut AnyConnection) -> QueryResult<Vec<RuleRow>> {
    deadline_rules::table
        .order(deadline_rules::id)
        .select(RuleRow::as_select())
        .load(conn)
}

pub fn find_rule(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<RuleRow>> {
    deadline_rules::table
        .find(id)
        .select(RuleRow::as_select())
        .get_result(conn)
        .optional()
}

// ---- marks ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deadline_marks)]
pub struct MarkRow {
    pub id: i64,
    pub filing_id: i64,
    pub rule_key: String,
    pub due_on: NaiveDate,
    pub status: String,
    pub note: Option<String>,
    pub actor: String,
    pub marked_at: NaiveDateTime,
}

pub fn marks(conn: &mut AnyConnection) -> QueryResult<Vec<MarkRow>> {
    deadline_marks::table
        .select(MarkRow::as_select())
        .load(conn)
}

/// How a deadline was dealt with.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = deadline_marks)]
pub struct NewMark {
    pub filing_id: i64,
    pub rule_key: String,
    pub due_on: NaiveDate,
    pub status: String,
    pub note: Option<String>,
    pub actor: String,
    pub marked_at: NaiveDateTime,
}

/// Records (or replaces) how a deadline was dealt with.
pub fn set_mark(conn: &mut AnyConnection, m: &NewMark) -> QueryResult<MarkRow> {
    diesel::delete(
        deadline_marks::table
            .filter(deadline_marks::filing_id.eq(m.filing_id))
            .filter(deadline_marks::rule_key.eq(&m.rule_key))
            .filter(deadline_marks::due_on.eq(m.due_on)),
    )
    .execute(conn)?;
    diesel::insert_into(deadline_marks::table)
        .values(m)
        .returning(deadline_marks::all_columns)
        .get_result(conn)
}

// ---- costs ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = patent_costs)]
pub struct CostRow {
    pub id: i64,
    pub family_id: i64,
    pub filing_id: Option<i64>,
    pub incurred_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
    pub category: String,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = patent_costs)]
pub struct NewCost {
    pub family_id: i64,
    pub filing_id: Option<i64>,
    pub incurred_on: NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
    pub category: String,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_cost(conn: &mut AnyConnection, c: &NewCost) -> QueryResult<CostRow> {
    diesel::insert_into(patent_costs::table)
        .values(c)
        .returning(patent_costs::all_columns)
        .get_result(conn)
}

/// Costs with their family's idea, optionally filtered, by date.
pub fn costs(
    conn: &mut AnyConnection,
    idea: Option<i64>,
    family: Option<i64>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> QueryResult<Vec<(CostRow, i64)>> {
    let mut q = patent_costs::table
        .inner_join(patent_families::table.inner_join(ideas::table))
        .into_boxed();
    if let Some(i) = idea {
        q = q.filter(patent_families::idea_id.eq(i));
    }
    if let Some(f) = family {
        q = q.filter(patent_costs::family_id.eq(f));
    }
    if let Some(d) = from {
        q = q.filter(patent_costs::incurred_on.ge(d));
    }
    if let Some(d) = to {
        q = q.filter(patent_costs::incurred_on.le(d));
    }
    q.order((patent_costs::incurred_on, patent_costs::id))
        .select((CostRow::as_select(), patent_families::idea_id))
        .load(conn)
}
