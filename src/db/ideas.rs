//! Queries on `ideas` and the tables that hang off an idea: tags, inventors, owners, the event
//! history, checklist answers and rights-decision extensions.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::schema::{
    checklist_answers, idea_events, idea_inventors, idea_owners, idea_tags, ideas, organisations,
    people, rights_extensions,
};
use super::{AnyConnection, MultiBackend};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ideas)]
pub struct IdeaRow {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub need: Option<String>,
    pub kind: String,
    pub innovation_type: String,
    pub received_on: NaiveDate,
    pub source_organisation_id: Option<i64>,
    pub project_manager_id: Option<i64>,
    pub confidential: bool,
    pub stage: String,
    pub outcome: Option<String>,
    pub recipient_organisation_id: Option<i64>,
    pub rights_decision: Option<String>,
    pub rights_decided_on: Option<NaiveDate>,
    pub rights_deadline: Option<NaiveDate>,
    pub expected_results: Option<String>,
    pub expected_savings_minor: Option<i64>,
    pub expected_savings_currency: Option<String>,
    pub expected_fte_centi: Option<i64>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Every writable column of an idea (`None` writes NULL).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = ideas, treat_none_as_null = true)]
pub struct IdeaData {
    pub title: String,
    pub description: Option<String>,
    pub need: Option<String>,
    pub kind: String,
    pub innovation_type: String,
    pub received_on: NaiveDate,
    pub source_organisation_id: Option<i64>,
    pub project_manager_id: Option<i64>,
    pub confidential: bool,
    pub stage: String,
    pub outcome: Option<String>,
    pub recipient_organisation_id: Option<i64>,
    pub rights_decision: Option<String>,
    pub rights_decided_on: Option<NaiveDate>,
    pub rights_deadline: Option<NaiveDate>,
    pub expected_results: Option<String>,
    pub expected_savings_minor: Option<i64>,
    pub expected_savings_currency: Option<String>,
    pub expected_fte_centi: Option<i64>,
}

impl From<&IdeaRow> for IdeaData {
    fn from(r: &IdeaRow) -> Self {
        IdeaData {
            title: r.title.clone(),
            description: r.description.clone(),
            need: r.need.clone(),
            kind: r.kind.clone(),
            innovation_type: r.innovation_type.clone(),
            received_on: r.received_on,
            source_organisation_id: r.source_organisation_id,
            project_manager_id: r.project_manager_id,
            confidential: r.confidential,
            stage: r.stage.clone(),
            outcome: r.outcome.clone(),
            recipient_organisation_id: r.recipient_organisation_id,
            rights_decision: r.rights_decision.clone(),
            rights_decided_on: r.rights_decided_on,
            rights_deadline: r.rights_deadline,
            expected_results: r.expected_results.clone(),
            expected_savings_minor: r.expected_savings_minor,
            expected_savings_currency: r.expected_savings_currency.clone(),
            expected_fte_centi: r.expected_fte_centi,
        }
    }
}

