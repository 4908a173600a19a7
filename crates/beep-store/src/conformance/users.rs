//! Conformance cases of `UserStore`.

use std::collections::BTreeSet;

use beep_types::{SessionId, UserId};
use chrono::Utc;
use serde_json::json;

use super::{assert_between, assert_conflict, assert_not_found, new_session, new_user, ok};
use crate::{DynStore, UserPatch};

/// A user comes back exactly as inserted, with defaults for the rest, by id,
/// username key and email key.
pub async fn users_insert_and_get(store: DynStore) {
    let mut alice = new_user(1, "Alice");
    alice.global_name = Some("Alice A.".into());
    alice.first_name = Some("Alice".into());
    alice.last_name = Some("Liddell".into());
    alice.avatar = Some("a1b2c3".into());
    alice.admin = true;
    alice.verified = true;
    let before = Utc::now();
    let got = ok(store.insert_user(&alice).await, "insert alice");
    let after = Utc::now();

    assert_eq!(got.id, alice.id);
    assert_eq!(got.username, "Alice");
    assert_eq!(got.username_key, "alice");
    assert_eq!(got.username_skeleton, "alice");
    assert_eq!(got.email.as_deref(), Some("Alice@example.com"));
    assert_eq!(got.email_key.as_deref(), Some("alice@example.com"));
    assert_eq!(got.password_hash.as_deref(), Some("hash-of-Alice"));
    assert_eq!(got.global_name.as_deref(), Some("Alice A."));
    assert_eq!(got.first_name.as_deref(), Some("Alice"));
    assert_eq!(got.last_name.as_deref(), Some("Liddell"));
    assert_eq!(got.avatar.as_deref(), Some("a1b2c3"));
    assert_eq!(got.locale, "en-US");
    assert!(got.admin && got.verified, "admin and verified were given");
    // Defaults of everything NewUser does not carry.
    assert_eq!(got.banner, None);
    assert_eq!(got.bio, "");
    assert_eq!(got.flags, 0);
    assert!(
        !got.bot && !got.system && !got.mfa_enabled,
        "flags default to false"
    );
    assert_eq!(got.totp_secret, None);
    assert_eq!(got.totp_last_step, 0);
    assert_eq!(
        got.settings,
        json!({}),
        "settings default to an empty object"
    );
    assert_between(got.created_at, before, after, "created_at");

    let by_id = ok(store.user(alice.id).await, "user by id");
    assert_eq!(
        by_id.as_ref(),
        Some(&got),
        "user by id equals the inserted record"
    );
    let by_key = ok(store.user_by_username_key("alice").await, "by username key");
    assert_eq!(by_key.as_ref(), Some(&got), "lookup by username key");
    let by_email = ok(
        store.user_by_email_key("alice@example.com").await,
        "by email key",
    );
    assert_eq!(by_email.as_ref(), Some(&got), "lookup by email key");

    let mut bot = new_user(2, "Helper");
    bot.email = None;
    bot.email_key = None;
    bot.password_hash = None;
    bot.bot = true;
    let got_bot = ok(store.insert_user(&bot).await, "insert bot without email");
    assert!(got_bot.bot, "bot flag stored");
    assert_eq!(got_bot.email, None);
    assert_eq!(got_bot.password_hash, None);

    assert_eq!(
        ok(store.user(UserId::from_i64(999)).await, "missing id"),
        None
    );
    assert_eq!(
        ok(store.user_by_username_key("nobody").await, "missing key"),
        None
    );
    assert_eq!(
        ok(store.user_by_username_key("Alice").await, "keys are exact"),
        None
    );
    assert_eq!(
        ok(
            store.user_by_email_key("nobody@example.com").await,
            "missing email"
        ),
        None
    );
}

