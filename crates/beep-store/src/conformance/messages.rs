//! Conformance cases of `MessageStore`, `PinStore`, `ReactionStore` and
//! `ReadStateStore`.

use beep_types::{ChannelId, GuildId, MessageId, Permissions, RoleId, UserId};
use chrono::{Duration, Utc};

use super::guilds::{guild, join, new_role, user};
use super::{assert_not_found, ok};
use crate::messages::{EmojiKey, MentionSet, MessagePatch, MessageRef, NewMessage, Page};
use crate::{DynStore, MemberPatch, Refusal};

/// A plain message `id` by `author` in `channel` of `guild`.
pub(crate) fn new_message(
    id: i64,
    channel: ChannelId,
    guild: GuildId,
    author: UserId,
) -> NewMessage {
    NewMessage {
        id: MessageId::from_i64(id),
        channel_id: channel,
        guild_id: Some(guild),
        author_id: author,
        webhook_id: None,
        application_id: None,
        kind: 0,
        content: format!("message {id}"),
        flags: 0,
        tts: false,
        nonce: None,
        mention_everyone: false,
        mention_users: vec![],
        mention_roles: vec![],
        mention_channels: vec![],
        reference: None,
        embeds: "[]".into(),
        author_name: None,
        author_avatar: None,
        attachments: "[]".into(),
        mention_targets: vec![],
    }
}

/// Alice (1) owning guild 100 (text channel 101, voice channel 102), and Bob (2)
/// a member of it.
pub(crate) async fn setup(store: &DynStore) -> (UserId, UserId, GuildId, ChannelId) {
    let alice = user(store, 1, "alice").await;
    let bob = user(store, 2, "bob").await;
    let g = guild(store, 100, alice, "hall").await;
    join(store, g.id, bob).await;
    (alice, bob, g.id, ChannelId::from_i64(101))
}

/// Insert `n` messages with ids `first..first + n` by `author`.
async fn fill(store: &DynStore, first: i64, n: i64, ch: ChannelId, g: GuildId, author: UserId) {
    for id in first..first + n {
        ok(
            store
                .insert_message(&new_message(id, ch, g, author), None)
                .await,
            "insert message",
        );
    }
}

fn ids(page: &[crate::messages::MessageRecord]) -> Vec<i64> {
    page.iter().map(|m| m.id.as_i64()).collect()
}

