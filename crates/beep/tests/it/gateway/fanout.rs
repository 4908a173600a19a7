//! Fan-out: GUILD_CREATE after READY, who receives what (membership, channel
//! permissions, intents, message content), and permission changes taking effect
//! on live sessions. Guilds and messages are made through the domain services
//! (the same calls the REST handlers make).

use std::time::Duration;

use beep_core::Services;
use beep_core::accounts::Principal;
use beep_core::guilds::forms::{CreateChannel, CreateGuild, CreateInvite, PutOverwrite};
use beep_core::messages::NewMessageInput;
use beep_types::v10::channel::OverwriteType;
use beep_types::v10::message::CreateMessage;
use beep_types::{ChannelId, GuildId, Permissions, Snowflake, UserId};
use serde_json::{Value, json};

use super::{ALL_INTENTS, Gw, bot};
use crate::harness::TestServer;

pub const GUILDS: u64 = 1;
pub const GUILD_MESSAGES: u64 = 1 << 9;
pub const MESSAGE_CONTENT: u64 = 1 << 15;

pub fn svc(ts: &TestServer) -> &Services {
    &ts.node.as_ref().expect("node").services
}

pub fn uid(id: &str) -> UserId {
    id.parse().expect("user id")
}

pub fn me(id: &str, bot: bool) -> Principal {
    Principal {
        user_id: uid(id),
        session_id: None,
        bot,
    }
}

/// A guild owned by `owner` and its `general` text channel.
pub async fn guild(ts: &TestServer, owner: &str, name: &str) -> (GuildId, ChannelId) {
    let s = svc(ts);
    let form: CreateGuild = serde_json::from_value(json!({"name": name})).expect("form");
    let g = s
        .guilds
        .create_guild(uid(owner), form)
        .await
        .expect("guild");
    let channels = s.guilds.channels(uid(owner), g.id).await.expect("channels");
    let text = channels
        .iter()
        .find(|c| c.name.as_ref().and_then(|n| n.as_deref()) == Some("general"))
        .expect("general")
        .id;
    (g.id, text)
}

/// `user` joins `guild` through an invite to `channel` made by `owner`.
pub async fn join(ts: &TestServer, owner: &str, channel: ChannelId, user: &str) {
    let s = svc(ts);
    let inv = s
        .guilds
        .create_invite(uid(owner), channel, CreateInvite::default(), None)
        .await
        .expect("invite");
    s.guilds
        .accept_invite(uid(user), &inv.code)
        .await
        .expect("join");
}

/// `author` posts `content` in `channel`; the message JSON.
pub async fn post(
    ts: &TestServer,
    author: &str,
    is_bot: bool,
    channel: ChannelId,
    content: &str,
) -> Value {
    let body: CreateMessage = serde_json::from_value(json!({"content": content})).expect("body");
    let m = svc(ts)
        .messages
        .create(
            &me(author, is_bot),
            channel,
            NewMessageInput {
                body,
                files: vec![],
            },
        )
        .await
        .expect("post");
    serde_json::to_value(m).expect("json")
}

/// Wait for a MESSAGE_CREATE whose content or id matches.
async fn message_with_id(gw: &mut Gw, id: &str) -> Value {
    loop {
        let d = gw.expect("MESSAGE_CREATE").await;
        if d["id"] == id {
            return d;
        }
    }
}

/// Assert that no MESSAGE_CREATE with this id arrives within a short while.
async fn no_message(gw: &mut Gw, id: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(600);
    while let Some(got) = gw
        .next_within(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        if let super::Got::Frame(v) = got {
            assert!(
                !(v["t"] == "MESSAGE_CREATE" && v["d"]["id"] == id),
                "unexpected delivery: {v}"
            );
        }
    }
}

