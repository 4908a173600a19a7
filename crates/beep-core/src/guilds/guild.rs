//! The guild itself: create, read, edit, delete, list one's guilds, leave,
//! discovery, and joining a public guild.

use beep_files::ImageKind;
use beep_store::{GuildCreateGuard, GuildPatch, NewChannel, NewGuild, NewMember, NewRole, Refusal};
use beep_types::v10::channel::ChannelType;
use beep_types::v10::guild::{AuditLogEvent, DiscoveryPage, Guild, Member, PartialGuild};
use beep_types::{ChannelId, ErrorCode, GuildId, Intents, Permissions, RoleId, UserId};
use serde_json::Value;
use tracing::info;

use super::forms::{self, CreateGuild, DiscoveryQuery, MyGuildsQuery, Problems, UpdateGuild};
use super::{Changes, Guilds, convert, unexpected};
use crate::error::{Error, Result};
use crate::events::Audience;

/// AFK timeouts Discord accepts, in seconds.
const AFK_TIMEOUTS: [i64; 5] = [60, 300, 900, 1800, 3600];

/// What joining a public guild did.
#[derive(Debug, Clone)]
pub enum Joined {
    /// A new member.
    New(Box<Member>),
    /// Already a member; nothing changed.
    Already,
}

impl Guilds {
    /// `POST /guilds`: a guild owned by `actor`, with `@everyone` (sharing the
    /// guild's id), a `general` text channel and a `General` voice channel.
    pub async fn create_guild(&self, actor: UserId, form: CreateGuild) -> Result<Guild> {
        let mut p = Problems::new();
        let name = forms::name(&mut p, "name", &form.name, 2, 100);
        let description = forms::text(&mut p, "description", form.description.as_deref(), 300);
        let verification =
            forms::within(&mut p, "verification_level", form.verification_level, 0..=4);
        let notifications = forms::within(
            &mut p,
            "default_message_notifications",
            form.default_message_notifications,
            0..=1,
        );
        let filter = forms::within(
            &mut p,
            "explicit_content_filter",
            form.explicit_content_filter,
            0..=2,
        );
        let locale = form
            .preferred_locale
            .as_deref()
            .map(|l| forms::locale(&mut p, "preferred_locale", l));
        p.finish()?;

        let id = GuildId(self.ids.next());
        let icon = match form.icon.as_deref() {
            Some(uri) => Some(self.store_image(ImageKind::Icon, id.0, "icon", uri).await?),
            None => None,
        };
        let text = ChannelId(self.ids.next());
        let voice = ChannelId(self.ids.next());
        let channel = |cid: ChannelId, kind: ChannelType, name: &str, position: i64| NewChannel {
            id: cid,
            guild_id: id,
            kind,
            name: name.to_owned(),
            topic: None,
            position,
            parent_id: None,
            nsfw: false,
            rate_limit_per_user: 0,
            bitrate: (kind == ChannelType::Voice).then_some(64_000),
            user_limit: (kind == ChannelType::Voice).then_some(0),
            rtc_region: None,
            overwrites: Vec::new(),
        };
        let channels = [
            channel(text, ChannelType::Text, "general", 0),
            channel(voice, ChannelType::Voice, "General", 1),
        ];
        let new = NewGuild {
            id,
            name,
            icon,
            description,
            owner_id: actor,
            public: form.public.unwrap_or(false),
            preferred_locale: locale.unwrap_or_else(|| "en-US".to_owned()),
            system_channel_id: Some(text),
            verification_level: verification.unwrap_or(0),
            default_message_notifications: notifications.unwrap_or(0),
            explicit_content_filter: filter.unwrap_or(0),
        };
        let everyone = NewRole {
            id: RoleId(id.0),
            guild_id: id,
            name: "@everyone".into(),
            color: 0,
            hoist: false,
            mentionable: false,
            permissions: Permissions::DEFAULT_EVERYONE,
            icon: None,
            unicode_emoji: None,
        };
        let guard = GuildCreateGuard {
            max_owned: self.limits.max_owned_guilds,
            max_joined: self.limits.max_joined_guilds,
            per_window: self.limits.guild_creations_per_minute,
            window_ms: 60_000,
        };
        let created = match self
            .store
            .create_guild(&new, &everyone, &channels, &guard)
            .await
        {
            Ok(Ok(g)) => g,
            Ok(Err(Refusal::LimitReached)) => return Err(Error::new(ErrorCode::MaxGuilds)),
            Ok(Err(Refusal::RateLimited { retry_after_ms })) => {
                return Err(Error::rate_limited(retry_after_ms as f64 / 1000.0));
            }
            Ok(Err(other)) => return Err(unexpected(other)),
            Err(beep_store::StoreError::NotFound) => {
                return Err(Error::new(ErrorCode::UnknownUser));
            }
            Err(e) => return Err(e.into()),
        };
        info!(action = "GUILD_CREATE", user = %actor, guild = %id, "guild created");
        self.publish_guild_create(actor, id).await?;
        let roles = self.store.roles(id).await?;
        Ok(convert::guild(&created, &roles))
    }

