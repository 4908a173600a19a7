//! Profiles: reading users, `PATCH /users/@me` (names, images, bio, locale,
//! password), client settings, and deleting one's account.
//!
//! A patch is a closed list of fields a user may set. Anything else in the body
//! (`id`, `flags`, `verified`, `mfa_enabled`, `bot`, ...) is ignored, never
//! applied, as Discord ignores it; the email address changes only through its
//! own flow with a code.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use beep_store::{StoreError, User, UserPatch};
use beep_types::ErrorCode;
use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};
use tracing::info;

use super::names::Username;
use super::tokens::Principal;
use super::{Accounts, passwords, username_taken};
use crate::error::{Error, Result};

/// Largest decoded image accepted for an avatar or banner.
pub const MAX_IMAGE_BYTES: usize = 8 * 1024 * 1024;
/// Longest biography, in characters (Discord's "about me").
pub const MAX_BIO_CHARS: usize = 190;
/// Largest client settings document, in bytes of JSON.
pub const MAX_SETTINGS_BYTES: usize = 16 * 1024;

/// `Some(None)` for an explicit `null`, `Some(Some(v))` for a value, `None` when
/// the field is absent (with `#[serde(default)]`).
fn nullable<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The fields of `PATCH /users/@me`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ProfilePatch {
    /// A new username (needs `password`).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub global_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    /// A data URI (`data:image/png;base64,...`), or null to remove it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub avatar: Option<Option<String>>,
    /// A data URI, or null to remove it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub banner: Option<Option<String>>,
    #[serde(default)]
    pub bio: Option<String>,
    /// `en` or `fr` (Discord's `en-US`, `en-GB`, `fr` are accepted and folded).
    #[serde(default)]
    pub locale: Option<String>,
    /// The current password: needed to change the username or the password.
    #[serde(default)]
    pub password: Option<String>,
    /// A new password; every other session ends.
    #[serde(default)]
    pub new_password: Option<String>,
    /// Not settable here; present only to refuse it with a pointer to the
    /// email change flow.
    #[serde(default)]
    #[schema(ignore)]
    pub email: Option<serde_json::Value>,
}

/// Check a first or last name: at most 64 printable characters.
pub fn check_name_part(v: Option<&str>) -> std::result::Result<(), &'static str> {
    match v {
        Some(s) if s.chars().count() > 64 || s.chars().any(char::is_control) => {
            Err("Must be at most 64 printable characters.")
        }
        _ => Ok(()),
    }
}

/// Check an image given as a data URI (PNG, JPEG, GIF or WebP, recognised by its
/// bytes, not by the declared type) and return its hash, as Discord names images
/// (`a_` first for an animated GIF).
pub fn image_hash(data_uri: &str) -> std::result::Result<String, &'static str> {
    let Some(rest) = data_uri.strip_prefix("data:") else {
        return Err("Must be a data URI (data:image/png;base64,...).");
    };
    let Some((_, b64)) = rest.split_once(";base64,") else {
        return Err("Must be a base64 data URI.");
    };
    if b64.len() > MAX_IMAGE_BYTES / 3 * 4 + 4 {
        return Err("The image is too large.");
    }
    let bytes = STANDARD
        .decode(b64.trim())
        .map_err(|_| "The image is not valid base64.")?;
    let kind = sniff_image(&bytes).ok_or("The image must be PNG, JPEG, GIF or WebP.")?;
    let digest = Sha256::digest(&bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    Ok(if kind == "gif" {
        format!("a_{hex}")
    } else {
        hex
    })
}

/// The image type from its first bytes.
fn sniff_image(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpeg")
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some("gif")
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

/// Fold a locale to `en` or `fr`.
fn parse_locale(raw: &str) -> Option<&'static str> {
    let l = raw.trim().to_ascii_lowercase();
    let base = l.split(['-', '_']).next().unwrap_or_default();
    match base {
        "en" => Some("en"),
        "fr" => Some("fr"),
        _ => None,
    }
}

/// What a profile change produced.
#[derive(Debug, Clone)]
pub struct ProfileUpdate {
    pub user: User,
    /// A fresh access token when the password changed (the other sessions ended).
    pub token: Option<String>,
}

impl Accounts {
    /// The caller's own account.
    pub async fn me(&self, me: &Principal) -> Result<User> {
        self.user(me.user_id).await
    }

