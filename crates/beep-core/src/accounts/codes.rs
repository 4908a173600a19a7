//! Six-digit codes sent by email: verifying an address (10 minutes), resetting a
//! password (30 minutes) and confirming a new address (10 minutes). A code allows
//! five tries, works once, and only its hash is stored. Mailing codes is limited
//! per account, so nobody can flood an inbox.
//!
//! Every failure of a code (wrong, expired, used, out of tries, no such account)
//! is the same 401, so the answers tell nothing about which accounts exist.

use std::time::Duration;

use beep_store::{AuthCode, NewAuthCode, User, UserPatch};
use beep_types::{ErrorCode, UserId};
use chrono::Utc;
use rand::Rng;
use subtle::ConstantTimeEq;
use tracing::{info, warn};

use super::names::parse_email;
use super::tokens::{Principal, hash_secret};
use super::{Accounts, Client, passwords};
use crate::error::{Error, Result};
use crate::mail::templates;
use crate::ratelimit::Scope;

/// Purpose of a verification code.
pub const VERIFY_EMAIL: &str = "verify_email";
/// Purpose of a password reset code.
pub const RESET_PASSWORD: &str = "reset_password";
/// Purpose of the code confirming a new address.
pub const CHANGE_EMAIL: &str = "change_email";

/// How long a verification code lives.
pub const VERIFY_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a password reset code lives.
pub const RESET_TTL: Duration = Duration::from_secs(30 * 60);
/// How long an email change code lives.
pub const CHANGE_TTL: Duration = Duration::from_secs(10 * 60);
/// Tries a code allows.
pub const MAX_ATTEMPTS: u32 = 5;

/// A random six-digit code, leading zeros kept.
pub fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// The stored hash of a code: bound to the account and purpose, so a hash says
/// nothing outside its row.
pub fn code_hash(user: UserId, purpose: &str, code: &str) -> String {
    hash_secret(&format!("{user}:{purpose}:{}", code.trim()))
}

/// The 401 for any failure of a code.
fn invalid_code() -> Error {
    Error::new(ErrorCode::InvalidCode).and_field(
        "code",
        "INVALID_CODE",
        "The code is wrong, used or expired.",
    )
}

impl Accounts {
    /// Issue a new code of `purpose` for `user` (replacing any earlier one), unless
    /// the account's mail budget is spent.
    async fn issue_code(
        &self,
        user: &User,
        purpose: &str,
        target: Option<String>,
        ttl: Duration,
    ) -> Result<String> {
        let d = self
            .limiter
            .acquire(
                "code-mails",
                &user.id.to_string(),
                self.settings.code_mails,
                Scope::User,
                1,
            )
            .await?;
        if !d.allowed {
            warn!(action = "CODE_MAIL_LIMITED", user = %user.id, purpose, "too many codes mailed");
            return Err(d.into_error());
        }
        let code = new_code();
        let expires_at = Utc::now() + chrono::TimeDelta::from_std(ttl).map_err(Error::internal)?;
        self.store
            .put_auth_code(&NewAuthCode {
                user_id: user.id,
                purpose: purpose.to_owned(),
                code_hash: code_hash(user.id, purpose, &code),
                target,
                expires_at,
            })
            .await?;
        Ok(code)
    }

