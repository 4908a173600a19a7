//! Bans: list, read, ban (with its message deletion window), unban, and banned
//! users kept out.

use beep_types::Permissions as P;
use serde_json::json;

use super::{assert_error, audit_actions, expect_event, world};

#[tokio::test]
async fn ban_unban_and_banned_users_stay_out() {
    let w = world().await;
    let bob = w.member("bob").await;
    let carol = w.member("carol").await;
    let mut events = w.events();
    assert_error(w.ts.get(&w.g("/bans"), bob.auth()).await, 403, 50013);
    assert_error(
        w.ts.put(&w.g(&format!("/bans/{}", carol.id)), bob.auth(), &json!({}))
            .await,
        403,
        50013,
    );

    let code = w.invite(&json!({"max_uses": 0})).await;
    let r =
        w.ts.http
            .put(w.ts.api(&w.g(&format!("/bans/{}", bob.id))))
            .header("authorization", &w.owner.token)
            .header("x-audit-log-reason", "spam")
            .json(&json!({"delete_message_seconds": 3600}))
            .send()
            .await
            .expect("request");
    assert_eq!(r.status(), 204);
    let e = expect_event(&mut events, "GUILD_MEMBER_REMOVE").await;
    assert_eq!(e.data["user"]["id"], bob.id.as_str());
    let e = expect_event(&mut events, "GUILD_BAN_ADD").await;
    assert_eq!(e.data["user"]["id"], bob.id.as_str());
    assert_eq!(e.intent, Some(4), "GUILD_MODERATION");
    assert_error(w.ts.get(&w.g(""), bob.auth()).await, 404, 10004);

    let (s, bans) = w.ts.get(&w.g("/bans"), w.owner.auth()).await;
    assert_eq!(s, 200, "{bans}");
    assert_eq!(bans[0]["user"]["id"], bob.id.as_str());
    assert_eq!(bans[0]["reason"], "spam");
    let (s, one) =
        w.ts.get(&w.g(&format!("/bans/{}", bob.id)), w.owner.auth())
            .await;
    assert_eq!((s, one["reason"].clone()), (200, json!("spam")));
    assert_error(
        w.ts.get(&w.g(&format!("/bans/{}", carol.id)), w.owner.auth())
            .await,
        404,
        10026,
    );

    // Banned: neither an invite nor the public door lets bob back in.
    assert_error(
        w.ts.post_as(&format!("/invites/{code}"), bob.auth(), &json!({}))
            .await,
        403,
        40007,
    );
    let (s, _) =
        w.ts.patch(&w.g(""), w.owner.auth(), &json!({"public": true}))
            .await;
    assert_eq!(s, 200);
    assert_error(
        w.ts.put(&w.g("/members/@me"), bob.auth(), &json!({})).await,
        403,
        40007,
    );

    // Users who are not members can be banned too (no body is fine); the owner cannot.
    let eve = w.ts.user("eve").await;
    let (s, _) =
        w.ts.call(
            reqwest::Method::PUT,
            &w.g(&format!("/bans/{}", eve.id)),
            w.owner.auth(),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_error(
        w.ts.put(&w.g("/members/@me"), eve.auth(), &json!({})).await,
        403,
        40007,
    );
    let (s, v) =
        w.ts.put(&w.g("/bans/424242"), w.owner.auth(), &json!({}))
            .await;
    assert_eq!(
        (s, v["code"].clone()),
        (404, json!(10013)),
        "unknown users: {v}"
    );
    let (s, v) =
        w.ts.put(
            &w.g(&format!("/bans/{}", carol.id)),
            w.owner.auth(),
            &json!({"delete_message_seconds": 604801}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let banners = w.role("banners", P::BAN_MEMBERS.bits()).await;
    w.grant(&carol, &banners).await;
    assert_error(
        w.ts.put(
            &w.g(&format!("/bans/{}", w.owner.id)),
            carol.auth(),
            &json!({}),
        )
        .await,
        403,
        50013,
    );
    let (s, bans) = w.ts.get(&w.g("/bans?limit=1"), carol.auth()).await;
    assert_eq!((s, bans.as_array().map(Vec::len)), (200, Some(1)));

    let (s, _) =
        w.ts.delete(&w.g(&format!("/bans/{}", bob.id)), carol.auth())
            .await;
    assert_eq!(s, 204);
    let e = expect_event(&mut events, "GUILD_BAN_REMOVE").await;
    assert_eq!(e.data["user"]["id"], bob.id.as_str());
    assert_error(
        w.ts.delete(&w.g(&format!("/bans/{}", bob.id)), carol.auth())
            .await,
        404,
        10026,
    );
    let (s, _) =
        w.ts.post_as(&format!("/invites/{code}"), bob.auth(), &json!({}))
            .await;
    assert_eq!(s, 200, "unbanned users may come back");
    let actions = audit_actions(&w).await;
    assert!(
        actions.contains(&22) && actions.contains(&23),
        "{actions:?}"
    );
}

/// `delete_message_seconds` removes the banned user's recent messages (and only
/// theirs), and clients are told with a bulk delete event.
#[tokio::test]
async fn ban_deletes_the_users_recent_messages() {
    let w = world().await;
    let bob = w.member("bob").await;
    let carol = w.member("carol").await;
    let post = |who: &super::super::harness::TestUser, text: &str| {
        let (ts, ch, tok, text) = (&w.ts, w.text.clone(), who.token.clone(), text.to_string());
        async move {
            let (s, m) = ts
                .post_as(
                    &format!("/channels/{ch}/messages"),
                    Some(&tok),
                    &json!({"content": text}),
                )
                .await;
            assert_eq!(s, 200, "send: {m}");
            super::str_of(&m["id"])
        }
    };
    let bob_msgs = [post(&bob, "one").await, post(&bob, "two").await];
    let carol_msg = post(&carol, "mine").await;
    let dave = w.member("dave").await;
    let dave_msg = post(&dave, "kept: banned with no purge window").await;
    let mut events = w.events();

    let (s, v) =
        w.ts.put(
            &w.g(&format!("/bans/{}", bob.id)),
            w.owner.auth(),
            &json!({"delete_message_seconds": 600}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let e = expect_event(&mut events, "MESSAGE_DELETE_BULK").await;
    let mut ids: Vec<String> = e.data["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(super::str_of)
        .collect();
    ids.sort();
    let mut want = bob_msgs.to_vec();
    want.sort();
    assert_eq!(ids, want);
    assert_eq!(e.data["channel_id"], w.text.as_str());
    for id in &bob_msgs {
        let (s, _) =
            w.ts.get(
                &format!("/channels/{}/messages/{id}", w.text),
                w.owner.auth(),
            )
            .await;
        assert_eq!(s, 404, "bob's message {id} survived the ban");
    }
    let (s, _) =
        w.ts.get(
            &format!("/channels/{}/messages/{carol_msg}", w.text),
            w.owner.auth(),
        )
        .await;
    assert_eq!(s, 200, "carol's message was deleted");

    // A ban without a window deletes nothing.
    let (s, v) =
        w.ts.put(
            &w.g(&format!("/bans/{}", dave.id)),
            w.owner.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let (s, _) =
        w.ts.get(
            &format!("/channels/{}/messages/{dave_msg}", w.text),
            w.owner.auth(),
        )
        .await;
    assert_eq!(s, 200, "dave's message was deleted without a window");
}
