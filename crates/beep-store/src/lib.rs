//! Storage of Beep: one trait per aggregate, implemented for SQLite (embedded
//! default) and PostgreSQL (scaled mode), with real migrations for both and one
//! conformance suite that every backend must pass.
//!
//! Nothing here knows about HTTP. Records are plain data; the domain rules
//! (who may do what, what a valid username is) live in `beep-core`.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use beep_types::{SessionId, UserId};

mod backfill;
pub mod bulk;
pub mod conformance;
mod discovery;
pub mod files;
pub mod guilds;
mod member_search;
pub mod messages;
mod migrations;
pub mod notifications;
pub mod postgres;
pub mod search;
pub mod social;
mod sql;
mod sql_auth;
mod sql_files;
mod sql_guilds;
mod sql_messages;
mod sql_notifications;
mod sql_social;
pub mod sqlite;

pub use guilds::{
    AuditEntryRecord, AuditQuery, BanRecord, ChannelLayout, ChannelMove, ChannelPatch,
    ChannelRecord, ChannelStore, DiscoveredGuild, DiscoveryResults, Guarded, GuildCreateGuard,
    GuildPatch, GuildRecord, GuildStore, InviteGuard, InviteJoin, InviteRecord, InviteStore,
    MemberPatch, MemberRecord, MemberStore, NewBan, NewChannel, NewGuild, NewInvite, NewMember,
    NewRole, Refusal, RolePatch, RoleRecord, UserSummary,
};

/// What a storage call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record to change does not exist.
    #[error("not found")]
    NotFound,
    /// A unique value is taken; the string names the field (`username`, `email`, ...).
    #[error("conflict on {0}")]
    Conflict(&'static str),
    /// The database cannot be reached or is shutting down.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else; the text is for logs only.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// Result of a storage call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A user account (people and bots).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: UserId,
    /// The username as chosen (already NFKC-normalized by the caller).
    pub username: String,
    /// The key uniqueness is checked on (case-folded username).
    pub username_key: String,
    /// A skeleton for confusable detection (see `beep-core`), indexed, not unique.
    pub username_skeleton: String,
    pub email: Option<String>,
    /// Lower-cased email, unique when present.
    pub email_key: Option<String>,
    pub password_hash: Option<String>,
    pub global_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar: Option<String>,
    pub banner: Option<String>,
    pub bio: String,
    pub locale: String,
    pub flags: i64,
    pub bot: bool,
    pub system: bool,
    pub admin: bool,
    pub verified: bool,
    pub mfa_enabled: bool,
    /// Base32 TOTP secret while 2FA is on.
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted, so no code is accepted twice.
    pub totp_last_step: i64,
    /// Opaque JSON settings the client stores (notification defaults, devices, ...).
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// The fields given when creating a user; the rest take their defaults.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub id: UserId,
    pub username: String,
    pub username_key: String,
    pub username_skeleton: String,
    pub email: Option<String>,
    pub email_key: Option<String>,
    pub password_hash: Option<String>,
    pub global_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub avatar: Option<String>,
    pub bot: bool,
    pub admin: bool,
    pub verified: bool,
    pub locale: String,
}

/// A partial update of a user. `None` leaves a field alone; for nullable fields
/// `Some(None)` sets it to null.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    pub username: Option<(String, String, String)>,
    pub email: Option<(Option<String>, Option<String>)>,
    pub password_hash: Option<Option<String>>,
    pub global_name: Option<Option<String>>,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub avatar: Option<Option<String>>,
    pub banner: Option<Option<String>>,
    pub bio: Option<String>,
    pub locale: Option<String>,
    pub flags: Option<i64>,
    pub admin: Option<bool>,
    pub verified: Option<bool>,
    pub mfa_enabled: Option<bool>,
    pub totp_secret: Option<Option<String>>,
    pub settings: Option<serde_json::Value>,
}

/// Users, looked up by id, username key or email key.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Insert a user; `Conflict("username")` or `Conflict("email")` when taken.
    async fn insert_user(&self, u: &NewUser) -> Result<User>;
    /// The user with this id.
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    /// The user whose `username_key` is `key`.
    async fn user_by_username_key(&self, key: &str) -> Result<Option<User>>;
    /// The user whose `email_key` is `key`.
    async fn user_by_email_key(&self, key: &str) -> Result<Option<User>>;
    /// Usernames (as chosen) of up to `limit` users sharing a confusable skeleton.
    async fn usernames_with_skeleton(&self, skeleton: &str, limit: u32) -> Result<Vec<String>>;
    /// Apply a patch and return the new record; `NotFound`, or `Conflict` on a taken username or email.
    async fn update_user(&self, id: UserId, patch: &UserPatch) -> Result<User>;
    /// Accept TOTP step `step` only if it is newer than the last accepted one;
    /// returns false (and changes nothing) otherwise. Atomic against concurrent calls.
    /// `NotFound` when there is no such user.
    async fn advance_totp_step(&self, id: UserId, step: i64) -> Result<bool>;
    /// Delete a user and everything it owns in this aggregate (sessions). Returns whether it existed.
    async fn delete_user(&self, id: UserId) -> Result<bool>;
}

