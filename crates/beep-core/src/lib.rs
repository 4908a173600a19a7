//! Domain services of Beep. Every permission and validation rule lives here, so
//! the REST routes, the gateway and GraphQL all get the same checks.
//!
//! This crate never names an SQL dialect and knows nothing of HTTP.

pub mod accounts;
pub mod applications;
pub mod error;
pub mod events;
pub mod file_lifecycle;
pub mod guilds;
pub mod mail;
pub mod messages;
pub mod notifications;
pub mod ratelimit;
pub mod social;
pub mod webhooks;

use std::sync::Arc;

use beep_store::DynStore;
use beep_types::SnowflakeGenerator;

pub use error::{Error, Result};

/// Settings the domain needs from configuration.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Snowflake worker id of this node.
    pub worker_id: u16,
    /// argon2id parameters.
    pub password_hash: accounts::password::HashParams,
    /// How many passwords may be hashed at once.
    pub hash_concurrency: usize,
    /// Token lifetimes, verification policy and account limits.
    pub auth: accounts::AuthSettings,
    /// Where the token signing keys come from.
    pub keys: KeySource,
    /// Outgoing mail.
    pub mail: mail::MailSettings,
    /// Where rate-limit buckets live.
    pub rate_limits: RateLimitBackend,
    /// Object storage, uploads, signed URLs and link previews.
    pub files: beep_files::FilesConfig,
    /// Limits on guilds, channels, roles and invites.
    pub guilds: guilds::GuildLimits,
    /// Limits on pins, reactions, nonce replays and bulk deletes.
    pub messages: messages::MessageLimits,
    /// Limits on relationships, groups and contacts lookups.
    pub social: social::SocialLimits,
    /// The missed-mention digest delay and this node's presence lease name.
    pub notifications: notifications::NotificationConfig,
    /// Storage quotas, the file deletion worker and the orphan sweeper.
    pub file_lifecycle: file_lifecycle::LifecycleSettings,
}

/// Where the token signing keys come from.
#[derive(Debug, Clone, Default)]
pub enum KeySource {
    /// A random key in memory, lost at exit (tests and one-off tools).
    #[default]
    Ephemeral,
    /// `*.pem` files in a directory, one generated when there is none.
    Dir(std::path::PathBuf),
    /// PEM texts from configuration; the last one signs.
    Pems(Vec<String>),
}

/// Where rate-limit buckets live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RateLimitBackend {
    /// In this process (one node).
    #[default]
    Memory,
    /// In the database, shared by every node of a cluster.
    Shared,
    /// No limits at all.
    Off,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            worker_id: 0,
            password_hash: Default::default(),
            hash_concurrency: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            auth: Default::default(),
            keys: KeySource::default(),
            mail: Default::default(),
            rate_limits: RateLimitBackend::default(),
            files: Default::default(),
            guilds: Default::default(),
            messages: Default::default(),
            social: Default::default(),
            notifications: Default::default(),
            file_lifecycle: Default::default(),
        }
    }
}

/// The longest guild state is trusted by the send path without a change event.
const GUILD_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(10);

/// All domain services, cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub store: DynStore,
    pub ids: Arc<SnowflakeGenerator>,
    pub bus: Arc<dyn events::EventBus>,
    pub accounts: accounts::Accounts,
    pub limiter: ratelimit::Limiter,
    pub files: beep_files::Files,
    pub file_lifecycle: file_lifecycle::FileLifecycle,
    pub guilds: guilds::Guilds,
    pub messages: messages::Messages,
    pub social: social::Social,
    pub notifications: notifications::Notifications,
    pub webhooks: webhooks::Webhooks,
    pub applications: applications::Applications,
}

impl Services {
    /// Wire the services over an opened store, with the in-process event bus.
    pub fn new(store: DynStore, config: &CoreConfig) -> Result<Services> {
        Self::with_bus(store, config, Arc::new(events::LocalBus::new(16_384)))
    }

