//! Conformance cases of `MemberStore` and `InviteStore`: joining, member
//! lists and search, member roles, bans, invites.

use std::sync::Arc;

use beep_types::{ChannelId, GuildId, Permissions, RoleId};
use chrono::{Duration, Utc};

use super::guilds::{entry, guild, join, new_role, user};
use super::{assert_conflict, assert_not_found, ok};
use crate::{
    AuditQuery, DynStore, InviteGuard, MemberPatch, NewBan, NewInvite, NewMember, Refusal,
};

fn member(guild: GuildId, user: beep_types::UserId) -> NewMember {
    NewMember {
        guild_id: guild,
        user_id: user,
        temporary: false,
    }
}

/// Joining refuses banned users, members and users at their limit; lists page
/// by user id; search matches username and nickname prefixes in any case.
pub async fn members_join_list_search(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let alice = user(&store, 2, "Alice").await;
    let albert = user(&store, 3, "albert").await;
    let bob = user(&store, 4, "bob").await;
    let g = guild(&store, 100, owner, "g").await;
    guild(&store, 200, bob, "bob's").await;

    let added = ok(store.add_member(&member(g.id, alice), 10).await, "alice")
        .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(added.user.id, alice);
    assert_eq!(added.user.username, "Alice");
    assert!(!added.temporary && !added.mute && !added.deaf);
    assert_eq!(
        ok(store.add_member(&member(g.id, alice), 10).await, "twice"),
        Err(Refusal::AlreadyMember)
    );
    assert_eq!(
        ok(store.add_member(&member(g.id, bob), 1).await, "limit"),
        Err(Refusal::LimitReached),
        "bob already is in one guild"
    );
    let temp = NewMember {
        temporary: true,
        ..member(g.id, albert)
    };
    let albert_m =
        ok(store.add_member(&temp, 10).await, "albert").unwrap_or_else(|r| panic!("{r:?}"));
    assert!(albert_m.temporary);
    assert_not_found(
        store
            .add_member(&member(GuildId::from_i64(999), bob), 10)
            .await,
        "a missing guild",
    );
    assert_not_found(
        store
            .add_member(&member(g.id, beep_types::UserId::from_i64(404)), 10)
            .await,
        "a missing user",
    );
    join(&store, g.id, bob).await;

    let ids =
        |ms: &[crate::MemberRecord]| ms.iter().map(|m| m.user.id.as_i64()).collect::<Vec<_>>();
    assert_eq!(
        ids(&ok(store.members(g.id, None, 10).await, "all")),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        ids(&ok(store.members(g.id, None, 2).await, "two")),
        vec![1, 2]
    );
    assert_eq!(
        ids(&ok(store.members(g.id, Some(alice), 10).await, "after")),
        vec![3, 4]
    );
    assert_eq!(ok(store.member_count(g.id).await, "count"), 4);

    let nick = MemberPatch {
        nick: Some(Some("Zorro_%".into())),
        ..MemberPatch::default()
    };
    ok(store.update_member(g.id, bob, &nick, &[]).await, "nick");
    let search = |query: &'static str| {
        let store = store.clone();
        async move { ids(&ok(store.search_members(g.id, query, 10).await, "search")) }
    };
    assert_eq!(
        search("al").await,
        vec![3, 2],
        "username prefix, any case, by folded username"
    );
    assert_eq!(search("AL").await, vec![3, 2]);
    assert_eq!(search("zor").await, vec![4], "nickname prefix");
    assert_eq!(
        search("bob").await,
        vec![4],
        "username still matches with a nick"
    );
    assert_eq!(search("zorro_%").await, vec![4]);
    assert!(
        search("%").await.is_empty(),
        "wildcards are plain characters"
    );
    assert!(search("_").await.is_empty());
    assert!(search("lice").await.is_empty(), "prefixes only");
    let limited = ok(store.search_members(g.id, "", 2).await, "empty query");
    assert_eq!(limited.len(), 2);
}

