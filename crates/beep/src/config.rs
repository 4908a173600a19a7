//! Configuration: defaults < `beep.toml` < environment (`BEEP_...`) < command-line flags.
//!
//! Every field is documented where it is declared; `beep config example` prints a
//! commented example generated from these declarations. Unknown keys are refused in
//! every layer, so a typo never silently falls back to a default.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Names of the top-level tables. `BEEP_<TABLE>_<KEY>` addresses `<table>.<key>`.
const SECTIONS: &[&str] = &[
    "database",
    "log",
    "limits",
    "node",
    "otel",
    "auth",
    "smtp",
    "s3",
    "ratelimit",
    "files",
    "gateway",
    "nats",
    "guilds",
    "notifications",
];

/// The whole configuration of one node.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Directory holding the SQLite database, local files, keys and `beep.toml`.
    pub data_dir: PathBuf,
    /// Address the HTTP and gateway listener binds to.
    pub listen: SocketAddr,
    /// Base URL clients reach this instance at (used in links and the gateway URL);
    /// derived from `listen` when empty.
    pub public_url: String,
    /// Roles this process runs; `["all"]` runs every available role.
    pub roles: Vec<String>,
    /// Database settings.
    pub database: DatabaseConfig,
    /// Logging settings.
    pub log: LogConfig,
    /// Input limits.
    pub limits: LimitsConfig,
    /// Identity of this node in a cluster.
    pub node: NodeConfig,
    /// OpenTelemetry trace export.
    pub otel: OtelConfig,
    /// Accounts, tokens and sessions.
    pub auth: AuthConfig,
    /// Outgoing mail.
    pub smtp: SmtpConfig,
    /// Request rate limits.
    pub ratelimit: RateLimitConfig,
    /// S3-compatible object storage for files (off: files in `<data_dir>/files`).
    pub s3: S3Config,
    /// Uploads, signed file URLs and link previews.
    pub files: FilesConfig,
    /// The real-time gateway (fields documented in `beep_gateway::settings`).
    pub gateway: beep_gateway::settings::GatewaySettings,
    /// NATS between the nodes of a cluster (`BEEP_NATS_URL`; fields documented in
    /// `beep_gateway::settings`).
    pub nats: beep_gateway::settings::NatsSettings,
    /// Limits on guilds, channels, roles and invites.
    pub guilds: GuildsConfig,
    /// Notifications and the missed-mention digest mail.
    pub notifications: NotificationsConfig,
    /// Limits on relationships, groups and contact lookups.
    pub social: SocialConfig,
}

/// Limits of relationships, groups and contact lookups (`BEEP_SOCIAL__...`).
/// Refusals: `30002` relationships, `30004` group members, `50035` lookups.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SocialConfig {
    /// Friends, requests and blocks one user may have.
    pub max_relationships: u32,
    /// Members of a group DM, the owner included.
    pub max_group_members: u32,
    /// Phone numbers in one `POST /users/@me/contacts`.
    pub max_contacts_lookup: u32,
}

impl Default for SocialConfig {
    fn default() -> Self {
        let d = beep_core::social::SocialLimits::default();
        SocialConfig {
            max_relationships: d.max_relationships,
            max_group_members: d.max_group_members,
            max_contacts_lookup: u32::try_from(d.max_contacts_lookup).unwrap_or(100),
        }
    }
}

impl SocialConfig {
    /// The limits as the social service takes them (each at least 1; a group
    /// at least 2).
    pub fn limits(&self) -> beep_core::social::SocialLimits {
        beep_core::social::SocialLimits {
            max_relationships: self.max_relationships.max(1),
            max_group_members: self.max_group_members.max(2),
            max_contacts_lookup: self.max_contacts_lookup.max(1) as usize,
        }
    }
}

/// Notifications (`BEEP_NOTIFICATIONS__DIGEST_DELAY_SECS`, ...).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsConfig {
    /// Seconds a user with unread mentions must have had no live gateway
    /// session before one digest mail lists them (needs `smtp.url` to reach
    /// anyone; at least 1).
    pub digest_delay_secs: u64,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        NotificationsConfig {
            digest_delay_secs: 15 * 60,
        }
    }
}

