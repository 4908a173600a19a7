//! Logging in and staying logged in: password login (with its failed-login
//! limits), the two-factor ticket step, sessions with rotating refresh tokens,
//! logout, and `authenticate`, which every authenticated request goes through.
//!
//! A session is a row in the store. Every request with an access token reads it,
//! so revoking a session (logout, password change, reused refresh token) stops its
//! tokens at once on every node; there is no cache to wait out.

use beep_store::{NewSession, Session, User};
use beep_types::{ErrorCode, SessionId, UserId};
use chrono::Utc;
use serde::Serialize;
use tracing::{info, warn};

use super::password::Verified;
use super::tokens::{
    self, ACCESS_AUDIENCE, AccessClaims, Credential, Principal, TICKET_AUDIENCE, TicketClaims,
};
use super::{Accounts, Client};
use crate::error::{Error, Result};
use crate::events::{Audience, Event};
use crate::ratelimit::Scope;

/// What a successful login or refresh hands the client.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TokenGrant {
    /// The access token, for `Authorization: <token>` or `Bearer <token>`.
    pub token: String,
    pub user_id: UserId,
    /// Exchange it at `POST /auth/refresh` for new tokens; it works once.
    pub refresh_token: String,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
    pub session_id: SessionId,
}

/// The result of the password step.
#[derive(Debug, Clone)]
pub enum LoginOutcome {
    /// Logged in.
    Tokens(TokenGrant),
    /// Two-factor authentication is on: present a code with this ticket.
    Mfa { ticket: String },
}

/// How long a session may go unseen before `last_seen_at` is written again.
const TOUCH_EVERY: chrono::TimeDelta = chrono::TimeDelta::minutes(5);

impl Accounts {
    /// Check a login (email or username) and password. Failed attempts are counted
    /// per account and per client address; once either is used up, every attempt
    /// is refused with a 429 until it refills, right password or not.
    pub async fn login(
        &self,
        login: &str,
        password: String,
        client: &Client,
    ) -> Result<LoginOutcome> {
        let user = self.find_by_login(login).await?;
        let account_key = match &user {
            Some(u) => u.id.to_string(),
            None => format!("unknown:{}", login.trim().to_lowercase()),
        };
        self.check_login_budget(&account_key, client).await?;

        let hash = match user.as_ref().and_then(|u| u.password_hash.clone()) {
            Some(h) => h,
            None => self.dummy_hash().await?,
        };
        let verified = self.hasher.verify(password, hash).await?;
        let user = match (user, verified) {
            (Some(u), Verified::Yes) => u,
            (Some(u), Verified::YesRehash(new_hash)) => {
                // The password was hashed with older parameters: store the new hash.
                let patch = beep_store::UserPatch {
                    password_hash: Some(Some(new_hash)),
                    ..Default::default()
                };
                let u = self.store.update_user(u.id, &patch).await?;
                info!(action = "PASSWORD_REHASHED", user = %u.id, "password hash upgraded");
                u
            }
            (user, _) => {
                let user_field = user.as_ref().map(|u| u.id.to_string()).unwrap_or_default();
                warn!(action = "LOGIN_FAILED", user = %user_field, ip = %client.ip, "wrong login or password");
                self.count_login_failure(&account_key, client).await?;
                return Err(invalid_login());
            }
        };
        if user.bot {
            return Err(invalid_login());
        }
        if !user.verified && self.email_verification_required() {
            warn!(action = "LOGIN_UNVERIFIED", user = %user.id, "login refused: email not verified");
            return Err(Error::new(ErrorCode::EmailNotVerified));
        }
        if user.mfa_enabled {
            let ticket = self.ticket(&user)?;
            info!(action = "LOGIN_MFA_REQUIRED", user = %user.id, "password accepted, second factor required");
            return Ok(LoginOutcome::Mfa { ticket });
        }
        let grant = self.start_session(&user, client).await?;
        info!(action = "LOGIN", user = %user.id, session = %grant.session_id, ip = %client.ip, "logged in");
        Ok(LoginOutcome::Tokens(grant))
    }

