//! The hub of one node: the registry of sessions, the dispatcher that reads the
//! event bus, and one actor per guild that has sessions here.
//!
//! The dispatcher only routes: events for users go straight into those users'
//! sessions; events for a guild go to that guild's actor. The actor keeps what it
//! needs to decide who may see what (roles, overwrites, the roles of the local
//! members) and reloads it from the directory whenever an event may have changed
//! it, so role, overwrite, kick, ban and leave take effect for live sessions
//! without reconnecting. Each event is serialized once per variant (with or
//! without message content) and the same bytes go to every session.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use beep_core::events::{Audience, Event, EventBus, Topic};
use beep_types::{GuildId, Intents, Permissions, UserId};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tracing::{debug, error, warn};

use crate::GatewayConfig;
use crate::directory::{Directory, GuildAccess, MemberQuery};
use crate::presence::Presences;
use crate::protocol::{self, RequestGuildMembers};
use crate::session::{BufferLimits, Dispatch, EventKey, Kick, Session};

/// Where the dispatcher reads events: the node's bus, or in a cluster the NATS
/// bus with each event's identity.
pub(crate) enum Source {
    Plain(broadcast::Receiver<Arc<Event>>),
    Keyed(broadcast::Receiver<(EventKey, Arc<Event>)>),
}

impl Source {
    async fn recv(
        &mut self,
    ) -> Result<(Option<EventKey>, Arc<Event>), broadcast::error::RecvError> {
        match self {
            Source::Plain(rx) => rx.recv().await.map(|e| (None, e)),
            Source::Keyed(rx) => rx.recv().await.map(|(k, e)| (Some(k), e)),
        }
    }
}

/// Events after which a guild actor reloads who may see what.
const ACCESS_EVENTS: &[&str] = &[
    "GUILD_UPDATE",
    "GUILD_ROLE_CREATE",
    "GUILD_ROLE_UPDATE",
    "GUILD_ROLE_DELETE",
    "CHANNEL_CREATE",
    "CHANNEL_UPDATE",
    "CHANNEL_DELETE",
    "GUILD_MEMBER_ADD",
    "GUILD_MEMBER_UPDATE",
    "GUILD_MEMBER_REMOVE",
    "GUILD_BAN_ADD",
];

/// Events after which members may see other channels than before (they get
/// CHANNEL_CREATE / CHANNEL_DELETE for the difference).
const REVEAL_EVENTS: &[&str] = &[
    "GUILD_UPDATE",
    "GUILD_ROLE_CREATE",
    "GUILD_ROLE_UPDATE",
    "GUILD_ROLE_DELETE",
    "CHANNEL_UPDATE",
    "GUILD_MEMBER_UPDATE",
];

/// Channels shown and hidden, per member.
type ViewChanges = HashMap<UserId, (Vec<beep_types::ChannelId>, Vec<beep_types::ChannelId>)>;

/// Events about a channel that those who could see it before the change must get
/// too (a channel hidden or deleted is announced to those who saw it).
const CHANNEL_EVENTS: &[&str] = &["CHANNEL_UPDATE", "CHANNEL_DELETE"];

/// Messages to a guild actor.
enum GuildMsg {
    Event(Arc<Event>, Option<EventKey>),
    /// A session that moved here from another node starts receiving the guild
    /// (no GUILD_CREATE: its client has the guild already).
    Adopt(Arc<Session>),
    /// A session starts receiving the guild: send it GUILD_CREATE.
    Attach(Arc<Session>),
    /// A session ended.
    Detach(Arc<str>),
    /// REQUEST_GUILD_MEMBERS from a session.
    Members(Arc<Session>, Arc<RequestGuildMembers>),
}

struct GuildHandle {
    tx: mpsc::UnboundedSender<GuildMsg>,
    generation: u64,
}

#[derive(Default)]
struct Registry {
    sessions: HashMap<Arc<str>, Arc<Session>>,
    by_user: HashMap<UserId, Vec<Arc<Session>>>,
    guilds: HashMap<GuildId, GuildHandle>,
    /// Whom each user with a session here blocked (kept current by the
    /// RELATIONSHIP_* events), so presence fan-out asks nothing per recipient.
    blocks: HashMap<UserId, Arc<HashSet<UserId>>>,
}

