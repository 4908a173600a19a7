//! A minimal Discord v10 gateway client: connect, HELLO, IDENTIFY, READY,
//! heartbeats, and a stream of dispatches.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// A dispatch received: name and payload.
pub type Dispatch = (String, Value);

/// Where a connection's dispatches go after READY.
pub enum Sink {
    /// Nowhere (idle sessions).
    None,
    /// Every dispatch, parsed.
    #[allow(dead_code)] // for scenarios that look at whole events
    All(mpsc::UnboundedSender<Dispatch>),
    /// Only the latency of `MESSAGE_CREATE`s whose content is `fanout <µs>`,
    /// measured on arrival and recorded in place (no task hop per event). The
    /// frame is scanned for the two fields, not parsed: at hundreds of
    /// thousands of events a second the generator shares the server's cores,
    /// and every cycle it spends is one the server does not get.
    FanoutLatency(std::sync::Arc<Latencies>),
}

/// Latencies recorded by the fan-out sinks of many connections.
pub struct Latencies {
    pub hist: std::sync::Mutex<hdrhistogram::Histogram<u64>>,
    pub count: std::sync::atomic::AtomicU64,
}

impl Latencies {
    pub fn new() -> std::sync::Arc<Latencies> {
        std::sync::Arc::new(Latencies {
            hist: std::sync::Mutex::new(crate::stats::histogram()),
            count: std::sync::atomic::AtomicU64::new(0),
        })
    }

    fn record(&self, micros: u64) {
        if let Ok(mut h) = self.hist.lock() {
            let _ = h.record(micros);
        }
        self.count
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The unsigned number right after the first `key` in `text`.
fn number_after(text: &str, key: &str) -> Option<u64> {
    let rest = &text[text.find(key)? + key.len()..];
    let rest = rest.trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The sequence number of a frame, and the send time of a fan-out
/// `MESSAGE_CREATE` (its content `fanout <µs>`), found by scanning.
fn scan_fanout(text: &str) -> (Option<u64>, Option<u64>) {
    let seq = number_after(text, "\"s\":");
    let sent = if text.contains("\"t\":\"MESSAGE_CREATE\"") {
        number_after(text, "\"content\":\"fanout ")
    } else {
        None
    };
    (seq, sent)
}

/// The few fields of a frame the idle sink reads.
#[derive(serde::Deserialize)]
struct LightFrame {
    #[serde(default)]
    s: Option<u64>,
}

fn now_micros() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Intents asking for guild messages, DMs and message content.
pub const INTENTS: u64 = (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15);

/// Connect to `url` (ws://host:port/path) from `local` (to spread source
/// addresses over 127.0.0.0/8), identify with `token`, and return once READY
/// arrived. Dispatches after READY go to `events` (if given); heartbeats are sent
/// by a background task for as long as the connection lives.
pub async fn connect(
    url: &str,
    local: Option<IpAddr>,
    token: &str,
    events: Sink,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let full = if url.contains('?') {
        url.to_string()
    } else {
        format!("{url}?v=10&encoding=json")
    };
    let hostport = full
        .trim_start_matches("ws://")
        .split(['/', '?'])
        .next()
        .context("bad gateway url")?
        .to_string();
    let addr: SocketAddr = tokio::net::lookup_host(&hostport)
        .await?
        .next()
        .context("gateway host does not resolve")?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(ip) = local {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    let stream = socket.connect(addr).await?;
    stream.set_nodelay(true)?;
    let (ws, _) = tokio_tungstenite::client_async(full.as_str(), stream).await?;
    let (mut tx, mut rx) = ws.split();

    let hello = next_json(&mut rx).await?;
    if hello["op"] != 10 {
        bail!("expected HELLO, got {hello}");
    }
    let interval = hello["d"]["heartbeat_interval"].as_u64().unwrap_or(41_250);
    let identify = json!({"op": 2, "d": {"token": token, "intents": INTENTS,
        "properties": {"os": "linux", "browser": "beep-bench", "device": "beep-bench"}}});
    tx.send(Message::text(identify.to_string())).await?;
    loop {
        let v = next_json(&mut rx).await?;
        if v["op"] == 0 && v["t"] == "READY" {
            break;
        }
        if v["op"] == 9 {
            bail!("INVALID_SESSION on identify");
        }
    }

    let task = tokio::spawn(async move {
        let mut seq: Option<u64> = None;
        let mut beat = tokio::time::interval(Duration::from_millis(interval));
        beat.tick().await;
        loop {
            tokio::select! {
                _ = beat.tick() => {
                    let hb = json!({"op": 1, "d": seq});
                    if tx.send(Message::text(hb.to_string())).await.is_err() { return; }
                }
                msg = rx.next() => {
                    let Some(Ok(msg)) = msg else { return };
                    let Message::Text(text) = msg else { continue };
                    match &events {
                        Sink::FanoutLatency(lat) => {
                            let (s, sent) = scan_fanout(text.as_str());
                            if s.is_some() { seq = s; }
                            if let Some(sent) = sent {
                                lat.record(now_micros().saturating_sub(sent).max(1));
                            }
                        }
                        Sink::All(tx) => {
                            let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                            if let Some(s) = v["s"].as_u64() { seq = Some(s); }
                            if v["op"] == 0
                                && let Some(t) = v["t"].as_str()
                                && tx.send((t.to_string(), v["d"].clone())).is_err()
                            {
                                return;
                            }
                        }
                        Sink::None => {
                            let Ok(f) = serde_json::from_str::<LightFrame>(text.as_str()) else { continue };
                            if let Some(s) = f.s { seq = Some(s); }
                        }
                    }
                }
            }
        }
    });
    Ok(task)
}

async fn next_json<S>(rx: &mut S) -> anyhow::Result<Value>
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), rx.next())
            .await
            .context("gateway timed out")?
            .context("gateway closed")??;
        match msg {
            Message::Text(t) => return Ok(serde_json::from_str(t.as_str())?),
            Message::Close(c) => bail!("gateway closed: {c:?}"),
            _ => continue,
        }
    }
}

/// The i-th loopback source address, spread over 127.0.0.0/8 so each one has its
/// own ephemeral port range.
pub fn loopback(i: usize) -> IpAddr {
    let n = i % (250 * 250);
    IpAddr::from([
        127,
        1 + (n / 250) as u8,
        (n % 250) as u8,
        1 + (i / (250 * 250)) as u8 % 250,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fanout_frames_are_scanned() {
        let f = r#"{"op":0,"s":42,"t":"MESSAGE_CREATE","d":{"id":"1","content":"fanout 1700000000123456","author":{"id":"2"}}}"#;
        assert_eq!(scan_fanout(f), (Some(42), Some(1_700_000_000_123_456)));
        // Any key order, other events, heartbeat acks.
        let f = r#"{"t":"MESSAGE_CREATE","d":{"content":"fanout 7"},"op":0,"s": 3}"#;
        assert_eq!(scan_fanout(f), (Some(3), Some(7)));
        let f = r#"{"op":0,"s":5,"t":"TYPING_START","d":{"content":"fanout 7"}}"#;
        assert_eq!(scan_fanout(f), (Some(5), None));
        assert_eq!(scan_fanout(r#"{"op":11,"s":null}"#), (None, None));
        let f = r#"{"op":0,"s":6,"t":"MESSAGE_CREATE","d":{"content":"hello"}}"#;
        assert_eq!(scan_fanout(f), (Some(6), None));
    }
}
