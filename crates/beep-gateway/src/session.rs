//! A gateway session: what IDENTIFY created and RESUME continues. It outlives its
//! connections: when a socket drops, the session stays for the resume window and
//! keeps collecting dispatches.
//!
//! The session's buffer is both the outgoing queue of its connection and the
//! replay log of RESUME: the fan-out appends dispatches (numbering them), the
//! connection sends what is past its cursor, and a heartbeat's sequence number
//! trims what the client has confirmed. A connection that lets more than
//! `max_pending` dispatches pile up is a slow consumer and is told to reconnect; a
//! session whose buffer had to drop dispatches it never delivered can no longer
//! be resumed.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use beep_core::accounts::Principal;
use beep_types::{GuildId, Intents, UserId};
use tokio::sync::Notify;

/// The identity of an event in a cluster: the node that published it, its
/// number there, and which dispatch the gateway made of it (0: the event itself,
/// other values: dispatches derived from it, such as GUILD_DELETE after a kick).
/// Two nodes that receive the same event make dispatches with the same key, which
/// is how a session handed from one node to another is kept free of duplicates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct EventKey(pub u64, pub u64, pub u8);

impl EventKey {
    /// The key of a dispatch derived from this event.
    pub fn derived(self, variant: u8) -> EventKey {
        EventKey(self.0, self.1, variant)
    }
}

/// One dispatch, serialized once and shared by every session that receives it.
#[derive(Debug)]
pub struct Dispatch {
    /// Dispatch name (`t`).
    pub name: &'static str,
    /// The serialized `d`.
    pub data: Box<str>,
    /// The cluster event it came from, if any.
    pub key: Option<EventKey>,
}

impl Dispatch {
    /// A dispatch from a name and an already serialized payload.
    pub fn raw(name: &'static str, data: String) -> Arc<Dispatch> {
        Self::keyed(name, data, None)
    }

    /// A dispatch from a name, a serialized payload and the event it came from.
    pub fn keyed(name: &'static str, data: String, key: Option<EventKey>) -> Arc<Dispatch> {
        Arc::new(Dispatch {
            name,
            data: data.into_boxed_str(),
            key,
        })
    }

    /// A dispatch from a name and a JSON value.
    pub fn json(name: &'static str, data: &serde_json::Value) -> Arc<Dispatch> {
        Self::raw(name, data.to_string())
    }

    /// A dispatch from a name, a JSON value and the event it came from.
    pub fn json_keyed(
        name: &'static str,
        data: &serde_json::Value,
        key: Option<EventKey>,
    ) -> Arc<Dispatch> {
        Self::keyed(name, data.to_string(), key)
    }
}

/// Bounds of a session's buffer.
#[derive(Debug, Clone, Copy)]
pub struct BufferLimits {
    /// Dispatches kept for RESUME (and as the queue of the connection).
    pub capacity: usize,
    /// Undelivered dispatches after which the connection is a slow consumer...
    pub max_pending: usize,
    /// ...if it also took nothing for this long (a burst alone is not slowness).
    pub grace: Duration,
}

/// Why a connection must end while its session lives on (or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kick {
    /// The client reads too slowly: RECONNECT, and it may resume.
    SlowConsumer,
    /// Another connection resumed this session.
    Replaced,
    /// The login behind the session was revoked: close 4004.
    Revoked,
    /// The node is shutting down: RECONNECT.
    Drain,
    /// The session cannot continue (events were lost): INVALID_SESSION.
    Invalidated,
}

/// A session on its way to another node.
#[derive(Debug, Default)]
pub struct Export {
    /// Dispatches the client has not confirmed, with their numbers.
    pub events: Vec<(u64, Arc<Dispatch>)>,
    /// The number the next dispatch gets.
    pub next_seq: u64,
    /// Guilds the session receives.
    pub guilds: Vec<GuildId>,
}

/// Why RESUME was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeRefusal {
    /// The sequence number is ahead of anything sent: close 4007.
    InvalidSeq,
    /// Dispatches after that number are gone: INVALID_SESSION.
    Gap,
}

