//! The [`Directory`] of a node, answered by the domain services of `beep-core`.

use async_trait::async_trait;
use beep_core::Services;
use beep_core::accounts::{Principal, current_user};
use beep_types::v10::channel::Timestamp;
use beep_types::{ErrorCode, GuildId, Intents, UserId};
use serde_json::{Value, json};

use crate::directory::{
    Account, DirResult, Directory, DirectoryError, GuildAccess, GuildSnapshot, MemberQuery,
};

/// The application flags that tell a bot which privileged intents it may use.
pub fn application_flags(privileged: Intents) -> u64 {
    beep_core::applications::flags_for(privileged)
}

/// Longest token accepted (a JWT or a bot token is far shorter).
const MAX_TOKEN: usize = 2048;

/// The directory over the domain services.
#[derive(Clone)]
pub struct ServicesDirectory {
    services: Services,
    /// Privileged intents of bots without an application.
    bot_privileged: Intents,
}

impl std::fmt::Debug for ServicesDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServicesDirectory").finish_non_exhaustive()
    }
}

impl ServicesDirectory {
    /// A directory over `services`; a bot may ask for the privileged intents its
    /// application's flags enable, a bot without an application for those in
    /// `bot_privileged`.
    pub fn new(services: Services, bot_privileged: Intents) -> Self {
        ServicesDirectory {
            services,
            bot_privileged: bot_privileged & Intents::PRIVILEGED,
        }
    }
}

fn unavailable(e: beep_core::Error) -> DirectoryError {
    DirectoryError::Unavailable(format!(
        "{}: {}",
        e.code.message(),
        e.cause.unwrap_or_default()
    ))
}

fn dir_err(e: beep_core::Error) -> DirectoryError {
    if e.code == ErrorCode::Unauthorized {
        DirectoryError::Unauthorized
    } else {
        unavailable(e)
    }
}

