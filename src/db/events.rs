//! The change feed (`events`) and the webhook outbox (`webhook_deliveries`).
//!
//! Handlers *stage* events while their transaction runs (through [`crate::api::audit`] or
//! [`stage`]); [`Db::write`](super::Db::write) *flushes* them as the last step before commit.
//! The flush numbers events `max(seq) + 1, + 2, …` while holding a lock that lasts until commit
//! (PostgreSQL: a transaction-scoped advisory lock; SQLite: the database's single writer), so
//! sequence numbers are gap-free and become visible in order: a client that polls with
//! `after=N` can never miss an event that commits later with a smaller number. The same flush
//! writes one pending delivery per matching webhook — the transactional outbox.

use std::cell::RefCell;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{events, webhook_deliveries, webhooks};
use super::AnyConnection;

/// Advisory lock key that serialises event numbering on PostgreSQL ("IFO" + 1).
const EVENT_LOCK_KEY: i64 = 0x0049_464f_0001;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub seq: i64,
    pub occurred_at: NaiveDateTime,
    pub event_type: String,
    pub entity: String,
    pub entity_id: i64,
    pub data_json: String,
    pub request_id: Option<String>,
}

/// An event waiting for its transaction to commit.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: String,
    pub entity: String,
    pub entity_id: i64,
    pub data: serde_json::Value,
    pub request_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct EventInsert {
    seq: i64,
    occurred_at: NaiveDateTime,
    event_type: String,
    entity: String,
    entity_id: i64,
    data_json: String,
    request_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = webhook_deliveries)]
struct DeliveryInsert {
    webhook_id: i64,
    event_seq: i64,
    status: String,
    attempts: i64,
    next_attempt_at: NaiveDateTime,
    created_at: NaiveDateTime,
}

thread_local! {
    /// Events of the transaction running on this thread. A write transaction runs start to
    /// finish on one blocking thread, so this is per transaction.
    static PENDING: RefCell<Vec<NewEvent>> = const { RefCell::new(Vec::new()) };
}

/// Stages an event for the transaction running on this thread.
pub fn stage(event: NewEvent) {
    PENDING.with(|p| p.borrow_mut().push(event));
}

/// Forgets staged events (at the start of a transaction, and after a rollback).
pub fn discard() {
    PENDING.with(|p| p.borrow_mut().clear());
}

fn take() -> Vec<NewEvent> {
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// Whether a webhook's comma-separated type list selects `event_type` (`*` for all, or a
/// prefix ending in `.*` such as `idea.*`).
pub fn selects(types: &str, event_type: &str) -> bool {
    types.split(',').map(str::trim).any(|t| {
        t == "*"
            || t == event_type
            || t.strip_suffix(".*").is_some_and(|prefix| {
                event_type
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
            })
    })
}

/// Writes the staged events and their webhook deliveries; called last inside a write
/// transaction.
pub fn flush(conn: &mut AnyConnection, at: NaiveDateTime) -> QueryResult<()> {
    let pending = take();
    if pending.is_empty() {
        return Ok(());
    }
    if let AnyConnection::Postgresql(c) = conn {
        diesel::sql_query(format!("SELECT pg_advisory_xact_lock({EVENT_LOCK_KEY})")).execute(c)?;
    }
    let last: Option<i64> = events::table
        .select(diesel::dsl::max(events::seq))
        .first(conn)?;
    let first = last.unwrap_or(0) + 1;
    let rows: Vec<EventInsert> = pending
        .into_iter()
        .zip(first..)
        .map(|(e, seq)| EventInsert {
            seq,
            occurred_at: at,
            event_type: e.event_type,
            entity: e.entity,
            entity_id: e.entity_id,
            data_json: e.data.to_string(),
            request_id: e.request_id,
        })
        .collect();
    let hooks: Vec<(i64, String)> = webhooks::table
        .filter(webhooks::active.eq(true))
        .select((webhooks::id, webhooks::event_types))
        .load(conn)?;
    let mut deliveries = Vec::new();
    for e in &rows {
        for (hook, types) in &hooks {
            if selects(types, &e.event_type) {
                deliveries.push(DeliveryInsert {
                    webhook_id: *hook,
                    event_seq: e.seq,
                    status: "pending".into(),
                    attempts: 0,
                    next_attempt_at: at,
                    created_at: at,
                });
            }
        }
    }
    for chunk in rows.chunks(500) {
        insert_events(conn, chunk)?;
    }
    for chunk in deliveries.chunks(500) {
        insert_deliveries(conn, chunk)?;
    }
    Ok(())
}

fn insert_events(conn: &mut AnyConnection, rows: &[EventInsert]) -> QueryResult<usize> {
    match conn {
        AnyConnection::Sqlite(c) => diesel::insert_into(events::table).values(rows).execute(c),
        AnyConnection::Postgresql(c) => diesel::insert_into(events::table).values(rows).execute(c),
    }
}

fn insert_deliveries(conn: &mut AnyConnection, rows: &[DeliveryInsert]) -> QueryResult<usize> {
    match conn {
        AnyConnection::Sqlite(c) => diesel::insert_into(webhook_deliveries::table)
            .values(rows)
            .execute(c),
        AnyConnection::Postgresql(c) => diesel::insert_into(webhook_deliveries::table)
            .values(rows)
            .execute(c),
    }
}

/// Events after `after`, oldest first, optionally of some types only.
pub fn after(
    conn: &mut AnyConnection,
    after: i64,
    types: &[String],
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let mut q = events::table
        .filter(events::seq.gt(after))
        .into_boxed::<super::MultiBackend>();
    if !types.is_empty() {
        q = q.filter(events::event_type.eq_any(types.to_vec()));
    }
    q.order(events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
}

/// The number of the newest event (0 when there is none).
pub fn last_seq(conn: &mut AnyConnection) -> QueryResult<i64> {
    let last: Option<i64> = events::table
        .select(diesel::dsl::max(events::seq))
        .first(conn)?;
    Ok(last.unwrap_or(0))
}

pub fn find(conn: &mut AnyConnection, seq: i64) -> QueryResult<Option<EventRow>> {
    events::table
        .find(seq)
        .select(EventRow::as_select())
        .first(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use super::selects;

    #[test]
    fn webhook_type_lists() {
        assert!(selects("*", "idea.created"));
        assert!(selects("idea.created, income.received", "income.received"));
        assert!(selects("idea.*", "idea.stage_changed"));
        assert!(!selects("idea.*", "ideas.created"));
        assert!(!selects("agreement.signed", "agreement.terminated"));
    }
}
