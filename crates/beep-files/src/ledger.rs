//! Storage quotas, as the files service sees them: a [`UsageLedger`] (kept in the
//! database by `beep-core`) says how much a user may still store and records
//! each attachment against its uploader. Without one, nothing is counted.

use async_trait::async_trait;
use beep_types::{ChannelId, UserId};

use crate::error::Result;

/// Where stored bytes are counted against users.
#[async_trait]
pub trait UsageLedger: Send + Sync + std::fmt::Debug {
    /// Bytes `user` may still store; `None` when there is no limit.
    async fn remaining(&self, user: UserId) -> Result<Option<u64>>;
    /// Count the attachment folder `key` of `size` bytes against `user`; `false`
    /// (nothing counted) when that would pass the quota.
    async fn record(&self, key: &str, user: UserId, channel: ChannelId, size: u64) -> Result<bool>;
    /// Give up attachment folders no message took (queued for deletion, their
    /// bytes released). Folders on a message are left alone.
    async fn discard(&self, keys: &[String]) -> Result<()>;
}
