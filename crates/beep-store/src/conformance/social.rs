//! Conformance cases of `RelationshipStore`, `PrivateChannelStore` and `PhoneStore`.

use beep_types::{ChannelId, GuildId, MessageId, UserId};

use super::guilds::user;
use super::messages::new_message;
use super::{assert_not_found, ok};
use crate::social::{GroupPatch, NewGroup, RecipientRemoval, RelationshipChange, RelationshipKind};
use crate::{DynStore, Refusal};

use RelationshipKind::{Blocked, Friend, Incoming, Outgoing};

fn change(
    a: UserId,
    b: UserId,
    expected: (Option<RelationshipKind>, Option<RelationshipKind>),
    new: (Option<RelationshipKind>, Option<RelationshipKind>),
) -> RelationshipChange {
    RelationshipChange {
        a,
        b,
        expected,
        new,
        max_per_user: 100,
        erase_dm: false,
    }
}

/// A message of a private channel (no guild).
async fn dm_message(store: &DynStore, id: i64, channel: ChannelId, author: UserId) {
    let mut m = new_message(id, channel, GuildId::from_i64(1), author);
    m.guild_id = None;
    ok(store.insert_message(&m, None).await, "insert DM message");
}

/// Both rows change together, only from the state the caller read; friends,
/// blocks (either way) and the listing follow.
pub async fn relationships_compare_and_set(store: DynStore) {
    let a = user(&store, 1, "alice").await;
    let b = user(&store, 2, "bob").await;
    let c = user(&store, 3, "carol").await;
    let r = ok(
        store
            .change_relationship(&change(
                a,
                b,
                (None, None),
                (Some(Outgoing), Some(Incoming)),
            ))
            .await,
        "request",
    );
    assert_eq!(r, Ok(Default::default()));
    assert_eq!(ok(store.relationship(a, b).await, "mine"), Some(Outgoing));
    assert_eq!(ok(store.relationship(b, a).await, "theirs"), Some(Incoming));
    assert_eq!(
        ok(store.relationship_pair(b, a).await, "pair"),
        (Some(Incoming), Some(Outgoing))
    );
    // A caller that read an older state is refused and nothing changes.
    assert_eq!(
        ok(
            store
                .change_relationship(&change(a, b, (None, None), (Some(Blocked), None)))
                .await,
            "stale"
        ),
        Err(Refusal::Stale)
    );
    assert_eq!(
        ok(store.relationship(a, b).await, "unchanged"),
        Some(Outgoing)
    );
    ok(
        store
            .change_relationship(&change(
                b,
                a,
                (Some(Incoming), Some(Outgoing)),
                (Some(Friend), Some(Friend)),
            ))
            .await,
        "accept",
    )
    .expect("accepted");
    assert_eq!(ok(store.friends(a).await, "friends"), vec![b]);
    assert_eq!(ok(store.friends(b).await, "friends"), vec![a]);
    let list = ok(store.relationships(a).await, "list");
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].target.id, list[0].kind), (b, Friend));
    assert_eq!(list[0].target.username, "bob");
    assert!(!ok(store.is_blocked(a, b).await, "not blocked"));

    // C blocks A: blocked either way, and A's list does not show it.
    ok(
        store
            .change_relationship(&change(c, a, (None, None), (Some(Blocked), None)))
            .await,
        "block",
    )
    .expect("blocked");
    assert!(ok(store.is_blocked(a, c).await, "blocked"));
    assert!(ok(store.is_blocked(c, a).await, "blocked"));
    assert_eq!(ok(store.relationships(a).await, "list").len(), 1);
    assert_eq!(ok(store.relationship(a, c).await, "none"), None);
    // Removing both rows.
    ok(
        store
            .change_relationship(&change(a, b, (Some(Friend), Some(Friend)), (None, None)))
            .await,
        "unfriend",
    )
    .expect("removed");
    assert!(ok(store.friends(a).await, "friends").is_empty());
    assert_not_found(
        store
            .change_relationship(&change(
                a,
                UserId::from_i64(99),
                (None, None),
                (Some(Outgoing), Some(Incoming)),
            ))
            .await,
        "unknown user",
    );
}

