//! The protocol itself: discovery, HELLO, IDENTIFY/READY, heartbeats, close codes
//! for bad input, compression, revocation and drain.

use std::time::Duration;

use serde_json::json;

use super::{ALL_INTENTS, Got, Gw, UNPRIVILEGED, bot};
use crate::harness::TestServer;

#[tokio::test]
async fn discovery_returns_the_socket_url() {
    let ts = TestServer::start().await;
    let url = Gw::url_of(&ts).await;
    assert!(
        url.starts_with("ws://") && url.ends_with("/gateway"),
        "{url}"
    );
    let (s, _) = ts.get("/gateway/bot", None).await;
    assert_eq!(s, 401, "/gateway/bot needs a token");
    let (_, token) = bot(&ts, "discovery_bot").await;
    let (s, v) = ts.get("/gateway/bot", Some(&format!("Bot {token}"))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["url"], url.as_str());
    assert_eq!(v["shards"], 1);
    assert_eq!(v["session_start_limit"]["max_concurrency"], 1);
    assert!(v["session_start_limit"]["remaining"].as_u64() > Some(0));
    // /api/v9 answers too.
    let r = ts.get_raw("/api/v9/gateway").await;
    assert_eq!(r.status().as_u16(), 200);
    ts.stop().await;
}

#[tokio::test]
async fn hello_then_ready_for_a_bot_with_a_bare_or_prefixed_token() {
    let ts = TestServer::start().await;
    let (id, token) = bot(&ts, "ready_bot").await;
    // discord.js joins `?v=10` to a gateway URL without a path
    // (`ws://host:port?v=10`); Node's URL parser then requests `/?v=10`.
    let base = ts.base.replace("http://", "ws://");
    let mut gw = Gw::connect_url(&format!("{base}/?v=10&encoding=json")).await;
    let hello = gw.next_frame().await;
    assert_eq!(hello["op"], 10);
    assert_eq!(hello["d"]["heartbeat_interval"], 41250);
    // discord.py sends the bot token without `Bot `.
    let ready = gw.ready(&token, UNPRIVILEGED | (1 << 15)).await;
    assert_eq!(ready["v"], 10);
    assert_eq!(ready["user"]["id"], id.as_str());
    assert_eq!(ready["user"]["bot"], true);
    assert_eq!(ready["application"]["id"], id.as_str());
    assert!(ready["application"]["flags"].is_u64());
    assert_eq!(ready["guilds"], json!([]));
    assert_eq!(ready["session_id"].as_str().map(str::len), Some(32));
    assert!(
        ready["resume_gateway_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("ws://"))
    );
    assert_eq!(gw.seq, Some(1), "READY is the first dispatch");
    gw.heartbeat().await;
    let ack = gw.expect_op(11).await;
    assert_eq!(ack["op"], 11);

    let mut gw2 = Gw::connect(&ts).await;
    let ready = gw2.ready(&format!("Bot {token}"), ALL_INTENTS).await;
    assert_eq!(ready["user"]["id"], id.as_str());
    ts.stop().await;
}

#[tokio::test]
async fn a_user_gets_ready_with_private_lists() {
    let ts = TestServer::start().await;
    let alice = ts.user("gw_alice").await;
    let mut gw = Gw::connect(&ts).await;
    // A user's client may leave intents out: it then gets everything.
    gw.send(json!({"op": 2, "d": {"token": alice.token, "properties": {}}}))
        .await;
    let ready = gw.expect("READY").await;
    assert_eq!(ready["user"]["id"], alice.id.as_str());
    assert_eq!(ready["user"]["email"], "gw_alice@example.org");
    assert!(ready.get("application").is_none());
    for k in ["private_channels", "relationships", "read_state", "guilds"] {
        assert!(ready[k].is_array(), "{k}: {ready}");
    }
    assert!(ready["user_settings"].is_object());
    // Bearer works too.
    let mut gw = Gw::connect(&ts).await;
    let ready = gw
        .ready(&format!("Bearer {}", alice.token), ALL_INTENTS)
        .await;
    assert_eq!(ready["user"]["id"], alice.id.as_str());
    ts.stop().await;
}

/// Open a connection, do `act`, and return the close code the server sent.
async fn close_code_after<F, Fut>(ts: &TestServer, act: F) -> Option<u16>
where
    F: FnOnce(Gw) -> Fut,
    Fut: std::future::Future<Output = Gw>,
{
    let gw = Gw::connect(ts).await;
    let mut gw = act(gw).await;
    gw.expect_close().await
}

#[tokio::test]
async fn bad_frames_get_discords_close_codes_and_the_node_stays_up() {
    let ts = TestServer::start().await;
    let (_, token) = bot(&ts, "bad_frames_bot").await;

    let code = close_code_after(&ts, |mut g| async move {
        g.send_text("{not json").await;
        g
    })
    .await;
    assert_eq!(code, Some(4002), "invalid JSON");

    let code = close_code_after(&ts, |mut g| async move {
        let pad = "x".repeat(5000);
        g.send_text(&format!(r#"{{"op":1,"d":null,"pad":"{pad}"}}"#))
            .await;
        g
    })
    .await;
    assert_eq!(code, Some(4002), "a 5000-byte frame");

    let code = close_code_after(&ts, |mut g| async move {
        g.send_invalid_utf8().await;
        g
    })
    .await;
    assert_eq!(code, Some(4002), "invalid UTF-8");

    let code = close_code_after(&ts, |mut g| async move {
        g.send(json!({"op": 2, "d": {"token": 5}})).await;
        g
    })
    .await;
    assert_eq!(code, Some(4002), "a payload of the wrong shape");

    let code = close_code_after(&ts, |mut g| async move {
        g.send(json!({"op": 42, "d": null})).await;
        g
    })
    .await;
    assert_eq!(code, Some(4001), "unknown opcode");

    let code = close_code_after(&ts, |mut g| async move {
        g.send(json!({"op": 3, "d": {"status": "idle", "since": null, "activities": [], "afk": false}}))
            .await;
        g
    })
    .await;
    assert_eq!(code, Some(4003), "presence before IDENTIFY");

    let code = close_code_after(&ts, |mut g| async move {
        g.identify("not-a-token", UNPRIVILEGED).await;
        g
    })
    .await;
    assert_eq!(code, Some(4004), "bad token");

    let t = token.clone();
    let code = close_code_after(&ts, |mut g| async move {
        g.ready(&t, UNPRIVILEGED).await;
        g.identify(&t, UNPRIVILEGED).await;
        g
    })
    .await;
    assert_eq!(code, Some(4005), "IDENTIFY twice");

    let code = close_code_after(&ts, |mut g| async move {
        for _ in 0..130 {
            g.send(json!({"op": 1, "d": null})).await;
        }
        g
    })
    .await;
    assert_eq!(code, Some(4008), "heartbeat flood");

    let t = token.clone();
    let code = close_code_after(&ts, |mut g| async move {
        g.identify(&t, 1 << 17).await;
        g
    })
    .await;
    assert_eq!(code, Some(4013), "an intent bit Discord does not define");

    let t = token.clone();
    let code = close_code_after(&ts, |mut g| async move {
        g.send(json!({"op": 2, "d": {"token": t, "properties": {}}}))
            .await;
        g
    })
    .await;
    assert_eq!(code, Some(4013), "a bot without intents");

    let t = token.clone();
    let code = close_code_after(&ts, |mut g| async move {
        g.send(
            json!({"op": 2, "d": {"token": t, "intents": 1, "properties": {}, "shard": [2, 2]}}),
        )
        .await;
        g
    })
    .await;
    assert_eq!(code, Some(4010), "a shard outside the count");

    let url = Gw::url_of(&ts).await;
    let mut g = Gw::connect_url(&format!("{url}?v=8&encoding=json")).await;
    assert_eq!(g.expect_close().await, Some(4012), "API version 8");

    // After all that the node serves as before.
    let r = ts.get_raw("/healthz").await;
    assert_eq!(r.status().as_u16(), 200);
    let mut g = Gw::connect(&ts).await;
    g.ready(&token, UNPRIVILEGED).await;
    ts.stop().await;
}

#[tokio::test]
async fn privileged_intents_follow_the_instance_setting() {
    let ts = TestServer::start_with(|c| {
        c.gateway.bot_privileged_intents = vec!["MESSAGE_CONTENT".into()];
    })
    .await;
    let (_, token) = bot(&ts, "privileged_bot").await;
    let t = token.clone();
    let code = close_code_after(&ts, |mut g| async move {
        g.identify(&t, 1 | (1 << 1)).await;
        g
    })
    .await;
    assert_eq!(code, Some(4014), "GUILD_MEMBERS is not allowed here");
    let mut g = Gw::connect(&ts).await;
    let ready = g.ready(&token, 1 | (1 << 15)).await;
    assert_eq!(ready["application"]["flags"], 1 << 18);
    ts.stop().await;
}

#[tokio::test]
async fn a_silent_connection_times_out_with_4009() {
    let ts = TestServer::start_with(|c| c.gateway.heartbeat_interval_ms = 1000).await;
    let (_, token) = bot(&ts, "silent_bot").await;
    let mut g = Gw::connect(&ts).await;
    g.ready(&token, UNPRIVILEGED).await;
    // Heartbeats keep it alive past the deadline...
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        g.heartbeat().await;
        g.expect_op(11).await;
    }
    // ...and silence ends it.
    let started = std::time::Instant::now();
    assert_eq!(g.expect_close().await, Some(4009));
    assert!(started.elapsed() < Duration::from_secs(4));
    ts.stop().await;
}

#[tokio::test]
async fn zlib_stream_compresses_every_frame_in_one_context() {
    let ts = TestServer::start().await;
    let (id, token) = bot(&ts, "zlib_bot").await;
    let url = Gw::url_of(&ts).await;
    let mut g = Gw::connect_url(&format!("{url}?v=10&encoding=json&compress=zlib-stream")).await;
    let hello = g.next_frame().await;
    assert_eq!(hello["op"], 10);
    let ready = g.ready(&token, UNPRIVILEGED).await;
    assert_eq!(ready["user"]["id"], id.as_str());
    for _ in 0..3 {
        g.heartbeat().await;
        g.expect_op(11).await;
    }
    ts.stop().await;
}

#[tokio::test]
async fn logging_out_closes_the_session_with_4004() {
    let ts = TestServer::start_with(|c| c.gateway.revalidate_secs = 1).await;
    let alice = ts.user("gw_revoked").await;
    let mut g = Gw::connect(&ts).await;
    g.ready(&alice.token, ALL_INTENTS).await;
    let (s, v) = ts.post_as("/auth/logout", alice.auth(), &json!({})).await;
    assert!(s == 204 || s == 200, "logout: {s} {v}");
    let started = std::time::Instant::now();
    assert_eq!(g.expect_close().await, Some(4004));
    assert!(started.elapsed() < Duration::from_secs(5));
    // The revoked session cannot be resumed or identified with again.
    let mut g = Gw::connect(&ts).await;
    g.identify(&alice.token, ALL_INTENTS).await;
    assert_eq!(g.expect_close().await, Some(4004));
    ts.stop().await;
}

#[tokio::test]
async fn shutdown_tells_clients_to_reconnect() {
    let ts = TestServer::start().await;
    let (_, token) = bot(&ts, "drain_bot").await;
    let mut g = Gw::connect(&ts).await;
    g.ready(&token, UNPRIVILEGED).await;
    let stop = tokio::spawn(ts.stop());
    let mut saw_reconnect = false;
    loop {
        match g.next().await {
            Got::Frame(v) if v["op"] == 7 => saw_reconnect = true,
            Got::Frame(_) => {}
            Got::Closed(_) => break,
        }
    }
    assert!(saw_reconnect, "RECONNECT before the close");
    stop.await.expect("stopped");
}

#[tokio::test]
async fn a_slow_consumer_is_dropped_without_slowing_the_others() {
    use beep_core::events::{Audience, Event};
    let ts = TestServer::start_with(|c| {
        c.gateway.max_pending = 50;
        c.gateway.write_timeout_secs = 1;
    })
    .await;
    let (slow_id, slow_token) = bot(&ts, "slow_bot").await;
    let (fast_id, fast_token) = bot(&ts, "fast_bot").await;
    let url = Gw::url_of(&ts).await;
    let mut slow = Gw::connect_url_small_buffer(&format!("{url}?v=10&encoding=json")).await;
    assert_eq!(slow.next_frame().await["op"], 10);
    slow.ready(&slow_token, UNPRIVILEGED).await;
    let mut fast = Gw::connect(&ts).await;
    fast.ready(&fast_token, UNPRIVILEGED).await;
    // 400 events of 64 KiB each (25 MiB) to both; the slow client reads nothing,
    // more than socket buffers hold.
    let pad = "x".repeat(64 * 1024);
    let users = vec![slow_id.parse().expect("id"), fast_id.parse().expect("id")];
    let bus = &ts.node.as_ref().expect("node").services.bus;
    let n_events = 400u64;
    let started = std::time::Instant::now();
    for n in 0..n_events {
        bus.publish(Event {
            name: "BEEP_TEST_EVENT",
            data: json!({"n": n, "pad": pad}),
            audience: Audience::Users(users.clone()),
            intent: None,
        });
    }
    for n in 0..n_events {
        assert_eq!(fast.expect("BEEP_TEST_EVENT").await["n"], n);
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the fast client was not held up: {:?}",
        started.elapsed()
    );
    // Past the write timeout the client that read nothing has been cut off: it
    // finds what its socket held, in order and without a gap, then the end.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut next = 0u64;
    let mut closed = false;
    while let Some(got) = slow.next_within(Duration::from_secs(5)).await {
        match got {
            Got::Frame(v) if v["t"] == "BEEP_TEST_EVENT" => {
                assert_eq!(v["d"]["n"], next, "no gap");
                next += 1;
            }
            Got::Frame(_) => {}
            Got::Closed(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "the slow consumer's connection was dropped");
    assert!(next < n_events, "it did not get everything ({next})");
    ts.stop().await;
}

#[tokio::test]
async fn privileged_intents_follow_each_applications_flags() {
    use super::fanout::{GUILD_MESSAGES, GUILDS, MESSAGE_CONTENT, guild, join, post};
    const GUILD_MEMBERS: u64 = 1 << 1;
    const GUILD_PRESENCES: u64 = 1 << 8;
    // New applications start without privileged intents here.
    let ts = TestServer::start_with(|c| c.gateway.bot_privileged_intents = Vec::new()).await;
    let alice = ts.user("flags_alice").await;
    let mallory = ts.user("flags_mallory").await;
    let (s, app) = ts
        .post_as("/applications", alice.auth(), &json!({"name": "flagbot"}))
        .await;
    assert_eq!(s, 201, "{app}");
    assert_eq!(app["flags"], 0);
    let (app_id, token) = (
        app["id"].as_str().expect("id").to_owned(),
        app["token"].as_str().expect("token").to_owned(),
    );
    let (_, general) = guild(&ts, &alice.id, "Flags").await;
    join(&ts, &alice.id, general, &app_id).await;

    // Each privileged intent the application lacks: 4014.
    for intent in [GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT] {
        let t = token.clone();
        let code = close_code_after(&ts, |mut g| async move {
            g.identify(&t, GUILDS | intent).await;
            g
        })
        .await;
        assert_eq!(code, Some(4014), "intent {intent} without its flag");
    }
    // Without MESSAGE_CONTENT the bot gets messages blanked.
    let mut g = Gw::connect(&ts).await;
    let ready = g.ready(&token, GUILDS | GUILD_MESSAGES).await;
    assert_eq!(ready["application"]["flags"], 0);
    g.expect("GUILD_CREATE").await;
    let m = post(&ts, &alice.id, false, general, "secret words").await;
    let d = g.expect("MESSAGE_CREATE").await;
    assert_eq!(d["id"], m["id"]);
    assert_eq!(d["content"], "", "blanked without the message content flag");
    g.close(1000).await;

    // Only the owner changes the flags, and only the intent flags.
    let path = format!("/applications/{app_id}");
    let (s, v) = ts
        .patch(&path, mallory.auth(), &json!({"flags": 1 << 14}))
        .await;
    assert_eq!((s, v["code"].as_u64()), (404, Some(10002)), "{v}");
    let (s, v) = ts
        .patch(&path, alice.auth(), &json!({"flags": 1 << 0}))
        .await;
    assert_eq!(s, 400, "not an intent flag: {v}");
    let (s, v) = ts
        .patch(
            &path,
            alice.auth(),
            &json!({"flags": (1 << 14) | (1 << 19)}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["flags"], (1 << 14) | (1 << 19));
    // The bot itself may only touch the _LIMITED flags of its application.
    let bot_auth = format!("Bot {token}");
    let (s, v) = ts
        .patch(
            "/applications/@me",
            Some(&bot_auth),
            &json!({"flags": 1 << 12}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = ts
        .patch(
            "/applications/@me",
            Some(&bot_auth),
            &json!({"flags": (1 << 13) | (1 << 19)}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["flags"],
        (1 << 13) | (1 << 14) | (1 << 19),
        "the full flags the owner set stay"
    );
    let (s, v) = ts.get("/applications/@me", Some(&bot_auth)).await;
    assert_eq!(
        (s, v["flags"].clone()),
        (200, json!((1 << 13) | (1 << 14) | (1 << 19)))
    );

    // Now every privileged intent is enabled: READY says so and content flows.
    let mut g = Gw::connect(&ts).await;
    let all = GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT | GUILD_MEMBERS | GUILD_PRESENCES;
    let ready = g.ready(&token, all).await;
    assert_eq!(
        ready["application"]["flags"],
        (1 << 13) | (1 << 14) | (1 << 19)
    );
    g.expect("GUILD_CREATE").await;
    post(&ts, &alice.id, false, general, "plain words").await;
    let d = g.expect("MESSAGE_CREATE").await;
    assert_eq!(d["content"], "plain words");

    // Taking a flag away: the next IDENTIFY asking for it is refused.
    let (s, _) = ts
        .patch(&path, alice.auth(), &json!({"flags": 1 << 19}))
        .await;
    assert_eq!(s, 200);
    let t = token.clone();
    let code = close_code_after(&ts, |mut g| async move {
        g.identify(&t, GUILDS | GUILD_MEMBERS).await;
        g
    })
    .await;
    assert_eq!(code, Some(4014));
    ts.stop().await;
}

#[tokio::test]
async fn rest_blanks_message_content_for_bots_without_the_flag() {
    use super::fanout::{guild, join};
    let ts = TestServer::start_with(|c| c.gateway.bot_privileged_intents = Vec::new()).await;
    let alice = ts.user("rmc_alice").await;
    let (s, app) = ts
        .post_as("/applications", alice.auth(), &json!({"name": "restbot"}))
        .await;
    assert_eq!(s, 201, "{app}");
    let app_id = app["id"].as_str().expect("id").to_owned();
    let bot_auth = format!("Bot {}", app["token"].as_str().expect("token"));
    let (_, general) = guild(&ts, &alice.id, "RestContent").await;
    join(&ts, &alice.id, general, &app_id).await;
    let path = format!("/channels/{general}/messages");
    let (s, secret) = ts
        .post_as(&path, alice.auth(), &json!({"content": "secret words"}))
        .await;
    assert_eq!(s, 200, "{secret}");
    let (_, ping) = ts
        .post_as(
            &path,
            alice.auth(),
            &json!({"content": format!("<@{app_id}> hi")}),
        )
        .await;
    let (s, own) = ts
        .post_as(&path, Some(&bot_auth), &json!({"content": "my own words"}))
        .await;
    assert_eq!(s, 200, "{own}");

    let content_of = |list: &serde_json::Value, id: &serde_json::Value| -> serde_json::Value {
        list.as_array()
            .expect("list")
            .iter()
            .find(|m| m["id"] == *id)
            .map(|m| m["content"].clone())
            .expect("listed")
    };
    let (s, list) = ts.get(&path, Some(&bot_auth)).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(content_of(&list, &secret["id"]), "");
    assert_eq!(content_of(&list, &ping["id"]), format!("<@{app_id}> hi"));
    assert_eq!(content_of(&list, &own["id"]), "my own words");
    let one = format!("{path}/{}", secret["id"].as_str().expect("id"));
    let (s, m) = ts.get(&one, Some(&bot_auth)).await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(
        (m["content"].clone(), m["embeds"].clone()),
        (json!(""), json!([]))
    );
    // Every read path blanks the same way: pins, the message replied to in
    // the bot's own reply, and search (which shows no highlights either).
    let (s, _) = ts
        .put(
            &format!(
                "/channels/{general}/pins/{}",
                secret["id"].as_str().expect("id")
            ),
            alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    let (s, pins) = ts
        .get(&format!("/channels/{general}/pins"), Some(&bot_auth))
        .await;
    assert_eq!(s, 200, "{pins}");
    assert_eq!(content_of(&pins, &secret["id"]), "");
    let (s, reply) = ts
        .post_as(
            &path,
            Some(&bot_auth),
            &json!({"content": "my reply", "message_reference": {"message_id": secret["id"]}}),
        )
        .await;
    assert_eq!(s, 200, "{reply}");
    let (_, list) = ts.get(&path, Some(&bot_auth)).await;
    let listed = list
        .as_array()
        .expect("list")
        .iter()
        .find(|m| m["id"] == reply["id"])
        .expect("reply listed");
    assert_eq!(listed["content"], "my reply");
    assert_eq!(listed["referenced_message"]["id"], secret["id"]);
    assert_eq!(listed["referenced_message"]["content"], "", "{listed}");
    let (s, found) = ts
        .get(
            &format!("/channels/{general}/messages/search?content=secret"),
            Some(&bot_auth),
        )
        .await;
    assert_eq!(s, 200, "{found}");
    assert_eq!(found["total_results"], 1, "{found}");
    assert_eq!(found["messages"][0][0]["content"], "", "{found}");
    assert_eq!(found["messages"][0][0]["highlights"], json!([]), "{found}");

    // Users always read content.
    let (_, m) = ts.get(&one, alice.auth()).await;
    assert_eq!(m["content"], "secret words");
    // So does the bot in a DM.
    let (s, dm) = ts
        .post_as(
            "/users/@me/channels",
            Some(&bot_auth),
            &json!({"recipient_id": alice.id}),
        )
        .await;
    assert_eq!(s, 200, "{dm}");
    let dm_path = format!("/channels/{}/messages", dm["id"].as_str().expect("id"));
    let (s, v) = ts
        .post_as(&dm_path, alice.auth(), &json!({"content": "private words"}))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, list) = ts.get(&dm_path, Some(&bot_auth)).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(content_of(&list, &v["id"]), "private words");

    // With the flag the bot reads everything.
    let (s, v) = ts
        .patch(
            &format!("/applications/{app_id}"),
            alice.auth(),
            &json!({"flags": 1 << 18}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, m) = ts.get(&one, Some(&bot_auth)).await;
    assert_eq!(m["content"], "secret words");
    let (_, list) = ts.get(&path, Some(&bot_auth)).await;
    assert_eq!(content_of(&list, &secret["id"]), "secret words");
    ts.stop().await;
}
