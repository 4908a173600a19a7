//! Reading history: one message, or a page before, after or around a message.

use beep_store::messages::Page;
use beep_types::v10::message::Message;
use beep_types::{ChannelId, ErrorCode, MessageId, Permissions};
use serde::Deserialize;

use super::render::ReactionScope;
use super::{Access, Messages};
use crate::accounts::Principal;
use crate::error::{Error, Result};
use crate::guilds::forms::Problems;

/// Default page size.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page size.
pub const MAX_LIMIT: u32 = 100;

/// The query of `GET /channels/{id}/messages`, as the client wrote it: every
/// value is text until [`HistoryQuery::page`] has checked it, so a bad limit or
/// id is a field error rather than a generic rejection.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct HistoryQuery {
    /// Messages before this id.
    pub before: Option<String>,
    /// Messages after this id.
    pub after: Option<String>,
    /// Messages around this id.
    pub around: Option<String>,
    /// 1 to 100, default 50.
    pub limit: Option<String>,
}

impl HistoryQuery {
    /// The page asked for: at most one of `before`, `after`, `around`; a limit
    /// from 1 to 100. Anything else is `Invalid Form Body` naming the field.
    pub fn page(&self) -> Result<(Page, u32)> {
        let mut p = Problems::new();
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(n) if (1..=i64::from(MAX_LIMIT)).contains(&n) => n as u32,
                Ok(_) => {
                    p.add(
                        "limit",
                        "NUMBER_TYPE_OUT_OF_RANGE",
                        "Must be between 1 and 100.",
                    );
                    DEFAULT_LIMIT
                }
                Err(_) => {
                    p.add(
                        "limit",
                        "NUMBER_TYPE_COERCE",
                        format!("Value \"{raw}\" is not int."),
                    );
                    DEFAULT_LIMIT
                }
            },
        };
        let mut id = |field: &str, raw: Option<&String>| -> Option<MessageId> {
            let raw = raw?;
            match raw.parse::<MessageId>() {
                Ok(id) => Some(id),
                Err(_) => {
                    p.add(
                        field,
                        "NUMBER_TYPE_COERCE",
                        format!("Value \"{raw}\" is not snowflake."),
                    );
                    None
                }
            }
        };
        let before = id("before", self.before.as_ref());
        let after = id("after", self.after.as_ref());
        let around = id("around", self.around.as_ref());
        let given = [
            self.before.is_some(),
            self.after.is_some(),
            self.around.is_some(),
        ]
        .into_iter()
        .filter(|g| *g)
        .count();
        if given > 1 {
            p.add(
                "_query",
                "QUERY_MUTUALLY_EXCLUSIVE",
                "Only one of before, after and around may be given.",
            );
        }
        p.finish()?;
        let page = match (before, after, around) {
            (Some(b), _, _) => Page::Before(b),
            (_, Some(a), _) => Page::After(a),
            (_, _, Some(a)) => Page::Around(a),
            _ => Page::Latest,
        };
        Ok((page, limit))
    }
}

impl Messages {
    /// `GET /channels/{id}/messages`: a page of history, newest first. Without
    /// `READ_MESSAGE_HISTORY` the page is empty, as on Discord.
    pub async fn history(
        &self,
        me: &Principal,
        channel: ChannelId,
        query: &HistoryQuery,
    ) -> Result<Vec<Message>> {
        let access = self.message_access(me.user_id, channel).await?;
        let (page, limit) = query.page()?;
        if !access.holds(Permissions::READ_MESSAGE_HISTORY) {
            return Ok(Vec::new());
        }
        let records = self.store.messages_page(channel, page, limit).await?;
        let mut list = self
            .render
            .many(&records, me.user_id, ReactionScope::Range)
            .await?;
        self.present(me, &access, &mut list).await?;
        Ok(list)
    }

    /// The last step of every read of messages (history, one message, pins):
    /// receipts in private channels, and the content blanked for a bot without
    /// the MESSAGE_CONTENT intent (see [`Messages::blanks_content`]).
    pub(crate) async fn present(
        &self,
        me: &Principal,
        access: &Access,
        list: &mut [Message],
    ) -> Result<()> {
        self.receipts(access, list).await?;
        if self.blanks_content(me, access.guild_id().is_some()).await? {
            for m in list {
                blank_content(m, me);
            }
        }
        Ok(())
    }