/// Member search folds case and diacritics, keeps CJK, matches username,
/// global name and nick prefixes, follows name and nick changes, and ranks
/// exact matches, then username prefixes, then the others.
pub async fn members_search_folds(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let zoe = user(&store, 2, "zoë_k").await;
    let tokyo = user(&store, 3, "tk").await;
    let zed = user(&store, 4, "zed").await;
    let g = guild(&store, 100, owner, "g").await;
    for u in [zoe, tokyo, zed] {
        join(&store, g.id, u).await;
    }
    let search = |query: &'static str| {
        let store = store.clone();
        async move {
            ok(store.search_members(g.id, query, 10).await, "search")
                .iter()
                .map(|m| m.user.id.as_i64())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("ZO").await, vec![2], "case and diacritics folded");
    assert_eq!(search("zoe").await, vec![2]);
    assert!(search("東").await.is_empty());
    let global = crate::UserPatch {
        global_name: Some(Some("東京 Zoé".into())),
        ..crate::UserPatch::default()
    };
    ok(store.update_user(tokyo, &global).await, "global name");
    assert_eq!(search("東").await, vec![3], "CJK global name prefix");
    assert_eq!(
        search("zo").await,
        vec![2],
        "prefixes only: the folded global name starts with 東京"
    );
    let nick = MemberPatch {
        nick: Some(Some("Zéd".into())),
        ..MemberPatch::default()
    };
    ok(store.update_member(g.id, zoe, &nick, &[]).await, "nick");
    assert_eq!(
        search("zed").await,
        vec![4, 2],
        "exact username before an exact nick of a later username"
    );
    assert_eq!(search("ze").await, vec![4, 2], "username prefix first");
    let clear = MemberPatch {
        nick: Some(None),
        ..MemberPatch::default()
    };
    ok(
        store.update_member(g.id, zoe, &clear, &[]).await,
        "clear nick",
    );
    assert_eq!(
        search("ze").await,
        vec![4],
        "a cleared nick no longer matches"
    );
    let rename = crate::UserPatch {
        username: Some(("zara".into(), "zara".into(), "zara".into())),
        ..crate::UserPatch::default()
    };
    ok(store.update_user(zed, &rename).await, "rename");
    assert!(search("zed").await.is_empty(), "the old username is gone");
    assert_eq!(search("zar").await, vec![4]);
    ok(
        store.reindex_guilds().await,
        "reindex folds the names again",
    );
    assert_eq!(search("zar").await, vec![4]);
    assert_eq!(search("東").await, vec![3]);
}