    /// The second step of a login with 2FA: a valid ticket and a TOTP or backup
    /// code. Wrong codes count as failed logins.
    pub async fn login_mfa(&self, ticket: &str, code: &str, client: &Client) -> Result<TokenGrant> {
        let validation = tokens::validation(TICKET_AUDIENCE, &self.settings.issuer);
        let claims: TicketClaims = self
            .keys
            .verify(ticket, &validation)
            .ok_or_else(|| Error::new(ErrorCode::InvalidMfaTicket))?;
        let user_id: UserId = claims
            .sub
            .parse()
            .map_err(|_| Error::new(ErrorCode::InvalidMfaTicket))?;
        let account_key = user_id.to_string();
        self.check_login_budget(&account_key, client).await?;
        let user = self
            .store
            .user(user_id)
            .await?
            .filter(|u| u.mfa_enabled)
            .ok_or_else(|| Error::new(ErrorCode::InvalidMfaTicket))?;
        if !self.check_second_factor(&user, code).await? {
            warn!(action = "LOGIN_FAILED", user = %user.id, ip = %client.ip, reason = "mfa", "wrong or replayed two-factor code");
            self.count_login_failure(&account_key, client).await?;
            return Err(Error::new(ErrorCode::InvalidMfaCode));
        }
        let grant = self.start_session(&user, client).await?;
        info!(action = "LOGIN", user = %user.id, session = %grant.session_id, ip = %client.ip, mfa = true, "logged in");
        Ok(grant)
    }

    /// Refuse with 429 when the account or the address has no failed login left.
    async fn check_login_budget(&self, account_key: &str, client: &Client) -> Result<()> {
        let quota = self.settings.login_failures;
        let account = self
            .limiter
            .peek("login-failures-account", account_key, quota, Scope::Shared)
            .await?;
        if !account.allowed {
            warn!(action = "LOGIN_LOCKED", account = %account_key, ip = %client.ip, "too many failed logins for this account");
            return Err(account.into_error());
        }
        if !client.ip.is_empty() {
            let ip = self
                .limiter
                .peek("login-failures-ip", &client.ip, quota, Scope::Ip)
                .await?;
            if !ip.allowed {
                warn!(action = "LOGIN_LOCKED", ip = %client.ip, "too many failed logins from this address");
                return Err(ip.into_error());
            }
        }
        Ok(())
    }

    /// Count one failed login against the account and the address.
    async fn count_login_failure(&self, account_key: &str, client: &Client) -> Result<()> {
        let quota = self.settings.login_failures;
        self.limiter
            .acquire(
                "login-failures-account",
                account_key,
                quota,
                Scope::Shared,
                1,
            )
            .await?;
        if !client.ip.is_empty() {
            self.limiter
                .acquire("login-failures-ip", &client.ip, quota, Scope::Ip, 1)
                .await?;
        }
        Ok(())
    }

    /// A hash of a random password with the current parameters, made once.
    async fn dummy_hash(&self) -> Result<String> {
        self.dummy_hash
            .get_or_try_init(|| self.hasher.hash(tokens::random_secret(16)))
            .await
            .cloned()
    }

    /// A login ticket for the 2FA step.
    fn ticket(&self, user: &User) -> Result<String> {
        let now = Utc::now().timestamp();
        self.keys.sign(&TicketClaims {
            iss: self.settings.issuer.clone(),
            aud: TICKET_AUDIENCE.into(),
            sub: user.id.to_string(),
            iat: now,
            exp: now + self.settings.ticket_ttl.as_secs() as i64,
            jti: tokens::random_secret(12),
        })
    }

    /// Open a session for `user` and issue its first tokens.
    pub(crate) async fn start_session(&self, user: &User, client: &Client) -> Result<TokenGrant> {
        let id = SessionId(self.ids.next());
        let (refresh_token, refresh_hash) = tokens::new_refresh_token(id);
        let device = if client.device.trim().is_empty() {
            "Unknown device".to_owned()
        } else {
            client.device.chars().take(128).collect()
        };
        let session = self
            .store
            .insert_session(&NewSession {
                id,
                user_id: user.id,
                device,
                ip: client.ip.clone(),
                refresh_hash,
            })
            .await?;
        self.grant(&session, refresh_token)
    }

    /// Access token for `session`, with the refresh token just issued.
    fn grant(&self, session: &Session, refresh_token: String) -> Result<TokenGrant> {
        Ok(TokenGrant {
            token: self.sign_access(session)?,
            user_id: session.user_id,
            refresh_token,
            expires_in: self.settings.access_ttl.as_secs(),
            session_id: session.id,
        })
    }

