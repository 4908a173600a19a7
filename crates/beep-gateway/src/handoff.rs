//! Moving a live session between the nodes of a cluster, so that a client told
//! to RECONNECT (its node drains) or simply landing on another node resumes there
//! without losing or repeating a dispatch.
//!
//! The engine is core NATS request/reply with the node that holds the session;
//! nothing is written to the database. A session id starts with the 16 hex
//! digits of its node's tag, and each node answers on `<prefix>.handoff.n.<tag>`
//! for the sessions it made and on `<prefix>.handoff.s.<session_id>` for those it
//! took over. The node B receiving RESUME for a session it does not hold:
//!
//! 1. asks the holder A for the session's settings (`peek`: user, intents, shard,
//!    guilds, status), and registers an arriving session with them; from then on
//!    its guild actors and user routing push into it, remembering each event's
//!    identity ([`EventKey`]);
//! 2. waits until its NATS subscriptions for the user and those guilds are sent,
//!    then sends `claim` on the same connection, so the NATS server routes to B
//!    everything published after the claim reaches A;
//! 3. A waits a short settle time (events already in flight to it arrive), then
//!    exports atomically what the client has not confirmed (after the client's
//!    `seq`), ends the session and streams it back in chunks;
//! 4. B puts A's dispatches first with their numbers, then its own that A did not
//!    have (same key: dropped), numbered after them, and for a while drops any
//!    late duplicate; the connection replays from the client's `seq`, then RESUMED.
//!
//! A holder that is gone (killed) has no responder: INVALID_SESSION, and the
//! client identifies again. Everything is bounded: timeouts on each step, chunked
//! replies under the server's payload limit, the usual buffer limits, and a
//! draining node keeps its sessions for `drain_timeout_secs` at most.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::client::RequestErrorKind;
use beep_core::accounts::Principal;
use beep_core::events::Topic;
use beep_types::{GuildId, UserId};
use bytes::Bytes;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::hub::Hub;
use crate::nats::{NatsBus, intern};
use crate::protocol::Status;
use crate::session::{Dispatch, EventKey, Export, ResumeRefusal, Session, SessionInit};

/// How long a node holding a claimed session waits for events already in flight
/// to it before it exports the session.
const SETTLE: Duration = Duration::from_millis(150);
/// Longest wait for the holder's answer to `peek`.
const PEEK_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for the whole answer to `claim`.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest chunk of a claim answer (under NATS's default 1 MiB payload).
const CHUNK_BYTES: usize = 256 * 1024;

/// A request to the node holding a session.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    /// `peek` or `claim`.
    op: String,
    session: String,
    user: UserId,
    /// The client's last sequence number (claim).
    #[serde(default)]
    seq: u64,
}

/// The settings of a session (answer to `peek`).
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    intents: u64,
    shard: [u32; 2],
    large_threshold: u32,
    client: String,
    bot: bool,
    guilds: Vec<GuildId>,
    status: Status,
    activities: Vec<Value>,
}

#[derive(Debug, Serialize, Deserialize)]
struct PeekReply {
    #[serde(default)]
    meta: Option<Meta>,
}

/// One dispatch in a claim answer.
#[derive(Debug, Serialize, Deserialize)]
struct WireDispatch {
    s: u64,
    n: String,
    d: Box<RawValue>,
    #[serde(default)]
    k: Option<EventKey>,
}

/// One chunk of a claim answer; the last has `last` and the totals.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ClaimChunk {
    #[serde(default)]
    events: Vec<WireDispatch>,
    #[serde(default)]
    last: bool,
    #[serde(default)]
    next_seq: u64,
    #[serde(default)]
    guilds: Vec<GuildId>,
    /// `invalid_seq`, `gap` or `unknown`.
    #[serde(default)]
    error: Option<String>,
}

/// Why a session could not be taken over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArriveError {
    /// The client's number is ahead of what was sent: close 4007.
    InvalidSeq,
    /// No node holds it (any more), or it cannot be continued: INVALID_SESSION.
    Unknown,
}