/// A message reads back as written, with its author, mentions, reference and
/// embeds; a message of another channel is not found through this one.
pub async fn messages_insert_and_read(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    let mut m = new_message(1000, ch, g, alice);
    m.content = "hi <@2> 🦀".into();
    m.nonce = Some("\"n-1\"".into());
    m.mention_users = vec![bob];
    m.mention_roles = vec![RoleId::from_i64(555)];
    m.mention_channels = vec![ChannelId::from_i64(102)];
    m.mention_everyone = true;
    m.mention_targets = vec![bob.as_i64(), g.as_i64()];
    m.embeds = r#"[{"title":"t"}]"#.into();
    m.attachments = r#"[{"id":"7"}]"#.into();
    m.tts = true;
    m.flags = 4;
    let (stored, created) = ok(store.insert_message(&m, None).await, "insert");
    assert!(created);
    assert_eq!(stored.id, m.id);
    assert_eq!(stored.content, "hi <@2> 🦀");
    assert_eq!(stored.nonce.as_deref(), Some("\"n-1\""));
    assert_eq!(stored.mention_users, vec![bob]);
    assert_eq!(stored.mention_roles, vec![RoleId::from_i64(555)]);
    assert_eq!(stored.mention_channels, vec![ChannelId::from_i64(102)]);
    assert!(stored.mention_everyone && stored.tts);
    assert_eq!(stored.flags, 4);
    assert_eq!(stored.embeds, r#"[{"title":"t"}]"#);
    assert_eq!(stored.attachments, r#"[{"id":"7"}]"#);
    assert_eq!(stored.edited_at, None);
    assert_eq!(stored.pinned_at, None);
    let author = stored
        .author
        .clone()
        .unwrap_or_else(|| panic!("author joined"));
    assert_eq!(author.id, alice);
    assert_eq!(author.username, "alice");

    let mut reply = new_message(1001, ch, g, bob);
    reply.kind = 19;
    reply.reference = Some(MessageRef {
        message_id: m.id,
        channel_id: ch,
        guild_id: Some(g),
    });
    let (reply, _) = ok(store.insert_message(&reply, None).await, "insert reply");
    assert_eq!(reply.kind, 19);
    assert_eq!(reply.reference.map(|r| r.message_id), Some(m.id));
    assert_eq!(reply.reference.and_then(|r| r.guild_id), Some(g));

    let read = ok(store.message(ch, m.id).await, "read");
    assert_eq!(read.as_ref(), Some(&stored));
    assert_eq!(
        ok(
            store.message(ChannelId::from_i64(102), m.id).await,
            "other channel"
        ),
        None,
        "a message is only found through its own channel"
    );
    assert_eq!(
        ok(store.message(ch, MessageId::from_i64(9)).await, "missing"),
        None
    );

    let mut found = ids(&ok(
        store
            .messages_by_ids(&[m.id, reply.id, MessageId::from_i64(9)])
            .await,
        "by ids",
    ));
    found.sort_unstable();
    assert_eq!(found, vec![1000, 1001]);
    assert!(ok(store.messages_by_ids(&[]).await, "no ids").is_empty());

    let mut users: Vec<_> = ok(
        store
            .user_summaries(&[alice, bob, UserId::from_i64(77)])
            .await,
        "summaries",
    )
    .into_iter()
    .map(|u| u.username)
    .collect();
    users.sort();
    assert_eq!(users, vec!["alice", "bob"]);

    assert_not_found(
        store
            .insert_message(&new_message(1002, ChannelId::from_i64(999), g, alice), None)
            .await,
        "a message in a missing channel",
    );
    // A message outlives its author's account.
    let carol = user(&store, 3, "carol").await;
    join(&store, g, carol).await;
    ok(
        store
            .insert_message(&new_message(1003, ch, g, carol), None)
            .await,
        "carol writes",
    );
    ok(store.remove_member(g, carol, &[]).await, "carol leaves");
    ok(store.delete_user(carol).await, "carol's account goes");
    let orphan = ok(store.message(ch, MessageId::from_i64(1003)).await, "orphan")
        .unwrap_or_else(|| panic!("the message stays"));
    assert_eq!(orphan.author, None);
    assert_eq!(orphan.author_id, carol);
}

/// Pages are newest first; `before`, `after` and `around` cut the history at a
/// message whether or not it exists.
pub async fn messages_pages(store: DynStore) {
    let (alice, _, g, ch) = setup(&store).await;
    fill(&store, 1000, 10, ch, g, alice).await;
    let other = ChannelId::from_i64(102);
    fill(&store, 2000, 3, other, g, alice).await;

    let page = |p, n| {
        let store = store.clone();
        async move { ids(&ok(store.messages_page(ch, p, n).await, "page")) }
    };
    assert_eq!(page(Page::Latest, 3).await, vec![1009, 1008, 1007]);
    assert_eq!(page(Page::Latest, 100).await.len(), 10);
    assert_eq!(
        page(Page::Before(MessageId::from_i64(1005)), 3).await,
        vec![1004, 1003, 1002]
    );
    assert_eq!(
        page(Page::Before(MessageId::from_i64(1001)), 50).await,
        vec![1000]
    );
    assert_eq!(
        page(Page::After(MessageId::from_i64(1005)), 2).await,
        vec![1007, 1006],
        "after: the messages right after, newest first"
    );
    assert_eq!(
        page(Page::After(MessageId::from_i64(1)), 3).await,
        vec![1002, 1001, 1000]
    );
    assert_eq!(
        page(Page::Around(MessageId::from_i64(1005)), 5).await,
        vec![1007, 1006, 1005, 1004, 1003]
    );
    assert_eq!(
        page(Page::Around(MessageId::from_i64(1005)), 4).await,
        vec![1006, 1005, 1004, 1003]
    );
    assert_eq!(
        page(Page::Around(MessageId::from_i64(1000)), 4).await,
        vec![1001, 1000],
        "around the oldest: nothing older to add"
    );
    assert_eq!(
        page(Page::Around(MessageId::from_i64(1009)), 1).await,
        vec![1009]
    );
    assert_eq!(
        ok(store.last_message_id(ch).await, "last"),
        Some(MessageId::from_i64(1009))
    );
    assert_eq!(
        ok(
            store.last_message_id(ChannelId::from_i64(103)).await,
            "none"
        ),
        None
    );
    assert_eq!(
        ids(&ok(
            store.messages_page(other, Page::Latest, 50).await,
            "other"
        )),
        vec![2002, 2001, 2000],
        "pages never cross channels"
    );
}

/// With a window, a repeated nonce from the same author in the same channel
/// returns the first message; outside it, or from another author, it does not.
pub async fn messages_nonce_replay(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    let mut m = new_message(1000, ch, g, alice);
    m.nonce = Some("\"abc\"".into());
    let since = Some(MessageId::from_i64(1));
    let (first, created) = ok(store.insert_message(&m, since).await, "first");
    assert!(created);

    let mut again = new_message(1001, ch, g, alice);
    again.nonce = Some("\"abc\"".into());
    let (replayed, created) = ok(store.insert_message(&again, since).await, "replay");
    assert!(!created, "a replay creates nothing");
    assert_eq!(replayed, first);
    assert_eq!(ok(store.message(ch, again.id).await, "not stored"), None);

    let (_, created) = ok(
        store
            .insert_message(&again, Some(MessageId::from_i64(1000 + 1)))
            .await,
        "outside the window",
    );
    assert!(created, "an old message does not count");

    let mut bobs = new_message(1002, ch, g, bob);
    bobs.nonce = Some("\"abc\"".into());
    let (_, created) = ok(store.insert_message(&bobs, since).await, "bob");
    assert!(created, "nonces are per author");

    let mut unenforced = new_message(1003, ch, g, alice);
    unenforced.nonce = Some("\"abc\"".into());
    let (_, created) = ok(
        store.insert_message(&unenforced, None).await,
        "not enforced",
    );
    assert!(created);
}

/// Of many concurrent sends with one nonce, exactly one creates a message and
/// every caller gets that message.
pub async fn messages_nonce_replay_is_atomic(store: DynStore) {
    let (alice, _, g, ch) = setup(&store).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut m = new_message(5000 + i, ch, g, alice);
            m.nonce = Some("42".into());
            store.insert_message(&m, Some(MessageId::from_i64(1))).await
        }));
    }
    let mut created = 0;
    let mut seen = Vec::new();
    for t in tasks {
        let (m, c) = ok(
            t.await.unwrap_or_else(|e| panic!("task: {e}")),
            "concurrent send",
        );
        created += usize::from(c);
        seen.push(m.id);
    }
    assert_eq!(created, 1, "exactly one send inserts");
    seen.dedup();
    assert_eq!(seen.len(), 1, "everyone gets the same message: {seen:?}");
    assert_eq!(
        ok(store.messages_page(ch, Page::Latest, 50).await, "page").len(),
        1
    );
}