/// The hub of one node.
pub struct Hub {
    pub(crate) dir: Arc<dyn Directory>,
    pub(crate) bus: Arc<dyn EventBus>,
    pub(crate) cfg: Arc<GatewayConfig>,
    pub(crate) presence: Presences,
    reg: Mutex<Registry>,
    next_conn: AtomicU64,
    next_generation: AtomicU64,
    pub(crate) draining: AtomicBool,
    /// Session handoff between nodes (cluster mode).
    pub(crate) cluster: std::sync::OnceLock<Arc<crate::handoff::Cluster>>,
    /// Connections currently open (for drain and metrics).
    pub(crate) open: AtomicU64,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub over a directory and a bus.
    pub fn new(
        dir: Arc<dyn Directory>,
        bus: Arc<dyn EventBus>,
        cfg: Arc<GatewayConfig>,
        presence: Presences,
    ) -> Arc<Hub> {
        Arc::new(Hub {
            dir,
            bus,
            cfg,
            presence,
            reg: Mutex::new(Registry::default()),
            next_conn: AtomicU64::new(1),
            next_generation: AtomicU64::new(1),
            draining: AtomicBool::new(false),
            cluster: std::sync::OnceLock::new(),
            open: AtomicU64::new(0),
        })
    }

    fn reg(&self) -> MutexGuard<'_, Registry> {
        self.reg.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session id (in a cluster, one that tells which node made it).
    pub fn new_session_id(&self) -> String {
        match self.cluster.get() {
            Some(c) => c.new_session_id(),
            None => protocol::new_session_id(),
        }
    }

    /// Sessions still held here (for drain).
    pub(crate) fn live_sessions(&self) -> usize {
        self.reg().sessions.len()
    }

    /// A fresh connection id.
    pub fn conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn limits(&self) -> BufferLimits {
        BufferLimits {
            capacity: self.cfg.resume_buffer,
            max_pending: self.cfg.max_pending,
            grace: Duration::from_secs(self.cfg.write_timeout_secs.max(1)),
        }
    }

    /// The session with this id, if it lives here.
    pub fn session(&self, id: &str) -> Option<Arc<Session>> {
        self.reg().sessions.get(id).cloned()
    }

    /// Live sessions of a user on this node.
    pub fn sessions_of(&self, user: UserId) -> Vec<Arc<Session>> {
        self.reg().by_user.get(&user).cloned().unwrap_or_default()
    }

    /// Every session on this node.
    pub fn all_sessions(&self) -> Vec<Arc<Session>> {
        self.reg().sessions.values().cloned().collect()
    }

    /// Register a new session (its READY is already in its buffer) and start
    /// sending it the events of `guilds` (those of its shard), each preceded by
    /// its GUILD_CREATE.
    pub fn register(self: &Arc<Self>, s: &Arc<Session>, guilds: &[GuildId]) {
        let first = {
            let mut reg = self.reg();
            reg.sessions.insert(s.id.clone(), s.clone());
            let list = reg.by_user.entry(s.user()).or_default();
            list.push(s.clone());
            list.len() == 1
        };
        if first {
            self.bus.set_interest(Topic::User(s.user()), true);
            let (dir, user) = (self.dir.clone(), s.user());
            tokio::spawn(async move { dir.users_online(&[user]).await });
            self.load_blocks(s.user());
        }
        metrics::gauge!("beep_gateway_sessions").increment(1.0);
        for g in guilds {
            self.attach(s, *g);
        }
    }

    /// (Re)load whom `user` blocked, in the background.
    fn load_blocks(self: &Arc<Self>, user: UserId) {
        let hub = self.clone();
        tokio::spawn(async move {
            match hub.dir.blocked_by(user).await {
                Ok(b) => {
                    let mut reg = hub.reg();
                    if reg.by_user.contains_key(&user) {
                        reg.blocks.insert(user, Arc::new(b));
                    }
                }
                Err(e) => warn!(user = %user, error = %e, "cannot load a user's blocks"),
            }
        });
    }

    /// After a RELATIONSHIP_* event to `user` about `other`: a new friend's
    /// presence (no `guild_id`, as Discord sends friends'), or an offline one to
    /// whichever side no longer may see the other (unfriended or blocked, and no
    /// shared guild without a block). Only sessions on this node are told; the
    /// presence EventSource streams about either user re-check who may watch.
    fn relationship_presence(
        self: &Arc<Self>,
        user: UserId,
        other: UserId,
        name: &'static str,
        kind: Option<u64>,
    ) {
        const FRIEND: u64 = 1;
        const BLOCKED: u64 = 2;
        let hub = self.clone();
        tokio::spawn(async move {
            let pairs: Vec<(UserId, UserId, bool)> = match (name, kind) {
                ("RELATIONSHIP_ADD", Some(FRIEND)) => vec![(user, other, true)],
                // The blocked side hears nothing of a block: tell it here too.
                ("RELATIONSHIP_ADD", Some(BLOCKED)) => {
                    vec![(user, other, false), (other, user, false)]
                }
                ("RELATIONSHIP_REMOVE", Some(FRIEND)) => vec![(user, other, false)],
                _ => Vec::new(),
            };
            for (viewer, target, befriended) in pairs {
                if hub.sessions_of(viewer).is_empty() {
                    continue;
                }
                let visible = match hub.dir.may_see_presence(viewer, target).await {
                    Ok(v) => v,
                    Err(err) => {
                        warn!(user = %viewer, error = %err, "cannot check presence visibility");
                        continue;
                    }
                };
                let view = hub.presence.get(target);
                let data = if befriended && visible {
                    if view.status == protocol::Status::Offline {
                        continue;
                    }
                    crate::presence::update_json(&view)
                } else if !befriended && !visible {
                    let mut gone = view.clone();
                    gone.status = protocol::Status::Offline;
                    gone.activities = Vec::new();
                    gone.client_status = json!({});
                    crate::presence::update_json(&gone)
                } else {
                    continue;
                };
                let e = Event {
                    name: "PRESENCE_UPDATE",
                    data,
                    audience: Audience::Users(vec![viewer]),
                    intent: Some(Intents::GUILD_PRESENCES.bits() as u32),
                };
                hub.deliver_to_users(&e, &[viewer], None);
            }
            hub.presence.nudge(user);
            hub.presence.nudge(other);
        });
    }

