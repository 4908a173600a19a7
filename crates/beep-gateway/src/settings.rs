//! The `[gateway]` and `[nats]` tables of `beep.toml` (and `BEEP_GATEWAY_*`,
//! `BEEP_NATS_*`), declared here next to the code that reads them.

use beep_types::Intents;
use serde::{Deserialize, Serialize};

/// The real-time gateway.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GatewaySettings {
    /// WebSocket URL clients are told to connect to (`GET /api/v10/gateway`), e.g.
    /// `wss://chat.example.org/gateway`. Empty: `public_url` with `ws://` (or
    /// `wss://`) and `/gateway`.
    pub url: String,
    /// URL READY tells clients to resume at. Empty: the same as `url`. Sessions
    /// live on the node that created them, so a cluster may give each node its
    /// own address here.
    pub resume_url: String,
    /// Heartbeat interval announced in HELLO, in milliseconds. A connection that
    /// sends no heartbeat for 1.5 times this is closed with 4009.
    pub heartbeat_interval_ms: u64,
    /// How long a dropped session can be resumed, in seconds (at least 120).
    pub resume_window_secs: u64,
    /// Dispatches kept per session for RESUME (at least 1000).
    pub resume_buffer: usize,
    /// Dispatches a connection may have unsent before it is a slow consumer and
    /// told to reconnect (at most `resume_buffer`, so it can still resume).
    pub max_pending: usize,
    /// How often a live session's login is checked again, in seconds: a revoked
    /// session (logout, password change, bot token reset) is closed with 4004.
    pub revalidate_secs: u64,
    /// How long one write to a client may block before the client is dropped, in
    /// seconds.
    pub write_timeout_secs: u64,
    /// How long shutdown waits for clients to leave after RECONNECT, in seconds.
    pub drain_timeout_secs: u64,
    /// Write coalescing, in milliseconds (0: off): a dispatch that finds the
    /// connection idle for this long goes out at once; one that follows a
    /// write more closely waits until this long after it and goes out with
    /// every other dispatch queued by then, in one write. Busy channels then
    /// cost one wake-up and one system call per connection per window instead
    /// of per event, for at most this much added delay (at most 100).
    pub coalesce_ms: u64,
    /// Privileged intents a new bot application starts with (as its flags
    /// `GATEWAY_GUILD_MEMBERS`, `GATEWAY_PRESENCE`, `GATEWAY_MESSAGE_CONTENT`):
    /// any of `GUILD_MEMBERS`, `GUILD_PRESENCES`, `MESSAGE_CONTENT`. The owner
    /// changes them per application (`PATCH /applications/{id}` with `flags`);
    /// bots without an application (`beep admin create-bot`) have these. A bot
    /// asking for a privileged intent its application lacks is closed with 4014,
    /// as on Discord.
    pub bot_privileged_intents: Vec<String>,
}

impl Default for GatewaySettings {
    fn default() -> Self {
        GatewaySettings {
            url: String::new(),
            resume_url: String::new(),
            heartbeat_interval_ms: 41_250,
            resume_window_secs: 180,
            resume_buffer: 2000,
            max_pending: 1000,
            revalidate_secs: 30,
            write_timeout_secs: 10,
            drain_timeout_secs: 5,
            coalesce_ms: 5,
            bot_privileged_intents: vec![
                "GUILD_MEMBERS".into(),
                "GUILD_PRESENCES".into(),
                "MESSAGE_CONTENT".into(),
            ],
        }
    }
}

impl GatewaySettings {
    /// The privileged intents bots may ask for, or the unknown names.
    pub fn bot_privileged(&self) -> Result<Intents, Vec<String>> {
        let mut out = Intents::empty();
        let mut bad = Vec::new();
        for name in &self.bot_privileged_intents {
            match Intents::from_name(name.trim()) {
                Some(i) if Intents::PRIVILEGED.contains(i) => out |= i,
                _ => bad.push(name.clone()),
            }
        }
        if bad.is_empty() { Ok(out) } else { Err(bad) }
    }

