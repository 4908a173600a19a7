//! The one table of errors the API can return: a JSON code, an HTTP status and a
//! message per variant, following Discord's numbering where Discord has the error.
//!
//! Every crate maps its own failures onto an [`ErrorCode`]; the HTTP layer and the
//! gateway turn it into `{"code", "message", "errors"}`.

use serde::Serialize;

macro_rules! error_table {
    ($($(#[$doc:meta])* $name:ident = ($code:expr, $status:expr, $msg:expr);)*) => {
        /// Every error Beep returns to a client.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($(#[$doc])* $name,)* }

        impl ErrorCode {
            /// Every variant, for documentation and tests.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];

            /// The numeric JSON `code`.
            pub fn code(self) -> u32 { match self { $(ErrorCode::$name => $code,)* } }

            /// The HTTP status this error is sent with.
            pub fn status(self) -> u16 { match self { $(ErrorCode::$name => $status,)* } }

            /// The human-readable `message`.
            pub fn message(self) -> &'static str { match self { $(ErrorCode::$name => $msg,)* } }
        }
    };
}

error_table! {
    /// A route that does not exist (Discord answers `404: Not Found` with code 0).
    NotFound = (0, 404, "404: Not Found");
    /// A method the route does not accept.
    MethodNotAllowed = (0, 405, "405: Method Not Allowed");
    /// An unexpected failure inside the server; details go to the log only.
    Internal = (0, 500, "500: Internal Server Error");
    /// A dependency (database, bus, storage) is unavailable right now.
    Unavailable = (0, 503, "503: Service Unavailable");
    UnknownAccount = (10001, 404, "Unknown Account");
    UnknownChannel = (10003, 404, "Unknown Channel");
    UnknownGuild = (10004, 404, "Unknown Guild");
    UnknownInvite = (10006, 404, "Unknown Invite");
    UnknownMember = (10007, 404, "Unknown Member");
    UnknownMessage = (10008, 404, "Unknown Message");
    UnknownOverwrite = (10009, 404, "Unknown Permission Overwrite");
    UnknownRole = (10011, 404, "Unknown Role");
    UnknownToken = (10012, 404, "Unknown Token");
    UnknownUser = (10013, 404, "Unknown User");
    UnknownEmoji = (10014, 404, "Unknown Emoji");
    UnknownWebhook = (10015, 404, "Unknown Webhook");
    UnknownSession = (10020, 404, "Unknown Session");
    UnknownBan = (10026, 404, "Unknown Ban");
    /// A notification that is not the caller's, or whose message is gone (Beep's own code).
    UnknownNotification = (10080, 404, "Unknown Notification");
    /// No valid credentials on a route that needs them.
    Unauthorized = (0, 401, "401: Unauthorized");
    /// Wrong login or password (Discord's body, with field errors, as a 401).
    InvalidLogin = (50035, 401, "Invalid Form Body");
    /// Logging in needs a verified email address on this instance.
    EmailNotVerified = (40002, 401, "You need to verify your email address before logging in.");
    /// A one-time code (email verification, password reset, email change) that is
    /// wrong, used, expired or out of attempts.
    InvalidCode = (50035, 400, "Invalid Form Body");
    /// A login ticket of the two-factor step that is unknown or expired.
    InvalidMfaTicket = (60006, 401, "Invalid two-factor login ticket");
    /// Two-factor authentication is already on (or off) for this account.
    MfaStateConflict = (60001, 400, "Two-factor authentication is already in that state");
    /// The account must verify its email address first.
    VerificationRequired = (40002, 403, "You need to verify your account in order to perform this action.");
    /// The request body (or an upload in it) is larger than allowed.
    PayloadTooLarge = (40005, 413, "Request entity too large");
    /// The unique value (username, email, ...) is taken.
    AlreadyExists = (40007, 409, "Already exists");
    /// Too many requests; the body carries `retry_after`.
    RateLimited = (0, 429, "You are being rate limited.");
    /// Guilds: the user owns or joined as many guilds as allowed.
    MaxGuilds = (30001, 400, "Maximum number of guilds reached");
    /// Guilds: the guild has as many roles as allowed.
    MaxRoles = (30005, 400, "Maximum number of guild roles reached");
    /// Guilds: the guild has as many channels as allowed.
    MaxChannels = (30013, 400, "Maximum number of guild channels reached");
    /// Guilds: the channel or guild has as many invites as allowed.
    MaxInvites = (30016, 400, "Maximum number of invites reached");
    /// Guilds: the user is banned from the guild it tries to join.
    BannedFromGuild = (40007, 403, "The user is banned from this guild.");
    MissingAccess = (50001, 403, "Missing Access");
    /// The action does not apply to this kind of channel (an invite to a folder, ...).
    InvalidChannelType = (50024, 400, "Cannot execute action on this channel type");
    /// A role that cannot be used here (deleting `@everyone`, ...).
    InvalidRole = (50028, 400, "Invalid Role");
    /// An action the guild does not allow (its owner leaving it, ...).
    InvalidGuild = (50055, 400, "Invalid Guild");
    CannotSendEmptyMessage = (50006, 400, "Cannot send an empty message");
    CannotSendToUser = (50007, 403, "Cannot send messages to this user");
    MissingPermissions = (50013, 403, "Missing Permissions");
    InvalidAuthToken = (50014, 401, "Invalid authentication token provided");
    /// A value in the body, path or query failed validation; see `errors`.
    InvalidFormBody = (50035, 400, "Invalid Form Body");
    /// The body is not well-formed JSON (or not UTF-8, or nested too deeply).
    InvalidJson = (50109, 400, "The request body contains invalid JSON.");
    /// The body has a media type the route does not take.
    UnsupportedMediaType = (50109, 415, "The request body must be application/json.");
    /// Two-factor authentication is required for this action.
    MfaRequired = (60003, 403, "Two factor is required for this operation");
    /// A wrong, replayed or used TOTP or backup code (at login too: Discord
    /// answers 400 there, not 401).
    InvalidMfaCode = (60008, 400, "Invalid two-factor code");
    // Messages, reactions, pins, webhooks and applications (issue 5).
    UnknownApplication = (10002, 404, "Unknown Application");
    /// Slow mode: the body carries `retry_after`.
    SlowmodeRateLimited = (20016, 429, "This action cannot be performed due to slowmode rate limit.");
    MaxPins = (30003, 400, "Maximum number of pins reached for the channel (250)");
    MaxWebhooks = (30007, 400, "Maximum number of webhooks reached (15)");
    MaxReactions = (30010, 400, "Maximum number of reactions reached (20)");
    CannotEditOthersMessage = (50005, 403, "Cannot edit a message authored by another user");
    /// Messages in a folder (Discord's category).
    CannotSendToNonText = (50008, 400, "Cannot send messages in a non-text channel");
    BulkDeleteCount = (50016, 400, "Provided too few or too many messages to delete. Must provide at least 2 and fewer than 100 messages to delete.");
    SystemMessage = (50021, 400, "Cannot execute action on a system message");
    InvalidWebhookToken = (50027, 401, "Invalid Webhook Token");
    BulkDeleteTooOld = (50034, 400, "You can only bulk delete messages that are under 14 days old.");
    ReplyWithoutHistory = (160002, 403, "Cannot reply without permission to read message history");
    // Relationships and private channels (issue 6).
    /// A user has as many relationships (friends, requests, blocks) as allowed.
    MaxFriends = (30002, 400, "Maximum number of friends reached");
    /// A group DM has as many recipients as allowed.
    MaxRecipients = (30004, 400, "Maximum number of recipients reached (10)");
    /// The action needs a guild channel (or a group, not a 1:1 DM).
    CannotExecuteOnDm = (50003, 403, "Cannot execute action on a DM channel");
    /// A friend request the other user does not take (blocked either way).
    FriendRequestRefused = (80000, 400, "Incoming friend requests disabled.");
    /// A friend request by a username nobody has.
    UnknownUsername = (80004, 400, "No users with DiscordTag exist");
}

/// One field-level problem, as Discord reports it in `errors.<path>._errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// Machine-readable reason, e.g. `BASE_TYPE_REQUIRED`, `BASE_TYPE_BAD_LENGTH`.
    pub code: String,
    /// Human-readable reason.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_is_an_error_status() {
        for e in ErrorCode::ALL {
            assert!((400..600).contains(&e.status()), "{e:?}");
            assert!(!e.message().is_empty());
        }
    }

    #[test]
    fn discord_numbers_are_kept() {
        assert_eq!(ErrorCode::UnknownChannel.code(), 10003);
        assert_eq!(ErrorCode::InvalidFormBody.code(), 50035);
        assert_eq!(ErrorCode::MissingPermissions.status(), 403);
    }
}
