//! The event bus: every state change a client may need to see in real time is
//! published here as a gateway dispatch (name + payload) with its audience. The
//! gateway role subscribes and fans events out to the sessions allowed to see them.
//!
//! In one process the bus is a tokio broadcast channel; in a cluster an
//! implementation over NATS carries the same [`Event`] between nodes.

use std::sync::Arc;

use beep_types::{ChannelId, GuildId, UserId};
use serde_json::Value;
use tokio::sync::broadcast;

/// Who may receive an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Audience {
    /// Members of a guild who can view `channel` (or every member when `None`),
    /// filtered by the gateway with the permission engine.
    Guild {
        guild_id: GuildId,
        channel_id: Option<ChannelId>,
    },
    /// Exactly these users (DMs, relationships, own-account changes).
    Users(Vec<UserId>),
}

/// One dispatch, as the gateway will send it (`t` and `d`).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Dispatch name, e.g. `MESSAGE_CREATE`.
    pub name: &'static str,
    /// The `d` payload.
    pub data: Value,
    /// Who receives it.
    pub audience: Audience,
    /// The intent bit that gates it (Discord's intent numbering), if any.
    pub intent: Option<u32>,
}

/// What a node may be interested in receiving from other nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Events whose audience is this guild.
    Guild(GuildId),
    /// Events addressed to this user.
    User(UserId),
}

/// Publish/subscribe of domain events.
pub trait EventBus: Send + Sync {
    /// Publish an event to every subscriber on every node. Never blocks.
    fn publish(&self, event: Event);
    /// A receiver of every event published from now on (on this node, and from
    /// other nodes for the topics this node is interested in).
    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>>;
    /// Start (`on`) or stop receiving another node's events about `topic`. The
    /// gateway calls it as sessions come and go; a single-node bus ignores it.
    fn set_interest(&self, topic: Topic, on: bool) {
        let _ = (topic, on);
    }
}

/// The in-process bus of a single node.
#[derive(Debug, Clone)]
pub struct LocalBus {
    tx: broadcast::Sender<Arc<Event>>,
}

impl LocalBus {
    /// A bus buffering up to `capacity` events per slow subscriber.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(16));
        LocalBus { tx }
    }
}

impl EventBus for LocalBus {
    fn publish(&self, event: Event) {
        // No subscriber (no gateway role here) is not an error.
        let _ = self.tx.send(Arc::new(event));
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_events_published_after_they_subscribe() {
        let bus = LocalBus::new(16);
        bus.publish(Event {
            name: "EARLY",
            data: Value::Null,
            audience: Audience::Users(vec![]),
            intent: None,
        });
        let mut rx = bus.subscribe();
        bus.publish(Event {
            name: "CHANNEL_CREATE",
            data: serde_json::json!({"id": "1"}),
            audience: Audience::Guild {
                guild_id: GuildId::default(),
                channel_id: None,
            },
            intent: Some(1),
        });
        let e = rx.recv().await.expect("event");
        assert_eq!(e.name, "CHANNEL_CREATE");
    }
}
