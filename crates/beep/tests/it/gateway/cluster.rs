//! Two `beep` processes on one PostgreSQL schema and the local NATS: a client
//! on node B receives what is caused through node A (events addressed to a user,
//! guild events when the guild routes are served), presence crosses nodes, and
//! a revocation on node A closes a session on node B; a session moves to
//! another node without losing or repeating a dispatch when its node drains,
//! and is refused (INVALID_SESSION) when its node was killed.
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

/// The environment of a cluster node on `pg`/`schema`/`nats`.
fn node_env<'a>(
    pg: &'a str,
    schema: &'a str,
    nats: &'a str,
    prefix: &'a str,
    worker: &'a str,
    id: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("BEEP_DATABASE_URL", pg),
        ("BEEP_DATABASE_SCHEMA", schema),
        ("BEEP_DATABASE_MAX_CONNECTIONS", "4"),
        ("BEEP_NATS_URL", nats),
        ("BEEP_NATS_SUBJECT_PREFIX", prefix),
        ("BEEP_AUTH_REGISTRATIONS_PER_HOUR", "10000"),
        ("BEEP_RATELIMIT_ENABLED", "false"),
        ("BEEP_GATEWAY_DRAIN_TIMEOUT_SECS", "15"),
        ("BEEP_LOG_LEVEL", "warn"),
        ("BEEP_NODE__WORKER_ID", worker),
        ("BEEP_NODE__ID", id),
    ]
}

/// Post `content` in `channel` through `node`; the message id.
async fn post_via(node: &ChildServer, token: &str, channel: &str, content: &str) -> String {
    let (s, m) = call(
        node,
        reqwest::Method::POST,
        &format!("/channels/{channel}/messages"),
        Some(token),
        Some(json!({"content": content})),
    )
    .await;
    assert!(s == 200 || s == 201, "{s} {m}");
    m["id"].as_str().expect("id").to_owned()
}

/// Record a dispatch: MESSAGE_CREATE ids in `got`, and check numbering.
fn note(v: &Value, got: &mut Vec<String>, last_seq: &mut u64) {
    if v["op"] != 0 {
        return;
    }
    let s = v["s"].as_u64().expect("s");
    assert_eq!(
        s,
        *last_seq + 1,
        "dispatches numbered without gaps or repeats: {v}"
    );
    *last_seq = s;
    if v["t"] == "MESSAGE_CREATE" {
        got.push(v["d"]["id"].as_str().expect("id").to_owned());
    }
}