/// One login session (a device).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    /// Device name the client gave, or derived from its user agent.
    pub device: String,
    /// Address the session was created from or last seen from.
    pub ip: String,
    /// Hash of the current refresh token.
    pub refresh_hash: String,
    /// Hash of the refresh token before the current one, to detect reuse.
    pub previous_refresh_hash: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub revoked: bool,
}

/// The fields given when creating a session.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub device: String,
    pub ip: String,
    pub refresh_hash: String,
}

/// Sessions of users; revocation must be visible to every node at once, so callers
/// read the session on each authenticated request (or cache it very briefly).
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Insert a new live session; `NotFound` when the user does not exist.
    async fn insert_session(&self, s: &NewSession) -> Result<Session>;
    /// The session with this id, revoked or not.
    async fn session(&self, id: SessionId) -> Result<Option<Session>>;
    /// A user's live sessions, newest first.
    async fn sessions_of_user(&self, user: UserId) -> Result<Vec<Session>>;
    /// Record activity (times are kept to the millisecond); `NotFound` when there is no such session.
    async fn touch_session(&self, id: SessionId, ip: &str, at: DateTime<Utc>) -> Result<()>;
    /// Replace the refresh hash if it still equals `expected`; returns false when it
    /// did not or the session is revoked (the caller then treats the presented token
    /// as reused). `NotFound` when there is no such session.
    async fn rotate_refresh(&self, id: SessionId, expected: &str, new_hash: &str) -> Result<bool>;
    /// Revoke one session; returns whether a live session was revoked.
    async fn revoke_session(&self, id: SessionId) -> Result<bool>;
    /// Revoke every live session of a user except `keep`; returns how many.
    async fn revoke_user_sessions(&self, user: UserId, keep: Option<SessionId>) -> Result<u64>;
}

/// Long-lived bot tokens (`Authorization: Bot <token>`), kept as hashes only.
#[async_trait]
pub trait BotTokenStore: Send + Sync {
    /// Set or replace the token hash of a user; `NotFound` when the user does not exist.
    async fn set_bot_token(&self, user: UserId, token_hash: &str) -> Result<()>;
    /// The user whose bot token hashes to `token_hash`.
    async fn user_by_bot_token(&self, token_hash: &str) -> Result<Option<UserId>>;
}

/// A one-time code sent to a user (email verification, password reset, email change).
#[derive(Debug, Clone, PartialEq)]
pub struct AuthCode {
    pub user_id: UserId,
    /// What the code is for, e.g. `verify_email`.
    pub purpose: String,
    /// Hash of the code; the code itself is only ever in the mail.
    pub code_hash: String,
    /// What the code confirms, when that is not the account itself (a new email).
    pub target: Option<String>,
    /// Wrong or right tries so far.
    pub attempts: u32,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The fields given when issuing a code.
#[derive(Debug, Clone)]
pub struct NewAuthCode {
    pub user_id: UserId,
    pub purpose: String,
    pub code_hash: String,
    pub target: Option<String>,
    pub expires_at: DateTime<Utc>,
}

/// One-time codes: at most one per user and purpose; a new one replaces the old.
#[async_trait]
pub trait AuthCodeStore: Send + Sync {
    /// Insert or replace the code of `c.purpose` for `c.user_id`, with no attempts
    /// counted; `NotFound` when the user does not exist.
    async fn put_auth_code(&self, c: &NewAuthCode) -> Result<AuthCode>;
    /// The code of `purpose` for `user`, expired or not.
    async fn auth_code(&self, user: UserId, purpose: &str) -> Result<Option<AuthCode>>;
    /// Count one attempt at the code of `purpose` if fewer than `max_attempts` were
    /// made, and return the code as counted; `None` when there is no code or its
    /// attempts are used up. Atomic against concurrent calls.
    async fn attempt_auth_code(
        &self,
        user: UserId,
        purpose: &str,
        max_attempts: u32,
    ) -> Result<Option<AuthCode>>;
    /// Delete the code of `purpose` if its hash is `code_hash`; returns whether it
    /// did, so of two concurrent uses of one code only one succeeds.
    async fn consume_auth_code(&self, user: UserId, purpose: &str, code_hash: &str)
    -> Result<bool>;
    /// Delete the code of `purpose` whatever it is; returns whether there was one.
    async fn delete_auth_code(&self, user: UserId, purpose: &str) -> Result<bool>;
    /// Delete every code that expired before `before`; returns how many.
    async fn purge_auth_codes(&self, before: DateTime<Utc>) -> Result<u64>;
}

/// One 2FA backup code of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupCode {
    pub user_id: UserId,
    /// Hash of the code.
    pub code_hash: String,
    pub used: bool,
}