    /// Send `GUILD_CREATE` (the full guild, its channels the user can see and
    /// their membership) to one user who just got the guild.
    pub(crate) async fn publish_guild_create(&self, user: UserId, guild: GuildId) -> Result<()> {
        let ctx = self.ctx(user, guild).await?;
        let layout = self.store.channel_layout(guild).await?;
        let count = self.store.member_count(guild).await?;
        let channels: Vec<_> = layout
            .channels
            .iter()
            .filter(|c| ctx.in_channel(c).contains(Permissions::VIEW_CHANNEL))
            .map(convert::channel)
            .collect();
        let mut data =
            serde_json::to_value(convert::guild(&ctx.guild, &ctx.roles)).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut data {
            let extra = serde_json::json!({
                "joined_at": convert::member(&ctx.member).joined_at,
                "large": count > 250,
                "unavailable": false,
                "member_count": count,
                "members": [convert::member(&ctx.member)],
                "channels": channels,
                "threads": [],
                "presences": [],
                "voice_states": [],
                "stage_instances": [],
                "guild_scheduled_events": [],
                "soundboard_sounds": [],
            });
            if let Value::Object(extra) = extra {
                map.extend(extra);
            }
        }
        self.publish(
            "GUILD_CREATE",
            data,
            Audience::Users(vec![user]),
            Intents::GUILDS,
        );
        Ok(())
    }

    /// `GET /guilds/{id}`: for members only; `with_counts` adds the member count.
    pub async fn guild(&self, actor: UserId, guild: GuildId, with_counts: bool) -> Result<Guild> {
        let ctx = self.ctx(actor, guild).await?;
        let mut g = convert::guild(&ctx.guild, &ctx.roles);
        if with_counts {
            g.approximate_member_count = Some(self.store.member_count(guild).await?);
            g.approximate_presence_count = Some(0);
        }
        Ok(g)
    }

