//! Two-factor authentication with TOTP (RFC 6238: SHA-1, 6 digits, 30-second
//! steps, one step of drift either way) and ten single-use backup codes.
//!
//! As in Discord, the client makes the secret and shows it to the user's
//! authenticator app; enabling proves the app has it by sending a code. A time
//! step, once accepted, is never accepted again for that account
//! ([`advance_totp_step`](beep_store::UserStore::advance_totp_step) is an atomic
//! compare-and-set), so a code seen over a shoulder or replayed is refused.
//! Enabling or disabling ends the account's other sessions.

use beep_store::{User, UserPatch};
use beep_types::{ErrorCode, UserId};
use rand::Rng;
use serde::Serialize;
use totp_rs::{Builder, Secret};
use tracing::info;

use super::tokens::{Principal, hash_secret};
use super::{Accounts, password::Verified};
use crate::error::{Error, Result};

/// How many backup codes an account gets.
pub const BACKUP_CODE_COUNT: usize = 10;

/// A backup code as the owner sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BackupCodeView {
    pub user_id: UserId,
    /// The code itself, only when it was just made; stored codes are hashes and
    /// cannot be shown again.
    pub code: Option<String>,
    pub consumed: bool,
}

/// A TOTP for a base32 secret; `None` when the secret is not base32 or is shorter
/// than 80 bits (the 16 characters Discord's clients generate).
fn totp_for(secret: &str) -> Option<totp_rs::Totp> {
    let cleaned: String = secret
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_uppercase();
    let secret = Secret::try_from_base32(cleaned.trim_end_matches('=')).ok()?;
    if secret.as_bytes().len() < 10 || secret.as_bytes().len() > 64 {
        return None;
    }
    Some(Builder::new().with_secret(secret).build_noncompliant())
}

/// The time step a 6-digit code matches at `unix_time` (±1 step), if any.
pub fn matching_step(secret: &str, code: &str, unix_time: u64) -> Option<u64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp_for(secret)?.check(&code, unix_time)
}

/// A random backup code: 8 characters from a lower-case alphabet without
/// look-alikes, as `xxxx-xxxx`.
fn new_backup_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let chars: String = (0..8)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// The stored hash of a backup code, bound to its owner; dashes, spaces and
/// case do not matter.
fn backup_hash(user: UserId, code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    hash_secret(&format!("{user}:backup:{normal}"))
}

fn now_unix() -> u64 {
    chrono::Utc::now().timestamp().max(0) as u64
}

impl Accounts {
    /// Check the current password of `user`; a wrong one is a field error.
    pub(crate) async fn check_password(&self, user: &User, password: String) -> Result<()> {
        let wrong = || {
            Error::field(
                "password",
                "PASSWORD_DOES_NOT_MATCH",
                "Password does not match.",
            )
        };
        let Some(hash) = user.password_hash.clone() else {
            return Err(wrong());
        };
        match self.hasher.verify(password, hash).await? {
            Verified::No => Err(wrong()),
            Verified::Yes => Ok(()),
            Verified::YesRehash(new_hash) => {
                let patch = UserPatch {
                    password_hash: Some(Some(new_hash)),
                    ..Default::default()
                };
                self.store.update_user(user.id, &patch).await?;
                Ok(())
            }
        }
    }

    /// Accept a TOTP code for `secret` at most once per time step.
    async fn accept_totp(&self, user: UserId, secret: &str, code: &str) -> Result<bool> {
        let Some(step) = matching_step(secret, code, now_unix()) else {
            return Ok(false);
        };
        let step = i64::try_from(step).map_err(Error::internal)?;
        Ok(self.store.advance_totp_step(user, step).await?)
    }