pub fn insert(
    conn: &mut AnyConnection,
    data: &IdeaData,
    at: NaiveDateTime,
) -> QueryResult<IdeaRow> {
    diesel::insert_into(ideas::table)
        .values((
            data,
            ideas::version.eq(1),
            ideas::created_at.eq(at),
            ideas::updated_at.eq(at),
        ))
        .returning(ideas::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<IdeaRow>> {
    ideas::table
        .find(id)
        .select(IdeaRow::as_select())
        .get_result(conn)
        .optional()
}

/// Writes `data` if the stored version is still `version`; `None` when another change won.
pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    data: &IdeaData,
    at: NaiveDateTime,
) -> QueryResult<Option<IdeaRow>> {
    diesel::update(
        ideas::table
            .filter(ideas::id.eq(id))
            .filter(ideas::version.eq(version)),
    )
    .set((
        data,
        ideas::version.eq(version + 1),
        ideas::updated_at.eq(at),
    ))
    .returning(ideas::all_columns)
    .get_result(conn)
    .optional()
}

/// Bumps the version of an idea whose parts (inventors, checklist…) changed.
pub fn touch(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    at: NaiveDateTime,
) -> QueryResult<Option<IdeaRow>> {
    diesel::update(
        ideas::table
            .filter(ideas::id.eq(id))
            .filter(ideas::version.eq(version)),
    )
    .set((ideas::version.eq(version + 1), ideas::updated_at.eq(at)))
    .returning(ideas::all_columns)
    .get_result(conn)
    .optional()
}

pub fn delete(conn: &mut AnyConnection, id: i64, version: i64) -> QueryResult<usize> {
    diesel::delete(
        ideas::table
            .filter(ideas::id.eq(id))
            .filter(ideas::version.eq(version)),
    )
    .execute(conn)
}

// ---- batch writes (imports) ----

/// Inserts many rows with few statements: diesel's batch insert needs the concrete connection.
macro_rules! batch_insert {
    ($conn:expr, $table:expr, $rows:expr, $chunk:expr) => {{
        let mut n = 0usize;
        for chunk in $rows.chunks($chunk) {
            n += match $conn {
                AnyConnection::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                AnyConnection::Postgresql(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?
                }
            };
        }
        Ok(n)
    }};
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = idea_tags)]
pub struct NewTag {
    pub idea_id: i64,
    pub tag: String,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = idea_inventors)]
pub struct NewInventor {
    pub idea_id: i64,
    pub person_id: i64,
    pub share_units: i64,
    pub position: i32,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = idea_owners)]
pub struct NewOwner {
    pub idea_id: i64,
    pub organisation_id: i64,
    pub share_units: i64,
    pub agreement_ref: Option<String>,
    pub position: i32,
}

pub fn insert_tags(conn: &mut AnyConnection, rows: &[NewTag]) -> QueryResult<usize> {
    batch_insert!(conn, idea_tags::table, rows, 2000)
}

pub fn insert_inventors(conn: &mut AnyConnection, rows: &[NewInventor]) -> QueryResult<usize> {
    batch_insert!(conn, idea_inventors::table, rows, 2000)
}

pub fn insert_owners(conn: &mut AnyConnection, rows: &[NewOwner]) -> QueryResult<usize> {
    batch_insert!(conn, idea_owners::table, rows, 2000)
}

pub fn insert_events(conn: &mut AnyConnection, rows: &[NewEvent]) -> QueryResult<usize> {
    batch_insert!(conn, idea_events::table, rows, 1000)
}

// ---- tags ----

pub fn tags_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<HashMap<i64, Vec<String>>> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(500) {
        // One id gets `= ?`, a statement prepared once per connection; an `IN` list is
        // prepared anew each time on SQLite.
        let rows: Vec<(i64, String)> = if let [one] = chunk {
            idea_tags::table
                .filter(idea_tags::idea_id.eq(*one))
                .order(idea_tags::tag)
                .select((idea_tags::idea_id, idea_tags::tag))
                .load(conn)?
        } else {
            idea_tags::table
                .filter(idea_tags::idea_id.eq_any(chunk))
                .order((idea_tags::idea_id, idea_tags::tag))
                .select((idea_tags::idea_id, idea_tags::tag))
                .load(conn)?
        };
        for (id, tag) in rows {
            out.entry(id).or_default().push(tag);
        }
    }
    Ok(out)
}

pub fn set_tags(conn: &mut AnyConnection, id: i64, tags: &[String]) -> QueryResult<()> {
    diesel::delete(idea_tags::table.filter(idea_tags::idea_id.eq(id))).execute(conn)?;
    add_tags(conn, id, tags)
}

/// Adds tags to an idea that has none of them yet (a new idea).
pub fn add_tags(conn: &mut AnyConnection, id: i64, tags: &[String]) -> QueryResult<()> {
    match tags {
        [] => {}
        // One tag: a statement prepared once per connection.
        [tag] => {
            diesel::insert_into(idea_tags::table)
                .values((idea_tags::idea_id.eq(id), idea_tags::tag.eq(tag)))
                .execute(conn)?;
        }
        _ => {
            let rows: Vec<NewTag> = tags
                .iter()
                .map(|t| NewTag {
                    idea_id: id,
                    tag: t.clone(),
                })
                .collect();
            insert_tags(conn, &rows)?;
        }
    }
    Ok(())
}

