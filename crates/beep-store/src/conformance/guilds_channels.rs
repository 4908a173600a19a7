//! Conformance cases of `ChannelStore`: the layout version, moves, folder
//! deletion and overwrites.

use beep_types::v10::channel::{ChannelType, OverwriteType, PermissionOverwrite};
use beep_types::{ChannelId, GuildId, Permissions, Snowflake};
use chrono::Utc;

use super::guilds::{entry, guild, new_channel, user};
use super::{assert_not_found, ok};
use crate::{
    AuditQuery, ChannelMove, ChannelPatch, DynStore, GuildPatch, InviteGuard, NewInvite, Refusal,
};

fn ow(id: i64, kind: OverwriteType, allow: Permissions, deny: Permissions) -> PermissionOverwrite {
    PermissionOverwrite {
        id: Snowflake::from_i64(id),
        kind,
        allow,
        deny,
    }
}

/// Creating, moving and deleting channels needs the current layout version and
/// moves it on; ordinary edits do not. Limits and foreign ids are refused.
pub async fn channels_layout_versioning(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let g = guild(&store, 100, owner, "g").await;
    let other = guild(&store, 500, owner, "other").await;

    let mut folder = new_channel(110, 100, ChannelType::Folder, "Stuff", None);
    folder.position = 2;
    folder.overwrites = vec![ow(
        100,
        OverwriteType::Role,
        Permissions::NONE,
        Permissions::VIEW_CHANNEL,
    )];
    let created = ok(
        store
            .create_channel(&folder, 0, 10, &[entry(1000, g.id, owner, 10)])
            .await,
        "create",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(created.kind, ChannelType::Folder);
    assert_eq!(created.position, 2);
    assert_eq!(created.overwrites, folder.overwrites);
    let again = new_channel(111, 100, ChannelType::Text, "late", Some(110));
    assert_eq!(
        ok(store.create_channel(&again, 0, 10, &[]).await, "stale"),
        Err(Refusal::Stale),
        "version 0 is gone"
    );
    let layout = ok(store.channel_layout(g.id).await, "layout");
    assert_eq!(layout.version, 1);
    assert_eq!(layout.channels.len(), 3);
    let inside = ok(store.create_channel(&again, 1, 10, &[]).await, "inside")
        .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(inside.parent_id, Some(ChannelId::from_i64(110)));
    assert_eq!(
        ok(
            store
                .create_channel(
                    &new_channel(112, 100, ChannelType::Text, "x", None),
                    2,
                    4,
                    &[]
                )
                .await,
            "limit"
        ),
        Err(Refusal::LimitReached)
    );
    assert_eq!(
        ok(store.channel_layout(g.id).await, "layout").version,
        2,
        "a refusal changes nothing"
    );
    assert_not_found(
        store
            .create_channel(
                &new_channel(900, 999, ChannelType::Text, "x", None),
                0,
                10,
                &[],
            )
            .await,
        "a channel in a missing guild",
    );

    // A plain edit needs no version and keeps it.
    let rename = ChannelPatch {
        name: Some("renamed".into()),
        topic: Some(Some("about things".into())),
        nsfw: Some(true),
        rate_limit_per_user: Some(5),
        ..ChannelPatch::default()
    };
    let renamed = ok(
        store
            .update_channel(g.id, inside.id, &rename, None, &[])
            .await,
        "rename",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(renamed.name, "renamed");
    assert_eq!(renamed.topic.as_deref(), Some("about things"));
    assert!(renamed.nsfw);
    assert_eq!(renamed.rate_limit_per_user, 5);
    assert_eq!(renamed.parent_id, inside.parent_id);
    let voice = ChannelPatch {
        bitrate: Some(96_000),
        user_limit: Some(10),
        rtc_region: Some(Some("eu".into())),
        ..ChannelPatch::default()
    };
    let tuned = ok(
        store
            .update_channel(g.id, ChannelId::from_i64(102), &voice, None, &[])
            .await,
        "voice",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!((tuned.bitrate, tuned.user_limit), (Some(96_000), Some(10)));
    assert_eq!(tuned.rtc_region.as_deref(), Some("eu"));
    assert_eq!(ok(store.channel_layout(g.id).await, "layout").version, 2);

    // A move needs it.
    let out = ChannelPatch {
        parent_id: Some(None),
        position: Some(7),
        ..ChannelPatch::default()
    };
    assert_eq!(
        ok(
            store
                .update_channel(g.id, inside.id, &out, Some(1), &[])
                .await,
            "stale move"
        ),
        Err(Refusal::Stale)
    );
    assert_eq!(
        ok(
            store.update_channel(g.id, inside.id, &out, None, &[]).await,
            "unversioned move"
        ),
        Err(Refusal::Stale)
    );
    let moved = ok(
        store
            .update_channel(g.id, inside.id, &out, Some(2), &[])
            .await,
        "move",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!((moved.parent_id, moved.position), (None, 7));
    assert_eq!(moved.name, "renamed");

    // Replacing overwrites through a patch.
    let private = ChannelPatch {
        overwrites: Some(vec![
            ow(
                1,
                OverwriteType::Member,
                Permissions::VIEW_CHANNEL,
                Permissions::NONE,
            ),
            ow(
                100,
                OverwriteType::Role,
                Permissions::NONE,
                Permissions::VIEW_CHANNEL,
            ),
        ]),
        ..ChannelPatch::default()
    };
    let locked = ok(
        store
            .update_channel(g.id, inside.id, &private, None, &[])
            .await,
        "overwrites",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    let targets: Vec<i64> = locked.overwrites.iter().map(|o| o.id.as_i64()).collect();
    assert_eq!(targets, vec![1, 100], "sorted by target");
    let cleared = ChannelPatch {
        overwrites: Some(Vec::new()),
        ..ChannelPatch::default()
    };
    let open = ok(
        store
            .update_channel(g.id, inside.id, &cleared, None, &[])
            .await,
        "clear",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert!(open.overwrites.is_empty());

    assert_not_found(
        store
            .update_channel(other.id, inside.id, &rename, None, &[])
            .await,
        "a channel of another guild",
    );

    // Bulk moves.
    let version = ok(store.channel_layout(g.id).await, "layout").version;
    let synced = vec![ow(
        100,
        OverwriteType::Role,
        Permissions::NONE,
        Permissions::VIEW_CHANNEL,
    )];
    let moves = [
        ChannelMove {
            id: ChannelId::from_i64(101),
            position: 0,
            parent_id: Some(ChannelId::from_i64(110)),
            overwrites: Some(synced.clone()),
        },
        ChannelMove {
            id: ChannelId::from_i64(102),
            position: 1,
            parent_id: Some(ChannelId::from_i64(110)),
            overwrites: None,
        },
    ];
    let moved = ok(
        store.move_channels(g.id, &moves, version, &[]).await,
        "bulk",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(moved.len(), 2);
    assert!(
        moved
            .iter()
            .all(|c| c.parent_id == Some(ChannelId::from_i64(110)))
    );
    assert_eq!(
        moved[0].overwrites, synced,
        "overwrites replaced when given"
    );
    assert!(moved[1].overwrites.is_empty(), "and kept when not");
    assert_eq!(
        ok(
            store.move_channels(g.id, &moves, version, &[]).await,
            "stale bulk"
        ),
        Err(Refusal::Stale)
    );
    let foreign = [ChannelMove {
        id: ChannelId::from_i64(501),
        position: 0,
        parent_id: None,
        overwrites: None,
    }];
    assert_not_found(
        store.move_channels(g.id, &foreign, version + 1, &[]).await,
        "moving a channel of another guild",
    );
    let after = ok(
        store.guild_channel(ChannelId::from_i64(501)).await,
        "foreign",
    )
    .unwrap_or_else(|| panic!("exists"));
    assert_eq!(after.guild_id, other.id, "the foreign channel did not move");
    assert_eq!(
        ok(store.channel_layout(g.id).await, "layout").version,
        version + 1
    );

    let read = ok(store.guild_channel(ChannelId::from_i64(101)).await, "read")
        .unwrap_or_else(|| panic!("exists"));
    assert_eq!(read.guild_id, g.id);
    assert_eq!(
        ok(
            store.guild_channel(ChannelId::from_i64(999)).await,
            "missing"
        ),
        None
    );
}

/// Deleting a folder's subtree removes the channels, their overwrites and
/// invites, and the guild settings that pointed at them, in one write.
pub async fn channels_delete_subtree(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let g = guild(&store, 100, owner, "g").await;
    let other = guild(&store, 500, owner, "other").await;
    let mut v = 0;
    for (id, kind, parent) in [
        (110, ChannelType::Folder, None),
        (111, ChannelType::Folder, Some(110)),
        (112, ChannelType::Text, Some(111)),
    ] {
        let mut ch = new_channel(id, 100, kind, "c", parent);
        ch.overwrites = vec![ow(
            100,
            OverwriteType::Role,
            Permissions::NONE,
            Permissions::SEND_MESSAGES,
        )];
        ok(store.create_channel(&ch, v, 50, &[]).await, "create")
            .unwrap_or_else(|r| panic!("refused: {r:?}"));
        v += 1;
    }
    // Point the system channel at the doomed text channel.
    let system = GuildPatch {
        system_channel_id: Some(Some(ChannelId::from_i64(112))),
        ..GuildPatch::default()
    };
    ok(store.update_guild(g.id, &system, &[]).await, "system").unwrap_or_else(|r| panic!("{r:?}"));
    let invite = NewInvite {
        code: "doomed".into(),
        guild_id: g.id,
        channel_id: ChannelId::from_i64(112),
        inviter_id: owner,
        max_age: 0,
        max_uses: 0,
        temporary: false,
        unique: true,
    };
    let guard = InviteGuard {
        max_per_channel: 5,
        max_per_guild: 5,
    };
    ok(
        store.create_invite(&invite, &guard, Utc::now(), &[]).await,
        "invite",
    )
    .unwrap_or_else(|r| panic!("{r:?}"));

    let ids = [110, 111, 112, 501].map(ChannelId::from_i64);
    let audit = [
        entry(1000, g.id, owner, 12),
        entry(1001, g.id, owner, 12),
        entry(1002, g.id, owner, 12),
    ];
    assert_eq!(
        ok(store.delete_channels(g.id, &ids, v - 1, &[]).await, "stale"),
        Err(Refusal::Stale)
    );
    let deleted = ok(store.delete_channels(g.id, &ids, v, &audit).await, "delete")
        .unwrap_or_else(|r| panic!("refused: {r:?}"));
    let gone: Vec<i64> = deleted.iter().map(|c| c.id.as_i64()).collect();
    assert_eq!(
        gone,
        vec![110, 111, 112],
        "the other guild's channel is ignored"
    );
    assert!(
        deleted.iter().all(|c| c.overwrites.len() == 1),
        "records come back whole"
    );
    for id in &ids[..3] {
        assert_eq!(ok(store.guild_channel(*id).await, "gone"), None);
    }
    assert!(ok(store.guild_channel(ids[3]).await, "kept").is_some());
    assert_eq!(
        ok(store.invite("doomed").await, "invite"),
        None,
        "invites go with their channel"
    );
    let after = ok(store.guild(g.id).await, "guild").unwrap_or_else(|| panic!("exists"));
    assert_eq!(
        after.system_channel_id, None,
        "the system channel setting is cleared"
    );
    let layout = ok(store.channel_layout(g.id).await, "layout");
    assert_eq!(layout.version, v + 1);
    assert_eq!(layout.channels.len(), 2, "the default channels stay");
    let logged = ok(
        store
            .audit_log(
                g.id,
                &AuditQuery {
                    limit: 10,
                    ..AuditQuery::default()
                },
            )
            .await,
        "audit",
    );
    assert_eq!(logged.len(), 3);
    assert_eq!(
        ok(store.channel_layout(other.id).await, "other")
            .channels
            .len(),
        2
    );
}

/// One overwrite per target: put creates or replaces (returning the old one),
/// delete removes it; channels of other guilds are not found.
pub async fn channels_overwrites(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let g = guild(&store, 100, owner, "g").await;
    let other = guild(&store, 500, owner, "other").await;
    let ch = ChannelId::from_i64(101);
    let first = ow(
        7,
        OverwriteType::Member,
        Permissions::VIEW_CHANNEL,
        Permissions::NONE,
    );
    let audit = [entry(1000, g.id, owner, 13)];
    assert_eq!(
        ok(
            store.put_overwrite(g.id, ch, &first, &audit).await,
            "create"
        ),
        None
    );
    let second = ow(
        7,
        OverwriteType::Member,
        Permissions::NONE,
        Permissions::SEND_MESSAGES,
    );
    assert_eq!(
        ok(store.put_overwrite(g.id, ch, &second, &[]).await, "replace"),
        Some(first.clone())
    );
    let read = ok(store.guild_channel(ch).await, "read").unwrap_or_else(|| panic!("exists"));
    assert_eq!(read.overwrites, vec![second.clone()]);
    assert_not_found(
        store.put_overwrite(other.id, ch, &first, &[]).await,
        "a channel of another guild",
    );
    assert_not_found(
        store
            .delete_overwrite(other.id, ch, Snowflake::from_i64(7), &[])
            .await,
        "a channel of another guild",
    );
    assert_eq!(
        ok(
            store
                .delete_overwrite(
                    g.id,
                    ch,
                    Snowflake::from_i64(7),
                    &[entry(1001, g.id, owner, 15)]
                )
                .await,
            "delete"
        ),
        Some(second)
    );
    assert_eq!(
        ok(
            store
                .delete_overwrite(
                    g.id,
                    ch,
                    Snowflake::from_i64(7),
                    &[entry(1002, g.id, owner, 15)]
                )
                .await,
            "again"
        ),
        None
    );
    let logged = ok(
        store
            .audit_log(
                g.id,
                &AuditQuery {
                    limit: 10,
                    ..AuditQuery::default()
                },
            )
            .await,
        "audit",
    );
    let ids: Vec<i64> = logged.iter().map(|e| e.id.as_i64()).collect();
    assert_eq!(
        ids,
        vec![1001, 1000],
        "nothing is logged when nothing was deleted"
    );
    let _ = GuildId::default();
}
