//! Pins: the type-6 notice, the events, the permission and the 250 limit.

use beep_core::accounts::Principal;
use beep_core::messages::NewMessageInput;
use beep_types::v10::message::CreateMessage;
use beep_types::{ChannelId, MessageId, UserId};
use serde_json::{Value, json};

use super::{assert_channel_audience, code, room};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinning_posts_a_notice_and_tells_the_channel() {
    let r = room().await;
    let m = r.send(&r.bob, "remember this").await;
    let mut events = r.events();
    let id = m["id"].as_str().expect("id").to_owned();
    let (s, v) =
        r.ts.put(&r.path(&format!("/pins/{id}")), r.alice.auth(), &json!({}))
            .await;
    assert_eq!(s, 204, "{v}");

    let notice = events.next("MESSAGE_CREATE").await;
    assert_eq!(notice.data["type"], 6);
    assert_eq!(notice.data["author"]["id"], r.alice.id.as_str());
    assert_eq!(notice.data["message_reference"]["message_id"], id.as_str());
    let pins = events.next("CHANNEL_PINS_UPDATE").await;
    assert_channel_audience(&pins, &r.guild, &r.channel, 1);
    assert!(pins.data["last_pin_timestamp"].is_string(), "{}", pins.data);

    let (s, list) = r.ts.get(&r.path("/pins"), r.bob.auth()).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["pinned"], true);
    let (_, page) =
        r.ts.get(&r.path("/messages/pins?limit=10"), r.bob.auth())
            .await;
    assert_eq!(page["items"][0]["message"]["id"], id.as_str());
    assert_eq!(page["has_more"], false);
    assert!(page["items"][0]["pinned_at"].is_string());
    let (_, history) = r.ts.get(&r.path("/messages?limit=1"), r.bob.auth()).await;
    assert_eq!(history[0]["type"], 6, "the notice is in the history");

    // Pinning again changes nothing; the notice itself cannot be pinned.
    let (s, _) =
        r.ts.put(&r.path(&format!("/pins/{id}")), r.alice.auth(), &json!({}))
            .await;
    assert_eq!(s, 204);
    let notice_id = history[0]["id"].as_str().expect("id");
    let (s, v) =
        r.ts.put(
            &r.path(&format!("/pins/{notice_id}")),
            r.alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!((s, code(&v)), (400, 50021), "{v}");

    let (s, _) =
        r.ts.delete(&r.path(&format!("/pins/{id}")), r.alice.auth())
            .await;
    assert_eq!(s, 204);
    let pins = events.next("CHANNEL_PINS_UPDATE").await;
    assert_eq!(pins.data["last_pin_timestamp"], Value::Null);
    let (_, list) = r.ts.get(&r.path("/pins"), r.bob.auth()).await;
    assert_eq!(list, json!([]));
    let (s, v) = r.ts.delete(&r.path("/pins/12345"), r.alice.auth()).await;
    assert_eq!((s, code(&v)), (404, 10008), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_need_pin_messages() {
    let r = room().await;
    let m = r.send(&r.bob, "mine").await;
    let id = m["id"].as_str().expect("id");
    let (s, v) =
        r.ts.put(&r.path(&format!("/pins/{id}")), r.bob.auth(), &json!({}))
            .await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");
    let (s, v) =
        r.ts.delete(&r.path(&format!("/pins/{id}")), r.bob.auth())
            .await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_holds_at_most_250_pins() {
    let r = room().await;
    // Fill the channel through the services (the HTTP rate limit would make
    // 500 requests slow), then take the 251st through HTTP.
    let s = &r.ts.node.as_ref().expect("node").services;
    let alice = Principal {
        user_id: r.alice.id.parse::<UserId>().expect("id"),
        session_id: None,
        bot: false,
    };
    let channel: ChannelId = r.channel.parse().expect("channel");
    for i in 0..250 {
        let body = CreateMessage {
            content: Some(format!("pin {i}")),
            ..Default::default()
        };
        let m = s
            .messages
            .create(
                &alice,
                channel,
                NewMessageInput {
                    body,
                    files: Vec::new(),
                },
            )
            .await
            .expect("send");
        s.messages.pin(&alice, channel, m.id).await.expect("pin");
    }
    let last = r.send(&r.alice, "one too many").await;
    let id = last["id"].as_str().expect("id");
    let (st, v) =
        r.ts.put(&r.path(&format!("/pins/{id}")), r.alice.auth(), &json!({}))
            .await;
    assert_eq!((st, code(&v)), (400, 30003), "{v}");
    let (_, list) = r.ts.get(&r.path("/pins"), r.alice.auth()).await;
    assert_eq!(list.as_array().map(Vec::len), Some(250));
    let first: MessageId = list[249]["id"].as_str().expect("id").parse().expect("id");
    let (st, _) =
        r.ts.delete(&r.path(&format!("/pins/{first}")), r.alice.auth())
            .await;
    assert_eq!(st, 204);
    let (st, v) =
        r.ts.put(&r.path(&format!("/pins/{id}")), r.alice.auth(), &json!({}))
            .await;
    assert_eq!(st, 204, "room again: {v}");
}