    /// A new access token for `session`.
    fn sign_access(&self, session: &Session) -> Result<String> {
        let now = Utc::now().timestamp();
        self.keys.sign(&AccessClaims {
            iss: self.settings.issuer.clone(),
            aud: ACCESS_AUDIENCE.into(),
            sub: session.user_id.to_string(),
            sid: session.id.to_string(),
            iat: now,
            exp: now + self.settings.access_ttl.as_secs() as i64,
            jti: tokens::random_secret(12),
        })
    }

    /// A new access token for the caller's own session (after a change that ended
    /// the other sessions, the client gets a fresh one, as Discord does).
    pub(crate) async fn access_token_for(&self, me: &Principal) -> Result<String> {
        let unauthorized = || Error::new(ErrorCode::Unauthorized);
        let sid = me.session_id.ok_or_else(unauthorized)?;
        let session = self
            .store
            .session(sid)
            .await?
            .filter(|s| !s.revoked)
            .ok_or_else(unauthorized)?;
        self.sign_access(&session)
    }

    /// Exchange a refresh token for new tokens. Each refresh token works once:
    /// presenting the one just replaced means it was copied, and ends the session.
    pub async fn refresh(&self, refresh_token: &str, client: &Client) -> Result<TokenGrant> {
        let unauthorized = || Error::new(ErrorCode::Unauthorized);
        let sid = tokens::refresh_session(refresh_token).ok_or_else(unauthorized)?;
        let session = self.store.session(sid).await?.ok_or_else(unauthorized)?;
        if session.revoked {
            return Err(unauthorized());
        }
        let presented = tokens::hash_secret(refresh_token);
        let idle = Utc::now() - session.last_seen_at;
        if idle.to_std().unwrap_or_default() > self.settings.refresh_ttl {
            self.store.revoke_session(sid).await?;
            self.announce_revoked(session.user_id, Some(sid));
            info!(action = "SESSION_EXPIRED", user = %session.user_id, session = %sid, "session idle too long");
            return Err(unauthorized());
        }
        let (new_token, new_hash) = tokens::new_refresh_token(sid);
        if !self
            .store
            .rotate_refresh(sid, &presented, &new_hash)
            .await?
        {
            // Read again: a concurrent refresh may have rotated it just now, and
            // that is reuse too.
            let now = self.store.session(sid).await?;
            let reused = [Some(&session), now.as_ref()]
                .into_iter()
                .flatten()
                .any(|s| s.previous_refresh_hash.as_deref() == Some(presented.as_str()));
            if reused {
                self.store.revoke_session(sid).await?;
                self.announce_revoked(session.user_id, Some(sid));
                warn!(action = "SESSION_REVOKED", user = %session.user_id, session = %sid, reason = "refresh token reused", "a used refresh token came back: session ended");
            }
            return Err(unauthorized());
        }
        self.store
            .touch_session(sid, &client.ip, Utc::now())
            .await?;
        let session = self.store.session(sid).await?.ok_or_else(unauthorized)?;
        self.grant(&session, new_token)
    }

    /// The principal an `Authorization` header value stands for: a user's access
    /// token (`Bearer <jwt>` or a bare `<jwt>`) of a live session, or a bot token
    /// (`Bot <token>`). Anything else is 401.
    pub async fn authenticate(&self, authorization: &str) -> Result<Principal> {
        let unauthorized = || Error::new(ErrorCode::Unauthorized);
        match tokens::parse_authorization(authorization).ok_or_else(unauthorized)? {
            Credential::Bot(token) => {
                let user_id = self
                    .store
                    .user_by_bot_token(&tokens::hash_secret(token))
                    .await?
                    .ok_or_else(unauthorized)?;
                Ok(Principal {
                    user_id,
                    session_id: None,
                    bot: true,
                })
            }
            Credential::Access(jwt) => {
                let (user_id, sid) = self.verify_access(jwt).ok_or_else(unauthorized)?;
                let session = self.store.session(sid).await?.ok_or_else(unauthorized)?;
                if session.revoked || session.user_id != user_id {
                    return Err(unauthorized());
                }
                if Utc::now() - session.last_seen_at > TOUCH_EVERY {
                    // Keep "last seen" roughly right without a write per request.
                    let store = self.store.clone();
                    tokio::spawn(async move {
                        let _ = store.touch_session(sid, &session.ip, Utc::now()).await;
                    });
                }
                Ok(Principal {
                    user_id,
                    session_id: Some(sid),
                    bot: false,
                })
            }
        }
    }