/// Patches set nick, mute, deaf and timeout; roles are replaced, and role ids of
/// another guild or `@everyone` never take effect. Single roles are added and
/// removed; members are removed.
pub async fn members_update_roles_and_remove(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let alice = user(&store, 2, "alice").await;
    let g = guild(&store, 100, owner, "g").await;
    let other = guild(&store, 500, owner, "other").await;
    join(&store, g.id, alice).await;
    for (id, guild_id) in [(110, 100), (120, 100), (510, 500)] {
        ok(
            store
                .create_role(&new_role(id, guild_id, "r", Permissions::NONE), 10, &[])
                .await,
            "role",
        )
        .unwrap_or_else(|r| panic!("{r:?}"));
    }
    let until = Utc::now() + Duration::hours(1);
    let patch = MemberPatch {
        nick: Some(Some("Ally".into())),
        roles: Some(vec![
            RoleId::from_i64(120),
            RoleId::from_i64(510),
            RoleId::from_i64(100),
            RoleId::from_i64(110),
        ]),
        mute: Some(true),
        deaf: Some(true),
        communication_disabled_until: Some(Some(until)),
    };
    let audit = [entry(1000, g.id, owner, 24)];
    let m = ok(
        store.update_member(g.id, alice, &patch, &audit).await,
        "update",
    )
    .unwrap_or_else(|| panic!("member"));
    assert_eq!(m.nick.as_deref(), Some("Ally"));
    assert_eq!(
        m.roles,
        vec![RoleId::from_i64(110), RoleId::from_i64(120)],
        "foreign and @everyone ids are dropped"
    );
    assert!(m.mute && m.deaf);
    assert_eq!(
        m.communication_disabled_until.map(|t| t.timestamp_millis()),
        Some(until.timestamp_millis())
    );
    let clear = MemberPatch {
        nick: Some(None),
        roles: Some(vec![]),
        communication_disabled_until: Some(None),
        ..MemberPatch::default()
    };
    let m = ok(store.update_member(g.id, alice, &clear, &[]).await, "clear")
        .unwrap_or_else(|| panic!("member"));
    assert_eq!(m.nick, None);
    assert!(m.roles.is_empty());
    assert_eq!(m.communication_disabled_until, None);
    assert!(m.mute, "untouched fields stay");
    assert_eq!(
        ok(
            store.update_member(other.id, alice, &clear, &[]).await,
            "not a member"
        ),
        None
    );

    let r = RoleId::from_i64(110);
    assert!(ok(
        store
            .add_member_role(g.id, alice, r, &[entry(1001, g.id, owner, 25)])
            .await,
        "add"
    ));
    assert!(!ok(
        store
            .add_member_role(g.id, alice, r, &[entry(1002, g.id, owner, 25)])
            .await,
        "add again"
    ));
    assert_not_found(
        store
            .add_member_role(g.id, alice, RoleId::from_i64(510), &[])
            .await,
        "a role of another guild",
    );
    assert_not_found(
        store
            .add_member_role(g.id, alice, RoleId::from_i64(100), &[])
            .await,
        "@everyone is not assignable",
    );
    assert_not_found(
        store
            .add_member_role(other.id, alice, RoleId::from_i64(510), &[])
            .await,
        "not a member of that guild",
    );
    let m = ok(store.member(g.id, alice).await, "read").unwrap_or_else(|| panic!("member"));
    assert_eq!(m.roles, vec![r]);
    assert!(ok(
        store
            .remove_member_role(g.id, alice, r, &[entry(1003, g.id, owner, 25)])
            .await,
        "remove"
    ));
    assert!(!ok(
        store.remove_member_role(g.id, alice, r, &[]).await,
        "remove again"
    ));
    assert_not_found(
        store
            .remove_member_role(g.id, alice, RoleId::from_i64(510), &[])
            .await,
        "a role of another guild",
    );
    let ids: Vec<i64> = ok(
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
    )
    .iter()
    .map(|e| e.id.as_i64())
    .collect();
    assert_eq!(
        ids,
        vec![1003, 1001, 1000],
        "no-op role changes log nothing"
    );

    let removed = ok(
        store
            .remove_member(g.id, alice, &[entry(1004, g.id, owner, 20)])
            .await,
        "kick",
    )
    .unwrap_or_else(|| panic!("was a member"));
    assert_eq!(removed.user.id, alice);
    assert_eq!(ok(store.member(g.id, alice).await, "gone"), None);
    assert_eq!(
        ok(store.remove_member(g.id, alice, &[]).await, "again"),
        None
    );
    join(&store, g.id, alice).await;
    let back = ok(store.member(g.id, alice).await, "back").unwrap_or_else(|| panic!("member"));
    assert!(
        back.roles.is_empty() && back.nick.is_none(),
        "a new membership starts afresh"
    );
}

