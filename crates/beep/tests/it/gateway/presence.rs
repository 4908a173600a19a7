//! Presence: PRESENCE_UPDATE to guild members (gated by GUILD_PRESENCES), the
//! invisible status, last seen, `GET /users/{id}/presence` and its EventSource
//! stream.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use super::fanout::{GUILDS, guild, join};
use super::{ALL_INTENTS, Gw, bot};
use crate::harness::TestServer;

/// Wait for a PRESENCE_UPDATE about `user`.
async fn presence_of(gw: &mut Gw, user: &str) -> Value {
    loop {
        let d = gw.expect("PRESENCE_UPDATE").await;
        if d["user"]["id"] == user {
            return d;
        }
    }
}

fn status(gw_status: &str) -> Value {
    json!({"op": 3, "d": {"since": null, "activities": [{"name": "Beep", "type": 0}], "status": gw_status, "afk": false}})
}

/// The next `presence` event of an EventSource body.
async fn next_sse(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
) -> Value {
    loop {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let data = block.lines().find_map(|l| l.strip_prefix("data:"));
            if block.lines().any(|l| l == "event: presence")
                && let Some(d) = data
            {
                return serde_json::from_str(d.trim()).expect("json");
            }
            continue;
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event in time")
            .expect("stream open")
            .expect("chunk");
        buf.push_str(std::str::from_utf8(&chunk).expect("utf8"));
    }
}

#[tokio::test]
async fn presence_reaches_guild_members_and_the_endpoints() {
    let ts = TestServer::start().await;
    let alice = ts.user("pr_alice").await;
    let bob = ts.user("pr_bob").await;
    let carol = ts.user("pr_carol").await;
    let (_, general) = guild(&ts, &alice.id, "Presence").await;
    join(&ts, &alice.id, general, &bob.id).await;
    let (bot_id, bot_token) = bot(&ts, "pr_bot").await;
    join(&ts, &alice.id, general, &bot_id).await;

    let mut a = Gw::connect(&ts).await;
    a.ready(&alice.token, ALL_INTENTS).await;
    a.expect("GUILD_CREATE").await;
    let mut quiet_bot = Gw::connect(&ts).await;
    quiet_bot.ready(&bot_token, GUILDS).await;
    quiet_bot.expect("GUILD_CREATE").await;

    // Before Bob ever connects: offline, never seen.
    let (s, v) = ts
        .get(&format!("/users/{}/presence", bob.id), alice.auth())
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "offline");
    assert_eq!(v["last_seen"], Value::Null);
    // Someone sharing no guild with Bob cannot look.
    let (s, _) = ts
        .get(&format!("/users/{}/presence", bob.id), carol.auth())
        .await;
    assert_eq!(s, 404);
    let (s, _) = ts.get(&format!("/users/{}/presence", bob.id), None).await;
    assert_eq!(s, 401);

    // The EventSource stream starts with the current state.
    let resp = ts
        .http
        .get(ts.api(&format!("/users/{}/presence/stream", bob.id)))
        .header("authorization", &alice.token)
        .send()
        .await
        .expect("stream");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .is_ok_and(|c| c.starts_with("text/event-stream"))
    );
    let mut stream = Box::pin(resp.bytes_stream());
    let mut buf = String::new();
    assert_eq!(next_sse(&mut stream, &mut buf).await["status"], "offline");

    let mut b = Gw::connect(&ts).await;
    b.ready(&bob.token, ALL_INTENTS).await;
    let p = presence_of(&mut a, &bob.id).await;
    assert_eq!(p["status"], "online");
    assert!(p["guild_id"].is_string());
    assert_eq!(next_sse(&mut stream, &mut buf).await["status"], "online");

    b.send(status("idle")).await;
    let p = presence_of(&mut a, &bob.id).await;
    assert_eq!(p["status"], "idle");
    assert_eq!(p["activities"][0]["name"], "Beep");
    assert_eq!(next_sse(&mut stream, &mut buf).await["status"], "idle");
    let (_, v) = ts
        .get(&format!("/users/{}/presence", bob.id), alice.auth())
        .await;
    assert_eq!(v["status"], "idle");

    // Invisible looks offline, activities hidden.
    b.send(status("invisible")).await;
    let p = presence_of(&mut a, &bob.id).await;
    assert_eq!(p["status"], "offline");
    assert_eq!(p["activities"], json!([]));
    b.send(status("dnd")).await;
    assert_eq!(presence_of(&mut a, &bob.id).await["status"], "dnd");

    // Leaving for good: offline with a last-seen time.
    b.close(1000).await;
    assert_eq!(presence_of(&mut a, &bob.id).await["status"], "offline");
    assert_eq!(next_sse(&mut stream, &mut buf).await["status"], "offline");
    let (_, v) = ts
        .get(&format!("/users/{}/presence", bob.id), alice.auth())
        .await;
    assert_eq!(v["status"], "offline");
    assert!(v["last_seen"].is_string(), "{v}");

    // A bot without GUILD_PRESENCES heard none of it.
    let deadline = tokio::time::Instant::now() + Duration::from_millis(300);
    while let Some(got) = quiet_bot
        .next_within(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        if let super::Got::Frame(v) = got {
            assert_ne!(v["t"], "PRESENCE_UPDATE", "{v}");
        }
    }
    // The stream is still open: shutdown ends it instead of waiting for it.
    tokio::time::timeout(Duration::from_secs(15), ts.stop())
        .await
        .expect("shutdown is not held up by an open EventSource stream");
    drop(stream);
}