/// Session handoff of one node.
pub struct Cluster {
    bus: Arc<NatsBus>,
    prefix: String,
    /// 16 hex digits starting every session id made here.
    tag: String,
    /// Subscriptions answering for sessions taken over from other nodes.
    adopted: Mutex<HashMap<Arc<str>, JoinHandle<()>>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("tag", &self.tag).finish()
    }
}

/// Whether `id` has the shape of a session id (32 lower-case hex digits), so it
/// can be put in a subject.
fn well_formed(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Cluster {
    /// Handoff over `bus`; answers for this node's sessions from now on.
    pub async fn start(
        hub: &Arc<Hub>,
        bus: Arc<NatsBus>,
    ) -> anyhow::Result<(Arc<Cluster>, JoinHandle<()>)> {
        let tag = format!("{:016x}", bus.origin());
        let prefix = bus.prefix().to_string();
        let subject = format!("{prefix}.handoff.n.{tag}");
        let sub = bus
            .client()
            .subscribe(subject.clone())
            .await
            .map_err(|e| anyhow::anyhow!("cannot subscribe to {subject}: {e}"))?;
        let cluster = Arc::new(Cluster {
            bus,
            prefix,
            tag,
            adopted: Mutex::default(),
        });
        let task = tokio::spawn(serve(Arc::downgrade(hub), sub));
        info!(tag = %cluster.tag, "gateway sessions can move between nodes");
        Ok((cluster, task))
    }

    /// A new session id of this node.
    pub fn new_session_id(&self) -> String {
        let mut id = crate::protocol::new_session_id();
        id.replace_range(..16, &self.tag);
        id
    }

    /// Whether another node may hold session `id`.
    pub fn elsewhere(&self, id: &str) -> bool {
        well_formed(id)
    }

    /// A session taken over here ended: stop answering for it.
    pub fn forget(&self, id: &str) {
        let t = self
            .adopted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        if let Some(t) = t {
            t.abort();
        }
    }

    async fn answer_for(&self, hub: &Arc<Hub>, id: &Arc<str>) {
        let subject = format!("{}.handoff.s.{id}", self.prefix);
        match self.bus.client().subscribe(subject.clone()).await {
            Ok(sub) => {
                let task = tokio::spawn(serve(Arc::downgrade(hub), sub));
                let old = self
                    .adopted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id.clone(), task);
                if let Some(old) = old {
                    old.abort();
                }
            }
            Err(e) => warn!(%subject, error = %e, "cannot answer for a session taken over"),
        }
    }

    /// Ask who holds `id` for its settings: first a node that took it over, then
    /// the node that made it. The subject that answered, and the settings.
    async fn peek(&self, id: &str, user: UserId) -> Option<(String, Meta)> {
        let req = Request {
            op: "peek".into(),
            session: id.to_string(),
            user,
            seq: 0,
        };
        let body = Bytes::from(serde_json::to_vec(&req).ok()?);
        let subjects = [
            format!("{}.handoff.s.{id}", self.prefix),
            format!("{}.handoff.n.{}", self.prefix, &id[..16]),
        ];
        for subject in subjects {
            let ask = async_nats::Request::new()
                .payload(body.clone())
                .timeout(Some(PEEK_TIMEOUT));
            match self.bus.client().send_request(subject.clone(), ask).await {
                Ok(msg) => {
                    if let Ok(PeekReply { meta: Some(m) }) = serde_json::from_slice(&msg.payload) {
                        return Some((subject, m));
                    }
                }
                Err(e) if e.kind() == RequestErrorKind::NoResponders => {}
                Err(e) => debug!(%subject, error = %e, "no answer to a session peek"),
            }
        }
        None
    }

    /// Take over session `id` (RESUME of a session this node does not hold).
    /// The session is registered here with its buffer; the caller attaches the
    /// connection with `seq` as for a local resume.
    pub async fn arrive(
        &self,
        hub: &Arc<Hub>,
        principal: Principal,
        token: &str,
        id: &str,
        seq: u64,
    ) -> Result<Arc<Session>, ArriveError> {
        let (subject, meta) = self
            .peek(id, principal.user_id)
            .await
            .ok_or(ArriveError::Unknown)?;
        if meta.bot != principal.bot {
            return Err(ArriveError::Unknown);
        }
        let init = SessionInit {
            id: id.to_string(),
            principal,
            token: token.to_string(),
            intents: beep_types::Intents::from_bits_truncate(meta.intents),
            shard: meta.shard,
            large_threshold: meta.large_threshold,
            client: match meta.client.as_str() {
                "desktop" => "desktop",
                "mobile" => "mobile",
                _ => "web",
            },
        };
        let s = Session::arriving(init);
        hub.register_arriving(&s, &meta.guilds);
        hub.presence
            .session_arrived(hub, &s, meta.status, meta.activities)
            .await;
        let mut topics = vec![Topic::User(s.user())];
        topics.extend(s.guilds().into_iter().map(Topic::Guild));
        if !self.bus.interest_ready(&topics, PEEK_TIMEOUT).await {
            warn!(session = %id, "subscriptions for an arriving session not ready in time");
        }
        match self.claim(&subject, id, s.user(), seq).await {
            Ok(export) => {
                let mine: HashSet<GuildId> = s.guilds().into_iter().collect();
                let theirs: HashSet<GuildId> = export.guilds.iter().copied().collect();
                s.adopt(export, seq);
                for g in theirs.difference(&mine) {
                    hub.adopt_guild(&s, *g);
                }
                for g in mine.difference(&theirs) {
                    hub.drop_guild(&s, *g);
                }
                self.answer_for(hub, &s.id).await;
                metrics::counter!("beep_gateway_handoffs_total").increment(1);
                info!(action = "GATEWAY_HANDOFF", session = %id, user = %s.user(), "gateway session taken over from another node");
                Ok(s)
            }
            Err(e) => {
                hub.handed_off(&s);
                Err(e)
            }
        }
    }

    async fn claim(
        &self,
        subject: &str,
        id: &str,
        user: UserId,
        seq: u64,
    ) -> Result<Export, ArriveError> {
        let client = self.bus.client();
        let inbox = client.new_inbox();
        let mut replies = client
            .subscribe(inbox.clone())
            .await
            .map_err(|_| ArriveError::Unknown)?;
        let req = Request {
            op: "claim".into(),
            session: id.to_string(),
            user,
            seq,
        };
        let body = serde_json::to_vec(&req).map_err(|_| ArriveError::Unknown)?;
        client
            .publish_with_reply(subject.to_string(), inbox, Bytes::from(body))
            .await
            .map_err(|_| ArriveError::Unknown)?;
        let _ = client.flush().await;
        let collect = async {
            let mut out = Export::default();
            while let Some(msg) = replies.next().await {
                let chunk: ClaimChunk =
                    serde_json::from_slice(&msg.payload).map_err(|_| ArriveError::Unknown)?;
                match chunk.error.as_deref() {
                    Some("invalid_seq") => return Err(ArriveError::InvalidSeq),
                    Some(_) => return Err(ArriveError::Unknown),
                    None => {}
                }
                for w in chunk.events {
                    let Some(name) = intern(&w.n) else { continue };
                    out.events
                        .push((w.s, Dispatch::keyed(name, w.d.get().to_string(), w.k)));
                }
                if chunk.last {
                    out.next_seq = chunk.next_seq;
                    out.guilds = chunk.guilds;
                    return Ok(out);
                }
            }
            Err(ArriveError::Unknown)
        };
        let out = tokio::time::timeout(CLAIM_TIMEOUT, collect)
            .await
            .map_err(|_| ArriveError::Unknown)?;
        let _ = replies.unsubscribe().await;
        out
    }
}

