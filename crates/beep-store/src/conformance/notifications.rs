//! Conformance cases of `NotificationStore`, `NotificationSettingsStore` and
//! `ReceiptStore`.

use beep_types::{ChannelId, GuildId, MessageId, Snowflake, UserId};
use chrono::{Duration, Utc};

use super::messages::{new_message, setup};
use super::{assert_not_found, ok};
use crate::DynStore;
use crate::notifications::{
    ChannelOverrideRecord, Mute, NewNotification, NotificationSettingsRecord, kind,
};

fn note(id: u64, user: UserId, message: Option<(ChannelId, GuildId, i64)>) -> NewNotification {
    NewNotification {
        id: Snowflake(id),
        user_id: user,
        kind: kind::MENTION,
        actor_id: None,
        guild_id: message.map(|m| m.1),
        channel_id: message.map(|m| m.0),
        message_id: message.map(|m| MessageId::from_i64(m.2)),
        digest: true,
        created_at: Utc::now(),
    }
}

/// Inserting, paging newest first, reading one and all; notifications of a
/// message that does not exist (yet, or any more) are invisible.
pub async fn notifications_list_and_read(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    // Message 1000 exists, 1001 is never written.
    ok(
        store
            .insert_message(&new_message(1000, ch, g, alice), None)
            .await,
        "message",
    );
    let list: Vec<NewNotification> = vec![
        note(10, bob, Some((ch, g, 1000))),
        note(11, bob, Some((ch, g, 1001))),
        note(12, bob, None),
        note(13, bob, None),
        note(14, alice, None),
        // A user that does not exist is skipped.
        note(15, UserId::from_i64(999_999), None),
    ];
    ok(store.insert_notifications(&list).await, "insert");
    let page = ok(store.notifications(bob, None, 10).await, "page");
    let ids: Vec<u64> = page.iter().map(|n| n.id.0).collect();
    assert_eq!(ids, vec![13, 12, 10], "newest first, dangling one hidden");
    let page = ok(
        store.notifications(bob, Some(Snowflake(13)), 1).await,
        "before",
    );
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id.0, 12);
    assert_eq!(page[0].kind, kind::MENTION);
    assert!(!page[0].read);
    assert!(
        ok(store.notification(bob, Snowflake(11)).await, "dangling").is_none(),
        "a notification of a message never written is invisible"
    );
    assert!(
        ok(store.notification(bob, Snowflake(14)).await, "other's").is_none(),
        "another user's notification is not found"
    );
    let one = ok(store.notification(bob, Snowflake(10)).await, "one").expect("exists");
    assert_eq!(one.message_id, Some(MessageId::from_i64(1000)));
    assert_eq!(one.channel_id, Some(ch));

    assert!(ok(
        store.mark_notification_read(bob, Snowflake(12)).await,
        "read"
    ));
    assert!(
        !ok(
            store.mark_notification_read(bob, Snowflake(12)).await,
            "again"
        ),
        "reading twice changes nothing"
    );
    assert!(!ok(
        store.mark_notification_read(alice, Snowflake(13)).await,
        "not hers"
    ));
    let n = ok(
        store.mark_all_notifications_read(bob, Snowflake(12)).await,
        "all up to 12",
    );
    assert_eq!(n, 2, "10 and the dangling 11, not 13");
    let page = ok(store.notifications(bob, None, 10).await, "page");
    assert_eq!(
        page.iter().map(|n| n.read).collect::<Vec<_>>(),
        vec![false, true, true]
    );

    // Deleting the message takes its notification out of the list.
    ok(
        store.delete_message(ch, MessageId::from_i64(1000)).await,
        "delete",
    );
    let page = ok(store.notifications(bob, None, 10).await, "page");
    assert_eq!(
        page.iter().map(|n| n.id.0).collect::<Vec<_>>(),
        vec![13, 12]
    );
    assert_eq!(
        ok(
            store
                .delete_message_notifications(MessageId::from_i64(1001))
                .await,
            "purge"
        ),
        1
    );
}

