//! Queries on webhook subscriptions, their deliveries (the outbox) and delivery attempts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::events::EventRow;
use super::schema::{events, webhook_attempts, webhook_deliveries, webhooks};
use super::{AnyConnection, MultiBackend};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub description: Option<String>,
    pub event_types: String,
    pub secret: String,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = webhooks, treat_none_as_null = true)]
pub struct WebhookData {
    pub url: String,
    pub description: Option<String>,
    pub event_types: String,
    pub secret: String,
    pub active: bool,
}

pub fn insert(
    conn: &mut AnyConnection,
    data: &WebhookData,
    at: NaiveDateTime,
) -> QueryResult<WebhookRow> {
    diesel::insert_into(webhooks::table)
        .values((
            data,
            webhooks::version.eq(1),
            webhooks::created_at.eq(at),
            webhooks::updated_at.eq(at),
        ))
        .returning(webhooks::all_columns)
        .get_result(conn)
}

pub fn find(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<WebhookRow>> {
    webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .get_result(conn)
        .optional()
}

pub fn list(conn: &mut AnyConnection) -> QueryResult<Vec<WebhookRow>> {
    webhooks::table
        .order(webhooks::id)
        .select(WebhookRow::as_select())
        .load(conn)
}

pub fn update(
    conn: &mut AnyConnection,
    id: i64,
    version: i64,
    data: &WebhookData,
    at: NaiveDateTime,
) -> QueryResult<Option<WebhookRow>> {
    diesel::update(
        webhooks::table
            .filter(webhooks::id.eq(id))
            .filter(webhooks::version.eq(version)),
    )
    .set((
        data,
        webhooks::version.eq(version + 1),
        webhooks::updated_at.eq(at),
    ))
    .returning(webhooks::all_columns)
    .get_result(conn)
    .optional()
}

/// Deletes a subscription with its delivery log; 0 when it changed meanwhile.
pub fn delete(conn: &mut AnyConnection, id: i64, version: i64) -> QueryResult<usize> {
    let deliveries = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(id))
        .select(webhook_deliveries::id);
    diesel::delete(
        webhook_attempts::table.filter(webhook_attempts::delivery_id.eq_any(deliveries)),
    )
    .execute(conn)?;
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(id)))
        .execute(conn)?;
    diesel::delete(
        webhooks::table
            .filter(webhooks::id.eq(id))
            .filter(webhooks::version.eq(version)),
    )
    .execute(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: i64,
    pub webhook_id: i64,
    pub event_seq: i64,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub id: i64,
    pub delivery_id: i64,
    pub attempted_at: NaiveDateTime,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
}

/// A page of one subscription's deliveries (newest first) with their events, and the total.
pub fn deliveries(
    conn: &mut AnyConnection,
    webhook_id: i64,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> QueryResult<(Vec<(DeliveryRow, EventRow)>, i64)> {
    let filtered = || {
        let mut q = webhook_deliveries::table
            .filter(webhook_deliveries::webhook_id.eq(webhook_id))
            .into_boxed::<MultiBackend>();
        if let Some(s) = status {
            q = q.filter(webhook_deliveries::status.eq(s.to_string()));
        }
        q
    };
    let total = filtered().count().get_result(conn)?;
    let rows: Vec<DeliveryRow> = filtered()
        .order(webhook_deliveries::id.desc())
        .limit(limit)
        .offset(offset)
        .select(DeliveryRow::as_select())
        .load(conn)?;
    let seqs: Vec<i64> = rows.iter().map(|d| d.event_seq).collect();
    let evs: Vec<EventRow> = events::table
        .filter(events::seq.eq_any(seqs))
        .select(EventRow::as_select())
        .load(conn)?;
    let out = rows
        .into_iter()
        .filter_map(|d| {
            let e = evs.iter().find(|e| e.seq == d.event_seq)?.clone();
            Some((d, e))
        })
        .collect();
    Ok((out, total))
}

pub fn attempts_of(conn: &mut AnyConnection, ids: &[i64]) -> QueryResult<Vec<AttemptRow>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(ids.to_vec()))
        .order(webhook_attempts::id)
        .select(AttemptRow::as_select())
        .load(conn)
}

