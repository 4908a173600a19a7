//! Presence: what status (online, idle, dnd, invisible, offline) and activities a
//! user shows, and when they were last seen.
//!
//! Each node knows the sessions it holds and writes one entry per user it has
//! sessions for ("node entry"). A user's presence is the aggregate of the entries
//! of every node: the most recent non-offline entry wins; with none the user is
//! offline and `last_seen` tells since when. On one node the entries live in
//! memory; in a cluster every node also publishes its entries on NATS and mirrors
//! the others' ([`crate::nats`]), so any node answers `GET /users/{id}/presence`.
//!
//! A change of what others see is published as PRESENCE_UPDATE, one per guild of
//! the user (gated by GUILD_PRESENCES) and one to the user's friends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use beep_core::events::{Audience, Event};
use beep_types::{Intents, UserId};
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::broadcast;
use tracing::warn;

use crate::hub::Hub;
use crate::protocol::{PresenceUpdate, Status};
use crate::session::Session;

/// One node's view of one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// The status the user set (invisible included).
    pub status: Status,
    pub activities: Vec<Value>,
    /// `{"desktop"|"mobile"|"web": status}`.
    pub client_status: Value,
    /// When this entry was written (refreshed periodically while online).
    pub updated_at: DateTime<Utc>,
    /// When the status last changed.
    pub changed_at: DateTime<Utc>,
}

/// A user's presence as others see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PresenceView {
    pub user_id: UserId,
    /// `online`, `idle`, `dnd` or `offline` (invisible shows as offline).
    pub status: Status,
    pub activities: Vec<Value>,
    pub client_status: Value,
    /// When the user was last online (null if never seen by this cluster).
    pub last_seen: Option<DateTime<Utc>>,
}

/// Where node entries are shared with other nodes.
#[async_trait]
pub trait PresenceBackend: Send + Sync {
    /// Store this node's entry for a user.
    async fn put(&self, user: UserId, entry: &NodeEntry);
}

/// The status one session set.
#[derive(Debug, Clone)]
struct SessionPresence {
    status: Status,
    activities: Vec<Value>,
    client: &'static str,
    at: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    /// Sessions of this node, per user.
    local: HashMap<UserId, HashMap<Arc<str>, SessionPresence>>,
    /// Node entries per user (this node's under `node`).
    entries: HashMap<UserId, HashMap<String, NodeEntry>>,
}

/// Presence of the users this node knows about.
#[derive(Clone)]
pub struct Presences {
    node: Arc<str>,
    /// Entries of other nodes older than this are stale (their node died).
    stale_after: ChronoDuration,
    state: Arc<Mutex<State>>,
    changes: broadcast::Sender<Arc<PresenceView>>,
    backend: Arc<Mutex<Option<Arc<dyn PresenceBackend>>>>,
}

impl std::fmt::Debug for Presences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presences")
            .field("node", &self.node)
            .finish()
    }
}

impl Presences {
    /// Presences of node `node`.
    pub fn new(node: &str, stale_after: std::time::Duration) -> Presences {
        Presences {
            node: node.into(),
            stale_after: ChronoDuration::from_std(stale_after)
                .unwrap_or_else(|_| ChronoDuration::seconds(90)),
            state: Arc::default(),
            changes: broadcast::channel(1024).0,
            backend: Arc::default(),
        }
    }

