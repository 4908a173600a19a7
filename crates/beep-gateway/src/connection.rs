//! One WebSocket connection: HELLO, then a loop over what the client sends, what
//! its session has to send, the heartbeat deadline, periodic revalidation of the
//! login, and the node's drain signal.
//!
//! Every client frame is checked before anything else: at most 4096 bytes, valid
//! UTF-8, valid JSON with a known opcode, and within the rate limit (120 frames a
//! minute). A violation closes the connection with Discord's close code; it never
//! affects another connection or the node.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use beep_types::Intents;
use futures::SinkExt;
use tokio::sync::{Notify, watch};
use tracing::{debug, info, warn};

use crate::compress::ZlibStream;
use crate::directory::DirectoryError;
use crate::handoff::ArriveError;
use crate::hub::Hub;
use crate::protocol::{self, ClientFrame, CloseCode, FrameError, Identify, Resume};
use crate::ready;
use crate::session::{Dispatch, Kick, ResumeRefusal, Session, SessionInit};

/// How a client asked to connect.
#[derive(Debug, Clone, Copy)]
pub struct ConnParams {
    /// `compress=zlib-stream`.
    pub zlib: bool,
    /// Why the connection must be closed right after it opens (bad `v` or `encoding`).
    pub refuse: Option<CloseCode>,
}

/// Frames allowed per window, and the window (Discord: 120 per 60 s).
const RATE_BURST: f64 = 120.0;
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// A token bucket: `RATE_BURST` frames, refilled evenly over `RATE_WINDOW`.
#[derive(Debug)]
struct RateLimit {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    fn new() -> Self {
        RateLimit {
            tokens: RATE_BURST,
            at: Instant::now(),
        }
    }

