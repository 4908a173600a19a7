//! The guild itself: `POST /guilds`, `GET/PATCH/DELETE /guilds/{id}`, `GET /users/@me/guilds`,
//! leaving, limits, and what non-members see.

use beep_core::events::Audience;
use beep_types::Permissions;
use serde_json::json;

use super::{assert_error, audit_actions, expect_event, make_guild, str_of, world, world_with};
use crate::harness::TestServer;

#[tokio::test]
async fn create_guild_has_everyone_default_channels_and_discord_shapes() {
    let ts = TestServer::start().await;
    let owner = ts.user("owner").await;
    let mut events = ts.node.as_ref().expect("node").services.bus.subscribe();
    let (s, g) = ts
        .post_as(
            "/guilds",
            owner.auth(),
            &json!({"name": "  Rustaceans ", "description": "All about Rust", "public": true}),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    let id = str_of(&g["id"]);
    assert!(id.parse::<u64>().is_ok(), "ids are decimal strings");
    assert_eq!(g["name"], "Rustaceans", "names are trimmed");
    assert_eq!(g["owner_id"], owner.id.as_str());
    assert_eq!(g["description"], "All about Rust");
    assert_eq!(g["features"], json!(["DISCOVERABLE"]));
    assert_eq!(g["afk_timeout"], 300);
    assert_eq!(g["verification_level"], 0);
    assert_eq!(g["emojis"], json!([]));
    assert_eq!(g["preferred_locale"], "en-US");
    let roles = g["roles"].as_array().expect("roles");
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0]["id"], g["id"], "@everyone shares the guild's id");
    assert_eq!(roles[0]["name"], "@everyone");
    assert_eq!(roles[0]["position"], 0);
    assert_eq!(
        roles[0]["permissions"],
        Permissions::DEFAULT_EVERYONE.bits().to_string(),
        "permissions travel as strings"
    );

    let (s, chans) = ts
        .get(&format!("/guilds/{id}/channels"), owner.auth())
        .await;
    assert_eq!(s, 200);
    let chans = chans.as_array().expect("channels").clone();
    assert_eq!(chans.len(), 2);
    let text = chans
        .iter()
        .find(|c| c["type"] == 0)
        .expect("a text channel");
    let voice = chans
        .iter()
        .find(|c| c["type"] == 2)
        .expect("a voice channel");
    assert_eq!(text["name"], "general");
    assert_eq!(text["guild_id"], g["id"]);
    assert_eq!(text["permission_overwrites"], json!([]));
    assert_eq!(text["parent_id"], json!(null));
    assert_eq!(text["topic"], json!(null));
    assert!(text["position"].is_number());
    assert_eq!(voice["bitrate"], 64000);
    assert_eq!(voice["user_limit"], 0);
    assert!(
        voice.get("topic").is_none(),
        "voice channels have no topic key"
    );
    assert_eq!(g["system_channel_id"], text["id"]);

    let e = expect_event(&mut events, "GUILD_CREATE").await;
    assert_eq!(
        e.audience,
        Audience::Users(vec![owner.id.parse().expect("id")])
    );
    assert_eq!(e.data["id"], g["id"]);
    assert_eq!(e.data["member_count"], 1);
    assert_eq!(e.data["channels"].as_array().map(Vec::len), Some(2));
    assert_eq!(e.intent, Some(1));

    let (s, full) = ts
        .get(&format!("/guilds/{id}?with_counts=true"), owner.auth())
        .await;
    assert_eq!(s, 200);
    assert_eq!(full["approximate_member_count"], 1);
    let (s, plain) = ts.get(&format!("/guilds/{id}"), owner.auth()).await;
    assert_eq!(s, 200);
    assert!(plain.get("approximate_member_count").is_none());

    let (s, mine) = ts
        .get("/users/@me/guilds?with_counts=true", owner.auth())
        .await;
    assert_eq!(s, 200);
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
    assert_eq!(mine[0]["id"], g["id"]);
    assert_eq!(mine[0]["owner"], true);
    assert_eq!(mine[0]["permissions"], Permissions::ALL.bits().to_string());
    assert_eq!(mine[0]["approximate_member_count"], 1);
    let (s, me) = ts
        .get(&format!("/users/@me/guilds/{id}/member"), owner.auth())
        .await;
    assert_eq!(s, 200);
    assert_eq!(me["user"]["id"], owner.id.as_str());
    assert_eq!(me["roles"], json!([]));
    assert!(
        me["joined_at"]
            .as_str()
            .expect("joined_at")
            .ends_with("+00:00")
    );

    let doc: serde_json::Value = ts
        .get_raw("/api/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    for path in [
        "/api/v10/guilds",
        "/api/v10/guilds/{guild_id}/channels",
        "/api/v10/invites/{code}",
        "/api/v10/guilds/{guild_id}/audit-logs",
        "/api/v10/discovery/guilds",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
}

