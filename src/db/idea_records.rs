//! Records kept on an idea besides its core fields: public disclosures, milestones, follow-ups
//! of ideas that left the portfolio, and realised impacts.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::schema::{disclosures, follow_ups, ideas, impacts, milestones};
use super::AnyConnection;

// ---- disclosures ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disclosures)]
pub struct DisclosureRow {
    pub id: i64,
    pub idea_id: i64,
    pub kind: String,
    pub disclosed_on: NaiveDate,
    pub venue: String,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = disclosures)]
pub struct NewDisclosure {
    pub idea_id: i64,
    pub kind: String,
    pub disclosed_on: NaiveDate,
    pub venue: String,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_disclosure(
    conn: &mut AnyConnection,
    d: &NewDisclosure,
) -> QueryResult<DisclosureRow> {
    diesel::insert_into(disclosures::table)
        .values(d)
        .returning(disclosures::all_columns)
        .get_result(conn)
}

/// Disclosures of the given ideas, earliest first.
pub fn disclosures_of(conn: &mut AnyConnection, ideas: &[i64]) -> QueryResult<Vec<DisclosureRow>> {
    let mut out = Vec::new();
    for chunk in ideas.chunks(500) {
        // One id gets `= ?` (a cached statement), a list `IN (…)`.
        if let [one] = chunk {
            out.extend(
                disclosures::table
                    .filter(disclosures::idea_id.eq(*one))
                    .order((disclosures::disclosed_on, disclosures::id))
                    .select(DisclosureRow::as_select())
                    .load(conn)?,
            );
        } else {
            out.extend(
                disclosures::table
                    .filter(disclosures::idea_id.eq_any(chunk))
                    .order((disclosures::disclosed_on, disclosures::id))
                    .select(DisclosureRow::as_select())
                    .load(conn)?,
            );
        }
    }
    Ok(out)
}

// ---- milestones ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = milestones)]
pub struct MilestoneRow {
    pub id: i64,
    pub idea_id: i64,
    pub title: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub owner_id: Option<i64>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = milestones, treat_none_as_null = true)]
pub struct MilestoneData {
    pub title: String,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub owner_id: Option<i64>,
}

pub fn insert_milestone(
    conn: &mut AnyConnection,
    idea: i64,
    data: &MilestoneData,
    at: NaiveDateTime,
) -> QueryResult<MilestoneRow> {
    diesel::insert_into(milestones::table)
        .values((
            milestones::idea_id.eq(idea),
            data,
            milestones::version.eq(1),
            milestones::created_at.eq(at),
            milestones::updated_at.eq(at),
        ))
        .returning(milestones::all_columns)
        .get_result(conn)
}