/// Answer `peek` and `claim` requests arriving on `sub` while the hub lives.
async fn serve(hub: std::sync::Weak<Hub>, mut sub: async_nats::Subscriber) {
    while let Some(msg) = sub.next().await {
        let Some(hub) = hub.upgrade() else { return };
        let Some(reply) = msg.reply.clone() else {
            continue;
        };
        let Ok(req) = serde_json::from_slice::<Request>(&msg.payload) else {
            continue;
        };
        tokio::spawn(async move {
            let client = match hub.cluster.get() {
                Some(c) => c.bus.client().clone(),
                None => return,
            };
            let s = hub
                .session(&req.session)
                .filter(|s| s.user() == req.user && !s.ended());
            match req.op.as_str() {
                "peek" => {
                    let meta = s.map(|s| {
                        let (status, activities) = hub
                            .presence
                            .session_status(&s)
                            .unwrap_or((Status::Online, Vec::new()));
                        Meta {
                            intents: s.intents.bits(),
                            shard: s.shard,
                            large_threshold: s.large_threshold,
                            client: s.client.to_string(),
                            bot: s.bot(),
                            guilds: s.guilds(),
                            status,
                            activities,
                        }
                    });
                    if let Ok(b) = serde_json::to_vec(&PeekReply { meta }) {
                        let _ = client.publish(reply, Bytes::from(b)).await;
                    }
                }
                "claim" => {
                    let chunks = match s {
                        None => vec![error_chunk("unknown")],
                        Some(s) => {
                            tokio::time::sleep(SETTLE).await;
                            match s.export(req.seq) {
                                Ok(export) => {
                                    hub.handed_off(&s);
                                    info!(action = "GATEWAY_HANDOFF_OUT", session = %s.id, user = %s.user(), events = export.events.len(), "gateway session handed to another node");
                                    chunks_of(export, client.server_info().max_payload)
                                }
                                Err(ResumeRefusal::InvalidSeq) => vec![error_chunk("invalid_seq")],
                                Err(ResumeRefusal::Gap) => {
                                    hub.remove(&s, crate::session::Kick::Invalidated);
                                    vec![error_chunk("gap")]
                                }
                            }
                        }
                    };
                    for c in chunks {
                        if let Err(e) = client.publish(reply.clone(), c).await {
                            warn!(error = %e, "cannot send a session to another node");
                            return;
                        }
                    }
                    let _ = client.flush().await;
                }
                _ => {}
            }
        });
    }
}

