//! Receipts of messages in private channels: `sent` (stored), `delivered`
//! (a `MESSAGE_CREATE` of it reached a live gateway session of every other
//! recipient), `read` (every other recipient acked it or a later message).
//!
//! Positions, not per-message rows: each recipient has a delivery position
//! (`message_deliveries`, moved by the gateway's delivery hook) and a read
//! position (their read state, moved by acks), both only forward. A message's
//! receipt is the weakest over the recipients other than its author, so a page
//! of history costs one position read per recipient (at most 10).
//!
//! `MESSAGE_RECEIPT_UPDATE` `{channel_id, message_id, receipt}` tells the
//! other recipients that their messages in the channel up to `message_id` now
//! have at least `receipt`.

use beep_store::notifications::ReceiptPosition;
use beep_types::{ChannelId, MessageId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Notifications;
use crate::error::Result;
use crate::events::{Audience, Event};

/// The status of a message in a private channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Receipt {
    Sent,
    Delivered,
    Read,
}

impl Receipt {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Receipt::Sent => "sent",
            Receipt::Delivered => "delivered",
            Receipt::Read => "read",
        }
    }
}

/// The receipt of `message` by `author` given everyone's positions.
pub fn receipt_of(positions: &[ReceiptPosition], author: UserId, message: MessageId) -> Receipt {
    positions
        .iter()
        .filter(|p| p.user_id != author)
        .map(|p| {
            if p.read.is_some_and(|r| r >= message) {
                Receipt::Read
            } else if p.delivered.is_some_and(|d| d >= message)
                || p.read.is_some_and(|r| r >= message)
            {
                Receipt::Delivered
            } else {
                Receipt::Sent
            }
        })
        .min()
        .unwrap_or(Receipt::Read)
}

impl Notifications {
    /// The positions of a private channel's recipients, for rendering receipts.
    pub async fn receipt_positions(
        &self,
        channel: ChannelId,
        recipients: &[UserId],
    ) -> Result<Vec<ReceiptPosition>> {
        Ok(self.store.receipt_positions(channel, recipients).await?)
    }

    /// The gateway delivered `message` of private channel `channel` to live
    /// sessions of `users`: move their positions, and tell the author when the
    /// message's receipt changed.
    pub async fn delivered(
        &self,
        channel: ChannelId,
        message: MessageId,
        users: &[UserId],
    ) -> Result<()> {
        let moved = self.store.mark_delivered(channel, users, message).await?;
        if moved.is_empty() {
            return Ok(());
        }
        self.announce_receipt(channel, message, None).await
    }

    /// `user` read private channel `channel` up to `message`.
    pub(crate) async fn private_read(
        &self,
        user: UserId,
        channel: ChannelId,
        message: MessageId,
    ) -> Result<()> {
        self.announce_receipt(channel, message, Some(user)).await
    }

    /// Publish the receipt of messages up to `message` to the recipients other
    /// than `reader` (each sees it for their own messages).
    async fn announce_receipt(
        &self,
        channel: ChannelId,
        message: MessageId,
        reader: Option<UserId>,
    ) -> Result<()> {
        let recipients = self.store.recipients(channel).await?;
        if recipients.is_empty() {
            return Ok(());
        }
        let positions = self.store.receipt_positions(channel, &recipients).await?;
        for author in recipients.iter().filter(|u| Some(**u) != reader) {
            let r = receipt_of(&positions, *author, message);
            if r == Receipt::Sent {
                continue;
            }
            self.bus.publish(Event {
                name: "MESSAGE_RECEIPT_UPDATE",
                data: json!({
                    "channel_id": channel,
                    "message_id": message,
                    "receipt": r.as_str(),
                }),
                audience: Audience::Users(vec![*author]),
                intent: None,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(u: i64, d: Option<i64>, r: Option<i64>) -> ReceiptPosition {
        ReceiptPosition {
            user_id: UserId::from_i64(u),
            delivered: d.map(MessageId::from_i64),
            read: r.map(MessageId::from_i64),
        }
    }

    #[test]
    fn weakest_recipient_decides() {
        let a = UserId::from_i64(1);
        let m = MessageId::from_i64(10);
        let p = [pos(1, None, Some(10)), pos(2, None, None)];
        assert_eq!(receipt_of(&p, a, m), Receipt::Sent);
        let p = [pos(1, None, Some(10)), pos(2, Some(10), None)];
        assert_eq!(receipt_of(&p, a, m), Receipt::Delivered);
        let p = [pos(2, Some(12), Some(11)), pos(3, Some(10), None)];
        assert_eq!(receipt_of(&p, a, m), Receipt::Delivered);
        let p = [pos(2, None, Some(11)), pos(3, Some(10), Some(10))];
        assert_eq!(receipt_of(&p, a, m), Receipt::Read);
        assert_eq!(
            receipt_of(&[pos(1, None, None)], a, m),
            Receipt::Read,
            "alone"
        );
    }
}
