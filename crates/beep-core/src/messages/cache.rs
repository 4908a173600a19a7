//! The guild state every send needs (the channel, the guild and its roles, the
//! sender's membership), kept in memory so the send path evaluates permissions
//! without a database read.
//!
//! Staleness is bounded two ways. Every event the guild service publishes about
//! a guild (`GUILD_*`, `CHANNEL_*`) drops what the cache holds for that guild:
//! synchronously for this node's own changes, through [`InvalidatingBus`],
//! before the change is acknowledged to its client; from the bus subscription
//! for changes made on other nodes. And every entry expires after a short time
//! whatever happens, in case an event is lost. A read that started before an
//! invalidation never stores what it read (a generation counter, bumped by
//! every invalidation: they are rare, so one counter for all guilds will do).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use beep_store::{ChannelRecord, GuildRecord, MemberRecord, RoleRecord};
use beep_types::{ChannelId, GuildId, UserId};
use serde_json::Value;
use tokio::sync::broadcast;

use crate::events::{Audience, Event, EventBus};

/// Most entries of each kind before the cache starts over.
const MAX_ENTRIES: usize = 100_000;

/// A guild with its roles, as the permission engine needs them.
pub type GuildState = (GuildRecord, Vec<RoleRecord>);

/// Cached guild state.
pub struct GuildCache {
    ttl: Duration,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every invalidation.
    generation: u64,
    guilds: HashMap<GuildId, (Instant, Arc<GuildState>)>,
    channels: HashMap<ChannelId, (Instant, Arc<ChannelRecord>)>,
    members: HashMap<(GuildId, UserId), (Instant, Arc<MemberRecord>)>,
}

impl GuildCache {
    /// A cache whose entries live at most `ttl`.
    pub fn new(ttl: Duration) -> GuildCache {
        GuildCache {
            ttl,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The generation now, to read before reading the store and pass back when
    /// storing what was read.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// A channel, if cached and fresh.
    pub fn channel(&self, id: ChannelId) -> Option<Arc<ChannelRecord>> {
        let inner = self.lock();
        inner
            .channels
            .get(&id)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, c)| c.clone())
    }

