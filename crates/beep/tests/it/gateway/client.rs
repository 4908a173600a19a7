//! A gateway test client: a real WebSocket speaking Discord's protocol, with
//! `zlib-stream` inflation, and helpers to wait for a dispatch or a close code.

use std::time::Duration;

use flate2::{Decompress, FlushDecompress};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::harness::TestServer;

/// How long a test waits for something the server should send.
pub const WAIT: Duration = Duration::from_secs(10);

/// What the server sent.
#[derive(Debug)]
pub enum Got {
    Frame(Value),
    Closed(Option<u16>),
}

/// One gateway connection.
pub struct Gw {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    inflate: Option<(Decompress, Vec<u8>)>,
    /// The last dispatch sequence number seen.
    pub seq: Option<u64>,
    /// READY's session id, once seen.
    pub session_id: Option<String>,
}

impl Gw {
    /// Connect to `url` as given (no query added).
    pub async fn connect_url(url: &str) -> Gw {
        let zlib = url.contains("compress=zlib-stream");
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("connect {url}: {e}"));
        Gw {
            ws,
            inflate: zlib.then(|| (Decompress::new(true), Vec::new())),
            seq: None,
            session_id: None,
        }
    }

    /// Connect to `url` with a tiny socket receive buffer, so a client that does
    /// not read pushes back on the server at once.
    pub async fn connect_url_small_buffer(url: &str) -> Gw {
        let hostport = url
            .trim_start_matches("ws://")
            .split(['/', '?'])
            .next()
            .expect("host");
        let addr: std::net::SocketAddr = hostport.parse().expect("addr");
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(8 * 1024).expect("rcvbuf");
        let stream = socket.connect(addr).await.expect("connect");
        let (ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
            .await
            .expect("handshake");
        Gw {
            ws,
            inflate: None,
            seq: None,
            session_id: None,
        }
    }

    /// The URL `GET /api/v10/gateway` returns.
    pub async fn url_of(ts: &TestServer) -> String {
        let (s, v) = ts.get("/gateway", None).await;
        assert_eq!(s, 200, "{v}");
        v["url"].as_str().expect("url").to_owned()
    }

    /// Connect the way discord.js does (`<url>?v=10&encoding=json`) and read HELLO.
    pub async fn connect(ts: &TestServer) -> Gw {
        let url = Self::url_of(ts).await;
        let mut gw = Self::connect_url(&format!("{url}?v=10&encoding=json")).await;
        let hello = gw.next_frame().await;
        assert_eq!(hello["op"], 10, "{hello}");
        gw
    }

    /// Send a JSON payload.
    pub async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .expect("send");
    }

    /// Send text exactly as given.
    pub async fn send_text(&mut self, s: &str) {
        let _ = self.ws.send(Message::Text(s.to_owned().into())).await;
    }

    /// Send a text frame whose bytes are not UTF-8.
    pub async fn send_invalid_utf8(&mut self) {
        let frame = Frame::message(vec![0xffu8, 0xfe, b'{'], OpCode::Data(Data::Text), true);
        let _ = self.ws.send(Message::Frame(frame)).await;
    }

    /// IDENTIFY.
    pub async fn identify(&mut self, token: &str, intents: u64) {
        self.send(json!({"op": 2, "d": {
            "token": token,
            "intents": intents,
            "properties": {"os": "linux", "browser": "beep-tests", "device": "beep-tests"},
        }}))
        .await;
    }

    /// IDENTIFY and wait for READY; returns READY's `d`.
    pub async fn ready(&mut self, token: &str, intents: u64) -> Value {
        self.identify(token, intents).await;
        let d = self.expect("READY").await;
        self.session_id = d["session_id"].as_str().map(str::to_owned);
        d
    }

    /// HEARTBEAT with the last sequence number.
    pub async fn heartbeat(&mut self) {
        let d = self.seq.map_or(Value::Null, |s| json!(s));
        self.send(json!({"op": 1, "d": d})).await;
    }

    /// The next thing the server sends, within [`WAIT`].
    pub async fn next(&mut self) -> Got {
        self.next_within(WAIT)
            .await
            .expect("the server sent nothing in time")
    }

    /// The next thing the server sends within `d`, or `None` on timeout.
    pub async fn next_within(&mut self, d: Duration) -> Option<Got> {
        loop {
            let msg = match tokio::time::timeout(d, self.ws.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => return Some(Got::Closed(None)),
                Ok(Some(Ok(m))) => m,
            };
            let text = match msg {
                Message::Text(t) => t.to_string(),
                Message::Binary(b) => {
                    let (z, _) = self
                        .inflate
                        .as_mut()
                        .expect("binary frame without zlib-stream");
                    assert_eq!(&b[b.len() - 4..], &[0, 0, 0xff, 0xff], "sync-flush suffix");
                    let mut out = Vec::new();
                    let mut input = &b[..];
                    loop {
                        out.reserve(64 * 1024);
                        let before = z.total_in();
                        z.decompress_vec(input, &mut out, FlushDecompress::Sync)
                            .expect("inflate");
                        input = &input[(z.total_in() - before) as usize..];
                        if input.is_empty() && out.len() < out.capacity() {
                            break;
                        }
                    }
                    String::from_utf8(out).expect("utf8")
                }
                Message::Close(c) => return Some(Got::Closed(c.map(|c| u16::from(c.code)))),
                _ => continue,
            };
            let v: Value = serde_json::from_str(&text).expect("server sent JSON");
            if let Some(s) = v["s"].as_u64() {
                self.seq = Some(s);
            }
            return Some(Got::Frame(v));
        }
    }

    /// The next frame; panics on a close.
    pub async fn next_frame(&mut self) -> Value {
        match self.next().await {
            Got::Frame(v) => v,
            Got::Closed(c) => panic!("closed with {c:?} while waiting for a frame"),
        }
    }

    /// Wait for a dispatch named `t` (skipping others and heartbeat ACKs); its `d`.
    pub async fn expect(&mut self, t: &str) -> Value {
        loop {
            let v = self.next_frame().await;
            if v["op"] == 0 && v["t"] == t {
                return v["d"].clone();
            }
        }
    }

    /// Wait for a frame with opcode `op` (skipping dispatches); the whole frame.
    pub async fn expect_op(&mut self, op: u64) -> Value {
        loop {
            let v = self.next_frame().await;
            if v["op"] == op {
                return v;
            }
        }
    }

    /// Wait until the server closes; the close code.
    pub async fn expect_close(&mut self) -> Option<u16> {
        loop {
            match self.next().await {
                Got::Closed(c) => return c,
                Got::Frame(_) => continue,
            }
        }
    }

    /// Close from the client side with `code`.
    pub async fn close(mut self, code: u16) {
        use tokio_tungstenite::tungstenite::protocol::CloseFrame;
        let _ = self
            .ws
            .send(Message::Close(Some(CloseFrame {
                code: code.into(),
                reason: "".into(),
            })))
            .await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }

    /// Drop the TCP connection without a close frame.
    pub fn drop_connection(self) {
        drop(self);
    }
}
