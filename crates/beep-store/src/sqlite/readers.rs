//! The readers of the SQLite store: a fixed pool of read-only connections, each
//! owned by its own OS thread, pulling jobs from one shared channel.
//!
//! In WAL mode readers never block the writer nor each other, and each statement
//! sees the latest committed transaction, so a read issued after a write was
//! acknowledged sees that write. Dedicated threads avoid a `spawn_blocking` per
//! query and let each connection keep its prepared statements warm.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;

use crossbeam_channel::Sender;
use rusqlite::Connection;
use tokio::sync::oneshot;

use super::writer::closed;
use super::{SqliteConfig, connection};
use crate::{Result, StoreError};

type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// Handle on the reader threads.
pub(super) struct Readers {
    /// `None` once closing started.
    tx: RwLock<Option<Sender<ReadJob>>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    size: usize,
}

impl Readers {
    /// Open `config.readers` connections (at least one), each on its own thread.
    pub(super) async fn start(config: &SqliteConfig) -> Result<Readers> {
        let size = config.readers.max(1);
        let (tx, rx) = crossbeam_channel::unbounded::<ReadJob>();
        let mut threads = Vec::with_capacity(size);
        let mut ready = Vec::with_capacity(size);
        for i in 0..size {
            let rx = rx.clone();
            let config = config.clone();
            let (ready_tx, ready_rx) = oneshot::channel();
            let thread = std::thread::Builder::new()
                .name(format!("beep-sqlite-reader-{i}"))
                .spawn(move || {
                    let conn = match connection::open_reader(&config) {
                        Ok(conn) => {
                            let _ = ready_tx.send(Ok(()));
                            conn
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    // Ends when the channel is disconnected and drained. A job that
                    // panics drops its reply (the caller sees an error) but does not
                    // take the connection down with it.
                    for job in rx.iter() {
                        let _ = catch_unwind(AssertUnwindSafe(|| job(&conn)));
                    }
                })
                .map_err(|e| StoreError::Internal(format!("cannot start a reader thread: {e}")))?;
            threads.push(thread);
            ready.push(ready_rx);
        }
        // If one fails, dropping `tx` on return stops the others.
        for r in ready {
            r.await
                .unwrap_or_else(|_| Err(StoreError::Internal("a reader thread died".into())))?;
        }
        metrics::gauge!("beep_store_readers").increment(size as f64);
        Ok(Readers {
            tx: RwLock::new(Some(tx)),
            threads: Mutex::new(threads),
            size,
        })
    }

    /// Run a read on the next free connection.
    pub(super) async fn read<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = reply.send(work(conn));
        });
        {
            let guard = self.tx.read().unwrap_or_else(PoisonError::into_inner);
            let Some(tx) = guard.as_ref() else {
                return Err(closed());
            };
            tx.send(job).map_err(|_| closed())?;
        }
        rx.await
            .unwrap_or_else(|_| Err(StoreError::Internal("read job panicked".into())))
    }

    /// Stop accepting reads, finish the queued ones, and join the threads.
    pub(super) async fn stop(&self) {
        let was_open = self
            .tx
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .is_some();
        let threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(PoisonError::into_inner));
        if was_open {
            metrics::gauge!("beep_store_readers").decrement(self.size as f64);
        }
        let joined =
            tokio::task::spawn_blocking(move || threads.into_iter().all(|t| t.join().is_ok()))
                .await;
        if !matches!(joined, Ok(true)) {
            tracing::error!("an SQLite reader thread panicked");
        }
    }
}
