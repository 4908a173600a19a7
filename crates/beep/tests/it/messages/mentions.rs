//! Mentions parsed from content, what permissions and `allowed_mentions` let
//! through.

use serde_json::{Value, json};

use super::{code, room};

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("array: {list}"))
        .iter()
        .map(|v| {
            v.as_str()
                .map_or_else(|| v["id"].as_str().expect("id").to_owned(), str::to_owned)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_roles_and_everyone_are_parsed_from_content() {
    let r = room().await;
    let (s, mentionable) =
        r.ts.post_as(
            &format!("/guilds/{}/roles", r.guild),
            r.alice.auth(),
            &json!({"name": "ops", "mentionable": true}),
        )
        .await;
    assert!(s == 200 || s == 201, "{mentionable}");
    let (_, quiet) =
        r.ts.post_as(
            &format!("/guilds/{}/roles", r.guild),
            r.alice.auth(),
            &json!({"name": "staff"}),
        )
        .await;
    let (ops, staff) = (
        mentionable["id"].as_str().expect("id").to_owned(),
        quiet["id"].as_str().expect("id").to_owned(),
    );
    let text = format!(
        "hey <@{a}> <@!{a}> <@&{ops}> <@&{staff}> <@12345> in <#{ch}> `<@{b}>` and @everyone",
        a = r.alice.id,
        b = r.bob.id,
        ch = r.channel
    );
    let m = r.send(&r.bob, &text).await;
    assert_eq!(
        ids(&m["mentions"]),
        vec![r.alice.id.clone()],
        "unknown users and code are not mentions"
    );
    assert_eq!(
        ids(&m["mention_roles"]),
        vec![ops.clone(), staff.clone()],
        "Mention Everyone (which @everyone has by default) reaches every role"
    );
    assert_eq!(m["mention_everyone"], true);

    // The owner may mention any role.
    let m = r.send(&r.alice, &format!("<@&{staff}>")).await;
    assert_eq!(ids(&m["mention_roles"]).len(), 1);

    // Without Mention Everyone: no @everyone, no unmentionable role.
    r.deny(&r.bob, 1 << 17).await;
    let m = r
        .send(&r.bob, &format!("@everyone @here <@&{ops}> <@&{staff}>"))
        .await;
    assert_eq!(m["mention_everyone"], false);
    assert_eq!(ids(&m["mention_roles"]), vec![ops]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_mentions_decide_what_mentions() {
    let r = room().await;
    let carol = r.ts.user("carol").await;
    super::join(&r.ts, &r.alice, &r.channel, &carol).await;
    let text = format!("<@{}> <@{}> @everyone", r.bob.id, carol.id);
    let m = r
        .send_body(
            &r.alice,
            &json!({"content": text, "allowed_mentions": {"parse": []}}),
        )
        .await;
    assert_eq!(m["mentions"], json!([]));
    assert_eq!(m["mention_everyone"], false);
    let m = r
        .send_body(
            &r.alice,
            &json!({"content": text, "allowed_mentions": {"users": [r.bob.id]}}),
        )
        .await;
    assert_eq!(ids(&m["mentions"]), vec![r.bob.id.clone()]);
    let m = r
        .send_body(
            &r.alice,
            &json!({"content": text, "allowed_mentions": {"parse": ["users", "everyone"]}}),
        )
        .await;
    assert_eq!(ids(&m["mentions"]).len(), 2);
    assert_eq!(m["mention_everyone"], true);
    let (s, v) = r
        .try_send(&r.alice, &json!({"content": text, "allowed_mentions": {"parse": ["users"], "users": [r.bob.id]}}))
        .await;
    assert_eq!(
        (s, code(&v)),
        (400, 50035),
        "parse and ids of one kind: {v}"
    );
    let (s, v) = r
        .try_send(
            &r.alice,
            &json!({"content": text, "allowed_mentions": {"parse": ["nobody"]}}),
        )
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
}