    /// A guild and its roles, if cached and fresh.
    pub fn guild(&self, id: GuildId) -> Option<Arc<GuildState>> {
        let inner = self.lock();
        inner
            .guilds
            .get(&id)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, g)| g.clone())
    }

    /// A membership, if cached and fresh.
    pub fn member(&self, guild: GuildId, user: UserId) -> Option<Arc<MemberRecord>> {
        let inner = self.lock();
        inner
            .members
            .get(&(guild, user))
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, m)| m.clone())
    }

    /// Store a channel read at generation `generation` of its guild.
    pub fn put_channel(&self, generation: u64, c: Arc<ChannelRecord>) {
        let mut inner = self.lock();
        if inner.generation == generation {
            bound(&mut inner.channels);
            inner.channels.insert(c.id, (Instant::now(), c));
        }
    }

    /// Store a guild and its roles read at `generation`.
    pub fn put_guild(&self, generation: u64, g: Arc<GuildState>) {
        let mut inner = self.lock();
        if inner.generation == generation {
            bound(&mut inner.guilds);
            inner.guilds.insert(g.0.id, (Instant::now(), g));
        }
    }

    /// Store a membership read at `generation`.
    pub fn put_member(&self, generation: u64, m: Arc<MemberRecord>) {
        let mut inner = self.lock();
        if inner.generation == generation {
            bound(&mut inner.members);
            inner
                .members
                .insert((m.guild_id, m.user.id), (Instant::now(), m));
        }
    }

    /// Forget everything about a guild.
    pub fn invalidate(&self, guild: GuildId) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.guilds.remove(&guild);
        inner.channels.retain(|_, (_, c)| c.guild_id != guild);
        inner.members.retain(|(g, _), _| *g != guild);
    }

    /// React to an event: a change of a guild's structure, roles, channels or
    /// members drops the guild.
    pub fn observe(&self, e: &Event) {
        let relevant = (e.name.starts_with("GUILD_") || e.name.starts_with("CHANNEL_"))
            && !matches!(
                e.name,
                "CHANNEL_PINS_UPDATE" | "GUILD_AUDIT_LOG_ENTRY_CREATE"
            );
        if !relevant {
            return;
        }
        let from_data = |key: &str| -> Option<GuildId> {
            e.data
                .get(key)
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok())
        };
        let guild = match &e.audience {
            Audience::Guild { guild_id, .. } => Some(*guild_id),
            // A user-addressed GUILD_* event names its guild by `id`; a private
            // channel's CHANNEL_* event has no guild and leaves the cache alone.
            Audience::Users(_) => from_data("guild_id").or_else(|| {
                e.name
                    .starts_with("GUILD_")
                    .then(|| from_data("id"))
                    .flatten()
            }),
        };
        if let Some(g) = guild {
            self.invalidate(g);
        }
    }

    /// Keep the cache in step with changes made on other nodes: watch `bus` until
    /// it closes. Needs a tokio runtime; without one, only local changes and the
    /// time limit keep it fresh.
    pub fn follow(self: &Arc<Self>, bus: &dyn EventBus) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut rx = bus.subscribe();
        let cache = Arc::downgrade(self);
        handle.spawn(async move {
            loop {
                match rx.recv().await {
                    Ok(e) => match cache.upgrade() {
                        Some(c) => c.observe(&e),
                        None => return,
                    },
                    // Missed events: start over rather than trust what is held.
                    Err(broadcast::error::RecvError::Lagged(_)) => match cache.upgrade() {
                        Some(c) => {
                            let mut inner = c.lock();
                            let generation = inner.generation + 1;
                            *inner = Inner {
                                generation,
                                ..Inner::default()
                            };
                        }
                        None => return,
                    },
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }
}

/// Start a map over when it is full (a crude bound; entries are cheap to reload).
fn bound<K, V>(map: &mut HashMap<K, V>) {
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
}

/// An event bus that tells the guild cache about each event before passing it on.
pub struct InvalidatingBus {
    inner: Arc<dyn EventBus>,
    cache: Arc<GuildCache>,
}

impl InvalidatingBus {
    /// Wrap `inner`.
    pub fn new(inner: Arc<dyn EventBus>, cache: Arc<GuildCache>) -> InvalidatingBus {
        InvalidatingBus { inner, cache }
    }
}

impl EventBus for InvalidatingBus {
    fn publish(&self, event: Event) {
        self.cache.observe(&event);
        self.inner.publish(event);
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.subscribe()
    }

    fn set_interest(&self, topic: crate::events::Topic, on: bool) {
        // A cluster bus subscribes by interest: the gateway's must reach it.
        self.inner.set_interest(topic, on);
    }
}

#[cfg(test)]
mod tests {
    use beep_types::v10::channel::ChannelType;
    use chrono::Utc;
    use serde_json::json;

    use super::*;

    fn channel(id: i64, guild: i64) -> Arc<ChannelRecord> {
        Arc::new(ChannelRecord {
            id: ChannelId::from_i64(id),
            guild_id: GuildId::from_i64(guild),
            kind: ChannelType::Text,
            name: "c".into(),
            topic: None,
            position: 0,
            parent_id: None,
            nsfw: false,
            rate_limit_per_user: 0,
            bitrate: None,
            user_limit: None,
            rtc_region: None,
            overwrites: vec![],
            created_at: Utc::now(),
        })
    }

    fn event(name: &'static str, guild: i64) -> Event {
        Event {
            name,
            data: json!({}),
            audience: Audience::Guild {
                guild_id: GuildId::from_i64(guild),
                channel_id: None,
            },
            intent: None,
        }
    }

    #[test]
    fn guild_events_drop_the_guild_only() {
        let cache = GuildCache::new(Duration::from_secs(60));
        cache.put_channel(0, channel(1, 10));
        cache.put_channel(0, channel(2, 20));
        cache.observe(&event("MESSAGE_CREATE", 10));
        cache.observe(&event("CHANNEL_PINS_UPDATE", 10));
        assert!(
            cache.channel(ChannelId::from_i64(1)).is_some(),
            "messages change no permission"
        );
        cache.observe(&event("CHANNEL_UPDATE", 10));
        assert!(cache.channel(ChannelId::from_i64(1)).is_none());
        assert!(cache.channel(ChannelId::from_i64(2)).is_some());
        let mut gone = event("GUILD_DELETE", 0);
        gone.audience = Audience::Users(vec![]);
        gone.data = json!({"id": "20"});
        cache.observe(&gone);
        assert!(cache.channel(ChannelId::from_i64(2)).is_none());
    }

    #[test]
    fn private_channel_events_leave_the_cache_alone() {
        let cache = GuildCache::new(Duration::from_secs(60));
        let before = cache.generation();
        let mut dm = event("CHANNEL_CREATE", 0);
        dm.audience = Audience::Users(vec![]);
        dm.data = json!({"id": "30", "type": 1});
        cache.observe(&dm);
        assert_eq!(cache.generation(), before, "no guild to invalidate");
    }

    #[test]
    fn a_read_older_than_an_invalidation_is_not_stored() {
        let cache = GuildCache::new(Duration::from_secs(60));
        let g = cache.generation();
        cache.invalidate(GuildId::from_i64(10));
        cache.put_channel(g, channel(1, 10));
        assert!(cache.channel(ChannelId::from_i64(1)).is_none());
        cache.put_channel(cache.generation(), channel(1, 10));
        assert!(cache.channel(ChannelId::from_i64(1)).is_some());
    }

    #[test]
    fn entries_expire() {
        let cache = GuildCache::new(Duration::ZERO);
        cache.put_channel(0, channel(1, 10));
        assert!(cache.channel(ChannelId::from_i64(1)).is_none());
    }
}