/// The username key is unique: a name differing only in case conflicts, and the
/// failed insert leaves nothing behind.
pub async fn users_unique_username_case_key(store: DynStore) {
    ok(
        store.insert_user(&new_user(1, "Alice")).await,
        "insert Alice",
    );
    let mut shouting = new_user(2, "ALICE");
    shouting.email = Some("other@example.com".into());
    shouting.email_key = Some("other@example.com".into());
    assert_eq!(shouting.username_key, "alice");
    assert_conflict(
        store.insert_user(&shouting).await,
        "username",
        "insert ALICE",
    );
    assert_eq!(
        ok(store.user(UserId::from_i64(2)).await, "user 2"),
        None,
        "nothing inserted"
    );
    let found = ok(store.user_by_username_key("alice").await, "by key");
    assert_eq!(
        found.map(|u| u.username).as_deref(),
        Some("Alice"),
        "the first one stays"
    );

    let mut same_id = new_user(1, "Bob");
    same_id.email = None;
    same_id.email_key = None;
    assert_conflict(
        store.insert_user(&same_id).await,
        "id",
        "insert with a taken id",
    );
    ok(
        store.insert_user(&new_user(3, "Bob")).await,
        "a different key is fine",
    );
}

/// The email key is unique when present; any number of users may have none.
pub async fn users_unique_email(store: DynStore) {
    ok(
        store.insert_user(&new_user(1, "alice")).await,
        "insert alice",
    );
    let mut bob = new_user(2, "bob");
    bob.email = Some("ALICE@example.com".into());
    bob.email_key = Some("alice@example.com".into());
    assert_conflict(
        store.insert_user(&bob).await,
        "email",
        "insert bob with alice's email",
    );
    assert_eq!(
        ok(store.user(bob.id).await, "bob"),
        None,
        "nothing inserted"
    );

    for (id, name) in [(3, "carol"), (4, "dave"), (5, "erin")] {
        let mut u = new_user(id, name);
        u.email = None;
        u.email_key = None;
        ok(
            store.insert_user(&u).await,
            "users without email do not conflict",
        );
    }
    let found = ok(
        store.user_by_email_key("alice@example.com").await,
        "by email",
    );
    assert_eq!(found.map(|u| u.id), Some(UserId::from_i64(1)));
}

/// `None` leaves a field alone, `Some(None)` clears it, `Some(Some(v))` sets it;
/// the returned record is what a later read sees.
pub async fn users_patch_sets_and_clears_nullable(store: DynStore) {
    let mut alice = new_user(1, "alice");
    alice.global_name = Some("Alice".into());
    alice.avatar = Some("avatar-hash".into());
    alice.first_name = Some("Alice".into());
    let original = ok(store.insert_user(&alice).await, "insert");

    let settings =
        json!({"theme": "dark", "guild_positions": ["1", "2"], "n": 3, "nested": {"on": true}});
    let patch = UserPatch {
        global_name: Some(None),
        banner: Some(Some("banner-hash".into())),
        bio: Some("hello there".into()),
        locale: Some("fr".into()),
        flags: Some(1 << 6),
        admin: Some(true),
        verified: Some(true),
        mfa_enabled: Some(true),
        totp_secret: Some(Some("JBSWY3DPEHPK3PXP".into())),
        password_hash: Some(None),
        settings: Some(settings.clone()),
        ..UserPatch::default()
    };
    let updated = ok(store.update_user(alice.id, &patch).await, "patch");
    assert_eq!(updated.global_name, None, "Some(None) clears");
    assert_eq!(
        updated.banner.as_deref(),
        Some("banner-hash"),
        "Some(Some) sets"
    );
    assert_eq!(
        updated.avatar.as_deref(),
        Some("avatar-hash"),
        "None leaves alone"
    );
    assert_eq!(
        updated.first_name.as_deref(),
        Some("Alice"),
        "None leaves alone"
    );
    assert_eq!(updated.password_hash, None);
    assert_eq!(updated.bio, "hello there");
    assert_eq!(updated.locale, "fr");
    assert_eq!(updated.flags, 64);
    assert!(updated.admin && updated.verified && updated.mfa_enabled);
    assert_eq!(updated.totp_secret.as_deref(), Some("JBSWY3DPEHPK3PXP"));
    assert_eq!(updated.settings, settings, "settings JSON round-trips");
    assert_eq!(
        updated.created_at, original.created_at,
        "created_at never changes"
    );
    assert_eq!(updated.username, original.username);
    let read = ok(store.user(alice.id).await, "read back");
    assert_eq!(read.as_ref(), Some(&updated), "a read sees the patch");

    let renamed = UserPatch {
        username: Some(("Alicia".into(), "alicia".into(), "alicia".into())),
        email: Some((None, None)),
        totp_secret: Some(None),
        mfa_enabled: Some(false),
        ..UserPatch::default()
    };
    let updated = ok(store.update_user(alice.id, &renamed).await, "rename");
    assert_eq!(updated.username, "Alicia");
    assert_eq!(updated.username_key, "alicia");
    assert_eq!(updated.username_skeleton, "alicia");
    assert_eq!(
        (updated.email, updated.email_key),
        (None, None),
        "email cleared"
    );
    assert_eq!(updated.totp_secret, None);
    assert!(!updated.mfa_enabled);
    assert_eq!(
        ok(store.user_by_username_key("alice").await, "old key"),
        None
    );
    assert!(ok(store.user_by_username_key("alicia").await, "new key").is_some());
    assert_eq!(
        ok(
            store.user_by_email_key("alice@example.com").await,
            "old email"
        ),
        None
    );

    let unchanged = ok(
        store.update_user(alice.id, &UserPatch::default()).await,
        "empty patch",
    );
    assert_eq!(
        Some(unchanged),
        ok(store.user(alice.id).await, "read"),
        "empty patch is a read"
    );

    let missing = UserId::from_i64(404);
    assert_not_found(
        store.update_user(missing, &patch).await,
        "patch a missing user",
    );
    assert_not_found(
        store.update_user(missing, &UserPatch::default()).await,
        "empty patch of a missing user",
    );
}

