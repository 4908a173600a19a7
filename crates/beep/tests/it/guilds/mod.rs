//! Guilds, channels, roles, members, bans, invites, discovery and the audit log
//! through the front door: every route over HTTP, its Discord v10 shapes, its
//! refusals, and the events the bus publishes.

mod bans;
mod channels;
mod discovery;
mod invites;
mod lifecycle;
mod members;
mod roles;

use std::sync::Arc;
use std::time::Duration;

use beep_core::events::Event;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::harness::{TestServer, TestUser};

/// A server, an owner and their guild (with its text and voice channels).
pub struct World {
    pub ts: TestServer,
    pub owner: TestUser,
    pub guild: String,
    pub text: String,
    pub voice: String,
}

/// A fresh server where `owner` created the guild `Hall`.
pub async fn world() -> World {
    world_with(|_| {}).await
}

/// Like [`world`], after adjusting the configuration.
pub async fn world_with(adjust: impl FnOnce(&mut beep::config::Config)) -> World {
    let ts = TestServer::start_with(adjust).await;
    let owner = ts.user("owner").await;
    let (guild, text, voice) = make_guild(&ts, &owner, "Hall").await;
    World {
        ts,
        owner,
        guild,
        text,
        voice,
    }
}

/// Create a guild; returns its id and the ids of its text and voice channels.
pub async fn make_guild(ts: &TestServer, owner: &TestUser, name: &str) -> (String, String, String) {
    let (s, g) = ts
        .post_as("/guilds", owner.auth(), &json!({"name": name}))
        .await;
    assert_eq!(s, 201, "create guild: {g}");
    let id = str_of(&g["id"]);
    let (s, chans) = ts
        .get(&format!("/guilds/{id}/channels"), owner.auth())
        .await;
    assert_eq!(s, 200, "channels: {chans}");
    let of = |kind: u64| {
        chans
            .as_array()
            .expect("array")
            .iter()
            .find(|c| c["type"] == kind)
            .map(|c| str_of(&c["id"]))
            .expect("default channel")
    };
    (id, of(0), of(2))
}

impl World {
    /// A new user who joined the guild through an invite.
    pub async fn member(&self, name: &str) -> TestUser {
        let u = self.ts.user(name).await;
        self.join(&u).await;
        u
    }

    /// `user` joins through a fresh invite of the owner's.
    pub async fn join(&self, user: &TestUser) {
        let code = self.invite(&json!({})).await;
        let (s, v) = self
            .ts
            .post_as(&format!("/invites/{code}"), user.auth(), &json!({}))
            .await;
        assert_eq!(s, 200, "join: {v}");
    }

    /// An invite to the text channel made by the owner; returns its code.
    pub async fn invite(&self, body: &Value) -> String {
        let (s, inv) = self
            .ts
            .post_as(
                &format!("/channels/{}/invites", self.text),
                self.owner.auth(),
                body,
            )
            .await;
        assert_eq!(s, 200, "invite: {inv}");
        str_of(&inv["code"])
    }

    /// A role created by the owner with these permissions; returns its id.
    pub async fn role(&self, name: &str, permissions: u64) -> String {
        let (s, r) = self
            .ts
            .post_as(
                &format!("/guilds/{}/roles", self.guild),
                self.owner.auth(),
                &json!({"name": name, "permissions": permissions.to_string()}),
            )
            .await;
        assert_eq!(s, 200, "role: {r}");
        str_of(&r["id"])
    }

    /// Give `user` the role, as the owner.
    pub async fn grant(&self, user: &TestUser, role: &str) {
        let (s, v) = self
            .ts
            .put(
                &format!("/guilds/{}/members/{}/roles/{role}", self.guild, user.id),
                self.owner.auth(),
                &json!({}),
            )
            .await;
        assert_eq!(s, 204, "grant: {v}");
    }

    /// `/guilds/{guild}` + `rest`.
    pub fn g(&self, rest: &str) -> String {
        format!("/guilds/{}{rest}", self.guild)
    }

    /// Every event the bus publishes from now on.
    pub fn events(&self) -> broadcast::Receiver<Arc<Event>> {
        self.ts
            .node
            .as_ref()
            .expect("in-process node")
            .services
            .bus
            .subscribe()
    }
}

/// The text of a JSON string.
pub fn str_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_owned()
}

/// The next event named `name` (others are skipped), within two seconds.
pub async fn expect_event(rx: &mut broadcast::Receiver<Arc<Event>>, name: &str) -> Arc<Event> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(e)) if e.name == name => return e,
            Ok(Ok(_)) => continue,
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => continue,
            Ok(Err(e)) => panic!("bus closed while waiting for {name}: {e}"),
            Err(_) => panic!("no {name} event within 2 s"),
        }
    }
}

/// Assert a Discord error body: status and JSON code.
#[track_caller]
pub fn assert_error(got: (u16, Value), status: u16, code: u64) {
    assert_eq!(got.0, status, "status; body {}", got.1);
    assert_eq!(got.1["code"], code, "code; body {}", got.1);
}

/// The entries of a guild's audit log (as `who`), newest first.
pub async fn audit(w: &World, query: &str) -> Value {
    let (s, log) =
        w.ts.get(&w.g(&format!("/audit-logs{query}")), w.owner.auth())
            .await;
    assert_eq!(s, 200, "audit log: {log}");
    log
}

/// The action types of the newest audit entries.
pub async fn audit_actions(w: &World) -> Vec<u64> {
    audit(w, "").await["audit_log_entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action_type"].as_u64().expect("action type"))
        .collect()
}
