//! Queries on `organisations`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{organisations, people};
use super::{contains_pattern, lower, AnyConnection, MultiBackend};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organisations)]
pub struct OrganisationRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub country: Option<String>,
    pub notes: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The writable fields, for inserts and full updates (`None` writes NULL).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = organisations, treat_none_as_null = true)]
pub struct OrganisationData {
    pub name: String,
    pub kind: String,
    pub parent_id: Option<i64>,
    pub country: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct OrganisationFilter {
    pub kind: Option<String>,
    pub parent_id: Option<i64>,
    pub country: Option<String>,
    pub q: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub enum OrganisationSort {
    Name,
    NameDesc,
    CreatedAt,
    CreatedAtDesc,
    Id,
    IdDesc,
}

pub fn insert(
    conn: &mut AnyConnection,
    data: &OrganisationData,
    at: NaiveDateTime,
) -> QueryResult<OrganisationRow> {
    diesel::insert_into(organisations::table)
        .values((
            data,
            organisations::version.eq(1),
            organisations::created_at.eq(at),
            organisations::updated_at.eq(at),
        ))
        .returning(organisations::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<OrganisationRow>> {
    organisations::table
        .find(id)
        .select(OrganisationRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn exists(conn: &mut AnyConnection, id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(organisations::table.find(id))).get_result(conn)
}

fn filtered(f: &OrganisationFilter) -> organisations::BoxedQuery<'static, MultiBackend> {
    let mut q = organisations::table.into_boxed();
    if let Some(v) = &f.kind {
        q = q.filter(organisations::kind.eq(v.clone()));
    }
    if let Some(v) = f.parent_id {
        q = q.filter(organisations::parent_id.eq(v));
    }
    if let Some(v) = &f.country {
        q = q.filter(organisations::country.eq(v.clone()));
    }
    if let Some(v) = &f.q {
        q = q.filter(
            lower(organisations::name)
                .like(contains_pattern(v))
                .escape('\\'),
        );
    }
    q
}

/// One page and the total matching; `id` is the tie-breaker so the order is stable.
pub fn list(
    conn: &mut AnyConnection,
    f: &OrganisationFilter,
    sort: OrganisationSort,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<OrganisationRow>, i64)> {
    use organisations::dsl as o;
    let total = filtered(f).count().get_result(conn)?;
    let q = filtered(f);
    let q = match sort {
        OrganisationSort::Name => q.order((o::name.asc(), o::id.asc())),
        OrganisationSort::NameDesc => q.order((o::name.desc(), o::id.desc())),
        OrganisationSort::CreatedAt => q.order((o::created_at.asc(), o::id.asc())),
        OrganisationSort::CreatedAtDesc => q.order((o::created_at.desc(), o::id.desc())),
        OrganisationSort::Id => q.order(o::id.asc()),
        OrganisationSort::IdDesc => q.order(o::id.desc()),
    };
    let rows = q
        .limit(limit)
        .offset(offset)
        .select(OrganisationRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// Writes `data` if the stored version is still `version`; returns the new row, or `None` when
/// another change got there first.
pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    data: &OrganisationData,
    at: NaiveDateTime,
) -> QueryResult<Option<OrganisationRow>> {
    diesel::update(
        organisations::table
            .filter(organisations::id.eq(id))
            .filter(organisations::version.eq(version)),
    )
    .set((
        data,
        organisations::version.eq(version + 1),
        organisations::updated_at.eq(at),
    ))
    .returning(organisations::all_columns)
    .get_result(conn)
    .optional()
}

pub fn delete(conn: &mut AnyConnection, id: i64, version: i64) -> QueryResult<usize> {
    diesel::delete(
        organisations::table
            .filter(organisations::id.eq(id))
            .filter(organisations::version.eq(version)),
    )
    .execute(conn)
}

/// What still points at an organisation, as (what, count) pairs with a non-zero count.
pub fn references(conn: &mut AnyConnection, id: i64) -> QueryResult<Vec<(&'static str, i64)>> {
    let children: i64 = organisations::table
        .filter(organisations::parent_id.eq(id))
        .count()
        .get_result(conn)?;
    let persons: i64 = people::table
        .filter(people::organisation_id.eq(id))
        .count()
        .get_result(conn)?;
    let ideas = super::ideas::organisation_references(conn, id)?;
    let (funding, collaborations) = super::funding::organisation_references(conn, id)?;
    Ok([
        ("child organisations", children),
        ("people", persons),
        ("ideas", ideas),
        ("funding applications", funding),
        ("collaboration requests", collaborations),
    ]
    .into_iter()
    .filter(|(_, n)| *n > 0)
    .collect())
}

/// The chain of parents above `id` (nearest first), stopping at a cycle or after `max` steps.
pub fn ancestors(conn: &mut AnyConnection, id: i64, max: usize) -> QueryResult<Vec<i64>> {
    let mut out = Vec::new();
    let mut current = Some(id);
    while let Some(cur) = current {
        if out.len() >= max {
            break;
        }
        let parent: Option<Option<i64>> = organisations::table
            .find(cur)
            .select(organisations::parent_id)
            .get_result(conn)
            .optional()?;
        current = parent.flatten();
        if let Some(p) = current {
            if out.contains(&p) {
                break;
            }
            out.push(p);
        }
    }
    Ok(out)
}

/// (id, name) of every organisation, for matching names on import.
pub fn all_names(conn: &mut AnyConnection) -> QueryResult<Vec<(i64, String)>> {
    organisations::table
        .order(organisations::id)
        .select((organisations::id, organisations::name))
        .load(conn)
}

/// (id, parent id) of every organisation, for walking the tree.
pub fn all_parents(conn: &mut AnyConnection) -> QueryResult<Vec<(i64, Option<i64>)>> {
    organisations::table
        .select((organisations::id, organisations::parent_id))
        .load(conn)
}