/// 2FA backup codes, kept as hashes; each works once.
#[async_trait]
pub trait BackupCodeStore: Send + Sync {
    /// Replace every backup code of `user` with these hashes, all unused (an empty
    /// list deletes them); `NotFound` when the user does not exist.
    async fn replace_backup_codes(&self, user: UserId, hashes: &[String]) -> Result<()>;
    /// The backup codes of `user`, in the order they were given.
    async fn backup_codes(&self, user: UserId) -> Result<Vec<BackupCode>>;
    /// Mark the unused code with this hash used; returns false when there is no
    /// such unused code. Atomic against concurrent calls.
    async fn use_backup_code(&self, user: UserId, code_hash: &str) -> Result<bool>;
}

/// Outcome of one rate-limiter step on a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitState {
    /// Whether the request fits in the bucket (and was counted).
    pub allowed: bool,
    /// The bucket's theoretical arrival time after the step, in ms since the epoch.
    pub tat_ms: i64,
}

/// State of the generic cell rate algorithm (GCRA) shared by every node: one
/// theoretical arrival time per bucket key.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// At `now_ms`, count `cost` requests against bucket `key`, where each request
    /// takes `interval_ms` and the bucket holds `limit_ms` (burst × interval): the
    /// new time is `max(tat, now) + cost × interval`, accepted and stored only if it
    /// is at most `now + limit`. Atomic against concurrent calls on every node.
    async fn rate_limit_acquire(
        &self,
        key: &str,
        now_ms: i64,
        interval_ms: i64,
        limit_ms: i64,
        cost: u32,
    ) -> Result<RateLimitState>;
    /// The stored theoretical arrival time of `key`, if any.
    async fn rate_limit_tat(&self, key: &str) -> Result<Option<i64>>;
    /// Forget buckets whose time is before `before_ms` (they are full again);
    /// returns how many.
    async fn purge_rate_limits(&self, before_ms: i64) -> Result<u64>;
}

/// Health and lifecycle of a backend.
#[async_trait]
pub trait Lifecycle: Send + Sync {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;
    /// A cheap round trip proving the database answers.
    async fn ping(&self) -> Result<()>;
    /// Finish queued writes and release connections; later calls fail with `Unavailable`.
    async fn close(&self);
    /// Connection pool figures for metrics, where the backend has a pool.
    fn pool_status(&self) -> Option<PoolStatus> {
        None
    }
}

/// Connection pool figures of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open now.
    pub size: usize,
    /// Largest number of connections allowed.
    pub max_size: usize,
    /// Open connections not in use.
    pub available: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

/// Everything the domain needs from storage.
pub trait Store:
    Lifecycle
    + UserStore
    + SessionStore
    + BotTokenStore
    + AuthCodeStore
    + BackupCodeStore
    + RateLimitStore
    + GuildStore
    + ChannelStore
    + MemberStore
    + InviteStore
    + messages::MessageStore
    + messages::PinStore
    + messages::ReactionStore
    + messages::ReadStateStore
    + messages::WebhookStore
    + messages::ApplicationStore
    + notifications::NotificationStore
    + notifications::NotificationSettingsStore
    + notifications::ReceiptStore
    + social::RelationshipStore
    + social::PrivateChannelStore
    + social::PhoneStore
    + bulk::BulkStore
    + files::FileStore
    + search::SearchStore
{
}
impl<T> Store for T where
    T: Lifecycle
        + UserStore
        + SessionStore
        + BotTokenStore
        + AuthCodeStore
        + BackupCodeStore
        + RateLimitStore
        + GuildStore
        + ChannelStore
        + MemberStore
        + InviteStore
        + messages::MessageStore
        + messages::PinStore
        + messages::ReactionStore
        + messages::ReadStateStore
        + messages::WebhookStore
        + messages::ApplicationStore
        + notifications::NotificationStore
        + notifications::NotificationSettingsStore
        + notifications::ReceiptStore
        + social::RelationshipStore
        + social::PrivateChannelStore
        + social::PhoneStore
        + bulk::BulkStore
        + files::FileStore
        + search::SearchStore
{
}

/// A shared handle to whichever backend is configured.
pub type DynStore = Arc<dyn Store>;

/// How to open the store.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// An SQLite file (created if missing) with WAL and a group-commit writer.
    Sqlite(sqlite::SqliteConfig),
    /// A PostgreSQL database.
    Postgres(postgres::PostgresConfig),
}

/// Open the configured backend and run its pending migrations.
pub async fn open(config: &StoreConfig) -> Result<DynStore> {
    match config {
        StoreConfig::Sqlite(c) => Ok(Arc::new(sqlite::SqliteStore::open(c).await?)),
        StoreConfig::Postgres(c) => Ok(Arc::new(postgres::PostgresStore::open(c).await?)),
    }
}

/// Run the configured backend's pending migrations without opening the store for
/// use; returns the names of the migrations applied (empty when up to date).
/// This is what `beep migrate` calls.
pub async fn migrate(config: &StoreConfig) -> Result<Vec<String>> {
    match config {
        StoreConfig::Sqlite(c) => sqlite::migrate(c).await,
        StoreConfig::Postgres(c) => postgres::migrate(c).await,
    }
}