    /// Whether `me` reads this channel's messages without their content, as on
    /// Discord's REST API: a bot whose application lacks the MESSAGE_CONTENT
    /// intent flags, in a guild channel (DMs keep it). A bot without an
    /// application (`beep admin create-bot`) keeps it.
    pub(crate) async fn blanks_content(&self, me: &Principal, in_guild: bool) -> Result<bool> {
        if !me.bot || !in_guild {
            return Ok(false);
        }
        let app = self
            .store
            .application(beep_types::ApplicationId(me.user_id.0))
            .await?;
        Ok(app.is_some_and(|a| {
            !crate::applications::privileged_intents(u64::try_from(a.flags).unwrap_or(0))
                .contains(beep_types::Intents::MESSAGE_CONTENT)
        }))
    }

    /// Fill the receipts of messages of a private channel (see
    /// `notifications::receipts`); nothing in a guild channel.
    pub(crate) async fn receipts(&self, access: &Access, list: &mut [Message]) -> Result<()> {
        let Some(recipients) = access.recipients() else {
            return Ok(());
        };
        if list.is_empty() {
            return Ok(());
        }
        let positions = self
            .notifications
            .receipt_positions(access.channel_id(), &recipients)
            .await?;
        for m in list {
            let r = crate::notifications::receipts::receipt_of(&positions, m.author.id, m.id);
            m.receipt = Some(r.as_str().to_owned());
        }
        Ok(())
    }

    /// `GET /channels/{id}/messages/{id}`: one message; needs
    /// `READ_MESSAGE_HISTORY`.
    pub async fn message(
        &self,
        me: &Principal,
        channel: ChannelId,
        id: MessageId,
    ) -> Result<Message> {
        let access = self.message_access(me.user_id, channel).await?;
        if !access.holds(Permissions::READ_MESSAGE_HISTORY) {
            return Err(Error::new(ErrorCode::MissingPermissions));
        }
        let m = self.message_in(&access, id).await?;
        let mut one = [self.render.one(&m, me.user_id, ReactionScope::Each).await?];
        self.present(me, &access, &mut one).await?;
        let [m] = one;
        Ok(m)
    }
}

/// Empty what MESSAGE_CONTENT guards (content, embeds, attachments,
/// components), except in `me`'s own messages and those mentioning `me`; the
/// message replied to is judged on its own.
pub(crate) fn blank_content(m: &mut Message, me: &Principal) {
    if let Some(Some(r)) = m.referenced_message.as_mut() {
        blank_content(r, me);
    }
    if m.author.id == me.user_id || m.mentions.iter().any(|u| u.user.id == me.user_id) {
        return;
    }
    m.content.clear();
    m.embeds.clear();
    m.attachments.clear();
    m.components.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(
        before: Option<&str>,
        after: Option<&str>,
        around: Option<&str>,
        limit: Option<&str>,
    ) -> HistoryQuery {
        HistoryQuery {
            before: before.map(Into::into),
            after: after.map(Into::into),
            around: around.map(Into::into),
            limit: limit.map(Into::into),
        }
    }

    #[test]
    fn limits_are_one_to_a_hundred() {
        assert_eq!(q(None, None, None, None).page().expect("default").1, 50);
        assert_eq!(q(None, None, None, Some("1")).page().expect("1").1, 1);
        assert_eq!(q(None, None, None, Some("100")).page().expect("100").1, 100);
        for bad in [
            "0",
            "101",
            "-1",
            "99999999999999999999999",
            "ten",
            "",
            "1.5",
        ] {
            let e = q(None, None, None, Some(bad)).page().expect_err(bad);
            assert!(e.fields.contains_key("limit"), "{bad}: {e:?}");
        }
    }

    #[test]
    fn one_cursor_at_most() {
        assert_eq!(
            q(Some("5"), None, None, None).page().expect("before").0,
            Page::Before(MessageId::from_i64(5))
        );
        assert_eq!(
            q(None, None, Some("5"), None).page().expect("around").0,
            Page::Around(MessageId::from_i64(5))
        );
        let e = q(Some("5"), Some("6"), None, None).page().expect_err("two");
        assert!(e.fields.contains_key("_query"), "{e:?}");
        let e = q(Some("-5"), None, None, None).page().expect_err("bad id");
        assert!(e.fields.contains_key("before"), "{e:?}");
    }
}