/// Edits change content, embeds, flags and mentions; deletes take reactions
/// and mention rows along; a bulk delete skips what is not in the channel.
pub async fn messages_update_and_delete(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    fill(&store, 1000, 5, ch, g, alice).await;
    let id = MessageId::from_i64(1000);
    let at = Utc::now();
    let patch = MessagePatch {
        content: Some("edited <@2>".into()),
        embeds: Some("[]".into()),
        flags: Some(4),
        mentions: Some(MentionSet {
            everyone: false,
            users: vec![bob],
            roles: vec![],
            channels: vec![],
            targets: vec![bob.as_i64()],
        }),
        edited_at: Some(at),
    };
    let edited =
        ok(store.update_message(ch, id, &patch).await, "edit").unwrap_or_else(|| panic!("edited"));
    assert_eq!(edited.content, "edited <@2>");
    assert_eq!(edited.flags, 4);
    assert_eq!(edited.mention_users, vec![bob]);
    assert_eq!(
        edited.edited_at.map(|t| t.timestamp_millis()),
        Some(at.timestamp_millis())
    );
    let untouched = ok(
        store
            .update_message(
                ch,
                id,
                &MessagePatch {
                    flags: Some(0),
                    ..Default::default()
                },
            )
            .await,
        "flags only",
    )
    .unwrap_or_else(|| panic!("edited"));
    assert_eq!(untouched.content, "edited <@2>", "absent fields stay");
    assert_eq!(
        ok(
            store
                .update_message(ChannelId::from_i64(102), id, &patch)
                .await,
            "wrong channel"
        ),
        None
    );

    // Bob reads nothing yet; the mention counts.
    ok(
        store
            .ack(bob, ch, MessageId::from_i64(999), false, Utc::now())
            .await,
        "bob acks the start",
    );
    let emoji = EmojiKey {
        key: "🔥".into(),
        id: None,
        name: "🔥".into(),
        animated: false,
    };
    let added = ok(store.add_reaction(ch, id, &emoji, bob, 20).await, "react");
    assert_eq!(added, Ok(true));
    let states = ok(store.read_states(bob).await, "states");
    assert_eq!(states[0].mention_count, 1);

    let deleted = ok(store.delete_message(ch, id).await, "delete");
    assert_eq!(deleted.map(|m| m.id), Some(id));
    assert_eq!(ok(store.message(ch, id).await, "gone"), None);
    assert_eq!(ok(store.delete_message(ch, id).await, "again"), None);
    let states = ok(store.read_states(bob).await, "states");
    assert_eq!(
        states[0].mention_count, 0,
        "mention rows go with the message"
    );
    assert!(
        ok(store.reaction_counts(ch, id, id, bob).await, "counts").is_empty(),
        "reactions go with the message"
    );

    let bulk = [1001, 1002, 1003, 424242].map(MessageId::from_i64);
    let mut gone = ok(store.delete_messages(ch, &bulk).await, "bulk");
    gone.sort_unstable();
    assert_eq!(gone, bulk[..3].to_vec());
    assert_eq!(
        ids(&ok(store.messages_page(ch, Page::Latest, 50).await, "left")),
        vec![1004]
    );
    let none = ok(
        store
            .delete_messages(ChannelId::from_i64(102), &[MessageId::from_i64(1004)])
            .await,
        "other channel",
    );
    assert!(none.is_empty(), "ids of another channel are skipped");
}