#[async_trait]
impl Directory for ServicesDirectory {
    async fn authenticate(&self, token: &str) -> DirResult<Principal> {
        let token = token.trim();
        if token.is_empty() || token.len() > MAX_TOKEN {
            return Err(DirectoryError::Unauthorized);
        }
        match self.services.accounts.authenticate(token).await {
            Ok(p) => Ok(p),
            Err(e) if e.code == ErrorCode::Unauthorized => {
                // discord.py sends a bot token without its `Bot ` prefix.
                let prefixed = token.starts_with("Bot ") || token.starts_with("Bearer ");
                if prefixed {
                    return Err(DirectoryError::Unauthorized);
                }
                self.services
                    .accounts
                    .authenticate(&format!("Bot {token}"))
                    .await
                    .map_err(dir_err)
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    async fn still_valid(&self, principal: &Principal, token: &str) -> bool {
        match principal.session_id {
            // A user's access token expires within minutes while the connection
            // lives on: what must hold is the session, not the token.
            Some(sid) => match self.services.store.session(sid).await {
                Ok(Some(s)) => !s.revoked && s.user_id == principal.user_id,
                Ok(None) => false,
                Err(_) => true,
            },
            None => match self.authenticate(token).await {
                Ok(p) => p.user_id == principal.user_id,
                Err(DirectoryError::Unauthorized) => false,
                Err(DirectoryError::Unavailable(_)) => true,
            },
        }
    }

    async fn account(&self, principal: &Principal) -> DirResult<Account> {
        let user = self
            .services
            .accounts
            .user(principal.user_id)
            .await
            .map_err(|e| {
                if e.code == ErrorCode::UnknownUser {
                    DirectoryError::Unauthorized
                } else {
                    unavailable(e)
                }
            })?;
        let me = serde_json::to_value(current_user(&user))
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))?;
        // A bot's application shares the bot user's id, as on Discord; its flags
        // say which privileged intents the bot may use. A bot without an
        // application (`beep admin create-bot`) has the instance's default.
        let (privileged, application) = if principal.bot {
            let app = self
                .services
                .store
                .application(beep_types::ApplicationId(user.id.0))
                .await
                .map_err(|e| DirectoryError::Unavailable(e.to_string()))?;
            let flags = match app {
                Some(a) => u64::try_from(a.flags).unwrap_or(0),
                None => application_flags(self.bot_privileged),
            };
            (
                beep_core::applications::privileged_intents(flags),
                Some(json!({"id": user.id, "flags": flags})),
            )
        } else {
            (Intents::PRIVILEGED, None)
        };
        // DMs and relationships for people; bots get none in READY, as on Discord.
        let (private_channels, relationships) = if principal.bot {
            (Vec::new(), Vec::new())
        } else {
            let social = &self.services.social;
            (
                social
                    .ready_private_channels(user.id)
                    .await
                    .map_err(unavailable)?,
                social
                    .ready_relationships(user.id)
                    .await
                    .map_err(unavailable)?,
            )
        };
        Ok(Account {
            private_channels,
            relationships,
            user: me,
            application,
            privileged,
            settings: if user.settings.is_object() {
                user.settings.clone()
            } else {
                json!({})
            },
        })
    }

    async fn guild_ids(&self, user: UserId) -> DirResult<Vec<GuildId>> {
        self.services
            .guilds
            .guild_ids_of_user(user)
            .await
            .map_err(unavailable)
    }

    async fn guild_access(
        &self,
        guild: GuildId,
        users: &[UserId],
    ) -> DirResult<Option<GuildAccess>> {
        let access = self
            .services
            .guilds
            .gateway_access(guild, users)
            .await
            .map_err(unavailable)?;
        Ok(access.map(|a| GuildAccess {
            ctx: a.ctx,
            channels: a.channels.into_iter().collect(),
            members: a.members.into_iter().collect(),
        }))
    }

    async fn guild_snapshot(
        &self,
        guild: GuildId,
        user: UserId,
        member_limit: u32,
    ) -> DirResult<Option<GuildSnapshot>> {
        let snap = self
            .services
            .guilds
            .gateway_snapshot(guild, user, member_limit)
            .await
            .map_err(unavailable)?;
        let Some(s) = snap else {
            return Ok(None);
        };
        let json = |v: Result<Value, serde_json::Error>| {
            v.map_err(|e| DirectoryError::Unavailable(e.to_string()))
        };
        Ok(Some(GuildSnapshot {
            guild: json(serde_json::to_value(&s.guild))?,
            channels: s
                .channels
                .iter()
                .map(|c| json(serde_json::to_value(c)))
                .collect::<DirResult<_>>()?,
            members: s
                .members
                .iter()
                .map(|m| json(serde_json::to_value(m)))
                .collect::<DirResult<_>>()?,
            member_count: s.member_count,
            joined_at: json(serde_json::to_value(Timestamp(s.joined_at)))?,
            voice_states: Vec::new(),
        }))
    }

    async fn guild_channels(&self, guild: GuildId, owner: UserId) -> DirResult<Vec<Value>> {
        let list = self
            .services
            .guilds
            .channels(owner, guild)
            .await
            .map_err(unavailable)?;
        list.iter()
            .map(|c| {
                serde_json::to_value(c).map_err(|e| DirectoryError::Unavailable(e.to_string()))
            })
            .collect()
    }

    async fn guild_members(&self, guild: GuildId, query: &MemberQuery) -> DirResult<Vec<Value>> {
        let g = &self.services.guilds;
        let members = match query {
            MemberQuery::Prefix { prefix, limit } => {
                g.gateway_members(guild, prefix, None, *limit).await
            }
            MemberQuery::Ids(ids) => {
                g.gateway_members(guild, "", Some(ids), ids.len() as u32)
                    .await
            }
        }
        .map_err(unavailable)?;
        members
            .iter()
            .map(|m| {
                serde_json::to_value(m).map_err(|e| DirectoryError::Unavailable(e.to_string()))
            })
            .collect()
    }

    async fn friends(&self, user: UserId) -> DirResult<Vec<UserId>> {
        self.services
            .social
            .friends_of(user)
            .await
            .map_err(unavailable)
    }

    async fn may_see_presence(&self, viewer: UserId, target: UserId) -> DirResult<bool> {
        if viewer == target {
            return Ok(true);
        }
        let social = &self.services.social;
        if social
            .blocked_between(viewer, target)
            .await
            .map_err(unavailable)?
        {
            return Ok(false);
        }
        if self
            .services
            .guilds
            .share_a_guild(viewer, target)
            .await
            .map_err(unavailable)?
        {
            return Ok(true);
        }
        Ok(social
            .friends_of(viewer)
            .await
            .map_err(unavailable)?
            .contains(&target))
    }

    async fn blocked_by(&self, user: UserId) -> DirResult<std::collections::HashSet<UserId>> {
        let rows = self
            .services
            .store
            .relationships(user)
            .await
            .map_err(|e| DirectoryError::Unavailable(e.to_string()))?;
        Ok(rows
            .into_iter()
            .filter(|r| r.kind == beep_store::social::RelationshipKind::Blocked)
            .map(|r| r.target.id)
            .collect())
    }

    async fn user_went_offline(&self, user: UserId) {
        if let Err(e) = self.services.guilds.end_temporary_memberships(user).await {
            tracing::warn!(user = %user, cause = ?e, "cannot end temporary memberships");
        }
        if let Err(e) = self.services.notifications.user_offline(user).await {
            tracing::warn!(user = %user, cause = ?e, "cannot end the presence lease");
        }
    }

    async fn users_online(&self, users: &[UserId]) {
        if let Err(e) = self.services.notifications.users_online(users).await {
            tracing::warn!(cause = ?e, "cannot renew presence leases");
        }
    }

    fn message_delivered(&self, event: &Value, users: Vec<UserId>) {
        let (Some(channel), Some(message)) = (
            crate::protocol::id_of(&event["channel_id"]),
            crate::protocol::id_of(&event["id"]),
        ) else {
            return;
        };
        let n = self.services.notifications.clone();
        tokio::spawn(async move {
            let (channel, message) = (
                beep_types::ChannelId(channel),
                beep_types::MessageId(message),
            );
            if let Err(e) = n.delivered(channel, message, &users).await {
                tracing::warn!(cause = ?e, "cannot record a delivery");
            }
        });
    }
}