    /// Apply `PATCH /users/@me`. Every invalid field is reported at once; nothing
    /// is applied unless everything is valid.
    pub async fn update_profile(&self, me: &Principal, p: ProfilePatch) -> Result<ProfileUpdate> {
        let user = self.user(me.user_id).await?;
        let mut patch = UserPatch::default();
        let mut err = Error::new(ErrorCode::InvalidFormBody);
        if p.email.is_some() {
            err = err.and_field(
                "email",
                "EMAIL_CHANGE_NEEDS_CODE",
                "Change the email address with POST /users/@me/email.",
            );
        }
        let mut new_name = None;
        if let Some(raw) = &p.username {
            match Username::parse(raw) {
                Ok(u) if u.key == user.username_key && u.display == user.username => {}
                Ok(u) => new_name = Some(u),
                Err(_) => {
                    err = err.and_field(
                        "username",
                        "USERNAME_INVALID_CHARACTERS",
                        "Username must be 2 to 32 characters, without @ # : or `.",
                    );
                }
            }
            if new_name.is_some() && p.password.is_none() {
                err = err.and_field(
                    "password",
                    "PASSWORD_REQUIRED",
                    "The current password is needed to change the username.",
                );
            }
        }
        if let Some(v) = &p.global_name {
            let bad = v.as_ref().is_some_and(|s| {
                let n = s.trim().chars().count();
                !(1..=32).contains(&n) || s.chars().any(char::is_control)
            });
            if bad {
                err = err.and_field(
                    "global_name",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 32 in length.",
                );
            } else {
                patch.global_name = Some(v.as_ref().map(|s| s.trim().to_owned()));
            }
        }
        for (field, value, slot) in [
            ("first_name", &p.first_name, &mut patch.first_name),
            ("last_name", &p.last_name, &mut patch.last_name),
        ] {
            if let Some(v) = value {
                match check_name_part(v.as_deref()) {
                    Ok(()) => {
                        *slot = Some(v.clone().filter(|s| !s.trim().is_empty()));
                    }
                    Err(m) => err = err.and_field(field, "BASE_TYPE_BAD_LENGTH", m),
                }
            }
        }
        for (field, value, slot) in [
            ("avatar", &p.avatar, &mut patch.avatar),
            ("banner", &p.banner, &mut patch.banner),
        ] {
            match value {
                None => {}
                Some(None) => *slot = Some(None),
                Some(Some(uri)) => match image_hash(uri) {
                    Ok(h) => *slot = Some(Some(h)),
                    Err(m) => err = err.and_field(field, "IMAGE_INVALID", m),
                },
            }
        }
        if let Some(bio) = &p.bio {
            if bio.chars().count() > MAX_BIO_CHARS {
                err = err.and_field(
                    "bio",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be 190 or fewer in length.",
                );
            } else {
                patch.bio = Some(bio.clone());
            }
        }
        if let Some(l) = &p.locale {
            match parse_locale(l) {
                Some(l) => patch.locale = Some(l.to_owned()),
                None => err = err.and_field("locale", "LOCALE_INVALID", "Locale must be en or fr."),
            }
        }
        if let Some(new_password) = &p.new_password {
            if let Err(problem) = passwords::check_new_password(new_password) {
                err = err.and_field("new_password", problem.code, problem.message);
            }
            if p.password.is_none() {
                err = err.and_field(
                    "password",
                    "PASSWORD_REQUIRED",
                    "The current password is needed to change the password.",
                );
            }
        }
        if !err.fields.is_empty() {
            return Err(err);
        }
        if new_name.is_some() || p.new_password.is_some() {
            let password = p.password.clone().unwrap_or_default();
            self.check_password(&user, password).await?;
        }
        if let Some(name) = &new_name {
            self.check_not_confusable(name, Some(&user)).await?;
            patch.username = Some((
                name.display.clone(),
                name.key.clone(),
                name.skeleton.clone(),
            ));
        }
        // Store the new images (validated, metadata stripped) under the hash the
        // patch names; `files.set_image` derives the same hash from the same bytes.
        for (kind, field, value) in [
            (beep_files::ImageKind::Avatar, "avatar", &p.avatar),
            (beep_files::ImageKind::Banner, "banner", &p.banner),
        ] {
            if let Some(Some(uri)) = value {
                self.files
                    .set_image(kind, me.user_id.get(), uri, field)
                    .await?;
            }
        }
        if let Some(new_password) = p.new_password.clone() {
            patch.password_hash = Some(Some(self.hasher.hash(new_password).await?));
        }
        let user = match self.store.update_user(user.id, &patch).await {
            Ok(u) => u,
            Err(StoreError::Conflict("username")) => return Err(username_taken()),
            Err(e) => return Err(e.into()),
        };
        let mut token = None;
        if p.new_password.is_some() {
            info!(action = "PASSWORD_CHANGED", user = %user.id, "password changed");
            self.end_other_sessions(me, "password changed").await?;
            token = Some(self.access_token_for(me).await?);
        }
        if new_name.is_some() {
            info!(action = "USERNAME_CHANGED", user = %user.id, "username changed");
        }
        info!(action = "USER_UPDATED", user = %user.id, "profile updated");
        Ok(ProfileUpdate { user, token })
    }