/// Pins: a notice is written with each pin, the limit holds, a repeated pin
/// changes nothing, unpinning works, pins list newest first.
pub async fn pins_limit_and_notice(store: DynStore) {
    let (alice, _, g, ch) = setup(&store).await;
    fill(&store, 1000, 4, ch, g, alice).await;
    let notice = |id: i64, target: i64| {
        let mut n = new_message(id, ch, g, alice);
        n.kind = 6;
        n.content = String::new();
        n.reference = Some(MessageRef {
            message_id: MessageId::from_i64(target),
            channel_id: ch,
            guild_id: Some(g),
        });
        n
    };
    let t0 = Utc::now() - Duration::seconds(10);
    let pinned = ok(
        store
            .pin_message(ch, MessageId::from_i64(1000), t0, &notice(2000, 1000), 2)
            .await,
        "pin",
    );
    let n = pinned
        .unwrap_or_else(|r| panic!("refused {r:?}"))
        .unwrap_or_else(|| panic!("a notice"));
    assert_eq!(n.kind, 6);
    assert_eq!(
        n.reference.map(|r| r.message_id),
        Some(MessageId::from_i64(1000))
    );
    let again = ok(
        store
            .pin_message(ch, MessageId::from_i64(1000), t0, &notice(2001, 1000), 2)
            .await,
        "pin again",
    );
    assert_eq!(again, Ok(None), "already pinned: nothing written");
    assert_eq!(
        ok(
            store.message(ch, MessageId::from_i64(2001)).await,
            "no notice"
        ),
        None
    );
    let t1 = t0 + Duration::seconds(1);
    ok(
        store
            .pin_message(ch, MessageId::from_i64(1001), t1, &notice(2002, 1001), 2)
            .await,
        "second pin",
    )
    .unwrap_or_else(|r| panic!("refused {r:?}"));
    let full = ok(
        store
            .pin_message(ch, MessageId::from_i64(1002), t1, &notice(2003, 1002), 2)
            .await,
        "third pin",
    );
    assert_eq!(full, Err(Refusal::LimitReached));
    assert_eq!(
        ok(
            store.message(ch, MessageId::from_i64(2003)).await,
            "no notice"
        ),
        None,
        "a refused pin writes no notice"
    );
    assert_not_found(
        store
            .pin_message(ch, MessageId::from_i64(9), t1, &notice(2004, 9), 2)
            .await,
        "pin a missing message",
    );

    let list = ok(store.pinned_messages(ch, None, 50).await, "pins");
    assert_eq!(ids(&list), vec![1001, 1000], "newest pin first");
    assert_eq!(
        list[0].pinned_at.map(|t| t.timestamp_millis()),
        Some(t1.timestamp_millis())
    );
    let older = ok(store.pinned_messages(ch, Some(t1), 50).await, "before");
    assert_eq!(ids(&older), vec![1000]);
    assert_eq!(
        ok(store.last_pin_at(ch).await, "last pin").map(|t| t.timestamp_millis()),
        Some(t1.timestamp_millis())
    );

    assert!(ok(
        store.unpin_message(ch, MessageId::from_i64(1001)).await,
        "unpin"
    ));
    assert!(!ok(
        store.unpin_message(ch, MessageId::from_i64(1001)).await,
        "unpin again"
    ));
    assert_not_found(
        store.unpin_message(ch, MessageId::from_i64(9)).await,
        "unpin a missing message",
    );
    assert_eq!(
        ids(&ok(store.pinned_messages(ch, None, 50).await, "pins")),
        vec![1000]
    );
}

