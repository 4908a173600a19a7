//! Typing, acks, read states with unread and mention counts, and slow mode.

use beep_core::events::Audience;
use serde_json::json;

use super::{assert_channel_audience, code, room};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typing_is_published_to_the_channel() {
    let r = room().await;
    let mut events = r.events();
    let (s, _) =
        r.ts.post_as(&r.path("/typing"), r.bob.auth(), &json!({}))
            .await;
    assert_eq!(s, 204);
    let e = events.next("TYPING_START").await;
    assert_channel_audience(&e, &r.guild, &r.channel, 1 << 11);
    assert_eq!(e.data["user_id"], r.bob.id.as_str());
    assert!(e.data["timestamp"].is_i64());
    assert!(e.data["member"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_states_count_unread_messages_and_mentions() {
    let r = room().await;
    let (s, v) = r.ts.get("/users/@me/read-states", r.bob.auth()).await;
    assert_eq!((s, v), (200, json!([])));
    let first = r.send(&r.alice, "one").await;
    r.send(&r.alice, &format!("hey <@{}>", r.bob.id)).await;
    r.send(&r.alice, "@everyone meeting").await;
    let last = r.send(&r.alice, "plain").await;

    let mut events = r.events();
    let fid = first["id"].as_str().expect("id");
    let (s, v) =
        r.ts.post_as(
            &r.path(&format!("/messages/{fid}/ack")),
            r.bob.auth(),
            &json!({"token": null}),
        )
        .await;
    assert_eq!((s, v), (200, json!({"token": null})));
    let e = events.next("MESSAGE_ACK").await;
    assert_eq!(
        e.audience,
        Audience::Users(vec![r.bob.id.parse().expect("id")]),
        "only bob's sessions"
    );
    assert_eq!(e.data["message_id"], fid);

    let (_, states) = r.ts.get("/users/@me/read-states", r.bob.auth()).await;
    let s0 = &states[0];
    assert_eq!(s0["id"], r.channel.as_str());
    assert_eq!(s0["last_message_id"], fid);
    assert_eq!(s0["unread_count"], 3);
    assert_eq!(
        s0["mention_count"], 2,
        "a direct mention and @everyone: {states}"
    );
    assert_eq!(s0["channel_last_message_id"], last["id"]);

    let lid = last["id"].as_str().expect("id");
    let (s, _) =
        r.ts.post_as(
            &r.path(&format!("/messages/{lid}/ack")),
            r.bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200);
    // An older ack does not move back, unless it is a manual "mark unread".
    let (s, _) =
        r.ts.post_as(
            &r.path(&format!("/messages/{fid}/ack")),
            r.bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, states) = r.ts.get("/users/@me/read-states", r.bob.auth()).await;
    assert_eq!(
        (
            states[0]["unread_count"].clone(),
            states[0]["mention_count"].clone()
        ),
        (json!(0), json!(0))
    );
    let (s, _) =
        r.ts.post_as(
            &r.path(&format!("/messages/{fid}/ack")),
            r.bob.auth(),
            &json!({"manual": true}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, states) = r.ts.get("/users/@me/read-states", r.bob.auth()).await;
    assert_eq!(states[0]["mention_count"], 2);
    // An empty body is an ack too (Discord's client sends one sometimes).
    let resp =
        r.ts.http
            .post(r.ts.api(&r.path(&format!("/messages/{lid}/ack"))))
            .header("authorization", &r.bob.token)
            .send()
            .await
            .expect("request");
    assert_eq!(resp.status(), 200);

    // A channel bob can no longer see is not listed.
    r.deny(&r.bob, 1 << 10).await;
    let (_, states) = r.ts.get("/users/@me/read-states", r.bob.auth()).await;
    assert_eq!(states, json!([]));
    let (s, v) =
        r.ts.post_as(
            &r.path(&format!("/messages/{lid}/ack")),
            r.bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_mode_answers_429_with_retry_after() {
    let r = room().await;
    let (s, v) =
        r.ts.patch(
            &r.path(""),
            r.alice.auth(),
            &json!({"rate_limit_per_user": 30}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["rate_limit_per_user"], 30);
    r.send(&r.bob, "first").await;
    let resp =
        r.ts.send(
            reqwest::Method::POST,
            &r.path("/messages"),
            r.bob.auth(),
            Some(&json!({"content": "second"})),
        )
        .await;
    assert_eq!(resp.status(), 429);
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<u64>().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&retry), "{retry}");
    let v: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(code(&v), 20016, "{v}");
    assert!(
        v["retry_after"]
            .as_f64()
            .is_some_and(|s| s > 0.0 && s <= 30.0),
        "{v}"
    );
    // Moderators are not slowed down.
    r.send(&r.alice, "one").await;
    r.send(&r.alice, "two").await;
}
