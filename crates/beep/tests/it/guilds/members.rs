//! Members: list, search, read, nicknames, timeouts, kicks.

use beep_types::Permissions as P;
use serde_json::json;

use super::{assert_error, audit_actions, expect_event, str_of, world};

#[tokio::test]
async fn members_are_listed_searched_and_read() {
    let w = world().await;
    let alice = w.member("alice").await;
    let albert = w.member("albert").await;
    let bob = w.member("bob").await;
    let ids = |v: &serde_json::Value| {
        v.as_array()
            .expect("list")
            .iter()
            .map(|m| str_of(&m["user"]["id"]))
            .collect::<Vec<_>>()
    };

    let (s, all) = w.ts.get(&w.g("/members?limit=1000"), bob.auth()).await;
    assert_eq!(s, 200, "{all}");
    let mut want = vec![
        w.owner.id.clone(),
        alice.id.clone(),
        albert.id.clone(),
        bob.id.clone(),
    ];
    want.sort_by_key(|id| id.parse::<u64>().expect("id"));
    assert_eq!(ids(&all), want, "by user id");
    let m = &all[0];
    assert!(m["user"]["username"].is_string() && m["roles"].is_array());
    assert!(m["joined_at"].as_str().expect("joined_at").contains('T'));
    assert_eq!(
        (m["deaf"].clone(), m["mute"].clone()),
        (json!(false), json!(false))
    );
    let (_, one) = w.ts.get(&w.g("/members"), bob.auth()).await;
    assert_eq!(
        one.as_array().map(Vec::len),
        Some(1),
        "the default limit is 1"
    );
    let (_, rest) =
        w.ts.get(
            &w.g(&format!("/members?limit=10&after={}", want[1])),
            bob.auth(),
        )
        .await;
    assert_eq!(ids(&rest), want[2..].to_vec());
    let (s, v) = w.ts.get(&w.g("/members?limit=1001"), bob.auth()).await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = w.ts.get(&w.g("/members?after=abc"), bob.auth()).await;
    assert_eq!(s, 400, "{v}");

    let (s, found) =
        w.ts.get(&w.g("/members/search?query=AL&limit=10"), bob.auth())
            .await;
    assert_eq!(s, 200, "{found}");
    let mut got = ids(&found);
    got.sort();
    let mut expect = vec![alice.id.clone(), albert.id.clone()];
    expect.sort();
    assert_eq!(got, expect);
    let (s, v) = w.ts.get(&w.g("/members/search?limit=10"), bob.auth()).await;
    assert_eq!(s, 400, "a query is needed: {v}");
    let long = "a".repeat(101);
    let (s, v) =
        w.ts.get(&w.g(&format!("/members/search?query={long}")), bob.auth())
            .await;
    assert_eq!(s, 400, "a query over 100 characters: {v}");
    assert!(v["errors"]["query"].is_object(), "{v}");

    let (s, m) =
        w.ts.get(&w.g(&format!("/members/{}", alice.id)), bob.auth())
            .await;
    assert_eq!((s, m["user"]["username"].clone()), (200, json!("alice")));
    let eve = w.ts.user("eve").await;
    assert_error(
        w.ts.get(&w.g(&format!("/members/{}", eve.id)), bob.auth())
            .await,
        404,
        10007,
    );
}