/// Reactions: add once per user and emoji, a limit on distinct emojis, counts
/// with `me`, users by id, and the three ways to remove.
pub async fn reactions_lifecycle(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    fill(&store, 1000, 2, ch, g, alice).await;
    let m = MessageId::from_i64(1000);
    let fire = EmojiKey {
        key: "🔥".into(),
        id: None,
        name: "🔥".into(),
        animated: false,
    };
    let custom = EmojiKey {
        key: "77".into(),
        id: Some(77),
        name: "blob".into(),
        animated: true,
    };
    let third = EmojiKey {
        key: "👍".into(),
        id: None,
        name: "👍".into(),
        animated: false,
    };

    assert_eq!(
        ok(store.add_reaction(ch, m, &fire, alice, 2).await, "add"),
        Ok(true)
    );
    assert_eq!(
        ok(store.add_reaction(ch, m, &fire, alice, 2).await, "twice"),
        Ok(false)
    );
    assert_eq!(
        ok(store.add_reaction(ch, m, &fire, bob, 2).await, "bob"),
        Ok(true)
    );
    assert_eq!(
        ok(store.add_reaction(ch, m, &custom, bob, 2).await, "custom"),
        Ok(true)
    );
    assert_eq!(
        ok(
            store.add_reaction(ch, m, &third, bob, 2).await,
            "third emoji"
        ),
        Err(Refusal::LimitReached)
    );
    assert_not_found(
        store
            .add_reaction(ch, MessageId::from_i64(9), &fire, bob, 2)
            .await,
        "react to a missing message",
    );
    assert_not_found(
        store
            .add_reaction(ChannelId::from_i64(102), m, &fire, bob, 2)
            .await,
        "react through another channel",
    );

    let counts = ok(
        store
            .reaction_counts(
                ch,
                MessageId::from_i64(1000),
                MessageId::from_i64(1001),
                alice,
            )
            .await,
        "counts",
    );
    assert_eq!(counts.len(), 2);
    assert_eq!(counts[0].emoji, fire, "first used first");
    assert_eq!((counts[0].count, counts[0].me), (2, true));
    assert_eq!(counts[1].emoji, custom);
    assert_eq!((counts[1].count, counts[1].me), (1, false));

    let users = ok(store.reaction_users(ch, m, "🔥", None, 10).await, "users");
    assert_eq!(
        users.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![alice, bob]
    );
    let after = ok(
        store.reaction_users(ch, m, "🔥", Some(alice), 10).await,
        "after",
    );
    assert_eq!(after.iter().map(|u| u.id).collect::<Vec<_>>(), vec![bob]);
    let one = ok(store.reaction_users(ch, m, "🔥", None, 1).await, "limit");
    assert_eq!(one.len(), 1);

    assert!(ok(
        store.remove_reaction(ch, m, "🔥", alice).await,
        "remove"
    ));
    assert!(!ok(
        store.remove_reaction(ch, m, "🔥", alice).await,
        "remove again"
    ));
    assert_eq!(
        ok(store.remove_emoji_reactions(ch, m, "77").await, "emoji"),
        1
    );
    assert_eq!(
        ok(
            store.add_reaction(ch, m, &third, alice, 2).await,
            "room again"
        ),
        Ok(true)
    );
    assert_eq!(ok(store.remove_all_reactions(ch, m).await, "all"), 2);
    assert!(ok(store.reaction_counts(ch, m, m, alice).await, "none").is_empty());
}

