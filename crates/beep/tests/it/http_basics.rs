//! The HTTP front door: health, errors in Discord's shape, limits on bad input.

use serde_json::{Value, json};

use crate::harness::TestServer;

#[tokio::test]
async fn health_ready_and_metrics() {
    let s = TestServer::start().await;
    let r = s.get_raw("/healthz").await;
    assert_eq!(r.status(), 200);
    let r = s.get_raw("/readyz").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.expect("json")["database"], "ok");
    // A request first, so the route counter exists.
    let _ = s.get_raw("/api/v10/nowhere").await;
    let text = s.get_raw("/metrics").await.text().await.expect("text");
    assert!(text.contains("beep_http_requests_total"), "{text}");
    assert!(
        text.contains("beep_http_request_duration_seconds_bucket"),
        "{text}"
    );
    s.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let s = TestServer::start().await;
    let r = s.get_raw("/api/v10/definitely/not/here").await;
    assert_eq!(r.status(), 404);
    assert!(r.headers().contains_key("x-request-id"));
    let v: Value = r.json().await.expect("json");
    assert_eq!(v, json!({"code": 0, "message": "404: Not Found"}));
    let r = s.get_raw("/api/v10/auth/register").await;
    assert_eq!(r.status(), 405);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["code"], 0);
    // v9 is accepted as an alias of v10.
    let r = s
        .http
        .post(format!("{}/api/v9/auth/register", s.base))
        .json(&json!({}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 400);
    s.stop().await;
}

#[tokio::test]
async fn register_returns_the_user_and_refuses_duplicates() {
    let s = TestServer::start().await;
    let u = s.register("Alice").await;
    assert_eq!(u["username"], "Alice");
    assert_eq!(u["discriminator"], "0");
    assert_eq!(u["email"], "Alice@example.org");
    assert_eq!(u["verified"], false);
    let id = u["id"].as_str().expect("id is a string");
    assert!(id.parse::<u64>().is_ok());

    let (st, v) = s
        .post("/auth/register", &json!({"username": "alice", "email": "other@example.org", "password": "a sturdy passphrase"}))
        .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(v["code"], 50035);
    assert_eq!(
        v["errors"]["username"]["_errors"][0]["code"],
        "USERNAME_ALREADY_TAKEN"
    );

    let (st, v) = s
        .post("/auth/register", &json!({"username": "bob", "email": "ALICE@example.org", "password": "a sturdy passphrase"}))
        .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(
        v["errors"]["email"]["_errors"][0]["code"],
        "EMAIL_ALREADY_REGISTERED"
    );
    s.stop().await;
}

#[tokio::test]
async fn register_names_every_bad_field() {
    let s = TestServer::start().await;
    let (st, v) = s
        .post(
            "/auth/register",
            &json!({"username": "x", "email": "nope", "password": "short"}),
        )
        .await;
    assert_eq!(st, 400);
    assert_eq!(v["code"], 50035);
    for f in ["username", "email", "password"] {
        assert!(v["errors"][f]["_errors"].is_array(), "{f} missing in {v}");
    }
    let (st, v) = s
        .post("/auth/register", &json!({"username": "carol"}))
        .await;
    assert_eq!(st, 400);
    assert_eq!(
        v["errors"]["email"]["_errors"][0]["code"], "BASE_TYPE_REQUIRED",
        "{v}"
    );
    let (st, v) = s
        .post(
            "/auth/register",
            &json!({"username": 5, "email": "a@b.org", "password": "xxxxxxxxxx"}),
        )
        .await;
    assert_eq!(st, 400);
    assert!(v["errors"]["username"].is_object(), "{v}");
    s.stop().await;
}

#[tokio::test]
async fn hostile_bodies_get_4xx_and_the_server_lives() {
    let s = TestServer::start().await;
    let url = s.api("/auth/register");
    let send = |body: Vec<u8>| {
        s.http
            .post(&url)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    // 100,000-deep nesting.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = send(deep.into_bytes()).await.expect("deep");
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.expect("json")["code"], 50109);

    // Larger than the body limit (1 MiB by default).
    let big = format!("{{\"username\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let r = send(big.into_bytes()).await.expect("big");
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.expect("json")["code"], 40005);

    // Oversized and chunked (no Content-Length): the limit applies while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..40).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let r = s
        .http
        .post(&url)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .expect("chunked");
    assert_eq!(r.status(), 413);

    // Invalid UTF-8.
    let r = send(b"{\"username\":\"\xff\xfe\"}".to_vec())
        .await
        .expect("utf8");
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.expect("json")["code"], 50109);

    // Not JSON at all, and the wrong media type.
    let r = send(b"{not json".to_vec()).await.expect("junk");
    assert_eq!(r.status(), 400);
    let r = s
        .http
        .post(&url)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .expect("ct");
    assert_eq!(r.status(), 415);

    // Still serving.
    assert_eq!(s.get_raw("/healthz").await.status(), 200);
    s.register("survivor").await;
    s.stop().await;
}

#[tokio::test]
async fn openapi_document_lists_the_routes() {
    let s = TestServer::start().await;
    let v: Value = s
        .get_raw("/api/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    assert!(v["openapi"].as_str().expect("version").starts_with("3."));
    assert!(
        v["paths"]["/api/v10/auth/register"]["post"].is_object(),
        "{v}"
    );
    s.stop().await;
}

#[tokio::test]
async fn ids_out_of_range_are_400_not_crashes() {
    let s = TestServer::start().await;
    let me = s.user("idcheck").await;
    for bad in [
        "18446744073709551616",
        "9223372036854775808",
        "-1",
        "1e3",
        "abc",
        "99999999999999999999999999",
    ] {
        let (st, v) = s.get(&format!("/users/{bad}"), me.auth()).await;
        assert_eq!(st, 400, "{bad}: {v}");
        assert_eq!(v["code"], 50035, "{bad}: {v}");
    }
    // The largest valid snowflake parses and is simply unknown.
    let (st, v) = s.get("/users/9223372036854775807", me.auth()).await;
    assert_eq!(st, 404, "{v}");
    assert_eq!(v["code"], 10013);
    assert_eq!(s.get_raw("/healthz").await.status(), 200);
    s.stop().await;
}

#[tokio::test]
async fn json_numbers_beyond_2_pow_53_are_refused_as_ids() {
    let s = TestServer::start().await;
    let owner = s.user("numbers").await;
    let (st, g) = s
        .post_as("/guilds", owner.auth(), &json!({"name": "Numbers"}))
        .await;
    assert_eq!(st, 201, "{g}");
    let path = format!("/guilds/{}", g["id"].as_str().expect("id"));
    for bad in [
        json!(9007199254740993u64),
        json!(-5),
        json!(18446744073709551615u64),
        json!(1.5),
    ] {
        let (st, v) = s
            .patch(&path, owner.auth(), &json!({"owner_id": bad}))
            .await;
        assert_eq!(st, 400, "{bad}: {v}");
        assert_eq!(v["code"], 50035, "{bad}: {v}");
        assert!(v["errors"]["owner_id"].is_object(), "{bad}: {v}");
    }
    // The guild is unchanged and the node is serving.
    let (st, v) = s.get(&path, owner.auth()).await;
    assert_eq!(st, 200);
    assert_eq!(v["owner_id"], owner.id.as_str());
    s.stop().await;
}
