//! Notifications of direct messages, friend requests and accepts, blocks, and
//! the receipts of direct messages (sent → delivered → read) with a live
//! gateway session.

use std::time::Duration;

use serde_json::{Value, json};

use super::{inbox, mention, set};
use crate::gateway::client::Gw;
use crate::harness::{TestServer, TestUser};
use crate::messages::room;
use crate::social::{ask, create_private, dm_id, set_rel};

async fn say(ts: &TestServer, who: &TestUser, channel: &str, body: Value) -> Value {
    let (s, v) = ts
        .post_as(&format!("/channels/{channel}/messages"), who.auth(), &body)
        .await;
    assert_eq!(s, 200, "send {body}: {v}");
    v
}

#[tokio::test]
async fn direct_messages_notify_unless_muted_or_blocked() {
    let r = room().await;
    let ch = dm_id(&r.ts, &r.alice, &r.bob).await;
    let m = say(&r.ts, &r.alice, &ch, json!({"content": "psst"})).await;
    let list = inbox(&r.ts, &r.bob).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["type"], "direct_message");
    assert_eq!(list[0]["channel_id"].as_str(), Some(ch.as_str()));
    assert_eq!(list[0]["message_id"], m["id"]);
    assert_eq!(list[0]["guild_id"], json!(null));
    assert!(inbox(&r.ts, &r.alice).await.is_empty());

    // Direct messages muted through `@me`: an ordinary DM creates nothing.
    set(&r.ts, &r.bob, "@me", json!({"muted": true})).await;
    say(&r.ts, &r.alice, &ch, json!({"content": "still there?"})).await;
    assert_eq!(inbox(&r.ts, &r.bob).await.len(), 1);
    // ...and a channel override of the DM can be set through `@me` as well.
    let v = set(
        &r.ts,
        &r.bob,
        "@me",
        json!({"muted": false, "channel_overrides": [{"channel_id": ch, "message_notifications": 2}]}),
    )
    .await;
    assert_eq!(
        v["channel_overrides"][0]["channel_id"].as_str(),
        Some(ch.as_str())
    );
    say(&r.ts, &r.alice, &ch, json!({"content": "hello?"})).await;
    assert_eq!(inbox(&r.ts, &r.bob).await.len(), 1);
    // A DM the user is not in cannot be overridden.
    let carol = r.ts.user("carol").await;
    let (s, v) =
        r.ts.patch(
            "/users/@me/guilds/@me/settings",
            carol.auth(),
            &json!({"channel_overrides": [{"channel_id": ch, "muted": true}]}),
        )
        .await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(10003)), "{v}");
}

#[tokio::test]
async fn a_blocked_users_mentions_notify_nobody() {
    let r = room().await;
    let (s, v) = set_rel(&r.ts, &r.bob, &r.alice, json!({"type": 2})).await;
    assert_eq!(s, 204, "block: {v}");
    r.send_body(&r.alice, &mention(&r.bob, "hey")).await;
    r.send(&r.alice, "@everyone hey").await;
    assert!(inbox(&r.ts, &r.bob).await.is_empty(), "bob blocked alice");
    // The block holds the other way too: Bob's mention does not reach Alice.
    r.send_body(&r.bob, &mention(&r.alice, "hi")).await;
    assert!(inbox(&r.ts, &r.alice).await.is_empty());
}

#[tokio::test]
async fn friend_requests_and_accepts_notify() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let mut gw = Gw::connect(&ts).await;
    gw.ready(&bob.token, 1).await;
    let (s, v) = ask(&ts, &alice, "bob").await;
    assert_eq!(s, 204, "{v}");
    let d = gw.expect("NOTIFICATION_CREATE").await;
    assert_eq!(d["type"], "friend_request");
    assert_eq!(d["actor_id"].as_str(), Some(alice.id.as_str()));
    let list = inbox(&ts, &bob).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["type"], "friend_request");

    let (s, v) = set_rel(&ts, &bob, &alice, json!({})).await;
    assert_eq!(s, 204, "accept: {v}");
    let list = inbox(&ts, &alice).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["type"], "friend_accept");
    assert_eq!(list[0]["actor_id"].as_str(), Some(bob.id.as_str()));
    assert_eq!(
        inbox(&ts, &bob).await.len(),
        1,
        "accepting notifies only the asker"
    );

    // A blocked user's request is refused and notifies nobody.
    let carol = ts.user("carol").await;
    let (s, _) = set_rel(&ts, &bob, &carol, json!({"type": 2})).await;
    assert_eq!(s, 204);
    let (s, _) = ask(&ts, &carol, "bob").await;
    assert_ne!(s, 204);
    assert_eq!(inbox(&ts, &bob).await.len(), 1);
}

