//! Conformance cases of `FileStore`: quotas counted and released, the deletion
//! queue filled in the same transaction as the deletes (messages, bulk deletes,
//! ban purges, channels, guilds, accounts, replaced pictures), and claims that
//! lease entries and never hand one out twice.

use std::collections::HashSet;

use beep_types::{ChannelId, MessageId, UserId};

use super::guilds::{guild, user};
use super::messages::{new_message, setup};
use super::ok;
use crate::files::NewStoredFile;
use crate::{DynStore, GuildPatch, UserPatch};

fn file(channel: ChannelId, id: i64, user: UserId, size: u64, at: i64) -> NewStoredFile {
    NewStoredFile {
        key: format!("attachments/{channel}/{id}"),
        user_id: user,
        channel_id: channel,
        size,
        created_at_ms: at,
    }
}

/// The attachments JSON of a message carrying these attachment ids of `channel`.
fn attachments_json(channel: ChannelId, ids: &[i64]) -> String {
    let items: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"id":"{id}","channel_id":"{channel}","size":1}}"#))
        .collect();
    format!("[{}]", items.join(","))
}

/// Every prefix in the queue, sorted, taken off it (claimed and finished).
async fn queued(store: &DynStore) -> Vec<String> {
    let claimed = ok(
        store.claim_file_deletions(i64::MAX / 4, 0, 1000).await,
        "claim all",
    );
    let mut out = Vec::new();
    for d in claimed {
        ok(store.finish_file_deletion(d.id).await, "finish");
        out.push(d.prefix);
    }
    out.sort();
    out
}

/// Empty the queue.
async fn drain(store: &DynStore) {
    for d in ok(
        store.claim_file_deletions(i64::MAX / 4, 0, 1000).await,
        "claim",
    ) {
        ok(store.finish_file_deletion(d.id).await, "finish");
    }
}

/// Usage grows with each recorded file, a file past the quota is refused and
/// writes nothing, discarding an unattached file queues it and frees its bytes,
/// and expiring drops only unattached files older than the cutoff.
pub async fn files_quota_records_and_releases(store: DynStore) {
    let (alice, bob, _g, ch) = setup(&store).await;
    assert_eq!(ok(store.storage_used(alice).await, "used"), 0);
    assert!(ok(
        store
            .record_stored_file(&file(ch, 1, alice, 60, 10), 100)
            .await,
        "first"
    ));
    assert!(ok(
        store
            .record_stored_file(&file(ch, 2, alice, 40, 20), 100)
            .await,
        "up to quota"
    ));
    assert!(
        !ok(
            store
                .record_stored_file(&file(ch, 3, alice, 1, 30), 100)
                .await,
            "past quota"
        ),
        "a file past the quota is refused"
    );
    assert_eq!(ok(store.storage_used(alice).await, "used"), 100);
    assert!(ok(
        store
            .record_stored_file(&file(ch, 4, bob, 500, 40), 0)
            .await,
        "no limit"
    ));
    assert_eq!(
        ok(store.storage_used(bob).await, "bob"),
        500,
        "quotas are per user"
    );
    let in_use = ok(
        store
            .files_in_use(&[format!("attachments/{ch}/1"), format!("attachments/{ch}/3")])
            .await,
        "in use",
    );
    assert_eq!(in_use, vec![true, false], "only recorded files are in use");

    let discarded = ok(
        store
            .discard_stored_files(&[format!("attachments/{ch}/1"), "attachments/9/9".into()])
            .await,
        "discard",
    );
    assert_eq!(discarded, 1);
    assert_eq!(ok(store.storage_used(alice).await, "used"), 40);
    assert_eq!(queued(&store).await, vec![format!("attachments/{ch}/1")]);
    drain(&store).await;

    // Expiry: the file recorded at 20 goes with a cutoff of 30, bob's at 40 stays.
    assert_eq!(ok(store.expire_unattached_files(30).await, "expire"), 1);
    assert_eq!(ok(store.storage_used(alice).await, "used"), 0);
    assert_eq!(ok(store.storage_used(bob).await, "bob"), 500);
    assert_eq!(queued(&store).await, vec![format!("attachments/{ch}/2")]);
}

/// Recording is atomic per user: of many concurrent files that each fit alone,
/// only as many as the quota holds are accepted.
pub async fn files_quota_is_atomic_under_concurrency(store: DynStore) {
    let (alice, _bob, _g, ch) = setup(&store).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.record_stored_file(&file(ch, 100 + i, alice, 10, 1), 50)
                .await
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        if ok(t.await.expect("task"), "record") {
            accepted += 1;
        }
    }
    assert_eq!(accepted, 5, "exactly quota / size files fit");
    assert_eq!(ok(store.storage_used(alice).await, "used"), 50);
}