    /// Values serde cannot check.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if !(1000..=600_000).contains(&self.heartbeat_interval_ms) {
            p.push("gateway.heartbeat_interval_ms must be 1000..=600000".into());
        }
        if self.resume_window_secs < 120 {
            p.push("gateway.resume_window_secs must be at least 120".into());
        }
        if self.resume_buffer < 1000 {
            p.push("gateway.resume_buffer must be at least 1000".into());
        }
        if self.max_pending == 0 || self.max_pending > self.resume_buffer {
            p.push("gateway.max_pending must be 1..=gateway.resume_buffer".into());
        }
        if self.revalidate_secs == 0 || self.write_timeout_secs == 0 {
            p.push(
                "gateway.revalidate_secs and gateway.write_timeout_secs must be at least 1".into(),
            );
        }
        if self.coalesce_ms > 100 {
            p.push("gateway.coalesce_ms must be 0..=100".into());
        }
        for u in [&self.url, &self.resume_url] {
            if !u.is_empty() && !u.starts_with("ws://") && !u.starts_with("wss://") {
                p.push(format!("gateway URL `{u}` must start with ws:// or wss://"));
            }
        }
        if let Err(bad) = self.bot_privileged() {
            p.push(format!(
                "gateway.bot_privileged_intents: unknown or unprivileged {bad:?}; use GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT"
            ));
        }
        p
    }

    /// The gateway URL for a node whose public base URL is `public_url`.
    pub fn url_for(&self, public_url: &str) -> String {
        if !self.url.is_empty() {
            return self.url.clone();
        }
        let base = public_url.trim_end_matches('/');
        let ws = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = base.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            format!("ws://{base}")
        };
        format!("{ws}/gateway")
    }
}

/// NATS, which carries events and presence between the nodes of a cluster.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NatsSettings {
    /// `nats://host:4222` (`BEEP_NATS_URL`). Empty: a single node with the
    /// in-process event bus. Secret when it carries credentials: redacted by
    /// `beep config check`.
    pub url: String,
    /// Prefix of the subjects (`<prefix>.g.<guild>` and `<prefix>.u.<user>` for
    /// events, `<prefix>.presence` for presence); the nodes of a cluster share it.
    pub subject_prefix: String,
}

impl Default for NatsSettings {
    fn default() -> Self {
        NatsSettings {
            url: String::new(),
            subject_prefix: "beep.ev".into(),
        }
    }
}

impl NatsSettings {
    /// Values serde cannot check.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if !self.url.is_empty()
            && !["nats://", "tls://", "ws://", "wss://"]
                .iter()
                .any(|s| self.url.starts_with(s))
        {
            p.push("nats.url must start with nats://, tls://, ws:// or wss://".into());
        }
        let s = &self.subject_prefix;
        let ok = !s.is_empty()
            && s.split('.').all(|t| !t.is_empty())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
        if !ok {
            p.push(
                "nats.subject_prefix must be dot-separated words of letters, digits, `_` and `-`"
                    .into(),
            );
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_urls_derive() {
        assert!(GatewaySettings::default().problems().is_empty());
        assert!(NatsSettings::default().problems().is_empty());
        let g = GatewaySettings::default();
        assert_eq!(
            g.url_for("http://127.0.0.1:8080"),
            "ws://127.0.0.1:8080/gateway"
        );
        assert_eq!(
            g.url_for("https://chat.example.org/"),
            "wss://chat.example.org/gateway"
        );
        assert_eq!(g.bot_privileged().expect("names"), Intents::PRIVILEGED);
        let bad = GatewaySettings {
            bot_privileged_intents: vec!["GUILDS".into()],
            ..GatewaySettings::default()
        };
        assert_eq!(bad.problems().len(), 1);
    }

    #[test]
    fn coalescing_window_is_bounded() {
        let with = |coalesce_ms| GatewaySettings {
            coalesce_ms,
            ..GatewaySettings::default()
        };
        assert!(with(0).problems().is_empty(), "0 turns it off");
        assert!(with(100).problems().is_empty());
        assert_eq!(
            with(101).problems(),
            vec!["gateway.coalesce_ms must be 0..=100".to_owned()]
        );
    }
}
