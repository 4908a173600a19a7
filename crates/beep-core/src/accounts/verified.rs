//! Access tokens whose signature was already checked. Verifying an ed25519
//! signature is the largest CPU cost of an authenticated request (about a sixth
//! of a message send, profiled); a token is used for many requests, so its
//! signature is checked once and the claims kept here until the token expires.
//!
//! Only the signature and claims check is skipped: the session is still read on
//! every request, so a revoked session is refused at once, as before. The key is
//! the whole token text, so a different (forged) token never hits an entry.

use std::collections::HashMap;
use std::sync::Mutex;

use beep_types::{SessionId, UserId};

/// Entries kept at most; past it, expired entries go, then everything if needed.
const CAPACITY: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Entry {
    user: UserId,
    session: SessionId,
    /// Expiry of the token, Unix seconds.
    exp: i64,
}

/// Checked access tokens, with their user, session and expiry.
#[derive(Debug, Default)]
pub(crate) struct VerifiedTokens {
    map: Mutex<HashMap<Box<str>, Entry>>,
}

impl VerifiedTokens {
    /// The user and session of `token` if it was verified and has not expired at `now`.
    pub(crate) fn get(&self, token: &str, now: i64) -> Option<(UserId, SessionId)> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(token)
            .filter(|e| e.exp > now)
            .map(|e| (e.user, e.session))
    }

    /// Remember a token whose signature and claims were just verified.
    pub(crate) fn put(&self, token: &str, user: UserId, session: SessionId, exp: i64, now: i64) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= CAPACITY {
            map.retain(|_, e| e.exp > now);
            if map.len() >= CAPACITY {
                map.clear();
            }
        }
        map.insert(token.into(), Entry { user, session, exp });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_until_expiry_and_only_for_the_same_text() {
        let v = VerifiedTokens::default();
        let (u, s) = (UserId::from_i64(1), SessionId::from_i64(2));
        v.put("tok", u, s, 100, 50);
        assert_eq!(v.get("tok", 99), Some((u, s)));
        assert_eq!(v.get("tok", 100), None, "expired");
        assert_eq!(v.get("tok2", 50), None);
    }

    #[test]
    fn stays_bounded() {
        let v = VerifiedTokens::default();
        for i in 0..(CAPACITY + 10) {
            v.put(
                &format!("t{i}"),
                UserId::from_i64(1),
                SessionId::from_i64(1),
                10,
                0,
            );
        }
        let len = v.map.lock().map(|m| m.len()).unwrap_or(0);
        assert!(len <= CAPACITY);
    }
}