    /// Of `candidates`, those who blocked `subject` or whom `subject` blocked.
    /// The block lists of users with sessions here are cached; those of others
    /// who are online (on other nodes) are asked for.
    pub(crate) async fn presence_hidden(
        &self,
        subject: UserId,
        candidates: &[UserId],
    ) -> HashSet<UserId> {
        let (mine, mut theirs, unknown) = {
            let reg = self.reg();
            let mut theirs = HashSet::new();
            let mut unknown = Vec::new();
            for c in candidates {
                match reg.blocks.get(c) {
                    Some(b) if b.contains(&subject) => {
                        theirs.insert(*c);
                    }
                    Some(_) => {}
                    None => unknown.push(*c),
                }
            }
            (reg.blocks.get(&subject).cloned(), theirs, unknown)
        };
        for c in unknown {
            if c == subject || self.presence.get(c).status == crate::protocol::Status::Offline {
                continue;
            }
            match self.dir.blocked_by(c).await {
                Ok(b) if b.contains(&subject) => {
                    theirs.insert(c);
                }
                Ok(_) => {}
                Err(_) => {
                    theirs.insert(c);
                }
            }
        }
        let mine = match mine {
            Some(m) => m,
            None => match self.dir.blocked_by(subject).await {
                Ok(m) => Arc::new(m),
                Err(e) => {
                    // Safer to show nobody than to show the blocked.
                    warn!(user = %subject, error = %e, "cannot check blocks for a presence");
                    return candidates.iter().copied().collect();
                }
            },
        };
        let mut out = theirs;
        out.extend(candidates.iter().filter(|c| mine.contains(c)).copied());
        out
    }

    /// Register a session arriving from another node: it receives `guilds` at once,
    /// without GUILD_CREATE. Interest in its user and guilds is asked for here.
    pub(crate) fn register_arriving(self: &Arc<Self>, s: &Arc<Session>, guilds: &[GuildId]) {
        let first = {
            let mut reg = self.reg();
            reg.sessions.insert(s.id.clone(), s.clone());
            let list = reg.by_user.entry(s.user()).or_default();
            list.push(s.clone());
            list.len() == 1
        };
        self.bus.set_interest(Topic::User(s.user()), true);
        if first {
            let (dir, user) = (self.dir.clone(), s.user());
            tokio::spawn(async move { dir.users_online(&[user]).await });
            self.load_blocks(s.user());
        }
        metrics::gauge!("beep_gateway_sessions").increment(1.0);
        for g in guilds {
            self.adopt_guild(s, *g);
        }
    }

    /// Start sending `guild`'s events to an arriving session (no GUILD_CREATE).
    pub(crate) fn adopt_guild(self: &Arc<Self>, s: &Arc<Session>, guild: GuildId) {
        if protocol::shard_of(guild, s.shard[1]) != s.shard[0] || !s.add_guild(guild) {
            return;
        }
        self.to_guild(guild, GuildMsg::Adopt(s.clone()), true);
    }

    /// Stop sending `guild`'s events to `s` (quietly).
    pub(crate) fn drop_guild(self: &Arc<Self>, s: &Arc<Session>, guild: GuildId) {
        if s.remove_guild(guild) {
            self.to_guild(guild, GuildMsg::Detach(s.id.clone()), false);
        }
    }

    /// Start sending `guild`'s events to `s` (if the guild is in its shard).
    fn attach(self: &Arc<Self>, s: &Arc<Session>, guild: GuildId) {
        if protocol::shard_of(guild, s.shard[1]) != s.shard[0] || !s.add_guild(guild) {
            return;
        }
        self.to_guild(guild, GuildMsg::Attach(s.clone()), true);
    }

