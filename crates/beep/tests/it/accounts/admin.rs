//! `beep admin` on the database a node uses, and argon2 rehashing when the
//! parameters change between starts.

use std::process::Command;

use beep_types::UserId;
use serde_json::json;

use crate::harness::{PASSWORD, TestServer, test_config};

/// Run `beep --data-dir DIR admin ARGS...` against the node's database; returns stdout.
fn admin(dir: &std::path::Path, schema: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beep"));
    cmd.arg("--data-dir").arg(dir).arg("admin").args(args);
    cmd.env_remove("BEEP_DATABASE_URL");
    if let Some(schema) = schema {
        let url = std::env::var("BEEP_TEST_DATABASE_URL").expect("PostgreSQL URL");
        cmd.env("BEEP_DATABASE_URL", url)
            .env("BEEP_DATABASE_SCHEMA", schema);
    }
    let out = cmd.output().expect("run beep admin");
    assert!(
        out.status.success(),
        "beep admin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn admin_creates_users_and_bots_and_resets_passwords() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = {
        let c = test_config(dir.path());
        (!c.database.schema.is_empty()).then_some(c.database.schema)
    };
    let out = admin(
        dir.path(),
        schema.as_deref(),
        &[
            "create-user",
            "--username",
            "zoe",
            "--email",
            "zoe@example.org",
            "--password",
            PASSWORD,
            "--verified",
        ],
    );
    assert!(out.contains("created user zoe"), "{out}");
    let out = admin(
        dir.path(),
        schema.as_deref(),
        &["create-bot", "--username", "zed"],
    );
    let token = out
        .lines()
        .find_map(|l| l.strip_prefix("token (shown once): "))
        .expect("token line")
        .to_owned();

    let data_dir = dir.path().to_path_buf();
    let sch = schema.clone();
    let s = TestServer::start_with(move |c| {
        c.data_dir = data_dir;
        if let Some(sch) = sch {
            c.database.schema = sch;
        }
    })
    .await;
    let v = s.login("zoe", PASSWORD).await;
    let zoe_token = v["token"].as_str().expect("token").to_owned();
    let (_, me) = s.get("/users/@me", Some(&zoe_token)).await;
    assert_eq!(me["verified"], true);
    let (st, bot) = s.get("/users/@me", Some(&format!("Bot {token}"))).await;
    assert_eq!(
        (st, bot["username"].clone(), bot["bot"].clone()),
        (200, json!("zed"), json!(true))
    );

    admin(
        dir.path(),
        schema.as_deref(),
        &[
            "reset-password",
            "--login",
            "zoe@example.org",
            "--password",
            "reset by the admin",
        ],
    );
    assert_eq!(
        s.get("/users/@me", Some(&zoe_token)).await.0,
        401,
        "sessions ended"
    );
    s.login("zoe", "reset by the admin").await;
    s.stop().await;
}

#[tokio::test]
async fn passwords_are_rehashed_when_the_parameters_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = {
        let c = test_config(dir.path());
        c.database.schema
    };
    let start = |memory: u32| {
        let data_dir = dir.path().to_path_buf();
        let schema = schema.clone();
        TestServer::start_with(move |c| {
            c.data_dir = data_dir;
            if !schema.is_empty() {
                c.database.schema = schema;
            }
            c.auth.argon2_memory_kib = memory;
        })
    };
    let s = start(19_456).await;
    let u = s.register("rita").await;
    let id: UserId = u["id"].as_str().expect("id").parse().expect("snowflake");
    s.stop().await;

    let s = start(20_480).await;
    let store = s.node.as_ref().expect("running").services.store.clone();
    let before = store
        .user(id)
        .await
        .expect("read")
        .expect("user")
        .password_hash;
    assert!(
        before.as_deref().is_some_and(|h| h.contains("m=19456")),
        "{before:?}"
    );
    s.login("rita", PASSWORD).await;
    let after = store
        .user(id)
        .await
        .expect("read")
        .expect("user")
        .password_hash;
    assert!(
        after.as_deref().is_some_and(|h| h.contains("m=20480")),
        "{after:?}"
    );
    s.login("rita", PASSWORD).await;
    s.stop().await;
}
