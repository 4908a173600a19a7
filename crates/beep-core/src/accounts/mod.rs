//! Accounts: registration, login and sessions, tokens, email codes, two-factor
//! authentication and profiles.
//!
//! Every rule lives here; the HTTP handlers only extract and convert. Audit
//! events are `tracing` events with an `action` (`USER_CREATED`, `LOGIN_FAILED`,
//! `MFA_ENABLED`, `SESSION_REVOKED`, ...) and the `user` they concern.

pub mod codes;
pub mod keys;
pub mod login;
pub mod mfa;
pub mod names;
pub mod password;
pub mod passwords;
pub mod profile;
pub mod tokens;
mod verified;

use std::sync::Arc;
use std::time::Duration;

use beep_store::{DynStore, NewUser, StoreError};
use beep_types::v10::{CurrentUser, PublicUser};
use beep_types::{ErrorCode, SnowflakeGenerator, UserId};
use tokio::sync::OnceCell;
use tracing::{info, warn};

use crate::error::{Error, Result};
use crate::events::EventBus;
use crate::mail::Mailer;
use crate::ratelimit::{Limiter, Quota, Scope};
use keys::KeyRing;
use names::{NameProblem, Username, parse_email};
use password::PasswordHasherPool;

pub use beep_store::{Session, User};
pub use login::{LoginOutcome, TokenGrant};
pub use mfa::BackupCodeView;
pub use profile::{ProfilePatch, ProfileUpdate};
pub use tokens::Principal;

/// Settings of authentication.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// The `iss` of tokens: the instance's public URL.
    pub issuer: String,
    /// Lifetime of access tokens.
    pub access_ttl: Duration,
    /// A session whose refresh token is not used for this long ends.
    pub refresh_ttl: Duration,
    /// Lifetime of the ticket between the password step and the 2FA step of a login.
    pub ticket_ttl: Duration,
    /// Whether logging in needs a verified email; `None`: only when mail is
    /// really delivered (SMTP configured).
    pub require_email_verification: Option<bool>,
    /// Failed logins allowed per account and per client address.
    pub login_failures: Quota,
    /// Registrations allowed per client address.
    pub registrations: Quota,
    /// Codes mailed per account (verification resends, resets, email changes).
    pub code_mails: Quota,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            issuer: "http://localhost".into(),
            access_ttl: Duration::from_secs(15 * 60),
            refresh_ttl: Duration::from_secs(30 * 24 * 3600),
            ticket_ttl: Duration::from_secs(5 * 60),
            require_email_verification: None,
            login_failures: Quota::strict(5, Duration::from_secs(15 * 60)),
            registrations: Quota::per(10, Duration::from_secs(3600)),
            code_mails: Quota::per(3, Duration::from_secs(10 * 60)),
        }
    }
}

/// Who is asking, as the transport sees it. Requests from the command line have
/// no address, and per-address limits do not apply to them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// The client's IP address as text, empty when not over the network.
    pub ip: String,
    /// A device name for the session list (given by the client or derived from its
    /// user agent).
    pub device: String,
}

/// What a registration asks for.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// An image as a data URI (`data:image/png;base64,...`); see `PATCH /users/@me`.
    pub avatar: Option<String>,
}

/// Account operations.
#[derive(Clone)]
pub struct Accounts {
    store: DynStore,
    ids: Arc<SnowflakeGenerator>,
    hasher: PasswordHasherPool,
    keys: Arc<KeyRing>,
    settings: Arc<AuthSettings>,
    limiter: Limiter,
    mailer: Mailer,
    /// Where `SESSION_REVOKED` goes, so gateways close the sessions' connections.
    bus: Arc<dyn EventBus>,
    /// Where avatars and banners are stored.
    files: beep_files::Files,
    /// A hash to verify against when the login names no account, so that case
    /// takes as long as a wrong password.
    dummy_hash: Arc<OnceCell<String>>,
    /// Access tokens whose signature was checked (see `verified`).
    verified: Arc<verified::VerifiedTokens>,
}

