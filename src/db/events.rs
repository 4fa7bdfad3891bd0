//! The change feed (`events`) and the webhook outbox (`webhook_deliveries`).
//!
//! Handlers *stage* events while their transaction runs (through [`crate::api::audit`] or
//! [`stage`]); [`Db::write`](super::Db::write) *flushes* them as the last step before commit.
//! The flush numbers events from the one-row `event_counter` (`UPDATE … SET last_seq =
//! last_seq + n RETURNING last_seq`), whose row lock lasts until commit on both backends, so
//! sequence numbers are gap-free and become visible in order: a client that polls with
//! `after=N` can never miss an event that commits later with a smaller number. The same flush
//! writes one pending delivery per matching webhook — the transactional outbox.

use std::cell::RefCell;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{event_counter, events, webhook_deliveries, webhooks};
use super::AnyConnection;

/// Advisory lock key that serialises event numbering on PostgreSQL ("IFO" + 1).

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
    // Read before numbering, so that the counter's row lock (held until commit) is held for
    // as short a time as possible.
    // On PostgreSQL the numbering statement also writes the outbox rows of the first events
    // (matching the subscriptions in SQL); the list is read here for the others.
    let pg = matches!(conn, AnyConnection::Postgresql(_));
    let hooks: Vec<(i64, String)> = if pg && pending.len() <= PG_FIRST {
        Vec::new()
    } else {
        webhooks::table
            .filter(webhooks::active.eq(true))
            .select((webhooks::id, webhooks::event_types))
            .load(conn)?
    };
    let count = i64::try_from(pending.len()).unwrap_or(i64::MAX);
    let mut rows: Vec<EventInsert> = pending
        .into_iter()
        .map(|e| EventInsert {
            seq: 0,
            occurred_at: at,
            event_type: e.event_type,
            entity: e.entity,
            entity_id: e.entity_id,
            data_json: e.data.to_string(),
            request_id: e.request_id,
        })
        .collect();
    // The counter's row lock numbers the events: a concurrent transaction waits for it until
    // this one commits and then continues from its last number, so the sequence has no gaps
    // and follows commit order on both backends and across instances.
    let (first, inserted) = match conn {
        // On PostgreSQL the lock is held from here to the end of the commit, so the first
        // events are inserted by the same statement that numbers them: only the commit's
        // round trip remains under the lock.
        AnyConnection::Postgresql(c) => {
            let n = rows.len().min(PG_FIRST);
            (number_and_insert_pg(c, count, &rows[..n], at)?, n)
        }
        AnyConnection::Sqlite(_) => {
            let last: i64 = diesel::update(event_counter::table.filter(event_counter::id.eq(1)))
                .set(event_counter::last_seq.eq(event_counter::last_seq + count))
                .returning(event_counter::last_seq)
                .get_result(conn)?;
            (last - count + 1, 0)
        }
    };
    for (row, seq) in rows.iter_mut().zip(first..) {
        row.seq = seq;
    }
    let mut deliveries = Vec::new();
    for e in &rows[inserted..] {
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
    for chunk in rows[inserted..].chunks(500) {
        insert_events(conn, chunk)?;
    }
    for chunk in deliveries.chunks(500) {
        insert_deliveries(conn, chunk)?;
    }
    Ok(())
}

/// How many events (with their outbox rows) the PostgreSQL numbering statement inserts itself.
const PG_FIRST: usize = 1000;

#[derive(QueryableByName)]
struct Numbered {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    first: i64,
}

/// Adds `count` to the counter and inserts `rows` (the first of the `count` events) numbered
/// from the counter's previous value, with one pending delivery per matching active webhook
/// (the same rule as [`selects`]), in one statement; returns the first number.
fn number_and_insert_pg(
    conn: &mut diesel::PgConnection,
    count: i64,
    rows: &[EventInsert],
    at: NaiveDateTime,
) -> QueryResult<i64> {
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    let mut values = Vec::with_capacity(rows.len());
    for i in 0..rows.len() {
        let b = 3 + i * 5;
        values.push(format!(
            "({}::bigint, ${}::text, ${}::text, ${}::bigint, ${}::text, ${}::text)",
            i + 1,
            b,
            b + 1,
            b + 2,
            b + 3,
            b + 4
        ));
    }
    let sql = format!(
        "WITH c AS (UPDATE event_counter SET last_seq = last_seq + $1 WHERE id = 1 \
         RETURNING last_seq), \
         ins AS (INSERT INTO events (seq, occurred_at, event_type, entity, entity_id, data_json, \
         request_id) SELECT c.last_seq - $1 + v.n, $2, v.t, v.e, v.i, v.d, v.r FROM c, \
         (VALUES {}) AS v(n, t, e, i, d, r) RETURNING seq, event_type), \
         hooks AS (INSERT INTO webhook_deliveries (webhook_id, event_seq, status, attempts, \
         next_attempt_at, created_at) SELECT w.id, ins.seq, 'pending', 0, $2, $2 \
         FROM ins JOIN webhooks w ON w.active AND EXISTS (SELECT 1 FROM \
         unnest(string_to_array(w.event_types, ',')) AS l(raw), \
         LATERAL (SELECT btrim(l.raw, E' \\t\\r\\n') AS t) AS x \
         WHERE x.t = '*' OR x.t = ins.event_type \
         OR (right(x.t, 2) = '.*' AND starts_with(ins.event_type, left(x.t, -1))))) \
         SELECT COALESCE(MIN(seq), (SELECT last_seq - $1 + 1 FROM c)) AS first FROM ins",
        values.join(", ")
    );
    let mut q = diesel::sql_query(sql)
        .into_boxed::<diesel::pg::Pg>()
        .bind::<BigInt, _>(count)
        .bind::<Timestamp, _>(at);
    for r in rows {
        q = q
            .bind::<Text, _>(r.event_type.clone())
            .bind::<Text, _>(r.entity.clone())
            .bind::<BigInt, _>(r.entity_id)
            .bind::<Text, _>(r.data_json.clone())
            .bind::<Nullable<Text>, _>(r.request_id.clone());
    }
    let out: Numbered = q.get_result(conn)?;
    Ok(out.first)
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
        .get_result(conn)?;
    Ok(last.unwrap_or(0))
}

pub fn find(conn: &mut AnyConnection, seq: i64) -> QueryResult<Option<EventRow>> {
    events::table
        .find(seq)
        .select(EventRow::as_select())
        .get_result(conn)
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
