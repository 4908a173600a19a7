//! Conformance cases of `SessionStore`.

use beep_types::{SessionId, UserId};
use chrono::Utc;

use super::{assert_between, assert_conflict, assert_not_found, new_session, new_user, ok};
use crate::DynStore;

/// Insert, read, list newest first, touch, revoke.
pub async fn sessions_lifecycle(store: DynStore) {
    let alice = ok(
        store.insert_user(&new_user(1, "alice")).await,
        "insert alice",
    );
    let before = Utc::now();
    let first = ok(
        store.insert_session(&new_session(10, 1, "h1")).await,
        "insert session",
    );
    let after = Utc::now();
    assert_eq!(first.id, SessionId::from_i64(10));
    assert_eq!(first.user_id, alice.id);
    assert_eq!(first.device, "device-10");
    assert_eq!(first.ip, "192.0.2.1");
    assert_eq!(first.refresh_hash, "h1");
    assert_eq!(first.previous_refresh_hash, None);
    assert!(!first.revoked, "a new session is live");
    assert_between(first.created_at, before, after, "created_at");
    assert_eq!(
        first.last_seen_at, first.created_at,
        "last seen at creation"
    );
    let read = ok(store.session(first.id).await, "read session");
    assert_eq!(read.as_ref(), Some(&first));

    let second = ok(
        store.insert_session(&new_session(11, 1, "h2")).await,
        "second session",
    );
    let listed = ok(store.sessions_of_user(alice.id).await, "list");
    let ids: Vec<_> = listed.iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![second.id, first.id], "newest first");

    let seen = Utc::now();
    ok(
        store.touch_session(first.id, "198.51.100.7", seen).await,
        "touch",
    );
    let touched = ok(store.session(first.id).await, "read touched")
        .unwrap_or_else(|| panic!("touched session vanished"));
    assert_eq!(touched.ip, "198.51.100.7");
    assert_eq!(
        touched.last_seen_at.timestamp_millis(),
        seen.timestamp_millis(),
        "last_seen_at is stored to the millisecond"
    );
    assert_eq!(
        touched.created_at, first.created_at,
        "touch keeps created_at"
    );
    assert_not_found(
        store
            .touch_session(SessionId::from_i64(404), "x", seen)
            .await,
        "touch a missing session",
    );

    assert!(
        ok(store.revoke_session(first.id).await, "revoke"),
        "a live session is revoked"
    );
    assert!(
        !ok(store.revoke_session(first.id).await, "revoke again"),
        "already revoked"
    );
    assert!(!ok(
        store.revoke_session(SessionId::from_i64(404)).await,
        "revoke missing"
    ));
    let revoked = ok(store.session(first.id).await, "read revoked")
        .unwrap_or_else(|| panic!("revoked session must still be readable"));
    assert!(revoked.revoked, "session() returns revoked sessions too");
    let live: Vec<_> = ok(store.sessions_of_user(alice.id).await, "list")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(live, vec![second.id], "only live sessions are listed");

    assert_not_found(
        store.insert_session(&new_session(12, 404, "h")).await,
        "session of a missing user",
    );
    assert_conflict(
        store.insert_session(&new_session(11, 1, "h3")).await,
        "id",
        "session with a taken id",
    );
    assert_eq!(
        ok(store.session(SessionId::from_i64(404)).await, "missing"),
        None
    );
    assert!(
        ok(
            store.sessions_of_user(UserId::from_i64(404)).await,
            "nobody's"
        )
        .is_empty()
    );
}

