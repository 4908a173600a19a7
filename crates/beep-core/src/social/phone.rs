//! Phone numbers and contacts: a user adds an E.164 number, proves it with a
//! six-digit code sent by SMS, and chooses whether others may find them by
//! it; `POST /users/@me/contacts` returns the discoverable, verified users
//! among a list of numbers and nothing about the others.
//!
//! SMS goes through an [`SmsSender`]: [`LogSms`] (the default) writes the
//! message to the log; [`MemorySms`] also keeps the last message per number
//! in memory (tests and development read codes from it). A real provider is
//! one more implementation, plugged in with `Social::set_sms_sender`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use beep_store::NewAuthCode;
use beep_types::{ErrorCode, UserId};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::Social;
use crate::accounts::codes::{MAX_ATTEMPTS, code_hash, new_code};
use crate::error::{Error, Result};
use crate::guilds::convert;
use crate::ratelimit::{Quota, Scope};

/// The purpose of phone verification codes.
pub const VERIFY_PHONE: &str = "verify_phone";
/// How long a phone code lives.
const PHONE_CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// Codes sent per user: 3 per 10 minutes.
fn sms_quota() -> Quota {
    Quota::per(3, Duration::from_secs(10 * 60))
}
/// Contacts lookups per user: 10 per hour (each up to the lookup limit).
fn contacts_quota() -> Quota {
    Quota::per(10, Duration::from_secs(3600))
}

/// Sends text messages.
#[async_trait]
pub trait SmsSender: Send + Sync {
    /// Send `text` to `to` (E.164).
    async fn send(&self, to: &str, text: &str) -> Result<()>;
}

/// Writes each message to the log instead of sending it (the default).
#[derive(Debug, Default)]
pub struct LogSms;

#[async_trait]
impl SmsSender for LogSms {
    async fn send(&self, to: &str, text: &str) -> Result<()> {
        tracing::info!(to, text, "SMS not sent (log provider)");
        Ok(())
    }
}

/// Logs like [`LogSms`] and keeps the last message sent to each number
/// (at most 10,000 numbers), for tests and development.
#[derive(Debug, Default)]
pub struct MemorySms {
    last: Mutex<HashMap<String, String>>,
}

impl MemorySms {
    /// The last message sent to `to`.
    pub fn last_to(&self, to: &str) -> Option<String> {
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(to)
            .cloned()
    }
}

#[async_trait]
impl SmsSender for MemorySms {
    async fn send(&self, to: &str, text: &str) -> Result<()> {
        LogSms.send(to, text).await?;
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.len() >= 10_000 {
            last.clear();
        }
        last.insert(to.to_owned(), text.to_owned());
        Ok(())
    }
}

/// `PATCH /users/@me/phone`: `phone` starts verifying a (new) number;
/// `discoverable` sets whether the verified number finds you.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PhonePatch {
    pub phone: Option<String>,
    pub discoverable: Option<bool>,
}

/// `POST /users/@me/phone/verify`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct PhoneVerify {
    pub code: String,
}

/// `POST /users/@me/contacts`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ContactsLookup {
    pub phone_numbers: Vec<String>,
}

