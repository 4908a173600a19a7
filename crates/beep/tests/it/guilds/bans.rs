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
