//! The inbox: what mentions and replies create, pages, reading, refusals, and
//! the gateway events.

use std::time::Duration;

use serde_json::json;

use super::{inbox, mention, set};
use crate::gateway::client::Gw;
use crate::messages::room;

#[tokio::test]
async fn mentions_and_replies_notify_ordinary_messages_do_not() {
    let r = room().await;
    let m = r.send_body(&r.alice, &mention(&r.bob, "look")).await;
    r.send(&r.alice, "nobody in particular").await;
    let list = inbox(&r.ts, &r.bob).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let n = &list[0];
    assert_eq!(n["type"], "mention");
    assert_eq!(n["read"], false);
    assert_eq!(n["message_id"], m["id"]);
    assert_eq!(n["channel_id"].as_str(), Some(r.channel.as_str()));
    assert_eq!(n["guild_id"].as_str(), Some(r.guild.as_str()));
    assert_eq!(n["actor_id"].as_str(), Some(r.alice.id.as_str()));
    assert!(n["created_at"].is_string());
    assert!(
        inbox(&r.ts, &r.alice).await.is_empty(),
        "no self-notification"
    );

    // Bob replies to Alice: she gets a reply notification (a reply pings its author).
    let reply = r
        .send_body(
            &r.bob,
            &json!({"content": "yes?", "message_reference": {"message_id": m["id"]}}),
        )
        .await;
    let list = inbox(&r.ts, &r.alice).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["type"], "reply");
    assert_eq!(list[0]["message_id"], reply["id"]);

    // A reply that does not ping its author notifies nobody.
    r.send_body(
        &r.bob,
        &json!({"content": "quiet", "message_reference": {"message_id": m["id"]},
                "allowed_mentions": {"replied_user": false}}),
    )
    .await;
    assert_eq!(inbox(&r.ts, &r.alice).await.len(), 1);

    // Deleting the message takes its notification away.
    let (s, _) =
        r.ts.delete(
            &r.path(&format!("/messages/{}", m["id"].as_str().expect("present"))),
            r.alice.auth(),
        )
        .await;
    assert_eq!(s, 204);
    assert!(inbox(&r.ts, &r.bob).await.is_empty());
}

#[tokio::test]
async fn everyone_role_and_hidden_channel_mentions() {
    let r = room().await;
    r.send(&r.alice, "@everyone meeting").await;
    let list = inbox(&r.ts, &r.bob).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["type"], "mention");

    // suppress_everyone silences @everyone, not a direct mention.
    set(&r.ts, &r.bob, &r.guild, json!({"suppress_everyone": true})).await;
    r.send(&r.alice, "@everyone again").await;
    assert_eq!(inbox(&r.ts, &r.bob).await.len(), 1);

    // A mentionable role Bob has.
    let (s, role) =
        r.ts.post_as(
            &format!("/guilds/{}/roles", r.guild),
            r.alice.auth(),
            &json!({"name": "ops", "mentionable": true}),
        )
        .await;
    assert_eq!(s, 200, "{role}");
    let role_id = role["id"].as_str().expect("present").to_owned();
    let (s, v) =
        r.ts.put(
            &format!("/guilds/{}/members/{}/roles/{role_id}", r.guild, r.bob.id),
            r.alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    r.send(&r.alice, &format!("<@&{role_id}> deploy")).await;
    assert_eq!(inbox(&r.ts, &r.bob).await.len(), 2);
    set(&r.ts, &r.bob, &r.guild, json!({"suppress_roles": true})).await;
    r.send(&r.alice, &format!("<@&{role_id}> deploy again"))
        .await;
    assert_eq!(inbox(&r.ts, &r.bob).await.len(), 2);

    // A member who cannot see the channel is not notified.
    r.deny(&r.bob, 1 << 10).await;
    r.send_body(&r.alice, &mention(&r.bob, "hidden")).await;
    assert_eq!(inbox(&r.ts, &r.bob).await.len(), 2);
}

