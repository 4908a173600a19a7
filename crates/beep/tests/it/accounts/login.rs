//! Login, access tokens and the `Authenticated` extractor: every way a token can
//! be wrong is a 401 in Discord's shape.

use serde_json::{Value, json};

use super::forge;
use crate::harness::{PASSWORD, TestServer};

const UNAUTHORIZED: fn() -> Value = || json!({"code": 0, "message": "401: Unauthorized"});

#[tokio::test]
async fn login_by_username_or_email_gives_tokens_that_work() {
    let s = TestServer::start().await;
    let u = s.register("alice").await;
    let id = u["id"].as_str().expect("id");

    for login in ["alice", "ALICE", "alice@example.org", "Alice@Example.org"] {
        let v = s.login(login, PASSWORD).await;
        assert_eq!(v["user_id"], id, "{login}");
        assert!(
            v["token"]
                .as_str()
                .is_some_and(|t| t.split('.').count() == 3)
        );
        assert!(v["refresh_token"].as_str().is_some_and(|t| t.len() > 40));
        assert_eq!(v["expires_in"], 900);
    }

    let v = s.login("alice", PASSWORD).await;
    let token = v["token"].as_str().expect("token");
    let header = forge::header_of(token);
    assert_eq!(header["alg"], "EdDSA");
    assert!(header["kid"].is_string(), "{header}");
    let claims = forge::claims_of(token);
    assert_eq!(claims["sub"], id);
    for c in ["sid", "exp", "iat", "jti"] {
        assert!(!claims[c].is_null(), "claim {c} in {claims}");
    }
    let ttl = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
    assert_eq!(ttl, 900, "15 minutes by default");

    // Bare, Bearer and bearer all work.
    for auth in [
        token.to_owned(),
        format!("Bearer {token}"),
        format!("bearer {token}"),
    ] {
        let (st, me) = s.get("/users/@me", Some(&auth)).await;
        assert_eq!(st, 200, "{auth}: {me}");
        assert_eq!(me["id"], id);
        assert_eq!(me["email"], "alice@example.org");
    }
    s.stop().await;
}

#[tokio::test]
async fn the_keys_are_published_and_persisted() {
    let s = TestServer::start().await;
    let r = s.get_raw("/.well-known/jwks.json").await;
    assert_eq!(r.status(), 200);
    let jwks: Value = r.json().await.expect("json");
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    let alice = s.user("alice").await;
    assert_eq!(forge::header_of(&alice.token)["kid"], key["kid"]);

    // The key file is private to its owner.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for e in std::fs::read_dir(s._dir.path().join("keys")).expect("keys dir") {
            let mode = e
                .expect("entry")
                .metadata()
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
    s.stop().await;
}

#[tokio::test]
async fn wrong_password_and_unknown_account_are_401() {
    let s = TestServer::start().await;
    s.register("bob").await;
    for (login, password) in [("bob", "not the password"), ("nobody", PASSWORD)] {
        let (st, v) = s
            .post(
                "/auth/login",
                &json!({"login": login, "password": password}),
            )
            .await;
        assert_eq!(st, 401, "{login}: {v}");
        assert_eq!(v["code"], 50035);
        assert_eq!(v["errors"]["login"]["_errors"][0]["code"], "INVALID_LOGIN");
        assert_eq!(
            v["errors"]["password"]["_errors"][0]["code"],
            "INVALID_LOGIN"
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn missing_or_malformed_credentials_are_401() {
    let s = TestServer::start().await;
    let (st, v) = s.get("/users/@me", None).await;
    assert_eq!((st, v), (401, UNAUTHORIZED()));
    for bad in [
        "",
        "Bearer",
        "Basic abc",
        "Bearer not.a.jwt",
        "garbage",
        "Bot nope",
    ] {
        let (st, v) = s.get("/users/@me", Some(bad)).await;
        assert_eq!((st, v), (401, UNAUTHORIZED()), "{bad:?}");
    }
    s.stop().await;
}

#[tokio::test]
async fn forged_tokens_are_401() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let real = forge::claims_of(&alice.token);
    let kid = forge::header_of(&alice.token)["kid"]
        .as_str()
        .expect("kid")
        .to_owned();

    // alg: none, with claims that are otherwise perfect.
    let none = forge::unsigned(&real);
    let (st, v) = s.get("/users/@me", Some(&none)).await;
    assert_eq!((st, v), (401, UNAUTHORIZED()), "alg none");

    // Signed by another key, under the server's key id and under its own.
    let other = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    for k in [kid.as_str(), "someone-elses-key"] {
        let t = forge::signed_with(&other, k, &real);
        let (st, v) = s.get("/users/@me", Some(&t)).await;
        assert_eq!((st, v), (401, UNAUTHORIZED()), "other key, kid {k}");
    }

    // Signed by the server's own key but expired.
    let pem = forge::server_key(s._dir.path());
    let mut expired = real.clone();
    let now = chrono::Utc::now().timestamp();
    expired["iat"] = json!(now - 1000);
    expired["exp"] = json!(now - 10);
    let t = forge::signed_with_pem(&pem, &kid, &expired);
    let (st, v) = s.get("/users/@me", Some(&t)).await;
    assert_eq!((st, v), (401, UNAUTHORIZED()), "expired");

    // The same key and claims, still valid: the forging itself is right.
    let mut fresh = real.clone();
    fresh["exp"] = json!(now + 60);
    let t = forge::signed_with_pem(&pem, &kid, &fresh);
    let (st, _) = s.get("/users/@me", Some(&t)).await;
    assert_eq!(st, 200, "a well-made token passes");

    // A token for a session that does not exist, or of another user's session.
    let mut no_session = fresh.clone();
    no_session["sid"] = json!("1234");
    let t = forge::signed_with_pem(&pem, &kid, &no_session);
    assert_eq!(
        s.get("/users/@me", Some(&t)).await.0,
        401,
        "unknown session"
    );
    let bob = s.user("bob").await;
    let mut swapped = fresh.clone();
    swapped["sub"] = json!(bob.id);
    let t = forge::signed_with_pem(&pem, &kid, &swapped);
    assert_eq!(
        s.get("/users/@me", Some(&t)).await.0,
        401,
        "session of another user"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_revoked_session_stops_at_once() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    assert_eq!(s.get("/users/@me", alice.auth()).await.0, 200);
    let mut events = s.node.as_ref().expect("running").services.bus.subscribe();
    let (st, _) = s.post_as("/auth/logout", alice.auth(), &json!({})).await;
    assert_eq!(st, 204);
    let (st, v) = s.get("/users/@me", alice.auth()).await;
    assert_eq!((st, v), (401, UNAUTHORIZED()));
    // Gateways hear of it, to close the session's connections.
    let sid = forge::claims_of(&alice.token)["sid"].clone();
    let e = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let e = events.recv().await.expect("bus open");
            if e.name == "SESSION_REVOKED" {
                return e;
            }
        }
    })
    .await
    .expect("SESSION_REVOKED published");
    assert_eq!(e.data["session_id"], sid);
    assert_eq!(e.data["user_id"], json!(alice.id));
    s.stop().await;
}

