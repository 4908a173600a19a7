//! RESUME: a dropped session gets exactly what it missed, in order, then RESUMED.

use serde_json::json;

use beep_core::events::{Audience, Event};
use beep_types::UserId;

use super::{Gw, UNPRIVILEGED, bot};
use crate::harness::TestServer;

fn publish_to(ts: &TestServer, user: &str, n: u64) {
    let node = ts.node.as_ref().expect("node");
    let u: UserId = user.parse().expect("id");
    node.services.bus.publish(Event {
        name: "BEEP_TEST_EVENT",
        data: json!({"n": n}),
        audience: Audience::Users(vec![u]),
        intent: None,
    });
}

#[tokio::test]
async fn resume_replays_exactly_what_was_missed_in_order() {
    let ts = TestServer::start().await;
    let (id, token) = bot(&ts, "resume_bot").await;
    let mut g = Gw::connect(&ts).await;
    g.ready(&token, UNPRIVILEGED).await;
    publish_to(&ts, &id, 0);
    let d = g.expect("BEEP_TEST_EVENT").await;
    assert_eq!(d["n"], 0);
    let (session_id, seq) = (g.session_id.clone().expect("session"), g.seq.expect("seq"));
    // The connection breaks without a close frame; 50 events happen meanwhile.
    g.drop_connection();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    for n in 1..=50 {
        publish_to(&ts, &id, n);
    }
    let mut g = Gw::connect(&ts).await;
    g.send(json!({"op": 6, "d": {"token": token, "session_id": session_id, "seq": seq}}))
        .await;
    for n in 1..=50 {
        let v = g.next_frame().await;
        assert_eq!(v["t"], "BEEP_TEST_EVENT", "{v}");
        assert_eq!(v["d"]["n"], n, "in order");
        assert_eq!(v["s"], seq + n, "numbered after the last one seen");
    }
    let v = g.next_frame().await;
    assert_eq!(v["t"], "RESUMED", "{v}");
    // The session goes on.
    publish_to(&ts, &id, 51);
    assert_eq!(g.expect("BEEP_TEST_EVENT").await["n"], 51);
    ts.stop().await;
}

#[tokio::test]
async fn resume_replays_fifty_messages_posted_meanwhile() {
    use super::fanout::{GUILD_MESSAGES, GUILDS, MESSAGE_CONTENT, guild, join};
    let ts = TestServer::start().await;
    let alice = ts.user("resume_alice").await;
    let (_, general) = guild(&ts, &alice.id, "Resume").await;
    let (bot_id, token) = bot(&ts, "resume_msg_bot").await;
    join(&ts, &alice.id, general, &bot_id).await;
    let mut g = Gw::connect(&ts).await;
    g.ready(&token, GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT)
        .await;
    g.expect("GUILD_CREATE").await;
    g.heartbeat().await;
    g.expect_op(11).await;
    let (session_id, seq) = (g.session_id.clone().expect("session"), g.seq.expect("seq"));
    g.drop_connection();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut ids = Vec::new();
    for n in 1..=50 {
        let (s, m) = ts
            .post_as(
                &format!("/channels/{general}/messages"),
                alice.auth(),
                &json!({"content": format!("message {n}")}),
            )
            .await;
        assert!(s == 200 || s == 201, "{s} {m}");
        ids.push(m["id"].as_str().expect("id").to_owned());
    }
    let mut g = Gw::connect(&ts).await;
    g.send(json!({"op": 6, "d": {"token": token, "session_id": session_id, "seq": seq}}))
        .await;
    for (n, id) in ids.iter().enumerate() {
        let v = g.next_frame().await;
        assert_eq!(v["t"], "MESSAGE_CREATE", "{v}");
        assert_eq!(&v["d"]["id"], id.as_str(), "in order");
        assert_eq!(v["d"]["content"], format!("message {}", n + 1));
    }
    let v = g.next_frame().await;
    assert_eq!(v["t"], "RESUMED", "exactly the 50, then RESUMED: {v}");
    ts.stop().await;
}

#[tokio::test]
async fn resume_refusals() {
    let ts = TestServer::start().await;
    let (_, token) = bot(&ts, "refusal_bot").await;
    let (_, other) = bot(&ts, "other_bot").await;
    let mut g = Gw::connect(&ts).await;
    g.ready(&token, UNPRIVILEGED).await;
    let (sid, seq) = (g.session_id.clone().expect("sid"), g.seq.expect("seq"));

    // An unknown session: INVALID_SESSION (not resumable), connection kept.
    let mut h = Gw::connect(&ts).await;
    h.send(json!({"op": 6, "d": {"token": token, "session_id": "nope", "seq": 1}}))
        .await;
    let v = h.expect_op(9).await;
    assert_eq!(v["d"], false);
    // ...and IDENTIFY then works on the same connection.
    h.ready(&token, UNPRIVILEGED).await;

    // Someone else's session: refused the same way.
    let mut h = Gw::connect(&ts).await;
    h.send(json!({"op": 6, "d": {"token": other, "session_id": sid, "seq": seq}}))
        .await;
    assert_eq!(h.expect_op(9).await["d"], false);

    // A sequence number never sent: 4007.
    let mut h = Gw::connect(&ts).await;
    h.send(json!({"op": 6, "d": {"token": token, "session_id": sid, "seq": seq + 100}}))
        .await;
    assert_eq!(h.expect_close().await, Some(4007));

    // A client closing with 1000 ends its session for good.
    g.close(1000).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut h = Gw::connect(&ts).await;
    h.send(json!({"op": 6, "d": {"token": token, "session_id": sid, "seq": seq}}))
        .await;
    assert_eq!(h.expect_op(9).await["d"], false);
    ts.stop().await;
}

#[tokio::test]
async fn a_second_connection_resuming_replaces_the_first() {
    let ts = TestServer::start().await;
    let (id, token) = bot(&ts, "zombie_bot").await;
    let mut g = Gw::connect(&ts).await;
    g.ready(&token, UNPRIVILEGED).await;
    let (sid, seq) = (g.session_id.clone().expect("sid"), g.seq.expect("seq"));
    let mut h = Gw::connect(&ts).await;
    h.send(json!({"op": 6, "d": {"token": token, "session_id": sid, "seq": seq}}))
        .await;
    h.expect("RESUMED").await;
    assert!(
        g.expect_close().await.is_some(),
        "the old connection is closed"
    );
    publish_to(&ts, &id, 7);
    assert_eq!(h.expect("BEEP_TEST_EVENT").await["n"], 7);
    ts.stop().await;
}
