//! Two-factor authentication: enabling with a code from the "app" (totp-rs here),
//! the login ticket, replayed codes, backup codes, disabling.

use serde_json::{Value, json};
use totp_rs::{Builder, Secret};

use crate::harness::{PASSWORD, TestServer, TestUser};

const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// The code of `SECRET` at `unix_time`.
fn code_at(unix_time: u64) -> String {
    let secret = Secret::try_from_base32(SECRET).expect("base32");
    Builder::new()
        .with_secret(secret)
        .build()
        .expect("totp")
        .generate(unix_time)
        .to_string()
}

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

/// Enable 2FA for `u` with the code of the previous step (so the tests can use
/// the current and next steps afterwards); returns the answer.
async fn enable(s: &TestServer, u: &TestUser) -> Value {
    let (st, v) = s
        .post_as(
            "/users/@me/mfa/totp/enable",
            u.auth(),
            &json!({"password": PASSWORD, "secret": SECRET, "code": code_at(now() - 30)}),
        )
        .await;
    assert_eq!(st, 200, "enable: {v}");
    v
}

/// The ticket of a password login of `name` with 2FA on.
async fn ticket(s: &TestServer, name: &str) -> String {
    let (st, v) = s
        .post("/auth/login", &json!({"login": name, "password": PASSWORD}))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["mfa"], true);
    assert_eq!(v["totp"], true);
    assert!(
        v.get("token").is_none(),
        "no token before the second factor: {v}"
    );
    v["ticket"].as_str().expect("ticket").to_owned()
}

#[tokio::test]
async fn totp_login_refuses_replays_and_used_backup_codes() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let other_session = s.login("alice", PASSWORD).await;

    let enabled = enable(&s, &alice).await;
    let codes: Vec<String> = enabled["backup_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c["code"].as_str().expect("code text").to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    let fresh = enabled["token"].as_str().expect("fresh token");
    assert_eq!(
        s.get("/users/@me", Some(fresh)).await.1["mfa_enabled"],
        true
    );
    assert_eq!(
        s.get("/users/@me", alice.auth()).await.0,
        200,
        "this session stays"
    );
    assert_eq!(
        s.get("/users/@me", other_session["token"].as_str()).await.0,
        401,
        "enabling 2FA ends the other sessions"
    );

    // Password alone is not enough any more.
    let t = ticket(&s, "alice").await;
    // The ticket is not an access token.
    assert_eq!(s.get("/users/@me", Some(&t)).await.0, 401);
    let code = code_at(now());
    let (st, v) = s
        .post("/auth/mfa/totp", &json!({"ticket": t, "code": code}))
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(s.get("/users/@me", v["token"].as_str()).await.0, 200);

    // The same code again, even with a new ticket: refused (its step was used).
    let t2 = ticket(&s, "alice").await;
    let (st, v) = s
        .post("/auth/mfa/totp", &json!({"ticket": t2, "code": code}))
        .await;
    assert_eq!(st, 400, "replayed TOTP code: {v}");
    assert_eq!(v["code"], 60008);
    // An older step than the last accepted one is refused too.
    let (st, _) = s
        .post(
            "/auth/mfa/totp",
            &json!({"ticket": t2, "code": code_at(now() - 30)}),
        )
        .await;
    assert_eq!(st, 400, "older step");

    // A backup code works once.
    let (st, v) = s
        .post("/auth/mfa/totp", &json!({"ticket": t2, "code": codes[0]}))
        .await;
    assert_eq!(st, 200, "backup code: {v}");
    let t3 = ticket(&s, "alice").await;
    let (st, _) = s
        .post("/auth/mfa/totp", &json!({"ticket": t3, "code": codes[0]}))
        .await;
    assert_eq!(st, 400, "reused backup code");
    let (st, _) = s
        .post(
            "/auth/mfa/totp",
            &json!({"ticket": "not-a-ticket", "code": codes[1]}),
        )
        .await;
    assert_eq!(st, 401, "bad ticket");

    // The codes list shows which are used, without their text.
    let (st, v) = s
        .post_as(
            "/users/@me/mfa/codes",
            Some(fresh),
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let listed = v["backup_codes"].as_array().expect("codes");
    assert_eq!(listed.len(), 10);
    assert_eq!(listed.iter().filter(|c| c["consumed"] == true).count(), 1);
    assert!(listed.iter().all(|c| c["code"].is_null()));
    let (st, _) = s
        .post_as(
            "/users/@me/mfa/codes",
            Some(fresh),
            &json!({"password": "wrong one!"}),
        )
        .await;
    assert_eq!(st, 400, "password required");
    let (st, v) = s
        .post_as(
            "/users/@me/mfa/codes",
            Some(fresh),
            &json!({"password": PASSWORD, "regenerate": true}),
        )
        .await;
    assert_eq!(st, 200);
    let new_codes = v["backup_codes"].as_array().expect("codes");
    assert!(
        new_codes
            .iter()
            .all(|c| c["code"].is_string() && c["consumed"] == false)
    );
    let t4 = ticket(&s, "alice").await;
    let (st, _) = s
        .post("/auth/mfa/totp", &json!({"ticket": t4, "code": codes[1]}))
        .await;
    assert_eq!(st, 400, "regenerated codes replace the old ones");
    s.stop().await;
}

#[tokio::test]
async fn enabling_checks_password_and_code_and_disabling_turns_it_off() {
    let s = TestServer::start().await;
    let bob = s.user("bob").await;
    let body = |password: &str, secret: &str, code: String| json!({"password": password, "secret": secret, "code": code});
    let (st, v) = s
        .post_as(
            "/users/@me/mfa/totp/enable",
            bob.auth(),
            &body("wrong password", SECRET, code_at(now())),
        )
        .await;
    assert_eq!(st, 400, "wrong password: {v}");
    let (st, _) = s
        .post_as(
            "/users/@me/mfa/totp/enable",
            bob.auth(),
            &body(PASSWORD, "SHORT", code_at(now())),
        )
        .await;
    assert_eq!(st, 400, "short secret");
    let (st, v) = s
        .post_as(
            "/users/@me/mfa/totp/enable",
            bob.auth(),
            &body(PASSWORD, SECRET, "000000".into()),
        )
        .await;
    assert!(st == 400 && v["code"] == 60008, "wrong code: {st} {v}");

    let enabled = enable(&s, &bob).await;
    let token = enabled["token"].as_str().expect("token").to_owned();
    let (st, _) = s
        .post_as(
            "/users/@me/mfa/totp/disable",
            Some(&token),
            &json!({"code": "000000"}),
        )
        .await;
    assert_eq!(st, 400, "wrong code");
    let (st, v) = s
        .post_as(
            "/users/@me/mfa/totp/disable",
            Some(&token),
            &json!({"code": code_at(now())}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let token = v["token"].as_str().expect("token");
    assert_eq!(
        s.get("/users/@me", Some(token)).await.1["mfa_enabled"],
        false
    );
    let v = s.login("bob", PASSWORD).await;
    assert!(v["token"].is_string(), "plain login again: {v}");
    s.stop().await;
}