#[tokio::test]
async fn friends_see_presence_and_blocks_hide_it() {
    let ts = TestServer::start().await;
    let bob = ts.user("fp_bob").await;
    let fran = ts.user("fp_fran").await;
    let carol = ts.user("fp_carol").await;
    let dave = ts.user("fp_dave").await;
    // Bob and Fran are friends and share no guild; Carol and Dave share a guild
    // with Bob, but Bob blocked Carol and Dave blocked Bob.
    let rel = |to: &str| format!("/users/@me/relationships/{to}");
    let (s, v) = ts.put(&rel(&fran.id), bob.auth(), &json!({})).await;
    assert_eq!(s, 204, "request: {v}");
    let (s, v) = ts.put(&rel(&bob.id), fran.auth(), &json!({})).await;
    assert_eq!(s, 204, "accept: {v}");
    let (_, general) = guild(&ts, &bob.id, "Blocks").await;
    join(&ts, &bob.id, general, &carol.id).await;
    join(&ts, &bob.id, general, &dave.id).await;
    let (s, v) = ts
        .put(&rel(&carol.id), bob.auth(), &json!({"type": 2}))
        .await;
    assert_eq!(s, 204, "block: {v}");
    let (s, v) = ts
        .put(&rel(&bob.id), dave.auth(), &json!({"type": 2}))
        .await;
    assert_eq!(s, 204, "block: {v}");

    // Bob is online (dnd) before Fran connects: her READY lists him.
    let mut gb = Gw::connect(&ts).await;
    gb.ready(&bob.token, ALL_INTENTS).await;
    gb.send(status("dnd")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut gf = Gw::connect(&ts).await;
    let ready = gf.ready(&fran.token, ALL_INTENTS).await;
    let listed = ready["presences"].as_array().expect("presences");
    assert!(
        listed
            .iter()
            .any(|p| p["user"]["id"] == bob.id.as_str() && p["status"] == "dnd"),
        "READY presences has the online friend: {ready}"
    );
    let mut gc = Gw::connect(&ts).await;
    gc.ready(&carol.token, ALL_INTENTS).await;
    let gcreate = gc.expect("GUILD_CREATE").await;
    assert!(
        !gcreate["presences"]
            .as_array()
            .expect("presences")
            .iter()
            .any(|p| p["user"]["id"] == bob.id.as_str()),
        "GUILD_CREATE hides the blocker's presence: {gcreate}"
    );
    let mut gd = Gw::connect(&ts).await;
    gd.ready(&dave.token, ALL_INTENTS).await;
    gd.expect("GUILD_CREATE").await;

    // Bob goes idle: his friend hears it (no guild_id: a friend's presence)...
    gb.send(status("idle")).await;
    let p = presence_of(&mut gf, &bob.id).await;
    assert_eq!(p["status"], "idle");
    assert!(p.get("guild_id").is_none_or(Value::is_null), "{p}");
    // ...the blocked and the blocker do not.
    for (gw, who) in [
        (&mut gc, "Carol (blocked by Bob)"),
        (&mut gd, "Dave (blocked Bob)"),
    ] {
        while let Some(got) = gw.next_within(Duration::from_millis(500)).await {
            if let super::Got::Frame(v) = got {
                assert!(
                    !(v["t"] == "PRESENCE_UPDATE" && v["d"]["user"]["id"] == bob.id.as_str()),
                    "{who} got {v}"
                );
            }
        }
    }

    // The endpoints: the friend may look, the blocked and the blocker may not.
    let path = format!("/users/{}/presence", bob.id);
    let (s, v) = ts.get(&path, fran.auth()).await;
    assert_eq!((s, v["status"].clone()), (200, json!("idle")), "{v}");
    for (who, t) in [("carol", carol.auth()), ("dave", dave.auth())] {
        let (s, v) = ts.get(&path, t).await;
        assert_eq!(s, 404, "{who}: {v}");
        let r = reqwest::Client::new()
            .get(ts.api(&format!("{path}/stream")))
            .header("authorization", t.expect("token"))
            .send()
            .await
            .expect("stream");
        assert_eq!(r.status().as_u16(), 404, "{who}'s stream");
    }
    let r = reqwest::Client::new()
        .get(ts.api(&format!("{path}/stream")))
        .header("authorization", fran.token.as_str())
        .send()
        .await
        .expect("stream");
    assert_eq!(r.status().as_u16(), 200);
    let mut body = r.bytes_stream();
    let mut buf = String::new();
    assert_eq!(next_sse(&mut body, &mut buf).await["status"], "idle");
    ts.stop().await;
}

/// Read an EventSource body until it ends; a `presence` event first is a failure.
async fn sse_ends(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    buf: &mut String,
    why: &str,
) {
    loop {
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            assert!(
                !block.lines().any(|l| l == "event: presence"),
                "{why}: the stream still emits {block}"
            );
        }
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .unwrap_or_else(|_| panic!("{why}: the stream did not end"));
        match next {
            None | Some(Err(_)) => return,
            Some(Ok(chunk)) => buf.push_str(std::str::from_utf8(&chunk).expect("utf8")),
        }
    }
}