/// A message takes its recorded attachments; deleting it (alone, in bulk, or
/// purged with a ban) queues their folders and frees their bytes in the same
/// write; deleting a channel queues its whole folder once.
pub async fn files_queued_with_deleted_messages(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    for (i, id) in [11, 12, 13, 14, 15].into_iter().enumerate() {
        let who = if i < 4 { alice } else { bob };
        assert!(ok(
            store.record_stored_file(&file(ch, id, who, 10, 1), 0).await,
            "record"
        ));
    }
    let mut messages = Vec::new();
    for (mid, atts) in [
        (1000, vec![11]),
        (1001, vec![12]),
        (1002, vec![13]),
        (1003, vec![14]),
    ] {
        let mut m = new_message(mid, ch, g, alice);
        m.attachments = attachments_json(ch, &atts);
        ok(store.insert_message(&m, None).await, "insert");
        messages.push(MessageId::from_i64(mid));
    }
    // A message taking its file makes it no longer expire as an orphan.
    assert_eq!(
        ok(store.expire_unattached_files(i64::MAX).await, "expire"),
        1
    );
    assert_eq!(queued(&store).await, vec![format!("attachments/{ch}/15")]);
    drain(&store).await;
    assert_eq!(ok(store.storage_used(bob).await, "bob"), 0);
    assert_eq!(ok(store.storage_used(alice).await, "alice"), 40);

    ok(store.delete_message(ch, messages[0]).await, "delete one");
    assert_eq!(queued(&store).await, vec![format!("attachments/{ch}/11")]);
    assert_eq!(ok(store.storage_used(alice).await, "alice"), 30);
    drain(&store).await;

    ok(
        store.delete_messages(ch, &messages[1..3]).await,
        "bulk delete",
    );
    assert_eq!(
        queued(&store).await,
        vec![
            format!("attachments/{ch}/12"),
            format!("attachments/{ch}/13")
        ]
    );
    assert_eq!(ok(store.storage_used(alice).await, "alice"), 10);
    drain(&store).await;

    ok(
        store
            .delete_author_messages_since(g, alice, MessageId::from_i64(1))
            .await,
        "purge",
    );
    assert_eq!(queued(&store).await, vec![format!("attachments/{ch}/14")]);
    assert_eq!(ok(store.storage_used(alice).await, "alice"), 0);
    drain(&store).await;

    // A message without attachments queues nothing.
    ok(
        store
            .insert_message(&new_message(2000, ch, g, alice), None)
            .await,
        "plain",
    );
    ok(
        store.delete_message(ch, MessageId::from_i64(2000)).await,
        "plain delete",
    );
    assert!(queued(&store).await.is_empty());

    // The channel: its folder once, and its unattached and attached files freed.
    assert!(ok(
        store
            .record_stored_file(&file(ch, 21, alice, 7, 1), 0)
            .await,
        "record"
    ));
    assert!(ok(
        store
            .record_stored_file(&file(ch, 22, alice, 8, 1), 0)
            .await,
        "record"
    ));
    let mut m = new_message(3000, ch, g, alice);
    m.attachments = attachments_json(ch, &[21]);
    ok(store.insert_message(&m, None).await, "insert");
    let v = ok(store.channel_layout(g).await, "layout").version;
    ok(
        store.delete_channels(g, &[ch], v, &[]).await,
        "delete channel",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(queued(&store).await, vec![format!("attachments/{ch}")]);
    assert_eq!(ok(store.storage_used(alice).await, "alice"), 0);
    assert_eq!(
        ok(
            store.files_in_use(&[format!("attachments/{ch}/21")]).await,
            "in use"
        ),
        vec![false]
    );
}

/// Deleting a guild queues its pictures and the folders of its channels that
/// held files.
pub async fn files_queued_with_deleted_guilds(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let g = guild(&store, 300, owner, "hall").await;
    let ch = ChannelId::from_i64(301);
    assert!(ok(
        store.record_stored_file(&file(ch, 5, owner, 3, 1), 0).await,
        "record"
    ));
    let patch = GuildPatch {
        icon: Some(Some("i1".into())),
        ..Default::default()
    };
    ok(store.update_guild(g.id, &patch, &[]).await, "icon").unwrap_or_else(|r| panic!("{r:?}"));
    assert!(
        queued(&store).await.is_empty(),
        "a first icon replaces nothing"
    );
    let patch = GuildPatch {
        icon: Some(Some("i2".into())),
        ..Default::default()
    };
    ok(store.update_guild(g.id, &patch, &[]).await, "icon").unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(queued(&store).await, vec!["icons/300/i1".to_string()]);
    assert_eq!(
        ok(
            store
                .files_in_use(&["icons/300/i1".into(), "icons/300/i2".into()])
                .await,
            "in use"
        ),
        vec![false, true]
    );
    drain(&store).await;
    assert!(ok(store.delete_guild(g.id).await, "delete guild"));
    assert_eq!(
        queued(&store).await,
        vec![
            format!("attachments/{ch}"),
            "banners/300".to_string(),
            "icons/300".to_string()
        ]
    );
    assert_eq!(ok(store.storage_used(owner).await, "owner"), 0);
}

/// A replaced avatar or banner is queued; one taken back into use is taken off
/// the queue; a deleted account queues its pictures, its pending uploads and its
/// unattached files, while files on its messages stay (messages outlive it).
pub async fn files_queued_with_accounts(store: DynStore) {
    let (alice, _bob, g, ch) = setup(&store).await;
    let set = |avatar: Option<&str>| UserPatch {
        avatar: Some(avatar.map(str::to_owned)),
        ..UserPatch::default()
    };
    ok(
        store.update_user(alice, &set(Some("a1"))).await,
        "avatar a1",
    );
    ok(
        store.update_user(alice, &set(Some("a2"))).await,
        "avatar a2",
    );
    ok(
        store.update_user(alice, &set(Some("a1"))).await,
        "avatar a1 again",
    );
    // a2 is queued, a1 was queued and taken off again.
    assert_eq!(queued(&store).await, vec!["avatars/1/a2".to_string()]);
    ok(store.update_user(alice, &set(None)).await, "no avatar");
    assert_eq!(queued(&store).await, vec!["avatars/1/a1".to_string()]);
    let banner = UserPatch {
        banner: Some(Some("b1".into())),
        ..UserPatch::default()
    };
    ok(store.update_user(alice, &banner).await, "banner");
    assert_eq!(
        ok(
            store
                .files_in_use(&[
                    "banners/1/b1".into(),
                    "avatars/1/a1".into(),
                    "uploads/1/5".into(),
                    "elsewhere/x".into()
                ])
                .await,
            "in use"
        ),
        vec![true, false, false, true]
    );

    assert!(ok(
        store
            .record_stored_file(&file(ch, 31, alice, 5, 1), 0)
            .await,
        "record"
    ));
    assert!(ok(
        store
            .record_stored_file(&file(ch, 32, alice, 6, 1), 0)
            .await,
        "record"
    ));
    let mut m = new_message(4000, ch, g, alice);
    m.attachments = attachments_json(ch, &[31]);
    ok(store.insert_message(&m, None).await, "insert");
    // An account owning a guild cannot go: alice hands hers to bob first.
    let patch = GuildPatch {
        owner_id: Some(UserId::from_i64(2)),
        ..Default::default()
    };
    ok(store.update_guild(g, &patch, &[]).await, "transfer").unwrap_or_else(|r| panic!("{r:?}"));
    assert!(ok(store.delete_user(alice).await, "delete user"));
    assert_eq!(
        queued(&store).await,
        vec![
            format!("attachments/{ch}/32"),
            "avatars/1".to_string(),
            "banners/1".to_string(),
            "uploads/1".to_string()
        ]
    );
    assert_eq!(
        ok(
            store.files_in_use(&[format!("attachments/{ch}/31")]).await,
            "in use"
        ),
        vec![true],
        "the file of a message that outlives its author stays"
    );
    assert_eq!(ok(store.storage_used(alice).await, "used"), 0);
}

/// Claims take due entries only, lease them (a second claim gets nothing until
/// the lease ends, then the entry again with one more attempt), a retry puts an
/// entry off, a finish removes it, and concurrent claims never share an entry.
pub async fn files_deletion_queue_claims_and_leases(store: DynStore) {
    ok(
        store
            .queue_file_deletions(&["a/1".into(), "a/2".into(), "a/3".into()])
            .await,
        "queue",
    );
    assert_eq!(ok(store.file_deletions_pending().await, "pending"), 3);
    let now = 1_000_000;
    let first = ok(store.claim_file_deletions(now, 500, 2).await, "claim");
    assert_eq!(first.len(), 2, "at most the limit");
    assert!(first.iter().all(|d| d.attempts == 1));
    let second = ok(store.claim_file_deletions(now, 500, 10).await, "claim");
    assert_eq!(second.len(), 1, "leased entries are not handed out again");
    assert!(
        ok(
            store.claim_file_deletions(now + 499, 500, 10).await,
            "claim"
        )
        .is_empty()
    );
    let again = ok(
        store.claim_file_deletions(now + 500, 500, 10).await,
        "claim",
    );
    assert_eq!(again.len(), 3, "an entry whose lease ended comes back");
    assert!(again.iter().all(|d| d.attempts == 2));

    let (a, b) = (again[0].id, again[1].id);
    ok(
        store
            .retry_file_deletion(a, now + 10_000, "storage down")
            .await,
        "retry",
    );
    ok(store.finish_file_deletion(b).await, "finish");
    assert_eq!(ok(store.file_deletions_pending().await, "pending"), 2);
    let later = ok(
        store.claim_file_deletions(now + 5_000, 0, 10).await,
        "claim",
    );
    assert_eq!(later.len(), 1, "the retried entry waits for its time");
    assert_ne!(later[0].id, a);
    let later = ok(
        store.claim_file_deletions(now + 10_000, 0, 10).await,
        "claim",
    );
    assert!(
        later.iter().any(|d| d.id == a && d.attempts == 3),
        "{later:?}"
    );

    // Concurrent claims: every entry exactly once.
    drain(&store).await;
    let prefixes: Vec<String> = (0..40).map(|i| format!("b/{i}")).collect();
    ok(store.queue_file_deletions(&prefixes).await, "queue");
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = s.claim_file_deletions(now, 60_000, 3).await.expect("claim");
                if batch.is_empty() {
                    return got;
                }
                got.extend(batch.into_iter().map(|d| d.prefix));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 40, "every entry claimed once: {all:?}");
    assert_eq!(unique.len(), 40);
}
