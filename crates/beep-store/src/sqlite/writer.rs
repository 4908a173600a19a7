//! The single writer of the SQLite store: one OS thread owning the read-write
//! connection and committing writes in groups.
//!
//! Callers submit closures through a channel. The thread takes the first one,
//! drains up to [`MAX_BATCH`] more that are already queued, and runs them all in
//! one `BEGIN IMMEDIATE` transaction, each inside its own savepoint so a failing
//! job is undone alone. Only after `COMMIT` returns (with `synchronous=FULL`, after
//! the WAL is synced) does it answer the callers, so an acknowledged write is a
//! committed write. Many concurrent writers thus share one fsync.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::{SqliteConfig, connection};
use crate::{Result, StoreError};

/// Most jobs committed by one transaction.
pub(super) const MAX_BATCH: usize = 256;

/// A write waiting for the writer thread.
trait WriteJob: Send {
    /// Run the job on the writer's connection; true when it succeeded.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Answer the caller. `failure` is set when the transaction did not commit; it
    /// replaces a successful result, while a job that failed keeps its own error.
    fn answer(self: Box<Self>, failure: Option<&StoreError>);
}

/// A job with its closure, its result once run, and where to send that result.
struct Job<T, F> {
    work: Option<F>,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> WriteJob for Job<T, F>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T> + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let result = work(conn);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn answer(self: Box<Self>, failure: Option<&StoreError>) {
        let result = match (self.result, failure) {
            (Some(Err(own)), _) => Err(own),
            (_, Some(failure)) => Err(duplicate(failure)),
            (Some(Ok(value)), None) => Ok(value),
            (None, None) => Err(StoreError::Internal("write job panicked".into())),
        };
        // The caller may have gone away (request cancelled); the write stands anyway.
        let _ = self.reply.send(result);
    }
}

/// The same error again, for every job of a failed batch.
fn duplicate(e: &StoreError) -> StoreError {
    match e {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict(field) => StoreError::Conflict(field),
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Internal(m) => StoreError::Internal(m.clone()),
    }
}

/// Handle on the writer thread.
pub(super) struct Writer {
    /// `None` once closing started: no more jobs are accepted.
    tx: RwLock<Option<Sender<Box<dyn WriteJob>>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Transactions committed; only tests read it.
    #[cfg_attr(not(test), allow(dead_code))]
    commits: Arc<AtomicU64>,
}

impl Writer {
    /// Open the database, run pending migrations and start the thread; returns the
    /// names of the migrations applied.
    pub(super) async fn start(config: &SqliteConfig) -> Result<(Writer, Vec<String>)> {
        let (tx, rx) = crossbeam_channel::unbounded::<Box<dyn WriteJob>>();
        let (ready_tx, ready_rx) = oneshot::channel();
        let commits = Arc::new(AtomicU64::new(0));
        let thread_commits = commits.clone();
        let config = config.clone();
        let thread = std::thread::Builder::new()
            .name("beep-sqlite-writer".into())
            .spawn(move || {
                let opened = connection::open_writer(&config).and_then(|mut conn| {
                    let applied = connection::migrate(&mut conn)?;
                    Ok((conn, applied))
                });
                let conn = match opened {
                    Ok((conn, applied)) => {
                        let _ = ready_tx.send(Ok(applied));
                        conn
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                run(&conn, &rx, &thread_commits);
                tracing::debug!("SQLite writer stopped");
            })
            .map_err(|e| StoreError::Internal(format!("cannot start the writer thread: {e}")))?;
        let applied = ready_rx
            .await
            .unwrap_or_else(|_| Err(StoreError::Internal("the writer thread died".into())))?;
        let writer = Writer {
            tx: RwLock::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            commits,
        };
        Ok((writer, applied))
    }

    /// Queue a write; the receiver answers once its transaction committed (or failed).
    pub(super) fn submit<T, F>(&self, work: F) -> Result<oneshot::Receiver<Result<T>>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = Box::new(Job {
            work: Some(work),
            result: None,
            reply,
        });
        let guard = self.tx.read().unwrap_or_else(PoisonError::into_inner);
        let Some(tx) = guard.as_ref() else {
            return Err(closed());
        };
        tx.send(job).map_err(|_| closed())?;
        Ok(rx)
    }

    /// Run a write and wait until it is committed.
    pub(super) async fn write<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let rx = self.submit(work)?;
        rx.await.unwrap_or_else(|_| Err(closed()))
    }