struct Inner {
    /// Sequence number of the next dispatch.
    next_seq: u64,
    buffer: VecDeque<(u64, Arc<Dispatch>)>,
    /// The highest sequence number that can no longer be replayed.
    floor: u64,
    /// The highest sequence number handed to the current connection.
    delivered: u64,
    /// The connection now attached and how to wake it.
    conn: Option<(u64, Arc<Notify>)>,
    detached_at: Option<Instant>,
    /// Why the attached connection must end.
    kick: Option<Kick>,
    /// When the connection last took dispatches (or had none waiting).
    progress_at: Instant,
    /// Guilds whose events this session receives.
    guilds: HashSet<GuildId>,
    /// Set when the session is over (expired, invalidated, revoked).
    ended: bool,
    /// While a session moves between nodes: the keys of the dispatches it has,
    /// so one that arrives twice (from the old node and from the bus here) is
    /// kept once; dropped once `until` passes.
    dedupe: Option<(HashSet<EventKey>, Instant)>,
}

/// How long after a handoff a session keeps checking dispatches for duplicates.
pub const HANDOFF_DEDUPE: Duration = Duration::from_secs(10);

/// One session.
pub struct Session {
    /// The `session_id` of READY.
    pub id: Arc<str>,
    pub principal: Principal,
    /// The token IDENTIFY gave, to check RESUME and revocation against.
    pub token: String,
    pub intents: Intents,
    /// `[shard_id, num_shards]`.
    pub shard: [u32; 2],
    pub large_threshold: u32,
    /// `client_status` key of the session's presence (`desktop`, `mobile`, `web`).
    pub client: &'static str,
    inner: Mutex<Inner>,
}

/// What IDENTIFY settles about a new session.
#[derive(Debug, Clone)]
pub struct SessionInit {
    pub id: String,
    pub principal: Principal,
    pub token: String,
    pub intents: Intents,
    pub shard: [u32; 2],
    pub large_threshold: u32,
    pub client: &'static str,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user", &self.principal.user_id)
            .field("intents", &self.intents)
            .finish()
    }
}

/// What a connection takes from its session in one go.
#[derive(Debug, Default)]
pub struct Batch {
    pub frames: Vec<(u64, Arc<Dispatch>)>,
    pub kick: Option<Kick>,
}

impl Session {
    /// A new session attached to connection `conn`.
    pub fn new(init: SessionInit, conn: (u64, Arc<Notify>)) -> Arc<Session> {
        Arc::new(Session {
            id: init.id.into(),
            principal: init.principal,
            token: init.token,
            intents: init.intents,
            shard: init.shard,
            large_threshold: init.large_threshold,
            client: init.client,
            inner: Mutex::new(Inner {
                next_seq: 1,
                buffer: VecDeque::new(),
                floor: 0,
                delivered: 0,
                conn: Some(conn),
                detached_at: None,
                kick: None,
                progress_at: Instant::now(),
                guilds: HashSet::new(),
                ended: false,
                dedupe: None,
            }),
        })
    }

    /// A session arriving from another node: no connection yet, and every
    /// dispatch is remembered by key until [`Session::adopt`] merges the old
    /// node's buffer in.
    pub fn arriving(init: SessionInit) -> Arc<Session> {
        let s = Session::new(init, (0, Arc::new(Notify::new())));
        {
            let mut g = s.lock();
            g.conn = None;
            g.detached_at = Some(Instant::now());
            g.dedupe = Some((HashSet::new(), Instant::now() + HANDOFF_DEDUPE));
        }
        s
    }

    /// The user of the session.
    pub fn user(&self) -> UserId {
        self.principal.user_id
    }