    /// Wire the services over an opened store and an event bus (a cluster's NATS
    /// bus, or the in-process one).
    pub fn with_bus(
        store: DynStore,
        config: &CoreConfig,
        bus: Arc<dyn events::EventBus>,
    ) -> Result<Services> {
        // Every service publishes through a bus that first drops cached guild
        // state the event makes stale (see `messages::cache`).
        let guild_cache = Arc::new(messages::cache::GuildCache::new(GUILD_CACHE_TTL));
        guild_cache.follow(&*bus);
        let bus: Arc<dyn events::EventBus> = Arc::new(messages::cache::InvalidatingBus::new(
            bus,
            guild_cache.clone(),
        ));
        let ids = Arc::new(
            SnowflakeGenerator::new(config.worker_id)
                .ok_or_else(|| Error::internal("worker id out of range"))?,
        );
        let hasher = accounts::password::PasswordHasherPool::new(
            config.password_hash,
            config.hash_concurrency,
        );
        let keys = match &config.keys {
            KeySource::Ephemeral => accounts::keys::KeyRing::ephemeral()?,
            KeySource::Dir(dir) => accounts::keys::KeyRing::load_or_generate(dir)?,
            KeySource::Pems(pems) => accounts::keys::KeyRing::from_pems(pems)?,
        };
        let limiter = match config.rate_limits {
            RateLimitBackend::Memory => ratelimit::Limiter::memory(),
            RateLimitBackend::Shared => ratelimit::Limiter::shared(store.clone()),
            RateLimitBackend::Off => ratelimit::Limiter::off(),
        };
        let files = beep_files::Files::new(config.files.clone(), ids.clone())?;
        let file_lifecycle =
            file_lifecycle::FileLifecycle::new(store.clone(), files.clone(), config.file_lifecycle);
        let accounts = accounts::Accounts::new(accounts::AccountsDeps {
            store: store.clone(),
            ids: ids.clone(),
            hasher,
            keys: Arc::new(keys),
            settings: config.auth.clone(),
            limiter: limiter.clone(),
            mailer: mail::Mailer::new(&config.mail)?,
            bus: bus.clone(),
            files: files.clone(),
        });
        let guilds = guilds::Guilds::new(
            store.clone(),
            ids.clone(),
            bus.clone(),
            files.clone(),
            config.guilds,
        );
        let notifications = notifications::Notifications::new(
            store.clone(),
            ids.clone(),
            bus.clone(),
            mail::Mailer::new(&config.mail)?,
            config.notifications.clone(),
        );
        let messages = messages::Messages::new(messages::MessagesDeps {
            notifications: notifications.clone(),
            store: store.clone(),
            ids: ids.clone(),
            bus: bus.clone(),
            guilds: guilds.clone(),
            limiter: limiter.clone(),
            files: files.clone(),
            public_url: config.auth.issuer.clone(),
            limits: config.messages,
            cache: guild_cache,
        });
        let social = social::Social::new(social::SocialDeps {
            store: store.clone(),
            ids: ids.clone(),
            bus: bus.clone(),
            messages: messages.clone(),
            limiter: limiter.clone(),
            files: files.clone(),
            limits: config.social,
        });
        let webhooks = webhooks::Webhooks::new(webhooks::WebhooksDeps {
            store: store.clone(),
            ids: ids.clone(),
            bus: bus.clone(),
            guilds: guilds.clone(),
            messages: messages.clone(),
            limiter: limiter.clone(),
            files: files.clone(),
            public_url: config.auth.issuer.clone(),
        });
        let applications = applications::Applications::new(
            store.clone(),
            ids.clone(),
            accounts.clone(),
            guilds.clone(),
            config.auth.issuer.clone(),
        );
        Ok(Services {
            accounts,
            messages,
            social,
            notifications,
            webhooks,
            applications,
            guilds,
            files,
            file_lifecycle,
            limiter,
            store,
            ids,
            bus,
        })
    }

    /// Whether the database and the object store answer.
    pub async fn ready(&self) -> Result<()> {
        self.store.ping().await.map_err(Error::from)?;
        // Object storage too (SPEC §5: storage reachable).
        self.files.ready().await.map_err(Error::from)
    }
}
pub mod permissions;
