//! Conformance cases of `GuildStore`: guilds, roles, discovery, the audit log.

use beep_types::v10::channel::{ChannelType, OverwriteType, PermissionOverwrite};
use beep_types::{ChannelId, GuildId, Permissions, RoleId, Snowflake, UserId};
use chrono::Utc;
use serde_json::json;

use super::{assert_between, assert_not_found, new_user, ok};
use crate::{
    AuditEntryRecord, AuditQuery, DynStore, GuildCreateGuard, GuildPatch, GuildRecord, NewChannel,
    NewGuild, NewMember, NewRole, Refusal, RolePatch,
};

/// Limits that never stop a case.
pub(super) const NO_LIMITS: GuildCreateGuard = GuildCreateGuard {
    max_owned: 1000,
    max_joined: 1000,
    per_window: 0,
    window_ms: 60_000,
};

/// Insert user `id` named `name`.
pub(super) async fn user(store: &DynStore, id: i64, name: &str) -> UserId {
    ok(store.insert_user(&new_user(id, name)).await, "insert user").id
}

/// The fields of a guild `id` owned by `owner`.
pub(super) fn new_guild(id: i64, owner: UserId, name: &str) -> NewGuild {
    NewGuild {
        id: GuildId::from_i64(id),
        name: name.to_owned(),
        icon: None,
        description: None,
        owner_id: owner,
        public: false,
        preferred_locale: "en-US".into(),
        system_channel_id: Some(ChannelId::from_i64(id + 1)),
        verification_level: 0,
        default_message_notifications: 0,
        explicit_content_filter: 0,
    }
}

/// The `@everyone` role of guild `id`.
pub(super) fn everyone(id: i64) -> NewRole {
    NewRole {
        id: RoleId::from_i64(id),
        guild_id: GuildId::from_i64(id),
        name: "@everyone".into(),
        color: 0,
        hoist: false,
        mentionable: false,
        permissions: Permissions::DEFAULT_EVERYONE,
        icon: None,
        unicode_emoji: None,
    }
}

/// A role `id` of guild `guild`.
pub(super) fn new_role(id: i64, guild: i64, name: &str, permissions: Permissions) -> NewRole {
    NewRole {
        id: RoleId::from_i64(id),
        guild_id: GuildId::from_i64(guild),
        name: name.to_owned(),
        permissions,
        ..everyone(guild)
    }
}

/// A channel `id` of guild `guild`.
pub(super) fn new_channel(
    id: i64,
    guild: i64,
    kind: ChannelType,
    name: &str,
    parent: Option<i64>,
) -> NewChannel {
    NewChannel {
        id: ChannelId::from_i64(id),
        guild_id: GuildId::from_i64(guild),
        kind,
        name: name.to_owned(),
        topic: None,
        position: 0,
        parent_id: parent.map(ChannelId::from_i64),
        nsfw: false,
        rate_limit_per_user: 0,
        bitrate: (kind == ChannelType::Voice).then_some(64_000),
        user_limit: (kind == ChannelType::Voice).then_some(0),
        rtc_region: None,
        overwrites: Vec::new(),
    }
}

/// Create guild `id` owned by `owner`, with a text channel `id + 1` and a voice
/// channel `id + 2`.
pub(super) async fn guild(store: &DynStore, id: i64, owner: UserId, name: &str) -> GuildRecord {
    let channels = [
        new_channel(id + 1, id, ChannelType::Text, "general", None),
        new_channel(id + 2, id, ChannelType::Voice, "General", None),
    ];
    let created = ok(
        store
            .create_guild(
                &new_guild(id, owner, name),
                &everyone(id),
                &channels,
                &NO_LIMITS,
            )
            .await,
        "create guild",
    );
    created.unwrap_or_else(|r| panic!("create guild refused: {r:?}"))
}

/// Add `user` to guild `guild`.
pub(super) async fn join(store: &DynStore, guild: GuildId, user: UserId) {
    let m = NewMember {
        guild_id: guild,
        user_id: user,
        temporary: false,
    };
    let added = ok(store.add_member(&m, 1000).await, "add member");
    assert!(added.is_ok(), "add member refused: {added:?}");
}