#[tokio::test]
async fn bot_tokens_authenticate_as_the_bot() {
    let s = TestServer::start().await;
    let node = s.node.as_ref().expect("running");
    let (bot, token) = node
        .services
        .accounts
        .create_bot("helper")
        .await
        .expect("create bot");
    let (st, me) = s.get("/users/@me", Some(&format!("Bot {token}"))).await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["id"], bot.id.to_string());
    assert_eq!(me["bot"], true);
    // A bot token is not a bearer token, and a wrong one is refused.
    assert_eq!(
        s.get("/users/@me", Some(&format!("Bearer {token}")))
            .await
            .0,
        401
    );
    assert_eq!(
        s.get("/users/@me", Some(&format!("Bot {token}x"))).await.0,
        401
    );
    // Bots do not log in with a password.
    let (st, _) = s
        .post(
            "/auth/login",
            &json!({"login": "helper", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 401);
    s.stop().await;
}

#[tokio::test]
async fn the_sixth_failed_login_is_429_with_discord_headers() {
    let s = TestServer::start().await;
    s.register("carol").await;
    let wrong = json!({"login": "carol", "password": "wrong password"});
    for i in 1..=5 {
        let (st, _) = s.post("/auth/login", &wrong).await;
        assert_eq!(st, 401, "failure {i} is still a plain refusal");
    }
    // The sixth is refused before the password is even looked at: right or wrong.
    for body in [
        wrong.clone(),
        json!({"login": "carol", "password": PASSWORD}),
    ] {
        let r = s
            .send(reqwest::Method::POST, "/auth/login", None, Some(&body))
            .await;
        assert_eq!(r.status(), 429);
        let h = r.headers().clone();
        for name in [
            "retry-after",
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
            "x-ratelimit-reset-after",
            "x-ratelimit-bucket",
            "x-ratelimit-scope",
            "x-ratelimit-global",
        ] {
            assert!(h.contains_key(name), "header {name} missing: {h:?}");
        }
        assert_eq!(h["x-ratelimit-limit"], "5");
        assert_eq!(h["x-ratelimit-remaining"], "0");
        let retry: u64 = h["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=900).contains(&retry), "retry after {retry}s");
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["message"], "You are being rate limited.");
        assert_eq!(v["global"], false);
        assert!(v["retry_after"].as_f64().is_some_and(|r| r > 0.0), "{v}");
    }
    s.stop().await;
}

#[tokio::test]
async fn forward_auth_answers_with_the_user_claim() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let r = s
        .send(reqwest::Method::GET, "/auth/verify", alice.auth(), None)
        .await;
    assert_eq!(r.status(), 200);
    let claim: Value =
        serde_json::from_str(r.headers()["x-user-claim"].to_str().expect("ascii header"))
            .expect("JSON claim");
    assert_eq!(claim["id"], alice.id);
    assert_eq!(claim["username"], "alice");
    assert!(claim["session_id"].is_string());
    let r = s
        .send(reqwest::Method::GET, "/auth/verify", None, None)
        .await;
    assert_eq!(r.status(), 401);
    assert!(!r.headers().contains_key("x-user-claim"));
    s.stop().await;
}

#[tokio::test]
async fn the_account_routes_are_in_the_openapi_document() {
    let s = TestServer::start().await;
    let doc: Value = s
        .get_raw("/api/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    for path in [
        "/api/v10/auth/register",
        "/api/v10/auth/login",
        "/api/v10/auth/mfa/totp",
        "/api/v10/auth/refresh",
        "/api/v10/auth/logout",
        "/api/v10/auth/logout-all",
        "/api/v10/auth/verify",
        "/api/v10/auth/verify-email",
        "/api/v10/auth/password/reset",
        "/.well-known/jwks.json",
        "/api/v10/users/@me",
        "/api/v10/users/{user_id}",
        "/api/v10/users/@me/sessions",
        "/api/v10/users/@me/sessions/{session_id}",
        "/api/v10/users/@me/mfa/totp/enable",
        "/api/v10/users/@me/mfa/codes",
        "/api/v10/users/@me/email",
        "/api/v10/users/@me/delete",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    s.stop().await;
}