/// Reading a channel clears its notifications up to the message read.
pub async fn notifications_channel_read(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    for id in [1000, 1001, 1002] {
        ok(
            store
                .insert_message(&new_message(id, ch, g, alice), None)
                .await,
            "message",
        );
    }
    let list: Vec<NewNotification> = [1000, 1001, 1002]
        .iter()
        .map(|m| note(*m as u64 + 10, bob, Some((ch, g, *m))))
        .collect();
    ok(store.insert_notifications(&list).await, "insert");
    let changed = ok(
        store
            .mark_channel_notifications_read(bob, ch, MessageId::from_i64(1001))
            .await,
        "channel read",
    );
    let mut ids: Vec<u64> = changed.iter().map(|s| s.0).collect();
    ids.sort();
    assert_eq!(ids, vec![1010, 1011]);
    let again = ok(
        store
            .mark_channel_notifications_read(bob, ch, MessageId::from_i64(1001))
            .await,
        "again",
    );
    assert!(again.is_empty());
}

/// The digest is due only for users offline long enough, covers the waiting
/// batch, and is sent once per batch.
pub async fn notifications_digest_and_presence(store: DynStore) {
    let (alice, bob, _g, _ch) = setup(&store).await;
    let now = Utc::now();
    let old = now - Duration::seconds(120);
    let mut a = note(20, alice, None);
    a.created_at = old;
    let mut b = note(21, bob, None);
    b.created_at = old;
    let mut not_digest = note(22, bob, None);
    not_digest.digest = false;
    ok(
        store.insert_notifications(&[a, b, not_digest]).await,
        "insert",
    );

    // Alice is online on node n1: not due.
    ok(
        store
            .renew_presence(&[alice], "n1", now + Duration::seconds(90))
            .await,
        "renew",
    );
    assert!(ok(store.is_online(alice, now).await, "online"));
    assert!(!ok(store.is_online(bob, now).await, "bob offline"));
    assert_eq!(
        ok(store.online_among(&[alice, bob], now).await, "among"),
        vec![alice]
    );
    let due = ok(
        store
            .digests_due(now, now - Duration::seconds(60), 10)
            .await,
        "due",
    );
    assert_eq!(due.len(), 1, "only bob: {due:?}");
    assert_eq!(due[0].user_id, bob);
    assert_eq!(due[0].last_id, Snowflake(21));
    assert_eq!(due[0].count, 1);
    let batch = ok(store.digest_batch(bob, Snowflake(21), 10).await, "batch");
    assert_eq!(batch.len(), 1);

    // Alice leaves now: her quiet time starts now, so not due yet.
    ok(store.end_presence(alice, "n1", now).await, "end");
    assert!(!ok(store.is_online(alice, now).await, "offline now"));
    let due = ok(
        store
            .digests_due(now, now - Duration::seconds(60), 10)
            .await,
        "due",
    );
    assert_eq!(due.iter().map(|d| d.user_id).collect::<Vec<_>>(), vec![bob]);
    let later = now + Duration::seconds(61);
    let due = ok(
        store
            .digests_due(later, later - Duration::seconds(60), 10)
            .await,
        "due later",
    );
    assert_eq!(due.len(), 2);

    // Mailed once: no longer due; a read notification never is.
    assert_eq!(
        ok(store.mark_digested(bob, Snowflake(21)).await, "mailed"),
        1
    );
    assert!(ok(
        store.mark_notification_read(alice, Snowflake(20)).await,
        "read"
    ));
    let due = ok(
        store
            .digests_due(later, later - Duration::seconds(60), 10)
            .await,
        "due after",
    );
    assert!(due.is_empty(), "{due:?}");
    // A lease of a user that does not exist is skipped.
    ok(
        store
            .renew_presence(&[UserId::from_i64(999_999)], "n1", now)
            .await,
        "unknown user",
    );
}

