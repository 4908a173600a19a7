//! Whether a user gets a notification, from their settings and the clock.
//!
//! Discord's semantics: the level is the channel override's unless it says
//! "inherit" (3), then the guild setting's, then the default (only mentions in
//! a guild: Beep writes no inbox row per member for every ordinary message of
//! a server unless the member asked for it; all messages in direct
//! conversations). A mute (of the guild, or of the channel) silences ordinary
//! messages but not mentions, as Discord's "unless you are mentioned"; level 2
//! (nothing) silences everything. A mute with an end time is over once the
//! clock passes it.

use beep_store::notifications::NotificationSettingsRecord;
use beep_types::ChannelId;
use chrono::{DateTime, Utc};

/// Discord's `message_notifications` values.
pub mod level {
    pub const ALL: i64 = 0;
    pub const ONLY_MENTIONS: i64 = 1;
    pub const NOTHING: i64 = 2;
    pub const INHERIT: i64 = 3;
}

/// Why a message might notify a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The user is named in the message (or it pings them as a reply).
    User,
    /// A role of theirs is mentioned.
    Role,
    /// `@everyone` or `@here`.
    Everyone,
    /// Nothing addresses them: an ordinary message.
    Ordinary,
}

/// Whether `reason` notifies a user with `settings` (`None`: never changed)
/// in `channel` at `now`; `dm` selects the defaults of direct conversations.
pub fn notifies(
    settings: Option<&NotificationSettingsRecord>,
    channel: ChannelId,
    reason: Reason,
    dm: bool,
    now: DateTime<Utc>,
) -> bool {
    let default = if dm { level::ALL } else { level::ONLY_MENTIONS };
    let Some(s) = settings else {
        return reason != Reason::Ordinary || default == level::ALL;
    };
    let ov = s.channel(channel);
    let chosen = |l: i64| (level::ALL..=level::NOTHING).contains(&l).then_some(l);
    let lvl = ov
        .and_then(|o| chosen(o.message_notifications))
        .or_else(|| chosen(s.message_notifications))
        .unwrap_or(default);
    let muted = s.mute.active(now) || ov.is_some_and(|o| o.mute.active(now));
    match reason {
        _ if lvl == level::NOTHING => false,
        Reason::Ordinary => lvl == level::ALL && !muted,
        Reason::Everyone => !s.suppress_everyone,
        Reason::Role => !s.suppress_roles,
        Reason::User => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use beep_store::notifications::{ChannelOverrideRecord, Mute};
    use beep_types::{GuildId, UserId};
    use chrono::Duration;

    fn base(level: i64) -> NotificationSettingsRecord {
        let mut s = NotificationSettingsRecord::default_for(
            UserId::from_i64(1),
            Some(GuildId::from_i64(2)),
        );
        s.message_notifications = level;
        s
    }

    const CH: ChannelId = ChannelId(beep_types::Snowflake(7));

    #[test]
    fn defaults() {
        let now = Utc::now();
        assert!(notifies(None, CH, Reason::User, false, now));
        assert!(notifies(None, CH, Reason::Everyone, false, now));
        assert!(!notifies(None, CH, Reason::Ordinary, false, now));
        assert!(
            notifies(None, CH, Reason::Ordinary, true, now),
            "DMs notify"
        );
        assert!(!notifies(Some(&base(3)), CH, Reason::Ordinary, false, now));
    }

    #[test]
    fn mute_silences_ordinary_messages_only_until_its_end() {
        let now = Utc::now();
        let mut s = base(level::ALL);
        assert!(notifies(Some(&s), CH, Reason::Ordinary, false, now));
        s.mute = Mute {
            muted: true,
            end_at: Some(now + Duration::seconds(2)),
            window: None,
        };
        assert!(!notifies(Some(&s), CH, Reason::Ordinary, false, now));
        assert!(
            notifies(Some(&s), CH, Reason::User, false, now),
            "mentions pass"
        );
        let later = now + Duration::seconds(3);
        assert!(
            notifies(Some(&s), CH, Reason::Ordinary, false, later),
            "snooze over"
        );
        s.mute.end_at = None;
        assert!(
            !notifies(Some(&s), CH, Reason::Ordinary, false, later),
            "until unmuted"
        );
    }

    #[test]
    fn overrides_suppression_and_nothing() {
        let now = Utc::now();
        let mut s = base(level::ALL);
        s.channel_overrides.push(ChannelOverrideRecord {
            channel_id: CH,
            message_notifications: level::NOTHING,
            mute: Mute::default(),
        });
        assert!(!notifies(Some(&s), CH, Reason::User, false, now));
        let other = ChannelId(beep_types::Snowflake(8));
        assert!(notifies(Some(&s), other, Reason::Ordinary, false, now));
        s.channel_overrides[0].message_notifications = level::INHERIT;
        s.channel_overrides[0].mute.muted = true;
        assert!(
            !notifies(Some(&s), CH, Reason::Ordinary, false, now),
            "channel muted"
        );
        assert!(notifies(Some(&s), CH, Reason::Role, false, now));
        s.suppress_roles = true;
        s.suppress_everyone = true;
        assert!(!notifies(Some(&s), CH, Reason::Role, false, now));
        assert!(!notifies(Some(&s), CH, Reason::Everyone, false, now));
        assert!(notifies(Some(&s), CH, Reason::User, false, now));
    }
}