/// An audit entry `id` in guild `guild` by `user`.
pub(super) fn entry(id: i64, guild: GuildId, user: UserId, action: i64) -> AuditEntryRecord {
    AuditEntryRecord {
        id: Snowflake::from_i64(id),
        guild_id: guild,
        user_id: Some(user),
        action_type: action,
        target_id: Some(id.to_string()),
        changes: Some(json!([{"key": "name", "old_value": "a", "new_value": "b"}])),
        options: None,
        reason: Some("because".into()),
    }
}

/// A guild is created with `@everyone` (sharing its id), its channels and its
/// owner as first member, all readable at once.
pub async fn guilds_create_with_defaults(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let before = Utc::now();
    let mut g = new_guild(100, owner, "Rustaceans");
    g.description = Some("All about Rust".into());
    g.icon = Some("abc".into());
    g.verification_level = 1;
    g.default_message_notifications = 1;
    g.explicit_content_filter = 2;
    let mut text = new_channel(101, 100, ChannelType::Text, "general", None);
    text.overwrites = vec![PermissionOverwrite {
        id: Snowflake::from_i64(100),
        kind: OverwriteType::Role,
        allow: Permissions::NONE,
        deny: Permissions::MENTION_EVERYONE,
    }];
    let voice = new_channel(102, 100, ChannelType::Voice, "General", None);
    let created = ok(
        store
            .create_guild(&g, &everyone(100), &[text, voice], &NO_LIMITS)
            .await,
        "create",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    let after = Utc::now();
    assert_eq!(created.id, GuildId::from_i64(100));
    assert_eq!(created.name, "Rustaceans");
    assert_eq!(created.description.as_deref(), Some("All about Rust"));
    assert_eq!(created.icon.as_deref(), Some("abc"));
    assert_eq!(created.owner_id, owner);
    assert!(!created.public);
    assert_eq!(created.system_channel_id, Some(ChannelId::from_i64(101)));
    assert_eq!(created.afk_timeout, 300, "Discord's default AFK timeout");
    assert_eq!(created.preferred_locale, "en-US");
    assert_eq!(
        (
            created.verification_level,
            created.default_message_notifications,
            created.explicit_content_filter
        ),
        (1, 1, 2)
    );
    assert_between(created.created_at, before, after, "created_at");
    assert_eq!(
        ok(store.guild(created.id).await, "read").as_ref(),
        Some(&created)
    );

    let roles = ok(store.roles(created.id).await, "roles");
    assert_eq!(roles.len(), 1, "only @everyone");
    assert_eq!(
        roles[0].id,
        RoleId::from_i64(100),
        "@everyone has the guild's id"
    );
    assert_eq!(roles[0].position, 0);
    assert_eq!(roles[0].permissions, Permissions::DEFAULT_EVERYONE);

    let layout = ok(store.channel_layout(created.id).await, "layout");
    assert_eq!(layout.version, 0);
    let kinds: Vec<_> = layout.channels.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, vec![ChannelType::Text, ChannelType::Voice]);
    assert_eq!(
        layout.channels[0].overwrites.len(),
        1,
        "overwrites are stored"
    );
    assert_eq!(layout.channels[1].bitrate, Some(64_000));

    let member = ok(store.member(created.id, owner).await, "owner member")
        .unwrap_or_else(|| panic!("the owner is a member"));
    assert_eq!(member.user.username, "owner");
    assert!(member.roles.is_empty());
    assert_between(member.joined_at, before, after, "joined_at");
    assert_eq!(ok(store.member_count(created.id).await, "count"), 1);
    let mine = ok(store.guilds_of_user(owner, None, None, 10).await, "mine");
    assert_eq!(mine, vec![created.clone()]);
    assert_eq!(
        ok(store.member_counts_of_user_guilds(owner).await, "counts"),
        vec![(created.id, 1)]
    );

    let ghost = new_guild(200, UserId::from_i64(404), "ghost");
    assert_not_found(
        store
            .create_guild(&ghost, &everyone(200), &[], &NO_LIMITS)
            .await,
        "an owner that does not exist",
    );
    assert_eq!(ok(store.guild(GuildId::from_i64(200)).await, "ghost"), None);
}