    /// Send a message to a guild's actor, starting it if `start` and needed.
    fn to_guild(self: &Arc<Self>, guild: GuildId, msg: GuildMsg, start: bool) {
        let mut reg = self.reg();
        let msg = match reg.guilds.get(&guild) {
            Some(h) => match h.tx.send(msg) {
                Ok(()) => return,
                Err(mpsc::error::SendError(msg)) => {
                    // The actor stopped without unregistering (it panicked): start anew.
                    reg.guilds.remove(&guild);
                    msg
                }
            },
            None if !start => return,
            None => msg,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let _ = tx.send(msg);
        reg.guilds.insert(guild, GuildHandle { tx, generation });
        drop(reg);
        self.bus.set_interest(Topic::Guild(guild), true);
        let actor = GuildActor {
            id: guild,
            hub: self.clone(),
            sessions: Vec::new(),
            access: None,
            generation,
        };
        tokio::spawn(actor.run(rx));
    }

    /// Remove a session for good (expired, invalidated, revoked, or closed by the
    /// client with 1000/1001).
    pub fn remove(self: &Arc<Self>, s: &Arc<Session>, why: Kick) {
        self.unregister(s, why, true);
    }

    /// Remove a session that moved to another node: its user is not offline.
    pub(crate) fn handed_off(self: &Arc<Self>, s: &Arc<Session>) {
        self.unregister(s, Kick::Replaced, false);
    }

    fn unregister(self: &Arc<Self>, s: &Arc<Session>, why: Kick, offline_hook: bool) {
        s.end(why);
        if let Some(c) = self.cluster.get() {
            c.forget(&s.id);
        }
        let last = {
            let mut reg = self.reg();
            if reg.sessions.remove(&s.id).is_none() {
                return;
            }
            let mut last = false;
            if let Some(list) = reg.by_user.get_mut(&s.user()) {
                list.retain(|x| !Arc::ptr_eq(x, s));
                if list.is_empty() {
                    reg.by_user.remove(&s.user());
                    reg.blocks.remove(&s.user());
                    last = true;
                }
            }
            last
        };
        metrics::gauge!("beep_gateway_sessions").decrement(1.0);
        for g in s.guilds() {
            self.to_guild(g, GuildMsg::Detach(s.id.clone()), false);
        }
        if last {
            self.bus.set_interest(Topic::User(s.user()), false);
        }
        let hub = self.clone();
        let s = s.clone();
        tokio::spawn(async move {
            hub.presence.session_gone(&hub, &s).await;
            if last && offline_hook {
                hub.dir.user_went_offline(s.user()).await;
            }
        });
    }

    /// Forward REQUEST_GUILD_MEMBERS to the guild's actor.
    pub fn request_members(self: &Arc<Self>, s: &Arc<Session>, req: Arc<RequestGuildMembers>) {
        for g in req.guild_id.clone().into_vec() {
            if s.in_guild(g) {
                self.to_guild(g, GuildMsg::Members(s.clone(), req.clone()), false);
            } else {
                // Discord answers for guilds the session does not have with nothing.
                debug!(guild = %g, "member request for a guild the session does not receive");
            }
        }
    }

    /// Read the bus until it closes; started once per node.
    pub(crate) async fn run_dispatcher(self: Arc<Self>, mut rx: Source) {
        loop {
            match rx.recv().await {
                Ok((key, e)) => self.route(e, key),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    // Events were lost: sessions cannot be trusted to be complete.
                    // They re-identify and start from fresh state.
                    error!(
                        lost = n,
                        "the gateway fell behind the event bus; ending every session"
                    );
                    metrics::counter!("beep_gateway_bus_lagged_total").increment(1);
                    for s in self.all_sessions() {
                        self.remove(&s, Kick::Invalidated);
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    }

    /// Route one event.
    fn route(self: &Arc<Self>, e: Arc<Event>, key: Option<EventKey>) {
        metrics::counter!("beep_gateway_events_total").increment(1);
        if e.name == "SESSION_REVOKED" {
            return self.revoke(&e);
        }
        if e.name.starts_with("RELATIONSHIP_")
            && let Audience::Users(users) = &e.audience
        {
            // A block made or lifted: what presence these users may see changes.
            for u in users {
                if self.reg().by_user.contains_key(u) {
                    self.load_blocks(*u);
                }
            }
            if let Some(other) = protocol::id_of(&e.data["id"]).map(UserId) {
                for u in users {
                    self.relationship_presence(*u, other, e.name, e.data["type"].as_u64());
                }
            }
        }
        match &e.audience {
            Audience::Users(users) => {
                if e.name == "GUILD_CREATE" {
                    // A guild created by (or given to) these users: the gateway builds
                    // each user's own GUILD_CREATE.
                    if let Some(g) = protocol::id_of(&e.data["id"]).map(GuildId) {
                        for u in users {
                            for s in self.sessions_of(*u) {
                                self.attach(&s, g);
                            }
                        }
                    }
                    return;
                }
                if e.name == "GUILD_DELETE"
                    && let Some(g) = protocol::id_of(&e.data["id"]).map(GuildId)
                {
                    // A member gone (left, kicked, banned): it hears GUILD_DELETE
                    // once (its guild actor may have told it already) and stops
                    // receiving the guild.
                    let limits = self.limits();
                    let d = Dispatch::json_keyed(e.name, &e.data, key);
                    for u in users {
                        for s in self.sessions_of(*u) {
                            if s.remove_guild(g) {
                                s.push(d.clone(), limits);
                                self.to_guild(g, GuildMsg::Detach(s.id.clone()), false);
                            }
                        }
                    }
                    return;
                }
                self.deliver_to_users(&e, users, key);
            }
            Audience::Guild { guild_id, .. } => {
                let guild = *guild_id;
                let joined = (e.name == "GUILD_MEMBER_ADD")
                    .then(|| protocol::id_of(&e.data["user"]["id"]).map(UserId))
                    .flatten();
                if e.name == "GUILD_CREATE" {
                    if let Some(owner) = protocol::id_of(&e.data["owner_id"]).map(UserId) {
                        for s in self.sessions_of(owner) {
                            self.attach(&s, guild);
                        }
                    }
                    return;
                }
                self.to_guild(guild, GuildMsg::Event(e, key), false);
                if let Some(u) = joined {
                    for s in self.sessions_of(u) {
                        self.attach(&s, guild);
                    }
                }
            }
        }
    }

    /// Deliver a user-addressed event to those users' sessions here.
    fn deliver_to_users(&self, e: &Event, users: &[UserId], key: Option<EventKey>) {
        let mut once: Option<Arc<Dispatch>> = None;
        let mut reached: Vec<UserId> = Vec::new();
        let limits = self.limits();
        for u in users {
            for s in self.sessions_of(*u) {
                if !intent_allows(e, &s) || s.shard[0] != 0 {
                    continue;
                }
                let d = once.get_or_insert_with(|| Dispatch::json_keyed(e.name, &e.data, key));
                s.push(d.clone(), limits);
                if s.attached() {
                    reached.push(*u);
                }
            }
        }
        // Delivery receipts: a private channel's message reached these users.
        if e.name == "MESSAGE_CREATE" && e.data.get("guild_id").is_none_or(|g| g.is_null()) {
            reached.dedup();
            if !reached.is_empty() {
                self.dir.message_delivered(&e.data, reached);
            }
        }
    }

    /// Renew the presence leases of every user with a session here, every
    /// `every`; runs until the hub is dropped.
    pub async fn run_leases(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let mut users: Vec<UserId> = self.reg().by_user.keys().copied().collect();
            users.sort();
            self.dir.users_online(&users).await;
        }
    }

    /// SESSION_REVOKED: `{"user_id", "session_id"}` (`session_id` null: every
    /// session of the user, e.g. after a password change).
    fn revoke(self: &Arc<Self>, e: &Event) {
        let Audience::Users(users) = &e.audience else {
            return;
        };
        let sid = protocol::id_of(&e.data["session_id"]);
        for u in users {
            for s in self.sessions_of(*u) {
                let matches = match (sid, s.principal.session_id) {
                    (None, _) => true,
                    (Some(a), Some(b)) => a == b.0,
                    (Some(_), None) => false,
                };
                if matches {
                    self.remove(&s, Kick::Revoked);
                }
            }
        }
    }

    /// End sessions whose resume window passed; runs until the hub is dropped.
    pub async fn run_reaper(self: Arc<Self>) {
        let window = Duration::from_secs(self.cfg.resume_window_secs);
        let mut tick = tokio::time::interval(
            Duration::from_secs(1)
                .min(window / 4)
                .max(Duration::from_millis(50)),
        );
        loop {
            tick.tick().await;
            let now = Instant::now();
            for s in self.all_sessions() {
                if s.expired(now, window) {
                    self.remove(&s, Kick::Invalidated);
                }
            }
        }
    }

    /// Whether this guild has an actor here (for tests and metrics).
    pub fn has_guild(&self, g: GuildId) -> bool {
        self.reg().guilds.contains_key(&g)
    }
}

/// The permission an event needs beyond seeing its channel (or being a member):
/// the audit log is for those who may view it, invites for channel managers.
fn required_permission(name: &str) -> Permissions {
    match name {
        "GUILD_AUDIT_LOG_ENTRY_CREATE" => Permissions::VIEW_AUDIT_LOG,
        "INVITE_CREATE" | "INVITE_DELETE" => Permissions::MANAGE_CHANNELS,
        _ => Permissions::empty(),
    }
}

/// Whether the session's intents let the event through.
fn intent_allows(e: &Event, s: &Session) -> bool {
    match e.intent {
        None => true,
        Some(bits) => s
            .intents
            .intersects(Intents::from_bits_truncate(u64::from(bits))),
    }
}

/// Whether the session must get the message without its content: a bot without
/// MESSAGE_CONTENT, for a guild message it did not write and is not mentioned in.
fn blank_content_for(e: &Event, s: &Session) -> bool {
    if !matches!(e.name, "MESSAGE_CREATE" | "MESSAGE_UPDATE")
        || !s.bot()
        || s.intents.contains(Intents::MESSAGE_CONTENT)
    {
        return false;
    }
    let me = s.user().0;
    let author = protocol::id_of(&e.data["author"]["id"]);
    let mentioned = e.data["mentions"]
        .as_array()
        .is_some_and(|m| m.iter().any(|u| protocol::id_of(&u["id"]) == Some(me)));
    author != Some(me) && !mentioned
}

/// The message without what MESSAGE_CONTENT guards.
fn blanked(data: &Value) -> Value {
    let mut v = data.clone();
    if let Some(o) = v.as_object_mut() {
        for (k, empty) in [
            ("content", json!("")),
            ("embeds", json!([])),
            ("attachments", json!([])),
            ("components", json!([])),
        ] {
            if o.contains_key(k) {
                o.insert(k.to_string(), empty);
            }
        }
        o.remove("poll");
    }
    v
}

/// The actor of one guild on this node.
struct GuildActor {
    id: GuildId,
    hub: Arc<Hub>,
    sessions: Vec<Arc<Session>>,
    access: Option<GuildAccess>,
    generation: u64,
}

impl GuildActor {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<GuildMsg>) {
        loop {
            let msg = match rx.try_recv() {
                Ok(m) => m,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if self.sessions.is_empty() && self.try_stop(&mut rx) {
                        break;
                    }
                    match rx.recv().await {
                        Some(m) => m,
                        None => break,
                    }
                }
            };
            match msg {
                GuildMsg::Attach(s) => self.attach(s).await,
                GuildMsg::Adopt(s) => {
                    if !s.ended() && !self.sessions.iter().any(|x| Arc::ptr_eq(x, &s)) {
                        self.sessions.push(s);
                        self.reload().await;
                    }
                }
                GuildMsg::Detach(id) => self.sessions.retain(|s| s.id != id),
                GuildMsg::Event(e, key) => self.event(e, key).await,
                GuildMsg::Members(s, req) => self.members(&s, &req).await,
            }
        }
    }

    /// Unregister when idle; false when a message arrived meanwhile.
    fn try_stop(&self, rx: &mut mpsc::UnboundedReceiver<GuildMsg>) -> bool {
        let mut reg = self.hub.reg();
        // Under the registry lock nobody can send: an empty queue now stays empty.
        if !rx.is_empty() {
            return false;
        }
        if reg.guilds.get(&self.id).map(|h| h.generation) == Some(self.generation) {
            reg.guilds.remove(&self.id);
        }
        drop(reg);
        self.hub.bus.set_interest(Topic::Guild(self.id), false);
        true
    }

    fn users(&self) -> Vec<UserId> {
        let mut v: Vec<UserId> = self.sessions.iter().map(|s| s.user()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Reload who may see what for every local member.
    async fn reload(&mut self) {
        let users = self.users();
        match self.hub.dir.guild_access(self.id, &users).await {
            Ok(a) => self.access = a,
            Err(e) => {
                warn!(guild = %self.id, error = %e, "cannot reload guild access; keeping the previous view")
            }
        }
    }

    async fn attach(&mut self, s: Arc<Session>) {
        if s.ended() || !s.in_guild(self.id) {
            return;
        }
        let limit = if s.intents.contains(Intents::GUILD_MEMBERS) || !s.bot() {
            s.large_threshold
        } else {
            // Without GUILD_MEMBERS a bot only gets itself, as on Discord.
            0
        };
        let snap = match self.hub.dir.guild_snapshot(self.id, s.user(), limit).await {
            Ok(Some(snap)) => snap,
            Ok(None) => {
                s.remove_guild(self.id);
                return;
            }
            Err(e) => {
                warn!(guild = %self.id, error = %e, "cannot load a guild for GUILD_CREATE");
                let d = json!({"id": self.id, "unavailable": true});
                s.push(Dispatch::json("GUILD_CREATE", &d), self.hub.limits());
                return;
            }
        };
        if !self.sessions.iter().any(|x| Arc::ptr_eq(x, &s)) {
            self.sessions.push(s.clone());
        }
        self.reload().await;
        let payload = crate::ready::guild_create(&self.hub, &s, self.id, snap).await;
        s.push(Dispatch::json("GUILD_CREATE", &payload), self.hub.limits());
    }

    async fn event(&mut self, e: Arc<Event>, key: Option<EventKey>) {
        let Audience::Guild { channel_id, .. } = &e.audience else {
            return;
        };
        if e.name == "GUILD_DELETE" {
            // The guild is gone: everyone here hears it, then nobody receives it.
            let d = Dispatch::json_keyed(e.name, &e.data, key);
            for s in std::mem::take(&mut self.sessions) {
                if s.remove_guild(self.id) {
                    s.push(d.clone(), self.hub.limits());
                }
            }
            self.access = None;
            return;
        }
        let before: HashSet<UserId> = match (channel_id, &self.access) {
            (Some(ch), Some(a)) if CHANNEL_EVENTS.contains(&e.name) => self
                .users()
                .into_iter()
                .filter(|u| a.can_view(*u, *ch))
                .collect(),
            _ => HashSet::new(),
        };
        // What each member here could see before a change of access, to tell
        // them of channels it reveals or hides.
        let views_before = match &self.access {
            Some(a) if REVEAL_EVENTS.contains(&e.name) => Some(self.views(a)),
            _ => None,
        };
        if self.access.is_none() || ACCESS_EVENTS.contains(&e.name) {
            self.reload().await;
        }
        let changed = match (&views_before, &self.access) {
            (Some(b), Some(a)) => self.view_changes(b, a),
            _ => HashMap::new(),
        };
        // A channel update that hides or reveals the channel itself is, for those
        // members, its deletion or creation.
        let skip: HashSet<UserId> = match (e.name, channel_id) {
            ("CHANNEL_UPDATE", Some(ch)) => changed
                .iter()
                .filter(|(_, (shown, hidden))| shown.contains(ch) || hidden.contains(ch))
                .map(|(u, _)| *u)
                .collect(),
            // A presence never reaches those blocked by, or blocking, its user.
            ("PRESENCE_UPDATE", _) => match protocol::id_of(&e.data["user"]["id"]).map(UserId) {
                Some(subject) => self.presence_hidden(subject).await,
                None => HashSet::new(),
            },
            _ => HashSet::new(),
        };
        self.deliver(&e, *channel_id, &before, key, &skip);
        if !changed.is_empty() {
            self.announce_view_changes(changed).await;
        }
        self.drop_non_members(key);
    }

    /// Local members who must not see `subject`'s presence (blocks).
    async fn presence_hidden(&self, subject: UserId) -> HashSet<UserId> {
        self.hub.presence_hidden(subject, &self.users()).await
    }

    /// The channels each local member may view.
    fn views(&self, a: &GuildAccess) -> HashMap<UserId, HashSet<beep_types::ChannelId>> {
        self.users()
            .into_iter()
            .filter(|u| a.is_member(*u))
            .map(|u| (u, a.visible(u)))
            .collect()
    }

    /// Per member still here: channels now shown and channels now hidden.
    fn view_changes(
        &self,
        before: &HashMap<UserId, HashSet<beep_types::ChannelId>>,
        after: &GuildAccess,
    ) -> ViewChanges {
        let mut out = HashMap::new();
        for (u, was) in before {
            if !after.is_member(*u) {
                continue;
            }
            let now = after.visible(*u);
            let shown: Vec<_> = now.difference(was).copied().collect();
            let hidden: Vec<_> = was
                .difference(&now)
                .filter(|c| after.channels.contains_key(*c))
                .copied()
                .collect();
            if !shown.is_empty() || !hidden.is_empty() {
                out.insert(*u, (shown, hidden));
            }
        }
        out
    }

    /// CHANNEL_CREATE for channels a member may now see, CHANNEL_DELETE for those
    /// it may no longer see, to that member's sessions (GUILDS intent).
    async fn announce_view_changes(&self, changed: ViewChanges) {
        let Some(owner) = self.access.as_ref().map(|a| a.ctx.owner_id) else {
            return;
        };
        let objects: HashMap<beep_types::ChannelId, Value> = match self
            .hub
            .dir
            .guild_channels(self.id, owner)
            .await
        {
            Ok(list) => list
                .into_iter()
                .filter_map(|c| protocol::id_of(&c["id"]).map(|id| (beep_types::ChannelId(id), c)))
                .collect(),
            Err(e) => {
                warn!(guild = %self.id, error = %e, "cannot load channels to announce a change of view");
                return;
            }
        };
        let limits = self.hub.limits();
        let mut made: HashMap<(bool, beep_types::ChannelId), Arc<Dispatch>> = HashMap::new();
        for s in &self.sessions {
            if !s.intents.contains(Intents::GUILDS) || !s.in_guild(self.id) {
                continue;
            }
            let Some((shown, hidden)) = changed.get(&s.user()) else {
                continue;
            };
            for (create, list) in [(true, shown), (false, hidden)] {
                for ch in list {
                    let Some(obj) = objects.get(ch) else { continue };
                    let d = made.entry((create, *ch)).or_insert_with(|| {
                        let name = if create {
                            "CHANNEL_CREATE"
                        } else {
                            "CHANNEL_DELETE"
                        };
                        Dispatch::json(name, obj)
                    });
                    s.push(d.clone(), limits);
                }
            }
        }
    }

    fn deliver(
        &self,
        e: &Event,
        channel: Option<beep_types::ChannelId>,
        before: &HashSet<UserId>,
        key: Option<EventKey>,
        skip: &HashSet<UserId>,
    ) {
        let Some(access) = &self.access else {
            return;
        };
        let limits = self.hub.limits();
        let mut full: Option<Arc<Dispatch>> = None;
        let mut blank: Option<Arc<Dispatch>> = None;
        let mut seen: HashMap<UserId, bool> = HashMap::new();
        let needs = required_permission(e.name);
        for s in &self.sessions {
            if !intent_allows(e, s) || !s.in_guild(self.id) {
                continue;
            }
            let u = s.user();
            if skip.contains(&u) {
                continue;
            }
            let visible = *seen.entry(u).or_insert_with(|| {
                let perms = match channel {
                    Some(ch) => access.in_channel(u, ch),
                    None => access.base(u),
                };
                let allowed = perms.is_some_and(|p| {
                    channel.is_none_or(|_| p.contains(Permissions::VIEW_CHANNEL))
                        && p.contains(needs)
                });
                before.contains(&u) || allowed
            });
            if !visible {
                continue;
            }
            let d = if blank_content_for(e, s) {
                blank.get_or_insert_with(|| Dispatch::json_keyed(e.name, &blanked(&e.data), key))
            } else {
                full.get_or_insert_with(|| Dispatch::json_keyed(e.name, &e.data, key))
            };
            s.push(d.clone(), limits);
        }
    }

    /// Sessions of users who are no longer members (kicked, banned, left) get
    /// GUILD_DELETE and stop receiving the guild.
    fn drop_non_members(&mut self, key: Option<EventKey>) {
        let Some(access) = &self.access else {
            return;
        };
        let limits = self.hub.limits();
        let gone = json!({"id": self.id});
        self.sessions.retain(|s| {
            if access.is_member(s.user()) {
                return true;
            }
            if s.remove_guild(self.id) {
                let k = key.map(|k| k.derived(1));
                s.push(Dispatch::json_keyed("GUILD_DELETE", &gone, k), limits);
            }
            false
        });
    }

    async fn members(&mut self, s: &Arc<Session>, req: &RequestGuildMembers) {
        let query = match (&req.user_ids, &req.query) {
            (Some(ids), _) => {
                let mut ids = ids.clone().into_vec();
                ids.truncate(protocol::MAX_REQUESTED_USERS);
                MemberQuery::Ids(ids)
            }
            (None, q) => {
                let prefix = q.clone().unwrap_or_default();
                let everyone = prefix.is_empty();
                if everyone && !s.intents.contains(Intents::GUILD_MEMBERS) && s.bot() {
                    // Discord requires GUILD_MEMBERS for the whole list.
                    MemberQuery::Ids(vec![])
                } else {
                    let limit = match req.limit {
                        0 if everyone => u32::MAX,
                        0 => 100,
                        n => n.min(if everyone { u32::MAX } else { 100 }),
                    };
                    MemberQuery::Prefix { prefix, limit }
                }
            }
        };
        let members = match self.hub.dir.guild_members(self.id, &query).await {
            Ok(m) => m,
            Err(e) => {
                warn!(guild = %self.id, error = %e, "cannot list members for a chunk request");
                Vec::new()
            }
        };
        let presences = req.presences && (s.intents.contains(Intents::GUILD_PRESENCES) || !s.bot());
        let hidden = if presences {
            let ids: Vec<UserId> = members
                .iter()
                .filter_map(|m| protocol::id_of(&m["user"]["id"]).map(UserId))
                .collect();
            self.hub.presence_hidden(s.user(), &ids).await
        } else {
            HashSet::new()
        };
        crate::ready::send_member_chunks(
            &self.hub,
            s,
            self.id,
            members,
            &query,
            presences.then_some(&hidden),
            req.nonce.as_deref(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanking_keeps_shape() {
        let v = json!({"id":"1","content":"hi","embeds":[{"a":1}],"attachments":[],"poll":{}});
        let b = blanked(&v);
        assert_eq!(b["content"], "");
        assert_eq!(b["embeds"], json!([]));
        assert!(b.get("poll").is_none());
        assert!(b.get("components").is_none());
    }
}