// ---- inventors and owners ----

/// (person id, person name, share units)
pub fn inventors(conn: &mut AnyConnection, id: i64) -> QueryResult<Vec<(i64, String, i64)>> {
    idea_inventors::table
        .inner_join(people::table)
        .filter(idea_inventors::idea_id.eq(id))
        .order(idea_inventors::position)
        .select((
            idea_inventors::person_id,
            people::name,
            idea_inventors::share_units,
        ))
        .load(conn)
}

pub fn replace_inventors(
    conn: &mut AnyConnection,
    id: i64,
    list: &[(i64, i64)],
) -> QueryResult<()> {
    diesel::delete(idea_inventors::table.filter(idea_inventors::idea_id.eq(id))).execute(conn)?;
    for (pos, (person, share)) in list.iter().enumerate() {
        diesel::insert_into(idea_inventors::table)
            .values((
                idea_inventors::idea_id.eq(id),
                idea_inventors::person_id.eq(person),
                idea_inventors::share_units.eq(share),
                idea_inventors::position.eq(pos as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// (organisation id, organisation name, share units, agreement reference)
pub type OwnerRow = (i64, String, i64, Option<String>);

pub fn owners(conn: &mut AnyConnection, id: i64) -> QueryResult<Vec<OwnerRow>> {
    idea_owners::table
        .inner_join(organisations::table)
        .filter(idea_owners::idea_id.eq(id))
        .order(idea_owners::position)
        .select((
            idea_owners::organisation_id,
            organisations::name,
            idea_owners::share_units,
            idea_owners::agreement_ref,
        ))
        .load(conn)
}

pub fn replace_owners(
    conn: &mut AnyConnection,
    id: i64,
    list: &[(i64, i64, Option<String>)],
) -> QueryResult<()> {
    diesel::delete(idea_owners::table.filter(idea_owners::idea_id.eq(id))).execute(conn)?;
    for (pos, (org, share, agreement)) in list.iter().enumerate() {
        diesel::insert_into(idea_owners::table)
            .values((
                idea_owners::idea_id.eq(id),
                idea_owners::organisation_id.eq(org),
                idea_owners::share_units.eq(share),
                idea_owners::agreement_ref.eq(agreement),
                idea_owners::position.eq(pos as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// How many ideas name this person as inventor or project manager.
pub fn person_references(conn: &mut AnyConnection, person: i64) -> QueryResult<i64> {
    let a: i64 = idea_inventors::table
        .filter(idea_inventors::person_id.eq(person))
        .count()
        .get_result(conn)?;
    let b: i64 = ideas::table
        .filter(ideas::project_manager_id.eq(person))
        .count()
        .get_result(conn)?;
    let c: i64 = checklist_answers::table
        .filter(checklist_answers::assessor_id.eq(person))
        .count()
        .get_result(conn)?;
    let d: i64 = super::schema::milestones::table
        .filter(super::schema::milestones::owner_id.eq(person))
        .count()
        .get_result(conn)?;
    let e: i64 = super::schema::patent_families::table
        .filter(super::schema::patent_families::responsible_id.eq(person))
        .count()
        .get_result(conn)?;
    Ok(a + b + c + d + e)
}

/// How many ideas refer to this organisation (source, recipient, owner).
pub fn organisation_references(conn: &mut AnyConnection, org: i64) -> QueryResult<i64> {
    let a: i64 = ideas::table
        .filter(
            ideas::source_organisation_id
                .eq(org)
                .or(ideas::recipient_organisation_id.eq(org)),
        )
        .count()
        .get_result(conn)?;
    let b: i64 = idea_owners::table
        .filter(idea_owners::organisation_id.eq(org))
        .count()
        .get_result(conn)?;
    let c: i64 = idea_events::table
        .filter(idea_events::recipient_organisation_id.eq(org))
        .count()
        .get_result::<i64>(conn)?
        + super::schema::patent_families::table
            .filter(super::schema::patent_families::agent_id.eq(org))
            .count()
            .get_result::<i64>(conn)?;
    Ok(a + b + c)
}

// ---- events ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = idea_events)]
pub struct EventRow {
    pub id: i64,
    pub idea_id: i64,
    pub at: NaiveDateTime,
    pub occurred_on: NaiveDate,
    pub actor: String,
    pub event: String,
    pub from_stage: Option<String>,
    pub from_outcome: Option<String>,
    pub to_stage: Option<String>,
    pub to_outcome: Option<String>,
    pub reason: Option<String>,
    pub comment: Option<String>,
    pub override_reason: Option<String>,
    pub recipient_organisation_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Insertable)]
#[diesel(table_name = idea_events)]
pub struct NewEvent {
    pub idea_id: i64,
    pub at: NaiveDateTime,
    pub occurred_on: NaiveDate,
    pub actor: String,
    pub event: String,
    pub from_stage: Option<String>,
    pub from_outcome: Option<String>,
    pub to_stage: Option<String>,
    pub to_outcome: Option<String>,
    pub reason: Option<String>,
    pub comment: Option<String>,
    pub override_reason: Option<String>,
    pub recipient_organisation_id: Option<i64>,
}

pub fn insert_event(conn: &mut AnyConnection, e: &NewEvent) -> QueryResult<EventRow> {
    diesel::insert_into(idea_events::table)
        .values(e)
        .returning(idea_events::all_columns)
        .get_result(conn)
}

/// The history of an idea in the order it happened (business date, then recording order).
pub fn events(conn: &mut AnyConnection, id: i64) -> QueryResult<Vec<EventRow>> {
    idea_events::table
        .filter(idea_events::idea_id.eq(id))
        .order((idea_events::occurred_on.asc(), idea_events::id.asc()))
        .select(EventRow::as_select())
        .load(conn)
}

// ---- checklists ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = checklist_answers)]
pub struct AnswerRow {
    pub id: i64,
    pub idea_id: i64,
    pub stage: String,
    pub criterion: String,
    pub answer: String,
    pub note: Option<String>,
    pub assessor_id: Option<i64>,
    pub assessed_on: NaiveDate,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = checklist_answers)]
pub struct NewAnswer {
    pub idea_id: i64,
    pub stage: String,
    pub criterion: String,
    pub answer: String,
    pub note: Option<String>,
    pub assessor_id: Option<i64>,
    pub assessed_on: NaiveDate,
    pub updated_at: NaiveDateTime,
}

pub fn answers(conn: &mut AnyConnection, id: i64) -> QueryResult<Vec<AnswerRow>> {
    checklist_answers::table
        .filter(checklist_answers::idea_id.eq(id))
        .order(checklist_answers::id)
        .select(AnswerRow::as_select())
        .load(conn)
}

/// Inserts or replaces the answer to one criterion.
pub fn upsert_answer(conn: &mut AnyConnection, a: &NewAnswer) -> QueryResult<()> {
    diesel::delete(
        checklist_answers::table
            .filter(checklist_answers::idea_id.eq(a.idea_id))
            .filter(checklist_answers::stage.eq(&a.stage))
            .filter(checklist_answers::criterion.eq(&a.criterion)),
    )
    .execute(conn)?;
    diesel::insert_into(checklist_answers::table)
        .values(a)
        .execute(conn)?;
    Ok(())
}

// ---- rights extensions ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rights_extensions)]
pub struct ExtensionRow {
    pub id: i64,
    pub idea_id: i64,
    pub previous_deadline: NaiveDate,
    pub new_deadline: NaiveDate,
    pub agreed_on: NaiveDate,
    pub note: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert_extension(
    conn: &mut AnyConnection,
    idea: i64,
    previous: NaiveDate,
    new_deadline: NaiveDate,
    agreed_on: NaiveDate,
    note: Option<String>,
    at: NaiveDateTime,
) -> QueryResult<ExtensionRow> {
    diesel::insert_into(rights_extensions::table)
        .values((
            rights_extensions::idea_id.eq(idea),
            rights_extensions::previous_deadline.eq(previous),
            rights_extensions::new_deadline.eq(new_deadline),
            rights_extensions::agreed_on.eq(agreed_on),
            rights_extensions::note.eq(note),
            rights_extensions::created_at.eq(at),
        ))
        .returning(rights_extensions::all_columns)
        .get_result(conn)
}

pub fn extensions(conn: &mut AnyConnection, idea: i64) -> QueryResult<Vec<ExtensionRow>> {
    rights_extensions::table
        .filter(rights_extensions::idea_id.eq(idea))
        .order(rights_extensions::id)
        .select(ExtensionRow::as_select())
        .load(conn)
}

// ---- lists and search ----

/// Which ideas by whether, and how, they left the portfolio.
#[derive(Debug, Default, Clone)]
pub enum OutcomeFilter {
    #[default]
    Any,
    /// Still in the active portfolio.
    Active,
    /// Left with any outcome.
    Left,
    /// Left with this outcome.
    Is(String),
    /// Contradictory filters: no idea matches.
    Nothing,
}

#[derive(Debug, Default, Clone)]
pub struct IdeaFilter {
    pub stage: Option<String>,
    pub outcome: OutcomeFilter,
    pub kind: Option<String>,
    pub innovation_type: Option<String>,
    pub organisation_id: Option<i64>,
    pub project_manager_id: Option<i64>,
    pub tag: Option<String>,
    pub received_from: Option<NaiveDate>,
    pub received_to: Option<NaiveDate>,
    /// Restrict to these ids (the matches of a text search).
    pub ids: Option<Vec<i64>>,
}

#[derive(Debug, Clone, Copy)]
pub enum IdeaSort {
    ReceivedOn,
    ReceivedOnDesc,
    Title,
    TitleDesc,
    Id,
    IdDesc,
}

fn filtered(f: &IdeaFilter) -> ideas::BoxedQuery<'static, MultiBackend> {
    let mut q = ideas::table.into_boxed();
    if let Some(v) = &f.stage {
        q = q.filter(ideas::stage.eq(v.clone()));
    }
    match &f.outcome {
        OutcomeFilter::Any => {}
        OutcomeFilter::Active => q = q.filter(ideas::outcome.is_null()),
        OutcomeFilter::Left => q = q.filter(ideas::outcome.is_not_null()),
        OutcomeFilter::Is(o) => q = q.filter(ideas::outcome.eq(o.clone())),
        OutcomeFilter::Nothing => q = q.filter(ideas::id.lt(0)),
    }
    if let Some(v) = &f.kind {
        q = q.filter(ideas::kind.eq(v.clone()));
    }
    if let Some(v) = &f.innovation_type {
        q = q.filter(ideas::innovation_type.eq(v.clone()));
    }
    if let Some(v) = f.organisation_id {
        q = q.filter(ideas::source_organisation_id.eq(v));
    }
    if let Some(v) = f.project_manager_id {
        q = q.filter(ideas::project_manager_id.eq(v));
    }
    if let Some(v) = &f.tag {
        q = q.filter(
            ideas::id.eq_any(
                idea_tags::table
                    .filter(idea_tags::tag.eq(v.clone()))
                    .select(idea_tags::idea_id),
            ),
        );
    }
    if let Some(v) = f.received_from {
        q = q.filter(ideas::received_on.ge(v));
    }
    if let Some(v) = f.received_to {
        q = q.filter(ideas::received_on.le(v));
    }
    if let Some(ids) = &f.ids {
        q = q.filter(ideas::id.eq_any(ids.clone()));
    }
    q
}

pub fn list(
    conn: &mut AnyConnection,
    f: &IdeaFilter,
    sort: IdeaSort,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<IdeaRow>, i64)> {
    use ideas::dsl as i;
    let total = filtered(f).count().get_result(conn)?;
    let q = filtered(f);
    let q = match sort {
        IdeaSort::ReceivedOn => q.order((i::received_on.asc(), i::id.asc())),
        IdeaSort::ReceivedOnDesc => q.order((i::received_on.desc(), i::id.desc())),
        IdeaSort::Title => q.order((i::title.asc(), i::id.asc())),
        IdeaSort::TitleDesc => q.order((i::title.desc(), i::id.desc())),
        IdeaSort::Id => q.order(i::id.asc()),
        IdeaSort::IdDesc => q.order(i::id.desc()),
    };
    let rows = q
        .limit(limit)
        .offset(offset)
        .select(IdeaRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// All rows matching `f` (no paging), for searches ranked in the application.
pub fn all_matching(conn: &mut AnyConnection, f: &IdeaFilter) -> QueryResult<Vec<IdeaRow>> {
    let mut out = Vec::new();
    match &f.ids {
        Some(ids) => {
            for chunk in ids.chunks(500) {
                let part = IdeaFilter {
                    ids: Some(chunk.to_vec()),
                    ..f.clone()
                };
                out.extend(filtered(&part).select(IdeaRow::as_select()).load(conn)?);
            }
        }
        None => out = filtered(f).select(IdeaRow::as_select()).load(conn)?,
    }
    Ok(out)
}

#[derive(QueryableByName)]
struct Ranked {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// Words of a search text: letters and digits only, lower case, at most 16.
pub fn search_terms(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .take(16)
        .collect()
}

/// Ids of ideas whose title, description or need match any word of `q` (prefixes too), best
/// match first: SQLite FTS5 with BM25 (title weighted 10, text 3), PostgreSQL `ts_rank` over a
/// weighted tsvector (title A, text B).
pub fn search_ids(conn: &mut AnyConnection, q: &str, max: i64) -> QueryResult<Vec<i64>> {
    let terms = search_terms(q);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Ranked> = match conn {
        AnyConnection::Sqlite(c) => {
            let expr = terms
                .iter()
                .map(|t| format!("\"{t}\"*"))
                .collect::<Vec<_>>()
                .join(" OR ");
            diesel::sql_query(
                "SELECT rowid AS id FROM ideas_fts WHERE ideas_fts MATCH ? \
                 ORDER BY bm25(ideas_fts, 10.0, 3.0, 3.0), rowid LIMIT ?",
            )
            .bind::<Text, _>(expr)
            .bind::<BigInt, _>(max)
            .load(c)?
        }
        AnyConnection::Postgresql(c) => {
            let expr = terms
                .iter()
                .map(|t| format!("{t}:*"))
                .collect::<Vec<_>>()
                .join(" | ");
            diesel::sql_query(
                "SELECT id FROM ideas, to_tsquery('simple', $1) query WHERE search @@ query \
                 ORDER BY ts_rank(search, query) DESC, id LIMIT $2",
            )
            .bind::<Text, _>(expr)
            .bind::<BigInt, _>(max)
            .load(c)?
        }
    };
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Inventions with no rights decision and still in the portfolio, oldest deadline first.
pub fn open_rights_decisions(
    conn: &mut AnyConnection,
    due_by: Option<NaiveDate>,
    overdue_before: Option<NaiveDate>,
) -> QueryResult<Vec<IdeaRow>> {
    let mut q = ideas::table
        .filter(ideas::rights_deadline.is_not_null())
        .filter(ideas::rights_decision.is_null())
        .filter(ideas::outcome.is_null())
        .into_boxed();
    if let Some(d) = due_by {
        q = q.filter(ideas::rights_deadline.le(d));
    }
    if let Some(d) = overdue_before {
        q = q.filter(ideas::rights_deadline.lt(d));
    }
    q.order((ideas::rights_deadline.asc(), ideas::id.asc()))
        .select(IdeaRow::as_select())
        .load(conn)
}