/// A patch onto a taken username or email fails with `Conflict` and changes
/// nothing, not even its other fields.
pub async fn users_patch_conflict(store: DynStore) {
    ok(
        store.insert_user(&new_user(1, "alice")).await,
        "insert alice",
    );
    let bob = ok(store.insert_user(&new_user(2, "bob")).await, "insert bob");

    let take_name = UserPatch {
        username: Some(("ALICE".into(), "alice".into(), "alice".into())),
        global_name: Some(Some("Not Alice".into())),
        ..UserPatch::default()
    };
    assert_conflict(
        store.update_user(bob.id, &take_name).await,
        "username",
        "rename bob",
    );
    let take_email = UserPatch {
        email: Some((
            Some("alice@example.com".into()),
            Some("alice@example.com".into()),
        )),
        bio: Some("changed".into()),
        ..UserPatch::default()
    };
    assert_conflict(
        store.update_user(bob.id, &take_email).await,
        "email",
        "re-email bob",
    );
    let after = ok(store.user(bob.id).await, "read bob");
    assert_eq!(after.as_ref(), Some(&bob), "a failed patch changes nothing");

    let own_name = UserPatch {
        username: Some(("BOB".into(), "bob".into(), "bob".into())),
        ..UserPatch::default()
    };
    let recased = ok(
        store.update_user(bob.id, &own_name).await,
        "re-case own name",
    );
    assert_eq!(
        recased.username, "BOB",
        "keeping one's own key is no conflict"
    );
}

/// Users sharing a confusable skeleton are found by it, up to the limit.
pub async fn users_skeleton_lookup(store: DynStore) {
    let lookalikes = [
        (1, "paypal", "paypal"),
        (2, "PayPaI", "paypai"),
        (3, "paypa1", "paypa1"),
    ];
    for (id, name, key) in lookalikes {
        let mut u = new_user(id, name);
        u.username_key = key.into();
        u.username_skeleton = "paypal".into();
        u.email = None;
        u.email_key = None;
        ok(store.insert_user(&u).await, "insert lookalike");
    }
    let mut other = new_user(4, "other");
    other.email = None;
    other.email_key = None;
    ok(store.insert_user(&other).await, "insert other");

    let names = ok(store.usernames_with_skeleton("paypal", 10).await, "lookup");
    let names: BTreeSet<String> = names.into_iter().collect();
    let expected: BTreeSet<String> = ["paypal", "PayPaI", "paypa1"].map(String::from).into();
    assert_eq!(
        names, expected,
        "usernames as chosen, all sharing the skeleton"
    );
    let limited = ok(
        store.usernames_with_skeleton("paypal", 2).await,
        "limited lookup",
    );
    assert_eq!(limited.len(), 2, "the limit is honoured");
    assert!(ok(store.usernames_with_skeleton("paypal", 0).await, "limit 0").is_empty());
    assert!(
        ok(
            store.usernames_with_skeleton("nothing", 10).await,
            "no match"
        )
        .is_empty()
    );
}