    /// Change the password with the current one; the other sessions end. Returns
    /// a fresh access token for this session.
    pub async fn change_password(
        &self,
        me: &Principal,
        password: String,
        new_password: String,
    ) -> Result<String> {
        let patch = ProfilePatch {
            password: Some(password),
            new_password: Some(new_password),
            ..Default::default()
        };
        let update = self.update_profile(me, patch).await?;
        update
            .token
            .ok_or_else(|| Error::internal("password changed without a new token"))
    }

    /// The caller's client settings (an opaque JSON object).
    pub async fn settings(&self, me: &Principal) -> Result<serde_json::Value> {
        Ok(self.user(me.user_id).await?.settings)
    }

    /// Merge top-level keys into the caller's client settings (`null` removes a
    /// key); the result is at most 16 KiB of JSON.
    pub async fn update_settings(
        &self,
        me: &Principal,
        changes: serde_json::Map<String, serde_json::Value>,
    ) -> Result<serde_json::Value> {
        let user = self.user(me.user_id).await?;
        let mut settings = match user.settings {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        for (k, v) in changes {
            if v.is_null() {
                settings.remove(&k);
            } else {
                settings.insert(k, v);
            }
        }
        let settings = serde_json::Value::Object(settings);
        if settings.to_string().len() > MAX_SETTINGS_BYTES {
            return Err(Error::new(ErrorCode::PayloadTooLarge));
        }
        let patch = UserPatch {
            settings: Some(settings),
            ..Default::default()
        };
        Ok(self.store.update_user(me.user_id, &patch).await?.settings)
    }

    /// Delete the caller's account: the password, and a 2FA code when 2FA is on.
    /// Sessions, codes and tokens go with it.
    pub async fn delete_account(
        &self,
        me: &Principal,
        password: String,
        code: Option<&str>,
    ) -> Result<()> {
        let user = self.user(me.user_id).await?;
        self.check_password(&user, password).await?;
        if user.mfa_enabled {
            let ok = match code {
                Some(c) => self.check_second_factor(&user, c).await?,
                None => false,
            };
            if !ok {
                return Err(Error::new(ErrorCode::InvalidMfaCode));
            }
        }
        match self.store.delete_user(user.id).await {
            Ok(_) => {}
            // Records that must not vanish with their owner (the servers it owns)
            // keep the account alive until they are handed over.
            Err(StoreError::NotFound | StoreError::Conflict(_)) => {
                return Err(Error::field(
                    "user",
                    "ACCOUNT_HAS_DEPENDENTS",
                    "Transfer or delete the servers you own first.",
                ));
            }
            Err(e) => return Err(e.into()),
        }
        self.announce_revoked(user.id, None);
        info!(action = "USER_DELETED", user = %user.id, "account deleted by its owner");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognised_by_their_bytes() {
        let png = format!(
            "data:image/png;base64,{}",
            STANDARD.encode(b"\x89PNG\r\n\x1a\nrest")
        );
        let h = image_hash(&png).expect("png");
        assert_eq!(h.len(), 32);
        let gif = format!("data:image/gif;base64,{}", STANDARD.encode(b"GIF89a..."));
        assert!(image_hash(&gif).expect("gif").starts_with("a_"));
        let fake = format!("data:image/png;base64,{}", STANDARD.encode(b"<svg>"));
        assert!(image_hash(&fake).is_err(), "declared type is not trusted");
        assert!(image_hash("http://x/y.png").is_err());
    }

    #[test]
    fn locales_fold_to_en_or_fr() {
        assert_eq!(parse_locale("en-US"), Some("en"));
        assert_eq!(parse_locale("fr"), Some("fr"));
        assert_eq!(parse_locale("FR_ca"), Some("fr"));
        assert_eq!(parse_locale("de"), None);
    }

    #[test]
    fn null_differs_from_absent() {
        let p: ProfilePatch = serde_json::from_str(r#"{"global_name": null}"#).expect("json");
        assert_eq!(p.global_name, Some(None));
        assert_eq!(p.first_name, None);
        let p: ProfilePatch =
            serde_json::from_str(r#"{"verified": true, "id": "1", "flags": 1}"#).expect("json");
        assert!(p.username.is_none(), "protected fields are simply ignored");
    }
}
