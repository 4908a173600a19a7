//! Conformance cases of `SearchStore`: both backends find the same messages
//! for the same search, and the index follows every message write.

use beep_search::{Has, Query};
use beep_types::{ChannelId, GuildId, MessageId, UserId};
use chrono::Utc;

use super::messages::{new_message, setup};
use super::ok;
use crate::DynStore;
use crate::messages::{MessagePatch, NewMessage};
use crate::search::{MessageSearch, SearchOrder, SearchScope};

fn search(g: GuildId, content: &str) -> MessageSearch {
    MessageSearch {
        scope: SearchScope::Guild(g),
        query: Query::parse(content),
        authors: vec![],
        mentions: vec![],
        has: vec![],
        min_id: None,
        max_id: None,
        pinned: None,
        order: SearchOrder::Newest,
        offset: 0,
        limit: 25,
        count_cap: crate::search::COUNT_CAP,
    }
}

/// The ids found and the total.
async fn found(store: &DynStore, s: &MessageSearch) -> (Vec<i64>, u64) {
    let page = ok(store.search_messages(s).await, "search");
    (
        page.messages.iter().map(|m| m.id.as_i64()).collect(),
        page.total,
    )
}

async fn put(store: &DynStore, m: NewMessage) {
    ok(store.insert_message(&m, None).await, "insert");
}

fn text(id: i64, ch: ChannelId, g: GuildId, author: UserId, content: &str) -> NewMessage {
    let mut m = new_message(id, ch, g, author);
    m.content = content.into();
    m
}

/// Words fold case and diacritics and match by English or French stem;
/// phrases need adjacent words; `*` is a prefix; CJK text is found by its
/// bigrams; totals count every match.
pub async fn search_matches_text(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    put(
        &store,
        text(1001, ch, g, alice, "She was RUNNING to the café"),
    )
    .await;
    put(
        &store,
        text(1002, ch, g, bob, "he runs; the cafe is closed"),
    )
    .await;
    put(&store, text(1003, ch, g, alice, "Les chevaux mangent")).await;
    put(&store, text(1004, ch, g, bob, "un cheval blanc")).await;
    put(&store, text(1005, ch, g, alice, "東京都に行きます")).await;
    put(
        &store,
        text(1006, ch, g, bob, "configuration of the closed cafe"),
    )
    .await;

    assert_eq!(
        found(&store, &search(g, "run")).await,
        (vec![1002, 1001], 2)
    );
    assert_eq!(
        found(&store, &search(g, "CAFE")).await,
        (vec![1006, 1002, 1001], 3)
    );
    assert_eq!(
        found(&store, &search(g, "café running closed")).await,
        (vec![1002], 1)
    );
    assert_eq!(
        found(&store, &search(g, "cheval")).await,
        (vec![1004, 1003], 2)
    );
    assert_eq!(
        found(&store, &search(g, "\"closed cafe\"")).await,
        (vec![1006], 1)
    );
    assert_eq!(
        found(&store, &search(g, "\"cafe closed\"")).await,
        (vec![], 0)
    );
    assert_eq!(found(&store, &search(g, "conf*")).await, (vec![1006], 1));
    assert_eq!(found(&store, &search(g, "conf")).await, (vec![], 0));
    assert_eq!(found(&store, &search(g, "京都")).await, (vec![1005], 1));
    assert_eq!(found(&store, &search(g, "都")).await, (vec![1005], 1));
    assert_eq!(found(&store, &search(g, "大阪")).await, (vec![], 0));
    // Query syntax of the engines is only ever text here.
    for hostile in [
        "\"",
        "a OR b NOT",
        "col : x",
        "'); DROP",
        "*",
        "NEAR(a b)",
        "a & b | !c",
    ] {
        ok(store.search_messages(&search(g, hostile)).await, hostile);
    }
    // Another guild's messages are not in this guild's results.
    let other = super::guilds::guild(&store, 200, alice, "other").await;
    put(
        &store,
        text(2001, ChannelId::from_i64(201), other.id, alice, "run run"),
    )
    .await;
    assert_eq!(found(&store, &search(g, "run")).await.1, 2);
    assert_eq!(
        found(&store, &search(other.id, "run")).await,
        (vec![2001], 1)
    );
}

