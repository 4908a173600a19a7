//! Conformance cases of `BotTokenStore`, `AuthCodeStore`, `BackupCodeStore` and
//! `RateLimitStore`.

use beep_types::UserId;
use chrono::{TimeDelta, Utc};

use super::{assert_between, assert_not_found, new_user, ok};
use crate::{DynStore, NewAuthCode};

/// A code of `purpose` for user `user` with hash `hash`, expiring in `minutes`.
fn code(user: i64, purpose: &str, hash: &str, minutes: i64) -> NewAuthCode {
    NewAuthCode {
        user_id: UserId::from_i64(user),
        purpose: purpose.to_owned(),
        code_hash: hash.to_owned(),
        target: None,
        expires_at: Utc::now() + TimeDelta::minutes(minutes),
    }
}

/// Set, look up, replace; tokens of missing users are refused; tokens go with
/// their user.
pub async fn bot_tokens_set_replace_and_cascade(store: DynStore) {
    let bot = ok(store.insert_user(&new_user(1, "bot")).await, "insert bot");
    ok(store.set_bot_token(bot.id, "hash-1").await, "set token");
    assert_eq!(
        ok(store.user_by_bot_token("hash-1").await, "lookup"),
        Some(bot.id)
    );
    assert_eq!(ok(store.user_by_bot_token("hash-x").await, "lookup"), None);

    ok(store.set_bot_token(bot.id, "hash-2").await, "replace token");
    assert_eq!(
        ok(store.user_by_bot_token("hash-1").await, "old token"),
        None,
        "a replaced token stops working"
    );
    assert_eq!(
        ok(store.user_by_bot_token("hash-2").await, "new token"),
        Some(bot.id)
    );

    assert_not_found(
        store.set_bot_token(UserId::from_i64(404), "hash-3").await,
        "token of a missing user",
    );
    ok(store.delete_user(bot.id).await, "delete bot");
    assert_eq!(
        ok(store.user_by_bot_token("hash-2").await, "after delete"),
        None,
        "tokens go with their user"
    );
}

/// Issue, read, replace (attempts start over), count attempts up to the limit.
pub async fn auth_codes_issue_and_count_attempts(store: DynStore) {
    let alice = ok(store.insert_user(&new_user(1, "alice")).await, "insert");
    let before = Utc::now();
    let mut first = code(1, "verify_email", "h1", 10);
    first.target = Some("new@example.com".into());
    let issued = ok(store.put_auth_code(&first).await, "issue");
    let after = Utc::now();
    assert_eq!(issued.user_id, alice.id);
    assert_eq!(issued.purpose, "verify_email");
    assert_eq!(issued.code_hash, "h1");
    assert_eq!(issued.target.as_deref(), Some("new@example.com"));
    assert_eq!(issued.attempts, 0);
    assert_between(issued.created_at, before, after, "created_at");
    assert_eq!(
        issued.expires_at.timestamp_millis(),
        first.expires_at.timestamp_millis(),
        "expiry kept to the millisecond"
    );
    assert_eq!(
        ok(store.auth_code(alice.id, "verify_email").await, "read").as_ref(),
        Some(&issued)
    );
    assert_eq!(
        ok(
            store.auth_code(alice.id, "reset_password").await,
            "other purpose"
        ),
        None
    );

    for n in 1..=3 {
        let counted = ok(
            store.attempt_auth_code(alice.id, "verify_email", 3).await,
            "attempt",
        )
        .unwrap_or_else(|| panic!("attempt {n} of 3 is allowed"));
        assert_eq!(counted.attempts, n);
    }
    assert_eq!(
        ok(
            store.attempt_auth_code(alice.id, "verify_email", 3).await,
            "fourth attempt"
        ),
        None,
        "attempts are used up"
    );
    assert_eq!(
        ok(
            store.attempt_auth_code(alice.id, "nothing", 3).await,
            "no code"
        ),
        None
    );

    let replaced = ok(
        store
            .put_auth_code(&code(1, "verify_email", "h2", 10))
            .await,
        "replace",
    );
    assert_eq!(replaced.attempts, 0, "a new code starts with no attempts");
    assert_eq!(replaced.code_hash, "h2");
    assert_eq!(replaced.target, None);

    assert_not_found(
        store
            .put_auth_code(&code(404, "verify_email", "h", 10))
            .await,
        "code of a missing user",
    );
}

/// Consuming needs the right hash and works once; delete; purge of expired codes.
pub async fn auth_codes_consume_once_and_purge(store: DynStore) {
    let alice = ok(store.insert_user(&new_user(1, "alice")).await, "insert");
    ok(
        store
            .put_auth_code(&code(1, "reset_password", "right", 30))
            .await,
        "issue",
    );
    assert!(
        !ok(
            store
                .consume_auth_code(alice.id, "reset_password", "wrong")
                .await,
            "wrong hash"
        ),
        "a wrong hash consumes nothing"
    );
    let racers: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .consume_auth_code(alice.id, "reset_password", "right")
                    .await
            })
        })
        .collect();
    let mut consumed = 0;
    for r in racers {
        if ok(r.await.unwrap_or_else(|e| panic!("task: {e}")), "consume") {
            consumed += 1;
        }
    }
    assert_eq!(consumed, 1, "exactly one of 16 concurrent uses succeeds");
    assert_eq!(
        ok(
            store.auth_code(alice.id, "reset_password").await,
            "after use"
        ),
        None
    );

    ok(
        store.put_auth_code(&code(1, "change_email", "c", 10)).await,
        "issue",
    );
    assert!(ok(
        store.delete_auth_code(alice.id, "change_email").await,
        "delete"
    ));
    assert!(!ok(
        store.delete_auth_code(alice.id, "change_email").await,
        "delete again"
    ));

    ok(
        store.put_auth_code(&code(1, "old", "o", -5)).await,
        "expired code",
    );
    ok(
        store.put_auth_code(&code(1, "live", "l", 5)).await,
        "live code",
    );
    assert_eq!(ok(store.purge_auth_codes(Utc::now()).await, "purge"), 1);
    assert_eq!(ok(store.auth_code(alice.id, "old").await, "purged"), None);
    assert!(ok(store.auth_code(alice.id, "live").await, "kept").is_some());
}