/// An EventSource stream of `user`'s presence, watched by `token`, past its
/// first event (returned).
async fn watch(
    ts: &TestServer,
    token: &str,
    user: &str,
) -> (
    impl futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin + use<>,
    String,
    Value,
) {
    let r = ts
        .http
        .get(ts.api(&format!("/users/{user}/presence/stream")))
        .header("authorization", token)
        .send()
        .await
        .expect("stream");
    assert_eq!(r.status().as_u16(), 200);
    let mut body = Box::pin(r.bytes_stream());
    let mut buf = String::new();
    let first = next_sse(&mut body, &mut buf).await;
    (body, buf, first)
}

/// Nothing about `user`'s presence reaches `gw` for a while.
async fn no_presence_of(gw: &mut Gw, user: &str, who: &str) {
    while let Some(got) = gw.next_within(Duration::from_millis(500)).await {
        if let super::Got::Frame(v) = got {
            assert!(
                !(v["t"] == "PRESENCE_UPDATE" && v["d"]["user"]["id"] == user),
                "{who} got {v}"
            );
        }
    }
}

#[tokio::test]
async fn friendship_changes_show_and_hide_presence_at_once() {
    let ts = TestServer::start().await;
    let alice = ts.user("fc_alice").await;
    let bob = ts.user("fc_bob").await;
    let rel = |to: &str| format!("/users/@me/relationships/{to}");

    // Strangers, both online; Bob idle.
    let mut ga = Gw::connect(&ts).await;
    ga.ready(&alice.token, ALL_INTENTS).await;
    let mut gb = Gw::connect(&ts).await;
    gb.ready(&bob.token, ALL_INTENTS).await;
    gb.send(status("idle")).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Becoming friends: each side gets the other's presence, without guild_id.
    let (s, v) = ts.put(&rel(&bob.id), alice.auth(), &json!({})).await;
    assert_eq!(s, 204, "request: {v}");
    no_presence_of(&mut ga, &bob.id, "Alice (a request is not a friendship)").await;
    let (s, v) = ts.put(&rel(&alice.id), bob.auth(), &json!({})).await;
    assert_eq!(s, 204, "accept: {v}");
    let p = presence_of(&mut ga, &bob.id).await;
    assert_eq!(p["status"], "idle", "{p}");
    assert_eq!(p["activities"][0]["name"], "Beep");
    assert!(p.get("guild_id").is_none_or(Value::is_null), "{p}");
    let p = presence_of(&mut gb, &alice.id).await;
    assert_eq!(p["status"], "online", "{p}");

    // Alice watches Bob as a friend; unfriending hides him on both sides and
    // ends the stream.
    let (mut body, mut buf, first) = watch(&ts, &alice.token, &bob.id).await;
    assert_eq!(first["status"], "idle");
    let (s, v) = ts.delete(&rel(&bob.id), alice.auth()).await;
    assert_eq!(s, 204, "unfriend: {v}");
    assert_eq!(presence_of(&mut ga, &bob.id).await["status"], "offline");
    let p = presence_of(&mut gb, &alice.id).await;
    assert_eq!(
        (p["status"].clone(), p["activities"].clone()),
        (json!("offline"), json!([]))
    );
    sse_ends(&mut body, &mut buf, "unfriended").await;
    let (s, _) = ts
        .get(&format!("/users/{}/presence", bob.id), alice.auth())
        .await;
    assert_eq!(s, 404);
    // Bob's next change no longer reaches Alice.
    gb.send(status("dnd")).await;
    no_presence_of(&mut ga, &bob.id, "Alice (no longer a friend)").await;
    ts.stop().await;
}

