//! The event bus and presence store between nodes, over NATS.
//!
//! [`NatsBus`] implements [`EventBus`]: an event is delivered to this node's
//! subscribers at once and published on NATS under one subject per guild
//! (`<prefix>.g.<guild_id>`) or per addressed user (`<prefix>.u.<user_id>`). A node
//! subscribes only to the subjects it has an interest in (guilds and users with
//! sessions here, told by the gateway through [`EventBus::set_interest`]), and
//! skips its own events when they come back. Core NATS is enough here: events are
//! real-time notifications, the database stays the source of truth, and a client
//! that missed some catches up through REST history.
//!
//! [`NatsPresence`] shares every node's presence entries, so any node knows any
//! user's presence.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use beep_core::events::{Audience, Event, EventBus, Topic};
use beep_types::{ChannelId, GuildId, UserId};
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::presence::{NodeEntry, PresenceBackend, Presences};
use crate::protocol;
use crate::session::EventKey;

/// An event as it travels between nodes.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    /// Dispatch name.
    n: String,
    /// Payload.
    d: Value,
    /// Guild audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    g: Option<GuildId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    c: Option<ChannelId>,
    /// User audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    u: Option<Vec<UserId>>,
    /// Intent bit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    i: Option<u32>,
    /// The publishing node, to skip our own events coming back.
    o: u64,
    /// The event's number on the publishing node (with `o`, its identity).
    #[serde(default)]
    q: u64,
}

/// Most distinct dispatch names accepted from the wire (names are a closed set
/// in the code; this only bounds what a misbehaving peer could make us keep).
const MAX_NAMES: usize = 4096;

/// The `&'static str` for a dispatch name read from the wire.
pub(crate) fn intern(name: &str) -> Option<&'static str> {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    if !protocol::is_dispatch_name(name) {
        return None;
    }
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(n) = names.get(name) {
        return Some(n);
    }
    if names.len() >= MAX_NAMES {
        return None;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    Some(leaked)
}

/// The event bus of a node in a cluster.
pub struct NatsBus {
    client: async_nats::Client,
    prefix: String,
    origin: u64,
    local: broadcast::Sender<Arc<Event>>,
    /// The same events with their cluster identity, for the gateway.
    keyed: broadcast::Sender<(EventKey, Arc<Event>)>,
    counter: AtomicU64,
    outgoing: mpsc::UnboundedSender<(String, Bytes)>,
    subs: Mutex<HashMap<Topic, Sub>>,
}

/// A subscription to a topic, and whether NATS has been asked for it yet.
struct Sub {
    task: JoinHandle<()>,
    ready: watch::Receiver<bool>,
}

