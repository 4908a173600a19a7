//! Conformance cases of `WebhookStore` and `ApplicationStore`.

use beep_types::{ApplicationId, ChannelId, GuildId, Permissions, RoleId, UserId, WebhookId};

use super::guilds::{guild, new_role, user};
use super::messages::setup;
use super::{assert_not_found, ok};
use crate::messages::{NewApplication, NewWebhook, WebhookPatch};
use crate::{DynStore, Refusal, StoreError};

fn hook(id: i64, channel: ChannelId, guild: GuildId, creator: UserId) -> NewWebhook {
    NewWebhook {
        id: WebhookId::from_i64(id),
        guild_id: guild,
        channel_id: channel,
        creator_id: creator,
        name: format!("hook {id}"),
        avatar: Some("abc".into()),
        token: format!("token-{id}"),
        application_id: None,
    }
}

/// Webhooks: created under a per-channel limit, listed by channel and guild,
/// renamed, moved (under the limit of the target), deleted.
pub async fn webhooks_lifecycle(store: DynStore) {
    let (alice, _, g, ch) = setup(&store).await;
    let voice = ChannelId::from_i64(102);
    let w = ok(
        store.create_webhook(&hook(500, ch, g, alice), 2).await,
        "create",
    )
    .unwrap_or_else(|r| panic!("refused {r:?}"));
    assert_eq!(w.id, WebhookId::from_i64(500));
    assert_eq!(w.kind, 1);
    assert_eq!(w.token, "token-500");
    assert_eq!(w.name, "hook 500");
    assert_eq!(w.avatar.as_deref(), Some("abc"));
    assert_eq!(w.creator.as_ref().map(|u| u.id), Some(alice));
    ok(
        store.create_webhook(&hook(501, ch, g, alice), 2).await,
        "second",
    )
    .unwrap_or_else(|r| panic!("refused {r:?}"));
    assert_eq!(
        ok(
            store.create_webhook(&hook(502, ch, g, alice), 2).await,
            "third"
        ),
        Err(Refusal::LimitReached)
    );
    ok(
        store.create_webhook(&hook(503, voice, g, alice), 2).await,
        "other channel",
    )
    .unwrap_or_else(|r| panic!("refused {r:?}"));
    assert_not_found(
        store
            .create_webhook(&hook(504, ChannelId::from_i64(999), g, alice), 2)
            .await,
        "a webhook of a missing channel",
    );

    let list: Vec<_> = ok(store.channel_webhooks(ch).await, "channel list")
        .iter()
        .map(|w| w.id.as_i64())
        .collect();
    assert_eq!(list, vec![500, 501]);
    assert_eq!(ok(store.guild_webhooks(g).await, "guild list").len(), 3);
    assert_eq!(ok(store.webhook(w.id).await, "read").as_ref(), Some(&w));

    let renamed = ok(
        store
            .update_webhook(
                w.id,
                &WebhookPatch {
                    name: Some("renamed".into()),
                    avatar: Some(None),
                    channel_id: None,
                },
                2,
            )
            .await,
        "rename",
    );
    let renamed = renamed
        .unwrap_or_else(|| panic!("exists"))
        .unwrap_or_else(|r| panic!("refused {r:?}"));
    assert_eq!(renamed.name, "renamed");
    assert_eq!(renamed.avatar, None, "avatar cleared");
    let kept = ok(
        store
            .update_webhook(w.id, &WebhookPatch::default(), 2)
            .await,
        "empty patch",
    )
    .unwrap_or_else(|| panic!("exists"))
    .unwrap_or_else(|r| panic!("refused {r:?}"));
    assert_eq!(kept, renamed);
    ok(
        store.create_webhook(&hook(505, voice, g, alice), 2).await,
        "fill voice",
    )
    .unwrap_or_else(|r| panic!("refused {r:?}"));
    let full = ok(
        store
            .update_webhook(
                w.id,
                &WebhookPatch {
                    channel_id: Some(voice),
                    ..Default::default()
                },
                2,
            )
            .await,
        "move into a full channel",
    );
    assert_eq!(full, Some(Err(Refusal::LimitReached)));
    ok(
        store.delete_webhook(WebhookId::from_i64(505)).await,
        "make room",
    );
    let moved = ok(
        store
            .update_webhook(
                w.id,
                &WebhookPatch {
                    channel_id: Some(voice),
                    ..Default::default()
                },
                2,
            )
            .await,
        "move",
    )
    .unwrap_or_else(|| panic!("exists"))
    .unwrap_or_else(|r| panic!("refused {r:?}"));
    assert_eq!(moved.channel_id, voice);
    assert_eq!(
        ok(
            store
                .update_webhook(WebhookId::from_i64(9), &WebhookPatch::default(), 2)
                .await,
            "missing"
        ),
        None
    );

    let deleted = ok(store.delete_webhook(w.id).await, "delete");
    assert_eq!(deleted.map(|w| w.id), Some(w.id));
    assert_eq!(ok(store.delete_webhook(w.id).await, "again"), None);
    assert_eq!(ok(store.webhook(w.id).await, "gone"), None);

    // The creator's account going leaves the webhook without a creator.
    let carol = user(&store, 3, "carol").await;
    ok(
        store.create_webhook(&hook(506, ch, g, carol), 5).await,
        "carol's",
    )
    .unwrap_or_else(|r| panic!("refused {r:?}"));
    ok(store.delete_user(carol).await, "carol goes");
    let orphan = ok(store.webhook(WebhookId::from_i64(506)).await, "orphan")
        .unwrap_or_else(|| panic!("kept"));
    assert_eq!(orphan.creator, None);
}