fn error_chunk(why: &str) -> Bytes {
    let c = ClaimChunk {
        last: true,
        error: Some(why.into()),
        ..ClaimChunk::default()
    };
    Bytes::from(serde_json::to_vec(&c).unwrap_or_default())
}

/// The claim answer for `export`, in chunks under the payload limit.
fn chunks_of(export: Export, max_payload: usize) -> Vec<Bytes> {
    let limit = CHUNK_BYTES.min(max_payload.saturating_sub(4096)).max(4096);
    let mut out = Vec::new();
    let mut cur = ClaimChunk::default();
    let mut size = 0usize;
    for (seq, d) in export.events {
        let Ok(raw) = RawValue::from_string(d.data.to_string()) else {
            continue;
        };
        let len = raw.get().len() + d.name.len() + 64;
        if size + len > limit && !cur.events.is_empty() {
            out.push(Bytes::from(serde_json::to_vec(&cur).unwrap_or_default()));
            cur = ClaimChunk::default();
            size = 0;
        }
        size += len;
        cur.events.push(WireDispatch {
            s: seq,
            n: d.name.to_string(),
            d: raw,
            k: d.key,
        });
    }
    cur.last = true;
    cur.next_seq = export.next_seq;
    cur.guilds = export.guilds;
    out.push(Bytes::from(serde_json::to_vec(&cur).unwrap_or_default()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_carry_the_node_tag_and_chunks_stay_small() {
        assert!(well_formed("0123456789abcdef0123456789abcdef"));
        assert!(!well_formed("0123456789abcdef0123456789abcde."));
        assert!(!well_formed("nope"));
        let big = "x".repeat(100_000);
        let events = (1..=30)
            .map(|s| (s, Dispatch::raw("T", format!("{{\"v\":\"{big}\"}}"))))
            .collect();
        let chunks = chunks_of(
            Export {
                events,
                next_seq: 31,
                guilds: vec![],
            },
            1024 * 1024,
        );
        assert!(chunks.len() > 1);
        assert!(chunks.iter().all(|c| c.len() <= CHUNK_BYTES + 200_000));
        let last: ClaimChunk = serde_json::from_slice(chunks.last().expect("last")).expect("json");
        assert!(last.last);
        assert_eq!(last.next_seq, 31);
        let total: usize = chunks
            .iter()
            .map(|c| {
                serde_json::from_slice::<ClaimChunk>(c)
                    .expect("json")
                    .events
                    .len()
            })
            .sum();
        assert_eq!(total, 30);
    }
}