impl std::fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsBus")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl NatsBus {
    /// Connect to NATS at `url`; subjects start with `prefix`.
    pub async fn connect(url: &str, prefix: &str, capacity: usize) -> anyhow::Result<Arc<NatsBus>> {
        let client = async_nats::ConnectOptions::new()
            .name("beep")
            .connection_timeout(Duration::from_secs(5))
            .connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to NATS at {url}: {e}"))?;
        Ok(Self::with_client(client, prefix, capacity))
    }

    /// A bus over an open client.
    pub fn with_client(client: async_nats::Client, prefix: &str, capacity: usize) -> Arc<NatsBus> {
        let (outgoing, mut rx) = mpsc::unbounded_channel::<(String, Bytes)>();
        let publisher = client.clone();
        tokio::spawn(async move {
            while let Some((subject, payload)) = rx.recv().await {
                if let Err(e) = publisher.publish(subject, payload).await {
                    warn!(error = %e, "cannot publish an event on NATS");
                    metrics::counter!("beep_nats_publish_errors_total").increment(1);
                }
            }
        });
        Arc::new(NatsBus {
            client,
            prefix: prefix.trim_end_matches('.').to_string(),
            origin: rand::random(),
            local: broadcast::channel(capacity.max(16)).0,
            keyed: broadcast::channel(capacity.max(16)).0,
            counter: AtomicU64::new(1),
            outgoing,
            subs: Mutex::default(),
        })
    }

    /// The NATS client (shared with the presence store).
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The subject prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// This node's identity on the bus (the first part of every [`EventKey`] it
    /// publishes).
    pub fn origin(&self) -> u64 {
        self.origin
    }

    /// Every event with its cluster identity (what the gateway reads).
    pub fn subscribe_keyed(&self) -> broadcast::Receiver<(EventKey, Arc<Event>)> {
        self.keyed.subscribe()
    }

    /// Wait until the subscriptions of `topics` have been sent to NATS (at most
    /// `within`): anything this client publishes afterwards reaches the server
    /// after them, so the server routes to this node whatever is published after
    /// that message is handled.
    pub async fn interest_ready(&self, topics: &[Topic], within: Duration) -> bool {
        let waits: Vec<watch::Receiver<bool>> = {
            let subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
            topics
                .iter()
                .filter_map(|t| subs.get(t).map(|s| s.ready.clone()))
                .collect()
        };
        let all = async {
            for mut w in waits {
                if w.wait_for(|r| *r).await.is_err() {
                    return false;
                }
            }
            true
        };
        tokio::time::timeout(within, all).await.unwrap_or(false)
    }

    fn subject(&self, topic: Topic) -> String {
        match topic {
            Topic::Guild(g) => format!("{}.g.{g}", self.prefix),
            Topic::User(u) => format!("{}.u.{u}", self.prefix),
        }
    }

    fn send(&self, topic: Topic, wire: &Wire) {
        match serde_json::to_vec(wire) {
            Ok(b) => {
                let _ = self.outgoing.send((self.subject(topic), Bytes::from(b)));
            }
            Err(e) => warn!(error = %e, "cannot serialize an event for NATS"),
        }
    }

    /// Wait until NATS has everything published so far (tests and shutdown).
    pub async fn flush(&self) {
        // The publisher task drains in order; a short pause lets it catch up
        // before the client's own flush.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = self.client.flush().await;
    }
}

impl EventBus for NatsBus {
    fn publish(&self, event: Event) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut wire = Wire {
            n: event.name.to_string(),
            d: event.data.clone(),
            g: None,
            c: None,
            u: None,
            i: event.intent,
            o: self.origin,
            q: n,
        };
        match &event.audience {
            Audience::Guild {
                guild_id,
                channel_id,
            } => {
                wire.g = Some(*guild_id);
                wire.c = *channel_id;
                self.send(Topic::Guild(*guild_id), &wire);
            }
            Audience::Users(users) => {
                // One message per user subject, each addressed to that user only,
                // so a node holding several of them does not deliver twice.
                for u in users {
                    wire.u = Some(vec![*u]);
                    self.send(Topic::User(*u), &wire);
                }
            }
        }
        let event = Arc::new(event);
        let _ = self
            .keyed
            .send((EventKey(self.origin, n, 0), event.clone()));
        let _ = self.local.send(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.local.subscribe()
    }

    fn set_interest(&self, topic: Topic, on: bool) {
        let mut subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        if !on {
            if let Some(t) = subs.remove(&topic) {
                t.task.abort();
            }
            return;
        }
        if subs.get(&topic).is_some_and(|t| !t.task.is_finished()) {
            return;
        }
        let client = self.client.clone();
        let subject = self.subject(topic);
        let local = self.local.clone();
        let keyed = self.keyed.clone();
        let origin = self.origin;
        let (ready_tx, ready) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut sub = match client.subscribe(subject.clone()).await {
                Ok(s) => s,
                Err(e) => {
                    warn!(%subject, error = %e, "cannot subscribe on NATS");
                    return;
                }
            };
            let _ = ready_tx.send(true);
            while let Some(msg) = sub.next().await {
                let Ok(w) = serde_json::from_slice::<Wire>(&msg.payload) else {
                    debug!(%subject, "undecodable event from NATS");
                    continue;
                };
                if w.o == origin {
                    continue;
                }
                let Some(name) = intern(&w.n) else {
                    continue;
                };
                let audience = match (w.g, w.u) {
                    (Some(guild_id), _) => Audience::Guild {
                        guild_id,
                        channel_id: w.c,
                    },
                    (None, Some(users)) => Audience::Users(users),
                    (None, None) => continue,
                };
                metrics::counter!("beep_nats_events_received_total").increment(1);
                let event = Arc::new(Event {
                    name,
                    data: w.d,
                    audience,
                    intent: w.i,
                });
                let _ = keyed.send((EventKey(w.o, w.q, 0), event.clone()));
                let _ = local.send(event);
            }
        });
        subs.insert(topic, Sub { task, ready });
    }
}

