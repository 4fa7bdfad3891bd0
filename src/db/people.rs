//! Queries on `people`.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::people;
use super::{contains_pattern, lower, AnyConnection, MultiBackend};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = people)]
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub profession: Option<String>,
    pub organisation_id: Option<i64>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The writable fields, for inserts and full updates (`None` writes NULL).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = people, treat_none_as_null = true)]
pub struct PersonData {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub profession: Option<String>,
    pub organisation_id: Option<i64>,
}

#[derive(Debug, Default, Clone)]
pub struct PersonFilter {
    pub organisation_id: Option<i64>,
    pub q: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub enum PersonSort {
    Name,
    NameDesc,
    CreatedAt,
    CreatedAtDesc,
    Id,
    IdDesc,
}

pub fn insert(
    conn: &mut AnyConnection,
    data: &PersonData,
    at: NaiveDateTime,
) -> QueryResult<PersonRow> {
    diesel::insert_into(people::table)
        .values((
            data,
            people::version.eq(1),
            people::created_at.eq(at),
            people::updated_at.eq(at),
        ))
        .returning(people::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<PersonRow>> {
    people::table
        .find(id)
        .select(PersonRow::as_select())
        .get_result(conn)
        .optional()
}

fn filtered(f: &PersonFilter) -> people::BoxedQuery<'static, MultiBackend> {
    let mut q = people::table.into_boxed();
    if let Some(v) = f.organisation_id {
        q = q.filter(people::organisation_id.eq(v));
    }
    if let Some(v) = &f.email {
        q = q.filter(lower(people::email.assume_not_null()).eq(v.to_lowercase()));
    }
    if let Some(v) = &f.q {
        q = q.filter(lower(people::name).like(contains_pattern(v)).escape('\\'));
    }
    q
}

pub fn list(
    conn: &mut AnyConnection,
    f: &PersonFilter,
    sort: PersonSort,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<PersonRow>, i64)> {
    use people::dsl as p;
    let total = filtered(f).count().get_result(conn)?;
    let q = filtered(f);
    let q = match sort {
        PersonSort::Name => q.order((p::name.asc(), p::id.asc())),
        PersonSort::NameDesc => q.order((p::name.desc(), p::id.desc())),
        PersonSort::CreatedAt => q.order((p::created_at.asc(), p::id.asc())),
        PersonSort::CreatedAtDesc => q.order((p::created_at.desc(), p::id.desc())),
        PersonSort::Id => q.order(p::id.asc()),
        PersonSort::IdDesc => q.order(p::id.desc()),
    };
    let rows = q
        .limit(limit)
        .offset(offset)
        .select(PersonRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    data: &PersonData,
    at: NaiveDateTime,
) -> QueryResult<Option<PersonRow>> {
    diesel::update(
        people::table
            .filter(people::id.eq(id))
            .filter(people::version.eq(version)),
    )
    .set((
        data,
        people::version.eq(version + 1),
        people::updated_at.eq(at),
    ))
    .returning(people::all_columns)
    .get_result(conn)
    .optional()
}

pub fn delete(conn: &mut AnyConnection, id: i64, version: i64) -> QueryResult<usize> {
    diesel::delete(
        people::table
            .filter(people::id.eq(id))
            .filter(people::version.eq(version)),
    )
    .execute(conn)
}

/// (id, name) of everyone, for matching names on import.
pub fn all_names(conn: &mut AnyConnection) -> QueryResult<Vec<(i64, String)>> {
    people::table
        .order(people::id)
        .select((people::id, people::name))
        .load(conn)
}