#[tokio::test]
async fn guild_create_follows_ready_with_what_the_user_may_see() {
    let ts = TestServer::start().await;
    let alice = ts.user("fan_alice").await;
    let bob = ts.user("fan_bob").await;
    let (g, general) = guild(&ts, &alice.id, "Fan-out").await;
    join(&ts, &alice.id, general, &bob.id).await;

    let mut a = Gw::connect(&ts).await;
    let ready = a.ready(&alice.token, ALL_INTENTS).await;
    assert_eq!(
        ready["guilds"],
        json!([{"id": g.to_string(), "unavailable": true}])
    );
    let gc = a.expect("GUILD_CREATE").await;
    assert_eq!(gc["id"], g.to_string());
    assert_eq!(gc["unavailable"], false);
    assert_eq!(gc["member_count"], 2);
    assert_eq!(gc["large"], false);
    assert!(gc["joined_at"].is_string());
    assert_eq!(gc["members"].as_array().map(Vec::len), Some(2));
    assert!(gc["roles"].as_array().is_some_and(|r| !r.is_empty()));
    let names: Vec<&str> = gc["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert!(names.contains(&"general"), "{names:?}");
    for k in ["voice_states", "presences", "threads", "emojis", "stickers"] {
        assert!(gc[k].is_array(), "{k}");
    }
    // Alice is online: her own presence is listed.
    assert!(
        gc["presences"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["user"]["id"] == alice.id.as_str()))
    );

    // A private channel Bob cannot see is left out of his GUILD_CREATE.
    let s = svc(&ts);
    let form: CreateChannel =
        serde_json::from_value(json!({"name": "staff", "permission_overwrites": []}))
            .expect("form");
    let staff = s
        .guilds
        .create_channel(uid(&alice.id), g, form, None)
        .await
        .expect("channel");
    let deny: PutOverwrite = PutOverwrite {
        kind: OverwriteType::Role,
        allow: None,
        deny: Some(Permissions::VIEW_CHANNEL),
    };
    s.guilds
        .put_overwrite(uid(&alice.id), staff.id, Snowflake(g.get()), deny, None)
        .await
        .expect("overwrite");
    let mut b = Gw::connect(&ts).await;
    b.ready(&bob.token, ALL_INTENTS).await;
    let gc = b.expect("GUILD_CREATE").await;
    let ids: Vec<&str> = gc["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(ids.contains(&general.to_string().as_str()));
    assert!(
        !ids.contains(&staff.id.to_string().as_str()),
        "staff is hidden from Bob"
    );
    ts.stop().await;
}

#[tokio::test]
async fn messages_reach_members_by_intents_and_content_rules() {
    let ts = TestServer::start().await;
    let alice = ts.user("msg_alice").await;
    let (g, general) = guild(&ts, &alice.id, "Messages").await;
    let (plain_id, plain_token) = bot(&ts, "plain_bot").await;
    let (reader_id, reader_token) = bot(&ts, "reader_bot").await;
    let (deaf_id, deaf_token) = bot(&ts, "deaf_bot").await;
    for b in [&plain_id, &reader_id, &deaf_id] {
        join(&ts, &alice.id, general, b).await;
    }
    let mut plain = Gw::connect(&ts).await;
    plain.ready(&plain_token, GUILDS | GUILD_MESSAGES).await;
    plain.expect("GUILD_CREATE").await;
    let mut reader = Gw::connect(&ts).await;
    reader
        .ready(&reader_token, GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT)
        .await;
    reader.expect("GUILD_CREATE").await;
    let mut deaf = Gw::connect(&ts).await;
    deaf.ready(&deaf_token, GUILDS).await;
    let gc = deaf.expect("GUILD_CREATE").await;
    assert_eq!(gc["id"], g.to_string());
    // Without GUILD_MEMBERS a bot's GUILD_CREATE lists only itself.
    let members = gc["members"].as_array().expect("members");
    assert_eq!(members.len(), 1);
    assert_eq!(members[0]["user"]["id"], deaf_id.as_str());

    let m = post(&ts, &alice.id, false, general, "hello bots").await;
    let id = m["id"].as_str().expect("id");
    let d = reader.expect("MESSAGE_CREATE").await;
    assert_eq!(d["content"], "hello bots");
    assert_eq!(d["guild_id"], g.to_string());
    let d = plain.expect("MESSAGE_CREATE").await;
    assert_eq!(d["id"], id);
    assert_eq!(d["content"], "", "no MESSAGE_CONTENT: content blanked");
    assert_eq!(d["embeds"], json!([]));
    no_message(&mut deaf, id).await;

    // A mention gives the content back to the mentioned bot.
    let m = post(
        &ts,
        &alice.id,
        false,
        general,
        &format!("hey <@{plain_id}>"),
    )
    .await;
    let d = message_with_id(&mut plain, m["id"].as_str().expect("id")).await;
    assert_eq!(d["content"], format!("hey <@{plain_id}>"));
    // And a bot sees its own messages.
    let m = post(&ts, &plain_id, true, general, "my own words").await;
    let d = message_with_id(&mut plain, m["id"].as_str().expect("id")).await;
    assert_eq!(d["content"], "my own words");
    ts.stop().await;
}

#[tokio::test]
async fn permission_changes_apply_to_live_sessions() {
    let ts = TestServer::start().await;
    let alice = ts.user("live_alice").await;
    let bob = ts.user("live_bob").await;
    let (g, general) = guild(&ts, &alice.id, "Live").await;
    join(&ts, &alice.id, general, &bob.id).await;
    let mut b = Gw::connect(&ts).await;
    b.ready(&bob.token, ALL_INTENTS).await;
    b.expect("GUILD_CREATE").await;

    let m = post(&ts, &alice.id, false, general, "before").await;
    message_with_id(&mut b, m["id"].as_str().expect("id")).await;

    // @everyone loses VIEW_CHANNEL on general: Bob hears the change, then no more.
    let s = svc(&ts);
    let deny = PutOverwrite {
        kind: OverwriteType::Role,
        allow: None,
        deny: Some(Permissions::VIEW_CHANNEL),
    };
    s.guilds
        .put_overwrite(uid(&alice.id), general, Snowflake(g.get()), deny, None)
        .await
        .expect("deny");
    // The channel is hidden from Bob: for him it is deleted.
    let hidden = next_dispatch(&mut b).await;
    assert_eq!(hidden["t"], "CHANNEL_DELETE", "{hidden}");
    assert_eq!(hidden["d"]["id"], general.to_string());
    let m = post(&ts, &alice.id, false, general, "hidden").await;
    no_message(&mut b, m["id"].as_str().expect("id")).await;

    // A member overwrite lets Bob back in, without reconnecting.
    let allow = PutOverwrite {
        kind: OverwriteType::Member,
        allow: Some(Permissions::VIEW_CHANNEL),
        deny: None,
    };
    s.guilds
        .put_overwrite(uid(&alice.id), general, uid(&bob.id).0, allow, None)
        .await
        .expect("allow");
    let shown = next_dispatch(&mut b).await;
    assert_eq!(shown["t"], "CHANNEL_CREATE", "revealed again: {shown}");
    assert_eq!(shown["d"]["id"], general.to_string());
    let m = post(&ts, &alice.id, false, general, "visible again").await;
    let d = message_with_id(&mut b, m["id"].as_str().expect("id")).await;
    assert_eq!(d["content"], "visible again");

    // Kicked: GUILD_DELETE once, then nothing from the guild.
    let mut a = Gw::connect(&ts).await;
    a.ready(&alice.token, ALL_INTENTS).await;
    a.expect("GUILD_CREATE").await;
    s.guilds
        .kick(uid(&alice.id), g, uid(&bob.id), None)
        .await
        .expect("kick");
    let gone = b.expect("GUILD_DELETE").await;
    assert_eq!(gone["id"], g.to_string());
    let removed = a.expect("GUILD_MEMBER_REMOVE").await;
    assert_eq!(removed["user"]["id"], bob.id.as_str());
    let m = post(&ts, &alice.id, false, general, "after the kick").await;
    let id = m["id"].as_str().expect("id").to_owned();
    message_with_id(&mut a, &id).await;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(600);
    while let Some(got) = b
        .next_within(deadline.saturating_duration_since(tokio::time::Instant::now()))
        .await
    {
        if let super::Got::Frame(v) = got {
            assert!(v["t"] != "GUILD_DELETE", "GUILD_DELETE twice");
            assert!(v["t"] != "MESSAGE_CREATE", "a kicked member got {v}");
        }
    }

    // Joining again (live) brings a fresh GUILD_CREATE and the events back.
    join(&ts, &alice.id, general, &bob.id).await;
    let gc = b.expect("GUILD_CREATE").await;
    assert_eq!(gc["id"], g.to_string());
    let m = post(&ts, &alice.id, false, general, "welcome back").await;
    message_with_id(&mut b, m["id"].as_str().expect("id")).await;
    ts.stop().await;
}

#[tokio::test]
async fn request_guild_members_answers_with_chunks() {
    let ts = TestServer::start().await;
    let alice = ts.user("chunk_alice").await;
    let (g, general) = guild(&ts, &alice.id, "Chunks").await;
    let (bid, btoken) = bot(&ts, "chunk_bot").await;
    join(&ts, &alice.id, general, &bid).await;
    let mut c = Gw::connect(&ts).await;
    c.ready(&btoken, ALL_INTENTS).await;
    c.expect("GUILD_CREATE").await;
    c.send(json!({"op": 8, "d": {"guild_id": g.to_string(), "query": "", "limit": 0, "presences": true, "nonce": "n1"}}))
        .await;
    let d = c.expect("GUILD_MEMBERS_CHUNK").await;
    assert_eq!(d["guild_id"], g.to_string());
    assert_eq!(d["chunk_index"], 0);
    assert_eq!(d["chunk_count"], 1);
    assert_eq!(d["nonce"], "n1");
    assert_eq!(d["members"].as_array().map(Vec::len), Some(2));
    assert!(d["presences"].is_array());
    c.send(
        json!({"op": 8, "d": {"guild_id": g.to_string(), "user_ids": [alice.id, "1"], "limit": 0}}),
    )
    .await;
    let d = c.expect("GUILD_MEMBERS_CHUNK").await;
    assert_eq!(d["members"].as_array().map(Vec::len), Some(1));
    assert_eq!(d["not_found"], json!(["1"]));
    c.send(json!({"op": 8, "d": {"guild_id": g.to_string(), "query": "chunk_a", "limit": 10}}))
        .await;
    let d = c.expect("GUILD_MEMBERS_CHUNK").await;
    assert_eq!(d["members"][0]["user"]["id"], alice.id.as_str());
    ts.stop().await;
}

/// Whether a frame is a dispatch about channels or messages.
fn about_channels(v: &Value) -> bool {
    v["op"] == 0
        && v["t"]
            .as_str()
            .is_some_and(|t| t.starts_with("CHANNEL_") || t.starts_with("MESSAGE_"))
}

/// The next dispatch about channels or messages (others are skipped).
async fn next_dispatch(gw: &mut Gw) -> Value {
    loop {
        let v = gw.next_frame().await;
        if about_channels(&v) {
            return v;
        }
    }
}

/// Expect CHANNEL_CREATE (`shown`) or CHANNEL_DELETE of `channel` next.
async fn expect_view(gw: &mut Gw, shown: bool, channel: &str, why: &str) {
    let v = next_dispatch(gw).await;
    let t = if shown {
        "CHANNEL_CREATE"
    } else {
        "CHANNEL_DELETE"
    };
    assert_eq!(v["t"], t, "{why}: {v}");
    assert_eq!(v["d"]["id"], channel, "{why}");
    assert_eq!(v["d"]["name"], "secret", "{why}: the channel object");
}

/// Nothing about channels or messages for a moment.
async fn quiet(gw: &mut Gw, why: &str) {
    while let Some(got) = gw.next_within(Duration::from_millis(400)).await {
        if let super::Got::Frame(v) = got {
            assert!(!about_channels(&v), "{why}: unexpected {v}");
        }
    }
}

#[tokio::test]
async fn role_and_overwrite_changes_reveal_and_hide_channels() {
    let ts = TestServer::start().await;
    let alice = ts.user("reveal_alice").await;
    let bob = ts.user("reveal_bob").await;
    let (g, general) = guild(&ts, &alice.id, "Reveal").await;
    join(&ts, &alice.id, general, &bob.id).await;
    let mut b = Gw::connect(&ts).await;
    b.ready(&bob.token, ALL_INTENTS).await;
    b.expect("GUILD_CREATE").await;

    // A channel everyone sees at first, then hidden from @everyone.
    let (s, ch) = ts
        .post_as(
            &format!("/guilds/{g}/channels"),
            alice.auth(),
            &json!({"name": "secret"}),
        )
        .await;
    assert_eq!(s, 201, "{ch}");
    let secret = ch["id"].as_str().expect("id").to_owned();
    assert_eq!(b.expect("CHANNEL_CREATE").await["id"], secret.as_str());
    let everyone = g.to_string();
    let (s, v) = ts
        .put(
            &format!("/channels/{secret}/permissions/{everyone}"),
            alice.auth(),
            &json!({"type": 0, "allow": "0", "deny": "1024"}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    expect_view(&mut b, false, &secret, "overwrite hides it from @everyone").await;

    // A role with no permissions, allowed in by an overwrite.
    let (s, role) = ts
        .post_as(
            &format!("/guilds/{g}/roles"),
            alice.auth(),
            &json!({"name": "insiders", "permissions": "0"}),
        )
        .await;
    assert_eq!(s, 200, "{role}");
    let role = role["id"].as_str().expect("role id").to_owned();
    let (s, v) = ts
        .put(
            &format!("/channels/{secret}/permissions/{role}"),
            alice.auth(),
            &json!({"type": 0, "allow": "1024", "deny": "0"}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    quiet(&mut b, "Bob has not the role: nothing changes for him").await;

    // Given the role: the channel appears, and its messages reach Bob.
    let member_role = format!("/guilds/{g}/members/{}/roles/{role}", bob.id);
    let (s, v) = ts.put(&member_role, alice.auth(), &json!({})).await;
    assert_eq!(s, 204, "{v}");
    expect_view(&mut b, true, &secret, "role added").await;
    let secret_id: ChannelId = secret.parse().expect("id");
    let m = post(&ts, &alice.id, false, secret_id, "for insiders").await;
    message_with_id(&mut b, m["id"].as_str().expect("id")).await;

    // The role taken away: the channel goes, and so do its messages.
    let (s, v) = ts.delete(&member_role, alice.auth()).await;
    assert_eq!(s, 204, "{v}");
    expect_view(&mut b, false, &secret, "role removed").await;
    let m = post(&ts, &alice.id, false, secret_id, "not for Bob").await;
    no_message(&mut b, m["id"].as_str().expect("id")).await;

    // Role again, then the role's overwrite deleted: hidden.
    let (s, _) = ts.put(&member_role, alice.auth(), &json!({})).await;
    assert_eq!(s, 204);
    expect_view(&mut b, true, &secret, "role added again").await;
    let (s, v) = ts
        .delete(
            &format!("/channels/{secret}/permissions/{role}"),
            alice.auth(),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    expect_view(&mut b, false, &secret, "overwrite deleted").await;

    // The role's own permissions: ADMINISTRATOR reveals everything, and back.
    let (s, v) = ts
        .patch(
            &format!("/guilds/{g}/roles/{role}"),
            alice.auth(),
            &json!({"permissions": "8"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    expect_view(&mut b, true, &secret, "role made administrator").await;
    let (s, v) = ts
        .patch(
            &format!("/guilds/{g}/roles/{role}"),
            alice.auth(),
            &json!({"permissions": "0"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    expect_view(&mut b, false, &secret, "role no longer administrator").await;
    let m = post(&ts, &alice.id, false, secret_id, "still hidden").await;
    no_message(&mut b, m["id"].as_str().expect("id")).await;
    ts.stop().await;
}

#[tokio::test]
async fn large_guilds_send_at_most_large_threshold_members() {
    let ts = TestServer::start().await;
    let alice = ts.user("large_alice").await;
    let (g, general) = guild(&ts, &alice.id, "Large").await;
    for n in 0..51 {
        let (id, _) = bot(&ts, &format!("large_bot_{n}")).await;
        join(&ts, &alice.id, general, &id).await;
    }
    let mut a = Gw::connect(&ts).await;
    a.send(json!({"op": 2, "d": {
        "token": alice.token,
        "properties": {"os": "linux", "browser": "beep-tests", "device": "beep-tests"},
        "large_threshold": 50,
    }}))
    .await;
    a.expect("READY").await;
    let gc = a.expect("GUILD_CREATE").await;
    assert_eq!(gc["id"], g.to_string());
    assert_eq!(gc["member_count"], 52);
    assert_eq!(gc["large"], true, "52 members is over the threshold of 50");
    let members = gc["members"].as_array().expect("members");
    assert!(members.len() <= 50, "{} members sent", members.len());
    assert!(
        members.iter().any(|m| m["user"]["id"] == alice.id.as_str()),
        "the session's own member is always there"
    );
    // The rest comes on request, in one chunk here.
    a.send(json!({"op": 8, "d": {"guild_id": g.to_string(), "query": "", "limit": 0}}))
        .await;
    let d = a.expect("GUILD_MEMBERS_CHUNK").await;
    assert_eq!(d["members"].as_array().map(Vec::len), Some(52));
    assert!(d.get("presences").is_none(), "presences only when asked");
    ts.stop().await;
}
