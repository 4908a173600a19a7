//! Relationships, DMs and groups, pinned conversations, all my direct
//! messages, phone contacts and READY's social fields, through HTTP and the
//! gateway (issue 6).

mod channels;
mod contacts;
mod groups;
mod relationships;

use serde_json::{Value, json};

use crate::harness::{TestServer, TestUser};

pub use crate::messages::code;

/// `a` and `b` become friends (a asks, b accepts).
pub async fn befriend(ts: &TestServer, a: &TestUser, b: &TestUser) {
    let (s, v) = ts
        .put(
            &format!("/users/@me/relationships/{}", b.id),
            a.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "request: {v}");
    let (s, v) = ts
        .put(
            &format!("/users/@me/relationships/{}", a.id),
            b.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "accept: {v}");
}

/// `me`'s relationships as `(user id, type)`.
pub async fn rels(ts: &TestServer, me: &TestUser) -> Vec<(String, i64)> {
    let (s, v) = ts.get("/users/@me/relationships", me.auth()).await;
    assert_eq!(s, 200, "{v}");
    v.as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().expect("id").to_owned(),
                r["type"].as_i64().expect("type"),
            )
        })
        .collect()
}

/// Open (or get) the DM of `me` with `other`: status and body.
pub async fn open_dm(ts: &TestServer, me: &TestUser, other: &TestUser) -> (u16, Value) {
    ts.post_as(
        "/users/@me/channels",
        me.auth(),
        &json!({"recipient_id": other.id}),
    )
    .await
}

/// The DM of `me` with `other`'s id; panics unless it opens.
pub async fn dm_id(ts: &TestServer, me: &TestUser, other: &TestUser) -> String {
    let (s, v) = open_dm(ts, me, other).await;
    assert_eq!(s, 200, "open DM: {v}");
    v["id"].as_str().expect("channel id").to_owned()
}

/// Send `content` in `channel` as `who`: status and body.
pub async fn say(ts: &TestServer, who: &TestUser, channel: &str, content: &str) -> (u16, Value) {
    ts.post_as(
        &format!("/channels/{channel}/messages"),
        who.auth(),
        &json!({"content": content}),
    )
    .await
}

/// The ids of `me`'s private channels, in listing order.
pub async fn channel_ids(ts: &TestServer, me: &TestUser) -> Vec<String> {
    let (s, v) = ts.get("/users/@me/channels", me.auth()).await;
    assert_eq!(s, 200, "{v}");
    v.as_array()
        .expect("array")
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect()
}
