//! The real-time gateway of Beep: Discord's gateway v10 over WebSocket.
//!
//! - [`protocol`]: opcodes, close codes, client payloads, server frames.
//! - [`connection`]: one socket (HELLO, IDENTIFY, RESUME, heartbeats, limits).
//! - [`session`]: a session's numbered buffer, its queue and its replay log.
//! - [`hub`]: the registry of sessions, the bus dispatcher and the guild actors
//!   that decide who sees what.
//! - [`presence`]: statuses, last seen, PRESENCE_UPDATE fan-out.
//! - [`directory`]: what the gateway asks the domain; [`services`] answers it
//!   from `beep-core`.
//! - [`http`]: the WebSocket endpoint, `GET /gateway`, `/gateway/bot` and the
//!   presence endpoints (including the EventSource stream).
//! - [`nats`]: the event bus and presence store between nodes.
//! - [`handoff`]: sessions moving between nodes (RESUME anywhere, drain).
//!
//! The gateway knows nothing of SQL: everything it learns comes from the
//! [`directory::Directory`] and the event bus.

pub mod compress;
pub mod connection;
pub mod directory;
pub mod handoff;
pub mod http;
pub mod hub;
pub mod nats;
pub mod presence;
pub mod protocol;
pub mod ready;
pub mod services;
pub mod session;
pub mod settings;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beep_core::events::EventBus;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::info;

use crate::directory::Directory;
use crate::hub::Hub;
use crate::presence::Presences;

/// Settings of the gateway role.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// The WebSocket URL `GET /gateway` returns (`ws://...` or `wss://...`).
    pub url: String,
    /// READY's `resume_gateway_url`.
    pub resume_url: String,
    /// HELLO's `heartbeat_interval` in milliseconds.
    pub heartbeat_interval_ms: u64,
    /// How long a session without connection can still be resumed.
    pub resume_window_secs: u64,
    /// Dispatches kept per session for RESUME.
    pub resume_buffer: usize,
    /// Undelivered dispatches after which a connection is a slow consumer.
    pub max_pending: usize,
    /// How often a live session's login is checked again (revocation).
    pub revalidate_secs: u64,
    /// How long a write to a client may take before the client is dropped.
    pub write_timeout_secs: u64,
    /// How long shutdown waits for clients to leave after RECONNECT.
    pub drain_timeout_secs: u64,
    /// Write coalescing window (zero: every wake-up writes at once).
    pub coalesce: Duration,
    /// Name of this node (presence entries in a cluster).
    pub node: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            url: "ws://127.0.0.1:8080/gateway".into(),
            resume_url: "ws://127.0.0.1:8080/gateway".into(),
            heartbeat_interval_ms: 41_250,
            resume_window_secs: 180,
            resume_buffer: 2000,
            max_pending: 1000,
            revalidate_secs: 60,
            write_timeout_secs: 10,
            drain_timeout_secs: 5,
            coalesce: Duration::ZERO,
            node: "local".into(),
        }
    }
}

impl GatewayConfig {
    /// A connection that sent no heartbeat for this long is closed with 4009:
    /// the interval plus half of it for network jitter.
    pub fn heartbeat_timeout(&self) -> Duration {
        Duration::from_millis(self.heartbeat_interval_ms + self.heartbeat_interval_ms / 2 + 500)
    }
}

/// The gateway role of one node. Cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    hub: Arc<Hub>,
    drain: Arc<watch::Sender<bool>>,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    /// The cluster bus, once joined: events are read with their identity.
    keyed: Arc<Mutex<Option<Arc<nats::NatsBus>>>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

impl Gateway {
    /// A gateway over a directory and the node's event bus. Call [`Gateway::start`]
    /// before serving connections.
    pub fn new(dir: Arc<dyn Directory>, bus: Arc<dyn EventBus>, cfg: GatewayConfig) -> Gateway {
        let presence = Presences::new(&cfg.node, Duration::from_secs(90));
        let hub = Hub::new(dir, bus, Arc::new(cfg), presence);
        Gateway {
            hub,
            drain: Arc::new(watch::channel(false).0),
            tasks: Arc::default(),
            keyed: Arc::default(),
        }
    }

    /// Join a cluster over `bus` (the node's event bus): sessions can then move
    /// between nodes (RESUME on any node, handoff on drain). Call before
    /// [`Gateway::start`].
    pub async fn join_cluster(&self, bus: Arc<nats::NatsBus>) -> anyhow::Result<()> {
        let (cluster, task) = handoff::Cluster::start(&self.hub, bus.clone()).await?;
        if self.hub.cluster.set(cluster).is_err() {
            anyhow::bail!("the gateway joined a cluster twice");
        }
        *self.keyed.lock().unwrap_or_else(|p| p.into_inner()) = Some(bus);
        self.keep(task);
        Ok(())
    }

    /// Subscribe to the bus and start the dispatcher and the session reaper.
    pub fn start(&self) {
        let rx = match &*self.keyed.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(bus) => hub::Source::Keyed(bus.subscribe_keyed()),
            None => hub::Source::Plain(self.hub.bus.subscribe()),
        };
        let dispatcher = tokio::spawn(self.hub.clone().run_dispatcher(rx));
        let reaper = tokio::spawn(self.hub.clone().run_reaper());
        let leases = tokio::spawn(self.hub.clone().run_leases(Duration::from_secs(30)));
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.push(dispatcher);
        tasks.push(reaper);
        tasks.push(leases);
    }

    /// Keep a background task of the gateway (stopped with it).
    pub(crate) fn keep(&self, task: JoinHandle<()>) {
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
    }

    /// The hub (for the HTTP layer and tests).
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// The presence of users as this node knows it.
    pub fn presences(&self) -> &Presences {
        &self.hub.presence
    }

    /// Tell every client to reconnect elsewhere (RECONNECT), wait for them to
    /// leave and, in a cluster, for their sessions to be taken over by the nodes
    /// they resume on (at most `drain_timeout_secs`), then stop the background
    /// tasks.
    pub async fn drain(&self) {
        self.hub
            .draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = self.drain.send(true);
        let open = || self.hub.open.load(std::sync::atomic::Ordering::SeqCst);
        let clustered = self.hub.cluster.get().is_some();
        let held = || {
            if clustered {
                self.hub.live_sessions()
            } else {
                0
            }
        };
        info!(
            connections = open(),
            "gateway draining: clients told to reconnect"
        );
        let deadline = Instant::now() + Duration::from_secs(self.hub.cfg.drain_timeout_secs);
        while (open() > 0 || held() > 0) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            t.abort();
        }
        info!(left = open(), sessions = held(), "gateway drained");
    }

    /// Share presence entries with the other nodes over NATS (`<prefix>.presence`).
    pub async fn share_presence(
        &self,
        client: async_nats::Client,
        prefix: &str,
    ) -> anyhow::Result<()> {
        let (store, task) = nats::NatsPresence::start(
            client,
            prefix,
            &self.hub.cfg.node,
            self.hub.presence.clone(),
        )
        .await?;
        self.hub.presence.set_backend(store);
        self.keep(task);
        Ok(())
    }

    /// A receiver of the drain signal, for new connections.
    pub(crate) fn drain_signal(&self) -> watch::Receiver<bool> {
        self.drain.subscribe()
    }
}