/// Owned, joined and per-window limits refuse a creation and change nothing.
pub async fn guilds_create_limits(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let other = user(&store, 2, "other").await;
    let create = |id: i64, guard: GuildCreateGuard| {
        let store = store.clone();
        async move {
            ok(
                store
                    .create_guild(&new_guild(id, owner, "g"), &everyone(id), &[], &guard)
                    .await,
                "create",
            )
        }
    };
    let owned = GuildCreateGuard {
        max_owned: 1,
        ..NO_LIMITS
    };
    assert!(create(100, owned).await.is_ok());
    assert_eq!(create(110, owned).await, Err(Refusal::LimitReached));
    assert_eq!(
        ok(store.guild(GuildId::from_i64(110)).await, "refused"),
        None
    );

    guild(&store, 300, other, "theirs").await;
    join(&store, GuildId::from_i64(300), owner).await;
    let joined = GuildCreateGuard {
        max_joined: 2,
        ..NO_LIMITS
    };
    assert_eq!(
        create(120, joined).await,
        Err(Refusal::LimitReached),
        "owned and joined guilds both count as joined"
    );

    let window = GuildCreateGuard {
        per_window: 2,
        window_ms: 60_000,
        ..NO_LIMITS
    };
    assert!(create(130, window).await.is_ok());
    match create(140, window).await {
        Err(Refusal::RateLimited { retry_after_ms }) => {
            assert!(
                (1..=60_000).contains(&retry_after_ms),
                "retry within the window, got {retry_after_ms}"
            )
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    let elsewhere = GuildCreateGuard {
        per_window: 2,
        window_ms: 1,
        ..NO_LIMITS
    };
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert!(
        create(150, elsewhere).await.is_ok(),
        "older creations fall out of the window"
    );
}

/// Patches set and clear fields, transfer ownership to members only, and record
/// their audit entries in the same write.
pub async fn guilds_update_and_transfer(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let member = user(&store, 2, "member").await;
    let stranger = user(&store, 3, "stranger").await;
    let g = guild(&store, 100, owner, "Old").await;
    join(&store, g.id, member).await;

    let patch = GuildPatch {
        name: Some("New".into()),
        description: Some(Some("described".into())),
        icon: Some(Some("i".into())),
        public: Some(true),
        afk_channel_id: Some(Some(ChannelId::from_i64(102))),
        afk_timeout: Some(60),
        verification_level: Some(2),
        default_message_notifications: Some(1),
        explicit_content_filter: Some(2),
        system_channel_flags: Some(3),
        preferred_locale: Some("fr".into()),
        ..GuildPatch::default()
    };
    let audit = [entry(1000, g.id, owner, 1)];
    let updated = ok(store.update_guild(g.id, &patch, &audit).await, "update")
        .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(updated.name, "New");
    assert_eq!(updated.description.as_deref(), Some("described"));
    assert_eq!(updated.icon.as_deref(), Some("i"));
    assert!(updated.public);
    assert_eq!(updated.afk_channel_id, Some(ChannelId::from_i64(102)));
    assert_eq!(updated.afk_timeout, 60);
    assert_eq!(updated.verification_level, 2);
    assert_eq!(updated.default_message_notifications, 1);
    assert_eq!(updated.explicit_content_filter, 2);
    assert_eq!(updated.system_channel_flags, 3);
    assert_eq!(updated.preferred_locale, "fr");
    assert_eq!(updated.created_at, g.created_at);

    let clear = GuildPatch {
        description: Some(None),
        icon: Some(None),
        system_channel_id: Some(None),
        ..GuildPatch::default()
    };
    let cleared = ok(store.update_guild(g.id, &clear, &[]).await, "clear")
        .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(cleared.description, None);
    assert_eq!(cleared.icon, None);
    assert_eq!(cleared.system_channel_id, None);
    assert_eq!(cleared.name, "New", "untouched fields stay");
    let same = ok(
        store.update_guild(g.id, &GuildPatch::default(), &[]).await,
        "empty",
    );
    assert_eq!(
        same,
        Ok(cleared.clone()),
        "an empty patch returns the guild"
    );

    let to_stranger = GuildPatch {
        owner_id: Some(stranger),
        name: Some("Stolen".into()),
        ..GuildPatch::default()
    };
    let refused = ok(
        store
            .update_guild(g.id, &to_stranger, &[entry(1001, g.id, owner, 1)])
            .await,
        "transfer to a stranger",
    );
    assert_eq!(refused, Err(Refusal::NotMember));
    let unchanged = ok(store.guild(g.id).await, "read").unwrap_or_else(|| panic!("exists"));
    assert_eq!(unchanged.name, "New", "a refused patch changes nothing");

    let to_member = GuildPatch {
        owner_id: Some(member),
        ..GuildPatch::default()
    };
    let transferred = ok(store.update_guild(g.id, &to_member, &[]).await, "transfer")
        .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(transferred.owner_id, member);

    assert_not_found(
        store
            .update_guild(GuildId::from_i64(999), &patch, &[])
            .await,
        "update a missing guild",
    );
    let log = ok(
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
    let ids: Vec<i64> = log.iter().map(|e| e.id.as_i64()).collect();
    assert_eq!(ids, vec![1000], "the refused patch recorded nothing");
    assert_eq!(log[0], audit[0], "entries come back as written");
}

/// Deleting a guild takes its roles, channels, members, bans and invites along.
pub async fn guilds_delete_cascades(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let member = user(&store, 2, "member").await;
    let g = guild(&store, 100, owner, "Doomed").await;
    join(&store, g.id, member).await;
    let role = ok(
        store
            .create_role(
                &new_role(150, 100, "mods", Permissions::KICK_MEMBERS),
                10,
                &[],
            )
            .await,
        "role",
    );
    assert!(role.is_ok());
    assert!(ok(store.delete_guild(g.id).await, "delete"));
    assert!(!ok(store.delete_guild(g.id).await, "delete again"));
    assert_eq!(ok(store.guild(g.id).await, "guild"), None);
    assert!(ok(store.roles(g.id).await, "roles").is_empty());
    assert_eq!(ok(store.member(g.id, member).await, "member"), None);
    assert_eq!(
        ok(
            store.guild_channel(ChannelId::from_i64(101)).await,
            "channel"
        ),
        None
    );
    assert!(ok(store.guilds_of_user(member, None, None, 10).await, "mine").is_empty());
    assert_not_found(
        store.channel_layout(g.id).await,
        "layout of a deleted guild",
    );
    // The users stay.
    assert!(ok(store.user(member).await, "user").is_some());
}

/// A user's guilds page by id with `after`, `before` and `limit`.
pub async fn guilds_of_user_pages(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    for id in [100, 200, 300, 400] {
        guild(&store, id, owner, "g").await;
    }
    let page = |after: Option<i64>, before: Option<i64>, limit: u32| {
        let store = store.clone();
        async move {
            ok(
                store
                    .guilds_of_user(
                        owner,
                        after.map(GuildId::from_i64),
                        before.map(GuildId::from_i64),
                        limit,
                    )
                    .await,
                "page",
            )
            .iter()
            .map(|g| g.id.as_i64())
            .collect::<Vec<_>>()
        }
    };
    assert_eq!(page(None, None, 10).await, vec![100, 200, 300, 400]);
    assert_eq!(page(None, None, 2).await, vec![100, 200]);
    assert_eq!(page(Some(200), None, 10).await, vec![300, 400]);
    assert_eq!(page(None, Some(300), 10).await, vec![100, 200]);
    assert_eq!(page(Some(100), Some(400), 10).await, vec![200, 300]);
    let counts = ok(store.member_counts_of_user_guilds(owner).await, "counts");
    assert_eq!(counts.len(), 4);
}

/// Discovery finds public guilds by the words of their name and description,
/// never private ones, best match first, with member counts and a total.
pub async fn guilds_discovery_search(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let fan = user(&store, 2, "fan").await;
    let make = |id: i64, name: &'static str, description: Option<&'static str>, public: bool| {
        let store = store.clone();
        async move {
            let mut g = new_guild(id, owner, name);
            g.description = description.map(str::to_owned);
            g.public = public;
            ok(
                store.create_guild(&g, &everyone(id), &[], &NO_LIMITS).await,
                "create",
            )
            .unwrap_or_else(|r| panic!("refused: {r:?}"));
        }
    };
    make(100, "Rust Lovers", Some("We write systems code"), true).await;
    make(
        200,
        "Gardening Club",
        Some("Plants, soil and rust on tools"),
        true,
    )
    .await;
    make(300, "Secret Rust Cabal", Some("rust rust rust"), false).await;
    make(400, "Jazz Music", Some("Game dev soundtracks"), true).await;
    join(&store, GuildId::from_i64(200), fan).await;

    let ids = |r: &crate::DiscoveryResults| {
        r.guilds
            .iter()
            .map(|d| d.guild.id.as_i64())
            .collect::<Vec<_>>()
    };
    let found = ok(store.discover_guilds("rust", 10, 0).await, "rust");
    assert_eq!(found.total, 2, "private guilds are never found");
    assert_eq!(
        ids(&found),
        vec![100, 200],
        "a name match ranks above a description match"
    );
    assert_eq!(found.guilds[1].member_count, 2);
    assert_eq!(found.guilds[0].member_count, 1);

    let found = ok(
        store.discover_guilds("RUST tools", 10, 0).await,
        "all words",
    );
    assert_eq!(ids(&found), vec![200], "every word must match, in any case");
    let found = ok(store.discover_guilds("\"game dev\"", 10, 0).await, "phrase");
    assert_eq!(ids(&found), vec![400]);
    let found = ok(
        store.discover_guilds("\"dev game\"", 10, 0).await,
        "phrase order",
    );
    assert!(found.guilds.is_empty(), "a phrase keeps its word order");
    let found = ok(
        store.discover_guilds("jazz or gardening", 10, 0).await,
        "or",
    );
    assert_eq!(found.total, 2);
    let found = ok(store.discover_guilds("rust -tools", 10, 0).await, "exclude");
    assert_eq!(ids(&found), vec![100]);
    let found = ok(
        store.discover_guilds("-rust", 10, 0).await,
        "only exclusions",
    );
    assert_eq!(found.total, 0);
    let found = ok(
        store.discover_guilds("\"*\" NEAR( ) AND: ^", 10, 0).await,
        "syntax",
    );
    assert_eq!(found.total, 0, "search syntax characters are plain text");

    let all = ok(store.discover_guilds("  ", 10, 0).await, "no words");
    assert_eq!(all.total, 3);
    assert_eq!(
        ids(&all),
        vec![200, 100, 400],
        "the larger guilds first, then by id"
    );
    let paged = ok(store.discover_guilds("", 1, 1).await, "offset");
    assert_eq!(ids(&paged), vec![100]);
    assert_eq!(paged.total, 3);

    // Renaming re-indexes; deleting un-indexes; turning private hides.
    let rename = GuildPatch {
        name: Some("Saxophone Corner".into()),
        ..GuildPatch::default()
    };
    ok(
        store
            .update_guild(GuildId::from_i64(400), &rename, &[])
            .await,
        "rename",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(
        ids(&ok(store.discover_guilds("saxophone", 10, 0).await, "new")),
        vec![400]
    );
    assert!(
        ok(store.discover_guilds("jazz", 10, 0).await, "old")
            .guilds
            .is_empty()
    );
    assert!(ok(
        store.delete_guild(GuildId::from_i64(100)).await,
        "delete"
    ));
    let hide = GuildPatch {
        public: Some(false),
        ..GuildPatch::default()
    };
    ok(
        store.update_guild(GuildId::from_i64(200), &hide, &[]).await,
        "hide",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(
        ok(store.discover_guilds("rust", 10, 0).await, "after").total,
        0
    );
}

/// Discovery reads guild names and descriptions with the search analyzer:
/// case and diacritics folded, English and French stems, CJK text; a rename
/// re-indexes in the same write.
pub async fn guilds_discovery_analyzer(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let make = |id: i64, name: &'static str, description: Option<&'static str>| {
        let store = store.clone();
        async move {
            let mut g = new_guild(id, owner, name);
            g.description = description.map(str::to_owned);
            g.public = true;
            ok(
                store.create_guild(&g, &everyone(id), &[], &NO_LIMITS).await,
                "create",
            )
            .unwrap_or_else(|r| panic!("refused: {r:?}"));
        }
    };
    make(100, "Café Crème", Some("Coffee lovers")).await;
    make(200, "Running Club", Some("We run every morning")).await;
    make(300, "Les Élèves", Some("Entraide entre étudiants")).await;
    make(400, "東京ゲーム部", Some("ゲームの話")).await;
    make(500, "Plain", Some("Nothing about cafés here, only running")).await;

    let ids = |r: &crate::DiscoveryResults| {
        r.guilds
            .iter()
            .map(|d| d.guild.id.as_i64())
            .collect::<Vec<_>>()
    };
    let find = |q: &'static str| {
        let store = store.clone();
        async move { ok(store.discover_guilds(q, 10, 0).await, q) }
    };
    assert_eq!(
        ids(&find("cafe").await),
        vec![100, 500],
        "folded, name first"
    );
    assert_eq!(ids(&find("CAFÉ creme").await), vec![100]);
    assert_eq!(ids(&find("runs").await), vec![200, 500], "English stems");
    assert_eq!(ids(&find("eleve").await), vec![300], "French stems, folded");
    assert_eq!(ids(&find("étudiant").await), vec![300]);
    assert_eq!(ids(&find("東京").await), vec![400], "CJK bigrams");
    assert_eq!(ids(&find("ゲーム").await), vec![400]);
    assert_eq!(
        ids(&find("東").await),
        vec![400],
        "one CJK character is a prefix"
    );
    assert_eq!(ids(&find("京都").await), Vec::<i64>::new());
    assert_eq!(ids(&find("cafe -coffee").await), vec![500]);

    let rename = GuildPatch {
        name: Some("Théâtre".into()),
        ..GuildPatch::default()
    };
    ok(
        store
            .update_guild(GuildId::from_i64(100), &rename, &[])
            .await,
        "rename",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(ids(&find("theatre").await), vec![100]);
    assert_eq!(
        ids(&find("creme").await),
        Vec::<i64>::new(),
        "old name gone"
    );
    assert_eq!(ids(&find("coffee").await), vec![100], "description kept");

    // A rebuild (`beep admin reindex`) finds the same guilds.
    assert_eq!(ok(store.reindex_guilds().await, "reindex"), 5);
    assert_eq!(ids(&find("theatre").await), vec![100]);
    assert_eq!(ids(&find("runs").await), vec![200, 500]);
    assert!(ok(
        store.delete_guild(GuildId::from_i64(200)).await,
        "delete"
    ));
    assert_eq!(ids(&find("runs").await), vec![500]);
}

/// Roles are created at position 1 (others move up), limited, patched, reordered
/// only as a whole set, and deleted with their assignments and overwrites.
pub async fn roles_lifecycle(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let member = user(&store, 2, "member").await;
    let g = guild(&store, 100, owner, "g").await;
    let other = guild(&store, 500, owner, "other").await;
    join(&store, g.id, member).await;

    let a = ok(
        store
            .create_role(
                &new_role(110, 100, "a", Permissions::KICK_MEMBERS),
                3,
                &[entry(1000, g.id, owner, 30)],
            )
            .await,
        "a",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(a.position, 1);
    assert_eq!(a.permissions, Permissions::KICK_MEMBERS);
    let b = ok(
        store
            .create_role(&new_role(120, 100, "b", Permissions::NONE), 3, &[])
            .await,
        "b",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(b.position, 1, "new roles go just above @everyone");
    let positions = |roles: &[crate::RoleRecord]| {
        roles
            .iter()
            .map(|r| (r.id.as_i64(), r.position))
            .collect::<Vec<_>>()
    };
    let roles = ok(store.roles(g.id).await, "roles");
    assert_eq!(positions(&roles), vec![(100, 0), (120, 1), (110, 2)]);
    ok(
        store
            .create_role(&new_role(130, 100, "c", Permissions::NONE), 3, &[])
            .await,
        "c",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(
        ok(
            store
                .create_role(&new_role(140, 100, "d", Permissions::NONE), 3, &[])
                .await,
            "d"
        ),
        Err(Refusal::LimitReached),
        "three roles besides @everyone"
    );
    assert_not_found(
        store
            .create_role(&new_role(150, 999, "x", Permissions::NONE), 3, &[])
            .await,
        "a role in a missing guild",
    );

    let patch = RolePatch {
        name: Some("alpha".into()),
        color: Some(0xff0000),
        hoist: Some(true),
        mentionable: Some(true),
        permissions: Some(Permissions::BAN_MEMBERS),
        icon: Some(Some("icon".into())),
        unicode_emoji: Some(Some("🦀".into())),
    };
    let before = ok(store.roles(g.id).await, "roles");
    let a_position = before.iter().find(|r| r.id == a.id).map(|r| r.position);
    let patched = ok(store.update_role(g.id, a.id, &patch, &[]).await, "patch")
        .unwrap_or_else(|| panic!("role exists"));
    assert_eq!(patched.name, "alpha");
    assert_eq!(patched.color, 0xff0000);
    assert!(patched.hoist && patched.mentionable);
    assert_eq!(patched.permissions, Permissions::BAN_MEMBERS);
    assert_eq!(patched.icon.as_deref(), Some("icon"));
    assert_eq!(patched.unicode_emoji.as_deref(), Some("🦀"));
    assert_eq!(
        Some(patched.position),
        a_position,
        "position untouched by a patch"
    );
    assert_eq!(
        ok(
            store.update_role(other.id, a.id, &patch, &[]).await,
            "wrong guild"
        ),
        None,
        "a role id of another guild is not found"
    );

    // Reorder: c, b, a from top to bottom becomes a, c, b.
    let stale = ok(
        store
            .set_role_positions(g.id, &[(a.id, 2), (b.id, 1)], &[])
            .await,
        "partial",
    );
    assert_eq!(stale, Err(Refusal::Stale), "every role must be listed");
    let foreign = ok(
        store
            .set_role_positions(
                g.id,
                &[(a.id, 3), (b.id, 1), (RoleId::from_i64(500), 2)],
                &[],
            )
            .await,
        "foreign",
    );
    assert_eq!(
        foreign,
        Err(Refusal::Stale),
        "roles of another guild are refused"
    );
    let c = RoleId::from_i64(130);
    let reordered = ok(
        store
            .set_role_positions(
                g.id,
                &[(a.id, 3), (c, 2), (b.id, 1)],
                &[entry(1001, g.id, owner, 31)],
            )
            .await,
        "reorder",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    assert_eq!(
        positions(&reordered),
        vec![(100, 0), (120, 1), (130, 2), (110, 3)]
    );

    // Delete b: its assignment and overwrite go, the gap closes.
    assert!(ok(
        store.add_member_role(g.id, member, b.id, &[]).await,
        "assign"
    ));
    let ow = PermissionOverwrite {
        id: b.id.0,
        kind: OverwriteType::Role,
        allow: Permissions::VIEW_CHANNEL,
        deny: Permissions::NONE,
    };
    ok(
        store
            .put_overwrite(g.id, ChannelId::from_i64(101), &ow, &[])
            .await,
        "overwrite",
    );
    let deleted = ok(
        store
            .delete_role(g.id, b.id, &[entry(1002, g.id, owner, 32)])
            .await,
        "delete",
    )
    .unwrap_or_else(|| panic!("role exists"));
    assert_eq!(deleted.id, b.id);
    assert_eq!(
        positions(&ok(store.roles(g.id).await, "after delete")),
        vec![(100, 0), (130, 1), (110, 2)]
    );
    let m = ok(store.member(g.id, member).await, "member").unwrap_or_else(|| panic!("member"));
    assert!(m.roles.is_empty(), "the assignment went with the role");
    let ch = ok(
        store.guild_channel(ChannelId::from_i64(101)).await,
        "channel",
    )
    .unwrap_or_else(|| panic!("channel"));
    assert!(ch.overwrites.is_empty(), "the overwrite went with the role");
    assert_eq!(ok(store.delete_role(g.id, b.id, &[]).await, "again"), None);
    assert_eq!(
        ok(
            store.delete_role(g.id, RoleId::from_i64(100), &[]).await,
            "@everyone"
        ),
        None,
        "@everyone cannot be deleted"
    );
    assert_eq!(
        ok(store.delete_role(other.id, a.id, &[]).await, "wrong guild"),
        None
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
    assert_eq!(actions, vec![32, 31, 30]);
}

/// The audit log filters by user and action, pages with `before` and `after`,
/// and lists newest first.
pub async fn audit_log_filters_and_pages(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let other = user(&store, 2, "other").await;
    let g = guild(&store, 100, owner, "g").await;
    let h = guild(&store, 200, owner, "h").await;
    join(&store, g.id, other).await;
    let entries = [
        entry(1001, g.id, owner, 1),
        entry(1002, g.id, other, 1),
        entry(1003, g.id, owner, 30),
        entry(1004, g.id, owner, 1),
        entry(1005, g.id, other, 30),
    ];
    let patch = GuildPatch::default();
    ok(store.update_guild(g.id, &patch, &entries).await, "write")
        .unwrap_or_else(|r| panic!("refused: {r:?}"));
    ok(
        store
            .update_guild(h.id, &patch, &[entry(2001, h.id, owner, 1)])
            .await,
        "other guild",
    )
    .unwrap_or_else(|r| panic!("refused: {r:?}"));
    let list = |q: AuditQuery| {
        let store = store.clone();
        async move {
            ok(store.audit_log(g.id, &q).await, "audit")
                .iter()
                .map(|e| e.id.as_i64())
                .collect::<Vec<_>>()
        }
    };
    let all = AuditQuery {
        limit: 50,
        ..AuditQuery::default()
    };
    assert_eq!(list(all).await, vec![1005, 1004, 1003, 1002, 1001]);
    assert_eq!(
        list(AuditQuery {
            user_id: Some(other),
            ..all
        })
        .await,
        vec![1005, 1002]
    );
    assert_eq!(
        list(AuditQuery {
            action_type: Some(1),
            ..all
        })
        .await,
        vec![1004, 1002, 1001]
    );
    assert_eq!(
        list(AuditQuery {
            user_id: Some(owner),
            action_type: Some(30),
            ..all
        })
        .await,
        vec![1003]
    );
    assert_eq!(list(AuditQuery { limit: 2, ..all }).await, vec![1005, 1004]);
    assert_eq!(
        list(AuditQuery {
            before: Some(Snowflake::from_i64(1004)),
            limit: 2,
            ..all
        })
        .await,
        vec![1003, 1002]
    );
    assert_eq!(
        list(AuditQuery {
            after: Some(Snowflake::from_i64(1001)),
            limit: 2,
            ..all
        })
        .await,
        vec![1003, 1002],
        "after pages forward from the oldest, shown newest first"
    );
    assert_eq!(
        list(AuditQuery {
            after: Some(Snowflake::from_i64(1001)),
            before: Some(Snowflake::from_i64(1004)),
            ..all
        })
        .await,
        vec![1003, 1002]
    );
    let read = ok(
        store.audit_log(g.id, &AuditQuery { limit: 1, ..all }).await,
        "one",
    );
    assert_eq!(read[0], entries[4]);
}
