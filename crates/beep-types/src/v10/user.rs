//! User objects: the public view anyone may see and the private view of oneself.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::UserId;

/// A user as others see it (Discord's user object without private fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PublicUser {
    pub id: UserId,
    pub username: String,
    /// Always `"0"`: Beep has unique usernames, as Discord does since 2023.
    pub discriminator: String,
    pub global_name: Option<String>,
    pub avatar: Option<String>,
    pub banner: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub system: bool,
    pub public_flags: i64,
    pub accent_color: Option<u32>,
    pub avatar_decoration_data: Option<serde_json::Value>,
}

/// The authenticated user's own view (`GET /users/@me`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CurrentUser {
    #[serde(flatten)]
    pub public: PublicUser,
    pub email: Option<String>,
    pub verified: bool,
    pub mfa_enabled: bool,
    pub locale: String,
    pub flags: i64,
    pub premium_type: u8,
    /// Beep extension: given name.
    pub first_name: Option<String>,
    /// Beep extension: family name.
    pub last_name: Option<String>,
    /// Beep extension: biography.
    pub bio: String,
}
