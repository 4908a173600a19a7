//! The wire protocol: opcodes, close codes, the payloads clients send (parsed
//! strictly, so a bad frame is a 4002 and never a panic) and the frames the server
//! sends. Shapes follow Discord's gateway v10 (`docs/events/gateway-events`).

use std::fmt::Write as _;

use beep_types::{GuildId, Snowflake, UserId};
use serde::Deserialize;
use serde::de::Error as _;
use serde_json::Value;

/// Opcodes (`docs/topics/opcodes-and-status-codes#gateway-gateway-opcodes`).
pub mod op {
    pub const DISPATCH: u8 = 0;
    pub const HEARTBEAT: u8 = 1;
    pub const IDENTIFY: u8 = 2;
    pub const PRESENCE_UPDATE: u8 = 3;
    pub const VOICE_STATE_UPDATE: u8 = 4;
    pub const RESUME: u8 = 6;
    pub const RECONNECT: u8 = 7;
    pub const REQUEST_GUILD_MEMBERS: u8 = 8;
    pub const INVALID_SESSION: u8 = 9;
    pub const HELLO: u8 = 10;
    pub const HEARTBEAT_ACK: u8 = 11;
    pub const REQUEST_SOUNDBOARD_SOUNDS: u8 = 31;
}

/// Close codes the server ends a connection with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    /// Something went wrong; reconnect (also used after RECONNECT).
    UnknownError = 4000,
    UnknownOpcode = 4001,
    /// Invalid JSON, invalid UTF-8, a frame over 4096 bytes, or a malformed payload.
    DecodeError = 4002,
    NotAuthenticated = 4003,
    AuthenticationFailed = 4004,
    AlreadyAuthenticated = 4005,
    InvalidSeq = 4007,
    RateLimited = 4008,
    SessionTimedOut = 4009,
    InvalidShard = 4010,
    InvalidVersion = 4012,
    InvalidIntents = 4013,
    DisallowedIntents = 4014,
}

impl CloseCode {
    /// The numeric code.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The reason text sent with the close frame (Discord's wording).
    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::UnknownError => "Unknown error.",
            CloseCode::UnknownOpcode => "Unknown opcode.",
            CloseCode::DecodeError => "Decode error.",
            CloseCode::NotAuthenticated => "Not authenticated.",
            CloseCode::AuthenticationFailed => "Authentication failed.",
            CloseCode::AlreadyAuthenticated => "Already authenticated.",
            CloseCode::InvalidSeq => "Invalid seq.",
            CloseCode::RateLimited => "Rate limited.",
            CloseCode::SessionTimedOut => "Session timed out.",
            CloseCode::InvalidShard => "Invalid shard.",
            CloseCode::InvalidVersion => "Invalid API version.",
            CloseCode::InvalidIntents => "Invalid intent(s).",
            CloseCode::DisallowedIntents => "Disallowed intent(s).",
        }
    }
}

/// Largest frame a client may send, in bytes (Discord's limit).
pub const MAX_CLIENT_FRAME: usize = 4096;

/// Any frame from a client, before its `d` is parsed for the opcode.
#[derive(Debug, Deserialize)]
struct RawFrame {
    op: u8,
    #[serde(default)]
    d: Value,
}

/// A parsed client frame.
#[derive(Debug)]
pub enum ClientFrame {
    /// The last sequence number the client received, if any.
    Heartbeat(Option<u64>),
    Identify(Box<Identify>),
    PresenceUpdate(PresenceUpdate),
    /// Voice is not served by the gateway yet; the frame is accepted and ignored.
    VoiceStateUpdate,
    Resume(Resume),
    RequestGuildMembers(RequestGuildMembers),
    /// Accepted and answered with nothing (no soundboard on Beep).
    RequestSoundboardSounds,
}

/// Why a frame was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Not JSON, not an object with `op`, or a `d` of the wrong shape.
    Decode(String),
    /// A well-formed frame with an opcode clients may not send.
    UnknownOpcode(u8),
}

impl ClientFrame {
    /// Parse a client frame from its text.
    pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
        let raw: RawFrame =
            serde_json::from_str(text).map_err(|e| FrameError::Decode(e.to_string()))?;
        let d = raw.d;
        fn typed<T: serde::de::DeserializeOwned>(d: Value) -> Result<T, FrameError> {
            serde_json::from_value(d).map_err(|e| FrameError::Decode(e.to_string()))
        }
        Ok(match raw.op {
            op::HEARTBEAT => ClientFrame::Heartbeat(match d {
                Value::Null => None,
                v => Some(typed::<u64>(v)?),
            }),
            op::IDENTIFY => ClientFrame::Identify(Box::new(typed(d)?)),
            op::PRESENCE_UPDATE => ClientFrame::PresenceUpdate(typed(d)?),
            op::VOICE_STATE_UPDATE => ClientFrame::VoiceStateUpdate,
            op::RESUME => ClientFrame::Resume(typed(d)?),
            op::REQUEST_GUILD_MEMBERS => ClientFrame::RequestGuildMembers(typed(d)?),
            op::REQUEST_SOUNDBOARD_SOUNDS => ClientFrame::RequestSoundboardSounds,
            other => return Err(FrameError::UnknownOpcode(other)),
        })
    }
}

