//! Email codes through HTTP: verification required when SMTP delivers (or when
//! configured), password reset and email change, all against a real SMTP server;
//! expiry, tries and resend limits with codes planted through the store.

use beep_core::accounts::codes;
use beep_store::NewAuthCode;
use beep_types::UserId;
use chrono::{TimeDelta, Utc};
use serde_json::json;

use super::smtp::SmtpServer;
use crate::harness::{PASSWORD, TestServer};

/// Plant a known code for `user` through the store, expiring in `minutes`.
async fn plant(s: &TestServer, user: &str, purpose: &str, code: &str, minutes: i64) {
    let id: UserId = user.parse().expect("user id");
    let store = &s.node.as_ref().expect("running").services.store;
    store
        .put_auth_code(&NewAuthCode {
            user_id: id,
            purpose: purpose.into(),
            code_hash: codes::code_hash(id, purpose, code),
            target: None,
            expires_at: Utc::now() + TimeDelta::minutes(minutes),
        })
        .await
        .expect("plant code");
}

#[tokio::test]
async fn smtp_registration_needs_the_mailed_code_to_log_in() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let url = smtp.url();
    let s = TestServer::start_with(|c| c.smtp.url = url).await;
    let u = s.register("dora").await;
    assert_eq!(u["verified"], false);

    let mail = smtp.wait_for("dora@example.org", 1).await;
    assert!(mail.subject.contains("verification code"), "{mail:?}");
    let code = mail.code();

    // SMTP delivers, so verification is required to log in.
    let (st, v) = s
        .post(
            "/auth/login",
            &json!({"login": "dora", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 401, "{v}");
    assert_eq!(v["code"], 40002);

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (st, _) = s
        .post(
            "/auth/verify-email",
            &json!({"email": "dora@example.org", "code": wrong}),
        )
        .await;
    assert_eq!(st, 400, "wrong code");
    let (st, v) = s
        .post(
            "/auth/verify-email",
            &json!({"email": "DORA@example.org", "code": code}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["verified"], true);
    let (st, _) = s
        .post(
            "/auth/verify-email",
            &json!({"email": "dora@example.org", "code": code}),
        )
        .await;
    assert_eq!(st, 400, "a code works once");
    s.login("dora", PASSWORD).await;

    // Resending to a verified or unknown address is a silent 204 and sends nothing.
    for email in ["dora@example.org", "nobody@example.org"] {
        let (st, _) = s
            .post("/auth/verify-email/resend", &json!({"email": email}))
            .await;
        assert_eq!(st, 204);
    }
    assert_eq!(smtp.mails().len(), 1);
    s.stop().await;
}

#[tokio::test]
async fn smtp_password_reset_by_code_ends_every_session() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let url = smtp.url();
    let s = TestServer::start_with(|c| {
        c.smtp.url = url;
        c.auth.require_email_verification = Some(false);
    })
    .await;
    let eve = s.user("eve").await;
    let (st, _) = s
        .post(
            "/auth/password/forgot",
            &json!({"email": "eve@example.org"}),
        )
        .await;
    assert_eq!(st, 204);
    let (st, _) = s
        .post(
            "/auth/password/forgot",
            &json!({"email": "ghost@example.org"}),
        )
        .await;
    assert_eq!(st, 204, "unknown addresses look the same");
    let mail = smtp.wait_for("eve@example.org", 2).await;
    assert!(mail.subject.contains("password reset"), "{mail:?}");
    let code = mail.code();

    let body =
        |password: &str| json!({"email": "eve@example.org", "code": code, "password": password});
    let (st, v) = s.post("/auth/password/reset", &body("password1")).await;
    assert_eq!(st, 400, "common password refused: {v}");
    assert_eq!(
        v["errors"]["password"]["_errors"][0]["code"],
        "PASSWORD_TOO_COMMON"
    );
    let (st, _) = s
        .post("/auth/password/reset", &body("a brand new secret"))
        .await;
    assert_eq!(st, 204);
    let (st, _) = s
        .post("/auth/password/reset", &body("yet another secret"))
        .await;
    assert_eq!(st, 400, "the code is single-use");

    assert_eq!(
        s.get("/users/@me", eve.auth()).await.0,
        401,
        "old session ended"
    );
    let (st, _) = s
        .post(
            "/auth/login",
            &json!({"login": "eve", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 401, "old password gone");
    s.login("eve", "a brand new secret").await;
    s.stop().await;
}

#[tokio::test]
async fn smtp_email_change_is_confirmed_from_the_new_address() {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let url = smtp.url();
    let s = TestServer::start_with(|c| {
        c.smtp.url = url;
        c.auth.require_email_verification = Some(false);
    })
    .await;
    let fay = s.user("fay").await;
    s.register("gus").await;

    let (st, v) = s
        .post_as(
            "/users/@me/email",
            fay.auth(),
            &json!({"email": "fay@new.example.org", "password": "wrong password"}),
        )
        .await;
    assert_eq!(st, 400, "password required: {v}");
    let (st, v) = s
        .post_as(
            "/users/@me/email",
            fay.auth(),
            &json!({"email": "gus@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 400, "taken: {v}");
    let (st, _) = s
        .post_as(
            "/users/@me/email",
            fay.auth(),
            &json!({"email": "fay@new.example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 202);
    let mail = smtp.wait_for("fay@new.example.org", 1).await;
    let (_, me) = s.get("/users/@me", fay.auth()).await;
    assert_eq!(me["email"], "fay@example.org", "unchanged until confirmed");

    let (st, v) = s
        .post_as(
            "/users/@me/email/verify",
            fay.auth(),
            &json!({"code": mail.code()}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["email"], "fay@new.example.org");
    assert_eq!(v["verified"], true);
    s.login("fay@new.example.org", PASSWORD).await;
    let (st, _) = s
        .post(
            "/auth/login",
            &json!({"login": "fay@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 401, "the old address no longer logs in");
    s.stop().await;
}

#[tokio::test]
async fn required_verification_without_smtp_expired_codes_and_tries() {
    let s = TestServer::start_with(|c| c.auth.require_email_verification = Some(true)).await;
    let u = s.register("hal").await;
    let id = u["id"].as_str().expect("id");
    let (st, v) = s
        .post(
            "/auth/login",
            &json!({"login": "hal", "password": PASSWORD}),
        )
        .await;
    assert_eq!((st, v["code"].clone()), (401, json!(40002)), "unverified");

    let verify = |code: &str| json!({"email": "hal@example.org", "code": code});
    // An expired code is refused even when right.
    plant(&s, id, codes::VERIFY_EMAIL, "424242", -1).await;
    let (st, v) = s.post("/auth/verify-email", &verify("424242")).await;
    assert_eq!(st, 400, "expired: {v}");
    assert_eq!(v["errors"]["code"]["_errors"][0]["code"], "INVALID_CODE");

    // Five tries, then even the right code is refused.
    plant(&s, id, codes::VERIFY_EMAIL, "135790", 10).await;
    for _ in 0..5 {
        assert_eq!(s.post("/auth/verify-email", &verify("999999")).await.0, 400);
    }
    assert_eq!(
        s.post("/auth/verify-email", &verify("135790")).await.0,
        400,
        "tries used up"
    );

    // A fresh code works.
    plant(&s, id, codes::VERIFY_EMAIL, "246810", 10).await;
    assert_eq!(s.post("/auth/verify-email", &verify("246810")).await.0, 200);
    s.login("hal", PASSWORD).await;
    s.stop().await;
}

#[tokio::test]
async fn resending_codes_is_limited() {
    let s = TestServer::start_with(|c| c.auth.require_email_verification = Some(true)).await;
    s.register("ida").await; // registration mails the first code
    let resend = json!({"email": "ida@example.org"});
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(s.post("/auth/verify-email/resend", &resend).await.0);
    }
    assert_eq!(
        statuses,
        vec![204, 204, 429, 429],
        "three codes per ten minutes"
    );
    let r = s
        .send(
            reqwest::Method::POST,
            "/auth/verify-email/resend",
            None,
            Some(&resend),
        )
        .await;
    assert!(r.headers().contains_key("retry-after"));
    s.stop().await;
}