    /// Whether `code` is a valid second factor for `user`: a fresh TOTP code or an
    /// unused backup code (which is used up).
    pub(crate) async fn check_second_factor(&self, user: &User, code: &str) -> Result<bool> {
        let Some(secret) = user.totp_secret.as_deref() else {
            return Ok(false);
        };
        let digits = code.trim().replace(' ', "");
        if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            return self.accept_totp(user.id, secret, &digits).await;
        }
        let used = self
            .store
            .use_backup_code(user.id, &backup_hash(user.id, code))
            .await?;
        if used {
            info!(action = "MFA_BACKUP_CODE_USED", user = %user.id, "backup code used");
        }
        Ok(used)
    }

    /// Make and store a fresh set of backup codes; returns them in clear, once.
    async fn new_backup_codes(&self, user: UserId) -> Result<Vec<BackupCodeView>> {
        let codes: Vec<String> = (0..BACKUP_CODE_COUNT).map(|_| new_backup_code()).collect();
        let hashes: Vec<String> = codes.iter().map(|c| backup_hash(user, c)).collect();
        self.store.replace_backup_codes(user, &hashes).await?;
        Ok(codes
            .into_iter()
            .map(|code| BackupCodeView {
                user_id: user,
                code: Some(code),
                consumed: false,
            })
            .collect())
    }

    /// `POST /users/@me/mfa/totp/enable`: turn 2FA on with the password, the
    /// secret the client generated and a current code from the app. Returns a
    /// fresh access token for this session and the backup codes.
    pub async fn enable_totp(
        &self,
        me: &Principal,
        password: String,
        secret: &str,
        code: &str,
    ) -> Result<(String, Vec<BackupCodeView>)> {
        let user = self.user(me.user_id).await?;
        if user.mfa_enabled {
            return Err(Error::new(ErrorCode::MfaStateConflict));
        }
        self.check_password(&user, password).await?;
        if totp_for(secret).is_none() {
            return Err(Error::field(
                "secret",
                "TOTP_SECRET_INVALID",
                "The secret must be base32, at least 16 characters.",
            ));
        }
        let secret = secret.replace([' ', '-'], "").to_uppercase();
        if !self.accept_totp(user.id, &secret, code).await? {
            return Err(Error::new(ErrorCode::InvalidMfaCode));
        }
        let codes = self.new_backup_codes(user.id).await?;
        let patch = UserPatch {
            mfa_enabled: Some(true),
            totp_secret: Some(Some(secret)),
            ..Default::default()
        };
        self.store.update_user(user.id, &patch).await?;
        info!(action = "MFA_ENABLED", user = %user.id, "two-factor authentication enabled");
        self.end_other_sessions(me, "mfa enabled").await?;
        Ok((self.access_token_for(me).await?, codes))
    }

    /// `POST /users/@me/mfa/totp/disable`: turn 2FA off with a TOTP or backup code.
    /// Returns a fresh access token for this session.
    pub async fn disable_totp(&self, me: &Principal, code: &str) -> Result<String> {
        let user = self.user(me.user_id).await?;
        if !user.mfa_enabled {
            return Err(Error::new(ErrorCode::MfaStateConflict));
        }
        if !self.check_second_factor(&user, code).await? {
            return Err(Error::new(ErrorCode::InvalidMfaCode));
        }
        let patch = UserPatch {
            mfa_enabled: Some(false),
            totp_secret: Some(None),
            ..Default::default()
        };
        self.store.update_user(user.id, &patch).await?;
        self.store.replace_backup_codes(user.id, &[]).await?;
        info!(action = "MFA_DISABLED", user = %user.id, "two-factor authentication disabled");
        self.end_other_sessions(me, "mfa disabled").await?;
        self.access_token_for(me).await
    }

    /// `POST /users/@me/mfa/codes`: with the password, list the backup codes
    /// (used or not; their text only when `regenerate` makes new ones).
    pub async fn backup_codes(
        &self,
        me: &Principal,
        password: String,
        regenerate: bool,
    ) -> Result<Vec<BackupCodeView>> {
        let user = self.user(me.user_id).await?;
        if !user.mfa_enabled {
            return Err(Error::new(ErrorCode::MfaRequired));
        }
        self.check_password(&user, password).await?;
        if regenerate {
            info!(action = "MFA_BACKUP_CODES_REGENERATED", user = %user.id, "backup codes replaced");
            return self.new_backup_codes(user.id).await;
        }
        Ok(self
            .store
            .backup_codes(user.id)
            .await?
            .into_iter()
            .map(|c| BackupCodeView {
                user_id: c.user_id,
                code: None,
                consumed: c.used,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DP";

    fn code_at(t: u64) -> String {
        totp_for(SECRET).expect("secret").generate(t).to_string()
    }

    #[test]
    fn codes_match_their_step_with_one_step_of_drift() {
        let t = 1_700_000_000;
        assert_eq!(matching_step(SECRET, &code_at(t), t), Some(t / 30));
        assert_eq!(matching_step(SECRET, &code_at(t - 30), t), Some(t / 30 - 1));
        assert_eq!(matching_step(SECRET, &code_at(t + 30), t), Some(t / 30 + 1));
        assert_eq!(matching_step(SECRET, &code_at(t - 90), t), None);
        assert_eq!(matching_step(SECRET, "12345", t), None);
        assert_eq!(matching_step(SECRET, "abcdef", t), None);
    }

    #[test]
    fn rfc_6238_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s, secret "12345678901234567890".
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(matching_step(secret, "287082", 59), Some(1));
    }

    #[test]
    fn short_or_bad_secrets_are_refused() {
        assert!(totp_for("JBSWY3DP").is_none(), "40 bits is too short");
        assert!(totp_for("not base32!").is_none());
        assert!(
            totp_for("JBSW Y3DP EHPK 3PXP").is_some(),
            "spaces are ignored"
        );
    }

    #[test]
    fn backup_codes_ignore_dashes_and_case() {
        let u = UserId::from_i64(9);
        let c = new_backup_code();
        assert_eq!(c.len(), 9);
        assert_eq!(
            backup_hash(u, &c),
            backup_hash(u, &c.replace('-', "").to_uppercase())
        );
        assert_ne!(backup_hash(u, &c), backup_hash(UserId::from_i64(10), &c));
    }
}