    /// Stop accepting jobs, let the thread commit everything already queued, and
    /// wait for it to exit. Safe to call more than once.
    pub(super) async fn stop(&self) {
        // Dropping the only sender disconnects the channel; the thread still
        // receives every job queued before that, then exits.
        drop(
            self.tx
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let joined = tokio::task::spawn_blocking(move || thread.join()).await;
            if !matches!(joined, Ok(Ok(()))) {
                tracing::error!("the SQLite writer thread panicked");
            }
        }
    }

    /// Transactions committed so far.
    #[cfg(test)]
    pub(super) fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }
}

/// The error for calls made after closing.
pub(super) fn closed() -> StoreError {
    StoreError::Unavailable("the SQLite store is closed".into())
}

/// The writer thread's loop: batch, run, commit, answer, until the channel is
/// disconnected and empty.
fn run(conn: &Connection, rx: &Receiver<Box<dyn WriteJob>>, commits: &AtomicU64) {
    let mut queue: VecDeque<Box<dyn WriteJob>> = VecDeque::new();
    loop {
        if queue.is_empty() {
            let Ok(first) = rx.recv() else {
                return;
            };
            queue.push_back(first);
        }
        while queue.len() < MAX_BATCH {
            let Ok(next) = rx.try_recv() else {
                break;
            };
            queue.push_back(next);
        }
        metrics::gauge!("beep_store_writer_queue_depth").set(rx.len() as f64);
        let take = queue.len().min(MAX_BATCH);
        let batch: Vec<_> = queue.drain(..take).collect();
        let rest = run_batch(conn, batch, commits);
        // Jobs a failed transaction did not reach go first in the next batch.
        for job in rest.into_iter().rev() {
            queue.push_front(job);
        }
    }
}

/// Run one batch in one transaction and answer its jobs; returns the jobs that
/// were not reached because the transaction failed part-way.
fn run_batch(
    conn: &Connection,
    mut batch: Vec<Box<dyn WriteJob>>,
    commits: &AtomicU64,
) -> Vec<Box<dyn WriteJob>> {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        let failure = StoreError::from(e);
        tracing::warn!(error = %failure, jobs = batch.len(), "cannot begin a write transaction");
        answer_all(batch, Some(&failure));
        return Vec::new();
    }

    let mut reached = 0;
    let mut aborted = None;
    for job in batch.iter_mut() {
        reached += 1;
        if let Err(e) = run_in_savepoint(conn, job.as_mut()) {
            aborted = Some(e);
            break;
        }
    }

    if let Some(failure) = aborted {
        // SQLite may already have rolled back on its own (disk full, I/O error).
        if !conn.is_autocommit() {
            let _ = exec(conn, "ROLLBACK");
        }
        tracing::error!(error = %failure, "write transaction aborted");
        let rest = batch.split_off(reached);
        answer_all(batch, Some(&failure));
        return rest;
    }

    let size = batch.len();
    match exec(conn, "COMMIT") {
        Ok(()) => {
            commits.fetch_add(1, Ordering::Relaxed);
            metrics::counter!("beep_store_writer_commits_total").increment(1);
            metrics::histogram!("beep_store_writer_batch_size").record(size as f64);
            answer_all(batch, None);
        }
        Err(e) => {
            let failure = StoreError::from(e);
            tracing::error!(error = %failure, jobs = size, "COMMIT failed");
            if !conn.is_autocommit() {
                let _ = exec(conn, "ROLLBACK");
            }
            answer_all(batch, Some(&failure));
        }
    }
    Vec::new()
}

/// Run one job inside its own savepoint, undoing it alone if it fails or panics.
/// An error here means the whole transaction is lost.
fn run_in_savepoint(conn: &Connection, job: &mut dyn WriteJob) -> Result<()> {
    exec(conn, "SAVEPOINT beep_job")?;
    let ok = catch_unwind(AssertUnwindSafe(|| job.run(conn))).unwrap_or(false);
    if conn.is_autocommit() {
        return Err(StoreError::Unavailable(
            "SQLite rolled the write transaction back".into(),
        ));
    }
    if !ok {
        exec(conn, "ROLLBACK TO beep_job")?;
    }
    exec(conn, "RELEASE beep_job")?;
    Ok(())
}

fn answer_all(batch: Vec<Box<dyn WriteJob>>, failure: Option<&StoreError>) {
    for job in batch {
        job.answer(failure);
    }
}

/// Run a parameterless statement through the statement cache.
fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}
