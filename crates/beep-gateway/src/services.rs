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

/// Discord's application flags telling a bot its privileged intents are on.
const APP_FLAG_GATEWAY_PRESENCE: u64 = 1 << 12;
const APP_FLAG_GATEWAY_GUILD_MEMBERS: u64 = 1 << 14;
const APP_FLAG_GATEWAY_MESSAGE_CONTENT: u64 = 1 << 18;

/// The application flags that tell a bot which privileged intents it may use.
pub fn application_flags(privileged: Intents) -> u64 {
    let mut flags = 0u64;
    if privileged.contains(Intents::GUILD_PRESENCES) {
        flags |= APP_FLAG_GATEWAY_PRESENCE;
    }
    if privileged.contains(Intents::GUILD_MEMBERS) {
        flags |= APP_FLAG_GATEWAY_GUILD_MEMBERS;
    }
    if privileged.contains(Intents::MESSAGE_CONTENT) {
        flags |= APP_FLAG_GATEWAY_MESSAGE_CONTENT;
    }
    flags
}

/// Longest token accepted (a JWT or a bot token is far shorter).
const MAX_TOKEN: usize = 2048;

/// The directory over the domain services.
#[derive(Clone)]
pub struct ServicesDirectory {
    services: Services,
    /// Privileged intents bots of this instance may ask for.
    bot_privileged: Intents,
}

impl std::fmt::Debug for ServicesDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServicesDirectory").finish_non_exhaustive()
    }
}

impl ServicesDirectory {
    /// A directory over `services`; bots may ask for the privileged intents in
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
        // A bot's application shares the bot user's id, as on Discord.
        let application = principal
            .bot
            .then(|| json!({"id": user.id, "flags": application_flags(self.bot_privileged)}));
        Ok(Account {
            user: me,
            application,
            privileged: if principal.bot {
                self.bot_privileged
            } else {
                Intents::PRIVILEGED
            },
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

    async fn friends(&self, _user: UserId) -> DirResult<Vec<UserId>> {
        // Relationships (issue 6) do not exist yet: nobody has friends.
        Ok(Vec::new())
    }

    async fn may_see_presence(&self, viewer: UserId, target: UserId) -> DirResult<bool> {
        if viewer == target {
            return Ok(true);
        }
        self.services
            .guilds
            .share_a_guild(viewer, target)
            .await
            .map_err(unavailable)
    }

    async fn user_went_offline(&self, user: UserId) {
        if let Err(e) = self.services.guilds.end_temporary_memberships(user).await {
            tracing::warn!(user = %user, cause = ?e, "cannot end temporary memberships");
        }
    }
}
