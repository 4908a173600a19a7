//! Gateway intents: the bits a gateway client sends in IDENTIFY to choose which
//! groups of events it receives, with Discord's numbering.

bitflags::bitflags! {
    /// Gateway intents (`docs/events/gateway#list-of-intents`).
    ///
    /// `GUILD_MEMBERS`, `GUILD_PRESENCES` and `MESSAGE_CONTENT` are privileged: a bot
    /// may ask for them only when its application is allowed to.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Intents: u64 {
        /// Guild, role and channel create/update/delete.
        const GUILDS = 1 << 0;
        /// Member add/update/remove (privileged).
        const GUILD_MEMBERS = 1 << 1;
        /// Bans and audit-log entries.
        const GUILD_MODERATION = 1 << 2;
        /// Emoji and sticker updates.
        const GUILD_EXPRESSIONS = 1 << 3;
        /// Integration updates.
        const GUILD_INTEGRATIONS = 1 << 4;
        /// Webhook updates.
        const GUILD_WEBHOOKS = 1 << 5;
        /// Invite create/delete.
        const GUILD_INVITES = 1 << 6;
        /// Voice state updates.
        const GUILD_VOICE_STATES = 1 << 7;
        /// Presence updates (privileged).
        const GUILD_PRESENCES = 1 << 8;
        /// Messages in guild channels.
        const GUILD_MESSAGES = 1 << 9;
        /// Reactions in guild channels.
        const GUILD_MESSAGE_REACTIONS = 1 << 10;
        /// Typing in guild channels.
        const GUILD_MESSAGE_TYPING = 1 << 11;
        /// Messages in direct conversations.
        const DIRECT_MESSAGES = 1 << 12;
        /// Reactions in direct conversations.
        const DIRECT_MESSAGE_REACTIONS = 1 << 13;
        /// Typing in direct conversations.
        const DIRECT_MESSAGE_TYPING = 1 << 14;
        /// Message content, embeds and attachments for bots (privileged).
        const MESSAGE_CONTENT = 1 << 15;
        /// Scheduled events.
        const GUILD_SCHEDULED_EVENTS = 1 << 16;
        /// Auto-moderation rule changes.
        const AUTO_MODERATION_CONFIGURATION = 1 << 20;
        /// Auto-moderation actions.
        const AUTO_MODERATION_EXECUTION = 1 << 21;
        /// Poll votes in guild channels.
        const GUILD_MESSAGE_POLLS = 1 << 24;
        /// Poll votes in direct conversations.
        const DIRECT_MESSAGE_POLLS = 1 << 25;
    }
}

impl Intents {
    /// The intents a bot must be allowed before asking for them.
    pub const PRIVILEGED: Intents = Intents::GUILD_MEMBERS
        .union(Intents::GUILD_PRESENCES)
        .union(Intents::MESSAGE_CONTENT);

    /// Parse an IDENTIFY value: `None` when it has a bit Discord does not define
    /// (the gateway closes with 4013 then).
    pub fn from_identify(bits: u64) -> Option<Intents> {
        Intents::from_bits(bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbering_matches_discord() {
        assert_eq!(Intents::GUILD_PRESENCES.bits(), 256);
        assert_eq!(Intents::MESSAGE_CONTENT.bits(), 32768);
        assert_eq!(Intents::DIRECT_MESSAGE_POLLS.bits(), 33554432);
        assert_eq!(Intents::all().bits(), 53608447);
        assert_eq!(Intents::from_identify(1 << 17), None);
        assert_eq!(Intents::from_identify(0), Some(Intents::empty()));
    }
}
