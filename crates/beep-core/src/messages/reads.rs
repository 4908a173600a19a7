//! Typing indicators, acks and read states with unread and mention counts.

use std::collections::HashMap;

use beep_types::v10::channel::Timestamp;
use beep_types::v10::message::{Ack, AckToken, ReadState};
use beep_types::{ChannelId, ErrorCode, GuildId, Intents, MessageId, Permissions};
use serde_json::json;

use super::Messages;
use crate::accounts::Principal;
use crate::error::Result;
use crate::events::{Audience, Event};

impl Messages {
    /// `POST /channels/{id}/typing`: tell the channel that `me` is typing.
    pub async fn typing(&self, me: &Principal, channel: ChannelId) -> Result<()> {
        let access = self.message_access(me.user_id, channel).await?;
        access.require(Permissions::SEND_MESSAGES)?;
        self.publish(
            "TYPING_START",
            json!({
                "channel_id": channel,
                "guild_id": access.guild_id(),
                "user_id": me.user_id,
                "timestamp": chrono::Utc::now().timestamp(),
                "member": access.member_json(),
            }),
            &access,
            Intents::GUILD_MESSAGE_TYPING,
        );
        Ok(())
    }

    /// `POST /channels/{id}/messages/{id}/ack`: `me` has read the channel up to
    /// this message (or, with `manual`, marks it unread from there). Sent as
    /// `MESSAGE_ACK` to `me`'s other sessions only.
    pub async fn ack(
        &self,
        me: &Principal,
        channel: ChannelId,
        id: MessageId,
        body: &Ack,
    ) -> Result<AckToken> {
        let access = self.message_access(me.user_id, channel).await?;
        self.message_in(&access, id).await?;
        let manual = body.manual.unwrap_or(false);
        let at = self
            .store
            .ack(me.user_id, channel, id, manual, chrono::Utc::now())
            .await?;
        if !manual {
            self.notifications
                .channel_read(me.user_id, channel, at)
                .await?;
            if access.guild_id().is_none() {
                // Receipts of the other recipients' messages may now be `read`.
                self.notifications
                    .private_read(me.user_id, channel, at)
                    .await?;
            }
        }
        self.bus.publish(Event {
            name: "MESSAGE_ACK",
            data: json!({
                "channel_id": channel,
                "guild_id": access.guild_id(),
                "message_id": at,
                "version": chrono::Utc::now().timestamp_millis(),
                "manual": manual,
            }),
            audience: Audience::Users(vec![me.user_id]),
            intent: None,
        });
        Ok(AckToken { token: None })
    }

    /// `GET /users/@me/read-states`: how far `me` read each channel they can
    /// still view, with unread and mention counts.
    pub async fn read_states(&self, me: &Principal) -> Result<Vec<ReadState>> {
        let states = self.store.read_states(me.user_id).await?;
        // Check visibility guild by guild: one guild context and one channel
        // list per guild, whatever the number of channels.
        let mut visible: HashMap<GuildId, Vec<ChannelId>> = HashMap::new();
        for g in states.iter().filter_map(|s| s.guild_id) {
            if visible.contains_key(&g) {
                continue;
            }
            let mut ids = Vec::new();
            match self.guilds.ctx(me.user_id, g).await {
                Ok(ctx) => {
                    let layout = self.store.channel_layout(g).await?;
                    for ch in &layout.channels {
                        if ctx.in_channel(ch).contains(Permissions::VIEW_CHANNEL) {
                            ids.push(ch.id);
                        }
                    }
                }
                Err(e) if e.code == ErrorCode::UnknownGuild => {}
                Err(e) => return Err(e),
            }
            visible.insert(g, ids);
        }
        Ok(states
            .into_iter()
            .filter(|s| match s.guild_id {
                Some(g) => visible
                    .get(&g)
                    .is_some_and(|ids| ids.contains(&s.channel_id)),
                // Direct conversations: the store only lists what the user is in.
                None => true,
            })
            .map(|s| ReadState {
                id: s.channel_id,
                last_message_id: Some(s.last_message_id),
                mention_count: s.mention_count,
                unread_count: s.unread_count,
                channel_last_message_id: s.channel_last_message_id,
                last_pin_timestamp: s.last_pin_at.map(Timestamp),
                flags: 0,
            })
            .collect())
    }
}