    /// `PATCH /guilds/{id}`: needs `MANAGE_GUILD`; transferring ownership is for
    /// the owner only, and only to a member.
    pub async fn update_guild(
        &self,
        actor: UserId,
        guild: GuildId,
        form: UpdateGuild,
        reason: Option<String>,
    ) -> Result<Guild> {
        let ctx = self.ctx(actor, guild).await?;
        ctx.require(Permissions::MANAGE_GUILD)?;
        if form.owner_id.is_some_and(|o| o != ctx.guild.owner_id) && !ctx.is_owner() {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let mut p = Problems::new();
        let mut patch = GuildPatch {
            name: form
                .name
                .as_deref()
                .map(|n| forms::name(&mut p, "name", n, 2, 100)),
            description: form
                .description
                .as_ref()
                .map(|d| forms::text(&mut p, "description", d.as_deref(), 300)),
            owner_id: form.owner_id.filter(|o| *o != ctx.guild.owner_id),
            public: form.public.or_else(|| {
                form.features
                    .as_ref()
                    .map(|f| f.iter().any(|x| x == "DISCOVERABLE"))
            }),
            afk_timeout: forms::within(&mut p, "afk_timeout", form.afk_timeout, 60..=3600),
            system_channel_flags: forms::within(
                &mut p,
                "system_channel_flags",
                form.system_channel_flags,
                0..=0xff,
            ),
            verification_level: forms::within(
                &mut p,
                "verification_level",
                form.verification_level,
                0..=4,
            ),
            default_message_notifications: forms::within(
                &mut p,
                "default_message_notifications",
                form.default_message_notifications,
                0..=1,
            ),
            explicit_content_filter: forms::within(
                &mut p,
                "explicit_content_filter",
                form.explicit_content_filter,
                0..=2,
            ),
            preferred_locale: form
                .preferred_locale
                .as_deref()
                .map(|l| forms::locale(&mut p, "preferred_locale", l)),
            ..GuildPatch::default()
        };
        if let Some(t) = patch.afk_timeout
            && !AFK_TIMEOUTS.contains(&t)
        {
            p.add(
                "afk_timeout",
                "BASE_TYPE_CHOICES",
                "Value must be one of 60, 300, 900, 1800, 3600.",
            );
        }
        // Channel settings must name channels of this guild, of the right type.
        if form.afk_channel_id.is_some() || form.system_channel_id.is_some() {
            let layout = self.store.channel_layout(guild).await?;
            for (field, value, kind, slot) in [
                (
                    "afk_channel_id",
                    form.afk_channel_id,
                    ChannelType::Voice,
                    &mut patch.afk_channel_id,
                ),
                (
                    "system_channel_id",
                    form.system_channel_id,
                    ChannelType::Text,
                    &mut patch.system_channel_id,
                ),
            ] {
                let Some(value) = value else { continue };
                if let Some(id) = value
                    && !layout.channels.iter().any(|c| c.id == id && c.kind == kind)
                {
                    p.add(
                        field,
                        "CHANNEL_INVALID",
                        "Not a channel of this guild of the right type.",
                    );
                }
                *slot = Some(value);
            }
        }
        p.finish()?;
        for (field, kind, value, slot) in [
            ("icon", ImageKind::Icon, &form.icon, &mut patch.icon),
            ("banner", ImageKind::Banner, &form.banner, &mut patch.banner),
            ("splash", ImageKind::Banner, &form.splash, &mut patch.splash),
        ] {
            *slot = match value {
                None => None,
                Some(None) => Some(None),
                Some(Some(uri)) => Some(Some(self.store_image(kind, guild.0, field, uri).await?)),
            };
        }

        let old = &ctx.guild;
        let changes = Changes::new()
            .diff("name", &old.name, patch.name.as_ref().unwrap_or(&old.name))
            .diff(
                "description",
                &old.description,
                patch.description.as_ref().unwrap_or(&old.description),
            )
            .diff(
                "icon_hash",
                &old.icon,
                patch.icon.as_ref().unwrap_or(&old.icon),
            )
            .diff(
                "banner_hash",
                &old.banner,
                patch.banner.as_ref().unwrap_or(&old.banner),
            )
            .diff(
                "splash_hash",
                &old.splash,
                patch.splash.as_ref().unwrap_or(&old.splash),
            )
            .diff(
                "owner_id",
                &old.owner_id,
                patch.owner_id.as_ref().unwrap_or(&old.owner_id),
            )
            .diff(
                "discoverable",
                &old.public,
                patch.public.as_ref().unwrap_or(&old.public),
            )
            .diff(
                "afk_channel_id",
                &old.afk_channel_id,
                patch.afk_channel_id.as_ref().unwrap_or(&old.afk_channel_id),
            )
            .diff(
                "afk_timeout",
                &old.afk_timeout,
                patch.afk_timeout.as_ref().unwrap_or(&old.afk_timeout),
            )
            .diff(
                "system_channel_id",
                &old.system_channel_id,
                patch
                    .system_channel_id
                    .as_ref()
                    .unwrap_or(&old.system_channel_id),
            )
            .diff(
                "verification_level",
                &old.verification_level,
                patch
                    .verification_level
                    .as_ref()
                    .unwrap_or(&old.verification_level),
            )
            .diff(
                "default_message_notifications",
                &old.default_message_notifications,
                patch
                    .default_message_notifications
                    .as_ref()
                    .unwrap_or(&old.default_message_notifications),
            )
            .diff(
                "explicit_content_filter",
                &old.explicit_content_filter,
                patch
                    .explicit_content_filter
                    .as_ref()
                    .unwrap_or(&old.explicit_content_filter),
            )
            .diff(
                "preferred_locale",
                &old.preferred_locale,
                patch
                    .preferred_locale
                    .as_ref()
                    .unwrap_or(&old.preferred_locale),
            );
        let audit = if changes.is_empty() {
            Vec::new()
        } else {
            vec![self.entry(
                guild,
                actor,
                AuditLogEvent::GUILD_UPDATE,
                Some(guild.to_string()),
                changes,
                reason.as_deref(),
            )]
        };
        let updated = match self.store.update_guild(guild, &patch, &audit).await? {
            Ok(g) => g,
            Err(Refusal::NotMember) => {
                return Err(Error::field(
                    "owner_id",
                    "GUILD_OWNER_NOT_MEMBER",
                    "The new owner must be a member of the guild.",
                ));
            }
            Err(other) => return Err(unexpected(other)),
        };
        let out = convert::guild(&updated, &ctx.roles);
        if !audit.is_empty() {
            self.publish(
                "GUILD_UPDATE",
                serde_json::to_value(&out).unwrap_or(Value::Null),
                Audience::Guild {
                    guild_id: guild,
                    channel_id: None,
                },
                Intents::GUILDS,
            );
            self.publish_audit(&audit);
        }
        Ok(out)
    }

    /// `DELETE /guilds/{id}`: the owner only.
    pub async fn delete_guild(&self, actor: UserId, guild: GuildId) -> Result<()> {
        let ctx = self.ctx(actor, guild).await?;
        if !ctx.is_owner() {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        if !self.store.delete_guild(guild).await? {
            return Err(Error::new(ErrorCode::UnknownGuild));
        }
        info!(action = "GUILD_DELETE", user = %actor, guild = %guild, "guild deleted");
        // Its pictures go through the store's deletion queue (a trigger of
        // the guild's delete).
        // The gateway still knows who was in the guild; the store no longer does.
        self.publish(
            "GUILD_DELETE",
            serde_json::json!({"id": guild.to_string(), "unavailable": false}),
            Audience::Guild {
                guild_id: guild,
                channel_id: None,
            },
            Intents::GUILDS,
        );
        Ok(())
    }

    /// `GET /users/@me/guilds`: the caller's guilds by id, with their permissions.
    pub async fn my_guilds(&self, actor: UserId, q: MyGuildsQuery) -> Result<Vec<PartialGuild>> {
        let limit = q.limit.unwrap_or(200);
        if !(1..=200).contains(&limit) {
            return Err(Error::field(
                "limit",
                "NUMBER_TYPE_MAX",
                "Must be between 1 and 200.",
            ));
        }
        let guilds = self
            .store
            .guilds_of_user(actor, q.after, q.before, limit)
            .await?;
        let counts = if q.with_counts == Some(true) {
            self.store.member_counts_of_user_guilds(actor).await?
        } else {
            Vec::new()
        };
        let mut out = Vec::with_capacity(guilds.len());
        for g in &guilds {
            // A guild left between the two reads is simply skipped.
            let Ok(perms) = self.guild_permissions(actor, g.id).await else {
                continue;
            };
            let mut partial = convert::partial_guild(g, actor, perms);
            if q.with_counts == Some(true) {
                partial.approximate_member_count = Some(
                    counts
                        .iter()
                        .find(|(id, _)| *id == g.id)
                        .map_or(0, |(_, n)| *n),
                );
                partial.approximate_presence_count = Some(0);
            }
            out.push(partial);
        }
        Ok(out)
    }

    /// `DELETE /users/@me/guilds/{id}`: leave a guild; its owner cannot.
    pub async fn leave_guild(&self, actor: UserId, guild: GuildId) -> Result<()> {
        let ctx = self.ctx(actor, guild).await?;
        if ctx.is_owner() {
            return Err(Error::new(ErrorCode::InvalidGuild));
        }
        let Some(removed) = self.store.remove_member(guild, actor, &[]).await? else {
            return Err(Error::new(ErrorCode::UnknownGuild));
        };
        self.publish_member_removed(&removed);
        Ok(())
    }

    /// `PUT /guilds/{id}/members/@me`: join a public guild. Private guilds look
    /// unknown to non-members.
    pub async fn join_public(&self, actor: UserId, guild: GuildId) -> Result<Joined> {
        let Some(g) = self.store.guild(guild).await? else {
            return Err(Error::new(ErrorCode::UnknownGuild));
        };
        if !g.public {
            return match self.store.member(guild, actor).await? {
                Some(_) => Ok(Joined::Already),
                None => Err(Error::new(ErrorCode::UnknownGuild)),
            };
        }
        let m = NewMember {
            guild_id: guild,
            user_id: actor,
            temporary: false,
        };
        match self
            .store
            .add_member(&m, self.limits.max_joined_guilds)
            .await?
        {
            Ok(member) => {
                self.publish_member_added(&member).await?;
                Ok(Joined::New(Box::new(convert::member(&member))))
            }
            Err(Refusal::AlreadyMember) => Ok(Joined::Already),
            Err(Refusal::Banned) => Err(Error::new(ErrorCode::BannedFromGuild)),
            Err(Refusal::LimitReached) => Err(Error::new(ErrorCode::MaxGuilds)),
            Err(other) => Err(unexpected(other)),
        }
    }

    /// `GET /discovery/guilds`: public guilds matching the words of `query`.
    pub async fn discover(&self, q: DiscoveryQuery) -> Result<DiscoveryPage> {
        let limit = q.limit.unwrap_or(20);
        let offset = q.offset.unwrap_or(0);
        let mut p = Problems::new();
        if !(1..=100).contains(&limit) {
            p.add("limit", "NUMBER_TYPE_MAX", "Must be between 1 and 100.");
        }
        if offset > 10_000 {
            p.add("offset", "NUMBER_TYPE_MAX", "Must be 10000 or less.");
        }
        if q.query.chars().count() > 200 {
            p.add(
                "query",
                "BASE_TYPE_MAX_LENGTH",
                "Must be 200 or fewer in length.",
            );
        }
        p.finish()?;
        let found = self.store.discover_guilds(&q.query, limit, offset).await?;
        Ok(DiscoveryPage {
            total: found.total,
            guilds: found.guilds.iter().map(convert::discoverable).collect(),
            offset,
            limit,
        })
    }

    /// Events for a new member: `GUILD_MEMBER_ADD` to the guild, `GUILD_CREATE` to
    /// the newcomer.
    pub(crate) async fn publish_member_added(&self, m: &beep_store::MemberRecord) -> Result<()> {
        self.publish(
            "GUILD_MEMBER_ADD",
            convert::member_event(m),
            Audience::Guild {
                guild_id: m.guild_id,
                channel_id: None,
            },
            Intents::GUILD_MEMBERS,
        );
        self.publish_guild_create(m.user.id, m.guild_id).await
    }

    /// Events for a member gone (left, kicked, banned): `GUILD_MEMBER_REMOVE` to
    /// the guild, `GUILD_DELETE` to the one who is gone.
    pub(crate) fn publish_member_removed(&self, m: &beep_store::MemberRecord) {
        self.publish(
            "GUILD_MEMBER_REMOVE",
            serde_json::json!({"guild_id": m.guild_id.to_string(), "user": convert::user(&m.user)}),
            Audience::Guild {
                guild_id: m.guild_id,
                channel_id: None,
            },
            Intents::GUILD_MEMBERS,
        );
        self.publish(
            "GUILD_DELETE",
            serde_json::json!({"id": m.guild_id.to_string()}),
            Audience::Users(vec![m.user.id]),
            Intents::GUILDS,
        );
    }
}
