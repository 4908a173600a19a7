//! Notification settings: levels, mutes, snoozes that end by themselves,
//! channel overrides, `@me`, the settings event, and refusals.

use std::time::Duration;

use serde_json::json;

use super::{inbox, mention, set};
use crate::gateway::client::Gw;
use crate::messages::room;

#[tokio::test]
async fn a_muted_server_notifies_mentions_only() {
    let r = room().await;
    // All messages: an ordinary message notifies.
    let v = set(&r.ts, &r.bob, &r.guild, json!({"message_notifications": 0})).await;
    assert_eq!(v["message_notifications"], 0);
    assert_eq!(v["guild_id"].as_str(), Some(r.guild.as_str()));
    r.send(&r.alice, "hello all").await;
    let list = inbox(&r.ts, &r.bob).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["type"], "message");

    // Muted: an ordinary message creates nothing, a mention still does.
    let v = set(&r.ts, &r.bob, &r.guild, json!({"muted": true})).await;
    assert_eq!(v["muted"], true);
    assert_eq!(v["mute_config"], json!(null), "muted until unmuted");
    r.send(&r.alice, "ordinary").await;
    assert_eq!(
        inbox(&r.ts, &r.bob).await.len(),
        1,
        "muted: no notification"
    );
    r.send_body(&r.alice, &mention(&r.bob, "urgent")).await;
    let list = inbox(&r.ts, &r.bob).await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["type"], "mention");

    // Nothing: not even mentions.
    set(&r.ts, &r.bob, &r.guild, json!({"message_notifications": 2})).await;
    r.send_body(&r.alice, &mention(&r.bob, "hello?")).await;
    assert_eq!(inbox(&r.ts, &r.bob).await.len(), 2);
}

#[tokio::test]
async fn a_snooze_ends_at_its_time() {
    let r = room().await;
    let end = chrono::Utc::now() + chrono::Duration::milliseconds(2500);
    let v = set(
        &r.ts,
        &r.bob,
        &r.guild,
        json!({"message_notifications": 0, "muted": true,
               "mute_config": {"end_time": end.to_rfc3339(), "selected_time_window": 2}}),
    )
    .await;
    assert_eq!(v["muted"], true);
    assert_eq!(v["mute_config"]["selected_time_window"], 2);
    assert!(v["mute_config"]["end_time"].is_string(), "{v}");
    r.send(&r.alice, "during the snooze").await;
    assert!(inbox(&r.ts, &r.bob).await.is_empty());

    let wait = (end - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(300)).await;
    r.send(&r.alice, "after the snooze").await;
    let list = inbox(&r.ts, &r.bob).await;
    assert_eq!(list.len(), 1, "ordinary messages notify again: {list:?}");
    let (s, all) = r.ts.get("/users/@me/guilds/settings", r.bob.auth()).await;
    assert_eq!(s, 200);
    assert_eq!(all[0]["muted"], false, "the mute is over by itself: {all}");
}

