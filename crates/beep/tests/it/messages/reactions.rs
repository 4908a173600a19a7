//! Reactions: unicode and custom emojis, counts with `me`, the users list,
//! permissions, the limit of 20 emojis, and the four events.

use serde_json::{Value, json};

use super::{assert_channel_audience, code, room};

/// Percent-encode an emoji for a path.
fn enc(e: &str) -> String {
    e.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_add_count_list_and_remove() {
    let r = room().await;
    let m = r.send(&r.alice, "vote").await;
    let id = m["id"].as_str().expect("id").to_owned();
    let base = r.path(&format!("/messages/{id}/reactions"));
    let fire = enc("🔥");
    let mut events = r.events();

    let (s, v) =
        r.ts.put(&format!("{base}/{fire}/@me"), r.bob.auth(), &json!({}))
            .await;
    assert_eq!(s, 204, "{v}");
    let e = events.next("MESSAGE_REACTION_ADD").await;
    assert_channel_audience(&e, &r.guild, &r.channel, 1 << 10);
    assert_eq!(e.data["user_id"], r.bob.id.as_str());
    assert_eq!(e.data["emoji"], json!({"id": null, "name": "🔥"}));
    assert_eq!(e.data["message_author_id"], r.alice.id.as_str());
    assert!(e.data["member"].is_object());
    let (s, _) =
        r.ts.put(&format!("{base}/{fire}/@me"), r.alice.auth(), &json!({}))
            .await;
    assert_eq!(s, 204);
    let (s, _) =
        r.ts.put(&format!("{base}/{fire}/@me"), r.alice.auth(), &json!({}))
            .await;
    assert_eq!(s, 204, "twice is once");
    let (s, _) =
        r.ts.put(
            &format!("{base}/blob:123456/@me"),
            r.alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "a custom emoji");

    let (_, got) =
        r.ts.get(&r.path(&format!("/messages/{id}")), r.bob.auth())
            .await;
    let reactions = got["reactions"].as_array().expect("reactions");
    assert_eq!(reactions.len(), 2);
    assert_eq!(reactions[0]["emoji"]["name"], "🔥");
    assert_eq!(reactions[0]["count"], 2);
    assert_eq!(
        reactions[0]["count_details"],
        json!({"burst": 0, "normal": 2})
    );
    assert_eq!(reactions[0]["me"], true);
    assert_eq!(
        reactions[1]["emoji"],
        json!({"id": "123456", "name": "blob"})
    );
    assert_eq!(reactions[1]["me"], false, "bob did not use it");
    let (_, page) = r.ts.get(&r.path("/messages"), r.alice.auth()).await;
    assert_eq!(
        page[0]["reactions"][1]["me"], true,
        "history shows reactions too"
    );

    let (s, users) = r.ts.get(&format!("{base}/{fire}"), r.alice.auth()).await;
    assert_eq!(s, 200);
    let mut want = [r.alice.id.clone(), r.bob.id.clone()];
    want.sort_by_key(|i| i.parse::<u64>().expect("id"));
    let got: Vec<&str> = users
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["id"].as_str().expect("id"))
        .collect();
    assert_eq!(got, want.iter().map(String::as_str).collect::<Vec<_>>());
    let (_, after) =
        r.ts.get(
            &format!("{base}/{fire}?after={}&limit=5", want[0]),
            r.alice.auth(),
        )
        .await;
    assert_eq!(after.as_array().map(Vec::len), Some(1));
    for bad in ["0", "101", "x"] {
        let (s, v) =
            r.ts.get(&format!("{base}/{fire}?limit={bad}"), r.alice.auth())
                .await;
        assert_eq!((s, code(&v)), (400, 50035), "limit={bad}: {v}");
    }

    let (s, _) =
        r.ts.delete(&format!("{base}/{fire}/@me"), r.bob.auth())
            .await;
    assert_eq!(s, 204);
    let e = events.next("MESSAGE_REACTION_REMOVE").await;
    assert_eq!(e.data["user_id"], r.bob.id.as_str());
    let (_, got) =
        r.ts.get(&r.path(&format!("/messages/{id}")), r.bob.auth())
            .await;
    assert_eq!(got["reactions"][0]["count"], 1);
    assert_eq!(got["reactions"][0]["me"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_emojis_are_refused() {
    let r = room().await;
    let m = r.send(&r.alice, "x").await;
    let base = r.path(&format!(
        "/messages/{}/reactions",
        m["id"].as_str().expect("id")
    ));
    for bad in [
        "fire",
        ":fire:",
        "%F0%9F%94%A5%F0%9F%94%A5",
        "x:1",
        "blob:abc",
        "%3Cscript%3E",
    ] {
        let (s, v) =
            r.ts.put(&format!("{base}/{bad}/@me"), r.bob.auth(), &json!({}))
                .await;
        assert_eq!((s, code(&v)), (404, 10014), "{bad}: {v}");
    }
    // Skin tones, flags and sequences are emojis.
    for ok in ["👍🏽", "🇫🇷", "🏳️‍🌈", "❤️"] {
        let (s, v) =
            r.ts.put(&format!("{base}/{}/@me", enc(ok)), r.bob.auth(), &json!({}))
                .await;
        assert_eq!(s, 204, "{ok}: {v}");
    }
    let (s, v) =
        r.ts.put(
            &r.path("/messages/12345/reactions/%F0%9F%94%A5/@me"),
            r.bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!((s, code(&v)), (404, 10008), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_emoji_needs_add_reactions_and_others_need_manage_messages() {
    let r = room().await;
    let m = r.send(&r.alice, "x").await;
    let base = r.path(&format!(
        "/messages/{}/reactions",
        m["id"].as_str().expect("id")
    ));
    let (fire, up) = (enc("🔥"), enc("👍"));
    let (s, _) =
        r.ts.put(&format!("{base}/{fire}/@me"), r.alice.auth(), &json!({}))
            .await;
    assert_eq!(s, 204);
    r.deny(&r.bob, 1 << 6).await;
    let (s, v) =
        r.ts.put(&format!("{base}/{up}/@me"), r.bob.auth(), &json!({}))
            .await;
    assert_eq!((s, code(&v)), (403, 50013), "a new emoji: {v}");
    let (s, _) =
        r.ts.put(&format!("{base}/{fire}/@me"), r.bob.auth(), &json!({}))
            .await;
    assert_eq!(s, 204, "joining an existing reaction");

    let (s, v) =
        r.ts.delete(&format!("{base}/{fire}/{}", r.alice.id), r.bob.auth())
            .await;
    assert_eq!((s, code(&v)), (403, 50013), "someone else's: {v}");
    let (s, v) = r.ts.delete(&base, r.bob.auth()).await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");

    let mut events = r.events();
    let (s, _) =
        r.ts.delete(&format!("{base}/{fire}/{}", r.bob.id), r.alice.auth())
            .await;
    assert_eq!(s, 204, "a moderator removes bob's");
    events.next("MESSAGE_REACTION_REMOVE").await;
    let (s, _) = r.ts.delete(&format!("{base}/{fire}"), r.alice.auth()).await;
    assert_eq!(s, 204);
    let e = events.next("MESSAGE_REACTION_REMOVE_EMOJI").await;
    assert_eq!(e.data["emoji"]["name"], "🔥");
    let (s, _) =
        r.ts.put(&format!("{base}/{up}/@me"), r.alice.auth(), &json!({}))
            .await;
    assert_eq!(s, 204);
    let (s, _) = r.ts.delete(&base, r.alice.auth()).await;
    assert_eq!(s, 204);
    let e = events.next("MESSAGE_REACTION_REMOVE_ALL").await;
    assert_eq!(e.data["guild_id"], r.guild.as_str());
    let (_, got) =
        r.ts.get(
            &r.path(&format!("/messages/{}", m["id"].as_str().expect("id"))),
            r.alice.auth(),
        )
        .await;
    assert!(got.get("reactions").is_none(), "{got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_takes_at_most_20_emojis() {
    let r = room().await;
    let m = r.send(&r.alice, "x").await;
    let base = r.path(&format!(
        "/messages/{}/reactions",
        m["id"].as_str().expect("id")
    ));
    let emojis = [
        "😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰",
        "😗", "😙", "😚", "🙂", "🤗", "🤩",
    ];
    for e in &emojis[..20] {
        let (s, v) =
            r.ts.put(
                &format!("{base}/{}/@me", enc(e)),
                r.alice.auth(),
                &json!({}),
            )
            .await;
        assert_eq!(s, 204, "{e}: {v}");
    }
    let (s, v) =
        r.ts.put(
            &format!("{base}/{}/@me", enc(emojis[20])),
            r.alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!((s, code(&v)), (400, 30010), "{v}");
    let (s, _) =
        r.ts.put(
            &format!("{base}/{}/@me", enc(emojis[0])),
            r.bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "an existing emoji still takes more people");
    let (_, got): (u16, Value) =
        r.ts.get(
            &r.path(&format!("/messages/{}", m["id"].as_str().expect("id"))),
            r.alice.auth(),
        )
        .await;
    assert_eq!(got["reactions"].as_array().map(Vec::len), Some(20));
}