/// Authors, mentions, `has`, id bounds, `pinned`, channel scopes, pages and
/// orders.
pub async fn search_filters_and_orders(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    let voice = ChannelId::from_i64(102);
    put(&store, text(1001, ch, g, alice, "plan one")).await;
    let mut m = text(1002, ch, g, bob, "plan two https://example.com");
    m.mention_users = vec![alice];
    put(&store, m).await;
    let mut m = text(1003, voice, g, alice, "plan three plan");
    m.attachments = r#"[{"content_type":"image/png"}]"#.into();
    put(&store, m).await;
    let mut m = text(1004, ch, g, bob, "something else");
    m.embeds = r#"[{"type":"rich","title":"plan four"}]"#.into();
    put(&store, m).await;

    let mut s = search(g, "plan");
    assert_eq!(found(&store, &s).await, (vec![1004, 1003, 1002, 1001], 4));
    s.authors = vec![bob];
    assert_eq!(found(&store, &s).await, (vec![1004, 1002], 2));
    s.authors = vec![bob, alice];
    assert_eq!(found(&store, &s).await.1, 4);
    s.authors.clear();
    s.mentions = vec![alice];
    assert_eq!(found(&store, &s).await, (vec![1002], 1));
    s.mentions.clear();
    for (has, want) in [
        (Has::Link, vec![1002]),
        (Has::File, vec![1003]),
        (Has::Image, vec![1003]),
        (Has::Embed, vec![1004]),
        (Has::Video, vec![]),
    ] {
        s.has = vec![has];
        assert_eq!(found(&store, &s).await.0, want, "{has:?}");
    }
    s.has = vec![Has::File, Has::Link];
    assert_eq!(found(&store, &s).await.1, 0, "has: every kind given");
    s.has.clear();
    s.min_id = Some(MessageId::from_i64(1001));
    s.max_id = Some(MessageId::from_i64(1004));
    assert_eq!(found(&store, &s).await, (vec![1003, 1002], 2));
    s.min_id = None;
    s.max_id = None;
    s.scope = SearchScope::Only {
        guild: g,
        channels: vec![voice],
    };
    assert_eq!(found(&store, &s).await, (vec![1003], 1));
    s.scope = SearchScope::Except {
        guild: g,
        channels: vec![voice],
    };
    assert_eq!(found(&store, &s).await, (vec![1004, 1002, 1001], 3));
    s.scope = SearchScope::Only {
        guild: g,
        channels: vec![],
    };
    assert_eq!(found(&store, &s).await, (vec![], 0));
    s.scope = SearchScope::Guild(g);
    // Pages and orders; the total stays the whole count.
    s.limit = 2;
    s.offset = 1;
    assert_eq!(found(&store, &s).await, (vec![1003, 1002], 4));
    s.order = SearchOrder::Oldest;
    assert_eq!(found(&store, &s).await, (vec![1002, 1003], 4));
    s.offset = 10;
    assert_eq!(found(&store, &s).await, (vec![], 4));
    s.offset = 0;
    s.limit = 25;
    s.order = SearchOrder::MostRelevant;
    let (ids, _) = found(&store, &s).await;
    assert_eq!(
        ids.first(),
        Some(&1003),
        "two hits in a short message rank first"
    );
    assert_eq!(ids.len(), 4);
    // Pinned reads the message rows.
    ok(
        store
            .pin_message(
                ch,
                MessageId::from_i64(1001),
                Utc::now(),
                &text(1010, ch, g, alice, ""),
                250,
            )
            .await,
        "pin",
    )
    .unwrap_or_else(|r| panic!("pin refused: {r:?}"));
    s.order = SearchOrder::Newest;
    s.pinned = Some(true);
    assert_eq!(found(&store, &s).await, (vec![1001], 1));
    s.pinned = Some(false);
    assert_eq!(found(&store, &s).await, (vec![1004, 1003, 1002], 3));
    // No text: filters alone.
    let mut s = search(g, "");
    s.authors = vec![alice];
    assert_eq!(found(&store, &s).await.0, vec![1010, 1003, 1001]);
}