#[tokio::test]
async fn a_draining_node_hands_its_sessions_to_the_node_they_resume_on() {
    let Some(nats) = nats_url() else {
        return skip_or_fail("NATS is not reachable");
    };
    let Some(pg) = postgres_url() else {
        return skip_or_fail("BEEP_TEST_DATABASE_URL is not set (two nodes need one PostgreSQL)");
    };
    let schema = fresh_schema();
    let dir = tempfile::tempdir().expect("tempdir");
    let prefix = format!("beeptest.{schema}");
    let mut a = ChildServer::spawn(
        dir.path(),
        &node_env(&pg, &schema, &nats, &prefix, "3", "node-a"),
        Stdio::null(),
    );
    let b = ChildServer::spawn(
        dir.path(),
        &node_env(&pg, &schema, &nats, &prefix, "4", "node-b"),
        Stdio::null(),
    );
    let (_, alice_token) = user(&b, "ho_alice").await;
    let (_, bob_token) = user(&b, "ho_bob").await;
    let (s, guild) = call(
        &b,
        reqwest::Method::POST,
        "/guilds",
        Some(&alice_token),
        Some(json!({"name": "Handoff"})),
    )
    .await;
    assert!(s == 200 || s == 201, "{s} {guild}");
    let gid = guild["id"].as_str().expect("id").to_owned();
    let (_, channels) = call(
        &b,
        reqwest::Method::GET,
        &format!("/guilds/{gid}/channels"),
        Some(&alice_token),
        None,
    )
    .await;
    let general = channels
        .as_array()
        .expect("channels")
        .iter()
        .find(|c| c["name"] == "general")
        .and_then(|c| c["id"].as_str())
        .expect("general")
        .to_owned();
    let (_, inv) = call(
        &b,
        reqwest::Method::POST,
        &format!("/channels/{general}/invites"),
        Some(&alice_token),
        Some(json!({})),
    )
    .await;
    let code = inv["code"].as_str().expect("code").to_owned();
    let (s, _) = call(
        &b,
        reqwest::Method::POST,
        &format!("/invites/{code}"),
        Some(&bob_token),
        None,
    )
    .await;
    assert!(s == 200 || s == 201);

    // Alice's client on node A.
    let mut ga = gateway_of(&a).await;
    ga.ready(&alice_token, ALL_INTENTS).await;
    let session_id = ga.session_id.clone().expect("session");
    let mut last_seq = ga.seq.expect("READY numbered");
    let mut got: Vec<String> = Vec::new();
    let gc = ga.expect("GUILD_CREATE").await;
    assert_eq!(gc["id"], gid.as_str());
    last_seq = ga.seq.expect("seq").max(last_seq);

    // Bob posts through node B all along: before, around and after the drain.
    let mut posted = Vec::new();
    for n in 0..5 {
        posted.push(post_via(&b, &bob_token, &general, &format!("before {n}")).await);
    }
    while got.len() < 5 {
        let v = ga.next_frame().await;
        note(&v, &mut got, &mut last_seq);
    }
    let poster = {
        let b_api = b.api("");
        let (token, channel) = (bob_token.clone(), general.clone());
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut ids = Vec::new();
            for n in 0..40 {
                let r = http
                    .post(format!("{b_api}/channels/{channel}/messages"))
                    .header("authorization", &token)
                    .json(&json!({"content": format!("around {n}")}))
                    .send()
                    .await
                    .expect("post");
                assert!(r.status().is_success(), "{}", r.status());
                let m: Value = r.json().await.expect("json");
                ids.push(m["id"].as_str().expect("id").to_owned());
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            ids
        })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    // Node A drains: the client is told to reconnect (op 7).
    a.signal("TERM");
    loop {
        let v = ga.next_frame().await;
        if v["op"] == 7 {
            break;
        }
        note(&v, &mut got, &mut last_seq);
    }
    drop(ga);
    // Disconnected for a moment while messages keep coming through node B.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut gb = gateway_of(&b).await;
    gb.send(
        json!({"op": 6, "d": {"token": alice_token, "session_id": session_id, "seq": last_seq}}),
    )
    .await;
    loop {
        let v = gb.next_frame().await;
        assert_ne!(v["op"], 9, "the session was not handed over: {v}");
        note(&v, &mut got, &mut last_seq);
        if v["t"] == "RESUMED" {
            break;
        }
    }
    posted.extend(poster.await.expect("poster"));
    for n in 0..5 {
        posted.push(post_via(&b, &bob_token, &general, &format!("after {n}")).await);
    }
    while got.len() < posted.len() {
        let v = gb.next_frame().await;
        note(&v, &mut got, &mut last_seq);
    }
    assert_eq!(got, posted, "every message exactly once, in order");
    // Node A left once its session was taken over, well before its drain timeout.
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(st) = a.child.try_wait().expect("wait") {
            break st;
        }
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "node A did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "node A exits cleanly: {status}");

    // A session whose node was killed cannot be resumed: INVALID_SESSION, and
    // the client identifies again on the same connection.
    let mut c = ChildServer::spawn(
        dir.path(),
        &node_env(&pg, &schema, &nats, &prefix, "5", "node-c"),
        Stdio::null(),
    );
    let mut gc = gateway_of(&c).await;
    gc.ready(&bob_token, ALL_INTENTS).await;
    let (dead_sid, dead_seq) = (gc.session_id.clone().expect("sid"), gc.seq.expect("seq"));
    c.signal("KILL");
    let _ = c.child.wait();
    drop(gc);
    let mut gb2 = gateway_of(&b).await;
    gb2.send(json!({"op": 6, "d": {"token": bob_token, "session_id": dead_sid, "seq": dead_seq}}))
        .await;
    let v = gb2.expect_op(9).await;
    assert_eq!(v["d"], false, "{v}");
    let ready = gb2.ready(&bob_token, ALL_INTENTS).await;
    assert!(ready["session_id"].is_string());
    // The session that moved keeps working on node B.
    let id = post_via(&b, &bob_token, &general, "still here").await;
    posted.push(id);
    while got.len() < posted.len() {
        let v = gb.next_frame().await;
        note(&v, &mut got, &mut last_seq);
    }
    assert_eq!(got, posted);
    drop(b);
}
