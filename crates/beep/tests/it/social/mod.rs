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
    let (s, v) = set_rel(ts, a, b, json!({})).await;
    assert_eq!(s, 204, "request: {v}");
    let (s, v) = set_rel(ts, b, a, json!({})).await;
    assert_eq!(s, 204, "accept: {v}");
}

/// `who` asks the user named `username` to be friends: status and body.
pub(crate) async fn ask(ts: &TestServer, who: &TestUser, username: &str) -> (u16, Value) {
    ts.post_as(
        "/users/@me/relationships",
        who.auth(),
        &json!({"username": username}),
    )
    .await
}

/// Set `me`'s relationship with `other` to `body`: status and body.
pub(crate) async fn set_rel(
    ts: &TestServer,
    me: &TestUser,
    other: &TestUser,
    body: Value,
) -> (u16, Value) {
    ts.put(
        &format!("/users/@me/relationships/{}", other.id),
        me.auth(),
        &body,
    )
    .await
}

/// Remove `me`'s relationship with `other`: status and body.
pub(crate) async fn remove_rel(ts: &TestServer, me: &TestUser, other: &TestUser) -> (u16, Value) {
    ts.delete(&format!("/users/@me/relationships/{}", other.id), me.auth())
        .await
}

/// Create (or get) a private channel of `me` from `body`: status and body.
pub(crate) async fn create_private(ts: &TestServer, me: &TestUser, body: Value) -> (u16, Value) {
    ts.post_as("/users/@me/channels", me.auth(), &body).await
}

/// Pin `channel` in `who`'s list: status and body.
pub(crate) async fn pin(ts: &TestServer, who: &TestUser, channel: &str) -> (u16, Value) {
    ts.put(
        &format!("/users/@me/channels/{channel}/pin"),
        who.auth(),
        &json!({}),
    )
    .await
}

/// Unpin `channel` in `who`'s list: status and body.
pub(crate) async fn unpin(ts: &TestServer, who: &TestUser, channel: &str) -> (u16, Value) {
    ts.delete(&format!("/users/@me/channels/{channel}/pin"), who.auth())
        .await
}

/// `who` adds `member` to the group `group`: status and body.
pub(crate) async fn add_recipient(
    ts: &TestServer,
    who: &TestUser,
    group: &str,
    member: &TestUser,
) -> (u16, Value) {
    ts.put(
        &format!("/channels/{group}/recipients/{}", member.id),
        who.auth(),
        &json!({}),
    )
    .await
}

/// `who` removes `member` from the group `group`: status and body.
pub(crate) async fn remove_recipient(
    ts: &TestServer,
    who: &TestUser,
    group: &str,
    member: &TestUser,
) -> (u16, Value) {
    ts.delete(
        &format!("/channels/{group}/recipients/{}", member.id),
        who.auth(),
    )
    .await
}

/// `PATCH /users/@me/phone` as `who`: status and body.
pub(crate) async fn set_phone(ts: &TestServer, who: &TestUser, body: Value) -> (u16, Value) {
    ts.patch("/users/@me/phone", who.auth(), &body).await
}

/// Submit a phone verification `body` (`{"code": ..}`) as `who`: status and body.
pub(crate) async fn phone_code(ts: &TestServer, who: &TestUser, body: Value) -> (u16, Value) {
    ts.post_as("/users/@me/phone/verify", who.auth(), &body)
        .await
}

/// Look up contacts from `body` (`{"phone_numbers": [..]}`) as `who`: status and body.
pub(crate) async fn find_contacts(ts: &TestServer, who: &TestUser, body: Value) -> (u16, Value) {
    ts.post_as("/users/@me/contacts", who.auth(), &body).await
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
    create_private(ts, me, json!({"recipient_id": other.id})).await
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
