//! Reactions: anyone who can read the history may add a reaction that is
//! already there; a new emoji needs `ADD_REACTIONS`; removing others' needs
//! `MANAGE_MESSAGES`. At most `max_reaction_emojis` emojis per message.

use beep_store::Refusal;
use beep_types::v10::user::PublicUser;
use beep_types::{ChannelId, ErrorCode, Intents, MessageId, Permissions, UserId};
use serde::Deserialize;
use serde_json::json;

use super::{Messages, emoji};
use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::guilds::forms::Problems;
use crate::guilds::{convert, unexpected};

/// Default and largest page of `GET .../reactions/{emoji}`.
pub const DEFAULT_REACTION_USERS: u32 = 25;
pub const MAX_REACTION_USERS: u32 = 100;

/// The query of `GET .../reactions/{emoji}`, as text until checked.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ReactionUsersQuery {
    /// Users with a larger id than this.
    pub after: Option<String>,
    /// 1 to 100, default 25.
    pub limit: Option<String>,
    /// 0 normal reactions (the only kind Beep has), 1 super reactions.
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

impl ReactionUsersQuery {
    fn parse(&self) -> Result<(Option<UserId>, u32, bool)> {
        let mut p = Problems::new();
        let after = match &self.after {
            Some(raw) => match raw.parse::<UserId>() {
                Ok(id) => Some(id),
                Err(_) => {
                    p.add(
                        "after",
                        "NUMBER_TYPE_COERCE",
                        format!("Value \"{raw}\" is not snowflake."),
                    );
                    None
                }
            },
            None => None,
        };
        let limit = match self.limit.as_deref().map(|l| l.trim().parse::<i64>()) {
            None => DEFAULT_REACTION_USERS,
            Some(Ok(n)) if (1..=i64::from(MAX_REACTION_USERS)).contains(&n) => n as u32,
            Some(_) => {
                p.add(
                    "limit",
                    "NUMBER_TYPE_OUT_OF_RANGE",
                    "Must be between 1 and 100.",
                );
                DEFAULT_REACTION_USERS
            }
        };
        let burst = match self.kind.as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => {
                p.add("type", "BASE_TYPE_CHOICES", "Value must be one of (0, 1).");
                false
            }
        };
        p.finish()?;
        Ok((after, limit, burst))
    }
}

impl Messages {
    /// `PUT .../reactions/{emoji}/@me`.
    pub async fn react(
        &self,
        me: &Principal,
        channel: ChannelId,
        id: MessageId,
        raw: &str,
    ) -> Result<()> {
        let access = self.message_access(me.user_id, channel).await?;
        access.require(Permissions::READ_MESSAGE_HISTORY)?;
        let e = emoji::parse(raw)?;
        let m = self.message_in(&access, id).await?;
        if !access.holds(Permissions::ADD_REACTIONS) {
            let present = self
                .store
                .reaction_users(channel, id, &e.key, None, 1)
                .await?;
            if present.is_empty() {
                return Err(Error::new(ErrorCode::MissingPermissions));
            }
        }
        let added = self
            .store
            .add_reaction(channel, id, &e, me.user_id, self.limits.max_reaction_emojis)
            .await?;
        match added {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(Refusal::LimitReached) => return Err(Error::new(ErrorCode::MaxReactions)),
            Err(r) => return Err(unexpected(r)),
        }
        self.publish(
            "MESSAGE_REACTION_ADD",
            json!({
                "user_id": me.user_id,
                "channel_id": channel,
                "message_id": id,
                "guild_id": access.guild_id(),
                "member": access.member_json(),
                "emoji": emoji::partial(&e),
                "message_author_id": m.author_id,
                "burst": false,
                "burst_colors": [],
                "type": 0,
            }),
            &access,
            Intents::GUILD_MESSAGE_REACTIONS,
        );
        Ok(())
    }

    /// `DELETE .../reactions/{emoji}/@me` and `DELETE .../reactions/{emoji}/{user}`
    /// (someone else's needs `MANAGE_MESSAGES`).
    pub async fn unreact(
        &self,
        me: &Principal,
        channel: ChannelId,
        id: MessageId,
        raw: &str,
        user: Option<UserId>,
    ) -> Result<()> {
        let access = self.message_access(me.user_id, channel).await?;
        let user = user.unwrap_or(me.user_id);
        if user != me.user_id {
            access.require(Permissions::MANAGE_MESSAGES)?;
        }
        let e = emoji::parse(raw)?;
        self.message_in(&access, id).await?;
        if self
            .store
            .remove_reaction(channel, id, &e.key, user)
            .await?
        {
            self.publish(
                "MESSAGE_REACTION_REMOVE",
                json!({
                    "user_id": user,
                    "channel_id": channel,
                    "message_id": id,
                    "guild_id": access.guild_id(),
                    "emoji": emoji::partial(&e),
                    "burst": false,
                    "type": 0,
                }),
                &access,
                Intents::GUILD_MESSAGE_REACTIONS,
            );
        }
        Ok(())
    }

    /// `GET .../reactions/{emoji}?after&limit`: who reacted, by user id.
    pub async fn reaction_users(
        &self,
        me: &Principal,
        channel: ChannelId,
        id: MessageId,
        raw: &str,
        q: &ReactionUsersQuery,
    ) -> Result<Vec<PublicUser>> {
        let access = self.message_access(me.user_id, channel).await?;
        access.require(Permissions::READ_MESSAGE_HISTORY)?;
        let e = emoji::parse(raw)?;
        let (after, limit, burst) = q.parse()?;
        self.message_in(&access, id).await?;
        if burst {
            return Ok(Vec::new());
        }
        let users = self
            .store
            .reaction_users(channel, id, &e.key, after, limit)
            .await?;
        Ok(users.iter().map(convert::user).collect())
    }

    /// `DELETE .../reactions` (every emoji) and `DELETE .../reactions/{emoji}`
    /// (one emoji), with `MANAGE_MESSAGES`.
    pub async fn clear_reactions(
        &self,
        me: &Principal,
        channel: ChannelId,
        id: MessageId,
        raw: Option<&str>,
    ) -> Result<()> {
        let access = self.message_access(me.user_id, channel).await?;
        access.require(Permissions::MANAGE_MESSAGES)?;
        let e = raw.map(emoji::parse).transpose()?;
        self.message_in(&access, id).await?;
        match e {
            None => {
                if self.store.remove_all_reactions(channel, id).await? > 0 {
                    self.publish(
                        "MESSAGE_REACTION_REMOVE_ALL",
                        json!({"channel_id": channel, "message_id": id, "guild_id": access.guild_id()}),
                        &access,
                        Intents::GUILD_MESSAGE_REACTIONS,
                    );
                }
            }
            Some(e) => {
                if self
                    .store
                    .remove_emoji_reactions(channel, id, &e.key)
                    .await?
                    > 0
                {
                    self.publish(
                        "MESSAGE_REACTION_REMOVE_EMOJI",
                        json!({
                            "channel_id": channel,
                            "message_id": id,
                            "guild_id": access.guild_id(),
                            "emoji": emoji::partial(&e),
                        }),
                        &access,
                        Intents::GUILD_MESSAGE_REACTIONS,
                    );
                }
            }
        }
        Ok(())
    }
}
