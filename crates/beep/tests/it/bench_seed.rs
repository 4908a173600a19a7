//! `beep admin seed` (the benchmark corpus) through the command line, then its
//! messages through REST, on the configured backend.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

use crate::harness::{ChildServer, fresh_schema, postgres_url};

/// Environment pointing `beep` at this test's database: PostgreSQL with a fresh
/// schema when `BEEP_TEST_BACKEND=postgres`, SQLite in the data dir otherwise.
fn backend_env() -> Vec<(String, String)> {
    let mut env = vec![("BEEP_LOG_LEVEL".to_string(), "warn".to_string())];
    if std::env::var("BEEP_TEST_BACKEND").as_deref() == Ok("postgres")
        && let Some(url) = postgres_url()
    {
        env.push(("BEEP_DATABASE_URL".into(), url));
        env.push(("BEEP_DATABASE_SCHEMA".into(), fresh_schema()));
    }
    env
}

fn beep(dir: &Path, env: &[(String, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beep"));
    cmd.arg("--data-dir").arg(dir).args(args);
    cmd.env_remove("BEEP_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::null()).output().expect("run beep")
}

async fn call(
    http: &reqwest::Client,
    s: &ChildServer,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = match &body {
        Some(_) => http.post(s.api(path)),
        None => http.get(s.api(path)),
    };
    if let Some(t) = token {
        req = req.header("authorization", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A small corpus lands where REST reads it: every seeded message is in its
/// channel's history once, newest first, by a seeded member, and members can
/// log in with the seed's password. Bad sizes and a second seed with the same
/// account names are refused with a clear message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_then_history_over_rest() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env = backend_env();
    let seed_file = dir.path().join("corpus.json");
    let out = beep(
        dir.path(),
        &env,
        &[
            "admin",
            "seed",
            "--guilds",
            "2",
            "--members",
            "5",
            "--messages",
            "500",
            "--prefix",
            "sd",
            "--batch",
            "120",
            "--out",
            seed_file.to_str().expect("utf-8 path"),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "seed failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("500 messages"), "{stdout}");
    let seed: Value =
        serde_json::from_slice(&std::fs::read(&seed_file).expect("seed file")).expect("json");
    let users: Vec<String> = seed["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u.as_str().expect("name").to_string())
        .collect();
    assert_eq!(users.len(), 5);
    assert_eq!(seed["messages"], 500);
    let guilds = seed["guilds"].as_array().expect("guilds");
    assert_eq!(guilds.len(), 2);

    // The same account names again: refused, and nothing is half-written.
    let again = beep(
        dir.path(),
        &env,
        &[
            "admin",
            "seed",
            "--members",
            "2",
            "--messages",
            "1",
            "--prefix",
            "sd",
            "--out",
            dir.path().join("again.json").to_str().expect("path"),
        ],
    );
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // Sizes out of range.
    let bad = beep(dir.path(), &env, &["admin", "seed", "--guilds", "0"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--guilds must be"));

    let env_ref: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = ChildServer::spawn(dir.path(), &env_ref, Stdio::null());
    let http = reqwest::Client::new();
    let login = |name: String| {
        let (http, server) = (&http, &server);
        async move {
            let (s, v) = call(
                http,
                server,
                "/auth/login",
                None,
                Some(json!({"login": name, "password": "bench passphrase 42"})),
            )
            .await;
            assert_eq!(s, 200, "login {name}: {v}");
            v["token"].as_str().expect("token").to_string()
        }
    };
    // The last account is a member, not the owner.
    let token = login(users[4].clone()).await;
    let mut total = 0;
    for g in guilds {
        let channel = g["channels"][0].as_str().expect("channel");
        let mut seen: Vec<u64> = Vec::new();
        let mut path = format!("/channels/{channel}/messages?limit=100");
        loop {
            let (s, page) = call(&http, &server, &path, Some(&token), None).await;
            assert_eq!(s, 200, "{path}: {page}");
            let page = page.as_array().expect("array").clone();
            if page.is_empty() {
                break;
            }
            for m in &page {
                assert_eq!(m["channel_id"], channel);
                assert_eq!(m["type"], 0);
                let words = m["content"].as_str().expect("content").split(' ').count();
                assert!((3..=14).contains(&words), "{m}");
                let author = m["author"]["username"].as_str().expect("author");
                assert!(users.iter().any(|u| u == author), "author {author}");
                seen.push(m["id"].as_str().expect("id").parse().expect("snowflake"));
            }
            let last = page.last().expect("last")["id"].as_str().expect("id");
            path = format!("/channels/{channel}/messages?limit=100&before={last}");
        }
        assert!(
            seen.windows(2).all(|w| w[0] > w[1]),
            "history must be newest first without repeats"
        );
        total += seen.len();
    }
    assert_eq!(total, 500, "every seeded message is in a history");
    drop(server);
}