/// Limits against abuse of guilds ("servers"). Each refusal answers with
/// Discord's error for it (`30001` guilds, `30013` channels, `30005` roles,
/// `30016` invites; `429` for creating guilds too fast).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GuildsConfig {
    /// Guilds one user may own.
    pub max_owned: u32,
    /// Guilds one user may be a member of, owned ones included.
    pub max_joined: u32,
    /// Channels (folders included) per guild.
    pub max_channels: u32,
    /// Roles per guild, `@everyone` not counted.
    pub max_roles: u32,
    /// Live invites per channel.
    pub max_invites_per_channel: u32,
    /// Live invites per guild.
    pub max_invites_per_guild: u32,
    /// How deep folders may nest (1: no folder inside a folder).
    pub max_folder_depth: u32,
    /// Guilds one user may create per minute; 0 for no limit.
    pub creations_per_minute: u32,
}

impl Default for GuildsConfig {
    fn default() -> Self {
        let d = beep_core::guilds::GuildLimits::default();
        GuildsConfig {
            max_owned: d.max_owned_guilds,
            max_joined: d.max_joined_guilds,
            max_channels: d.max_channels,
            max_roles: d.max_roles,
            max_invites_per_channel: d.max_invites_per_channel,
            max_invites_per_guild: d.max_invites_per_guild,
            max_folder_depth: d.max_folder_depth,
            creations_per_minute: d.guild_creations_per_minute,
        }
    }
}

impl GuildsConfig {
    /// The limits as the guild service takes them.
    pub fn limits(&self) -> beep_core::guilds::GuildLimits {
        beep_core::guilds::GuildLimits {
            max_owned_guilds: self.max_owned,
            max_joined_guilds: self.max_joined,
            max_channels: self.max_channels,
            max_roles: self.max_roles,
            max_invites_per_channel: self.max_invites_per_channel,
            max_invites_per_guild: self.max_invites_per_guild,
            max_folder_depth: self.max_folder_depth,
            guild_creations_per_minute: self.creations_per_minute,
        }
    }
}

/// S3-compatible object storage for files. Used when `bucket` is set; otherwise
/// files live in `<data_dir>/files`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct S3Config {
    /// Endpoint URL (e.g. `http://127.0.0.1:9000` for MinIO, Garage or moto); empty
    /// for AWS itself.
    pub endpoint: String,
    /// Bucket name; empty keeps files on local disk.
    pub bucket: String,
    /// Region; `us-east-1` when empty.
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key. Secret: redacted by `beep config check`.
    pub secret_access_key: String,
    /// Path-style requests (`endpoint/bucket/key`) instead of virtual-hosted ones
    /// (`bucket.endpoint/key`); most self-hosted servers need it.
    pub path_style: bool,
}

/// Uploads, signed file URLs and link previews.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FilesConfig {
    /// Largest attachment, in bytes (refused with 413 while it streams in).
    pub max_upload_bytes: u64,
    /// Most attachments on one message.
    pub max_files: usize,
    /// Largest avatar, banner or icon, in bytes.
    pub max_avatar_bytes: u64,
    /// Largest image accepted, in pixels (`width * height`), checked from the header.
    pub max_image_pixels: u64,
    /// How long a signed file URL stays valid, in seconds.
    pub url_ttl_secs: u64,
    /// Key signing file URLs, 64 hex digits; every node of a cluster needs the same.
    /// Empty: a key generated in `<data_dir>/files-signing.key`. Secret: redacted.
    pub signing_key: String,
    /// Fetch link previews for URLs in messages.
    pub preview_enabled: bool,
    /// Hosts (`name` or `name:port`) link previews may fetch even though they
    /// resolve to a private or loopback address. Empty by default; for tests and
    /// intranets only.
    pub preview_allowlist: Vec<String>,
    /// Bytes of attachments one user may store; 0 for no limit. Past it uploads
    /// are refused with 413 / 40005.
    pub user_quota_bytes: u64,
    /// How often the file deletion worker looks for due deletions, in ms.
    pub deletion_poll_ms: u64,
    /// Delay after a first failed deletion, in ms; doubled on each failure.
    pub deletion_retry_base_ms: u64,
    /// Longest delay between two attempts of a failing deletion, in seconds.
    pub deletion_retry_max_secs: u64,
    /// How long a node holds a claimed deletion before another may take it, in seconds.
    pub deletion_lease_secs: u64,
    /// How often the orphan sweeper lists storage, in seconds; 0 turns it off.
    pub sweep_interval_secs: u64,
    /// Unreferenced objects younger than this are left alone by the sweeper, in
    /// seconds (keep it above the upload URL lifetime of one hour).
    pub orphan_grace_secs: u64,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            max_upload_bytes: 25 * 1024 * 1024,
            max_files: 10,
            max_avatar_bytes: 10 * 1024 * 1024,
            max_image_pixels: 50_000_000,
            url_ttl_secs: 24 * 3600,
            signing_key: String::new(),
            preview_enabled: true,
            preview_allowlist: Vec::new(),
            user_quota_bytes: 10 * 1024 * 1024 * 1024,
            deletion_poll_ms: 2000,
            deletion_retry_base_ms: 1000,
            deletion_retry_max_secs: 3600,
            deletion_lease_secs: 300,
            sweep_interval_secs: 6 * 3600,
            orphan_grace_secs: 24 * 3600,
        }
    }
}