#[tokio::test]
async fn channel_overrides_win_over_the_guild() {
    let r = room().await;
    let (s, other) =
        r.ts.post_as(
            &format!("/guilds/{}/channels", r.guild),
            r.alice.auth(),
            &json!({"name": "random", "type": 0}),
        )
        .await;
    assert_eq!(s, 201, "{other}");
    let other = other["id"].as_str().expect("present").to_owned();
    let v = set(
        &r.ts,
        &r.bob,
        &r.guild,
        json!({"message_notifications": 0,
               "channel_overrides": [{"channel_id": r.channel, "muted": true}]}),
    )
    .await;
    assert_eq!(
        v["channel_overrides"][0]["channel_id"].as_str(),
        Some(r.channel.as_str())
    );
    assert_eq!(v["channel_overrides"][0]["muted"], true);
    assert_eq!(v["channel_overrides"][0]["message_notifications"], 3);
    r.send(&r.alice, "in the muted channel").await;
    assert!(inbox(&r.ts, &r.bob).await.is_empty());
    let (s, m) =
        r.ts.post_as(
            &format!("/channels/{other}/messages"),
            r.alice.auth(),
            &json!({"content": "elsewhere"}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(inbox(&r.ts, &r.bob).await.len(), 1);

    // Discord's map form; level 2 silences mentions in that channel only.
    let v = set(
        &r.ts,
        &r.bob,
        &r.guild,
        json!({"channel_overrides": {other.clone(): {"message_notifications": 2}}}),
    )
    .await;
    assert_eq!(
        v["channel_overrides"].as_array().expect("present").len(),
        2,
        "{v}"
    );
    r.ts.post_as(
        &format!("/channels/{other}/messages"),
        r.alice.auth(),
        &mention(&r.bob, "x"),
    )
    .await;
    assert_eq!(inbox(&r.ts, &r.bob).await.len(), 1);
    r.send_body(&r.alice, &mention(&r.bob, "here")).await;
    assert_eq!(
        inbox(&r.ts, &r.bob).await.len(),
        2,
        "mention passes the channel mute"
    );

    // An override back to "inherit" and unmuted disappears.
    let v = set(
        &r.ts,
        &r.bob,
        &r.guild,
        json!({"channel_overrides": [{"channel_id": r.channel, "muted": false}]}),
    )
    .await;
    assert_eq!(
        v["channel_overrides"].as_array().expect("present").len(),
        1,
        "{v}"
    );
}

#[tokio::test]
async fn settings_refusals_list_and_event() {
    let r = room().await;
    let carol = r.ts.user("carol").await;
    let path = |g: &str| format!("/users/@me/guilds/{g}/settings");
    // Not a member, unknown guild, malformed id.
    let (s, v) =
        r.ts.patch(&path(&r.guild), carol.auth(), &json!({"muted": true}))
            .await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(10004)), "{v}");
    let (s, v) = r.ts.patch(&path("123"), r.bob.auth(), &json!({})).await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(10004)), "{v}");
    let (s, _) = r.ts.patch(&path("nope"), r.bob.auth(), &json!({})).await;
    assert_eq!(s, 404);
    // Bad values.
    for body in [
        json!({"message_notifications": 7}),
        json!({"muted": "yes"}),
        json!({"mute_config": {"end_time": "tomorrow"}}),
        json!({"bogus": 1}),
        json!({"channel_overrides": 5}),
        json!({"channel_overrides": [{"channel_id": "x"}]}),
        json!({"channel_overrides": [{"channel_id": r.channel, "message_notifications": -1}]}),
    ] {
        let (s, v) = r.ts.patch(&path(&r.guild), r.bob.auth(), &body).await;
        assert_eq!(s, 400, "{body}: {v}");
        assert_eq!(v["code"], 50035, "{body}: {v}");
    }
    // A channel of another guild.
    let (_, foreign) = crate::messages::guild(&r.ts, &carol, "Other").await;
    let (s, v) =
        r.ts.patch(
            &path(&r.guild),
            r.bob.auth(),
            &json!({"channel_overrides": [{"channel_id": foreign, "muted": true}]}),
        )
        .await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(10003)), "{v}");
    let (s, _) = r.ts.patch(&path(&r.guild), None, &json!({})).await;
    assert_eq!(s, 401);

    // The event, the list, and `@me`.
    let mut gw = Gw::connect(&r.ts).await;
    gw.ready(&r.bob.token, 1).await;
    let v = set(&r.ts, &r.bob, &r.guild, json!({"message_notifications": 1})).await;
    let d = gw.expect("USER_GUILD_SETTINGS_UPDATE").await;
    assert_eq!(d, v);
    assert_eq!(v["version"], 1);
    let me = set(&r.ts, &r.bob, "@me", json!({"message_notifications": 2})).await;
    assert_eq!(me["guild_id"], json!(null));
    let (s, all) = r.ts.get("/users/@me/guilds/settings", r.bob.auth()).await;
    assert_eq!(s, 200);
    assert_eq!(all.as_array().expect("present").len(), 2, "{all}");
    let (_, none) = r.ts.get("/users/@me/guilds/settings", carol.auth()).await;
    assert_eq!(none, json!([]));
}