/// A user who would gain a row past the limit is refused, and nothing is written.
pub async fn relationships_limit_per_user(store: DynStore) {
    let a = user(&store, 1, "alice").await;
    let b = user(&store, 2, "bob").await;
    let c = user(&store, 3, "carol").await;
    let mut ch = change(a, b, (None, None), (Some(Outgoing), Some(Incoming)));
    ch.max_per_user = 1;
    ok(store.change_relationship(&ch).await, "first").expect("fits");
    let mut ch = change(c, a, (None, None), (Some(Outgoing), Some(Incoming)));
    ch.max_per_user = 1;
    assert_eq!(
        ok(store.change_relationship(&ch).await, "second"),
        Err(Refusal::LimitReached)
    );
    assert_eq!(ok(store.relationship(c, a).await, "nothing written"), None);
    // Changing an existing row is not a new one.
    let mut ch = change(
        a,
        b,
        (Some(Outgoing), Some(Incoming)),
        (Some(Blocked), None),
    );
    ch.max_per_user = 1;
    ok(store.change_relationship(&ch).await, "block").expect("fits");
}

/// Ending a friendship with `erase_dm` deletes the pair's DM and its messages.
pub async fn relationships_erase_dm(store: DynStore) {
    let a = user(&store, 1, "alice").await;
    let b = user(&store, 2, "bob").await;
    ok(
        store
            .change_relationship(&change(a, b, (None, None), (Some(Friend), Some(Friend))))
            .await,
        "friends",
    )
    .expect("friends");
    let dm = ChannelId::from_i64(500);
    ok(store.open_dm(dm, a, b).await, "open");
    dm_message(&store, 1000, dm, a).await;
    let mut ch = change(a, b, (Some(Friend), Some(Friend)), (None, None));
    ch.erase_dm = true;
    let out = ok(store.change_relationship(&ch).await, "unfriend").expect("done");
    assert_eq!(out.erased_dm, Some(dm));
    assert!(ok(store.private_channel(dm).await, "gone").is_none());
    assert!(ok(store.message(dm, MessageId::from_i64(1000)).await, "gone").is_none());
    assert!(ok(store.direct_messages(a, None, 10).await, "index").is_empty());
    assert_eq!(ok(store.dm_between(a, b).await, "no DM"), None);
}

