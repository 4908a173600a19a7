//! Conformance cases of `BulkStore`.

use beep_types::{ChannelId, MessageId, UserId};

use super::messages::setup;
use super::{assert_not_found, ok};
use crate::DynStore;
use crate::StoreError;
use crate::bulk::SeedMessage;
use crate::messages::Page;

fn seed(id: i64, channel: ChannelId, guild: beep_types::GuildId, author: UserId) -> SeedMessage {
    SeedMessage {
        id: MessageId::from_i64(id),
        channel_id: channel,
        guild_id: Some(guild),
        author_id: author,
        content: format!("seeded {id} café"),
    }
}

/// Bulk-inserted messages read back like sent ones (newest page, authors,
/// content); a batch with an unknown channel or a taken id writes nothing.
pub async fn messages_bulk_insert(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    // More than one statement's worth of rows.
    let batch: Vec<SeedMessage> = (0..450)
        .map(|i| seed(10_000 + i, ch, g, if i % 2 == 0 { alice } else { bob }))
        .collect();
    assert_eq!(
        ok(store.bulk_insert_messages(batch).await, "bulk insert"),
        450
    );
    assert_eq!(
        ok(store.bulk_insert_messages(Vec::new()).await, "empty batch"),
        0
    );
    let page = ok(
        store.messages_page(ch, Page::Latest, 50).await,
        "newest page",
    );
    let ids: Vec<i64> = page.iter().map(|m| m.id.as_i64()).collect();
    assert_eq!(ids, (10_400..10_450).rev().collect::<Vec<_>>());
    let newest = &page[0];
    assert_eq!(newest.content, "seeded 10449 café");
    assert_eq!(newest.author_id, bob);
    assert_eq!(
        newest.author.as_ref().map(|a| a.username.as_str()),
        Some("bob")
    );
    assert_eq!(newest.kind, 0);
    assert_eq!(newest.embeds, "[]");
    assert_eq!(newest.guild_id, Some(g));
    assert_eq!(
        ok(store.last_message_id(ch).await, "last id"),
        Some(MessageId::from_i64(10_449))
    );

    // All or nothing: one unknown channel spoils the batch.
    let bad = vec![
        seed(20_000, ch, g, alice),
        seed(20_001, ChannelId::from_i64(999_999), g, alice),
    ];
    assert_not_found(
        store.bulk_insert_messages(bad).await,
        "bulk insert into an unknown channel",
    );
    assert_eq!(
        ok(store.message(ch, MessageId::from_i64(20_000)).await, "read"),
        None,
        "a failed batch must write nothing"
    );

    // A taken id is a conflict, and nothing of that batch is written either.
    let dup = vec![seed(20_002, ch, g, alice), seed(10_000, ch, g, alice)];
    match store.bulk_insert_messages(dup).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("taken id: expected Conflict, got {other:?}"),
    }
    assert_eq!(
        ok(store.message(ch, MessageId::from_i64(20_002)).await, "read"),
        None,
        "a failed batch must write nothing"
    );
}
