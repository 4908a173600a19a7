//! Message search through the front door: text matching (words, phrases,
//! prefixes, diacritics, English and French stems, CJK), every filter, pages
//! and orders, highlights, edits and deletes, permission filtering, bad
//! parameters; `crash.rs`: kill -9 while messages are indexed, and
//! `beep admin reindex`.

mod crash;

use serde_json::{Value, json};

use crate::harness::{TestServer, TestUser};
use crate::messages::{Room, room};

/// `GET path?pairs` as `who`.
pub async fn search(
    ts: &TestServer,
    who: &TestUser,
    path: &str,
    pairs: &[(&str, &str)],
) -> (u16, Value) {
    let mut url = reqwest::Url::parse("http://x/").expect("url");
    for (k, v) in pairs {
        url.query_pairs_mut().append_pair(k, v);
    }
    let q = url.query().unwrap_or("");
    ts.get(&format!("{path}?{q}"), who.auth()).await
}

/// The contents found, in order, and the total.
pub fn hits(v: &Value) -> (Vec<String>, u64) {
    let list = v["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("messages: {v}"))
        .iter()
        .map(|group| group[0]["content"].as_str().expect("content").to_owned())
        .collect();
    // Every test search matches far fewer than the 10,000 counted exactly.
    assert_eq!(v["total_results_exact"], Value::Bool(true), "{v}");
    (list, v["total_results"].as_u64().expect("total_results"))
}

impl Room {
    /// Search the room's guild as `who`; panics unless 200.
    async fn find(&self, who: &TestUser, pairs: &[(&str, &str)]) -> (Vec<String>, u64) {
        let (s, v) = search(
            &self.ts,
            who,
            &format!("/guilds/{}/messages/search", self.guild),
            pairs,
        )
        .await;
        assert_eq!(s, 200, "{pairs:?}: {v}");
        hits(&v)
    }

    /// Search for `content` as Alice.
    async fn words(&self, content: &str) -> (Vec<String>, u64) {
        self.find(&self.alice, &[("content", content)]).await
    }

    /// A new text channel of the room's guild.
    async fn channel(&self, name: &str) -> String {
        let (s, c) = self
            .ts
            .post_as(
                &format!("/guilds/{}/channels", self.guild),
                self.alice.auth(),
                &json!({"name": name}),
            )
            .await;
        assert_eq!(s, 201, "{c}");
        c["id"].as_str().expect("id").to_owned()
    }

    /// Send `content` in `channel` as `who`.
    async fn send_in(&self, channel: &str, who: &TestUser, content: &str) -> Value {
        let (s, v) = self
            .ts
            .post_as(
                &format!("/channels/{channel}/messages"),
                who.auth(),
                &json!({"content": content}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_matching_folds_stems_and_finds_cjk() {
    let r = room().await;
    for text in [
        "She was RUNNING to the café",
        "he runs; the cafe is closed",
        "Les chevaux mangent",
        "un cheval blanc",
        "東京都に行きます",
        "configuration of the closed cafe",
        "Élèves et professeurs",
    ] {
        r.send(&r.alice, text).await;
    }
    assert_eq!(
        r.words("run").await,
        (
            owned(&["he runs; the cafe is closed", "She was RUNNING to the café"]),
            2
        )
    );
    assert_eq!(r.words("Café").await.1, 3);
    assert_eq!(
        r.words("CAFE running closed").await,
        (owned(&["he runs; the cafe is closed"]), 1)
    );
    assert_eq!(r.words("cheval").await.1, 2);
    assert_eq!(
        r.words("eleves").await,
        (owned(&["Élèves et professeurs"]), 1)
    );
    assert_eq!(
        r.words("\"closed cafe\"").await,
        (owned(&["configuration of the closed cafe"]), 1)
    );
    assert_eq!(r.words("\"cafe closed\"").await.1, 0);
    assert_eq!(r.words("conf*").await.1, 1);
    assert_eq!(r.words("conf").await.1, 0, "no implicit prefix");
    assert_eq!(r.words("京都").await, (owned(&["東京都に行きます"]), 1));
    assert_eq!(r.words("都").await.1, 1);
    assert_eq!(r.words("大阪").await.1, 0);
    for hostile in [
        "\"",
        "a OR b",
        "col : x",
        "'); DROP TABLE messages; --",
        "NEAR(a b)",
        "a & !b",
    ] {
        let (s, v) = search(
            &r.ts,
            &r.alice,
            &format!("/guilds/{}/messages/search", r.guild),
            &[("content", hostile)],
        )
        .await;
        assert_eq!(s, 200, "{hostile}: {v}");
    }
    // Highlights mark the words that matched, as written.
    let (s, v) = search(
        &r.ts,
        &r.alice,
        &format!("/guilds/{}/messages/search", r.guild),
        &[("content", "run cafe")],
    )
    .await;
    assert_eq!(s, 200);
    let m = &v["messages"][0][0];
    assert_eq!(m["hit"], true);
    assert_eq!(m["highlights"], json!(["runs", "cafe"]));
    assert_eq!(m["guild_id"], r.guild.as_str());
    assert!(m.get("reactions").is_none_or(Value::is_null));
    r.ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_pages_and_orders() {
    let r = room().await;
    let other = r.channel("other").await;
    let a1 = r.send(&r.alice, "plan one").await;
    r.send(
        &r.bob,
        &format!("plan two <@{}> https://example.com", r.alice.id),
    )
    .await;
    r.send_in(&other, &r.alice, "plan three plan").await;
    let a4 = r.send(&r.bob, "plan four").await;
    let a1id = a1["id"].as_str().expect("id");
    let a4id = a4["id"].as_str().expect("id");

    assert_eq!(r.words("plan").await.1, 4);
    let bob = r.bob.id.to_string();
    let alice = r.alice.id.to_string();
    assert_eq!(
        r.find(&r.alice, &[("content", "plan"), ("author_id", &bob)])
            .await
            .1,
        2
    );
    assert_eq!(
        r.find(&r.alice, &[("author_id", &bob), ("author_id", &alice)])
            .await
            .1,
        4
    );
    assert_eq!(
        r.find(&r.alice, &[("mentions", &alice)]).await.0[0],
        format!("plan two <@{}> https://example.com", r.alice.id)
    );
    assert_eq!(r.find(&r.alice, &[("has", "link")]).await.1, 1);
    assert_eq!(r.find(&r.alice, &[("has", "file")]).await.1, 0);
    assert_eq!(
        r.find(&r.alice, &[("channel_id", &other)]).await,
        (owned(&["plan three plan"]), 1)
    );
    assert_eq!(
        r.find(
            &r.alice,
            &[("channel_id", &other), ("channel_id", &r.channel)]
        )
        .await
        .1,
        4
    );
    assert_eq!(
        r.find(&r.alice, &[("min_id", a1id), ("max_id", a4id)])
            .await
            .1,
        2
    );
    // Channel search stays in its channel.
    let (s, v) = search(
        &r.ts,
        &r.alice,
        &format!("/channels/{other}/messages/search"),
        &[("content", "plan")],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(hits(&v).1, 1);
    // Pages and orders.
    let (page, total) = r
        .find(
            &r.alice,
            &[("content", "plan"), ("limit", "2"), ("offset", "1")],
        )
        .await;
    assert_eq!((page.len(), total), (2, 4));
    assert_eq!(
        page[1],
        format!("plan two <@{}> https://example.com", r.alice.id)
    );
    let (page, _) = r
        .find(
            &r.alice,
            &[("content", "plan"), ("sort_order", "asc"), ("limit", "1")],
        )
        .await;
    assert_eq!(page, owned(&["plan one"]));
    let (page, _) = r
        .find(&r.alice, &[("content", "plan"), ("sort_by", "relevance")])
        .await;
    assert_eq!(page[0], "plan three plan");
    // Pinned.
    let (s, v) =
        r.ts.put(
            &r.path(&format!("/pins/{a1id}")),
            r.alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(
        r.find(&r.alice, &[("pinned", "true")]).await,
        (owned(&["plan one"]), 1)
    );
    assert_eq!(
        r.find(&r.alice, &[("content", "plan"), ("pinned", "false")])
            .await
            .1,
        3
    );
    r.ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_deletes_are_reflected() {
    let r = room().await;
    let m1 = r.send(&r.alice, "apple pie").await;
    let m2 = r.send(&r.alice, "apple tart").await;
    let m3 = r.send(&r.alice, "apple crumble").await;
    let m4 = r.send(&r.alice, "apple juice").await;
    let id = |m: &Value| m["id"].as_str().expect("id").to_owned();
    let (s, v) =
        r.ts.patch(
            &r.path(&format!("/messages/{}", id(&m1))),
            r.alice.auth(),
            &json!({"content": "banana bread"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(r.words("banana").await.1, 1);
    assert_eq!(r.words("apple").await.1, 3);
    let (s, _) =
        r.ts.delete(&r.path(&format!("/messages/{}", id(&m2))), r.alice.auth())
            .await;
    assert_eq!(s, 204);
    assert_eq!(r.words("tart").await.1, 0);
    let (s, v) =
        r.ts.post_as(
            &r.path("/messages/bulk-delete"),
            r.alice.auth(),
            &json!({"messages": [id(&m3), id(&m4)]}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(r.words("apple").await.1, 0);
    // A ban's purge.
    r.send(&r.bob, "cherry from bob").await;
    let (s, v) =
        r.ts.put(
            &format!("/guilds/{}/bans/{}", r.guild, r.bob.id),
            r.alice.auth(),
            &json!({"delete_message_seconds": 3600}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(r.words("cherry").await.1, 0);
    // A channel delete.
    let other = r.channel("other").await;
    r.send_in(&other, &r.alice, "damson jam").await;
    assert_eq!(r.words("damson").await.1, 1);
    let (s, v) =
        r.ts.delete(&format!("/channels/{other}"), r.alice.auth())
            .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(r.words("damson").await.1, 0);
    r.ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_channels_are_neither_returned_nor_counted() {
    let r = room().await;
    let secret = r.channel("secret").await;
    r.send(&r.alice, "public kiwi").await;
    r.send_in(&secret, &r.alice, "secret kiwi").await;
    r.send_in(&secret, &r.alice, "secret kiwi again").await;
    // @everyone may not view the secret channel; a role may.
    let (s, v) =
        r.ts.put(
            &format!("/channels/{secret}/permissions/{}", r.guild),
            r.alice.auth(),
            &json!({"type": 0, "allow": "0", "deny": "1024"}),
        )
        .await;
    assert!(s == 204 || s == 200, "{v}");
    assert_eq!(r.words("kiwi").await.1, 3, "the owner sees everything");
    assert_eq!(
        r.find(&r.bob, &[("content", "kiwi")]).await,
        (owned(&["public kiwi"]), 1)
    );
    assert_eq!(r.find(&r.bob, &[("channel_id", &secret)]).await.1, 0);
    let (s, _) = search(
        &r.ts,
        &r.bob,
        &format!("/channels/{secret}/messages/search"),
        &[("content", "kiwi")],
    )
    .await;
    assert_eq!(s, 404);

    let (s, role) =
        r.ts.post_as(
            &format!("/guilds/{}/roles", r.guild),
            r.alice.auth(),
            &json!({"name": "insiders"}),
        )
        .await;
    assert_eq!(s, 200, "{role}");
    let role = role["id"].as_str().expect("role").to_owned();
    let (s, v) =
        r.ts.put(
            &format!("/channels/{secret}/permissions/{role}"),
            r.alice.auth(),
            &json!({"type": 0, "allow": "1024", "deny": "0"}),
        )
        .await;
    assert!(s == 204 || s == 200, "{v}");
    let member_role = format!("/guilds/{}/members/{}/roles/{role}", r.guild, r.bob.id);
    let (s, v) = r.ts.put(&member_role, r.alice.auth(), &json!({})).await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(r.find(&r.bob, &[("content", "kiwi")]).await.1, 3);
    // Losing the role hides the hits at once.
    let (s, _) = r.ts.delete(&member_role, r.alice.auth()).await;
    assert_eq!(s, 204);
    assert_eq!(r.find(&r.bob, &[("content", "kiwi")]).await.1, 1);
    // Viewing without Read Message History is not reading.
    r.deny(&r.bob, 1 << 16).await;
    assert_eq!(r.find(&r.bob, &[("content", "kiwi")]).await.1, 0);
    let (s, v) = search(
        &r.ts,
        &r.bob,
        &r.path("/messages/search"),
        &[("content", "kiwi")],
    )
    .await;
    assert_eq!((s, hits(&v).1), (200, 0));
    // A stranger learns nothing about the guild.
    let carol = r.ts.user("carol").await;
    let (s, v) = search(
        &r.ts,
        &carol,
        &format!("/guilds/{}/messages/search", r.guild),
        &[],
    )
    .await;
    assert_eq!((s, v["code"].as_u64()), (404, Some(10004)));
    let (s, v) = search(&r.ts, &carol, &r.path("/messages/search"), &[]).await;
    assert_eq!((s, v["code"].as_u64()), (404, Some(10003)));
    r.ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_field_errors() {
    let r = room().await;
    let path = format!("/guilds/{}/messages/search", r.guild);
    let long = "x".repeat(1025);
    for (pairs, field) in [
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "26")], "limit"),
        (vec![("limit", "ten")], "limit"),
        (vec![("offset", "9976")], "offset"),
        (vec![("sort_by", "date")], "sort_by"),
        (vec![("sort_order", "sideways")], "sort_order"),
        (vec![("author_id", "abc")], "author_id.0"),
        (
            vec![("channel_id", "1"), ("channel_id", "-2")],
            "channel_id.1",
        ),
        (vec![("mentions", "1e9")], "mentions.0"),
        (vec![("min_id", "x")], "min_id"),
        (vec![("has", "poll")], "has.0"),
        (vec![("pinned", "yes")], "pinned"),
        (vec![("content", long.as_str())], "content"),
    ] {
        let (s, v) = search(&r.ts, &r.alice, &path, &pairs).await;
        assert_eq!(s, 400, "{pairs:?}: {v}");
        assert_eq!(v["code"], 50035, "{v}");
        let top = field.split('.').next().expect("field");
        assert!(v["errors"].get(top).is_some(), "{pairs:?}: {v}");
    }
    let (s, v) = search(&r.ts, &r.alice, "/guilds/abc/messages/search", &[]).await;
    assert_eq!(s, 400, "{v}");
    let (s, _) = r.ts.get(&path, None).await;
    assert_eq!(s, 401);
    r.ts.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipients_search_their_direct_messages() {
    use crate::social::{dm_id, say};
    let r = room().await;
    let dm = dm_id(&r.ts, &r.alice, &r.bob).await;
    let (s, v) = say(&r.ts, &r.alice, &dm, "secret mango recipe").await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = say(&r.ts, &r.bob, &dm, "mangoes are great").await;
    assert_eq!(s, 200, "{v}");
    r.send(&r.alice, "public mango").await;
    let path = format!("/channels/{dm}/messages/search");
    for who in [&r.alice, &r.bob] {
        let (s, v) = search(&r.ts, who, &path, &[("content", "mango")]).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(
            hits(&v),
            (owned(&["mangoes are great", "secret mango recipe"]), 2)
        );
    }
    let (s, v) = search(&r.ts, &r.alice, &path, &[("author_id", &r.bob.id)]).await;
    assert_eq!((s, hits(&v).1), (200, 1), "{v}");
    // The DM is not part of the guild's results, and strangers cannot search it.
    assert_eq!(r.words("mango").await, (owned(&["public mango"]), 1));
    let carol = r.ts.user("carol").await;
    let (s, _) = search(&r.ts, &carol, &path, &[("content", "mango")]).await;
    assert_eq!(s, 404);
    r.ts.stop().await;
}