/// A ban removes the member in the same write, keeps the reason and the message
/// deletion window, pages by user id, stops joining, and is lifted by unban.
pub async fn bans_lifecycle(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let users: Vec<_> = futures_lite_join(&store, &[(2, "u2"), (3, "u3"), (4, "u4")]).await;
    let g = guild(&store, 100, owner, "g").await;
    join(&store, g.id, users[0]).await;
    let ban = NewBan {
        guild_id: g.id,
        user_id: users[0],
        reason: Some("spam".into()),
        moderator_id: Some(owner),
        delete_message_seconds: 3600,
    };
    let (b, removed) = ok(
        store
            .ban_member(&ban, &[entry(1000, g.id, owner, 22)])
            .await,
        "ban",
    );
    assert_eq!(b.user.id, users[0]);
    assert_eq!(b.reason.as_deref(), Some("spam"));
    assert_eq!(b.moderator_id, Some(owner));
    assert_eq!(b.delete_message_seconds, 3600);
    assert_eq!(removed.map(|m| m.user.id), Some(users[0]));
    assert_eq!(ok(store.member(g.id, users[0]).await, "removed"), None);
    assert_eq!(
        ok(
            store.add_member(&member(g.id, users[0]), 10).await,
            "rejoin"
        ),
        Err(Refusal::Banned)
    );
    // Banning someone who is not a member works too, and re-banning replaces.
    for u in &users[1..] {
        let (_, removed) = ok(
            store
                .ban_member(
                    &NewBan {
                        user_id: *u,
                        reason: None,
                        ..ban.clone()
                    },
                    &[],
                )
                .await,
            "ban",
        );
        assert!(removed.is_none());
    }
    let (again, _) = ok(
        store
            .ban_member(
                &NewBan {
                    reason: Some("again".into()),
                    ..ban.clone()
                },
                &[],
            )
            .await,
        "reban",
    );
    assert_eq!(again.reason.as_deref(), Some("again"));
    assert_not_found(
        store
            .ban_member(
                &NewBan {
                    user_id: beep_types::UserId::from_i64(404),
                    ..ban.clone()
                },
                &[],
            )
            .await,
        "a missing user",
    );
    assert_eq!(
        ok(store.ban(g.id, users[1]).await, "one").map(|b| b.user.id),
        Some(users[1])
    );
    assert_eq!(ok(store.ban(g.id, owner).await, "none"), None);

    let ids = |bs: Vec<crate::BanRecord>| bs.iter().map(|b| b.user.id.as_i64()).collect::<Vec<_>>();
    assert_eq!(
        ids(ok(store.bans(g.id, None, None, 10).await, "all")),
        vec![2, 3, 4]
    );
    assert_eq!(
        ids(ok(
            store.bans(g.id, Some(users[0]), None, 10).await,
            "after"
        )),
        vec![3, 4]
    );
    assert_eq!(
        ids(ok(
            store.bans(g.id, None, Some(users[2]), 1).await,
            "before"
        )),
        vec![3]
    );
    assert_eq!(
        ids(ok(store.bans(g.id, None, None, 2).await, "limit")),
        vec![2, 3]
    );

    let lifted = ok(
        store
            .unban(g.id, users[0], &[entry(1001, g.id, owner, 23)])
            .await,
        "unban",
    );
    assert_eq!(lifted.map(|b| b.user.id), Some(users[0]));
    assert_eq!(ok(store.unban(g.id, users[0], &[]).await, "again"), None);
    assert!(
        ok(
            store.add_member(&member(g.id, users[0]), 10).await,
            "rejoin"
        )
        .is_ok()
    );
    let actions: Vec<i64> = ok(
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
    )
    .iter()
    .map(|e| e.action_type)
    .collect();
    assert_eq!(actions, vec![23, 22]);
}

async fn futures_lite_join(store: &DynStore, users: &[(i64, &str)]) -> Vec<beep_types::UserId> {
    let mut out = Vec::new();
    for (id, name) in users {
        out.push(user(store, *id, name).await);
    }
    out
}

fn invite(code: &str, guild: GuildId, channel: i64, inviter: beep_types::UserId) -> NewInvite {
    NewInvite {
        code: code.to_owned(),
        guild_id: guild,
        channel_id: ChannelId::from_i64(channel),
        inviter_id: inviter,
        max_age: 86_400,
        max_uses: 0,
        temporary: false,
        unique: true,
    }
}