    /// Share entries through `backend` from now on.
    pub fn set_backend(&self, backend: Arc<dyn PresenceBackend>) {
        *self.backend.lock().unwrap_or_else(|p| p.into_inner()) = Some(backend);
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes of what others see, for the EventSource stream.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<PresenceView>> {
        self.changes.subscribe()
    }

    /// Make the EventSource streams about `user` re-check who may watch them
    /// (they get the current state again if still allowed).
    pub(crate) fn nudge(&self, user: UserId) {
        let _ = self.changes.send(Arc::new(self.get(user)));
    }

    /// The presence of `user` as others see it.
    pub fn get(&self, user: UserId) -> PresenceView {
        let st = self.state();
        self.view_of(&st, user)
    }

    fn view_of(&self, st: &State, user: UserId) -> PresenceView {
        let now = Utc::now();
        let mut best: Option<&NodeEntry> = None;
        let mut last_seen: Option<DateTime<Utc>> = None;
        if let Some(entries) = st.entries.get(&user) {
            for (node, e) in entries {
                let fresh = **node == *self.node || now - e.updated_at <= self.stale_after;
                // An invisible user must not look present: its last sighting is
                // when it went invisible, like an offline user's is when it left.
                let seen = match e.status {
                    Status::Offline | Status::Invisible => e.changed_at,
                    _ if fresh => now,
                    _ => e.updated_at,
                };
                last_seen = Some(last_seen.map_or(seen, |l| l.max(seen)));
                if fresh
                    && e.status != Status::Offline
                    && best.is_none_or(|b| e.changed_at > b.changed_at)
                {
                    best = Some(e);
                }
            }
        }
        match best {
            Some(e) => PresenceView {
                user_id: user,
                status: e.status.public(),
                activities: if e.status == Status::Invisible {
                    Vec::new()
                } else {
                    e.activities.clone()
                },
                client_status: if e.status == Status::Invisible {
                    json!({})
                } else {
                    e.client_status.clone()
                },
                last_seen,
            },
            None => PresenceView {
                user_id: user,
                status: Status::Offline,
                activities: Vec::new(),
                client_status: json!({}),
                last_seen,
            },
        }
    }

    /// This node's entry for `user`, from its sessions here.
    fn local_entry(&self, st: &State, user: UserId) -> NodeEntry {
        let now = Utc::now();
        let sessions = st.local.get(&user);
        let latest = sessions.and_then(|m| m.values().max_by_key(|p| p.at));
        let mut client_status = serde_json::Map::new();
        if let Some(m) = sessions {
            for p in m.values() {
                if p.status != Status::Invisible && p.status != Status::Offline {
                    client_status.insert(p.client.into(), json!(p.status.as_str()));
                }
            }
        }
        NodeEntry {
            status: latest.map_or(Status::Offline, |p| p.status),
            activities: latest.map(|p| p.activities.clone()).unwrap_or_default(),
            client_status: Value::Object(client_status),
            updated_at: now,
            changed_at: latest.map_or(now, |p| p.at),
        }
    }

    /// A session of `s.user()` started (IDENTIFY) with an optional initial presence.
    pub async fn session_started(
        &self,
        hub: &Arc<Hub>,
        s: &Session,
        initial: Option<PresenceUpdate>,
    ) {
        let (status, activities) = initial
            .map(|p| (p.status, p.activities))
            .unwrap_or((Status::Online, Vec::new()));
        self.set_session(hub, s, status, activities).await;
    }

    /// The status and activities a session of this node set.
    pub fn session_status(&self, s: &Session) -> Option<(Status, Vec<Value>)> {
        let st = self.state();
        st.local
            .get(&s.user())
            .and_then(|m| m.get(&s.id))
            .map(|p| (p.status, p.activities.clone()))
    }

    /// A session that moved here from another node keeps the status it had.
    pub async fn session_arrived(
        &self,
        hub: &Arc<Hub>,
        s: &Session,
        status: Status,
        activities: Vec<Value>,
    ) {
        self.set_session(hub, s, status, activities).await;
    }

    /// PRESENCE_UPDATE (op 3) from a session.
    pub async fn update(&self, hub: &Arc<Hub>, s: &Session, p: PresenceUpdate) {
        self.set_session(hub, s, p.status, p.activities).await;
    }

    async fn set_session(
        &self,
        hub: &Arc<Hub>,
        s: &Session,
        status: Status,
        activities: Vec<Value>,
    ) {
        let client = s.client;
        {
            let mut st = self.state();
            st.local.entry(s.user()).or_default().insert(
                s.id.clone(),
                SessionPresence {
                    status,
                    activities,
                    client,
                    at: Utc::now(),
                },
            );
        }
        self.refresh_user(hub, s.user()).await;
    }

    /// A session ended for good.
    pub async fn session_gone(&self, hub: &Arc<Hub>, s: &Session) {
        {
            let mut st = self.state();
            if let Some(m) = st.local.get_mut(&s.user()) {
                m.remove(&s.id);
                if m.is_empty() {
                    st.local.remove(&s.user());
                }
            }
        }
        self.refresh_user(hub, s.user()).await;
    }

    /// Recompute this node's entry for `user`, store it, and publish a change.
    async fn refresh_user(&self, hub: &Arc<Hub>, user: UserId) {
        let entry = {
            let st = self.state();
            self.local_entry(&st, user)
        };
        self.apply(user, &self.node.clone(), entry.clone(), Some(hub))
            .await;
        let backend = self
            .backend
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(b) = backend {
            b.put(user, &entry).await;
        }
    }

    /// Rewrite every entry of this node for users online here, so other nodes do
    /// not take them for stale (called periodically in a cluster).
    pub async fn heartbeat(&self) {
        let backend = self
            .backend
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(b) = backend else {
            return;
        };
        let users: Vec<UserId> = self.state().local.keys().copied().collect();
        for u in users {
            let entry = {
                let mut st = self.state();
                let e = self.local_entry(&st, u);
                st.entries
                    .entry(u)
                    .or_default()
                    .insert(self.node.to_string(), e.clone());
                e
            };
            b.put(u, &entry).await;
        }
    }

    /// This node's entries (online users and those who left through it).
    pub fn own_entries(&self) -> Vec<(UserId, NodeEntry)> {
        let st = self.state();
        st.entries
            .iter()
            .filter_map(|(u, m)| m.get(&*self.node).map(|e| (*u, e.clone())))
            .collect()
    }

    /// An entry written by another node (from the backend's watch).
    pub async fn remote(&self, user: UserId, node: &str, entry: NodeEntry) {
        if node == &*self.node {
            return;
        }
        self.apply(user, node, entry, None).await;
    }

    /// Store an entry; when what others see changes, tell the streams and, for
    /// this node's own changes, publish PRESENCE_UPDATE.
    async fn apply(&self, user: UserId, node: &str, entry: NodeEntry, publish: Option<&Arc<Hub>>) {
        let (before, after) = {
            let mut st = self.state();
            let before = self.view_of(&st, user);
            st.entries
                .entry(user)
                .or_default()
                .insert(node.to_string(), entry);
            (before, self.view_of(&st, user))
        };
        let visible_change = before.status != after.status
            || before.activities != after.activities
            || before.client_status != after.client_status;
        if before != after {
            let _ = self.changes.send(Arc::new(after.clone()));
        }
        if let (true, Some(hub)) = (visible_change, publish) {
            publish_update(hub, &after).await;
        }
    }
}

/// The `d` of a PRESENCE_UPDATE without `guild_id` (a friend's presence).
pub(crate) fn update_json(v: &PresenceView) -> Value {
    json!({
        "user": {"id": v.user_id},
        "status": v.status.as_str(),
        "activities": v.activities,
        "client_status": v.client_status,
    })
}

/// PRESENCE_UPDATE to every guild of the user and to its friends.
async fn publish_update(hub: &Arc<Hub>, v: &PresenceView) {
    let guilds = match hub.dir.guild_ids(v.user_id).await {
        Ok(g) => g,
        Err(e) => {
            warn!(user = %v.user_id, error = %e, "cannot list guilds to publish a presence");
            Vec::new()
        }
    };
    let base = update_json(v);
    let intent = Some(Intents::GUILD_PRESENCES.bits() as u32);
    for g in guilds {
        let mut d = base.clone();
        d["guild_id"] = json!(g);
        hub.bus.publish(Event {
            name: "PRESENCE_UPDATE",
            data: d,
            audience: Audience::Guild {
                guild_id: g,
                channel_id: None,
            },
            intent,
        });
    }
    if let Ok(friends) = hub.dir.friends(v.user_id).await
        && !friends.is_empty()
    {
        hub.bus.publish(Event {
            name: "PRESENCE_UPDATE",
            data: base,
            audience: Audience::Users(friends),
            intent,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: Status, ago_s: i64, changed_ago_s: i64) -> NodeEntry {
        let now = Utc::now();
        NodeEntry {
            status,
            activities: vec![],
            client_status: json!({}),
            updated_at: now - ChronoDuration::seconds(ago_s),
            changed_at: now - ChronoDuration::seconds(changed_ago_s),
        }
    }

    #[test]
    fn aggregate_picks_latest_fresh_status() {
        let p = Presences::new("a", std::time::Duration::from_secs(90));
        let u = UserId(beep_types::Snowflake(7));
        {
            let mut st = p.state();
            let m = st.entries.entry(u).or_default();
            m.insert("b".into(), entry(Status::Idle, 10, 100));
            m.insert("c".into(), entry(Status::Dnd, 10, 50));
            m.insert("d".into(), entry(Status::Online, 500, 1));
        }
        let v = p.get(u);
        assert_eq!(v.status, Status::Dnd, "d is stale, c is the latest change");
        {
            let mut st = p.state();
            let m = st.entries.entry(u).or_default();
            m.insert("b".into(), entry(Status::Offline, 5, 5));
            m.insert("c".into(), entry(Status::Invisible, 5, 5));
        }
        let v = p.get(u);
        assert_eq!(v.status, Status::Offline, "invisible shows as offline");
        assert!(v.last_seen.is_some());
    }
}