/// Only a strictly newer TOTP step is accepted, and among concurrent attempts at
/// the same step exactly one wins.
pub async fn totp_step_is_monotonic_under_concurrency(store: DynStore) {
    let alice = ok(store.insert_user(&new_user(1, "alice")).await, "insert");

    let attempts: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.advance_totp_step(alice.id, 100).await })
        })
        .collect();
    let mut accepted = 0;
    for attempt in attempts {
        let result = attempt.await.unwrap_or_else(|e| panic!("task failed: {e}"));
        if ok(result, "advance to 100") {
            accepted += 1;
        }
    }
    assert_eq!(
        accepted, 1,
        "exactly one of 32 concurrent uses of step 100 is accepted"
    );
    assert!(
        !ok(store.advance_totp_step(alice.id, 100).await, "replay"),
        "replay refused"
    );
    assert!(
        !ok(store.advance_totp_step(alice.id, 99).await, "older"),
        "older step refused"
    );
    assert!(
        ok(store.advance_totp_step(alice.id, 101).await, "newer"),
        "newer step accepted"
    );

    let racers: Vec<_> = (102..134)
        .map(|step| {
            let store = store.clone();
            tokio::spawn(async move { store.advance_totp_step(alice.id, step).await })
        })
        .collect();
    let mut accepted = 0;
    for racer in racers {
        let result = racer.await.unwrap_or_else(|e| panic!("task failed: {e}"));
        if ok(result, "advance") {
            accepted += 1;
        }
    }
    assert!(accepted >= 1, "at least the highest step is accepted");
    let user = ok(store.user(alice.id).await, "read").unwrap_or_else(|| panic!("alice vanished"));
    assert_eq!(
        user.totp_last_step, 133,
        "the last step never goes backwards"
    );

    assert_not_found(
        store.advance_totp_step(UserId::from_i64(404), 1).await,
        "advance for a missing user",
    );
}

/// Deleting a user deletes its sessions and nobody else's, and frees its keys.
pub async fn users_delete_cascades_sessions(store: DynStore) {
    let alice = ok(
        store.insert_user(&new_user(1, "alice")).await,
        "insert alice",
    );
    let bob = ok(store.insert_user(&new_user(2, "bob")).await, "insert bob");
    ok(
        store.insert_session(&new_session(10, 1, "a1")).await,
        "alice session 1",
    );
    ok(
        store.insert_session(&new_session(11, 1, "a2")).await,
        "alice session 2",
    );
    let bobs = ok(
        store.insert_session(&new_session(20, 2, "b1")).await,
        "bob session",
    );

    assert!(
        ok(store.delete_user(alice.id).await, "delete alice"),
        "alice existed"
    );
    assert_eq!(ok(store.user(alice.id).await, "alice"), None);
    for id in [10, 11] {
        let s = ok(
            store.session(SessionId::from_i64(id)).await,
            "alice's session",
        );
        assert_eq!(s, None, "session {id} went with its user");
    }
    assert!(ok(store.sessions_of_user(alice.id).await, "alice's sessions").is_empty());
    let still = ok(store.session(bobs.id).await, "bob's session");
    assert_eq!(still.as_ref(), Some(&bobs), "other users' sessions stay");
    assert!(ok(store.user(bob.id).await, "bob").is_some());

    assert!(
        !ok(store.delete_user(alice.id).await, "delete again"),
        "already gone"
    );
    ok(
        store.insert_user(&new_user(3, "alice")).await,
        "alice's name and email are free again",
    );
}