pub fn find_delivery(conn: &mut AnyConnection, id: i64) -> QueryResult<Option<DeliveryRow>> {
    webhook_deliveries::table
        .find(id)
        .select(DeliveryRow::as_select())
        .get_result(conn)
        .optional()
}

/// Queues a delivery again (after it failed for good, or to send it once more).
pub fn requeue(conn: &mut AnyConnection, id: i64, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::next_attempt_at.eq(at),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
}

/// A claimed delivery with what is needed to send it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub delivery: DeliveryRow,
    pub url: String,
    pub secret: String,
    pub event: EventRow,
}

/// Deliveries that are due and not claimed by a live lease.
fn due(now: NaiveDateTime) -> webhook_deliveries::BoxedQuery<'static, MultiBackend> {
    webhook_deliveries::table
        .filter(webhook_deliveries::status.eq("pending"))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(
            webhook_deliveries::locked_until
                .is_null()
                .or(webhook_deliveries::locked_until.lt(now)),
        )
        .into_boxed::<MultiBackend>()
}

/// Whether any delivery is due and unclaimed (a read, so an idle sender takes no write lock).
pub fn any_due(conn: &mut AnyConnection, now: NaiveDateTime) -> QueryResult<bool> {
    let one: Vec<i64> = due(now)
        .select(webhook_deliveries::id)
        .limit(1)
        .load(conn)?;
    Ok(!one.is_empty())
}

/// Claims up to `max` due deliveries until `lease_until`, so that no other instance sends them
/// meanwhile. A delivery whose sender died is claimed again once its lease has run out.
pub fn claim_due(
    conn: &mut AnyConnection,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    max: i64,
) -> QueryResult<Vec<Claimed>> {
    let ids: Vec<i64> = due(now)
        .order(webhook_deliveries::id)
        .limit(max)
        .select(webhook_deliveries::id)
        .load(conn)?;
    let mut out = Vec::new();
    for id in ids {
        let won = diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::id.eq(id))
                .filter(webhook_deliveries::status.eq("pending"))
                .filter(
                    webhook_deliveries::locked_until
                        .is_null()
                        .or(webhook_deliveries::locked_until.lt(now)),
                ),
        )
        .set(webhook_deliveries::locked_until.eq(lease_until))
        .execute(conn)?;
        if won == 0 {
            continue;
        }
        let Some(delivery) = find_delivery(conn, id)? else {
            continue;
        };
        let Some(hook) = find(conn, delivery.webhook_id)? else {
            continue;
        };
        let Some(event) = super::events::find(conn, delivery.event_seq)? else {
            continue;
        };
        out.push(Claimed {
            delivery,
            url: hook.url,
            secret: hook.secret,
            event,
        });
    }
    Ok(out)
}

/// What one attempt found.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    pub attempted_at: NaiveDateTime,
    pub duration_ms: i64,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub delivered: bool,
}

/// Logs an attempt and moves the delivery on: delivered, retried at `retry_at`, or failed for
/// good when `retry_at` is `None`.
pub fn record_attempt(
    conn: &mut AnyConnection,
    delivery_id: i64,
    attempt: &AttemptResult,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<()> {
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::delivery_id.eq(delivery_id),
            webhook_attempts::attempted_at.eq(attempt.attempted_at),
            webhook_attempts::duration_ms.eq(attempt.duration_ms),
            webhook_attempts::status_code.eq(attempt.status_code),
            webhook_attempts::error.eq(attempt.error.clone()),
        ))
        .execute(conn)?;
    let (status, next, delivered_at) = if attempt.delivered {
        (
            "delivered",
            attempt.attempted_at,
            Some(attempt.attempted_at),
        )
    } else {
        match retry_at {
            Some(at) => ("pending", at, None),
            None => ("failed", attempt.attempted_at, None),
        }
    };
    diesel::update(webhook_deliveries::table.find(delivery_id))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
            webhook_deliveries::next_attempt_at.eq(next),
            webhook_deliveries::locked_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::last_status_code.eq(attempt.status_code),
            webhook_deliveries::last_error.eq(attempt.error.clone()),
            webhook_deliveries::delivered_at.eq(delivered_at),
        ))
        .execute(conn)?;
    Ok(())
}