    /// Take one token; false when the client sent too much.
    fn allow(&mut self) -> bool {
        let now = Instant::now();
        let refill =
            now.duration_since(self.at).as_secs_f64() * RATE_BURST / RATE_WINDOW.as_secs_f64();
        self.tokens = (self.tokens + refill).min(RATE_BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// How a connection ends.
enum End {
    /// Close with this code; the session (if any) stays resumable unless `remove`.
    Close(CloseCode, bool),
    /// Send this frame first (RECONNECT / INVALID_SESSION), then close with 4000.
    Then(String, bool),
    /// The client closed (its code) or the socket broke.
    Gone(Option<u16>),
    /// A newer connection resumed the session: just close.
    Replaced,
}

struct Conn {
    hub: Arc<Hub>,
    ws: WebSocket,
    id: u64,
    wake: Arc<Notify>,
    zlib: Option<ZlibStream>,
    session: Option<Arc<Session>>,
    rate: RateLimit,
    deadline: Instant,
    drain: watch::Receiver<bool>,
    /// When dispatches were last written (for coalescing).
    last_write: Instant,
}

/// Serve one upgraded connection until it ends.
pub async fn serve(hub: Arc<Hub>, ws: WebSocket, params: ConnParams, drain: watch::Receiver<bool>) {
    hub.open.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    metrics::gauge!("beep_gateway_connections").increment(1.0);
    let id = hub.conn_id();
    let mut c = Conn {
        deadline: Instant::now() + hub.cfg.heartbeat_timeout(),
        hub: hub.clone(),
        ws,
        id,
        wake: Arc::new(Notify::new()),
        zlib: params.zlib.then(ZlibStream::new),
        session: None,
        rate: RateLimit::new(),
        drain,
        last_write: Instant::now(),
    };
    let end = match params.refuse {
        Some(code) => End::Close(code, false),
        None => c.run().await,
    };
    c.finish(end).await;
    hub.open.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    metrics::gauge!("beep_gateway_connections").decrement(1.0);
}

impl Conn {
    async fn run(&mut self) -> End {
        let hello = protocol::hello(self.hub.cfg.heartbeat_interval_ms);
        if self.send(hello).await.is_err() {
            return End::Gone(None);
        }
        let mut revalidate =
            tokio::time::interval(Duration::from_secs(self.hub.cfg.revalidate_secs.max(1)));
        revalidate.reset();
        loop {
            if *self.drain.borrow() {
                return End::Then(protocol::reconnect(), false);
            }
            let deadline = tokio::time::Instant::from_std(self.deadline);
            tokio::select! {
                msg = self.ws.recv() => {
                    let end = match msg {
                        None => End::Gone(None),
                        Some(Err(e)) => {
                            // Invalid UTF-8 in a text frame, an oversized frame or a
                            // protocol violation: the frame could not be decoded.
                            debug!(error = %e, "unreadable frame");
                            End::Close(CloseCode::DecodeError, false)
                        }
                        Some(Ok(m)) => match self.frame(m).await {
                            Ok(()) => continue,
                            Err(end) => end,
                        },
                    };
                    return end;
                }
                _ = self.wake.notified(), if self.session.is_some() => {
                    // Coalescing: right after a write, let more dispatches
                    // gather (see `GatewaySettings::coalesce_ms`).
                    let hold = self.hub.cfg.coalesce;
                    if !hold.is_zero() {
                        let next = self.last_write + hold;
                        if next > Instant::now() {
                            tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
                        }
                    }
                    if let Err(end) = self.flush().await {
                        return end;
                    }
                    self.last_write = Instant::now();
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return End::Close(CloseCode::SessionTimedOut, false);
                }
                _ = revalidate.tick(), if self.session.is_some() => {
                    if let Some(s) = &self.session
                        && !self.hub.dir.still_valid(&s.principal, &s.token).await
                    {
                        info!(user = %s.user(), "gateway session revoked");
                        self.hub.remove(s, Kick::Revoked);
                        return End::Close(CloseCode::AuthenticationFailed, true);
                    }
                }
                _ = self.drain.changed() => {}
            }
        }
    }

    /// Handle one client frame.
    async fn frame(&mut self, m: Message) -> Result<(), End> {
        let text = match &m {
            Message::Text(t) => t.as_str(),
            Message::Binary(b) => {
                std::str::from_utf8(b).map_err(|_| End::Close(CloseCode::DecodeError, false))?
            }
            Message::Close(c) => return Err(End::Gone(c.as_ref().map(|c| c.code))),
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
        };
        if text.len() > protocol::MAX_CLIENT_FRAME {
            return Err(End::Close(CloseCode::DecodeError, false));
        }
        if !self.rate.allow() {
            return Err(End::Close(CloseCode::RateLimited, false));
        }
        let frame = match ClientFrame::parse(text) {
            Ok(f) => f,
            Err(FrameError::Decode(why)) => {
                debug!(%why, "undecodable gateway frame");
                return Err(End::Close(CloseCode::DecodeError, false));
            }
            Err(FrameError::UnknownOpcode(op)) => {
                debug!(op, "unknown gateway opcode");
                return Err(End::Close(CloseCode::UnknownOpcode, false));
            }
        };
        match frame {
            ClientFrame::Heartbeat(seq) => {
                self.deadline = Instant::now() + self.hub.cfg.heartbeat_timeout();
                if let (Some(seq), Some(s)) = (seq, &self.session) {
                    s.ack(seq);
                }
                self.send(protocol::heartbeat_ack())
                    .await
                    .map_err(|_| End::Gone(None))
            }
            ClientFrame::Identify(i) => {
                if self.session.is_some() {
                    return Err(End::Close(CloseCode::AlreadyAuthenticated, false));
                }
                self.identify(*i).await
            }
            ClientFrame::Resume(r) => {
                if self.session.is_some() {
                    return Err(End::Close(CloseCode::AlreadyAuthenticated, false));
                }
                self.resume(r).await
            }
            other => {
                let Some(s) = self.session.clone() else {
                    return Err(End::Close(CloseCode::NotAuthenticated, false));
                };
                match other {
                    ClientFrame::PresenceUpdate(p) => {
                        self.hub.presence.update(&self.hub, &s, p).await;
                    }
                    ClientFrame::RequestGuildMembers(r) => {
                        self.hub.request_members(&s, Arc::new(r));
                    }
                    _ => {}
                }
                Ok(())
            }
        }
    }

    async fn identify(&mut self, i: Identify) -> Result<(), End> {
        let principal = self.authenticate(&i.token).await?;
        let intents = match i.intents {
            None if principal.bot => return Err(End::Close(CloseCode::InvalidIntents, false)),
            None => Intents::all(),
            Some(bits) => {
                Intents::from_identify(bits).ok_or(End::Close(CloseCode::InvalidIntents, false))?
            }
        };
        let shard = i.shard.unwrap_or([0, 1]);
        if shard[1] == 0 || shard[0] >= shard[1] || shard[1] > 1024 {
            return Err(End::Close(CloseCode::InvalidShard, false));
        }
        let account = self.hub.dir.account(&principal).await.map_err(dir_end)?;
        if principal.bot && !account.privileged.contains(intents & Intents::PRIVILEGED) {
            return Err(End::Close(CloseCode::DisallowedIntents, false));
        }
        let guilds = self
            .hub
            .dir
            .guild_ids(principal.user_id)
            .await
            .map_err(dir_end)?;
        let large_threshold = i.large_threshold.unwrap_or(50).clamp(50, 250);
        let client = client_kind(&i.properties);
        let init = SessionInit {
            id: self.hub.new_session_id(),
            principal,
            token: i.token,
            intents,
            shard,
            large_threshold,
            client,
        };
        let s = Session::new(init, (self.id, self.wake.clone()));
        let mut ready =
            ready::ready_payload(&s, &account, &guilds, &self.hub.cfg.resume_url, i.shard);
        ready["presences"] = serde_json::json!(ready::friend_presences(&self.hub, &s).await);
        s.push(Dispatch::json("READY", &ready), self.hub.limits());
        self.session = Some(s.clone());
        self.hub.register(&s, &guilds);
        self.hub
            .presence
            .session_started(&self.hub, &s, i.presence)
            .await;
        info!(
            action = "GATEWAY_IDENTIFY",
            user = %principal.user_id,
            bot = principal.bot,
            intents = intents.bits(),
            guilds = guilds.len(),
            "gateway session started"
        );
        Ok(())
    }

    async fn resume(&mut self, r: Resume) -> Result<(), End> {
        let principal = self.authenticate(&r.token).await?;
        let seq = r.seq.unwrap_or(0);
        let found = match self.hub.session(&r.session_id) {
            Some(s) => Some(s),
            None => match self.hub.cluster.get().cloned() {
                // Held by another node (it drains, or the client came here):
                // take it over.
                Some(c) if c.elsewhere(&r.session_id) => {
                    match c
                        .arrive(&self.hub, principal, &r.token, &r.session_id, seq)
                        .await
                    {
                        Ok(s) => Some(s),
                        Err(ArriveError::InvalidSeq) => {
                            return Err(End::Close(CloseCode::InvalidSeq, false));
                        }
                        Err(ArriveError::Unknown) => None,
                    }
                }
                _ => None,
            },
        };
        let found = found.filter(|s| s.user() == principal.user_id && !s.ended());
        let Some(s) = found else {
            return self.invalid_session().await;
        };
        match s.resume((self.id, self.wake.clone()), seq) {
            Ok(()) => {
                let d = serde_json::json!({"_trace": ["beep-gateway"]});
                s.push(Dispatch::json("RESUMED", &d), self.hub.limits());
                self.session = Some(s.clone());
                info!(action = "GATEWAY_RESUME", user = %principal.user_id, "gateway session resumed");
                Ok(())
            }
            Err(ResumeRefusal::InvalidSeq) => Err(End::Close(CloseCode::InvalidSeq, false)),
            Err(ResumeRefusal::Gap) => {
                self.hub.remove(&s, Kick::Invalidated);
                self.invalid_session().await
            }
        }
    }

    /// INVALID_SESSION (not resumable); the connection stays open for IDENTIFY.
    async fn invalid_session(&mut self) -> Result<(), End> {
        self.send(protocol::invalid_session(false))
            .await
            .map_err(|_| End::Gone(None))
    }

    /// The principal of an IDENTIFY or RESUME token, or the close it deserves.
    async fn authenticate(&mut self, token: &str) -> Result<beep_core::accounts::Principal, End> {
        let hub = self.hub.clone();
        hub.dir.authenticate(token).await.map_err(dir_end)
    }

    /// Send what the session has queued; end on a kick.
    async fn flush(&mut self) -> Result<(), End> {
        let Some(s) = self.session.clone() else {
            return Ok(());
        };
        let timeout = Duration::from_secs(self.hub.cfg.write_timeout_secs.max(1));
        loop {
            let batch = s.take(self.id, 64);
            if let Some(k) = batch.kick {
                return Err(match k {
                    Kick::SlowConsumer => {
                        warn!(user = %s.user(), "slow gateway consumer: asking it to reconnect");
                        metrics::counter!("beep_gateway_slow_consumers_total").increment(1);
                        End::Then(protocol::reconnect(), false)
                    }
                    Kick::Replaced => End::Replaced,
                    Kick::Revoked => End::Close(CloseCode::AuthenticationFailed, true),
                    Kick::Drain => End::Then(protocol::reconnect(), false),
                    Kick::Invalidated => End::Then(protocol::invalid_session(false), true),
                });
            }
            if batch.frames.is_empty() {
                return Ok(());
            }
            for (seq, d) in &batch.frames {
                let msg = self.encode(protocol::dispatch(*seq, d.name, &d.data));
                let fed = tokio::time::timeout(timeout, self.ws.feed(msg)).await;
                if !matches!(fed, Ok(Ok(()))) {
                    return Err(End::Gone(None));
                }
            }
            let flushed = tokio::time::timeout(timeout, self.ws.flush()).await;
            if !matches!(flushed, Ok(Ok(()))) {
                // A client that does not read within the write timeout is gone.
                metrics::counter!("beep_gateway_slow_consumers_total").increment(1);
                return Err(End::Gone(None));
            }
        }
    }

    fn encode(&mut self, text: String) -> Message {
        match &mut self.zlib {
            Some(z) => Message::Binary(z.compress(text.as_bytes()).into()),
            None => Message::Text(text.into()),
        }
    }

    async fn send(&mut self, text: String) -> Result<(), ()> {
        let msg = self.encode(text);
        let timeout = Duration::from_secs(self.hub.cfg.write_timeout_secs.max(1));
        match tokio::time::timeout(timeout, self.ws.send(msg)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }

    /// End the connection and settle its session.
    async fn finish(mut self, end: End) {
        let session = self.session.take();
        let (code, remove) = match end {
            End::Close(code, remove) => (Some(code), remove),
            End::Then(frame, remove) => {
                let _ = self.send(frame).await;
                (Some(CloseCode::UnknownError), remove)
            }
            End::Gone(client_code) => {
                // Discord ends the session when the client closes with 1000/1001.
                let remove = matches!(client_code, Some(1000 | 1001));
                (None, remove)
            }
            End::Replaced => (Some(CloseCode::UnknownError), false),
        };
        if let Some(code) = code {
            debug!(code = code.code(), "closing gateway connection");
            let frame = CloseFrame {
                code: code.code(),
                reason: code.reason().into(),
            };
            let _ = tokio::time::timeout(
                Duration::from_secs(2),
                self.ws.send(Message::Close(Some(frame))),
            )
            .await;
        }
        if let Some(s) = session {
            if remove {
                self.hub.remove(&s, Kick::Invalidated);
            } else {
                s.detach(self.id);
            }
        }
    }
}

/// The close a directory failure deserves.
fn dir_end(e: DirectoryError) -> End {
    match e {
        DirectoryError::Unauthorized => End::Close(CloseCode::AuthenticationFailed, false),
        DirectoryError::Unavailable(why) => {
            warn!(%why, "gateway cannot reach the domain");
            End::Close(CloseCode::UnknownError, false)
        }
    }
}

/// Which `client_status` key a session's presence goes under.
fn client_kind(properties: &serde_json::Value) -> &'static str {
    let of = |k: &str| {
        properties[k]
            .as_str()
            .or_else(|| properties[format!("${k}")].as_str())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let (os, browser) = (of("os"), of("browser"));
    if os.contains("android") || os.contains("ios") || browser.contains("mobile") {
        "mobile"
    } else if browser.contains("discord client") || browser.contains("desktop") {
        "desktop"
    } else {
        "web"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_allows_120_then_refuses() {
        let mut r = RateLimit::new();
        for _ in 0..120 {
            assert!(r.allow());
        }
        assert!(!r.allow());
    }

    #[test]
    fn client_kinds() {
        assert_eq!(
            client_kind(&serde_json::json!({"os":"Android","browser":"Discord Android"})),
            "mobile"
        );
        assert_eq!(
            client_kind(&serde_json::json!({"os":"linux","browser":"discord.py"})),
            "web"
        );
    }
}