/// IDENTIFY (op 2).
#[derive(Debug, Deserialize)]
pub struct Identify {
    pub token: String,
    /// `os`, `browser`, `device`; kept only for logs.
    #[serde(default)]
    pub properties: Value,
    /// Per-payload compression; Beep only does transport compression, so it is
    /// ignored (an uncompressed text frame is always valid).
    #[serde(default)]
    pub compress: Option<bool>,
    /// Member count from which a guild is "large" (50..=250, default 50).
    #[serde(default)]
    pub large_threshold: Option<u32>,
    /// `[shard_id, num_shards]`.
    #[serde(default)]
    pub shard: Option<[u32; 2]>,
    /// Initial presence.
    #[serde(default)]
    pub presence: Option<PresenceUpdate>,
    /// Required for bots; users who leave it out get every intent.
    #[serde(default)]
    pub intents: Option<u64>,
}

/// RESUME (op 6).
#[derive(Debug, Deserialize)]
pub struct Resume {
    pub token: String,
    pub session_id: String,
    /// The last sequence number the client received (`null` before any dispatch).
    #[serde(default)]
    pub seq: Option<u64>,
}

/// A user status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Online,
    Idle,
    Dnd,
    Invisible,
    Offline,
}

impl Status {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Online => "online",
            Status::Idle => "idle",
            Status::Dnd => "dnd",
            Status::Invisible => "invisible",
            Status::Offline => "offline",
        }
    }

    /// What others see: an invisible user looks offline.
    pub fn public(self) -> Status {
        match self {
            Status::Invisible => Status::Offline,
            s => s,
        }
    }
}

/// Most activities a presence may carry.
pub const MAX_ACTIVITIES: usize = 8;

/// PRESENCE_UPDATE (op 3), also the `presence` of IDENTIFY.
#[derive(Debug, Clone, Deserialize)]
pub struct PresenceUpdate {
    /// Unix time in milliseconds the client went idle, or null.
    #[serde(default)]
    pub since: Option<i64>,
    #[serde(default, deserialize_with = "activities")]
    pub activities: Vec<Value>,
    pub status: Status,
    #[serde(default)]
    pub afk: bool,
}

/// Activities: objects with a string `name` and an integer `type`, at most
/// [`MAX_ACTIVITIES`]; `null` is an empty list.
fn activities<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    let v: Option<Vec<Value>> = Option::deserialize(d)?;
    let v = v.unwrap_or_default();
    if v.len() > MAX_ACTIVITIES {
        return Err(D::Error::custom("too many activities"));
    }
    for a in &v {
        let ok =
            a.get("name").is_some_and(Value::is_string) && a.get("type").is_some_and(Value::is_u64);
        if !ok {
            return Err(D::Error::custom(
                "an activity needs a string name and an integer type",
            ));
        }
    }
    Ok(v)
}