/// Everything [`Accounts`] is built from.
pub struct AccountsDeps {
    pub store: DynStore,
    pub ids: Arc<SnowflakeGenerator>,
    pub hasher: PasswordHasherPool,
    pub keys: Arc<KeyRing>,
    pub settings: AuthSettings,
    pub limiter: Limiter,
    pub mailer: Mailer,
    pub bus: Arc<dyn EventBus>,
    /// Where avatars and banners are stored.
    pub files: beep_files::Files,
}

impl Accounts {
    /// Accounts over these dependencies.
    pub fn new(d: AccountsDeps) -> Self {
        Accounts {
            store: d.store,
            ids: d.ids,
            hasher: d.hasher,
            keys: d.keys,
            settings: Arc::new(d.settings),
            limiter: d.limiter,
            mailer: d.mailer,
            bus: d.bus,
            files: d.files,
            dummy_hash: Arc::new(OnceCell::new()),
            verified: Arc::default(),
        }
    }

    /// The public signing keys, as a JSON Web Key Set.
    pub fn jwks(&self) -> serde_json::Value {
        self.keys.jwks()
    }

    /// Whether logging in needs a verified email address on this instance.
    pub fn email_verification_required(&self) -> bool {
        self.settings
            .require_email_verification
            .unwrap_or_else(|| self.mailer.delivers())
    }