/// A presence entry as it travels between nodes.
#[derive(Debug, Serialize, Deserialize)]
struct PresenceWire {
    user: UserId,
    node: String,
    entry: NodeEntry,
}

/// Presence entries shared over core NATS on `<prefix>.presence`: each node
/// publishes its entries when they change and every 30 s while users are online
/// (so other nodes can tell a dead node's entries are stale), and answers a
/// starting node's request on `<prefix>.presence.sync` with every entry it owns.
/// Presence needs no durability: it is rebuilt from the live nodes.
pub struct NatsPresence {
    client: async_nats::Client,
    subject: String,
    node: String,
}

impl NatsPresence {
    /// Start sharing `presences` (this node's entries go out, others' come in).
    /// Returns the backend and the task that mirrors the other nodes.
    pub async fn start(
        client: async_nats::Client,
        prefix: &str,
        node: &str,
        presences: Presences,
    ) -> anyhow::Result<(Arc<NatsPresence>, JoinHandle<()>)> {
        let prefix = prefix.trim_end_matches('.');
        let subject = format!("{prefix}.presence");
        let sync_subject = format!("{prefix}.presence.sync");
        let mut updates = client
            .subscribe(subject.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot subscribe to {subject}: {e}"))?;
        let mut syncs = client
            .subscribe(sync_subject.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot subscribe to {sync_subject}: {e}"))?;
        let me = Arc::new(NatsPresence {
            client: client.clone(),
            subject,
            node: node.to_string(),
        });
        // Ask the running nodes for what they hold.
        let _ = client
            .publish(sync_subject.clone(), Bytes::from(node.to_string()))
            .await;
        let backend = me.clone();
        let task = tokio::spawn(async move {
            let mut refresh = tokio::time::interval(Duration::from_secs(30));
            loop {
                tokio::select! {
                    msg = updates.next() => {
                        let Some(msg) = msg else { return };
                        let Ok(w) = serde_json::from_slice::<PresenceWire>(&msg.payload) else { continue };
                        if w.node != backend.node {
                            presences.remote(w.user, &w.node, w.entry).await;
                        }
                    }
                    req = syncs.next() => {
                        let Some(req) = req else { return };
                        if req.payload.as_ref() == backend.node.as_bytes() {
                            continue;
                        }
                        for (user, entry) in presences.own_entries() {
                            backend.put(user, &entry).await;
                        }
                    }
                    _ = refresh.tick() => presences.heartbeat().await,
                }
            }
        });
        info!(node, "presence shared through NATS");
        Ok((me, task))
    }
}

#[async_trait]
impl PresenceBackend for NatsPresence {
    async fn put(&self, user: UserId, entry: &NodeEntry) {
        let wire = PresenceWire {
            user,
            node: self.node.clone(),
            entry: entry.clone(),
        };
        let Ok(b) = serde_json::to_vec(&wire) else {
            return;
        };
        if let Err(e) = self
            .client
            .publish(self.subject.clone(), Bytes::from(b))
            .await
        {
            warn!(error = %e, "cannot publish a presence entry on NATS");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_interned_and_checked() {
        let a = intern("MESSAGE_CREATE").expect("valid");
        let b = intern("MESSAGE_CREATE").expect("valid");
        assert!(std::ptr::eq(a, b));
        assert!(intern("bad name").is_none());
    }
}