/// The refresh hash changes only when the caller presents the current one, and
/// among concurrent rotations of the same hash exactly one wins.
pub async fn sessions_rotate_refresh_compare_and_swap(store: DynStore) {
    ok(
        store.insert_user(&new_user(1, "alice")).await,
        "insert alice",
    );
    let s = ok(
        store.insert_session(&new_session(10, 1, "h1")).await,
        "insert session",
    );

    assert!(!ok(
        store.rotate_refresh(s.id, "wrong", "h2").await,
        "wrong hash"
    ));
    let read = ok(store.session(s.id).await, "read").map(|s| s.refresh_hash);
    assert_eq!(read.as_deref(), Some("h1"), "a wrong hash changes nothing");

    assert!(
        ok(store.rotate_refresh(s.id, "h1", "h2").await, "rotate"),
        "current hash rotates"
    );
    let read = ok(store.session(s.id).await, "read").unwrap_or_else(|| panic!("session vanished"));
    assert_eq!(read.refresh_hash, "h2");
    assert_eq!(
        read.previous_refresh_hash.as_deref(),
        Some("h1"),
        "the old hash is kept"
    );
    assert!(
        !ok(store.rotate_refresh(s.id, "h1", "h3").await, "reuse"),
        "reuse is refused"
    );

    let racers: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let new_hash = format!("h3-{i}");
                let won = store.rotate_refresh(s.id, "h2", &new_hash).await;
                (won, new_hash)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for racer in racers {
        let (won, new_hash) = racer.await.unwrap_or_else(|e| panic!("task failed: {e}"));
        if ok(won, "concurrent rotate") {
            winners.push(new_hash);
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one of 16 concurrent rotations wins: {winners:?}"
    );
    let read = ok(store.session(s.id).await, "read").unwrap_or_else(|| panic!("session vanished"));
    assert_eq!(read.refresh_hash, winners[0], "the winner's hash is stored");
    assert_eq!(read.previous_refresh_hash.as_deref(), Some("h2"));

    ok(store.revoke_session(s.id).await, "revoke");
    let current = read.refresh_hash;
    assert!(
        !ok(
            store.rotate_refresh(s.id, &current, "h4").await,
            "rotate revoked"
        ),
        "a revoked session never rotates"
    );
    assert_not_found(
        store
            .rotate_refresh(SessionId::from_i64(404), "h", "h")
            .await,
        "rotate a missing session",
    );
}

/// "Log out everywhere else": every live session of the user but one is revoked,
/// and nobody else's.
pub async fn sessions_revoke_all_except_one(store: DynStore) {
    let alice = ok(
        store.insert_user(&new_user(1, "alice")).await,
        "insert alice",
    );
    let bob = ok(store.insert_user(&new_user(2, "bob")).await, "insert bob");
    for id in [10, 11, 12] {
        ok(
            store.insert_session(&new_session(id, 1, "a")).await,
            "alice session",
        );
    }
    let bobs = ok(
        store.insert_session(&new_session(20, 2, "b")).await,
        "bob session",
    );
    let keep = SessionId::from_i64(11);

    let n = ok(
        store.revoke_user_sessions(alice.id, Some(keep)).await,
        "revoke others",
    );
    assert_eq!(n, 2, "two sessions revoked");
    let live: Vec<_> = ok(store.sessions_of_user(alice.id).await, "alice's sessions")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(live, vec![keep], "only the kept session is live");
    let bob_live = ok(store.sessions_of_user(bob.id).await, "bob's sessions");
    assert_eq!(bob_live, vec![bobs.clone()], "other users are untouched");

    let n = ok(
        store.revoke_user_sessions(alice.id, Some(keep)).await,
        "again",
    );
    assert_eq!(n, 0, "nothing left to revoke");
    let n = ok(
        store.revoke_user_sessions(alice.id, Some(bobs.id)).await,
        "foreign keep",
    );
    assert_eq!(n, 1, "keeping another user's session keeps none of alice's");
    assert!(ok(store.sessions_of_user(alice.id).await, "alice").is_empty());

    let n = ok(
        store.revoke_user_sessions(bob.id, None).await,
        "revoke all of bob's",
    );
    assert_eq!(n, 1);
    let n = ok(
        store
            .revoke_user_sessions(UserId::from_i64(404), None)
            .await,
        "nobody",
    );
    assert_eq!(n, 0);
}
