//! Tokens: short-lived access tokens (JWT signed by the [`KeyRing`]), login tickets
//! of the two-factor step (JWT with another audience), opaque refresh tokens and
//! bot tokens (random secrets stored as hashes), and the principal a valid
//! `Authorization` header stands for.
//!
//! [`KeyRing`]: super::keys::KeyRing

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use beep_types::{SessionId, UserId};
use jsonwebtoken::{Algorithm, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Who a request acts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    /// The login session of a user token; `None` for bot tokens.
    pub session_id: Option<SessionId>,
    pub bot: bool,
}

/// The audience of access tokens.
pub(crate) const ACCESS_AUDIENCE: &str = "beep:access";
/// The audience of two-factor login tickets, so a ticket is never an access token.
pub(crate) const TICKET_AUDIENCE: &str = "beep:mfa-ticket";

/// Claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The instance's public URL.
    pub iss: String,
    pub aud: String,
    /// The user id, as a decimal string.
    pub sub: String,
    /// The session id, as a decimal string.
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    /// A random token id.
    pub jti: String,
}

/// Claims of a two-factor login ticket.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TicketClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// The checks a token of `audience` must pass: EdDSA only (so `alg: none` and
/// HMAC tricks fail), not expired (no leeway: one cluster signs and checks), the
/// right audience and issuer.
pub(crate) fn validation(audience: &str, issuer: &str) -> Validation {
    let mut v = Validation::new(Algorithm::EdDSA);
    v.leeway = 0;
    v.validate_exp = true;
    v.set_audience(&[audience]);
    v.set_issuer(&[issuer]);
    v.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
    v
}

/// `n` random bytes as base64url.
pub(crate) fn random_secret(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The hex SHA-256 of a secret, which is what the store keeps. Tokens carry 256
/// bits of randomness, so a fast hash is enough: there is nothing to brute-force.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A new refresh token of a session, `<session id>.<secret>`, and its hash.
pub(crate) fn new_refresh_token(session: SessionId) -> (String, String) {
    let token = format!("{session}.{}", random_secret(32));
    let hash = hash_secret(&token);
    (token, hash)
}

/// The session a refresh token names, if it has the right shape.
pub(crate) fn refresh_session(token: &str) -> Option<SessionId> {
    let (sid, secret) = token.split_once('.')?;
    if secret.len() < 32 || secret.len() > 64 {
        return None;
    }
    sid.parse().ok()
}

/// A new bot token, `<base64url of the user id>.<secret>` as Discord's start with
/// the bot's id, and its hash.
pub fn new_bot_token(user: UserId) -> (String, String) {
    let token = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(user.to_string()),
        random_secret(32)
    );
    let hash = hash_secret(&token);
    (token, hash)
}

/// The user id a bot token claims to be for, read without any lookup (for
/// rate-limit keys); it proves nothing until the token is checked.
pub fn bot_token_user(token: &str) -> Option<UserId> {
    let (id, _) = token.split_once('.')?;
    let raw = URL_SAFE_NO_PAD.decode(id).ok()?;
    std::str::from_utf8(&raw).ok()?.parse().ok()
}

/// How an `Authorization` header presents its credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credential<'a> {
    /// `Bearer <jwt>` or a bare `<jwt>`.
    Access(&'a str),
    /// `Bot <token>`.
    Bot(&'a str),
}

/// Split an `Authorization` header value.
pub(crate) fn parse_authorization(header: &str) -> Option<Credential<'_>> {
    let header = header.trim();
    if header.is_empty() || header.len() > 4096 {
        return None;
    }
    let (scheme, rest) = match header.split_once(' ') {
        Some((s, r)) => (s, r.trim()),
        // A scheme name with nothing after it is no credential.
        None if header.eq_ignore_ascii_case("bearer") || header.eq_ignore_ascii_case("bot") => {
            return None;
        }
        None => return Some(Credential::Access(header)),
    };
    if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        Some(Credential::Access(rest))
    } else if scheme.eq_ignore_ascii_case("bot") && !rest.is_empty() {
        Some(Credential::Bot(rest))
    } else {
        None
    }
}

/// The user id an `Authorization` header claims, read without verifying anything
/// but its shape; the rate limiter uses it to key buckets per user. Verification
/// happens after, in `authenticate`.
pub fn claimed_user(header: &str) -> Option<UserId> {
    match parse_authorization(header)? {
        Credential::Bot(t) => bot_token_user(t),
        Credential::Access(t) => {
            let payload = t.split('.').nth(1)?;
            let raw = URL_SAFE_NO_PAD.decode(payload).ok()?;
            let v: serde_json::Value = serde_json::from_slice(&raw).ok()?;
            v.get("sub")?.as_str()?.parse().ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_schemes() {
        assert_eq!(
            parse_authorization("Bearer abc"),
            Some(Credential::Access("abc"))
        );
        assert_eq!(
            parse_authorization("bearer  abc "),
            Some(Credential::Access("abc"))
        );
        assert_eq!(parse_authorization("abc"), Some(Credential::Access("abc")));
        assert_eq!(parse_authorization("Bot xyz"), Some(Credential::Bot("xyz")));
        assert_eq!(parse_authorization("Basic xyz"), None);
        assert_eq!(parse_authorization("Bearer "), None);
        assert_eq!(parse_authorization(""), None);
    }

    #[test]
    fn refresh_tokens_name_their_session() {
        let sid = SessionId::from_i64(42);
        let (token, hash) = new_refresh_token(sid);
        assert_eq!(refresh_session(&token), Some(sid));
        assert_eq!(hash, hash_secret(&token));
        assert_eq!(refresh_session("42.short"), None);
        assert_eq!(refresh_session("nope"), None);
    }

    #[test]
    fn bot_tokens_start_with_the_user() {
        let user = UserId::from_i64(1234567890123);
        let (token, _) = new_bot_token(user);
        assert_eq!(bot_token_user(&token), Some(user));
        assert_eq!(claimed_user(&format!("Bot {token}")), Some(user));
    }
}
