//! Accounts: registration, profiles and (in later steps) login, sessions and 2FA.

pub mod names;
pub mod password;

use std::sync::Arc;

use beep_store::{DynStore, NewUser, StoreError, User};
use beep_types::v10::{CurrentUser, PublicUser};
use beep_types::{ErrorCode, SnowflakeGenerator, UserId};
use tracing::info;

use crate::error::{Error, Result};
use names::{NameProblem, Username, parse_email, password_length_ok};
use password::PasswordHasherPool;

/// What a registration asks for.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Account operations.
#[derive(Clone)]
pub struct Accounts {
    store: DynStore,
    ids: Arc<SnowflakeGenerator>,
    hasher: PasswordHasherPool,
}

impl Accounts {
    /// Accounts over `store`, minting IDs from `ids`, hashing on `hasher`.
    pub fn new(store: DynStore, ids: Arc<SnowflakeGenerator>, hasher: PasswordHasherPool) -> Self {
        Accounts { store, ids, hasher }
    }

    /// Create an account. Field errors name every invalid field at once.
    pub async fn register(&self, r: Registration) -> Result<User> {
        let mut err = Error::new(ErrorCode::InvalidFormBody);
        let username = match Username::parse(&r.username) {
            Ok(u) => Some(u),
            Err(NameProblem::Length) => {
                err = err.and_field(
                    "username",
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 2 and 32 in length.",
                );
                None
            }
            Err(NameProblem::Characters) => {
                err = err.and_field(
                    "username",
                    "USERNAME_INVALID_CHARACTERS",
                    "Username contains characters that are not allowed.",
                );
                None
            }
        };
        let email = parse_email(&r.email);
        if email.is_none() {
            err = err.and_field(
                "email",
                "EMAIL_TYPE_INVALID_EMAIL",
                "Not a well formed email address.",
            );
        }
        if !password_length_ok(&r.password) {
            err = err.and_field(
                "password",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 8 and 128 in length.",
            );
        }
        for (field, v) in [("first_name", &r.first_name), ("last_name", &r.last_name)] {
            if v.as_ref()
                .is_some_and(|s| s.chars().count() > 64 || s.chars().any(char::is_control))
            {
                err = err.and_field(
                    field,
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be at most 64 printable characters.",
                );
            }
        }
        let (Some(username), Some((email, email_key))) = (username, email) else {
            return Err(err);
        };
        if !err.fields.is_empty() {
            return Err(err);
        }
        let hash = self.hasher.hash(r.password).await?;
        let new = NewUser {
            id: UserId(self.ids.next()),
            username: username.display,
            username_key: username.key,
            username_skeleton: username.skeleton,
            email: Some(email),
            email_key: Some(email_key),
            password_hash: Some(hash),
            first_name: r.first_name.filter(|s| !s.trim().is_empty()),
            last_name: r.last_name.filter(|s| !s.trim().is_empty()),
            locale: "en".into(),
            ..NewUser::default()
        };
        match self.store.insert_user(&new).await {
            Ok(u) => {
                info!(action = "USER_CREATED", user = %u.id, "account registered");
                Ok(u)
            }
            Err(StoreError::Conflict("username")) => Err(Error::field(
                "username",
                "USERNAME_ALREADY_TAKEN",
                "Username is unavailable. Try adding numbers, letters, underscores _ , or periods.",
            )),
            Err(StoreError::Conflict("email")) => Err(Error::field(
                "email",
                "EMAIL_ALREADY_REGISTERED",
                "Email is already registered.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The user with this id, or Unknown User.
    pub async fn user(&self, id: UserId) -> Result<User> {
        self.store
            .user(id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownUser))
    }
}

/// The public view of a user.
pub fn public_user(u: &User) -> PublicUser {
    PublicUser {
        id: u.id,
        username: u.username.clone(),
        discriminator: "0".into(),
        global_name: u.global_name.clone(),
        avatar: u.avatar.clone(),
        banner: u.banner.clone(),
        bot: u.bot,
        system: u.system,
        public_flags: u.flags,
        accent_color: None,
        avatar_decoration_data: None,
    }
}

/// The owner's view of their own account.
pub fn current_user(u: &User) -> CurrentUser {
    CurrentUser {
        public: public_user(u),
        email: u.email.clone(),
        verified: u.verified,
        mfa_enabled: u.mfa_enabled,
        locale: u.locale.clone(),
        flags: u.flags,
        premium_type: 0,
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        bio: u.bio.clone(),
    }
}

impl Accounts {
    /// Set a new password for the account with this username or email, and end
    /// all its sessions (used by `beep admin reset-password`).
    pub async fn set_password_by_login(&self, login: &str, password: String) -> Result<User> {
        if !password_length_ok(&password) {
            return Err(Error::field(
                "password",
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 8 and 128 in length.",
            ));
        }
        let user = self
            .find_by_login(login)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownUser))?;
        let hash = self.hasher.hash(password).await?;
        let patch = beep_store::UserPatch {
            password_hash: Some(Some(hash)),
            ..Default::default()
        };
        let user = self.store.update_user(user.id, &patch).await?;
        self.store.revoke_user_sessions(user.id, None).await?;
        info!(action = "PASSWORD_RESET", user = %user.id, "password reset by an administrator");
        Ok(user)
    }

    /// The account whose email or username is `login`.
    pub async fn find_by_login(&self, login: &str) -> Result<Option<User>> {
        if let Some((_, key)) = parse_email(login) {
            return Ok(self.store.user_by_email_key(&key).await?);
        }
        match Username::parse(login) {
            Ok(u) => Ok(self.store.user_by_username_key(&u.key).await?),
            Err(_) => Ok(None),
        }
    }
}