#[tokio::test]
async fn nicknames_and_timeouts() {
    let w = world().await;
    let bob = w.member("bob").await;
    let carol = w.member("carol").await;
    let mut events = w.events();
    let (s, m) =
        w.ts.patch(&w.g("/members/@me"), bob.auth(), &json!({"nick": "Bobby"}))
            .await;
    assert_eq!((s, m["nick"].clone()), (200, json!("Bobby")), "{m}");
    let e = expect_event(&mut events, "GUILD_MEMBER_UPDATE").await;
    assert_eq!(e.data["nick"], "Bobby");
    assert_eq!(e.intent, Some(2), "GUILD_MEMBERS");
    let (s, m) =
        w.ts.patch(&w.g("/members/@me"), bob.auth(), &json!({"nick": null}))
            .await;
    assert_eq!((s, m["nick"].clone()), (200, json!(null)));
    let (s, v) =
        w.ts.patch(
            &w.g("/members/@me"),
            bob.auth(),
            &json!({"nick": "x".repeat(33)}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_error(
        w.ts.patch(
            &w.g(&format!("/members/{}", carol.id)),
            bob.auth(),
            &json!({"nick": "Caz"}),
        )
        .await,
        403,
        50013,
    );
    let (s, m) =
        w.ts.patch(
            &w.g(&format!("/members/{}", carol.id)),
            w.owner.auth(),
            &json!({"nick": "Caz"}),
        )
        .await;
    assert_eq!((s, m["nick"].clone()), (200, json!("Caz")));

    // Without CHANGE_NICKNAME on @everyone, not even one's own.
    let everyone = (P::DEFAULT_EVERYONE - P::CHANGE_NICKNAME)
        .bits()
        .to_string();
    let (s, _) =
        w.ts.patch(
            &w.g(&format!("/roles/{}", w.guild)),
            w.owner.auth(),
            &json!({"permissions": everyone}),
        )
        .await;
    assert_eq!(s, 200);
    assert_error(
        w.ts.patch(&w.g("/members/@me"), bob.auth(), &json!({"nick": "Bob2"}))
            .await,
        403,
        50013,
    );

    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let (s, m) =
        w.ts.patch(
            &w.g(&format!("/members/{}", bob.id)),
            w.owner.auth(),
            &json!({"communication_disabled_until": until}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    assert!(
        m["communication_disabled_until"]
            .as_str()
            .expect("until")
            .ends_with("+00:00")
    );
    // A timed-out member keeps only reading.
    assert_error(
        w.ts.post_as(
            &format!("/channels/{}/invites", w.text),
            bob.auth(),
            &json!({}),
        )
        .await,
        403,
        50013,
    );
    let too_long = (chrono::Utc::now() + chrono::Duration::days(29)).to_rfc3339();
    let (s, v) =
        w.ts.patch(
            &w.g(&format!("/members/{}", bob.id)),
            w.owner.auth(),
            &json!({"communication_disabled_until": too_long}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_error(
        w.ts.patch(
            &w.g(&format!("/members/{}", carol.id)),
            bob.auth(),
            &json!({"communication_disabled_until": until}),
        )
        .await,
        403,
        50013,
    );
    let (s, m) =
        w.ts.patch(
            &w.g(&format!("/members/{}", bob.id)),
            w.owner.auth(),
            &json!({"communication_disabled_until": null}),
        )
        .await;
    assert_eq!(
        (s, m["communication_disabled_until"].clone()),
        (200, json!(null))
    );
    let (s, m) =
        w.ts.patch(
            &w.g(&format!("/members/{}", bob.id)),
            w.owner.auth(),
            &json!({"mute": true, "deaf": true}),
        )
        .await;
    assert_eq!(
        (s, m["mute"].clone(), m["deaf"].clone()),
        (200, json!(true), json!(true))
    );
    assert_error(
        w.ts.patch(
            &w.g(&format!("/members/{}", carol.id)),
            bob.auth(),
            &json!({"mute": true}),
        )
        .await,
        403,
        50013,
    );
    assert!(
        audit_actions(&w).await.contains(&24),
        "MEMBER_UPDATE is logged"
    );
}

#[tokio::test]
async fn kicks_follow_permissions_and_the_hierarchy() {
    let w = world().await;
    let bob = w.member("bob").await;
    let carol = w.member("carol").await;
    let dave = w.member("dave").await;
    let mods = w.role("mods", P::KICK_MEMBERS.bits()).await;
    w.grant(&bob, &mods).await;
    w.grant(&carol, &mods).await;
    let mut events = w.events();
    assert_error(
        w.ts.delete(&w.g(&format!("/members/{}", bob.id)), dave.auth())
            .await,
        403,
        50013,
    );
    assert_error(
        w.ts.delete(&w.g(&format!("/members/{}", carol.id)), bob.auth())
            .await,
        403,
        50013,
    );
    assert_error(
        w.ts.delete(&w.g(&format!("/members/{}", w.owner.id)), bob.auth())
            .await,
        403,
        50013,
    );
    let eve = w.ts.user("eve").await;
    assert_error(
        w.ts.delete(&w.g(&format!("/members/{}", eve.id)), bob.auth())
            .await,
        404,
        10007,
    );
    let r =
        w.ts.http
            .delete(w.ts.api(&w.g(&format!("/members/{}", dave.id))))
            .header("authorization", &bob.token)
            .header("x-audit-log-reason", "be nice")
            .send()
            .await
            .expect("request");
    assert_eq!(r.status(), 204);
    let e = expect_event(&mut events, "GUILD_MEMBER_REMOVE").await;
    assert_eq!(e.data["user"]["id"], dave.id.as_str());
    let e = expect_event(&mut events, "GUILD_DELETE").await;
    assert_eq!(
        e.audience,
        beep_core::events::Audience::Users(vec![dave.id.parse().expect("id")])
    );
    assert_error(w.ts.get(&w.g(""), dave.auth()).await, 404, 10004);
    let log = super::audit(&w, "?action_type=20").await;
    assert_eq!(log["audit_log_entries"][0]["target_id"], dave.id.as_str());
    assert_eq!(log["audit_log_entries"][0]["reason"], "be nice");
    // A kicked member may come back with an invite.
    w.join(&dave).await;
}

/// Member search uses the search analyzer: case and diacritics folded, CJK
/// kept, prefixes of username, global name and nick, changes reflected, exact
/// matches and username prefixes first.
#[tokio::test]
async fn member_search_folds_names_and_follows_changes() {
    let w = world().await;
    let zk = w.member("zk").await;
    let tokyo = w.member("tokyo1").await;
    let nandu = w.member("nandu").await;
    let search = |query: &'static str| {
        let (ts, path) = (&w.ts, w.g("/members/search?limit=10&query="));
        let auth = zk.auth();
        async move {
            let (s, v) = ts.get(&format!("{path}{}", urlencode(query)), auth).await;
            assert_eq!(s, 200, "{query}: {v}");
            v.as_array()
                .expect("list")
                .iter()
                .map(|m| str_of(&m["user"]["id"]))
                .collect::<Vec<_>>()
        }
    };
    let (s, v) =
        w.ts.patch("/users/@me", zk.auth(), &json!({"global_name": "Zoë K"}))
            .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) =
        w.ts.patch("/users/@me", tokyo.auth(), &json!({"global_name": "東京"}))
            .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        search("ZOE").await,
        vec![zk.id.clone()],
        "folded global name"
    );
    assert_eq!(search("zoë").await, vec![zk.id.clone()]);
    assert_eq!(search("東").await, vec![tokyo.id.clone()], "CJK prefix");
    assert!(search("京").await.is_empty(), "prefixes only");
    assert!(search("%").await.is_empty(), "punctuation finds nobody");

    let (s, v) =
        w.ts.patch(&w.g("/members/@me"), zk.auth(), &json!({"nick": "Ñandú"}))
            .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        search("NAND").await,
        vec![nandu.id.clone(), zk.id.clone()],
        "the username prefix ranks before the nick"
    );
    let (s, v) =
        w.ts.patch(&w.g("/members/@me"), zk.auth(), &json!({"nick": null}))
            .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(search("nand").await, vec![nandu.id.clone()], "nick cleared");
    let (s, v) =
        w.ts.patch("/users/@me", zk.auth(), &json!({"global_name": "Kay"}))
            .await;
    assert_eq!(s, 200, "{v}");
    assert!(
        search("zoe").await.is_empty(),
        "the old global name is gone"
    );
    assert_eq!(search("kay").await, vec![zk.id.clone()]);
}

/// Percent-encode a query value (UTF-8 bytes).
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
