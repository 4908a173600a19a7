//! DMs: who may open one, messages inside them (with the gateway), closing,
//! unfriending, pinned ordering, all my direct messages, and READY.

use serde_json::json;

use super::{
    befriend, channel_ids, code, create_private, dm_id, open_dm, pin, remove_rel, say, set_rel,
    unpin,
};
use crate::gateway::Gw;
use crate::harness::TestServer;
use crate::messages::{events, guild, join};

/// `DIRECT_MESSAGES | DIRECT_MESSAGE_REACTIONS | DIRECT_MESSAGE_TYPING`.
const DM_INTENTS: u64 = (1 << 12) | (1 << 13) | (1 << 14);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_needs_friendship_or_a_server_that_allows_it() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let carol = ts.user("carol").await;
    let dave = ts.user("dave").await;

    let (s, v) = open_dm(&ts, &alice, &carol).await;
    assert_eq!((s, code(&v)), (403, 50007), "DM to a stranger: {v}");
    assert_eq!(v["message"], "Cannot send messages to this user");
    let (s, v) = create_private(&ts, &alice, json!({"recipient_id": "123456789012345678"})).await;
    assert_eq!((s, code(&v)), (404, 10013), "{v}");
    let (s, v) = open_dm(&ts, &alice, &alice).await;
    assert_eq!((s, code(&v)), (403, 50007), "{v}");
    let (s, v) = create_private(&ts, &alice, json!({})).await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");

    // A shared server allows it; opening twice gives the same DM.
    let (gid, general) = guild(&ts, &alice, "Hall").await;
    join(&ts, &alice, &general, &carol).await;
    join(&ts, &alice, &general, &dave).await;
    let (s, dm) = open_dm(&ts, &alice, &carol).await;
    assert_eq!(s, 200, "{dm}");
    assert_eq!(dm["type"], 1);
    assert_eq!(dm["recipients"][0]["id"], carol.id.as_str());
    assert_eq!(dm["recipients"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        dm_id(&ts, &alice, &carol).await,
        dm["id"].as_str().expect("id")
    );
    assert_eq!(
        dm_id(&ts, &carol, &alice).await,
        dm["id"].as_str().expect("id")
    );

    // Carol forbids DMs from server members: Dave (a stranger otherwise) is refused,
    // but a friend is not.
    let (s, v) = ts
        .patch(
            "/users/@me/settings",
            carol.auth(),
            &json!({"default_guilds_restricted": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = open_dm(&ts, &dave, &carol).await;
    assert_eq!((s, code(&v)), (403, 50007), "{v}");
    befriend(&ts, &dave, &carol).await;
    let (s, v) = open_dm(&ts, &dave, &carol).await;
    assert_eq!(s, 200, "{v}");
    // The same with the server listed in `restricted_guilds`.
    let eve = ts.user("eve").await;
    join(&ts, &alice, &general, &eve).await;
    let (s, _) = ts
        .patch(
            "/users/@me/settings",
            carol.auth(),
            &json!({"default_guilds_restricted": null, "restricted_guilds": [gid]}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, v) = open_dm(&ts, &eve, &carol).await;
    assert_eq!((s, code(&v)), (403, 50007), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_flow_in_a_dm_and_reach_the_other_gateway() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let carol = ts.user("carol").await;
    befriend(&ts, &alice, &bob).await;
    let dm = dm_id(&ts, &alice, &bob).await;

    let mut gw = Gw::connect(&ts).await;
    let ready = gw.ready(&bob.token, DM_INTENTS).await;
    let listed = ready["private_channels"]
        .as_array()
        .expect("private_channels");
    assert!(listed.iter().any(|c| c["id"] == dm.as_str()), "{ready}");
    let rel = &ready["relationships"][0];
    assert_eq!(
        (rel["id"].as_str(), rel["type"].as_i64()),
        (Some(alice.id.as_str()), Some(1))
    );

    let (s, m) = say(&ts, &alice, &dm, "hello @everyone").await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["mention_everyone"], false, "no MENTION_EVERYONE in DMs");
    assert!(
        m.get("guild_id").is_none_or(serde_json::Value::is_null),
        "{m}"
    );
    let created = gw.expect("MESSAGE_CREATE").await;
    assert_eq!(created["id"], m["id"]);
    assert_eq!(created["channel_id"], dm.as_str());
    assert_eq!(
        created["content"], "hello @everyone",
        "DM content is never blanked"
    );
    assert!(created.get("guild_id").is_none(), "{created}");

    // Bob reads, reacts, pins, types and acks; he may not delete Alice's message.
    let (s, hist) = ts
        .get(&format!("/channels/{dm}/messages"), bob.auth())
        .await;
    assert_eq!(s, 200);
    assert_eq!(hist[0]["id"], m["id"]);
    let mid = m["id"].as_str().expect("id");
    let (s, v) = ts
        .put(
            &format!("/channels/{dm}/messages/{mid}/reactions/%F0%9F%91%8D/@me"),
            bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let r = gw.expect("MESSAGE_REACTION_ADD").await;
    assert!(
        r.get("guild_id").is_none() && r.get("member").is_none(),
        "{r}"
    );
    let (s, v) = ts
        .put(
            &format!("/channels/{dm}/pins/{mid}"),
            bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let pins = gw.expect("CHANNEL_PINS_UPDATE").await;
    assert_eq!(pins["channel_id"], dm.as_str());
    assert!(pins.get("guild_id").is_none(), "{pins}");
    let (s, v) = ts
        .post_as(&format!("/channels/{dm}/typing"), alice.auth(), &json!({}))
        .await;
    assert_eq!(s, 204, "{v}");
    let typing = gw.expect("TYPING_START").await;
    assert_eq!(typing["user_id"], alice.id.as_str());
    let (s, v) = ts
        .post_as(
            &format!("/channels/{dm}/messages/{mid}/ack"),
            bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = ts
        .delete(&format!("/channels/{dm}/messages/{mid}"), bob.auth())
        .await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");
    let (s, v) = ts
        .patch(
            &format!("/channels/{dm}/messages/{mid}"),
            alice.auth(),
            &json!({"content": "edited"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(gw.expect("MESSAGE_UPDATE").await["content"], "edited");
    let (s, _) = ts
        .delete(&format!("/channels/{dm}/messages/{mid}"), alice.auth())
        .await;
    assert_eq!(s, 204);
    assert_eq!(gw.expect("MESSAGE_DELETE").await["id"], mid);

    // GET /channels/{id} works for recipients only; a stranger cannot read or send.
    let (s, c) = ts.get(&format!("/channels/{dm}"), bob.auth()).await;
    assert_eq!((s, c["type"].as_i64()), (200, Some(1)), "{c}");
    let (s, v) = ts.get(&format!("/channels/{dm}"), carol.auth()).await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
    let (s, v) = ts
        .get(&format!("/channels/{dm}/messages"), carol.auth())
        .await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
    let (s, v) = say(&ts, &carol, &dm, "let me in").await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
    // A DM's name cannot be set.
    let (s, v) = ts
        .patch(
            &format!("/channels/{dm}"),
            alice.auth(),
            &json!({"name": "x"}),
        )
        .await;
    assert_eq!((s, code(&v)), (403, 50003), "{v}");

    // Blocking closes the DM to new messages (the friendship, and so the DM, ends).
    let (s, _) = set_rel(&ts, &bob, &alice, json!({"type": 2})).await;
    assert_eq!(s, 204);
    let (s, v) = say(&ts, &alice, &dm, "still there?").await;
    assert_eq!(
        (s, code(&v)),
        (404, 10003),
        "the DM went with the friendship: {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_in_a_dm_kept_by_a_shared_server_refuses_new_messages() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let (_, general) = guild(&ts, &alice, "Hall").await;
    join(&ts, &alice, &general, &bob).await;
    let dm = dm_id(&ts, &alice, &bob).await;
    assert_eq!(say(&ts, &bob, &dm, "hi").await.0, 200);
    let (s, _) = set_rel(&ts, &bob, &alice, json!({"type": 2})).await;
    assert_eq!(s, 204);
    let (s, v) = say(&ts, &alice, &dm, "hello?").await;
    assert_eq!((s, code(&v)), (403, 50007), "{v}");
    let (s, v) = say(&ts, &bob, &dm, "bye").await;
    assert_eq!((s, code(&v)), (403, 50007), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfriending_erases_the_dm_for_both() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    befriend(&ts, &alice, &bob).await;
    let dm = dm_id(&ts, &alice, &bob).await;
    for text in ["one", "two", "three"] {
        assert_eq!(say(&ts, &alice, &dm, text).await.0, 200);
    }
    assert_eq!(say(&ts, &bob, &dm, "four").await.0, 200);
    let (_, mine) = ts.get("/users/@me/messages", bob.auth()).await;
    assert_eq!(mine.as_array().map(Vec::len), Some(4));

    let mut ev = events(&ts);
    let (s, _) = remove_rel(&ts, &alice, &bob).await;
    assert_eq!(s, 204);
    let deleted = ev.next("CHANNEL_DELETE").await;
    assert_eq!(deleted.data["id"], dm.as_str());
    for who in [&alice, &bob] {
        let (s, v) = ts
            .get(&format!("/channels/{dm}/messages"), who.auth())
            .await;
        assert_eq!(
            (s, code(&v)),
            (404, 10003),
            "history after unfriending: {v}"
        );
        assert!(channel_ids(&ts, who).await.is_empty());
        let (s, v) = ts.get("/users/@me/messages", who.auth()).await;
        assert_eq!((s, v.as_array().map(Vec::len)), (200, Some(0)), "{v}");
    }
    assert!(super::rels(&ts, &alice).await.is_empty());
    // The messages are gone from storage too.
    let store = &ts.node.as_ref().expect("node").services.store;
    let channel: beep_types::ChannelId = dm.parse().expect("id");
    assert_eq!(store.last_message_id(channel).await.expect("read"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_dm_comes_back_with_the_next_message() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    befriend(&ts, &alice, &bob).await;
    let dm = dm_id(&ts, &alice, &bob).await;
    assert_eq!(say(&ts, &alice, &dm, "hi").await.0, 200);

    let (s, v) = ts.delete(&format!("/channels/{dm}"), alice.auth()).await;
    assert_eq!((s, v["id"].as_str()), (200, Some(dm.as_str())), "{v}");
    assert!(channel_ids(&ts, &alice).await.is_empty());
    assert_eq!(channel_ids(&ts, &bob).await, vec![dm.clone()]);
    // Still readable by id; Bob's next message brings it back for Alice.
    let (s, _) = ts
        .get(&format!("/channels/{dm}/messages"), alice.auth())
        .await;
    assert_eq!(s, 200);
    assert_eq!(say(&ts, &bob, &dm, "are you there?").await.0, 200);
    assert_eq!(channel_ids(&ts, &alice).await, vec![dm.clone()]);
    // Closing and reopening by POST brings it back too.
    ts.delete(&format!("/channels/{dm}"), alice.auth()).await;
    assert!(channel_ids(&ts, &alice).await.is_empty());
    assert_eq!(dm_id(&ts, &alice, &bob).await, dm);
    assert_eq!(channel_ids(&ts, &alice).await, vec![dm]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_conversations_come_first_then_latest_activity() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let carol = ts.user("carol").await;
    let dave = ts.user("dave").await;
    let mut dms = Vec::new();
    for other in [&bob, &carol, &dave] {
        befriend(&ts, &alice, other).await;
        let dm = dm_id(&ts, &alice, other).await;
        assert_eq!(say(&ts, other, &dm, "hi").await.0, 200);
        dms.push(dm);
    }
    let (b, c, d) = (dms[0].clone(), dms[1].clone(), dms[2].clone());
    assert_eq!(
        channel_ids(&ts, &alice).await,
        vec![d.clone(), c.clone(), b.clone()]
    );
    // New activity moves Bob's DM up.
    assert_eq!(say(&ts, &bob, &b, "again").await.0, 200);
    assert_eq!(
        channel_ids(&ts, &alice).await,
        vec![b.clone(), d.clone(), c.clone()]
    );

    let (s, v) = pin(&ts, &alice, &c).await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(
        channel_ids(&ts, &alice).await,
        vec![c.clone(), b.clone(), d.clone()]
    );
    let (_, list) = ts.get("/users/@me/channels", alice.auth()).await;
    assert_eq!(list[0]["pinned"], true);
    assert_eq!(list[1]["pinned"], false);
    // Pins are per user.
    assert_eq!(channel_ids(&ts, &carol).await, vec![c.clone()]);
    let (s, _) = unpin(&ts, &alice, &c).await;
    assert_eq!(s, 204);
    assert_eq!(
        channel_ids(&ts, &alice).await,
        vec![b.clone(), d.clone(), c.clone()]
    );
    // Not a recipient, not a channel.
    let (s, v) = pin(&ts, &bob, &c).await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
    let (s, v) = pin(&ts, &alice, "12345").await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_my_direct_messages_newest_first_in_pages() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let carol = ts.user("carol").await;
    befriend(&ts, &alice, &bob).await;
    befriend(&ts, &alice, &carol).await;
    let ab = dm_id(&ts, &alice, &bob).await;
    let ac = dm_id(&ts, &alice, &carol).await;
    let mut sent = Vec::new();
    for (who, ch, text) in [
        (&alice, &ab, "a1"),
        (&bob, &ab, "b1"),
        (&carol, &ac, "c1"),
        (&alice, &ac, "a2"),
        (&bob, &ab, "b2"),
    ] {
        let (s, m) = say(&ts, who, ch, text).await;
        assert_eq!(s, 200, "{m}");
        sent.push(m["id"].as_str().expect("id").to_owned());
    }
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .expect("array")
            .iter()
            .map(|m| m["id"].as_str().expect("id").to_owned())
            .collect()
    };
    let newest_first: Vec<String> = sent.iter().rev().cloned().collect();
    let (s, all) = ts.get("/users/@me/messages", alice.auth()).await;
    assert_eq!(s, 200);
    assert_eq!(ids(&all), newest_first);
    let (_, p1) = ts.get("/users/@me/messages?limit=2", alice.auth()).await;
    assert_eq!(ids(&p1), newest_first[..2].to_vec());
    let (_, p2) = ts
        .get(
            &format!("/users/@me/messages?limit=2&before={}", newest_first[1]),
            alice.auth(),
        )
        .await;
    assert_eq!(ids(&p2), newest_first[2..4].to_vec());
    let (_, p3) = ts
        .get(
            &format!("/users/@me/messages?limit=2&before={}", newest_first[3]),
            alice.auth(),
        )
        .await;
    assert_eq!(ids(&p3), newest_first[4..].to_vec());
    // Bob sees only his DM's messages; Carol hers.
    let (_, b) = ts.get("/users/@me/messages", bob.auth()).await;
    assert_eq!(
        ids(&b),
        vec![sent[4].clone(), sent[1].clone(), sent[0].clone()]
    );
    let (_, c) = ts.get("/users/@me/messages", carol.auth()).await;
    assert_eq!(ids(&c), vec![sent[3].clone(), sent[2].clone()]);
    // Bounds.
    for q in [
        "limit=0",
        "limit=101",
        "limit=x",
        "before=nope",
        "after=1",
        "around=1",
    ] {
        let (s, v) = ts
            .get(&format!("/users/@me/messages?{q}"), alice.auth())
            .await;
        assert_eq!((s, code(&v)), (400, 50035), "{q}: {v}");
    }
    let (s, v) = ts.get("/users/@me/messages?limit=100", alice.auth()).await;
    assert_eq!((s, v.as_array().map(Vec::len)), (200, Some(5)));
}

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_sent_in_a_dm_and_read_by_the_other_side() {
    let ts = TestServer::start().await;
    let alice = ts.user("alice").await;
    let bob = ts.user("bob").await;
    let carol = ts.user("carol").await;
    befriend(&ts, &alice, &bob).await;
    let dm = dm_id(&ts, &alice, &bob).await;
    let form = |name: &str| {
        reqwest::multipart::Form::new()
            .text("payload_json", json!({"content": "look"}).to_string())
            .part(
                "files[0]",
                reqwest::multipart::Part::bytes(PNG.to_vec())
                    .file_name(name.to_owned())
                    .mime_str("image/png")
                    .expect("mime"),
            )
    };
    let send = |who: &crate::harness::TestUser, f: reqwest::multipart::Form| {
        ts.http
            .post(ts.api(&format!("/channels/{dm}/messages")))
            .header("authorization", who.token.clone())
            .multipart(f)
            .send()
    };
    let r = send(&alice, form("dot.png")).await.expect("post");
    assert_eq!(r.status().as_u16(), 200);
    let m: serde_json::Value = r.json().await.expect("json");
    assert_eq!(m["attachments"][0]["filename"], "dot.png", "{m}");
    // Bob reads it with a signed URL that works.
    let (_, hist) = ts
        .get(&format!("/channels/{dm}/messages"), bob.auth())
        .await;
    let url = hist[0]["attachments"][0]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let url = match url.find("/attachments/") {
        Some(i) if !url.starts_with("http") => format!("{}{}", ts.base, &url[i..]),
        _ => url,
    };
    let r = ts.http.get(&url).send().await.expect("get");
    assert_eq!(r.status().as_u16(), 200);
    // A stranger can neither post files nor get upload URLs here.
    let r = send(&carol, form("x.png")).await.expect("post");
    assert_eq!(r.status().as_u16(), 404);
    let (s, v) = ts
        .post_as(
            &format!("/channels/{dm}/attachments"),
            carol.auth(),
            &json!({"files": [{"filename": "a.png", "file_size": 10}]}),
        )
        .await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
    let (s, v) = ts
        .post_as(
            &format!("/channels/{dm}/attachments"),
            bob.auth(),
            &json!({"files": [{"filename": "a.png", "file_size": 10}]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
}