#[tokio::test]
async fn create_guild_refuses_bad_input() {
    let ts = TestServer::start().await;
    let owner = ts.user("owner").await;
    assert_error(
        ts.post_as("/guilds", None, &json!({"name": "x y"})).await,
        401,
        0,
    );
    let (s, v) = ts
        .post_as(
            "/guilds",
            owner.auth(),
            &json!({"name": "x", "description": "d".repeat(301)}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(v["code"], 50035);
    assert!(v["errors"]["name"]["_errors"].is_array(), "{v}");
    assert!(v["errors"]["description"]["_errors"].is_array(), "{v}");
    let (s, v) = ts
        .post_as(
            "/guilds",
            owner.auth(),
            &json!({"name": "Pics", "icon": "http://example.org/x.png"}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = ts
        .post_as("/guilds", owner.auth(), &json!({"name": 5}))
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) = ts
        .post_as(
            "/guilds",
            owner.auth(),
            &json!({"name": "ok", "verification_level": 9}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    let (s, mine) = ts.get("/users/@me/guilds", owner.auth()).await;
    assert_eq!((s, mine), (200, json!([])), "nothing was created");
}

#[tokio::test]
async fn guild_icons_are_stored_and_served() {
    let ts = TestServer::start().await;
    let owner = ts.user("owner").await;
    let mut png = Vec::new();
    image::RgbaImage::new(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    use base64::Engine;
    let uri = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&png)
    );
    let (s, g) = ts
        .post_as(
            "/guilds",
            owner.auth(),
            &json!({"name": "Pics", "icon": uri}),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    let hash = str_of(&g["icon"]);
    let r = ts
        .get_raw(&format!("/icons/{}/{hash}.png?size=16", str_of(&g["id"])))
        .await;
    assert_eq!(r.status(), 200);
    let id = str_of(&g["id"]);
    let (s, g) = ts
        .patch(
            &format!("/guilds/{id}"),
            owner.auth(),
            &json!({"icon": null}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(g["icon"], json!(null));
}

#[tokio::test]
async fn guild_limits_and_creation_rate() {
    let ts = TestServer::start_with(|c| {
        c.guilds.max_owned = 2;
        c.guilds.creations_per_minute = 0;
    })
    .await;
    let a = ts.user("alice").await;
    make_guild(&ts, &a, "one").await;
    make_guild(&ts, &a, "two").await;
    assert_error(
        ts.post_as("/guilds", a.auth(), &json!({"name": "three"}))
            .await,
        400,
        30001,
    );

    let ts = TestServer::start_with(|c| c.guilds.creations_per_minute = 1).await;
    let b = ts.user("bob").await;
    make_guild(&ts, &b, "first").await;
    let r = ts
        .send(
            reqwest::Method::POST,
            "/guilds",
            b.auth(),
            Some(&json!({"name": "second"})),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    let v: serde_json::Value = r.json().await.expect("json");
    assert!(v["retry_after"].as_f64().expect("retry_after") > 0.0);

    let ts = TestServer::start_with(|c| {
        c.guilds.max_joined = 1;
    })
    .await;
    let c = ts.user("carol").await;
    let d = ts.user("dave").await;
    let (_, text, _) = make_guild(&ts, &c, "carol's").await;
    make_guild(&ts, &d, "dave's").await;
    let (s, inv) = ts
        .post_as(&format!("/channels/{text}/invites"), c.auth(), &json!({}))
        .await;
    assert_eq!(s, 200);
    let code = str_of(&inv["code"]);
    assert_error(
        ts.post_as(&format!("/invites/{code}"), d.auth(), &json!({}))
            .await,
        400,
        30001,
    );
}

#[tokio::test]
async fn non_members_see_nothing_and_bad_ids_are_refused() {
    let w = world().await;
    let eve = w.ts.user("eve").await;
    let e = eve.auth();
    for path in [
        "",
        "/channels",
        "/roles",
        "/members",
        "/bans",
        "/invites",
        "/audit-logs",
        "/members/search?query=o",
    ] {
        assert_error(w.ts.get(&w.g(path), e).await, 404, 10004);
    }
    assert_error(
        w.ts.patch(&w.g(""), e, &json!({"name": "mine"})).await,
        404,
        10004,
    );
    assert_error(w.ts.delete(&w.g(""), e).await, 404, 10004);
    assert_error(
        w.ts.get(&format!("/channels/{}", w.text), e).await,
        404,
        10003,
    );
    assert_error(
        w.ts.post_as(&format!("/channels/{}/invites", w.text), e, &json!({}))
            .await,
        404,
        10003,
    );
    // A guild that does not exist looks the same as one you are not in.
    assert_error(w.ts.get("/guilds/12345", e).await, 404, 10004);
    let (s, v) = w.ts.get("/guilds/not-a-snowflake", e).await;
    assert_eq!((s, v["code"].clone()), (400, json!(50035)), "{v}");
    let (s, v) = w.ts.get("/guilds/99999999999999999999999", e).await;
    assert_eq!(s, 400, "overflowing ids are refused: {v}");
    let (s, v) = w.ts.get("/guilds/-1", e).await;
    assert_eq!(s, 400, "negative ids are refused: {v}");
    assert_error(w.ts.get(&w.g(""), None).await, 401, 0);
}

#[tokio::test]
async fn edit_transfer_leave_and_delete() {
    let w = world().await;
    let bob = w.member("bob").await;
    let eve = w.ts.user("eve").await;
    let mut events = w.events();

    assert_error(
        w.ts.patch(&w.g(""), bob.auth(), &json!({"name": "Bob's"}))
            .await,
        403,
        50013,
    );
    let r =
        w.ts.http
            .patch(w.ts.api(&w.g("")))
            .header("authorization", &w.owner.token)
            .header("x-audit-log-reason", "tidy%20up")
            .json(
                &json!({"name": "Great Hall", "description": "Come in", "afk_timeout": 60,
            "afk_channel_id": w.voice, "system_channel_id": null}),
            )
            .send()
            .await
            .expect("request");
    assert_eq!(r.status(), 200);
    let g: serde_json::Value = r.json().await.expect("json");
    assert_eq!(g["name"], "Great Hall");
    assert_eq!(g["description"], "Come in");
    assert_eq!(g["afk_timeout"], 60);
    assert_eq!(g["afk_channel_id"], w.voice.as_str());
    assert_eq!(g["system_channel_id"], json!(null));
    let e = expect_event(&mut events, "GUILD_UPDATE").await;
    assert_eq!(e.data["name"], "Great Hall");
    let e = expect_event(&mut events, "GUILD_AUDIT_LOG_ENTRY_CREATE").await;
    assert_eq!(e.data["action_type"], 1);
    assert_eq!(e.data["guild_id"], w.guild.as_str());
    let log = super::audit(&w, "").await;
    let entry = &log["audit_log_entries"][0];
    assert_eq!(entry["action_type"], 1);
    assert_eq!(
        entry["reason"], "tidy up",
        "the reason header is percent-decoded"
    );
    assert_eq!(entry["user_id"], w.owner.id.as_str());
    let keys: Vec<&str> = entry["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["key"].as_str().unwrap_or(""))
        .collect();
    assert!(
        keys.contains(&"name") && keys.contains(&"afk_timeout"),
        "{keys:?}"
    );

    let (s, v) =
        w.ts.patch(&w.g(""), w.owner.auth(), &json!({"afk_timeout": 61}))
            .await;
    assert_eq!(s, 400, "{v}");
    let (s, v) =
        w.ts.patch(&w.g(""), w.owner.auth(), &json!({"afk_channel_id": w.text}))
            .await;
    assert_eq!(
        s, 400,
        "an AFK channel must be a voice channel of the guild: {v}"
    );

    // Ownership: only to a member, only by the owner.
    let (s, v) =
        w.ts.patch(&w.g(""), w.owner.auth(), &json!({"owner_id": eve.id}))
            .await;
    assert_eq!(s, 400, "{v}");
    assert!(v["errors"]["owner_id"].is_object(), "{v}");
    let (s, g) =
        w.ts.patch(&w.g(""), w.owner.auth(), &json!({"owner_id": bob.id}))
            .await;
    assert_eq!(s, 200, "{g}");
    assert_eq!(g["owner_id"], bob.id.as_str());
    assert_error(
        w.ts.delete(&format!("/users/@me/guilds/{}", w.guild), bob.auth())
            .await,
        400,
        50055,
    );
    assert_error(w.ts.delete(&w.g(""), w.owner.auth()).await, 403, 50013);

    let (s, _) =
        w.ts.delete(&format!("/users/@me/guilds/{}", w.guild), w.owner.auth())
            .await;
    assert_eq!(s, 204);
    let e = expect_event(&mut events, "GUILD_MEMBER_REMOVE").await;
    assert_eq!(e.data["user"]["id"], w.owner.id.as_str());
    assert_error(w.ts.get(&w.g(""), w.owner.auth()).await, 404, 10004);
    let (s, mine) = w.ts.get("/users/@me/guilds", w.owner.auth()).await;
    assert_eq!((s, mine), (200, json!([])));

    let (s, _) = w.ts.delete(&w.g(""), bob.auth()).await;
    assert_eq!(s, 204);
    let e = expect_event(&mut events, "GUILD_DELETE").await;
    assert_eq!(e.data["id"], w.guild.as_str());
    assert_error(w.ts.get(&w.g(""), bob.auth()).await, 404, 10004);
    assert_error(
        w.ts.get(&format!("/channels/{}", w.text), bob.auth()).await,
        404,
        10003,
    );
    let _ = audit_actions;
}

#[tokio::test]
async fn my_guilds_page_by_id() {
    let w = world_with(|c| c.guilds.creations_per_minute = 0).await;
    let mut ids = vec![w.guild.clone()];
    for name in ["bb", "cc"] {
        ids.push(make_guild(&w.ts, &w.owner, name).await.0);
    }
    let list = |q: &'static str| {
        let w = &w;
        async move {
            let (s, v) =
                w.ts.get(&format!("/users/@me/guilds{q}"), w.owner.auth())
                    .await;
            assert_eq!(s, 200, "{v}");
            v.as_array()
                .expect("list")
                .iter()
                .map(|g| str_of(&g["id"]))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("").await, ids);
    assert_eq!(list("?limit=1").await, ids[..1].to_vec());
    let after = format!("?after={}", ids[0]);
    let (s, v) =
        w.ts.get(&format!("/users/@me/guilds{after}"), w.owner.auth())
            .await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    let (s, v) = w.ts.get("/users/@me/guilds?limit=0", w.owner.auth()).await;
    assert_eq!(s, 400, "{v}");
}