/// DMs are one per pair; groups keep a member limit, pass ownership on and
/// disappear with their last member; closing hides a channel until a newer
/// message; pins are per user.
pub async fn private_channels_lifecycle(store: DynStore) {
    let a = user(&store, 1, "alice").await;
    let b = user(&store, 2, "bob").await;
    let c = user(&store, 3, "carol").await;
    let d = user(&store, 4, "dave").await;
    let (dm, created) = ok(store.open_dm(ChannelId::from_i64(500), a, b).await, "open");
    assert!(created);
    assert_eq!((dm.kind, dm.recipient_ids()), (1, vec![a, b]));
    let (again, created) = ok(store.open_dm(ChannelId::from_i64(501), b, a).await, "again");
    assert!(!created);
    assert_eq!(again.id, dm.id);
    assert_eq!(ok(store.dm_between(b, a).await, "between"), Some(dm.id));
    assert_eq!(ok(store.recipients(dm.id).await, "recipients"), vec![a, b]);
    assert!(ok(store.recipients(ChannelId::from_i64(9)).await, "none").is_empty());
    assert_not_found(
        store
            .open_dm(ChannelId::from_i64(502), a, UserId::from_i64(99))
            .await,
        "unknown user",
    );

    // Groups.
    let new = NewGroup {
        id: ChannelId::from_i64(600),
        owner_id: a,
        name: Some("crew".into()),
        icon: None,
        recipients: vec![b, c, d],
    };
    assert_eq!(
        ok(store.create_group(&new, 3).await, "too big"),
        Err(Refusal::LimitReached)
    );
    assert!(ok(store.private_channel(new.id).await, "not made").is_none());
    let new = NewGroup {
        recipients: vec![b, c],
        ..new
    };
    let g = ok(store.create_group(&new, 3).await, "group").expect("fits");
    assert_eq!(
        (g.kind, g.owner_id, g.name.as_deref()),
        (3, Some(a), Some("crew"))
    );
    assert_eq!(g.recipient_ids(), vec![a, b, c]);
    assert_eq!(
        ok(store.add_recipient(g.id, d, 3).await, "full"),
        Err(Refusal::LimitReached)
    );
    assert_eq!(
        ok(store.add_recipient(g.id, b, 3).await, "already"),
        Ok(false)
    );
    assert_not_found(store.add_recipient(dm.id, d, 10).await, "not a group");
    let renamed = ok(
        store
            .update_group(
                g.id,
                &GroupPatch {
                    name: Some(None),
                    icon: Some(Some("abc".into())),
                },
            )
            .await,
        "patch",
    )
    .expect("a group");
    assert_eq!((renamed.name, renamed.icon.as_deref()), (None, Some("abc")));
    assert!(
        ok(
            store.update_group(dm.id, &GroupPatch::default()).await,
            "dm"
        )
        .is_none()
    );

    // Listing, closing, pinning.
    let listed = ok(store.private_channels(a).await, "list");
    assert_eq!(listed.len(), 2);
    dm_message(&store, 1000, dm.id, b).await;
    assert!(ok(
        store.close_private_channel(dm.id, a, 1001).await,
        "close"
    ));
    let ids = |l: &[crate::social::PrivateChannelEntry]| -> Vec<ChannelId> {
        l.iter().map(|e| e.channel.id).collect()
    };
    assert_eq!(
        ids(&ok(store.private_channels(a).await, "closed")),
        vec![g.id]
    );
    assert_eq!(ok(store.private_channels(b).await, "other side").len(), 2);
    dm_message(&store, 1002, dm.id, b).await;
    let back = ok(store.private_channels(a).await, "back");
    let entry = back
        .iter()
        .find(|e| e.channel.id == dm.id)
        .expect("reopened");
    assert_eq!(entry.last_message_id, Some(MessageId::from_i64(1002)));
    assert_eq!(entry.channel.recipient_ids(), vec![a, b]);
    assert!(!ok(
        store.close_private_channel(dm.id, c, 1003).await,
        "not a recipient"
    ));
    assert!(ok(store.pin_private_channel(g.id, a, Some(7)).await, "pin"));
    let pinned = ok(store.private_channels(a).await, "pinned");
    let pg = pinned.iter().find(|e| e.channel.id == g.id).expect("group");
    assert_eq!(pg.pinned, Some(7));
    let for_b = ok(store.private_channels(b).await, "b");
    assert!(
        for_b.iter().all(|e| e.pinned.is_none()),
        "pins are per user"
    );

    // Leaving: ownership passes to the earliest member left; the last one out deletes.
    assert_eq!(
        ok(store.remove_recipient(g.id, d).await, "not in"),
        RecipientRemoval::NotRecipient
    );
    assert_eq!(
        ok(store.remove_recipient(g.id, a).await, "owner leaves"),
        RecipientRemoval::Removed { new_owner: Some(b) }
    );
    assert_eq!(
        ok(store.remove_recipient(g.id, c).await, "member leaves"),
        RecipientRemoval::Removed { new_owner: None }
    );
    assert_eq!(
        ok(store.remove_recipient(g.id, b).await, "last"),
        RecipientRemoval::Deleted
    );
    assert!(ok(store.private_channel(g.id).await, "deleted").is_none());
    assert!(ok(store.delete_private_channel(dm.id).await, "delete dm"));
    assert!(!ok(store.delete_private_channel(dm.id).await, "twice"));
}

