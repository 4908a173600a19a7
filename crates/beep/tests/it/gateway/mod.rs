//! The real-time gateway through real WebSockets: protocol and close codes,
//! compression, resume, revocation, drain; fan-out, presence and a two-node
//! cluster over NATS; and stock discord.py / discord.js bots as referees.

pub mod client;
mod clients;
mod cluster;
mod fanout;
mod presence;
mod protocol;
mod resume;

pub use client::{Got, Gw};

use crate::harness::TestServer;

/// Every intent except the privileged ones (discord.js `GatewayIntentBits` sum).
pub const UNPRIVILEGED: u64 = 53608447 & !(1 << 1) & !(1 << 8) & !(1 << 15);
/// Every intent.
pub const ALL_INTENTS: u64 = 53608447;

/// A bot account on an in-process server: its id and its raw token.
pub async fn bot(ts: &TestServer, name: &str) -> (String, String) {
    let node = ts.node.as_ref().expect("in-process node");
    let (user, token) = node
        .services
        .accounts
        .create_bot(name)
        .await
        .expect("create bot");
    (user.id.to_string(), token)
}
