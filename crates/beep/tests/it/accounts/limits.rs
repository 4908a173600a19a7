//! Rate limits: registration per address, route buckets with Discord's headers,
//! and (on PostgreSQL) limits and revocations shared by two nodes.

use serde_json::json;

use crate::harness::{PASSWORD, TestServer};

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let s = TestServer::start_with(|c| c.auth.registrations_per_hour = 2).await;
    s.register("one").await;
    s.register("two").await;
    let r = s
        .send(
            reqwest::Method::POST,
            "/auth/register",
            None,
            Some(&json!({"username": "three", "email": "three@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["x-ratelimit-limit"], "2");
    assert_eq!(r.headers()["x-ratelimit-scope"], "user");
    s.stop().await;
}

#[tokio::test]
async fn route_buckets_send_discord_headers() {
    let s = TestServer::start_with(|c| c.ratelimit.per_second = 3).await;
    let alice = s.user("alice").await;
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = s
            .send(reqwest::Method::GET, "/users/@me", alice.auth(), None)
            .await;
        assert_eq!(r.status(), 200);
        let h = r.headers();
        assert_eq!(h["x-ratelimit-limit"], "3");
        assert!(h.contains_key("x-ratelimit-reset") && h.contains_key("x-ratelimit-reset-after"));
        assert!(h.contains_key("x-ratelimit-bucket"));
        remaining.push(
            h["x-ratelimit-remaining"]
                .to_str()
                .expect("ascii")
                .to_owned(),
        );
    }
    assert_eq!(remaining, vec!["2", "1", "0"]);
    let r = s
        .send(reqwest::Method::GET, "/users/@me", alice.auth(), None)
        .await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.headers()["x-ratelimit-scope"], "user");
    let v: serde_json::Value = r.json().await.expect("json");
    assert_eq!(v["global"], false);
    // Buckets are per user: bob is not affected.
    let bob = s.user("bob").await;
    assert_eq!(s.get("/users/@me", bob.auth()).await.0, 200);
    s.stop().await;
}

#[tokio::test]
async fn two_nodes_share_revocations_and_failed_login_limits() {
    if std::env::var("BEEP_TEST_BACKEND").as_deref() != Ok("postgres") {
        println!("skipped: needs BEEP_TEST_BACKEND=postgres (two nodes on one database)");
        return;
    }
    // Node A makes the schema and the key; node B shares both.
    let a = TestServer::start().await;
    let schema = a.schema.clone().expect("a PostgreSQL schema");
    let keys_dir = a._dir.path().join("keys").to_string_lossy().into_owned();
    let b = TestServer::start_with(|c| {
        c.database.schema = schema;
        c.auth.keys_dir = keys_dir;
    })
    .await;

    let alice = a.user("alice").await;
    assert_eq!(
        b.get("/users/@me", alice.auth()).await.0,
        200,
        "B accepts A's token"
    );
    let (st, _) = b.post_as("/auth/logout", alice.auth(), &json!({})).await;
    assert_eq!(st, 204);
    assert_eq!(
        a.get("/users/@me", alice.auth()).await.0,
        401,
        "revoked on B, refused on A"
    );

    let wrong = json!({"login": "alice", "password": "wrong password"});
    for i in 0..5 {
        let node = if i % 2 == 0 { &a } else { &b };
        assert_eq!(node.post("/auth/login", &wrong).await.0, 401);
    }
    assert_eq!(
        a.post("/auth/login", &wrong).await.0,
        429,
        "failures counted across nodes"
    );
    assert_eq!(b.post("/auth/login", &wrong).await.0, 429);
    b.stop().await;
    a.stop().await;
}
