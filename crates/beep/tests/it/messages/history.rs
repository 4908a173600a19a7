//! Sending and reading back: the message shape, `MESSAGE_CREATE`, pages before,
//! after and around, and every refusal of the history query.

use serde_json::{Value, json};

use super::{assert_channel_audience, code, room};

/// Ids of a page, as strings.
fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|m| m["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reads_back_in_discords_shape_and_is_published() {
    let r = room().await;
    let mut events = r.events();
    let sent = r
        .send_body(&r.bob, &json!({"content": "hello 🦀", "nonce": "n-1"}))
        .await;
    for key in [
        "id",
        "channel_id",
        "author",
        "content",
        "timestamp",
        "edited_timestamp",
        "tts",
        "mention_everyone",
        "mentions",
        "mention_roles",
        "attachments",
        "embeds",
        "pinned",
        "type",
        "flags",
        "components",
    ] {
        assert!(sent.get(key).is_some(), "missing {key}: {sent}");
    }
    assert_eq!(sent["content"], "hello 🦀");
    assert_eq!(sent["channel_id"], r.channel.as_str());
    assert_eq!(sent["author"]["id"], r.bob.id.as_str());
    assert_eq!(sent["author"]["username"], "bob");
    assert_eq!(sent["type"], 0);
    assert_eq!(sent["pinned"], false);
    assert_eq!(sent["edited_timestamp"], Value::Null);
    assert_eq!(sent["nonce"], "n-1", "the nonce is echoed");
    let ts = sent["timestamp"].as_str().expect("timestamp");
    assert!(
        ts.ends_with("+00:00") && ts.contains('.'),
        "Discord's format: {ts}"
    );

    let e = events.next("MESSAGE_CREATE").await;
    assert_channel_audience(&e, &r.guild, &r.channel, 1 << 9);
    assert_eq!(e.data["id"], sent["id"]);
    assert_eq!(e.data["guild_id"], r.guild.as_str());
    assert_eq!(e.data["nonce"], "n-1");
    assert!(
        e.data["member"]["roles"].is_array(),
        "member in the event: {}",
        e.data
    );
    assert!(
        e.data["member"].get("user").is_none(),
        "member without user"
    );

    let id = sent["id"].as_str().expect("id");
    let (s, got) =
        r.ts.get(&r.path(&format!("/messages/{id}")), r.alice.auth())
            .await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(got["content"], "hello 🦀");
    assert!(
        got.get("nonce").is_none(),
        "the nonce is only echoed on creation"
    );
    assert!(got.get("guild_id").is_none(), "no guild_id over REST");

    // v9 answers too.
    let r9 =
        r.ts.http
            .get(format!(
                "{}/api/v9/channels/{}/messages/{id}",
                r.ts.base, r.channel
            ))
            .header("authorization", &r.alice.token)
            .send()
            .await
            .expect("v9");
    assert_eq!(r9.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_are_newest_first_around_any_cursor() {
    let r = room().await;
    let mut sent = Vec::new();
    for i in 0..7 {
        let m = r.send(&r.alice, &format!("m{i}")).await;
        sent.push(m["id"].as_str().expect("id").to_owned());
    }
    let get = |q: String| {
        let (ts, path, token) = (
            &r.ts,
            r.path(&format!("/messages{q}")),
            r.alice.token.clone(),
        );
        async move {
            let (s, v) = ts.get(&path, Some(&token)).await;
            assert_eq!(s, 200, "{path}: {v}");
            ids(&v)
        }
    };
    let newest_first: Vec<String> = sent.iter().rev().cloned().collect();
    assert_eq!(get(String::new()).await, newest_first, "default page");
    assert_eq!(get("?limit=3".into()).await, newest_first[..3].to_vec());
    assert_eq!(
        get(format!("?before={}&limit=2", sent[4])).await,
        vec![sent[3].clone(), sent[2].clone()]
    );
    assert_eq!(
        get(format!("?after={}&limit=2", sent[1])).await,
        vec![sent[3].clone(), sent[2].clone()],
        "after: the messages right after, newest first"
    );
    assert_eq!(
        get(format!("?around={}&limit=3", sent[3])).await,
        vec![sent[4].clone(), sent[3].clone(), sent[2].clone()]
    );
    assert_eq!(
        get(format!("?after={}", sent[6])).await,
        Vec::<String>::new()
    );
    assert_eq!(get("?limit=100".into()).await.len(), 7);
    assert_eq!(get("?limit=1".into()).await, vec![sent[6].clone()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_queries_are_checked() {
    let r = room().await;
    let m = r.send(&r.alice, "x").await;
    let id = m["id"].as_str().expect("id");
    for bad in [
        "0",
        "101",
        "-1",
        "99999999999999999999999999",
        "abc",
        "",
        "2.5",
    ] {
        let (s, v) =
            r.ts.get(&r.path(&format!("/messages?limit={bad}")), r.alice.auth())
                .await;
        assert_eq!((s, code(&v)), (400, 50035), "limit={bad}: {v}");
        assert!(
            v["errors"]["limit"]["_errors"].is_array(),
            "limit={bad}: {v}"
        );
    }
    let (s, v) =
        r.ts.get(
            &r.path(&format!("/messages?before={id}&after={id}")),
            r.alice.auth(),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (400, 50035),
        "before and after together: {v}"
    );
    for bad in ["-5", "abc", "18446744073709551616"] {
        let (s, v) =
            r.ts.get(&r.path(&format!("/messages?before={bad}")), r.alice.auth())
                .await;
        assert_eq!((s, code(&v)), (400, 50035), "before={bad}: {v}");
        assert!(v["errors"]["before"].is_object(), "{v}");
    }
    let (s, v) = r.ts.get("/channels/abc/messages", r.alice.auth()).await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    let (s, v) = r.ts.get("/channels/12345/messages", r.alice.auth()).await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
    let (s, _) = r.ts.get(&r.path("/messages"), None).await;
    assert_eq!(s, 401, "no token");
    // Someone outside the guild cannot tell the channel exists.
    let carol = r.ts.user("carol").await;
    let (s, v) = r.ts.get(&r.path("/messages"), carol.auth()).await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
    let (s, v) =
        r.ts.get(&r.path(&format!("/messages/{id}")), carol.auth())
            .await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_id_of_another_channel_is_unknown_here() {
    let r = room().await;
    let (s, other) =
        r.ts.post_as(
            &format!("/guilds/{}/channels", r.guild),
            r.alice.auth(),
            &json!({"name": "other"}),
        )
        .await;
    assert_eq!(s, 201, "{other}");
    let other = other["id"].as_str().expect("id").to_owned();
    let m = r.send(&r.alice, "in general").await;
    let id = m["id"].as_str().expect("id");
    let elsewhere = format!("/channels/{other}/messages/{id}");
    let (s, v) = r.ts.get(&elsewhere, r.alice.auth()).await;
    assert_eq!((s, code(&v)), (404, 10008), "{v}");
    let (s, v) =
        r.ts.patch(&elsewhere, r.alice.auth(), &json!({"content": "hijack"}))
            .await;
    assert_eq!((s, code(&v)), (404, 10008), "{v}");
    let (s, v) = r.ts.delete(&elsewhere, r.alice.auth()).await;
    assert_eq!((s, code(&v)), (404, 10008), "{v}");
    let (s, v) =
        r.ts.put(
            &format!("{elsewhere}/reactions/%F0%9F%94%A5/@me"),
            r.alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!((s, code(&v)), (404, 10008), "{v}");
    let (s, v) =
        r.ts.put(
            &format!("/channels/{other}/pins/{id}"),
            r.alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!((s, code(&v)), (404, 10008), "{v}");
    let (s, v) =
        r.ts.post_as(&format!("{elsewhere}/ack"), r.alice.auth(), &json!({}))
            .await;
    assert_eq!((s, code(&v)), (404, 10008), "{v}");
    // The message is untouched.
    let (s, v) =
        r.ts.get(&r.path(&format!("/messages/{id}")), r.alice.auth())
            .await;
    assert_eq!((s, v["content"].clone()), (200, json!("in general")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_read_message_history_the_history_is_empty() {
    let r = room().await;
    let m = r.send(&r.alice, "secret past").await;
    r.deny(&r.bob, 1 << 16).await;
    let (s, v) = r.ts.get(&r.path("/messages"), r.bob.auth()).await;
    assert_eq!((s, v), (200, json!([])));
    let id = m["id"].as_str().expect("id");
    let (s, v) =
        r.ts.get(&r.path(&format!("/messages/{id}")), r.bob.auth())
            .await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");
    // Without VIEW_CHANNEL the channel itself is unknown.
    r.deny(&r.bob, 1 << 10).await;
    let (s, v) = r.ts.get(&r.path("/messages"), r.bob.auth()).await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
}