    /// Create an account. Field errors name every invalid field at once. Unless
    /// `client` has no address (the command line), registrations are limited per
    /// address. A verification code is mailed to the new address.
    pub async fn register(&self, r: Registration, client: &Client) -> Result<User> {
        if !client.ip.is_empty() {
            let d = self
                .limiter
                .acquire(
                    "register",
                    &client.ip,
                    self.settings.registrations,
                    Scope::Ip,
                    1,
                )
                .await?;
            if !d.allowed {
                warn!(action = "REGISTRATION_LIMITED", ip = %client.ip, "too many registrations");
                return Err(d.into_error());
            }
        }
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
        if let Err(e) = passwords::check_new_password(&r.password) {
            err = err.and_field("password", e.code, e.message);
        }
        for (field, v) in [("first_name", &r.first_name), ("last_name", &r.last_name)] {
            if let Err(message) = profile::check_name_part(v.as_deref()) {
                err = err.and_field(field, "BASE_TYPE_BAD_LENGTH", message);
            }
        }
        let avatar = match r.avatar.as_deref().filter(|a| !a.is_empty()) {
            Some(uri) => match profile::image_hash(uri) {
                Ok(h) => Some(h),
                Err(message) => {
                    err = err.and_field("avatar", "IMAGE_INVALID", message);
                    None
                }
            },
            None => None,
        };
        let (Some(username), Some((email, email_key))) = (username, email) else {
            return Err(err);
        };
        if !err.fields.is_empty() {
            return Err(err);
        }
        self.check_not_confusable(&username, None).await?;
        let id = UserId(self.ids.next());
        if let (Some(_), Some(uri)) = (&avatar, r.avatar.as_deref()) {
            // Stored (validated, metadata stripped) under the same hash.
            self.files
                .set_image(beep_files::ImageKind::Avatar, id.get(), uri, "avatar")
                .await?;
        }
        let hash = self.hasher.hash(r.password).await?;
        let new = NewUser {
            id,
            username: username.display,
            username_key: username.key,
            username_skeleton: username.skeleton,
            email: Some(email),
            email_key: Some(email_key),
            password_hash: Some(hash),
            first_name: r.first_name.filter(|s| !s.trim().is_empty()),
            last_name: r.last_name.filter(|s| !s.trim().is_empty()),
            avatar,
            locale: "en".into(),
            ..NewUser::default()
        };
        let user = match self.store.insert_user(&new).await {
            Ok(u) => u,
            Err(StoreError::Conflict("username")) => return Err(username_taken()),
            Err(StoreError::Conflict("email")) => {
                return Err(Error::field(
                    "email",
                    "EMAIL_ALREADY_REGISTERED",
                    "Email is already registered.",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        info!(action = "USER_CREATED", user = %user.id, ip = %client.ip, "account registered");
        // The account exists whatever happens to the mail: a failed delivery is
        // logged, and the user can ask for the code again.
        if let Err(e) = self.send_verification_code(&user).await {
            warn!(user = %user.id, cause = ?e, "could not send the verification code");
        }
        Ok(user)
    }

    /// Refuse `name` when another account's name looks the same (same confusable
    /// skeleton). `me` is the account renaming itself, whose own name never counts.
    async fn check_not_confusable(&self, name: &Username, me: Option<&User>) -> Result<()> {
        let similar = self
            .store
            .usernames_with_skeleton(&name.skeleton, 5)
            .await?;
        let clash = similar.iter().any(|other| {
            let other_key = Username::parse(other).map(|u| u.key).unwrap_or_default();
            me.is_none_or(|m| m.username_key != other_key)
        });
        if clash {
            return Err(username_taken());
        }
        Ok(())
    }

    /// The user with this id, or Unknown User.
    pub async fn user(&self, id: UserId) -> Result<User> {
        self.store
            .user(id)
            .await?
            .ok_or_else(|| Error::new(ErrorCode::UnknownUser))
    }

    /// Set a new password for the account with this username or email, and end
    /// all its sessions (used by `beep admin reset-password`).
    pub async fn set_password_by_login(&self, login: &str, password: String) -> Result<User> {
        if let Err(e) = passwords::check_new_password(&password) {
            return Err(Error::field("password", e.code, e.message));
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
        self.announce_revoked(user.id, None);
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

    /// Create a bot account and its token (`beep admin create-bot`); returns the
    /// user and the token, which is shown once and stored only as a hash.
    pub async fn create_bot(&self, username: &str) -> Result<(User, String)> {
        let name = Username::parse(username).map_err(|_| {
            Error::field(
                "username",
                "USERNAME_INVALID_CHARACTERS",
                "Username is not valid.",
            )
        })?;
        self.check_not_confusable(&name, None).await?;
        let new = NewUser {
            id: UserId(self.ids.next()),
            username: name.display,
            username_key: name.key,
            username_skeleton: name.skeleton,
            bot: true,
            verified: true,
            locale: "en".into(),
            ..NewUser::default()
        };
        let user = match self.store.insert_user(&new).await {
            Ok(u) => u,
            Err(StoreError::Conflict("username")) => return Err(username_taken()),
            Err(e) => return Err(e.into()),
        };
        let token = self.reset_bot_token(user.id).await?;
        info!(action = "BOT_CREATED", user = %user.id, "bot account created");
        Ok((user, token))
    }

    /// Give a bot a new token (the old one stops working at once); returns it.
    pub async fn reset_bot_token(&self, bot: UserId) -> Result<String> {
        let (token, hash) = tokens::new_bot_token(bot);
        self.store.set_bot_token(bot, &hash).await?;
        info!(action = "BOT_TOKEN_RESET", user = %bot, "bot token issued");
        Ok(token)
    }

    /// Purge expired codes and full rate-limit buckets; run now and then.
    pub async fn maintenance(&self) -> Result<()> {
        let codes = self.store.purge_auth_codes(chrono::Utc::now()).await?;
        let buckets = self.limiter.purge().await?;
        tracing::debug!(
            codes,
            buckets,
            "purged expired codes and rate-limit buckets"
        );
        Ok(())
    }
}

/// The error for a taken (or look-alike) username.
fn username_taken() -> Error {
    Error::field(
        "username",
        "USERNAME_ALREADY_TAKEN",
        "Username is unavailable. Try adding numbers, letters, underscores _ , or periods.",
    )
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