/// Invites are created (or reused when not unique) within limits, listed while
/// live, read with their inviter, and deleted.
pub async fn invites_create_list_delete(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let g = guild(&store, 100, owner, "g").await;
    let other = guild(&store, 500, owner, "other").await;
    let guard = InviteGuard {
        max_per_channel: 2,
        max_per_guild: 3,
    };
    let now = Utc::now();
    let first = ok(
        store
            .create_invite(
                &invite("aaaa", g.id, 101, owner),
                &guard,
                now,
                &[entry(1000, g.id, owner, 40)],
            )
            .await,
        "create",
    )
    .unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(first.code, "aaaa");
    assert_eq!(first.guild_id, g.id);
    assert_eq!(first.channel_id, ChannelId::from_i64(101));
    assert_eq!(
        first.inviter.as_ref().map(|u| u.username.as_str()),
        Some("owner")
    );
    assert_eq!((first.max_age, first.max_uses, first.uses), (86_400, 0, 0));
    assert_eq!(
        first.expires_at.map(|t| t.timestamp_millis()),
        Some((now + Duration::seconds(86_400)).timestamp_millis())
    );
    let reused = ok(
        store
            .create_invite(
                &NewInvite {
                    unique: false,
                    ..invite("bbbb", g.id, 101, owner)
                },
                &guard,
                now,
                &[],
            )
            .await,
        "reuse",
    )
    .unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(
        reused.code, "aaaa",
        "a non-unique request reuses a live invite with the same settings"
    );
    let never = ok(
        store
            .create_invite(
                &NewInvite {
                    max_age: 0,
                    max_uses: 5,
                    temporary: true,
                    ..invite("cccc", g.id, 101, owner)
                },
                &guard,
                now,
                &[],
            )
            .await,
        "never expires",
    )
    .unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(never.expires_at, None);
    assert!(never.temporary);
    assert_eq!(
        ok(
            store
                .create_invite(&invite("dddd", g.id, 101, owner), &guard, now, &[])
                .await,
            "channel limit"
        ),
        Err(Refusal::LimitReached)
    );
    ok(
        store
            .create_invite(&invite("eeee", g.id, 102, owner), &guard, now, &[])
            .await,
        "voice",
    )
    .unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(
        ok(
            store
                .create_invite(&invite("ffff", g.id, 102, owner), &guard, now, &[])
                .await,
            "guild limit"
        ),
        Err(Refusal::LimitReached)
    );
    assert_conflict(
        store
            .create_invite(&invite("aaaa", other.id, 501, owner), &guard, now, &[])
            .await,
        "unique",
        "a taken code",
    );
    assert_not_found(
        store
            .create_invite(&invite("gggg", g.id, 501, owner), &guard, now, &[])
            .await,
        "a channel of another guild",
    );

    let codes = |is: Vec<crate::InviteRecord>| is.into_iter().map(|i| i.code).collect::<Vec<_>>();
    assert_eq!(
        codes(ok(store.guild_invites(g.id, now).await, "guild")),
        vec!["aaaa", "cccc", "eeee"]
    );
    assert_eq!(
        codes(ok(
            store.channel_invites(ChannelId::from_i64(101), now).await,
            "channel"
        )),
        vec!["aaaa", "cccc"]
    );
    let later = now + Duration::days(2);
    assert_eq!(
        codes(ok(store.guild_invites(g.id, later).await, "later")),
        vec!["cccc"],
        "expired invites are not listed"
    );
    // Expired ones stop counting against the limit.
    ok(
        store
            .create_invite(&invite("hhhh", g.id, 101, owner), &guard, later, &[])
            .await,
        "after expiry",
    )
    .unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(
        ok(store.invite("aaaa").await, "purged"),
        None,
        "expired invites are purged on creation"
    );

    let read = ok(store.invite("cccc").await, "read").unwrap_or_else(|| panic!("exists"));
    assert_eq!(read, never);
    let deleted = ok(
        store
            .delete_invite("cccc", &[entry(1001, g.id, owner, 42)])
            .await,
        "delete",
    );
    assert_eq!(deleted.map(|i| i.code), Some("cccc".to_owned()));
    assert_eq!(ok(store.delete_invite("cccc", &[]).await, "again"), None);
    assert_eq!(ok(store.invite("cccc").await, "gone"), None);
}

