//! Profiles: reading and changing one's own, reading others', fields that cannot
//! be set, names that look like others, passwords, settings, deletion.

use serde_json::json;

use crate::harness::{PASSWORD, TestServer};

/// A 1×1 PNG as a data URI.
const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

#[tokio::test]
async fn profile_changes_apply_and_protected_fields_never_do() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let (st, v) = s
        .patch(
            "/users/@me",
            alice.auth(),
            &json!({
                "global_name": "Alice A.",
                "first_name": "Alice",
                "last_name": "Liddell",
                "bio": "Down the rabbit hole",
                "locale": "fr",
                "avatar": PNG,
                // None of these may be set by the user.
                "id": "1", "verified": true, "mfa_enabled": true, "flags": 1 << 20,
                "bot": true, "admin": true, "premium_type": 2, "system": true
            }),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["global_name"], "Alice A.");
    assert_eq!(v["first_name"], "Alice");
    assert_eq!(v["last_name"], "Liddell");
    assert_eq!(v["bio"], "Down the rabbit hole");
    assert_eq!(v["locale"], "fr");
    let hash = v["avatar"].as_str().expect("avatar hash").to_owned();
    assert_eq!(hash.len(), 32, "{v}");
    let r = s
        .get_raw(&format!("/avatars/{}/{hash}.png", alice.id))
        .await;
    assert_eq!(r.status(), 200, "the avatar is served");
    let (_, me) = s.get("/users/@me", alice.auth()).await;
    assert_eq!(me["id"], alice.id);
    assert_eq!(me["verified"], false);
    assert_eq!(me["mfa_enabled"], false);
    assert_eq!(me["flags"], 0);
    assert!(me.get("bot").is_none() || me["bot"] == false);
    assert_eq!(me["premium_type"], 0);

    // Clearing with null, leaving alone when absent.
    let (_, v) = s
        .patch(
            "/users/@me",
            alice.auth(),
            &json!({"global_name": null, "avatar": null}),
        )
        .await;
    assert!(v["global_name"].is_null() && v["avatar"].is_null());
    assert_eq!(v["first_name"], "Alice");

    // Every invalid field is reported, nothing is applied.
    let (st, v) = s
        .patch(
            "/users/@me",
            alice.auth(),
            &json!({"locale": "de", "bio": "x".repeat(191), "avatar": "data:image/png;base64,PHN2Zz4=", "email": "x@y.org", "first_name": "y"}),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    for f in ["locale", "bio", "avatar", "email"] {
        assert!(v["errors"][f]["_errors"].is_array(), "{f} in {v}");
    }
    assert_eq!(
        s.get("/users/@me", alice.auth()).await.1["first_name"],
        "Alice"
    );

    // Others see the public view only.
    let bob = s.user("bob").await;
    let (st, v) = s.get(&format!("/users/{}", alice.id), bob.auth()).await;
    assert_eq!(st, 200);
    assert_eq!(v["username"], "alice");
    assert!(v.get("email").is_none() && v.get("locale").is_none(), "{v}");
    s.stop().await;
}

