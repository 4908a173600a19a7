//! Bot applications: create with a bot user and token, `@me`, token reset, and
//! adding the bot to a guild with Discord's authorize call.

use serde_json::{Value, json};

use super::{code, room};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_gets_a_bot_that_joins_guilds_and_talks() {
    let r = room().await;
    let (s, app) =
        r.ts.post_as(
            "/applications",
            r.alice.auth(),
            &json!({"name": "Beeper", "description": "says beep"}),
        )
        .await;
    assert_eq!(s, 201, "{app}");
    let id = app["id"].as_str().expect("id").to_owned();
    assert_eq!(app["name"], "Beeper");
    assert_eq!(app["owner"]["id"], r.alice.id.as_str());
    assert_eq!(
        app["bot"]["id"],
        id.as_str(),
        "the bot shares the application's id"
    );
    assert_eq!(app["bot"]["bot"], true);
    assert_eq!(app["bot_public"], true);
    assert!(app["verify_key"].as_str().is_some_and(|k| k.len() == 64));
    let token = format!("Bot {}", app["token"].as_str().expect("token"));

    let (s, me) = r.ts.get("/users/@me", Some(&token)).await;
    assert_eq!((s, me["bot"].clone()), (200, json!(true)), "{me}");
    let (s, mine) = r.ts.get("/applications/@me", Some(&token)).await;
    assert_eq!((s, mine["id"].clone()), (200, json!(id)), "{mine}");
    let (s, list) = r.ts.get("/applications", r.alice.auth()).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(1)));
    let (s, v) = r.ts.get(&format!("/applications/{id}"), r.bob.auth()).await;
    assert_eq!((s, code(&v)), (404, 10002), "not bob's: {v}");

    // Not in the guild yet.
    let (s, v) =
        r.ts.post_as(
            &r.path("/messages"),
            Some(&token),
            &json!({"content": "hi"}),
        )
        .await;
    assert_eq!((s, code(&v)), (404, 10003), "{v}");
    let authorize = format!("/oauth2/authorize?client_id={id}&scope=bot&permissions=3072");
    let (s, v) =
        r.ts.post_as(
            &authorize,
            r.bob.auth(),
            &json!({"guild_id": r.guild, "authorize": true}),
        )
        .await;
    assert_eq!((s, code(&v)), (403, 50013), "bob lacks Manage Server: {v}");
    let mut events = r.events();
    let (s, v) =
        r.ts.post_as(
            &authorize,
            r.alice.auth(),
            &json!({"guild_id": r.guild, "authorize": true}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert!(v["location"].is_string());
    let added = events.next("GUILD_MEMBER_ADD").await;
    assert_eq!(added.data["user"]["id"], id.as_str());
    let (s, member) =
        r.ts.get(&format!("/guilds/{}/members/{id}", r.guild), r.alice.auth())
            .await;
    assert_eq!(s, 200, "{member}");
    let role = member["roles"][0]
        .as_str()
        .expect("a managed role")
        .to_owned();
    let (_, roles) =
        r.ts.get(&format!("/guilds/{}/roles", r.guild), r.alice.auth())
            .await;
    let managed = roles
        .as_array()
        .expect("roles")
        .iter()
        .find(|x| x["id"] == role.as_str())
        .expect("the role is listed");
    assert_eq!(managed["name"], "Beeper");
    assert_eq!(managed["permissions"], "3072");

    let (s, m) =
        r.ts.post_as(
            &r.path("/messages"),
            Some(&token),
            &json!({"content": "beep"}),
        )
        .await;
    assert_eq!(s, 200, "{m}");
    assert_eq!(m["author"]["bot"], true);
    // Authorizing again is harmless.
    let (s, _) =
        r.ts.post_as(
            &authorize,
            r.alice.auth(),
            &json!({"guild_id": r.guild, "authorize": true}),
        )
        .await;
    assert_eq!(s, 200);

    let (s, v) =
        r.ts.post_as(
            &format!("/applications/{id}/bot/reset"),
            r.alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let fresh = format!("Bot {}", v["token"].as_str().expect("token"));
    let (s, _) = r.ts.get("/users/@me", Some(&token)).await;
    assert_eq!(s, 401, "the old token stops working");
    let (s, _) = r.ts.get("/users/@me", Some(&fresh)).await;
    assert_eq!(s, 200);
    let (s, v) =
        r.ts.post_as(
            &format!("/applications/{id}/bot/reset"),
            Some(&fresh),
            &json!({}),
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (404, 10002),
        "the bot cannot reset its own token: {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applications_refuse_what_they_should() {
    let r = room().await;
    let (s, v) =
        r.ts.post_as("/applications", r.alice.auth(), &json!({"name": "x"}))
            .await;
    assert_eq!((s, code(&v)), (400, 50035), "too short: {v}");
    let (s, app) =
        r.ts.post_as(
            "/applications",
            r.alice.auth(),
            &json!({"name": "Private", "bot_public": false}),
        )
        .await;
    assert_eq!(s, 201, "{app}");
    let id = app["id"].as_str().expect("id");
    let token = format!("Bot {}", app["token"].as_str().expect("token"));
    let (s, v) =
        r.ts.post_as("/applications", Some(&token), &json!({"name": "Spawn"}))
            .await;
    assert_eq!(
        (s, code(&v)),
        (403, 50001),
        "bots make no applications: {v}"
    );
    // Two applications may share a name: their bots get distinct usernames.
    let (s, twin) =
        r.ts.post_as("/applications", r.bob.auth(), &json!({"name": "Private"}))
            .await;
    assert_eq!(s, 201, "{twin}");
    assert_ne!(twin["bot"]["username"], app["bot"]["username"]);

    // Bob gets Manage Server through a role, but the bot is private to Alice.
    let (_, role) =
        r.ts.post_as(
            &format!("/guilds/{}/roles", r.guild),
            r.alice.auth(),
            &json!({"name": "admins", "permissions": "32"}),
        )
        .await;
    let rid = role["id"].as_str().expect("role");
    let (s, _) =
        r.ts.put(
            &format!("/guilds/{}/members/{}/roles/{rid}", r.guild, r.bob.id),
            r.alice.auth(),
            &json!({}),
        )
        .await;
    assert_eq!(s, 204);
    let body = json!({"guild_id": r.guild, "authorize": true});
    let (s, v) =
        r.ts.post_as(
            &format!("/oauth2/authorize?client_id={id}&scope=bot"),
            r.bob.auth(),
            &body,
        )
        .await;
    assert_eq!((s, code(&v)), (403, 50013), "a private bot: {v}");
    let (s, v) =
        r.ts.post_as(
            &format!(
                "/oauth2/authorize?client_id={}&scope=bot&permissions=8",
                twin["id"].as_str().expect("id")
            ),
            r.bob.auth(),
            &body,
        )
        .await;
    assert_eq!(
        (s, code(&v)),
        (403, 50013),
        "bob cannot grant Administrator: {v}"
    );
    let (s, v) =
        r.ts.post_as(
            "/oauth2/authorize?client_id=12345&scope=bot",
            r.alice.auth(),
            &body,
        )
        .await;
    assert_eq!((s, code(&v)), (404, 10002), "{v}");
    let (s, v) =
        r.ts.post_as(
            &format!("/oauth2/authorize?client_id={id}&scope=identify"),
            r.alice.auth(),
            &body,
        )
        .await;
    assert_eq!((s, code(&v)), (400, 50035), "{v}");
    let (s, v): (u16, Value) =
        r.ts.post_as(
            &format!("/oauth2/authorize?client_id={id}&scope=bot"),
            r.alice.auth(),
            &json!({"guild_id": "999", "authorize": true}),
        )
        .await;
    assert_eq!((s, code(&v)), (404, 10004), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_create_bot_makes_an_application_for_an_owner() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = {
        let c = crate::harness::test_config(dir.path());
        (!c.database.schema.is_empty()).then_some(c.database.schema)
    };
    let run = |args: &[&str]| -> String {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_beep"));
        cmd.arg("--data-dir")
            .arg(dir.path())
            .arg("admin")
            .args(args);
        cmd.env_remove("BEEP_DATABASE_URL");
        if let Some(schema) = &schema {
            let url = std::env::var("BEEP_TEST_DATABASE_URL").expect("PostgreSQL URL");
            cmd.env("BEEP_DATABASE_URL", url)
                .env("BEEP_DATABASE_SCHEMA", schema);
        }
        let out = cmd.output().expect("beep admin");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&[
        "create-user",
        "--username",
        "olive",
        "--email",
        "olive@example.org",
        "--password",
        crate::harness::PASSWORD,
    ]);
    let out = run(&["create-bot", "--owner", "olive", "--name", "Helper"]);
    let token = out
        .lines()
        .find_map(|l| l.strip_prefix("token (shown once): "))
        .unwrap_or_else(|| panic!("a token line in {out}"))
        .to_owned();
    assert!(out.contains("owned by olive"), "{out}");

    let data_dir = dir.path().to_path_buf();
    let ts = crate::harness::TestServer::start_with(move |c| {
        c.data_dir = data_dir;
        if let Some(sch) = schema {
            c.database.schema = sch;
        }
    })
    .await;
    let (s, app) = ts
        .get("/applications/@me", Some(&format!("Bot {token}")))
        .await;
    assert_eq!(s, 200, "{app}");
    assert_eq!(app["name"], "Helper");
    assert_eq!(app["owner"]["username"], "olive");
}