    /// Whether the session belongs to a bot.
    pub fn bot(&self) -> bool {
        self.principal.bot
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the buffer half-updated in
        // a way that matters more than losing the session, so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Append a dispatch, numbering it. Returns the sequence number given.
    pub fn push(&self, d: Arc<Dispatch>, limits: BufferLimits) -> u64 {
        let mut g = self.lock();
        if g.ended {
            return 0;
        }
        if let (Some(k), Some((seen, until))) = (d.key, &mut g.dedupe) {
            // Bounded in time and in size: a handoff overlaps by moments.
            if Instant::now() > *until || seen.len() >= 4 * limits.capacity.max(1) {
                g.dedupe = None;
            } else if !seen.insert(k) {
                return 0;
            }
        }
        let seq = g.next_seq;
        g.next_seq += 1;
        g.buffer.push_back((seq, d));
        while g.buffer.len() > limits.capacity.max(1) {
            if let Some((s, _)) = g.buffer.pop_front() {
                g.floor = g.floor.max(s);
            }
        }
        if let Some((_, wake)) = &g.conn {
            let wake = wake.clone();
            let pending = seq.saturating_sub(g.delivered);
            if g.kick.is_none()
                && pending > limits.max_pending as u64
                && g.progress_at.elapsed() >= limits.grace
            {
                g.kick = Some(Kick::SlowConsumer);
            }
            drop(g);
            wake.notify_one();
        }
        seq
    }

    /// Take what connection `conn` should send next (at most `max` frames), and
    /// whether it must end.
    pub fn take(&self, conn: u64, max: usize) -> Batch {
        let mut g = self.lock();
        if g.conn.as_ref().map(|c| c.0) != Some(conn) {
            return Batch {
                frames: Vec::new(),
                kick: Some(Kick::Replaced),
            };
        }
        if let Some(k) = g.kick {
            return Batch {
                frames: Vec::new(),
                kick: Some(k),
            };
        }
        if g.floor > g.delivered {
            // Dispatches were dropped before this connection got them: the
            // session has a hole and cannot go on (nor be resumed).
            return Batch {
                frames: Vec::new(),
                kick: Some(Kick::Invalidated),
            };
        }
        g.progress_at = Instant::now();
        let from = g.delivered;
        let start = first_after(&g.buffer, from);
        let frames: Vec<_> = g.buffer.range(start..).take(max).cloned().collect();
        if let Some((s, _)) = frames.last() {
            g.delivered = *s;
        }
        Batch { frames, kick: None }
    }

    /// The client confirmed every dispatch up to `seq`: they need not be replayed.
    pub fn ack(&self, seq: u64) {
        let mut g = self.lock();
        let upto = seq.min(g.delivered);
        while g.buffer.front().is_some_and(|(s, _)| *s <= upto) {
            g.buffer.pop_front();
        }
        g.floor = g.floor.max(upto);
    }

    /// The last sequence number given.
    pub fn last_seq(&self) -> u64 {
        self.lock().next_seq - 1
    }

    /// Connection `conn` ended; the session waits for a RESUME.
    pub fn detach(&self, conn: u64) {
        let mut g = self.lock();
        if g.conn.as_ref().map(|c| c.0) == Some(conn) {
            g.conn = None;
            g.kick = None;
            g.detached_at = Some(Instant::now());
        }
    }

    /// Attach connection `conn` to continue after `seq`. Any attached connection is
    /// told it was replaced.
    pub fn resume(&self, conn: (u64, Arc<Notify>), seq: u64) -> Result<(), ResumeRefusal> {
        let mut g = self.lock();
        if g.ended {
            return Err(ResumeRefusal::Gap);
        }
        if seq > g.next_seq - 1 {
            return Err(ResumeRefusal::InvalidSeq);
        }
        if seq < g.floor {
            return Err(ResumeRefusal::Gap);
        }
        if let Some((_, old)) = g.conn.take() {
            // The old connection sees it is no longer current on its next take().
            old.notify_one();
        }
        let wake = conn.1.clone();
        g.conn = Some(conn);
        g.kick = None;
        g.delivered = seq;
        g.detached_at = None;
        g.progress_at = Instant::now();
        drop(g);
        wake.notify_one();
        Ok(())
    }

    /// Hand the session over to another node: the dispatches after `seq` (what
    /// the client has not seen), the next sequence number, and its guilds. The
    /// session ends here (its connection, if any, is told it was replaced).
    pub fn export(&self, seq: u64) -> Result<Export, ResumeRefusal> {
        let mut g = self.lock();
        if g.ended {
            return Err(ResumeRefusal::Gap);
        }
        if seq > g.next_seq - 1 {
            return Err(ResumeRefusal::InvalidSeq);
        }
        if seq < g.floor {
            return Err(ResumeRefusal::Gap);
        }
        let out = Export {
            events: g.buffer.iter().filter(|(s, _)| *s > seq).cloned().collect(),
            next_seq: g.next_seq,
            guilds: g.guilds.iter().copied().collect(),
        };
        g.ended = true;
        g.buffer.clear();
        if let Some((_, wake)) = g.conn.take() {
            g.kick = Some(Kick::Replaced);
            drop(g);
            wake.notify_one();
        }
        Ok(out)
    }

    /// Take over what another node exported: its dispatches come first, with
    /// their numbers; dispatches this node collected meanwhile follow (those the
    /// old node also had are dropped), numbered after them. The client confirmed
    /// everything up to `seq`.
    pub fn adopt(&self, from: Export, seq: u64) {
        let mut g = self.lock();
        let mine = std::mem::take(&mut g.buffer);
        let mut seen: HashSet<EventKey> = from.events.iter().filter_map(|(_, d)| d.key).collect();
        g.buffer = from.events.into_iter().collect();
        g.next_seq = from.next_seq.max(1);
        for (_, d) in mine {
            if d.key.is_some_and(|k| !seen.insert(k)) {
                continue;
            }
            let s = g.next_seq;
            g.next_seq += 1;
            g.buffer.push_back((s, d));
        }
        g.floor = seq;
        g.delivered = seq;
        let until = Instant::now() + HANDOFF_DEDUPE;
        g.dedupe = Some((seen, until));
    }

    /// Tell the attached connection to end.
    pub fn kick(&self, why: Kick) {
        let mut g = self.lock();
        if let Some((_, wake)) = &g.conn {
            let wake = wake.clone();
            g.kick = Some(why);
            drop(g);
            wake.notify_one();
        }
    }

    /// End the session: no more dispatches, no RESUME; the attached connection (if
    /// any) is kicked with `why`.
    pub fn end(&self, why: Kick) {
        let mut g = self.lock();
        g.ended = true;
        g.buffer.clear();
        if let Some((_, wake)) = &g.conn {
            let wake = wake.clone();
            g.kick = Some(why);
            drop(g);
            wake.notify_one();
        }
    }

    /// Whether the session is over.
    pub fn ended(&self) -> bool {
        self.lock().ended
    }

    /// Whether no connection has been attached for longer than `window`.
    pub fn expired(&self, now: Instant, window: Duration) -> bool {
        let g = self.lock();
        g.ended
            || g.detached_at
                .is_some_and(|t| now.saturating_duration_since(t) > window)
    }

    /// Whether a connection is attached.
    pub fn attached(&self) -> bool {
        self.lock().conn.is_some()
    }

    /// Start receiving `guild`'s events; false if it already did.
    pub fn add_guild(&self, guild: GuildId) -> bool {
        self.lock().guilds.insert(guild)
    }

    /// Stop receiving `guild`'s events; false if it did not.
    pub fn remove_guild(&self, guild: GuildId) -> bool {
        self.lock().guilds.remove(&guild)
    }

    /// Whether the session receives `guild`'s events.
    pub fn in_guild(&self, guild: GuildId) -> bool {
        self.lock().guilds.contains(&guild)
    }

    /// The guilds whose events the session receives.
    pub fn guilds(&self) -> Vec<GuildId> {
        self.lock().guilds.iter().copied().collect()
    }

    /// Dispatches waiting in the buffer (for metrics and tests).
    pub fn buffered(&self) -> usize {
        self.lock().buffer.len()
    }
}

/// The index of the first dispatch numbered above `seq`. The buffer keeps
/// every unacknowledged dispatch (tens of seconds of them between heartbeats)
/// in order, and numbers follow each other, so the index is computed, not
/// searched: one memory access per wake-up instead of a walk (or a bisection,
/// a cache miss per step across thousands of sessions). A buffer numbered
/// with gaps (none is made today) is bisected.
fn first_after(buffer: &VecDeque<(u64, Arc<Dispatch>)>, seq: u64) -> usize {
    let Some((first, _)) = buffer.front() else {
        return 0;
    };
    if seq < *first {
        return 0;
    }
    let guess = usize::try_from(seq - first + 1).unwrap_or(usize::MAX);
    let exact = match buffer.get(guess) {
        Some((s, _)) => *s == seq + 1,
        None => buffer
            .back()
            .is_some_and(|(s, _)| *s - first + 1 == buffer.len() as u64),
    };
    if exact {
        guess.min(buffer.len())
    } else {
        buffer.partition_point(|(s, _)| *s <= seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_after_finds_the_next_dispatch() {
        let d = Dispatch::raw("X", "{}".into());
        let buf = |seqs: &[u64]| -> VecDeque<(u64, Arc<Dispatch>)> {
            seqs.iter().map(|s| (*s, d.clone())).collect()
        };
        let b = buf(&[5, 6, 7, 8]);
        for (seq, want) in [(0, 0), (4, 0), (5, 1), (7, 3), (8, 4), (100, 4)] {
            assert_eq!(first_after(&b, seq), want, "after {seq}");
        }
        assert_eq!(first_after(&buf(&[]), 3), 0);
        // With gaps, bisection gives the same answers.
        let b = buf(&[2, 3, 9, 10]);
        for (seq, want) in [(1, 0), (2, 1), (3, 2), (5, 2), (9, 3), (10, 4), (11, 4)] {
            assert_eq!(first_after(&b, seq), want, "after {seq}");
        }
    }
    use beep_types::Snowflake;

    fn session(conn: u64) -> (Arc<Session>, Arc<Notify>) {
        let wake = Arc::new(Notify::new());
        let init = SessionInit {
            id: "s".into(),
            principal: Principal {
                user_id: UserId(Snowflake(1)),
                session_id: None,
                bot: true,
            },
            token: "t".into(),
            intents: Intents::all(),
            shard: [0, 1],
            large_threshold: 50,
            client: "web",
        };
        let s = Session::new(init, (conn, wake.clone()));
        (s, wake)
    }

    const L: BufferLimits = BufferLimits {
        capacity: 5,
        max_pending: 3,
        grace: Duration::ZERO,
    };

    fn d(n: &'static str) -> Arc<Dispatch> {
        Dispatch::raw(n, "{}".into())
    }

    #[test]
    fn numbering_delivery_ack_and_resume() {
        let (s, _) = session(1);
        assert_eq!(s.push(d("A"), L), 1);
        assert_eq!(s.push(d("B"), L), 2);
        let b = s.take(1, 10);
        assert_eq!(b.frames.iter().map(|f| f.0).collect::<Vec<_>>(), [1, 2]);
        assert!(s.take(1, 10).frames.is_empty());
        s.ack(1);
        s.detach(1);
        s.push(d("C"), L);
        // A new connection resumes from 1: 2 and 3 are replayed.
        let w2 = Arc::new(Notify::new());
        assert_eq!(s.resume((2, w2.clone()), 9), Err(ResumeRefusal::InvalidSeq));
        assert_eq!(s.resume((2, w2.clone()), 0), Err(ResumeRefusal::Gap));
        s.resume((2, w2), 1).expect("resume");
        let b = s.take(2, 10);
        assert_eq!(b.frames.iter().map(|f| f.0).collect::<Vec<_>>(), [2, 3]);
        assert_eq!(s.take(1, 10).kick, Some(Kick::Replaced));
    }

    fn k(d: &str, n: u64) -> Arc<Dispatch> {
        Dispatch::keyed("E", format!("{{\"n\":\"{d}\"}}"), Some(EventKey(9, n, 0)))
    }

    #[test]
    fn a_session_moves_without_gaps_or_repeats() {
        // The old node: dispatches 1..=4, the client saw up to 2.
        let (old, _) = session(1);
        for n in 1..=4 {
            old.push(k("x", n), L);
        }
        assert_eq!(old.export(9).err(), Some(ResumeRefusal::InvalidSeq));
        let out = old.export(2).expect("export");
        assert!(old.ended());
        assert_eq!(out.next_seq, 5);
        assert_eq!(out.events.iter().map(|e| e.0).collect::<Vec<_>>(), [3, 4]);
        // The new node already got events 4 and 5 from the bus.
        let (fresh, _) = session(7);
        let init = SessionInit {
            id: "s".into(),
            principal: fresh.principal,
            token: "t".into(),
            intents: Intents::all(),
            shard: [0, 1],
            large_threshold: 50,
            client: "web",
        };
        let new = Session::arriving(init);
        new.push(k("x", 4), L);
        new.push(k("x", 5), L);
        new.adopt(out, 2);
        // Event 5 arrives late from the old node's side: dropped.
        assert_eq!(new.push(k("x", 5), L), 0);
        new.push(k("x", 6), L);
        let w = Arc::new(Notify::new());
        new.resume((1, w), 2).expect("resume");
        let b = new.take(1, 10);
        let got: Vec<(u64, Option<EventKey>)> = b.frames.iter().map(|(s, d)| (*s, d.key)).collect();
        assert_eq!(
            got,
            [
                (3, Some(EventKey(9, 3, 0))),
                (4, Some(EventKey(9, 4, 0))),
                (5, Some(EventKey(9, 5, 0))),
                (6, Some(EventKey(9, 6, 0))),
            ]
        );
    }

    #[test]
    fn slow_consumers_are_kicked_and_overflow_breaks_resume() {
        let (s, _) = session(1);
        for _ in 0..4 {
            s.push(d("X"), L);
        }
        assert_eq!(s.take(1, 10).kick, Some(Kick::SlowConsumer));
        s.detach(1);
        for _ in 0..4 {
            s.push(d("Y"), L);
        }
        // Eight pushed, five kept: 1..=3 are gone.
        let w = Arc::new(Notify::new());
        assert_eq!(s.resume((3, w.clone()), 2), Err(ResumeRefusal::Gap));
        s.resume((3, w), 3).expect("resume after the floor");
        assert_eq!(s.take(3, 10).frames.len(), 5);
    }
}