pub fn find_milestone(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<MilestoneRow>> {
    milestones::table
        .find(id)
        .select(MilestoneRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn update_milestone(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    data: &MilestoneData,
    at: NaiveDateTime,
) -> QueryResult<Option<MilestoneRow>> {
    diesel::update(
        milestones::table
            .filter(milestones::id.eq(id))
            .filter(milestones::version.eq(version)),
    )
    .set((
        data,
        milestones::version.eq(version + 1),
        milestones::updated_at.eq(at),
    ))
    .returning(milestones::all_columns)
    .get_result(conn)
    .optional()
}

pub fn milestones_of(conn: &mut AnyConnection, idea: i64) -> QueryResult<Vec<MilestoneRow>> {
    milestones::table
        .filter(milestones::idea_id.eq(idea))
        .order((milestones::due_on, milestones::id))
        .select(MilestoneRow::as_select())
        .load(conn)
}

/// Milestones not done, optionally only those due before `before`, of active ideas; earliest first.
pub fn open_milestones(
    conn: &mut AnyConnection,
    before: Option<NaiveDate>,
) -> QueryResult<Vec<(MilestoneRow, String)>> {
    let mut q = milestones::table
        .inner_join(ideas::table)
        .filter(milestones::done_on.is_null())
        .filter(ideas::outcome.is_null())
        .into_boxed();
    if let Some(d) = before {
        q = q.filter(milestones::due_on.lt(d));
    }
    q.order((milestones::due_on, milestones::id))
        .select((MilestoneRow::as_select(), ideas::title))
        .load(conn)
}

// ---- follow-ups ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = follow_ups)]
pub struct FollowUpRow {
    pub id: i64,
    pub idea_id: i64,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub note: Option<String>,
    pub result: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = follow_ups, treat_none_as_null = true)]
pub struct FollowUpData {
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
    pub note: Option<String>,
    pub result: Option<String>,
}

pub fn insert_follow_up(
    conn: &mut AnyConnection,
    idea: i64,
    data: &FollowUpData,
    at: NaiveDateTime,
) -> QueryResult<FollowUpRow> {
    diesel::insert_into(follow_ups::table)
        .values((
            follow_ups::idea_id.eq(idea),
            data,
            follow_ups::version.eq(1),
            follow_ups::created_at.eq(at),
            follow_ups::updated_at.eq(at),
        ))
        .returning(follow_ups::all_columns)
        .get_result(conn)
}

pub fn find_follow_up(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<FollowUpRow>> {
    follow_ups::table
        .find(id)
        .select(FollowUpRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn update_follow_up(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    data: &FollowUpData,
    at: NaiveDateTime,
) -> QueryResult<Option<FollowUpRow>> {
    diesel::update(
        follow_ups::table
            .filter(follow_ups::id.eq(id))
            .filter(follow_ups::version.eq(version)),
    )
    .set((
        data,
        follow_ups::version.eq(version + 1),
        follow_ups::updated_at.eq(at),
    ))
    .returning(follow_ups::all_columns)
    .get_result(conn)
    .optional()
}

pub fn follow_ups_of(conn: &mut AnyConnection, idea: i64) -> QueryResult<Vec<FollowUpRow>> {
    follow_ups::table
        .filter(follow_ups::idea_id.eq(idea))
        .order((follow_ups::due_on, follow_ups::id))
        .select(FollowUpRow::as_select())
        .load(conn)
}

/// Follow-ups not done, optionally only those due before `before`; earliest first.
pub fn open_follow_ups(
    conn: &mut AnyConnection,
    before: Option<NaiveDate>,
) -> QueryResult<Vec<(FollowUpRow, String)>> {
    let mut q = follow_ups::table
        .inner_join(ideas::table)
        .filter(follow_ups::done_on.is_null())
        .into_boxed();
    if let Some(d) = before {
        q = q.filter(follow_ups::due_on.lt(d));
    }
    q.order((follow_ups::due_on, follow_ups::id))
        .select((FollowUpRow::as_select(), ideas::title))
        .load(conn)
}

// ---- impacts ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = impacts)]
pub struct ImpactRow {
    pub id: i64,
    pub idea_id: i64,
    pub recorded_on: NaiveDate,
    pub savings_minor: Option<i64>,
    pub savings_currency: Option<String>,
    pub fte_centi: Option<i64>,
    pub adverse_events_avoided: Option<i64>,
    pub evidence: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = impacts)]
pub struct NewImpact {
    pub idea_id: i64,
    pub recorded_on: NaiveDate,
    pub savings_minor: Option<i64>,
    pub savings_currency: Option<String>,
    pub fte_centi: Option<i64>,
    pub adverse_events_avoided: Option<i64>,
    pub evidence: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_impact(conn: &mut AnyConnection, i: &NewImpact) -> QueryResult<ImpactRow> {
    diesel::insert_into(impacts::table)
        .values(i)
        .returning(impacts::all_columns)
        .get_result(conn)
}

pub fn impacts_of(conn: &mut AnyConnection, idea: i64) -> QueryResult<Vec<ImpactRow>> {
    impacts::table
        .filter(impacts::idea_id.eq(idea))
        .order((impacts::recorded_on, impacts::id))
        .select(ImpactRow::as_select())
        .load(conn)
}