#[tokio::test]
async fn guild_members_keep_presence_until_a_block_or_leaving() {
    let ts = TestServer::start().await;
    let carol = ts.user("gb_carol").await;
    let dave = ts.user("gb_dave").await;
    let eve = ts.user("gb_eve").await;
    let rel = |to: &str| format!("/users/@me/relationships/{to}");
    let (g, general) = guild(&ts, &dave.id, "Blockers").await;
    join(&ts, &dave.id, general, &carol.id).await;
    join(&ts, &dave.id, general, &eve.id).await;
    let mut gc = Gw::connect(&ts).await;
    gc.ready(&carol.token, ALL_INTENTS).await;
    gc.expect("GUILD_CREATE").await;
    let mut gd = Gw::connect(&ts).await;
    gd.ready(&dave.token, ALL_INTENTS).await;
    gd.expect("GUILD_CREATE").await;
    let mut ge = Gw::connect(&ts).await;
    ge.ready(&eve.token, ALL_INTENTS).await;
    ge.expect("GUILD_CREATE").await;
    // Skip what the guild told of each other's arrival.
    for gw in [&mut gc, &mut gd, &mut ge] {
        while gw.next_within(Duration::from_millis(300)).await.is_some() {}
    }

    // Friends who share a guild: unfriending leaves presence to the guild.
    ts.put(&rel(&dave.id), carol.auth(), &json!({})).await;
    ts.put(&rel(&carol.id), dave.auth(), &json!({})).await;
    let p = presence_of(&mut gc, &dave.id).await;
    assert_eq!(p["status"], "online");
    assert!(p.get("guild_id").is_none_or(Value::is_null), "{p}");
    assert_eq!(presence_of(&mut gd, &carol.id).await["status"], "online");
    let (s, _) = ts.delete(&rel(&dave.id), carol.auth()).await;
    assert_eq!(s, 204);
    no_presence_of(&mut gc, &dave.id, "Carol (still shares the guild)").await;
    let (s, v) = ts
        .get(&format!("/users/{}/presence", dave.id), carol.auth())
        .await;
    assert_eq!((s, v["status"].clone()), (200, json!("online")), "{v}");

    // Carol watches Dave through the guild; Dave blocks her: the blocked side
    // hears him go offline and her stream ends.
    let (mut body, mut buf, first) = watch(&ts, &carol.token, &dave.id).await;
    assert_eq!(first["status"], "online");
    let (s, v) = ts
        .put(&rel(&carol.id), dave.auth(), &json!({"type": 2}))
        .await;
    assert_eq!(s, 204, "block: {v}");
    assert_eq!(presence_of(&mut gc, &dave.id).await["status"], "offline");
    assert_eq!(presence_of(&mut gd, &carol.id).await["status"], "offline");
    sse_ends(&mut body, &mut buf, "blocked").await;

    // Eve watches Dave through the guild, then leaves it: at Dave's next change
    // the stream ends instead of telling her.
    let (mut body, mut buf, first) = watch(&ts, &eve.token, &dave.id).await;
    assert_eq!(first["status"], "online");
    let (s, v) = ts
        .delete(&format!("/users/@me/guilds/{g}"), eve.auth())
        .await;
    assert_eq!(s, 204, "leave: {v}");
    gd.send(status("idle")).await;
    sse_ends(&mut body, &mut buf, "no shared guild").await;
    ts.stop().await;
}