/// Accounts, tokens and sessions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_secs: u64,
    /// A session ends when its refresh token goes unused for this many days.
    pub session_idle_days: u64,
    /// Whether logging in needs a verified email address. Unset: yes exactly when
    /// mail is delivered (`smtp.url` set); `true` or `false` decides either way.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub require_email_verification: Option<bool>,
    /// Directory of the token signing keys (`*.pem`, Ed25519 PKCS#8); empty means
    /// `<data_dir>/keys`. A key is generated there on first start. The file names'
    /// order decides which key signs (the last); every key verifies.
    pub keys_dir: String,
    /// Signing keys as PEM text instead of files (the last one signs). Secret:
    /// redacted by `beep config check`.
    pub keys: Vec<String>,
    /// Failed logins allowed per account and per client address within 15 minutes.
    pub max_failed_logins: u32,
    /// Registrations allowed per client address per hour.
    pub registrations_per_hour: u32,
    /// argon2id memory cost in KiB (at least 19456). Changing a cost rehashes each
    /// password at its next successful login.
    pub argon2_memory_kib: u32,
    /// argon2id passes (at least 2).
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
}

/// Outgoing mail.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// `smtp://[user:pass@]host:port` (plain; `?tls=required` for STARTTLS,
    /// `?tls=opportunistic` for STARTTLS when offered) or `smtps://host:port` (TLS
    /// from the start); empty writes mails, codes included, to the log. Secret:
    /// redacted by `beep config check`.
    pub url: String,
    /// `From:` of the mails, e.g. `Beep <noreply@chat.example.org>`.
    pub from: String,
    /// Seconds to wait for the relay before giving up on a mail.
    pub timeout_secs: u64,
}

/// Request rate limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Whether requests are counted at all (failed-login limits included).
    pub enabled: bool,
    /// Where buckets live: `auto` (the database on PostgreSQL, so every node
    /// shares them; memory on SQLite), `memory` or `database`.
    pub backend: String,
    /// Requests per second per caller (user, bot token or address) on each route.
    pub per_second: u32,
    /// Requests per minute per address on each route that takes a password or a
    /// code (login, registration, refresh, codes).
    pub auth_per_minute: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            access_token_ttl_secs: 15 * 60,
            session_idle_days: 30,
            require_email_verification: None,
            keys_dir: String::new(),
            keys: Vec::new(),
            max_failed_logins: 5,
            registrations_per_hour: 10,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            url: String::new(),
            from: String::new(),
            timeout_secs: 15,
        }
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            backend: "auto".into(),
            per_second: 50,
            auth_per_minute: 30,
        }
    }
}

/// Database settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://...` to use PostgreSQL; empty for the embedded SQLite database
    /// at `<data_dir>/beep.db`. Secret: redacted by `beep config check`.
    pub url: String,
    /// PostgreSQL schema to use (created if missing); empty for the default search path.
    pub schema: String,
    /// Maximum PostgreSQL connections of this node.
    pub max_connections: usize,
    /// SQLite reader connections (each on its own thread).
    pub sqlite_readers: usize,
    /// SQLite `synchronous` mode: `full` (durable on power loss) or `normal`
    /// (durable on process crash; the last commits may be lost on power loss).
    pub sqlite_synchronous: String,
}

/// Logging settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Filter in `tracing` syntax, e.g. `info` or `info,beep_http=debug`.
    pub level: String,
    /// `json` (one object per line) or `pretty` (for a terminal).
    pub format: String,
}

/// Input limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest JSON request body, in bytes.
    pub json_body_bytes: usize,
    /// Deepest JSON nesting accepted in a request body.
    pub json_depth: usize,
}

