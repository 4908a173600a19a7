//! Two `beep` processes on one PostgreSQL schema and the local NATS: a client
//! on node B receives what is caused through node A (events addressed to a user,
//! guild events when the guild routes are served), presence crosses nodes, and
//! a revocation on node A closes a session on node B.
//!
//! Needs PostgreSQL (`BEEP_TEST_DATABASE_URL`) and NATS (`BEEP_TEST_NATS_URL`,
//! default `nats://127.0.0.1:4222`): skipped with a message when either is
//! missing, a failure when CI=true.

use std::net::ToSocketAddrs;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};

use super::{ALL_INTENTS, Gw};
use crate::harness::{ChildServer, PASSWORD, fresh_schema, postgres_url};

/// The NATS URL for tests, if one answers.
fn nats_url() -> Option<String> {
    let url =
        std::env::var("BEEP_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
    let hostport = url.split("://").nth(1)?.split('/').next()?.to_owned();
    let addr = hostport.to_socket_addrs().ok()?.next()?;
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    Some(url)
}

fn skip_or_fail(what: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("two-node test: {what} and CI=true");
    }
    eprintln!("SKIP gateway::cluster: {what}");
}

/// JSON call against a child node.
async fn call(
    node: &ChildServer,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = reqwest::Client::new().request(method, node.api(path));
    if let Some(t) = token {
        rb = rb.header("authorization", t);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.expect("request");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Register and log in on `node`: (id, token).
async fn user(node: &ChildServer, name: &str) -> (String, String) {
    let body =
        json!({"username": name, "email": format!("{name}@example.org"), "password": PASSWORD});
    let (s, v) = call(
        node,
        reqwest::Method::POST,
        "/auth/register",
        None,
        Some(body),
    )
    .await;
    assert_eq!(s, 201, "register: {v}");
    let id = v["id"].as_str().expect("id").to_owned();
    let (s, v) = call(
        node,
        reqwest::Method::POST,
        "/auth/login",
        None,
        Some(json!({"login": name, "password": PASSWORD})),
    )
    .await;
    assert_eq!(s, 200, "login: {v}");
    (id, v["token"].as_str().expect("token").to_owned())
}

async fn gateway_of(node: &ChildServer) -> Gw {
    let (s, v) = call(node, reqwest::Method::GET, "/gateway", None, None).await;
    assert_eq!(s, 200, "{v}");
    let url = v["url"].as_str().expect("url");
    let mut g = Gw::connect_url(&format!("{url}?v=10&encoding=json&compress=zlib-stream")).await;
    assert_eq!(g.next_frame().await["op"], 10);
    g
}

#[tokio::test]
async fn two_nodes_share_events_and_presence_over_nats() {
    let Some(nats) = nats_url() else {
        return skip_or_fail("NATS is not reachable");
    };
    let Some(pg) = postgres_url() else {
        return skip_or_fail("BEEP_TEST_DATABASE_URL is not set (two nodes need one PostgreSQL)");
    };
    let schema = fresh_schema();
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = format!("beeptest.{schema}");
    let common: Vec<(&str, &str)> = vec![
        ("BEEP_DATABASE_URL", &pg),
        ("BEEP_DATABASE_SCHEMA", &schema),
        ("BEEP_DATABASE_MAX_CONNECTIONS", "4"),
        ("BEEP_NATS_URL", &nats),
        ("BEEP_NATS_SUBJECT_PREFIX", &prefix),
        ("BEEP_AUTH_REGISTRATIONS_PER_HOUR", "10000"),
        ("BEEP_RATELIMIT_AUTH_PER_MINUTE", "10000"),
        // Revocation must arrive as an event, not through the periodic re-check.
        ("BEEP_GATEWAY_REVALIDATE_SECS", "600"),
        ("BEEP_LOG_LEVEL", "warn"),
    ];
    let env = |worker: &'static str, id: &'static str| {
        let mut e = common.clone();
        e.push(("BEEP_NODE__WORKER_ID", worker));
        e.push(("BEEP_NODE__ID", id));
        e
    };
    // One data directory: both nodes sign and check tokens with the same keys.
    let a = ChildServer::spawn(dir.path(), &env("1", "node-a"), Stdio::null());
    let b = ChildServer::spawn(dir.path(), &env("2", "node-b"), Stdio::null());

    let (alice, alice_token) = user(&a, "cl_alice").await;
    let (bob, bob_token) = user(&a, "cl_bob").await;

    // Bob on node A, Alice on node B.
    let mut gb = gateway_of(&a).await;
    gb.ready(&bob_token, ALL_INTENTS).await;
    let mut ga = gateway_of(&b).await;
    ga.ready(&alice_token, ALL_INTENTS).await;

    // Presence written on node A is known on node B.
    gb.send(
        json!({"op": 3, "d": {"since": null, "activities": [], "status": "dnd", "afk": false}}),
    )
    .await;
    let path = format!("/users/{bob}/presence");
    let mut seen = Value::Null;
    for _ in 0..100 {
        let (s, v) = call(&b, reqwest::Method::GET, &path, Some(&bob_token), None).await;
        assert_eq!(s, 200, "{v}");
        if v["status"] == "dnd" {
            seen = v;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        seen["status"], "dnd",
        "node B learns Bob's presence set on node A"
    );

    // Guild events across nodes, when the guild and message routes are served.
    let (s, guild) = call(
        &a,
        reqwest::Method::POST,
        "/guilds",
        Some(&alice_token),
        Some(json!({"name": "Cluster"})),
    )
    .await;
    if s == 404 || s == 405 {
        eprintln!(
            "NOTE gateway::cluster: POST /guilds is not served yet; guild events across nodes not checked"
        );
    } else {
        assert!(s == 200 || s == 201, "{s} {guild}");
        let gid = guild["id"].as_str().expect("guild id").to_owned();
        // Alice's session (node B) hears of the guild she created through node A.
        let gc = ga.expect("GUILD_CREATE").await;
        assert_eq!(gc["id"], gid.as_str());
        assert_eq!(gc["owner_id"], alice.as_str());
        let general = gc["channels"]
            .as_array()
            .expect("channels")
            .iter()
            .find(|c| c["name"] == "general")
            .and_then(|c| c["id"].as_str())
            .expect("general")
            .to_owned();
        let (s, inv) = call(
            &a,
            reqwest::Method::POST,
            &format!("/channels/{general}/invites"),
            Some(&alice_token),
            Some(json!({})),
        )
        .await;
        assert!(s == 200 || s == 201, "{s} {inv}");
        let code = inv["code"].as_str().expect("code");
        let (s, v) = call(
            &a,
            reqwest::Method::POST,
            &format!("/invites/{code}"),
            Some(&bob_token),
            None,
        )
        .await;
        assert!(s == 200 || s == 201, "{s} {v}");
        assert_eq!(gb.expect("GUILD_CREATE").await["id"], gid.as_str());
        let added = ga.expect("GUILD_MEMBER_ADD").await;
        assert_eq!(added["user"]["id"], bob.as_str());
        // Bob's presence change on node A reaches Alice on node B as PRESENCE_UPDATE.
        gb.send(json!({"op": 3, "d": {"since": null, "activities": [], "status": "idle", "afk": false}}))
            .await;
        loop {
            let p = ga.expect("PRESENCE_UPDATE").await;
            if p["user"]["id"] == bob.as_str() && p["status"] == "idle" {
                assert_eq!(p["guild_id"], gid.as_str());
                break;
            }
        }
        let (s, sent) = call(
            &a,
            reqwest::Method::POST,
            &format!("/channels/{general}/messages"),
            Some(&bob_token),
            Some(json!({"content": "across nodes"})),
        )
        .await;
        if s == 404 || s == 405 {
            eprintln!("NOTE gateway::cluster: POST /channels/{{id}}/messages is not served yet");
        } else {
            assert!(s == 200 || s == 201, "{s} {sent}");
            let m = ga.expect("MESSAGE_CREATE").await;
            assert_eq!(m["id"], sent["id"]);
            assert_eq!(m["content"], "across nodes");
        }
    }

    // Logging out through node A closes Alice's session on node B with 4004.
    let (s, v) = call(
        &a,
        reqwest::Method::POST,
        "/auth/logout",
        Some(&alice_token),
        Some(json!({})),
    )
    .await;
    assert!(s == 200 || s == 204, "{s} {v}");
    let started = std::time::Instant::now();
    assert_eq!(ga.expect_close().await, Some(4004));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed by the event, not by the periodic check"
    );
    drop((a, b));
}
