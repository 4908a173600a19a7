//! Domain services of Beep. Every permission and validation rule lives here, so
//! the REST routes, the gateway and GraphQL all get the same checks.
//!
//! This crate never names an SQL dialect and knows nothing of HTTP.

pub mod accounts;
pub mod error;
pub mod events;

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
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            worker_id: 0,
            password_hash: Default::default(),
            hash_concurrency: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        }
    }
}

/// All domain services, cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub store: DynStore,
    pub ids: Arc<SnowflakeGenerator>,
    pub bus: Arc<dyn events::EventBus>,
    pub accounts: accounts::Accounts,
}

impl Services {
    /// Wire the services over an opened store.
    pub fn new(store: DynStore, config: &CoreConfig) -> Result<Services> {
        let ids = Arc::new(
            SnowflakeGenerator::new(config.worker_id)
                .ok_or_else(|| Error::internal("worker id out of range"))?,
        );
        let hasher = accounts::password::PasswordHasherPool::new(
            config.password_hash,
            config.hash_concurrency,
        );
        Ok(Services {
            accounts: accounts::Accounts::new(store.clone(), ids.clone(), hasher),
            store,
            ids,
            bus: Arc::new(events::LocalBus::new(4096)),
        })
    }

    /// Whether the database answers.
    pub async fn ready(&self) -> Result<()> {
        self.store.ping().await.map_err(Error::from)
    }
}
pub mod permissions;
