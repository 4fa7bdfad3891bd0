//! Group commit: one thread runs the writes that arrive together in one transaction.
//!
//! A write costs a disk flush at commit (SQLite `synchronous = FULL` flushes the WAL), and on
//! SQLite only one write transaction runs at a time anyway. So the writer takes every write
//! waiting when it becomes free, runs each in its own savepoint — a write that fails rolls back
//! to its savepoint and gets its own error, the others go on — stages and flushes each write's
//! change events inside its savepoint, and commits the batch once. Every caller is answered
//! after that commit: an acknowledged write is on disk, and a commit that fails fails every
//! write of the batch (none of them is acknowledged).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use diesel::connection::SimpleConnection;
use diesel::Connection;

use super::{events, now, AnyConnection, Backend, Db};
use crate::error::ApiError;

/// A write: runs on the writer's connection inside a savepoint.
pub type Job =
    Box<dyn FnOnce(&mut AnyConnection) -> Result<Box<dyn Any + Send>, ApiError> + Send + 'static>;

type Answer = Result<Box<dyn Any + Send>, ApiError>;

pub struct Request {
    pub job: Job,
    pub reply: tokio::sync::oneshot::Sender<Answer>,
    /// The request's tracing span, entered while its write runs.
    pub span: tracing::Span,
}

/// The most writes committed together.
const MAX_BATCH: usize = 128;

pub struct GroupWriter {
    tx: mpsc::Sender<Request>,
}

impl GroupWriter {
    /// Starts the writer thread; `None` if the thread cannot be started (writes then run one
    /// transaction each).
    pub fn start(db: Db) -> Option<GroupWriter> {
        let (tx, rx) = mpsc::channel::<Request>();
        // The thread holds the pool, not the writer's own handle, so it ends when every `Db`
        // clone (and with it the sender) is gone.
        let db = Db {
            writer: std::sync::Arc::new(std::sync::OnceLock::new()),
            group_commit: false,
            ..db
        };
        std::thread::Builder::new()
            .name("innofolio-writer".into())
            .spawn(move || run(db, rx))
            .map_err(|e| tracing::error!(error = %e, "cannot start the group-commit writer"))
            .ok()?;
        Some(GroupWriter { tx })
    }

    pub fn submit(&self, request: Request) -> Result<(), Request> {
        self.tx.send(request).map_err(|e| e.0)
    }
}

fn run(db: Db, rx: mpsc::Receiver<Request>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        run_batch(&db, batch);
    }
}

fn run_batch(db: &Db, batch: Vec<Request>) {
    let mut answers: Vec<Option<Answer>> = Vec::with_capacity(batch.len());
    let mut jobs = Vec::with_capacity(batch.len());
    let mut replies = Vec::with_capacity(batch.len());
    for r in batch {
        jobs.push((r.job, r.span));
        replies.push(r.reply);
    }
    let committed = (|| -> Result<(), ApiError> {
        let mut conn = db.pool.get()?;
        let _guard = db.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        events::discard();
        let backend = db.backend;
        let result = conn.transaction::<(), ApiError, _>(|c| {
            if backend == Backend::Sqlite {
                // Take the write lock first (see `Db::write_blocking`).
                c.batch_execute("UPDATE app_meta SET meta_value = meta_value WHERE 1 = 0")?;
            }
            for (job, span) in jobs {
                let _entered = span.enter();
                let answer = c.transaction::<Box<dyn Any + Send>, ApiError, _>(|c| {
                    let out = catch_unwind(AssertUnwindSafe(|| job(c))).unwrap_or_else(|_| {
                        Err(ApiError::internal("a write panicked; it was rolled back"))
                    })?;
                    events::flush(c, now())?;
                    Ok(out)
                });
                events::discard();
                answers.push(Some(answer));
            }
            Ok(())
        });
        events::discard();
        result
    })();
    match committed {
        Ok(()) => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                let answer =
                    answer.unwrap_or_else(|| Err(ApiError::internal("a write was not run")));
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            // Nothing of the batch is committed: every write gets the error, none is
            // acknowledged.
            tracing::warn!(error = %e, writes = replies.len(), "group commit failed");
            for reply in replies {
                let _ = reply.send(Err(same_error(&e)));
            }
        }
    }
}

/// The batch's error again, for each of its writes.
fn same_error(e: &ApiError) -> ApiError {
    match e {
        ApiError::Unavailable(m) => ApiError::Unavailable(m.clone()),
        other => ApiError::Internal(other.to_string()),
    }
}