#[tokio::test]
async fn pages_reads_and_refusals() {
    let r = room().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        r.send_body(&r.alice, &mention(&r.bob, &format!("n{i}")))
            .await;
    }
    for n in inbox(&r.ts, &r.bob).await {
        ids.push(n["id"].as_str().expect("present").to_owned());
    }
    assert_eq!(ids.len(), 3);
    // Newest first.
    let mut sorted = ids.clone();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.parse::<u64>().expect("present")));
    assert_eq!(ids, sorted);

    let (s, page) =
        r.ts.get("/users/@me/notifications?limit=2", r.bob.auth())
            .await;
    assert_eq!(s, 200);
    assert_eq!(page.as_array().expect("present").len(), 2);
    let (s, page) =
        r.ts.get(
            &format!("/users/@me/notifications?before={}", ids[1]),
            r.bob.auth(),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(page.as_array().expect("present").len(), 1);
    assert_eq!(page[0]["id"].as_str(), Some(ids[2].as_str()));

    for bad in ["limit=0", "limit=101", "limit=abc", "before=xyz", "foo=1"] {
        let (s, v) =
            r.ts.get(&format!("/users/@me/notifications?{bad}"), r.bob.auth())
                .await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert_eq!(v["code"], 50035, "{bad}: {v}");
    }
    let (s, _) = r.ts.get("/users/@me/notifications", None).await;
    assert_eq!(s, 401);

    // Another user's notification, an unknown id, a malformed id.
    let path = |id: &str| format!("/users/@me/notifications/{id}/read");
    let (s, v) =
        r.ts.post_as(&path(&ids[0]), r.alice.auth(), &json!({}))
            .await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(10080)), "{v}");
    let (s, v) = r.ts.post_as(&path("12345"), r.bob.auth(), &json!({})).await;
    assert_eq!((s, v["code"].as_i64()), (404, Some(10080)), "{v}");
    let (s, _) = r.ts.post_as(&path("nope"), r.bob.auth(), &json!({})).await;
    assert_eq!(s, 400);

    let (s, _) = r.ts.post_as(&path(&ids[1]), r.bob.auth(), &json!({})).await;
    assert_eq!(s, 204);
    let (s, _) = r.ts.post_as(&path(&ids[1]), r.bob.auth(), &json!({})).await;
    assert_eq!(s, 204, "reading twice is fine");
    let read: Vec<bool> = inbox(&r.ts, &r.bob)
        .await
        .iter()
        .map(|n| n["read"].as_bool().expect("present"))
        .collect();
    assert_eq!(read, vec![false, true, false]);
    let (s, _) =
        r.ts.post_as(
            "/users/@me/notifications/read-all",
            r.bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    assert!(inbox(&r.ts, &r.bob).await.iter().all(|n| n["read"] == true));
}

#[tokio::test]
async fn gateway_hears_created_and_read() {
    let r = room().await;
    let mut gw = Gw::connect(&r.ts).await;
    gw.ready(&r.bob.token, 1 << 9).await;
    let m = r.send_body(&r.alice, &mention(&r.bob, "ping")).await;
    let d = gw.expect("NOTIFICATION_CREATE").await;
    assert_eq!(d["type"], "mention");
    assert_eq!(d["message_id"], m["id"]);
    assert_eq!(d["read"], false);
    let id = d["id"].as_str().expect("present").to_owned();

    // Reading the channel (ack) reads its notifications.
    let (s, v) =
        r.ts.post_as(
            &r.path(&format!(
                "/messages/{}/ack",
                m["id"].as_str().expect("present")
            )),
            r.bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let d = gw.expect("NOTIFICATION_READ").await;
    assert_eq!(d["ids"], json!([id]));
    assert_eq!(d["all"], false);
    assert_eq!(inbox(&r.ts, &r.bob).await[0]["read"], true);

    r.send_body(&r.alice, &mention(&r.bob, "again")).await;
    gw.expect("NOTIFICATION_CREATE").await;
    let (s, _) =
        r.ts.post_as(
            "/users/@me/notifications/read-all",
            r.bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    let d = gw.expect("NOTIFICATION_READ").await;
    assert_eq!(d["all"], true);
    assert!(d["up_to"].is_string());
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test]
async fn webhook_mentions_notify() {
    let r = room().await;
    let (s, w) =
        r.ts.post_as(&r.path("/webhooks"), r.alice.auth(), &json!({"name": "CI"}))
            .await;
    assert_eq!(s, 200, "{w}");
    let id = w["id"].as_str().expect("id");
    let token = w["token"].as_str().expect("token");
    let (s, v) =
        r.ts.post_as(
            &format!("/webhooks/{id}/{token}?wait=true"),
            None,
            &mention(&r.bob, "build failed"),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let list = inbox(&r.ts, &r.bob).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["type"], "mention");
    assert_eq!(list[0]["message_id"], v["id"]);
}
