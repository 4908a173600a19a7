//! Sessions: one per device, listed and ended one by one or all at once; refresh
//! tokens rotate and a reused one ends its session.

use serde_json::{Value, json};

use crate::harness::{PASSWORD, TestServer};

/// Log in with a device name header.
async fn login_on(s: &TestServer, device: &str) -> Value {
    let r = s
        .http
        .post(s.api("/auth/login"))
        .header("x-device-name", device)
        .json(&json!({"login": "alice", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

#[tokio::test]
async fn sessions_are_listed_per_device_and_end_one_by_one() {
    let s = TestServer::start().await;
    s.register("alice").await;
    let laptop = login_on(&s, "Laptop").await;
    let phone = login_on(&s, "Phone").await;
    let r = s
        .http
        .post(s.api("/auth/login"))
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )
        .json(&json!({"login": "alice", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    let browser: Value = r.json().await.expect("json");
    let laptop_token = laptop["token"].as_str().expect("token");

    let (st, list) = s.get("/users/@me/sessions", Some(laptop_token)).await;
    assert_eq!(st, 200, "{list}");
    let list = list.as_array().expect("array").clone();
    assert_eq!(list.len(), 3);
    let devices: Vec<&str> = list
        .iter()
        .map(|x| x["device"].as_str().expect("device"))
        .collect();
    assert_eq!(
        devices,
        vec!["Firefox on Linux", "Phone", "Laptop"],
        "newest first"
    );
    for x in &list {
        assert_eq!(x["ip"], "127.0.0.1");
        assert!(x["last_seen_at"].is_string() && x["created_at"].is_string());
    }
    let current: Vec<bool> = list.iter().map(|x| x["current"] == true).collect();
    assert_eq!(current, vec![false, false, true]);

    // End the phone's session from the laptop: the phone is out at once.
    let phone_sid = phone["session_id"].as_str().expect("sid");
    let (st, _) = s
        .delete(
            &format!("/users/@me/sessions/{phone_sid}"),
            Some(laptop_token),
        )
        .await;
    assert_eq!(st, 204);
    assert_eq!(s.get("/users/@me", phone["token"].as_str()).await.0, 401);
    assert_eq!(s.get("/users/@me", Some(laptop_token)).await.0, 200);
    let (st, _) = s
        .delete(
            &format!("/users/@me/sessions/{phone_sid}"),
            Some(laptop_token),
        )
        .await;
    assert_eq!(st, 404, "already ended");
    let (st, v) = s
        .delete("/users/@me/sessions/not-a-number", Some(laptop_token))
        .await;
    assert_eq!(st, 400, "{v}");

    // Another user cannot end alice's sessions.
    let bob = s.user("bob").await;
    let browser_sid = browser["session_id"].as_str().expect("sid");
    let (st, _) = s
        .delete(&format!("/users/@me/sessions/{browser_sid}"), bob.auth())
        .await;
    assert_eq!(st, 404);
    assert_eq!(s.get("/users/@me", browser["token"].as_str()).await.0, 200);

    // Log out everywhere.
    let (st, _) = s
        .post_as("/auth/logout-all", Some(laptop_token), &json!({}))
        .await;
    assert_eq!(st, 204);
    for t in [laptop_token, browser["token"].as_str().expect("token")] {
        assert_eq!(s.get("/users/@me", Some(t)).await.0, 401);
    }
    assert_eq!(
        s.get("/users/@me", bob.auth()).await.0,
        200,
        "bob is untouched"
    );
    s.stop().await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_ends_the_session() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    assert_eq!(alice.name, "alice");
    let (st, first) = s
        .post(
            "/auth/refresh",
            &json!({"refresh_token": alice.refresh_token}),
        )
        .await;
    assert_eq!(st, 200, "{first}");
    assert_ne!(
        first["refresh_token"],
        json!(alice.refresh_token),
        "rotated"
    );
    assert_eq!(first["user_id"], alice.id);
    let new_token = first["token"].as_str().expect("token");
    assert_eq!(s.get("/users/@me", Some(new_token)).await.0, 200);

    let (st, second) = s
        .post(
            "/auth/refresh",
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(st, 200);

    // The first refresh token comes back: it was copied. The session ends.
    let (st, v) = s
        .post(
            "/auth/refresh",
            &json!({"refresh_token": first["refresh_token"]}),
        )
        .await;
    assert_eq!(
        (st, v),
        (401, json!({"code": 0, "message": "401: Unauthorized"}))
    );
    assert_eq!(s.get("/users/@me", second["token"].as_str()).await.0, 401);
    let (st, _) = s
        .post(
            "/auth/refresh",
            &json!({"refresh_token": second["refresh_token"]}),
        )
        .await;
    assert_eq!(st, 401, "the newest refresh token died with its session");

    for junk in ["", "garbage", "123.abc"] {
        let (st, _) = s
            .post("/auth/refresh", &json!({"refresh_token": junk}))
            .await;
        assert_eq!(st, 401, "{junk:?}");
    }
    s.stop().await;
}