/// One ID or a list of IDs (REQUEST_GUILD_MEMBERS accepts both).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// As a list.
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Most user ids a REQUEST_GUILD_MEMBERS may name (Discord's limit).
pub const MAX_REQUESTED_USERS: usize = 100;

/// REQUEST_GUILD_MEMBERS (op 8).
#[derive(Debug, Clone, Deserialize)]
pub struct RequestGuildMembers {
    pub guild_id: OneOrMany<GuildId>,
    /// Username prefix; `""` with `limit: 0` asks for every member.
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub limit: u32,
    #[serde(default)]
    pub presences: bool,
    #[serde(default)]
    pub user_ids: Option<OneOrMany<UserId>>,
    /// Echoed in the chunks; at most 32 bytes.
    #[serde(default)]
    pub nonce: Option<String>,
}

/// HELLO, the first frame of every connection.
pub fn hello(heartbeat_interval_ms: u64) -> String {
    format!(
        r#"{{"op":{},"d":{{"heartbeat_interval":{heartbeat_interval_ms}}},"s":null,"t":null}}"#,
        op::HELLO
    )
}

/// HEARTBEAT_ACK.
pub fn heartbeat_ack() -> String {
    format!(
        r#"{{"op":{},"d":null,"s":null,"t":null}}"#,
        op::HEARTBEAT_ACK
    )
}

/// A server-requested HEARTBEAT.
pub fn heartbeat_request() -> String {
    format!(r#"{{"op":{},"d":null,"s":null,"t":null}}"#, op::HEARTBEAT)
}

/// INVALID_SESSION; `resumable` tells the client whether RESUME may work.
pub fn invalid_session(resumable: bool) -> String {
    format!(
        r#"{{"op":{},"d":{resumable},"s":null,"t":null}}"#,
        op::INVALID_SESSION
    )
}

/// RECONNECT.
pub fn reconnect() -> String {
    format!(r#"{{"op":{},"d":null,"s":null,"t":null}}"#, op::RECONNECT)
}

/// A dispatch frame around an already serialized `d`, so one serialization of an
/// event serves every session that receives it.
pub fn dispatch(seq: u64, name: &str, data: &str) -> String {
    let mut s = String::with_capacity(data.len() + name.len() + 40);
    let _ = write!(
        s,
        r#"{{"op":0,"s":{seq},"t":"{name}","d":{data}}}"#,
        name = name
    );
    s
}

/// Whether `name` can be written into a frame without escaping (dispatch names are
/// upper-case words joined by underscores).
pub fn is_dispatch_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The shard a guild belongs to with `num_shards` shards (Discord's formula).
pub fn shard_of(guild: GuildId, num_shards: u32) -> u32 {
    if num_shards <= 1 {
        return 0;
    }
    ((guild.get() >> 22) % u64::from(num_shards)) as u32
}

/// A snowflake-like random session id (32 hex characters).
pub fn new_session_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b.iter().fold(String::with_capacity(32), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

/// Parse a snowflake-like id from a JSON value (string or number).
pub fn id_of(v: &Value) -> Option<Snowflake> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().map(Snowflake),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_and_refuse() {
        assert!(matches!(
            ClientFrame::parse(r#"{"op":1,"d":null}"#),
            Ok(ClientFrame::Heartbeat(None))
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":1,"d":42}"#),
            Ok(ClientFrame::Heartbeat(Some(42)))
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":1}"#),
            Ok(ClientFrame::Heartbeat(None))
        ));
        assert_eq!(
            ClientFrame::parse(r#"{"op":99,"d":null}"#).err(),
            Some(FrameError::UnknownOpcode(99))
        );
        assert!(matches!(
            ClientFrame::parse("{nope"),
            Err(FrameError::Decode(_))
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":"1"}"#),
            Err(FrameError::Decode(_))
        ));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":2,"d":{}}"#),
            Err(FrameError::Decode(_))
        ));
        let f = ClientFrame::parse(
            r#"{"op":2,"d":{"token":"t","intents":513,"properties":{"os":"linux"},"large_threshold":250,"compress":true}}"#,
        );
        let Ok(ClientFrame::Identify(i)) = f else {
            panic!("{f:?}")
        };
        assert_eq!(i.intents, Some(513));
        let f = ClientFrame::parse(
            r#"{"op":3,"d":{"since":null,"activities":[{"name":"x","type":0}],"status":"dnd","afk":false}}"#,
        );
        assert!(matches!(f, Ok(ClientFrame::PresenceUpdate(p)) if p.status == Status::Dnd));
        assert!(matches!(
            ClientFrame::parse(r#"{"op":3,"d":{"status":"away"}}"#),
            Err(FrameError::Decode(_))
        ));
        let f = ClientFrame::parse(
            r#"{"op":8,"d":{"guild_id":"81384788765712384","query":"","limit":0}}"#,
        );
        assert!(matches!(f, Ok(ClientFrame::RequestGuildMembers(_))));
    }

    #[test]
    fn outgoing_frames_are_json() {
        for s in [
            hello(41250),
            heartbeat_ack(),
            invalid_session(false),
            reconnect(),
            dispatch(3, "READY", r#"{"v":10}"#),
        ] {
            let v: Value = serde_json::from_str(&s).expect("json");
            assert!(v.get("op").is_some(), "{s}");
        }
        assert!(is_dispatch_name("MESSAGE_CREATE"));
        assert!(!is_dispatch_name("x\"y"));
    }

    #[test]
    fn shards_follow_discords_formula() {
        let g = GuildId(Snowflake(81384788765712384));
        assert_eq!(shard_of(g, 1), 0);
        assert_eq!(shard_of(g, 2), ((81384788765712384u64 >> 22) % 2) as u32);
        assert_eq!(new_session_id().len(), 32);
    }
}
