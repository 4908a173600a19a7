//! Messages through the front door: history, sending and its refusals, replies,
//! mentions, edits and deletes, pins, reactions, typing, read states, slow
//! mode, webhooks and bot applications, each checked over HTTP with the event
//! the bus publishes; a kill -9 test; and discord.py's REST client as referee.

mod apps;
mod crash;
mod discordpy;
mod history;
mod mentions;
mod pins;
mod reactions;
mod reads;
mod send;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use beep_core::events::{Audience, Event};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use crate::harness::{TestServer, TestUser};

/// A guild owned by Alice with Bob as a member, and its `general` channel.
pub struct Room {
    pub ts: TestServer,
    pub alice: TestUser,
    pub bob: TestUser,
    pub guild: String,
    pub channel: String,
}

/// A fresh server with a [`Room`].
pub async fn room() -> Room {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let (guild, channel) = guild(&ts, &alice, "Hall").await;
    join(&ts, &alice, &channel, &bob).await;
    Room {
        ts,
        alice,
        bob,
        guild,
        channel,
    }
}

/// A guild owned by `owner` and the id of its `general` text channel.
pub async fn guild(ts: &TestServer, owner: &TestUser, name: &str) -> (String, String) {
    let (s, g) = ts
        .post_as("/guilds", owner.auth(), &json!({"name": name}))
        .await;
    assert_eq!(s, 201, "create guild: {g}");
    let id = g["id"].as_str().expect("guild id").to_owned();
    let (s, chans) = ts
        .get(&format!("/guilds/{id}/channels"), owner.auth())
        .await;
    assert_eq!(s, 200, "channels: {chans}");
    let general = chans
        .as_array()
        .expect("array")
        .iter()
        .find(|c| c["type"] == 0)
        .expect("a text channel")["id"]
        .as_str()
        .expect("channel id")
        .to_owned();
    (id, general)
}

/// `user` joins through an invite to `channel` made by `inviter`.
pub async fn join(ts: &TestServer, inviter: &TestUser, channel: &str, user: &TestUser) {
    let (s, inv) = ts
        .post_as(
            &format!("/channels/{channel}/invites"),
            inviter.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "invite: {inv}");
    let code = inv["code"].as_str().expect("code");
    let (s, v) = ts
        .post_as(&format!("/invites/{code}"), user.auth(), &json!({}))
        .await;
    assert!(s == 200 || s == 201, "join: {s} {v}");
}

impl Room {
    /// Send `content` as `who` in the room's channel; panics unless 200.
    pub async fn send(&self, who: &TestUser, content: &str) -> Value {
        self.send_body(who, &json!({"content": content})).await
    }

    /// Send a JSON body as `who`; panics unless 200.
    pub async fn send_body(&self, who: &TestUser, body: &Value) -> Value {
        let (s, v) = self.try_send(who, body).await;
        assert_eq!(s, 200, "send {body}: {v}");
        v
    }

    /// Send a JSON body as `who`; the status and answer.
    pub async fn try_send(&self, who: &TestUser, body: &Value) -> (u16, Value) {
        self.ts
            .post_as(
                &format!("/channels/{}/messages", self.channel),
                who.auth(),
                body,
            )
            .await
    }

    /// The room's channel path plus `rest`.
    pub fn path(&self, rest: &str) -> String {
        format!("/channels/{}{rest}", self.channel)
    }

    /// Deny `bits` to `user` in the room's channel with a member overwrite.
    pub async fn deny(&self, user: &TestUser, bits: u64) {
        let (s, v) = self
            .ts
            .put(
                &self.path(&format!("/permissions/{}", user.id)),
                self.alice.auth(),
                &json!({"type": 1, "allow": "0", "deny": bits.to_string()}),
            )
            .await;
        assert!(s == 204 || s == 200, "overwrite: {s} {v}");
    }

    /// Watch the event bus of the node.
    pub fn events(&self) -> Events {
        events(&self.ts)
    }
}

/// A subscription to a node's event bus.
pub struct Events(broadcast::Receiver<Arc<Event>>);

/// Subscribe to the bus of the node behind `ts`.
pub fn events(ts: &TestServer) -> Events {
    Events(ts.node.as_ref().expect("node").services.bus.subscribe())
}

impl Events {
    /// The next event named `name` (others are skipped), within two seconds.
    pub async fn next(&mut self, name: &str) -> Arc<Event> {
        let wait = async {
            loop {
                match self.0.recv().await {
                    Ok(e) if e.name == name => return e,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => panic!("bus closed: {e}"),
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(2), wait)
            .await
            .unwrap_or_else(|_| panic!("no {name} event"))
    }

    /// Whether an event named `name` comes within 200 ms.
    pub async fn none(&mut self, name: &str) -> bool {
        let wait = async {
            loop {
                match self.0.recv().await {
                    Ok(e) if e.name == name => return false,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return true,
                }
            }
        };
        tokio::time::timeout(Duration::from_millis(200), wait)
            .await
            .unwrap_or(true)
    }
}

/// Check an event goes to the members of `guild` who can view `channel`, with
/// the intent bit `intent`.
#[track_caller]
pub fn assert_channel_audience(e: &Event, guild: &str, channel: &str, intent: u32) {
    match &e.audience {
        Audience::Guild {
            guild_id,
            channel_id,
        } => {
            assert_eq!(guild_id.to_string(), guild, "{}", e.name);
            assert_eq!(
                channel_id.map(|c| c.to_string()).as_deref(),
                Some(channel),
                "{}",
                e.name
            );
        }
        other => panic!("{}: expected a guild audience, got {other:?}", e.name),
    }
    assert_eq!(e.intent, Some(intent), "{}", e.name);
}

/// The error code of a Discord error body.
pub fn code(v: &Value) -> i64 {
    v["code"].as_i64().unwrap_or(-1)
}
