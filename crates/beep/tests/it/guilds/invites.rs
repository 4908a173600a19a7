//! Invites: create, read with counts, list, revoke, join; expiry and use limits.

use beep_types::Permissions as P;
use serde_json::json;

use super::{assert_error, audit_actions, expect_event, str_of, world, world_with};

#[tokio::test]
async fn invites_are_created_read_listed_and_revoked() {
    let w = world().await;
    let bob = w.member("bob").await;
    let mut events = w.events();
    let (s, inv) =
        w.ts.post_as(
            &format!("/channels/{}/invites", w.text),
            w.owner.auth(),
            &json!({"max_age": 3600, "max_uses": 5, "temporary": true, "unique": true}),
        )
        .await;
    assert_eq!(s, 200, "{inv}");
    let code = str_of(&inv["code"]);
    assert_eq!(inv["type"], 0);
    assert_eq!(inv["guild"]["id"], w.guild.as_str());
    assert_eq!(inv["guild"]["name"], "Hall");
    assert_eq!(inv["channel"]["id"], w.text.as_str());
    assert_eq!(inv["channel"]["type"], 0);
    assert_eq!(inv["inviter"]["id"], w.owner.id.as_str());
    assert_eq!(
        (
            inv["max_age"].clone(),
            inv["max_uses"].clone(),
            inv["uses"].clone()
        ),
        (json!(3600), json!(5), json!(0))
    );
    assert_eq!(inv["temporary"], true);
    assert!(
        inv["expires_at"]
            .as_str()
            .expect("expires_at")
            .ends_with("+00:00")
    );
    let e = expect_event(&mut events, "INVITE_CREATE").await;
    assert_eq!(e.data["code"], code.as_str());
    assert_eq!(e.intent, Some(64), "GUILD_INVITES");

    let eve = w.ts.user("eve").await;
    let (s, seen) =
        w.ts.get(&format!("/invites/{code}?with_counts=true"), eve.auth())
            .await;
    assert_eq!(s, 200, "anyone may look at an invite: {seen}");
    assert_eq!(seen["approximate_member_count"], 2);
    assert!(seen.get("uses").is_none(), "no metadata for outsiders");
    assert_error(w.ts.get("/invites/nope", eve.auth()).await, 404, 10006);
    assert_error(w.ts.get("/invites/..%2F..", eve.auth()).await, 404, 10006);

    // Without `unique`, the same settings give the same live invite back.
    let (_, a) =
        w.ts.post_as(
            &format!("/channels/{}/invites", w.text),
            bob.auth(),
            &json!({"max_age": 0}),
        )
        .await;
    let (_, b) =
        w.ts.post_as(
            &format!("/channels/{}/invites", w.text),
            bob.auth(),
            &json!({"max_age": 0}),
        )
        .await;
    assert_eq!(a["code"], b["code"]);
    assert_eq!(a["expires_at"], json!(null));

    assert_error(w.ts.get(&w.g("/invites"), bob.auth()).await, 403, 50013);
    assert_error(
        w.ts.get(&format!("/channels/{}/invites", w.text), bob.auth())
            .await,
        403,
        50013,
    );
    // Bob's, this one, and the one bob joined with.
    let (s, list) = w.ts.get(&w.g("/invites"), w.owner.auth()).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(3)), "{list}");
    let (s, list) =
        w.ts.get(&format!("/channels/{}/invites", w.text), w.owner.auth())
            .await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(3)));

    let bob_code = str_of(&a["code"]);
    assert_error(
        w.ts.delete(&format!("/invites/{code}"), bob.auth()).await,
        403,
        50013,
    );
    assert_error(
        w.ts.delete(&format!("/invites/{code}"), eve.auth()).await,
        403,
        50013,
    );
    let (s, gone) =
        w.ts.delete(&format!("/invites/{bob_code}"), w.owner.auth())
            .await;
    assert_eq!((s, gone["code"].clone()), (200, json!(bob_code)));
    let e = expect_event(&mut events, "INVITE_DELETE").await;
    assert_eq!(e.data["code"], bob_code.as_str());
    assert_error(
        w.ts.get(&format!("/invites/{bob_code}"), eve.auth()).await,
        404,
        10006,
    );

    // Refusals: a folder, bad values, no permission.
    let (_, folder) =
        w.ts.post_as(
            &w.g("/channels"),
            w.owner.auth(),
            &json!({"name": "F", "type": 4}),
        )
        .await;
    assert_error(
        w.ts.post_as(
            &format!("/channels/{}/invites", str_of(&folder["id"])),
            w.owner.auth(),
            &json!({}),
        )
        .await,
        400,
        50024,
    );
    let (s, v) =
        w.ts.post_as(
            &format!("/channels/{}/invites", w.text),
            w.owner.auth(),
            &json!({"max_age": 604801, "max_uses": 101}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert!(
        v["errors"]["max_age"].is_object() && v["errors"]["max_uses"].is_object(),
        "{v}"
    );
    let everyone = (P::DEFAULT_EVERYONE - P::CREATE_INSTANT_INVITE)
        .bits()
        .to_string();
    w.ts.patch(
        &w.g(&format!("/roles/{}", w.guild)),
        w.owner.auth(),
        &json!({"permissions": everyone}),
    )
    .await;
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
    let actions = audit_actions(&w).await;
    assert!(
        actions.contains(&40) && actions.contains(&42),
        "{actions:?}"
    );
}

#[tokio::test]
async fn joining_uses_up_and_expiry() {
    let w = world().await;
    let mut events = w.events();
    let once = w.invite(&json!({"max_uses": 1, "unique": true})).await;
    let bob = w.ts.user("bob").await;
    let (s, joined) =
        w.ts.post_as(&format!("/invites/{once}"), bob.auth(), &json!({}))
            .await;
    assert_eq!(s, 200, "{joined}");
    assert_eq!(joined["guild"]["id"], w.guild.as_str());
    let e = expect_event(&mut events, "INVITE_DELETE").await;
    assert_eq!(
        e.data["code"],
        once.as_str(),
        "the last use deletes the invite"
    );
    let e = expect_event(&mut events, "GUILD_MEMBER_ADD").await;
    assert_eq!(e.data["user"]["id"], bob.id.as_str());
    assert_eq!(e.data["guild_id"], w.guild.as_str());
    let e = expect_event(&mut events, "GUILD_CREATE").await;
    assert_eq!(
        e.audience,
        beep_core::events::Audience::Users(vec![bob.id.parse().expect("id")])
    );
    let (s, _) = w.ts.get(&w.g(""), bob.auth()).await;
    assert_eq!(s, 200, "bob is in");
    let carol = w.ts.user("carol").await;
    assert_error(
        w.ts.post_as(&format!("/invites/{once}"), carol.auth(), &json!({}))
            .await,
        404,
        10006,
    );

    // Joining again through another invite changes nothing and uses nothing.
    let code = w.invite(&json!({"max_uses": 2, "unique": true})).await;
    let (s, _) =
        w.ts.post_as(&format!("/invites/{code}"), bob.auth(), &json!({}))
            .await;
    assert_eq!(s, 200);
    let (_, list) = w.ts.get(&w.g("/invites"), w.owner.auth()).await;
    let inv = list
        .as_array()
        .expect("list")
        .iter()
        .find(|i| i["code"] == code.as_str())
        .cloned()
        .expect("invite");
    assert_eq!(inv["uses"], 0);

    let short = w.invite(&json!({"max_age": 1, "unique": true})).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_error(
        w.ts.get(&format!("/invites/{short}"), carol.auth()).await,
        404,
        10006,
    );
    assert_error(
        w.ts.post_as(&format!("/invites/{short}"), carol.auth(), &json!({}))
            .await,
        404,
        10006,
    );
    assert_error(
        w.ts.post_as("/invites/nope", carol.auth(), &json!({}))
            .await,
        404,
        10006,
    );
}

#[tokio::test]
async fn invite_limits() {
    let w = world_with(|c| {
        c.guilds.max_invites_per_channel = 2;
        c.guilds.max_invites_per_guild = 3;
    })
    .await;
    for _ in 0..2 {
        w.invite(&json!({"unique": true})).await;
    }
    assert_error(
        w.ts.post_as(
            &format!("/channels/{}/invites", w.text),
            w.owner.auth(),
            &json!({"unique": true}),
        )
        .await,
        400,
        30016,
    );
    let (s, _) =
        w.ts.post_as(
            &format!("/channels/{}/invites", w.voice),
            w.owner.auth(),
            &json!({"unique": true}),
        )
        .await;
    assert_eq!(s, 200, "another channel has room");
    assert_error(
        w.ts.post_as(
            &format!("/channels/{}/invites", w.voice),
            w.owner.auth(),
            &json!({"unique": true}),
        )
        .await,
        400,
        30016,
    );
}

/// A member who joined through a temporary invite is removed when their last
/// gateway session ends, unless they were given a role meanwhile.
#[tokio::test]
async fn temporary_members_leave_when_their_session_ends() {
    use crate::gateway::client::Gw;
    let w = world().await;
    let code = w.invite(&json!({"temporary": true, "max_uses": 0})).await;
    let guest = w.ts.user("guest").await;
    let keeper = w.ts.user("keeper").await;
    for u in [&guest, &keeper] {
        let (s, v) =
            w.ts.post_as(&format!("/invites/{code}"), u.auth(), &json!({}))
                .await;
        assert_eq!(s, 200, "join: {v}");
    }
    let role = w.role("kept", 0).await;
    w.grant(&keeper, &role).await;
    let mut events = w.events();

    for u in [&guest, &keeper] {
        let mut g = Gw::connect(&w.ts).await;
        g.ready(&u.token, 1).await;
        g.close(1000).await;
    }
    let e = expect_event(&mut events, "GUILD_MEMBER_REMOVE").await;
    assert_eq!(e.data["user"]["id"], guest.id.as_str());
    let (s, _) =
        w.ts.get(&w.g(&format!("/members/{}", guest.id)), w.owner.auth())
            .await;
    assert_eq!(s, 404, "the temporary member is gone");
    let (s, _) =
        w.ts.get(&w.g(&format!("/members/{}", keeper.id)), w.owner.auth())
            .await;
    assert_eq!(s, 200, "a temporary member with a role stays");
}