/// Every message of a user's private channels, newest first, in pages; guild
/// messages are not in it; a member who leaves a group loses its messages
/// there; a deleted message leaves the index.
pub async fn direct_messages_index(store: DynStore) {
    let (a, b, g, general) = super::messages::setup(&store).await;
    let c = user(&store, 3, "carol").await;
    let (dm, _) = ok(store.open_dm(ChannelId::from_i64(500), a, b).await, "dm");
    let group = ok(
        store
            .create_group(
                &NewGroup {
                    id: ChannelId::from_i64(600),
                    owner_id: a,
                    name: None,
                    icon: None,
                    recipients: vec![c],
                },
                10,
            )
            .await,
        "group",
    )
    .expect("fits");
    dm_message(&store, 1000, dm.id, a).await;
    dm_message(&store, 1001, group.id, c).await;
    ok(
        store
            .insert_message(&new_message(1002, general, g, a), None)
            .await,
        "guild message",
    );
    dm_message(&store, 1003, dm.id, b).await;
    dm_message(&store, 1004, group.id, a).await;
    let ids = |l: Vec<crate::messages::MessageRecord>| -> Vec<i64> {
        l.iter().map(|m| m.id.as_i64()).collect()
    };
    assert_eq!(
        ids(ok(store.direct_messages(a, None, 10).await, "all")),
        vec![1004, 1003, 1001, 1000]
    );
    assert_eq!(
        ids(ok(store.direct_messages(a, None, 2).await, "page 1")),
        vec![1004, 1003]
    );
    assert_eq!(
        ids(ok(
            store
                .direct_messages(a, Some(MessageId::from_i64(1003)), 2)
                .await,
            "page 2"
        )),
        vec![1001, 1000]
    );
    assert_eq!(
        ids(ok(store.direct_messages(b, None, 10).await, "bob")),
        vec![1003, 1000]
    );
    assert_eq!(
        ids(ok(store.direct_messages(c, None, 10).await, "carol")),
        vec![1004, 1001]
    );
    let m = ok(store.direct_messages(b, None, 1).await, "one").remove(0);
    assert_eq!((m.channel_id, m.guild_id, m.author_id), (dm.id, None, b));
    // Leaving the group drops its messages from Carol's index.
    ok(store.remove_recipient(group.id, c).await, "leave");
    assert!(ok(store.direct_messages(c, None, 10).await, "left").is_empty());
    // A deleted message leaves everyone's index.
    ok(
        store.delete_message(dm.id, MessageId::from_i64(1003)).await,
        "delete",
    );
    assert_eq!(
        ids(ok(store.direct_messages(b, None, 10).await, "bob")),
        vec![1000]
    );
}

/// A number belongs to one user; only discoverable numbers find their user.
pub async fn phones_unique_and_discoverable(store: DynStore) {
    let a = user(&store, 1, "alice").await;
    let b = user(&store, 2, "bob").await;
    assert!(ok(store.phone(a).await, "none").is_none());
    assert!(!ok(
        store.set_phone_discoverable(a, true).await,
        "no number"
    ));
    assert!(ok(store.set_phone(a, "+14155550123").await, "set"));
    assert!(!ok(store.set_phone(b, "+14155550123").await, "taken"));
    assert!(ok(store.phone(b).await, "b has none").is_none());
    let p = ok(store.phone(a).await, "read").expect("a number");
    assert_eq!((p.phone.as_str(), p.discoverable), ("+14155550123", false));
    let nums = vec!["+14155550123".to_owned(), "+15555550100".to_owned()];
    assert!(ok(store.discoverable_by_phone(&nums).await, "hidden").is_empty());
    assert!(ok(store.set_phone_discoverable(a, true).await, "show"));
    let found = ok(store.discoverable_by_phone(&nums).await, "found");
    assert_eq!(found.len(), 1);
    assert_eq!((found[0].0.as_str(), found[0].1.id), ("+14155550123", a));
    // Changing the number keeps the choice; the old number is free again.
    assert!(ok(store.set_phone(a, "+14155550124").await, "change"));
    assert!(
        ok(store.phone(a).await, "read")
            .expect("number")
            .discoverable
    );
    assert!(ok(store.set_phone(b, "+14155550123").await, "free again"));
    assert!(ok(store.remove_phone(a).await, "remove"));
    assert!(!ok(store.remove_phone(a).await, "twice"));
    assert_not_found(
        store.set_phone(UserId::from_i64(99), "+14155550999").await,
        "unknown user",
    );
}