#[tokio::test]
async fn dm_receipts_go_sent_delivered_read() {
    let r = room().await;
    let ch = dm_id(&r.ts, &r.alice, &r.bob).await;
    let mut alice_gw = Gw::connect(&r.ts).await;
    alice_gw.ready(&r.alice.token, 1 << 12).await;

    // Bob is offline: the message stays `sent`.
    let m = say(&r.ts, &r.alice, &ch, json!({"content": "one"})).await;
    assert_eq!(m["receipt"], "sent", "{m}");
    let id = m["id"].as_str().expect("present").to_owned();
    let get = |who: TestUser| {
        let ts = &r.ts;
        let path = format!("/channels/{ch}/messages/{id}");
        async move {
            let (s, v) = ts.get(&path, who.auth()).await;
            assert_eq!(s, 200, "{v}");
            v["receipt"].as_str().unwrap_or_default().to_owned()
        }
    };
    assert_eq!(get(r.alice.clone()).await, "sent");

    // Bob comes online: the next message reaches his session and is `delivered`.
    let mut bob_gw = Gw::connect(&r.ts).await;
    bob_gw.ready(&r.bob.token, 1 << 12).await;
    let m2 = say(&r.ts, &r.alice, &ch, json!({"content": "two"})).await;
    bob_gw.expect("MESSAGE_CREATE").await;
    let d = alice_gw.expect("MESSAGE_RECEIPT_UPDATE").await;
    assert_eq!(d["receipt"], "delivered");
    assert_eq!(d["message_id"], m2["id"]);
    assert_eq!(d["channel_id"].as_str(), Some(ch.as_str()));
    let (s, page) =
        r.ts.get(&format!("/channels/{ch}/messages"), r.alice.auth())
            .await;
    assert_eq!(s, 200);
    let receipts: Vec<&str> = page
        .as_array()
        .expect("present")
        .iter()
        .map(|m| m["receipt"].as_str().expect("present"))
        .collect();
    assert_eq!(
        receipts,
        vec!["delivered", "delivered"],
        "a later delivery covers the earlier one"
    );

    // Bob reads: `read`.
    let (s, v) =
        r.ts.post_as(
            &format!(
                "/channels/{ch}/messages/{}/ack",
                m2["id"].as_str().expect("present")
            ),
            r.bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let d = alice_gw.expect("MESSAGE_RECEIPT_UPDATE").await;
    assert_eq!(d["receipt"], "read");
    assert_eq!(get(r.alice.clone()).await, "read");
    // Guild messages carry no receipt.
    let g = r.send(&r.alice, "in the guild").await;
    assert!(g.get("receipt").is_none(), "{g}");
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test]
async fn group_messages_notify_everyone_else_and_read_needs_all() {
    let r = room().await;
    let carol = r.ts.user("carol").await;
    crate::messages::join(&r.ts, &r.alice, &r.channel, &carol).await;
    let (s, g) = create_private(
        &r.ts,
        &r.alice,
        json!({"recipients": [r.bob.id, carol.id], "name": "trio"}),
    )
    .await;
    assert_eq!(s, 200, "group: {g}");
    let ch = g["id"].as_str().expect("present").to_owned();
    let m = say(&r.ts, &r.alice, &ch, json!({"content": "hi both"})).await;
    assert_eq!(m["receipt"], "sent");
    for u in [&r.bob, &carol] {
        let list = inbox(&r.ts, u).await;
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["type"], "direct_message");
    }
    assert!(inbox(&r.ts, &r.alice).await.is_empty());
    let ack = |who: TestUser| {
        let ts = &r.ts;
        let path = format!(
            "/channels/{ch}/messages/{}/ack",
            m["id"].as_str().expect("present")
        );
        async move {
            let (s, v) = ts.post_as(&path, who.auth(), &json!({})).await;
            assert_eq!(s, 200, "{v}");
        }
    };
    let receipt = || async {
        let (s, v) =
            r.ts.get(&format!("/channels/{ch}/messages"), r.alice.auth())
                .await;
        assert_eq!(s, 200, "{v}");
        v[0]["receipt"].as_str().expect("present").to_owned()
    };
    ack(r.bob.clone()).await;
    assert_eq!(receipt().await, "sent", "carol has not read it");
    ack(carol.clone()).await;
    assert_eq!(receipt().await, "read");
    // Reading cleared each reader's notification.
    assert_eq!(inbox(&r.ts, &carol).await[0]["read"], true);
}
