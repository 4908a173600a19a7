//! JSON shapes of the Discord v10-compatible API, plus Beep's own additions.

pub mod user;

pub use user::{CurrentUser, PublicUser};
pub mod channel;
pub mod guild;
pub mod message;
pub mod notification;
