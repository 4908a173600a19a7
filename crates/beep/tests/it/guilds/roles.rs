//! Roles: create, edit, reorder, delete; the hierarchy and the rule that
//! nobody grants what they do not hold.

use beep_types::Permissions as P;
use serde_json::{Value, json};

use super::{assert_error, audit_actions, expect_event, str_of, world, world_with};

fn positions(roles: &Value) -> Vec<(String, i64)> {
    let mut v: Vec<(String, i64)> = roles
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| {
            (
                str_of(&r["name"]),
                r["position"].as_i64().expect("position"),
            )
        })
        .collect();
    v.sort_by_key(|(_, p)| *p);
    v
}

#[tokio::test]
async fn roles_are_created_edited_reordered_and_deleted() {
    let w = world().await;
    let mut events = w.events();
    let (s, r) = w.ts.post_as(&w.g("/roles"), w.owner.auth(), &json!({
        "name": "Mods", "permissions": (P::KICK_MEMBERS | P::MANAGE_ROLES).bits().to_string(),
        "color": 0x3498db, "hoist": true, "mentionable": true
    })).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["name"], "Mods");
    assert_eq!(
        r["permissions"],
        (P::KICK_MEMBERS | P::MANAGE_ROLES).bits().to_string()
    );
    assert_eq!(r["color"], 0x3498db);
    assert_eq!(r["hoist"], true);
    assert_eq!(r["position"], 1);
    assert_eq!(r["managed"], false);
    let mods = str_of(&r["id"]);
    let e = expect_event(&mut events, "GUILD_ROLE_CREATE").await;
    assert_eq!(e.data["guild_id"], w.guild.as_str());
    assert_eq!(e.data["role"]["id"], mods.as_str());

    // Defaults: "new role" with @everyone's permissions; numbers are accepted too.
    let (s, r) =
        w.ts.post_as(&w.g("/roles"), w.owner.auth(), &json!({}))
            .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["name"], "new role");
    assert_eq!(r["permissions"], P::DEFAULT_EVERYONE.bits().to_string());
    let helpers = str_of(&r["id"]);
    let (s, r) =
        w.ts.patch(
            &w.g(&format!("/roles/{helpers}")),
            w.owner.auth(),
            &json!({"name": "Helpers", "permissions": 0}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["permissions"], "0");
    let (_, roles) = w.ts.get(&w.g("/roles"), w.owner.auth()).await;
    assert_eq!(
        positions(&roles),
        vec![
            ("@everyone".into(), 0),
            ("Helpers".into(), 1),
            ("Mods".into(), 2)
        ]
    );
    let (s, one) =
        w.ts.get(&w.g(&format!("/roles/{mods}")), w.owner.auth())
            .await;
    assert_eq!((s, one["name"].clone()), (200, json!("Mods")));

    // Reorder: Helpers above Mods.
    let (s, roles) =
        w.ts.patch(
            &w.g("/roles"),
            w.owner.auth(),
            &json!([{"id": helpers, "position": 2}]),
        )
        .await;
    assert_eq!(s, 200, "{roles}");
    assert_eq!(
        positions(&roles),
        vec![
            ("@everyone".into(), 0),
            ("Mods".into(), 1),
            ("Helpers".into(), 2)
        ]
    );
    let e = expect_event(&mut events, "GUILD_ROLE_UPDATE").await;
    assert_eq!(e.data["guild_id"], w.guild.as_str());
    let (s, v) =
        w.ts.patch(
            &w.g("/roles"),
            w.owner.auth(),
            &json!([{"id": w.guild, "position": 3}]),
        )
        .await;
    assert_eq!(s, 400, "@everyone stays at the bottom: {v}");

    // @everyone: permissions may change, the name may not, and it cannot go.
    let (s, r) =
        w.ts.patch(
            &w.g(&format!("/roles/{}", w.guild)),
            w.owner.auth(),
            &json!({"permissions": P::VIEW_CHANNEL.bits().to_string()}),
        )
        .await;
    assert_eq!(
        (s, r["permissions"].clone()),
        (200, json!(P::VIEW_CHANNEL.bits().to_string()))
    );
    let (s, v) =
        w.ts.patch(
            &w.g(&format!("/roles/{}", w.guild)),
            w.owner.auth(),
            &json!({"name": "everybody"}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_error(
        w.ts.delete(&w.g(&format!("/roles/{}", w.guild)), w.owner.auth())
            .await,
        400,
        50028,
    );

    let (s, _) =
        w.ts.delete(&w.g(&format!("/roles/{helpers}")), w.owner.auth())
            .await;
    assert_eq!(s, 204);
    let e = expect_event(&mut events, "GUILD_ROLE_DELETE").await;
    assert_eq!(e.data["role_id"], helpers.as_str());
    assert_error(
        w.ts.delete(&w.g(&format!("/roles/{helpers}")), w.owner.auth())
            .await,
        404,
        10011,
    );
    assert_error(
        w.ts.get(&w.g(&format!("/roles/{helpers}")), w.owner.auth())
            .await,
        404,
        10011,
    );
    let actions = audit_actions(&w).await;
    for a in [30, 31, 32] {
        assert!(actions.contains(&a), "role action {a} logged: {actions:?}");
    }
}

#[tokio::test]
async fn the_hierarchy_holds() {
    let w = world().await;
    let bob = w.member("bob").await;
    let carol = w.member("carol").await;
    // From the top: Admins, Mods (bob), Helpers (carol).
    // New roles go in at the bottom, so the top one is made first.
    let admins = w.role("Admins", P::ADMINISTRATOR.bits()).await;
    let mods = w
        .role(
            "Mods",
            (P::MANAGE_ROLES | P::KICK_MEMBERS | P::VIEW_CHANNEL).bits(),
        )
        .await;
    let helpers = w.role("Helpers", 0).await;
    let (_, roles) = w.ts.get(&w.g("/roles"), w.owner.auth()).await;
    assert_eq!(
        positions(&roles)
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        vec!["@everyone", "Helpers", "Mods", "Admins"]
    );
    w.grant(&bob, &mods).await;
    w.grant(&carol, &helpers).await;

    // Without MANAGE_ROLES nothing.
    assert_error(
        w.ts.post_as(&w.g("/roles"), carol.auth(), &json!({"name": "mine"}))
            .await,
        403,
        50013,
    );
    assert_error(
        w.ts.put(
            &w.g(&format!("/members/{}/roles/{helpers}", carol.id)),
            carol.auth(),
            &json!({}),
        )
        .await,
        403,
        50013,
    );

    // Bob manages what is below Mods only.
    let (s, r) =
        w.ts.post_as(
            &w.g("/roles"),
            bob.auth(),
            &json!({"name": "Bob's", "permissions": P::KICK_MEMBERS.bits().to_string()}),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let (s, _) =
        w.ts.patch(
            &w.g(&format!("/roles/{helpers}")),
            bob.auth(),
            &json!({"color": 5}),
        )
        .await;
    assert_eq!(s, 200);
    assert_error(
        w.ts.patch(
            &w.g(&format!("/roles/{mods}")),
            bob.auth(),
            &json!({"color": 5}),
        )
        .await,
        403,
        50013,
    );
    assert_error(
        w.ts.patch(
            &w.g(&format!("/roles/{admins}")),
            bob.auth(),
            &json!({"color": 5}),
        )
        .await,
        403,
        50013,
    );
    assert_error(
        w.ts.delete(&w.g(&format!("/roles/{mods}")), bob.auth())
            .await,
        403,
        50013,
    );
    assert_error(
        w.ts.put(
            &w.g(&format!("/members/{}/roles/{admins}", carol.id)),
            bob.auth(),
            &json!({}),
        )
        .await,
        403,
        50013,
    );
    assert_error(
        w.ts.put(
            &w.g(&format!("/members/{}/roles/{mods}", carol.id)),
            bob.auth(),
            &json!({}),
        )
        .await,
        403,
        50013,
    );
    let (s, _) =
        w.ts.put(
            &w.g(&format!("/members/{}/roles/{helpers}", bob.id)),
            bob.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204, "a role below one's own is assignable");
    let (s, v) =
        w.ts.patch(
            &w.g(&format!("/members/{}", carol.id)),
            bob.auth(),
            &json!({"roles": [admins]}),
        )
        .await;
    assert_eq!(s, 403, "{v}");
    // Nor does Bob grant what he lacks, in a new role or an old one.
    assert_error(
        w.ts.post_as(
            &w.g("/roles"),
            bob.auth(),
            &json!({"name": "x", "permissions": P::ADMINISTRATOR.bits().to_string()}),
        )
        .await,
        403,
        50013,
    );
    assert_error(
        w.ts.patch(
            &w.g(&format!("/roles/{helpers}")),
            bob.auth(),
            &json!({"permissions": P::BAN_MEMBERS.bits().to_string()}),
        )
        .await,
        403,
        50013,
    );
    // Nor move a role to or above his own.
    assert_error(
        w.ts.patch(
            &w.g("/roles"),
            bob.auth(),
            &json!([{"id": helpers, "position": 4}]),
        )
        .await,
        403,
        50013,
    );
    assert_error(
        w.ts.patch(
            &w.g("/roles"),
            bob.auth(),
            &json!([{"id": mods, "position": 1}]),
        )
        .await,
        403,
        50013,
    );
    // Ids of another guild never take effect.
    let other = super::make_guild(&w.ts, &w.owner, "Other").await;
    let (s, foreign) =
        w.ts.post_as(
            &format!("/guilds/{}/roles", other.0),
            w.owner.auth(),
            &json!({"name": "foreign"}),
        )
        .await;
    assert_eq!(s, 200);
    let fid = str_of(&foreign["id"]);
    assert_error(
        w.ts.put(
            &w.g(&format!("/members/{}/roles/{fid}", carol.id)),
            w.owner.auth(),
            &json!({}),
        )
        .await,
        404,
        10011,
    );
    assert_error(
        w.ts.patch(
            &w.g(&format!("/roles/{fid}")),
            w.owner.auth(),
            &json!({"name": "stolen"}),
        )
        .await,
        404,
        10011,
    );
    assert_error(
        w.ts.delete(&w.g(&format!("/roles/{fid}")), w.owner.auth())
            .await,
        404,
        10011,
    );
    assert_error(
        w.ts.patch(
            &w.g(&format!("/members/{}", carol.id)),
            w.owner.auth(),
            &json!({"roles": [fid]}),
        )
        .await,
        404,
        10011,
    );
    assert_error(
        w.ts.patch(
            &w.g("/roles"),
            w.owner.auth(),
            &json!([{"id": fid, "position": 1}]),
        )
        .await,
        404,
        10011,
    );
    // The owner is above it all.
    let (s, _) =
        w.ts.patch(
            &w.g(&format!("/roles/{admins}")),
            w.owner.auth(),
            &json!({"name": "Admins!"}),
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn member_roles_are_set_added_and_removed() {
    let w = world().await;
    let bob = w.member("bob").await;
    let a = w.role("a", 0).await;
    let b = w.role("b", 0).await;
    let mut events = w.events();
    let (s, m) =
        w.ts.patch(
            &w.g(&format!("/members/{}", bob.id)),
            w.owner.auth(),
            &json!({"roles": [a, b, w.guild]}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    let mut got: Vec<String> = m["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(str_of)
        .collect();
    got.sort();
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(got, want, "@everyone is never listed");
    let e = expect_event(&mut events, "GUILD_MEMBER_UPDATE").await;
    assert_eq!(e.data["guild_id"], w.guild.as_str());
    assert_eq!(e.data["user"]["id"], bob.id.as_str());
    let (s, _) =
        w.ts.delete(
            &w.g(&format!("/members/{}/roles/{a}", bob.id)),
            w.owner.auth(),
        )
        .await;
    assert_eq!(s, 204);
    let (_, m) =
        w.ts.get(&w.g(&format!("/members/{}", bob.id)), w.owner.auth())
            .await;
    assert_eq!(m["roles"], json!([b]));
    let log = super::audit(&w, "?action_type=25").await;
    let entry = &log["audit_log_entries"][0];
    assert_eq!(entry["changes"][0]["key"], "$remove");
    assert_eq!(entry["changes"][0]["new_value"][0]["id"], a.as_str());
    assert_eq!(entry["target_id"], bob.id.as_str());
    let eve = w.ts.user("eve").await;
    assert_error(
        w.ts.put(
            &w.g(&format!("/members/{}/roles/{a}", eve.id)),
            w.owner.auth(),
            &json!({}),
        )
        .await,
        404,
        10007,
    );
    assert_error(
        w.ts.put(
            &w.g(&format!("/members/{}/roles/{}", bob.id, w.guild)),
            w.owner.auth(),
            &json!({}),
        )
        .await,
        400,
        50028,
    );
}

#[tokio::test]
async fn role_limit() {
    let w = world_with(|c| c.guilds.max_roles = 1).await;
    w.role("only", 0).await;
    assert_error(
        w.ts.post_as(&w.g("/roles"), w.owner.auth(), &json!({"name": "one more"}))
            .await,
        400,
        30005,
    );
}