/// Joining by invite counts uses, deletes the invite on its last one, and
/// refuses expired invites, banned users, members and users at their limit.
pub async fn invites_join(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let alice = user(&store, 2, "alice").await;
    let bob = user(&store, 3, "bob").await;
    let carol = user(&store, 4, "carol").await;
    let g = guild(&store, 100, owner, "g").await;
    let guard = InviteGuard {
        max_per_channel: 10,
        max_per_guild: 10,
    };
    let now = Utc::now();
    let two = NewInvite {
        max_uses: 2,
        temporary: true,
        ..invite("two", g.id, 101, owner)
    };
    ok(store.create_invite(&two, &guard, now, &[]).await, "create")
        .unwrap_or_else(|r| panic!("{r:?}"));

    let joined = ok(store.join_by_invite("two", alice, now, 10).await, "alice")
        .unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(joined.invite.uses, 1);
    assert!(!joined.invite_deleted);
    assert_eq!(joined.member.user.id, alice);
    assert!(
        joined.member.temporary,
        "a temporary invite gives a temporary membership"
    );
    assert_eq!(
        ok(store.join_by_invite("two", alice, now, 10).await, "again"),
        Err(Refusal::AlreadyMember)
    );
    assert_eq!(
        ok(store.invite("two").await, "uses").map(|i| i.uses),
        Some(1),
        "a refused join uses nothing"
    );

    ok(
        store
            .ban_member(
                &NewBan {
                    guild_id: g.id,
                    user_id: carol,
                    reason: None,
                    moderator_id: None,
                    delete_message_seconds: 0,
                },
                &[],
            )
            .await,
        "ban",
    );
    assert_eq!(
        ok(store.join_by_invite("two", carol, now, 10).await, "banned"),
        Err(Refusal::Banned)
    );
    assert_eq!(
        ok(store.join_by_invite("two", bob, now, 0).await, "limit"),
        Err(Refusal::LimitReached)
    );

    let last = ok(store.join_by_invite("two", bob, now, 10).await, "bob")
        .unwrap_or_else(|r| panic!("{r:?}"));
    assert_eq!(last.invite.uses, 2);
    assert!(last.invite_deleted, "the last use deletes the invite");
    assert_eq!(ok(store.invite("two").await, "deleted"), None);
    assert_eq!(
        ok(store.join_by_invite("two", carol, now, 10).await, "gone"),
        Err(Refusal::InviteGone)
    );
    assert_eq!(
        ok(
            store.join_by_invite("nope", carol, now, 10).await,
            "unknown"
        ),
        Err(Refusal::InviteGone)
    );

    let short = NewInvite {
        max_age: 60,
        ..invite("short", g.id, 101, owner)
    };
    ok(store.create_invite(&short, &guard, now, &[]).await, "short")
        .unwrap_or_else(|r| panic!("{r:?}"));
    ok(store.unban(g.id, carol, &[]).await, "unban");
    assert_eq!(
        ok(
            store
                .join_by_invite("short", carol, now + Duration::seconds(61), 10)
                .await,
            "expired"
        ),
        Err(Refusal::InviteGone)
    );
    assert!(
        ok(
            store.join_by_invite("short", carol, now, 10).await,
            "in time"
        )
        .is_ok()
    );
    assert_not_found(
        store
            .join_by_invite("short", beep_types::UserId::from_i64(404), now, 10)
            .await,
        "a missing user",
    );
}

/// Many users racing for a one-use invite: exactly one gets in.
pub async fn invites_last_use_is_taken_once(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let g = guild(&store, 100, owner, "g").await;
    let guard = InviteGuard {
        max_per_channel: 10,
        max_per_guild: 10,
    };
    let now = Utc::now();
    let once = NewInvite {
        max_uses: 1,
        ..invite("once", g.id, 101, owner)
    };
    ok(store.create_invite(&once, &guard, now, &[]).await, "create")
        .unwrap_or_else(|r| panic!("{r:?}"));
    let mut racers = Vec::new();
    for i in 0..8 {
        racers.push(user(&store, 10 + i, &format!("racer{i}")).await);
    }
    let store = Arc::new(store);
    let tasks: Vec<_> = racers
        .into_iter()
        .map(|u| {
            let store = store.clone();
            tokio::spawn(async move { store.join_by_invite("once", u, now, 10).await })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        match t.await.unwrap_or_else(|e| panic!("task: {e}")) {
            Ok(Ok(_)) => winners += 1,
            Ok(Err(Refusal::InviteGone)) => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(ok(store.member_count(g.id).await, "count"), 2);
}