/// Applications share their id with their bot user; a bot has at most one
/// managed role per guild.
pub async fn applications_and_bot_roles(store: DynStore) {
    let owner = user(&store, 1, "owner").await;
    let bot = user(&store, 2, "robot").await;
    let a = ok(
        store
            .insert_application(&NewApplication {
                id: ApplicationId::from_i64(2),
                owner_id: owner,
                name: "Robot".into(),
                description: "beeps".into(),
                bot_public: true,
                verify_key: "00ff".into(),
            })
            .await,
        "insert",
    );
    assert_eq!(a.id, ApplicationId::from_i64(2));
    assert_eq!(a.owner_id, owner);
    assert_eq!(a.name, "Robot");
    assert_eq!(a.description, "beeps");
    assert!(a.bot_public && !a.bot_require_code_grant);
    assert_eq!(ok(store.application(a.id).await, "read").as_ref(), Some(&a));
    assert_eq!(a.flags, 0, "a new application has no flags");
    let flagged = ok(
        store
            .set_application_flags(a.id, (1 << 12) | (1 << 18))
            .await,
        "set flags",
    )
    .unwrap_or_else(|| panic!("the application exists"));
    assert_eq!(flagged.flags, (1 << 12) | (1 << 18));
    assert_eq!(
        ok(store.application(a.id).await, "read").map(|x| x.flags),
        Some((1 << 12) | (1 << 18))
    );
    assert_eq!(
        ok(
            store
                .set_application_flags(ApplicationId::from_i64(77), 1)
                .await,
            "unknown"
        ),
        None
    );
    let a = ok(store.set_application_flags(a.id, 0).await, "reset").expect("exists");
    assert_eq!(
        ok(store.applications_of_owner(owner).await, "list"),
        vec![a.clone()]
    );
    assert_not_found(
        store
            .insert_application(&NewApplication {
                id: ApplicationId::from_i64(99),
                owner_id: owner,
                name: "Ghost".into(),
                description: String::new(),
                bot_public: true,
                verify_key: "00".into(),
            })
            .await,
        "an application without a bot user",
    );

    let g = guild(&store, 100, owner, "hall").await;
    let role = new_role(300, 100, "Robot", Permissions::SEND_MESSAGES);
    ok(store.create_role(&role, 100, &[]).await, "role")
        .unwrap_or_else(|r| panic!("refused {r:?}"));
    ok(
        store.set_bot_role(g.id, bot, RoleId::from_i64(300)).await,
        "managed role",
    );
    assert_eq!(
        ok(store.bot_role(g.id, bot).await, "read"),
        Some(RoleId::from_i64(300))
    );
    assert_eq!(
        ok(store.bot_roles_of_guild(g.id).await, "of guild"),
        vec![(RoleId::from_i64(300), bot)]
    );
    let second = new_role(301, 100, "Robot 2", Permissions::NONE);
    ok(store.create_role(&second, 100, &[]).await, "role")
        .unwrap_or_else(|r| panic!("refused {r:?}"));
    match store.set_bot_role(g.id, bot, RoleId::from_i64(301)).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a second managed role: expected Conflict, got {other:?}"),
    }
    ok(
        store.delete_role(g.id, RoleId::from_i64(300), &[]).await,
        "delete role",
    );
    assert_eq!(
        ok(store.bot_role(g.id, bot).await, "gone with the role"),
        None
    );

    ok(store.delete_user(bot).await, "the bot account goes");
    assert_eq!(ok(store.application(a.id).await, "gone with the bot"), None);
}