/// Identity of this node in a cluster.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Snowflake worker id, 0..=1023, unique per running node (for example the
    /// StatefulSet ordinal). Two nodes sharing one could mint the same ID.
    pub worker_id: u16,
    /// Name of this node in logs (`container_id`); the host name when empty.
    pub id: String,
    /// Take client addresses from `X-Forwarded-For`: only behind a reverse proxy
    /// that sets it (otherwise clients could pick their address, and with it their
    /// rate-limit bucket).
    pub trust_forwarded_for: bool,
}

/// OpenTelemetry trace export.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct OtelConfig {
    /// OTLP/HTTP endpoint (e.g. `http://127.0.0.1:4318`); export is off when empty.
    pub endpoint: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./beep-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: String::new(),
            roles: vec!["all".into()],
            database: DatabaseConfig::default(),
            log: LogConfig::default(),
            limits: LimitsConfig::default(),
            node: NodeConfig::default(),
            otel: OtelConfig::default(),
            auth: AuthConfig::default(),
            smtp: SmtpConfig::default(),
            ratelimit: RateLimitConfig::default(),
            s3: S3Config::default(),
            files: FilesConfig::default(),
            gateway: Default::default(),
            nats: Default::default(),
            guilds: GuildsConfig::default(),
            notifications: NotificationsConfig::default(),
            social: SocialConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: String::new(),
            schema: String::new(),
            max_connections: 16,
            sqlite_readers: 4,
            sqlite_synchronous: "full".into(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: "json".into(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            json_body_bytes: 1024 * 1024,
            json_depth: 32,
        }
    }
}

/// Values given on the command line; each one set overrides every other layer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

/// Where the configuration file is: `--config`, else `<data_dir>/beep.toml` where the
/// data dir comes from the flag, then `BEEP_DATA_DIR`, then the default.
fn config_file(
    explicit: Option<&Path>,
    overrides: &Overrides,
    env: &[(String, String)],
) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    let data_dir = overrides
        .data_dir
        .clone()
        .or_else(|| {
            env.iter()
                .find(|(k, _)| k == "BEEP_DATA_DIR")
                .map(|(_, v)| PathBuf::from(v))
        })
        .unwrap_or_else(|| Config::default().data_dir);
    data_dir.join("beep.toml")
}

/// Map an environment variable name (without `BEEP_`, lower-cased) to a key path:
/// `a__b` splits on the double underscore; otherwise `<section>_<rest>` becomes
/// `<section>.<rest>` for a known section; otherwise the name is a top-level key.
fn env_key(name: &str) -> String {
    if name.contains("__") {
        return name.replace("__", ".");
    }
    for s in SECTIONS {
        if let Some(rest) = name.strip_prefix(s).and_then(|r| r.strip_prefix('_')) {
            return format!("{s}.{rest}");
        }
    }
    name.to_string()
}

/// Load the configuration from every layer. `env` is the process environment
/// (passed in so tests need not mutate the real one). Variables starting with
/// `BEEP_TEST_` belong to the test suite and are ignored.
pub fn load(
    explicit_file: Option<&Path>,
    overrides: &Overrides,
    env: &[(String, String)],
) -> anyhow::Result<Config> {
    let file = config_file(explicit_file, overrides, env);
    if explicit_file.is_some() && !file.exists() {
        anyhow::bail!("configuration file {} does not exist", file.display());
    }
    let vars: Vec<(String, String)> = env
        .iter()
        .filter(|(k, _)| k.starts_with("BEEP_") && !k.starts_with("BEEP_TEST_"))
        .cloned()
        .collect();
    // The environment is passed in as a snapshot (not read by figment itself) so
    // tests need not touch the process environment.
    let mut dict = figment::value::Dict::new();
    for (k, v) in &vars {
        let key = env_key(&k["BEEP_".len()..].to_ascii_lowercase());
        insert_path(&mut dict, &key, parse_env_value(v));
    }
    let figment = Figment::from(Serialized::defaults(Config::default()))
        .merge(Toml::file(&file))
        .merge(Serialized::globals(figment::value::Value::from(dict)))
        .merge(Serialized::globals(overrides));
    let config: Config = figment.extract().map_err(|e| {
        let mut msg = String::from("invalid configuration:");
        for err in e {
            msg.push_str(&format!("\n  - {err}"));
        }
        anyhow::anyhow!(msg)
    })?;
    Ok(config)
}

