//! Conformance cases of concurrency and `Lifecycle`.

use beep_types::{SessionId, UserId};

use super::{assert_conflict, assert_unavailable, new_session, new_user, ok};
use crate::{DynStore, StoreError, UserPatch};

/// Inserts that land among the concurrent ones.
const CONCURRENT_INSERTS: i64 = 500;
/// Inserts among them that conflict, interleaved with the others.
const CONCURRENT_CONFLICTS: i64 = 20;

/// Hundreds of concurrent inserts all land, and the few that conflict fail alone
/// without taking the others (which may share their transaction) with them.
pub async fn concurrent_writes_all_land(store: DynStore) {
    ok(
        store.insert_user(&new_user(1, "taken")).await,
        "insert the taken name",
    );

    let mut tasks = Vec::new();
    for i in 0..CONCURRENT_INSERTS {
        let s = store.clone();
        let id = 1000 + i;
        tasks.push((
            false,
            tokio::spawn(async move { s.insert_user(&new_user(id, &format!("user{i}"))).await }),
        ));
        if i % (CONCURRENT_INSERTS / CONCURRENT_CONFLICTS) == 0 {
            let s = store.clone();
            let mut dup = new_user(100_000 + i, "Taken");
            dup.email = None;
            dup.email_key = None;
            tasks.push((true, tokio::spawn(async move { s.insert_user(&dup).await })));
        }
    }
    let mut landed = 0;
    let mut conflicted = 0;
    for (conflicts, task) in tasks {
        let result = task.await.unwrap_or_else(|e| panic!("task failed: {e}"));
        if conflicts {
            assert_conflict(result, "username", "concurrent insert of a taken name");
            conflicted += 1;
        } else {
            ok(result, "concurrent insert");
            landed += 1;
        }
    }
    assert_eq!(landed, CONCURRENT_INSERTS);
    assert_eq!(conflicted, CONCURRENT_CONFLICTS);

    let reads: Vec<_> = (0..CONCURRENT_INSERTS)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { (i, store.user(UserId::from_i64(1000 + i)).await) })
        })
        .collect();
    for read in reads {
        let (i, user) = read.await.unwrap_or_else(|e| panic!("task failed: {e}"));
        let user = ok(user, "read back")
            .unwrap_or_else(|| panic!("user{i} was acknowledged but is missing"));
        assert_eq!(user.username, format!("user{i}"));
    }
    for i in 0..CONCURRENT_CONFLICTS {
        let id = UserId::from_i64(100_000 + i * (CONCURRENT_INSERTS / CONCURRENT_CONFLICTS));
        assert_eq!(
            ok(store.user(id).await, "conflicting id"),
            None,
            "no trace of a failed insert"
        );
    }
}

/// After `close`, every call fails with `Unavailable`; calls racing with it either
/// succeed or fail with `Unavailable`, never hang or fail otherwise; closing twice
/// is harmless.
pub async fn close_rejects_later_calls(store: DynStore) {
    let alice = ok(
        store.insert_user(&new_user(1, "alice")).await,
        "insert alice",
    );
    ok(
        store.insert_session(&new_session(10, 1, "h")).await,
        "insert session",
    );

    let racing: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert_user(&new_user(100 + i, &format!("racer{i}")))
                    .await
            })
        })
        .collect();
    store.close().await;
    for task in racing {
        match task.await.unwrap_or_else(|e| panic!("task failed: {e}")) {
            Ok(_) | Err(StoreError::Unavailable(_)) => {}
            Err(e) => panic!("a write racing with close failed with {e:?}, not Unavailable"),
        }
    }

    assert_unavailable(store.ping().await, "ping after close");
    assert_unavailable(store.user(alice.id).await, "read after close");
    assert_unavailable(
        store.user_by_username_key("alice").await,
        "lookup after close",
    );
    assert_unavailable(
        store.insert_user(&new_user(2, "bob")).await,
        "insert after close",
    );
    assert_unavailable(
        store
            .update_user(
                alice.id,
                &UserPatch {
                    bio: Some("x".into()),
                    ..UserPatch::default()
                },
            )
            .await,
        "update after close",
    );
    assert_unavailable(
        store.advance_totp_step(alice.id, 1).await,
        "totp after close",
    );
    assert_unavailable(store.delete_user(alice.id).await, "delete after close");
    assert_unavailable(
        store.session(SessionId::from_i64(10)).await,
        "session after close",
    );
    assert_unavailable(
        store.sessions_of_user(alice.id).await,
        "sessions after close",
    );
    assert_unavailable(
        store.revoke_session(SessionId::from_i64(10)).await,
        "revoke after close",
    );
    store.close().await;
}

/// `ping` answers, alone and concurrently, and the backend names itself.
pub async fn ping_works(store: DynStore) {
    assert!(
        matches!(store.backend(), "sqlite" | "postgres"),
        "unknown backend name {:?}",
        store.backend()
    );
    ok(store.ping().await, "ping");
    let pings: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.ping().await })
        })
        .collect();
    for ping in pings {
        ok(
            ping.await.unwrap_or_else(|e| panic!("task failed: {e}")),
            "concurrent ping",
        );
    }
}