    /// Check `code` against the live code of `purpose`, counting the try; on
    /// success the code is used up and returned.
    async fn redeem_code(&self, user: UserId, purpose: &str, code: &str) -> Result<AuthCode> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid_code());
        }
        let Some(stored) = self
            .store
            .attempt_auth_code(user, purpose, MAX_ATTEMPTS)
            .await?
        else {
            return Err(invalid_code());
        };
        if stored.expires_at < Utc::now() {
            return Err(invalid_code());
        }
        let presented = code_hash(user, purpose, code);
        if !bool::from(presented.as_bytes().ct_eq(stored.code_hash.as_bytes())) {
            warn!(action = "CODE_REFUSED", user = %user, purpose, attempts = stored.attempts, "wrong code");
            return Err(invalid_code());
        }
        // Deleting by hash makes the code single-use even under concurrent tries.
        if !self
            .store
            .consume_auth_code(user, purpose, &presented)
            .await?
        {
            return Err(invalid_code());
        }
        Ok(stored)
    }

    /// Mail a verification code to `user`, unless the address is verified.
    pub(crate) async fn send_verification_code(&self, user: &User) -> Result<()> {
        let Some(email) = user.email.as_deref().filter(|_| !user.verified) else {
            return Ok(());
        };
        let code = self
            .issue_code(user, VERIFY_EMAIL, None, VERIFY_TTL)
            .await?;
        let minutes = (VERIFY_TTL.as_secs() / 60) as i64;
        self.mailer
            .send(&templates::verify_email(
                email,
                &user.locale,
                &code,
                minutes,
            ))
            .await?;
        info!(action = "VERIFICATION_SENT", user = %user.id, "verification code mailed");
        Ok(())
    }

    /// `POST /auth/verify-email/resend`: mail a new code to an unverified address.
    /// Unknown or verified addresses get the same silent success.
    pub async fn resend_verification(&self, email: &str) -> Result<()> {
        let Some(user) = self.user_by_email(email).await? else {
            return Ok(());
        };
        self.send_verification_code(&user).await
    }

    /// `POST /auth/verify-email`: mark the address verified with its code.
    pub async fn verify_email(&self, email: &str, code: &str) -> Result<User> {
        let user = self.user_by_email(email).await?.ok_or_else(invalid_code)?;
        if user.verified {
            return Err(invalid_code());
        }
        self.redeem_code(user.id, VERIFY_EMAIL, code).await?;
        let user = self
            .store
            .update_user(
                user.id,
                &UserPatch {
                    verified: Some(true),
                    ..Default::default()
                },
            )
            .await?;
        info!(action = "EMAIL_VERIFIED", user = %user.id, "email address verified");
        Ok(user)
    }

    /// `POST /auth/password/forgot`: mail a reset code. Unknown addresses get the
    /// same silent success.
    pub async fn forgot_password(&self, email: &str, client: &Client) -> Result<()> {
        let Some(user) = self.user_by_email(email).await? else {
            info!(action = "PASSWORD_RESET_UNKNOWN", ip = %client.ip, "reset asked for an unknown address");
            return Ok(());
        };
        let Some(address) = user.email.clone() else {
            return Ok(());
        };
        let code = self
            .issue_code(&user, RESET_PASSWORD, None, RESET_TTL)
            .await?;
        let minutes = (RESET_TTL.as_secs() / 60) as i64;
        self.mailer
            .send(&templates::reset_password(
                &address,
                &user.locale,
                &code,
                minutes,
            ))
            .await?;
        info!(action = "PASSWORD_RESET_REQUESTED", user = %user.id, ip = %client.ip, "reset code mailed");
        Ok(())
    }

    /// `POST /auth/password/reset`: set a new password with a reset code; every
    /// session of the account ends. A code that arrived by mail also proves the
    /// address, so the account counts as verified afterwards.
    pub async fn reset_password(
        &self,
        email: &str,
        code: &str,
        password: String,
        client: &Client,
    ) -> Result<()> {
        if let Err(p) = passwords::check_new_password(&password) {
            return Err(Error::field("password", p.code, p.message));
        }
        let user = self.user_by_email(email).await?.ok_or_else(invalid_code)?;
        self.redeem_code(user.id, RESET_PASSWORD, code).await?;
        let hash = self.hasher.hash(password).await?;
        self.store
            .update_user(
                user.id,
                &UserPatch {
                    password_hash: Some(Some(hash)),
                    verified: Some(true),
                    ..Default::default()
                },
            )
            .await?;
        let ended = self.store.revoke_user_sessions(user.id, None).await?;
        self.announce_revoked(user.id, None);
        info!(action = "PASSWORD_RESET", user = %user.id, ip = %client.ip, sessions_ended = ended, "password reset with an emailed code");
        Ok(())
    }

    /// `POST /users/@me/email`: start changing the address. The current password
    /// is required; the code goes to the new address, and the old one stays until
    /// the code comes back.
    pub async fn start_email_change(
        &self,
        me: &Principal,
        new_email: &str,
        password: String,
    ) -> Result<()> {
        let user = self.user(me.user_id).await?;
        self.check_password(&user, password).await?;
        let Some((email, key)) = parse_email(new_email) else {
            return Err(Error::field(
                "email",
                "EMAIL_TYPE_INVALID_EMAIL",
                "Not a well formed email address.",
            ));
        };
        if self.store.user_by_email_key(&key).await?.is_some() {
            return Err(Error::field(
                "email",
                "EMAIL_ALREADY_REGISTERED",
                "Email is already registered.",
            ));
        }
        let code = self
            .issue_code(&user, CHANGE_EMAIL, Some(email.clone()), CHANGE_TTL)
            .await?;
        let minutes = (CHANGE_TTL.as_secs() / 60) as i64;
        self.mailer
            .send(&templates::change_email(
                &email,
                &user.locale,
                &code,
                minutes,
            ))
            .await?;
        info!(action = "EMAIL_CHANGE_REQUESTED", user = %user.id, "code mailed to the new address");
        Ok(())
    }

    /// `POST /users/@me/email/verify`: finish the change with the code mailed to
    /// the new address, which becomes the verified address of the account.
    pub async fn confirm_email_change(&self, me: &Principal, code: &str) -> Result<User> {
        let stored = self.redeem_code(me.user_id, CHANGE_EMAIL, code).await?;
        let Some((email, key)) = stored.target.as_deref().and_then(parse_email) else {
            return Err(invalid_code());
        };
        let patch = UserPatch {
            email: Some((Some(email), Some(key))),
            verified: Some(true),
            ..Default::default()
        };
        let user = match self.store.update_user(me.user_id, &patch).await {
            Ok(u) => u,
            Err(beep_store::StoreError::Conflict(_)) => {
                return Err(Error::field(
                    "email",
                    "EMAIL_ALREADY_REGISTERED",
                    "Email is already registered.",
                ));
            }
            Err(e) => return Err(e.into()),
        };
        info!(action = "EMAIL_CHANGED", user = %user.id, "email address changed");
        Ok(user)
    }

    /// The account with this address, if the address is well formed and known.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        match parse_email(email) {
            Some((_, key)) => Ok(self.store.user_by_email_key(&key).await?),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..1000 {
            let c = new_code();
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn hashes_are_bound_to_user_and_purpose() {
        let a = UserId::from_i64(1);
        let b = UserId::from_i64(2);
        assert_ne!(
            code_hash(a, VERIFY_EMAIL, "123456"),
            code_hash(b, VERIFY_EMAIL, "123456")
        );
        assert_ne!(
            code_hash(a, VERIFY_EMAIL, "123456"),
            code_hash(a, RESET_PASSWORD, "123456")
        );
    }
}