/// Counting stops at `count_cap`: up to it the total is exact, beyond it the
/// total is the cap and marked inexact; the page and the scope stay exact.
pub async fn search_counts_up_to_cap(store: DynStore) {
    let (alice, _bob, g, ch) = setup(&store).await;
    let other = ChannelId::from_i64(102);
    for i in 0..5 {
        put(&store, text(2001 + i, ch, g, alice, "capped word")).await;
    }
    for i in 0..3 {
        put(&store, text(2101 + i, other, g, alice, "capped word")).await;
    }
    let mut s = search(g, "capped word");
    let page = ok(store.search_messages(&s).await, "search");
    assert_eq!((page.total, page.total_exact), (8, true));
    for (cap, want) in [
        (8, (8, true)),
        (7, (7, false)),
        (3, (3, false)),
        (0, (0, false)),
    ] {
        s.count_cap = cap;
        s.limit = 4;
        let page = ok(store.search_messages(&s).await, "search");
        assert_eq!((page.total, page.total_exact), want, "cap {cap}");
        let ids: Vec<i64> = page.messages.iter().map(|m| m.id.as_i64()).collect();
        assert_eq!(
            ids,
            vec![2103, 2102, 2101, 2005],
            "page is whole, cap {cap}"
        );
    }
    // Only channels in scope are counted, even near the cap.
    s.scope = SearchScope::Only {
        guild: g,
        channels: vec![ch],
    };
    s.count_cap = 5;
    let page = ok(store.search_messages(&s).await, "search");
    assert_eq!((page.total, page.total_exact), (5, true));
    s.count_cap = 4;
    s.offset = 4;
    let page = ok(store.search_messages(&s).await, "search");
    assert_eq!((page.total, page.total_exact), (4, false));
    let ids: Vec<i64> = page.messages.iter().map(|m| m.id.as_i64()).collect();
    assert_eq!(ids, vec![2001], "pages past the cap are still served");
}

/// Edits replace what the index holds; every kind of delete removes it (one,
/// bulk, an author's purge, a channel delete, a guild delete).
pub async fn search_follows_edits_and_deletes(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    let voice = ChannelId::from_i64(102);
    for id in 1001..=1005 {
        put(&store, text(id, ch, g, alice, "apple pie")).await;
    }
    put(&store, text(1006, ch, g, bob, "apple tart")).await;
    put(&store, text(1007, voice, g, bob, "apple juice")).await;
    let patch = MessagePatch {
        content: Some("banana bread".into()),
        edited_at: Some(Utc::now()),
        ..MessagePatch::default()
    };
    ok(
        store
            .update_message(ch, MessageId::from_i64(1001), &patch)
            .await,
        "edit",
    );
    assert_eq!(found(&store, &search(g, "banana")).await, (vec![1001], 1));
    assert_eq!(found(&store, &search(g, "apple")).await.1, 6);

    ok(
        store.delete_message(ch, MessageId::from_i64(1002)).await,
        "delete",
    );
    let ids = [1003, 1004].map(MessageId::from_i64);
    ok(store.delete_messages(ch, &ids).await, "bulk delete");
    assert_eq!(
        found(&store, &search(g, "apple")).await,
        (vec![1007, 1006, 1005], 3)
    );
    ok(
        store
            .delete_author_messages_since(g, bob, MessageId::from_i64(1006))
            .await,
        "purge",
    );
    assert_eq!(found(&store, &search(g, "apple")).await, (vec![1005], 1));

    put(&store, text(1008, voice, g, alice, "cherry")).await;
    let v = ok(store.channel_layout(g).await, "layout").version;
    ok(
        store.delete_channels(g, &[voice], v, &[]).await,
        "delete channel",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(found(&store, &search(g, "cherry")).await, (vec![], 0));
    ok(store.delete_guild(g).await, "delete guild");
    assert_eq!(found(&store, &search(g, "")).await, (vec![], 0));
}

/// A cleared index finds nothing; a rebuild in batches finds everything again.
pub async fn search_reindex_rebuilds(store: DynStore) {
    let (alice, _bob, g, ch) = setup(&store).await;
    for id in 1001..=1005 {
        put(&store, text(id, ch, g, alice, &format!("word{id} common"))).await;
    }
    assert_eq!(ok(store.count_messages().await, "count"), 5);
    ok(store.clear_search_index().await, "clear");
    assert_eq!(found(&store, &search(g, "common")).await.1, 0);
    let mut after = None;
    let mut batches = 0;
    while let Some(last) = ok(store.reindex_messages(after, 2).await, "batch") {
        after = Some(last);
        batches += 1;
    }
    assert_eq!(batches, 3);
    assert_eq!(found(&store, &search(g, "common")).await.1, 5);
    assert_eq!(found(&store, &search(g, "word1003")).await, (vec![1003], 1));
    // Reindexing what is indexed changes nothing.
    ok(store.reindex_messages(None, 100).await, "again");
    assert_eq!(found(&store, &search(g, "common")).await.1, 5);
}