/// Whether `raw` is an E.164 number: `+`, then 8 to 15 digits, the first not 0.
pub fn valid_e164(raw: &str) -> bool {
    let Some(digits) = raw.strip_prefix('+') else {
        return false;
    };
    (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// The 401 for any failure of a code.
fn invalid_code() -> Error {
    Error::new(ErrorCode::InvalidCode).and_field(
        "code",
        "INVALID_CODE",
        "The code is wrong, used or expired.",
    )
}

impl Social {
    /// `GET /users/@me/phone`: `{phone, discoverable}` (`phone` null when none).
    pub async fn phone(&self, me: UserId) -> Result<Value> {
        Ok(match self.store.phone(me).await? {
            Some(p) => json!({"phone": p.phone, "discoverable": p.discoverable}),
            None => json!({"phone": null, "discoverable": false}),
        })
    }

    /// `PATCH /users/@me/phone`.
    pub async fn patch_phone(&self, me: UserId, form: PhonePatch) -> Result<Value> {
        if form.phone.is_none() && form.discoverable.is_none() {
            return Err(Error::field(
                "phone",
                "BASE_TYPE_REQUIRED",
                "Give phone or discoverable.",
            ));
        }
        if let Some(phone) = &form.phone {
            let phone = phone.trim();
            if !valid_e164(phone) {
                return Err(Error::field(
                    "phone",
                    "PHONE_NUMBER_INVALID",
                    "Must be an E.164 number, like +14155550123.",
                ));
            }
            self.send_phone_code(me, phone).await?;
        }
        if let Some(d) = form.discoverable
            && !self.store.set_phone_discoverable(me, d).await?
        {
            return Err(Error::field(
                "discoverable",
                "PHONE_NOT_VERIFIED",
                "Add and verify a phone number first.",
            ));
        }
        self.phone(me).await
    }

    /// Issue a code for `phone` and text it.
    async fn send_phone_code(&self, me: UserId, phone: &str) -> Result<()> {
        let d = self
            .limiter
            .acquire("sms-codes", &me.to_string(), sms_quota(), Scope::User, 1)
            .await?;
        if !d.allowed {
            return Err(d.into_error());
        }
        let code = new_code();
        let expires_at =
            Utc::now() + chrono::TimeDelta::from_std(PHONE_CODE_TTL).map_err(Error::internal)?;
        self.store
            .put_auth_code(&NewAuthCode {
                user_id: me,
                purpose: VERIFY_PHONE.into(),
                code_hash: code_hash(me, VERIFY_PHONE, &code),
                target: Some(phone.to_owned()),
                expires_at,
            })
            .await?;
        self.sms()
            .send(phone, &format!("Your Beep verification code is {code}"))
            .await
    }

    /// `POST /users/@me/phone/verify {code}`: the number the code was sent to
    /// becomes the user's (not discoverable until they say so). `409` when
    /// another account verified it meanwhile.
    pub async fn verify_phone(&self, me: UserId, form: PhoneVerify) -> Result<Value> {
        let code = form.code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid_code());
        }
        let Some(stored) = self
            .store
            .attempt_auth_code(me, VERIFY_PHONE, MAX_ATTEMPTS)
            .await?
        else {
            return Err(invalid_code());
        };
        if stored.expires_at < Utc::now() {
            return Err(invalid_code());
        }
        let presented = code_hash(me, VERIFY_PHONE, code);
        if !bool::from(presented.as_bytes().ct_eq(stored.code_hash.as_bytes())) {
            tracing::warn!(action = "CODE_REFUSED", user = %me, purpose = VERIFY_PHONE, "wrong code");
            return Err(invalid_code());
        }
        if !self
            .store
            .consume_auth_code(me, VERIFY_PHONE, &presented)
            .await?
        {
            return Err(invalid_code());
        }
        let phone = stored.target.ok_or_else(invalid_code)?;
        if !self.store.set_phone(me, &phone).await? {
            return Err(Error::new(ErrorCode::AlreadyExists).and_field(
                "phone",
                "PHONE_ALREADY_REGISTERED",
                "This number is already in use by another account.",
            ));
        }
        tracing::info!(action = "PHONE_VERIFIED", user = %me, "phone number verified");
        self.phone(me).await
    }

    /// `DELETE /users/@me/phone`.
    pub async fn remove_phone(&self, me: UserId) -> Result<()> {
        self.store.remove_phone(me).await?;
        Ok(())
    }

    /// `POST /users/@me/contacts`: `[{phone_number, user}]` for the
    /// discoverable users among the numbers (never the caller).
    pub async fn contacts(&self, me: UserId, form: ContactsLookup) -> Result<Vec<Value>> {
        let max = self.limits.max_contacts_lookup;
        if form.phone_numbers.is_empty() || form.phone_numbers.len() > max {
            return Err(Error::field(
                "phone_numbers",
                "BASE_TYPE_BAD_LENGTH",
                format!("Must be between 1 and {max} in length."),
            ));
        }
        let mut p = crate::guilds::forms::Problems::new();
        let mut numbers: Vec<String> = Vec::with_capacity(form.phone_numbers.len());
        for (i, n) in form.phone_numbers.iter().enumerate() {
            let n = n.trim();
            if valid_e164(n) {
                if !numbers.iter().any(|x| x == n) {
                    numbers.push(n.to_owned());
                }
            } else {
                p.add(
                    format!("phone_numbers.{i}"),
                    "PHONE_NUMBER_INVALID",
                    "Must be an E.164 number, like +14155550123.",
                );
            }
        }
        p.finish()?;
        let d = self
            .limiter
            .acquire(
                "contacts",
                &me.to_string(),
                contacts_quota(),
                Scope::User,
                1,
            )
            .await?;
        if !d.allowed {
            return Err(d.into_error());
        }
        Ok(self
            .store
            .discoverable_by_phone(&numbers)
            .await?
            .into_iter()
            .filter(|(_, u)| u.id != me)
            .map(|(phone, u)| json!({"phone_number": phone, "user": convert::user(&u)}))
            .collect())
    }
}