/// Replace, list in order, use once each, replace again, delete all.
pub async fn backup_codes_work_once(store: DynStore) {
    let alice = ok(store.insert_user(&new_user(1, "alice")).await, "insert");
    let hashes: Vec<String> = (0..10).map(|i| format!("b{i}")).collect();
    ok(
        store.replace_backup_codes(alice.id, &hashes).await,
        "replace",
    );
    let listed = ok(store.backup_codes(alice.id).await, "list");
    assert_eq!(
        listed
            .iter()
            .map(|c| c.code_hash.clone())
            .collect::<Vec<_>>(),
        hashes,
        "in the order given"
    );
    assert!(listed.iter().all(|c| !c.used && c.user_id == alice.id));

    let racers: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.use_backup_code(alice.id, "b3").await })
        })
        .collect();
    let mut used = 0;
    for r in racers {
        if ok(r.await.unwrap_or_else(|e| panic!("task: {e}")), "use") {
            used += 1;
        }
    }
    assert_eq!(used, 1, "a backup code works exactly once");
    assert!(!ok(
        store.use_backup_code(alice.id, "nope").await,
        "unknown"
    ));
    let listed = ok(store.backup_codes(alice.id).await, "list");
    assert_eq!(listed.iter().filter(|c| c.used).count(), 1);
    assert!(listed[3].used);

    let fresh = vec!["n1".to_owned(), "n2".to_owned()];
    ok(
        store.replace_backup_codes(alice.id, &fresh).await,
        "regenerate",
    );
    let listed = ok(store.backup_codes(alice.id).await, "list");
    assert_eq!(listed.len(), 2);
    assert!(
        !ok(store.use_backup_code(alice.id, "b0").await, "old code"),
        "replaced codes stop working"
    );
    ok(store.replace_backup_codes(alice.id, &[]).await, "clear");
    assert!(ok(store.backup_codes(alice.id).await, "list").is_empty());
    assert_not_found(
        store
            .replace_backup_codes(UserId::from_i64(404), &fresh)
            .await,
        "codes of a missing user",
    );
    assert_not_found(
        store.replace_backup_codes(UserId::from_i64(404), &[]).await,
        "clearing the codes of a missing user",
    );
}

/// The GCRA step: a burst fits, then one per interval; a request costing more
/// than the bucket never fits; purge forgets full buckets.
pub async fn rate_limit_gcra_steps(store: DynStore) {
    let (interval, limit) = (1_000, 3_000);
    let now = 1_700_000_000_000;
    for i in 1..=3 {
        let s = ok(
            store.rate_limit_acquire("k", now, interval, limit, 1).await,
            "acquire",
        );
        assert!(s.allowed, "request {i} of the burst fits");
        assert_eq!(s.tat_ms, now + i * interval);
    }
    let s = ok(
        store.rate_limit_acquire("k", now, interval, limit, 1).await,
        "over",
    );
    assert!(!s.allowed, "the fourth does not fit");
    assert_eq!(s.tat_ms, now + 3 * interval, "a refusal changes nothing");
    assert_eq!(
        ok(store.rate_limit_tat("k").await, "tat"),
        Some(now + 3 * interval)
    );

    let later = now + interval;
    let s = ok(
        store
            .rate_limit_acquire("k", later, interval, limit, 1)
            .await,
        "after one interval",
    );
    assert!(s.allowed, "one interval later one more fits");

    let s = ok(
        store
            .rate_limit_acquire("big", now, interval, limit, 4)
            .await,
        "too costly",
    );
    assert!(!s.allowed, "a cost above the burst never fits");
    assert_eq!(ok(store.rate_limit_tat("big").await, "untouched"), None);

    let s = ok(
        store
            .rate_limit_acquire("old", now - 10_000, interval, limit, 1)
            .await,
        "old bucket",
    );
    assert!(s.allowed);
    assert_eq!(ok(store.purge_rate_limits(now).await, "purge"), 1);
    assert_eq!(ok(store.rate_limit_tat("old").await, "purged"), None);
    assert!(ok(store.rate_limit_tat("k").await, "kept").is_some());
}

/// Concurrent requests on one bucket: exactly the burst gets through.
pub async fn rate_limit_is_atomic_under_concurrency(store: DynStore) {
    let now = Utc::now().timestamp_millis();
    let racers: Vec<_> = (0..32)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .rate_limit_acquire("shared", now, 60_000, 5 * 60_000, 1)
                    .await
            })
        })
        .collect();
    let mut allowed = 0;
    for r in racers {
        if ok(r.await.unwrap_or_else(|e| panic!("task: {e}")), "acquire").allowed {
            allowed += 1;
        }
    }
    assert_eq!(
        allowed, 5,
        "exactly the burst of 5 of 32 concurrent requests fits"
    );
}
