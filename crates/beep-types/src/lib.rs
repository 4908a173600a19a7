//! Wire types of Beep: snowflakes and ID newtypes, the error table, and the JSON
//! shapes of the Discord v10-compatible REST API and gateway.
//!
//! This crate knows nothing of tokio, SQL or HTTP frameworks.

pub mod error;
pub mod ids;
pub mod intents;
pub mod snowflake;

pub use error::{ErrorCode, FieldError};
pub use ids::*;
pub use intents::Intents;
pub use snowflake::{Snowflake, SnowflakeGenerator, SnowflakeParseError};
pub mod permissions;
pub mod v10;
pub use permissions::Permissions;