#[tokio::test]
async fn registration_takes_an_avatar() {
    let s = TestServer::start().await;
    let (st, v) = s
        .post(
            "/auth/register",
            &json!({"username": "pic", "email": "pic@example.org", "password": PASSWORD,
                    "first_name": "Pi", "last_name": "Cture", "avatar": PNG}),
        )
        .await;
    assert_eq!(st, 201, "{v}");
    assert_eq!(
        (v["first_name"].clone(), v["last_name"].clone()),
        (json!("Pi"), json!("Cture"))
    );
    let hash = v["avatar"].as_str().expect("avatar");
    let r = s
        .get_raw(&format!(
            "/avatars/{}/{hash}.png",
            v["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(r.status(), 200);
    let (st, v) = s
        .post(
            "/auth/register",
            &json!({"username": "nopic", "email": "nopic@example.org", "password": PASSWORD,
                    "avatar": "data:image/png;base64,PHN2Zz4="}),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert!(v["errors"]["avatar"]["_errors"].is_array());
    s.stop().await;
}

#[tokio::test]
async fn user_ids_are_checked() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    for bad in ["abc", "-1", "18446744073709551616", "9223372036854775808"] {
        let (st, v) = s.get(&format!("/users/{bad}"), alice.auth()).await;
        assert_eq!(st, 400, "{bad}: {v}");
        assert_eq!(v["code"], 50035);
    }
    let (st, v) = s.get("/users/12345", alice.auth()).await;
    assert_eq!((st, v["code"].clone()), (404, json!(10013)));
    assert_eq!(s.get(&format!("/users/{}", alice.id), None).await.0, 401);
    s.stop().await;
}

#[tokio::test]
async fn usernames_are_unique_and_look_alikes_refused() {
    let s = TestServer::start().await;
    let paypal = s.user("paypal").await;
    let reg =
        |name: &str, email: &str| json!({"username": name, "email": email, "password": PASSWORD});
    // Cyrillic "а" in place of Latin "a".
    for name in ["PayPal", "pаypаl", "ｐａｙｐａｌ"] {
        let (st, v) = s.post("/auth/register", &reg(name, "x@example.org")).await;
        assert_eq!(st, 400, "{name}: {v}");
        assert_eq!(
            v["errors"]["username"]["_errors"][0]["code"],
            "USERNAME_ALREADY_TAKEN"
        );
    }
    for name in ["ab\u{200B}cd", "a\u{202E}bc", "x"] {
        let (st, v) = s.post("/auth/register", &reg(name, "y@example.org")).await;
        assert_eq!(st, 400, "{name:?}: {v}");
    }
    // A rename to a look-alike is refused; to one's own name with other case, fine.
    let bob = s.user("bob").await;
    let (st, _) = s
        .patch(
            "/users/@me",
            bob.auth(),
            &json!({"username": "pаypаl", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 400);
    let (st, v) = s
        .patch(
            "/users/@me",
            paypal.auth(),
            &json!({"username": "PayPal", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["username"], "PayPal");
    let (st, v) = s
        .patch("/users/@me", bob.auth(), &json!({"username": "robert"}))
        .await;
    assert_eq!(st, 400, "a rename needs the password: {v}");
    let (st, v) = s
        .patch(
            "/users/@me",
            bob.auth(),
            &json!({"username": "robert", "password": PASSWORD}),
        )
        .await;
    assert_eq!((st, v["username"].clone()), (200, json!("robert")));
    s.login("robert", PASSWORD).await;
    s.stop().await;
}

#[tokio::test]
async fn passwords_follow_the_rules() {
    let s = TestServer::start().await;
    let reg = |password: String| json!({"username": "carol", "email": "carol@example.org", "password": password});
    for (password, code) in [
        ("short".to_owned(), "BASE_TYPE_BAD_LENGTH"),
        ("x".repeat(129), "BASE_TYPE_BAD_LENGTH"),
        ("password1".to_owned(), "PASSWORD_TOO_COMMON"),
        ("Iloveyou".to_owned(), "PASSWORD_TOO_COMMON"),
    ] {
        let (st, v) = s.post("/auth/register", &reg(password.clone())).await;
        assert_eq!(st, 400, "{password}: {v}");
        assert_eq!(
            v["errors"]["password"]["_errors"][0]["code"], code,
            "{password}"
        );
    }
    // 128 characters of 2 bytes each: 256 bytes, accepted, never truncated.
    let long = "é".repeat(128);
    assert_eq!(s.post("/auth/register", &reg(long.clone())).await.0, 201);
    let (st, _) = s
        .post(
            "/auth/login",
            &json!({"login": "carol", "password": "é".repeat(127)}),
        )
        .await;
    assert_eq!(st, 401, "a prefix is not the password");
    s.login("carol", &long).await;
    s.stop().await;
}

#[tokio::test]
async fn password_change_ends_other_sessions() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let other = s.login("alice", PASSWORD).await;
    let (st, v) = s
        .post_as(
            "/users/@me/password",
            alice.auth(),
            &json!({"password": "wrong password", "new_password": "the new secret"}),
        )
        .await;
    assert_eq!(st, 400, "{v}");
    assert_eq!(
        v["errors"]["password"]["_errors"][0]["code"],
        "PASSWORD_DOES_NOT_MATCH"
    );
    let (st, v) = s
        .post_as(
            "/users/@me/password",
            alice.auth(),
            &json!({"password": PASSWORD, "new_password": "the new secret"}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(s.get("/users/@me", v["token"].as_str()).await.0, 200);
    assert_eq!(
        s.get("/users/@me", alice.auth()).await.0,
        200,
        "this session stays"
    );
    assert_eq!(s.get("/users/@me", other["token"].as_str()).await.0, 401);
    s.login("alice", "the new secret").await;

    // The Discord way: PATCH /users/@me with password and new_password.
    let (st, v) = s
        .patch(
            "/users/@me",
            alice.auth(),
            &json!({"password": "the new secret", "new_password": "and another one"}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert!(v["token"].is_string());
    s.login("alice", "and another one").await;
    s.stop().await;
}

#[tokio::test]
async fn settings_and_account_deletion() {
    let s = TestServer::start().await;
    let alice = s.user("alice").await;
    let (st, v) = s
        .patch(
            "/users/@me/settings",
            alice.auth(),
            &json!({"theme": "dark", "audio": {"input": "mic-1"}}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let (_, v) = s
        .patch("/users/@me/settings", alice.auth(), &json!({"theme": null}))
        .await;
    assert_eq!(v, json!({"audio": {"input": "mic-1"}}));
    assert_eq!(s.get("/users/@me/settings", alice.auth()).await.1, v);

    let (st, _) = s
        .post_as(
            "/users/@me/delete",
            alice.auth(),
            &json!({"password": "wrong password"}),
        )
        .await;
    assert_eq!(st, 400);
    let (st, _) = s
        .post_as(
            "/users/@me/delete",
            alice.auth(),
            &json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 204);
    assert_eq!(
        s.get("/users/@me", alice.auth()).await.0,
        401,
        "sessions went with it"
    );
    let bob = s.user("bob").await;
    assert_eq!(
        s.get(&format!("/users/{}", alice.id), bob.auth()).await.0,
        404
    );
    let (st, _) = s
        .post(
            "/auth/login",
            &json!({"login": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(st, 401);
    // The name and address are free again.
    s.register("alice").await;
    s.stop().await;
}
