//! Sending rules and their refusals, nonce replays, replies, edits and deletes.

use serde_json::{Value, json};

use super::{code, room};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_is_4000_unicode_scalar_values() {
    let r = room().await;
    let crabs = "🦀".repeat(4000);
    let m = r.send(&r.bob, &crabs).await;
    assert_eq!(m["content"].as_str().map(|c| c.chars().count()), Some(4000));
    let (s, v) = r
        .try_send(&r.bob, &json!({"content": format!("{crabs}🦀")}))
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "4001 crabs: {v}");
    assert_eq!(
        v["errors"]["content"]["_errors"][0]["code"],
        "BASE_TYPE_MAX_LENGTH"
    );
    let (s, _) = r
        .try_send(&r.bob, &json!({"content": "a".repeat(4000)}))
        .await;
    assert_eq!(s, 200);
    let (s, v) = r
        .try_send(&r.bob, &json!({"content": "a".repeat(4001)}))
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    // A combining sequence counts each scalar value.
    let e_acute = "e\u{301}".repeat(2000);
    let (s, _) = r.try_send(&r.bob, &json!({"content": e_acute})).await;
    assert_eq!(s, 200);
    let (s, _) = r
        .try_send(&r.bob, &json!({"content": format!("{e_acute}x")}))
        .await;
    assert_eq!(s, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_and_malformed_messages_are_refused() {
    let r = room().await;
    for body in [
        json!({}),
        json!({"content": ""}),
        json!({"content": "   \n "}),
        json!({"content": null}),
    ] {
        let (s, v) = r.try_send(&r.bob, &body).await;
        assert_eq!((s, code(&v)), (400, 50006), "{body}: {v}");
    }
    let (s, v) = r.try_send(&r.bob, &json!({"content": 5})).await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    let resp =
        r.ts.http
            .post(r.ts.api(&r.path("/messages")))
            .header("authorization", &r.bob.token)
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .expect("request");
    assert_eq!(resp.status(), 400);
    let v: Value = resp.json().await.expect("json");
    assert_eq!(code(&v), 50109, "{v}");
    let (s, v) = r
        .try_send(&r.bob, &json!({"content": "x", "flags": 1}))
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "unsettable flag: {v}");
    let (s, v) = r
        .try_send(&r.bob, &json!({"content": "x", "nonce": "n".repeat(26)}))
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "long nonce: {v}");
    let (s, v) = r
        .try_send(
            &r.bob,
            &json!({"content": "x", "attachments": [{"id": 0, "uploaded_filename": "1/x"}]}),
        )
        .await;
    assert_eq!(s, 400, "an upload that was never made: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embeds_are_checked_and_need_embed_links() {
    let r = room().await;
    let m = r
        .send_body(&r.bob, &json!({"embeds": [{"title": "Release", "description": "notes", "color": 255,
            "fields": [{"name": "a", "value": "b", "inline": true}], "url": "https://example.org/r"}]}))
        .await;
    assert_eq!(m["embeds"][0]["type"], "rich");
    assert_eq!(m["embeds"][0]["fields"][0]["inline"], true);
    assert_eq!(m["content"], "");
    let eleven: Vec<Value> = (0..11).map(|i| json!({"title": format!("t{i}")})).collect();
    let (s, v) = r.try_send(&r.bob, &json!({"embeds": eleven})).await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    let (s, v) = r
        .try_send(&r.bob, &json!({"embeds": [{"title": "x".repeat(257)}]}))
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    assert!(v["errors"]["embeds"]["0"]["title"].is_object(), "{v}");
    let (s, v) = r
        .try_send(&r.bob, &json!({"embeds": [{"url": "javascript:alert(1)"}]}))
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    r.deny(&r.bob, 1 << 14).await;
    let (s, v) = r
        .try_send(&r.bob, &json!({"embeds": [{"title": "t"}]}))
        .await;
    assert_eq!((s, code(&v)), (403, 50013), "without EMBED_LINKS: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enforced_nonce_replay_returns_the_same_message() {
    let r = room().await;
    let mut events = r.events();
    let body = json!({"content": "once", "nonce": "abc-123", "enforce_nonce": true});
    let first = r.send_body(&r.bob, &body).await;
    assert_eq!(first["nonce"], "abc-123");
    events.next("MESSAGE_CREATE").await;
    let again = r
        .send_body(
            &r.bob,
            &json!({"content": "different text", "nonce": "abc-123", "enforce_nonce": true}),
        )
        .await;
    assert_eq!(again["id"], first["id"], "the replay returns the original");
    assert_eq!(again["content"], "once");
    assert!(
        events.none("MESSAGE_CREATE").await,
        "a replay publishes nothing"
    );
    let (_, page) = r.ts.get(&r.path("/messages"), r.bob.auth()).await;
    assert_eq!(
        page.as_array().map(Vec::len),
        Some(1),
        "one message: {page}"
    );

    // Another author, or no enforcement, makes a new message.
    let alices = r.send_body(&r.alice, &body).await;
    assert_ne!(alices["id"], first["id"]);
    let loose = r
        .send_body(&r.bob, &json!({"content": "twice", "nonce": "abc-123"}))
        .await;
    assert_ne!(loose["id"], first["id"]);
    // Integer nonces are echoed as integers.
    let n = r
        .send_body(
            &r.bob,
            &json!({"content": "n", "nonce": 42, "enforce_nonce": true}),
        )
        .await;
    assert_eq!(n["nonce"], 42);
    let n2 = r
        .send_body(
            &r.bob,
            &json!({"content": "n", "nonce": 42, "enforce_nonce": true}),
        )
        .await;
    assert_eq!(n2["id"], n["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_without_send_messages_is_refused() {
    let r = room().await;
    r.deny(&r.bob, 1 << 11).await;
    let (s, v) = r.try_send(&r.bob, &json!({"content": "let me in"})).await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");
    let (s, v) =
        r.ts.post_as(&r.path("/typing"), r.bob.auth(), &json!({}))
            .await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");
    // Reading still works.
    let (s, _) = r.ts.get(&r.path("/messages"), r.bob.auth()).await;
    assert_eq!(s, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_hold_no_messages() {
    let r = room().await;
    let (s, folder) =
        r.ts.post_as(
            &format!("/guilds/{}/channels", r.guild),
            r.alice.auth(),
            &json!({"name": "Folder", "type": 4}),
        )
        .await;
    assert_eq!(s, 201, "{folder}");
    let path = format!("/channels/{}/messages", folder["id"].as_str().expect("id"));
    let (s, v) =
        r.ts.post_as(&path, r.alice.auth(), &json!({"content": "x"}))
            .await;
    assert_eq!((s, code(&v)), (400, 50008), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_carry_the_message_they_answer() {
    let r = room().await;
    let original = r.send(&r.alice, "question?").await;
    let oid = original["id"].as_str().expect("id").to_owned();
    let reply = r
        .send_body(
            &r.bob,
            &json!({"content": "answer", "message_reference": {"message_id": oid}}),
        )
        .await;
    assert_eq!(reply["type"], 19);
    assert_eq!(reply["message_reference"]["message_id"], oid.as_str());
    assert_eq!(reply["message_reference"]["channel_id"], r.channel.as_str());
    assert_eq!(reply["message_reference"]["guild_id"], r.guild.as_str());
    assert_eq!(reply["referenced_message"]["content"], "question?");
    let mentioned: Vec<&str> = reply["mentions"]
        .as_array()
        .expect("mentions")
        .iter()
        .filter_map(|u| u["id"].as_str())
        .collect();
    assert_eq!(
        mentioned,
        vec![r.alice.id.as_str()],
        "the replied author is mentioned by default"
    );

    let quiet = r
        .send_body(
            &r.bob,
            &json!({"content": "shh", "message_reference": {"message_id": oid},
            "allowed_mentions": {"replied_user": false}}),
        )
        .await;
    assert_eq!(quiet["mentions"], json!([]));

    let (s, v) = r
        .try_send(
            &r.bob,
            &json!({"content": "x", "message_reference": {"message_id": "12345"}}),
        )
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    assert_eq!(
        v["errors"]["message_reference"]["_errors"][0]["code"],
        "MESSAGE_REFERENCE_UNKNOWN_MESSAGE"
    );
    let loose = r
        .send_body(&r.bob, &json!({"content": "x", "message_reference": {"message_id": "12345", "fail_if_not_exists": false}}))
        .await;
    assert_eq!(loose["type"], 0);
    assert!(loose.get("message_reference").is_none(), "{loose}");

    // Without history a member cannot reply.
    r.deny(&r.bob, 1 << 16).await;
    let (s, v) = r
        .try_send(
            &r.bob,
            &json!({"content": "x", "message_reference": {"message_id": oid}}),
        )
        .await;
    assert_eq!((s, code(&v)), (403, 160002), "{v}");

    // Once the original is gone, the reply points at null.
    let (s, _) =
        r.ts.delete(&r.path(&format!("/messages/{oid}")), r.alice.auth())
            .await;
    assert_eq!(s, 204);
    let rid = reply["id"].as_str().expect("id");
    let (_, got) =
        r.ts.get(&r.path(&format!("/messages/{rid}")), r.alice.auth())
            .await;
    assert_eq!(got["referenced_message"], Value::Null);
    assert!(
        got.get("referenced_message").is_some(),
        "null, not absent: {got}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_author_edits() {
    let r = room().await;
    let mut events = r.events();
    let m = r.send(&r.alice, "first draft").await;
    let id = m["id"].as_str().expect("id").to_owned();
    let path = r.path(&format!("/messages/{id}"));
    let (s, v) =
        r.ts.patch(
            &path,
            r.alice.auth(),
            &json!({"content": "final <@{}>".replace("{}", &r.bob.id)}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["content"], format!("final <@{}>", r.bob.id));
    assert!(v["edited_timestamp"].is_string(), "{v}");
    assert_eq!(
        v["mentions"][0]["id"],
        r.bob.id.as_str(),
        "mentions follow the new content"
    );
    let e = events.next("MESSAGE_UPDATE").await;
    assert_eq!(e.data["id"], id.as_str());
    assert_eq!(e.data["guild_id"], r.guild.as_str());

    let (s, v) =
        r.ts.patch(&path, r.bob.auth(), &json!({"content": "vandalised"}))
            .await;
    assert_eq!((s, code(&v)), (403, 50005), "{v}");
    let (s, v) =
        r.ts.patch(&path, r.alice.auth(), &json!({"content": "x".repeat(4001)}))
            .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    let (s, v) =
        r.ts.patch(&path, r.alice.auth(), &json!({"content": ""}))
            .await;
    assert_eq!(
        (s, code(&v)),
        (400, 50006),
        "an edit may not empty a message: {v}"
    );

    // A moderator may only suppress embeds on someone else's message.
    let b = r.send(&r.bob, "see https://example.org").await;
    let bpath = r.path(&format!("/messages/{}", b["id"].as_str().expect("id")));
    let (s, v) =
        r.ts.patch(&bpath, r.alice.auth(), &json!({"flags": 4}))
            .await;
    assert_eq!((s, v["flags"].clone()), (200, json!(4)), "{v}");
    assert_eq!(
        v["edited_timestamp"],
        Value::Null,
        "flags are not an edit of the text"
    );
    let (s, v) = r.ts.patch(&path, r.bob.auth(), &json!({"flags": 4})).await;
    assert_eq!((s, code(&v)), (403, 50013), "without Manage Messages: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_by_the_author_or_with_manage_messages() {
    let r = room().await;
    let mut events = r.events();
    let a = r.send(&r.alice, "alice's").await;
    let b = r.send(&r.bob, "bob's").await;
    let b2 = r.send(&r.bob, "bob's too").await;
    let path = |m: &Value| r.path(&format!("/messages/{}", m["id"].as_str().expect("id")));
    let (s, v) = r.ts.delete(&path(&a), r.bob.auth()).await;
    assert_eq!((s, code(&v)), (403, 50013), "{v}");
    let (s, _) = r.ts.delete(&path(&b), r.bob.auth()).await;
    assert_eq!(s, 204, "one's own");
    let e = events.next("MESSAGE_DELETE").await;
    assert_eq!(
        e.data,
        json!({"id": b["id"], "channel_id": r.channel, "guild_id": r.guild})
    );
    let (s, _) = r.ts.delete(&path(&b2), r.alice.auth()).await;
    assert_eq!(s, 204, "with Manage Messages (the owner has it)");
    let (s, v) = r.ts.get(&path(&b), r.alice.auth()).await;
    assert_eq!((s, code(&v)), (404, 10008));
    let (s, v) = r.ts.delete(&path(&b), r.alice.auth()).await;
    assert_eq!((s, code(&v)), (404, 10008), "twice: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_delete_takes_2_to_100_recent_messages() {
    let r = room().await;
    let mut events = r.events();
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(r.send(&r.bob, &format!("spam {i}")).await["id"].clone());
    }
    let bulk = r.path("/messages/bulk-delete");
    let (s, v) =
        r.ts.post_as(&bulk, r.bob.auth(), &json!({"messages": ids}))
            .await;
    assert_eq!(
        (s, code(&v)),
        (403, 50013),
        "members need Manage Messages: {v}"
    );
    let (s, v) =
        r.ts.post_as(&bulk, r.alice.auth(), &json!({"messages": [ids[0]]}))
            .await;
    assert_eq!((s, code(&v)), (400, 50016), "one: {v}");
    let (s, v) =
        r.ts.post_as(
            &bulk,
            r.alice.auth(),
            &json!({"messages": [ids[0], ids[0]]}),
        )
        .await;
    assert_eq!((s, code(&v)), (400, 50016), "a duplicate is one: {v}");
    let many: Vec<String> = (1..=101)
        .map(|i| (1_000_000_000_000_000 + (i64::from(i) << 22)).to_string())
        .collect();
    let (s, v) =
        r.ts.post_as(&bulk, r.alice.auth(), &json!({"messages": many}))
            .await;
    assert_eq!((s, code(&v)), (400, 50016), "101: {v}");
    // A snowflake from 15 days ago.
    let old_ms = chrono::Utc::now().timestamp_millis() - 15 * 24 * 3600 * 1000 - 1_420_070_400_000;
    let old = ((old_ms as u64) << 22).to_string();
    let (s, v) =
        r.ts.post_as(&bulk, r.alice.auth(), &json!({"messages": [ids[0], old]}))
            .await;
    assert_eq!((s, code(&v)), (400, 50034), "{v}");
    // A recent id that is no message of the channel is skipped.
    let unknown =
        (ids[3].as_str().expect("id").parse::<u64>().expect("id") + (1 << 22)).to_string();
    let (s, _) =
        r.ts.post_as(
            &bulk,
            r.alice.auth(),
            &json!({"messages": [ids[0], ids[1], ids[2], unknown]}),
        )
        .await;
    assert_eq!(s, 204);
    let e = events.next("MESSAGE_DELETE_BULK").await;
    let mut got: Vec<String> = e.data["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_owned())
        .collect();
    got.sort();
    let mut want: Vec<String> = ids[..3]
        .iter()
        .map(|v| v.as_str().expect("id").to_owned())
        .collect();
    want.sort();
    assert_eq!(got, want);
    let (_, page) = r.ts.get(&r.path("/messages"), r.alice.auth()).await;
    assert_eq!(page.as_array().map(Vec::len), Some(1), "{page}");
}

/// A `multipart/form-data` message with one small text file.
fn form(payload: Value) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("payload_json", payload.to_string())
        .part(
            "files[0]",
            reqwest::multipart::Part::bytes(b"hello, file".to_vec())
                .file_name("note.txt")
                .mime_str("text/plain")
                .expect("mime"),
        )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_make_a_message_and_need_attach_files() {
    let r = room().await;
    let url = r.ts.api(&r.path("/messages"));
    let resp =
        r.ts.http
            .post(&url)
            .header("authorization", &r.bob.token)
            .multipart(form(
                json!({"attachments": [{"id": 0, "description": "a note"}]}),
            ))
            .send()
            .await
            .expect("post");
    assert_eq!(resp.status(), 200);
    let m: Value = resp.json().await.expect("json");
    assert_eq!(m["content"], "", "a file alone is a message");
    assert_eq!(m["attachments"][0]["filename"], "note.txt");
    assert_eq!(m["attachments"][0]["description"], "a note");
    assert!(
        m["attachments"][0]["url"]
            .as_str()
            .is_some_and(|u| u.contains("/attachments/"))
    );
    let id = m["id"].as_str().expect("id");
    let (_, got) =
        r.ts.get(&r.path(&format!("/messages/{id}")), r.alice.auth())
            .await;
    assert_eq!(
        got["attachments"][0]["size"], 11,
        "read back with fresh URLs: {got}"
    );

    r.deny(&r.bob, 1 << 15).await;
    let resp =
        r.ts.http
            .post(&url)
            .header("authorization", &r.bob.token)
            .multipart(form(json!({"content": "with a file"})))
            .send()
            .await
            .expect("post");
    assert_eq!(resp.status(), 403, "without ATTACH_FILES");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(code(&v), 50013);
}