    /// The key the rate limiter counts a caller under: `user:<id>` for an access
    /// token whose signature and expiry check out (no session lookup: this runs
    /// before every request, and a forged token must not spend someone else's
    /// budget), `bot:<hash prefix>` for a bot token; `None` otherwise.
    pub fn limiter_identity(&self, authorization: &str) -> Option<String> {
        match tokens::parse_authorization(authorization)? {
            Credential::Bot(token) => Some(format!("bot:{}", &tokens::hash_secret(token)[..24])),
            Credential::Access(jwt) => {
                let (user_id, _) = self.verify_access(jwt)?;
                Some(format!("user:{user_id}"))
            }
        }
    }

    /// The user and session of an access token whose signature, audience, issuer
    /// and expiry check out; a token checked before is not checked again until
    /// it expires (see `verified`). The session itself is not looked at here.
    fn verify_access(&self, jwt: &str) -> Option<(UserId, SessionId)> {
        let now = Utc::now().timestamp();
        if let Some(hit) = self.verified.get(jwt, now) {
            return Some(hit);
        }
        let validation = tokens::validation(ACCESS_AUDIENCE, &self.settings.issuer);
        let claims: AccessClaims = self.keys.verify(jwt, &validation)?;
        let user_id: UserId = claims.sub.parse().ok()?;
        let sid: SessionId = claims.sid.parse().ok()?;
        self.verified.put(jwt, user_id, sid, claims.exp, now);
        Some((user_id, sid))
    }

    /// The live sessions of the caller, newest first.
    pub async fn sessions(&self, me: &Principal) -> Result<Vec<Session>> {
        Ok(self.store.sessions_of_user(me.user_id).await?)
    }

    /// End one of the caller's sessions.
    pub async fn revoke_session(&self, me: &Principal, id: SessionId) -> Result<()> {
        let session = self
            .store
            .session(id)
            .await?
            .filter(|s| s.user_id == me.user_id && !s.revoked)
            .ok_or_else(|| Error::new(ErrorCode::UnknownSession))?;
        self.store.revoke_session(session.id).await?;
        self.announce_revoked(me.user_id, Some(id));
        info!(action = "SESSION_REVOKED", user = %me.user_id, session = %id, "session ended by its user");
        Ok(())
    }

    /// End the caller's own session.
    pub async fn logout(&self, me: &Principal) -> Result<()> {
        let Some(sid) = me.session_id else {
            return Ok(());
        };
        self.store.revoke_session(sid).await?;
        self.announce_revoked(me.user_id, Some(sid));
        info!(action = "LOGOUT", user = %me.user_id, session = %sid, "logged out");
        Ok(())
    }

    /// End every session of the caller, this one included.
    pub async fn logout_all(&self, me: &Principal) -> Result<u64> {
        let n = self.store.revoke_user_sessions(me.user_id, None).await?;
        self.announce_revoked(me.user_id, None);
        info!(action = "LOGOUT_ALL", user = %me.user_id, sessions = n, "logged out everywhere");
        Ok(n)
    }

    /// End the caller's other sessions (after a password or 2FA change).
    pub(crate) async fn end_other_sessions(&self, me: &Principal, why: &str) -> Result<u64> {
        let others: Vec<SessionId> = self
            .store
            .sessions_of_user(me.user_id)
            .await?
            .into_iter()
            .map(|s| s.id)
            .filter(|id| Some(*id) != me.session_id)
            .collect();
        let n = self
            .store
            .revoke_user_sessions(me.user_id, me.session_id)
            .await?;
        for sid in others {
            self.announce_revoked(me.user_id, Some(sid));
        }
        info!(action = "SESSION_REVOKED", user = %me.user_id, sessions = n, reason = why, "other sessions ended");
        Ok(n)
    }
}

impl Accounts {
    /// Tell every gateway that a session (or, with `None`, every session of the
    /// user) ended, so its live connections close too.
    pub(crate) fn announce_revoked(&self, user: UserId, session: Option<SessionId>) {
        self.bus.publish(Event {
            name: "SESSION_REVOKED",
            data: serde_json::json!({ "user_id": user, "session_id": session }),
            audience: Audience::Users(vec![user]),
            intent: None,
        });
    }
}

/// The 401 for a wrong login or password, with Discord's field errors.
fn invalid_login() -> Error {
    Error::new(ErrorCode::InvalidLogin)
        .and_field("login", "INVALID_LOGIN", "Login or password is invalid.")
        .and_field("password", "INVALID_LOGIN", "Login or password is invalid.")
}
