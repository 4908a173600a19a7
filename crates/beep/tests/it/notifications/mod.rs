//! Notifications through the front door: the inbox (list, pages, read, read
//! all, refusals), who a message notifies (mentions, replies, everyone, roles,
//! settings, mutes, snoozes, channel overrides), the gateway events, and the
//! missed-mention digest mailed to a real SMTP server.

mod digest;
mod inbox;
mod settings;
mod social;

use serde_json::{Value, json};

use crate::harness::{TestServer, TestUser};

/// `user`'s inbox (newest first); panics unless 200.
pub async fn inbox(ts: &TestServer, user: &TestUser) -> Vec<Value> {
    let (s, v) = ts.get("/users/@me/notifications", user.auth()).await;
    assert_eq!(s, 200, "inbox: {v}");
    v.as_array().expect("array").clone()
}

/// PATCH `user`'s settings of `guild` (or `@me`); panics unless 200.
pub async fn set(ts: &TestServer, user: &TestUser, guild: &str, body: Value) -> Value {
    let (s, v) = ts
        .patch(
            &format!("/users/@me/guilds/{guild}/settings"),
            user.auth(),
            &body,
        )
        .await;
    assert_eq!(s, 200, "settings {body}: {v}");
    v
}

/// Mention `user` in a message.
pub fn mention(user: &TestUser, text: &str) -> Value {
    json!({"content": format!("<@{}> {text}", user.id)})
}