/// Read an environment value the way figment does: booleans, integers, floats and
/// TOML-like arrays keep their type; everything else is a string.
fn parse_env_value(v: &str) -> figment::value::Value {
    v.parse::<figment::value::Value>()
        .unwrap_or_else(|_| figment::value::Value::from(v.to_string()))
}

fn insert_path(dict: &mut figment::value::Dict, path: &str, value: figment::value::Value) {
    let mut parts = path.splitn(2, '.');
    let head = parts.next().unwrap_or_default().to_string();
    match parts.next() {
        None => {
            dict.insert(head, value);
        }
        Some(rest) => {
            let entry = dict
                .entry(head)
                .or_insert_with(|| figment::value::Value::from(figment::value::Dict::new()));
            if let figment::value::Value::Dict(_, inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

impl Config {
    /// Check values serde cannot check; returns every problem found.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = self.gateway.problems();
        problems.extend(self.nats.problems());
        if self.node.worker_id > beep_types::snowflake::MAX_WORKER_ID {
            problems.push(format!(
                "node.worker_id must be 0..=1023, got {}",
                self.node.worker_id
            ));
        }
        let url = &self.database.url;
        if !url.is_empty() && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
            problems
                .push("database.url must start with postgres:// (or be empty for SQLite)".into());
        }
        if !matches!(self.database.sqlite_synchronous.as_str(), "full" | "normal") {
            problems.push("database.sqlite_synchronous must be `full` or `normal`".into());
        }
        if !matches!(self.log.format.as_str(), "json" | "pretty") {
            problems.push("log.format must be `json` or `pretty`".into());
        }
        if self.limits.json_depth == 0 || self.limits.json_depth > 128 {
            problems.push("limits.json_depth must be 1..=128".into());
        }
        if self.limits.json_body_bytes < 1024 {
            problems.push("limits.json_body_bytes must be at least 1024".into());
        }
        let g = &self.guilds;
        if [g.max_owned, g.max_joined, g.max_channels, g.max_roles]
            .into_iter()
            .chain([
                g.max_invites_per_channel,
                g.max_invites_per_guild,
                g.max_folder_depth,
            ])
            .any(|v| v == 0)
        {
            problems.push("guilds.max_* limits must be at least 1".into());
        }
        if !matches!(
            self.ratelimit.backend.as_str(),
            "auto" | "memory" | "database"
        ) {
            problems.push("ratelimit.backend must be `auto`, `memory` or `database`".into());
        }
        if self.ratelimit.backend == "database" && self.database.url.is_empty() {
            problems.push(
                "ratelimit.backend = `database` needs PostgreSQL (database.url); SQLite is one node"
                    .into(),
            );
        }
        if self.ratelimit.per_second == 0 || self.ratelimit.auth_per_minute == 0 {
            problems.push(
                "ratelimit.per_second and ratelimit.auth_per_minute must be at least 1".into(),
            );
        }
        if self.auth.access_token_ttl_secs == 0 || self.auth.access_token_ttl_secs > 24 * 3600 {
            problems.push("auth.access_token_ttl_secs must be 1..=86400".into());
        }
        if self.auth.session_idle_days == 0 {
            problems.push("auth.session_idle_days must be at least 1".into());
        }
        if self.auth.max_failed_logins == 0 || self.auth.registrations_per_hour == 0 {
            problems.push(
                "auth.max_failed_logins and auth.registrations_per_hour must be at least 1".into(),
            );
        }
        if self.auth.argon2_memory_kib < 19_456
            || self.auth.argon2_iterations < 2
            || self.auth.argon2_parallelism == 0
        {
            problems.push(
                "auth.argon2_* must be at least m=19456 KiB, t=2, p=1 (OWASP's minimum)".into(),
            );
        }
        let smtp = &self.smtp.url;
        if !smtp.is_empty() && !smtp.starts_with("smtp://") && !smtp.starts_with("smtps://") {
            problems.push("smtp.url must start with smtp:// or smtps:// (or be empty)".into());
        }
        if self.database.sqlite_readers == 0 || self.database.max_connections == 0 {
            problems.push(
                "database.sqlite_readers and database.max_connections must be at least 1".into(),
            );
        }
        if self.files.deletion_poll_ms == 0
            || self.files.deletion_retry_base_ms == 0
            || self.files.deletion_lease_secs == 0
        {
            problems.push(
                "files.deletion_poll_ms, files.deletion_retry_base_ms and files.deletion_lease_secs must be at least 1"
                    .into(),
            );
        }
        if self.files.max_upload_bytes == 0 || self.files.max_files == 0 {
            problems.push("files.max_upload_bytes and files.max_files must be at least 1".into());
        }
        let key = &self.files.signing_key;
        if !key.is_empty() && (key.len() != 64 || !key.bytes().all(|b| b.is_ascii_hexdigit())) {
            problems.push("files.signing_key must be 64 hex digits (or empty)".into());
        }
        if !self.s3.bucket.is_empty()
            && !self.s3.endpoint.is_empty()
            && !self.s3.endpoint.starts_with("http://")
            && !self.s3.endpoint.starts_with("https://")
        {
            problems.push("s3.endpoint must start with http:// or https://".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The effective configuration as TOML with secrets replaced by `"<redacted>"`.
    pub fn redacted_toml(&self) -> String {
        let mut c = self.clone();
        c.database.url = redact_url(&c.database.url);
        c.smtp.url = redact_url(&c.smtp.url);
        c.nats.url = redact_url(&c.nats.url);
        if !c.s3.secret_access_key.is_empty() {
            c.s3.secret_access_key = "<redacted>".into();
        }
        if !c.files.signing_key.is_empty() {
            c.files.signing_key = "<redacted>".into();
        }
        for k in &mut c.auth.keys {
            *k = "<redacted>".into();
        }
        toml::to_string_pretty(&c).unwrap_or_else(|e| format!("# cannot render: {e}"))
    }

    /// The public base URL (explicit, or derived from `listen`).
    pub fn public_base_url(&self) -> String {
        if self.public_url.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.public_url.trim_end_matches('/').to_string()
        }
    }
}

/// Hide the password of a URL (and the whole URL if it cannot be parsed).
fn redact_url(url: &str) -> String {
    if url.is_empty() {
        return String::new();
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<redacted>".into();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}://{user}:<redacted>@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn env_key_mapping() {
        assert_eq!(env_key("database_url"), "database.url");
        assert_eq!(env_key("database__url"), "database.url");
        assert_eq!(env_key("data_dir"), "data_dir");
        assert_eq!(env_key("node__worker_id"), "node.worker_id");
        assert_eq!(env_key("listen"), "listen");
    }

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("beep.toml"),
            "listen = \"127.0.0.1:9000\"\n[node]\nworker_id = 3\n[log]\nlevel = \"debug\"\n",
        )
        .expect("write");
        let d = dir.path().to_string_lossy().to_string();
        let e = env(&[
            ("BEEP_DATA_DIR", &d),
            ("BEEP_NODE__WORKER_ID", "7"),
            ("BEEP_TEST_DATABASE_URL", "x"),
        ]);
        let c = load(None, &Overrides::default(), &e).expect("load");
        assert_eq!(c.listen.port(), 9000, "file applies");
        assert_eq!(c.node.worker_id, 7, "env beats file");
        assert_eq!(c.log.level, "debug");
        let o = Overrides {
            listen: Some("127.0.0.1:9100".parse().expect("addr")),
            ..Default::default()
        };
        let c = load(None, &o, &e).expect("load");
        assert_eq!(c.listen.port(), 9100, "flag beats file");
    }

    #[test]
    fn unknown_keys_are_errors_in_file_and_env() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().to_string_lossy().to_string();
        let e = env(&[("BEEP_DATA_DIR", &d), ("BEEP_LISTN", "x")]);
        let err = load(None, &Overrides::default(), &e).expect_err("unknown env key");
        assert!(err.to_string().contains("listn"), "{err}");
        std::fs::write(dir.path().join("beep.toml"), "[database]\nurll = \"x\"\n").expect("write");
        let err = load(None, &Overrides::default(), &env(&[("BEEP_DATA_DIR", &d)]))
            .expect_err("unknown file key");
        assert!(err.to_string().contains("urll"), "{err}");
    }

    #[test]
    fn secrets_are_redacted() {
        let mut c = Config::default();
        c.database.url = "postgres://beep:hunter2@db:5432/beep".into();
        let t = c.redacted_toml();
        assert!(!t.contains("hunter2"));
        assert!(t.contains("postgres://beep:<redacted>@db:5432/beep"));
    }

    #[test]
    fn validation_reports_bad_values() {
        let mut c = Config::default();
        c.node.worker_id = 2000;
        c.database.url = "mysql://x".into();
        let errs = c.validate().expect_err("invalid");
        assert_eq!(errs.len(), 2);
    }
}