/// Settings round-trip with overrides, versions, lookups by users, and who
/// wants every message.
pub async fn notification_settings_round_trip(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    assert!(
        ok(store.notification_settings(alice, Some(g)).await, "none").is_none(),
        "no settings until set"
    );
    let end = Utc::now() + Duration::seconds(3600);
    let end = chrono::DateTime::from_timestamp_millis(end.timestamp_millis()).expect("ms");
    let mut s = NotificationSettingsRecord::default_for(alice, Some(g));
    s.message_notifications = 0;
    s.mute = Mute {
        muted: true,
        end_at: Some(end),
        window: Some(3600),
    };
    s.suppress_everyone = true;
    s.channel_overrides = vec![ChannelOverrideRecord {
        channel_id: ch,
        message_notifications: 1,
        mute: Mute::default(),
    }];
    let saved = ok(store.put_notification_settings(&s).await, "put");
    assert_eq!(saved.version, 1);
    assert_eq!(saved.mute, s.mute);
    assert_eq!(saved.channel_overrides, s.channel_overrides);
    assert!(saved.suppress_everyone && !saved.suppress_roles);
    s.channel_overrides.clear();
    s.mute = Mute::default();
    let saved = ok(store.put_notification_settings(&s).await, "put again");
    assert_eq!(saved.version, 2);
    assert!(saved.channel_overrides.is_empty(), "overrides replaced");
    assert!(!saved.mute.muted);

    // Direct conversations (`@me`) are their own row.
    let mut dm = NotificationSettingsRecord::default_for(bob, None);
    dm.message_notifications = 2;
    dm.channel_overrides = vec![ChannelOverrideRecord {
        channel_id: ChannelId::from_i64(5555),
        message_notifications: 0,
        mute: Mute::default(),
    }];
    let saved = ok(store.put_notification_settings(&dm).await, "put @me");
    assert_eq!(saved.guild_id, None);
    assert_eq!(saved.channel_overrides.len(), 1);
    let all = ok(store.all_notification_settings(bob).await, "all");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].guild_id, None);

    let of = ok(
        store.notification_settings_of(Some(g), &[alice, bob]).await,
        "of",
    );
    assert_eq!(of.len(), 1);
    assert_eq!(of[0].user_id, alice);
    assert_eq!(
        ok(
            store.users_wanting_all_messages(Some(g), ch, 10).await,
            "want all"
        ),
        vec![alice]
    );
    assert_eq!(
        ok(
            store
                .users_wanting_all_messages(None, ChannelId::from_i64(5555), 10)
                .await,
            "want all @me"
        ),
        vec![bob],
        "a channel override asking for everything counts"
    );
    let ghost = NotificationSettingsRecord::default_for(UserId::from_i64(999_999), Some(g));
    assert_not_found(
        store.put_notification_settings(&ghost).await,
        "settings of a user that does not exist",
    );
}

/// Delivery positions only move forward; read positions come from read states.
pub async fn receipts_positions(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    for id in [1000, 1001] {
        ok(
            store
                .insert_message(&new_message(id, ch, g, alice), None)
                .await,
            "message",
        );
    }
    let moved = ok(
        store
            .mark_delivered(ch, &[bob], MessageId::from_i64(1001))
            .await,
        "deliver",
    );
    assert_eq!(moved, vec![bob]);
    let moved = ok(
        store
            .mark_delivered(ch, &[bob], MessageId::from_i64(1000))
            .await,
        "older",
    );
    assert!(moved.is_empty(), "positions never move back");
    ok(
        store
            .ack(bob, ch, MessageId::from_i64(1000), false, Utc::now())
            .await,
        "ack",
    );
    let pos = ok(
        store.receipt_positions(ch, &[bob, alice]).await,
        "positions",
    );
    assert_eq!(pos[0].user_id, bob);
    assert_eq!(pos[0].delivered, Some(MessageId::from_i64(1001)));
    assert_eq!(pos[0].read, Some(MessageId::from_i64(1000)));
    assert_eq!(pos[1].delivered, None);
    assert_eq!(
        pos[1].read,
        Some(MessageId::from_i64(1001)),
        "the author's own send moves their read state"
    );
}