/// Read states: acks move forward only unless manual; unread and mention counts
/// (direct, role, everyone; never one's own) count after the read position; a
/// guild the user left is not listed.
pub async fn read_states_counts(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    let role = new_role(300, 100, "ops", Permissions::NONE);
    ok(store.create_role(&role, 100, &[]).await, "role")
        .unwrap_or_else(|r| panic!("refused {r:?}"));
    let patch = MemberPatch {
        roles: Some(vec![RoleId::from_i64(300)]),
        ..Default::default()
    };
    ok(
        store.update_member(g, bob, &patch, &[]).await,
        "bob gets ops",
    );

    let at = Utc::now();
    assert_eq!(
        ok(
            store
                .ack(bob, ch, MessageId::from_i64(900), false, at)
                .await,
            "ack"
        ),
        MessageId::from_i64(900)
    );
    fill(&store, 1000, 3, ch, g, alice).await;
    let mention = |id: i64, targets: Vec<i64>, author: UserId| {
        let mut m = new_message(id, ch, g, author);
        m.mention_targets = targets;
        m
    };
    for m in [
        mention(1003, vec![bob.as_i64()], alice),
        mention(1004, vec![300], alice),
        mention(1005, vec![g.as_i64(), bob.as_i64()], alice),
        mention(1006, vec![alice.as_i64()], alice),
    ] {
        ok(store.insert_message(&m, None).await, "mention");
    }
    let states = ok(store.read_states(bob).await, "bob's states");
    assert_eq!(states.len(), 1);
    let s = &states[0];
    assert_eq!(s.channel_id, ch);
    assert_eq!(s.guild_id, Some(g));
    assert_eq!(s.last_message_id, MessageId::from_i64(900));
    assert_eq!(s.unread_count, 7);
    assert_eq!(
        s.mention_count, 3,
        "user, role and everyone, each message once"
    );
    assert_eq!(s.channel_last_message_id, Some(MessageId::from_i64(1006)));
    assert_eq!(s.last_pin_at, None);

    assert_eq!(
        ok(
            store
                .ack(bob, ch, MessageId::from_i64(1004), false, at)
                .await,
            "forward"
        ),
        MessageId::from_i64(1004)
    );
    assert_eq!(
        ok(
            store
                .ack(bob, ch, MessageId::from_i64(1000), false, at)
                .await,
            "back"
        ),
        MessageId::from_i64(1004),
        "a normal ack never moves back"
    );
    let s = &ok(store.read_states(bob).await, "states")[0];
    assert_eq!((s.unread_count, s.mention_count), (2, 1));
    assert_eq!(
        ok(
            store
                .ack(bob, ch, MessageId::from_i64(1002), true, at)
                .await,
            "manual"
        ),
        MessageId::from_i64(1002),
        "a manual ack marks unread"
    );
    let s = &ok(store.read_states(bob).await, "states")[0];
    assert_eq!((s.unread_count, s.mention_count), (4, 3));

    // Sending moves the author's own read state.
    let alice_states = ok(store.read_states(alice).await, "alice's states");
    assert_eq!(alice_states[0].last_message_id, MessageId::from_i64(1006));
    assert_eq!(
        alice_states[0].mention_count, 0,
        "one's own mentions never count"
    );

    assert_not_found(
        store
            .ack(
                bob,
                ChannelId::from_i64(999),
                MessageId::from_i64(1),
                false,
                at,
            )
            .await,
        "ack a missing channel",
    );
    ok(store.remove_member(g, bob, &[]).await, "bob leaves");
    assert!(
        ok(store.read_states(bob).await, "after leaving").is_empty(),
        "a guild left is not listed"
    );
}

/// A ban's message purge removes exactly the author's messages from the bound on,
/// in every channel of the guild, with their reactions.
pub async fn messages_purge_author_since(store: DynStore) {
    let (alice, bob, g, ch) = setup(&store).await;
    let voice = ChannelId::from_i64(102);
    fill(&store, 1000, 3, ch, g, alice).await;
    fill(&store, 2000, 3, ch, g, bob).await;
    fill(&store, 3000, 1, voice, g, bob).await;
    let gone = ok(
        store
            .delete_author_messages_since(g, bob, MessageId::from_i64(2001))
            .await,
        "purge",
    );
    let got: Vec<(i64, i64)> = gone.iter().map(|(c, m)| (c.as_i64(), m.as_i64())).collect();
    assert_eq!(got, vec![(101, 2001), (101, 2002), (102, 3000)]);
    for (c, m, kept) in [
        (ch, 2000, true),
        (ch, 2001, false),
        (ch, 1002, true),
        (voice, 3000, false),
    ] {
        let found = ok(store.message(c, MessageId::from_i64(m)).await, "read").is_some();
        assert_eq!(found, kept, "message {m}");
    }
    let again = ok(
        store
            .delete_author_messages_since(g, bob, MessageId::from_i64(0))
            .await,
        "purge again",
    );
    assert_eq!(again.len(), 1, "only the older message is left");
    let none = ok(
        store
            .delete_author_messages_since(GuildId::from_i64(999), alice, MessageId::from_i64(0))
            .await,
        "other guild",
    );
    assert!(none.is_empty(), "another guild's purge touches nothing");
}
