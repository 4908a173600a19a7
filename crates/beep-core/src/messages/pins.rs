//! Pins: at most `max_pins` per channel, each pin announced by a system message
//! of type 6 (`CHANNEL_PINNED_MESSAGE`) pointing at the pinned message.

use beep_store::Refusal;
use beep_store::messages::MentionSet;
use beep_types::v10::channel::Timestamp;
use beep_types::v10::message::{Message, message_type};
use beep_types::{ChannelId, ErrorCode, Intents, MessageId, Permissions};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::render::{self, ReactionScope};
use super::send::{Sender, draft};
use super::{Access, Messages};
use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::guilds::unexpected;

/// Most pins in one page of `GET /channels/{id}/messages/pins`.
pub const MAX_PINS_PAGE: u32 = 50;

/// A page of pins (Discord's `GET /channels/{id}/messages/pins`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PinsPage {
    pub items: Vec<PinnedMessage>,
    pub has_more: bool,
}

/// One pinned message and when it was pinned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PinnedMessage {
    pub pinned_at: Timestamp,
    pub message: Message,
}

/// The query of the paged pins endpoint.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PinsQuery {
    /// Pins made before this time.
    pub before: Option<Timestamp>,
    /// 1 to 50, default 50.
    pub limit: Option<i64>,
}

impl Messages {
    /// `GET /channels/{id}/pins`: every pinned message, newest pin first (empty
    /// without `READ_MESSAGE_HISTORY`).
    pub async fn pins(&self, me: &Principal, channel: ChannelId) -> Result<Vec<Message>> {
        let access = self.message_access(me.user_id, channel).await?;
        if !access.holds(Permissions::READ_MESSAGE_HISTORY) {
            return Ok(Vec::new());
        }
        let list = self
            .store
            .pinned_messages(channel, None, self.limits.max_pins)
            .await?;
        let mut rendered = self
            .render
            .many(&list, me.user_id, ReactionScope::Each)
            .await?;
        self.present(me, &access, &mut rendered).await?;
        Ok(rendered)
    }

    /// `GET /channels/{id}/messages/pins?before&limit`: a page of pins.
    pub async fn pins_page(
        &self,
        me: &Principal,
        channel: ChannelId,
        q: &PinsQuery,
    ) -> Result<PinsPage> {
        let access = self.message_access(me.user_id, channel).await?;
        let limit = match q.limit {
            None => MAX_PINS_PAGE,
            Some(n) if (1..=i64::from(MAX_PINS_PAGE)).contains(&n) => n as u32,
            Some(_) => {
                return Err(Error::field(
                    "limit",
                    "NUMBER_TYPE_OUT_OF_RANGE",
                    "Must be between 1 and 50.",
                ));
            }
        };
        if !access.holds(Permissions::READ_MESSAGE_HISTORY) {
            return Ok(PinsPage {
                items: Vec::new(),
                has_more: false,
            });
        }
        let mut list = self
            .store
            .pinned_messages(channel, q.before.map(|t| t.0), limit + 1)
            .await?;
        let has_more = list.len() > limit as usize;
        list.truncate(limit as usize);
        let mut rendered = self
            .render
            .many(&list, me.user_id, ReactionScope::Each)
            .await?;
        self.present(me, &access, &mut rendered).await?;
        let items = list
            .iter()
            .zip(rendered)
            .map(|(r, message)| PinnedMessage {
                pinned_at: Timestamp(r.pinned_at.unwrap_or_default()),
                message,
            })
            .collect();
        Ok(PinsPage { items, has_more })
    }

    /// `PUT /channels/{id}/pins/{id}`: pin, with `PIN_MESSAGES` (or the older
    /// `MANAGE_MESSAGES`). Pinning a pinned message changes nothing.
    pub async fn pin(&self, me: &Principal, channel: ChannelId, id: MessageId) -> Result<()> {
        let access = self.pin_access(me, channel).await?;
        let m = self.message_in(&access, id).await?;
        if m.kind == i64::from(message_type::CHANNEL_PINNED_MESSAGE) {
            return Err(Error::new(ErrorCode::SystemMessage));
        }
        let mut notice = draft(
            MessageId(self.ids.next()),
            &channel,
            access.guild_id(),
            &Sender::User(me.user_id),
            String::new(),
            &[],
            &[],
            Some(&m),
            MentionSet::default(),
        )?;
        notice.kind = i64::from(message_type::CHANNEL_PINNED_MESSAGE);
        let now = chrono::Utc::now();
        let pinned = self
            .store
            .pin_message(channel, id, now, &notice, self.limits.max_pins)
            .await?;
        let notice = match pinned {
            Ok(Some(n)) => n,
            Ok(None) => return Ok(()),
            Err(Refusal::LimitReached) => return Err(Error::new(ErrorCode::MaxPins)),
            Err(r) => return Err(unexpected(r)),
        };
        let msg = self
            .render
            .one(&notice, me.user_id, ReactionScope::None)
            .await?;
        self.publish(
            "MESSAGE_CREATE",
            render::event_payload(msg, access.guild_id(), access.member_json()),
            &access,
            Intents::GUILD_MESSAGES,
        );
        self.pins_changed(&access, id, Some(now)).await
    }

    /// `DELETE /channels/{id}/pins/{id}`: unpin, with `PIN_MESSAGES` (or
    /// `MANAGE_MESSAGES`).
    pub async fn unpin(&self, me: &Principal, channel: ChannelId, id: MessageId) -> Result<()> {
        let access = self.pin_access(me, channel).await?;
        match self.store.unpin_message(channel, id).await {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(beep_store::StoreError::NotFound) => {
                return Err(Error::new(ErrorCode::UnknownMessage));
            }
            Err(e) => return Err(e.into()),
        }
        let last = self.store.last_pin_at(channel).await?;
        self.pins_changed(&access, id, last).await
    }

    /// The channel, if `me` may pin there.
    async fn pin_access(&self, me: &Principal, channel: ChannelId) -> Result<Access> {
        let access = self.message_access(me.user_id, channel).await?;
        if !access.holds_any(Permissions::PIN_MESSAGES | Permissions::MANAGE_MESSAGES) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        Ok(access)
    }

    /// Publish `MESSAGE_UPDATE` for the (un)pinned message and `CHANNEL_PINS_UPDATE`.
    async fn pins_changed(
        &self,
        access: &Access,
        id: MessageId,
        last_pin: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<()> {
        if let Some(m) = self.store.message(access.channel_id(), id).await? {
            let msg = self
                .render
                .one(&m, access.actor(), ReactionScope::None)
                .await?;
            self.publish(
                "MESSAGE_UPDATE",
                render::event_payload(msg, access.guild_id(), None),
                access,
                Intents::GUILD_MESSAGES,
            );
        }
        self.publish(
            "CHANNEL_PINS_UPDATE",
            json!({
                "guild_id": access.guild_id(),
                "channel_id": access.channel_id(),
                "last_pin_timestamp": last_pin.map(Timestamp),
            }),
            access,
            Intents::GUILDS,
        );
        Ok(())
    }
}
